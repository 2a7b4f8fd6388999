/* report.h - the --inspect report, for people and (JSON) for scripts. */
#ifndef VF_REPORT_H
#define VF_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "format/dump.h"
#include "fix/inspect.h"

/* JSON schema identifier; bump on incompatible changes (docs/JSON.md). */
#define VF_INSPECT_SCHEMA "vmcore-fix-inspect/1"

/* gc may be NULL (no region given). */
void vf_report_inspect_text(FILE *out, const struct vf_dump *dump,
			    const struct vf_problems *probs, const struct vf_guest_check *gc,
			    bool verbose);
void vf_report_inspect_json(FILE *out, const struct vf_dump *dump,
			    const struct vf_problems *probs, const struct vf_guest_check *gc);
/* An error as a JSON document (for --json when the dump cannot be read). */
void vf_report_error_json(FILE *out, const char *path, const struct vf_error *err);

/* Write s for a terminal: bytes outside printable ASCII (control characters,
 * escape sequences, anything a guest put in a string) become \xNN, and so
 * does a backslash's own \x.  Every guest-derived string in a text report
 * goes through it. */
void vf_fput_text(FILE *out, const char *s);

const char *vf_severity_name(enum vf_severity sev);
const char *vf_note_type_name(const struct vf_note *note);

#endif
