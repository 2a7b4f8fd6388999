/* fuzz_notes.c - libFuzzer target: the ELF note parser and the VMCOREINFO
 * text parser.
 *
 * The input is parsed both ways: as a notes region in either byte order, and
 * as a VMCOREINFO text (whose lookups and numbers are then asked for a few
 * keys, among them the first key the text itself has). */
#include "fuzz.h"

#include "util/notes.h"
#include "util/vmcoreinfo.h"

static void notes(const uint8_t *data, size_t size, bool be)
{
	struct vf_note *ns = NULL;
	size_t n = 0;
	struct vf_error *malformed = NULL;
	struct vf_error *err = vf_notes_parse(data, size, be, 0x1000, 0, &ns, &n, &malformed);
	for (size_t i = 0; !err && i < n; i++)
		(void)vf_note_is_vmcoreinfo(&ns[i]);
	fz_drop(err);
	fz_drop(malformed);
	free(ns);
}

static void number(const struct vf_vmcoreinfo *v, const char *key)
{
	uint64_t val;
	(void)vf_vmcoreinfo_get(v, key);
	(void)vf_vmcoreinfo_key_is_hex(key);
	fz_drop(vf_vmcoreinfo_number(v, key, &val));
}

static void text(const uint8_t *data, size_t size)
{
	struct vf_vmcoreinfo *v = NULL;
	struct vf_error *err = vf_vmcoreinfo_parse((const char *)data, size, &v);
	if (err) {
		fz_drop(err);
		return;
	}
	static const char *const keys[] = { "OSRELEASE", "PAGESIZE", "NUMBER(phys_base)",
					    "SYMBOL(_stext)", "KERNELOFFSET", "NUMBER(PHYS_OFFSET)",
					    "SIZE(mem_section)", "LENGTH(mem_section)" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		number(v, keys[i]);
	for (size_t i = 0; i < v->n && i < 4; i++)
		number(v, v->entries[i].key);
	vf_vmcoreinfo_destroy(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	notes(data, size, false);
	notes(data, size, true);
	text(data, size);
	return 0;
}
