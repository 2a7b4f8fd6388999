/* options.c - argp command line. */
#include "config.h"
#include "cli/options.h"

#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/exitcodes.h"
#include "fix/writer.h"

const char *argp_program_version = PACKAGE_STRING;
const char *argp_program_bug_address = PACKAGE_BUGREPORT;

enum {
	OPT_JSON = 0x100,  /* long-only options are keyed above ASCII */
	OPT_REGION,
	OPT_REGION_FILE,
	OPT_FW_CFG,
	OPT_DRY_RUN,
	OPT_CHECK,
	OPT_IN_PLACE,
	OPT_OUTPUT_FORMAT,
	OPT_REPLACE_NOTE,
	OPT_KEEP_DEVICE_PAGES,
	OPT_SAVED_STATE,
	OPT_MEMORY,
	OPT_MEMORY_LAYOUT,
	OPT_NO_SCAN,
	OPT_PROGRESS,
	OPT_NO_SYNC,
};

/* --jobs: threads at most (each holds one dump open). */
#define VF_JOBS_MAX 1024

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "Actions:", 1 },
	{ "inspect", 'i', NULL, 0,
	  "Print what the dump is and what is wrong with it", 1 },
	{ "output", 'o', "FILE", 0,
	  "Write the fixed dump to FILE (the input is never changed); - writes a "
	  "flattened stream to standard output, the report to standard error", 1 },
	{ "output-format", OPT_OUTPUT_FORMAT, "FORM", 0,
	  "raw (default: a plain file every consumer reads; flattened input is "
	  "reassembled), flattened (the makedumpfile stream: only crash and "
	  "makedumpfile -R read it), same (the input's), elf (a kdump input "
	  "becomes an ELF dump of its memory) or kdump (an ELF dump or a saved VM "
	  "state becomes a kdump-compressed dump)", 1 },
	{ "no-sync", OPT_NO_SYNC, NULL, 0,
	  "With -o: do not fsync the output and its directory (faster; for an output "
	  "read at once: a system crash may lose it)", 1 },
	{ "in-place", OPT_IN_PLACE, NULL, 0,
	  "Patch DUMP itself (journaled: an interrupted run is finished by the next)", 1 },
	{ "dry-run", OPT_DRY_RUN, NULL, 0,
	  "Print what would be changed, and why; write nothing", 1 },
	{ "check", OPT_CHECK, NULL, 0,
	  "Write nothing; exit 0 if nothing needs fixing, 1 if vmcore-fix can fix it, "
	  "3 if not from the evidence given", 1 },
	{ "keep-device-pages", OPT_KEEP_DEVICE_PAGES, NULL, 0,
	  "kdump: keep dumped pages above the end of the kernel's memory map (VGA, "
	  "BIOS) in the bitmaps; makedumpfile then cannot re-filter the output", 1 },
	{ NULL, 0, NULL, 0, "Where the guest's VMCOREINFO note is (one of):", 3 },
	{ "region", OPT_REGION, "REGION", 0,
	  "Physical address and size: ADDR,SIZE (0x for hex) or the guest's "
	  "/sys/kernel/vmcoreinfo line \"0x00000000013ae000 1024\" (both hex)", 3 },
	{ "region-file", OPT_REGION_FILE, "FILE",  0,
	  "A copy of the guest's /sys/kernel/vmcoreinfo", 3 },
	{ "fw-cfg", OPT_FW_CFG, "FILE", 0,
	  "The 16-byte fw_cfg entry etc/vmcoreinfo (a copy of the guest's "
	  "/sys/firmware/qemu_fw_cfg/by_name/etc/vmcoreinfo/raw)", 3 },
	{ "saved-state", OPT_SAVED_STATE, "FILE", 0,
	  "A migration stream or libvirt save image of the VM: the note's place from "
	  "the vmcoreinfo device's saved state", 3 },
	{ NULL, 0, NULL, 0, "Guest memory and scanning:", 4 },
	{ "memory", OPT_MEMORY, "FILE", 0,
	  "Read the guest's note from FILE instead of the dump: another dump of the "
	  "guest, a migration stream or save image, or a raw RAM file (--memory-layout)", 4 },
	{ "memory-layout", OPT_MEMORY_LAYOUT, "LAYOUT", 0,
	  "Where a raw RAM file sits in guest-physical memory: q35, pc, virt, or "
	  "FILEOFF:GPA:SIZE[,...]", 4 },
	{ "no-scan", OPT_NO_SCAN, NULL, 0,
	  "Never scan guest memory for the note (by default vmcore-fix scans when the "
	  "dump has no usable note and no other evidence is given)", 4 },
	{ "progress", OPT_PROGRESS, "WHEN", 0,
	  "Progress of long steps on standard error: auto (on a terminal, default), "
	  "always or never", 4 },
	{ "replace-note", OPT_REPLACE_NOTE, NULL, 0,
	  "When the dump's own note differs from the guest's note at the region "
	  "given, write the guest's (without it vmcore-fix refuses, exit 3)", 3 },
	{ NULL, 0, NULL, 0, "Output:", 2 },
	{ "json", OPT_JSON, NULL, 0,
	  "Print the report as JSON on standard output (schema in docs/JSON.md)", 2 },
	{ "verbose", 'v', NULL, 0,
	  "List every memory range and program header", 2 },
	{ NULL, 0, NULL, 0, "Many dumps (--check, --inspect, --dry-run, --in-place):", 5 },
	{ "jobs", 'j', "N", 0,
	  "Work on N dumps at once, in threads (default 1); reports come whole, in "
	  "the order of the arguments", 5 },
	{ NULL, 0, NULL, 0, NULL, 0 },
};

static void parse_output_format(struct vf_options *o, const char *arg, struct argp_state *state)
{
	o->out_form_given = true;
	o->to_kdump = false;  /* the last --output-format wins */
	if (strcmp(arg, "same") == 0)
		o->out_form = VF_OUT_SAME;
	else if (strcmp(arg, "raw") == 0)
		o->out_form = VF_OUT_RAW;
	else if (strcmp(arg, "flattened") == 0)
		o->out_form = VF_OUT_FLATTENED;
	else if (strcmp(arg, "elf") == 0)
		o->out_form = VF_OUT_ELF;
	else if (strcmp(arg, "kdump") == 0)
		o->out_form = VF_OUT_RAW, o->to_kdump = true;
	else
		argp_error(state, "--output-format is same, raw, flattened, elf or kdump, not "
			   "'%s'", arg);
}

static void parse_jobs(struct vf_options *o, const char *arg, struct argp_state *state)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || n < 1 || n > VF_JOBS_MAX)
		argp_error(state, "--jobs is a number of dumps at once, 1 to %d, not '%s'",
			   VF_JOBS_MAX, arg);
	o->jobs = (unsigned)n;
}

static void parse_progress(struct vf_options *o, const char *arg, struct argp_state *state)
{
	if (strcmp(arg, "auto") == 0)
		o->progress = 0;
	else if (strcmp(arg, "always") == 0)
		o->progress = 1;
	else if (strcmp(arg, "never") == 0)
		o->progress = -1;
	else
		argp_error(state, "--progress is auto, always or never, not '%s'", arg);
}

/* Once every option is in: refuse combinations that make no sense (argp_error
 * exits), then derive the action from what was asked for. */
static void check_options(struct vf_options *o, struct argp_state *state)
{
	if (!!o->region + !!o->region_file + !!o->fw_cfg + !!o->saved_state > 1)
		argp_error(state, "give the note's region one way: --region, "
			   "--region-file, --fw-cfg or --saved-state");
	if (o->action == VF_ACTION_INSPECT && (o->output || o->dry_run))
		argp_error(state, "--inspect writes nothing: leave out -o, --dry-run and "
			   "--check");
	if (o->check && (o->output || o->in_place))
		argp_error(state, "--check writes nothing: leave out -o and --in-place");
	if (o->in_place && o->output)
		argp_error(state, "give -o FILE or --in-place, not both");
	if (o->no_sync && o->in_place)
		argp_error(state, "--no-sync goes with -o FILE, not --in-place (its journal "
			   "is crash-safe only when synced)");
	if (o->no_sync && !o->output)
		argp_error(state, "--no-sync goes with -o FILE (nothing else is written)");
	if (o->in_place && (o->out_form == VF_OUT_ELF || o->to_kdump))
		argp_error(state, "--output-format %s writes a new file: give -o FILE, not "
			   "--in-place", o->to_kdump ? "kdump" : "elf");
	if (o->out_form_given && !o->output &&
	    !(o->in_place && o->out_form != VF_OUT_RAW) &&
	    !((o->check || o->dry_run) && (o->out_form == VF_OUT_ELF || o->to_kdump)))
		argp_error(state, "--output-format goes with -o FILE (or, flattened or "
			   "same, with --in-place; elf and kdump also with --check and --dry-run)");
	if (o->replace_note && !o->region && !o->region_file && !o->fw_cfg &&
	    !o->saved_state)
		argp_error(state, "--replace-note needs the guest's note: give --region, "
			   "--region-file, --fw-cfg or --saved-state");
	if (o->action == VF_ACTION_INSPECT && o->in_place)
		argp_error(state, "--inspect writes nothing: leave out --in-place");
	if (o->action == VF_ACTION_NONE && o->in_place)
		o->action = VF_ACTION_FIX;
	if (o->action == VF_ACTION_NONE && (o->output || o->dry_run))
		o->action = VF_ACTION_FIX;
	if (o->action == VF_ACTION_NONE)
		argp_error(state, "nothing to do: give -o FILE to write the fixed dump, "
			   "--in-place, --dry-run, --check or --inspect");
	if (o->output && o->ninputs > 1)
		argp_error(state, "-o FILE writes one dump: give one DUMP (%zu given; many "
			   "dumps go with --check, --inspect, --dry-run or --in-place)", o->ninputs);
	for (size_t i = 0; i < o->ninputs; i++)
		if (strcmp(o->inputs[i], "-") == 0 && o->ninputs > 1)
			argp_error(state, "'-' (standard input) is the only DUMP of its run: "
				   "give it alone");
	if (o->in_place && o->ninputs == 1 && strcmp(o->inputs[0], "-") == 0)
		argp_error(state, "--in-place cannot change standard input: write the fixed "
			   "dump with -o FILE or -o -");
	o->out_stream = o->output && strcmp(o->output, "-") == 0;
	if (o->out_stream && o->out_form_given && o->out_form != VF_OUT_FLATTENED &&
	    o->out_form != VF_OUT_SAME && !o->to_kdump)
		argp_error(state, "-o - writes a flattened stream (a pipe cannot be seeked "
			   "back into): leave out --output-format, or give flattened or kdump");
	if (o->out_stream)
		o->out_form = VF_OUT_FLATTENED;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct vf_options *o = state->input;
	switch (key) {
	case 'i':
		o->action = VF_ACTION_INSPECT;
		break;
	case 'o':
		o->output = arg;
		break;
	case OPT_DRY_RUN:
		o->dry_run = true;
		break;
	case OPT_OUTPUT_FORMAT:
		parse_output_format(o, arg, state);
		break;
	case OPT_IN_PLACE:
		o->in_place = true;
		break;
	case OPT_NO_SYNC:
		o->no_sync = true;
		break;
	case OPT_CHECK:
		o->check = true;
		o->dry_run = true;
		break;
	case OPT_JSON:
		o->json = true;
		break;
	case 'v':
		o->verbose = true;
		break;
	case OPT_REGION:
		o->region = arg;
		break;
	case OPT_REGION_FILE:
		o->region_file = arg;
		break;
	case OPT_FW_CFG:
		o->fw_cfg = arg;
		break;
	case OPT_REPLACE_NOTE:
		o->replace_note = true;
		break;
	case OPT_KEEP_DEVICE_PAGES:
		o->keep_device_pages = true;
		break;
	case OPT_SAVED_STATE:
		o->saved_state = arg;
		break;
	case OPT_MEMORY:
		o->memory = arg;
		break;
	case OPT_MEMORY_LAYOUT:
		o->memory_layout = arg;
		break;
	case OPT_NO_SCAN:
		o->no_scan = true;
		break;
	case OPT_PROGRESS:
		parse_progress(o, arg, state);
		break;
	case 'j':
		parse_jobs(o, arg, state);
		break;
	case ARGP_KEY_ARG:
		o->inputs[o->ninputs++] = arg;
		break;
	case ARGP_KEY_NO_ARGS:
		argp_error(state, "no dump given");
		break;
	case ARGP_KEY_SUCCESS:
		check_options(o, state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char doc[] =
	"Add or repair the VMCOREINFO note and phys_base of QEMU guest memory dumps."
	"\vDUMP is a QEMU ELF dump (dump-guest-memory, virsh dump --memory-only) or a "
	"kdump-compressed dump, raw or makedumpfile-flattened; - reads it from standard "
	"input (a pipe is spooled, beside -o FILE or in TMPDIR).  DUMP may also be a saved "
	"VM state: a QEMU migration stream (virsh dump without --memory-only) or a libvirt "
	"save image (virsh save, managedsave, snapshots), raw or compressed; -o converts "
	"it into the dump QEMU's dump-guest-memory would write of that state (an ELF dump, "
	"or with --output-format kdump a kdump).\n\n"
	"Exit status: 0 done or healthy, 1 problems found (--inspect, --check), 2 usage error, "
	"3 not fixable from the evidence given, 4 not a dump or corrupt input, 5 unsupported input, 6 I/O or system error; "
	"over many dumps the highest of theirs.\n\n"
	"Many dumps: one report per dump, in the order given (--json: JSON Lines, one "
	"object per dump with its \"status\"); one dump's failure does not stop the others.";

static const struct argp argp = { options, parse_opt,
	"DUMP -o FILE\nDUMP|- -o -\n--in-place|--dry-run|--check DUMP...\n--inspect DUMP...", doc,
	NULL, NULL, NULL };

void vf_options_parse(int argc, char **argv, struct vf_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->out_form = VF_OUT_RAW;
	opts->jobs = 1;
	/* at most argc - 1 dumps; main frees them */
	opts->inputs = calloc((size_t)(argc > 1 ? argc : 1), sizeof(*opts->inputs));
	if (!opts->inputs) {
		perror(PACKAGE_NAME);
		exit(VF_EXIT_IO);
	}
	argp_err_exit_status = VF_EXIT_USAGE;
	argp_parse(&argp, argc, argv, 0, NULL, opts);
}
