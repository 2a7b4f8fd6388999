/* migdump.c - a saved VM state as the ELF dump of it (migdump.h).
 *
 * One walk of the stream to its end (vf_migstream_mem_open) gives the RAM
 * index, the machine, the vmcoreinfo device and the vCPUs' first bytes.
 * The header region is then built in memory: ELF header, program headers
 * (PT_NOTE, the RAM's PT_LOADs), the vCPU notes; the PT_LOADs' data follows
 * from the first page boundary, one run after the other, and a read there is
 * a read of the stream's RAM.
 */
#include "config.h"
#include "guest/migdump.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source/libvirt.h"
#include "source/open.h"
#include "source/spool.h"
#include "source/zsrc.h"
#include "util/cursor.h"
#include "util/notes.h"

#define SAVED_LOADS_MAX 4096u     /* runs of RAM: a paused save sends every page */
#define PRSTATUS_SIZE 336         /* x86_64 struct elf_prstatus */
#define PRSTATUS_PID 32
#define PRSTATUS_REGS 112
#define QEMU_CPUSTATE_SIZE 440    /* QEMUCPUState v1 with kernel_gs_base */
#define A64_PRSTATUS_SIZE 392     /* aarch64 struct elf_prstatus */
#define A64_PRSTATUS_FPVALID 384  /* after pr_reg: x0-x30, sp, pc, pstate */
#define A64_PRFPREG_SIZE 528      /* struct user_fpsimd_state */
#define NOTE_DESC_MAX 528         /* the largest note written */
_Static_assert(NOTE_DESC_MAX >= QEMU_CPUSTATE_SIZE && NOTE_DESC_MAX >= PRSTATUS_SIZE &&
	       NOTE_DESC_MAX >= A64_PRSTATUS_SIZE && NOTE_DESC_MAX >= A64_PRFPREG_SIZE,
	       "a note's buffer holds every note written");

struct load {
	uint64_t offset, paddr, size;
};

struct saved {
	struct vf_saved_info info;
	struct vf_mem mem;          /* the stream's RAM (migmem) */
	uint8_t *hdr;               /* the header region */
	struct load *loads;
	size_t nloads;
};

/* ------------------------------------------------------------ the notes */

static void put64(uint8_t *p, uint64_t v) { vf_store_uint(p, 8, false, v); }
static void put32(uint8_t *p, uint32_t v) { vf_store_uint(p, 4, false, v); }

/* NT_PRSTATUS as QEMU fills it: pid = cpu_index + 1, the registers in the
 * kernel's user_regs_struct order, segment registers as selectors. */
static void prstatus(const struct vf_mig_x86_cpu *c, uint8_t out[PRSTATUS_SIZE])
{
	memset(out, 0, PRSTATUS_SIZE);
	put32(out + PRSTATUS_PID, c->instance + 1);
	/* RAX RCX RDX RBX RSP RBP RSI RDI R8..R15 */
	const uint64_t *r = c->regs;
	const uint64_t v[27] = {
		r[15], r[14], r[13], r[12], r[5], r[3], r[11], r[10], r[9], r[8],
		r[0], r[1], r[2], r[6], r[7], 0 /* orig_ax */, c->rip,
		c->segs[1].selector & 0xffff, c->rflags, r[4], c->segs[2].selector & 0xffff,
		c->segs[4].base, c->segs[5].base,
		c->segs[3].selector & 0xffff, c->segs[0].selector & 0xffff,
		c->segs[4].selector & 0xffff, c->segs[5].selector & 0xffff,
	};
	for (int i = 0; i < 27; i++)
		put64(out + PRSTATUS_REGS + 8 * i, v[i]);
}

static uint8_t *cpu_segment(uint8_t *p, const struct vf_mig_x86_seg *s)
{
	put32(p, s->selector);
	put32(p + 4, s->limit);
	put32(p + 8, s->flags);
	put32(p + 12, 0);
	put64(p + 16, s->base);
	return p + 24;
}

/* QEMU's CPU-state note (QEMUCPUState version 1), host order: little. */
static void cpustate(const struct vf_mig_x86_cpu *c, uint8_t out[QEMU_CPUSTATE_SIZE])
{
	memset(out, 0, QEMU_CPUSTATE_SIZE);
	put32(out, 1);
	put32(out + 4, QEMU_CPUSTATE_SIZE);
	const uint64_t *r = c->regs;
	/* rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags */
	const uint64_t v[18] = { r[0], r[3], r[1], r[2], r[6], r[7], r[4], r[5], r[8], r[9],
				 r[10], r[11], r[12], r[13], r[14], r[15], c->rip, c->rflags };
	uint8_t *p = out + 8;
	for (int i = 0; i < 18; i++, p += 8)
		put64(p, v[i]);
	/* cs ds es fs gs ss, from ES CS SS DS FS GS */
	static const int order[6] = { 1, 3, 0, 4, 5, 2 };
	for (int i = 0; i < 6; i++)
		p = cpu_segment(p, &c->segs[order[i]]);
	p = cpu_segment(p, &c->ldt);
	p = cpu_segment(p, &c->tr);
	p = cpu_segment(p, &c->gdt);
	p = cpu_segment(p, &c->idt);
	for (int i = 0; i < 5; i++, p += 8)
		put64(p, c->cr[i]);
	put64(p, c->kernel_gs_base);
}

/* aarch64 NT_PRSTATUS as QEMU fills it: pid = cpu_index + 1, X0-X30, SP
 * (X[31]: the current EL's), PC, PSTATE, pr_fpvalid 1. */
static void a64_prstatus(const struct vf_mig_arm_cpu *c, uint8_t out[A64_PRSTATUS_SIZE])
{
	memset(out, 0, A64_PRSTATUS_SIZE);
	put32(out + PRSTATUS_PID, c->instance + 1);
	for (int i = 0; i < 32; i++)
		put64(out + PRSTATUS_REGS + 8 * i, c->x[i]);
	put64(out + PRSTATUS_REGS + 8 * 32, c->pc);
	put64(out + PRSTATUS_REGS + 8 * 33, c->pstate);
	put32(out + A64_PRSTATUS_FPVALID, 1);
}

/* NT_PRFPREG: V0-V31 (low half first), FPSR, FPCR, 8 bytes of padding. */
static void a64_prfpreg(const struct vf_mig_arm_cpu *c, uint8_t out[A64_PRFPREG_SIZE])
{
	memset(out, 0, A64_PRFPREG_SIZE);
	for (int i = 0; i < 64; i++)
		put64(out + 8 * i, c->v[i]);
	put32(out + 512, c->fpsr);
	put32(out + 516, c->fpcr);
}

/* The vCPUs of either kind, decoded: in cpu_index order. */
struct cpus {
	uint16_t e_machine;       /* EM_X86_64 or EM_AARCH64 */
	size_t n;
	struct vf_mig_x86_cpu *x86;
	struct vf_mig_arm_cpu *arm;
};

static int cmp_cpu(const void *a, const void *b)
{
	const struct vf_mig_x86_cpu *x = a, *y = b;
	return x->instance < y->instance ? -1 : x->instance > y->instance;
}

static int cmp_arm(const void *a, const void *b)
{
	const struct vf_mig_arm_cpu *x = a, *y = b;
	return x->instance < y->instance ? -1 : x->instance > y->instance;
}

static struct vf_error *no_cpus(const struct vf_migstate *st, const char *path)
{
	if (st->ncpus)
		return NULL;
	return vf_error_set_hint(vf_error_set_path(vf_error_create(VF_ERR_UNSUPPORTED,
				"migration stream: no vCPU state (\"cpu\" section) was read"),
				path), "a stream of QEMU 2.4 or later with section footers is "
				"needed to convert it");
}

/* Every arm vCPU decoded, in cpu_index order (AArch64, little-endian). */
static struct vf_error *decode_arm(const struct vf_migstate *st, const char *path,
				   struct vf_mig_arm_cpu **out)
{
	*out = NULL;
	struct vf_error *err = no_cpus(st, path);
	if (err)
		return err;
	struct vf_mig_arm_cpu *c = calloc(st->ncpus, sizeof(*c));
	if (!c)
		return &vf_error_nomem;
	for (size_t i = 0; i < st->ncpus; i++)
		if ((err = vf_mig_cpu_arm(st, &st->cpus[i], &c[i]))) {
			free(c);
			return vf_error_set_path(err, path);
		}
	qsort(c, st->ncpus, sizeof(*c), cmp_arm);
	*out = c;
	return NULL;
}

/* Every vCPU decoded, in cpu_index order, all in 64-bit mode. */
static struct vf_error *decode_cpus(const struct vf_migstate *st, const char *path,
				    struct vf_mig_x86_cpu **out)
{
	*out = NULL;
	struct vf_error *nc = no_cpus(st, path);
	if (nc)
		return nc;
	struct vf_mig_x86_cpu *c = calloc(st->ncpus, sizeof(*c));
	if (!c)
		return &vf_error_nomem;
	for (size_t i = 0; i < st->ncpus; i++) {
		struct vf_error *err = vf_mig_cpu_x86(st, &st->cpus[i], &c[i]);
		if (!err && !c[i].long_mode)
			err = vf_error_set_hint(vf_error_at(VF_ERR_UNSUPPORTED,
				st->cpus[i].section_offset, "vCPU %" PRIu32 " is not in 64-bit mode "
				"(EFER 0x%" PRIx64 "): only x86_64 guests running a 64-bit kernel "
				"are converted", c[i].instance, c[i].efer), "save the VM once its "
				"kernel has booted");
		if (err) {
			free(c);
			return vf_error_set_path(err, path);
		}
	}
	qsort(c, st->ncpus, sizeof(*c), cmp_cpu);
	*out = c;
	return NULL;
}

/* ------------------------------------------------------------ the layout */

/* On pc and q35 machines the legacy VGA window [0xa0000, 0xc0000) is the
 * VGA device's, not RAM (the RAM beneath it is not what the guest sees
 * there): QEMU's own dump leaves it out, and so do we.  (The arm virt
 * machine's RAM starts at 1 GiB: nothing of it is there.) */
#define VGA_WINDOW_START 0xa0000u
#define VGA_WINDOW_END 0xc0000u

static struct vf_error *find_loads(struct saved *s, const char *path)
{
	struct vf_mem *m = &s->mem;
	size_t cap = 0;
	for (size_t i = 0; i < m->nranges; i++) {
		uint64_t a = m->ranges[i].start, end = a + m->ranges[i].size;
		while (a < end) {
			uint64_t dend;
			uint64_t nd = m->ops->next_data(m->ctx, a, &dend);
			if (nd == UINT64_MAX || nd >= end)
				break;
			if (dend > end)
				dend = end;
			if (nd < VGA_WINDOW_END && dend > VGA_WINDOW_START) {
				if (nd >= VGA_WINDOW_START) {
					a = VGA_WINDOW_END;   /* from the window's end on */
					continue;
				}
				dend = VGA_WINDOW_START;
			}
			if (dend <= nd)
				return vf_error_create(VF_ERR_CORRUPT, "migration stream: its RAM "
						       "index is inconsistent at 0x%" PRIx64, nd);
			if (s->nloads && s->loads[s->nloads - 1].paddr +
					 s->loads[s->nloads - 1].size == nd) {
				s->loads[s->nloads - 1].size += dend - nd;
			} else {
				if (s->nloads == SAVED_LOADS_MAX)
					return vf_error_set_path(vf_error_create(VF_ERR_UNSUPPORTED,
						"migration stream: its RAM is in more than %u pieces "
						"(pages never sent between them)", SAVED_LOADS_MAX),
						path);
				if (s->nloads == cap) {
					cap = cap ? 2 * cap : 16;
					struct load *n = realloc(s->loads, cap * sizeof(*n));
					if (!n)
						return &vf_error_nomem;
					s->loads = n;
				}
				s->loads[s->nloads++] = (struct load){ 0, nd, dend - nd };
			}
			a = dend;
		}
	}
	if (!s->nloads)
		return vf_error_set_path(vf_error_create(VF_ERR_UNSUPPORTED, "migration stream: "
				"it holds no page of guest RAM"), path);
	return NULL;
}

static void phdr(uint8_t *p, uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr,
		 uint64_t paddr, uint64_t size)
{
	put32(p, type);
	put32(p + 4, flags);
	put64(p + 8, off);
	put64(p + 16, vaddr);
	put64(p + 24, paddr);
	put64(p + 32, size);
	put64(p + 40, size);
	put64(p + 48, 0);
}

/* The PT_NOTE's bytes at p (NULL: only their size), in QEMU's order:
 * x86_64, every vCPU's NT_PRSTATUS, then every vCPU's QEMU CPU-state note;
 * aarch64, each vCPU's NT_PRSTATUS and NT_PRFPREG in turn (the NT_ARM_SVE
 * note QEMU adds for an SVE vCPU is not: its vector lengths are properties
 * of the CPU model, which the stream does not carry). */
static uint64_t cpu_notes(const struct cpus *c, uint8_t *p)
{
	uint8_t desc[NOTE_DESC_MAX];
	uint64_t size = 0;
	if (c->e_machine == EM_AARCH64) {
		for (size_t i = 0; i < c->n; i++) {
			size += vf_note_size(5, A64_PRSTATUS_SIZE) + vf_note_size(5, A64_PRFPREG_SIZE);
			if (!p)
				continue;
			a64_prstatus(&c->arm[i], desc);
			p += vf_note_encode(p, false, "CORE", NT_PRSTATUS, desc, A64_PRSTATUS_SIZE);
			a64_prfpreg(&c->arm[i], desc);
			p += vf_note_encode(p, false, "CORE", NT_PRFPREG, desc, A64_PRFPREG_SIZE);
		}
		return size;
	}
	size = c->n * (vf_note_size(5, PRSTATUS_SIZE) + vf_note_size(5, QEMU_CPUSTATE_SIZE));
	if (!p)
		return size;
	for (size_t i = 0; i < c->n; i++) {
		prstatus(&c->x86[i], desc);
		p += vf_note_encode(p, false, "CORE", NT_PRSTATUS, desc, PRSTATUS_SIZE);
	}
	for (size_t i = 0; i < c->n; i++) {
		cpustate(&c->x86[i], desc);
		p += vf_note_encode(p, false, "QEMU", 0, desc, QEMU_CPUSTATE_SIZE);
	}
	return size;
}

/* The header region and the loads' offsets. */
static struct vf_error *build_header(struct saved *s, const struct cpus *cpus, uint64_t *size)
{
	uint64_t nsize = cpu_notes(cpus, NULL);
	size_t nph = 1 + s->nloads;
	uint64_t noff = 64 + 56 * (uint64_t)nph, hsize = noff + nsize;
	uint64_t ps = s->mem.page_size ? s->mem.page_size : 4096;
	uint64_t at = (hsize + ps - 1) / ps * ps;
	uint8_t *h = calloc(1, (size_t)hsize);
	if (!h)
		return &vf_error_nomem;
	memcpy(h, ELFMAG, SELFMAG);
	h[EI_CLASS] = ELFCLASS64;
	h[EI_DATA] = ELFDATA2LSB;
	h[EI_VERSION] = EV_CURRENT;
	vf_store_uint(h + 16, 2, false, ET_CORE);
	vf_store_uint(h + 18, 2, false, cpus->e_machine);
	put32(h + 20, EV_CURRENT);
	put64(h + 32, 64);               /* e_phoff */
	vf_store_uint(h + 52, 2, false, 64);
	vf_store_uint(h + 54, 2, false, 56);
	vf_store_uint(h + 56, 2, false, nph);
	phdr(h + 64, PT_NOTE, 0, noff, 0, 0, nsize);
	for (size_t i = 0; i < s->nloads; i++) {
		struct load *l = &s->loads[i];
		l->offset = at;
		at += l->size;
		phdr(h + 64 + 56 * (1 + i), PT_LOAD, PF_R | PF_W | PF_X, l->offset, l->paddr,
		     l->paddr, l->size);
		s->info.ram_bytes += l->size;
	}
	cpu_notes(cpus, h + noff);
	s->hdr = h;
	s->info.header_size = hsize;
	*size = at;
	return NULL;
}

/* ------------------------------------------------------------ the source */

static struct vf_error *saved_pread(struct vf_src *src, void *buf, size_t len, uint64_t off,
				    size_t *got)
{
	struct saved *s = src->priv;
	uint8_t *out = buf;
	*got = 0;
	if (off >= src->size)
		return NULL;
	if (len > src->size - off)
		len = (size_t)(src->size - off);
	while (len) {
		size_t n;
		if (off < s->info.header_size) {
			n = s->info.header_size - off < len ? (size_t)(s->info.header_size - off) : len;
			memcpy(out, s->hdr + off, n);
		} else {
			/* the load holding off (loads are in offset order), or padding */
			size_t lo = 0, hi = s->nloads;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (s->loads[mid].offset <= off)
					lo = mid + 1;
				else
					hi = mid;
			}
			const struct load *l = lo ? &s->loads[lo - 1] : NULL;
			if (!l || off >= l->offset + l->size) {
				uint64_t next = lo < s->nloads ? s->loads[lo].offset : src->size;
				n = next - off < len ? (size_t)(next - off) : len;
				memset(out, 0, n);
			} else {
				n = l->offset + l->size - off < len ? (size_t)(l->offset + l->size - off)
								   : len;
				struct vf_error *err = vf_mem_read(&s->mem, l->paddr + (off - l->offset),
								   out, n);
				if (err)
					return err;
			}
		}
		out += n;
		off += n;
		len -= n;
		*got += n;
	}
	return NULL;
}

static void saved_free(struct saved *s)
{
	if (!s)
		return;
	vf_migstream_mem_deinit(&s->mem);
	vf_migstate_deinit(&s->info.st);
	free(s->info.domain_name);
	free(s->info.domain_uuid);
	free(s->hdr);
	free(s->loads);
	free(s);
}

static void saved_destroy(struct vf_src *src)
{
	saved_free(src->priv);
	src->priv = NULL;
	if (src->fd >= 0)
		close(src->fd);
	src->fd = -1;
}

static const struct vf_src_ops saved_ops = {
	.pread = saved_pread,
	.destroy = saved_destroy,
};

/* ------------------------------------------------------------ compressed */

static struct vf_error *put_all(int fd, const void *buf, size_t len, uint64_t off)
{
	int werr;
	return vf_unnamed_write(fd, buf, len, off, &werr);
}

/* Copy [from, the end) of z into fd at the same offsets (z's size may be
 * unknown until its end). */
static struct vf_error *copy_out(struct vf_src *z, uint64_t from, int fd, uint8_t *buf,
				 size_t cap)
{
	size_t got;
	for (uint64_t off = from;; off += got) {
		struct vf_error *err = vf_src_pread(z, buf, cap, off, &got);
		if (err || !got)
			return err;
		if ((err = put_all(fd, buf, got, off)))
			return err;
	}
}

/* One layer of compression undone into a new unnamed file in tmpdir: the
 * whole file (a bare compressed stream or image), or a libvirt image's
 * stream (its header and XML as they are, the format field set to raw, so
 * that every offset is what it was).  *out NULL: nothing compressed. */
static struct vf_error *unpack_once(struct vf_src *file, const char *tmpdir,
				    struct vf_src **out, const char **codec)
{
	enum { CHUNK = 1 << 20 };
	*out = NULL;
	uint8_t head[VF_LIBVIRT_HEADER_SIZE];
	size_t got;
	struct vf_error *err = vf_src_pread(file, head, sizeof(head), 0, &got);
	if (err)
		return err;
	enum vf_zsrc_codec zc;
	struct vf_src *z = NULL;
	struct vf_libvirt_info info = { 0 };
	if (vf_zsrc_probe(head, got, &zc)) {
		if ((err = vf_zsrc_open(file, false, 0, zc, &z)))
			return err;
		/* not a stream or an image once decompressed: the walk says what
		 * it is, from its first bytes, without decompressing the rest */
		uint8_t in[VF_LIBVIRT_MAGIC_LEN];
		size_t n = 0;
		struct vf_error *e = vf_src_pread(z, in, sizeof(in), 0, &n);
		bool saved = !e && vf_migstream_probe(in, n) && !vf_zsrc_probe(in, n, &zc);
		vf_error_destroy(e);
		if (!saved) {
			vf_src_destroy(z);
			return NULL;
		}
		*codec = vf_zsrc_codec_name(zc);
	} else if (got >= VF_LIBVIRT_MAGIC_LEN && vf_libvirt_probe(head, got)) {
		if ((err = vf_libvirt_open(file, false, &z)))
			return err;
		if (!vf_libvirt_info(z, &info) || !info.compressed) {
			vf_src_destroy(z);
			return NULL;
		}
		*codec = info.compressed;
	} else {
		return NULL;
	}
	int fd = -1;
	uint8_t *buf = malloc(CHUNK);
	if (!buf)
		err = &vf_error_nomem;
	if (!err)
		err = vf_unnamed_file(tmpdir, &fd);
	/* a libvirt image: its header and XML first, the format field (at 28) raw */
	for (uint64_t off = 0; !err && off < info.stream_offset; off += got) {
		got = info.stream_offset - off < CHUNK ? (size_t)(info.stream_offset - off) : CHUNK;
		if (!(err = vf_src_read(file, buf, got, off, "libvirt image header")) && off == 0)
			vf_store_uint(buf + 28, 4, info.big_endian, 0);
		if (!err)
			err = put_all(fd, buf, got, off);
	}
	if (!err)
		err = copy_out(z, info.stream_offset, fd, buf, CHUNK);
	free(buf);
	vf_src_destroy(z);
	if (!err)
		err = vf_src_from_fd(fd, file->path, out);
	else if (fd >= 0)
		close(fd);
	if (err)
		return vf_error_prefix(err, "decompressing the saved state's %s data into %s",
				       *codec, tmpdir);
	return NULL;
}

/* A compressed saved state is decompressed once, in order, into an unnamed
 * file in tmpdir, so that the conversion's reads, in any order, cost a pread:
 * a file compressed whole first, then a libvirt image's stream.  file is
 * taken (destroyed, or handed back as *src when nothing is compressed).
 * *codec: the compression undone (the innermost), or NULL. */
static struct vf_error *unpacked(struct vf_src *file, const char *tmpdir, struct vf_src **src,
				 const char **codec)
{
	*src = NULL;
	*codec = NULL;
	struct vf_error *err = NULL;
	for (int layer = 0; !err && layer < 2; layer++) {
		struct vf_src *next;
		if ((err = unpack_once(file, tmpdir, &next, codec)) || !next)
			break;
		vf_src_destroy(file);
		file = next;
	}
	if (err) {
		vf_src_destroy(file);
		return err;
	}
	*src = file;
	return NULL;
}

/* The text of the first <tag>...</tag> of xml, or NULL. */
static char *xml_text(const char *xml, const char *tag)
{
	char open[32], close[32];
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	const char *a = strstr(xml, open);
	if (!a)
		return NULL;
	a += strlen(open);
	const char *b = strstr(a, close);
	if (!b || b - a > 256)
		return NULL;
	return strndup(a, (size_t)(b - a));
}

/* A libvirt image's domain name and UUID, from its XML (header and XML only). */
static void domain_of(struct vf_src *file, struct vf_saved_info *info)
{
	uint8_t head[VF_LIBVIRT_MAGIC_LEN];
	size_t got;
	struct vf_error *err = vf_src_pread(file, head, sizeof(head), 0, &got);
	if (err || got < sizeof(head) || !vf_libvirt_probe(head, got)) {
		vf_error_destroy(err);
		return;
	}
	struct vf_src *lv;
	char *xml = NULL;
	if ((err = vf_libvirt_open(file, false, &lv))) {
		vf_error_destroy(err);
		return;
	}
	if (!(err = vf_libvirt_xml(lv, &xml))) {
		info->domain_name = xml_text(xml, "name");
		info->domain_uuid = xml_text(xml, "uuid");
	}
	vf_error_destroy(err);
	free(xml);
	vf_src_destroy(lv);
}

struct vf_error *vf_saved_open_src(struct vf_src *file, const char *layout_spec,
				   const char *tmpdir, struct vf_src **out)
{
	*out = NULL;
	const char *path = file->path;
	struct saved *s = calloc(1, sizeof(*s));
	struct vf_src *src = calloc(1, sizeof(*src));
	if (!s || !src || !(src->path = strdup(path))) {
		free(s);
		free(src);
		vf_src_destroy(file);
		return &vf_error_nomem;
	}
	path = src->path;
	src->priv = s;
	src->ops = &saved_ops;
	src->kind = VF_SRC_SAVED;
	/* the file itself stays open for its identity (the writer's check that
	 * the output is not the input) */
	src->file_size = file->size;
	src->fd = fcntl(file->fd, F_DUPFD_CLOEXEC, 0);
	struct cpus cpus = { 0 };
	struct vf_src *stream = NULL;
	const char *codec = NULL;
	struct vf_error *err = src->fd < 0 ? vf_error_os(errno, path, "dup") : NULL;
	if (err)
		vf_src_destroy(file);
	else
		err = unpacked(file, tmpdir, &stream, &codec);
	if (!err)
		domain_of(stream, &s->info);
	if (!err)
		err = vf_migstream_mem_open_src(stream, layout_spec, &s->mem, &s->info.st);
	if (!err && codec)
		s->info.st.compressed = codec;
	if (!err)
		vf_migstream_mem_info(&s->mem, &s->info.mem);
	if (!err) {
		/* the machine by its main RAM block: pc/q35 x86_64, or arm virt */
		if (strcmp(s->info.mem.block, "pc.ram") == 0)
			cpus.e_machine = EM_X86_64;
		else if (strcmp(s->info.mem.block, "mach-virt.ram") == 0)
			cpus.e_machine = EM_AARCH64;
		else
			err = vf_error_set_hint(vf_error_set_path(vf_error_create(
				VF_ERR_UNSUPPORTED, "converting a saved state of machine '%s' is not "
				"implemented (x86_64 pc and q35, and aarch64 virt guests are)",
				s->info.st.machine), path), "restore the VM and take a dump with "
				"dump-guest-memory (virsh dump --memory-only)");
	}
	if (!err && cpus.e_machine == EM_AARCH64)
		err = decode_arm(&s->info.st, path, &cpus.arm);
	else if (!err)
		err = decode_cpus(&s->info.st, path, &cpus.x86);
	cpus.n = s->info.st.ncpus;
	if (!err)
		err = find_loads(s, path);
	if (!err)
		err = build_header(s, &cpus, &src->size);
	s->info.e_machine = cpus.e_machine;
	for (size_t i = 0; !err && cpus.arm && i < cpus.n; i++)
		s->info.sve_cpus += cpus.arm[i].sve;
	free(cpus.x86);
	free(cpus.arm);
	if (err) {
		vf_src_destroy(src);
		return err;
	}
	s->info.ncpus = s->info.st.ncpus;
	s->info.nloads = s->nloads;
	*out = src;
	return NULL;
}

struct vf_error *vf_saved_open(const char *path, const char *layout_spec, const char *tmpdir,
			       struct vf_src **out)
{
	struct vf_src *file;
	*out = NULL;
	struct vf_error *err = vf_src_open_file(path, &file);
	return err ? err : vf_saved_open_src(file, layout_spec, tmpdir, out);
}

const struct vf_saved_info *vf_saved_info(const struct vf_src *src)
{
	if (!src || src->kind != VF_SRC_SAVED || src->ops != &saved_ops)
		return NULL;
	return &((const struct saved *)src->priv)->info;
}
