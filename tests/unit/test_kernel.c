/* test_kernel.c - the guest kernel's data read through generated dumps:
 * kernel-image addresses, init_uts_ns, the SPARSEMEM memory map's end and the
 * kernel image's mapping. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/kernel.h"
#include "util/cursor.h"
#include "util/vmcoreinfo.h"
#include "tap.h"
#include "vfgen.h"

static char spec[16384];

/* Append to spec. */
static void add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void add(const char *fmt, ...)
{
	size_t n = strlen(spec);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(spec + n, sizeof(spec) - n, fmt, ap);
	va_end(ap);
}

/* A "bytes" line: one little-endian 64-bit value at paddr. */
static void add_u64(uint64_t paddr, uint64_t v)
{
	add("bytes 0x%llx ", (unsigned long long)paddr);
	for (int i = 0; i < 8; i++)
		add("%02x", (unsigned)(v >> (8 * i)) & 0xff);
	add("\n");
}

/* A "bytes" line: a struct new_utsname with these six fields at paddr. */
static void add_uts(uint64_t paddr, const char *const f[6])
{
	add("bytes 0x%llx ", (unsigned long long)paddr);
	for (int i = 0; i < 6; i++)
		for (size_t j = 0; j < VF_UTS_LEN; j++)
			add("%02x", j < strlen(f[i]) ? (unsigned char)f[i][j] : 0);
	add("\n");
}

static struct vf_vmcoreinfo *vmci_of(const char *text)
{
	struct vf_vmcoreinfo *v = NULL;
	struct vf_error *err = vf_vmcoreinfo_parse(text, strlen(text), &v);
	if (err)
		abort();
	return v;
}

static int is(struct vf_error *err, enum vf_err_code code, const char *what)
{
	int ok = err && err->code == code && (!what || strstr(err->message, what));
	if (err && !ok)
		printf("#   code %d: %s\n", err->code, err->message);
	if (!err)
		printf("#   no error\n");
	vf_error_destroy(err);
	return ok;
}

static const char x86_text[] =
	"OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\nSYMBOL(init_uts_ns)=ffffffff80103000\n"
	"OFFSET(uts_namespace.name)=4\n";

static void x86_vtop_uts(void)
{
	struct vf_dump *d = vfgen_open("x", "format elf\nmachine x86_64\nprstatus 1\n" VFGEN_KTEXT
				       "vmcoreinfo-line NUMBER(phys_base)=0\nram 0 4M\n");
	TAP_OK(d && d->vmci, "x86_64 ELF: generated and opened");
	if (!d || !d->vmci)
		return;
	uint64_t pa = 0;
	struct vf_error *err = vf_kernel_vtop(d, d->vmci, 0xffffffff81234567ull, &pa);
	TAP_OK(!err && pa == 0x1234567, "x86_64: vaddr - __START_KERNEL_map + phys_base 0");
	vf_error_destroy(err);
	struct vf_vmcoreinfo *v = vmci_of("NUMBER(phys_base)=-301989888\n");
	err = vf_kernel_vtop(d, v, 0xffffffff92003580ull, &pa);
	TAP_EQ_U64(err ? 0 : pa, 0x3580, "x86_64: a negative phys_base (KASLR) subtracts");
	vf_error_destroy(err);
	vf_vmcoreinfo_destroy(v);
	v = vmci_of("NUMBER(phys_base)=16777216\n");
	err = vf_kernel_vtop(d, v, 0xffffffff80001000ull, &pa);
	TAP_EQ_U64(err ? 0 : pa, 0x1001000, "x86_64: phys_base 16 MiB adds");
	vf_error_destroy(err);
	TAP_OK(is(vf_kernel_vtop(d, v, 0xffff888000001000ull, &pa), VF_ERR_UNSUPPORTED,
		  "not a kernel image address"), "x86_64: a direct-map address is not translated");
	vf_vmcoreinfo_destroy(v);
	v = vmci_of("OSRELEASE=6.1.0\n");
	TAP_OK(is(vf_kernel_vtop(d, v, 0xffffffff81000000ull, &pa), VF_ERR_NOT_FOUND,
		  "NUMBER(phys_base)"), "x86_64: no phys_base: NOT_FOUND naming it");
	vf_vmcoreinfo_destroy(v);

	char uts[VF_UTS_FIELDS][VF_UTS_LEN];
	memset(uts, 'Z', sizeof(uts));
	err = vf_kernel_utsname(d, d->vmci, uts);
	TAP_OK(!err, "x86_64: init_uts_ns read");
	if (!err) {
		static const char *const want[6] = { "Linux", "vfgen", "6.1.0-56-amd64",
						     "#1 SMP PREEMPT_DYNAMIC", "x86_64", "(none)" };
		for (int i = 0; i < 6; i++)
			TAP_EQ_STR(uts[i], want[i], "x86_64: init_uts_ns field %d", i);
	}
	vf_error_destroy(err);

	TAP_OK(is(vf_kernel_utsname(d, NULL, uts), VF_ERR_NOT_FOUND, "no VMCOREINFO"),
	       "utsname without VMCOREINFO: NOT_FOUND");
	v = vmci_of("OSRELEASE=6.1.0-56-amd64\nOFFSET(uts_namespace.name)=4\nNUMBER(phys_base)=0\n");
	TAP_OK(is(vf_kernel_utsname(d, v, uts), VF_ERR_NOT_FOUND,
		  "locating init_uts_ns: VMCOREINFO has no SYMBOL(init_uts_ns)"),
	       "utsname without SYMBOL(init_uts_ns): NOT_FOUND naming it");
	vf_vmcoreinfo_destroy(v);
	v = vmci_of("OSRELEASE=6.1.0-56-amd64\nSYMBOL(init_uts_ns)=ffffffff80103000\n"
		    "NUMBER(phys_base)=0\n");
	TAP_OK(is(vf_kernel_utsname(d, v, uts), VF_ERR_NOT_FOUND, "OFFSET(uts_namespace.name)"),
	       "utsname without OFFSET(uts_namespace.name): NOT_FOUND naming it");
	vf_vmcoreinfo_destroy(v);
	v = vmci_of("OSRELEASE=6.1.0-99-amd64\nSYMBOL(init_uts_ns)=ffffffff80103000\n"
		    "OFFSET(uts_namespace.name)=4\nNUMBER(phys_base)=0\n");
	TAP_OK(is(vf_kernel_utsname(d, v, uts), VF_ERR_CORRUPT, "6.1.0-99-amd64"),
	       "utsname: a release other than OSRELEASE is corrupt, naming both");
	vf_vmcoreinfo_destroy(v);
	/* one byte off: every field still text, the release check catches it */
	v = vmci_of("OSRELEASE=6.1.0-56-amd64\nSYMBOL(init_uts_ns)=ffffffff80103000\n"
		    "OFFSET(uts_namespace.name)=5\nNUMBER(phys_base)=0\n");
	TAP_OK(is(vf_kernel_utsname(d, v, uts), VF_ERR_CORRUPT, NULL),
	       "utsname: a wrong offset is caught");
	vf_vmcoreinfo_destroy(v);
	/* the guest-memory pattern at 0x203bf8: c4 07 e3 c3 a5 a5 5a 5a 3c 00: a
	 * NUL-terminated field that is not text */
	v = vmci_of("OSRELEASE=6.1.0-56-amd64\nSYMBOL(init_uts_ns)=ffffffff80203bf4\n"
		    "OFFSET(uts_namespace.name)=4\nNUMBER(phys_base)=0\n");
	err = vf_kernel_utsname(d, v, uts);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && strstr(err->message, "field 0 is not text") &&
	       err->offset_is_paddr && err->offset == 0x203bf8,
	       "utsname over non-text memory: corrupt, at the field's address");
	vf_error_destroy(err);
	vf_vmcoreinfo_destroy(v);
	v = vmci_of("OSRELEASE=6.1.0-56-amd64\nSYMBOL(init_uts_ns)=ffffffff90000000\n"
		    "OFFSET(uts_namespace.name)=4\nNUMBER(phys_base)=0\n");
	err = vf_kernel_utsname(d, v, uts);
	TAP_OK(err && err->code == VF_ERR_NOT_PRESENT && strstr(err->message, "reading init_uts_ns"),
	       "utsname outside the dump's memory: the memory error with context");
	vf_error_destroy(err);
	vf_vmcoreinfo_destroy(v);
	v = vmci_of(x86_text);
	TAP_OK(is(vf_kernel_utsname(d, v, uts), VF_ERR_NOT_FOUND, "NUMBER(phys_base)"),
	       "utsname: no phys_base to translate with: NOT_FOUND");
	vf_vmcoreinfo_destroy(v);

	v = vmci_of(x86_text);
	uint64_t end;
	TAP_OK(is(vf_kernel_mem_map_end(d, v, 0x1000, &end), VF_ERR_NOT_FOUND, "SPARSEMEM"),
	       "mem_map_end without SPARSEMEM keys: NOT_FOUND");
	vf_vmcoreinfo_destroy(v);

	/* no page table in memory (the pattern): up to the last image symbol */
	uint64_t va, size;
	const char *how = NULL;
	err = vf_kernel_text(d, d->vmci, &va, &pa, &size, &how);
	TAP_OK(!err && va == 0xffffffff80000000ull && pa == 0 && size == 4u << 20 &&
	       how && strstr(how, "last kernel-image symbol"),
	       "x86_64 text without a readable page table: _stext rounded down, up to "
	       "swapper_pg_dir rounded up (%s)", how ? how : "");
	vf_error_destroy(err);
	v = vmci_of("KERNELOFFSET=1e000000\nSYMBOL(_stext)=ffffffff9f000000\n"
		    "SYMBOL(init_uts_ns)=ffffffff9f6c3580\nNUMBER(phys_base)=-301989888\n");
	err = vf_kernel_text(d, v, &va, &pa, &size, &how);
	TAP_OK(!err && va == 0xffffffff9f000000ull && pa == 0xd000000 && size == 8u << 20,
	       "x86_64 text: 0xffffffff81000000 + KERNELOFFSET, through phys_base");
	vf_error_destroy(err);
	vf_vmcoreinfo_destroy(v);
	v = vmci_of("OSRELEASE=6.1.0\nNUMBER(phys_base)=0\n");
	TAP_OK(is(vf_kernel_text(d, v, &va, &pa, &size, &how), VF_ERR_NOT_FOUND, "_stext"),
	       "x86_64 text without KERNELOFFSET or _stext: NOT_FOUND");
	vf_vmcoreinfo_destroy(v);
	vf_dump_destroy(d);
}

/* x86_64 with a kernel page table and a SPARSEMEM_EXTREME mem_section in
 * memory: PML4 at swapper_pg_dir (0x200000), two 2 MiB pages mapping the
 * image window's first 4 MiB to physical 0. */
#define MS_SYM 0xffffffff80300000ull
#define MS_ROOT0 0xffffffff80310000ull
static const char sparse_text[] =
	"OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\nSYMBOL(_stext)=ffffffff80100000\n"
	"SYMBOL(swapper_pg_dir)=ffffffff80200000\nNUMBER(phys_base)=0\n"
	"SYMBOL(mem_section)=ffffffff80300000\nLENGTH(mem_section)=2048\n"
	"SIZE(mem_section)=16\nOFFSET(mem_section.section_mem_map)=8\n"
	"NUMBER(SECTION_SIZE_BITS)=27\nNUMBER(MAX_PHYSMEM_BITS)=46\n";

static void sparsemem(void)
{
	spec[0] = 0;
	add("format elf\nmachine x86_64\nprstatus 1\nram 0 4M zero\n");
	add("vmcoreinfo-line OSRELEASE=6.1.0-56-amd64\nvmcoreinfo-line PAGESIZE=4096\n");
	add_u64(0x200000 + 511 * 8, 0x201003);  /* PML4[511] -> PDPT */
	add_u64(0x201000 + 510 * 8, 0x202003);  /* PDPT[510] -> PD */
	add_u64(0x202000, 0x000083);            /* PD[0]: 2 MiB at 0 */
	add_u64(0x202008, 0x200083);            /* PD[1]: 2 MiB at 2 MiB */
	add_u64(0x300000, MS_ROOT0);            /* mem_section[0] */
	add_u64(0x300008, 0);                   /* mem_section[1]: none */
	for (int s = 0; s < 8; s++)             /* sections 0, 1 and 3 present */
		add_u64(0x310000 + 16 * s + 8, (s == 0 || s == 1 || s == 3) ? 0xffffea0000000003ull
					       : (s == 2 ? 0xffffea0000000002ull : 0));
	struct vf_dump *d = vfgen_open("sm", spec);
	TAP_OK(d != NULL, "x86_64 with a page table and mem_section: generated and opened");
	if (!d)
		return;
	struct vf_vmcoreinfo *v = vmci_of(sparse_text);
	uint64_t end = 0;
	struct vf_error *err = vf_kernel_mem_map_end(d, v, 0x100000, &end);
	TAP_EQ_U64(err ? 0 : end, 0x20000, "mem_map_end: past section 3 (32768 pages each)");
	vf_error_destroy(err);
	err = vf_kernel_mem_map_end(d, v, 0x18000, &end);
	TAP_EQ_U64(err ? 0 : end, 0x10000, "mem_map_end: sections at or above the limit are "
		   "not looked at (section 2 is not present)");
	vf_error_destroy(err);
	err = vf_kernel_mem_map_end(d, v, 0x19000, &end);
	TAP_EQ_U64(err ? 0 : end, 0x19000, "mem_map_end: at most the limit");
	vf_error_destroy(err);
	err = vf_kernel_mem_map_end(d, v, 0x8000, &end);
	TAP_EQ_U64(err ? 0 : end, 0x8000, "mem_map_end: section 0 only");
	vf_error_destroy(err);
	vf_vmcoreinfo_destroy(v);

	/* the same numbers, the map field at offset 0: no section present */
	char text[1024];
	snprintf(text, sizeof(text), "%s", sparse_text);
	memcpy(strstr(text, "section_mem_map)=8") + 17, "0", 1);
	v = vmci_of(text);
	TAP_OK(is(vf_kernel_mem_map_end(d, v, 0x100000, &end), VF_ERR_CORRUPT,
		  "no present section below pfn 0x100000"), "mem_map_end: none present: corrupt");
	vf_vmcoreinfo_destroy(v);

	snprintf(text, sizeof(text), "%s", sparse_text);
	memcpy(strstr(text, "LENGTH(mem_section)=2048") + 20, "1024", 4);
	v = vmci_of(text);
	TAP_OK(is(vf_kernel_mem_map_end(d, v, 0x100000, &end), VF_ERR_UNSUPPORTED,
		  "not SPARSEMEM_EXTREME"), "mem_map_end: another LENGTH is not SPARSEMEM_EXTREME");
	vf_vmcoreinfo_destroy(v);

	snprintf(text, sizeof(text), "%s", sparse_text);
	memcpy(strstr(text, "SIZE_BITS)=27") + 11, "47", 2);
	v = vmci_of(text);
	TAP_OK(is(vf_kernel_mem_map_end(d, v, 0x100000, &end), VF_ERR_CORRUPT,
		  "do not make sense"), "mem_map_end: SECTION_SIZE_BITS above MAX_PHYSMEM_BITS");
	vf_vmcoreinfo_destroy(v);

	snprintf(text, sizeof(text), "%s", sparse_text);
	memcpy(strstr(text, "=ffffffff80300000") + 1, "ffffffff80600000", 16);
	v = vmci_of(text);
	err = vf_kernel_mem_map_end(d, v, 0x100000, &end);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND && strstr(err->message, "mem_section[0]") &&
	       strstr(err->message, "not mapped"),
	       "mem_map_end: mem_section where the page table maps nothing: the walk's error");
	vf_error_destroy(err);
	vf_vmcoreinfo_destroy(v);

	/* the text: as far as the page table maps it linearly */
	v = vmci_of(sparse_text);
	uint64_t va, pa, size;
	const char *how = NULL;
	err = vf_kernel_text(d, v, &va, &pa, &size, &how);
	TAP_OK(!err && va == 0xffffffff80000000ull && pa == 0 && size == 4u << 20 && how &&
	       strstr(how, "page table"), "x86_64 text: the page table's linear 4 MiB (%s)",
	       how ? how : "");
	vf_error_destroy(err);
	vf_vmcoreinfo_destroy(v);
	vf_dump_destroy(d);
}

static void aarch64(void)
{
	/* _text at 0xffff800008000000, physical 0x40000000 */
	static const char *const f[6] = { "Linux", "arm", "6.1.0-13-arm64", "#1 SMP", "aarch64",
					  "(none)" };
	spec[0] = 0;
	add("format elf\nmachine aarch64\nprstatus 1\nram 0x40000000 4M\n");
	add("vmcoreinfo-line OSRELEASE=6.1.0-13-arm64\nvmcoreinfo-line PAGESIZE=4096\n"
	    "vmcoreinfo-line NUMBER(kimage_voffset)=0xffff7fffc8000000\n"
	    "vmcoreinfo-line SYMBOL(_text)=ffff800008000000\n"
	    "vmcoreinfo-line SYMBOL(_stext)=ffff800008010000\n"
	    "vmcoreinfo-line SYMBOL(init_uts_ns)=ffff800008345678\n"
	    "vmcoreinfo-line OFFSET(uts_namespace.name)=4\n");
	add_uts(0x4034567c, f);
	struct vf_dump *d = vfgen_open("a", spec);
	TAP_OK(d && d->vmci, "aarch64 ELF: generated and opened");
	if (!d || !d->vmci)
		return;
	uint64_t pa = 0;
	struct vf_error *err = vf_kernel_vtop(d, d->vmci, 0xffff800008001234ull, &pa);
	TAP_EQ_U64(err ? 0 : pa, 0x40001234, "aarch64: vaddr - kimage_voffset");
	vf_error_destroy(err);
	struct vf_vmcoreinfo *v = vmci_of("NUMBER(phys_base)=0\n");
	TAP_OK(is(vf_kernel_vtop(d, v, 0xffff800008001234ull, &pa), VF_ERR_NOT_FOUND,
		  "kimage_voffset"), "aarch64: phys_base is not used; no kimage_voffset: NOT_FOUND");
	vf_vmcoreinfo_destroy(v);

	char uts[VF_UTS_FIELDS][VF_UTS_LEN];
	err = vf_kernel_utsname(d, d->vmci, uts);
	TAP_OK(!err && strcmp(uts[2], "6.1.0-13-arm64") == 0 && strcmp(uts[4], "aarch64") == 0,
	       "aarch64: init_uts_ns through kimage_voffset");
	vf_error_destroy(err);

	uint64_t end;
	TAP_OK(is(vf_kernel_mem_map_end(d, d->vmci, 0x1000, &end), VF_ERR_NOT_FOUND,
		  "SYMBOL(mem_section)"), "aarch64: mem_map_end without SPARSEMEM keys: NOT_FOUND");

	uint64_t va, size;
	const char *how = NULL;
	err = vf_kernel_text(d, d->vmci, &va, &pa, &size, &how);
	TAP_OK(!err && va == 0xffff800008000000ull && pa == 0x40000000 && size == 4u << 20 &&
	       how && strstr(how, "symbol"),
	       "aarch64 text: from _text, up to the last image symbol rounded up to 2 MiB");
	vf_error_destroy(err);
	v = vmci_of("NUMBER(kimage_voffset)=0xffff7fffc8000000\nSYMBOL(_stext)=ffff800008010000\n");
	err = vf_kernel_text(d, v, &va, &pa, &size, &how);
	TAP_OK(!err && va == 0xffff800008010000ull && pa == 0x40010000 && size == 2u << 20,
	       "aarch64 text: _stext without _text");
	vf_error_destroy(err);
	vf_vmcoreinfo_destroy(v);
	vf_dump_destroy(d);
}

/* aarch64 kdump as QEMU writes it (64 KiB blocks, 4 KiB kernel pages), its
 * mem_section in the linear map: PAGE_OFFSET 0xffff000000000000 (VA_BITS
 * 48) maps to PHYS_OFFSET 0x40000000. */
static const char a64_sparse[] =
	"OSRELEASE=6.1.0-57-arm64\nPAGESIZE=4096\nNUMBER(VA_BITS)=48\n"
	"NUMBER(PHYS_OFFSET)=0x40000000\nNUMBER(kimage_voffset)=0xffff7fffc7e00000\n"
	"SYMBOL(mem_section)=ffff000000300000\nLENGTH(mem_section)=8192\n"
	"SIZE(mem_section)=16\nOFFSET(mem_section.section_mem_map)=8\n"
	"NUMBER(SECTION_SIZE_BITS)=27\nNUMBER(MAX_PHYSMEM_BITS)=48\n";

static void aarch64_sparsemem(void)
{
	spec[0] = 0;
	add("format kdump\nmachine aarch64\npage_size 4096\nblock_size 65536\nprstatus 1\n"
	    "ram 0x40000000 0x400000 zero\nram 0x48000000 0x10000 zero\n");
	add("vmcoreinfo-line OSRELEASE=6.1.0-57-arm64\nvmcoreinfo-line PAGESIZE=4096\n");
	add_u64(0x40300000, 0xffff000000310000ull);   /* mem_section[0] -> linear 0x40310000 */
	/* of root 0's 256 sections: 8 (0x40000000) and 9 (0x48000000) present */
	add_u64(0x40310000 + 16 * 8 + 8, 0xfffffc0000000003ull);
	add_u64(0x40310000 + 16 * 9 + 8, 0xfffffc0000000003ull);
	struct vf_dump *d = vfgen_open("a64sm", spec);
	TAP_OK(d && d->page_size == 65536 && d->kernel_page_size == 4096 &&
	       d->kernel_page_size_known, "aarch64 kdump: 64 KiB blocks, a kernel of 4 KiB pages");
	if (!d)
		return;
	struct vf_vmcoreinfo *v = vmci_of(a64_sparse);
	uint64_t pa = 0, end = 0;
	struct vf_error *err = vf_kernel_vtop(d, v, 0xffff000000310008ull, &pa);
	TAP_EQ_U64(err ? 0 : pa, 0x40310008, "aarch64: a linear-map address, by PHYS_OFFSET");
	vf_error_destroy(err);
	err = vf_kernel_vtop(d, v, 0xffff800008010000ull, &pa);
	TAP_EQ_U64(err ? 0 : pa, 0x40210000, "aarch64: an image address, by kimage_voffset");
	vf_error_destroy(err);
	/* max pfn (64 KiB blocks) 0x4801; sections of 2048 blocks */
	err = vf_kernel_mem_map_end(d, v, 0x4801, &end);
	TAP_EQ_U64(err ? 0 : end, 0x4801, "aarch64 mem_map_end: section 9 present, at most the limit");
	vf_error_destroy(err);
	err = vf_kernel_mem_map_end(d, v, 0x4800, &end);
	TAP_EQ_U64(err ? 0 : end, 0x4800, "aarch64 mem_map_end: below section 9, section 8's end");
	vf_error_destroy(err);
	vf_vmcoreinfo_destroy(v);
	/* PHYS_OFFSET wrong by 1 GiB: the roots read where RAM is not */
	char text[1024];
	snprintf(text, sizeof(text), "%s", a64_sparse);
	memcpy(strstr(text, "=0x40000000"), "=0x00000000", 11);
	v = vmci_of(text);
	err = vf_kernel_mem_map_end(d, v, 0x4801, &end);
	TAP_OK(err && strstr(err->message, "mem_section[0]"),
	       "aarch64 mem_map_end: a wrong PHYS_OFFSET reads nothing: an error naming the root");
	vf_error_destroy(err);
	vf_vmcoreinfo_destroy(v);
	vf_dump_destroy(d);
}

static void others(void)
{
	struct vf_dump *d = vfgen_open("s", "format elf\nmachine s390x\nprstatus 1\n"
				       "vmcoreinfo-line OSRELEASE=6.1.0\nvmcoreinfo-line PAGESIZE=4096\n"
				       "ram 0 1M\n");
	TAP_OK(d != NULL, "s390x ELF: generated and opened");
	if (!d)
		return;
	uint64_t pa = 0, va, size;
	const char *how;
	struct vf_error *err = vf_kernel_vtop(d, d->vmci, 0x123456, &pa);
	TAP_OK(!err && pa == 0x123456, "s390x: virtual = physical (no IDENTITYBASE)");
	vf_error_destroy(err);
	struct vf_vmcoreinfo *v = vmci_of("IDENTITYBASE=3ffe00000000\n");
	TAP_OK(is(vf_kernel_vtop(d, v, 0x1000, &pa), VF_ERR_UNSUPPORTED, "IDENTITYBASE"),
	       "s390x: a kernel with IDENTITYBASE is not translated");
	vf_vmcoreinfo_destroy(v);
	TAP_OK(is(vf_kernel_text(d, d->vmci, &va, &pa, &size, &how), VF_ERR_NOT_FOUND,
		  "SYMBOL(_stext)"), "s390x: text starts at _stext, which this note lacks");
	vf_dump_destroy(d);
	d = vfgen_open("ppc", "format elf\nmachine ppc64\nprstatus 1\n"
		       "vmcoreinfo-line OSRELEASE=6.1.0\nvmcoreinfo-line PAGESIZE=65536\n"
		       "ram 0 1M\n");
	TAP_OK(d && is(vf_kernel_vtop(d, d->vmci, 0x1000, &pa), VF_ERR_UNSUPPORTED, "ppc64"),
	       "ppc64: an address outside the linear map is not translated, naming the machine");
	err = d ? vf_kernel_vtop(d, d->vmci, 0xc000000001234560ull, &pa) : NULL;
	TAP_OK(d && !err && pa == 0x1234560, "ppc64: the linear map from PAGE_OFFSET maps 0");
	vf_error_destroy(err);
	vf_dump_destroy(d);
}

int main(void)
{
	if (!getenv("VFGEN")) {
		printf("1..0 # SKIP VFGEN not set (run through make check)\n");
		return 0;
	}
	x86_vtop_uts();
	sparsemem();
	aarch64();
	aarch64_sparsemem();
	others();
	return tap_done();
}
