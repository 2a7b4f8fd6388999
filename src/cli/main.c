/* main.c - the command: parse, call the library (fix/fix.h), print, exit.
 * The only place that prints errors and picks exit codes. */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/batch.h"
#include "cli/exitcodes.h"
#include "cli/options.h"
#include "cli/report.h"
#include "fix/evidence.h"
#include "fix/fix.h"
#include "fix/inspect.h"
#include "fix/stream.h"
#include "fix/verify.h"
#include "fix/writer.h"
#include "format/open.h"
#include "guest/migdump.h"
#include "source/open.h"
#include "source/spool.h"

/* What errors and reports call DUMP "-". */
#define STDIN_NAME "standard input"

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

/* One dump's run: its path, where its report and its errors go (with
 * --jobs, its own buffers), and whether it is one of several dumps. */
struct run {
	const struct vf_options *o;
	const char *input;
	FILE *out, *err;
	bool many;        /* reports name their dump; JSON Lines */
	struct vf_stream *stream;  /* -o -: standard output's stream, else NULL */
};

static bool from_stdin(const struct run *r)
{
	return strcmp(r->input, "-") == 0;
}

/* Where a file of the run's own goes: TMPDIR, else /var/tmp (a disk, where
 * /tmp may be memory). */
static const char *tmp_dir(void)
{
	const char *t = getenv("TMPDIR");
	return t && *t ? t : "/var/tmp";
}

/* The spool's tap: the first bytes must look like a dump before more of
 * the stream is read (a pipe of anything else would fill the disk), then
 * -o -'s pass-through, if any. */
struct spool_tap {
	struct vf_stream *stream;
	uint8_t head[VF_DUMP_HEAD_LEN];
	size_t n;
};

static struct vf_error *spool_tap(void *arg, const uint8_t *buf, size_t len)
{
	struct spool_tap *t = arg;
	if (t->n < sizeof(t->head)) {
		size_t k = sizeof(t->head) - t->n < len ? sizeof(t->head) - t->n : len;
		memcpy(t->head + t->n, buf, k);
		t->n += k;
		/* a dump, or a saved state (told apart once it is spooled) */
		struct vf_error *err = t->n == sizeof(t->head) &&
				       !vf_migstream_probe(t->head, t->n) ?
				       vf_dump_check_head(t->head, t->n) : NULL;
		if (err)
			return vf_error_set_path(err, STDIN_NAME);
	}
	return t->stream ? vf_stream_tap(t->stream, buf, len) : NULL;
}

/* DUMP's source, told by its first bytes (never its name): a dump, or a
 * saved VM state served as the ELF dump QEMU would write of it (converted
 * by the fix); a read error is an error, never "not a saved state".  name:
 * DUMP as the messages say it. */
static struct vf_error *open_source(const struct run *r, struct vf_src *src, const char *name,
				    struct vf_dump **dump)
{
	struct vf_error *err;
	uint8_t head[VF_DUMP_HEAD_LEN];
	size_t got = 0;
	if (src->kind == VF_SRC_FILE &&
	    (err = vf_src_pread(src, head, sizeof(head), 0, &got))) {
		vf_src_destroy(src);
		return err;
	}
	bool is_saved = src->kind == VF_SRC_FILE && vf_migstream_probe(head, got);
	if (!is_saved && r->o->memory_layout && !r->o->memory) {
		vf_src_destroy(src);
		return vf_error_set_hint(vf_error_set_path(vf_error_create(VF_ERR_INVALID,
				"--memory-layout without --memory gives a saved state's RAM layout, "
				"and this DUMP is no saved state"), name), "give the RAM file "
				"it describes with --memory FILE, or leave --memory-layout out");
	}
	if (!is_saved)
		return vf_dump_open_src(src, dump);
	if (r->o->in_place) {
		vf_src_destroy(src);
		return vf_error_set_hint(vf_error_set_path(vf_error_create(VF_ERR_UNSUPPORTED,
				"a saved VM state is converted into a new dump, never changed in "
				"place"), name), "write the dump with -o FILE");
	}
	char *copy = NULL;
	const char *dir = tmp_dir();
	if (r->o->output && !r->o->out_stream && (copy = strdup(r->o->output)))
		dir = dirname(copy);   /* beside the output: the disk that has its room */
	struct vf_src *saved;
	err = vf_saved_open_src(src, r->o->memory ? NULL : r->o->memory_layout, dir, &saved);
	free(copy);
	if (!err)
		err = vf_dump_open_src(saved, dump);
	return err;
}

/* DUMP by its path */
static struct vf_error *open_path(const struct run *r, struct vf_dump **dump)
{
	/* opened once (a fifo's writer is gone after one open) */
	struct vf_src *src;
	struct vf_error *err = vf_source_open(r->input, &src);
	return err ? err : open_source(r, src, r->input, dump);
}

/* DUMP "-": standard input.  A whole file (< FILE, at its start) is read
 * where it is; a pipe (or a file read from its middle) is spooled, beside
 * -o FILE (so that the copy can share its blocks), else in tmp_dir(); with
 * -o - its records are passed on as they come. */
static struct vf_error *open_input(const struct run *r, struct vf_dump **dump)
{
	if (!from_stdin(r))
		return open_path(r, dump);
	struct stat st;
	if (fstat(STDIN_FILENO, &st) < 0)
		return vf_error_os(errno, STDIN_NAME, "stat");
	if (isatty(STDIN_FILENO))
		return vf_error_set_hint(vf_error_create(VF_ERR_INVALID, "standard input is a "
				"terminal, not a dump"), "give the dump on standard input "
				"(< FILE, or a pipe), or name its file");
	int fd;
	struct vf_error *err = NULL;
	if (S_ISREG(st.st_mode) && lseek(STDIN_FILENO, 0, SEEK_CUR) == 0) {
		if ((fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0)) < 0)
			return vf_error_os(errno, STDIN_NAME, "dup");
	} else {
		char *copy = NULL;
		const char *dir = tmp_dir();
		if (r->o->output && !r->o->out_stream) {
			if (!(copy = strdup(r->o->output)))
				return &vf_error_nomem;
			dir = dirname(copy);
		}
		struct spool_tap tap = { .stream = r->o->dry_run ? NULL : r->stream };
		uint64_t size;
		err = vf_spool(STDIN_FILENO, STDIN_NAME, dir, spool_tap, &tap, &fd, &size);
		free(copy);
		if (err)
			return err;
		if (!size) {
			close(fd);
			return vf_error_set_hint(vf_error_create(VF_ERR_NOT_FORMAT, "standard "
					"input is empty"), "give the dump on standard input, or "
					"name its file");
		}
	}
	struct vf_src *src;
	if (!(err = vf_source_open_fd(fd, STDIN_NAME, &src)))
		err = open_source(r, src, STDIN_NAME, dump);
	return err;
}

/* What an exit status means, for the one line a failed dump gets among many. */
static const char *exit_meaning(int code)
{
	switch (code) {
	case VF_EXIT_USAGE: return "usage error";
	case VF_EXIT_UNFIXABLE: return "not fixable from the evidence given";
	case VF_EXIT_CORRUPT: return "not a dump, or corrupt";
	case VF_EXIT_UNSUPPORTED: return "unsupported";
	}
	return "I/O or system error";
}

/* One line on stderr: what is wrong, where, and what to do.  Among many
 * dumps the error names its dump, and the report gets its verdict: a JSON
 * line, or "DUMP: MEANING (exit N)" (no other report is printed for it). */
static int report_error(const struct run *r, struct vf_error *err)
{
	if (r->many)
		err = vf_error_set_path(err, r->input);
	char *s = vf_error_string(err);
	const char *hint = err->hint ? err->hint : default_hint(err);
	fprintf(r->err, "%s: ", PACKAGE_NAME);
	vf_fput_text(r->err, s ? s : err->message);
	if (hint) {
		fputs("; ", r->err);
		vf_fput_text(r->err, hint);
	}
	fputc('\n', r->err);
	free(s);
	int code = exit_code_for(err);
	struct vf_json_line line = { .status = code };
	if (r->o->json) {
		vf_report_error_json(r->out, r->input, err, r->many ? &line : NULL);
	} else if (r->many) {
		vf_fput_text(r->out, r->input);
		fprintf(r->out, ": %s (exit %d)\n", exit_meaning(code), code);
	}
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

/* The evidence options for this dump: a saved state converted is its own
 * evidence (its vmcoreinfo device's state, from the walk already made),
 * unless other evidence is given. */
static struct vf_evidence_opts evidence_for(const struct run *r, const struct vf_dump *dump)
{
	struct vf_evidence_opts eo = evidence_opts(r->o);
	const struct vf_saved_info *si = vf_saved_info(dump->src);
	if (si && !vf_evidence_given(&eo)) {
		eo.saved_state = from_stdin(r) ? STDIN_NAME : r->input;
		eo.saved_walk = &si->st;
	}
	return eo;
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

/* Never into a buffer (--jobs over many dumps): it would come all at once. */
static bool progress_on(const struct run *r)
{
	const struct vf_options *o = r->o;
	if (r->err != stderr)
		return false;
	return o->progress > 0 || (o->progress == 0 && !o->json && isatty(STDERR_FILENO));
}

static int finish_report(const struct run *r, int code)
{
	if (fflush(r->out) != 0 || ferror(r->out)) {
		fprintf(r->err, "%s: writing the report: %s\n", PACKAGE_NAME, strerror(errno));
		return VF_EXIT_IO;
	}
	return code;
}

static int do_inspect(const struct run *r)
{
	const struct vf_options *o = r->o;
	struct vf_region region;
	bool have_region;
	struct vf_error *err = region_from_options(o, &region, &have_region);
	if (err)
		return report_error(r, err);
	struct vf_dump *dump;
	if ((err = open_input(r, &dump)))
		return report_error(r, err);
	struct vf_problems probs = { 0 };
	struct vf_guest_check gc = { 0 };
	struct vf_evidence ev = { 0 };
	struct vf_evidence_opts eo = evidence_for(r, dump);
	if (!have_region && eo.saved_walk) {
		/* the saved state's own device, when the guest wrote it */
		struct vf_error *e = vf_evidence_walked_region(eo.saved_walk, eo.saved_state, &region);
		have_region = !e;
		vf_error_destroy(e);
	}
	struct vf_mem *mem;
	struct vf_fix_opts fo = { .keep_device_pages = o->keep_device_pages };
	if (!(err = vf_evidence_memory(dump, &eo, &ev, &mem)) &&
	    !(err = vf_inspect(dump, &probs)) &&
	    !(err = vf_inspect_journal(!from_stdin(r) && vf_journal_exists(r->input),
					&probs)) &&
	    !(err = have_region ? vf_inspect_guest(dump, mem, &region, &gc, &probs) : NULL))
		err = vf_fix_inspect(dump, &fo, &probs);
	int code;
	if (err) {
		code = report_error(r, err);
	} else {
		size_t serious = 0;
		for (size_t i = 0; i < probs.n; i++)
			if (probs.items[i].severity != VF_SEV_INFO)
				serious++;
		code = serious ? VF_EXIT_PROBLEMS : VF_EXIT_OK;
		struct vf_json_line line = { .status = code };
		if (o->json)
			vf_report_inspect_json(r->out, dump, &probs, &gc, r->many ? &line : NULL);
		else
			vf_report_inspect_text(r->out, dump, &probs, &gc, o->verbose);
		code = finish_report(r, code);
	}
	if (probs.items)
		vf_problems_deinit(&probs);
	vf_guest_check_deinit(&gc);
	vf_evidence_deinit(&ev);
	vf_dump_destroy(dump);
	return code;
}

/* A journal beside the input: --in-place finishes it, anything else refuses. */
static struct vf_error *check_journal(const struct run *r)
{
	const struct vf_options *o = r->o;
	if (from_stdin(r))
		return NULL;  /* no file: no journal beside it */
	if (o->in_place) {
		bool recovered;
		struct vf_error *err = vf_journal_recover(r->input, &recovered);
		if (!err && recovered && !o->json)
			fprintf(r->out, "%s: finished an interrupted --in-place run from its "
				"journal\n", r->input);
		return err;
	}
	if (!vf_journal_exists(r->input))
		return NULL;
	struct vf_error *err = vf_error_create(VF_ERR_REFUSED, "journal-pending: an interrupted "
					       "--in-place run left the file half patched (its journal "
					       "is beside it)");
	return vf_error_set_hint(vf_error_set_path(err, r->input),
				 "run vmcore-fix --in-place on it again to finish");
}

/* makedumpfile (but -R) and drgn cannot read a flattened stream: the fixed
 * dump is a raw file unless the flattened form is asked for. */
static struct vf_error *check_reassembly(const struct run *r, const struct vf_dump *dump,
					 bool *reassemble)
{
	const struct vf_options *o = r->o;
	bool flat_in = dump->src->kind == VF_SRC_FLATTENED;
	*reassemble = flat_in && o->out_form != VF_OUT_FLATTENED && o->out_form != VF_OUT_SAME;
	if (!*reassemble || !o->in_place)
		return NULL;
	struct vf_error *err = vf_error_set_hint(vf_error_create(VF_ERR_UNSUPPORTED, "a "
		"flattened stream cannot become the raw dump makedumpfile and drgn read in place; "
		"nothing was changed"), "write a fixed raw copy with -o FILE, or keep the stream "
		"flattened (only crash and makedumpfile -R read it) with --in-place "
		"--output-format flattened");
	return vf_error_set_path(err, r->input);
}

/* The guest's note from the evidence given (or a scan), with progress. */
static struct vf_error *gather_evidence(const struct run *r, const struct vf_dump *dump,
					struct vf_evidence *ev)
{
	const struct vf_options *o = r->o;
	struct vf_evidence_opts eo = evidence_for(r, dump);
	struct progress prog = { .what = "scanning guest memory for the note", .last = -1,
				 .always = o->progress > 0 };
	if (progress_on(r)) {
		eo.progress = show_progress;
		eo.progress_arg = &prog;
	}
	struct vf_error *err = vf_evidence_gather(dump, &eo, !dump->vmci, ev);
	if (prog.shown && prog.last < 100)
		fputc('\n', stderr);
	return err;
}

/* -o or --in-place, read back before it counts. */
static struct vf_error *write_fix(const struct run *r, struct vf_dump *dump,
				  const struct vf_fix *fx, struct vf_write_stats *st)
{
	const struct vf_options *o = r->o;
	struct vf_verify vc;
	vf_verify_init(&vc, dump, fx, o->in_place ? r->input : o->out_stream ? "standard output" :
		       o->output);
	struct vf_write_opts wo = { .verify = vf_verify_output, .verify_arg = &vc,
				    .no_sync = o->no_sync };
	if (r->stream && r->stream->pass) {
		struct vf_error *err = vf_stream_finish(r->stream, dump, &fx->plan, dump->src->fd,
							&wo);
		st->bytes_copied = r->stream->written;
		return err;
	}
	if (r->stream)
		return vf_stream_write(r->stream, dump, &fx->plan, tmp_dir(), &wo, st);
	if (o->in_place)
		return vf_write_in_place(dump, &fx->plan, &wo, st);
	struct progress cp = { .what = "writing", .last = -1, .always = o->progress > 0 };
	if (progress_on(r)) {
		wo.progress = show_progress;
		wo.progress_arg = &cp;
	}
	struct vf_error *err = vf_write_fixed(dump, &fx->plan, o->output,
					      (enum vf_out_form)o->out_form, &wo, st);
	if (cp.shown && cp.last < 100)
		fputc('\n', stderr);
	return err;
}

static int do_fix(const struct run *r)
{
	const struct vf_options *o = r->o;
	struct vf_error *err = check_journal(r);
	if (err)
		return report_error(r, err);
	struct vf_dump *dump;
	if ((err = open_input(r, &dump)))
		return report_error(r, err);
	bool reassemble;
	struct vf_evidence ev = { 0 };
	struct vf_fix fx;
	bool prepared = false;
	struct vf_fix_opts fo = { .replace_note = o->replace_note,
				  .keep_device_pages = o->keep_device_pages,
				  .to_elf = o->out_form == VF_OUT_ELF,
				  .to_kdump = o->to_kdump };
	if (!(err = check_reassembly(r, dump, &reassemble)) &&
	    !(err = gather_evidence(r, dump, &ev)) &&
	    !(err = vf_fix_prepare(dump, ev.have ? &ev.gn : NULL, &fo, &fx))) {
		prepared = true;
		err = vf_fix_blocked(&fx);
	}
	if (err)
		err = vf_error_set_path(err, r->input);
	/* --check over many dumps: one line each, nothing before it */
	bool one_line = r->many && o->check && !o->json;
	if (!err && !o->json && !one_line)
		vf_report_evidence_text(r->out, &ev);
	struct vf_write_stats st = { 0 };
	if (!err && !o->dry_run)
		err = write_fix(r, dump, &fx, &st);
	int code = VF_EXIT_OK;
	if (err) {
		code = report_error(r, err);
	} else {
		if (o->check && (fx.plan.n || reassemble))
			code = VF_EXIT_PROBLEMS;
		struct vf_json_line line = { .status = code };
		struct vf_fix_report rep = { .input = from_stdin(r) ? STDIN_NAME : r->input,
			.output = o->dry_run ? NULL : o->in_place ? r->input : o->output,
			.in_place = o->in_place, .dry_run = o->dry_run, .check = o->check,
			.reassemble = reassemble, .fx = &fx, .ev = &ev,
			.bytes_copied = o->dry_run ? 0 : st.bytes_copied,
			.line = r->many ? &line : NULL };
		if (o->json)
			vf_report_fix_json(r->out, &rep);
		else if (one_line)
			vf_report_fix_line(r->out, &rep);
		else
			vf_report_fix_text(r->out, &rep);
		code = finish_report(r, code);
	}
	if (prepared)
		vf_fix_deinit(&fx);
	vf_evidence_deinit(&ev);
	vf_dump_destroy(dump);
	return code;
}

static int run_one(const struct run *r)
{
	switch (r->o->action) {
	case VF_ACTION_INSPECT:
		return do_inspect(r);
	case VF_ACTION_FIX:
		return do_fix(r);
	case VF_ACTION_NONE:
		break;
	}
	return VF_EXIT_USAGE;
}

/* Dump i of many, for the batch runner: text reports but --check's one line
 * get a header line naming the dump, and a blank line between them. */
static int run_nth(void *arg, size_t i, FILE *out, FILE *err)
{
	const struct vf_options *o = arg;
	struct run r = { .o = o, .input = o->inputs[i], .out = out, .err = err, .many = true };
	if (!o->json && !o->check) {
		fputs(i ? "\n==> " : "==> ", out);
		vf_fput_text(out, r.input);
		fputs(" <==\n", out);
	}
	return run_one(&r);
}

/* A dump's file, for the check that --in-place is given each file once. */
struct file_id {
	dev_t dev;
	ino_t ino;
	size_t arg;  /* its place among the arguments */
};

static int cmp_file_id(const void *x, const void *y)
{
	const struct file_id *a = x, *b = y;
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->ino != b->ino)
		return a->ino < b->ino ? -1 : 1;
	return a->arg < b->arg ? -1 : a->arg > b->arg;
}

/* --in-place over many dumps: each file once (two threads patching one file
 * would each journal it; in turn the second finds nothing, which hides the
 * slip).  Sorted by file, so n log n for a farm's thousands; the first
 * repeat in argument order is named.  Files that cannot be looked at fail
 * in their own run. */
static int check_distinct(const struct vf_options *o)
{
	struct file_id *id = calloc(o->ninputs, sizeof(*id));
	if (!id) {
		fprintf(stderr, "%s: %s\n", PACKAGE_NAME, strerror(ENOMEM));
		return VF_EXIT_IO;
	}
	size_t n = 0;
	for (size_t i = 0; i < o->ninputs; i++) {
		struct stat st;
		if (stat(o->inputs[i], &st) == 0)
			id[n++] = (struct file_id){ st.st_dev, st.st_ino, i };
	}
	qsort(id, n, sizeof(*id), cmp_file_id);
	size_t again = SIZE_MAX, first = 0;
	for (size_t k = 1, start = 0; k < n; k++) {
		if (id[k].dev != id[start].dev || id[k].ino != id[start].ino) {
			start = k;  /* a new file; within one, ties sort by place */
		} else if (id[k].arg < again) {
			again = id[k].arg;
			first = id[start].arg;
		}
	}
	free(id);
	if (again == SIZE_MAX)
		return VF_EXIT_OK;
	fprintf(stderr, "%s: --in-place: '", PACKAGE_NAME);
	vf_fput_text(stderr, o->inputs[again]);
	fputs("' is '", stderr);
	vf_fput_text(stderr, o->inputs[first]);
	fputs("' again; give each dump once\n", stderr);
	return VF_EXIT_USAGE;
}

static int run_many(const struct vf_options *o)
{
	int code = o->in_place ? check_distinct(o) : VF_EXIT_OK;
	if (code)
		return code;
	int *codes = calloc(o->ninputs, sizeof(*codes));
	if (!codes) {
		fprintf(stderr, "%s: %s\n", PACKAGE_NAME, strerror(ENOMEM));
		return VF_EXIT_IO;
	}
	struct vf_batch b = { .n = o->ninputs, .jobs = o->jobs, .fn = run_nth, .arg = (void *)o,
			      .out = stdout, .err = stderr };
	struct run top = { .o = o, .input = NULL, .out = stdout, .err = stderr };
	struct vf_error *err = vf_batch_run(&b, codes);
	for (size_t i = 0; i < o->ninputs; i++)
		code = vf_exit_worst(code, codes[i] < 0 ? VF_EXIT_IO : codes[i]);
	free(codes);
	if (err) {
		/* not one dump's: the run's own (a thread, a buffer) */
		char *s = vf_error_string(err);
		fprintf(stderr, "%s: %s; the dumps after the last report were not "
			"looked at\n", PACKAGE_NAME, s ? s : err->message);
		free(s);
		vf_error_destroy(err);
		code = VF_EXIT_IO;
	}
	return vf_exit_worst(code, finish_report(&top, VF_EXIT_OK));
}

/* -o -: standard output is a stream to start, never the input (as with
 * -o FILE); a terminal gets no binary stream (but --dry-run writes none). */
static struct vf_error *stream_start(const struct run *r, struct vf_stream *s)
{
	struct stat in, out;
	bool have = from_stdin(r) ? fstat(STDIN_FILENO, &in) == 0 : stat(r->input, &in) == 0;
	if (have && S_ISREG(in.st_mode) && fstat(STDOUT_FILENO, &out) == 0 &&
	    in.st_dev == out.st_dev && in.st_ino == out.st_ino)
		return vf_error_set_hint(vf_error_create(VF_ERR_INVALID, "standard output is the "
				"input"), "write to another file: vmcore-fix never changes its input");
	struct vf_error *err = vf_stream_init(s, STDOUT_FILENO, "standard output");
	if (err && r->o->dry_run) {
		vf_error_destroy(err);
		err = NULL;
	}
	return err;
}

int main(int argc, char **argv)
{
	struct vf_options opts;
	vf_options_parse(argc, argv, &opts);
	int code;
	if (opts.ninputs > 1) {
		code = run_many(&opts);
	} else {
		struct run r = { .o = &opts, .input = opts.inputs[0], .out = stdout, .err = stderr };
		struct vf_stream stream;
		if (opts.out_stream) {
			/* the report goes where the dump does not */
			r.out = stderr;
			r.stream = &stream;
			struct vf_error *err = stream_start(&r, &stream);
			if (err) {
				free(opts.inputs);
				return report_error(&r, err);
			}
		}
		code = run_one(&r);
		if (r.stream)
			vf_stream_abort(r.stream);
	}
	free(opts.inputs);
	return code;
}
