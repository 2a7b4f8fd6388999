/* region.h - where the guest's VMCOREINFO note lives (physical address and
 * size), from the evidence a user has: the guest's /sys/kernel/vmcoreinfo
 * line, an explicit ADDR,SIZE, or QEMU's 16-byte fw_cfg entry etc/vmcoreinfo.
 * Pure functions: no I/O. */
#ifndef VF_REGION_H
#define VF_REGION_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* QEMU's rule for the guest note: below 1 MiB. */
#define VF_VMCI_REGION_MAX (1u << 20)

#define VF_FWCFG_VMCOREINFO_SIZE 16
#define VF_VMCOREINFO_FORMAT_NONE 0
#define VF_VMCOREINFO_FORMAT_ELF 1

enum vf_region_origin {
	VF_REGION_ARG,     /* --region ADDR,SIZE */
	VF_REGION_SYSFS,   /* the /sys/kernel/vmcoreinfo line */
	VF_REGION_FWCFG,   /* the fw_cfg etc/vmcoreinfo entry */
	VF_REGION_MIGSTREAM, /* the vmcoreinfo device's state in a migration stream */
	VF_REGION_SCAN,    /* found by scanning guest memory (scan.c) */
	VF_REGION_KERNEL,  /* the kernel's own pointer to it (s390x lowcore, arch locate_note) */
};

struct vf_region {
	uint64_t paddr;
	uint64_t size;
	enum vf_region_origin origin;
};

/* "0x00000000013ae000 1024" (both hex, as the kernel prints them; a 0x
 * prefix is optional), or "ADDR,SIZE" / "ADDR:SIZE" with C number prefixes
 * (0x hex, else decimal).  Trailing newline allowed.  Checks size rules. */
struct vf_error *vf_region_parse(const char *text, struct vf_region *r) VF_MUST_CHECK;

/* The 16 little-endian bytes FWCfgVMCoreInfo {u16 host_format, u16
 * guest_format, u32 size, u64 paddr}; applies QEMU's rules: exactly 16
 * bytes, guest_format 0 = the guest disabled it, only 1 (ELF) supported,
 * size below 1 MiB.  Refusals are VF_ERR_REFUSED with a hint. */
struct vf_error *vf_region_from_fwcfg(const uint8_t *buf, size_t len, struct vf_region *r) VF_MUST_CHECK;

const char *vf_region_origin_name(enum vf_region_origin o);

#endif
