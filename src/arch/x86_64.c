/* x86_64.c - x86_64: the kernel image map and the 4/5-level page-table walk. */
#include "config.h"
#include "arch/arch.h"

#include <elf.h>
#include <inttypes.h>
#include <string.h>

#include "util/cursor.h"

/* __START_KERNEL_map: the kernel image is mapped at it + phys_base, below the
 * module area, at most 1 GiB (KASLR) above it. */
#define START_KERNEL_MAP  0xffffffff80000000ull
#define KERNEL_IMAGE_END  0xffffffffc0000000ull
/* _text without KASLR: CONFIG_PHYSICAL_START (16 MiB) into the map. */
#define DEFAULT_TEXT      (START_KERNEL_MAP + 0x1000000ull)
/* CONFIG_PHYSICAL_ALIGN: the image starts on a 2 MiB boundary. */
#define IMAGE_ALIGN       (2ull << 20)

#define PTE_PRESENT   (1ull << 0)
#define PTE_PS        (1ull << 7)    /* large page at PDPT/PD; reserved at PML4/PML5 */
#define PTE_ADDR_MASK 0x000ffffffffff000ull  /* bits 51:12 */

static struct vf_error *kernel_vtop(const struct vf_vmcoreinfo *vmci, const uint64_t *phys_base,
				    uint64_t vaddr, uint64_t *paddr)
{
	if (vaddr < START_KERNEL_MAP)
		return vf_error_create(VF_ERR_UNSUPPORTED, "0x%" PRIx64 " is not a kernel "
				       "image address", vaddr);
	uint64_t off;
	if (phys_base) {
		off = *phys_base;
	} else {
		struct vf_error *err = vf_vmcoreinfo_number(vmci, "NUMBER(phys_base)", &off);
		if (err)
			return err;
	}
	*paddr = vaddr - START_KERNEL_MAP + off;
	return NULL;
}

static struct vf_error *kernel_text_start(const struct vf_vmcoreinfo *vmci, uint64_t *vaddr)
{
	uint64_t off;
	struct vf_error *err = vf_vmcoreinfo_number(vmci, "KERNELOFFSET", &off);
	if (!err) {
		*vaddr = DEFAULT_TEXT + off;
		return NULL;
	}
	vf_error_destroy(err);
	err = vf_vmcoreinfo_number(vmci, "SYMBOL(_stext)", vaddr);
	if (err)
		return err;
	*vaddr &= ~(IMAGE_ALIGN - 1);
	return NULL;
}

static struct vf_error *pt_vtop(struct vf_mem *mem, const struct vf_arch_pgroot *root,
				uint64_t vaddr, uint64_t *paddr)
{
	static const char *const names[] = { "PML5", "PML4", "PDPT", "PD", "PT" };
	const int levels = root->levels;
	if (levels != 4 && levels != 5)
		return vf_error_create(VF_ERR_INVALID, "x86_64 paging has 4 or 5 levels, not %d",
				       levels);
	const int vbits = levels == 5 ? 57 : 48;
	uint64_t top = vaddr >> (vbits - 1);
	if (top != 0 && top != (UINT64_MAX >> (vbits - 1)))
		return vf_error_create(VF_ERR_INVALID, "0x%016" PRIx64 " is not a canonical "
				       "%d-bit address", vaddr, vbits);
	uint64_t table = root->root & PTE_ADDR_MASK;
	/* One read per level: a table pointing at itself or anywhere else cannot
	 * make the walk longer than `levels` reads. */
	for (int l = 0; l < levels; l++) {
		const int shift = 12 + 9 * (levels - 1 - l);
		const char *name = names[5 - levels + l];
		uint64_t ea = table + ((vaddr >> shift) & 511) * 8;
		uint8_t b[8];
		struct vf_error *err = vf_mem_read(mem, ea, b, sizeof(b));
		if (err)
			return vf_error_prefix(err, "reading the %s entry for 0x%016" PRIx64
					       " at 0x%" PRIx64, name, vaddr, ea);
		uint64_t e = vf_load_uint(b, 8, false);
		if (!(e & PTE_PRESENT))
			return vf_error_paddr(VF_ERR_NOT_FOUND, ea, "0x%016" PRIx64 " is not "
					      "mapped: its %s entry (0x%" PRIx64 ") is not "
					      "present", vaddr, name, e);
		if (shift == 12) {
			*paddr = (e & PTE_ADDR_MASK) | (vaddr & 0xfff);
			return NULL;
		}
		if (e & PTE_PS) {
			if (shift > 30)
				return vf_error_paddr(VF_ERR_CORRUPT, ea, "%s entry 0x%" PRIx64
						      " for 0x%016" PRIx64 " has the reserved "
						      "page-size bit set", name, e, vaddr);
			uint64_t off_mask = (1ull << shift) - 1;
			/* Bit 12 is PAT; bits 13..shift-1 are reserved. */
			if (e & off_mask & ~0x1fffull)
				return vf_error_paddr(VF_ERR_CORRUPT, ea, "%s entry 0x%" PRIx64
						      " for 0x%016" PRIx64 " maps a %s page at "
						      "an unaligned address", name, e, vaddr,
						      shift == 30 ? "1 GiB" : "2 MiB");
			*paddr = (e & PTE_ADDR_MASK & ~off_mask) | (vaddr & off_mask);
			return NULL;
		}
		table = e & PTE_ADDR_MASK;
	}
	/* Not reached: the PT level (shift 12) always returns. */
	return vf_error_create(VF_ERR_CORRUPT, "page walk for 0x%016" PRIx64 " did not end",
			       vaddr);
}

/* init_top_pgt (swapper_pg_dir on older kernels) is in the image. */
static struct vf_error *kernel_pgroot(const struct vf_vmcoreinfo *vmci, const uint64_t *phys_base,
				      struct vf_arch_pgroot *root)
{
	uint64_t sym, l5 = 0;
	struct vf_error *err = vf_vmcoreinfo_number(vmci, "SYMBOL(init_top_pgt)", &sym);
	if (err && err->code == VF_ERR_NOT_FOUND) {
		vf_error_destroy(err);
		err = vf_vmcoreinfo_number(vmci, "SYMBOL(swapper_pg_dir)", &sym);
	}
	if (!err)
		err = kernel_vtop(vmci, phys_base, sym, &root->root);
	if (err)
		return vf_error_prefix(err, "locating the kernel's page table");
	err = vf_vmcoreinfo_number(vmci, "NUMBER(pgtable_l5_enabled)", &l5);
	if (err && err->code != VF_ERR_NOT_FOUND)
		return err;
	vf_error_destroy(err);
	root->levels = l5 ? 5 : 4;
	return NULL;
}

/* QEMUCPUState: only target/i386 writes it. */
static bool own_note(const struct vf_note *n)
{
	return n->type == 0 && strcmp(n->name, "QEMU") == 0;
}

static const char *const uts_prefixes[] = { "x86_64", NULL };
static const char *const keys[] = { "NUMBER(phys_base)", "SYMBOL(init_top_pgt)",
				    "NUMBER(pgtable_l5_enabled)", NULL };

const struct vf_arch vf_arch_x86_64 = {
	.name = "x86_64",
	.em = EM_X86_64,
	.uts_machine = "x86_64",
	.uts_prefixes = uts_prefixes,
	.word_bits = 64,
	.big_endian = 0,
	.prstatus_size = 336,
	.phys_base_key = "NUMBER(phys_base)",
	.phys_base_format = VF_ARCH_NUM_DECIMAL,
	.keys = keys,
	.kdump_block_size = 4096,
	.max_kernel_page = 4096,
	.kimage_base = START_KERNEL_MAP,
	.kimage_end = KERNEL_IMAGE_END,
	.kernel_vtop = kernel_vtop,
	.kernel_text_start = kernel_text_start,
	.has_page_tables = true,
	.pt_vtop = pt_vtop,
	.kernel_pgroot = kernel_pgroot,
	.own_note = own_note,
	.own_notes_what = "QEMU's x86 CPU-state notes",
};
