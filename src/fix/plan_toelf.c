/* plan_toelf.c - a kdump dump, or a saved VM state (guest/migdump.h), planned
 * as a new ELF dump of its memory.
 *
 * Output layout: ELF header, program headers right after it (PT_NOTE, the
 * kernel image's PT_LOADs, then one PT_LOAD per run of pages the kdump
 * holds, vaddr = paddr as QEMU writes them), the notes, then the runs'
 * bytes from the first dump-page boundary after the notes, one after the
 * other.  The writer copies the runs through the dump's reader (each page
 * decompressed); the header region is the plan's one patch. */
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

/* Program headers at most: below PN_XNUM, with room for the note and the
 * kernel image's pieces. */
#define TOELF_RUNS_MAX 60000u

/* The runs of pages the dump holds, in address order, through its reader's
 * next_data (a kdump's second bitmap, and its first). */
static struct vf_error *find_runs(const struct vf_dump *d, struct vf_plan *plan)
{
	const struct vf_mem *m = &d->mem;
	size_t cap = 0;
	for (size_t i = 0; i < m->nranges; i++) {
		uint64_t a = m->ranges[i].start, end = m->ranges[i].start + m->ranges[i].size;
		while (a < end) {
			uint64_t dend = UINT64_MAX;
			uint64_t nd = m->ops->next_data(m->ctx, a, &dend);
			if (nd == UINT64_MAX || nd >= end)
				break;
			if (dend == UINT64_MAX || dend <= nd)
				return vf_error_create(VF_ERR_CORRUPT, "the dump's bitmaps cannot "
						       "be read at physical address 0x%" PRIx64, nd);
			if (dend > end)
				dend = end;
			if (plan->nruns == TOELF_RUNS_MAX)
				return vf_error_create(VF_ERR_UNSUPPORTED, "more than %u runs of "
						       "pages: an ELF dump of them would need more "
						       "program headers than supported", TOELF_RUNS_MAX);
			if (plan->nruns == cap) {
				cap = cap ? 2 * cap : 64;
				struct vf_plan_run *r = realloc(plan->runs, cap * sizeof(*r));
				if (!r)
					return &vf_error_nomem;
				plan->runs = r;
			}
			plan->runs[plan->nruns++] = (struct vf_plan_run){ nd, dend - nd, 0 };
			a = dend;
		}
	}
	return NULL;
}

/* The kernel image's PT_LOADs: one for each piece of its physical range a
 * run holds (none when the mapping is not known). */
static size_t image_loads(const struct vf_plan *plan, const struct vf_plan_inputs *in,
			  struct vf_elf_phdr *out)
{
	size_t nk = 0;
	uint64_t kv = in->ktext_vaddr, kpa = in->ktext_paddr, ks = in->ktext_size;
	for (size_t i = 0; ks && i < plan->nruns; i++) {
		const struct vf_plan_run *r = &plan->runs[i];
		uint64_t lo = r->paddr > kpa ? r->paddr : kpa;
		uint64_t hi = r->paddr + r->size < kpa + ks ? r->paddr + r->size : kpa + ks;
		if (lo >= hi)
			continue;
		if (out)
			out[nk] = (struct vf_elf_phdr){ .type = PT_LOAD, .flags = PF_R | PF_W | PF_X,
				.offset = r->offset + (lo - r->paddr), .vaddr = kv + (lo - kpa),
				.paddr = lo, .filesz = hi - lo, .memsz = hi - lo };
		nk++;
	}
	return nk;
}

static void put(uint8_t **p, size_t n, bool be, uint64_t v)
{
	vf_store_uint(*p, n, be, v);
	*p += n;
}

static void encode_ehdr(const struct vf_dump *d, size_t nph, uint8_t *p)
{
	bool be = d->guest_big_endian;
	memcpy(p, ELFMAG, SELFMAG);
	p[EI_CLASS] = ELFCLASS64;
	p[EI_DATA] = be ? ELFDATA2MSB : ELFDATA2LSB;
	p[EI_VERSION] = EV_CURRENT;
	p += EI_NIDENT;
	put(&p, 2, be, ET_CORE); put(&p, 2, be, d->e_machine); put(&p, 4, be, EV_CURRENT);
	put(&p, 8, be, 0); put(&p, 8, be, 64); put(&p, 8, be, 0);   /* entry, phoff, shoff */
	put(&p, 4, be, 0); put(&p, 2, be, 64); put(&p, 2, be, 56);  /* flags, sizes */
	put(&p, 2, be, nph); put(&p, 2, be, 0); put(&p, 2, be, 0); put(&p, 2, be, 0);
}

struct vf_error *vf_plan_to_elf(const struct vf_dump *d, const struct vf_plan_inputs *in,
				struct vf_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	plan->to_elf = true;
	bool saved = d->src->kind == VF_SRC_SAVED;
	if ((d->format != VF_FORMAT_KDUMP && !saved) || d->elf_class != 64)
		return vf_error_create(VF_ERR_UNSUPPORTED, "--output-format elf converts 64-bit "
				       "kdump dumps and saved VM states only");
	if (!d->mem.ops->next_data)
		return vf_error_create(VF_ERR_UNSUPPORTED, "the dump's reader cannot say which "
				       "pages it holds");
	const uint8_t *text;
	uint32_t tlen;
	struct vf_error *err = vf_plan_new_note_text(d, in, &text, &tlen);
	if (!err)
		err = find_runs(d, plan);
	uint64_t nsize = 0, vhdr;
	if (!err)
		err = vf_plan_encode_notes(d, d->guest_big_endian, text, tlen, NULL, &nsize, &vhdr,
					   NULL);
	if (err)
		return err;
	size_t nk = image_loads(plan, in, NULL);
	size_t nph = 1 + nk + plan->nruns;
	uint64_t noff = 64 + 56 * (uint64_t)nph, hsize = noff + nsize;
	if (hsize > (64u << 20))
		return vf_error_create(VF_ERR_UNSUPPORTED, "a header region of %" PRIu64 " bytes "
				       "is larger than supported", hsize);
	uint64_t unit = d->page_size, at = (hsize + unit - 1) / unit * unit;
	for (size_t i = 0; i < plan->nruns; i++) {
		plan->runs[i].offset = at;
		at += plan->runs[i].size;
	}
	plan->out_size = at;
	uint8_t *h = calloc(1, (size_t)hsize);
	struct vf_elf_phdr *kp = calloc(nk ? nk : 1, sizeof(*kp));
	if (!h || !kp) {
		free(h);
		free(kp);
		return &vf_error_nomem;
	}
	encode_ehdr(d, nph, h);
	struct vf_elf_phdr note = { .type = PT_NOTE, .offset = noff, .filesz = nsize,
				    .memsz = nsize };
	vf_plan_encode_phdr(h + 64, true, d->guest_big_endian, &note);
	image_loads(plan, in, kp);
	for (size_t i = 0; i < nk; i++)
		vf_plan_encode_phdr(h + 64 + 56 * (1 + i), true, d->guest_big_endian, &kp[i]);
	const struct vf_arch *a = vf_arch_by_em(d->e_machine);
	for (size_t i = 0; i < plan->nruns; i++) {
		const struct vf_plan_run *r = &plan->runs[i];
		struct vf_elf_phdr ph = { .type = PT_LOAD, .flags = PF_R | PF_W | PF_X,
					  .offset = r->offset, .vaddr = r->paddr, .paddr = r->paddr,
					  .filesz = r->size, .memsz = r->size };
		uint64_t va;
		if (a && a->linear_vaddr && in->vmci && a->linear_vaddr(in->vmci, r->paddr, &va))
			ph.vaddr = va;
		vf_plan_encode_phdr(h + 64 + 56 * (1 + nk + i), true, d->guest_big_endian, &ph);
	}
	free(kp);
	err = vf_plan_encode_notes(d, d->guest_big_endian, text, tlen, h + noff, &nsize, &vhdr,
				   NULL);
	if (err) {
		free(h);
		return err;
	}
	char why[256];
	snprintf(why, sizeof(why), "an ELF dump of the %s's memory: ELF header, %zu program "
		 "headers (PT_NOTE, %zu for the kernel image, %zu runs of %" PRIu64 " bytes of "
		 "pages), %zu notes with VMCOREINFO: %s", saved ? "saved state" : "kdump", nph, nk,
		 plan->nruns,
		 at - (hsize + unit - 1) / unit * unit, (size_t)(d->nnotes - d->vmci_count) + 1,
		 in->note_text && in->note_origin ? in->note_origin : "the dump's");
	return vf_plan_add_bytes(plan, 0, h, (uint32_t)hsize, "ELF header region", why);
}
