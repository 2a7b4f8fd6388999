/* test_error.c - the error object: constructors, setters, the constant
 * out-of-memory error. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util/error.h"

static void setters(void)
{
	struct vf_error *e = vf_error_create(VF_ERR_NOT_PRESENT, "page %d", 7);
	TAP_OK(e != &vf_error_nomem && e->code == VF_ERR_NOT_PRESENT, "created with its code");
	TAP_OK(vf_error_set_offset(e, 0x1000) == e && e->has_offset && e->offset == 0x1000 &&
	       !e->offset_is_paddr, "set_offset: a file offset");
	vf_error_set_paddr(e, 0x2000);
	TAP_OK(e->offset == 0x2000 && e->offset_is_paddr, "set_paddr replaces it with an address");
	TAP_OK(vf_error_set_code(e, VF_ERR_REFUSED) == e && e->code == VF_ERR_REFUSED,
	       "set_code reclassifies an input error");
	vf_error_set_path(e, "a.dump");
	vf_error_set_path(e, "b.dump");
	vf_error_prefix(e, "reading %s", "x");
	char *s = vf_error_string(e);
	TAP_EQ_STR(s, "a.dump: physical address 0x2000: reading x: page 7",
		   "the one line: path (the first set), where, context, message");
	free(s);
	vf_error_destroy(e);

	struct vf_error *os = vf_error_os(EIO, "f", "read");
	vf_error_set_code(os, VF_ERR_REFUSED);
	TAP_OK(os->code == VF_ERR_OS && os->errnum == EIO,
	       "set_code leaves a failed system call what it is");
	s = vf_error_string(os);
	TAP_OK(s && strstr(s, "f: read: ") == s, "an OS error names its path and strerror");
	free(s);
	vf_error_destroy(os);
	TAP_OK(vf_error_set_code(NULL, VF_ERR_REFUSED) == NULL && vf_error_set_offset(NULL, 1) == NULL,
	       "setters pass NULL (success) through");
}

static void nomem(void)
{
	struct vf_error *n = &vf_error_nomem;
	struct vf_error before = *n;
	TAP_OK(vf_error_set_code(n, VF_ERR_REFUSED) == n, "set_code returns the out-of-memory error");
	vf_error_set_offset(n, 5);
	vf_error_set_paddr(n, 6);
	vf_error_set_path(n, "p");
	vf_error_set_hint(n, "h");
	vf_error_prefix(n, "ctx");
	vf_error_destroy(n);
	TAP_OK(memcmp(&before, n, sizeof(before)) == 0 && n->code == VF_ERR_NOMEM &&
	       !strcmp(n->message, "out of memory"), "no setter, prefix or destroy changes it");
	TAP_OK(n == (struct vf_error *)&vf_error_nomem_const, "it is the one constant object");
	TAP_EQ_STR(vf_error_code_name(n->code), "nomem", "its code's name");
}

int main(void)
{
	setters();
	nomem();
	return tap_done();
}
