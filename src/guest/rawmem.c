/* rawmem.c - guest physical memory from a raw guest RAM file. */
#include "config.h"
#include "guest/rawmem.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cursor.h"
#include "source/src.h"

#define GIB (UINT64_C(1) << 30)

static const char layout_hint[] =
	"give the layout as FILEOFF:GPA:SIZE ranges, comma-separated (numbers decimal "
	"or 0x hex, K/M/G/T suffixes allowed; e.g. 0:0:2G,2G:4G:2G), or a preset: "
	"pc, q35 (x86) or virt (arm)";

static struct vf_error *bad(const char *tok, size_t toklen, size_t idx, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A refusal naming the token (range idx, counted from 1) that is wrong. */
static struct vf_error *bad(const char *tok, size_t toklen, size_t idx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct vf_error *err = vf_error_vcreate(VF_ERR_INVALID, fmt, ap);
	va_end(ap);
	char q[VF_QUOTE_BUF];
	err = vf_error_prefix(err, "raw RAM layout: range %zu '%s'", idx, vf_quote(tok, toklen, q));
	return vf_error_set_hint(err, "%s", layout_hint);
}

/* One number: decimal or 0x hex, optional K/M/G/T suffix (powers of 1024). */
static bool parse_num(const char *s, size_t n, uint64_t *v)
{
	int base = 10;
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		n -= 2;
	}
	unsigned shift = 0;
	if (n > 0) {
		switch (s[n - 1]) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		case 't': case 'T': shift = 40; break;
		}
		if (shift)
			n--;
	}
	if (n == 0)
		return false;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d;
		char c = s[i];
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		if (!vf_mul_ok(x, (uint64_t)base, &x) || !vf_add_ok(x, d, &x))
			return false;
	}
	if (shift && (x >> (64 - shift)) != 0)
		return false;
	*v = x << shift;
	return true;
}

static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t' || **s == '\n')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\n'))
		(*n)--;
}

static struct vf_error *parse_token(const char *tok, size_t n, size_t idx,
				    struct vf_rawmem_range *r)
{
	static const char *const field[] = { "file offset", "guest physical address", "size" };
	uint64_t v[3];
	const char *p = tok;
	size_t left = n;
	for (size_t f = 0; f < 3; f++) {
		const char *colon = memchr(p, ':', left);
		size_t len = colon ? (size_t)(colon - p) : left;
		if (f < 2 && !colon)
			return bad(tok, n, idx, "expected FILEOFF:GPA:SIZE (three numbers "
				   "separated by ':'), found %zu", f + 1);
		if (f == 2 && colon)
			return bad(tok, n, idx, "expected FILEOFF:GPA:SIZE, found more than "
				   "three fields");
		const char *q = p;
		size_t qn = len;
		trim(&q, &qn);
		char qq[VF_QUOTE_BUF];
		if (!parse_num(q, qn, &v[f]))
			return bad(tok, n, idx, "the %s '%s' is not a number (decimal or 0x "
				   "hex, optional K/M/G/T suffix) below 2^64", field[f],
				   vf_quote(q, qn, qq));
		p += len + (colon ? 1 : 0);
		left -= len + (colon ? 1 : 0);
	}
	r->file_off = v[0];
	r->paddr = v[1];
	r->size = v[2];
	uint64_t end;
	if (r->size == 0)
		return bad(tok, n, idx, "size 0");
	if (!vf_add_ok(r->file_off, r->size, &end))
		return bad(tok, n, idx, "file offset + size overflows 64 bits");
	if (!vf_add_ok(r->paddr, r->size, &end))
		return bad(tok, n, idx, "guest physical address + size overflows 64 bits");
	return NULL;
}

static struct vf_error *preset(const char *name, uint64_t file_size, struct vf_rawmem_layout *out)
{
	if (file_size == 0)
		return vf_error_set_hint(vf_error_create(VF_ERR_INVALID, "raw RAM layout preset "
							 "'%s': the file is empty", name),
					 "give the guest's RAM file (memory-backend-file mem-path)");
	if (strcmp(name, "virt") == 0) {
		out->preset = "virt";
		out->n = 1;
		out->r[0] = (struct vf_rawmem_range){ 0, 0x40000000, file_size };
		uint64_t end;
		if (!vf_add_ok(0x40000000, file_size, &end))
			return vf_error_create(VF_ERR_INVALID, "raw RAM layout preset 'virt': "
					       "a file of 0x%" PRIx64 " bytes does not fit above "
					       "GPA 0x40000000", file_size);
		return NULL;
	}
	/* QEMU's split of x86 RAM below and above 4 GiB (default max-ram-below-4g). */
	uint64_t low;
	if (strcmp(name, "pc") == 0) {
		out->preset = "pc";
		low = file_size >= 0xe0000000 ? 0xc0000000 : file_size;
	} else {
		out->preset = "q35";
		low = file_size >= 0xb0000000 ? 0x80000000 : file_size;
	}
	out->n = 1;
	out->r[0] = (struct vf_rawmem_range){ 0, 0, low };
	if (file_size > low) {
		uint64_t end;
		if (!vf_add_ok(4 * GIB, file_size - low, &end))
			return vf_error_create(VF_ERR_INVALID, "raw RAM layout preset '%s': a file "
					       "of 0x%" PRIx64 " bytes does not fit in 64-bit "
					       "addresses", name, file_size);
		out->r[1] = (struct vf_rawmem_range){ low, 4 * GIB, file_size - low };
		out->n = 2;
	}
	return NULL;
}

static int cmp_paddr(const void *a, const void *b)
{
	const struct vf_rawmem_range *x = a, *y = b;
	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

struct vf_error *vf_rawmem_parse_layout(const char *spec, uint64_t file_size,
					struct vf_rawmem_layout *out)
{
	memset(out, 0, sizeof(*out));
	const char *s = spec ? spec : "";
	size_t sn = strlen(s);
	trim(&s, &sn);
	if (sn == 0)
		return vf_error_set_hint(vf_error_create(VF_ERR_INVALID, "raw RAM layout is empty"),
					 "%s", layout_hint);
	static const char *const presets[] = { "pc", "q35", "virt" };
	for (size_t i = 0; i < sizeof(presets) / sizeof(*presets); i++)
		if (sn == strlen(presets[i]) && memcmp(s, presets[i], sn) == 0)
			return preset(presets[i], file_size, out);

	/* Explicit ranges; remember each one's token for messages. */
	const char *toks[VF_RAWMEM_MAX_RANGES];
	size_t toklens[VF_RAWMEM_MAX_RANGES];
	const char *p = s, *end = s + sn;
	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t len = comma ? (size_t)(comma - p) : (size_t)(end - p);
		const char *t = p;
		size_t tn = len;
		trim(&t, &tn);
		if (out->n == VF_RAWMEM_MAX_RANGES)
			return bad(t, tn, out->n + 1, "more than %d ranges", VF_RAWMEM_MAX_RANGES);
		if (tn == 0)
			return bad(t, tn, out->n + 1, "empty range (two commas, or a comma at "
				   "an end)");
		struct vf_rawmem_range *r = &out->r[out->n];
		struct vf_error *err = parse_token(t, tn, out->n + 1, r);
		if (err)
			return err;
		if (r->file_off + r->size > file_size)
			return vf_error_set_hint(
				bad(t, tn, out->n + 1, "ends at file offset 0x%" PRIx64 ", past the "
				    "end of the file (0x%" PRIx64 " bytes)", r->file_off + r->size,
				    file_size),
				"the file is shorter than the layout says: check the layout, or "
				"whether the file is a complete copy of the guest's RAM");
		for (size_t i = 0; i < out->n; i++) {
			const struct vf_rawmem_range *o = &out->r[i];
			char q[VF_QUOTE_BUF];
			if (r->paddr < o->paddr + o->size && o->paddr < r->paddr + r->size)
				return bad(t, tn, out->n + 1, "guest physical addresses "
					   "0x%" PRIx64 "-0x%" PRIx64 " overlap range %zu '%s'",
					   r->paddr, r->paddr + r->size - 1, i + 1,
					   vf_quote(toks[i], toklens[i], q));
			if (r->file_off < o->file_off + o->size &&
			    o->file_off < r->file_off + r->size)
				return bad(t, tn, out->n + 1, "file offsets 0x%" PRIx64 "-0x%" PRIx64
					   " overlap range %zu '%s' (each byte of guest RAM is "
					   "in the file once)", r->file_off, r->file_off + r->size - 1,
					   i + 1, vf_quote(toks[i], toklens[i], q));
		}
		toks[out->n] = t;
		toklens[out->n] = tn;
		out->n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	if (out->n > 1)
		qsort(out->r, out->n, sizeof(out->r[0]), cmp_paddr);
	return NULL;
}

/* ---------------------------------------------------------------- reading */

struct rawmem {
	int fd;
	char *path;
	size_t n;
	struct vf_rawmem_range r[VF_RAWMEM_MAX_RANGES];  /* sorted by paddr */
};

/* The range holding paddr, or NULL (binary search over sorted, disjoint ranges). */
static const struct vf_rawmem_range *find_range(const struct rawmem *m, uint64_t paddr)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct vf_rawmem_range *r = &m->r[mid];
		if (paddr < r->paddr)
			hi = mid;
		else if (paddr - r->paddr >= r->size)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

static struct vf_error *rawmem_read(void *ctx, uint64_t paddr, void *buf, size_t len)
{
	struct rawmem *m = ctx;
	uint8_t *out = buf;
	while (len) {
		const struct vf_rawmem_range *r = find_range(m, paddr);
		if (!r)
			return vf_error_set_path(vf_error_paddr(VF_ERR_NOT_PRESENT, paddr,
						 "physical address 0x%" PRIx64 " is not in the raw "
						 "RAM file's layout", paddr), m->path);
		uint64_t in = paddr - r->paddr;
		uint64_t avail = r->size - in;
		size_t n = avail < len ? (size_t)avail : len;
		uint64_t off = r->file_off + in;
		size_t got;
		struct vf_error *err = vf_pread_full(m->fd, m->path, out, n, off, &got);
		if (err)
			return vf_error_prefix(err, "reading physical address 0x%" PRIx64, paddr);
		if (got < n) {
			err = vf_error_truncated(off + got, "raw RAM file", n, got);
			err = vf_error_prefix(err, "physical address 0x%" PRIx64, paddr + got);
			vf_error_set_path(err, m->path);
			return vf_error_set_hint(err, "the file is shorter than its layout: it "
						 "shrank or is a partial copy");
		}
		out += n;
		paddr += n;
		len -= n;
	}
	return NULL;
}

static void rawmem_destroy(void *ctx)
{
	struct rawmem *m = ctx;
	if (!m)
		return;
	if (m->fd >= 0)
		close(m->fd);
	free(m->path);
	free(m);
}

static const struct vf_mem_ops rawmem_ops = {
	.read = rawmem_read,
	.destroy = rawmem_destroy,
};

struct vf_error *vf_rawmem_init(const char *path, const char *layout_spec, struct vf_mem *out)
{
	memset(out, 0, sizeof(*out));
	struct rawmem *m = calloc(1, sizeof(*m));
	if (!m)
		return &vf_error_nomem;
	m->fd = -1;
	m->path = strdup(path);
	if (!m->path) {
		rawmem_destroy(m);
		return &vf_error_nomem;
	}
	m->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (m->fd < 0) {
		int e = errno;
		rawmem_destroy(m);
		return vf_error_os(e, path, "opening the raw RAM file");
	}
	struct stat st;
	if (fstat(m->fd, &st) != 0) {
		int e = errno;
		rawmem_destroy(m);
		return vf_error_os(e, path, "stat of the raw RAM file");
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		rawmem_destroy(m);
		return vf_error_set_hint(vf_error_set_path(vf_error_create(VF_ERR_INVALID,
			"the raw RAM file is not a regular file"), path),
			"give the file of the guest's memory-backend-file (mem-path)");
	}
	uint64_t size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode)) {
		off_t e = lseek(m->fd, 0, SEEK_END);
		if (e < 0) {
			int er = errno;
			rawmem_destroy(m);
			return vf_error_os(er, path, "finding the size of the raw RAM device");
		}
		size = (uint64_t)e;
	}
	struct vf_rawmem_layout lay;
	struct vf_error *err = vf_rawmem_parse_layout(layout_spec, size, &lay);
	if (err) {
		rawmem_destroy(m);
		return vf_error_set_path(err, path);
	}
	m->n = lay.n;
	memcpy(m->r, lay.r, lay.n * sizeof(lay.r[0]));
	out->ranges = malloc(lay.n * sizeof(*out->ranges));
	if (!out->ranges) {
		rawmem_destroy(m);
		return &vf_error_nomem;
	}
	for (size_t i = 0; i < lay.n; i++)
		out->ranges[i] = (struct vf_mem_range){ lay.r[i].paddr, lay.r[i].size };
	out->nranges = lay.n;
	out->ops = &rawmem_ops;
	out->ctx = m;
	out->name = "raw RAM file";
	out->bulk_reads_cheap = true;   /* one pread per range touched */
	out->page_size = 4096;
	return NULL;
}

void vf_rawmem_deinit(struct vf_mem *mem)
{
	if (mem->ops && mem->ops->destroy)
		mem->ops->destroy(mem->ctx);
	free(mem->ranges);
	memset(mem, 0, sizeof(*mem));
}
