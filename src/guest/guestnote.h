/* guestnote.h - read the guest kernel's VMCOREINFO note from guest physical
 * memory (any struct vf_mem) and validate it the way QEMU does before it
 * embeds it in a dump. */
#ifndef VF_GUESTNOTE_H
#define VF_GUESTNOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "util/mem.h"
#include "guest/region.h"
#include "util/vmcoreinfo.h"

struct vf_guest_note {
	struct vf_region region;
	uint8_t *bytes;              /* the whole note: header, name, padded descriptor */
	size_t len;
	const uint8_t *text;         /* the descriptor, inside bytes */
	uint32_t text_len;
	struct vf_vmcoreinfo *vmci;  /* parsed text */
};

/* Read and validate.  Refusals (VF_ERR_REFUSED) say which rule failed: size
 * below 1 MiB, a note header whose sizes fit the region, name "VMCOREINFO"
 * (namesz 11) and type 0, text that parses with OSRELEASE and PAGESIZE, a
 * PAGESIZE that is a power of two from 4 KiB to 1 MiB and divides page_size
 * (a kdump's block, or an ELF dump's page size from its own note; 0: any).  Memory errors
 * (not present, excluded, I/O) pass through with context. */
struct vf_error *vf_guest_note_read(struct vf_mem *mem, const struct vf_region *r,
				    bool big_endian, uint64_t page_size,
				    struct vf_guest_note *out) VF_MUST_CHECK;
void vf_guest_note_deinit(struct vf_guest_note *gn);

#endif
