/* vfgen.h - dumps for unit tests, written by tests/gen/vfgen.py from a spec.
 * make check exports VFGEN; without it (a test binary run by hand) the tests
 * that need a generated dump are skipped. */
#ifndef VF_TEST_VFGEN_H
#define VF_TEST_VFGEN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fix/plan.h"
#include "format/open.h"

static char vfgen_dir[200];

static void vfgen_cleanup(void)
{
	if (!vfgen_dir[0])
		return;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", vfgen_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", vfgen_dir);
}

/* Write spec to a file, run vfgen, and put the dump's path in path (256
 * bytes).  0 on success; -1 when VFGEN is not set or vfgen failed. */
static int vfgen(const char *name, const char *spec, char *path)
{
	const char *gen = getenv("VFGEN");
	if (!gen)
		return -1;
	if (!vfgen_dir[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(vfgen_dir, sizeof(vfgen_dir), "%s/vfunit.XXXXXX", t ? t : "/tmp");
		if (!mkdtemp(vfgen_dir))
			return -1;
		atexit(vfgen_cleanup);
	}
	char sp[300], cmd[1024];
	snprintf(sp, sizeof(sp), "%s/%s.spec", vfgen_dir, name);
	snprintf(path, 256, "%s/%s.dump", vfgen_dir, name);
	FILE *f = fopen(sp, "w");
	if (!f)
		return -1;
	fputs(spec, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "'%s' '%s' '%s'", gen, sp, path);
	return system(cmd) == 0 ? 0 : -1;
}

/* Generate and open a dump; NULL when either fails. */
static struct vf_dump *vfgen_open(const char *name, const char *spec)
{
	char path[256];
	struct vf_dump *d = NULL;
	if (vfgen(name, spec, path) != 0)
		return NULL;
	struct vf_error *err = vf_dump_open(path, &d);
	if (err) {
		vf_error_destroy(err);
		return NULL;
	}
	return d;
}

/* The plan's patch of field, or NULL. */
static inline const struct vf_patch *plan_find(const struct vf_plan *p, const char *field)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->patches[i].field, field) == 0)
			return &p->patches[i];
	return NULL;
}

/* The text lines of a kernel whose image and init_uts_ns vfgen places in
 * guest memory (as tests/bats/helpers.bash's KTEXT_OK). */
#define VFGEN_KTEXT \
	"vmcoreinfo-line OSRELEASE=6.1.0-56-amd64\n" \
	"vmcoreinfo-line PAGESIZE=4096\n" \
	"vmcoreinfo-line SYMBOL(_stext)=ffffffff80100000\n" \
	"vmcoreinfo-line SYMBOL(swapper_pg_dir)=ffffffff80200000\n" \
	"vmcoreinfo-line SYMBOL(init_uts_ns)=ffffffff80103000\n" \
	"vmcoreinfo-line OFFSET(uts_namespace.name)=4\n"

#endif
