/* s390x.c - IBM Z, 64-bit, big-endian. */
#include "config.h"
#include "arch/arch.h"

#include <elf.h>
#include <string.h>

/* NT_S390_* (0x300...): QEMU's s390x target writes them as "CORE" notes,
 * the kernel as "LINUX". */
static bool own_note(const struct vf_note *n)
{
	return n->type >= 0x300 && n->type < 0x320 &&
	       (strcmp(n->name, "CORE") == 0 || strcmp(n->name, "LINUX") == 0);
}

static const char *const uts_prefixes[] = { "s390", NULL };
static const char *const keys[] = { "SYMBOL(lowcore_ptr)", "SAMODE31", "IDENTITYBASE", NULL };

const struct vf_arch vf_arch_s390x = {
	.name = "s390x",
	.em = EM_S390,
	.uts_machine = "s390x",
	.uts_prefixes = uts_prefixes,
	.word_bits = 64,
	.big_endian = 1,
	.prstatus_size = 336,  /* as x86_64's: the byte order tells them apart */
	.keys = keys,
	.kdump_block_size = 4096,  /* TARGET_PAGE_SIZE */
	.own_note = own_note,
	.own_notes_what = "s390 register notes (NT_S390_*)",
};
