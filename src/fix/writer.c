/* writer.c - write the fixed dump: sparse copy, patches, fsync, rename. */
#include "config.h"
#include "fix/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "util/cursor.h"
#include "source/flat.h"
#include "source/src.h"

/* The temporary file a signal must remove.  The one piece of mutable
 * file-scope state in the library: a signal handler can reach nothing else. */
static char *volatile cleanup_path;

static void on_signal(int sig)
{
	char *p = cleanup_path;
	if (p)
		unlink(p);
	signal(sig, SIG_DFL);
	raise(sig);
}

static const int caught[] = { SIGINT, SIGTERM, SIGHUP };

static void guard(char *path, struct sigaction *old)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	cleanup_path = path;
	for (size_t i = 0; i < 3; i++)
		sigaction(caught[i], &sa, &old[i]);
}

static void unguard(const struct sigaction *old)
{
	for (size_t i = 0; i < 3; i++)
		sigaction(caught[i], &old[i], NULL);
	cleanup_path = NULL;
}

static struct vf_error *write_all(int fd, const void *buf, size_t len, uint64_t off,
				  const char *path);

/* Copy [off, off+len) with read and write, for file systems where the kernel
 * cannot copy between the two files. */
static struct vf_error *copy_plain(int in, int out, uint64_t off, uint64_t len,
				   uint64_t shift, const char *in_path, const char *out_path)
{
	const size_t bufsz = 1u << 20;
	char *buf = malloc(bufsz);
	if (!buf)
		return &vf_error_nomem;
	struct vf_error *err = NULL;
	while (len > 0 && !err) {
		size_t want = len < bufsz ? (size_t)len : bufsz, got;
		err = vf_pread_full(in, in_path, buf, want, off, &got);
		if (!err && got < want)
			err = vf_error_at(VF_ERR_CORRUPT, off + got, "%s shrank while being copied",
					  in_path);
		if (!err)
			err = write_all(out, buf, want, off + shift, out_path);
		off += want;
		len -= want;
	}
	free(buf);
	return err;
}

/* Copy [off, off+len) from in to out at offset off + shift (mod 2^64: a
 * "negative" shift moves data down). */
static struct vf_error *copy_range(int in, int out, uint64_t off, uint64_t len, uint64_t shift,
				   const char *in_path, const char *out_path)
{
	loff_t ioff = (loff_t)off, ooff = (loff_t)(off + shift);
	while (len > 0) {
		size_t chunk = len > (1u << 30) ? (1u << 30) : (size_t)len;
		ssize_t n = copy_file_range(in, &ioff, out, &ooff, chunk, 0);
		if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP ||
			      errno == EINVAL))
			return copy_plain(in, out, (uint64_t)ioff, len, shift, in_path, out_path);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return vf_error_os(errno, out_path, "copying from %s at offset 0x%" PRIx64,
					   in_path, (uint64_t)ioff);
		}
		if (n == 0)
			return vf_error_at(VF_ERR_CORRUPT, (uint64_t)ioff, "%s shrank while being "
					   "copied", in_path);
		len -= (uint64_t)n;
	}
	return NULL;
}

#define ZBLOCK 4096u
#define ZCHUNK (1u << 20)

static bool all_zero(const uint8_t *p, size_t n)
{
	/* word at a time through memcpy: p need not be aligned (the compiler
	 * makes it a plain load where that is allowed) */
	for (size_t i = 0; i < n / 8; i++) {
		uint64_t w;
		memcpy(&w, p + 8 * i, 8);
		if (w)
			return false;
	}
	for (size_t i = n & ~(size_t)7; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Copy [off, off+len) to off + shift, leaving out blocks (4 KiB of the
 * output) that hold only zeros, as cp --sparse=always does: QEMU writes the
 * zero pages of ELF dumps out in full. */
static struct vf_error *copy_zero_holes(int in, int out, uint64_t off, uint64_t len,
					uint64_t shift, const char *in_path, const char *out_path,
					uint8_t *buf, uint64_t *written)
{
	while (len > 0) {
		/* chunks end on output block boundaries */
		uint64_t oend = off + shift + (len < ZCHUNK ? len : ZCHUNK);
		if (len > ZCHUNK)
			oend &= ~(uint64_t)(ZBLOCK - 1);
		size_t want = (size_t)(oend - (off + shift)), got;
		struct vf_error *err = vf_pread_full(in, in_path, buf, want, off, &got);
		if (!err && got < want)
			err = vf_error_at(VF_ERR_CORRUPT, off + got, "%s shrank while being copied",
					  in_path);
		if (err)
			return err;
		size_t i = 0;
		while (i < want) {
			/* the block holding output byte off + shift + i */
			uint64_t o = off + shift + i;
			size_t blen = (size_t)(ZBLOCK - o % ZBLOCK);
			if (blen > want - i)
				blen = want - i;
			if (all_zero(buf + i, blen)) {
				i += blen;
				continue;
			}
			size_t j = i + blen;  /* extend over the following non-zero blocks */
			while (j < want) {
				size_t n = want - j < ZBLOCK ? want - j : ZBLOCK;
				if (all_zero(buf + j, n))
					break;
				j += n;
			}
			err = write_all(out, buf + i, j - i, o, out_path);
			if (err)
				return err;
			*written += j - i;
			i = j;
		}
		off += want;
		len -= want;
	}
	return NULL;
}

/* Copy input [from, size) to output [from + shift, size + shift), data
 * extents only: holes stay holes (and with zeros_to_holes, runs of zero
 * blocks become holes too). */
static void report(const struct vf_write_opts *wo, uint64_t done, uint64_t total)
{
	if (wo && wo->progress)
		wo->progress(wo->progress_arg, done, total);
}

static struct vf_error *sparse_copy(int in, int out, uint64_t from, uint64_t size, uint64_t shift,
				    bool zeros_to_holes, const char *in_path, const char *out_path,
				    const struct vf_write_opts *wo, uint64_t *copied)
{
	uint64_t pos = from;
	*copied = 0;
	uint8_t *buf = NULL;
	if (zeros_to_holes && !(buf = malloc(ZCHUNK)))
		return &vf_error_nomem;
	struct vf_error *err = NULL;
	while (pos < size && !err) {
		off_t data = lseek(in, (off_t)pos, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				break;  /* only a hole is left */
			data = (off_t)pos;  /* no SEEK_DATA here: copy everything */
		}
		off_t hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > size)
			hole = (off_t)size;
		/* in steps of 64 MiB, so progress can be shown */
		for (uint64_t o = (uint64_t)data; !err && o < (uint64_t)hole;) {
			uint64_t n = (uint64_t)hole - o < (64u << 20) ? (uint64_t)hole - o : 64u << 20;
			if (zeros_to_holes) {
				err = copy_zero_holes(in, out, o, n, shift, in_path, out_path, buf,
						      copied);
			} else {
				err = copy_range(in, out, o, n, shift, in_path, out_path);
				*copied += n;
			}
			o += n;
			report(wo, o - from, size - from);
		}
		pos = (uint64_t)hole;
	}
	report(wo, size - from, size - from);
	free(buf);
	if (!err && ftruncate(out, (off_t)(size + shift)) < 0)
		err = vf_error_os(errno, out_path, "setting the size");
	return err;
}

/* A flattened stream's 4096-byte header (signature, type 1, version 1). */
static struct vf_error *write_flat_header(int out, const char *out_path)
{
	uint8_t *hdr = calloc(1, VF_FLAT_HEADER_SIZE);
	if (!hdr)
		return &vf_error_nomem;
	memcpy(hdr, VF_FLAT_SIGNATURE, strlen(VF_FLAT_SIGNATURE));
	vf_store_uint(hdr + 16, 8, true, 1);
	vf_store_uint(hdr + 24, 8, true, 1);
	struct vf_error *err = write_all(out, hdr, VF_FLAT_HEADER_SIZE, 0, out_path);
	free(hdr);
	return err;
}

/* A record header: be64 logical offset, be64 size (both -1: the end marker). */
static void record_head(uint8_t *rh, uint64_t offset, uint64_t size)
{
	vf_store_uint(rh, 8, true, offset);
	vf_store_uint(rh + 8, 8, true, size);
}

/* A patch as it is written to the file: at a physical offset. */
struct phys_patch {
	uint64_t at;
	const uint8_t *bytes;
	uint32_t len;
};

struct piece_list {
	struct phys_patch *v;
	size_t n, cap;
};

static bool piece_add(struct piece_list *l, uint64_t at, const uint8_t *bytes, uint64_t len)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct phys_patch *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return false;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct phys_patch){ at, bytes, (uint32_t)len };
	return true;
}

/* Where the plan's patches go in the file written.  A plain file: where the
 * plan says.  A flattened stream: each byte inside the last record that holds
 * it (later records override earlier ones); bytes no record holds (past the
 * logical end, like a new notes blob, or in a gap) go into new records,
 * written with a new end marker over the old one, so no record overlaps
 * another and none is empty.  *extra owns those bytes. */
static struct vf_error *physical_patches(const struct vf_dump *dump, const struct vf_plan *plan,
					 struct phys_patch **out, size_t *n, uint8_t **extra)
{
	*out = NULL;
	*n = 0;
	*extra = NULL;
	struct piece_list in = { 0 }, add = { 0 };
	bool flat = dump->src->kind == VF_SRC_FLATTENED;
	bool ok = true;
	uint64_t extra_len = 0;
	for (size_t i = 0; ok && i < plan->n; i++) {
		const struct vf_patch *p = &plan->patches[i];
		if (!flat) {
			ok = piece_add(&in, p->offset, p->bytes, p->len);
			continue;
		}
		for (uint64_t o = p->offset, end = p->offset + p->len; ok && o < end;) {
			uint64_t at = 0, run;
			bool held = vf_flat_locate(dump->src, o, &at, &run);
			uint64_t cnt = run < end - o ? run : end - o;
			const uint8_t *b = p->bytes + (o - p->offset);
			ok = held ? piece_add(&in, at, b, cnt) : piece_add(&add, o, b, cnt);
			if (!held)
				extra_len += 16 + cnt;
			o += cnt;
		}
	}
	if (ok && add.n) {
		if (extra_len > (1u << 30)) {
			free(in.v);
			free(add.v);
			return vf_error_create(VF_ERR_UNSUPPORTED, "%" PRIu64 " bytes of new "
					       "flattened records are more than supported", extra_len);
		}
		uint8_t *x = malloc((size_t)extra_len + 16), *q = x;
		ok = x != NULL;
		for (size_t i = 0; ok && i < add.n; i++) {
			record_head(q, add.v[i].at, add.v[i].len);  /* at the logical offset */
			memcpy(q + 16, add.v[i].bytes, add.v[i].len);
			q += 16 + add.v[i].len;
		}
		if (ok) {
			record_head(q, UINT64_MAX, UINT64_MAX);  /* the new end marker */
			ok = piece_add(&in, vf_flat_end_pos(dump->src), x, extra_len + 16);
			*extra = x;
		} else {
			free(x);
		}
	}
	free(add.v);
	if (!ok) {
		free(in.v);
		free(*extra);
		*extra = NULL;
		return &vf_error_nomem;
	}
	*out = in.v;
	*n = in.n;
	return NULL;
}

static struct vf_error *write_all(int fd, const void *buf, size_t len, uint64_t off,
				  const char *path)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return vf_error_os(errno, path, "write at offset 0x%" PRIx64, off);
		}
		buf = (const char *)buf + n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return NULL;
}

/* Flattened input to a plain file: every record's data at its offset, in
 * stream order (a later record overrides), as makedumpfile -R does. */
static struct vf_error *reassemble(const struct vf_dump *dump, int out, const char *out_path,
				   uint64_t *copied)
{
	const struct vf_flat_record *recs;
	size_t n;
	vf_flat_records(dump->src, &recs, &n);
	*copied = 0;
	for (size_t i = 0; i < n; i++) {
		struct vf_error *err = copy_range(dump->src->fd, out, recs[i].data_pos, recs[i].size,
						  recs[i].offset - recs[i].data_pos,
						  dump->src->path, out_path);
		if (err)
			return err;
		*copied += recs[i].size;
	}
	if (ftruncate(out, (off_t)dump->src->size) < 0)
		return vf_error_os(errno, out_path, "setting the size");
	return NULL;
}

struct extent {
	uint64_t start, end;
};

static int cmp_extent(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

#define FLAT_RECORD_MAX (1u << 20)

/* A plain input to a flattened stream of the patched file: records for the
 * data extents and the patched ranges (merged, never overlapping, never
 * empty), each read, patched in memory and written. */
static struct vf_error *flatten(const struct vf_dump *dump, const struct vf_plan *plan, int out,
				const char *out_path, uint64_t *copied)
{
	int in = dump->src->fd;
	uint64_t size = dump->src->size;
	size_t cap = 64, n = 0;
	struct extent *ex = malloc(cap * sizeof(*ex));
	if (!ex)
		return &vf_error_nomem;
	uint64_t pos = 0;
	while (pos < size) {
		off_t data = lseek(in, (off_t)pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0)
			data = (off_t)pos;
		off_t hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > size)
			hole = (off_t)size;
		if (n == cap) {
			struct extent *e2 = realloc(ex, 2 * cap * sizeof(*ex));
			if (!e2) {
				free(ex);
				return &vf_error_nomem;
			}
			ex = e2;
			cap *= 2;
		}
		ex[n++] = (struct extent){ (uint64_t)data, (uint64_t)hole };
		pos = (uint64_t)hole;
	}
	struct extent *e2 = realloc(ex, (n + plan->n + 1) * sizeof(*ex));
	if (!e2) {
		free(ex);
		return &vf_error_nomem;
	}
	ex = e2;
	for (size_t i = 0; i < plan->n; i++)
		ex[n++] = (struct extent){ plan->patches[i].offset,
					   plan->patches[i].offset + plan->patches[i].len };
	if (n > 1)
		qsort(ex, n, sizeof(*ex), cmp_extent);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m && ex[i].start <= ex[m - 1].end) {
			if (ex[i].end > ex[m - 1].end)
				ex[m - 1].end = ex[i].end;
		} else if (ex[i].end > ex[i].start) {
			ex[m++] = ex[i];
		}
	}
	uint8_t *buf = malloc(FLAT_RECORD_MAX + 16);
	struct vf_error *err = buf ? write_flat_header(out, out_path) : &vf_error_nomem;
	uint64_t at = VF_FLAT_HEADER_SIZE;
	*copied = 0;
	for (size_t i = 0; !err && i < m; i++) {
		for (uint64_t o = ex[i].start; !err && o < ex[i].end; ) {
			size_t len = ex[i].end - o < FLAT_RECORD_MAX ? (size_t)(ex[i].end - o)
								     : FLAT_RECORD_MAX;
			uint8_t *d = buf + 16;
			size_t got = 0;
			memset(d, 0, len);
			if (o < size)
				err = vf_pread_full(in, dump->src->path, d, len, o, &got);
			for (size_t k = 0; !err && k < plan->n; k++) {
				const struct vf_patch *p = &plan->patches[k];
				uint64_t a = p->offset > o ? p->offset : o;
				uint64_t b = p->offset + p->len < o + len ? p->offset + p->len : o + len;
				if (a < b)
					memcpy(d + (a - o), p->bytes + (a - p->offset), b - a);
			}
			record_head(buf, o, len);
			if (!err)
				err = write_all(out, buf, len + 16, at, out_path);
			at += len + 16;
			*copied += len;
			o += len;
		}
	}
	if (!err) {
		record_head(buf, UINT64_MAX, UINT64_MAX);
		err = write_all(out, buf, 16, at, out_path);
	}
	free(buf);
	free(ex);
	return err;
}

/* A flattened ELF dump whose data moves: the records from plan->shift_from on
 * (cut there if they straddle it) land plan->shift later; those wholly before
 * it held the headers and notes the header-region patch replaces.  Flattened
 * output: a new stream, the header region first, then the records in their
 * order, then the end marker (no record overlaps another); raw output: the
 * records replayed at their new offsets, then the header region. */
static struct vf_error *flat_shifted(const struct vf_dump *dump, const struct vf_plan *plan,
				     int out, const char *out_path, enum vf_out_form form,
				     uint64_t *copied)
{
	const struct vf_flat_record *recs;
	size_t n;
	vf_flat_records(dump->src, &recs, &n);
	bool flat_out = form == VF_OUT_FLATTENED;
	uint64_t at = 0, from = plan->shift_from, shift = plan->shift;
	struct vf_error *err = NULL;
	uint8_t rh[16];
	*copied = 0;
	if (flat_out) {
		err = write_flat_header(out, out_path);
		at = VF_FLAT_HEADER_SIZE;
		for (size_t i = 0; !err && i < plan->n; i++) {
			const struct vf_patch *p = &plan->patches[i];
			for (uint32_t o = 0; !err && o < p->len;) {
				uint32_t len = p->len - o < FLAT_RECORD_MAX ? p->len - o : FLAT_RECORD_MAX;
				record_head(rh, p->offset + o, len);
				err = write_all(out, rh, 16, at, out_path);
				if (!err)
					err = write_all(out, p->bytes + o, len, at + 16, out_path);
				at += 16 + (uint64_t)len;
				o += len;
			}
		}
	}
	for (size_t i = 0; !err && i < n; i++) {
		uint64_t lo = recs[i].offset, hi = recs[i].offset + recs[i].size;
		uint64_t pos = recs[i].data_pos;
		if (hi <= from)
			continue;
		if (lo < from) {
			pos += from - lo;
			lo = from;
		}
		if (flat_out) {
			record_head(rh, lo + shift, hi - lo);
			err = write_all(out, rh, 16, at, out_path);
			if (!err)
				err = copy_range(dump->src->fd, out, pos, hi - lo, at + 16 - pos,
						 dump->src->path, out_path);
			at += 16 + (hi - lo);
		} else {
			err = copy_range(dump->src->fd, out, pos, hi - lo, lo + shift - pos,
					 dump->src->path, out_path);
		}
		*copied += hi - lo;
	}
	if (!err && flat_out) {
		record_head(rh, UINT64_MAX, UINT64_MAX);
		err = write_all(out, rh, 16, at, out_path);
	} else if (!err) {
		for (size_t i = 0; !err && i < plan->n; i++)
			err = write_all(out, plan->patches[i].bytes, plan->patches[i].len,
					plan->patches[i].offset, out_path);
		if (!err && ftruncate(out, (off_t)(dump->src->size + shift)) < 0)
			err = vf_error_os(errno, out_path, "setting the size");
	}
	return err;
}

struct vf_error *vf_write_fixed(struct vf_dump *dump, const struct vf_plan *plan,
				const char *out_path, enum vf_out_form form,
				const struct vf_write_opts *wo, struct vf_write_stats *stats)
{
	struct vf_src *src = dump->src;
	memset(stats, 0, sizeof(*stats));
	struct stat ist, ost;
	if (fstat(src->fd, &ist) < 0)
		return vf_error_os(errno, src->path, "stat");
	if (stat(out_path, &ost) == 0 && ost.st_dev == ist.st_dev && ost.st_ino == ist.st_ino)
		return vf_error_set_hint(vf_error_create(VF_ERR_INVALID, "the output %s is the input",
							 out_path),
					 "write to another file: vmcore-fix never changes its input");

	/* the temporary file goes beside the target, so rename is atomic */
	char *dcopy = strdup(out_path), *bcopy = strdup(out_path), *tmp = NULL;
	if (!dcopy || !bcopy || asprintf(&tmp, "%s/.%s.vmcore-fix.XXXXXX", dirname(dcopy),
					 basename(bcopy)) < 0) {
		free(dcopy);
		free(bcopy);
		return &vf_error_nomem;
	}
	free(dcopy);
	free(bcopy);
	struct sigaction old[3];
	guard(tmp, old);
	struct vf_error *err = NULL;
	int out = mkostemp(tmp, O_CLOEXEC);
	if (out < 0) {
		err = vf_error_os(errno, out_path, "cannot create a temporary file beside it");
		unguard(old);
		free(tmp);
		return err;
	}
	if (fchmod(out, ist.st_mode & 07777) < 0)
		err = vf_error_os(errno, tmp, "chmod");
	bool flat_in = src->kind == VF_SRC_FLATTENED;
	if (form == VF_OUT_SAME)
		form = flat_in ? VF_OUT_FLATTENED : VF_OUT_RAW;
	if (!err && plan->shift && !flat_in && form == VF_OUT_FLATTENED)
		err = vf_error_set_hint(vf_error_create(VF_ERR_UNSUPPORTED, "writing a flattened "
				"stream of an ELF dump whose data moves is not implemented"),
				"write the fixed dump raw (--output-format raw), then flatten it");
	if (!err && flat_in && plan->shift) {
		err = flat_shifted(dump, plan, out, out_path, form, &stats->bytes_copied);
		if (!err)
			stats->patches = plan->n;
	} else if (!err && flat_in && form == VF_OUT_FLATTENED) {
		/* the stream as it is, patches inside its records */
		err = sparse_copy(src->fd, out, 0, (uint64_t)ist.st_size, 0, false, src->path,
				  out_path, wo, &stats->bytes_copied);
		struct phys_patch *pp = NULL;
		size_t npp = 0;
		uint8_t *extra = NULL;
		if (!err)
			err = physical_patches(dump, plan, &pp, &npp, &extra);
		for (size_t i = 0; !err && i < npp; i++)
			err = write_all(out, pp[i].bytes, pp[i].len, pp[i].at, out_path);
		if (!err)
			stats->patches = plan->n;
		free(pp);
		free(extra);
	} else if (!err && form == VF_OUT_FLATTENED) {
		err = flatten(dump, plan, out, out_path, &stats->bytes_copied);
		if (!err)
			stats->patches = plan->n;
	} else if (!err) {
		if (flat_in)
			err = reassemble(dump, out, out_path, &stats->bytes_copied);
		else
			err = sparse_copy(src->fd, out, plan->shift ? plan->shift_from : 0,
					  (uint64_t)ist.st_size, plan->shift,
					  dump->format == VF_FORMAT_ELF, src->path, out_path, wo,
					  &stats->bytes_copied);
		for (size_t i = 0; !err && i < plan->n; i++) {
			const struct vf_patch *p = &plan->patches[i];
			err = write_all(out, p->bytes, p->len, p->offset, out_path);
			if (!err)
				stats->patches++;
		}
	}
	/* fault injection for the tests: a bad write the read-back must catch */
	if (!err && plan->n && getenv("VMCOREFIX_TEST_BAD_WRITE")) {
		const struct vf_patch *p = &plan->patches[plan->n - 1];
		uint8_t junk[8] = { 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef };
		err = write_all(out, junk, p->len < 8 ? p->len : 8, p->offset + (p->len > 8 ? 8 : 0),
				out_path);
	}
	if (!err && fsync(out) < 0)
		err = vf_error_os(errno, out_path, "fsync");
	if (close(out) < 0 && !err)
		err = vf_error_os(errno, out_path, "close");
	if (!err && wo && wo->verify)
		err = wo->verify(wo->verify_arg, tmp);
	if (!err && rename(tmp, out_path) < 0)
		err = vf_error_os(errno, out_path, "rename into place");
	if (err)
		unlink(tmp);
	unguard(old);
	free(tmp);
	return err;
}

/* ------------------------------------------------------------ in place */

#define JOURNAL_MAGIC "VMCFJRN2"
#define JOURNAL_MAGIC_V1 "VMCFJRN1"   /* no insert record: still recovered */

/* A range inserted in front of the data (ELF in place): FALLOC_FL_INSERT_RANGE
 * of len bytes at offset at, done when the file has size_before + len bytes. */
struct insert_op {
	uint64_t at, len, size_before;
};

static char *journal_path(const char *path)
{
	char *dcopy = strdup(path), *bcopy = strdup(path), *j = NULL;
	if (dcopy && bcopy && asprintf(&j, "%s/.%s.vmcore-fix-journal", dirname(dcopy),
				       basename(bcopy)) < 0)
		j = NULL;
	free(dcopy);
	free(bcopy);
	return j;
}

static struct vf_error *fsync_dir_of(const char *path)
{
	char *dcopy = strdup(path);
	if (!dcopy)
		return &vf_error_nomem;
	int fd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct vf_error *err = NULL;
	if (fd < 0 || fsync(fd) < 0)
		err = vf_error_os(errno, dcopy, "fsync of the directory");
	if (fd >= 0)
		close(fd);
	free(dcopy);
	return err;
}

/* Journal: magic, be64 count, be64 insert offset, length and the size before
 * it (0 0 0: none), then per patch be64 offset, be32 len, old, new. */
static struct vf_error *write_journal(const char *jpath, int fd, const char *path,
				      const struct phys_patch *pp, size_t npp,
				      const struct insert_op *ins)
{
	/* written under another name and renamed: a journal is always complete */
	char *tpath = NULL;
	if (asprintf(&tpath, "%s.new", jpath) < 0)
		return &vf_error_nomem;
	unlink(tpath);  /* a leftover of an earlier interrupted write */
	int j = open(tpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (j < 0) {
		struct vf_error *e = vf_error_os(errno, tpath, "cannot create the journal");
		free(tpath);
		return e;
	}
	struct vf_error *err = write_all(j, JOURNAL_MAGIC, 8, 0, jpath);
	uint64_t pos = 8;
	uint8_t hdr[32];
	vf_store_uint(hdr, 8, true, npp);
	vf_store_uint(hdr + 8, 8, true, ins ? ins->at : 0);
	vf_store_uint(hdr + 16, 8, true, ins ? ins->len : 0);
	vf_store_uint(hdr + 24, 8, true, ins ? ins->size_before : 0);
	if (!err)
		err = write_all(j, hdr, 32, pos, jpath);
	pos += 32;
	for (size_t i = 0; !err && i < npp; i++) {
		const struct phys_patch *p = &pp[i];
		uint8_t *old = calloc(1, p->len);
		if (!old) {
			err = &vf_error_nomem;
			break;
		}
		size_t got;
		err = vf_pread_full(fd, path, old, p->len, p->at, &got);  /* past EOF reads as 0 */
		vf_store_uint(hdr, 8, true, p->at);
		vf_store_uint(hdr + 8, 4, true, p->len);
		if (!err)
			err = write_all(j, hdr, 12, pos, jpath);
		if (!err)
			err = write_all(j, old, p->len, pos + 12, jpath);
		if (!err)
			err = write_all(j, p->bytes, p->len, pos + 12 + p->len, jpath);
		pos += 12 + 2 * (uint64_t)p->len;
		free(old);
	}
	if (!err && fsync(j) < 0)
		err = vf_error_os(errno, jpath, "fsync");
	close(j);
	if (!err && rename(tpath, jpath) < 0)
		err = vf_error_os(errno, jpath, "rename the journal into place");
	if (!err)
		err = fsync_dir_of(jpath);
	if (err) {
		unlink(tpath);
		unlink(jpath);
	}
	free(tpath);
	return err;
}

bool vf_journal_exists(const char *path)
{
	char *jpath = journal_path(path);
	bool yes = jpath && access(jpath, F_OK) == 0;
	free(jpath);
	return yes;
}

/* Insert the range unless the file's size says it was inserted already. */
static struct vf_error *redo_insert(int fd, const char *path, const struct insert_op *ins)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return vf_error_os(errno, path, "stat");
	if ((uint64_t)st.st_size == ins->size_before + ins->len)
		return NULL;  /* done before the interruption */
	if ((uint64_t)st.st_size != ins->size_before)
		return vf_error_create(VF_ERR_CORRUPT, "%s has %" PRIu64 " bytes; the interrupted "
				       "run expected %" PRIu64 " or %" PRIu64 ": it was changed since",
				       path, (uint64_t)st.st_size, ins->size_before,
				       ins->size_before + ins->len);
	if (fallocate(fd, FALLOC_FL_INSERT_RANGE, (off_t)ins->at, (off_t)ins->len) < 0)
		return vf_error_os(errno, path, "inserting %" PRIu64 " bytes at 0x%" PRIx64,
				   ins->len, ins->at);
	return NULL;
}

struct vf_error *vf_journal_recover(const char *path, bool *recovered)
{
	*recovered = false;
	char *jpath = journal_path(path);
	if (!jpath)
		return &vf_error_nomem;
	int j = open(jpath, O_RDONLY | O_CLOEXEC);
	if (j < 0) {
		int e = errno;
		free(jpath);
		return e == ENOENT ? NULL : vf_error_os(e, path, "cannot open its journal");
	}
	struct vf_error *err = NULL;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		err = vf_error_os(errno, path, "cannot open to finish an interrupted run");
	uint8_t hdr[40];
	size_t got = 0;
	if (!err)
		err = vf_pread_full(j, jpath, hdr, 40, 0, &got);
	bool v2 = got >= 40 && memcmp(hdr, JOURNAL_MAGIC, 8) == 0;
	if (!err && !v2 && (got < 16 || memcmp(hdr, JOURNAL_MAGIC_V1, 8) != 0))
		err = vf_error_create(VF_ERR_CORRUPT, "journal %s is incomplete: the interrupted "
				      "run had not started patching; remove the journal", jpath);
	uint64_t n = err ? 0 : vf_load_uint(hdr + 8, 8, true), pos = v2 ? 40 : 16;
	if (!err && v2 && vf_load_uint(hdr + 24, 8, true)) {
		struct insert_op ins = { vf_load_uint(hdr + 16, 8, true),
					 vf_load_uint(hdr + 24, 8, true),
					 vf_load_uint(hdr + 32, 8, true) };
		err = redo_insert(fd, path, &ins);
	}
	for (uint64_t i = 0; !err && i < n; i++) {
		uint8_t ph[12];
		err = vf_pread_full(j, jpath, ph, 12, pos, &got);
		if (!err && got < 12)
			err = vf_error_create(VF_ERR_CORRUPT, "journal %s is truncated; the file was "
					      "not patched yet: remove the journal", jpath);
		if (err)
			break;
		uint64_t off = vf_load_uint(ph, 8, true);
		uint32_t len = (uint32_t)vf_load_uint(ph + 8, 4, true);
		uint8_t *nb = malloc(len ? len : 1);
		if (!nb) {
			err = &vf_error_nomem;
			break;
		}
		err = vf_pread_full(j, jpath, nb, len, pos + 12 + len, &got);
		if (!err && got < len)
			err = vf_error_create(VF_ERR_CORRUPT, "journal %s is truncated; the file was "
					      "not patched yet: remove the journal", jpath);
		if (!err)
			err = write_all(fd, nb, len, off, path);
		free(nb);
		pos += 12 + 2 * (uint64_t)len;
	}
	if (!err && fsync(fd) < 0)
		err = vf_error_os(errno, path, "fsync");
	if (fd >= 0)
		close(fd);
	close(j);
	if (!err) {
		unlink(jpath);
		*recovered = true;
	}
	free(jpath);
	return err;
}

/* Crash injection for the tests: VMCOREFIX_TEST_CRASH_IN_PLACE=journal (after
 * the journal is in place), insert (after the range is inserted) or anything
 * else (after the first patch) ends the process as kill -9 would. */
static void test_crash(const char *step)
{
	const char *c = getenv("VMCOREFIX_TEST_CRASH_IN_PLACE");
	if (!c)
		return;
	bool named = strcmp(c, "journal") == 0 || strcmp(c, "insert") == 0;
	if (strcmp(c, step) == 0 || (!named && strcmp(step, "patch") == 0))
		_exit(137);
}

/* ELF in place: the header region grows past the first data byte, so the
 * data must move by plan->shift.  FALLOC_FL_INSERT_RANGE inserts whole
 * blocks in front of it (ext4, XFS) at a cost independent of the file's
 * size; [hsize, shift_from + shift) is then zeroed so the file equals what
 * -o writes. */
static struct vf_error *plan_insert(struct vf_dump *dump, const struct vf_plan *plan, int fd,
				    struct insert_op *ins, uint8_t **zeros, struct phys_patch *zp)
{
	const char *path = dump->src->path;
	if (dump->src->kind == VF_SRC_FLATTENED)
		return vf_error_set_hint(vf_error_create(VF_ERR_UNSUPPORTED, "moving data inside a "
				"flattened stream in place is not implemented; nothing was changed"),
				"write a fixed copy with -o");
	struct statfs sf;
	struct stat st;
	if (fstatfs(fd, &sf) < 0 || fstat(fd, &st) < 0)
		return vf_error_os(errno, path, "statfs");
	uint64_t bs = (uint64_t)sf.f_bsize;
	if (!bs || plan->shift % bs)
		return vf_error_set_hint(vf_error_create(VF_ERR_UNSUPPORTED, "%s: the data must "
				"move by %" PRIu64 " bytes, not a multiple of the file system's block "
				"size %" PRIu64 ", so it cannot be inserted in place; nothing was "
				"changed", path, plan->shift, bs), "write a fixed copy with -o");
	uint64_t hsize = 0;
	for (size_t i = 0; i < plan->n; i++)
		if (plan->patches[i].offset == 0)
			hsize = plan->patches[i].len;
	ins->at = plan->shift_from / bs * bs;
	ins->len = plan->shift;
	ins->size_before = (uint64_t)st.st_size;
	uint64_t zend = plan->shift_from + plan->shift;
	if (hsize < zend) {
		if (zend - hsize > (64u << 20))
			return vf_error_create(VF_ERR_UNSUPPORTED, "too large a gap to clear in place");
		*zeros = calloc(1, (size_t)(zend - hsize));
		if (!*zeros)
			return &vf_error_nomem;
		*zp = (struct phys_patch){ hsize, *zeros, (uint32_t)(zend - hsize) };
	}
	return NULL;
}

static const char *fs_name(int fd)
{
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		return "this file system";
	switch ((unsigned long)sf.f_type) {
	case 0xEF53: return "ext2/3/4";
	case 0x58465342: return "XFS";
	case 0x9123683E: return "Btrfs";
	case 0x01021994: return "tmpfs";
	case 0x6969: return "NFS";
	case 0x794c7630: return "overlayfs";
	}
	return "this file system";
}

/* The bytes the patches will replace, and the file's size, for an undo. */
struct undo {
	uint8_t **old;
	size_t n;
	uint64_t size;
};

static struct vf_error *undo_save(int fd, const char *path, const struct phys_patch *pp,
				  size_t npp, struct undo *u)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return vf_error_os(errno, path, "stat");
	u->size = (uint64_t)st.st_size;
	u->old = calloc(npp ? npp : 1, sizeof(*u->old));
	if (!u->old)
		return &vf_error_nomem;
	for (size_t i = 0; i < npp; i++, u->n++) {
		size_t got;
		if (!(u->old[i] = calloc(1, pp[i].len ? pp[i].len : 1)))
			return &vf_error_nomem;
		struct vf_error *err = vf_pread_full(fd, path, u->old[i], pp[i].len, pp[i].at, &got);
		if (err)
			return err;
	}
	return NULL;
}

static struct vf_error *undo_apply(int fd, const char *path, const struct phys_patch *pp,
				   const struct undo *u)
{
	struct vf_error *err = NULL;
	for (size_t i = u->n; !err && i-- > 0;)
		if (pp[i].at < u->size)
			err = write_all(fd, u->old[i], pp[i].at + pp[i].len > u->size
					? (size_t)(u->size - pp[i].at) : pp[i].len, pp[i].at, path);
	if (!err && ftruncate(fd, (off_t)u->size) < 0)
		err = vf_error_os(errno, path, "truncating back to its size");
	if (!err && fsync(fd) < 0)
		err = vf_error_os(errno, path, "fsync");
	return err;
}

static void undo_free(struct undo *u)
{
	for (size_t i = 0; i < u->n; i++)
		free(u->old[i]);
	free(u->old);
}

struct vf_error *vf_write_in_place(struct vf_dump *dump, const struct vf_plan *plan,
				   const struct vf_write_opts *wo,
				   struct vf_write_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	if (plan->n == 0)
		return NULL;
	const char *path = dump->src->path;
	struct phys_patch *pp = NULL;
	size_t npp = 0;
	uint8_t *extra = NULL, *zeros = NULL;
	struct insert_op ins = { 0 };
	struct vf_error *err = physical_patches(dump, plan, &pp, &npp, &extra);
	int fd = err ? -1 : open(path, O_RDWR | O_CLOEXEC);
	struct undo undo = { 0 };
	/* with an insert, the undo is a collapse of the range plus the bytes in
	 * front of the data (at most the header region) */
	bool verify = wo && wo->verify && (!plan->shift || plan->shift_from <= (64u << 20));
	uint8_t *pre = NULL;
	if (!err && fd >= 0 && verify && !plan->shift)
		err = undo_save(fd, path, pp, npp, &undo);
	if (!err && fd < 0)
		err = vf_error_os(errno, path, "cannot open for writing");
	if (!err && plan->shift) {
		struct phys_patch zp = { 0 };
		err = plan_insert(dump, plan, fd, &ins, &zeros, &zp);
		if (!err && zp.len) {
			struct phys_patch *np = realloc(pp, (npp + 1) * sizeof(*pp));
			if (!np)
				err = &vf_error_nomem;
			else {
				pp = np;
				pp[npp++] = zp;
			}
		}
	}
	char *jpath = err ? NULL : journal_path(path);
	if (!err && !jpath)
		err = &vf_error_nomem;
	if (!err)
		err = write_journal(jpath, dump->src->fd, path, pp, npp, plan->shift ? &ins : NULL);
	if (!err)
		test_crash("journal");
	if (!err && verify && plan->shift) {
		size_t got;
		if (!(pre = malloc(plan->shift_from ? (size_t)plan->shift_from : 1)))
			err = &vf_error_nomem;
		else
			err = vf_pread_full(fd, path, pre, (size_t)plan->shift_from, 0, &got);
	}
	if (!err && plan->shift &&
	    fallocate(fd, FALLOC_FL_INSERT_RANGE, (off_t)ins.at, (off_t)ins.len) < 0) {
		int e = errno;
		/* nothing changed: the journal goes, and the user learns why */
		unlink(jpath);
		fsync_dir_of(path);
		if (e == EOPNOTSUPP || e == EINVAL)
			err = vf_error_set_hint(vf_error_create(VF_ERR_UNSUPPORTED, "%s: the notes "
					"must grow in front of the data, and %s cannot insert a range "
					"(FALLOC_FL_INSERT_RANGE: ext4 and XFS can); nothing was changed",
					path, fs_name(fd)), "write a fixed copy with -o instead");
		else
			err = vf_error_os(e, path, "inserting %" PRIu64 " bytes at 0x%" PRIx64,
					  ins.len, ins.at);
	}
	if (!err && plan->shift)
		test_crash("insert");
	for (size_t i = 0; !err && i < npp; i++) {
		err = write_all(fd, pp[i].bytes, pp[i].len, pp[i].at, path);
		if (!err)
			test_crash("patch");
	}
	if (!err)
		stats->patches = plan->n;
	/* fault injection for the tests: a bad write the read-back must catch */
	if (!err && npp && getenv("VMCOREFIX_TEST_BAD_WRITE")) {
		static const uint8_t junk[8] = { 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef };
		err = write_all(fd, junk, pp[0].len < 8 ? pp[0].len : 8, pp[0].at, path);
	}
	if (!err && fsync(fd) < 0)
		err = vf_error_os(errno, path, "fsync");
	if (!err && verify && (err = wo->verify(wo->verify_arg, path))) {
		/* it does not read back as planned: the old bytes go back (with an
		 * insert: the range collapses, and the bytes in front of the data) */
		struct vf_error *uerr = NULL;
		if (!plan->shift)
			uerr = undo_apply(fd, path, pp, &undo);
		else if (fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, (off_t)ins.at, (off_t)ins.len) < 0)
			uerr = vf_error_os(errno, path, "collapsing the inserted range");
		else if (!(uerr = write_all(fd, pre, (size_t)plan->shift_from, 0, path)) &&
			 fsync(fd) < 0)
			uerr = vf_error_os(errno, path, "fsync");
		if (uerr) {
			vf_error_destroy(err);
			err = vf_error_prefix(uerr, "restoring after a failed read-back (the journal "
					      "beside it still holds the old bytes)");
		} else {
			unlink(jpath);
			fsync_dir_of(path);
			err = vf_error_prefix(err, "the old bytes were put back");
		}
		free(jpath);
		jpath = NULL;
	}
	if (!err) {
		unlink(jpath);
		err = fsync_dir_of(path);
	}
	/* on failure the journal stays: the next run finishes the patching */
	undo_free(&undo);
	free(pre);
	if (fd >= 0)
		close(fd);
	free(jpath);
	free(pp);
	free(extra);
	free(zeros);
	return err;
}
