/* aarch64.c - 64-bit Arm: the kernel image is where kimage_voffset says. */
#include "config.h"
#include "arch/arch.h"

#include <elf.h>
#include <string.h>

/* The image has no fixed window (KASLR moves it anywhere in the vmalloc
 * area): NUMBER(kimage_voffset) is the virtual-to-physical offset. */
static struct vf_error *kernel_vtop(const struct vf_vmcoreinfo *vmci, const uint64_t *phys_base,
				    uint64_t vaddr, uint64_t *paddr)
{
	uint64_t off;
	struct vf_error *err = vf_vmcoreinfo_number(vmci, "NUMBER(kimage_voffset)", &off);
	if (err)
		return err;
	*paddr = vaddr - off;
	return NULL;
}

static struct vf_error *kernel_text_start(const struct vf_vmcoreinfo *vmci, uint64_t *vaddr)
{
	struct vf_error *err = vf_vmcoreinfo_number(vmci, "SYMBOL(_text)", vaddr);
	if (!err)
		return NULL;
	vf_error_destroy(err);
	return vf_vmcoreinfo_number(vmci, "SYMBOL(_stext)", vaddr);
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
	.kernel_vtop = kernel_vtop,
	.kernel_text_start = kernel_text_start,
	.own_note = own_note,
	.own_notes_what = "arm64 register notes (NT_ARM_*)",
};
