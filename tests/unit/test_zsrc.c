/* test_zsrc.c - a compressed stream inside a file served decompressed, in
 * each codec (gzip, zstd, xz, bzip2, lzop): forward skips, reads within the
 * window, restarts, the end learned lazily, concatenated members, frames,
 * streams and files, truncated and damaged input; the probes by magic; the
 * lzop container's malformed headers and checksums. */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source/src.h"
#include "tap.h"
#include "packers.h"
#include "source/zsrc.h"

#define tap_diag(...) (printf("# "), printf(__VA_ARGS__), printf("\n"))

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

static size_t compress_parts(enum vf_zsrc_codec codec, const uint8_t *d, size_t n,
			     unsigned parts, uint8_t **out)
{
	size_t len = pack_parts(codec, d, n, parts, out);
	if (!len)
		abort();
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
	/* the decoder never goes on from where it failed: the error again */
	uint8_t b2[16];
	struct vf_error *again = vf_src_pread(src, b2, sizeof(b2), PREFIX + DATA - 16, &got);
	TAP_OK(err && again && again->code == err->code && again->offset == err->offset &&
	       strcmp(again->message, err->message) == 0,
	       "%s: damaged: a later read gets the same error, never bytes", name);
	vf_error_destroy(again);
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
	       codec == VF_ZSRC_GZIP ? "members" : codec == VF_ZSRC_ZSTD ? "frames" :
	       codec == VF_ZSRC_LZOP ? "files" : "streams");
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

static void test_probe(void)
{
	static const struct {
		const char *bytes;
		size_t n;
		int codec;   /* -1: none */
		const char *what;
	} cases[] = {
		{ "\x1f\x8b\x08\x00", 4, VF_ZSRC_GZIP, "gzip 1f 8b 08" },
		{ "\x1f\x8b\x07\x00", 4, -1, "gzip magic with a method other than deflate" },
		{ "\x1f\x8b", 2, -1, "gzip magic cut at 2 bytes" },
		{ "\x28\xb5\x2f\xfd\x04", 5, VF_ZSRC_ZSTD, "zstd 28 b5 2f fd" },
		{ "\x28\xb5\x2f", 3, -1, "zstd magic cut short" },
		{ "\xfd\x37\x7a\x58\x5a\x00\x00", 7, VF_ZSRC_XZ, "xz fd 37 7a 58 5a 00" },
		{ "\xfd\x37\x7a\x58\x5a\x01", 6, -1, "xz magic with a wrong sixth byte" },
		{ "BZh9\x31\x41", 6, VF_ZSRC_BZIP2, "bzip2 BZh9" },
		{ "BZh1", 4, VF_ZSRC_BZIP2, "bzip2 BZh1" },
		{ "BZh0", 4, -1, "bzip2 with block size 0" },
		{ "BZh", 3, -1, "bzip2 magic without a block size" },
		{ "\x89LZO\x00\x0d\x0a\x1a\x0a\x10", 10, VF_ZSRC_LZOP, "lzop's 9 bytes" },
		{ "\x89LZO\x00\x0d\x0a\x1a\x0b", 9, -1, "lzop's magic with a wrong last byte" },
		{ "\x89LZO\x00\x0d\x0a\x1a", 8, -1, "lzop's magic cut at 8 bytes" },
		{ "QEVM\x00\x00\x00\x03", 8, -1, "a bare QEMU stream" },
		{ "LibvirtQemudSave", 16, -1, "a libvirt image" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		enum vf_zsrc_codec c = VF_ZSRC_NCODECS;
		bool got = vf_zsrc_probe((const uint8_t *)cases[i].bytes, cases[i].n, &c);
		TAP_OK(cases[i].codec < 0 ? !got : got && (int)c == cases[i].codec,
		       "probe: %s: %s", cases[i].what, cases[i].codec < 0 ? "not compressed" :
		       vf_zsrc_codec_name((enum vf_zsrc_codec)cases[i].codec));
	}
	TAP_OK(VF_ZSRC_PROBE_LEN >= 9, "probe: VF_ZSRC_PROBE_LEN covers lzop's 9 bytes");
}

#ifdef HAVE_LZO
/* The error of decompressing a whole lzop file (or NULL), its size in *size. */
static struct vf_error *lzop_finish(const uint8_t *z, size_t zn, uint64_t *size)
{
	struct vf_src *src = zsrc_of(VF_ZSRC_LZOP, z, zn);
	struct vf_error *err = vf_zsrc_finish(src, size);
	vf_src_destroy(src);
	return err;
}

static bool corrupt_with(struct vf_error *err, const char *msg)
{
	bool ok = err && err->code == VF_ERR_CORRUPT && err->has_offset &&
		  strstr(err->message, msg) && err->hint && strstr(err->hint, "lzop -t");
	if (!ok)
		tap_diag("got: %s", err ? err->message : "no error");
	vf_error_destroy(err);
	return ok;
}

/* lzop's container: every checksum the flags name, headers malformed. */
static void test_lzop(const uint8_t *d)
{
	size_t n = 600000, cap = n + n / 2 + 4096;
	uint8_t *z = malloc(cap);
	uint64_t size;
	static const struct { uint32_t flags; const char *what; } kinds[] = {
		{ 0, "no checksums" },
		{ LZOPF_ADLER32_D, "adler32 of the data (lzop's default)" },
		{ LZOPF_ADLER32_D | LZOPF_ADLER32_C, "adler32 of both (lzop -C)" },
		{ LZOPF_CRC32_D | LZOPF_CRC32_C | LZOPF_H_CRC32, "CRC-32 of both and the header (lzop --crc32 -C)" },
		{ LZOPF_ADLER32_D | LZOPF_CRC32_D | LZOPF_ADLER32_C | LZOPF_CRC32_C, "all four" },
	};
	for (size_t k = 0; k < sizeof(kinds) / sizeof(*kinds); k++) {
		size_t zn = lzop_pack(d, n, kinds[k].flags, 256u << 10, z, cap);
		struct vf_error *err = lzop_finish(z, zn, &size);
		TAP_OK(!err && size == PREFIX + n, "lzop, %s: read whole", kinds[k].what);
		vf_error_destroy(err);
	}
	/* a block stored as it is (incompressible data): no compressed checksum */
	uint8_t *rnd = malloc(70000);
	uint32_t x = 12345;
	for (size_t i = 0; i < 70000; i++) {
		x = x * 1103515245u + 12345u;
		rnd[i] = (uint8_t)(x >> 16);
	}
	size_t zn = lzop_pack(rnd, 70000, LZOPF_ADLER32_D | LZOPF_ADLER32_C | LZOPF_CRC32_C,
			      256u << 10, z, cap);
	struct vf_src *src = zsrc_of(VF_ZSRC_LZOP, z, zn);
	uint8_t *back = malloc(70000);
	struct vf_error *err = vf_src_read(src, back, 70000, PREFIX, "t");
	TAP_OK(!err && memcmp(back, rnd, 70000) == 0 && zn == 9 + 33 + 8 + 4 + 70000 + 4,
	       "lzop: a block stored as it is, with only its data's checksum");
	vf_error_destroy(err);
	vf_src_destroy(src);
	free(back);
	free(rnd);

	/* the data's checksum wrong: corrupt, at the block */
	zn = lzop_pack(d, n, LZOPF_ADLER32_D, 256u << 10, z, cap);
	size_t blk = 9 + 33;     /* the first block's header */
	z[blk + 8] ^= 0x01;
	err = lzop_finish(z, zn, &size);
	TAP_OK(err && err->offset == PREFIX + blk && corrupt_with(err, "adler32 of its uncompressed"),
	       "lzop: a block whose data's adler32 does not match: corrupt at the block");
	z[blk + 8] ^= 0x01;
	zn = lzop_pack(d, n, LZOPF_CRC32_D | LZOPF_CRC32_C, 256u << 10, z, cap);
	z[blk + 12] ^= 0x80;
	TAP_OK(corrupt_with(lzop_finish(z, zn, &size), "CRC-32 of its compressed"),
	       "lzop: a block whose compressed bytes' CRC-32 does not match: corrupt");
	zn = lzop_pack(d, n, LZOPF_ADLER32_D, 256u << 10, z, cap);
	z[blk + 12 + 100] ^= 0x55;   /* the compressed data */
	TAP_OK(corrupt_with(lzop_finish(z, zn, &size), "lzop"),
	       "lzop: a damaged compressed block: corrupt (decoder or checksum)");
	zn = lzop_pack(d, n, 0, 256u << 10, z, cap);
	z[9 + 10] ^= 0x01;           /* a header byte: the mode */
	TAP_OK(corrupt_with(lzop_finish(z, zn, &size), "lzop header's adler32"),
	       "lzop: a header whose adler32 does not match: corrupt");
	zn = lzop_pack(d, n, LZOPF_H_CRC32, 256u << 10, z, cap);
	z[9 + 12] ^= 0x01;
	TAP_OK(corrupt_with(lzop_finish(z, zn, &size), "lzop header's CRC-32"),
	       "lzop: a header whose CRC-32 does not match: corrupt");

	/* malformed headers and blocks */
	zn = lzop_pack(d, n, 0, 256u << 10, z, cap);
	uint8_t *y = malloc(zn);
	memcpy(y, z, zn);
	y[9] = 0x08;                 /* version 0x0840 */
	TAP_OK(corrupt_with(lzop_finish(y, zn, &size), "header version 0x0840"),
	       "lzop: a header version below 0x0900: corrupt");
	memcpy(y, z, zn);
	y[9 + 6] = 0x80;             /* method 128 (zlib) */
	err = lzop_finish(y, zn, &size);
	TAP_OK(err && err->code == VF_ERR_CORRUPT, "lzop: the method changed: the checksum "
	       "says so first");
	vf_error_destroy(err);
	/* every header length: truncated, at the file's end */
	bool all = true;
	for (size_t cut = 1; cut < 9 + 33 + 8 && all; cut++) {
		err = lzop_finish(z, cut, &size);
		all = err && err->code == VF_ERR_CORRUPT && err->offset == PREFIX + cut &&
		      strstr(err->message, "truncated") && strstr(err->message, "an lzop file");
		if (!all)
			tap_diag("cut %zu: %s", cut, err ? err->message : "no error");
		vf_error_destroy(err);
	}
	TAP_OK(all, "lzop: cut anywhere in the header or the first block's: truncated");
	/* a block claiming more than lzop's 64 MiB, or growing when compressed */
	memcpy(y, z, zn);
	pk_be(y + blk, 4, (64u << 20) + 1);
	TAP_OK(corrupt_with(lzop_finish(y, zn, &size), "at most 64 MiB"),
	       "lzop: a block above 64 MiB: corrupt, nothing allocated for it");
	memcpy(y, z, zn);
	pk_be(y + blk + 4, 4, (256u << 10) + 1);
	TAP_OK(corrupt_with(lzop_finish(y, zn, &size), "compressed into"),
	       "lzop: a block larger compressed than not: corrupt");
	memcpy(y, z, zn);
	pk_be(y + blk + 4, 4, 0);
	TAP_OK(corrupt_with(lzop_finish(y, zn, &size), "compressed into 0"),
	       "lzop: a block of no compressed bytes: corrupt");
	/* a method, flags this reader refuses: unsupported, with lzop -dc */
	static const struct { uint8_t method; uint32_t flags; const char *msg; } refused[] = {
		{ 128, 0, "lzop method 128" }, { 1, 0x0800, "filter" },
		{ 1, 0x0400, "multipart" }, { 1, 0x0040, "extra field" },
	};
	for (size_t k = 0; k < sizeof(refused) / sizeof(*refused); k++) {
		memcpy(y, z, zn);
		size_t hl = 29 + (refused[k].flags & 0x0800 ? 4 : 0);
		uint8_t h[80];
		memcpy(h, y + 9, 16);
		h[6] = refused[k].method;
		pk_be(h + 8, 4, refused[k].flags);
		size_t at = 12;
		if (refused[k].flags & 0x0800)
			pk_be(h + at, 4, 1), at += 4;
		memcpy(h + at, y + 9 + 12, 17);
		pk_be(h + hl, 4, lzo_adler32(1, h, hl));
		uint8_t *w = malloc(zn + 8);
		memcpy(w, y, 9);
		memcpy(w + 9, h, hl + 4);
		memcpy(w + 9 + hl + 4, z + 9 + 33, zn - 9 - 33);
		err = lzop_finish(w, 9 + hl + 4 + zn - 9 - 33, &size);
		TAP_OK(err && err->code == VF_ERR_UNSUPPORTED && strstr(err->message, refused[k].msg) &&
		       err->hint && strstr(err->hint, "lzop -dc"),
		       "lzop: %s: unsupported, with the command (%s)", refused[k].msg,
		       err ? err->message : "no error");
		vf_error_destroy(err);
		free(w);
	}
	/* an lzop file then bytes that are no lzop file: the end (as gzip's) */
	memcpy(y, z, zn);
	uint8_t *t = malloc(zn + 16);
	memcpy(t, z, zn);
	memset(t + zn, 0, 16);
	err = lzop_finish(t, zn + 16, &size);
	TAP_OK(!err && size == PREFIX + n, "lzop: zeros after the end marker are not read");
	vf_error_destroy(err);
	free(t);
	free(y);
	free(z);
}
#endif

int main(void)
{
	uint8_t *d = plain();
	test_probe();
	for (int c = 0; c < VF_ZSRC_NCODECS; c++) {
		enum vf_zsrc_codec codec = (enum vf_zsrc_codec)c;
		uint8_t *z;
		size_t zn = pack_parts(codec, d, 4096, 1, &z);
		free(z);
		TAP_OK(vf_zsrc_available(codec) == (zn != 0), "%s is %savailable (%s)",
		       vf_zsrc_codec_name(codec), zn ? "" : "not ", vf_zsrc_codec_library(codec));
		if (zn) {
			test_codec(codec, d);
		} else {
			/* not built: refused with the command that decompresses it */
			struct vf_src *base, *src = NULL;
			if (vf_src_open_file("/dev/null", &base))
				abort();
			struct vf_error *err = vf_zsrc_open(base, true, 0, codec, &src);
			TAP_OK(err && err->code == VF_ERR_UNSUPPORTED && err->hint &&
			       strstr(err->hint, vf_zsrc_codec_name(codec)) &&
			       strstr(err->hint, "-dc FILE"), "%s not built: unsupported, "
			       "the command in the hint", vf_zsrc_codec_name(codec));
			vf_error_destroy(err);
		}
	}
#ifdef HAVE_LZO
	test_lzop(d);
#endif
	free(d);
	return tap_done();
}
