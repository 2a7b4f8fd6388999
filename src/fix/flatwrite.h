/* flatwrite.h - writing makedumpfile flattened streams, and reading the
 * plan's patches into one.
 *
 * A flattened stream (source/flat.h) is a header and records of {offset,
 * size, data}.  Written here: a plain input as a new stream of its data
 * extents and patched ranges, a flattened input reassembled into the plain
 * file, a flattened ELF dump whose data moves, and where each patch's bytes
 * go inside an existing stream.  No record written overlaps another and
 * none is empty. */
#ifndef VF_FLATWRITE_H
#define VF_FLATWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fix/copy.h"
#include "format/dump.h"
#include "util/error.h"
#include "fix/plan.h"

/* Where the plan's patches go in the file written over a copy of the input.
 * A plain file: where the plan says.  A flattened stream: each byte inside
 * the last record that holds it (later records override earlier ones);
 * bytes no record holds (past the logical end, like a new notes blob, or in
 * a gap) go into new records, written with a new end marker over the old
 * one.  *out (free) points into the plan and into *extra (free), which owns
 * the new records. */
struct vf_error *vf_physical_patches(const struct vf_dump *dump, const struct vf_plan *plan,
				     struct vf_phys_patch **out, size_t *n, uint8_t **extra);

/* A plain input to a flattened stream of the patched file: records for the
 * data extents and the patched ranges, each read, patched in memory and
 * written to out.  *copied counts the data bytes written. */
struct vf_error *vf_flatten(const struct vf_dump *dump, const struct vf_plan *plan, int out,
			    const char *out_path, uint64_t *copied);

/* A flattened input to the plain file: every record's data at its offset,
 * in stream order (a later record overrides), as makedumpfile -R does.  The
 * plan's patches are not written. */
struct vf_error *vf_reassemble(const struct vf_dump *dump, int out, const char *out_path,
			       uint64_t *copied);

/* A flattened ELF dump whose data moves by plan->shift from
 * plan->shift_from: a new flattened stream (flat_out) or the plain file,
 * patches included either way. */
struct vf_error *vf_flat_shifted(const struct vf_dump *dump, const struct vf_plan *plan,
				 int out, const char *out_path, bool flat_out, uint64_t *copied);

/* The plan's bytes that fall in the logical range [o, o+len), written over
 * d (which holds that range). */
void vf_plan_patch_into(const struct vf_plan *plan, uint8_t *d, uint64_t o, size_t len);

/* The plan's patches as new records (of at most 1 MiB each) at file offset
 * at of a stream, then an end marker; *end is the offset after it.  A
 * reader replays records in order, so they win over the bytes of earlier
 * records: a stream that has gone by already is fixed by what follows it. */
struct vf_error *vf_flat_append_patches(const struct vf_plan *plan, int out,
					const char *out_path, uint64_t at, uint64_t *end);

/* Write (sequentially, to a pipe) twice the header of a record that is no
 * record and no end marker (offset and size -2): a reader of the stream
 * stops at it with an error at once, where a stream that just ends leaves
 * makedumpfile -R waiting for more (for ten minutes).  Twice, because
 * makedumpfile -R takes the first record header after the stream's header
 * without a check (a negative size is an empty record) and checks only
 * the ones after it. */
struct vf_error *vf_flat_poison(int out, const char *out_path);

#endif
