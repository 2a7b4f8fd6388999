/* kernel.c - the guest kernel's own data, read from guest memory. */
#include "config.h"
#include "guest/kernel.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "util/cursor.h"

static const char *machine(const struct vf_dump *dump)
{
	return dump->machine_name ? dump->machine_name : "this machine";
}

struct vf_error *vf_kernel_vtop(const struct vf_dump *dump, const struct vf_vmcoreinfo *vmci,
				uint64_t vaddr, uint64_t *paddr)
{
	const struct vf_arch *a = vf_arch_by_em(dump->e_machine);
	if (!a || !a->kernel_vtop)
		return vf_error_create(VF_ERR_UNSUPPORTED, "translating kernel addresses of %s "
				       "is not implemented", machine(dump));
	return a->kernel_vtop(vmci, NULL, vaddr, paddr);
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

/* The kernel's own page table, for reading its data at any kernel address. */
static struct vf_error *kernel_pgroot(const struct vf_dump *dump, const struct vf_vmcoreinfo *vmci,
				      const struct vf_arch **arch, struct vf_arch_pgroot *root)
{
	const struct vf_arch *a = vf_arch_by_em(dump->e_machine);
	if (!a || !a->has_page_tables)
		return vf_error_create(VF_ERR_UNSUPPORTED, "walking the page tables of %s is not "
				       "implemented", machine(dump));
	*arch = a;
	return a->kernel_pgroot(vmci, NULL, root);
}

/* The kernel's page size: its note's PAGESIZE (the note given may be another
 * than the dump's own), else what the dump says. */
static uint64_t kernel_page(const struct vf_dump *dump, const struct vf_vmcoreinfo *vmci)
{
	uint64_t ps;
	struct vf_error *err = vf_vmcoreinfo_number(vmci, "PAGESIZE", &ps);
	if (err) {
		vf_error_destroy(err);
		return dump->kernel_page_size;
	}
	if (ps < 4096 || ps > (1u << 20) || (ps & (ps - 1)))
		return dump->kernel_page_size;
	return ps;
}

#define SECTION_MARKED_PRESENT 1u

/* The ranges of SPARSEMEM numbers a kernel can have: the smallest
 * SECTION_SIZE_BITS of any architecture's asm/sparsemem.h is 24 (powerpc),
 * x86_64 and arm64 27, the largest 30 (ia64, sparc, arm64 64K, loongarch);
 * MAX_PHYSMEM_BITS 32 (i386, sh) to 56 (riscv64 with sv57; x86_64 with 5-level
 * paging and arm64 52-bit PA have 52).  Outside 15..31 and 32..56 the note is
 * not a kernel's: a
 * SECTION_SIZE_BITS of 12 would make one section per page. */
#define SECTION_BITS_MIN 15
#define SECTION_BITS_MAX 31
#define PHYSMEM_BITS_MIN 32
#define PHYSMEM_BITS_MAX 56

/* The SPARSEMEM_EXTREME mem_section layout VMCOREINFO describes. */
struct sparsemem {
	uint64_t ms;                    /* SYMBOL(mem_section): the array of roots */
	uint64_t roots, ms_size, map_off, sect_bits, phys_bits;
	uint64_t per_root;              /* sections in one root's page */
	uint64_t nsect;                 /* sections in physical memory */
};

static struct vf_error *sparsemem_layout(const struct vf_dump *dump,
					 const struct vf_vmcoreinfo *vmci, struct sparsemem *sm)
{
	struct vf_error *err = vf_vmcoreinfo_number(vmci, "SYMBOL(mem_section)", &sm->ms);
	if (!err)
		err = vf_vmcoreinfo_number(vmci, "LENGTH(mem_section)", &sm->roots);
	if (!err)
		err = vf_vmcoreinfo_number(vmci, "SIZE(mem_section)", &sm->ms_size);
	if (!err)
		err = vf_vmcoreinfo_number(vmci, "OFFSET(mem_section.section_mem_map)", &sm->map_off);
	if (!err)
		err = vf_vmcoreinfo_number(vmci, "NUMBER(SECTION_SIZE_BITS)", &sm->sect_bits);
	if (!err)
		err = vf_vmcoreinfo_number(vmci, "NUMBER(MAX_PHYSMEM_BITS)", &sm->phys_bits);
	if (err)
		return vf_error_prefix(err, "the kernel's memory map (SPARSEMEM)");
	uint64_t page = kernel_page(dump, vmci);
	if (!page || (page & (page - 1)) || sm->ms_size < 8 || sm->ms_size > page ||
	    sm->map_off > sm->ms_size - 8 || sm->sect_bits < SECTION_BITS_MIN ||
	    sm->sect_bits > SECTION_BITS_MAX || sm->phys_bits < PHYSMEM_BITS_MIN ||
	    sm->phys_bits > PHYSMEM_BITS_MAX || (1ull << sm->sect_bits) < page)
		return vf_error_create(VF_ERR_CORRUPT, "VMCOREINFO's SPARSEMEM numbers do not "
				       "make sense (SIZE(mem_section)=%" PRIu64 ", SECTION_SIZE_BITS=%"
				       PRIu64 " (a kernel's are %d..%d), MAX_PHYSMEM_BITS=%" PRIu64
				       " (%d..%d))", sm->ms_size, sm->sect_bits, SECTION_BITS_MIN,
				       SECTION_BITS_MAX, sm->phys_bits, PHYSMEM_BITS_MIN,
				       PHYSMEM_BITS_MAX);
	/* SPARSEMEM_EXTREME: mem_section is an array of LENGTH pointers to pages
	 * of sections; the static two-level form has another LENGTH */
	sm->per_root = page / sm->ms_size;
	sm->nsect = 1ull << (sm->phys_bits - sm->sect_bits);
	if (sm->roots != (sm->nsect + sm->per_root - 1) / sm->per_root)
		return vf_error_create(VF_ERR_UNSUPPORTED, "not SPARSEMEM_EXTREME "
				       "(LENGTH(mem_section)=%" PRIu64 "): reading this memory "
				       "model is not implemented", sm->roots);
	return NULL;
}

/* How kernel virtual addresses are translated: through the kernel's page
 * table where the architecture has a walk (root), else by the fixed
 * mappings its kernel_vtop knows (vmci). */
struct kview {
	const struct vf_arch *a;
	struct vf_arch_pgroot root;
	const struct vf_vmcoreinfo *vmci;
	uint64_t page;                  /* the kernel's page size */
};

static struct vf_error *kview_init(const struct vf_dump *dump, const struct vf_vmcoreinfo *vmci,
				   struct kview *kv)
{
	kv->a = vf_arch_by_em(dump->e_machine);
	kv->vmci = vmci;
	kv->page = kernel_page(dump, vmci);
	if (kv->a && kv->a->has_page_tables)
		return kv->a->kernel_pgroot(vmci, NULL, &kv->root);
	if (kv->a && kv->a->kernel_vtop)
		return NULL;
	return vf_error_create(VF_ERR_UNSUPPORTED, "reading kernel data of %s is not "
			       "implemented", machine(dump));
}

/* len bytes of kernel virtual memory at vaddr, translated a kernel page at
 * a time. */
static struct vf_error *read_kernel(const struct vf_dump *dump, const struct kview *kv,
				    uint64_t vaddr, uint8_t *buf, size_t len)
{
	struct vf_mem *mem = (struct vf_mem *)&dump->mem;
	uint64_t page = kv->page;
	while (len) {
		size_t n = page - vaddr % page < len ? (size_t)(page - vaddr % page) : len;
		uint64_t pa;
		struct vf_error *err = kv->a->has_page_tables
			? kv->a->pt_vtop(mem, &kv->root, vaddr, &pa)
			: kv->a->kernel_vtop(kv->vmci, NULL, vaddr, &pa);
		if (!err)
			err = vf_mem_read(mem, pa, buf, n);
		if (err)
			return err;
		vaddr += n;
		buf += n;
		len -= n;
	}
	return NULL;
}

/* The highest present section of root `root` (whose page of sections is
 * at rp) below section `want`; *any false when there is none.  One read of
 * the root's sections. */
static struct vf_error *root_last_present(const struct vf_dump *dump, const struct kview *kv,
					  const struct sparsemem *sm, uint64_t root, uint64_t rp,
					  uint64_t want, uint8_t *secs, uint64_t *last, bool *any)
{
	uint64_t per_root = sm->per_root;
	uint64_t n = want - root * per_root < per_root ? want - root * per_root : per_root;
	struct vf_error *err = read_kernel(dump, kv, rp, secs, (size_t)(n * sm->ms_size));
	if (err)
		return vf_error_prefix(err, "reading the sections of mem_section[%" PRIu64 "]",
				       root);
	for (uint64_t i = n; i-- > 0;) {
		uint64_t map = vf_load_uint(secs + i * sm->ms_size + sm->map_off, 8,
					    dump->guest_big_endian);
		if (map & SECTION_MARKED_PRESENT) {
			*last = root * per_root + i;
			*any = true;
			return NULL;
		}
	}
	return NULL;
}

/* The highest present section below section `want`, from the top down;
 * *any false when there is none.  At most VF_KERNEL_MEMMAP_MAX_ROOTS roots
 * are read (each: its pointer, and one page of sections if it has one). */
static struct vf_error *last_present_section(const struct vf_dump *dump, const struct kview *kv,
					     const struct sparsemem *sm, uint64_t want,
					     uint64_t *last, bool *any)
{
	uint64_t per_root = sm->per_root;
	*any = false;
	uint64_t top = (want + per_root - 1) / per_root;
	uint8_t *secs = malloc((size_t)kv->page);
	if (!secs)
		return &vf_error_nomem;
	struct vf_error *err = NULL;
	uint64_t read = 0;
	for (uint64_t root = top; root-- > 0 && !*any && !err;) {
		if (read++ == VF_KERNEL_MEMMAP_MAX_ROOTS) {
			err = vf_error_create(VF_ERR_CORRUPT, "the kernel's memory map: no present "
					      "section in the top %u mem_section roots (of %" PRIu64
					      "; SECTION_SIZE_BITS=%" PRIu64 ", SIZE(mem_section)=%"
					      PRIu64 "), the most read: its end cannot be had",
					      VF_KERNEL_MEMMAP_MAX_ROOTS, top, sm->sect_bits,
					      sm->ms_size);
			break;
		}
		uint8_t b[8];
		err = read_kernel(dump, kv, sm->ms + 8 * root, b, 8);
		if (err) {
			err = vf_error_prefix(err, "reading mem_section[%" PRIu64 "]", root);
			break;
		}
		uint64_t rp = vf_load_uint(b, 8, dump->guest_big_endian);
		if (rp)
			err = root_last_present(dump, kv, sm, root, rp, want, secs, last, any);
	}
	free(secs);
	return err;
}

struct vf_error *vf_kernel_mem_map_end(const struct vf_dump *dump,
				       const struct vf_vmcoreinfo *vmci, uint64_t limit_pfn,
				       uint64_t *end_pfn)
{
	struct sparsemem sm;
	struct vf_error *err = sparsemem_layout(dump, vmci, &sm);
	if (err)
		return err;
	struct kview kv;
	err = kview_init(dump, vmci, &kv);
	if (err)
		return vf_error_prefix(err, "the kernel's memory map");
	if ((1ull << sm.sect_bits) < dump->page_size)
		return vf_error_create(VF_ERR_UNSUPPORTED, "the kernel's memory sections (%" PRIu64
				       " bytes) are smaller than the dump's pages (%" PRIu64 ")",
				       (uint64_t)1 << sm.sect_bits, dump->page_size);
	uint64_t pages_per_sect = (1ull << sm.sect_bits) / dump->page_size;
	uint64_t want = (limit_pfn + pages_per_sect - 1) / pages_per_sect;
	if (want > sm.nsect)
		want = sm.nsect;
	uint64_t last = 0;
	bool any;
	err = last_present_section(dump, &kv, &sm, want, &last, &any);
	if (err)
		return err;
	if (!any)
		return vf_error_create(VF_ERR_CORRUPT, "the kernel's memory map has no present "
				       "section below pfn 0x%" PRIx64, limit_pfn);
	uint64_t end = (last + 1) * pages_per_sect;
	*end_pfn = end < limit_pfn ? end : limit_pfn;
	return NULL;
}

#define KTEXT_STEP (2ull << 20)
#define KTEXT_MAX (1ull << 30)

/* The last kernel-image SYMBOL(...) value at or above start, in the image window. */
static uint64_t last_image_symbol(const struct vf_vmcoreinfo *vmci, uint64_t start)
{
	uint64_t last = start;
	for (size_t i = 0; i < vmci->n; i++) {
		const char *k = vmci->entries[i].key;
		uint64_t v;
		if (strncmp(k, "SYMBOL(", 7) != 0)
			continue;
		struct vf_error *err = vf_vmcoreinfo_number(vmci, k, &v);
		if (err) {
			vf_error_destroy(err);
			continue;
		}
		if (v >= start && v - start < KTEXT_MAX && v > last)
			last = v;
	}
	return last;
}

/* How far from start (at paddr) the kernel's page table maps the image
 * linearly, in KTEXT_STEP steps; 0 when the table cannot be read. */
static uint64_t linear_extent(const struct vf_dump *dump, const struct vf_vmcoreinfo *vmci,
			      uint64_t start, uint64_t paddr)
{
	const struct vf_arch *a = NULL;
	struct vf_arch_pgroot pgd;
	struct vf_error *err = kernel_pgroot(dump, vmci, &a, &pgd);
	if (err) {
		vf_error_destroy(err);
		return 0;
	}
	struct vf_mem *mem = (struct vf_mem *)&dump->mem;
	uint64_t n = 0, pa;
	while (n < KTEXT_MAX) {
		struct vf_error *e = a->pt_vtop(mem, &pgd, start + n, &pa);
		bool linear = !e && pa == paddr + n;
		vf_error_destroy(e);
		if (!linear)
			break;
		n += KTEXT_STEP;
	}
	return n;
}

struct vf_error *vf_kernel_text(const struct vf_dump *dump, const struct vf_vmcoreinfo *vmci,
				uint64_t *vaddr, uint64_t *paddr, uint64_t *size,
				const char **how)
{
	const struct vf_arch *a = vf_arch_by_em(dump->e_machine);
	if (!a || !a->kernel_text_start)
		return vf_error_create(VF_ERR_UNSUPPORTED, "the kernel image mapping of %s is not "
				       "known", machine(dump));
	uint64_t start;
	struct vf_error *err = a->kernel_text_start(vmci, &start);
	if (err)
		return vf_error_prefix(err, "the kernel image's start");
	err = vf_kernel_vtop(dump, vmci, start, paddr);
	if (err)
		return err;
	*vaddr = start;
	uint64_t n = a->has_page_tables ? linear_extent(dump, vmci, start, *paddr) : 0;
	if (n) {
		*size = n;
		*how = "as far as the kernel's page table maps it";
		return NULL;
	}
	uint64_t last = last_image_symbol(vmci, start);
	*size = (last - start + KTEXT_STEP) & ~(KTEXT_STEP - 1);
	*how = "up to the last kernel-image symbol in VMCOREINFO";
	return NULL;
}
