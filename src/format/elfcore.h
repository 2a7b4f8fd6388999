/* elfcore.h - ELF core dumps (QEMU's dump-guest-memory, /proc/vmcore). */
#ifndef VF_ELFCORE_H
#define VF_ELFCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/dump.h"
#include "util/error.h"

struct vf_dump;

struct vf_elf_phdr {
	uint32_t type;
	uint32_t flags;
	uint64_t offset;
	uint64_t vaddr;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
	uint64_t align;
};

struct vf_elf_info {
	uint16_t e_type;
	uint16_t e_machine;
	uint32_t e_version;
	uint64_t e_entry;
	uint64_t e_phoff;
	uint64_t e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize;
	uint16_t e_phentsize;
	uint16_t e_phnum;       /* as in the header (PN_XNUM = 0xffff if extended) */
	uint16_t e_shentsize;
	uint16_t e_shnum;
	uint16_t e_shstrndx;
	uint8_t osabi;
	size_t phnum;           /* real number of program headers (PN_XNUM resolved) */
	struct vf_elf_phdr *phdrs;
};

/* The format: the opener (format/open.c) probes it and lets it open. */
extern const struct vf_format_ops vf_elf_format;

#endif
