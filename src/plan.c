/* plan.c - decide which bytes change, and why. */
#include "config.h"
#include "plan.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "inspect.h"

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

/* The kdump header's utsname, as makedumpfile fills it, from init_uts_ns. */
static struct vf_error *plan_utsname(const struct vf_dump *d, const char (*uts)[65],
				     struct vf_plan *plan)
{
	const struct vf_kdump_info *kd = d->kdump;
	bool same = true;
	for (int i = 0; i < 6 && same; i++)
		same = strcmp(kd->utsname[i], uts[i]) == 0;
	if (same)
		return NULL;
	struct vf_error *err = add_patch(plan, 0xc, 8, false, 0, "kdump header utsname",
					 "fill it from the guest's init_uts_ns (release %s), as "
					 "makedumpfile does: drgn needs it", uts[2]);
	if (err)
		return err;
	struct vf_patch *p = &plan->patches[plan->n - 1];
	uint8_t *b = realloc(p->bytes, 6 * 65);
	if (!b)
		return &vf_error_nomem;
	p->bytes = b;
	p->len = 6 * 65;
	p->is_number = false;
	p->value = 0;
	for (int i = 0; i < 6; i++)
		memcpy(b + 65 * i, uts[i], 65);
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
}

static struct vf_error *plan_kdump(const struct vf_dump *d, const struct vf_fix_inputs *in,
				   struct vf_plan *plan)
{
	const struct vf_guest_note *gn = in->gn;
	const struct vf_kdump_info *kd = d->kdump;
	uint64_t sub = kd->block_size;
	struct vf_error *err;

	if (d->vmci_origin == VF_VMCI_NONE || !d->vmci) {
		err = vf_error_create(VF_ERR_UNSUPPORTED, "this kdump file has no usable "
				      "VMCOREINFO note, and adding one to a kdump file is not "
				      "implemented yet");
		return vf_error_set_hint(err, "%s", gn ? "the guest's note is valid; until vmcore-fix "
					 "can add it, take the dump again with -device vmcoreinfo"
					 : "give the note's region with --region or --fw-cfg to check "
					 "the guest's note (vmcore-fix --inspect)");
	}
	if (gn) {
		bool same = d->vmci_size == gn->text_len &&
			    memcmp(d->vmci_origin == VF_VMCI_NOTE ? d->vmci_note->desc
								  : d->vmci_pointer_text,
				   gn->text, gn->text_len) == 0;
		if (!same)
			return vf_error_set_hint(vf_error_create(VF_ERR_UNSUPPORTED,
				"the guest's note differs from the dump's, and replacing a kdump "
				"file's note is not implemented yet"),
				"check which one is right with vmcore-fix --inspect --region ...");
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

	if (in->uts) {
		err = plan_utsname(d, in->uts, plan);
		if (err)
			return err;
	}

	uint64_t pb;
	const char *key = NULL;
	err = vf_note_phys_base(d, &pb, &key);
	if (err && err->code == VF_ERR_NOT_FOUND) {
		/* no phys_base key for this machine, or none in the note: nothing to set */
		vf_error_destroy(err);
		return NULL;
	}
	if (err)
		return err;
	uint64_t want = kd->fo.phys_base_size == 4 ? pb & 0xffffffffu : pb;
	if (kd->phys_base != want)
		return add_patch(plan, sub + kd->fo.phys_base, kd->fo.phys_base_size, d->big_endian,
				 want, "kdump sub-header phys_base",
				 "set phys_base from VMCOREINFO %s=%s (was 0x%" PRIx64 ")", key,
				 vf_vmcoreinfo_get(d->vmci, key), kd->phys_base);
	return NULL;
}

struct vf_error *vf_plan_fix(const struct vf_dump *dump, const struct vf_fix_inputs *in,
			     struct vf_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	struct vf_error *err;
	if (dump->format == VF_FORMAT_KDUMP)
		err = plan_kdump(dump, in, plan);
	else
		err = vf_error_set_hint(vf_error_create(VF_ERR_UNSUPPORTED, "fixing ELF dumps is "
				"not implemented yet"), "vmcore-fix --inspect lists what is wrong");
	if (err)
		vf_plan_deinit(plan);
	return err;
}
