/* kdump.c - kdump-compressed dumps ("KDUMP   "), header versions 1 to 6.
 *
 * Open reads the main header and the sub-header (plus the notes blob through
 * dump.c), and the second bitmap once, for a popcount index that holds only
 * the 4 KiB chunks with a dumped page (chunks the file does not hold, holes
 * of a plain file or what no record of a flattened stream wrote, are skipped
 * unread: the index and its cost follow the file's real content, not the
 * bitmap size the header claims).  Its total is the number of dumped pages:
 * the descriptor table's extent and the last descriptor's data are checked
 * against the file's end (a cut file is reported, not fixed).  Memory reads
 * locate a page through the two bitmaps and the index, read its one 24-byte
 * descriptor and decode only that page.
 * mem.ranges is the single range [0, max_pfn * page_size): which pages in it
 * are RAM, and which were dumped, is known only by reading the bitmaps,
 * which a report must not need to do.
 */
#include "config.h"
#include "format/kdump.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/codec.h"
#include "util/cursor.h"
#include "arch/arch.h"
#include "format/dump.h"
#include "source/flat.h"

#define HDR_READ 0x1d0
#define CHUNK 4096u          /* bitmap bytes per popcount index entry */
#define CHUNK_BITS (CHUNK * 8u)
#define NCACHE 4             /* bitmap chunks cached */
#define DESC_SZ 24u
#define DESC_BLOCK 256u      /* descriptors read at once (6 KiB) */
#define DATA_WINDOW (256u << 10)  /* page data read ahead when pages are read in file order */

struct chunk_cache {
	uint64_t off;            /* file offset of the cached chunk, or UINT64_MAX */
	uint8_t data[CHUNK];
	unsigned age;
};

/* A chunk of the second bitmap with a dumped page: its number and the set
 * bits before it. */
struct nz_chunk {
	uint64_t chunk;
	uint64_t cum;
};

struct kd_priv {
	struct vf_src *src;
	struct vf_kdump_info *kd;
	uint64_t page_size;
	struct nz_chunk *nz;     /* the chunks with set bits (below max_pfn), in order */
	size_t nnz;
	struct chunk_cache cache[NCACHE];
	unsigned clock;
	uint8_t *page;           /* last decoded page */
	uint8_t *comp;           /* compressed data buffer */
	/* Sequential walks (a scan) touch pages in order: remember the last
	 * descriptor index so the next costs one bit count, keep a block of
	 * descriptors, and read page data ahead while it is read in file order. */
	uint64_t last_pfn, last_idx; /* desc_index's last answer; last_pfn UINT64_MAX: none */
	uint8_t descs[DESC_BLOCK * DESC_SZ];
	uint64_t descs_first;    /* index of descs[0] */
	size_t descs_n;          /* descriptors held (0: none) */
	uint8_t *win;            /* DATA_WINDOW bytes of page data, or NULL */
	uint64_t win_off;        /* file offset of win[0] */
	size_t win_len;          /* bytes held (0: none) */
	uint64_t data_next;      /* end of the last page data read: the next, if in order */
	uint64_t comp_off;       /* file offset of comp's data; UINT64_MAX: none */
	uint32_t comp_len;       /* its length (pages filtered as zero share one copy) */
	uint64_t page_pfn;
	size_t page_valid;       /* bytes of page[] that are decoded, 0 = none */
	bool big_endian;
};

static bool probe(const uint8_t *head, size_t len)
{
	return len >= 8 && memcmp(head, VF_KDUMP_SIGNATURE, 8) == 0;
}

static bool pow2_sane(uint64_t x)
{
	return x >= 1024 && x <= (1u << 20) && (x & (x - 1)) == 0;
}

void vf_kdump_offsets(struct vf_kdump_field_offsets *fo, enum vf_kdump_layout l)
{
	memset(fo, 0, sizeof(*fo));
	uint32_t base = l == VF_KDUMP_LAYOUT_64 ? 0x1a8 : 0x19c;
	fo->status = base;
	fo->block_size = base + 4;
	fo->sub_hdr_size = base + 8;
	fo->bitmap_blocks = base + 12;
	fo->max_mapnr = base + 16;
	fo->total_ram_blocks = base + 20;
	fo->device_blocks = base + 24;
	fo->written_blocks = base + 28;
	fo->current_cpu = base + 32;
	fo->nr_cpus = base + 36;
	fo->dump_level = l == VF_KDUMP_LAYOUT_64 ? 8 : 4;
	fo->split = fo->dump_level + 4;
	fo->phys_base = 0;
	if (l == VF_KDUMP_LAYOUT_64) {
		fo->ulong_size = fo->phys_base_size = 8;
		fo->start_pfn = 0x10; fo->end_pfn = 0x18;
		fo->offset_vmcoreinfo = 0x20; fo->size_vmcoreinfo = 0x28;
		fo->offset_note = 0x30; fo->size_note = 0x38;
		fo->offset_eraseinfo = 0x40; fo->size_eraseinfo = 0x48;
		fo->start_pfn_64 = 0x50; fo->end_pfn_64 = 0x58; fo->max_mapnr_64 = 0x60;
		fo->sub_hdr_len = 0x68;
	} else if (l == VF_KDUMP_LAYOUT_32_PACKED) {
		fo->ulong_size = fo->phys_base_size = 4;
		fo->start_pfn = 0xc; fo->end_pfn = 0x10;
		fo->offset_vmcoreinfo = 0x14; fo->size_vmcoreinfo = 0x1c;
		fo->offset_note = 0x20; fo->size_note = 0x28;
		fo->offset_eraseinfo = 0x2c; fo->size_eraseinfo = 0x34;
		fo->start_pfn_64 = 0x38; fo->end_pfn_64 = 0x40; fo->max_mapnr_64 = 0x48;
		fo->sub_hdr_len = 0x50;
	} else {
		fo->ulong_size = fo->phys_base_size = 4;
		fo->start_pfn = 0xc; fo->end_pfn = 0x10;
		fo->offset_vmcoreinfo = 0x18; fo->size_vmcoreinfo = 0x20;
		fo->offset_note = 0x28; fo->size_note = 0x30;
		fo->offset_eraseinfo = 0x38; fo->size_eraseinfo = 0x40;
		fo->start_pfn_64 = 0x48; fo->end_pfn_64 = 0x50; fo->max_mapnr_64 = 0x58;
		fo->sub_hdr_len = 0x60;
	}
}

/* The layout the header's machine name suggests: a hint that
 * pick_interpretation tries first, never trusted alone. */
static enum vf_kdump_layout layout_for(uint16_t em)
{
	const struct vf_arch *a = vf_arch_by_em(em);
	if (a && a->u64_align32 == 4)
		return VF_KDUMP_LAYOUT_32_PACKED;
	if (a && a->u64_align32 == 8)
		return VF_KDUMP_LAYOUT_32_PADDED;
	return VF_KDUMP_LAYOUT_64;
}

static uint64_t ld(const uint8_t *b, uint32_t off, size_t n, bool be)
{
	return vf_load_uint(b + off, n, be);
}

/* ----------------------------------------------------------------- memory */

static struct vf_error *bitmap_chunk(struct kd_priv *p, uint64_t bitmap_off, uint64_t chunk,
				     const uint8_t **data)
{
	uint64_t off = bitmap_off + chunk * CHUNK;
	struct chunk_cache *victim = &p->cache[0];
	for (int i = 0; i < NCACHE; i++) {
		if (p->cache[i].off == off) {
			p->cache[i].age = ++p->clock;
			*data = p->cache[i].data;
			return NULL;
		}
		if (p->cache[i].age < victim->age)
			victim = &p->cache[i];
	}
	uint64_t len = p->kd->bitmap_len - chunk * CHUNK;
	if (len > CHUNK)
		len = CHUNK;
	memset(victim->data, 0, CHUNK);
	victim->off = UINT64_MAX;
	struct vf_error *err = vf_src_read(p->src, victim->data, (size_t)len, off, "kdump bitmap");
	if (err)
		return err;
	victim->off = off;
	victim->age = ++p->clock;
	*data = victim->data;
	return NULL;
}

static struct vf_error *bit(struct kd_priv *p, uint64_t bitmap_off, uint64_t pfn, bool *set)
{
	const uint8_t *d;
	struct vf_error *err = bitmap_chunk(p, bitmap_off, pfn / CHUNK_BITS, &d);
	if (err)
		return err;
	uint64_t i = pfn % CHUNK_BITS;
	*set = (d[i / 8] >> (i % 8)) & 1;
	return NULL;
}

static unsigned popcount_bytes(const uint8_t *d, size_t n)
{
	unsigned c = 0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, d + i, 8);
		c += (unsigned)__builtin_popcountll(w);
	}
	for (; i < n; i++)
		c += (unsigned)__builtin_popcount(d[i]);
	return c;
}

/* Set bits from bit `from` to bit `to` (exclusive) of d. */
static unsigned popcount_bits(const uint8_t *d, uint64_t from, uint64_t to)
{
	unsigned c = 0;
	for (; from < to && from % 8; from++)
		c += (d[from / 8] >> (from % 8)) & 1;
	if (to - from >= 8) {
		c += popcount_bytes(d + from / 8, (size_t)((to - from) / 8));
		from += (to - from) / 8 * 8;
	}
	for (; from < to; from++)
		c += (d[from / 8] >> (from % 8)) & 1;
	return c;
}

/* The first index entry whose chunk is at or after chunk (nnz: none). */
static size_t nz_at(const struct kd_priv *p, uint64_t chunk)
{
	size_t lo = 0, hi = p->nnz;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->nz[mid].chunk < chunk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Index of pfn's descriptor: set bits in bitmap2 before pfn. */
static struct vf_error *desc_index(struct kd_priv *p, uint64_t pfn, uint64_t *idx)
{
	uint64_t chunk = pfn / CHUNK_BITS;
	size_t e = nz_at(p, chunk);
	uint64_t before = e < p->nnz ? p->nz[e].cum : p->kd->ndumped;
	if (e == p->nnz || p->nz[e].chunk != chunk) {
		*idx = before;   /* a chunk without dumped pages: pfn is not one */
		return NULL;
	}
	const uint8_t *d;
	struct vf_error *err = bitmap_chunk(p, p->kd->bitmap2_offset, chunk, &d);
	if (err)
		return err;
	uint64_t i = pfn % CHUNK_BITS;
	uint64_t c;
	if (p->last_pfn != UINT64_MAX && p->last_pfn / CHUNK_BITS == chunk && p->last_pfn <= pfn)
		c = p->last_idx + popcount_bits(d, p->last_pfn % CHUNK_BITS, i);   /* walking up */
	else
		c = before + popcount_bits(d, 0, i);
	p->last_pfn = pfn;
	p->last_idx = c;
	*idx = c;
	return NULL;
}

/* The 24-byte descriptor idx (at file offset doff), through a block of them. */
static struct vf_error *read_desc(struct kd_priv *p, uint64_t idx, uint64_t doff,
				  const uint8_t **raw)
{
	if (p->descs_n && idx >= p->descs_first && idx - p->descs_first < p->descs_n) {
		*raw = p->descs + (idx - p->descs_first) * DESC_SZ;
		return NULL;
	}
	p->descs_n = 0;
	size_t got;
	struct vf_error *err = vf_src_pread(p->src, p->descs, sizeof(p->descs), doff, &got);
	if (err)
		return err;
	if (got < DESC_SZ)   /* the file ends inside it: say so as a single read would */
		return vf_src_read(p->src, p->descs, DESC_SZ, doff, "page descriptor");
	p->descs_first = idx;
	p->descs_n = got / DESC_SZ;
	*raw = p->descs;
	return NULL;
}

/* size bytes of page data at off (inside the file: checked by the caller).
 * Read ahead into the window when this page follows the last one in the file,
 * or lies shortly after the window. */
static struct vf_error *read_data(struct kd_priv *p, uint64_t off, uint32_t size,
				  const uint8_t **data)
{
	if (p->win_len && off >= p->win_off && off - p->win_off <= p->win_len &&
	    size <= p->win_len - (off - p->win_off)) {
		*data = p->win + (off - p->win_off);
		p->data_next = off + size;
		return NULL;
	}
	struct vf_error *err;
	/* In order: right after the last page read, or a little past the window
	 * (pages filtered as zero share one copy of their data, elsewhere). */
	uint64_t wend = p->win_off + p->win_len;
	bool ahead = off == p->data_next ||
		     (p->win_len && off >= wend && off - wend <= DATA_WINDOW);
	if (p->win && ahead && size <= DATA_WINDOW) {
		uint64_t len = p->src->size - off;   /* off + size <= src->size */
		if (len > DATA_WINDOW)
			len = DATA_WINDOW;
		p->win_len = 0;
		err = vf_src_read(p->src, p->win, (size_t)len, off, "page data");
		if (err)
			return err;
		p->win_off = off;
		p->win_len = (size_t)len;
		*data = p->win;
	} else if (p->comp_off == off && p->comp_len == size) {
		*data = p->comp;     /* the shared data of the zero pages, again */
	} else {
		p->comp_off = UINT64_MAX;
		err = vf_src_read(p->src, p->comp, size, off, "page data");
		if (err)
			return err;
		p->comp_off = off;
		p->comp_len = size;
		*data = p->comp;
	}
	p->data_next = off + size;
	return NULL;
}

static struct vf_error *decode_page(struct kd_priv *p, uint64_t pfn, size_t want)
{
	if (p->page_valid && p->page_pfn == pfn && p->page_valid >= want)
		return NULL;
	struct vf_kdump_info *kd = p->kd;
	uint64_t idx;
	struct vf_error *err = desc_index(p, pfn, &idx);
	if (err)
		return err;
	uint64_t doff = kd->pd_offset + idx * DESC_SZ;
	const uint8_t *raw = NULL;
	err = read_desc(p, idx, doff, &raw);
	if (err)
		return vf_error_prefix(err, "pfn 0x%" PRIx64, pfn);
	uint64_t off = vf_load_uint(raw, 8, p->big_endian);
	uint32_t size = (uint32_t)vf_load_uint(raw + 8, 4, p->big_endian);
	uint32_t flags = (uint32_t)vf_load_uint(raw + 12, 4, p->big_endian);
	uint64_t end;
	if ((int64_t)off < 0 || !vf_add_ok(off, size, &end) || end > p->src->size)
		return vf_error_at(VF_ERR_CORRUPT, doff, "page descriptor of pfn 0x%" PRIx64
				   ": data 0x%" PRIx64 "+0x%" PRIx32 " is outside the file "
				   "(size 0x%" PRIx64 ")", pfn, off, size, p->src->size);
	if (size == 0 || size > kd->block_size)
		return vf_error_at(VF_ERR_CORRUPT, doff, "page descriptor of pfn 0x%" PRIx64
				   ": size %" PRIu32 " (block size %" PRIu32 ")", pfn, size,
				   kd->block_size);
	/* page data follows the descriptors: never inside the headers or bitmaps,
	 * which a fix rewrites */
	if (off < kd->pd_offset)
		return vf_error_at(VF_ERR_CORRUPT, doff, "page descriptor of pfn 0x%" PRIx64
				   ": data at 0x%" PRIx64 " lies before the page descriptors (0x%"
				   PRIx64 "), in the headers or bitmaps", pfn, off, kd->pd_offset);
	enum vf_codec codec;
	err = vf_codec_from_flags(flags, &codec);
	if (err) {
		return vf_error_set_offset(vf_error_prefix(err, "page descriptor of pfn 0x%" PRIx64,
							   pfn), doff);
	}
	p->page_valid = 0;
	const uint8_t *comp;
	err = read_data(p, off, size, &comp);
	if (err)
		return err;
	err = vf_codec_decompress(codec, comp, size, p->page, kd->block_size, want);
	if (err) {
		err = vf_error_prefix(err, "page of pfn 0x%" PRIx64 " at 0x%" PRIx64, pfn, off);
		if (err->code == VF_ERR_CORRUPT && !err->has_offset)
			err = vf_error_set_offset(err, off);
		return err;
	}
	p->page_pfn = pfn;
	p->page_valid = want;
	return NULL;
}

static struct vf_error *kd_mem_read(void *ctx, uint64_t paddr, void *buf, size_t len)
{
	struct kd_priv *p = ctx;
	struct vf_kdump_info *kd = p->kd;
	uint8_t *out = buf;
	while (len > 0) {
		uint64_t pfn = paddr / p->page_size, in = paddr % p->page_size;
		size_t n = p->page_size - in < len ? (size_t)(p->page_size - in) : len;
		if (pfn >= kd->max_pfn)
			return vf_error_paddr(VF_ERR_NOT_PRESENT, paddr, "beyond the dump's last page "
					      "(max pfn 0x%" PRIx64 ")", kd->max_pfn);
		bool set;
		struct vf_error *err = bit(p, kd->bitmap1_offset, pfn, &set);
		if (err)
			return err;
		if (!set)
			return vf_error_paddr(VF_ERR_NOT_PRESENT, paddr, "not RAM in this dump");
		err = bit(p, kd->bitmap2_offset, pfn, &set);
		if (err)
			return err;
		if (!set)
			return vf_error_paddr(VF_ERR_EXCLUDED, paddr, "page excluded from the dump by "
					      "filtering (dump level %d)", kd->dump_level);
		err = decode_page(p, pfn, (size_t)(in + n));
		if (err)
			return err;
		memcpy(out, p->page + in, n);
		out += n;
		paddr += n;
		len -= n;
	}
	return NULL;
}

static void kd_mem_destroy(void *ctx)
{
	struct kd_priv *p = ctx;
	if (!p)
		return;
	free(p->nz);
	free(p->page);
	free(p->comp);
	free(p->win);
	free(p);
}

/* The first pfn at or after pfn whose bit in the second bitmap is `want`
 * (true: a dumped page, false: a page not dumped), through the index (a
 * chunk it does not hold has no dumped page) and, inside a chunk, skipping
 * words that cannot hold it; max_pfn if none; UINT64_MAX on a read error. */
static uint64_t kd_find(struct kd_priv *p, uint64_t pfn, bool want)
{
	uint64_t skip = want ? 0 : UINT64_MAX;
	while (pfn < p->kd->max_pfn) {
		uint64_t chunk = pfn / CHUNK_BITS;
		size_t e = nz_at(p, chunk);
		bool held = e < p->nnz && p->nz[e].chunk == chunk;
		if (!held && !want)
			return pfn;
		if (!held) {
			if (e == p->nnz)
				break;
			chunk = p->nz[e].chunk;
			pfn = chunk * CHUNK_BITS;
		}
		const uint8_t *d;
		struct vf_error *err = bitmap_chunk(p, p->kd->bitmap2_offset, chunk, &d);
		if (err) {
			vf_error_destroy(err);
			return UINT64_MAX;
		}
		uint64_t i = pfn % CHUNK_BITS;
		for (; i < CHUNK_BITS; i++) {
			if (i % 64 == 0) {
				uint64_t w;
				while (i < CHUNK_BITS && (memcpy(&w, d + i / 8, 8), w == skip))
					i += 64;
				if (i >= CHUNK_BITS)
					break;
			}
			if ((bool)((d[i / 8] >> (i % 8)) & 1) == want) {
				uint64_t at = chunk * CHUNK_BITS + i;
				return at < p->kd->max_pfn ? at : p->kd->max_pfn;
			}
		}
		pfn = (chunk + 1) * CHUNK_BITS;
	}
	return p->kd->max_pfn;
}

/* Is pfn RAM by the first bitmap?  -1 on a read error. */
static int in_ram(struct kd_priv *p, uint64_t pfn)
{
	bool set;
	struct vf_error *err = bit(p, p->kd->bitmap1_offset, pfn, &set);
	if (err) {
		vf_error_destroy(err);
		return -1;
	}
	return set;
}

/* The first dumped page at or after paddr, and where its run of dumped pages
 * ends: a walk over the second bitmap (a 1 TiB guest's is 32 MiB), and over
 * the first where the second marks pages it does not call RAM (a read of
 * those fails: skipped here, not read one error at a time). */
static uint64_t kd_next_data(void *ctx, uint64_t paddr, uint64_t *data_end)
{
	struct kd_priv *p = ctx;
	*data_end = UINT64_MAX;
	uint64_t first = kd_find(p, paddr / p->page_size, true);
	int ram;
	while (first < p->kd->max_pfn && (ram = in_ram(p, first)) == 0)
		first = kd_find(p, first + 1, true);
	if (first == UINT64_MAX || (first < p->kd->max_pfn && ram < 0))
		return paddr;  /* a read error: let the read report it */
	if (first >= p->kd->max_pfn)
		return UINT64_MAX;
	uint64_t end = kd_find(p, first + 1, false);
	for (uint64_t q = first + 1; end != UINT64_MAX && q < end; q++) {
		if (in_ram(p, q) != 1) {
			end = q;
			break;
		}
	}
	if (end != UINT64_MAX)
		*data_end = end * p->page_size;
	return first * p->page_size > paddr ? first * p->page_size : paddr;
}

static const struct vf_mem_ops kd_mem_ops = {
	.read = kd_mem_read,
	.destroy = kd_mem_destroy,
	.next_data = kd_next_data,
};

/* ----------------------------------------------------------------- open */

/* Byte order and layout: the first interpretation with a sane version and
 * block size; failing that, the first with a sane version (whose block size
 * is then reported).  The header's machine string only says which layout
 * (`layout`) to try first. */
static struct vf_error *pick_interpretation(struct vf_dump *dump, struct vf_kdump_info *kd,
					    const uint8_t *h, enum vf_kdump_layout layout)
{
	static const enum vf_kdump_layout all[] = { VF_KDUMP_LAYOUT_64, VF_KDUMP_LAYOUT_32_PADDED };
	int fallback_bo = -1;
	for (int bo = 0; bo < 2; bo++) {
		int32_t ver = (int32_t)ld(h, 8, 4, bo == 1);
		if (ver < 1 || ver > 6)
			continue;
		if (fallback_bo < 0)
			fallback_bo = bo;
		for (int li = 0; li < 3; li++) {
			enum vf_kdump_layout l = li == 0 ? layout : all[li - 1];
			if (li > 0 && l == layout)
				continue;
			struct vf_kdump_field_offsets fo;
			vf_kdump_offsets(&fo, l);
			if (!pow2_sane(ld(h, fo.block_size, 4, bo == 1)))
				continue;
			dump->big_endian = bo == 1;
			kd->layout = l;
			kd->header_version = ver;
			return NULL;
		}
	}
	if (fallback_bo >= 0) {
		dump->big_endian = fallback_bo == 1;
		kd->layout = layout;
		kd->header_version = (int32_t)ld(h, 8, 4, dump->big_endian);
		return NULL;
	}
	int32_t le = (int32_t)ld(h, 8, 4, false);
	return vf_error_at(VF_ERR_CORRUPT, 8, "kdump header: header_version %d is not 1-6 "
			   "in either byte order", le);
}

static struct vf_error *read_main_header(struct vf_dump *dump, struct vf_kdump_info *kd,
					 uint8_t *h)
{
	struct vf_error *err = vf_src_read(dump->src, h, HDR_READ, 0, "kdump header");
	if (err)
		return err;
	for (int i = 0; i < 6; i++) {
		memcpy(kd->utsname[i], h + 0xc + 65 * i, VF_KDUMP_UTS_LEN);
		kd->utsname[i][VF_KDUMP_UTS_LEN] = '\0';
	}
	uint16_t em = vf_arch_em_by_uts(kd->utsname[4]);
	err = pick_interpretation(dump, kd, h, layout_for(em));
	if (err)
		return err;
	bool be = dump->big_endian;
	vf_kdump_offsets(&kd->fo, kd->layout);
	struct vf_kdump_field_offsets *fo = &kd->fo;
	kd->status = (uint32_t)ld(h, fo->status, 4, be);
	kd->block_size = (uint32_t)ld(h, fo->block_size, 4, be);
	kd->sub_hdr_size = (uint32_t)ld(h, fo->sub_hdr_size, 4, be);
	kd->bitmap_blocks = (uint32_t)ld(h, fo->bitmap_blocks, 4, be);
	kd->max_mapnr = (uint32_t)ld(h, fo->max_mapnr, 4, be);
	kd->total_ram_blocks = (uint32_t)ld(h, fo->total_ram_blocks, 4, be);
	kd->device_blocks = (uint32_t)ld(h, fo->device_blocks, 4, be);
	kd->written_blocks = (uint32_t)ld(h, fo->written_blocks, 4, be);
	kd->current_cpu = (uint32_t)ld(h, fo->current_cpu, 4, be);
	kd->nr_cpus = (uint32_t)ld(h, fo->nr_cpus, 4, be);
	if (!pow2_sane(kd->block_size))
		return vf_error_at(VF_ERR_CORRUPT, fo->block_size, "kdump header: block_size %"
				   PRIu32 " is not a power of two between 1 KiB and 1 MiB",
				   kd->block_size);
	dump->e_machine = em;
	dump->machine_name = vf_arch_name(em);
	dump->elf_class = kd->layout == VF_KDUMP_LAYOUT_64 ? 64 : 32;
	return NULL;
}

static struct vf_error *read_sub_header(struct vf_dump *dump, struct vf_kdump_info *kd)
{
	struct vf_kdump_field_offsets *fo = &kd->fo;
	bool be = dump->big_endian;
	uint64_t base = kd->block_size;
	if (kd->sub_hdr_size == 0)
		return vf_error_at(VF_ERR_CORRUPT, fo->sub_hdr_size, "kdump header: sub_hdr_size is 0");
	uint8_t s[0x68];
	memset(s, 0, sizeof(s));
	struct vf_error *err = vf_src_read(dump->src, s, fo->sub_hdr_len, base, "kdump sub-header");
	if (err)
		return err;
	uint32_t ul = fo->ulong_size;
	int v = kd->header_version;
	kd->phys_base = ld(s, fo->phys_base, ul, be);
	kd->dump_level = (int32_t)ld(s, fo->dump_level, 4, be);
	kd->split = (int32_t)ld(s, fo->split, 4, be);
	kd->start_pfn = ld(s, fo->start_pfn, ul, be);
	kd->end_pfn = ld(s, fo->end_pfn, ul, be);
	if (v >= 3) {
		kd->offset_vmcoreinfo = ld(s, fo->offset_vmcoreinfo, 8, be);
		kd->size_vmcoreinfo = ld(s, fo->size_vmcoreinfo, ul, be);
	}
	if (v >= 4) {
		kd->offset_note = ld(s, fo->offset_note, 8, be);
		kd->size_note = ld(s, fo->size_note, ul, be);
	}
	if (v >= 5) {
		kd->offset_eraseinfo = ld(s, fo->offset_eraseinfo, 8, be);
		kd->size_eraseinfo = ld(s, fo->size_eraseinfo, ul, be);
	}
	if (v >= 6) {
		kd->start_pfn_64 = ld(s, fo->start_pfn_64, 8, be);
		kd->end_pfn_64 = ld(s, fo->end_pfn_64, 8, be);
		kd->max_mapnr_64 = ld(s, fo->max_mapnr_64, 8, be);
	}
	return NULL;
}

static struct vf_error *check_layout(struct vf_dump *dump, struct vf_kdump_info *kd)
{
	uint64_t bs = kd->block_size, size = dump->src->size;
	kd->max_pfn = kd->header_version >= 6 && kd->max_mapnr_64 ? kd->max_mapnr_64 : kd->max_mapnr;
	if (kd->bitmap_blocks == 0 || kd->bitmap_blocks % 2)
		return vf_error_at(VF_ERR_CORRUPT, kd->fo.bitmap_blocks, "kdump header: "
				   "bitmap_blocks %" PRIu32 " is not a positive even number",
				   kd->bitmap_blocks);
	uint64_t b1, total, pd;
	if (!vf_mul_ok(bs, 1 + (uint64_t)kd->sub_hdr_size, &b1) ||
	    !vf_mul_ok(bs, kd->bitmap_blocks, &total) || !vf_add_ok(b1, total, &pd))
		return vf_error_at(VF_ERR_CORRUPT, kd->fo.sub_hdr_size, "kdump header: "
				   "sub_hdr_size/bitmap_blocks overflow");
	kd->bitmap1_offset = b1;
	kd->bitmap_len = total / 2;
	kd->bitmap2_offset = b1 + kd->bitmap_len;
	kd->pd_offset = pd;
	if (pd > size)
		return vf_error_at(VF_ERR_CORRUPT, b1, "kdump truncated: the bitmaps end at 0x%"
				   PRIx64 ", the file ends at 0x%" PRIx64, pd, size);
	uint64_t bits;
	if (!vf_mul_ok(kd->bitmap_len, 8, &bits) || kd->max_pfn > bits)
		return vf_error_at(VF_ERR_CORRUPT, kd->fo.max_mapnr, "kdump header: max_mapnr 0x%"
				   PRIx64 " exceeds the bitmap (0x%" PRIx64 " pages)",
				   kd->max_pfn, kd->bitmap_len * 8);
	uint64_t span;
	if (!vf_mul_ok(kd->max_pfn, bs, &span))
		return vf_error_at(VF_ERR_CORRUPT, kd->fo.max_mapnr, "kdump header: max_mapnr "
				   "0x%" PRIx64 " overflows", kd->max_pfn);
	return NULL;
}

/* Where the file holds bytes at or after off: [*start, *end) (*start
 * UINT64_MAX: nothing more; *end UINT64_MAX: unknown).  What it does not hold
 * reads as zeros: holes of a plain file, what no flattened record wrote. */
static void held_run(struct vf_src *src, uint64_t off, uint64_t *start, uint64_t *end)
{
	*start = off;
	*end = UINT64_MAX;
	if (src->kind == VF_SRC_FLATTENED) {
		uint64_t pos, len;
		if (!vf_flat_locate(src, off, &pos, &len)) {
			if (len == UINT64_MAX) {
				*start = UINT64_MAX;
				return;
			}
			*start = off + len;
			if (!vf_flat_locate(src, *start, &pos, &len))
				return;
		}
		*end = *start + len;
	} else if (src->kind == VF_SRC_FILE) {
		off_t d = lseek(src->fd, (off_t)off, SEEK_DATA);
		if (d < 0) {
			if (errno == ENXIO)
				*start = UINT64_MAX;
			return;   /* no SEEK_DATA here: all of it is data */
		}
		off_t h = lseek(src->fd, d, SEEK_HOLE);
		*start = (uint64_t)d;
		if (h > d)
			*end = (uint64_t)h;
	}
}

static struct vf_error *nz_add(struct kd_priv *p, size_t *cap, uint64_t chunk, uint64_t cum)
{
	if (p->nnz == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct nz_chunk *nz = realloc(p->nz, c * sizeof(*nz));
		if (!nz)
			return &vf_error_nomem;
		p->nz = nz;
		*cap = c;
	}
	p->nz[p->nnz++] = (struct nz_chunk){ chunk, cum };
	return NULL;
}

/* One pass over the chunks of the second bitmap that the file holds (up to
 * max_pfn): the index of those with set bits, and kd->ndumped. */
static struct vf_error *build_popcount_index(struct kd_priv *p)
{
	struct vf_kdump_info *kd = p->kd;
	uint64_t nchunks = (kd->max_pfn + CHUNK_BITS - 1) / CHUNK_BITS, cum = 0;
	uint64_t run_start = 0, run_end = 0;   /* the file holds [run_start, run_end) */
	size_t cap = 0;
	for (uint64_t c = 0; c < nchunks; c++) {
		uint64_t off = kd->bitmap2_offset + c * CHUNK;
		if (off >= run_end || off + CHUNK <= run_start) {
			held_run(p->src, off, &run_start, &run_end);
			if (run_start == UINT64_MAX)
				break;
			if (run_start >= off + CHUNK) {   /* skip to the chunk holding it */
				uint64_t next = (run_start - kd->bitmap2_offset) / CHUNK;
				c = next > c ? next - 1 : c;
				continue;
			}
		}
		const uint8_t *d;
		struct vf_error *err = bitmap_chunk(p, kd->bitmap2_offset, c, &d);
		if (err)
			return err;
		uint64_t bits = kd->max_pfn - c * CHUNK_BITS;
		unsigned n = popcount_bits(d, 0, bits < CHUNK_BITS ? bits : CHUNK_BITS);
		if (n && (err = nz_add(p, &cap, c, cum)))
			return err;
		cum += n;
	}
	kd->ndumped = cum;
	return NULL;
}

/* A file cut inside its page descriptors or page data (the table has one
 * descriptor a dumped page; page data is written in page order after the
 * one shared zero page, so the last descriptor's data ends the file). */
static struct vf_error *check_complete(struct kd_priv *p)
{
	struct vf_kdump_info *kd = p->kd;
	uint64_t size = p->src->size, table, end;
	kd->truncated = false;
	if (!vf_mul_ok(kd->ndumped, DESC_SZ, &table) || !vf_add_ok(kd->pd_offset, table, &end) ||
	    end > size) {
		kd->truncated = true;
		kd->truncated_what = "page descriptors";
		kd->truncated_need = vf_add_ok(kd->pd_offset, table, &end) ? end : UINT64_MAX;
		return NULL;
	}
	if (!kd->ndumped)
		return NULL;
	uint8_t raw[DESC_SZ];
	struct vf_error *err = vf_src_read(p->src, raw, DESC_SZ, end - DESC_SZ,
					   "last page descriptor");
	if (err)
		return err;
	uint64_t off = vf_load_uint(raw, 8, p->big_endian);
	uint32_t dsize = (uint32_t)vf_load_uint(raw + 8, 4, p->big_endian);
	if ((int64_t)off >= 0 && vf_add_ok(off, dsize, &end) && end > size) {
		kd->truncated = true;
		kd->truncated_what = "page data";
		kd->truncated_need = end;
	}
	return NULL;
}

static struct vf_error *setup_mem(struct vf_dump *dump, struct vf_kdump_info *kd)
{
	struct kd_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return &vf_error_nomem;
	p->src = dump->src;
	p->kd = kd;
	p->page_size = kd->block_size;
	p->big_endian = dump->big_endian;
	p->page = malloc(kd->block_size);
	p->comp = malloc(kd->block_size);
	dump->mem.ranges = malloc(sizeof(*dump->mem.ranges));
	if (!p->page || !p->comp || !dump->mem.ranges) {
		kd_mem_destroy(p);
		return &vf_error_nomem;
	}
	for (int i = 0; i < NCACHE; i++)
		p->cache[i].off = UINT64_MAX;
	p->last_pfn = UINT64_MAX;
	p->data_next = UINT64_MAX;
	p->comp_off = UINT64_MAX;
	p->win = malloc(DATA_WINDOW);   /* NULL: no read-ahead, one read per page */
	struct vf_error *err = build_popcount_index(p);
	if (!err)
		err = check_complete(p);
	if (err) {
		kd_mem_destroy(p);
		return err;
	}
	dump->mem.ops = &kd_mem_ops;
	dump->mem.ctx = p;
	dump->mem.name = "kdump dump";
	dump->mem.page_size = kd->block_size;
	dump->mem.ranges[0] = (struct vf_mem_range){ 0, kd->max_pfn * kd->block_size };
	dump->mem.nranges = kd->max_pfn ? 1 : 0;
	return NULL;
}

static struct vf_error *open_dump(struct vf_dump *dump)
{
	struct vf_kdump_info *kd = calloc(1, sizeof(*kd));
	if (!kd)
		return &vf_error_nomem;
	dump->kdump = kd;
	uint8_t h[HDR_READ];
	struct vf_error *err = read_main_header(dump, kd, h);
	if (!err)
		err = read_sub_header(dump, kd);
	if (!err)
		err = check_layout(dump, kd);
	if (err)
		return err;
	dump->page_size = kd->block_size;
	kd->codecs_seen = kd->status & (VF_KDUMP_ZLIB | VF_KDUMP_LZO | VF_KDUMP_SNAPPY |
					VF_KDUMP_ZSTD);
	if (kd->header_version >= 4 && kd->size_note) {
		err = vf_dump_add_note_region(dump, kd->offset_note, kd->size_note);
		if (err)
			return vf_error_prefix(err, "kdump notes (offset_note/size_note at 0x%" PRIx64 ")",
					       (uint64_t)kd->block_size + kd->fo.offset_note);
	}
	err = vf_dump_find_vmcoreinfo(dump);
	/* header v3, or a notes blob without the note: the sub-header's pointer */
	if (!err && dump->vmci_origin == VF_VMCI_NONE && kd->offset_vmcoreinfo && kd->size_vmcoreinfo)
		err = vf_dump_vmcoreinfo_at(dump, kd->offset_vmcoreinfo, kd->size_vmcoreinfo);
	if (err)
		return err;
	return setup_mem(dump, kd);
}

static void deinit(struct vf_dump *dump)
{
	free(dump->kdump);
	dump->kdump = NULL;
}

struct vf_error *vf_kdump_truncation(const struct vf_kdump_info *kd, uint64_t file_size)
{
	if (!kd->truncated)
		return NULL;
	struct vf_error *err;
	if (kd->truncated_need == UINT64_MAX)
		err = vf_error_at(VF_ERR_CORRUPT, file_size, "kdump truncated: the file ends at 0x%"
				  PRIx64 ", and the page descriptors of its %" PRIu64 " dumped pages "
				  "do not fit any file", file_size, kd->ndumped);
	else
		err = vf_error_at(VF_ERR_CORRUPT, file_size, "kdump truncated: the file ends at 0x%"
				  PRIx64 ", inside its %s (0x%" PRIx64 " bytes missing: they end at "
				  "0x%" PRIx64 ", %" PRIu64 " pages were dumped)", file_size,
				  kd->truncated_what, kd->truncated_need - file_size,
				  kd->truncated_need, kd->ndumped);
	return vf_error_set_hint(err, "the file was cut (a copy or a write that did not finish): "
				 "take the dump again, or copy it whole");
}

bool vf_kdump_utsname_filled(const struct vf_kdump_info *kd)
{
	for (int i = 0; i < 6; i++)
		if (i != 4 && kd->utsname[i][0])
			return true;
	return false;
}

const struct vf_format_ops vf_kdump_format = {
	.name = "kdump-compressed",
	.format = VF_FORMAT_KDUMP,
	.probe = probe,
	.open = open_dump,
	.deinit = deinit,
};

bool vf_kdump_header_end(const uint8_t *h, size_t len, uint64_t *end)
{
	static const enum vf_kdump_layout all[] = { VF_KDUMP_LAYOUT_64, VF_KDUMP_LAYOUT_32_PADDED };
	if (!probe(h, len) || len < 12)
		return false;
	for (int bo = 0; bo < 2; bo++) {
		int32_t ver = (int32_t)ld(h, 8, 4, bo == 1);
		if (ver < 1 || ver > 6)
			continue;
		for (size_t li = 0; li < 2; li++) {
			struct vf_kdump_field_offsets fo;
			vf_kdump_offsets(&fo, all[li]);
			if (len < fo.bitmap_blocks + 4u)
				continue;
			uint64_t bs = ld(h, fo.block_size, 4, bo == 1), b1, bm;
			if (!pow2_sane(bs))
				continue;
			uint64_t sub = ld(h, fo.sub_hdr_size, 4, bo == 1);
			uint64_t nbm = ld(h, fo.bitmap_blocks, 4, bo == 1);
			return vf_mul_ok(bs, 1 + sub, &b1) && vf_mul_ok(bs, nbm, &bm) &&
			       vf_add_ok(b1, bm, end);
		}
	}
	return false;
}
