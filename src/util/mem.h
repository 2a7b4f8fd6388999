/* mem.h - guest physical memory, one interface over every source.
 *
 * Each dump reader (ELF, kdump) and, later, every other memory source (raw
 * RAM file, migration stream, another dump) offers these ops.  A read never
 * invents data: an address with no backing answers VF_ERR_NOT_PRESENT, a page
 * filtered out of the dump VF_ERR_EXCLUDED, and I/O or decoding failures
 * their own errors.  A read decodes only the pages it touches.
 */
#ifndef VF_MEM_H
#define VF_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct vf_mem_range {
	uint64_t start;   /* guest physical address */
	uint64_t size;    /* bytes */
};

struct vf_mem_ops {
	/* Read len bytes at physical address paddr (may span pages/ranges). */
	struct vf_error *(*read)(void *ctx, uint64_t paddr, void *buf, size_t len);
	void (*destroy)(void *ctx);
	/* Optional (NULL: every page may hold data): the lowest address >= paddr
	 * that may hold data, UINT64_MAX if none.  What it steps over is not in
	 * the source (kdump pages not dumped) or a hole that reads as zeros (ELF
	 * file holes): a whole-memory walk (the scan) need not read it.  On any
	 * doubt (an I/O error) it answers paddr, and the read reports it.
	 * *data_end: where the data found ends (the next such gap), UINT64_MAX
	 * if not known. */
	uint64_t (*next_data)(void *ctx, uint64_t paddr, uint64_t *data_end);
};

struct vf_mem {
	const struct vf_mem_ops *ops;
	void *ctx;
	const char *name;             /* "ELF dump", "kdump dump", ... for messages */
	struct vf_mem_range *ranges;  /* physical ranges the source describes, sorted */
	size_t nranges;
	uint64_t page_size;
	/* Optional capability: a large read costs about what a small one does (one
	 * pread or a few: ELF PT_LOADs, a raw RAM file), so a caller walking all
	 * memory (scan.c) may read megabytes at a time instead of a small read per
	 * page.  Left false by sources whose cost is per page (kdump decodes every
	 * page it touches; a migration stream finds each page's record). */
	bool bulk_reads_cheap;
};

static inline struct vf_error *vf_mem_read(struct vf_mem *mem, uint64_t paddr, void *buf,
					   size_t len)
{
	return mem->ops->read(mem->ctx, paddr, buf, len);
}

#endif
