/* src.h - random-access byte sources: the layer below every dump format.
 *
 * A dump reader never touches a file descriptor: it reads the (logical) dump
 * file through a vf_src.  A plain file is served by pread() (here); layers
 * over a source serve what its bytes encode: a makedumpfile flattened stream
 * reassembled (flat.c), a compressed stream decompressed (zsrc.c), a libvirt
 * save image's QEMU stream (libvirt.c).  open.c opens a dump file as its
 * readers see it.  The readers never know which one they got.
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
	VF_SRC_LIBVIRT,    /* a libvirt save image, its QEMU stream decompressed in
			    * place when it is compressed (libvirt.c) */
	VF_SRC_SAVED,      /* a saved VM state served as an ELF dump of it
			    * (guest/migdump.c): converted, never copied */
};

struct vf_src {
	const struct vf_src_ops *ops;
	enum vf_src_kind kind;
	char *path;        /* the path given by the user */
	int fd;            /* the underlying file, for writers that copy its bytes:
			    * owned by the plain-file source; a flattened layer shows
			    * its base's (data_pos offsets are in it); else -1 */
	uint64_t size;     /* logical size (reassembled size for flattened) */
	uint64_t file_size;/* size of the underlying file */
	void *priv;        /* kind-specific state */
};

/* Open path read-only as a plain file, whatever it holds (vf_source_open()
 * in open.h also sees through a flattened stream). */
struct vf_error *vf_src_open_file(const char *path, struct vf_src **ret) VF_MUST_CHECK;

/* Plain-file source over an already open fd (takes ownership of fd). */
struct vf_error *vf_src_from_fd(int fd, const char *path, struct vf_src **ret) VF_MUST_CHECK;

/* Read exactly len bytes at off; a short read is a VF_ERR_CORRUPT
 * "truncated" error naming `what` and the offset. */
struct vf_error *vf_src_read(struct vf_src *src, void *buf, size_t len, uint64_t off,
			     const char *what) VF_MUST_CHECK;

/* Read up to len bytes; *got may be short at the end of the file. */
struct vf_error *vf_src_pread(struct vf_src *src, void *buf, size_t len, uint64_t off,
			      size_t *got) VF_MUST_CHECK;

/* Read len bytes at off into a new malloc'd buffer (len capped by caller). */
struct vf_error *vf_src_read_alloc(struct vf_src *src, size_t len, uint64_t off,
				   const char *what, uint8_t **ret) VF_MUST_CHECK;

/* pread() until len bytes or end of file; retries EINTR.  *got may be short. */
struct vf_error *vf_pread_full(int fd, const char *path, void *buf, size_t len, uint64_t off,
			       size_t *got) VF_MUST_CHECK;

void vf_src_destroy(struct vf_src *src);

#endif
