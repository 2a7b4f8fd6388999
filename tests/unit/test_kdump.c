/* test_kdump.c - the kdump reader on hand-built files: layouts, byte orders,
 * bitmaps, descriptors, and corrupt headers. */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cursor.h"
#include "format/open.h"
#include "format/kdump.h"
#include "tap.h"

#define BS 4096u
#define NPAGES 40u           /* max_mapnr */

static char path[] = "/tmp/vf-test-kdump-XXXXXX";

struct opts {
	enum vf_kdump_layout layout;
	bool be;
	int version;
	const char *machine;
};

/* pages 0-9 RAM and dumped, 10-19 not RAM, 20-29 RAM but 25-29 excluded,
 * 30-39 not RAM; page p is filled with byte (p + 1); raw pages. */
static bool is_ram(unsigned p) { return p < 10 || (p >= 20 && p < 30); }
static bool is_dumped(unsigned p) { return p < 10 || (p >= 20 && p < 25); }

static size_t build(const struct opts *o, uint8_t **out)
{
	unsigned ndump = 15;
	size_t bitmap_len = BS;    /* one block per bitmap */
	size_t pd = BS * (1 + 1) + 2 * bitmap_len;
	size_t len = pd + 24 * ndump + (size_t)BS * ndump;
	uint8_t *b = calloc(1, len);
	bool be = o->be;
	memcpy(b, "KDUMP   ", 8);
	vf_store_uint(b + 8, 4, be, (uint64_t)o->version);
	memcpy(b + 0xc + 65 * 4, o->machine, strlen(o->machine));
	memcpy(b + 0xc + 65 * 2, "6.1.0-test", 10);
	uint32_t base = o->layout == VF_KDUMP_LAYOUT_64 ? 0x1a8 : 0x19c;
	vf_store_uint(b + base, 4, be, 0);              /* status: raw pages */
	vf_store_uint(b + base + 4, 4, be, BS);
	vf_store_uint(b + base + 8, 4, be, 1);          /* sub_hdr_size */
	vf_store_uint(b + base + 12, 4, be, 2);         /* bitmap_blocks */
	vf_store_uint(b + base + 16, 4, be, NPAGES);
	uint8_t *s = b + BS;
	bool l64 = o->layout == VF_KDUMP_LAYOUT_64;
	vf_store_uint(s, l64 ? 8 : 4, be, 0x1000000);  /* phys_base */
	vf_store_uint(s + (l64 ? 8 : 4), 4, be, 31);   /* dump_level */
	if (o->version >= 3) {
		/* VMCOREINFO text right after the sub-header, pointer only */
		const char text[] = "OSRELEASE=6.1.0-test\nPAGESIZE=4096\n";
		uint32_t off = o->layout == VF_KDUMP_LAYOUT_64 ? 0x20 :
			       o->layout == VF_KDUMP_LAYOUT_32_PACKED ? 0x14 : 0x18;
		uint32_t szo = o->layout == VF_KDUMP_LAYOUT_64 ? 0x28 :
			       o->layout == VF_KDUMP_LAYOUT_32_PACKED ? 0x1c : 0x20;
		vf_store_uint(s + off, 8, be, BS + 0x200);
		vf_store_uint(s + szo, l64 ? 8 : 4, be, sizeof(text) - 1);
		memcpy(b + BS + 0x200, text, sizeof(text) - 1);
	}
	uint8_t *bm1 = b + 2 * BS, *bm2 = bm1 + bitmap_len;
	size_t k = 0;
	for (unsigned p = 0; p < NPAGES; p++) {
		if (is_ram(p))
			bm1[p / 8] |= (uint8_t)(1u << (p % 8));
		if (!is_dumped(p))
			continue;
		bm2[p / 8] |= (uint8_t)(1u << (p % 8));
		uint64_t data = pd + 24 * ndump + (uint64_t)BS * k;
		vf_store_uint(b + pd + 24 * k, 8, be, data);
		vf_store_uint(b + pd + 24 * k + 8, 4, be, BS);
		memset(b + data, (int)(p + 1), BS);
		k++;
	}
	*out = b;
	return len;
}

static struct vf_error *open_buf(const uint8_t *b, size_t len, struct vf_dump **d)
{
	FILE *f = fopen(path, "w");
	fwrite(b, 1, len, f);
	fclose(f);
	return vf_dump_open(path, d);
}

static void layout_case(const struct opts *o, const char *name)
{
	uint8_t *b;
	size_t len = build(o, &b);
	struct vf_dump *d;
	struct vf_error *err = open_buf(b, len, &d);
	TAP_OK(!err, "%s opens", name);
	if (err) {
		vf_error_destroy(err);
		free(b);
		return;
	}
	TAP_OK(d->kdump->layout == o->layout, "%s: layout detected", name);
	TAP_OK(d->big_endian == o->be, "%s: byte order detected", name);
	TAP_EQ_U64(d->kdump->header_version, o->version, "%s: version", name);
	TAP_EQ_U64(d->kdump->phys_base, 0x1000000, "%s: phys_base", name);
	TAP_EQ_U64(d->kdump->dump_level, 31, "%s: dump_level", name);
	TAP_EQ_STR(d->kdump->utsname[2], "6.1.0-test", "%s: utsname.release", name);
	TAP_EQ_U64(d->kdump->max_pfn, NPAGES, "%s: max_pfn", name);
	if (o->version >= 3)
		TAP_OK(d->vmci_origin == VF_VMCI_KDUMP_POINTER && d->vmci &&
		       strcmp(vf_vmcoreinfo_get(d->vmci, "OSRELEASE"), "6.1.0-test") == 0,
		       "%s: VMCOREINFO through offset_vmcoreinfo", name);
	uint8_t buf[2 * BS];
	err = vf_mem_read(&d->mem, 22 * BS + 100, buf, 2 * BS);
	TAP_OK(!err && buf[0] == 23 && buf[BS - 100] == 24 && buf[2 * BS - 1] == 25,
	       "%s: read across pages gives each page's bytes", name);
	vf_error_destroy(err);
	err = vf_mem_read(&d->mem, 9 * BS, buf, 16);
	TAP_OK(!err && buf[0] == 10, "%s: last page before a hole", name);
	vf_error_destroy(err);
	err = vf_mem_read(&d->mem, 12 * BS, buf, 16);
	TAP_OK(err && err->code == VF_ERR_NOT_PRESENT && err->offset == 12 * BS,
	       "%s: not RAM is NOT_PRESENT at the address", name);
	vf_error_destroy(err);
	err = vf_mem_read(&d->mem, 24 * BS + 10, buf, BS);
	TAP_OK(err && err->code == VF_ERR_EXCLUDED, "%s: filtered page is EXCLUDED", name);
	vf_error_destroy(err);
	err = vf_mem_read(&d->mem, NPAGES * BS, buf, 1);
	TAP_OK(err && err->code == VF_ERR_NOT_PRESENT, "%s: beyond max_mapnr", name);
	vf_error_destroy(err);
	vf_dump_destroy(d);
	free(b);
}

static void corrupt_case(const char *what, size_t poke_off, size_t n, uint64_t v, size_t cut,
			 bool at_read)
{
	struct opts o = { VF_KDUMP_LAYOUT_64, false, 6, "x86_64" };
	uint8_t *b;
	size_t len = build(&o, &b);
	if (n)
		vf_store_uint(b + poke_off, n, false, v);
	struct vf_dump *d = NULL;
	struct vf_error *err = open_buf(b, cut ? cut : len, &d);
	if (at_read && !err) {
		uint8_t buf[16];
		err = vf_mem_read(&d->mem, 0, buf, sizeof(buf));
		vf_dump_destroy(d);
	}
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->has_offset && !err->offset_is_paddr,
	       "%s: corrupt, with a file offset", what);
	if (err)
		printf("#   %s\n", err->message);
	vf_error_destroy(err);
	free(b);
}

/* Cut after `cut` bytes (0: whole): opens; truncated or not, and what the
 * error says. */
static void truncation_case(const char *name, size_t cut, const char *what)
{
	struct opts o = { VF_KDUMP_LAYOUT_64, false, 6, "x86_64" };
	uint8_t *b;
	size_t len = build(&o, &b);
	struct vf_dump *d = NULL;
	struct vf_error *err = open_buf(b, cut ? cut : len, &d);
	TAP_OK(!err, "%s: opens", name);
	if (err) {
		vf_error_destroy(err);
		free(b);
		return;
	}
	TAP_EQ_U64(d->kdump->ndumped, 15, "%s: 15 dumped pages counted", name);
	TAP_OK(d->kdump->truncated == (what != NULL), "%s: %s", name,
	       what ? "truncated" : "complete");
	err = vf_kdump_truncation(d->kdump, d->src->size);
	if (what) {
		TAP_OK(err && err->code == VF_ERR_CORRUPT && err->has_offset && err->offset == cut &&
		       strstr(err->message, what) && err->hint, "%s: CORRUPT at the file's end, "
		       "naming the %s, with a hint", name, what);
		if (err)
			printf("#   %s\n", err->message);
	} else {
		TAP_OK(!err, "%s: no truncation error", name);
	}
	vf_error_destroy(err);
	vf_dump_destroy(d);
	free(b);
}

/* A plain sparse file whose header claims two 4 GiB bitmaps (2^35 pages):
 * only the chunks the file holds are read; one page is dumped. */
static void sparse_bitmaps_case(void)
{
	const uint64_t blen = (uint64_t)1 << 32, b1 = 2 * BS, b2 = b1 + blen, pd = b2 + blen;
	uint8_t h[2 * BS];
	memset(h, 0, sizeof(h));
	memcpy(h, "KDUMP   ", 8);
	vf_store_uint(h + 8, 4, false, 6);
	memcpy(h + 0xc + 65 * 4, "x86_64", 6);
	vf_store_uint(h + 0x1ac, 4, false, BS);
	vf_store_uint(h + 0x1b0, 4, false, 1);
	vf_store_uint(h + 0x1b4, 4, false, 2 * blen / BS);
	vf_store_uint(h + BS + 0x60, 8, false, blen * 8);    /* max_mapnr_64 */
	uint8_t desc[24], page[BS], one = 0x05;              /* pages 0 and 2 */
	memset(desc, 0, sizeof(desc));
	memset(page, 0x42, sizeof(page));
	FILE *f = fopen(path, "w");
	bool ok = f && fwrite(h, 1, sizeof(h), f) == sizeof(h);
	fclose(f);
	int fd = open(path, O_WRONLY);
	vf_store_uint(desc, 8, false, pd + 48);
	vf_store_uint(desc + 8, 4, false, BS);
	ok = ok && fd >= 0 && pwrite(fd, &one, 1, (off_t)b1) == 1 &&
	     pwrite(fd, &one, 1, (off_t)b2) == 1 && pwrite(fd, desc, 24, (off_t)pd) == 24 &&
	     pwrite(fd, desc, 24, (off_t)pd + 24) == 24 &&
	     pwrite(fd, page, BS, (off_t)(pd + 48)) == (ssize_t)BS;
	if (fd >= 0)
		close(fd);
	struct vf_dump *d = NULL;
	struct vf_error *err = ok ? vf_dump_open(path, &d) : &vf_error_nomem;
	TAP_OK(!err, "sparse 4 GiB bitmaps: opens");
	if (err) {
		vf_error_destroy(err);
		return;
	}
	TAP_EQ_U64(d->kdump->ndumped, 2, "sparse 4 GiB bitmaps: 2 dumped pages counted");
	TAP_OK(!d->kdump->truncated, "sparse 4 GiB bitmaps: complete");
	uint8_t buf[16];
	err = vf_mem_read(&d->mem, 2 * BS, buf, sizeof(buf));
	TAP_OK(!err && buf[0] == 0x42, "sparse 4 GiB bitmaps: page 2 reads through the index");
	vf_error_destroy(err);
	err = vf_mem_read(&d->mem, (blen * 8 - 1) * BS, buf, sizeof(buf));
	TAP_OK(err && err->code == VF_ERR_NOT_PRESENT, "sparse 4 GiB bitmaps: the last page is "
	       "not RAM");
	vf_error_destroy(err);
	uint64_t end, next = d->mem.ops->next_data(d->mem.ctx, 3 * BS, &end);
	TAP_OK(next == UINT64_MAX, "sparse 4 GiB bitmaps: no dumped page after page 2");
	vf_dump_destroy(d);
}

int main(void)
{
	int fd = mkstemp(path);
	close(fd);
	struct opts o64 = { VF_KDUMP_LAYOUT_64, false, 6, "x86_64" };
	struct opts o64be = { VF_KDUMP_LAYOUT_64, true, 6, "s390x" };
	struct opts v1 = { VF_KDUMP_LAYOUT_64, false, 1, "x86_64" };
	struct opts packed = { VF_KDUMP_LAYOUT_32_PACKED, false, 5, "i686" };
	struct opts padded = { VF_KDUMP_LAYOUT_32_PADDED, true, 3, "ppc" };
	layout_case(&o64, "64-bit LE v6");
	layout_case(&o64be, "64-bit BE v6");
	layout_case(&v1, "64-bit v1");
	layout_case(&packed, "i386 packed v5");
	layout_case(&padded, "ppc padded BE v3");

	corrupt_case("truncated header", 0, 0, 0, 100, false);
	corrupt_case("block_size 3000", 0x1ac, 4, 3000, 0, false);
	corrupt_case("bitmaps past the end", 0, 0, 0, 3 * BS, false);
	corrupt_case("odd bitmap_blocks", 0x1b4, 4, 3, 0, false);
	corrupt_case("max_mapnr beyond the bitmap", 0x1b8, 4, 0x10000000, 0, false);
	corrupt_case("descriptor past the end", 4 * BS, 8, 0x7fffffff0000ull, 0, true);
	corrupt_case("descriptor size 0", 4 * BS + 8, 4, 0, 0, true);
	corrupt_case("two codec bits", 4 * BS + 12, 4, 3, 0, true);
	corrupt_case("version 9", 8, 4, 9, 0, false);

	/* pd = 4 * BS; 15 descriptors, then 15 pages of data */
	size_t pd = 4 * BS, data = pd + 24 * 15, end = data + 15 * BS;
	truncation_case("whole file", 0, NULL);
	truncation_case("cut inside the descriptors", pd + 24 * 5 + 3, "page descriptors");
	truncation_case("cut at the first page's data", data, "page data");
	truncation_case("cut inside the page data", end - BS - 10, "page data");
	truncation_case("one byte short", end - 1, "page data");
	sparse_bitmaps_case();
	unlink(path);
	return tap_done();
}
