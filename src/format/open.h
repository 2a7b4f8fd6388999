/* open.h - the opener: a path or a byte source in, an opened dump out.
 *
 * It reads the first bytes of the logical file (after the flattened layer),
 * asks each format's probe in turn ("not mine" is a plain false, never an
 * error), lets the first taker fill the dump, then decides the machine from
 * the content (format/machine.c).  The only module that knows every format.
 */
#ifndef VF_FORMAT_OPEN_H
#define VF_FORMAT_OPEN_H

#include "format/dump.h"
#include "source/src.h"
#include "util/error.h"

/* Open a dump file (plain or flattened). */
struct vf_error *vf_dump_open(const char *path, struct vf_dump **ret) VF_MUST_CHECK;
/* Whether a file that starts with head (its first len bytes, 64 or all
 * there are) may be a dump: a format takes it, or it is a flattened
 * stream.  Else the error the opener gives (exit 4), at offset 0. */
#define VF_DUMP_HEAD_LEN 64
struct vf_error *vf_dump_check_head(const uint8_t *head, size_t len) VF_MUST_CHECK;
/* Open a dump over an existing source (takes ownership of src). */
struct vf_error *vf_dump_open_src(struct vf_src *src, struct vf_dump **ret) VF_MUST_CHECK;

#endif
