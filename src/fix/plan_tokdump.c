/* plan_tokdump.c - an ELF dump, or a saved VM state (guest/migdump.h), planned
 * as a new kdump-compressed dump (--output-format kdump).
 *
 * Output layout, in blocks of the kernel's page size: block 0 the main
 * header (version 6, the guest's utsname, zlib), block 1 on the sub-header
 * (phys_base, max_mapnr_64, where the notes and the VMCOREINFO text are) and
 * the notes right after it, then the two bitmaps (equal: every page the dump
 * holds is RAM and is dumped), the page descriptors, the page data.  The
 * planner writes the header region as the plan's one patch and sizes the
 * rest; the writer (fix/writer.c) walks the dump's memory once for the
 * bitmaps and once for the pages. */
#include "config.h"
#include "fix/plan.h"
#include "fix/plan_priv.h"
#include "arch/arch.h"

#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/codec.h"
#include "format/kdump.h"
#include "util/vmcoreinfo.h"
#include "util/cursor.h"

#define SUB_HDR_LEN 0x68u       /* the 64-bit sub-header of version 6 */
/* Guest memory a kdump written here may index: 2^52 bytes, x86_64's and
 * aarch64's largest physical address space.  A dump claiming memory above it
 * is refused rather than given bitmaps sized by a hostile header. */
#define TOKDUMP_PADDR_MAX (1ull << 52)
/* Bitmaps larger than this must index memory at most this many times sparser
 * than the pages the dump holds (a guest's RAM above a hole, hot-added
 * memory high up), else the dump is refused: one page at 2^51 would ask for
 * 32 GiB of bitmaps. */
#define TOKDUMP_BITMAP_SPARSE (64ull << 20)
#define TOKDUMP_SPARSE_RATIO 64u

/* How many pages below max_pfn the memory's ranges touch (each once: the
 * ranges are sorted), and the pfn after the last. */
static uint64_t count_pages(const struct vf_mem *m, uint64_t block, uint64_t max_pfn,
			    uint64_t *last_pfn)
{
	uint64_t n = 0, next = 0, p0, p1;
	*last_pfn = 0;
	for (size_t i = 0; i < m->nranges; i++) {
		if (!vf_plan_kdump_pages(&m->ranges[i], block, max_pfn, next, &p0, &p1))
			continue;
		n += p1 - p0;
		next = *last_pfn = p1;
	}
	return n;
}

static uint32_t count_cpus(const struct vf_dump *d)
{
	uint32_t n = 0;
	for (size_t i = 0; i < d->nnotes; i++)
		if (d->notes[i].type == NT_PRSTATUS && strcmp(d->notes[i].name, "CORE") == 0)
			n++;
	return n ? n : 1;
}

/* The utsname fields: the guest's init_uts_ns (makedumpfile's and drgn's
 * source for them). */
static void put_uts(uint8_t *h, const char (*uts)[65])
{
	for (int f = 0; f < 6; f++)
		memcpy(h + 12 + 65 * f, uts[f], strnlen(uts[f], 64));
}

static struct vf_error *check_input(const struct vf_dump *d, const struct vf_plan_inputs *in,
				    uint64_t *block)
{
	if (d->format != VF_FORMAT_ELF || d->elf_class != 64)
		return vf_error_create(VF_ERR_UNSUPPORTED, "--output-format kdump converts "
				       "64-bit ELF dumps and saved VM states only");
	/* the machines whose new kdumps the real tiers show read by the
	 * consumers (x86_64: makedumpfile, crash, drgn; aarch64: drgn); on the
	 * others --check could not vouch for one */
	const struct vf_arch *a = vf_arch_by_em(d->e_machine);
	if (d->e_machine != EM_X86_64 && d->e_machine != EM_AARCH64)
		return vf_error_set_hint(vf_error_create(VF_ERR_UNSUPPORTED, "a kdump written "
				"here is proven readable for x86_64 and aarch64 guests, not %s",
				a && a->name ? a->name : "this machine"), "write an ELF dump "
				"(leave out --output-format kdump)");
	uint64_t ps = 0;
	struct vf_error *e = in->vmci ? vf_vmcoreinfo_number(in->vmci, "PAGESIZE", &ps)
				      : vf_error_create(VF_ERR_NOT_FOUND, "no note");
	vf_error_destroy(e);
	if (!ps)
		ps = d->page_size;
	if (ps < 4096 || ps > (1u << 16) || (ps & (ps - 1)))
		return vf_error_create(VF_ERR_UNSUPPORTED, "a page size of %" PRIu64 " bytes "
				       "cannot be a kdump's block size", ps);
	*block = ps;
	const struct vf_mem *m = &d->mem;
	for (size_t i = 0; i < m->nranges; i++)
		if (m->ranges[i].start >= TOKDUMP_PADDR_MAX ||
		    m->ranges[i].size > TOKDUMP_PADDR_MAX - m->ranges[i].start)
			return vf_error_create(VF_ERR_UNSUPPORTED, "the dump holds memory at "
					       "0x%" PRIx64 ", above the 2^52 bytes a kdump "
					       "written here indexes", m->ranges[i].start);
	return NULL;
}

static void put32(uint8_t *p, bool be, uint64_t v) { vf_store_uint(p, 4, be, v); }
static void put64(uint8_t *p, bool be, uint64_t v) { vf_store_uint(p, 8, be, v); }

struct vf_error *vf_plan_to_kdump(const struct vf_dump *d, const struct vf_plan_inputs *in,
				  struct vf_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	plan->to_kdump = true;
	uint64_t bs = 0;
	const uint8_t *text;
	uint32_t tlen;
	struct vf_error *err = check_input(d, in, &bs);
	if (!err)
		err = vf_plan_new_note_text(d, in, &text, &tlen);
	if (err)
		return err;
	bool be = d->guest_big_endian;
	uint64_t nsize = 0, vhdr = 0;
	err = vf_plan_encode_notes(d, be, text, tlen, NULL, &nsize, &vhdr, NULL);
	if (err)
		return err;
	/* the pages: every page a range touches, below the memory map's end */
	uint64_t all_end, end;
	uint64_t all = count_pages(&d->mem, bs, UINT64_MAX, &all_end);
	uint64_t max_pfn = all_end;
	/* the memory map's end is in the dump's pages, the blocks are the note's */
	uint64_t mm = 0;
	if (!in->mem_map_end || !vf_mul_ok(in->mem_map_end, d->page_size, &mm))
		mm = 0;
	mm = mm / bs + (mm % bs != 0);
	if (mm && mm < max_pfn)
		max_pfn = mm;
	uint64_t npages = count_pages(&d->mem, bs, max_pfn, &end);
	if (!npages)
		return vf_error_create(VF_ERR_UNSUPPORTED, "the dump holds no guest memory%s: "
				       "there is nothing to write a kdump of",
				       all ? " below the kernel's memory map" : "");
	uint64_t sub_blocks = (SUB_HDR_LEN + nsize + bs - 1) / bs;
	uint64_t hsize = (1 + sub_blocks) * bs;
	if (hsize > (64u << 20))
		return vf_error_create(VF_ERR_UNSUPPORTED, "a header region of %" PRIu64 " bytes "
				       "is larger than supported", hsize);
	uint64_t bitmap_len = ((max_pfn + 7) / 8 + bs - 1) / bs * bs;
	/* bitmaps sized by one page far above the rest (a hostile header, or
	 * memory the kernel's map did not bound): refused, not written */
	if (bitmap_len > TOKDUMP_BITMAP_SPARSE && max_pfn / TOKDUMP_SPARSE_RATIO > npages)
		return vf_error_set_hint(vf_error_create(VF_ERR_UNSUPPORTED, "the dump's memory "
				"reaches pfn 0x%" PRIx64 ", more than %u times its %" PRIu64 " pages: "
				"a kdump of it would need two bitmaps of %" PRIu64 " bytes",
				max_pfn, TOKDUMP_SPARSE_RATIO, npages, bitmap_len), "write an ELF dump "
				"(leave out --output-format kdump)");
	if (2 * bitmap_len / bs > UINT32_MAX)
		return vf_error_create(VF_ERR_UNSUPPORTED, "bitmaps of %" PRIu64 " blocks do not "
				       "fit a kdump header", 2 * bitmap_len / bs);
	uint8_t *h = calloc(1, (size_t)hsize);
	if (!h)
		return &vf_error_nomem;
	struct vf_kdump_field_offsets fo;
	vf_kdump_offsets(&fo, VF_KDUMP_LAYOUT_64);
	memcpy(h, VF_KDUMP_SIGNATURE, 8);
	put32(h + 8, be, 6);
	if (in->uts)  /* else the fix is refused (fix.c: kdump header utsname) */
		put_uts(h, in->uts);
#ifdef HAVE_ZLIB
	plan->kd.zlib = true;
#endif
	put32(h + fo.status, be, plan->kd.zlib ? VF_KDUMP_ZLIB : 0);
	put32(h + fo.block_size, be, bs);
	put32(h + fo.sub_hdr_size, be, sub_blocks);
	put32(h + fo.bitmap_blocks, be, 2 * bitmap_len / bs);
	put32(h + fo.max_mapnr, be, max_pfn > UINT32_MAX ? UINT32_MAX : max_pfn);
	put32(h + fo.nr_cpus, be, count_cpus(d));
	uint8_t *s = h + bs;
	uint64_t noff = bs + SUB_HDR_LEN;
	put64(s + fo.phys_base, be, in->have_phys_base ? in->phys_base : 0);
	put64(s + fo.offset_vmcoreinfo, be, noff + vhdr + 12 + 12);
	put64(s + fo.size_vmcoreinfo, be, tlen);
	put64(s + fo.offset_note, be, noff);
	put64(s + fo.size_note, be, nsize);
	put64(s + fo.max_mapnr_64, be, max_pfn);
	err = vf_plan_encode_notes(d, be, text, tlen, h + noff, &nsize, &vhdr, NULL);
	if (err) {
		free(h);
		return err;
	}
	plan->kd.block = (uint32_t)bs;
	plan->kd.be = be;
	plan->kd.max_pfn = max_pfn;
	plan->kd.bitmap = hsize;
	plan->kd.bitmap_len = bitmap_len;
	plan->kd.desc = hsize + 2 * bitmap_len;
	plan->kd.npages = npages;
	char why[320];
	int k = snprintf(why, sizeof(why), "a kdump-compressed dump of the %s's memory: header "
			 "version 6, %" PRIu64 "-byte blocks, %" PRIu64 " pages (%s; pages of "
			 "zeros share one), %zu notes with VMCOREINFO: %s",
			 d->src->kind == VF_SRC_SAVED ? "saved state" : "ELF dump", bs, npages,
			 plan->kd.zlib ? "zlib" : "stored",
			 (size_t)(d->nnotes - d->vmci_count) + 1,
			 in->note_text && in->note_origin ? in->note_origin : "the dump's");
	if (all > npages && k > 0 && (size_t)k < sizeof(why))
		snprintf(why + k, sizeof(why) - (size_t)k, "; %" PRIu64 " pages above the kernel's "
			 "memory map (pfn 0x%" PRIx64 ", device memory) left out", all - npages,
			 max_pfn);
	return vf_plan_add_bytes(plan, 0, h, (uint32_t)hsize, "kdump header region", why);
}
