/* plan.h - the fix planner: an opened dump and explicit inputs (the note
 * text to carry, phys_base, utsname, memory-map end, kernel mapping) in, a
 * list of byte patches and their reasons out.  It reads only the dump's own
 * bytes (the kdump bitmaps it trims, the ELF headers it compares) and writes
 * nothing; the writer executes the plan and --dry-run prints it.
 * plan_kdump.c and plan_elf.c are the two planners. */
#ifndef VF_PLAN_H
#define VF_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/dump.h"
#include "util/error.h"

struct vf_patch {
	uint64_t offset;      /* logical file offset (of the reassembled file when flattened) */
	uint32_t len;
	uint8_t *bytes;       /* the new bytes (numbers in the dump's byte order) */
	bool is_number;       /* the patch is one number: value */
	uint64_t value;
	const char *field;    /* what is patched, e.g. "kdump sub-header phys_base" */
	char *why;            /* one line */
};

struct vf_plan {
	struct vf_patch *patches;
	size_t n;
	/* Input bytes from shift_from on land shift bytes later in the output
	 * (ELF: a larger header region); 0 = no move.  Patches are at output
	 * offsets. */
	uint64_t shift_from;
	uint64_t shift;
	/* kdump to ELF (vf_plan_to_elf): the output is a new ELF dump whose
	 * header region (ELF header, program headers, notes) is patches[0] and
	 * which holds these runs of the dump's guest memory, each
	 * [paddr, paddr + size) at file offset `offset`; out_size bytes in all. */
	bool to_elf;
	struct vf_plan_run *runs;
	size_t nruns;
	uint64_t out_size;
	/* an ELF dump or a saved state as a new kdump-compressed dump
	 * (vf_plan_to_kdump): patches[0] is its header region (the main header,
	 * the sub-header and the notes, blocks [0, 1 + sub_hdr_size)); the
	 * writer makes the rest by walking the dump's data (its reader's
	 * next_data) below kd.max_pfn: the two bitmaps at kd.bitmap
	 * (kd.bitmap_len bytes each) of the pages any data touches, kd.npages
	 * page descriptors at kd.desc,
	 * then the page data (zlib when built with it, else stored), one
	 * zero page shared by every page of zeros.  out_size is 0: the data's size is known once written. */
	bool to_kdump;
	struct {
		uint32_t block;     /* block and page size */
		bool be;            /* byte order (the guest's) */
		bool zlib;          /* pages compressed by zlib (else stored) */
		uint64_t max_pfn, bitmap, bitmap_len, desc, npages;
	} kd;
};

/* A new kdump's pages in memory range r: [*p0, *p1), the pfns (of block
 * bytes) below max_pfn it touches that no range before it did (*next: the
 * first pfn not yet taken; the ranges are sorted, two may share a page).
 * False when it adds none.  The planner counts with it, the writer
 * (fix/kdumpwrite.c) makes the bitmaps with it: the two agree. */
static inline bool vf_plan_kdump_pages(const struct vf_mem_range *r, uint64_t block,
				       uint64_t max_pfn, uint64_t next, uint64_t *p0,
				       uint64_t *p1)
{
	if (!r->size)
		return false;
	*p0 = r->start / block;
	*p1 = (r->start + (r->size - 1)) / block + 1;
	if (*p1 > max_pfn)
		*p1 = max_pfn;
	if (*p0 < next)
		*p0 = next;
	return *p0 < *p1;
}

/* Whether the plan writes a new dump (an ELF or kdump conversion) rather
 * than patching a copy of the input. */
static inline bool vf_plan_converts(const struct vf_plan *plan)
{
	return plan->to_elf || plan->to_kdump;
}

struct vf_plan_run {
	uint64_t paddr, size, offset;
};

/* What the planner knows besides the dump's headers, all read beforehand
 * (fix/fix.c): the planner reads nothing but the dump's own bytes. */
struct vf_plan_inputs {
	/* The VMCOREINFO text the fixed dump carries, or NULL: the dump's own
	 * (which it must then have).  A text other than the dump's replaces it. */
	const uint8_t *note_text;
	uint32_t note_len;
	const char *note_origin;      /* whose text, for the reasons: "the guest's", ... */
	/* kdump: the sub-header's phys_base, and where it comes from */
	bool have_phys_base;
	uint64_t phys_base;
	const char *phys_base_origin; /* "the dump's VMCOREINFO NUMBER(phys_base)=..." */
	const char (*uts)[65];        /* the guest's init_uts_ns.name (6 fields), or NULL */
	/* kdump: the pfn (in the dump's page_size) where the guest kernel's
	 * memory map ends (0: unknown);
	 * pages above it are taken out of the bitmaps, since makedumpfile's
	 * re-filtering assumes bitmaps sized to it */
	uint64_t mem_map_end;
	/* ELF: the kernel image's mapping (size 0: unknown), for a PT_LOAD that
	 * maps it as /proc/vmcore does; how says where its size came from */
	uint64_t ktext_vaddr, ktext_paddr, ktext_size;
	const char *ktext_how;
	/* the note carried, parsed (NULL: none), for the architecture's
	 * linear-map addresses of ELF output's RAM PT_LOADs */
	const struct vf_vmcoreinfo *vmci;
};

/* Plan the fix of dump.  Cases the planner cannot fix yet are
 * VF_ERR_UNSUPPORTED naming what is missing. */
struct vf_error *vf_plan_fix(const struct vf_dump *dump, const struct vf_plan_inputs *in,
			     struct vf_plan *plan) VF_MUST_CHECK;
void vf_plan_deinit(struct vf_plan *plan);

/* A kdump dump as a new ELF dump of its memory (--output-format elf): a
 * PT_LOAD for each run of pages it holds (bitmap runs; pages it does not
 * hold are in no PT_LOAD), the kernel image's PT_LOADs as /proc/vmcore has
 * them (in->ktext_*), the dump's notes but VMCOREINFO and then the note
 * text to carry (in->note_text, else the dump's).  For kdump blocks larger
 * than the kernel's pages (QEMU's aarch64 dumps), which libkdumpfile cannot
 * read. */
struct vf_error *vf_plan_to_elf(const struct vf_dump *dump, const struct vf_plan_inputs *in,
				struct vf_plan *plan) VF_MUST_CHECK;

/* An ELF dump or a saved state (64-bit) as a new kdump-compressed dump
 * (--output-format kdump): header version 6 in the guest's byte order, the
 * header's utsname (in->uts, which it needs), phys_base (in->phys_base),
 * the dump's notes but VMCOREINFO and then the note text to carry (as
 * vf_plan_to_elf), offset_vmcoreinfo at that text inside the notes; the
 * pages the dump holds below in->mem_map_end when it is given (device
 * memory above the kernel's memory map is left out, and counted). */
struct vf_error *vf_plan_to_kdump(const struct vf_dump *dump, const struct vf_plan_inputs *in,
				  struct vf_plan *plan) VF_MUST_CHECK;

/* kdump: whether the first bitmap describes RAM on its own (it differs from
 * the second somewhere: makedumpfile's; QEMU writes the two equal), and then
 * how many of its pages lie at or above pfn m (what trimming the bitmaps to
 * m would drop).  Reads both bitmaps once. */
struct vf_error *vf_plan_kdump_ram_above(const struct vf_dump *d, uint64_t m,
					 uint64_t *ram_above, bool *describes_ram) VF_MUST_CHECK;

/* The phys_base the VMCOREINFO note gives for the dump's machine:
 * NUMBER(phys_base) on x86_64, NUMBER(PHYS_OFFSET) on aarch64.
 * VF_ERR_NOT_FOUND if there is no note or no such key. */
struct vf_error *vf_note_phys_base(const struct vf_dump *dump, uint64_t *phys_base,
				   const char **key) VF_MUST_CHECK;


#endif
