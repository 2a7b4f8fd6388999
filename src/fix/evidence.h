/* evidence.h - where the guest's VMCOREINFO note comes from, and where guest
 * memory is read from, kept apart from the writer.
 *
 * The region (physical address and size of the note) comes from, in order:
 * the user's explicit evidence (--region, --region-file, --fw-cfg), the
 * vmcoreinfo device's state saved in a migration stream or libvirt save
 * image (--saved-state), or a scan of guest memory (when the dump has no
 * usable note and nothing else says where it is).  Guest memory is the dump's
 * own or another source (--memory: another dump of the same guest, a
 * migration stream's RAM, a raw guest RAM file with a layout), all through
 * struct vf_mem.  The note read there is validated the way QEMU does
 * (guestnote.c).  The report says which sources were used and why.
 */
#ifndef VF_EVIDENCE_H
#define VF_EVIDENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "format/dump.h"
#include "util/error.h"
#include "guest/guestnote.h"
#include "guest/migstream.h"
#include "util/mem.h"
#include "guest/region.h"

struct vf_evidence_opts {
	const char *region;         /* "ADDR,SIZE" or the sysfs line */
	const char *region_file;    /* a file holding the sysfs line */
	const char *fw_cfg;         /* the 16-byte etc/vmcoreinfo entry */
	const char *saved_state;    /* a migration stream or libvirt save image */
	const struct vf_migstate *saved_walk;  /* its walk, when done already (the
				     * saved state converted is its own evidence) */
	const char *memory;         /* guest memory elsewhere: dump, stream or raw RAM */
	const char *memory_layout;  /* raw RAM (or a stream's RAM): preset or ranges */
	bool scan;                  /* may scan guest memory when nothing says where */
	bool scan_always;           /* scan even when the dump has a usable note */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
};

struct vf_evidence {
	bool have;                  /* a guest note was read and validated */
	struct vf_guest_note gn;
	char *region_source;        /* e.g. "--fw-cfg etc.raw", "saved state s.stream", "scan" */
	char *memory_source;        /* e.g. "the dump", "raw RAM file ram.img (layout q35)" */
	char *notes;                /* what was tried and set aside, one line each, or NULL */
	char *same_boot;            /* how the note was confirmed to be this boot's kernel's */
	uint64_t scan_pages;        /* pages a scan checked (0: no scan) */
	/* owned sources */
	struct vf_dump *other_dump;
	struct vf_mem other_mem;
	int other_kind;             /* 0 none, 1 dump, 2 raw RAM, 3 stream */
};

/* Any explicit or saved evidence given? */
bool vf_evidence_given(const struct vf_evidence_opts *o);

/* The region from the explicit options alone (no I/O but reading the small
 * evidence file); *have is false when none was given. */
struct vf_error *vf_evidence_region(const struct vf_evidence_opts *o, struct vf_region *r,
				    bool *have, char **source) VF_MUST_CHECK;

/* The region saved in a migration stream or libvirt save image (QEMU's
 * vmcoreinfo device state, with the device's rules). */
struct vf_error *vf_evidence_saved_region(const char *path, struct vf_region *r) VF_MUST_CHECK;

/* The same from a stream already walked (st, of the file path). */
struct vf_error *vf_evidence_walked_region(const struct vf_migstate *st, const char *path,
					   struct vf_region *r) VF_MUST_CHECK;

/* Gather the guest's note for dump.  need_note: the dump has no usable note
 * of its own (so a scan may run).  Without evidence and without need_note,
 * ev->have stays false and nothing is read. */
struct vf_error *vf_evidence_gather(const struct vf_dump *dump, const struct vf_evidence_opts *o,
				    bool need_note, struct vf_evidence *ev) VF_MUST_CHECK;
void vf_evidence_deinit(struct vf_evidence *ev);

/* Only the guest memory the options name: --memory's source (owned by ev,
 * checked to be of the same machine) or the dump's own; ev->memory_source
 * says which.  For --inspect, which reads the note at a region given. */
struct vf_error *vf_evidence_memory(const struct vf_dump *dump, const struct vf_evidence_opts *o,
				    struct vf_evidence *ev, struct vf_mem **mem)
	VF_MUST_CHECK;

/* Is ev's note the one of the kernel in this dump?  Read through the dump's
 * own memory: the note's init_uts_ns (with its KERNELOFFSET and phys_base)
 * must hold its release; on x86_64 the dump's page tables (QEMU's CPU notes'
 * CR3) must put the kernel image at the note's phys_base.  A contradiction,
 * or no check that could be made, is VF_ERR_REFUSED naming the evidence; *how
 * (owned) says what confirmed it. */
struct vf_error *vf_evidence_same_boot(const struct vf_dump *dump, const struct vf_evidence *ev,
				       char **how) VF_MUST_CHECK;

#endif
