/* test_arch.c - the architecture table: every entry consistent, the lookups,
 * the kernel-image translations, the number formats and block sizes. */
#include "config.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "util/cursor.h"
#include "format/dump.h"
#include "format/machine.h"
#include "tap.h"
#include "util/vmcoreinfo.h"

static struct vf_vmcoreinfo *vmci_of(const char *text)
{
	struct vf_vmcoreinfo *v = NULL;
	struct vf_error *err = vf_vmcoreinfo_parse(text, strlen(text), &v);
	if (err) {
		printf("# cannot parse test VMCOREINFO: %s\n", err->message);
		vf_error_destroy(err);
		exit(1);
	}
	return v;
}

static const struct vf_arch *named(const char *name)
{
	const struct vf_arch *a = vf_arch_by_name(name);
	if (!a) {
		printf("# no architecture named %s\n", name);
		exit(1);
	}
	return a;
}

/* One entry: its names lead back to it and its fields fit together. */
static void check_entry(const struct vf_arch *a)
{
	const char *n = a->name ? a->name : "(null)";
	TAP_OK(a->name && vf_arch_by_name(a->name) == a, "%s: found by its name", n);
	TAP_OK(vf_arch_by_em(a->em) == a, "%s: found by EM %u (no other entry has it)", n, a->em);
	TAP_EQ_STR(vf_arch_name(a->em), a->name, "%s: vf_arch_name of its EM", n);
	bool prefixes_ok = a->uts_prefixes && a->uts_prefixes[0];
	for (const char *const *p = a->uts_prefixes; prefixes_ok && *p; p++)
		prefixes_ok = vf_arch_by_uts(*p) == a && vf_arch_em_by_uts(*p) == a->em;
	TAP_OK(prefixes_ok, "%s: every utsname prefix names it (none shadowed)", n);
	if (a->uts_machine) {
		TAP_OK(vf_arch_by_uts(a->uts_machine) == a && vf_arch_by_name(a->uts_machine) == a,
		       "%s: canonical utsname.machine %s names it", n, a->uts_machine);
		TAP_OK(a->word_bits == 32 || a->word_bits == 64, "%s: word size known", n);
	}
	if (a->uts_machine_be)
		TAP_OK(vf_arch_by_uts(a->uts_machine_be) == a && a->big_endian < 0,
		       "%s: big-endian name %s names it, either byte order", n, a->uts_machine_be);
	if (a->prstatus_size)
		TAP_OK(a->word_bits == 32 || a->word_bits == 64,
		       "%s: a prstatus size goes with a word size", n);
	TAP_OK(a->keys != NULL, "%s: keys list present (may be empty)", n);
	TAP_OK(a->has_page_tables == (a->pt_vtop && a->kernel_pgroot),
	       "%s: has_page_tables iff both walk hooks", n);
	TAP_OK(!a->has_page_tables || (a->phys_base_key && a->kernel_vtop),
	       "%s: a page-table walk comes with phys_base and a translation", n);
	TAP_OK(!a->own_note == !a->own_notes_what, "%s: own notes have a description", n);
	TAP_OK((a->kimage_base == 0 && a->kimage_end == 0) || a->kimage_base < a->kimage_end,
	       "%s: kernel-image window empty or ordered", n);
	TAP_OK(!a->locate_note == !a->locate_note_what &&
	       (a->locate_note == NULL || strcmp(n, "s390x") == 0),
	       "%s: a note locator has a description; only s390x has one", n);
	TAP_OK(a->kdump_block_size == 0 || (a->kdump_block_size >= 4096 &&
	       !(a->kdump_block_size & (a->kdump_block_size - 1))),
	       "%s: kdump block size 0 or a power of two", n);
}

static void test_table(void)
{
	size_t n = vf_arch_count();
	TAP_OK(n >= 10, "%zu architectures", n);
	TAP_OK(vf_arch_at(n) == NULL, "vf_arch_at past the end is NULL");
	for (size_t i = 0; i < n; i++)
		check_entry(vf_arch_at(i));
	TAP_OK(vf_arch_by_name("x86_64") == &vf_arch_x86_64, "vf_arch_x86_64 is the table's");
}

static void test_lookups(void)
{
	TAP_EQ_STR(vf_arch_by_uts("i686")->name, "i386", "i686 -> i386");
	TAP_EQ_STR(vf_arch_by_uts("i386")->name, "i386", "i386 -> i386");
	TAP_EQ_STR(vf_arch_by_uts("arm64")->name, "aarch64", "arm64 -> aarch64");
	TAP_EQ_STR(vf_arch_by_uts("armv7l")->name, "arm", "armv7l -> arm");
	TAP_EQ_STR(vf_arch_by_uts("ppc64le")->name, "ppc64", "ppc64le -> ppc64");
	TAP_EQ_STR(vf_arch_by_uts("ppc")->name, "ppc", "ppc -> ppc");
	TAP_EQ_STR(vf_arch_by_uts("s390x")->name, "s390x", "s390x -> s390x");
	TAP_EQ_STR(vf_arch_by_uts("mips64")->name, "mips", "mips64 -> mips");
	TAP_OK(vf_arch_by_uts("Unknown") == NULL, "Unknown -> none");
	TAP_OK(vf_arch_by_uts("") == NULL && vf_arch_by_uts(NULL) == NULL, "empty, NULL -> none");
	TAP_EQ_U64(vf_arch_em_by_uts("Unknown"), EM_NONE, "Unknown -> EM_NONE");
	TAP_EQ_U64(vf_arch_em_by_uts("x86_64"), EM_X86_64, "x86_64 -> EM_X86_64");
	TAP_OK(vf_arch_by_name("arm64") == NULL, "by name is exact: arm64 is only a utsname");
	TAP_EQ_STR(vf_arch_by_name("i686")->name, "i386", "by name: canonical i686");
	TAP_OK(vf_arch_by_em(EM_NONE) == NULL && vf_arch_name(EM_NONE) == NULL, "EM_NONE: none");
	TAP_OK(vf_arch_by_em_layout(EM_X86_64, 64, false) == &vf_arch_x86_64, "x86_64 64-bit LE fits");
	TAP_OK(vf_arch_by_em_layout(EM_X86_64, 32, false) == NULL, "x86_64 32-bit does not");
	TAP_OK(vf_arch_by_em_layout(EM_S390, 64, false) == NULL, "s390x little-endian does not");
	TAP_OK(vf_arch_by_em_layout(EM_PPC64, 64, true) && vf_arch_by_em_layout(EM_PPC64, 64, false),
	       "ppc64 fits either byte order");
	const struct vf_arch *ppc64 = named("ppc64");
	TAP_EQ_STR(vf_arch_uts_name(ppc64, false), "ppc64le", "ppc64 little-endian: ppc64le");
	TAP_EQ_STR(vf_arch_uts_name(ppc64, true), "ppc64", "ppc64 big-endian: ppc64");
	TAP_EQ_STR(vf_arch_uts_name(named("i386"), false), "i686", "i386 canonical: i686");
	TAP_OK(vf_arch_uts_name(named("loongarch64"), false) == NULL, "name-only: no canonical");
}

static void test_x86_64(void)
{
	const struct vf_arch *a = &vf_arch_x86_64;
	uint64_t pa = 0, zero = 0;
	struct vf_error *err = a->kernel_vtop(NULL, &zero, 0xffffffff81000000ull, &pa);
	TAP_OK(!err, "x86_64: 0xffffffff81000000 translates with phys_base 0");
	TAP_EQ_U64(pa, 0x1000000, "  to 0x1000000");
	vf_error_destroy(err);

	struct vf_vmcoreinfo *v = vmci_of("NUMBER(phys_base)=-301989888\nKERNELOFFSET=2c000000\n"
					  "SYMBOL(init_top_pgt)=ffffffffaec0c000\n"
					  "NUMBER(pgtable_l5_enabled)=1\n");
	err = a->kernel_vtop(v, NULL, 0xffffffff93000000ull, &pa);
	TAP_OK(!err, "x86_64: phys_base taken from NUMBER(phys_base)");
	TAP_EQ_U64(pa, 0x1000000, "  0xffffffff93000000 with phys_base -0x12000000");
	vf_error_destroy(err);
	err = a->kernel_vtop(v, &zero, 0xffff888000000000ull, &pa);
	TAP_OK(err && err->code == VF_ERR_UNSUPPORTED, "x86_64: the direct map is not the image");
	vf_error_destroy(err);

	uint64_t text = 0;
	err = a->kernel_text_start(v, &text);
	TAP_OK(!err, "x86_64: text start from KERNELOFFSET");
	TAP_EQ_U64(text, 0xffffffffad000000ull, "  0xffffffff81000000 + 0x2c000000");
	vf_error_destroy(err);

	struct vf_arch_pgroot root = { 0, 0 };
	err = a->kernel_pgroot(v, NULL, &root);
	TAP_OK(!err && root.root == 0x1cc0c000ull && root.levels == 5,
	       "x86_64: the kernel's page table, 5-level (0x%" PRIx64 ", %d)", root.root,
	       root.levels);
	vf_error_destroy(err);
	vf_vmcoreinfo_destroy(v);

	v = vmci_of("SYMBOL(swapper_pg_dir)=ffffffff82a0c000\nSYMBOL(_stext)=ffffffff81234567\n");
	err = a->kernel_pgroot(v, &zero, &root);
	TAP_OK(!err && root.root == 0x2a0c000 && root.levels == 4,
	       "x86_64: swapper_pg_dir, 4-level, phys_base given (0x%" PRIx64 ")", root.root);
	vf_error_destroy(err);
	err = a->kernel_pgroot(v, NULL, &root);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND && strstr(err->message, "NUMBER(phys_base)"),
	       "x86_64: no phys_base anywhere: NOT_FOUND (%s)", err ? err->message : "");
	vf_error_destroy(err);
	err = a->kernel_text_start(v, &text);
	TAP_OK(!err && text == 0xffffffff81200000ull, "x86_64: text start from _stext, 2 MiB down");
	vf_error_destroy(err);
	vf_vmcoreinfo_destroy(v);

	root.levels = 3;
	err = a->pt_vtop(NULL, &root, 0xffffffff81000000ull, &pa);
	TAP_OK(err && err->code == VF_ERR_INVALID, "x86_64: a 3-level walk is refused unread");
	vf_error_destroy(err);
	TAP_EQ_U64(a->kimage_base, 0xffffffff80000000ull, "x86_64: image window starts at "
		   "__START_KERNEL_map");
}

static void test_aarch64(void)
{
	const struct vf_arch *a = named("aarch64");
	struct vf_vmcoreinfo *v = vmci_of("NUMBER(kimage_voffset)=0xffff7fffc0000000\n"
					  "NUMBER(PHYS_OFFSET)=0x40000000\n"
					  "SYMBOL(_text)=ffff800080000000\n");
	uint64_t pa = 0, pb = 0x12345;
	struct vf_error *err = a->kernel_vtop(v, &pb, 0xffff800080010000ull, &pa);
	TAP_OK(!err, "aarch64: translates with kimage_voffset");
	TAP_EQ_U64(pa, 0xc0010000ull, "  vaddr - kimage_voffset (phys_base not used)");
	vf_error_destroy(err);
	uint64_t text = 0;
	err = a->kernel_text_start(v, &text);
	TAP_OK(!err && text == 0xffff800080000000ull, "aarch64: text start SYMBOL(_text)");
	vf_error_destroy(err);
	vf_vmcoreinfo_destroy(v);
	v = vmci_of("NUMBER(PHYS_OFFSET)=0x40000000\n");
	err = a->kernel_vtop(v, NULL, 0xffff800080010000ull, &pa);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND, "aarch64: no kimage_voffset: NOT_FOUND");
	vf_error_destroy(err);
	vf_vmcoreinfo_destroy(v);
	TAP_OK(!a->has_page_tables && named("s390x")->kernel_vtop && named("ppc64")->kernel_vtop &&
	       named("riscv64")->kernel_vtop,
	       "only x86_64 walks page tables; s390x, ppc64 and riscv64 translate by fixed maps");
}

static void test_phys_base_lines(void)
{
	char buf[64];
	int n = vf_arch_phys_base_line(&vf_arch_x86_64, (uint64_t)-301989888, buf, sizeof(buf));
	TAP_OK(n > 0, "x86_64 phys_base line");
	TAP_EQ_STR(buf, "NUMBER(phys_base)=-301989888", "  signed decimal");
	n = vf_arch_phys_base_line(named("aarch64"), 0x40000000, buf, sizeof(buf));
	TAP_EQ_STR(n > 0 ? buf : NULL, "NUMBER(PHYS_OFFSET)=0x40000000", "aarch64: 0x hex");
	struct vf_vmcoreinfo *v = vmci_of(buf);
	uint64_t x = 0;
	struct vf_error *err = vf_vmcoreinfo_number(v, "NUMBER(PHYS_OFFSET)", &x);
	TAP_OK(!err && x == 0x40000000, "  parses back to the value");
	vf_error_destroy(err);
	vf_vmcoreinfo_destroy(v);
	TAP_OK(vf_arch_phys_base_line(named("s390x"), 1, buf, sizeof(buf)) < 0,
	       "s390x: no phys_base key, no line");
}

static void test_block_sizes(void)
{
	static const struct {
		const char *name;
		uint32_t size;
	} want[] = {
		{ "x86_64", 4096 }, { "i386", 4096 }, { "aarch64", 65536 }, { "arm", 4096 },
		{ "ppc64", 65536 }, { "s390x", 4096 }, { "riscv64", 4096 }, { "mips", 0 },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		TAP_EQ_U64(named(want[i].name)->kdump_block_size, want[i].size,
			   "%s: QEMU writes kdump blocks of %u bytes", want[i].name, want[i].size);
}

static void test_own_notes(void)
{
	struct vf_note n;
	memset(&n, 0, sizeof(n));
	strcpy(n.name, "QEMU");
	TAP_OK(vf_arch_x86_64.own_note(&n) && named("i386")->own_note(&n),
	       "QEMU type 0: x86 (both word sizes)");
	n.type = 1;
	TAP_OK(!vf_arch_x86_64.own_note(&n), "QEMU type 1: not the CPU state");
	strcpy(n.name, "LINUX");
	n.type = 0x400;
	TAP_OK(named("aarch64")->own_note(&n) && !named("ppc64")->own_note(&n), "LINUX 0x400: arm64");
	strcpy(n.name, "CORE");
	TAP_OK(!named("aarch64")->own_note(&n), "CORE 0x400: not arm64's");
	n.type = 0x300;
	TAP_OK(named("s390x")->own_note(&n), "CORE 0x300: s390x");
	strcpy(n.name, "LINUX");
	n.type = 0x100;
	TAP_OK(named("ppc64")->own_note(&n) && !named("s390x")->own_note(&n), "LINUX 0x100: POWER");
}

/* Machine detection over the table: notes two architectures claim (QEMU's
 * x86 CPU state) go to the one of the dump's word size; others do not. */
static void detect(struct vf_note *notes, size_t n, int word_bits, uint16_t *em, char **conflict)
{
	struct vf_dump d;
	memset(&d, 0, sizeof(d));
	d.format = VF_FORMAT_KDUMP;
	d.elf_class = word_bits;
	d.notes = notes;
	d.nnotes = n;
	struct vf_error *err = vf_machine_detect(&d, NULL);
	TAP_OK(!err, "detection over %zu note%s, %d-bit", n, n == 1 ? "" : "s", word_bits);
	*em = d.e_machine;
	*conflict = d.machine_conflict;
	free(d.machine_how);
}

static void test_detect_notes(void)
{
	struct vf_note notes[2];
	memset(notes, 0, sizeof(notes));
	strcpy(notes[0].name, "QEMU");
	strcpy(notes[1].name, "LINUX");
	notes[1].type = 0x400;
	uint16_t em;
	char *conflict;
	detect(notes, 1, 64, &em, &conflict);
	TAP_OK(em == EM_X86_64 && !conflict, "  QEMU CPU state, 64-bit: x86_64");
	free(conflict);
	detect(notes, 1, 32, &em, &conflict);
	TAP_OK(em == EM_386 && !conflict, "  QEMU CPU state, 32-bit: i386");
	free(conflict);
	detect(notes + 1, 1, 32, &em, &conflict);
	TAP_OK(em == EM_NONE && conflict && strstr(conflict, "NT_ARM_*) says aarch64") &&
	       strstr(conflict, "a 32-bit layout"), "  NT_ARM_* alone, 32-bit: votes aarch64, "
	       "which the word size contradicts (%s)", conflict ? conflict : "");
	free(conflict);
	detect(notes, 2, 32, &em, &conflict);
	TAP_OK(em == EM_NONE && conflict && strstr(conflict, "says i386") &&
	       strstr(conflict, "says aarch64") && !strstr(conflict, "x86_64"),
	       "  both, 32-bit: a conflict of i386 and aarch64 (%s)", conflict ? conflict : "");
	free(conflict);
}

/* ppc64: the guest's byte order from the MSR in NT_PRSTATUS, and the CPU
 * notes turned into the other byte order field by field. */
static void test_ppc64_order(void)
{
	const struct vf_arch *a = named("ppc64");
	uint8_t pr[504];
	memset(pr, 0, sizeof(pr));
	vf_store_uint(pr + 112 + 33 * 8, 8, true, 0x8000000000000001ull);  /* MSR: SF|LE */
	TAP_OK(a->guest_order(pr, sizeof(pr), true) == 0, "ppc64: MSR_LE in a big-endian note: a "
	       "little-endian guest");
	vf_store_uint(pr + 112 + 33 * 8, 8, true, 0x8000000000000000ull);
	TAP_OK(a->guest_order(pr, sizeof(pr), true) == 1, "ppc64: MSR without LE: big-endian");
	TAP_OK(a->guest_order(pr, 100, true) == -1, "ppc64: a short note: not known");
	/* PRSTATUS: pid (4 bytes at 32), gpr[1] (8 at 120), pr_fpvalid (4 at 496) */
	memset(pr, 0, sizeof(pr));
	vf_store_uint(pr + 32, 4, true, 7);
	vf_store_uint(pr + 120, 8, true, 0x1122334455667788ull);
	vf_store_uint(pr + 496, 4, true, 1);
	bool ok = a->swap_note("CORE", 1, pr, sizeof(pr));
	TAP_OK(ok && vf_load_uint(pr + 32, 4, false) == 7 &&
	       vf_load_uint(pr + 120, 8, false) == 0x1122334455667788ull &&
	       vf_load_uint(pr + 496, 4, false) == 1, "ppc64: NT_PRSTATUS swapped field by field");
	uint8_t fp[264];
	for (size_t i = 0; i < 33; i++)
		vf_store_uint(fp + 8 * i, 8, true, i + 1);
	ok = a->swap_note("CORE", 2, fp, sizeof(fp));
	TAP_OK(ok && vf_load_uint(fp + 8 * 32, 8, false) == 33, "ppc64: NT_PRFPREG as 8-byte words");
	TAP_OK(!a->swap_note("CORE", 0x400, fp, sizeof(fp)) && !a->swap_note("LINUX", 1, pr, 504),
	       "ppc64: an unknown note is not swapped");
	TAP_OK(!named("x86_64")->swap_note && !named("x86_64")->guest_order,
	       "x86_64: the dump's byte order is the guest's");
}

/* riscv64 (Linux 6.2+): the image by va_kernel_pa_offset, the linear map by
 * PAGE_OFFSET and phys_ram_base (values of a real Debian 13 guest). */
static void test_riscv64(void)
{
	const struct vf_arch *a = named("riscv64");
	struct vf_vmcoreinfo *v = vmci_of("NUMBER(phys_ram_base)=2147483648\n"
		"NUMBER(PAGE_OFFSET)=0xff60000000000000\nNUMBER(KERNEL_LINK_ADDR)=0xffffffff80000000\n"
		"NUMBER(va_kernel_pa_offset)=0xfffffffeffe00000\n"
		"NUMBER(MODULES_VADDR)=0xffffffff01e6c000\n");
	uint64_t pa = 0, va = 0;
	struct vf_error *err = a->kernel_vtop(v, NULL, 0xffffffff81d69cc8ull, &pa);
	TAP_OK(!err && pa == 0x81f69cc8, "riscv64: an image address, by va_kernel_pa_offset");
	vf_error_destroy(err);
	err = a->kernel_vtop(v, NULL, 0xff6000001dc00000ull, &pa);
	TAP_OK(!err && pa == 0x9dc00000, "riscv64: a linear-map address, by PAGE_OFFSET");
	vf_error_destroy(err);
	err = a->kernel_vtop(v, NULL, 0xff20000000000000ull, &pa);
	TAP_OK(err && err->code == VF_ERR_UNSUPPORTED, "riscv64: a vmalloc address is not translated");
	vf_error_destroy(err);
	TAP_OK(a->linear_vaddr(v, 0x80001000, &va) && va == 0xff60000000001000ull &&
	       !a->linear_vaddr(v, 0x1000, &va), "riscv64: RAM's linear-map address; the boot ROM none");
	TAP_OK(a->kdump_unread != NULL, "riscv64: no consumer here reads its kdump files");
	vf_vmcoreinfo_destroy(v);
	v = vmci_of("NUMBER(phys_ram_base)=2147483648\n");
	err = a->kernel_vtop(v, NULL, 0xffffffff81d69cc8ull, &pa);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND && strstr(err->message, "6.2"),
	       "riscv64: a kernel before 6.2 (no layout keys): NOT_FOUND, saying why");
	vf_error_destroy(err);
	vf_vmcoreinfo_destroy(v);
}

int main(void)
{
	test_table();
	test_lookups();
	test_x86_64();
	test_aarch64();
	test_phys_base_lines();
	test_block_sizes();
	test_own_notes();
	test_detect_notes();
	test_ppc64_order();
	test_riscv64();
	return tap_done();
}
