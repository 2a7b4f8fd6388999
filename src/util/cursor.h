/* cursor.h - bounds-checked reading of binary data from the input.
 *
 * Every length or offset that comes from a dump goes through a cursor: a read
 * past the end fails with a VF_ERR_CORRUPT error naming the file offset,
 * instead of reading past the buffer.  `file_off` is the file offset of
 * buf[0], so errors name where in the file the problem is.
 */
#ifndef VF_CURSOR_H
#define VF_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/error.h"

struct vf_cursor {
	const uint8_t *buf;
	size_t pos;
	size_t end;
	bool big_endian;
	uint64_t file_off;
	const char *what;  /* name of the structure being read, for errors */
};

static inline void vf_cursor_init(struct vf_cursor *c, const void *buf, size_t len,
				  bool big_endian, uint64_t file_off, const char *what)
{
	c->buf = buf;
	c->pos = 0;
	c->end = len;
	c->big_endian = big_endian;
	c->file_off = file_off;
	c->what = what;
}

static inline size_t vf_cursor_left(const struct vf_cursor *c)
{
	return c->end - c->pos;
}

static inline uint64_t vf_cursor_offset(const struct vf_cursor *c)
{
	return c->file_off + c->pos;
}

static inline struct vf_error *vf_cursor_need(const struct vf_cursor *c, size_t n)
{
	if (n > c->end - c->pos)
		return vf_error_truncated(c->file_off + c->pos, c->what ? c->what : "data",
					  n, c->end - c->pos);
	return NULL;
}

/* Move to absolute position pos within the buffer. */
static inline struct vf_error *vf_cursor_seek(struct vf_cursor *c, size_t pos)
{
	if (pos > c->end)
		return vf_error_truncated(c->file_off + c->end, c->what ? c->what : "data",
					  pos, c->end);
	c->pos = pos;
	return NULL;
}

static inline struct vf_error *vf_cursor_skip(struct vf_cursor *c, size_t n)
{
	struct vf_error *err = vf_cursor_need(c, n);
	if (!err)
		c->pos += n;
	return err;
}

/* Point *p at the next n bytes and advance. */
static inline struct vf_error *vf_cursor_bytes(struct vf_cursor *c, size_t n, const uint8_t **p)
{
	struct vf_error *err = vf_cursor_need(c, n);
	if (err)
		return err;
	*p = c->buf + c->pos;
	c->pos += n;
	return NULL;
}

static inline uint64_t vf_load_uint(const uint8_t *p, size_t n, bool big_endian)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * (big_endian ? n - 1 - i : i));
	return v;
}

static inline void vf_store_uint(uint8_t *p, size_t n, bool big_endian, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		p[big_endian ? n - 1 - i : i] = (uint8_t)(v >> (8 * i));
}

/* Read an n-byte unsigned integer (n = 1, 2, 4 or 8) in the cursor's byte order. */
static inline struct vf_error *vf_cursor_uint(struct vf_cursor *c, size_t n, uint64_t *v)
{
	struct vf_error *err = vf_cursor_need(c, n);
	if (err)
		return err;
	*v = vf_load_uint(c->buf + c->pos, n, c->big_endian);
	c->pos += n;
	return NULL;
}

static inline struct vf_error *vf_cursor_u8(struct vf_cursor *c, uint8_t *v)
{
	uint64_t x;
	struct vf_error *err = vf_cursor_uint(c, 1, &x);
	if (!err)
		*v = (uint8_t)x;
	return err;
}

static inline struct vf_error *vf_cursor_u16(struct vf_cursor *c, uint16_t *v)
{
	uint64_t x;
	struct vf_error *err = vf_cursor_uint(c, 2, &x);
	if (!err)
		*v = (uint16_t)x;
	return err;
}

static inline struct vf_error *vf_cursor_u32(struct vf_cursor *c, uint32_t *v)
{
	uint64_t x;
	struct vf_error *err = vf_cursor_uint(c, 4, &x);
	if (!err)
		*v = (uint32_t)x;
	return err;
}

static inline struct vf_error *vf_cursor_u64(struct vf_cursor *c, uint64_t *v)
{
	return vf_cursor_uint(c, 8, v);
}

/* Overflow-checked a + b; returns false on overflow. */
static inline bool vf_add_ok(uint64_t a, uint64_t b, uint64_t *r)
{
	return !__builtin_add_overflow(a, b, r);
}

static inline bool vf_mul_ok(uint64_t a, uint64_t b, uint64_t *r)
{
	return !__builtin_mul_overflow(a, b, r);
}

#endif
