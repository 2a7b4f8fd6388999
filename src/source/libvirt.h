/* libvirt.h - a libvirt save image (`virsh save`, `virsh managedsave`), served
 * as the file with QEMU's migration stream in it readable.
 *
 * Layout: the 16-byte magic "LibvirtQemudSave" ("LibvirtQemudPart" while
 * libvirt is still writing it), then u32 version, data_len, was_running,
 * compressed and 15 unused u32, in the saving host's byte order (92 bytes);
 * data_len bytes of domain XML, NUL-padded; then QEMU's stream, as QEMU wrote
 * it or through the external program the compressed field names.
 *
 * The layer serves the image's bytes as they are up to the stream, and the
 * stream from stream_offset on: as it is for a raw image, decompressed in
 * place (zsrc.h: size UINT64_MAX until the end is known) for gzip, bzip2,
 * xz, lzop and zstd, so that offsets in the stream read as tail -c
 * +(stream_offset+1) FILE | gzip -dc, plus stream_offset.  The header's
 * format must agree with the stream's first bytes (zsrc.h's magics; raw: none
 * of them), else VF_ERR_CORRUPT naming both.  A format whose library was not
 * built, "sparse" (mapped-ram) and unknown formats are VF_ERR_UNSUPPORTED
 * with what to do.  base may itself be a decompressed source (an image
 * compressed whole).
 */
#ifndef VF_LIBVIRT_H
#define VF_LIBVIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "source/src.h"

#define VF_LIBVIRT_MAGIC "LibvirtQemudSave"
#define VF_LIBVIRT_PARTIAL "LibvirtQemudPart"
#define VF_LIBVIRT_MAGIC_LEN 16
#define VF_LIBVIRT_HEADER_SIZE 92     /* magic + 5 u32 + 14 unused u32 */
#define VF_LIBVIRT_XML_MAX (16u << 20)  /* the domain XML read at most */

/* Either magic (a partial image is refused by vf_libvirt_open, not here). */
bool vf_libvirt_probe(const uint8_t *head, size_t len);

struct vf_libvirt_info {
	uint32_t version;         /* of the header */
	bool big_endian;          /* the saving host's byte order */
	bool was_running;
	uint32_t format;          /* libvirt's: 0 raw, 1 gzip, 2 bzip2, 3 xz, 4 lzop, 5 zstd */
	uint64_t xml_size;        /* data_len: the XML and its padding, from offset 92 */
	uint64_t stream_offset;   /* file offset of QEMU's stream */
	const char *compressed;   /* "gzip", "zstd", "xz", "bzip2", "lzop"; NULL: raw */
	uint64_t restarts;        /* decompressions started over (backward reads), the
				   * stream's and a compressed base's */
};

/* The image in base as a layer.  own: the new source destroys base with
 * itself (and on failure); else base must outlive it.  Reads the header
 * and the stream's first bytes.  VF_ERR_CORRUPT: a partial image, a bad
 * header version, the XML cut short, a format the stream's bytes deny;
 * VF_ERR_UNSUPPORTED: a format not read here, or whose library was not built
 * (the hint is the command that decompresses it). */
struct vf_error *vf_libvirt_open(struct vf_src *base, bool own, struct vf_src **ret) VF_MUST_CHECK;

/* Describe a source vf_libvirt_open() made; false for any other. */
bool vf_libvirt_info(const struct vf_src *src, struct vf_libvirt_info *info);

/* Make src->size known (decompressing a compressed stream to its end);
 * *size is it. */
struct vf_error *vf_libvirt_finish(struct vf_src *src, uint64_t *size) VF_MUST_CHECK;

/* The domain XML: the text before its NUL padding, NUL-terminated, in a new
 * malloc'd *xml.  VF_ERR_UNSUPPORTED when it is longer than
 * VF_LIBVIRT_XML_MAX. */
struct vf_error *vf_libvirt_xml(struct vf_src *src, char **xml) VF_MUST_CHECK;

#endif
