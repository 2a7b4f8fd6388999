/* i386.c - 32-bit x86. */
#include "config.h"
#include "arch/arch.h"

#include <elf.h>
#include <string.h>

/* QEMUCPUState: target/i386 writes it for 32-bit guests too; machine
 * detection gives notes two architectures claim to the one of the dump's
 * word size. */
static bool own_note(const struct vf_note *n)
{
	return n->type == 0 && strcmp(n->name, "QEMU") == 0;
}

static const char *const uts_prefixes[] = { "i386", "i486", "i586", "i686", NULL };
static const char *const keys[] = { NULL };

const struct vf_arch vf_arch_i386 = {
	.name = "i386",
	.em = EM_386,
	.uts_machine = "i686",
	.uts_prefixes = uts_prefixes,
	.word_bits = 32,
	.big_endian = 0,
	.prstatus_size = 144,
	.keys = keys,
	.u64_align32 = 4,
	.kdump_block_size = 4096,
	.max_kernel_page = 4096,
	.own_note = own_note,
	.own_notes_what = "QEMU's x86 CPU-state notes",
};
