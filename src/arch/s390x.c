/* s390x.c - IBM Z, 64-bit, big-endian. */
#include "config.h"
#include "arch/arch.h"
#include "util/cursor.h"

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

/* The kernel keeps its VMCOREINFO note's physical address in the lowcore,
 * the u64 at absolute address 0xe0c (struct lowcore's vmcore_info). */
#define LOWCORE_VMCORE_INFO 0xe0cu

static struct vf_error *locate_note(struct vf_mem *mem, uint64_t *paddr, uint64_t *size)
{
	uint8_t b[12];
	struct vf_error *err = vf_mem_read(mem, LOWCORE_VMCORE_INFO, b, 8);
	if (err)
		return vf_error_prefix(err, "reading the lowcore's vmcore_info pointer");
	uint64_t p = vf_load_uint(b, 8, true);
	if (!p)
		return vf_error_paddr(VF_ERR_NOT_FOUND, LOWCORE_VMCORE_INFO, "the lowcore's "
				      "vmcore_info pointer is 0");
	if ((err = vf_mem_read(mem, p, b, 12)))
		return vf_error_prefix(err, "reading the note the lowcore points to");
	uint64_t namesz = vf_load_uint(b, 4, true), descsz = vf_load_uint(b + 4, 4, true);
	uint64_t n = 12 + ((namesz + 3) & ~3ull) + ((descsz + 3) & ~3ull);
	if (namesz != 11 || descsz >= (1u << 20))
		return vf_error_paddr(VF_ERR_CORRUPT, p, "what the lowcore points to has note "
				      "sizes %" PRIu64 "/%" PRIu64 ": not a VMCOREINFO note", namesz,
				      descsz);
	*paddr = p;
	*size = n;
	return NULL;
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
	.max_kernel_page = 4096,
	.kernel_vtop = kernel_vtop,
	.kernel_text_start = kernel_text_start,
	.locate_note = locate_note,
	.locate_note_what = "the lowcore's vmcore_info pointer (0xe0c)",
	.own_note = own_note,
	.own_notes_what = "s390 register notes (NT_S390_*)",
};
