/* open.c - a dump file, flattened or not (open.h). */
#include "config.h"
#include "source/open.h"

#include "source/flat.h"

/* The plain file src, or the stream it holds (src is owned either way). */
static struct vf_error *see_through(struct vf_src *src, const char *path, struct vf_src **ret)
{
	struct vf_error *err;
	uint8_t head[32];
	size_t got = 0;
	if (src->size && (err = vf_src_pread(src, head, sizeof(head), 0, &got))) {
		vf_src_destroy(src);
		return err;
	}
	if (!vf_flat_probe(head, got)) {
		*ret = src;
		return NULL;
	}
	return vf_error_set_path(vf_flat_open(src, ret), path);
}

struct vf_error *vf_source_open(const char *path, struct vf_src **ret)
{
	struct vf_src *src;
	struct vf_error *err = vf_src_open_file(path, &src);
	return err ? err : see_through(src, path, ret);
}

struct vf_error *vf_source_open_fd(int fd, const char *name, struct vf_src **ret)
{
	struct vf_src *src;
	struct vf_error *err = vf_src_from_fd(fd, name, &src);
	return err ? err : see_through(src, name, ret);
}
