/* migmem.c - guest physical memory from a migration stream's RAM pages
 * (migstream.h): the walk to EOF indexes the main RAM block's page records
 * as runs (migram.c).  Once the walk is done, a sweep over the runs sorted
 * by first page turns them into disjoint segments, each naming the run that
 * sent its pages last (the latest wins where runs overlap): a read finds its
 * page's segment by binary search, whatever the overlaps (a page sent in one
 * big run and again in many small ones costs O(log n), not a walk back over
 * every run), then reads its data from the stream or fills a zero page.
 */
#include "config.h"
#include "guest/migstream.h"
#include "guest/migstream_priv.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "guest/rawmem.h"
#include "source/open.h"

#define MAX_RUNS (1u << 19)       /* RAM index: 32 bytes a run, 16 MiB at most */

const char *vf_migstream_machine_layout(const char *machine)
{
	static const struct { const char *prefix; const char *layout; } map[] = {
		{ "pc-q35-", "q35" }, { "q35", "q35" },
		{ "pc-", "pc" }, { "pc", "pc" },
		{ "virt-", "virt" }, { "virt", "virt" },
	};
	if (!machine)
		return NULL;
	for (size_t i = 0; i < sizeof(map) / sizeof(*map); i++) {
		size_t n = strlen(map[i].prefix);
		bool prefix = map[i].prefix[n - 1] == '-';
		if (prefix ? strncmp(machine, map[i].prefix, n) == 0
			   : strcmp(machine, map[i].prefix) == 0)
			return map[i].layout;
	}
	return NULL;
}

/* Pages [first, the next segment's first) read as run `run` (NO_RUN: a gap
 * no run covers).  The last segment ends where its run does. */
struct seg {
	uint32_t first;
	uint32_t run;
};
#define NO_RUN UINT32_MAX

struct migmem {
	struct vf_src *src;       /* the file */
	struct vf_src *lv;        /* the layer over it (libvirt, decompressed), or NULL */
	const char *compressed;
	char *block;              /* "pc.ram" */
	uint64_t block_length;
	uint64_t page_size;
	const char *layout;       /* preset name, or "ranges" */
	struct mig_run *runs;     /* sorted by (first, seq) */
	size_t nruns;
	struct seg *segs;         /* disjoint, by first page */
	size_t nsegs;
	uint64_t records;
	size_t nranges;
	struct vf_rawmem_range r[VF_RAWMEM_MAX_RANGES];  /* sorted by paddr */
};

static int cmp_run(const void *a, const void *b)
{
	const struct mig_run *x = a, *y = b;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The max-heap of active runs by seq (indices into runs). */
static void heap_push(uint32_t *h, size_t *n, const struct mig_run *runs, uint32_t r)
{
	size_t i = (*n)++;
	while (i && runs[h[(i - 1) / 2]].seq < runs[r].seq) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = r;
}

static void heap_pop(uint32_t *h, size_t *n, const struct mig_run *runs)
{
	uint32_t last = h[--*n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && runs[h[c + 1]].seq > runs[h[c]].seq)
			c++;
		if (runs[h[c]].seq <= runs[last].seq)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = last;
}

static uint64_t run_end(const struct mig_run *r)
{
	return (uint64_t)r->first + r->count;
}

static struct vf_error *add_seg(struct seg **segs, size_t *n, size_t *cap, uint64_t first,
				uint32_t run)
{
	if (*n && (*segs)[*n - 1].run == run)
		return NULL;   /* the same winner goes on */
	if (*n && (*segs)[*n - 1].first == first) {
		(*segs)[*n - 1].run = run;   /* an empty segment: replaced */
		return NULL;
	}
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct seg *ns = realloc(*segs, ncap * sizeof(*ns));
		if (!ns)
			return &vf_error_nomem;
		*segs = ns;
		*cap = ncap;
	}
	(*segs)[(*n)++] = (struct seg){ (uint32_t)first, run };
	return NULL;
}

/* Sort the runs by first page, then sweep them into disjoint segments: at
 * each boundary (a run's start or end) the active run with the highest seq
 * wins.  O(n log n) time; the segments (at most 2n) take 8 bytes each. */
static struct vf_error *index_finish(struct migmem *m, struct mig_ram_index *x)
{
	if (x->n > 1)  /* a stream with no main-RAM page: runs is NULL */
		qsort(x->runs, x->n, sizeof(*x->runs), cmp_run);
	const struct mig_run *runs = x->runs;
	uint32_t *heap = x->n ? malloc(x->n * sizeof(*heap)) : NULL;
	if (x->n && !heap)
		return &vf_error_nomem;
	struct seg *segs = NULL;
	size_t nh = 0, ns = 0, cap = 0, i = 0;
	uint64_t cur = x->n ? runs[0].first : 0;
	struct vf_error *err = NULL;
	while (!err && (i < x->n || nh)) {
		while (i < x->n && runs[i].first <= cur)
			heap_push(heap, &nh, runs, (uint32_t)i++);
		while (nh && run_end(&runs[heap[0]]) <= cur)
			heap_pop(heap, &nh, runs);   /* ended: lazily dropped */
		if (!nh) {
			if (i == x->n)
				break;
			err = add_seg(&segs, &ns, &cap, cur, NO_RUN);
			cur = runs[i].first;
			continue;
		}
		uint32_t w = heap[0];
		uint64_t next = run_end(&runs[w]);
		if (i < x->n && runs[i].first < next)
			next = runs[i].first;
		err = add_seg(&segs, &ns, &cap, cur, w);
		cur = next;
	}
	free(heap);
	if (err) {
		free(segs);
		return err;
	}
	m->segs = segs;
	m->nsegs = ns;
	return NULL;
}

/* The segment index holding page (the last with first <= page), or nsegs. */
static size_t seg_at(const struct migmem *m, uint64_t page)
{
	size_t lo = 0, hi = m->nsegs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->segs[mid].first <= page)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : m->nsegs;
}

/* The run holding page's last record in the stream, or NULL. */
static const struct mig_run *lookup(const struct migmem *m, uint64_t page)
{
	size_t i = seg_at(m, page);
	if (i == m->nsegs || m->segs[i].run == NO_RUN)
		return NULL;
	const struct mig_run *r = &m->runs[m->segs[i].run];
	return page - r->first < r->count ? r : NULL;
}

static const struct vf_rawmem_range *migmem_range(const struct migmem *m, uint64_t paddr)
{
	for (size_t i = 0; i < m->nranges; i++)
		if (paddr >= m->r[i].paddr && paddr - m->r[i].paddr < m->r[i].size)
			return &m->r[i];
	return NULL;
}

static struct vf_error *migmem_read(void *ctx, uint64_t paddr, void *buf, size_t len)
{
	struct migmem *m = ctx;
	uint8_t *out = buf;
	while (len) {
		const struct vf_rawmem_range *r = migmem_range(m, paddr);
		if (!r) {
			struct vf_error *err = vf_error_paddr(VF_ERR_NOT_PRESENT, paddr, "not in "
							      "RAM block '%s' of the migration "
							      "stream (layout %s)", m->block,
							      m->layout);
			return vf_error_set_path(err, m->src->path);
		}
		uint64_t in = paddr - r->paddr;
		uint64_t boff = r->file_off + in;   /* the layout checked the sums */
		uint64_t page = boff / m->page_size, pin = boff % m->page_size;
		uint64_t avail = m->page_size - pin;
		if (avail > r->size - in)
			avail = r->size - in;
		size_t n = avail < len ? (size_t)avail : len;
		const struct mig_run *run = lookup(m, page);
		struct vf_error *err = NULL;
		if (!run) {
			err = vf_error_paddr(VF_ERR_NOT_PRESENT, paddr, "offset 0x%" PRIx64 " of RAM "
					     "block '%s': the migration stream never sent its "
					     "page", boff, m->block);
			return vf_error_set_path(err, m->src->path);
		}
		uint64_t off;
		switch (run->kind) {
		case RUN_ZERO:
			memset(out, run->fill, n);
			break;
		case RUN_PAGE:
			if (!vf_mul_ok(page - run->first, run->stride, &off) ||
			    !vf_add_ok(off, run->data_off, &off) || !vf_add_ok(off, pin, &off))
				return vf_error_paddr(VF_ERR_CORRUPT, paddr, "RAM page index "
						      "overflows (offset 0x%" PRIx64 " of block "
						      "'%s')", boff, m->block);
			err = vf_src_read(m->lv ? m->lv : m->src, out, n, off,
					  "RAM page data");
			if (err)
				return vf_error_prefix(err, "physical address 0x%" PRIx64
						       " (offset 0x%" PRIx64 " of RAM block '%s')",
						       paddr, boff, m->block);
			break;
		default:
			err = vf_error_paddr(VF_ERR_UNSUPPORTED, paddr, "offset 0x%" PRIx64 " of RAM "
					     "block '%s': the stream's last record of its page, "
					     "at file offset 0x%" PRIx64 ", is %s", boff, m->block,
					     run->data_off,
					     run->kind == RUN_XBZRLE ? "an XBZRLE delta" :
					     "compressed (multi-thread compression)");
			err = vf_error_set_path(err, m->src->path);
			return vf_error_set_hint(err, "save the VM without the xbzrle and compress "
						 "migration capabilities");
		}
		out += n;
		paddr += n;
		len -= n;
	}
	return NULL;
}

/* Pages [*first, *end) of the block the stream sent, from page on: the
 * segments with a run, each up to the next segment or its run's end. */
static bool sent_from(const struct migmem *m, uint64_t page, uint64_t *first, uint64_t *end)
{
	size_t i = seg_at(m, page);
	if (i == m->nsegs) {
		if (!m->nsegs || page >= m->segs[0].first)
			return false;
		i = 0;
	}
	for (; i < m->nsegs; i++) {
		const struct seg *s = &m->segs[i];
		if (s->run == NO_RUN)
			continue;
		uint64_t lo = s->first > page ? s->first : page;
		uint64_t hi = run_end(&m->runs[s->run]);
		if (i + 1 < m->nsegs && m->segs[i + 1].first < hi)
			hi = m->segs[i + 1].first;
		if (lo >= hi)
			continue;
		*first = lo;
		*end = hi;
		/* the next segments that go on without a gap */
		for (size_t k = i + 1; k < m->nsegs && m->segs[k].first == *end &&
				       m->segs[k].run != NO_RUN; k++) {
			uint64_t e = run_end(&m->runs[m->segs[k].run]);
			if (k + 1 < m->nsegs && m->segs[k + 1].first < e)
				e = m->segs[k + 1].first;
			if (e <= *end)
				break;
			*end = e;
		}
		return true;
	}
	return false;
}

/* The first address at or after paddr whose page the stream sent, within
 * the layout's ranges; *data_end where the sent pages stop. */
static uint64_t migmem_next_data(void *ctx, uint64_t paddr, uint64_t *data_end)
{
	const struct migmem *m = ctx;
	*data_end = UINT64_MAX;
	for (size_t i = 0; i < m->nranges; i++) {
		const struct vf_rawmem_range *r = &m->r[i];
		if (paddr >= r->paddr + r->size)
			continue;
		uint64_t a = paddr > r->paddr ? paddr : r->paddr;
		uint64_t boff = r->file_off + (a - r->paddr), bend = r->file_off + r->size;
		uint64_t first, end;
		if (!sent_from(m, boff / m->page_size, &first, &end))
			continue;
		uint64_t lo = first * m->page_size, hi = end * m->page_size;
		if (lo < boff)
			lo = boff;
		if (hi > bend)
			hi = bend;
		if (lo >= hi)
			continue;
		*data_end = r->paddr + (hi - r->file_off);
		return r->paddr + (lo - r->file_off);
	}
	return UINT64_MAX;
}

static void migmem_destroy(void *ctx)
{
	struct migmem *m = ctx;
	if (!m)
		return;
	vf_src_destroy(m->lv);   /* before the file it reads */
	if (m->src)
		vf_src_destroy(m->src);
	free(m->block);
	free(m->runs);
	free(m->segs);
	free(m);
}

static const struct vf_mem_ops migmem_ops = {
	.read = migmem_read,
	.next_data = migmem_next_data,
	.destroy = migmem_destroy,
};

/* Everything after the walk: the block, its layout, the memory. */
static struct vf_error *migmem_setup(struct migmem *m, const struct vf_migstate *st,
				     struct mig_ram_index *x, const char *layout_spec)
{
	const char *name = vf_mig_main_ram_block(st);
	long bi = vf_mig_find_block(st, name);
	if (bi < 0) {
		struct vf_error *err = vf_error_create(VF_ERR_UNSUPPORTED, "migration stream: "
						       "no RAM block '%s' (machine '%s'; %zu "
						       "blocks, the first '%s')", name,
						       st->machine, st->nramblocks,
						       st->nramblocks ? st->ramblocks[0].idstr : "");
		err = vf_error_set_path(err, m->src->path);
		return vf_error_set_hint(err, "only x86 pc/q35 (pc.ram) and arm virt "
					 "(mach-virt.ram) guests are read from streams");
	}
	if (x->block >= 0 && x->block != bi)
		return vf_error_create(VF_ERR_CORRUPT, "migration stream: indexed block %ld, "
				       "not %ld", x->block, bi);
	const struct vf_mig_ramblock *b = &st->ramblocks[bi];
	const char *spec = layout_spec;
	if (!spec && !(spec = vf_migstream_machine_layout(st->machine))) {
		struct vf_error *err = vf_error_create(VF_ERR_UNSUPPORTED, "migration stream: "
						       "machine type '%s' has no known RAM "
						       "layout", st->machine);
		err = vf_error_set_path(err, m->src->path);
		return vf_error_set_hint(err, "give the layout of RAM block '%s': pc, q35, "
					 "virt, or FILEOFF:GPA:SIZE ranges (FILEOFF: the offset "
					 "in the block)", b->idstr);
	}
	struct vf_rawmem_layout lay;
	struct vf_error *err = vf_rawmem_parse_layout(spec, b->length, &lay);
	if (err)
		return vf_error_set_path(vf_error_prefix(err, "migration stream, RAM block '%s' "
							 "(0x%" PRIx64 " bytes)", b->idstr,
							 b->length), m->src->path);
	if (!(m->block = strdup(b->idstr)))
		return &vf_error_nomem;
	m->block_length = b->length;
	m->page_size = st->page_size;
	m->layout = lay.preset ? lay.preset : "ranges";
	m->nranges = lay.n;
	memcpy(m->r, lay.r, lay.n * sizeof(lay.r[0]));
	if ((err = index_finish(m, x)))
		return err;
	m->runs = x->runs;
	m->nruns = x->n;
	m->records = x->records;
	x->runs = NULL;
	return NULL;
}

struct vf_error *vf_migstream_mem_init(const char *path, const char *layout_spec,
				       struct vf_mem *out)
{
	return vf_migstream_mem_open(path, layout_spec, out, NULL);
}

struct vf_error *vf_migstream_mem_open(const char *path, const char *layout_spec,
				       struct vf_mem *out, struct vf_migstate *state)
{
	memset(out, 0, sizeof(*out));
	struct vf_src *src;
	struct vf_error *err = vf_source_open(path, &src);
	return err ? err : vf_migstream_mem_open_src(src, layout_spec, out, state);
}

struct vf_error *vf_migstream_mem_open_src(struct vf_src *src, const char *layout_spec,
					   struct vf_mem *out, struct vf_migstate *state)
{
	memset(out, 0, sizeof(*out));
	const char *path = src->path;
	struct migmem *m = calloc(1, sizeof(*m));
	if (!m) {
		vf_src_destroy(src);
		return &vf_error_nomem;
	}
	m->src = src;
	struct vf_error *err = NULL;
	struct vf_migstate st;
	struct mig_ram_index x = { .block = -1, .max_runs = MAX_RUNS };
	err = vf_mig_scan_with(m->src, &st, &x, &m->lv);
	m->compressed = st.compressed;
	if (!err && !st.reached_eof)
		err = vf_error_set_path(vf_error_create(VF_ERR_CORRUPT, "migration stream: the "
							"walk ended before EOF"), path);
	if (!err)
		err = migmem_setup(m, &st, &x, layout_spec);
	if (state && !err)
		*state = st;
	else
		vf_migstate_deinit(&st);
	free(x.runs);
	if (!err) {
		out->ranges = malloc(m->nranges * sizeof(*out->ranges));
		if (!out->ranges)
			err = &vf_error_nomem;
	}
	if (err) {
		migmem_destroy(m);
		return err;
	}
	for (size_t i = 0; i < m->nranges; i++)
		out->ranges[i] = (struct vf_mem_range){ m->r[i].paddr, m->r[i].size };
	out->nranges = m->nranges;
	out->ops = &migmem_ops;
	out->ctx = m;
	out->name = "migration stream";
	out->page_size = m->page_size;
	return NULL;
}

bool vf_migstream_mem_info(const struct vf_mem *mem, struct vf_migstream_mem_info *info)
{
	if (mem->ops != &migmem_ops)
		return false;
	const struct migmem *m = mem->ctx;
	*info = (struct vf_migstream_mem_info){ .block = m->block,
						.block_length = m->block_length,
						.layout = m->layout, .runs = m->nruns,
						.records = m->records,
						.compressed = m->compressed,
						.restarts = vf_mig_layer_restarts(m->lv) };
	return true;
}

void vf_migstream_mem_deinit(struct vf_mem *mem)
{
	if (mem->ops && mem->ops->destroy)
		mem->ops->destroy(mem->ctx);
	free(mem->ranges);
	memset(mem, 0, sizeof(*mem));
}
