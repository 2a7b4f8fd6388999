/* journal.h - the undo/redo journal of --in-place.
 *
 * Before a dump is patched in place, every patch (offset, old bytes, new
 * bytes) and the range to insert in front of the data, if any, are written
 * to ".NAME.vmcore-fix-journal" beside it: under another name first, synced,
 * then renamed, so a journal is always complete.  Replaying it (the next
 * run, after an interruption) writes the new bytes again: replay is
 * idempotent, and the insert is redone only when the file's size says it
 * was not done.  The public entry points, vf_journal_recover and
 * vf_journal_exists, are declared in fix/writer.h.
 *
 * Bound to its file: the journal records the identity of the file it was
 * written for (device, inode, size) and a 64-bit FNV-1a hash over the old
 * bytes of every entry, in order.  Before a byte is written from it, the
 * replay checks that the file is that one: the same device and inode, a
 * size an interrupted run can leave (from the size before to the end of the
 * last patch or insert), and every byte each entry covers holding either
 * the entry's new byte or the old byte the journal recorded (after an insert
 * was done: the old byte in front of the insert, a zero inside it; past it
 * the old byte moved and is not compared); the hash must match the old
 * bytes read back, so a damaged journal cannot vouch for a file.  Bytes two
 * entries cover (a later one wins) may hold either's.  Anything else is
 * another file, or this one changed since: refused (VF_ERR_REFUSED), nothing
 * written, the journal left.
 *
 * Layout (big-endian): magic "VMCFJRN3", be64 count, be64 insert offset,
 * length and the file's size before it (0 0 0: none), be64 device, be64
 * inode, be64 size, be64 hash; then per patch be64 offset, be32 len, len old
 * bytes, len new bytes.  Journals of older versions, "VMCFJRN2" (no
 * identity) and "VMCFJRN1" (magic and count only, no insert), are still
 * replayed, but only when the file's bytes match their old (or new) bytes as
 * above: they cannot say which file they were for. */
#ifndef VF_JOURNAL_H
#define VF_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fix/copy.h"
#include "util/error.h"

#define VF_JOURNAL_MAGIC "VMCFJRN3"
#define VF_JOURNAL_MAGIC_V2 "VMCFJRN2"
#define VF_JOURNAL_MAGIC_V1 "VMCFJRN1"

/* FNV-1a, 64 bits: the hash of the old bytes (h starts at VF_FNV_BASIS). */
#define VF_FNV_BASIS 0xcbf29ce484222325ull
uint64_t vf_fnv1a(uint64_t h, const uint8_t *p, size_t n);

/* A range inserted in front of the data (ELF in place): FALLOC_FL_INSERT_RANGE
 * of len bytes at offset at, done when the file has size_before + len bytes. */
struct vf_insert_op {
	uint64_t at, len, size_before;
};

/* The journal's path for path (malloc'd), or NULL when out of memory. */
char *vf_journal_path(const char *path);

/* Write the journal jpath for patching path with pp (the old bytes read
 * through fd, the open descriptor of path that will be patched; past its
 * end they are zeros; its identity is fd's) and ins (NULL: none).  On error
 * no journal is left. */
struct vf_error *vf_journal_write(const char *jpath, int fd, const char *path,
				  const struct vf_phys_patch *pp, size_t npp,
				  const struct vf_insert_op *ins);

/* Remove the journal and make that durable.  An error leaves the journal's
 * fate unknown after a crash: the caller says what that means. */
struct vf_error *vf_journal_remove(const char *jpath);

/* A journal being read back.  Opening checks the whole journal (magic,
 * every entry within the file, nothing after the last one) before anything
 * is written from it. */
struct vf_journal {
	int fd;                   /* not owned */
	const char *jpath;
	int version;              /* 1, 2 or 3 */
	uint64_t count;           /* patches */
	struct vf_insert_op ins;  /* ins.len == 0: no insert */
	bool has_identity;        /* version 3: dev, ino, size and hash are known */
	uint64_t dev, ino, size, hash;
	uint64_t head;            /* the first entry's offset */
	uint64_t max_end;         /* the end of the last byte an entry covers */
	uint64_t next, pos;       /* the next patch: its index and offset */
	uint8_t *old, *new_;      /* the last entry's bytes, owned */
	bool *overlapped;         /* per entry: another entry covers some of its bytes */
};

struct vf_journal_entry {
	uint64_t at;
	uint32_t len;
	const uint8_t *old, *new_;   /* valid until the next read or deinit */
};

struct vf_error *vf_journal_init(int fd, const char *jpath, struct vf_journal *j);
/* The next entry; *more is false (and e untouched) after the last one. */
struct vf_error *vf_journal_next(struct vf_journal *j, struct vf_journal_entry *e, bool *more);
void vf_journal_deinit(struct vf_journal *j);
/* Back to the first entry. */
void vf_journal_rewind(struct vf_journal *j);

/* Whether the journal is path's (fd: open on it), as the header says:
 * VF_ERR_REFUSED naming the difference when not.  Reads every entry;
 * rewinds after. */
struct vf_error *vf_journal_check_file(struct vf_journal *j, int fd, const char *path);

/* Redo the insert of an interrupted run on fd (path): nothing when the size
 * says it was done, VF_ERR_CORRUPT when the size is neither before nor
 * after it (the file was changed since). */
struct vf_error *vf_journal_redo_insert(int fd, const char *path, const struct vf_insert_op *ins);

#endif
