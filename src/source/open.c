/* open.c - a dump file, flattened or not (open.h). */
#include "config.h"
#include "source/open.h"

#include "source/flat.h"

struct vf_error *vf_source_open(const char *path, struct vf_src **ret)
{
	struct vf_src *src;
	struct vf_error *err = vf_src_open_file(path, &src);
	if (err)
		return err;
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
