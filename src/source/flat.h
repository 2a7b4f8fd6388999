/* flat.h - the makedumpfile flattened stream, served as the file it encodes.
 *
 * Layout: a 4096-byte header (signature "makedumpfile" NUL-padded to 16
 * bytes, be64 type = 1, be64 version = 1), then records of {be64 offset,
 * be64 size, size bytes of data}, ended by offset = size = -1.
 * The index is built once (headers only, no data read); reads of areas that
 * no record wrote return zeros; a later record overrides an earlier one.
 * The layer reads the stream through the source below it, usually a plain
 * file (open.h opens a file through this layer when it is flattened).
 */
#ifndef VF_FLAT_H
#define VF_FLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "source/src.h"

#define VF_FLAT_SIGNATURE "makedumpfile"
#define VF_FLAT_HEADER_SIZE 4096

struct vf_flat_record {
	uint64_t offset;      /* logical offset the data belongs at */
	uint64_t size;        /* bytes of data */
	uint64_t data_pos;    /* where the data starts in the flattened file */
};

/* Does this buffer (at least 32 bytes from file offset 0) start a flattened stream? */
bool vf_flat_probe(const uint8_t *head, size_t len);

/* Index the flattened stream that base holds and return a source serving the
 * reassembled file.  The new source owns base (destroyed on failure too);
 * its fd and file_size are base's, so that a writer copies records from the
 * file by their data_pos. */
struct vf_error *vf_flat_open(struct vf_src *base, struct vf_src **ret) VF_MUST_CHECK;

/* Limits of the index (beyond them the stream is refused as corrupt, exit 4):
 * records in all (QEMU writes page data in 16 KiB records: 16 Mi of them
 * carry 256 GiB; the index costs 20 bytes a record, 320 MiB at the limit),
 * and records that overwrite others or are overwritten (resolving them costs
 * about 90 bytes a record more; QEMU and makedumpfile write each byte once).
 * A larger stream can be reassembled by makedumpfile -R first. */
#define VF_FLAT_RECORDS_MAX ((size_t)1 << 24)
#define VF_FLAT_OVERLAP_RECORDS_MAX (1u << 18)

/* vf_flat_open with another record limit than VF_FLAT_RECORDS_MAX (tests). */
struct vf_error *vf_flat_open_limit(struct vf_src *base, size_t max_records,
				    struct vf_src **ret) VF_MUST_CHECK;

/* The records in stream order (for writers that copy a flattened stream):
 * their number (0 for a source that is not flattened), and record i. */
size_t vf_flat_record_count(const struct vf_src *src);
struct vf_flat_record vf_flat_record_at(const struct vf_src *src, size_t i);

/* Whether some records overwrite others (`vmcore-fix -o -` appends its
 * patches so): makedumpfile -R and libkdumpfile replay them in order, but
 * crash's reader may return either record's bytes, or zeros. */
bool vf_flat_has_overlaps(const struct vf_src *src);

/* Where the reassembled file's byte off lives: true and *data_pos, its offset
 * in the flattened file, valid for *len bytes (to the end of the record that
 * holds it, or where a later record overrides it); false when no record holds
 * it, *len then counting the bytes to the next record (UINT64_MAX: none). */
bool vf_flat_locate(const struct vf_src *src, uint64_t off, uint64_t *data_pos, uint64_t *len);

/* The file offset of the end marker: records appended to the stream go there. */
uint64_t vf_flat_end_pos(const struct vf_src *src);

#endif
