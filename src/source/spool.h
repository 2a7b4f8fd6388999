/* spool.h - standard input (a pipe) read once into an unnamed file.
 *
 * A pipe cannot be read twice or at an offset, and every reader here reads
 * at offsets.  vf_spool copies what it gives into an unnamed file
 * (O_TMPFILE; where that is not there, a file removed as soon as it is
 * made) in the directory given, so that nothing is left behind however
 * the run ends; the disk space is the stream's size, given back when the
 * file is closed.  Memory stays at one buffer.  A tap (may be NULL) sees
 * each piece as it goes by: a writer passes records on before the stream
 * has ended. */
#ifndef VF_SPOOL_H
#define VF_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* What a tap is given: the next len bytes of the stream.  An error stops
 * the spool and is returned. */
typedef struct vf_error *(*vf_spool_tap)(void *arg, const uint8_t *buf, size_t len);

/* A new file in dir, read-write, mode 0666 less the umask, that has no
 * name: O_TMPFILE, else (a file system without it) one removed as soon as
 * it is made.  It goes away with its last descriptor. */
struct vf_error *vf_unnamed_file(const char *dir, int *fd) VF_MUST_CHECK;

/* Write len bytes at off to fd (an unnamed file), whatever EINTR and short
 * writes come; on failure *werr is the errno (ENOSPC for a write of none). */
struct vf_error *vf_unnamed_write(int fd, const void *buf, size_t len, uint64_t off,
				  int *werr) VF_MUST_CHECK;

/* Copy in_fd to its end into a new unnamed file in dir, opened read-write
 * with mode 0666 less the umask (a fixed copy written from it gets that
 * mode); *out_fd is that file, *size its length.  name says what in_fd is,
 * for errors. */
struct vf_error *vf_spool(int in_fd, const char *name, const char *dir, vf_spool_tap tap,
			  void *tap_arg, int *out_fd, uint64_t *size) VF_MUST_CHECK;

#endif
