/* test_elfcore.c - the ELF core reader on hand-built files. */
#include "config.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cursor.h"
#include "format/open.h"
#include "format/elfcore.h"
#include "tap.h"

struct img {
	uint8_t *b;
	size_t len;
	bool is64, be;
};

static void put(struct img *m, size_t off, size_t n, uint64_t v)
{
	vf_store_uint(m->b + off, n, m->be, v);
}

/* Build an ELF core: nload PT_LOADs of `segsz` bytes at paddr i * 2 * segsz
 * (holes between), data byte at paddr p = (p * 7) & 0xff, one PT_NOTE with
 * a VMCOREINFO note.  qemu: section headers at 0x40, phdrs after them. */
static struct img build(bool is64, bool be, size_t nload, size_t segsz, bool qemu)
{
	struct img m = { .is64 = is64, .be = be };
	size_t ehsz = is64 ? 64 : 52, phsz = is64 ? 56 : 32, shsz = is64 ? 64 : 40;
	size_t phnum = nload + 1;
	bool xnum = phnum >= PN_XNUM;
	size_t shoff = qemu || xnum ? ehsz : 0;
	size_t phoff = ehsz + (qemu ? 2 * shsz : xnum ? shsz : 0);
	const char text[] = "OSRELEASE=6.1.0\nPAGESIZE=4096\nNUMBER(phys_base)=-301989888\n";
	size_t notesz = 12 + 12 + ((sizeof(text) - 1 + 3) & ~3u);
	size_t noteoff = phoff + phnum * phsz;
	size_t dataoff = noteoff + notesz;
	m.len = dataoff + nload * segsz;
	m.b = calloc(1, m.len);
	memcpy(m.b, ELFMAG, SELFMAG);
	m.b[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
	m.b[EI_DATA] = be ? ELFDATA2MSB : ELFDATA2LSB;
	m.b[EI_VERSION] = EV_CURRENT;
	put(&m, 16, 2, ET_CORE);
	put(&m, 18, 2, is64 ? EM_X86_64 : EM_PPC);
	put(&m, 20, 4, EV_CURRENT);
	size_t o = is64 ? 0x20 : 0x1c, w = is64 ? 8 : 4;
	put(&m, o, w, phoff);
	put(&m, o + w, w, shoff);
	o += 2 * w + 4;  /* e_flags */
	put(&m, o, 2, qemu ? 8 : ehsz);
	put(&m, o + 2, 2, phsz);
	put(&m, o + 4, 2, xnum ? PN_XNUM : phnum);
	put(&m, o + 6, 2, shsz);
	put(&m, o + 8, 2, qemu ? 2 : xnum ? 1 : 0);
	if (xnum)
		put(&m, shoff + (is64 ? 0x2c : 0x1c), 4, phnum);  /* sh_info */
	for (size_t i = 0; i < phnum; i++) {
		size_t p = phoff + i * phsz;
		uint64_t type = i == 0 ? PT_NOTE : PT_LOAD;
		uint64_t off = i == 0 ? noteoff : dataoff + (i - 1) * segsz;
		uint64_t pa = i == 0 ? 0 : (i - 1) * 2 * segsz;
		uint64_t sz = i == 0 ? notesz : segsz;
		put(&m, p, 4, type);
		if (is64) {
			put(&m, p + 8, 8, off);
			put(&m, p + 16, 8, pa);
			put(&m, p + 24, 8, pa);
			put(&m, p + 32, 8, sz);
			put(&m, p + 40, 8, sz);
		} else {
			put(&m, p + 4, 4, off);
			put(&m, p + 8, 4, pa);
			put(&m, p + 12, 4, pa);
			put(&m, p + 16, 4, sz);
			put(&m, p + 20, 4, sz);
		}
		if (i > 0)
			for (size_t k = 0; k < segsz; k++)
				m.b[off + k] = (uint8_t)((pa + k) * 7);
	}
	put(&m, noteoff, 4, 11);
	put(&m, noteoff + 4, 4, sizeof(text) - 1);
	put(&m, noteoff + 8, 4, 0);
	memcpy(m.b + noteoff + 12, "VMCOREINFO", 11);
	memcpy(m.b + noteoff + 24, text, sizeof(text) - 1);
	return m;
}

static char path[] = "/tmp/vf-test-elf-XXXXXX";

static struct vf_error *open_img(const struct img *m, size_t len, struct vf_dump **d)
{
	FILE *f = fopen(path, "w");
	fwrite(m->b, 1, len, f);
	fclose(f);
	return vf_dump_open(path, d);
}

static void basic(bool is64, bool be, bool qemu)
{
	struct img m = build(is64, be, 2, 8192, qemu);
	struct vf_dump *d;
	struct vf_error *err = open_img(&m, m.len, &d);
	TAP_OK(!err, "ELF%d %s %s opens", is64 ? 64 : 32, be ? "BE" : "LE", qemu ? "QEMU layout" : "standard");
	if (err) {
		vf_error_destroy(err);
		free(m.b);
		return;
	}
	TAP_EQ_U64(d->elf_class, is64 ? 64 : 32, "class");
	TAP_OK(d->big_endian == be, "byte order");
	TAP_EQ_U64(d->elf->phnum, 3, "program headers");
	TAP_EQ_U64(d->elf->e_ehsize, qemu ? 8 : (is64 ? 64 : 52), "e_ehsize as written");
	TAP_EQ_U64(d->nnotes, 1, "one note");
	TAP_OK(d->vmci && d->vmci_origin == VF_VMCI_NOTE, "VMCOREINFO found and parsed");
	TAP_EQ_U64(d->mem.nranges, 2, "two memory ranges");
	uint8_t buf[100];
	err = vf_mem_read(&d->mem, 8192 - 50, buf, 100);
	TAP_OK(err && err->code == VF_ERR_NOT_PRESENT, "read into a hole is NOT_PRESENT");
	vf_error_destroy(err);
	err = vf_mem_read(&d->mem, 16384 + 100, buf, 100);
	bool ok = !err;
	for (size_t k = 0; ok && k < 100; k++)
		ok = buf[k] == (uint8_t)((16384 + 100 + k) * 7);
	TAP_OK(ok, "bytes at a physical address come from the right file offset");
	vf_error_destroy(err);
	vf_dump_destroy(d);
	free(m.b);
}

int main(void)
{
	int fd = mkstemp(path);
	close(fd);
	basic(true, false, true);
	basic(true, false, false);
	basic(false, true, false);
	basic(true, true, true);

	/* PN_XNUM */
	struct img m = build(true, false, 70000, 16, false);
	struct vf_dump *d;
	struct vf_error *err = open_img(&m, m.len, &d);
	TAP_OK(!err, "70001 program headers (PN_XNUM) open");
	if (!err) {
		TAP_EQ_U64(d->elf->phnum, 70001, "real count from section header 0");
		TAP_EQ_U64(d->elf->e_phnum, PN_XNUM, "e_phnum is PN_XNUM");
		uint8_t b[4];
		err = vf_mem_read(&d->mem, 69999 * 32 + 4, b, 4);
		TAP_OK(!err && b[0] == (uint8_t)((69999 * 32 + 4) * 7), "read from the last segment");
		vf_error_destroy(err);
		vf_dump_destroy(d);
	}
	free(m.b);

	/* corrupt and truncated */
	m = build(true, false, 2, 8192, true);
	err = open_img(&m, 40, &d);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && strstr(err->message, "truncated"),
	       "truncated ELF header");
	vf_error_destroy(err);
	err = open_img(&m, m.len - 100, &d);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->has_offset && err->hint &&
	       strstr(err->message, "PT_LOAD 2"), "PT_LOAD past the end names the header");
	vf_error_destroy(err);
	struct img m2 = m;
	m2.b = malloc(m.len);
	memcpy(m2.b, m.b, m.len);
	put(&m2, 0x20, 8, 0xfffffffffffff000ull);  /* e_phoff */
	err = open_img(&m2, m2.len, &d);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->offset == 0x20, "e_phoff past the end");
	vf_error_destroy(err);
	memcpy(m2.b, m.b, m.len);
	put(&m2, 16, 2, ET_EXEC);
	err = open_img(&m2, m2.len, &d);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && strstr(err->message, "not a core"),
	       "ET_EXEC is not a core dump");
	vf_error_destroy(err);
	memcpy(m2.b, m.b, m.len);
	m2.b[EI_CLASS] = 7;
	err = open_img(&m2, m2.len, &d);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->offset == EI_CLASS, "bad class");
	vf_error_destroy(err);
	memcpy(m2.b, m.b, m.len);
	/* note descsz runs past the PT_NOTE: a finding, the dump still opens */
	size_t noteoff = 64 + 128 + 3 * 56;
	put(&m2, noteoff + 4, 4, 100000);
	err = open_img(&m2, m2.len, &d);
	TAP_OK(!err && d->notes_malformed && d->notes_malformed->offset == noteoff,
	       "malformed note is recorded with its offset");
	if (!err)
		vf_dump_destroy(d);
	vf_error_destroy(err);
	free(m2.b);
	free(m.b);
	unlink(path);
	return tap_done();
}
