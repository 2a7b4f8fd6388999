/* migcpu.c - the vCPUs' state in a migration stream: each vCPU's FULL
 * "cpu" section (instance id = its cpu_index), whose fixed first part holds
 * the registers a dump's CPU notes carry, and the layout of that part from
 * the stream's own JSON description when it has one.
 *
 * x86_64 (target/i386/machine.c, "cpu" versions 11 and 12): big-endian
 * values; a segment is selector u32, base u64, limit u32, flags u32.  The
 * table below is QEMU's layout up to kernelgsbase, where no field is
 * conditional; a description that places a field elsewhere or gives it
 * another size wins over the table only if every field we read is listed
 * with its size (else the stream is refused: we would read the wrong bytes).
 */
#include "config.h"
#include "guest/migstream.h"
#include "guest/migstream_priv.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* The fields read, by their description names, with the table's offsets. */
static const struct {
	const char *name;
	uint32_t off, size, count;   /* size: one element's bytes; count: array_len */
} x86_fields[VF_MIG_X86_NFIELDS] = {
	[VF_MIG_X86_REGS] = { "env.regs", 0, 8, 16 },
	[VF_MIG_X86_RIP] = { "env.eip", 128, 8, 1 },
	[VF_MIG_X86_RFLAGS] = { "env.eflags", 136, 8, 1 },
	[VF_MIG_X86_HFLAGS] = { "env.hflags", 144, 4, 1 },
	[VF_MIG_X86_SEGS] = { "env.segs", 236, 20, 6 },
	[VF_MIG_X86_LDT] = { "env.ldt", 356, 20, 1 },
	[VF_MIG_X86_TR] = { "env.tr", 376, 20, 1 },
	[VF_MIG_X86_GDT] = { "env.gdt", 396, 20, 1 },
	[VF_MIG_X86_IDT] = { "env.idt", 416, 20, 1 },
	[VF_MIG_X86_CR0] = { "env.cr[0]", 456, 8, 1 },
	[VF_MIG_X86_CR2] = { "env.cr[2]", 464, 8, 1 },
	[VF_MIG_X86_CR3] = { "env.cr[3]", 472, 8, 1 },
	[VF_MIG_X86_CR4] = { "env.cr[4]", 480, 8, 1 },
	[VF_MIG_X86_EFER] = { "env.efer", 816, 8, 1 },
	[VF_MIG_X86_KGSBASE] = { "env.kernelgsbase", 856, 8, 1 },
};

static void x86_table(uint32_t off[VF_MIG_X86_NFIELDS])
{
	for (int i = 0; i < VF_MIG_X86_NFIELDS; i++)
		off[i] = x86_fields[i].off;
}

/* An arm vCPU's body: its first VF_MIG_ARM_CPU_CAPTURE bytes (fewer where
 * the stream ends), read a window at a time; c->pos is not moved. */
static struct vf_error *arm_body(struct mig_walk *c, struct vf_mig_cpu *cpu)
{
	if (!(cpu->body = malloc(VF_MIG_ARM_CPU_CAPTURE)))
		return &vf_error_nomem;
	while (cpu->body_len < VF_MIG_ARM_CPU_CAPTURE) {
		struct vf_cursor cur;
		size_t want = VF_MIG_ARM_CPU_CAPTURE - cpu->body_len;
		if (want > MIG_RD_BUF)
			want = MIG_RD_BUF;
		struct vf_error *err = vf_mig_window(c, cpu->body_offset + cpu->body_len, want, &cur);
		if (err)
			return err;
		size_t n = vf_cursor_left(&cur) < want ? vf_cursor_left(&cur) : want;
		const uint8_t *p;
		if (!n)
			break;
		if ((err = vf_mig_bytes(c, &cur, n, "cpu state", &p)))
			return err;
		memcpy(cpu->body + cpu->body_len, p, n);
		cpu->body_len += n;
		if (n < want)
			break;
	}
	return NULL;
}

/* A FULL "cpu" section; c->pos is at its body.  Its first bytes are kept
 * for decoding once the walk is done (the description, at the stream's end,
 * may say where the fields are); the rest is skipped by the caller. */
struct vf_error *vf_mig_cpu_section(struct mig_walk *c, uint64_t soff, uint32_t instance,
				    uint32_t version)
{
	struct vf_migstate *st = c->st;
	/* arm: a virt machine type, or its RAM block (the RAM section comes first) */
	const char *layout = vf_migstream_machine_layout(st->machine);
	bool arm = (layout && strcmp(layout, "virt") == 0) ||
		   vf_mig_find_block(st, "mach-virt.ram") >= 0;
	unsigned max = arm ? VF_MIG_ARM_CPUS_MAX : VF_MIG_CPUS_MAX;
	if (st->ncpus == max) {
		struct vf_error *err = vf_error_at(VF_ERR_UNSUPPORTED, soff, "migration stream: "
						   "more than %u vCPU sections", max);
		return vf_mig_at(c, err);
	}
	for (size_t i = 0; i < st->ncpus; i++)
		if (st->cpus[i].instance == instance)
			return vf_mig_corrupt(c, soff, "a second \"cpu\" section for vCPU %" PRIu32
					      " (the first at offset %" PRIu64 ")", instance,
					      st->cpus[i].section_offset);
	if (st->ncpus == st->cpus_cap) {
		size_t cap = st->cpus_cap ? 2 * st->cpus_cap : 4;
		struct vf_mig_cpu *n = realloc(st->cpus, cap * sizeof(*n));
		if (!n)
			return &vf_error_nomem;
		st->cpus = n;
		st->cpus_cap = cap;
	}
	struct vf_mig_cpu *cpu = &st->cpus[st->ncpus];
	memset(cpu, 0, sizeof(*cpu));
	cpu->instance = instance;
	cpu->version = version;
	cpu->section_offset = soff;
	struct vf_cursor cur;
	struct vf_error *err = vf_mig_window(c, c->pos, VF_MIG_CPU_PREFIX, &cur);
	if (err)
		return err;
	size_t n = vf_cursor_left(&cur) < VF_MIG_CPU_PREFIX ? vf_cursor_left(&cur)
								   : VF_MIG_CPU_PREFIX;
	const uint8_t *p;
	if ((err = vf_mig_bytes(c, &cur, n, "cpu state", &p)))
		return err;
	memcpy(cpu->raw, p, n);
	cpu->len = n;
	cpu->body_offset = c->pos;
	st->ncpus++;
	return arm ? arm_body(c, cpu) : NULL;
}

/* ------------------------------------------------------------ the description
 * A bounded reader over the JSON text: enough to walk "devices" to the
 * first "cpu" device and list its fields.  Strings with escapes are compared
 * undecoded (QEMU's names have none); depth and length are bounded by the
 * text, which the caller caps. */

struct jp {
	const uint8_t *p, *end;
	unsigned depth;
};

#define JSON_DEPTH_MAX 64

static void ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

static bool lit(struct jp *j, char ch)
{
	ws(j);
	if (j->p < j->end && *j->p == ch) {
		j->p++;
		return true;
	}
	return false;
}

/* A string: *s and *n its raw bytes between the quotes. */
static bool jstr(struct jp *j, const uint8_t **s, size_t *n)
{
	if (!lit(j, '"'))
		return false;
	const uint8_t *b = j->p;
	while (j->p < j->end && *j->p != '"') {
		if (*j->p == '\\' && j->p + 1 < j->end)
			j->p++;
		j->p++;
	}
	if (j->p >= j->end)
		return false;
	*s = b;
	*n = (size_t)(j->p - b);
	j->p++;
	return true;
}

static bool jnum(struct jp *j, uint64_t *v)
{
	ws(j);
	const uint8_t *b = j->p;
	*v = 0;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		if (*v > (UINT64_MAX - 9) / 10)
			return false;
		*v = *v * 10 + (uint64_t)(*j->p++ - '0');
	}
	return j->p > b;
}

static bool jskip(struct jp *j);

/* Walk the members of an object ('{' read): for each key call f, which
 * reads the value or returns false to have it skipped... f returns 1 read,
 * 0 skip, -1 fail. */
static bool jobject(struct jp *j, int (*f)(struct jp *, const uint8_t *, size_t, void *),
		    void *arg)
{
	if (++j->depth > JSON_DEPTH_MAX)
		return false;
	if (lit(j, '}')) {
		j->depth--;
		return true;
	}
	do {
		const uint8_t *k;
		size_t kn;
		if (!jstr(j, &k, &kn) || !lit(j, ':'))
			return false;
		int r = f ? f(j, k, kn, arg) : 0;
		if (r < 0 || (r == 0 && !jskip(j)))
			return false;
	} while (lit(j, ','));
	j->depth--;
	return lit(j, '}');
}

static bool jskip(struct jp *j)
{
	ws(j);
	if (j->p >= j->end)
		return false;
	const uint8_t *s;
	size_t n;
	uint64_t v;
	switch (*j->p) {
	case '"':
		return jstr(j, &s, &n);
	case '{':
		j->p++;
		return jobject(j, NULL, NULL);
	case '[':
		j->p++;
		if (++j->depth > JSON_DEPTH_MAX)
			return false;
		if (!lit(j, ']')) {
			do
				if (!jskip(j))
					return false;
			while (lit(j, ','));
			if (!lit(j, ']'))
				return false;
		}
		j->depth--;
		return true;
	case '-':
		j->p++;
		return jnum(j, &v);
	}
	if (*j->p >= '0' && *j->p <= '9')
		return jnum(j, &v);
	static const char *const words[] = { "true", "false", "null" };
	for (size_t i = 0; i < 3; i++) {
		size_t l = strlen(words[i]);
		if ((size_t)(j->end - j->p) >= l && memcmp(j->p, words[i], l) == 0) {
			j->p += l;
			return true;
		}
	}
	return false;
}

static bool key_is(const uint8_t *k, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(k, want, n) == 0;
}

/* One field of the cpu device: its name, array length and element size. */
struct field {
	const uint8_t *name;
	size_t nlen;
	uint64_t count, size;
	bool has_size;
};

static int field_member(struct jp *j, const uint8_t *k, size_t n, void *arg)
{
	struct field *f = arg;
	if (key_is(k, n, "name"))
		return jstr(j, &f->name, &f->nlen) ? 1 : -1;
	if (key_is(k, n, "array_len"))
		return jnum(j, &f->count) ? 1 : -1;
	if (key_is(k, n, "size")) {
		f->has_size = true;
		return jnum(j, &f->size) ? 1 : -1;
	}
	return 0;
}

struct device {
	const uint8_t *name;
	size_t nlen;
	const uint8_t *fields;   /* the fields array's '[', read once the name is known */
	bool done;               /* the first cpu device was read */
	bool in_cpu;             /* this device object is that first cpu device */
	uint64_t version;        /* this device object's "version" */
	struct vf_migstate *st;
	const char *problem;
};

/* A name as the list keeps it: "" when it does not fit. */
static void copy_name(char out[VF_MIG_DESC_NAME], const uint8_t *s, size_t n)
{
	if (n < VF_MIG_DESC_NAME) {
		memcpy(out, s, n);
		out[n] = 0;
	} else {
		out[0] = 0;
	}
}

/* One field into the description's list (st->cpu_desc); past the bound
 * the list is marked unusable. */
static void desc_add(struct vf_mig_cpu_desc *dd, const struct field *f)
{
	if (dd->problem)
		return;
	if (!f->name || !f->has_size) {
		dd->problem = "a field without a name or size";
		return;
	}
	if (dd->nfields == VF_MIG_DESC_FIELDS_MAX) {
		dd->problem = "more fields than are read";
		return;
	}
	if (!dd->fields && !(dd->fields = calloc(VF_MIG_DESC_FIELDS_MAX, sizeof(*dd->fields)))) {
		dd->problem = "out of memory reading the description";
		return;
	}
	struct vf_mig_desc_field *o = &dd->fields[dd->nfields++];
	copy_name(o->name, f->name, f->nlen);
	o->size = f->size;
	o->count = f->count;
}

/* A fields array of a subsection: each field into the list. */
static bool sub_fields(struct jp *j, struct vf_mig_cpu_desc *dd, struct vf_mig_desc_sub *sub)
{
	if (!lit(j, '['))
		return false;
	if (lit(j, ']'))
		return true;
	do {
		struct field f = { .count = 1 };
		if (!lit(j, '{') || !jobject(j, field_member, &f))
			return false;
		size_t before = dd->nfields;
		desc_add(dd, &f);
		sub->n += dd->nfields - before;
	} while (lit(j, ','));
	return lit(j, ']');
}

struct subctx {
	struct vf_mig_cpu_desc *dd;
	struct vf_mig_desc_sub *sub;
};

static int sub_member(struct jp *j, const uint8_t *k, size_t n, void *arg)
{
	struct subctx *x = arg;
	const uint8_t *s;
	size_t sn;
	if (key_is(k, n, "vmsd_name")) {
		if (!jstr(j, &s, &sn))
			return -1;
		copy_name(x->sub->name, s, sn);
		return 1;
	}
	if (key_is(k, n, "version"))
		return jnum(j, &x->sub->version) ? 1 : -1;
	if (key_is(k, n, "fields")) {
		x->sub->first = x->dd->nfields;
		return sub_fields(j, x->dd, x->sub) ? 1 : -1;
	}
	if (key_is(k, n, "subsections"))
		x->sub->nested = true;
	return 0;
}

/* The cpu device's subsections: each one's name, version and fields. */
static bool cpu_subsections(struct jp *j, struct vf_mig_cpu_desc *dd)
{
	if (!lit(j, '['))
		return false;
	if (lit(j, ']'))
		return true;
	do {
		struct vf_mig_desc_sub scratch = { 0 };
		struct vf_mig_desc_sub *sub = &scratch;
		if (dd->nsubs < VF_MIG_DESC_SUBS_MAX)
			sub = &dd->subs[dd->nsubs++];
		else if (!dd->problem)
			dd->problem = "more subsections than are read";
		memset(sub, 0, sizeof(*sub));
		sub->first = dd->nfields;
		struct subctx x = { dd, sub };
		if (!lit(j, '{') || !jobject(j, sub_member, &x))
			return false;
	} while (lit(j, ','));
	return lit(j, ']');
}

/* The fields array of the cpu device: offsets by summing sizes.  The
 * first problem is kept (d->problem) and the array read to its end. */
static bool cpu_fields(struct jp *j, struct device *d)
{
	struct vf_migstate *st = d->st;
	uint64_t off = 0;
	bool seen[VF_MIG_X86_NFIELDS] = { false };
	if (!lit(j, '['))
		return false;
	if (!lit(j, ']')) {
		do {
			struct field f = { .count = 1 };
			if (!lit(j, '{') || !jobject(j, field_member, &f))
				return false;
			desc_add(&st->cpu_desc, &f);
			if (d->problem)
				continue;
			if (!f.name || !f.has_size) {
				d->problem = "a field without a name or size";
				continue;
			}
			for (int i = 0; i < VF_MIG_X86_NFIELDS; i++) {
				if (seen[i] || !key_is(f.name, f.nlen, x86_fields[i].name))
					continue;
				seen[i] = true;
				if (f.size != x86_fields[i].size || f.count != x86_fields[i].count)
					d->problem = x86_fields[i].name;
				else
					st->cpu_desc_off[i] = (uint32_t)off;
			}
			if (f.size > (1u << 20) || f.count > (1u << 20) ||
			    off + f.size * f.count > (1u << 30))
				d->problem = "a field larger than plausible";
			off += f.size * f.count;
		} while (lit(j, ','));
		if (!lit(j, ']'))
			return false;
	}
	st->cpu_desc.nmain = st->cpu_desc.nfields;
	st->cpu_desc.version = d->version;
	for (int i = 0; i < VF_MIG_X86_NFIELDS && !d->problem; i++)
		if (!seen[i] || st->cpu_desc_off[i] + x86_fields[i].size * x86_fields[i].count >
				VF_MIG_CPU_PREFIX)
			d->problem = x86_fields[i].name;
	return true;
}

static int device_member(struct jp *j, const uint8_t *k, size_t n, void *arg)
{
	struct device *d = arg;
	if (key_is(k, n, "name"))
		return jstr(j, &d->name, &d->nlen) ? 1 : -1;
	if (key_is(k, n, "version"))
		return jnum(j, &d->version) ? 1 : -1;
	if (key_is(k, n, "fields") && !d->done && d->name && key_is(d->name, d->nlen, "cpu")) {
		d->done = true;
		d->in_cpu = true;
		d->st->cpu_desc_listed = true;
		return cpu_fields(j, d) ? 1 : -1;
	}
	if (key_is(k, n, "subsections") && d->in_cpu)
		return cpu_subsections(j, &d->st->cpu_desc) ? 1 : -1;
	return 0;
}

static int top_member(struct jp *j, const uint8_t *k, size_t n, void *arg)
{
	struct device *d = arg;
	if (!key_is(k, n, "devices"))
		return 0;
	if (!lit(j, '['))
		return -1;
	if (lit(j, ']'))
		return 1;
	do {
		d->name = NULL;
		d->in_cpu = false;
		d->version = 0;
		if (!lit(j, '{') || !jobject(j, device_member, d))
			return -1;
	} while (lit(j, ','));
	return lit(j, ']') ? 1 : -1;
}

void vf_mig_cpu_description(struct vf_migstate *st, const uint8_t *json, size_t n)
{
	struct jp j = { json, json + n, 0 };
	struct device d = { .st = st };
	st->cpu_desc_listed = false;
	free(st->cpu_desc.fields);
	memset(&st->cpu_desc, 0, sizeof(st->cpu_desc));
	if (!lit(&j, '{') || !jobject(&j, top_member, &d)) {
		st->cpu_desc_problem = "the description is not valid JSON";
		st->cpu_desc.problem = st->cpu_desc_problem;
		return;
	}
	st->cpu_desc_problem = d.problem;
}

/* ------------------------------------------------------------ decoding */

static uint64_t be(const struct vf_mig_cpu *cpu, uint32_t off, size_t n)
{
	return vf_load_uint(cpu->raw + off, n, true);
}

static void segment(const struct vf_mig_cpu *cpu, uint32_t off, struct vf_mig_x86_seg *s)
{
	s->selector = (uint32_t)be(cpu, off, 4);
	s->base = be(cpu, off + 4, 8);
	s->limit = (uint32_t)be(cpu, off + 12, 4);
	s->flags = (uint32_t)be(cpu, off + 16, 4);
}

struct vf_error *vf_mig_cpu_x86(const struct vf_migstate *st, const struct vf_mig_cpu *cpu,
				struct vf_mig_x86_cpu *out)
{
	memset(out, 0, sizeof(*out));
	if (cpu->version < 11 || cpu->version > 12)
		return vf_error_at(VF_ERR_UNSUPPORTED, cpu->section_offset, "migration stream: "
				   "x86 \"cpu\" section version %" PRIu32 " of vCPU %" PRIu32
				   " (versions 11 and 12 are read)", cpu->version, cpu->instance);
	if (st->has_description && (st->cpu_desc_problem || !st->cpu_desc_listed))
		return vf_error_at(VF_ERR_UNSUPPORTED, cpu->section_offset, "migration stream: "
				   "its VM description lays out the x86 \"cpu\" fields otherwise "
				   "than the layout read here (%s)", st->cpu_desc_problem ?
				   st->cpu_desc_problem : "no cpu device");
	uint32_t off[VF_MIG_X86_NFIELDS];
	if (st->has_description)
		memcpy(off, st->cpu_desc_off, sizeof(off));
	else
		x86_table(off);
	if (cpu->len < VF_MIG_CPU_PREFIX)
		return vf_error_truncated(cpu->section_offset, "x86 cpu state",
					  VF_MIG_CPU_PREFIX, cpu->len);
	out->instance = cpu->instance;
	for (int i = 0; i < 16; i++)
		out->regs[i] = be(cpu, off[VF_MIG_X86_REGS] + 8 * (uint32_t)i, 8);
	out->rip = be(cpu, off[VF_MIG_X86_RIP], 8);
	out->rflags = be(cpu, off[VF_MIG_X86_RFLAGS], 8);
	out->hflags = (uint32_t)be(cpu, off[VF_MIG_X86_HFLAGS], 4);
	for (int i = 0; i < 6; i++)
		segment(cpu, off[VF_MIG_X86_SEGS] + 20 * (uint32_t)i, &out->segs[i]);
	segment(cpu, off[VF_MIG_X86_LDT], &out->ldt);
	segment(cpu, off[VF_MIG_X86_TR], &out->tr);
	segment(cpu, off[VF_MIG_X86_GDT], &out->gdt);
	segment(cpu, off[VF_MIG_X86_IDT], &out->idt);
	out->cr[0] = be(cpu, off[VF_MIG_X86_CR0], 8);
	out->cr[2] = be(cpu, off[VF_MIG_X86_CR2], 8);
	out->cr[3] = be(cpu, off[VF_MIG_X86_CR3], 8);
	out->cr[4] = be(cpu, off[VF_MIG_X86_CR4], 8);
	out->efer = be(cpu, off[VF_MIG_X86_EFER], 8);
	out->kernel_gs_base = be(cpu, off[VF_MIG_X86_KGSBASE], 8);
	/* HF_LMA (bit 14) and EFER.LMA (bit 10) say the same thing */
	bool lma = out->hflags & (1u << 14), elma = out->efer & (1u << 10);
	if (lma != elma)
		return vf_error_at(VF_ERR_CORRUPT, cpu->section_offset, "migration stream: vCPU "
				   "%" PRIu32 "'s state disagrees with itself: hflags says "
				   "long mode %s, EFER says %s", cpu->instance, lma ? "on" : "off",
				   elma ? "on" : "off");
	out->long_mode = lma;
	return NULL;
}
