/* kdump.h - kdump-compressed dumps ("KDUMP   "), header versions 1-6. */
#ifndef VF_KDUMP_H
#define VF_KDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/dump.h"
#include "util/error.h"

struct vf_dump;

#define VF_KDUMP_SIGNATURE "KDUMP   "
#define VF_KDUMP_UTS_LEN 65

enum vf_kdump_layout {
	VF_KDUMP_LAYOUT_64,        /* 64-bit targets */
	VF_KDUMP_LAYOUT_32_PACKED, /* i386: 64-bit sub-header fields 4-byte aligned */
	VF_KDUMP_LAYOUT_32_PADDED, /* arm, ppc, mips: 64-bit fields 8-byte aligned */
};

/* File offsets (relative to the start of the structure) of header fields,
 * for the layout in use: the writer patches fields at these places. */
struct vf_kdump_field_offsets {
	uint32_t status, block_size, sub_hdr_size, bitmap_blocks, max_mapnr;
	uint32_t total_ram_blocks, device_blocks, written_blocks, current_cpu, nr_cpus;
	/* in the sub-header (at file offset block_size) */
	uint32_t phys_base, phys_base_size;  /* 8 on 64-bit layouts, 4 on 32-bit */
	uint32_t dump_level, split, start_pfn, end_pfn;
	uint32_t offset_vmcoreinfo, size_vmcoreinfo, offset_note, size_note;
	uint32_t offset_eraseinfo, size_eraseinfo, start_pfn_64, end_pfn_64, max_mapnr_64;
	uint32_t sub_hdr_len;  /* bytes of the sub-header this version defines */
	uint32_t ulong_size;   /* size of size_* fields and phys_base: 8 or 4 */
};

/* The field offsets of a layout (header version 6's sub-header). */
void vf_kdump_offsets(struct vf_kdump_field_offsets *fo, enum vf_kdump_layout l);

struct vf_kdump_info {
	enum vf_kdump_layout layout;
	struct vf_kdump_field_offsets fo;
	int32_t header_version;
	char utsname[6][VF_KDUMP_UTS_LEN + 1]; /* sysname nodename release version machine domainname, NUL-terminated copies */
	uint32_t status;
	uint32_t block_size;
	uint32_t sub_hdr_size;     /* in blocks */
	uint32_t bitmap_blocks;    /* both bitmaps, in blocks */
	uint32_t max_mapnr;        /* 32-bit field of the main header */
	uint32_t total_ram_blocks, device_blocks, written_blocks, current_cpu, nr_cpus;

	/* sub-header, fields the version does not define are 0 */
	uint64_t phys_base;
	int32_t dump_level;
	int32_t split;
	uint64_t start_pfn, end_pfn;
	uint64_t offset_vmcoreinfo, size_vmcoreinfo;
	uint64_t offset_note, size_note;
	uint64_t offset_eraseinfo, size_eraseinfo;
	uint64_t start_pfn_64, end_pfn_64, max_mapnr_64;

	/* derived */
	uint64_t max_pfn;          /* max_mapnr_64 on v6+, else max_mapnr */
	uint64_t bitmap1_offset;   /* file offset of the first bitmap (RAM pages) */
	uint64_t bitmap2_offset;   /* file offset of the second bitmap (dumped pages) */
	uint64_t bitmap_len;       /* bytes of each bitmap */
	uint64_t pd_offset;        /* file offset of the first page descriptor */
	uint32_t codecs_seen;      /* status compression bits (header) */
	uint64_t ndumped;          /* pages dumped: set bits of the second bitmap below max_pfn */
	bool truncated;            /* the file ends inside its descriptors or page data */
	const char *truncated_what;/* "page descriptors" or "page data" */
	uint64_t truncated_need;   /* where they end (UINT64_MAX: overflows) */
	void *priv;                /* reader state: bitmap cache, popcount index */
};

/* The format: the opener (format/open.c) probes it and lets it open. */
extern const struct vf_format_ops vf_kdump_format;

/* The error a cut file is (VF_ERR_CORRUPT at the file's end, naming what is
 * missing, with a hint), or NULL when kd->truncated is false.  Inspect
 * reports it as kdump-truncated; the fix refuses with it. */
struct vf_error *vf_kdump_truncation(const struct vf_kdump_info *kd, uint64_t file_size) VF_MUST_CHECK;

/* The header's utsname holds more than the machine field (makedumpfile fills
 * all six from init_uts_ns; QEMU only the machine). */
bool vf_kdump_utsname_filled(const struct vf_kdump_info *kd);

/* Where the page descriptors start (the end of the header, sub-header and
 * bitmaps: what a fix of the dump may change but the notes past its end),
 * from the first len bytes of a kdump file, read in the first byte order
 * and layout whose header_version and block_size are sane; false when none
 * is, or len is too short. */
#define VF_KDUMP_HEAD_FIELDS_LEN 0x1b8  /* what the 64-bit layout needs */
bool vf_kdump_header_end(const uint8_t *h, size_t len, uint64_t *end);

#endif
