/* verify.h - read the written dump back before it is put in place.
 *
 * The written file must reopen through the normal reader with the same
 * layout and machine, carry exactly the note the fix wrote, hold every
 * patch's bytes, and read the same guest memory at the pages that matter
 * (the note's, init_uts_ns's, the first page of each range).  The writer
 * calls vf_verify_output (struct vf_write_opts.verify) before the rename of
 * -o, and before the journal is dropped in place.
 */
#ifndef VF_VERIFY_H
#define VF_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fix/fix.h"
#include "format/dump.h"
#include "util/error.h"

#define VF_VERIFY_SAMPLES 8

struct vf_verify {
	const struct vf_dump *in;
	const struct vf_plan *plan;
	const char *target;      /* the output's name, for the error */
	const uint8_t *text;     /* the VMCOREINFO text written */
	size_t text_len;
	uint64_t paddrs[VF_VERIFY_SAMPLES];
	size_t npaddrs;
	uint8_t sample[VF_VERIFY_SAMPLES][512]; /* the input's bytes there, read before writing */
	bool have[VF_VERIFY_SAMPLES];
};

/* Note what to compare, reading the input's samples now. */
void vf_verify_init(struct vf_verify *v, const struct vf_dump *dump, const struct vf_fix *fx,
		    const char *target);
/* The writer's callback: arg is a struct vf_verify, path the written file. */
struct vf_error *vf_verify_output(void *arg, const char *path) VF_MUST_CHECK;

#endif
