/* plan_elf.c - the ELF planner: the header region rewritten whole. */
#include "config.h"
#include "fix/plan.h"
#include "fix/plan_priv.h"

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

static void encode_phdr(uint8_t *p, bool is64, bool be, const struct vf_elf_phdr *ph)
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

struct vf_error *vf_plan_elf(const struct vf_dump *d, const struct vf_plan_inputs *in,
				 struct vf_plan *plan)
{
	const struct vf_elf_info *e = d->elf;
	bool is64 = d->elf_class == 64, be = d->big_endian;
	size_t ehsz = is64 ? 64 : 52, phsz = is64 ? 56 : 32;

	if (d->notes_malformed)
		return vf_error_set_hint(vf_error_create(VF_ERR_UNSUPPORTED, "the dump has a "
				"malformed note (%s); rewriting its notes is not implemented",
				d->notes_malformed->message), "vmcore-fix --inspect shows where");

	/* the VMCOREINFO text to write: the one given, else the dump's */
	const uint8_t *vtext = in->note_text;
	uint32_t vlen = in->note_len;
	const char *vsrc = in->note_origin ? in->note_origin : "the guest's";
	if (vf_plan_keeps_note(d, in)) {
		if (!d->vmci || d->vmci_origin != VF_VMCI_NOTE)
			return vf_plan_no_note();
		vtext = d->vmci_note->desc;
		vlen = d->vmci_note->descsz;
		vsrc = "the dump's";
	}

	/* notes: every original one but VMCOREINFO, then one VMCOREINFO */
	uint64_t nsize, vhdr;
	struct vf_error *err = vf_plan_encode_notes(d, vtext, vlen, NULL, &nsize, &vhdr);
	if (err)
		return err;
	size_t nother = 0;
	const struct vf_elf_phdr *first_note = NULL;
	uint64_t data = d->src->size;
	for (size_t i = 0; i < e->phnum; i++) {
		const struct vf_elf_phdr *ph = &e->phdrs[i];
		if (ph->type == PT_NOTE) {
			if (!first_note)
				first_note = ph;
			continue;
		}
		nother++;
		if (ph->filesz && ph->offset < data)
			data = ph->offset;
	}
	/* the kernel image's PT_LOADs, as /proc/vmcore has them: old tools (and drgn
	 * before it reads page tables) translate kernel addresses with them.  One
	 * for each piece of the image's physical range that a PT_LOAD holds (a
	 * filtered dump has many), so the whole image is mapped; existing ones are
	 * replaced unless they already cover every such byte. */
	struct vf_elf_phdr *kp = NULL;
	size_t nk = 0, ndrop = 0;
	bool *drop = NULL;
	if (in->ktext_size && is64) {
		uint64_t kv = in->ktext_vaddr, kpa = in->ktext_paddr, ks = in->ktext_size;
		uint64_t have = 0, want = 0;
		bool wrong = false;
		drop = calloc(e->phnum ? e->phnum : 1, sizeof(*drop));
		kp = calloc(e->phnum ? e->phnum : 1, sizeof(*kp));
		if (!drop || !kp) {
			free(drop);
			free(kp);
			return &vf_error_nomem;
		}
		for (size_t i = 0; i < e->phnum; i++) {
			const struct vf_elf_phdr *ph = &e->phdrs[i];
			if (ph->type != PT_LOAD || ph->vaddr < kv || ph->vaddr - kv >= ks)
				continue;
			drop[i] = true;  /* maps the kernel image */
			ndrop++;
			/* at the note's phys_base, or it counts for nothing */
			if (ph->paddr == kpa + (ph->vaddr - kv))
				have += ph->filesz < ks - (ph->vaddr - kv) ? ph->filesz
									    : ks - (ph->vaddr - kv);
			else
				have = 0, wrong = true;
		}
		for (size_t i = 0; i < e->phnum; i++) {
			const struct vf_elf_phdr *ph = &e->phdrs[i];
			if (ph->type != PT_LOAD || drop[i] || !ph->filesz)
				continue;
			uint64_t lo = ph->paddr > kpa ? ph->paddr : kpa;
			uint64_t pend = ph->paddr + ph->filesz < ph->paddr ? UINT64_MAX
							: ph->paddr + ph->filesz;
			uint64_t hi = pend < kpa + ks ? pend : kpa + ks;
			if (lo >= hi)
				continue;
			kp[nk++] = (struct vf_elf_phdr){ .type = PT_LOAD, .flags = PF_R | PF_W | PF_X,
				.offset = ph->offset + (lo - ph->paddr), .vaddr = kv + (lo - kpa),
				.paddr = lo, .filesz = hi - lo, .memsz = hi - lo, .align = ph->align };
			want += hi - lo;
		}
		if (!nk || (!wrong && have >= want)) {  /* nothing of it here, or already mapped */
			nk = 0;
			ndrop = 0;
			memset(drop, 0, e->phnum * sizeof(*drop));
		}
	}
	bool add_ktext = nk != 0;
	size_t nph = 1 + nother - ndrop + nk;
	uint64_t hsize = ehsz + nph * phsz + nsize;
	uint64_t shift = hsize <= data ? 0 : (hsize - data + ELF_SHIFT_UNIT - 1) /
					      ELF_SHIFT_UNIT * ELF_SHIFT_UNIT;
	uint8_t *h = NULL;
	if (nph >= PN_XNUM)
		err = vf_error_create(VF_ERR_UNSUPPORTED, "rewriting an ELF dump with %zu program "
				      "headers (PN_XNUM) is not implemented yet", nph);
	else if (hsize > (64u << 20))
		err = vf_error_create(VF_ERR_UNSUPPORTED, "a header region of %" PRIu64 " bytes "
				      "is larger than supported", hsize);
	else if (!(h = calloc(1, (size_t)hsize)))
		err = &vf_error_nomem;
	if (err) {
		free(kp);
		free(drop);
		return err;
	}
	uint8_t *p = h;
	memcpy(p, ELFMAG, SELFMAG);
	p[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
	p[EI_DATA] = be ? ELFDATA2MSB : ELFDATA2LSB;
	p[EI_VERSION] = EV_CURRENT;
	p[EI_OSABI] = e->osabi;
	p += EI_NIDENT;
	size_t w = is64 ? 8 : 4;
	put(&p, 2, be, ET_CORE); put(&p, 2, be, e->e_machine); put(&p, 4, be, e->e_version);
	put(&p, w, be, e->e_entry); put(&p, w, be, ehsz); put(&p, w, be, 0);
	put(&p, 4, be, e->e_flags); put(&p, 2, be, ehsz); put(&p, 2, be, phsz);
	/* no section headers; an e_shentsize without any is kept (no reader looks) */
	put(&p, 2, be, nph);
	put(&p, 2, be, !e->e_shoff && !e->e_shnum ? e->e_shentsize : 0);
	put(&p, 2, be, 0); put(&p, 2, be, 0);

	uint64_t noff = ehsz + nph * phsz;
	struct vf_elf_phdr note = { .type = PT_NOTE, .offset = noff, .filesz = nsize,
				    .memsz = nsize, .flags = first_note ? first_note->flags : 0,
				    .align = first_note ? first_note->align : 0 };
	encode_phdr(h + ehsz, is64, be, &note);
	size_t k = 1;
	for (size_t i = 0; i < nk; i++) {
		kp[i].offset += shift;
		encode_phdr(h + ehsz + k++ * phsz, is64, be, &kp[i]);
	}
	for (size_t i = 0; i < e->phnum; i++) {
		struct vf_elf_phdr ph = e->phdrs[i];
		if (ph.type == PT_NOTE || (drop && drop[i]))
			continue;
		if (ph.filesz)
			ph.offset += shift;
		encode_phdr(h + ehsz + k++ * phsz, is64, be, &ph);
	}
	free(kp);
	free(drop);
	/* sized above: the same notes encode the same way */
	if ((err = vf_plan_encode_notes(d, vtext, vlen, h + noff, &nsize, &vhdr))) {
		free(h);
		return err;
	}

	/* already so? then nothing to write */
	if (!shift) {
		uint8_t *cur = malloc((size_t)hsize);
		if (!cur) {
			free(h);
			return &vf_error_nomem;
		}
		err = vf_src_read(d->src, cur, (size_t)hsize, 0, "ELF headers");
		bool same = !err && memcmp(cur, h, (size_t)hsize) == 0;
		free(cur);
		if (err || same) {
			free(h);
			return err;
		}
	}

	char why[320], kt[64] = "";
	if (add_ktext)
		snprintf(kt, sizeof(kt), ", then the kernel image's PT_LOAD%s", nk > 1 ? "s" : "");
	if (nk > 1)
		snprintf(kt + strlen(kt), sizeof(kt) - strlen(kt), " (%zu pieces)", nk);
	snprintf(why, sizeof(why), "ELF header, %zu program headers right after it (PT_NOTE "
		 "first%s) and %zu notes before the data%s; VMCOREINFO: %s", nph, kt,
		 (size_t)(d->nnotes - d->vmci_count) + 1, shift ? ", which moves" : "",
		 vsrc);
	err = vf_plan_add_bytes(plan, 0, h, (uint32_t)hsize, "ELF header region", why);
	if (err)
		return err;
	if (shift) {
		plan->shift_from = data;
		plan->shift = shift;
	}
	return NULL;
}

