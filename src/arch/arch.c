/* arch.c - the table of known architectures and the lookups over it. */
#include "config.h"
#include "arch/arch.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

extern const struct vf_arch vf_arch_aarch64, vf_arch_s390x, vf_arch_ppc64, vf_arch_riscv64,
	vf_arch_i386, vf_arch_arm, vf_arch_ppc, vf_arch_mips, vf_arch_loongarch64;

/* The order is the order machine detection lists its evidence in, and the
 * order utsname prefixes are tried in (a longer prefix before a shorter one
 * it extends: "arm64" is aarch64's, before arm's "arm"). */
static const struct vf_arch *const arches[] = {
	&vf_arch_x86_64,
	&vf_arch_aarch64,
	&vf_arch_s390x,
	&vf_arch_ppc64,
	&vf_arch_riscv64,
	&vf_arch_i386,
	&vf_arch_arm,
	&vf_arch_ppc,
	&vf_arch_mips,
	&vf_arch_loongarch64,
};

#define NARCHES (sizeof(arches) / sizeof(arches[0]))

size_t vf_arch_count(void)
{
	return NARCHES;
}

const struct vf_arch *vf_arch_at(size_t i)
{
	return i < NARCHES ? arches[i] : NULL;
}

const struct vf_arch *vf_arch_by_em(uint16_t em)
{
	for (size_t i = 0; i < NARCHES; i++)
		if (arches[i]->em == em)
			return arches[i];
	return NULL;
}

bool vf_arch_fits(const struct vf_arch *a, int word_bits, bool big_endian)
{
	if (a->word_bits && a->word_bits != word_bits)
		return false;
	return a->big_endian < 0 || a->big_endian == (int)big_endian;
}

const struct vf_arch *vf_arch_by_em_layout(uint16_t em, int word_bits, bool big_endian)
{
	const struct vf_arch *a = vf_arch_by_em(em);
	return a && vf_arch_fits(a, word_bits, big_endian) ? a : NULL;
}

const struct vf_arch *vf_arch_by_uts(const char *uts)
{
	if (!uts)
		return NULL;
	for (size_t i = 0; i < NARCHES; i++)
		for (const char *const *p = arches[i]->uts_prefixes; p && *p; p++)
			if (strncmp(uts, *p, strlen(*p)) == 0)
				return arches[i];
	return NULL;
}

static bool same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

const struct vf_arch *vf_arch_by_name(const char *name)
{
	for (size_t i = 0; i < NARCHES; i++)
		if (same(name, arches[i]->name) || same(name, arches[i]->uts_machine) ||
		    same(name, arches[i]->uts_machine_be))
			return arches[i];
	return NULL;
}

const char *vf_arch_name(uint16_t em)
{
	const struct vf_arch *a = vf_arch_by_em(em);
	return a ? a->name : NULL;
}

uint16_t vf_arch_em_by_uts(const char *uts)
{
	const struct vf_arch *a = vf_arch_by_uts(uts);
	return a ? a->em : 0;
}

const char *vf_arch_uts_name(const struct vf_arch *a, bool big_endian)
{
	if (big_endian && a->uts_machine_be)
		return a->uts_machine_be;
	return a->uts_machine;
}

int vf_arch_phys_base_line(const struct vf_arch *a, uint64_t phys_base, char *buf, size_t size)
{
	if (!a->phys_base_key)
		return -1;
	if (a->phys_base_format == VF_ARCH_NUM_HEX)
		return snprintf(buf, size, "%s=0x%" PRIx64, a->phys_base_key, phys_base);
	return snprintf(buf, size, "%s=%" PRId64, a->phys_base_key, (int64_t)phys_base);
}

struct vf_error *vf_arch_text_symbol(const struct vf_vmcoreinfo *vmci, uint64_t *vaddr)
{
	struct vf_error *err = vf_vmcoreinfo_number(vmci, "SYMBOL(_text)", vaddr);
	if (!err)
		return NULL;
	vf_error_destroy(err);
	return vf_vmcoreinfo_number(vmci, "SYMBOL(_stext)", vaddr);
}
