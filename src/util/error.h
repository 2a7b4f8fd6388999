/* error.h - the error object every fallible function returns.
 *
 * A function that can fail returns `struct vf_error *`; NULL means success and
 * results travel through trailing out-parameters.  Callers add context as the
 * error travels up with vf_error_prefix() and the setters, never by writing
 * the fields.  Only cli/main.c prints errors.
 */
#ifndef VF_ERROR_H
#define VF_ERROR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vf_err_code {
	VF_ERR_NOMEM = 1,    /* out of memory */
	VF_ERR_OS,           /* a system call failed; errnum is set */
	VF_ERR_CORRUPT,      /* the input is malformed, truncated or hostile */
	VF_ERR_UNSUPPORTED,  /* valid input we cannot handle (codec not built, format variant) */
	VF_ERR_NOT_FORMAT,   /* "not my format": a probe's answer, never a read error */
	VF_ERR_NOT_PRESENT,  /* physical address not in this dump (not RAM, no segment) */
	VF_ERR_EXCLUDED,     /* page was in RAM but filtered out of the dump */
	VF_ERR_NOT_FOUND,    /* a looked-up key, note or item does not exist */
	VF_ERR_INVALID,      /* bad argument from the user */
	VF_ERR_REFUSED,      /* evidence fails a validation rule (QEMU's vmcoreinfo rules) */
};

struct vf_error {
	enum vf_err_code code;
	int errnum;          /* errno for VF_ERR_OS, else 0 */
	bool has_offset;     /* offset is meaningful */
	uint64_t offset;     /* file offset (or physical address for memory errors) */
	bool offset_is_paddr;/* offset is a guest physical address, not a file offset */
	char *path;          /* file the error is about, or NULL */
	char *message;       /* what is wrong; context is prepended as "ctx: msg" */
	char *hint;          /* what the user can do, or NULL */
};

/* Every function that returns an error is marked so: an error dropped on
 * the floor is a compile-time warning.  The decorators below, which return
 * the error they were given for chaining, are not. */
#define VF_MUST_CHECK __attribute__((warn_unused_result))

/* The out-of-memory error: one constant object, needs no allocation.
 * destroy and every setter leave it alone; it lives in read-only memory, so
 * code that writes to it by hand fails at once.  &vf_error_nomem is the
 * struct vf_error * functions return. */
extern const struct vf_error vf_error_nomem_const;
#define vf_error_nomem (*(struct vf_error *)&vf_error_nomem_const)

struct vf_error *vf_error_create(enum vf_err_code code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))) VF_MUST_CHECK;
/* The same with a va_list, for helpers that add context to their callers' messages. */
struct vf_error *vf_error_vcreate(enum vf_err_code code, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0))) VF_MUST_CHECK;
/* An error about the input at file offset `off`. */
struct vf_error *vf_error_at(enum vf_err_code code, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4))) VF_MUST_CHECK;
/* An error about guest physical address `paddr`. */
struct vf_error *vf_error_paddr(enum vf_err_code code, uint64_t paddr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4))) VF_MUST_CHECK;
/* A failed system call; errnum is an errno value, path may be NULL. */
struct vf_error *vf_error_os(int errnum, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4))) VF_MUST_CHECK;
/* Shorthand for a truncated structure. */
struct vf_error *vf_error_truncated(uint64_t off, const char *what, uint64_t need, uint64_t have) VF_MUST_CHECK;

/* Prepend "context: " to the message; returns err (works on the nomem error too). */
struct vf_error *vf_error_prefix(struct vf_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Set the path the error is about, if not set yet; returns err. */
struct vf_error *vf_error_set_path(struct vf_error *err, const char *path);
/* Set (replace) the file offset the error is about; returns err. */
struct vf_error *vf_error_set_offset(struct vf_error *err, uint64_t off);
/* Set (replace) the guest physical address the error is about; returns err. */
struct vf_error *vf_error_set_paddr(struct vf_error *err, uint64_t paddr);
/* Reclassify an input error (e.g. "not in this memory" becomes "refused"):
 * a failure of the machine (out of memory, a system call) stays what it is,
 * so no caller can turn it into a verdict about the input.  Returns err. */
struct vf_error *vf_error_set_code(struct vf_error *err, enum vf_err_code code);
/* Set (replace) the hint; returns err. */
struct vf_error *vf_error_set_hint(struct vf_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Text of the user's (or a file's) quoted in a one-line message: at most
 * VF_QUOTE_MAX of its n bytes, newlines, tabs and carriage returns as \n \t
 * \r, a backslash as \\, other non-printable bytes as \ooo (octal), "..."
 * after a cut.  out holds VF_QUOTE_BUF bytes; returns out. */
#define VF_QUOTE_MAX 64
#define VF_QUOTE_BUF (4 * VF_QUOTE_MAX + 4)
const char *vf_quote(const char *s, size_t n, char out[VF_QUOTE_BUF]);

/* One line: "PATH: at offset 0x..: message: strerror" (no newline, no hint).
 * Returns a malloc'd string or NULL on allocation failure. */
char *vf_error_string(const struct vf_error *err);
/* Stable short name of the code, for JSON ("corrupt", "io", ...). */
const char *vf_error_code_name(enum vf_err_code code);

void vf_error_destroy(struct vf_error *err);

#endif
