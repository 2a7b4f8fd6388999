/* test_inspect.c - the diagnosis, over dumps built in memory. */
#include "config.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "fix/inspect.h"
#include "fix/plan.h"
#include "format/elfcore.h"
#include "format/kdump.h"
#include "tap.h"

static const struct vf_problem *find(const struct vf_problems *p, const char *id)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->items[i].id, id) == 0)
			return &p->items[i];
	return NULL;
}

static const char vmci_text[] =
	"OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\nSYMBOL(_stext)=ffffffffad000000\n"
	"KERNELOFFSET=2c000000\nNUMBER(phys_base)=-301989888\n";

static void set_vmci(struct vf_dump *d, const char *text, struct vf_note *note)
{
	memset(note, 0, sizeof(*note));
	strcpy(note->name, "VMCOREINFO");
	note->namesz = 11;
	note->descsz = (uint32_t)strlen(text);
	note->desc = (const uint8_t *)text;
	note->hdr_offset = 0x2000;
	note->desc_offset = 0x2018;
	d->notes = note;
	d->nnotes = 1;
	d->vmci_origin = VF_VMCI_NOTE;
	d->vmci_note = note;
	d->vmci_count = 1;
	d->vmci_offset = note->desc_offset;
	d->vmci_size = note->descsz;
	struct vf_error *err = vf_vmcoreinfo_parse(text, strlen(text), &d->vmci);
	if (err)
		abort();
}

static void kdump_cases(void)
{
	struct vf_kdump_info kd;
	memset(&kd, 0, sizeof(kd));
	kd.header_version = 6;
	kd.block_size = 4096;
	kd.fo.phys_base = 0;
	kd.fo.ulong_size = 8;
	kd.fo.offset_vmcoreinfo = 0x20;
	strcpy(kd.utsname[4], "x86_64");
	kd.phys_base = 0xfffffffcfe676778ull;   /* what QEMU 7.2 writes */
	kd.offset_vmcoreinfo = 0x2018;
	kd.size_vmcoreinfo = strlen(vmci_text);

	struct vf_dump d;
	memset(&d, 0, sizeof(d));
	d.format = VF_FORMAT_KDUMP;
	d.e_machine = EM_X86_64;
	d.machine_name = "x86_64";
	d.elf_class = 64;
	d.kdump = &kd;
	struct vf_note note;
	set_vmci(&d, vmci_text, &note);

	uint64_t pb;
	const char *key;
	struct vf_error *err = vf_note_phys_base(&d, &pb, &key);
	TAP_OK(!err, "phys_base from the note");
	TAP_EQ_U64(pb, 0xffffffffee000000ull, "NUMBER(phys_base)=-301989888 is 0xffffffffee000000");
	TAP_EQ_STR(key, "NUMBER(phys_base)", "x86_64 key");

	struct vf_problems p;
	TAP_OK(!vf_inspect(&d, &p), "inspect kdump");
	const struct vf_problem *pr = find(&p, "kdump-phys-base-mismatch");
	TAP_OK(pr != NULL, "QEMU's misparsed phys_base is found");
	TAP_OK(pr && strstr(pr->message, "0xfffffffcfe676778") && strstr(pr->message, "-301989888"),
	       "message names both values");
	TAP_OK(pr && pr->hint && strstr(pr->hint, "as hex"), "hint recognises QEMU's hex misparse");
	TAP_EQ_U64(pr ? pr->offset : 0, 4096, "offset is the sub-header phys_base field");
	TAP_OK(find(&p, "kdump-utsname-incomplete") != NULL, "utsname with only machine is reported");
	TAP_OK(find(&p, "kdump-vmcoreinfo-pointer-missing") == NULL, "pointer matches the note");
	vf_problems_deinit(&p);

	kd.phys_base = 0xffffffffee000000ull;
	kd.offset_vmcoreinfo = 0;
	strcpy(kd.utsname[2], "6.1.0-56-amd64");
	strcpy(kd.utsname[0], "Linux");
	TAP_OK(!vf_inspect(&d, &p), "inspect fixed phys_base");
	TAP_OK(find(&p, "kdump-phys-base-mismatch") == NULL, "correct phys_base is not reported");
	TAP_OK(find(&p, "kdump-vmcoreinfo-pointer-missing") != NULL, "missing pointer reported");
	TAP_OK(find(&p, "kdump-utsname-incomplete") == NULL, "full utsname not reported");
	vf_problems_deinit(&p);

	kd.offset_vmcoreinfo = 0x3000;
	TAP_OK(!vf_inspect(&d, &p), "inspect wrong pointer");
	TAP_OK(find(&p, "kdump-vmcoreinfo-pointer-wrong") != NULL, "wrong pointer reported");
	vf_problems_deinit(&p);

	kd.header_version = 2;
	TAP_OK(!vf_inspect(&d, &p), "inspect old header");
	TAP_OK(find(&p, "kdump-old-header-version") != NULL, "header version < 4 reported");
	vf_problems_deinit(&p);
	vf_vmcoreinfo_destroy(d.vmci);
}

static void elf_cases(void)
{
	struct vf_elf_phdr ph[3] = {
		{ .type = PT_NOTE, .offset = 0x1f0, .filesz = 0x100 },
		{ .type = PT_LOAD, .offset = 0x14b0, .filesz = 0x20000000 },
		{ .type = PT_LOAD, .offset = 0x200014b0, .filesz = 0x40000 },
	};
	struct vf_elf_info elf;
	memset(&elf, 0, sizeof(elf));
	elf.e_ehsize = 8;
	elf.e_phoff = 0xc0;
	elf.e_shoff = 0x40;
	elf.phnum = 3;
	elf.phdrs = ph;

	struct vf_dump d;
	memset(&d, 0, sizeof(d));
	d.format = VF_FORMAT_ELF;
	d.e_machine = EM_X86_64;
	d.elf_class = 64;
	d.elf = &elf;

	struct vf_problems p;
	TAP_OK(!vf_inspect(&d, &p), "inspect QEMU 7.2 ELF without note");
	TAP_OK(find(&p, "no-vmcoreinfo") != NULL, "no VMCOREINFO reported");
	TAP_OK(find(&p, "elf-phdrs-not-after-ehdr") != NULL, "QEMU's phdr layout reported");
	TAP_OK(find(&p, "elf-bad-ehsize") != NULL, "e_ehsize 8 reported");
	TAP_OK(find(&p, "elf-note-after-load-data") == NULL, "notes before data not reported");
	vf_problems_deinit(&p);

	struct vf_note note;
	set_vmci(&d, vmci_text, &note);
	elf.e_ehsize = 64;
	elf.e_phoff = 64;
	ph[0].offset = 0x30000000;  /* appended at the end */
	TAP_OK(!vf_inspect(&d, &p), "inspect ELF with note at the end");
	TAP_OK(find(&p, "elf-note-after-load-data") != NULL, "note after PT_LOAD data reported");
	TAP_OK(find(&p, "no-vmcoreinfo") == NULL, "note present");
	TAP_OK(find(&p, "elf-phdrs-not-after-ehdr") == NULL, "standard layout not reported");
	vf_problems_deinit(&p);

	ph[0].type = PT_LOAD;
	ph[1].type = PT_NOTE;
	ph[2].type = PT_NOTE;
	TAP_OK(!vf_inspect(&d, &p), "inspect misplaced notes");
	TAP_OK(find(&p, "elf-pt-note-not-first") != NULL, "PT_NOTE not first reported");
	TAP_OK(find(&p, "elf-multiple-pt-note") != NULL, "two PT_NOTEs reported");
	vf_problems_deinit(&p);
	vf_vmcoreinfo_destroy(d.vmci);
	d.vmci = NULL;

	const char bad[] = "OSRELEASE=6.1\nPAGESIZE=4096\nNUMBER(phys_base)=12x\n";
	set_vmci(&d, bad, &note);
	d.format = VF_FORMAT_KDUMP;
	struct vf_kdump_info kd;
	memset(&kd, 0, sizeof(kd));
	kd.header_version = 6;
	kd.block_size = 4096;
	kd.fo.ulong_size = 8;
	kd.offset_vmcoreinfo = note.desc_offset;
	kd.size_vmcoreinfo = note.descsz;
	d.kdump = &kd;
	d.elf = NULL;
	TAP_OK(!vf_inspect(&d, &p), "inspect malformed phys_base value");
	TAP_OK(find(&p, "malformed-vmcoreinfo") != NULL, "unparsable NUMBER(phys_base) reported");
	vf_problems_deinit(&p);
	vf_vmcoreinfo_destroy(d.vmci);
}

int main(void)
{
	kdump_cases();
	elf_cases();
	return tap_done();
}
