/* test_migstream.c - the vmcoreinfo device's state from synthetic QEMU
 * migration streams: built here byte by byte from the format's facts, with
 * decoys in RAM pages and device state, and broken in every way we refuse. */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cursor.h"
#include "migstream.h"
#include "region.h"
#include "src.h"
#include "tap.h"

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 256;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void put_be(struct buf *b, size_t n, uint64_t v)
{
	uint8_t x[8];
	vf_store_uint(x, n, true, v);
	put(b, x, n);
}

static void u8(struct buf *b, uint64_t v) { put_be(b, 1, v); }
static void be16(struct buf *b, uint64_t v) { put_be(b, 2, v); }
static void be32(struct buf *b, uint64_t v) { put_be(b, 4, v); }
static void be64(struct buf *b, uint64_t v) { put_be(b, 8, v); }

static void str8(struct buf *b, const char *s)
{
	u8(b, strlen(s));
	put(b, s, strlen(s));
}

struct opts {
	bool no_footers, no_device, no_json, json_without_vmci, be_host, ignore_shared, big_json;
	unsigned page_bits;        /* target-page-bits subsection, 0 = none */
	uint8_t has;
	uint16_t host, guest;
	uint32_t size;
	uint64_t paddr;
	uint32_t vmci_version;
	/* where things are, for the assertions */
	size_t vmci_section, vmci_state, page2_payload, bad_block_record, ram_end_footer;
	size_t block_len;
};

static void section_head(struct buf *b, uint8_t type, uint32_t id, const char *idstr,
			 uint32_t instance, uint32_t version)
{
	u8(b, type);
	be32(b, id);
	str8(b, idstr);
	be32(b, instance);
	be32(b, version);
}

static void footer(struct buf *b, const struct opts *o, uint32_t id)
{
	if (!o->no_footers) {
		u8(b, 0x7e);
		be32(b, id);
	}
}

/* A page whose bytes look like the vmcoreinfo section: must never be read. */
static void decoy_page(struct buf *b, size_t ps)
{
	struct buf d = { 0 };
	section_head(&d, 4, 7, "vmcoreinfo", 0, 1);
	u8(&d, 1);
	be16(&d, 0);
	be16(&d, 1);
	be32(&d, 0xbad);
	be64(&d, 0xbad000);
	u8(&d, 0x7e);
	be32(&d, 7);
	uint8_t *page = calloc(1, ps);
	memcpy(page + 100, d.p, d.len);
	put(b, page, ps);
	free(page);
	free(d.p);
}

static void build(struct buf *b, struct opts *o)
{
	size_t ps = o->page_bits ? (size_t)1 << o->page_bits : 4096;
	b->len = 0;
	put(b, "QEVM", 4);
	be32(b, 3);
	/* configuration with subsections */
	u8(b, 0x07);
	be32(b, 10);
	put(b, "pc-q35-7.2", 10);
	if (o->page_bits) {
		u8(b, 0x05);
		str8(b, "configuration/target-page-bits");
		be32(b, 1);
		be32(b, o->page_bits);
	}
	if (o->ignore_shared) {
		u8(b, 0x05);
		str8(b, "configuration/capabilities");
		be32(b, 1);
		be32(b, 1);
		str8(b, "x-ignore-shared");
	}
	u8(b, 0x05);
	str8(b, "configuration/uuid");
	be32(b, 1);
	put(b, "0123456789abcdef", 16);

	/* RAM setup: the block list */
	section_head(b, 0x01, 2, "ram", 0, 4);
	be64(b, (0x100000 + 0x20000) | 0x4);
	str8(b, "pc.ram");
	be64(b, 0x100000);
	if (o->ignore_shared)
		be64(b, 0);
	str8(b, "/rom@etc/acpi/tables");
	o->block_len = b->len;
	be64(b, 0x20000);
	if (o->ignore_shared)
		be64(b, 0);
	be64(b, 0x10);
	footer(b, o, 2);

	/* an iterative section we cannot decode, with a false footer inside
	 * (without footers nothing could delimit it: the walk would search RAM) */
	if (!o->no_footers) {
		section_head(b, 0x01, 3, "dirty-bitmap", 0, 1);
		put(b, "\x7e\x00\x00\x00\x03\xff\xff", 7);
		footer(b, o, 3);
	}

	/* RAM pages */
	u8(b, 0x02);
	be32(b, 2);
	be64(b, 0x8);
	str8(b, "pc.ram");
	decoy_page(b, ps);
	be64(b, ps | 0x2 | 0x20);
	u8(b, 0);
	be64(b, (2 * ps) | 0x8 | 0x20);
	o->page2_payload = b->len;
	decoy_page(b, ps);
	be64(b, 0x200);
	be64(b, 0x10);
	footer(b, o, 2);
	u8(b, 0x08);       /* a command: switchover-start, no data */
	be16(b, 11);
	be16(b, 0);

	u8(b, 0x03);
	be32(b, 2);
	o->bad_block_record = b->len;
	be64(b, ps | 0x8);
	str8(b, "/rom@etc/acpi/tables");
	decoy_page(b, ps);
	be64(b, 0x10);
	o->ram_end_footer = b->len;
	footer(b, o, 2);

	/* device state: one big section, whose footer straddles two windows of
	 * the footer search */
	section_head(b, 0x04, 11, "0000:00:02.0/big", 0, 1);
	uint32_t x = 12345;
	/* windows [0, 4096), [4092, 12284), ... of the body: the footer at
	 * 4094 is cut by the first and whole in the second */
	for (size_t i = 0; i < 4094; i++) {
		x = x * 1103515245u + 12345u;
		u8(b, (x >> 16) & 0x7f);
	}
	footer(b, o, 11);
	section_head(b, 0x04, 0, "timer", 0, 2);
	put(b, "\x00\x00\x00\x00\x7e\x00\x00\x00\x00\x55\x01\x02\x03\x04\x05\x06\x07", 17);
	footer(b, o, 0);
	/* a device whose state holds a near-copy of the vmcoreinfo header */
	section_head(b, 0x04, 5, "0000:00:1f.0/decoy", 0, 1);
	section_head(b, 0x04, 7, "vmcoreinfo", 0, 2);
	put(b, "\x01\x00\x00\x00\x01\x00\x00\x0b\xad\x00\x00\x00\x00\x00\x00\xba\xd0", 17);
	footer(b, o, 5);
	if (!o->no_device) {
		o->vmci_section = b->len;
		section_head(b, 0x04, 7, "vmcoreinfo", 0, o->vmci_version ? o->vmci_version : 1);
		o->vmci_state = b->len;
		u8(b, o->has);
		uint16_t h = o->host, g = o->guest;
		uint32_t s = o->size;
		uint64_t p = o->paddr;
		if (o->be_host) {
			h = (uint16_t)(h >> 8 | h << 8);
			g = (uint16_t)(g >> 8 | g << 8);
			s = __builtin_bswap32(s);
			p = __builtin_bswap64(p);
		}
		be16(b, h);
		be16(b, g);
		be32(b, s);
		be64(b, p);
		footer(b, o, 7);
	}
	section_head(b, 0x04, 9, "kvmclock", 0, 1);
	be64(b, 0x123456789);
	u8(b, 1);
	footer(b, o, 9);
	u8(b, 0x00);
	if (!o->no_json) {
		char *json = malloc(200000);
		size_t pad = o->big_json ? 150000 : 0;
		snprintf(json, 200000, "{\"pad\": \"%*s\", \"page_size\": %zu, \"devices\": [{\"name\": "
			 "\"timer\", \"instance_id\": 0}, {\"name\": \"%s\", \"instance_id\": 0, "
			 "\"vmsd_name\": \"vmcoreinfo\", \"version\": 1}]}", (int)pad, "", ps,
			 o->json_without_vmci ? "kvmclock" : "vmcoreinfo");
		u8(b, 0x06);
		be32(b, strlen(json));
		put(b, json, strlen(json));
		free(json);
	}
}

static char tmpl[] = "/tmp/test_migstream.XXXXXX";

static struct vf_src *src_of(const uint8_t *p, size_t n)
{
	char path[sizeof(tmpl)];
	memcpy(path, tmpl, sizeof(tmpl));
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
	struct vf_src *src;
	struct vf_error *err = vf_src_open(path, &src);
	unlink(path);
	if (err)
		abort();
	return src;
}

/* Scan (or find) the stream in b[0..n). */
static struct vf_error *run(const uint8_t *p, size_t n, bool find, struct vf_migstate *st)
{
	struct vf_src *src = src_of(p, n);
	struct vf_error *err = find ? vf_migstream_find_vmcoreinfo(src, st)
				    : vf_migstream_scan(src, st);
	vf_src_destroy(src);
	return err;
}

static struct opts good(void)
{
	return (struct opts){ .has = 1, .host = 0, .guest = 1, .size = 0x1024,
			      .paddr = 0x13ae000 };
}

static bool msg_has(const struct vf_error *err, const char *s)
{
	return err && err->message && strstr(err->message, s);
}

int main(void)
{
	struct buf b = { 0 };
	struct vf_migstate st;
	struct vf_region r;
	struct vf_error *err;

	/* ---------------- the normal case */
	struct opts o = good();
	build(&b, &o);
	TAP_OK(vf_migstream_probe(b.p, b.len), "probe: QEVM is mine");
	TAP_OK(!vf_migstream_probe((const uint8_t *)"QEMU VM\n", 8), "probe: other bytes are not");
	err = run(b.p, b.len, true, &st);
	TAP_OK(!err && st.found, "the vmcoreinfo section is found");
	TAP_EQ_U64(st.section_offset, o.vmci_section, "its section header offset");
	TAP_EQ_U64(st.state_offset, o.vmci_state, "its state offset");
	TAP_EQ_U64(st.section_id, 7, "its section id");
	TAP_OK(st.has_vmcoreinfo, "has_vmcoreinfo");
	TAP_EQ_U64(st.guest_format, 1, "guest_format");
	TAP_EQ_U64(st.size, 0x1024, "size");
	TAP_EQ_U64(st.paddr, 0x13ae000, "paddr");
	TAP_OK(!st.host_big_endian, "a little-endian host's stream");
	TAP_EQ_STR(st.machine, "pc-q35-7.2", "the machine type from the configuration section");
	TAP_OK(st.nramblocks == 2 && strcmp(st.ramblocks[0].idstr, "pc.ram") == 0 &&
	       st.ramblocks[0].length == 0x100000 &&
	       strcmp(st.ramblocks[1].idstr, "/rom@etc/acpi/tables") == 0 &&
	       st.ramblocks[1].length == 0x20000, "the RAM block list");
	TAP_EQ_U64(st.ram_total, 0x120000, "the RAM total");
	TAP_EQ_U64(st.ram_pages, 3, "three page records stepped over");
	TAP_EQ_U64(st.ram_zero_pages, 1, "one zero page");
	TAP_OK(st.footers == 1 && !st.scanned, "walked with footers, nothing searched");
	TAP_OK(st.has_description && st.description_has_vmcoreinfo &&
	       st.description_page_size == 4096, "the JSON description is read");
	TAP_EQ_STR(st.page_size_from, "description", "page size from the description");
	TAP_EQ_U64(st.page_size, 4096, "page size 4096");
	err = vf_migstream_region(&st, &r);
	TAP_OK(!err && r.paddr == 0x13ae000 && r.size == 0x1024 &&
	       r.origin == VF_REGION_MIGSTREAM, "the region, origin migration stream");
	TAP_EQ_STR(vf_region_origin_name(r.origin), "vmcoreinfo device state in the migration stream",
		   "the origin's name");
	vf_migstate_release(&st);

	/* ---------------- a description of more than 64 KiB */
	o = good();
	o.big_json = true;
	o.page_bits = 0;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(!err && st.found && st.has_description && st.description_size > 150000 &&
	       st.description_has_vmcoreinfo && st.description_page_size == 4096,
	       "a 150 KiB description is found from the end");
	vf_migstate_release(&st);

	/* ---------------- without the JSON description: the default page size */
	o = good();
	o.no_json = true;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(!err && st.found && st.paddr == 0x13ae000 && !st.has_description,
	       "found without a description");
	TAP_EQ_STR(st.page_size_from, "default", "page size: the default");
	vf_migstate_release(&st);

	/* ---------------- 8 KiB target pages from the configuration */
	o = good();
	o.page_bits = 13;
	o.no_json = true;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(!err && st.found && st.page_size == 8192 && st.ram_pages == 3 &&
	       st.paddr == 0x13ae000, "target-page-bits 13: 8 KiB pages stepped over");
	TAP_EQ_STR(st.page_size_from, "configuration", "page size from the configuration");
	vf_migstate_release(&st);

	/* ---------------- x-ignore-shared: each block carries an address */
	o = good();
	o.ignore_shared = true;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(!err && st.found && st.ignore_shared && st.nramblocks == 2,
	       "x-ignore-shared block list");
	vf_migstate_release(&st);

	/* ---------------- a big-endian host's stream */
	o = good();
	o.be_host = true;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(!err && st.found && st.host_big_endian && st.guest_format == 1 &&
	       st.size == 0x1024 && st.paddr == 0x13ae000, "a big-endian host's values swapped back");
	vf_migstate_release(&st);

	/* ---------------- no footers (machine types up to 2.3): searched */
	o = good();
	o.no_footers = true;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(!err && st.found && st.footers == 0 && st.scanned,
	       "without footers: the device is found by searching");
	TAP_OK(st.paddr == 0x13ae000 && st.size == 0x1024 && st.section_offset == o.vmci_section,
	       "the search skips the decoy (version 2) and RAM pages");
	vf_migstate_release(&st);

	/* ---------------- the guest never wrote etc/vmcoreinfo */
	o = good();
	o.has = 0;
	o.host = 1;
	o.guest = 0;
	o.size = 0;
	o.paddr = 0;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(!err && st.found && !st.has_vmcoreinfo && st.host_format == 1 && st.guest_format == 0,
	       "nofwcfg: the state says so");
	err = vf_migstream_region(&st, &r);
	TAP_OK(err && err->code == VF_ERR_REFUSED && msg_has(err, "never wrote") && err->hint,
	       "nofwcfg: refused with a hint");
	TAP_OK(err && err->has_offset && err->offset == o.vmci_state,
	       "the refusal names the state's offset");
	vf_error_destroy(err);
	vf_migstate_release(&st);

	/* has_vmcoreinfo 0 although the format is set: a partial write */
	o = good();
	o.has = 0;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	err = err ? err : vf_migstream_region(&st, &r);
	TAP_OK(err && err->code == VF_ERR_REFUSED && msg_has(err, "partial"),
	       "has_vmcoreinfo 0, guest_format 1: refused");
	vf_error_destroy(err);
	vf_migstate_release(&st);

	/* guest_format 2 */
	o = good();
	o.guest = 2;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	err = err ? err : vf_migstream_region(&st, &r);
	TAP_OK(err && err->code == VF_ERR_REFUSED && msg_has(err, "not supported") &&
	       err->has_offset, "guest_format 2: refused by the fw_cfg rules");
	vf_error_destroy(err);
	vf_migstate_release(&st);

	/* size of 1 MiB */
	o = good();
	o.size = 1u << 20;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	err = err ? err : vf_migstream_region(&st, &r);
	TAP_OK(err && err->code == VF_ERR_REFUSED && msg_has(err, "1 MiB"), "1 MiB note: refused");
	vf_error_destroy(err);
	vf_migstate_release(&st);

	/* ---------------- no device */
	o = good();
	o.no_device = true;
	o.json_without_vmci = true;
	build(&b, &o);
	err = run(b.p, b.len, false, &st);
	TAP_OK(!err && !st.found && st.reached_eof && st.nsections == 6,
	       "no device: the walk reaches EOF (6 sections)");
	vf_migstate_release(&st);
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND && msg_has(err, "no -device vmcoreinfo") &&
	       err->hint, "no device: said plainly");
	vf_error_destroy(err);
	vf_migstate_release(&st);
	o = good();
	o.no_device = true;
	o.no_footers = true;
	o.json_without_vmci = true;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND && st.scanned,
	       "no device, no footers: searched, not found");
	vf_error_destroy(err);
	vf_migstate_release(&st);

	/* the description lists the device, the stream has none */
	o = good();
	o.no_device = true;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && msg_has(err, "lists a vmcoreinfo device") &&
	       err->has_offset, "the description lists the device, the stream has none: corrupt");
	vf_error_destroy(err);
	vf_migstate_release(&st);
	/* found by searching, but the description has no such device */
	o = good();
	o.no_footers = true;
	o.json_without_vmci = true;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->offset == o.vmci_section,
	       "a searched-for section the description does not list: corrupt");
	vf_error_destroy(err);
	vf_migstate_release(&st);

	/* ---------------- version 2 of the device state */
	o = good();
	o.vmci_version = 2;
	build(&b, &o);
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_UNSUPPORTED && err->has_offset &&
	       err->offset == o.vmci_section, "vmcoreinfo version 2: unsupported, at its offset");
	vf_error_destroy(err);
	vf_migstate_release(&st);

	/* ---------------- truncated */
	o = good();
	build(&b, &o);
	err = run(b.p, o.page2_payload + 100, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && msg_has(err, "truncated") &&
	       err->has_offset && err->offset == o.page2_payload,
	       "cut inside a RAM page: truncated at the page's offset");
	vf_error_destroy(err);
	vf_migstate_release(&st);
	err = run(b.p, o.vmci_state + 5, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->has_offset,
	       "cut inside the vmcoreinfo state: corrupt");
	vf_error_destroy(err);
	vf_migstate_release(&st);
	size_t cuts[] = { 2, 6, 9, 15, 30 };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(*cuts); i++) {
		err = run(b.p, cuts[i], true, &st);
		TAP_OK(err && err->code == VF_ERR_CORRUPT && err->has_offset && err->offset <= cuts[i],
		       "cut after %zu bytes: corrupt, offset 0x%" PRIx64, cuts[i],
		       err ? err->offset : 0);
		vf_error_destroy(err);
		vf_migstate_release(&st);
	}

	/* ---------------- corrupt */
	o = good();
	build(&b, &o);
	b.p[o.bad_block_record + 8 + 2] ^= 0x20;     /* "/Rom@..." */
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && msg_has(err, "block") &&
	       err->offset == o.bad_block_record, "a record naming an unknown block, at its offset");
	vf_error_destroy(err);
	vf_migstate_release(&st);

	build(&b, &o);
	vf_store_uint(b.p + o.bad_block_record, 8, true, 0x20000 | 0x8);
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && msg_has(err, "0x20000 bytes") &&
	       err->offset == o.bad_block_record, "a page beyond its block's end, at the record");
	vf_error_destroy(err);
	vf_migstate_release(&st);

	build(&b, &o);
	b.p[o.ram_end_footer + 4] = 0x09;            /* footer names section 9 */
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && msg_has(err, "footer") &&
	       err->offset == o.ram_end_footer, "a footer naming another section, at its offset");
	vf_error_destroy(err);
	vf_migstate_release(&st);

	build(&b, &o);
	b.p[o.ram_end_footer] = 0x42;
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->offset == o.ram_end_footer,
	       "a missing footer, at its offset");
	vf_error_destroy(err);
	vf_migstate_release(&st);

	build(&b, &o);
	b.p[o.bad_block_record + 7] |= 0x1;          /* flags 0x9: two kinds at once */
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->offset == o.bad_block_record,
	       "RAM flags of two kinds: corrupt at the record");
	vf_error_destroy(err);
	vf_migstate_release(&st);

	build(&b, &o);
	b.p[o.vmci_state] = 7;
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->offset == o.vmci_state &&
	       msg_has(err, "not a bool"), "has_vmcoreinfo 7: corrupt at the state");
	vf_error_destroy(err);
	vf_migstate_release(&st);

	/* an unknown section type where a section is due */
	build(&b, &o);
	b.p[o.ram_end_footer + 5] = 0x42;
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && err->offset == o.ram_end_footer + 5 &&
	       msg_has(err, "section type"), "an unknown section type, at its offset");
	vf_error_destroy(err);
	vf_migstate_release(&st);

	/* a hostile block length */
	build(&b, &o);
	memset(b.p + o.block_len, 0x7f, 1);
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && msg_has(err, "exceeds"),
	       "a RAM block longer than the total: corrupt");
	vf_error_destroy(err);
	vf_migstate_release(&st);

	/* ---------------- not a stream */
	err = run((const uint8_t *)"hello, world\n", 13, true, &st);
	TAP_OK(err && err->code == VF_ERR_NOT_FORMAT, "not a stream: not-format");
	vf_error_destroy(err);
	vf_migstate_release(&st);
	build(&b, &o);
	b.p[7] = 2;
	err = run(b.p, b.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_UNSUPPORTED && err->offset == 4, "version 2: unsupported");
	vf_error_destroy(err);
	vf_migstate_release(&st);

	/* ---------------- libvirt save images */
	o = good();
	build(&b, &o);
	struct buf lv = { 0 };
	put(&lv, "LibvirtQemudSave", 16);
	uint8_t le[4];
	uint32_t hdr[19] = { 2, 1000, 1, 0, 0 };
	for (size_t i = 0; i < 19; i++) {
		vf_store_uint(le, 4, false, hdr[i]);
		put(&lv, le, 4);
	}
	char xml[1000] = "<domain type='kvm'><name>g</name></domain>";
	put(&lv, xml, sizeof(xml));
	size_t stream_at = lv.len;
	put(&lv, b.p, b.len);
	TAP_OK(vf_migstream_probe(lv.p, lv.len), "probe: a libvirt save image is mine");
	err = run(lv.p, lv.len, true, &st);
	TAP_OK(!err && st.found && st.libvirt && st.stream_offset == stream_at &&
	       st.paddr == 0x13ae000 && st.section_offset == stream_at + o.vmci_section,
	       "libvirt raw image: the stream after the XML");
	vf_migstate_release(&st);
	vf_store_uint(lv.p + 16 + 12, 4, false, 1);  /* gzip */
	err = run(lv.p, lv.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_UNSUPPORTED && err->hint &&
	       strstr(err->hint, "gzip -dc") && strstr(err->hint, "tail -c +1093"),
	       "libvirt gzip image: the command to decompress it");
	vf_error_destroy(err);
	vf_migstate_release(&st);
	vf_store_uint(lv.p + 16 + 12, 4, false, 5);  /* zstd */
	err = run(lv.p, lv.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_UNSUPPORTED && strstr(err->hint, "zstd -dc"),
	       "libvirt zstd image: zstd -dc");
	vf_error_destroy(err);
	vf_migstate_release(&st);
	memcpy(lv.p, "LibvirtQemudPart", 16);
	err = run(lv.p, lv.len, true, &st);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && msg_has(err, "partial"),
	       "a partial libvirt image is refused");
	vf_error_destroy(err);
	vf_migstate_release(&st);
	free(lv.p);

	free(b.p);
	return tap_done();
}
