/* fuzz_flat.c - libFuzzer target: the makedumpfile flattened layer.
 *
 * The input is a flattened stream, served from memory (a source with no
 * file, as over a decompressed stream).  Index it, read at the start, the
 * middle and the end of the reassembled file and at each of the first
 * records' offsets, and ask where those bytes live.  Then the same stream
 * through -o -'s pass-through tap (fix/stream.h), in pieces of a size the
 * input picks: when it passes records on, they must be the stream's bytes
 * up to the end marker the index found, no more and no fewer (what goes
 * out is what the spool's reader checked), but for the records it holds
 * for the fix (the kdump header's, sub-header's and bitmaps') or for their
 * size. */
#include "fuzz.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fix/stream.h"
#include "source/flat.h"

/* The tap's output: one memory file, emptied for each input. */
static void check_tap(const uint8_t *data, size_t size, const struct vf_src *src,
		      uint64_t end_pos)
{
	static int fd = -1;
	static uint8_t *back;
	if (fd < 0 && (fd = memfd_create("fuzz-tap", 0)) < 0)
		abort();
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		abort();
	struct vf_stream s;
	fz_drop(vf_stream_init(&s, fd, "fuzz output"));
	size_t piece = size ? 1 + data[size - 1] * 61u : 1;
	struct vf_error *err = NULL;
	for (size_t o = 0; !err && o < size; o += piece)
		err = vf_stream_tap(&s, data + o, size - o < piece ? size - o : piece);
	if (err)
		abort();  /* a memory file takes every write */
	if (!s.pass)
		return;
	if (s.state == VF_STREAM_DONE ? s.pos != end_pos : s.pos > end_pos)
		abort();  /* the tap and the index disagree on where the records end */
	/* what went out: the header, then the records the parse went by that
	 * are not held, whole and in order */
	back = realloc(back, s.written ? s.written : 1);
	if (!back || pread(fd, back, s.written, 0) != (ssize_t)s.written ||
	    s.written < VF_FLAT_HEADER_SIZE || memcmp(back, data, VF_FLAT_HEADER_SIZE) != 0)
		abort();
	uint64_t at = VF_FLAT_HEADER_SIZE;
	for (size_t i = 0; i < vf_flat_record_count(src); i++) {
		struct vf_flat_record r = vf_flat_record_at(src, i);
		if (r.data_pos - 16 >= s.pos)
			break;
		if (r.offset < s.hold_below)
			continue;
		if (at + 16 + r.size > s.written ||
		    memcmp(back + at, data + r.data_pos - 16, 16 + r.size) != 0)
			abort();
		at += 16 + r.size;
	}
	if (at != s.written)
		abort();
}

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
	check_tap(data, size, src, vf_flat_end_pos(src));
	vf_src_destroy(src);
	return 0;
}
