/* kdumpwrite.h - the body of a kdump written anew (vf_plan_to_kdump): its
 * bitmaps, page descriptors and page data, made from the dump's memory. */
#ifndef VF_KDUMPWRITE_H
#define VF_KDUMPWRITE_H

#include <stdint.h>

#include "fix/copy.h"
#include "fix/plan.h"
#include "format/dump.h"
#include "util/error.h"

/* Write everything of plan's kdump but its header region (the plan's
 * patch, which the caller writes): two passes over the dump's memory
 * ranges, in address order, the second reading the data (ELF file holes are
 * not read: they are pages of zeros).  Memory: a few MiB whatever the dump's
 * size; *copied counts the bytes of guest memory read. */
struct vf_error *vf_write_kdump_body(struct vf_dump *dump, const struct vf_plan *plan,
				     const struct vf_copy_io *io, uint64_t *copied) VF_MUST_CHECK;

#endif
