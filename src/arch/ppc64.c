/* ppc64.c - 64-bit POWER, either byte order (ppc64le, ppc64). */
#include "config.h"
#include "arch/arch.h"
#include "util/cursor.h"

#include <elf.h>
#include <inttypes.h>
#include <string.h>

/* Book3S 64 (pseries, powernv): the kernel image and the linear map both
 * start at PAGE_OFFSET 0xc000000000000000, which maps physical 0 (no KASLR
 * on these machines); vmalloc and the I/O and vmemmap regions follow at
 * 0xc008000000000000 (radix and hash alike since Linux 5.x) and are not
 * linear. */
#define PPC64_PAGE_OFFSET 0xc000000000000000ull
#define PPC64_LINEAR_END 0xc008000000000000ull

static struct vf_error *kernel_vtop(const struct vf_vmcoreinfo *vmci, const uint64_t *phys_base,
				    uint64_t vaddr, uint64_t *paddr)
{
	if (vaddr < PPC64_PAGE_OFFSET || vaddr >= PPC64_LINEAR_END)
		return vf_error_create(VF_ERR_UNSUPPORTED, "0x%" PRIx64 " is no address of the "
				       "ppc64 kernel's linear map (0x%llx..0x%llx): translating it "
				       "is not implemented", vaddr, PPC64_PAGE_OFFSET,
				       PPC64_LINEAR_END);
	*paddr = vaddr - PPC64_PAGE_OFFSET;
	return NULL;
}

static struct vf_error *kernel_text_start(const struct vf_vmcoreinfo *vmci, uint64_t *vaddr)
{
	return vf_vmcoreinfo_number(vmci, "SYMBOL(_stext)", vaddr);
}

/* NT_PPC_* (0x100...). */
static bool own_note(const struct vf_note *n)
{
	return n->type >= 0x100 && n->type < 0x110 && strcmp(n->name, "LINUX") == 0;
}

/* The MSR in the register note: pr_reg (at 112 in a 64-bit elf_prstatus)
 * holds gpr[32], nip, msr; its MSR_LE bit (0x1) is the CPU's byte order. */
static int guest_order(const uint8_t *prstatus, uint32_t len, bool be)
{
	if (len < 112 + 34 * 8)
		return -1;
	uint64_t msr = vf_load_uint(prstatus + 112 + 33 * 8, 8, be);
	return msr & 1 ? 0 : 1;
}

static void swap_n(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n / 2; i++) {
		uint8_t t = p[i];
		p[i] = p[n - 1 - i];
		p[n - 1 - i] = t;
	}
}

/* Swap each w-byte field of [p, p + len). */
static void swap_all(uint8_t *p, size_t len, size_t w)
{
	for (size_t i = 0; i + w <= len; i += w)
		swap_n(p + i, w);
}

/* The CPU notes QEMU's ppc64 target writes ("CORE"): elf_prstatus (Linux's
 * layout: signal info 3 x 4, cursig 2 (+2), sigpend and sighold 8 each, four
 * pids of 4, four timevals of 2 x 8, pr_reg of 8-byte registers up to
 * pr_fpvalid (4, +4)), the FP registers (33 x 8), VMX (32 vectors of 16
 * bytes swapped whole, then vscr and vrsave, a 4-byte value each in its
 * 16-byte slot), SPE (32 x 4, acc 8, fscr 4) and VSX (32 x 8). */
static bool swap_note(const char *name, uint32_t type, uint8_t *d, uint32_t len)
{
	if (strcmp(name, "CORE") != 0)
		return false;
	switch (type) {
	case 1:  /* NT_PRSTATUS */
		if (len < 120 || (len - 120) % 8)
			return false;
		swap_all(d, 12, 4);
		swap_n(d + 12, 2);
		swap_all(d + 16, 16, 8);
		swap_all(d + 32, 16, 4);
		swap_all(d + 48, 64, 8);
		swap_all(d + 112, len - 120, 8);
		swap_n(d + len - 8, 4);
		return true;
	case 2:  /* NT_PRFPREG */
	case 0x102:  /* NT_PPC_VSX */
		if (len % 8)
			return false;
		swap_all(d, len, 8);
		return true;
	case 0x100:  /* NT_PPC_VMX */
		if (len != 34 * 16)
			return false;
		swap_all(d, 32 * 16, 16);
		swap_n(d + 32 * 16 + 12, 4);
		swap_n(d + 33 * 16, 4);
		return true;
	case 0x101:  /* NT_PPC_SPE */
		if (len < 140)
			return false;
		swap_all(d, 128, 4);
		swap_n(d + 128, 8);
		swap_n(d + 136, 4);
		return true;
	}
	return false;
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
	.max_kernel_page = 65536,
	.kernel_vtop = kernel_vtop,
	.kernel_text_start = kernel_text_start,
	.guest_order = guest_order,
	.swap_note = swap_note,
	.own_note = own_note,
	.own_notes_what = "POWER register notes (NT_PPC_*)",
};
