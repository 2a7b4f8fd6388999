/* copy.c - the writer's file primitives: writes, copies, sparse copies. */
#include "config.h"
#include "fix/copy.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/fs.h>

#include "source/src.h"

#define ZCHUNK (1u << 20)          /* what a zero-hole copy reads at a time */
#define PROGRESS_STEP (64u << 20)  /* a sparse copy reports progress this often (a power
				      * of two: its steps end on block boundaries) */

struct vf_error *vf_write_all(int fd, const void *buf, size_t len, uint64_t off,
			      const char *path)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return vf_error_os(errno, path, "write at offset 0x%" PRIx64, off);
		}
		buf = (const char *)buf + n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return NULL;
}

struct vf_error *vf_write_seq(int fd, const void *buf, size_t len, const char *path)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return vf_error_os(errno, path, "write");
		}
		buf = (const char *)buf + n;
		len -= (size_t)n;
	}
	return NULL;
}

struct vf_error *vf_copy_to_stream(int in, const char *in_path, uint64_t off, uint64_t len,
				   int out, const char *out_path)
{
	enum { CHUNK = 1 << 20 };
	uint8_t *buf = NULL;
	struct vf_error *err = NULL;
	while (!err && len > 0) {
		size_t want = len < CHUNK ? (size_t)len : CHUNK;
		if (!buf) {
			off_t o = (off_t)off;
			ssize_t n = sendfile(out, in, &o, want);
			if (n > 0) {
				off += (uint64_t)n;
				len -= (uint64_t)n;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n == 0)
				return vf_error_create(VF_ERR_CORRUPT, "%s shrank while being copied",
						       in_path);
			if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
				return vf_error_os(errno, out_path, "write");
			if (!(buf = malloc(CHUNK)))
				return &vf_error_nomem;
		}
		size_t got;
		err = vf_pread_full(in, in_path, buf, want, off, &got);
		if (!err && got < want)
			err = vf_error_create(VF_ERR_CORRUPT, "%s shrank while being copied", in_path);
		if (!err)
			err = vf_write_seq(out, buf, want, out_path);
		off += want;
		len -= want;
	}
	free(buf);
	return err;
}

struct vf_error *vf_write_patches(int fd, const char *path, const struct vf_phys_patch *pp,
				  size_t n)
{
	struct vf_error *err = NULL;
	for (size_t i = 0; !err && i < n; i++)
		err = vf_write_all(fd, pp[i].bytes, pp[i].len, pp[i].at, path);
	return err;
}

struct vf_error *vf_fsync_dir_of(const char *path)
{
	char *dcopy = strdup(path);
	if (!dcopy)
		return &vf_error_nomem;
	int fd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct vf_error *err = NULL;
	if (fd < 0 || fsync(fd) < 0)
		err = vf_error_os(errno, dcopy, "fsync of the directory");
	if (fd >= 0)
		close(fd);
	free(dcopy);
	return err;
}

bool vf_all_zero(const uint8_t *p, size_t n)
{
	/* word at a time through memcpy: p need not be aligned (the compiler
	 * makes it a plain load where that is allowed) */
	for (size_t i = 0; i < n / 8; i++) {
		uint64_t w;
		memcpy(&w, p + 8 * i, 8);
		if (w)
			return false;
	}
	for (size_t i = n & ~(size_t)7; i < n; i++)
		if (p[i])
			return false;
	return true;
}

bool vf_next_extent(int fd, uint64_t pos, uint64_t size, uint64_t *start, uint64_t *end)
{
	off_t data = lseek(fd, (off_t)pos, SEEK_DATA);
	if (data < 0 && errno == ENXIO)
		return false;  /* only a hole is left */
	if (data < 0)
		data = (off_t)pos;  /* no SEEK_DATA here: copy everything */
	if ((uint64_t)data >= size)
		return false;
	off_t hole = lseek(fd, data, SEEK_HOLE);
	if (hole <= data || (uint64_t)hole > size)  /* <= data: never, but never a loop */
		hole = (off_t)size;
	*start = (uint64_t)data;
	*end = (uint64_t)hole;
	return true;
}

/* The input ended at offset at, before the end of the range being copied. */
static struct vf_error *shrank(const struct vf_copy_io *io, uint64_t at)
{
	return vf_error_at(VF_ERR_CORRUPT, at, "%s shrank while being copied", io->in_path);
}

/* Read exactly len bytes of the input at off. */
static struct vf_error *read_in(const struct vf_copy_io *io, void *buf, size_t len,
				uint64_t off)
{
	size_t got;
	struct vf_error *err = vf_pread_full(io->in, io->in_path, buf, len, off, &got);
	if (!err && got < len)
		err = shrank(io, off + got);
	return err;
}

struct vf_error *vf_copy_plain(const struct vf_copy_io *io, uint64_t off, uint64_t len,
			       uint64_t shift)
{
	const size_t bufsz = 1u << 20;
	char *buf = malloc(bufsz);
	if (!buf)
		return &vf_error_nomem;
	struct vf_error *err = NULL;
	while (len > 0 && !err) {
		size_t want = len < bufsz ? (size_t)len : bufsz;
		err = read_in(io, buf, want, off);
		if (!err)
			err = vf_write_all(io->out, buf, want, off + shift, io->out_path);
		off += want;
		len -= want;
	}
	free(buf);
	return err;
}

struct vf_error *vf_copy_range(const struct vf_copy_io *io, uint64_t off, uint64_t len,
			       uint64_t shift)
{
	loff_t ioff = (loff_t)off, ooff = (loff_t)(off + shift);
	while (len > 0) {
		size_t chunk = len > (1u << 30) ? (1u << 30) : (size_t)len;
		ssize_t n = copy_file_range(io->in, &ioff, io->out, &ooff, chunk, 0);
		if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP ||
			      errno == EINVAL))
			return vf_copy_plain(io, (uint64_t)ioff, len, shift);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return vf_error_os(errno, io->out_path, "copying from %s at offset 0x%" PRIx64,
					   io->in_path, (uint64_t)ioff);
		}
		if (n == 0)
			return shrank(io, (uint64_t)ioff);
		len -= (uint64_t)n;
	}
	return NULL;
}

/* Write the blocks of buf[0..len) (output offset o) that are not all zero,
 * runs of them in one write. */
static struct vf_error *write_nonzero(const struct vf_copy_io *io, const uint8_t *buf,
				      size_t len, uint64_t o, uint64_t *written)
{
	size_t i = 0;
	while (i < len) {
		/* the output block holding byte o + i */
		size_t blen = (size_t)(VF_ZERO_BLOCK - (o + i) % VF_ZERO_BLOCK);
		if (blen > len - i)
			blen = len - i;
		if (vf_all_zero(buf + i, blen)) {
			i += blen;
			continue;
		}
		size_t j = i + blen;  /* extend over the following non-zero blocks */
		while (j < len) {
			size_t n = len - j < VF_ZERO_BLOCK ? len - j : VF_ZERO_BLOCK;
			if (vf_all_zero(buf + j, n))
				break;
			j += n;
		}
		struct vf_error *err = vf_write_all(io->out, buf + i, j - i, o + i, io->out_path);
		if (err)
			return err;
		*written += j - i;
		i = j;
	}
	return NULL;
}

/* Copy [off, off+len) to off + shift, leaving out the output blocks that
 * hold only zeros. */
static struct vf_error *copy_zero_holes(const struct vf_copy_io *io, uint64_t off,
					uint64_t len, uint64_t shift, uint8_t *buf,
					uint64_t *written)
{
	while (len > 0) {
		/* chunks end on output block boundaries */
		uint64_t oend = off + shift + (len < ZCHUNK ? len : ZCHUNK);
		if (len > ZCHUNK)
			oend &= ~(uint64_t)(VF_ZERO_BLOCK - 1);
		size_t want = (size_t)(oend - (off + shift));
		struct vf_error *err = read_in(io, buf, want, off);
		if (!err)
			err = write_nonzero(io, buf, want, off + shift, written);
		if (err)
			return err;
		off += want;
		len -= want;
	}
	return NULL;
}

static void report(const struct vf_copy_io *io, uint64_t done, uint64_t total)
{
	if (io->progress)
		io->progress(io->progress_arg, done, total);
}

struct vf_clone_split vf_clone_split(uint64_t off, uint64_t len, uint64_t shift,
				     uint64_t block)
{
	struct vf_clone_split sp = { len, 0, 0 };
	/* 2^64 is a multiple of a power of two: a "negative" shift is a
	 * multiple of block exactly when its magnitude is */
	if (block == 0 || (block & (block - 1)) || shift & (block - 1))
		return sp;
	uint64_t up = (block - off % block) % block;  /* to the first boundary */
	if (up >= len)
		return sp;
	uint64_t mid = (len - up) & ~(block - 1);
	if (mid == 0)
		return sp;
	sp.head = up;
	sp.mid = mid;
	sp.tail = len - up - mid;
	return sp;
}

/* The block of the file system of fd that clones are made of; 0 when it
 * cannot be told (or is not a power of two): no clones. */
static uint64_t clone_block(int fd)
{
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0 || sf.f_bsize <= 0)
		return 0;
	uint64_t b = (uint64_t)sf.f_bsize;
	return b & (b - 1) ? 0 : b;
}

/* Share input [off, off+len) (block-aligned at both ends) at output off +
 * shift: false when the file system will not (no reflink, another file
 * system, or any other refusal: the caller copies instead, and a real
 * I/O error shows there). */
static bool clone_range(const struct vf_copy_io *io, uint64_t off, uint64_t len,
			uint64_t shift)
{
#ifdef FICLONERANGE
	struct file_clone_range r = { .src_fd = io->in, .src_offset = off, .src_length = len,
				      .dest_offset = off + shift };
	int rc;
	while ((rc = ioctl(io->out, FICLONERANGE, &r)) < 0 && errno == EINTR)
		;
	return rc == 0;
#else
	(void)io, (void)off, (void)len, (void)shift;
	return false;
#endif
}

/* One step of a zero-holes copy: its aligned interior cloned while *block
 * says clones work (the first refusal sets it to 0 for the rest of the
 * copy), the rest read and written without its zero blocks. */
static struct vf_error *copy_step(const struct vf_copy_io *io, uint64_t off, uint64_t len,
				  uint64_t shift, uint8_t *buf, uint64_t *block,
				  uint64_t *copied)
{
	struct vf_clone_split sp = vf_clone_split(off, len, shift, *block);
	struct vf_error *err = copy_zero_holes(io, off, sp.head, shift, buf, copied);
	if (!err && sp.mid) {
		if (clone_range(io, off + sp.head, sp.mid, shift)) {
			*copied += sp.mid;
		} else {
			*block = 0;
			err = copy_zero_holes(io, off + sp.head, sp.mid, shift, buf, copied);
		}
	}
	if (!err)
		err = copy_zero_holes(io, off + sp.head + sp.mid, sp.tail, shift, buf, copied);
	return err;
}

struct vf_error *vf_sparse_copy(const struct vf_copy_io *io, uint64_t from, uint64_t size,
				uint64_t shift, bool zeros_to_holes, uint64_t *copied)
{
	*copied = 0;
	uint8_t *buf = NULL;
	if (zeros_to_holes && !(buf = malloc(ZCHUNK)))
		return &vf_error_nomem;
	uint64_t block = zeros_to_holes && !io->no_clone ? clone_block(io->out) : 0;
	struct vf_error *err = NULL;
	uint64_t data, hole;
	for (uint64_t pos = from; !err && pos < size && vf_next_extent(io->in, pos, size,
									&data, &hole); pos = hole) {
		/* in steps, so progress can be shown; they end at multiples of
		 * the step (block boundaries) so that clones need no edges
		 * but at the extent's ends */
		for (uint64_t o = data; !err && o < hole;) {
			uint64_t next = (o | (PROGRESS_STEP - 1)) + 1;
			uint64_t n = (next < hole ? next : hole) - o;
			if (zeros_to_holes) {
				err = copy_step(io, o, n, shift, buf, &block, copied);
			} else {
				err = vf_copy_range(io, o, n, shift);
				*copied += n;
			}
			o += n;
			report(io, o - from, size - from);
		}
	}
	report(io, size - from, size - from);
	free(buf);
	if (!err && ftruncate(io->out, (off_t)(size + shift)) < 0)
		err = vf_error_os(errno, io->out_path, "setting the size");
	return err;
}
