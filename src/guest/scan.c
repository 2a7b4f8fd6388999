/* scan.c - find the guest's VMCOREINFO note by reading the start of every page. */
#include "config.h"
#include "guest/scan.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"
#include "guest/guestnote.h"
#include "util/notes.h"
#include "util/vmcoreinfo.h"

#define PROBE 64                /* bytes read at each probe: header, name, "OSRELEASE=..." */
#define NOTE_PROBE_MIN 34       /* 12 header + 12 name + "OSRELEASE=" */
#define PROGRESS_EVERY 4096     /* probes between progress calls */
#define BULK_CHUNK (UINT64_C(2) << 20)  /* bytes of probes per read where big reads are cheap */

static const char osrel_key[] = "OSRELEASE=";
#define OSREL_LEN (sizeof(osrel_key) - 1)

static bool skippable(const struct vf_error *e)
{
	return e->code == VF_ERR_NOT_PRESENT || e->code == VF_ERR_EXCLUDED;
}

/* The OSRELEASE value after "OSRELEASE=" at p (n bytes), up to a newline, NUL or
 * a non-printable byte. */
static void osrel_copy(const uint8_t *p, size_t n, char out[65])
{
	size_t k = 0;
	for (size_t i = OSREL_LEN; i < n && k < 64; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e)
			break;
		out[k++] = (char)p[i];
	}
	out[k] = '\0';
}

/* Keep candidate c, or only count it when its kind's cap is reached. */
static struct vf_error *add_cand(struct vf_scan_result *out, size_t *cap,
				 const struct vf_scan_candidate *c)
{
	size_t *seen = c->kind == VF_SCAN_NOTE ? &out->notes_seen : &out->texts_seen;
	size_t max = c->kind == VF_SCAN_NOTE ? VF_SCAN_MAX_NOTES : VF_SCAN_MAX_TEXTS;
	if ((*seen)++ >= max) {
		if (c->kind == VF_SCAN_NOTE)
			out->notes_unchecked++;
		out->ndropped++;
		return NULL;
	}
	if (out->ncandidates == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct vf_scan_candidate *n = realloc(out->cands, ncap * sizeof(*n));
		if (!n)
			return &vf_error_nomem;
		out->cands = n;
		*cap = ncap;
	}
	out->cands[out->ncandidates++] = *c;
	return NULL;
}

/* Classify the probe bytes p[0..n) at paddr: a note header, a text page, or
 * nothing (*is_note: a note header, kept or only counted). */
static struct vf_error *probe(const uint8_t *p, size_t n, uint64_t paddr, bool at_page_start,
			      bool big_endian, uint64_t last_note_text,
			      struct vf_scan_result *out, size_t *cap, bool *is_note)
{
	struct vf_scan_candidate c;
	memset(&c, 0, sizeof(c));
	c.paddr = paddr;
	*is_note = false;
	if (n >= NOTE_PROBE_MIN) {
		uint32_t namesz = (uint32_t)vf_load_uint(p, 4, big_endian);
		uint32_t descsz = (uint32_t)vf_load_uint(p + 4, 4, big_endian);
		uint32_t type = (uint32_t)vf_load_uint(p + 8, 4, big_endian);
		if (namesz == 11 && type == 0 && descsz < VF_VMCI_REGION_MAX &&
		    memcmp(p + 12, "VMCOREINFO\0", 12) == 0 &&
		    memcmp(p + 24, osrel_key, OSREL_LEN) == 0) {
			c.kind = VF_SCAN_NOTE;
			c.size = vf_note_size(namesz, descsz);
			osrel_copy(p + 24, n - 24, c.osrelease);
			*is_note = true;
			return add_cand(out, cap, &c);
		}
	}
	/* A text page (at page starts only); not the text of the note found just
	 * before (small steps). */
	if (at_page_start && n >= OSREL_LEN && memcmp(p, osrel_key, OSREL_LEN) == 0 &&
	    paddr != last_note_text) {
		c.kind = VF_SCAN_TEXT;
		osrel_copy(p, n, c.osrelease);
		return add_cand(out, cap, &c);
	}
	return NULL;
}

static struct vf_error *set_invalid(struct vf_scan_candidate *c, struct vf_error *err)
{
	char *s = vf_error_string(err);
	vf_error_destroy(err);
	if (!s)
		return &vf_error_nomem;
	c->why_invalid = s;
	return NULL;
}

/* The distinct text equal to text[0..len), kept as a new one if none is
 * (while there is room); counts the distinct texts.  NULL: past the cap. */
static struct vf_error *distinct_text(struct vf_scan_result *out, const uint8_t *text,
				      uint32_t len, const uint8_t **kept)
{
	*kept = NULL;
	size_t have = out->ndistinct < VF_SCAN_MAX_DISTINCT ? out->ndistinct
							   : VF_SCAN_MAX_DISTINCT;
	for (size_t k = 0; k < have; k++)
		if (out->text_lens[k] == len && memcmp(out->texts[k], text, len) == 0) {
			*kept = out->texts[k];
			return NULL;
		}
	if (have < VF_SCAN_MAX_DISTINCT) {
		uint8_t *t = malloc(len ? len : 1);
		if (!t)
			return &vf_error_nomem;
		memcpy(t, text, len);
		out->texts[have] = t;
		out->text_lens[have] = len;
		*kept = t;
	}
	out->ndistinct++;
	return NULL;
}

/* Validate a NOTE candidate with QEMU's rules plus the scan's own.  A
 * candidate that cannot be read whole (a page missing, excluded or damaged)
 * is marked unreadable: not checked. */
static struct vf_error *validate(struct vf_mem *mem, const struct vf_scan_opts *o,
				 uint64_t page_size, struct vf_scan_result *out,
				 struct vf_scan_candidate *c)
{
	struct vf_region r = { c->paddr, c->size, VF_REGION_SCAN };
	struct vf_guest_note gn;
	struct vf_error *err = vf_guest_note_read(mem, &r, o->big_endian,
						  o->note_page_limit ? o->note_page_limit : page_size,
						  &gn);
	if (err) {
		if (err->code == VF_ERR_NOMEM || err->code == VF_ERR_OS)
			return vf_error_prefix(err, "validating the VMCOREINFO note candidate at "
					       "physical address 0x%" PRIx64, c->paddr);
		if (err->code == VF_ERR_REFUSED) {
			out->notes_invalid++;
		} else {
			c->unreadable = true;
			out->notes_unreadable++;
		}
		return set_invalid(c, err);
	}
	const char *rel = vf_vmcoreinfo_get(gn.vmci, "OSRELEASE");
	snprintf(c->osrelease, sizeof(c->osrelease), "%s", rel ? rel : "");
	if (!vf_vmcoreinfo_get(gn.vmci, "SYMBOL(swapper_pg_dir)") &&
	    !vf_vmcoreinfo_get(gn.vmci, "SYMBOL(init_top_pgt)")) {
		vf_guest_note_deinit(&gn);
		out->notes_invalid++;
		return set_invalid(c, vf_error_paddr(VF_ERR_REFUSED, c->paddr, "VMCOREINFO note "
						     "candidate has no SYMBOL(swapper_pg_dir) or "
						     "SYMBOL(init_top_pgt): not a kernel's note"));
	}
	err = distinct_text(out, gn.text, gn.text_len, &c->text);
	c->text_len = gn.text_len;
	vf_guest_note_deinit(&gn);
	if (err)
		return err;
	c->valid = true;
	out->notes_valid++;
	return NULL;
}

/* Does the memory at paddr hold exactly the note's text (followed by a NUL or
 * the end of the buffer the kernel filled)?  Missing pages: no. */
static struct vf_error *text_matches(struct vf_mem *mem, uint64_t paddr,
				     const struct vf_scan_candidate *note, bool *match)
{
	*match = false;
	uint8_t *buf = malloc(note->text_len ? note->text_len : 1);
	if (!buf)
		return &vf_error_nomem;
	struct vf_error *err = vf_mem_read(mem, paddr, buf, note->text_len);
	if (err && skippable(err)) {
		vf_error_destroy(err);
		err = NULL;
	} else if (!err) {
		*match = memcmp(buf, note->text, note->text_len) == 0;
	} else {
		err = vf_error_prefix(err, "comparing the text page at physical address 0x%"
				      PRIx64 " with the note at 0x%" PRIx64, paddr, note->paddr);
	}
	free(buf);
	return err;
}

static struct vf_error *check_opts(const struct vf_mem *mem, const struct vf_scan_opts *o,
				   uint64_t *page_size, uint64_t *step)
{
	*page_size = o->page_size ? o->page_size : mem->page_size;
	if (*page_size < 4096 || (*page_size & (*page_size - 1)))
		return vf_error_create(VF_ERR_INVALID, "scanning %s for the VMCOREINFO note: page "
				       "size %" PRIu64 " is not a power of two of at least 4096",
				       mem->name ? mem->name : "guest memory", *page_size);
	*step = o->step ? o->step : *page_size;
	if (*step % 4 || *page_size % *step)
		return vf_error_create(VF_ERR_INVALID, "scanning %s for the VMCOREINFO note: step "
				       "%" PRIu64 " is not a multiple of 4 dividing the page size "
				       "%" PRIu64, mem->name ? mem->name : "guest memory", *step,
				       *page_size);
	return NULL;
}

/* Probes in range [start, start + size) at multiples of step. */
static uint64_t range_probes(const struct vf_mem_range *r, uint64_t step)
{
	uint64_t first = r->start % step ? r->start + (step - r->start % step) : r->start;
	if (first < r->start || first - r->start >= r->size)  /* wrapped, or no probe */
		return 0;
	return (r->size - (first - r->start) - 1) / step + 1;
}

/* Pass-1 state: the result being built and where the walk is. */
struct walk {
	struct vf_mem *mem;
	const struct vf_scan_opts *o;
	struct vf_scan_result *out;
	uint64_t page_size;
	size_t cap;                  /* capacity of out->cands */
	uint64_t done;               /* probes so far, for progress */
	uint64_t last_note_text;     /* text address of the note found last, this range */
};

/* Account for one probe at a: its bytes p[0..len) were read (err NULL), or the
 * read failed with err (owned).  Skippable errors count the probe as skipped;
 * any other stops the scan. */
static struct vf_error *take_probe(struct walk *w, uint64_t a, const uint8_t *p, size_t len,
				   struct vf_error *err)
{
	struct vf_scan_result *out = w->out;
	if (err && skippable(err)) {
		vf_error_destroy(err);
		out->pages_skipped++;
	} else if (err) {
		return vf_error_prefix(err, "scanning %s for the VMCOREINFO note",
				       w->mem->name ? w->mem->name : "guest memory");
	} else {
		out->pages_checked++;
		bool is_note;
		err = probe(p, len, a, a % w->page_size == 0, w->o->big_endian, w->last_note_text,
			    out, &w->cap, &is_note);
		if (err)
			return err;
		if (is_note)
			w->last_note_text = a + 24;
	}
	if (w->o->progress && ++w->done % PROGRESS_EVERY == 0)
		w->o->progress(w->o->progress_arg, w->done, out->pages_total);
	return NULL;
}

/* Probes k0..k0+n-1 of range r (first probe at `first`), one small read each. */
static struct vf_error *probe_each(struct walk *w, const struct vf_mem_range *r, uint64_t first,
				   uint64_t step, uint64_t k0, uint64_t n)
{
	uint8_t buf[PROBE];
	for (uint64_t k = k0; k < k0 + n; k++) {
		uint64_t a = first + k * step;       /* no overflow: inside the range */
		uint64_t left = r->size - (a - r->start);
		size_t len = left < PROBE ? (size_t)left : PROBE;
		struct vf_error *err = take_probe(w, a, buf, len, vf_mem_read(w->mem, a, buf, len));
		if (err)
			return err;
	}
	return NULL;
}

/* Probes k0..k0+n-1 of range r with one read of every byte they look at (the
 * buffer holds (n - 1) * step + PROBE bytes, clipped to the range).  The
 * probes see exactly the bytes a small read would have returned; if the big
 * read fails (a missing page inside, or any error), the chunk is probed again
 * one small read at a time, so skipped pages and errors are the same too. */
static struct vf_error *probe_chunk(struct walk *w, const struct vf_mem_range *r, uint64_t first,
				   uint64_t step, uint64_t k0, uint64_t n, uint8_t *buf)
{
	uint64_t a0 = first + k0 * step;
	uint64_t left = r->size - (a0 - r->start);
	uint64_t want = (n - 1) * step + PROBE;   /* <= BULK_CHUNK + PROBE */
	size_t len = left < want ? (size_t)left : (size_t)want;
	struct vf_error *err = vf_mem_read(w->mem, a0, buf, len);
	if (err) {
		vf_error_destroy(err);
		return probe_each(w, r, first, step, k0, n);
	}
	for (uint64_t k = 0; k < n; k++) {
		size_t at = (size_t)(k * step);
		size_t plen = len - at < PROBE ? len - at : PROBE;
		err = take_probe(w, a0 + at, buf + at, plen, NULL);
		if (err)
			return err;
	}
	return NULL;
}

/* Where the source can say which pages hold no data (kdump pages not dumped,
 * ELF file holes), step over them without reading: they count as skipped.
 * Returns the index of the next probe to read (n: none left in the range). */
static uint64_t skip_no_data(struct walk *w, uint64_t first, uint64_t step, uint64_t k,
			     uint64_t n, uint64_t *kend)
{
	*kend = n;
	if (!w->mem->ops->next_data)
		return k;
	uint64_t a = first + k * step, dend = UINT64_MAX;
	uint64_t nd = w->mem->ops->next_data(w->mem->ctx, a, &dend);
	/* probes from kend on start past the data found */
	if (dend != UINT64_MAX && dend > first && dend - first < n * step)
		*kend = (dend - first + step - 1) / step;
	if (nd <= a)
		return k;
	uint64_t kk = nd == UINT64_MAX || nd - first >= n * step ? n
		      : (nd - first + step - 1) / step;
	if (kk <= k)
		return k;
	w->out->pages_skipped += kk - k;
	if (w->o->progress) {
		uint64_t before = w->done / PROGRESS_EVERY;
		w->done += kk - k;
		if (w->done / PROGRESS_EVERY != before)
			w->o->progress(w->o->progress_arg, w->done, w->out->pages_total);
	}
	return kk;
}

/* The pass-1 probes of one range.  Runs of probes known to hold data are read
 * a chunk per read when there is a chunk buffer, else one small read each. */
static struct vf_error *probe_range(struct walk *w, const struct vf_mem_range *r,
				    uint64_t step, uint8_t *chunk, uint64_t per_chunk)
{
	uint64_t n = range_probes(r, step);
	uint64_t first = r->start % step ? r->start + (step - r->start % step) : r->start;
	w->last_note_text = UINT64_MAX;
	uint64_t kend = 0;   /* probes before kend are known to hold data */
	struct vf_error *err = NULL;
	for (uint64_t k = 0; k < n && !err;) {
		if (k >= kend) {
			k = skip_no_data(w, first, step, k, n, &kend);
			if (k >= n)
				break;
			if (kend <= k)
				kend = k + 1;
		}
		uint64_t cnt = chunk ? (kend - k < per_chunk ? kend - k : per_chunk) : 1;
		err = chunk ? probe_chunk(w, r, first, step, k, cnt, chunk)
			    : probe_each(w, r, first, step, k, cnt);
		k += cnt;
	}
	return err;
}

/* Pass 1: read the probes; where big reads are cheap, a chunk of probes per
 * read (one buffer, reused), else one small read per probe. */
static struct vf_error *read_probes(struct vf_mem *mem, const struct vf_scan_opts *o,
				    uint64_t page_size, uint64_t step, struct vf_scan_result *out)
{
	struct walk w = { .mem = mem, .o = o, .out = out, .page_size = page_size };
	uint64_t per_chunk = step < BULK_CHUNK ? BULK_CHUNK / step : 1;
	uint8_t *chunk = NULL;
	if (mem->bulk_reads_cheap && per_chunk > 1)
		chunk = malloc((size_t)((per_chunk - 1) * step + PROBE));  /* NULL: small reads */
	struct vf_error *err = NULL;
	for (size_t i = 0; i < mem->nranges && !err; i++)
		err = probe_range(&w, &mem->ranges[i], step, chunk, per_chunk);
	free(chunk);
	if (err)
		return err;
	if (o->progress)
		o->progress(o->progress_arg, out->pages_total, out->pages_total);
	return NULL;
}

/* Pass 2: validate the note candidates kept, in address order (reads go
 * forward: a compressed stream need not start over).  best: the lowest valid. */
static struct vf_error *validate_notes(struct vf_mem *mem, const struct vf_scan_opts *o,
				       uint64_t page_size, struct vf_scan_result *out,
				       const struct vf_scan_candidate **best)
{
	*best = NULL;
	for (size_t i = 0; i < out->ncandidates; i++) {
		struct vf_scan_candidate *c = &out->cands[i];
		if (c->kind != VF_SCAN_NOTE)
			continue;
		struct vf_error *err = validate(mem, o, page_size, out, c);
		if (err)
			return err;
		if (c->valid && !*best)
			*best = c;
	}
	return NULL;
}

/* Pass 3, when one text is left: a text page holding it corroborates every
 * valid note (they all have it). */
static struct vf_error *corroborate(struct vf_mem *mem, struct vf_scan_result *out,
				    const struct vf_scan_candidate *best)
{
	bool any = false;
	for (size_t i = 0; i < out->ncandidates; i++) {
		struct vf_scan_candidate *t = &out->cands[i];
		if (t->kind != VF_SCAN_TEXT)
			continue;
		struct vf_error *err = text_matches(mem, t->paddr, best, &t->corroborated);
		if (err)
			return err;
		any = any || t->corroborated;
	}
	for (size_t k = 0; any && k < out->ncandidates; k++)
		if (out->cands[k].kind == VF_SCAN_NOTE && out->cands[k].valid)
			out->cands[k].corroborated = true;
	return NULL;
}

/* "N note-like candidates (V valid, I refused by the rules, U not readable
 * whole, C past the limit of 64 checked), T text pages", malloc'd. */
static char *tally(const struct vf_scan_result *out)
{
	char *s = NULL;
	if (asprintf(&s, "%zu note-like candidates (%zu valid, %zu refused by the rules, %zu "
		     "not readable whole, %zu past the limit of %d checked), %zu text pages",
		     out->notes_seen, out->notes_valid, out->notes_invalid,
		     out->notes_unreadable, out->notes_unchecked, VF_SCAN_MAX_NOTES,
		     out->texts_seen) < 0)
		return NULL;
	return s;
}

static const char evidence_hint[] = "any guest process can plant note-like pages, so the "
	"scan does not choose among what it could not check: give the note's place instead: "
	"--region-file (a copy of the guest's /sys/kernel/vmcoreinfo), --fw-cfg (QEMU's "
	"etc/vmcoreinfo entry) or --saved-state (the VM's migration stream or save image)";

/* why = "<head>: <tally>; <counts>" and the error (code, with the hint). */
static struct vf_error *fail_with(struct vf_scan_result *out, enum vf_err_code code,
				  const char *head, const char *counts, const char *hint,
				  bool unreadable_first)
{
	char *t = tally(out);
	if (!t || asprintf(&out->why, "%s: %s; %s", head, t, counts) < 0) {
		free(t);
		out->why = NULL;
		return &vf_error_nomem;
	}
	free(t);
	/* the first reason: of a refused note (none valid), of an unreadable one */
	const char *first = NULL;
	for (size_t i = 0; i < out->ncandidates && !first; i++)
		if (out->cands[i].kind == VF_SCAN_NOTE && (code == VF_ERR_NOT_FOUND ||
		    (unreadable_first && out->cands[i].unreadable)))
			first = out->cands[i].why_invalid;
	struct vf_error *err = vf_error_create(code, "%s%s%s", out->why, !first ? "" :
					       unreadable_first ? "; the first unreadable: " :
					       "; the first refused: ", first ? first : "");
	return vf_error_set_hint(err, "%s", hint);
}

static struct vf_error *no_valid_note(struct vf_scan_result *out, const char *what,
				      const char *counts, bool page_starts)
{
	char head[300];
	snprintf(head, sizeof(head), "no valid VMCOREINFO note at any %s of %s",
		 page_starts ? "page start" : "probed address", what);
	return fail_with(out, VF_ERR_NOT_FOUND, head, counts, "give the note's region "
			 "(--region ADDR,SIZE from the guest's /sys/kernel/vmcoreinfo, or "
			 "--fw-cfg); if the dump skipped pages, the note may be in one of them; "
			 "an older kernel's note may not start a page", false);
}

/* "0x1364000 (OSRELEASE 6.1.0, 3000 bytes of text), 0x..." for the valid
 * notes of distinct texts, malloc'd. */
static char *list_valid(const struct vf_scan_result *out)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	if (!f)
		return NULL;
	const char *sep = "";
	const uint8_t *listed[VF_SCAN_MAX_DISTINCT];
	size_t nlisted = 0;
	for (size_t i = 0; i < out->ncandidates; i++) {
		const struct vf_scan_candidate *c = &out->cands[i];
		bool seen = !c->text;
		for (size_t k = 0; k < nlisted && !seen; k++)
			seen = listed[k] == c->text;
		if (c->kind != VF_SCAN_NOTE || !c->valid || seen)
			continue;
		listed[nlisted++] = c->text;
		fprintf(f, "%s0x%" PRIx64 " (OSRELEASE %s, %" PRIu32 " bytes of text)", sep,
			c->paddr, c->osrelease[0] ? c->osrelease : "?", c->text_len);
		sep = ", ";
	}
	if (out->ndistinct > nlisted)
		fprintf(f, "%sand %zu more", sep, out->ndistinct - nlisted);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

static struct vf_error *notes_differ(struct vf_scan_result *out, const char *what,
				     const char *counts)
{
	char *list = list_valid(out);
	char *head = NULL;
	if (!list || asprintf(&head, "%zu VMCOREINFO notes with different texts in %s: %s",
			      out->ndistinct, what, list) < 0) {
		free(list);
		return &vf_error_nomem;
	}
	free(list);
	struct vf_error *err = fail_with(out, VF_ERR_REFUSED, head, counts, "guest memory "
					 "holds more than one kernel's note (a kexec'd or "
					 "rebooted guest), or a forged one: give the running "
					 "kernel's with --region-file (its /sys/kernel/vmcoreinfo), "
					 "--fw-cfg or --saved-state", false);
	free(head);
	return err;
}

static struct vf_error *unchecked(struct vf_scan_result *out, const char *what,
				  const char *counts)
{
	char head[300];
	snprintf(head, sizeof(head), "the scan of %s cannot choose a VMCOREINFO note: %s", what,
		 out->notes_unchecked ? "more note-like candidates than it checks" :
		 "a note-like candidate could not be read whole");
	return fail_with(out, VF_ERR_REFUSED, head, counts, evidence_hint, true);
}

static struct vf_error *found_note(struct vf_scan_result *out,
				   const struct vf_scan_candidate *best, const char *what,
				   const char *counts)
{
	out->found = true;
	out->region = (struct vf_region){ best->paddr, best->size, VF_REGION_SCAN };
	char head[400];
	if (out->notes_valid == 1)
		snprintf(head, sizeof(head), "one valid VMCOREINFO note in %s, at 0x%" PRIx64
			 " (OSRELEASE %s)%s", what, best->paddr, best->osrelease,
			 best->corroborated ? ", its text also on a page of its own" : "");
	else
		snprintf(head, sizeof(head), "%zu identical VMCOREINFO notes in %s; chose the "
			 "lowest address, 0x%" PRIx64 " (OSRELEASE %s)%s", out->notes_valid, what,
			 best->paddr, best->osrelease,
			 best->corroborated ? ", its text also on a page of its own" : "");
	char *t = tally(out);
	if (!t || asprintf(&out->why, "%s; %s; %s", head, t, counts) < 0) {
		free(t);
		out->why = NULL;
		return &vf_error_nomem;
	}
	free(t);
	return NULL;
}

struct vf_error *vf_scan_for_note(struct vf_mem *mem, const struct vf_scan_opts *o,
				  struct vf_scan_result *out)
{
	memset(out, 0, sizeof(*out));
	uint64_t page_size = 0, step = 0;
	struct vf_error *err = check_opts(mem, o, &page_size, &step);
	if (err)
		return err;
	for (size_t i = 0; i < mem->nranges; i++)
		out->pages_total += range_probes(&mem->ranges[i], step);
	err = read_probes(mem, o, page_size, step, out);
	if (err)
		return err;

	const struct vf_scan_candidate *best = NULL;
	err = validate_notes(mem, o, page_size, out, &best);
	bool decided = out->ndistinct == 1 && !out->notes_unchecked && !out->notes_unreadable;
	if (!err && decided)
		err = corroborate(mem, out, best);
	if (err)
		return err;

	const char *what = mem->name ? mem->name : "guest memory";
	char counts[160];
	snprintf(counts, sizeof(counts), "%" PRIu64 " pages checked, %" PRIu64 " skipped (not "
		 "present or excluded)", out->pages_checked, out->pages_skipped);
	if (out->ndistinct > 1)
		return notes_differ(out, what, counts);
	if (out->notes_unchecked || out->notes_unreadable)
		return unchecked(out, what, counts);
	if (!best)
		return no_valid_note(out, what, counts, step == page_size);
	return found_note(out, best, what, counts);
}

void vf_scan_result_deinit(struct vf_scan_result *r)
{
	for (size_t i = 0; i < r->ncandidates; i++)
		free(r->cands[i].why_invalid);
	for (size_t k = 0; k < VF_SCAN_MAX_DISTINCT; k++)
		free(r->texts[k]);
	free(r->cands);
	free(r->why);
	memset(r, 0, sizeof(*r));
}
