/* pgtable.h - x86_64 phys_base from the guest's own page tables.
 *
 * Kernels whose VMCOREINFO lacks NUMBER(phys_base) (older ones export only
 * SYMBOL(phys_base)) still leave the answer in the dump: QEMU writes each
 * vCPU's control registers in a "QEMU" note (type 0, struct QEMUCPUState),
 * CR3 is the root of a page table whose kernel half maps the kernel image,
 * and for the image paddr = vaddr - __START_KERNEL_map + phys_base.  So
 * walking a kernel-image symbol through those tables gives phys_base, and
 * walking two or more gives a cross-check.  The walk itself and the image
 * window are x86_64's arch ops (arch/x86_64.c); this reads QEMU's notes.
 */
#ifndef VF_PGTABLE_H
#define VF_PGTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/arch.h"
#include "format/dump.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/vmcoreinfo.h"

#define VF_X86_CR0_PG    (1ull << 31)
#define VF_X86_CR4_PAE   (1ull << 5)
#define VF_X86_CR4_LA57  (1ull << 12)
#define VF_X86_CR3_ADDR  0x000ffffffffff000ull  /* the table's address, bits 51:12 */
/* Kernel page-table isolation: the user PGD is the kernel PGD + 4 KiB. */
#define VF_X86_CR3_PTI_USER (1ull << 12)

/* struct QEMUCPUState (QEMU target/i386/arch_dump.c), little-endian: version
 * and size (u32 each), 16 general registers, rip, rflags, 10 segments of 24
 * bytes (cs ds es fs gs ss ldt tr gdt idt), cr[5], then fields newer QEMUs
 * add (kernel_gs_base, ...), which the size field covers. */
#define VF_QEMU_CPUSTATE_VERSION 1
#define VF_QEMU_CPUSTATE_CR_OFF  0x188   /* cr[0]; cr[n] at + 8 * n */
#define VF_QEMU_CPUSTATE_MIN     0x1b0   /* through cr[4] */

struct vf_x86_cpu {
	size_t index;            /* 0-based position among the dump's QEMU notes */
	uint64_t note_offset;    /* file offset of the note's descriptor */
	uint64_t cr0, cr3, cr4;
	bool valid;              /* the note parsed: version 1, size covers cr[] */
	char why[160];           /* !valid: what is wrong with the note */
};

/* Parse one QEMU note descriptor (desc, descsz at file offset file_off).
 * Checks version and size; fills cpu (cpu->index is left to the caller). */
struct vf_error *vf_qemu_cpu_state_parse(const uint8_t *desc, size_t descsz, uint64_t file_off,
					 struct vf_x86_cpu *cpu) VF_MUST_CHECK;

/* Every "QEMU" note of type 0 in the dump, in file order, one entry each.
 * A malformed note is an entry with valid = false and why set, not an error.
 * *cpus is malloc'd (NULL when *n is 0); free() it. */
struct vf_error *vf_qemu_cpu_states(const struct vf_dump *dump, struct vf_x86_cpu **cpus,
				    size_t *n) VF_MUST_CHECK;

/* Does this CPU's state allow a 64-bit page walk?  NULL if so; else a static
 * string saying why not ("CR0.PG is clear: paging off", ...). */
const char *vf_x86_cpu_unusable(const struct vf_x86_cpu *cpu);

/* phys_base from page tables: for each usable CPU (and, under KPTI, the
 * kernel half of a user CR3), translate the kernel-image symbols VMCOREINFO
 * names (_stext, init_top_pgt/swapper_pg_dir, init_uts_ns, phys_base, ...),
 * and require two agreeing sources: two symbols, or a symbol plus the
 * kernel's own phys_base variable.  Any disagreement, between symbols, CPUs
 * or the variable, is a VF_ERR_CORRUPT error: nothing is guessed.
 * NUMBER(phys_base) is not used.  On success *how (malloc'd, free it) is one
 * line saying how the value was obtained. */
struct vf_error *vf_x86_phys_base_derive(struct vf_mem *mem, const struct vf_x86_cpu *cpus,
					 size_t ncpus, const struct vf_vmcoreinfo *vmci,
					 uint64_t *phys_base, char **how) VF_MUST_CHECK;

/* The same over an opened dump: its QEMU notes and its memory.  For machines
 * whose arch ops have a page-table walk (has_page_tables: today x86_64 only,
 * whose CPU roots these QEMU notes give); VF_ERR_UNSUPPORTED for others. */
struct vf_error *vf_x86_phys_base_from_pgtables(const struct vf_dump *dump,
						const struct vf_vmcoreinfo *vmci,
						uint64_t *phys_base, char **how) VF_MUST_CHECK;

#endif
