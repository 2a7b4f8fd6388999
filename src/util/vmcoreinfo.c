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
	free(v->entries);
	free(v->text);
	free(v->index);
	free(v);
}

/* FNV-1a: the keys are short ASCII. */
static size_t hash_key(const char *k)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 0x100000001b3ull;
	return (size_t)(h ^ (h >> 29));
}

/* The slot of key: where it is, or the empty slot where it would go. */
static size_t find_slot(const struct vf_vmcoreinfo *v, const char *key)
{
	size_t i = hash_key(key) & v->index_mask;
	while (v->index[i] && strcmp(v->entries[v->index[i] - 1].key, key) != 0)
		i = (i + 1) & v->index_mask;
	return i;
}

static struct vf_error *build_index(struct vf_vmcoreinfo *v)
{
	size_t slots = 16;
	while (slots < 2 * v->n)
		slots *= 2;
	v->index = calloc(slots, sizeof(*v->index));
	if (!v->index)
		return &vf_error_nomem;
	v->index_mask = slots - 1;
	for (size_t e = 0; e < v->n; e++) {
		size_t i = find_slot(v, v->entries[e].key);
		if (!v->index[i])   /* a repeated key: the first line keeps it */
			v->index[i] = (uint32_t)(e + 1);
	}
	return NULL;
}

/* Line `line` (bytes [pos, pos + ll) of text) is printable KEY=VALUE. */
static struct vf_error *check_line(const char *s, size_t ll, size_t pos, size_t line)
{
	for (size_t i = 0; i < ll; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch > 0x7e)
			return vf_error_create(VF_ERR_CORRUPT, "VMCOREINFO line %zu (byte %zu of the "
					       "text): byte 0x%02x is not text", line, pos + i, ch);
	}
	const char *eq = memchr(s, '=', ll);
	if (!eq || eq == s)
		return vf_error_create(VF_ERR_CORRUPT, "VMCOREINFO line %zu (byte %zu of the "
				       "text, \"%.*s\") is not KEY=VALUE", line, pos,
				       (int)(ll > 40 ? 40 : ll), s);
	return NULL;
}

/* Check every line; cut them in v->text into key and value strings. */
static struct vf_error *cut_lines(struct vf_vmcoreinfo *v, size_t len, bool fill)
{
	char *t = v->text;
	size_t pos = 0, line = 0, n = 0;
	while (pos < len) {
		line++;
		char *s = t + pos;
		char *nl = memchr(s, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - s) : len - pos;
		size_t start = pos;
		pos += ll + (nl ? 1 : 0);
		if (ll == 0)
			continue;
		if (!fill) {
			struct vf_error *err = check_line(s, ll, start, line);
			if (err)
				return err;
			n++;
			continue;
		}
		char *eq = memchr(s, '=', ll);
		*eq = '\0';
		s[ll] = '\0';   /* the newline, or the NUL after the text */
		v->entries[v->n++] = (struct vf_vmci_entry){ s, eq + 1 };
	}
	if (!fill)
		v->n = n;
	return NULL;
}

struct vf_error *vf_vmcoreinfo_parse(const char *text, size_t len, struct vf_vmcoreinfo **ret)
{
	const char *nul = memchr(text, '\0', len);
	if (nul)
		len = (size_t)(nul - text);
	struct vf_vmcoreinfo *v = calloc(1, sizeof(*v));
	if (!v || len == SIZE_MAX || !(v->text = malloc(len + 1))) {
		free(v);
		return &vf_error_nomem;
	}
	memcpy(v->text, text, len);
	v->text[len] = '\0';
	v->text_len = len;
	struct vf_error *err = cut_lines(v, len, false);   /* check and count */
	if (!err && v->n > UINT32_MAX - 1)
		err = vf_error_create(VF_ERR_CORRUPT, "VMCOREINFO: %zu lines", v->n);
	if (!err) {
		v->entries = malloc((v->n ? v->n : 1) * sizeof(*v->entries));
		if (!v->entries)
			err = &vf_error_nomem;
	}
	if (!err) {
		v->n = 0;
		err = cut_lines(v, len, true);
	}
	if (!err)
		err = build_index(v);
	if (err) {
		vf_vmcoreinfo_destroy(v);
		return err;
	}
	*ret = v;
	return NULL;
}

const char *vf_vmcoreinfo_get(const struct vf_vmcoreinfo *v, const char *key)
{
	if (!v)
		return NULL;
	if (v->index) {
		uint32_t e = v->index[find_slot(v, key)];
		return e ? v->entries[e - 1].value : NULL;
	}
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
