/* report.c - human and JSON reports of an inspected dump. */
#include "config.h"
#include "cli/report.h"
#include "format/elfcore.h"
#include "format/kdump.h"

#include <elf.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fix/plan.h"
#include "format/codec.h"
#include "guest/migdump.h"
#include "util/json.h"

const char *vf_severity_name(enum vf_severity sev)
{
	switch (sev) {
	case VF_SEV_INFO: return "info";
	case VF_SEV_WARNING: return "warning";
	case VF_SEV_ERROR: return "error";
	}
	return "?";
}

const char *vf_note_type_name(const struct vf_note *n)
{
	if (strcmp(n->name, "CORE") == 0 || strcmp(n->name, "LINUX") == 0) {
		switch (n->type) {
		case NT_PRSTATUS: return "NT_PRSTATUS";
		case NT_PRFPREG: return "NT_PRFPREG";
		case NT_PRPSINFO: return "NT_PRPSINFO";
		case NT_TASKSTRUCT: return "NT_TASKSTRUCT";
		case NT_AUXV: return "NT_AUXV";
		case NT_X86_XSTATE: return "NT_X86_XSTATE";
		}
	}
	if (strcmp(n->name, "QEMU") == 0 && n->type == 0)
		return "QEMU CPU state";
	if (vf_note_is_vmcoreinfo(n))
		return "VMCOREINFO";
	return NULL;
}


void vf_fput_text(FILE *out, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c >= 0x20 && *c < 0x7f && !(*c == '\\' && c[1] == 'x'))
			fputc(*c, out);
		else
			fprintf(out, "\\x%02x", *c);
	}
}

static const char *phdr_type_name(uint32_t t)
{
	switch (t) {
	case PT_NULL: return "PT_NULL";
	case PT_LOAD: return "PT_LOAD";
	case PT_DYNAMIC: return "PT_DYNAMIC";
	case PT_INTERP: return "PT_INTERP";
	case PT_NOTE: return "PT_NOTE";
	case PT_PHDR: return "PT_PHDR";
	}
	return NULL;
}

/* Compression bits of the kdump header status word, as a name. */
static const char *kdump_compression(const struct vf_kdump_info *kd)
{
	uint32_t s = kd->status;
	if (s & VF_KDUMP_ZLIB) return "zlib";
	if (s & VF_KDUMP_LZO) return "lzo";
	if (s & VF_KDUMP_SNAPPY) return "snappy";
	if (s & VF_KDUMP_ZSTD) return "zstd";
	return "none";
}

static const char *const vmci_summary_keys[] = {
	"OSRELEASE", "PAGESIZE", "KERNELOFFSET", "SYMBOL(_stext)",
	"NUMBER(phys_base)", "NUMBER(PHYS_OFFSET)", "SYMBOL(swapper_pg_dir)",
	"SYMBOL(init_uts_ns)", "CRASHTIME",
};

static const char *const uts_names[6] = {
	"sysname", "nodename", "release", "version", "machine", "domainname",
};

static const char *vmci_origin_name(enum vf_vmci_origin o)
{
	switch (o) {
	case VF_VMCI_NONE: return "none";
	case VF_VMCI_NOTE: return "note";
	case VF_VMCI_KDUMP_POINTER: return "kdump-pointer";
	}
	return "?";
}

static uint64_t mem_total(const struct vf_mem *m)
{
	uint64_t t = 0;
	for (size_t i = 0; i < m->nranges; i++)
		t += m->ranges[i].size;
	return t;
}

static void print_size(FILE *out, uint64_t v)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB" };
	int u = 0;
	double x = (double)v;
	while (x >= 1024 && u < 5) {
		x /= 1024;
		u++;
	}
	if (u == 0)
		fprintf(out, "%" PRIu64 " bytes", v);
	else
		fprintf(out, "%.1f %s", x, units[u]);
}

#define TEXT_RANGES_MAX 16
#define TEXT_NOTES_MAX 32

static void text_guest(FILE *out, const struct vf_guest_check *gc)
{
	fprintf(out, "guest note:   0x%" PRIx64 "+0x%" PRIx64 " (from the %s): ", gc->region.paddr,
		gc->region.size, vf_region_origin_name(gc->region.origin));
	if (gc->refusal) {
		fprintf(out, "not accepted\n");
		return;
	}
	const char *rel = vf_vmcoreinfo_get(gc->note.vmci, "OSRELEASE");
	fprintf(out, "valid, %" PRIu32 " bytes of text, OSRELEASE=%s%s\n", gc->note.text_len,
		rel ? rel : "?", !gc->dump_has_note ? "" :
		gc->same_as_dump_note ? ", same as the dump's note" : ", differs from the dump's note");
}

static void text_machine(FILE *out, const struct vf_dump *d)
{
	if (d->machine_name) {
		fprintf(out, "machine:      %s (from ", d->machine_name);
		vf_fput_text(out, d->machine_how);
		fputs(")\n", out);
	} else {
		fprintf(out, "machine:      unknown%s", d->machine_conflict ? ": " : "");
		vf_fput_text(out, d->machine_conflict ? d->machine_conflict : "");
		fputc('\n', out);
	}
}

/* The memory ranges, the first TEXT_RANGES_MAX unless verbose. */
static void text_memory(FILE *out, const struct vf_dump *d, bool verbose)
{
	fprintf(out, "memory:       %zu range%s, ", d->mem.nranges, d->mem.nranges == 1 ? "" : "s");
	print_size(out, mem_total(&d->mem));
	fputc('\n', out);
	size_t nr = verbose ? d->mem.nranges : (d->mem.nranges < TEXT_RANGES_MAX ? d->mem.nranges : TEXT_RANGES_MAX);
	for (size_t i = 0; i < nr; i++) {
		const struct vf_mem_range *r = &d->mem.ranges[i];
		fprintf(out, "  0x%016" PRIx64 "-0x%016" PRIx64 "  ", r->start, r->start + r->size - 1);
		print_size(out, r->size);
		fputc('\n', out);
	}
	if (nr < d->mem.nranges)
		fprintf(out, "  ... %zu more (--verbose lists all)\n", d->mem.nranges - nr);
}

/* The vmcoreinfo device, as the saved state holds it. */
static const char *saved_device(const struct vf_migstate *st)
{
	if (!st->found)
		return "absent (the VM had no -device vmcoreinfo): the conversion scans guest memory";
	if (!st->has_vmcoreinfo || !st->guest_format)
		return "present, but the guest never wrote etc/vmcoreinfo: the conversion scans "
		       "guest memory";
	return "present, written by the guest: the conversion takes the note it points at";
}

static void text_saved(FILE *out, const struct vf_saved_info *si)
{
	const struct vf_migstate *st = &si->st;
	fputs("saved state:  QEMU migration stream", out);
	if (st->libvirt)
		fprintf(out, " in a libvirt save image (stream at offset %" PRIu64 ")",
			st->stream_offset);
	if (st->compressed)
		fprintf(out, ", %s-compressed", st->compressed);
	fputc('\n', out);
	fputs("  machine:    ", out);
	vf_fput_text(out, st->machine[0] ? st->machine : "(not in the stream)");
	fputc('\n', out);
	if (si->domain_name || si->domain_uuid) {
		fputs("  domain:     ", out);
		vf_fput_text(out, si->domain_name ? si->domain_name : "?");
		if (si->domain_uuid) {
			fputs(" (uuid ", out);
			vf_fput_text(out, si->domain_uuid);
			fputc(')', out);
		}
		fputc('\n', out);
	}
	fprintf(out, "  RAM blocks: %zu; mapped: ", st->nramblocks);
	vf_fput_text(out, si->mem.block);
	fputs(" (", out);
	print_size(out, si->mem.block_length);
	fprintf(out, ", layout %s); the others (ROMs, video RAM) are not guest RAM\n",
		si->mem.layout);
	if (si->e_machine == EM_AARCH64)
		fprintf(out, "  vCPUs:      %zu, aarch64 in AArch64 state, little-endian\n",
			si->ncpus);
	else
		fprintf(out, "  vCPUs:      %zu, x86_64 in 64-bit mode\n", si->ncpus);
	if (si->sve_cpus)
		fprintf(out, "  SVE:        %zu vCPU%s with SVE: QEMU's NT_ARM_SVE note is not "
			"written (its vector lengths are CPU-model properties the stream does "
			"not hold)\n", si->sve_cpus, si->sve_cpus == 1 ? "" : "s");
	fprintf(out, "  vmcoreinfo: %s\n", saved_device(st));
	fprintf(out, "  conversion: -o FILE writes an ELF dump: %zu PT_LOAD%s of RAM (", si->nloads,
		si->nloads == 1 ? "" : "s");
	print_size(out, si->ram_bytes);
	fprintf(out, "), the kernel image's PT_LOAD where the note places it, %zu CPU notes "
		"and the guest's VMCOREINFO, with phys_base\n", 2 * si->ncpus);
}

static void json_saved(struct vf_json *j, const struct vf_saved_info *si)
{
	if (!si) {
		vf_json_null(j);
		return;
	}
	const struct vf_migstate *st = &si->st;
	vf_json_begin_object(j);
	vf_json_kv_bool(j, "libvirt", st->libvirt);
	vf_json_kv_uint(j, "stream_offset", st->stream_offset);
	vf_json_kv_string(j, "compressed", st->compressed);
	vf_json_kv_string(j, "machine_type", st->machine[0] ? st->machine : NULL);
	vf_json_kv_string(j, "domain_name", si->domain_name);
	vf_json_kv_string(j, "domain_uuid", si->domain_uuid);
	vf_json_key(j, "ram_blocks");
	vf_json_begin_array(j);
	for (size_t i = 0; i < st->nramblocks; i++) {
		vf_json_begin_object(j);
		vf_json_kv_string(j, "name", st->ramblocks[i].idstr);
		vf_json_kv_uint(j, "length", st->ramblocks[i].length);
		vf_json_kv_bool(j, "mapped", strcmp(st->ramblocks[i].idstr, si->mem.block) == 0);
		vf_json_end_object(j);
	}
	vf_json_end_array(j);
	vf_json_kv_string(j, "layout", si->mem.layout);
	vf_json_kv_uint(j, "vcpus", si->ncpus);
	vf_json_kv_string(j, "vcpu_arch", si->e_machine == EM_AARCH64 ? "aarch64" : "x86_64");
	vf_json_kv_uint(j, "sve_notes_left_out", si->sve_cpus);
	vf_json_kv_bool(j, "vmcoreinfo_device", st->found);
	vf_json_kv_bool(j, "vmcoreinfo_written", st->found && st->has_vmcoreinfo &&
			st->guest_format);
	vf_json_kv_uint(j, "ram_loads", si->nloads);
	vf_json_kv_uint(j, "ram_bytes", si->ram_bytes);
	vf_json_end_object(j);
}

static void text_elf(FILE *out, const struct vf_elf_info *e, bool verbose)
{
	fprintf(out, "ELF header:   e_phoff 0x%" PRIx64 ", e_shoff 0x%" PRIx64
		", e_ehsize %u, %zu program headers%s\n", e->e_phoff, e->e_shoff,
		e->e_ehsize, e->phnum, e->e_phnum == PN_XNUM ? " (PN_XNUM)" : "");
	if (!verbose)
		return;
	for (size_t i = 0; i < e->phnum; i++) {
		const struct vf_elf_phdr *p = &e->phdrs[i];
		const char *tn = phdr_type_name(p->type);
		fprintf(out, "  [%zu] %-8s offset 0x%" PRIx64 " paddr 0x%" PRIx64
			" vaddr 0x%" PRIx64 " filesz 0x%" PRIx64 " memsz 0x%" PRIx64 "\n",
			i, tn ? tn : "?", p->offset, p->paddr, p->vaddr, p->filesz, p->memsz);
	}
}

static void text_kdump(FILE *out, const struct vf_kdump_info *k)
{
	fprintf(out, "kdump header: version %d, block_size %" PRIu32 ", sub_hdr_size %" PRIu32
		", bitmap_blocks %" PRIu32 ", max_pfn 0x%" PRIx64 "\n", k->header_version,
		k->block_size, k->sub_hdr_size, k->bitmap_blocks, k->max_pfn);
	fprintf(out, "  utsname:    ");
	for (int i = 0; i < 6; i++) {
		fprintf(out, "%s%s=\"", i ? " " : "", uts_names[i]);
		vf_fput_text(out, k->utsname[i]);
		fputc('"', out);
	}
	fputc('\n', out);
	fprintf(out, "  phys_base:  0x%" PRIx64 "\n", k->phys_base);
	fprintf(out, "  dump_level: %d\n", k->dump_level);
	fprintf(out, "  notes:      offset 0x%" PRIx64 ", size %" PRIu64 "\n",
		k->offset_note, k->size_note);
	fprintf(out, "  vmcoreinfo: offset 0x%" PRIx64 ", size %" PRIu64 "\n",
		k->offset_vmcoreinfo, k->size_vmcoreinfo);
}

/* The notes, the first TEXT_NOTES_MAX unless verbose. */
static void text_notes(FILE *out, const struct vf_dump *d, bool verbose)
{
	fprintf(out, "notes:        %zu\n", d->nnotes);
	size_t nn = verbose || d->nnotes <= TEXT_NOTES_MAX ? d->nnotes : TEXT_NOTES_MAX;
	for (size_t i = 0; i < nn; i++) {
		const struct vf_note *n = &d->notes[i];
		const char *tn = vf_note_type_name(n);
		size_t w = strlen(n->name);
		fputs("  ", out);
		vf_fput_text(out, n->name);
		fprintf(out, "%*s type 0x%-4" PRIx32 " %-15s %6" PRIu32 " bytes at 0x%" PRIx64 "\n",
			w < 10 ? (int)(10 - w) : 0, "", n->type, tn ? tn : "", n->descsz,
			n->hdr_offset);
	}
	if (nn < d->nnotes)
		fprintf(out, "  ... %zu more (--verbose lists all)\n", d->nnotes - nn);
}

/* Where the dump's VMCOREINFO is and its summary keys; a negative decimal
 * number also in hex. */
static void text_vmcoreinfo(FILE *out, const struct vf_dump *d)
{
	if (d->vmci_origin == VF_VMCI_NONE) {
		fprintf(out, "VMCOREINFO:   none\n");
		return;
	}
	fprintf(out, "VMCOREINFO:   %s at 0x%" PRIx64 ", %" PRIu64 " bytes%s\n",
		d->vmci_origin == VF_VMCI_NOTE ? "note text" : "kdump pointer",
		d->vmci_offset, d->vmci_size,
		d->vmci ? "" : " (unreadable)");
	for (size_t i = 0; d->vmci && i < sizeof(vmci_summary_keys) / sizeof(*vmci_summary_keys); i++) {
		const char *v = vf_vmcoreinfo_get(d->vmci, vmci_summary_keys[i]);
		if (!v)
			continue;
		fprintf(out, "  %-24s %s", vmci_summary_keys[i], v);
		uint64_t num;
		struct vf_error *e = vf_vmcoreinfo_number(d->vmci, vmci_summary_keys[i], &num);
		if (!e && !vf_vmcoreinfo_key_is_hex(vmci_summary_keys[i]) && *v == '-')
			fprintf(out, " (0x%" PRIx64 ")", num);
		vf_error_destroy(e);
		fputc('\n', out);
	}
}

static void text_problems(FILE *out, const struct vf_problems *probs)
{
	fprintf(out, "problems:     %zu\n", probs->n);
	for (size_t i = 0; i < probs->n; i++) {
		const struct vf_problem *p = &probs->items[i];
		fprintf(out, "  %-7s %s: ", vf_severity_name(p->severity), p->id);
		vf_fput_text(out, p->message);
		fputc('\n', out);
		if (p->hint) {
			fputs("          hint: ", out);
			vf_fput_text(out, p->hint);
			fputc('\n', out);
		}
	}
}

void vf_report_inspect_text(FILE *out, const struct vf_dump *d,
			    const struct vf_problems *probs, const struct vf_guest_check *gc,
			    bool verbose)
{
	fprintf(out, "file:         %s\n", d->src->path);
	const struct vf_saved_info *si = vf_saved_info(d->src);
	fprintf(out, "format:       %s%s\n", si ? "saved VM state, read as the ELF core QEMU "
		"would dump of it" : d->format == VF_FORMAT_ELF ? "ELF core" : "kdump-compressed",
		d->src->kind == VF_SRC_FLATTENED ? " (makedumpfile flattened)" : "");
	if (si)
		text_saved(out, si);
	fprintf(out, "class:        %d-bit, %s-endian\n", d->elf_class,
		d->big_endian ? "big" : "little");
	text_machine(out, d);
	if (d->format == VF_FORMAT_KDUMP)
		fprintf(out, "compression:  %s\n", kdump_compression(d->kdump));
	else
		fprintf(out, "compression:  none\n");
	fprintf(out, "page size:    %" PRIu64 "\n", d->page_size);
	text_memory(out, d, verbose);
	if (d->format == VF_FORMAT_ELF)
		text_elf(out, d->elf, verbose);
	else
		text_kdump(out, d->kdump);
	text_notes(out, d, verbose);
	text_vmcoreinfo(out, d);
	if (gc && gc->checked)
		text_guest(out, gc);
	text_problems(out, probs);
}

static void json_vmcoreinfo(struct vf_json *j, const struct vf_dump *d)
{
	if (d->vmci_origin == VF_VMCI_NONE) {
		vf_json_null(j);
		return;
	}
	vf_json_begin_object(j);
	vf_json_kv_string(j, "origin", vmci_origin_name(d->vmci_origin));
	vf_json_kv_hex(j, "offset", d->vmci_offset);
	vf_json_kv_uint(j, "size", d->vmci_size);
	vf_json_kv_uint(j, "count", d->vmci_count);
	vf_json_kv_bool(j, "valid", d->vmci != NULL);
	vf_json_key(j, "values");
	vf_json_begin_object(j);
	for (size_t i = 0; d->vmci && i < sizeof(vmci_summary_keys) / sizeof(*vmci_summary_keys); i++) {
		const char *v = vf_vmcoreinfo_get(d->vmci, vmci_summary_keys[i]);
		if (!v)
			continue;
		vf_json_key(j, vmci_summary_keys[i]);
		vf_json_string(j, v);
	}
	vf_json_end_object(j);
	vf_json_key(j, "phys_base");
	uint64_t pb;
	struct vf_error *e = vf_note_phys_base(d, &pb, NULL);
	if (e)
		vf_json_null(j);
	else
		vf_json_hex(j, pb);
	vf_error_destroy(e);
	vf_json_end_object(j);
}

static void json_guest(struct vf_json *j, const struct vf_guest_check *gc)
{
	if (!gc || !gc->checked) {
		vf_json_null(j);
		return;
	}
	vf_json_begin_object(j);
	vf_json_kv_string(j, "origin", gc->region.origin == VF_REGION_FWCFG ? "fw-cfg" :
			  gc->region.origin == VF_REGION_SYSFS ? "sysfs" :
			  gc->region.origin == VF_REGION_MIGSTREAM ? "saved-state" :
			  gc->region.origin == VF_REGION_SCAN ? "scan" :
			  gc->region.origin == VF_REGION_KERNEL ? "kernel-pointer" : "argument");
	vf_json_kv_hex(j, "paddr", gc->region.paddr);
	vf_json_kv_uint(j, "size", gc->region.size);
	vf_json_kv_bool(j, "valid", gc->refusal == NULL);
	vf_json_key(j, "error");
	if (gc->refusal) {
		char *s = vf_error_string(gc->refusal);
		vf_json_string(j, s ? s : gc->refusal->message);
		free(s);
	} else {
		vf_json_null(j);
	}
	vf_json_key(j, "osrelease");
	vf_json_string(j, gc->refusal ? NULL : vf_vmcoreinfo_get(gc->note.vmci, "OSRELEASE"));
	vf_json_kv_uint(j, "text_size", gc->refusal ? 0 : gc->note.text_len);
	vf_json_key(j, "same_as_dump_note");
	if (gc->refusal || !gc->dump_has_note)
		vf_json_null(j);
	else
		vf_json_bool(j, gc->same_as_dump_note);
	vf_json_end_object(j);
}

static void json_memory(struct vf_json *j, const struct vf_mem *m)
{
	vf_json_begin_array(j);
	for (size_t i = 0; i < m->nranges; i++) {
		vf_json_begin_object(j);
		vf_json_kv_hex(j, "start", m->ranges[i].start);
		vf_json_kv_uint(j, "size", m->ranges[i].size);
		vf_json_end_object(j);
	}
	vf_json_end_array(j);
}

static void json_phdr(struct vf_json *j, const struct vf_elf_phdr *p)
{
	const char *tn = phdr_type_name(p->type);
	vf_json_begin_object(j);
	vf_json_key(j, "type");
	if (tn)
		vf_json_string(j, tn);
	else
		vf_json_uint(j, p->type);
	vf_json_kv_hex(j, "offset", p->offset);
	vf_json_kv_hex(j, "vaddr", p->vaddr);
	vf_json_kv_hex(j, "paddr", p->paddr);
	vf_json_kv_uint(j, "filesz", p->filesz);
	vf_json_kv_uint(j, "memsz", p->memsz);
	vf_json_kv_uint(j, "align", p->align);
	vf_json_end_object(j);
}

static void json_elf(struct vf_json *j, const struct vf_elf_info *e)
{
	vf_json_begin_object(j);
	vf_json_kv_hex(j, "e_phoff", e->e_phoff);
	vf_json_kv_hex(j, "e_shoff", e->e_shoff);
	vf_json_kv_uint(j, "e_ehsize", e->e_ehsize);
	vf_json_kv_uint(j, "e_phnum", e->e_phnum);
	vf_json_kv_uint(j, "phnum", e->phnum);
	vf_json_key(j, "program_headers");
	vf_json_begin_array(j);
	for (size_t i = 0; i < e->phnum; i++)
		json_phdr(j, &e->phdrs[i]);
	vf_json_end_array(j);
	vf_json_end_object(j);
}

static void json_kdump(struct vf_json *j, const struct vf_kdump_info *k)
{
	vf_json_begin_object(j);
	vf_json_kv_int(j, "header_version", k->header_version);
	vf_json_kv_string(j, "layout", k->layout == VF_KDUMP_LAYOUT_64 ? "64" :
		       k->layout == VF_KDUMP_LAYOUT_32_PACKED ? "32-packed" : "32-padded");
	vf_json_kv_uint(j, "status", k->status);
	vf_json_kv_uint(j, "block_size", k->block_size);
	vf_json_kv_uint(j, "sub_hdr_size", k->sub_hdr_size);
	vf_json_kv_uint(j, "bitmap_blocks", k->bitmap_blocks);
	vf_json_kv_uint(j, "max_mapnr", k->max_mapnr);
	vf_json_kv_uint(j, "max_pfn", k->max_pfn);
	vf_json_kv_uint(j, "nr_cpus", k->nr_cpus);
	vf_json_key(j, "utsname");
	vf_json_begin_object(j);
	for (int i = 0; i < 6; i++) {
		vf_json_key(j, uts_names[i]);
		vf_json_string(j, k->utsname[i]);
	}
	vf_json_end_object(j);
	vf_json_kv_hex(j, "phys_base", k->phys_base);
	vf_json_kv_int(j, "dump_level", k->dump_level);
	vf_json_kv_hex(j, "offset_vmcoreinfo", k->offset_vmcoreinfo);
	vf_json_kv_uint(j, "size_vmcoreinfo", k->size_vmcoreinfo);
	vf_json_kv_hex(j, "offset_note", k->offset_note);
	vf_json_kv_uint(j, "size_note", k->size_note);
	vf_json_end_object(j);
}

static void json_notes(struct vf_json *j, const struct vf_dump *d)
{
	vf_json_begin_array(j);
	for (size_t i = 0; i < d->nnotes; i++) {
		const struct vf_note *n = &d->notes[i];
		const char *tn = vf_note_type_name(n);
		vf_json_begin_object(j);
		vf_json_kv_string(j, "name", n->name);
		vf_json_kv_uint(j, "type", n->type);
		vf_json_kv_string(j, "type_name", tn);
		vf_json_kv_uint(j, "descsz", n->descsz);
		vf_json_kv_hex(j, "offset", n->hdr_offset);
		vf_json_end_object(j);
	}
	vf_json_end_array(j);
}

static void json_problems(struct vf_json *j, const struct vf_problems *probs)
{
	vf_json_begin_array(j);
	for (size_t i = 0; i < probs->n; i++) {
		const struct vf_problem *p = &probs->items[i];
		vf_json_begin_object(j);
		vf_json_kv_string(j, "id", p->id);
		vf_json_kv_string(j, "severity", vf_severity_name(p->severity));
		vf_json_kv_string(j, "message", p->message);
		vf_json_kv_string(j, "hint", p->hint);
		vf_json_key(j, "offset");
		if (p->has_offset)
			vf_json_hex(j, p->offset);
		else
			vf_json_null(j);
		vf_json_end_object(j);
	}
	vf_json_end_array(j);
}

void vf_report_inspect_json(FILE *out, const struct vf_dump *d, const struct vf_problems *probs,
			    const struct vf_guest_check *gc, const struct vf_json_line *line)
{
	struct vf_json j;
	vf_json_init(&j, out, line == NULL);
	vf_json_begin_object(&j);
	vf_json_kv_string(&j, "schema", VF_INSPECT_SCHEMA);
	vf_json_kv_string(&j, "file", d->src->path);
	if (line)
		vf_json_kv_int(&j, "status", line->status);
	vf_json_kv_string(&j, "format", d->format == VF_FORMAT_ELF ? "elf" : "kdump");
	vf_json_kv_bool(&j, "flattened", d->src->kind == VF_SRC_FLATTENED);
	vf_json_key(&j, "saved_state");
	json_saved(&j, vf_saved_info(d->src));
	vf_json_kv_uint(&j, "file_size", d->src->file_size);
	vf_json_kv_uint(&j, "logical_size", d->src->size);
	vf_json_kv_uint(&j, "class", (uint64_t)d->elf_class);
	vf_json_kv_string(&j, "byte_order", d->big_endian ? "big" : "little");
	vf_json_kv_string(&j, "machine", d->machine_name);
	vf_json_kv_uint(&j, "e_machine", d->e_machine);
	vf_json_kv_string(&j, "machine_from", d->machine_how);
	vf_json_kv_string(&j, "machine_conflict", d->machine_conflict);
	vf_json_kv_string(&j, "compression", d->format == VF_FORMAT_KDUMP ? kdump_compression(d->kdump) : "none");
	vf_json_kv_uint(&j, "page_size", d->page_size);
	vf_json_key(&j, "memory");
	json_memory(&j, &d->mem);
	if (d->format == VF_FORMAT_ELF) {
		vf_json_key(&j, "elf");
		json_elf(&j, d->elf);
	} else {
		vf_json_key(&j, "kdump");
		json_kdump(&j, d->kdump);
	}
	vf_json_key(&j, "notes");
	json_notes(&j, d);
	vf_json_key(&j, "vmcoreinfo");
	json_vmcoreinfo(&j, d);
	vf_json_key(&j, "guest_note");
	json_guest(&j, gc);
	vf_json_key(&j, "problems");
	json_problems(&j, probs);
	vf_json_end_object(&j);
	vf_json_finish(&j);
}

void vf_report_error_json(FILE *out, const char *path, const struct vf_error *err,
			  const struct vf_json_line *line)
{
	struct vf_json j;
	vf_json_init(&j, out, line == NULL);
	vf_json_begin_object(&j);
	vf_json_kv_string(&j, "schema", VF_INSPECT_SCHEMA);
	vf_json_kv_string(&j, "file", path);
	if (line)
		vf_json_kv_int(&j, "status", line->status);
	vf_json_key(&j, "error");
	vf_json_begin_object(&j);
	vf_json_kv_string(&j, "code", vf_error_code_name(err->code));
	vf_json_key(&j, "message");
	char *s = vf_error_string(err);
	vf_json_string(&j, s ? s : err->message);
	free(s);
	vf_json_kv_string(&j, "hint", err->hint);
	vf_json_key(&j, "offset");
	if (err->has_offset && !err->offset_is_paddr)
		vf_json_hex(&j, err->offset);
	else
		vf_json_null(&j);
	vf_json_end_object(&j);
	vf_json_end_object(&j);
	vf_json_finish(&j);
}
