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
 * Layout (big-endian): magic "VMCFJRN2", be64 count, be64 insert offset,
 * length and the file's size before it (0 0 0: none), then per patch be64
 * offset, be32 len, len old bytes, len new bytes.  "VMCFJRN1" journals (of
 * older versions: magic and count only, no insert) are still replayed. */
#ifndef VF_JOURNAL_H
#define VF_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fix/copy.h"
#include "util/error.h"

#define VF_JOURNAL_MAGIC "VMCFJRN2"
#define VF_JOURNAL_MAGIC_V1 "VMCFJRN1"

/* A range inserted in front of the data (ELF in place): FALLOC_FL_INSERT_RANGE
 * of len bytes at offset at, done when the file has size_before + len bytes. */
struct vf_insert_op {
	uint64_t at, len, size_before;
};

/* The journal's path for path (malloc'd), or NULL when out of memory. */
char *vf_journal_path(const char *path);

/* Write the journal jpath for patching path with pp (the old bytes read
 * through fd, an open descriptor of path; past its end they are zeros) and
 * ins (NULL: none).  On error no journal is left. */
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
	uint64_t count;           /* patches */
	struct vf_insert_op ins;  /* ins.len == 0: no insert */
	uint64_t next, pos;       /* the next patch: its index and offset */
	uint8_t *old, *new_;      /* the last entry's bytes, owned */
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

/* Redo the insert of an interrupted run on fd (path): nothing when the size
 * says it was done, VF_ERR_CORRUPT when the size is neither before nor
 * after it (the file was changed since). */
struct vf_error *vf_journal_redo_insert(int fd, const char *path, const struct vf_insert_op *ins);

#endif
