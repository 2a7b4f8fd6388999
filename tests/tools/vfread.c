/* vfread - test tool: read guest physical memory of a dump through the
 * library's memory interface and write it to stdout.
 *   vfread DUMP PADDR LEN
 * Exit: 0 ok, 3 not present, 4 excluded (same as vfgen --expect), 1 other. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "format/open.h"

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: vfread DUMP PADDR LEN\n");
		return 2;
	}
	uint64_t paddr = strtoull(argv[2], NULL, 0);
	size_t len = (size_t)strtoull(argv[3], NULL, 0);
	struct vf_dump *dump;
	struct vf_error *err = vf_dump_open(argv[1], &dump);
	if (err) {
		char *s = vf_error_string(err);
		fprintf(stderr, "vfread: %s\n", s ? s : err->message);
		free(s);
		vf_error_destroy(err);
		return 1;
	}
	int rc = 0;
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return 1;
	err = vf_mem_read(&dump->mem, paddr, buf, len);
	if (err) {
		char *s = vf_error_string(err);
		fprintf(stderr, "vfread: %s\n", s ? s : err->message);
		free(s);
		rc = err->code == VF_ERR_NOT_PRESENT ? 3 : err->code == VF_ERR_EXCLUDED ? 4 : 1;
		vf_error_destroy(err);
	} else if (fwrite(buf, 1, len, stdout) != len) {
		rc = 1;
	}
	free(buf);
	vf_dump_destroy(dump);
	return rc;
}
