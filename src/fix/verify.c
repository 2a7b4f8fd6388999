/* verify.c - the written dump, read back through the normal reader. */
#include "config.h"
#include "fix/verify.h"

#include <stdlib.h>
#include <string.h>

#include "format/kdump.h"
#include "format/open.h"
#include "guest/kernel.h"

static struct vf_error *mismatch(const char *what)
{
	return vf_error_set_hint(vf_error_create(VF_ERR_OS, "the written dump does not "
				 "read back as planned (%s); it was not put in place", what),
				 "this is a bug in vmcore-fix: report it with vmcore-fix --inspect "
				 "--json of the input");
}

struct vf_error *vf_verify_output(void *arg, const char *tmp)
{
	const struct vf_verify *v = arg;
	const struct vf_dump *in = v->in;
	struct vf_dump *out;
	struct vf_error *err = vf_dump_open(tmp, &out);
	if (err)
		return vf_error_prefix(err, "the written dump does not reopen");
	bool to_elf = v->plan && v->plan->to_elf;
	bool converts = v->plan && vf_plan_converts(v->plan);
	enum vf_format want = to_elf ? VF_FORMAT_ELF : v->plan && v->plan->to_kdump ?
			      VF_FORMAT_KDUMP : in->format;
	/* an ELF output, and a converted one, is in the guest's byte order
	 * (QEMU's ppc64le dumps are labelled big-endian) */
	bool want_be = want == VF_FORMAT_ELF || converts ? in->guest_big_endian : in->big_endian;
	if (out->format != want || out->elf_class != in->elf_class ||
	    out->big_endian != want_be || out->guest_big_endian != in->guest_big_endian)
		err = mismatch("another format, word size or byte order");
	else if (out->e_machine != in->e_machine)
		err = mismatch("another machine");
	else if (!converts && in->format == VF_FORMAT_KDUMP &&
		 (out->kdump->layout != in->kdump->layout ||
		  out->kdump->block_size != in->kdump->block_size))
		err = mismatch("another kdump header layout or block size");
	else if (!out->vmci)
		err = mismatch("no readable VMCOREINFO note");
	else if (v->text && (out->vmci_size != v->text_len ||
			     memcmp(out->vmci_origin == VF_VMCI_NOTE ? out->vmci_note->desc
					: out->vmci_pointer_text, v->text, v->text_len) != 0))
		err = mismatch("another VMCOREINFO text");
	/* every patch reads back as planned (through the reader: the reassembled
	 * file when flattened) */
	for (size_t i = 0; !err && v->plan && i < v->plan->n; i++) {
		const struct vf_patch *p = &v->plan->patches[i];
		uint8_t *got = malloc(p->len ? p->len : 1);
		if (!got) {
			err = &vf_error_nomem;
			break;
		}
		err = vf_src_read(out->src, got, p->len, p->offset, "the written dump");
		if (!err && memcmp(got, p->bytes, p->len) != 0)
			err = mismatch(p->field);
		free(got);
	}
	uint8_t b[512];
	for (size_t i = 0; !err && i < v->npaddrs; i++) {
		if (!v->have[i])  /* not in the input: nothing to compare */
			continue;
		/* a new kdump leaves out what lies above the kernel's memory map */
		if (v->plan && v->plan->to_kdump &&
		    v->paddrs[i] / v->plan->kd.block >= v->plan->kd.max_pfn)
			continue;
		struct vf_error *eb = vf_mem_read(&out->mem, v->paddrs[i], b, sizeof(b));
		if (eb || memcmp(v->sample[i], b, sizeof(b)) != 0)
			err = mismatch("guest memory reads differently");
		vf_error_destroy(eb);
	}
	vf_dump_destroy(out);
	return err ? vf_error_set_path(err, v->target) : NULL;
}

void vf_verify_init(struct vf_verify *v, const struct vf_dump *dump, const struct vf_fix *fx,
		    const char *target)
{
	memset(v, 0, sizeof(*v));
	v->in = dump;
	v->plan = &fx->plan;
	v->target = target;
	v->text = vf_fix_note_text(fx, dump, &v->text_len);
	if (fx->have_note_paddr)
		v->paddrs[v->npaddrs++] = fx->note_paddr;
	const struct vf_vmcoreinfo *vmci = fx->vmci;
	uint64_t sym, pa;
	struct vf_error *e = vmci ? vf_vmcoreinfo_number(vmci, "SYMBOL(init_uts_ns)", &sym)
				  : vf_error_create(VF_ERR_NOT_FOUND, "no note");
	if (!e && !(e = vf_kernel_vtop(dump, vmci, sym, &pa)))
		v->paddrs[v->npaddrs++] = pa;
	vf_error_destroy(e);
	for (size_t i = 0; i < dump->mem.nranges && v->npaddrs < VF_VERIFY_SAMPLES; i++)
		v->paddrs[v->npaddrs++] = dump->mem.ranges[i].start;
	for (size_t i = 0; i < v->npaddrs; i++) {
		e = vf_mem_read((struct vf_mem *)&dump->mem, v->paddrs[i], v->sample[i],
				sizeof(v->sample[i]));
		v->have[i] = !e;
		vf_error_destroy(e);
	}
}
