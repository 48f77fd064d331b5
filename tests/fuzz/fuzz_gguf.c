/*
 * fuzz_gguf.c - libFuzzer target for the GGUF reader/validator: any bytes,
 * read whole and as a header of a larger file, must give facts or an error,
 * never a crash, a huge allocation, a leak or a read out of bounds.  What the
 * validator accepts is then handed to the embedded loader (llama.cpp, through
 * llm_open("gguf:...") as `moat llm run gguf:` does), which must load it or
 * fail with an error, never crash: the validator is the loader's guard.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/fmt.h"
#include "llm/llm.h"
#include "models/gguf.h"

#include <stdio.h>
#include <unistd.h>

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
		{
			char path[] = "/tmp/moat-fuzz-gguf-XXXXXX", uri[64];
			int fd = mkstemp(path);
			if (fd >= 0 && write(fd, data, size) == (ssize_t)size &&
			    xsnprintf(uri, sizeof(uri), "gguf:%s", path) > 0) {
				struct llm_config cfg = llm_config_default();
				struct llm *m = llm_open(uri, &cfg, &e);
				llm_free(m);
			}
			if (fd >= 0) {
				close(fd);
				unlink(path);
			}
		}
	}
	/* the same bytes as the start of a file 1 GB long: header checks only */
	if (gguf_parse(data, size, size + (1ull << 30), &g, &e) == 0)
		gguf_info_release(&g);
	return 0;
}
