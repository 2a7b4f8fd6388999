/* options.h - the command line, parsed by argp into one struct. */
#ifndef VF_OPTIONS_H
#define VF_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

enum vf_action {
	VF_ACTION_NONE,
	VF_ACTION_INSPECT,
	VF_ACTION_FIX,       /* -o FILE, --in-place, --dry-run or --check */
};

struct vf_options {
	enum vf_action action;
	char **inputs;            /* every DUMP, in order */
	size_t ninputs;
	unsigned jobs;            /* --jobs: dumps at once (default 1) */
	const char *output;       /* -o */
	bool out_stream;          /* -o -: a flattened stream to standard output */
	bool no_sync;             /* --no-sync: -o without fsync */
	bool dry_run;
	bool in_place;            /* --in-place */
	int out_form;             /* --output-format: enum vf_out_form (default raw) */
	bool out_form_given;      /* --output-format was given */
	bool to_kdump;            /* --output-format kdump: a new kdump (out_form raw, or
				   * flattened for -o -) */
	bool check;               /* --check: exit 0 healthy, 1 fixable, 3 not fixable */
	bool json;
	bool verbose;
	/* where the guest's VMCOREINFO note is (at most one of these) */
	const char *region;       /* --region: "ADDR,SIZE" or the sysfs line */
	const char *region_file;  /* --region-file: a file holding the sysfs line */
	const char *fw_cfg;       /* --fw-cfg: the 16-byte etc/vmcoreinfo entry */
	const char *saved_state;  /* --saved-state: a migration stream or libvirt save image */
	const char *memory;       /* --memory: guest memory elsewhere */
	const char *memory_layout; /* --memory-layout: raw RAM file layout */
	bool no_scan;             /* --no-scan */
	int progress;             /* --progress: 0 auto, 1 always, -1 never */
	bool replace_note;        /* --replace-note: the guest's note wins over the dump's */
	bool keep_device_pages;   /* --keep-device-pages: kdump bitmaps keep pages above the kernel's memory map */
};

/* Parse argv; exits with VF_EXIT_USAGE on a bad command line (argp). */
void vf_options_parse(int argc, char **argv, struct vf_options *opts);

#endif
