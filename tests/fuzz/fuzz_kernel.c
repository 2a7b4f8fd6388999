/* fuzz_kernel.c - libFuzzer target: the guest kernel readers and the x86_64
 * page-table walk, over an opened dump.
 *
 * The input is a dump file; its own VMCOREINFO (when it has one) tells the
 * readers where the kernel's structures are, its QEMU notes the CPUs'
 * control registers.  Every reader runs: utsname, the memory map's end, the
 * kernel image's mapping, a kernel address or two through vtop, the CPU
 * states and phys_base from the page tables. */
#include "fuzz.h"

#include "format/dump.h"
#include "format/kdump.h"
#include "format/open.h"
#include "guest/kernel.h"
#include "guest/pgtable.h"

static void readers(const struct vf_dump *dump, const struct vf_vmcoreinfo *v)
{
	char uts[VF_UTS_FIELDS][VF_UTS_LEN];
	fz_drop(vf_kernel_utsname(dump, v, uts));
	/* the limit the fix passes: the kdump header's; for ELF the top of memory */
	uint64_t end, limit = 0;
	if (dump->kdump)
		limit = dump->kdump->max_pfn;
	else if (dump->mem.nranges && dump->page_size)
		limit = (dump->mem.ranges[dump->mem.nranges - 1].start +
			 dump->mem.ranges[dump->mem.nranges - 1].size) / dump->page_size;
	fz_drop(vf_kernel_mem_map_end(dump, v, limit, &end));
	uint64_t va, pa, sz;
	const char *how;
	fz_drop(vf_kernel_text(dump, v, &va, &pa, &sz, &how));
	uint64_t stext;
	struct vf_error *err = vf_vmcoreinfo_number(v, "SYMBOL(_stext)", &stext);
	if (!err)
		fz_drop(vf_kernel_vtop(dump, v, stext, &pa));
	fz_drop(err);
	fz_drop(vf_kernel_vtop(dump, v, 0xffffffff81000000ull, &pa));
}

static void pgtables(const struct vf_dump *dump, const struct vf_vmcoreinfo *v)
{
	struct vf_x86_cpu *cpus = NULL;
	size_t n = 0;
	struct vf_error *err = vf_qemu_cpu_states(dump, &cpus, &n);
	for (size_t i = 0; !err && i < n; i++)
		(void)vf_x86_cpu_unusable(&cpus[i]);
	fz_drop(err);
	free(cpus);
	uint64_t pb;
	char *how = NULL;
	fz_drop(vf_x86_phys_base_from_pgtables(dump, v, &pb, &how));
	free(how);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[32];
	fz_file(data, size, path);
	struct vf_dump *dump = NULL;
	struct vf_error *err = vf_dump_open(path, &dump);
	if (err) {
		fz_drop(err);
		return 0;
	}
	if (dump->vmci) {
		readers(dump, dump->vmci);
		pgtables(dump, dump->vmci);
	}
	vf_dump_destroy(dump);
	return 0;
}
