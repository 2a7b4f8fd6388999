/* ppc64.c - 64-bit POWER, either byte order (ppc64le, ppc64). */
#include "config.h"
#include "arch/arch.h"

#include <elf.h>
#include <string.h>

/* NT_PPC_* (0x100...). */
static bool own_note(const struct vf_note *n)
{
	return n->type >= 0x100 && n->type < 0x110 && strcmp(n->name, "LINUX") == 0;
}

static const char *const uts_prefixes[] = { "ppc64", NULL };
static const char *const keys[] = { "SYMBOL(mmu_psize_defs)", "SYMBOL(vmemmap_list)",
				    "NUMBER(RADIX_MMU)", NULL };

const struct vf_arch vf_arch_ppc64 = {
	.name = "ppc64",
	.em = EM_PPC64,
	.uts_machine = "ppc64le",
	.uts_machine_be = "ppc64",
	.uts_prefixes = uts_prefixes,
	.word_bits = 64,
	.big_endian = -1,
	.prstatus_size = 504,
	.keys = keys,
	/* target/ppc/arch_dump.c: 64 KiB, the largest page of a pseries kernel
	 * (other machines: TARGET_PAGE_SIZE, 4 KiB) */
	.kdump_block_size = 65536,
	.own_note = own_note,
	.own_notes_what = "POWER register notes (NT_PPC_*)",
};
