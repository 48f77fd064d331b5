/*
 * test_llm_embedded.c - llama.cpp inside moat (gguf: and store:) on the tiny
 * random-weights model of the shared test data: generation, seeds, stop and
 * max tokens, label- and schema-constrained answers (always valid), batched
 * decoding of several requests, cancellation, embeddings, token counts,
 * provenance, the answers' token log-probabilities (scores), and a store built from the Ollama fixtures plus the tiny GGUF.
 * The weights are random: these tests check mechanics, never the text.
 * Built without llama.cpp, it checks the refusal instead.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "llm/grammar.h"
#include "llm/llm.h"
#include "models/models.h"

static const char *model_path;
static struct llm *tiny;
static char *cache_dir;

#ifdef MOAT_WITH_LLAMA

static int setup(void **state)
{
	static char uri[4200];
	struct llm_config cfg = llm_config_default();
	struct moat_err e = MOAT_ERR_INIT;
	char *p;
	(void)state;
	/* keep the digest cache out of $HOME */
	cache_dir = tu_tmpdir();
	setenv("MOAT_CACHE", cache_dir, 1);
	p = getenv("MOAT_TESTDATA");
	if (!p || !*p)
		p = getenv("MOAT_TESTDATA_DEFAULT");
	snprintf(uri, sizeof(uri), "%s/models/llama-2-tiny-random.gguf", p && *p ? p : "../shared");
	model_path = uri + 0;
	{
		static char full[4300];
		snprintf(full, sizeof(full), "gguf:%s", model_path);
		cfg.parallel = 3;
		cfg.n_ctx = 512;
		cfg.n_threads = 1;
		tiny = llm_open(full, &cfg, &e);
	}
	if (!tiny)
		fprintf(stderr, "cannot open the tiny model: %s\n", e.msg);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	llm_free(tiny);
	tu_rmtree(cache_dir);
	free(cache_dir);
	return 0;
}

static void need_model(void)
{
	char *p = tu_testdata("models/llama-2-tiny-random.gguf");
	if (!p)
		return;
	free(p);
	assert_non_null(tiny);
}

static struct llm_request req(const char *prompt, int64_t seed)
{
	struct llm_request r;
	memset(&r, 0, sizeof(r));
	r.prompt = prompt;
	r.opt = llm_options_default();
	r.opt.seed = seed;
	return r;
}

static void info_and_provenance(void **state)
{
	struct llm_request r = req("Hello", 7);
	struct llm_result res;
	struct moat_err e = MOAT_ERR_INIT;
	json_t *info, *p;
	unsigned char d[SHA256_LEN];
	char hex[65], want[80];
	(void)state;
	need_model();
	info = llm_info(tiny);
	assert_int_equal(json_integer_value(json_object_get(info, "n_embd")), 8);
	assert_string_equal(json_string_value(json_object_get(info, "backend")), "gguf");
	assert_int_equal(sha256_file(model_path, d, NULL, &e), 0);
	hex_encode(d, SHA256_LEN, hex);
	snprintf(want, sizeof(want), "sha256:%s", hex);
	assert_string_equal(json_string_value(json_object_get(info, "digest")), want);
	json_decref(info);

	r.opt.max_tokens = 8;
	r.template_text = "Say {thing}";
	assert_int_equal(llm_generate(tiny, &r, &res, &e), 0);
	p = res.provenance;
	assert_string_equal(json_string_value(json_object_get(p, "model_digest")), want);
	assert_int_equal(strlen(json_string_value(json_object_get(p, "template_sha256"))), 64);
	assert_int_equal(strlen(json_string_value(json_object_get(p, "request_template_sha256"))), 64);
	assert_int_equal(json_integer_value(json_object_get(p, "seed")), 7);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(p, "options"), "max_tokens")), 8);
	assert_true(json_real_value(json_object_get(json_object_get(p, "options"), "temperature")) > 0.79);
	llm_result_release(&res);

	/* no seed given: one is picked and recorded */
	r.opt.seed = -1;
	assert_int_equal(llm_generate(tiny, &r, &res, &e), 0);
	assert_true(json_integer_value(json_object_get(res.provenance, "seed")) >= 0);
	llm_result_release(&res);
}

static void seeds_and_limits(void **state)
{
	const char *stops[] = { "e" };
	struct llm_request r = req("Write a story", 42);
	struct llm_result a, b;
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
	need_model();
	r.opt.max_tokens = 12;
	assert_int_equal(llm_generate(tiny, &r, &a, &e), 0);
	assert_int_equal(llm_generate(tiny, &r, &b, &e), 0);
	assert_string_equal(a.text, b.text);          /* same seed, same answer */
	assert_true(a.completion_tokens <= 12);
	assert_true(a.prompt_tokens > 3);
	if (a.completion_tokens == 12)
		assert_string_equal(a.finish, "length");
	llm_result_release(&a);
	llm_result_release(&b);

	r.opt.max_tokens = 60;
	r.opt.stop = stops;
	r.opt.n_stop = 1;
	for (int s = 0; s < 5; s++) {
		r.opt.seed = s;
		assert_int_equal(llm_generate(tiny, &r, &a, &e), 0);
		assert_null(strchr(a.text, 'e'));     /* cut at the stop string */
		llm_result_release(&a);
	}
}

static void labels_always_valid(void **state)
{
	const char *labels[] = { "positive", "negative", "neutral", "mixed feelings" };
	struct llm_request r[12];
	struct llm_result res[12];
	struct moat_err errs[12];
	(void)state;
	need_model();
	for (int i = 0; i < 12; i++) {
		r[i] = req("Classify: the food was cold.", i);
		r[i].constraint = i < 6 ? LLM_LABEL : LLM_LABELS;
		r[i].labels = labels;
		r[i].n_labels = 4;
		r[i].opt.temperature = 1.5;  /* wild sampling: the grammar must still hold */
	}
	assert_int_equal(llm_generate_many(tiny, r, 12, res, errs), 0);
	for (int i = 0; i < 12; i++) {
		assert_int_equal(errs[i].code, 0);
		if (i < 6) {
			int ok = 0;
			assert_true(json_is_string(res[i].value));
			for (int k = 0; k < 4; k++)
				ok |= !strcmp(json_string_value(res[i].value), labels[k]);
			assert_true(ok);
		} else {
			assert_true(json_is_array(res[i].value));
			assert_true(json_array_size(res[i].value) >= 1 && json_array_size(res[i].value) <= 4);
			for (size_t j = 0; j < json_array_size(res[i].value); j++) {
				int ok = 0;
				for (int k = 0; k < 4; k++)
					ok |= !strcmp(json_string_value(json_array_get(res[i].value, j)), labels[k]);
				assert_true(ok);
			}
		}
		llm_result_release(&res[i]);
	}
}

/* A result's score is in (0, 1] and covers its completion tokens. */
static void check_score(const struct llm_result *res)
{
	double sc = llm_result_score(res);
	assert_true(res->completion_tokens > 0);
	assert_int_equal(res->n_logprob, res->completion_tokens);
	assert_true(res->logprob <= 0);
	assert_true(sc > 0 && sc <= 1);
	assert_true(fabs(sc - exp(res->logprob / res->n_logprob)) < 1e-12);
}

static void logprob_scores(void **state)
{
	const char *labels[] = { "positive", "negative", "neutral" };
	struct llm_request r = req("Tell me about the sea", 5);
	struct llm_result a, b;
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
	memset(&a, 0, sizeof(a));
	assert_true(llm_result_score(&a) == -1);  /* none given */
	need_model();

	/* greedy: the same answer, the same log-probability */
	r.opt.temperature = 0;
	r.opt.max_tokens = 16;
	assert_int_equal(llm_generate(tiny, &r, &a, &e), 0);
	assert_int_equal(llm_generate(tiny, &r, &b, &e), 0);
	check_score(&a);
	assert_string_equal(a.text, b.text);
	assert_int_equal(a.n_logprob, b.n_logprob);
	assert_true(fabs(a.logprob - b.logprob) < 1e-9);
	/* each greedy token is the likeliest of the 32000: p >= 1/32000 */
	assert_true(llm_result_score(&a) >= 1.0 / 32000);
	llm_result_release(&a);
	llm_result_release(&b);

	/* sampled, with ignore_eos's bias: scored all the same */
	r.opt.temperature = 1.2;
	r.ignore_eos = 1;
	assert_int_equal(llm_generate(tiny, &r, &a, &e), 0);
	check_score(&a);
	assert_int_equal(a.completion_tokens, 16);
	llm_result_release(&a);

	/* constrained: scored under the raw distribution, every token counted */
	r = req("Classify: the food was cold.", 3);
	r.constraint = LLM_LABEL;
	r.labels = labels;
	r.n_labels = 3;
	assert_int_equal(llm_generate(tiny, &r, &a, &e), 0);
	check_score(&a);
	llm_result_release(&a);

	/* cut by max_tokens 0: no token, no score */
	r = req("Hello", 1);
	r.opt.max_tokens = 0;
	assert_int_equal(llm_generate(tiny, &r, &a, &e), 0);
	assert_int_equal(a.n_logprob, 0);
	assert_true(a.logprob == 0 && llm_result_score(&a) == -1);
	llm_result_release(&a);
}

static void schema_always_parses(void **state)
{
	json_error_t je;
	json_t *s = json_loads("{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":12},"
			       "\"age\":{\"type\":\"integer\"},\"score\":{\"type\":\"number\"},\"ok\":{\"type\":\"boolean\"},"
			       "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"enum\":[\"a\",\"b\"]},\"maxItems\":3},"
			       "\"kind\":{\"enum\":[\"x\",1,null]}},\"required\":[\"name\",\"age\"]}", 0, &je);
	struct llm_request r[6];
	struct llm_result res[6];
	struct moat_err errs[6], e = MOAT_ERR_INIT;
	(void)state;
	need_model();
	assert_non_null(s);
	for (int i = 0; i < 6; i++) {
		r[i] = req("Describe a person as JSON.", 100 + i);
		r[i].constraint = LLM_SCHEMA;
		r[i].schema = s;
		r[i].opt.temperature = 1.0;
	}
	assert_int_equal(llm_generate_many(tiny, r, 6, res, errs), 0);
	for (int i = 0; i < 6; i++) {
		json_t *again = json_loads(res[i].text, 0, &je);
		assert_non_null(again);                     /* the text itself parses */
		assert_int_equal(llm_schema_validate(s, again, &e), 0);
		assert_true(json_is_integer(json_object_get(res[i].value, "age")));
		json_decref(again);
		llm_result_release(&res[i]);
	}
	json_decref(s);
}

static void batched_matches_alone(void **state)
{
	struct llm_request r[5];
	struct llm_result res[5], one;
	struct moat_err errs[5], e = MOAT_ERR_INIT;
	const char *prompts[] = { "One", "Two two", "Three three three", "Four", "Five five" };
	(void)state;
	need_model();
	for (int i = 0; i < 5; i++) {
		r[i] = req(prompts[i], 1);
		r[i].opt.temperature = 0;
		r[i].opt.max_tokens = 10 + i;
	}
	/* 5 requests through 3 sequences: slots are reused as answers finish */
	assert_int_equal(llm_generate_many(tiny, r, 5, res, errs), 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(llm_generate(tiny, &r[i], &one, &e), 0);
		assert_string_equal(res[i].text, one.text);  /* greedy: the same as decoded alone */
		assert_int_equal(res[i].completion_tokens, one.completion_tokens);
		llm_result_release(&one);
		llm_result_release(&res[i]);
	}
}

struct canceller {
	int pieces;
	int at;
};

static int cancel_cb(void *ud, const char *p, size_t n)
{
	struct canceller *c = ud;
	(void)p, (void)n;
	return ++c->pieces >= c->at;
}

static void cancellation(void **state)
{
	struct llm_request r[2];
	struct llm_result res[2];
	struct moat_err errs[2];
	struct canceller c = { 0, 3 };
	volatile sig_atomic_t flag = 1;
	(void)state;
	need_model();
	r[0] = req("Go on and on", 3);
	r[0].opt.max_tokens = 200;
	r[0].on_token = cancel_cb;
	r[0].ud = &c;
	r[1] = req("Another", 4);
	r[1].opt.max_tokens = 20;
	assert_int_equal(llm_generate_many(tiny, r, 2, res, errs), 1);
	assert_int_equal(errs[0].code, MOAT_EINTERRUPTED);
	assert_string_equal(res[0].finish, "cancelled");
	assert_int_equal(c.pieces, 3);
	assert_int_equal(errs[1].code, 0);   /* the other request went on */
	llm_result_release(&res[0]);
	llm_result_release(&res[1]);

	r[0] = req("Never starts", 5);
	r[0].cancel = &flag;
	assert_int_equal(llm_generate(tiny, &r[0], &res[0], &errs[0]), -1);
	assert_int_equal(errs[0].code, MOAT_EINTERRUPTED);
	llm_result_release(&res[0]);
}

static void embeddings_and_tokens(void **state)
{
	const char *texts[] = { "hello", "a b c", "hello" };
	struct llm_embedding em;
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
	need_model();
	assert_int_equal(llm_embed(tiny, texts, 3, &em, &e), 0);
	assert_int_equal(em.n, 3);
	assert_int_equal(em.dim, 8);
	for (size_t i = 0; i < 3; i++) {
		double sum = 0;
		for (size_t k = 0; k < em.dim; k++)
			sum += em.data[i * em.dim + k] * em.data[i * em.dim + k];
		assert_true(fabs(sum - 1.0) < 1e-4);
	}
	assert_memory_equal(em.data, em.data + 2 * em.dim, em.dim * sizeof(float));
	assert_memory_not_equal(em.data, em.data + em.dim, em.dim * sizeof(float));
	assert_string_equal(json_string_value(json_object_get(em.provenance, "backend")), "gguf");
	llm_embedding_release(&em);

	/* the same ids llama-server's /tokenize gives: [22172, 3186] */
	assert_int_equal(llm_count_tokens(tiny, "hello world", &e), 2);
	assert_int_equal(llm_count_tokens(tiny, "", &e), 0);
}

static void bench_runs(void **state)
{
	struct llm_bench_opts o = { 32, 8, 2, 1 };
	struct llm_bench_result b;
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
	need_model();
	assert_int_equal(llm_bench(tiny, &o, &b, &e), 0);
	assert_true(b.pp_tps > 0);
	assert_true(b.tg_tps > 0);
	assert_int_equal(b.parallel, 2);
}

static void store_model(void **state)
{
	char *fixtures = tu_testdata("fixtures/ollama"), *dir, cmd[8192];
	struct llm_config cfg = llm_config_default();
	struct moat_err e = MOAT_ERR_INIT;
	struct llm *m;
	struct llm_request r = req("Hi", 1);
	struct llm_result res;
	json_t *imp, *info;
	(void)state;
	need_model();
	if (!fixtures)
		return;
	dir = tu_tmpdir();
	/* a store: the Ollama fixtures plus the tiny model imported as tiny:latest */
	snprintf(cmd, sizeof(cmd), "cp -r '%s/manifests' '%s/blobs' '%s/' && chmod -R u+w '%s'", fixtures, fixtures,
		 dir, dir);
	assert_int_equal(system(cmd), 0);
	imp = models_import(dir, model_path, "tiny:latest", &e);
	if (!imp)
		fail_msg("import: %s", e.msg);
	json_decref(imp);
	cfg.models_dir = dir;
	cfg.n_ctx = 256;
	m = llm_open("store:tiny", &cfg, &e);
	if (!m)
		fail_msg("store:tiny: %s", e.msg);
	info = llm_info(m);
	assert_string_equal(json_string_value(json_object_get(info, "backend")), "store");
	{
		/* the blob's name is its digest: the same as the file's */
		json_t *ti = llm_info(tiny);
		assert_string_equal(json_string_value(json_object_get(info, "digest")),
				    json_string_value(json_object_get(ti, "digest")));
		json_decref(ti);
	}
	json_decref(info);
	r.opt.max_tokens = 5;
	assert_int_equal(llm_generate(m, &r, &res, &e), 0);
	assert_true(res.completion_tokens >= 1);
	llm_result_release(&res);
	llm_free(m);

	/* a fixture whose weights never came over: a clear error */
	assert_null(llm_open("store:qwen2:0.5b", &cfg, &e));
	assert_non_null(strstr(e.msg, "qwen2:0.5b"));
	assert_non_null(strstr(e.msg, "missing"));
	tu_rmtree(dir);
	free(dir);
	free(fixtures);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(info_and_provenance),
		cmocka_unit_test(seeds_and_limits),
		cmocka_unit_test(labels_always_valid),
		cmocka_unit_test(schema_always_parses),
		cmocka_unit_test(logprob_scores),
		cmocka_unit_test(batched_matches_alone),
		cmocka_unit_test(cancellation),
		cmocka_unit_test(embeddings_and_tokens),
		cmocka_unit_test(bench_runs),
		cmocka_unit_test(store_model),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

#else

static void refuses_without_llama(void **state)
{
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
	(void)model_path, (void)tiny, (void)cache_dir;
	assert_null(llm_open("gguf:/x.gguf", NULL, &e));
	assert_int_equal(e.code, MOAT_EUNSUPPORTED);
	assert_non_null(strstr(e.msg, "MOAT_WITH_LLAMA=OFF"));
	assert_null(llm_open("store:mistral:7b", NULL, &e));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(refuses_without_llama),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
