/* test_evidence.c - the guest's note from the evidence given (fix/evidence.c):
 * the region from the options, the note read from the dump's memory or from
 * other guest memory, the scan, and the same-boot check that refuses a note
 * of another kernel. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fix/evidence.h"
#include "util/cursor.h"
#include "util/notes.h"
#include "tap.h"
#include "tmpfiles.h"
#include "vfgen.h"

#define KTEXT_OK VFGEN_KTEXT "vmcoreinfo-line NUMBER(phys_base)=0\n"
#define NOTE_AT 0x2f3000u

static int has(const char *s, const char *what)
{
	return s && strstr(s, what);
}

static void write_file(const char *path, const void *b, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f || (len && fwrite(b, 1, len, f) != len) || fclose(f))
		abort();
}

static void given(void)
{
	struct vf_evidence_opts o = { 0 };
	TAP_OK(!vf_evidence_given(&o), "given: nothing");
	o.memory = "m";
	o.scan = true;
	TAP_OK(!vf_evidence_given(&o), "given: --memory and the scan are no evidence of the place");
	static const char *const names[] = { "region", "region_file", "fw_cfg", "saved_state" };
	for (size_t i = 0; i < 4; i++) {
		struct vf_evidence_opts p = { 0 };
		const char **pf[] = { &p.region, &p.region_file, &p.fw_cfg, &p.saved_state };
		*pf[i] = "x";
		TAP_OK(vf_evidence_given(&p), "given: %s", names[i]);
	}
}

static void region(void)
{
	struct vf_evidence_opts o = { 0 };
	struct vf_region r = { 0 };
	bool have = true;
	char *src = (char *)"untouched";
	struct vf_error *err = vf_evidence_region(&o, &r, &have, &src);
	TAP_OK(!err && !have && src == NULL, "region: none given");

	o.region = "0x2f3000,0x1000";
	err = vf_evidence_region(&o, &r, &have, &src);
	TAP_OK(!err && have && r.paddr == NOTE_AT && r.size == 0x1000 && r.origin == VF_REGION_ARG,
	       "region: ADDR,SIZE");
	TAP_EQ_STR(src, "--region 0x2f3000,0x1000", "region: the source names the option");
	free(src);
	o.region = "0x2f3000";
	err = vf_evidence_region(&o, &r, &have, &src);
	TAP_OK(err && err->code == VF_ERR_INVALID && have, "region: a bad ADDR,SIZE is invalid");
	vf_error_destroy(err);
	free(src);

	write_file(at_dir("sysfs"), "2f3000 1024\n", 12);
	o.region = NULL;
	o.region_file = at_dir("sysfs");
	err = vf_evidence_region(&o, &r, &have, &src);
	TAP_OK(!err && have && r.paddr == NOTE_AT && r.size == 0x1024 && r.origin == VF_REGION_SYSFS,
	       "region: the sysfs line in a region file (both hex)");
	TAP_OK(has(src, "sysfs line ") && has(src, at_dir("sysfs")), "region: source %s", src);
	free(src);
	write_file(at_dir("nul"), "2f3000\0 1024\n", 13);
	o.region_file = at_dir("nul");
	err = vf_evidence_region(&o, &r, &have, &src);
	TAP_OK(err && err->code == VF_ERR_INVALID && has(err->message, "not a text line") &&
	       err->path && strcmp(err->path, at_dir("nul")) == 0,
	       "region: a region file with a NUL is not a text line, naming the file");
	vf_error_destroy(err);
	free(src);
	write_file(at_dir("bigsize"), "0x2f3000 100000\n", 16);
	o.region_file = at_dir("bigsize");
	err = vf_evidence_region(&o, &r, &have, &src);
	TAP_OK(err && err->code == VF_ERR_REFUSED && err->path && has(err->message, "1 MiB"),
	       "region: a region file of 1 MiB is refused, naming the file");
	vf_error_destroy(err);
	free(src);
	o.region_file = at_dir("missing");
	err = vf_evidence_region(&o, &r, &have, &src);
	TAP_OK(err && err->code == VF_ERR_OS && err->errnum == ENOENT && err->path &&
	       strcmp(err->path, at_dir("missing")) == 0, "region: a missing region file");
	vf_error_destroy(err);
	free(src);

	/* fw_cfg: FWCfgVMCoreInfo, host_format 0, guest_format 1, size, paddr */
	uint8_t fw[17] = { 0 };
	vf_store_uint(fw + 2, 2, false, 1);
	vf_store_uint(fw + 4, 4, false, 0x1024);
	vf_store_uint(fw + 8, 8, false, NOTE_AT);
	write_file(at_dir("fw"), fw, 16);
	o.region_file = NULL;
	o.fw_cfg = at_dir("fw");
	err = vf_evidence_region(&o, &r, &have, &src);
	TAP_OK(!err && have && r.paddr == NOTE_AT && r.size == 0x1024 && r.origin == VF_REGION_FWCFG,
	       "region: a fw_cfg entry of 16 bytes");
	TAP_OK(has(src, "fw_cfg entry ") && has(src, at_dir("fw")), "region: source %s", src);
	free(src);
	write_file(at_dir("fw15"), fw, 15);
	write_file(at_dir("fw17"), fw, 17);
	const char *bad[] = { "fw15", "fw17" };
	for (int i = 0; i < 2; i++) {
		o.fw_cfg = at_dir(bad[i]);
		err = vf_evidence_region(&o, &r, &have, &src);
		TAP_OK(err && err->code == VF_ERR_REFUSED && err->path &&
		       strcmp(err->path, at_dir(bad[i])) == 0,
		       "region: a fw_cfg file of %d bytes is refused, naming it (%s)", 15 + 2 * i,
		       err ? err->message : "accepted");
		vf_error_destroy(err);
		free(src);
	}
	vf_store_uint(fw + 2, 2, false, 0);
	write_file(at_dir("fw0"), fw, 16);
	o.fw_cfg = at_dir("fw0");
	err = vf_evidence_region(&o, &r, &have, &src);
	TAP_OK(err && err->code == VF_ERR_REFUSED && has(err->message, "guest_format is 0"),
	       "region: fw_cfg guest_format 0 (the guest disabled it) is refused");
	vf_error_destroy(err);
	free(src);

}

static const char *const full_spec =
	"format elf\nmachine x86_64\nvmcoreinfo-note no\n" KTEXT_OK
	"ram 0 4M\nvmcoreinfo-in-memory 0x2f3000\n";
static char full_path[256], part_path[256];

static void gather_region(const struct vf_dump *part)
{
	struct vf_evidence ev;
	struct vf_evidence_opts o = { .region = "0x2f3000,0x1000", .scan = true };
	struct vf_error *err = vf_evidence_gather(part, &o, true, &ev);
	TAP_OK(err && err->code == VF_ERR_REFUSED && has(err->message, "excluded") &&
	       has(err->message, "--region 0x2f3000,0x1000") && has(err->message,
	       "the dump's memory") && has(err->hint, "--memory") && !ev.have,
	       "gather: the note's page excluded from the dump: refused, naming the region, "
	       "the memory and what to give (%s)", err ? err->message : "accepted");
	vf_error_destroy(err);
	vf_evidence_deinit(&ev);

	o.memory = full_path;
	err = vf_evidence_gather(part, &o, true, &ev);
	TAP_OK(!err && ev.have && ev.gn.region.paddr == NOTE_AT && ev.gn.region.size == 0x1000 &&
	       ev.other_kind == 1 && ev.other_dump && ev.scan_pages == 0,
	       "gather: the region read from --memory's dump");
	TAP_OK(has(ev.memory_source, "the memory of dump ") && has(ev.memory_source, full_path),
	       "gather: memory_source %s", ev.memory_source ? ev.memory_source : "(null)");
	TAP_EQ_STR(ev.region_source, "--region 0x2f3000,0x1000", "gather: region_source");
	TAP_OK(ev.gn.vmci && !strcmp(vf_vmcoreinfo_get(ev.gn.vmci, "OSRELEASE"), "6.1.0-56-amd64"),
	       "gather: the note's text");
	TAP_OK(has(ev.same_boot, "init_uts_ns holds release 6.1.0-56-amd64"),
	       "gather: same boot by init_uts_ns (%s)", ev.same_boot ? ev.same_boot : "(null)");
	vf_evidence_deinit(&ev);
	TAP_OK(!ev.have && !ev.other_dump && !ev.memory_source, "deinit empties the evidence");

	/* the same from a raw RAM file holding the full dump's memory */
	struct vf_dump *full = NULL;
	err = vf_dump_open(full_path, &full);
	if (err) {
		TAP_OK(0, "full dump opened");
		vf_error_destroy(err);
		return;
	}
	size_t len = 4u << 20;
	uint8_t *ram = malloc(len);
	err = vf_mem_read(&full->mem, 0, ram, len);
	vf_dump_destroy(full);
	if (err)
		abort();
	write_file(at_dir("ram.img"), ram, len);
	free(ram);
	o.memory = at_dir("ram.img");
	o.memory_layout = "q35";
	err = vf_evidence_gather(part, &o, true, &ev);
	TAP_OK(!err && ev.have && ev.other_kind == 2 && ev.gn.region.paddr == NOTE_AT &&
	       has(ev.memory_source, "raw guest RAM file") && has(ev.memory_source, "(layout q35)"),
	       "gather: the region read from a raw RAM file (%s)",
	       err ? err->message : ev.memory_source);
	vf_error_destroy(err);
	vf_evidence_deinit(&ev);
}

static void gather_memory_alone(void)
{
	struct vf_dump *own = vfgen_open("own", "format elf\nmachine x86_64\n" KTEXT_OK "ram 0 4M\n");
	TAP_OK(own && own->vmci, "a dump with its own note");
	if (!own)
		return;
	struct vf_evidence ev;
	struct vf_evidence_opts o = { .memory = full_path, .scan = true };
	struct vf_error *err = vf_evidence_gather(own, &o, false, &ev);
	TAP_OK(!err && !ev.have && ev.other_kind == 0 && ev.scan_pages == 0 &&
	       has(ev.notes, "--memory set aside: the dump has its own note"),
	       "gather: --memory alone with the dump's own note: set aside, said so");
	vf_evidence_deinit(&ev);
	o.scan = false;
	err = vf_evidence_gather(own, &o, true, &ev);
	TAP_OK(err && err->code == VF_ERR_REFUSED && has(err->message, "--memory was given") &&
	       err->hint, "gather: --memory, a note needed and no scan: refused");
	vf_error_destroy(err);
	vf_evidence_deinit(&ev);
	o.memory = NULL;
	err = vf_evidence_gather(own, &o, true, &ev);
	TAP_OK(!err && !ev.have && !ev.notes, "gather: nothing given, no scan: nothing done");
	vf_evidence_deinit(&ev);
	o.scan = true;
	err = vf_evidence_gather(own, &o, false, &ev);
	TAP_OK(!err && !ev.have && ev.scan_pages == 0,
	       "gather: the dump's note usable, no scan_always: no scan");
	vf_evidence_deinit(&ev);
	vf_dump_destroy(own);
}

static void gather_scan(const struct vf_dump *full, const struct vf_dump *part)
{
	struct vf_evidence ev;
	struct vf_evidence_opts o = { .scan = true };
	struct vf_error *err = vf_evidence_gather(full, &o, true, &ev);
	TAP_OK(!err && ev.have && ev.gn.region.paddr == NOTE_AT &&
	       ev.gn.region.origin == VF_REGION_SCAN && ev.scan_pages >= 1024,
	       "gather: the scan finds the note in a dump without one (%" PRIu64 " pages)",
	       ev.scan_pages);
	TAP_OK(has(ev.region_source, "scan of the dump's memory: one valid"),
	       "gather: region_source %s", ev.region_source ? ev.region_source : "(null)");
	TAP_OK(ev.same_boot != NULL, "gather: the scan's note confirmed of this boot");
	vf_evidence_deinit(&ev);

	err = vf_evidence_gather(part, &o, true, &ev);
	TAP_OK(err && err->code == VF_ERR_REFUSED && err->hint && has(err->hint, "--memory") &&
	       !ev.have, "gather: the scan of a dump lacking the note's page: refused with a hint");
	vf_error_destroy(err);
	vf_evidence_deinit(&ev);
	o.memory = full_path;
	err = vf_evidence_gather(part, &o, true, &ev);
	TAP_OK(!err && ev.have && ev.gn.region.paddr == NOTE_AT &&
	       has(ev.region_source, "scan of the memory of dump "),
	       "gather: the scan of --memory's dump (%s)", ev.region_source ? ev.region_source : "");
	vf_evidence_deinit(&ev);

	o.memory = NULL;
	o.scan_always = true;
	o.region = "0x2f3000,0x1000";
	err = vf_evidence_gather(full, &o, false, &ev);
	TAP_OK(!err && ev.have && ev.scan_pages == 0 && ev.gn.region.origin == VF_REGION_ARG,
	       "gather: a region given: no scan even with scan_always");
	vf_evidence_deinit(&ev);
}

/* A note of a kernel as the bats tests' note_bin: text with this OSRELEASE. */
static void add_note_bytes(char *spec, size_t cap, uint64_t paddr, const char *release,
			   const char *phys_base)
{
	char text[512];
	uint8_t note[600];
	snprintf(text, sizeof(text), "OSRELEASE=%s\nPAGESIZE=4096\nSYMBOL(_stext)=ffffffff80100000\n"
		 "SYMBOL(swapper_pg_dir)=ffffffff82a0c000\nSYMBOL(init_uts_ns)=ffffffff80103000\n"
		 "OFFSET(uts_namespace.name)=4\nNUMBER(phys_base)=%s\n", release, phys_base);
	size_t n = vf_note_encode(note, false, "VMCOREINFO", 0, text, (uint32_t)strlen(text));
	size_t l = strlen(spec);
	l += (size_t)snprintf(spec + l, cap - l, "bytes 0x%llx ", (unsigned long long)paddr);
	for (size_t i = 0; i < n && l + 3 < cap; i++)
		l += (size_t)snprintf(spec + l, cap - l, "%02x", note[i]);
	snprintf(spec + l, cap - l, "\n");
}

/* A struct new_utsname with this release, as a bytes line. */
static void add_uts(char *spec, size_t cap, uint64_t paddr, const char *release)
{
	const char *f[6] = { "Linux", "guest", release, "#1 SMP", "x86_64", "(none)" };
	size_t l = strlen(spec);
	l += (size_t)snprintf(spec + l, cap - l, "bytes 0x%llx ", (unsigned long long)paddr);
	for (int i = 0; i < 6; i++)
		for (size_t j = 0; j < 65 && l + 3 < cap; j++)
			l += (size_t)snprintf(spec + l, cap - l, "%02x",
					      j < strlen(f[i]) ? (unsigned char)f[i][j] : 0);
	snprintf(spec + l, cap - l, "\n");
}

static void same_boot(void)
{
	static char spec[8192];
	snprintf(spec, sizeof(spec), "format elf\nmachine x86_64\nvmcoreinfo-note no\nram 0 4M\n");
	add_uts(spec, sizeof(spec), 0x103004, "5.10.0-old");
	add_note_bytes(spec, sizeof(spec), 0x100000, "6.1.0-56-amd64", "0");
	add_note_bytes(spec, sizeof(spec), 0x200000, "5.10.0-old", "0");
	struct vf_dump *d = vfgen_open("boot", spec);
	TAP_OK(d != NULL, "a dump running 5.10.0-old, with a 6.1 note in memory too");
	if (!d)
		return;
	struct vf_evidence ev;
	struct vf_evidence_opts o = { .region = "0x100000,0x1000" };
	struct vf_error *err = vf_evidence_gather(d, &o, true, &ev);
	TAP_OK(err && err->code == VF_ERR_REFUSED && !ev.have &&
	       has(err->message, "is not the one of the kernel in this dump") &&
	       has(err->message, "--region 0x100000,0x1000") && has(err->message, "5.10.0-old") &&
	       err->hint, "gather: a note of another kernel is refused by the same-boot check (%s)",
	       err ? err->message : "accepted");
	vf_error_destroy(err);
	vf_evidence_deinit(&ev);
	o.region = "0x200000,0x1000";
	err = vf_evidence_gather(d, &o, true, &ev);
	TAP_OK(!err && ev.have && !strcmp(vf_vmcoreinfo_get(ev.gn.vmci, "OSRELEASE"), "5.10.0-old") &&
	       has(ev.same_boot, "5.10.0-old"), "gather: this kernel's own note is taken");
	vf_evidence_deinit(&ev);
	vf_dump_destroy(d);

	/* a note whose init_uts_ns is not in the dump: nothing confirms it */
	snprintf(spec, sizeof(spec), "format elf\nmachine x86_64\nvmcoreinfo-note no\nram 0 4M\n");
	add_note_bytes(spec, sizeof(spec), 0x100000, "6.1.0-56-amd64", "268435456");
	d = vfgen_open("boot2", spec);
	if (!d)
		return;
	o.region = "0x100000,0x1000";
	err = vf_evidence_gather(d, &o, true, &ev);
	TAP_OK(err && err->code == VF_ERR_REFUSED && has(err->message, "cannot be confirmed"),
	       "gather: a note no check confirms is refused (%s)", err ? err->message : "accepted");
	vf_error_destroy(err);
	vf_evidence_deinit(&ev);
	/* the same found by a scan: its kernel text is not in this memory */
	o.region = NULL;
	o.scan = true;
	err = vf_evidence_gather(d, &o, true, &ev);
	TAP_OK(err && err->code == VF_ERR_REFUSED && has(err->message, "not this dump's kernel") &&
	       err->offset_is_paddr && err->offset == 0x100000,
	       "gather: a scanned note whose kernel text is not in memory is refused (%s)",
	       err ? err->message : "accepted");
	vf_error_destroy(err);
	vf_evidence_deinit(&ev);
	vf_dump_destroy(d);
}

static void memory(const struct vf_dump *part)
{
	struct vf_evidence ev;
	struct vf_mem *mem = NULL;
	struct vf_evidence_opts o = { 0 };
	struct vf_error *err = vf_evidence_memory(part, &o, &ev, &mem);
	TAP_OK(!err && mem == &part->mem && ev.other_kind == 0, "memory: the dump's own");
	TAP_EQ_STR(ev.memory_source, "the dump's memory", "memory: said so");
	vf_evidence_deinit(&ev);
	o.memory = full_path;
	err = vf_evidence_memory(part, &o, &ev, &mem);
	TAP_OK(!err && ev.other_kind == 1 && ev.other_dump && mem == &ev.other_dump->mem &&
	       has(ev.memory_source, full_path), "memory: --memory's dump");
	uint8_t b[24];
	err = err ? err : vf_mem_read(mem, NOTE_AT, b, sizeof(b));
	TAP_OK(!err && memcmp(b + 12, "VMCOREINFO", 11) == 0,
	       "memory: the other dump's page holding the note reads");
	vf_error_destroy(err);
	vf_evidence_deinit(&ev);
	o.memory = at_dir("missing");
	err = vf_evidence_memory(part, &o, &ev, &mem);
	TAP_OK(err && err->code == VF_ERR_OS && err->errnum == ENOENT && err->path,
	       "memory: a missing file: the OS error");
	vf_error_destroy(err);
	vf_evidence_deinit(&ev);
	write_file(at_dir("text"), "not guest memory at all, just text\n", 35);
	o.memory = at_dir("text");
	err = vf_evidence_memory(part, &o, &ev, &mem);
	TAP_OK(err && err->code == VF_ERR_NOT_FORMAT && has(err->message, "guest memory") &&
	       has(err->hint, "--memory-layout"), "memory: a file that is no memory: the hint "
	       "says what --memory takes");
	vf_error_destroy(err);
	vf_evidence_deinit(&ev);
	char arm[256];
	if (vfgen("arm", "format elf\nmachine aarch64\nprstatus 1\nram 0x40000000 1M\n", arm) == 0) {
		o.memory = arm;
		err = vf_evidence_memory(part, &o, &ev, &mem);
		TAP_OK(err && err->code == VF_ERR_REFUSED && has(err->message, "another machine") &&
		       has(err->message, "aarch64"), "memory: a dump of another machine is refused");
		vf_error_destroy(err);
		vf_evidence_deinit(&ev);
	}
}

int main(void)
{
	make_dir("evidence");
	(void)slurp;
	given();
	region();
	if (!getenv("VFGEN")) {
		printf("# SKIP the rest: VFGEN not set (run through make check)\n");
		remove_dir();
		return tap_done();
	}
	struct vf_dump *full = NULL, *part = NULL;
	struct vf_error *err = NULL;
	if (vfgen("full", full_spec, full_path) == 0)
		err = vf_dump_open(full_path, &full);
	if (!err && vfgen("part", "format kdump\nmachine x86_64\nvmcoreinfo-note no\n" KTEXT_OK
			  "ram 0 4M\nvmcoreinfo-in-memory 0x2f3000\nexclude 0x2f0000 0x10000\n",
			  part_path) == 0)
		err = vf_dump_open(part_path, &part);
	TAP_OK(!err && full && part, "the two dumps of one guest: full (ELF), part (kdump, the "
	       "note's page excluded)");
	vf_error_destroy(err);
	if (full && part) {
		gather_region(part);
		gather_memory_alone();
		gather_scan(full, part);
		same_boot();
		memory(part);
	}
	vf_dump_destroy(full);
	vf_dump_destroy(part);
	remove_dir();
	return tap_done();
}
