/* scan.h - find the guest kernel's VMCOREINFO note in guest memory when
 * nothing says where it is.
 *
 * The kernel keeps the note (header namesz 11, descsz, type 0, name
 * "VMCOREINFO\0" padded to 12, then the text "OSRELEASE=...\n...") in a
 * page-aligned buffer (vmcoreinfo_note), and the text alone in another
 * page-aligned buffer (vmcoreinfo_data).  The scan reads the first bytes of
 * every page of every range of a struct vf_mem and keeps:
 *   - NOTE candidates: a note header with namesz 11, type 0, descsz below
 *     1 MiB, name "VMCOREINFO\0" and a text starting "OSRELEASE=".  Each is
 *     validated with vf_guest_note_read() (QEMU's rules: name, OSRELEASE,
 *     PAGESIZE equal to the page size) and must name SYMBOL(swapper_pg_dir) or
 *     SYMBOL(init_top_pgt).
 *   - TEXT candidates: a page starting "OSRELEASE=".  Evidence, not a note:
 *     reported, and a TEXT page whose bytes equal a valid note's text
 *     corroborates that note.
 * Pages the memory does not hold (not present, excluded) are skipped and
 * counted; any other read error stops the scan.
 *
 * Reads: one small read per page (O(pages) reads, no big buffers), or, when
 * the memory says big reads are cheap (mem->bulk_reads_cheap: ELF, raw RAM),
 * one read per 2 MiB of probes into one reused buffer; a chunk whose read
 * fails is probed again page by page, so both ways give the same result.
 *
 * Every candidate is counted; at most VF_SCAN_MAX_NOTES note candidates and
 * VF_SCAN_MAX_TEXTS text pages (the lowest) are kept and checked, and at most
 * VF_SCAN_MAX_DISTINCT distinct valid texts are kept (memory: a few MiB at
 * most, whatever the guest put in its pages).  Any guest process can fill
 * pages with note-like bytes, so the scan never chooses past what it could
 * not check: the choice is one valid note, or several with identical texts
 * (the lowest address wins, and `why` says so), and only when every note
 * candidate was checked.  VF_ERR_REFUSED (naming the counts and the
 * evidence to give instead: --region-file, --fw-cfg, --saved-state) when
 * valid notes have different texts (a previous kernel's note left in
 * memory, kexec, or a forged one), when there were more note candidates than
 * VF_SCAN_MAX_NOTES, or when a candidate could not be read whole (a page of
 * it not in the memory, or damaged).  No valid note: VF_ERR_NOT_FOUND.
 * Text pages never decide: past VF_SCAN_MAX_TEXTS they are only counted.
 */
#ifndef VF_SCAN_H
#define VF_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "util/mem.h"
#include "guest/region.h"

/* Limits (vmcore-fix(1), LIMITS).  Note candidates validated at most: each
 * validation reads the note (its text below 1 MiB), so at most 64 MiB are read
 * for them; more candidates are counted and make the scan refuse. */
#define VF_SCAN_MAX_NOTES 64
/* Text pages kept (reported, and compared with the note found) at most; more
 * are counted only: they are evidence, never a note. */
#define VF_SCAN_MAX_TEXTS 64
/* Distinct valid note texts kept at most (two already refuse the scan); more
 * are counted. */
#define VF_SCAN_MAX_DISTINCT 4

struct vf_scan_opts {
	uint64_t page_size;   /* the kernel's page size, where notes and text pages
			       * start (4096 when it is not known: the smallest);
			       * 0: mem->page_size */
	uint64_t note_page_limit; /* a note's PAGESIZE must divide it (the dump's
				   * page: vf_dump_note_page_limit); 0: page_size */
	uint64_t step;        /* probe every `step` bytes; 0: the page size.  A smaller
			       * step (a multiple of 4 dividing the page size) also finds
			       * notes that do not start a page (older kernels' static
			       * vmcoreinfo_note), at one read per step.  Text
			       * candidates are looked for at page starts only. */
	bool big_endian;      /* byte order of the guest */
	void (*progress)(void *arg, uint64_t done, uint64_t total);  /* or NULL */
	void *progress_arg;
};

enum vf_scan_kind {
	VF_SCAN_NOTE,   /* a VMCOREINFO note header */
	VF_SCAN_TEXT,   /* a page starting "OSRELEASE=" */
};

struct vf_scan_candidate {
	enum vf_scan_kind kind;
	uint64_t paddr;
	uint64_t size;         /* NOTE: bytes of the note (header, name, padded text); TEXT: 0 */
	bool valid;            /* NOTE: passed every rule */
	bool unreadable;       /* NOTE: could not be read whole (a page missing, damaged) */
	char *why_invalid;     /* NOTE, not valid: the rule it failed, or why it could not
				* be read (owned); else NULL */
	char osrelease[65];    /* the OSRELEASE value ("" if not seen; truncated at 64) */
	bool corroborated;     /* NOTE: a TEXT page holds its text; TEXT: equals a valid note's text */
	const uint8_t *text;   /* valid NOTE: its text (one of the result's distinct
				* texts), NULL past VF_SCAN_MAX_DISTINCT */
	uint32_t text_len;
};

struct vf_scan_result {
	bool found;
	struct vf_region region;            /* when found: origin VF_REGION_SCAN */
	size_t ncandidates;
	struct vf_scan_candidate *cands;    /* by address (owned) */
	size_t ndropped;                    /* candidates counted but not kept (past the caps) */
	/* every candidate, counted */
	size_t notes_seen;                  /* note candidates */
	size_t notes_valid, notes_invalid;  /* checked: passed every rule / failed one */
	size_t notes_unreadable;            /* could not be read whole */
	size_t notes_unchecked;             /* past VF_SCAN_MAX_NOTES */
	size_t texts_seen;                  /* text pages */
	size_t ndistinct;                   /* distinct texts among the valid notes */
	uint8_t *texts[VF_SCAN_MAX_DISTINCT];  /* the first distinct texts (owned) */
	uint32_t text_lens[VF_SCAN_MAX_DISTINCT];
	uint64_t pages_total;               /* probes planned (pages when step = page size) */
	uint64_t pages_checked;             /* probes read */
	uint64_t pages_skipped;             /* probes not present or excluded */
	char *why;                          /* how the choice was made, or why none was (owned) */
};

/* Scan mem.  NULL: found, out->region is the note.  VF_ERR_NOT_FOUND (no
 * valid note) and VF_ERR_REFUSED (different notes, or candidates that could
 * not be checked) still leave the
 * candidates and counts in *out for a report; other errors (I/O, corrupt,
 * bad options) leave it partial.  Always call vf_scan_result_deinit(). */
struct vf_error *vf_scan_for_note(struct vf_mem *mem, const struct vf_scan_opts *o,
				  struct vf_scan_result *out) VF_MUST_CHECK;
void vf_scan_result_deinit(struct vf_scan_result *r);

#endif
