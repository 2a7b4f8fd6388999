/* migstream.c - the vmcoreinfo device's state in a QEMU migration stream.
 *
 * Layout facts (our own reading of QEMU's savevm format, all integers
 * big-endian):
 *   "QEVM" be32 version(3)
 *   sections, each starting with a type byte:
 *     0x07 configuration: be32 len, machine name; optional subsections
 *     0x01 START / 0x04 FULL: be32 section id, u8 len, idstr, be32 instance,
 *          be32 version, body, [footer]
 *     0x02 PART / 0x03 END: be32 section id, body, [footer]
 *     0x08 command: be16 command, be16 len, data
 *     0x00 EOF, then optionally 0x06 be32 len + JSON VM description
 *   footer: 0x7e be32 section id (every machine type newer than 2.3)
 *   subsection: 0x05 u8 len, name, be32 version, fields
 *   "ram" (version 4) bodies: be64 records, offset | flags, until EOS.
 *
 * One walker serves both uses: vf_migstream_scan() stops once the device is
 * found; vf_migstream_mem_open() walks to EOF, never searches, and indexes
 * the main RAM block's page records as runs (see struct run).
 */
#include "config.h"
#include "guest/migstream.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"
#include "guest/rawmem.h"
#include "source/open.h"
#include "source/zsrc.h"

enum {
	SEC_EOF = 0x00,
	SEC_START = 0x01,
	SEC_PART = 0x02,
	SEC_END = 0x03,
	SEC_FULL = 0x04,
	SEC_SUBSECTION = 0x05,
	SEC_VMDESCRIPTION = 0x06,
	SEC_CONFIGURATION = 0x07,
	SEC_COMMAND = 0x08,
	SEC_FOOTER = 0x7e,
};

/* RAM record flags: the low bits of each record's be64. */
#define RAM_ZERO 0x002u
#define RAM_MEM_SIZE 0x004u
#define RAM_PAGE 0x008u
#define RAM_EOS 0x010u
#define RAM_CONTINUE 0x020u
#define RAM_XBZRLE 0x040u
#define RAM_HOOK 0x080u
#define RAM_COMPRESS_PAGE 0x100u
#define RAM_MULTIFD_FLUSH 0x200u
#define RAM_FLAGS_MASK 0x3ffu     /* below the smallest target page (1 KiB) */

#define CMD_POSTCOPY_ADVISE 3
#define CMD_PACKAGED 8
#define CMD_MAX 64

#define LIBVIRT_MAGIC "LibvirtQemudSave"
#define LIBVIRT_PARTIAL "LibvirtQemudPart"
#define LIBVIRT_MAGIC_LEN 16
#define LIBVIRT_HEADER_SIZE 92    /* magic + 5 u32 + 14 unused u32 */

#define RD_BUF 1024               /* the longest field read at once */
#define RD_AHEAD 288              /* a RAM record header with a block name */
#define SCAN_FIRST 4096u
#define SCAN_CHUNK (1u << 20)
#define DESC_FIRST (64u << 10)    /* the tail read first for the JSON description */
#define DESC_MAX (8u << 20)       /* and at most */
#define MAX_SECTIONS 16384
#define MAX_RAMBLOCKS 4096
#define MAX_MACHINE_NAME 1024
#define MAX_ID_FIELD 0x10000u     /* instance and version ids are small */
#define MAX_RUNS (1u << 19)       /* RAM index: 32 bytes a run, 16 MiB at most */

static const char vmci_idstr[] = "vmcoreinfo";

/* ------------------------------------------------------------ the RAM index
 * One block's page records, as runs: consecutive records of the same kind
 * for consecutive pages (data pages also at a constant stride in the file).
 * Runs are appended in stream order, so a run's position is its age. */
enum { RUN_PAGE, RUN_ZERO, RUN_COMPRESSED, RUN_XBZRLE };

struct run {
	uint64_t data_off;   /* RUN_PAGE: file offset of the first page's data;
			      * compressed/XBZRLE: file offset of the record */
	uint32_t first;      /* first page (block offset / page size) */
	uint32_t count;      /* pages */
	uint32_t stride;     /* RUN_PAGE: bytes from one page's data to the next */
	uint32_t seq;        /* position in stream order: a later run wins */
	uint32_t maxlast;    /* once sorted: the largest last page of runs[0..this] */
	uint8_t kind;
	uint8_t fill;        /* RUN_ZERO: the byte every page holds */
};

struct ram_index {
	long block;          /* the indexed block in st->ramblocks; -1 unresolved, -2 absent */
	struct run *runs;
	size_t n, cap, max_runs;
	uint64_t records;    /* page records of the block */
};

struct sect {
	uint32_t id;
	uint8_t type;
	bool ram;
	uint64_t offset;
};

struct ctx {
	struct vf_src *src;
	struct vf_migstate *st;
	uint64_t end;
	uint64_t pos;
	uint8_t buf[RD_BUF];
	uint64_t buf_off;
	size_t buf_len;
	struct sect *sects;
	size_t nsects, cap;
	long cur_block;           /* block of the last record, for CONTINUE */
	bool mapped_ram;
	uint8_t *chunk;           /* search() buffer, SCAN_CHUNK bytes */
	bool done;                /* found the device or gave up searching */
	bool full;                /* walk to EOF, never search (the RAM index) */
	struct ram_index *idx;    /* index this block's page records, or NULL */
	struct vf_src *zsrc;      /* a compressed libvirt image's stream, decompressed
				   * (owned; src points to it) */
	bool desc_deferred;       /* the size is unknown: the description is read after
				   * the walk, when the decoder has reached the end */
	uint64_t forced_page_size;  /* a second walk: the description's page size */
};

/* ------------------------------------------------------------ reading */

static struct vf_error *at_err(struct ctx *c, struct vf_error *err)
{
	return vf_error_set_path(err, c->src->path);
}

/* Point *p at n bytes (n <= RD_BUF) at file offset off. */
static struct vf_error *rd_at(struct ctx *c, uint64_t off, size_t n, const char *what,
			      const uint8_t **p)
{
	if (off >= c->buf_off && off - c->buf_off <= c->buf_len &&
	    n <= c->buf_len - (off - c->buf_off)) {
		*p = c->buf + (off - c->buf_off);
		return NULL;
	}
	/* read ahead little: after a RAM record header comes a page we skip */
	size_t got, want = n > RD_AHEAD ? n : RD_AHEAD;
	struct vf_error *err = vf_src_pread(c->src, c->buf, want, off, &got);
	c->end = c->src->size;    /* a decompressed stream learns its size at its end */
	if (err) {
		c->buf_len = 0;
		return err;
	}
	c->buf_off = off;
	c->buf_len = got;
	if (got < n)
		return at_err(c, vf_error_truncated(off, what, n, got));
	*p = c->buf;
	return NULL;
}

/* rd_at for probing: false on any error. */
static bool peek_at(struct ctx *c, uint64_t off, size_t n, const uint8_t **p)
{
	struct vf_error *err = rd_at(c, off, n, "data", p);
	if (err) {
		vf_error_destroy(err);
		return false;
	}
	return true;
}

static struct vf_error *rd_bytes(struct ctx *c, size_t n, const char *what, const uint8_t **p)
{
	struct vf_error *err = rd_at(c, c->pos, n, what, p);
	if (!err)
		c->pos += n;
	return err;
}

static struct vf_error *rd_uint(struct ctx *c, size_t n, const char *what, uint64_t *v)
{
	const uint8_t *p;
	struct vf_error *err = rd_bytes(c, n, what, &p);
	if (!err)
		*v = vf_load_uint(p, n, true);
	return err;
}

static struct vf_error *rd_u8(struct ctx *c, const char *what, uint8_t *v)
{
	uint64_t x = 0;
	struct vf_error *err = rd_uint(c, 1, what, &x);
	*v = (uint8_t)x;
	return err;
}

static struct vf_error *rd_u32(struct ctx *c, const char *what, uint32_t *v)
{
	uint64_t x = 0;
	struct vf_error *err = rd_uint(c, 4, what, &x);
	*v = (uint32_t)x;
	return err;
}

/* u8 length + that many bytes, as a NUL-terminated string in out[256]. */
static struct vf_error *rd_name(struct ctx *c, const char *what, char out[256])
{
	uint8_t len;
	const uint8_t *p;
	struct vf_error *err = rd_u8(c, what, &len);
	if (!err)
		err = rd_bytes(c, len, what, &p);
	if (err)
		return err;
	memcpy(out, p, len);
	out[len] = '\0';
	return NULL;
}

/* Step over n bytes without reading them. */
static struct vf_error *skip(struct ctx *c, uint64_t n, const char *what)
{
	if (n > c->end - c->pos)
		return at_err(c, vf_error_truncated(c->pos, what, n, c->end - c->pos));
	c->pos += n;
	return NULL;
}

static struct vf_error *corrupt(struct ctx *c, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct vf_error *corrupt(struct ctx *c, uint64_t off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct vf_error *err = vf_error_vcreate(VF_ERR_CORRUPT, fmt, ap);
	va_end(ap);
	if (err != &vf_error_nomem) {
		err->has_offset = true;
		err->offset = off;
	}
	return at_err(c, vf_error_prefix(err, "migration stream"));
}

/* ------------------------------------------------------------ sections */

static struct sect *find_sect(struct ctx *c, uint32_t id)
{
	for (size_t i = 0; i < c->nsects; i++)
		if (c->sects[i].id == id)
			return &c->sects[i];
	return NULL;
}

static struct vf_error *add_sect(struct ctx *c, uint32_t id, uint8_t type, bool ram,
				 uint64_t off)
{
	struct sect *old = find_sect(c, id);
	if (old)
		return corrupt(c, off, "section id %" PRIu32 " is used twice (first at offset 0x%"
			       PRIx64 ")", id, old->offset);
	if (c->nsects == MAX_SECTIONS)
		return corrupt(c, off, "more than %d sections", MAX_SECTIONS);
	if (c->nsects == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct sect *s = realloc(c->sects, cap * sizeof(*s));
		if (!s)
			return &vf_error_nomem;
		c->sects = s;
		c->cap = cap;
	}
	c->sects[c->nsects++] = (struct sect){ id, type, ram, off };
	c->st->nsections = c->nsects;
	return NULL;
}

static bool printable(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	return true;
}

/* Does a section (or EOF, or a command) plausibly start at off?  Used to
 * accept a footer found by searching: the bytes after it must parse. */
static bool plausible_next(struct ctx *c, uint64_t off)
{
	const uint8_t *p;
	if (!peek_at(c, off, 1, &p))
		return false;
	switch (p[0]) {
	case SEC_EOF:
		if (peek_at(c, off + 1, 1, &p))
			return p[0] == SEC_VMDESCRIPTION;
		return off + 1 == c->end;
	case SEC_START:
	case SEC_FULL: {
		if (!peek_at(c, off, 6, &p) || p[5] == 0)
			return false;
		size_t len = p[5];
		if (!peek_at(c, off, 6 + len + 8, &p) || !printable(p + 6, len))
			return false;
		return vf_load_uint(p + 6 + len, 4, true) < MAX_ID_FIELD &&
		       vf_load_uint(p + 10 + len, 4, true) < MAX_ID_FIELD;
	}
	case SEC_PART:
	case SEC_END: {
		if (!peek_at(c, off, 5, &p))
			return false;
		struct sect *s = find_sect(c, (uint32_t)vf_load_uint(p + 1, 4, true));
		return s && s->type == SEC_START;
	}
	case SEC_COMMAND: {
		if (!peek_at(c, off, 5, &p))
			return false;
		uint64_t cmd = vf_load_uint(p + 1, 2, true);
		return cmd >= 1 && cmd <= CMD_MAX;
	}
	}
	return false;
}

/* Search [from, end) for needle; the first hit accept() takes is *at.  The
 * window starts small (device state is mostly a few hundred bytes) and
 * doubles up to SCAN_CHUNK; one buffer serves every search of a walk. */
static struct vf_error *search(struct ctx *c, uint64_t from, const uint8_t *needle, size_t nlen,
			       bool (*accept)(struct ctx *, uint64_t, void *), void *arg,
			       bool *hit, uint64_t *at)
{
	*hit = false;
	if (!c->chunk && !(c->chunk = malloc(SCAN_CHUNK)))
		return &vf_error_nomem;
	uint64_t off = from;
	size_t window = SCAN_FIRST;
	while (off < c->end && c->end - off >= nlen) {
		size_t want = c->end - off < window ? (size_t)(c->end - off) : window;
		/* short only at the end (a decompressed stream's end is found so) */
		struct vf_error *err = vf_src_pread(c->src, c->chunk, want, off, &want);
		c->end = c->src->size;
		if (err)
			return err;
		size_t i = 0;
		while (i + nlen <= want) {
			const uint8_t *q = memmem(c->chunk + i, want - i, needle, nlen);
			if (!q)
				break;
			uint64_t cand = off + (uint64_t)(q - c->chunk);
			if (accept(c, cand, arg)) {
				*hit = true;
				*at = cand;
				return NULL;
			}
			i = (size_t)(q - c->chunk) + 1;
		}
		if (want < window)
			break;
		off += want - (nlen - 1);
		if (window < SCAN_CHUNK)
			window *= 2;
	}
	return NULL;
}

static bool accept_footer(struct ctx *c, uint64_t at, void *arg)
{
	(void)arg;
	return plausible_next(c, at + 5);
}

/* The body of section id at c->pos has no layout we know: find its footer. */
static struct vf_error *find_footer(struct ctx *c, uint32_t id, bool *hit)
{
	uint8_t needle[5] = { SEC_FOOTER };
	vf_store_uint(needle + 1, 4, true, id);
	uint64_t at;
	struct vf_error *err = search(c, c->pos, needle, sizeof(needle), accept_footer, NULL, hit,
				      &at);
	if (!err && *hit)
		c->pos = at + 5;
	return err;
}

/* ------------------------------------------------------------ the device */

static uint16_t swap16(uint16_t v) { return (uint16_t)(v >> 8 | v << 8); }

/* Decode the 17 state bytes at off into st. */
static struct vf_error *decode_state(struct ctx *c, uint64_t off)
{
	const uint8_t *p;
	struct vf_error *err = rd_at(c, off, VF_MIG_VMCOREINFO_STATE_SIZE,
				     "vmcoreinfo device state", &p);
	if (err)
		return err;
	if (p[0] > 1)
		return corrupt(c, off, "vmcoreinfo device state: has_vmcoreinfo is %u, not a "
			       "bool", p[0]);
	struct vf_migstate *st = c->st;
	st->has_vmcoreinfo = p[0];
	st->host_format = (uint16_t)vf_load_uint(p + 1, 2, true);
	st->guest_format = (uint16_t)vf_load_uint(p + 3, 2, true);
	st->size = (uint32_t)vf_load_uint(p + 5, 4, true);
	st->paddr = vf_load_uint(p + 9, 8, true);
	/* QEMU stores the guest's little-endian bytes and saves them as host
	 * integers: a big-endian host's stream carries them byte-swapped. */
	if (st->guest_format == 0x0100 ||
	    (st->guest_format == 0 && st->host_format == 0x0100)) {
		st->host_big_endian = true;
		st->host_format = swap16(st->host_format);
		st->guest_format = swap16(st->guest_format);
		st->size = __builtin_bswap32(st->size);
		st->paddr = __builtin_bswap64(st->paddr);
	}
	st->state_offset = off;
	return NULL;
}

static bool is_vmci_idstr(const char *idstr)
{
	size_t n = strlen(idstr), k = sizeof(vmci_idstr) - 1;
	return strcmp(idstr, vmci_idstr) == 0 ||
	       (n > k && idstr[n - k - 1] == '/' && strcmp(idstr + n - k, vmci_idstr) == 0);
}

/* The FULL section of the device; c->pos is at its body. */
static struct vf_error *vmcoreinfo_section(struct ctx *c, uint64_t soff, uint32_t id,
					   uint32_t instance, uint32_t version)
{
	struct vf_migstate *st = c->st;
	if (version != 1) {
		struct vf_error *err = vf_error_at(VF_ERR_UNSUPPORTED, soff, "migration stream: "
						   "vmcoreinfo section version %" PRIu32 " (only "
						   "version 1 is known)", version);
		return at_err(c, vf_error_set_hint(err, "a newer QEMU changed the device's "
						   "state; give the region another way (the "
						   "guest's /sys/kernel/vmcoreinfo line, or "
						   "ADDR,SIZE)"));
	}
	struct vf_error *err = decode_state(c, c->pos);
	if (err)
		return err;
	c->pos += VF_MIG_VMCOREINFO_STATE_SIZE;
	st->found = true;
	st->section_offset = soff;
	st->section_id = id;
	st->instance_id = instance;
	st->version_id = version;
	if (!c->full)
		c->done = true;
	if (st->footers == 0)
		return NULL;
	const uint8_t *p;
	if (peek_at(c, c->pos, 1, &p) && p[0] == SEC_FOOTER) {
		uint32_t fid;
		c->pos++;
		if ((err = rd_u32(c, "section footer", &fid)))
			return err;
		if (fid != id)
			return corrupt(c, c->pos - 5, "the footer after the vmcoreinfo state names "
				       "section %" PRIu32 ", not %" PRIu32, fid, id);
		st->footers = 1;
		return NULL;
	}
	if (st->footers == -1) {
		st->footers = 0;
		return NULL;
	}
	/* footers are on: state we do not know (a subsection of a newer QEMU)
	 * may follow; the 17 bytes we know come first either way */
	bool hit;
	if ((err = find_footer(c, id, &hit)))
		return err;
	if (!hit)
		return corrupt(c, c->pos, "no section footer after the vmcoreinfo state "
			       "(section %" PRIu32 " at offset 0x%" PRIx64 ")", id, soff);
	return NULL;
}

struct vmci_scan {
	uint64_t header;     /* offset of the section header */
	uint32_t id, instance;
};

/* A candidate "\x0avmcoreinfo" at at: the whole FULL section must check out. */
static bool accept_vmci(struct ctx *c, uint64_t at, void *arg)
{
	struct vmci_scan *v = arg;
	const uint8_t *p;
	if (at < c->st->stream_offset + 8 + 5)
		return false;
	uint64_t h = at - 5;
	size_t hlen = 1 + 4 + 1 + 10 + 4 + 4;
	if (!peek_at(c, h, hlen + VF_MIG_VMCOREINFO_STATE_SIZE, &p))
		return false;
	if (p[0] != SEC_FULL || vf_load_uint(p + 16, 4, true) >= MAX_ID_FIELD ||
	    vf_load_uint(p + 20, 4, true) != 1 || p[hlen] > 1)
		return false;
	uint32_t id = (uint32_t)vf_load_uint(p + 1, 4, true);
	uint32_t instance = (uint32_t)vf_load_uint(p + 16, 4, true);
	const uint8_t *f;
	uint64_t after = h + hlen + VF_MIG_VMCOREINFO_STATE_SIZE;
	bool footer = peek_at(c, after, 5, &f) && f[0] == SEC_FOOTER &&
		      vf_load_uint(f + 1, 4, true) == id;
	if (c->st->footers == 1 && !footer)
		return false;
	if (!footer && !plausible_next(c, after))
		return false;
	v->header = h;
	v->id = id;
	v->instance = instance;
	return true;
}

/* The walk cannot go on from c->pos: search the rest for the device. */
static struct vf_error *search_device(struct ctx *c)
{
	static const uint8_t needle[] = "\x0avmcoreinfo";
	struct vmci_scan v;
	bool hit;
	uint64_t at;
	if (c->full) {
		struct vf_error *err = vf_error_at(VF_ERR_UNSUPPORTED, c->pos, "migration "
						   "stream: a section without a footer ends "
						   "somewhere after this offset; the RAM pages "
						   "after it cannot be found");
		return at_err(c, vf_error_set_hint(err, "streams of machine types up to 2.3 "
						   "have no section footers; read the guest's "
						   "memory from a dump instead"));
	}
	c->st->scanned = true;
	c->done = true;
	struct vf_error *err = search(c, c->pos, needle, sizeof(needle) - 1, accept_vmci, &v,
				      &hit, &at);
	if (err || !hit)
		return err;
	c->pos = v.header + 1 + 4 + 1 + 10 + 4 + 4;
	return vmcoreinfo_section(c, v.header, v.id, v.instance, 1);
}

/* A section body we cannot decode: skip to its footer, or search. */
static struct vf_error *skip_unknown(struct ctx *c, uint32_t id)
{
	if (c->st->footers == 0)
		return search_device(c);
	bool hit;
	struct vf_error *err = find_footer(c, id, &hit);
	if (err)
		return err;
	if (hit) {
		c->st->footers = 1;
		return NULL;
	}
	return search_device(c);
}

/* After a body we decoded: the footer, when the stream has them. */
static struct vf_error *footer(struct ctx *c, uint32_t id, const char *idstr)
{
	struct vf_migstate *st = c->st;
	const uint8_t *p;
	uint64_t off = c->pos;
	if (st->footers != 0 && peek_at(c, off, 1, &p) && p[0] == SEC_FOOTER) {
		uint32_t fid;
		c->pos++;
		struct vf_error *err = rd_u32(c, "section footer", &fid);
		if (err)
			return err;
		if (fid != id)
			return corrupt(c, off, "the footer after section %" PRIu32 " (%s) names "
				       "section %" PRIu32, id, idstr, fid);
		st->footers = 1;
		return NULL;
	}
	if (st->footers == 1) {
		if (off == c->end)
			return at_err(c, vf_error_truncated(off, "section footer", 5, 0));
		return corrupt(c, off, "no footer after section %" PRIu32 " (%s): found byte "
			       "0x%02x where 0x7e was due", id, idstr,
			       peek_at(c, off, 1, &p) ? p[0] : 0);
	}
	st->footers = 0;
	return NULL;
}

/* ------------------------------------------------------------ RAM */

static struct vf_error *ram_block_list(struct ctx *c, uint64_t total, uint64_t roff)
{
	struct vf_migstate *st = c->st;
	if (st->ramblocks)
		return corrupt(c, roff, "a second RAM block list (the first is before)");
	st->ram_total = total;
	uint64_t left = total;
	while (left) {
		uint64_t boff = c->pos;
		char name[256];
		uint64_t length;
		struct vf_error *err = rd_name(c, "RAM block name", name);
		if (!err)
			err = rd_uint(c, 8, "RAM block length", &length);
		if (err)
			return err;
		if (!name[0])
			return corrupt(c, boff, "RAM block list: a block with an empty name");
		if (length > left)
			return corrupt(c, boff, "RAM block list: block '%s' (0x%" PRIx64 " bytes) "
				       "exceeds what is left of the total 0x%" PRIx64 " (0x%"
				       PRIx64 ")", name, length, total, left);
		if (st->postcopy_advised) {
			/* hugepage-backed blocks carry their page size: a power of two
			 * above the target page (a next name length is never 0) */
			const uint8_t *p;
			if (peek_at(c, c->pos, 8, &p)) {
				uint64_t ps = vf_load_uint(p, 8, true);
				if (ps > st->page_size && ps <= (1ull << 34) && !(ps & (ps - 1)))
					c->pos += 8;
			}
		}
		if (st->ignore_shared && (err = skip(c, 8, "RAM block address")))
			return err;
		if (st->nramblocks == MAX_RAMBLOCKS)
			return corrupt(c, boff, "RAM block list: more than %d blocks",
				       MAX_RAMBLOCKS);
		struct vf_mig_ramblock *b = realloc(st->ramblocks,
						     (st->nramblocks + 1) * sizeof(*b));
		if (!b)
			return &vf_error_nomem;
		st->ramblocks = b;
		b += st->nramblocks;
		if (!(b->idstr = strdup(name)))
			return &vf_error_nomem;
		b->length = length;
		st->nramblocks++;
		left -= length;
	}
	return NULL;
}

/* The block a page record is in: named, or the previous one (CONTINUE). */
static struct vf_error *record_block(struct ctx *c, uint32_t flags, uint64_t roff, long *bi)
{
	struct vf_migstate *st = c->st;
	if (flags & RAM_CONTINUE) {
		if (c->cur_block < 0)
			return corrupt(c, roff, "RAM record continues a block, but none was named "
				       "before");
		*bi = c->cur_block;
		return NULL;
	}
	char name[256];
	struct vf_error *err = rd_name(c, "RAM block name", name);
	if (err)
		return err;
	for (size_t i = 0; i < st->nramblocks; i++) {
		if (strcmp(st->ramblocks[i].idstr, name) == 0) {
			*bi = c->cur_block = (long)i;
			return NULL;
		}
	}
	return corrupt(c, roff, "RAM record names block '%s', which the RAM block list "
		       "does not have", name);
}

/* The RAM block guest physical memory lives in: named by the machine type,
 * else whichever of "pc.ram" and "mach-virt.ram" the stream has. */
static const char *main_ram_block(const struct vf_migstate *st)
{
	const char *layout = vf_migstream_machine_layout(st->machine);
	if (layout)
		return strcmp(layout, "virt") == 0 ? "mach-virt.ram" : "pc.ram";
	static const char *const names[] = { "pc.ram", "mach-virt.ram" };
	for (size_t n = 0; n < sizeof(names) / sizeof(*names); n++)
		for (size_t i = 0; i < st->nramblocks; i++)
			if (strcmp(st->ramblocks[i].idstr, names[n]) == 0)
				return names[n];
	return names[0];
}

static long find_block(const struct vf_migstate *st, const char *name)
{
	for (size_t i = 0; i < st->nramblocks; i++)
		if (strcmp(st->ramblocks[i].idstr, name) == 0)
			return (long)i;
	return -2;
}

/* A page record of block bi (at file offset roff) for the RAM index. */
static struct vf_error *index_record(struct ctx *c, long bi, uint64_t addr, uint8_t kind,
				     uint64_t data_off, uint8_t fill, uint64_t roff)
{
	struct ram_index *x = c->idx;
	if (!x)
		return NULL;
	if (x->block == -1)
		x->block = find_block(c->st, main_ram_block(c->st));
	if (bi != x->block)
		return NULL;
	uint64_t page = addr / c->st->page_size;
	if (page > UINT32_MAX) {
		struct vf_error *err = vf_error_at(VF_ERR_UNSUPPORTED, roff, "migration stream: "
						   "a RAM page at block offset 0x%" PRIx64 ", "
						   "beyond 2^32 pages", addr);
		return at_err(c, err);
	}
	x->records++;
	struct run *r = x->n ? &x->runs[x->n - 1] : NULL;
	if (r && r->kind == kind && r->count < UINT32_MAX && page == (uint64_t)r->first + r->count) {
		if (kind == RUN_ZERO && r->fill == fill) {
			r->count++;
			return NULL;
		}
		if (kind == RUN_PAGE) {
			/* data only ever moves forward in the file */
			uint64_t gap = data_off - r->data_off;
			if (r->count == 1 && gap <= UINT32_MAX) {
				r->stride = (uint32_t)gap;
				r->count++;
				return NULL;
			}
			if (r->count > 1 && gap == (uint64_t)r->stride * r->count) {
				r->count++;
				return NULL;
			}
		}
		/* compressed and XBZRLE records: one run each, to name its offset */
	}
	if (x->n == x->max_runs) {
		struct vf_error *err = vf_error_at(VF_ERR_UNSUPPORTED, roff, "migration stream: "
						   "the pages of RAM block '%s' form more than %zu "
						   "runs (pages sent out of order or again and "
						   "again); the index is capped to bound memory",
						   c->st->ramblocks[bi].idstr, x->max_runs);
		return at_err(c, vf_error_set_hint(err, "read the guest's memory from a dump, "
						   "or save the VM again after stopping it"));
	}
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 1024;
		if (cap > x->max_runs)
			cap = x->max_runs;
		struct run *nr = realloc(x->runs, cap * sizeof(*nr));
		if (!nr)
			return &vf_error_nomem;
		x->runs = nr;
		x->cap = cap;
	}
	x->runs[x->n] = (struct run){ .data_off = data_off, .first = (uint32_t)page, .count = 1,
				      .seq = (uint32_t)x->n, .kind = kind, .fill = fill };
	x->n++;
	return NULL;
}

/* The records of one RAM section body, up to and including EOS. */
static struct vf_error *ram_records(struct ctx *c)
{
	struct vf_migstate *st = c->st;
	uint64_t ps = st->page_size;
	for (;;) {
		uint64_t roff = c->pos, v;
		struct vf_error *err = rd_uint(c, 8, "RAM record", &v);
		if (err)
			return err;
		uint32_t flags = (uint32_t)(v & (ps - 1));
		uint64_t addr = v & ~(ps - 1);
		uint32_t kind = flags & ~RAM_CONTINUE;
		if (flags & ~RAM_FLAGS_MASK)
			return corrupt(c, roff, "RAM record flags 0x%" PRIx32 " have unknown bits",
				       flags);
		long bi;
		switch (kind) {
		case RAM_MEM_SIZE:
			if (flags & RAM_CONTINUE)
				goto bad;
			if ((err = ram_block_list(c, addr, roff)))
				return err;
			continue;
		case RAM_EOS:
			if (flags & RAM_CONTINUE)
				goto bad;
			return NULL;
		case RAM_MULTIFD_FLUSH:
			continue;
		case RAM_HOOK: {
			struct vf_error *e = vf_error_at(VF_ERR_UNSUPPORTED, roff, "migration "
							 "stream: RAM hook record (an RDMA "
							 "migration)");
			return at_err(c, vf_error_set_hint(e, "save the VM to a file with "
							   "migrate \"exec:cat > FILE\" instead"));
		}
		case RAM_ZERO:
		case RAM_PAGE:
		case RAM_COMPRESS_PAGE:
		case RAM_XBZRLE:
			break;
		default:
			goto bad;
		}
		if ((err = record_block(c, flags, roff, &bi)))
			return err;
		const struct vf_mig_ramblock *b = &st->ramblocks[bi];
		if (addr >= b->length || b->length - addr < ps)
			return corrupt(c, roff, "RAM record for offset 0x%" PRIx64 " of block '%s', "
				       "which has 0x%" PRIx64 " bytes", addr, b->idstr, b->length);
		uint8_t u8;
		uint64_t len;
		switch (kind) {
		case RAM_ZERO:
			if ((err = rd_u8(c, "zero page fill byte", &u8)) ||
			    (err = index_record(c, bi, addr, RUN_ZERO, 0, u8, roff)))
				return err;
			st->ram_zero_pages++;
			break;
		case RAM_PAGE:
			if ((err = index_record(c, bi, addr, RUN_PAGE, c->pos, 0, roff)) ||
			    (err = skip(c, ps, "RAM page")))
				return err;
			st->ram_pages++;
			break;
		case RAM_COMPRESS_PAGE:
			if ((err = rd_uint(c, 4, "compressed page length", &len)))
				return err;
			if (len > 2 * ps + 64)
				return corrupt(c, c->pos - 4, "compressed RAM page of 0x%" PRIx64
					       " bytes for a 0x%" PRIx64 "-byte page", len, ps);
			if ((err = skip(c, len, "compressed RAM page")) ||
			    (err = index_record(c, bi, addr, RUN_COMPRESSED, roff, 0, roff)))
				return err;
			st->ram_pages++;
			break;
		case RAM_XBZRLE:
			if ((err = rd_u8(c, "XBZRLE flags", &u8)))
				return err;
			if (u8 != 1)
				return corrupt(c, c->pos - 1, "XBZRLE page flags 0x%02x (only 1 is "
					       "known)", u8);
			if ((err = rd_uint(c, 2, "XBZRLE length", &len)))
				return err;
			if (len > ps)
				return corrupt(c, c->pos - 2, "XBZRLE data of 0x%" PRIx64 " bytes for "
					       "a 0x%" PRIx64 "-byte page", len, ps);
			if ((err = skip(c, len, "XBZRLE page")) ||
			    (err = index_record(c, bi, addr, RUN_XBZRLE, roff, 0, roff)))
				return err;
			st->ram_pages++;
			break;
		}
		continue;
bad:
		return corrupt(c, roff, "RAM record flags 0x%" PRIx32 " are no known record "
			       "(offset 0x%" PRIx64 ")", flags, addr);
	}
}

/* ------------------------------------------------------------ header parts */

/* Returns *unknown when a subsection we cannot delimit follows. */
static struct vf_error *configuration(struct ctx *c, bool *unknown)
{
	struct vf_migstate *st = c->st;
	uint64_t off = c->pos;
	uint32_t len;
	const uint8_t *p;
	*unknown = false;
	struct vf_error *err = rd_u32(c, "configuration section", &len);
	if (err)
		return err;
	if (len > MAX_MACHINE_NAME)
		return corrupt(c, off, "configuration: a machine name of %" PRIu32 " bytes", len);
	if ((err = rd_bytes(c, len, "machine name", &p)))
		return err;
	size_t n = len < sizeof(st->machine) ? len : sizeof(st->machine) - 1;
	memcpy(st->machine, p, n);
	st->machine[n] = '\0';
	st->machine_truncated = n < len;
	while (peek_at(c, c->pos, 1, &p) && p[0] == SEC_SUBSECTION) {
		uint64_t soff = c->pos++;
		char name[256];
		uint32_t version, v;
		if ((err = rd_name(c, "configuration subsection name", name)) ||
		    (err = rd_u32(c, "configuration subsection version", &version)))
			return err;
		if (strcmp(name, "configuration/target-page-bits") == 0) {
			if ((err = rd_u32(c, "target page bits", &v)))
				return err;
			if (v < 10 || v > 30)
				return corrupt(c, c->pos - 4, "configuration: target page bits %"
					       PRIu32, v);
			st->page_size = 1ull << v;
			st->page_size_from = "configuration";
		} else if (strcmp(name, "configuration/capabilities") == 0) {
			uint32_t count;
			if ((err = rd_u32(c, "capability count", &count)))
				return err;
			if (count > 256)
				return corrupt(c, c->pos - 4, "configuration: %" PRIu32
					       " capabilities", count);
			for (uint32_t i = 0; i < count; i++) {
				char cap[256];
				if ((err = rd_name(c, "capability", cap)))
					return err;
				if (strcmp(cap, "x-ignore-shared") == 0)
					st->ignore_shared = true;
				else if (strcmp(cap, "mapped-ram") == 0)
					c->mapped_ram = true;
			}
		} else if (strcmp(name, "configuration/uuid") == 0) {
			if ((err = skip(c, 16, "configuration UUID")))
				return err;
		} else {
			c->pos = soff;
			*unknown = true;
			return NULL;
		}
	}
	if (c->mapped_ram) {
		err = vf_error_at(VF_ERR_UNSUPPORTED, off, "migration stream: mapped-ram layout "
				  "(RAM at fixed file offsets; libvirt's 'sparse' format)");
		return at_err(c, vf_error_set_hint(err, "save the VM without the mapped-ram "
						   "capability"));
	}
	return NULL;
}

static struct vf_error *command(struct ctx *c, uint64_t off)
{
	uint64_t cmd, len;
	struct vf_error *err = rd_uint(c, 2, "command", &cmd);
	if (!err)
		err = rd_uint(c, 2, "command length", &len);
	if (err)
		return err;
	if (cmd == CMD_PACKAGED) {
		err = vf_error_at(VF_ERR_UNSUPPORTED, off, "migration stream: a packaged "
				  "(postcopy) command");
		return at_err(c, vf_error_set_hint(err, "save the VM without postcopy"));
	}
	if (cmd == 0 || cmd > CMD_MAX)
		return corrupt(c, off, "unknown command %" PRIu64, cmd);
	if (cmd == CMD_POSTCOPY_ADVISE)
		c->st->postcopy_advised = true;
	return skip(c, len, "command data");
}

/* ------------------------------------------------------------ the JSON tail */

static const uint8_t *json_value(const uint8_t *p, const uint8_t *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
		p++;
	if (p >= end || *p != ':')
		return NULL;
	p++;
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

static void scan_description(struct vf_migstate *st, const uint8_t *j, size_t n)
{
	static const char ps_key[] = "\"page_size\"", name_key[] = "\"name\"",
			  vmci[] = "\"vmcoreinfo\"";
	const uint8_t *end = j + n, *p;
	if ((p = memmem(j, n, ps_key, sizeof(ps_key) - 1)) &&
	    (p = json_value(p + sizeof(ps_key) - 1, end))) {
		uint64_t v = 0;
		while (p < end && *p >= '0' && *p <= '9' && v < (1ull << 40))
			v = v * 10 + (uint64_t)(*p++ - '0');
		st->description_page_size = v;
	}
	for (p = j; (p = memmem(p, (size_t)(end - p), name_key, sizeof(name_key) - 1)); ) {
		p += sizeof(name_key) - 1;
		const uint8_t *v = json_value(p, end);
		if (v && (size_t)(end - v) >= sizeof(vmci) - 1 &&
		    memcmp(v, vmci, sizeof(vmci) - 1) == 0) {
			st->description_has_vmcoreinfo = true;
			break;
		}
	}
}

/* QEMU appends 0x06, be32 length, JSON after EOF.  Find it from the end:
 * the last NUL of the tail is in the length field, the JSON's '{' follows. */
static struct vf_error *read_description(struct ctx *c)
{
	struct vf_migstate *st = c->st;
	uint64_t avail = c->end - st->stream_offset;
	size_t max = avail < DESC_MAX ? (size_t)avail : DESC_MAX;
	uint8_t *buf = NULL;
	/* a tail of 64 KiB holds a small VM's description; grow to DESC_MAX */
	for (size_t n = max < DESC_FIRST ? max : DESC_FIRST; n >= 6; n = n < max / 4 ? n * 4 : max) {
		uint8_t *b = realloc(buf, n);
		if (!b) {
			free(buf);
			return &vf_error_nomem;
		}
		buf = b;
		uint64_t base = c->end - n;
		struct vf_error *err = vf_src_read(c->src, buf, n, base, "migration stream tail");
		if (err) {
			free(buf);
			return err;
		}
		const uint8_t *nul = NULL;
		for (size_t i = n; i-- > 0; )
			if (buf[i] == 0) {
				nul = buf + i;
				break;
			}
		const uint8_t *brace = nul ? memchr(nul, '{', (size_t)(buf + n - nul)) : NULL;
		if (brace && brace - buf >= 5 && brace[-5] == SEC_VMDESCRIPTION) {
			uint64_t len = vf_load_uint(brace - 4, 4, true);
			if (len >= 2 && len <= (uint64_t)(buf + n - brace) && brace[len - 1] == '}') {
				st->has_description = true;
				st->description_offset = base + (uint64_t)(brace - buf);
				st->description_size = len;
				scan_description(st, brace, (size_t)len);
			}
		}
		if (nul || n == max)
			break;
	}
	free(buf);
	return NULL;
}

/* ------------------------------------------------------------ the container */

/* libvirt's save image formats (its header's "compressed" field; the numbers
 * are on disk and never reused): the external program's name and how to undo
 * it.  gzip and zstd are read here when zlib and libzstd were built. */
static const char *const libvirt_formats[][2] = {
	{ "raw", NULL }, { "gzip", "gzip -dc" }, { "bzip2", "bzip2 -dc" },
	{ "xz", "xz -dc" }, { "lzop", "lzop -dc" }, { "zstd", "zstd -dc" },
};
#define LIBVIRT_GZIP 1
#define LIBVIRT_ZSTD 5

/* Serve the rest of the walk from the decompressed stream at off. */
static struct vf_error *libvirt_decompress(struct ctx *c, uint64_t off, enum vf_zsrc_codec codec)
{
	struct vf_error *err = vf_zsrc_open(c->src, false, off, codec, &c->zsrc);
	if (err)
		return err;
	c->src = c->zsrc;
	c->end = c->src->size;
	c->buf_len = 0;
	c->st->compressed = vf_zsrc_codec_name(codec);
	return NULL;
}

/* A libvirt save image: header, domain XML (padded), then QEMU's stream. */
static struct vf_error *libvirt_header(struct ctx *c)
{
	const uint8_t *p;
	struct vf_error *err = rd_at(c, 0, LIBVIRT_HEADER_SIZE, "libvirt save image header", &p);
	if (err)
		return err;
	struct vf_migstate *st = c->st;
	st->libvirt = true;
	/* the header is in the saving host's byte order */
	bool be = false;
	uint64_t version = vf_load_uint(p + 16, 4, false);
	if (version == 0 || version > 0xffff) {
		be = true;
		version = vf_load_uint(p + 16, 4, true);
	}
	if (version == 0 || version > 0xffff)
		return corrupt(c, 16, "libvirt save image: header version 0x%" PRIx64, version);
	uint64_t data_len = vf_load_uint(p + 20, 4, be);
	uint64_t format = vf_load_uint(p + 28, 4, be);
	uint64_t off = LIBVIRT_HEADER_SIZE + data_len;
	if (memcmp(p, LIBVIRT_PARTIAL, LIBVIRT_MAGIC_LEN) == 0) {
		err = vf_error_at(VF_ERR_CORRUPT, 0, "libvirt save image is partial (magic "
				  "%s): libvirt never finished writing it", LIBVIRT_PARTIAL);
		return at_err(c, vf_error_set_hint(err, "the save was interrupted; the VM's "
						   "state in it is incomplete"));
	}
	if (format != 0) {
		enum vf_zsrc_codec codec = format == LIBVIRT_GZIP ? VF_ZSRC_GZIP : VF_ZSRC_ZSTD;
		bool readable = (format == LIBVIRT_GZIP || format == LIBVIRT_ZSTD) &&
				vf_zsrc_available(codec);
		if (readable && off >= c->end)
			return at_err(c, vf_error_truncated(LIBVIRT_HEADER_SIZE, "libvirt save "
							    "image XML", data_len,
							    c->end - LIBVIRT_HEADER_SIZE));
		if (readable) {
			st->stream_offset = off;
			return libvirt_decompress(c, off, codec);
		}
		if (format < sizeof(libvirt_formats) / sizeof(*libvirt_formats)) {
			bool gz = vf_zsrc_available(VF_ZSRC_GZIP), zs = vf_zsrc_available(VF_ZSRC_ZSTD);
			err = vf_error_at(VF_ERR_UNSUPPORTED, off, "libvirt save image: the QEMU "
					  "stream is %s-compressed; this build decompresses %s "
					  "images itself", libvirt_formats[format][0],
					  gz && zs ? "gzip and zstd" : gz ? "only gzip" :
					  zs ? "only zstd" : "no compressed");
			return at_err(c, vf_error_set_hint(err, "decompress it first: tail -c +%"
							   PRIu64 " '%s' | %s > STREAM, then "
							   "give STREAM", off + 1, c->src->path,
							   libvirt_formats[format][1]));
		}
		err = vf_error_at(VF_ERR_UNSUPPORTED, 28, "libvirt save image: format %" PRIu64
				  " (%s)", format, format == 6 ? "sparse: mapped-ram" : "unknown");
		return at_err(c, vf_error_set_hint(err, "save the VM with libvirt's raw save "
						   "format"));
	}
	if (off >= c->end)
		return at_err(c, vf_error_truncated(LIBVIRT_HEADER_SIZE, "libvirt save image XML",
						    data_len, c->end - LIBVIRT_HEADER_SIZE));
	st->stream_offset = off;
	return NULL;
}

bool vf_migstream_probe(const uint8_t *head, size_t len)
{
	if (len >= 8 && vf_load_uint(head, 4, true) == VF_MIG_MAGIC)
		return true;
	return len >= LIBVIRT_MAGIC_LEN && (memcmp(head, LIBVIRT_MAGIC, LIBVIRT_MAGIC_LEN) == 0 ||
					     memcmp(head, LIBVIRT_PARTIAL, LIBVIRT_MAGIC_LEN) == 0);
}

/* ------------------------------------------------------------ the walk */

static struct vf_error *section(struct ctx *c, uint8_t type, uint64_t soff)
{
	struct vf_migstate *st = c->st;
	uint32_t id;
	struct vf_error *err = rd_u32(c, "section id", &id);
	if (err)
		return err;
	if (type == SEC_PART || type == SEC_END) {
		struct sect *s = find_sect(c, id);
		if (!s || s->type != SEC_START)
			return corrupt(c, soff, "section %" PRIu32 " continues, but no START "
				       "section opened it", id);
		if (!s->ram)
			return skip_unknown(c, id);
		if ((err = ram_records(c)))
			return err;
		return footer(c, id, "ram");
	}
	char idstr[256];
	uint32_t instance, version;
	if ((err = rd_name(c, "section name", idstr)) ||
	    (err = rd_u32(c, "instance id", &instance)) ||
	    (err = rd_u32(c, "version id", &version)))
		return err;
	if (!idstr[0] || !printable((const uint8_t *)idstr, strlen(idstr)))
		return corrupt(c, soff, "section %" PRIu32 " has an unreadable name", id);
	bool ram = strcmp(idstr, "ram") == 0;
	if ((err = add_sect(c, id, type, ram, soff)))
		return err;
	if (ram) {
		if (type != SEC_START)
			return corrupt(c, soff, "the RAM section is not iterative (type %u)", type);
		if (version != 4) {
			err = vf_error_at(VF_ERR_UNSUPPORTED, soff, "migration stream: RAM section "
					  "version %" PRIu32 " (only 4 is known)", version);
			return at_err(c, err);
		}
		if (!st->page_size_from) {
			st->page_size = 4096;
			st->page_size_from = "default";
		}
		if ((err = ram_records(c)))
			return err;
		return footer(c, id, "ram");
	}
	if (type == SEC_FULL && is_vmci_idstr(idstr))
		return vmcoreinfo_section(c, soff, id, instance, version);
	return skip_unknown(c, id);
}

static bool valid_page_size(uint64_t ps)
{
	return ps >= 1024 && ps <= (1u << 30) && !(ps & (ps - 1));
}

static struct vf_error *walk(struct ctx *c)
{
	struct vf_migstate *st = c->st;
	uint64_t v;
	c->pos = st->stream_offset;
	struct vf_error *err = rd_uint(c, 4, "stream header", &v);
	if (err)
		return err;
	if (v != VF_MIG_MAGIC) {
		if (st->libvirt)
			return corrupt(c, st->stream_offset, "libvirt save image: no QEMU stream "
				       "(QEVM) after the domain XML");
		return at_err(c, vf_error_create(VF_ERR_NOT_FORMAT, "not a QEMU migration stream "
						 "(no QEVM magic)"));
	}
	if ((err = rd_uint(c, 4, "stream version", &v)))
		return err;
	if (v != VF_MIG_VERSION) {
		err = vf_error_at(VF_ERR_UNSUPPORTED, c->pos - 4, "migration stream version %"
				  PRIu64 " (only %u is known)", v, VF_MIG_VERSION);
		return at_err(c, err);
	}
	/* the description is at the end: read first when the end is known */
	c->desc_deferred = c->src->size == UINT64_MAX;
	if (!c->desc_deferred && (err = read_description(c)))
		return err;
	uint64_t dps = c->desc_deferred ? c->forced_page_size : st->description_page_size;
	if (valid_page_size(dps)) {
		st->page_size = dps;
		st->page_size_from = "description";
	}
	while (!c->done) {
		uint64_t soff = c->pos;
		uint8_t type;
		if ((err = rd_u8(c, "section type", &type)))
			return err;
		switch (type) {
		case SEC_EOF:
			st->reached_eof = true;
			st->eof_offset = soff;
			return NULL;
		case SEC_CONFIGURATION: {
			bool unknown;
			if ((err = configuration(c, &unknown)))
				return err;
			if (unknown)
				err = search_device(c);
			break;
		}
		case SEC_START:
		case SEC_PART:
		case SEC_END:
		case SEC_FULL:
			err = section(c, type, soff);
			break;
		case SEC_COMMAND:
			err = command(c, soff);
			break;
		default:
			err = corrupt(c, soff, "unknown section type 0x%02x", type);
			err = vf_error_set_hint(err, "the file is damaged, or it is not a stream "
						"QEMU 2.4 or later wrote");
			break;
		}
		if (err)
			return err;
	}
	return NULL;
}

/* After a walk of a stream of unknown size: decompress the rest, read the
 * description from the tail (in the decoder's window), and say whether its
 * page size, which a known size would have let the walk use, differs. */
static struct vf_error *late_description(struct ctx *c, uint64_t *rewalk_page_size)
{
	struct vf_migstate *st = c->st;
	*rewalk_page_size = 0;
	uint64_t size;
	struct vf_error *err = vf_zsrc_finish(c->src, &size);
	if (err)
		return err;
	c->end = size;
	if (c->end - st->stream_offset < 8)
		return NULL;
	if ((err = read_description(c)))
		return err;
	uint64_t dps = st->description_page_size;
	if (!valid_page_size(dps) || (st->page_size_from &&
				      strcmp(st->page_size_from, "configuration") == 0))
		return NULL;
	if (dps == st->page_size)
		st->page_size_from = "description";
	else
		*rewalk_page_size = dps;
	return NULL;
}

/* One walk of src into st (zeroed first); a decompressing source made for a
 * compressed libvirt image is handed back in *zs (or destroyed if zs is NULL). */
static struct vf_error *walk_once(struct vf_src *src, struct vf_migstate *st,
				  struct ram_index *idx, uint64_t forced_page_size,
				  uint64_t *rewalk_page_size, struct vf_src **zs)
{
	memset(st, 0, sizeof(*st));
	st->footers = -1;
	st->page_size = 4096;
	*rewalk_page_size = 0;
	struct ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return &vf_error_nomem;
	c->src = src;
	c->st = st;
	c->end = src->size;
	c->cur_block = -1;
	c->idx = idx;
	c->full = idx != NULL;
	c->forced_page_size = forced_page_size;
	const uint8_t *p;
	struct vf_error *err = NULL;
	if (peek_at(c, 0, LIBVIRT_MAGIC_LEN, &p) &&
	    (memcmp(p, LIBVIRT_MAGIC, LIBVIRT_MAGIC_LEN) == 0 ||
	     memcmp(p, LIBVIRT_PARTIAL, LIBVIRT_MAGIC_LEN) == 0))
		err = libvirt_header(c);
	if (!err)
		err = walk(c);
	if (!err && c->desc_deferred) {
		err = late_description(c, rewalk_page_size);
	} else if (err && err != &vf_error_nomem && c->desc_deferred &&
		   (!st->page_size_from || strcmp(st->page_size_from, "default") == 0)) {
		/* a walk with the default page size may fail where the description's
		 * would not: if it has another, walk again with that */
		struct vf_error *e2 = late_description(c, rewalk_page_size);
		if (!e2 && *rewalk_page_size) {
			vf_error_destroy(err);
			err = NULL;
		}
		vf_error_destroy(e2);
	}
	if (*rewalk_page_size) {
		/* the next walk decides */
	} else if (!err && st->page_size_from == NULL)
		st->page_size_from = "default";
	/* A found device the JSON description does not list came from a search. */
	if (!err && !*rewalk_page_size && st->found && st->scanned && st->has_description &&
	    !st->description_has_vmcoreinfo)
		err = corrupt(c, st->section_offset, "a vmcoreinfo section was found by "
			      "searching, but the stream's VM description has no such device");
	if (c->zsrc) {
		struct vf_zsrc_info zi;
		if (vf_zsrc_info(c->zsrc, &zi))
			st->decompress_restarts = zi.restarts;
		if (err && err != &vf_error_nomem)
			err = vf_error_prefix(err, "libvirt save image with a %s-compressed "
					      "QEMU stream at offset %" PRIu64 " (stream offsets "
					      "count its decompressed bytes from there)",
					      st->compressed, st->stream_offset);
		if (zs)
			*zs = c->zsrc;
		else
			vf_src_destroy(c->zsrc);
	}
	free(c->sects);
	free(c->chunk);
	free(c);
	return err;
}

/* The one walker: vf_migstream_scan() (idx NULL: stop once the device is
 * found) and the RAM index (idx: walk to EOF, index the block's pages).
 * *zs: the decompressing source of a compressed libvirt image, or NULL. */
static struct vf_error *scan_with(struct vf_src *src, struct vf_migstate *st,
				  struct ram_index *idx, struct vf_src **zs)
{
	struct vf_src *z = NULL;
	uint64_t again;
	if (zs)
		*zs = NULL;
	struct vf_error *err = walk_once(src, st, idx, 0, &again, &z);
	if (!err && again) {
		/* the description's page size, learned at the end, was not the
		 * one used: walk again with it (decompressing from the start) */
		vf_src_destroy(z);
		z = NULL;
		vf_migstate_release(st);
		if (idx) {
			free(idx->runs);
			*idx = (struct ram_index){ .block = -1, .max_runs = idx->max_runs };
		}
		err = walk_once(src, st, idx, again, &again, &z);
		st->decompress_restarts++;
	}
	if (zs && !err)
		*zs = z;
	else
		vf_src_destroy(z);
	return err;
}

struct vf_error *vf_migstream_scan(struct vf_src *src, struct vf_migstate *st)
{
	return scan_with(src, st, NULL, NULL);
}

struct vf_error *vf_migstream_find_vmcoreinfo(struct vf_src *src, struct vf_migstate *st)
{
	struct vf_error *err = vf_migstream_scan(src, st);
	if (err || st->found)
		return err;
	if (st->has_description && st->description_has_vmcoreinfo) {
		err = vf_error_at(VF_ERR_CORRUPT, st->description_offset, "migration stream: "
				  "its VM description lists a vmcoreinfo device, but no vmcoreinfo "
				  "section was found%s", st->scanned ? " by searching" : "");
		return vf_error_set_path(err, src->path);
	}
	err = vf_error_create(VF_ERR_NOT_FOUND, "migration stream has no vmcoreinfo device "
			      "state: the VM had no -device vmcoreinfo%s",
			      st->reached_eof ? "" : " (searched to the end)");
	err = vf_error_set_path(err, src->path);
	return vf_error_set_hint(err, "give the region another way: the guest's "
				 "/sys/kernel/vmcoreinfo line, or ADDR,SIZE; start VMs with "
				 "-device vmcoreinfo to have QEMU keep it");
}

static struct vf_error *refused_at(const struct vf_migstate *st, struct vf_error *err)
{
	if (err && err != &vf_error_nomem && !err->has_offset) {
		err->has_offset = true;
		err->offset_is_paddr = false;
		err->offset = st->state_offset;
	}
	return err;
}

struct vf_error *vf_migstream_region(const struct vf_migstate *st, struct vf_region *r)
{
	if (!st->found)
		return vf_error_create(VF_ERR_NOT_FOUND, "migration stream has no vmcoreinfo "
				       "device state: the VM had no -device vmcoreinfo");
	if (!st->has_vmcoreinfo) {
		struct vf_error *err;
		if (st->guest_format == VF_VMCOREINFO_FORMAT_NONE)
			err = vf_error_create(VF_ERR_REFUSED, "vmcoreinfo device state: "
					      "has_vmcoreinfo 0, guest_format 0 (host_format %u): "
					      "the guest never wrote etc/vmcoreinfo, or disabled it",
					      st->host_format);
		else
			err = vf_error_create(VF_ERR_REFUSED, "vmcoreinfo device state: "
					      "has_vmcoreinfo 0 although guest_format is %u: QEMU "
					      "ignored a partial write of etc/vmcoreinfo",
					      st->guest_format);
		err = vf_error_set_hint(err, "the guest kernel writes it from its qemu_fw_cfg "
					"driver; give the region another way: the guest's "
					"/sys/kernel/vmcoreinfo line, or ADDR,SIZE");
		return refused_at(st, err);
	}
	uint8_t fw[VF_FWCFG_VMCOREINFO_SIZE];
	vf_store_uint(fw, 2, false, st->host_format);
	vf_store_uint(fw + 2, 2, false, st->guest_format);
	vf_store_uint(fw + 4, 4, false, st->size);
	vf_store_uint(fw + 8, 8, false, st->paddr);
	struct vf_error *err = vf_region_from_fwcfg(fw, sizeof(fw), r);
	if (err)
		return refused_at(st, vf_error_prefix(err, "migration stream"));
	r->origin = VF_REGION_MIGSTREAM;
	return NULL;
}

void vf_migstate_release(struct vf_migstate *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->nramblocks; i++)
		free(st->ramblocks[i].idstr);
	free(st->ramblocks);
	st->ramblocks = NULL;
	st->nramblocks = 0;
}

/* ------------------------------------------------------------ guest memory */

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

struct migmem {
	struct vf_src *src;
	struct vf_src *zsrc;      /* a compressed libvirt image's stream, decompressed */
	const char *compressed;
	char *block;              /* "pc.ram" */
	uint64_t block_length;
	uint64_t page_size;
	const char *layout;       /* preset name, or "ranges" */
	struct run *runs;         /* sorted by (first, seq) */
	size_t nruns;
	uint64_t records;
	size_t nranges;
	struct vf_rawmem_range r[VF_RAWMEM_MAX_RANGES];  /* sorted by paddr */
};

static int cmp_run(const void *a, const void *b)
{
	const struct run *x = a, *y = b;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sort by first page and record the running maximum of last pages, so a
 * lookup walks back from the last run starting at or before the page only
 * as far as runs can still cover it. */
static void index_finish(struct ram_index *x)
{
	if (x->n > 1)  /* a stream with no main-RAM page: runs is NULL */
		qsort(x->runs, x->n, sizeof(*x->runs), cmp_run);
	uint32_t max = 0;
	for (size_t i = 0; i < x->n; i++) {
		uint32_t last = x->runs[i].first + (x->runs[i].count - 1);
		if (i == 0 || last > max)
			max = last;
		x->runs[i].maxlast = max;
	}
}

/* The run holding page's last record in the stream, or NULL. */
static const struct run *lookup(const struct migmem *m, uint64_t page)
{
	size_t lo = 0, hi = m->nruns;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->runs[mid].first <= page)
			lo = mid + 1;
		else
			hi = mid;
	}
	const struct run *best = NULL;
	for (size_t j = lo; j-- > 0; ) {
		const struct run *r = &m->runs[j];
		if (r->maxlast < page)
			break;
		if (page - r->first < r->count && (!best || r->seq > best->seq))
			best = r;
	}
	return best;
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
		const struct run *run = lookup(m, page);
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
			err = vf_src_read(m->zsrc ? m->zsrc : m->src, out, n, off,
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

static void migmem_destroy(void *ctx)
{
	struct migmem *m = ctx;
	if (!m)
		return;
	vf_src_destroy(m->zsrc);   /* before the file it reads */
	if (m->src)
		vf_src_destroy(m->src);
	free(m->block);
	free(m->runs);
	free(m);
}

static const struct vf_mem_ops migmem_ops = {
	.read = migmem_read,
	.destroy = migmem_destroy,
};

/* Everything after the walk: the block, its layout, the memory. */
static struct vf_error *migmem_setup(struct migmem *m, const struct vf_migstate *st,
				     struct ram_index *x, const char *layout_spec)
{
	const char *name = main_ram_block(st);
	long bi = find_block(st, name);
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
	index_finish(x);
	m->runs = x->runs;
	m->nruns = x->n;
	m->records = x->records;
	x->runs = NULL;
	return NULL;
}

struct vf_error *vf_migstream_mem_open(const char *path, const char *layout_spec,
				       struct vf_mem *out)
{
	memset(out, 0, sizeof(*out));
	struct migmem *m = calloc(1, sizeof(*m));
	if (!m)
		return &vf_error_nomem;
	struct vf_error *err = vf_source_open(path, &m->src);
	if (err) {
		migmem_destroy(m);
		return err;
	}
	struct vf_migstate st;
	struct ram_index x = { .block = -1, .max_runs = MAX_RUNS };
	err = scan_with(m->src, &st, &x, &m->zsrc);
	m->compressed = st.compressed;
	if (!err && !st.reached_eof)
		err = vf_error_set_path(vf_error_create(VF_ERR_CORRUPT, "migration stream: the "
							"walk ended before EOF"), path);
	if (!err)
		err = migmem_setup(m, &st, &x, layout_spec);
	vf_migstate_release(&st);
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
	struct vf_zsrc_info zi = { 0 };
	if (m->zsrc)
		vf_zsrc_info(m->zsrc, &zi);
	*info = (struct vf_migstream_mem_info){ .block = m->block,
						.block_length = m->block_length,
						.layout = m->layout, .runs = m->nruns,
						.records = m->records,
						.compressed = m->compressed,
						.restarts = zi.restarts };
	return true;
}

void vf_migstream_mem_close(struct vf_mem *mem)
{
	if (mem->ops && mem->ops->destroy)
		mem->ops->destroy(mem->ctx);
	free(mem->ranges);
	memset(mem, 0, sizeof(*mem));
}
