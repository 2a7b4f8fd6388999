/* zsrc.h - a byte source over a compressed stream: the file as it would be
 * with the stream at `start` decompressed in place.
 *
 * The logical file is the base source's bytes [0, start) as they are, then
 * the decompressed bytes of the stream that begins at `start`: gzip
 * (concatenated members), zstd (several frames), xz (concatenated streams,
 * stream padding), bzip2 (concatenated streams) or lzop (the .lzo
 * container, parsed here; LZO1X blocks, several files one after another).
 * It serves a libvirt save image compressed by libvirt's external program,
 * so that offsets below `start` (the header, the domain XML) are the file's
 * and offsets above it are those of `tail -c +(start+1) FILE | gzip -dc`
 * plus start; and a whole compressed file (start 0: `virsh dump` with
 * dump_image_format).  The codec is told by the stream's first bytes
 * (vf_zsrc_probe), never by a file's name.
 *
 * Decompression is sequential; random access is emulated.  A read at or
 * after the decoder's position decompresses forward, discarding what lies
 * between; a read within the last window (at least VF_ZSRC_KEEP bytes before
 * the position) is served from it; a read before that restarts from the
 * beginning of the compressed stream (counted; at most VF_ZSRC_MAX_RESTARTS).
 * Work is proportional to the bytes produced.  Memory: the window, an input
 * buffer and the decoder: zlib 32 KiB window; zstd the frame's window, at
 * most 128 MiB (8 MiB or less for `zstd -c` at its default levels); xz at
 * most VF_ZSRC_XZ_MEMLIMIT (xz -3, libvirt's: 5 MiB); bzip2 about 4 MiB;
 * lzop one block and its compressed bytes, at most VF_ZSRC_LZOP_BLOCK_MAX
 * each (lzop -c: 256 KiB).
 *
 * The decompressed size is unknown until the decoder reaches the end: until
 * then src->size is UINT64_MAX and reads past the end are short (as at the
 * end of a plain file); once known, src->size holds it.  A compressed stream
 * that ends early, or is damaged (a checksum that does not match: gzip's
 * CRC-32, xz's check, bzip2's block CRC, lzop's adler32 or CRC-32 where its
 * header says they are there), is VF_ERR_CORRUPT naming the file offset of
 * the compressed byte and the decompressed offset reached.  A checksum is
 * checked where its codec puts it: lzop's before its block is served, the
 * others' at the end of a block, member or stream, so bytes before it are
 * served unchecked until the decoder passes it (a walk to the end passes
 * every one).
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
	VF_ZSRC_XZ,
	VF_ZSRC_BZIP2,
	VF_ZSRC_LZOP,
};
#define VF_ZSRC_NCODECS 5

#define VF_ZSRC_WINDOW (1u << 20)   /* the decompressed bytes kept */
#define VF_ZSRC_KEEP (VF_ZSRC_WINDOW / 2)  /* at least this much behind the position */
/* Restarts allowed at most: each costs up to a pass over the whole stream,
 * so reads that keep going back (scattered reads of guest memory in a
 * hostile image) would be quadratic.  One more is VF_ERR_CORRUPT saying to
 * decompress the stream first (vmcore-fix(1), LIMITS). */
#define VF_ZSRC_MAX_RESTARTS 16
#define VF_ZSRC_XZ_MEMLIMIT (128u << 20)     /* liblzma's memory, at most */
#define VF_ZSRC_LZOP_BLOCK_MAX (64u << 20)   /* lzop's own limit on a block */

/* The first bytes vf_zsrc_probe() looks at, at most. */
#define VF_ZSRC_PROBE_LEN 9

/* "gzip", "zstd", "xz", "bzip2", "lzop". */
const char *vf_zsrc_codec_name(enum vf_zsrc_codec codec);

/* The library that decodes it: "zlib", "libzstd", "liblzma", "libbz2", "lzo2". */
const char *vf_zsrc_codec_library(enum vf_zsrc_codec codec);

/* Was the codec's library built in (HAVE_ZLIB, HAVE_ZSTD, HAVE_LZMA,
 * HAVE_BZIP2, HAVE_LZO)? */
bool vf_zsrc_available(enum vf_zsrc_codec codec);

/* The codec of a stream that starts with head, by its magic: gzip 1f 8b 08
 * (deflate, the one method gzip defines), zstd 28 b5 2f fd, xz fd 37 7a 58 5a
 * 00, bzip2 "BZh" and a block size '1'..'9', lzop 89 4c 5a 4f 00 0d 0a 1a 0a.
 * False for anything else or a head too short to tell, whether or not the
 * codec was built. */
bool vf_zsrc_probe(const uint8_t *head, size_t len, enum vf_zsrc_codec *codec);

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
