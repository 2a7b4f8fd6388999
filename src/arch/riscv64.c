/* riscv64.c - 64-bit RISC-V. */
#include "config.h"
#include "arch/arch.h"

#include <elf.h>

#ifndef EM_RISCV
#define EM_RISCV 243
#endif

static const char *const uts_prefixes[] = { "riscv64", NULL };
static const char *const keys[] = { "NUMBER(phys_ram_base)", "NUMBER(KERNEL_LINK_ADDR)", NULL };

const struct vf_arch vf_arch_riscv64 = {
	.name = "riscv64",
	.em = EM_RISCV,
	.uts_machine = "riscv64",
	.uts_prefixes = uts_prefixes,
	.word_bits = 64,
	.big_endian = 0,
	.prstatus_size = 376,
	.keys = keys,
	.kdump_block_size = 4096,  /* TARGET_PAGE_SIZE */
	.max_kernel_page = 4096,
};
