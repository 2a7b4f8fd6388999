/* fuzz_flat.c - libFuzzer target: the makedumpfile flattened layer.
 *
 * The input is a flattened stream, served from memory (a source with no
 * file, as over a decompressed stream).  Index it, read at the start, the
 * middle and the end of the reassembled file and at each of the first
 * records' offsets, and ask where those bytes live. */
#include "fuzz.h"

#include "source/flat.h"

#define FZ_RECORDS_READ 16
#define FZ_READ_LEN 512

static void read_at(struct vf_src *src, uint64_t off)
{
	static uint8_t buf[FZ_READ_LEN];
	size_t got;
	fz_drop(vf_src_pread(src, buf, sizeof(buf), off, &got));
	uint64_t pos, len;
	(void)vf_flat_locate(src, off, &pos, &len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vf_src *src;
	struct vf_error *err = vf_flat_open(fz_mem_src(data, size), &src);
	if (err) {
		fz_drop(err);
		return 0;
	}
	read_at(src, 0);
	read_at(src, src->size / 2);
	read_at(src, src->size ? src->size - 1 : 0);
	size_t n = vf_flat_record_count(src);
	for (size_t i = 0; i < n && i < FZ_RECORDS_READ; i++) {
		struct vf_flat_record r = vf_flat_record_at(src, i);
		read_at(src, r.offset);
		if (r.size)
			read_at(src, r.offset + r.size - 1);
	}
	(void)vf_flat_end_pos(src);
	vf_src_destroy(src);
	return 0;
}
