/* kernel.c - the guest kernel's own data, read from guest memory. */
#include "config.h"
#include "kernel.h"

#include <elf.h>
#include <inttypes.h>
#include <string.h>


#define START_KERNEL_MAP 0xffffffff80000000ull

struct vf_error *vf_kernel_vtop(const struct vf_dump *dump, const struct vf_vmcoreinfo *vmci,
				uint64_t vaddr, uint64_t *paddr)
{
	uint64_t off;
	struct vf_error *err;
	switch (dump->e_machine) {
	case EM_X86_64:
		if (vaddr < START_KERNEL_MAP)
			return vf_error_create(VF_ERR_UNSUPPORTED, "0x%" PRIx64 " is not a kernel "
					       "image address", vaddr);
		err = vf_vmcoreinfo_number(vmci, "NUMBER(phys_base)", &off);
		if (err)
			return err;
		*paddr = vaddr - START_KERNEL_MAP + off;
		return NULL;
	case EM_AARCH64:
		err = vf_vmcoreinfo_number(vmci, "NUMBER(kimage_voffset)", &off);
		if (err)
			return err;
		*paddr = vaddr - off;
		return NULL;
	default:
		return vf_error_create(VF_ERR_UNSUPPORTED, "translating kernel addresses of %s "
				       "is not implemented",
				       dump->machine_name ? dump->machine_name : "this machine");
	}
}

struct vf_error *vf_kernel_utsname(const struct vf_dump *dump, const struct vf_vmcoreinfo *vmci,
				   char uts[VF_UTS_FIELDS][VF_UTS_LEN])
{
	if (!vmci)
		return vf_error_create(VF_ERR_NOT_FOUND, "no VMCOREINFO to find init_uts_ns with");
	uint64_t sym, name_off, paddr;
	struct vf_error *err = vf_vmcoreinfo_number(vmci, "SYMBOL(init_uts_ns)", &sym);
	if (!err)
		err = vf_vmcoreinfo_number(vmci, "OFFSET(uts_namespace.name)", &name_off);
	if (!err)
		err = vf_kernel_vtop(dump, vmci, sym + name_off, &paddr);
	if (err)
		return vf_error_prefix(err, "locating init_uts_ns");
	uint8_t buf[VF_UTS_FIELDS * VF_UTS_LEN];
	err = vf_mem_read((struct vf_mem *)&dump->mem, paddr, buf, sizeof(buf));
	if (err)
		return vf_error_prefix(err, "reading init_uts_ns");
	for (int i = 0; i < VF_UTS_FIELDS; i++) {
		const uint8_t *f = buf + i * VF_UTS_LEN;
		const uint8_t *nul = memchr(f, 0, VF_UTS_LEN);
		bool text = nul != NULL;
		for (const uint8_t *c = f; text && c < nul; c++)
			text = *c >= 0x20 && *c < 0x7f;
		if (!text)
			return vf_error_paddr(VF_ERR_CORRUPT, paddr + (uint64_t)i * VF_UTS_LEN,
					      "init_uts_ns field %d is not text: wrong address "
					      "(phys_base?) or damaged memory", i);
		memcpy(uts[i], f, VF_UTS_LEN);
	}
	const char *rel = vf_vmcoreinfo_get(vmci, "OSRELEASE");
	if (rel && strcmp(rel, uts[2]) != 0)
		return vf_error_paddr(VF_ERR_CORRUPT, paddr, "init_uts_ns says release \"%s\", "
				      "VMCOREINFO says %s: wrong address or damaged memory",
				      uts[2], rel);
	return NULL;
}
