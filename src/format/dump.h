/* dump.h - an opened dump: what it is, its notes, its VMCOREINFO, its memory.
 *
 * Everything format-independent is here.  Each format exports one ops table
 * (format/elfcore.h, format/kdump.h) whose open fills this structure; the
 * opener (format/open.h) picks the format.  A format's header description
 * (dump->elf, dump->kdump: the header fields and their file offsets, for
 * the diagnosis and the planners) is public in its header; its reader state
 * is private to its .c file.
 */
#ifndef VF_DUMP_H
#define VF_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "util/mem.h"
#include "util/notes.h"
#include "source/src.h"
#include "util/vmcoreinfo.h"

enum vf_format {
	VF_FORMAT_ELF,
	VF_FORMAT_KDUMP,
};

struct vf_dump;
struct vf_elf_info;
struct vf_kdump_info;

/* One format: the opener's probe table lists these. */
struct vf_format_ops {
	const char *name;            /* "ELF core", "kdump-compressed" */
	enum vf_format format;
	/* Does the logical file start like this format?  From the first bytes
	 * only; "not mine" is false, never an error. */
	bool (*probe)(const uint8_t *head, size_t len);
	/* Fill the dump from dump->src (headers, note regions, memory). */
	struct vf_error *(*open)(struct vf_dump *dump);
	/* Free what open allocated, also after a failed open. */
	void (*deinit)(struct vf_dump *dump);
};

/* A region of the file holding notes: a PT_NOTE segment or the kdump notes blob. */
struct vf_note_region {
	uint64_t offset;    /* file offset (logical) */
	uint64_t size;
	uint8_t *data;      /* the bytes, owned unless shared */
	bool shared;        /* data points into an earlier region's bytes (this
			     * region lies inside it: read once) */
};

/* Where the VMCOREINFO text was found. */
enum vf_vmci_origin {
	VF_VMCI_NONE,
	VF_VMCI_NOTE,          /* a VMCOREINFO note in the notes */
	VF_VMCI_KDUMP_POINTER, /* kdump offset_vmcoreinfo/size_vmcoreinfo only */
};

/* Limits on the notes, over all note regions together (a guest or a forged
 * header decides how many PT_NOTEs point where): bytes of notes read and
 * parsed, and notes kept.  QEMU writes one or two notes a CPU (under 1 KiB
 * each) and a VMCOREINFO below 1 MiB: 4096 CPUs take under 5 MiB.  Beyond
 * either limit the dump is refused as corrupt (exit 4): nothing is dropped. */
#define VF_NOTES_TOTAL_MAX (16u << 20)   /* 16 MiB of notes in all */
#define VF_NOTES_COUNT_MAX 65536u        /* 65536 notes in all */
#define VF_NOTE_REGIONS_MAX 4096u        /* 4096 distinct note regions (PT_NOTEs) */

struct vf_dump {
	struct vf_src *src;          /* owned */
	const struct vf_format_ops *ops; /* the format that opened it */
	enum vf_format format;
	int elf_class;               /* 32 or 64: the dumped machine's word size */
	bool big_endian;
	/* the byte order of the guest's memory: big_endian, unless its CPU
	 * notes say otherwise (QEMU 7.2 writes a ppc64le pseries guest's dumps
	 * big-endian) */
	bool guest_big_endian;
	uint16_t e_machine;          /* EM_* decided from the content (machine.c), EM_NONE: unknown */
	const char *machine_name;    /* "x86_64", "i386", ... (static), or NULL when unknown */
	char *machine_how;           /* what the machine was decided from, or NULL */
	char *machine_conflict;      /* why it is unknown: the evidence disagrees, or NULL */
	uint64_t page_size;          /* from the header, or VMCOREINFO PAGESIZE, or 4096 */
	/* the kernel's page size: the dump's own VMCOREINFO PAGESIZE (a power
	 * of two from 4 KiB dividing page_size: a kdump's block may be larger,
	 * QEMU writes 64 KiB blocks on aarch64), else 4096; and whether it came
	 * from the note */
	uint64_t kernel_page_size;
	bool kernel_page_size_known;

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

void vf_dump_destroy(struct vf_dump *dump);

/* Helpers for the format readers: load a note region, parse its notes, and
 * after all regions are loaded, locate and parse VMCOREINFO.  A region that
 * repeats an earlier one (same offset and size) is skipped: its notes are
 * those already parsed; one inside an earlier region is parsed from the
 * bytes already read.  The limits above apply to the sum of the rest. */
struct vf_error *vf_dump_add_note_region(struct vf_dump *dump, uint64_t offset, uint64_t size) VF_MUST_CHECK;
struct vf_error *vf_dump_find_vmcoreinfo(struct vf_dump *dump) VF_MUST_CHECK;
/* A VMCOREINFO text the format points at outside the notes (kdump's
 * offset_vmcoreinfo/size_vmcoreinfo): read and parse it when it lies inside
 * the file and below the text cap (else inspect reports the pointer). */
struct vf_error *vf_dump_vmcoreinfo_at(struct vf_dump *dump, uint64_t offset, uint64_t size) VF_MUST_CHECK;

/* What a guest note's PAGESIZE must divide to belong to this dump: a kdump's
 * block size; an ELF dump's page size when its own note gave it; for an ELF
 * dump without a note, the largest page its architecture's kernels use (else
 * the dump's default page size). */
uint64_t vf_dump_note_page_limit(const struct vf_dump *dump);
const char *vf_format_name(const struct vf_dump *dump); /* "elf", "kdump", "kdump-flattened", "elf-flattened" */

#endif
