/*
 * test_augment.c - the augment stage's library without a model: the
 * built-in recipes and the recipe file reader (what it refuses, and why),
 * templates, the key-phrase and span checks, and the screen on a real
 * SQLite workspace: PII rejected or replaced, exact and near-duplicates of
 * sources, of records accepted before and of cleaned documents, length.
 */
#include "testutil.h"
#include "../../src/augment/augment.h"
#include "../../src/augment/augment_int.h"
#include "../../src/store/store.h"

#include <stdlib.h>
#include <string.h>

static void expect_recipe_error(const char *text, const char *needle)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct aug_recipe *r = aug_recipe_parse(text, strlen(text), "r.json", &e);
	assert_null(r);
	assert_int_equal(e.code, MOAT_EPARSE);
	if (!strstr(e.msg, needle))
		fail_msg("'%s' does not say '%s'", e.msg, needle);
}

static void test_builtin(void **state)
{
	const char *const *names = aug_recipe_names();
	struct moat_err e = MOAT_ERR_INIT;
	size_t n = 0;
	(void)state;
	for (; names[n]; n++) {
		struct aug_recipe *r = aug_recipe_builtin(names[n], &e), *again;
		json_t *j;
		char *text;
		if (!r)
			fail_msg("%s: %s", names[n], e.msg);
		assert_string_equal(r->name, names[n]);
		assert_int_equal(strlen(r->sha256), 64);
		/* written out and read back: the same recipe */
		assert_non_null(j = aug_recipe_json(r));
		assert_non_null(text = json_dumps(j, JSON_COMPACT));
		assert_non_null(again = aug_recipe_parse(text, strlen(text), "again", &e));
		assert_string_equal(again->sha256, r->sha256);
		free(text);
		json_decref(j);
		aug_recipe_free(again);
		aug_recipe_free(r);
	}
	assert_int_equal(n, 5);
	assert_null(aug_recipe_builtin("nope", &e));
	assert_int_equal(e.code, MOAT_ENOTFOUND);
	assert_non_null(strstr(e.msg, "paraphrase, qa, balance, instruct, preference"));
}

static void test_parse(void **state)
{
	static const char good[] =
		"{\"name\": \"faq\", \"kind\": \"qa\", \"passage\": true, \"template\": \"Q? {{text}}\","
		" \"schema\": {\"type\": \"object\", \"properties\": {\"q\": {\"type\": \"string\"},"
		" \"a\": {\"type\": \"string\"}}}, \"text_field\": \"q\", \"answer_field\": \"a\","
		" \"min_chars\": 2, \"max_chars\": 50}";
	struct moat_err e = MOAT_ERR_INIT;
	struct aug_recipe *r = aug_recipe_parse(good, strlen(good), "r.json", &e);
	(void)state;
	if (!r)
		fail_msg("%s", e.msg);
	assert_int_equal(r->kind, AUG_QA);
	assert_true(r->passage);
	assert_string_equal(r->from, "chunks");  /* the default for qa */
	assert_int_equal(r->min_chars, 2);
	assert_int_equal(r->max_chars, 50);
	assert_int_equal(r->check, AUG_CHECK_NONE);
	aug_recipe_free(r);

	expect_recipe_error("{", "r.json: not JSON");
	expect_recipe_error("[]", "not a JSON object");
	expect_recipe_error("{\"name\": \"x\", \"colour\": 1}", "field 'colour': unknown");
	expect_recipe_error("{\"name\": \"A b\", \"kind\": \"qa\", \"template\": \"t\", \"text_field\": \"q\"}",
			    "field 'name'");
	expect_recipe_error("{\"name\": \"x\", \"kind\": \"poem\", \"template\": \"t\", \"text_field\": \"q\"}",
			    "field 'kind': give qa, labeled or preference");
	expect_recipe_error("{\"name\": \"x\", \"kind\": \"qa\", \"template\": \"{{when}}\", \"text_field\": \"q\"}",
			    "unknown field '{{when}}'");
	expect_recipe_error("{\"name\": \"x\", \"kind\": \"qa\", \"template\": \"t\", \"text_field\": \"q\"}",
			    "field 'schema'");
	expect_recipe_error("{\"name\": \"x\", \"kind\": \"qa\", \"template\": \"t\", \"text_field\": \"q\","
			    " \"schema\": {\"type\": \"object\", \"properties\": {\"q\": {\"type\": \"string\","
			    " \"pattern\": \"x\"}}}}", "field 'schema'");
	expect_recipe_error("{\"name\": \"x\", \"kind\": \"qa\", \"template\": \"t\", \"text_field\": \"z\","
			    " \"schema\": {\"type\": \"object\", \"properties\": {\"q\": {\"type\": \"string\"}}}}",
			    "field 'text_field': names no string property");
	expect_recipe_error("{\"name\": \"x\", \"kind\": \"qa\", \"template\": \"t\", \"text_field\": \"q\","
			    " \"schema\": {\"type\": \"object\", \"properties\": {\"q\": {\"type\": \"string\"}}}}",
			    "field 'answer_field': a qa recipe needs one");
	expect_recipe_error("{\"name\": \"x\", \"kind\": \"labeled\", \"template\": \"t\", \"text_field\": \"q\","
			    " \"min_chars\": 9, \"max_chars\": 3,"
			    " \"schema\": {\"type\": \"object\", \"properties\": {\"q\": {\"type\": \"string\"}}}}",
			    "field 'min_chars': more than max_chars");
	expect_recipe_error("{\"name\": \"x\", \"kind\": \"qa\", \"template\": \"t\", \"text_field\": \"q\","
			    " \"answer_field\": \"q\", \"check\": \"spans\","
			    " \"schema\": {\"type\": \"object\", \"properties\": {\"q\": {\"type\": \"string\"}}}}",
			    "spans is for labeled recipes");
	expect_recipe_error("{\"name\": \"x\", \"kind\": \"labeled\", \"template\": \"t\", \"text_field\": \"q\","
			    " \"temperature\": 9,"
			    " \"schema\": {\"type\": \"object\", \"properties\": {\"q\": {\"type\": \"string\"}}}}",
			    "field 'temperature': not a number from 0 to 5");
}

static void test_render_and_checks(void **state)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *vars = json_pack("{s:s, s:s}", "text", "the passage", "label", "invoice");
	json_t *spans, *found;
	char *p, *missing = NULL;
	(void)state;
	assert_non_null(p = aug_render("A {{label}} like {{text}}; {{ not a field", vars, &e));
	assert_string_equal(p, "A invoice like the passage; {{ not a field");
	free(p);
	assert_null(aug_render("{{examples}}", vars, &e));
	assert_int_equal(e.code, MOAT_EUSAGE);
	assert_non_null(strstr(e.msg, "{{examples}}"));
	json_decref(vars);

	assert_true(aug_contains("The Deadline is  31 March.", "deadline is 31\nmarch"));
	assert_false(aug_contains("The deadline is 31 March.", "30 March"));
	assert_false(aug_contains("anything", "  "));

	/* spans found again by their strings; two of one name each at its own place */
	spans = json_pack("[[i, i, s], [i, i, s], [i, i, s]]", 0, 3, "P", 8, 11, "P", 15, 19, "L");
	found = aug_refind_spans("Åsa met Åsa in Oslo.", spans, "In Oslo, Åsa saw Åsa.", &missing);
	assert_non_null(found);
	p = json_dumps(found, JSON_COMPACT);
	assert_string_equal(p, "[[3,7,\"L\"],[9,12,\"P\"],[17,20,\"P\"]]");
	free(p);
	json_decref(found);
	assert_null(aug_refind_spans("Åsa met Åsa in Oslo.", spans, "Åsa went to Oslo.", &missing));
	assert_string_equal(missing, "Åsa");  /* the second Åsa is not there */
	free(missing);
	json_decref(spans);
}

/* A one-field answer screened against one source. */
static const char *screen_one(struct aug_screen *sc, const struct aug_recipe *r, const char *text,
			      const char *src, struct aug_verdict *v)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *a = json_pack("{s:s}", "text", text);
	const char *srcs[1] = { src }, *ids[1] = { "task:1" };
	assert_int_equal(aug_screen_record(sc, r, a, srcs, ids, 1, NULL, NULL, v, &e), 0);
	json_decref(a);
	return v->reason ? v->reason : "accepted";
}

static void test_screen(void **state)
{
	static const char lab[] =
		"{\"name\": \"p\", \"kind\": \"labeled\", \"template\": \"{{text}}\", \"text_field\": \"text\","
		" \"min_chars\": 10, \"max_chars\": 200,"
		" \"schema\": {\"type\": \"object\", \"properties\": {\"text\": {\"type\": \"string\"}}}}";
	const char *src = "Our office in the harbour opens at nine and closes at five on weekdays.";
	struct moat_err e = MOAT_ERR_INIT;
	struct aug_recipe *r = aug_recipe_parse(lab, strlen(lab), "p.json", &e);
	struct aug_screen sc;
	struct aug_verdict v;
	char *dir = tu_tmpdir(), pol[600];
	struct store *s;
	json_t *a;
	(void)state;
	assert_non_null(r);
	assert_int_equal(store_create(dir, &e), 0);
	assert_non_null(s = store_open(dir, STORE_WRITE, &e));

	/* no policy: any finding rejects */
	assert_int_equal(aug_screen_init(&sc, s, NULL, 0, 0, &e), 0);
	assert_string_equal(screen_one(&sc, r, "Write to anna.berg@example.com for the key, please.", src, &v), "pii");
	assert_non_null(strstr(v.detail, "EMAIL_ADDRESS"));
	aug_verdict_release(&v);
	assert_string_equal(screen_one(&sc, r, src, src, &v), "duplicate");
	assert_non_null(strstr(v.detail, "repeats its source task:1"));
	aug_verdict_release(&v);
	assert_string_equal(screen_one(&sc, r, "OUR office in the harbour   opens at nine and closes at five on "
					       "weekdays.", src, &v), "duplicate");  /* case, spaces */
	aug_verdict_release(&v);
	assert_string_equal(screen_one(&sc, r, "Our office in the harbour opens at nine and closes at five on "
					       "weekdays and Saturdays.", src, &v), "near_duplicate");
	aug_verdict_release(&v);
	assert_string_equal(screen_one(&sc, r, "short", src, &v), "length");
	aug_verdict_release(&v);
	/* accepted, then its twin is a duplicate of a record of the same source */
	assert_string_equal(screen_one(&sc, r, "The harbour desk is staffed every weekday from morning until "
					       "late afternoon.", src, &v), "accepted");
	assert_int_equal(aug_screen_remember(&sc, &v, "[\"task:1\"]"), 0);
	aug_verdict_release(&v);
	assert_string_equal(screen_one(&sc, r, "The harbour desk is staffed every weekday from morning until "
					       "late afternoon.", "another source", &v), "duplicate");
	assert_non_null(strstr(v.detail, "a sibling"));  /* of the same source, task:1 */
	aug_verdict_release(&v);
	aug_screen_release(&sc);

	/* a policy: its operator replaces the finding, and says so */
	assert_true(strlen(dir) < 500);
	memcpy(pol, dir, strlen(dir));
	memcpy(pol + strlen(dir), "/p.ini", 7);
	{
		static const char P[] = "[pii]\nentities = EMAIL_ADDRESS\n[operators]\nDEFAULT = replace\n";
		tu_write(pol, P, sizeof(P) - 1);
	}
	assert_int_equal(aug_screen_init(&sc, s, pol, 0, 0, &e), 0);
	a = json_pack("{s:s}", "text", "Write to anna.berg@example.com for the key, please.");
	{
		const char *srcs[1] = { src }, *ids[1] = { "task:1" };
		assert_int_equal(aug_screen_record(&sc, r, a, srcs, ids, 1, NULL, NULL, &v, &e), 0);
	}
	assert_null(v.reason);
	assert_string_equal(json_string_value(json_object_get(a, "text")),
			    "Write to <EMAIL_ADDRESS> for the key, please.");
	assert_int_equal(json_array_size(v.deidentified), 1);
	aug_verdict_release(&v);
	json_decref(a);
	aug_screen_release(&sc);
	/* the same policy, told to reject */
	assert_int_equal(aug_screen_init(&sc, s, pol, 1, 0, &e), 0);
	assert_string_equal(screen_one(&sc, r, "Write to anna.berg@example.com for the key, please.", src, &v), "pii");
	aug_verdict_release(&v);
	aug_screen_release(&sc);

	store_close(s);
	aug_recipe_free(r);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_render_and_checks),
		cmocka_unit_test(test_screen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
