/* test_plan.c - the planners, given explicit inputs, over generated dumps. */
#include "config.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "fix/plan.h"
#include "format/elfcore.h"
#include "format/kdump.h"
#include "format/open.h"
#include "tap.h"
#include "vfgen.h"

static const char kdump_spec[] =
	"format kdump\nmachine x86_64\ncompress zlib\nprstatus 1\n"
	"phys_base 0xfffffffcfe676778\n" VFGEN_KTEXT "vmcoreinfo-line NUMBER(phys_base)=0\n"
	"ram 0 4M\n";

/* phys_base is written exactly when given, with the origin in the reason. */
static void kdump_phys_base(void)
{
	struct vf_dump *d = vfgen_open("k", kdump_spec);
	TAP_OK(d != NULL, "kdump: generated and opened");
	if (!d)
		return;
	struct vf_plan_inputs in = { .have_phys_base = true, .phys_base = 0x1234,
				     .phys_base_origin = "a test's origin" };
	struct vf_plan plan;
	struct vf_error *err = vf_plan_fix(d, &in, &plan);
	TAP_OK(!err, "kdump with its note: planned");
	const struct vf_patch *p = err ? NULL : plan_find(&plan, "kdump sub-header phys_base");
	TAP_OK(p != NULL, "kdump: phys_base patched");
	if (p) {
		TAP_EQ_U64(p->value, 0x1234, "kdump: the phys_base given, not the note's");
		TAP_EQ_U64(p->offset, d->kdump->block_size + d->kdump->fo.phys_base,
			   "kdump: at the sub-header field");
		TAP_OK(strstr(p->why, "a test's origin") != NULL, "kdump: the reason names the origin");
	}
	TAP_OK(!err && plan_find(&plan, "kdump header utsname.machine") == NULL &&
	       plan_find(&plan, "kdump header utsname") == NULL,
	       "kdump: without init_uts_ns given and a canonical machine, utsname is left");
	if (!err)
		vf_plan_deinit(&plan);

	in.have_phys_base = false;
	err = vf_plan_fix(d, &in, &plan);
	TAP_OK(!err && plan_find(&plan, "kdump sub-header phys_base") == NULL,
	       "kdump: no phys_base given, none written");
	if (!err)
		vf_plan_deinit(&plan);

	in.have_phys_base = true;
	in.phys_base = d->kdump->phys_base;
	err = vf_plan_fix(d, &in, &plan);
	TAP_OK(!err && plan_find(&plan, "kdump sub-header phys_base") == NULL,
	       "kdump: the value already there is not patched");
	if (!err)
		vf_plan_deinit(&plan);

	char uts[6][65] = { "Linux", "guest", "6.1.0-56-amd64", "#1 SMP", "whatever", "(none)" };
	in.uts = (const char (*)[65])uts;
	err = vf_plan_fix(d, &in, &plan);
	p = err ? NULL : plan_find(&plan, "kdump header utsname");
	TAP_OK(p && p->len == 6 * 65 && p->offset == 0xc, "kdump: utsname written whole from init_uts_ns");
	TAP_OK(p && strcmp((const char *)p->bytes + 2 * 65, "6.1.0-56-amd64") == 0 &&
	       strcmp((const char *)p->bytes + 4 * 65, "x86_64") == 0,
	       "kdump: release from the guest, machine the canonical name (not the guest's string)");
	if (!err)
		vf_plan_deinit(&plan);
	vf_dump_destroy(d);
}

/* Another note text: a new notes blob past the end, pointed at. */
static void kdump_new_note(void)
{
	struct vf_dump *d = vfgen_open("k2", kdump_spec);
	if (!d) {
		TAP_OK(0, "kdump: generated");
		return;
	}
	static const char text[] = "OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\nNUMBER(phys_base)=0\n";
	struct vf_plan_inputs in = { .note_text = (const uint8_t *)text,
				     .note_len = sizeof(text) - 1, .note_origin = "the test's" };
	struct vf_plan plan;
	struct vf_error *err = vf_plan_fix(d, &in, &plan);
	TAP_OK(!err, "kdump, another text: planned");
	const struct vf_patch *blob = err ? NULL : plan_find(&plan, "kdump notes blob");
	const struct vf_patch *on = err ? NULL : plan_find(&plan, "kdump sub-header offset_note");
	const struct vf_patch *sv = err ? NULL : plan_find(&plan, "kdump sub-header size_vmcoreinfo");
	uint64_t bs = d->kdump->block_size;
	uint64_t at = (d->src->size + bs - 1) / bs * bs;
	TAP_OK(blob && blob->offset == at, "kdump: the blob at the first block past the end");
	TAP_OK(on && on->value == at, "kdump: offset_note points at it");
	TAP_OK(sv && sv->value == sizeof(text) - 1, "kdump: size_vmcoreinfo is the text's");
	TAP_OK(blob && memmem(blob->bytes, blob->len, text, sizeof(text) - 1) != NULL,
	       "kdump: the blob carries the text");
	TAP_OK(blob && strstr(blob->why, "the test's") != NULL, "kdump: the reason says whose");
	if (!err)
		vf_plan_deinit(&plan);

	/* the same text as the dump's is kept, not rewritten */
	in.note_text = d->vmci_note->desc;
	in.note_len = d->vmci_note->descsz;
	err = vf_plan_fix(d, &in, &plan);
	TAP_OK(!err && plan_find(&plan, "kdump notes blob") == NULL, "kdump: its own text is kept");
	if (!err)
		vf_plan_deinit(&plan);
	vf_dump_destroy(d);
}

/* A kdump without a note and none given: refused, naming what to give. */
static void kdump_no_note(void)
{
	struct vf_dump *d = vfgen_open("k3", "format kdump\nmachine x86_64\nprstatus 1\n"
				     "vmcoreinfo-note no\nram 0 1M\n");
	if (!d) {
		TAP_OK(0, "kdump without note: generated");
		return;
	}
	struct vf_plan_inputs in = { 0 };
	struct vf_plan plan;
	struct vf_error *err = vf_plan_fix(d, &in, &plan);
	TAP_OK(err && err->code == VF_ERR_REFUSED && err->hint && strstr(err->hint, "--region-file"),
	       "kdump without a note: refused, the hint names --region-file");
	vf_error_destroy(err);
	vf_dump_destroy(d);
}

/* Bitmaps sized to the memory map's end. */
static void kdump_trim(void)
{
	struct vf_dump *d = vfgen_open("k4", "format kdump\nmachine x86_64\nprstatus 1\n"
				     VFGEN_KTEXT "ram 0 1M\nram 0x10000000 4K\n");
	if (!d) {
		TAP_OK(0, "kdump with device memory: generated");
		return;
	}
	struct vf_plan_inputs in = { .mem_map_end = 0x100 };
	struct vf_plan plan;
	struct vf_error *err = vf_plan_fix(d, &in, &plan);
	const struct vf_patch *mm = err ? NULL : plan_find(&plan, "kdump header max_mapnr");
	const struct vf_patch *bm = err ? NULL : plan_find(&plan, "kdump bitmaps");
	TAP_OK(mm && mm->value == 0x100, "kdump: max_mapnr becomes the memory map's end");
	TAP_OK(bm && bm->len == 2 * d->kdump->block_size, "kdump: two one-block bitmaps");
	TAP_OK(bm && strstr(bm->why, "1 dumped pages above it") != NULL,
	       "kdump: the reason counts the dumped pages no longer indexed");
	if (!err)
		vf_plan_deinit(&plan);
	in.mem_map_end = 0;
	err = vf_plan_fix(d, &in, &plan);
	TAP_OK(!err && !plan_find(&plan, "kdump bitmaps"), "kdump: end unknown, bitmaps kept");
	if (!err)
		vf_plan_deinit(&plan);
	vf_dump_destroy(d);
}

static uint16_t phnum_of(const struct vf_patch *p)
{
	return p && p->len >= 64 ? (uint16_t)(p->bytes[56] | p->bytes[57] << 8) : 0;
}

/* ELF: the header region rewritten whole, the kernel image's PT_LOAD added. */
static void elf_cases(void)
{
	struct vf_dump *d = vfgen_open("e", "format elf\nmachine x86_64\nprstatus 1\n" VFGEN_KTEXT
				     "vmcoreinfo-line NUMBER(phys_base)=0\nram 0 4M\n");
	if (!d) {
		TAP_OK(0, "ELF: generated");
		return;
	}
	struct vf_plan_inputs in = { 0 };
	struct vf_plan plan;
	struct vf_error *err = vf_plan_fix(d, &in, &plan);
	const struct vf_patch *h = err ? NULL : plan_find(&plan, "ELF header region");
	TAP_OK(h && h->offset == 0 && memcmp(h->bytes, ELFMAG, SELFMAG) == 0,
	       "ELF, QEMU layout: the header region from offset 0");
	TAP_OK(h && strstr(h->why, "VMCOREINFO: the dump's") != NULL, "ELF: the dump's note kept");
	uint16_t base = phnum_of(h);
	TAP_EQ_U64(base, d->elf->phnum, "ELF: as many program headers as before");
	if (!err)
		vf_plan_deinit(&plan);

	in.ktext_vaddr = 0xffffffff80000000ull;
	in.ktext_paddr = 0;
	in.ktext_size = 2u << 20;
	in.ktext_how = "a test";
	err = vf_plan_fix(d, &in, &plan);
	h = err ? NULL : plan_find(&plan, "ELF header region");
	TAP_EQ_U64(phnum_of(h), base + 1, "ELF: one PT_LOAD more for the kernel image");
	TAP_OK(h && strstr(h->why, "kernel image's PT_LOAD") != NULL, "ELF: the reason says so");
	if (!err)
		vf_plan_deinit(&plan);

	static const char text[] = "OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\n";
	struct vf_plan_inputs other = { .note_text = (const uint8_t *)text,
					.note_len = sizeof(text) - 1, .note_origin = "the test's" };
	err = vf_plan_fix(d, &other, &plan);
	h = err ? NULL : plan_find(&plan, "ELF header region");
	TAP_OK(h && memmem(h->bytes, h->len, text, sizeof(text) - 1) != NULL &&
	       strstr(h->why, "VMCOREINFO: the test's") != NULL,
	       "ELF: the text given is written, with its origin");
	if (!err)
		vf_plan_deinit(&plan);
	vf_dump_destroy(d);

	/* already in the standard layout with its note: nothing to do */
	d = vfgen_open("e2", "format elf\nmachine x86_64\nelf-layout standard\nprstatus 1\n"
		     "ram 0 1M\n");
	if (!d) {
		TAP_OK(0, "ELF standard: generated");
		return;
	}
	struct vf_plan_inputs none = { 0 };
	err = vf_plan_fix(d, &none, &plan);
	TAP_OK(!err && plan.n == 0, "ELF in the standard layout: nothing to patch");
	if (!err)
		vf_plan_deinit(&plan);
	vf_dump_destroy(d);
}

/* A machine that cannot be told: refused before anything is planned. */
static void unknown_machine(void)
{
	struct vf_dump d;
	memset(&d, 0, sizeof(d));
	d.format = VF_FORMAT_KDUMP;
	d.e_machine = EM_NONE;
	d.machine_conflict = (char *)"ELF e_machine says one thing, the notes another";
	struct vf_plan_inputs in = { 0 };
	struct vf_plan plan;
	struct vf_error *err = vf_plan_fix(&d, &in, &plan);
	TAP_OK(err && err->code == VF_ERR_REFUSED && strstr(err->message, "the notes another"),
	       "unknown machine: refused with the conflict");
	TAP_OK(plan.n == 0 && plan.patches == NULL, "unknown machine: an empty plan");
	vf_error_destroy(err);
}

int main(void)
{
	if (!getenv("VFGEN")) {
		printf("1..0 # SKIP VFGEN not set (run through make check)\n");
		return 0;
	}
	kdump_phys_base();
	kdump_new_note();
	kdump_no_note();
	kdump_trim();
	elf_cases();
	unknown_machine();
	return tap_done();
}
