/* main.c - the command: the only place that prints errors and picks exit codes. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "exitcodes.h"
#include "inspect.h"
#include "options.h"
#include "report.h"

static int exit_code_for(const struct vf_error *err)
{
	switch (err->code) {
	case VF_ERR_CORRUPT:
	case VF_ERR_NOT_FORMAT:
	case VF_ERR_NOT_PRESENT:
	case VF_ERR_EXCLUDED:
	case VF_ERR_NOT_FOUND:
		return VF_EXIT_CORRUPT;
	case VF_ERR_REFUSED:
		return VF_EXIT_UNFIXABLE;
	case VF_ERR_UNSUPPORTED:
		return VF_EXIT_UNSUPPORTED;
	case VF_ERR_INVALID:
		return VF_EXIT_USAGE;
	case VF_ERR_NOMEM:
	case VF_ERR_OS:
		return VF_EXIT_IO;
	}
	return VF_EXIT_IO;
}

static const char *default_hint(const struct vf_error *err)
{
	switch (err->code) {
	case VF_ERR_CORRUPT:
		return "the dump is damaged or was not written completely; take it again if you can";
	case VF_ERR_NOMEM:
		return "free memory and run again";
	default:
		return NULL;
	}
}

/* One line on stderr: what is wrong, where, and what to do. */
static int report_error(const struct vf_options *o, struct vf_error *err)
{
	char *s = vf_error_string(err);
	const char *hint = err->hint ? err->hint : default_hint(err);
	fprintf(stderr, "%s: %s%s%s\n", PACKAGE_NAME, s ? s : err->message,
		hint ? "; " : "", hint ? hint : "");
	free(s);
	if (o->json)
		vf_report_error_json(stdout, o->input, err);
	int code = exit_code_for(err);
	vf_error_destroy(err);
	return code;
}

/* Read a small evidence file (the sysfs line or the fw_cfg entry). */
static struct vf_error *read_small_file(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return vf_error_os(errno, path, "cannot open");
	*len = fread(buf, 1, cap, f);
	int bad = ferror(f);
	fclose(f);
	if (bad)
		return vf_error_os(EIO, path, "read");
	return NULL;
}

/* The region from whichever option gave it; *have is false if none did. */
static struct vf_error *region_from_options(const struct vf_options *o, struct vf_region *r,
					    bool *have)
{
	*have = o->region || o->region_file || o->fw_cfg;
	if (o->region)
		return vf_region_parse(o->region, r);
	uint8_t buf[257];
	size_t len = 0;
	const char *path = o->region_file ? o->region_file : o->fw_cfg;
	if (!path)
		return NULL;
	struct vf_error *err = read_small_file(path, buf, sizeof(buf) - 1, &len);
	if (err)
		return err;
	if (o->fw_cfg)
		err = vf_region_from_fwcfg(buf, len, r);
	else {
		buf[len] = '\0';
		err = strlen((char *)buf) == len ? vf_region_parse((char *)buf, r)
			: vf_error_create(VF_ERR_INVALID, "not a text line");
	}
	return vf_error_set_path(err, path);
}

static int do_inspect(const struct vf_options *o)
{
	struct vf_region region;
	bool have_region;
	struct vf_error *rerr = region_from_options(o, &region, &have_region);
	if (rerr)
		return report_error(o, rerr);
	struct vf_dump *dump;
	struct vf_error *err = vf_dump_open(o->input, &dump);
	if (err)
		return report_error(o, err);
	struct vf_problems probs;
	struct vf_guest_check gc = { 0 };
	err = vf_inspect(dump, &probs);
	if (!err && have_region) {
		err = vf_inspect_guest(dump, &region, &gc, &probs);
		if (err)
			vf_problems_deinit(&probs);
	}
	if (err) {
		vf_guest_check_deinit(&gc);
		vf_dump_destroy(dump);
		return report_error(o, err);
	}
	if (o->json)
		vf_report_inspect_json(stdout, dump, &probs, &gc);
	else
		vf_report_inspect_text(stdout, dump, &probs, &gc, o->verbose);
	vf_guest_check_deinit(&gc);
	size_t serious = 0;
	for (size_t i = 0; i < probs.n; i++)
		if (probs.items[i].severity != VF_SEV_INFO)
			serious++;
	vf_problems_deinit(&probs);
	vf_dump_destroy(dump);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror(PACKAGE_NAME ": writing the report");
		return VF_EXIT_IO;
	}
	return serious ? VF_EXIT_PROBLEMS : VF_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct vf_options opts;
	vf_options_parse(argc, argv, &opts);
	switch (opts.action) {
	case VF_ACTION_INSPECT:
		return do_inspect(&opts);
	case VF_ACTION_NONE:
		break;
	}
	return VF_EXIT_USAGE;
}
