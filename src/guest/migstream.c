/* migstream.c - the walk of a QEMU migration stream (migstream.h).
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
 *   "ram" (version 4) bodies: be64 records, offset | flags, until EOS
 *   (migram.c).
 *
 * One walker serves both uses: vf_migstream_scan() stops once the device is
 * found (migdevice.c); vf_migstream_mem_init() (migmem.c) walks to EOF,
 * never searches, and indexes the main RAM block's page records as runs.
 * A libvirt save image is read through its layer (source/libvirt.h).
 */
#include "config.h"
#include "guest/migstream.h"
#include "guest/migstream_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "source/libvirt.h"
#include "source/zsrc.h"

#define CMD_POSTCOPY_ADVISE 3
#define CMD_PACKAGED 8
#define CMD_MAX 64

#define SCAN_FIRST 4096u
/* The search's largest read.  Every byte of it stays within the last
 * VF_ZSRC_KEEP bytes a compressed stream's decoder keeps, with room for
 * what accepting a hit reads past it and for the walk going on from the
 * hit: a search never reads behind the decoder (a restart from the stream's
 * start per candidate would make a search quadratic). */
#define SCAN_CHUNK (VF_ZSRC_KEEP / 2)
_Static_assert(SCAN_CHUNK + 2 * MIG_RD_BUF <= VF_ZSRC_KEEP,
	       "a search chunk must stay in the decoder's window");
#define MAX_SECTIONS 16384
#define MAX_MACHINE_NAME 1024
#define SECTION_HEAD (4 + MIG_NAME_MAX + 4 + 4)   /* after the type byte */
#define SUBSECTION_HEAD (1 + MIG_NAME_MAX + 4 + 4)  /* with a be32 field */

/* ------------------------------------------------------------ reading */

struct vf_error *vf_mig_at(struct mig_walk *c, struct vf_error *err)
{
	return vf_error_set_path(err, c->src->path);
}

struct vf_error *vf_mig_window(struct mig_walk *c, uint64_t off, size_t n, struct vf_cursor *cur)
{
	if (!(off >= c->buf_off && off - c->buf_off <= c->buf_len &&
	      n <= c->buf_len - (off - c->buf_off))) {
		/* read ahead little: after a RAM record header comes a page we skip */
		size_t got, want = n > MIG_RD_AHEAD ? n : MIG_RD_AHEAD;
		struct vf_error *err = vf_src_pread(c->src, c->buf, want, off, &got);
		c->end = c->src->size;   /* a decompressed stream learns its size at its end */
		if (err) {
			c->buf_len = 0;
			return err;
		}
		c->buf_off = off;
		c->buf_len = got;
	}
	size_t at = (size_t)(off - c->buf_off);
	vf_cursor_init(cur, c->buf + at, c->buf_len - at, true, off, NULL);
	return NULL;
}

struct vf_error *vf_mig_uint(struct mig_walk *c, struct vf_cursor *cur, size_t n,
			     const char *what, uint64_t *v)
{
	cur->what = what;
	return vf_mig_at(c, vf_cursor_uint(cur, n, v));
}

struct vf_error *vf_mig_bytes(struct mig_walk *c, struct vf_cursor *cur, size_t n,
			      const char *what, const uint8_t **p)
{
	cur->what = what;
	return vf_mig_at(c, vf_cursor_bytes(cur, n, p));
}

struct vf_error *vf_mig_name(struct mig_walk *c, struct vf_cursor *cur, const char *what,
			     char out[256])
{
	uint64_t len;
	const uint8_t *p;
	struct vf_error *err = vf_mig_uint(c, cur, 1, what, &len);
	if (!err)
		err = vf_mig_bytes(c, cur, (size_t)len, what, &p);
	if (err)
		return err;
	memcpy(out, p, (size_t)len);
	out[len] = '\0';
	return NULL;
}

bool vf_mig_peek(struct mig_walk *c, uint64_t off, size_t n, const uint8_t **p)
{
	struct vf_cursor cur;
	struct vf_error *err = vf_mig_window(c, off, n, &cur);
	if (err) {
		vf_error_destroy(err);
		return false;
	}
	*p = cur.buf;
	return vf_cursor_left(&cur) >= n;
}

struct vf_error *vf_mig_skip(struct mig_walk *c, uint64_t n, const char *what)
{
	if (n > c->end - c->pos)
		return vf_mig_at(c, vf_error_truncated(c->pos, what, n, c->end - c->pos));
	c->pos += n;
	return NULL;
}

struct vf_error *vf_mig_corrupt(struct mig_walk *c, uint64_t off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct vf_error *err = vf_error_vcreate(VF_ERR_CORRUPT, fmt, ap);
	va_end(ap);
	return vf_mig_at(c, vf_error_prefix(vf_error_set_offset(err, off), "migration stream"));
}

struct vf_error *vf_mig_read_uint(struct mig_walk *c, size_t n, const char *what, uint64_t *v)
{
	struct vf_cursor cur;
	struct vf_error *err = vf_mig_window(c, c->pos, n, &cur);
	if (!err)
		err = vf_mig_uint(c, &cur, n, what, v);
	if (!err)
		c->pos += n;
	return err;
}

/* ------------------------------------------------------------ sections */

static struct mig_sect *find_sect(struct mig_walk *c, uint32_t id)
{
	for (size_t i = 0; i < c->nsects; i++)
		if (c->sects[i].id == id)
			return &c->sects[i];
	return NULL;
}

static struct vf_error *add_sect(struct mig_walk *c, uint32_t id, uint8_t type, bool ram,
				 uint64_t off)
{
	struct mig_sect *old = find_sect(c, id);
	if (old)
		return vf_mig_corrupt(c, off, "section id %" PRIu32 " is used twice (first at "
				      "offset 0x%" PRIx64 ")", id, old->offset);
	if (c->nsects == MAX_SECTIONS)
		return vf_mig_corrupt(c, off, "more than %d sections", MAX_SECTIONS);
	if (c->nsects == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct mig_sect *s = realloc(c->sects, cap * sizeof(*s));
		if (!s)
			return &vf_error_nomem;
		c->sects = s;
		c->cap = cap;
	}
	c->sects[c->nsects++] = (struct mig_sect){ id, type, ram, off };
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
bool vf_mig_plausible_next(struct mig_walk *c, uint64_t off)
{
	const uint8_t *p;
	if (!vf_mig_peek(c, off, 1, &p))
		return false;
	switch (p[0]) {
	case SEC_EOF:
		if (vf_mig_peek(c, off + 1, 1, &p))
			return p[0] == SEC_VMDESCRIPTION;
		return off + 1 == c->end;
	case SEC_START:
	case SEC_FULL: {
		if (!vf_mig_peek(c, off, 6, &p) || p[5] == 0)
			return false;
		size_t len = p[5];
		if (!vf_mig_peek(c, off, 6 + len + 8, &p) || !printable(p + 6, len))
			return false;
		return vf_load_uint(p + 6 + len, 4, true) < MIG_MAX_ID_FIELD &&
		       vf_load_uint(p + 10 + len, 4, true) < MIG_MAX_ID_FIELD;
	}
	case SEC_PART:
	case SEC_END: {
		if (!vf_mig_peek(c, off, 5, &p))
			return false;
		struct mig_sect *s = find_sect(c, (uint32_t)vf_load_uint(p + 1, 4, true));
		return s && s->type == SEC_START;
	}
	case SEC_COMMAND: {
		if (!vf_mig_peek(c, off, 5, &p))
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
struct vf_error *vf_mig_search(struct mig_walk *c, uint64_t from, const uint8_t *needle,
			       size_t nlen, bool (*accept)(struct mig_walk *, uint64_t, void *),
			       void *arg, bool *hit, uint64_t *at)
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

static bool accept_footer(struct mig_walk *c, uint64_t at, void *arg)
{
	(void)arg;
	return vf_mig_plausible_next(c, at + 5);
}

/* The body of section id at c->pos has no layout we know: find its footer. */
struct vf_error *vf_mig_find_footer(struct mig_walk *c, uint32_t id, bool *hit)
{
	uint8_t needle[5] = { SEC_FOOTER };
	vf_store_uint(needle + 1, 4, true, id);
	uint64_t at;
	struct vf_error *err = vf_mig_search(c, c->pos, needle, sizeof(needle), accept_footer,
					     NULL, hit, &at);
	if (!err && *hit)
		c->pos = at + 5;
	return err;
}

/* A section body we cannot decode: skip to its footer, or search. */
static struct vf_error *skip_unknown(struct mig_walk *c, uint32_t id)
{
	if (c->st->footers == 0)
		return vf_mig_search_device(c);
	bool hit;
	struct vf_error *err = vf_mig_find_footer(c, id, &hit);
	if (err)
		return err;
	if (hit) {
		c->st->footers = 1;
		return NULL;
	}
	/* a walk to EOF (the RAM, the vCPUs) of a stream whose sections had
	 * footers: one missing to the end means the stream is cut short */
	if (c->full && c->st->footers == 1)
		return vf_mig_at(c, vf_error_at(VF_ERR_CORRUPT, c->pos, "migration stream: "
				 "section %" PRIu32 " has no footer before the stream ends (at "
				 "%" PRIu64 "): it is cut short", id, c->end));
	return vf_mig_search_device(c);
}

/* After a body we decoded: the footer, when the stream has them. */
static struct vf_error *footer(struct mig_walk *c, uint32_t id, const char *idstr)
{
	struct vf_migstate *st = c->st;
	const uint8_t *p;
	uint64_t off = c->pos;
	if (st->footers != 0 && vf_mig_peek(c, off, 1, &p) && p[0] == SEC_FOOTER) {
		uint64_t fid;
		c->pos++;
		struct vf_error *err = vf_mig_read_uint(c, 4, "section footer", &fid);
		if (err)
			return err;
		if (fid != id)
			return vf_mig_corrupt(c, off, "the footer after section %" PRIu32 " (%s) "
					      "names section %" PRIu64, id, idstr, fid);
		st->footers = 1;
		return NULL;
	}
	if (st->footers == 1) {
		if (off == c->end)
			return vf_mig_at(c, vf_error_truncated(off, "section footer", 5, 0));
		return vf_mig_corrupt(c, off, "no footer after section %" PRIu32 " (%s): found "
				      "byte 0x%02x where 0x7e was due", id, idstr,
				      vf_mig_peek(c, off, 1, &p) ? p[0] : 0);
	}
	st->footers = 0;
	return NULL;
}

/* ------------------------------------------------------------ header parts */

static struct vf_error *capabilities(struct mig_walk *c, struct vf_cursor *cur)
{
	uint64_t count;
	struct vf_error *err = vf_mig_uint(c, cur, 4, "capability count", &count);
	if (err)
		return err;
	c->pos = vf_cursor_offset(cur);
	if (count > 256)
		return vf_mig_corrupt(c, c->pos - 4, "configuration: %" PRIu64 " capabilities",
				      count);
	for (uint64_t i = 0; i < count; i++) {
		char cap[256];
		struct vf_cursor cc;
		if ((err = vf_mig_window(c, c->pos, MIG_NAME_MAX, &cc)) ||
		    (err = vf_mig_name(c, &cc, "capability", cap)))
			return err;
		c->pos = vf_cursor_offset(&cc);
		if (strcmp(cap, "x-ignore-shared") == 0)
			c->st->ignore_shared = true;
		else if (strcmp(cap, "mapped-ram") == 0)
			c->mapped_ram = true;
	}
	return NULL;
}

/* The subsection at c->pos; *unknown (c->pos left at it) when we cannot
 * delimit it. */
static struct vf_error *subsection(struct mig_walk *c, bool *unknown)
{
	struct vf_migstate *st = c->st;
	uint64_t soff = c->pos, version, v;
	char name[256];
	struct vf_cursor cur;
	struct vf_error *err = vf_mig_window(c, soff, SUBSECTION_HEAD, &cur);
	if (err || (err = vf_cursor_skip(&cur, 1)) ||
	    (err = vf_mig_name(c, &cur, "configuration subsection name", name)) ||
	    (err = vf_mig_uint(c, &cur, 4, "configuration subsection version", &version)))
		return err;
	c->pos = vf_cursor_offset(&cur);
	if (strcmp(name, "configuration/target-page-bits") == 0) {
		if ((err = vf_mig_uint(c, &cur, 4, "target page bits", &v)))
			return err;
		c->pos = vf_cursor_offset(&cur);
		if (v < 10 || v > 30)
			return vf_mig_corrupt(c, c->pos - 4, "configuration: target page bits %"
					      PRIu64, v);
		st->page_size = 1ull << v;
		st->page_size_from = "configuration";
	} else if (strcmp(name, "configuration/capabilities") == 0) {
		return capabilities(c, &cur);
	} else if (strcmp(name, "configuration/uuid") == 0) {
		return vf_mig_skip(c, 16, "configuration UUID");
	} else {
		c->pos = soff;
		*unknown = true;
	}
	return NULL;
}

/* Returns *unknown when a subsection we cannot delimit follows. */
static struct vf_error *configuration(struct mig_walk *c, bool *unknown)
{
	struct vf_migstate *st = c->st;
	uint64_t off = c->pos, len;
	const uint8_t *p;
	struct vf_cursor cur;
	*unknown = false;
	struct vf_error *err = vf_mig_read_uint(c, 4, "configuration section", &len);
	if (err)
		return err;
	if (len > MAX_MACHINE_NAME)
		return vf_mig_corrupt(c, off, "configuration: a machine name of %" PRIu64 " bytes",
				      len);
	if ((err = vf_mig_window(c, c->pos, (size_t)len, &cur)) ||
	    (err = vf_mig_bytes(c, &cur, (size_t)len, "machine name", &p)))
		return err;
	c->pos += len;
	size_t n = len < sizeof(st->machine) ? (size_t)len : sizeof(st->machine) - 1;
	memcpy(st->machine, p, n);
	st->machine[n] = '\0';
	st->machine_truncated = n < len;
	while (!*unknown && vf_mig_peek(c, c->pos, 1, &p) && p[0] == SEC_SUBSECTION)
		if ((err = subsection(c, unknown)))
			return err;
	if (!*unknown && c->mapped_ram) {
		err = vf_error_at(VF_ERR_UNSUPPORTED, off, "migration stream: mapped-ram layout "
				  "(RAM at fixed file offsets; libvirt's 'sparse' format)");
		return vf_mig_at(c, vf_error_set_hint(err, "save the VM without the mapped-ram "
						      "capability"));
	}
	return NULL;
}

static struct vf_error *command(struct mig_walk *c, uint64_t off)
{
	uint64_t cmd, len;
	struct vf_cursor cur;
	struct vf_error *err = vf_mig_window(c, c->pos, 4, &cur);
	if (!err)
		err = vf_mig_uint(c, &cur, 2, "command", &cmd);
	if (!err)
		err = vf_mig_uint(c, &cur, 2, "command length", &len);
	if (err)
		return err;
	c->pos += 4;
	if (cmd == CMD_PACKAGED) {
		err = vf_error_at(VF_ERR_UNSUPPORTED, off, "migration stream: a packaged "
				  "(postcopy) command");
		return vf_mig_at(c, vf_error_set_hint(err, "save the VM without postcopy"));
	}
	if (cmd == 0 || cmd > CMD_MAX)
		return vf_mig_corrupt(c, off, "unknown command %" PRIu64, cmd);
	if (cmd == CMD_POSTCOPY_ADVISE)
		c->st->postcopy_advised = true;
	return vf_mig_skip(c, len, "command data");
}

/* ------------------------------------------------------------ the container */

bool vf_migstream_probe(const uint8_t *head, size_t len)
{
	enum vf_zsrc_codec codec;
	if (len >= 8 && vf_load_uint(head, 4, true) == VF_MIG_MAGIC)
		return true;
	/* a compressed file: what it holds is the walk's to say */
	return vf_libvirt_probe(head, len) || vf_zsrc_probe(head, len, &codec);
}

uint64_t vf_mig_layer_restarts(const struct vf_src *layer)
{
	struct vf_libvirt_info li;
	struct vf_zsrc_info zi;
	if (layer && vf_libvirt_info(layer, &li))
		return li.restarts;
	if (layer && vf_zsrc_info(layer, &zi))
		return zi.restarts;
	return 0;
}

/* A file compressed whole (`virsh dump` with a dump_image_format, a stream
 * or image compressed by hand): read the rest decompressed. */
static struct vf_error *open_compressed(struct mig_walk *c, enum vf_zsrc_codec codec)
{
	struct vf_error *err = vf_zsrc_open(c->src, false, 0, codec, &c->lv);
	if (err)
		return err;
	c->src = c->lv;
	c->end = c->src->size;
	c->buf_len = 0;
	c->st->compressed = vf_zsrc_codec_name(codec);
	return NULL;
}

/* A libvirt save image: read the rest through its layer (over the
 * decompressed file when it was compressed whole). */
static struct vf_error *open_libvirt(struct mig_walk *c)
{
	struct vf_libvirt_info info;
	const uint8_t *p;
	/* as it always was: an image whose header cannot be read is not one */
	c->st->libvirt = vf_mig_peek(c, 0, VF_LIBVIRT_HEADER_SIZE, &p);
	bool own = c->lv != NULL;
	struct vf_src *lv;
	struct vf_error *err = vf_libvirt_open(c->src, own, &lv);
	if (own)
		c->lv = NULL;   /* the image's layer owns it now, or destroyed it */
	if (err)
		return err;
	c->lv = lv;
	vf_libvirt_info(c->lv, &info);
	c->src = c->lv;
	c->end = c->src->size;
	c->buf_len = 0;
	c->st->stream_offset = info.stream_offset;
	if (info.compressed)
		c->st->compressed = info.compressed;
	return NULL;
}

/* The layers over the file, from its first bytes: a compression, then a
 * libvirt image; the walk reads through the top one. */
static struct vf_error *open_container(struct mig_walk *c)
{
	const uint8_t *p;
	enum vf_zsrc_codec codec;
	struct vf_error *err;
	if (vf_mig_peek(c, 0, VF_ZSRC_PROBE_LEN, &p) && vf_zsrc_probe(p, VF_ZSRC_PROBE_LEN, &codec) &&
	    (err = open_compressed(c, codec)))
		return err;
	if (vf_mig_peek(c, 0, VF_LIBVIRT_MAGIC_LEN, &p) &&
	    vf_libvirt_probe(p, VF_LIBVIRT_MAGIC_LEN))
		return open_libvirt(c);
	return NULL;
}

/* ------------------------------------------------------------ the walk */

/* A RAM section's start; c->pos is at its body. */
static struct vf_error *ram_start(struct mig_walk *c, uint8_t type, uint32_t id,
				  uint32_t version, uint64_t soff)
{
	struct vf_migstate *st = c->st;
	if (type != SEC_START)
		return vf_mig_corrupt(c, soff, "the RAM section is not iterative (type %u)", type);
	if (version != 4) {
		struct vf_error *err = vf_error_at(VF_ERR_UNSUPPORTED, soff, "migration stream: "
						   "RAM section version %" PRIu32 " (only 4 is "
						   "known)", version);
		return vf_mig_at(c, err);
	}
	if (!st->page_size_from) {
		st->page_size = 4096;
		st->page_size_from = "default";
	}
	struct vf_error *err = vf_mig_ram_records(c);
	return err ? err : footer(c, id, "ram");
}

static struct vf_error *section(struct mig_walk *c, uint8_t type, uint64_t soff)
{
	uint64_t id, instance, version;
	char idstr[256];
	struct vf_cursor cur;
	struct vf_error *err = vf_mig_window(c, c->pos, SECTION_HEAD, &cur);
	if (err || (err = vf_mig_uint(c, &cur, 4, "section id", &id)))
		return err;
	c->pos = vf_cursor_offset(&cur);
	if (type == SEC_PART || type == SEC_END) {
		struct mig_sect *s = find_sect(c, (uint32_t)id);
		if (!s || s->type != SEC_START)
			return vf_mig_corrupt(c, soff, "section %" PRIu64 " continues, but no START "
					      "section opened it", id);
		if (!s->ram)
			return skip_unknown(c, (uint32_t)id);
		if ((err = vf_mig_ram_records(c)))
			return err;
		return footer(c, (uint32_t)id, "ram");
	}
	if ((err = vf_mig_name(c, &cur, "section name", idstr)) ||
	    (err = vf_mig_uint(c, &cur, 4, "instance id", &instance)) ||
	    (err = vf_mig_uint(c, &cur, 4, "version id", &version)))
		return err;
	c->pos = vf_cursor_offset(&cur);
	if (!idstr[0] || !printable((const uint8_t *)idstr, strlen(idstr)))
		return vf_mig_corrupt(c, soff, "section %" PRIu64 " has an unreadable name", id);
	bool ram = strcmp(idstr, "ram") == 0;
	if ((err = add_sect(c, (uint32_t)id, type, ram, soff)))
		return err;
	if (ram)
		return ram_start(c, type, (uint32_t)id, (uint32_t)version, soff);
	if (type == SEC_FULL && vf_mig_is_vmci_idstr(idstr))
		return vf_mig_vmcoreinfo_section(c, soff, (uint32_t)id, (uint32_t)instance,
						 (uint32_t)version);
	if (type == SEC_FULL && strcmp(idstr, "cpu") == 0 &&
	    (err = vf_mig_cpu_section(c, soff, (uint32_t)instance, (uint32_t)version)))
		return err;
	return skip_unknown(c, (uint32_t)id);
}

static bool valid_page_size(uint64_t ps)
{
	return ps >= 1024 && ps <= (1u << 30) && !(ps & (ps - 1));
}

/* The magic and version at stream_offset; then the description, when the
 * stream's end is known, for its page size. */
static struct vf_error *stream_header(struct mig_walk *c)
{
	struct vf_migstate *st = c->st;
	uint64_t v;
	struct vf_cursor cur;
	c->pos = st->stream_offset;
	struct vf_error *err = vf_mig_window(c, c->pos, 8, &cur);
	if (err || (err = vf_mig_uint(c, &cur, 4, "stream header", &v)))
		return err;
	if (v != VF_MIG_MAGIC) {
		if (st->libvirt)
			return vf_mig_corrupt(c, st->stream_offset, "libvirt save image: no QEMU "
					      "stream (QEVM) after the domain XML");
		if (st->compressed)
			return vf_mig_at(c, vf_error_create(VF_ERR_NOT_FORMAT, "%s-compressed "
					 "file, but once decompressed neither a QEMU migration "
					 "stream nor a libvirt save image (it starts with %02x %02x "
					 "%02x %02x)", st->compressed, (unsigned)(v >> 24),
					 (unsigned)(v >> 16) & 255, (unsigned)(v >> 8) & 255,
					 (unsigned)v & 255));
		return vf_mig_at(c, vf_error_create(VF_ERR_NOT_FORMAT, "not a QEMU migration "
						    "stream (no QEVM magic)"));
	}
	if ((err = vf_mig_uint(c, &cur, 4, "stream version", &v)))
		return err;
	c->pos += 8;
	if (v != VF_MIG_VERSION) {
		err = vf_error_at(VF_ERR_UNSUPPORTED, c->pos - 4, "migration stream version %"
				  PRIu64 " (only %u is known)", v, VF_MIG_VERSION);
		return vf_mig_at(c, err);
	}
	/* the description is at the end: read first when the end is known */
	c->desc_deferred = c->src->size == UINT64_MAX;
	if (!c->desc_deferred && (err = vf_mig_read_description(c)))
		return err;
	uint64_t dps = c->desc_deferred ? c->forced_page_size : st->description_page_size;
	if (valid_page_size(dps)) {
		st->page_size = dps;
		st->page_size_from = "description";
	}
	return NULL;
}

/* The section (or command, or EOF) at c->pos. */
static struct vf_error *next_section(struct mig_walk *c)
{
	struct vf_migstate *st = c->st;
	uint64_t soff = c->pos, type;
	struct vf_error *err = vf_mig_read_uint(c, 1, "section type", &type);
	if (err)
		return err;
	switch (type) {
	case SEC_EOF:
		st->reached_eof = true;
		st->eof_offset = soff;
		c->done = true;
		return NULL;
	case SEC_CONFIGURATION: {
		bool unknown;
		if ((err = configuration(c, &unknown)))
			return err;
		return unknown ? vf_mig_search_device(c) : NULL;
	}
	case SEC_START:
	case SEC_PART:
	case SEC_END:
	case SEC_FULL:
		return section(c, (uint8_t)type, soff);
	case SEC_COMMAND:
		return command(c, soff);
	}
	err = vf_mig_corrupt(c, soff, "unknown section type 0x%02x", (unsigned)type);
	return vf_error_set_hint(err, "the file is damaged, or it is not a stream QEMU 2.4 or "
				 "later wrote");
}

static struct vf_error *walk(struct mig_walk *c)
{
	struct vf_error *err = stream_header(c);
	while (!err && !c->done)
		err = next_section(c);
	return err;
}

/* After a walk of a stream of unknown size: decompress the rest, read the
 * description from the tail (in the decoder's window), and say whether its
 * page size, which a known size would have let the walk use, differs. */
static struct vf_error *late_description(struct mig_walk *c, uint64_t *rewalk_page_size)
{
	struct vf_migstate *st = c->st;
	*rewalk_page_size = 0;
	uint64_t size = c->src->size;
	struct vf_libvirt_info li;
	struct vf_error *err = vf_libvirt_info(c->src, &li) ? vf_libvirt_finish(c->src, &size) :
			       c->src->kind == VF_SRC_DECOMPRESSED ? vf_zsrc_finish(c->src, &size) :
			       NULL;
	if (err)
		return err;
	c->end = size;
	if (c->end - st->stream_offset < 8)
		return NULL;
	if ((err = vf_mig_read_description(c)))
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

/* What follows a walk: the deferred description (a walk with the default
 * page size may fail where the description's would not: if it has another,
 * the next walk decides), and the checks on what was found. */
static struct vf_error *after_walk(struct mig_walk *c, struct vf_error *err,
				   uint64_t *rewalk_page_size)
{
	struct vf_migstate *st = c->st;
	if (!err && c->desc_deferred) {
		err = late_description(c, rewalk_page_size);
	} else if (err && err != &vf_error_nomem && c->desc_deferred &&
		   (!st->page_size_from || strcmp(st->page_size_from, "default") == 0)) {
		struct vf_error *e2 = late_description(c, rewalk_page_size);
		if (!e2 && *rewalk_page_size) {
			vf_error_destroy(err);
			err = NULL;
		}
		vf_error_destroy(e2);
	}
	if (*rewalk_page_size)
		return err;
	if (!err && st->page_size_from == NULL)
		st->page_size_from = "default";
	/* A found device the JSON description does not list came from a search. */
	if (!err && st->found && st->scanned && st->has_description &&
	    !st->description_has_vmcoreinfo)
		err = vf_mig_corrupt(c, st->section_offset, "a vmcoreinfo section was found by "
				     "searching, but the stream's VM description has no such "
				     "device");
	return err;
}

/* The layers' part: their restarts, their offsets named in errors. */
static struct vf_error *after_layers(struct mig_walk *c, struct vf_error *err)
{
	struct vf_migstate *st = c->st;
	if (!c->lv || !st->compressed)
		return err;
	st->decompress_restarts = vf_mig_layer_restarts(c->lv);
	if (!err || err == &vf_error_nomem || err->code == VF_ERR_NOT_FORMAT)
		return err;   /* not a stream: said as it is */
	struct vf_libvirt_info info = { 0 };
	bool inner = vf_libvirt_info(c->lv, &info) && info.compressed;
	if (inner)
		return vf_error_prefix(err, "libvirt save image with a %s-compressed QEMU stream "
				       "at offset %" PRIu64 " (stream offsets count its "
				       "decompressed bytes from there)", st->compressed,
				       st->stream_offset);
	return vf_error_prefix(err, "%s-compressed %s (the stream's offsets count its "
			       "decompressed bytes)", st->compressed,
			       st->libvirt ? "libvirt save image" : "file");
}

/* One walk of src into st (zeroed first); a libvirt image's layer is handed
 * back in *lv (or destroyed if lv is NULL). */
static struct vf_error *walk_once(struct vf_src *src, struct vf_migstate *st,
				  struct mig_ram_index *idx, uint64_t forced_page_size,
				  uint64_t *rewalk_page_size, struct vf_src **lv)
{
	memset(st, 0, sizeof(*st));
	st->footers = -1;
	st->page_size = 4096;
	*rewalk_page_size = 0;
	struct mig_walk *c = calloc(1, sizeof(*c));
	if (!c)
		return &vf_error_nomem;
	*c = (struct mig_walk){ .src = src, .st = st, .end = src->size, .cur_block = -1,
				.idx = idx, .full = idx != NULL,
				.forced_page_size = forced_page_size };
	struct vf_error *err = open_container(c);
	if (!err)
		err = walk(c);
	err = after_layers(c, after_walk(c, err, rewalk_page_size));
	if (lv)
		*lv = c->lv;
	else
		vf_src_destroy(c->lv);
	free(c->sects);
	free(c->chunk);
	free(c);
	return err;
}

struct vf_error *vf_mig_scan_with(struct vf_src *src, struct vf_migstate *st,
				  struct mig_ram_index *idx, struct vf_src **lv)
{
	struct vf_src *l = NULL;
	uint64_t again;
	if (lv)
		*lv = NULL;
	struct vf_error *err = walk_once(src, st, idx, 0, &again, &l);
	if (!err && again) {
		/* the description's page size, learned at the end, was not the
		 * one used: walk again with it (decompressing from the start) */
		vf_src_destroy(l);
		l = NULL;
		vf_migstate_deinit(st);
		if (idx) {
			free(idx->runs);
			*idx = (struct mig_ram_index){ .block = -1, .max_runs = idx->max_runs };
		}
		err = walk_once(src, st, idx, again, &again, &l);
		st->decompress_restarts++;
	}
	if (lv && !err)
		*lv = l;
	else
		vf_src_destroy(l);
	return err;
}

struct vf_error *vf_migstream_scan(struct vf_src *src, struct vf_migstate *st)
{
	return vf_mig_scan_with(src, st, NULL, NULL);
}

void vf_migstate_deinit(struct vf_migstate *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->nramblocks; i++)
		free(st->ramblocks[i].idstr);
	free(st->ramblocks);
	st->ramblocks = NULL;
	st->nramblocks = 0;
	for (size_t i = 0; i < st->ncpus; i++)
		free(st->cpus[i].body);
	free(st->cpus);
	st->cpus = NULL;
	free(st->cpu_desc.fields);
	st->cpu_desc.fields = NULL;
	st->cpu_desc.nfields = st->cpu_desc.nmain = st->cpu_desc.nsubs = 0;
	st->ncpus = st->cpus_cap = 0;
}
