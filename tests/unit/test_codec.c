/* test_codec.c - page codecs: round trips, partial decompression, corrupt data. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "format/codec.h"
#include "tap.h"

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

#define PS 4096

static uint8_t page[PS], out[PS], comp[2 * PS];

static void check(enum vf_codec c, const uint8_t *in, size_t n)
{
	memset(out, 0, sizeof(out));
	struct vf_error *err = vf_codec_decompress(c, in, n, out, PS, PS);
	TAP_OK(!err && memcmp(out, page, PS) == 0, "%s round trip", vf_codec_name(c));
	vf_error_destroy(err);
	memset(out, 0, sizeof(out));
	err = vf_codec_decompress(c, in, n, out, PS, 100);
	TAP_OK(!err && memcmp(out, page, 100) == 0, "%s: first 100 bytes", vf_codec_name(c));
	vf_error_destroy(err);
	uint8_t junk[64];
	memset(junk, 0xa5, sizeof(junk));
	err = vf_codec_decompress(c, junk, sizeof(junk), out, PS, PS);
	TAP_OK(err && err->code == VF_ERR_CORRUPT, "%s: garbage is corrupt", vf_codec_name(c));
	vf_error_destroy(err);
	err = vf_codec_decompress(c, in, n / 2, out, PS, PS);
	TAP_OK(err && err->code == VF_ERR_CORRUPT, "%s: half the data is corrupt", vf_codec_name(c));
	vf_error_destroy(err);
}

int main(void)
{
	for (size_t i = 0; i < PS; i++)
		page[i] = (uint8_t)((i / 7) ^ (i % 13));
	enum vf_codec c;
	TAP_OK(!vf_codec_from_flags(0, &c) && c == VF_CODEC_NONE, "flags 0: raw");
	TAP_OK(!vf_codec_from_flags(VF_KDUMP_ZSTD, &c) && c == VF_CODEC_ZSTD, "flag 0x20: zstd");
	struct vf_error *err = vf_codec_from_flags(VF_KDUMP_ZLIB | VF_KDUMP_LZO, &c);
	TAP_OK(err && err->code == VF_ERR_CORRUPT, "two codec bits are corrupt");
	vf_error_destroy(err);
	check(VF_CODEC_NONE, page, PS);
#ifdef HAVE_ZLIB
	uLongf zl = sizeof(comp);
	compress2(comp, &zl, page, PS, 6);
	check(VF_CODEC_ZLIB, comp, zl);
#endif
#ifdef HAVE_LZO
	static uint8_t wrk[LZO1X_1_MEM_COMPRESS];
	lzo_uint ll = sizeof(comp);
	lzo_init();
	lzo1x_1_compress(page, PS, comp, &ll, wrk);
	check(VF_CODEC_LZO, comp, ll);
#endif
#ifdef HAVE_SNAPPY
	size_t sl = sizeof(comp);
	snappy_compress((const char *)page, PS, (char *)comp, &sl);
	check(VF_CODEC_SNAPPY, comp, sl);
#endif
#ifdef HAVE_ZSTD
	size_t ztl = ZSTD_compress(comp, sizeof(comp), page, PS, 3);
	check(VF_CODEC_ZSTD, comp, ztl);
	/* a frame holding two pages is too long */
	static uint8_t two[2 * PS], comp2[3 * PS];
	size_t z2 = ZSTD_compress(comp2, sizeof(comp2), two, sizeof(two), 3);
	err = vf_codec_decompress(VF_CODEC_ZSTD, comp2, z2, out, PS, PS);
	TAP_OK(err && err->code == VF_ERR_CORRUPT, "zstd: more than a page is corrupt");
	vf_error_destroy(err);
#endif
#ifdef HAVE_ZLIB
	static uint8_t twoz[2 * PS], compz[3 * PS];
	uLongf zl2 = sizeof(compz);
	compress2(compz, &zl2, twoz, sizeof(twoz), 6);
	err = vf_codec_decompress(VF_CODEC_ZLIB, compz, zl2, out, PS, PS);
	TAP_OK(err && err->code == VF_ERR_CORRUPT, "zlib: more than a page is corrupt");
	vf_error_destroy(err);
#endif
	err = vf_codec_decompress(VF_CODEC_NONE, page, 100, out, PS, PS);
	TAP_OK(err && err->code == VF_ERR_CORRUPT, "raw page of the wrong size is corrupt");
	vf_error_destroy(err);
	for (c = VF_CODEC_ZLIB; c <= VF_CODEC_ZSTD; c++) {
		if (vf_codec_available(c))
			continue;
		err = vf_codec_decompress(c, page, 10, out, PS, PS);
		TAP_OK(err && err->code == VF_ERR_UNSUPPORTED && err->hint,
		       "%s not built: unsupported, with a hint", vf_codec_name(c));
		vf_error_destroy(err);
	}
	return tap_done();
}
