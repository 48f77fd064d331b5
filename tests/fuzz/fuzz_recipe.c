/*
 * fuzz_recipe.c - libFuzzer target for augment's recipe files (augment.h:
 * aug_recipe_parse, `moat augment --recipe-file`): any bytes give a recipe or
 * one error, never a crash, a leak or a read out of bounds.  What is
 * accepted must write itself out and read back as the same recipe (the
 * same digest), and its template must render from the fields it may name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "augment/augment.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct aug_recipe *r = aug_recipe_parse((const char *)data, size, "fuzz.json", &e), *again;
	json_t *j, *vars;
	char *text, *p;
	if (!r) {
		if (!e.code || !e.msg[0])
			abort();  /* a refusal always says why */
		return 0;
	}
	j = aug_recipe_json(r);
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!text)
		abort();
	again = aug_recipe_parse(text, strlen(text), "again.json", &e);
	if (!again || strcmp(again->sha256, r->sha256))
		abort();
	vars = json_pack("{s:s, s:s, s:s, s:s, s:s}", "text", "t", "labels", "a, b", "label", "a",
			 "examples", "- x", "keep", "\"y\"");
	p = vars ? aug_render(r->template_text, vars, &e) : NULL;
	if (!p)
		abort();  /* a template the reader accepts always renders */
	free(p);
	json_decref(vars);
	aug_recipe_free(again);
	free(text);
	json_decref(j);
	aug_recipe_free(r);
	return 0;
}
