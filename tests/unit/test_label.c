/*
 * test_label.c - the label stage's library: schemas and value checks, the
 * --where filter, and a project's life on a real SQLite workspace: tasks
 * handed out with overlap, saving, review, statistics with agreement, the
 * audit records naming each person, removal.
 */
#include "testutil.h"
#include "../../src/label/label.h"
#include "../../src/label/where.h"
#include "../../src/store/store.h"
#include "../../src/store/audit.h"
#include "../../src/store/label.h"
#include "../../src/core/doc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static struct label_schema *schema(const char *text)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct label_schema *s = label_schema_parse(text, strlen(text), "s.json", &e);
	if (!s)
		print_message("schema: %s\n", e.msg);
	return s;
}

static void expect_schema_error(const char *text, const char *needle)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct label_schema *s = label_schema_parse(text, strlen(text), "s.json", &e);
	assert_null(s);
	assert_int_equal(e.code, MOAT_EPARSE);
	if (!strstr(e.msg, needle))
		fail_msg("'%s' does not say '%s'", e.msg, needle);
}

static void test_schema(void **state)
{
	struct label_schema *s;
	json_t *j;
	(void)state;
	s = schema("{\"kind\": \"classification\", \"multi\": false, \"labels\": [{\"name\": \"invoice\","
		   " \"key\": \"1\", \"color\": \"#1f77b4\"}, {\"name\": \"contract\", \"key\": \"2\"}, \"other\"],"
		   " \"guidelines\": \"# Pick one\", \"prompt\": \"Classify:\\n{{text}}\"}");
	assert_non_null(s);
	assert_int_equal(s->kind, LABEL_CLASSIFICATION);
	assert_int_equal(s->n_labels, 3);
	assert_string_equal(s->labels[0].color, "#1f77b4");
	assert_non_null(s->labels[1].color);  /* a palette colour */
	assert_int_equal(label_schema_find(s, "other"), 2);
	assert_int_equal(label_schema_find(s, "nope"), -1);
	j = label_schema_json(s);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "classification");
	assert_int_equal(json_array_size(json_object_get(j, "labels")), 3);
	json_decref(j);
	label_schema_free(s);

	expect_schema_error("[1]", "not a JSON object");
	expect_schema_error("{\"kind\": \"tags\", \"labels\": [\"a\"]}", "unknown kind 'tags'");
	expect_schema_error("{\"kind\": \"spans\", \"labels\": []}", "at least one label");
	expect_schema_error("{\"kind\": \"spans\", \"multi\": true, \"labels\": [\"a\"]}", "only classification");
	expect_schema_error("{\"kind\": \"classification\", \"labels\": [{\"name\": \"a\", \"key\": \"1\"},"
			    " {\"name\": \"b\", \"key\": \"1\"}]}", "duplicate key '1'");
	expect_schema_error("{\"kind\": \"classification\", \"labels\": [\"a\", \"a\"]}", "duplicate label");
	expect_schema_error("{\"kind\": \"boxes\", \"labels\": [{\"name\": \"car\", \"color\": \"red\"}]}",
			    "labels[0].color");
	expect_schema_error("{\"kind\": \"classification\", \"labels\": [\"a\\u0001\"]}", "control");
	expect_schema_error("{\"kind\": \"classification\", \"kind\": \"spans\", \"labels\": [\"a\"]}",
			    "not JSON");
}

static void check_value(const struct label_schema *s, const char *v, size_t cp, int w, int h,
			int ok, const char *needle)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *j = json_loads(v, 0, NULL);
	int rc;
	assert_non_null(j);
	rc = label_value_check(s, j, cp, w, h, &e);
	json_decref(j);
	if (ok && rc != 0)
		fail_msg("%s refused: %s", v, e.msg);
	if (!ok) {
		assert_int_equal(rc, -1);
		if (needle && !strstr(e.msg, needle))
			fail_msg("%s: '%s' does not say '%s'", v, e.msg, needle);
	}
}

static void test_values(void **state)
{
	struct label_schema *c = schema("{\"kind\": \"classification\", \"labels\": [\"a\", \"b\"]}");
	struct label_schema *m = schema("{\"kind\": \"classification\", \"multi\": true, \"labels\": [\"a\", \"b\"]}");
	struct label_schema *sp = schema("{\"kind\": \"spans\", \"labels\": [\"PER\"]}");
	struct label_schema *bx = schema("{\"kind\": \"boxes\", \"labels\": [\"car\"]}");
	struct label_schema *qa = schema("{\"kind\": \"qa\"}");
	struct label_schema *pf = schema("{\"kind\": \"preference\"}");
	(void)state;
	check_value(c, "{\"labels\": [\"a\"]}", 0, 0, 0, 1, NULL);
	check_value(c, "{\"labels\": [\"a\", \"b\"]}", 0, 0, 0, 0, "exactly one");
	check_value(c, "{\"labels\": [\"z\"]}", 0, 0, 0, 0, "'z' is not a label");
	check_value(c, "{\"spans\": []}", 0, 0, 0, 0, "holds 'labels'");
	check_value(m, "{\"labels\": [\"a\", \"b\"]}", 0, 0, 0, 1, NULL);
	check_value(m, "{\"labels\": [\"a\", \"a\"]}", 0, 0, 0, 0, "twice");
	check_value(sp, "{\"spans\": [[0, 5, \"PER\"], [3, 9, \"PER\"]]}", 10, 0, 0, 1, NULL);  /* overlap */
	check_value(sp, "{\"spans\": [[0, 11, \"PER\"]]}", 10, 0, 0, 0, "not a span of the text");
	check_value(sp, "{\"spans\": [[4, 4, \"PER\"]]}", 10, 0, 0, 0, "not a span");
	check_value(sp, "{\"spans\": [[-1, 2, \"PER\"]]}", 10, 0, 0, 0, "not a span");
	check_value(sp, "{\"spans\": [[0, 2]]}", 10, 0, 0, 0, "[start, end, label]");
	check_value(bx, "{\"boxes\": [[10, 10, 20, 30, \"car\"]]}", 0, 100, 100, 1, NULL);
	check_value(bx, "{\"boxes\": [[90, 10, 20, 30, \"car\"]]}", 0, 100, 100, 0, "leaves");
	check_value(bx, "{\"boxes\": [[1, 1, 0, 3, \"car\"]]}", 0, 100, 100, 0, "has a size");
	check_value(qa, "{\"text\": \"forty-two\"}", 0, 0, 0, 1, NULL);
	check_value(qa, "{\"text\": 42}", 0, 0, 0, 0, "string");
	check_value(pf, "{\"preference\": 2}", 0, 0, 0, 1, NULL);
	check_value(pf, "{\"preference\": 3}", 0, 0, 0, 0, "1 or 2");
	check_value(pf, "[2]", 0, 0, 0, 0, "not a JSON object");
	label_schema_free(c);
	label_schema_free(m);
	label_schema_free(sp);
	label_schema_free(bx);
	label_schema_free(qa);
	label_schema_free(pf);
}

struct fields {
	const char *type, *chars, *element;
};

static const char *get(void *ctx, const char *field)
{
	struct fields *f = ctx;
	if (!strcmp(field, "type")) return f->type;
	if (!strcmp(field, "chars")) return f->chars;
	if (!strcmp(field, "element")) return f->element;
	return NULL;
}

static int matches(const char *expr, struct fields *f)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct where *w = where_parse(expr, &e);
	int m;
	if (!w)
		fail_msg("%s: %s", expr, e.msg);
	m = where_match(w, get, f);
	where_free(w);
	return m;
}

static void test_where(void **state)
{
	struct fields pdf = { "pdf", "120", "title" }, txt = { "txt", "9", NULL };
	struct moat_err e = MOAT_ERR_INIT;
	static const char *const bad[] = { "", "type", "type = ", "foo = 1", "type = 'pdf", "(type = 'x'",
					   "type = 'x' and", "type = 'x' junk", "type !! 'x'" };
	(void)state;
	assert_true(matches("type = 'pdf'", &pdf));
	assert_false(matches("type = 'pdf'", &txt));
	assert_true(matches("chars > 100", &pdf));
	assert_false(matches("chars > 100", &txt));  /* 9 < 100 as numbers, not as text */
	assert_true(matches("chars >= 9 and chars <= 9", &txt));
	assert_true(matches("type = 'txt' or (type = 'pdf' and element = 'title')", &pdf));
	assert_false(matches("element = 'title'", &txt));      /* missing: false */
	assert_true(matches("not element = 'title'", &txt));  /* ... and not makes it true */
	assert_true(matches("type ~ 'p*'", &pdf));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct where *w = where_parse(bad[i], &e);
		if (w)
			fail_msg("'%s' parsed", bad[i]);
		assert_int_equal(e.code, MOAT_EUSAGE);
		assert_non_null(strstr(e.msg, "--where: at "));
	}
	assert_null(where_parse("TYPE = 'pdf'", &e));
}

/* --- a project's life ----------------------------------------------------------------- */

static void add_doc(struct store *s, const char *id, const char *text)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct doc d;
	assert_int_equal(doc_init(&d, (struct doc_limits){ 100000, 0 }), 0);
	d.format = "text";
	assert_int_equal(doc_add(&d, EL_PARAGRAPH, 0, text, strlen(text), NULL), 1);
	if (store_add_document(s, id, "text/plain", strlen(text), &d, 0, &e) < 0)
		fail_msg("%s", e.msg);
	doc_release(&d);
}

static struct moat_err last_e;

static int64_t task_id(json_t *t)
{
	if (!json_is_object(t))
		fail_msg("no task: %s", t ? "none left" : last_e.msg);
	return json_integer_value(json_object_get(t, "id"));
}

static void save(struct store *s, int64_t task, const char *user, const char *value)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *v = json_loads(value, 0, NULL);
	if (label_save(s, "p", task, user, v, "submitted", 0, NULL, &e) < 0)
		fail_msg("save %s: %s", user, e.msg);
	json_decref(v);
}

static void test_project(void **state)
{
	char *dir = tu_tmpdir(), id[65];
	struct moat_err e = MOAT_ERR_INIT;
	struct store *s;
	struct label_create_opts o = { 0 };
	const char *sc = "{\"kind\": \"classification\", \"labels\": [\"pos\", \"neg\"]}";
	json_t *t, *st, *v, *log;
	int64_t t_alice, t_bob, t_carol, n, aid;
	struct audit_check ck;
	size_t i, actors = 0;
	(void)state;

	assert_int_equal(store_create(dir, &e), 0);
	assert_non_null(s = store_open(dir, STORE_WRITE, &e));
	assert_int_equal(store_begin(s, &e), 0);
	for (int k = 0; k < 4; k++) {
		char text[64];
		memset(id, 'a' + k, 64);
		id[64] = '\0';
		assert_true(snprintf(text, sizeof(text), "document number %d, which is %s", k,
				     k % 2 ? "bad" : "good") > 0);
		add_doc(s, id, text);
	}
	assert_int_equal(store_commit(s, &e), 0);

	o.name = "p";
	o.schema_text = sc;
	o.schema_len = strlen(sc);
	o.schema_what = "s.json";
	o.from = "documents";
	o.overlap = 2;
	o.raw = 1;
	n = label_create(s, &o, &e);
	if (n < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(n, 4);
	assert_int_equal(label_create(s, &o, &e), -1);
	assert_int_equal(e.code, MOAT_EEXISTS);
	o.name = "../x";
	assert_int_equal(label_create(s, &o, &e), -1);
	assert_int_equal(e.code, MOAT_EUSAGE);
	o.name = "p";

	/* overlap 2 (project q): alice and bob get task 1, carol the next, and
	 * dave too (task 1 is held twice); a second ask gets the same task back */
	o.name = "q";
	assert_int_equal(label_create(s, &o, &e), 4);
	t_alice = task_id(t = label_next(s, "q", "alice", 0, &last_e));
	json_decref(t);
	t_bob = task_id(t = label_next(s, "q", "bob", 0, &last_e));
	json_decref(t);
	t_carol = task_id(t = label_next(s, "q", "carol", 0, &last_e));
	json_decref(t);
	assert_int_equal(t_alice, t_bob);
	assert_true(t_carol > t_alice);
	assert_int_equal(task_id(t = label_next(s, "q", "dave", 0, &last_e)), t_carol);
	json_decref(t);
	assert_int_equal(task_id(t = label_next(s, "q", "alice", 0, &last_e)), t_alice);
	json_decref(t);
	assert_int_equal(task_id(t = label_next(s, "q", "erin", 0, &last_e)), t_carol + 1);
	json_decref(t);
	/* suggestions taken as they are, or edited: recorded on the suggestion */
	{
		struct lb_suggestion g = { "{\"labels\":[\"pos\"]}", "gguf:m", NULL, -1, "", "{}", 1, "{}" };
		int64_t g1, g2;
		const char *dec[2];
		assert_int_equal(store_begin(s, &e), 0);
		assert_int_equal(lb_suggestion_add(s, t_carol, &g, 0, &g1, &e), 0);
		assert_int_equal(lb_suggestion_add(s, t_carol, &g, 0, &g2, &e), 0);
		assert_int_equal(store_commit(s, &e), 0);
		v = json_loads("{\"labels\": [\"pos\"]}", 0, NULL);
		assert_int_equal(label_save(s, "q", t_carol, "carol", v, "submitted", g1, NULL, &e), 0);
		json_decref(v);
		v = json_loads("{\"labels\": [\"neg\"]}", 0, NULL);
		assert_int_equal(label_save(s, "q", t_carol, "dave", v, "submitted", g2, NULL, &e), 0);
		json_decref(v);
		assert_non_null(t = label_task(s, "q", t_carol, NULL, 1, &e));
		dec[0] = json_string_value(json_object_get(json_array_get(json_object_get(t, "suggestions"), 0), "decision"));
		dec[1] = json_string_value(json_object_get(json_array_get(json_object_get(t, "suggestions"), 1), "decision"));
		assert_string_equal(dec[0], "accepted");
		assert_string_equal(dec[1], "edited");
		assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(t, "annotations"), 0),
								    "suggestion_id")), g1);
		json_decref(t);
		/* a suggestion of another project is refused */
		v = json_loads("{\"labels\": [\"neg\"]}", 0, NULL);
		assert_int_equal(label_save(s, "p", 1, "dave", v, "submitted", g2, NULL, &e), -1);
		assert_int_equal(e.code, MOAT_ENOTFOUND);
		json_decref(v);
	}
	o.name = "p";
	t_alice = task_id(t = label_next(s, "p", "alice", 0, &last_e));
	json_decref(t);

	/* a value that does not fit: refused, nothing written */
	v = json_loads("{\"labels\": [\"maybe\"]}", 0, NULL);
	assert_int_equal(label_save(s, "p", t_alice, "alice", v, "submitted", 0, NULL, &e), -1);
	assert_int_equal(e.code, MOAT_EPARSE);
	json_decref(v);
	assert_non_null(t = label_task(s, "p", t_alice, "alice", 0, &e));
	assert_int_equal(json_array_size(json_object_get(t, "annotations")), 0);
	json_decref(t);
	/* a task of another project, or none */
	v = json_loads("{\"labels\": [\"pos\"]}", 0, NULL);
	assert_int_equal(label_save(s, "p", 999, "alice", v, "submitted", 0, NULL, &e), -1);
	assert_int_equal(e.code, MOAT_ENOTFOUND);
	json_decref(v);

	/* every task by alice and bob: they agree on three of four */
	for (int k = 0; k < 4; k++) {
		int64_t ta = task_id(t = label_next(s, "p", "alice", 0, &last_e));
		json_decref(t);
		save(s, ta, "alice", k % 2 ? "{\"labels\": [\"neg\"]}" : "{\"labels\": [\"pos\"]}");
	}
	assert_true(json_is_null(t = label_next(s, "p", "alice", 0, &last_e)));
	json_decref(t);
	for (int k = 0; k < 4; k++) {
		int64_t tb = task_id(t = label_next(s, "p", "bob", 0, &last_e));
		json_decref(t);
		save(s, tb, "bob", k == 3 ? "{\"labels\": [\"pos\"]}" : k % 2 ? "{\"labels\": [\"neg\"]}"
									    : "{\"labels\": [\"pos\"]}");
	}
	/* both did every task: carol gets nothing (overlap 2 reached) */
	assert_true(json_is_null(t = label_next(s, "p", "carol", 0, &last_e)));
	json_decref(t);

	assert_non_null(st = label_stats(s, "p", &e));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "counts"), "done")), 4);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "counts"), "submitted")), 8);
	{
		/* codes alice 0,1,0,1 bob 0,1,0,0: po = 3/4, pe = (2*3 + 2*1)/16 = 1/2 */
		double k = json_number_value(json_object_get(json_object_get(st, "agreement"), "cohen_kappa"));
		assert_true(fabs(k - 0.5) < 1e-12);
	}
	json_decref(st);

	/* review: accept alice's first, correct bob's last; a reviewed
	 * annotation no longer changes */
	assert_non_null(t = label_task(s, "p", t_alice, NULL, 1, &e));
	assert_int_equal(json_array_size(json_object_get(t, "annotations")), 2);
	aid = json_integer_value(json_object_get(json_array_get(json_object_get(t, "annotations"), 0), "id"));
	json_decref(t);
	assert_int_equal(label_review(s, "p", aid, "rita", LABEL_ACCEPT, NULL, &e), 0);
	v = json_loads("{\"labels\": [\"neg\"]}", 0, NULL);
	assert_int_equal(label_save(s, "p", t_alice, "alice", v, "submitted", 0, NULL, &e), -1);
	assert_int_equal(e.code, MOAT_EEXISTS);
	assert_int_equal(label_review(s, "p", aid + 7, "rita", LABEL_CORRECT, v, &e), 0);
	json_decref(v);
	assert_non_null(t = label_review_queue(s, "p", 0, 10, &e));
	assert_int_equal(json_array_size(json_object_get(t, "tasks")), 4);  /* bob's of task 1 waits */
	json_decref(t);
	assert_int_equal(label_review(s, "p", aid + 4, "rita", LABEL_REJECT, NULL, &e), 0);
	assert_non_null(t = label_review_queue(s, "p", 0, 10, &e));
	assert_int_equal(json_array_size(json_object_get(t, "tasks")), 3);  /* tasks 2, 3, 4 wait */
	json_decref(t);

	/* every change is an audit record naming its person; the chain holds */
	assert_non_null(log = audit_log(s, &e));
	json_array_foreach(log, i, t)
		if (json_is_string(json_object_get(t, "actor")))
			actors++;
	assert_int_equal(actors, 8 + 3 + 2);
	json_decref(log);
	assert_int_equal(audit_verify(s, &ck, &e), 0);
	assert_true(ck.ok);

	assert_int_equal(label_rm(s, "p", &st, &e), 0);
	assert_int_equal(json_integer_value(json_object_get(st, "tasks")), 4);
	assert_int_equal(json_integer_value(json_object_get(st, "annotations")), 9);
	json_decref(st);
	assert_null(label_project(s, "p", &e));
	assert_int_equal(e.code, MOAT_ENOTFOUND);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_where),
		cmocka_unit_test(test_project),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
