/* copy.h - the writer's file primitives.
 *
 * Whole writes and patches at file offsets; copies of a range between two
 * files at a shifted offset (copy_file_range, so the kernel may copy or share
 * the data, with a read/write fallback); copies of the data extents only
 * (SEEK_DATA/SEEK_HOLE: holes stay holes), optionally leaving out zero
 * blocks; and the fsync of a directory that makes a rename or unlink
 * durable.  Nothing here knows about dumps or plans. */
#ifndef VF_COPY_H
#define VF_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* The two ends of a copy; progress (may be NULL) is told how much of a
 * sparse copy's range is done; no_clone keeps a sparse copy from sharing
 * blocks with the input (the tests' and benchmarks' way to the other
 * path). */
struct vf_copy_io {
	int in, out;
	const char *in_path, *out_path;
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
	bool no_clone;
};

/* Bytes to write at a physical offset of the file written (the bytes are
 * not owned). */
struct vf_phys_patch {
	uint64_t at;
	const uint8_t *bytes;
	uint32_t len;
};

/* The output's blocks that a copy with zeros_to_holes leaves out when they
 * hold only zeros (as cp --sparse=always does). */
#define VF_ZERO_BLOCK 4096u

/* pwrite until len bytes are written; retries EINTR. */
struct vf_error *vf_write_all(int fd, const void *buf, size_t len, uint64_t off,
			      const char *path);

/* write() until len bytes are written, at the file's position (a pipe);
 * retries EINTR. */
struct vf_error *vf_write_seq(int fd, const void *buf, size_t len, const char *path);

/* Copy in's [off, off+len) to out at its position (a pipe: sendfile, else
 * read and write). */
struct vf_error *vf_copy_to_stream(int in, const char *in_path, uint64_t off, uint64_t len,
				   int out, const char *out_path);

/* Write the patches in order (a later one wins where they overlap). */
struct vf_error *vf_write_patches(int fd, const char *path, const struct vf_phys_patch *pp,
				  size_t n);

/* fsync the directory holding path, so that a rename or unlink in it is
 * durable. */
struct vf_error *vf_fsync_dir_of(const char *path);

/* Whether p[0..n) are all zero; p need not be aligned. */
bool vf_all_zero(const uint8_t *p, size_t n);

/* The next data extent of fd at or after pos, below size: false when only a
 * hole is left.  Without SEEK_DATA (or SEEK_HOLE) support the rest of the
 * file counts as data. */
bool vf_next_extent(int fd, uint64_t pos, uint64_t size, uint64_t *start, uint64_t *end);

/* Copy input [off, off+len) to output offset off + shift (mod 2^64: a
 * "negative" shift moves data down).  vf_copy_range asks the kernel
 * (copy_file_range) and falls back to vf_copy_plain, read and write, where
 * it cannot copy between the two files.  The input ending early is
 * VF_ERR_CORRUPT ("shrank while being copied"). */
struct vf_error *vf_copy_range(const struct vf_copy_io *io, uint64_t off, uint64_t len,
			       uint64_t shift);
struct vf_error *vf_copy_plain(const struct vf_copy_io *io, uint64_t off, uint64_t len,
			       uint64_t shift);

/* A range to copy, in three parts: head bytes from its start, then mid
 * bytes that can be cloned (shared with the input: both ends at block
 * boundaries of the input and of the output), then tail bytes. */
struct vf_clone_split {
	uint64_t head, mid, tail;
};

/* How input [off, off+len), going to output offset off + shift (mod 2^64),
 * splits for clones of blocks of block bytes (a power of two; anything
 * else, or a shift that is not a multiple of it, or a range holding no
 * whole block: all head).  head + mid + tail == len.  Pure. */
struct vf_clone_split vf_clone_split(uint64_t off, uint64_t len, uint64_t shift,
				     uint64_t block);

/* Copy input [from, size) to output [from + shift, size + shift), data
 * extents only, and set the output's size to size + shift.  With
 * zeros_to_holes, output blocks of VF_ZERO_BLOCK bytes that hold only zeros
 * are not written either (QEMU writes the zero pages of ELF dumps out in
 * full), except inside the block-aligned interior of each extent, which is
 * cloned (FICLONERANGE: the output shares the input's blocks, zero or not,
 * and takes no new space) where the file system clones; where it does not
 * (the first clone fails: not tried again in this copy) everything is
 * read and written.  Without zeros_to_holes the kernel copies
 * (copy_file_range, which itself clones where it can).  *copied counts the
 * data bytes copied or cloned. */
struct vf_error *vf_sparse_copy(const struct vf_copy_io *io, uint64_t from, uint64_t size,
				uint64_t shift, bool zeros_to_holes, uint64_t *copied);

#endif
