/* region.c - the vmcoreinfo region from the user's evidence. */
#include "config.h"
#include "guest/region.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"

const char *vf_region_origin_name(enum vf_region_origin o)
{
	switch (o) {
	case VF_REGION_ARG: return "command line";
	case VF_REGION_SYSFS: return "/sys/kernel/vmcoreinfo line";
	case VF_REGION_FWCFG: return "fw_cfg etc/vmcoreinfo";
	case VF_REGION_MIGSTREAM: return "vmcoreinfo device state in the migration stream";
	case VF_REGION_SCAN: return "scan of guest memory";
	case VF_REGION_KERNEL: return "kernel's own pointer to it";
	}
	return "?";
}

static struct vf_error *check_size(const struct vf_region *r)
{
	if (r->size == 0)
		return vf_error_create(VF_ERR_REFUSED, "vmcoreinfo region at 0x%" PRIx64
				       " has size 0", r->paddr);
	if (r->size >= VF_VMCI_REGION_MAX)
		return vf_error_create(VF_ERR_REFUSED, "vmcoreinfo region size 0x%" PRIx64
				       " is not below 1 MiB (QEMU's limit for the guest note)",
				       r->size);
	uint64_t end;
	if (!vf_add_ok(r->paddr, r->size, &end))
		return vf_error_create(VF_ERR_REFUSED, "vmcoreinfo region 0x%" PRIx64 "+0x%"
				       PRIx64 " overflows", r->paddr, r->size);
	return NULL;
}

static bool parse_u64(const char *s, size_t n, int base, uint64_t *v)
{
	char buf[32];
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (buf[0] == '-' || buf[0] == '+')
		return false;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(buf, &end, base);
	if (errno || *end)
		return false;
	*v = x;
	return true;
}

struct vf_error *vf_region_parse(const char *text, struct vf_region *r)
{
	size_t len = strlen(text);
	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	size_t i = 0;
	while (i < len && isspace((unsigned char)text[i]))
		i++;
	const char *a = text + i;
	size_t alen = 0;
	while (i + alen < len && !isspace((unsigned char)a[alen]) && a[alen] != ',' && a[alen] != ':')
		alen++;
	const char *sep = a + alen;
	bool sysfs = sep < text + len && isspace((unsigned char)*sep);
	const char *b = sep;
	while (b < text + len && (isspace((unsigned char)*b) || *b == ',' || *b == ':'))
		b++;
	size_t blen = (size_t)(text + len - b);
	bool ok;
	if (sysfs) {
		/* the kernel prints "%llx %x"-style hex: 0x on the address, none on the size */
		const char *ah = alen > 2 && a[0] == '0' && (a[1] == 'x' || a[1] == 'X') ? a + 2 : a;
		const char *bh = blen > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') ? b + 2 : b;
		ok = parse_u64(ah, alen - (size_t)(ah - a), 16, &r->paddr) &&
		     parse_u64(bh, blen - (size_t)(bh - b), 16, &r->size);
		r->origin = VF_REGION_SYSFS;
	} else {
		ok = b > sep && parse_u64(a, alen, 0, &r->paddr) && parse_u64(b, blen, 0, &r->size);
		r->origin = VF_REGION_ARG;
	}
	if (!ok) {
		char q[VF_QUOTE_BUF];
		struct vf_error *err = vf_error_create(VF_ERR_INVALID, "vmcoreinfo region '%s' is "
						       "not ADDR SIZE", vf_quote(text, strlen(text), q));
		return vf_error_set_hint(err, "give the guest's /sys/kernel/vmcoreinfo line "
					 "(\"0x00000000013ae000 1024\", both hex) or ADDR,SIZE "
					 "(0x for hex)");
	}
	return check_size(r);
}

struct vf_error *vf_region_from_fwcfg(const uint8_t *buf, size_t len, struct vf_region *r)
{
	if (len != VF_FWCFG_VMCOREINFO_SIZE) {
		struct vf_error *err = vf_error_create(VF_ERR_REFUSED, "fw_cfg etc/vmcoreinfo "
						       "entry has %zu bytes, not 16", len);
		return vf_error_set_hint(err, "copy the guest's /sys/firmware/qemu_fw_cfg/by_name/"
					 "etc/vmcoreinfo/raw whole (QEMU honours only full 16-byte "
					 "writes)");
	}
	uint16_t guest_format = (uint16_t)vf_load_uint(buf + 2, 2, false);
	uint32_t size = (uint32_t)vf_load_uint(buf + 4, 4, false);
	uint64_t paddr = vf_load_uint(buf + 8, 8, false);
	if (guest_format == VF_VMCOREINFO_FORMAT_NONE) {
		struct vf_error *err = vf_error_create(VF_ERR_REFUSED, "fw_cfg etc/vmcoreinfo: "
						       "guest_format is 0: the guest never wrote "
						       "the entry or disabled it");
		return vf_error_set_hint(err, "give the region another way: the guest's "
					 "/sys/kernel/vmcoreinfo line, or ADDR,SIZE");
	}
	if (guest_format != VF_VMCOREINFO_FORMAT_ELF) {
		struct vf_error *err = vf_error_create(VF_ERR_REFUSED, "fw_cfg etc/vmcoreinfo: "
						       "guest_format %u is not supported (only 1, "
						       "an ELF note)", guest_format);
		return vf_error_set_hint(err, "check the entry's byte order: it is little-endian");
	}
	r->paddr = paddr;
	r->size = size;
	r->origin = VF_REGION_FWCFG;
	return check_size(r);
}
