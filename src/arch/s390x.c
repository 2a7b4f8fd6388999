/* s390x.c - IBM Z, 64-bit, big-endian. */
#include "config.h"
#include "arch/arch.h"

#include <elf.h>
#include <inttypes.h>
#include <string.h>

/* Linux on s390x before 6.6 runs its kernel at virtual = physical: the image
 * and the identity map alike.  Later kernels map themselves elsewhere and
 * say so with IDENTITYBASE (and a virtual KERNELOFFSET), which is not
 * translated here. */
static struct vf_error *kernel_vtop(const struct vf_vmcoreinfo *vmci, const uint64_t *phys_base,
				    uint64_t vaddr, uint64_t *paddr)
{
	if (vf_vmcoreinfo_get(vmci, "IDENTITYBASE"))
		return vf_error_create(VF_ERR_UNSUPPORTED, "translating the kernel addresses of "
				       "an s390x kernel with IDENTITYBASE (Linux 6.6 and later: the "
				       "kernel at virtual addresses) is not implemented");
	*paddr = vaddr;
	return NULL;
}

static struct vf_error *kernel_text_start(const struct vf_vmcoreinfo *vmci, uint64_t *vaddr)
{
	return vf_vmcoreinfo_number(vmci, "SYMBOL(_stext)", vaddr);
}

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
	.kernel_vtop = kernel_vtop,
	.kernel_text_start = kernel_text_start,
	.own_note = own_note,
	.own_notes_what = "s390 register notes (NT_S390_*)",
};
