/* vmcoreinfo.c - the VMCOREINFO text: KEY=VALUE lines, numbers as the kernel
 * prints them (kernel/vmcore_info.c and the arch hooks):
 *   SYMBOL(x)=%lx, KERNELOFFSET=%lx          hex without 0x
 *   NUMBER(x)=%ld, SIZE/OFFSET/LENGTH=%lu,
 *   PAGESIZE=%ld, CRASHTIME=%lld             decimal, NUMBER may be negative
 *   arm64 NUMBER(PHYS_OFFSET)=0x%llx, NUMBER(kimage_voffset)=0x%llx
 *                                            hex with 0x: a 0x prefix means hex
 */
#include "config.h"
#include "util/vmcoreinfo.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void vf_vmcoreinfo_destroy(struct vf_vmcoreinfo *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		free(v->entries[i].key);
		free(v->entries[i].value);
	}
	free(v->entries);
	free(v);
}

struct vf_error *vf_vmcoreinfo_parse(const char *text, size_t len, struct vf_vmcoreinfo **ret)
{
	const char *nul = memchr(text, '\0', len);
	if (nul)
		len = (size_t)(nul - text);
	struct vf_vmcoreinfo *v = calloc(1, sizeof(*v));
	if (!v)
		return &vf_error_nomem;
	v->text_len = len;
	size_t pos = 0, line = 0;
	while (pos < len) {
		line++;
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - s) : len - pos;
		size_t next = pos + ll + (nl ? 1 : 0);
		if (ll == 0) {
			pos = next;
			continue;
		}
		for (size_t i = 0; i < ll; i++) {
			unsigned char ch = (unsigned char)s[i];
			if (ch < 0x20 || ch > 0x7e) {
				vf_vmcoreinfo_destroy(v);
				return vf_error_create(VF_ERR_CORRUPT, "VMCOREINFO line %zu "
						       "(byte %zu of the text): byte 0x%02x is not text",
						       line, pos + i, ch);
			}
		}
		const char *eq = memchr(s, '=', ll);
		if (!eq || eq == s) {
			vf_vmcoreinfo_destroy(v);
			return vf_error_create(VF_ERR_CORRUPT, "VMCOREINFO line %zu (byte %zu of "
					       "the text, \"%.*s\") is not KEY=VALUE", line, pos,
					       (int)(ll > 40 ? 40 : ll), s);
		}
		struct vf_vmci_entry *e = realloc(v->entries, (v->n + 1) * sizeof(*e));
		if (!e) {
			vf_vmcoreinfo_destroy(v);
			return &vf_error_nomem;
		}
		v->entries = e;
		e = &e[v->n];
		e->key = strndup(s, (size_t)(eq - s));
		e->value = strndup(eq + 1, ll - (size_t)(eq - s) - 1);
		if (!e->key || !e->value) {
			free(e->key);
			free(e->value);
			vf_vmcoreinfo_destroy(v);
			return &vf_error_nomem;
		}
		v->n++;
		pos = next;
	}
	*ret = v;
	return NULL;
}

const char *vf_vmcoreinfo_get(const struct vf_vmcoreinfo *v, const char *key)
{
	if (!v)
		return NULL;
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->entries[i].key, key) == 0)
			return v->entries[i].value;
	return NULL;
}

bool vf_vmcoreinfo_key_is_hex(const char *key)
{
	return strncmp(key, "SYMBOL(", 7) == 0 || strcmp(key, "KERNELOFFSET") == 0 ||
	       strcmp(key, "BUILD-ID") == 0;
}

static bool parse_digits(const char *s, int base, uint64_t *out)
{
	if (!*s)
		return false;
	uint64_t v = 0;
	for (; *s; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return false;
		if (__builtin_mul_overflow(v, (uint64_t)base, &v) ||
		    __builtin_add_overflow(v, (uint64_t)d, &v))
			return false;
	}
	*out = v;
	return true;
}

struct vf_error *vf_vmcoreinfo_number(const struct vf_vmcoreinfo *v, const char *key,
				      uint64_t *val)
{
	const char *s = vf_vmcoreinfo_get(v, key);
	if (!s)
		return vf_error_create(VF_ERR_NOT_FOUND, "VMCOREINFO has no %s", key);
	bool ok;
	uint64_t x = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		ok = parse_digits(s + 2, 16, &x);
	} else if (vf_vmcoreinfo_key_is_hex(key)) {
		ok = parse_digits(s, 16, &x);
	} else {
		bool neg = s[0] == '-';
		ok = parse_digits(s + neg, 10, &x);
		if (ok && neg) {
			if (x > (uint64_t)INT64_MAX + 1)
				ok = false;
			else
				x = (uint64_t)0 - x;
		}
	}
	if (!ok)
		return vf_error_create(VF_ERR_CORRUPT, "VMCOREINFO %s=%s is not a number in the "
				       "kernel's format (%s)", key, s,
				       vf_vmcoreinfo_key_is_hex(key) ? "hex" : "decimal");
	*val = x;
	return NULL;
}
