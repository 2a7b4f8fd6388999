/* migram.c - the "ram" section (version 4) of a migration stream: the RAM
 * block list, and page records stepped over without reading their data
 * (and, for guest memory, indexed as runs: struct mig_run).
 *
 * A body is be64 records, the page's block offset | flags, until EOS:
 *   MEM_SIZE: the block list (u8 len, name, be64 length; per block, a be64
 *             page size after POSTCOPY_ADVISE when it is not the target's,
 *             a be64 address with x-ignore-shared)
 *   ZERO: [block name] u8 fill; PAGE: [block name] the page's bytes;
 *   COMPRESS_PAGE: [block name] be32 len, data; XBZRLE: [block name] u8 1,
 *   be16 len, data; the block name unless CONTINUE (the previous block's).
 */
#include "config.h"
#include "guest/migstream.h"
#include "guest/migstream_priv.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* RAM record flags: the low bits of each record's be64. */
#define RAM_ZERO 0x002u
#define RAM_MEM_SIZE 0x004u
#define RAM_PAGE 0x008u
#define RAM_EOS 0x010u
#define RAM_CONTINUE 0x020u
#define RAM_XBZRLE 0x040u
#define RAM_HOOK 0x080u
#define RAM_COMPRESS_PAGE 0x100u
#define RAM_MULTIFD_FLUSH 0x200u
#define RAM_FLAGS_MASK 0x3ffu     /* below the smallest target page (1 KiB) */

#define MAX_RAMBLOCKS 4096
#define BLOCK_ENTRY (MIG_NAME_MAX + 8 + 8 + 8)  /* name, length, page size, address */
#define RECORD_HEAD (8 + MIG_NAME_MAX + 4)      /* be64, name, the longest field after */

/* One entry of the block list at c->pos into st->ramblocks; *length its
 * length, at most left. */
static struct vf_error *block_entry(struct mig_walk *c, uint64_t total, uint64_t left,
				    uint64_t *length)
{
	struct vf_migstate *st = c->st;
	uint64_t boff = c->pos;
	char name[256];
	struct vf_cursor cur;
	struct vf_error *err = vf_mig_window(c, boff, BLOCK_ENTRY, &cur);
	if (err || (err = vf_mig_name(c, &cur, "RAM block name", name)) ||
	    (err = vf_mig_uint(c, &cur, 8, "RAM block length", length)))
		return err;
	if (!name[0])
		return vf_mig_corrupt(c, boff, "RAM block list: a block with an empty name");
	if (*length > left)
		return vf_mig_corrupt(c, boff, "RAM block list: block '%s' (0x%" PRIx64 " bytes) "
				      "exceeds what is left of the total 0x%" PRIx64 " (0x%"
				      PRIx64 ")", name, *length, total, left);
	/* hugepage-backed blocks carry their page size: a power of two above the
	 * target page (a next name length is never 0) */
	if (st->postcopy_advised && vf_cursor_left(&cur) >= 8) {
		uint64_t ps = vf_load_uint(cur.buf + cur.pos, 8, true);
		if (ps > st->page_size && ps <= (1ull << 34) && !(ps & (ps - 1)))
			cur.pos += 8;
	}
	c->pos = vf_cursor_offset(&cur);
	if (st->ignore_shared && (err = vf_mig_skip(c, 8, "RAM block address")))
		return err;
	if (st->nramblocks == MAX_RAMBLOCKS)
		return vf_mig_corrupt(c, boff, "RAM block list: more than %d blocks",
				      MAX_RAMBLOCKS);
	struct vf_mig_ramblock *b = realloc(st->ramblocks, (st->nramblocks + 1) * sizeof(*b));
	if (!b)
		return &vf_error_nomem;
	st->ramblocks = b;
	b += st->nramblocks;
	if (!(b->idstr = strdup(name)))
		return &vf_error_nomem;
	b->length = *length;
	st->nramblocks++;
	return NULL;
}

static struct vf_error *ram_block_list(struct mig_walk *c, uint64_t total, uint64_t roff)
{
	struct vf_migstate *st = c->st;
	if (st->ramblocks)
		return vf_mig_corrupt(c, roff, "a second RAM block list (the first is before)");
	st->ram_total = total;
	for (uint64_t left = total, length; left; left -= length) {
		struct vf_error *err = block_entry(c, total, left, &length);
		if (err)
			return err;
	}
	return NULL;
}

/* The block a page record is in: named, or the previous one (CONTINUE). */
static struct vf_error *record_block(struct mig_walk *c, struct vf_cursor *cur, uint32_t flags,
				     uint64_t roff, long *bi)
{
	struct vf_migstate *st = c->st;
	if (flags & RAM_CONTINUE) {
		if (c->cur_block < 0)
			return vf_mig_corrupt(c, roff, "RAM record continues a block, but none was "
					      "named before");
		*bi = c->cur_block;
		return NULL;
	}
	char name[256];
	struct vf_error *err = vf_mig_name(c, cur, "RAM block name", name);
	if (err)
		return err;
	for (size_t i = 0; i < st->nramblocks; i++) {
		if (strcmp(st->ramblocks[i].idstr, name) == 0) {
			*bi = c->cur_block = (long)i;
			return NULL;
		}
	}
	return vf_mig_corrupt(c, roff, "RAM record names block '%s', which the RAM block list "
			      "does not have", name);
}

/* The RAM block guest physical memory lives in: named by the machine type,
 * else whichever of "pc.ram" and "mach-virt.ram" the stream has. */
const char *vf_mig_main_ram_block(const struct vf_migstate *st)
{
	const char *layout = vf_migstream_machine_layout(st->machine);
	if (layout)
		return strcmp(layout, "virt") == 0 ? "mach-virt.ram" : "pc.ram";
	static const char *const names[] = { "pc.ram", "mach-virt.ram" };
	for (size_t n = 0; n < sizeof(names) / sizeof(*names); n++)
		for (size_t i = 0; i < st->nramblocks; i++)
			if (strcmp(st->ramblocks[i].idstr, names[n]) == 0)
				return names[n];
	return names[0];
}

long vf_mig_find_block(const struct vf_migstate *st, const char *name)
{
	for (size_t i = 0; i < st->nramblocks; i++)
		if (strcmp(st->ramblocks[i].idstr, name) == 0)
			return (long)i;
	return -2;
}

/* Does the page extend the last run? */
static bool extends(struct mig_run *r, uint8_t kind, uint64_t page, uint64_t data_off,
		    uint8_t fill)
{
	if (!r || r->kind != kind || r->count == UINT32_MAX || page != (uint64_t)r->first + r->count)
		return false;
	if (kind == RUN_ZERO && r->fill == fill) {
		r->count++;
		return true;
	}
	if (kind == RUN_PAGE) {
		/* data only ever moves forward in the file */
		uint64_t gap = data_off - r->data_off;
		if (r->count == 1 && gap <= UINT32_MAX) {
			r->stride = (uint32_t)gap;
			r->count++;
			return true;
		}
		if (r->count > 1 && gap == (uint64_t)r->stride * r->count) {
			r->count++;
			return true;
		}
	}
	/* compressed and XBZRLE records: one run each, to name its offset */
	return false;
}

/* A page record of block bi (at file offset roff) for the RAM index. */
static struct vf_error *index_record(struct mig_walk *c, long bi, uint64_t addr, uint8_t kind,
				     uint64_t data_off, uint8_t fill, uint64_t roff)
{
	struct mig_ram_index *x = c->idx;
	if (!x)
		return NULL;
	if (x->block == -1)
		x->block = vf_mig_find_block(c->st, vf_mig_main_ram_block(c->st));
	if (bi != x->block)
		return NULL;
	uint64_t page = addr / c->st->page_size;
	if (page > UINT32_MAX) {
		struct vf_error *err = vf_error_at(VF_ERR_UNSUPPORTED, roff, "migration stream: "
						   "a RAM page at block offset 0x%" PRIx64 ", "
						   "beyond 2^32 pages", addr);
		return vf_mig_at(c, err);
	}
	x->records++;
	if (extends(x->n ? &x->runs[x->n - 1] : NULL, kind, page, data_off, fill))
		return NULL;
	if (x->n == x->max_runs) {
		struct vf_error *err = vf_error_at(VF_ERR_UNSUPPORTED, roff, "migration stream: "
						   "the pages of RAM block '%s' form more than %zu "
						   "runs (pages sent out of order or again and "
						   "again); the index is capped to bound memory",
						   c->st->ramblocks[bi].idstr, x->max_runs);
		return vf_mig_at(c, vf_error_set_hint(err, "read the guest's memory from a "
						      "dump, or save the VM again after "
						      "stopping it"));
	}
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 1024;
		if (cap > x->max_runs)
			cap = x->max_runs;
		struct mig_run *nr = realloc(x->runs, cap * sizeof(*nr));
		if (!nr)
			return &vf_error_nomem;
		x->runs = nr;
		x->cap = cap;
	}
	x->runs[x->n] = (struct mig_run){ .data_off = data_off, .first = (uint32_t)page,
					  .count = 1, .seq = (uint32_t)x->n, .kind = kind,
					  .fill = fill };
	x->n++;
	return NULL;
}

/* A compressed page (be32 len, data) or an XBZRLE delta (u8 flags, be16 len,
 * data): their lengths from cur, their data stepped over. */
static struct vf_error *packed_page(struct mig_walk *c, struct vf_cursor *cur, uint32_t kind,
				    long bi, uint64_t addr, uint64_t roff)
{
	uint64_t ps = c->st->page_size, len, u8;
	struct vf_error *err;
	if (kind == RAM_COMPRESS_PAGE) {
		if ((err = vf_mig_uint(c, cur, 4, "compressed page length", &len)))
			return err;
		c->pos = vf_cursor_offset(cur);
		if (len > 2 * ps + 64)
			return vf_mig_corrupt(c, c->pos - 4, "compressed RAM page of 0x%" PRIx64
					      " bytes for a 0x%" PRIx64 "-byte page", len, ps);
		if ((err = vf_mig_skip(c, len, "compressed RAM page")))
			return err;
		return index_record(c, bi, addr, RUN_COMPRESSED, roff, 0, roff);
	}
	if ((err = vf_mig_uint(c, cur, 1, "XBZRLE flags", &u8)))
		return err;
	c->pos = vf_cursor_offset(cur);
	if (u8 != 1)
		return vf_mig_corrupt(c, c->pos - 1, "XBZRLE page flags 0x%02x (only 1 is known)",
				      (unsigned)u8);
	if ((err = vf_mig_uint(c, cur, 2, "XBZRLE length", &len)))
		return err;
	c->pos = vf_cursor_offset(cur);
	if (len > ps)
		return vf_mig_corrupt(c, c->pos - 2, "XBZRLE data of 0x%" PRIx64 " bytes for a 0x%"
				      PRIx64 "-byte page", len, ps);
	if ((err = vf_mig_skip(c, len, "XBZRLE page")))
		return err;
	return index_record(c, bi, addr, RUN_XBZRLE, roff, 0, roff);
}

/* A page record (the be64 read from cur): its block, then its kind's fields. */
static struct vf_error *page_record(struct mig_walk *c, struct vf_cursor *cur, uint32_t flags,
				    uint64_t addr, uint64_t roff)
{
	struct vf_migstate *st = c->st;
	uint64_t ps = st->page_size, fill;
	uint32_t kind = flags & ~RAM_CONTINUE;
	long bi = -1;
	struct vf_error *err = record_block(c, cur, flags, roff, &bi);
	if (err)
		return err;
	const struct vf_mig_ramblock *b = &st->ramblocks[bi];
	if (addr >= b->length || b->length - addr < ps)
		return vf_mig_corrupt(c, roff, "RAM record for offset 0x%" PRIx64 " of block "
				      "'%s', which has 0x%" PRIx64 " bytes", addr, b->idstr,
				      b->length);
	switch (kind) {
	case RAM_ZERO:
		if ((err = vf_mig_uint(c, cur, 1, "zero page fill byte", &fill)))
			return err;
		c->pos = vf_cursor_offset(cur);
		if ((err = index_record(c, bi, addr, RUN_ZERO, 0, (uint8_t)fill, roff)))
			return err;
		st->ram_zero_pages++;
		return NULL;
	case RAM_PAGE:
		c->pos = vf_cursor_offset(cur);
		if ((err = index_record(c, bi, addr, RUN_PAGE, c->pos, 0, roff)) ||
		    (err = vf_mig_skip(c, ps, "RAM page")))
			return err;
		st->ram_pages++;
		return NULL;
	}
	if ((err = packed_page(c, cur, kind, bi, addr, roff)))
		return err;
	st->ram_pages++;
	return NULL;
}

struct vf_error *vf_mig_ram_records(struct mig_walk *c)
{
	uint64_t ps = c->st->page_size;
	for (;;) {
		uint64_t roff = c->pos, v;
		struct vf_cursor cur;
		struct vf_error *err = vf_mig_window(c, roff, RECORD_HEAD, &cur);
		if (err || (err = vf_mig_uint(c, &cur, 8, "RAM record", &v)))
			return err;
		c->pos = vf_cursor_offset(&cur);
		uint32_t flags = (uint32_t)(v & (ps - 1));
		uint64_t addr = v & ~(ps - 1);
		uint32_t kind = flags & ~RAM_CONTINUE;
		if (flags & ~RAM_FLAGS_MASK)
			return vf_mig_corrupt(c, roff, "RAM record flags 0x%" PRIx32 " have unknown "
					      "bits", flags);
		bool cont = flags & RAM_CONTINUE;
		if (kind == RAM_MEM_SIZE && !cont)
			err = ram_block_list(c, addr, roff);
		else if (kind == RAM_EOS && !cont)
			return NULL;
		else if (kind == RAM_MULTIFD_FLUSH)
			continue;
		else if (kind == RAM_HOOK) {
			err = vf_error_at(VF_ERR_UNSUPPORTED, roff, "migration stream: RAM hook "
					  "record (an RDMA migration)");
			return vf_mig_at(c, vf_error_set_hint(err, "save the VM to a file with "
							      "migrate \"exec:cat > FILE\" "
							      "instead"));
		} else if (kind == RAM_ZERO || kind == RAM_PAGE || kind == RAM_COMPRESS_PAGE ||
			   kind == RAM_XBZRLE)
			err = page_record(c, &cur, flags, addr, roff);
		else
			return vf_mig_corrupt(c, roff, "RAM record flags 0x%" PRIx32 " are no known "
					      "record (offset 0x%" PRIx64 ")", flags, addr);
		if (err)
			return err;
	}
}
