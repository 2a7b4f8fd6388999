/* vmcoreinfo.h - the VMCOREINFO text: KEY=VALUE lines.  Pure functions. */
#ifndef VF_VMCOREINFO_H
#define VF_VMCOREINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct vf_vmci_entry {
	char *key;
	char *value;
};

struct vf_vmcoreinfo {
	struct vf_vmci_entry *entries;  /* in text order; keys and values point into text */
	size_t n;
	size_t text_len;                /* bytes of text up to the first NUL */
	char *text;                     /* one copy of the text, the lines cut into strings */
	uint32_t *index;                /* hash of the keys: entry number + 1, 0 = empty;
					 * NULL (a caller-made view): lookups are linear */
	size_t index_mask;              /* slots - 1 (a power of two, at least 2n) */
};

/* Parse the descriptor text (stops at the first NUL).  Lines without '=' or
 * with non-printable bytes are a VF_ERR_CORRUPT error naming the line.
 * Memory is one copy of the text and 24 bytes a line; lookups by key are
 * one hash probe (the first line of a key wins, as in text order). */
struct vf_error *vf_vmcoreinfo_parse(const char *text, size_t len, struct vf_vmcoreinfo **ret) VF_MUST_CHECK;
void vf_vmcoreinfo_destroy(struct vf_vmcoreinfo *vmci);

/* The value of key (exact match, e.g. "SYMBOL(_stext)"), or NULL. */
const char *vf_vmcoreinfo_get(const struct vf_vmcoreinfo *vmci, const char *key);

/* The number for key, in the kernel's format for that key: SYMBOL(...),
 * KERNELOFFSET and the like in hex without 0x; NUMBER(...), SIZE(...),
 * OFFSET(...), LENGTH(...), PAGESIZE, CRASHTIME in decimal (NUMBER may be
 * negative: the two's complement is returned in *val).  VF_ERR_NOT_FOUND if
 * absent, VF_ERR_CORRUPT if the value is not a number of that format. */
struct vf_error *vf_vmcoreinfo_number(const struct vf_vmcoreinfo *vmci, const char *key,
				      uint64_t *val) VF_MUST_CHECK;

/* Is the key's kernel format hexadecimal? (SYMBOL(...), KERNELOFFSET, ...) */
bool vf_vmcoreinfo_key_is_hex(const char *key);

#endif
