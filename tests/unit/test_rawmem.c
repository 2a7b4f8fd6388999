/* test_rawmem.c - raw guest RAM files: layout specs, QEMU's presets, reads. */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest/rawmem.h"
#include "tap.h"

#define K (UINT64_C(1) << 10)
#define M (UINT64_C(1) << 20)
#define G (UINT64_C(1) << 30)

static void bad_spec(const char *spec, uint64_t fsize, const char *token, const char *what)
{
	struct vf_rawmem_layout l;
	struct vf_error *err = vf_rawmem_parse_layout(spec, fsize, &l);
	TAP_OK(err && err->code == VF_ERR_INVALID && err->hint &&
	       strstr(err->message, token) && strstr(err->message, what),
	       "'%s' is refused naming '%s' and saying '%s'", spec, token, what);
	if (err)
		printf("#   %s\n", err->message);
	vf_error_destroy(err);
}

struct want { uint64_t file_off, paddr, size; };

static void preset(const char *name, uint64_t fsize, size_t n, const struct want *w)
{
	struct vf_rawmem_layout l;
	struct vf_error *err = vf_rawmem_parse_layout(name, fsize, &l);
	int ok = !err && l.n == n && l.preset && strcmp(l.preset, name) == 0;
	for (size_t i = 0; ok && i < n; i++)
		ok = l.r[i].file_off == w[i].file_off && l.r[i].paddr == w[i].paddr &&
		     l.r[i].size == w[i].size;
	TAP_OK(ok, "preset %s, 0x%" PRIx64 " bytes: %zu range(s) as QEMU places them", name,
	       fsize, n);
	if (!ok && !err)
		for (size_t i = 0; i < l.n; i++)
			printf("#   got 0x%" PRIx64 ":0x%" PRIx64 ":0x%" PRIx64 "\n",
			       l.r[i].file_off, l.r[i].paddr, l.r[i].size);
	vf_error_destroy(err);
}

static uint8_t pat(uint64_t i)
{
	return (uint8_t)(i * 131 + (i >> 12) * 17 + 1);
}

int main(void)
{
	/* ---- explicit ranges */
	struct vf_rawmem_layout l;
	struct vf_error *err = vf_rawmem_parse_layout(" 0:4G:0x100000 , 1M:0:1M ", 2 * M, &l);
	TAP_OK(!err && l.n == 2 && !l.preset && l.r[0].paddr == 0 && l.r[0].file_off == M &&
	       l.r[0].size == M && l.r[1].paddr == 4 * G && l.r[1].file_off == 0 &&
	       l.r[1].size == M, "explicit ranges with suffixes and hex, sorted by address");
	vf_error_destroy(err);
	err = vf_rawmem_parse_layout("0x10:0x20:4k", 0x10 + 4 * K, &l);
	TAP_OK(!err && l.n == 1 && l.r[0].file_off == 0x10 && l.r[0].paddr == 0x20 &&
	       l.r[0].size == 4096, "lower-case suffix; a range ending exactly at the file's end");
	vf_error_destroy(err);
	err = vf_rawmem_parse_layout("010:0:1", 100, &l);
	TAP_OK(!err && l.r[0].file_off == 10, "a leading 0 is decimal, not octal");
	vf_error_destroy(err);

	bad_spec("0:0:1G,zz:0:1", 2 * G, "range 2 'zz:0:1'", "the file offset 'zz' is not a number");
	bad_spec("0:0", G, "range 1 '0:0'", "found 2");
	bad_spec("0:0:1:2", G, "'0:0:1:2'", "more than three");
	bad_spec("0:0:0", G, "'0:0:0'", "size 0");
	bad_spec("0:0:1M,", G, "range 2", "empty range");
	bad_spec("0:0x:1M", G, "'0:0x:1M'", "guest physical address '0x'");
	bad_spec("0:0:1Q", G, "'0:0:1Q'", "size '1Q'");
	bad_spec("0:0:-1", G, "'0:0:-1'", "not a number");
	bad_spec("0:0:99999999999999999999", G, "'0:0:99999999999999999999'", "below 2^64");
	bad_spec("0:0:16777216T", G, "16777216T", "below 2^64");
	bad_spec("0:0xfffffffffffff000:0x2000", G, "'0:0xfffffffffffff000:0x2000'", "overflows");
	bad_spec("0:0:1M,1M:512K:1M", 2 * M, "range 2 '1M:512K:1M'", "overlap range 1 '0:0:1M'");
	bad_spec("0:0:1M,512K:4G:1M", 2 * M, "range 2 '512K:4G:1M'", "file offsets");
	bad_spec("0:0:2G", G, "range 1 '0:0:2G'", "past the end of the file (0x40000000 bytes)");
	bad_spec("", G, "empty", "empty");
	bad_spec("Q35", G, "'Q35'", "expected FILEOFF:GPA:SIZE");
	bad_spec("q35", 0, "q35", "empty");

	/* ---- presets (hw/i386/pc_q35.c, pc_piix.c, hw/arm/virt.c) */
	preset("q35", 512 * M, 1, (struct want[]){ { 0, 0, 512 * M } });
	preset("q35", 2 * G, 1, (struct want[]){ { 0, 0, 2 * G } });
	preset("q35", 0xb0000000 - 4096, 1, (struct want[]){ { 0, 0, 0xb0000000 - 4096 } });
	preset("q35", 0xb0000000, 2, (struct want[]){ { 0, 0, 2 * G }, { 2 * G, 4 * G, 0x30000000 } });
	preset("q35", 3 * G, 2, (struct want[]){ { 0, 0, 2 * G }, { 2 * G, 4 * G, G } });
	preset("q35", 4 * G, 2, (struct want[]){ { 0, 0, 2 * G }, { 2 * G, 4 * G, 2 * G } });
	preset("q35", 8 * G, 2, (struct want[]){ { 0, 0, 2 * G }, { 2 * G, 4 * G, 6 * G } });
	preset("pc", 512 * M, 1, (struct want[]){ { 0, 0, 512 * M } });
	preset("pc", 2 * G, 1, (struct want[]){ { 0, 0, 2 * G } });
	preset("pc", 3 * G, 1, (struct want[]){ { 0, 0, 3 * G } });
	preset("pc", 0xe0000000 - 4096, 1, (struct want[]){ { 0, 0, 0xe0000000 - 4096 } });
	preset("pc", 0xe0000000, 2, (struct want[]){ { 0, 0, 3 * G }, { 3 * G, 4 * G, 512 * M } });
	preset("pc", 4 * G, 2, (struct want[]){ { 0, 0, 3 * G }, { 3 * G, 4 * G, G } });
	preset("pc", 8 * G, 2, (struct want[]){ { 0, 0, 3 * G }, { 3 * G, 4 * G, 5 * G } });
	preset("virt", 512 * M, 1, (struct want[]){ { 0, 0x40000000, 512 * M } });
	preset("virt", 8 * G, 1, (struct want[]){ { 0, 0x40000000, 8 * G } });
	/* a real 4 GiB q35 guest's note at 0x100376000 is file offset 0x80376000 */
	err = vf_rawmem_parse_layout("q35", 4 * G, &l);
	TAP_OK(!err && 0x100376000 - l.r[1].paddr + l.r[1].file_off == 0x80376000,
	       "q35 4 GiB: GPA 0x100376000 is file offset 0x80376000");
	vf_error_destroy(err);

	/* ---- reads: GPA [0, 4K) = file [8K, 12K), GPA [4K, 12K) = file [0, 8K) */
	char path[] = "/tmp/test_rawmem.XXXXXX";
	int fd = mkstemp(path);
	TAP_OK(fd >= 0, "temporary file");
	if (fd < 0)
		return tap_done();
	uint8_t file[3 * 4096];
	for (size_t i = 0; i < sizeof(file); i++)
		file[i] = pat(i);
	TAP_OK(write(fd, file, sizeof(file)) == (ssize_t)sizeof(file), "write the file");

	struct vf_mem mem;
	err = vf_rawmem_init(path, "0x2000:0:4K,0:0x1000:8K", &mem);
	TAP_OK(!err && mem.nranges == 2 && mem.ranges[0].start == 0 && mem.ranges[0].size == 4096 &&
	       mem.ranges[1].start == 0x1000 && mem.ranges[1].size == 0x2000 &&
	       mem.page_size == 4096 && strcmp(mem.name, "raw RAM file") == 0,
	       "open: ranges sorted by address, page size 4096");
	if (err) {
		vf_error_destroy(err);
		unlink(path);
		return tap_done();
	}
	uint8_t buf[64];
	err = vf_mem_read(&mem, 0x10, buf, 16);
	TAP_OK(!err && memcmp(buf, file + 0x2010, 16) == 0, "a read inside the first range");
	vf_error_destroy(err);
	err = vf_mem_read(&mem, 0xff0, buf, 32);
	TAP_OK(!err && memcmp(buf, file + 0x2ff0, 16) == 0 && memcmp(buf + 16, file, 16) == 0,
	       "a read across the range boundary takes each part from its file offset");
	vf_error_destroy(err);
	err = vf_mem_read(&mem, 0x2ff8, buf, 8);
	TAP_OK(!err && memcmp(buf, file + 0x1ff8, 8) == 0, "the last bytes of the last range");
	vf_error_destroy(err);
	err = vf_mem_read(&mem, 0x3000, buf, 1);
	TAP_OK(err && err->code == VF_ERR_NOT_PRESENT && err->offset_is_paddr &&
	       err->offset == 0x3000 && err->path && strcmp(err->path, path) == 0,
	       "past the last range: not present, naming the address and file");
	vf_error_destroy(err);
	err = vf_mem_read(&mem, 0x2ff0, buf, 32);
	TAP_OK(err && err->code == VF_ERR_NOT_PRESENT && err->offset == 0x3000,
	       "a read running out of the ranges: not present at the first missing address");
	vf_error_destroy(err);
	err = vf_mem_read(&mem, UINT64_MAX - 4, buf, 4);
	TAP_OK(err && err->code == VF_ERR_NOT_PRESENT, "an address near 2^64: not present");
	vf_error_destroy(err);

	/* the file shrinks under us: a truncated error, never zeros */
	TAP_OK(ftruncate(fd, 0x1800) == 0, "shrink the file to 0x1800 bytes");
	err = vf_mem_read(&mem, 0x1000, buf, 64);
	TAP_OK(!err && memcmp(buf, file, 64) == 0, "bytes still in the file read fine");
	vf_error_destroy(err);
	err = vf_mem_read(&mem, 0x27f0, buf, 32);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && strstr(err->message, "truncated") &&
	       strstr(err->message, "0x2800") && err->hint,
	       "a read past the shrunk end is a truncated error naming the address");
	if (err)
		printf("#   %s\n", err->message);
	vf_error_destroy(err);
	vf_rawmem_deinit(&mem);
	TAP_OK(mem.ops == NULL && mem.ranges == NULL, "close clears the memory");

	/* a layout past the end of the (now shorter) file is refused at open */
	err = vf_rawmem_init(path, "0:0:8K", &mem);
	TAP_OK(err && err->code == VF_ERR_INVALID && strstr(err->message, "past the end") &&
	       err->path && strcmp(err->path, path) == 0 && err->hint,
	       "open refuses a range past the file's end, naming the file");
	vf_error_destroy(err);
	err = vf_rawmem_init(path, "q35", &mem);
	TAP_OK(!err && mem.nranges == 1 && mem.ranges[0].size == 0x1800, "q35 on a small file");
	if (!err) {
		err = vf_mem_read(&mem, 0x17ff, buf, 2);
		TAP_OK(err && err->code == VF_ERR_NOT_PRESENT && err->offset == 0x1800,
		       "preset: past the file's size is not present");
		vf_rawmem_deinit(&mem);
	}
	vf_error_destroy(err);
	unlink(path);
	err = vf_rawmem_init(path, "q35", &mem);
	TAP_OK(err && err->code == VF_ERR_OS && err->path, "a missing file: an OS error naming it");
	vf_error_destroy(err);
	return tap_done();
}
