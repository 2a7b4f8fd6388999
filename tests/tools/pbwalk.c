/* pbwalk - test tool: derive an x86_64 dump's phys_base from the guest's page
 * tables (src/pgtable.c), with NUMBER(phys_base) removed from its VMCOREINFO
 * so the value cannot come from there.
 *   pbwalk DUMP [VMCOREINFO-TEXT]
 * VMCOREINFO-TEXT (a file of KEY=VALUE lines) replaces the dump's VMCOREINFO:
 * the guest's, for a dump without one, or a reduced one (an older kernel's keys).
 * Prints KEY=VALUE lines: cpu<N> (the QEMU CPU notes), phys_base (signed
 * decimal, as NUMBER(phys_base) is written), phys_base_hex, how.
 * Exit: 0 derived, 1 not (the error on stderr), 2 usage. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/open.h"
#include "guest/pgtable.h"

static int fail(struct vf_error *err)
{
	char *s = vf_error_string(err);
	fprintf(stderr, "pbwalk: %s\n", s ? s : err->message);
	if (err->hint)
		fprintf(stderr, "pbwalk: hint: %s\n", err->hint);
	free(s);
	vf_error_destroy(err);
	return 1;
}

static struct vf_error *read_text(const char *path, struct vf_vmcoreinfo **ret)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return vf_error_os(errno, path, "opening the VMCOREINFO text");
	static char buf[1 << 20];
	size_t len = fread(buf, 1, sizeof(buf), f);
	bool bad = ferror(f);
	fclose(f);
	if (bad)
		return vf_error_os(EIO, path, "reading the VMCOREINFO text");
	struct vf_error *err = vf_vmcoreinfo_parse(buf, len, ret);
	return err ? vf_error_set_path(err, path) : NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: pbwalk DUMP [VMCOREINFO-TEXT]\n");
		return 2;
	}
	struct vf_vmcoreinfo *given = NULL;
	struct vf_error *err = argc == 3 ? read_text(argv[2], &given) : NULL;
	if (err)
		return fail(err);
	struct vf_dump *dump;
	err = vf_dump_open(argv[1], &dump);
	if (err) {
		vf_vmcoreinfo_destroy(given);
		return fail(err);
	}
	const struct vf_vmcoreinfo *vmci = given ? given : dump->vmci;
	if (!vmci) {
		vf_dump_destroy(dump);
		return fail(vf_error_create(VF_ERR_NOT_FOUND, "%s has no VMCOREINFO: give the "
					    "guest's as a second argument", argv[1]));
	}
	struct vf_x86_cpu *cpus;
	size_t n;
	err = vf_qemu_cpu_states(dump, &cpus, &n);
	if (err) {
		vf_dump_destroy(dump);
		vf_vmcoreinfo_destroy(given);
		return fail(err);
	}
	for (size_t i = 0; i < n; i++) {
		const char *why = vf_x86_cpu_unusable(&cpus[i]);
		printf("cpu%zu=cr0 0x%" PRIx64 " cr3 0x%" PRIx64 " cr4 0x%" PRIx64 ": %s\n", i,
		       cpus[i].cr0, cpus[i].cr3, cpus[i].cr4, why ? why : "usable");
	}
	free(cpus);

	/* A view of the dump's VMCOREINFO without NUMBER(phys_base). */
	struct vf_vmcoreinfo view = *vmci;
	view.entries = calloc(vmci->n ? vmci->n : 1, sizeof(*view.entries));
	if (!view.entries) {
		vf_dump_destroy(dump);
		vf_vmcoreinfo_destroy(given);
		return fail(&vf_error_nomem);
	}
	view.n = 0;
	view.index = NULL;   /* its entries differ from the parsed text's: linear lookups */
	for (size_t i = 0; i < vmci->n; i++)
		if (strcmp(vmci->entries[i].key, "NUMBER(phys_base)") != 0)
			view.entries[view.n++] = vmci->entries[i];

	uint64_t pb;
	char *how;
	err = vf_x86_phys_base_from_pgtables(dump, &view, &pb, &how);
	free(view.entries);
	vf_dump_destroy(dump);
	vf_vmcoreinfo_destroy(given);
	if (err)
		return fail(err);
	printf("phys_base=%" PRId64 "\nphys_base_hex=0x%016" PRIx64 "\nhow=%s\n", (int64_t)pb, pb,
	       how);
	free(how);
	return 0;
}
