/* migread - test tool: walk a QEMU migration stream (or a libvirt save image)
 * and print what it says about the vmcoreinfo device, one KEY=VALUE a line.
 *   migread FILE
 * Exit: 0 the device state gives a region, 3 the state is refused (the guest
 * never wrote it ...), 4 the VM had no vmcoreinfo device, 1 other errors. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "migstream.h"
#include "src.h"

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

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: migread FILE\n");
		return 2;
	}
	struct vf_src *src;
	struct vf_error *err = vf_src_open(argv[1], &src);
	if (err)
		return fail(err, 1);
	struct vf_migstate st;
	err = vf_migstream_find_vmcoreinfo(src, &st);
	vf_src_destroy(src);
	if (err && err->code != VF_ERR_NOT_FOUND) {
		vf_migstate_release(&st);
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
	vf_migstate_release(&st);
	return rc;
}
