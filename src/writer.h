/* writer.h - execute a plan: write the fixed dump.  Makes no decisions.
 *
 * The output is written to a temporary file beside the target, with the
 * input's mode; the input is copied extent by extent (holes stay holes,
 * copy_file_range lets the kernel copy or share the data), the plan's patches
 * are written over it, and the file is fsync'd and renamed into place.  On
 * any error, or SIGINT/SIGTERM/SIGHUP, the temporary file is removed: there
 * is never a partial output.  A flattened input stays flattened: patches go
 * into the records that hold their bytes. */
#ifndef VF_WRITER_H
#define VF_WRITER_H

#include <stdint.h>

#include "dump.h"
#include "error.h"
#include "plan.h"

struct vf_write_stats {
	uint64_t bytes_copied;   /* data bytes copied (holes excluded) */
	uint64_t patches;        /* patches written */
};

struct vf_error *vf_write_fixed(struct vf_dump *dump, const struct vf_plan *plan,
				const char *out_path, struct vf_write_stats *stats);

#endif
