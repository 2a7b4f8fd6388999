/* stream.h - -o -: the fixed dump as a flattened stream on standard output.
 *
 * Two ways, both ending in a stream every record of which was read back
 * before the end marker goes out:
 * - passed through: a flattened kdump read from a pipe (QEMU's kdump to a
 *   pipe, makedumpfile -F) goes out record by record as it comes in
 *   (vf_stream_tap, while the input is spooled), but for the records of
 *   its header, sub-header and bitmaps (what a kdump fix patches) and its
 *   end marker; when the fix is known those follow, patched, then what
 *   else the fix adds (the notes past the end) as records of their own: a
 *   stream whose records do not overlap, as crash reads it.  The spool,
 *   with the fix appended as later records, is the same dump, and is
 *   checked first;
 * - stored and forwarded: anything else (an ELF dump, a raw kdump, a
 *   file) is written as a flattened file in a private directory, checked,
 *   and copied out; nothing reaches standard output before the check.
 * A run that fails after records went out ends the stream with a record
 * no reader accepts (vf_flat_poison): the reader downstream fails at once
 * instead of waiting, or keeping a half-fixed dump. */
#ifndef VF_STREAM_H
#define VF_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/dump.h"
#include "format/kdump.h"
#include "source/flat.h"
#include "fix/plan.h"
#include "fix/writer.h"
#include "util/error.h"

/* Records up to this size are passed on as they come; a larger one (QEMU
 * and makedumpfile write at most a few MiB) and what follows it wait for
 * the stream's end. */
#define VF_STREAM_RECORD_PASS_MAX (64u << 20)

/* Where the pass-through's parse is.  DATA: bytes of a record's data (or,
 * first, of the stream's 4096-byte header).  HELD: a record too large to pass on
 * as it comes (its rest could not be filled out if the stream broke off
 * inside it): it and the records after it go out from the spool when the
 * stream has ended.  DONE: the end marker (or a header no reader takes)
 * went by, or nothing is passed. */
enum vf_stream_state {
	VF_STREAM_RECORD_HEAD,
	VF_STREAM_DATA,
	VF_STREAM_HELD,
	VF_STREAM_DONE,
};

struct vf_stream {
	int out;
	const char *out_name;       /* "standard output", for errors */
	bool decided, pass;         /* passing records through? */
	/* the stream's header, the first record's header and the kdump header's fields */
	uint8_t head[VF_FLAT_HEADER_SIZE + 16 + VF_KDUMP_HEAD_FIELDS_LEN];
	size_t nhead;
	uint64_t hold_below;        /* records at logical offsets below it wait for the fix */
	bool skip;                  /* the record going by is held */
	bool held_any;
	uint64_t first_held;        /* the stream offset of the first held record's header */
	uint64_t pos;               /* the stream offset parsed so far */
	enum vf_stream_state state;
	uint8_t rh[16];
	size_t nrh;
	uint64_t need;              /* bytes left of the header or of the record's data */
	uint64_t written;           /* bytes written to out */
	bool ended;                 /* an end marker (or poison) went out */
};

/* A stream to out (standard output).  Refused: a terminal. */
struct vf_error *vf_stream_init(struct vf_stream *s, int out, const char *out_name) VF_MUST_CHECK;

/* vf_spool's tap: decides from the first record whether the input is a
 * flattened kdump, and if so passes its records on. */
struct vf_error *vf_stream_tap(void *arg, const uint8_t *buf, size_t len) VF_MUST_CHECK;

/* Passed through: the plan's patches appended to the spool (spool_fd, the
 * file the dump was opened from, writable), the spool checked with
 * wo->verify, then the patches and the end marker sent. */
struct vf_error *vf_stream_finish(struct vf_stream *s, struct vf_dump *dump,
				  const struct vf_plan *plan, int spool_fd,
				  const struct vf_write_opts *wo) VF_MUST_CHECK;

/* Stored and forwarded: the fixed dump written flattened (vf_write_fixed,
 * checked with wo->verify) in a new directory under tmpdir, then copied to
 * the stream.  An ELF dump whose data would move is refused first. */
struct vf_error *vf_stream_write(struct vf_stream *s, struct vf_dump *dump,
				 const struct vf_plan *plan, const char *tmpdir,
				 const struct vf_write_opts *wo,
				 struct vf_write_stats *st) VF_MUST_CHECK;

/* After a failure: if records went out, the poison record. */
void vf_stream_abort(struct vf_stream *s);

#endif
