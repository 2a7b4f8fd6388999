/* flat.c - makedumpfile flattened streams, served as the file they encode.
 *
 * The index holds one entry per record (no data) sorted by logical offset.
 * A read takes the records that can touch the range — those starting less
 * than the longest record's size before it — and applies them in stream
 * order over a zero-filled buffer, so a later record overrides an earlier
 * one, as `makedumpfile -R` replays them, and areas nobody wrote read as 0.
 */
#include "config.h"
#include "source/flat.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cursor.h"

struct flat_entry {
	uint64_t offset;
	uint64_t size;
	uint64_t data_pos;
	size_t seq;          /* position in the stream */
};

struct flat_priv {
	struct vf_flat_record *records;  /* stream order */
	size_t n;
	struct flat_entry *sorted;       /* by offset */
	uint64_t max_size;
	uint64_t end_pos;                /* file offset of the end marker */
};

bool vf_flat_probe(const uint8_t *head, size_t len)
{
	static const char sig[16] = VF_FLAT_SIGNATURE;
	return len >= 16 && memcmp(head, sig, sizeof(sig)) == 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct flat_entry *x = a, *y = b;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_seq(const void *a, const void *b)
{
	const struct flat_entry *const *x = a, *const *y = b;
	return (*x)->seq < (*y)->seq ? -1 : (*x)->seq > (*y)->seq;
}

/* The first sorted entry that may hold a byte at or after off. */
static size_t first_candidate(const struct flat_priv *p, uint64_t off)
{
	uint64_t lo_off = off > p->max_size ? off - p->max_size : 0;
	size_t lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->sorted[mid].offset < lo_off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool vf_flat_locate(const struct vf_src *src, uint64_t off, uint64_t *data_pos, uint64_t *len)
{
	const struct flat_priv *p = src->priv;
	const struct flat_entry *best = NULL;
	size_t i = first_candidate(p, off);
	for (; i < p->n && p->sorted[i].offset <= off; i++) {
		const struct flat_entry *e = &p->sorted[i];
		if (off - e->offset < e->size && (!best || e->seq > best->seq))
			best = e;
	}
	if (!best) {  /* a gap: up to the next record's start */
		*len = i < p->n ? p->sorted[i].offset - off : UINT64_MAX;
		return false;
	}
	uint64_t end = best->offset + best->size;
	for (; i < p->n && p->sorted[i].offset < end; i++)
		if (p->sorted[i].seq > best->seq)  /* a later record overrides from here */
			end = p->sorted[i].offset;
	*data_pos = best->data_pos + (off - best->offset);
	*len = end - off;
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

	size_t lo = first_candidate(p, off), cap = 16, k = 0;
	struct flat_entry **hits = malloc(cap * sizeof(*hits));
	if (!hits)
		return &vf_error_nomem;
	for (size_t i = lo; i < p->n && p->sorted[i].offset < end; i++) {
		struct flat_entry *e = &p->sorted[i];
		if (e->offset + e->size <= off)
			continue;
		if (k == cap) {
			cap *= 2;
			struct flat_entry **h = realloc(hits, cap * sizeof(*hits));
			if (!h) {
				free(hits);
				return &vf_error_nomem;
			}
			hits = h;
		}
		hits[k++] = e;
	}
	if (k > 1)
		qsort(hits, k, sizeof(*hits), cmp_seq);
	struct vf_error *err = NULL;
	for (size_t i = 0; i < k && !err; i++) {
		struct flat_entry *e = hits[i];
		uint64_t a = e->offset > off ? e->offset : off;
		uint64_t b = e->offset + e->size < end ? e->offset + e->size : end;
		size_t n;
		err = vf_pread_full(src->fd, src->path, (uint8_t *)buf + (a - off), (size_t)(b - a),
			       e->data_pos + (a - e->offset), &n);
		if (!err && n < b - a)
			err = vf_error_truncated(e->data_pos + (a - e->offset),
						 "flattened record data", b - a, n);
	}
	free(hits);
	if (!err)
		*got = len;
	return err;
}

static void flat_destroy(struct vf_src *src)
{
	struct flat_priv *p = src->priv;
	if (!p)
		return;
	free(p->records);
	free(p->sorted);
	free(p);
}

static const struct vf_src_ops flat_ops = {
	.pread = flat_pread,
	.destroy = flat_destroy,
};

static struct vf_error *build_index(int fd, const char *path, uint64_t file_size,
				    struct flat_priv *p, uint64_t *logical_size)
{
	uint8_t hdr[32];
	size_t got;
	struct vf_error *err = vf_pread_full(fd, path, hdr, sizeof(hdr), 0, &got);
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
		err = vf_pread_full(fd, path, rh, sizeof(rh), pos, &got);
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
		if (size > p->max_size)
			p->max_size = size;
		pos = dend;
	}
	p->sorted = malloc((p->n ? p->n : 1) * sizeof(*p->sorted));
	if (!p->sorted)
		return &vf_error_nomem;
	for (size_t i = 0; i < p->n; i++)
		p->sorted[i] = (struct flat_entry){ p->records[i].offset, p->records[i].size,
						    p->records[i].data_pos, i };
	if (p->n > 1)
		qsort(p->sorted, p->n, sizeof(*p->sorted), cmp_entry);
	*logical_size = lsize;
	return NULL;
}

struct vf_error *vf_flat_open(int fd, const char *path, uint64_t file_size,
			      struct vf_src **ret)
{
	struct vf_src *src = calloc(1, sizeof(*src));
	struct flat_priv *p = calloc(1, sizeof(*p));
	if (!src || !p || !(src->path = strdup(path ? path : "(input)"))) {
		free(src);
		free(p);
		close(fd);
		return &vf_error_nomem;
	}
	src->ops = &flat_ops;
	src->kind = VF_SRC_FLATTENED;
	src->fd = fd;
	src->file_size = file_size;
	src->priv = p;
	struct vf_error *err = build_index(fd, path, file_size, p, &src->size);
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
