/* notes.h - ELF note iteration: a pure function over a buffer. */
#ifndef VF_NOTES_H
#define VF_NOTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define VF_NOTE_NAME_MAX 64   /* longer names are kept truncated in name[] */

struct vf_note {
	uint32_t namesz;          /* as in the header, including the NUL */
	uint32_t descsz;
	uint32_t type;
	char name[VF_NOTE_NAME_MAX + 1]; /* NUL-terminated copy (truncated if longer) */
	const uint8_t *desc;      /* points into the caller's buffer */
	uint64_t hdr_offset;      /* file offset of the note header */
	uint64_t desc_offset;     /* file offset of the descriptor */
	uint32_t region;          /* index of the note region (PT_NOTE / blob) it came from */
};

/* Parse the notes in buf (file offset file_off, byte order big_endian).
 * Name and descriptor are padded to 4 bytes.  Trailing zero bytes (padding
 * after the last note) end the list.  Appends to *notes / *n (realloc'd).
 * A malformed or truncated note stops parsing: the notes before it are kept
 * and *malformed gets an error naming its offset (the function itself then
 * still returns NULL); only out-of-memory is returned as failure.  Linear:
 * the array grows once per call, by the count of notes in buf. */
struct vf_error *vf_notes_parse(const uint8_t *buf, size_t len, bool big_endian,
				uint64_t file_off, uint32_t region, struct vf_note **notes,
				size_t *n, struct vf_error **malformed) VF_MUST_CHECK;

/* How many well-formed notes vf_notes_parse() would append for buf (a
 * caller's limit is checked before anything is allocated). */
size_t vf_notes_count(const uint8_t *buf, size_t len, bool big_endian);

/* Is this the Linux VMCOREINFO note (name "VMCOREINFO", type 0)? */
bool vf_note_is_vmcoreinfo(const struct vf_note *note);

/* Size of a note with this name length (incl. NUL) and descriptor size. */
uint64_t vf_note_size(uint32_t namesz, uint32_t descsz);

/* Encode one note (header, name, padded desc) into out (capacity out_len,
 * at least vf_note_size()).  Returns bytes written. */
size_t vf_note_encode(uint8_t *out, bool big_endian, const char *name, uint32_t type,
		      const void *desc, uint32_t descsz);

#endif
