/* test_json.c - the JSON writer: nesting, separators, escaping of untrusted bytes. */
#include "config.h"

#include <stdlib.h>

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

int main(void)
{
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
