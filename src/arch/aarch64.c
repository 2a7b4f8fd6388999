/* aarch64.c - 64-bit Arm: the kernel image is where kimage_voffset says. */
#include "config.h"
#include "arch/arch.h"

#include <elf.h>
#include <inttypes.h>
#include <string.h>

/* The linear map (since Linux 5.4, the lower half of the kernel's space):
 * [PAGE_OFFSET, PAGE_END) with PAGE_OFFSET = -2^VA_BITS and PAGE_END =
 * -2^(VA_BITS_MIN - 1), VA_BITS_MIN being 48 for a 52-bit kernel; it maps
 * PAGE_OFFSET to physical PHYS_OFFSET (memstart_addr, which may be
 * "negative" when the map is randomised). */
static bool linear_vtop(const struct vf_vmcoreinfo *vmci, const uint64_t *phys_base,
			uint64_t vaddr, uint64_t *paddr, struct vf_error **err)
{
	uint64_t va_bits, phys_off;
	*err = vf_vmcoreinfo_number(vmci, "NUMBER(VA_BITS)", &va_bits);
	if (*err) {
		vf_error_destroy(*err);
		*err = NULL;
		return false;
	}
	if (va_bits < 36 || va_bits > 52)
		return false;
	uint64_t min_bits = va_bits > 48 ? 48 : va_bits;
	uint64_t page_offset = (uint64_t)0 - (1ull << va_bits);
	uint64_t page_end = (uint64_t)0 - (1ull << (min_bits - 1));
	if (vaddr - page_offset >= page_end - page_offset)
		return false;
	if (phys_base) {
		phys_off = *phys_base;
	} else if ((*err = vf_vmcoreinfo_number(vmci, "NUMBER(PHYS_OFFSET)", &phys_off))) {
		*err = vf_error_prefix(*err, "a linear-map address 0x%" PRIx64, vaddr);
		return true;
	}
	*paddr = vaddr - page_offset + phys_off;
	return true;
}

/* Kernel virtual to physical: the linear map, or else the image, which has
 * no fixed window (KASLR moves it anywhere in the vmalloc area):
 * NUMBER(kimage_voffset) is its virtual-to-physical offset. */
static struct vf_error *kernel_vtop(const struct vf_vmcoreinfo *vmci, const uint64_t *phys_base,
				    uint64_t vaddr, uint64_t *paddr)
{
	struct vf_error *err;
	if (linear_vtop(vmci, phys_base, vaddr, paddr, &err))
		return err;
	uint64_t off;
	err = vf_vmcoreinfo_number(vmci, "NUMBER(kimage_voffset)", &off);
	if (err)
		return err;
	*paddr = vaddr - off;
	return NULL;
}

/* NT_ARM_* (0x400...): the kernel's and QEMU's arm64 register sets. */
static bool own_note(const struct vf_note *n)
{
	return n->type >= 0x400 && n->type < 0x420 && strcmp(n->name, "LINUX") == 0;
}

static const char *const uts_prefixes[] = { "aarch64", "arm64", NULL };
static const char *const keys[] = { "NUMBER(kimage_voffset)", "NUMBER(PHYS_OFFSET)",
				    "NUMBER(TCR_EL1_T1SZ)", NULL };

const struct vf_arch vf_arch_aarch64 = {
	.name = "aarch64",
	.em = EM_AARCH64,
	.uts_machine = "aarch64",
	.uts_prefixes = uts_prefixes,
	.word_bits = 64,
	.big_endian = 0,
	.prstatus_size = 392,  /* 112 + 34 registers of 8 + pr_fpvalid, padded */
	.phys_base_key = "NUMBER(PHYS_OFFSET)",
	.phys_base_format = VF_ARCH_NUM_HEX,
	.keys = keys,
	/* target/arm/arch_dump.c: "aarch64 max pagesize", the guest may use 64 KiB pages */
	.kdump_block_size = 65536,
	.max_kernel_page = 65536,
	.kernel_vtop = kernel_vtop,
	.kernel_text_start = vf_arch_text_symbol,
	.own_note = own_note,
	.own_notes_what = "arm64 register notes (NT_ARM_*)",
};
