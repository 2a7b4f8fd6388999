/* dump.c - the opener: probe the formats, hold what is format-independent. */
#include "config.h"
#include "format/dump.h"
#include "format/machine.h"

#include "util/cursor.h"
#include "source/open.h"

#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct format_ops {
	const char *name;
	bool (*probe)(const uint8_t *head, size_t len);
	struct vf_error *(*open)(struct vf_dump *dump);
	void (*deinit)(struct vf_dump *dump);
	enum vf_format format;
};

static const struct format_ops formats[] = {
	{ "ELF core", vf_elf_probe, vf_elf_open, vf_elf_deinit, VF_FORMAT_ELF },
	{ "kdump-compressed", vf_kdump_probe, vf_kdump_open, vf_kdump_deinit, VF_FORMAT_KDUMP },
};

#define HEAD_LEN 64

struct vf_error *vf_dump_open(const char *path, struct vf_dump **ret)
{
	struct vf_src *src;
	struct vf_error *err = vf_source_open(path, &src);
	if (err)
		return err;
	return vf_dump_open_src(src, ret);
}

static void refine_page_size(struct vf_dump *dump)
{
	uint64_t ps;
	if (dump->format != VF_FORMAT_ELF || !dump->vmci)
		return;
	struct vf_error *err = vf_vmcoreinfo_number(dump->vmci, "PAGESIZE", &ps);
	if (err) {
		vf_error_destroy(err);
		return;
	}
	/* Only a sane power of two replaces the architecture default. */
	if (ps >= 1024 && ps <= (1u << 20) && (ps & (ps - 1)) == 0) {
		dump->page_size = ps;
		dump->mem.page_size = ps;
	}
}

struct vf_error *vf_dump_open_src(struct vf_src *src, struct vf_dump **ret)
{
	struct vf_dump *dump = calloc(1, sizeof(*dump));
	if (!dump) {
		vf_src_destroy(src);
		return &vf_error_nomem;
	}
	dump->src = src;
	dump->page_size = 4096;

	uint8_t head[HEAD_LEN];
	size_t got;
	struct vf_error *err = vf_src_pread(src, head, sizeof(head), 0, &got);
	if (err)
		goto fail;

	const struct format_ops *ops = NULL;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (formats[i].probe(head, got)) {
			ops = &formats[i];
			break;
		}
	}
	if (!ops) {
		char hex[3 * 8 + 1] = "";
		size_t hl = 0;
		for (size_t i = 0; i < got && i < 8; i++)
			hl += (size_t)snprintf(hex + hl, sizeof(hex) - hl, "%s%02x", i ? " " : "",
					       head[i]);
		if (got == 0)
			err = vf_error_at(VF_ERR_NOT_FORMAT, 0, "empty file: not a dump");
		else
			err = vf_error_at(VF_ERR_NOT_FORMAT, 0,
					  "not an ELF core or kdump-compressed dump (starts with %s)",
					  hex);
		vf_error_set_hint(err, "give a dump written by QEMU dump-guest-memory, "
			"virsh dump --memory-only, or makedumpfile");
		goto fail;
	}
	dump->format = ops->format;
	err = ops->open(dump);
	if (!err)
		err = vf_machine_detect(dump, NULL);
	if (err)
		goto fail;
	refine_page_size(dump);
	*ret = dump;
	return NULL;

fail:
	vf_error_set_path(err, src->path);
	vf_dump_destroy(dump);
	return err;
}

void vf_dump_destroy(struct vf_dump *dump)
{
	if (!dump)
		return;
	if (dump->elf)
		vf_elf_deinit(dump);
	if (dump->kdump)
		vf_kdump_deinit(dump);
	if (dump->mem.ops && dump->mem.ops->destroy)
		dump->mem.ops->destroy(dump->mem.ctx);
	free(dump->mem.ranges);
	for (size_t i = 0; i < dump->nregions; i++)
		free(dump->regions[i].data);
	free(dump->regions);
	free(dump->notes);
	vf_error_destroy(dump->notes_malformed);
	free(dump->vmci_pointer_text);
	vf_vmcoreinfo_destroy(dump->vmci);
	vf_error_destroy(dump->vmci_malformed);
	free(dump->machine_how);
	free(dump->machine_conflict);
	vf_src_destroy(dump->src);
	free(dump);
}

struct vf_error *vf_dump_add_note_region(struct vf_dump *dump, uint64_t offset, uint64_t size)
{
	uint64_t end;
	if (!vf_add_ok(offset, size, &end) || end > dump->src->size)
		return vf_error_at(VF_ERR_CORRUPT, offset,
				   "notes (0x%" PRIx64 " bytes) run past the end of the file "
				   "(size 0x%" PRIx64 ")", size, dump->src->size);
	if (size > VF_NOTE_REGION_MAX)
		return vf_error_at(VF_ERR_UNSUPPORTED, offset,
				   "notes of 0x%" PRIx64 " bytes exceed the limit of %u MiB",
				   size, VF_NOTE_REGION_MAX >> 20);

	struct vf_note_region *regions = realloc(dump->regions,
						 (dump->nregions + 1) * sizeof(*regions));
	if (!regions)
		return &vf_error_nomem;
	dump->regions = regions;
	struct vf_note_region *r = &regions[dump->nregions];
	r->offset = offset;
	r->size = size;
	r->data = NULL;
	struct vf_error *err = vf_src_read_alloc(dump->src, size, offset, "notes", &r->data);
	if (err)
		return err;
	dump->nregions++;

	struct vf_error *malformed = NULL;
	err = vf_notes_parse(r->data, size, dump->big_endian, offset,
			     (uint32_t)(dump->nregions - 1), &dump->notes, &dump->nnotes,
			     &malformed);
	if (err)
		return err;
	if (malformed) {
		if (dump->notes_malformed)
			vf_error_destroy(malformed);
		else
			dump->notes_malformed = malformed;
	}
	return NULL;
}

#define VMCI_TEXT_MAX (1u << 20)   /* QEMU's rule: the note is below 1 MiB */

static struct vf_error *parse_vmci_text(struct vf_dump *dump, const uint8_t *text, uint64_t len)
{
	struct vf_error *err = vf_vmcoreinfo_parse((const char *)text, (size_t)len, &dump->vmci);
	if (!err)
		return NULL;
	if (err->code == VF_ERR_NOMEM)
		return err;
	/* A malformed text is a finding about the dump, not a failure to open it. */
	err = vf_error_prefix(err, "VMCOREINFO text at 0x%" PRIx64, dump->vmci_offset);
	dump->vmci_malformed = err;
	dump->vmci = NULL;
	return NULL;
}

struct vf_error *vf_dump_find_vmcoreinfo(struct vf_dump *dump)
{
	dump->vmci_origin = VF_VMCI_NONE;
	dump->vmci_note = NULL;
	dump->vmci_count = 0;
	for (size_t i = 0; i < dump->nnotes; i++) {
		if (!vf_note_is_vmcoreinfo(&dump->notes[i]))
			continue;
		if (!dump->vmci_note)
			dump->vmci_note = &dump->notes[i];
		dump->vmci_count++;
	}
	if (dump->vmci_note) {
		dump->vmci_origin = VF_VMCI_NOTE;
		dump->vmci_offset = dump->vmci_note->desc_offset;
		dump->vmci_size = dump->vmci_note->descsz;
		return parse_vmci_text(dump, dump->vmci_note->desc, dump->vmci_note->descsz);
	}

	/* kdump files that carry only the sub-header pointer (header v3, or a
	 * notes blob without the note). */
	struct vf_kdump_info *kd = dump->kdump;
	if (!kd || !kd->offset_vmcoreinfo || !kd->size_vmcoreinfo)
		return NULL;
	uint64_t end;
	if (!vf_add_ok(kd->offset_vmcoreinfo, kd->size_vmcoreinfo, &end) ||
	    end > dump->src->size || kd->size_vmcoreinfo >= VMCI_TEXT_MAX) {
		/* Reported by inspect as a bad pointer; not fatal here. */
		return NULL;
	}
	struct vf_error *err = vf_src_read_alloc(dump->src, kd->size_vmcoreinfo,
						 kd->offset_vmcoreinfo, "VMCOREINFO",
						 &dump->vmci_pointer_text);
	if (err)
		return err;
	dump->vmci_origin = VF_VMCI_KDUMP_POINTER;
	dump->vmci_offset = kd->offset_vmcoreinfo;
	dump->vmci_size = kd->size_vmcoreinfo;
	return parse_vmci_text(dump, dump->vmci_pointer_text, kd->size_vmcoreinfo);
}

const char *vf_format_name(const struct vf_dump *dump)
{
	bool flat = dump->src->kind == VF_SRC_FLATTENED;
	if (dump->format == VF_FORMAT_ELF)
		return flat ? "elf-flattened" : "elf";
	return flat ? "kdump-flattened" : "kdump";
}

static const struct {
	uint16_t em;
	const char *name;
} machines[] = {
	{ EM_X86_64, "x86_64" },
	{ EM_386, "i386" },
	{ EM_AARCH64, "aarch64" },
	{ EM_ARM, "arm" },
	{ EM_PPC64, "ppc64" },
	{ EM_PPC, "ppc" },
	{ EM_S390, "s390x" },
	{ EM_MIPS, "mips" },
	{ EM_RISCV, "riscv64" },
	{ 258 /* EM_LOONGARCH */, "loongarch64" },
};

const char *vf_machine_name(uint16_t e_machine)
{
	for (size_t i = 0; i < sizeof(machines) / sizeof(machines[0]); i++)
		if (machines[i].em == e_machine)
			return machines[i].name;
	return NULL;
}

uint16_t vf_machine_from_name(const char *uts)
{
	static const struct {
		const char *prefix;
		uint16_t em;
	} names[] = {
		{ "x86_64", EM_X86_64 }, { "i386", EM_386 }, { "i486", EM_386 },
		{ "i586", EM_386 }, { "i686", EM_386 }, { "aarch64", EM_AARCH64 },
		{ "arm64", EM_AARCH64 }, { "arm", EM_ARM }, { "ppc64", EM_PPC64 },
		{ "ppc", EM_PPC }, { "s390", EM_S390 }, { "mips", EM_MIPS },
		{ "riscv64", EM_RISCV }, { "loongarch64", 258 },
	};
	if (!uts)
		return EM_NONE;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strncmp(uts, names[i].prefix, strlen(names[i].prefix)) == 0)
			return names[i].em;
	return EM_NONE;
}
