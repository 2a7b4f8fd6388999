/* migdevice.c - the vmcoreinfo device's state in a migration stream: its
 * FULL section as the walk meets it, or searched for where the walk cannot
 * go on (streams without footers), and the region it gives.
 *
 * The state is 17 bytes: bool has_vmcoreinfo, be16 host_format, be16
 * guest_format, be32 size, be64 paddr (QEMU's VMSTATE of the device,
 * version 1).
 */
#include "config.h"
#include "guest/migstream.h"
#include "guest/migstream_priv.h"

#include <inttypes.h>
#include <string.h>

#define VMCI_HEAD (1 + 4 + 1 + 10 + 4 + 4)   /* FULL, id, "\x0avmcoreinfo", instance, version */

static const char vmci_idstr[] = "vmcoreinfo";

static uint16_t swap16(uint16_t v) { return (uint16_t)(v >> 8 | v << 8); }

/* Decode the 17 state bytes at off into st. */
static struct vf_error *decode_state(struct mig_walk *c, uint64_t off)
{
	const uint8_t *p;
	struct vf_cursor cur;
	struct vf_error *err = vf_mig_window(c, off, VF_MIG_VMCOREINFO_STATE_SIZE, &cur);
	if (!err)
		err = vf_mig_bytes(c, &cur, VF_MIG_VMCOREINFO_STATE_SIZE,
				   "vmcoreinfo device state", &p);
	if (err)
		return err;
	if (p[0] > 1)
		return vf_mig_corrupt(c, off, "vmcoreinfo device state: has_vmcoreinfo is %u, "
				      "not a bool", p[0]);
	struct vf_migstate *st = c->st;
	st->has_vmcoreinfo = p[0];
	st->host_format = (uint16_t)vf_load_uint(p + 1, 2, true);
	st->guest_format = (uint16_t)vf_load_uint(p + 3, 2, true);
	st->size = (uint32_t)vf_load_uint(p + 5, 4, true);
	st->paddr = vf_load_uint(p + 9, 8, true);
	/* QEMU stores the guest's little-endian bytes and saves them as host
	 * integers: a big-endian host's stream carries them byte-swapped. */
	if (st->guest_format == 0x0100 ||
	    (st->guest_format == 0 && st->host_format == 0x0100)) {
		st->host_big_endian = true;
		st->host_format = swap16(st->host_format);
		st->guest_format = swap16(st->guest_format);
		st->size = __builtin_bswap32(st->size);
		st->paddr = __builtin_bswap64(st->paddr);
	}
	st->state_offset = off;
	return NULL;
}

bool vf_mig_is_vmci_idstr(const char *idstr)
{
	size_t n = strlen(idstr), k = sizeof(vmci_idstr) - 1;
	return strcmp(idstr, vmci_idstr) == 0 ||
	       (n > k && idstr[n - k - 1] == '/' && strcmp(idstr + n - k, vmci_idstr) == 0);
}

/* The footer after the state (c->pos after it): the stream has footers, or
 * may have. */
static struct vf_error *state_footer(struct mig_walk *c, uint32_t id, uint64_t soff)
{
	struct vf_migstate *st = c->st;
	const uint8_t *p;
	struct vf_error *err;
	if (vf_mig_peek(c, c->pos, 1, &p) && p[0] == SEC_FOOTER) {
		uint64_t fid;
		c->pos++;
		if ((err = vf_mig_read_uint(c, 4, "section footer", &fid)))
			return err;
		if (fid != id)
			return vf_mig_corrupt(c, c->pos - 5, "the footer after the vmcoreinfo "
					      "state names section %" PRIu64 ", not %" PRIu32,
					      fid, id);
		st->footers = 1;
		return NULL;
	}
	if (st->footers == -1) {
		st->footers = 0;
		return NULL;
	}
	/* footers are on: state we do not know (a subsection of a newer QEMU)
	 * may follow; the 17 bytes we know come first either way */
	bool hit;
	if ((err = vf_mig_find_footer(c, id, &hit)))
		return err;
	if (!hit)
		return vf_mig_corrupt(c, c->pos, "no section footer after the vmcoreinfo state "
				      "(section %" PRIu32 " at offset 0x%" PRIx64 ")", id, soff);
	return NULL;
}

struct vf_error *vf_mig_vmcoreinfo_section(struct mig_walk *c, uint64_t soff, uint32_t id,
					   uint32_t instance, uint32_t version)
{
	struct vf_migstate *st = c->st;
	if (version != 1) {
		struct vf_error *err = vf_error_at(VF_ERR_UNSUPPORTED, soff, "migration stream: "
						   "vmcoreinfo section version %" PRIu32 " (only "
						   "version 1 is known)", version);
		return vf_mig_at(c, vf_error_set_hint(err, "a newer QEMU changed the device's "
						      "state; give the region another way (the "
						      "guest's /sys/kernel/vmcoreinfo line, or "
						      "ADDR,SIZE)"));
	}
	struct vf_error *err = decode_state(c, c->pos);
	if (err)
		return err;
	c->pos += VF_MIG_VMCOREINFO_STATE_SIZE;
	st->found = true;
	st->section_offset = soff;
	st->section_id = id;
	st->instance_id = instance;
	st->version_id = version;
	if (!c->full)
		c->done = true;
	if (st->footers == 0)
		return NULL;
	return state_footer(c, id, soff);
}

struct vmci_scan {
	uint64_t header;     /* offset of the section header */
	uint32_t id, instance;
};

/* A candidate "\x0avmcoreinfo" at at: the whole FULL section must check out. */
static bool accept_vmci(struct mig_walk *c, uint64_t at, void *arg)
{
	struct vmci_scan *v = arg;
	const uint8_t *p;
	if (at < c->st->stream_offset + 8 + 5)
		return false;
	uint64_t h = at - 5;
	if (!vf_mig_peek(c, h, VMCI_HEAD + VF_MIG_VMCOREINFO_STATE_SIZE, &p))
		return false;
	if (p[0] != SEC_FULL || vf_load_uint(p + 16, 4, true) >= MIG_MAX_ID_FIELD ||
	    vf_load_uint(p + 20, 4, true) != 1 || p[VMCI_HEAD] > 1)
		return false;
	uint32_t id = (uint32_t)vf_load_uint(p + 1, 4, true);
	uint32_t instance = (uint32_t)vf_load_uint(p + 16, 4, true);
	const uint8_t *f;
	uint64_t after = h + VMCI_HEAD + VF_MIG_VMCOREINFO_STATE_SIZE;
	bool footer = vf_mig_peek(c, after, 5, &f) && f[0] == SEC_FOOTER &&
		      vf_load_uint(f + 1, 4, true) == id;
	if (c->st->footers == 1 && !footer)
		return false;
	if (!footer && !vf_mig_plausible_next(c, after))
		return false;
	v->header = h;
	v->id = id;
	v->instance = instance;
	return true;
}

/* The walk cannot go on from c->pos: search the rest for the device. */
struct vf_error *vf_mig_search_device(struct mig_walk *c)
{
	static const uint8_t needle[] = "\x0avmcoreinfo";
	struct vmci_scan v;
	bool hit;
	uint64_t at;
	if (c->full) {
		struct vf_error *err = vf_error_at(VF_ERR_UNSUPPORTED, c->pos, "migration "
						   "stream: a section without a footer ends "
						   "somewhere after this offset; the RAM pages "
						   "after it cannot be found");
		return vf_mig_at(c, vf_error_set_hint(err, "streams of machine types up to 2.3 "
						      "have no section footers; read the "
						      "guest's memory from a dump instead"));
	}
	c->st->scanned = true;
	c->done = true;
	struct vf_error *err = vf_mig_search(c, c->pos, needle, sizeof(needle) - 1, accept_vmci,
					     &v, &hit, &at);
	if (err || !hit)
		return err;
	c->pos = v.header + VMCI_HEAD;
	return vf_mig_vmcoreinfo_section(c, v.header, v.id, v.instance, 1);
}

struct vf_error *vf_migstream_find_vmcoreinfo(struct vf_src *src, struct vf_migstate *st)
{
	struct vf_error *err = vf_migstream_scan(src, st);
	return err ? err : vf_migstream_device(st, src->path);
}

struct vf_error *vf_migstream_device(const struct vf_migstate *st, const char *path)
{
	if (st->found)
		return NULL;
	struct vf_error *err;
	if (st->has_description && st->description_has_vmcoreinfo) {
		err = vf_error_at(VF_ERR_CORRUPT, st->description_offset, "migration stream: "
				  "its VM description lists a vmcoreinfo device, but no vmcoreinfo "
				  "section was found%s", st->scanned ? " by searching" : "");
		return vf_error_set_path(err, path);
	}
	err = vf_error_create(VF_ERR_NOT_FOUND, "migration stream has no vmcoreinfo device "
			      "state: the VM had no -device vmcoreinfo%s",
			      st->reached_eof ? "" : " (searched to the end)");
	err = vf_error_set_path(err, path);
	return vf_error_set_hint(err, "give the region another way: the guest's "
				 "/sys/kernel/vmcoreinfo line, or ADDR,SIZE; start VMs with "
				 "-device vmcoreinfo to have QEMU keep it");
}

static struct vf_error *refused_at(const struct vf_migstate *st, struct vf_error *err)
{
	if (err && !err->has_offset)
		err = vf_error_set_offset(err, st->state_offset);
	return err;
}

struct vf_error *vf_migstream_region(const struct vf_migstate *st, struct vf_region *r)
{
	if (!st->found)
		return vf_error_create(VF_ERR_NOT_FOUND, "migration stream has no vmcoreinfo "
				       "device state: the VM had no -device vmcoreinfo");
	if (!st->has_vmcoreinfo) {
		struct vf_error *err;
		if (st->guest_format == VF_VMCOREINFO_FORMAT_NONE)
			err = vf_error_create(VF_ERR_REFUSED, "vmcoreinfo device state: "
					      "has_vmcoreinfo 0, guest_format 0 (host_format %u): "
					      "the guest never wrote etc/vmcoreinfo, or disabled it",
					      st->host_format);
		else
			err = vf_error_create(VF_ERR_REFUSED, "vmcoreinfo device state: "
					      "has_vmcoreinfo 0 although guest_format is %u: QEMU "
					      "ignored a partial write of etc/vmcoreinfo",
					      st->guest_format);
		err = vf_error_set_hint(err, "the guest kernel writes it from its qemu_fw_cfg "
					"driver; give the region another way: the guest's "
					"/sys/kernel/vmcoreinfo line, or ADDR,SIZE");
		return refused_at(st, err);
	}
	uint8_t fw[VF_FWCFG_VMCOREINFO_SIZE];
	vf_store_uint(fw, 2, false, st->host_format);
	vf_store_uint(fw + 2, 2, false, st->guest_format);
	vf_store_uint(fw + 4, 4, false, st->size);
	vf_store_uint(fw + 8, 8, false, st->paddr);
	struct vf_error *err = vf_region_from_fwcfg(fw, sizeof(fw), r);
	if (err)
		return refused_at(st, vf_error_prefix(err, "migration stream"));
	r->origin = VF_REGION_MIGSTREAM;
	return NULL;
}
