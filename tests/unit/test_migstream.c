/* test_migstream.c - the vmcoreinfo device's state from synthetic QEMU
 * migration streams: built here byte by byte from the format's facts, with
 * decoys in RAM pages and device state, and broken in every way we refuse. */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cursor.h"
#include "util/mem.h"
#include "guest/migstream.h"
#include "guest/region.h"
#include "source/open.h"
#include "source/src.h"
#include "source/zsrc.h"
#include "tap.h"
#include "packers.h"

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 256;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void put_be(struct buf *b, size_t n, uint64_t v)
{
	uint8_t x[8];
	vf_store_uint(x, n, true, v);
	put(b, x, n);
}

static void u8(struct buf *b, uint64_t v) { put_be(b, 1, v); }
static void be16(struct buf *b, uint64_t v) { put_be(b, 2, v); }
static void be32(struct buf *b, uint64_t v) { put_be(b, 4, v); }
static void be64(struct buf *b, uint64_t v) { put_be(b, 8, v); }

static void str8(struct buf *b, const char *s)
{
	u8(b, strlen(s));
	put(b, s, strlen(s));
}

struct opts {
	bool no_footers, no_device, no_json, json_without_vmci, be_host, ignore_shared, big_json;
	bool decoy_footers;        /* a 3 MiB device state full of false footers */
	unsigned page_bits;        /* target-page-bits subsection, 0 = none */
	uint8_t has;
	uint16_t host, guest;
	uint32_t size;
	uint64_t paddr;
	uint32_t vmci_version;
	/* where things are, for the assertions */
	size_t vmci_section, vmci_state, page2_payload, bad_block_record, ram_end_footer;
	size_t block_len;
};

static void section_head(struct buf *b, uint8_t type, uint32_t id, const char *idstr,
			 uint32_t instance, uint32_t version)
{
	u8(b, type);
	be32(b, id);
	str8(b, idstr);
	be32(b, instance);
	be32(b, version);
}

static void footer(struct buf *b, const struct opts *o, uint32_t id)
{
	if (!o->no_footers) {
		u8(b, 0x7e);
		be32(b, id);
	}
}

/* A page whose bytes look like the vmcoreinfo section: must never be read. */
static void decoy_page(struct buf *b, size_t ps)
{
	struct buf d = { 0 };
	section_head(&d, 4, 7, "vmcoreinfo", 0, 1);
	u8(&d, 1);
	be16(&d, 0);
	be16(&d, 1);
	be32(&d, 0xbad);
	be64(&d, 0xbad000);
	u8(&d, 0x7e);
	be32(&d, 7);
	uint8_t *page = calloc(1, ps);
	memcpy(page + 100, d.p, d.len);
	put(b, page, ps);
	free(page);
	free(d.p);
}

static void build(struct buf *b, struct opts *o)
{
	size_t ps = o->page_bits ? (size_t)1 << o->page_bits : 4096;
	b->len = 0;
	put(b, "QEVM", 4);
	be32(b, 3);
	/* configuration with subsections */
	u8(b, 0x07);
	be32(b, 10);
	put(b, "pc-q35-7.2", 10);
	if (o->page_bits) {
		u8(b, 0x05);
		str8(b, "configuration/target-page-bits");
		be32(b, 1);
		be32(b, o->page_bits);
	}
	if (o->ignore_shared) {
		u8(b, 0x05);
		str8(b, "configuration/capabilities");
		be32(b, 1);
		be32(b, 1);
		str8(b, "x-ignore-shared");
	}
	u8(b, 0x05);
	str8(b, "configuration/uuid");
	be32(b, 1);
	put(b, "0123456789abcdef", 16);

	/* RAM setup: the block list */
	section_head(b, 0x01, 2, "ram", 0, 4);
	be64(b, (0x100000 + 0x20000) | 0x4);
	str8(b, "pc.ram");
	be64(b, 0x100000);
	if (o->ignore_shared)
		be64(b, 0);
	str8(b, "/rom@etc/acpi/tables");
	o->block_len = b->len;
	be64(b, 0x20000);
	if (o->ignore_shared)
		be64(b, 0);
	be64(b, 0x10);
	footer(b, o, 2);

	/* an iterative section we cannot decode, with a false footer inside
	 * (without footers nothing could delimit it: the walk would search RAM) */
	if (!o->no_footers) {
		section_head(b, 0x01, 3, "dirty-bitmap", 0, 1);
		put(b, "\x7e\x00\x00\x00\x03\xff\xff", 7);
		footer(b, o, 3);
	}

	/* RAM pages */
	u8(b, 0x02);
	be32(b, 2);
	be64(b, 0x8);
	str8(b, "pc.ram");
	decoy_page(b, ps);
	be64(b, ps | 0x2 | 0x20);
	u8(b, 0);
	be64(b, (2 * ps) | 0x8 | 0x20);
	o->page2_payload = b->len;
	decoy_page(b, ps);
	be64(b, 0x200);
	be64(b, 0x10);
	footer(b, o, 2);
	u8(b, 0x08);       /* a command: switchover-start, no data */
	be16(b, 11);
	be16(b, 0);

	u8(b, 0x03);
	be32(b, 2);
	o->bad_block_record = b->len;
	be64(b, ps | 0x8);
	str8(b, "/rom@etc/acpi/tables");
	decoy_page(b, ps);
	be64(b, 0x10);
	o->ram_end_footer = b->len;
	footer(b, o, 2);

	/* device state: one big section, whose footer straddles two windows of
	 * the footer search */
	section_head(b, 0x04, 11, "0000:00:02.0/big", 0, 1);
	uint32_t x = 12345;
	/* windows [0, 4096), [4092, 12284), ... of the body: the footer at
	 * 4094 is cut by the first and whole in the second */
	for (size_t i = 0; i < 4094; i++) {
		x = x * 1103515245u + 12345u;
		u8(b, (x >> 16) & 0x7f);
	}
	footer(b, o, 11);
	if (o->decoy_footers) {
		/* every 512 bytes the section's footer bytes, then a byte no section
		 * starts with: thousands of search hits to refuse (issue 12) */
		section_head(b, 0x04, 12, "0000:00:03.0/decoys", 0, 1);
		for (size_t i = 0; i < (3u << 20) / 512; i++) {
			put(b, "\x7e\x00\x00\x00\x0c\xff", 6);
			for (size_t k = 6; k < 512; k++)
				u8(b, (uint8_t)(k * 13));
		}
		footer(b, o, 12);
	}
	section_head(b, 0x04, 0, "timer", 0, 2);
	put(b, "\x00\x00\x00\x00\x7e\x00\x00\x00\x00\x55\x01\x02\x03\x04\x05\x06\x07", 17);
	footer(b, o, 0);
	/* a device whose state holds a near-copy of the vmcoreinfo header */
	section_head(b, 0x04, 5, "0000:00:1f.0/decoy", 0, 1);
	section_head(b, 0x04, 7, "vmcoreinfo", 0, 2);
	put(b, "\x01\x00\x00\x00\x01\x00\x00\x0b\xad\x00\x00\x00\x00\x00\x00\xba\xd0", 17);
	footer(b, o, 5);
	if (!o->no_device) {
		o->vmci_section = b->len;
		section_head(b, 0x04, 7, "vmcoreinfo", 0, o->vmci_version ? o->vmci_version : 1);
		o->vmci_state = b->len;
		u8(b, o->has);
		uint16_t h = o->host, g = o->guest;
		uint32_t s = o->size;
		uint64_t p = o->paddr;
		if (o->be_host) {
			h = (uint16_t)(h >> 8 | h << 8);
			g = (uint16_t)(g >> 8 | g << 8);
			s = __builtin_bswap32(s);
			p = __builtin_bswap64(p);
		}
		be16(b, h);
		be16(b, g);
		be32(b, s);
		be64(b, p);
		footer(b, o, 7);
	}
	section_head(b, 0x04, 9, "kvmclock", 0, 1);
	be64(b, 0x123456789);
	u8(b, 1);
	footer(b, o, 9);
	u8(b, 0x00);
	if (!o->no_json) {
		char *json = malloc(200000);
		size_t pad = o->big_json ? 150000 : 0;
		snprintf(json, 200000, "{\"pad\": \"%*s\", \"page_size\": %zu, \"devices\": [{\"name\": "
			 "\"timer\", \"instance_id\": 0}, {\"name\": \"%s\", \"instance_id\": 0, "
			 "\"vmsd_name\": \"vmcoreinfo\", \"version\": 1}]}", (int)pad, "", ps,
			 o->json_without_vmci ? "kvmclock" : "vmcoreinfo");
		u8(b, 0x06);
		be32(b, strlen(json));
		put(b, json, strlen(json));
		free(json);
	}
}

static char tmpl[] = "/tmp/test_migstream.XXXXXX";

static struct vf_src *src_of(const uint8_t *p, size_t n)
{
	char path[sizeof(tmpl)];
	memcpy(path, tmpl, sizeof(tmpl));
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
	struct vf_src *src;
	struct vf_error *err = vf_source_open(path, &src);
	unlink(path);
	if (err)
		abort();
	return src;
}

/* Scan (or find) the stream in b[0..n). */
static struct vf_error *run(const uint8_t *p, size_t n, bool find, struct vf_migstate *st)
{
	struct vf_src *src = src_of(p, n);
	struct vf_error *err = find ? vf_migstream_find_vmcoreinfo(src, st)
				    : vf_migstream_scan(src, st);
	vf_src_destroy(src);
	return err;
}

static struct opts good(void)
{
	return (struct opts){ .has = 1, .host = 0, .guest = 1, .size = 0x1024,
			      .paddr = 0x13ae000 };
}

static bool msg_has(const struct vf_error *err, const char *s)
{
	return err && err->message && strstr(err->message, s);
}


/* ---------------------------------------------------------------- guest memory */

/* Open the bytes as guest memory (the file is unlinked; the open fd keeps it). */
static struct vf_error *mem_of(const uint8_t *p, size_t n, const char *layout, struct vf_mem *mem)
{
	char path[sizeof(tmpl)];
	memcpy(path, tmpl, sizeof(tmpl));
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
	struct vf_error *err = vf_migstream_mem_init(path, layout, mem);
	unlink(path);
	return err;
}

/* ---------------------------------------------------------------- libvirt images */

enum { LV_RAW = 0, LV_GZIP = 1, LV_BZIP2 = 2, LV_XZ = 3, LV_LZOP = 4, LV_ZSTD = 5 };
#define LV_XML 1000
#define LV_STREAM (16 + 19 * 4 + LV_XML)   /* 1092: the stream's offset */

/* A libvirt save image (little-endian header, version 2) around payload. */
static void lv_image(struct buf *lv, uint32_t format, const uint8_t *payload, size_t n)
{
	lv->len = 0;
	put(lv, "LibvirtQemudSave", 16);
	uint32_t hdr[19] = { 2, LV_XML, 1, format, 0 };
	for (size_t i = 0; i < 19; i++) {
		uint8_t le[4];
		vf_store_uint(le, 4, false, hdr[i]);
		put(lv, le, 4);
	}
	char xml[LV_XML] = "<domain type='kvm'><name>g</name></domain>";
	put(lv, xml, sizeof(xml));
	put(lv, payload, n);
}

/* libvirt's formats 1..5 as codecs, and the names. */
static const enum vf_zsrc_codec lv_codec[6] = {
	VF_ZSRC_GZIP, VF_ZSRC_GZIP, VF_ZSRC_BZIP2, VF_ZSRC_XZ, VF_ZSRC_LZOP, VF_ZSRC_ZSTD,
};
#define LV_NAME(f) vf_zsrc_codec_name(lv_codec[f])

/* d[0..n) compressed as `parts` members, frames, streams or lzop files of
 * libvirt's format, into z; false when the codec was not built. */
static bool zpack(int format, const uint8_t *d, size_t n, unsigned parts, struct buf *z)
{
	uint8_t *o;
	size_t len = pack_parts(lv_codec[format], d, n, parts, &o);
	z->len = 0;
	if (!len)
		return false;
	put(z, o, len);
	free(o);
	return true;
}

/* What a walk found, field by field (the container's compression aside). */
static bool same_state(const struct vf_migstate *a, const struct vf_migstate *b)
{
	bool ok = a->found == b->found && a->libvirt == b->libvirt &&
		  a->stream_offset == b->stream_offset && a->section_offset == b->section_offset &&
		  a->state_offset == b->state_offset && a->section_id == b->section_id &&
		  a->instance_id == b->instance_id && a->version_id == b->version_id &&
		  a->has_vmcoreinfo == b->has_vmcoreinfo && a->host_format == b->host_format &&
		  a->guest_format == b->guest_format && a->size == b->size &&
		  a->paddr == b->paddr && a->page_size == b->page_size &&
		  strcmp(a->page_size_from, b->page_size_from) == 0 && a->footers == b->footers &&
		  a->nsections == b->nsections && a->reached_eof == b->reached_eof &&
		  a->eof_offset == b->eof_offset && a->scanned == b->scanned &&
		  a->has_description == b->has_description &&
		  a->description_offset == b->description_offset &&
		  a->description_size == b->description_size &&
		  a->description_has_vmcoreinfo == b->description_has_vmcoreinfo &&
		  a->description_page_size == b->description_page_size &&
		  strcmp(a->machine, b->machine) == 0 && a->nramblocks == b->nramblocks &&
		  a->ram_pages == b->ram_pages && a->ram_zero_pages == b->ram_zero_pages;
	if (!ok)
		printf("# raw: found %d paddr 0x%" PRIx64 " section 0x%" PRIx64 " page %" PRIu64
		       " (%s) desc %d; compressed: found %d paddr 0x%" PRIx64 " section 0x%"
		       PRIx64 " page %" PRIu64 " (%s) desc %d\n", a->found, a->paddr,
		       a->section_offset, a->page_size, a->page_size_from, a->has_description,
		       b->found, b->paddr, b->section_offset, b->page_size, b->page_size_from,
		       b->has_description);
	return ok;
}

/* The stream in s[0..n) as a raw libvirt image and one in each compressed
 * format (in 1 and in 2 parts), and as a bare file in each codec: every walk
 * finds what the raw image's, or the raw stream's, walk finds. */
static void compressed_like_raw(const uint8_t *s, size_t n, const char *what,
				uint64_t want_restarts)
{
	struct buf lv = { 0 }, z = { 0 };
	struct vf_migstate raw, bare, st;
	lv_image(&lv, LV_RAW, s, n);
	struct vf_error *err = run(lv.p, lv.len, false, &raw);
	TAP_OK(!err && raw.libvirt && !raw.compressed, "%s: the raw image walks", what);
	vf_error_destroy(err);
	err = run(s, n, false, &bare);
	TAP_OK(!err && !bare.libvirt && !bare.compressed, "%s: the bare stream walks", what);
	vf_error_destroy(err);
	for (int f = LV_GZIP; f <= LV_ZSTD; f++) {
		const char *name = LV_NAME(f);
		for (unsigned parts = 1; parts <= 2; parts++) {
			if (!zpack(f, s, n, parts, &z))
				break;
			lv_image(&lv, (uint32_t)f, z.p, z.len);
			err = run(lv.p, lv.len, false, &st);
			TAP_OK(!err && st.compressed && strcmp(st.compressed, name) == 0 &&
			       same_state(&raw, &st) && st.decompress_restarts == want_restarts,
			       "%s: a %s image in %u part%s walks as the raw one (%s)", what,
			       name, parts, parts > 1 ? "s" : "", err ? err->message : "ok");
			vf_error_destroy(err);
			vf_migstate_deinit(&st);
			err = run(z.p, z.len, false, &st);
			TAP_OK(!err && st.compressed && strcmp(st.compressed, name) == 0 &&
			       same_state(&bare, &st) && st.decompress_restarts == want_restarts,
			       "%s: a bare %s file in %u part%s walks as the bare stream (%s)",
			       what, name, parts, parts > 1 ? "s" : "", err ? err->message : "ok");
			vf_error_destroy(err);
			vf_migstate_deinit(&st);
		}
	}
	vf_migstate_deinit(&raw);
	vf_migstate_deinit(&bare);
	free(lv.p);
	free(z.p);
}

static void test_libvirt_compressed(void)
{
	struct buf b = { 0 }, lv = { 0 }, z = { 0 };
	struct opts o = good();
	build(&b, &o);
	compressed_like_raw(b.p, b.len, "stream with footers", 0);

	o = good();
	o.no_footers = true;
	build(&b, &o);
	compressed_like_raw(b.p, b.len, "stream without footers (searched)", 0);

	/* thousands of false footers over 3 MiB: the search never reads behind
	 * the decoder (each such read would start decompression over) */
	o = good();
	o.decoy_footers = true;
	build(&b, &o);
	compressed_like_raw(b.p, b.len, "6144 false footers in one section", 0);

	/* 8 KiB pages named only by the description: the first walk over the
	 * decompressed stream, with 4 KiB pages, fails; the description at the
	 * end gives 8 KiB and the second walk succeeds */
	o = good();
	o.page_bits = 13;
	build(&b, &o);
	static const size_t sub_at = 4 + 4 + 1 + 4 + 10, sub_len = 1 + 1 + 30 + 4 + 4;
	TAP_OK(b.p[sub_at] == 0x05 && memcmp(b.p + sub_at + 2, "configuration/target-page-bits",
					     30) == 0, "the page-bits subsection is where expected");
	memmove(b.p + sub_at, b.p + sub_at + sub_len, b.len - sub_at - sub_len);
	b.len -= sub_len;
	struct vf_migstate st;
	struct vf_error *err = run(b.p, b.len, true, &st);
	TAP_OK(!err && st.found && st.page_size == 8192 &&
	       strcmp(st.page_size_from, "description") == 0,
	       "8 KiB pages from the description alone: the plain stream walks");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);
	compressed_like_raw(b.p, b.len, "8 KiB pages from the description alone", 1);

	/* guest memory through the decompressed stream */
	o = good();
	build(&b, &o);
	for (int f = LV_GZIP; f <= LV_ZSTD; f++) {
		const char *name = LV_NAME(f);
		if (!zpack(f, b.p, b.len, 1, &z)) {
			/* a payload with the codec's magic, as a real one starts */
			static const char *const magic[6] = {
				"", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00",
				"BZh91AY&S", "\xfd\x37\x7a\x58\x5a\x00\x00\x04\xe6",
				"\x89LZO\x00\x0d\x0a\x1a\x0a", "\x28\xb5\x2f\xfd\x00\x00\x00\x00\x00",
			};
			lv_image(&lv, (uint32_t)f, (const uint8_t *)magic[f], 9);
			err = run(lv.p, lv.len, true, &st);
			char want[32];
			snprintf(want, sizeof(want), "| %s -dc > STREAM", name);
			TAP_OK(err && err->code == VF_ERR_UNSUPPORTED && err->hint &&
			       strstr(err->hint, want),
			       "%s image, %s not built: the command to decompress it", name, name);
			vf_error_destroy(err);
			vf_migstate_deinit(&st);
			continue;
		}
		lv_image(&lv, (uint32_t)f, z.p, z.len);
		struct vf_mem m;
		err = mem_of(lv.p, lv.len, NULL, &m);
		uint8_t got[11];
		struct vf_error *e2 = err ? NULL : vf_mem_read(&m, 2 * 4096 + 105, got, 11);
		struct vf_migstream_mem_info info = { 0 };
		TAP_OK(!err && !e2 && memcmp(got, "\x0avmcoreinfo", 11) == 0 &&
		       vf_migstream_mem_info(&m, &info) && info.compressed &&
		       strcmp(info.compressed, name) == 0,
		       "%s image: guest memory from the decompressed stream", name);
		vf_error_destroy(e2);
		vf_error_destroy(err);
		if (!err)
			vf_migstream_mem_deinit(&m);

		/* the compressed payload cut short */
		size_t cut = z.len / 2;
		lv_image(&lv, (uint32_t)f, z.p, cut);
		err = run(lv.p, lv.len, true, &st);
		TAP_OK(err && err->code == VF_ERR_CORRUPT && err->has_offset &&
		       err->offset == LV_STREAM + cut && msg_has(err, "truncated") &&
		       msg_has(err, name), "%s image cut short: corrupt at the file's end, "
		       "offset %zu (%s)", name, LV_STREAM + cut, err ? err->message : "no error");
		vf_error_destroy(err);
		vf_migstate_deinit(&st);
	}

	/* a header's format the stream's bytes deny: corrupt, both named */
	for (int f = LV_GZIP; f <= LV_ZSTD; f++) {
		lv_image(&lv, (uint32_t)f, b.p, b.len);
		err = run(lv.p, lv.len, true, &st);
		char want[96];
		snprintf(want, sizeof(want), "format %d says the QEMU stream is %s-compressed, but "
			 "the stream is an uncompressed QEMU stream", f, LV_NAME(f));
		TAP_OK(err && err->code == VF_ERR_CORRUPT && err->offset == LV_STREAM &&
		       msg_has(err, want), "format %d over a raw stream: corrupt at the stream (%s)",
		       f, err ? err->message : "no error");
		vf_error_destroy(err);
		vf_migstate_deinit(&st);
	}
	free(b.p);
	free(lv.p);
	free(z.p);
}

/* A file compressed whole: a bare stream (virsh dump with a
 * dump_image_format), a libvirt image, or something else. */
static void test_bare_compressed(void)
{
	struct buf b = { 0 }, lv = { 0 };
	struct opts o = good();
	build(&b, &o);
	struct vf_migstate st;
	for (int c = 0; c < VF_ZSRC_NCODECS; c++) {
		enum vf_zsrc_codec codec = (enum vf_zsrc_codec)c;
		const char *name = vf_zsrc_codec_name(codec);
		uint8_t *zp;
		size_t zn = pack_parts(codec, b.p, b.len, 1, &zp);
		if (!zn)
			continue;
		TAP_OK(vf_migstream_probe(zp, zn < 64 ? zn : 64), "probe: a %s file is mine (the "
		       "walk says what it holds)", name);
		/* guest memory through it */
		struct vf_mem m;
		struct vf_error *err = mem_of(zp, zn, NULL, &m);
		uint8_t got[11];
		struct vf_error *e2 = err ? NULL : vf_mem_read(&m, 2 * 4096 + 105, got, 11);
		struct vf_migstream_mem_info info = { 0 };
		TAP_OK(!err && !e2 && memcmp(got, "\x0avmcoreinfo", 11) == 0 &&
		       vf_migstream_mem_info(&m, &info) && info.compressed &&
		       strcmp(info.compressed, name) == 0,
		       "bare %s stream: guest memory from it (%s)", name,
		       err ? err->message : e2 ? e2->message : "ok");
		vf_error_destroy(e2);
		vf_error_destroy(err);
		if (!err)
			vf_migstream_mem_deinit(&m);
		/* cut short: the offset in the file, the codec named */
		err = run(zp, zn / 2, true, &st);
		TAP_OK(err && err->code == VF_ERR_CORRUPT && err->offset == zn / 2 &&
		       msg_has(err, "truncated") && msg_has(err, name),
		       "bare %s stream cut short: corrupt at the file's end (%s)", name,
		       err ? err->message : "no error");
		vf_error_destroy(err);
		vf_migstate_deinit(&st);
		free(zp);
		/* a libvirt image compressed whole: the same state as the image */
		lv_image(&lv, LV_RAW, b.p, b.len);
		struct vf_migstate raw;
		err = run(lv.p, lv.len, true, &raw);
		vf_error_destroy(err);
		zn = pack_parts(codec, lv.p, lv.len, 1, &zp);
		err = run(zp, zn, true, &st);
		TAP_OK(!err && st.libvirt && st.stream_offset == LV_STREAM && st.compressed &&
		       strcmp(st.compressed, name) == 0 && same_state(&raw, &st),
		       "a libvirt image compressed whole with %s: walked as the image (%s)", name,
		       err ? err->message : "ok");
		vf_error_destroy(err);
		vf_migstate_deinit(&st);
		vf_migstate_deinit(&raw);
		free(zp);
		/* what is neither: not a stream, its first bytes named */
		zn = pack_parts(codec, (const uint8_t *)"\x7f" "ELF\x02\x01\x01\x00\x00\x00", 10, 1,
				&zp);
		err = run(zp, zn, true, &st);
		TAP_OK(err && err->code == VF_ERR_NOT_FORMAT && msg_has(err, name) &&
		       msg_has(err, "once decompressed neither a QEMU migration stream nor a libvirt save image") &&
		       msg_has(err, "7f 45 4c 46"), "a %s file of something else: not a stream, "
		       "what it holds named (%s)", name, err ? err->message : "no error");
		vf_error_destroy(err);
		vf_migstate_deinit(&st);
		free(zp);
	}
	free(b.p);
	free(lv.p);
}

/* The bytes of a data page with seed s: byte i is s * 31 + i * 7. */
static void page_bytes(uint8_t *p, size_t ps, unsigned s)
{
	for (size_t i = 0; i < ps; i++)
		p[i] = (uint8_t)(s * 31 + i * 7);
}

struct ramstream {
	struct buf b;
	const char *block;    /* the main block's name */
	bool cont;            /* the last record named the block that comes next */
	const char *last;
	size_t last_record;   /* offset of the last record */
	size_t last_data;     /* offset of the last data page's bytes */
};

static void rs_name(struct ramstream *r, uint64_t v, const char *block)
{
	bool cont = r->last && strcmp(r->last, block) == 0;
	r->last_record = r->b.len;
	be64(&r->b, v | (cont ? 0x20 : 0));
	if (!cont)
		str8(&r->b, block);
	r->last = block;
}

static void rs_page(struct ramstream *r, const char *block, uint64_t addr, unsigned seed)
{
	uint8_t page[4096];
	rs_name(r, addr | 0x8, block);
	r->last_data = r->b.len;
	page_bytes(page, sizeof(page), seed);
	put(&r->b, page, sizeof(page));
}

static void rs_zero(struct ramstream *r, const char *block, uint64_t addr, uint8_t fill)
{
	rs_name(r, addr | 0x2, block);
	u8(&r->b, fill);
}

/* Header, configuration (machine), RAM block list (block of block_len and
 * vga.vram), first PART opened: records follow. */
static void rs_begin(struct ramstream *r, const char *machine, const char *block,
		     uint64_t block_len)
{
	r->b.len = 0;
	r->block = block;
	r->last = NULL;
	put(&r->b, "QEVM", 4);
	be32(&r->b, 3);
	u8(&r->b, 0x07);
	be32(&r->b, strlen(machine));
	put(&r->b, machine, strlen(machine));
	section_head(&r->b, 0x01, 2, "ram", 0, 4);
	be64(&r->b, (block_len + 0x10000) | 0x4);
	str8(&r->b, block);
	be64(&r->b, block_len);
	str8(&r->b, "vga.vram");
	be64(&r->b, 0x10000);
	be64(&r->b, 0x10);
	u8(&r->b, 0x7e);
	be32(&r->b, 2);
	u8(&r->b, 0x02);
	be32(&r->b, 2);
}

/* A new PART section (a new iteration of live migration). */
static void rs_part(struct ramstream *r)
{
	be64(&r->b, 0x10);
	u8(&r->b, 0x7e);
	be32(&r->b, 2);
	u8(&r->b, 0x02);
	be32(&r->b, 2);
	r->last = NULL;
}

static void rs_end(struct ramstream *r)
{
	be64(&r->b, 0x10);
	u8(&r->b, 0x7e);
	be32(&r->b, 2);
	section_head(&r->b, 0x04, 9, "kvmclock", 0, 1);
	be64(&r->b, 0x123456789);
	u8(&r->b, 1);
	u8(&r->b, 0x7e);
	be32(&r->b, 9);
	u8(&r->b, 0x00);
}

/* Does a read of len bytes at paddr give the data page seed's bytes from in? */
static bool reads_page(struct vf_mem *m, uint64_t paddr, size_t len, unsigned seed, size_t in)
{
	uint8_t page[4096], got[4096];
	page_bytes(page, sizeof(page), seed);
	struct vf_error *err = vf_mem_read(m, paddr, got, len);
	if (err) {
		char *e = vf_error_string(err);
		printf("#   read 0x%" PRIx64 ": %s\n", paddr, e ? e : "?");
		free(e);
		vf_error_destroy(err);
		return false;
	}
	return memcmp(got, page + in, len) == 0;
}

static bool reads_fill(struct vf_mem *m, uint64_t paddr, size_t len, uint8_t fill)
{
	uint8_t got[8192];
	struct vf_error *err = vf_mem_read(m, paddr, got, len);
	if (err) {
		vf_error_destroy(err);
		return false;
	}
	for (size_t i = 0; i < len; i++)
		if (got[i] != fill)
			return false;
	return true;
}

/* The read fails with code; the error names paddr as a physical address. */
static bool read_fails(struct vf_mem *m, uint64_t paddr, size_t len, enum vf_err_code code,
		       const char *msg)
{
	uint8_t got[8192];
	struct vf_error *err = vf_mem_read(m, paddr, got, len);
	bool ok = err && err->code == code && (!msg || msg_has(err, msg));
	if (err && !ok)
		printf("#   code %d: %s\n", err->code, err->message);
	if (!err)
		printf("#   the read succeeded\n");
	vf_error_destroy(err);
	return ok;
}

static bool read_fails_at(struct vf_mem *m, uint64_t paddr, uint64_t at, enum vf_err_code code)
{
	uint8_t got[8192];
	struct vf_error *err = vf_mem_read(m, paddr, got, 8192);
	bool ok = err && err->code == code && err->has_offset && err->offset_is_paddr &&
		  err->offset == at;
	if (err && !ok)
		printf("#   code %d at 0x%" PRIx64 ": %s\n", err->code, err->offset, err->message);
	vf_error_destroy(err);
	return ok;
}

/* Overlapping runs (issue 12): one big run, then many small ones over it in
 * later passes, in any order: each page reads as its last record, and a
 * lookup is a binary search over disjoint segments (no walk back). */
static void test_mem_overlaps(void)
{
	enum { NP = 256 };
	const uint64_t P = 4096;
	struct ramstream r = { 0 };
	int kind[NP];            /* 0 never sent, 1 data (seed), 2 zero (fill) */
	unsigned val[NP];
	memset(kind, 0, sizeof(kind));
	rs_begin(&r, "pc-q35-7.2", "pc.ram", NP * P);
	for (unsigned i = 0; i < NP - 16; i++) {   /* one run: pages 0..239 */
		rs_page(&r, "pc.ram", i * P, i);
		kind[i] = 1, val[i] = i;
	}
	rs_part(&r);
	for (unsigned i = 64; i < 192; i++) {      /* a zero run inside it */
		rs_zero(&r, "pc.ram", i * P, 0x11);
		kind[i] = 2, val[i] = 0x11;
	}
	rs_part(&r);
	for (unsigned i = 0; i < NP; i += 3) {     /* every third page again */
		rs_page(&r, "pc.ram", i * P, 1000 + i);
		kind[i] = 1, val[i] = 1000 + i;
	}
	rs_part(&r);
	for (unsigned i = 200; i >= 100; i -= 7) { /* backwards, single pages */
		rs_zero(&r, "pc.ram", i * P, 0x22);
		kind[i] = 2, val[i] = 0x22;
	}
	rs_end(&r);
	struct vf_mem m;
	struct vf_error *err = mem_of(r.b.p, r.b.len, "0:0:0x100000", &m);
	TAP_OK(!err, "overlapping runs: the stream opens as memory");
	vf_error_destroy(err);
	if (err) {
		free(r.b.p);
		return;
	}
	unsigned bad = 0;
	for (unsigned i = 0; i < NP; i++) {
		bool ok = kind[i] == 0 ? read_fails(&m, i * P, P, VF_ERR_NOT_PRESENT, "never sent")
			: kind[i] == 1 ? reads_page(&m, i * P, P, val[i], 0)
				       : reads_fill(&m, i * P, P, (uint8_t)val[i]);
		if (!ok && bad++ < 4)
			printf("#   page %u (kind %d) reads wrong\n", i, kind[i]);
	}
	TAP_OK(bad == 0, "overlapping runs: every page reads as its last record (%u wrong)", bad);
	vf_migstream_mem_deinit(&m);
	free(r.b.p);
}

static void test_mem(struct buf *old, const struct opts *oo)
{
	struct ramstream r = { 0 };
	struct vf_mem m;
	struct vf_migstream_mem_info info;
	struct vf_error *err;
	const uint64_t P = 4096;

	/* the preset of a machine type */
	TAP_EQ_STR(vf_migstream_machine_layout("pc-q35-7.2"), "q35", "machine pc-q35-7.2: q35");
	TAP_EQ_STR(vf_migstream_machine_layout("pc-i440fx-7.2"), "pc", "pc-i440fx-7.2: pc");
	TAP_EQ_STR(vf_migstream_machine_layout("pc-1.0"), "pc", "pc-1.0: pc");
	TAP_EQ_STR(vf_migstream_machine_layout("virt-7.2"), "virt", "virt-7.2: virt");
	TAP_OK(vf_migstream_machine_layout("microvm") == NULL &&
	       vf_migstream_machine_layout("pcx") == NULL &&
	       vf_migstream_machine_layout("") == NULL, "microvm, pcx, '': no preset");

	/* ------ pages in order, a page sent again, zero pages, pages never sent */
	rs_begin(&r, "pc-q35-7.2", "pc.ram", 0x100000);
	for (unsigned i = 0; i < 4; i++)          /* pages 0-3: data, one run */
		rs_page(&r, "pc.ram", i * P, 10 + i);
	rs_zero(&r, "pc.ram", 4 * P, 0);          /* 4: zero */
	rs_zero(&r, "pc.ram", 5 * P, 0xaa);       /* 5: filled with 0xaa */
	rs_page(&r, "vga.vram", 0, 99);           /* another block: not mapped */
	rs_page(&r, "pc.ram", 6 * P, 16);         /* 6: data, then zero */
	rs_page(&r, "pc.ram", 8 * P, 18);         /* 8: zero, then data */
	rs_part(&r);                              /* the next iteration: dirty pages again */
	rs_page(&r, "pc.ram", 1 * P, 41);         /* 1 sent again */
	rs_page(&r, "pc.ram", 2 * P, 42);         /* 2 sent again */
	rs_zero(&r, "pc.ram", 6 * P, 0);
	rs_zero(&r, "pc.ram", 8 * P, 0);
	rs_page(&r, "pc.ram", 8 * P, 48);         /* 8 sent a third time */
	rs_page(&r, "pc.ram", 0xff * P, 55);      /* the block's last page */
	rs_end(&r);
	err = mem_of(r.b.p, r.b.len, NULL, &m);
	TAP_OK(!err, "memory from a q35 stream opens");
	TAP_OK(!err && vf_migstream_mem_info(&m, &info) && strcmp(info.block, "pc.ram") == 0 &&
	       strcmp(info.layout, "q35") == 0 && info.records == 14 && info.block_length == 0x100000,
	       "block pc.ram, layout q35 from the machine type, 14 records");
	TAP_EQ_U64(info.runs, 10, "pages 0-3 form one run; 10 runs");
	TAP_OK(m.nranges == 1 && m.ranges[0].start == 0 && m.ranges[0].size == 0x100000 &&
	       m.page_size == 4096 && strcmp(m.name, "migration stream") == 0,
	       "one range, GPA 0 - 1 MiB, 4 KiB pages");
	TAP_OK(reads_page(&m, 0, P, 10, 0) && reads_page(&m, 3 * P, P, 13, 0),
	       "pages 0 and 3 of a run read their data");
	TAP_OK(reads_page(&m, 1 * P, P, 41, 0) && reads_page(&m, 2 * P + 100, 50, 42, 100),
	       "pages 1 and 2 sent twice: the last record wins");
	TAP_OK(reads_fill(&m, 4 * P, P, 0), "a zero page reads zeros");
	TAP_OK(reads_fill(&m, 5 * P + 7, 100, 0xaa), "a zero page with fill byte 0xaa reads 0xaa");
	TAP_OK(reads_fill(&m, 6 * P, P, 0), "data, then a zero page: zeros");
	TAP_OK(reads_page(&m, 8 * P, P, 48, 0), "data, zero, data again: the last data");
	TAP_OK(reads_page(&m, 0xff * P, P, 55, 0), "the block's last page");
	TAP_OK(read_fails_at(&m, 7 * P + 5, 7 * P + 5, VF_ERR_NOT_PRESENT),
	       "a page never sent: not present, at its physical address");
	TAP_OK(read_fails(&m, 7 * P, 1, VF_ERR_NOT_PRESENT, "never sent"), "... saying so");
	TAP_OK(read_fails(&m, 0x100000, 1, VF_ERR_NOT_PRESENT, "not in RAM block 'pc.ram'"),
	       "past the block: not present");
	TAP_OK(read_fails_at(&m, 6 * P, 7 * P, VF_ERR_NOT_PRESENT),
	       "a read running into a page never sent fails there");
	{
		/* spanning pages: end of 3 (data), 4 (zero), start of 5 (0xaa) */
		uint8_t got[2 * 4096 + 200], want[sizeof(got)];
		page_bytes(want, P, 13);
		memmove(want, want + P - 100, 100);
		memset(want + 100, 0, P);
		memset(want + 100 + P, 0xaa, 100);
		err = vf_mem_read(&m, 4 * P - 100, got, P + 200);
		TAP_OK(!err && memcmp(got, want, P + 200) == 0,
		       "a read spanning three pages of three kinds");
		vf_error_destroy(err);
		page_bytes(want, P, 10);
		page_bytes(want + P, P, 41);
		err = vf_mem_read(&m, 0, got, 2 * P);
		TAP_OK(!err && memcmp(got, want, 2 * P) == 0,
		       "a read spanning a run and a page sent again");
		vf_error_destroy(err);
	}
	vf_migstream_mem_deinit(&m);
	vf_migstream_mem_deinit(&m);
	TAP_OK(m.ops == NULL, "close twice is harmless");

	/* an explicit layout: the block's second half at GPA 16 MiB */
	err = mem_of(r.b.p, r.b.len, "0x80000:0x1000000:0x80000", &m);
	TAP_OK(!err && reads_page(&m, 0x1000000 + 0x7f * P, P, 55, 0) &&
	       read_fails(&m, 0, 1, VF_ERR_NOT_PRESENT, NULL),
	       "explicit ranges: block offset 0xff000 at GPA 0x107f000");
	vf_migstream_mem_deinit(&m);
	err = mem_of(r.b.p, r.b.len, "0:0:2M", &m);
	TAP_OK(err && err->code == VF_ERR_INVALID && msg_has(err, "RAM block 'pc.ram'") &&
	       err->hint, "a layout past the block's end: refused, naming the block");
	vf_error_destroy(err);
	vf_migstream_mem_deinit(&m);

	/* ------ q35 split: 4 GiB of pc.ram, 2 GiB below 4 GiB */
	rs_begin(&r, "pc-q35-7.2", "pc.ram", 4ull << 30);
	rs_page(&r, "pc.ram", 0x7ffff000, 1);
	rs_page(&r, "pc.ram", 0x80000000, 2);
	rs_page(&r, "pc.ram", 0x80001000, 3);
	rs_end(&r);
	err = mem_of(r.b.p, r.b.len, NULL, &m);
	TAP_OK(!err && m.nranges == 2 && m.ranges[1].start == 0x100000000 &&
	       m.ranges[1].size == 0x80000000, "q35, 4 GiB: 2 GiB at 0, 2 GiB at 4 GiB");
	TAP_OK(reads_page(&m, 0x7ffff000, P, 1, 0), "block offset 0x7ffff000 at GPA 0x7ffff000");
	TAP_OK(reads_page(&m, 0x100000000, P, 2, 0),
	       "block offset 0x80000000 at GPA 0x100000000");
	TAP_OK(reads_page(&m, 0x100001000, P, 3, 0), "and the next page after it");
	TAP_OK(read_fails(&m, 0x80000000, 1, VF_ERR_NOT_PRESENT, "not in RAM block"),
	       "GPA 0x80000000 (the PCI hole) is not RAM");
	vf_migstream_mem_deinit(&m);
	/* the same stream as i440fx: 3 GiB below 4 GiB */
	memcpy(r.b.p + 13, "pc-i440fx-7", 10);    /* "pc-q35-7.2" -> "pc-i440fx-" */
	err = mem_of(r.b.p, r.b.len, NULL, &m);
	TAP_OK(!err && vf_migstream_mem_info(&m, &info) && strcmp(info.layout, "pc") == 0 &&
	       reads_page(&m, 0x80000000, P, 2, 0) && m.ranges[1].start == 0x100000000 &&
	       m.ranges[1].size == 0x40000000, "machine pc-i440fx-: pc, 3 GiB below 4 GiB");
	vf_migstream_mem_deinit(&m);
	memcpy(r.b.p + 13, "microvm-7.", 10);
	err = mem_of(r.b.p, r.b.len, NULL, &m);
	TAP_OK(err && err->code == VF_ERR_UNSUPPORTED && msg_has(err, "microvm") && err->hint &&
	       strstr(err->hint, "FILEOFF"), "an unknown machine type: asks for the layout");
	vf_error_destroy(err);
	vf_migstream_mem_deinit(&m);
	err = mem_of(r.b.p, r.b.len, "q35", &m);
	TAP_OK(!err && reads_page(&m, 0x100000000, P, 2, 0),
	       "an unknown machine type with layout q35");
	vf_migstream_mem_deinit(&m);

	/* ------ arm virt: mach-virt.ram at 1 GiB */
	rs_begin(&r, "virt-7.2", "mach-virt.ram", 0x100000);
	rs_page(&r, "mach-virt.ram", 0x2000, 7);
	rs_end(&r);
	err = mem_of(r.b.p, r.b.len, NULL, &m);
	TAP_OK(!err && reads_page(&m, 0x40002000, P, 7, 0) &&
	       read_fails(&m, 0x2000, 1, VF_ERR_NOT_PRESENT, NULL),
	       "virt: mach-virt.ram offset 0x2000 at GPA 0x40002000");
	vf_migstream_mem_deinit(&m);

	/* ------ compressed and XBZRLE pages: reads of them unsupported */
	rs_begin(&r, "pc-q35-7.2", "pc.ram", 0x100000);
	rs_page(&r, "pc.ram", 0, 1);
	rs_page(&r, "pc.ram", P, 2);
	size_t comp = r.b.len;
	rs_name(&r, P | 0x100, "pc.ram");         /* page 1 again, compressed */
	be32(&r.b, 3);
	put(&r.b, "xyz", 3);
	size_t xb = r.b.len;
	rs_name(&r, 2 * P | 0x40, "pc.ram");      /* page 2, XBZRLE */
	u8(&r.b, 1);
	be16(&r.b, 2);
	put(&r.b, "ab", 2);
	rs_end(&r);
	err = mem_of(r.b.p, r.b.len, NULL, &m);
	TAP_OK(!err && reads_page(&m, 0, P, 1, 0), "a stream with compressed pages opens");
	{
		uint8_t got[16];
		char off[32];
		snprintf(off, sizeof(off), "0x%zx", comp);
		err = vf_mem_read(&m, P + 8, got, 8);
		TAP_OK(err && err->code == VF_ERR_UNSUPPORTED && msg_has(err, "compressed") &&
		       msg_has(err, off) && err->hint && err->offset_is_paddr && err->offset == P + 8,
		       "a page last sent compressed: unsupported, naming its record at %s", off);
		vf_error_destroy(err);
		snprintf(off, sizeof(off), "0x%zx", xb);
		err = vf_mem_read(&m, 2 * P, got, 8);
		TAP_OK(err && err->code == VF_ERR_UNSUPPORTED && msg_has(err, "XBZRLE") &&
		       msg_has(err, off), "a page last sent as an XBZRLE delta: unsupported at %s", off);
		vf_error_destroy(err);
	}
	vf_migstream_mem_deinit(&m);

	/* ------ truncated page data: the open fails at the page's offset */
	rs_begin(&r, "pc-q35-7.2", "pc.ram", 0x100000);
	rs_page(&r, "pc.ram", 0, 1);
	rs_page(&r, "pc.ram", P, 2);
	err = mem_of(r.b.p, r.last_data + 100, NULL, &m);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && msg_has(err, "truncated") && err->has_offset &&
	       !err->offset_is_paddr && err->offset == r.last_data,
	       "page data cut short: truncated at the page's file offset");
	vf_error_destroy(err);
	vf_migstream_mem_deinit(&m);
	/* a record beyond the block: corrupt at the record */
	rs_begin(&r, "pc-q35-7.2", "pc.ram", 0x100000);
	rs_page(&r, "pc.ram", 0x100000, 1);
	rs_end(&r);
	err = mem_of(r.b.p, r.b.len, NULL, &m);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->offset == r.last_record,
	       "a page record past the block's end: corrupt at the record");
	vf_error_destroy(err);
	vf_migstream_mem_deinit(&m);

	/* ------ a hostile number of runs: zero pages alternating fill bytes */
	rs_begin(&r, "pc-q35-7.2", "pc.ram", 4ull << 30);
	size_t cap = 1u << 19, nth = 0;
	for (size_t i = 0; i <= cap; i++) {
		if (i == cap)
			nth = r.b.len;
		rs_zero(&r, "pc.ram", i * P, (uint8_t)(i & 1));
	}
	rs_end(&r);
	err = mem_of(r.b.p, r.b.len, NULL, &m);
	TAP_OK(err && err->code == VF_ERR_UNSUPPORTED && msg_has(err, "runs") && err->has_offset &&
	       err->offset == nth && err->hint,
	       "2^19 + 1 runs: unsupported at the record that makes one too many");
	vf_error_destroy(err);
	vf_migstream_mem_deinit(&m);
	/* the same pages with one fill byte: one run */
	rs_begin(&r, "pc-q35-7.2", "pc.ram", 4ull << 30);
	for (size_t i = 0; i <= cap; i++)
		rs_zero(&r, "pc.ram", i * P, 0);
	rs_end(&r);
	err = mem_of(r.b.p, r.b.len, NULL, &m);
	TAP_OK(!err && vf_migstream_mem_info(&m, &info) && info.runs == 1 &&
	       reads_fill(&m, 0x7ffff000, P, 0) && reads_fill(&m, 0x100000000, P, 0) &&
	       read_fails(&m, 0x100001000, 1, VF_ERR_NOT_PRESENT, "never sent"),
	       "2^19 + 1 zero pages in order: one run, across the q35 split");
	vf_migstream_mem_deinit(&m);
	free(r.b.p);

	/* ------ the scan's stream: pages 0 and 2 data (decoys), page 1 zero */
	err = mem_of(old->p, old->len, NULL, &m);
	TAP_OK(!err && vf_migstream_mem_info(&m, &info) && info.records == 3 &&
	       reads_fill(&m, P, P, 0) && read_fails(&m, 3 * P, 1, VF_ERR_NOT_PRESENT, NULL),
	       "the scan's stream: its 3 pc.ram records, walked to EOF");
	{
		uint8_t got[16];
		err = vf_mem_read(&m, 2 * P + 100 + 5, got, 11);
		TAP_OK(!err && memcmp(got, "\x0avmcoreinfo", 11) == 0,
		       "page 2 reads its bytes (file offset 0x%zx)", oo->page2_payload);
		vf_error_destroy(err);
	}
	vf_migstream_mem_deinit(&m);
}

/* ---------------------------------------------------------------- the cpu description */

/* A stream of nothing (EOF) whose JSON description is json; scanned into st. */
static struct vf_error *desc_only(const char *json, struct vf_migstate *st)
{
	struct buf b = { 0 };
	put(&b, "QEVM", 4);
	be32(&b, 3);
	u8(&b, 0x00);
	u8(&b, 0x06);
	be32(&b, (uint32_t)strlen(json));
	put(&b, json, strlen(json));
	struct vf_error *err = run(b.p, b.len, false, st);
	free(b.p);
	return err;
}

/* A "cpu" device of nfields fields and nsubs subsections, appended to out. */
static void cpu_device(struct buf *out, size_t nfields, size_t nsubs)
{
	char one[160];
	put(out, "{\"name\": \"cpu\", \"instance_id\": 0, \"vmsd_name\": \"cpu\", "
	    "\"version\": 22, \"fields\": [", strlen("{\"name\": \"cpu\", \"instance_id\": 0, "
	    "\"vmsd_name\": \"cpu\", \"version\": 22, \"fields\": ["));
	for (size_t i = 0; i < nfields; i++) {
		snprintf(one, sizeof(one), "%s{\"name\": \"f%zu\", \"type\": \"uint64\", "
			 "\"size\": 8}", i ? ", " : "", i);
		put(out, one, strlen(one));
	}
	put(out, "], \"subsections\": [", strlen("], \"subsections\": ["));
	for (size_t i = 0; i < nsubs; i++) {
		snprintf(one, sizeof(one), "%s{\"vmsd_name\": \"cpu/s%zu\", \"version\": 1, "
			 "\"fields\": [{\"name\": \"x\", \"type\": \"uint32\", \"size\": 4}]}",
			 i ? ", " : "", i);
		put(out, one, strlen(one));
	}
	put(out, "]}", 2);
}

static void test_cpu_description(void)
{
	struct vf_migstate st;
	/* the first cpu device: fields (arrays, a struct's element size), its
	 * subsections with theirs, one with a subsection of its own; a name too
	 * long for the list is kept as "" */
	const char *json = "{\"page_size\": 4096, \"devices\": [{\"name\": \"timer\", "
		"\"instance_id\": 0, \"vmsd_name\": \"timer\", \"version\": 2, \"fields\": "
		"[{\"name\": \"t\", \"type\": \"int64\", \"size\": 8}]}, {\"name\": \"cpu\", "
		"\"instance_id\": 0, \"vmsd_name\": \"cpu\", \"version\": 22, \"fields\": ["
		"{\"name\": \"env.xregs\", \"array_len\": 32, \"type\": \"uint64\", \"size\": 8}, "
		"{\"name\": \"cpsr\", \"type\": \"cpsr\", \"size\": 4}, "
		"{\"name\": \"a_name_longer_than_the_forty_eight_bytes_kept_of_one\", "
		"\"type\": \"uint8\", \"size\": 1}], \"subsections\": [{\"vmsd_name\": "
		"\"cpu/vfp\", \"version\": 3, \"fields\": [{\"name\": \"fpscr\", \"type\": "
		"\"fpscr\", \"size\": 4}], \"subsections\": [{\"vmsd_name\": \"cpu/vfp/x\", "
		"\"version\": 1, \"fields\": [{\"name\": \"y\", \"type\": \"uint64\", \"size\": "
		"8}]}]}, {\"vmsd_name\": \"cpu/sve\", \"version\": 1, \"fields\": [{\"name\": "
		"\"env.vfp.zregs\", \"array_len\": 32, \"type\": \"struct\", \"struct\": "
		"{\"vmsd_name\": \"cpu/sve/zreg_hi\", \"version\": 1, \"fields\": [{\"name\": "
		"\"d\", \"array_len\": 14, \"type\": \"uint64\", \"size\": 8}]}, \"size\": 112}]}]}, "
		"{\"name\": \"cpu\", \"instance_id\": 1, \"vmsd_name\": \"cpu\", \"version\": 21, "
		"\"fields\": [{\"name\": \"other\", \"type\": \"uint64\", \"size\": 8}]}]}";
	struct vf_error *err = desc_only(json, &st);
	const struct vf_mig_cpu_desc *d = &st.cpu_desc;
	TAP_OK(!err && st.has_description && st.cpu_desc_listed && !d->problem,
	       "cpu description: read");
	TAP_OK(d->version == 22 && d->nmain == 3 && d->nfields == 5, "cpu description: the first "
	       "cpu device's 3 fields and its subsections' 2 (a nested one's not)");
	TAP_OK(d->fields && strcmp(d->fields[0].name, "env.xregs") == 0 && d->fields[0].size == 8 &&
	       d->fields[0].count == 32 && strcmp(d->fields[1].name, "cpsr") == 0 &&
	       d->fields[1].size == 4 && d->fields[1].count == 1,
	       "cpu description: names, element sizes and counts");
	TAP_OK(d->fields && d->fields[2].name[0] == 0 && d->fields[2].size == 1,
	       "cpu description: a name too long is kept as \"\" with its size");
	TAP_OK(d->nsubs == 2 && strcmp(d->subs[0].name, "cpu/vfp") == 0 && d->subs[0].version == 3 &&
	       d->subs[0].first == 3 && d->subs[0].n == 1 && d->subs[0].nested &&
	       strcmp(d->subs[1].name, "cpu/sve") == 0 && d->subs[1].first == 4 &&
	       d->subs[1].n == 1 && !d->subs[1].nested && d->fields[4].size == 112 &&
	       d->fields[4].count == 32, "cpu description: subsections, with their fields; the "
	       "nested one marked");
	vf_migstate_deinit(&st);
	vf_error_destroy(err);

	/* the bounds: fields, subsections; a field without a size */
	struct buf j = { 0 };
	put(&j, "{\"devices\": [", 13);
	cpu_device(&j, VF_MIG_DESC_FIELDS_MAX + 1, 0);
	put(&j, "]}", 3);
	err = desc_only((const char *)j.p, &st);
	TAP_OK(!err && st.cpu_desc_listed && st.cpu_desc.problem &&
	       strstr(st.cpu_desc.problem, "more fields") && st.cpu_desc.nfields ==
	       VF_MIG_DESC_FIELDS_MAX, "cpu description: past the field limit, unusable, bounded");
	vf_migstate_deinit(&st);
	vf_error_destroy(err);
	j.len = 0;
	put(&j, "{\"devices\": [", 13);
	cpu_device(&j, 2, VF_MIG_DESC_SUBS_MAX + 1);
	put(&j, "]}", 3);
	err = desc_only((const char *)j.p, &st);
	TAP_OK(!err && st.cpu_desc.problem && strstr(st.cpu_desc.problem, "more subsections") &&
	       st.cpu_desc.nsubs == VF_MIG_DESC_SUBS_MAX,
	       "cpu description: past the subsection limit, unusable, bounded");
	vf_migstate_deinit(&st);
	vf_error_destroy(err);
	free(j.p);
	err = desc_only("{\"devices\": [{\"name\": \"cpu\", \"version\": 22, \"fields\": "
			"[{\"name\": \"env.pc\", \"type\": \"uint64\"}]}]}", &st);
	TAP_OK(!err && st.cpu_desc.problem && strstr(st.cpu_desc.problem, "without a name or size"),
	       "cpu description: a field without a size makes it unusable");
	vf_migstate_deinit(&st);
	vf_error_destroy(err);
}

int main(void)
{
	struct buf b = { 0 };
	struct vf_migstate st;
	struct vf_region r;
	struct vf_error *err;

	/* ---------------- the normal case */
	struct opts o = good();
	build(&b, &o);
	TAP_OK(vf_migstream_probe(b.p, b.len), "probe: QEVM is mine");
	TAP_OK(!vf_migstream_probe((const uint8_t *)"QEMU VM\n", 8), "probe: other bytes are not");
	err = run(b.p, b.len, true, &st);
	TAP_OK(!err && st.found, "the vmcoreinfo section is found");
	TAP_EQ_U64(st.section_offset, o.vmci_section, "its section header offset");
	TAP_EQ_U64(st.state_offset, o.vmci_state, "its state offset");
	TAP_EQ_U64(st.section_id, 7, "its section id");
	TAP_OK(st.has_vmcoreinfo, "has_vmcoreinfo");
	TAP_EQ_U64(st.guest_format, 1, "guest_format");
	TAP_EQ_U64(st.size, 0x1024, "size");
	TAP_EQ_U64(st.paddr, 0x13ae000, "paddr");
	TAP_OK(!st.host_big_endian, "a little-endian host's stream");
	TAP_EQ_STR(st.machine, "pc-q35-7.2", "the machine type from the configuration section");
	TAP_OK(st.nramblocks == 2 && strcmp(st.ramblocks[0].idstr, "pc.ram") == 0 &&
	       st.ramblocks[0].length == 0x100000 &&
	       strcmp(st.ramblocks[1].idstr, "/rom@etc/acpi/tables") == 0 &&
	       st.ramblocks[1].length == 0x20000, "the RAM block list");
	TAP_EQ_U64(st.ram_total, 0x120000, "the RAM total");
	TAP_EQ_U64(st.ram_pages, 3, "three page records stepped over");
	TAP_EQ_U64(st.ram_zero_pages, 1, "one zero page");
	TAP_OK(st.footers == 1 && !st.scanned, "walked with footers, nothing searched");
	TAP_OK(st.has_description && st.description_has_vmcoreinfo &&
	       st.description_page_size == 4096, "the JSON description is read");
	TAP_EQ_STR(st.page_size_from, "description", "page size from the description");
	TAP_EQ_U64(st.page_size, 4096, "page size 4096");
	err = vf_migstream_region(&st, &r);
	TAP_OK(!err && r.paddr == 0x13ae000 && r.size == 0x1024 &&
	       r.origin == VF_REGION_MIGSTREAM, "the region, origin migration stream");
	TAP_EQ_STR(vf_region_origin_name(r.origin), "vmcoreinfo device state in the migration stream",
		   "the origin's name");
	vf_migstate_deinit(&st);

	/* ---------------- guest memory from the RAM pages */
	test_mem(&b, &o);
	test_mem_overlaps();
	struct vf_mem m;
	o = good();
	o.no_footers = true;
	build(&b, &o);
	err = mem_of(b.p, b.len, NULL, &m);
	TAP_OK(err && err->code == VF_ERR_UNSUPPORTED && msg_has(err, "footer") && err->hint,
	       "memory from a stream without footers: unsupported");
	vf_error_destroy(err);
	vf_migstream_mem_deinit(&m);

	/* ---------------- a description of more than 64 KiB */
	o = good();
	o.big_json = true;
	o.page_bits = 0;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(!err && st.found && st.has_description && st.description_size > 150000 &&
	       st.description_has_vmcoreinfo && st.description_page_size == 4096,
	       "a 150 KiB description is found from the end");
	vf_migstate_deinit(&st);

	/* ---------------- without the JSON description: the default page size */
	o = good();
	o.no_json = true;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(!err && st.found && st.paddr == 0x13ae000 && !st.has_description,
	       "found without a description");
	TAP_EQ_STR(st.page_size_from, "default", "page size: the default");
	vf_migstate_deinit(&st);

	/* ---------------- 8 KiB target pages from the configuration */
	o = good();
	o.page_bits = 13;
	o.no_json = true;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(!err && st.found && st.page_size == 8192 && st.ram_pages == 3 &&
	       st.paddr == 0x13ae000, "target-page-bits 13: 8 KiB pages stepped over");
	TAP_EQ_STR(st.page_size_from, "configuration", "page size from the configuration");
	vf_migstate_deinit(&st);

	/* ---------------- x-ignore-shared: each block carries an address */
	o = good();
	o.ignore_shared = true;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(!err && st.found && st.ignore_shared && st.nramblocks == 2,
	       "x-ignore-shared block list");
	vf_migstate_deinit(&st);

	/* ---------------- a big-endian host's stream */
	o = good();
	o.be_host = true;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(!err && st.found && st.host_big_endian && st.guest_format == 1 &&
	       st.size == 0x1024 && st.paddr == 0x13ae000, "a big-endian host's values swapped back");
	vf_migstate_deinit(&st);

	/* ---------------- no footers (machine types up to 2.3): searched */
	o = good();
	o.no_footers = true;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(!err && st.found && st.footers == 0 && st.scanned,
	       "without footers: the device is found by searching");
	TAP_OK(st.paddr == 0x13ae000 && st.size == 0x1024 && st.section_offset == o.vmci_section,
	       "the search skips the decoy (version 2) and RAM pages");
	vf_migstate_deinit(&st);

	/* ---------------- the guest never wrote etc/vmcoreinfo */
	o = good();
	o.has = 0;
	o.host = 1;
	o.guest = 0;
	o.size = 0;
	o.paddr = 0;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(!err && st.found && !st.has_vmcoreinfo && st.host_format == 1 && st.guest_format == 0,
	       "nofwcfg: the state says so");
	err = vf_migstream_region(&st, &r);
	TAP_OK(err && err->code == VF_ERR_REFUSED && msg_has(err, "never wrote") && err->hint,
	       "nofwcfg: refused with a hint");
	TAP_OK(err && err->has_offset && err->offset == o.vmci_state,
	       "the refusal names the state's offset");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);

	/* has_vmcoreinfo 0 although the format is set: a partial write */
	o = good();
	o.has = 0;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	err = err ? err : vf_migstream_region(&st, &r);
	TAP_OK(err && err->code == VF_ERR_REFUSED && msg_has(err, "partial"),
	       "has_vmcoreinfo 0, guest_format 1: refused");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);

	/* guest_format 2 */
	o = good();
	o.guest = 2;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	err = err ? err : vf_migstream_region(&st, &r);
	TAP_OK(err && err->code == VF_ERR_REFUSED && msg_has(err, "not supported") &&
	       err->has_offset, "guest_format 2: refused by the fw_cfg rules");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);

	/* size of 1 MiB */
	o = good();
	o.size = 1u << 20;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	err = err ? err : vf_migstream_region(&st, &r);
	TAP_OK(err && err->code == VF_ERR_REFUSED && msg_has(err, "1 MiB"), "1 MiB note: refused");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);

	/* ---------------- no device */
	o = good();
	o.no_device = true;
	o.json_without_vmci = true;
	build(&b, &o);
	err = run(b.p, b.len, false, &st);
	TAP_OK(!err && !st.found && st.reached_eof && st.nsections == 6,
	       "no device: the walk reaches EOF (6 sections)");
	vf_migstate_deinit(&st);
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND && msg_has(err, "no -device vmcoreinfo") &&
	       err->hint, "no device: said plainly");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);
	o = good();
	o.no_device = true;
	o.no_footers = true;
	o.json_without_vmci = true;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND && st.scanned,
	       "no device, no footers: searched, not found");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);

	/* the description lists the device, the stream has none */
	o = good();
	o.no_device = true;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && msg_has(err, "lists a vmcoreinfo device") &&
	       err->has_offset, "the description lists the device, the stream has none: corrupt");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);
	/* found by searching, but the description has no such device */
	o = good();
	o.no_footers = true;
	o.json_without_vmci = true;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->offset == o.vmci_section,
	       "a searched-for section the description does not list: corrupt");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);

	/* ---------------- version 2 of the device state */
	o = good();
	o.vmci_version = 2;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_UNSUPPORTED && err->has_offset &&
	       err->offset == o.vmci_section, "vmcoreinfo version 2: unsupported, at its offset");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);

	/* ---------------- truncated */
	o = good();
	build(&b, &o);
	err = run(b.p, o.page2_payload + 100, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && msg_has(err, "truncated") &&
	       err->has_offset && err->offset == o.page2_payload,
	       "cut inside a RAM page: truncated at the page's offset");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);
	err = run(b.p, o.vmci_state + 5, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->has_offset,
	       "cut inside the vmcoreinfo state: corrupt");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);
	size_t cuts[] = { 2, 6, 9, 15, 30 };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(*cuts); i++) {
		err = run(b.p, cuts[i], true, &st);
		TAP_OK(err && err->code == VF_ERR_CORRUPT && err->has_offset && err->offset <= cuts[i],
		       "cut after %zu bytes: corrupt, offset 0x%" PRIx64, cuts[i],
		       err ? err->offset : 0);
		vf_error_destroy(err);
		vf_migstate_deinit(&st);
	}

	/* ---------------- corrupt */
	o = good();
	build(&b, &o);
	b.p[o.bad_block_record + 8 + 2] ^= 0x20;     /* "/Rom@..." */
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && msg_has(err, "block") &&
	       err->offset == o.bad_block_record, "a record naming an unknown block, at its offset");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);

	build(&b, &o);
	vf_store_uint(b.p + o.bad_block_record, 8, true, 0x20000 | 0x8);
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && msg_has(err, "0x20000 bytes") &&
	       err->offset == o.bad_block_record, "a page beyond its block's end, at the record");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);

	build(&b, &o);
	b.p[o.ram_end_footer + 4] = 0x09;            /* footer names section 9 */
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && msg_has(err, "footer") &&
	       err->offset == o.ram_end_footer, "a footer naming another section, at its offset");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);

	build(&b, &o);
	b.p[o.ram_end_footer] = 0x42;
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->offset == o.ram_end_footer,
	       "a missing footer, at its offset");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);

	build(&b, &o);
	b.p[o.bad_block_record + 7] |= 0x1;          /* flags 0x9: two kinds at once */
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->offset == o.bad_block_record,
	       "RAM flags of two kinds: corrupt at the record");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);

	build(&b, &o);
	b.p[o.vmci_state] = 7;
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->offset == o.vmci_state &&
	       msg_has(err, "not a bool"), "has_vmcoreinfo 7: corrupt at the state");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);

	/* an unknown section type where a section is due */
	build(&b, &o);
	b.p[o.ram_end_footer + 5] = 0x42;
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->offset == o.ram_end_footer + 5 &&
	       msg_has(err, "section type"), "an unknown section type, at its offset");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);

	/* a hostile block length */
	build(&b, &o);
	memset(b.p + o.block_len, 0x7f, 1);
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && msg_has(err, "exceeds"),
	       "a RAM block longer than the total: corrupt");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);

	/* ---------------- not a stream */
	err = run((const uint8_t *)"hello, world\n", 13, true, &st);
	TAP_OK(err && err->code == VF_ERR_NOT_FORMAT, "not a stream: not-format");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);
	build(&b, &o);
	b.p[7] = 2;
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_UNSUPPORTED && err->offset == 4, "version 2: unsupported");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);

	/* ---------------- libvirt save images */
	o = good();
	build(&b, &o);
	struct buf lv = { 0 };
	put(&lv, "LibvirtQemudSave", 16);
	uint8_t le[4];
	uint32_t hdr[19] = { 2, 1000, 1, 0, 0 };
	for (size_t i = 0; i < 19; i++) {
		vf_store_uint(le, 4, false, hdr[i]);
		put(&lv, le, 4);
	}
	char xml[1000] = "<domain type='kvm'><name>g</name></domain>";
	put(&lv, xml, sizeof(xml));
	size_t stream_at = lv.len;
	put(&lv, b.p, b.len);
	TAP_OK(vf_migstream_probe(lv.p, lv.len), "probe: a libvirt save image is mine");
	err = run(lv.p, lv.len, true, &st);
	TAP_OK(!err && st.found && st.libvirt && st.stream_offset == stream_at &&
	       st.paddr == 0x13ae000 && st.section_offset == stream_at + o.vmci_section,
	       "libvirt raw image: the stream after the XML");
	vf_migstate_deinit(&st);
	err = mem_of(lv.p, lv.len, NULL, &m);
	{
		uint8_t got[11];
		struct vf_error *e2 = err ? NULL : vf_mem_read(&m, 2 * 4096 + 105, got, 11);
		TAP_OK(!err && !e2 && memcmp(got, "\x0avmcoreinfo", 11) == 0,
		       "libvirt raw image: memory from the stream after the XML");
		vf_error_destroy(e2);
	}
	vf_error_destroy(err);
	vf_migstream_mem_deinit(&m);
	test_libvirt_compressed();
	test_bare_compressed();
	test_cpu_description();
	memcpy(lv.p, "LibvirtQemudPart", 16);
	err = run(lv.p, lv.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && msg_has(err, "partial"),
	       "a partial libvirt image is refused");
	vf_error_destroy(err);
	vf_migstate_deinit(&st);
	free(lv.p);

	free(b.p);
	return tap_done();
}
