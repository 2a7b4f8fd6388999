/* pgtable.c - x86_64 phys_base from the guest's own page tables. */
#include "config.h"
#include "guest/pgtable.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"

/* Bounds on the work a hostile dump can ask for. */
#define MAX_SYMBOLS 16   /* kernel-image symbols translated per page table */
#define MAX_ROOTS   64   /* distinct page-table roots examined */
#define MAX_LISTED  4    /* CPUs named in one error message */

/* ------------------------------------------------------------ QEMU notes */

struct vf_error *vf_qemu_cpu_state_parse(const uint8_t *desc, size_t descsz, uint64_t file_off,
					 struct vf_x86_cpu *cpu)
{
	memset(cpu, 0, sizeof(*cpu));
	cpu->note_offset = file_off;
	struct vf_cursor c;
	vf_cursor_init(&c, desc, descsz, false, file_off, "QEMU CPU state note");
	uint32_t version, size;
	struct vf_error *err = vf_cursor_u32(&c, &version);
	if (!err)
		err = vf_cursor_u32(&c, &size);
	if (err)
		return err;
	if (version != VF_QEMU_CPUSTATE_VERSION)
		return vf_error_set_hint(vf_error_at(VF_ERR_UNSUPPORTED, file_off, "QEMU CPU state "
						     "version %" PRIu32 ", this tool knows "
						     "version %d", version,
						     VF_QEMU_CPUSTATE_VERSION),
					 "a newer QEMU changed the layout: report it with "
					 "the QEMU version that wrote the dump");
	if (size < VF_QEMU_CPUSTATE_MIN)
		return vf_error_at(VF_ERR_CORRUPT, file_off, "QEMU CPU state size %" PRIu32 " ends "
				   "before its control registers (byte %d)", size,
				   VF_QEMU_CPUSTATE_MIN);
	if (size > descsz)
		return vf_error_at(VF_ERR_CORRUPT, file_off, "QEMU CPU state size %" PRIu32 " is "
				   "larger than its note (%zu bytes)", size, descsz);
	uint64_t cr[5];
	err = vf_cursor_seek(&c, VF_QEMU_CPUSTATE_CR_OFF);
	for (int i = 0; i < 5 && !err; i++)
		err = vf_cursor_u64(&c, &cr[i]);
	if (err)
		return err;
	cpu->cr0 = cr[0];
	cpu->cr3 = cr[3];
	cpu->cr4 = cr[4];
	cpu->valid = true;
	return NULL;
}

static bool is_qemu_cpu_note(const struct vf_note *note)
{
	return note->namesz == 5 && note->type == 0 && strcmp(note->name, "QEMU") == 0;
}

struct vf_error *vf_qemu_cpu_states(const struct vf_dump *dump, struct vf_x86_cpu **cpus,
				    size_t *n)
{
	*cpus = NULL;
	*n = 0;
	size_t count = 0;
	for (size_t i = 0; i < dump->nnotes; i++)
		count += is_qemu_cpu_note(&dump->notes[i]);
	if (!count)
		return NULL;
	struct vf_x86_cpu *v = calloc(count, sizeof(*v));
	if (!v)
		return &vf_error_nomem;
	size_t k = 0;
	for (size_t i = 0; i < dump->nnotes; i++) {
		const struct vf_note *note = &dump->notes[i];
		if (!is_qemu_cpu_note(note))
			continue;
		struct vf_error *err = vf_qemu_cpu_state_parse(note->desc, note->descsz,
							       note->desc_offset, &v[k]);
		if (err == &vf_error_nomem) {
			free(v);
			return err;
		}
		if (err) {
			snprintf(v[k].why, sizeof(v[k].why), "note at 0x%" PRIx64 ": %s",
				 note->desc_offset, err->message);
			vf_error_destroy(err);
		}
		v[k].index = k;
		k++;
	}
	*cpus = v;
	*n = count;
	return NULL;
}

const char *vf_x86_cpu_unusable(const struct vf_x86_cpu *cpu)
{
	if (!cpu->valid)
		return cpu->why[0] ? cpu->why : "its note is malformed";
	if (!(cpu->cr0 & VF_X86_CR0_PG))
		return "paging is off (CR0.PG clear)";
	if (!(cpu->cr4 & VF_X86_CR4_PAE))
		return "not in 64-bit paging (CR4.PAE clear)";
	if (!(cpu->cr3 & VF_X86_CR3_ADDR))
		return "CR3 is 0";
	return NULL;
}

/* ------------------------------------------------------------ phys_base */

/* A growing one-line string; on allocation failure s becomes NULL and stays so. */
struct line {
	char *s;
	bool failed;
};

static void line_add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line_add(struct line *l, const char *fmt, ...)
{
	if (l->failed)
		return;
	char *piece, *joined;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&piece, fmt, ap);
	va_end(ap);
	if (r < 0) {
		l->failed = true;
		return;
	}
	if (asprintf(&joined, "%s%s", l->s ? l->s : "", piece) < 0) {
		l->failed = true;
		joined = NULL;
	}
	free(piece);
	free(l->s);
	l->s = joined;
}

struct sym {
	const char *key;   /* "SYMBOL(_stext)" (points into vmci) */
	uint64_t vaddr;
};

/* Preferred first: the first that translates names the result in *how. */
static const char *const preferred[] = {
	"SYMBOL(_stext)", "SYMBOL(init_top_pgt)", "SYMBOL(swapper_pg_dir)",
	"SYMBOL(init_uts_ns)", "SYMBOL(phys_base)",
};

static const struct vf_arch *const x86 = &vf_arch_x86_64;

static bool in_kernel_image(uint64_t vaddr)
{
	return vaddr >= x86->kimage_base && vaddr < x86->kimage_end;
}

static bool have_vaddr(const struct sym *syms, size_t n, uint64_t vaddr)
{
	for (size_t i = 0; i < n; i++)
		if (syms[i].vaddr == vaddr)
			return true;
	return false;
}

/* Kernel-image symbols of VMCOREINFO, preferred ones first, distinct
 * addresses, at most MAX_SYMBOLS.  Malformed values are skipped. */
static size_t collect_symbols(const struct vf_vmcoreinfo *vmci, struct sym *syms)
{
	size_t n = 0;
	for (size_t pass = 0; pass < 2; pass++) {
		size_t count = pass ? vmci->n : sizeof(preferred) / sizeof(preferred[0]);
		for (size_t i = 0; i < count && n < MAX_SYMBOLS; i++) {
			const char *key = pass ? vmci->entries[i].key : preferred[i];
			if (strncmp(key, "SYMBOL(", 7) != 0)
				continue;
			uint64_t v;
			struct vf_error *err = vf_vmcoreinfo_number(vmci, key, &v);
			if (err) {
				vf_error_destroy(err);
				continue;
			}
			if (!in_kernel_image(v) || have_vaddr(syms, n, v))
				continue;
			/* Point into vmci so the key outlives this function's strings. */
			for (size_t j = 0; j < vmci->n; j++)
				if (strcmp(vmci->entries[j].key, key) == 0) {
					syms[n].key = vmci->entries[j].key;
					break;
				}
			syms[n++].vaddr = v;
		}
	}
	return n;
}

/* What one page-table root says. */
struct root_result {
	uint64_t root;           /* CR3 as walked */
	size_t cpu;              /* index of the CPU it came from */
	bool kpti_kernel;        /* root is a user CR3 with the PTI bit cleared */
	bool have;               /* at least one symbol translated */
	uint64_t phys_base;
	const struct sym *first; /* the symbol that gave phys_base first */
	uint64_t first_paddr;
	const struct sym *agree[MAX_SYMBOLS];  /* the others that agree */
	size_t nagree;
	int var;                 /* phys_base variable: 1 same, 0 unread, -1 differs */
	uint64_t var_value, var_paddr;
	struct vf_error *first_fail;  /* why the first symbol failed, if any did */
};

static size_t evidence(const struct root_result *r)
{
	return r->have ? 1 + r->nagree + (r->var > 0) : 0;
}

static const char *paging_name(bool la57)
{
	return la57 ? "5-level" : "4-level";
}

/* Translate every symbol through root; a disagreement is returned as an error. */
static struct vf_error *try_root(struct vf_mem *mem, uint64_t root, bool la57, size_t cpu,
				 const struct sym *syms, size_t nsyms,
				 const struct sym *phys_base_sym, struct root_result *r)
{
	memset(r, 0, sizeof(*r));
	r->root = root;
	r->cpu = cpu;
	uint64_t var_paddr = 0;
	bool var_mapped = false;
	for (size_t i = 0; i < nsyms; i++) {
		uint64_t pa;
		struct vf_arch_pgroot pgd = { root, la57 ? 5 : 4 };
		struct vf_error *err = x86->pt_vtop(mem, &pgd, syms[i].vaddr, &pa);
		if (err == &vf_error_nomem)
			return err;
		if (err) {
			if (!r->first_fail)
				r->first_fail = vf_error_prefix(err, "%s", syms[i].key);
			else
				vf_error_destroy(err);
			continue;
		}
		uint64_t pb = pa - (syms[i].vaddr - x86->kimage_base);
		if (&syms[i] == phys_base_sym) {
			var_mapped = true;
			var_paddr = pa;
		}
		if (!r->have) {
			r->have = true;
			r->phys_base = pb;
			r->first = &syms[i];
			r->first_paddr = pa;
		} else if (pb == r->phys_base) {
			r->agree[r->nagree++] = &syms[i];
		} else {
			return vf_error_set_hint(
				vf_error_create(VF_ERR_CORRUPT, "through the page tables at CR3 "
						"0x%" PRIx64 " (CPU %zu, %s), %s=0x%" PRIx64 " is at "
						"0x%" PRIx64 " (phys_base 0x%" PRIx64 ") but %s=0x%"
						PRIx64 " is at 0x%" PRIx64 " (phys_base 0x%" PRIx64
						")", root, cpu, paging_name(la57), r->first->key,
						r->first->vaddr, r->first_paddr, r->phys_base,
						syms[i].key, syms[i].vaddr, pa, pb),
				"the kernel image is mapped linearly, so these must agree: the "
				"page tables are damaged, or VMCOREINFO is not this kernel's");
		}
	}
	if (var_mapped && r->have) {
		uint8_t b[8];
		struct vf_error *err = vf_mem_read(mem, var_paddr, b, sizeof(b));
		if (err == &vf_error_nomem)
			return err;
		if (err) {
			vf_error_destroy(err);  /* unread: no evidence either way */
		} else {
			r->var_value = vf_load_uint(b, 8, false);
			r->var_paddr = var_paddr;
			r->var = r->var_value == r->phys_base ? 1 : -1;
		}
	}
	if (r->var < 0)
		return vf_error_set_hint(
			vf_error_paddr(VF_ERR_CORRUPT, r->var_paddr, "the kernel's phys_base "
				       "variable holds 0x%" PRIx64 ", but the page tables at CR3 "
				       "0x%" PRIx64 " (CPU %zu) map %s=0x%" PRIx64 " at 0x%"
				       PRIx64 ", which means phys_base 0x%" PRIx64, r->var_value,
				       root, cpu, r->first->key, r->first->vaddr, r->first_paddr,
				       r->phys_base),
			"the page tables or that memory are damaged, or VMCOREINFO is not "
			"this kernel's");
	return NULL;
}

static void how_line(struct line *l, const struct root_result *best, bool la57,
		     size_t other_cpus, size_t skipped_cpus)
{
	line_add(l, "translated %s=0x%" PRIx64 " through CPU %zu's page tables (CR3 0x%" PRIx64
		 "%s, %s) to 0x%" PRIx64, best->first->key, best->first->vaddr, best->cpu,
		 best->root, best->kpti_kernel ? ", the kernel half of a PTI user CR3" : "",
		 paging_name(la57), best->first_paddr);
	if (best->nagree) {
		line_add(l, "; agrees with");
		size_t shown = best->nagree < 3 ? best->nagree : 3;
		for (size_t i = 0; i < shown; i++)
			line_add(l, "%s %s", i ? "," : "", best->agree[i]->key);
		if (best->nagree > shown)
			line_add(l, " and %zu more symbol%s", best->nagree - shown,
				 best->nagree - shown == 1 ? "" : "s");
	}
	if (best->var > 0)
		line_add(l, "; the kernel's phys_base variable at 0x%" PRIx64 " holds the same",
			 best->var_paddr);
	if (other_cpus)
		line_add(l, "; %zu other page table%s agree%s", other_cpus,
			 other_cpus == 1 ? "" : "s", other_cpus == 1 ? "s" : "");
	if (skipped_cpus)
		line_add(l, "; %zu CPU%s without usable paging skipped", skipped_cpus,
			 skipped_cpus == 1 ? "" : "s");
}

/* What the walk over the CPUs' page tables has found so far. */
struct walk {
	const struct sym *syms;
	size_t nsyms;
	const struct sym *pb_sym;   /* SYMBOL(phys_base) among syms, or NULL */
	struct root_result best;    /* the first root with two agreeing sources */
	bool best_la57;
	uint64_t seen[MAX_ROOTS];   /* roots walked, the paging mode in bit 0 */
	size_t nseen, usable, nskipped, others, nfails;
	struct line skipped, fails; /* why CPUs were skipped, why roots gave no answer */
};

/* The symbols to translate, or why no page-table walk can give an answer. */
static struct vf_error *walk_inputs(const struct vf_vmcoreinfo *vmci, size_t ncpus,
				    struct sym *syms, struct walk *w)
{
	if (!vmci)
		return vf_error_create(VF_ERR_NOT_FOUND, "no VMCOREINFO to name kernel symbols "
				       "for the page-table walk");
	size_t nsyms = collect_symbols(vmci, syms);
	if (nsyms == 0)
		return vf_error_create(VF_ERR_NOT_FOUND, "VMCOREINFO names no kernel-image "
				       "symbol (SYMBOL(_stext), SYMBOL(init_uts_ns), ...) to "
				       "translate through the page tables");
	const struct sym *pb_sym = NULL;
	for (size_t i = 0; i < nsyms; i++)
		if (strcmp(syms[i].key, "SYMBOL(phys_base)") == 0)
			pb_sym = &syms[i];
	if (nsyms == 1 && !pb_sym)
		return vf_error_set_hint(vf_error_create(VF_ERR_NOT_FOUND, "VMCOREINFO names only "
							 "one kernel-image symbol, %s: a page-"
							 "table answer needs a second source to "
							 "confirm it", syms[0].key),
					 "give a VMCOREINFO with more SYMBOL(...) lines (the "
					 "guest's own), or give phys_base another way");
	if (ncpus == 0)
		return vf_error_set_hint(vf_error_create(VF_ERR_NOT_FOUND, "the dump has no QEMU "
							 "CPU notes (name \"QEMU\", type 0), so "
							 "no CR3 to walk page tables from"),
					 "dumps from QEMU's dump-guest-memory have one per "
					 "vCPU; give phys_base another way");
	w->syms = syms;
	w->nsyms = nsyms;
	w->pb_sym = pb_sym;
	return NULL;
}

static void note_skipped(struct walk *w, const struct vf_x86_cpu *cpu, const char *why)
{
	if (w->nskipped < MAX_LISTED)
		line_add(&w->skipped, "%sCPU %zu: %s", w->nskipped ? "; " : "", cpu->index, why);
	else if (w->nskipped == MAX_LISTED)
		line_add(&w->skipped, "; ...");
	w->nskipped++;
}

/* True the first time a root comes up in this paging mode. */
static bool first_sight(struct walk *w, uint64_t root, bool la57)
{
	for (size_t i = 0; i < w->nseen; i++)
		if (w->seen[i] == (root | la57))
			return false;
	w->seen[w->nseen++] = root | la57;
	return true;
}

/* try_root on a CPU's CR3.  A user CR3 under KPTI maps little of the kernel;
 * its kernel twin is 4 KiB below.  Only a guess, so its disagreement is not
 * fatal.  r->first_fail is the caller's to destroy, also on error. */
static struct vf_error *walk_cpu(struct vf_mem *mem, const struct walk *w, uint64_t root,
				 bool la57, size_t cpu, struct root_result *r)
{
	struct vf_error *err = try_root(mem, root, la57, cpu, w->syms, w->nsyms, w->pb_sym, r);
	if (err || evidence(r) >= 2 || !(root & VF_X86_CR3_PTI_USER))
		return err;
	struct root_result k;
	struct vf_error *kerr = try_root(mem, root & ~VF_X86_CR3_PTI_USER, la57, cpu, w->syms,
					 w->nsyms, w->pb_sym, &k);
	if (kerr == &vf_error_nomem) {
		vf_error_destroy(k.first_fail);
		return kerr;
	}
	if (!kerr && evidence(&k) >= 2) {
		vf_error_destroy(r->first_fail);
		*r = k;
		r->kpti_kernel = true;
		return NULL;
	}
	vf_error_destroy(kerr);
	vf_error_destroy(k.first_fail);
	return NULL;
}

/* Why a root gave no confirmed phys_base, for the error if no root does. */
static void note_unconfirmed(struct walk *w, const struct root_result *r)
{
	const char *sep = w->fails.s ? "; " : "";
	if (w->nfails == MAX_LISTED)
		line_add(&w->fails, "; ...");
	else if (w->nfails < MAX_LISTED && !r->have)
		line_add(&w->fails, "%sCPU %zu (CR3 0x%" PRIx64 "): %s", sep, r->cpu, r->root,
			 r->first_fail ? r->first_fail->message : "nothing translates");
	else if (w->nfails < MAX_LISTED)
		line_add(&w->fails, "%sCPU %zu (CR3 0x%" PRIx64 "): only %s translates "
			 "(phys_base 0x%" PRIx64 "), nothing confirms it", sep, r->cpu, r->root,
			 r->first->key, r->phys_base);
	w->nfails++;
}

/* Keep a confirmed answer, or say how it contradicts the one kept. */
static struct vf_error *take_answer(struct walk *w, const struct root_result *r, bool la57)
{
	if (!w->best.have) {
		w->best = *r;
		w->best_la57 = la57;
		return NULL;
	}
	if (r->phys_base == w->best.phys_base) {
		w->others++;
		return NULL;
	}
	return vf_error_set_hint(
		vf_error_create(VF_ERR_CORRUPT, "CPU %zu's page tables (CR3 0x%" PRIx64 ") give "
				"phys_base 0x%" PRIx64 ", CPU %zu's (CR3 0x%" PRIx64 ") give 0x%"
				PRIx64, w->best.cpu, w->best.root, w->best.phys_base, r->cpu,
				r->root, r->phys_base),
		"all CPUs share the kernel's mapping, so these must agree: the dump's "
		"memory or CPU notes are damaged");
}

/* Walk each distinct usable root once; stop at the first contradiction. */
static struct vf_error *walk_cpus(struct vf_mem *mem, const struct vf_x86_cpu *cpus,
				  size_t ncpus, struct walk *w)
{
	for (size_t c = 0; c < ncpus && w->nseen < MAX_ROOTS; c++) {
		const char *why = vf_x86_cpu_unusable(&cpus[c]);
		if (why) {
			note_skipped(w, &cpus[c], why);
			continue;
		}
		w->usable++;
		bool la57 = (cpus[c].cr4 & VF_X86_CR4_LA57) != 0;
		uint64_t root = cpus[c].cr3 & VF_X86_CR3_ADDR;
		if (!first_sight(w, root, la57))
			continue;
		struct root_result r;
		struct vf_error *err = walk_cpu(mem, w, root, la57, cpus[c].index, &r);
		if (!err && evidence(&r) < 2)
			note_unconfirmed(w, &r);
		vf_error_destroy(r.first_fail);
		r.first_fail = NULL;
		if (!err && evidence(&r) >= 2)
			err = take_answer(w, &r, la57);
		if (err)
			return err;
	}
	return NULL;
}

static struct vf_error *no_answer(const struct walk *w)
{
	if (w->usable == 0)
		return vf_error_set_hint(
			vf_error_create(VF_ERR_NOT_FOUND, "no CPU note has usable paging (%s)",
					w->skipped.s ? w->skipped.s : "?"),
			"the guest was stopped before its kernel enabled paging (firmware, "
			"boot loader, early boot): its page tables cannot give phys_base");
	return vf_error_set_hint(
		vf_error_create(VF_ERR_NOT_FOUND, "no CPU's page tables give two agreeing "
				"sources for phys_base (%s)", w->fails.s ? w->fails.s : "?"),
		"a second kernel-image symbol, or the kernel's phys_base variable, must "
		"confirm the first: the page tables or kernel image pages may be missing or "
		"damaged; give phys_base another way");
}

struct vf_error *vf_x86_phys_base_derive(struct vf_mem *mem, const struct vf_x86_cpu *cpus,
					 size_t ncpus, const struct vf_vmcoreinfo *vmci,
					 uint64_t *phys_base, char **how)
{
	*how = NULL;
	struct sym syms[MAX_SYMBOLS];
	struct walk w = { 0 };
	struct vf_error *err = walk_inputs(vmci, ncpus, syms, &w);
	if (err)
		return err;
	err = walk_cpus(mem, cpus, ncpus, &w);
	if (!err && !w.best.have)
		err = no_answer(&w);
	if (!err) {
		struct line l = { 0 };
		how_line(&l, &w.best, w.best_la57, w.others, w.nskipped);
		if (l.failed || !l.s) {
			free(l.s);
			err = &vf_error_nomem;
		} else {
			*phys_base = w.best.phys_base;
			*how = l.s;
		}
	}
	if (!err && (w.skipped.failed || w.fails.failed))
		err = &vf_error_nomem;
	if (err && *how) {
		free(*how);
		*how = NULL;
	}
	free(w.skipped.s);
	free(w.fails.s);
	return err;
}

struct vf_error *vf_x86_phys_base_from_pgtables(const struct vf_dump *dump,
						const struct vf_vmcoreinfo *vmci,
						uint64_t *phys_base, char **how)
{
	*how = NULL;
	const struct vf_arch *a = vf_arch_by_em(dump->e_machine);
	if (!a || !a->has_page_tables)
		return vf_error_create(VF_ERR_UNSUPPORTED, "phys_base from page tables is for "
				       "x86_64 guests; this dump is %s",
				       dump->machine_name ? dump->machine_name : "another machine");
	struct vf_x86_cpu *cpus;
	size_t n;
	struct vf_error *err = vf_qemu_cpu_states(dump, &cpus, &n);
	if (err)
		return err;
	err = vf_x86_phys_base_derive((struct vf_mem *)&dump->mem, cpus, n, vmci, phys_base,
				      how);
	free(cpus);
	return err ? vf_error_prefix(err, "phys_base from the guest's page tables") : NULL;
}
