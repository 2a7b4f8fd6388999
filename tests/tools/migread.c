/* migread - test tool: walk a QEMU migration stream (or a libvirt save image)
 * and print what it says about the vmcoreinfo device, one KEY=VALUE a line.
 *   migread FILE
 * Exit: 0 the device state gives a region, 3 the state is refused (the guest
 * never wrote it ...), 4 the VM had no vmcoreinfo device, 1 other errors.
 *
 * Guest memory from the stream's RAM pages (vf_migstream_mem_init):
 *   migread --read FILE PADDR LEN [LAYOUT]   the bytes, to stdout
 *   migread --mem-info FILE [LAYOUT]         block, layout, index size
 * Exit: 0 ok, 3 not present, 1 other errors (as vfread). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/migstream.h"
#include "source/open.h"
#include "source/src.h"

static int fail(struct vf_error *err, int rc)
{
	char *s = vf_error_string(err);
	fprintf(stderr, "migread: %s\n", s ? s : err->message);
	if (err->hint)
		fprintf(stderr, "migread: hint: %s\n", err->hint);
	free(s);
	vf_error_destroy(err);
	return rc;
}

static int mem_mode(int argc, char **argv)
{
	bool read = strcmp(argv[1], "--read") == 0;
	if (read ? argc != 5 && argc != 6 : argc != 3 && argc != 4) {
		fprintf(stderr, "usage: migread --read FILE PADDR LEN [LAYOUT]\n"
			"       migread --mem-info FILE [LAYOUT]\n");
		return 2;
	}
	const char *layout = read ? (argc == 6 ? argv[5] : NULL) : (argc == 4 ? argv[3] : NULL);
	struct vf_mem mem;
	struct vf_error *err = vf_migstream_mem_init(argv[2], layout, &mem);
	if (err)
		return fail(err, 1);
	int rc = 0;
	if (!read) {
		struct vf_migstream_mem_info info;
		if (!vf_migstream_mem_info(&mem, &info))
			return 1;
		printf("block=%s\nblock_length=0x%" PRIx64 "\nlayout=%s\npage_size=%" PRIu64
		       "\nruns=%zu\nrecords=%" PRIu64 "\n", info.block, info.block_length,
		       info.layout, mem.page_size, info.runs, info.records);
		for (size_t i = 0; i < mem.nranges; i++)
			printf("range=0x%" PRIx64 " 0x%" PRIx64 "\n", mem.ranges[i].start,
			       mem.ranges[i].size);
	} else {
		uint64_t paddr = strtoull(argv[3], NULL, 0);
		size_t len = (size_t)strtoull(argv[4], NULL, 0);
		uint8_t *buf = malloc(len ? len : 1);
		if (!buf)
			rc = 1;
		else if ((err = vf_mem_read(&mem, paddr, buf, len)))
			rc = fail(err, err->code == VF_ERR_NOT_PRESENT ? 3 : 1);
		else if (fwrite(buf, 1, len, stdout) != len)
			rc = 1;
		free(buf);
	}
	vf_migstream_mem_deinit(&mem);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--read") == 0 || strcmp(argv[1], "--mem-info") == 0))
		return mem_mode(argc, argv);
	if (argc != 2) {
		fprintf(stderr, "usage: migread FILE\n"
			"       migread --read FILE PADDR LEN [LAYOUT]\n"
			"       migread --mem-info FILE [LAYOUT]\n");
		return 2;
	}
	struct vf_src *src;
	struct vf_error *err = vf_source_open(argv[1], &src);
	if (err)
		return fail(err, 1);
	struct vf_migstate st;
	err = vf_migstream_find_vmcoreinfo(src, &st);
	vf_src_destroy(src);
	if (err && err->code != VF_ERR_NOT_FOUND) {
		vf_migstate_deinit(&st);
		return fail(err, 1);
	}
	struct vf_error *notfound = err;
	printf("libvirt=%d\nstream_offset=0x%" PRIx64 "\n", st.libvirt, st.stream_offset);
	printf("machine=%s\n", st.machine);
	printf("page_size=%" PRIu64 " (%s)\n", st.page_size, st.page_size_from);
	printf("footers=%d\nscanned=%d\nsections=%zu\n", st.footers, st.scanned, st.nsections);
	printf("ram_total=0x%" PRIx64 "\nram_pages=%" PRIu64 "\nram_zero_pages=%" PRIu64 "\n",
	       st.ram_total, st.ram_pages, st.ram_zero_pages);
	for (size_t i = 0; i < st.nramblocks; i++)
		printf("ramblock=%s 0x%" PRIx64 "\n", st.ramblocks[i].idstr, st.ramblocks[i].length);
	printf("description=%d\n", st.has_description);
	if (st.has_description)
		printf("description_offset=0x%" PRIx64 "\ndescription_size=%" PRIu64
		       "\ndescription_vmcoreinfo=%d\n", st.description_offset,
		       st.description_size, st.description_has_vmcoreinfo);
	if (st.reached_eof)
		printf("eof_offset=0x%" PRIx64 "\n", st.eof_offset);
	printf("found=%d\n", st.found);
	if (st.found) {
		printf("section_offset=0x%" PRIx64 "\nstate_offset=0x%" PRIx64 "\n",
		       st.section_offset, st.state_offset);
		printf("section_id=%" PRIu32 "\ninstance_id=%" PRIu32 "\nversion_id=%" PRIu32 "\n",
		       st.section_id, st.instance_id, st.version_id);
		printf("has_vmcoreinfo=%d\nhost_format=%u\nguest_format=%u\n", st.has_vmcoreinfo,
		       st.host_format, st.guest_format);
		printf("size=0x%" PRIx32 "\npaddr=0x%" PRIx64 "\nhost_big_endian=%d\n", st.size,
		       st.paddr, st.host_big_endian);
	}
	int rc = 0;
	struct vf_region r;
	if (notfound) {
		rc = fail(notfound, 4);
	} else if ((err = vf_migstream_region(&st, &r))) {
		rc = err->code == VF_ERR_REFUSED ? 3 : 1;
		fail(vf_error_set_path(err, argv[1]), rc);
	} else {
		printf("region=0x%" PRIx64 " 0x%" PRIx64 "\n", r.paddr, r.size);
	}
	vf_migstate_deinit(&st);
	return rc;
}
