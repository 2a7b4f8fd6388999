/* fuzz_scan.c - libFuzzer target: the scan for the VMCOREINFO note in guest
 * memory (the candidates, their validation and the choice).
 *
 * The first byte of the input picks the memory and the options: bit 0 set,
 * the rest of the input is raw guest RAM at physical address 0 (the scan
 * sees every byte the fuzzer writes); clear, it is a dump file and the scan
 * runs over the dump's memory.  Bit 1: probe every 1 KiB instead of every
 * page.  Bit 2: a big-endian guest. */
#include "fuzz.h"

#include "format/dump.h"
#include "format/open.h"
#include "guest/rawmem.h"
#include "guest/scan.h"

static void scan(struct vf_mem *mem, uint8_t mode, uint64_t page_size)
{
	struct vf_scan_opts o = { .page_size = page_size, .step = (mode & 2) ? 1024 : 0,
				  .big_endian = (mode & 4) != 0 };
	struct vf_scan_result res;
	memset(&res, 0, sizeof(res));
	fz_drop(vf_scan_for_note(mem, &o, &res));
	vf_scan_result_deinit(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	char path[32];
	fz_file(data + 1, size - 1, path);
	struct vf_error *err;
	if (mode & 1) {
		/* the RAM is the input's whole pages (at least one byte short of a
		 * page is no RAM at all: the layout parser refuses it) */
		size_t ram = (size - 1) & ~(size_t)4095;
		if (!ram)
			return 0;
		char layout[64];
		snprintf(layout, sizeof(layout), "0:0:%zu", ram);
		struct vf_mem mem = { 0 };
		err = vf_rawmem_init(path, layout, &mem);
		if (!err)
			scan(&mem, mode, 4096);
		fz_drop(err);
		vf_rawmem_deinit(&mem);
		return 0;
	}
	struct vf_dump *dump = NULL;
	err = vf_dump_open(path, &dump);
	if (!err)
		scan(&dump->mem, mode, dump->page_size);
	fz_drop(err);
	vf_dump_destroy(dump);
	return 0;
}
