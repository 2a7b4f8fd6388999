/* migstream.h - QEMU migration streams ("QEVM", version 3), as written by
 * `migrate "exec:cat > FILE"`, `migrate file:FILE` or inside a libvirt save
 * image: find the vmcoreinfo device's saved state without decoding guest RAM,
 * and serve guest physical memory from the stream's RAM pages (a run index
 * built in one walk; the pages are read on demand).
 *
 * The walk decodes what has a known layout (the header, the configuration
 * section, the RAM sections' records, commands, section footers) and seeks
 * over RAM page payloads without reading them.  Device sections carry no
 * length; they are delimited by their footer (0x7e + the section id) followed
 * by something that parses as the next section.  Streams without footers
 * (machine types up to 2.3) fall back to searching for the vmcoreinfo section
 * header itself.  Memory use is bounded: nothing grows with the stream's
 * size except the RAM block list, the section directory and (for memory)
 * the capped index of page runs.
 */
#ifndef VF_MIGSTREAM_H
#define VF_MIGSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "util/mem.h"
#include "guest/region.h"
#include "source/src.h"

#define VF_MIG_MAGIC 0x5145564du   /* "QEVM" */
#define VF_MIG_VERSION 3u
#define VF_MIG_VMCOREINFO_STATE_SIZE 17   /* bool + be16 + be16 + be32 + be64 */

/* A RAM block as the stream's RAM_SAVE_FLAG_MEM_SIZE record lists it. */
struct vf_mig_ramblock {
	char *idstr;        /* "pc.ram", "/rom@etc/acpi/tables", ... */
	uint64_t length;    /* used length in bytes */
};

/* A vCPU's "cpu" section: its first bytes, decoded once the walk is done.
 * On an arm virt machine (the configuration section's machine type) the
 * section holds a register list of its own length and subsections after it:
 * its first VF_MIG_ARM_CPU_CAPTURE bytes are kept (body), and at most
 * VF_MIG_ARM_CPUS_MAX of them (the virt machine's own vCPU limit: 16 MiB). */
#define VF_MIG_CPU_PREFIX 864     /* x86_64: regs ... kernelgsbase */
#define VF_MIG_CPUS_MAX 4096u     /* vCPU sections at most (3.5 MiB) */
#define VF_MIG_ARM_CPU_CAPTURE (32u << 10)
#define VF_MIG_ARM_CPUS_MAX 512u
struct vf_mig_cpu {
	uint32_t instance;        /* its cpu_index */
	uint32_t version;         /* the section's version id */
	uint64_t section_offset;  /* file offset of its section header */
	uint64_t body_offset;     /* file offset of its body */
	size_t len;               /* bytes of raw (less only where the stream ends) */
	uint8_t raw[VF_MIG_CPU_PREFIX];
	uint8_t *body;            /* arm: the body's first bytes (owned), else NULL */
	size_t body_len;          /* VF_MIG_ARM_CPU_CAPTURE, less where the stream ends */
};

/* The "cpu" device of the stream's JSON description, as a list: its fields
 * (name, element size, array length), then each subsection's (a range of
 * the same list).  Bounded: names longer than the buffer are kept as ""
 * (they then match nothing we read). */
#define VF_MIG_DESC_NAME 48
#define VF_MIG_DESC_FIELDS_MAX 1024u
#define VF_MIG_DESC_SUBS_MAX 64u
struct vf_mig_desc_field {
	char name[VF_MIG_DESC_NAME];
	uint64_t size, count;
};
struct vf_mig_desc_sub {
	char name[VF_MIG_DESC_NAME];
	uint64_t version;
	size_t first, n;          /* its fields: fields[first .. first + n) */
	bool nested;              /* it has subsections of its own */
};
struct vf_mig_cpu_desc {
	struct vf_mig_desc_field *fields;  /* owned */
	size_t nfields, nmain;    /* all fields; the device's own are the first nmain */
	struct vf_mig_desc_sub subs[VF_MIG_DESC_SUBS_MAX];
	size_t nsubs;
	uint64_t version;
	const char *problem;      /* why the list is not usable (static), or NULL */
};

/* The x86_64 fields read from a "cpu" section. */
enum {
	VF_MIG_X86_REGS, VF_MIG_X86_RIP, VF_MIG_X86_RFLAGS, VF_MIG_X86_HFLAGS,
	VF_MIG_X86_SEGS, VF_MIG_X86_LDT, VF_MIG_X86_TR, VF_MIG_X86_GDT, VF_MIG_X86_IDT,
	VF_MIG_X86_CR0, VF_MIG_X86_CR2, VF_MIG_X86_CR3, VF_MIG_X86_CR4, VF_MIG_X86_EFER,
	VF_MIG_X86_KGSBASE, VF_MIG_X86_NFIELDS
};

struct vf_migstate {
	/* the container */
	bool libvirt;             /* a libvirt save image ("LibvirtQemudSave") */
	uint64_t stream_offset;   /* file offset of the QEVM magic */
	const char *compressed;   /* "gzip", "zstd", "xz", "bzip2", "lzop": the
				   * image's stream was read decompressed, and every
				   * offset from stream_offset on is one in the
				   * decompressed stream (as in tail -c
				   * +(stream_offset+1) FILE | gzip -dc, plus
				   * stream_offset); or the whole file was (a bare
				   * compressed stream, stream_offset 0, or image):
				   * every offset is one in the decompressed file.
				   * NULL: offsets are the file's */
	uint64_t decompress_restarts;  /* decompression started over (backward reads) */

	/* the stream */
	char machine[64];         /* configuration section: "pc-q35-7.2"; "" if absent */
	bool machine_truncated;   /* the name did not fit machine[] */
	uint64_t page_size;       /* target page size used to step over RAM pages */
	const char *page_size_from;  /* "configuration", "description" or "default" */
	int footers;              /* section footers: 1 seen, 0 absent, -1 unknown */
	bool postcopy_advised;    /* a POSTCOPY_ADVISE command was seen */
	bool ignore_shared;       /* capability x-ignore-shared (extra be64 per block) */
	struct vf_mig_ramblock *ramblocks;
	size_t nramblocks;
	uint64_t ram_total;       /* MEM_SIZE's total */
	uint64_t ram_pages;       /* full page records stepped over */
	uint64_t ram_zero_pages;  /* zero-page records */
	size_t nsections;         /* START and FULL section headers seen */
	bool reached_eof;         /* the walk reached the EOF marker */
	uint64_t eof_offset;      /* its offset, when reached_eof */
	bool scanned;             /* part of the stream was searched, not walked */

	/* the JSON VM description after EOF (optional) */
	bool has_description;
	uint64_t description_offset;     /* offset of the JSON text */
	uint64_t description_size;
	bool description_has_vmcoreinfo; /* it describes a "vmcoreinfo" device */
	bool cpu_desc_listed;     /* it lists a "cpu" device's fields */
	const char *cpu_desc_problem;  /* why they are not read (static), or NULL */
	uint32_t cpu_desc_off[VF_MIG_X86_NFIELDS];  /* the fields' offsets it gives */
	struct vf_mig_cpu_desc cpu_desc;  /* its first "cpu" device, as a list */

	/* the vCPUs, in stream order */
	struct vf_mig_cpu *cpus;
	size_t ncpus, cpus_cap;
	uint64_t description_page_size;  /* its "page_size", 0 if none */

	/* the vmcoreinfo device */
	bool found;
	uint64_t section_offset;  /* file offset of its FULL section header */
	uint64_t state_offset;    /* file offset of the 17 state bytes */
	uint32_t section_id, instance_id, version_id;
	bool has_vmcoreinfo;      /* QEMU's flag: the guest wrote a full entry */
	uint16_t host_format, guest_format;
	uint32_t size;
	uint64_t paddr;
	bool host_big_endian;     /* written by a big-endian host: values were swapped back */
};

/* "Mine": a QEVM stream, a libvirt save image, or a file compressed whole by
 * a codec zsrc reads (its magic: vf_zsrc_probe; the walk says whether it
 * holds a stream), from the first bytes. */
bool vf_migstream_probe(const uint8_t *head, size_t len);

/* Walk the stream in src and fill *st (zeroed first).  Returns NULL when the
 * stream was read far enough to answer; st->found says whether the VM had a
 * vmcoreinfo device.  VF_ERR_NOT_FORMAT: not a stream (st untouched apart from
 * zeroing); VF_ERR_CORRUPT: truncated or malformed, with the file offset;
 * VF_ERR_UNSUPPORTED: a variant we do not read (a compression whose library
 * was not built: the hint is the command that decompresses it; mapped-ram,
 * RDMA, postcopy packages), with what to do.  A compressed file (gzip, zstd,
 * xz, bzip2, lzop: told by its magic), or a libvirt image whose stream is
 * compressed, is walked decompressed, sequentially (zsrc.h), in one pass: the
 * JSON description is read when the walk is done (a second pass only when
 * it gives a page size the walk did not use).  Release st with
 * vf_migstate_deinit() in every case. */
struct vf_error *vf_migstream_scan(struct vf_src *src, struct vf_migstate *st) VF_MUST_CHECK;

/* vf_migstream_scan(), and VF_ERR_NOT_FOUND when the VM had no vmcoreinfo
 * device. */
struct vf_error *vf_migstream_find_vmcoreinfo(struct vf_src *src, struct vf_migstate *st) VF_MUST_CHECK;

/* After a walk (vf_migstream_scan, vf_migstream_mem_open): NULL when st
 * found the device; else what vf_migstream_find_vmcoreinfo() says. */
struct vf_error *vf_migstream_device(const struct vf_migstate *st, const char *path) VF_MUST_CHECK;

/* The device state as a region, with QEMU's rules: has_vmcoreinfo false or
 * guest_format 0 (the guest never wrote etc/vmcoreinfo, or disabled it), an
 * unknown format, or a size of 1 MiB or more are VF_ERR_REFUSED with a hint
 * and the state's file offset.  origin = VF_REGION_MIGSTREAM. */
struct vf_error *vf_migstream_region(const struct vf_migstate *st, struct vf_region *r) VF_MUST_CHECK;

void vf_migstate_deinit(struct vf_migstate *st);

/* An x86_64 vCPU's registers, as a "cpu" section holds them. */
struct vf_mig_x86_seg {
	uint32_t selector, limit, flags;
	uint64_t base;
};
struct vf_mig_x86_cpu {
	uint32_t instance;        /* cpu_index */
	uint64_t regs[16];        /* RAX RCX RDX RBX RSP RBP RSI RDI R8-R15 */
	uint64_t rip, rflags;
	uint32_t hflags;
	struct vf_mig_x86_seg segs[6];  /* ES CS SS DS FS GS */
	struct vf_mig_x86_seg ldt, tr, gdt, idt;
	uint64_t cr[5];           /* cr[1] is not saved: 0 */
	uint64_t efer, kernel_gs_base;
	bool long_mode;
};

/* Decode one vCPU of st (versions 11 and 12; the fields where the stream's
 * description puts them, else QEMU's table): VF_ERR_UNSUPPORTED for another
 * version or a description that does not list them as read;
 * VF_ERR_CORRUPT when its long-mode flags disagree. */
struct vf_error *vf_mig_cpu_x86(const struct vf_migstate *st, const struct vf_mig_cpu *cpu,
				struct vf_mig_x86_cpu *out) VF_MUST_CHECK;


/* An aarch64 vCPU's registers, as an arm "cpu" section (version 22) holds
 * them: what QEMU's NT_PRSTATUS and NT_PRFPREG notes are made of. */
struct vf_mig_arm_cpu {
	uint32_t instance;        /* cpu_index */
	uint64_t x[32];           /* X0-X30, and [31] the current EL's SP */
	uint64_t pc;
	uint32_t pstate;          /* PSTATE as QEMU saves it (the "cpsr" field) */
	uint64_t v[64];           /* V0-V31: low and high halves */
	uint32_t fpscr;           /* FPSR | FPCR as QEMU saves them */
	uint32_t fpsr, fpcr;      /* split by QEMU's masks */
	uint64_t sctlr_el1;
	bool sve;                 /* it has a "cpu/sve" subsection (SVE state) */
	size_t cpregs;            /* the length of its system register list */
};

/* Decode one arm vCPU of st: the fields where the stream's description puts
 * them (a description that lists them otherwise than QEMU's layout is
 * VF_ERR_UNSUPPORTED naming the field), else QEMU's layout of version 22.
 * VF_ERR_UNSUPPORTED: another version, a vCPU in AArch32 state, a
 * big-endian guest (SCTLR_EL1.EE), FPCR/FPSR in a subsection of their own;
 * VF_ERR_CORRUPT: a section cut short or disagreeing with its description. */
struct vf_error *vf_mig_cpu_arm(const struct vf_migstate *st, const struct vf_mig_cpu *cpu,
				struct vf_mig_arm_cpu *out) VF_MUST_CHECK;

/* ---------------------------------------------------------------- guest memory
 * Guest physical memory from the RAM pages a stream carries.  One walk at open
 * (the same walker as vf_migstream_scan, taken to EOF) indexes the page
 * records of the guest's main RAM block ("pc.ram"; "mach-virt.ram" for arm
 * virt) as runs: consecutive records for consecutive pages, data pages at a
 * constant stride in the file, zero pages with the same fill byte.  A page
 * sent more than once reads as its last record (the runs are swept into
 * disjoint segments: a lookup is a binary search).  Memory: 32 bytes a run,
 * at most 2^19 runs (more is VF_ERR_UNSUPPORTED at the record's offset),
 * and 8 bytes a segment (at most two a run).
 *
 * layout_spec is vf_rawmem_parse_layout()'s syntax, with FILEOFF the offset
 * in the RAM block ("q35", "pc", "virt", or FILEOFF:GPA:SIZE,...); NULL takes
 * the preset from the stream's machine type (vf_migstream_machine_layout),
 * applied to the block's length.  Other blocks (video RAM, ROMs, ACPI
 * tables) are not mapped.  Reads: outside the layout, or of a page the
 * stream never sent, VF_ERR_NOT_PRESENT (never zeros); of a page last sent
 * compressed or as an XBZRLE delta, VF_ERR_UNSUPPORTED naming it.  Streams
 * the walker cannot take to EOF (no section footers: machine types up to
 * 2.3) are VF_ERR_UNSUPPORTED.  Release with vf_migstream_mem_deinit().
 *
 * A compressed stream is read too (a libvirt image's in any of its formats,
 * or a file compressed whole, zsrc.h): the index holds
 * offsets in the decompressed stream, and a read decompresses forward from
 * the decoder's position, or, for a page behind the last 512 KiB it
 * decompressed, starts over from the stream's beginning.  Reads in address
 * order (a scan) cost one pass; each read going back costs up to one pass
 * over the stream (vf_migstream_mem_info's restarts counts them; after
 * VF_ZSRC_MAX_RESTARTS the next is VF_ERR_CORRUPT).  For many scattered
 * reads, decompress the file first (the stream after stream_offset) and
 * give the stream. */
struct vf_error *vf_migstream_mem_init(const char *path, const char *layout_spec,
				       struct vf_mem *out) VF_MUST_CHECK;

/* vf_migstream_mem_init(), and the walk's state in *state (when not NULL,
 * on success only: release it with vf_migstate_deinit()).  The memory's
 * next_data steps over pages the stream never sent. */
struct vf_error *vf_migstream_mem_open(const char *path, const char *layout_spec,
				       struct vf_mem *out, struct vf_migstate *state) VF_MUST_CHECK;

/* The same over an open source (owned: destroyed with the memory, or on
 * failure). */
struct vf_error *vf_migstream_mem_open_src(struct vf_src *src, const char *layout_spec,
					   struct vf_mem *out, struct vf_migstate *state) VF_MUST_CHECK;

/* Destroy what vf_migstream_mem_init() made; safe on a zeroed mem. */
void vf_migstream_mem_deinit(struct vf_mem *mem);

/* The rawmem preset of a machine type: "pc-q35-*" and "q35" -> "q35",
 * "pc-*" (i440fx) and "pc" -> "pc", "virt-*" and "virt" -> "virt"; else NULL. */
const char *vf_migstream_machine_layout(const char *machine);

struct vf_migstream_mem_info {
	const char *block;        /* the mapped RAM block */
	uint64_t block_length;
	const char *layout;       /* "pc", "q35", "virt" or "ranges" */
	size_t runs;              /* index entries */
	uint64_t records;         /* page records of the block in the stream */
	const char *compressed;   /* "gzip", "zstd", "xz", "bzip2", "lzop": read
				   * decompressed (as vf_migstate's) */
	uint64_t restarts;        /* decompression restarts so far */
};

/* Describe a memory vf_migstream_mem_init() made; false for any other. */
bool vf_migstream_mem_info(const struct vf_mem *mem, struct vf_migstream_mem_info *info);

#endif
