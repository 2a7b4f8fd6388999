/* test_scan.c - finding the guest's VMCOREINFO note by scanning guest memory. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"
#include "util/notes.h"
#include "guest/scan.h"
#include "tap.h"

#define PS 4096
#define NPAGES 64
#define MAXPAGES 1280       /* 5 MiB: more than two of the scan's 2 MiB bulk chunks */

enum page_state { OK, EXCL, MISSING, BROKEN };

/* A fake guest memory over a malloc'd buffer; pages can be excluded, missing or broken. */
struct fake {
	uint8_t *buf;
	size_t npages;
	enum page_state state[MAXPAGES];
	size_t nreads;     /* reads issued */
	size_t maxlen;     /* longest read */
	struct vf_mem_range ranges[2];
	struct vf_mem mem;
};

static struct vf_error *fake_read(void *ctx, uint64_t paddr, void *out, size_t len)
{
	struct fake *f = ctx;
	f->nreads++;
	if (len > f->maxlen)
		f->maxlen = len;
	if (paddr >= (uint64_t)f->npages * PS || len > (uint64_t)f->npages * PS - paddr)
		return vf_error_paddr(VF_ERR_NOT_PRESENT, paddr, "not in this dump");
	for (uint64_t p = paddr / PS; p <= (paddr + len - 1) / PS && len; p++) {
		if (f->state[p] == EXCL)
			return vf_error_paddr(VF_ERR_EXCLUDED, p * PS, "excluded");
		if (f->state[p] == MISSING)
			return vf_error_paddr(VF_ERR_NOT_PRESENT, p * PS, "not present");
		if (f->state[p] == BROKEN)
			return vf_error_paddr(VF_ERR_CORRUPT, p * PS, "bad compressed page");
	}
	memcpy(out, f->buf + paddr, len);
	return NULL;
}

static const struct vf_mem_ops fake_ops = { .read = fake_read };

/* A source that knows which pages hold data: pages [skip_from, skip_to) are
 * a hole; reads there fail the test (a walk must not read them). */
static uint64_t skip_from, skip_to;
static bool read_in_hole;

static struct vf_error *hole_read(void *ctx, uint64_t paddr, void *out, size_t len)
{
	if (paddr < skip_to * PS && paddr + len > skip_from * PS)
		read_in_hole = true;
	return fake_read(ctx, paddr, out, len);
}

static uint64_t hole_next_data(void *ctx, uint64_t paddr, uint64_t *data_end)
{
	struct fake *f = ctx;
	*data_end = paddr < skip_from * PS ? skip_from * PS : UINT64_MAX;
	if (paddr >= (uint64_t)f->npages * PS)
		return UINT64_MAX;
	if (paddr >= skip_from * PS && paddr < skip_to * PS)
		return skip_to >= f->npages ? UINT64_MAX : skip_to * PS;
	return paddr;
}

static const struct vf_mem_ops hole_ops = { .read = hole_read, .next_data = hole_next_data };

static void fake_init_n(struct fake *f, size_t npages)
{
	memset(f, 0, sizeof(*f));
	f->npages = npages;
	f->buf = calloc(npages, PS);
	if (!f->buf)
		exit(99);
	/* non-zero filler so nothing is found by accident in zeros */
	for (size_t i = 0; i < npages * PS; i++)
		f->buf[i] = (uint8_t)(i * 7 + 3);
	f->ranges[0] = (struct vf_mem_range){ 0, (uint64_t)npages * PS };
	f->mem = (struct vf_mem){ &fake_ops, f, "fake dump", f->ranges, 1, PS, false };
}

static void fake_init(struct fake *f)
{
	fake_init_n(f, NPAGES);
}

static void fake_fini(struct fake *f)
{
	free(f->buf);
}

static const char T1[] = "OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\n"
	"SYMBOL(swapper_pg_dir)=ffffffff9a810000\nKERNELOFFSET=17e00000\n";
static const char T2[] = "OSRELEASE=6.1.0-99-amd64\nPAGESIZE=4096\n"
	"SYMBOL(init_top_pgt)=ffffffff9a810000\nKERNELOFFSET=2a000000\n";

static uint64_t put_note(struct fake *f, uint64_t at, bool be, const char *name, const char *text)
{
	return vf_note_encode(f->buf + at, be, name, 0, text, (uint32_t)strlen(text));
}

static void put_text(struct fake *f, uint64_t at, const char *text)
{
	memcpy(f->buf + at, text, strlen(text) + 1);
}

static const struct vf_scan_candidate *cand_at(const struct vf_scan_result *r, uint64_t paddr)
{
	for (size_t i = 0; i < r->ncandidates; i++)
		if (r->cands[i].paddr == paddr)
			return &r->cands[i];
	return NULL;
}

static size_t count_kind(const struct vf_scan_result *r, enum vf_scan_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < r->ncandidates; i++)
		n += r->cands[i].kind == k;
	return n;
}

static void progress(void *arg, uint64_t done, uint64_t total)
{
	uint64_t *last = arg;
	if (done <= total)
		last[0] = done;
	last[1]++;
}

/* Scan f per page and in bulk; true if both give the same result (error code and
 * message, candidates, counts, why).  *bulk_reads and *bulk_maxlen: the bulk scan's. */
static bool same_both_ways(struct fake *f, const struct vf_scan_opts *o, int *code,
			   size_t *bulk_reads, size_t *bulk_maxlen)
{
	struct vf_scan_result r[2];
	struct vf_error *e[2];
	for (int b = 0; b < 2; b++) {
		f->mem.bulk_reads_cheap = b == 1;
		size_t n0 = f->nreads;
		f->maxlen = 0;
		e[b] = vf_scan_for_note(&f->mem, o, &r[b]);
		if (b == 1) {
			*bulk_reads = f->nreads - n0;
			*bulk_maxlen = f->maxlen;
		}
	}
	f->mem.bulk_reads_cheap = false;
	bool same = (!e[0] == !e[1]) && (!e[0] || (e[0]->code == e[1]->code &&
						   strcmp(e[0]->message, e[1]->message) == 0));
	*code = e[1] ? e[1]->code : 0;
	same = same && r[0].found == r[1].found && r[0].region.paddr == r[1].region.paddr &&
	       r[0].region.size == r[1].region.size && r[0].ncandidates == r[1].ncandidates &&
	       r[0].ndropped == r[1].ndropped && r[0].pages_total == r[1].pages_total &&
	       r[0].pages_checked == r[1].pages_checked &&
	       r[0].pages_skipped == r[1].pages_skipped &&
	       (!r[0].why == !r[1].why) && (!r[0].why || strcmp(r[0].why, r[1].why) == 0);
	for (size_t i = 0; same && i < r[0].ncandidates; i++) {
		const struct vf_scan_candidate *a = &r[0].cands[i], *c = &r[1].cands[i];
		same = a->kind == c->kind && a->paddr == c->paddr && a->size == c->size &&
		       a->valid == c->valid && a->corroborated == c->corroborated &&
		       strcmp(a->osrelease, c->osrelease) == 0 && a->text_len == c->text_len;
	}
	if (!same)
		printf("#   per page: %s / bulk: %s\n", e[0] ? e[0]->message : (r[0].why ? r[0].why : ""),
		       e[1] ? e[1]->message : (r[1].why ? r[1].why : ""));
	for (int b = 0; b < 2; b++) {
		vf_error_destroy(e[b]);
		vf_scan_result_deinit(&r[b]);
	}
	return same;
}

int main(void)
{
	struct fake f;
	struct vf_scan_result r;
	struct vf_scan_opts o = { 0 };
	struct vf_error *err;

	/* ---- nothing there: one small read per page, NOT_FOUND with the counts */
	fake_init(&f);
	err = vf_scan_for_note(&f.mem, &o, &r);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND && err->hint &&
	       strstr(err->message, "64 pages checked, 0 skipped"),
	       "empty memory: not found, with the pages checked");
	TAP_EQ_U64(f.nreads, NPAGES, "one read per page");
	TAP_OK(f.maxlen <= 64, "each read is small (%zu bytes)", f.maxlen);
	TAP_OK(!r.found && r.ncandidates == 0 && r.pages_total == NPAGES, "no candidates");
	vf_error_destroy(err);
	vf_scan_result_deinit(&r);
	fake_fini(&f);

	/* ---- the note among decoys */
	fake_init(&f);
	uint64_t nsz = put_note(&f, 5 * PS, false, "VMCOREINFO", T1);
	put_note(&f, 7 * PS, false, "VMCOREINFO", T1);
	f.buf[7 * PS] = 10;                                 /* namesz 10 */
	put_note(&f, 8 * PS, false, "VMCOREINFX", T1);      /* wrong name */
	put_note(&f, 9 * PS, false, "VMCOREINFO", "PAGESIZE=4096\nOSRELEASE=6.1\n");
	put_note(&f, 10 * PS + 0x100, false, "VMCOREINFO", T1);  /* not at a page start */
	put_text(&f, 11 * PS, T1);                          /* the kernel's text page */
	put_text(&f, 12 * PS, "OSRELEASE=5.10.0\nPAGESIZE=4096\n");  /* some other text */
	put_note(&f, 13 * PS, false, "VMCOREINFO", T2);     /* excluded: never seen */
	f.state[13] = EXCL;
	f.state[14] = MISSING;
	put_note(&f, 15 * PS, false, "VMCOREINFO", "OSRELEASE=6.1\nPAGESIZE=4096\n");
	put_note(&f, 16 * PS, false, "VMCOREINFO",
		 "OSRELEASE=6.1-64k\nPAGESIZE=65536\nSYMBOL(swapper_pg_dir)=ffff000001\n");
	put_note(&f, 17 * PS, false, "VMCOREINFO", T1);
	f.buf[17 * PS + 8] = 1;                             /* type 1 */
	uint64_t prog[2] = { 0, 0 };
	o.progress = progress;
	o.progress_arg = prog;
	err = vf_scan_for_note(&f.mem, &o, &r);
	o.progress = NULL;
	TAP_OK(!err && r.found, "the note is found among decoys");
	TAP_EQ_U64(r.region.paddr, 5 * PS, "at its page");
	TAP_EQ_U64(r.region.size, nsz, "with the note's size (header, name, padded text)");
	TAP_OK(r.region.origin == VF_REGION_SCAN &&
	       strcmp(vf_region_origin_name(r.region.origin), "scan of guest memory") == 0,
	       "origin: scan");
	TAP_EQ_U64(r.pages_checked, NPAGES - 2, "pages checked");
	TAP_EQ_U64(r.pages_skipped, 2, "the excluded and the missing page are skipped");
	TAP_OK(prog[0] == NPAGES && prog[1] >= 1, "progress ends at the total");
	TAP_EQ_U64(count_kind(&r, VF_SCAN_NOTE), 3, "three note candidates (5, 15, 16)");
	TAP_EQ_U64(count_kind(&r, VF_SCAN_TEXT), 2, "two text pages");
	const struct vf_scan_candidate *c = cand_at(&r, 5 * PS);
	TAP_OK(c && c->valid && c->corroborated && strcmp(c->osrelease, "6.1.0-56-amd64") == 0 &&
	       c->text_len == strlen(T1), "the note: valid, corroborated by the text page");
	TAP_OK(!cand_at(&r, 7 * PS) && !cand_at(&r, 8 * PS) && !cand_at(&r, 9 * PS) &&
	       !cand_at(&r, 17 * PS), "decoys (namesz 10, VMCOREINFX, no OSRELEASE, type 1) are not candidates");
	TAP_OK(!cand_at(&r, 10 * PS + 0x100), "a note not at a page start is not found by default");
	c = cand_at(&r, 11 * PS);
	TAP_OK(c && c->kind == VF_SCAN_TEXT && c->corroborated &&
	       strcmp(c->osrelease, "6.1.0-56-amd64") == 0, "the text page equals the note's text");
	c = cand_at(&r, 12 * PS);
	TAP_OK(c && c->kind == VF_SCAN_TEXT && !c->corroborated &&
	       strcmp(c->osrelease, "5.10.0") == 0, "another text page is reported, not corroborating");
	c = cand_at(&r, 15 * PS);
	TAP_OK(c && !c->valid && c->why_invalid && strstr(c->why_invalid, "swapper_pg_dir"),
	       "a note without the page-table symbol is refused, saying why");
	c = cand_at(&r, 16 * PS);
	TAP_OK(c && !c->valid && c->why_invalid && strstr(c->why_invalid, "PAGESIZE=65536"),
	       "a note with another page size is refused, saying why");
	TAP_OK(r.why && strstr(r.why, "one valid") && strstr(r.why, "0x5000") &&
	       strstr(r.why, "its text also"), "why: one note, corroborated");
	vf_scan_result_deinit(&r);

	/* a smaller step finds the note that does not start a page: identical text, lowest wins */
	o.step = 0x100;
	size_t reads0 = f.nreads;
	err = vf_scan_for_note(&f.mem, &o, &r);
	TAP_OK(!err && r.found && r.region.paddr == 5 * PS && cand_at(&r, 10 * PS + 0x100) &&
	       cand_at(&r, 10 * PS + 0x100)->valid, "step 0x100: the unaligned note is found too");
	TAP_EQ_U64(r.pages_total, NPAGES * (PS / 0x100), "step 0x100: 16 probes per page");
	TAP_OK(f.nreads - reads0 >= r.pages_total, "one read per probe");
	TAP_OK(r.why && strstr(r.why, "2 identical") && strstr(r.why, "lowest"),
	       "why: identical notes, the lowest address");
	vf_error_destroy(err);
	vf_scan_result_deinit(&r);
	o.step = 4;
	err = vf_scan_for_note(&f.mem, &o, &r);
	TAP_OK(!err && count_kind(&r, VF_SCAN_TEXT) == 2,
	       "step 4: a note's own text is not reported as a text page");
	vf_error_destroy(err);
	vf_scan_result_deinit(&r);
	/* a note whose text starts the next page: that page is the note's, not a text page */
	put_note(&f, 22 * PS - 24, false, "VMCOREINFO", T1);
	err = vf_scan_for_note(&f.mem, &o, &r);
	TAP_OK(!err && cand_at(&r, 22 * PS - 24) && !cand_at(&r, 22 * PS) &&
	       count_kind(&r, VF_SCAN_TEXT) == 2,
	       "step 4: a note's text at a page start is not also a text page");
	vf_error_destroy(err);
	vf_scan_result_deinit(&r);
	o.step = 6;
	err = vf_scan_for_note(&f.mem, &o, &r);
	TAP_OK(err && err->code == VF_ERR_INVALID && strstr(err->message, "step 6"),
	       "a step not a multiple of 4 is refused");
	vf_error_destroy(err);
	vf_scan_result_deinit(&r);
	o.step = 0;
	o.page_size = 65536;
	err = vf_scan_for_note(&f.mem, &o, &r);
	TAP_OK(!err && r.found && r.region.paddr == 16 * PS && r.pages_total == NPAGES / 16 &&
	       strcmp(r.cands[0].osrelease, "6.1-64k") == 0,
	       "with a 64K page size: 64K page starts only, and the 64K kernel's note is valid");
	vf_error_destroy(err);
	vf_scan_result_deinit(&r);
	o.page_size = 0;
	fake_fini(&f);

	/* ---- two identical notes: the lowest address */
	fake_init(&f);
	put_note(&f, 20 * PS, false, "VMCOREINFO", T1);
	put_note(&f, 3 * PS, false, "VMCOREINFO", T1);
	err = vf_scan_for_note(&f.mem, &o, &r);
	TAP_OK(!err && r.found && r.region.paddr == 3 * PS && count_kind(&r, VF_SCAN_NOTE) == 2,
	       "two identical notes: the lower address is chosen");
	TAP_OK(r.why && strstr(r.why, "2 identical") && strstr(r.why, "0x3000"), "why says so");
	vf_error_destroy(err);
	vf_scan_result_deinit(&r);
	fake_fini(&f);

	/* ---- two different notes: refused */
	fake_init(&f);
	put_note(&f, 3 * PS, false, "VMCOREINFO", T1);
	put_note(&f, 20 * PS, false, "VMCOREINFO", T2);
	err = vf_scan_for_note(&f.mem, &o, &r);
	TAP_OK(err && err->code == VF_ERR_REFUSED && strstr(err->message, "0x3000 (OSRELEASE 6.1.0-56-amd64") &&
	       strstr(err->message, "0x14000 (OSRELEASE 6.1.0-99-amd64") && err->hint &&
	       strstr(err->hint, "--region"), "two different notes: refused, listing both, hint --region");
	if (err)
		printf("#   %s\n", err->message);
	TAP_OK(!r.found && count_kind(&r, VF_SCAN_NOTE) == 2, "the candidates are still reported");
	vf_error_destroy(err);
	vf_scan_result_deinit(&r);
	fake_fini(&f);

	/* ---- a text page alone is evidence, not a note */
	fake_init(&f);
	put_text(&f, 4 * PS, T1);
	err = vf_scan_for_note(&f.mem, &o, &r);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND && strstr(err->message, "1 text pages") &&
	       r.ncandidates == 1 && r.cands[0].kind == VF_SCAN_TEXT && !r.cands[0].corroborated &&
	       r.cands[0].paddr == 4 * PS, "a text-only page is reported but not taken for a note");
	vf_error_destroy(err);
	vf_scan_result_deinit(&r);
	fake_fini(&f);

	/* ---- the only note in an excluded page; a note running into a missing page */
	fake_init(&f);
	put_note(&f, 6 * PS, false, "VMCOREINFO", T1);
	f.state[6] = EXCL;
	put_note(&f, 9 * PS - 0x0, false, "VMCOREINFO", T1);
	vf_store_uint(f.buf + 9 * PS + 4, 4, false, PS + 16);  /* descsz runs into page 10 */
	f.state[10] = MISSING;
	err = vf_scan_for_note(&f.mem, &o, &r);
	TAP_OK(err && err->code == VF_ERR_REFUSED && r.pages_skipped == 2 &&
	       strstr(err->message, "1 not readable whole") &&
	       strstr(err->message, "the first unreadable") &&
	       strstr(err->message, "not present") && err->hint &&
	       strstr(err->hint, "--region-file") && strstr(err->hint, "--saved-state"),
	       "excluded note page skipped; a note running into a missing page: the scan "
	       "refuses to choose, saying why");
	if (err)
		printf("#   %s\n", err->message);
	vf_error_destroy(err);
	vf_scan_result_deinit(&r);
	fake_fini(&f);

	/* ---- decoys cannot steer the scan (issue 12): every note candidate is
	 * checked or counted, text pages never push a note out */
	{
		static const char FORGED[] = "OSRELEASE=6.6.6-evil\nPAGESIZE=4096\n"
			"SYMBOL(swapper_pg_dir)=ffffffff9a810000\n";
		fake_init_n(&f, 400);
		for (int i = 0; i < 63; i++)
			put_text(&f, (uint64_t)(10 + i) * PS, "OSRELEASE=6.6.6-evil\n");
		put_note(&f, 100 * PS, false, "VMCOREINFO", FORGED);
		put_note(&f, 200 * PS, false, "VMCOREINFO", T1);
		err = vf_scan_for_note(&f.mem, &o, &r);
		TAP_OK(err && err->code == VF_ERR_REFUSED && !r.found &&
		       strstr(err->message, "2 VMCOREINFO notes with different texts") &&
		       strstr(err->message, "0x64000 (OSRELEASE 6.6.6-evil") &&
		       strstr(err->message, "0xc8000 (OSRELEASE 6.1.0-56-amd64") &&
		       strstr(err->message, "63 text pages"),
		       "63 text pages and a forged note below the real one: refused, both listed");
		vf_error_destroy(err);
		vf_scan_result_deinit(&r);
		/* many more text pages than are kept: the real note alone is still found */
		memset(f.buf + 100 * PS, 0x55, 24);
		for (int i = 0; i < 150; i++)
			put_text(&f, (uint64_t)(210 + i) * PS, "OSRELEASE=6.6.6-evil\n");
		err = vf_scan_for_note(&f.mem, &o, &r);
		TAP_OK(!err && r.found && r.region.paddr == 200 * PS && r.texts_seen == 213 &&
		       count_kind(&r, VF_SCAN_TEXT) == VF_SCAN_MAX_TEXTS &&
		       r.ndropped == 213 - VF_SCAN_MAX_TEXTS && r.notes_seen == 1,
		       "213 decoy text pages: the real note is found, the pages counted (%s)",
		       err ? err->message : r.why);
		TAP_OK(r.why && strstr(r.why, "213 text pages"), "why counts the text pages");
		vf_error_destroy(err);
		vf_scan_result_deinit(&r);
		/* invalid note-like decoys: checked and refused by the rules, up to the cap */
		for (int i = 0; i < VF_SCAN_MAX_NOTES - 1; i++)
			put_note(&f, (uint64_t)(10 + i) * PS, false, "VMCOREINFO",
				 "OSRELEASE=6.6.6-evil\nPAGESIZE=4096\n");
		err = vf_scan_for_note(&f.mem, &o, &r);
		TAP_OK(!err && r.found && r.region.paddr == 200 * PS &&
		       r.notes_invalid == VF_SCAN_MAX_NOTES - 1 && r.notes_valid == 1,
		       "%d invalid note-like decoys and the real note: found",
		       VF_SCAN_MAX_NOTES - 1);
		vf_error_destroy(err);
		vf_scan_result_deinit(&r);
		put_note(&f, (uint64_t)(10 + VF_SCAN_MAX_NOTES - 1) * PS, false, "VMCOREINFO",
			 "OSRELEASE=6.6.6-evil\nPAGESIZE=4096\n");
		err = vf_scan_for_note(&f.mem, &o, &r);
		TAP_OK(err && err->code == VF_ERR_REFUSED && !r.found && r.notes_unchecked == 1 &&
		       r.notes_seen == VF_SCAN_MAX_NOTES + 1 &&
		       strstr(err->message, "more note-like candidates than it checks") &&
		       strstr(err->message, "1 past the limit of 64 checked") && err->hint &&
		       strstr(err->hint, "--region-file") && strstr(err->hint, "--fw-cfg") &&
		       strstr(err->hint, "--saved-state"),
		       "one note-like candidate more than the cap: refused, saying what to give");
		if (err)
			printf("#   %s\n", err->message);
		vf_error_destroy(err);
		vf_scan_result_deinit(&r);
		/* identical copies of a valid note are one text: memory for one */
		for (int i = 0; i < 40; i++)
			put_note(&f, (uint64_t)(10 + i) * PS, false, "VMCOREINFO", T1);
		for (int i = 40; i < VF_SCAN_MAX_NOTES; i++)
			memset(f.buf + (uint64_t)(10 + i) * PS, 0x55, 24);
		err = vf_scan_for_note(&f.mem, &o, &r);
		TAP_OK(!err && r.found && r.region.paddr == 10 * PS && r.notes_valid == 41 &&
		       r.ndistinct == 1 && r.texts[1] == NULL,
		       "41 identical notes: one distinct text kept, the lowest chosen");
		vf_error_destroy(err);
		vf_scan_result_deinit(&r);
		/* many distinct forged notes: refused, the first few listed, the rest counted */
		for (int i = 0; i < 8; i++) {
			char t[128];
			snprintf(t, sizeof(t), "OSRELEASE=6.6.%d\nPAGESIZE=4096\n"
				 "SYMBOL(swapper_pg_dir)=ffffffff9a810000\n", i);
			put_note(&f, (uint64_t)(300 + i) * PS, false, "VMCOREINFO", t);
		}
		err = vf_scan_for_note(&f.mem, &o, &r);
		TAP_OK(err && err->code == VF_ERR_REFUSED && r.ndistinct == 9 &&
		       strstr(err->message, "9 VMCOREINFO notes with different texts") &&
		       strstr(err->message, "and 5 more"),
		       "9 distinct notes: refused, 4 listed and 5 more counted");
		vf_error_destroy(err);
		vf_scan_result_deinit(&r);
		fake_fini(&f);
	}

	/* ---- any other read error stops the scan */
	fake_init(&f);
	f.state[30] = BROKEN;
	put_note(&f, 40 * PS, false, "VMCOREINFO", T1);
	err = vf_scan_for_note(&f.mem, &o, &r);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->offset == 30 * PS &&
	       strstr(err->message, "scanning fake dump"), "a corrupt page fails the scan");
	vf_error_destroy(err);
	vf_scan_result_deinit(&r);
	fake_fini(&f);

	/* ---- big-endian guests; ranges that do not start at a page */
	fake_init(&f);
	put_note(&f, 8 * PS, true, "VMCOREINFO", T1);
	o.big_endian = true;
	err = vf_scan_for_note(&f.mem, &o, &r);
	TAP_OK(!err && r.found && r.region.paddr == 8 * PS, "a big-endian note, read big-endian");
	vf_error_destroy(err);
	vf_scan_result_deinit(&r);
	o.big_endian = false;
	err = vf_scan_for_note(&f.mem, &o, &r);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND, "the big-endian note is not a little-endian one");
	vf_error_destroy(err);
	vf_scan_result_deinit(&r);
	o.big_endian = true;
	f.ranges[0] = (struct vf_mem_range){ 0x800, 8 * PS - 0x800 + 100 };
	f.ranges[1] = (struct vf_mem_range){ 20 * PS, PS };
	f.mem.nranges = 2;
	err = vf_scan_for_note(&f.mem, &o, &r);
	TAP_OK(!err && r.found && r.region.paddr == 8 * PS, "a range ending 100 bytes into the note's page");
	TAP_EQ_U64(r.pages_total, 8 + 1, "page starts: 0x1000..0x8000 and 0x14000");
	vf_error_destroy(err);
	vf_scan_result_deinit(&r);
	fake_fini(&f);
	/* ---- bulk reads (mem->bulk_reads_cheap): the same results as small reads */
	{
		size_t nr, ml;
		int code;
		const uint64_t CH = 2u << 20;   /* scan.c's chunk: 512 pages */
		o.big_endian = false;
		fake_init_n(&f, MAXPAGES);
		f.mem.bulk_reads_cheap = true;
		err = vf_scan_for_note(&f.mem, &o, &r);
		TAP_OK(err && err->code == VF_ERR_NOT_FOUND && r.pages_checked == MAXPAGES,
		       "bulk: empty memory, every page checked");
		TAP_OK(f.nreads == 3 && f.maxlen > 1024 * 1024, "bulk: 3 reads for 5 MiB (%zu, "
		       "longest %zu bytes)", f.nreads, f.maxlen);
		vf_error_destroy(err);
		vf_scan_result_deinit(&r);
		f.mem.bulk_reads_cheap = false;
		TAP_OK(same_both_ways(&f, &o, &code, &nr, &ml) && code == VF_ERR_NOT_FOUND,
		       "bulk = per page: empty memory");

		/* a note on the last page of the first chunk, its text running into the
		 * next chunk; text pages on both sides of the boundary */
		put_note(&f, CH - PS, false, "VMCOREINFO", T1);
		vf_store_uint(f.buf + CH - PS + 4, 4, false, PS + 200);  /* descsz past the page */
		memset(f.buf + CH - PS + 24 + strlen(T1), '\n', PS + 200 - strlen(T1));
		put_text(&f, CH + 7 * PS, T1);
		put_text(&f, 2 * CH - PS, "OSRELEASE=5.10.0\n");
		TAP_OK(same_both_ways(&f, &o, &code, &nr, &ml) && code == 0,
		       "bulk = per page: a note straddling a chunk boundary is found");
		err = vf_scan_for_note(&f.mem, &o, &r);   /* per page; bulk is the same */
		TAP_OK(!err && r.found && r.region.paddr == CH - PS && r.region.size > PS,
		       "the straddling note is the one found (0x%llx)",
		       (unsigned long long)r.region.paddr);
		vf_error_destroy(err);
		vf_scan_result_deinit(&r);

		/* step 4: a note header 24 bytes before a chunk boundary, its text after it;
		 * the probe reads past the chunk */
		put_note(&f, 3 * CH / 2, false, "VMCOREINFO", "no");   /* decoy, not a note */
		o.step = 4;
		memcpy(f.buf + CH - PS, "xxxx", 4);                      /* drop the page note */
		put_note(&f, 2 * CH - 24, false, "VMCOREINFO", T1);
		TAP_OK(same_both_ways(&f, &o, &code, &nr, &ml) && code == 0,
		       "bulk = per page, step 4: a probe across a chunk boundary");
		TAP_OK(ml <= CH + 64, "bulk: one chunk buffer (longest read %zu bytes)", ml);
		err = vf_scan_for_note(&f.mem, &o, &r);
		TAP_OK(!err && r.found && r.region.paddr == 2 * CH - 24,
		       "step 4: the note 24 bytes before the boundary is found");
		vf_error_destroy(err);
		vf_scan_result_deinit(&r);
		o.step = 0;

		/* skipped pages inside a chunk: that chunk is probed page by page */
		put_note(&f, 100 * PS, false, "VMCOREINFO", T1);
		f.state[3] = EXCL;
		f.state[CH / PS] = MISSING;        /* first page of the second chunk */
		f.state[MAXPAGES - 1] = MISSING;   /* last page */
		TAP_OK(same_both_ways(&f, &o, &code, &nr, &ml) && code == 0,
		       "bulk = per page: excluded and missing pages");
		f.mem.bulk_reads_cheap = true;
		err = vf_scan_for_note(&f.mem, &o, &r);
		TAP_OK(!err && r.found && r.region.paddr == 100 * PS && r.pages_skipped == 3 &&
		       r.pages_checked == MAXPAGES - 3, "bulk: 3 pages skipped, the rest checked");
		vf_error_destroy(err);
		vf_scan_result_deinit(&r);
		f.mem.bulk_reads_cheap = false;
		TAP_OK(nr < 3 + 2 * 512 + 256 + 20, "bulk: failed chunks fall back to small reads, "
		       "the others stay one read (%zu reads)", nr);

		/* a note in a page that falls back; a broken page still stops the scan */
		f.state[100] = MISSING;
		put_note(&f, CH + 100 * PS, false, "VMCOREINFO", T1);
		TAP_OK(same_both_ways(&f, &o, &code, &nr, &ml) && code == 0,
		       "bulk = per page: notes in a fallen-back chunk");
		f.state[CH / PS + 300] = BROKEN;
		TAP_OK(same_both_ways(&f, &o, &code, &nr, &ml) && code == VF_ERR_CORRUPT,
		       "bulk = per page: a corrupt page fails the scan the same way");
		f.state[CH / PS + 300] = OK;

		/* ranges not starting at a page, a range ending inside a probe; big-endian */
		f.ranges[0] = (struct vf_mem_range){ 0x800, CH + 5 * PS + 30 };
		f.ranges[1] = (struct vf_mem_range){ 2 * CH + 0x10, CH };
		f.mem.nranges = 2;
		TAP_OK(same_both_ways(&f, &o, &code, &nr, &ml), "bulk = per page: two odd ranges");
		o.big_endian = true;
		put_note(&f, 2 * CH + 9 * PS, true, "VMCOREINFO", T2);
		TAP_OK(same_both_ways(&f, &o, &code, &nr, &ml) && code == 0,
		       "bulk = per page: big-endian");
		o.big_endian = false;
		o.page_size = 65536;
		TAP_OK(same_both_ways(&f, &o, &code, &nr, &ml), "bulk = per page: 64K pages");
		o.page_size = 0;
		o.step = 0x100;
		TAP_OK(same_both_ways(&f, &o, &code, &nr, &ml), "bulk = per page: step 0x100");
		o.step = 0;
		fake_fini(&f);
	}
	{
		/* next_data: pages it steps over are not read and count as skipped */
		struct fake hf;
		struct vf_scan_opts ho = { .page_size = PS };
		struct vf_scan_result hr;
		fake_init(&hf);
		hf.mem.ops = &hole_ops;
		put_note(&hf, 30 * PS, false, "VMCOREINFO", T1);
		put_note(&hf, 10 * PS, false, "VMCOREINFO", T2);   /* in the hole: never seen */
		skip_from = 4;
		skip_to = 20;
		read_in_hole = false;
		struct vf_error *herr = vf_scan_for_note(&hf.mem, &ho, &hr);
		TAP_OK(!herr && hr.found && hr.region.paddr == 30 * PS, "next_data: the note past the hole");
		TAP_OK(hr.pages_skipped == 16 && hr.pages_checked == NPAGES - 16,
		       "next_data: the hole's 16 pages skipped, the rest checked");
		TAP_OK(!read_in_hole, "next_data: nothing read in the hole");
		vf_error_destroy(herr);
		vf_scan_result_deinit(&hr);
		hf.mem.bulk_reads_cheap = true;   /* the bulk path stops before the hole */
		read_in_hole = false;
		herr = vf_scan_for_note(&hf.mem, &ho, &hr);
		TAP_OK(!herr && hr.found && hr.region.paddr == 30 * PS && hr.pages_skipped == 16 &&
		       !read_in_hole, "next_data: bulk reads skip the hole too");
		vf_error_destroy(herr);
		vf_scan_result_deinit(&hr);
		fake_fini(&hf);
		fake_init(&hf);
		hf.mem.ops = &hole_ops;
		put_note(&hf, 2 * PS, false, "VMCOREINFO", T1);
		skip_from = 3;   /* nothing from page 3 on: the rest is skipped at once */
		skip_to = NPAGES;
		herr = vf_scan_for_note(&hf.mem, &ho, &hr);
		TAP_OK(!herr && hr.found && hr.pages_skipped == NPAGES - 3 && hr.pages_checked == 3,
		       "next_data: UINT64_MAX ends the walk");
		vf_error_destroy(herr);
		vf_scan_result_deinit(&hr);
		fake_fini(&hf);
	}
	return tap_done();
}
