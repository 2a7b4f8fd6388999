/* flatwrite.c - flattened streams written, and patches placed in one. */
#include "config.h"
#include "fix/flatwrite.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cursor.h"
#include "source/flat.h"
#include "source/src.h"

#define FLAT_RECORD_MAX (1u << 20)

/* A flattened stream's 4096-byte header (signature, type 1, version 1). */
static struct vf_error *write_flat_header(int out, const char *out_path)
{
	uint8_t *hdr = calloc(1, VF_FLAT_HEADER_SIZE);
	if (!hdr)
		return &vf_error_nomem;
	memcpy(hdr, VF_FLAT_SIGNATURE, strlen(VF_FLAT_SIGNATURE));
	vf_store_uint(hdr + 16, 8, true, 1);
	vf_store_uint(hdr + 24, 8, true, 1);
	struct vf_error *err = vf_write_all(out, hdr, VF_FLAT_HEADER_SIZE, 0, out_path);
	free(hdr);
	return err;
}

/* A record header: be64 logical offset, be64 size (both -1: the end marker). */
static void record_head(uint8_t *rh, uint64_t offset, uint64_t size)
{
	vf_store_uint(rh, 8, true, offset);
	vf_store_uint(rh + 8, 8, true, size);
}

static struct vf_error *write_end_marker(int out, const char *out_path, uint64_t at)
{
	uint8_t rh[16];
	record_head(rh, UINT64_MAX, UINT64_MAX);
	return vf_write_all(out, rh, 16, at, out_path);
}

/* ------------------------------------------------- patches in a stream */

struct piece_list {
	struct vf_phys_patch *v;
	size_t n, cap;
};

static bool piece_add(struct piece_list *l, uint64_t at, const uint8_t *bytes, uint64_t len)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct vf_phys_patch *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return false;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct vf_phys_patch){ at, bytes, (uint32_t)len };
	return true;
}

/* The pieces of p that records of the stream hold go to in (at their
 * physical offsets), the others to add (at their logical offsets); *extra_len
 * grows by the records the others need. */
static bool split_patch(const struct vf_src *src, const struct vf_patch *p,
			struct piece_list *in, struct piece_list *add, uint64_t *extra_len)
{
	bool ok = true;
	for (uint64_t o = p->offset, end = p->offset + p->len; ok && o < end;) {
		uint64_t at = 0, run;
		bool held = vf_flat_locate(src, o, &at, &run);
		uint64_t cnt = run < end - o ? run : end - o;
		const uint8_t *b = p->bytes + (o - p->offset);
		ok = held ? piece_add(in, at, b, cnt) : piece_add(add, o, b, cnt);
		if (!held)
			*extra_len += 16 + cnt;
		o += cnt;
	}
	return ok;
}

/* The records for the pieces in add and a new end marker, as one piece of
 * in written over the old end marker; *extra owns their bytes. */
static struct vf_error *new_records(const struct vf_src *src, const struct piece_list *add,
				    uint64_t extra_len, struct piece_list *in, uint8_t **extra)
{
	if (extra_len > (1u << 30))
		return vf_error_create(VF_ERR_UNSUPPORTED, "%" PRIu64 " bytes of new flattened "
				       "records are more than supported", extra_len);
	uint8_t *x = malloc((size_t)extra_len + 16), *q = x;
	if (!x)
		return &vf_error_nomem;
	for (size_t i = 0; i < add->n; i++) {
		record_head(q, add->v[i].at, add->v[i].len);  /* at the logical offset */
		memcpy(q + 16, add->v[i].bytes, add->v[i].len);
		q += 16 + add->v[i].len;
	}
	record_head(q, UINT64_MAX, UINT64_MAX);  /* the new end marker */
	if (!piece_add(in, vf_flat_end_pos(src), x, extra_len + 16)) {
		free(x);
		return &vf_error_nomem;
	}
	*extra = x;
	return NULL;
}

struct vf_error *vf_physical_patches(const struct vf_dump *dump, const struct vf_plan *plan,
				     struct vf_phys_patch **out, size_t *n, uint8_t **extra)
{
	*out = NULL;
	*n = 0;
	*extra = NULL;
	struct piece_list in = { 0 }, add = { 0 };
	bool flat = dump->src->kind == VF_SRC_FLATTENED;
	uint64_t extra_len = 0;
	struct vf_error *err = NULL;
	for (size_t i = 0; !err && i < plan->n; i++) {
		const struct vf_patch *p = &plan->patches[i];
		bool ok = flat ? split_patch(dump->src, p, &in, &add, &extra_len)
			       : piece_add(&in, p->offset, p->bytes, p->len);
		if (!ok)
			err = &vf_error_nomem;
	}
	if (!err && add.n)
		err = new_records(dump->src, &add, extra_len, &in, extra);
	free(add.v);
	if (err) {
		free(in.v);
		return err;
	}
	*out = in.v;
	*n = in.n;
	return NULL;
}

/* ------------------------------------------------ plain to flattened */

struct extent {
	uint64_t start, end;
};

static int cmp_extent(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

struct extent_list {
	struct extent *v;
	size_t n, cap;
};

static bool extent_add(struct extent_list *l, uint64_t start, uint64_t end)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct extent *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return false;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct extent){ start, end };
	return true;
}

/* The input's data extents and the patched ranges, sorted and merged: none
 * overlaps another, none is empty. */
static struct vf_error *record_extents(int in, uint64_t size, const struct vf_plan *plan,
				       struct extent_list *l)
{
	bool ok = true;
	uint64_t start, end;
	for (uint64_t pos = 0; ok && pos < size && vf_next_extent(in, pos, size, &start, &end);
	     pos = end)
		ok = extent_add(l, start, end);
	for (size_t i = 0; ok && i < plan->n; i++)
		ok = extent_add(l, plan->patches[i].offset,
				plan->patches[i].offset + plan->patches[i].len);
	/* a file that ends in a hole: its last byte, so that the stream
	 * reassembles to the whole file (a reader sees a PT_LOAD past the end
	 * of a shorter one as cut short) */
	if (ok && size)
		ok = extent_add(l, size - 1, size);
	if (!ok) {
		free(l->v);
		return &vf_error_nomem;
	}
	struct extent *ex = l->v;
	if (l->n > 1)
		qsort(ex, l->n, sizeof(*ex), cmp_extent);
	size_t m = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (m && ex[i].start <= ex[m - 1].end) {
			if (ex[i].end > ex[m - 1].end)
				ex[m - 1].end = ex[i].end;
		} else if (ex[i].end > ex[i].start) {
			ex[m++] = ex[i];
		}
	}
	l->n = m;
	return NULL;
}

/* The plan's bytes that fall in [o, o+len), over d. */
void vf_plan_patch_into(const struct vf_plan *plan, uint8_t *d, uint64_t o, size_t len)
{
	for (size_t k = 0; k < plan->n; k++) {
		const struct vf_patch *p = &plan->patches[k];
		uint64_t a = p->offset > o ? p->offset : o;
		uint64_t b = p->offset + p->len < o + len ? p->offset + p->len : o + len;
		if (a < b)
			memcpy(d + (a - o), p->bytes + (a - p->offset), b - a);
	}
}

/* The records of one extent, written at *at; buf holds a record. */
static struct vf_error *write_extent(const struct vf_dump *dump, const struct vf_plan *plan,
				     const struct extent *e, uint8_t *buf, int out,
				     const char *out_path, uint64_t *at, uint64_t *copied)
{
	struct vf_error *err = NULL;
	for (uint64_t o = e->start; !err && o < e->end;) {
		size_t len = e->end - o < FLAT_RECORD_MAX ? (size_t)(e->end - o) : FLAT_RECORD_MAX;
		uint8_t *d = buf + 16;
		size_t got = 0;
		memset(d, 0, len);  /* a patch past the input's end: zeros up to it */
		if (o < dump->src->size)
			err = vf_pread_full(dump->src->fd, dump->src->path, d, len, o, &got);
		if (!err) {
			vf_plan_patch_into(plan, d, o, len);
			record_head(buf, o, len);
			err = vf_write_all(out, buf, len + 16, *at, out_path);
		}
		*at += len + 16;
		*copied += len;
		o += len;
	}
	return err;
}

struct vf_error *vf_flatten(const struct vf_dump *dump, const struct vf_plan *plan, int out,
			    const char *out_path, uint64_t *copied)
{
	struct extent_list ex = { 0 };
	struct vf_error *err = record_extents(dump->src->fd, dump->src->size, plan, &ex);
	if (err)
		return err;
	uint8_t *buf = malloc(FLAT_RECORD_MAX + 16);
	err = buf ? write_flat_header(out, out_path) : &vf_error_nomem;
	uint64_t at = VF_FLAT_HEADER_SIZE;
	*copied = 0;
	for (size_t i = 0; !err && i < ex.n; i++)
		err = write_extent(dump, plan, &ex.v[i], buf, out, out_path, &at, copied);
	if (!err)
		err = write_end_marker(out, out_path, at);
	free(buf);
	free(ex.v);
	return err;
}

/* ------------------------------------------------ flattened to plain */

struct vf_error *vf_reassemble(const struct vf_dump *dump, int out, const char *out_path,
			       uint64_t *copied)
{
	size_t n = vf_flat_record_count(dump->src);
	*copied = 0;
	for (size_t i = 0; i < n; i++) {
		struct vf_flat_record r = vf_flat_record_at(dump->src, i);
		struct vf_copy_io io = { .in = dump->src->fd, .out = out,
					 .in_path = dump->src->path, .out_path = out_path };
		struct vf_error *err = vf_copy_range(&io, r.data_pos, r.size, r.offset - r.data_pos);
		if (err)
			return err;
		*copied += r.size;
	}
	if (ftruncate(out, (off_t)dump->src->size) < 0)
		return vf_error_os(errno, out_path, "setting the size");
	return NULL;
}

/* --------------------------------------- a flattened ELF whose data moves */

/* The plan's patches as records from *at on. */
static struct vf_error *patch_records(const struct vf_plan *plan, int out, const char *out_path,
				      uint64_t *at)
{
	struct vf_error *err = NULL;
	uint8_t rh[16];
	for (size_t i = 0; !err && i < plan->n; i++) {
		const struct vf_patch *p = &plan->patches[i];
		for (uint32_t o = 0; !err && o < p->len;) {
			uint32_t len = p->len - o < FLAT_RECORD_MAX ? p->len - o : FLAT_RECORD_MAX;
			record_head(rh, p->offset + o, len);
			err = vf_write_all(out, rh, 16, *at, out_path);
			if (!err)
				err = vf_write_all(out, p->bytes + o, len, *at + 16, out_path);
			*at += 16 + (uint64_t)len;
			o += len;
		}
	}
	return err;
}

/* The records from plan->shift_from on (cut there if they straddle it),
 * plan->shift later: as records from *at on (flat_out) or at their new
 * offsets.  Those wholly before it held the headers and notes the
 * header-region patch replaces. */
static struct vf_error *moved_records(const struct vf_dump *dump, const struct vf_plan *plan,
				      int out, const char *out_path, bool flat_out, uint64_t *at,
				      uint64_t *copied)
{
	size_t n = vf_flat_record_count(dump->src);
	uint64_t from = plan->shift_from, shift = plan->shift;
	struct vf_copy_io io = { .in = dump->src->fd, .out = out, .in_path = dump->src->path,
				 .out_path = out_path };
	struct vf_error *err = NULL;
	uint8_t rh[16];
	for (size_t i = 0; !err && i < n; i++) {
		struct vf_flat_record r = vf_flat_record_at(dump->src, i);
		uint64_t lo = r.offset, hi = r.offset + r.size;
		uint64_t pos = r.data_pos;
		if (hi <= from)
			continue;
		if (lo < from) {
			pos += from - lo;
			lo = from;
		}
		if (flat_out) {
			record_head(rh, lo + shift, hi - lo);
			err = vf_write_all(out, rh, 16, *at, out_path);
			if (!err)
				err = vf_copy_range(&io, pos, hi - lo, *at + 16 - pos);
			*at += 16 + (hi - lo);
		} else {
			err = vf_copy_range(&io, pos, hi - lo, lo + shift - pos);
		}
		*copied += hi - lo;
	}
	return err;
}

struct vf_error *vf_flat_append_patches(const struct vf_plan *plan, int out,
					const char *out_path, uint64_t at, uint64_t *end)
{
	struct vf_error *err = patch_records(plan, out, out_path, &at);
	if (!err)
		err = write_end_marker(out, out_path, at);
	*end = at + 16;
	return err;
}

struct vf_error *vf_flat_poison(int out, const char *out_path)
{
	uint8_t rh[32];
	record_head(rh, UINT64_MAX - 1, UINT64_MAX - 1);
	record_head(rh + 16, UINT64_MAX - 1, UINT64_MAX - 1);
	return vf_write_seq(out, rh, sizeof(rh), out_path);
}

/* Flattened output: a new stream, the header region first, then the moved
 * records in their order, then the end marker; raw output: the records
 * replayed at their new offsets, then the header region. */
struct vf_error *vf_flat_shifted(const struct vf_dump *dump, const struct vf_plan *plan,
				 int out, const char *out_path, bool flat_out, uint64_t *copied)
{
	uint64_t at = 0;
	struct vf_error *err = NULL;
	*copied = 0;
	if (flat_out) {
		err = write_flat_header(out, out_path);
		at = VF_FLAT_HEADER_SIZE;
		if (!err)
			err = patch_records(plan, out, out_path, &at);
	}
	if (!err)
		err = moved_records(dump, plan, out, out_path, flat_out, &at, copied);
	if (!err && flat_out)
		return write_end_marker(out, out_path, at);
	for (size_t i = 0; !err && i < plan->n; i++)
		err = vf_write_all(out, plan->patches[i].bytes, plan->patches[i].len,
				   plan->patches[i].offset, out_path);
	if (!err && ftruncate(out, (off_t)(dump->src->size + plan->shift)) < 0)
		err = vf_error_os(errno, out_path, "setting the size");
	return err;
}
