/* fuzz.h - what every libFuzzer target under tests/fuzz/ shares: the input as
 * a file (a memfd, named by its /proc/self/fd path, so that the code under
 * test opens it by path as the command line does) and as a source in memory.
 *
 * A target must never crash, leak or hang on any input: every error is
 * destroyed, every object freed, and the work per input is bounded by the
 * input's size (libFuzzer's -max_len) and by the few reads a target makes.
 */
#ifndef VF_FUZZ_H
#define VF_FUZZ_H

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "source/src.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Drop an error: a target only cares that the call returned. */
static inline void fz_drop(struct vf_error *err)
{
	vf_error_destroy(err);
}

/* The input as a file: one memfd for the process, rewritten for each input
 * (a new file per input would cost a syscall storm and leave nothing
 * behind to clean).  path receives "/proc/self/fd/N".  Aborts only when the
 * machine cannot make a memfd: that is not a finding about the input. */
static inline void fz_file(const uint8_t *data, size_t size, char path[32])
{
	static int fd = -1;
	if (fd < 0 && (fd = memfd_create("vf-fuzz", 0)) < 0) {
		perror("memfd_create");
		abort();
	}
	if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
		perror("memfd write");
		abort();
	}
	snprintf(path, 32, "/proc/self/fd/%d", fd);
}

/* ---------------------------------------------------------------- a source in memory */

struct fz_memsrc {
	uint8_t *p;
	size_t n;
};

static inline struct vf_error *fz_mem_pread(struct vf_src *src, void *buf, size_t len,
					    uint64_t off, size_t *got)
{
	struct fz_memsrc *m = src->priv;
	*got = off >= m->n ? 0 : m->n - off < len ? m->n - (size_t)off : len;
	if (*got)
		memcpy(buf, m->p + off, *got);
	return NULL;
}

static inline void fz_mem_destroy(struct vf_src *src)
{
	struct fz_memsrc *m = src->priv;
	free(m->p);
	free(m);
}

static const struct vf_src_ops fz_mem_ops = { .pread = fz_mem_pread,
					      .destroy = fz_mem_destroy };

/* A copy of data as a source with no file (fd -1), as a layer over a
 * decompressed or reassembled stream sees its base.  vf_src_destroy frees it. */
static inline struct vf_src *fz_mem_src(const uint8_t *data, size_t size)
{
	struct vf_src *src = calloc(1, sizeof(*src));
	struct fz_memsrc *m = calloc(1, sizeof(*m));
	char *path = strdup("(fuzz input)");
	if (!src || !m || !path || !(m->p = malloc(size ? size : 1)))
		abort();
	if (size)
		memcpy(m->p, data, size);
	m->n = size;
	*src = (struct vf_src){ .ops = &fz_mem_ops, .kind = VF_SRC_FILE, .path = path,
				.fd = -1, .size = size, .file_size = size, .priv = m };
	return src;
}

#endif
