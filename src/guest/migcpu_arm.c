/* migcpu_arm.c - an arm vCPU's "cpu" section (target/arm/machine.c,
 * version 22; QEMU 7.2 and later) decoded into what QEMU's aarch64 dump
 * notes hold: X0-X30, SP, PC, PSTATE, V0-V31, FPSR and FPCR, and SCTLR_EL1
 * for the guest's byte order.
 *
 * Values are big-endian.  The section is its fields in order; two of them
 * are the system register list (KVM-style 64-bit indexes, then values) of
 * the length the int32 before them says; then subsections, each 0x05, a u8
 * name length, the name, a be32 version and the subsection's fields.  The
 * first, "cpu/vfp" (version 3), holds the low 128 bits of each vector
 * register and FPSCR.  QEMU keeps the current stack pointer in X[31]
 * (sp_el[] are the banked copies, written back on an exception level
 * change), and its dump writes X[31] as SP; the "cpsr" field of an AArch64
 * vCPU is PSTATE as its dump reads it.  QEMU splits FPSCR into FPSR and FPCR
 * by two masks (FPSR 0xf800009f, FPCR 0x07ff9f00).
 *
 * The layout: the stream's JSON description when it has one (its first
 * "cpu" device; every field we read must be listed with QEMU's size), else
 * the table below (version 22 as QEMU 7.2 writes it).
 */
#include "config.h"
#include "guest/migstream.h"
#include "guest/migstream_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define ARM_CPU_VERSION 22
#define ARM_VFP_VERSION 3
#define PSTATE_NRW (1u << 4)          /* AArch32 state */
#define SCTLR_EE (1ull << 25)         /* EL1 data accesses big-endian */
/* SCTLR_EL1 (op0 3, op1 0, CRn 1, CRm 0, op2 0) as QEMU lists it */
#define SCTLR_EL1_INDEX 0x603000000013c080ull
#define FPSR_MASK 0xf800009fu
#define FPCR_MASK 0x07ff9f00u
#define VARRAY 0                      /* count: the register list's length */

static const struct vf_mig_desc_field arm_main[] = {
	{ "env.regs", 4, 16 }, { "env.xregs", 8, 32 }, { "env.pc", 8, 1 }, { "cpsr", 4, 1 },
	{ "env.spsr", 4, 1 }, { "env.banked_spsr", 8, 8 }, { "env.banked_r13", 4, 8 },
	{ "env.banked_r14", 4, 8 }, { "env.usr_regs", 4, 5 }, { "env.fiq_regs", 4, 5 },
	{ "env.elr_el", 8, 4 }, { "env.sp_el", 8, 4 }, { "cpreg_vmstate_array_len", 4, 1 },
	{ "cpreg_vmstate_indexes", 8, VARRAY }, { "cpreg_vmstate_values", 8, VARRAY },
	{ "env.exclusive_addr", 8, 1 }, { "env.exclusive_val", 8, 1 },
	{ "env.exclusive_high", 8, 1 }, { "unused", 8, 1 }, { "env.exception.syndrome", 4, 1 },
	{ "env.exception.fsr", 4, 1 }, { "env.exception.vaddress", 8, 1 },
	{ "gt_timer[0]", 8, 1 }, { "gt_timer[1]", 8, 1 }, { "power_state", 1, 1 },
};

/* "cpu/vfp" version 3: zregs[0..31].d[0..1], xregs[0], xregs[2..15], fpscr */
#define ARM_VFP_FIELDS 35

static void vfp_table(struct vf_mig_desc_field t[ARM_VFP_FIELDS])
{
	for (int i = 0; i < 32; i++) {
		t[i] = (struct vf_mig_desc_field){ "", 8, 2 };
		snprintf(t[i].name, sizeof(t[i].name), "env.vfp.zregs[%d].d", i);
	}
	t[32] = (struct vf_mig_desc_field){ "env.vfp.xregs[0]", 4, 1 };
	t[33] = (struct vf_mig_desc_field){ "env.vfp.xregs", 4, 14 };
	t[34] = (struct vf_mig_desc_field){ "fpscr", 4, 1 };
}

static struct vf_error *unsupported(const struct vf_mig_cpu *cpu, const char *what)
{
	return vf_error_at(VF_ERR_UNSUPPORTED, cpu->section_offset, "migration stream: vCPU %"
			   PRIu32 ": %s", cpu->instance, what);
}

static struct vf_error *otherwise(const struct vf_mig_cpu *cpu, const char *field)
{
	return vf_error_at(VF_ERR_UNSUPPORTED, cpu->section_offset, "migration stream: its VM "
			   "description lays out the arm \"cpu\" fields otherwise than the "
			   "layout read here (%s, of vCPU %" PRIu32 ")", field, cpu->instance);
}

/* The section's bytes [off, off + n), or an error: cut short by the stream,
 * or beyond what was kept of it. */
static struct vf_error *need(const struct vf_mig_cpu *cpu, uint64_t off, uint64_t n)
{
	if (off <= cpu->body_len && n <= cpu->body_len - off)
		return NULL;
	if (cpu->body_len == VF_MIG_ARM_CPU_CAPTURE)
		return vf_error_set_hint(unsupported(cpu, "its state is larger than the "
				"32 KiB read of it"), "a vCPU with a system register list of more "
				"than about 1900 entries is not converted");
	return vf_error_truncated(cpu->body_offset + off, "arm cpu state", n,
				  off < cpu->body_len ? cpu->body_len - off : 0);
}

static uint64_t be(const struct vf_mig_cpu *cpu, uint64_t off, size_t n)
{
	return vf_load_uint(cpu->body + off, n, true);
}

/* A field we read: its name, element size and count as QEMU's layout has
 * them (count VARRAY: the register list's length), and where it was found. */
struct want {
	const char *name;
	uint64_t size, count;
	uint64_t off;
	bool seen;
};

/* Lay the fields list[0..n) out from base: each w[] at its offset, checked
 * for QEMU's size and count; *end past the last field, every byte of them
 * kept.  The register list's length is its int32 field: table, taken from
 * the section into *cpregs; else the description's *cpregs, which the
 * section must hold. */

static struct vf_error *place(const struct vf_mig_cpu *cpu, const struct vf_mig_desc_field *list,
			      size_t n, bool table, uint64_t base, struct want *w, size_t nw,
			      uint64_t *cpregs, uint64_t *end)
{
	uint64_t off = base;
	for (size_t i = 0; i < n; i++) {
		const struct vf_mig_desc_field *f = &list[i];
		uint64_t count = f->count;
		if (table && count == VARRAY)
			count = *cpregs;
		for (size_t k = 0; k < nw; k++) {
			if (w[k].seen || strcmp(f->name, w[k].name) != 0)
				continue;
			uint64_t wc = w[k].count == VARRAY ? *cpregs : w[k].count;
			if (f->size != w[k].size || count != wc)
				return otherwise(cpu, w[k].name);
			w[k].seen = true;
			w[k].off = off;
		}
		if (strcmp(f->name, "cpreg_vmstate_array_len") == 0 && f->size == 4 && count == 1) {
			struct vf_error *err = need(cpu, off, 4);
			if (err)
				return err;
			int32_t len = (int32_t)(uint32_t)be(cpu, off, 4);
			if (len < 0)
				return vf_error_at(VF_ERR_CORRUPT, cpu->body_offset + off, "migration "
						   "stream: vCPU %" PRIu32 "'s system register list "
						   "has the length %" PRId32, cpu->instance, len);
			if (table)
				*cpregs = (uint64_t)len;
			else if ((uint64_t)len != *cpregs)
				return vf_error_at(VF_ERR_CORRUPT, cpu->body_offset + off, "migration "
						   "stream: vCPU %" PRIu32 "'s system register list "
						   "has %" PRId32 " entries, its description %" PRIu64,
						   cpu->instance, len, *cpregs);
		}
		if (f->size > VF_MIG_ARM_CPU_CAPTURE || count > VF_MIG_ARM_CPU_CAPTURE)
			return need(cpu, off, (uint64_t)VF_MIG_ARM_CPU_CAPTURE + 1);
		off += f->size * count;
	}
	for (size_t k = 0; k < nw; k++)
		if (!w[k].seen)
			return otherwise(cpu, w[k].name);
	struct vf_error *err = need(cpu, base, off - base);
	if (err)
		return err;
	*end = off;
	return NULL;
}

/* The description's subsection of that name, or NULL. */
static const struct vf_mig_desc_sub *desc_sub(const struct vf_mig_cpu_desc *dd, const char *name)
{
	for (size_t i = 0; i < dd->nsubs; i++)
		if (strcmp(dd->subs[i].name, name) == 0)
			return &dd->subs[i];
	return NULL;
}

/* The subsection header at off: its name and version, *body past it;
 * false: no subsection starts there. */
static struct vf_error *sub_header(const struct vf_mig_cpu *cpu, uint64_t off, bool *is,
				   char name[256], uint32_t *version, uint64_t *body)
{
	*is = false;
	struct vf_error *err = need(cpu, off, 1);
	if (err)
		return err;
	if (cpu->body[off] != SEC_SUBSECTION)
		return NULL;
	if ((err = need(cpu, off + 1, 1)))
		return err;
	size_t n = cpu->body[off + 1];
	if ((err = need(cpu, off + 2, n + 4)))
		return err;
	memcpy(name, cpu->body + off + 2, n);
	name[n] = 0;
	*version = (uint32_t)be(cpu, off + 2 + n, 4);
	*body = off + 2 + n + 4;
	*is = true;
	return NULL;
}

struct vf_error *vf_mig_cpu_arm(const struct vf_migstate *st, const struct vf_mig_cpu *cpu,
				struct vf_mig_arm_cpu *out)
{
	memset(out, 0, sizeof(*out));
	out->instance = cpu->instance;
	if (cpu->version != ARM_CPU_VERSION)
		return vf_error_at(VF_ERR_UNSUPPORTED, cpu->section_offset, "migration stream: "
				   "arm \"cpu\" section version %" PRIu32 " of vCPU %" PRIu32
				   " (version %u is read)", cpu->version, cpu->instance,
				   ARM_CPU_VERSION);
	if (!cpu->body)
		return unsupported(cpu, "its state was not kept (no arm virt machine type or "
				   "RAM block in the stream)");
	const struct vf_mig_cpu_desc *dd = &st->cpu_desc;
	bool table = !st->has_description;
	if (!table && (!st->cpu_desc_listed || dd->problem || dd->version != cpu->version))
		return otherwise(cpu, dd->problem ? dd->problem : !st->cpu_desc_listed ?
				 "no cpu device" : "another version");
	struct vf_mig_desc_field vfp_tab[ARM_VFP_FIELDS];
	vfp_table(vfp_tab);

	/* the device's own fields */
	uint64_t cpregs = 0;
	struct want w[] = {
		{ .name = "env.xregs", .size = 8, .count = 32 },
		{ .name = "env.pc", .size = 8, .count = 1 },
		{ .name = "cpsr", .size = 4, .count = 1 },
		{ .name = "cpreg_vmstate_array_len", .size = 4, .count = 1 },
		{ .name = "cpreg_vmstate_indexes", .size = 8, .count = VARRAY },
		{ .name = "cpreg_vmstate_values", .size = 8, .count = VARRAY },
	};
	if (!table) {
		/* the register list's length, as the description has it */
		bool listed = false;
		for (size_t i = 0; i < dd->nmain && !listed; i++)
			if (strcmp(dd->fields[i].name, "cpreg_vmstate_indexes") == 0) {
				cpregs = dd->fields[i].count;
				listed = true;
			}
		if (!listed)
			return otherwise(cpu, "cpreg_vmstate_indexes");
	}
	uint64_t end;
	struct vf_error *err = table ? place(cpu, arm_main, sizeof(arm_main) / sizeof(arm_main[0]),
					     true, 0, w, 6, &cpregs, &end)
				     : place(cpu, dd->fields, dd->nmain, false, 0, w, 6, &cpregs, &end);
	if (err)
		return err;
	for (int i = 0; i < 32; i++)
		out->x[i] = be(cpu, w[0].off + 8 * (uint64_t)i, 8);
	out->pc = be(cpu, w[1].off, 8);
	out->pstate = (uint32_t)be(cpu, w[2].off, 4);
	out->cpregs = (size_t)cpregs;
	bool sctlr = false;
	for (uint64_t i = 0; i < cpregs; i++)
		if (be(cpu, w[4].off + 8 * i, 8) == SCTLR_EL1_INDEX) {
			out->sctlr_el1 = be(cpu, w[5].off + 8 * i, 8);
			sctlr = true;
			break;
		}

	/* the subsections, to "cpu/vfp"; then whether "cpu/sve" follows */
	uint64_t off = end, body = 0;
	char name[256];
	uint32_t version = 0;
	bool is, vfp = false;
	while (!vfp) {   /* each turn moves off on: the kept bytes bound it */
		if ((err = sub_header(cpu, off, &is, name, &version, &body)))
			return err;
		if (!is)
			return vf_error_set_hint(unsupported(cpu, "it has no VFP/SIMD state "
					"(no \"cpu/vfp\" subsection)"), "only AArch64 vCPUs with "
					"floating point and SIMD registers are converted");
		const struct vf_mig_desc_sub *sub = table ? NULL : desc_sub(dd, name);
		/* "cpu/vfp" may have a subsection: its bytes, after the fields, say */
		if (!table && (!sub || sub->version != version ||
			       (sub->nested && strcmp(name, "cpu/vfp") != 0)))
			return otherwise(cpu, name);
		if (strcmp(name, "cpu/vfp") != 0) {
			/* a subsection before "cpu/vfp": only the description sizes it */
			if (table)
				return otherwise(cpu, name);
			if ((err = place(cpu, dd->fields + sub->first, sub->n, false, body, NULL, 0,
					 &cpregs, &off)))
				return err;
			continue;
		}
		if (version != ARM_VFP_VERSION) {
			char what[96];
			snprintf(what, sizeof(what), "\"cpu/vfp\" subsection version %" PRIu32
				 " (version %u is read)", version, ARM_VFP_VERSION);
			return unsupported(cpu, what);
		}
		struct want v[33];
		for (int i = 0; i < 32; i++)
			v[i] = (struct want){ vfp_tab[i].name, 8, 2, 0, false };
		v[32] = (struct want){ "fpscr", 4, 1, 0, false };
		if ((err = table ? place(cpu, vfp_tab, ARM_VFP_FIELDS, true, body, v, 33, &cpregs, &off)
				 : place(cpu, dd->fields + sub->first, sub->n, false, body, v, 33,
					 &cpregs, &off)))
			return err;
		for (int i = 0; i < 32; i++) {
			out->v[2 * i] = be(cpu, v[i].off, 8);
			out->v[2 * i + 1] = be(cpu, v[i].off + 8, 8);
		}
		out->fpscr = (uint32_t)be(cpu, v[32].off, 4);
		vfp = true;
	}
	if ((err = sub_header(cpu, off, &is, name, &version, &body)))
		return err;
	if (is && strncmp(name, "cpu/vfp/", 8) == 0) {
		char what[400];
		snprintf(what, sizeof(what), "its floating-point state continues in a \"%s\" "
			 "subsection (FPCR and FPSR of their own, QEMU 9.1 and later), which is "
			 "not read", name);
		return unsupported(cpu, what);
	}
	out->sve = is && strcmp(name, "cpu/sve") == 0;
	out->fpsr = out->fpscr & FPSR_MASK;
	out->fpcr = out->fpscr & FPCR_MASK;

	if (out->pstate & PSTATE_NRW)
		return vf_error_set_hint(unsupported(cpu, "it was in AArch32 state (PSTATE.nRW): "
				"its registers are not converted"), "save the VM while its "
				"vCPUs run AArch64 code");
	if (!sctlr)
		return unsupported(cpu, "SCTLR_EL1 is not in its system register list: the "
				   "guest's byte order is not known");
	if (out->sctlr_el1 & SCTLR_EE)
		return unsupported(cpu, "the guest is big-endian (SCTLR_EL1.EE): converting it "
				   "is not implemented");
	return NULL;
}
