/* test_writer.c - the writer's pieces: copies (holes kept, data shifted,
 * zero blocks left out at any alignment, the read/write fallback, ranges
 * split for clones and the copy where clones are refused), patches,
 * flattened output read back through the flattened reader, and -o: never a
 * temporary file left, never a target changed when a step fails. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fix/copy.h"
#include "fix/writer.h"
#include "source/open.h"
#include "source/src.h"
#include "tap.h"
#include "tmpfiles.h"

#define MIB (1u << 20)

/* How many entries the directory has besides . and .. */
static int dir_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

/* A new file of size bytes (holes), with the given runs written. */
struct run {
	uint64_t at;
	const uint8_t *bytes;
	size_t len;
};

static void make_file(const char *path, uint64_t size, const struct run *runs, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		abort();
	for (size_t i = 0; i < n; i++)
		if (pwrite(fd, runs[i].bytes, runs[i].len, (off_t)runs[i].at) != (ssize_t)runs[i].len)
			abort();
	close(fd);
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(1 + (i * 31 + seed) % 251);
}

/* Whether [a, b) of the file is a hole (reads as a hole through SEEK_DATA). */
static bool is_hole(int fd, uint64_t a, uint64_t b)
{
	off_t d = lseek(fd, (off_t)a, SEEK_DATA);
	return (d < 0 && errno == ENXIO) || (d >= 0 && (uint64_t)d >= b);
}

static void test_all_zero(void)
{
	uint8_t buf[80];
	bool ok = true;
	for (size_t start = 0; start < 8; start++)
		for (size_t n = 0; n <= 40; n++) {
			memset(buf, 0, sizeof(buf));
			buf[start + n] = 1;   /* just past the range: not looked at */
			if (start)
				buf[start - 1] = 1;
			ok &= vf_all_zero(buf + start, n);
			for (size_t k = 0; k < n; k++) {
				buf[start + k] = 0x80;
				ok &= !vf_all_zero(buf + start, n);
				buf[start + k] = 0;
			}
		}
	TAP_OK(ok, "zero test: every start alignment and length, a non-zero byte anywhere "
	       "inside is seen, bytes outside are not");
}

static void test_patches(void)
{
	char *p = at_dir("patch");
	uint8_t base[64];
	memset(base, 'a', sizeof(base));
	struct run r = { 0, base, sizeof(base) };
	make_file(p, sizeof(base), &r, 1);
	int fd = open(p, O_RDWR);
	struct vf_phys_patch pp[] = { { 4, (const uint8_t *)"WXYZ", 4 },
				      { 6, (const uint8_t *)"uv", 2 },     /* overlaps: wins */
				      { 70, (const uint8_t *)"end", 3 } }; /* past the end */
	struct vf_error *err = vf_write_patches(fd, p, pp, 3);
	close(fd);
	size_t n;
	uint8_t *got = slurp(p, &n);
	uint8_t want[73];
	memcpy(want, base, 64);
	memcpy(want + 4, "WXuv", 4);
	memset(want + 64, 0, 6);
	memcpy(want + 70, "end", 3);
	TAP_OK(!err && n == 73 && memcmp(got, want, 73) == 0,
	       "patches applied in order, a later one wins, one past the end extends the file");
	free(got);
}

/* An input with data at [0, 4K) and [1M, 1M + 8K) and holes elsewhere, 4M. */
static uint8_t *sparse_input(const char *path, uint64_t *size)
{
	*size = 4 * MIB;
	uint8_t *want = calloc(1, *size);
	fill(want, 4096, 1);
	fill(want + MIB, 8192, 2);
	struct run runs[] = { { 0, want, 4096 }, { MIB, want + MIB, 8192 } };
	make_file(path, *size, runs, 2);
	return want;
}

struct prog {
	uint64_t last_done, last_total;
	int calls;
};

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct prog *p = arg;
	p->last_done = done;
	p->last_total = total;
	p->calls++;
}

static void test_sparse_copy(void)
{
	uint64_t size;
	uint8_t *want = sparse_input(at_dir("sparse.in"), &size);
	int in = open(at_dir("sparse.in"), O_RDONLY);
	int out = open(at_dir("sparse.out"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	struct prog pr = { 0 };
	struct vf_copy_io io = { .in = in, .out = out, .in_path = "in", .out_path = "out",
				 .progress = on_progress, .progress_arg = &pr };
	uint64_t copied = 0;
	struct vf_error *err = vf_sparse_copy(&io, 0, size, 0, false, &copied);
	TAP_OK(!err, "sparse copy");
	TAP_EQ_U64(copied, 4096 + 8192, "only the data extents are copied");
	TAP_OK(pr.calls > 0 && pr.last_done == size && pr.last_total == size,
	       "progress ends at the whole range");
	TAP_OK(is_hole(out, 4096, MIB) && is_hole(out, MIB + 8192, size),
	       "the holes stay holes");
	size_t n;
	uint8_t *got = slurp(at_dir("sparse.out"), &n);
	TAP_OK(n == size && memcmp(got, want, size) == 0, "the bytes are the input's");
	free(got);

	/* the data moved by whole blocks, from the second block on, as -o does
	 * for an ELF dump whose header region grows */
	uint64_t from = 4096, shift = 3 * 4096;
	TAP_OK(ftruncate(out, 0) == 0, "output emptied");
	err = vf_sparse_copy(&io, from, size, shift, false, &copied);
	got = slurp(at_dir("sparse.out"), &n);
	uint8_t *zero = calloc(1, from + shift);
	TAP_OK(!err && n == size + shift, "shifted copy: the size grows by the shift");
	TAP_OK(n == size + shift && memcmp(got + from + shift, want + from, size - from) == 0 &&
	       memcmp(got, zero, from + shift) == 0,
	       "shifted copy: the input's bytes from `from` on, shift later; nothing before");
	TAP_OK(is_hole(out, MIB + 8192 + shift, size + shift) && is_hole(out, 0, MIB + shift),
	       "shifted copy: the holes moved with the data");
	TAP_EQ_U64(copied, 8192, "shifted copy: the data extent after `from` only");
	free(zero);
	free(got);
	free(want);
	close(in);
	close(out);
}

/* Output bytes: block k of the output (4 KiB) is zero when zero_block(k);
 * others have non-zero bytes at their first and last byte only. */
static bool zero_block(uint64_t k)
{
	return k % 3 == 1 || k == 255 || k == 256;  /* 255, 256: around the 1 MiB chunk */
}

static void test_zero_holes(void)
{
	const uint64_t shift = 100, blocks = 300, osize = blocks * VF_ZERO_BLOCK;
	uint8_t *want = calloc(1, osize);
	uint64_t nonzero = 0;
	for (uint64_t k = 0; k < blocks; k++) {
		if (zero_block(k))
			continue;
		if (k > 0)
			want[k * VF_ZERO_BLOCK] = 0x11;
		want[k * VF_ZERO_BLOCK + VF_ZERO_BLOCK - 1] = 0x22;
		nonzero += k > 0 ? VF_ZERO_BLOCK : VF_ZERO_BLOCK - shift;
	}
	/* the input holds the output's bytes from shift on, written densely:
	 * output block boundaries fall at odd offsets of the input */
	struct run r = { 0, want + shift, osize - shift };
	make_file(at_dir("z.in"), osize - shift, &r, 1);
	int in = open(at_dir("z.in"), O_RDONLY);
	int out = open(at_dir("z.out"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	struct vf_copy_io io = { .in = in, .out = out, .in_path = "in", .out_path = "out" };
	uint64_t copied = 0;
	struct vf_error *err = vf_sparse_copy(&io, 0, osize - shift, shift, true, &copied);
	size_t n;
	uint8_t *got = slurp(at_dir("z.out"), &n);
	TAP_OK(!err && n == osize && memcmp(got, want, osize) == 0,
	       "zero blocks to holes, shift 100: the bytes are the same");
	TAP_EQ_U64(copied, nonzero, "only the output blocks holding a non-zero byte are written");
	bool holes = true;
	for (uint64_t k = 0; k < blocks; k++)
		if (zero_block(k))
			holes &= is_hole(out, k * VF_ZERO_BLOCK, (k + 1) * VF_ZERO_BLOCK);
	TAP_OK(holes, "every all-zero output block is a hole (also across the 1 MiB chunks)");
	free(got);
	free(want);
	close(in);
	close(out);
}

/* ------------------------------------------------------------ clones */

static bool split_is(struct vf_clone_split sp, uint64_t head, uint64_t mid, uint64_t tail)
{
	return sp.head == head && sp.mid == mid && sp.tail == tail;
}

static void test_clone_split(void)
{
	const uint64_t B = 4096;
	TAP_OK(split_is(vf_clone_split(0, 5 * B, 0, B), 0, 5 * B, 0),
	       "clone split: an aligned range is all interior");
	TAP_OK(split_is(vf_clone_split(100, 10000, 2 * B, B), B - 100, B, 10000 - (B - 100) - B),
	       "clone split: head to the first boundary, whole blocks, the rest the tail");
	TAP_OK(split_is(vf_clone_split(B, 3 * B + 1, 7 * B, B), 0, 3 * B, 1),
	       "clone split: one byte past the last whole block is the tail");
	TAP_OK(split_is(vf_clone_split(100, 10000, 2 * B + 512, B), 10000, 0, 0),
	       "clone split: a shift that is not whole blocks clones nothing");
	TAP_OK(split_is(vf_clone_split(0, 5 * B, (uint64_t)0 - 2 * B, B), 0, 5 * B, 0),
	       "clone split: a \"negative\" shift of whole blocks clones");
	TAP_OK(split_is(vf_clone_split(0, 5 * B, (uint64_t)0 - 100, B), 5 * B, 0, 0),
	       "clone split: a \"negative\" shift of part of a block does not");
	TAP_OK(split_is(vf_clone_split(100, 2 * B, 0, B), B - 100, B, 100),
	       "clone split: two blocks' length across three blocks: one whole block");
	TAP_OK(split_is(vf_clone_split(100, B, 0, B), B, 0, 0),
	       "clone split: a range holding no whole block is all head");
	TAP_OK(split_is(vf_clone_split(4000, 96, 0, B), 96, 0, 0),
	       "clone split: a range ending on a boundary but starting past one: all head");
	TAP_OK(split_is(vf_clone_split(0, 0, 0, B), 0, 0, 0), "clone split: an empty range");
	TAP_OK(split_is(vf_clone_split(0, 5 * B, 0, 0), 5 * B, 0, 0) &&
	       split_is(vf_clone_split(0, 6000, 0, 3000), 6000, 0, 0),
	       "clone split: no block size, or one not a power of two: nothing cloned");
	TAP_OK(split_is(vf_clone_split(B, 4 * 65536, 65536, 65536), 65536 - B, 3 * 65536, B),
	       "clone split: 64 KiB blocks");
	uint64_t big = (uint64_t)1 << 62;
	TAP_OK(split_is(vf_clone_split(big + 1, 3 * B, B, B), B - 1, 2 * B, 1),
	       "clone split: offsets near 2^62");
	/* every small case: the parts add up, the interior is whole blocks
	 * starting on a boundary, the edges are shorter than a block, and the
	 * interior is as large as it can be */
	bool ok = true;
	for (uint64_t off = 0; off < 3 * 512; off += 37)
		for (uint64_t len = 0; len < 5 * 512; len += 41) {
			struct vf_clone_split sp = vf_clone_split(off, len, 1024, 512);
			uint64_t first = (off + 511) / 512 * 512, end = (off + len) / 512 * 512;
			uint64_t most = end > first ? end - first : 0;
			ok &= sp.head + sp.mid + sp.tail == len && sp.mid % 512 == 0 &&
			      (!sp.mid || ((off + sp.head) % 512 == 0 && sp.head < 512 &&
					   sp.tail < 512)) &&
			      sp.mid == most && (sp.mid || sp.head == len);
		}
	TAP_OK(ok, "clone split: every small range splits in parts that add up, the "
	       "interior the most whole blocks");
}

/* A sparse copy with zero holes and a shift of whole blocks (the case that
 * clones where the file system can) writes the same bytes whether clones are
 * tried or not; without them the zero blocks are holes.  (Where $TMPDIR
 * does not clone, both are the read/write copy: the first refused clone
 * sends the rest there; tests/bats/reflink.bats covers XFS and btrfs.) */
static void test_clone_copy(void)
{
	const uint64_t shift = 2 * VF_ZERO_BLOCK, blocks = 600, isize = blocks * VF_ZERO_BLOCK + 777;
	uint8_t *in_bytes = calloc(1, isize);
	for (uint64_t k = 0; k < blocks; k++)
		if (!zero_block(k))
			fill(in_bytes + k * VF_ZERO_BLOCK, VF_ZERO_BLOCK, (unsigned)k);
	fill(in_bytes + blocks * VF_ZERO_BLOCK, 777, 3);
	/* two extents: [0, 300 blocks + 100) and [400 blocks, end), the rest a hole */
	struct run r[2] = { { 0, in_bytes, 300 * VF_ZERO_BLOCK + 100 },
			    { 400 * VF_ZERO_BLOCK, in_bytes + 400 * VF_ZERO_BLOCK,
			      isize - 400 * VF_ZERO_BLOCK } };
	memset(in_bytes + 300 * VF_ZERO_BLOCK + 100, 0, 100 * VF_ZERO_BLOCK - 100);
	make_file(at_dir("c.in"), isize, r, 2);
	int in = open(at_dir("c.in"), O_RDONLY);
	uint8_t *got[2] = { NULL, NULL };
	size_t n[2] = { 0, 0 };
	uint64_t copied[2] = { 0, 0 };
	bool holes = true;
	for (int no_clone = 0; no_clone < 2; no_clone++) {
		const char *name = no_clone ? "c.plain" : "c.clone";
		int out = open(at_dir(name), O_RDWR | O_CREAT | O_TRUNC, 0644);
		struct vf_copy_io io = { .in = in, .out = out, .in_path = "c.in", .out_path = name,
					 .no_clone = no_clone };
		struct vf_error *err = vf_sparse_copy(&io, 100, isize, shift, true, &copied[no_clone]);
		TAP_OK(!err, "zero-holes copy shifted by whole blocks (clones %s)",
		       no_clone ? "off" : "tried");
		vf_error_destroy(err);
		got[no_clone] = slurp(at_dir(name), &n[no_clone]);
		if (no_clone)
			for (uint64_t k = 0; k < blocks; k++)
				if (zero_block(k) || (k > 300 && k < 400))
					holes &= is_hole(out, k * VF_ZERO_BLOCK + shift,
							 (k + 1) * VF_ZERO_BLOCK + shift);
		close(out);
	}
	bool want = n[0] == isize + shift && memcmp(got[0] + shift + 100, in_bytes + 100,
						    isize - 100) == 0 &&
		    got[0][shift + 99] == 0;
	TAP_OK(want, "clones tried: the input's bytes from 100 on, two blocks later");
	TAP_OK(n[0] == n[1] && memcmp(got[0], got[1], n[0]) == 0,
	       "clones tried or not: the same bytes");
	TAP_OK(holes, "clones off: every zero block and the input's hole are holes");
	TAP_OK(copied[0] >= copied[1] && copied[1] > 0,
	       "bytes copied: the non-zero blocks, and no fewer where blocks are cloned");
	free(got[0]);
	free(got[1]);
	free(in_bytes);
	close(in);
}

static void test_copy_range(void)
{
	uint8_t d[10000];
	fill(d, sizeof(d), 7);
	struct run r = { 0, d, sizeof(d) };
	make_file(at_dir("r.in"), sizeof(d), &r, 1);
	int in = open(at_dir("r.in"), O_RDONLY);
	int out = open(at_dir("r.out"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	struct vf_copy_io io = { .in = in, .out = out, .in_path = "r.in", .out_path = "r.out" };
	/* up: [1000, 5000) to 1777; down ("negative" shift): [6000, 7000) to 10 */
	struct vf_error *err = vf_copy_range(&io, 1000, 4000, 777);
	if (!err)
		err = vf_copy_plain(&io, 6000, 1000, (uint64_t)0 - 5990);
	size_t n;
	uint8_t *got = slurp(at_dir("r.out"), &n);
	TAP_OK(!err && n == 5777 && memcmp(got + 1777, d + 1000, 4000) == 0 &&
	       memcmp(got + 10, d + 6000, 1000) == 0,
	       "copy_file_range up and the read/write copy down land where the shift says");
	free(got);
	err = vf_copy_range(&io, 9000, 2000, 0);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && strstr(err->message, "shrank"),
	       "copy_file_range past the input's end: the input shrank");
	vf_error_destroy(err);
	err = vf_copy_plain(&io, 9000, 2000, 0);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && strstr(err->message, "shrank"),
	       "read/write copy past the input's end: the input shrank");
	vf_error_destroy(err);
	close(in);
	close(out);
}

/* ------------------------------------------------------------ vf_write_fixed */

/* A dump object over a plain or flattened file: what the writer needs of one. */
static struct vf_dump *fake_dump(const char *path)
{
	struct vf_dump *d = calloc(1, sizeof(*d));
	if (!d || vf_source_open(path, &d->src))
		abort();
	d->format = VF_FORMAT_KDUMP;
	return d;
}

static void fake_dump_free(struct vf_dump *d)
{
	vf_src_destroy(d->src);
	free(d);
}

/* Reassembled (logical) bytes of a file through the source layer. */
static uint8_t *logical(const char *path, size_t *n, bool *flat)
{
	struct vf_src *src;
	if (vf_source_open(path, &src))
		return NULL;
	*flat = src->kind == VF_SRC_FLATTENED;
	*n = (size_t)src->size;
	uint8_t *b = malloc(*n ? *n : 1);
	if (!b || vf_src_read(src, b, *n, 0, "all"))
		abort();
	vf_src_destroy(src);
	return b;
}

/* The input of the -o tests: 3 MiB, data at the start, 1 MiB + 5, the end. */
static uint8_t *o_input(const char *path, size_t *size)
{
	*size = 3 * MIB;
	uint8_t *b = calloc(1, *size + 64);
	fill(b, 6000, 3);
	fill(b + MIB + 5, 2 * MIB - 5, 4);
	struct run runs[] = { { 0, b, 6000 }, { MIB + 5, b + MIB + 5, 2 * MIB - 5 } };
	make_file(path, *size, runs, 2);
	return b;
}

static void test_flattened_out(void)
{
	size_t size;
	uint8_t *want = o_input(at_dir("o.in"), &size);
	uint8_t p1[300], p2[16];
	memset(p1, 0xa5, sizeof(p1));
	memset(p2, 0x5a, sizeof(p2));
	struct vf_patch pat[] = {
		{ .offset = 5900, .len = sizeof(p1), .bytes = p1 },   /* data and hole */
		{ .offset = size + 10, .len = sizeof(p2), .bytes = p2 }, /* past the end */
	};
	struct vf_plan plan = { pat, 2, 0, 0 };
	memcpy(want + 5900, p1, sizeof(p1));
	memcpy(want + size + 10, p2, sizeof(p2));
	size_t wsize = size + 10 + sizeof(p2);

	struct vf_dump *d = fake_dump(at_dir("o.in"));
	struct vf_write_stats st;
	struct vf_error *err = vf_write_fixed(d, &plan, at_dir("o.flat"), VF_OUT_FLATTENED, NULL,
					      &st);
	fake_dump_free(d);
	size_t n = 0;
	bool flat = false;
	uint8_t *got = err ? NULL : logical(at_dir("o.flat"), &n, &flat);
	TAP_OK(!err && flat && st.patches == 2, "plain to flattened, two patches");
	TAP_OK(got && n == wsize && memcmp(got, want, wsize) == 0,
	       "the flattened reader reads the patched input back (a patch past the end too)");
	free(got);

	/* flattened kept flattened: patches inside its records, and past its end */
	uint8_t p3[40];
	memset(p3, 0x3c, sizeof(p3));
	struct vf_patch pat2[] = { { .offset = MIB - 20, .len = sizeof(p3), .bytes = p3 },
				   { .offset = wsize + 100, .len = sizeof(p3), .bytes = p3 } };
	struct vf_plan plan2 = { pat2, 2, 0, 0 };
	memcpy(want + MIB - 20, p3, sizeof(p3));
	uint8_t *want2 = calloc(1, wsize + 140);
	memcpy(want2, want, wsize);
	memcpy(want2 + wsize + 100, p3, sizeof(p3));
	d = fake_dump(at_dir("o.flat"));
	err = vf_write_fixed(d, &plan2, at_dir("o.flat2"), VF_OUT_SAME, NULL, &st);
	fake_dump_free(d);
	got = err ? NULL : logical(at_dir("o.flat2"), &n, &flat);
	TAP_OK(got && flat && n == wsize + 140 && memcmp(got, want2, n) == 0,
	       "flattened to flattened: a patch over a record and a gap, one in a new record");
	free(got);

	/* and reassembled into the plain file */
	struct vf_plan none = { 0 };
	d = fake_dump(at_dir("o.flat2"));
	err = vf_write_fixed(d, &none, at_dir("o.raw"), VF_OUT_RAW, NULL, &st);
	fake_dump_free(d);
	got = err ? NULL : slurp(at_dir("o.raw"), &n);
	TAP_OK(got && n == wsize + 140 && memcmp(got, want2, n) == 0,
	       "flattened to raw: the plain file, as makedumpfile -R writes it");
	free(got);
	free(want2);
	free(want);
}

struct seen {
	char tmp[600];
	bool bytes_ok;
};

static struct vf_error *failing_verify(void *arg, const char *tmp_path)
{
	struct seen *s = arg;
	snprintf(s->tmp, sizeof(s->tmp), "%s", tmp_path);
	size_t n;
	uint8_t *b = slurp(tmp_path, &n);
	s->bytes_ok = b && n >= 8 && memcmp(b, "PATCHED!", 8) == 0;
	free(b);
	return vf_error_create(VF_ERR_REFUSED, "the read-back disagrees");
}

static struct vf_error *passing_verify(void *arg, const char *tmp_path)
{
	return NULL;
}

static void test_o_path(void)
{
	size_t size, n;
	uint8_t *in = o_input(at_dir("v.in"), &size);
	TAP_OK(chmod(at_dir("v.in"), 0640) == 0, "input mode 0640");
	struct run old = { 0, (const uint8_t *)"old target", 10 };
	make_file(at_dir("v.out"), 10, &old, 1);
	int before = dir_entries();
	struct vf_patch pat = { .offset = 0, .len = 8, .bytes = (uint8_t *)"PATCHED!" };
	struct vf_plan plan = { &pat, 1, 0, 0 };
	struct vf_dump *d = fake_dump(at_dir("v.in"));
	struct seen s = { "", false };
	struct vf_write_opts wo = { .verify = failing_verify, .verify_arg = &s };
	struct vf_write_stats st;

	struct vf_error *err = vf_write_fixed(d, &plan, at_dir("v.out"), VF_OUT_SAME, &wo, &st);
	TAP_OK(err && err->code == VF_ERR_REFUSED, "a failed verify is the error returned");
	vf_error_destroy(err);
	TAP_OK(s.bytes_ok && strncmp(s.tmp, at_dir(".v.out.vmcore-fix."), strlen(dir) + 18) == 0,
	       "verify saw the written file, beside the target (%s)", s.tmp);
	TAP_OK(access(s.tmp, F_OK) != 0 && dir_entries() == before,
	       "no temporary file is left");
	uint8_t *got = slurp(at_dir("v.out"), &n);
	TAP_OK(got && n == 10 && memcmp(got, "old target", 10) == 0, "the target is untouched");
	free(got);

	/* a step that fails before the verify: the same */
	struct vf_plan moving = { &pat, 1, 4096, 4096 };
	err = vf_write_fixed(d, &moving, at_dir("v.out"), VF_OUT_FLATTENED, &wo, &st);
	TAP_OK(err && err->code == VF_ERR_UNSUPPORTED && dir_entries() == before,
	       "an unsupported output: an error, no temporary file left");
	vf_error_destroy(err);
	got = slurp(at_dir("v.out"), &n);
	TAP_OK(got && n == 10 && memcmp(got, "old target", 10) == 0, "the target is untouched");
	free(got);

	err = vf_write_fixed(d, &plan, at_dir("v.in"), VF_OUT_SAME, NULL, &st);
	TAP_OK(err && err->code == VF_ERR_INVALID, "the input as the output is refused");
	vf_error_destroy(err);

	wo.verify = passing_verify;
	err = vf_write_fixed(d, &plan, at_dir("v.out"), VF_OUT_SAME, &wo, &st);
	struct stat sb;
	got = slurp(at_dir("v.out"), &n);
	memcpy(in, "PATCHED!", 8);
	TAP_OK(!err && got && n == size && memcmp(got, in, size) == 0 && st.patches == 1,
	       "verified: the target replaced by the patched copy");
	TAP_OK(stat(at_dir("v.out"), &sb) == 0 && (sb.st_mode & 07777) == 0640 &&
	       dir_entries() == before, "with the input's mode, nothing else left beside it");
	free(got);
	fake_dump_free(d);
	free(in);
}

/* --------------------------------------------------------------- in place */

static void test_in_place(void)
{
	size_t size, n;
	uint8_t *in = o_input(at_dir("ip"), &size);
	int before = dir_entries();
	struct vf_patch pat[] = { { .offset = 10, .len = 4, .bytes = (uint8_t *)"abcd" },
				  { .offset = size + 2, .len = 4, .bytes = (uint8_t *)"tail" } };
	struct vf_plan plan = { pat, 2, 0, 0 };
	struct vf_dump *d = fake_dump(at_dir("ip"));
	struct seen s = { "", false };
	struct vf_write_opts wo = { .verify = failing_verify, .verify_arg = &s };
	struct vf_write_stats st;
	struct vf_error *err = vf_write_in_place(d, &plan, &wo, &st);
	TAP_OK(err && err->code == VF_ERR_REFUSED && strstr(err->message, "old bytes were put back"),
	       "in place, a failed read-back: its error, the old bytes put back");
	vf_error_destroy(err);
	uint8_t *got = slurp(at_dir("ip"), &n);
	TAP_OK(got && n == size && memcmp(got, in, size) == 0 && dir_entries() == before &&
	       !vf_journal_exists(at_dir("ip")), "the file as it was (and its size), no journal");
	free(got);

	wo.verify = passing_verify;
	err = vf_write_in_place(d, &plan, &wo, &st);
	got = slurp(at_dir("ip"), &n);
	memcpy(in + 10, "abcd", 4);
	TAP_OK(!err && got && n == size + 6 && memcmp(got, in, size) == 0 &&
	       memcmp(got + size, "\0\0tail", 6) == 0 && st.patches == 2,
	       "in place, verified: the patches are in the file");
	TAP_OK(dir_entries() == before, "and its journal is gone");
	free(got);
	fake_dump_free(d);
	free(in);
}

int main(void)
{
	make_dir("test-writer");
	test_all_zero();
	test_patches();
	test_copy_range();
	test_sparse_copy();
	test_zero_holes();
	test_clone_split();
	test_clone_copy();
	test_flattened_out();
	test_o_path();
	test_in_place();
	remove_dir();
	TAP_OK(access(dir, F_OK) != 0, "the test's directory is removed");
	return tap_done();
}
