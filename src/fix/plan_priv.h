/* plan_priv.h - what the kdump and ELF planners share (not for callers of
 * the planner: they use fix/plan.h). */
#ifndef VF_PLAN_PRIV_H
#define VF_PLAN_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "fix/plan.h"
#include "format/dump.h"
#include "util/error.h"

/* A patch that is one number of len bytes in the dump's byte order. */
struct vf_error *vf_plan_add_number(struct vf_plan *plan, uint64_t off, uint32_t len, bool be,
				    uint64_t value, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 7, 8))) VF_MUST_CHECK;
/* A patch of raw bytes (takes ownership of bytes, also on failure). */
struct vf_error *vf_plan_add_bytes(struct vf_plan *plan, uint64_t off, uint8_t *bytes,
				   uint32_t len, const char *field, const char *why)
	VF_MUST_CHECK;
/* The notes of the output in byte order be: every original note but
 * VMCOREINFO, then one VMCOREINFO note with text vtext.  In the other order
 * than the dump's, a note whose layout the architecture does not know
 * (arch swap_note) is left out and counted in *dropped (may be NULL).  With
 * out NULL, only sizes are computed; *vhdr is the VMCOREINFO note's offset
 * inside the blob. */
struct vf_error *vf_plan_encode_notes(const struct vf_dump *d, bool be, const uint8_t *vtext,
				      uint32_t vlen, uint8_t *out, uint64_t *size, uint64_t *vhdr,
				      size_t *dropped) VF_MUST_CHECK;
/* One program header at p, in the output's word size and byte order. */
struct vf_elf_phdr;
void vf_plan_encode_phdr(uint8_t *p, bool is64, bool be, const struct vf_elf_phdr *ph);

/* The text in must write is the dump's own (or none is given). */
bool vf_plan_keeps_note(const struct vf_dump *d, const struct vf_plan_inputs *in);
/* A new dump's notes (vf_plan_to_elf, vf_plan_to_kdump): the VMCOREINFO
 * text it carries (in's, else the dump's own; none: vf_plan_no_note), and a
 * malformed note refused (its notes are rewritten). */
struct vf_error *vf_plan_new_note_text(const struct vf_dump *d, const struct vf_plan_inputs *in,
				       const uint8_t **text, uint32_t *len) VF_MUST_CHECK;
/* The refusal when there is no note to write. */
struct vf_error *vf_plan_no_note(void) VF_MUST_CHECK;

struct vf_error *vf_plan_kdump(const struct vf_dump *d, const struct vf_plan_inputs *in,
			       struct vf_plan *plan) VF_MUST_CHECK;
struct vf_error *vf_plan_elf(const struct vf_dump *d, const struct vf_plan_inputs *in,
			     struct vf_plan *plan) VF_MUST_CHECK;

#endif
