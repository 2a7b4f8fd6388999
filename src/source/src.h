/* src.h - random-access byte sources: the layer below every dump format.
 *
 * A dump reader never touches a file descriptor: it reads the (logical) dump
 * file through a vf_src.  A plain file is served by pread(); a makedumpfile
 * flattened stream is indexed once by flat.c and served as the reassembled
 * file.  The readers never know which one they got.
 */
#ifndef VF_SRC_H
#define VF_SRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct vf_src;

struct vf_src_ops {
	/* Read up to len bytes at logical offset off; *got is how many were
	 * read (less than len only at the logical end of the file). */
	struct vf_error *(*pread)(struct vf_src *src, void *buf, size_t len,
				  uint64_t off, size_t *got);
	void (*destroy)(struct vf_src *src);
};

enum vf_src_kind {
	VF_SRC_FILE,       /* a plain file */
	VF_SRC_FLATTENED,  /* makedumpfile flattened stream, served reassembled */
	VF_SRC_DECOMPRESSED, /* a compressed stream inside a file, served decompressed
			      * (zsrc.c); size UINT64_MAX until its end is known */
};

struct vf_src {
	const struct vf_src_ops *ops;
	enum vf_src_kind kind;
	char *path;        /* the path given by the user */
	int fd;            /* the underlying file; owned by the source */
	uint64_t size;     /* logical size (reassembled size for flattened) */
	uint64_t file_size;/* size of the underlying file */
	void *priv;        /* kind-specific state */
};

/* Open path read-only; if it starts with the flattened signature, index it
 * and return a flattened source.  The logical file is what readers see. */
struct vf_error *vf_src_open(const char *path, struct vf_src **ret);

/* Plain-file source over an already open fd (takes ownership of fd). */
struct vf_error *vf_src_from_fd(int fd, const char *path, struct vf_src **ret);

/* Read exactly len bytes at off; a short read is a VF_ERR_CORRUPT
 * "truncated" error naming `what` and the offset. */
struct vf_error *vf_src_read(struct vf_src *src, void *buf, size_t len, uint64_t off,
			     const char *what);

/* Read up to len bytes; *got may be short at the end of the file. */
struct vf_error *vf_src_pread(struct vf_src *src, void *buf, size_t len, uint64_t off,
			      size_t *got);

/* Read len bytes at off into a new malloc'd buffer (len capped by caller). */
struct vf_error *vf_src_read_alloc(struct vf_src *src, size_t len, uint64_t off,
				   const char *what, uint8_t **ret);

/* pread() until len bytes or end of file; retries EINTR.  *got may be short. */
struct vf_error *vf_pread_full(int fd, const char *path, void *buf, size_t len, uint64_t off,
			       size_t *got);

void vf_src_destroy(struct vf_src *src);

#endif
