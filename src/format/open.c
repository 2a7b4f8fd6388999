/* open.c - the opener: the table of formats and the probe loop. */
#include "config.h"
#include "format/open.h"

#include "format/elfcore.h"
#include "format/kdump.h"
#include "format/machine.h"
#include "source/flat.h"
#include "source/open.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Probed in this order; each format's probe answers from the first bytes. */
static const struct vf_format_ops *const formats[] = {
	&vf_elf_format,
	&vf_kdump_format,
};

#define HEAD_LEN VF_DUMP_HEAD_LEN

/* What a file no format takes looks like, from its first bytes; NULL when
 * nothing is known of it. */
static const char *looks_like(const uint8_t *head, size_t got)
{
	static const struct { const char *magic; size_t n; const char *what; } known[] = {
		{ "\x1f\x8b", 2, "gzip-compressed data" },
		{ "\xfd" "7zXZ\0", 6, "xz-compressed data" },
		{ "\x28\xb5\x2f\xfd", 4, "zstd-compressed data" },
		{ "BZh", 3, "bzip2-compressed data" },
		{ "\x89LZO\0\r\n\x1a\n", 9, "lzop-compressed data" },
		{ "LibvirtQemudPart", 16, "a libvirt save image that was never finished "
					  "(\"LibvirtQemudPart\")" },
		{ "QEVM", 4, "a QEMU migration stream" },
		{ "\x7f" "ELF", 4, "an ELF file that is not a core dump" },
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (got >= known[i].n && memcmp(head, known[i].magic, known[i].n) == 0)
			return known[i].what;
	size_t text = 0;
	while (text < got && ((head[text] >= 0x20 && head[text] < 0x7f) || head[text] == '\n' ||
			      head[text] == '\t' || head[text] == '\r'))
		text++;
	return got >= 16 && text == got ? "text" : NULL;
}

/* What the first bytes of a file no format takes look like. */
static struct vf_error *not_a_dump(const uint8_t *head, size_t got)
{
	char hex[3 * 8 + 1] = "";
	size_t hl = 0;
	struct vf_error *err;
	for (size_t i = 0; i < got && i < 8; i++)
		hl += (size_t)snprintf(hex + hl, sizeof(hex) - hl, "%s%02x", i ? " " : "", head[i]);
	if (got == 0)
		err = vf_error_at(VF_ERR_NOT_FORMAT, 0, "empty file: not a dump");
	else if (looks_like(head, got))
		err = vf_error_at(VF_ERR_NOT_FORMAT, 0, "not a dump: it looks like %s (starts "
				  "with %s)", looks_like(head, got), hex);
	else
		err = vf_error_at(VF_ERR_NOT_FORMAT, 0,
				  "not an ELF core or kdump-compressed dump (starts with %s)", hex);
	return vf_error_set_hint(err, "give a dump written by QEMU dump-guest-memory, "
				 "virsh dump, or makedumpfile, or a saved VM state (virsh save)");
}

struct vf_error *vf_dump_check_head(const uint8_t *head, size_t len)
{
	if (vf_flat_probe(head, len))
		return NULL;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (formats[i]->probe(head, len))
			return NULL;
	return not_a_dump(head, len);
}

struct vf_error *vf_dump_open(const char *path, struct vf_dump **ret)
{
	struct vf_src *src;
	struct vf_error *err = vf_source_open(path, &src);
	if (err)
		return err;
	return vf_dump_open_src(src, ret);
}

/* The dump's page size (ELF: none in the file, the note's PAGESIZE) and the
 * kernel's. */
static void refine_page_size(struct vf_dump *dump)
{
	uint64_t ps;
	dump->kernel_page_size = dump->format == VF_FORMAT_ELF ? dump->page_size : 4096;
	if (!dump->vmci)
		return;
	struct vf_error *err = vf_vmcoreinfo_number(dump->vmci, "PAGESIZE", &ps);
	if (err) {
		vf_error_destroy(err);
		return;
	}
	/* Only a sane power of two replaces the architecture default; in a
	 * kdump it must divide the block. */
	if (ps < 4096 || ps > (1u << 20) || (ps & (ps - 1)) != 0)
		return;
	if (dump->format == VF_FORMAT_ELF) {
		dump->page_size = ps;
		dump->mem.page_size = ps;
	} else if (dump->page_size % ps) {
		return;
	}
	dump->kernel_page_size = ps;
	dump->kernel_page_size_known = true;
}


struct vf_error *vf_dump_open_src(struct vf_src *src, struct vf_dump **ret)
{
	struct vf_dump *dump = calloc(1, sizeof(*dump));
	if (!dump) {
		vf_src_destroy(src);
		return &vf_error_nomem;
	}
	dump->src = src;
	dump->page_size = 4096;

	uint8_t head[HEAD_LEN];
	size_t got;
	struct vf_error *err = vf_src_pread(src, head, sizeof(head), 0, &got);
	if (err)
		goto fail;

	const struct vf_format_ops *ops = NULL;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (formats[i]->probe(head, got)) {
			ops = formats[i];
			break;
		}
	}
	if (!ops) {
		err = not_a_dump(head, got);
		goto fail;
	}
	dump->format = ops->format;
	dump->ops = ops;
	err = ops->open(dump);
	if (!err)
		err = vf_machine_detect(dump, NULL);
	if (err)
		goto fail;
	refine_page_size(dump);
	*ret = dump;
	return NULL;

fail:
	vf_error_set_path(err, src->path);
	vf_dump_destroy(dump);
	return err;
}

