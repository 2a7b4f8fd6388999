/* fuzz_dump.c - libFuzzer target: the dump opener and the whole diagnosis.
 *
 * The input is a dump file (ELF core, kdump, either one flattened).  Open it
 * as the command line does, diagnose it (vf_inspect, then the fix's share:
 * vf_fix_inspect, which reads the guest kernel's memory), and read a page at
 * the start of each of the first memory ranges. */
#include "fuzz.h"

#include "fix/fix.h"
#include "fix/inspect.h"
#include "format/open.h"

/* Ranges read, and bytes read at each: enough to touch every reader's page
 * lookup, bounded whatever the dump claims. */
#define FZ_RANGES_READ 8
#define FZ_READ_LEN 4096

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
	struct vf_problems probs = { 0 };
	struct vf_fix_opts fo = { 0 };
	err = vf_inspect(dump, &probs);
	if (!err)
		err = vf_fix_inspect(dump, &fo, &probs);
	fz_drop(err);
	vf_problems_deinit(&probs);

	static uint8_t buf[FZ_READ_LEN];
	for (size_t i = 0; i < dump->mem.nranges && i < FZ_RANGES_READ; i++) {
		const struct vf_mem_range *r = &dump->mem.ranges[i];
		size_t len = r->size < FZ_READ_LEN ? (size_t)r->size : FZ_READ_LEN;
		fz_drop(vf_mem_read(&dump->mem, r->start, buf, len));
		/* and one byte at its last address, where off-by-ones live */
		if (r->size)
			fz_drop(vf_mem_read(&dump->mem, r->start + (r->size - 1), buf, 1));
	}
	vf_dump_destroy(dump);
	return 0;
}
