/* fiemap FILE - the file's extents as the file system maps them (FS_IOC_FIEMAP),
 * for tests/bats/reflink.bats: one line per extent,
 *
 *     LOGICAL LENGTH shared|own [unwritten] [last]
 *
 * (byte offsets and lengths in hex), then a summary line
 *
 *     total DATA_BYTES shared SHARED_BYTES own OWN_BYTES extents N
 *
 * (decimal) where "shared" counts the extents flagged FIEMAP_EXTENT_SHARED
 * (their blocks belong to another file too: a reflink) and "own" the
 * rest.  Exit 0, 1 when the file cannot be opened or mapped (FIEMAP not
 * supported there: the message says so), 2 on a bad command line. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#define BATCH 256  /* extents asked for at a time */

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fiemap FILE\n");
		return 2;
	}
	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "fiemap: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	struct fiemap *fm = calloc(1, sizeof(*fm) + BATCH * sizeof(struct fiemap_extent));
	if (!fm) {
		fprintf(stderr, "fiemap: out of memory\n");
		return 1;
	}
	uint64_t start = 0, total = 0, shared = 0, own = 0, n = 0;
	for (int last = 0; !last;) {
		memset(fm, 0, sizeof(*fm));
		fm->fm_start = start;
		fm->fm_length = FIEMAP_MAX_OFFSET - start;
		fm->fm_flags = FIEMAP_FLAG_SYNC;
		fm->fm_extent_count = BATCH;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0) {
			fprintf(stderr, "fiemap: %s: FS_IOC_FIEMAP: %s\n", argv[1], strerror(errno));
			return 1;
		}
		if (fm->fm_mapped_extents == 0)
			break;
		for (uint32_t i = 0; i < fm->fm_mapped_extents; i++) {
			const struct fiemap_extent *e = &fm->fm_extents[i];
			int is_shared = !!(e->fe_flags & FIEMAP_EXTENT_SHARED);
			last = !!(e->fe_flags & FIEMAP_EXTENT_LAST);
			printf("0x%" PRIx64 " 0x%" PRIx64 " %s%s%s\n", (uint64_t)e->fe_logical,
			       (uint64_t)e->fe_length, is_shared ? "shared" : "own",
			       e->fe_flags & FIEMAP_EXTENT_UNWRITTEN ? " unwritten" : "",
			       last ? " last" : "");
			total += e->fe_length;
			*(is_shared ? &shared : &own) += e->fe_length;
			n++;
			start = e->fe_logical + e->fe_length;
		}
	}
	printf("total %" PRIu64 " shared %" PRIu64 " own %" PRIu64 " extents %" PRIu64 "\n",
	       total, shared, own, n);
	free(fm);
	close(fd);
	return 0;
}
