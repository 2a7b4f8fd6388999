/* elfcore.c - ELF core dumps.
 *
 * The dump is reached only through its vf_src (plain or flattened), so the
 * header and program header table are read through the source into a small
 * relocated in-memory ELF image (header, then program headers, then section
 * header 0 when PN_XNUM is used), which libelf decodes with gelf_*: one code
 * path for ELF32/ELF64 and both byte orders, and libelf never maps the dump.
 */
#include "config.h"
#include "format/elfcore.h"

#include <elf.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <pthread.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util/cursor.h"
#include "arch/arch.h"
#include "format/dump.h"
#include "source/flat.h"

#define PHNUM_MAX (1u << 18)   /* bounded memory: 262144 program headers */
struct seg {
	uint64_t paddr, size, offset;
};

/* The file-backed PT_LOAD parts resolved once at open into disjoint pieces
 * sorted by paddr (where PT_LOADs overlap, the one starting last holds the
 * bytes, as a walk back from the last segment starting below found them):
 * a read or a lookup is one binary search, whatever the segments nest. */
struct elf_mem {
	struct vf_src *src;
	struct seg *pieces;
	size_t n;
};

static bool probe(const uint8_t *head, size_t len)
{
	return len >= SELFMAG && memcmp(head, ELFMAG, SELFMAG) == 0;
}

/* The first piece that ends after paddr (n: none). */
static size_t piece_after(const struct elf_mem *m, uint64_t paddr)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->pieces[mid].paddr + m->pieces[mid].size <= paddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct vf_error *elf_mem_read(void *ctx, uint64_t paddr, void *buf, size_t len)
{
	struct elf_mem *m = ctx;
	uint8_t *out = buf;
	size_t i = piece_after(m, paddr);
	while (len > 0) {
		const struct seg *s = i < m->n ? &m->pieces[i] : NULL;
		if (!s || s->paddr > paddr)
			return vf_error_paddr(VF_ERR_NOT_PRESENT, paddr,
					      "not in this dump (no PT_LOAD holds it)");
		uint64_t in = paddr - s->paddr;
		uint64_t n = s->size - in < len ? s->size - in : len;
		struct vf_error *err = vf_src_read(m->src, out, (size_t)n, s->offset + in,
						   "PT_LOAD data");
		if (err)
			return err;
		out += n;
		paddr += n;
		len -= (size_t)n;
		i++;
	}
	return NULL;
}

static void elf_mem_destroy(void *ctx)
{
	struct elf_mem *m = ctx;
	if (!m)
		return;
	free(m->pieces);
	free(m);
}

/* Where piece s holds data at or after a (its file offset fo = s->offset +
 * (a - s->paddr)): SEEK_DATA on a plain file, the records of a flattened
 * stream; UINT64_MAX: none in this piece. */
static uint64_t piece_data(const struct elf_mem *m, const struct seg *s, uint64_t a,
			   uint64_t *data_end)
{
	uint64_t end = s->paddr + s->size;
	*data_end = end;
	if (m->src->kind == VF_SRC_FLATTENED) {
		for (;;) {
			uint64_t fo = s->offset + (a - s->paddr), pos, len;
			bool held = vf_flat_locate(m->src, fo, &pos, &len);
			if (held) {
				*data_end = len < end - a ? a + len : end;
				return a;
			}
			if (len >= end - a)
				return UINT64_MAX;
			a += len;   /* the next record starts inside the piece */
		}
	}
	if (m->src->kind != VF_SRC_FILE)
		return a;
	off_t d = lseek(m->src->fd, (off_t)(s->offset + (a - s->paddr)), SEEK_DATA);
	if (d < 0)
		return errno == ENXIO ? UINT64_MAX : a;
	if ((uint64_t)d >= s->offset + s->size)
		return UINT64_MAX;
	uint64_t at = s->paddr + ((uint64_t)d - s->offset);
	/* the data ends at the next hole, or where the piece ends (the next is
	 * asked again) */
	off_t h = lseek(m->src->fd, d, SEEK_HOLE);
	if (h > d && (uint64_t)h < s->offset + s->size)
		*data_end = s->paddr + ((uint64_t)h - s->offset);
	return at > a ? at : a;
}

/* The first address at or after paddr in a piece whose file bytes are not a
 * hole (plain file) or that a record holds (flattened stream). */
static uint64_t elf_next_data(void *ctx, uint64_t paddr, uint64_t *data_end)
{
	struct elf_mem *m = ctx;
	*data_end = UINT64_MAX;
	for (size_t i = piece_after(m, paddr); i < m->n; i++) {
		const struct seg *s = &m->pieces[i];
		uint64_t a = paddr > s->paddr ? paddr : s->paddr;
		uint64_t at = piece_data(m, s, a, data_end);
		if (at != UINT64_MAX)
			return at;
	}
	*data_end = UINT64_MAX;
	return UINT64_MAX;
}

static const struct vf_mem_ops elf_mem_ops = {
	.next_data = elf_next_data,
	.read = elf_mem_read,
	.destroy = elf_mem_destroy,
};

/* A PT_LOAD part with its program header index, for a stable sort. */
struct load {
	struct seg seg;
	size_t index;
};

static int cmp_load(const void *a, const void *b)
{
	const struct load *x = a, *y = b;
	if (x->seg.paddr != y->seg.paddr)
		return x->seg.paddr < y->seg.paddr ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Append [a, b) as load l holds it, merged with the piece before when that
 * is the same bytes' preceding part. */
static void emit(struct elf_mem *m, const struct seg *l, uint64_t a, uint64_t b)
{
	if (a >= b)
		return;
	uint64_t off = l->offset + (a - l->paddr);
	struct seg *last = m->n ? &m->pieces[m->n - 1] : NULL;
	if (last && last->paddr + last->size == a && last->offset + last->size == off) {
		last->size += b - a;
		return;
	}
	m->pieces[m->n++] = (struct seg){ a, b - a, off };
}

/* A sweep over the loads by start with a stack of those open there: a load
 * starting later covers the ones below it up to its end, and those ending
 * before it leave the stack (ends decrease from bottom to top). */
static void resolve(struct elf_mem *m, struct load *loads, size_t n, size_t *stack)
{
	size_t sp = 0;
	uint64_t cur = n ? loads[0].seg.paddr : 0;
#define END(k) (loads[k].seg.paddr + loads[k].seg.size)
	for (size_t j = 0; j < n; j++) {
		uint64_t s = loads[j].seg.paddr, e = END(j);
		while (sp && END(stack[sp - 1]) <= s) {
			emit(m, &loads[stack[sp - 1]].seg, cur, END(stack[sp - 1]));
			cur = END(stack[sp - 1]) > cur ? END(stack[sp - 1]) : cur;
			sp--;
		}
		if (sp)
			emit(m, &loads[stack[sp - 1]].seg, cur, s);
		cur = s > cur ? s : cur;
		while (sp && END(stack[sp - 1]) <= e)
			sp--;
		stack[sp++] = j;
	}
	for (; sp; sp--) {
		emit(m, &loads[stack[sp - 1]].seg, cur, END(stack[sp - 1]));
		cur = END(stack[sp - 1]) > cur ? END(stack[sp - 1]) : cur;
	}
#undef END
}

/* Ranges for reports: the pieces merged where they touch (a kernel-text
 * PT_LOAD may map the same physical bytes as a RAM PT_LOAD). */
static void report_ranges(const struct elf_mem *m, struct vf_mem *mem)
{
	size_t nr = 0;
	for (size_t i = 0; i < m->n; i++) {
		const struct seg *p = &m->pieces[i];
		struct vf_mem_range *r = nr ? &mem->ranges[nr - 1] : NULL;
		if (r && p->paddr == r->start + r->size)
			r->size += p->size;
		else
			mem->ranges[nr++] = (struct vf_mem_range){ p->paddr, p->size };
	}
	mem->nranges = nr;
}

static struct vf_error *setup_mem(struct vf_dump *dump)
{
	struct vf_elf_info *elf = dump->elf;
	size_t nload = 0;
	for (size_t i = 0; i < elf->phnum; i++)
		if (elf->phdrs[i].type == PT_LOAD && elf->phdrs[i].filesz)
			nload++;
	struct elf_mem *m = calloc(1, sizeof(*m));
	struct load *loads = malloc((nload ? nload : 1) * sizeof(*loads));
	size_t *stack = malloc((nload ? nload : 1) * sizeof(*stack));
	if (m)   /* each load adds at most two pieces */
		m->pieces = malloc((nload ? 2 * nload : 1) * sizeof(*m->pieces));
	dump->mem.ranges = malloc((nload ? 2 * nload : 1) * sizeof(*dump->mem.ranges));
	if (!m || !loads || !stack || !m->pieces || !dump->mem.ranges) {
		elf_mem_destroy(m);
		free(loads);
		free(stack);
		return &vf_error_nomem;
	}
	size_t n = 0;
	for (size_t i = 0; i < elf->phnum; i++) {
		const struct vf_elf_phdr *p = &elf->phdrs[i];
		if (p->type == PT_LOAD && p->filesz)
			loads[n++] = (struct load){ { p->paddr, p->filesz, p->offset }, i };
	}
	if (n > 1)  /* qsort(NULL, 0) is undefined */
		qsort(loads, n, sizeof(*loads), cmp_load);
	m->src = dump->src;
	resolve(m, loads, n, stack);
	free(loads);
	free(stack);
	report_ranges(m, &dump->mem);
	dump->mem.ops = &elf_mem_ops;
	dump->mem.ctx = m;
	dump->mem.name = "ELF dump";
	dump->mem.bulk_reads_cheap = true;   /* one PT_LOAD read: one pread (or a few, flattened) */
	dump->mem.page_size = dump->page_size;
	return NULL;
}

static uint16_t ehdr_u16(const uint8_t *h, size_t off, bool be)
{
	return (uint16_t)vf_load_uint(h + off, 2, be);
}

/* What locates the tables, read by hand from the ELF header (libelf decodes
 * the rest), and where in the header each field is. */
struct ehdr {
	bool is64, be;
	size_t ehsz, phentsz, shentsz;    /* this class's structure sizes */
	size_t o_phoff, o_shoff, o_phentsize, o_phnum, o_shentsize, o_shnum, o_shstrndx;
	uint8_t h[sizeof(Elf64_Ehdr)];    /* the header as read */
	uint64_t phoff, shoff;
	uint16_t phentsize, e_phnum, shentsize;
	bool xnum;                        /* e_phnum is PN_XNUM: the count is in shdr0 */
	uint64_t phnum;                   /* the real count */
	uint8_t shdr0[sizeof(Elf64_Shdr)];
};

/* Class and byte order from e_ident. */
static struct vf_error *read_ident(struct vf_dump *dump, struct ehdr *eh)
{
	uint8_t ident[EI_NIDENT];
	struct vf_error *err = vf_src_read(dump->src, ident, sizeof(ident), 0,
					   "ELF identification");
	if (err)
		return err;
	switch (ident[EI_CLASS]) {
	case ELFCLASS32: eh->is64 = false; break;
	case ELFCLASS64: eh->is64 = true; break;
	default:
		return vf_error_at(VF_ERR_CORRUPT, EI_CLASS, "ELF class %u is neither 32- nor 64-bit",
				   ident[EI_CLASS]);
	}
	switch (ident[EI_DATA]) {
	case ELFDATA2LSB: eh->be = false; break;
	case ELFDATA2MSB: eh->be = true; break;
	default:
		return vf_error_at(VF_ERR_CORRUPT, EI_DATA, "ELF byte order %u is unknown",
				   ident[EI_DATA]);
	}
	dump->elf_class = eh->is64 ? 64 : 32;
	dump->big_endian = eh->be;
	return NULL;
}

static struct vf_error *read_ehdr(struct vf_src *src, struct ehdr *eh)
{
	bool is64 = eh->is64, be = eh->be;
	eh->ehsz = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	eh->phentsz = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	eh->shentsz = is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
	struct vf_error *err = vf_src_read(src, eh->h, eh->ehsz, 0, "ELF header");
	if (err)
		return err;
	eh->o_phoff = is64 ? 0x20 : 0x1c;
	eh->o_shoff = is64 ? 0x28 : 0x20;
	eh->o_phentsize = is64 ? 0x36 : 0x2a;
	eh->o_phnum = eh->o_phentsize + 2;
	eh->o_shentsize = eh->o_phnum + 2;
	eh->o_shnum = eh->o_shentsize + 2;
	eh->o_shstrndx = eh->o_shnum + 2;
	eh->phoff = vf_load_uint(eh->h + eh->o_phoff, is64 ? 8 : 4, be);
	eh->shoff = vf_load_uint(eh->h + eh->o_shoff, is64 ? 8 : 4, be);
	eh->phentsize = ehdr_u16(eh->h, eh->o_phentsize, be);
	eh->e_phnum = ehdr_u16(eh->h, eh->o_phnum, be);
	eh->shentsize = ehdr_u16(eh->h, eh->o_shentsize, be);
	return NULL;
}

/* The program header count (from section header 0 under PN_XNUM), and a
 * table that fits the file and the memory bound. */
static struct vf_error *count_phdrs(struct vf_src *src, struct ehdr *eh)
{
	eh->phnum = eh->e_phnum;
	eh->xnum = eh->e_phnum == PN_XNUM;
	if (eh->xnum) {
		if (!eh->shoff || eh->shentsize != eh->shentsz)
			return vf_error_at(VF_ERR_CORRUPT, eh->o_phnum, "e_phnum is PN_XNUM but there "
					   "is no valid section header 0 to hold the count");
		struct vf_error *err = vf_src_read(src, eh->shdr0, eh->shentsz, eh->shoff,
						   "section header 0 (PN_XNUM count)");
		if (err)
			return err;
		/* sh_info */
		eh->phnum = vf_load_uint(eh->shdr0 + (eh->is64 ? 0x2c : 0x1c), 4, eh->be);
	}
	if (eh->phnum && eh->phentsize != eh->phentsz)
		return vf_error_at(VF_ERR_CORRUPT, eh->o_phentsize, "e_phentsize is %u, expected %zu",
				   eh->phentsize, eh->phentsz);
	if (eh->phnum > PHNUM_MAX)
		return vf_error_at(VF_ERR_UNSUPPORTED, eh->o_phnum, "%" PRIu64 " program headers "
				   "(more than %u are not supported)", eh->phnum, PHNUM_MAX);
	uint64_t tend;
	if (!vf_add_ok(eh->phoff, eh->phnum * eh->phentsz, &tend) || tend > src->size)
		return vf_error_at(VF_ERR_CORRUPT, eh->o_phoff, "program header table (0x%" PRIx64
				   ", %" PRIu64 " entries) runs past the end of the file (0x%"
				   PRIx64 ")", eh->phoff, eh->phnum, src->size);
	return NULL;
}

/* The relocated image: the header, the program headers right after it, then
 * section header 0 under PN_XNUM; the header's offsets point there. */
static struct vf_error *build_image(struct vf_src *src, const struct ehdr *eh,
				    uint8_t **image_out, size_t *image_len)
{
	bool is64 = eh->is64, be = eh->be;
	size_t ehsz = eh->ehsz;
	uint64_t tbl = eh->phnum * eh->phentsz;
	size_t len = ehsz + (size_t)tbl + (eh->xnum ? eh->shentsz : 0);
	uint8_t *img = calloc(1, len);
	if (!img)
		return &vf_error_nomem;
	memcpy(img, eh->h, ehsz);
	struct vf_error *err = vf_src_read(src, img + ehsz, (size_t)tbl, eh->phoff,
					   "program header table");
	if (err) {
		free(img);
		return err;
	}
	vf_store_uint(img + eh->o_phoff, is64 ? 8 : 4, be, eh->phnum ? ehsz : 0);
	if (eh->xnum) {
		memcpy(img + ehsz + tbl, eh->shdr0, eh->shentsz);
		vf_store_uint(img + eh->o_shoff, is64 ? 8 : 4, be, ehsz + tbl);
		vf_store_uint(img + eh->o_shnum, 2, be, 1);
	} else {
		vf_store_uint(img + eh->o_shoff, is64 ? 8 : 4, be, 0);
		vf_store_uint(img + eh->o_shnum, 2, be, 0);
	}
	vf_store_uint(img + eh->o_shstrndx, 2, be, 0);
	*image_out = img;
	*image_len = len;
	return NULL;
}

/* Read the header and program headers; build the relocated image. */
static struct vf_error *read_headers(struct vf_dump *dump, uint8_t **image_out,
				     size_t *image_len)
{
	struct ehdr eh;
	memset(&eh, 0, sizeof(eh));
	struct vf_error *err = read_ident(dump, &eh);
	if (!err)
		err = read_ehdr(dump->src, &eh);
	if (!err)
		err = count_phdrs(dump->src, &eh);
	if (!err)
		err = build_image(dump->src, &eh, image_out, image_len);
	if (err)
		return err;
	/* Keep the header's own values for the report. */
	dump->elf->e_phoff = eh.phoff;
	dump->elf->e_shoff = eh.shoff;
	dump->elf->e_phnum = eh.e_phnum;
	dump->elf->e_shnum = ehdr_u16(eh.h, eh.o_shnum, eh.be);
	dump->elf->e_shstrndx = ehdr_u16(eh.h, eh.o_shstrndx, eh.be);
	dump->elf->e_shentsize = eh.shentsize;
	dump->elf->phnum = (size_t)eh.phnum;
	return NULL;
}

/* The ELF header as libelf decodes it; it must be a core with the program
 * header count read by hand. */
static struct vf_error *decode_ehdr(Elf *e, struct vf_elf_info *info, size_t *phnum)
{
	GElf_Ehdr eh;
	if (!e || !gelf_getehdr(e, &eh) || elf_getphdrnum(e, phnum) != 0)
		return vf_error_at(VF_ERR_CORRUPT, 0, "ELF header not readable: %s",
				   elf_errmsg(-1));
	if (eh.e_type != ET_CORE)
		return vf_error_at(VF_ERR_CORRUPT, 0x10, "ELF file of type %u is not a core dump "
				   "(ET_CORE)", eh.e_type);
	info->e_type = eh.e_type;
	info->e_machine = eh.e_machine;
	info->e_version = eh.e_version;
	info->e_entry = eh.e_entry;
	info->e_flags = eh.e_flags;
	info->e_ehsize = eh.e_ehsize;
	info->e_phentsize = eh.e_phentsize;
	info->osabi = eh.e_ident[EI_OSABI];
	if (*phnum != info->phnum)
		return vf_error_at(VF_ERR_CORRUPT, 0, "program header count mismatch (%zu vs %zu)",
				   *phnum, info->phnum);
	return NULL;
}

/* Program header i (at file offset off) must have its data inside the file
 * and, for a PT_LOAD, a physical range that does not overflow. */
static struct vf_error *check_phdr(const struct vf_dump *dump, size_t i, uint64_t off,
				   const GElf_Phdr *ph)
{
	uint64_t end;
	if ((ph->p_type == PT_LOAD || ph->p_type == PT_NOTE) &&
	    (!vf_add_ok(ph->p_offset, ph->p_filesz, &end) || end > dump->src->size)) {
		struct vf_error *err = vf_error_at(VF_ERR_CORRUPT, off,
				"%s %zu: data 0x%" PRIx64 "-0x%" PRIx64 " runs past the "
				"end of the file (0x%" PRIx64 ")",
				ph->p_type == PT_LOAD ? "PT_LOAD" : "PT_NOTE", i, ph->p_offset,
				ph->p_offset + ph->p_filesz, dump->src->size);
		vf_error_set_hint(err, "the dump is probably truncated: it was not written "
				  "completely or was cut when copied");
		return err;
	}
	uint64_t pend;
	if (ph->p_type == PT_LOAD && !vf_add_ok(ph->p_paddr, ph->p_filesz, &pend))
		return vf_error_at(VF_ERR_CORRUPT, off, "PT_LOAD %zu: physical range overflows", i);
	return NULL;
}

static struct vf_error *decode_phdrs(Elf *e, struct vf_dump *dump, size_t phnum)
{
	struct vf_elf_info *info = dump->elf;
	info->phdrs = calloc(phnum ? phnum : 1, sizeof(*info->phdrs));
	if (!info->phdrs)
		return &vf_error_nomem;
	size_t phentsz = dump->elf_class == 64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph))
			return vf_error_at(VF_ERR_CORRUPT, info->e_phoff + i * phentsz,
					   "program header %zu not readable: %s", i, elf_errmsg(-1));
		info->phdrs[i] = (struct vf_elf_phdr){ ph.p_type, ph.p_flags, ph.p_offset,
						       ph.p_vaddr, ph.p_paddr, ph.p_filesz,
						       ph.p_memsz, ph.p_align };
		struct vf_error *err = check_phdr(dump, i, info->e_phoff + i * phentsz, &ph);
		if (err)
			return err;
	}
	return NULL;
}

static void libelf_init(void)
{
	elf_version(EV_CURRENT);
}

/* libelf decodes the relocated image into dump->elf.  libelf's version is
 * one store to a global of libelf's: made once, never by two threads at a
 * time (vmcore-fix --jobs opens dumps in parallel). */
static struct vf_error *decode_image(struct vf_dump *dump, uint8_t *img, size_t len)
{
	static pthread_once_t libelf_once = PTHREAD_ONCE_INIT;
	pthread_once(&libelf_once, libelf_init);
	Elf *e = elf_memory((char *)img, len);
	size_t phnum = 0;
	struct vf_error *err = decode_ehdr(e, dump->elf, &phnum);
	if (!err)
		err = decode_phdrs(e, dump, phnum);
	if (e)
		elf_end(e);
	return err;
}

static struct vf_error *open_dump(struct vf_dump *dump)
{
	dump->elf = calloc(1, sizeof(*dump->elf));
	if (!dump->elf)
		return &vf_error_nomem;
	uint8_t *img = NULL;
	size_t len = 0;
	struct vf_error *err = read_headers(dump, &img, &len);
	if (err)
		return err;
	err = decode_image(dump, img, len);
	free(img);
	if (err)
		return err;
	dump->e_machine = dump->elf->e_machine;
	dump->machine_name = vf_arch_name(dump->elf->e_machine);
	dump->page_size = 4096;

	for (size_t i = 0; i < dump->elf->phnum; i++) {
		const struct vf_elf_phdr *p = &dump->elf->phdrs[i];
		if (p->type != PT_NOTE || !p->filesz)
			continue;
		err = vf_dump_add_note_region(dump, p->offset, p->filesz);
		if (err)
			return vf_error_prefix(err, "PT_NOTE %zu", i);
	}
	err = vf_dump_find_vmcoreinfo(dump);
	if (err)
		return err;
	return setup_mem(dump);
}

static void deinit(struct vf_dump *dump)
{
	if (!dump->elf)
		return;
	free(dump->elf->phdrs);
	free(dump->elf);
	dump->elf = NULL;
}

const struct vf_format_ops vf_elf_format = {
	.name = "ELF core",
	.format = VF_FORMAT_ELF,
	.probe = probe,
	.open = open_dump,
	.deinit = deinit,
};
