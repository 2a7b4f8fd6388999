/* report_fix.c - what a fix (or --check, --dry-run) did, for people and
 * (JSON, docs/JSON.md) for scripts. */
#include "config.h"
#include "cli/report.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

/* Text with guest-derived parts: every %s argument goes through
 * vf_fput_text (non-printable bytes as \xNN), so a guest's escape sequence
 * or newline cannot reach the terminal or break a line; the rest of the
 * format is printed as it is.  Only %s and %% are understood. */
static void put(FILE *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	for (const char *c = fmt; *c; c++) {
		if (c[0] == '%' && c[1] == 's') {
			const char *s = va_arg(ap, const char *);
			vf_fput_text(out, s ? s : "(null)");
			c++;
		} else if (c[0] == '%' && c[1] == '%') {
			fputc('%', out);
			c++;
		} else {
			fputc(*c, out);
		}
	}
	va_end(ap);
}

void vf_report_evidence_text(FILE *out, const struct vf_evidence *ev)
{
	if (ev->have) {
		fprintf(out, "note: %" PRIu32 " bytes of VMCOREINFO at 0x%" PRIx64 ", ",
			ev->gn.text_len, ev->gn.region.paddr);
		put(out, "found by %s, read from %s\n", ev->region_source, ev->memory_source);
		if (ev->same_boot)
			put(out, "this boot's: %s\n", ev->same_boot);
	}
	if (ev->notes) {
		/* one line per piece of evidence set aside: the newlines are ours */
		for (const char *l = ev->notes; *l;) {
			const char *nl = strchr(l, '\n');
			size_t n = nl ? (size_t)(nl - l) : strlen(l);
			char *line = strndup(l, n);
			put(out, "%s\n", line ? line : "(out of memory)");
			free(line);
			l += n + (nl != NULL);
		}
	}
}

void vf_report_fix_line(FILE *out, const struct vf_fix_report *r)
{
	size_t changes = r->fx->plan.n + r->reassemble;
	if (changes == 0) {
		put(out, "%s: nothing to fix\n", r->input);
	} else {
		put(out, "%s: ", r->input);
		fprintf(out, "fixable: %zu change%s\n", changes, changes == 1 ? "" : "s");
	}
}

void vf_report_fix_text(FILE *out, const struct vf_fix_report *r)
{
	const struct vf_fix *fx = r->fx;
	bool reassemble = r->reassemble;
	for (size_t i = 0; i < fx->nleft; i++)
		put(out, "left alone: %s: %s\n", fx->left[i].field, fx->left[i].why);
	if (fx->phys_base_how) {
		fprintf(out, "phys_base %" PRId64 " (0x%" PRIx64 ") ", (int64_t)fx->in.phys_base,
			fx->in.phys_base);
		put(out, "from the page tables: %s\n", fx->phys_base_how);
	}
	if (fx->plan.n + reassemble == 0 || r->check)
		vf_report_fix_line(out, r);
	if (reassemble)
		fprintf(out, "%s the flattened stream into a raw dump: makedumpfile and drgn cannot "
		            "read flattened files\n", r->dry_run ? "would reassemble" : "reassembled");
	for (size_t i = 0; i < fx->plan.n; i++) {
		const struct vf_patch *p = &fx->plan.patches[i];
		put(out, "%s %s ", r->dry_run ? "would patch" : "patched", p->field);
		fprintf(out, "at 0x%" PRIx64 ": ", p->offset);
		put(out, "%s\n", p->why);
	}
	if (!r->dry_run && strcmp(r->output, "-") == 0)
		put(out, "wrote a flattened stream to standard output\n");
	else if (!r->dry_run && (!r->in_place || fx->plan.n))
		put(out, "wrote %s\n", r->output);
}

void vf_report_fix_json(FILE *out, const struct vf_fix_report *r)
{
	const struct vf_fix *fx = r->fx;
	const struct vf_evidence *ev = r->ev;
	struct vf_json j;
	vf_json_init(&j, out, r->line == NULL);
	vf_json_begin_object(&j);
	vf_json_kv_string(&j, "schema", "vmcore-fix-fix/1");
	vf_json_kv_string(&j, "file", r->input);
	if (r->line)
		vf_json_kv_int(&j, "status", r->line->status);
	vf_json_kv_string(&j, "output", r->output);
	vf_json_kv_bool(&j, "in_place", r->in_place);
	vf_json_kv_bool(&j, "dry_run", r->dry_run);
	vf_json_kv_bool(&j, "check", r->check);
	vf_json_kv_bool(&j, "reassemble", r->reassemble);
	vf_json_key(&j, "changes");
	vf_json_begin_array(&j);
	for (size_t i = 0; i < fx->plan.n; i++) {
		const struct vf_patch *p = &fx->plan.patches[i];
		vf_json_begin_object(&j);
		vf_json_kv_string(&j, "field", p->field);
		vf_json_kv_hex(&j, "offset", p->offset);
		vf_json_kv_uint(&j, "length", p->len);
		vf_json_key(&j, "value");
		if (p->is_number)
			vf_json_hex(&j, p->value);
		else
			vf_json_null(&j);
		vf_json_kv_string(&j, "why", p->why);
		vf_json_end_object(&j);
	}
	vf_json_end_array(&j);
	vf_json_key(&j, "left_alone");
	vf_json_begin_array(&j);
	for (size_t i = 0; i < fx->nleft; i++) {
		vf_json_begin_object(&j);
		vf_json_kv_string(&j, "field", fx->left[i].field);
		vf_json_kv_string(&j, "why", fx->left[i].why);
		vf_json_end_object(&j);
	}
	vf_json_end_array(&j);
	vf_json_key(&j, "guest_note");
	if (ev->have) {
		vf_json_begin_object(&j);
		vf_json_kv_hex(&j, "paddr", ev->gn.region.paddr);
		vf_json_kv_uint(&j, "size", ev->gn.region.size);
		vf_json_kv_uint(&j, "text_bytes", ev->gn.text_len);
		vf_json_kv_string(&j, "region_from", ev->region_source);
		vf_json_kv_string(&j, "memory_from", ev->memory_source);
		vf_json_kv_string(&j, "set_aside", ev->notes);
		vf_json_kv_string(&j, "same_boot", ev->same_boot);
		vf_json_kv_uint(&j, "pages_scanned", ev->scan_pages);
		vf_json_end_object(&j);
	} else {
		vf_json_null(&j);
	}
	vf_json_key(&j, "phys_base");
	if (fx->in.have_phys_base) {
		char how[64];
		snprintf(how, sizeof(how), "%s in the note", fx->phys_base_key);
		vf_json_begin_object(&j);
		vf_json_key(&j, "value");
		vf_json_int(&j, (int64_t)fx->in.phys_base);
		vf_json_kv_hex(&j, "hex", fx->in.phys_base);
		vf_json_kv_string(&j, "source", fx->phys_base_how ? "page tables" : "VMCOREINFO");
		vf_json_kv_string(&j, "how", fx->phys_base_how ? fx->phys_base_how : how);
		vf_json_end_object(&j);
	} else {
		vf_json_null(&j);
	}
	vf_json_kv_uint(&j, "bytes_copied", r->bytes_copied);
	vf_json_end_object(&j);
	vf_json_finish(&j);
}
