/* others.c - machines known by name only: an EM_* value and the utsname
 * prefixes that name it.  Nothing else of them is known or checked (no word
 * size, byte order, notes or keys), so they never decide a layout. */
#include "config.h"
#include "arch/arch.h"

#include <elf.h>

#ifndef EM_LOONGARCH
#define EM_LOONGARCH 258
#endif

static const char *const none[] = { NULL };
static const char *const ppc_prefixes[] = { "ppc", NULL };
static const char *const mips_prefixes[] = { "mips", NULL };
static const char *const loongarch64_prefixes[] = { "loongarch64", NULL };

const struct vf_arch vf_arch_ppc = {
	.name = "ppc",
	.em = EM_PPC,
	.uts_prefixes = ppc_prefixes,
	.big_endian = -1,
	.keys = none,
	.kdump_block_size = 4096,  /* TARGET_PAGE_SIZE */
	.u64_align32 = 8,
};

const struct vf_arch vf_arch_mips = {
	.name = "mips",
	.em = EM_MIPS,
	.uts_prefixes = mips_prefixes,
	.big_endian = -1,
	.keys = none,
	.kdump_block_size = 0,  /* QEMU's dump-guest-memory has no MIPS target */
};

const struct vf_arch vf_arch_loongarch64 = {
	.name = "loongarch64",
	.em = EM_LOONGARCH,
	.uts_prefixes = loongarch64_prefixes,
	.big_endian = -1,
	.keys = none,
	.kdump_block_size = 4096,  /* TARGET_PAGE_SIZE */
};
