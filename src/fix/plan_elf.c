/* plan_elf.c - the ELF planner: the header region rewritten whole. */
#include "config.h"
#include "fix/plan.h"
#include "fix/plan_priv.h"
#include "arch/arch.h"

#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/elfcore.h"
#include "util/cursor.h"

/* ----------------------------------------------------------------- ELF
 * Output layout: ELF header, program headers right after it (PT_NOTE
 * first), all notes (the original ones, then exactly one VMCOREINFO), then
 * the data exactly as in the input, moved by whole 4 KiB blocks when the
 * header region has grown past the first data byte.  Section headers are
 * dropped (a core needs none; QEMU's e_ehsize and layout are what
 * makedumpfile chokes on). */

#define ELF_SHIFT_UNIT 4096u

static void put(uint8_t **p, size_t n, bool be, uint64_t v)
{
	vf_store_uint(*p, n, be, v);
	*p += n;
}

void vf_plan_encode_phdr(uint8_t *p, bool is64, bool be, const struct vf_elf_phdr *ph)
{
	if (is64) {
		put(&p, 4, be, ph->type); put(&p, 4, be, ph->flags); put(&p, 8, be, ph->offset);
		put(&p, 8, be, ph->vaddr); put(&p, 8, be, ph->paddr); put(&p, 8, be, ph->filesz);
		put(&p, 8, be, ph->memsz); put(&p, 8, be, ph->align);
	} else {
		put(&p, 4, be, ph->type); put(&p, 4, be, ph->offset); put(&p, 4, be, ph->vaddr);
		put(&p, 4, be, ph->paddr); put(&p, 4, be, ph->filesz); put(&p, 4, be, ph->memsz);
		put(&p, 4, be, ph->flags); put(&p, 4, be, ph->align);
	}
}

/* The output's header region, as it is computed. */
struct elf_out {
	const struct vf_dump *d;
	bool is64, be;
	size_t ehsz, phsz;
	const uint8_t *vtext;        /* the VMCOREINFO text written */
	uint32_t vlen;
	const char *vsrc;            /* whose it is */
	uint64_t nsize;              /* bytes of notes */
	size_t nother;               /* program headers kept but PT_NOTE */
	const struct vf_elf_phdr *first_note;
	uint64_t data;               /* the first data byte in the input */
	struct vf_elf_phdr *kp;      /* the kernel image's new PT_LOADs */
	size_t nk;
	bool *drop;                  /* input PT_LOADs the new ones replace */
	size_t ndrop;
	size_t nph;
	uint64_t hsize, shift;
	size_t ndropped;             /* notes left out: not rewritable in the guest's order */
	const struct vf_vmcoreinfo *vmci;  /* the note carried (in->vmci) */
};

/* The VMCOREINFO text to write: the one given, else the dump's. */
static struct vf_error *choose_text(const struct vf_dump *d, const struct vf_plan_inputs *in,
				    struct elf_out *o)
{
	o->vtext = in->note_text;
	o->vlen = in->note_len;
	o->vsrc = in->note_origin ? in->note_origin : "the guest's";
	if (!vf_plan_keeps_note(d, in))
		return NULL;
	if (!d->vmci || d->vmci_origin != VF_VMCI_NOTE)
		return vf_plan_no_note();
	o->vtext = d->vmci_note->desc;
	o->vlen = d->vmci_note->descsz;
	o->vsrc = "the dump's";
	return NULL;
}

/* What is kept of the input's program headers, and where its data starts. */
static void scan_phdrs(const struct vf_elf_info *e, struct elf_out *o)
{
	o->data = o->d->src->size;
	for (size_t i = 0; i < e->phnum; i++) {
		const struct vf_elf_phdr *ph = &e->phdrs[i];
		if (ph->type == PT_NOTE) {
			if (!o->first_note)
				o->first_note = ph;
			continue;
		}
		o->nother++;
		if (ph->filesz && ph->offset < o->data)
			o->data = ph->offset;
	}
}

/* The input PT_LOADs inside the kernel image's virtual range are dropped;
 * the bytes of them at the right physical place count as already mapped
 * (all of them, or nothing when one is at another phys_base). */
static uint64_t mark_image_loads(const struct vf_elf_info *e, const struct vf_plan_inputs *in,
				 struct elf_out *o, bool *wrong)
{
	uint64_t kv = in->ktext_vaddr, kpa = in->ktext_paddr, ks = in->ktext_size, have = 0;
	for (size_t i = 0; i < e->phnum; i++) {
		const struct vf_elf_phdr *ph = &e->phdrs[i];
		if (ph->type != PT_LOAD || ph->vaddr < kv || ph->vaddr - kv >= ks)
			continue;
		o->drop[i] = true;
		o->ndrop++;
		if (ph->paddr == kpa + (ph->vaddr - kv))
			have += ph->filesz < ks - (ph->vaddr - kv) ? ph->filesz : ks - (ph->vaddr - kv);
		else
			have = 0, *wrong = true;
	}
	return have;
}

/* The kernel image's PT_LOADs, as /proc/vmcore has them: old tools (and drgn
 * before it reads page tables) translate kernel addresses with them.  One
 * for each piece of the image's physical range that a PT_LOAD holds (a
 * filtered dump has many), so the whole image is mapped; existing ones are
 * replaced unless they already cover every such byte. */
static struct vf_error *kernel_image_loads(const struct vf_elf_info *e,
					   const struct vf_plan_inputs *in, struct elf_out *o)
{
	if (!in->ktext_size || !o->is64)
		return NULL;
	uint64_t kv = in->ktext_vaddr, kpa = in->ktext_paddr, ks = in->ktext_size, want = 0;
	o->drop = calloc(e->phnum ? e->phnum : 1, sizeof(*o->drop));
	o->kp = calloc(e->phnum ? e->phnum : 1, sizeof(*o->kp));
	if (!o->drop || !o->kp)
		return &vf_error_nomem;
	bool wrong = false;
	uint64_t have = mark_image_loads(e, in, o, &wrong);
	for (size_t i = 0; i < e->phnum; i++) {
		const struct vf_elf_phdr *ph = &e->phdrs[i];
		if (ph->type != PT_LOAD || o->drop[i] || !ph->filesz)
			continue;
		uint64_t lo = ph->paddr > kpa ? ph->paddr : kpa;
		uint64_t pend = ph->paddr + ph->filesz < ph->paddr ? UINT64_MAX : ph->paddr + ph->filesz;
		uint64_t hi = pend < kpa + ks ? pend : kpa + ks;
		if (lo >= hi)
			continue;
		o->kp[o->nk++] = (struct vf_elf_phdr){ .type = PT_LOAD, .flags = PF_R | PF_W | PF_X,
			.offset = ph->offset + (lo - ph->paddr), .vaddr = kv + (lo - kpa),
			.paddr = lo, .filesz = hi - lo, .memsz = hi - lo, .align = ph->align };
		want += hi - lo;
	}
	if (!o->nk || (!wrong && have >= want)) {  /* nothing of it here, or already mapped */
		o->nk = 0;
		o->ndrop = 0;
		memset(o->drop, 0, e->phnum * sizeof(*o->drop));
	}
	return NULL;
}

/* The ELF header of the output. */
static void encode_ehdr(const struct vf_elf_info *e, const struct elf_out *o, uint8_t *p)
{
	bool be = o->be;
	memcpy(p, ELFMAG, SELFMAG);
	p[EI_CLASS] = o->is64 ? ELFCLASS64 : ELFCLASS32;
	p[EI_DATA] = be ? ELFDATA2MSB : ELFDATA2LSB;
	p[EI_VERSION] = EV_CURRENT;
	p[EI_OSABI] = e->osabi;
	p += EI_NIDENT;
	size_t w = o->is64 ? 8 : 4;
	put(&p, 2, be, ET_CORE); put(&p, 2, be, e->e_machine); put(&p, 4, be, e->e_version);
	put(&p, w, be, e->e_entry); put(&p, w, be, o->ehsz); put(&p, w, be, 0);
	put(&p, 4, be, e->e_flags); put(&p, 2, be, o->ehsz); put(&p, 2, be, o->phsz);
	/* no section headers; an e_shentsize without any is kept (no reader looks) */
	put(&p, 2, be, o->nph);
	put(&p, 2, be, !e->e_shoff && !e->e_shnum ? e->e_shentsize : 0);
	put(&p, 2, be, 0); put(&p, 2, be, 0);
}

/* The header region: ELF header, PT_NOTE, the kernel image's PT_LOADs, the
 * other program headers (data offsets shifted), the notes. */
static struct vf_error *encode_region(const struct vf_elf_info *e, const struct elf_out *o,
				      uint8_t *h)
{
	encode_ehdr(e, o, h);
	uint64_t noff = o->ehsz + o->nph * o->phsz;
	struct vf_elf_phdr note = { .type = PT_NOTE, .offset = noff, .filesz = o->nsize,
				    .memsz = o->nsize, .flags = o->first_note ? o->first_note->flags : 0,
				    .align = o->first_note ? o->first_note->align : 0 };
	vf_plan_encode_phdr(h + o->ehsz, o->is64, o->be, &note);
	size_t k = 1;
	for (size_t i = 0; i < o->nk; i++) {
		struct vf_elf_phdr ph = o->kp[i];
		ph.offset += o->shift;
		vf_plan_encode_phdr(h + o->ehsz + k++ * o->phsz, o->is64, o->be, &ph);
	}
	const struct vf_arch *a = vf_arch_by_em(o->d->e_machine);
	for (size_t i = 0; i < e->phnum; i++) {
		struct vf_elf_phdr ph = e->phdrs[i];
		if (ph.type == PT_NOTE || (o->drop && o->drop[i]))
			continue;
		if (ph.filesz)
			ph.offset += o->shift;
		/* QEMU's RAM PT_LOADs (vaddr = paddr) at their linear-map addresses,
		 * where the architecture wants them so */
		uint64_t va;
		if (ph.type == PT_LOAD && ph.vaddr == ph.paddr && a && a->linear_vaddr &&
		    o->vmci && a->linear_vaddr(o->vmci, ph.paddr, &va))
			ph.vaddr = va;
		vf_plan_encode_phdr(h + o->ehsz + k++ * o->phsz, o->is64, o->be, &ph);
	}
	uint64_t nsize, vhdr;
	return vf_plan_encode_notes(o->d, o->be, o->vtext, o->vlen, h + noff, &nsize, &vhdr, NULL);
}

/* Is the input's header region already exactly h? */
static struct vf_error *already_so(const struct vf_dump *d, const uint8_t *h, uint64_t hsize,
				   bool *same)
{
	uint8_t *cur = malloc((size_t)hsize);
	if (!cur)
		return &vf_error_nomem;
	struct vf_error *err = vf_src_read(d->src, cur, (size_t)hsize, 0, "ELF headers");
	*same = !err && memcmp(cur, h, (size_t)hsize) == 0;
	free(cur);
	return err;
}

static struct vf_error *add_region_patch(const struct elf_out *o, uint8_t *h, struct vf_plan *plan)
{
	char why[320], kt[64] = "";
	if (o->nk)
		snprintf(kt, sizeof(kt), ", then the kernel image's PT_LOAD%s", o->nk > 1 ? "s" : "");
	if (o->nk > 1)
		snprintf(kt + strlen(kt), sizeof(kt) - strlen(kt), " (%zu pieces)", o->nk);
	char order[128] = "";
	if (o->be != o->d->big_endian)
		snprintf(order, sizeof(order), "; all in the guest's byte order (%s-endian)%s",
			 o->be ? "big" : "little", o->ndropped ? ", CPU notes it cannot rewrite "
			 "left out" : "");
	snprintf(why, sizeof(why), "ELF header, %zu program headers right after it (PT_NOTE "
		 "first%s) and %zu notes before the data%s; VMCOREINFO: %s%s", o->nph, kt,
		 (size_t)(o->d->nnotes - o->d->vmci_count) + 1 - o->ndropped,
		 o->shift ? ", which moves" : "", o->vsrc, order);
	struct vf_error *err = vf_plan_add_bytes(plan, 0, h, (uint32_t)o->hsize,
						 "ELF header region", why);
	if (!err && o->shift) {
		plan->shift_from = o->data;
		plan->shift = o->shift;
	}
	return err;
}

/* The sizes of the output's header region, and whether it can be written. */
static struct vf_error *layout(const struct vf_elf_info *e, const struct vf_plan_inputs *in,
			       struct elf_out *o)
{
	uint64_t vhdr;
	struct vf_error *err = vf_plan_encode_notes(o->d, o->be, o->vtext, o->vlen, NULL, &o->nsize,
						    &vhdr, &o->ndropped);
	if (err)
		return err;
	scan_phdrs(e, o);
	if ((err = kernel_image_loads(e, in, o)))
		return err;
	o->nph = 1 + o->nother - o->ndrop + o->nk;
	o->hsize = o->ehsz + o->nph * o->phsz + o->nsize;
	o->shift = o->hsize <= o->data ? 0 : (o->hsize - o->data + ELF_SHIFT_UNIT - 1) /
					     ELF_SHIFT_UNIT * ELF_SHIFT_UNIT;
	if (o->nph >= PN_XNUM)
		return vf_error_create(VF_ERR_UNSUPPORTED, "rewriting an ELF dump with %zu program "
				       "headers (PN_XNUM) is not implemented yet", o->nph);
	if (o->hsize > (64u << 20))
		return vf_error_create(VF_ERR_UNSUPPORTED, "a header region of %" PRIu64 " bytes "
				       "is larger than supported", o->hsize);
	return NULL;
}

struct vf_error *vf_plan_elf(const struct vf_dump *d, const struct vf_plan_inputs *in,
			     struct vf_plan *plan)
{
	const struct vf_elf_info *e = d->elf;
	if (d->notes_malformed)
		return vf_error_set_hint(vf_error_create(VF_ERR_UNSUPPORTED, "the dump has a "
				"malformed note (%s); rewriting its notes is not implemented",
				d->notes_malformed->message), "vmcore-fix --inspect shows where");
	struct elf_out o = { .d = d, .is64 = d->elf_class == 64, .be = d->guest_big_endian,
			     .vmci = in->vmci };
	o.ehsz = o.is64 ? 64 : 52;
	o.phsz = o.is64 ? 56 : 32;
	uint8_t *h = NULL;
	bool same = false;
	struct vf_error *err = choose_text(d, in, &o);
	if (!err)
		err = layout(e, in, &o);
	if (!err && !(h = calloc(1, (size_t)o.hsize)))
		err = &vf_error_nomem;
	if (!err)
		err = encode_region(e, &o, h);
	if (!err && !o.shift)
		err = already_so(d, h, o.hsize, &same);
	if (!err && !same) {
		err = add_region_patch(&o, h, plan);
		h = NULL;  /* the plan owns it, also on failure */
	}
	free(h);
	free(o.kp);
	free(o.drop);
	return err;
}
