/* exitcodes.h - the documented exit codes (vmcore-fix(1), README). */
#ifndef VF_EXITCODES_H
#define VF_EXITCODES_H

enum vf_exit {
	VF_EXIT_OK = 0,          /* done; --inspect: no problem found */
	VF_EXIT_PROBLEMS = 1,    /* --inspect: problems listed; --check: fixable */
	VF_EXIT_USAGE = 2,       /* bad command line */
	VF_EXIT_UNFIXABLE = 3,   /* not fixable from the evidence given */
	VF_EXIT_CORRUPT = 4,     /* input is not a dump, or is corrupt or truncated */
	VF_EXIT_UNSUPPORTED = 5, /* valid input this build cannot handle (e.g. codec) */
	VF_EXIT_IO = 6,          /* I/O or system error, out of memory */
};

/* The status of a run over many dumps: the worst of theirs, and the worst is
 * the highest number (vmcore-fix(1), EXIT STATUS): 0 every dump healthy or
 * done, 1 some fixable and none failed, 3 and up some need a look. */
static inline int vf_exit_worst(int a, int b)
{
	return a > b ? a : b;
}

#endif
