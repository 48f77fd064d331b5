/*
 * fuzz_golden.c - libFuzzer target for the golden outputs a bundle carries
 * (models/golden.h): any bytes, read as golden.json and as a PROMPTS.jsonl
 * file, must give a document or one error, never a crash, a leak or a read
 * out of bounds; what golden_parse accepts must then compare (first
 * differing token, similarity) without surprise.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/golden.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct golden_options o = golden_default_options();
	json_t *d = golden_parse((const char *)data, size, &e);
	json_t *p;
	if (d) {
		json_t *models = json_object_get(d, "models");
		for (size_t i = 0; i < json_array_size(models); i++) {
			json_t *outs = json_object_get(json_array_get(models, i), "outputs");
			for (size_t k = 0; k + 1 < json_array_size(outs) && k < 8; k++) {
				json_t *a = json_object_get(json_array_get(outs, k), "tokens");
				json_t *b = json_object_get(json_array_get(outs, k + 1), "tokens");
				double s = golden_similarity(a, b);
				long at = golden_first_diff(a, b);
				/* equal sequences are alike, and only they */
				if (s < 0 || s > 1 || (at < 0) != (s == 1.0 && golden_first_diff(b, a) < 0))
					abort();
			}
		}
		json_decref(d);
	}
	p = golden_prompts_parse((const char *)data, size, "fuzz", &o, &e);
	if (p && !json_array_size(p))
		abort();  /* an empty prompt list is refused */
	json_decref(p);
	return 0;
}
