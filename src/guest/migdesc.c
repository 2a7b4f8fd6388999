/* migdesc.c - the JSON VM description QEMU appends after a stream's EOF:
 * what the walk takes from it (the page size; whether a "vmcoreinfo" device
 * is listed) without a JSON parser, by its keys. */
#include "config.h"
#include "guest/migstream.h"
#include "guest/migstream_priv.h"

#include <stdlib.h>
#include <string.h>

#define DESC_FIRST (64u << 10)    /* the tail read first for the JSON description */
#define DESC_MAX (8u << 20)       /* and at most */

static const uint8_t *json_value(const uint8_t *p, const uint8_t *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
		p++;
	if (p >= end || *p != ':')
		return NULL;
	p++;
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

static void scan_description(struct vf_migstate *st, const uint8_t *j, size_t n)
{
	static const char ps_key[] = "\"page_size\"", name_key[] = "\"name\"",
			  vmci[] = "\"vmcoreinfo\"";
	const uint8_t *end = j + n, *p;
	if ((p = memmem(j, n, ps_key, sizeof(ps_key) - 1)) &&
	    (p = json_value(p + sizeof(ps_key) - 1, end))) {
		uint64_t v = 0;
		while (p < end && *p >= '0' && *p <= '9' && v < (1ull << 40))
			v = v * 10 + (uint64_t)(*p++ - '0');
		st->description_page_size = v;
	}
	for (p = j; (p = memmem(p, (size_t)(end - p), name_key, sizeof(name_key) - 1)); ) {
		p += sizeof(name_key) - 1;
		const uint8_t *v = json_value(p, end);
		if (v && (size_t)(end - v) >= sizeof(vmci) - 1 &&
		    memcmp(v, vmci, sizeof(vmci) - 1) == 0) {
			st->description_has_vmcoreinfo = true;
			break;
		}
	}
}

/* QEMU appends 0x06, be32 length, JSON after EOF.  Find it from the end:
 * the last NUL of the tail is in the length field, the JSON's '{' follows. */
struct vf_error *vf_mig_read_description(struct mig_walk *c)
{
	struct vf_migstate *st = c->st;
	uint64_t avail = c->end - st->stream_offset;
	size_t max = avail < DESC_MAX ? (size_t)avail : DESC_MAX;
	uint8_t *buf = NULL;
	/* a tail of 64 KiB holds a small VM's description; grow to DESC_MAX */
	for (size_t n = max < DESC_FIRST ? max : DESC_FIRST; n >= 6; n = n < max / 4 ? n * 4 : max) {
		uint8_t *b = realloc(buf, n);
		if (!b) {
			free(buf);
			return &vf_error_nomem;
		}
		buf = b;
		uint64_t base = c->end - n;
		struct vf_error *err = vf_src_read(c->src, buf, n, base, "migration stream tail");
		if (err) {
			free(buf);
			return err;
		}
		const uint8_t *nul = NULL;
		for (size_t i = n; i-- > 0; )
			if (buf[i] == 0) {
				nul = buf + i;
				break;
			}
		const uint8_t *brace = nul ? memchr(nul, '{', (size_t)(buf + n - nul)) : NULL;
		if (brace && brace - buf >= 5 && brace[-5] == SEC_VMDESCRIPTION) {
			uint64_t len = vf_load_uint(brace - 4, 4, true);
			if (len >= 2 && len <= (uint64_t)(buf + n - brace) && brace[len - 1] == '}') {
				st->has_description = true;
				st->description_offset = base + (uint64_t)(brace - buf);
				st->description_size = len;
				scan_description(st, brace, (size_t)len);
				vf_mig_cpu_description(st, brace, (size_t)len);
			}
		}
		if (nul || n == max)
			break;
	}
	free(buf);
	return NULL;
}
