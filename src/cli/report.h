/* report.h - the reports, for people and (JSON) for scripts: --inspect
 * (report.c) and the fix (report_fix.c). */
#ifndef VF_REPORT_H
#define VF_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "format/dump.h"
#include "fix/evidence.h"
#include "fix/fix.h"
#include "fix/inspect.h"

/* JSON schema identifier; bump on incompatible changes (docs/JSON.md). */
#define VF_INSPECT_SCHEMA "vmcore-fix-inspect/1"

/* How a JSON report is written: given NULL, as one indented document (one
 * dump); given a line, as one line of JSON Lines with the dump's exit status
 * in "status" after "file" (many dumps, docs/JSON.md). */
struct vf_json_line {
	int status;
};

/* gc may be NULL (no region given). */
void vf_report_inspect_text(FILE *out, const struct vf_dump *dump,
			    const struct vf_problems *probs, const struct vf_guest_check *gc,
			    bool verbose);
void vf_report_inspect_json(FILE *out, const struct vf_dump *dump,
			    const struct vf_problems *probs, const struct vf_guest_check *gc,
			    const struct vf_json_line *line);
/* An error as a JSON document (for --json when the dump cannot be read). */
void vf_report_error_json(FILE *out, const char *path, const struct vf_error *err,
			  const struct vf_json_line *line);

/* What a fix did: the command's results, for the two fix reports. */
struct vf_fix_report {
	const char *input;
	const char *output;          /* NULL for --dry-run and --check */
	bool in_place, dry_run, check;
	bool reassemble;             /* a flattened input written raw */
	const struct vf_fix *fx;
	const struct vf_evidence *ev;
	uint64_t bytes_copied;
	const struct vf_json_line *line;  /* JSON: NULL for one document */
};

/* Where the guest's note came from (before anything is written). */
void vf_report_evidence_text(FILE *out, const struct vf_evidence *ev);
/* What was left alone, changed, written. */
void vf_report_fix_text(FILE *out, const struct vf_fix_report *r);
/* The one line of --check over many dumps: "FILE: nothing to fix" or
 * "FILE: fixable: N changes". */
void vf_report_fix_line(FILE *out, const struct vf_fix_report *r);
/* The fix as one JSON document (schema vmcore-fix-fix/1). */
void vf_report_fix_json(FILE *out, const struct vf_fix_report *r);

/* Write s for a terminal: bytes outside printable ASCII (control characters,
 * escape sequences, anything a guest put in a string) become \xNN, and so
 * does a backslash's own \x.  Every guest-derived string in a text report
 * goes through it. */
void vf_fput_text(FILE *out, const char *s);

const char *vf_severity_name(enum vf_severity sev);
const char *vf_note_type_name(const struct vf_note *note);

#endif
