/* notes.c - ELF note iteration and encoding: pure functions over buffers. */
#include "config.h"
#include "util/notes.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"

static uint64_t pad4(uint64_t x)
{
	return (x + 3) & ~(uint64_t)3;
}

uint64_t vf_note_size(uint32_t namesz, uint32_t descsz)
{
	return 12 + pad4(namesz) + pad4(descsz);
}

/* The end of the last non-zero byte of buf (0: all zero). */
static size_t nonzero_end(const uint8_t *buf, size_t len)
{
	while (len > 0 && buf[len - 1] == 0)
		len--;
	return len;
}

/* Walk the well-formed notes of buf: the count of them, each (when out is
 * not NULL) filled into out[], and the first malformed one (its error in
 * *malformed, NULL if none).  One pass, no allocation but the error. */
static size_t walk_notes(const uint8_t *buf, size_t len, bool big_endian, uint64_t file_off,
			 uint32_t region, struct vf_note *out, struct vf_error **malformed)
{
	struct vf_cursor c;
	vf_cursor_init(&c, buf, len, big_endian, file_off, "note");
	size_t count = 0;
	*malformed = NULL;
	/* found once: a test of the rest per note made a region of zeros
	 * with one byte at its end quadratic (all-zero headers are 12-byte
	 * notes while something follows) */
	size_t data_end = nonzero_end(buf, len);
	while (vf_cursor_left(&c) > 0) {
		size_t start = c.pos;
		if (start >= data_end)
			break;  /* padding after the last note */
		uint32_t namesz = 0, descsz = 0, type = 0;
		if (vf_cursor_left(&c) < 12) {
			*malformed = vf_error_at(VF_ERR_CORRUPT, file_off + start,
						 "note header truncated (need 12 bytes, have %zu)",
						 vf_cursor_left(&c));
			break;
		}
		vf_cursor_u32(&c, &namesz);
		vf_cursor_u32(&c, &descsz);
		vf_cursor_u32(&c, &type);
		uint64_t need = pad4(namesz) + pad4(descsz);
		if (need > vf_cursor_left(&c)) {
			*malformed = vf_error_at(VF_ERR_CORRUPT, file_off + start,
				"note name size %" PRIu32 " and descriptor size %" PRIu32
				" run past the end of the notes (ends at 0x%" PRIx64 ")",
				namesz, descsz, file_off + len);
			break;
		}
		const uint8_t *name = NULL, *desc = NULL;
		vf_cursor_bytes(&c, (size_t)pad4(namesz), &name);
		size_t desc_pos = c.pos;
		vf_cursor_bytes(&c, (size_t)pad4(descsz), &desc);
		if (out) {
			struct vf_note *note = &out[count];
			memset(note, 0, sizeof(*note));
			note->namesz = namesz;
			note->descsz = descsz;
			note->type = type;
			size_t nl = namesz;
			if (nl > 0 && name[nl - 1] == '\0')
				nl--;
			if (nl > VF_NOTE_NAME_MAX)
				nl = VF_NOTE_NAME_MAX;
			memcpy(note->name, name, nl);
			note->name[nl] = '\0';
			note->desc = desc;
			note->hdr_offset = file_off + start;
			note->desc_offset = file_off + desc_pos;
			note->region = region;
		}
		count++;
	}
	return count;
}

size_t vf_notes_count(const uint8_t *buf, size_t len, bool big_endian)
{
	struct vf_error *malformed;
	size_t n = walk_notes(buf, len, big_endian, 0, 0, NULL, &malformed);
	vf_error_destroy(malformed);
	return n;
}

/* Two passes: count, grow the array once, fill (a realloc per note made
 * many tiny notes quadratic in time and memory). */
struct vf_error *vf_notes_parse(const uint8_t *buf, size_t len, bool big_endian,
				uint64_t file_off, uint32_t region, struct vf_note **notes,
				size_t *n, struct vf_error **malformed)
{
	size_t count = walk_notes(buf, len, big_endian, file_off, region, NULL, malformed);
	if (*malformed == &vf_error_nomem) {
		*malformed = NULL;
		return &vf_error_nomem;
	}
	if (count) {
		if (count > SIZE_MAX / sizeof(**notes) - *n)
			goto nomem;
		struct vf_note *arr = realloc(*notes, (*n + count) * sizeof(*arr));
		if (!arr)
			goto nomem;
		*notes = arr;
		struct vf_error *again;
		walk_notes(buf, len, big_endian, file_off, region, arr + *n, &again);
		vf_error_destroy(again);
		*n += count;
	}
	return NULL;
nomem:
	vf_error_destroy(*malformed);
	*malformed = NULL;
	return &vf_error_nomem;
}

bool vf_note_is_vmcoreinfo(const struct vf_note *note)
{
	return note->namesz == 11 && note->type == 0 && strcmp(note->name, "VMCOREINFO") == 0;
}

size_t vf_note_encode(uint8_t *out, bool big_endian, const char *name, uint32_t type,
		      const void *desc, uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	size_t total = (size_t)vf_note_size(namesz, descsz);
	memset(out, 0, total);
	vf_store_uint(out, 4, big_endian, namesz);
	vf_store_uint(out + 4, 4, big_endian, descsz);
	vf_store_uint(out + 8, 4, big_endian, type);
	memcpy(out + 12, name, namesz);
	if (descsz)
		memcpy(out + 12 + pad4(namesz), desc, descsz);
	return total;
}
