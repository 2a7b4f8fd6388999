/* test_journal.c - the --in-place journal: written complete, read back,
 * replayed to finish an interrupted patch set (again and again with the same
 * result), torn or foreign journals refused before anything is written, and
 * the insert redone only when the file's size says it was not done. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "fix/copy.h"
#include "fix/journal.h"
#include "fix/writer.h"
#include "source/src.h"
#include "util/cursor.h"
#include "tap.h"
#include "tmpfiles.h"

static void put(const char *path, const void *b, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, b, n) != (ssize_t)n)
		abort();
	close(fd);
}

static bool same_file(const char *path, const void *want, size_t n)
{
	size_t got;
	uint8_t *b = slurp(path, &got);
	bool ok = b && got == n && memcmp(b, want, n) == 0;
	free(b);
	return ok;
}

/* The file patched: 64 bytes of 'a'..; the patches: one inside, one past
 * its end (old bytes: zeros). */
#define FSIZE 64
static uint8_t orig[FSIZE], done[FSIZE + 8];
static const struct vf_phys_patch pp[] = {
	{ 8, (const uint8_t *)"NEWBYTES", 8 },
	{ FSIZE + 4, (const uint8_t *)"END!", 4 },
};

static void setup(void)
{
	for (size_t i = 0; i < FSIZE; i++)
		orig[i] = (uint8_t)('a' + i % 26);
	memcpy(done, orig, FSIZE);
	memcpy(done + 8, "NEWBYTES", 8);
	memset(done + FSIZE, 0, 4);
	memcpy(done + FSIZE + 4, "END!", 4);
}

/* The file as it was, and its journal, as a run leaves them right after
 * writing the journal. */
static struct vf_error *journal_for(const char *path, const struct vf_insert_op *ins)
{
	put(path, orig, FSIZE);
	char *jpath = vf_journal_path(path);
	int fd = open(path, O_RDONLY);
	struct vf_error *err = vf_journal_write(jpath, fd, path, pp, 2, ins);
	close(fd);
	free(jpath);
	return err;
}

static void test_write_read(void)
{
	const char *f = at_dir("f");
	char *jpath = vf_journal_path(f);
	TAP_EQ_STR(jpath, at_dir(".f.vmcore-fix-journal"), "the journal's name, beside the file");
	struct vf_error *err = journal_for(f, NULL);
	char tpath[700];
	snprintf(tpath, sizeof(tpath), "%s.new", jpath);
	TAP_OK(!err && vf_journal_exists(f) && access(tpath, F_OK) != 0,
	       "journal written and renamed into place, nothing left under the other name");
	size_t n;
	uint8_t *raw = slurp(jpath, &n);
	TAP_OK(raw && n == 72 + 12 + 16 + 12 + 8 && memcmp(raw, VF_JOURNAL_MAGIC, 8) == 0 &&
	       vf_load_uint(raw + 8, 8, true) == 2 && vf_load_uint(raw + 24, 8, true) == 0,
	       "layout: magic, two patches, no insert, identity, exactly the entries");
	struct stat st;
	uint64_t h = vf_fnv1a(VF_FNV_BASIS, orig + 8, 8);
	h = vf_fnv1a(h, (const uint8_t *)"\0\0\0\0", 4);
	TAP_OK(raw && stat(f, &st) == 0 && vf_load_uint(raw + 40, 8, true) == (uint64_t)st.st_dev &&
	       vf_load_uint(raw + 48, 8, true) == (uint64_t)st.st_ino &&
	       vf_load_uint(raw + 56, 8, true) == FSIZE && vf_load_uint(raw + 64, 8, true) == h,
	       "identity: the file's device, inode and size, FNV-1a of the old bytes");
	free(raw);

	int jfd = open(jpath, O_RDONLY);
	struct vf_journal j;
	err = vf_journal_init(jfd, jpath, &j);
	TAP_OK(!err && j.count == 2 && j.ins.len == 0, "read back: two patches, no insert");
	struct vf_journal_entry e;
	bool more = false;
	err = vf_journal_next(&j, &e, &more);
	TAP_OK(!err && more && e.at == 8 && e.len == 8 && memcmp(e.old, orig + 8, 8) == 0 &&
	       memcmp(e.new_, "NEWBYTES", 8) == 0, "first entry: offset, old and new bytes");
	err = vf_journal_next(&j, &e, &more);
	TAP_OK(!err && more && e.at == FSIZE + 4 && e.len == 4 &&
	       memcmp(e.old, "\0\0\0\0", 4) == 0 && memcmp(e.new_, "END!", 4) == 0,
	       "second entry: past the file's end, the old bytes are zeros");
	err = vf_journal_next(&j, &e, &more);
	TAP_OK(!err && !more, "then the end");
	vf_journal_deinit(&j);
	close(jfd);
	TAP_OK(same_file(f, orig, FSIZE), "writing the journal did not touch the file");
	free(jpath);
}

static void test_replay(void)
{
	const char *f = at_dir("g");
	struct vf_error *err = journal_for(f, NULL);
	/* interrupted after the first patch */
	int fd = open(f, O_WRONLY);
	if (fd < 0 || pwrite(fd, "NEWBYTES", 8, 8) != 8)
		abort();
	close(fd);
	char *jpath = vf_journal_path(f);
	size_t jn;
	uint8_t *jcopy = slurp(jpath, &jn);
	bool rec = false;
	if (!err)
		err = vf_journal_recover(f, &rec);
	TAP_OK(!err && rec, "recover: there was a journal, the run is finished");
	TAP_OK(same_file(f, done, sizeof(done)), "the file has every patch");
	TAP_OK(!vf_journal_exists(f), "the journal is gone");
	err = vf_journal_recover(f, &rec);
	TAP_OK(!err && !rec, "recover without a journal: nothing to do");

	/* the same journal again, over the finished file: nothing changes */
	put(jpath, jcopy, jn);
	err = vf_journal_recover(f, &rec);
	TAP_OK(!err && rec && same_file(f, done, sizeof(done)) && !vf_journal_exists(f),
	       "replay is idempotent: the same journal again, the same file");
	/* a run interrupted before its first patch */
	put(f, orig, FSIZE);
	put(jpath, jcopy, jn);
	err = vf_journal_recover(f, &rec);
	TAP_OK(!err && rec && same_file(f, done, sizeof(done)),
	       "interrupted before the first patch: the same file");

	/* a journal of an older version (no insert record) is still replayed */
	uint8_t v1[16 + 12 + 16];
	memcpy(v1, VF_JOURNAL_MAGIC_V1, 8);
	vf_store_uint(v1 + 8, 8, true, 1);
	vf_store_uint(v1 + 16, 8, true, 8);
	vf_store_uint(v1 + 24, 4, true, 8);
	memcpy(v1 + 28, orig + 8, 8);
	memcpy(v1 + 36, "NEWBYTES", 8);
	put(f, orig, FSIZE);
	put(jpath, v1, sizeof(v1));
	err = vf_journal_recover(f, &rec);
	TAP_OK(!err && rec && same_file(f, done, FSIZE) && !vf_journal_exists(f),
	       "a version 1 journal is replayed");
	vf_error_destroy(err);
	free(jcopy);
	free(jpath);
}

/* A damaged journal: refused, with a message naming the problem; the file
 * untouched; the journal left for the user to look at. */
static void refused(const char *what, const uint8_t *j, size_t n, const char *says)
{
	const char *f = at_dir("h");
	char *jpath = vf_journal_path(f);
	put(f, orig, FSIZE);
	put(jpath, j, n);
	bool rec = true;
	struct vf_error *err = vf_journal_recover(f, &rec);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && strstr(err->message, says) &&
	       strstr(err->message, jpath) && strstr(err->message, "remove the journal") && !rec,
	       "%s: refused (%s)", what, err ? err->message : "no error");
	TAP_OK(same_file(f, orig, FSIZE) && vf_journal_exists(f),
	       "%s: the file untouched, the journal left", what);
	vf_error_destroy(err);
	unlink(jpath);
	free(jpath);
}

static void test_damaged(void)
{
	const char *f = at_dir("t");
	struct vf_error *err = journal_for(f, NULL);
	char *jpath = vf_journal_path(f);
	size_t n;
	uint8_t *good = slurp(jpath, &n);
	unlink(jpath);
	free(jpath);
	TAP_OK(!err && good && n > 60, "a good journal to damage");
	refused("torn in the second entry", good, n - 3, "truncated");
	refused("torn in the second entry's header", good, 72 + 28 + 6, "truncated");
	refused("torn in the header", good, 60, "incomplete");
	refused("empty", good, 0, "incomplete");
	uint8_t *more = malloc(n + 5);
	memcpy(more, good, n);
	memset(more + n, 0x77, 5);
	refused("bytes after the last entry", more, n + 5, "damaged");
	memcpy(more, good, n);
	vf_store_uint(more + 72 + 8, 4, true, 0xfffffff0u);  /* a huge length */
	refused("an entry longer than the journal", more, n, "truncated");
	memcpy(more, good, n);
	vf_store_uint(more + 8, 8, true, UINT64_MAX);        /* a huge count */
	refused("more entries than the journal holds", more, n, "truncated");
	uint8_t garbage[100];
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (uint8_t)(i * 73 + 5);
	refused("garbage", garbage, sizeof(garbage), "incomplete");
	free(more);
	free(good);
}


/* ------------------------------------------------------ the identity */

/* Recover f with its journal: refused (code, a phrase), the file as it was
 * (want, n) and the journal left. */
static void not_replayed(const char *f, int code, const char *says, const void *want, size_t n,
			 const char *what)
{
	bool rec = true;
	struct vf_error *err = vf_journal_recover(f, &rec);
	TAP_OK(err && (int)err->code == code && strstr(err->message, says) && !rec,
	       "%s: refused (%s)", what, err ? err->message : "no error");
	TAP_OK(same_file(f, want, n) && vf_journal_exists(f), "%s: the file untouched, the "
	       "journal left", what);
	vf_error_destroy(err);
	char *jpath = vf_journal_path(f);
	unlink(jpath);
	free(jpath);
}

static void test_identity(void)
{
	const char *f = at_dir("id"), *g = at_dir("id.other");
	/* another file under the name (the dump deleted, a new one copied in) */
	TAP_OK(!journal_for(f, NULL), "a journal for a file");
	put(g, orig, FSIZE);
	if (rename(g, f) < 0)
		abort();
	not_replayed(f, VF_ERR_REFUSED, "inode", orig, FSIZE, "another file, the same bytes");

	/* the same inode, other bytes */
	uint8_t other[FSIZE];
	memset(other, 'z', FSIZE);
	TAP_OK(!journal_for(f, NULL), "a journal for a file");
	put(f, other, FSIZE);
	not_replayed(f, VF_ERR_REFUSED, "holds neither", other, FSIZE, "the same inode, other bytes");

	/* the same inode, shorter */
	TAP_OK(!journal_for(f, NULL), "a journal for a file");
	put(f, orig, FSIZE / 2);
	not_replayed(f, VF_ERR_REFUSED, "bytes", orig, FSIZE / 2, "the same inode, shorter");

	/* torn inside an entry: half its new bytes written */
	TAP_OK(!journal_for(f, NULL), "a journal for a file");
	int fd = open(f, O_WRONLY);
	if (fd < 0 || pwrite(fd, "NEWB", 4, 8) != 4)
		abort();
	close(fd);
	bool rec = false;
	struct vf_error *err = vf_journal_recover(f, &rec);
	TAP_OK(!err && rec && same_file(f, done, sizeof(done)), "torn inside an entry: finished");
	vf_error_destroy(err);

	/* the journal's old bytes changed: the hash says so */
	TAP_OK(!journal_for(f, NULL), "a journal for a file");
	char *jpath = vf_journal_path(f);
	size_t jn;
	uint8_t *j = slurp(jpath, &jn);
	j[72 + 12] ^= 1;   /* the first entry's first old byte */
	put(jpath, j, jn);
	put(f, done, sizeof(done));
	not_replayed(f, VF_ERR_CORRUPT, "hash", done, sizeof(done), "an old byte of the journal changed");
	free(j);
	free(jpath);
}

/* Entries that overlap (a later one wins): the bytes both cover may hold
 * either's new bytes. */
static void test_overlap(void)
{
	const char *f = at_dir("ov");
	static const struct vf_phys_patch two[] = {
		{ 8, (const uint8_t *)"NEWBYTES", 8 },
		{ 10, (const uint8_t *)"xy", 2 },
	};
	uint8_t want[FSIZE];
	memcpy(want, orig, FSIZE);
	memcpy(want + 8, "NExyYTES", 8);
	char *jpath = vf_journal_path(f);
	put(f, orig, FSIZE);
	int fd = open(f, O_RDONLY);
	struct vf_error *err = vf_journal_write(jpath, fd, f, two, 2, NULL);
	close(fd);
	put(f, orig, FSIZE);   /* keeps its inode: O_TRUNC */
	fd = open(f, O_WRONLY);
	if (fd < 0 || pwrite(fd, "NEWBYTES", 8, 8) != 8 || pwrite(fd, "xy", 2, 10) != 2)
		abort();
	close(fd);
	bool rec = false;
	if (!err)
		err = vf_journal_recover(f, &rec);
	TAP_OK(!err && rec && same_file(f, want, FSIZE), "overlapping entries, the later one "
	       "written: replayed (%s)", err ? err->message : "ok");
	vf_error_destroy(err);
	free(jpath);
}

/* An old journal (version 2, no identity) onto a file whose bytes are
 * neither its old nor its new ones: refused; onto the right file: replayed. */
static void test_old_version(void)
{
	const char *f = at_dir("v2");
	uint8_t v2[40 + 12 + 16];
	memset(v2, 0, sizeof(v2));
	memcpy(v2, VF_JOURNAL_MAGIC_V2, 8);
	vf_store_uint(v2 + 8, 8, true, 1);
	vf_store_uint(v2 + 40, 8, true, 8);
	vf_store_uint(v2 + 48, 4, true, 8);
	memcpy(v2 + 52, orig + 8, 8);
	memcpy(v2 + 60, "NEWBYTES", 8);
	char *jpath = vf_journal_path(f);
	uint8_t other[FSIZE];
	memset(other, 'z', FSIZE);
	put(f, other, FSIZE);
	put(jpath, v2, sizeof(v2));
	not_replayed(f, VF_ERR_REFUSED, "holds neither", other, FSIZE, "version 2, other bytes");
	put(f, orig, FSIZE);
	put(jpath, v2, sizeof(v2));
	bool rec = false;
	struct vf_error *err = vf_journal_recover(f, &rec);
	TAP_OK(!err && rec && same_file(f, done, FSIZE), "version 2, the old bytes: replayed");
	vf_error_destroy(err);
	free(jpath);
}

/* ------------------------------------------------------------- the insert */

static void test_insert(void)
{
	const char *f = at_dir("ins");
	struct statfs sf;
	put(f, orig, FSIZE);
	if (statfs(dir, &sf) < 0)
		abort();
	uint64_t bs = (uint64_t)sf.f_bsize;
	/* a file of 3 blocks, the insert of 2 in front of the second */
	size_t size = 3 * bs;
	uint8_t *b = malloc(size);
	for (size_t i = 0; i < size; i++)
		b[i] = (uint8_t)(i / bs + 1);
	put(f, b, size);
	struct vf_insert_op ins = { bs, 2 * bs, size };
	int fd = open(f, O_RDWR);

	struct vf_insert_op other = { bs, 2 * bs, size - bs };
	struct vf_error *err = vf_journal_redo_insert(fd, f, &other);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && strstr(err->message, "changed since"),
	       "a size neither before nor after the insert: the file was changed, refused");
	vf_error_destroy(err);
	struct vf_insert_op was = { bs, size - 2 * bs, 2 * bs };
	err = vf_journal_redo_insert(fd, f, &was);
	TAP_OK(!err && same_file(f, b, size), "the size after the insert: done before, nothing "
	       "is inserted again");

	err = vf_journal_redo_insert(fd, f, &ins);
	bool can = !(err && err->code == VF_ERR_OS &&
		     (err->errnum == EOPNOTSUPP || err->errnum == EINVAL));
	if (!can) {
		TAP_OK(1, "# SKIP the file system cannot insert ranges");
		vf_error_destroy(err);
		close(fd);
		free(b);
		return;
	}
	size_t n;
	uint8_t *got = slurp(f, &n);
	TAP_OK(!err && n == size + 2 * bs && memcmp(got, b, bs) == 0 &&
	       memcmp(got + 3 * bs, b + bs, 2 * bs) == 0,
	       "the size before the insert: the range is inserted, the data after it moved");
	free(got);
	err = vf_journal_redo_insert(fd, f, &ins);
	got = slurp(f, &n);
	TAP_OK(!err && n == size + 2 * bs && memcmp(got + 3 * bs, b + bs, 2 * bs) == 0,
	       "redone once more: the size says it is done, the file is the same");
	free(got);
	close(fd);

	/* the whole replay with an insert: interrupted before it, and after */
	put(f, b, size);
	char *jpath = vf_journal_path(f);
	fd = open(f, O_RDONLY);
	struct vf_phys_patch hp = { 0, (const uint8_t *)"HEADER", 6 };
	err = vf_journal_write(jpath, fd, f, &hp, 1, &ins);
	close(fd);
	size_t jn;
	uint8_t *jcopy = slurp(jpath, &jn);
	bool rec = false;
	if (!err)
		err = vf_journal_recover(f, &rec);
	uint8_t *want = malloc(size + 2 * bs);
	memcpy(want, b, bs);
	memcpy(want + 3 * bs, b + bs, 2 * bs);
	memcpy(want, "HEADER", 6);
	got = slurp(f, &n);
	bool zeros = true;   /* the inserted range reads as zeros */
	for (size_t i = bs; got && n == size + 2 * bs && i < 3 * bs; i++)
		zeros &= got[i] == 0;
	memcpy(want + bs, got ? got + bs : want + bs, 2 * bs);
	TAP_OK(!err && rec && n == size + 2 * bs && zeros && memcmp(got, want, n) == 0,
	       "replay interrupted before the insert: inserted, then patched");
	free(got);
	put(jpath, jcopy, jn);
	err = vf_journal_recover(f, &rec);
	TAP_OK(!err && rec && same_file(f, want, size + 2 * bs),
	       "replay after the insert: not inserted twice, the same file");
	vf_error_destroy(err);
	free(want);
	free(jcopy);
	free(jpath);
	free(b);
}

int main(void)
{
	make_dir("test-journal");
	setup();
	test_write_read();
	test_replay();
	test_damaged();
	test_identity();
	test_overlap();
	test_old_version();
	test_insert();
	remove_dir();
	TAP_OK(access(dir, F_OK) != 0, "the test's directory is removed");
	return tap_done();
}
