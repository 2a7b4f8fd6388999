/* scanread - test tool: scan guest memory for the VMCOREINFO note (src/scan.c).
 *   scanread [--step N] DUMP
 *   scanread [--step N] --raw FILE LAYOUT     (raw guest RAM, src/rawmem.c)
 * Prints key=value lines: paddr, size, why, each candidate, pages checked and
 * skipped, seconds.  Exit: 0 found, 5 not found, 6 refused, 1 other error. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format/open.h"
#include "guest/rawmem.h"
#include "guest/scan.h"

static int fail(struct vf_error *err)
{
	char *s = vf_error_string(err);
	fprintf(stderr, "scanread: %s\n", s ? s : err->message);
	if (err->hint)
		fprintf(stderr, "scanread: hint: %s\n", err->hint);
	free(s);
	int rc = err->code == VF_ERR_NOT_FOUND ? 5 : err->code == VF_ERR_REFUSED ? 6 : 1;
	vf_error_destroy(err);
	return rc;
}

int main(int argc, char **argv)
{
	struct vf_scan_opts o = { 0 };
	int i = 1;
	if (argc > 2 && strcmp(argv[1], "--step") == 0) {
		o.step = strtoull(argv[2], NULL, 0);
		i = 3;
	}
	struct vf_dump *dump = NULL;
	struct vf_mem raw = { 0 };
	struct vf_mem *mem;
	struct vf_error *err;
	if (argc - i == 3 && strcmp(argv[i], "--raw") == 0) {
		err = vf_rawmem_init(argv[i + 1], argv[i + 2], &raw);
		if (err)
			return fail(err);
		mem = &raw;
	} else if (argc - i == 1) {
		err = vf_dump_open(argv[i], &dump);
		if (err)
			return fail(err);
		mem = &dump->mem;
		o.big_endian = dump->guest_big_endian;
		o.page_size = dump->kernel_page_size;
		o.note_page_limit = vf_dump_note_page_limit(dump);
	} else {
		fprintf(stderr, "usage: scanread [--step N] DUMP | scanread [--step N] --raw FILE "
			"LAYOUT\n");
		return 2;
	}
	for (size_t k = 0; k < mem->nranges; k++)
		printf("range=0x%" PRIx64 "+0x%" PRIx64 "\n", mem->ranges[k].start,
		       mem->ranges[k].size);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct vf_scan_result res;
	err = vf_scan_for_note(mem, &o, &res);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (res.found)
		printf("paddr=0x%" PRIx64 "\nsize=0x%" PRIx64 "\n", res.region.paddr,
		       res.region.size);
	for (size_t k = 0; k < res.ncandidates; k++) {
		const struct vf_scan_candidate *c = &res.cands[k];
		printf("candidate=%s 0x%" PRIx64 " size=0x%" PRIx64 " valid=%d corroborated=%d "
		       "osrelease=%s%s%s\n", c->kind == VF_SCAN_NOTE ? "note" : "text", c->paddr,
		       c->size, c->valid, c->corroborated, c->osrelease,
		       c->why_invalid ? " why=" : "", c->why_invalid ? c->why_invalid : "");
	}
	printf("pages_total=%" PRIu64 "\npages_checked=%" PRIu64 "\npages_skipped=%" PRIu64
	       "\nwhy=%s\nseconds=%.3f\n", res.pages_total, res.pages_checked, res.pages_skipped,
	       res.why ? res.why : "", secs);
	vf_scan_result_deinit(&res);
	int rc = err ? fail(err) : 0;
	if (dump)
		vf_dump_destroy(dump);
	else
		vf_rawmem_deinit(&raw);
	return rc;
}
