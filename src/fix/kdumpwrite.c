/* kdumpwrite.c - the bitmaps, page descriptors and page data of a kdump
 * written anew (fix/kdumpwrite.h). */
#include "config.h"
#include "fix/kdumpwrite.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef HAVE_ZLIB
#include <zlib.h>
#endif

#include "format/codec.h"
#include "util/cursor.h"

#define BITMAP_CHUNK (64u << 10)    /* bitmap bytes made at a time */
#define DESC_SZ 24u
#define DESC_BUF 2730u              /* descriptors written at a time (64 KiB) */
#define DATA_BUF (1u << 20)         /* page data written at a time */
#define READ_CHUNK (1u << 20)       /* guest memory read at a time */

/* ------------------------------------------------------------ bitmaps */

static void set_bits(uint8_t *b, uint64_t from, uint64_t to)
{
	while (from < to && from % 8)
		b[from / 8] |= (uint8_t)(1u << (from % 8)), from++;
	if (to - from >= 8) {
		memset(b + from / 8, 0xff, (size_t)((to - from) / 8));
		from += (to - from) / 8 * 8;
	}
	while (from < to)
		b[from / 8] |= (uint8_t)(1u << (from % 8)), from++;
}

static struct vf_error *flush_bitmap(const struct vf_plan *plan, const struct vf_copy_io *io,
				     const uint8_t *b, uint64_t chunk)
{
	uint64_t off = chunk * BITMAP_CHUNK;
	size_t n = plan->kd.bitmap_len - off < BITMAP_CHUNK ? (size_t)(plan->kd.bitmap_len - off)
							    : BITMAP_CHUNK;
	struct vf_error *err = vf_write_all(io->out, b, n, plan->kd.bitmap + off, io->out_path);
	return err ? err : vf_write_all(io->out, b, n, plan->kd.bitmap + plan->kd.bitmap_len + off,
					io->out_path);
}

/* Both bitmaps (equal) written chunk by chunk; chunks with no page are left
 * as holes. */
static struct vf_error *write_bitmaps(const struct vf_dump *d, const struct vf_plan *plan,
				      const struct vf_copy_io *io)
{
	uint8_t *b = malloc(BITMAP_CHUNK);
	if (!b)
		return &vf_error_nomem;
	const uint64_t per = (uint64_t)BITMAP_CHUNK * 8, bs = plan->kd.block;
	uint64_t cur = UINT64_MAX, next = 0, p0, p1;
	struct vf_error *err = NULL;
	for (size_t i = 0; !err && i < d->mem.nranges; i++) {
		if (!vf_plan_kdump_pages(&d->mem.ranges[i], bs, plan->kd.max_pfn, next, &p0, &p1))
			continue;
		next = p1;
		while (!err && p0 < p1) {
			uint64_t c = p0 / per;
			if (c != cur) {
				if (cur != UINT64_MAX && (err = flush_bitmap(plan, io, b, cur)))
					break;
				memset(b, 0, BITMAP_CHUNK);
				cur = c;
			}
			uint64_t e = (c + 1) * per < p1 ? (c + 1) * per : p1;
			set_bits(b, p0 - c * per, e - c * per);
			p0 = e;
		}
	}
	if (!err && cur != UINT64_MAX)
		err = flush_bitmap(plan, io, b, cur);
	free(b);
	return err;
}

/* ------------------------------------------------------------- pages */

struct body {
	const struct vf_plan *plan;
	const struct vf_copy_io *io;
	uint64_t bs;
	uint8_t *page;            /* the page being put together */
	uint64_t pfn;             /* its pfn; UINT64_MAX: none */
	bool has_data;            /* bytes other than holes went into it */
	uint8_t *descs;
	size_t ndescs;            /* descriptors buffered */
	uint64_t desc_index;      /* index of descs[0] */
	uint8_t *data;
	size_t data_len;          /* bytes buffered, to go at data_at */
	uint64_t data_at;
	uint8_t *comp;
	size_t comp_cap;
	uint64_t zero_off;        /* the shared page of zeros */
	uint32_t zero_len, zero_flags;
};

static struct vf_error *flush_descs(struct body *w)
{
	struct vf_error *err = vf_write_all(w->io->out, w->descs, w->ndescs * DESC_SZ,
					    w->plan->kd.desc + w->desc_index * DESC_SZ,
					    w->io->out_path);
	w->desc_index += w->ndescs;
	w->ndescs = 0;
	return err;
}

static struct vf_error *flush_data(struct body *w)
{
	struct vf_error *err = vf_write_all(w->io->out, w->data, w->data_len, w->data_at,
					    w->io->out_path);
	w->data_at += w->data_len;
	w->data_len = 0;
	return err;
}

static struct vf_error *add_desc(struct body *w, uint64_t off, uint32_t size, uint32_t flags)
{
	if (w->desc_index + w->ndescs >= w->plan->kd.npages)
		return vf_error_create(VF_ERR_CORRUPT, "the dump's memory changed while it was "
				       "read: more pages than planned");
	bool be = w->plan->kd.be;
	uint8_t *p = w->descs + w->ndescs * DESC_SZ;
	vf_store_uint(p, 8, be, off);
	vf_store_uint(p + 8, 4, be, size);
	vf_store_uint(p + 12, 4, be, flags);
	vf_store_uint(p + 16, 8, be, 0);  /* page_flags */
	return ++w->ndescs == DESC_BUF ? flush_descs(w) : NULL;
}

/* The page's bytes as they go into the file: compressed when that is
 * smaller, else as they are. */
static const uint8_t *encode(struct body *w, const uint8_t *page, uint32_t *len,
			     uint32_t *flags)
{
#ifdef HAVE_ZLIB
	if (w->plan->kd.zlib) {
		uLongf n = (uLongf)w->comp_cap;
		if (compress2(w->comp, &n, page, (uLong)w->bs, Z_BEST_SPEED) == Z_OK &&
		    n < w->bs) {
			*len = (uint32_t)n;
			*flags = VF_KDUMP_ZLIB;
			return w->comp;
		}
	}
#endif
	*len = (uint32_t)w->bs;
	*flags = 0;
	return page;
}

static struct vf_error *put_data(struct body *w, const uint8_t *p, uint32_t n, uint64_t *at)
{
	struct vf_error *err = NULL;
	if (w->data_len + n > DATA_BUF)
		err = flush_data(w);
	*at = w->data_at + w->data_len;
	memcpy(w->data + w->data_len, p, n);
	w->data_len += n;
	return err;
}

/* The page put together is done: its descriptor, and its data unless it is
 * zeros. */
static struct vf_error *emit(struct body *w)
{
	if (w->pfn == UINT64_MAX)
		return NULL;
	w->pfn = UINT64_MAX;
	if (!w->has_data || vf_all_zero(w->page, (size_t)w->bs))
		return add_desc(w, w->zero_off, w->zero_len, w->zero_flags);
	uint32_t len, flags;
	const uint8_t *p = encode(w, w->page, &len, &flags);
	uint64_t at;
	struct vf_error *err = put_data(w, p, len, &at);
	return err ? err : add_desc(w, at, len, flags);
}

/* Bytes [a, a + len) of guest memory (bytes NULL: a hole, zeros) into the
 * pages. */
static struct vf_error *feed(struct body *w, uint64_t a, const uint8_t *bytes, uint64_t len)
{
	struct vf_error *err = NULL;
	while (!err && len) {
		uint64_t pfn = a / w->bs, off = a % w->bs;
		uint64_t n = w->bs - off < len ? w->bs - off : len;
		if (pfn != w->pfn) {
			err = emit(w);
			if (err)
				break;
			if (!bytes && n == w->bs) {
				/* whole pages of a hole: zero pages at once */
				uint64_t k = len / w->bs;
				for (uint64_t i = 0; !err && i < k; i++)
					err = add_desc(w, w->zero_off, w->zero_len, w->zero_flags);
				a += k * w->bs;
				len -= k * w->bs;
				continue;
			}
			memset(w->page, 0, (size_t)w->bs);
			w->pfn = pfn;
			w->has_data = false;
		}
		if (bytes) {
			memcpy(w->page + off, bytes, (size_t)n);
			bytes += n;
			w->has_data = true;
		}
		a += n;
		len -= n;
	}
	return err;
}

/* Guest memory [a, e) into the pages: data extents read, holes fed as
 * zeros. */
static struct vf_error *feed_range(struct body *w, struct vf_dump *d, uint64_t a, uint64_t e,
				   uint8_t *buf, uint64_t *copied, uint64_t *done)
{
	struct vf_mem *m = &d->mem;
	struct vf_error *err = NULL;
	while (!err && a < e) {
		uint64_t dend = UINT64_MAX;
		uint64_t nd = m->ops->next_data ? m->ops->next_data(m->ctx, a, &dend) : a;
		if (nd > a) {
			uint64_t h = nd < e ? nd : e;
			err = feed(w, a, NULL, h - a);
			*done += h - a;
			a = h;
			continue;
		}
		uint64_t n = e - a < READ_CHUNK ? e - a : READ_CHUNK;
		if (dend > a && dend - a < n)
			n = dend - a;
		err = vf_mem_read(m, a, buf, (size_t)n);
		if (err)
			return vf_error_prefix(err, "reading the dump's memory");
		err = feed(w, a, buf, n);
		*copied += n;
		*done += n;
		a += n;
		if (w->io->progress)
			w->io->progress(w->io->progress_arg, *done, w->plan->kd.npages * w->bs);
	}
	return err;
}

static struct vf_error *write_pages(struct vf_dump *d, struct body *w, uint64_t *copied)
{
	uint8_t *buf = malloc(READ_CHUNK);
	if (!buf)
		return &vf_error_nomem;
	/* the shared page of zeros first, as QEMU writes it */
	memset(w->page, 0, (size_t)w->bs);
	uint64_t at;
	const uint8_t *z = encode(w, w->page, &w->zero_len, &w->zero_flags);
	struct vf_error *err = put_data(w, z, w->zero_len, &at);
	w->zero_off = at;
	/* every byte of the ranges below the memory map's end once, in address
	 * order (a page two ranges share is put together from both) */
	uint64_t covered = 0, done = 0, limit = w->plan->kd.max_pfn * w->bs;
	for (size_t i = 0; !err && i < d->mem.nranges; i++) {
		const struct vf_mem_range *r = &d->mem.ranges[i];
		uint64_t a = r->start > covered ? r->start : covered;
		uint64_t e = r->size > limit - (r->start < limit ? r->start : limit) ?
			     limit : r->start + r->size;
		if (a >= e)
			continue;
		err = feed_range(w, d, a, e, buf, copied, &done);
		covered = e;
	}
	free(buf);
	if (!err)
		err = emit(w);
	if (!err && w->ndescs)
		err = flush_descs(w);
	if (!err && w->data_len)
		err = flush_data(w);
	if (!err && w->desc_index != w->plan->kd.npages)
		err = vf_error_create(VF_ERR_CORRUPT, "the dump's memory changed while it was "
				      "read: %" PRIu64 " pages of %" PRIu64 " planned",
				      w->desc_index, w->plan->kd.npages);
	return err;
}

struct vf_error *vf_write_kdump_body(struct vf_dump *dump, const struct vf_plan *plan,
				     const struct vf_copy_io *io, uint64_t *copied)
{
	struct vf_error *err = write_bitmaps(dump, plan, io);
	if (err)
		return err;
	struct body w = { .plan = plan, .io = io, .bs = plan->kd.block, .pfn = UINT64_MAX,
			  .data_at = plan->kd.desc + plan->kd.npages * DESC_SZ };
#ifdef HAVE_ZLIB
	w.comp_cap = compressBound((uLong)w.bs);
#endif
	w.page = malloc((size_t)w.bs);
	w.descs = malloc(DESC_BUF * DESC_SZ);
	w.data = malloc(DATA_BUF);
	w.comp = malloc(w.comp_cap ? w.comp_cap : 1);
	if (!w.page || !w.descs || !w.data || !w.comp)
		err = &vf_error_nomem;
	if (!err)
		err = write_pages(dump, &w, copied);
	if (!err && ftruncate(io->out, (off_t)w.data_at) < 0)
		err = vf_error_os(errno, io->out_path, "setting the size");
	free(w.page);
	free(w.descs);
	free(w.data);
	free(w.comp);
	return err;
}
