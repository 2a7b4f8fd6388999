/* fuzz_plan.c - libFuzzer target: the fix planner over an opened dump.
 *
 * The input is a dump file.  Prepare the fix as --check, --dry-run and -o do
 * (vf_fix_prepare gathers from guest memory and plans), with and without
 * keeping the device pages, ask whether it is blocked and walk the patches;
 * then plan directly with explicit inputs the fix would not choose (a
 * phys_base, a memory-map end inside the dump, a kernel mapping). */
#include "fuzz.h"

#include "fix/fix.h"
#include "fix/plan.h"
#include "format/open.h"

static void prepare(struct vf_dump *dump, bool keep)
{
	struct vf_fix_opts o = { .keep_device_pages = keep };
	struct vf_fix fx;
	memset(&fx, 0, sizeof(fx));
	struct vf_error *err = vf_fix_prepare(dump, NULL, &o, &fx);
	if (err) {
		fz_drop(err);
		return;
	}
	fz_drop(vf_fix_blocked(&fx));
	size_t len;
	(void)vf_fix_note_text(&fx, dump, &len);
	for (size_t i = 0; i < fx.plan.n; i++)
		if (fx.plan.patches[i].len && !fx.plan.patches[i].bytes)
			abort();   /* a patch must carry its bytes */
	vf_fix_deinit(&fx);
}

static void plan(const struct vf_dump *dump)
{
	static const char uts[6][65] = { "Linux", "fuzz", "6.1.0", "#1", "x86_64", "" };
	struct vf_plan_inputs in = { .have_phys_base = true, .phys_base = 0x1000000,
				     .phys_base_origin = "the fuzzer", .uts = uts,
				     .mem_map_end = 0x100, .ktext_vaddr = 0xffffffff81000000ull,
				     .ktext_paddr = 0x1000000, .ktext_size = 0x200000,
				     .ktext_how = "the fuzzer", .note_origin = "the fuzzer's" };
	static const char note[] = "OSRELEASE=6.1.0\nPAGESIZE=4096\n";
	struct vf_plan p = { 0 };
	fz_drop(vf_plan_fix(dump, &in, &p));
	vf_plan_deinit(&p);
	in.note_text = (const uint8_t *)note;
	in.note_len = sizeof(note) - 1;
	memset(&p, 0, sizeof(p));
	fz_drop(vf_plan_fix(dump, &in, &p));
	vf_plan_deinit(&p);
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
	prepare(dump, false);
	prepare(dump, true);
	plan(dump);
	vf_dump_destroy(dump);
	return 0;
}
