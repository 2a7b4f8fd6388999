/* plan.c - decide which bytes change, and why. */
#include "config.h"
#include "fix/plan.h"
#include "format/elfcore.h"
#include "format/kdump.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"
#include "format/machine.h"
#include "util/notes.h"

#include <elf.h>

struct vf_error *vf_note_phys_base(const struct vf_dump *dump, uint64_t *phys_base,
				   const char **key)
{
	const struct vf_arch *a = vf_arch_by_em(dump->e_machine);
	const char *k = a ? a->phys_base_key : NULL;
	if (!k)
		return vf_error_create(VF_ERR_NOT_FOUND, "no phys_base key is known for %s",
				       dump->machine_name ? dump->machine_name : "this machine");
	if (key)
		*key = k;
	if (!dump->vmci)
		return vf_error_create(VF_ERR_NOT_FOUND, "the dump has no VMCOREINFO");
	return vf_vmcoreinfo_number(dump->vmci, k, phys_base);
}

static struct vf_error *add_patch(struct vf_plan *plan, uint64_t off, uint32_t len, bool be,
				  uint64_t value, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static struct vf_error *add_patch(struct vf_plan *plan, uint64_t off, uint32_t len, bool be,
				  uint64_t value, const char *field, const char *fmt, ...)
{
	struct vf_patch *p = realloc(plan->patches, (plan->n + 1) * sizeof(*p));
	if (!p)
		return &vf_error_nomem;
	plan->patches = p;
	p = &p[plan->n];
	memset(p, 0, sizeof(*p));
	p->offset = off;
	p->len = len;
	if (!(p->bytes = malloc(len)))
		return &vf_error_nomem;
	vf_store_uint(p->bytes, len, be, value);
	p->is_number = true;
	p->value = value;
	p->field = field;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&p->why, fmt, ap);
	va_end(ap);
	plan->n++;  /* counted even on failure, so deinit frees the bytes */
	if (r < 0) {
		p->why = NULL;
		return &vf_error_nomem;
	}
	return NULL;
}

/* A patch of raw bytes (takes ownership of bytes, also on failure). */
static struct vf_error *add_bytes_patch(struct vf_plan *plan, uint64_t off, uint8_t *bytes,
					uint32_t len, const char *field, const char *why)
{
	struct vf_error *err = add_patch(plan, off, 8, false, 0, field, "%s", why);
	if (err) {
		free(bytes);
		return err;
	}
	struct vf_patch *p = &plan->patches[plan->n - 1];
	free(p->bytes);
	p->bytes = bytes;
	p->len = len;
	p->is_number = false;
	p->value = 0;
	return NULL;
}

/* The notes of the output: every original note but VMCOREINFO, then one
 * VMCOREINFO note with text vtext.  With out NULL, only sizes are computed.
 * *vhdr is the VMCOREINFO note's offset inside the blob. */
static struct vf_error *encode_notes(const struct vf_dump *d, const uint8_t *vtext,
				     uint32_t vlen, uint8_t *out, uint64_t *size, uint64_t *vhdr)
{
	bool be = d->big_endian;
	uint64_t pos = 0;
	for (size_t i = 0; i < d->nnotes; i++) {
		const struct vf_note *n = &d->notes[i];
		if (vf_note_is_vmcoreinfo(n))
			continue;
		size_t nl = strnlen(n->name, VF_NOTE_NAME_MAX);
		if (n->namesz != (nl ? nl + 1 : 0) && !(n->namesz == 1 && nl == 0))
			return vf_error_at(VF_ERR_UNSUPPORTED, n->hdr_offset, "note name of %" PRIu32
					   " bytes cannot be rewritten", n->namesz);
		if (out) {
			uint8_t *p = out + pos;
			memset(p, 0, vf_note_size(n->namesz, n->descsz));
			vf_store_uint(p, 4, be, n->namesz);
			vf_store_uint(p + 4, 4, be, n->descsz);
			vf_store_uint(p + 8, 4, be, n->type);
			memcpy(p + 12, n->name, nl);
			memcpy(p + 12 + ((n->namesz + 3u) & ~3u), n->desc, n->descsz);
		}
		pos += vf_note_size(n->namesz, n->descsz);
	}
	*vhdr = pos;
	if (out)
		vf_note_encode(out + pos, be, "VMCOREINFO", 0, vtext, vlen);
	*size = pos + vf_note_size(11, vlen);
	return NULL;
}

static struct vf_error *plan_kdump_trim(const struct vf_dump *d, uint64_t m,
					struct vf_plan *plan);

/* The dump's note and the guest's differ, and the user did not say which wins. */
static struct vf_error *notes_differ(void)
{
	return vf_error_set_hint(vf_error_create(VF_ERR_REFUSED, "the guest's VMCOREINFO note "
		"(at the region given) differs from the dump's own"),
		"compare them with vmcore-fix --inspect --region ...; add --replace-note to "
		"write the guest's note instead of the dump's");
}

/* The kdump sub-header phys_base from a VMCOREINFO text (whose = "the
 * dump's" or "the guest's"). */
static struct vf_error *plan_phys_base(const struct vf_dump *d, const struct vf_vmcoreinfo *v,
				       const char *whose, struct vf_plan *plan)
{
	const struct vf_kdump_info *kd = d->kdump;
	const struct vf_arch *a = vf_arch_by_em(d->e_machine);
	const char *key = a ? a->phys_base_key : NULL;
	if (!key)
		return NULL;  /* no phys_base key is known for this machine */
	uint64_t pb;
	struct vf_error *err = vf_vmcoreinfo_number(v, key, &pb);
	if (err && err->code == VF_ERR_NOT_FOUND) {
		vf_error_destroy(err);
		return NULL;
	}
	if (err)
		return err;
	uint64_t want = kd->fo.phys_base_size == 4 ? pb & 0xffffffffu : pb;
	if (kd->phys_base == want)
		return NULL;
	return add_patch(plan, kd->block_size + kd->fo.phys_base, kd->fo.phys_base_size,
			 d->big_endian, want, "kdump sub-header phys_base",
			 "set phys_base from %s VMCOREINFO %s=%s (was 0x%" PRIx64 ")", whose, key,
			 vf_vmcoreinfo_get(v, key), kd->phys_base);
}

/* The kdump header's utsname, as makedumpfile fills it, from init_uts_ns
 * (uts, when it could be read).  utsname.machine is the canonical name of
 * the machine decided from the dump's content, never the guest's string:
 * readers choose the header's layout and the architecture by it. */
static struct vf_error *plan_utsname(const struct vf_dump *d, const char (*uts)[65],
				     struct vf_plan *plan)
{
	const struct vf_kdump_info *kd = d->kdump;
	const char *machine = vf_arch_uts_machine(d);
	char want[6][65];
	for (int i = 0; i < 6; i++) {
		memset(want[i], 0, sizeof(want[i]));
		const char *v = i == 4 && machine ? machine : uts ? uts[i] : kd->utsname[i];
		memcpy(want[i], v, strnlen(v, 64));
	}
	bool same = true;
	for (int i = 0; i < 6 && same; i++)
		same = strcmp(kd->utsname[i], want[i]) == 0;
	if (same)
		return NULL;
	char why[200];
	if (!uts) {
		snprintf(why, sizeof(why), "utsname.machine \"%.20s\" becomes \"%s\", the dump's "
			 "machine: libkdumpfile (drgn) takes the architecture from it", kd->utsname[4],
			 machine);
		uint8_t *b = calloc(1, 65);
		if (!b)
			return &vf_error_nomem;
		memcpy(b, want[4], 65);
		return add_bytes_patch(plan, 0xc + 4 * 65, b, 65, "kdump header utsname.machine", why);
	}
	uint8_t *b = malloc(6 * 65);
	if (!b)
		return &vf_error_nomem;
	for (int i = 0; i < 6; i++)
		memcpy(b + 65 * i, want[i], 65);
	snprintf(why, sizeof(why), "fill it from the guest's init_uts_ns (release %.64s), as "
		 "makedumpfile does: drgn needs it; machine \"%s\"", uts[2], machine ? machine : "?");
	return add_bytes_patch(plan, 0xc, b, 6 * 65, "kdump header utsname", why);
}

void vf_plan_deinit(struct vf_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++) {
		free(plan->patches[i].why);
		free(plan->patches[i].bytes);
	}
	free(plan->patches);
	plan->patches = NULL;
	plan->n = 0;
}

/* A kdump file without a usable note: write a new notes blob (the old notes
 * plus the guest's VMCOREINFO) at the first block boundary past the end of
 * the file, and point offset_note/size_note and offset_vmcoreinfo/
 * size_vmcoreinfo at it; phys_base and utsname follow from the note. */
static struct vf_error *plan_kdump_add_note(const struct vf_dump *d, const struct vf_fix_inputs *in,
					    struct vf_plan *plan)
{
	const struct vf_kdump_info *kd = d->kdump;
	const struct vf_guest_note *gn = in->gn;
	bool be = d->big_endian;
	uint64_t sub = kd->block_size;
	struct vf_error *err;
	if (kd->header_version < 4) {
		/* no notes blob in this version: make it a version 4 header, whose
		 * sub-header fields up to size_note must fit the sub-header blocks */
		uint64_t need = (uint64_t)kd->fo.size_note + kd->fo.ulong_size;
		if ((uint64_t)kd->sub_hdr_size * kd->block_size < need)
			return vf_error_at(VF_ERR_UNSUPPORTED, 0, "the kdump sub-header (%" PRIu32
					   " blocks) has no room for the notes fields of header "
					   "version 4", kd->sub_hdr_size);
		err = add_patch(plan, 8, 4, be, 4, "kdump header_version",
				"version %d has no notes blob: 4 adds offset_note/size_note",
				kd->header_version);
		if (!err && kd->header_version < 2) {
			/* split, start_pfn and end_pfn are new in version 2: make them 0 */
			err = add_patch(plan, sub + kd->fo.split, 4, be, 0, "kdump sub-header split",
					"not a split dump (version 1 had no such field)");
			if (!err)
				err = add_patch(plan, sub + kd->fo.start_pfn, kd->fo.ulong_size, be, 0,
						"kdump sub-header start_pfn", "unused when split is 0");
			if (!err)
				err = add_patch(plan, sub + kd->fo.end_pfn, kd->fo.ulong_size, be, 0,
						"kdump sub-header end_pfn", "unused when split is 0");
		}
		if (err)
			return err;
	}
	if (d->notes_malformed)
		return vf_error_create(VF_ERR_UNSUPPORTED, "the dump has a malformed note; "
				       "rewriting its notes is not implemented");
	uint64_t size, vhdr;
	err = encode_notes(d, gn->text, gn->text_len, NULL, &size, &vhdr);
	if (err)
		return err;
	uint8_t *blob = calloc(1, (size_t)size);
	if (!blob)
		return &vf_error_nomem;
	encode_notes(d, gn->text, gn->text_len, blob, &size, &vhdr);
	uint64_t at = (d->src->size + kd->block_size - 1) / kd->block_size * kd->block_size;
	uint64_t vtext = at + vhdr + 24;
	char why[128];
	snprintf(why, sizeof(why), "the old notes and the guest's VMCOREINFO (%" PRIu32 " bytes) "
		 "after the last page", gn->text_len);
	err = add_bytes_patch(plan, at, blob, (uint32_t)size, "kdump notes blob", why);
	if (err)
		return err;
	err = add_patch(plan, sub + kd->fo.offset_note, 8, be, at, "kdump sub-header offset_note",
			"point libkdumpfile at the new notes (0x%" PRIx64 ")", at);
	if (!err)
		err = add_patch(plan, sub + kd->fo.size_note, kd->fo.ulong_size, be, size,
				"kdump sub-header size_note", "the new notes are %" PRIu64 " bytes",
				size);
	if (!err)
		err = add_patch(plan, sub + kd->fo.offset_vmcoreinfo, 8, be, vtext,
				"kdump sub-header offset_vmcoreinfo",
				"point crash at the VMCOREINFO text (0x%" PRIx64 ")", vtext);
	if (!err)
		err = add_patch(plan, sub + kd->fo.size_vmcoreinfo, kd->fo.ulong_size, be,
				gn->text_len, "kdump sub-header size_vmcoreinfo",
				"the VMCOREINFO text is %" PRIu32 " bytes", gn->text_len);
	if (err)
		return err;
	err = plan_utsname(d, in->uts, plan);
	if (err)
		return err;
	err = plan_phys_base(d, gn->vmci, "the guest's", plan);
	return err ? err : plan_kdump_trim(d, in->mem_map_end, plan);
}

#define TRIM_BITMAPS_MAX (16u << 20)

static uint64_t popcount_from(const uint8_t *b, size_t len, uint64_t first_bit)
{
	uint64_t n = 0;
	for (uint64_t i = first_bit; i < (uint64_t)len * 8; i++)
		n += (b[i / 8] >> (i % 8)) & 1;
	return n;
}

/* Bitmaps sized to the kernel's memory map.  makedumpfile re-filtering a
 * kdump file sizes the bitmaps from min(max_mapnr, the end of the kernel's
 * memory map) and reads the second bitmap there: when QEMU's max_mapnr also
 * covers device memory above RAM (VGA, BIOS: small guests), it reads the
 * wrong bytes, excludes every page and fails.  So the bitmaps shrink to the
 * memory map's end M; the blocks they free join the sub-header, so the page
 * descriptors and data stay where they are (the descriptors of pages above
 * M are the last ones and are simply no longer indexed). */
static struct vf_error *plan_kdump_trim(const struct vf_dump *d, uint64_t m,
					struct vf_plan *plan)
{
	const struct vf_kdump_info *kd = d->kdump;
	uint64_t bs = kd->block_size;
	bool be = d->big_endian;
	if (!m || m >= kd->max_pfn)
		return NULL;
	uint64_t half = ((m + 7) / 8 + bs - 1) / bs * bs;
	if (half >= kd->bitmap_len)
		return NULL;  /* the bitmaps already have the size makedumpfile computes */
	if (2 * half > TRIM_BITMAPS_MAX)
		return NULL;
	uint64_t freed = 2 * (kd->bitmap_len - half) / bs;
	uint64_t new_sub = kd->sub_hdr_size + freed;
	if (new_sub > INT32_MAX)
		return NULL;
	uint8_t *b = malloc((size_t)(2 * half));
	if (!b)
		return &vf_error_nomem;
	struct vf_error *err = vf_src_read(d->src, b, (size_t)half, kd->bitmap1_offset,
					   "kdump first bitmap");
	if (!err)
		err = vf_src_read(d->src, b + half, (size_t)half, kd->bitmap2_offset,
				  "kdump second bitmap");
	/* how many dumped pages lie above m: read the rest of the second bitmap */
	uint64_t dropped = popcount_from(b + half, (size_t)half, m);
	uint8_t *chunk = err ? NULL : malloc(1u << 16);
	if (!err && !chunk)
		err = &vf_error_nomem;
	for (uint64_t o = half; !err && o < kd->bitmap_len; o += 1u << 16) {
		size_t n = kd->bitmap_len - o < (1u << 16) ? (size_t)(kd->bitmap_len - o) : 1u << 16;
		err = vf_src_read(d->src, chunk, n, kd->bitmap2_offset + o, "kdump second bitmap");
		if (!err)
			dropped += popcount_from(chunk, n, 0);
	}
	free(chunk);
	if (err) {
		free(b);
		return err;
	}
	for (uint64_t bit = m; bit < half * 8; bit++) {
		b[bit / 8] &= (uint8_t)~(1u << (bit % 8));
		b[half + bit / 8] &= (uint8_t)~(1u << (bit % 8));
	}
	uint64_t at = (1 + new_sub) * bs;
	char why[200];
	snprintf(why, sizeof(why), "bitmaps for the kernel's memory map (pfn 0x%" PRIx64 "), so "
		 "makedumpfile can re-filter; %" PRIu64 " dumped pages above it (device memory) "
		 "are no longer indexed", m, dropped);
	err = add_bytes_patch(plan, at, b, (uint32_t)(2 * half), "kdump bitmaps", why);
	if (!err)
		err = add_patch(plan, kd->fo.sub_hdr_size, 4, be, new_sub, "kdump header sub_hdr_size",
				"the %" PRIu64 " blocks the smaller bitmaps free join the sub-header: "
				"the page descriptors stay where they are", freed);
	if (!err)
		err = add_patch(plan, kd->fo.bitmap_blocks, 4, be, 2 * half / bs,
				"kdump header bitmap_blocks", "two bitmaps of %" PRIu64 " bytes", half);
	if (!err && m <= UINT32_MAX)
		err = add_patch(plan, kd->fo.max_mapnr, 4, be, m, "kdump header max_mapnr",
				"the end of the kernel's memory map (was 0x%" PRIx32 ")", kd->max_mapnr);
	if (!err && kd->header_version >= 6)
		err = add_patch(plan, bs + kd->fo.max_mapnr_64, 8, be, m,
				"kdump sub-header max_mapnr_64", "the end of the kernel's memory map "
				"(was 0x%" PRIx64 ")", kd->max_mapnr_64);
	return err;
}

static struct vf_error *plan_kdump(const struct vf_dump *d, const struct vf_fix_inputs *in,
				   struct vf_plan *plan)
{
	const struct vf_guest_note *gn = in->gn;
	const struct vf_kdump_info *kd = d->kdump;
	uint64_t sub = kd->block_size;
	struct vf_error *err;

	if (d->vmci_origin == VF_VMCI_NONE || !d->vmci) {
		if (!gn)
			return vf_error_set_hint(vf_error_create(VF_ERR_REFUSED, "the dump has no "
				"usable VMCOREINFO note and no region was given"),
				"give the note's place in guest memory: --region-file (a copy of the "
				"guest's /sys/kernel/vmcoreinfo), --region ADDR,SIZE or --fw-cfg FILE");
		return plan_kdump_add_note(d, in, plan);
	}
	if (gn) {
		bool same = d->vmci_size == gn->text_len &&
			    memcmp(d->vmci_origin == VF_VMCI_NOTE ? d->vmci_note->desc
								  : d->vmci_pointer_text,
				   gn->text, gn->text_len) == 0;
		if (!same && !in->replace_note)
			return notes_differ();
		if (!same)
			return plan_kdump_add_note(d, in, plan);
	}

	/* offset_vmcoreinfo/size_vmcoreinfo: crash finds the note only through them */
	if (d->vmci_origin == VF_VMCI_NOTE && kd->header_version >= 3 &&
	    (kd->offset_vmcoreinfo != d->vmci_note->desc_offset ||
	     kd->size_vmcoreinfo != d->vmci_note->descsz)) {
		err = add_patch(plan, sub + kd->fo.offset_vmcoreinfo, 8, d->big_endian,
				d->vmci_note->desc_offset, "kdump sub-header offset_vmcoreinfo",
				"point crash at the VMCOREINFO text inside the notes (0x%" PRIx64 ")",
				d->vmci_note->desc_offset);
		if (!err)
			err = add_patch(plan, sub + kd->fo.size_vmcoreinfo, kd->fo.ulong_size,
					d->big_endian, d->vmci_note->descsz,
					"kdump sub-header size_vmcoreinfo",
					"the VMCOREINFO text is %" PRIu32 " bytes", d->vmci_note->descsz);
		if (err)
			return err;
	}

	err = plan_utsname(d, in->uts, plan);
	if (err)
		return err;

	err = plan_phys_base(d, d->vmci, "the dump's", plan);
	return err ? err : plan_kdump_trim(d, in->mem_map_end, plan);
}

/* ----------------------------------------------------------------- ELF
 * Output layout: ELF header, program headers right after it (PT_NOTE
 * first), all notes (the original ones, then exactly one VMCOREINFO), then
 * the data exactly as in the input, moved by whole 4 KiB blocks when the
 * header region has grown past the first data byte.  Section headers are
 * dropped (a core needs none; QEMU's e_ehsize and layout are what
 * makedumpfile chokes on). */

#define ELF_SHIFT_UNIT 4096u

static void put(uint8_t **p, size_t n, bool be, uint64_t v)
{
	vf_store_uint(*p, n, be, v);
	*p += n;
}

static void encode_phdr(uint8_t *p, bool is64, bool be, const struct vf_elf_phdr *ph)
{
	if (is64) {
		put(&p, 4, be, ph->type); put(&p, 4, be, ph->flags); put(&p, 8, be, ph->offset);
		put(&p, 8, be, ph->vaddr); put(&p, 8, be, ph->paddr); put(&p, 8, be, ph->filesz);
		put(&p, 8, be, ph->memsz); put(&p, 8, be, ph->align);
	} else {
		put(&p, 4, be, ph->type); put(&p, 4, be, ph->offset); put(&p, 4, be, ph->vaddr);
		put(&p, 4, be, ph->paddr); put(&p, 4, be, ph->filesz); put(&p, 4, be, ph->memsz);
		put(&p, 4, be, ph->flags); put(&p, 4, be, ph->align);
	}
}

static struct vf_error *plan_elf(const struct vf_dump *d, const struct vf_fix_inputs *in,
				 struct vf_plan *plan)
{
	const struct vf_elf_info *e = d->elf;
	bool is64 = d->elf_class == 64, be = d->big_endian;
	size_t ehsz = is64 ? 64 : 52, phsz = is64 ? 56 : 32;

	if (d->notes_malformed)
		return vf_error_set_hint(vf_error_create(VF_ERR_UNSUPPORTED, "the dump has a "
				"malformed note (%s); rewriting its notes is not implemented",
				d->notes_malformed->message), "vmcore-fix --inspect shows where");

	/* the VMCOREINFO text to write: the dump's, else the guest's */
	const uint8_t *vtext = NULL;
	uint32_t vlen = 0;
	const char *vsrc;
	if (d->vmci && d->vmci_origin == VF_VMCI_NOTE) {
		vtext = d->vmci_note->desc;
		vlen = d->vmci_note->descsz;
		vsrc = "the dump's";
		if (in->gn && (in->gn->text_len != vlen || memcmp(in->gn->text, vtext, vlen))) {
			if (!in->replace_note)
				return notes_differ();
			vtext = in->gn->text;
			vlen = in->gn->text_len;
			vsrc = "the guest's (replacing the dump's)";
		}
	} else if (in->gn) {
		vtext = in->gn->text;
		vlen = in->gn->text_len;
		vsrc = "the guest's";
	} else {
		struct vf_error *err = vf_error_create(VF_ERR_REFUSED, "the dump has no usable "
						       "VMCOREINFO note and no region was given");
		return vf_error_set_hint(err, "give the note's place in guest memory: --region-file "
					 "(a copy of the guest's /sys/kernel/vmcoreinfo), --region "
					 "ADDR,SIZE or --fw-cfg FILE");
	}

	/* notes: every original one but VMCOREINFO, then one VMCOREINFO */
	uint64_t nsize, vhdr;
	struct vf_error *err = encode_notes(d, vtext, vlen, NULL, &nsize, &vhdr);
	if (err)
		return err;
	size_t nother = 0;
	const struct vf_elf_phdr *first_note = NULL;
	uint64_t data = d->src->size;
	for (size_t i = 0; i < e->phnum; i++) {
		const struct vf_elf_phdr *ph = &e->phdrs[i];
		if (ph->type == PT_NOTE) {
			if (!first_note)
				first_note = ph;
			continue;
		}
		nother++;
		if (ph->filesz && ph->offset < data)
			data = ph->offset;
	}
	/* the kernel image's PT_LOADs, as /proc/vmcore has them: old tools (and drgn
	 * before it reads page tables) translate kernel addresses with them.  One
	 * for each piece of the image's physical range that a PT_LOAD holds (a
	 * filtered dump has many), so the whole image is mapped; existing ones are
	 * replaced unless they already cover every such byte. */
	struct vf_elf_phdr *kp = NULL;
	size_t nk = 0, ndrop = 0;
	bool *drop = NULL;
	if (in->ktext_size && is64) {
		uint64_t kv = in->ktext_vaddr, kpa = in->ktext_paddr, ks = in->ktext_size;
		uint64_t have = 0, want = 0;
		bool wrong = false;
		drop = calloc(e->phnum ? e->phnum : 1, sizeof(*drop));
		kp = calloc(e->phnum ? e->phnum : 1, sizeof(*kp));
		if (!drop || !kp) {
			free(drop);
			free(kp);
			return &vf_error_nomem;
		}
		for (size_t i = 0; i < e->phnum; i++) {
			const struct vf_elf_phdr *ph = &e->phdrs[i];
			if (ph->type != PT_LOAD || ph->vaddr < kv || ph->vaddr - kv >= ks)
				continue;
			drop[i] = true;  /* maps the kernel image */
			ndrop++;
			/* at the note's phys_base, or it counts for nothing */
			if (ph->paddr == kpa + (ph->vaddr - kv))
				have += ph->filesz < ks - (ph->vaddr - kv) ? ph->filesz
									    : ks - (ph->vaddr - kv);
			else
				have = 0, wrong = true;
		}
		for (size_t i = 0; i < e->phnum; i++) {
			const struct vf_elf_phdr *ph = &e->phdrs[i];
			if (ph->type != PT_LOAD || drop[i] || !ph->filesz)
				continue;
			uint64_t lo = ph->paddr > kpa ? ph->paddr : kpa;
			uint64_t pend = ph->paddr + ph->filesz < ph->paddr ? UINT64_MAX
							: ph->paddr + ph->filesz;
			uint64_t hi = pend < kpa + ks ? pend : kpa + ks;
			if (lo >= hi)
				continue;
			kp[nk++] = (struct vf_elf_phdr){ .type = PT_LOAD, .flags = PF_R | PF_W | PF_X,
				.offset = ph->offset + (lo - ph->paddr), .vaddr = kv + (lo - kpa),
				.paddr = lo, .filesz = hi - lo, .memsz = hi - lo, .align = ph->align };
			want += hi - lo;
		}
		if (!nk || (!wrong && have >= want)) {  /* nothing of it here, or already mapped */
			nk = 0;
			ndrop = 0;
			memset(drop, 0, e->phnum * sizeof(*drop));
		}
	}
	bool add_ktext = nk != 0;
	size_t nph = 1 + nother - ndrop + nk;
	uint64_t hsize = ehsz + nph * phsz + nsize;
	uint64_t shift = hsize <= data ? 0 : (hsize - data + ELF_SHIFT_UNIT - 1) /
					      ELF_SHIFT_UNIT * ELF_SHIFT_UNIT;
	uint8_t *h = NULL;
	if (nph >= PN_XNUM)
		err = vf_error_create(VF_ERR_UNSUPPORTED, "rewriting an ELF dump with %zu program "
				      "headers (PN_XNUM) is not implemented yet", nph);
	else if (hsize > (64u << 20))
		err = vf_error_create(VF_ERR_UNSUPPORTED, "a header region of %" PRIu64 " bytes "
				      "is larger than supported", hsize);
	else if (!(h = calloc(1, (size_t)hsize)))
		err = &vf_error_nomem;
	if (err) {
		free(kp);
		free(drop);
		return err;
	}
	uint8_t *p = h;
	memcpy(p, ELFMAG, SELFMAG);
	p[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
	p[EI_DATA] = be ? ELFDATA2MSB : ELFDATA2LSB;
	p[EI_VERSION] = EV_CURRENT;
	p[EI_OSABI] = e->osabi;
	p += EI_NIDENT;
	size_t w = is64 ? 8 : 4;
	put(&p, 2, be, ET_CORE); put(&p, 2, be, e->e_machine); put(&p, 4, be, e->e_version);
	put(&p, w, be, e->e_entry); put(&p, w, be, ehsz); put(&p, w, be, 0);
	put(&p, 4, be, e->e_flags); put(&p, 2, be, ehsz); put(&p, 2, be, phsz);
	/* no section headers; an e_shentsize without any is kept (no reader looks) */
	put(&p, 2, be, nph);
	put(&p, 2, be, !e->e_shoff && !e->e_shnum ? e->e_shentsize : 0);
	put(&p, 2, be, 0); put(&p, 2, be, 0);

	uint64_t noff = ehsz + nph * phsz;
	struct vf_elf_phdr note = { .type = PT_NOTE, .offset = noff, .filesz = nsize,
				    .memsz = nsize, .flags = first_note ? first_note->flags : 0,
				    .align = first_note ? first_note->align : 0 };
	encode_phdr(h + ehsz, is64, be, &note);
	size_t k = 1;
	for (size_t i = 0; i < nk; i++) {
		kp[i].offset += shift;
		encode_phdr(h + ehsz + k++ * phsz, is64, be, &kp[i]);
	}
	for (size_t i = 0; i < e->phnum; i++) {
		struct vf_elf_phdr ph = e->phdrs[i];
		if (ph.type == PT_NOTE || (drop && drop[i]))
			continue;
		if (ph.filesz)
			ph.offset += shift;
		encode_phdr(h + ehsz + k++ * phsz, is64, be, &ph);
	}
	free(kp);
	free(drop);
	encode_notes(d, vtext, vlen, h + noff, &nsize, &vhdr);

	/* already so? then nothing to write */
	if (!shift) {
		uint8_t *cur = malloc((size_t)hsize);
		if (!cur) {
			free(h);
			return &vf_error_nomem;
		}
		err = vf_src_read(d->src, cur, (size_t)hsize, 0, "ELF headers");
		bool same = !err && memcmp(cur, h, (size_t)hsize) == 0;
		free(cur);
		if (err || same) {
			free(h);
			return err;
		}
	}

	char why[320], kt[64] = "";
	if (add_ktext)
		snprintf(kt, sizeof(kt), ", then the kernel image's PT_LOAD%s", nk > 1 ? "s" : "");
	if (nk > 1)
		snprintf(kt + strlen(kt), sizeof(kt) - strlen(kt), " (%zu pieces)", nk);
	snprintf(why, sizeof(why), "ELF header, %zu program headers right after it (PT_NOTE "
		 "first%s) and %zu notes before the data%s; VMCOREINFO: %s", nph, kt,
		 (size_t)(d->nnotes - d->vmci_count) + 1, shift ? ", which moves" : "",
		 in->note_origin ? in->note_origin : vsrc);
	err = add_bytes_patch(plan, 0, h, (uint32_t)hsize, "ELF header region", why);
	if (err)
		return err;
	if (shift) {
		plan->shift_from = data;
		plan->shift = shift;
	}
	return NULL;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* kdump patches stay inside the headers and bitmaps, which page data never
 * points into (the reader refuses that); what else the dump's own structures
 * point at there and the fix keeps, it must not overwrite: the notes and the
 * VMCOREINFO text (when no new notes blob replaces them).  ELF rewrites its
 * header region whole and moves the data past it, so nothing is kept there. */
static struct vf_error *check_overlaps(const struct vf_dump *d, const struct vf_plan *plan)
{
	if (d->format != VF_FORMAT_KDUMP)
		return NULL;
	for (size_t i = 0; i < plan->n; i++)
		if (!strcmp(plan->patches[i].field, "kdump notes blob"))
			return NULL;  /* old notes and text are rewritten past the end */
	for (size_t i = 0; i < plan->n; i++) {
		const struct vf_patch *p = &plan->patches[i];
		for (size_t r = 0; r < d->nregions; r++) {
			if (!overlaps(p->offset, p->len, d->regions[r].offset, d->regions[r].size))
				continue;
			return vf_error_set_hint(vf_error_at(VF_ERR_REFUSED, p->offset, "the fix of the "
					"%s would overwrite the dump's own notes (0x%" PRIx64 "+0x%"
					PRIx64 "): its header fields and its notes overlap", p->field,
					d->regions[r].offset, d->regions[r].size),
					"the layout is damaged or hostile; nothing was written");
		}
		if (d->vmci_origin != VF_VMCI_NONE &&
		    overlaps(p->offset, p->len, d->vmci_offset, d->vmci_size))
			return vf_error_set_hint(vf_error_at(VF_ERR_REFUSED, p->offset, "the fix of the "
					"%s would overwrite the dump's VMCOREINFO text (0x%" PRIx64
					"+0x%" PRIx64 ")", p->field, d->vmci_offset, d->vmci_size),
					"the layout is damaged or hostile; nothing was written");
	}
	return NULL;
}

struct vf_error *vf_plan_fix(const struct vf_dump *dump, const struct vf_fix_inputs *in,
			     struct vf_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	struct vf_error *err;
	if (dump->e_machine == EM_NONE)
		return vf_error_set_hint(vf_error_create(VF_ERR_REFUSED, "the dumped machine cannot "
			"be told from the dump's content (%s): phys_base, utsname, the bitmaps and "
			"the kernel image's mapping all depend on it",
			dump->machine_conflict ? dump->machine_conflict
					       : "no ELF e_machine, no CPU notes, no VMCOREINFO key "
						 "of one architecture"),
			"vmcore-fix --inspect shows what the dump says; a dump from QEMU's "
			"dump-guest-memory has one NT_PRSTATUS note per CPU");
	if (dump->format == VF_FORMAT_KDUMP)
		err = plan_kdump(dump, in, plan);
	else
		err = plan_elf(dump, in, plan);
	if (!err)
		err = check_overlaps(dump, plan);
	if (err)
		vf_plan_deinit(plan);
	return err;
}
