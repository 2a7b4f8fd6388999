/* guestnote.c - the guest's VMCOREINFO note, read from guest memory. */
#include "config.h"
#include "guest/guestnote.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"
#include "util/notes.h"

static struct vf_error *refuse(const struct vf_region *r, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct vf_error *refuse(const struct vf_region *r, const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct vf_error *err = vf_error_vcreate(VF_ERR_REFUSED, fmt, ap);
	va_end(ap);
	err = vf_error_prefix(vf_error_set_paddr(err, r->paddr), "VMCOREINFO note from the %s", vf_region_origin_name(r->origin));
	return hint ? vf_error_set_hint(err, "%s", hint) : err;
}

/* The note header at the region's start: sizes that fit it, name size and type
 * of a VMCOREINFO note.  *total is the whole note's size. */
static struct vf_error *read_header(struct vf_mem *mem, const struct vf_region *r,
				    bool big_endian, uint32_t *descsz, uint64_t *total)
{
	if (r->size >= VF_VMCI_REGION_MAX || r->size < 12)
		return refuse(r, "the region is wrong: check where it came from",
			      "region size 0x%" PRIx64 " is not between 12 bytes and 1 MiB",
			      r->size);
	uint8_t hdr[12];
	struct vf_error *err = vf_mem_read(mem, r->paddr, hdr, sizeof(hdr));
	if (err)
		return vf_error_prefix(err, "reading the VMCOREINFO note from the %s",
				       vf_region_origin_name(r->origin));
	uint32_t namesz = (uint32_t)vf_load_uint(hdr, 4, big_endian);
	*descsz = (uint32_t)vf_load_uint(hdr + 4, 4, big_endian);
	uint32_t type = (uint32_t)vf_load_uint(hdr + 8, 4, big_endian);
	*total = vf_note_size(namesz, *descsz);
	if (*total > r->size)
		return refuse(r, "the region does not hold the note: the address or size is wrong, "
			      "or the guest overwrote it",
			      "note sizes (name %" PRIu32 ", descriptor %" PRIu32 ") run past the "
			      "region (0x%" PRIx64 " bytes)", namesz, *descsz, r->size);
	if (namesz != 11 || type != 0)
		return refuse(r, "the region does not hold the kernel's VMCOREINFO note",
			      "not a VMCOREINFO note (namesz %" PRIu32 ", type %" PRIu32 ")",
			      namesz, type);
	return NULL;
}

/* The whole note into out->bytes; its name must be VMCOREINFO. */
static struct vf_error *read_note(struct vf_mem *mem, const struct vf_region *r,
				  uint64_t total, struct vf_guest_note *out)
{
	out->bytes = malloc((size_t)total);
	if (!out->bytes)
		return &vf_error_nomem;
	out->len = (size_t)total;
	struct vf_error *err = vf_mem_read(mem, r->paddr, out->bytes, out->len);
	if (err)
		return vf_error_prefix(err, "reading the VMCOREINFO note");
	if (memcmp(out->bytes + 12, "VMCOREINFO", 11) != 0)
		return refuse(r, "the region does not hold the kernel's VMCOREINFO note",
			      "note name is not VMCOREINFO");
	return NULL;
}

/* The text must parse, with OSRELEASE and a PAGESIZE that divides page_size
 * (0: any page size). */
static struct vf_error *check_text(const struct vf_region *r, uint64_t page_size,
				   struct vf_guest_note *out)
{
	struct vf_error *err = vf_vmcoreinfo_parse((const char *)out->text, out->text_len,
						   &out->vmci);
	if (err) {
		if (err->code == VF_ERR_NOMEM || err->code == VF_ERR_OS)
			return err;
		err = vf_error_set_paddr(vf_error_set_code(err, VF_ERR_REFUSED), r->paddr);
		return vf_error_set_hint(err, "the guest's note is damaged: give another copy of "
					 "guest memory or another region");
	}
	static const char *const need[] = { "OSRELEASE", "PAGESIZE" };
	for (size_t i = 0; i < 2; i++) {
		if (vf_vmcoreinfo_get(out->vmci, need[i]))
			continue;
		err = vf_error_paddr(VF_ERR_REFUSED, r->paddr, "VMCOREINFO note has no %s", need[i]);
		return vf_error_set_hint(err, "makedumpfile and drgn need OSRELEASE and PAGESIZE");
	}
	uint64_t ps;
	err = vf_vmcoreinfo_number(out->vmci, "PAGESIZE", &ps);
	if (!err && (ps < 4096 || ps > (1u << 20) || (ps & (ps - 1))))
		return refuse(r, "the guest's note is damaged: give another copy of guest memory "
			      "or another region", "PAGESIZE=%" PRIu64 " is no page size (a power of two from 4 KiB "
			      "to 1 MiB)", ps);
	/* a kdump's pages are its blocks, which may hold several kernel pages
	 * (QEMU writes 64 KiB blocks on aarch64) */
	if (!err && page_size && page_size % ps)
		return refuse(r, "the note belongs to another guest or kernel",
			      "PAGESIZE=%" PRIu64 " does not fit the dump's page size %" PRIu64,
			      ps, page_size);
	if (!err || err->code == VF_ERR_NOMEM)
		return err;
	err = vf_error_set_paddr(vf_error_set_code(err, VF_ERR_REFUSED), r->paddr);
	err = vf_error_prefix(err, "VMCOREINFO note from the %s", vf_region_origin_name(r->origin));
	return vf_error_set_hint(err, "the guest's note is damaged: give another copy of guest "
				 "memory or another region");
}

struct vf_error *vf_guest_note_read(struct vf_mem *mem, const struct vf_region *r,
				    bool big_endian, uint64_t page_size,
				    struct vf_guest_note *out)
{
	memset(out, 0, sizeof(*out));
	out->region = *r;
	uint32_t descsz = 0;
	uint64_t total = 0;
	struct vf_error *err = read_header(mem, r, big_endian, &descsz, &total);
	if (err)
		return err;
	err = read_note(mem, r, total, out);
	if (!err) {
		out->text = out->bytes + 24;
		out->text_len = descsz;
		err = check_text(r, page_size, out);
	}
	if (err)
		vf_guest_note_deinit(out);
	return err;
}

void vf_guest_note_deinit(struct vf_guest_note *gn)
{
	free(gn->bytes);
	vf_vmcoreinfo_destroy(gn->vmci);
	gn->bytes = NULL;
	gn->vmci = NULL;
}
