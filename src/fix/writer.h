/* writer.h - execute a plan: write the fixed dump.  Makes no decisions.
 *
 * The output is written to a temporary file beside the target, with the
 * input's mode; the input is copied extent by extent (holes stay holes,
 * copy_file_range lets the kernel copy or share the data; an ELF input's
 * block-aligned data is cloned where the file system can), the plan's
 * patches are written over it, and the file is fsync'd and renamed into
 * place (and its directory fsync'd; with no_sync neither is synced).  On any error before the rename, or
 * SIGINT/SIGTERM/SIGHUP, the temporary file is removed: there is never a
 * partial output.  The writer holds an flock on its temporary file from its
 * creation to the rename; the temporary files of the same pattern beside
 * the same target (".NAME.vmcore-fix.XXXXXX") that a process killed with -9
 * left are not locked by anyone, and the next -o to that target removes
 * them first.  A target that is a directory fails before anything is
 * written.  A flattened input stays flattened: patches go into the
 * records that hold their bytes.
 *
 * Implemented by writer.c (-o), inplace.c (--in-place) and journal.c (the
 * journal), over copy.h (copies, writes) and flatwrite.h (flattened
 * streams). */
#ifndef VF_WRITER_H
#define VF_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "format/dump.h"
#include "util/error.h"
#include "fix/plan.h"

struct vf_write_stats {
	uint64_t bytes_copied;   /* data bytes copied (holes excluded) */
	uint64_t patches;        /* patches written */
	uint64_t stale_removed;  /* -o: stale temporary files of earlier runs removed */
};

/* The output's form: the input's, the plain (reassembled) file, or the
 * makedumpfile flattened stream. */
enum vf_out_form {
	VF_OUT_SAME,
	VF_OUT_RAW,
	VF_OUT_FLATTENED,
	VF_OUT_ELF,       /* a kdump input converted (the plan's runs); else as RAW */
};

/* Optional: progress of the copy (bytes of the input done, of total). */
struct vf_write_opts {
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
	/* Optional: check the written, synced file (at tmp_path) before it is
	 * renamed into place; an error keeps the target untouched. */
	struct vf_error *(*verify)(void *arg, const char *tmp_path);
	void *verify_arg;
	/* -o only: no fsync of the file or of its directory (--no-sync: the
	 * output is complete and in place, but a system crash may lose it) */
	bool no_sync;
};

struct vf_error *vf_write_fixed(struct vf_dump *dump, const struct vf_plan *plan,
				const char *out_path, enum vf_out_form form,
				const struct vf_write_opts *wo, struct vf_write_stats *stats) VF_MUST_CHECK;

/* The fixed dump written into a new unnamed file in dir (nothing to leave
 * behind, whatever ends the run) and checked with wo->verify, not synced:
 * *fd, at offset 0, for a caller that sends it on (-o -). */
struct vf_error *vf_write_unnamed(struct vf_dump *dump, const struct vf_plan *plan,
				  const char *dir, enum vf_out_form form,
				  const struct vf_write_opts *wo, struct vf_write_stats *stats,
				  int *fd) VF_MUST_CHECK;

/* --in-place: write the plan's patches into the input file itself, at a
 * cost independent of its size.  First an undo/redo journal beside the file
 * (".NAME.vmcore-fix-journal": every patch's offset, old and new bytes) is
 * written and fsync'd, then the patches, then the file is fsync'd and the
 * journal removed.  wo->verify (may be NULL) checks the patched file before
 * the journal goes; a failed check puts the old bytes back (and the old
 * size; after an insert, the range is collapsed again) and returns its
 * error. */
struct vf_error *vf_write_in_place(struct vf_dump *dump, const struct vf_plan *plan,
				   const struct vf_write_opts *wo,
				   struct vf_write_stats *stats) VF_MUST_CHECK;

/* Finish a run that was interrupted while patching path in place: if its
 * journal exists, write the new bytes again, fsync, remove the journal.
 * *recovered tells whether there was one. */
struct vf_error *vf_journal_recover(const char *path, bool *recovered) VF_MUST_CHECK;
bool vf_journal_exists(const char *path);

#endif
