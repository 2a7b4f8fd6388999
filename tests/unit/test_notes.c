/* test_notes.c - note iteration and encoding over buffers. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"
#include "util/notes.h"
#include "tap.h"

int main(void)
{
	uint8_t buf[512];
	memset(buf, 0, sizeof(buf));
	size_t pos = 0;
	const char desc1[] = "OSRELEASE=6.1\nPAGESIZE=4096\n";
	uint8_t prs[336] = { 1 };
	for (int be = 0; be <= 1; be++) {
		memset(buf, 0, sizeof(buf));
		pos = vf_note_encode(buf, be, "CORE", 1, prs, sizeof(prs));
		TAP_EQ_U64(pos, 12 + 8 + 336, "CORE note size (be=%d)", be);
		pos += vf_note_encode(buf + pos, be, "VMCOREINFO", 0, desc1, sizeof(desc1) - 1);
		pos += vf_note_encode(buf + pos, be, "", 7, "abc", 3);  /* namesz 1, odd descsz */

		struct vf_note *notes = NULL;
		size_t n = 0;
		struct vf_error *bad = NULL;
		struct vf_error *err = vf_notes_parse(buf, sizeof(buf), be, 0x1000, 0, &notes, &n, &bad);
		TAP_OK(!err && !bad, "parse ok, trailing zero padding ends quietly (be=%d)", be);
		TAP_EQ_U64(n, 3, "three notes");
		TAP_EQ_STR(notes[0].name, "CORE", "first name");
		TAP_EQ_U64(notes[0].type, 1, "NT_PRSTATUS");
		TAP_EQ_U64(notes[0].hdr_offset, 0x1000, "file offset of the header");
		TAP_EQ_U64(notes[1].desc_offset, 0x1000 + 356 + 12 + 12, "descriptor offset");
		TAP_OK(vf_note_is_vmcoreinfo(&notes[1]), "VMCOREINFO recognised");
		TAP_OK(!vf_note_is_vmcoreinfo(&notes[0]), "CORE is not VMCOREINFO");
		TAP_OK(memcmp(notes[1].desc, desc1, sizeof(desc1) - 1) == 0, "descriptor bytes");
		TAP_EQ_U64(notes[2].descsz, 3, "odd descriptor size kept");
		free(notes);
	}

	/* descsz running past the region */
	memset(buf, 0, sizeof(buf));
	pos = vf_note_encode(buf, false, "CORE", 1, prs, 16);
	size_t second = pos;
	pos += vf_note_encode(buf + pos, false, "VMCOREINFO", 0, desc1, sizeof(desc1) - 1);
	buf[second + 4] = 0xff;  /* descsz 0x..ff */
	buf[second + 5] = 0x10;
	struct vf_note *notes = NULL;
	size_t n = 0;
	struct vf_error *bad = NULL;
	struct vf_error *err = vf_notes_parse(buf, pos, false, 0x200, 3, &notes, &n, &bad);
	TAP_OK(!err, "malformed note is not a failure");
	TAP_EQ_U64(n, 1, "the note before it is kept");
	TAP_EQ_U64(notes[0].region, 3, "region index recorded");
	TAP_OK(bad && bad->code == VF_ERR_CORRUPT && bad->has_offset, "malformed reported with offset");
	TAP_EQ_U64(bad ? bad->offset : 0, 0x200 + second, "offset of the bad note");
	vf_error_destroy(bad);
	free(notes);

	/* truncated header */
	notes = NULL;
	n = 0;
	err = vf_notes_parse(buf, 8, false, 0, 0, &notes, &n, &bad);
	TAP_OK(!err && bad && n == 0, "8-byte note header is truncated");
	TAP_OK(bad && strstr(bad->message, "truncated"), "says truncated");
	vf_error_destroy(bad);
	free(notes);

	/* huge sizes must not overflow */
	uint8_t h[12] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
	notes = NULL;
	n = 0;
	err = vf_notes_parse(h, sizeof(h), false, 0, 0, &notes, &n, &bad);
	TAP_OK(!err && bad && n == 0, "namesz/descsz 0xffffffff rejected without overflow");
	vf_error_destroy(bad);
	free(notes);
	TAP_EQ_U64(vf_note_size(11, 3279), 12 + 12 + 3280, "note size rounds to 4");

	/* many tiny notes: appended after the notes already there, all of
	 * them, counted beforehand (linear: a realloc per note was quadratic) */
	size_t many = 200000;
	uint8_t *tiny = calloc(many, 12);
	for (size_t i = 0; tiny && i < many; i++)
		vf_store_uint(tiny + 12 * i + 8, 4, false, i + 1);   /* type */
	TAP_EQ_U64(tiny ? vf_notes_count(tiny, many * 12, false) : 0, many,
		   "200000 12-byte notes counted");
	notes = NULL;
	n = 0;
	err = tiny ? vf_notes_parse(buf, vf_note_encode(buf, false, "CORE", 1, prs, 4), false, 0,
				    0, &notes, &n, &bad) : &vf_error_nomem;
	TAP_OK(!err && !bad && n == 1, "one note first");
	err = tiny ? vf_notes_parse(tiny, many * 12, false, 0x5000, 1, &notes, &n, &bad)
		   : &vf_error_nomem;
	TAP_OK(!err && !bad && n == many + 1, "then 200000 appended");
	TAP_OK(n == many + 1 && !strcmp(notes[0].name, "CORE") && notes[many].type == many &&
	       notes[many].hdr_offset == 0x5000 + 12 * (many - 1) && notes[many].region == 1,
	       "the first kept, the last in place");
	free(notes);
	/* a malformed note after good ones: counted up to it */
	if (tiny)
		vf_store_uint(tiny + 12 * 1000 + 4, 4, false, 0xffffffff);
	TAP_EQ_U64(tiny ? vf_notes_count(tiny, many * 12, false) : 0, 1000,
		   "counted up to a malformed note");
	free(tiny);
	/* zeros with one byte at the end: all-zero headers are 12-byte notes
	 * while something follows; counted in one pass (a test of the rest
	 * per note made this quadratic: minutes for 4 MiB) */
	{
		size_t big = (size_t)4 << 20;
		uint8_t *z = calloc(1, big);
		if (!z)
			return 1;
		z[big - 1] = 1;
		size_t nz = vf_notes_count(z, big, false);
		TAP_EQ_U64(nz, (big - 1) / 12, "4 MiB of zeros and a last byte: its 12-byte zero "
			   "notes counted in one pass");
		struct vf_note *zn = NULL;
		size_t zc = 0;
		struct vf_error *zm = NULL;
		struct vf_error *ze = vf_notes_parse(z, big, false, 0, 0, &zn, &zc, &zm);
		TAP_OK(!ze && zc == nz && zm, "...and parsed, the cut last one malformed");
		vf_error_destroy(ze);
		vf_error_destroy(zm);
		free(zn);
		z[big - 1] = 0;
		TAP_EQ_U64(vf_notes_count(z, big, false), 0, "all zeros: no note");
		free(z);
	}
	return tap_done();
}
