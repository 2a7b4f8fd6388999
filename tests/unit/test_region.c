/* test_region.c - the vmcoreinfo region from user evidence, and the guest
 * note read from memory and validated as QEMU does. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"
#include "guest/guestnote.h"
#include "util/notes.h"
#include "guest/region.h"
#include "tap.h"

/* A fake guest memory: [base, base + len) backed by buf; the rest absent. */
struct fake {
	uint64_t base;
	uint8_t buf[8192];
};

static struct vf_error *fake_read(void *ctx, uint64_t paddr, void *out, size_t len)
{
	struct fake *f = ctx;
	if (paddr < f->base || paddr - f->base + len > sizeof(f->buf))
		return vf_error_paddr(VF_ERR_NOT_PRESENT, paddr, "not in this dump");
	memcpy(out, f->buf + (paddr - f->base), len);
	return NULL;
}

static const struct vf_mem_ops fake_ops = { .read = fake_read };

static const char text[] = "OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\nNUMBER(phys_base)=-301989888\n";

int main(void)
{
	struct vf_region r;
	struct vf_error *err = vf_region_parse("0x00000000013ae000 1024\n", &r);
	TAP_OK(!err && r.paddr == 0x13ae000 && r.size == 0x1024 && r.origin == VF_REGION_SYSFS,
	       "the sysfs line: both numbers hex");
	err = vf_region_parse("0x13ae000,4132", &r);
	TAP_OK(!err && r.paddr == 0x13ae000 && r.size == 4132 && r.origin == VF_REGION_ARG,
	       "ADDR,SIZE: C prefixes (decimal size)");
	err = vf_region_parse("20637696:0x1024", &r);
	TAP_OK(!err && r.paddr == 20637696 && r.size == 0x1024, "ADDR:SIZE");
	const char *bad[] = { "", "0x13ae000", "zz 10", "0x10,", "-1,10", "0x10 10 10" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		err = vf_region_parse(bad[i], &r);
		TAP_OK(err && err->code == VF_ERR_INVALID && err->hint, "'%s' is rejected with a hint",
		       bad[i]);
		vf_error_destroy(err);
	}
	err = vf_region_parse("0x1000 100000", &r);
	TAP_OK(err && err->code == VF_ERR_REFUSED && strstr(err->message, "1 MiB"),
	       "a region of 1 MiB or more is refused");
	vf_error_destroy(err);
	err = vf_region_parse("0x1000,0", &r);
	TAP_OK(err && err->code == VF_ERR_REFUSED, "size 0 is refused");
	vf_error_destroy(err);

	/* the bytes a 6.1 guest wrote (FORMATS.md) */
	uint8_t fw[16] = { 0x00, 0x00, 0x01, 0x00, 0x24, 0x10, 0x00, 0x00,
			   0x00, 0xe0, 0x3a, 0x01, 0x00, 0x00, 0x00, 0x00 };
	err = vf_region_from_fwcfg(fw, 16, &r);
	TAP_OK(!err && r.paddr == 0x13ae000 && r.size == 0x1024 && r.origin == VF_REGION_FWCFG,
	       "fw_cfg entry decodes little-endian");
	err = vf_region_from_fwcfg(fw, 15, &r);
	TAP_OK(err && err->code == VF_ERR_REFUSED && strstr(err->message, "15 bytes"),
	       "a short entry is refused");
	vf_error_destroy(err);
	fw[2] = 0;
	err = vf_region_from_fwcfg(fw, 16, &r);
	TAP_OK(err && err->code == VF_ERR_REFUSED && strstr(err->message, "guest_format is 0") &&
	       err->hint, "guest_format 0: the guest disabled it");
	vf_error_destroy(err);
	fw[2] = 2;
	err = vf_region_from_fwcfg(fw, 16, &r);
	TAP_OK(err && err->code == VF_ERR_REFUSED && strstr(err->message, "not supported"),
	       "an unknown guest_format is refused");
	vf_error_destroy(err);
	fw[2] = 1;
	fw[6] = 0x10;  /* size 0x101024 */
	err = vf_region_from_fwcfg(fw, 16, &r);
	TAP_OK(err && err->code == VF_ERR_REFUSED, "fw_cfg size of 1 MiB or more is refused");
	vf_error_destroy(err);

	/* guest notes */
	for (int be = 0; be <= 1; be++) {
		struct fake *f = calloc(1, sizeof(*f));
		f->base = 0x13ae000;
		size_t n = vf_note_encode(f->buf, be, "VMCOREINFO", 0, text, sizeof(text) - 1);
		struct vf_mem mem = { .ops = &fake_ops, .ctx = f };
		struct vf_region reg = { 0x13ae000, 0x1024, VF_REGION_SYSFS };
		struct vf_guest_note gn;
		err = vf_guest_note_read(&mem, &reg, be, 4096, &gn);
		TAP_OK(!err && gn.len == n && gn.text_len == sizeof(text) - 1 &&
		       strcmp(vf_vmcoreinfo_get(gn.vmci, "OSRELEASE"), "6.1.0-56-amd64") == 0,
		       "a valid note is read and parsed (be=%d)", be);
		vf_guest_note_deinit(&gn);

		err = vf_guest_note_read(&mem, &reg, be, 65536, &gn);
		TAP_OK(!err, "a PAGESIZE dividing the dump's page (a 64 KiB kdump block) is accepted");
		vf_guest_note_deinit(&gn);
		err = vf_guest_note_read(&mem, &reg, be, 2048, &gn);
		TAP_OK(err && err->code == VF_ERR_REFUSED && strstr(err->message, "PAGESIZE"),
		       "a PAGESIZE larger than the dump's page is refused");
		vf_error_destroy(err);

		struct vf_region small = { 0x13ae000, 64, VF_REGION_ARG };
		err = vf_guest_note_read(&mem, &small, be, 4096, &gn);
		TAP_OK(err && err->code == VF_ERR_REFUSED && strstr(err->message, "run past"),
		       "a note larger than the region is refused");
		vf_error_destroy(err);

		struct vf_region away = { 0x100000, 0x1024, VF_REGION_ARG };
		err = vf_guest_note_read(&mem, &away, be, 4096, &gn);
		TAP_OK(err && err->code == VF_ERR_NOT_PRESENT, "an address not in memory passes "
		       "the memory error through");
		vf_error_destroy(err);

		vf_store_uint(f->buf + 8, 4, be, 1);  /* type 1 */
		err = vf_guest_note_read(&mem, &reg, be, 4096, &gn);
		TAP_OK(err && err->code == VF_ERR_REFUSED && strstr(err->message, "not a VMCOREINFO"),
		       "another note type is refused");
		vf_error_destroy(err);
		vf_store_uint(f->buf + 8, 4, be, 0);
		memcpy(f->buf + 12, "VMCOREINFX", 10);
		err = vf_guest_note_read(&mem, &reg, be, 4096, &gn);
		TAP_OK(err && err->code == VF_ERR_REFUSED, "another note name is refused");
		vf_error_destroy(err);

		const char noos[] = "PAGESIZE=4096\n";
		vf_note_encode(f->buf, be, "VMCOREINFO", 0, noos, sizeof(noos) - 1);
		err = vf_guest_note_read(&mem, &reg, be, 4096, &gn);
		TAP_OK(err && err->code == VF_ERR_REFUSED && strstr(err->message, "OSRELEASE"),
		       "a note without OSRELEASE is refused");
		vf_error_destroy(err);
		free(f);
	}
	return tap_done();
}
