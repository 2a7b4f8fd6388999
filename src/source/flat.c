/* flat.c - makedumpfile flattened streams, served as the file they encode.
 *
 * The records are kept in stream order (for writers), 16 bytes each, and
 * resolved once into disjoint segments sorted by logical offset, each the
 * part of one record that no later record overrides, as `makedumpfile -R`
 * would leave it: the records that overlap no other (as QEMU and
 * makedumpfile write them: all) are segments as they are, listed by offset
 * in 4 bytes each; the overlapping ones are swept into explicit segments.
 * A read or a lookup finds its first segment in each list by binary search
 * and takes the segments from there in offset order; areas nobody wrote read
 * as 0.  The index is bounded (flat.h): records in all, and records that
 * overlap others.
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

/* A record as kept: its size is what lies before the next record's header
 * (or the end marker), so it is not stored. */
struct flat_rec {
	uint64_t offset;
	uint64_t data_pos;
};

struct flat_priv {
	struct vf_src *base;             /* the stream; owned */
	struct flat_rec *recs;           /* stream order */
	size_t n;
	uint64_t end_pos;                /* file offset of the end marker */
	/* The segments, disjoint, in two sorted lists: the records that overlap
	 * no other, by offset (indices into recs), and the resolved parts of
	 * those that do (clusters of overlapping records, swept). */
	uint32_t *alone;
	size_t nalone;
	struct flat_seg *swept;
	size_t nswept;
};

static uint64_t rec_size(const struct flat_priv *p, size_t i)
{
	uint64_t next = i + 1 < p->n ? p->recs[i + 1].data_pos - 16 : p->end_pos;
	return next - p->recs[i].data_pos;
}

static struct flat_seg rec_seg(const struct flat_priv *p, size_t i)
{
	return (struct flat_seg){ p->recs[i].offset, rec_size(p, i), p->recs[i].data_pos };
}

bool vf_flat_probe(const uint8_t *head, size_t len)
{
	static const char sig[16] = VF_FLAT_SIGNATURE;
	return len >= 16 && memcmp(head, sig, sizeof(sig)) == 0;
}

/* Where the two segment lists stand at a logical offset: the first entry of
 * each that ends after it. */
struct seg_pos {
	size_t a, s;
};

static struct seg_pos seg_after(const struct flat_priv *p, uint64_t off)
{
	struct seg_pos at;
	size_t lo = 0, hi = p->nalone;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		size_t r = p->alone[mid];
		if (p->recs[r].offset + rec_size(p, r) <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	at.a = lo;
	lo = 0, hi = p->nswept;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->swept[mid].offset + p->swept[mid].size <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	at.s = lo;
	return at;
}

/* The segment at *at (the lower of the two lists' next ones), and step past
 * it; false when both lists are done. */
static bool seg_next(const struct flat_priv *p, struct seg_pos *at, struct flat_seg *seg)
{
	bool a = at->a < p->nalone, s = at->s < p->nswept;
	if (a && s)
		a = p->recs[p->alone[at->a]].offset < p->swept[at->s].offset;
	else if (!a && !s)
		return false;
	if (a)
		*seg = rec_seg(p, p->alone[at->a++]);
	else
		*seg = p->swept[at->s++];
	return true;
}

bool vf_flat_locate(const struct vf_src *src, uint64_t off, uint64_t *data_pos, uint64_t *len)
{
	const struct flat_priv *p = src->priv;
	struct seg_pos at = seg_after(p, off);
	struct flat_seg s;
	if (!seg_next(p, &at, &s)) {
		*len = UINT64_MAX;
		return false;
	}
	if (s.offset > off) {  /* a gap: up to the next record's start */
		*len = s.offset - off;
		return false;
	}
	*data_pos = s.data_pos + (off - s.offset);
	*len = s.offset + s.size - off;
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
	struct seg_pos at = seg_after(p, off);
	struct flat_seg s;
	while (seg_next(p, &at, &s) && s.offset < end) {
		uint64_t a = s.offset > off ? s.offset : off;
		uint64_t b = s.offset + s.size < end ? s.offset + s.size : end;
		uint64_t from = s.data_pos + (a - s.offset);
		size_t n;
		struct vf_error *err = vf_src_pread(p->base, (uint8_t *)buf + (a - off),
						    (size_t)(b - a), from, &n);
		if (!err && n < b - a)
			err = vf_error_truncated(from, "flattened record data", b - a, n);
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
	free(p->recs);
	free(p->alone);
	free(p->swept);
	free(p);
}

static const struct vf_src_ops flat_ops = {
	.pread = flat_pread,
	.destroy = flat_destroy,
};

/* ------------------------------------------------------------ resolving
 * The records sorted by offset (an index array: 4 bytes a record) fall into
 * clusters, runs that overlap one another.  A record alone in its cluster is
 * a segment as it is (QEMU and makedumpfile write each byte once: all of
 * them).  The clusters' records, few, are swept over their edges by offset
 * (sweep()). */

static int cmp_by_offset(const void *a, const void *b, void *ctx)
{
	const struct flat_rec *r = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	if (r[x].offset != r[y].offset)
		return r[x].offset < r[y].offset ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Binary heaps of record indices: by stream position, the latest on top
 * (the record whose bytes win), or by end offset, the first to end on top. */
static bool heap_above(const struct flat_priv *p, bool by_end, uint32_t x, uint32_t y)
{
	if (!by_end)
		return x > y;
	return p->recs[x].offset + rec_size(p, x) < p->recs[y].offset + rec_size(p, y);
}

static void heap_push(const struct flat_priv *p, bool by_end, uint32_t *h, size_t *n, uint32_t v)
{
	size_t i = (*n)++;
	for (; i > 0 && heap_above(p, by_end, v, h[(i - 1) / 2]); i = (i - 1) / 2)
		h[i] = h[(i - 1) / 2];
	h[i] = v;
}

static void heap_pop(const struct flat_priv *p, bool by_end, uint32_t *h, size_t *n)
{
	uint32_t v = h[--*n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && heap_above(p, by_end, h[c + 1], h[c]))
			c++;
		if (!heap_above(p, by_end, h[c], v))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = v;
}

/* Append [pos, pos + len) as record r holds it, merged with the segment
 * before when that is the same record's preceding bytes. */
static void add_swept(struct flat_priv *p, uint64_t pos, uint64_t len, uint32_t r)
{
	uint64_t data = p->recs[r].data_pos + (pos - p->recs[r].offset);
	struct flat_seg *last = p->nswept ? &p->swept[p->nswept - 1] : NULL;
	if (last && last->offset + last->size == pos && last->data_pos + last->size == data) {
		last->size += len;
		return;
	}
	p->swept[p->nswept++] = (struct flat_seg){ pos, len, data };
}

/* Sweep the n records of idx (whole clusters, sorted by offset) into
 * p->swept: the starts come from idx in order, the ends from a heap of the
 * open records by end; at each edge the latest open record holds the bytes
 * up to the next edge. */
static struct vf_error *sweep(struct flat_priv *p, const uint32_t *idx, size_t n)
{
	size_t nwin = 0, nend = 0;
	uint32_t *win = malloc((n ? n : 1) * sizeof(*win));
	uint32_t *ends = malloc((n ? n : 1) * sizeof(*ends));
	/* closed[r]: record r's end has passed (calloc'd: only the clusters'
	 * part of it is touched) */
	bool *closed = calloc(p->n ? p->n : 1, sizeof(*closed));
	/* every edge starts at most one segment (only the pages used count) */
	p->swept = malloc((n ? 2 * n : 1) * sizeof(*p->swept));
	if (!win || !ends || !closed || !p->swept) {
		free(win);
		free(ends);
		free(closed);
		return &vf_error_nomem;
	}
	size_t i = 0;
	while (i < n || nend) {
		uint64_t pos = UINT64_MAX;
		if (i < n)
			pos = p->recs[idx[i]].offset;
		if (nend && p->recs[ends[0]].offset + rec_size(p, ends[0]) < pos)
			pos = p->recs[ends[0]].offset + rec_size(p, ends[0]);
		for (; nend && p->recs[ends[0]].offset + rec_size(p, ends[0]) == pos;) {
			closed[ends[0]] = true;
			heap_pop(p, true, ends, &nend);
		}
		for (; i < n && p->recs[idx[i]].offset == pos; i++) {
			heap_push(p, false, win, &nwin, idx[i]);
			heap_push(p, true, ends, &nend, idx[i]);
		}
		while (nwin && closed[win[0]])
			heap_pop(p, false, win, &nwin);
		if (!nwin)
			continue;
		/* an open record: it ends, or another starts, somewhere after pos */
		uint64_t next = p->recs[ends[0]].offset + rec_size(p, ends[0]);
		if (i < n && p->recs[idx[i]].offset < next)
			next = p->recs[idx[i]].offset;
		add_swept(p, pos, next - pos, win[0]);
	}
	free(win);
	free(ends);
	free(closed);
	return NULL;
}

static struct vf_error *resolve(struct flat_priv *p)
{
	size_t n = p->n;
	p->alone = malloc((n ? n : 1) * sizeof(*p->alone));
	if (!p->alone)
		return &vf_error_nomem;
	for (size_t i = 0; i < n; i++)
		p->alone[i] = (uint32_t)i;
	if (n > 1)
		qsort_r(p->alone, n, sizeof(*p->alone), cmp_by_offset, p->recs);
	/* Split by clusters: the lone records stay in alone (in place, in
	 * order), the clustered ones gather at its end, after a count that
	 * stops at the limit. */
	size_t nalone = 0, nclus = 0, cap = 0;
	uint32_t *clus = NULL;
	for (size_t i = 0; i < n;) {
		uint64_t end = p->recs[p->alone[i]].offset + rec_size(p, p->alone[i]);
		size_t j = i + 1;
		for (; j < n && p->recs[p->alone[j]].offset < end; j++) {
			uint64_t e = p->recs[p->alone[j]].offset + rec_size(p, p->alone[j]);
			if (e > end)
				end = e;
		}
		if (j - i == 1) {
			p->alone[nalone++] = p->alone[i];
		} else {
			if (nclus + (j - i) > VF_FLAT_OVERLAP_RECORDS_MAX) {
				free(clus);
				return vf_error_set_hint(vf_error_at(VF_ERR_CORRUPT, VF_FLAT_HEADER_SIZE,
					"more than %u records overwrite others or are overwritten "
					"(the limit)", VF_FLAT_OVERLAP_RECORDS_MAX),
					"a limit against hostile streams (LIMITS in vmcore-fix(1)); "
					"reassemble the stream with makedumpfile -R and give the "
					"plain file");
			}
			if (nclus + (j - i) > cap) {
				cap = 2 * (nclus + (j - i));
				uint32_t *c = realloc(clus, cap * sizeof(*c));
				if (!c) {
					free(clus);
					return &vf_error_nomem;
				}
				clus = c;
			}
			memcpy(clus + nclus, p->alone + i, (j - i) * sizeof(*clus));
			nclus += j - i;
		}
		i = j;
	}
	p->nalone = nalone;
	struct vf_error *err = nclus ? sweep(p, clus, nclus) : NULL;
	free(clus);
	return err;
}

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
				   uint64_t pos, uint64_t offset)
{
	if (p->n >= max_records)
		return vf_error_set_hint(vf_error_at(VF_ERR_CORRUPT, pos, "more than %zu records "
			"(the limit)", max_records), "a limit against hostile streams (LIMITS in "
			"vmcore-fix(1)): 256 GiB of QEMU's 16 KiB records; reassemble the stream "
			"with makedumpfile -R and give the plain file");
	if (p->n == *cap) {
		size_t c = *cap ? *cap * 2 : 1024;
		struct flat_rec *r = realloc(p->recs, c * sizeof(*r));
		if (!r)
			return &vf_error_nomem;
		p->recs = r;
		*cap = c;
	}
	p->recs[p->n++] = (struct flat_rec){ offset, pos + 16 };
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
			err = add_record(p, &cap, max_records, pos, offset);
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

size_t vf_flat_record_count(const struct vf_src *src)
{
	const struct flat_priv *p = src->kind == VF_SRC_FLATTENED ? src->priv : NULL;
	return p ? p->n : 0;
}

bool vf_flat_has_overlaps(const struct vf_src *src)
{
	const struct flat_priv *p = src->kind == VF_SRC_FLATTENED ? src->priv : NULL;
	return p && p->nalone < p->n;
}

struct vf_flat_record vf_flat_record_at(const struct vf_src *src, size_t i)
{
	const struct flat_priv *p = src->priv;
	return (struct vf_flat_record){ p->recs[i].offset, rec_size(p, i), p->recs[i].data_pos };
}

uint64_t vf_flat_end_pos(const struct vf_src *src)
{
	const struct flat_priv *p = src->kind == VF_SRC_FLATTENED ? src->priv : NULL;
	return p ? p->end_pos : 0;
}
