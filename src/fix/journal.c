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
#define HEAD_V3 72     /* HEAD_V2, device, inode, size, hash */
#define ENTRY_HEAD 12  /* be64 offset, be32 len */

uint64_t vf_fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

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

/* One entry: its offset and length, the bytes there now, the new ones;
 * *hash goes on over the old bytes. */
static struct vf_error *write_entry(int j, const char *jpath, uint64_t pos, int fd,
				    const char *path, const struct vf_phys_patch *p,
				    uint64_t *hash)
{
	uint8_t hdr[ENTRY_HEAD];
	uint8_t *old = calloc(1, p->len ? p->len : 1);
	if (!old)
		return &vf_error_nomem;
	size_t got;
	struct vf_error *err = vf_pread_full(fd, path, old, p->len, p->at, &got);
	*hash = vf_fnv1a(*hash, old, p->len);
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
	struct stat st;
	if (fstat(fd, &st) < 0)
		return vf_error_os(errno, path, "stat");
	uint64_t hash = VF_FNV_BASIS, pos = HEAD_V3;
	struct vf_error *err = NULL;
	for (size_t i = 0; !err && i < npp; i++) {
		err = write_entry(j, jpath, pos, fd, path, &pp[i], &hash);
		pos += ENTRY_HEAD + 2 * (uint64_t)pp[i].len;
	}
	/* the header last: it holds the hash of what the entries hold */
	uint8_t hdr[HEAD_V3];
	memcpy(hdr, VF_JOURNAL_MAGIC, 8);
	vf_store_uint(hdr + 8, 8, true, npp);
	vf_store_uint(hdr + 16, 8, true, ins ? ins->at : 0);
	vf_store_uint(hdr + 24, 8, true, ins ? ins->len : 0);
	vf_store_uint(hdr + 32, 8, true, ins ? ins->size_before : 0);
	vf_store_uint(hdr + 40, 8, true, (uint64_t)st.st_dev);
	vf_store_uint(hdr + 48, 8, true, (uint64_t)st.st_ino);
	vf_store_uint(hdr + 56, 8, true, (uint64_t)st.st_size);
	vf_store_uint(hdr + 64, 8, true, hash);
	if (!err)
		err = vf_write_all(j, hdr, HEAD_V3, 0, jpath);
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

static struct vf_error *damaged(const struct vf_journal *j, const char *what)
{
	return vf_error_create(VF_ERR_CORRUPT, "journal %s is damaged: %s; nothing was written "
			       "from it: remove the journal", j->jpath, what);
}

/* The span of one entry, for finding the ones that overlap. */
struct span {
	uint64_t at, end;
	uint64_t idx;
};

static int by_start(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* Sorted by start, an entry overlaps an earlier one when it starts before
 * the furthest end so far; both it and the entry with that end are marked.
 * Every entry that overlaps another ends up marked. */
static struct vf_error *mark_overlaps(struct vf_journal *j, struct span *sp, uint64_t n)
{
	j->overlapped = calloc(n ? n : 1, sizeof(*j->overlapped));
	if (!j->overlapped)
		return &vf_error_nomem;
	if (n)
		qsort(sp, n, sizeof(*sp), by_start);
	uint64_t far = 0, holder = 0;
	for (uint64_t i = 0; i < n; i++) {
		if (i && sp[i].at < far && sp[i].end > sp[i].at) {
			j->overlapped[sp[i].idx] = true;
			j->overlapped[holder] = true;
		}
		if (sp[i].end > far) {
			far = sp[i].end;
			holder = sp[i].idx;
		}
	}
	return NULL;
}

static bool grow(struct span **sp, size_t *cap)
{
	size_t c = *cap ? 2 * *cap : 16;
	struct span *n = c < SIZE_MAX / sizeof(**sp) ? realloc(*sp, c * sizeof(**sp)) : NULL;
	if (!n)
		return false;
	*sp = n;
	*cap = c;
	return true;
}

/* Every entry within the file and nothing after the last one: a journal is
 * renamed into place complete, so anything else is damage, found before a
 * byte of it is written.  Notes the furthest byte an entry covers and the
 * entries that overlap. */
static struct vf_error *check_entries(struct vf_journal *j, uint64_t size)
{
	uint64_t pos = j->pos, n = 0;
	struct span *sp = NULL;
	size_t cap = 0;
	struct vf_error *err = NULL;
	for (uint64_t i = 0; !err && i < j->count; i++) {
		uint8_t ph[ENTRY_HEAD];
		size_t got;
		if ((err = vf_pread_full(j->fd, j->jpath, ph, ENTRY_HEAD, pos, &got)))
			break;
		uint64_t at = vf_load_uint(ph, 8, true), len = vf_load_uint(ph + 8, 4, true);
		if (got < ENTRY_HEAD || size - pos - ENTRY_HEAD < 2 * len) {
			err = truncated(j);
		} else if (at > INT64_MAX - len) {
			err = damaged(j, "a patch past the largest file offset");
		} else if (n == cap && !grow(&sp, &cap)) {
			err = &vf_error_nomem;
		} else {
			sp[n++] = (struct span){ at, at + len, i };
			if (at + len > j->max_end)
				j->max_end = at + len;
			pos += ENTRY_HEAD + 2 * len;
		}
	}
	if (!err && pos != size)
		err = vf_error_create(VF_ERR_CORRUPT, "journal %s is damaged: %" PRIu64 " bytes "
				      "after its last patch; nothing was written from it: remove "
				      "the journal", j->jpath, size - pos);
	if (!err)
		err = mark_overlaps(j, sp, n);
	free(sp);
	return err;
}

/* The magic says the version, and so how much header there is. */
static int journal_version(const uint8_t *hdr, size_t got)
{
	if (got >= HEAD_V3 && memcmp(hdr, VF_JOURNAL_MAGIC, 8) == 0)
		return 3;
	if (got >= HEAD_V2 && memcmp(hdr, VF_JOURNAL_MAGIC_V2, 8) == 0)
		return 2;
	if (got >= HEAD_V1 && memcmp(hdr, VF_JOURNAL_MAGIC_V1, 8) == 0)
		return 1;
	return 0;
}

struct vf_error *vf_journal_init(int fd, const char *jpath, struct vf_journal *j)
{
	memset(j, 0, sizeof(*j));
	j->fd = fd;
	j->jpath = jpath;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return vf_error_os(errno, jpath, "stat");
	uint8_t hdr[HEAD_V3];
	size_t got = 0;
	struct vf_error *err = vf_pread_full(fd, jpath, hdr, HEAD_V3, 0, &got);
	if (err)
		return err;
	j->version = journal_version(hdr, got);
	if (!j->version)
		return vf_error_create(VF_ERR_CORRUPT, "journal %s is incomplete: the interrupted "
				       "run had not started patching; remove the journal", jpath);
	static const uint64_t head[] = { 0, HEAD_V1, HEAD_V2, HEAD_V3 };
	j->count = vf_load_uint(hdr + 8, 8, true);
	j->pos = j->head = head[j->version];
	if (j->version >= 2)
		j->ins = (struct vf_insert_op){ vf_load_uint(hdr + 16, 8, true),
						vf_load_uint(hdr + 24, 8, true),
						vf_load_uint(hdr + 32, 8, true) };
	if (j->version >= 3) {
		j->has_identity = true;
		j->dev = vf_load_uint(hdr + 40, 8, true);
		j->ino = vf_load_uint(hdr + 48, 8, true);
		j->size = vf_load_uint(hdr + 56, 8, true);
		j->hash = vf_load_uint(hdr + 64, 8, true);
	}
	if (j->ins.len && j->ins.size_before > UINT64_MAX - j->ins.len)
		return damaged(j, "an insert past the largest file size");
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
	free(j->overlapped);
	j->old = j->new_ = NULL;
	j->overlapped = NULL;
}

void vf_journal_rewind(struct vf_journal *j)
{
	j->next = 0;
	j->pos = j->head;
}

/* ------------------------------------------------ the file's identity */

static struct vf_error *not_this_file(const struct vf_journal *j, const char *path,
				      const char *why)
{
	struct vf_error *err = vf_error_create(VF_ERR_REFUSED, "journal %s does not belong to "
					       "%s as it is now (%s); nothing was written from it",
					       j->jpath, path, why);
	return vf_error_set_hint(err, "if the file the interrupted --in-place run patched is "
				 "gone, remove the journal; if this is a copy of it, finish the "
				 "run on the original");
}

/* The device, inode and size the journal was written for. */
static struct vf_error *check_identity(const struct vf_journal *j, const struct stat *st,
				       const char *path)
{
	char why[200];
	if (j->has_identity && (j->dev != (uint64_t)st->st_dev || j->ino != (uint64_t)st->st_ino)) {
		snprintf(why, sizeof(why), "it was written for device 0x%" PRIx64 " inode %" PRIu64
			 ", the file is device 0x%" PRIx64 " inode %" PRIu64, j->dev, j->ino,
			 (uint64_t)st->st_dev, (uint64_t)st->st_ino);
		return not_this_file(j, path, why);
	}
	/* the size before; more only up to the insert and the patches (older
	 * journals without an insert do not say the size before) */
	if (!j->has_identity && !j->ins.len)
		return NULL;
	uint64_t lo = j->has_identity ? j->size : j->ins.size_before;
	uint64_t grown = lo > UINT64_MAX - j->ins.len ? UINT64_MAX : lo + j->ins.len;
	uint64_t hi = grown > j->max_end ? grown : j->max_end;
	uint64_t size = (uint64_t)st->st_size;
	if (size < lo || size > hi || (j->ins.len && size > lo && size < grown)) {
		snprintf(why, sizeof(why), "it has %" PRIu64 " bytes; the interrupted run left "
			 "between %" PRIu64 " and %" PRIu64, size, lo, hi);
		return not_this_file(j, path, why);
	}
	return NULL;
}

/* The old byte the file holds at p now, if the run had not changed it:
 * false when it cannot be told (moved by an insert). */
static bool old_byte_now(const struct vf_journal *j, bool inserted, uint64_t p, uint8_t old,
			 uint8_t *b)
{
	if (!inserted || p < j->ins.at)
		*b = old;
	else if (p - j->ins.at < j->ins.len)
		*b = 0;
	else
		return false;
	return true;
}

/* Every byte of e in the file (cur) is its new byte or its old one. */
static struct vf_error *check_bytes(const struct vf_journal *j, const struct vf_journal_entry *e,
				    const uint8_t *cur, bool inserted, const char *path)
{
	if (j->overlapped[j->next - 1])
		return NULL;  /* another entry's bytes may be there */
	for (uint32_t k = 0; k < e->len; k++) {
		uint8_t old;
		if (cur[k] == e->new_[k] || !old_byte_now(j, inserted, e->at + k, e->old[k], &old) ||
		    cur[k] == old)
			continue;
		char why[160];
		snprintf(why, sizeof(why), "at 0x%" PRIx64 " it holds neither the byte the run "
			 "found there nor the one it wrote", e->at + k);
		return not_this_file(j, path, why);
	}
	return NULL;
}

struct vf_error *vf_journal_check_file(struct vf_journal *j, int fd, const char *path)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return vf_error_os(errno, path, "stat");
	struct vf_error *err = check_identity(j, &st, path);
	bool inserted = j->ins.len && (uint64_t)st.st_size >= j->ins.size_before + j->ins.len;
	uint64_t hash = VF_FNV_BASIS;
	uint8_t *cur = NULL;
	vf_journal_rewind(j);
	while (!err) {
		struct vf_journal_entry e;
		bool more;
		size_t got;
		if ((err = vf_journal_next(j, &e, &more)) || !more)
			break;
		hash = vf_fnv1a(hash, e.old, e.len);
		free(cur);
		/* past the end of the file the bytes count as zeros */
		if (!(cur = calloc(1, e.len ? e.len : 1)))
			err = &vf_error_nomem;
		if (!err)
			err = vf_pread_full(fd, path, cur, e.len, e.at, &got);
		if (!err)
			err = check_bytes(j, &e, cur, inserted, path);
	}
	free(cur);
	vf_journal_rewind(j);
	if (!err && j->has_identity && hash != j->hash)
		err = damaged(j, "its old bytes do not match its hash");
	return err;
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
	/* one descriptor: the file checked is the file patched */
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		err = vf_error_os(errno, path, "cannot open to finish an interrupted run");
	if (!err)
		err = vf_journal_init(jfd, jpath, &j);
	if (!err)
		err = vf_journal_check_file(&j, fd, path);
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
