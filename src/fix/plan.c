/* plan.c - decide which bytes change, and why: what the kdump and ELF
 * planners share (patch builders, the notes encoder, the overlap check). */
#include "config.h"
#include "fix/plan.h"
#include "fix/plan_priv.h"
#include "arch/arch.h"
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

struct vf_error *vf_plan_add_number(struct vf_plan *plan, uint64_t off, uint32_t len, bool be,
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
struct vf_error *vf_plan_add_bytes(struct vf_plan *plan, uint64_t off, uint8_t *bytes,
					uint32_t len, const char *field, const char *why)
{
	struct vf_error *err = vf_plan_add_number(plan, off, 8, false, 0, field, "%s", why);
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

/* Can note n go into an output of byte order be?  In the dump's order as it
 * is; in the other only where the architecture knows its fields (then, with
 * dst, its desc is written there in that order). */
static bool note_fits(const struct vf_dump *d, const struct vf_note *n, bool be, uint8_t *dst)
{
	if (be == d->big_endian) {
		if (dst)
			memcpy(dst, n->desc, n->descsz);
		return true;
	}
	const struct vf_arch *a = vf_arch_by_em(d->e_machine);
	if (!a || !a->swap_note)
		return false;
	uint8_t *t = malloc(n->descsz ? n->descsz : 1);
	if (!t)
		return false;
	memcpy(t, n->desc, n->descsz);
	bool ok = a->swap_note(n->name, n->type, t, n->descsz);
	if (ok && dst)
		memcpy(dst, t, n->descsz);
	free(t);
	return ok;
}

/* The notes of the output, in byte order be: every original note but
 * VMCOREINFO (in the other order than the dump's, those whose layout the
 * architecture knows; *dropped counts the others), then one VMCOREINFO note
 * with text vtext.  With out NULL, only sizes are computed.  *vhdr is the
 * VMCOREINFO note's offset inside the blob. */
struct vf_error *vf_plan_encode_notes(const struct vf_dump *d, bool be, const uint8_t *vtext,
				     uint32_t vlen, uint8_t *out, uint64_t *size, uint64_t *vhdr,
				     size_t *dropped)
{
	uint64_t pos = 0;
	if (dropped)
		*dropped = 0;
	for (size_t i = 0; i < d->nnotes; i++) {
		const struct vf_note *n = &d->notes[i];
		if (vf_note_is_vmcoreinfo(n))
			continue;
		if (!note_fits(d, n, be, NULL)) {
			if (dropped)
				(*dropped)++;
			continue;
		}
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
			note_fits(d, n, be, p + 12 + ((n->namesz + 3u) & ~3u));
		}
		pos += vf_note_size(n->namesz, n->descsz);
	}
	*vhdr = pos;
	if (out)
		vf_note_encode(out + pos, be, "VMCOREINFO", 0, vtext, vlen);
	*size = pos + vf_note_size(11, vlen);
	return NULL;
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
	free(plan->runs);
	plan->runs = NULL;
	plan->nruns = 0;
}

struct vf_error *vf_plan_new_note_text(const struct vf_dump *d, const struct vf_plan_inputs *in,
				       const uint8_t **text, uint32_t *len)
{
	if (d->notes_malformed)
		return vf_error_set_hint(vf_error_create(VF_ERR_UNSUPPORTED, "the dump has a "
				"malformed note (%s); rewriting its notes is not implemented",
				d->notes_malformed->message), "vmcore-fix --inspect shows where");
	*text = in->note_text;
	*len = in->note_len;
	if (!vf_plan_keeps_note(d, in))
		return NULL;
	if (!d->vmci)
		return vf_plan_no_note();
	*text = d->vmci_origin == VF_VMCI_NOTE ? d->vmci_note->desc : d->vmci_pointer_text;
	*len = (uint32_t)d->vmci_size;
	return NULL;
}

bool vf_plan_keeps_note(const struct vf_dump *d, const struct vf_plan_inputs *in)
{
	if (!in->note_text)
		return true;
	if (d->vmci_origin == VF_VMCI_NONE || d->vmci_size != in->note_len)
		return false;
	const uint8_t *own = d->vmci_origin == VF_VMCI_NOTE ? d->vmci_note->desc
							    : d->vmci_pointer_text;
	return own && memcmp(own, in->note_text, in->note_len) == 0;
}

struct vf_error *vf_plan_no_note(void)
{
	return vf_error_set_hint(vf_error_create(VF_ERR_REFUSED, "the dump has no usable "
		"VMCOREINFO note and no region was given"), "give the note's place in guest "
		"memory: --region-file (a copy of the guest's /sys/kernel/vmcoreinfo), --region "
		"ADDR,SIZE or --fw-cfg FILE");
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

struct vf_error *vf_plan_fix(const struct vf_dump *dump, const struct vf_plan_inputs *in,
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
		err = vf_plan_kdump(dump, in, plan);
	else
		err = vf_plan_elf(dump, in, plan);
	if (!err)
		err = check_overlaps(dump, plan);
	if (err)
		vf_plan_deinit(plan);
	return err;
}
