/* codec.c - kdump page decompression; the only file that knows which codecs
 * were built. */
#include "config.h"
#include "format/codec.h"

#include <inttypes.h>
#include <limits.h>
#include <string.h>

#ifdef HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef HAVE_LZO
#include <lzo/lzo1x.h>
#endif
#ifdef HAVE_SNAPPY
#include <snappy-c.h>
#endif
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif

const char *vf_codec_name(enum vf_codec codec)
{
	switch (codec) {
	case VF_CODEC_NONE: return "none";
	case VF_CODEC_ZLIB: return "zlib";
	case VF_CODEC_LZO: return "lzo";
	case VF_CODEC_SNAPPY: return "snappy";
	case VF_CODEC_ZSTD: return "zstd";
	}
	return "?";
}

bool vf_codec_available(enum vf_codec codec)
{
	switch (codec) {
	case VF_CODEC_NONE: return true;
#ifdef HAVE_ZLIB
	case VF_CODEC_ZLIB: return true;
#endif
#ifdef HAVE_LZO
	case VF_CODEC_LZO: return true;
#endif
#ifdef HAVE_SNAPPY
	case VF_CODEC_SNAPPY: return true;
#endif
#ifdef HAVE_ZSTD
	case VF_CODEC_ZSTD: return true;
#endif
	default: return false;
	}
}

struct vf_error *vf_codec_from_flags(uint32_t flags, enum vf_codec *codec)
{
	uint32_t bits = flags & (VF_KDUMP_ZLIB | VF_KDUMP_LZO | VF_KDUMP_SNAPPY | VF_KDUMP_ZSTD);
	switch (bits) {
	case 0: *codec = VF_CODEC_NONE; return NULL;
	case VF_KDUMP_ZLIB: *codec = VF_CODEC_ZLIB; return NULL;
	case VF_KDUMP_LZO: *codec = VF_CODEC_LZO; return NULL;
	case VF_KDUMP_SNAPPY: *codec = VF_CODEC_SNAPPY; return NULL;
	case VF_KDUMP_ZSTD: *codec = VF_CODEC_ZSTD; return NULL;
	}
	return vf_error_create(VF_ERR_CORRUPT, "page flags 0x%" PRIx32 " name more than one "
			       "compression", flags);
}

static const char *const dev_pkg[] = {
	[VF_CODEC_ZLIB] = "zlib1g-dev", [VF_CODEC_LZO] = "liblzo2-dev",
	[VF_CODEC_SNAPPY] = "libsnappy-dev", [VF_CODEC_ZSTD] = "libzstd-dev",
};

static struct vf_error *short_output(enum vf_codec codec, size_t got, size_t want)
{
	return vf_error_create(VF_ERR_CORRUPT, "%s page decompressed to %zu bytes, need %zu",
			       vf_codec_name(codec), got, want);
}

#ifdef HAVE_ZLIB
static struct vf_error *inflate_page(const void *in, size_t in_len, void *out, size_t out_len,
				     size_t want)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
		return &vf_error_nomem;
	zs.next_in = (Bytef *)in;
	zs.avail_in = in_len > UINT_MAX ? UINT_MAX : (uInt)in_len;
	zs.next_out = out;
	zs.avail_out = (uInt)want;  /* stop once the wanted bytes are out */
	int r = inflate(&zs, Z_SYNC_FLUSH);
	size_t got = zs.total_out;
	if (r == Z_STREAM_END && want == out_len) {
		/* whole page asked: it must not be longer than a page (checked below) */
	} else if (r == Z_OK && got == want && want == out_len) {
		/* exactly a page and the stream goes on: more data than a page? */
		uint8_t extra;
		zs.next_out = &extra;
		zs.avail_out = 1;
		r = inflate(&zs, Z_FINISH);
		if (r != Z_STREAM_END || zs.total_out != got) {
			inflateEnd(&zs);
			return vf_error_create(VF_ERR_CORRUPT, "zlib page decompresses to more "
					       "than %zu bytes", out_len);
		}
	} else if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
		inflateEnd(&zs);
		return vf_error_create(VF_ERR_CORRUPT, "zlib page data is corrupt (%s)",
				       zs.msg ? zs.msg : "inflate failed");
	}
	inflateEnd(&zs);
	if (got < want)
		return short_output(VF_CODEC_ZLIB, got, want);
	return NULL;
}
#endif

#ifdef HAVE_ZSTD
static struct vf_error *unzstd_page(const void *in, size_t in_len, void *out, size_t out_len,
				    size_t want)
{
	if (want == out_len) {
		size_t r = ZSTD_decompress(out, out_len, in, in_len);
		if (ZSTD_isError(r))
			return vf_error_create(VF_ERR_CORRUPT, "zstd page data is corrupt (%s)",
					       ZSTD_getErrorName(r));
		if (r < want)
			return short_output(VF_CODEC_ZSTD, r, want);
		return NULL;
	}
	ZSTD_DStream *ds = ZSTD_createDStream();
	if (!ds)
		return &vf_error_nomem;
	ZSTD_initDStream(ds);
	ZSTD_inBuffer ib = { in, in_len, 0 };
	ZSTD_outBuffer ob = { out, want, 0 };
	while (ob.pos < want) {
		size_t r = ZSTD_decompressStream(ds, &ob, &ib);
		if (ZSTD_isError(r)) {
			ZSTD_freeDStream(ds);
			return vf_error_create(VF_ERR_CORRUPT, "zstd page data is corrupt (%s)",
					       ZSTD_getErrorName(r));
		}
		if (r == 0 || (ib.pos == ib.size && ob.pos < ob.size))
			break;
	}
	ZSTD_freeDStream(ds);
	if (ob.pos < want)
		return short_output(VF_CODEC_ZSTD, ob.pos, want);
	return NULL;
}
#endif

struct vf_error *vf_codec_decompress(enum vf_codec codec, const void *in, size_t in_len,
				     void *out, size_t out_len, size_t want)
{
	if (want > out_len)
		want = out_len;
	if (!vf_codec_available(codec)) {
		struct vf_error *err = vf_error_create(VF_ERR_UNSUPPORTED,
			"page compressed with %s, but this vmcore-fix was built without %s support",
			vf_codec_name(codec), vf_codec_name(codec));
		return vf_error_set_hint(err, "install %s and rebuild vmcore-fix",
					 codec <= VF_CODEC_ZSTD ? dev_pkg[codec] : "the library");
	}
	switch (codec) {
	case VF_CODEC_NONE:
		if (in_len != out_len)
			return vf_error_create(VF_ERR_CORRUPT, "uncompressed page has %zu bytes, "
					       "expected %zu", in_len, out_len);
		memcpy(out, in, want);
		return NULL;
#ifdef HAVE_ZLIB
	case VF_CODEC_ZLIB:
		return inflate_page(in, in_len, out, out_len, want);
#endif
#ifdef HAVE_LZO
	case VF_CODEC_LZO: {
		lzo_uint n = out_len;
		int r = lzo1x_decompress_safe(in, in_len, out, &n, NULL);
		if (r != LZO_E_OK)
			return vf_error_create(VF_ERR_CORRUPT, "lzo page data is corrupt "
					       "(lzo error %d)", r);
		if (n < want)
			return short_output(codec, n, want);
		return NULL;
	}
#endif
#ifdef HAVE_SNAPPY
	case VF_CODEC_SNAPPY: {
		size_t n;
		if (snappy_uncompressed_length(in, in_len, &n) != SNAPPY_OK)
			return vf_error_create(VF_ERR_CORRUPT, "snappy page data is corrupt");
		if (n > out_len)
			return vf_error_create(VF_ERR_CORRUPT, "snappy page decompresses to %zu "
					       "bytes, more than %zu", n, out_len);
		if (snappy_uncompress(in, in_len, out, &n) != SNAPPY_OK)
			return vf_error_create(VF_ERR_CORRUPT, "snappy page data is corrupt");
		if (n < want)
			return short_output(codec, n, want);
		return NULL;
	}
#endif
#ifdef HAVE_ZSTD
	case VF_CODEC_ZSTD:
		return unzstd_page(in, in_len, out, out_len, want);
#endif
	default:
		break;
	}
	return vf_error_create(VF_ERR_UNSUPPORTED, "unknown compression %d", (int)codec);
}
