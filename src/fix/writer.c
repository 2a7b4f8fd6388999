/* writer.c - -o: the fixed dump written to a temporary file beside the
 * target, synced, checked and renamed into place.
 *
 * The pieces: fix/copy.h (copies, sparse copies, writes), fix/flatwrite.h
 * (flattened streams), fix/journal.h and inplace.c (--in-place). */
#include "config.h"
#include "fix/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fix/copy.h"
#include "fix/flatwrite.h"
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
	for (size_t i = 0; !err && i < plan->n; i++) {
		const struct vf_patch *p = &plan->patches[i];
		err = vf_write_all(io->out, p->bytes, p->len, p->offset, io->out_path);
	}
	return err;
}

static struct vf_error *write_contents(struct vf_dump *dump, const struct vf_plan *plan,
				       const struct vf_copy_io *io, enum vf_out_form form,
				       uint64_t in_size, uint64_t *copied)
{
	bool flat_in = dump->src->kind == VF_SRC_FLATTENED;
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

/* The temporary file's name: beside the target, so rename is atomic. */
static char *temp_name(const char *out_path)
{
	char *dcopy = strdup(out_path), *bcopy = strdup(out_path), *tmp = NULL;
	if (dcopy && bcopy && asprintf(&tmp, "%s/.%s.vmcore-fix.XXXXXX", dirname(dcopy),
				       basename(bcopy)) < 0)
		tmp = NULL;
	free(dcopy);
	free(bcopy);
	return tmp;
}

/* The written file (out, at tmp) synced, closed, checked and renamed. */
static struct vf_error *finish(int out, const char *tmp, const char *out_path,
			       const struct vf_write_opts *wo, struct vf_error *err)
{
	if (!err && fsync(out) < 0)
		err = vf_error_os(errno, out_path, "fsync");
	if (close(out) < 0 && !err)
		err = vf_error_os(errno, out_path, "close");
	if (!err && wo && wo->verify)
		err = wo->verify(wo->verify_arg, tmp);
	if (!err && rename(tmp, out_path) < 0)
		err = vf_error_os(errno, out_path, "rename into place");
	return err;
}

struct vf_error *vf_write_fixed(struct vf_dump *dump, const struct vf_plan *plan,
				const char *out_path, enum vf_out_form form,
				const struct vf_write_opts *wo, struct vf_write_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	struct stat ist;
	struct vf_error *err = not_the_input(dump->src, out_path, &ist);
	if (err)
		return err;
	char *tmp = temp_name(out_path);
	if (!tmp)
		return &vf_error_nomem;
	struct sigaction old[3];
	guard(tmp, old);
	int out = mkostemp(tmp, O_CLOEXEC);
	if (out < 0) {
		err = vf_error_os(errno, out_path, "cannot create a temporary file beside it");
		goto out;
	}
	if (fchmod(out, ist.st_mode & 07777) < 0)
		err = vf_error_os(errno, tmp, "chmod");
	struct vf_copy_io io = { dump->src->fd, out, dump->src->path, out_path,
				 wo ? wo->progress : NULL, wo ? wo->progress_arg : NULL };
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
	/* renamed: the output is there, complete, but a crash may still lose
	 * the rename until its directory is synced */
	if (!err && (err = vf_fsync_dir_of(out_path)))
		err = vf_error_prefix(err, "%s is written and in place, but may not survive a "
				      "system crash", out_path);
	return err;
}
