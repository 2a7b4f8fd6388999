/* inplace.c - --in-place: the plan's patches written into the input itself.
 *
 * The order is what makes an interruption safe: the journal (fix/journal.h)
 * is in place and synced before the file changes; then the range for a
 * larger header region is inserted (ELF), the patches written and the file
 * synced; the journal goes last.  An error before the journal leaves the
 * file as it was; after it, the journal stays and the next run finishes the
 * patching.  A failed read-back puts the old bytes back.  The file is
 * opened once, checked to be the inode the dump was read from, and that
 * descriptor is the one patched. */
#include "config.h"
#include "fix/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "fix/copy.h"
#include "fix/flatwrite.h"
#include "fix/journal.h"
#include "source/src.h"

/* A read-back with an insert keeps the bytes in front of the data, to put
 * them back: only up to this many. */
#define PRE_MAX (64u << 20)

/* The bytes the patches will replace, and the file's size, for an undo. */
struct undo {
	uint8_t **old;
	size_t n;
	uint64_t size;
};

struct inplace {
	struct vf_dump *dump;
	const struct vf_plan *plan;
	const struct vf_write_opts *wo;
	const char *path;
	int fd;
	bool verify;                /* wo->verify is called, and a failure undone */
	struct vf_phys_patch *pp;   /* where the bytes go, in the order written */
	size_t npp;
	uint8_t *extra;             /* owns new flattened records */
	uint8_t *zeros;             /* owns the gap cleared after an insert */
	struct vf_insert_op ins;    /* plan->shift: the range inserted */
	struct undo undo;           /* no shift: the bytes to put back */
	uint8_t *pre;               /* a shift: the bytes in front of the data */
	char *jpath;
};

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

/* err, with what a later, lesser failure (also) means added in front. */
static struct vf_error *with_note(struct vf_error *err, struct vf_error *also, const char *what)
{
	if (!also)
		return err;
	char *s = vf_error_string(also);
	err = vf_error_prefix(err, "%s (%s)", what, s ? s : "out of memory");
	free(s);
	vf_error_destroy(also);
	return err;
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

/* ---------------------------------------------------------------- undo */

static struct vf_error *undo_save(int fd, const char *path, const struct vf_phys_patch *pp,
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

static struct vf_error *undo_apply(int fd, const char *path, const struct vf_phys_patch *pp,
				   const struct undo *u)
{
	struct vf_error *err = NULL;
	for (size_t i = u->n; !err && i-- > 0;)
		if (pp[i].at < u->size)
			err = vf_write_all(fd, u->old[i], pp[i].at + pp[i].len > u->size
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

/* -------------------------------------------------------------- insert */

/* ELF in place: the header region grows past the first data byte, so the
 * data must move by plan->shift.  FALLOC_FL_INSERT_RANGE inserts whole
 * blocks in front of it (ext4, XFS) at a cost independent of the file's
 * size; [hsize, shift_from + shift) is then zeroed so the file equals what
 * -o writes: *zp, its bytes owned by *zeros. */
static struct vf_error *plan_insert(struct vf_dump *dump, const struct vf_plan *plan, int fd,
				    struct vf_insert_op *ins, uint8_t **zeros,
				    struct vf_phys_patch *zp)
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
		*zp = (struct vf_phys_patch){ hsize, *zeros, (uint32_t)(zend - hsize) };
	}
	return NULL;
}

/* The insert, and the zeroing after it as the last patch. */
static struct vf_error *prepare_insert(struct inplace *s)
{
	struct vf_phys_patch zp = { 0 };
	struct vf_error *err = plan_insert(s->dump, s->plan, s->fd, &s->ins, &s->zeros, &zp);
	if (err || !zp.len)
		return err;
	struct vf_phys_patch *np = realloc(s->pp, (s->npp + 1) * sizeof(*s->pp));
	if (!np)
		return &vf_error_nomem;
	s->pp = np;
	s->pp[s->npp++] = zp;
	return NULL;
}

/* Insert the range.  If that fails nothing changed: the journal goes, and
 * the user learns why. */
static struct vf_error *do_insert(struct inplace *s)
{
	if (fallocate(s->fd, FALLOC_FL_INSERT_RANGE, (off_t)s->ins.at, (off_t)s->ins.len) == 0)
		return NULL;
	int e = errno;
	struct vf_error *err;
	if (e == EOPNOTSUPP || e == EINVAL)
		err = vf_error_set_hint(vf_error_create(VF_ERR_UNSUPPORTED, "%s: the notes must "
				"grow in front of the data, and %s cannot insert a range "
				"(FALLOC_FL_INSERT_RANGE: ext4 and XFS can); nothing was changed",
				s->path, fs_name(s->fd)), "write a fixed copy with -o instead");
	else
		err = vf_error_os(e, s->path, "inserting %" PRIu64 " bytes at 0x%" PRIx64,
				  s->ins.len, s->ins.at);
	return with_note(err, vf_journal_remove(s->jpath), "its journal was removed, but not "
			 "durably: it may come back after a system crash");
}

/* ------------------------------------------------------------- the run */

/* The file is opened for writing once, and only if it is still the inode
 * the dump was read (and the plan made) from: a file renamed over it since
 * is refused.  That descriptor is read for the journal's old bytes and
 * written, to the end. */
static struct vf_error *open_checked(struct inplace *s)
{
	struct stat was, now;
	if (s->dump->src->fd < 0 || fstat(s->dump->src->fd, &was) < 0)
		return vf_error_os(s->dump->src->fd < 0 ? EBADF : errno, s->path, "stat");
	s->fd = open(s->path, O_RDWR | O_CLOEXEC);
	if (s->fd < 0)
		return vf_error_os(errno, s->path, "cannot open for writing");
	if (fstat(s->fd, &now) < 0)
		return vf_error_os(errno, s->path, "stat");
	if (now.st_dev != was.st_dev || now.st_ino != was.st_ino || !S_ISREG(now.st_mode))
		return vf_error_set_hint(vf_error_create(VF_ERR_REFUSED, "%s was replaced while it "
				"was read (it is another file now); nothing was changed", s->path),
				"run vmcore-fix --in-place on it again");
	return NULL;
}

static struct vf_error *prepare(struct inplace *s)
{
	struct vf_error *err = vf_physical_patches(s->dump, s->plan, &s->pp, &s->npp, &s->extra);
	if (err)
		return err;
	if ((err = open_checked(s)))
		return err;
	if (s->verify && !s->plan->shift)
		err = undo_save(s->fd, s->path, s->pp, s->npp, &s->undo);
	if (!err && s->plan->shift)
		err = prepare_insert(s);
	if (!err && !(s->jpath = vf_journal_path(s->path)))
		err = &vf_error_nomem;
	return err;
}

/* With an insert, the undo is a collapse of the range plus the bytes in
 * front of the data (at most the header region). */
static struct vf_error *save_front(struct inplace *s)
{
	size_t n = (size_t)s->plan->shift_from, got;
	if (!(s->pre = malloc(n ? n : 1)))
		return &vf_error_nomem;
	return vf_pread_full(s->fd, s->path, s->pre, n, 0, &got);
}

static struct vf_error *write_patches(struct inplace *s)
{
	struct vf_error *err = NULL;
	for (size_t i = 0; !err && i < s->npp; i++) {
		err = vf_write_all(s->fd, s->pp[i].bytes, s->pp[i].len, s->pp[i].at, s->path);
		if (!err)
			test_crash("patch");
	}
	/* fault injection for the tests: a bad write the read-back must catch */
	if (!err && s->npp && getenv("VMCOREFIX_TEST_BAD_WRITE")) {
		static const uint8_t junk[8] = { 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef };
		err = vf_write_all(s->fd, junk, s->pp[0].len < 8 ? s->pp[0].len : 8, s->pp[0].at,
				   s->path);
	}
	if (!err && fsync(s->fd) < 0)
		err = vf_error_os(errno, s->path, "fsync");
	return err;
}

/* The file does not read back as planned: the old bytes go back (with an
 * insert: the range collapses, and the bytes in front of the data). */
static struct vf_error *roll_back(struct inplace *s)
{
	if (!s->plan->shift)
		return undo_apply(s->fd, s->path, s->pp, &s->undo);
	if (fallocate(s->fd, FALLOC_FL_COLLAPSE_RANGE, (off_t)s->ins.at, (off_t)s->ins.len) < 0)
		return vf_error_os(errno, s->path, "collapsing the inserted range");
	struct vf_error *err = vf_write_all(s->fd, s->pre, (size_t)s->plan->shift_from, 0, s->path);
	if (!err && fsync(s->fd) < 0)
		err = vf_error_os(errno, s->path, "fsync");
	return err;
}

/* The read-back; after a failed one, the journal goes only if the old
 * bytes are back. */
static struct vf_error *check(struct inplace *s)
{
	struct vf_error *err = s->wo->verify(s->wo->verify_arg, s->path);
	if (!err)
		return NULL;
	struct vf_error *uerr = roll_back(s);
	if (uerr) {
		vf_error_destroy(err);
		return vf_error_prefix(uerr, "restoring after a failed read-back (the journal "
				       "beside it still holds the old bytes)");
	}
	err = vf_error_prefix(err, "the old bytes were put back");
	return with_note(err, vf_journal_remove(s->jpath), "its journal was removed, but not "
			 "durably: it may come back after a system crash");
}

static struct vf_error *run(struct inplace *s, struct vf_write_stats *stats)
{
	bool shift = s->plan->shift != 0;
	struct vf_error *err = prepare(s);
	if (!err)
		err = vf_journal_write(s->jpath, s->fd, s->path, s->pp, s->npp,
				       shift ? &s->ins : NULL);
	if (err)
		return err;
	test_crash("journal");
	/* from here on, an error leaves the journal: the next run finishes */
	if (s->verify && shift)
		err = save_front(s);
	if (!err && shift && !(err = do_insert(s)))
		test_crash("insert");
	if (!err)
		err = write_patches(s);
	if (err)
		return err;
	stats->patches = s->plan->n;
	if (s->verify && (err = check(s)))
		return err;
	return vf_error_prefix(vf_journal_remove(s->jpath), "%s is patched and synced, but its "
			       "journal may come back after a system crash (the next --in-place "
			       "would write the same bytes again)", s->path);
}

struct vf_error *vf_write_in_place(struct vf_dump *dump, const struct vf_plan *plan,
				   const struct vf_write_opts *wo,
				   struct vf_write_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	if (vf_plan_converts(plan))
		return vf_error_set_hint(vf_error_create(VF_ERR_UNSUPPORTED, "the fix converts "
				"%s into a new %s dump, which cannot be written over it",
				dump->src->kind == VF_SRC_SAVED ? "the saved VM state" :
				plan->to_elf ? "the kdump" : "the ELF dump",
				plan->to_elf ? "ELF" : "kdump"),
				"write the dump with -o FILE");
	if (plan->n == 0)
		return NULL;
	struct inplace s = {
		.dump = dump, .plan = plan, .wo = wo, .path = dump->src->path, .fd = -1,
		.verify = wo && wo->verify && (!plan->shift || plan->shift_from <= PRE_MAX),
	};
	struct vf_error *err = run(&s, stats);
	undo_free(&s.undo);
	free(s.pre);
	if (s.fd >= 0)
		close(s.fd);
	free(s.jpath);
	free(s.pp);
	free(s.extra);
	free(s.zeros);
	return err;
}
