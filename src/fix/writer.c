/* writer.c - -o: the fixed dump written to a temporary file beside the
 * target, synced (unless no_sync), checked and renamed into place.
 *
 * The pieces: fix/copy.h (copies, sparse copies, writes), fix/flatwrite.h
 * (flattened streams), fix/journal.h and inplace.c (--in-place). */
#include "config.h"
#include "fix/writer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fix/copy.h"
#include "fix/flatwrite.h"
#include "fix/kdumpwrite.h"
#include "source/spool.h"
#include "source/src.h"

/* What names a temporary file of ours: ".NAME" TEMP_MARK "XXXXXX". */
#define TEMP_MARK ".vmcore-fix."

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

/* ------------------------------------------------------- the contents */

/* A flattened input kept flattened: the stream as it is, the patches
 * inside its records (and new records at its end). */
static struct vf_error *write_flat_same(struct vf_dump *dump, const struct vf_plan *plan,
					const struct vf_copy_io *io, uint64_t in_size,
					uint64_t *copied)
{
	struct vf_error *err = vf_sparse_copy(io, 0, in_size, 0, false, copied);
	struct vf_phys_patch *pp = NULL;
	size_t npp = 0;
	uint8_t *extra = NULL;
	if (!err)
		err = vf_physical_patches(dump, plan, &pp, &npp, &extra);
	if (!err)
		err = vf_write_patches(io->out, io->out_path, pp, npp);
	free(pp);
	free(extra);
	return err;
}

/* The plan's patches, at their offsets of the plain file written. */
static struct vf_error *write_plan_patches(const struct vf_plan *plan,
					   const struct vf_copy_io *io)
{
	struct vf_error *err = NULL;
	for (size_t i = 0; !err && i < plan->n; i++) {
		const struct vf_patch *p = &plan->patches[i];
		err = vf_write_all(io->out, p->bytes, p->len, p->offset, io->out_path);
	}
	return err;
}

/* The plain file: a flattened input reassembled, a plain one copied (with
 * its data moved by plan->shift; ELF zero pages become holes), then the
 * patches. */
static struct vf_error *write_raw(struct vf_dump *dump, const struct vf_plan *plan,
				  const struct vf_copy_io *io, uint64_t in_size, uint64_t *copied)
{
	struct vf_error *err;
	if (dump->src->kind == VF_SRC_FLATTENED)
		err = vf_reassemble(dump, io->out, io->out_path, copied);
	else
		err = vf_sparse_copy(io, plan->shift ? plan->shift_from : 0, in_size, plan->shift,
				     dump->format == VF_FORMAT_ELF, copied);
	if (!err)
		err = write_plan_patches(plan, io);
	return err;
}

/* A kdump converted: its runs of guest memory read through its reader (each
 * page decompressed) and written where the ELF plan puts them, zero pages
 * left as holes; then the header region. */
static struct vf_error *write_elf_runs(struct vf_dump *dump, const struct vf_plan *plan,
				       const struct vf_copy_io *io, uint64_t *copied)
{
	enum { CHUNK = 1 << 20 };
	uint8_t *buf = malloc(CHUNK);
	if (!buf)
		return &vf_error_nomem;
	struct vf_error *err = NULL;
	uint64_t total = 0, done = 0;
	for (size_t i = 0; i < plan->nruns; i++)
		total += plan->runs[i].size;
	for (size_t i = 0; !err && i < plan->nruns; i++) {
		const struct vf_plan_run *r = &plan->runs[i];
		for (uint64_t o = 0; !err && o < r->size;) {
			size_t n = r->size - o < CHUNK ? (size_t)(r->size - o) : CHUNK;
			err = vf_mem_read(&dump->mem, r->paddr + o, buf, n);
			if (err) {
				err = vf_error_prefix(err, "reading the dump's memory");
				break;
			}
			size_t z = 0;
			while (z < n && buf[z] == 0)
				z++;
			if (z < n)
				err = vf_write_all(io->out, buf, n, r->offset + o, io->out_path);
			*copied += n;
			o += n;
			done += n;
			if (io->progress)
				io->progress(io->progress_arg, done, total);
		}
	}
	free(buf);
	if (!err && ftruncate(io->out, (off_t)plan->out_size) < 0)
		err = vf_error_os(errno, io->out_path, "setting the size");
	if (!err)
		err = write_plan_patches(plan, io);
	return err;
}

/* A new kdump: its body made from the dump's memory, then the header
 * region. */
static struct vf_error *write_kdump(struct vf_dump *dump, const struct vf_plan *plan,
				    const struct vf_copy_io *io, uint64_t *copied)
{
	struct vf_error *err = vf_write_kdump_body(dump, plan, io, copied);
	return err ? err : write_plan_patches(plan, io);
}

static struct vf_error *write_contents(struct vf_dump *dump, const struct vf_plan *plan,
				       const struct vf_copy_io *io, enum vf_out_form form,
				       uint64_t in_size, uint64_t *copied)
{
	if (vf_plan_converts(plan) && form == VF_OUT_FLATTENED)
		return vf_error_set_hint(vf_error_create(VF_ERR_UNSUPPORTED, "a conversion into "
				"a new dump is written as a plain file, not flattened"), "leave out "
				"--output-format flattened (-o - writes it flattened)");
	if (plan->to_elf)
		return write_elf_runs(dump, plan, io, copied);
	if (plan->to_kdump)
		return write_kdump(dump, plan, io, copied);
	bool flat_in = dump->src->kind == VF_SRC_FLATTENED;
	if (form == VF_OUT_ELF)
		form = VF_OUT_RAW;  /* an ELF input: its own form */
	if (form == VF_OUT_SAME)
		form = flat_in ? VF_OUT_FLATTENED : VF_OUT_RAW;
	bool flat_out = form == VF_OUT_FLATTENED;
	if (plan->shift && !flat_in && flat_out)
		return vf_error_set_hint(vf_error_create(VF_ERR_UNSUPPORTED, "writing a flattened "
				"stream of an ELF dump whose data moves is not implemented"),
				"write the fixed dump raw (--output-format raw), then flatten it");
	if (flat_in && plan->shift)
		return vf_flat_shifted(dump, plan, io->out, io->out_path, flat_out, copied);
	if (flat_in && flat_out)
		return write_flat_same(dump, plan, io, in_size, copied);
	if (flat_out)
		return vf_flatten(dump, plan, io->out, io->out_path, copied);
	return write_raw(dump, plan, io, in_size, copied);
}

/* Fault injection for the tests: a bad write the read-back must catch. */
static struct vf_error *test_bad_write(const struct vf_plan *plan, int out, const char *out_path)
{
	if (!plan->n || !getenv("VMCOREFIX_TEST_BAD_WRITE"))
		return NULL;
	const struct vf_patch *p = &plan->patches[plan->n - 1];
	static const uint8_t junk[8] = { 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef };
	return vf_write_all(out, junk, p->len < 8 ? p->len : 8, p->offset + (p->len > 8 ? 8 : 0),
			    out_path);
}

/* ------------------------------------------------------------ the file */

static struct vf_error *not_the_input(const struct vf_src *src, const char *out_path,
				      struct stat *ist)
{
	struct stat ost;
	if (fstat(src->fd, ist) < 0)
		return vf_error_os(errno, src->path, "stat");
	if (stat(out_path, &ost) == 0 && ost.st_dev == ist->st_dev && ost.st_ino == ist->st_ino)
		return vf_error_set_hint(vf_error_create(VF_ERR_INVALID, "the output %s is the input",
							 out_path),
					 "write to another file: vmcore-fix never changes its input");
	return NULL;
}

/* A target that cannot be renamed onto (a directory, a name ending in a
 * slash) fails now, not after the whole dump is copied. */
static struct vf_error *check_target(const char *out_path)
{
	struct stat st;
	size_t n = strlen(out_path);
	if ((n && out_path[n - 1] == '/') || (stat(out_path, &st) == 0 && S_ISDIR(st.st_mode)))
		return vf_error_set_hint(vf_error_create(VF_ERR_INVALID, "the output %s is a "
							 "directory", out_path),
					 "name the file to write: -o DIR/NAME");
	return NULL;
}

/* The temporary file's name: beside the target, so rename is atomic.
 * *prefix (malloc'd, may be NULL) is its name in that directory without the
 * random part, *dir that directory. */
static char *temp_name(const char *out_path, char **dir, char **prefix)
{
	char *dcopy = strdup(out_path), *bcopy = strdup(out_path), *tmp = NULL;
	*dir = *prefix = NULL;
	const char *d = dcopy ? dirname(dcopy) : NULL, *b = bcopy ? basename(bcopy) : NULL;
	if (d && b && asprintf(&tmp, "%s/.%s" TEMP_MARK "XXXXXX", d, b) < 0)
		tmp = NULL;
	if (tmp && asprintf(prefix, ".%s" TEMP_MARK, b) < 0)
		*prefix = NULL;
	if (tmp && (*dir = strdup(d)) == NULL) {
		free(tmp);
		tmp = NULL;
	}
	free(dcopy);
	free(bcopy);
	return tmp;
}

/* name in dir is a temporary file of an earlier -o to this target that no
 * live writer holds (every writer keeps an flock on its file until it is
 * renamed): taking the lock proves it; the name is checked to be the file
 * locked before it is removed. */
static bool remove_if_stale(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st, again;
	bool gone = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0 &&
		    fstatat(dfd, name, &again, AT_SYMLINK_NOFOLLOW) == 0 &&
		    again.st_dev == st.st_dev && again.st_ino == st.st_ino &&
		    unlinkat(dfd, name, 0) == 0;
	close(fd);
	return gone;
}

/* Remove the stale temporary files of earlier runs (killed with -9, or by
 * a crash) beside the target: names of the pattern of temp_name, ours, not
 * held.  Best effort: what cannot be read or removed stays. */
static uint64_t remove_stale(const char *dir, const char *prefix)
{
	DIR *d = prefix ? opendir(dir) : NULL;
	if (!d)
		return 0;
	uint64_t removed = 0;
	size_t plen = strlen(prefix);
	for (struct dirent *de; (de = readdir(d));)
		if (strncmp(de->d_name, prefix, plen) == 0 && strlen(de->d_name + plen) == 6 &&
		    remove_if_stale(dirfd(d), de->d_name))
			removed++;
	closedir(d);
	return removed;
}

/* The written file (out, at tmp) synced (unless wo->no_sync), checked,
 * renamed and closed: out stays open (and locked) until its name is the
 * target's. */
static struct vf_error *finish(int out, const char *tmp, const char *out_path,
			       const struct vf_write_opts *wo, struct vf_error *err)
{
	if (!err && !(wo && wo->no_sync) && fsync(out) < 0)
		err = vf_error_os(errno, out_path, "fsync");
	if (!err && wo && wo->verify)
		err = wo->verify(wo->verify_arg, tmp);
	if (!err && rename(tmp, out_path) < 0)
		err = vf_error_os(errno, out_path, "rename into place");
	close(out);  /* synced (or not to be): a late error of close has nothing left to lose */
	return err;
}

/* Whether fd is still the file named path: a run cleaning stale files may
 * have taken ours in the instant between its creation and its lock. */
static bool still_named(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* The temporary file created, locked for the writer's whole life, with the
 * input's mode. */
static struct vf_error *create_temp(char *tmp, const char *out_path, mode_t mode, int *out)
{
	size_t x = strlen(tmp) - 6;
	for (int tries = 0;; tries++) {
		memcpy(tmp + x, "XXXXXX", 6);
		*out = mkostemp(tmp, O_CLOEXEC);
		if (*out < 0)
			return vf_error_os(errno, out_path, "cannot create a temporary file beside it");
		if (flock(*out, LOCK_EX | LOCK_NB) < 0)
			return vf_error_os(errno, tmp, "cannot lock the temporary file");
		if (still_named(*out, tmp) || tries == 3)
			break;
		close(*out);
	}
	if (fchmod(*out, mode & 07777) < 0)
		return vf_error_os(errno, tmp, "chmod");
	return NULL;
}

struct vf_error *vf_write_fixed(struct vf_dump *dump, const struct vf_plan *plan,
				const char *out_path, enum vf_out_form form,
				const struct vf_write_opts *wo, struct vf_write_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	struct stat ist;
	struct vf_error *err = not_the_input(dump->src, out_path, &ist);
	if (!err)
		err = check_target(out_path);
	if (err)
		return err;
	char *dir, *prefix, *tmp = temp_name(out_path, &dir, &prefix);
	if (!tmp) {
		free(dir);
		free(prefix);
		return &vf_error_nomem;
	}
	stats->stale_removed = remove_stale(dir, prefix);
	struct sigaction old[3];
	guard(tmp, old);
	int out;
	err = create_temp(tmp, out_path, ist.st_mode, &out);
	if (out < 0)
		goto out;
	struct vf_copy_io io = { dump->src->fd, out, dump->src->path, out_path,
				 wo ? wo->progress : NULL, wo ? wo->progress_arg : NULL,
				 getenv("VMCOREFIX_TEST_NO_CLONE") != NULL };  /* the old path */
	if (!err)
		err = write_contents(dump, plan, &io, form, (uint64_t)ist.st_size,
				     &stats->bytes_copied);
	if (!err)
		stats->patches = plan->n;
	if (!err)
		err = test_bad_write(plan, out, out_path);
	err = finish(out, tmp, out_path, wo, err);
	if (err)
		unlink(tmp);
out:
	unguard(old);
	free(tmp);
	free(dir);
	free(prefix);
	/* renamed: the output is there, complete, but a crash may still lose
	 * the rename until its directory is synced */
	if (!err && !(wo && wo->no_sync) && (err = vf_fsync_dir_of(out_path)))
		err = vf_error_prefix(err, "%s is written and in place, but may not survive a "
				      "system crash", out_path);
	return err;
}

struct vf_error *vf_write_unnamed(struct vf_dump *dump, const struct vf_plan *plan,
				  const char *dir, enum vf_out_form form,
				  const struct vf_write_opts *wo, struct vf_write_stats *stats,
				  int *fd)
{
	static const char name[] = "the stream's file";
	memset(stats, 0, sizeof(*stats));
	*fd = -1;
	struct stat ist;
	if (fstat(dump->src->fd, &ist) < 0)
		return vf_error_os(errno, dump->src->path, "stat");
	int out;
	struct vf_error *err = vf_unnamed_file(dir, &out);
	if (err)
		return vf_error_set_hint(err, "set TMPDIR to a directory with room for the fixed "
					 "dump");
	struct vf_copy_io io = { dump->src->fd, out, dump->src->path, name,
				 wo ? wo->progress : NULL, wo ? wo->progress_arg : NULL,
				 getenv("VMCOREFIX_TEST_NO_CLONE") != NULL };
	err = write_contents(dump, plan, &io, form, (uint64_t)ist.st_size, &stats->bytes_copied);
	if (!err)
		stats->patches = plan->n;
	if (!err)
		err = test_bad_write(plan, out, name);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", out);
	if (!err && wo && wo->verify)
		err = wo->verify(wo->verify_arg, path);
	if (err) {
		close(out);
		if (err->code == VF_ERR_OS && (err->errnum == ENOSPC || err->errnum == EDQUOT))
			err = vf_error_set_hint(vf_error_prefix(err, "in %s", dir), "set TMPDIR to "
						"a file system with room for the fixed dump");
		return err;
	}
	*fd = out;
	return NULL;
}
