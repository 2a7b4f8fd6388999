/* arch.h - what is known of each architecture, behind one ops table.
 *
 * Everything that differs between the machines a QEMU guest can be (names,
 * word size and byte order, the CPU-register note's size, the VMCOREINFO
 * keys and number formats, how the kernel image is mapped, whether its page
 * tables can be walked, the kdump block size QEMU writes) is a field or a
 * hook of struct vf_arch, one definition per architecture in its own file
 * (arch/x86_64.c, arch/aarch64.c, ...) and listed once in arch/arch.c.  The
 * layers above ask this table instead of switching on EM_* values; a field
 * or hook that is 0/NULL means "not known for this architecture".
 */
#ifndef VF_ARCH_H
#define VF_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "util/mem.h"
#include "util/notes.h"
#include "util/vmcoreinfo.h"

/* How the kernel prints a VMCOREINFO number this tool writes back. */
enum vf_arch_num_format {
	VF_ARCH_NUM_DECIMAL,  /* "%ld", may be negative (x86_64 NUMBER(phys_base)) */
	VF_ARCH_NUM_HEX,      /* "0x%llx" (arm64 NUMBER(PHYS_OFFSET)) */
};

/* Where a page-table walk starts: the root as the CPU register holds it
 * (x86_64: CR3, whose low 12 bits, flags or PCID, are ignored) and the
 * number of levels (x86_64: 4, or 5 with CR4.LA57). */
struct vf_arch_pgroot {
	uint64_t root;
	int levels;
};

struct vf_arch {
	const char *name;          /* short name: messages, dump->machine_name */
	uint16_t em;               /* EM_* */
	/* canonical utsname.machine, as `uname -m` in the guest; NULL when not
	 * known (the machine is known by name only) */
	const char *uts_machine;
	const char *uts_machine_be;/* the big-endian one where it differs ("ppc64"), or NULL */
	const char *const *uts_prefixes; /* utsname.machine prefixes that name it, NULL-ended */
	int word_bits;             /* 64 or 32; 0: either, or not checked */
	int big_endian;            /* 1 big, 0 little, -1 either or not checked */
	/* sizeof(struct elf_prstatus): the common part (112 bytes on 64-bit, 72
	 * on 32-bit), the architecture's elf_gregset_t, pr_fpvalid and padding;
	 * 0 unknown */
	uint32_t prstatus_size;
	const char *phys_base_key; /* the VMCOREINFO key consumers take phys_base from, or NULL */
	enum vf_arch_num_format phys_base_format;
	const char *const *keys;   /* VMCOREINFO keys only this architecture exports, NULL-ended */
	/* kdump block size QEMU's dump-guest-memory writes (its ArchDumpInfo
	 * page_size: the target page size, or the largest the guest may use),
	 * 0 when QEMU cannot dump this machine */
	uint32_t kdump_block_size;
	/* The largest page size its kernels use (aarch64 64 KiB, ppc64 64 KiB,
	 * x86_64 4 KiB), 0 when not known: a guest note's PAGESIZE in an ELF
	 * dump, which has no page size of its own, must divide it. */
	uint32_t max_kernel_page;
	/* Why no consumer here reads this architecture's kdump files (NULL:
	 * they do): the fix then writes ELF only (--output-format elf). */
	const char *kdump_unread;
	/* The alignment of a 64-bit integer in this architecture's 32-bit ABI,
	 * which decides the kdump sub-header's layout (makedumpfile's struct
	 * kdump_sub_header as that compiler lays it out): 4 packed (i386), 8
	 * padded (arm, ppc); 0 for 64-bit architectures. */
	int u64_align32;
	/* The kernel image's fixed virtual window, [kimage_base, kimage_end):
	 * kimage_base maps to physical phys_base (x86_64 __START_KERNEL_map).
	 * Both 0 where the image has no fixed window (aarch64 KASLR). */
	uint64_t kimage_base, kimage_end;

	/* Kernel-image virtual address to physical.  phys_base: the value of
	 * phys_base_key when the caller has it from elsewhere (derived from the
	 * page tables), NULL to take what is needed from vmci.  NULL hook: not
	 * known. */
	struct vf_error *(*kernel_vtop)(const struct vf_vmcoreinfo *vmci, const uint64_t *phys_base,
					uint64_t vaddr, uint64_t *paddr);
	/* The kernel image's start (the address its /proc/vmcore PT_LOAD starts
	 * at) from VMCOREINFO.  NULL: not known. */
	struct vf_error *(*kernel_text_start)(const struct vf_vmcoreinfo *vmci, uint64_t *vaddr);

	/* Page tables: a walk is available when has_page_tables (then both hooks
	 * are set). */
	bool has_page_tables;
	/* Translate vaddr through the table at root.  A bounded number of reads;
	 * VF_ERR_NOT_FOUND: not mapped, VF_ERR_CORRUPT: a malformed entry,
	 * VF_ERR_INVALID: vaddr not an address of this paging mode; memory errors
	 * pass through with the level prepended. */
	struct vf_error *(*pt_vtop)(struct vf_mem *mem, const struct vf_arch_pgroot *root,
				    uint64_t vaddr, uint64_t *paddr);
	/* The kernel's own page table (x86_64 init_top_pgt), from VMCOREINFO. */
	struct vf_error *(*kernel_pgroot)(const struct vf_vmcoreinfo *vmci, const uint64_t *phys_base,
					  struct vf_arch_pgroot *root);

	/* Is this a note only this architecture's QEMU (or kernel) writes?  And
	 * what such notes are called in the machine's "decided from" line. */
	bool (*own_note)(const struct vf_note *note);
	const char *own_notes_what;
	/* Where the kernel itself says its VMCOREINFO note is, in guest memory
	 * (s390x: the lowcore's pointer at absolute 0xe0c): the note's physical
	 * address and size from its header, read in mem; VF_ERR_NOT_FOUND when
	 * the pointer is empty.  NULL: the architecture has no such pointer. */
	struct vf_error *(*locate_note)(struct vf_mem *mem, uint64_t *paddr, uint64_t *size);
	/* The guest's byte order from its CPU-register note (NT_PRSTATUS desc,
	 * in the dump's byte order be): 1 big, 0 little, -1 not known.  For
	 * machines of either order (ppc64: QEMU 7.2 writes a little-endian
	 * pseries guest's dumps big-endian).  NULL: the dump's order is the
	 * guest's. */
	int (*guest_order)(const uint8_t *prstatus, uint32_t len, bool be);
	/* Turn a note's desc (of the dump's notes) into the other byte order, in
	 * place, field by field; false when its layout is not known (the note
	 * is then left out of an output in the other order). */
	bool (*swap_note)(const char *name, uint32_t type, uint8_t *desc, uint32_t len);
	/* The kernel's linear-map address of physical paddr, for the RAM
	 * PT_LOADs of ELF output, as /proc/vmcore has them, where a consumer
	 * cannot walk the page tables (drgn 0.0.22 on riscv64); false when not
	 * mapped or not known.  NULL: RAM PT_LOADs keep QEMU's addresses. */
	bool (*linear_vaddr)(const struct vf_vmcoreinfo *vmci, uint64_t paddr, uint64_t *vaddr);
	const char *locate_note_what;  /* "the lowcore's vmcore_info pointer (0xe0c)" */
};

/* The x86_64 table, for the code that reads QEMU's x86 CPU-state notes. */
extern const struct vf_arch vf_arch_x86_64;

/* Every known architecture, in a fixed order (i < vf_arch_count()). */
size_t vf_arch_count(void);
const struct vf_arch *vf_arch_at(size_t i);

/* The architecture for an EM_* value, or NULL. */
const struct vf_arch *vf_arch_by_em(uint16_t em);
/* The same, NULL also when word_bits / big_endian do not fit it. */
const struct vf_arch *vf_arch_by_em_layout(uint16_t em, int word_bits, bool big_endian);
/* Do this word size and byte order fit a? */
bool vf_arch_fits(const struct vf_arch *a, int word_bits, bool big_endian);
/* The architecture a utsname.machine string names ("i686" -> i386, "arm64"
 * -> aarch64), by prefix; NULL for NULL, "Unknown" and the unknown. */
const struct vf_arch *vf_arch_by_uts(const char *uts_machine);
/* The architecture of this short name ("x86_64", "i386") or canonical
 * utsname.machine ("i686", "ppc64le"), exactly; or NULL. */
const struct vf_arch *vf_arch_by_name(const char *name);

/* Short name of an EM_* value, or NULL. */
const char *vf_arch_name(uint16_t em);
/* EM_* of a utsname.machine string, or EM_NONE (0). */
uint16_t vf_arch_em_by_uts(const char *uts_machine);
/* Canonical utsname.machine for this byte order, or NULL. */
const char *vf_arch_uts_name(const struct vf_arch *a, bool big_endian);

/* The kernel image's start as SYMBOL(_text), else SYMBOL(_stext): a
 * kernel_text_start for architectures whose image starts at _text. */
struct vf_error *vf_arch_text_symbol(const struct vf_vmcoreinfo *vmci, uint64_t *vaddr) VF_MUST_CHECK;

/* "KEY=VALUE" for phys_base in the kernel's format for the key (no newline)
 * into buf, as snprintf; -1 when a has no phys_base key. */
int vf_arch_phys_base_line(const struct vf_arch *a, uint64_t phys_base, char *buf, size_t size);

#endif
