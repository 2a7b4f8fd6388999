/* test_libvirt.c - the libvirt save image layer: images built here (header,
 * domain XML, a stand-in for QEMU's stream), raw and compressed in each of
 * libvirt's formats, in either byte order, compressed whole, and broken in
 * each way the layer refuses (a format its stream's bytes deny among them). */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cursor.h"
#include "source/libvirt.h"
#include "source/src.h"
#include "source/zsrc.h"
#include "tap.h"
#include "packers.h"

#define XML "<domain type='kvm'><name>guest1</name></domain>"
#define XML_AREA 1000                    /* the XML and its NUL padding */
#define STREAM_AT (92 + XML_AREA)
#define STREAM_LEN 3000000               /* more than the decoder keeps */

/* ---------------------------------------------------------------- a source in memory
 * Bytes p[0..n), then `fill` up to size (a large image without the memory). */
struct memsrc {
	uint8_t *p;
	size_t n;
	uint8_t fill;
	bool destroyed;
};

static struct vf_error *mem_pread(struct vf_src *src, void *buf, size_t len, uint64_t off,
				  size_t *got)
{
	struct memsrc *m = src->priv;
	*got = 0;
	if (off >= src->size)
		return NULL;
	if (len > src->size - off)
		len = (size_t)(src->size - off);
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = off + i < m->n ? m->p[off + i] : m->fill;
	*got = len;
	return NULL;
}

static void mem_destroy(struct vf_src *src)
{
	struct memsrc *m = src->priv;
	m->destroyed = true;   /* the test frees m */
}

static const struct vf_src_ops mem_ops = { .pread = mem_pread, .destroy = mem_destroy };

static struct vf_src *mem_src(struct memsrc *m, const uint8_t *p, size_t n, uint64_t size)
{
	struct vf_src *src = calloc(1, sizeof(*src));
	m->p = malloc(n ? n : 1);
	if (!src || !m->p)
		abort();
	memcpy(m->p, p, n);
	m->n = n;
	m->fill = 0;
	m->destroyed = false;
	*src = (struct vf_src){ .ops = &mem_ops, .kind = VF_SRC_FILE, .path = strdup("img"),
				.fd = -1, .size = size, .file_size = size, .priv = m };
	return src;
}

/* ---------------------------------------------------------------- images */

struct img {
	uint8_t *p;
	size_t n;
};

static uint8_t stream_byte(size_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

/* A header of version 2 for format (in the byte order be), the XML area
 * of xml_area bytes, then payload. */
static void image(struct img *im, const char *magic, bool be, uint32_t version,
		  uint32_t xml_area, uint32_t format, const uint8_t *payload, size_t n)
{
	im->n = 92 + XML_AREA + n;
	im->p = calloc(1, im->n);
	if (!im->p)
		abort();
	memcpy(im->p, magic, 16);
	uint32_t f[19] = { version, xml_area, 1, format };
	for (size_t i = 0; i < 19; i++)
		vf_store_uint(im->p + 16 + 4 * i, 4, be, f[i]);
	memcpy(im->p + 92, XML, sizeof(XML) - 1);
	memcpy(im->p + STREAM_AT, payload, n);
}

static uint8_t *plain_stream(void)
{
	uint8_t *s = malloc(STREAM_LEN);
	if (!s)
		abort();
	memcpy(s, "QEVM\0\0\0\3", 8);
	for (size_t i = 8; i < STREAM_LEN; i++)
		s[i] = stream_byte(i);
	return s;
}

/* libvirt's formats 1..5 as codecs. */
static const enum vf_zsrc_codec format_codec[6] = {
	VF_ZSRC_GZIP, VF_ZSRC_GZIP, VF_ZSRC_BZIP2, VF_ZSRC_XZ, VF_ZSRC_LZOP, VF_ZSRC_ZSTD,
};
/* Each codec's magic, for an image of a codec not built. */
static const uint8_t magic_of[VF_ZSRC_NCODECS][9] = {
	[VF_ZSRC_GZIP] = "\x1f\x8b\x08\x00", [VF_ZSRC_ZSTD] = "\x28\xb5\x2f\xfd",
	[VF_ZSRC_XZ] = "\xfd\x37\x7a\x58\x5a\x00", [VF_ZSRC_BZIP2] = "BZh9",
	[VF_ZSRC_LZOP] = "\x89LZO\x00\x0d\x0a\x1a\x0a",
};

/* s compressed with format (1..5) into *z; false if not built. */
static bool pack(uint32_t format, const uint8_t *s, size_t n, uint8_t **z, size_t *zn)
{
	*zn = pack_parts(format_codec[format], s, n, 1, z);
	return *zn != 0;
}

static struct vf_error *open_img(const struct img *im, struct memsrc *m, bool own,
				 struct vf_src **base, struct vf_src **lv)
{
	*base = mem_src(m, im->p, im->n, im->n);
	return vf_libvirt_open(*base, own, lv);
}

static bool reads(struct vf_src *src, uint64_t off, const uint8_t *want, size_t n)
{
	uint8_t *got = malloc(n);
	bool ok = got && !vf_src_read(src, got, n, off, "test") && memcmp(got, want, n) == 0;
	free(got);
	return ok;
}

/* ---------------------------------------------------------------- tests */

static void test_probe(void)
{
	TAP_OK(vf_libvirt_probe((const uint8_t *)"LibvirtQemudSave", 16) &&
	       vf_libvirt_probe((const uint8_t *)"LibvirtQemudPart", 16),
	       "probe: the finished and the partial magic");
	TAP_OK(!vf_libvirt_probe((const uint8_t *)"LibvirtQemudSav", 15) &&
	       !vf_libvirt_probe((const uint8_t *)"QEVM\0\0\0\3xxxxxxxx", 16),
	       "probe: a short head, a bare stream are not images");
}

static void test_raw(bool be)
{
	const char *order = be ? "big-endian" : "little-endian";
	uint8_t *s = plain_stream();
	struct img im;
	image(&im, VF_LIBVIRT_MAGIC, be, 2, XML_AREA, 0, s, STREAM_LEN);
	struct memsrc m;
	struct vf_src *base, *lv;
	struct vf_error *err = open_img(&im, &m, false, &base, &lv);
	struct vf_libvirt_info info = { 0 };
	TAP_OK(!err && lv->kind == VF_SRC_LIBVIRT && vf_libvirt_info(lv, &info) &&
	       info.version == 2 && info.big_endian == be && info.was_running &&
	       info.format == 0 && info.xml_size == XML_AREA && info.stream_offset == STREAM_AT &&
	       !info.compressed && lv->size == im.n,
	       "raw %s image: its header, the stream at %d", order, STREAM_AT);
	if (err) {
		vf_error_destroy(err);
		return;
	}
	TAP_OK(!vf_libvirt_info(base, &info), "info: false for another source");
	TAP_OK(reads(lv, 0, im.p, STREAM_AT + 16) && reads(lv, STREAM_AT, s, STREAM_LEN),
	       "raw %s image: the file's bytes, the stream where it is", order);
	char *xml = NULL;
	err = vf_libvirt_xml(lv, &xml);
	TAP_EQ_STR(err ? NULL : xml, XML, "raw %s image: the domain XML without its padding",
		   order);
	free(xml);
	vf_error_destroy(err);
	uint64_t size = 0;
	TAP_OK(!vf_libvirt_finish(lv, &size) && size == im.n, "raw: the size is the file's");
	vf_src_destroy(lv);
	TAP_OK(!m.destroyed && reads(base, STREAM_AT, s, 16),
	       "not owned: the base outlives the layer");
	vf_src_destroy(base);
	free(m.p);
	free(im.p);
	free(s);
}

static void test_compressed(uint32_t format, const char *name)
{
	uint8_t *s = plain_stream(), *z;
	size_t zn;
	if (!pack(format, s, STREAM_LEN, &z, &zn)) {
		struct img im;
		memcpy(s, magic_of[format_codec[format]], 9);
		image(&im, VF_LIBVIRT_MAGIC, false, 2, XML_AREA, format, s, 64);
		struct memsrc m;
		struct vf_src *base, *lv;
		struct vf_error *err = open_img(&im, &m, true, &base, &lv);
		TAP_OK(err && err->code == VF_ERR_UNSUPPORTED && err->hint &&
		       strstr(err->hint, name), "%s not built: unsupported, the command to "
		       "decompress it", name);
		vf_error_destroy(err);
		free(m.p);
		free(im.p);
		free(s);
		return;
	}
	struct img im;
	image(&im, VF_LIBVIRT_MAGIC, false, 2, XML_AREA, format, z, zn);
	struct memsrc m;
	struct vf_src *base, *lv;
	struct vf_error *err = open_img(&im, &m, true, &base, &lv);
	struct vf_libvirt_info info = { 0 };
	TAP_OK(!err && vf_libvirt_info(lv, &info) && info.compressed &&
	       strcmp(info.compressed, name) == 0 && info.stream_offset == STREAM_AT &&
	       lv->size == UINT64_MAX, "%s image: compressed, its size unknown before the end",
	       name);
	if (err) {
		vf_error_destroy(err);
		return;
	}
	TAP_OK(reads(lv, 0, im.p, STREAM_AT) && reads(lv, STREAM_AT, s, STREAM_LEN),
	       "%s image: the header and XML as they are, the stream decompressed in place",
	       name);
	uint64_t size = 0;
	err = vf_libvirt_finish(lv, &size);
	TAP_OK(!err && size == STREAM_AT + STREAM_LEN && lv->size == size,
	       "%s image: finish learns the size (%" PRIu64 ")", name, size);
	vf_error_destroy(err);
	TAP_OK(reads(lv, STREAM_AT + 8, s + 8, 100) && vf_libvirt_info(lv, &info) &&
	       info.restarts == 1, "%s image: a read back at the start is one restart", name);
	char *xml = NULL;
	err = vf_libvirt_xml(lv, &xml);
	TAP_EQ_STR(err ? NULL : xml, XML, "%s image: the domain XML", name);
	free(xml);
	vf_error_destroy(err);
	vf_src_destroy(lv);
	TAP_OK(m.destroyed, "owned: the base is destroyed with the layer");
	free(m.p);
	free(im.p);
	free(z);
	free(s);
}

/* Open an image of the stream's first 64 bytes, changed by how. */
static struct vf_error *broken(const char *magic, bool be, uint32_t version, uint32_t xml_area,
			       uint32_t format, size_t cut, bool *destroyed)
{
	uint8_t *s = plain_stream();
	struct img im;
	image(&im, magic, be, version, xml_area, format, s, 64);
	if (cut)
		im.n = cut;
	struct memsrc m;
	struct vf_src *base, *lv;
	struct vf_error *err = open_img(&im, &m, true, &base, &lv);
	if (!err)
		vf_src_destroy(lv);
	*destroyed = m.destroyed;
	free(m.p);
	free(im.p);
	free(s);
	return err;
}

static bool at(const struct vf_error *err, enum vf_err_code code, uint64_t off, const char *msg)
{
	return err && err->code == code && err->has_offset && err->offset == off &&
	       strstr(err->message, msg) && err->path && strcmp(err->path, "img") == 0;
}

static void test_refused(void)
{
	bool d;
	struct vf_error *err = broken(VF_LIBVIRT_PARTIAL, false, 2, XML_AREA, 0, 0, &d);
	TAP_OK(at(err, VF_ERR_CORRUPT, 0, "partial") && err->hint && d,
	       "a partial image: corrupt at 0, with a hint; the owned base destroyed");
	vf_error_destroy(err);
	err = broken(VF_LIBVIRT_MAGIC, false, 0, XML_AREA, 0, 0, &d);
	TAP_OK(at(err, VF_ERR_CORRUPT, 16, "header version"), "header version 0: corrupt at 16");
	vf_error_destroy(err);
	err = broken(VF_LIBVIRT_MAGIC, false, 2, XML_AREA, 0, 60, &d);
	TAP_OK(at(err, VF_ERR_CORRUPT, 0, "libvirt save image header truncated"),
	       "a header cut short: truncated at 0 (%s)", err ? err->message : "");
	vf_error_destroy(err);
	err = broken(VF_LIBVIRT_MAGIC, false, 2, 5000, 0, 0, &d);
	TAP_OK(at(err, VF_ERR_CORRUPT, 92, "XML truncated"),
	       "an XML area past the end: truncated at 92 (%s)", err ? err->message : "");
	vf_error_destroy(err);
	/* the header's format is checked against the stream's first bytes */
	err = broken(VF_LIBVIRT_MAGIC, true, 2, XML_AREA, 2, 0, &d);
	TAP_OK(at(err, VF_ERR_CORRUPT, STREAM_AT, "format 2 says the QEMU stream is "
		  "bzip2-compressed, but the stream is an uncompressed QEMU stream (QEVM)") &&
	       err->hint && d, "format 2 (bzip2) over a raw stream: corrupt at the stream, "
	       "both named (%s)", err ? err->message : "");
	vf_error_destroy(err);
	static const struct { uint32_t format; enum vf_zsrc_codec payload; const char *msg; }
	mismatch[] = {
		{ 3, VF_ZSRC_GZIP, "format 3 says the QEMU stream is xz-compressed, but the "
				   "stream is gzip-compressed" },
		{ 0, VF_ZSRC_LZOP, "format 0 says the QEMU stream is raw, but the stream is "
				   "lzop-compressed" },
		{ 1, VF_ZSRC_ZSTD, "is gzip-compressed, but the stream is zstd-compressed" },
		{ 4, VF_ZSRC_BZIP2, "is lzop-compressed, but the stream is bzip2-compressed" },
		{ 5, VF_ZSRC_XZ, "is zstd-compressed, but the stream is xz-compressed" },
	};
	for (size_t k = 0; k < sizeof(mismatch) / sizeof(*mismatch); k++) {
		uint8_t *s = plain_stream();
		memcpy(s, magic_of[mismatch[k].payload], 9);
		struct img im;
		image(&im, VF_LIBVIRT_MAGIC, false, 2, XML_AREA, mismatch[k].format, s, 64);
		struct memsrc m;
		struct vf_src *base, *lv;
		err = open_img(&im, &m, true, &base, &lv);
		TAP_OK(at(err, VF_ERR_CORRUPT, STREAM_AT, mismatch[k].msg),
		       "format %u over a %s stream: corrupt, both named (%s)", mismatch[k].format,
		       vf_zsrc_codec_name(mismatch[k].payload), err ? err->message : "no error");
		if (!err)
			vf_src_destroy(lv);
		vf_error_destroy(err);
		free(m.p);
		free(im.p);
		free(s);
	}
	{
		uint8_t *s = plain_stream();
		memcpy(s, "\x01\x02\x03\x04", 4);
		struct img im;
		image(&im, VF_LIBVIRT_MAGIC, false, 2, XML_AREA, 5, s, 64);
		struct memsrc m;
		struct vf_src *base, *lv;
		err = open_img(&im, &m, true, &base, &lv);
		TAP_OK(at(err, VF_ERR_CORRUPT, STREAM_AT, "is zstd-compressed, but the stream is "
			  "neither (it starts with 01 02 03 04)"),
		       "format 5 over bytes of no codec: corrupt, the bytes named");
		vf_error_destroy(err);
		free(m.p);
		free(im.p);
		free(s);
	}
	err = broken(VF_LIBVIRT_MAGIC, false, 2, XML_AREA, 6, 0, &d);
	TAP_OK(at(err, VF_ERR_UNSUPPORTED, 28, "sparse: mapped-ram"),
	       "format 6 (sparse): unsupported at the format field");
	vf_error_destroy(err);
	err = broken(VF_LIBVIRT_MAGIC, false, 2, XML_AREA, 77, 0, &d);
	TAP_OK(at(err, VF_ERR_UNSUPPORTED, 28, "format 77 (unknown)"),
	       "an unknown format: unsupported at the format field");
	vf_error_destroy(err);
}

/* The XML area is read at most VF_LIBVIRT_XML_MAX; text that long is refused. */
static void test_xml_limits(void)
{
	uint8_t *s = plain_stream();
	struct img im;
	image(&im, VF_LIBVIRT_MAGIC, false, 2, 0, 0, s, 64);
	struct memsrc m;
	struct vf_src *base, *lv;
	char *xml = NULL;
	struct vf_error *err = open_img(&im, &m, true, &base, &lv);
	err = err ? err : vf_libvirt_xml(lv, &xml);
	TAP_EQ_STR(err ? NULL : xml, "", "an empty XML area: an empty XML");
	free(xml);
	vf_error_destroy(err);
	if (!err)
		vf_src_destroy(lv);
	free(m.p);
	free(im.p);

	uint32_t area = VF_LIBVIRT_XML_MAX + 4096;
	image(&im, VF_LIBVIRT_MAGIC, false, 2, area, 0, s, 0);
	im.n = 92;   /* the rest reads as 'x': no NUL ends the text */
	base = mem_src(&m, im.p, im.n, 92 + (uint64_t)area + STREAM_LEN);
	m.fill = 'x';
	xml = NULL;
	err = vf_libvirt_open(base, true, &lv);
	struct vf_libvirt_info info = { 0 };
	TAP_OK(!err && vf_libvirt_info(lv, &info) && info.stream_offset == 92 + (uint64_t)area,
	       "an XML area of %u bytes opens", area);
	struct vf_error *e2 = err ? NULL : vf_libvirt_xml(lv, &xml);
	TAP_OK(e2 && e2->code == VF_ERR_UNSUPPORTED && !xml,
	       "a domain XML longer than the limit is refused (%s)", e2 ? e2->message : "");
	vf_error_destroy(e2);
	vf_error_destroy(err);
	if (!err)
		vf_src_destroy(lv);
	free(m.p);
	free(im.p);
	free(s);
}

/* An image compressed whole (gzip -c IMAGE): the layer over a decompressed
 * source; its restarts and its end are the base's. */
static void test_whole(void)
{
	uint8_t *s = plain_stream(), *z;
	struct img im;
	image(&im, VF_LIBVIRT_MAGIC, false, 2, XML_AREA, 0, s, STREAM_LEN);
	size_t zn = pack_parts(VF_ZSRC_XZ, im.p, im.n, 1, &z);
	if (!zn)
		zn = pack_parts(VF_ZSRC_GZIP, im.p, im.n, 1, &z);
	if (!zn) {
		TAP_OK(1, "# SKIP no codec to compress an image whole");
		free(im.p);
		free(s);
		return;
	}
	enum vf_zsrc_codec codec;
	TAP_OK(vf_zsrc_probe(z, zn, &codec), "whole: the compressed file probes as %s",
	       vf_zsrc_codec_name(codec));
	struct memsrc m;
	struct vf_src *file = mem_src(&m, z, zn, zn), *zs, *lv;
	struct vf_error *err = vf_zsrc_open(file, true, 0, codec, &zs);
	err = err ? err : vf_libvirt_open(zs, true, &lv);
	struct vf_libvirt_info info = { 0 };
	TAP_OK(!err && vf_libvirt_info(lv, &info) && !info.compressed && info.format == 0 &&
	       info.stream_offset == STREAM_AT && lv->size == UINT64_MAX,
	       "whole: a raw image inside, its size unknown before the end");
	if (err) {
		vf_error_destroy(err);
		return;
	}
	TAP_OK(reads(lv, STREAM_AT, s, STREAM_LEN) && reads(lv, STREAM_AT, s, 64) &&
	       vf_libvirt_info(lv, &info) && info.restarts == 1,
	       "whole: the stream read, then its start again: one restart (the base's)");
	uint64_t size = 0;
	err = vf_libvirt_finish(lv, &size);
	TAP_OK(!err && size == im.n && lv->size == im.n, "whole: finish learns the size");
	vf_error_destroy(err);
	vf_src_destroy(lv);
	TAP_OK(m.destroyed, "whole: every layer destroyed with the top one");
	free(m.p);
	free(z);
	free(im.p);
	free(s);
}

int main(void)
{
	test_probe();
	test_raw(false);
	test_raw(true);
	test_compressed(1, "gzip");
	test_compressed(2, "bzip2");
	test_compressed(3, "xz");
	test_compressed(4, "lzop");
	test_compressed(5, "zstd");
	test_whole();
	test_refused();
	test_xml_limits();
	return tap_done();
}
