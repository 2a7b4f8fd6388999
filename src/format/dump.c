/* dump.c - the dump object: what is format-independent (notes, VMCOREINFO,
 * names); the formats fill it, format/open.c picks the format. */
#include "config.h"
#include "format/dump.h"
#include "arch/arch.h"

#include "util/cursor.h"

#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vf_dump_destroy(struct vf_dump *dump)
{
	if (!dump)
		return;
	if (dump->ops)
		dump->ops->deinit(dump);
	if (dump->mem.ops && dump->mem.ops->destroy)
		dump->mem.ops->destroy(dump->mem.ctx);
	free(dump->mem.ranges);
	for (size_t i = 0; i < dump->nregions; i++)
		if (!dump->regions[i].shared)
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

/* The bytes of [offset, offset + size) when an earlier region holds them
 * all; *same: it is exactly that region. */
static const uint8_t *held_by_earlier(const struct vf_dump *dump, uint64_t offset,
				      uint64_t size, bool *same)
{
	*same = false;
	for (size_t i = 0; i < dump->nregions; i++) {
		const struct vf_note_region *r = &dump->regions[i];
		if (offset < r->offset || offset - r->offset > r->size ||
		    size > r->size - (offset - r->offset))
			continue;
		*same = offset == r->offset && size == r->size;
		return r->data + (offset - r->offset);
	}
	return NULL;
}

/* The notes of all regions stay within the limits (the sizes were checked
 * against the file by the caller). */
static struct vf_error *note_limits(const struct vf_dump *dump, uint64_t offset,
				    uint64_t size, const uint8_t *data)
{
	if (dump->nregions >= VF_NOTE_REGIONS_MAX)
		return vf_error_at(VF_ERR_CORRUPT, offset, "more than %u note regions, the limit",
				   VF_NOTE_REGIONS_MAX);
	uint64_t total = size;
	for (size_t i = 0; i < dump->nregions; i++)
		total += dump->regions[i].size;
	if (total > VF_NOTES_TOTAL_MAX && !dump->nregions)
		return vf_error_at(VF_ERR_CORRUPT, offset, "0x%" PRIx64 " bytes of notes, above "
				   "the limit of %u MiB of notes in a dump", size,
				   VF_NOTES_TOTAL_MAX >> 20);
	if (total > VF_NOTES_TOTAL_MAX)
		return vf_error_at(VF_ERR_CORRUPT, offset, "0x%" PRIx64 " more bytes of notes (0x%"
				   PRIx64 " in all), above the limit of %u MiB of notes in a dump",
				   size, total, VF_NOTES_TOTAL_MAX >> 20);
	if (!data)
		return NULL;
	size_t count = vf_notes_count(data, (size_t)size, dump->big_endian);
	if (count > VF_NOTES_COUNT_MAX - dump->nnotes)
		return vf_error_at(VF_ERR_CORRUPT, offset, "%zu notes here, %zu in all: above the "
				   "limit of %u notes in a dump", count, dump->nnotes + count,
				   VF_NOTES_COUNT_MAX);
	return NULL;
}

static struct vf_error *check_note_limits(const struct vf_dump *dump, uint64_t offset,
					  uint64_t size, const uint8_t *data)
{
	struct vf_error *err = note_limits(dump, offset, size, data);
	return err ? vf_error_set_hint(err, "a limit against hostile dumps (LIMITS in "
				       "vmcore-fix(1)): no dump QEMU writes comes near it") : NULL;
}

struct vf_error *vf_dump_add_note_region(struct vf_dump *dump, uint64_t offset, uint64_t size)
{
	uint64_t end;
	if (!vf_add_ok(offset, size, &end) || end > dump->src->size)
		return vf_error_at(VF_ERR_CORRUPT, offset,
				   "notes (0x%" PRIx64 " bytes) run past the end of the file "
				   "(size 0x%" PRIx64 ")", size, dump->src->size);
	bool same;
	const uint8_t *held = held_by_earlier(dump, offset, size, &same);
	if (same)
		return NULL;  /* the same notes again: read and parsed once */
	struct vf_error *err = check_note_limits(dump, offset, size, NULL);
	if (err)
		return err;

	struct vf_note_region *regions = realloc(dump->regions,
						 (dump->nregions + 1) * sizeof(*regions));
	if (!regions)
		return &vf_error_nomem;
	dump->regions = regions;
	struct vf_note_region *r = &regions[dump->nregions];
	*r = (struct vf_note_region){ offset, size, (uint8_t *)held, held != NULL };
	if (!held) {
		err = vf_src_read_alloc(dump->src, size, offset, "notes", &r->data);
		if (err)
			return err;
	}
	err = check_note_limits(dump, offset, size, r->data);
	if (err) {
		if (!r->shared)
			free(r->data);
		return err;
	}
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

	return NULL;
}

struct vf_error *vf_dump_vmcoreinfo_at(struct vf_dump *dump, uint64_t offset, uint64_t size)
{
	uint64_t end;
	if (!vf_add_ok(offset, size, &end) || end > dump->src->size || size >= VMCI_TEXT_MAX) {
		/* Reported by inspect as a bad pointer; not fatal here. */
		return NULL;
	}
	struct vf_error *err = vf_src_read_alloc(dump->src, size, offset, "VMCOREINFO",
						 &dump->vmci_pointer_text);
	if (err)
		return err;
	dump->vmci_origin = VF_VMCI_KDUMP_POINTER;
	dump->vmci_offset = offset;
	dump->vmci_size = size;
	return parse_vmci_text(dump, dump->vmci_pointer_text, size);
}

const char *vf_format_name(const struct vf_dump *dump)
{
	bool flat = dump->src->kind == VF_SRC_FLATTENED;
	if (dump->format == VF_FORMAT_ELF)
		return flat ? "elf-flattened" : "elf";
	return flat ? "kdump-flattened" : "kdump";
}

uint64_t vf_dump_note_page_limit(const struct vf_dump *dump)
{
	if (dump->format != VF_FORMAT_ELF || dump->kernel_page_size_known)
		return dump->page_size;
	const struct vf_arch *a = vf_arch_by_em(dump->e_machine);
	return a && a->max_kernel_page ? a->max_kernel_page : dump->page_size;
}
