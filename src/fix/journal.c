/* journal.c - the --in-place journal: written, read back, replayed. */
#include "config.h"
#include "fix/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cursor.h"
#include "source/src.h"
#include "fix/writer.h"

#define HEAD_V1 16     /* magic, count */
#define HEAD_V2 40     /* magic, count, insert offset, length, size before */
#define ENTRY_HEAD 12  /* be64 offset, be32 len */

char *vf_journal_path(const char *path)
{
	char *dcopy = strdup(path), *bcopy = strdup(path), *j = NULL;
	if (dcopy && bcopy && asprintf(&j, "%s/.%s.vmcore-fix-journal", dirname(dcopy),
				       basename(bcopy)) < 0)
		j = NULL;
	free(dcopy);
	free(bcopy);
	return j;
}

bool vf_journal_exists(const char *path)
{
	char *jpath = vf_journal_path(path);
	bool yes = jpath && access(jpath, F_OK) == 0;
	free(jpath);
	return yes;
}

/* One entry: its offset and length, the bytes there now, the new ones. */
static struct vf_error *write_entry(int j, const char *jpath, uint64_t pos, int fd,
				    const char *path, const struct vf_phys_patch *p)
{
	uint8_t hdr[ENTRY_HEAD];
	uint8_t *old = calloc(1, p->len ? p->len : 1);
	if (!old)
		return &vf_error_nomem;
	size_t got;
	struct vf_error *err = vf_pread_full(fd, path, old, p->len, p->at, &got);
	vf_store_uint(hdr, 8, true, p->at);
	vf_store_uint(hdr + 8, 4, true, p->len);
	if (!err)
		err = vf_write_all(j, hdr, ENTRY_HEAD, pos, jpath);
	if (!err)
		err = vf_write_all(j, old, p->len, pos + ENTRY_HEAD, jpath);
	if (!err)
		err = vf_write_all(j, p->bytes, p->len, pos + ENTRY_HEAD + p->len, jpath);
	free(old);
	return err;
}

static struct vf_error *write_contents(int j, const char *jpath, int fd, const char *path,
				       const struct vf_phys_patch *pp, size_t npp,
				       const struct vf_insert_op *ins)
{
	uint8_t hdr[HEAD_V2];
	memcpy(hdr, VF_JOURNAL_MAGIC, 8);
	vf_store_uint(hdr + 8, 8, true, npp);
	vf_store_uint(hdr + 16, 8, true, ins ? ins->at : 0);
	vf_store_uint(hdr + 24, 8, true, ins ? ins->len : 0);
	vf_store_uint(hdr + 32, 8, true, ins ? ins->size_before : 0);
	struct vf_error *err = vf_write_all(j, hdr, HEAD_V2, 0, jpath);
	uint64_t pos = HEAD_V2;
	for (size_t i = 0; !err && i < npp; i++) {
		err = write_entry(j, jpath, pos, fd, path, &pp[i]);
		pos += ENTRY_HEAD + 2 * (uint64_t)pp[i].len;
	}
	return err;
}

struct vf_error *vf_journal_write(const char *jpath, int fd, const char *path,
				  const struct vf_phys_patch *pp, size_t npp,
				  const struct vf_insert_op *ins)
{
	/* written under another name and renamed: a journal is always complete */
	char *tpath = NULL;
	if (asprintf(&tpath, "%s.new", jpath) < 0)
		return &vf_error_nomem;
	unlink(tpath);  /* a leftover of an earlier interrupted write */
	struct vf_error *err = NULL;
	int j = open(tpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (j < 0) {
		err = vf_error_os(errno, tpath, "cannot create the journal");
		goto out;
	}
	err = write_contents(j, jpath, fd, path, pp, npp, ins);
	if (!err && fsync(j) < 0)
		err = vf_error_os(errno, jpath, "fsync");
	close(j);
	if (!err && rename(tpath, jpath) < 0)
		err = vf_error_os(errno, jpath, "rename the journal into place");
	if (!err)
		err = vf_fsync_dir_of(jpath);
	if (err) {
		unlink(tpath);
		unlink(jpath);
	}
out:
	free(tpath);
	return err;
}

struct vf_error *vf_journal_remove(const char *jpath)
{
	if (unlink(jpath) < 0 && errno != ENOENT)
		return vf_error_os(errno, jpath, "cannot remove the journal");
	return vf_fsync_dir_of(jpath);
}

/* ------------------------------------------------------------ reading */

static struct vf_error *truncated(const struct vf_journal *j)
{
	return vf_error_create(VF_ERR_CORRUPT, "journal %s is truncated; the file was not "
			       "patched yet: remove the journal", j->jpath);
}

/* Every entry within the file and nothing after the last one: a journal is
 * renamed into place complete, so anything else is damage, found before a
 * byte of it is written. */
static struct vf_error *check_entries(struct vf_journal *j, uint64_t size)
{
	uint64_t pos = j->pos;
	for (uint64_t i = 0; i < j->count; i++) {
		uint8_t ph[ENTRY_HEAD];
		size_t got;
		struct vf_error *err = vf_pread_full(j->fd, j->jpath, ph, ENTRY_HEAD, pos, &got);
		if (err)
			return err;
		uint64_t len = vf_load_uint(ph + 8, 4, true);
		if (got < ENTRY_HEAD || size - pos - ENTRY_HEAD < 2 * len)
			return truncated(j);
		pos += ENTRY_HEAD + 2 * len;
	}
	if (pos != size)
		return vf_error_create(VF_ERR_CORRUPT, "journal %s is damaged: %" PRIu64 " bytes "
				       "after its last patch; nothing was written from it: remove "
				       "the journal", j->jpath, size - pos);
	return NULL;
}

struct vf_error *vf_journal_init(int fd, const char *jpath, struct vf_journal *j)
{
	memset(j, 0, sizeof(*j));
	j->fd = fd;
	j->jpath = jpath;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return vf_error_os(errno, jpath, "stat");
	uint8_t hdr[HEAD_V2];
	size_t got = 0;
	struct vf_error *err = vf_pread_full(fd, jpath, hdr, HEAD_V2, 0, &got);
	if (err)
		return err;
	bool v2 = got >= HEAD_V2 && memcmp(hdr, VF_JOURNAL_MAGIC, 8) == 0;
	if (!v2 && (got < HEAD_V1 || memcmp(hdr, VF_JOURNAL_MAGIC_V1, 8) != 0))
		return vf_error_create(VF_ERR_CORRUPT, "journal %s is incomplete: the interrupted "
				       "run had not started patching; remove the journal", jpath);
	j->count = vf_load_uint(hdr + 8, 8, true);
	j->pos = v2 ? HEAD_V2 : HEAD_V1;
	if (v2)
		j->ins = (struct vf_insert_op){ vf_load_uint(hdr + 16, 8, true),
						vf_load_uint(hdr + 24, 8, true),
						vf_load_uint(hdr + 32, 8, true) };
	return check_entries(j, (uint64_t)st.st_size);
}

struct vf_error *vf_journal_next(struct vf_journal *j, struct vf_journal_entry *e, bool *more)
{
	*more = false;
	if (j->next == j->count)
		return NULL;
	uint8_t ph[ENTRY_HEAD];
	size_t got, got_old = 0, got_new = 0;
	struct vf_error *err = vf_pread_full(j->fd, j->jpath, ph, ENTRY_HEAD, j->pos, &got);
	if (!err && got < ENTRY_HEAD)
		return truncated(j);
	if (err)
		return err;
	uint32_t len = (uint32_t)vf_load_uint(ph + 8, 4, true);
	free(j->old);
	free(j->new_);
	j->old = malloc(len ? len : 1);
	j->new_ = malloc(len ? len : 1);
	if (!j->old || !j->new_)
		return &vf_error_nomem;
	err = vf_pread_full(j->fd, j->jpath, j->old, len, j->pos + ENTRY_HEAD, &got_old);
	if (!err)
		err = vf_pread_full(j->fd, j->jpath, j->new_, len, j->pos + ENTRY_HEAD + len,
				    &got_new);
	if (!err && (got_old < len || got_new < len))
		err = truncated(j);
	if (err)
		return err;
	*e = (struct vf_journal_entry){ vf_load_uint(ph, 8, true), len, j->old, j->new_ };
	j->pos += ENTRY_HEAD + 2 * (uint64_t)len;
	j->next++;
	*more = true;
	return NULL;
}

void vf_journal_deinit(struct vf_journal *j)
{
	free(j->old);
	free(j->new_);
	j->old = j->new_ = NULL;
}

/* ----------------------------------------------------------- replaying */

struct vf_error *vf_journal_redo_insert(int fd, const char *path, const struct vf_insert_op *ins)
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

/* The insert if it was not done, then every patch's new bytes, synced. */
static struct vf_error *replay(struct vf_journal *j, int fd, const char *path)
{
	struct vf_error *err = NULL;
	if (j->ins.len)
		err = vf_journal_redo_insert(fd, path, &j->ins);
	while (!err) {
		struct vf_journal_entry e;
		bool more;
		err = vf_journal_next(j, &e, &more);
		if (err || !more)
			break;
		err = vf_write_all(fd, e.new_, e.len, e.at, path);
	}
	if (!err && fsync(fd) < 0)
		err = vf_error_os(errno, path, "fsync");
	return err;
}

struct vf_error *vf_journal_recover(const char *path, bool *recovered)
{
	*recovered = false;
	char *jpath = vf_journal_path(path);
	if (!jpath)
		return &vf_error_nomem;
	struct vf_error *err = NULL;
	struct vf_journal j = { 0 };
	int fd = -1, jfd = open(jpath, O_RDONLY | O_CLOEXEC);
	if (jfd < 0) {
		if (errno != ENOENT)
			err = vf_error_os(errno, path, "cannot open its journal");
		goto out;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		err = vf_error_os(errno, path, "cannot open to finish an interrupted run");
	if (!err)
		err = vf_journal_init(jfd, jpath, &j);
	if (!err)
		err = replay(&j, fd, path);
	vf_journal_deinit(&j);
	if (!err) {
		*recovered = true;
		err = vf_error_prefix(vf_journal_remove(jpath), "the interrupted run on %s was "
				      "finished, but its journal may come back after a system "
				      "crash (the next --in-place would write the same bytes "
				      "again)", path);
	}
out:
	if (fd >= 0)
		close(fd);
	if (jfd >= 0)
		close(jfd);
	free(jpath);
	return err;
}
