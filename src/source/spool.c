/* spool.c - standard input read once into an unnamed file (spool.h). */
#include "config.h"
#include "source/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source/src.h"

#define SPOOL_CHUNK (1u << 20)

struct vf_error *vf_unnamed_file(const char *dir, int *fd)
{
#ifdef O_TMPFILE
	*fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0666);
	if (*fd >= 0)
		return NULL;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return vf_error_os(errno, dir, "cannot make an unnamed file in it");
#endif
	char *path;
	if (asprintf(&path, "%s/.vmcore-fix-spool.XXXXXX", dir) < 0)
		return &vf_error_nomem;
	*fd = mkostemp(path, O_CLOEXEC);
	int e = errno;
	if (*fd >= 0) {
		unlink(path);
		mode_t mask = umask(0);
		umask(mask);
		if (fchmod(*fd, 0666 & ~mask) < 0)
			e = errno;
	}
	struct vf_error *err = *fd < 0 ? vf_error_os(e, dir, "cannot make an unnamed file "
						     "in it") : NULL;
	free(path);
	return err;
}

static struct vf_error *no_room(int e, const char *dir)
{
	struct vf_error *err = vf_error_os(e, dir, "spooling standard input");
	if (e == ENOSPC || e == EDQUOT)
		err = vf_error_set_hint(err, "a stream read from a pipe is kept on disk while it is "
					"fixed: set TMPDIR to a file system with room for it, or "
					"write -o FILE on one");
	return err;
}

struct vf_error *vf_unnamed_write(int fd, const void *buf, size_t len, uint64_t off, int *werr)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t w = pwrite(fd, p, len, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			*werr = w < 0 ? errno : ENOSPC;
			return vf_error_os(*werr, "an unnamed file", "writing");
		}
		p += w;
		len -= (size_t)w;
		off += (uint64_t)w;
	}
	return NULL;
}

struct vf_error *vf_spool(int in_fd, const char *name, const char *dir, vf_spool_tap tap,
			  void *tap_arg, int *out_fd, uint64_t *size)
{
	*out_fd = -1;
	*size = 0;
	uint8_t *buf = malloc(SPOOL_CHUNK);
	if (!buf)
		return &vf_error_nomem;
	int fd;
	struct vf_error *err = vf_unnamed_file(dir, &fd);
	if (err)
		err = vf_error_prefix(err, "spooling standard input");
	uint64_t at = 0;
	while (!err) {
		ssize_t n = read(in_fd, buf, SPOOL_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = vf_error_os(errno, name, "read");
			break;
		}
		if (n == 0)
			break;
		int werr;
		if ((err = vf_unnamed_write(fd, buf, (size_t)n, at, &werr))) {
			vf_error_destroy(err);
			err = no_room(werr, dir);
		}
		if (!err && tap)
			err = tap(tap_arg, buf, (size_t)n);
		at += (uint64_t)n;
	}
	free(buf);
	if (err) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	*out_fd = fd;
	*size = at;
	return NULL;
}
