/* flat.c - makedumpfile flattened streams, served as the file they encode.
 *
 * The records are kept in stream order (for writers), and resolved once into
 * disjoint segments sorted by logical offset, each the part of one record
 * that no later record overrides, as `makedumpfile -R` would leave it.  A
 * read or a lookup finds its first segment by binary search and takes the
 * segments from there; areas nobody wrote read as 0.
 */
#include "config.h"
#include "source/flat.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"

struct flat_seg {
	uint64_t offset;      /* logical */
	uint64_t size;
	uint64_t data_pos;    /* in the stream */
};

struct flat_priv {
	struct vf_src *base;             /* the stream; owned */
	struct vf_flat_record *records;  /* stream order */
	size_t n;
	struct flat_seg *segs;           /* disjoint, by offset */
	size_t nsegs;
	uint64_t end_pos;                /* file offset of the end marker */
};

bool vf_flat_probe(const uint8_t *head, size_t len)
{
	static const char sig[16] = VF_FLAT_SIGNATURE;
	return len >= 16 && memcmp(head, sig, sizeof(sig)) == 0;
}

/* The first segment that ends after off (nsegs: none). */
static size_t seg_after(const struct flat_priv *p, uint64_t off)
{
	size_t lo = 0, hi = p->nsegs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->segs[mid].offset + p->segs[mid].size <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool vf_flat_locate(const struct vf_src *src, uint64_t off, uint64_t *data_pos, uint64_t *len)
{
	const struct flat_priv *p = src->priv;
	size_t i = seg_after(p, off);
	if (i == p->nsegs) {
		*len = UINT64_MAX;
		return false;
	}
	const struct flat_seg *s = &p->segs[i];
	if (s->offset > off) {  /* a gap: up to the next record's start */
		*len = s->offset - off;
		return false;
	}
	*data_pos = s->data_pos + (off - s->offset);
	*len = s->offset + s->size - off;
	return true;
}

static struct vf_error *flat_pread(struct vf_src *src, void *buf, size_t len, uint64_t off,
				   size_t *got)
{
	struct flat_priv *p = src->priv;
	*got = 0;
	if (off >= src->size)
		return NULL;
	if (len > src->size - off)
		len = (size_t)(src->size - off);
	memset(buf, 0, len);
	uint64_t end = off + len;
	for (size_t i = seg_after(p, off); i < p->nsegs && p->segs[i].offset < end; i++) {
		const struct flat_seg *s = &p->segs[i];
		uint64_t a = s->offset > off ? s->offset : off;
		uint64_t b = s->offset + s->size < end ? s->offset + s->size : end;
		uint64_t at = s->data_pos + (a - s->offset);
		size_t n;
		struct vf_error *err = vf_src_pread(p->base, (uint8_t *)buf + (a - off),
						    (size_t)(b - a), at, &n);
		if (!err && n < b - a)
			err = vf_error_truncated(at, "flattened record data", b - a, n);
		if (err)
			return err;
	}
	*got = len;
	return NULL;
}

static void flat_destroy(struct vf_src *src)
{
	struct flat_priv *p = src->priv;
	if (!p)
		return;
	vf_src_destroy(p->base);   /* closes the fd this source shows */
	src->fd = -1;
	free(p->records);
	free(p->segs);
	free(p);
}

static const struct vf_src_ops flat_ops = {
	.pread = flat_pread,
	.destroy = flat_destroy,
};

/* ------------------------------------------------------------ resolving
 * A sweep over the records' edges by logical offset, with a max-heap of the
 * records open there (by stream position; closed ones leave it lazily): the
 * top of the heap is what the bytes up to the next edge hold. */

struct edge {
	uint64_t pos;
	size_t rec;
	bool start;
};

static int cmp_edge(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void heap_push(size_t *h, size_t *n, size_t v)
{
	size_t i = (*n)++;
	for (; i > 0 && h[(i - 1) / 2] < v; i = (i - 1) / 2)
		h[i] = h[(i - 1) / 2];
	h[i] = v;
}

static void heap_pop(size_t *h, size_t *n)
{
	size_t v = h[--*n], i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1] > h[c])
			c++;
		if (h[c] <= v)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = v;
}

/* Append [pos, pos + len) as record r holds it, merged with the segment
 * before when that is the same record's preceding bytes. */
static void add_seg(struct flat_priv *p, uint64_t pos, uint64_t len,
		    const struct vf_flat_record *r)
{
	uint64_t data = r->data_pos + (pos - r->offset);
	struct flat_seg *last = p->nsegs ? &p->segs[p->nsegs - 1] : NULL;
	if (last && last->offset + last->size == pos && last->data_pos + last->size == data) {
		last->size += len;
		return;
	}
	p->segs[p->nsegs++] = (struct flat_seg){ pos, len, data };
}

static struct vf_error *resolve(struct flat_priv *p)
{
	size_t n = p->n, hn = 0;
	if (n > SIZE_MAX / (2 * sizeof(struct edge)))
		return &vf_error_nomem;
	struct edge *ev = malloc((n ? 2 * n : 1) * sizeof(*ev));
	size_t *heap = malloc((n ? n : 1) * sizeof(*heap));
	bool *closed = calloc(n ? n : 1, sizeof(*closed));
	/* every edge starts at most one segment */
	p->segs = malloc((n ? 2 * n : 1) * sizeof(*p->segs));
	if (!ev || !heap || !closed || !p->segs) {
		free(ev);
		free(heap);
		free(closed);
		return &vf_error_nomem;
	}
	for (size_t i = 0; i < n; i++) {
		ev[2 * i] = (struct edge){ p->records[i].offset, i, true };
		ev[2 * i + 1] = (struct edge){ p->records[i].offset + p->records[i].size, i, false };
	}
	if (n)
		qsort(ev, 2 * n, sizeof(*ev), cmp_edge);
	for (size_t i = 0; i < 2 * n; ) {
		uint64_t pos = ev[i].pos;
		for (; i < 2 * n && ev[i].pos == pos; i++) {
			if (ev[i].start)
				heap_push(heap, &hn, ev[i].rec);
			else
				closed[ev[i].rec] = true;
		}
		while (hn && closed[heap[0]])
			heap_pop(heap, &hn);
		if (hn)  /* an open record: another edge follows */
			add_seg(p, pos, ev[i].pos - pos, &p->records[heap[0]]);
	}
	free(ev);
	free(heap);
	free(closed);
	return NULL;
}

static struct vf_error *build_index(struct flat_priv *p, uint64_t *logical_size)
{
	uint64_t file_size = p->base->size;
	uint8_t hdr[32];
	size_t got;
	struct vf_error *err = vf_src_pread(p->base, hdr, sizeof(hdr), 0, &got);
	if (err)
		return err;
	if (got < sizeof(hdr) || file_size < VF_FLAT_HEADER_SIZE)
		return vf_error_truncated(0, "flattened stream header", VF_FLAT_HEADER_SIZE,
					  file_size);
	uint64_t type = vf_load_uint(hdr + 16, 8, true), version = vf_load_uint(hdr + 24, 8, true);
	if (type != 1)
		return vf_error_at(VF_ERR_CORRUPT, 16, "flattened stream: type %" PRIu64
				   " (expected 1)", type);
	if (version != 1)
		return vf_error_at(VF_ERR_UNSUPPORTED, 24, "flattened stream: version %" PRIu64
				   " (only 1 is known)", version);

	size_t cap = 0;
	uint64_t pos = VF_FLAT_HEADER_SIZE, lsize = 0;
	for (;;) {
		uint8_t rh[16];
		err = vf_src_pread(p->base, rh, sizeof(rh), pos, &got);
		if (err)
			return err;
		if (got < sizeof(rh))
			return vf_error_at(VF_ERR_CORRUPT, pos, "truncated flattened stream: no end "
					   "marker (file ends at 0x%" PRIx64 ")", file_size);
		uint64_t offset = vf_load_uint(rh, 8, true), size = vf_load_uint(rh + 8, 8, true);
		if (offset == UINT64_MAX && size == UINT64_MAX) {
			p->end_pos = pos;
			break;
		}
		if (size == 0)
			return vf_error_at(VF_ERR_CORRUPT, pos, "flattened stream: zero-length record");
		uint64_t lend, dend;
		if ((int64_t)offset < 0 || (int64_t)size < 0 || !vf_add_ok(offset, size, &lend))
			return vf_error_at(VF_ERR_CORRUPT, pos, "flattened stream: record offset 0x%"
					   PRIx64 " size 0x%" PRIx64 " out of range", offset, size);
		if (!vf_add_ok(pos + 16, size, &dend) || dend > file_size)
			return vf_error_at(VF_ERR_CORRUPT, pos, "truncated flattened stream: record "
					   "needs 0x%" PRIx64 " bytes, file ends at 0x%" PRIx64,
					   size, file_size);
		if (p->n == cap) {
			cap = cap ? cap * 2 : 1024;
			struct vf_flat_record *r = realloc(p->records, cap * sizeof(*r));
			if (!r)
				return &vf_error_nomem;
			p->records = r;
		}
		p->records[p->n++] = (struct vf_flat_record){ offset, size, pos + 16 };
		if (lend > lsize)
			lsize = lend;
		pos = dend;
	}
	*logical_size = lsize;
	return resolve(p);
}

struct vf_error *vf_flat_open(struct vf_src *base, struct vf_src **ret)
{
	struct vf_src *src = calloc(1, sizeof(*src));
	struct flat_priv *p = calloc(1, sizeof(*p));
	if (!src || !p || !(src->path = strdup(base->path ? base->path : "(input)"))) {
		free(src);
		free(p);
		vf_src_destroy(base);
		return &vf_error_nomem;
	}
	p->base = base;
	src->ops = &flat_ops;
	src->kind = VF_SRC_FLATTENED;
	src->fd = base->fd;
	src->file_size = base->file_size;
	src->priv = p;
	struct vf_error *err = build_index(p, &src->size);
	if (err) {
		vf_src_destroy(src);
		return vf_error_prefix(err, "makedumpfile flattened stream");
	}
	*ret = src;
	return NULL;
}

void vf_flat_records(const struct vf_src *src, const struct vf_flat_record **recs, size_t *n)
{
	const struct flat_priv *p = src->kind == VF_SRC_FLATTENED ? src->priv : NULL;
	*recs = p ? p->records : NULL;
	*n = p ? p->n : 0;
}

uint64_t vf_flat_end_pos(const struct vf_src *src)
{
	const struct flat_priv *p = src->kind == VF_SRC_FLATTENED ? src->priv : NULL;
	return p ? p->end_pos : 0;
}
