/* flat.c - makedumpfile flattened streams, served as the file they encode.
 *
 * The records are kept in stream order (for writers), and resolved once into
 * disjoint segments sorted by logical offset, each the part of one record
 * that no later record overrides, as `makedumpfile -R` would leave it (when
 * no record overwrites another, as QEMU and makedumpfile write them, the
 * records sorted by offset are the segments).  A read or a lookup finds its
 * first segment by binary search and takes the segments from there; areas
 * nobody wrote read as 0.  The index is bounded (flat.h): records in all,
 * and records in a stream where some overlap.
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

static int cmp_seg(const void *a, const void *b)
{
	const struct flat_seg *x = a, *y = b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* The common case: no record overwrites another (QEMU and makedumpfile write
 * each byte once).  The records sorted by offset are then the segments; true
 * when they are (p->segs set), false when two overlap. */
static struct vf_error *sorted_disjoint(struct flat_priv *p, bool *disjoint)
{
	*disjoint = false;
	p->segs = malloc((p->n ? p->n : 1) * sizeof(*p->segs));
	if (!p->segs)
		return &vf_error_nomem;
	for (size_t i = 0; i < p->n; i++)
		p->segs[i] = (struct flat_seg){ p->records[i].offset, p->records[i].size,
						p->records[i].data_pos };
	if (p->n > 1)
		qsort(p->segs, p->n, sizeof(*p->segs), cmp_seg);
	for (size_t i = 1; i < p->n; i++) {
		if (p->segs[i - 1].offset + p->segs[i - 1].size > p->segs[i].offset) {
			free(p->segs);
			p->segs = NULL;
			return NULL;
		}
	}
	p->nsegs = p->n;
	*disjoint = true;
	return NULL;
}

static struct vf_error *sweep(struct flat_priv *p)
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

static struct vf_error *resolve(struct flat_priv *p)
{
	bool disjoint;
	struct vf_error *err = sorted_disjoint(p, &disjoint);
	if (err || disjoint)
		return err;
	if (p->n > VF_FLAT_OVERLAP_RECORDS_MAX)
		return vf_error_set_hint(vf_error_at(VF_ERR_CORRUPT, VF_FLAT_HEADER_SIZE,
			"%zu records, some of which overwrite others: a stream of more than %u "
			"records is indexed only when none does", p->n, VF_FLAT_OVERLAP_RECORDS_MAX),
			"a limit against hostile streams (LIMITS in vmcore-fix(1)); reassemble the "
			"stream with makedumpfile -R and give the plain file");
	return sweep(p);
}

/* Record headers read through a window of the stream: small records come
 * many to a read; after a large one, only its 16 bytes are read. */
struct hdr_reader {
	struct vf_src *base;
	uint8_t buf[64 << 10];
	uint64_t at;           /* stream offset of buf[0] */
	size_t len;            /* bytes held */
};

static struct vf_error *read_hdr(struct hdr_reader *r, uint64_t pos, bool small,
				 const uint8_t **rh)
{
	if (pos >= r->at && pos - r->at + 16 <= r->len) {
		*rh = r->buf + (pos - r->at);
		return NULL;
	}
	size_t got;
	struct vf_error *err = vf_src_pread(r->base, r->buf, small ? sizeof(r->buf) : 16, pos,
					    &got);
	if (err)
		return err;
	r->at = pos;
	r->len = got;
	*rh = got >= 16 ? r->buf : NULL;
	return NULL;
}

static struct vf_error *check_stream_header(struct flat_priv *p)
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
	return NULL;
}

static struct vf_error *add_record(struct flat_priv *p, size_t *cap, size_t max_records,
				   uint64_t pos, uint64_t offset, uint64_t size)
{
	if (p->n >= max_records)
		return vf_error_set_hint(vf_error_at(VF_ERR_CORRUPT, pos, "more than %zu records "
			"(the limit)", max_records), "a limit against hostile streams (LIMITS in "
			"vmcore-fix(1)): 256 GiB of QEMU's 16 KiB records; reassemble the stream "
			"with makedumpfile -R and give the plain file");
	if (p->n == *cap) {
		size_t c = *cap ? *cap * 2 : 1024;
		struct vf_flat_record *r = realloc(p->records, c * sizeof(*r));
		if (!r)
			return &vf_error_nomem;
		p->records = r;
		*cap = c;
	}
	p->records[p->n++] = (struct vf_flat_record){ offset, size, pos + 16 };
	return NULL;
}

static struct vf_error *build_index(struct flat_priv *p, size_t max_records,
				    uint64_t *logical_size)
{
	uint64_t file_size = p->base->size;
	struct vf_error *err = check_stream_header(p);
	if (err)
		return err;
	struct hdr_reader *rd = malloc(sizeof(*rd));
	if (!rd)
		return &vf_error_nomem;
	rd->base = p->base;
	rd->len = 0;
	size_t cap = 0;
	uint64_t pos = VF_FLAT_HEADER_SIZE, lsize = 0, last_size = 0;
	for (;;) {
		const uint8_t *rh;
		if ((err = read_hdr(rd, pos, last_size < 4096, &rh)))
			break;
		if (!rh) {
			err = vf_error_at(VF_ERR_CORRUPT, pos, "truncated flattened stream: no end "
					  "marker (file ends at 0x%" PRIx64 ")", file_size);
			break;
		}
		uint64_t offset = vf_load_uint(rh, 8, true), size = vf_load_uint(rh + 8, 8, true);
		if (offset == UINT64_MAX && size == UINT64_MAX) {
			p->end_pos = pos;
			break;
		}
		uint64_t lend = 0, dend = 0;
		if (size == 0)
			err = vf_error_at(VF_ERR_CORRUPT, pos, "flattened stream: zero-length record");
		else if ((int64_t)offset < 0 || (int64_t)size < 0 || !vf_add_ok(offset, size, &lend))
			err = vf_error_at(VF_ERR_CORRUPT, pos, "flattened stream: record offset 0x%"
					  PRIx64 " size 0x%" PRIx64 " out of range", offset, size);
		else if (!vf_add_ok(pos + 16, size, &dend) || dend > file_size)
			err = vf_error_at(VF_ERR_CORRUPT, pos, "truncated flattened stream: record "
					  "needs 0x%" PRIx64 " bytes, file ends at 0x%" PRIx64,
					  size, file_size);
		else
			err = add_record(p, &cap, max_records, pos, offset, size);
		if (err)
			break;
		if (lend > lsize)
			lsize = lend;
		pos = dend;
		last_size = size;
	}
	free(rd);
	if (err)
		return err;
	*logical_size = lsize;
	return resolve(p);
}

struct vf_error *vf_flat_open(struct vf_src *base, struct vf_src **ret)
{
	return vf_flat_open_limit(base, VF_FLAT_RECORDS_MAX, ret);
}

struct vf_error *vf_flat_open_limit(struct vf_src *base, size_t max_records, struct vf_src **ret)
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
	struct vf_error *err = build_index(p, max_records, &src->size);
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
