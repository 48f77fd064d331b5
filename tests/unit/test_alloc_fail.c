/*
 * test_alloc_fail.c - allocation failure, every allocation in turn (curl's and
 * SQLite's torture tests): opening a workspace, ingesting one file of each
 * format, appending to the audit trail, cleaning a workspace (normalisation,
 * near duplicates, a PII policy), the model kit's verifying a bundle,
 * installing it into a fresh store (which fsck must then find whole: no
 * half-installed model) and listing a store, and the model layer's work
 * without a network (model URIs, grammars from a schema and from labels with
 * the check of an answer, streamed Ollama and OpenAI answers, embeddings
 * bodies), each run once
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

#include "clean/stage.h"
#include "core/alloc.h"
#include "core/fmt.h"
#include "core/fs.h"
#include "core/hash.h"
#include "ingest/ingest.h"
#include "llm/grammar.h"
#include "llm/parse.h"
#include "models/models.h"
#include "store/audit.h"
#include "store/cleaned.h"
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
	if (xsnprintf(res, size, "schema %d", store_schema_version(w->s)) < 0)
		return err_set(e, MOAT_ELIMIT, "the test's result is too long");
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
		if (xsnprintf(res, size, "verified %d", ck.ok) < 0)
			return err_set(e, MOAT_ELIMIT, "the test's result is too long");
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
	/* ends the run as cmd/ingest.c does: in a transaction of its own */
	if (rc == 0 && (store_begin(g->w.s, e) < 0 ||
			store_run_end(g->w.s, sum.run_id, "done", e) < 0 ||
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

/* ---- the clean stage ---- */

struct cln {
	struct ws w;
	char *files[2];
	char *dir;      /* the policy and its key file */
	char *policy;
	int jobs;
};

/* The workspace with the two files ingested, made once: each run cleans it
 * inside a transaction that it rolls back, so every run starts alike. */
static void clean_workspace(struct cln *k)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct ingest_opts o = ingest_default_opts();
	struct ingest_summary sum;
	struct ing g;
	struct ingest_callbacks cb = { on_file, NULL, &g };
	const char *paths[2] = { k->files[0], k->files[1] };
	memset(&g, 0, sizeof(g));
	audit_setup(&k->w);
	o.jobs = 1;
	o.no_sandbox = 1;
	if (ingest_run(k->w.s, paths, 2, &o, &cb, &sum, &e) < 0 || g.failure[0])
		fail_msg("ingest: %s%s", e.msg, g.failure);
	if (store_begin(k->w.s, &e) < 0 || store_run_end(k->w.s, sum.run_id, "done", &e) < 0 ||
	    store_commit(k->w.s, &e) < 0)
		fail_msg("ingest: %s", e.msg);
	ingest_summary_release(&sum);
	store_close(k->w.s);
	k->w.s = NULL;
}

/* A connection of its own for each run, so that a statement a failure left
 * unfinished shows as a leak when it is closed. */
static void clean_setup(void *c)
{
	struct cln *k = c;
	struct moat_err e = MOAT_ERR_INIT;
	k->w.s = store_open(k->w.dir, STORE_WRITE, &e);
	if (!k->w.s)
		fail_msg("open: %s", e.msg);
}

static void clean_cleanup(void *c)
{
	struct cln *k = c;
	store_close(k->w.s);
	k->w.s = NULL;
}

/* JSON into h as jansson writes it into a fixed buffer: json_dumps() can
 * drop an object key when an allocation fails (jansson 2.14), which would
 * make a complete run look different. */
static int hash_json(struct sha256 *h, const json_t *j)
{
	size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT | JSON_SORT_KEYS);
	char *t = n ? malloc(n) : NULL;
	int rc = t && json_dumpb(j, t, n, JSON_COMPACT | JSON_SORT_KEYS) == n ? 0 : -1;
	if (rc == 0)
		sha256_update(h, t, n);
	free(t);
	return rc;
}

/* What a clean run left: its counts, and a digest of everything `moat clean
 * show` and `moat clean status` would print for it and of the summary the
 * audit record is made from, so that a run that completes with anything
 * different (a finding, a replacement, a reason, an offset) is caught. */
static int clean_result(struct store *s, const struct clean_summary *sum, struct moat_err *e,
			char *res, size_t size)
{
	struct sha256 h;
	unsigned char d[SHA256_LEN];
	char hex[SHA256_HEX];
	json_t *list = store_list(s, e), *x;
	size_t i;
	int rc = 0;
	if (!list)
		return -1;
	if (sha256_init(&h) < 0) {
		json_decref(list);
		return err_set(e, MOAT_ENOMEM, "out of memory (the test's hash)");
	}
	json_array_foreach(list, i, x) {
		json_t *shown = clean_store_show(s, json_string_value(json_object_get(x, "id")), e);
		rc = shown ? hash_json(&h, shown) : -1;
		json_decref(shown);
		if (rc < 0)
			break;
	}
	json_decref(list);
	if (rc == 0) {
		json_t *status = clean_store_summary(s, e);
		rc = status ? hash_json(&h, status) : -1;
		json_decref(status);
	}
	if (rc == 0 && (hash_json(&h, sum->findings_list) < 0 || hash_json(&h, sum->inputs) < 0 ||
			hash_json(&h, sum->drops) < 0 || hash_json(&h, sum->operators) < 0))
		rc = -1;
	sha256_final(&h, d);
	if (rc < 0)
		return e->msg[0] ? -1 : err_set(e, MOAT_ENOMEM, "out of memory (the test's JSON)");
	hex_encode(d, 16, hex);
	if (xsnprintf(res, size, "%lld documents, %lld kept, %lld duplicates, %lld elements, %lld "
		      "findings, %lld+%lld clusters, %s", (long long)sum->documents,
		      (long long)sum->kept, (long long)sum->duplicates, (long long)sum->elements,
		      (long long)sum->findings, (long long)sum->clusters_doc,
		      (long long)sum->clusters_el, hex) < 0)
		return err_set(e, MOAT_ELIMIT, "the test's result is too long");
	return 0;
}

static int clean_once(void *c, struct moat_err *e, char *res, size_t size)
{
	struct cln *k = c;
	struct clean_opts o = clean_default_opts();
	struct clean_summary sum;
	int64_t run_id;
	int rc;
	o.normalize = 1;
	o.dedup = DEDUP_NEAR;
	o.pii = k->policy;
	o.jobs = k->jobs;
	if (store_begin(k->w.s, e) < 0)
		return -1;
	if (store_run_begin(k->w.s, "clean", &run_id, e) < 0 ||
	    clean_run(k->w.s, &o, run_id, &sum, e) < 0) {
		store_rollback(k->w.s);
		return -1;
	}
	rc = clean_result(k->w.s, &sum, e, res, size);
	clean_summary_release(&sum);
	store_rollback(k->w.s);  /* what was written is read above; the next run starts afresh */
	return rc;
}

static void clean_stage(int jobs)
{
	static const char policy[] =
		"[pii]\nentities = ZIP_CODE, EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, US_SSN\n"
		"salt = alloc-test\nkey_file = pii.key\n"
		"[deny]\nPERSON = Hamburgers\nLOCATION = Doylestown\n"
		"[operators]\nDEFAULT = replace\nZIP_CODE = mask keep=2\nPERSON = encrypt\n"
		"LOCATION = pseudonymize\n";
	static const char hexkey[] =
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
	struct cln k;
	struct op op = { jobs > 1 ? "clean, 2 workers" : "clean", &k, clean_setup, clean_once,
			 clean_cleanup };
	char *key;
	memset(&k, 0, sizeof(k));
	k.jobs = jobs;
	k.files[0] = tu_testdata("corpus/fake-text.txt");
	k.files[1] = tu_testdata("corpus/fake-text.txt.gt.txt");
	k.dir = tu_tmpdir();
	k.policy = fs_join(k.dir, "policy.ini");
	key = fs_join(k.dir, "pii.key");
	/* a fixed salt and key, so that every run replaces alike; a deny list
	 * adds findings whose operators encrypt and pseudonymise.  The pattern
	 * recognizers are those of a few types: building the whole scanner takes
	 * 2,400 allocations more (word lists), which makes every run, and so the
	 * test, six times as long (with them it passes too) */
	tu_write(k.policy, policy, strlen(policy));
	tu_write(key, hexkey, strlen(hexkey));
	clean_workspace(&k);
	torture(&op);
	ws_cleanup(&k.w);
	tu_rmtree(k.dir);
	free(k.dir);
	free(k.policy);
	free(key);
	free(k.files[0]);
	free(k.files[1]);
}

static void clean_fails(void **state)
{
	(void)state;
	clean_stage(1);
}

static void clean_workers_fail(void **state)
{
	(void)state;
	clean_stage(2);
}

/* ---- the model kit: bundle verify, bundle install, store list ---- */

struct bun {
	char *dir;
	char *store;    /* two models: tiny:t and other/tiny:x, sharing their blobs */
	char *bundle;   /* tiny:t */
	char *target;   /* install: a fresh store for each run */
	int rc;         /* install: what the run returned */
	json_t *listing;  /* list: the store's listing, made without a failure */
};

static void nothing(void *c)
{
	(void)c;
}

/* The fixture, made without any failure: a store and a bundle of it. */
static void bun_make(struct bun *b)
{
	struct moat_err e = MOAT_ERR_INIT;
	char *gguf = tu_testdata("models/llama-2-tiny-random.gguf");
	const char *names[1] = { "tiny:t" };
	struct bundle_opts bo = bundle_default_opts();
	json_t *j;
	memset(b, 0, sizeof(*b));
	b->dir = tu_tmpdir();
	b->store = fs_join(b->dir, "store");
	b->bundle = fs_join(b->dir, "usb");
	j = models_import(b->store, gguf, "tiny:t", &e);
	if (!j)
		fail_msg("import: %s", e.msg);
	json_decref(j);
	j = models_import(b->store, gguf, "other/tiny:x", &e);
	if (!j)
		fail_msg("import: %s", e.msg);
	json_decref(j);
	bo.models_dir = b->store;
	bo.names = names;
	bo.n_names = 1;
	bo.to = b->bundle;
	j = models_bundle(&bo, &e);
	if (!j)
		fail_msg("bundle: %s", e.msg);
	json_decref(j);
	free(gguf);
}

static void bun_free(struct bun *b)
{
	tu_rmtree(b->dir);
	free(b->dir);
	free(b->store);
	free(b->bundle);
}

/* A result in which the operation saw a problem: the allocation that failed
 * made it, so the run counts as one that failed, and the problem must say
 * something. */
static int problem_is_error(json_t *problem, struct moat_err *e)
{
	const char *s = json_is_string(problem) ? json_string_value(problem) :
			json_string_value(json_object_get(problem, "problem"));
	snprintf(e->msg, sizeof(e->msg), "%s", s ? s : "");
	return -1;
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
		problem_is_error(json_array_get(json_object_get(j, "problems"), 0), e);
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
	struct op op = { "bundle verify", &b, nothing, verify_run, nothing };
	(void)state;
	bun_make(&b);
	torture(&op);
	bun_free(&b);
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

static void install_setup(void *c)
{
	struct bun *b = c;
	char *d = tu_tmpdir();
	b->target = fs_join(d, "store");  /* not there yet: install makes it */
	free(d);
	b->rc = 0;
}

static int install_run(void *c, struct moat_err *e, char *res, size_t size)
{
	struct bun *b = c;
	struct install_opts o = install_default_opts();
	int status = 0;
	json_t *j, *names;
	o.dir = b->bundle;
	o.models_dir = b->target;
	o.jobs = 2;  /* through the thread pool */
	j = models_install(&o, &status, e);
	b->rc = -1;
	if (!j)
		return -1;
	if (status != VERIFY_OK) {  /* its verify saw a problem */
		json_t *v = json_object_get(j, "verify");
		problem_is_error(json_array_get(json_object_get(v, "problems"), 0), e);
		json_decref(j);
		return -1;
	}
	names = json_object_get(j, "installed");
	snprintf(res, size, "installed %s (%zu), %lld blobs copied, %lld present",
		 json_string_value(json_array_get(names, 0)), json_array_size(names),
		 (long long)json_integer_value(json_object_get(j, "copied_blobs")),
		 (long long)json_integer_value(json_object_get(j, "skipped_blobs")));
	json_decref(j);
	b->rc = 0;
	return 0;
}

/* After each run, failed or not: the store holds the model whole or not at
 * all (fsck finds no error), and nothing else but blobs no manifest uses yet
 * (a failed install leaves no temporary file). */
static void install_check(void *c)
{
	struct bun *b = c;
	struct moat_err e = MOAT_ERR_INIT;
	json_t *f = fs_is_dir(b->target) ? models_fsck(b->target, 0, &e) : NULL;
	json_t *p;
	size_t i;
	char *d;
	if (f) {
		if (!json_is_true(json_object_get(f, "ok")))
			fail_msg("bundle install: the store is not whole after a run that returned "
				 "%d: %s", b->rc, json_dumps(json_object_get(f, "problems"), 0));
		json_array_foreach(json_object_get(f, "problems"), i, p) {
			const char *what = json_string_value(json_object_get(p, "problem"));
			if (!what || strncmp(what, "unreferenced blob", 17))
				fail_msg("bundle install: left behind: %s: %s",
					 json_string_value(json_object_get(p, "path")), what);
		}
		if (b->rc == 0 && json_integer_value(json_object_get(f, "models")) != 1)
			fail_msg("bundle install: completed, but the store holds %lld models",
				 (long long)json_integer_value(json_object_get(f, "models")));
		json_decref(f);
	} else if (fs_is_dir(b->target)) {
		fail_msg("bundle install: cannot check the store: %s", e.msg);
	}
	d = fs_dirname(b->target);
	tu_rmtree(d);
	free(d);
	free(b->target);
	b->target = NULL;
}

static void bundle_install_fails(void **state)
{
	struct bun b;
	struct op op = { "bundle install", &b, install_setup, install_run, install_check };
	(void)state;
	bun_make(&b);
	torture(&op);
	bun_free(&b);
}

static int list_run(void *c, struct moat_err *e, char *res, size_t size)
{
	struct bun *b = c;
	json_t *j = models_list(b->store, e), *m;
	size_t i;
	if (!j)
		return -1;
	json_array_foreach(j, i, m) {
		json_t *pr = json_object_get(m, "problems");
		if (json_array_size(pr)) {  /* a failure that made list see a problem */
			problem_is_error(json_array_get(pr, 0), e);
			json_decref(j);
			return -1;
		}
	}
	/* every field of every model, compared without allocating (jansson's
	 * json_dumps can drop a key when memory runs out) */
	snprintf(res, size, "%zu models, %s the listing made without a failure",
		 json_array_size(j), json_equal(j, b->listing) ? "the same as" : "not");
	json_decref(j);
	return 0;
}

static void models_list_fails(void **state)
{
	struct bun b;
	struct moat_err e = MOAT_ERR_INIT;
	struct op op = { "models list", &b, nothing, list_run, nothing };
	(void)state;
	bun_make(&b);
	b.listing = models_list(b.store, &e);
	if (!b.listing)
		fail_msg("list: %s", e.msg);
	torture(&op);
	json_decref(b.listing);
	bun_free(&b);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(workspace_open),
		cmocka_unit_test(audit_append_fails),
		cmocka_unit_test(clean_fails),
		cmocka_unit_test(clean_workers_fail),
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
		cmocka_unit_test(bundle_install_fails),
		cmocka_unit_test(models_list_fails),
	};
	if (argc > 1)  /* one test by name (a cmocka pattern), for working on one part */
		cmocka_set_test_filter(argv[1]);
	moat_alloc_init();
	/* MOAT_TEST_FILTER=llm_* runs one part alone: a part that fails leaves
	 * leaks that every later leak check would report again */
	if (getenv("MOAT_TEST_FILTER"))
		cmocka_set_test_filter(getenv("MOAT_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
