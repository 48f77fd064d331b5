/*
 * fuzz_llm_schema.c - libFuzzer target for constrained output: the input as
 * a JSON schema (checked against moat's subset, then turned into a GBNF
 * grammar and an answer schema), and the input as a model's answer checked
 * against fixed label sets and a fixed schema.  Never a crash or a leak; an
 * answer that is accepted must validate again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llm/grammar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char FIXED[] =
	"{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":8},"
	"\"n\":{\"type\":\"integer\"},\"x\":{\"type\":[\"number\",\"null\"]},\"tags\":{\"type\":\"array\","
	"\"items\":{\"enum\":[\"a\",\"b\",1]},\"maxItems\":3}},\"required\":[\"name\"]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *labels[] = { "yes", "no", "caf\xc3\xa9" };
	json_error_t je;
	struct moat_err e = MOAT_ERR_INIT;
	struct llm_request r;
	char *text = malloc(size + 1);
	json_t *schema, *v;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&r, 0, sizeof(r));

	/* the input as a schema */
	schema = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
	if (schema) {
		struct buf g = BUF_INIT;
		r.constraint = LLM_SCHEMA;
		r.schema = schema;
		if (llm_schema_check(schema, &e) == 0) {
			if (llm_grammar(&r, &g, &e) == 0 && (!g.data || strncmp(g.data, "root ::= ", 9)))
				abort();
			json_decref(llm_constraint_schema(&r));
		}
		buf_release(&g);
		json_decref(schema);
	}

	/* the input as an answer */
	r.constraint = LLM_LABEL;
	r.labels = labels;
	r.n_labels = 3;
	if (llm_check_answer(&r, text, &v, &e) == 0) {
		if (!json_is_string(v))
			abort();
		json_decref(v);
	}
	r.constraint = LLM_LABELS;
	if (llm_check_answer(&r, text, &v, &e) == 0) {
		if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > 3)
			abort();
		json_decref(v);
	}
	schema = json_loads(FIXED, 0, &je);
	r.constraint = LLM_SCHEMA;
	r.schema = schema;
	if (llm_check_answer(&r, text, &v, &e) == 0) {
		if (llm_schema_validate(schema, v, &e) != 0)
			abort();
		json_decref(v);
	}
	json_decref(schema);
	free(text);
	return 0;
}
