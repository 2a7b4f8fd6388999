/* machine.h - which machine a dump is of, decided from its content.
 *
 * A header string is one claim among several and the one most often wrong
 * (QEMU 10 writes "Unknown" in a kdump header's utsname.machine for x86_64
 * guests).  The machine is decided from what the dump's structure and content
 * say: ELF e_machine, the size of the CPU-register notes (struct elf_prstatus
 * differs per architecture), notes only one architecture's QEMU writes, the
 * VMCOREINFO keys only one architecture's kernel exports, word size and byte
 * order.  They must agree; unknown stays unknown.
 */
#ifndef VF_MACHINE_H
#define VF_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/arch.h"
#include "util/error.h"

struct vf_dump;
struct vf_vmcoreinfo;

/* struct vf_arch and the lookups (vf_arch_by_em, ...) are in arch/arch.h. */

/* The canonical utsname.machine of the dump's decided machine; for ppc64 it
 * depends on the byte order ("ppc64le" / "ppc64").  NULL when unknown. */
const char *vf_arch_uts_machine(const struct vf_dump *dump);

/* Decide dump->e_machine and dump->machine_name from the dump's content;
 * dump->machine_how says from what, dump->machine_conflict (owned) says why
 * it is unknown when the evidence disagrees.  extra (may be NULL): a
 * VMCOREINFO text from elsewhere (the guest's note) that adds its keys.
 * Only allocation fails. */
struct vf_error *vf_machine_detect(struct vf_dump *dump, const struct vf_vmcoreinfo *extra) VF_MUST_CHECK;

#endif
