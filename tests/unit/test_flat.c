/* test_flat.c - the flattened layer: reassembly, overrides, gaps, corrupt
 * streams, over a file and over any source (one in memory here). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cursor.h"
#include "source/flat.h"
#include "source/open.h"
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
	return vf_source_open(path, src);
}

/* ---------------------------------------------------------------- a source in memory */

struct memsrc {
	uint8_t *p;
	size_t n;
	bool *destroyed;
};

static struct vf_error *mem_pread(struct vf_src *src, void *buf, size_t len, uint64_t off,
				  size_t *got)
{
	struct memsrc *m = src->priv;
	*got = off >= m->n ? 0 : m->n - off < len ? m->n - (size_t)off : len;
	memcpy(buf, m->p + off, *got);
	return NULL;
}

static void mem_destroy(struct vf_src *src)
{
	struct memsrc *m = src->priv;
	*m->destroyed = true;
	free(m->p);
	free(m);
}

static const struct vf_src_ops mem_ops = { .pread = mem_pread, .destroy = mem_destroy };

/* The bytes written to f so far, as a source with no file (fd -1). */
static struct vf_src *mem_src_of(FILE *f, bool *destroyed)
{
	struct vf_src *src = calloc(1, sizeof(*src));
	struct memsrc *m = calloc(1, sizeof(*m));
	fflush(f);
	long n = ftell(f);
	if (!src || !m || n < 0 || !(m->p = malloc((size_t)n + 1)))
		abort();
	rewind(f);
	if (fread(m->p, 1, (size_t)n, f) != (size_t)n)
		abort();
	m->n = (size_t)n;
	m->destroyed = destroyed;
	*destroyed = false;
	*src = (struct vf_src){ .ops = &mem_ops, .kind = VF_SRC_FILE, .path = strdup("(memory)"),
				.fd = -1, .size = m->n, .file_size = m->n, .priv = m };
	return src;
}

static void test_over_memory(void)
{
	char path[64];
	FILE *f = fopen_tmp(path);
	header(f);
	record(f, 10, 4, "WXYZ");
	record(f, 0, 12, "abcdefghijkl");
	end_marker(f);
	bool destroyed;
	struct vf_src *base = mem_src_of(f, &destroyed), *src;
	fclose(f);
	unlink(path);
	struct vf_error *err = vf_flat_open(base, &src);
	uint8_t buf[16] = { 0 };
	TAP_OK(!err && src->kind == VF_SRC_FLATTENED && src->fd == -1 && src->size == 14 &&
	       src->file_size == VF_FLAT_HEADER_SIZE + 16 + 4 + 16 + 12 + 16,
	       "over a source in memory: indexed, its size and its base's file size");
	err = err ? err : vf_src_read(src, buf, 14, 0, "all");
	TAP_OK(!err && memcmp(buf, "abcdefghijklYZ", 14) == 0,
	       "over a source in memory: read through the base, the later record wins");
	vf_error_destroy(err);
	vf_src_destroy(src);
	TAP_OK(destroyed, "the layer owns its base: destroyed with it");

	f = fopen_tmp(path);
	header(f);
	record(f, 0, 4, "ABCD");
	base = mem_src_of(f, &destroyed);
	fclose(f);
	unlink(path);
	err = vf_flat_open(base, &src);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && destroyed,
	       "no end marker: corrupt, and the base is destroyed (%s)", err ? err->message : "");
	vf_error_destroy(err);
}

/* ---------------------------------------------------------------- against a model */

static uint32_t rnd(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return *x >> 8;
}

#define MODEL 4096

/* Random overlapping records, some of them large: every read and every
 * lookup agrees with replaying the records in order over zeros. */
static void test_model(uint32_t seed0, unsigned nrec)
{
	uint32_t seed = seed0;
	static uint8_t want[MODEL];
	static uint64_t where[MODEL];   /* data_pos of each byte, 0: a gap */
	char path[64];
	FILE *f = fopen_tmp(path);
	header(f);
	memset(want, 0, sizeof(want));
	memset(where, 0, sizeof(where));
	uint64_t pos = VF_FLAT_HEADER_SIZE, top = 0;
	for (unsigned r = 0; r < nrec; r++) {
		uint64_t size = rnd(&seed) % 8 == 0 ? 1 + rnd(&seed) % 2000 : 1 + rnd(&seed) % 40;
		uint64_t off = rnd(&seed) % (MODEL - size);
		uint8_t d[2000];
		for (uint64_t i = 0; i < size; i++) {
			d[i] = (uint8_t)rnd(&seed);
			want[off + i] = d[i];
			where[off + i] = pos + 16 + i;
		}
		record(f, off, size, d);
		pos += 16 + size;
		if (off + size > top)
			top = off + size;
	}
	end_marker(f);
	fclose(f);
	struct vf_src *src;
	struct vf_error *err = open_path(path, &src);
	unlink(path);
	bool reads = !err && src->size == top, locs = reads;
	for (unsigned k = 0; reads && k < 300; k++) {
		uint8_t got[600];
		uint64_t off = rnd(&seed) % top, len = 1 + rnd(&seed) % 600;
		if (len > top - off)
			len = top - off;
		reads = !vf_src_read(src, got, len, off, "model") && memcmp(got, want + off, len) == 0;
	}
	for (uint64_t off = 0; locs && off <= top; off++) {
		uint64_t at = 0, run = 0, n = 0;
		bool held = vf_flat_locate(src, off, &at, &run);
		if (off == top) {
			locs = !held && run == UINT64_MAX;
			break;
		}
		/* a run: bytes consecutive in the file, so of one record (a record
		 * header is between two records' data); or a gap, to a record */
		if (where[off])
			while (off + n < top && where[off + n] == where[off] + n)
				n++;
		else
			while (!where[off + n])
				n++;
		locs = held == !!where[off] && (!held || at == where[off]) && run == n;
	}
	TAP_OK(reads, "%u random records (seed %" PRIu32 "): reads replay them in order", nrec,
	       seed0);
	TAP_OK(locs, "%u random records (seed %" PRIu32 "): every lookup names the last record "
	       "and its run", nrec, seed0);
	if (!err)
		vf_src_destroy(src);
	vf_error_destroy(err);
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
	TAP_EQ_U64(vf_flat_record_count(src), 4, "records kept in stream order");
	TAP_EQ_U64(vf_flat_record_at(src, 2).offset, 102, "third record offset");
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

	/* the record limit: refused as corrupt at the record past it, nothing
	 * indexed; at the limit, indexed */
	f = fopen(path, "w");
	header(f);
	for (uint64_t i = 0; i < 11; i++)
		record(f, i * 8, 8, "12345678");
	end_marker(f);
	fclose(f);
	struct vf_src *base = NULL;
	err = vf_src_open_file(path, &base);
	if (!err)
		err = vf_flat_open_limit(base, 10, &src);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->has_offset &&
	       err->offset == VF_FLAT_HEADER_SIZE + 10 * 24 && strstr(err->message, "more than 10") &&
	       err->hint, "11 records over a limit of 10: corrupt at the 11th, with a hint");
	vf_error_destroy(err);
	err = vf_src_open_file(path, &base);
	if (!err)
		err = vf_flat_open_limit(base, 11, &src);
	TAP_OK(!err && src->size == 88, "11 records at a limit of 11: indexed");
	if (!err)
		vf_src_destroy(src);
	vf_error_destroy(err);

	/* many tiny records, headers read many to a read: every one in place,
	 * stream order kept, overlapping ones resolved by the sweep */
	f = fopen(path, "w");
	header(f);
	for (uint64_t i = 0; i < 50000; i++) {
		uint8_t c = (uint8_t)i;
		record(f, (i * 7919) % 50000, 1, &c);
	}
	record(f, 10, 2, "zz");   /* overwrites two of them */
	end_marker(f);
	fclose(f);
	err = open_path(path, &src);
	TAP_OK(!err && src->size == 50000, "50001 one-byte records indexed");
	bool right = !err;
	for (uint64_t i = 0; right && i < 50000; i++) {
		uint8_t c;
		uint64_t off = (i * 7919) % 50000;
		right = !vf_src_read(src, &c, 1, off, "byte") &&
			c == (off == 10 || off == 11 ? 'z' : (uint8_t)i);
	}
	TAP_OK(right, "each byte is its record's, the later record over the earlier");
	if (!err) {
		struct vf_flat_record r1 = vf_flat_record_at(src, 1);
		struct vf_flat_record rl = vf_flat_record_at(src, 50000);
		TAP_OK(vf_flat_record_count(src) == 50001 && r1.offset == 7919 && r1.size == 1 &&
		       r1.data_pos == VF_FLAT_HEADER_SIZE + 17 + 16 && rl.offset == 10 &&
		       rl.size == 2, "records kept in stream order, with their sizes");
		vf_src_destroy(src);
	}
	vf_error_destroy(err);

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

	/* one large record under many small ones: a read finds its records by
	 * binary search, never walking back over the ones the large one spans
	 * (100000 reads would take minutes so) */
	f = fopen(path, "w");
	header(f);
	record(f, 0, 200000 * 8, NULL);
	fseek(f, 200000 * 8, SEEK_CUR);   /* its data: a hole, zeros */
	for (uint64_t i = 0; i < 200000; i += 2) {
		uint8_t d8[8];
		vf_store_uint(d8, 8, false, i);
		record(f, i * 8, 8, d8);
	}
	end_marker(f);
	fclose(f);
	err = open_path(path, &src);
	bool same = !err;
	for (uint64_t k = 0; same && k < 100000; k++) {
		uint64_t i = (k * 7919) % 199999;
		same = !vf_src_read(src, d, 16, i * 8, "mid") &&
		       vf_load_uint(d, 8, false) == (i % 2 ? 0 : i) &&
		       vf_load_uint(d + 8, 8, false) == (i % 2 ? i + 1 : 0);
	}
	TAP_OK(same, "small records over a large one: 100000 reads, each its records' bytes");
	if (!err)
		vf_src_destroy(src);
	vf_error_destroy(err);
	unlink(path);

	test_over_memory();
	test_model(1, 50);
	test_model(7, 400);
	test_model(42, 2000);
	return tap_done();
}
