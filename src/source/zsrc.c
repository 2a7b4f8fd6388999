/* zsrc.c - a compressed stream inside a file, served decompressed (zsrc.h).
 *
 * The decoder writes into a window that always ends at its position: when
 * the window is full its last VF_ZSRC_KEEP bytes move to the front, so what
 * a reader skips is decompressed and dropped, and the bytes just behind the
 * position stay readable without a restart.
 */
#include "config.h"
#include "source/zsrc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef HAVE_ZSTD
#include <zstd.h>
#include <zstd_errors.h>
#endif
#ifdef HAVE_LZMA
#include <lzma.h>
#endif
#ifdef HAVE_BZIP2
#include <bzlib.h>
#endif
#ifdef HAVE_LZO
#include <lzo/lzo1x.h>
#endif

#include "util/cursor.h"

#define IN_BUF (128u << 10)

/* What is said of each codec: its name (and command), its library, the unit
 * a truncated stream ends inside. */
static const struct {
	const char *name, *library, *unit;
} codecs[VF_ZSRC_NCODECS] = {
	[VF_ZSRC_GZIP] = { "gzip", "zlib", "a gzip member" },
	[VF_ZSRC_ZSTD] = { "zstd", "libzstd", "a zstd frame" },
	[VF_ZSRC_XZ] = { "xz", "liblzma", "an xz stream" },
	[VF_ZSRC_BZIP2] = { "bzip2", "libbz2", "a bzip2 stream" },
	[VF_ZSRC_LZOP] = { "lzop", "lzo2", "an lzop file" },
};

/* lzop's container (our reading of lzop 1.04's format; big-endian):
 *   magic 89 4c 5a 4f 00 0d 0a 1a 0a
 *   u16 version, u16 library version, [u16 version needed: version >= 0x0940]
 *   u8 method, [u8 level: >= 0x0940], u32 flags, [u32 filter: F_H_FILTER],
 *   u32 mode, u32 mtime, [u32 mtime high: >= 0x0940], u8 name length, name,
 *   u32 checksum of the header from the version on (adler32; CRC-32 with
 *   F_H_CRC32)
 *   blocks: u32 uncompressed length (0: the end), u32 compressed length,
 *   [u32 adler32 / CRC-32 of the uncompressed bytes: F_ADLER32_D / F_CRC32_D],
 *   [the same of the compressed bytes, when they are fewer: F_ADLER32_C /
 *   F_CRC32_C], the bytes (as they are when not fewer). */
static const uint8_t lzop_magic[9] = { 0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a };
#define LZOP_ADLER32_D 0x0001u
#define LZOP_ADLER32_C 0x0002u
#define LZOP_H_EXTRA 0x0040u
#define LZOP_CRC32_D 0x0100u
#define LZOP_CRC32_C 0x0200u
#define LZOP_MULTIPART 0x0400u
#define LZOP_H_FILTER 0x0800u
#define LZOP_H_CRC32 0x1000u
#define LZOP_HEADER_MAX (9 + 2 + 2 + 2 + 1 + 1 + 4 + 4 + 4 + 4 + 4 + 1 + 255 + 4)

struct zpriv {
	struct vf_src *base;
	bool own;
	uint64_t start;
	enum vf_zsrc_codec codec;
	uint8_t *in;             /* compressed bytes in[in_pos..in_len) not yet consumed */
	size_t in_pos, in_len;
	uint64_t in_off;         /* file offset of the byte after in[in_len - 1] */
	uint8_t *win;            /* logical bytes [win_off, win_off + win_len) */
	size_t win_len;
	uint64_t win_off;
	bool started;            /* the decoder is set up */
	bool unit_done;          /* gzip: a member ended; zstd: a frame ended */
	bool eof;                /* the compressed stream ended; size known */
	uint64_t restarts, decompressed;
	/* the input's error, once the decoder met it: every later read past the
	 * position gets it again (the decoder's state is not one to go on from) */
	struct vf_error *failed;
	bool reset;              /* a failure of the machine: start over on the next read */
#ifdef HAVE_ZLIB
	z_stream z;
	bool z_init;
#endif
#ifdef HAVE_ZSTD
	ZSTD_DStream *zd;
#endif
#ifdef HAVE_LZMA
	lzma_stream xz;
	bool xz_init;
#endif
#ifdef HAVE_BZIP2
	bz_stream bz;
	bool bz_init;
#endif
	/* lzop: the file's flags; the block decompressed, blk[blk_pos..blk_len)
	 * not yet in the window; its compressed bytes */
	bool lz_in_file;         /* a header was read, its end marker not yet */
	uint32_t lz_flags;
	uint8_t *blk, *cblk;
	size_t blk_cap, cblk_cap, blk_len, blk_pos;
};

const char *vf_zsrc_codec_name(enum vf_zsrc_codec codec)
{
	return (unsigned)codec < VF_ZSRC_NCODECS ? codecs[codec].name : "?";
}

const char *vf_zsrc_codec_library(enum vf_zsrc_codec codec)
{
	return (unsigned)codec < VF_ZSRC_NCODECS ? codecs[codec].library : "?";
}

bool vf_zsrc_probe(const uint8_t *head, size_t len, enum vf_zsrc_codec *codec)
{
	static const uint8_t gz[] = { 0x1f, 0x8b, 0x08 }, zs[] = { 0x28, 0xb5, 0x2f, 0xfd },
			     xz[] = { 0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00 };
	if (len >= sizeof(gz) && memcmp(head, gz, sizeof(gz)) == 0)
		*codec = VF_ZSRC_GZIP;
	else if (len >= sizeof(zs) && memcmp(head, zs, sizeof(zs)) == 0)
		*codec = VF_ZSRC_ZSTD;
	else if (len >= sizeof(xz) && memcmp(head, xz, sizeof(xz)) == 0)
		*codec = VF_ZSRC_XZ;
	else if (len >= 4 && memcmp(head, "BZh", 3) == 0 && head[3] >= '1' && head[3] <= '9')
		*codec = VF_ZSRC_BZIP2;
	else if (len >= sizeof(lzop_magic) && memcmp(head, lzop_magic, sizeof(lzop_magic)) == 0)
		*codec = VF_ZSRC_LZOP;
	else
		return false;
	return true;
}

bool vf_zsrc_available(enum vf_zsrc_codec codec)
{
	switch (codec) {
	case VF_ZSRC_GZIP:
#ifdef HAVE_ZLIB
		return true;
#else
		return false;
#endif
	case VF_ZSRC_ZSTD:
#ifdef HAVE_ZSTD
		return true;
#else
		return false;
#endif
	case VF_ZSRC_XZ:
#ifdef HAVE_LZMA
		return true;
#else
		return false;
#endif
	case VF_ZSRC_BZIP2:
#ifdef HAVE_BZIP2
		return true;
#else
		return false;
#endif
	case VF_ZSRC_LZOP:
#ifdef HAVE_LZO
		return true;
#else
		return false;
#endif
	}
	return false;
}

static uint64_t dpos(const struct zpriv *p)
{
	return p->win_off + p->win_len;
}

/* File offset of the next compressed byte the decoder takes. */
static uint64_t cpos(const struct zpriv *p)
{
	return p->in_off - (p->in_len - p->in_pos);
}

/* "tail -c +N FILE | xz -dc" (the command that decompresses the stream), or
 * "xz -dc FILE" for a whole file; t: "-t" (test) for "-dc". */
static void undo_cmd(char *buf, size_t n, uint64_t start, enum vf_zsrc_codec codec, bool t)
{
	if (start)
		snprintf(buf, n, "tail -c +%" PRIu64 " FILE | %s %s", start + 1,
			 vf_zsrc_codec_name(codec), t ? "-t" : "-dc");
	else
		snprintf(buf, n, "%s %s FILE", vf_zsrc_codec_name(codec), t ? "-t" : "-dc");
}

static struct vf_error *damaged_at(struct vf_src *src, uint64_t off, const char *why)
{
	struct zpriv *p = src->priv;
	char cmd[64];
	struct vf_error *err = vf_error_at(VF_ERR_CORRUPT, off, "%s-compressed stream "
					   "(from offset %" PRIu64 ") is damaged here: %s; "
					   "decompressed up to offset 0x%" PRIx64,
					   vf_zsrc_codec_name(p->codec), p->start, why, dpos(p));
	err = vf_error_set_path(err, src->path);
	undo_cmd(cmd, sizeof(cmd), p->start, p->codec, true);
	return vf_error_set_hint(err, "the file was damaged after it was written; check it "
				 "with: %s", cmd);
}

static struct vf_error *damaged(struct vf_src *src, const char *why)
{
	return damaged_at(src, cpos(src->priv), why);
}

/* A stream too demanding for the limits here: decompress it outside. */
static struct vf_error *too_much(struct vf_src *src, const char *why)
{
	struct zpriv *p = src->priv;
	char cmd[64];
	struct vf_error *err = vf_error_at(VF_ERR_UNSUPPORTED, cpos(p), "%s-compressed stream "
					   "(from offset %" PRIu64 "): %s",
					   vf_zsrc_codec_name(p->codec), p->start, why);
	err = vf_error_set_path(err, src->path);
	undo_cmd(cmd, sizeof(cmd), p->start, p->codec, false);
	return vf_error_set_hint(err, "decompress it first: %s > STREAM, then give STREAM", cmd);
}

static struct vf_error *cut_short(struct vf_src *src)
{
	struct zpriv *p = src->priv;
	struct vf_error *err = vf_error_at(VF_ERR_CORRUPT, p->in_off, "truncated %s-compressed "
					   "stream (from offset %" PRIu64 "): the file ends at "
					   "offset %" PRIu64 " inside %s; decompressed up to "
					   "offset 0x%" PRIx64, vf_zsrc_codec_name(p->codec),
					   p->start, p->in_off, codecs[p->codec].unit, dpos(p));
	err = vf_error_set_path(err, src->path);
	return vf_error_set_hint(err, "the file was cut short (an interrupted save or copy); "
				 "the rest of the stream is not in it");
}

#ifdef HAVE_BZIP2
/* A new bzip2 decoder (libbz2 has no reset), for the stream's start and
 * for each stream concatenated after the first. */
static struct vf_error *bz_new(struct zpriv *p)
{
	if (p->bz_init)
		BZ2_bzDecompressEnd(&p->bz);
	p->bz_init = false;
	memset(&p->bz, 0, sizeof(p->bz));
	int r = BZ2_bzDecompressInit(&p->bz, 0, 0);
	if (r != BZ_OK)
		return r == BZ_MEM_ERROR ? &vf_error_nomem :
		       vf_error_create(VF_ERR_CORRUPT, "libbz2: decompress init: %d", r);
	p->bz_init = true;
	return NULL;
}
#endif

/* Set the decoder to the beginning of the compressed stream. */
static struct vf_error *restart(struct vf_src *src)
{
	struct zpriv *p = src->priv;
	if (p->started && p->restarts == VF_ZSRC_MAX_RESTARTS) {
		char cmd[64];
		struct vf_error *err = vf_error_at(VF_ERR_CORRUPT, p->start, "%s-compressed "
						   "stream: reads went back behind the decoder "
						   "more than %u times (each decompresses the "
						   "stream again from its start): limit",
						   vf_zsrc_codec_name(p->codec),
						   VF_ZSRC_MAX_RESTARTS);
		err = vf_error_set_path(err, src->path);
		undo_cmd(cmd, sizeof(cmd), p->start, p->codec, false);
		return vf_error_set_hint(err, "decompress it first: %s > STREAM, then give STREAM",
					 cmd);
	}
	if (p->started)
		p->restarts++;
	p->in_pos = p->in_len = 0;
	p->in_off = p->start;
	p->win_off = p->start;
	p->win_len = 0;
	p->unit_done = false;
	p->eof = false;
	switch (p->codec) {
	case VF_ZSRC_GZIP:
#ifdef HAVE_ZLIB
		if (p->z_init) {
			if (inflateReset(&p->z) != Z_OK)
				return vf_error_create(VF_ERR_CORRUPT, "zlib: inflateReset failed");
		} else {
			int r = inflateInit2(&p->z, 15 + 16);
			if (r != Z_OK)
				return r == Z_MEM_ERROR ? &vf_error_nomem :
				       vf_error_create(VF_ERR_CORRUPT, "zlib: inflateInit2: %d", r);
			p->z_init = true;
		}
#endif
		break;
	case VF_ZSRC_ZSTD:
#ifdef HAVE_ZSTD
		if (!p->zd && !(p->zd = ZSTD_createDStream()))
			return &vf_error_nomem;
		size_t r = ZSTD_DCtx_reset(p->zd, ZSTD_reset_session_only);
		if (ZSTD_isError(r))
			return vf_error_create(VF_ERR_CORRUPT, "zstd: reset: %s",
					       ZSTD_getErrorName(r));
#endif
		break;
	case VF_ZSRC_XZ:
#ifdef HAVE_LZMA
		/* liblzma has no reset: a new decoder (concatenated streams, as xz -dc) */
		if (p->xz_init)
			lzma_end(&p->xz);
		p->xz_init = false;
		p->xz = (lzma_stream)LZMA_STREAM_INIT;
		lzma_ret xr = lzma_stream_decoder(&p->xz, VF_ZSRC_XZ_MEMLIMIT, LZMA_CONCATENATED);
		if (xr != LZMA_OK)
			return xr == LZMA_MEM_ERROR ? &vf_error_nomem :
			       vf_error_create(VF_ERR_CORRUPT, "liblzma: stream decoder: %d",
					       (int)xr);
		p->xz_init = true;
#endif
		break;
	case VF_ZSRC_BZIP2:
#ifdef HAVE_BZIP2
		{
			struct vf_error *err = bz_new(p);
			if (err)
				return err;
		}
#endif
		break;
	case VF_ZSRC_LZOP:
		p->lz_in_file = false;
		p->blk_len = p->blk_pos = 0;
		break;
	}
	p->started = true;
	return NULL;
}

/* More compressed bytes; *none at the end of the file. */
static struct vf_error *refill(struct vf_src *src, bool *none)
{
	struct zpriv *p = src->priv;
	size_t got;
	*none = false;
	if (p->in_pos < p->in_len)
		return NULL;
	struct vf_error *err = vf_src_pread(p->base, p->in, IN_BUF, p->in_off, &got);
	if (err)
		return err;
	p->in_pos = 0;
	p->in_len = got;
	p->in_off += got;
	*none = got == 0;
	return NULL;
}

static void reached_end(struct vf_src *src)
{
	struct zpriv *p = src->priv;
	p->eof = true;
	src->size = dpos(p);
}

#ifdef HAVE_ZLIB
/* Decompress some gzip data into the window's free space. */
static struct vf_error *step_gzip(struct vf_src *src)
{
	struct zpriv *p = src->priv;
	for (;;) {
		bool none;
		struct vf_error *err = refill(src, &none);
		if (err)
			return err;
		if (none) {
			if (!p->unit_done)
				return cut_short(src);
			reached_end(src);
			return NULL;
		}
		if (p->unit_done) {
			/* concatenated members; anything else after the last is not ours */
			if (p->in[p->in_pos] != 0x1f) {
				reached_end(src);
				return NULL;
			}
			if (inflateReset(&p->z) != Z_OK)
				return vf_error_create(VF_ERR_CORRUPT, "zlib: inflateReset failed");
			p->unit_done = false;
		}
		p->z.next_in = p->in + p->in_pos;
		p->z.avail_in = (uInt)(p->in_len - p->in_pos);
		p->z.next_out = p->win + p->win_len;
		p->z.avail_out = (uInt)(VF_ZSRC_WINDOW - p->win_len);
		int r = inflate(&p->z, Z_NO_FLUSH);
		size_t used = (p->in_len - p->in_pos) - p->z.avail_in;
		size_t made = (VF_ZSRC_WINDOW - p->win_len) - p->z.avail_out;
		if (r == Z_MEM_ERROR)
			return &vf_error_nomem;
		if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
			return damaged(src, p->z.msg ? p->z.msg : "inflate failed");
		p->in_pos += used;
		p->win_len += made;
		p->decompressed += made;
		if (r == Z_STREAM_END)
			p->unit_done = true;
		if (made)
			return NULL;
	}
}
#endif

#ifdef HAVE_ZSTD
static struct vf_error *step_zstd(struct vf_src *src)
{
	struct zpriv *p = src->priv;
	for (;;) {
		bool none;
		struct vf_error *err = refill(src, &none);
		if (err)
			return err;
		if (none && p->unit_done) {
			reached_end(src);
			return NULL;
		}
		ZSTD_inBuffer in = { p->in, p->in_len, p->in_pos };
		ZSTD_outBuffer out = { p->win, VF_ZSRC_WINDOW, p->win_len };
		/* at the end of the file, one call drains what the decoder holds */
		size_t r = ZSTD_decompressStream(p->zd, &out, &in);
		if (ZSTD_isError(r)) {
			if (ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge) {
				err = damaged(src, ZSTD_getErrorName(r));
				return vf_error_set_hint(err, "the frame needs a window above "
							 "128 MiB (zstd --long); decompress it "
							 "first: tail -c +%" PRIu64 " FILE | zstd "
							 "-dc --long=31 > STREAM, then give "
							 "STREAM", p->start + 1);
			}
			return damaged(src, ZSTD_getErrorName(r));
		}
		size_t made = out.pos - p->win_len;
		p->in_pos = in.pos;
		p->win_len = out.pos;
		p->decompressed += made;
		p->unit_done = r == 0;
		if (made)
			return NULL;
		if (none) {
			if (!p->unit_done)
				return cut_short(src);
			reached_end(src);
			return NULL;
		}
	}
}
#endif

#ifdef HAVE_LZMA
static struct vf_error *step_xz(struct vf_src *src)
{
	struct zpriv *p = src->priv;
	for (;;) {
		bool none;
		struct vf_error *err = refill(src, &none);
		if (err)
			return err;
		p->xz.next_in = p->in + p->in_pos;
		p->xz.avail_in = p->in_len - p->in_pos;
		p->xz.next_out = p->win + p->win_len;
		p->xz.avail_out = VF_ZSRC_WINDOW - p->win_len;
		/* at the end of the file: finish (the last stream must be whole) */
		lzma_ret r = lzma_code(&p->xz, none ? LZMA_FINISH : LZMA_RUN);
		size_t used = (p->in_len - p->in_pos) - p->xz.avail_in;
		size_t made = (VF_ZSRC_WINDOW - p->win_len) - p->xz.avail_out;
		p->in_pos += used;
		p->win_len += made;
		p->decompressed += made;
		switch (r) {
		case LZMA_OK:
			break;
		case LZMA_STREAM_END:
			reached_end(src);
			return NULL;
		case LZMA_BUF_ERROR:
			return none ? cut_short(src) : damaged(src, "the decoder made no progress");
		case LZMA_MEM_ERROR:
			return &vf_error_nomem;
		case LZMA_MEMLIMIT_ERROR:
			return too_much(src, "decompressing it needs more than the 128 MiB of "
					"memory allowed (a dictionary larger than xz -9's)");
		case LZMA_FORMAT_ERROR:
			return damaged(src, "not in the xz format");
		case LZMA_OPTIONS_ERROR:
			return too_much(src, "a filter or option liblzma does not read");
		case LZMA_DATA_ERROR:
			return damaged(src, "corrupt data, or a check that does not match");
		default:
			return damaged(src, "liblzma failed");
		}
		if (made)
			return NULL;
		if (none && !used)
			return cut_short(src);
	}
}
#endif

#ifdef HAVE_BZIP2
static struct vf_error *step_bzip2(struct vf_src *src)
{
	struct zpriv *p = src->priv;
	for (;;) {
		bool none;
		struct vf_error *err = refill(src, &none);
		if (err)
			return err;
		if (p->unit_done) {
			/* concatenated streams; anything else after the last is not ours */
			if (none || p->in[p->in_pos] != 'B') {
				reached_end(src);
				return NULL;
			}
			if ((err = bz_new(p)))
				return err;
			p->unit_done = false;
		}
		p->bz.next_in = (char *)(p->in + p->in_pos);
		p->bz.avail_in = (unsigned)(p->in_len - p->in_pos);
		p->bz.next_out = (char *)(p->win + p->win_len);
		p->bz.avail_out = (unsigned)(VF_ZSRC_WINDOW - p->win_len);
		int r = BZ2_bzDecompress(&p->bz);
		size_t used = (p->in_len - p->in_pos) - p->bz.avail_in;
		size_t made = (VF_ZSRC_WINDOW - p->win_len) - p->bz.avail_out;
		p->in_pos += used;
		p->win_len += made;
		p->decompressed += made;
		switch (r) {
		case BZ_OK:
			break;
		case BZ_STREAM_END:
			p->unit_done = true;
			break;
		case BZ_MEM_ERROR:
			return &vf_error_nomem;
		case BZ_DATA_ERROR_MAGIC:
			return damaged(src, "not a bzip2 stream (no BZh magic)");
		case BZ_DATA_ERROR:
			return damaged(src, "corrupt data, or a block or stream CRC that does not "
				       "match");
		default:
			return damaged(src, "libbz2 failed");
		}
		if (made)
			return NULL;
		/* the end of the file with no more output: inside a stream, cut short */
		if (none && !p->unit_done)
			return cut_short(src);
	}
}
#endif

#ifdef HAVE_LZO
/* At least n (<= IN_BUF) compressed bytes at in[in_pos]; *ok false when the
 * file ends first. */
static struct vf_error *need(struct vf_src *src, size_t n, bool *ok)
{
	struct zpriv *p = src->priv;
	*ok = true;
	while (p->in_len - p->in_pos < n) {
		size_t have = p->in_len - p->in_pos, got;
		memmove(p->in, p->in + p->in_pos, have);
		p->in_pos = 0;
		p->in_len = have;
		struct vf_error *err = vf_src_pread(p->base, p->in + have, IN_BUF - have,
						    p->in_off, &got);
		if (err)
			return err;
		p->in_len += got;
		p->in_off += got;
		if (!got) {
			*ok = false;
			return NULL;
		}
	}
	return NULL;
}

/* The next n compressed bytes into dst; *ok false when the file ends first. */
static struct vf_error *take(struct vf_src *src, uint8_t *dst, size_t n, bool *ok)
{
	struct zpriv *p = src->priv;
	*ok = true;
	while (n) {
		bool none;
		struct vf_error *err = refill(src, &none);
		if (err)
			return err;
		if (none) {
			*ok = false;
			return NULL;
		}
		size_t k = p->in_len - p->in_pos < n ? p->in_len - p->in_pos : n;
		memcpy(dst, p->in + p->in_pos, k);
		p->in_pos += k;
		dst += k;
		n -= k;
	}
	return NULL;
}

static struct vf_error *grow(uint8_t **buf, size_t *cap, size_t n)
{
	if (*cap >= n)
		return NULL;
	uint8_t *b = realloc(*buf, n);
	if (!b)
		return &vf_error_nomem;
	*buf = b;
	*cap = n;
	return NULL;
}

/* An lzop file's header, at in[in_pos]: checked, its flags kept. */
static struct vf_error *lzop_header(struct vf_src *src)
{
	struct zpriv *p = src->priv;
	char why[160];
	bool ok;
	size_t n = sizeof(lzop_magic) + 4;
	struct vf_error *err = need(src, n, &ok);
	if (err || !ok)
		return err ? err : cut_short(src);
	const uint8_t *h = p->in + p->in_pos;
	if (memcmp(h, lzop_magic, sizeof(lzop_magic)) != 0)
		return damaged(src, "not an lzop file (no lzop magic)");
	unsigned version = (unsigned)vf_load_uint(h + 9, 2, true);
	if (version < 0x0900) {
		snprintf(why, sizeof(why), "lzop header version 0x%04x (0x0900 or later is lzop's)",
			 version);
		return damaged(src, why);
	}
	bool v94 = version >= 0x0940;
	n += v94 ? 2 : 0;          /* the version needed to extract */
	size_t method_at = n;
	n += v94 ? 2 : 1;          /* the method, the level */
	size_t flags_at = n;
	n += 4;
	if ((err = need(src, n, &ok)) || !ok)
		return err ? err : cut_short(src);
	h = p->in + p->in_pos;
	unsigned method = h[method_at];
	uint32_t flags = (uint32_t)vf_load_uint(h + flags_at, 4, true);
	n += (flags & LZOP_H_FILTER ? 4 : 0) + 4 + 4 + (v94 ? 4 : 0);  /* mode, mtime */
	size_t name_at = n++;
	if ((err = need(src, n, &ok)) || !ok)
		return err ? err : cut_short(src);
	n += p->in[p->in_pos + name_at] + 4u;    /* the name, the checksum */
	if ((err = need(src, n, &ok)) || !ok)
		return err ? err : cut_short(src);
	h = p->in + p->in_pos;
	uint32_t want = (uint32_t)vf_load_uint(h + n - 4, 4, true);
	const uint8_t *f = h + sizeof(lzop_magic);
	size_t flen = n - 4 - sizeof(lzop_magic);
	uint32_t got = flags & LZOP_H_CRC32 ? (uint32_t)lzo_crc32(0, f, flen)
					     : (uint32_t)lzo_adler32(1, f, flen);
	if (got != want) {
		snprintf(why, sizeof(why), "the lzop header's %s is 0x%08" PRIx32 ", its bytes' "
			 "is 0x%08" PRIx32, flags & LZOP_H_CRC32 ? "CRC-32" : "adler32", want, got);
		return damaged(src, why);
	}
	if (method < 1 || method > 3) {
		snprintf(why, sizeof(why), "lzop method %u (only LZO1X, methods 1 to 3, is read "
			 "here)", method);
		return too_much(src, why);
	}
	if (flags & (LZOP_H_FILTER | LZOP_MULTIPART | LZOP_H_EXTRA))
		return too_much(src, flags & LZOP_H_FILTER ? "an lzop file with a filter" :
				     flags & LZOP_MULTIPART ? "a multipart lzop file" :
				     "an lzop header with an extra field");
	p->in_pos += n;
	p->lz_flags = flags;
	p->lz_in_file = true;
	return NULL;
}

/* The checksum a block's header gives (kind: "adler32", "CRC-32") against
 * the bytes'. */
static struct vf_error *lzop_check(struct vf_src *src, uint64_t at, const char *what,
				   bool crc, uint32_t want, const uint8_t *b, size_t n)
{
	uint32_t got = crc ? (uint32_t)lzo_crc32(0, b, n) : (uint32_t)lzo_adler32(1, b, n);
	if (got == want)
		return NULL;
	char why[160];
	snprintf(why, sizeof(why), "the lzop block's %s of its %s bytes is 0x%08" PRIx32
		 ", the bytes' is 0x%08" PRIx32, crc ? "CRC-32" : "adler32", what, want, got);
	return damaged_at(src, at, why);
}

/* The next block of an lzop file, decompressed into blk, its checksums
 * checked; or the file's end marker. */
static struct vf_error *lzop_block(struct vf_src *src)
{
	struct zpriv *p = src->priv;
	uint64_t at = cpos(p);
	char why[160];
	bool ok;
	struct vf_error *err = need(src, 4, &ok);
	if (err || !ok)
		return err ? err : cut_short(src);
	uint32_t dlen = (uint32_t)vf_load_uint(p->in + p->in_pos, 4, true);
	if (dlen == 0) {
		p->in_pos += 4;
		p->lz_in_file = false;
		p->unit_done = true;
		return NULL;
	}
	if ((err = need(src, 8, &ok)) || !ok)
		return err ? err : cut_short(src);
	uint32_t clen = (uint32_t)vf_load_uint(p->in + p->in_pos + 4, 4, true);
	uint32_t fl = p->lz_flags;
	if (dlen > VF_ZSRC_LZOP_BLOCK_MAX || clen == 0 || clen > dlen) {
		snprintf(why, sizeof(why), "an lzop block of %" PRIu32 " bytes compressed into %"
			 PRIu32 " (lzop's blocks are at most 64 MiB, never larger compressed)",
			 dlen, clen);
		return damaged(src, why);
	}
	bool packed = clen < dlen;
	bool has[4] = { fl & LZOP_ADLER32_D, fl & LZOP_CRC32_D,
			packed && (fl & LZOP_ADLER32_C), packed && (fl & LZOP_CRC32_C) };
	uint32_t sum[4] = { 0 };
	size_t n = 8;
	for (int k = 0; k < 4; k++)
		n += has[k] ? 4 : 0;
	if ((err = need(src, n, &ok)) || !ok)
		return err ? err : cut_short(src);
	n = 8;
	for (int k = 0; k < 4; k++)
		if (has[k]) {
			sum[k] = (uint32_t)vf_load_uint(p->in + p->in_pos + n, 4, true);
			n += 4;
		}
	p->in_pos += n;
	if ((err = grow(&p->cblk, &p->cblk_cap, clen)) ||
	    (err = take(src, p->cblk, clen, &ok)))
		return err;
	if (!ok)
		return cut_short(src);
	if ((has[2] && (err = lzop_check(src, at, "compressed", false, sum[2], p->cblk, clen))) ||
	    (has[3] && (err = lzop_check(src, at, "compressed", true, sum[3], p->cblk, clen))))
		return err;
	if (packed) {
		if ((err = grow(&p->blk, &p->blk_cap, dlen)))
			return err;
		lzo_uint out = dlen;
		int r = lzo1x_decompress_safe(p->cblk, clen, p->blk, &out, NULL);
		if (r != LZO_E_OK || out != dlen) {
			snprintf(why, sizeof(why), "an LZO1X block of %" PRIu32 " bytes that %s "
				 "(lzo error %d)", clen, r == LZO_E_OK ? "decompresses short" :
				 "does not decompress", r);
			return damaged_at(src, at, why);
		}
	} else {
		/* stored as it is: the compressed buffer is the block */
		uint8_t *b = p->blk;
		size_t c = p->blk_cap;
		p->blk = p->cblk;
		p->blk_cap = p->cblk_cap;
		p->cblk = b;
		p->cblk_cap = c;
	}
	if ((has[0] && (err = lzop_check(src, at, "uncompressed", false, sum[0], p->blk, dlen))) ||
	    (has[1] && (err = lzop_check(src, at, "uncompressed", true, sum[1], p->blk, dlen))))
		return err;
	p->blk_len = dlen;
	p->blk_pos = 0;
	return NULL;
}

static struct vf_error *step_lzop(struct vf_src *src)
{
	struct zpriv *p = src->priv;
	for (;;) {
		if (p->blk_pos < p->blk_len) {
			size_t room = VF_ZSRC_WINDOW - p->win_len, left = p->blk_len - p->blk_pos;
			size_t n = left < room ? left : room;
			memcpy(p->win + p->win_len, p->blk + p->blk_pos, n);
			p->blk_pos += n;
			p->win_len += n;
			p->decompressed += n;
			return NULL;
		}
		struct vf_error *err;
		if (p->lz_in_file) {
			if ((err = lzop_block(src)))
				return err;
			continue;
		}
		/* before the first file, or after one: another file, or the end */
		bool none;
		if ((err = refill(src, &none)))
			return err;
		if (none && !p->unit_done)
			return cut_short(src);
		if (none || (p->unit_done && p->in[p->in_pos] != lzop_magic[0])) {
			reached_end(src);
			return NULL;
		}
		if ((err = lzop_header(src)))
			return err;
		p->unit_done = false;
	}
}
#endif

static struct vf_error *step_codec(struct vf_src *src);

static struct vf_error *copy_error(const struct vf_error *e)
{
	struct vf_error *err = e->has_offset ? vf_error_at(e->code, e->offset, "%s", e->message)
					     : vf_error_create(e->code, "%s", e->message);
	err = vf_error_set_path(err, e->path);
	return e->hint ? vf_error_set_hint(err, "%s", e->hint) : err;
}

/* Decompress forward: at least one byte more, or the end.  An error leaves
 * the decoder where it cannot go on: the input's is kept and given again,
 * after any other the next read starts over. */
static struct vf_error *step(struct vf_src *src)
{
	struct zpriv *p = src->priv;
	if (p->failed)
		return copy_error(p->failed);
	struct vf_error *err = step_codec(src);
	if (err && (err == &vf_error_nomem || err->code == VF_ERR_OS || err->code == VF_ERR_NOMEM))
		p->reset = true;
	else if (err && !(p->failed = copy_error(err)))
		p->reset = true;
	return err;
}

static struct vf_error *step_codec(struct vf_src *src)
{
	struct zpriv *p = src->priv;
	if (p->win_len == VF_ZSRC_WINDOW) {
		memmove(p->win, p->win + VF_ZSRC_WINDOW - VF_ZSRC_KEEP, VF_ZSRC_KEEP);
		p->win_off += VF_ZSRC_WINDOW - VF_ZSRC_KEEP;
		p->win_len = VF_ZSRC_KEEP;
	}
	switch (p->codec) {
	case VF_ZSRC_GZIP:
#ifdef HAVE_ZLIB
		return step_gzip(src);
#else
		break;
#endif
	case VF_ZSRC_ZSTD:
#ifdef HAVE_ZSTD
		return step_zstd(src);
#else
		break;
#endif
	case VF_ZSRC_XZ:
#ifdef HAVE_LZMA
		return step_xz(src);
#else
		break;
#endif
	case VF_ZSRC_BZIP2:
#ifdef HAVE_BZIP2
		return step_bzip2(src);
#else
		break;
#endif
	case VF_ZSRC_LZOP:
#ifdef HAVE_LZO
		return step_lzop(src);
#else
		break;
#endif
	}
	return vf_error_create(VF_ERR_UNSUPPORTED, "%s support was not built",
			       vf_zsrc_codec_name(p->codec));
}

static struct vf_error *z_pread(struct vf_src *src, void *buf, size_t len, uint64_t off,
				size_t *got)
{
	struct zpriv *p = src->priv;
	uint8_t *out = buf;
	*got = 0;
	if (off < p->start) {
		/* the container's own bytes, as they are in the file */
		size_t n = p->start - off < len ? (size_t)(p->start - off) : len, g;
		struct vf_error *err = vf_src_pread(p->base, out, n, off, &g);
		*got = g;
		if (err || g < n)
			return err;
		out += n;
		off += n;
		len -= n;
	}
	if (!len)
		return NULL;
	if (!p->started || off < p->win_off || p->reset) {
		p->reset = false;
		struct vf_error *err = restart(src);
		if (err)
			return err;
	}
	while (len) {
		if (off < dpos(p)) {
			size_t at = (size_t)(off - p->win_off);
			size_t n = p->win_len - at < len ? p->win_len - at : len;
			memcpy(out, p->win + at, n);
			out += n;
			off += n;
			len -= n;
			*got += n;
			continue;
		}
		if (p->eof)
			break;
		struct vf_error *err = step(src);
		if (err)
			return err;
	}
	return NULL;
}

static void z_destroy(struct vf_src *src)
{
	struct zpriv *p = src->priv;
	if (!p)
		return;
#ifdef HAVE_ZLIB
	if (p->z_init)
		inflateEnd(&p->z);
#endif
#ifdef HAVE_ZSTD
	ZSTD_freeDStream(p->zd);
#endif
#ifdef HAVE_LZMA
	if (p->xz_init)
		lzma_end(&p->xz);
#endif
#ifdef HAVE_BZIP2
	if (p->bz_init)
		BZ2_bzDecompressEnd(&p->bz);
#endif
	free(p->blk);
	free(p->cblk);
	vf_error_destroy(p->failed);
	if (p->own)
		vf_src_destroy(p->base);
	free(p->in);
	free(p->win);
	free(p);
}

static const struct vf_src_ops z_ops = {
	.pread = z_pread,
	.destroy = z_destroy,
};

struct vf_error *vf_zsrc_open(struct vf_src *base, bool own, uint64_t start,
			      enum vf_zsrc_codec codec, struct vf_src **ret)
{
	if (!vf_zsrc_available(codec)) {
		char cmd[64];
		struct vf_error *err = vf_error_at(VF_ERR_UNSUPPORTED, start, "%s-compressed "
						   "stream: this build has no %s support",
						   vf_zsrc_codec_name(codec),
						   vf_zsrc_codec_library(codec));
		err = vf_error_set_path(err, base->path);
		undo_cmd(cmd, sizeof(cmd), start, codec, false);
		err = vf_error_set_hint(err, "decompress it first: %s > STREAM, then give STREAM",
					cmd);
		if (own)
			vf_src_destroy(base);
		return err;
	}
	struct vf_src *src = calloc(1, sizeof(*src));
	struct zpriv *p = calloc(1, sizeof(*p));
	if (!src || !p || !(src->path = strdup(base->path ? base->path : "(input)")) ||
	    !(p->in = malloc(IN_BUF)) || !(p->win = malloc(VF_ZSRC_WINDOW))) {
		if (p) {
			free(p->in);
			free(p->win);
		}
		if (src)
			free(src->path);
		free(src);
		free(p);
		if (own)
			vf_src_destroy(base);
		return &vf_error_nomem;
	}
	p->base = base;
	p->own = own;
	p->start = start;
	p->codec = codec;
	p->in_off = start;
	p->win_off = start;
	src->ops = &z_ops;
	src->kind = VF_SRC_DECOMPRESSED;
	src->fd = -1;
	src->size = UINT64_MAX;
	src->file_size = base->file_size;
	src->priv = p;
	*ret = src;
	return NULL;
}

struct vf_error *vf_zsrc_finish(struct vf_src *src, uint64_t *size)
{
	struct zpriv *p = src->priv;
	if (!p->started || p->reset) {
		p->reset = false;
		struct vf_error *err = restart(src);
		if (err)
			return err;
	}
	while (!p->eof) {
		struct vf_error *err = step(src);
		if (err)
			return err;
	}
	*size = src->size;
	return NULL;
}

bool vf_zsrc_info(const struct vf_src *src, struct vf_zsrc_info *info)
{
	if (src->kind != VF_SRC_DECOMPRESSED || src->ops != &z_ops)
		return false;
	const struct zpriv *p = src->priv;
	*info = (struct vf_zsrc_info){ .codec = p->codec, .start = p->start,
				       .size_known = p->eof, .restarts = p->restarts,
				       .decompressed = p->decompressed, .position = dpos(p) };
	return true;
}
