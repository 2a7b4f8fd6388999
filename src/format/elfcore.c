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
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util/cursor.h"
#include "arch/arch.h"
#include "format/dump.h"

#define PHNUM_MAX (1u << 18)   /* bounded memory: 262144 program headers */

struct seg {
	uint64_t paddr, size, offset;
};

struct elf_mem {
	struct vf_src *src;
	struct seg *segs;      /* file-backed PT_LOAD parts, sorted by paddr */
	uint64_t *max_end;     /* prefix maximum of paddr + size */
	size_t n;
};

static bool probe(const uint8_t *head, size_t len)
{
	return len >= SELFMAG && memcmp(head, ELFMAG, SELFMAG) == 0;
}

/* Find a segment covering paddr; NULL if none. */
static const struct seg *find_seg(const struct elf_mem *m, uint64_t paddr)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {   /* first segment with start > paddr */
		size_t mid = lo + (hi - lo) / 2;
		if (m->segs[mid].paddr <= paddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0;) {
		if (m->max_end[i] <= paddr)
			break;
		if (paddr - m->segs[i].paddr < m->segs[i].size)
			return &m->segs[i];
	}
	return NULL;
}

static struct vf_error *elf_mem_read(void *ctx, uint64_t paddr, void *buf, size_t len)
{
	struct elf_mem *m = ctx;
	uint8_t *out = buf;
	while (len > 0) {
		const struct seg *s = find_seg(m, paddr);
		if (!s)
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
	}
	return NULL;
}

static void elf_mem_destroy(void *ctx)
{
	struct elf_mem *m = ctx;
	if (!m)
		return;
	free(m->segs);
	free(m->max_end);
	free(m);
}

/* The first address at or after paddr in a segment whose file bytes are not a
 * hole (SEEK_DATA on plain files; a flattened stream answers paddr). */
static uint64_t elf_next_data(void *ctx, uint64_t paddr, uint64_t *data_end)
{
	struct elf_mem *m = ctx;
	*data_end = UINT64_MAX;
	size_t lo = 0, hi = m->n;
	while (lo < hi) {   /* the first segment starting after paddr */
		size_t mid = lo + (hi - lo) / 2;
		if (m->segs[mid].paddr <= paddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t i = lo;
	if (i > 0 && m->max_end[i - 1] > paddr) {
		/* inside segment i - 1, unless segments overlap: then no skipping */
		if (paddr - m->segs[i - 1].paddr >= m->segs[i - 1].size)
			return paddr;
		i--;
	}
	for (; i < m->n; i++) {
		const struct seg *s = &m->segs[i];
		uint64_t a = paddr > s->paddr ? paddr : s->paddr;
		if (m->src->kind != VF_SRC_FILE)
			return a;
		off_t d = lseek(m->src->fd, (off_t)(s->offset + (a - s->paddr)), SEEK_DATA);
		if (d < 0)
			return errno == ENXIO ? UINT64_MAX : a;
		if ((uint64_t)d < s->offset + s->size) {
			uint64_t at = s->paddr + ((uint64_t)d - s->offset);
			/* the data ends at the next hole, or where the segment ends
			 * (the next segment is asked again) */
			off_t h = lseek(m->src->fd, d, SEEK_HOLE);
			*data_end = h > d && (uint64_t)h < s->offset + s->size ?
				    s->paddr + ((uint64_t)h - s->offset) : s->paddr + s->size;
			return at > a ? at : a;
		}
	}
	return UINT64_MAX;
}

static const struct vf_mem_ops elf_mem_ops = {
	.next_data = elf_next_data,
	.read = elf_mem_read,
	.destroy = elf_mem_destroy,
};

static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;
	if (x->paddr != y->paddr)
		return x->paddr < y->paddr ? -1 : 1;
	return 0;
}

static struct vf_error *setup_mem(struct vf_dump *dump)
{
	struct vf_elf_info *elf = dump->elf;
	struct elf_mem *m = calloc(1, sizeof(*m));
	if (!m)
		return &vf_error_nomem;
	size_t nload = 0;
	for (size_t i = 0; i < elf->phnum; i++)
		if (elf->phdrs[i].type == PT_LOAD && elf->phdrs[i].filesz)
			nload++;
	m->src = dump->src;
	m->segs = malloc((nload ? nload : 1) * sizeof(*m->segs));
	m->max_end = malloc((nload ? nload : 1) * sizeof(*m->max_end));
	dump->mem.ranges = malloc((nload ? nload : 1) * sizeof(*dump->mem.ranges));
	if (!m->segs || !m->max_end || !dump->mem.ranges) {
		elf_mem_destroy(m);
		return &vf_error_nomem;
	}
	for (size_t i = 0; i < elf->phnum; i++) {
		const struct vf_elf_phdr *p = &elf->phdrs[i];
		if (p->type == PT_LOAD && p->filesz)
			m->segs[m->n++] = (struct seg){ p->paddr, p->filesz, p->offset };
	}
	if (m->n > 1)  /* qsort(NULL, 0) is undefined */
		qsort(m->segs, m->n, sizeof(*m->segs), cmp_seg);
	uint64_t mx = 0;
	size_t nr = 0;
	for (size_t i = 0; i < m->n; i++) {
		uint64_t end = m->segs[i].paddr + m->segs[i].size;
		mx = end > mx ? end : mx;
		m->max_end[i] = mx;
		/* Ranges for reports: merged, since a kernel-text PT_LOAD may map
		 * the same physical bytes as a RAM PT_LOAD. */
		if (nr && m->segs[i].paddr <= dump->mem.ranges[nr - 1].start +
						 dump->mem.ranges[nr - 1].size) {
			struct vf_mem_range *r = &dump->mem.ranges[nr - 1];
			if (end > r->start + r->size)
				r->size = end - r->start;
		} else {
			dump->mem.ranges[nr++] = (struct vf_mem_range){ m->segs[i].paddr,
									m->segs[i].size };
		}
	}
	dump->mem.nranges = nr;
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

/* Read the header and program headers; build the relocated image. */
static struct vf_error *read_headers(struct vf_dump *dump, uint8_t **image_out,
				     size_t *image_len)
{
	struct vf_src *src = dump->src;
	uint8_t ident[EI_NIDENT];
	struct vf_error *err = vf_src_read(src, ident, sizeof(ident), 0, "ELF identification");
	if (err)
		return err;
	bool is64;
	switch (ident[EI_CLASS]) {
	case ELFCLASS32: is64 = false; break;
	case ELFCLASS64: is64 = true; break;
	default:
		return vf_error_at(VF_ERR_CORRUPT, EI_CLASS, "ELF class %u is neither 32- nor 64-bit",
				   ident[EI_CLASS]);
	}
	bool be;
	switch (ident[EI_DATA]) {
	case ELFDATA2LSB: be = false; break;
	case ELFDATA2MSB: be = true; break;
	default:
		return vf_error_at(VF_ERR_CORRUPT, EI_DATA, "ELF byte order %u is unknown",
				   ident[EI_DATA]);
	}
	dump->elf_class = is64 ? 64 : 32;
	dump->big_endian = be;

	size_t ehsz = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	size_t phentsz = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	size_t shentsz = is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
	uint8_t h[sizeof(Elf64_Ehdr)];
	err = vf_src_read(src, h, ehsz, 0, "ELF header");
	if (err)
		return err;

	/* Only what locates the tables is read by hand; libelf decodes the rest. */
	size_t o_phoff = is64 ? 0x20 : 0x1c, o_shoff = is64 ? 0x28 : 0x20;
	size_t o_phentsize = is64 ? 0x36 : 0x2a, o_phnum = o_phentsize + 2;
	size_t o_shentsize = o_phnum + 2, o_shnum = o_shentsize + 2, o_shstrndx = o_shnum + 2;
	uint64_t phoff = vf_load_uint(h + o_phoff, is64 ? 8 : 4, be);
	uint64_t shoff = vf_load_uint(h + o_shoff, is64 ? 8 : 4, be);
	uint16_t phentsize = ehdr_u16(h, o_phentsize, be), e_phnum = ehdr_u16(h, o_phnum, be);
	uint16_t shentsize = ehdr_u16(h, o_shentsize, be);

	uint64_t phnum = e_phnum;
	uint8_t shdr0[sizeof(Elf64_Shdr)];
	bool xnum = e_phnum == PN_XNUM;
	if (xnum) {
		if (!shoff || shentsize != shentsz)
			return vf_error_at(VF_ERR_CORRUPT, o_phnum, "e_phnum is PN_XNUM but there "
					   "is no valid section header 0 to hold the count");
		err = vf_src_read(src, shdr0, shentsz, shoff, "section header 0 (PN_XNUM count)");
		if (err)
			return err;
		phnum = vf_load_uint(shdr0 + (is64 ? 0x2c : 0x1c), 4, be);  /* sh_info */
	}
	if (phnum && phentsize != phentsz)
		return vf_error_at(VF_ERR_CORRUPT, o_phentsize, "e_phentsize is %u, expected %zu",
				   phentsize, phentsz);
	if (phnum > PHNUM_MAX)
		return vf_error_at(VF_ERR_UNSUPPORTED, o_phnum, "%" PRIu64 " program headers "
				   "(more than %u are not supported)", phnum, PHNUM_MAX);
	uint64_t tbl = phnum * phentsz, tend;
	if (!vf_add_ok(phoff, tbl, &tend) || tend > src->size)
		return vf_error_at(VF_ERR_CORRUPT, o_phoff, "program header table (0x%" PRIx64
				   ", %" PRIu64 " entries) runs past the end of the file (0x%"
				   PRIx64 ")", phoff, phnum, src->size);

	size_t len = ehsz + (size_t)tbl + (xnum ? shentsz : 0);
	uint8_t *img = calloc(1, len);
	if (!img)
		return &vf_error_nomem;
	memcpy(img, h, ehsz);
	err = vf_src_read(src, img + ehsz, (size_t)tbl, phoff, "program header table");
	if (err) {
		free(img);
		return err;
	}
	vf_store_uint(img + o_phoff, is64 ? 8 : 4, be, phnum ? ehsz : 0);
	if (xnum) {
		memcpy(img + ehsz + tbl, shdr0, shentsz);
		vf_store_uint(img + o_shoff, is64 ? 8 : 4, be, ehsz + tbl);
		vf_store_uint(img + o_shnum, 2, be, 1);
	} else {
		vf_store_uint(img + o_shoff, is64 ? 8 : 4, be, 0);
		vf_store_uint(img + o_shnum, 2, be, 0);
	}
	vf_store_uint(img + o_shstrndx, 2, be, 0);
	*image_out = img;
	*image_len = len;

	/* Keep the header's own values for the report. */
	dump->elf->e_phoff = phoff;
	dump->elf->e_shoff = shoff;
	dump->elf->e_phnum = e_phnum;
	dump->elf->e_shnum = ehdr_u16(h, o_shnum, be);
	dump->elf->e_shstrndx = ehdr_u16(h, o_shstrndx, be);
	dump->elf->e_shentsize = shentsize;
	dump->elf->phnum = (size_t)phnum;
	return NULL;
}

static struct vf_error *open_dump(struct vf_dump *dump)
{
	dump->elf = calloc(1, sizeof(*dump->elf));
	if (!dump->elf)
		return &vf_error_nomem;
	struct vf_elf_info *info = dump->elf;
	uint8_t *img = NULL;
	size_t len = 0;
	struct vf_error *err = read_headers(dump, &img, &len);
	if (err)
		return err;

	elf_version(EV_CURRENT);
	Elf *e = elf_memory((char *)img, len);
	GElf_Ehdr eh;
	size_t phnum = 0;
	if (!e || !gelf_getehdr(e, &eh) || elf_getphdrnum(e, &phnum) != 0) {
		err = vf_error_at(VF_ERR_CORRUPT, 0, "ELF header not readable: %s",
				  elf_errmsg(-1));
		goto out;
	}
	if (eh.e_type != ET_CORE) {
		err = vf_error_at(VF_ERR_CORRUPT, 0x10, "ELF file of type %u is not a core dump "
				  "(ET_CORE)", eh.e_type);
		goto out;
	}
	info->e_type = eh.e_type;
	info->e_machine = eh.e_machine;
	info->e_version = eh.e_version;
	info->e_entry = eh.e_entry;
	info->e_flags = eh.e_flags;
	info->e_ehsize = eh.e_ehsize;
	info->e_phentsize = eh.e_phentsize;
	info->osabi = eh.e_ident[EI_OSABI];
	if (phnum != info->phnum) {
		err = vf_error_at(VF_ERR_CORRUPT, 0, "program header count mismatch (%zu vs %zu)",
				  phnum, info->phnum);
		goto out;
	}
	info->phdrs = calloc(phnum ? phnum : 1, sizeof(*info->phdrs));
	if (!info->phdrs) {
		err = &vf_error_nomem;
		goto out;
	}
	size_t phentsz = dump->elf_class == 64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph)) {
			err = vf_error_at(VF_ERR_CORRUPT, info->e_phoff + i * phentsz,
					  "program header %zu not readable: %s", i, elf_errmsg(-1));
			goto out;
		}
		info->phdrs[i] = (struct vf_elf_phdr){ ph.p_type, ph.p_flags, ph.p_offset,
						       ph.p_vaddr, ph.p_paddr, ph.p_filesz,
						       ph.p_memsz, ph.p_align };
		uint64_t end;
		if ((ph.p_type == PT_LOAD || ph.p_type == PT_NOTE) &&
		    (!vf_add_ok(ph.p_offset, ph.p_filesz, &end) || end > dump->src->size)) {
			err = vf_error_at(VF_ERR_CORRUPT, info->e_phoff + i * phentsz,
					  "%s %zu: data 0x%" PRIx64 "-0x%" PRIx64 " runs past the "
					  "end of the file (0x%" PRIx64 ")",
					  ph.p_type == PT_LOAD ? "PT_LOAD" : "PT_NOTE", i, ph.p_offset,
					  ph.p_offset + ph.p_filesz, dump->src->size);
			vf_error_set_hint(err, "the dump is probably truncated: it was not written "
					  "completely or was cut when copied");
			goto out;
		}
		uint64_t pend;
		if (ph.p_type == PT_LOAD && !vf_add_ok(ph.p_paddr, ph.p_filesz, &pend)) {
			err = vf_error_at(VF_ERR_CORRUPT, info->e_phoff + i * phentsz,
					  "PT_LOAD %zu: physical range overflows", i);
			goto out;
		}
	}
	dump->e_machine = info->e_machine;
	dump->machine_name = vf_arch_name(info->e_machine);
	dump->page_size = 4096;

	elf_end(e);
	e = NULL;
	free(img);
	img = NULL;

	for (size_t i = 0; i < phnum; i++) {
		const struct vf_elf_phdr *p = &info->phdrs[i];
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
out:
	if (e)
		elf_end(e);
	free(img);
	return err;
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
