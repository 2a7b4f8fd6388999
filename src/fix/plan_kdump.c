/* plan_kdump.c - the kdump planner: header and sub-header fields, a new
 * notes blob past the end when the note is missing or replaced, the utsname,
 * phys_base and bitmaps sized to the kernel's memory map. */
#include "config.h"
#include "fix/plan.h"
#include "fix/plan_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/kdump.h"
#include "format/machine.h"
#include "util/cursor.h"

/* The kdump sub-header phys_base, when one is known for the note written. */
static struct vf_error *plan_phys_base(const struct vf_dump *d, const struct vf_plan_inputs *in,
				       struct vf_plan *plan)
{
	const struct vf_kdump_info *kd = d->kdump;
	if (!in->have_phys_base)
		return NULL;
	uint64_t want = kd->fo.phys_base_size == 4 ? in->phys_base & 0xffffffffu : in->phys_base;
	if (kd->phys_base == want)
		return NULL;
	return vf_plan_add_number(plan, kd->block_size + kd->fo.phys_base, kd->fo.phys_base_size,
				  d->big_endian, want, "kdump sub-header phys_base",
				  "set phys_base from %s (was 0x%" PRIx64 ")",
				  in->phys_base_origin ? in->phys_base_origin : "the note", kd->phys_base);
}

/* The kdump header's utsname, as makedumpfile fills it, from init_uts_ns
 * (uts, when it could be read).  utsname.machine is the canonical name of
 * the machine decided from the dump's content, never the guest's string:
 * readers choose the header's layout and the architecture by it. */
static struct vf_error *plan_utsname(const struct vf_dump *d, const char (*uts)[65],
				     struct vf_plan *plan)
{
	const struct vf_kdump_info *kd = d->kdump;
	const char *machine = vf_arch_uts_machine(d);
	char want[6][65];
	for (int i = 0; i < 6; i++) {
		memset(want[i], 0, sizeof(want[i]));
		const char *v = i == 4 && machine ? machine : uts ? uts[i] : kd->utsname[i];
		memcpy(want[i], v, strnlen(v, 64));
	}
	bool same = true;
	for (int i = 0; i < 6 && same; i++)
		same = strcmp(kd->utsname[i], want[i]) == 0;
	if (same)
		return NULL;
	char why[200];
	if (!uts) {
		snprintf(why, sizeof(why), "utsname.machine \"%.20s\" becomes \"%s\", the dump's "
			 "machine: libkdumpfile (drgn) takes the architecture from it", kd->utsname[4],
			 machine);
		uint8_t *b = calloc(1, 65);
		if (!b)
			return &vf_error_nomem;
		memcpy(b, want[4], 65);
		return vf_plan_add_bytes(plan, 0xc + 4 * 65, b, 65, "kdump header utsname.machine", why);
	}
	uint8_t *b = malloc(6 * 65);
	if (!b)
		return &vf_error_nomem;
	for (int i = 0; i < 6; i++)
		memcpy(b + 65 * i, want[i], 65);
	snprintf(why, sizeof(why), "fill it from the guest's init_uts_ns (release %.64s), as "
		 "makedumpfile does: drgn needs it; machine \"%s\"", uts[2], machine ? machine : "?");
	return vf_plan_add_bytes(plan, 0xc, b, 6 * 65, "kdump header utsname", why);
}

#define TRIM_BITMAPS_MAX (16u << 20)

static uint64_t popcount_from(const uint8_t *b, size_t len, uint64_t first_bit)
{
	uint64_t n = 0;
	for (uint64_t i = first_bit; i < (uint64_t)len * 8; i++)
		n += (b[i / 8] >> (i % 8)) & 1;
	return n;
}

/* Count the set bits from bit `from` on of the bitmap at file offset off
 * (len bytes), in 64 KiB reads. */
static struct vf_error *count_from(const struct vf_dump *d, uint64_t off, uint64_t len,
				   uint64_t from, const char *what, uint64_t *n)
{
	*n = 0;
	uint8_t *chunk = malloc(1u << 16);
	if (!chunk)
		return &vf_error_nomem;
	struct vf_error *err = NULL;
	for (uint64_t o = from / 8 / (1u << 16) * (1u << 16); !err && o < len; o += 1u << 16) {
		size_t k = len - o < (1u << 16) ? (size_t)(len - o) : 1u << 16;
		err = vf_src_read(d->src, chunk, k, off + o, what);
		if (!err)
			*n += popcount_from(chunk, k, from > o * 8 ? from - o * 8 : 0);
	}
	free(chunk);
	return err;
}

struct vf_error *vf_plan_kdump_ram_above(const struct vf_dump *d, uint64_t m,
					 uint64_t *ram_above, bool *describes_ram)
{
	const struct vf_kdump_info *kd = d->kdump;
	*ram_above = 0;
	*describes_ram = false;
	uint8_t *a = malloc(1u << 16), *b = malloc(1u << 16);
	struct vf_error *err = a && b ? NULL : &vf_error_nomem;
	/* QEMU writes the two bitmaps equal (its dump level 1); makedumpfile's
	 * first bitmap is RAM as the kernel's /proc/vmcore describes it */
	for (uint64_t o = 0; !err && !*describes_ram && o < kd->bitmap_len; o += 1u << 16) {
		size_t k = kd->bitmap_len - o < (1u << 16) ? (size_t)(kd->bitmap_len - o) : 1u << 16;
		err = vf_src_read(d->src, a, k, kd->bitmap1_offset + o, "kdump first bitmap");
		if (!err)
			err = vf_src_read(d->src, b, k, kd->bitmap2_offset + o, "kdump second bitmap");
		if (!err)
			*describes_ram = memcmp(a, b, k) != 0;
	}
	free(a);
	free(b);
	if (!err && *describes_ram)
		err = count_from(d, kd->bitmap1_offset, kd->bitmap_len, m, "kdump first bitmap",
				 ram_above);
	return err;
}

/* Bitmaps sized to the kernel's memory map.  makedumpfile re-filtering a
 * kdump file sizes the bitmaps from min(max_mapnr, the end of the kernel's
 * memory map) and reads the second bitmap there: when QEMU's max_mapnr also
 * covers device memory above RAM (VGA, BIOS: small guests), it reads the
 * wrong bytes, excludes every page and fails.  So the bitmaps shrink to the
 * memory map's end M; the blocks they free join the sub-header, so the page
 * descriptors and data stay where they are (the descriptors of pages above
 * M are the last ones and are simply no longer indexed). */
static struct vf_error *plan_kdump_trim(const struct vf_dump *d, uint64_t m,
					struct vf_plan *plan)
{
	const struct vf_kdump_info *kd = d->kdump;
	uint64_t bs = kd->block_size;
	bool be = d->big_endian;
	if (!m || m >= kd->max_pfn)
		return NULL;
	uint64_t half = ((m + 7) / 8 + bs - 1) / bs * bs;
	if (half >= kd->bitmap_len)
		return NULL;  /* the bitmaps already have the size makedumpfile computes */
	if (2 * half > TRIM_BITMAPS_MAX)
		return NULL;
	uint64_t freed = 2 * (kd->bitmap_len - half) / bs;
	uint64_t new_sub = kd->sub_hdr_size + freed;
	if (new_sub > INT32_MAX)
		return NULL;
	uint8_t *b = malloc((size_t)(2 * half));
	if (!b)
		return &vf_error_nomem;
	struct vf_error *err = vf_src_read(d->src, b, (size_t)half, kd->bitmap1_offset,
					   "kdump first bitmap");
	if (!err)
		err = vf_src_read(d->src, b + half, (size_t)half, kd->bitmap2_offset,
				  "kdump second bitmap");
	/* how many dumped pages lie above m: read the rest of the second bitmap */
	uint64_t dropped = popcount_from(b + half, (size_t)half, m);
	uint8_t *chunk = err ? NULL : malloc(1u << 16);
	if (!err && !chunk)
		err = &vf_error_nomem;
	for (uint64_t o = half; !err && o < kd->bitmap_len; o += 1u << 16) {
		size_t n = kd->bitmap_len - o < (1u << 16) ? (size_t)(kd->bitmap_len - o) : 1u << 16;
		err = vf_src_read(d->src, chunk, n, kd->bitmap2_offset + o, "kdump second bitmap");
		if (!err)
			dropped += popcount_from(chunk, n, 0);
	}
	free(chunk);
	if (err) {
		free(b);
		return err;
	}
	for (uint64_t bit = m; bit < half * 8; bit++) {
		b[bit / 8] &= (uint8_t)~(1u << (bit % 8));
		b[half + bit / 8] &= (uint8_t)~(1u << (bit % 8));
	}
	uint64_t at = (1 + new_sub) * bs;
	char why[200];
	snprintf(why, sizeof(why), "bitmaps for the kernel's memory map (pfn 0x%" PRIx64 "), so "
		 "makedumpfile can re-filter; %" PRIu64 " dumped pages above it (device memory) "
		 "are no longer indexed", m, dropped);
	err = vf_plan_add_bytes(plan, at, b, (uint32_t)(2 * half), "kdump bitmaps", why);
	if (!err)
		err = vf_plan_add_number(plan, kd->fo.sub_hdr_size, 4, be, new_sub, "kdump header sub_hdr_size",
				"the %" PRIu64 " blocks the smaller bitmaps free join the sub-header: "
				"the page descriptors stay where they are", freed);
	if (!err)
		err = vf_plan_add_number(plan, kd->fo.bitmap_blocks, 4, be, 2 * half / bs,
				"kdump header bitmap_blocks", "two bitmaps of %" PRIu64 " bytes", half);
	if (!err && m <= UINT32_MAX)
		err = vf_plan_add_number(plan, kd->fo.max_mapnr, 4, be, m, "kdump header max_mapnr",
				"the end of the kernel's memory map (was 0x%" PRIx32 ")", kd->max_mapnr);
	if (!err && kd->header_version >= 6)
		err = vf_plan_add_number(plan, bs + kd->fo.max_mapnr_64, 8, be, m,
				"kdump sub-header max_mapnr_64", "the end of the kernel's memory map "
				"(was 0x%" PRIx64 ")", kd->max_mapnr_64);
	return err;
}

/* offset_vmcoreinfo/size_vmcoreinfo at the text (where: "" or " inside the notes"). */
static struct vf_error *point_at_text(const struct vf_dump *d, uint64_t off, uint64_t len,
				      const char *where, struct vf_plan *plan)
{
	const struct vf_kdump_info *kd = d->kdump;
	uint64_t sub = kd->block_size;
	struct vf_error *err = vf_plan_add_number(plan, sub + kd->fo.offset_vmcoreinfo, 8,
		d->big_endian, off, "kdump sub-header offset_vmcoreinfo",
		"point crash at the VMCOREINFO text%s (0x%" PRIx64 ")", where, off);
	if (!err)
		err = vf_plan_add_number(plan, sub + kd->fo.size_vmcoreinfo, kd->fo.ulong_size,
					 d->big_endian, len, "kdump sub-header size_vmcoreinfo",
					 "the VMCOREINFO text is %" PRIu64 " bytes", len);
	return err;
}

/* What follows from the note written: utsname, phys_base, the bitmaps. */
static struct vf_error *plan_from_note(const struct vf_dump *d, const struct vf_plan_inputs *in,
				       struct vf_plan *plan)
{
	struct vf_error *err = plan_utsname(d, in->uts, plan);
	if (!err)
		err = plan_phys_base(d, in, plan);
	return err ? err : plan_kdump_trim(d, in->mem_map_end, plan);
}

/* Header version 4 is the first with a notes blob: its sub-header fields up
 * to size_note must fit the sub-header blocks. */
static struct vf_error *upgrade_to_v4(const struct vf_dump *d, struct vf_plan *plan)
{
	const struct vf_kdump_info *kd = d->kdump;
	bool be = d->big_endian;
	uint64_t sub = kd->block_size;
	struct vf_error *err;
	uint64_t need = (uint64_t)kd->fo.size_note + kd->fo.ulong_size;
	if ((uint64_t)kd->sub_hdr_size * kd->block_size < need)
		return vf_error_at(VF_ERR_UNSUPPORTED, 0, "the kdump sub-header (%" PRIu32
				   " blocks) has no room for the notes fields of header "
				   "version 4", kd->sub_hdr_size);
	err = vf_plan_add_number(plan, 8, 4, be, 4, "kdump header_version",
			"version %d has no notes blob: 4 adds offset_note/size_note",
			kd->header_version);
	if (!err && kd->header_version < 2) {
		/* split, start_pfn and end_pfn are new in version 2: make them 0 */
		err = vf_plan_add_number(plan, sub + kd->fo.split, 4, be, 0, "kdump sub-header split",
				"not a split dump (version 1 had no such field)");
		if (!err)
			err = vf_plan_add_number(plan, sub + kd->fo.start_pfn, kd->fo.ulong_size, be, 0,
					"kdump sub-header start_pfn", "unused when split is 0");
		if (!err)
			err = vf_plan_add_number(plan, sub + kd->fo.end_pfn, kd->fo.ulong_size, be, 0,
					"kdump sub-header end_pfn", "unused when split is 0");
	}
	return err;
}

/* A kdump file without a usable note: write a new notes blob (the old notes
 * plus the guest's VMCOREINFO) at the first block boundary past the end of
 * the file, and point offset_note/size_note and offset_vmcoreinfo/
 * size_vmcoreinfo at it; phys_base and utsname follow from the note. */
static struct vf_error *plan_kdump_add_note(const struct vf_dump *d, const struct vf_plan_inputs *in,
					    struct vf_plan *plan)
{
	const struct vf_kdump_info *kd = d->kdump;
	bool be = d->big_endian;
	uint64_t sub = kd->block_size;
	struct vf_error *err;
	if (kd->header_version < 4 && (err = upgrade_to_v4(d, plan)))
		return err;
	if (d->notes_malformed)
		return vf_error_create(VF_ERR_UNSUPPORTED, "the dump has a malformed note; "
				       "rewriting its notes is not implemented");
	uint64_t size, vhdr;
	err = vf_plan_encode_notes(d, d->big_endian, in->note_text, in->note_len, NULL, &size, &vhdr,
				   NULL);
	if (err)
		return err;
	uint8_t *blob = calloc(1, (size_t)size);
	if (!blob)
		return &vf_error_nomem;
	if ((err = vf_plan_encode_notes(d, d->big_endian, in->note_text, in->note_len, blob, &size,
					&vhdr, NULL))) {
		free(blob);
		return err;
	}
	uint64_t at = (d->src->size + kd->block_size - 1) / kd->block_size * kd->block_size;
	uint64_t vtext = at + vhdr + 24;
	char why[128];
	snprintf(why, sizeof(why), "the old notes and %s VMCOREINFO (%" PRIu32 " bytes) after the "
		 "last page", in->note_origin ? in->note_origin : "the guest's", in->note_len);
	err = vf_plan_add_bytes(plan, at, blob, (uint32_t)size, "kdump notes blob", why);
	if (err)
		return err;
	err = vf_plan_add_number(plan, sub + kd->fo.offset_note, 8, be, at, "kdump sub-header offset_note",
			"point libkdumpfile at the new notes (0x%" PRIx64 ")", at);
	if (!err)
		err = vf_plan_add_number(plan, sub + kd->fo.size_note, kd->fo.ulong_size, be, size,
				"kdump sub-header size_note", "the new notes are %" PRIu64 " bytes",
				size);
	if (!err)
		err = point_at_text(d, vtext, in->note_len, "", plan);
	return err ? err : plan_from_note(d, in, plan);
}

struct vf_error *vf_plan_kdump(const struct vf_dump *d, const struct vf_plan_inputs *in,
				   struct vf_plan *plan)
{
	const struct vf_kdump_info *kd = d->kdump;
	if (kd->truncated)   /* a fixed copy would be cut too */
		return vf_kdump_truncation(kd, d->src->size);
	if (!vf_plan_keeps_note(d, in))
		return plan_kdump_add_note(d, in, plan);
	if (d->vmci_origin == VF_VMCI_NONE || !d->vmci)
		return vf_plan_no_note();

	/* offset_vmcoreinfo/size_vmcoreinfo: crash finds the note only through them */
	struct vf_error *err = NULL;
	if (d->vmci_origin == VF_VMCI_NOTE && kd->header_version >= 3 &&
	    (kd->offset_vmcoreinfo != d->vmci_note->desc_offset ||
	     kd->size_vmcoreinfo != d->vmci_note->descsz))
		err = point_at_text(d, d->vmci_note->desc_offset, d->vmci_note->descsz,
				    " inside the notes", plan);
	return err ? err : plan_from_note(d, in, plan);
}

