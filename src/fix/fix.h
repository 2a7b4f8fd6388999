/* fix.h - the fix of one dump as a library call.
 *
 * vf_fix_prepare() takes an opened dump and the guest's validated note (or
 * none: the dump's own is used), reads what the planner needs from the
 * guest kernel's memory (phys_base: the note's, else derived from the page
 * tables; init_uts_ns; the end of the memory map; the kernel image's
 * mapping), hands it to the planner as explicit inputs and keeps the plan.
 * What a consumer needs and cannot be had is kept as "left alone" items; a
 * blocking one refuses the fix (vf_fix_blocked).  --inspect (vf_fix_inspect),
 * --check, --dry-run, -o and --in-place all go through it; the command line
 * only parses, calls, prints and exits.
 */
#ifndef VF_FIX_H
#define VF_FIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/arch.h"
#include "fix/inspect.h"
#include "fix/plan.h"
#include "format/dump.h"
#include "guest/guestnote.h"
#include "guest/kernel.h"
#include "util/error.h"

struct vf_fix_opts {
	bool replace_note;        /* the guest's note wins over a different one in the dump */
	bool keep_device_pages;   /* kdump: keep the bitmaps past the kernel's memory map */
	bool to_elf;              /* kdump: the output is an ELF dump (vf_plan_to_elf) */
	bool to_kdump;            /* ELF, saved state: the output is a new kdump (vf_plan_to_kdump) */
};

/* Something the fix could not do, and why. */
struct vf_fix_left {
	const char *field;        /* "NUMBER(phys_base)", "kdump header utsname", ... */
	char *why;                /* one line (owned) */
	bool blocks;              /* a consumer fails without it: no "healthy" verdict */
};

#define VF_FIX_LEFT_MAX 4

struct vf_fix {
	struct vf_plan_inputs in;  /* what the planner got */
	struct vf_plan plan;      /* valid after a successful vf_fix_prepare */
	struct vf_fix_left left[VF_FIX_LEFT_MAX];
	size_t nleft;
	/* phys_base of the fixed dump is in.phys_base (in.have_phys_base): the
	 * note's key, or derived from the page tables (then how says how) */
	char *phys_base_how;      /* how the page tables gave it, or NULL: from the note */
	const char *phys_base_key;/* the architecture's VMCOREINFO key */
	/* the note the fixed dump carries, parsed (the dump's, the guest's or
	 * the derived one), and the guest's note address when it is the guest's */
	const struct vf_vmcoreinfo *vmci;
	bool have_note_paddr;
	uint64_t note_paddr;
	/* storage behind in */
	char uts[VF_UTS_FIELDS][VF_UTS_LEN];
	uint8_t *text;            /* the note text with a derived phys_base line, or NULL */
	struct vf_vmcoreinfo *text_vmci;
	char *phys_base_origin;
	const char *ktext_how;
	bool planned;
};

/* Gather and plan (see above).  gn: the guest's note, or NULL.  The guest's
 * note joins the machine decision (dump->e_machine may change).  A note that
 * differs from the dump's without opts->replace_note, an unknown machine and
 * what the planner cannot do are errors; fx is then deinitialised. */
struct vf_error *vf_fix_prepare(struct vf_dump *dump, const struct vf_guest_note *gn,
				const struct vf_fix_opts *opts, struct vf_fix *fx)
	VF_MUST_CHECK;

/* VF_ERR_REFUSED naming the first blocking left-alone item, or NULL. */
struct vf_error *vf_fix_blocked(const struct vf_fix *fx) VF_MUST_CHECK;

/* The VMCOREINFO text the fixed dump carries (the guest's, the derived one,
 * or the dump's own); NULL when the dump has none. */
const uint8_t *vf_fix_note_text(const struct vf_fix *fx, const struct vf_dump *dump,
				size_t *len);

void vf_fix_deinit(struct vf_fix *fx);

/* --inspect's share of the fix: what it would still change with the dump's
 * own note, and what a consumer needs that cannot be had, as problems (so
 * that --inspect and --check agree).  Without a note or a machine, other
 * problems already say so and nothing is added. */
struct vf_error *vf_fix_inspect(struct vf_dump *dump, const struct vf_fix_opts *opts,
				struct vf_problems *probs) VF_MUST_CHECK;

/* text (len bytes, trailing NULs ignored) plus a line with the
 * architecture's phys_base key and pb in the kernel's format (x86_64:
 * NUMBER(phys_base) in signed decimal), as a new malloc'd text. */
struct vf_error *vf_fix_text_add_phys_base(const struct vf_arch *a, const uint8_t *text,
					   size_t len, uint64_t pb, uint8_t **out, size_t *out_len)
	VF_MUST_CHECK;

#endif
