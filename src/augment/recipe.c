/*
 * recipe.c - augment's recipes as data (augment.h): the recipe file reader,
 * the built-in recipes (JSON texts read by the same reader), the prompt
 * template's {{fields}}, and a recipe's digest.
 */
#include "augment.h"
#include "../llm/grammar.h"
#include "../core/buf.h"
#include "../core/fmt.h"
#include "../core/hash.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

#define STR_SCHEMA(min, max) "{\"type\": \"string\", \"minLength\": " #min ", \"maxLength\": " #max "}"

static const struct {
	const char *name, *json;
} BUILTIN[] = {
	{ "paraphrase",
	  "{\"name\": \"paraphrase\", \"kind\": \"labeled\", \"from\": \"annotations\","
	  " \"description\": \"variants of a labeled record that keep its label and its spans\","
	  " \"template\": \"Rewrite the text below in other words. Keep its meaning, and keep each of"
	  " these phrases exactly as written: {{keep}}.\\n\\nText:\\n{{text}}\","
	  " \"schema\": {\"type\": \"object\", \"properties\": {\"text\": " STR_SCHEMA(1, 2000) "},"
	  " \"required\": [\"text\"]}, \"text_field\": \"text\", \"check\": \"spans\","
	  " \"min_chars\": 1, \"max_chars\": 4000, \"temperature\": 0.9, \"max_tokens\": 600}" },
	{ "qa",
	  "{\"name\": \"qa\", \"kind\": \"qa\", \"from\": \"chunks\", \"passage\": true,"
	  " \"description\": \"question-answer pairs grounded in a chunk\","
	  " \"template\": \"Write one question that the passage below answers, and its answer. Give"
	  " the key phrase too: a short phrase copied exactly from the passage that the answer rests"
	  " on and contains.\\n\\nPassage:\\n{{text}}\","
	  " \"schema\": {\"type\": \"object\", \"properties\": {\"question\": " STR_SCHEMA(1, 400) ","
	  " \"answer\": " STR_SCHEMA(1, 1000) ", \"key_phrase\": " STR_SCHEMA(1, 200) "},"
	  " \"required\": [\"question\", \"answer\", \"key_phrase\"]}, \"text_field\": \"question\","
	  " \"answer_field\": \"answer\", \"check\": \"key_phrase\", \"check_field\": \"key_phrase\","
	  " \"min_chars\": 1, \"max_chars\": 2000, \"temperature\": 0.7, \"max_tokens\": 600}" },
	{ "balance",
	  "{\"name\": \"balance\", \"kind\": \"labeled\", \"from\": \"annotations\","
	  " \"description\": \"new examples of a project's under-represented labels\","
	  " \"template\": \"The labels are: {{labels}}. Write one new, different text that is an"
	  " example of the label '{{label}}'. Examples of it:\\n{{examples}}\","
	  " \"schema\": {\"type\": \"object\", \"properties\": {\"text\": " STR_SCHEMA(1, 2000) "},"
	  " \"required\": [\"text\"]}, \"text_field\": \"text\", \"check\": \"none\","
	  " \"min_chars\": 1, \"max_chars\": 4000, \"temperature\": 0.9, \"max_tokens\": 600}" },
	{ "instruct",
	  "{\"name\": \"instruct\", \"kind\": \"qa\", \"from\": \"documents\","
	  " \"description\": \"instruction-response pairs from documents\","
	  " \"template\": \"Write one instruction a user could give an assistant about the document"
	  " below, and the assistant's response, using only what the document says.\\n\\n"
	  "Document:\\n{{text}}\","
	  " \"schema\": {\"type\": \"object\", \"properties\": {\"instruction\": " STR_SCHEMA(1, 600) ","
	  " \"response\": " STR_SCHEMA(1, 2000) "}, \"required\": [\"instruction\", \"response\"]},"
	  " \"text_field\": \"instruction\", \"answer_field\": \"response\", \"check\": \"none\","
	  " \"min_chars\": 1, \"max_chars\": 4000, \"temperature\": 0.7, \"max_tokens\": 800}" },
	{ "preference",
	  "{\"name\": \"preference\", \"kind\": \"preference\", \"from\": \"chunks\","
	  " \"description\": \"two responses to one prompt, for a preference task\","
	  " \"template\": \"Answer the question a reader of this passage would most likely ask, in a"
	  " few sentences.\\n\\nPassage:\\n{{text}}\","
	  " \"schema\": {\"type\": \"object\", \"properties\": {\"response\": " STR_SCHEMA(1, 2000) "},"
	  " \"required\": [\"response\"]}, \"text_field\": \"response\", \"check\": \"none\","
	  " \"min_chars\": 1, \"max_chars\": 4000, \"temperature\": 0.3, \"temperature2\": 1.2,"
	  " \"max_tokens\": 600}" },
};
#define N_BUILTIN (sizeof(BUILTIN) / sizeof(BUILTIN[0]))

static const char *const FIELDS[] = { "text", "labels", "label", "examples", "keep", NULL };

const char *const *aug_recipe_names(void)
{
	static const char *names[N_BUILTIN + 1];
	for (size_t i = 0; i < N_BUILTIN; i++)
		names[i] = BUILTIN[i].name;
	return names;
}

struct aug_recipe *aug_recipe_builtin(const char *name, struct moat_err *e)
{
	for (size_t i = 0; i < N_BUILTIN; i++)
		if (!strcmp(name, BUILTIN[i].name))
			return aug_recipe_parse(BUILTIN[i].json, strlen(BUILTIN[i].json), name, e);
	return err_set(e, MOAT_ENOTFOUND, "no recipe '%s' (paraphrase, qa, balance, instruct, preference;"
		       " or --recipe-file FILE)", name), NULL;
}

void aug_recipe_free(struct aug_recipe *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->description);
	free(r->from);
	free(r->system);
	free(r->template_text);
	json_decref(r->schema);
	free(r->text_field);
	free(r->answer_field);
	free(r->check_field);
	free(r);
}

static int bad(struct moat_err *e, const char *what, const char *field, const char *why)
{
	return err_set(e, MOAT_EPARSE, "%s: field '%s': %s", what, field, why);
}

/* An optional string field into *out (malloc'd); -1 when it is not a string. */
static int get_str(const json_t *o, const char *key, int required, char **out, const char *what,
		   struct moat_err *e)
{
	const json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return required ? bad(e, what, key, "missing") : 0;
	if (!json_is_string(v))
		return bad(e, what, key, "not a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return bad(e, what, key, "holds a NUL character");
	if (!(*out = strdup(json_string_value(v))))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return 0;
}

static int get_num(const json_t *o, const char *key, double lo, double hi, double *out, const char *what,
		   struct moat_err *e)
{
	const json_t *v = json_object_get(o, key);
	char why[96];
	if (!v)
		return 0;
	if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < lo ||
	    json_number_value(v) > hi) {
		if (xsnprintf(why, sizeof(why), "not a number from %g to %g", lo, hi) < 0)
			why[0] = '\0';  /* cannot happen: bounded by construction */
		return bad(e, what, key, why);
	}
	*out = json_number_value(v);
	return 0;
}

/* Each {{field}} of tpl is one the renderer knows. */
static int check_template(const char *tpl, const char *what, struct moat_err *e)
{
	for (const char *p = tpl; (p = strstr(p, "{{"));) {
		const char *close = strstr(p + 2, "}}");
		size_t n;
		int known = 0;
		if (!close)
			return bad(e, what, "template", "a '{{' without '}}'");
		n = (size_t)(close - p - 2);
		for (size_t i = 0; FIELDS[i]; i++)
			known |= strlen(FIELDS[i]) == n && !strncmp(FIELDS[i], p + 2, n);
		if (!known) {
			char why[160];
			if (xsnprintf(why, sizeof(why), "unknown field '{{%.*s}}' (text, labels, label, "
				      "examples, keep)", (int)(n > 40 ? 40 : n), p + 2) < 0)
				why[0] = '\0';
			return bad(e, what, "template", why);
		}
		p = close + 2;
	}
	return 0;
}

/* A field the schema has, as a string property. */
static int schema_field(const struct aug_recipe *r, const char *key, const char *name, const char *what,
			struct moat_err *e)
{
	const json_t *p = json_object_get(json_object_get(r->schema, "properties"), name);
	if (!p || strcmp(json_string_value(json_object_get(p, "type")) ?
			 json_string_value(json_object_get(p, "type")) : "", "string"))
		return bad(e, what, key, "names no string property of the schema");
	return 0;
}

static const char *const KEYS[] = { "name", "kind", "from", "description", "system", "template",
				    "schema", "text_field", "answer_field", "passage", "check",
				    "check_field", "min_chars", "max_chars", "temperature",
				    "temperature2", "max_tokens", NULL };

static int parse_into(struct aug_recipe *r, const json_t *j, const char *what, struct moat_err *e)
{
	char *kind = NULL, *check = NULL;
	const char *key;
	const json_t *v;
	double mn = 1, mx = 4000, mt = 600;
	int rc = -1;
	if (!json_is_object(j))
		return err_set(e, MOAT_EPARSE, "%s: not a JSON object", what);
	json_object_foreach((json_t *)j, key, v) {
		int known = 0;
		for (size_t i = 0; KEYS[i]; i++)
			known |= !strcmp(KEYS[i], key);
		if (!known)
			return bad(e, what, key, "unknown (docs/augment.md lists a recipe's fields)");
	}
	if (get_str(j, "name", 1, &r->name, what, e) < 0 || get_str(j, "kind", 1, &kind, what, e) < 0 ||
	    get_str(j, "from", 0, &r->from, what, e) < 0 ||
	    get_str(j, "description", 0, &r->description, what, e) < 0 ||
	    get_str(j, "system", 0, &r->system, what, e) < 0 ||
	    get_str(j, "template", 1, &r->template_text, what, e) < 0 ||
	    get_str(j, "text_field", 1, &r->text_field, what, e) < 0 ||
	    get_str(j, "answer_field", 0, &r->answer_field, what, e) < 0 ||
	    get_str(j, "check", 0, &check, what, e) < 0 ||
	    get_str(j, "check_field", 0, &r->check_field, what, e) < 0)
		goto out;
	if (!*r->name || strspn(r->name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(r->name) ||
	    strlen(r->name) > 64) {
		bad(e, what, "name", "give 1 to 64 of a-z, 0-9, '_' and '-'");
		goto out;
	}
	if (!strcmp(kind, "qa"))
		r->kind = AUG_QA;
	else if (!strcmp(kind, "labeled"))
		r->kind = AUG_LABELED;
	else if (!strcmp(kind, "preference"))
		r->kind = AUG_PREFERENCE;
	else {
		bad(e, what, "kind", "give qa, labeled or preference");
		goto out;
	}
	if (r->from && strcmp(r->from, "chunks") && strncmp(r->from, "chunks:", 7) &&
	    strcmp(r->from, "documents") && strcmp(r->from, "annotations")) {
		bad(e, what, "from", "give chunks, chunks:SET, documents or annotations");
		goto out;
	}
	if (!r->from && !(r->from = strdup(r->kind == AUG_LABELED ? "annotations" : "chunks"))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (check_template(r->template_text, what, e) < 0)
		goto out;
	v = json_object_get(j, "schema");
	if (!json_is_object(v) || strcmp(json_string_value(json_object_get(v, "type")) ?
					 json_string_value(json_object_get(v, "type")) : "", "object")) {
		bad(e, what, "schema", "give a JSON schema of type object");
		goto out;
	}
	r->schema = json_deep_copy(v);
	{
		struct moat_err se = MOAT_ERR_INIT;
		if (!r->schema || llm_schema_check(r->schema, &se) < 0) {
			bad(e, what, "schema", r->schema ? se.msg : "out of memory");
			goto out;
		}
	}
	if (schema_field(r, "text_field", r->text_field, what, e) < 0 ||
	    (r->answer_field && schema_field(r, "answer_field", r->answer_field, what, e) < 0))
		goto out;
	if (r->kind == AUG_QA && !r->answer_field) {
		bad(e, what, "answer_field", "a qa recipe needs one");
		goto out;
	}
	v = json_object_get(j, "passage");
	if (v && !json_is_boolean(v)) {
		bad(e, what, "passage", "not true or false");
		goto out;
	}
	r->passage = json_is_true(v);
	if (!check || !strcmp(check, "none"))
		r->check = AUG_CHECK_NONE;
	else if (!strcmp(check, "key_phrase"))
		r->check = AUG_CHECK_KEY_PHRASE;
	else if (!strcmp(check, "spans"))
		r->check = AUG_CHECK_SPANS;
	else {
		bad(e, what, "check", "give none, key_phrase or spans");
		goto out;
	}
	if (r->check == AUG_CHECK_KEY_PHRASE &&
	    (!r->check_field || schema_field(r, "check_field", r->check_field, what, e) < 0 ||
	     !r->answer_field)) {
		if (!e->code)
			bad(e, what, "check_field", "key_phrase needs check_field and answer_field");
		goto out;
	}
	if (r->check == AUG_CHECK_SPANS && r->kind != AUG_LABELED) {
		bad(e, what, "check", "spans is for labeled recipes");
		goto out;
	}
	r->temperature = 0.7;
	r->temperature2 = 1.2;
	if (get_num(j, "min_chars", 0, 1e6, &mn, what, e) < 0 ||
	    get_num(j, "max_chars", 1, 1e6, &mx, what, e) < 0 ||
	    get_num(j, "max_tokens", 1, 32768, &mt, what, e) < 0 ||
	    get_num(j, "temperature", 0, 5, &r->temperature, what, e) < 0 ||
	    get_num(j, "temperature2", 0, 5, &r->temperature2, what, e) < 0)
		goto out;
	if (mn > mx) {
		bad(e, what, "min_chars", "more than max_chars");
		goto out;
	}
	r->min_chars = (size_t)mn;
	r->max_chars = (size_t)mx;
	r->max_tokens = (int)mt;
	rc = 0;
out:
	free(kind);
	free(check);
	return rc;
}

struct aug_recipe *aug_recipe_parse(const char *text, size_t len, const char *what,
				    struct moat_err *e)
{
	json_error_t je;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	struct aug_recipe *r;
	char *canon;
	if (!j)
		return err_set(e, MOAT_EPARSE, "%s: not JSON: %s (line %d)", what, je.text, je.line), NULL;
	if (!(r = calloc(1, sizeof(*r)))) {
		json_decref(j);
		return err_set(e, MOAT_ENOMEM, "out of memory"), NULL;
	}
	if (parse_into(r, j, what, e) < 0) {
		json_decref(j);
		aug_recipe_free(r);
		return NULL;
	}
	json_decref(j);
	if (!(j = aug_recipe_json(r)) || !(canon = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS))) {
		json_decref(j);
		aug_recipe_free(r);
		return err_set(e, MOAT_ENOMEM, "out of memory"), NULL;
	}
	sha256_hex_mem(canon, strlen(canon), r->sha256);
	free(canon);
	json_decref(j);
	return r;
}

json_t *aug_recipe_json(const struct aug_recipe *r)
{
	static const char *const KIND[] = { "", "qa", "labeled", "preference" };
	static const char *const CHECK[] = { "none", "key_phrase", "spans" };
	return json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s, s:O, s:s, s:s?, s:b, s:s, s:s?, s:I, s:I,"
			 " s:f, s:f, s:i}",
			 "name", r->name, "kind", KIND[r->kind], "from", r->from, "description",
			 r->description, "system", r->system, "template", r->template_text, "schema",
			 r->schema, "text_field", r->text_field, "answer_field", r->answer_field,
			 "passage", r->passage, "check", CHECK[r->check], "check_field", r->check_field,
			 "min_chars", (json_int_t)r->min_chars, "max_chars", (json_int_t)r->max_chars,
			 "temperature", r->temperature, "temperature2", r->temperature2, "max_tokens",
			 r->max_tokens);
}

char *aug_render(const char *tpl, const json_t *vars, struct moat_err *e)
{
	struct buf b = BUF_INIT;
	for (const char *p = tpl; *p;) {
		const char *open = strstr(p, "{{"), *close;
		char field[48];
		size_t n;
		const char *v;
		if (!open || !(close = strstr(open + 2, "}}"))) {
			buf_adds(&b, p);
			break;
		}
		buf_add(&b, p, (size_t)(open - p));
		n = (size_t)(close - open - 2);
		if (n >= sizeof(field))
			n = sizeof(field) - 1;
		memcpy(field, open + 2, n);
		field[n] = '\0';
		if (!(v = json_string_value(json_object_get(vars, field)))) {
			buf_release(&b);
			return err_set(e, MOAT_EUSAGE, "template: the field '{{%s}}' has no value for this "
				       "source", field), NULL;
		}
		buf_adds(&b, v);
		p = close + 2;
	}
	if (buf_failed(&b)) {
		buf_release(&b);
		return err_set(e, MOAT_ENOMEM, "out of memory"), NULL;
	}
	return buf_detach(&b, NULL);
}
