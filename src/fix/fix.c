/* fix.c - the fix of one dump: gather the planner's inputs from the guest
 * kernel's memory, plan, and say what could not be done. */
#include "config.h"
#include "fix/fix.h"

#include <elf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/kdump.h"
#include "arch/arch.h"
#include "format/machine.h"
#include "guest/pgtable.h"

/* Record why a field is left alone; a real failure (out of memory, I/O) is
 * returned instead. */
static struct vf_error *leave_alone(struct vf_fix *fx, const char *field, bool blocks,
				    struct vf_error *err)
{
	if (err == &vf_error_nomem || err->code == VF_ERR_OS)
		return err;
	if (fx->nleft < VF_FIX_LEFT_MAX) {
		struct vf_fix_left *l = &fx->left[fx->nleft++];
		l->field = field;
		l->blocks = blocks;
		l->why = vf_error_string(err);
	}
	vf_error_destroy(err);
	return NULL;
}

struct vf_error *vf_fix_text_add_phys_base(const struct vf_arch *a, const uint8_t *text,
					   size_t len, uint64_t pb, uint8_t **out, size_t *out_len)
{
	while (len && text[len - 1] == 0)
		len--;
	char line[96];
	int n = 0;
	if (len && text[len - 1] != '\n')
		line[n++] = '\n';
	int k = vf_arch_phys_base_line(a, pb, line + n, sizeof(line) - (size_t)n - 1);
	if (k < 0 || (size_t)k >= sizeof(line) - (size_t)n - 1)
		return vf_error_create(VF_ERR_UNSUPPORTED, "no phys_base key is known for %s",
				       a && a->name ? a->name : "this machine");
	n += k;
	line[n++] = '\n';
	uint8_t *t = malloc(len + (size_t)n);
	if (!t)
		return &vf_error_nomem;
	memcpy(t, text, len);
	memcpy(t + len, line, (size_t)n);
	*out = t;
	*out_len = len + (size_t)n;
	return NULL;
}

static char *dupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *dupf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* A note without the architecture's phys_base key (older x86_64 kernels):
 * derive phys_base from the guest's page tables and write it into the note
 * the fixed dump carries. */
static struct vf_error *derive_phys_base(struct vf_dump *dump, const struct vf_arch *a,
					 struct vf_fix *fx, const struct vf_vmcoreinfo **vmci)
{
	uint64_t pb;
	char *how = NULL;
	struct vf_error *err = vf_x86_phys_base_from_pgtables(dump, *vmci, &pb, &how);
	size_t base_len, len;
	const uint8_t *base = vf_fix_note_text(fx, dump, &base_len);
	uint8_t *t;
	if (!err)
		err = vf_fix_text_add_phys_base(a, base, base_len, pb, &t, &len);
	if (err) {
		free(how);
		return err;
	}
	err = vf_vmcoreinfo_parse((const char *)t, len, &fx->text_vmci);
	if (err) {
		free(t);
		free(how);
		return err;
	}
	fx->text = t;
	fx->in.note_text = t;
	fx->in.note_len = (uint32_t)len;
	fx->in.have_phys_base = true;
	fx->in.phys_base = pb;
	fx->phys_base_how = how;
	char line[96];
	if (vf_arch_phys_base_line(a, pb, line, sizeof(line)) < 0)
		line[0] = 0;
	fx->phys_base_origin = dupf("the page tables (%s added to the note)", line);
	fx->in.phys_base_origin = fx->phys_base_origin;
	*vmci = fx->text_vmci;
	return fx->phys_base_origin ? NULL : &vf_error_nomem;
}

/* The note's phys_base under the architecture's key, else one derived from
 * the page tables where the architecture has them. */
static struct vf_error *gather_phys_base(struct vf_dump *dump, struct vf_fix *fx,
					 const char *whose, const struct vf_vmcoreinfo **vmci)
{
	const struct vf_arch *a = vf_arch_by_em(dump->e_machine);
	fx->phys_base_key = a ? a->phys_base_key : NULL;
	if (!fx->phys_base_key)
		return NULL;
	uint64_t pb;
	struct vf_error *err = vf_vmcoreinfo_number(*vmci, fx->phys_base_key, &pb);
	if (!err) {
		fx->in.have_phys_base = true;
		fx->in.phys_base = pb;
		fx->phys_base_origin = dupf("%s VMCOREINFO %s=%s", whose, fx->phys_base_key,
					    vf_vmcoreinfo_get(*vmci, fx->phys_base_key));
		fx->in.phys_base_origin = fx->phys_base_origin;
		return fx->phys_base_origin ? NULL : &vf_error_nomem;
	}
	if (err->code != VF_ERR_NOT_FOUND || !a->has_page_tables) {
		/* unparsable: the header checks report it; other machines: no walk */
		vf_error_destroy(err);
		return NULL;
	}
	vf_error_destroy(err);
	err = derive_phys_base(dump, a, fx, vmci);
	if (!err) {
		fx->in.note_origin = fx->in.note_origin == NULL ?
			"the dump's (its phys_base added from the page tables)" :
			"the guest's (its phys_base added from the page tables)";
		return NULL;
	}
	return leave_alone(fx, fx->phys_base_key, true, err);
}

/* Raise *end to the pfn past [pa, pa + len) when that lies in the dump. */
static void kernel_page(uint64_t pa, uint64_t len, uint64_t page, uint64_t max_pfn,
			const char *what, uint64_t *end, const char **which)
{
	if (!len || pa / page >= max_pfn)
		return;  /* not in the dump's bitmaps: a trim cannot drop it */
	uint64_t last = pa + (len - 1) < pa ? UINT64_MAX : pa + (len - 1);
	uint64_t e = last / page + 1 < max_pfn ? last / page + 1 : max_pfn;
	if (e > *end) {
		*end = e;
		*which = what;
	}
}

/* A trim to the memory map's end must keep every page the fix knows is the
 * kernel's: its image (VMCOREINFO's kernel text mapping), the guest's note,
 * init_uts_ns.  A map ending below one of them is not the kernel's. */
static struct vf_error *trim_keeps_kernel(struct vf_dump *dump, const struct vf_vmcoreinfo *vmci,
					  const struct vf_fix *fx, uint64_t m, uint64_t max)
{
	uint64_t ps = dump->page_size, end = 0;
	uint64_t va, pa, size, sym, off;
	const char *how, *which = NULL;
	struct vf_error *e = vf_kernel_text(dump, vmci, &va, &pa, &size, &how);
	if (!e)
		kernel_page(pa, size, ps, max, "the kernel image", &end, &which);
	vf_error_destroy(e);
	if (fx->have_note_paddr)
		kernel_page(fx->note_paddr, 24 + (uint64_t)fx->in.note_len, ps, max,
			    "the guest's VMCOREINFO note", &end, &which);
	e = vf_vmcoreinfo_number(vmci, "SYMBOL(init_uts_ns)", &sym);
	if (!e)
		e = vf_vmcoreinfo_number(vmci, "OFFSET(uts_namespace.name)", &off);
	if (!e)
		e = vf_kernel_vtop(dump, vmci, sym + off, &pa);
	if (!e)
		kernel_page(pa, VF_UTS_FIELDS * VF_UTS_LEN, ps, max, "init_uts_ns", &end, &which);
	vf_error_destroy(e);
	if (m >= end)
		return NULL;
	return vf_error_create(VF_ERR_CORRUPT, "the kernel's memory map (mem_section) ends at "
			       "pfn 0x%" PRIx64 ", below %s (up to pfn 0x%" PRIx64 "): it is not "
			       "to be trusted, the bitmaps stay whole", m, which, end);
}

/* Nor drop a page the dump's own first bitmap says is RAM, when it says so
 * on its own. */
static struct vf_error *trim_keeps_ram(struct vf_dump *dump, uint64_t m)
{
	if (m >= dump->kdump->max_pfn)
		return NULL;
	uint64_t ram = 0;
	bool describes = false;
	struct vf_error *err = vf_plan_kdump_ram_above(dump, m, &ram, &describes);
	if (err || !ram)
		return err;
	return vf_error_create(VF_ERR_CORRUPT, "the kernel's memory map (mem_section) ends at "
			       "pfn 0x%" PRIx64 ", but the dump's first bitmap has %" PRIu64 " RAM "
			       "pages above it: the bitmaps stay whole", m, ram);
}

/* A kdump whose blocks are larger than the kernel's pages (QEMU's aarch64
 * dumps: 64 KiB blocks, PAGESIZE 4096) cannot be read by libkdumpfile
 * (drgn), which counts pages by PAGESIZE: a physical address becomes a pfn
 * 16 times too large ("Out-of-bounds PFN").  No patch of the file changes
 * that; its pages would have to be rewritten. */
static struct vf_error *check_blocks(const struct vf_dump *dump, const struct vf_vmcoreinfo *vmci,
				     struct vf_fix *fx)
{
	const struct vf_arch *a = vf_arch_by_em(dump->e_machine);
	if (a && a->kdump_unread)
		return leave_alone(fx, "kdump form", true, vf_error_create(VF_ERR_UNSUPPORTED,
				   "no consumer reads a %s kdump: %s", a->name, a->kdump_unread));
	uint64_t ps;
	struct vf_error *err = vf_vmcoreinfo_number(vmci, "PAGESIZE", &ps);
	if (err) {
		vf_error_destroy(err);
		return NULL;
	}
	uint32_t bs = dump->kdump->block_size;
	if (ps == bs)
		return NULL;
	return leave_alone(fx, "kdump block size", true, vf_error_create(VF_ERR_UNSUPPORTED,
		"its %" PRIu32 "-byte blocks hold %" PRIu64 " pages of the kernel's %" PRIu64
		" (QEMU writes such blocks on %s): libkdumpfile (drgn) counts a kdump's pages "
		"by PAGESIZE and cannot read it, nor any kdump patched from it (%" PRIu64
		"-byte blocks would be)", bs, ps ? bs / ps : 0, ps,
		dump->machine_name ? dump->machine_name : "this machine", ps));
}

/* kdump: the header's utsname (drgn needs it) and the memory map's end. */
static struct vf_error *gather_kdump(struct vf_dump *dump, const struct vf_fix_opts *o,
				     const struct vf_vmcoreinfo *vmci, struct vf_fix *fx)
{
	struct vf_error *berr = check_blocks(dump, vmci, fx);
	if (berr)
		return berr;
	/* makedumpfile fills the kdump header's utsname from init_uts_ns */
	struct vf_error *err = vf_kernel_utsname(dump, vmci, fx->uts);
	if (!err)
		fx->in.uts = (const char (*)[VF_UTS_LEN])fx->uts;
	else
		err = leave_alone(fx, "kdump header utsname", !vf_kdump_utsname_filled(dump->kdump) ||
				  err->code == VF_ERR_CORRUPT, err);
	if (err || o->keep_device_pages)
		return err;
	uint64_t end = 0;
	err = vf_kernel_mem_map_end(dump, vmci, dump->kdump->max_pfn, &end);
	if (err)
		/* without SPARSEMEM keys makedumpfile sizes the bitmaps from
		 * max_mapnr: nothing to match */
		return leave_alone(fx, "kdump bitmaps", err->code != VF_ERR_NOT_FOUND, err);
	err = trim_keeps_kernel(dump, vmci, fx, end, dump->kdump->max_pfn);
	if (!err)
		err = trim_keeps_ram(dump, end);
	if (!err) {
		fx->in.mem_map_end = end;
		return NULL;
	}
	/* the guest's memory map contradicts what the fix knows: no trim by it.
	 * makedumpfile re-filtering sizes its bitmaps by that same memory map,
	 * so it would read the untrimmed ones wrong: a consumer fails, and the
	 * fix is refused rather than called healthy */
	return leave_alone(fx, "kdump bitmaps", true, err);
}

/* ELF: the note must fit the kernel in this memory (its init_uts_ns, where
 * its KERNELOFFSET and phys_base put it, holds its release); the kernel
 * image's mapping for its PT_LOAD. */
static struct vf_error *gather_elf(struct vf_dump *dump, const struct vf_vmcoreinfo *vmci,
				   struct vf_fix *fx)
{
	struct vf_error *err = vf_kernel_utsname(dump, vmci, fx->uts);
	if (err)
		err = leave_alone(fx, "note's init_uts_ns", err->code == VF_ERR_CORRUPT, err);
	if (err || dump->elf_class != 64)
		return err;
	err = vf_kernel_text(dump, vmci, &fx->in.ktext_vaddr, &fx->in.ktext_paddr,
			     &fx->in.ktext_size, &fx->ktext_how);
	if (!err)
		fx->in.ktext_how = fx->ktext_how;
	else
		err = leave_alone(fx, "kernel image PT_LOAD", true, err);
	return err;
}

/* A new kdump of an ELF dump or a saved state: the header's utsname, and
 * the bitmaps sized to the kernel's memory map as the kdump fix sizes them
 * (device memory above it, in QEMU's PT_LOADs, is left out). */
static struct vf_error *gather_tokdump(struct vf_dump *dump, const struct vf_fix_opts *o,
				       const struct vf_vmcoreinfo *vmci, struct vf_fix *fx)
{
	struct vf_error *err = vf_kernel_utsname(dump, vmci, fx->uts);
	if (!err)
		fx->in.uts = (const char (*)[VF_UTS_LEN])fx->uts;
	else
		err = leave_alone(fx, "kdump header utsname", true, err);
	if (err || o->keep_device_pages)
		return err;
	const struct vf_mem *m = &dump->mem;
	uint64_t ps = dump->page_size, max = 0, end = 0;
	if (m->nranges) {
		const struct vf_mem_range *r = &m->ranges[m->nranges - 1];
		max = r->size ? (r->start + (r->size - 1)) / ps + 1 : r->start / ps;
	}
	err = vf_kernel_mem_map_end(dump, vmci, max, &end);
	if (err)
		return leave_alone(fx, "kdump bitmaps", err->code != VF_ERR_NOT_FOUND, err);
	err = trim_keeps_kernel(dump, vmci, fx, end, max);
	if (err)
		return leave_alone(fx, "kdump bitmaps", true, err);
	fx->in.mem_map_end = end;
	return NULL;
}

/* The dump's note and the guest's differ, and the user did not say which wins. */
static struct vf_error *notes_differ(void)
{
	return vf_error_set_hint(vf_error_create(VF_ERR_REFUSED, "the guest's VMCOREINFO note "
		"(at the region given) differs from the dump's own"),
		"compare them with vmcore-fix --inspect --region ...; add --replace-note to "
		"write the guest's note instead of the dump's");
}

/* Which note the fixed dump carries: the guest's when the dump has none (or
 * it is to be replaced), else the dump's own. */
static struct vf_error *choose_note(const struct vf_dump *dump, const struct vf_guest_note *gn,
				    const struct vf_fix_opts *o, struct vf_fix *fx,
				    const struct vf_vmcoreinfo **vmci, const char **whose)
{
	const uint8_t *own = dump->vmci_origin == VF_VMCI_NOTE ? dump->vmci_note->desc
							       : dump->vmci_pointer_text;
	bool has_own = dump->vmci_origin != VF_VMCI_NONE;
	bool same = gn && has_own && dump->vmci_size == gn->text_len &&
		    memcmp(own, gn->text, gn->text_len) == 0;
	if (gn && dump->vmci && !same && !o->replace_note)
		return notes_differ();
	if (gn && (!dump->vmci || (!same && o->replace_note))) {
		fx->in.note_text = gn->text;
		fx->in.note_len = gn->text_len;
		fx->in.note_origin = has_own ? "the guest's (replacing the dump's)" : "the guest's";
		*vmci = gn->vmci;
		*whose = "the guest's";
		fx->have_note_paddr = true;
		fx->note_paddr = gn->region.paddr;
		return NULL;
	}
	*vmci = dump->vmci;  /* the dump's own: note_text stays NULL */
	*whose = "the dump's";
	return NULL;
}

static struct vf_error *gather(struct vf_dump *dump, const struct vf_guest_note *gn,
			       const struct vf_fix_opts *o, struct vf_fix *fx)
{
	const struct vf_vmcoreinfo *vmci = NULL;
	const char *whose = NULL;
	struct vf_error *err = choose_note(dump, gn, o, fx, &vmci, &whose);
	if (err || !vmci)
		return err;
	if ((err = gather_phys_base(dump, fx, whose, &vmci)))
		return err;
	fx->vmci = vmci;
	fx->in.vmci = vmci;
	/* ELF output is written in the guest's byte order; a kdump's cannot be */
	if (dump->guest_big_endian != dump->big_endian && dump->format == VF_FORMAT_KDUMP &&
	    !o->to_elf &&
	    (err = leave_alone(fx, "byte order", true, vf_error_create(VF_ERR_UNSUPPORTED,
		"the kdump is %s-endian but the guest (%s) is %s-endian, as its CPU notes say: "
		"drgn and crash read the guest's memory and notes in the dump's byte order, and "
		"rewriting a kdump in the guest's is not implemented",
		dump->big_endian ? "big" : "little", dump->machine_name ? dump->machine_name : "?",
		dump->guest_big_endian ? "big" : "little"))))
		return err;
	if (o->to_kdump && dump->format == VF_FORMAT_ELF)
		return gather_tokdump(dump, o, vmci, fx);
	if (dump->format == VF_FORMAT_KDUMP && !o->to_elf)
		return gather_kdump(dump, o, vmci, fx);
	return gather_elf(dump, vmci, fx);
}

struct vf_error *vf_fix_prepare(struct vf_dump *dump, const struct vf_guest_note *gn,
				const struct vf_fix_opts *opts, struct vf_fix *fx)
{
	memset(fx, 0, sizeof(*fx));
	struct vf_error *err = NULL;
	/* the guest's note adds its keys to what tells the machine (and must agree) */
	if (gn)
		err = vf_machine_detect(dump, gn->vmci);
	if (!err)
		err = gather(dump, gn, opts, fx);
	/* a saved state is converted whatever the output form: it has no file of
	 * its own to copy */
	bool convert = dump->src->kind == VF_SRC_SAVED ||
		       (opts->to_elf && dump->format == VF_FORMAT_KDUMP);
	/* a kdump asked for as a kdump: its own fix */
	if (!err && opts->to_kdump && dump->format != VF_FORMAT_KDUMP)
		err = vf_plan_to_kdump(dump, &fx->in, &fx->plan);
	else if (!err && convert && dump->e_machine != EM_NONE)
		err = vf_plan_to_elf(dump, &fx->in, &fx->plan);
	else if (!err)
		err = vf_plan_fix(dump, &fx->in, &fx->plan);
	if (err) {
		vf_fix_deinit(fx);
		return err;
	}
	fx->planned = true;
	return NULL;
}

struct vf_error *vf_fix_blocked(const struct vf_fix *fx)
{
	for (size_t i = 0; i < fx->nleft; i++) {
		if (!fx->left[i].blocks)
			continue;
		return vf_error_set_hint(vf_error_create(VF_ERR_REFUSED, "the fixed dump would "
			"still lack its %s, which consumers need: %s", fx->left[i].field,
			fx->left[i].why), "%s", vf_consumer_need_hint(fx->left[i].field));
	}
	return NULL;
}

const uint8_t *vf_fix_note_text(const struct vf_fix *fx, const struct vf_dump *dump,
				size_t *len)
{
	if (fx->in.note_text) {
		*len = fx->in.note_len;
		return fx->in.note_text;
	}
	if (!dump->vmci) {
		*len = 0;
		return NULL;
	}
	*len = dump->vmci_size;
	return dump->vmci_origin == VF_VMCI_NOTE ? dump->vmci_note->desc : dump->vmci_pointer_text;
}

void vf_fix_deinit(struct vf_fix *fx)
{
	for (size_t i = 0; i < fx->nleft; i++)
		free(fx->left[i].why);
	fx->nleft = 0;
	if (fx->planned)
		vf_plan_deinit(&fx->plan);
	fx->planned = false;
	free(fx->text);
	fx->text = NULL;
	vf_vmcoreinfo_destroy(fx->text_vmci);
	fx->text_vmci = NULL;
	free(fx->phys_base_how);
	fx->phys_base_how = NULL;
	free(fx->phys_base_origin);
	fx->phys_base_origin = NULL;
}

struct vf_error *vf_fix_inspect(struct vf_dump *dump, const struct vf_fix_opts *opts,
				struct vf_problems *probs)
{
	if (!dump->vmci || dump->e_machine == EM_NONE)
		return NULL;
	struct vf_fix_opts io = *opts;
	io.replace_note = false;
	struct vf_fix fx;
	struct vf_error *err = vf_fix_prepare(dump, NULL, &io, &fx);
	if (err) {
		if (err == &vf_error_nomem || err->code == VF_ERR_OS)
			return err;
		/* what the planner refuses, the header checks have already reported */
		vf_error_destroy(err);
		return NULL;
	}
	const char *fields[VF_FIX_LEFT_MAX];
	char *whys[VF_FIX_LEFT_MAX];
	size_t nb = 0;
	for (size_t i = 0; i < fx.nleft; i++) {
		if (!fx.left[i].blocks)
			continue;
		fields[nb] = fx.left[i].field;
		whys[nb++] = fx.left[i].why;
	}
	err = vf_inspect_plan(dump, &fx.plan, fields, whys, nb, probs);
	vf_fix_deinit(&fx);
	return err;
}
