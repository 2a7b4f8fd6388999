/* main.c - the command: the only place that prints errors and picks exit codes. */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/cursor.h"
#include "format/elfcore.h"
#include "format/kdump.h"
#include "format/open.h"
#include "fix/evidence.h"
#include "util/json.h"
#include "guest/kernel.h"
#include "format/machine.h"
#include "cli/exitcodes.h"
#include "fix/inspect.h"
#include "cli/options.h"
#include "guest/pgtable.h"
#include "fix/plan.h"
#include "cli/report.h"
#include "fix/writer.h"

static int exit_code_for(const struct vf_error *err)
{
	switch (err->code) {
	case VF_ERR_CORRUPT:
	case VF_ERR_NOT_FORMAT:
	case VF_ERR_NOT_PRESENT:
	case VF_ERR_EXCLUDED:
	case VF_ERR_NOT_FOUND:
		return VF_EXIT_CORRUPT;
	case VF_ERR_REFUSED:
		return VF_EXIT_UNFIXABLE;
	case VF_ERR_UNSUPPORTED:
		return VF_EXIT_UNSUPPORTED;
	case VF_ERR_INVALID:
		return VF_EXIT_USAGE;
	case VF_ERR_NOMEM:
	case VF_ERR_OS:
		return VF_EXIT_IO;
	}
	return VF_EXIT_IO;
}

static const char *default_hint(const struct vf_error *err)
{
	switch (err->code) {
	case VF_ERR_CORRUPT:
		return "the dump is damaged or was not written completely; take it again if you can";
	case VF_ERR_NOMEM:
		return "free memory and run again";
	default:
		return NULL;
	}
}

/* One line on stderr: what is wrong, where, and what to do. */
static int report_error(const struct vf_options *o, struct vf_error *err)
{
	char *s = vf_error_string(err);
	const char *hint = err->hint ? err->hint : default_hint(err);
	fprintf(stderr, "%s: ", PACKAGE_NAME);
	vf_fput_text(stderr, s ? s : err->message);
	if (hint) {
		fputs("; ", stderr);
		vf_fput_text(stderr, hint);
	}
	fputc('\n', stderr);
	free(s);
	if (o->json)
		vf_report_error_json(stdout, o->input, err);
	int code = exit_code_for(err);
	vf_error_destroy(err);
	return code;
}

static struct vf_evidence_opts evidence_opts(const struct vf_options *o)
{
	return (struct vf_evidence_opts){
		.region = o->region, .region_file = o->region_file, .fw_cfg = o->fw_cfg,
		.saved_state = o->saved_state, .memory = o->memory,
		.memory_layout = o->memory_layout, .scan = !o->no_scan,
	};
}

/* The region from the evidence files: explicit, else the saved state. */
static struct vf_error *region_from_options(const struct vf_options *o, struct vf_region *r,
					    bool *have)
{
	struct vf_evidence_opts eo = evidence_opts(o);
	char *source = NULL;
	struct vf_error *err = vf_evidence_region(&eo, r, have, &source);
	free(source);
	if (!err && !*have && o->saved_state) {
		err = vf_evidence_saved_region(o->saved_state, r);
		*have = !err;
	}
	return err;
}

/* Progress of a long step on standard error. */
struct progress {
	const char *what;
	int last;
	bool shown;
	bool always;          /* --progress always: from the start */
	double start, drawn;  /* monotonic seconds */
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Redrawn at most ten times a second; in auto mode only once the step has
 * taken a second. */
static void show_progress(void *arg, uint64_t done, uint64_t total)
{
	struct progress *p = arg;
	int pct = total ? (int)(done * 100 / total) : 100;
	double t = now();
	if (!p->start)
		p->start = t;
	if (pct == p->last || (!p->always && t - p->start < 1.0) ||
	    (pct < 100 && t - p->drawn < 0.1))
		return;
	if (pct >= 100 && !p->shown && !p->always)
		return;
	p->last = pct;
	p->drawn = t;
	p->shown = true;
	fprintf(stderr, "\r%s: %3d%%", p->what, pct);
	if (pct >= 100)
		fputc('\n', stderr);
	fflush(stderr);
}

static bool progress_on(const struct vf_options *o)
{
	return o->progress > 0 || (o->progress == 0 && !o->json && isatty(STDERR_FILENO));
}

static struct vf_error *inspect_plan(const struct vf_options *o, struct vf_dump *dump,
				      struct vf_problems *probs);

static int do_inspect(const struct vf_options *o)
{
	struct vf_region region;
	bool have_region;
	struct vf_error *rerr = region_from_options(o, &region, &have_region);
	if (rerr)
		return report_error(o, rerr);
	struct vf_dump *dump;
	struct vf_error *err = vf_dump_open(o->input, &dump);
	if (err)
		return report_error(o, err);
	struct vf_problems probs;
	struct vf_guest_check gc = { 0 };
	err = vf_inspect(dump, &probs);
	if (!err && have_region)
		err = vf_inspect_guest(dump, &region, &gc, &probs);
	if (!err)
		err = inspect_plan(o, dump, &probs);
	if (err && probs.items)
		vf_problems_deinit(&probs);
	if (err) {
		vf_guest_check_deinit(&gc);
		vf_dump_destroy(dump);
		return report_error(o, err);
	}
	if (o->json)
		vf_report_inspect_json(stdout, dump, &probs, &gc);
	else
		vf_report_inspect_text(stdout, dump, &probs, &gc, o->verbose);
	vf_guest_check_deinit(&gc);
	size_t serious = 0;
	for (size_t i = 0; i < probs.n; i++)
		if (probs.items[i].severity != VF_SEV_INFO)
			serious++;
	vf_problems_deinit(&probs);
	vf_dump_destroy(dump);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror(PACKAGE_NAME ": writing the report");
		return VF_EXIT_IO;
	}
	return serious ? VF_EXIT_PROBLEMS : VF_EXIT_OK;
}

/* What the fix did not change although it might have, and why. */
struct left_alone {
	const char *field;
	char *why;
	bool blocks;   /* a consumer fails without it: the verdict cannot be "healthy" */
};
#define LEFT_MAX 4

/* What the fix learns from the guest kernel's memory before planning. */
struct fix_ctx {
	char uts[VF_UTS_FIELDS][VF_UTS_LEN];
	struct left_alone left[LEFT_MAX];
	size_t nleft;
	struct vf_guest_note derived;  /* the note text plus a derived NUMBER(phys_base) */
	uint64_t phys_base;
	bool have_phys_base;
	char *phys_base_how;
	const char *ktext_how;
	struct vf_evidence ev;         /* where the guest's note came from */
};


static void print_plan_json(const struct vf_options *o, const struct vf_plan *plan,
			    const struct vf_write_stats *st, const struct fix_ctx *c,
			    bool reassemble)
{
	struct vf_json j;
	vf_json_init(&j, stdout, true);
	vf_json_begin_object(&j);
	vf_json_kv_string(&j, "schema", "vmcore-fix-fix/1");
	vf_json_kv_string(&j, "file", o->input);
	vf_json_kv_string(&j, "output", o->dry_run ? NULL : o->in_place ? o->input : o->output);
	vf_json_kv_bool(&j, "in_place", o->in_place);
	vf_json_kv_bool(&j, "dry_run", o->dry_run);
	vf_json_kv_bool(&j, "check", o->check);
	vf_json_kv_bool(&j, "reassemble", reassemble);
	vf_json_key(&j, "changes");
	vf_json_begin_array(&j);
	for (size_t i = 0; i < plan->n; i++) {
		const struct vf_patch *p = &plan->patches[i];
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
	for (size_t i = 0; i < c->nleft; i++) {
		vf_json_begin_object(&j);
		vf_json_kv_string(&j, "field", c->left[i].field);
		vf_json_kv_string(&j, "why", c->left[i].why);
		vf_json_end_object(&j);
	}
	vf_json_end_array(&j);
	vf_json_key(&j, "guest_note");
	if (c->ev.have) {
		vf_json_begin_object(&j);
		vf_json_kv_hex(&j, "paddr", c->ev.gn.region.paddr);
		vf_json_kv_uint(&j, "size", c->ev.gn.region.size);
		vf_json_kv_uint(&j, "text_bytes", c->ev.gn.text_len);
		vf_json_kv_string(&j, "region_from", c->ev.region_source);
		vf_json_kv_string(&j, "memory_from", c->ev.memory_source);
		vf_json_kv_string(&j, "set_aside", c->ev.notes);
		vf_json_kv_string(&j, "same_boot", c->ev.same_boot);
		vf_json_kv_uint(&j, "pages_scanned", c->ev.scan_pages);
		vf_json_end_object(&j);
	} else {
		vf_json_null(&j);
	}
	vf_json_key(&j, "phys_base");
	if (c->have_phys_base) {
		vf_json_begin_object(&j);
		vf_json_key(&j, "value");
		vf_json_int(&j, (int64_t)c->phys_base);
		vf_json_kv_hex(&j, "hex", c->phys_base);
		vf_json_kv_string(&j, "source", c->phys_base_how ? "page tables" : "VMCOREINFO");
		vf_json_kv_string(&j, "how", c->phys_base_how ? c->phys_base_how
				  : "NUMBER(phys_base) in the note");
		vf_json_end_object(&j);
	} else {
		vf_json_null(&j);
	}
	vf_json_kv_uint(&j, "bytes_copied", st ? st->bytes_copied : 0);
	vf_json_end_object(&j);
	vf_json_finish(&j);
}

/* Record why a field is left alone; a real failure (out of memory, I/O) is
 * returned instead. */
static struct vf_error *leave_alone(struct left_alone *left, size_t *n, const char *field,
				    bool blocks, struct vf_error *err)
{
	if (err == &vf_error_nomem || err->code == VF_ERR_OS)
		return err;
	if (*n < LEFT_MAX) {
		left[*n].field = field;
		left[*n].blocks = blocks;
		left[*n].why = vf_error_string(err);
		(*n)++;
	}
	vf_error_destroy(err);
	return NULL;
}

static void free_left(struct left_alone *left, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(left[i].why);
}

static void fix_ctx_deinit(struct fix_ctx *c)
{
	free_left(c->left, c->nleft);
	vf_guest_note_deinit(&c->derived);
	free(c->phys_base_how);
	vf_evidence_deinit(&c->ev);
}

/* x86_64 notes without NUMBER(phys_base) (older kernels): derive it from the
 * guest's page tables and write it into the output's note. */
static struct vf_error *derive_phys_base(struct vf_dump *dump, const uint8_t *text,
					 size_t len, const struct vf_vmcoreinfo *vmci,
					 struct fix_ctx *c)
{
	uint64_t pb;
	char *how = NULL;
	struct vf_error *err = vf_x86_phys_base_from_pgtables(dump, vmci, &pb, &how);
	if (err)
		return err;
	while (len && text[len - 1] == 0)
		len--;
	char line[64];
	int n = snprintf(line, sizeof(line), "%sNUMBER(phys_base)=%" PRId64 "\n",
			 len && text[len - 1] != '\n' ? "\n" : "", (int64_t)pb);
	uint8_t *t = malloc(len + (size_t)n);
	if (!t) {
		free(how);
		return &vf_error_nomem;
	}
	memcpy(t, text, len);
	memcpy(t + len, line, (size_t)n);
	err = vf_vmcoreinfo_parse((const char *)t, len + (size_t)n, &c->derived.vmci);
	if (err) {
		free(t);
		free(how);
		return err;
	}
	c->derived.bytes = t;
	c->derived.text = t;
	c->derived.text_len = (uint32_t)(len + (size_t)n);
	c->phys_base = pb;
	c->have_phys_base = true;
	c->phys_base_how = how;
	return NULL;
}

/* What a consumer needs that could not be had blocks the fix: a dump that is
 * still missing it must not be written and called fixed. */
static struct vf_error *blocked(const struct fix_ctx *c)
{
	for (size_t i = 0; i < c->nleft; i++) {
		if (!c->left[i].blocks)
			continue;
		return vf_error_set_hint(vf_error_create(VF_ERR_REFUSED, "the fixed dump would "
			"still lack its %s, which consumers need: %s", c->left[i].field,
			c->left[i].why), "vmcore-fix --inspect and --dry-run show the rest; give "
			"guest memory that holds it (--memory) or the note (--region-file)");
	}
	return NULL;
}

/* Facts for the planner, read from guest memory: the note's phys_base (or one
 * derived from page tables), the kdump utsname and memory-map end, the ELF
 * kernel-image mapping.  What cannot be read is left alone, and said so. */
static struct vf_error *gather(const struct vf_options *o, struct vf_dump *dump,
			       const struct vf_guest_note *gn, struct fix_ctx *c,
			       struct vf_fix_inputs *in)
{
	in->gn = gn;
	in->replace_note = o->replace_note;
	bool use_guest = gn && (o->replace_note || !dump->vmci);
	const struct vf_vmcoreinfo *vmci = use_guest ? gn->vmci : dump->vmci;
	struct vf_error *err = NULL;
	if (!vmci)
		return NULL;
	uint64_t pb;
	err = vf_vmcoreinfo_number(vmci, "NUMBER(phys_base)", &pb);
	if (!err) {
		c->phys_base = pb;
		c->have_phys_base = true;
	} else if (err->code == VF_ERR_NOT_FOUND && dump->e_machine == EM_X86_64) {
		vf_error_destroy(err);
		const uint8_t *text = use_guest ? gn->text : dump->vmci_origin == VF_VMCI_NOTE ?
				      dump->vmci_note->desc : dump->vmci_pointer_text;
		size_t len = use_guest ? gn->text_len : dump->vmci_size;
		err = derive_phys_base(dump, text, len, vmci, c);
		if (!err) {
			c->derived.region = gn ? gn->region : (struct vf_region){ 0 };
			in->gn = &c->derived;
			in->replace_note = true;
			in->note_origin = use_guest ? "the guest's (NUMBER(phys_base) added from the page tables)"
						    : "the dump's (NUMBER(phys_base) added from the page tables)";
			vmci = c->derived.vmci;
		} else {
			err = leave_alone(c->left, &c->nleft, "NUMBER(phys_base)", true, err);
		}
	} else {
		vf_error_destroy(err);
		err = NULL;
	}
	if (err)
		return err;
	if (dump->format == VF_FORMAT_ELF) {
		/* the note must fit the kernel in this memory: its init_uts_ns, where
		 * its KERNELOFFSET and phys_base put it, holds its release */
		err = vf_kernel_utsname(dump, vmci, c->uts);
		if (err)
			err = leave_alone(c->left, &c->nleft, "note's init_uts_ns",
					  err->code == VF_ERR_CORRUPT, err);
	}
	if (err)
		return err;
	if (dump->format == VF_FORMAT_KDUMP) {
		/* makedumpfile fills the kdump header's utsname from init_uts_ns; drgn needs it */
		err = vf_kernel_utsname(dump, vmci, c->uts);
		if (!err)
			in->uts = (const char (*)[VF_UTS_LEN])c->uts;
		else
			err = leave_alone(c->left, &c->nleft, "kdump header utsname",
					  !vf_kdump_utsname_filled(dump->kdump) || err->code == VF_ERR_CORRUPT,
					  err);
		uint64_t end = 0;
		if (!err && !o->keep_device_pages) {
			err = vf_kernel_mem_map_end(dump, vmci, dump->kdump->max_pfn, &end);
			if (!err)
				in->mem_map_end = end;
			else
				/* without SPARSEMEM keys makedumpfile sizes the bitmaps
				 * from max_mapnr: nothing to match */
				err = leave_alone(c->left, &c->nleft, "kdump bitmaps",
						  err->code != VF_ERR_NOT_FOUND, err);
		}
	} else if (dump->elf_class == 64) {
		err = vf_kernel_text(dump, vmci, &in->ktext_vaddr, &in->ktext_paddr,
				     &in->ktext_size, &c->ktext_how);
		if (!err)
			in->ktext_how = c->ktext_how;
		else
			err = leave_alone(c->left, &c->nleft, "kernel image PT_LOAD", true, err);
	}
	return err;
}

/* The written file, before it is renamed into place: it must reopen through
 * the normal reader with the same layout and machine, carry exactly the
 * note the plan wrote, and read the same guest memory at the pages that
 * matter (the note's, init_uts_ns's, the first page of each range). */
struct verify_ctx {
	const struct vf_dump *in;
	const struct vf_plan *plan;
	const char *target;      /* the output's name, for the error */
	const uint8_t *text;     /* the VMCOREINFO text written */
	size_t text_len;
	uint64_t paddrs[8];
	size_t npaddrs;
	uint8_t sample[8][512];  /* the input's bytes there, read before writing */
	bool have[8];
};

static struct vf_error *mismatch(const char *what)
{
	return vf_error_set_hint(vf_error_create(VF_ERR_OS, "the written dump does not "
				 "read back as planned (%s); it was not put in place", what),
				 "this is a bug in vmcore-fix: report it with vmcore-fix --inspect "
				 "--json of the input");
}

static struct vf_error *verify_output(void *arg, const char *tmp)
{
	const struct verify_ctx *v = arg;
	const struct vf_dump *in = v->in;
	struct vf_dump *out;
	struct vf_error *err = vf_dump_open(tmp, &out);
	if (err)
		return vf_error_prefix(err, "the written dump does not reopen");
	if (out->format != in->format || out->elf_class != in->elf_class ||
	    out->big_endian != in->big_endian)
		err = mismatch("another format, word size or byte order");
	else if (out->e_machine != in->e_machine)
		err = mismatch("another machine");
	else if (in->format == VF_FORMAT_KDUMP &&
		 (out->kdump->layout != in->kdump->layout ||
		  out->kdump->block_size != in->kdump->block_size))
		err = mismatch("another kdump header layout or block size");
	else if (!out->vmci)
		err = mismatch("no readable VMCOREINFO note");
	else if (v->text && (out->vmci_size != v->text_len ||
			     memcmp(out->vmci_origin == VF_VMCI_NOTE ? out->vmci_note->desc
					: out->vmci_pointer_text, v->text, v->text_len) != 0))
		err = mismatch("another VMCOREINFO text");
	/* every patch reads back as planned (through the reader: the reassembled
	 * file when flattened) */
	for (size_t i = 0; !err && v->plan && i < v->plan->n; i++) {
		const struct vf_patch *p = &v->plan->patches[i];
		uint8_t *got = malloc(p->len ? p->len : 1);
		if (!got) {
			err = &vf_error_nomem;
			break;
		}
		err = vf_src_read(out->src, got, p->len, p->offset, "the written dump");
		if (!err && memcmp(got, p->bytes, p->len) != 0)
			err = mismatch(p->field);
		free(got);
	}
	uint8_t b[512];
	for (size_t i = 0; !err && i < v->npaddrs; i++) {
		if (!v->have[i])  /* not in the input: nothing to compare */
			continue;
		struct vf_error *eb = vf_mem_read(&out->mem, v->paddrs[i], b, sizeof(b));
		if (eb || memcmp(v->sample[i], b, sizeof(b)) != 0)
			err = mismatch("guest memory reads differently");
		vf_error_destroy(eb);
	}
	vf_dump_destroy(out);
	return err ? vf_error_set_path(err, v->target) : NULL;
}

static void verify_init(struct verify_ctx *v, const struct vf_dump *dump,
			const struct vf_fix_inputs *in, const struct vf_plan *plan,
			const char *target)
{
	memset(v, 0, sizeof(*v));
	v->in = dump;
	v->plan = plan;
	v->target = target;
	if (in->gn && (in->replace_note || !dump->vmci)) {
		v->text = in->gn->text;
		v->text_len = in->gn->text_len;
		v->paddrs[v->npaddrs++] = in->gn->region.paddr;
	} else if (dump->vmci) {
		v->text = dump->vmci_origin == VF_VMCI_NOTE ? dump->vmci_note->desc
							    : dump->vmci_pointer_text;
		v->text_len = dump->vmci_size;
	}
	const struct vf_vmcoreinfo *vmci = in->gn && (in->replace_note || !dump->vmci)
					   ? in->gn->vmci : dump->vmci;
	uint64_t sym, pa;
	struct vf_error *e = vmci ? vf_vmcoreinfo_number(vmci, "SYMBOL(init_uts_ns)", &sym)
				  : vf_error_create(VF_ERR_NOT_FOUND, "no note");
	if (!e && !(e = vf_kernel_vtop(dump, vmci, sym, &pa)))
		v->paddrs[v->npaddrs++] = pa;
	vf_error_destroy(e);
	for (size_t i = 0; i < dump->mem.nranges && v->npaddrs < 8; i++)
		v->paddrs[v->npaddrs++] = dump->mem.ranges[i].start;
	for (size_t i = 0; i < v->npaddrs; i++) {
		e = vf_mem_read((struct vf_mem *)&dump->mem, v->paddrs[i], v->sample[i],
				sizeof(v->sample[i]));
		v->have[i] = !e;
		vf_error_destroy(e);
	}
}

/* What the fix would still do to the dump as it is, with its own note, and
 * what a consumer needs that cannot be had: problems too, so that --inspect
 * and --check agree.  Without a note or a machine other problems say so. */
static struct vf_error *inspect_plan(const struct vf_options *o, struct vf_dump *dump,
				     struct vf_problems *probs)
{
	if (!dump->vmci || dump->e_machine == EM_NONE)
		return NULL;
	struct fix_ctx c = { 0 };
	struct vf_fix_inputs in = { 0 };
	struct vf_options io = *o;
	io.replace_note = false;
	struct vf_error *err = gather(&io, dump, NULL, &c, &in);
	struct vf_plan plan;
	if (!err && !(err = vf_plan_fix(dump, &in, &plan))) {
		const char *fields[LEFT_MAX];
		char *whys[LEFT_MAX];
		size_t nb = 0;
		for (size_t i = 0; i < c.nleft; i++) {
			if (!c.left[i].blocks)
				continue;
			fields[nb] = c.left[i].field;
			whys[nb++] = c.left[i].why;
		}
		err = vf_inspect_plan(dump, &plan, fields, whys, nb, probs);
		vf_plan_deinit(&plan);
	} else if (err && err != &vf_error_nomem && err->code != VF_ERR_OS) {
		/* what the planner refuses, the header checks have already reported */
		vf_error_destroy(err);
		err = NULL;
	}
	fix_ctx_deinit(&c);
	return err;
}

static int do_fix(const struct vf_options *o)
{
	struct vf_error *err;
	if (o->in_place) {
		bool recovered;
		err = vf_journal_recover(o->input, &recovered);
		if (err)
			return report_error(o, err);
		if (recovered && !o->json)
			printf("%s: finished an interrupted --in-place run from its journal\n",
			       o->input);
	} else if (vf_journal_exists(o->input)) {
		err = vf_error_create(VF_ERR_REFUSED, "an interrupted --in-place run left the "
				      "file half patched (its journal is beside it)");
		return report_error(o, vf_error_set_hint(vf_error_set_path(err, o->input),
				    "run vmcore-fix --in-place on it again to finish"));
	}
	struct vf_dump *dump;
	err = vf_dump_open(o->input, &dump);
	if (err)
		return report_error(o, err);
	/* makedumpfile (but -R) and drgn cannot read a flattened stream: the
	 * fixed dump is a raw file unless the flattened form is asked for */
	bool flat_in = dump->src->kind == VF_SRC_FLATTENED;
	bool reassemble = flat_in && o->out_form != VF_OUT_FLATTENED && o->out_form != VF_OUT_SAME;
	if (reassemble && o->in_place) {
		vf_dump_destroy(dump);
		err = vf_error_set_hint(vf_error_create(VF_ERR_UNSUPPORTED, "a flattened stream "
				"cannot become the raw dump makedumpfile and drgn read in place; "
				"nothing was changed"), "write a fixed raw copy with -o FILE, or keep "
				"the stream flattened (only crash and makedumpfile -R read it) with "
				"--in-place --output-format flattened");
		return report_error(o, vf_error_set_path(err, o->input));
	}
	/* the guest's note, from the evidence given (or a scan) */
	struct fix_ctx c = { 0 };
	struct vf_evidence *evp = &c.ev;
	struct vf_evidence_opts eo = evidence_opts(o);
	struct progress prog = { .what = "scanning guest memory for the note", .last = -1,
				 .always = o->progress > 0 };
	if (progress_on(o)) {
		eo.progress = show_progress;
		eo.progress_arg = &prog;
	}
	err = vf_evidence_gather(dump, &eo, !dump->vmci, evp);
	if (prog.shown && prog.last < 100)
		fputc('\n', stderr);
	/* the guest's note adds its keys to what tells the machine (and must agree) */
	if (!err && evp->have)
		err = vf_machine_detect(dump, evp->gn.vmci);
	struct vf_fix_inputs in = { 0 };
	if (!err)
		err = gather(o, dump, evp->have ? &evp->gn : NULL, &c, &in);
	if (err) {
		fix_ctx_deinit(&c);
		vf_dump_destroy(dump);
		return report_error(o, vf_error_set_path(err, o->input));
	}
	struct vf_plan plan;
	err = vf_plan_fix(dump, &in, &plan);
	if (!err && (err = blocked(&c)))
		vf_plan_deinit(&plan);
	if (!err && evp->have && !o->json) {
		printf("note: %" PRIu32 " bytes of VMCOREINFO at 0x%" PRIx64 ", found by %s, read "
		       "from %s\n", evp->gn.text_len, evp->gn.region.paddr, evp->region_source,
		       evp->memory_source);
		if (evp->same_boot)
			printf("this boot's: %s\n", evp->same_boot);
		if (evp->notes)
			printf("%s\n", evp->notes);
	} else if (!err && evp->notes && !o->json) {
		printf("%s\n", evp->notes);
	}
	if (err) {
		fix_ctx_deinit(&c);
		vf_dump_destroy(dump);
		return report_error(o, vf_error_set_path(err, o->input));
	}
	struct vf_write_stats st = { 0 };
	if (o->in_place && !o->dry_run) {
		struct verify_ctx vc;
		verify_init(&vc, dump, &in, &plan, o->input);
		struct vf_write_opts wo = { .verify = verify_output, .verify_arg = &vc };
		err = vf_write_in_place(dump, &plan, &wo, &st);
		if (err) {
			fix_ctx_deinit(&c);
			vf_plan_deinit(&plan);
			vf_dump_destroy(dump);
			return report_error(o, err);
		}
	} else if (!o->dry_run) {
		struct progress cp = { .what = "writing", .last = -1, .always = o->progress > 0 };
		struct vf_write_opts wo = { 0 };
		struct verify_ctx vc;
		verify_init(&vc, dump, &in, &plan, o->output);
		wo.verify = verify_output;
		wo.verify_arg = &vc;
		if (progress_on(o)) {
			wo.progress = show_progress;
			wo.progress_arg = &cp;
		}
		err = vf_write_fixed(dump, &plan, o->output, (enum vf_out_form)o->out_form, &wo, &st);
		if (cp.shown && cp.last < 100)
			fputc('\n', stderr);
		if (err) {
			fix_ctx_deinit(&c);
			vf_plan_deinit(&plan);
			vf_dump_destroy(dump);
			return report_error(o, err);
		}
	}
	if (o->json) {
		print_plan_json(o, &plan, o->dry_run ? NULL : &st, &c, reassemble);
	} else {
		for (size_t i = 0; i < c.nleft; i++)
			printf("left alone: %s: %s\n", c.left[i].field, c.left[i].why);
		if (c.phys_base_how)
			printf("phys_base %" PRId64 " (0x%" PRIx64 ") from the page tables: %s\n",
			       (int64_t)c.phys_base, c.phys_base, c.phys_base_how);
		size_t changes = plan.n + reassemble;
		if (changes == 0)
			printf("%s: nothing to fix\n", o->input);
		else if (o->check)
			printf("%s: fixable: %zu change%s\n", o->input, changes, changes == 1 ? "" : "s");
		if (reassemble)
			printf("%s the flattened stream into a raw dump: makedumpfile and drgn cannot "
			       "read flattened files\n", o->dry_run ? "would reassemble" : "reassembled");
		for (size_t i = 0; i < plan.n; i++) {
			const struct vf_patch *p = &plan.patches[i];
			printf("%s %s at 0x%" PRIx64 ": %s\n", o->dry_run ? "would patch" : "patched",
			       p->field, p->offset, p->why);
		}
		if (!o->dry_run && (!o->in_place || plan.n))
			printf("wrote %s\n", o->in_place ? o->input : o->output);
	}
	int code = o->check && (plan.n || reassemble) ? VF_EXIT_PROBLEMS : VF_EXIT_OK;
	fix_ctx_deinit(&c);
	vf_plan_deinit(&plan);
	vf_dump_destroy(dump);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror(PACKAGE_NAME ": writing the report");
		return VF_EXIT_IO;
	}
	return code;
}

int main(int argc, char **argv)
{
	struct vf_options opts;
	vf_options_parse(argc, argv, &opts);
	switch (opts.action) {
	case VF_ACTION_INSPECT:
		return do_inspect(&opts);
	case VF_ACTION_FIX:
		return do_fix(&opts);
	case VF_ACTION_NONE:
		break;
	}
	return VF_EXIT_USAGE;
}
