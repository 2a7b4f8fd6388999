/* error.c - the error object. */
#include "config.h"
#include "util/error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct vf_error vf_error_nomem_const = {
	.code = VF_ERR_NOMEM,
	.message = (char *)"out of memory",
};

struct vf_error *vf_error_vcreate(enum vf_err_code code, const char *fmt, va_list ap)
{
	struct vf_error *err = calloc(1, sizeof(*err));
	if (!err)
		return &vf_error_nomem;
	err->code = code;
	if (vasprintf(&err->message, fmt, ap) < 0) {
		free(err);
		return &vf_error_nomem;
	}
	return err;
}

struct vf_error *vf_error_create(enum vf_err_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct vf_error *err = vf_error_vcreate(code, fmt, ap);
	va_end(ap);
	return err;
}

static struct vf_error *with_offset(struct vf_error *err, uint64_t off, bool paddr)
{
	if (err != &vf_error_nomem) {
		err->has_offset = true;
		err->offset_is_paddr = paddr;
		err->offset = off;
	}
	return err;
}

struct vf_error *vf_error_at(enum vf_err_code code, uint64_t off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct vf_error *err = vf_error_vcreate(code, fmt, ap);
	va_end(ap);
	return with_offset(err, off, false);
}

struct vf_error *vf_error_paddr(enum vf_err_code code, uint64_t paddr, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct vf_error *err = vf_error_vcreate(code, fmt, ap);
	va_end(ap);
	return with_offset(err, paddr, true);
}

struct vf_error *vf_error_os(int errnum, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct vf_error *err = vf_error_vcreate(VF_ERR_OS, fmt, ap);
	va_end(ap);
	if (err != &vf_error_nomem) {
		err->errnum = errnum;
		vf_error_set_path(err, path);
	}
	return err;
}

struct vf_error *vf_error_truncated(uint64_t off, const char *what, uint64_t need, uint64_t have)
{
	return vf_error_at(VF_ERR_CORRUPT, off,
			   "%s truncated (need %" PRIu64 " bytes, have %" PRIu64 ")",
			   what, need, have);
}

struct vf_error *vf_error_prefix(struct vf_error *err, const char *fmt, ...)
{
	if (!err || err == &vf_error_nomem)
		return err;
	char *ctx;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&ctx, fmt, ap);
	va_end(ap);
	if (r < 0)
		return err;
	char *msg;
	if (asprintf(&msg, "%s: %s", ctx, err->message) >= 0) {
		free(err->message);
		err->message = msg;
	}
	free(ctx);
	return err;
}

struct vf_error *vf_error_set_path(struct vf_error *err, const char *path)
{
	if (!err || err == &vf_error_nomem || err->path || !path)
		return err;
	err->path = strdup(path);
	return err;
}

struct vf_error *vf_error_set_offset(struct vf_error *err, uint64_t off)
{
	return err ? with_offset(err, off, false) : err;
}

struct vf_error *vf_error_set_paddr(struct vf_error *err, uint64_t paddr)
{
	return err ? with_offset(err, paddr, true) : err;
}

struct vf_error *vf_error_set_code(struct vf_error *err, enum vf_err_code code)
{
	if (err && err != &vf_error_nomem && err->code != VF_ERR_NOMEM && err->code != VF_ERR_OS)
		err->code = code;
	return err;
}

struct vf_error *vf_error_set_hint(struct vf_error *err, const char *fmt, ...)
{
	if (!err || err == &vf_error_nomem)
		return err;
	char *hint;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&hint, fmt, ap);
	va_end(ap);
	if (r < 0)
		return err;
	free(err->hint);
	err->hint = hint;
	return err;
}

const char *vf_quote(const char *s, size_t n, char out[VF_QUOTE_BUF])
{
	size_t o = 0;
	for (size_t i = 0; i < n && i < VF_QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r"
			      : c == '\\' ? "\\\\" : NULL;
		if (e)
			o += (size_t)snprintf(out + o, VF_QUOTE_BUF - o, "%s", e);
		else if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, VF_QUOTE_BUF - o, "\\%03o", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	if (n > VF_QUOTE_MAX)
		strcpy(out + o, "...");
	return out;
}

char *vf_error_string(const struct vf_error *err)
{
	char *s = NULL;
	char where[64] = "";
	if (err->has_offset)
		snprintf(where, sizeof(where), "%s 0x%" PRIx64 ": ",
			 err->offset_is_paddr ? "physical address" : "at offset",
			 err->offset);
	/* strerror_r: the errors of dumps in other threads (--jobs) share no buffer */
	char sys[128] = "";
	const char *why = err->errnum ? strerror_r(err->errnum, sys, sizeof(sys)) : "";
	int r = asprintf(&s, "%s%s%s%s%s%s", err->path ? err->path : "",
			 err->path ? ": " : "", where, err->message,
			 err->errnum ? ": " : "", why);
	return r < 0 ? NULL : s;
}

const char *vf_error_code_name(enum vf_err_code code)
{
	switch (code) {
	case VF_ERR_NOMEM: return "nomem";
	case VF_ERR_OS: return "io";
	case VF_ERR_CORRUPT: return "corrupt";
	case VF_ERR_UNSUPPORTED: return "unsupported";
	case VF_ERR_NOT_FORMAT: return "not-format";
	case VF_ERR_NOT_PRESENT: return "not-present";
	case VF_ERR_EXCLUDED: return "excluded";
	case VF_ERR_NOT_FOUND: return "not-found";
	case VF_ERR_INVALID: return "invalid";
	case VF_ERR_REFUSED: return "refused";
	}
	return "unknown";
}

void vf_error_destroy(struct vf_error *err)
{
	if (!err || err == &vf_error_nomem)
		return;
	free(err->path);
	free(err->message);
	free(err->hint);
	free(err);
}
