/* fuzz_plan.c - libFuzzer target: the fix planner over an opened dump.
 *
 * The input is a dump file.  Prepare the fix as --check, --dry-run and -o do
 * (vf_fix_prepare gathers from guest memory and plans), with and without
 * keeping the device pages, ask whether it is blocked and walk the patches;
 * then plan directly with explicit inputs the fix would not choose (a
 * phys_base, a memory-map end inside the dump, a kernel mapping).  A new
 * kdump (--output-format kdump) is prepared too, and written into an unnamed
 * file and read back (fix/verify.c) when it plans: the input's size bounds
 * its pages. */
#include "fuzz.h"

#include <unistd.h>

#include "fix/fix.h"
#include "fix/plan.h"
#include "fix/verify.h"
#include "fix/writer.h"
#include "format/open.h"

static void write_kdump(struct vf_dump *dump, const struct vf_fix *fx)
{
	struct vf_verify v;
	vf_verify_init(&v, dump, fx, "the fuzzer's kdump");
	struct vf_write_opts wo = { .verify = vf_verify_output, .verify_arg = &v };
	struct vf_write_stats st;
	int fd = -1;
	fz_drop(vf_write_unnamed(dump, &fx->plan, "/tmp", VF_OUT_RAW, &wo, &st, &fd));
	if (fd >= 0)
		close(fd);
}

static void prepare(struct vf_dump *dump, bool keep, bool to_kdump)
{
	struct vf_fix_opts o = { .keep_device_pages = keep, .to_kdump = to_kdump };
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
	if (fx.plan.to_kdump)
		write_kdump(dump, &fx);
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
	memset(&p, 0, sizeof(p));
	fz_drop(vf_plan_to_kdump(dump, &in, &p));
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
	prepare(dump, false, false);
	prepare(dump, true, false);
	prepare(dump, false, true);
	plan(dump);
	vf_dump_destroy(dump);
	return 0;
}
