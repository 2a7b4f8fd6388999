/* plan.h - the fix planner: facts about a dump (and the guest's note, if the
 * user gave its region) in, a list of byte patches and their reasons out.
 * Pure: it reads nothing and writes nothing; the writer executes the plan
 * and --dry-run prints it. */
#ifndef VF_PLAN_H
#define VF_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/dump.h"
#include "util/error.h"
#include "guest/guestnote.h"

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
};

/* What the planner knows besides the dump's headers: read beforehand. */
struct vf_fix_inputs {
	const struct vf_guest_note *gn;   /* the validated guest note, or NULL */
	const char (*uts)[65];            /* the guest's init_uts_ns.name (6 fields), or NULL */
	bool replace_note;                /* the guest's note wins over a different one in the dump */
	/* kdump: the pfn where the guest kernel's memory map ends (0: unknown);
	 * pages above it are taken out of the bitmaps, since makedumpfile's
	 * re-filtering assumes bitmaps sized to it */
	uint64_t mem_map_end;
	/* ELF: the kernel image's mapping (size 0: unknown), for a PT_LOAD that
	 * maps it as /proc/vmcore does; how says where its size came from */
	uint64_t ktext_vaddr, ktext_paddr, ktext_size;
	const char *ktext_how;
	/* where the note written comes from, when not simply the dump's or the
	 * guest's (e.g. "the dump's, with NUMBER(phys_base) from the page tables") */
	const char *note_origin;
};

/* Plan the fix of dump.  Cases the planner cannot fix yet are
 * VF_ERR_UNSUPPORTED naming what is missing. */
struct vf_error *vf_plan_fix(const struct vf_dump *dump, const struct vf_fix_inputs *in,
			     struct vf_plan *plan);
void vf_plan_deinit(struct vf_plan *plan);

/* The phys_base the VMCOREINFO note gives for the dump's machine:
 * NUMBER(phys_base) on x86_64, NUMBER(PHYS_OFFSET) on aarch64.
 * VF_ERR_NOT_FOUND if there is no note or no such key. */
struct vf_error *vf_note_phys_base(const struct vf_dump *dump, uint64_t *phys_base,
				   const char **key);


#endif
