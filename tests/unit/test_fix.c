/* test_fix.c - the fix as a library call: what vf_fix_prepare gathers from
 * guest memory and hands the planner, over generated dumps. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fix/fix.h"
#include "format/kdump.h"
#include "format/open.h"
#include "tap.h"
#include "vfgen.h"

static void text_add_phys_base(void)
{
	uint8_t *t;
	size_t n;
	static const char a[] = "OSRELEASE=x\nPAGESIZE=4096\n";
	struct vf_error *err = vf_fix_text_add_phys_base(&vf_arch_x86_64, (const uint8_t *)a, strlen(a),
							 (uint64_t)-301989888, &t, &n);
	TAP_OK(!err && n == strlen(a) + strlen("NUMBER(phys_base)=-301989888\n") &&
	       memcmp(t + strlen(a), "NUMBER(phys_base)=-301989888\n", n - strlen(a)) == 0,
	       "phys_base line appended in the kernel's signed decimal");
	if (!err)
		free(t);
	static const char b[] = "OSRELEASE=x\nPAGESIZE=4096\0\0";
	err = vf_fix_text_add_phys_base(&vf_arch_x86_64, (const uint8_t *)b, sizeof(b) - 1, 0x1000000, &t, &n);
	static const char want[] = "OSRELEASE=x\nPAGESIZE=4096\nNUMBER(phys_base)=16777216\n";
	TAP_OK(!err && n == strlen(want) && memcmp(t, want, n) == 0,
	       "trailing NULs dropped, a missing newline added before the line");
	if (!err)
		free(t);
	err = vf_fix_text_add_phys_base(vf_arch_by_name("i386"), (const uint8_t *)a, strlen(a), 0,
					&t, &n);
	TAP_OK(err && err->code == VF_ERR_UNSUPPORTED, "a machine without a phys_base key: refused");
	vf_error_destroy(err);
}

static const char kdump_spec[] =
	"format kdump\nmachine x86_64\ncompress zlib\nprstatus 1\n"
	"phys_base 0xfffffffcfe676778\n" VFGEN_KTEXT "vmcoreinfo-line NUMBER(phys_base)=16777216\n"
	"ram 0 32M sparse\n";

/* The dump's own note: phys_base from its key, utsname from init_uts_ns. */
static void kdump_own_note(void)
{
	struct vf_dump *d = vfgen_open("k", kdump_spec);
	TAP_OK(d != NULL, "kdump: generated and opened");
	if (!d)
		return;
	struct vf_fix_opts o = { 0 };
	struct vf_fix fx;
	struct vf_error *err = vf_fix_prepare(d, NULL, &o, &fx);
	TAP_OK(!err, "kdump: prepared");
	if (err) {
		vf_error_destroy(err);
		vf_dump_destroy(d);
		return;
	}
	TAP_OK(fx.in.have_phys_base && fx.in.phys_base == 0x1000000 && !fx.phys_base_how,
	       "kdump: phys_base from the note, not derived");
	TAP_EQ_STR(fx.in.phys_base_origin, "the dump's VMCOREINFO NUMBER(phys_base)=16777216",
		   "kdump: the planner is told where phys_base comes from");
	TAP_OK(fx.in.note_text == NULL, "kdump: the dump's own note is kept (no text given)");
	const struct vf_patch *pb = plan_find(&fx.plan, "kdump sub-header phys_base");
	TAP_OK(pb && pb->value == 0x1000000, "kdump: QEMU's misparsed phys_base replaced");
	/* the kdump planner is given init_uts_ns (vfgen puts it in memory) */
	TAP_OK(fx.in.uts != NULL && strcmp(fx.uts[2], "6.1.0-56-amd64") == 0,
	       "kdump: init_uts_ns read from guest memory");
	const struct vf_patch *u = plan_find(&fx.plan, "kdump header utsname");
	TAP_OK(u && strcmp((const char *)u->bytes + 2 * 65, "6.1.0-56-amd64") == 0,
	       "kdump: the utsname patch carries the release");
	TAP_OK(!vf_fix_blocked(&fx), "kdump: nothing a consumer needs is missing");
	size_t len;
	const uint8_t *t = vf_fix_note_text(&fx, d, &len);
	TAP_OK(t && len == d->vmci_size, "kdump: the text written is the dump's");
	vf_fix_deinit(&fx);
	vf_dump_destroy(d);
}

/* The guest's note: refused when it differs without --replace-note; with
 * it, written, and what cannot be read for it is left alone (and blocks). */
static void guest_note(void)
{
	struct vf_dump *d = vfgen_open("e", "format elf\nmachine x86_64\nprstatus 1\n" VFGEN_KTEXT
				     "vmcoreinfo-line NUMBER(phys_base)=0\nram 0 4M\n");
	if (!d) {
		TAP_OK(0, "ELF: generated");
		return;
	}
	static const char text[] = "OSRELEASE=6.1.0-99-amd64\nPAGESIZE=4096\n";
	struct vf_guest_note gn = { .region = { .paddr = 0x2f3000, .size = 0x1000 },
				    .text = (const uint8_t *)text, .text_len = sizeof(text) - 1 };
	struct vf_error *err = vf_vmcoreinfo_parse(text, sizeof(text) - 1, &gn.vmci);
	if (err)
		abort();
	struct vf_fix_opts o = { 0 };
	struct vf_fix fx;
	err = vf_fix_prepare(d, &gn, &o, &fx);
	TAP_OK(err && err->code == VF_ERR_REFUSED && strstr(err->message, "differs"),
	       "a guest note other than the dump's: refused without --replace-note");
	TAP_OK(err && err->hint && strstr(err->hint, "--replace-note"), "the hint names --replace-note");
	vf_error_destroy(err);

	o.replace_note = true;
	err = vf_fix_prepare(d, &gn, &o, &fx);
	TAP_OK(!err, "with --replace-note: prepared");
	if (!err) {
		TAP_OK(fx.in.note_text == gn.text, "the guest's text goes to the planner");
		TAP_EQ_STR(fx.in.note_origin, "the guest's (replacing the dump's)", "its origin");
		TAP_OK(fx.have_note_paddr && fx.note_paddr == 0x2f3000, "its address, for the read-back");
		TAP_OK(!fx.in.have_phys_base, "the guest's note has no phys_base: none claimed");
		/* its text has no phys_base and no kernel symbols: neither can be had */
		bool ktext = false, uts_soft = false;
		for (size_t i = 0; i < fx.nleft; i++) {
			ktext |= !strcmp(fx.left[i].field, "kernel image PT_LOAD") && fx.left[i].blocks;
			uts_soft |= !strcmp(fx.left[i].field, "note's init_uts_ns") && !fx.left[i].blocks;
		}
		TAP_OK(ktext, "its kernel image cannot be mapped: left alone, blocking");
		TAP_OK(uts_soft, "no SYMBOL(init_uts_ns) to check: left alone, not blocking");
		struct vf_error *b = vf_fix_blocked(&fx);
		TAP_OK(b && b->code == VF_ERR_REFUSED && strstr(b->message, "NUMBER(phys_base)") &&
		       strstr(b->message, "no kernel-image symbol"),
		       "the fix is refused, naming the first blocking item and why");
		vf_error_destroy(b);
		vf_fix_deinit(&fx);
	}
	vf_vmcoreinfo_destroy(gn.vmci);
	vf_dump_destroy(d);
}

/* x86_64 without NUMBER(phys_base) and no CPU state to walk: blocked. */
static void no_phys_base(void)
{
	struct vf_dump *d = vfgen_open("n", "format elf\nmachine x86_64\nprstatus 1\n" VFGEN_KTEXT
				     "ram 0 4M\n");
	if (!d) {
		TAP_OK(0, "ELF without phys_base: generated");
		return;
	}
	struct vf_fix_opts o = { 0 };
	struct vf_fix fx;
	struct vf_error *err = vf_fix_prepare(d, NULL, &o, &fx);
	TAP_OK(!err, "no NUMBER(phys_base): prepared");
	if (!err) {
		TAP_OK(fx.nleft >= 1 && strcmp(fx.left[0].field, "NUMBER(phys_base)") == 0 &&
		       fx.left[0].blocks, "left alone: NUMBER(phys_base), and it blocks");
		struct vf_error *b = vf_fix_blocked(&fx);
		TAP_OK(b && strstr(b->message, "NUMBER(phys_base)"), "the fix is refused, naming it");
		vf_error_destroy(b);
		vf_fix_deinit(&fx);
	}
	vf_dump_destroy(d);
}

/* --inspect's share: the dump's pending change becomes a problem. */
static void inspect_share(void)
{
	struct vf_dump *d = vfgen_open("i", kdump_spec);
	if (!d) {
		TAP_OK(0, "kdump: generated");
		return;
	}
	struct vf_problems probs;
	struct vf_error *err = vf_inspect(d, &probs);
	size_t before = err ? 0 : probs.n;
	struct vf_fix_opts o = { 0 };
	if (!err)
		err = vf_fix_inspect(d, &o, &probs);
	TAP_OK(!err, "vf_fix_inspect runs");
	bool mismatch = false;
	for (size_t i = 0; !err && i < probs.n; i++)
		mismatch |= strcmp(probs.items[i].id, "kdump-phys-base-mismatch") == 0;
	TAP_OK(mismatch, "the misparsed phys_base is a problem");
	TAP_OK(!err && probs.n >= before, "the plan's problems add to the header checks'");
	if (!err)
		vf_problems_deinit(&probs);
	vf_error_destroy(err);
	vf_dump_destroy(d);
}

int main(void)
{
	text_add_phys_base();
	if (!getenv("VFGEN")) {
		printf("# SKIP the rest: VFGEN not set (run through make check)\n");
		return tap_done();
	}
	kdump_own_note();
	guest_note();
	no_phys_base();
	inspect_share();
	return tap_done();
}
