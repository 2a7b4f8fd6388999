/* batch.h - one function over many items (dumps), in up to N threads.
 *
 * At most `jobs` items run at once, each writing into its own buffers
 * (open_memstream).  The buffers are written whole, in the items' order,
 * once the item and every item before it are done: the output is the same
 * whatever the jobs and whatever finishes first, and each item's output is
 * one write(2) on a stream with a file descriptor.  Items done ahead of the
 * first one still running are held, at most VF_BATCH_AHEAD per job, so
 * memory is bounded by the jobs, not by the items.  The runner prints
 * nothing of its own and picks no exit code. */
#ifndef VF_BATCH_H
#define VF_BATCH_H

#include <stddef.h>
#include <stdio.h>

#include "util/error.h"

/* Items a job may run ahead of the first item not yet written. */
#define VF_BATCH_AHEAD 4

/* Item i: its report to out, its errors to err; returns its status. */
typedef int vf_batch_fn(void *arg, size_t i, FILE *out, FILE *err);

struct vf_batch {
	size_t n;           /* items */
	unsigned jobs;      /* threads, >= 1 (more than n: n) */
	vf_batch_fn *fn;
	void *arg;
	FILE *out, *err;    /* where every item's buffers go, in order */
};

/* Run every item; codes (n of them) get each item's status.  An error (a
 * thread or a buffer that could not be made) stops the run: the items before
 * the failed one are written, the rest are not, and codes after it are -1. */
struct vf_error *vf_batch_run(const struct vf_batch *b, int *codes) VF_MUST_CHECK;

#endif
