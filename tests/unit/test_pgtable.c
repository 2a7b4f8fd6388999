/* test_pgtable.c - x86_64 page walks (the arch op), QEMU CPU notes and phys_base
 * from page tables, over a sparse fake guest memory built here. */
#include "config.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "util/cursor.h"
#include "format/dump.h"
#include "util/notes.h"
#include "guest/pgtable.h"
#include "tap.h"
#include "util/vmcoreinfo.h"

/* ------------------------------------------------ sparse fake memory */

#define PG 4096u
#define MAXPAGES 256

struct fpage {
	uint64_t pa;
	bool excluded;
	uint8_t data[PG];
};

struct fmem {
	struct fpage *p[MAXPAGES];
	size_t n;
	size_t reads;       /* read calls */
	uint64_t next_table;
};

static struct fpage *find(struct fmem *m, uint64_t pa)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->p[i]->pa == (pa & ~(uint64_t)(PG - 1)))
			return m->p[i];
	return NULL;
}

static struct fpage *page(struct fmem *m, uint64_t pa)
{
	struct fpage *p = find(m, pa);
	if (p)
		return p;
	if (m->n == MAXPAGES) {
		fprintf(stderr, "fake memory full\n");
		exit(99);
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		exit(99);
	p->pa = pa & ~(uint64_t)(PG - 1);
	m->p[m->n++] = p;
	return p;
}

static struct vf_error *fread_(void *ctx, uint64_t paddr, void *buf, size_t len)
{
	struct fmem *m = ctx;
	m->reads++;
	uint8_t *out = buf;
	while (len) {
		struct fpage *p = find(m, paddr);
		if (!p)
			return vf_error_paddr(VF_ERR_NOT_PRESENT, paddr, "not in the fake memory");
		if (p->excluded)
			return vf_error_paddr(VF_ERR_EXCLUDED, paddr, "excluded in the fake memory");
		size_t off = paddr & (PG - 1), take = PG - off < len ? PG - off : len;
		memcpy(out, p->data + off, take);
		out += take;
		paddr += take;
		len -= take;
	}
	return NULL;
}

static const struct vf_mem_ops fops = { .read = fread_ };

static void put64(struct fmem *m, uint64_t pa, uint64_t v)
{
	vf_store_uint(page(m, pa)->data + (pa & (PG - 1)), 8, false, v);
}

static uint64_t get64(struct fmem *m, uint64_t pa)
{
	struct fpage *p = find(m, pa);
	return p ? vf_load_uint(p->data + (pa & (PG - 1)), 8, false) : 0;
}

static uint64_t new_table(struct fmem *m)
{
	uint64_t pa = m->next_table;
	m->next_table += PG;
	page(m, pa);
	return pa;
}

static void fmem_init(struct fmem *m, struct vf_mem *mem)
{
	memset(m, 0, sizeof(*m));
	m->next_table = 0x100000;
	*mem = (struct vf_mem){ .ops = &fops, .ctx = m, .name = "fake" };
}

static void fmem_free(struct fmem *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->p[i]);
	m->n = 0;
}

#define P 0x1ull
#define RW 0x2ull
#define PS 0x80ull
#define NX (1ull << 63)
#define ADDR 0x000ffffffffff000ull

/* Map vaddr -> paddr with a page of `size` (4 KiB, 2 MiB or 1 GiB) in the
 * table at root, creating intermediate tables; entries get NX and RW. */
static void map(struct fmem *m, uint64_t root, bool la57, uint64_t vaddr, uint64_t paddr,
		uint64_t size)
{
	int levels = la57 ? 5 : 4;
	uint64_t table = root;
	for (int l = 0; l < levels; l++) {
		int shift = 12 + 9 * (levels - 1 - l);
		uint64_t ea = table + ((vaddr >> shift) & 511) * 8;
		if ((1ull << shift) == size) {
			put64(m, ea, (paddr & ~(size - 1)) | P | RW | NX | (shift > 12 ? PS : 0));
			return;
		}
		uint64_t e = get64(m, ea);
		if (!(e & P)) {
			e = new_table(m) | P | RW;
			put64(m, ea, e);
		}
		table = e & ADDR;
	}
}

/* ------------------------------------------------ a kernel's layout */

#define STEXT    0xffffffffad000000ull
#define TOPPGT   0xffffffffae80a000ull
#define UTS      0xffffffffaee14680ull
#define PBVAR    0xffffffffae814010ull
#define KMAP     0xffffffff80000000ull

static uint64_t k2p(uint64_t v, uint64_t pb)
{
	return v - KMAP + pb;
}

static struct vf_vmcoreinfo *vmci_of(const char *text)
{
	struct vf_vmcoreinfo *v = NULL;
	struct vf_error *err = vf_vmcoreinfo_parse(text, strlen(text), &v);
	if (err) {
		fprintf(stderr, "bad test VMCOREINFO: %s\n", err->message);
		exit(99);
	}
	return v;
}

/* A 6.x-like text: NUMBER(phys_base) deliberately wrong, to show it is not used. */
static const char vmci_full[] =
	"OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\n"
	"SYMBOL(init_uts_ns)=ffffffffaee14680\n"
	"SYMBOL(node_online_map)=ffff888000001000\n"
	"SYMBOL(swapper_pg_dir)=ffffffffae80a000\n"
	"SYMBOL(_stext)=ffffffffad000000\n"
	"SYMBOL(phys_base)=ffffffffae814010\n"
	"NUMBER(phys_base)=12345\n"
	"KERNELOFFSET=2c000000\n";

/* Build the kernel mapping at a fresh root.  page_size 4 KiB maps only the
 * symbols' pages; 2 MiB maps the image [STEXT, STEXT + 64 MiB). */
static uint64_t build_kernel(struct fmem *m, bool la57, uint64_t pb, uint64_t page_size)
{
	uint64_t root = new_table(m);
	if (page_size == PG) {
		const uint64_t v[] = { STEXT, TOPPGT, UTS, PBVAR };
		for (size_t i = 0; i < 4; i++)
			map(m, root, la57, v[i] & ~0xfffull, k2p(v[i] & ~0xfffull, pb), PG);
	} else {
		for (uint64_t v = STEXT; v < STEXT + (64ull << 20); v += page_size)
			map(m, root, la57, v, k2p(v, pb), page_size);
	}
	put64(m, k2p(PBVAR, pb), pb);
	return root;
}

static struct vf_x86_cpu cpu_at(size_t index, uint64_t cr3, bool la57)
{
	struct vf_x86_cpu c = { .index = index, .valid = true, .cr0 = 0x80050033,
				.cr3 = cr3, .cr4 = 0x3606f0 | (la57 ? VF_X86_CR4_LA57 : 0) };
	return c;
}

static bool has(const char *s, const char *sub)
{
	return s && strstr(s, sub);
}

/* ------------------------------------------------ tests */

/* The x86_64 walk, 4-level or (la57) 5-level. */
static struct vf_error *vtop(struct vf_mem *mem, uint64_t cr3, bool la57, uint64_t vaddr,
			     uint64_t *paddr)
{
	struct vf_arch_pgroot root = { cr3, la57 ? 5 : 4 };
	return vf_arch_x86_64.pt_vtop(mem, &root, vaddr, paddr);
}

static void test_vtop(void)
{
	struct fmem m;
	struct vf_mem mem;
	fmem_init(&m, &mem);
	uint64_t root = new_table(&m);
	uint64_t pa = 0;

	/* 4 KiB page; CR3 with PCID bits and an NX leaf. */
	map(&m, root, false, 0xffffffff81234000ull, 0x5678000, PG);
	m.reads = 0;
	struct vf_error *err = vtop(&mem, root | 0x5, false, 0xffffffff81234abcull, &pa);
	TAP_OK(!err, "4 KiB page translates (CR3 low bits ignored, NX ignored)");
	TAP_EQ_U64(pa, 0x5678abc, "4 KiB page: frame | offset");
	TAP_EQ_U64(m.reads, 4, "4-level walk reads 4 entries");

	/* 2 MiB page with the PAT bit (12) set in the entry. */
	map(&m, root, false, 0xffffffff82000000ull, 0x3e00000, 2u << 20);
	uint64_t pde = 0;
	{
		/* find the PD entry and set PAT bit 12 */
		uint64_t v = 0xffffffff82000000ull, t = root;
		for (int shift = 39; shift >= 21; shift -= 9) {
			uint64_t ea = t + ((v >> shift) & 511) * 8;
			if (shift == 21) {
				pde = ea;
				break;
			}
			t = get64(&m, ea) & ADDR;
		}
		put64(&m, pde, get64(&m, pde) | 0x1000);
	}
	err = vtop(&mem, root, false, 0xffffffff821fefffull, &pa);
	TAP_OK(!err, "2 MiB page translates");
	TAP_EQ_U64(pa, 0x3ffefff, "2 MiB page: 21-bit offset kept");
	err = vtop(&mem, root, false, 0xffffffff82000abcull, &pa);
	TAP_EQ_U64(pa, 0x3e00abc, "2 MiB page: the PAT bit (12) is not address");

	/* 1 GiB page at the PDPT. */
	map(&m, root, false, 0xffff888000000000ull, 0x40000000, 1u << 30);
	err = vtop(&mem, root, false, 0xffff888012345678ull, &pa);
	TAP_OK(!err, "1 GiB page translates");
	TAP_EQ_U64(pa, 0x52345678, "1 GiB page: 30-bit offset kept");

	/* Not mapped. */
	err = vtop(&mem, root, false, 0xffffc90000000000ull, &pa);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND && has(err->message, "PML4") &&
	       has(err->message, "not present"), "absent PML4 entry: not mapped, names the level");
	vf_error_destroy(err);
	err = vtop(&mem, root, false, 0xffffffff81235000ull, &pa);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND && has(err->message, "PT entry"),
	       "absent PT entry: not mapped, names the PT");
	vf_error_destroy(err);

	/* Not canonical. */
	err = vtop(&mem, root, false, 0x0000800000000000ull, &pa);
	TAP_OK(err && err->code == VF_ERR_INVALID, "non-canonical 48-bit address refused");
	vf_error_destroy(err);
	err = vtop(&mem, root, true, 0x0100000000000000ull, &pa);
	TAP_OK(err && err->code == VF_ERR_INVALID, "non-canonical 57-bit address refused");
	vf_error_destroy(err);

	/* Reserved bits. */
	uint64_t bad = new_table(&m);
	put64(&m, bad + 511 * 8, 0x200000 | P | PS);
	err = vtop(&mem, bad, false, 0xffffffff81000000ull, &pa);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && has(err->message, "PML4") &&
	       has(err->message, "reserved page-size bit"),
	       "page-size bit in a PML4 entry is corrupt");
	vf_error_destroy(err);
	put64(&m, pde, get64(&m, pde) | 0x100000);   /* bit 20 inside a 2 MiB frame */
	err = vtop(&mem, root, false, 0xffffffff82000000ull, &pa);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && has(err->message, "unaligned"),
	       "2 MiB entry with reserved low address bits is corrupt");
	vf_error_destroy(err);

	/* Self-referencing: every entry of a table points at the table itself. */
	uint64_t self = new_table(&m);
	for (int i = 0; i < 512; i++)
		put64(&m, self + i * 8, self | P | RW);
	for (int la57 = 0; la57 <= 1; la57++) {
		m.reads = 0;
		err = vtop(&mem, self, la57, 0xffffffff81000123ull, &pa);
		TAP_OK(!err, "self-referencing %d-level table ends", la57 ? 5 : 4);
		TAP_EQ_U64(pa, self | 0x123, "it lands on the table itself");
		TAP_EQ_U64(m.reads, la57 ? 5 : 4, "in exactly one read per level");
	}

	/* A table pointer outside memory, and an excluded table page. */
	uint64_t out = new_table(&m);
	put64(&m, out + 511 * 8, 0x7fff0000000ull | P);
	err = vtop(&mem, out, false, 0xffffffff81000000ull, &pa);
	TAP_OK(err && err->code == VF_ERR_NOT_PRESENT && has(err->message, "PDPT entry"),
	       "table outside memory: the memory error passes through, naming the PDPT");
	vf_error_destroy(err);
	uint64_t ex = new_table(&m);
	put64(&m, out + 511 * 8, ex | P);
	page(&m, ex)->excluded = true;
	err = vtop(&mem, out, false, 0xffffffff81000000ull, &pa);
	TAP_OK(err && err->code == VF_ERR_EXCLUDED, "excluded table page: EXCLUDED passes through");
	vf_error_destroy(err);
	err = vtop(&mem, 0x7fff0000000ull, false, 0xffffffff81000000ull, &pa);
	TAP_OK(err && err->code == VF_ERR_NOT_PRESENT, "CR3 outside memory: NOT_PRESENT");
	vf_error_destroy(err);
	fmem_free(&m);
}

/* phys_base for {4,5}-level x {4 KiB, 2 MiB} x {positive, negative}. */
static void test_derive_layouts(void)
{
	const uint64_t pbs[] = { 0x1000000ull, (uint64_t)-0x1e000000ll, 0 };
	struct vf_vmcoreinfo *v = vmci_of(vmci_full);
	for (int la57 = 0; la57 <= 1; la57++)
		for (int big = 0; big <= 1; big++)
			for (size_t k = 0; k < 3; k++) {
				struct fmem m;
				struct vf_mem mem;
				fmem_init(&m, &mem);
				uint64_t root = build_kernel(&m, la57, pbs[k], big ? 2u << 20 : PG);
				struct vf_x86_cpu c = cpu_at(0, root, la57);
				uint64_t pb = 0x5a5a;
				char *how = NULL;
				struct vf_error *err = vf_x86_phys_base_derive(&mem, &c, 1, v, &pb,
									       &how);
				TAP_OK(!err, "%d-level, %s pages, phys_base %" PRId64 ": derived",
				       la57 ? 5 : 4, big ? "2 MiB" : "4 KiB", (int64_t)pbs[k]);
				if (err)
					printf("#   %s\n", err->message);
				TAP_EQ_U64(pb, pbs[k], "  value");
				TAP_OK(has(how, "SYMBOL(_stext)=0xffffffffad000000") &&
				       has(how, la57 ? "5-level" : "4-level") &&
				       has(how, "SYMBOL(swapper_pg_dir)") &&
				       has(how, "SYMBOL(init_uts_ns)") &&
				       has(how, "phys_base variable"),
				       "  how names _stext, the paging mode, the agreeing symbols "
				       "and the variable: %s", how ? how : "(null)");
				free(how);
				vf_error_destroy(err);
				fmem_free(&m);
			}
	vf_vmcoreinfo_destroy(v);
}

static struct vf_error *derive1(struct fmem *m, struct vf_mem *mem, const struct vf_x86_cpu *c,
				size_t n, const char *text, uint64_t *pb, char **how)
{
	(void)m;
	struct vf_vmcoreinfo *v = vmci_of(text);
	struct vf_error *err = vf_x86_phys_base_derive(mem, c, n, v, pb, how);
	vf_vmcoreinfo_destroy(v);
	return err;
}

static void test_derive_hostile(void)
{
	const uint64_t pb0 = (uint64_t)-0x1e000000ll;
	struct fmem m;
	struct vf_mem mem;
	uint64_t pb;
	char *how;
	struct vf_error *err;

	/* Symbols disagree: init_uts_ns's page mapped one frame off. */
	fmem_init(&m, &mem);
	uint64_t root = build_kernel(&m, false, pb0, PG);
	map(&m, root, false, UTS & ~0xfffull, k2p(UTS & ~0xfffull, pb0) + PG, PG);
	struct vf_x86_cpu c = cpu_at(0, root, false);
	err = derive1(&m, &mem, &c, 1, vmci_full, &pb, &how);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && has(err->message, "SYMBOL(init_uts_ns)") &&
	       has(err->message, "SYMBOL(_stext)") && err->hint && how == NULL,
	       "symbols disagreeing: CORRUPT naming both, with a hint");
	if (err)
		printf("#   %s\n", err->message);
	vf_error_destroy(err);
	fmem_free(&m);

	/* The phys_base variable disagrees. */
	fmem_init(&m, &mem);
	root = build_kernel(&m, false, pb0, 2u << 20);
	put64(&m, k2p(PBVAR, pb0), pb0 + 0x200000);
	c = cpu_at(0, root, false);
	err = derive1(&m, &mem, &c, 1, vmci_full, &pb, &how);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && has(err->message, "phys_base variable") &&
	       err->has_offset && err->offset == k2p(PBVAR, pb0),
	       "phys_base variable disagreeing: CORRUPT at its physical address");
	vf_error_destroy(err);

	/* Only one symbol known, nothing to confirm it. */
	err = derive1(&m, &mem, &c, 1, "SYMBOL(_stext)=ffffffffad000000\n", &pb, &how);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND &&
	       has(err->message, "only one kernel-image symbol, SYMBOL(_stext)"),
	       "a single symbol in VMCOREINFO is not enough");
	vf_error_destroy(err);
	/* Two symbols known, one of them not mapped. */
	err = derive1(&m, &mem, &c, 1, "SYMBOL(_stext)=ffffffffad000000\n"
		      "SYMBOL(init_uts_ns)=ffffffffbee14680\n", &pb, &how);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND && has(err->message, "only SYMBOL(_stext) "
	       "translates") && has(err->message, "CPU 0"),
	       "a single translating symbol is not enough: said per CPU");
	if (err)
		printf("#   %s\n", err->message);
	vf_error_destroy(err);

	/* An old kernel: SYMBOL(phys_base) alone, confirmed by the variable it names. */
	put64(&m, k2p(PBVAR, pb0), pb0);
	pb = 0;
	how = NULL;
	err = derive1(&m, &mem, &c, 1, "SYMBOL(phys_base)=ffffffffae814010\n", &pb, &how);
	TAP_OK(!err, "SYMBOL(phys_base) + its variable are two sources");
	TAP_EQ_U64(pb, pb0, "  value");
	TAP_OK(has(how, "SYMBOL(phys_base)") && has(how, "variable"), "  how says so: %s",
	       how ? how : "(null)");
	free(how);
	vf_error_destroy(err);

	/* No kernel-image symbols at all. */
	err = derive1(&m, &mem, &c, 1, "SYMBOL(mem_section)=ffff88801fff8000\nOSRELEASE=x\n",
		      &pb, &how);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND && has(err->message, "no kernel-image"),
	       "direct-map symbols are not used; none left is NOT_FOUND");
	vf_error_destroy(err);

	/* No CPUs; CPUs without paging. */
	err = derive1(&m, &mem, &c, 0, vmci_full, &pb, &how);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND && has(err->message, "no QEMU CPU notes"),
	       "no CPU notes: said so");
	vf_error_destroy(err);
	struct vf_x86_cpu off[4] = { cpu_at(0, root, false), cpu_at(1, 0, false),
				     cpu_at(2, root, false), cpu_at(3, root, false) };
	off[0].cr0 &= ~VF_X86_CR0_PG;
	off[2].valid = false;
	strcpy(off[2].why, "broken note");
	off[3].cr4 &= ~VF_X86_CR4_PAE;
	err = derive1(&m, &mem, off, 4, vmci_full, &pb, &how);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND &&
	       has(err->message, "no CPU note has usable paging") &&
	       has(err->message, "CPU 0: paging is off") && has(err->message, "CPU 1: CR3 is 0") &&
	       has(err->message, "CPU 2: broken note") && has(err->message, "CPU 3: not in 64-bit")
	       && err->hint, "no usable paging: every CPU's reason listed");
	if (err)
		printf("#   %s\n", err->message);
	vf_error_destroy(err);

	/* One unusable CPU next to a good one: skipped, counted. */
	off[1] = cpu_at(1, root, false);
	err = derive1(&m, &mem, off, 2, vmci_full, &pb, &how);
	TAP_OK(!err && pb == pb0 && has(how, "CPU 1's page tables") &&
	       has(how, "1 CPU without usable paging skipped"),
	       "a CPU with paging off is skipped: %s", how ? how : "(null)");
	free(how);
	vf_error_destroy(err);

	/* Kernel tables not in the dump. */
	uint64_t empty = new_table(&m);
	c = cpu_at(0, empty, false);
	err = derive1(&m, &mem, &c, 1, vmci_full, &pb, &how);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND && has(err->message, "two agreeing") &&
	       has(err->message, "not present"), "an empty PGD: NOT_FOUND with the walk's reason");
	vf_error_destroy(err);
	fmem_free(&m);
}

static void test_derive_cpus(void)
{
	const uint64_t pb0 = 0x3c00000;
	struct fmem m;
	struct vf_mem mem;
	uint64_t pb = 0;
	char *how = NULL;
	fmem_init(&m, &mem);
	uint64_t kroot = build_kernel(&m, false, pb0, 2u << 20);

	/* A process's PGD sharing the kernel half (copy of PML4 entry 511). */
	uint64_t uroot = new_table(&m);
	put64(&m, uroot + 511 * 8, get64(&m, kroot + 511 * 8));
	map(&m, uroot, false, 0x400000, 0x9000000, PG);   /* some user page */
	struct vf_x86_cpu cpus[3] = { cpu_at(0, uroot, false), cpu_at(1, kroot, false),
				      cpu_at(2, kroot, false) };
	struct vf_error *err = derive1(&m, &mem, cpus, 3, vmci_full, &pb, &how);
	TAP_OK(!err && pb == pb0, "a user CR3 translates kernel text too");
	TAP_OK(has(how, "CPU 0's page tables") && has(how, "1 other page table agrees"),
	       "  CPU 0 first, the duplicate CR3 counted once: %s", how ? how : "(null)");
	free(how);
	vf_error_destroy(err);

	/* Two CPUs whose kernel halves map the image at different places. */
	uint64_t other = build_kernel(&m, false, pb0 + (2u << 20), 2u << 20);
	/* build_kernel overwrote the variable: put the first kernel's value back */
	put64(&m, k2p(PBVAR, pb0), pb0);
	struct vf_x86_cpu two[2] = { cpu_at(0, kroot, false), cpu_at(1, other, false) };
	err = derive1(&m, &mem, two, 2, "SYMBOL(_stext)=ffffffffad000000\n"
		      "SYMBOL(init_uts_ns)=ffffffffaee14680\n", &pb, &how);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && has(err->message, "CPU 0") &&
	       has(err->message, "CPU 1"), "CPUs disagreeing: CORRUPT naming both");
	vf_error_destroy(err);

	/* KPTI: the CPU was in user mode on the user PGD (kernel PGD + 4 KiB),
	 * which maps none of the image.  The PCID bits are set too. */
	uint64_t k8 = 0x800000;   /* an 8 KiB-aligned pair, kernel then user */
	page(&m, k8);
	page(&m, k8 + PG);
	put64(&m, k8 + 511 * 8, get64(&m, kroot + 511 * 8));
	struct vf_x86_cpu u = cpu_at(0, (k8 + PG) | 0x801, false);
	how = NULL;
	pb = 0;
	err = derive1(&m, &mem, &u, 1, vmci_full, &pb, &how);
	TAP_OK(!err && pb == pb0 && has(how, "PTI") && has(how, "CR3 0x800000"),
	       "KPTI user CR3: the kernel PGD beside it is used and said: %s",
	       how ? how : "(null)");
	free(how);
	vf_error_destroy(err);
	fmem_free(&m);
}

/* QEMUCPUState as QEMU lays it out: sentinels around cr[] catch wrong offsets. */
static size_t qemu_state(uint8_t *d, uint32_t version, uint32_t size, uint64_t cr0,
			 uint64_t cr3, uint64_t cr4)
{
	memset(d, 0, 0x1b8);
	vf_store_uint(d, 4, false, version);
	vf_store_uint(d + 4, 4, false, size);
	for (int i = 0; i < 18; i++)   /* rax..r15, rip, rflags */
		vf_store_uint(d + 8 + 8 * i, 8, false, 0x1111111111111111ull * (i % 15 + 1));
	for (int s = 0; s < 10; s++)   /* cs..idt: selector, limit, flags, pad, base */
		vf_store_uint(d + 0x98 + 24 * s + 16, 8, false, 0xdead0000 + s);
	uint64_t cr[5] = { cr0, 0xc1c1, 0xc2c2, cr3, cr4 };
	for (int i = 0; i < 5; i++)
		vf_store_uint(d + 0x188 + 8 * i, 8, false, cr[i]);
	vf_store_uint(d + 0x1b0, 8, false, 0xffff888007a00000ull);   /* kernel_gs_base */
	return 0x1b8;
}

static void test_qemu_notes(void)
{
	uint8_t d[0x1b8];
	struct vf_x86_cpu c;
	qemu_state(d, 1, 0x1b8, 0x80050033, 0x2a0c000 | 3, 0x3626f0 | VF_X86_CR4_LA57);
	struct vf_error *err = vf_qemu_cpu_state_parse(d, sizeof(d), 0x500, &c);
	TAP_OK(!err && c.valid, "QEMU CPU state (0x1b8, with kernel_gs_base) parses");
	TAP_EQ_U64(c.cr0, 0x80050033, "  cr0");
	TAP_EQ_U64(c.cr3, 0x2a0c003, "  cr3 as stored (flags kept)");
	TAP_EQ_U64(c.cr4, 0x3626f0 | VF_X86_CR4_LA57, "  cr4");
	TAP_OK(vf_x86_cpu_unusable(&c) == NULL, "  usable");
	vf_error_destroy(err);

	qemu_state(d, 1, 0x1b0, 0x11, 0, 0);
	err = vf_qemu_cpu_state_parse(d, 0x1b0, 0x500, &c);
	TAP_OK(!err && c.valid && c.cr0 == 0x11, "old layout (0x1b0, no kernel_gs_base) parses");
	TAP_EQ_STR(vf_x86_cpu_unusable(&c), "paging is off (CR0.PG clear)", "  paging off");
	vf_error_destroy(err);

	qemu_state(d, 2, 0x1b8, 0, 0, 0);
	err = vf_qemu_cpu_state_parse(d, sizeof(d), 0x500, &c);
	TAP_OK(err && err->code == VF_ERR_UNSUPPORTED && err->offset == 0x500 && !c.valid,
	       "version 2: UNSUPPORTED at the note's offset");
	vf_error_destroy(err);
	qemu_state(d, 1, 0x100, 0, 0, 0);
	err = vf_qemu_cpu_state_parse(d, sizeof(d), 0x500, &c);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && has(err->message, "size 256"),
	       "size below the control registers: CORRUPT");
	vf_error_destroy(err);
	qemu_state(d, 1, 0x1b8, 0, 0, 0);
	err = vf_qemu_cpu_state_parse(d, 0x1b4, 0x500, &c);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && has(err->message, "larger than its note"),
	       "size beyond the descriptor: CORRUPT");
	vf_error_destroy(err);
	err = vf_qemu_cpu_state_parse(d, 6, 0x500, &c);
	TAP_OK(err && err->code == VF_ERR_CORRUPT, "6-byte descriptor: truncated");
	vf_error_destroy(err);

	/* Through a dump: notes region with CORE, two QEMU notes and a QEMU type 1. */
	struct fmem m;
	struct vf_mem mem;
	fmem_init(&m, &mem);
	const uint64_t pb0 = (uint64_t)-0x1e000000ll;
	uint64_t root = build_kernel(&m, true, pb0, 2u << 20);
	static uint8_t buf[4096];
	size_t pos = 0;
	uint8_t prs[336] = { 0 };
	pos += vf_note_encode(buf + pos, false, "CORE", 1, prs, sizeof(prs));
	qemu_state(d, 1, 0x1b8, 0x80050033, root | 0x1000000000000000ull, 0x3626f0 | VF_X86_CR4_LA57);
	pos += vf_note_encode(buf + pos, false, "QEMU", 0, d, sizeof(d));
	pos += vf_note_encode(buf + pos, false, "QEMU", 1, d, sizeof(d));
	qemu_state(d, 7, 0x1b8, 0x80050033, root, 0x3626f0);
	pos += vf_note_encode(buf + pos, false, "QEMU", 0, d, sizeof(d));
	struct vf_dump dump;
	memset(&dump, 0, sizeof(dump));
	struct vf_error *bad = NULL;
	err = vf_notes_parse(buf, pos, false, 0x1000, 0, &dump.notes, &dump.nnotes, &bad);
	TAP_OK(!err && !bad && dump.nnotes == 4, "test notes encode and parse");
	dump.e_machine = EM_X86_64;
	dump.machine_name = "x86_64";
	dump.mem = mem;
	struct vf_x86_cpu *cpus = NULL;
	size_t n = 0;
	err = vf_qemu_cpu_states(&dump, &cpus, &n);
	TAP_OK(!err && n == 2, "two QEMU type-0 notes found (CORE and type 1 ignored)");
	TAP_OK(n == 2 && cpus[0].valid && cpus[0].index == 0 &&
	       cpus[0].cr4 == (0x3626f0 | VF_X86_CR4_LA57), "  CPU 0 parsed");
	TAP_OK(n == 2 && !cpus[1].valid && cpus[1].index == 1 && has(cpus[1].why, "version 7") &&
	       has(cpus[1].why, "0x"), "  CPU 1 malformed, with why: %s", n == 2 ? cpus[1].why : "");
	free(cpus);

	/* The whole path; CR3 bit 60 is garbage the walk must mask. */
	struct vf_vmcoreinfo *v = vmci_of(vmci_full);
	uint64_t pb = 0;
	char *how = NULL;
	err = vf_x86_phys_base_from_pgtables(&dump, v, &pb, &how);
	TAP_OK(!err, "phys_base from a dump's QEMU notes and memory (5-level)");
	if (err)
		printf("#   %s\n", err->message);
	TAP_EQ_U64(pb, pb0, "  value -0x1e000000");
	TAP_OK(has(how, "5-level") && has(how, "1 CPU without usable paging skipped"),
	       "  how: %s", how ? how : "(null)");
	free(how);
	vf_error_destroy(err);
	dump.e_machine = EM_AARCH64;
	dump.machine_name = "aarch64";
	err = vf_x86_phys_base_from_pgtables(&dump, v, &pb, &how);
	TAP_OK(err && err->code == VF_ERR_UNSUPPORTED && has(err->message, "aarch64"),
	       "another machine: UNSUPPORTED");
	vf_error_destroy(err);
	vf_vmcoreinfo_destroy(v);
	free(dump.notes);
	fmem_free(&m);
}

int main(void)
{
	test_vtop();
	test_derive_layouts();
	test_derive_hostile();
	test_derive_cpus();
	test_qemu_notes();
	return tap_done();
}
