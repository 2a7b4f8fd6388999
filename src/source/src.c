/* src.c - byte sources: plain files, and the reads every source shares. */
#include "config.h"
#include "source/src.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct vf_error *vf_pread_full(int fd, const char *path, void *buf, size_t len, uint64_t off,
			       size_t *got)
{
	size_t done = 0;
	while (done < len) {
		ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return vf_error_os(errno, path, "read at offset 0x%" PRIx64, off + done);
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	*got = done;
	return NULL;
}

static struct vf_error *file_pread(struct vf_src *src, void *buf, size_t len, uint64_t off,
				   size_t *got)
{
	*got = 0;
	if (off >= src->size)
		return NULL;
	if (len > src->size - off)
		len = (size_t)(src->size - off);
	return vf_pread_full(src->fd, src->path, buf, len, off, got);
}

static void file_destroy(struct vf_src *src)
{
	if (src->fd >= 0)
		close(src->fd);
}

static const struct vf_src_ops file_ops = {
	.pread = file_pread,
	.destroy = file_destroy,
};

struct vf_error *vf_src_from_fd(int fd, const char *path, struct vf_src **ret)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return vf_error_os(e, path, "stat");
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return vf_error_os(EISDIR, path, "cannot read a dump from a directory");
	}
	struct vf_src *src = calloc(1, sizeof(*src));
	if (!src || !(src->path = strdup(path ? path : "(input)"))) {
		free(src);
		close(fd);
		return &vf_error_nomem;
	}
	src->ops = &file_ops;
	src->kind = VF_SRC_FILE;
	src->fd = fd;
	src->size = src->file_size = (uint64_t)st.st_size;
	*ret = src;
	return NULL;
}

struct vf_error *vf_src_open_file(const char *path, struct vf_src **ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vf_error_os(errno, path, "cannot open");
	return vf_src_from_fd(fd, path, ret);
}

struct vf_error *vf_src_pread(struct vf_src *src, void *buf, size_t len, uint64_t off,
			      size_t *got)
{
	*got = 0;
	if (len == 0)
		return NULL;
	return src->ops->pread(src, buf, len, off, got);
}

struct vf_error *vf_src_read(struct vf_src *src, void *buf, size_t len, uint64_t off,
			     const char *what)
{
	size_t got;
	struct vf_error *err = vf_src_pread(src, buf, len, off, &got);
	if (err)
		return err;
	if (got < len)
		return vf_error_set_path(vf_error_truncated(off, what, len, got), src->path);
	return NULL;
}

struct vf_error *vf_src_read_alloc(struct vf_src *src, size_t len, uint64_t off,
				   const char *what, uint8_t **ret)
{
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return &vf_error_nomem;
	struct vf_error *err = vf_src_read(src, buf, len, off, what);
	if (err) {
		free(buf);
		return err;
	}
	*ret = buf;
	return NULL;
}

void vf_src_destroy(struct vf_src *src)
{
	if (!src)
		return;
	if (src->ops && src->ops->destroy)
		src->ops->destroy(src);
	free(src->path);
	free(src);
}
