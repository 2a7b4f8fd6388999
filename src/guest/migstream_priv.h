/* migstream_priv.h - what the parts of the migration stream reader share:
 * the walk's state and its reads, the section search, and the RAM index.
 * Private to guest/mig*.c (the API is guest/migstream.h):
 *   migstream.c  the walk: reads, sections and footers, the configuration,
 *                commands, the container, the API
 *   migdesc.c    the JSON VM description after EOF
 *   migdevice.c  the vmcoreinfo device's state, found or searched for; its region
 *   migcpu.c     the vCPUs' "cpu" sections; their layout from the description
 *   migram.c     RAM sections: the block list, page records, the RAM index
 *   migmem.c     guest memory from the index (struct vf_mem)
 *
 * Every read of the stream goes through a window: a util/cursor.h cursor
 * over the stream's bytes from an offset, read into the walk's buffer.
 */
#ifndef VF_MIGSTREAM_PRIV_H
#define VF_MIGSTREAM_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/cursor.h"
#include "util/error.h"
#include "source/src.h"

struct vf_migstate;

enum {
	SEC_EOF = 0x00,
	SEC_START = 0x01,
	SEC_PART = 0x02,
	SEC_END = 0x03,
	SEC_FULL = 0x04,
	SEC_SUBSECTION = 0x05,
	SEC_VMDESCRIPTION = 0x06,
	SEC_CONFIGURATION = 0x07,
	SEC_COMMAND = 0x08,
	SEC_FOOTER = 0x7e,
};

#define MIG_RD_BUF 1024           /* the walk's buffer: the longest field read at once */
#define MIG_RD_AHEAD 288          /* a read's least length: a record header with a name */
#define MIG_NAME_MAX (1 + 255)    /* u8 length + name */
#define MIG_MAX_ID_FIELD 0x10000u /* instance and version ids are small */

/* ------------------------------------------------------------ the RAM index
 * One block's page records, as runs: consecutive records of the same kind
 * for consecutive pages (data pages also at a constant stride in the file).
 * Runs are appended in stream order, so a run's position is its age. */
enum { RUN_PAGE, RUN_ZERO, RUN_COMPRESSED, RUN_XBZRLE };

struct mig_run {
	uint64_t data_off;   /* RUN_PAGE: file offset of the first page's data;
			      * compressed/XBZRLE: file offset of the record */
	uint32_t first;      /* first page (block offset / page size) */
	uint32_t count;      /* pages */
	uint32_t stride;     /* RUN_PAGE: bytes from one page's data to the next */
	uint32_t seq;        /* position in stream order: a later run wins */
	uint8_t kind;
	uint8_t fill;        /* RUN_ZERO: the byte every page holds */
};

struct mig_ram_index {
	long block;          /* the indexed block in st->ramblocks; -1 unresolved, -2 absent */
	struct mig_run *runs;
	size_t n, cap, max_runs;
	uint64_t records;    /* page records of the block */
};

/* ------------------------------------------------------------ the walk */

struct mig_sect {
	uint32_t id;
	uint8_t type;
	bool ram;
	uint64_t offset;
};

struct mig_walk {
	struct vf_src *src;       /* the stream: the file, or a libvirt image's layer */
	struct vf_migstate *st;
	uint64_t end;             /* src->size, as last learned */
	uint64_t pos;
	uint8_t buf[MIG_RD_BUF];  /* the bytes [buf_off, buf_off + buf_len) */
	uint64_t buf_off;
	size_t buf_len;
	struct mig_sect *sects;
	size_t nsects, cap;
	long cur_block;           /* block of the last record, for CONTINUE */
	bool mapped_ram;
	uint8_t *chunk;           /* search buffer */
	bool done;                /* found the device or gave up searching */
	bool full;                /* walk to EOF, never search (the RAM index) */
	struct mig_ram_index *idx;  /* index this block's page records, or NULL */
	struct vf_src *lv;        /* the top layer over the file: a libvirt image's, a
				   * compressed file's (owned; src points to it) */
	bool desc_deferred;       /* the size is unknown: the description is read after
				   * the walk, when the decoder has reached the end */
	uint64_t forced_page_size;  /* a second walk: the description's page size */
};

/* Reads (migstream.c).  A window: a big-endian cursor over the stream's
 * bytes from off, at least n of them (n <= MIG_RD_BUF) unless the stream
 * ends first, the cursor then ending with it; so a structure of at most n
 * bytes read through it fails as truncated only where the stream does.
 * Errors from the cursor go through vf_mig_at() for the path. */
struct vf_error *vf_mig_window(struct mig_walk *c, uint64_t off, size_t n, struct vf_cursor *cur) VF_MUST_CHECK;
struct vf_error *vf_mig_at(struct mig_walk *c, struct vf_error *err) VF_MUST_CHECK;
/* The next n-byte integer of cur, named what in errors (with the path). */
struct vf_error *vf_mig_uint(struct mig_walk *c, struct vf_cursor *cur, size_t n,
			     const char *what, uint64_t *v) VF_MUST_CHECK;
/* The next n bytes of cur, named what in errors (with the path). */
struct vf_error *vf_mig_bytes(struct mig_walk *c, struct vf_cursor *cur, size_t n,
			      const char *what, const uint8_t **p) VF_MUST_CHECK;
/* u8 length + that many bytes of cur, as a NUL-terminated string. */
struct vf_error *vf_mig_name(struct mig_walk *c, struct vf_cursor *cur, const char *what,
			     char out[256]) VF_MUST_CHECK;
/* One n-byte integer at c->pos (a window of its own), c->pos past it. */
struct vf_error *vf_mig_read_uint(struct mig_walk *c, size_t n, const char *what, uint64_t *v) VF_MUST_CHECK;
/* Point *p at the n bytes at off; false on any error (for probing). */
bool vf_mig_peek(struct mig_walk *c, uint64_t off, size_t n, const uint8_t **p);
/* Step c->pos over n bytes without reading them. */
struct vf_error *vf_mig_skip(struct mig_walk *c, uint64_t n, const char *what) VF_MUST_CHECK;
struct vf_error *vf_mig_corrupt(struct mig_walk *c, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4))) VF_MUST_CHECK;

/* Sections (migstream.c). */
bool vf_mig_plausible_next(struct mig_walk *c, uint64_t off);
struct vf_error *vf_mig_search(struct mig_walk *c, uint64_t from, const uint8_t *needle,
			       size_t nlen, bool (*accept)(struct mig_walk *, uint64_t, void *),
			       void *arg, bool *hit, uint64_t *at) VF_MUST_CHECK;
struct vf_error *vf_mig_find_footer(struct mig_walk *c, uint32_t id, bool *hit) VF_MUST_CHECK;

/* The JSON description (migdesc.c): read from the stream's end into st. */
struct vf_error *vf_mig_read_description(struct mig_walk *c) VF_MUST_CHECK;

/* The device (migdevice.c). */
bool vf_mig_is_vmci_idstr(const char *idstr);
struct vf_error *vf_mig_vmcoreinfo_section(struct mig_walk *c, uint64_t soff, uint32_t id,
					   uint32_t instance, uint32_t version) VF_MUST_CHECK;
struct vf_error *vf_mig_search_device(struct mig_walk *c) VF_MUST_CHECK;

/* The vCPUs (migcpu.c): a FULL "cpu" section's first bytes, c->pos at its
 * body (not moved); the description's field list into st. */
struct vf_error *vf_mig_cpu_section(struct mig_walk *c, uint64_t soff, uint32_t instance,
				    uint32_t version) VF_MUST_CHECK;
void vf_mig_cpu_description(struct vf_migstate *st, const uint8_t *json, size_t n);

/* RAM (migram.c). */
struct vf_error *vf_mig_ram_records(struct mig_walk *c) VF_MUST_CHECK;
const char *vf_mig_main_ram_block(const struct vf_migstate *st);
long vf_mig_find_block(const struct vf_migstate *st, const char *name);

/* The walker (migstream.c): idx NULL stops once the device is found; idx
 * walks to EOF and indexes the main block's pages.  *lv: the layer the walk
 * read the stream through (a libvirt image's, a compressed file's; the
 * caller's then), or NULL. */
struct vf_error *vf_mig_scan_with(struct vf_src *src, struct vf_migstate *st,
				  struct mig_ram_index *idx, struct vf_src **lv) VF_MUST_CHECK;

/* Decompressions started over so far in that layer (and the ones below it). */
uint64_t vf_mig_layer_restarts(const struct vf_src *layer);

#endif
