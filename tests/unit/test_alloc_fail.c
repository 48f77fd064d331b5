/*
 * test_alloc_fail.c - allocation failure, every allocation in turn (curl's and
 * SQLite's torture tests): opening a workspace, ingesting one file of each
 * format, appending to the audit trail, cleaning a workspace (normalisation,
 * near duplicates, a PII policy) and verifying a bundle, each run once
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

int main(void)
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
	};
	moat_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
