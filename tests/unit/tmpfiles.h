/* tmpfiles.h - a test's own temporary directory and whole-file reads. */
#ifndef VF_TEST_TMPFILES_H
#define VF_TEST_TMPFILES_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source/src.h"

static char dir[256];

/* dir/name; four results live at once. */
static char *at_dir(const char *name)
{
	static char p[4][600];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

/* A new directory under $TMPDIR (or /tmp) named after the test. */
static void make_dir(const char *test)
{
	const char *t = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/vf-%s-XXXXXX", t && *t ? t : "/tmp", test);
	if (!mkdtemp(dir))
		abort();
}

/* The directory and the files in it. */
static void remove_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlink(at_dir(e->d_name));
	if (d)
		closedir(d);
	rmdir(dir);
}

/* The whole file (malloc'd), or NULL with *len 0 when it cannot be opened. */
static uint8_t *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		*len = 0;
		return NULL;
	}
	uint8_t *b = malloc(st.st_size ? (size_t)st.st_size : 1);
	size_t got = 0;
	if (!b || vf_pread_full(fd, path, b, (size_t)st.st_size, 0, &got))
		abort();
	close(fd);
	*len = got;
	return b;
}

#endif
