/* inspect.h - what is wrong with a dump: a pure diagnosis over an opened dump. */
#ifndef VF_INSPECT_H
#define VF_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/dump.h"
#include "util/error.h"
#include "guest/guestnote.h"
#include "guest/region.h"

enum vf_severity {
	VF_SEV_INFO,     /* worth knowing, no consumer fails on it */
	VF_SEV_WARNING,  /* some consumers fail or read wrong data */
	VF_SEV_ERROR,    /* the dump is unusable for most consumers */
};

struct vf_problem {
	const char *id;            /* stable identifier for scripts, e.g. "no-vmcoreinfo" */
	enum vf_severity severity;
	char *message;             /* one line: what is wrong, where */
	char *hint;                /* what to do, or NULL */
	bool has_offset;
	uint64_t offset;           /* file offset the problem is at */
};

struct vf_problems {
	struct vf_problem *items;
	size_t n;
};

/* Diagnose the dump; fills *probs (caller deinit). Only allocation fails. */
struct vf_error *vf_inspect(const struct vf_dump *dump, struct vf_problems *probs) VF_MUST_CHECK;
void vf_problems_deinit(struct vf_problems *probs);

/* pending: a journal of an interrupted --in-place run is beside the file
 * (the caller looks: this module reads no file); adds journal-pending. */
struct vf_error *vf_inspect_journal(bool pending, struct vf_problems *probs) VF_MUST_CHECK;

struct vf_plan;

/* What to do about a field the fix cannot make right that consumers need
 * (the hint of the fix's refusal and of --inspect's consumer-need-unavailable). */
const char *vf_consumer_need_hint(const char *field);
/* What the fix would still do to this dump (the planner's patches) and what
 * a consumer needs that cannot be had (blocked: field and reason), as
 * problems, so that --inspect reports every reason --check does not call
 * the dump healthy.  A patch an existing problem explains adds nothing. */
struct vf_error *vf_inspect_plan(const struct vf_dump *dump, const struct vf_plan *plan,
				 const char *const *blocked_field, char *const *blocked_why,
				 size_t nblocked, struct vf_problems *probs) VF_MUST_CHECK;

/* The guest's note read from guest memory at a region the user gave. */
struct vf_guest_check {
	bool checked;
	struct vf_region region;
	struct vf_guest_note note;     /* valid when refusal is NULL */
	struct vf_error *refusal;      /* why the note was not accepted, or NULL */
	bool dump_has_note;
	bool same_as_dump_note;        /* identical text to the dump's VMCOREINFO */
};

/* Read and validate the guest note at r through mem (the dump's or the
 * guest memory given); adds
 * guest-note-invalid / guest-note-differs problems.  Only allocation and
 * system errors fail. */
struct vf_error *vf_inspect_guest(struct vf_dump *dump, struct vf_mem *mem,
				  const struct vf_region *r,
				  struct vf_guest_check *gc, struct vf_problems *probs) VF_MUST_CHECK;
void vf_guest_check_deinit(struct vf_guest_check *gc);

#endif
