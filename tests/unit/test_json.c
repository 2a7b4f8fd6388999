/* test_json.c - the JSON writer: nesting, separators, escaping of untrusted bytes. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "tap.h"

static char *render(void (*fn)(struct vf_json *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct vf_json j;
	vf_json_init(&j, f, false);
	fn(&j);
	fclose(f);
	return buf;
}

static void doc1(struct vf_json *j)
{
	vf_json_begin_object(j);
	vf_json_key(j, "a");
	vf_json_uint(j, 1);
	vf_json_key(j, "b");
	vf_json_begin_array(j);
	vf_json_int(j, -2);
	vf_json_hex(j, 0xffffffffee000000ull);
	vf_json_bool(j, true);
	vf_json_null(j);
	vf_json_end_array(j);
	vf_json_key(j, "c");
	vf_json_begin_object(j);
	vf_json_end_object(j);
	vf_json_key(j, "d");
	vf_json_begin_array(j);
	vf_json_end_array(j);
	vf_json_end_object(j);
}

static void doc2(struct vf_json *j)
{
	vf_json_begin_array(j);
	vf_json_string_n(j, "q\"b\\n\n\x01\xff", 8);
	vf_json_string(j, NULL);
	vf_json_begin_object(j);
	vf_json_key(j, "k");
	vf_json_string(j, "v");
	vf_json_end_object(j);
	vf_json_end_array(j);
}

/* ------------------------------------------------ any bytes, valid JSON */

static const unsigned char *any_bytes;
static size_t any_len;

static void doc_bytes(struct vf_json *j)
{
	vf_json_begin_object(j);
	vf_json_key(j, "k\x1b[0m\n");
	vf_json_string_n(j, (const char *)any_bytes, any_len);
	vf_json_end_object(j);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	     : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A strict reader of one JSON string at *p (RFC 8259: no raw control
 * character, only the defined escapes, \u with four hex digits); the code
 * points, each < 256 here, back as bytes into out.  Returns the length, or
 * -1 when the text is not a valid JSON string. */
static long read_string(const char **p, unsigned char *out, size_t cap)
{
	const char *c = *p;
	size_t n = 0;
	if (*c++ != '"')
		return -1;
	for (;; c++) {
		unsigned char b = (unsigned char)*c;
		if (b == '"')
			break;
		if (b < 0x20 || b >= 0x7f || n == cap)   /* raw control, raw non-ASCII */
			return -1;
		if (b != '\\') {
			out[n++] = b;
			continue;
		}
		c++;
		const char *simple = "\"\\/bfnrt", *val = "\"\\/\b\f\n\r\t";
		const char *at = *c ? strchr(simple, *c) : NULL;
		if (at) {
			out[n++] = (unsigned char)val[at - simple];
			continue;
		}
		if (*c != 'u')
			return -1;
		int v = 0;
		for (int k = 1; k <= 4; k++) {
			int h = hexval(c[k]);
			if (h < 0)
				return -1;
			v = v * 16 + h;
		}
		if (v > 0xff)
			return -1;   /* this writer maps bytes to U+0000..U+00FF */
		out[n++] = (unsigned char)v;
		c += 4;
	}
	*p = c + 1;
	return (long)n;
}

static void test_any_bytes(void)
{
	unsigned char all[256 + 64];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	/* and sequences that are not UTF-8: a lone continuation byte, a lead
	 * byte without its continuation, an overlong NUL, a surrogate, U+FFFE */
	static const unsigned char bad[] = { 0x80, 0xc3, 'a', 0xc0, 0x80, 0xed, 0xa0, 0x80,
					     0xef, 0xbf, 0xbe, 0xf4, 0x90, 0x80, 0x80, 0xff };
	memcpy(all + 256, bad, sizeof(bad));
	any_bytes = all;
	any_len = 256 + sizeof(bad);
	char *s = render(doc_bytes);
	bool ascii = s != NULL;
	for (const char *c = s; ascii && *c; c++)
		ascii = *c >= 0x20 && *c < 0x7f;
	TAP_OK(ascii, "every byte 0..255 and invalid UTF-8: the document is printable ASCII");
	unsigned char key[64], got[sizeof(all)];
	const char *p = s ? s : "";
	long kn = -1, vn = -1;
	if (*p == '{' && p++)
		kn = read_string(&p, key, sizeof(key));
	if (kn >= 0 && *p == ':' && p++)
		vn = read_string(&p, got, sizeof(got));
	TAP_OK(kn == 6 && memcmp(key, "k\x1b[0m\n", 6) == 0, "a key with an escape sequence and "
	       "a newline: escaped, read back");
	TAP_OK(vn == (long)any_len && memcmp(got, all, any_len) == 0 && strcmp(p, "}") == 0,
	       "a strict reader reads the document and gets every byte back (U+00XX per byte)");
	free(s);
}

int main(void)
{
	test_any_bytes();
	char *s = render(doc1);
	TAP_EQ_STR(s, "{\"a\":1,\"b\":[-2,\"0xffffffffee000000\",true,null],\"c\":{},\"d\":[]}",
		   "nested objects and arrays, separators");
	free(s);
	s = render(doc2);
	TAP_EQ_STR(s, "[\"q\\\"b\\\\n\\n\\u0001\\u00ff\",null,{\"k\":\"v\"}]",
		   "escaping of quotes, backslashes, control and non-ASCII bytes");
	free(s);
	return tap_done();
}
