/* codec.h - kdump page decompression.  The only place with #if for codecs:
 * a codec that was not built answers VF_ERR_UNSUPPORTED. */
#ifndef VF_CODEC_H
#define VF_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

enum vf_codec {
	VF_CODEC_NONE = 0,
	VF_CODEC_ZLIB,
	VF_CODEC_LZO,
	VF_CODEC_SNAPPY,
	VF_CODEC_ZSTD,
};

/* kdump page-descriptor / header-status flag bits */
#define VF_KDUMP_ZLIB   0x01u
#define VF_KDUMP_LZO    0x02u
#define VF_KDUMP_SNAPPY 0x04u
#define VF_KDUMP_INCOMPLETE 0x08u
#define VF_KDUMP_EXCLUDED_VMEMMAP 0x10u
#define VF_KDUMP_ZSTD   0x20u

const char *vf_codec_name(enum vf_codec codec);
bool vf_codec_available(enum vf_codec codec);

/* Map page-descriptor flags to a codec; more than one codec bit is corrupt. */
struct vf_error *vf_codec_from_flags(uint32_t flags, enum vf_codec *codec) VF_MUST_CHECK;

/* Decompress one page of `in` into `out` (capacity out_len = page size).
 * Only the first `want` bytes are needed: codecs that can stop early (zlib,
 * zstd) do; others decompress the page whole.  The result must fill at least
 * `want` bytes, else VF_ERR_CORRUPT.  A page that decompresses to more than
 * out_len is corrupt. */
struct vf_error *vf_codec_decompress(enum vf_codec codec, const void *in, size_t in_len,
				     void *out, size_t out_len, size_t want) VF_MUST_CHECK;

#endif
