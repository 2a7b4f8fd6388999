/* rawmem.h - guest physical memory from a raw guest RAM file.
 *
 * QEMU's `-object memory-backend-file,mem-path=FILE,share=on` keeps the guest's
 * RAM in FILE, byte for byte, with no header.  Which file bytes sit at which
 * guest physical address (GPA) is the machine's business, so the layout is
 * given explicitly, as ranges "FILEOFF:GPA:SIZE" (comma-separated), or as a
 * preset computed from the file size the way QEMU splits RAM:
 *
 *   pc    i440fx: RAM of 0xe0000000 bytes or more: 3 GiB at GPA 0, the rest at
 *         4 GiB; less: all at GPA 0 (QEMU's default max-ram-below-4g)
 *   q35   RAM of 0xb0000000 bytes or more: 2 GiB at GPA 0, the rest at 4 GiB;
 *         less: all at GPA 0
 *   virt  arm/aarch64 virt: all RAM at GPA 0x40000000
 *
 * Numbers are decimal or 0x hex, with an optional K, M, G or T suffix (powers
 * of 1024).  A guest started with max-ram-below-4g or NUMA memory backends
 * needs explicit ranges.
 */
#ifndef VF_RAWMEM_H
#define VF_RAWMEM_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "util/mem.h"

#define VF_RAWMEM_MAX_RANGES 64

struct vf_rawmem_range {
	uint64_t file_off;
	uint64_t paddr;
	uint64_t size;
};

struct vf_rawmem_layout {
	const char *preset;   /* "pc", "q35", "virt" (static), or NULL for explicit ranges */
	size_t n;
	struct vf_rawmem_range r[VF_RAWMEM_MAX_RANGES];  /* sorted by paddr */
};

/* Parse a layout spec for a file of file_size bytes.  Pure.  Refuses
 * (VF_ERR_INVALID, naming the bad token and with a hint): malformed tokens,
 * size 0, arithmetic overflow, ranges past the end of the file, ranges that
 * overlap in guest physical addresses or in the file, more than
 * VF_RAWMEM_MAX_RANGES ranges, and a preset over an empty file. */
struct vf_error *vf_rawmem_parse_layout(const char *spec, uint64_t file_size,
					struct vf_rawmem_layout *out) VF_MUST_CHECK;

/* Open path read-only and serve guest physical memory from it with pread().
 * Reads outside the ranges answer VF_ERR_NOT_PRESENT; a read the file can no
 * longer satisfy (it shrank) is a VF_ERR_CORRUPT "truncated" error.  The
 * page size is 4096.  Release with vf_rawmem_deinit(). */
struct vf_error *vf_rawmem_init(const char *path, const char *layout_spec, struct vf_mem *out) VF_MUST_CHECK;

/* Destroy what vf_rawmem_init() made (ctx and ranges); safe on a zeroed mem. */
void vf_rawmem_deinit(struct vf_mem *mem);

#endif
