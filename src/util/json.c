/* json.c - a small streaming JSON writer. */
#include "config.h"
#include "util/json.h"

#include <inttypes.h>
#include <string.h>

void vf_json_init(struct vf_json *j, FILE *out, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->pretty = pretty;
	j->first[0] = true;
}

static void indent(struct vf_json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->out);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->out);
}

/* Called before every value or key: separators and indentation. */
static void before_item(struct vf_json *j)
{
	if (!j->first[j->depth])
		fputc(',', j->out);
	j->first[j->depth] = false;
	if (j->depth > 0)
		indent(j);
}

static void before_value(struct vf_json *j)
{
	if (j->after_key)
		j->after_key = false;
	else
		before_item(j);
}

static void open_container(struct vf_json *j, char c)
{
	before_value(j);
	fputc(c, j->out);
	if (j->depth < VF_JSON_DEPTH - 1)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_container(struct vf_json *j, char c)
{
	bool empty = j->first[j->depth];
	if (j->depth > 0)
		j->depth--;
	if (!empty)
		indent(j);
	fputc(c, j->out);
}

void vf_json_begin_object(struct vf_json *j) { open_container(j, '{'); }
void vf_json_end_object(struct vf_json *j) { close_container(j, '}'); }
void vf_json_begin_array(struct vf_json *j) { open_container(j, '['); }
void vf_json_end_array(struct vf_json *j) { close_container(j, ']'); }

static void put_escaped(struct vf_json *j, const char *s, size_t n)
{
	fputc('"', j->out);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': fputs("\\\"", j->out); break;
		case '\\': fputs("\\\\", j->out); break;
		case '\n': fputs("\\n", j->out); break;
		case '\t': fputs("\\t", j->out); break;
		case '\r': fputs("\\r", j->out); break;
		default:
			/* Control bytes and anything non-ASCII (dump contents are
			 * untrusted and may not be UTF-8) are escaped, each byte
			 * as the code point of its value (\u0000-\u00ff): the
			 * document is printable ASCII whatever the bytes, valid
			 * JSON, and a reader gets every byte back (code point =
			 * byte; UTF-8 text reads as its bytes, not its
			 * characters). */
			if (c < 0x20 || c >= 0x7f)
				fprintf(j->out, "\\u%04x", c);
			else
				fputc(c, j->out);
		}
	}
	fputc('"', j->out);
}

void vf_json_key(struct vf_json *j, const char *key)
{
	before_item(j);
	put_escaped(j, key ? key : "", key ? strlen(key) : 0);
	fputs(j->pretty ? ": " : ":", j->out);
	j->after_key = true;
}

void vf_json_string(struct vf_json *j, const char *s)
{
	if (!s) {
		vf_json_null(j);
		return;
	}
	vf_json_string_n(j, s, strlen(s));
}

void vf_json_string_n(struct vf_json *j, const char *s, size_t n)
{
	before_value(j);
	put_escaped(j, s, n);
}

void vf_json_uint(struct vf_json *j, uint64_t v)
{
	before_value(j);
	fprintf(j->out, "%" PRIu64, v);
}

void vf_json_int(struct vf_json *j, int64_t v)
{
	before_value(j);
	fprintf(j->out, "%" PRId64, v);
}

void vf_json_hex(struct vf_json *j, uint64_t v)
{
	before_value(j);
	fprintf(j->out, "\"0x%" PRIx64 "\"", v);
}

void vf_json_bool(struct vf_json *j, bool v)
{
	before_value(j);
	fputs(v ? "true" : "false", j->out);
}

void vf_json_null(struct vf_json *j)
{
	before_value(j);
	fputs("null", j->out);
}

void vf_json_finish(struct vf_json *j)
{
	fputc('\n', j->out);
}

void vf_json_kv_string(struct vf_json *j, const char *key, const char *s)
{
	vf_json_key(j, key);
	vf_json_string(j, s);
}

void vf_json_kv_uint(struct vf_json *j, const char *key, uint64_t v)
{
	vf_json_key(j, key);
	vf_json_uint(j, v);
}

void vf_json_kv_int(struct vf_json *j, const char *key, int64_t v)
{
	vf_json_key(j, key);
	vf_json_int(j, v);
}

void vf_json_kv_hex(struct vf_json *j, const char *key, uint64_t v)
{
	vf_json_key(j, key);
	vf_json_hex(j, v);
}

void vf_json_kv_bool(struct vf_json *j, const char *key, bool v)
{
	vf_json_key(j, key);
	vf_json_bool(j, v);
}
