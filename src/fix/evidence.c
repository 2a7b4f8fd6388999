/* evidence.c - the guest's note: its region from the evidence given, read
 * from the guest memory given. */
#include "config.h"
#include "fix/evidence.h"
#include "format/open.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/arch.h"
#include "guest/kernel.h"
#include "guest/migstream.h"
#include "guest/pgtable.h"
#include "guest/rawmem.h"
#include "guest/scan.h"
#include "source/open.h"
#include "source/src.h"

static char *dupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *dupf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* Append one line to *notes. */
static void note_line(char **notes, const char *line)
{
	char *n = *notes ? dupf("%s\n%s", *notes, line) : strdup(line);
	if (n) {
		free(*notes);
		*notes = n;
	}
}

bool vf_evidence_given(const struct vf_evidence_opts *o)
{
	return o->region || o->region_file || o->fw_cfg || o->saved_state;
}

/* Read a small evidence file (the sysfs line or the fw_cfg entry). */
static struct vf_error *read_small_file(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return vf_error_os(errno, path, "cannot open");
	*len = fread(buf, 1, cap, f);
	int bad = ferror(f);
	fclose(f);
	if (bad)
		return vf_error_os(EIO, path, "read");
	return NULL;
}

struct vf_error *vf_evidence_region(const struct vf_evidence_opts *o, struct vf_region *r,
				    bool *have, char **source)
{
	*have = o->region || o->region_file || o->fw_cfg;
	*source = NULL;
	if (!*have)
		return NULL;
	if (o->region) {
		*source = dupf("--region %s", o->region);
		return vf_region_parse(o->region, r);
	}
	uint8_t buf[257];
	size_t len = 0;
	const char *path = o->region_file ? o->region_file : o->fw_cfg;
	struct vf_error *err = read_small_file(path, buf, sizeof(buf) - 1, &len);
	if (err)
		return err;
	if (o->fw_cfg) {
		err = vf_region_from_fwcfg(buf, len, r);
		*source = dupf("fw_cfg entry %s", path);
	} else {
		buf[len] = '\0';
		err = strlen((char *)buf) == len ? vf_region_parse((char *)buf, r)
			: vf_error_create(VF_ERR_INVALID, "not a text line");
		*source = dupf("sysfs line %s", path);
	}
	return vf_error_set_path(err, path);
}

/* The vmcoreinfo device's saved state in a migration stream or save image. */
struct vf_error *vf_evidence_saved_region(const char *path, struct vf_region *r)
{
	struct vf_src *src;
	struct vf_error *err = vf_source_open(path, &src);
	if (err)
		return err;
	struct vf_migstate st;
	memset(&st, 0, sizeof(st));
	err = vf_migstream_find_vmcoreinfo(src, &st);
	if (!err)
		err = vf_migstream_region(&st, r);
	vf_migstate_deinit(&st);
	vf_src_destroy(src);
	return vf_error_set_path(err, path);
}

struct vf_error *vf_evidence_walked_region(const struct vf_migstate *st, const char *path,
					   struct vf_region *r)
{
	struct vf_error *err = vf_migstream_device(st, path);
	return err ? err : vf_error_set_path(vf_migstream_region(st, r), path);
}

/* --memory FILE: a migration stream or save image, a raw RAM file (with a
 * layout), or another dump of the same guest. */
static struct vf_error *open_memory(const struct vf_dump *dump, const struct vf_evidence_opts *o,
				    struct vf_evidence *ev, struct vf_mem **mem)
{
	const char *path = o->memory;
	uint8_t head[64] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vf_error_os(errno, path, "cannot open guest memory");
	ssize_t got = pread(fd, head, sizeof(head), 0);
	int e = errno;
	close(fd);
	if (got < 0)
		return vf_error_os(e, path, "read");
	struct vf_error *err;
	if (vf_migstream_probe(head, (size_t)got)) {
		err = vf_migstream_mem_init(path, o->memory_layout, &ev->other_mem);
		if (err)
			return vf_error_set_path(err, path);
		ev->other_kind = 3;
		ev->memory_source = dupf("the RAM in migration stream %s", path);
		*mem = &ev->other_mem;
		return NULL;
	}
	if (o->memory_layout) {
		err = vf_rawmem_init(path, o->memory_layout, &ev->other_mem);
		if (err)
			return vf_error_set_path(err, path);
		ev->other_kind = 2;
		ev->memory_source = dupf("raw guest RAM file %s (layout %s)", path, o->memory_layout);
		*mem = &ev->other_mem;
		return NULL;
	}
	err = vf_dump_open(path, &ev->other_dump);
	if (err) {
		if (err->code == VF_ERR_NOT_FORMAT || err->code == VF_ERR_CORRUPT)
			err = vf_error_set_hint(err, "--memory takes another dump of the guest, a "
						"migration stream or save image, or a raw guest RAM "
						"file with --memory-layout q35|pc|virt|FILEOFF:GPA:SIZE,...");
		return vf_error_prefix(err, "guest memory");
	}
	ev->other_kind = 1;
	/* the same machine; the kernel's page size where both dumps' notes say
	 * it (an ELF dump and a kdump of one aarch64 guest have different
	 * dump page sizes: 4 KiB pages, 64 KiB blocks) */
	const struct vf_dump *od = ev->other_dump;
	if (od->e_machine != dump->e_machine || od->big_endian != dump->big_endian ||
	    (od->kernel_page_size_known && dump->kernel_page_size_known &&
	     od->kernel_page_size != dump->kernel_page_size))
		return vf_error_set_hint(vf_error_create(VF_ERR_REFUSED, "%s is a dump of "
				"another machine (%s, kernel page size %" PRIu64 ") than the dump "
				"being fixed (%s, %" PRIu64 ")", path,
				od->machine_name ? od->machine_name : "?", od->kernel_page_size,
				dump->machine_name ? dump->machine_name : "?",
				dump->kernel_page_size), "give a dump of the same guest");
	ev->memory_source = dupf("the memory of dump %s", path);
	*mem = &ev->other_dump->mem;
	return NULL;
}

/* Where the architecture's kernel keeps a pointer to its note (s390x), the
 * scan's note must be the one it points to: *what says so; an empty or
 * unreadable pointer adds nothing; another note refuses. */
static struct vf_error *locator_agrees(const struct vf_dump *dump, struct vf_mem *mem,
				       const struct vf_region *r, char **what)
{
	const struct vf_arch *a = vf_arch_by_em(dump->e_machine);
	uint64_t pa, size;
	if (!a || !a->locate_note)
		return NULL;
	struct vf_error *err = a->locate_note(mem, &pa, &size);
	if (err) {
		if (err == &vf_error_nomem || err->code == VF_ERR_OS)
			return err;
		*what = dupf("; %s: %s", a->locate_note_what, err->message);
		vf_error_destroy(err);
		return *what ? NULL : &vf_error_nomem;
	}
	if (pa == r->paddr) {
		*what = dupf("; %s points to it too", a->locate_note_what);
		return *what ? NULL : &vf_error_nomem;
	}
	return vf_error_set_hint(vf_error_paddr(VF_ERR_REFUSED, r->paddr, "the scan's note "
			"differs from the one %s points to (0x%" PRIx64 ")",
			a->locate_note_what, pa),
			"give the note's place: --region-file (a copy of the guest's "
			"/sys/kernel/vmcoreinfo)");
}

static struct vf_error *scan(const struct vf_dump *dump, const struct vf_evidence_opts *o,
			     struct vf_mem *mem, struct vf_evidence *ev, struct vf_region *r)
{
	struct vf_scan_opts so = { .page_size = dump->kernel_page_size,
				   .note_page_limit = vf_dump_note_page_limit(dump),
				   .big_endian = dump->guest_big_endian,
				   .progress = o->progress, .progress_arg = o->progress_arg };
	struct vf_scan_result res;
	memset(&res, 0, sizeof(res));
	struct vf_error *err = vf_scan_for_note(mem, &so, &res);
	ev->scan_pages = res.pages_checked;
	char *loc = NULL;
	if (!err) {
		*r = res.region;
		err = locator_agrees(dump, mem, r, &loc);
	}
	if (!err) {
		ev->region_source = dupf("scan of %s: %s%s", ev->memory_source ? ev->memory_source
					 : "the dump's memory", res.why ? res.why : "one note",
					 loc ? loc : "");
	} else if (err->code == VF_ERR_NOT_FOUND) {
		err = vf_error_set_hint(vf_error_set_code(err, VF_ERR_REFUSED), "give the note's "
					"place: --region-file (a copy of the guest's /sys/kernel/"
					"vmcoreinfo), --fw-cfg, --saved-state, or other guest memory "
					"with --memory");
	}
	free(loc);
	vf_scan_result_deinit(&res);
	return err;
}

/* A note found by a scan must fit this dump: the kernel text it names
 * (SYMBOL(_stext), translated with its phys_base) lies in the memory. */
static struct vf_error *check_kernel_text(const struct vf_dump *dump, struct vf_mem *mem,
					  const struct vf_guest_note *gn)
{
	uint64_t stext, pa;
	uint8_t b[8];
	struct vf_error *err = vf_vmcoreinfo_number(gn->vmci, "SYMBOL(_stext)", &stext);
	if (!err)
		err = vf_kernel_vtop(dump, gn->vmci, stext, &pa);
	if (err) {  /* nothing to check it with */
		vf_error_destroy(err);
		return NULL;
	}
	err = vf_mem_read(mem, pa, b, sizeof(b));
	if (err && err->code == VF_ERR_NOT_PRESENT) {
		vf_error_destroy(err);
		return vf_error_set_hint(vf_error_paddr(VF_ERR_REFUSED, gn->region.paddr, "the note "
				"found by the scan puts the kernel text (SYMBOL(_stext)=0x%" PRIx64 ") at "
				"physical 0x%" PRIx64 ", which this memory does not hold: it is not this "
				"dump's kernel", stext, pa), "give the note's place with --region or "
				"--saved-state");
	}
	if (err && err->code != VF_ERR_EXCLUDED)
		return err;
	vf_error_destroy(err);
	return NULL;
}

static bool undecided(const struct vf_error *e)
{
	return e->code == VF_ERR_NOT_FOUND || e->code == VF_ERR_NOT_PRESENT ||
	       e->code == VF_ERR_EXCLUDED || e->code == VF_ERR_UNSUPPORTED;
}

/* "its kernel is at KERNELOFFSET 1da00000, this dump's at 36e00000", when the
 * dump's own note says where its kernel is; else NULL. */
static char *kerneloffsets(const struct vf_dump *dump, const struct vf_vmcoreinfo *v)
{
	const char *theirs = vf_vmcoreinfo_get(v, "KERNELOFFSET");
	const char *ours = dump->vmci ? vf_vmcoreinfo_get(dump->vmci, "KERNELOFFSET") : NULL;
	if (!theirs || !ours || strcmp(theirs, ours) == 0)
		return NULL;
	return dupf("its kernel is at KERNELOFFSET %.20s, this dump's at %.20s", theirs, ours);
}

/* What the checks that a note is of this dump's boot found. */
struct boot_checks {
	char *how;        /* what confirms it */
	char *against;    /* what contradicts it */
	char *unsure;     /* why a check could not be made */
	bool confirmed;
};

/* 1. Its init_uts_ns, translated with its own KERNELOFFSET/phys_base, holds
 *    its release in this dump's memory.  Errors: only those that stop the run. */
static struct vf_error *check_uts(const struct vf_dump *dump, const struct vf_vmcoreinfo *v,
				  struct boot_checks *bc)
{
	char uts[VF_UTS_FIELDS][VF_UTS_LEN];
	struct vf_error *e = vf_kernel_utsname(dump, v, uts);
	if (!e) {
		bc->confirmed = true;
		bc->how = dupf("its init_uts_ns holds release %s in this dump's memory", uts[2]);
		return NULL;
	}
	if (e == &vf_error_nomem || e->code == VF_ERR_OS)
		return e;
	char *m = vf_error_string(e);
	if (undecided(e))
		bc->unsure = dupf("init_uts_ns: %s", m ? m : e->message);
	else
		bc->against = dupf("its init_uts_ns is not where it says in this dump's memory (%s)",
				   m ? m : e->message);
	free(m);
	vf_error_destroy(e);
	return NULL;
}

/* What the page tables' phys_base (pb_pt, or the error e) says of the note's
 * (pb_note; no_pb: the note has none). */
static void weigh_page_tables(struct boot_checks *bc, const struct vf_error *e, bool no_pb,
			      uint64_t pb_note, uint64_t pb_pt, const char *pt_how)
{
	if (!e && no_pb) {
		if (!bc->confirmed)
			bc->how = dupf("its kernel-image symbols agree on one phys_base (%" PRId64
				       ") through this dump's page tables", (int64_t)pb_pt);
		bc->confirmed = true;
	} else if (e && no_pb && e->code == VF_ERR_CORRUPT) {
		char *m = vf_error_string(e);
		bc->against = dupf("its symbols do not fit this dump's page tables (%s)",
				   m ? m : e->message);
		free(m);
	} else if (!e && pb_pt != pb_note) {
		bc->against = dupf("its phys_base is %" PRId64 ", but this dump's page tables put "
				   "its kernel image at phys_base %" PRId64, (int64_t)pb_note,
				   (int64_t)pb_pt);
	} else if (!e) {
		if (!bc->confirmed) {
			free(bc->how);
			bc->how = dupf("this dump's page tables put its kernel image at its "
				       "phys_base (%s)", pt_how ? pt_how : "CR3");
		}
		bc->confirmed = true;
	}
}

/* 2. Where the architecture has page tables (x86_64): this dump's own (the
 *    CPU notes' CR3) put the kernel image where the note's phys_base does.
 *    Errors: only those that stop the run. */
static struct vf_error *check_page_tables(const struct vf_dump *dump,
					  const struct vf_vmcoreinfo *v,
					  const struct vf_arch *arch, struct boot_checks *bc)
{
	uint64_t pb_note = 0, pb_pt = 0;
	bool no_pb = false;
	struct vf_error *e = vf_vmcoreinfo_number(v, arch->phys_base_key, &pb_note);
	if (e && e->code == VF_ERR_NOT_FOUND) {
		/* an older kernel's note: its symbols, translated through this dump's
		 * page tables, must agree on one phys_base (pgtable.c checks) */
		vf_error_destroy(e);
		e = NULL;
		no_pb = true;
	}
	if (!e) {
		char *pt_how = NULL;
		e = vf_x86_phys_base_from_pgtables(dump, v, &pb_pt, &pt_how);
		weigh_page_tables(bc, e, no_pb, pb_note, pb_pt, pt_how);
		free(pt_how);
	}
	if (e == &vf_error_nomem || (e && e->code == VF_ERR_OS))
		return e;
	vf_error_destroy(e);
	return NULL;
}

/* Refuse the note when a check contradicts it, or when none confirms it. */
static struct vf_error *same_boot_verdict(const struct vf_dump *dump,
					  const struct vf_vmcoreinfo *v, const char *from,
					  const struct boot_checks *bc)
{
	if (bc->against) {
		char *ko = kerneloffsets(dump, v);
		struct vf_error *err = vf_error_set_hint(vf_error_create(VF_ERR_REFUSED, "the note "
				"from %s is not the one of the kernel in this dump (another boot of "
				"the guest, or another guest): %s", from, ko ? ko : bc->against),
				"take the evidence from the same run of the VM as the dump; or "
				"leave it out and let vmcore-fix scan the dump's memory");
		free(ko);
		return err;
	}
	if (!bc->confirmed)
		return vf_error_set_hint(vf_error_create(VF_ERR_REFUSED, "the note from %s cannot be "
				"confirmed to be of the kernel in this dump: %s", from,
				bc->unsure ? bc->unsure : "no check applies"),
				"the dump must hold the page of the kernel's init_uts_ns (or, on "
				"x86_64, QEMU's CPU notes and the kernel's page table)");
	return NULL;
}

struct vf_error *vf_evidence_same_boot(const struct vf_dump *dump, const struct vf_evidence *ev,
				       char **how)
{
	*how = NULL;
	const struct vf_vmcoreinfo *v = ev->gn.vmci;
	struct boot_checks bc = { 0 };
	struct vf_error *err = check_uts(dump, v, &bc);
	const struct vf_arch *arch = vf_arch_by_em(dump->e_machine);
	if (!err && !bc.against && arch && arch->has_page_tables)
		err = check_page_tables(dump, v, arch, &bc);
	if (!err)
		err = same_boot_verdict(dump, v, ev->region_source ? ev->region_source
					: "the evidence", &bc);
	if (err)
		free(bc.how);
	else
		*how = bc.how;
	free(bc.against);
	free(bc.unsure);
	return err;
}

/* Neither the note's place nor a scan: --memory alone says nothing. */
static struct vf_error *memory_alone(const struct vf_evidence_opts *o, bool need_note,
				     struct vf_evidence *ev)
{
	if (!o->memory)
		return NULL;
	if (!need_note) {
		/* the dump has its own note: nothing to read there */
		ev->notes = strdup("--memory set aside: the dump has its own note, and nothing "
				   "says where the guest's is (--region, --fw-cfg, --saved-state)");
		return ev->notes ? NULL : &vf_error_nomem;
	}
	return vf_error_set_hint(vf_error_create(VF_ERR_REFUSED, "--memory was given but "
			"nothing says where the note is, and scanning is off"),
			"add --region/--fw-cfg/--saved-state, or leave out --no-scan");
}

/* The note's place from --saved-state.  Where the saved state has no such
 * place and a scan may look, that is noted and *want_scan set instead. */
static struct vf_error *saved_state_region(const struct vf_evidence_opts *o, bool need_note,
					   struct vf_evidence *ev, struct vf_region *r,
					   bool *have, bool *want_scan)
{
	struct vf_error *err = o->saved_walk ?
		vf_evidence_walked_region(o->saved_walk, o->saved_state, r) :
		vf_evidence_saved_region(o->saved_state, r);
	if (!err) {
		*have = true;
		ev->region_source = dupf("vmcoreinfo device state saved in %s", o->saved_state);
		return NULL;
	}
	if ((err->code == VF_ERR_REFUSED || err->code == VF_ERR_NOT_FOUND) && o->scan &&
	    need_note) {
		/* no device, or the guest never wrote the entry: say so, and look */
		char *s = vf_error_string(err);
		char *line = dupf("saved state set aside: %s", s ? s : err->message);
		if (line)
			note_line(&ev->notes, line);
		free(line);
		free(s);
		vf_error_destroy(err);
		*want_scan = true;
		return NULL;
	}
	if (err && err->code == VF_ERR_NOT_FOUND)
		err = vf_error_set_code(err, VF_ERR_REFUSED);  /* no device: not fixable from it */
	return err;
}

/* Read the guest's note at r and check that it is of this dump's boot. */
static struct vf_error *take_note(const struct vf_dump *dump, struct vf_mem *mem,
				  const struct vf_region *r, bool scanned, struct vf_evidence *ev)
{
	struct vf_error *err = vf_guest_note_read(mem, r, dump->guest_big_endian,
						  vf_dump_note_page_limit(dump), &ev->gn);
	if (err && (err->code == VF_ERR_NOT_PRESENT || err->code == VF_ERR_EXCLUDED)) {
		/* the evidence points where this memory has nothing: not fixable from it */
		err = vf_error_set_hint(vf_error_set_code(err, VF_ERR_REFUSED), "the note's page is "
					"not in %s: give guest memory that has it with --memory "
					"(another dump, the migration stream, the RAM file)",
					ev->memory_source);
	}
	if (err)
		return vf_error_prefix(err, "the note %s gives, in %s",
				       ev->region_source ? ev->region_source : "the region",
				       ev->memory_source);
	if (scanned)
		err = check_kernel_text(dump, mem, &ev->gn);
	/* evidence of another boot must never be written into this dump */
	char *how = NULL;
	if (!err)
		err = vf_evidence_same_boot(dump, ev, &how);
	if (err) {
		vf_guest_note_deinit(&ev->gn);
		return err;
	}
	ev->same_boot = how;
	ev->have = true;
	return NULL;
}

struct vf_error *vf_evidence_gather(const struct vf_dump *dump, const struct vf_evidence_opts *o,
				    bool need_note, struct vf_evidence *ev)
{
	memset(ev, 0, sizeof(*ev));
	bool given = vf_evidence_given(o);
	bool want_scan = o->scan && (need_note || o->scan_always) && !given;
	/* scanning off: where the kernel keeps a pointer to its note (s390x),
	 * that says where it is */
	const struct vf_arch *a = vf_arch_by_em(dump->e_machine);
	bool want_pointer = need_note && !given && !want_scan && !o->saved_state && a &&
			    a->locate_note;
	if (!given && !want_scan && !want_pointer)
		return memory_alone(o, need_note, ev);
	struct vf_mem *mem = (struct vf_mem *)&dump->mem;
	struct vf_error *err = NULL;
	if (o->memory && (err = open_memory(dump, o, ev, &mem)))
		return err;
	if (!ev->memory_source)
		ev->memory_source = strdup("the dump's memory");

	struct vf_region r;
	bool have = false;
	err = vf_evidence_region(o, &r, &have, &ev->region_source);
	if (!err && !have && o->saved_state)
		err = saved_state_region(o, need_note, ev, &r, &have, &want_scan);
	if (err)
		return err;
	bool scanned = false;
	if (!have && want_pointer) {
		uint64_t pa, size;
		err = a->locate_note(mem, &pa, &size);
		if (err && err != &vf_error_nomem && err->code != VF_ERR_OS)
			err = vf_error_set_hint(vf_error_set_code(err, VF_ERR_REFUSED), "give the "
						"note's place: --region-file (a copy of the guest's "
						"/sys/kernel/vmcoreinfo), or leave out --no-scan");
		if (err)
			return err;
		r = (struct vf_region){ pa, size, VF_REGION_KERNEL };
		ev->region_source = dupf("%s", a->locate_note_what);
		if (!ev->region_source)
			return &vf_error_nomem;
		have = true;
	}
	if (!have && want_scan) {
		err = scan(dump, o, mem, ev, &r);
		if (err)
			return err;
		have = scanned = true;
	}
	if (!have)
		return NULL;
	return take_note(dump, mem, &r, scanned, ev);
}

void vf_evidence_deinit(struct vf_evidence *ev)
{
	vf_guest_note_deinit(&ev->gn);
	free(ev->region_source);
	free(ev->memory_source);
	free(ev->notes);
	free(ev->same_boot);
	if (ev->other_kind == 1)
		vf_dump_destroy(ev->other_dump);
	else if (ev->other_kind == 2)
		vf_rawmem_deinit(&ev->other_mem);
	else if (ev->other_kind == 3)
		vf_migstream_mem_deinit(&ev->other_mem);
	memset(ev, 0, sizeof(*ev));
}

struct vf_error *vf_evidence_memory(const struct vf_dump *dump, const struct vf_evidence_opts *o,
				    struct vf_evidence *ev, struct vf_mem **mem)
{
	memset(ev, 0, sizeof(*ev));
	*mem = (struct vf_mem *)&dump->mem;
	if (o->memory)
		return open_memory(dump, o, ev, mem);
	ev->memory_source = strdup("the dump's memory");
	return ev->memory_source ? NULL : &vf_error_nomem;
}
