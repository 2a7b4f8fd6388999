/* packers.h - compress test data with each codec zsrc reads, through the
 * libraries (lzop's container written here, from its format's facts; the
 * real lzop binary's files are tested in tests/bats/codecs.bats).
 *
 *   pack_parts(codec, d, n, parts, &out): d[0..n) as `parts` gzip members,
 *   zstd frames, xz streams, bzip2 streams or lzop files one after another;
 *   the length, 0 when the codec was not built.
 *   lzop_pack(d, n, flags, block, out, cap): one lzop file, flags from
 *   LZOPF_*, blocks of `block` bytes; the length.
 */
#ifndef VF_TEST_PACKERS_H
#define VF_TEST_PACKERS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef HAVE_ZSTD
#include <zstd.h>
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

#include "source/zsrc.h"

#define LZOPF_ADLER32_D 0x0001u
#define LZOPF_ADLER32_C 0x0002u
#define LZOPF_CRC32_D 0x0100u
#define LZOPF_CRC32_C 0x0200u
#define LZOPF_H_CRC32 0x1000u

static inline void pk_be(uint8_t *p, unsigned n, uint64_t v)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

#ifdef HAVE_LZO
static inline size_t lzop_pack(const uint8_t *d, size_t n, uint32_t flags, size_t block,
			       uint8_t *o, size_t cap)
{
	static const uint8_t magic[9] = { 0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a };
	static uint8_t wrk[LZO1X_1_MEM_COMPRESS];
	size_t len = 0;
	memcpy(o, magic, 9);
	len = 9;
	pk_be(o + len, 2, 0x1040);            /* version */
	pk_be(o + len + 2, 2, 0x20a0);        /* library version */
	pk_be(o + len + 4, 2, 0x0940);        /* version needed */
	o[len + 6] = 1;                       /* method: LZO1X-1 */
	o[len + 7] = 5;                       /* level */
	pk_be(o + len + 8, 4, flags);
	pk_be(o + len + 12, 4, 0x81a4);       /* mode */
	pk_be(o + len + 16, 4, 0);            /* mtime */
	pk_be(o + len + 20, 4, 0);
	o[len + 24] = 4;
	memcpy(o + len + 25, "file", 4);
	len += 29;
	uint32_t hs = flags & LZOPF_H_CRC32 ? (uint32_t)lzo_crc32(0, o + 9, len - 9)
					     : (uint32_t)lzo_adler32(1, o + 9, len - 9);
	pk_be(o + len, 4, hs);
	len += 4;
	for (size_t at = 0; at < n; at += block) {
		size_t dl = n - at < block ? n - at : block;
		uint8_t *c = malloc(dl + dl / 16 + 64 + 3);
		if (!c)
			abort();
		lzo_uint cl = 0;
		if (lzo1x_1_compress(d + at, dl, c, &cl, wrk) != LZO_E_OK)
			abort();
		const uint8_t *data = cl < dl ? c : d + at;
		size_t dlen = cl < dl ? cl : dl;
		if (len + 28 + dlen > cap)
			abort();
		pk_be(o + len, 4, dl);
		pk_be(o + len + 4, 4, dlen);
		len += 8;
		if (flags & LZOPF_ADLER32_D) {
			pk_be(o + len, 4, lzo_adler32(1, d + at, dl));
			len += 4;
		}
		if (flags & LZOPF_CRC32_D) {
			pk_be(o + len, 4, lzo_crc32(0, d + at, dl));
			len += 4;
		}
		if (dlen < dl && (flags & LZOPF_ADLER32_C)) {
			pk_be(o + len, 4, lzo_adler32(1, data, dlen));
			len += 4;
		}
		if (dlen < dl && (flags & LZOPF_CRC32_C)) {
			pk_be(o + len, 4, lzo_crc32(0, data, dlen));
			len += 4;
		}
		memcpy(o + len, data, dlen);
		len += dlen;
		free(c);
	}
	pk_be(o + len, 4, 0);
	return len + 4;
}
#endif

/* One unit (member, frame, stream, file) of d[0..n) at o; its length, 0
 * when the codec was not built. */
static inline size_t pack_one(enum vf_zsrc_codec codec, const uint8_t *d, size_t n, uint8_t *o,
			      size_t cap)
{
	switch (codec) {
	case VF_ZSRC_GZIP: {
#ifdef HAVE_ZLIB
		z_stream z = { 0 };
		if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			abort();
		z.next_in = (Bytef *)d;
		z.avail_in = (uInt)n;
		z.next_out = o;
		z.avail_out = (uInt)cap;
		if (deflate(&z, Z_FINISH) != Z_STREAM_END)
			abort();
		size_t len = cap - z.avail_out;
		deflateEnd(&z);
		return len;
#else
		break;
#endif
	}
	case VF_ZSRC_ZSTD: {
#ifdef HAVE_ZSTD
		size_t r = ZSTD_compress(o, cap, d, n, 3);
		if (ZSTD_isError(r))
			abort();
		return r;
#else
		break;
#endif
	}
	case VF_ZSRC_XZ: {
#ifdef HAVE_LZMA
		size_t pos = 0;
		if (lzma_easy_buffer_encode(3, LZMA_CHECK_CRC64, NULL, d, n, o, &pos, cap) !=
		    LZMA_OK)
			abort();
		return pos;
#else
		break;
#endif
	}
	case VF_ZSRC_BZIP2: {
#ifdef HAVE_BZIP2
		unsigned len = (unsigned)cap;
		if (BZ2_bzBuffToBuffCompress((char *)o, &len, (char *)(uintptr_t)d, (unsigned)n, 9,
					     0, 0) != BZ_OK)
			abort();
		return len;
#else
		break;
#endif
	}
	case VF_ZSRC_LZOP:
#ifdef HAVE_LZO
		return lzop_pack(d, n, LZOPF_ADLER32_D | LZOPF_ADLER32_C, 256u << 10, o, cap);
#else
		break;
#endif
	}
	return 0;
}

static inline size_t pack_parts(enum vf_zsrc_codec codec, const uint8_t *d, size_t n,
				unsigned parts, uint8_t **out)
{
	size_t cap = n + n / 2 + 4096 * parts + (n / 1024) * 32, len = 0;
	uint8_t *o = malloc(cap);
	if (!o)
		abort();
	for (unsigned k = 0; k < parts; k++) {
		size_t a = n / parts * k, b = k + 1 == parts ? n : n / parts * (k + 1);
		size_t l = pack_one(codec, d + a, b - a, o + len, cap - len);
		if (!l) {
			free(o);
			*out = NULL;
			return 0;
		}
		len += l;
	}
	*out = o;
	return len;
}

#endif
