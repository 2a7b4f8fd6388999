/* test_guestnote.c - vf_guest_note_read: the guest's VMCOREINFO note read
 * from a guest memory built here, and each of QEMU's rules that refuses it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "guest/guestnote.h"
#include "util/cursor.h"
#include "util/notes.h"
#include "tap.h"

#define BASE 0x13ae000u
#define BUFSZ (2u << 20)   /* room for a region of 1 MiB and more */

/* Guest memory [BASE, BASE + BUFSZ) backed by buf; the rest absent.  A page
 * marked hole (when set) is absent too. */
struct fake {
	uint8_t *buf;
	uint64_t hole;         /* a physical page that is not present, or 0 */
	unsigned reads;
};

static struct vf_error *fake_read(void *ctx, uint64_t paddr, void *out, size_t len)
{
	struct fake *f = ctx;
	f->reads++;
	if (paddr < BASE || paddr - BASE + len > BUFSZ)
		return vf_error_paddr(VF_ERR_NOT_PRESENT, paddr, "not in this dump");
	if (f->hole && paddr < f->hole + 4096 && paddr + len > f->hole)
		return vf_error_paddr(VF_ERR_EXCLUDED, f->hole, "page excluded");
	memcpy(out, f->buf + (paddr - BASE), len);
	return NULL;
}

static const struct vf_mem_ops fake_ops = { .read = fake_read };

static const char text[] = "OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\n"
			   "SYMBOL(_stext)=ffffffff81000000\nNUMBER(phys_base)=-301989888\n";

static struct fake F;
static struct vf_mem M = { .ops = &fake_ops, .ctx = &F, .name = "fake" };

static size_t put_at;  /* where put() writes, from BASE */

/* Put a note with this name, type and text at BASE + put_at (the rest zeroed). */
static size_t put(bool be, const char *name, uint32_t type, const char *t)
{
	memset(F.buf, 0, 65536);
	return vf_note_encode(F.buf + put_at, be, name, type, t, (uint32_t)strlen(t));
}

/* A refusal naming what (in message) about the region's address. */
static int refused(struct vf_error *err, const char *what, uint64_t paddr)
{
	int ok = err && err->code == VF_ERR_REFUSED && err->message &&
		 strstr(err->message, what) && err->has_offset && err->offset_is_paddr &&
		 err->offset == paddr;
	if (err && !ok)
		printf("#   code %d message '%s' offset 0x%llx\n", err->code,
		       err->message ? err->message : "", (unsigned long long)err->offset);
	if (!err)
		printf("#   accepted\n");
	vf_error_destroy(err);
	return ok;
}

static void valid(bool be)
{
	size_t n = put(be, "VMCOREINFO", 0, text);
	struct vf_region r = { BASE, 0x1024, VF_REGION_SYSFS };
	struct vf_guest_note gn;
	struct vf_error *err = vf_guest_note_read(&M, &r, be, 4096, &gn);
	TAP_OK(!err, "be=%d: a valid note is accepted", be);
	if (err)
		return;
	TAP_EQ_U64(gn.len, n, "be=%d: the whole note (header, name, padded text) is kept", be);
	TAP_OK(gn.bytes && memcmp(gn.bytes, F.buf, n) == 0, "be=%d: the note's bytes as in memory", be);
	TAP_OK(gn.text == gn.bytes + 24 && gn.text_len == strlen(text) &&
	       memcmp(gn.text, text, strlen(text)) == 0, "be=%d: text is the descriptor", be);
	TAP_OK(gn.region.paddr == BASE && gn.region.size == 0x1024 &&
	       gn.region.origin == VF_REGION_SYSFS, "be=%d: the region is recorded", be);
	TAP_OK(gn.vmci && gn.vmci->n == 4 &&
	       strcmp(vf_vmcoreinfo_get(gn.vmci, "SYMBOL(_stext)"), "ffffffff81000000") == 0 &&
	       strcmp(vf_vmcoreinfo_get(gn.vmci, "OSRELEASE"), "6.1.0-56-amd64") == 0,
	       "be=%d: the text is parsed", be);
	vf_guest_note_deinit(&gn);
	TAP_OK(!gn.bytes && !gn.vmci, "be=%d: deinit empties it", be);

	/* exactly the note's size is enough; page size 0 is not checked */
	r.size = n;
	err = vf_guest_note_read(&M, &r, be, 0, &gn);
	TAP_OK(!err, "be=%d: a region of exactly the note's size, page size 0", be);
	if (!err)
		vf_guest_note_deinit(&gn);
	put(be, "VMCOREINFO", 0, "OSRELEASE=6.1.0\nPAGESIZE=65536\n");
	err = vf_guest_note_read(&M, &r, be, 0, &gn);
	TAP_OK(!err, "be=%d: page size 0: any PAGESIZE passes", be);
	if (!err)
		vf_guest_note_deinit(&gn);
	err = vf_guest_note_read(&M, &r, be, 65536, &gn);
	TAP_OK(!err, "be=%d: PAGESIZE=65536 and a dump of 64 KiB pages", be);
	if (!err)
		vf_guest_note_deinit(&gn);
}

static void size_rules(bool be)
{
	put(be, "VMCOREINFO", 0, text);
	struct vf_guest_note gn;
	struct vf_region r = { BASE, VF_VMCI_REGION_MAX, VF_REGION_ARG };
	unsigned before = F.reads;
	TAP_OK(refused(vf_guest_note_read(&M, &r, be, 4096, &gn), "1 MiB", BASE) &&
	       F.reads == before, "be=%d: a region of 1 MiB is refused before any read", be);
	r.size = VF_VMCI_REGION_MAX - 1;
	struct vf_error *err = vf_guest_note_read(&M, &r, be, 4096, &gn);
	TAP_OK(!err, "be=%d: 1 MiB - 1 is allowed", be);
	if (!err)
		vf_guest_note_deinit(&gn);
	r.size = 11;
	TAP_OK(refused(vf_guest_note_read(&M, &r, be, 4096, &gn), "12 bytes", BASE),
	       "be=%d: a region smaller than a note header is refused", be);

	size_t n = vf_note_size(11, (uint32_t)strlen(text));
	r.size = n - 1;
	TAP_OK(refused(vf_guest_note_read(&M, &r, be, 4096, &gn), "run past", BASE),
	       "be=%d: a region one byte short of the note is refused", be);
	r.size = 0x1024;
	vf_store_uint(F.buf + 4, 4, be, 0x2000);   /* descsz past the region */
	TAP_OK(refused(vf_guest_note_read(&M, &r, be, 4096, &gn), "descriptor 8192", BASE),
	       "be=%d: a descriptor size past the region is refused", be);
	vf_store_uint(F.buf + 4, 4, be, 0xffffffffu);
	TAP_OK(refused(vf_guest_note_read(&M, &r, be, 4096, &gn), "run past", BASE),
	       "be=%d: descsz 0xffffffff is refused", be);
	vf_store_uint(F.buf + 4, 4, be, strlen(text));
	vf_store_uint(F.buf, 4, be, 0xfffffff0u);
	TAP_OK(refused(vf_guest_note_read(&M, &r, be, 4096, &gn), "run past", BASE),
	       "be=%d: a name size past the region is refused", be);
}

static void name_type_rules(bool be)
{
	struct vf_guest_note gn;
	struct vf_region r = { BASE, 0x1024, VF_REGION_FWCFG };
	put(be, "VMCOREINFO", 1, text);
	TAP_OK(refused(vf_guest_note_read(&M, &r, be, 4096, &gn), "type 1", BASE),
	       "be=%d: type 1 is refused", be);
	put(be, "VMCOREINF", 0, text);
	TAP_OK(refused(vf_guest_note_read(&M, &r, be, 4096, &gn), "namesz 10", BASE),
	       "be=%d: namesz 10 is refused", be);
	put(be, "VMCOREINFO_", 0, text);
	TAP_OK(refused(vf_guest_note_read(&M, &r, be, 4096, &gn), "namesz 12", BASE),
	       "be=%d: namesz 12 is refused", be);
	put(be, "VMCOREINFX", 0, text);
	TAP_OK(refused(vf_guest_note_read(&M, &r, be, 4096, &gn), "name is not VMCOREINFO", BASE),
	       "be=%d: another name of 11 bytes is refused", be);
	put(be, "VMCOREINFO", 0, text);
	F.buf[12 + 10] = 'X';  /* the name's NUL */
	TAP_OK(refused(vf_guest_note_read(&M, &r, be, 4096, &gn), "name is not VMCOREINFO", BASE),
	       "be=%d: a name without its NUL is refused", be);
	/* the other byte order: the sizes read swapped */
	put(!be, "VMCOREINFO", 0, text);
	struct vf_error *err = vf_guest_note_read(&M, &r, be, 4096, &gn);
	TAP_OK(err && err->code == VF_ERR_REFUSED, "be=%d: a note in the other byte order is "
	       "refused", be);
	vf_error_destroy(err);
	r.origin = VF_REGION_SCAN;
	put(be, "VMCOREINFO", 2, text);
	err = vf_guest_note_read(&M, &r, be, 4096, &gn);
	TAP_OK(err && strstr(err->message, vf_region_origin_name(VF_REGION_SCAN)),
	       "be=%d: the refusal names where the region came from", be);
	vf_error_destroy(err);
}

static void text_rules(bool be)
{
	struct vf_guest_note gn;
	struct vf_region r = { BASE + 0x10, 0x1024, VF_REGION_ARG };
	put_at = 0x10;  /* the note not page-aligned, as a guest may keep it */
	put(be, "VMCOREINFO", 0, "PAGESIZE=4096\n");
	TAP_OK(refused(vf_guest_note_read(&M, &r, be, 4096, &gn), "no OSRELEASE", BASE + 0x10),
	       "be=%d: text without OSRELEASE is refused", be);
	put(be, "VMCOREINFO", 0, "OSRELEASE=6.1.0\nSYMBOL(_stext)=ffffffff81000000\n");
	TAP_OK(refused(vf_guest_note_read(&M, &r, be, 4096, &gn), "no PAGESIZE", BASE + 0x10),
	       "be=%d: text without PAGESIZE is refused", be);
	put(be, "VMCOREINFO", 0, "OSRELEASE=6.1.0\nPAGESIZE=16384\n");
	TAP_OK(refused(vf_guest_note_read(&M, &r, be, 4096, &gn), "PAGESIZE=16384 does not fit",
		       BASE + 0x10), "be=%d: PAGESIZE larger than the dump's page is refused", be);
	TAP_OK(!vf_guest_note_read(&M, &r, be, 65536, &gn),
	       "be=%d: PAGESIZE dividing the dump's page (a kdump block) is accepted", be);
	vf_guest_note_deinit(&gn);
	TAP_OK(!vf_guest_note_read(&M, &r, be, 0, &gn), "be=%d: page size 0: any PAGESIZE", be);
	vf_guest_note_deinit(&gn);
	put(be, "VMCOREINFO", 0, "OSRELEASE=6.1.0\nPAGESIZE=20480\n");
	TAP_OK(refused(vf_guest_note_read(&M, &r, be, 0, &gn), "PAGESIZE=20480 is no page size",
		       BASE + 0x10), "be=%d: a PAGESIZE that is no power of two is refused", be);
	put(be, "VMCOREINFO", 0, "OSRELEASE=6.1.0\nPAGESIZE=4096\nno equals sign\n");
	TAP_OK(refused(vf_guest_note_read(&M, &r, be, 4096, &gn), "line", BASE + 0x10),
	       "be=%d: text that does not parse is refused (damaged note)", be);
	put(be, "VMCOREINFO", 0, "OSRELEASE=6.1.0\nPAGESIZE=4k\n");
	struct vf_error *err = vf_guest_note_read(&M, &r, be, 4096, &gn);
	TAP_OK(err && err->code == VF_ERR_REFUSED && strstr(err->message, "PAGESIZE"),
	       "be=%d: a PAGESIZE that is no number is refused", be);
	TAP_OK(err && err->has_offset && err->offset_is_paddr && err->offset == r.paddr &&
	       err->hint && strstr(err->message, "VMCOREINFO note from the"),
	       "be=%d: that refusal names the note's address and has a hint, as the others", be);
	vf_error_destroy(err);
	put_at = 0;
}

static void memory_errors(bool be)
{
	struct vf_guest_note gn;
	put(be, "VMCOREINFO", 0, text);
	struct vf_region away = { 0x100000, 0x1024, VF_REGION_ARG };
	struct vf_error *err = vf_guest_note_read(&M, &away, be, 4096, &gn);
	TAP_OK(err && err->code == VF_ERR_NOT_PRESENT && err->has_offset && err->offset_is_paddr &&
	       err->offset == 0x100000 && strstr(err->message, "not in this dump"),
	       "be=%d: an address not in memory: the memory error passes through, with the "
	       "address", be);
	vf_error_destroy(err);
	/* header readable, the rest of the note on a page that is not there */
	struct vf_region r = { BASE + 4096 - 16, 0x1024, VF_REGION_ARG };
	F.hole = BASE + 4096;
	memset(F.buf, 0, 8192);
	vf_note_encode(F.buf + 4096 - 16, be, "VMCOREINFO", 0, text, (uint32_t)strlen(text));
	err = vf_guest_note_read(&M, &r, be, 4096, &gn);
	TAP_OK(err && err->code == VF_ERR_EXCLUDED && err->offset_is_paddr &&
	       err->offset == BASE + 4096 && gn.bytes == NULL && gn.vmci == NULL,
	       "be=%d: a page of the note excluded: the error passes through, nothing kept", be);
	vf_error_destroy(err);
	F.hole = 0;
	err = vf_guest_note_read(&M, &r, be, 4096, &gn);
	TAP_OK(!err, "be=%d: the same note across a page boundary, all present", be);
	if (!err)
		vf_guest_note_deinit(&gn);
}

int main(void)
{
	F.buf = calloc(1, BUFSZ);
	if (!F.buf)
		return 1;
	for (int be = 0; be <= 1; be++) {
		valid(be);
		size_rules(be);
		name_type_rules(be);
		text_rules(be);
		memory_errors(be);
	}
	free(F.buf);
	return tap_done();
}
