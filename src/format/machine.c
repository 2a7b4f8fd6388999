/* machine.c - decide the dumped machine from the dump's content. */
#include "config.h"
#include "format/machine.h"
#include "format/elfcore.h"
#include "format/kdump.h"

#include <elf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/dump.h"
#include "util/vmcoreinfo.h"

#ifndef EM_RISCV
#define EM_RISCV 243
#endif

static const char *const x86_64_keys[] = { "NUMBER(phys_base)", "SYMBOL(init_top_pgt)",
					   "NUMBER(pgtable_l5_enabled)", NULL };
static const char *const aarch64_keys[] = { "NUMBER(kimage_voffset)", "NUMBER(PHYS_OFFSET)",
					    "NUMBER(TCR_EL1_T1SZ)", NULL };
static const char *const s390x_keys[] = { "SYMBOL(lowcore_ptr)", "SAMODE31", "IDENTITYBASE",
					  NULL };
static const char *const ppc64_keys[] = { "SYMBOL(mmu_psize_defs)", "SYMBOL(vmemmap_list)",
					  "NUMBER(RADIX_MMU)", NULL };
static const char *const riscv64_keys[] = { "NUMBER(phys_ram_base)", "NUMBER(KERNEL_LINK_ADDR)",
					    NULL };
static const char *const none_keys[] = { NULL };

/* sizeof(struct elf_prstatus): the common part (112 bytes on 64-bit, 72 on
 * 32-bit), the architecture's elf_gregset_t, pr_fpvalid and padding. */
static const struct vf_arch arches[] = {
	{ EM_X86_64, "x86_64", 64, 0, 336, "NUMBER(phys_base)", x86_64_keys },
	{ EM_AARCH64, "aarch64", 64, 0, 392, "NUMBER(PHYS_OFFSET)", aarch64_keys },
	{ EM_S390, "s390x", 64, 1, 336, NULL, s390x_keys },
	{ EM_PPC64, "ppc64le", 64, -1, 504, NULL, ppc64_keys },
	{ EM_RISCV, "riscv64", 64, 0, 376, NULL, riscv64_keys },
	{ EM_386, "i686", 32, 0, 144, NULL, none_keys },
	{ EM_ARM, "armv7l", 32, 0, 148, NULL, none_keys },
};

const struct vf_arch *vf_arch_by_em(uint16_t em)
{
	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++)
		if (arches[i].em == em)
			return &arches[i];
	return NULL;
}

const char *vf_arch_uts_machine(const struct vf_dump *dump)
{
	const struct vf_arch *a = vf_arch_by_em(dump->e_machine);
	if (!a)
		return NULL;
	if (a->em == EM_PPC64 && dump->big_endian)
		return "ppc64";
	return a->uts_machine;
}

#define VOTES_MAX 16

struct votes {
	struct {
		uint16_t em;
		char what[96];
	} v[VOTES_MAX];
	size_t n;
};

static void vote(struct votes *vs, uint16_t em, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void vote(struct votes *vs, uint16_t em, const char *fmt, ...)
{
	if (vs->n == VOTES_MAX)
		return;
	vs->v[vs->n].em = em;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(vs->v[vs->n].what, sizeof(vs->v[vs->n].what), fmt, ap);
	va_end(ap);
	vs->n++;
}

/* The CPU-register notes: their size names the architecture (x86_64 and
 * s390x share 336 bytes; the byte order tells them apart). */
static void vote_prstatus(struct votes *vs, const struct vf_dump *d)
{
	uint32_t size = 0;
	size_t count = 0;
	bool mixed = false;
	for (size_t i = 0; i < d->nnotes; i++) {
		const struct vf_note *n = &d->notes[i];
		if (n->type != NT_PRSTATUS || strcmp(n->name, "CORE") != 0)
			continue;
		if (count && n->descsz != size)
			mixed = true;
		size = n->descsz;
		count++;
	}
	if (!count)
		return;
	if (mixed) {
		vote(vs, EM_NONE, "NT_PRSTATUS notes of different sizes");
		return;
	}
	size_t matches = 0;
	uint16_t em = EM_NONE;
	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++) {
		const struct vf_arch *a = &arches[i];
		if (a->prstatus_size != size || a->word_bits != d->elf_class)
			continue;
		if (a->big_endian >= 0 && a->big_endian != (int)d->big_endian)
			continue;
		em = a->em;
		matches++;
	}
	vote(vs, matches == 1 ? em : EM_NONE, "%zu NT_PRSTATUS note%s of %" PRIu32 " bytes",
	     count, count == 1 ? "" : "s", size);
}

/* Notes only one architecture's QEMU (or kernel) writes. */
static void vote_arch_notes(struct votes *vs, const struct vf_dump *d)
{
	bool qemu = false, s390 = false, ppc = false, arm = false;
	for (size_t i = 0; i < d->nnotes; i++) {
		const struct vf_note *n = &d->notes[i];
		if (n->type == 0 && strcmp(n->name, "QEMU") == 0)
			qemu = true;  /* QEMUCPUState: target/i386 only */
		else if (n->type >= 0x300 && n->type < 0x320 &&
			 (!strcmp(n->name, "CORE") || !strcmp(n->name, "LINUX")))
			s390 = true;  /* NT_S390_* */
		else if (n->type >= 0x100 && n->type < 0x110 && !strcmp(n->name, "LINUX"))
			ppc = true;   /* NT_PPC_* */
		else if (n->type >= 0x400 && n->type < 0x420 && !strcmp(n->name, "LINUX"))
			arm = true;   /* NT_ARM_* */
	}
	if (qemu)
		vote(vs, d->elf_class == 64 ? EM_X86_64 : EM_386, "QEMU's x86 CPU-state notes");
	if (s390)
		vote(vs, EM_S390, "s390 register notes (NT_S390_*)");
	if (ppc)
		vote(vs, EM_PPC64, "POWER register notes (NT_PPC_*)");
	if (arm)
		vote(vs, EM_AARCH64, "arm64 register notes (NT_ARM_*)");
}

static void vote_keys(struct votes *vs, const struct vf_vmcoreinfo *v, const char *whose)
{
	if (!v)
		return;
	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++) {
		for (const char *const *k = arches[i].keys; *k; k++) {
			if (!vf_vmcoreinfo_get(v, *k))
				continue;
			vote(vs, arches[i].em, "%s VMCOREINFO key %s", whose, *k);
			break;
		}
	}
}

static const char *em_name(uint16_t em)
{
	const char *n = vf_machine_name(em);
	return n ? n : "an unknown machine";
}

struct vf_error *vf_machine_detect(struct vf_dump *dump, const struct vf_vmcoreinfo *extra)
{
	struct votes vs = { .n = 0 };
	if (dump->format == VF_FORMAT_ELF && dump->elf)
		vote(&vs, dump->elf->e_machine, "ELF e_machine %u", dump->elf->e_machine);
	vote_prstatus(&vs, dump);
	vote_arch_notes(&vs, dump);
	vote_keys(&vs, dump->vmci, "the dump's");
	if (extra && extra != dump->vmci)
		vote_keys(&vs, extra, "the guest's");
	/* The kdump header's string counts only when nothing else speaks. */
	if (vs.n == 0 && dump->format == VF_FORMAT_KDUMP && dump->kdump) {
		uint16_t em = vf_machine_from_name(dump->kdump->utsname[4]);
		if (em != EM_NONE) {
			vote(&vs, em, "the kdump header's utsname.machine \"%s\" alone",
			     dump->kdump->utsname[4]);
		}
	}

	free(dump->machine_how);
	free(dump->machine_conflict);
	dump->machine_how = NULL;
	dump->machine_conflict = NULL;
	dump->e_machine = EM_NONE;
	dump->machine_name = NULL;

	uint16_t em = EM_NONE;
	bool conflict = false;
	for (size_t i = 0; i < vs.n; i++) {
		if (vs.v[i].em == EM_NONE) {
			conflict = true;
			continue;
		}
		if (em == EM_NONE)
			em = vs.v[i].em;
		else if (vs.v[i].em != em)
			conflict = true;
	}
	const struct vf_arch *a = vf_arch_by_em(em);
	if (a && !conflict && a->word_bits != dump->elf_class) {
		conflict = true;
		vote(&vs, EM_NONE, "a %d-bit layout", dump->elf_class);
	}
	if (a && !conflict && a->big_endian >= 0 && a->big_endian != (int)dump->big_endian) {
		conflict = true;
		vote(&vs, EM_NONE, "%s-endian data", dump->big_endian ? "big" : "little");
	}

	/* "x86_64 (ELF e_machine 62, 1 NT_PRSTATUS note of 336 bytes, ...)" */
	size_t cap = 64;
	for (size_t i = 0; i < vs.n; i++)
		cap += strlen(vs.v[i].what) + 32;
	char *s = malloc(cap);
	if (!s)
		return &vf_error_nomem;
	size_t len = 0;
	s[0] = '\0';
	for (size_t i = 0; i < vs.n; i++) {
		int w;
		if (conflict)
			w = snprintf(s + len, cap - len, "%s%s says %s", i ? "; " : "", vs.v[i].what,
				     vs.v[i].em == EM_NONE ? "no known machine" : em_name(vs.v[i].em));
		else
			w = snprintf(s + len, cap - len, "%s%s", i ? ", " : "", vs.v[i].what);
		if (w > 0)
			len += (size_t)w < cap - len ? (size_t)w : cap - len - 1;
	}
	if (conflict) {
		dump->machine_conflict = s;
		return NULL;
	}
	if (em == EM_NONE) {
		free(s);
		return NULL;  /* nothing says: unknown */
	}
	dump->e_machine = em;
	dump->machine_name = vf_machine_name(em);
	dump->machine_how = s;
	return NULL;
}
