/* dump.h - an opened dump: what it is, its notes, its VMCOREINFO, its memory.
 *
 * The opener reads the first bytes of the logical file (after the flattened
 * layer), asks each format's probe in turn ("not mine" is a plain false,
 * never an error) and lets the first taker fill this structure.  Everything
 * format-independent is here; format details are in dump->elf / dump->kdump.
 */
#ifndef VF_DUMP_H
#define VF_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/elfcore.h"
#include "util/error.h"
#include "format/kdump.h"
#include "util/mem.h"
#include "util/notes.h"
#include "source/src.h"
#include "util/vmcoreinfo.h"

enum vf_format {
	VF_FORMAT_ELF,
	VF_FORMAT_KDUMP,
};

/* A region of the file holding notes: a PT_NOTE segment or the kdump notes blob. */
struct vf_note_region {
	uint64_t offset;    /* file offset (logical) */
	uint64_t size;
	uint8_t *data;      /* the bytes, owned */
};

/* Where the VMCOREINFO text was found. */
enum vf_vmci_origin {
	VF_VMCI_NONE,
	VF_VMCI_NOTE,          /* a VMCOREINFO note in the notes */
	VF_VMCI_KDUMP_POINTER, /* kdump offset_vmcoreinfo/size_vmcoreinfo only */
};

#define VF_NOTE_REGION_MAX (64u << 20)   /* refuse note regions above 64 MiB */

struct vf_dump {
	struct vf_src *src;          /* owned */
	enum vf_format format;
	int elf_class;               /* 32 or 64: the dumped machine's word size */
	bool big_endian;
	uint16_t e_machine;          /* EM_* decided from the content (machine.c), EM_NONE: unknown */
	const char *machine_name;    /* "x86_64", "i386", ... (static), or NULL when unknown */
	char *machine_how;           /* what the machine was decided from, or NULL */
	char *machine_conflict;      /* why it is unknown: the evidence disagrees, or NULL */
	uint64_t page_size;          /* from the header, or VMCOREINFO PAGESIZE, or 4096 */

	struct vf_note_region *regions;
	size_t nregions;
	struct vf_note *notes;       /* all notes of all regions, in file order */
	size_t nnotes;
	struct vf_error *notes_malformed; /* first malformed/truncated note, or NULL */

	enum vf_vmci_origin vmci_origin;
	const struct vf_note *vmci_note;  /* the first VMCOREINFO note, or NULL */
	size_t vmci_count;                /* how many VMCOREINFO notes there are */
	uint64_t vmci_offset;        /* file offset of the text */
	uint64_t vmci_size;
	uint8_t *vmci_pointer_text;  /* owned copy when origin is KDUMP_POINTER */
	struct vf_vmcoreinfo *vmci;  /* parsed text, or NULL */
	struct vf_error *vmci_malformed; /* parse failure of the text, or NULL */

	struct vf_elf_info *elf;     /* format == VF_FORMAT_ELF */
	struct vf_kdump_info *kdump; /* format == VF_FORMAT_KDUMP */

	struct vf_mem mem;           /* guest physical memory in this dump */
};

/* Open a dump file (plain or flattened). */
struct vf_error *vf_dump_open(const char *path, struct vf_dump **ret);
/* Open a dump over an existing source (takes ownership of src). */
struct vf_error *vf_dump_open_src(struct vf_src *src, struct vf_dump **ret);
void vf_dump_destroy(struct vf_dump *dump);

/* Helpers for the format readers: load a note region, parse its notes, and
 * after all regions are loaded, locate and parse VMCOREINFO. */
struct vf_error *vf_dump_add_note_region(struct vf_dump *dump, uint64_t offset, uint64_t size);
struct vf_error *vf_dump_find_vmcoreinfo(struct vf_dump *dump);

const char *vf_format_name(const struct vf_dump *dump); /* "elf", "kdump", "kdump-flattened", "elf-flattened" */

#endif
