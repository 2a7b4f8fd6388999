/* test_flat.c - the flattened layer: reassembly, overrides, gaps, corrupt streams. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cursor.h"
#include "source/flat.h"
#include "source/src.h"
#include "tap.h"

static FILE *fopen_tmp(char *path)
{
	strcpy(path, "/tmp/vf-test-flat-XXXXXX");
	int fd = mkstemp(path);
	return fd < 0 ? NULL : fdopen(fd, "w+");
}

static void header(FILE *f)
{
	uint8_t h[VF_FLAT_HEADER_SIZE];
	memset(h, 0, sizeof(h));
	memcpy(h, "makedumpfile", 12);
	vf_store_uint(h + 16, 8, true, 1);
	vf_store_uint(h + 24, 8, true, 1);
	fwrite(h, 1, sizeof(h), f);
}

static void record(FILE *f, uint64_t off, uint64_t size, const void *data)
{
	uint8_t rh[16];
	vf_store_uint(rh, 8, true, off);
	vf_store_uint(rh + 8, 8, true, size);
	fwrite(rh, 1, 16, f);
	if (data)
		fwrite(data, 1, size, f);
}

static void end_marker(FILE *f)
{
	record(f, UINT64_MAX, UINT64_MAX, NULL);
}

static struct vf_error *open_path(const char *path, struct vf_src **src)
{
	return vf_src_open(path, src);
}

int main(void)
{
	char path[64];
	FILE *f = fopen_tmp(path);
	header(f);
	record(f, 100, 5, "hello");
	record(f, 0, 4, "ABCD");
	record(f, 102, 2, "LL");   /* overrides part of the first record */
	record(f, 200, 3, "xyz");
	end_marker(f);
	fclose(f);

	struct vf_src *src;
	struct vf_error *err = open_path(path, &src);
	TAP_OK(!err && src->kind == VF_SRC_FLATTENED, "flattened stream detected and indexed");
	TAP_EQ_U64(src->size, 203, "logical size is the highest record end");
	uint8_t buf[256];
	memset(buf, 0xee, sizeof(buf));
	err = vf_src_read(src, buf, 203, 0, "all");
	TAP_OK(!err, "read the whole logical file");
	TAP_OK(memcmp(buf, "ABCD", 4) == 0, "first record in place");
	TAP_OK(buf[4] == 0 && buf[99] == 0 && buf[150] == 0, "gaps read as zeros");
	TAP_OK(memcmp(buf + 100, "heLLo", 5) == 0, "a later record overrides an earlier one");
	TAP_OK(memcmp(buf + 200, "xyz", 3) == 0, "last record");
	err = vf_src_read(src, buf, 4, 201, "tail");
	TAP_OK(err && err->code == VF_ERR_CORRUPT, "read past the logical end is truncated");
	vf_error_destroy(err);
	/* where bytes live, for writers: data of "hello" at 4112, "LL" at 4153 */
	uint64_t at = 0, run = 0;
	TAP_OK(vf_flat_locate(src, 100, &at, &run) && at == 4112 && run == 2,
	       "locate: in the first record, up to where a later one overrides it");
	TAP_OK(vf_flat_locate(src, 102, &at, &run) && at == 4153 && run == 2,
	       "locate: the overriding record wins");
	TAP_OK(vf_flat_locate(src, 104, &at, &run) && at == 4116 && run == 1,
	       "locate: the earlier record again after the override");
	TAP_OK(!vf_flat_locate(src, 4, &at, &run) && run == 96, "locate: a gap, up to the next record");
	TAP_OK(!vf_flat_locate(src, 203, &at, &run) && run == UINT64_MAX,
	       "locate: past the end, no record follows");
	const struct vf_flat_record *recs;
	size_t n;
	vf_flat_records(src, &recs, &n);
	TAP_EQ_U64(n, 4, "records kept in stream order");
	TAP_EQ_U64(recs[2].offset, 102, "third record offset");
	vf_src_destroy(src);

	/* many records: index and a read in the middle */
	f = fopen(path, "w");
	header(f);
	for (uint64_t i = 200000; i-- > 0;) {  /* reversed order */
		uint8_t d[8];
		vf_store_uint(d, 8, false, i);
		record(f, i * 8, 8, d);
	}
	end_marker(f);
	fclose(f);
	err = open_path(path, &src);
	TAP_OK(!err, "200000 records indexed");
	uint8_t d[16];
	err = vf_src_read(src, d, 16, 123456 * 8 + 4, "mid");
	TAP_OK(!err && vf_load_uint(d, 4, false) == 0 && vf_load_uint(d + 4, 8, false) == 123457 &&
	       vf_load_uint(d + 12, 4, false) == 123458, "read spanning three records");
	vf_src_destroy(src);

	struct {
		const char *what;
		int kind;
	} bad[] = { { "zero-length record", 0 }, { "record past the end", 1 },
		    { "no end marker", 2 }, { "negative offset", 3 }, { "bad type", 4 } };
	for (size_t k = 0; k < 5; k++) {
		f = fopen(path, "w");
		header(f);
		record(f, 0, 4, "ABCD");
		if (bad[k].kind == 0)
			record(f, 8, 0, "");
		if (bad[k].kind == 1) {
			record(f, 8, 100, NULL);  /* header only: data missing */
			fwrite("short", 1, 5, f);
		}
		if (bad[k].kind == 3)
			record(f, 0x8000000000000000ull, 4, "ABCD");
		if (bad[k].kind != 1 && bad[k].kind != 2)
			end_marker(f);
		if (bad[k].kind == 4) {
			fseek(f, 16, SEEK_SET);
			uint8_t t[8];
			vf_store_uint(t, 8, true, 7);
			fwrite(t, 1, 8, f);
		}
		fclose(f);
		err = open_path(path, &src);
		TAP_OK(err && err->code == VF_ERR_CORRUPT && err->has_offset,
		       "%s is corrupt, with an offset", bad[k].what);
		if (err && bad[k].kind == 0)
			TAP_EQ_U64(err->offset, VF_FLAT_HEADER_SIZE + 20, "offset of the zero-length record");
		if (!err)
			vf_src_destroy(src);
		vf_error_destroy(err);
	}
	unlink(path);
	return tap_done();
}
