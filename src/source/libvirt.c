/* libvirt.c - a libvirt save image, its QEMU stream readable (libvirt.h). */
#include "config.h"
#include "source/libvirt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"
#include "source/zsrc.h"

struct lvpriv {
	struct vf_src *base;
	bool own;
	struct vf_src *z;          /* the decompressed stream over base, or NULL */
	struct vf_libvirt_info info;
};

/* libvirt's save image formats (its header's "compressed" field; the numbers
 * are on disk and never reused): the external program's name and how to undo
 * it, and the codec that reads it here. */
static const struct {
	const char *name, *undo;
	enum vf_zsrc_codec codec;
} formats[] = {
	{ "raw", NULL, 0 }, { "gzip", "gzip -dc", VF_ZSRC_GZIP },
	{ "bzip2", "bzip2 -dc", VF_ZSRC_BZIP2 }, { "xz", "xz -dc", VF_ZSRC_XZ },
	{ "lzop", "lzop -dc", VF_ZSRC_LZOP }, { "zstd", "zstd -dc", VF_ZSRC_ZSTD },
};
#define NFORMATS (sizeof(formats) / sizeof(*formats))
#define FORMAT_SPARSE 6

bool vf_libvirt_probe(const uint8_t *head, size_t len)
{
	return len >= VF_LIBVIRT_MAGIC_LEN &&
	       (memcmp(head, VF_LIBVIRT_MAGIC, VF_LIBVIRT_MAGIC_LEN) == 0 ||
		memcmp(head, VF_LIBVIRT_PARTIAL, VF_LIBVIRT_MAGIC_LEN) == 0);
}

static struct vf_error *lv_pread(struct vf_src *src, void *buf, size_t len, uint64_t off,
				 size_t *got)
{
	struct lvpriv *p = src->priv;
	struct vf_src *in = p->z ? p->z : p->base;
	struct vf_error *err = vf_src_pread(in, buf, len, off, got);
	src->size = in->size;   /* a decompressed stream learns its size at its end */
	return err;
}

static void lv_destroy(struct vf_src *src)
{
	struct lvpriv *p = src->priv;
	if (!p)
		return;
	vf_src_destroy(p->z);
	if (p->own)
		vf_src_destroy(p->base);
	free(p);
}

static const struct vf_src_ops lv_ops = {
	.pread = lv_pread,
	.destroy = lv_destroy,
};

/* The header's fields into *info; the magic was probed. */
static struct vf_error *parse_header(struct vf_src *base, struct vf_libvirt_info *info)
{
	uint8_t h[VF_LIBVIRT_HEADER_SIZE];
	struct vf_error *err = vf_src_read(base, h, sizeof(h), 0, "libvirt save image header");
	if (err)
		return err;
	/* the header is in the saving host's byte order */
	bool be = false;
	uint64_t version = vf_load_uint(h + 16, 4, false);
	if (version == 0 || version > 0xffff) {
		be = true;
		version = vf_load_uint(h + 16, 4, true);
	}
	if (version == 0 || version > 0xffff) {
		/* worded as the stream reader's own errors, which it always was */
		err = vf_error_at(VF_ERR_CORRUPT, 16, "libvirt save image: header version 0x%"
				  PRIx64, version);
		return vf_error_set_path(vf_error_prefix(err, "migration stream"), base->path);
	}
	uint64_t data_len = vf_load_uint(h + 20, 4, be);
	*info = (struct vf_libvirt_info){ .version = (uint32_t)version, .big_endian = be,
					  .was_running = vf_load_uint(h + 24, 4, be) != 0,
					  .format = (uint32_t)vf_load_uint(h + 28, 4, be),
					  .xml_size = data_len,
					  .stream_offset = VF_LIBVIRT_HEADER_SIZE + data_len };
	if (memcmp(h, VF_LIBVIRT_PARTIAL, VF_LIBVIRT_MAGIC_LEN) == 0) {
		err = vf_error_at(VF_ERR_CORRUPT, 0, "libvirt save image is partial (magic "
				  "%s): libvirt never finished writing it", VF_LIBVIRT_PARTIAL);
		err = vf_error_set_path(err, base->path);
		return vf_error_set_hint(err, "the save was interrupted; the VM's state in it "
					 "is incomplete");
	}
	return NULL;
}

/* "gzip, zstd and xz": the codecs of libvirt's formats this build reads. */
static void built_codecs(char *buf, size_t n)
{
	size_t k = 0, len = 0;
	for (size_t f = 1; f < NFORMATS; f++)
		k += vf_zsrc_available(formats[f].codec);
	buf[0] = '\0';
	for (size_t f = 1, i = 0; f < NFORMATS && len < n; f++) {
		if (!vf_zsrc_available(formats[f].codec))
			continue;
		i++;
		len += (size_t)snprintf(buf + len, n - len, "%s%s", i == 1 ? "" : i == k ? " and " :
					", ", formats[f].name);
	}
	if (!k)
		snprintf(buf, n, "no compressed");
}

/* A compressed stream this build does not read. */
static struct vf_error *unreadable(struct vf_src *base, const struct vf_libvirt_info *info)
{
	uint64_t off = info->stream_offset, format = info->format;
	struct vf_error *err;
	if (format < NFORMATS) {
		char built[64];
		built_codecs(built, sizeof(built));
		err = vf_error_at(VF_ERR_UNSUPPORTED, off, "libvirt save image: the QEMU "
				  "stream is %s-compressed; this build decompresses %s "
				  "images itself (no %s)", formats[format].name, built,
				  vf_zsrc_codec_library(formats[format].codec));
		err = vf_error_set_path(err, base->path);
		return vf_error_set_hint(err, "decompress it first: tail -c +%" PRIu64 " '%s' | "
					 "%s > STREAM, then give STREAM", off + 1, base->path,
					 formats[format].undo);
	}
	err = vf_error_at(VF_ERR_UNSUPPORTED, 28, "libvirt save image: format %" PRIu64
			  " (%s)", format, format == FORMAT_SPARSE ? "sparse: mapped-ram" : "unknown");
	err = vf_error_set_path(err, base->path);
	return vf_error_set_hint(err, "save the VM with libvirt's raw save format");
}

/* What the stream's first bytes are, for an error: "xz-compressed", "an
 * uncompressed QEMU stream", or the bytes. */
static void looks_like(const uint8_t *b, size_t n, char *buf, size_t len)
{
	enum vf_zsrc_codec c;
	if (vf_zsrc_probe(b, n, &c))
		snprintf(buf, len, "%s-compressed", vf_zsrc_codec_name(c));
	else if (n >= 4 && memcmp(b, "QEVM", 4) == 0)
		snprintf(buf, len, "an uncompressed QEMU stream (QEVM)");
	else
		snprintf(buf, len, "neither (it starts with %02x %02x %02x %02x)", n > 0 ? b[0] : 0,
			 n > 1 ? b[1] : 0, n > 2 ? b[2] : 0, n > 3 ? b[3] : 0);
}

/* The stream's codec, or why it cannot be read: the header's format must be
 * what the stream's first bytes say it is (never the header alone). */
static struct vf_error *stream_codec(struct vf_src *base, struct vf_libvirt_info *info,
				     bool *compressed, enum vf_zsrc_codec *codec)
{
	*compressed = info->format != 0;
	*codec = VF_ZSRC_GZIP;
	if (info->format >= NFORMATS)
		return unreadable(base, info);
	*codec = formats[info->format].codec;
	uint8_t head[VF_ZSRC_PROBE_LEN];
	size_t got = 0;
	struct vf_error *err = info->stream_offset < base->size ?
		vf_src_pread(base, head, sizeof(head), info->stream_offset, &got) : NULL;
	if (err)
		return err;
	if (!got)
		return vf_error_set_path(vf_error_truncated(VF_LIBVIRT_HEADER_SIZE, "libvirt "
							    "save image XML", info->xml_size,
							    base->size == UINT64_MAX ? 0 :
							    base->size -
							    VF_LIBVIRT_HEADER_SIZE), base->path);
	enum vf_zsrc_codec found;
	bool packed = vf_zsrc_probe(head, got, &found);
	if (packed != *compressed || (packed && found != *codec)) {
		char is[64];
		looks_like(head, got, is, sizeof(is));
		err = vf_error_at(VF_ERR_CORRUPT, info->stream_offset, "libvirt save image: "
				  "the header's format %" PRIu32 " says the QEMU stream is %s%s, "
				  "but the stream is %s", info->format, formats[info->format].name,
				  *compressed ? "-compressed" : "", is);
		err = vf_error_set_path(err, base->path);
		return vf_error_set_hint(err, "the image's header or its stream was damaged or "
					 "replaced; libvirt itself would not restore it");
	}
	if (*compressed && !vf_zsrc_available(*codec))
		return unreadable(base, info);
	if (*compressed)
		info->compressed = vf_zsrc_codec_name(*codec);
	return NULL;
}

struct vf_error *vf_libvirt_open(struct vf_src *base, bool own, struct vf_src **ret)
{
	struct vf_libvirt_info info;
	bool compressed = false;
	enum vf_zsrc_codec codec = VF_ZSRC_GZIP;
	struct vf_error *err = parse_header(base, &info);
	if (!err)
		err = stream_codec(base, &info, &compressed, &codec);
	struct vf_src *src = NULL, *z = NULL;
	struct lvpriv *p = NULL;
	if (!err && compressed)
		err = vf_zsrc_open(base, false, info.stream_offset, codec, &z);
	if (!err && (!(src = calloc(1, sizeof(*src))) || !(p = calloc(1, sizeof(*p))) ||
		     !(src->path = strdup(base->path ? base->path : "(input)"))))
		err = &vf_error_nomem;
	if (err) {
		if (src)
			free(src->path);
		free(src);
		free(p);
		vf_src_destroy(z);
		if (own)
			vf_src_destroy(base);
		return err;
	}
	*p = (struct lvpriv){ .base = base, .own = own, .z = z, .info = info };
	src->ops = &lv_ops;
	src->kind = VF_SRC_LIBVIRT;
	src->fd = -1;
	src->size = p->z ? p->z->size : base->size;
	src->file_size = base->file_size;
	src->priv = p;
	*ret = src;
	return NULL;
}

bool vf_libvirt_info(const struct vf_src *src, struct vf_libvirt_info *info)
{
	if (src->kind != VF_SRC_LIBVIRT || src->ops != &lv_ops)
		return false;
	const struct lvpriv *p = src->priv;
	*info = p->info;
	struct vf_zsrc_info zi;
	if (p->z && vf_zsrc_info(p->z, &zi))
		info->restarts = zi.restarts;
	if (vf_zsrc_info(p->base, &zi))   /* an image in a compressed file */
		info->restarts += zi.restarts;
	return true;
}

struct vf_error *vf_libvirt_finish(struct vf_src *src, uint64_t *size)
{
	struct lvpriv *p = src->priv;
	struct vf_src *z = p->z ? p->z : p->base;
	struct vf_zsrc_info zi;
	if (vf_zsrc_info(z, &zi)) {
		/* the stream, or the whole image in a compressed file */
		struct vf_error *err = vf_zsrc_finish(z, size);
		src->size = z->size;
		return err;
	}
	*size = src->size;
	return NULL;
}

struct vf_error *vf_libvirt_xml(struct vf_src *src, char **xml)
{
	const struct lvpriv *p = src->priv;
	uint64_t n = p->info.xml_size;
	if (n > VF_LIBVIRT_XML_MAX)
		n = VF_LIBVIRT_XML_MAX;
	uint8_t *buf;
	struct vf_error *err = vf_src_read_alloc(p->base, (size_t)n, VF_LIBVIRT_HEADER_SIZE,
						 "libvirt save image XML", &buf);
	if (err)
		return err;
	uint8_t *nul = memchr(buf, 0, (size_t)n);
	if (!nul && n < p->info.xml_size) {
		free(buf);
		err = vf_error_at(VF_ERR_UNSUPPORTED, VF_LIBVIRT_HEADER_SIZE, "libvirt save "
				  "image: a domain XML of more than %u bytes", VF_LIBVIRT_XML_MAX);
		return vf_error_set_path(err, src->path);
	}
	size_t len = nul ? (size_t)(nul - buf) : (size_t)n;
	char *s = malloc(len + 1);
	if (!s) {
		free(buf);
		return &vf_error_nomem;
	}
	memcpy(s, buf, len);
	s[len] = '\0';
	free(buf);
	*xml = s;
	return NULL;
}
