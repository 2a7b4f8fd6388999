/* fuzz_region.c - libFuzzer target: the region, fw_cfg and memory-layout
 * texts a user hands over (--region, --region-file, --fwcfg-file,
 * --memory-layout): often copied out of the guest, so hostile too.
 *
 * The input's first 8 bytes are the RAM file's size for the layout parser
 * (little-endian); the rest is the text, NUL-terminated here as the command
 * line's strings are.  The fw_cfg parser gets the raw bytes. */
#include "fuzz.h"

#include "guest/rawmem.h"
#include "guest/region.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vf_region r;
	fz_drop(vf_region_from_fwcfg(data, size, &r));
	uint64_t file_size = 0;
	size_t skip = size < 8 ? size : 8;
	for (size_t i = 0; i < skip; i++)
		file_size |= (uint64_t)data[i] << (8 * i);
	char *text = malloc(size - skip + 1);
	if (!text)
		abort();
	memcpy(text, data + skip, size - skip);
	text[size - skip] = '\0';
	fz_drop(vf_region_parse(text, &r));
	static struct vf_rawmem_layout lay;   /* 64 ranges: not on the stack each time */
	fz_drop(vf_rawmem_parse_layout(text, file_size, &lay));
	fz_drop(vf_rawmem_parse_layout(text, 1ull << 32, &lay));
	free(text);
	return 0;
}
