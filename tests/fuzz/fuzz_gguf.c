/*
 * fuzz_gguf.c - libFuzzer target for the GGUF reader/validator: any bytes,
 * read whole and as a header of a larger file, must give facts or an error,
 * never a crash, a huge allocation, a leak or a read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/gguf.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gguf_info g;
	struct moat_err e = MOAT_ERR_INIT;
	if (gguf_parse(data, size, size, &g, &e) == 0) {
		json_t *j = gguf_info_json(&g);
		/* what it accepted fits in the bytes it was given */
		if (g.min_size > size || g.data_offset > size)
			abort();
		json_decref(j);
		gguf_info_release(&g);
	}
	/* the same bytes as the start of a file 1 GB long: header checks only */
	if (gguf_parse(data, size, size + (1ull << 30), &g, &e) == 0)
		gguf_info_release(&g);
	return 0;
}
