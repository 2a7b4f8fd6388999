/* test_vmcoreinfo.c - VMCOREINFO text parsing and the kernel's number formats. */
#include "config.h"

#include <string.h>

#include "tap.h"
#include "util/vmcoreinfo.h"

static const char text[] =
	"OSRELEASE=6.1.0-56-amd64\n"
	"PAGESIZE=4096\n"
	"SYMBOL(_stext)=ffffffffad000000\n"
	"KERNELOFFSET=2c000000\n"
	"NUMBER(phys_base)=-301989888\n"
	"NUMBER(PHYS_OFFSET)=0x40000000\n"
	"OFFSET(uts_namespace.name)=4\n"
	"\n"
	"SIZE(page)=64\n"
	"NUMBER(phys_base)=1\n"
	"CRASHTIME=1700000000";   /* no final newline */

int main(void)
{
	struct vf_vmcoreinfo *v = NULL;
	struct vf_error *err = vf_vmcoreinfo_parse(text, sizeof(text), &v);
	TAP_OK(!err && v, "real-world text parses (trailing NUL and no final newline)");
	TAP_EQ_U64(v->n, 10, "ten entries, empty line skipped");
	TAP_EQ_STR(vf_vmcoreinfo_get(v, "OSRELEASE"), "6.1.0-56-amd64", "OSRELEASE");
	TAP_EQ_STR(vf_vmcoreinfo_get(v, "CRASHTIME"), "1700000000", "last line without newline");
	TAP_OK(vf_vmcoreinfo_get(v, "MISSING") == NULL, "absent key");

	uint64_t x = 0;
	TAP_OK(!vf_vmcoreinfo_number(v, "NUMBER(phys_base)", &x), "negative NUMBER parses");
	TAP_EQ_U64(x, 0xffffffffee000000ull, "-301989888 is two's complement; first duplicate wins");
	TAP_OK(!vf_vmcoreinfo_number(v, "SYMBOL(_stext)", &x), "SYMBOL parses");
	TAP_EQ_U64(x, 0xffffffffad000000ull, "SYMBOL is hex without 0x");
	TAP_OK(!vf_vmcoreinfo_number(v, "KERNELOFFSET", &x), "KERNELOFFSET parses");
	TAP_EQ_U64(x, 0x2c000000, "KERNELOFFSET is hex");
	TAP_OK(!vf_vmcoreinfo_number(v, "NUMBER(PHYS_OFFSET)", &x), "arm64 0x NUMBER parses");
	TAP_EQ_U64(x, 0x40000000, "0x prefix means hex");
	TAP_OK(!vf_vmcoreinfo_number(v, "PAGESIZE", &x) && x == 4096, "PAGESIZE is decimal");
	TAP_OK(!vf_vmcoreinfo_number(v, "OFFSET(uts_namespace.name)", &x) && x == 4, "OFFSET decimal");
	err = vf_vmcoreinfo_number(v, "SYMBOL(nothing)", &x);
	TAP_OK(err && err->code == VF_ERR_NOT_FOUND, "absent number is NOT_FOUND");
	vf_error_destroy(err);
	vf_vmcoreinfo_destroy(v);

	static const char bad_nums[] =
		"NUMBER(a)=12x\nSYMBOL(b)=xyz\nNUMBER(c)=99999999999999999999999\n"
		"NUMBER(d)=\nNUMBER(e)=-\nNUMBER(f)=-9223372036854775808\n";
	err = vf_vmcoreinfo_parse(bad_nums, strlen(bad_nums), &v);
	TAP_OK(!err, "text with bad numbers still parses as text");
	const char *keys[] = { "NUMBER(a)", "SYMBOL(b)", "NUMBER(c)", "NUMBER(d)", "NUMBER(e)" };
	for (size_t i = 0; i < 5; i++) {
		err = vf_vmcoreinfo_number(v, keys[i], &x);
		TAP_OK(err && err->code == VF_ERR_CORRUPT && strstr(err->message, keys[i]),
		       "%s is rejected naming the key", keys[i]);
		vf_error_destroy(err);
	}
	TAP_OK(!vf_vmcoreinfo_number(v, "NUMBER(f)", &x) && x == 0x8000000000000000ull,
	       "INT64_MIN is accepted");
	vf_vmcoreinfo_destroy(v);

	static const char no_eq[] = "OSRELEASE=6.1\ngarbage line\n";
	err = vf_vmcoreinfo_parse(no_eq, strlen(no_eq), &v);
	TAP_OK(err && err->code == VF_ERR_CORRUPT && strstr(err->message, "line 2"),
	       "a line without '=' is rejected naming line 2");
	vf_error_destroy(err);
	static const char ctl[] = "OSRELEASE=6.1\x01\n";
	err = vf_vmcoreinfo_parse(ctl, strlen(ctl), &v);
	TAP_OK(err && err->code == VF_ERR_CORRUPT, "control bytes are rejected");
	vf_error_destroy(err);
	TAP_OK(vf_vmcoreinfo_key_is_hex("SYMBOL(x)") && !vf_vmcoreinfo_key_is_hex("NUMBER(x)"),
	       "hex key classification");
	/* a text of 100000 distinct keys and a repeated one: every key found
	 * through the index, the first line of a key wins; a view without the
	 * index (a caller's filtered copy) looks up linearly */
	size_t nk = 100000, cap = nk * 40 + 64, len = 0;
	char *big = malloc(cap);
	for (size_t i = 0; big && i < nk; i++)
		len += (size_t)snprintf(big + len, cap - len, "SYMBOL(s%zx)=%zx\n", i, i * 16);
	if (big)
		len += (size_t)snprintf(big + len, cap - len, "SYMBOL(s0)=dead\n");
	err = big ? vf_vmcoreinfo_parse(big, len, &v) : &vf_error_nomem;
	TAP_OK(!err && v->n == nk + 1 && v->index, "100001 lines parse, with an index");
	bool all = !err;
	for (size_t i = 0; all && i < nk; i++) {
		char key[40];
		snprintf(key, sizeof(key), "SYMBOL(s%zx)", i);
		all = !vf_vmcoreinfo_number(v, key, &x) && x == i * 16;
	}
	TAP_OK(all, "each of 100000 keys found with its value");
	TAP_OK(!err && vf_vmcoreinfo_number(v, "SYMBOL(s0)", &x) == NULL && x == 0,
	       "the first line of a repeated key wins");
	TAP_OK(!err && vf_vmcoreinfo_get(v, "SYMBOL(s186a0)") == NULL, "an absent key is absent");
	if (!err) {
		struct vf_vmcoreinfo view = *v;
		view.index = NULL;
		view.n = 3;
		TAP_OK(vf_vmcoreinfo_get(&view, "SYMBOL(s2)") && !vf_vmcoreinfo_get(&view, "SYMBOL(s3)"),
		       "a view without the index: linear lookups over its entries");
		vf_vmcoreinfo_destroy(v);
	}
	free(big);
	return tap_done();
}
