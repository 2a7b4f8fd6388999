/* test_stream.c - standard input spooled (source/spool.h), and -o -'s
 * pass-through of a flattened kdump's records (fix/stream.h): the records
 * go out as they are whatever the pieces they come in, the end marker and
 * what follows it do not, nothing goes out for a stream that is not a
 * flattened kdump, and a stream cut inside a record is filled out before
 * the poison record. */
#include "config.h"

#include <sys/wait.h>

#include "fix/stream.h"
#include "source/spool.h"
#include "util/cursor.h"
#include "tap.h"
#include "tmpfiles.h"

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = 2 * (b->n + n);
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void put_head(struct buf *b, uint64_t off, uint64_t size)
{
	uint8_t rh[16];
	vf_store_uint(rh, 8, true, off);
	vf_store_uint(rh + 8, 8, true, size);
	put(b, rh, 16);
}

static void put_record(struct buf *b, uint64_t off, size_t size, uint8_t fill,
		       const char *start)
{
	put_head(b, off, size);
	uint8_t *d = malloc(size);
	memset(d, fill, size);
	if (start)
		memcpy(d, start, strlen(start));
	put(b, d, size);
	free(d);
}

/* A flattened stream whose first record starts with `first`; *marker is
 * where its end marker is. */
static struct buf stream_of(const char *first, uint64_t first_off, size_t *marker)
{
	struct buf b = { 0 };
	uint8_t hdr[4096] = { 0 };
	memcpy(hdr, "makedumpfile", 12);
	vf_store_uint(hdr + 16, 8, true, 1);
	vf_store_uint(hdr + 24, 8, true, 1);
	put(&b, hdr, sizeof(hdr));
	put_record(&b, first_off, 4096, 0x11, first);
	put_record(&b, 8192, 100, 0x22, NULL);
	put_record(&b, 4096, 3, 0x33, NULL);
	put_record(&b, 1 << 20, 70000, 0x44, NULL);
	*marker = b.n;
	put_head(&b, UINT64_MAX, UINT64_MAX);
	put(&b, "trailer", 7);
	return b;
}

/* What the tap sends for s fed in pieces of `piece` bytes (the first
 * `len` bytes of it), read back from the file it wrote. */
static struct buf tapped(const struct buf *in, size_t len, size_t piece, struct vf_stream *s,
			 bool abort_after)
{
	int fd = open(at_dir("out"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	struct vf_error *err = vf_stream_init(s, fd, "test output");
	for (size_t o = 0; !err && o < len; o += piece)
		err = vf_stream_tap(s, in->p + o, len - o < piece ? len - o : piece);
	TAP_OK(!err, "the tap takes pieces of %zu bytes", piece);
	if (abort_after)
		vf_stream_abort(s);
	struct buf out = { 0 };
	off_t size = lseek(fd, 0, SEEK_END);
	out.p = malloc(size ? (size_t)size : 1);
	out.n = (size_t)size;
	if (pread(fd, out.p, out.n, 0) != (ssize_t)out.n)
		abort();
	close(fd);
	return out;
}

static void test_pass_through(void)
{
	size_t marker;
	struct buf in = stream_of("KDUMP   ", 0, &marker);
	static const size_t pieces[] = { 1, 7, 16, 4096, 4097, 1 << 20 };
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		struct vf_stream s;
		struct buf out = tapped(&in, in.n, pieces[i], &s, false);
		TAP_OK(s.pass, "a flattened kdump is passed through (pieces of %zu)", pieces[i]);
		TAP_EQ_U64(out.n, marker, "everything before the end marker went out, nothing after");
		TAP_OK(out.n == marker && memcmp(out.p, in.p, marker) == 0,
		       "the records went out as they came (pieces of %zu)", pieces[i]);
		TAP_EQ_U64(s.written, marker, "written counts them");
		free(out.p);
	}
	free(in.p);
}

/* A kdump header (little-endian, 64-bit layout): version 6, 4 KiB blocks,
 * one sub-header block, two bitmap blocks: what the fix may patch ends at
 * 16 KiB. */
static void test_hold(void)
{
	size_t marker;
	struct buf in = stream_of("KDUMP   ", 0, &marker);
	uint8_t *h = in.p + 4096 + 16;
	vf_store_uint(h + 8, 4, false, 6);
	vf_store_uint(h + 0x1ac, 4, false, 4096);
	vf_store_uint(h + 0x1b0, 4, false, 1);
	vf_store_uint(h + 0x1b4, 4, false, 2);
	static const size_t pieces[] = { 1, 100, 5000, 1 << 20 };
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		struct vf_stream s;
		struct buf out = tapped(&in, in.n, pieces[i], &s, false);
		TAP_EQ_U64(s.hold_below, 16384, "the header says what the fix may patch ends at 16 KiB");
		/* records at 0, 8192 and 4096 are held; the one at 1 MiB goes out */
		size_t last = marker - (16 + 70000);
		TAP_OK(out.n == 4096 + 16 + 70000 && memcmp(out.p, in.p, 4096) == 0 &&
		       memcmp(out.p + 4096, in.p + last, 16 + 70000) == 0,
		       "the header's records wait, the others go out (pieces of %zu)", pieces[i]);
		TAP_EQ_U64(s.pos, marker, "the parse reached the end marker");
		TAP_OK(s.held_any && s.first_held == 4096, "the first held record is the first record");
		free(out.p);
	}
	free(in.p);
}

static void test_not_passed(void)
{
	size_t marker;
	struct buf elf = stream_of("\177ELF", 0, &marker);
	struct vf_stream s;
	struct buf out = tapped(&elf, elf.n, 1000, &s, true);
	TAP_OK(!s.pass && out.n == 0, "a flattened ELF dump is not passed through: nothing went out");
	free(out.p);
	free(elf.p);
	struct buf later = stream_of("KDUMP   ", 4096, &marker);
	out = tapped(&later, later.n, 1000, &s, true);
	TAP_OK(!s.pass && out.n == 0, "nor a stream whose first record is not the kdump header");
	free(out.p);
	free(later.p);
	struct buf tiny = stream_of("KDUMP   ", 0, &marker);
	out = tapped(&tiny, 4100, 1000, &s, true);
	TAP_OK(!s.pass && !s.decided && out.n == 0, "nor one that ends before its first record's start");
	free(out.p);
	free(tiny.p);
}

static void test_bad_record_stops(void)
{
	size_t marker;
	struct buf in = stream_of("KDUMP   ", 0, &marker);
	/* the second record's header made an empty record: no reader takes it */
	size_t second = 4096 + 16 + 4096;
	vf_store_uint(in.p + second + 8, 8, true, 0);
	struct vf_stream s;
	struct buf out = tapped(&in, in.n, 333, &s, false);
	TAP_EQ_U64(out.n, second, "a record header no reader takes stops the pass-through before it");
	free(out.p);
	free(in.p);
}

static void test_abort(void)
{
	size_t marker;
	struct buf in = stream_of("KDUMP   ", 0, &marker);
	/* cut 40 bytes into the second record's 100 */
	size_t second = 4096 + 16 + 4096;
	struct vf_stream s;
	struct buf out = tapped(&in, second + 16 + 40, 500, &s, true);
	TAP_EQ_U64(out.n, second + 16 + 100 + 32, "cut inside a record: filled out, then two record headers");
	bool zeros = out.n == second + 148;
	for (size_t i = second + 16 + 40; zeros && i < second + 116; i++)
		zeros = out.p[i] == 0;
	TAP_OK(zeros, "the rest of the record cut short is zeros");
	bool poison = out.n >= 32;
	for (size_t i = 0; poison && i < 4; i++)
		poison = vf_load_uint(out.p + out.n - 32 + 8 * i, 8, true) == UINT64_MAX - 1;
	TAP_OK(poison, "the stream ends with the poison record (-2, -2), twice");
	free(out.p);
	/* nothing went out: abort writes nothing */
	out = tapped(&in, 100, 100, &s, true);
	TAP_EQ_U64(out.n, 0, "abort before anything went out writes nothing");
	free(out.p);
	free(in.p);
}

struct count {
	uint64_t bytes, calls;
};

static struct vf_error *count_tap(void *arg, const uint8_t *buf, size_t len)
{
	struct count *c = arg;
	(void)buf;
	c->bytes += len;
	c->calls++;
	return NULL;
}

static void test_spool(void)
{
	enum { SIZE = 3 << 20 | 123 };
	int pfd[2];
	if (pipe(pfd) < 0)
		abort();
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		uint8_t b[4096];
		for (size_t o = 0; o < SIZE; o += sizeof(b)) {
			for (size_t i = 0; i < sizeof(b); i++)
				b[i] = (uint8_t)((o + i) * 7);
			size_t n = SIZE - o < sizeof(b) ? SIZE - o : sizeof(b);
			if (write(pfd[1], b, n) != (ssize_t)n)
				_exit(1);
		}
		_exit(0);
	}
	close(pfd[1]);
	struct count c = { 0 };
	int fd;
	uint64_t size;
	struct vf_error *err = vf_spool(pfd[0], "the pipe", dir, count_tap, &c, &fd, &size);
	close(pfd[0]);
	waitpid(pid, NULL, 0);
	TAP_OK(!err, "a pipe is spooled");
	TAP_EQ_U64(size, SIZE, "all of it");
	TAP_EQ_U64(c.bytes, SIZE, "the tap saw every byte");
	bool same = !err;
	uint8_t b[4096];
	for (size_t o = 0; same && o < SIZE; o += sizeof(b)) {
		size_t n = SIZE - o < sizeof(b) ? SIZE - o : sizeof(b);
		same = pread(fd, b, n, (off_t)o) == (ssize_t)n;
		for (size_t i = 0; same && i < n; i++)
			same = b[i] == (uint8_t)((o + i) * 7);
	}
	TAP_OK(same, "the spool holds the stream's bytes");
	DIR *d = opendir(dir);
	size_t names = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		names += strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
			 strcmp(e->d_name, "out");
	if (d)
		closedir(d);
	TAP_EQ_U64(names, 0, "the spool has no name in its directory");
	if (fd >= 0)
		close(fd);
	int empty[2];
	if (pipe(empty) < 0)
		abort();
	close(empty[1]);
	err = vf_spool(empty[0], "the pipe", at_dir("missing"), NULL, NULL, &fd, &size);
	TAP_OK(err && err->code == VF_ERR_OS && fd == -1, "a spool directory that is not there is an error");
	char *s = err ? vf_error_string(err) : NULL;
	TAP_OK(s && strstr(s, "missing") && strstr(s, "spool"), "which names it: %s", s ? s : "");
	free(s);
	vf_error_destroy(err);
	close(empty[0]);
}

int main(void)
{
	(void)slurp;
	make_dir("stream");
	test_pass_through();
	test_hold();
	test_not_passed();
	test_bad_record_stops();
	test_abort();
	test_spool();
	remove_dir();
	return tap_done();
}
