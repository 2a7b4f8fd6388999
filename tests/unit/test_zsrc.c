/* test_zsrc.c - a compressed stream inside a file served decompressed:
 * forward skips, reads within the window, restarts, the end learned lazily,
 * concatenated gzip members and zstd frames, truncated and damaged input. */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif

#include "source/src.h"
#include "tap.h"
#include "source/zsrc.h"

#define PREFIX 100u
#define DATA (3u << 20)   /* three windows */

/* Byte i of the data: compressible, but not a repeat of one window. */
static uint8_t data_at(uint64_t i)
{
	return (uint8_t)((i * 7) ^ (i >> 9) ^ (i >> 17));
}

static uint8_t *plain(void)
{
	uint8_t *d = malloc(DATA);
	if (!d)
		abort();
	for (uint64_t i = 0; i < DATA; i++)
		d[i] = data_at(i);
	return d;
}

/* Compress d[0..n) as `parts` gzip members or zstd frames; *out malloc'd. */
static size_t compress_parts(enum vf_zsrc_codec codec, const uint8_t *d, size_t n,
			     unsigned parts, uint8_t **out)
{
	size_t cap = n + n / 2 + 4096 * parts, len = 0;
	uint8_t *o = malloc(cap);
	if (!o)
		abort();
	for (unsigned k = 0; k < parts; k++) {
		size_t a = n / parts * k, b = k + 1 == parts ? n : n / parts * (k + 1);
		if (codec == VF_ZSRC_GZIP) {
#ifdef HAVE_ZLIB
			z_stream z = { 0 };
			if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
				abort();
			z.next_in = (Bytef *)(d + a);
			z.avail_in = (uInt)(b - a);
			z.next_out = o + len;
			z.avail_out = (uInt)(cap - len);
			if (deflate(&z, Z_FINISH) != Z_STREAM_END)
				abort();
			len = cap - z.avail_out;
			deflateEnd(&z);
#endif
		} else {
#ifdef HAVE_ZSTD
			size_t r = ZSTD_compress(o + len, cap - len, d + a, b - a, 3);
			if (ZSTD_isError(r))
				abort();
			len += r;
#endif
		}
	}
	*out = o;
	return len;
}

static char tmpl[] = "/tmp/test_zsrc.XXXXXX";

/* A file of PREFIX bytes 'H' then z[0..zn), opened as a zsrc. */
static struct vf_src *zsrc_of(enum vf_zsrc_codec codec, const uint8_t *z, size_t zn)
{
	char path[sizeof(tmpl)];
	memcpy(path, tmpl, sizeof(tmpl));
	int fd = mkstemp(path);
	uint8_t h[PREFIX];
	memset(h, 'H', sizeof(h));
	if (fd < 0 || write(fd, h, sizeof(h)) != (ssize_t)sizeof(h) ||
	    write(fd, z, zn) != (ssize_t)zn)
		abort();
	close(fd);
	struct vf_src *base, *src;
	if (vf_src_open_file(path, &base))
		abort();
	unlink(path);
	if (vf_zsrc_open(base, true, PREFIX, codec, &src))
		abort();
	return src;
}

static bool same(struct vf_src *src, const uint8_t *d, uint64_t off, size_t len)
{
	uint8_t *buf = malloc(len);
	size_t got;
	struct vf_error *err = vf_src_pread(src, buf, len, PREFIX + off, &got);
	bool ok = !err && got == len && memcmp(buf, d + off, len) == 0;
	vf_error_destroy(err);
	free(buf);
	return ok;
}

static uint64_t restarts(const struct vf_src *src)
{
	struct vf_zsrc_info zi;
	return vf_zsrc_info(src, &zi) ? zi.restarts : 999;
}

static void test_codec(enum vf_zsrc_codec codec, const uint8_t *d)
{
	const char *name = vf_zsrc_codec_name(codec);
	uint8_t *z;
	size_t zn = compress_parts(codec, d, DATA, 1, &z);
	struct vf_src *src = zsrc_of(codec, z, zn);
	TAP_OK(src->kind == VF_SRC_DECOMPRESSED && src->size == UINT64_MAX,
	       "%s: the size is unknown before the end", name);
	uint8_t h[8];
	size_t got;
	struct vf_error *err = vf_src_pread(src, h, 8, PREFIX - 4, &got);
	TAP_OK(!err && got == 8 && memcmp(h, "HHHH", 4) == 0 && h[4] == d[0] && h[7] == d[3],
	       "%s: the container's bytes, then the decompressed ones", name);
	TAP_OK(same(src, d, 2u << 20, 4096) && restarts(src) == 0,
	       "%s: a read 2 MiB ahead decompresses forward", name);
	TAP_OK(same(src, d, (2u << 20) - VF_ZSRC_KEEP + 4096, 8192) && restarts(src) == 0,
	       "%s: a read behind the position, within the window: no restart", name);
	TAP_OK(same(src, d, 1000, 100) && restarts(src) == 1,
	       "%s: a read far behind: one restart", name);
	TAP_OK(same(src, d, 0, DATA) && restarts(src) == 1,
	       "%s: a read of everything, longer than the window", name);
	uint8_t tail[64];
	err = vf_src_pread(src, tail, sizeof(tail), PREFIX + DATA - 10, &got);
	TAP_OK(!err && got == 10 && tail[9] == d[DATA - 1], "%s: a read across the end is short",
	       name);
	TAP_EQ_U64(src->size, PREFIX + DATA, "%s: the size is known once a read met the end",
		   name);
	err = vf_src_pread(src, tail, sizeof(tail), PREFIX + DATA + 5, &got);
	TAP_OK(!err && got == 0 && restarts(src) == 1, "%s: a read past the end is empty", name);
	vf_src_destroy(src);

	/* reads that keep going back: at most VF_ZSRC_MAX_RESTARTS restarts, then
	 * a clear error (each would decompress the stream again) */
	src = zsrc_of(codec, z, zn);
	bool ok = true;
	for (unsigned k = 0; k < VF_ZSRC_MAX_RESTARTS && ok; k++)
		ok = same(src, d, 2u << 20, 16) && same(src, d, 100, 16);
	TAP_OK(ok && restarts(src) == VF_ZSRC_MAX_RESTARTS, "%s: %u reads far behind: %u restarts",
	       name, VF_ZSRC_MAX_RESTARTS, VF_ZSRC_MAX_RESTARTS);
	TAP_OK(same(src, d, (2u << 20) + 100, 16), "%s: reads forward still work", name);
	uint8_t b16[16];
	err = vf_src_pread(src, b16, sizeof(b16), PREFIX + 100, &got);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && strstr(err->message, "more than 16 times") &&
	       err->hint && strstr(err->hint, "decompress it first") &&
	       restarts(src) == VF_ZSRC_MAX_RESTARTS,
	       "%s: one more read far behind: refused, saying to decompress first", name);
	vf_error_destroy(err);
	vf_src_destroy(src);

	/* a fresh source learns its size by finishing */
	src = zsrc_of(codec, z, zn);
	uint64_t size = 0;
	err = vf_zsrc_finish(src, &size);
	TAP_OK(!err && size == PREFIX + DATA && src->size == size, "%s: finish learns the size",
	       name);
	vf_error_destroy(err);
	vf_src_destroy(src);

	/* truncated: the file ends inside the compressed stream */
	src = zsrc_of(codec, z, zn / 2);
	err = vf_zsrc_finish(src, &size);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->has_offset &&
	       err->offset == PREFIX + zn / 2 && strstr(err->message, "truncated") &&
	       strstr(err->message, name), "%s: truncated: corrupt at the file's end (%s)", name,
	       err ? err->message : "no error");
	vf_error_destroy(err);
	vf_src_destroy(src);

	/* damaged: bytes in the middle overwritten */
	uint8_t *bad = malloc(zn);
	memcpy(bad, z, zn);
	memset(bad + zn / 3, 0xff, 64);
	src = zsrc_of(codec, bad, zn);
	err = vf_zsrc_finish(src, &size);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->has_offset && err->offset >= PREFIX &&
	       err->offset <= PREFIX + zn, "%s: damaged: corrupt, at a file offset (%s)", name,
	       err ? err->message : "no error");
	vf_error_destroy(err);
	vf_src_destroy(src);
	free(bad);
	free(z);

	/* three members (gzip) or frames (zstd): one stream */
	zn = compress_parts(codec, d, DATA, 3, &z);
	src = zsrc_of(codec, z, zn);
	TAP_OK(same(src, d, DATA / 3 - 50, 100) && same(src, d, 2 * (DATA / 3) - 50, 100) &&
	       same(src, d, DATA - 100, 100) && !vf_zsrc_finish(src, &size) &&
	       size == PREFIX + DATA,
	       "%s: concatenated %s read across their boundaries", name,
	       codec == VF_ZSRC_GZIP ? "members" : "frames");
	vf_src_destroy(src);

	/* empty payload: truncated */
	src = zsrc_of(codec, z, 0);
	err = vf_zsrc_finish(src, &size);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->offset == PREFIX,
	       "%s: no compressed bytes at all: truncated at the start", name);
	vf_error_destroy(err);
	vf_src_destroy(src);
	free(z);
}

int main(void)
{
	uint8_t *d = plain();
#ifdef HAVE_ZLIB
	TAP_OK(vf_zsrc_available(VF_ZSRC_GZIP), "gzip is available with zlib");
	test_codec(VF_ZSRC_GZIP, d);
#else
	TAP_OK(!vf_zsrc_available(VF_ZSRC_GZIP), "gzip is not available without zlib");
#endif
#ifdef HAVE_ZSTD
	TAP_OK(vf_zsrc_available(VF_ZSRC_ZSTD), "zstd is available with libzstd");
	test_codec(VF_ZSRC_ZSTD, d);
#else
	TAP_OK(!vf_zsrc_available(VF_ZSRC_ZSTD), "zstd is not available without libzstd");
#endif
	free(d);
	return tap_done();
}
