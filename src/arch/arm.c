/* arm.c - 32-bit Arm. */
#include "config.h"
#include "arch/arch.h"

#include <elf.h>

static const char *const uts_prefixes[] = { "arm", NULL };
static const char *const keys[] = { NULL };

const struct vf_arch vf_arch_arm = {
	.name = "arm",
	.em = EM_ARM,
	.uts_machine = "armv7l",
	.uts_prefixes = uts_prefixes,
	.word_bits = 32,
	.big_endian = 0,
	.prstatus_size = 148,
	.keys = keys,
	.u64_align32 = 8,
	.kdump_block_size = 4096,  /* target/arm/arch_dump.c: 4 KiB for AArch32 */
	.max_kernel_page = 4096,
};
