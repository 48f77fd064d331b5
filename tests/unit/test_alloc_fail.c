/*
 * test_alloc_fail.c - allocation failure, every allocation in turn (curl's and
 * SQLite's torture tests): opening a workspace, ingesting one file of each
 * format, appending to the audit trail, verifying a bundle, and the model
 * layer's work without a network (model URIs, grammars from a schema and from
 * labels with the check of an answer, streamed Ollama and OpenAI answers,
 * embeddings bodies), each run once
 * for N = 1, 2, ... with the N-th of moat's allocations failing
 * (core/alloc.h), until a run makes fewer than N.  Each run must end either
 * with an error that says something, or complete with nothing lost (the same
 * counts as the run without a failure); under AddressSanitizer a crash fails
 * the test and a leak is looked for after every run.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/fs.h"
#include "ingest/ingest.h"
#include "llm/grammar.h"
#include "llm/parse.h"
#include "models/models.h"
#include "store/audit.h"
#include "store/store.h"

#if defined(__has_include)
#if __has_include(<sanitizer/lsan_interface.h>) && defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LEAK_CHECK() __lsan_do_recoverable_leak_check()
#endif
#endif
#ifndef LEAK_CHECK
#define LEAK_CHECK() 0
#endif

/* One operation under torture. */
struct op {
	const char *name;
	void *ctx;
	void (*setup)(void *ctx);                           /* unarmed */
	int (*run)(void *ctx, struct moat_err *e, char *result, size_t size);
	void (*cleanup)(void *ctx);                         /* unarmed */
};

static void torture(const struct op *op)
{
	char want[256] = "", got[256];
	unsigned long n;
	struct moat_err e = MOAT_ERR_INIT;
	/* the run without a failure: what a complete run gives */
	op->setup(op->ctx);
	if (op->run(op->ctx, &e, want, sizeof(want)) != 0)
		fail_msg("%s: fails without any allocation failing: %s", op->name, e.msg);
	op->cleanup(op->ctx);
	for (n = 1;; n++) {
		int rc, fired;
		err_clear(&e);
		got[0] = '\0';
		op->setup(op->ctx);
		alloc_fail_nth(n);
		rc = op->run(op->ctx, &e, got, sizeof(got));
		fired = alloc_failed();
		alloc_fail_nth(0);
		op->cleanup(op->ctx);
		if (LEAK_CHECK())
			fail_msg("%s: a leak when allocation %lu failed (rc %d, '%s')", op->name, n, rc,
				 e.msg);
		if (!fired) {
			assert_int_equal(rc, 0);
			break;
		}
		if (rc == 0 && strcmp(got, want))
			fail_msg("%s: allocation %lu failed and the run completed with '%s' instead "
				 "of '%s'", op->name, n, got, want);
		if (rc != 0 && !e.msg[0])
			fail_msg("%s: allocation %lu failed and the error says nothing", op->name, n);
	}
	printf("%s: %lu allocations, each failed in turn\n", op->name, n - 1);
}

/* ---- the workspace ---- */

struct ws {
	char *dir;
	struct store *s;
};

static void ws_setup(void *c)
{
	struct ws *w = c;
	w->dir = tu_tmpdir();
	w->s = NULL;
}

static void ws_cleanup(void *c)
{
	struct ws *w = c;
	store_close(w->s);
	w->s = NULL;
	tu_rmtree(w->dir);
	free(w->dir);
	w->dir = NULL;
}

static int ws_open(void *c, struct moat_err *e, char *res, size_t size)
{
	struct ws *w = c;
	if (store_create(w->dir, e) < 0)
		return -1;
	w->s = store_open(w->dir, STORE_WRITE, e);
	if (!w->s)
		return -1;
	snprintf(res, size, "schema %d", store_schema_version(w->s));
	return 0;
}

static void workspace_open(void **state)
{
	struct ws w = { NULL, NULL };
	struct op op = { "workspace create+open", &w, ws_setup, ws_open, ws_cleanup };
	(void)state;
	torture(&op);
}

/* ---- audit append ---- */

static void audit_setup(void *c)
{
	struct ws *w = c;
	struct moat_err e = MOAT_ERR_INIT;
	ws_setup(c);
	assert_int_equal(store_create(w->dir, &e), 0);
	w->s = store_open(w->dir, STORE_WRITE, &e);
	assert_non_null(w->s);
}

static int audit_run(void *c, struct moat_err *e, char *res, size_t size)
{
	struct ws *w = c;
	json_t *argv = json_pack("[s, s, s]", "moat", "test", "--x");
	json_t *counts = json_pack("{s:i, s:s}", "files", 3, "what", "torture");
	char head[65];
	int rc = -1;
	if (!argv || !counts) {
		err_set(e, MOAT_ENOMEM, "out of memory (test's own JSON)");
	} else {
		struct audit_entry a = { argv, NULL, NULL, counts };
		rc = audit_append(w->s, &a, head, e);
	}
	json_decref(argv);
	json_decref(counts);
	if (rc == 0) {
		struct audit_check ck;
		if (audit_verify(w->s, &ck, e) < 0)
			return -1;
		snprintf(res, size, "verified %d", ck.ok);
	}
	return rc;
}

static void audit_append_fails(void **state)
{
	struct ws w = { NULL, NULL };
	struct op op = { "audit append", &w, audit_setup, audit_run, ws_cleanup };
	(void)state;
	torture(&op);
}

/* ---- ingest, one file of each format ---- */

struct ing {
	struct ws w;
	const char *file;
	struct ingest_opts o;
	char failure[600];
};

static void on_file(void *ctx, const struct ingest_event *ev)
{
	struct ing *g = ctx;
	if (ev->outcome == INGEST_FAILED && !g->failure[0])
		snprintf(g->failure, sizeof(g->failure), "%s", ev->error ? ev->error : "");
}

static int ingest_once(void *c, struct moat_err *e, char *res, size_t size)
{
	struct ing *g = c;
	struct ingest_callbacks cb = { on_file, NULL, g };
	struct ingest_summary sum;
	const char *paths[1] = { g->file };
	int64_t docs = 0, els = 0, files = 0, failed = 0;
	int rc;
	g->failure[0] = '\0';
	rc = ingest_run(g->w.s, paths, 1, &g->o, &cb, &sum, e);
	if (rc == 0 && (store_run_end(g->w.s, sum.run_id, "done", e) < 0 ||
			store_commit(g->w.s, e) < 0))
		rc = -1;
	if (rc < 0)
		store_rollback(g->w.s);
	ingest_summary_release(&sum);
	if (rc < 0)
		return -1;
	if (g->failure[0]) {  /* the file failed: that is its error */
		snprintf(e->msg, sizeof(e->msg), "%s", g->failure);
		return -1;
	}
	if (store_counts(g->w.s, &docs, &els, &files, &failed, e) < 0)
		return -1;
	snprintf(res, size, "%lld documents, %lld elements, %lld files, %lld failed",
		 (long long)docs, (long long)els, (long long)files, (long long)failed);
	return 0;
}

static void ingest_setup(void *c)
{
	audit_setup(c);
}

static void ingest_format(const char *rel, int ocr)
{
	struct ing g;
	char *path = tu_testdata(rel);
	struct op op = { rel, &g, ingest_setup, ingest_once, ws_cleanup };
	memset(&g, 0, sizeof(g));
	g.file = path;
	g.o = ingest_default_opts();
	g.o.jobs = 1;
	g.o.no_sandbox = 1;  /* parse in this process, where the failures are injected */
	g.o.ocr = ocr;
	torture(&op);
	free(path);
}

static void ingest_text_formats(void **state)
{
	(void)state;
	ingest_format("corpus/fake-text.txt", INGEST_OCR_AUTO);
	ingest_format("corpus/wiki.md", INGEST_OCR_AUTO);
	ingest_format("corpus/fake-html-cp1252.html", INGEST_OCR_AUTO);
	ingest_format("corpus/csv-comma.csv", INGEST_OCR_AUTO);
}

static void ingest_documents(void **state)
{
	(void)state;
	ingest_format("corpus/habibi.pdf", INGEST_OCR_NEVER);
	ingest_format("corpus/docx-hdrftr.docx", INGEST_OCR_AUTO);
	ingest_format("corpus/stanley-cups.xlsx", INGEST_OCR_AUTO);
	ingest_format("corpus/powerpoint_sample.pptx", INGEST_OCR_AUTO);
	ingest_format("corpus/fake-email-attachment.eml", INGEST_OCR_AUTO);
}

static void ingest_scan(void **state)
{
	(void)state;
	ingest_format("corpus/phototest.tif", INGEST_OCR_AUTO);
}

/* ---- bundle verify ---- */

struct bun {
	char *dir;
	char *bundle;
};

static void nothing(void *c)
{
	(void)c;
}

static int verify_run(void *c, struct moat_err *e, char *res, size_t size)
{
	struct bun *b = c;
	struct verify_opts o = verify_default_opts();
	int status = -1;
	json_t *j;
	o.dir = b->bundle;
	j = models_verify(&o, &status, e);
	if (!j)
		return -1;
	if (status != VERIFY_OK) {  /* a failure that made verify see a problem */
		json_t *p = json_array_get(json_object_get(j, "problems"), 0);
		snprintf(e->msg, sizeof(e->msg), "%s", json_string_value(json_object_get(p, "problem"))
			 ? json_string_value(json_object_get(p, "problem")) : "");
		json_decref(j);
		return -1;
	}
	snprintf(res, size, "%lld files, %lld bytes",
		 (long long)json_integer_value(json_object_get(j, "files")),
		 (long long)json_integer_value(json_object_get(j, "bytes")));
	json_decref(j);
	return 0;
}

static void bundle_verify(void **state)
{
	struct bun b;
	struct moat_err e = MOAT_ERR_INIT;
	char *gguf = tu_testdata("models/llama-2-tiny-random.gguf");
	char *store;
	const char *names[1] = { "tiny:t" };
	struct bundle_opts bo = bundle_default_opts();
	struct op op = { "bundle verify", &b, nothing, verify_run, nothing };
	json_t *j;
	(void)state;
	b.dir = tu_tmpdir();
	store = fs_join(b.dir, "store");
	b.bundle = fs_join(b.dir, "usb");
	j = models_import(store, gguf, "tiny:t", &e);
	if (!j)
		fail_msg("import: %s", e.msg);
	json_decref(j);
	bo.models_dir = store;
	bo.names = names;
	bo.n_names = 1;
	bo.to = b.bundle;
	j = models_bundle(&bo, &e);
	if (!j)
		fail_msg("bundle: %s", e.msg);
	json_decref(j);
	torture(&op);
	tu_rmtree(b.dir);
	free(b.dir);
	free(b.bundle);
	free(store);
	free(gguf);
}

/* ---- the model layer, without a network ----
 *
 * The JSON these parse keeps every token (a key, a string with its quotes
 * and escapes, a number) within 15 bytes: jansson 2.14's lexer keeps a token
 * in a 16-byte buffer that grows, and when it cannot grow lex_save() drops
 * the byte (strbuffer_append_byte()'s failure is ignored), so the value read
 * silently lacks it, or the escapes go out of step and assert(0) aborts
 * (load.c:442).  No code of moat's can see that happen; with short tokens
 * every one of jansson's other allocations still fails in turn here.
 */

/* FNV-1a over what a run produced, so that a whole result compares in a line. */
static void fnv(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		*h = (*h ^ c[i]) * 1099511628211ull;
	*h = (*h ^ 0xff) * 1099511628211ull;  /* a field separator */
}

static void fnv_str(uint64_t *h, const char *s)
{
	fnv(h, s ? s : "(null)", strlen(s ? s : "(null)"));
}

static void unset_ollama_host(void *c)
{
	(void)c;
	unsetenv("OLLAMA_HOST");
}

static void set_ollama_host(void *c)
{
	(void)c;
	setenv("OLLAMA_HOST", " \"0.0.0.0:5555\" ", 1);
}

static int uri_run(void *c, struct moat_err *e, char *res, size_t size)
{
	static const char *const uris[] = {
		"ollama://127.0.0.1:11434/mistral:7b-instruct-v0.3-q4_K_M",
		"openai://[::1]:9000/v1/org/model-name",
		"openai+https://gpu-box.internal/x/v1",
		"ollama:qwen2:0.5b",
		"gguf:///models/a.gguf",
		"store:mistral:7b",
	};
	uint64_t h = 14695981039346656037ull;
	char *env;
	(void)c;
	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		struct llm_uri u;
		if (llm_uri_parse(uris[i], &u, e) < 0)
			return -1;
		fnv(&h, &u.backend, sizeof(u.backend));
		fnv_str(&h, u.host);
		fnv(&h, &u.port, sizeof(u.port));
		fnv(&h, &u.https, sizeof(u.https));
		fnv_str(&h, u.base);
		fnv_str(&h, u.root);
		fnv_str(&h, u.model);
		llm_uri_release(&u);
	}
	env = llm_ollama_url_from_env();
	if (!env) {
		snprintf(e->msg, sizeof(e->msg), "llm_ollama_url_from_env: out of memory");
		return -1;
	}
	snprintf(res, size, "%016llx %s", (unsigned long long)h, env);
	free(env);
	return 0;
}

static void llm_uri(void **state)
{
	struct op op = { "llm uri parse", NULL, set_ollama_host, uri_run, unset_ollama_host };
	(void)state;
	torture(&op);
}

struct constrained {
	struct llm_request r;
	const char *answer;
	json_t *schema;
};

static int grammar_run(void *c, struct moat_err *e, char *res, size_t size)
{
	struct constrained *k = c;
	struct buf g = BUF_INIT;
	json_t *v = NULL;
	uint64_t h = 14695981039346656037ull;
	if (llm_grammar(&k->r, &g, e) < 0) {
		buf_release(&g);
		return -1;
	}
	fnv(&h, g.data, g.len);
	buf_release(&g);
	if (llm_check_answer(&k->r, k->answer, &v, e) < 0)
		return -1;
	/* the value, without allocating: the test's own allocations would fail too */
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++)
			fnv_str(&h, json_string_value(json_array_get(v, i)));
	} else {
		const char *key;
		json_t *x;
		json_object_foreach(v, key, x) {
			fnv_str(&h, key);
			if (json_is_string(x))
				fnv_str(&h, json_string_value(x));
			else
				fnv(&h, &(json_int_t){ json_integer_value(x) }, sizeof(json_int_t));
		}
	}
	snprintf(res, size, "%016llx, %zu values", (unsigned long long)h,
		 json_is_array(v) ? json_array_size(v) : json_object_size(v));
	json_decref(v);
	return 0;
}

static void llm_grammar_schema(void **state)
{
	struct constrained k;
	json_error_t je;
	struct op op = { "llm grammar from a schema", &k, nothing, grammar_run, nothing };
	(void)state;
	memset(&k, 0, sizeof(k));
	k.schema = json_loads("{\"type\":\"object\",\"properties\":{"
			      "\"name\":{\"type\":\"string\",\"maxLength\":40,\"description\":\"who\"},"
			      "\"n\":{\"type\":\"integer\"},\"score\":{\"type\":[\"number\",\"null\"]},"
			      "\"tags\":{\"type\":\"array\",\"items\":{\"enum\":[\"red\",\"green\",\"say \\\"blue\\\"\"]},"
			      "\"minItems\":1,\"maxItems\":3},"
			      "\"where\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},"
			      "\"ok\":{\"type\":\"boolean\"}},\"required\":[\"city\"]}},"
			      "\"required\":[\"name\",\"n\",\"where\"]}", 0, &je);
	assert_non_null(k.schema);
	k.r.constraint = LLM_SCHEMA;
	k.r.schema = k.schema;
	k.answer = "{\"name\":\"Ada Lovelace\",\"n\":1815,\"score\":null,"
		   "\"tags\":[\"red\",\"say \\\"blue\\\"\"],\"where\":{\"city\":\"London\",\"ok\":true}}";
	torture(&op);
	json_decref(k.schema);
}

static void llm_grammar_labels(void **state)
{
	static const char *const labels[] = { "positive", "negative", "neutral", "say \"no\"",
					      "not applicable at all" };
	struct constrained k;
	struct op op = { "llm grammar from labels", &k, nothing, grammar_run, nothing };
	(void)state;
	memset(&k, 0, sizeof(k));
	k.r.constraint = LLM_LABELS;
	k.r.labels = labels;
	k.r.n_labels = 5;
	k.answer = "[\"neutral\",\"say \\\"no\\\"\",\"neutral\"]";
	torture(&op);
}

struct streamed {
	int (*parse)(struct llm_stream *s, const char *line, size_t len);
	const char *const *lines;
	size_t n;
	char got[512];           /* what on_token was given */
	size_t got_len;
};

static int on_token(void *ud, const char *piece, size_t len)
{
	struct streamed *t = ud;
	if (t->got_len + len < sizeof(t->got)) {
		memcpy(t->got + t->got_len, piece, len);
		t->got_len += len;
	}
	return 0;
}

static int stream_run(void *c, struct moat_err *e, char *res, size_t size)
{
	static const char *const stops[] = { "\n\nUser:" };
	struct streamed *t = c;
	struct llm_request r;
	struct llm_stream s;
	char *text;
	memset(&r, 0, sizeof(r));
	r.opt = llm_options_default();
	r.opt.stop = stops;
	r.opt.n_stop = 1;
	r.on_token = on_token;
	r.ud = t;
	t->got_len = 0;
	llm_stream_init(&s, &r);
	for (size_t i = 0; i < t->n; i++)
		if (t->parse(&s, t->lines[i], strlen(t->lines[i])) < 0) {
			*e = s.err;
			llm_stream_release(&s);
			return -1;
		}
	llm_stream_flush(&s);
	text = llm_stream_take_text(&s);
	llm_stream_release(&s);
	if (!text) {
		snprintf(e->msg, sizeof(e->msg), "llm_stream_take_text: out of memory");
		return -1;
	}
	if (strlen(text) != t->got_len || memcmp(text, t->got, t->got_len))
		fail_msg("on_token was given '%.*s', the answer is '%s'", (int)t->got_len, t->got, text);
	snprintf(res, size, "'%s' %s %d+%d tokens, %.3f s, done %d", text, s.finish, s.prompt_tokens,
		 s.completion_tokens, s.gen_s, s.done);
	free(text);
	return 0;
}

/* Ollama's lines, with the keys of 15 bytes or fewer (see above) */
static void llm_stream_ollama(void **state)
{
	static const char *const lines[] = {
		"{\"model\":\"mistral:7b\",\"message\":{\"role\":\"assistant\",\"content\":\"Caf\\u00e9 \"},"
		"\"done\":false}",
		"",
		"{\"model\":\"mistral:7b\",\"message\":{\"role\":\"assistant\",\"content\":\"au lait,\"},"
		"\"done\":false}",
		"{\"model\":\"mistral:7b\",\"message\":{\"content\":\" s'il vous\"},\"done\":false}",
		"{\"model\":\"mistral:7b\",\"message\":{\"content\":\" pla\\u00eet \"},\"done\":false}",
		"{\"model\":\"mistral:7b\",\"message\":{\"content\":\"\\ud83d\\ude00\"},\"done\":false}",
		"{\"model\":\"mistral:7b\",\"message\":{\"content\":\" and\"},\"done\":false}",
		"{\"model\":\"mistral:7b\",\"message\":{\"content\":\" more, to\"},\"done\":false}",
		"{\"model\":\"mistral:7b\",\"message\":{\"content\":\" grow the\"},\"done\":false}",
		"{\"model\":\"mistral:7b\",\"message\":{\"content\":\" buffers\"},\"done\":false}",
		"{\"model\":\"mistral:7b\",\"message\":{\"content\":\"\\n\\nUs\"},\"done\":false}",
		"{\"model\":\"mistral:7b\",\"message\":{\"content\":\"er: more\"},\"done\":false}",
		"{\"model\":\"mistral:7b\",\"message\":{\"content\":\"\"},\"done\":true,"
		"\"done_reason\":\"stop\",\"load_duration\":500000000,\"eval_count\":11,"
		"\"eval_duration\":40000000}",
	};
	struct streamed t = { llm_parse_ollama_line, lines, sizeof(lines) / sizeof(lines[0]), "", 0 };
	struct op op = { "llm ollama stream", &t, nothing, stream_run, nothing };
	(void)state;
	torture(&op);
}

/* llama-server's events, with the keys of 15 bytes or fewer (see above) */
static void llm_stream_openai(void **state)
{
	static const char *const lines[] = {
		"data: {\"id\":\"chatcmpl-1\",\"object\":\"chunk\",\"choices\":[{\"index\":0,"
		"\"delta\":{\"role\":\"assistant\",\"content\":null}}]}",
		"",
		": keep-alive",
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Gr\\u00fc\"}}]}",
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\\u00df \"}}]}",
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Gott, and\"}}]}",
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" more, to\"}}]}",
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" grow the\"}}]}",
		"data:{\"choices\":[{\"index\":0,\"delta\":{\"content\":\" buffers\"},"
		"\"finish_reason\":\"length\"}]}",
		"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":29},"
		"\"timings\":{\"prompt_n\":1,\"prompt_ms\":5,\"predicted_n\":16,\"predicted_ms\":10}}",
		"data: [DONE]",
	};
	struct streamed t = { llm_parse_sse_line, lines, sizeof(lines) / sizeof(lines[0]), "", 0 };
	struct op op = { "llm openai stream", &t, nothing, stream_run, nothing };
	(void)state;
	torture(&op);
}

static int embed_run(void *c, struct moat_err *e, char *res, size_t size)
{
	/* tokens within 15 bytes (see above): no "prompt_eval_count" */
	static const char ol[] = "{\"model\":\"m\",\"embeddings\":[[3,4,0],[0,2,0]]}";
	static const char oa[] = "{\"object\":\"list\",\"data\":[{\"embedding\":[0,5,0],\"index\":1},"
				 "{\"embedding\":[1,0,0],\"index\":0}],\"usage\":{\"prompt_tokens\":3}}";
	struct llm_embedding a, b;
	(void)c;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (llm_parse_ollama_embed(ol, strlen(ol), 2, &a, e) < 0)
		return -1;
	if (llm_parse_openai_embed(oa, strlen(oa), 2, &b, e) < 0) {
		free(a.data);
		return -1;
	}
	snprintf(res, size, "%zux%zu %.2f %.2f %d, %zux%zu %.2f %.2f %d", a.n, a.dim, a.data[0], a.data[4],
		 a.prompt_tokens, b.n, b.dim, b.data[0], b.data[4], b.prompt_tokens);
	free(a.data);
	free(b.data);
	return 0;
}

static void llm_embeddings(void **state)
{
	struct op op = { "llm embeddings bodies", NULL, nothing, embed_run, nothing };
	(void)state;
	torture(&op);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(workspace_open),
		cmocka_unit_test(audit_append_fails),
		cmocka_unit_test(ingest_text_formats),
		cmocka_unit_test(ingest_documents),
		cmocka_unit_test(ingest_scan),
		cmocka_unit_test(bundle_verify),
		cmocka_unit_test(llm_uri),
		cmocka_unit_test(llm_grammar_schema),
		cmocka_unit_test(llm_grammar_labels),
		cmocka_unit_test(llm_stream_ollama),
		cmocka_unit_test(llm_stream_openai),
		cmocka_unit_test(llm_embeddings),
	};
	moat_alloc_init();
	/* MOAT_TEST_FILTER=llm_* runs one part alone: a part that fails leaves
	 * leaks that every later leak check would report again */
	if (getenv("MOAT_TEST_FILTER"))
		cmocka_set_test_filter(getenv("MOAT_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
