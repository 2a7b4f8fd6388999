/* zsrc.h - a byte source over a compressed stream: the file as it would be
 * with the stream at `start` decompressed in place.
 *
 * The logical file is the base source's bytes [0, start) as they are, then
 * the decompressed bytes of a gzip stream (concatenated members) or a zstd
 * stream (several frames) that begins at `start`.  It serves a libvirt save
 * image compressed by libvirt's external program, so that offsets below
 * `start` (the header, the domain XML) are the file's and offsets above it
 * are those of `tail -c +(start+1) FILE | gzip -dc` plus start.
 *
 * Decompression is sequential; random access is emulated.  A read at or
 * after the decoder's position decompresses forward, discarding what lies
 * between; a read within the last window (at least VF_ZSRC_KEEP bytes before
 * the position) is served from it; a read before that restarts from the
 * beginning of the compressed stream (counted; at most VF_ZSRC_MAX_RESTARTS).  Memory: the window, an
 * input buffer and the decoder (zlib 32 KiB window; zstd: the frame's
 * window, at most 128 MiB, 8 MiB or less for `zstd -c` at its default
 * levels).
 *
 * The decompressed size is unknown until the decoder reaches the end: until
 * then src->size is UINT64_MAX and reads past the end are short (as at the
 * end of a plain file); once known, src->size holds it.  A compressed stream
 * that ends early, or is damaged, is VF_ERR_CORRUPT naming the file offset
 * of the compressed byte and the decompressed offset reached.
 */
#ifndef VF_ZSRC_H
#define VF_ZSRC_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"
#include "source/src.h"

enum vf_zsrc_codec {
	VF_ZSRC_GZIP,
	VF_ZSRC_ZSTD,
};

#define VF_ZSRC_WINDOW (1u << 20)   /* the decompressed bytes kept */
#define VF_ZSRC_KEEP (VF_ZSRC_WINDOW / 2)  /* at least this much behind the position */
/* Restarts allowed at most: each costs up to a pass over the whole stream,
 * so reads that keep going back (scattered reads of guest memory in a
 * hostile image) would be quadratic.  One more is VF_ERR_CORRUPT saying to
 * decompress the stream first (vmcore-fix(1), LIMITS). */
#define VF_ZSRC_MAX_RESTARTS 16

/* "gzip", "zstd". */
const char *vf_zsrc_codec_name(enum vf_zsrc_codec codec);

/* Was the codec's library built in (HAVE_ZLIB, HAVE_ZSTD)? */
bool vf_zsrc_available(enum vf_zsrc_codec codec);

/* A source over base whose bytes from start on are decompressed.  own: the
 * new source destroys base with itself; else base must outlive it.  No byte
 * is read yet.  VF_ERR_UNSUPPORTED when the codec was not built. */
struct vf_error *vf_zsrc_open(struct vf_src *base, bool own, uint64_t start,
			      enum vf_zsrc_codec codec, struct vf_src **ret) VF_MUST_CHECK;

/* Decompress forward to the end, so that src->size is known; *size is it. */
struct vf_error *vf_zsrc_finish(struct vf_src *src, uint64_t *size) VF_MUST_CHECK;

struct vf_zsrc_info {
	enum vf_zsrc_codec codec;
	uint64_t start;           /* file offset of the compressed stream */
	bool size_known;          /* the decoder has reached the end once */
	uint64_t restarts;        /* decompressions started over from start */
	uint64_t decompressed;    /* bytes produced in all, over all restarts */
	uint64_t position;        /* logical offset the decoder is at */
};

/* Describe a source vf_zsrc_open() made; false for any other. */
bool vf_zsrc_info(const struct vf_src *src, struct vf_zsrc_info *info);

#endif
