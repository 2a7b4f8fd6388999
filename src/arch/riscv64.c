/* riscv64.c - 64-bit RISC-V. */
#include "config.h"
#include "arch/arch.h"

#include <elf.h>
#include <inttypes.h>

#ifndef EM_RISCV
#define EM_RISCV 243
#endif

/* Linux 6.2 and later say where everything is (arch_crash_save_vmcoreinfo):
 * the kernel image at NUMBER(KERNEL_LINK_ADDR) maps to va -
 * NUMBER(va_kernel_pa_offset); the linear map from NUMBER(PAGE_OFFSET) maps
 * NUMBER(phys_ram_base) (below the modules, which lie below the image). */
struct layout {
	uint64_t link, pa_off, page_offset, ram_base, modules;
};

static struct vf_error *layout_of(const struct vf_vmcoreinfo *vmci, struct layout *l)
{
	struct vf_error *err = vf_vmcoreinfo_number(vmci, "NUMBER(KERNEL_LINK_ADDR)", &l->link);
	if (!err)
		err = vf_vmcoreinfo_number(vmci, "NUMBER(va_kernel_pa_offset)", &l->pa_off);
	if (!err)
		err = vf_vmcoreinfo_number(vmci, "NUMBER(PAGE_OFFSET)", &l->page_offset);
	if (!err)
		err = vf_vmcoreinfo_number(vmci, "NUMBER(phys_ram_base)", &l->ram_base);
	if (err)
		return vf_error_prefix(err, "the riscv64 kernel's layout (Linux 6.2 and later "
				       "export it)");
	struct vf_error *e = vf_vmcoreinfo_number(vmci, "NUMBER(MODULES_VADDR)", &l->modules);
	if (e) {
		vf_error_destroy(e);
		l->modules = l->link;
	}
	if (l->modules > l->link)
		l->modules = l->link;
	return NULL;
}

static struct vf_error *kernel_vtop(const struct vf_vmcoreinfo *vmci, const uint64_t *phys_base,
				    uint64_t vaddr, uint64_t *paddr)
{
	struct layout l;
	struct vf_error *err = layout_of(vmci, &l);
	if (err)
		return err;
	if (vaddr >= l.link) {
		*paddr = vaddr - l.pa_off;
		return NULL;
	}
	if (vaddr >= l.page_offset && vaddr < l.modules) {
		*paddr = vaddr - l.page_offset + l.ram_base;
		return NULL;
	}
	return vf_error_create(VF_ERR_UNSUPPORTED, "0x%" PRIx64 " is in neither the riscv64 "
			       "kernel image nor its linear map: translating it is not "
			       "implemented", vaddr);
}

static bool linear_vaddr(const struct vf_vmcoreinfo *vmci, uint64_t paddr, uint64_t *vaddr)
{
	struct layout l;
	struct vf_error *err = layout_of(vmci, &l);
	if (err) {
		vf_error_destroy(err);
		return false;
	}
	if (paddr < l.ram_base || paddr - l.ram_base >= l.modules - l.page_offset)
		return false;
	*vaddr = l.page_offset + (paddr - l.ram_base);
	return true;
}

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
	.kernel_vtop = kernel_vtop,
	.kernel_text_start = vf_arch_text_symbol,
	.linear_vaddr = linear_vaddr,
	/* seen on Debian 12: drgn 0.0.22 over libkdumpfile 0.5.1 */
	.kdump_unread = "libkdumpfile (drgn's kdump reader) knows no riscv64 (\"KDUMP_ATTR_ARCH_NAME: "
			"Key has no value\" on a fixed file), and crash and makedumpfile here read "
			"x86_64 only",
};
