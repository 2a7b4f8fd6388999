/* migdump.h - a saved VM state (a QEMU migration stream or a libvirt save
 * image, as `virsh dump`, `virsh save`, managedsave and snapshots write
 * them) read as the ELF dump QEMU's dump-guest-memory would have written of
 * that state: a byte source whose bytes are an ELF header, program headers
 * (PT_NOTE, then one PT_LOAD a run of guest RAM the stream holds, vaddr =
 * paddr as QEMU writes them without paging), the vCPUs' notes, and the RAM,
 * served from the stream's pages on demand.  The notes: x86_64, NT_PRSTATUS
 * "CORE" for each vCPU, then QEMU's CPU-state note "QEMU" for each, as
 * target/i386/arch_dump.c lays them out; aarch64, NT_PRSTATUS and
 * NT_PRFPREG "CORE" for each vCPU in turn, as target/arm/arch_dump.c does,
 * without the NT_ARM_SVE note QEMU adds for a vCPU with SVE (its header's
 * vector lengths are CPU-model properties the stream does not carry).
 *
 * The format opener reads it as any ELF dump; the fix converts it (it can
 * only be written as a new dump, never copied or patched in place).  The
 * guest's VMCOREINFO is not put in its notes: the vmcoreinfo device's state
 * (vf_saved_info's st) is evidence, read and validated as any other.
 *
 * Memory: the stream's run index (migstream.h), the header region (under
 * 1 MiB for 4096 vCPUs) and the vCPU states.  x86_64 guests (pc and q35
 * machines) in long mode and little-endian aarch64 guests (arm virt) are
 * read; other machines are refused (VF_ERR_UNSUPPORTED), as are x86 vCPUs
 * not in 64-bit mode and arm vCPUs in AArch32 state.
 */
#ifndef VF_MIGDUMP_H
#define VF_MIGDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "guest/migstream.h"
#include "source/src.h"

struct vf_saved_info {
	struct vf_migstate st;       /* the walk: machine, blocks, device, vCPUs */
	struct vf_migstream_mem_info mem;
	size_t ncpus;
	uint16_t e_machine;          /* EM_X86_64 or EM_AARCH64 */
	size_t sve_cpus;             /* aarch64: vCPUs with SVE (their NT_ARM_SVE not written) */
	size_t nloads;               /* PT_LOADs */
	uint64_t ram_bytes;          /* bytes they hold */
	uint64_t header_size;        /* the ELF header region, notes included */
	char *domain_name;           /* the libvirt XML's <name>, or NULL */
	char *domain_uuid;           /* its <uuid>, or NULL */
};

/* Open path as the ELF dump of its saved state (memory layout from the
 * machine type, or layout_spec as for --memory-layout).  *out->kind is
 * VF_SRC_SAVED; its fd is the file's (for identity checks only).  A
 * compressed stream is decompressed once, in order, into an unnamed file in
 * tmpdir (it takes the stream's size there until the source is destroyed):
 * a conversion reads the RAM in address order but checks a few pages
 * first, and each read behind a decoder would start it over. */
struct vf_error *vf_saved_open(const char *path, const char *layout_spec, const char *tmpdir,
			       struct vf_src **out) VF_MUST_CHECK;
/* The same over a plain file's source, which it takes (destroyed on
 * failure). */
struct vf_error *vf_saved_open_src(struct vf_src *file, const char *layout_spec,
				   const char *tmpdir, struct vf_src **out) VF_MUST_CHECK;

/* What the source of vf_saved_open() was made from; NULL for any other. */
const struct vf_saved_info *vf_saved_info(const struct vf_src *src);

#endif
