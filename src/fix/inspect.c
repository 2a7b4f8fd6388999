/* inspect.c - diagnose a dump: what consumers will trip over.  Pure: reads
 * only what vf_dump already holds, never the file. */
#include "config.h"
#include "fix/inspect.h"
#include "arch/arch.h"
#include "format/elfcore.h"
#include "format/kdump.h"

#include "format/codec.h"
#include "format/machine.h"
#include "fix/plan.h"
#include "source/flat.h"
#include "util/cursor.h"

#include <elf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct vf_error *add(struct vf_problems *p, const char *id, enum vf_severity sev,
			    bool has_off, uint64_t off, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static struct vf_error *add(struct vf_problems *p, const char *id, enum vf_severity sev,
			    bool has_off, uint64_t off, const char *hint, const char *fmt, ...)
{
	struct vf_problem *items = realloc(p->items, (p->n + 1) * sizeof(*items));
	if (!items)
		return &vf_error_nomem;
	p->items = items;
	struct vf_problem *pr = &items[p->n];
	memset(pr, 0, sizeof(*pr));
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&pr->message, fmt, ap);
	va_end(ap);
	if (r < 0)
		return &vf_error_nomem;
	if (hint && !(pr->hint = strdup(hint))) {
		free(pr->message);
		return &vf_error_nomem;
	}
	pr->id = id;
	pr->severity = sev;
	pr->has_offset = has_off;
	pr->offset = off;
	p->n++;
	return NULL;
}

void vf_problems_deinit(struct vf_problems *probs)
{
	for (size_t i = 0; i < probs->n; i++) {
		free(probs->items[i].message);
		free(probs->items[i].hint);
	}
	free(probs->items);
	probs->items = NULL;
	probs->n = 0;
}

/* QEMU 7.2 parses the decimal NUMBER(phys_base) digits as hex (keeping the
 * sign).  Recognise that value so the report can say where it came from. */
static bool is_qemu_hex_misparse(const struct vf_dump *dump, const char *key, uint64_t stored)
{
	const char *v = vf_vmcoreinfo_get(dump->vmci, key);
	if (!v)
		return false;
	bool neg = *v == '-';
	char *end;
	unsigned long long x = strtoull(v + neg, &end, 16);
	if (end == v + neg || *end)
		return false;
	uint64_t misparsed = neg ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
	return misparsed == stored;
}

static struct vf_error *check_notes(const struct vf_dump *d, struct vf_problems *p)
{
	struct vf_error *err;
	if (d->notes_malformed) {
		err = add(p, "malformed-note", VF_SEV_ERROR, d->notes_malformed->has_offset,
			  d->notes_malformed->offset,
			  "notes after this point are lost; the dump was probably truncated or overwritten",
			  "%s", d->notes_malformed->message);
		if (err)
			return err;
	}
	if (d->vmci_origin == VF_VMCI_NONE) {
		err = add(p, "no-vmcoreinfo", VF_SEV_ERROR, false, 0,
			  "QEMU embeds the note only when the VM had -device vmcoreinfo and the "
			  "guest loaded qemu_fw_cfg; the note can be recovered from guest memory",
			  "no VMCOREINFO note: crash, makedumpfile and drgn cannot find the "
			  "kernel's symbols or phys_base");
		return err;
	}
	if (d->vmci_malformed) {
		err = add(p, "malformed-vmcoreinfo", VF_SEV_ERROR, d->vmci_malformed->has_offset,
			  d->vmci_malformed->offset, NULL, "%s", d->vmci_malformed->message);
		if (err)
			return err;
	}
	if (d->vmci_count > 1) {
		err = add(p, "duplicate-vmcoreinfo", VF_SEV_WARNING, true,
			  d->vmci_note->hdr_offset,
			  "consumers disagree on which one they use; keep exactly one",
			  "%zu VMCOREINFO notes (first at 0x%" PRIx64 ")", d->vmci_count,
			  d->vmci_note->hdr_offset);
		if (err)
			return err;
	}
	if (d->vmci) {
		static const char *const required[] = { "OSRELEASE", "PAGESIZE" };
		for (size_t i = 0; i < 2; i++) {
			if (vf_vmcoreinfo_get(d->vmci, required[i]))
				continue;
			err = add(p, "vmcoreinfo-missing-key", VF_SEV_WARNING, true, d->vmci_offset,
				  "makedumpfile and drgn need OSRELEASE and PAGESIZE",
				  "VMCOREINFO has no %s line", required[i]);
			if (err)
				return err;
		}
		uint64_t ps;
		struct vf_error *e = vf_vmcoreinfo_number(d->vmci, "PAGESIZE", &ps);
		const struct vf_arch *a = vf_arch_by_em(d->e_machine);
		if (!e && d->format == VF_FORMAT_KDUMP && ps != d->kdump->block_size &&
		    !(d->kernel_page_size_known && a && a->kdump_block_size == d->kdump->block_size)) {
			err = add(p, "page-size-mismatch", VF_SEV_WARNING, true, d->vmci_offset, NULL,
				  "VMCOREINFO PAGESIZE=%" PRIu64 " but the kdump block_size is %" PRIu32,
				  ps, d->kdump->block_size);
			if (err) {
				vf_error_destroy(e);
				return err;
			}
		}
		vf_error_destroy(e);
	}
	return NULL;
}

/* Does this section header make sense read in this byte order: a known
 * type, its bytes inside the file? */
static bool shdr_sane(const uint8_t *h, bool is64, bool be, uint64_t file_size)
{
	uint64_t type = vf_load_uint(h + 4, 4, be);
	uint64_t off = vf_load_uint(h + (is64 ? 24 : 16), is64 ? 8 : 4, be);
	uint64_t size = vf_load_uint(h + (is64 ? 32 : 20), is64 ? 8 : 4, be);
	uint64_t end;
	return type <= SHT_NUM && vf_add_ok(off, size, &end) && end <= file_size;
}

/* QEMU writes its .shstrtab section header in the host's byte order, so a
 * big-endian guest's ELF (s390x, and ppc64) has one that reads as nonsense;
 * the fix drops section headers (a core needs none). */
static struct vf_error *check_section_headers(const struct vf_dump *d, struct vf_problems *p)
{
	const struct vf_elf_info *elf = d->elf;
	bool is64 = d->elf_class == 64;
	size_t ent = is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
	if (!elf->e_shoff || !elf->e_shnum || elf->e_shentsize != ent)
		return NULL;
	size_t n = elf->e_shnum < 64 ? elf->e_shnum : 64;
	uint8_t h[sizeof(Elf64_Shdr)];
	for (size_t i = 1; i < n; i++) {
		uint64_t at = elf->e_shoff + i * ent;
		struct vf_error *err = vf_src_read(d->src, h, ent, at, "section header");
		if (err) {
			vf_error_destroy(err);
			return NULL;
		}
		uint64_t fsize = d->src->size;
		if (shdr_sane(h, is64, d->big_endian, fsize) ||
		    !shdr_sane(h, is64, !d->big_endian, fsize))
			continue;
		return add(p, "elf-section-header-byte-order", VF_SEV_WARNING, true, at,
			   "QEMU writes its .shstrtab section header in the host's byte order; "
			   "vmcore-fix -o drops the section headers (a core needs none)",
			   "section header %zu is written %s-endian in a %s-endian ELF", i,
			   d->big_endian ? "little" : "big", d->big_endian ? "big" : "little");
	}
	return NULL;
}

static struct vf_error *check_elf(const struct vf_dump *d, struct vf_problems *p)
{
	const struct vf_elf_info *elf = d->elf;
	struct vf_error *err;
	uint64_t ehsize = d->elf_class == 64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);

	if (elf->e_ehsize != ehsize) {
		err = add(p, "elf-bad-ehsize", VF_SEV_INFO, true, d->elf_class == 64 ? 0x34 : 0x28,
			  "QEMU up to at least 7.2 computes e_ehsize from a pointer's size",
			  "ELF header says e_ehsize=%u, the ELF%d header is %" PRIu64 " bytes",
			  elf->e_ehsize, d->elf_class, ehsize);
		if (err)
			return err;
	}
	if (elf->phnum && elf->e_phoff != ehsize) {
		err = add(p, "elf-phdrs-not-after-ehdr", VF_SEV_WARNING, true, elf->e_phoff,
			  "makedumpfile 1.7.2 fails on this layout (\"Can't get the number of PT_LOAD\")",
			  "program headers at 0x%" PRIx64 ", not right after the ELF header (0x%" PRIx64 ")",
			  elf->e_phoff, ehsize);
		if (err)
			return err;
	}

	if ((err = check_section_headers(d, p)))
		return err;

	size_t nnote = 0, first_note = (size_t)-1;
	uint64_t min_load = UINT64_MAX;
	for (size_t i = 0; i < elf->phnum; i++) {
		const struct vf_elf_phdr *ph = &elf->phdrs[i];
		if (ph->type == PT_NOTE) {
			if (!nnote)
				first_note = i;
			nnote++;
		} else if (ph->type == PT_LOAD && ph->filesz && ph->offset < min_load) {
			min_load = ph->offset;
		}
	}
	if (nnote == 0) {
		err = add(p, "elf-no-pt-note", VF_SEV_ERROR, false, 0, NULL,
			  "no PT_NOTE program header: no CPU state and no VMCOREINFO");
		if (err)
			return err;
	} else if (first_note != 0) {
		err = add(p, "elf-pt-note-not-first", VF_SEV_WARNING, true,
			  elf->e_phoff, "crash reads only the first program header as the notes",
			  "PT_NOTE is program header %zu, not the first", first_note);
		if (err)
			return err;
	}
	if (nnote > 1) {
		err = add(p, "elf-multiple-pt-note", VF_SEV_WARNING, true, elf->e_phoff,
			  "crash reads the first PT_NOTE, makedumpfile the last: merge them into one",
			  "%zu PT_NOTE program headers", nnote);
		if (err)
			return err;
	}
	for (size_t i = 0; i < elf->phnum; i++) {
		const struct vf_elf_phdr *ph = &elf->phdrs[i];
		if (ph->type != PT_NOTE || min_load == UINT64_MAX)
			continue;
		if (ph->offset + ph->filesz > min_load) {
			err = add(p, "elf-note-after-load-data", VF_SEV_WARNING, true, ph->offset,
				  "crash reads notes only from before the first PT_LOAD data",
				  "PT_NOTE %zu data (0x%" PRIx64 "-0x%" PRIx64 ") is not before the "
				  "first PT_LOAD data at 0x%" PRIx64, i, ph->offset,
				  ph->offset + ph->filesz, min_load);
			if (err)
				return err;
		}
	}
	return NULL;
}

/* The header status word and version: missing pages, codecs, no notes blob. */
/* A file cut inside its page descriptors or page data: the problem says
 * where it ends and what is missing. */
static struct vf_error *check_kdump_truncated(const struct vf_dump *d, struct vf_problems *p)
{
	if (!d->kdump->truncated)
		return NULL;
	struct vf_error *t = vf_kdump_truncation(d->kdump, d->src->size);
	if (!t)
		return NULL;
	if (t == &vf_error_nomem)
		return t;
	struct vf_error *err = add(p, "kdump-truncated", VF_SEV_ERROR, true, t->offset, t->hint,
				   "%s", t->message);
	vf_error_destroy(t);
	return err;
}

static struct vf_error *check_kdump_header(const struct vf_kdump_info *kd, struct vf_problems *p)
{
	struct vf_error *err;
	if (kd->status & 0x8u) {
		err = add(p, "kdump-incomplete", VF_SEV_WARNING, true, kd->fo.status,
			  "the writer ran out of space or was interrupted; some pages are missing",
			  "kdump header status has the INCOMPLETE flag");
		if (err)
			return err;
	}
	static const struct {
		uint32_t bit;
		enum vf_codec codec;
	} codecs[] = { { VF_KDUMP_ZLIB, VF_CODEC_ZLIB }, { VF_KDUMP_LZO, VF_CODEC_LZO },
		       { VF_KDUMP_SNAPPY, VF_CODEC_SNAPPY }, { VF_KDUMP_ZSTD, VF_CODEC_ZSTD } };
	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
		if (!(kd->status & codecs[i].bit) || vf_codec_available(codecs[i].codec))
			continue;
		err = add(p, "kdump-codec-not-built", VF_SEV_ERROR, true, kd->fo.status,
			  "install the library's -dev package and rebuild vmcore-fix",
			  "pages are compressed with %s, which this vmcore-fix was built without",
			  vf_codec_name(codecs[i].codec));
		if (err)
			return err;
	}
	if (kd->header_version < 4)
		return add(p, "kdump-old-header-version", VF_SEV_WARNING, true, 8,
			   "libkdumpfile (drgn) finds VMCOREINFO only in the notes of header version 4 and later",
			   "kdump header_version %d has no notes blob", kd->header_version);
	return NULL;
}

static struct vf_error *check_kdump_utsname(const struct vf_dump *d, struct vf_problems *p)
{
	const struct vf_kdump_info *kd = d->kdump;
	if (!vf_kdump_utsname_filled(kd))
		return add(p, "kdump-utsname-incomplete", VF_SEV_WARNING, true, 0xc,
			   "drgn (libkdumpfile) needs the kernel's utsname; makedumpfile fills all six fields",
			   "kdump header utsname has only the machine field (\"%s\")", kd->utsname[4]);
	if (!d->vmci)
		return NULL;
	const char *rel = vf_vmcoreinfo_get(d->vmci, "OSRELEASE");
	if (rel && strcmp(rel, kd->utsname[2]) != 0)
		return add(p, "kdump-utsname-release-mismatch", VF_SEV_WARNING, true, 0x8e, NULL,
			   "kdump header release \"%s\" differs from VMCOREINFO OSRELEASE=%s",
			   kd->utsname[2], rel);
	return NULL;
}

/* offset_vmcoreinfo/size_vmcoreinfo against where the VMCOREINFO really is. */
static struct vf_error *check_kdump_vmci_pointer(const struct vf_dump *d, struct vf_problems *p)
{
	const struct vf_kdump_info *kd = d->kdump;
	uint64_t sub = kd->block_size;
	if (d->vmci_origin == VF_VMCI_NOTE && kd->header_version >= 3) {
		uint64_t want_off = d->vmci_note->desc_offset, want_size = d->vmci_note->descsz;
		if (!kd->offset_vmcoreinfo || !kd->size_vmcoreinfo)
			return add(p, "kdump-vmcoreinfo-pointer-missing", VF_SEV_WARNING, true,
				   sub + kd->fo.offset_vmcoreinfo,
				   "crash finds VMCOREINFO only through offset_vmcoreinfo/size_vmcoreinfo",
				   "kdump sub-header offset_vmcoreinfo/size_vmcoreinfo are not set "
				   "(the note's text is at 0x%" PRIx64 ", %" PRIu64 " bytes)",
				   want_off, want_size);
		if (kd->offset_vmcoreinfo != want_off || kd->size_vmcoreinfo != want_size)
			return add(p, "kdump-vmcoreinfo-pointer-wrong", VF_SEV_WARNING, true,
				   sub + kd->fo.offset_vmcoreinfo,
				   "crash reads VMCOREINFO through this pointer",
				   "kdump offset_vmcoreinfo/size_vmcoreinfo = 0x%" PRIx64 "/%" PRIu64
				   ", but the note's text is at 0x%" PRIx64 ", %" PRIu64 " bytes",
				   kd->offset_vmcoreinfo, kd->size_vmcoreinfo, want_off, want_size);
		return NULL;
	}
	if (d->vmci_origin == VF_VMCI_KDUMP_POINTER && kd->header_version >= 4)
		return add(p, "kdump-vmcoreinfo-not-in-notes", VF_SEV_WARNING, true,
			   kd->offset_vmcoreinfo,
			   "libkdumpfile (drgn) reads VMCOREINFO from the notes blob only",
			   "VMCOREINFO is reachable only through offset_vmcoreinfo, not as a note in "
			   "the notes blob");
	if (d->vmci_origin == VF_VMCI_NONE && kd->offset_vmcoreinfo && kd->size_vmcoreinfo)
		return add(p, "kdump-vmcoreinfo-pointer-wrong", VF_SEV_WARNING, true,
			   sub + kd->fo.offset_vmcoreinfo, NULL,
			   "kdump offset_vmcoreinfo/size_vmcoreinfo = 0x%" PRIx64 "/%" PRIu64
			   " point outside the file or at more than 1 MiB",
			   kd->offset_vmcoreinfo, kd->size_vmcoreinfo);
	return NULL;
}

/* The sub-header phys_base against the note's (truncated to a 32-bit ulong). */
static struct vf_error *check_kdump_phys_base(const struct vf_dump *d, struct vf_problems *p)
{
	const struct vf_kdump_info *kd = d->kdump;
	struct vf_error *err = NULL;
	uint64_t pb;
	const char *key = NULL;
	struct vf_error *e = vf_note_phys_base(d, &pb, &key);
	if (!e) {
		uint64_t stored = kd->phys_base;
		uint64_t want = pb;
		if (kd->fo.ulong_size == 4)
			want &= 0xffffffffu;
		if (stored == want)
			return NULL;
		const char *val = vf_vmcoreinfo_get(d->vmci, key);
		bool misparse = is_qemu_hex_misparse(d, key, stored);
		return add(p, "kdump-phys-base-mismatch", VF_SEV_ERROR, true,
			   kd->block_size + kd->fo.phys_base,
			   misparse ? "QEMU read the note's decimal digits as hex; makedumpfile "
				      "then fails (\"Can't get pgd\")"
				    : "makedumpfile and crash translate kernel addresses with "
				      "the sub-header phys_base",
			   "kdump sub-header phys_base is 0x%" PRIx64 " but VMCOREINFO says "
			   "%s=%s (0x%" PRIx64 ")", stored, key, val ? val : "?", want);
	}
	if (e->code == VF_ERR_CORRUPT)
		err = add(p, "malformed-vmcoreinfo", VF_SEV_ERROR, true, d->vmci_offset, NULL,
			  "%s", e->message);
	vf_error_destroy(e);
	return err;
}

static struct vf_error *check_kdump(const struct vf_dump *d, struct vf_problems *p)
{
	struct vf_error *err = check_kdump_truncated(d, p);
	if (!err)
		err = check_kdump_header(d->kdump, p);
	if (!err)
		err = check_kdump_utsname(d, p);
	if (!err)
		err = check_kdump_vmci_pointer(d, p);
	if (!err)
		err = check_kdump_phys_base(d, p);
	return err;
}

/* The machine decides every machine-specific check: unknown is a problem. */
static struct vf_error *check_machine(const struct vf_dump *d, struct vf_problems *p)
{
	if (d->machine_conflict)
		return add(p, "machine-conflict", VF_SEV_ERROR, false, 0,
			   "the file may be damaged or put together from different dumps",
			   "the dump's content disagrees on its machine: %s", d->machine_conflict);
	if (d->e_machine == EM_NONE)
		return add(p, "machine-unknown", VF_SEV_ERROR, false, 0,
			   "a dump from QEMU's dump-guest-memory has one NT_PRSTATUS note per CPU",
			   "the dumped machine cannot be told: no ELF e_machine, no CPU notes and no "
			   "VMCOREINFO key of one architecture; phys_base and utsname cannot be checked");
	if (d->format != VF_FORMAT_KDUMP)
		return NULL;
	const char *canon = vf_arch_uts_machine(d);
	const char *hdr = d->kdump->utsname[4];
	if (canon && strcmp(hdr, canon) != 0)
		return add(p, "kdump-machine-wrong", VF_SEV_WARNING, true, 0xc + 4 * 65,
			   "libkdumpfile (drgn) takes the architecture from this field",
			   "kdump header utsname.machine is \"%.20s\" but the dump is of %s (from %s)",
			   hdr, canon, d->machine_how);
	return NULL;
}

struct vf_error *vf_inspect(const struct vf_dump *dump, struct vf_problems *probs)
{
	struct vf_error *err;
	memset(probs, 0, sizeof(*probs));
	err = check_machine(dump, probs);
	if (!err && dump->src && dump->src->kind == VF_SRC_SAVED)
		err = add(probs, "saved-state", VF_SEV_ERROR, false, 0,
			  "vmcore-fix -o FILE converts it into an ELF dump",
			  "the file is a saved VM state (a QEMU migration stream), not a dump: "
			  "crash, makedumpfile, drgn and libkdumpfile cannot open it");
	if (!err && dump->src && dump->src->kind == VF_SRC_FLATTENED)
		err = add(probs, "flattened", VF_SEV_WARNING, false, 0,
			  "vmcore-fix -o writes it raw (as makedumpfile -R does)",
			  "the file is a makedumpfile flattened stream: makedumpfile (but -R) and "
			  "drgn cannot open it, only crash does");
	if (!err && dump->src && vf_flat_has_overlaps(dump->src))
		err = add(probs, "flattened-records-overlap", VF_SEV_WARNING, false, 0,
			  "vmcore-fix -o writes it raw, each byte as the last record has it",
			  "later records of the stream overwrite earlier ones (as vmcore-fix -o - "
			  "writes its fixes): makedumpfile -R replays them in order, but crash may "
			  "read either record's bytes");
	if (!err)
		err = check_notes(dump, probs);
	if (!err && dump->format == VF_FORMAT_ELF)
		err = check_elf(dump, probs);
	if (!err && dump->format == VF_FORMAT_KDUMP)
		err = check_kdump(dump, probs);
	if (err)
		vf_problems_deinit(probs);
	return err;
}

struct vf_error *vf_inspect_journal(bool pending, struct vf_problems *probs)
{
	if (!pending)
		return NULL;
	return add(probs, "journal-pending", VF_SEV_ERROR, false, 0,
		   "run vmcore-fix --in-place on it to finish (the journal is checked to be "
		   "this file's first)", "an interrupted --in-place run left its journal beside "
		   "the file: the file may be half patched");
}

static bool has_id(const struct vf_problems *p, const char *id)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->items[i].id, id) == 0)
			return true;
	return false;
}

static bool has_prefix_id(const struct vf_problems *p, const char *prefix)
{
	for (size_t i = 0; i < p->n; i++)
		if (strncmp(p->items[i].id, prefix, strlen(prefix)) == 0)
			return true;
	return false;
}

/* The problems that explain a patch of this field (any one will do). */
static const struct {
	const char *field;
	const char *ids[3];
} explained[] = {
	{ "kdump sub-header phys_base", { "kdump-phys-base-mismatch" } },
	{ "kdump sub-header offset_vmcoreinfo", { "kdump-vmcoreinfo-pointer-missing",
						  "kdump-vmcoreinfo-pointer-wrong" } },
	{ "kdump sub-header size_vmcoreinfo", { "kdump-vmcoreinfo-pointer-missing",
						"kdump-vmcoreinfo-pointer-wrong" } },
	{ "kdump header utsname", { "kdump-utsname-incomplete", "kdump-utsname-release-mismatch",
				    "kdump-machine-wrong" } },
	{ "kdump header utsname.machine", { "kdump-machine-wrong" } },
};

static bool bitmap_field(const char *f)
{
	return !strcmp(f, "kdump bitmaps") || !strcmp(f, "kdump header sub_hdr_size") ||
	       !strcmp(f, "kdump header bitmap_blocks") || !strcmp(f, "kdump header max_mapnr") ||
	       !strcmp(f, "kdump sub-header max_mapnr_64");
}

const char *vf_consumer_need_hint(const char *field)
{
	if (strcmp(field, "byte order") == 0)
		return "vmcore-fix -o OUT --output-format elf writes it as an ELF dump in the "
		       "guest's byte order, which drgn reads (QEMU 7.2 labels a little-endian "
		       "pseries guest's dumps big-endian)";
	if (strcmp(field, "kdump block size") == 0 || strcmp(field, "kdump form") == 0)
		return "vmcore-fix -o OUT --output-format elf writes it as an ELF dump, which "
		       "drgn reads (or take an ELF dump of the guest: QMP dump-guest-memory "
		       "without a format, virsh dump --memory-only)";
	return "vmcore-fix --inspect and --dry-run show the rest; give guest memory that "
	       "holds it (--memory) or the note (--region-file)";
}

struct vf_error *vf_inspect_plan(const struct vf_dump *dump, const struct vf_plan *plan,
				 const char *const *blocked_field, char *const *blocked_why,
				 size_t nblocked, struct vf_problems *probs)
{
	struct vf_error *err = NULL;
	for (size_t i = 0; i < nblocked && !err; i++)
		err = add(probs, "consumer-need-unavailable", VF_SEV_ERROR, false, 0,
			  vf_consumer_need_hint(blocked_field[i]),
			  "the %s cannot be made right, and consumers need it: %s", blocked_field[i],
			  blocked_why[i]);
	for (size_t i = 0; i < plan->n && !err; i++) {
		const struct vf_patch *pt = &plan->patches[i];
		if (bitmap_field(pt->field)) {
			if (!has_id(probs, "kdump-bitmaps-past-memory-map"))
				err = add(probs, "kdump-bitmaps-past-memory-map", VF_SEV_WARNING, true,
					  pt->offset, "vmcore-fix -o sizes them to the memory map "
					  "(page data does not move)",
					  "the kdump bitmaps reach past the guest kernel's memory map: "
					  "makedumpfile -d cannot re-filter the dump");
			continue;
		}
		if (!strcmp(pt->field, "ELF header region")) {
			if (pt->why && strstr(pt->why, "kernel image's PT_LOAD") &&
			    !has_id(probs, "elf-no-kernel-image-load"))
				err = add(probs, "elf-no-kernel-image-load", VF_SEV_WARNING, false, 0,
					  "vmcore-fix -o adds it, onto bytes already in the file",
					  "no PT_LOAD maps the kernel image (as /proc/vmcore has it): drgn "
					  "cannot translate kernel addresses");
			else if (!has_prefix_id(probs, "elf-") && !has_prefix_id(probs, "vmcoreinfo") &&
				 !has_id(probs, "duplicate-vmcoreinfo"))
				err = add(probs, "fix-pending", VF_SEV_WARNING, true, pt->offset, NULL,
					  "%s: %s", pt->field, pt->why ? pt->why : "");
			continue;
		}
		bool covered = false;
		for (size_t k = 0; k < sizeof(explained) / sizeof(explained[0]) && !covered; k++) {
			if (strcmp(explained[k].field, pt->field) != 0)
				continue;
			for (size_t m = 0; m < 3 && explained[k].ids[m] && !covered; m++)
				covered = has_id(probs, explained[k].ids[m]);
		}
		if (!covered)
			err = add(probs, "fix-pending", VF_SEV_WARNING, true, pt->offset, NULL, "%s: %s",
				  pt->field, pt->why ? pt->why : "");
	}
	return err;
}

struct vf_error *vf_inspect_guest(struct vf_dump *dump, struct vf_mem *mem,
				  const struct vf_region *r,
				  struct vf_guest_check *gc, struct vf_problems *probs)
{
	memset(gc, 0, sizeof(*gc));
	gc->checked = true;
	gc->region = *r;
	struct vf_error *err = vf_guest_note_read(mem, r, dump->guest_big_endian,
						  vf_dump_note_page_limit(dump), &gc->note);
	if (err) {
		if (err == &vf_error_nomem || err->code == VF_ERR_OS)
			return err;
		gc->refusal = err;
		char *s = vf_error_string(err);
		err = add(probs, "guest-note-invalid", VF_SEV_ERROR, false, 0, gc->refusal->hint,
			  "%s", s ? s : gc->refusal->message);
		free(s);
		return err;
	}
	if (dump->vmci_origin == VF_VMCI_NONE)
		return NULL;
	gc->dump_has_note = true;
	const uint8_t *dtext = dump->vmci_origin == VF_VMCI_NOTE ? dump->vmci_note->desc
								  : dump->vmci_pointer_text;
	gc->same_as_dump_note = dump->vmci_size == gc->note.text_len &&
				memcmp(dtext, gc->note.text, gc->note.text_len) == 0;
	if (gc->same_as_dump_note)
		return NULL;
	return add(probs, "guest-note-differs", VF_SEV_WARNING, true, dump->vmci_offset,
		   "the dump's note and the guest's differ: one of them is stale or damaged",
		   "the VMCOREINFO text in guest memory at 0x%" PRIx64 " differs from the dump's "
		   "(at 0x%" PRIx64 ")", r->paddr, dump->vmci_offset);
}

void vf_guest_check_deinit(struct vf_guest_check *gc)
{
	vf_guest_note_deinit(&gc->note);
	vf_error_destroy(gc->refusal);
	gc->refusal = NULL;
}
