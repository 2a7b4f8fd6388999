/* test_dump.c - the opener (format/open.c) and the dump object (format/dump.c)
 * over generated ELF and kdump dumps: format, machine, notes, where the
 * VMCOREINFO text was found, the findings that do not fail the open, and the
 * files that are no dump. */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format/dump.h"
#include "format/elfcore.h"
#include "format/kdump.h"
#include "format/open.h"
#include "tap.h"
#include "tmpfiles.h"
#include "vfgen.h"

static char path[256];
static char bad_text_file[600];  /* a VMCOREINFO text with a line that is no KEY=VALUE */

/* Generate name from spec and open it; NULL (with a failed test) when either fails. */
static struct vf_dump *gen_open(const char *name, const char *spec)
{
	struct vf_dump *d = NULL;
	if (vfgen(name, spec, path) != 0) {
		TAP_OK(0, "%s: vfgen", name);
		return NULL;
	}
	struct vf_error *err = vf_dump_open(path, &d);
	TAP_OK(!err, "%s: opened%s%s", name, err ? ": " : "", err ? err->message : "");
	vf_error_destroy(err);
	return err ? NULL : d;
}

/* The guest-memory pattern (tests/gen/README.md). */
static uint8_t pattern(uint64_t p)
{
	return (uint8_t)((((p & ~7ull) ^ 0x5A5AA5A5C3C33C3Cull) >> (8 * (p % 8))) & 0xff);
}

static int mem_is_pattern(struct vf_dump *d, uint64_t paddr, size_t len)
{
	uint8_t b[64];
	struct vf_error *err = vf_mem_read(&d->mem, paddr, b, len);
	if (err) {
		vf_error_destroy(err);
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		if (b[i] != pattern(paddr + i))
			return 0;
	return 1;
}

/* Is the file's text at the dump's vmci_offset the VMCOREINFO text? */
static int text_in_file(const struct vf_dump *d, const char *want)
{
	size_t len;
	uint8_t *b = slurp(path, &len);
	int ok = b && d->vmci_offset + strlen(want) <= len &&
		 memcmp(b + d->vmci_offset, want, strlen(want)) == 0;
	free(b);
	return ok;
}

static const char text[] = "OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\n";
#define TEXT_LINES "vmcoreinfo-line OSRELEASE=6.1.0-56-amd64\nvmcoreinfo-line PAGESIZE=4096\n"

static size_t count_notes(const struct vf_dump *d, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < d->nnotes; i++)
		n += strcmp(d->notes[i].name, name) == 0;
	return n;
}

static void elf(void)
{
	struct vf_dump *d = gen_open("elf", "format elf\nmachine x86_64\nprstatus 2\nqemu-cpustate 2\n"
				     TEXT_LINES "ram 0 1M\nram 0x200000 1M\n");
	if (!d)
		return;
	TAP_OK(d->format == VF_FORMAT_ELF && d->ops == &vf_elf_format && d->elf && !d->kdump,
	       "elf: the ELF format opened it");
	TAP_EQ_STR(vf_format_name(d), "elf", "elf: format name");
	TAP_OK(d->elf_class == 64 && !d->big_endian && d->e_machine == EM_X86_64 &&
	       d->machine_name && strcmp(d->machine_name, "x86_64") == 0,
	       "elf: ELF64 little-endian x86_64");
	TAP_EQ_U64(d->page_size, 4096, "elf: page size 4096");
	TAP_EQ_U64(d->nnotes, 5, "elf: 2 CORE + 2 QEMU + VMCOREINFO notes");
	TAP_OK(count_notes(d, "CORE") == 2 && count_notes(d, "QEMU") == 2 &&
	       count_notes(d, "VMCOREINFO") == 1, "elf: the notes by name");
	TAP_OK(d->nregions >= 1 && !d->notes_malformed, "elf: a note region, nothing malformed");
	TAP_OK(d->vmci_origin == VF_VMCI_NOTE && d->vmci_count == 1 && d->vmci_note &&
	       strcmp(d->vmci_note->name, "VMCOREINFO") == 0 && d->vmci_note->type == 0,
	       "elf: VMCOREINFO from its note");
	TAP_OK(d->vmci_size == strlen(text) && d->vmci_offset == d->vmci_note->desc_offset &&
	       text_in_file(d, text), "elf: vmci_offset/size are the text's place in the file");
	TAP_OK(d->vmci && !d->vmci_malformed && d->vmci->n == 2 &&
	       strcmp(vf_vmcoreinfo_get(d->vmci, "OSRELEASE"), "6.1.0-56-amd64") == 0,
	       "elf: the text parsed");
	TAP_OK(d->mem.nranges == 2 && d->mem.ranges[0].start == 0 && d->mem.ranges[1].start ==
	       0x200000 && d->mem.ranges[1].size == 0x100000, "elf: the two RAM ranges");
	TAP_OK(mem_is_pattern(d, 0x1234, 64) && mem_is_pattern(d, 0x2ffff0, 16),
	       "elf: memory reads the generator's bytes");
	uint8_t b[4];
	struct vf_error *err = vf_mem_read(&d->mem, 0x100000, b, 4);
	TAP_OK(err && err->code == VF_ERR_NOT_PRESENT, "elf: the gap between ranges is not present");
	vf_error_destroy(err);
	vf_dump_destroy(d);

	d = gen_open("elf64k", "format elf\nmachine aarch64\nprstatus 1\n"
		     "vmcoreinfo-line OSRELEASE=6.1.0\nvmcoreinfo-line PAGESIZE=65536\nram 0 1M\n");
	if (d) {
		TAP_OK(d->e_machine == EM_AARCH64 && d->page_size == 65536 &&
		       d->mem.page_size == 65536, "elf: aarch64, PAGESIZE=65536 is the page size");
		vf_dump_destroy(d);
	}
	d = gen_open("elfbadps", "format elf\nmachine x86_64\nprstatus 1\n"
		     "vmcoreinfo-line OSRELEASE=6.1.0\nvmcoreinfo-line PAGESIZE=3000\nram 0 1M\n");
	if (d) {
		TAP_EQ_U64(d->page_size, 4096, "elf: a PAGESIZE that is no power of two is not used");
		vf_dump_destroy(d);
	}
	d = gen_open("elfbe", "format elf\nmachine ppc64\nprstatus 1\n" TEXT_LINES "ram 0 1M\n");
	if (d) {
		TAP_OK(d->big_endian && d->elf_class == 64 && d->e_machine == EM_PPC64 &&
		       d->vmci && count_notes(d, "CORE") == 1 && mem_is_pattern(d, 0x800, 32),
		       "elf: ppc64 big-endian, its notes and memory");
		vf_dump_destroy(d);
	}
	d = gen_open("elf32", "format elf\nmachine i386\nprstatus 1\n" TEXT_LINES "ram 0 1M\n");
	if (d) {
		TAP_OK(d->elf_class == 32 && d->e_machine == EM_386 && d->vmci,
		       "elf: i386 ELF32");
		vf_dump_destroy(d);
	}
	d = gen_open("elfnone", "format elf\nmachine x86_64\nprstatus 1\nvmcoreinfo-note no\n"
		     "ram 0 1M\n");
	if (d) {
		TAP_OK(d->vmci_origin == VF_VMCI_NONE && !d->vmci_note && d->vmci_count == 0 &&
		       !d->vmci && !d->vmci_malformed, "elf: no VMCOREINFO note: origin NONE");
		vf_dump_destroy(d);
	}
}

static void kdump(void)
{
	struct vf_dump *d = gen_open("kd6", "format kdump\nmachine x86_64\nprstatus 1\n" TEXT_LINES
				     "ram 0 1M\n");
	if (d) {
		TAP_OK(d->format == VF_FORMAT_KDUMP && d->ops == &vf_kdump_format && d->kdump &&
		       !d->elf, "kdump: the kdump format opened it");
		TAP_EQ_STR(vf_format_name(d), "kdump", "kdump: format name");
		TAP_OK(d->kdump->header_version == 6 && d->vmci_origin == VF_VMCI_NOTE &&
		       d->vmci_count == 1 && d->nnotes == 2 && d->vmci && text_in_file(d, text),
		       "kdump v6: VMCOREINFO from the notes blob");
		TAP_OK(mem_is_pattern(d, 0x5000, 64), "kdump: memory decodes to the generator's bytes");
		vf_dump_destroy(d);
	}
	d = gen_open("kd3", "format kdump\nmachine x86_64\nheader_version 3\nprstatus 1\n"
		     TEXT_LINES "ram 0 1M\n");
	if (d) {
		TAP_OK(d->kdump->header_version == 3 && d->nnotes == 0 &&
		       d->vmci_origin == VF_VMCI_KDUMP_POINTER && !d->vmci_note &&
		       d->vmci_offset == d->kdump->offset_vmcoreinfo &&
		       d->vmci_size == strlen(text) && text_in_file(d, text),
		       "kdump v3: no notes; the text through offset_vmcoreinfo");
		TAP_OK(d->vmci && d->vmci_pointer_text &&
		       memcmp(d->vmci_pointer_text, text, strlen(text)) == 0 &&
		       strcmp(vf_vmcoreinfo_get(d->vmci, "PAGESIZE"), "4096") == 0,
		       "kdump v3: the pointed-at text read and parsed");
		vf_dump_destroy(d);
	}
	d = gen_open("kd3bad", "format kdump\nmachine x86_64\nheader_version 3\nprstatus 1\n"
		     "kdump-vmcoreinfo-pointer bad\n" TEXT_LINES "ram 0 1M\n");
	if (d) {
		/* the 24 bytes before the text start with a NUL: an empty text */
		TAP_OK(d->vmci_origin == VF_VMCI_KDUMP_POINTER && d->vmci && d->vmci->n == 0 &&
		       !d->vmci_malformed && d->vmci_offset == d->kdump->offset_vmcoreinfo &&
		       d->vmci_size == strlen(text), "kdump v3, the pointer 24 bytes early: "
		       "followed, its (empty) text parsed");
		vf_dump_destroy(d);
	}
	char spec[1024];
	snprintf(spec, sizeof(spec), "format kdump\nmachine x86_64\nheader_version 3\n"
		 "prstatus 1\nvmcoreinfo-file %s\nram 0 1M\n", bad_text_file);
	d = gen_open("kd3mal", spec);
	if (d) {
		TAP_OK(d->vmci_origin == VF_VMCI_KDUMP_POINTER && !d->vmci && d->vmci_malformed &&
		       d->vmci_malformed->code == VF_ERR_CORRUPT &&
		       strstr(d->vmci_malformed->message, "VMCOREINFO text at 0x"),
		       "kdump v3, a text that does not parse: vmci_malformed (%s)",
		       d->vmci_malformed ? d->vmci_malformed->message : "none");
		vf_dump_destroy(d);
	}
	d = gen_open("kd3none", "format kdump\nmachine x86_64\nheader_version 3\nprstatus 1\n"
		     "kdump-vmcoreinfo-pointer no\n" TEXT_LINES "ram 0 1M\n");
	if (d) {
		TAP_OK(d->vmci_origin == VF_VMCI_NONE && !d->vmci,
		       "kdump v3 without the pointer: no VMCOREINFO");
		vf_dump_destroy(d);
	}
	d = gen_open("kdbe", "format kdump\nmachine s390x\nprstatus 1\n" TEXT_LINES "ram 0 1M\n");
	if (d) {
		TAP_OK(d->big_endian && d->e_machine == EM_S390 && d->vmci &&
		       mem_is_pattern(d, 0x3000, 64), "kdump: s390x big-endian");
		vf_dump_destroy(d);
	}
	d = gen_open("kdflat", "format kdump\nmachine x86_64\nflattened yes\nprstatus 1\n"
		     TEXT_LINES "ram 0 1M\n");
	if (d) {
		TAP_EQ_STR(vf_format_name(d), "kdump-flattened", "kdump flattened: format name");
		TAP_OK(d->vmci && mem_is_pattern(d, 0x7000, 64), "kdump flattened: text and memory");
		vf_dump_destroy(d);
	}
	d = gen_open("elfflat", "format elf\nflattened yes\nflat-record-size 4096\n"
		     "flat-shuffle yes\nprstatus 1\n" TEXT_LINES "ram 0 1M\n");
	if (d) {
		TAP_EQ_STR(vf_format_name(d), "elf-flattened", "elf flattened: format name");
		TAP_OK(d->vmci && d->vmci_count == 1 && mem_is_pattern(d, 0xfff0, 32),
		       "elf flattened (shuffled records): text and memory");
		vf_dump_destroy(d);
	}
}


static void findings(void)
{
	struct vf_dump *d = gen_open("two", "format elf\nprstatus 1\n" TEXT_LINES
				     "note VMCOREINFO 0 text:OSRELEASE=5.10.0\nram 0 1M\n");
	if (d) {
		const struct vf_note *first = NULL;
		for (size_t i = 0; i < d->nnotes && !first; i++)
			if (strcmp(d->notes[i].name, "VMCOREINFO") == 0)
				first = &d->notes[i];
		TAP_OK(d->vmci_count == 2 && d->vmci_origin == VF_VMCI_NOTE && d->vmci &&
		       d->vmci_note == first && first->descsz == 16 &&
		       strcmp(vf_vmcoreinfo_get(d->vmci, "OSRELEASE"), "5.10.0") == 0,
		       "two VMCOREINFO notes: counted, the first one (vfgen's extra note) used");
		vf_dump_destroy(d);
	}
	d = gen_open("typed", "format elf\nprstatus 1\nvmcoreinfo-note no\n"
		     "note VMCOREINFO 1 text:OSRELEASE=6.1.0\nram 0 1M\n");
	if (d) {
		TAP_OK(d->vmci_count == 0 && d->vmci_origin == VF_VMCI_NONE &&
		       count_notes(d, "VMCOREINFO") == 1,
		       "a VMCOREINFO-named note of type 1 is not VMCOREINFO");
		vf_dump_destroy(d);
	}
	d = gen_open("malnote", "format elf\nprstatus 1\n" TEXT_LINES
		     "note-descsz-overflow yes\nram 0 1M\n");
	if (d) {
		TAP_OK(d->notes_malformed && d->notes_malformed->code == VF_ERR_CORRUPT &&
		       d->notes_malformed->has_offset && !d->notes_malformed->offset_is_paddr &&
		       d->nregions == 1 && d->notes_malformed->offset == d->regions[0].offset,
		       "a note running past its region: a finding with its file offset (%s)",
		       d->notes_malformed ? d->notes_malformed->message : "none");
		TAP_OK(d->nnotes == 0 && d->vmci_origin == VF_VMCI_NONE,
		       "a malformed first note: no notes kept after it");
		vf_dump_destroy(d);
	}
	char spec[1024];
	snprintf(spec, sizeof(spec), "format elf\nprstatus 1\nvmcoreinfo-file %s\nram 0 1M\n",
		 bad_text_file);
	d = gen_open("malvmci", spec);
	if (d) {
		char at[64];
		snprintf(at, sizeof(at), "VMCOREINFO text at 0x%llx:",
			 (unsigned long long)d->vmci_offset);
		TAP_OK(d->vmci_malformed && strstr(d->vmci_malformed->message, at) &&
		       strstr(d->vmci_malformed->message, "line 3"),
		       "vmci_malformed names the text's offset and the line");
		TAP_OK(d->vmci_origin == VF_VMCI_NOTE && d->vmci_count == 1 && !d->vmci &&
		       d->vmci_malformed && d->vmci_malformed->code == VF_ERR_CORRUPT &&
		       strstr(d->vmci_malformed->message, "VMCOREINFO text at 0x"),
		       "a VMCOREINFO text that does not parse: vmci_malformed (%s)",
		       d->vmci_malformed ? d->vmci_malformed->message : "none");
		TAP_OK(!d->notes_malformed, "... and the notes themselves are fine");
		vf_dump_destroy(d);
	}
	snprintf(spec, sizeof(spec), "format kdump\nprstatus 1\nvmcoreinfo-file %s\nram 0 1M\n",
		 bad_text_file);
	d = gen_open("kdmal", spec);
	if (d) {
		TAP_OK(d->vmci_malformed && !d->vmci, "kdump: a malformed text is vmci_malformed too");
		vf_dump_destroy(d);
	}
}

static struct vf_error *open_bytes(const char *name, const void *b, size_t len)
{
	snprintf(path, sizeof(path), "%s", at_dir(name));
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(b, 1, len, f) != len || fclose(f))
		abort();
	struct vf_dump *d = NULL;
	struct vf_error *err = vf_dump_open(path, &d);
	vf_dump_destroy(d);
	return err;
}

static void not_dumps(void)
{
	static const char hello[] = "hello world, not a dump at all\n";
	struct vf_error *err = open_bytes("hello", hello, sizeof(hello) - 1);
	TAP_OK(err && err->code == VF_ERR_NOT_FORMAT &&
	       strstr(err->message, "starts with 68 65 6c 6c 6f 20 77 6f)") && err->hint &&
	       err->path && strcmp(err->path, path) == 0 && err->has_offset && err->offset == 0,
	       "a text file: NOT_FORMAT naming its first 8 bytes and the path (%s)",
	       err ? err->message : "opened");
	vf_error_destroy(err);
	err = open_bytes("three", "\x7f" "EL", 3);
	TAP_OK(err && err->code == VF_ERR_NOT_FORMAT && strstr(err->message, "starts with 7f 45 4c)"),
	       "three bytes of an ELF magic: NOT_FORMAT naming the three");
	vf_error_destroy(err);
	err = open_bytes("empty", "", 0);
	TAP_OK(err && err->code == VF_ERR_NOT_FORMAT && strstr(err->message, "empty file") &&
	       err->path, "an empty file: NOT_FORMAT, empty");
	vf_error_destroy(err);
	uint8_t zeros[4096] = { 0 };
	err = open_bytes("zeros", zeros, sizeof(zeros));
	TAP_OK(err && err->code == VF_ERR_NOT_FORMAT && strstr(err->message, "00 00 00 00 00 00 00 00"),
	       "zeros: NOT_FORMAT");
	vf_error_destroy(err);
	struct vf_dump *d = NULL;
	err = vf_dump_open(at_dir("missing"), &d);
	TAP_OK(err && err->code == VF_ERR_OS && err->errnum == ENOENT && !d,
	       "a missing file: the OS error");
	vf_error_destroy(err);
}

int main(void)
{
	if (!getenv("VFGEN")) {
		printf("1..0 # SKIP VFGEN not set (run through make check)\n");
		return 0;
	}
	(void)vfgen_open;
	make_dir("dump");
	snprintf(bad_text_file, sizeof(bad_text_file), "%s", at_dir("bad.txt"));
	FILE *f = fopen(bad_text_file, "w");
	if (!f || fputs("OSRELEASE=6.1.0\nPAGESIZE=4096\nbad line\n", f) < 0 || fclose(f))
		return 1;
	elf();
	kdump();
	findings();
	not_dumps();
	remove_dir();
	return tap_done();
}
