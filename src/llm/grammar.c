/*
 * grammar.c - constrained output: a label set or a JSON schema subset turned
 * into a GBNF grammar (llama.cpp inside moat, llama-server's "grammar" field)
 * or a JSON schema (Ollama's "format", OpenAI's response_format), and the check
 * of every answer against it.
 *
 * The grammars allow compact JSON only (no whitespace) with bounded string
 * lengths and item counts, and no \u escapes (a lone surrogate would not
 * parse), so an answer that reaches its end always parses.  Properties are
 * written in the order the schema declares them, optional ones included.
 * What it is not: a general JSON Schema validator; anything outside the subset
 * is refused up front with a message naming the keyword.
 */
#include "grammar.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/utf8.h"

#include "../core/banned.h"

#define STR_MAX_DEFAULT 200
#define ITEMS_MAX_DEFAULT 16
#define DEPTH_MAX 16

static const char *const ignored_keys[] = {
	"description", "title", "$schema", "$id", "default", "examples", "additionalProperties",
	"$comment", NULL
};
static const char *const known_keys[] = {
	"type", "properties", "required", "enum", "items", "minItems", "maxItems", "minLength",
	"maxLength", NULL
};

static int in_list(const char *k, const char *const *l)
{
	for (; *l; l++)
		if (!strcmp(k, *l))
			return 1;
	return 0;
}

static int type_known(const char *t)
{
	static const char *const types[] = { "object", "string", "number", "integer", "boolean",
					     "null", "array", NULL };
	return in_list(t, types);
}

static int nonneg_int(json_t *v, json_int_t *out)
{
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = json_integer_value(v);
	return 1;
}

/* Where a schema node or an answer's value is, for messages: "$.a.b[]"; it
 * grows on the way down and is cut back on the way up. */
static int path_push(struct buf *path, const char *k, size_t *was, struct moat_err *e)
{
	*was = path->len;
	if (k)
		buf_addf(path, ".%s", k);
	else
		buf_adds(path, "[]");
	return buf_failed(path) ? err_set(e, MOAT_ENOMEM, "out of memory") : 0;
}

static int check_node(json_t *s, struct buf *pathb, int depth, struct moat_err *e)
{
	const char *path = buf_str(pathb);
	size_t was;
	const char *k;
	json_t *v, *type;
	if (depth > DEPTH_MAX)
		return err_set(e, MOAT_EUNSUPPORTED, "schema: nested deeper than %d levels at '%s'", DEPTH_MAX, path);
	if (!json_is_object(s))
		return err_set(e, MOAT_EUSAGE, "schema: '%s' is not an object", path);
	json_object_foreach(s, k, v) {
		if (in_list(k, ignored_keys))
			continue;
		if (!in_list(k, known_keys))
			return err_set(e, MOAT_EUNSUPPORTED,
				       "schema: '%s' at '%s' is not supported (moat supports type object with "
				       "properties and required, string, number, integer, boolean, null, array "
				       "with items, enum, minLength/maxLength, minItems/maxItems)", k, path);
	}
	type = json_object_get(s, "type");
	v = json_object_get(s, "enum");
	if (v) {
		if (!json_is_array(v) || json_array_size(v) == 0)
			return err_set(e, MOAT_EUSAGE, "schema: enum at '%s' must be a non-empty array", path);
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *x = json_array_get(v, i);
			if (json_is_object(x) || json_is_array(x))
				return err_set(e, MOAT_EUNSUPPORTED, "schema: enum at '%s' may only hold strings, "
					       "numbers, booleans and null", path);
		}
		return 0;  /* enum decides alone */
	}
	if (!type)
		return err_set(e, MOAT_EUSAGE, "schema: '%s' needs a type or an enum", path);
	if (json_is_array(type)) {
		if (json_array_size(type) == 0)
			return err_set(e, MOAT_EUSAGE, "schema: empty type list at '%s'", path);
		for (size_t i = 0; i < json_array_size(type); i++) {
			json_t *t = json_array_get(type, i);
			if (!json_is_string(t) || !type_known(json_string_value(t)))
				return err_set(e, MOAT_EUNSUPPORTED, "schema: unknown type at '%s'", path);
			if (!strcmp(json_string_value(t), "object") || !strcmp(json_string_value(t), "array"))
				return err_set(e, MOAT_EUNSUPPORTED,
					       "schema: type lists at '%s' may only hold scalar types", path);
		}
		return 0;
	}
	if (!json_is_string(type) || !type_known(json_string_value(type)))
		return err_set(e, MOAT_EUNSUPPORTED, "schema: unknown type at '%s'", path);
	if (!strcmp(json_string_value(type), "object")) {
		json_t *props = json_object_get(s, "properties"), *req = json_object_get(s, "required");
		if (props && !json_is_object(props))
			return err_set(e, MOAT_EUSAGE, "schema: properties at '%s' must be an object", path);
		json_object_foreach(props, k, v) {
			if (path_push(pathb, k, &was, e) < 0 || check_node(v, pathb, depth + 1, e) < 0)
				return -1;
			buf_setlen(pathb, was);
			path = buf_str(pathb);
		}
		if (req) {
			if (!json_is_array(req))
				return err_set(e, MOAT_EUSAGE, "schema: required at '%s' must be an array", path);
			for (size_t i = 0; i < json_array_size(req); i++) {
				json_t *r = json_array_get(req, i);
				if (!json_is_string(r) || !json_object_get(props, json_string_value(r)))
					return err_set(e, MOAT_EUSAGE,
						       "schema: required names a property '%s' lacks at '%s'",
						       json_is_string(r) ? json_string_value(r) : "?", path);
			}
		}
	} else if (!strcmp(json_string_value(type), "array")) {
		json_t *items = json_object_get(s, "items");
		json_int_t lo = 0, hi = ITEMS_MAX_DEFAULT;
		if (!items)
			return err_set(e, MOAT_EUSAGE, "schema: array at '%s' needs items", path);
		if (nonneg_int(json_object_get(s, "minItems"), &lo) < 0 ||
		    nonneg_int(json_object_get(s, "maxItems"), &hi) < 0)
			return err_set(e, MOAT_EUSAGE, "schema: bad minItems/maxItems at '%s'", path);
		if (!json_object_get(s, "maxItems") && lo > hi)
			hi = lo;
		if (lo > hi || hi > 1000)
			return err_set(e, MOAT_EUSAGE, "schema: minItems/maxItems at '%s' out of range", path);
		return path_push(pathb, NULL, &was, e) < 0 ? -1 : check_node(items, pathb, depth + 1, e);
	} else if (!strcmp(json_string_value(type), "string")) {
		json_int_t lo = 0, hi = STR_MAX_DEFAULT;
		if (nonneg_int(json_object_get(s, "minLength"), &lo) < 0 ||
		    nonneg_int(json_object_get(s, "maxLength"), &hi) < 0)
			return err_set(e, MOAT_EUSAGE, "schema: bad minLength/maxLength at '%s'", path);
		if (!json_object_get(s, "maxLength") && lo > hi)
			hi = lo;
		if (lo > hi || hi > 100000)
			return err_set(e, MOAT_EUSAGE, "schema: minLength/maxLength at '%s' out of range", path);
	}
	return 0;
}

int llm_schema_check(json_t *schema, struct moat_err *e)
{
	struct buf path = BUF_INIT;
	int rc;
	buf_adds(&path, "$");
	rc = buf_failed(&path) ? err_set(e, MOAT_ENOMEM, "out of memory") : check_node(schema, &path, 0, e);
	buf_release(&path);
	return rc;
}

/* ---- GBNF ---- */

struct gctx {
	struct buf rules;      /* named rules, one per line */
	int next;
	int used_char, used_num, used_int, used_str;
	struct moat_err *e;
};

/* Appends s escaped for the inside of a GBNF string literal. */
static void gbnf_chars(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			buf_addch(b, '\\');
			buf_addch(b, c);
		} else if (c == '\n') {
			buf_adds(b, "\\n");
		} else if (c == '\r') {
			buf_adds(b, "\\r");
		} else if (c == '\t') {
			buf_adds(b, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			buf_addf(b, "\\x%02x", c);
		} else {
			buf_addch(b, c);
		}
	}
}

/* Appends s as a GBNF string literal. */
static void gbnf_lit(struct buf *b, const char *s, size_t n)
{
	buf_addch(b, '"');
	gbnf_chars(b, s, n);
	buf_addch(b, '"');
}

/* The compact JSON of a scalar as a GBNF literal. */
static int json_lit(struct gctx *g, struct buf *b, json_t *v)
{
	char *j = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!j)
		return err_set(g->e, MOAT_ENOMEM, "out of memory");
	gbnf_lit(b, j, strlen(j));
	free(j);
	return 0;
}

static int gen(struct gctx *g, json_t *s, struct buf *out, int depth);

static void scalar_expr(struct gctx *g, struct buf *out, const char *t)
{
	if (!strcmp(t, "string")) {
		g->used_str = g->used_char = 1;
		buf_adds(out, "str");
	} else if (!strcmp(t, "number")) {
		g->used_num = 1;
		buf_adds(out, "num");
	} else if (!strcmp(t, "integer")) {
		g->used_int = 1;
		buf_adds(out, "int");
	} else if (!strcmp(t, "boolean")) {
		buf_adds(out, "(\"true\" | \"false\")");
	} else {
		buf_adds(out, "\"null\"");
	}
}

/* Makes a named rule of body and appends its name to out. */
static int named(struct gctx *g, struct buf *out, const struct buf *body)
{
	int id = ++g->next;
	if (buf_failed(body))
		return err_set(g->e, MOAT_ENOMEM, "out of memory");
	buf_addf(&g->rules, "r%d ::= %s\n", id, buf_str(body));
	buf_addf(out, "r%d", id);
	return 0;
}

static int gen(struct gctx *g, json_t *s, struct buf *out, int depth)
{
	json_t *en = json_object_get(s, "enum"), *type = json_object_get(s, "type");
	struct buf body = BUF_INIT;
	const char *t;
	int rc;

	if (depth > DEPTH_MAX)
		return err_set(g->e, MOAT_EUNSUPPORTED, "schema nested too deep");
	if (en) {
		buf_addch(out, '(');
		for (size_t i = 0; i < json_array_size(en); i++) {
			if (i)
				buf_adds(out, " | ");
			if (json_lit(g, out, json_array_get(en, i)) < 0)
				return -1;
		}
		buf_addch(out, ')');
		return 0;
	}
	if (json_is_array(type)) {
		buf_addch(out, '(');
		for (size_t i = 0; i < json_array_size(type); i++) {
			if (i)
				buf_adds(out, " | ");
			scalar_expr(g, out, json_string_value(json_array_get(type, i)));
		}
		buf_addch(out, ')');
		return 0;
	}
	t = json_string_value(type);
	if (!strcmp(t, "string")) {
		json_int_t lo = 0, hi = STR_MAX_DEFAULT;
		nonneg_int(json_object_get(s, "minLength"), &lo);
		if (nonneg_int(json_object_get(s, "maxLength"), &hi) == 0 && lo > hi)
			hi = lo;
		if (lo == 0 && hi == STR_MAX_DEFAULT) {
			scalar_expr(g, out, "string");
			return 0;
		}
		g->used_char = 1;
		buf_addf(&body, "\"\\\"\" char{%lld,%lld} \"\\\"\"", (long long)lo, (long long)hi);
		goto done;
	}
	if (strcmp(t, "object") && strcmp(t, "array")) {
		scalar_expr(g, out, t);
		return 0;
	}
	if (!strcmp(t, "object")) {
		json_t *props = json_object_get(s, "properties");
		const char *k;
		json_t *v;
		int first = 1;
		buf_adds(&body, "\"{\"");
		/* jansson keeps insertion order, i.e. the order in the file. */
		json_object_foreach(props, k, v) {
			/* the key as compact JSON writes it, then a colon */
			json_t *ks = json_string(k);  /* jansson's keys are UTF-8: NULL is no memory */
			char *kj = ks ? json_dumps(ks, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
			json_decref(ks);
			if (!kj) {
				buf_release(&body);
				return err_set(g->e, MOAT_ENOMEM, "out of memory");
			}
			buf_addch(&body, ' ');
			if (!first)
				buf_adds(&body, "\",\" ");
			first = 0;
			buf_addch(&body, '"');
			gbnf_chars(&body, kj, strlen(kj));
			gbnf_chars(&body, ":", 1);
			buf_addch(&body, '"');
			free(kj);
			buf_addch(&body, ' ');
			if (gen(g, v, &body, depth + 1) < 0) {
				buf_release(&body);
				return -1;
			}
		}
		buf_adds(&body, " \"}\"");
	} else {
		json_int_t lo = 0, hi = ITEMS_MAX_DEFAULT;
		struct buf item = BUF_INIT;
		nonneg_int(json_object_get(s, "minItems"), &lo);
		if (nonneg_int(json_object_get(s, "maxItems"), &hi) == 0 && lo > hi)
			hi = lo;
		if (gen(g, json_object_get(s, "items"), &item, depth + 1) < 0 ||
		    (buf_failed(&item) && err_set(g->e, MOAT_ENOMEM, "out of memory"))) {
			buf_release(&item);
			buf_release(&body);
			return -1;
		}
		if (hi == 0)
			buf_adds(&body, "\"[]\"");
		else if (hi == 1)
			buf_addf(&body, "\"[\" %s%s \"]\"", buf_str(&item), lo == 0 ? "?" : "");
		else if (lo == 0)
			buf_addf(&body, "\"[\" (%s (\",\" %s){0,%lld})? \"]\"", buf_str(&item), buf_str(&item),
				 (long long)hi - 1);
		else
			buf_addf(&body, "\"[\" %s (\",\" %s){%lld,%lld} \"]\"", buf_str(&item), buf_str(&item),
				 (long long)lo - 1, (long long)hi - 1);
		buf_release(&item);
	}
done:
	rc = named(g, out, &body);
	buf_release(&body);
	return rc;
}

/* {"type":"string","enum":labels} for one label, else {"type":"array",
 * "items":{"type":"string","enum":labels},"minItems":1,"maxItems":n}. */
static json_t *label_schema(const struct llm_request *r)
{
	json_t *en = json_array(), *item = json_object(), *s = json_object();
	int bad = !en || !item || !s;
	for (size_t i = 0; !bad && i < r->n_labels; i++)
		bad = json_array_append_new(en, json_string(r->labels[i])) < 0;
	if (!bad && r->constraint == LLM_LABEL)
		bad = json_object_set_new(s, "type", json_string("string")) < 0 ||
		      json_object_set(s, "enum", en) < 0;
	else if (!bad)
		bad = json_object_set_new(item, "type", json_string("string")) < 0 ||
		      json_object_set(item, "enum", en) < 0 ||
		      json_object_set_new(s, "type", json_string("array")) < 0 ||
		      json_object_set(s, "items", item) < 0 ||
		      json_object_set_new(s, "minItems", json_integer(1)) < 0 ||
		      json_object_set_new(s, "maxItems", json_integer((json_int_t)r->n_labels)) < 0;
	json_decref(en);
	json_decref(item);
	if (bad) {
		json_decref(s);
		return NULL;
	}
	return s;
}

json_t *llm_constraint_schema(const struct llm_request *r)
{
	if (r->constraint == LLM_SCHEMA)
		return json_incref(r->schema);
	if (r->constraint != LLM_LABEL && r->constraint != LLM_LABELS)
		return NULL;
	return label_schema(r);
}

static int check_labels(const struct llm_request *r, struct moat_err *e)
{
	if ((r->constraint == LLM_LABEL || r->constraint == LLM_LABELS) && r->n_labels == 0)
		return err_set(e, MOAT_EUSAGE, "no labels given");
	for (size_t i = 0; i < r->n_labels; i++) {
		if (!r->labels[i] || !r->labels[i][0])
			return err_set(e, MOAT_EUSAGE, "empty label");
		if (!utf8_is_valid(r->labels[i], strlen(r->labels[i])))
			return err_set(e, MOAT_EUSAGE, "label %zu is not UTF-8", i + 1);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(r->labels[i], r->labels[j]))
				return err_set(e, MOAT_EUSAGE, "label '%s' given twice", r->labels[i]);
	}
	return 0;
}

int llm_grammar(const struct llm_request *r, struct buf *out, struct moat_err *e)
{
	struct gctx g;
	json_t *s;
	struct buf root = BUF_INIT;
	int rc = 0;

	if (r->constraint == LLM_FREE)
		return 0;
	if (check_labels(r, e) < 0)
		return -1;
	if (r->constraint == LLM_SCHEMA && (!r->schema || llm_schema_check(r->schema, e) < 0))
		return r->schema ? -1 : err_set(e, MOAT_EUSAGE, "no schema given");
	s = llm_constraint_schema(r);
	if (!s)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	memset(&g, 0, sizeof(g));
	buf_init(&g.rules, 0);
	g.e = e;
	if (gen(&g, s, &root, 0) < 0) {
		rc = -1;
		goto out;
	}
	if (buf_failed(&root) || buf_failed(&g.rules)) {
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	buf_addf(out, "root ::= %s\n", buf_str(&root));
	buf_add(out, g.rules.data ? g.rules.data : "", g.rules.len);
	if (g.used_str)
		buf_addf(out, "str ::= \"\\\"\" char{0,%d} \"\\\"\"\n", STR_MAX_DEFAULT);
	if (g.used_char)
		buf_adds(out, "char ::= [^\"\\\\\\x00-\\x1f\\x7f] | \"\\\\\" [\"\\\\/bfnrt]\n");
	if (g.used_num)
		buf_adds(out, "num ::= \"-\"? (\"0\" | [1-9] [0-9]{0,14}) (\".\" [0-9]{1,15})? ([eE] [-+]? [0-9]{1,2})?\n");
	if (g.used_int)
		buf_adds(out, "int ::= \"-\"? (\"0\" | [1-9] [0-9]{0,15})\n");
	if (buf_failed(out))
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
out:
	buf_release(&root);
	buf_release(&g.rules);
	json_decref(s);
	return rc;
}

/* ---- validation ---- */

static int type_matches(const char *t, json_t *v)
{
	if (!strcmp(t, "string"))
		return json_is_string(v);
	if (!strcmp(t, "number"))
		return json_is_number(v);
	if (!strcmp(t, "integer"))
		return json_is_integer(v) ||
		       (json_is_real(v) && floor(json_real_value(v)) == json_real_value(v));
	if (!strcmp(t, "boolean"))
		return json_is_boolean(v);
	if (!strcmp(t, "null"))
		return json_is_null(v);
	if (!strcmp(t, "object"))
		return json_is_object(v);
	if (!strcmp(t, "array"))
		return json_is_array(v);
	return 0;
}

static int validate(json_t *s, json_t *v, struct buf *pathb, int depth, struct moat_err *e)
{
	const char *path = buf_str(pathb);
	size_t was;
	json_t *en = json_object_get(s, "enum"), *type = json_object_get(s, "type");
	const char *t;
	if (depth > DEPTH_MAX)
		return err_set(e, MOAT_EPARSE, "answer nested too deep");
	if (en) {
		for (size_t i = 0; i < json_array_size(en); i++)
			if (json_equal(json_array_get(en, i), v))
				return 0;
		return err_set(e, MOAT_EPARSE, "answer: '%s' is not one of the allowed values", path);
	}
	if (json_is_array(type)) {
		for (size_t i = 0; i < json_array_size(type); i++)
			if (type_matches(json_string_value(json_array_get(type, i)), v))
				return 0;
		return err_set(e, MOAT_EPARSE, "answer: '%s' has the wrong type", path);
	}
	t = json_string_value(type);
	if (!t || !type_matches(t, v))
		return err_set(e, MOAT_EPARSE, "answer: '%s' is not %s %s", path,
			       t && strchr("aeiou", t[0]) ? "an" : "a", t ? t : "?");
	if (!strcmp(t, "string")) {
		json_int_t lo = 0, hi = -1;
		size_t n = utf8_count(json_string_value(v), json_string_length(v));
		nonneg_int(json_object_get(s, "minLength"), &lo);
		nonneg_int(json_object_get(s, "maxLength"), &hi);
		if ((json_int_t)n < lo || (hi >= 0 && (json_int_t)n > hi))
			return err_set(e, MOAT_EPARSE, "answer: '%s' has the wrong length", path);
	} else if (!strcmp(t, "object")) {
		json_t *props = json_object_get(s, "properties"), *req = json_object_get(s, "required");
		const char *k;
		json_t *pv;
		for (size_t i = 0; i < json_array_size(req); i++) {
			const char *name = json_string_value(json_array_get(req, i));
			if (name && !json_object_get(v, name))
				return err_set(e, MOAT_EPARSE, "answer: '%s' lacks '%s'", path, name);
		}
		json_object_foreach(v, k, pv) {
			json_t *ps = json_object_get(props, k);
			if (!ps)
				continue;
			if (path_push(pathb, k, &was, e) < 0 || validate(ps, pv, pathb, depth + 1, e) < 0)
				return -1;
			buf_setlen(pathb, was);
		}
	} else if (!strcmp(t, "array")) {
		json_int_t lo = 0, hi = -1;
		nonneg_int(json_object_get(s, "minItems"), &lo);
		nonneg_int(json_object_get(s, "maxItems"), &hi);
		if ((json_int_t)json_array_size(v) < lo || (hi >= 0 && (json_int_t)json_array_size(v) > hi))
			return err_set(e, MOAT_EPARSE, "answer: '%s' has %zu items", path, json_array_size(v));
		if (path_push(pathb, NULL, &was, e) < 0)
			return -1;
		for (size_t i = 0; i < json_array_size(v); i++)
			if (validate(json_object_get(s, "items"), json_array_get(v, i), pathb, depth + 1, e) < 0)
				return -1;
		buf_setlen(pathb, was);
	}
	return 0;
}

int llm_schema_validate(json_t *schema, json_t *value, struct moat_err *e)
{
	struct buf path = BUF_INIT;
	int rc;
	buf_adds(&path, "$");
	rc = buf_failed(&path) ? err_set(e, MOAT_ENOMEM, "out of memory") : validate(schema, value, &path, 0, e);
	buf_release(&path);
	return rc;
}

/* The distinct values of an array, in their order. */
static json_t *distinct(json_t *v)
{
	json_t *d = json_array();
	for (size_t i = 0; d && i < json_array_size(v); i++) {
		json_t *x = json_array_get(v, i);
		int seen = 0;
		for (size_t j = 0; j < json_array_size(d); j++)
			seen |= json_equal(json_array_get(d, j), x);
		if (!seen && json_array_append(d, x) < 0) {
			json_decref(d);
			return NULL;
		}
	}
	return d;
}

int llm_check_answer(const struct llm_request *r, const char *text, json_t **value,
		     struct moat_err *e)
{
	json_error_t je;
	json_t *v, *s;
	const char *t = text ? text : "";

	*value = NULL;
	if (r->constraint == LLM_FREE)
		return 0;
	v = json_loads(t, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	if (!v) {
		if (json_error_code(&je) == json_error_out_of_memory)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		return err_set(e, MOAT_EPARSE, "the answer is not JSON (%s): '%.79s'", je.text, t);
	}
	s = llm_constraint_schema(r);
	if (!s || llm_schema_validate(s, v, e) < 0) {
		json_decref(s);
		json_decref(v);
		return s ? -1 : err_set(e, MOAT_ENOMEM, "out of memory");
	}
	json_decref(s);
	if (r->constraint == LLM_LABELS) {
		/* distinct labels, in the order the model gave them */
		json_t *d = distinct(v);
		json_decref(v);
		if (!d)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		v = d;
	}
	*value = v;
	return 0;
}
