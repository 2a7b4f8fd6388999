/* fuzz_migstream.c - libFuzzer target: QEMU migration streams and libvirt
 * save images, plain or with a compressed stream (gzip, zstd, xz, bzip2,
 * lzop), and files compressed whole.
 *
 * The input is the file given to --saved-state or --memory.  Walk it as the
 * evidence code does (vf_migstream_find_vmcoreinfo, then the region), map its
 * RAM pages (vf_migstream_mem_init) and read at the first ranges' starts,
 * open it as a libvirt image layer and read its XML and its first bytes;
 * when its magic names a codec, read it decompressed: forward, then back;
 * and open it as the ELF dump of the saved state (guest/migdump: the vCPU
 * sections, the description's field list, the header region) and read its
 * header and the first RAM bytes through the ELF reader. */
#include "fuzz.h"

#include "format/dump.h"
#include "format/open.h"
#include "guest/migdump.h"
#include "guest/migstream.h"
#include "guest/region.h"
#include "source/libvirt.h"
#include "source/open.h"
#include "source/zsrc.h"

#define FZ_RANGES_READ 4
#define FZ_READ_LEN 4096

static void walk(const char *path)
{
	struct vf_src *src;
	struct vf_error *err = vf_source_open(path, &src);
	if (err) {
		fz_drop(err);
		return;
	}
	struct vf_migstate st = { 0 };
	err = vf_migstream_find_vmcoreinfo(src, &st);
	struct vf_region r;
	if (!err)
		err = vf_migstream_region(&st, &r);
	(void)vf_migstream_machine_layout(st.machine);
	fz_drop(err);
	vf_migstate_deinit(&st);
	vf_src_destroy(src);
}

static void memory(const char *path)
{
	struct vf_mem mem = { 0 };
	struct vf_error *err = vf_migstream_mem_init(path, NULL, &mem);
	if (err) {
		fz_drop(err);
		vf_migstream_mem_deinit(&mem);
		return;
	}
	static uint8_t buf[FZ_READ_LEN];
	for (size_t i = 0; i < mem.nranges && i < FZ_RANGES_READ; i++) {
		size_t len = mem.ranges[i].size < FZ_READ_LEN ? (size_t)mem.ranges[i].size
							      : FZ_READ_LEN;
		fz_drop(vf_mem_read(&mem, mem.ranges[i].start, buf, len));
	}
	/* and the first range again: a read going back (a decompressor restart) */
	if (mem.nranges)
		fz_drop(vf_mem_read(&mem, mem.ranges[0].start, buf, 1));
	struct vf_migstream_mem_info info;
	(void)vf_migstream_mem_info(&mem, &info);
	vf_migstream_mem_deinit(&mem);
}

static void libvirt(const uint8_t *data, size_t size)
{
	struct vf_src *lv;
	struct vf_error *err = vf_libvirt_open(fz_mem_src(data, size), true, &lv);
	if (err) {
		fz_drop(err);
		return;
	}
	char *xml = NULL;
	fz_drop(vf_libvirt_xml(lv, &xml));
	free(xml);
	struct vf_libvirt_info info;
	static uint8_t buf[FZ_READ_LEN];
	size_t got;
	if (vf_libvirt_info(lv, &info))
		fz_drop(vf_src_pread(lv, buf, sizeof(buf), info.stream_offset, &got));
	fz_drop(vf_src_pread(lv, buf, sizeof(buf), 0, &got));
	vf_src_destroy(lv);
}

static void decompressed(const uint8_t *data, size_t size)
{
	enum vf_zsrc_codec codec;
	struct vf_src *z;
	if (!vf_zsrc_probe(data, size, &codec))
		return;
	struct vf_error *err = vf_zsrc_open(fz_mem_src(data, size), true, 0, codec, &z);
	if (err) {
		fz_drop(err);
		return;
	}
	static uint8_t buf[FZ_READ_LEN];
	size_t got;
	fz_drop(vf_src_pread(z, buf, sizeof(buf), 0, &got));
	fz_drop(vf_src_pread(z, buf, sizeof(buf), VF_ZSRC_WINDOW * 2, &got));
	fz_drop(vf_src_pread(z, buf, sizeof(buf), 16, &got));
	vf_src_destroy(z);
}

static void saved(const char *path)
{
	struct vf_src *src;
	struct vf_error *err = vf_saved_open(path, NULL, "/tmp", &src);
	if (err) {
		fz_drop(err);
		return;
	}
	struct vf_dump *d;
	if ((err = vf_dump_open_src(src, &d))) {
		fz_drop(err);
		return;
	}
	static uint8_t buf[FZ_READ_LEN];
	if (d->mem.nranges)
		fz_drop(vf_mem_read(&d->mem, d->mem.ranges[0].start, buf,
				    d->mem.ranges[0].size < FZ_READ_LEN ? (size_t)d->mem.ranges[0].size
									: FZ_READ_LEN));
	vf_dump_destroy(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[32];
	fz_file(data, size, path);
	walk(path);
	memory(path);
	libvirt(data, size);
	decompressed(data, size);
	saved(path);
	return 0;
}
