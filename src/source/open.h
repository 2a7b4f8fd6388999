/* open.h - open a dump file as its readers see it: the file itself, or the
 * file a makedumpfile flattened stream encodes (flat.h), told apart by its
 * first bytes.  The one entry for "a dump file, flattened or not". */
#ifndef VF_SOURCE_OPEN_H
#define VF_SOURCE_OPEN_H

#include "util/error.h"
#include "source/src.h"

/* Open path read-only; if it starts with the flattened signature, index it
 * and return a flattened source (kind VF_SRC_FLATTENED), else the plain
 * file (VF_SRC_FILE). */
struct vf_error *vf_source_open(const char *path, struct vf_src **ret) VF_MUST_CHECK;
/* The same over an open file (owned, closed on failure too); name is what
 * errors call it. */
struct vf_error *vf_source_open_fd(int fd, const char *name, struct vf_src **ret) VF_MUST_CHECK;

#endif
