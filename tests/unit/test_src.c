/* test_src.c - the plain-file source (source/src.c) and the opener that sees
 * through a flattened stream (source/open.c). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "source/open.h"
#include "source/src.h"
#include "util/cursor.h"
#include "tap.h"
#include "tmpfiles.h"

#define PLAIN_LEN 10000u

static uint8_t byte_at(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 8));
}

static void write_file(const char *path, const void *b, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f || (len && fwrite(b, 1, len, f) != len) || fclose(f))
		abort();
}

static int is_os(struct vf_error *err, int errnum, const char *path, const char *what)
{
	int ok = err && err->code == VF_ERR_OS && err->errnum == errnum && err->path &&
		 strcmp(err->path, path) == 0 && strstr(err->message, what);
	if (err && !ok)
		printf("#   code %d errno %d path %s: %s\n", err->code, err->errnum,
		       err->path ? err->path : "(none)", err->message);
	vf_error_destroy(err);
	return ok;
}

static void plain(void)
{
	static uint8_t data[PLAIN_LEN], buf[PLAIN_LEN];
	for (size_t i = 0; i < PLAIN_LEN; i++)
		data[i] = byte_at(i);
	const char *path = at_dir("plain");
	write_file(path, data, PLAIN_LEN);

	struct vf_src *src = NULL;
	struct vf_error *err = vf_src_open_file(path, &src);
	TAP_OK(!err && src, "a plain file opens");
	if (err)
		return;
	TAP_OK(src->kind == VF_SRC_FILE && src->size == PLAIN_LEN && src->file_size == PLAIN_LEN &&
	       src->fd >= 0 && strcmp(src->path, path) == 0, "kind, sizes, fd and path");
	err = vf_src_read(src, buf, PLAIN_LEN, 0, "all");
	TAP_OK(!err && memcmp(buf, data, PLAIN_LEN) == 0, "the whole file read exactly");
	err = vf_src_read(src, buf, 300, 4000, "middle");
	TAP_OK(!err && memcmp(buf, data + 4000, 300) == 0, "300 bytes at 4000");
	err = vf_src_read(src, buf, 1, PLAIN_LEN - 1, "last");
	TAP_OK(!err && buf[0] == data[PLAIN_LEN - 1], "the last byte");

	size_t got = 99;
	memset(buf, 0xee, 200);
	err = vf_src_pread(src, buf, 100, PLAIN_LEN - 10, &got);
	TAP_OK(!err && got == 10 && memcmp(buf, data + PLAIN_LEN - 10, 10) == 0 && buf[10] == 0xee,
	       "pread across the end: short, nothing written past it");
	err = vf_src_pread(src, buf, 100, PLAIN_LEN, &got);
	TAP_OK(!err && got == 0, "pread at the end: 0 bytes, no error");
	err = vf_src_pread(src, buf, 100, UINT64_MAX - 10, &got);
	TAP_OK(!err && got == 0, "pread far past the end: 0 bytes");
	got = 99;
	err = vf_src_pread(src, buf, 0, 0, &got);
	TAP_OK(!err && got == 0, "pread of 0 bytes");

	err = vf_src_read(src, buf, 100, PLAIN_LEN - 10, "the page header");
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->has_offset && !err->offset_is_paddr &&
	       err->offset == PLAIN_LEN - 10 && err->path && strcmp(err->path, path) == 0 &&
	       strstr(err->message, "the page header truncated (need 100 bytes, have 10)"),
	       "read across the end: truncated, naming what, sizes, offset and path (%s)",
	       err ? err->message : "no error");
	vf_error_destroy(err);
	err = vf_src_read(src, buf, 1, PLAIN_LEN, "x");
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->offset == PLAIN_LEN &&
	       strstr(err->message, "have 0"), "read at the end: truncated, have 0");
	vf_error_destroy(err);

	uint8_t *a = NULL;
	err = vf_src_read_alloc(src, 500, 9000, "notes", &a);
	TAP_OK(!err && a && memcmp(a, data + 9000, 500) == 0, "read_alloc: the bytes");
	free(a);
	a = NULL;
	err = vf_src_read_alloc(src, 2000, 9000, "notes", &a);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && strstr(err->message, "notes truncated") &&
	       a == NULL, "read_alloc past the end: truncated, no buffer");
	vf_error_destroy(err);

	/* the file grows after the open: the source keeps the size it opened */
	FILE *f = fopen(path, "ab");
	if (!f || fwrite(data, 1, 100, f) != 100 || fclose(f))
		abort();
	err = vf_src_pread(src, buf, 100, PLAIN_LEN - 10, &got);
	TAP_OK(!err && got == 10 && src->size == PLAIN_LEN,
	       "bytes appended after the open are not served");
	vf_src_destroy(src);
	write_file(path, data, PLAIN_LEN);

	/* vf_source_open: not flattened, the plain file */
	err = vf_source_open(path, &src);
	TAP_OK(!err && src->kind == VF_SRC_FILE && src->size == PLAIN_LEN,
	       "source_open of a plain file: the file itself");
	if (!err)
		vf_src_destroy(src);
	/* a file that starts like the signature but is not a flattened header */
	memcpy(data, "makedumpfilX", 12);
	write_file(at_dir("almost"), data, 64);
	err = vf_source_open(at_dir("almost"), &src);
	TAP_OK(!err && src->kind == VF_SRC_FILE && src->size == 64,
	       "source_open: one byte off the signature is a plain file");
	if (!err)
		vf_src_destroy(src);
	write_file(at_dir("empty"), "", 0);
	err = vf_source_open(at_dir("empty"), &src);
	TAP_OK(!err && src->kind == VF_SRC_FILE && src->size == 0, "source_open of an empty file");
	if (!err) {
		err = vf_src_pread(src, buf, 10, 0, &got);
		TAP_OK(!err && got == 0, "an empty file reads 0 bytes");
		vf_src_destroy(src);
	}
	write_file(at_dir("tiny"), "\x7f" "ELF", 4);
	err = vf_source_open(at_dir("tiny"), &src);
	TAP_OK(!err && src->kind == VF_SRC_FILE && src->size == 4,
	       "source_open of a file shorter than the probe");
	if (!err)
		vf_src_destroy(src);
}

static void refused(void)
{
	struct vf_src *src = NULL;
	TAP_OK(is_os(vf_src_open_file(dir, &src), EISDIR, dir, "directory"),
	       "a directory is refused: EISDIR, naming it");
	TAP_OK(is_os(vf_source_open(dir, &src), EISDIR, dir, "directory"),
	       "source_open of a directory: refused the same");
	TAP_OK(is_os(vf_src_open_file(at_dir("missing"), &src), ENOENT, at_dir("missing"),
		     "cannot open"), "a missing file: the OS error, ENOENT, with the path");
	TAP_OK(is_os(vf_source_open(at_dir("missing"), &src), ENOENT, at_dir("missing"),
		     "cannot open"), "source_open of a missing file: the same");
	struct vf_error *err = vf_src_from_fd(-1, "nofd", &src);
	TAP_OK(err && err->code == VF_ERR_OS && err->errnum == EBADF,
	       "from_fd of a bad descriptor: the OS error");
	vf_error_destroy(err);
	int fd = open(at_dir("plain"), O_RDONLY);
	err = vf_src_from_fd(fd, NULL, &src);
	TAP_OK(!err && strcmp(src->path, "(input)") == 0 && src->fd == fd &&
	       src->size == PLAIN_LEN, "from_fd without a path: named (input), owns the fd");
	if (!err)
		vf_src_destroy(src);
	TAP_OK(fcntl(fd, F_GETFD) < 0 && errno == EBADF, "destroy closed the fd");
}

/* A flattened stream built by hand (makedumpfile's layout, source/flat.h). */
static uint8_t fbuf[8192 + 4096];
static size_t flen;

static void f_header(void)
{
	memset(fbuf, 0, 4096);
	memcpy(fbuf, "makedumpfile", 12);
	vf_store_uint(fbuf + 16, 8, true, 1);  /* type */
	vf_store_uint(fbuf + 24, 8, true, 1);  /* version */
	flen = 4096;
}

static void f_record(uint64_t off, uint64_t size, const void *data)
{
	vf_store_uint(fbuf + flen, 8, true, off);
	vf_store_uint(fbuf + flen + 8, 8, true, size);
	flen += 16;
	if (data) {
		memcpy(fbuf + flen, data, (size_t)size);
		flen += (size_t)size;
	}
}

static void flattened(void)
{
	uint8_t a[16], b[100], want[8292];
	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)(0x10 + i);
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(0xa0 ^ i);
	f_header();
	f_record(8192, sizeof(b), b);      /* out of order: the end first */
	f_record(0, sizeof(a), a);
	f_record(4, 4, "WXYZ");            /* a later record overrides */
	f_record(UINT64_MAX, UINT64_MAX, NULL);
	const char *path = at_dir("flat");
	write_file(path, fbuf, flen);
	memset(want, 0, sizeof(want));
	memcpy(want, a, sizeof(a));
	memcpy(want + 4, "WXYZ", 4);
	memcpy(want + 8192, b, sizeof(b));

	struct vf_src *src = NULL;
	struct vf_error *err = vf_source_open(path, &src);
	TAP_OK(!err && src, "a flattened stream opens");
	if (err) {
		printf("#   %s\n", err->message);
		vf_error_destroy(err);
		return;
	}
	TAP_OK(src->kind == VF_SRC_FLATTENED && src->size == 8292 && src->file_size == flen &&
	       src->fd >= 0 && strcmp(src->path, path) == 0,
	       "flattened: kind, reassembled size (8192 + 100), the file's size and fd");
	uint8_t got_b[8292];
	memset(got_b, 0xee, sizeof(got_b));
	err = vf_src_read(src, got_b, sizeof(got_b), 0, "all");
	TAP_OK(!err && memcmp(got_b, want, sizeof(want)) == 0,
	       "flattened: the reassembled bytes, the override, zeros where no record wrote");
	err = vf_src_read(src, got_b, 8, 100, "gap");
	TAP_OK(!err && memcmp(got_b, "\0\0\0\0\0\0\0\0", 8) == 0, "flattened: a gap reads zeros");
	err = vf_src_read(src, got_b, 20, 8180, "span");
	TAP_OK(!err && memcmp(got_b, want + 8180, 20) == 0,
	       "flattened: a read across the end of a gap into a record");
	size_t got;
	err = vf_src_pread(src, got_b, 100, 8250, &got);
	TAP_OK(!err && got == 42 && memcmp(got_b, b + 58, 42) == 0,
	       "flattened: pread across the logical end is short");
	err = vf_src_read(src, got_b, 100, 8250, "the tail");
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->offset == 8250 && err->path &&
	       strcmp(err->path, path) == 0 && strstr(err->message, "the tail truncated"),
	       "flattened: read past the logical end: truncated, with the logical offset and path");
	vf_error_destroy(err);
	vf_src_destroy(src);

	/* the same stream without its end marker, then with a record cut short */
	flen -= 16;
	write_file(path, fbuf, flen);
	err = vf_source_open(path, &src);
	if (!err)
		vf_src_destroy(src);
	TAP_OK(err && err->path && strcmp(err->path, path) == 0,
	       "flattened without the end marker: refused, naming the file (%s)",
	       err ? err->message : "opened");
	vf_error_destroy(err);
	f_header();
	f_record(0, 1000, NULL);
	memset(fbuf + flen, 0x55, 10);
	flen += 10;
	write_file(path, fbuf, flen);
	err = vf_source_open(path, &src);
	if (!err)
		vf_src_destroy(src);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->path && strcmp(err->path, path) == 0,
	       "flattened, a record past the end of the file: corrupt, naming the file (%s)",
	       err ? err->message : "opened");
	vf_error_destroy(err);
}

int main(void)
{
	(void)slurp;
	make_dir("src");
	plain();
	refused();
	flattened();
	remove_dir();
	return tap_done();
}
