/* kernel.h - facts read from the guest kernel's memory through a dump, with
 * the VMCOREINFO text as the map (the dump's, or the guest's when the dump
 * has none). */
#ifndef VF_KERNEL_H
#define VF_KERNEL_H

#include <stdint.h>

#include "format/dump.h"
#include "util/error.h"

#define VF_UTS_FIELDS 6
#define VF_UTS_LEN 65

/* Kernel-image virtual address to physical, by the machine's kernel_vtop
 * (arch/arch.h: x86_64 vaddr - __START_KERNEL_map + NUMBER(phys_base);
 * aarch64 vaddr - NUMBER(kimage_voffset)).  VF_ERR_UNSUPPORTED for machines
 * without one. */
struct vf_error *vf_kernel_vtop(const struct vf_dump *dump, const struct vf_vmcoreinfo *vmci,
				uint64_t vaddr, uint64_t *paddr) VF_MUST_CHECK;

/* init_uts_ns.name (struct new_utsname: sysname, nodename, release, version,
 * machine, domainname, 65 bytes each), read from guest memory and checked:
 * every field NUL-terminated text, release equal to OSRELEASE. */
struct vf_error *vf_kernel_utsname(const struct vf_dump *dump, const struct vf_vmcoreinfo *vmci,
				   char uts[VF_UTS_FIELDS][VF_UTS_LEN]) VF_MUST_CHECK;

/* mem_section roots the memory-map reader reads at most, from the top down
 * (each: its pointer, and one page of sections when it has one): with
 * x86_64's 128 MiB sections, 16 bytes each, 512 TiB of memory above the
 * last present section; past it the end cannot be had (VF_ERR_CORRUPT). */
#define VF_KERNEL_MEMMAP_MAX_ROOTS 16384u

/* The end of the kernel's memory map, as makedumpfile computes it: the pfn
 * past the last SPARSEMEM section (among those below limit_pfn) whose
 * section_mem_map is marked present.  SECTION_SIZE_BITS must be 15..31 and
 * MAX_PHYSMEM_BITS 32..56 (a kernel's; else VF_ERR_CORRUPT), and at most
 * VF_KERNEL_MEMMAP_MAX_ROOTS roots are read.  Machines with a page-table walk
 * (x86_64) and SPARSEMEM_EXTREME only: mem_section is read through the
 * kernel's own page table (the arch's kernel_pgroot: x86_64 init_top_pgt).
 * VF_ERR_UNSUPPORTED for other machines or memory models. */
struct vf_error *vf_kernel_mem_map_end(const struct vf_dump *dump,
				       const struct vf_vmcoreinfo *vmci, uint64_t limit_pfn,
				       uint64_t *end_pfn) VF_MUST_CHECK;

/* The kernel image's mapping, as the kernel's own /proc/vmcore describes it
 * in a PT_LOAD: virtual start, physical start and size.  From the arch's
 * kernel_text_start (x86_64: 0xffffffff81000000 + KERNELOFFSET, else
 * SYMBOL(_stext); aarch64: SYMBOL(_text) or _stext), as far as the kernel's
 * page table maps it linearly (2 MiB steps, at most 1 GiB) where the machine
 * has a page-table walk; otherwise, or where the page table cannot be read,
 * up to the last kernel-image SYMBOL rounded up to 2 MiB.  *how (static)
 * says which. */
struct vf_error *vf_kernel_text(const struct vf_dump *dump, const struct vf_vmcoreinfo *vmci,
				uint64_t *vaddr, uint64_t *paddr, uint64_t *size,
				const char **how) VF_MUST_CHECK;

#endif
