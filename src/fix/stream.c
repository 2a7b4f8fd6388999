/* stream.c - -o -: a flattened stream on standard output (stream.h). */
#include "config.h"
#include "fix/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fix/copy.h"
#include "fix/flatwrite.h"
#include "format/open.h"
#include "source/flat.h"
#include "source/spool.h"
#include "source/src.h"
#include "util/cursor.h"

#define SPOOL_NAME "the spool of standard input"


struct vf_error *vf_stream_init(struct vf_stream *s, int out, const char *out_name)
{
	memset(s, 0, sizeof(*s));
	s->out = out;
	s->out_name = out_name;
	s->state = VF_STREAM_DATA;  /* the stream's header: sent like a record's data */
	s->need = VF_FLAT_HEADER_SIZE;
	if (isatty(out))
		return vf_error_set_hint(vf_error_create(VF_ERR_INVALID, "-o - writes a binary "
				"stream, and %s is a terminal", out_name),
				"pipe it into makedumpfile -R FILE, or write -o FILE");
	return NULL;
}

static struct vf_error *send(struct vf_stream *s, const uint8_t *buf, size_t len)
{
	struct vf_error *err = vf_write_seq(s->out, buf, len, s->out_name);
	if (!err)
		s->written += len;
	return err;
}

/* The records, passed on as they come; the end marker (and whatever
 * follows it, or follows a record header no reader takes) is not: the
 * spool's reader says what is wrong with it.  Records below hold_below
 * (the kdump's header, sub-header and bitmaps: what the fix patches) are
 * not sent now but once the fix is known, patched; s->pos follows the
 * stream. */
static struct vf_error *pass(struct vf_stream *s, const uint8_t *buf, size_t len)
{
	struct vf_error *err = NULL;
	while (!err && len && s->state != VF_STREAM_DONE && s->state != VF_STREAM_HELD) {
		if (s->state == VF_STREAM_RECORD_HEAD) {
			size_t n = 16 - s->nrh < len ? 16 - s->nrh : len;
			memcpy(s->rh + s->nrh, buf, n);
			s->nrh += n;
			buf += n;
			len -= n;
			if (s->nrh < 16)
				break;
			s->nrh = 0;
			int64_t off = (int64_t)vf_load_uint(s->rh, 8, true);
			int64_t size = (int64_t)vf_load_uint(s->rh + 8, 8, true);
			if (off < 0 || size <= 0) {
				s->state = VF_STREAM_DONE;
				break;
			}
			s->skip = (uint64_t)off < s->hold_below;
			if (s->skip && !s->held_any) {
				s->held_any = true;
				s->first_held = s->pos;
			}
			if (!s->skip && (uint64_t)size > VF_STREAM_RECORD_PASS_MAX) {
				s->state = VF_STREAM_HELD;
				break;
			}
			s->pos += 16;
			if (!s->skip)
				err = send(s, s->rh, 16);
			s->state = VF_STREAM_DATA;
			s->need = (uint64_t)size;
			continue;
		}
		size_t n = s->need < len ? (size_t)s->need : len;
		if (!s->skip)
			err = send(s, buf, n);
		buf += n;
		len -= n;
		s->pos += n;
		if ((s->need -= n) == 0)
			s->state = VF_STREAM_RECORD_HEAD;
	}
	return err;
}

/* Passed through only when it is a flattened kdump whose first record is
 * the kdump header: kdump fixes never move data, so every fix is a patch
 * of bytes that went by (an ELF dump's notes may have to grow in front of
 * its data).  The header says how far what the fix patches reaches. */
static void decide(struct vf_stream *s)
{
	const uint8_t *rec = s->head + VF_FLAT_HEADER_SIZE;
	uint64_t size = vf_load_uint(rec + 8, 8, true);
	s->decided = true;
	s->pass = s->nhead >= VF_FLAT_HEADER_SIZE + 16 + 8 && vf_flat_probe(s->head, s->nhead) &&
		  vf_load_uint(rec, 8, true) == 0 && size >= 8 && (int64_t)size > 0 &&
		  memcmp(rec + 16, "KDUMP   ", 8) == 0;
	if (!s->pass) {
		s->state = VF_STREAM_DONE;
		return;
	}
	uint64_t end;
	size_t have = s->nhead - (VF_FLAT_HEADER_SIZE + 16);
	s->hold_below = vf_kdump_header_end(rec + 16, have, &end) ? end : 0;
}

/* How much of the stream decide() needs: its header, the first record's
 * header, and that record's first bytes (up to the kdump header's fields). */
static size_t head_wanted(const struct vf_stream *s)
{
	size_t fixed = VF_FLAT_HEADER_SIZE + 16;
	if (s->nhead < fixed)
		return fixed;
	uint64_t size = vf_load_uint(s->head + VF_FLAT_HEADER_SIZE + 8, 8, true);
	size_t more = (int64_t)size <= 0 ? 0 : size < VF_KDUMP_HEAD_FIELDS_LEN ?
		      (size_t)size : VF_KDUMP_HEAD_FIELDS_LEN;
	return fixed + (more < 8 ? 8 : more);
}

struct vf_error *vf_stream_tap(void *arg, const uint8_t *buf, size_t len)
{
	struct vf_stream *s = arg;
	while (!s->decided && len) {
		size_t want = head_wanted(s);
		size_t n = want - s->nhead < len ? want - s->nhead : len;
		memcpy(s->head + s->nhead, buf, n);
		s->nhead += n;
		buf += n;
		len -= n;
		if (s->nhead < head_wanted(s))
			continue;
		decide(s);
		struct vf_error *err = s->pass ? pass(s, s->head, s->nhead) : NULL;
		if (err)
			return err;
	}
	return s->pass ? pass(s, buf, len) : NULL;
}

/* The stream's end, once: no record can follow it. */
static struct vf_error *end_marker_sent(struct vf_stream *s, struct vf_error *err)
{
	if (!err)
		s->ended = true;
	return err;
}

/* The records of the spool from stream offset from up to at, as they are. */
static struct vf_error *resend(struct vf_stream *s, int spool_fd, uint64_t from, uint64_t at)
{
	if (from >= at)
		return NULL;
	s->written += at - from;
	return vf_copy_to_stream(spool_fd, SPOOL_NAME, from, at - from, s->out, s->out_name);
}

/* The held records before stream offset upto (those below hold_below, as
 * the tap chose them), each with the plan's bytes in it. */
static struct vf_error *send_held(struct vf_stream *s, const struct vf_dump *dump,
				  const struct vf_plan *plan, int spool_fd, uint64_t upto)
{
	enum { CHUNK = 1 << 20 };
	uint8_t *buf = malloc(CHUNK);
	if (!buf)
		return &vf_error_nomem;
	struct vf_error *err = NULL;
	size_t n = vf_flat_record_count(dump->src);
	for (size_t i = 0; !err && i < n; i++) {
		struct vf_flat_record r = vf_flat_record_at(dump->src, i);
		if (r.data_pos - 16 >= upto)
			break;
		if (r.offset >= s->hold_below)
			continue;
		uint8_t rh[16];
		vf_store_uint(rh, 8, true, r.offset);
		vf_store_uint(rh + 8, 8, true, r.size);
		err = send(s, rh, 16);
		for (uint64_t o = 0; !err && o < r.size;) {
			size_t len = r.size - o < CHUNK ? (size_t)(r.size - o) : CHUNK, got;
			err = vf_pread_full(spool_fd, SPOOL_NAME, buf, len, r.data_pos + o, &got);
			if (!err && got < len)
				err = vf_error_create(VF_ERR_CORRUPT, "%s shrank", SPOOL_NAME);
			if (!err) {
				vf_plan_patch_into(plan, buf, r.offset + o, len);
				err = send(s, buf, len);
			}
			o += len;
		}
	}
	free(buf);
	return err;
}

struct span {
	uint64_t a, b;
};

static int cmp_span(const void *x, const void *y)
{
	const struct span *p = x, *q = y;
	return p->a < q->a ? -1 : p->a > q->a;
}

/* The logical ranges the held records before upto cover, sorted and
 * merged: *n of them in *out (free). */
static struct vf_error *held_spans(const struct vf_stream *s, const struct vf_dump *dump,
				   uint64_t upto, struct span **out, size_t *n)
{
	size_t nr = vf_flat_record_count(dump->src), k = 0;
	struct span *v = malloc((nr ? nr : 1) * sizeof(*v));
	if (!v)
		return &vf_error_nomem;
	for (size_t i = 0; i < nr; i++) {
		struct vf_flat_record r = vf_flat_record_at(dump->src, i);
		if (r.data_pos - 16 >= upto)
			break;
		if (r.offset < s->hold_below)
			v[k++] = (struct span){ r.offset, r.offset + r.size };
	}
	qsort(v, k, sizeof(*v), cmp_span);
	size_t m = 0;
	for (size_t i = 0; i < k; i++) {
		if (m && v[i].a <= v[m - 1].b) {
			if (v[i].b > v[m - 1].b)
				v[m - 1].b = v[i].b;
		} else {
			v[m++] = v[i];
		}
	}
	*out = v;
	*n = m;
	return NULL;
}

/* Whether [a, b) lies in one of the n merged spans. */
static bool covered(const struct span *v, size_t n, uint64_t a, uint64_t b)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {  /* the first span starting after a */
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].a <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && v[lo - 1].a <= a && b <= v[lo - 1].b;
}

/* The plan's patches that the held records did not carry, as records. */
static struct vf_error *send_rest(struct vf_stream *s, const struct vf_dump *dump,
				  const struct vf_plan *plan, uint64_t upto, bool all)
{
	struct span *v = NULL;
	size_t nv = 0;
	struct vf_error *err = all ? NULL : held_spans(s, dump, upto, &v, &nv);
	for (size_t i = 0; !err && i < plan->n; i++) {
		const struct vf_patch *p = &plan->patches[i];
		if (!all && covered(v, nv, p->offset, p->offset + p->len))
			continue;
		for (uint32_t o = 0; !err && o < p->len;) {
			uint32_t len = p->len - o < (1u << 20) ? p->len - o : (1u << 20);
			uint8_t rh[16];
			vf_store_uint(rh, 8, true, p->offset + o);
			vf_store_uint(rh + 8, 8, true, len);
			err = send(s, rh, 16);
			if (!err)
				err = send(s, p->bytes + o, len);
			o += len;
		}
	}
	free(v);
	return err;
}

struct vf_error *vf_stream_finish(struct vf_stream *s, struct vf_dump *dump,
				  const struct vf_plan *plan, int spool_fd,
				  const struct vf_write_opts *wo)
{
	if (plan->shift || vf_plan_converts(plan))
		return vf_error_create(VF_ERR_UNSUPPORTED, "the fix of this stream moves its data, "
				       "and its records went out already");
	uint64_t at = vf_flat_end_pos(dump->src), end;
	/* the parse must have reached the end marker the index found, or
	 * stopped at a record it held for its size */
	if (s->state == VF_STREAM_DONE ? s->pos != at : s->state != VF_STREAM_HELD || s->pos > at)
		return vf_error_create(VF_ERR_CORRUPT, "the records passed on (to 0x%" PRIx64 ") "
				       "are not the stream's (its end marker is at 0x%" PRIx64 ")",
				       s->pos, at);
	/* the check: the spool with the fix appended as later records is the
	 * dump that goes out */
	struct vf_error *err = vf_flat_append_patches(plan, spool_fd, SPOOL_NAME, at, &end);
	if (!err && ftruncate(spool_fd, (off_t)end) < 0)
		err = vf_error_os(errno, SPOOL_NAME, "setting the size");
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", spool_fd);
	if (!err && wo && wo->verify)
		err = wo->verify(wo->verify_arg, path);
	if (err)
		return err;
	/* What went out, and what follows: the records the tap held, patched,
	 * then the records from where it stopped (a record too large to pass
	 * as it came), then the patches no held record carried.  A stream
	 * whose own records overlap keeps its order: from its first held
	 * record on, every record again, then every patch. */
	uint64_t from = s->state == VF_STREAM_HELD ? s->pos : at;
	bool keep_order = s->held_any && vf_flat_has_overlaps(dump->src);
	if (keep_order && s->first_held < from)
		from = s->first_held;
	s->state = VF_STREAM_DONE;  /* whole records from here: no record is cut short */
	if (!keep_order)
		err = send_held(s, dump, plan, spool_fd, from);
	if (!err)
		err = resend(s, spool_fd, from, at);
	if (!err)
		err = send_rest(s, dump, plan, from, keep_order);
	if (!err) {
		static const uint8_t marker[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
						    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
		err = send(s, marker, sizeof(marker));
	}
	return end_marker_sent(s, err);
}

static struct vf_error *refuse_moving_elf(const struct vf_dump *dump, const struct vf_plan *plan)
{
	if (!plan->shift || dump->src->kind == VF_SRC_FLATTENED)
		return NULL;
	return vf_error_set_hint(vf_error_create(VF_ERR_UNSUPPORTED, "the fix moves the ELF "
			"dump's data to make room for its notes, and a stream cannot: the notes "
			"must come before the data; nothing was written"),
			"write the fixed dump to a file with -o FILE (then makedumpfile -F can "
			"stream it)");
}

/* A conversion (a saved state, a kdump as ELF, an ELF as kdump): the new dump is written
 * and verified in an unnamed file, flattened into another, then sent. */
static struct vf_error *stream_converted(struct vf_stream *s, struct vf_dump *dump,
					 const struct vf_plan *plan, const char *tmpdir,
					 const struct vf_write_opts *wo, struct vf_write_stats *st)
{
	int fd = -1;
	struct vf_error *err = vf_write_unnamed(dump, plan, tmpdir, VF_OUT_RAW, wo, st, &fd);
	struct vf_src *src = NULL;
	struct vf_dump *conv = NULL;
	if (!err)
		err = vf_src_from_fd(fd, "the converted dump", &src);
	else if (fd >= 0)
		close(fd);
	if (!err)
		err = vf_dump_open_src(src, &conv);
	/* flattened into a second unnamed file (its records are written at
	 * offsets), then sent as it is */
	int flat = -1;
	uint64_t copied;
	off_t size = 0;
	if (!err && !(err = vf_unnamed_file(tmpdir, &flat))) {
		struct vf_plan none;
		memset(&none, 0, sizeof(none));
		err = vf_flatten(conv, &none, flat, "the stream's file", &copied);
		if (!err && (size = lseek(flat, 0, SEEK_END)) < 0)
			err = vf_error_os(errno, "the stream's file", "seek");
	}
	vf_dump_destroy(conv);
	if (!err) {
		s->written += (uint64_t)size;  /* from now on a failure needs the poison */
		s->state = VF_STREAM_DONE;
		err = vf_copy_to_stream(flat, "the stream's file", 0, (uint64_t)size, s->out,
					s->out_name);
	}
	if (flat >= 0)
		close(flat);
	return end_marker_sent(s, err);
}

struct vf_error *vf_stream_write(struct vf_stream *s, struct vf_dump *dump,
				 const struct vf_plan *plan, const char *tmpdir,
				 const struct vf_write_opts *wo, struct vf_write_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (vf_plan_converts(plan))
		return stream_converted(s, dump, plan, tmpdir, wo, st);
	struct vf_error *err = refuse_moving_elf(dump, plan);
	int fd = -1;
	if (!err)
		err = vf_write_unnamed(dump, plan, tmpdir, VF_OUT_FLATTENED, wo, st, &fd);
	off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : 0;
	if (!err && size < 0)
		err = vf_error_os(errno, "the stream's file", "seek");
	if (!err) {
		s->written += (uint64_t)size;  /* from now on a failure needs the poison */
		s->state = VF_STREAM_DONE;
		err = vf_copy_to_stream(fd, "the stream's file", 0, (uint64_t)size, s->out,
					s->out_name);
	}
	if (fd >= 0)
		close(fd);
	return end_marker_sent(s, err);
}

void vf_stream_abort(struct vf_stream *s)
{
	if (s->written && !s->ended) {
		/* a record cut short is filled out first, so that the poison is
		 * read as a record header (a hostile size is not) */
		static const uint8_t zeros[4096];
		struct vf_error *err = NULL;
		if (s->pass && s->state == VF_STREAM_DATA && !s->skip)  /* need <= PASS_MAX */
			for (; !err && s->need; s->need -= s->need < 4096 ? s->need : 4096)
				err = send(s, zeros, s->need < 4096 ? (size_t)s->need : 4096);
		if (!err)
			err = vf_flat_poison(s->out, s->out_name);
		if (err)
			vf_error_destroy(err);
		s->ended = true;
	}
}
