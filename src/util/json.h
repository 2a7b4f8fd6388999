/* json.h - a small streaming JSON writer (UTF-8 safe escaping, no allocation). */
#ifndef VF_JSON_H
#define VF_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define VF_JSON_DEPTH 32

struct vf_json {
	FILE *out;
	int depth;
	bool first[VF_JSON_DEPTH];  /* no member written yet at this depth */
	bool pretty;
	bool after_key;              /* a key was written, its value is next */
};

void vf_json_init(struct vf_json *j, FILE *out, bool pretty);
void vf_json_begin_object(struct vf_json *j);
void vf_json_end_object(struct vf_json *j);
void vf_json_begin_array(struct vf_json *j);
void vf_json_end_array(struct vf_json *j);
/* Start a member of the current object; follow with one value or container. */
void vf_json_key(struct vf_json *j, const char *key);
void vf_json_string(struct vf_json *j, const char *s);
/* Bytes that may not be valid UTF-8 or NUL-terminated (from the dump). */
void vf_json_string_n(struct vf_json *j, const char *s, size_t n);
void vf_json_uint(struct vf_json *j, uint64_t v);
void vf_json_int(struct vf_json *j, int64_t v);
void vf_json_hex(struct vf_json *j, uint64_t v);  /* as a "0x..." string */
void vf_json_bool(struct vf_json *j, bool v);
void vf_json_null(struct vf_json *j);
/* A member with its value, in one call. */
void vf_json_kv_string(struct vf_json *j, const char *key, const char *s);
void vf_json_kv_uint(struct vf_json *j, const char *key, uint64_t v);
void vf_json_kv_int(struct vf_json *j, const char *key, int64_t v);
void vf_json_kv_hex(struct vf_json *j, const char *key, uint64_t v);
void vf_json_kv_bool(struct vf_json *j, const char *key, bool v);
/* Finish the document with a newline. */
void vf_json_finish(struct vf_json *j);

#endif
