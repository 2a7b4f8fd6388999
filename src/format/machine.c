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

#include "arch/arch.h"
#include "format/dump.h"
#include "util/vmcoreinfo.h"

const char *vf_arch_uts_machine(const struct vf_dump *dump)
{
	const struct vf_arch *a = vf_arch_by_em(dump->e_machine);
	return a ? vf_arch_uts_name(a, dump->big_endian) : NULL;
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
	for (size_t i = 0; i < vf_arch_count(); i++) {
		const struct vf_arch *a = vf_arch_at(i);
		/* a machine of either word size (word_bits 0) has no one size */
		if (!a->prstatus_size || a->prstatus_size != size || a->word_bits != d->elf_class ||
		    !vf_arch_fits(a, d->elf_class, d->big_endian))
			continue;
		em = a->em;
		matches++;
	}
	vote(vs, matches == 1 ? em : EM_NONE, "%zu NT_PRSTATUS note%s of %" PRIu32 " bytes",
	     count, count == 1 ? "" : "s", size);
}

static bool claims(const struct vf_arch *a, const struct vf_dump *d)
{
	if (!a->own_note)
		return false;
	for (size_t i = 0; i < d->nnotes; i++)
		if (a->own_note(&d->notes[i]))
			return true;
	return false;
}

/* Does another architecture of the dump's word size claim the same notes
 * (QEMU's x86 CPU-state notes: i386 and x86_64)? */
static bool fitting_twin_claims(const struct vf_arch *a, const struct vf_dump *d)
{
	for (size_t i = 0; i < vf_arch_count(); i++) {
		const struct vf_arch *b = vf_arch_at(i);
		if (b != a && b->own_notes_what && strcmp(b->own_notes_what, a->own_notes_what) == 0 &&
		    b->word_bits == d->elf_class && claims(b, d))
			return true;
	}
	return false;
}

/* Notes only one architecture's QEMU (or kernel) writes.  Notes two claim
 * go to the one of the dump's word size. */
static void vote_arch_notes(struct votes *vs, const struct vf_dump *d)
{
	for (size_t i = 0; i < vf_arch_count(); i++) {
		const struct vf_arch *a = vf_arch_at(i);
		if (!claims(a, d))
			continue;
		if (a->word_bits != d->elf_class && fitting_twin_claims(a, d))
			continue;
		vote(vs, a->em, "%s", a->own_notes_what);
	}
}

static void vote_keys(struct votes *vs, const struct vf_vmcoreinfo *v, const char *whose)
{
	if (!v)
		return;
	for (size_t i = 0; i < vf_arch_count(); i++) {
		const struct vf_arch *a = vf_arch_at(i);
		for (const char *const *k = a->keys; k && *k; k++) {
			if (!vf_vmcoreinfo_get(v, *k))
				continue;
			vote(vs, a->em, "%s VMCOREINFO key %s", whose, *k);
			break;
		}
	}
}

static const char *em_name(uint16_t em)
{
	const char *n = vf_arch_name(em);
	return n ? n : "an unknown machine";
}

/* Everything in the dump (and the guest's note, extra) that names a machine. */
static void collect_votes(struct votes *vs, const struct vf_dump *dump,
			  const struct vf_vmcoreinfo *extra)
{
	if (dump->format == VF_FORMAT_ELF && dump->elf)
		vote(vs, dump->elf->e_machine, "ELF e_machine %u", dump->elf->e_machine);
	vote_prstatus(vs, dump);
	vote_arch_notes(vs, dump);
	vote_keys(vs, dump->vmci, "the dump's");
	if (extra && extra != dump->vmci)
		vote_keys(vs, extra, "the guest's");
	/* The kdump header's string counts only when nothing else speaks. */
	if (vs->n == 0 && dump->format == VF_FORMAT_KDUMP && dump->kdump) {
		uint16_t em = vf_arch_em_by_uts(dump->kdump->utsname[4]);
		if (em != EM_NONE) {
			vote(vs, em, "the kdump header's utsname.machine \"%s\" alone",
			     dump->kdump->utsname[4]);
		}
	}
}

/* The one machine all votes name (EM_NONE: none does), or a conflict: votes
 * that disagree, or a machine whose word size or byte order the dump has not
 * (which is then a vote of its own). */
static bool count_votes(struct votes *vs, const struct vf_dump *dump, uint16_t *em_out)
{
	uint16_t em = EM_NONE;
	bool conflict = false;
	for (size_t i = 0; i < vs->n; i++) {
		if (vs->v[i].em == EM_NONE) {
			conflict = true;
			continue;
		}
		if (em == EM_NONE)
			em = vs->v[i].em;
		else if (vs->v[i].em != em)
			conflict = true;
	}
	const struct vf_arch *a = vf_arch_by_em(em);
	if (a && !conflict && a->word_bits && a->word_bits != dump->elf_class) {
		conflict = true;
		vote(vs, EM_NONE, "a %d-bit layout", dump->elf_class);
	}
	if (a && !conflict && a->big_endian >= 0 && a->big_endian != (int)dump->big_endian) {
		conflict = true;
		vote(vs, EM_NONE, "%s-endian data", dump->big_endian ? "big" : "little");
	}
	*em_out = em;
	return conflict;
}

/* "ELF e_machine 62, 1 NT_PRSTATUS note of 336 bytes, ..." or, for a
 * conflict, what each says; malloc'd, NULL when out of memory. */
static char *describe_votes(const struct votes *vs, bool conflict)
{
	size_t cap = 64;
	for (size_t i = 0; i < vs->n; i++)
		cap += strlen(vs->v[i].what) + 32;
	char *s = malloc(cap);
	if (!s)
		return NULL;
	size_t len = 0;
	s[0] = '\0';
	for (size_t i = 0; i < vs->n; i++) {
		uint16_t em = vs->v[i].em;
		int w;
		if (conflict)
			w = snprintf(s + len, cap - len, "%s%s says %s", i ? "; " : "", vs->v[i].what,
				     em == EM_NONE ? "no known machine" : em_name(em));
		else
			w = snprintf(s + len, cap - len, "%s%s", i ? ", " : "", vs->v[i].what);
		if (w > 0)
			len += (size_t)w < cap - len ? (size_t)w : cap - len - 1;
	}
	return s;
}

/* The guest's byte order: the dump's, unless the architecture reads its CPU
 * notes otherwise (all of them must agree); then the machine is named by it
 * ("ppc64le"). */
static void guest_order(struct vf_dump *dump)
{
	dump->guest_big_endian = dump->big_endian;
	const struct vf_arch *a = vf_arch_by_em(dump->e_machine);
	if (!a || !a->guest_order)
		return;
	int order = -1;
	for (size_t i = 0; i < dump->nnotes; i++) {
		const struct vf_note *n = &dump->notes[i];
		if (n->type != NT_PRSTATUS || strcmp(n->name, "CORE") != 0)
			continue;
		int o = a->guest_order(n->desc, n->descsz, dump->big_endian);
		if (o < 0 || (order >= 0 && o != order))
			return;
		order = o;
	}
	if (order >= 0)
		dump->guest_big_endian = order == 1;
	if (a->uts_machine_be)
		dump->machine_name = dump->guest_big_endian ? a->uts_machine_be : a->uts_machine;
}

struct vf_error *vf_machine_detect(struct vf_dump *dump, const struct vf_vmcoreinfo *extra)
{
	struct votes vs = { .n = 0 };
	collect_votes(&vs, dump, extra);

	free(dump->machine_how);
	free(dump->machine_conflict);
	dump->machine_how = NULL;
	dump->machine_conflict = NULL;
	dump->e_machine = EM_NONE;
	dump->machine_name = NULL;
	dump->guest_big_endian = dump->big_endian;

	uint16_t em;
	bool conflict = count_votes(&vs, dump, &em);
	char *s = describe_votes(&vs, conflict);
	if (!s)
		return &vf_error_nomem;
	if (conflict) {
		dump->machine_conflict = s;
		return NULL;
	}
	if (em == EM_NONE) {
		free(s);
		return NULL;  /* nothing says: unknown */
	}
	dump->e_machine = em;
	dump->machine_name = vf_arch_name(em);
	dump->machine_how = s;
	guest_order(dump);
	return NULL;
}
