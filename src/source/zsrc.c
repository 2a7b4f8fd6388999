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
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef HAVE_ZSTD
#include <zstd.h>
#include <zstd_errors.h>
#endif

#define IN_BUF (128u << 10)

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
#ifdef HAVE_ZLIB
	z_stream z;
	bool z_init;
#endif
#ifdef HAVE_ZSTD
	ZSTD_DStream *zd;
#endif
};

const char *vf_zsrc_codec_name(enum vf_zsrc_codec codec)
{
	return codec == VF_ZSRC_GZIP ? "gzip" : "zstd";
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

static struct vf_error *damaged(struct vf_src *src, const char *why)
{
	struct zpriv *p = src->priv;
	struct vf_error *err = vf_error_at(VF_ERR_CORRUPT, cpos(p), "%s-compressed stream "
					   "(from offset %" PRIu64 ") is damaged here: %s; "
					   "decompressed up to offset 0x%" PRIx64,
					   vf_zsrc_codec_name(p->codec), p->start, why, dpos(p));
	err = vf_error_set_path(err, src->path);
	return vf_error_set_hint(err, "the file was damaged after it was written; check it "
				 "with: tail -c +%" PRIu64 " FILE | %s -t", p->start + 1,
				 vf_zsrc_codec_name(p->codec));
}

static struct vf_error *cut_short(struct vf_src *src)
{
	struct zpriv *p = src->priv;
	struct vf_error *err = vf_error_at(VF_ERR_CORRUPT, p->in_off, "truncated %s-compressed "
					   "stream (from offset %" PRIu64 "): the file ends at "
					   "offset %" PRIu64 " inside a %s; decompressed up to "
					   "offset 0x%" PRIx64, vf_zsrc_codec_name(p->codec),
					   p->start, p->in_off,
					   p->codec == VF_ZSRC_GZIP ? "gzip member" : "zstd frame",
					   dpos(p));
	err = vf_error_set_path(err, src->path);
	return vf_error_set_hint(err, "the file was cut short (an interrupted save or copy); "
				 "the rest of the stream is not in it");
}

/* Set the decoder to the beginning of the compressed stream. */
static struct vf_error *restart(struct vf_src *src)
{
	struct zpriv *p = src->priv;
	if (p->started && p->restarts == VF_ZSRC_MAX_RESTARTS) {
		struct vf_error *err = vf_error_at(VF_ERR_CORRUPT, p->start, "%s-compressed "
						   "stream: reads went back behind the decoder "
						   "more than %u times (each decompresses the "
						   "stream again from its start): limit",
						   vf_zsrc_codec_name(p->codec),
						   VF_ZSRC_MAX_RESTARTS);
		err = vf_error_set_path(err, src->path);
		return vf_error_set_hint(err, "decompress it first: tail -c +%" PRIu64 " FILE | "
					 "%s -dc > STREAM, then give STREAM", p->start + 1,
					 vf_zsrc_codec_name(p->codec));
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

/* Decompress forward: at least one byte more, or the end. */
static struct vf_error *step(struct vf_src *src)
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
	if (!p->started || off < p->win_off) {
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
		struct vf_error *err = vf_error_at(VF_ERR_UNSUPPORTED, start, "%s-compressed "
						   "stream: this build has no %s support",
						   vf_zsrc_codec_name(codec),
						   codec == VF_ZSRC_GZIP ? "zlib" : "libzstd");
		err = vf_error_set_path(err, base->path);
		err = vf_error_set_hint(err, "decompress it first: tail -c +%" PRIu64 " FILE | "
					"%s -dc > STREAM", start + 1, vf_zsrc_codec_name(codec));
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
	if (!p->started) {
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
