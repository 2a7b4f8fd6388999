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
#include "source/flat.h"
#include "source/src.h"
#include "util/cursor.h"


struct vf_error *vf_stream_init(struct vf_stream *s, int out, const char *out_name)
{
	memset(s, 0, sizeof(*s));
	s->out = out;
	s->out_name = out_name;
	s->state = VF_STREAM_HEADER;
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
 * spool's reader says what is wrong with it. */
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
			if ((uint64_t)size > VF_STREAM_RECORD_PASS_MAX) {
				s->state = VF_STREAM_HELD;
				break;
			}
			err = send(s, s->rh, 16);
			s->state = VF_STREAM_DATA;
			s->need = (uint64_t)size;
			continue;
		}
		size_t n = s->need < len ? (size_t)s->need : len;
		err = send(s, buf, n);
		buf += n;
		len -= n;
		if ((s->need -= n) == 0)
			s->state = VF_STREAM_RECORD_HEAD;
	}
	return err;
}

/* Passed through only when it is a flattened kdump whose first record is
 * the kdump header: kdump fixes never move data, so every fix is a patch
 * of bytes that went by (an ELF dump's notes may have to grow in front of
 * its data). */
static void decide(struct vf_stream *s)
{
	const uint8_t *rec = s->head + VF_FLAT_HEADER_SIZE;
	s->decided = true;
	s->pass = s->nhead == sizeof(s->head) && vf_flat_probe(s->head, s->nhead) &&
		  vf_load_uint(rec, 8, true) == 0 && vf_load_uint(rec + 8, 8, true) >= 8 &&
		  (int64_t)vf_load_uint(rec + 8, 8, true) > 0 && memcmp(rec + 16, "KDUMP   ", 8) == 0;
	if (!s->pass)
		s->state = VF_STREAM_DONE;
}

struct vf_error *vf_stream_tap(void *arg, const uint8_t *buf, size_t len)
{
	struct vf_stream *s = arg;
	if (!s->decided) {
		size_t n = sizeof(s->head) - s->nhead < len ? sizeof(s->head) - s->nhead : len;
		memcpy(s->head + s->nhead, buf, n);
		s->nhead += n;
		buf += n;
		len -= n;
		if (s->nhead < sizeof(s->head))
			return NULL;
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

struct vf_error *vf_stream_finish(struct vf_stream *s, struct vf_dump *dump,
				  const struct vf_plan *plan, int spool_fd,
				  const struct vf_write_opts *wo)
{
	if (plan->shift || plan->to_elf)
		return vf_error_create(VF_ERR_UNSUPPORTED, "the fix of this stream moves its data, "
				       "and its records went out already");
	uint64_t at = vf_flat_end_pos(dump->src), end;
	/* what went out is what is checked: the spool's records, all of them
	 * (those held back go now) */
	struct vf_error *err = NULL;
	if (s->state == VF_STREAM_HELD && s->written < at) {
		uint64_t from = s->written;
		s->written = at;
		s->state = VF_STREAM_DONE;  /* whole records from here */
		err = vf_copy_to_stream(spool_fd, "the spool of standard input", from, at - from,
					s->out, s->out_name);
		if (err)
			return err;
	}
	if (s->state != VF_STREAM_DONE || s->written != at)
		return vf_error_create(VF_ERR_CORRUPT, "the records passed on (0x%" PRIx64 " bytes) "
				       "are not the stream's (its end marker is at 0x%" PRIx64 ")",
				       s->written, at);
	err = vf_flat_append_patches(plan, spool_fd, "the spool of standard input", at, &end);
	if (!err && ftruncate(spool_fd, (off_t)end) < 0)
		err = vf_error_os(errno, "the spool of standard input", "setting the size");
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", spool_fd);
	if (!err && wo && wo->verify)
		err = wo->verify(wo->verify_arg, path);
	if (!err) {
		s->written += end - at;
		s->state = VF_STREAM_DONE;  /* whole records from here: no record is cut short */
		err = vf_copy_to_stream(spool_fd, "the spool of standard input", at, end - at,
					s->out, s->out_name);
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

struct vf_error *vf_stream_write(struct vf_stream *s, struct vf_dump *dump,
				 const struct vf_plan *plan, const char *tmpdir,
				 const struct vf_write_opts *wo, struct vf_write_stats *st)
{
	memset(st, 0, sizeof(*st));
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
		if (s->pass && s->state == VF_STREAM_DATA)  /* need <= VF_STREAM_RECORD_PASS_MAX */
			for (; !err && s->need; s->need -= s->need < 4096 ? s->need : 4096)
				err = send(s, zeros, s->need < 4096 ? (size_t)s->need : 4096);
		if (!err)
			err = vf_flat_poison(s->out, s->out_name);
		if (err)
			vf_error_destroy(err);
		s->ended = true;
	}
}
