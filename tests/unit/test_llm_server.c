/*
 * test_llm_server.c - the model layer against servers on loopback:
 *
 * - a real llama-server built from the pinned llama.cpp, serving the tiny
 *   random-weights model: streaming with the tokens' log-probabilities,
 *   grammar-constrained labels and schemas, embeddings, /tokenize, several requests in flight, proxy variables that
 *   must be ignored, cancellation, and the server killed mid-answer;
 * - tests/fake_ollama.py, a small server that replays answers in Ollama's
 *   documented API shapes (Ollama itself cannot be installed here): retries
 *   when it is busy, OLLAMA_NUM_PARALLEL requests in flight, a stream cut
 *   short, `format` for constrained output, embeddings, the weights' digest
 *   from /api/show, and token counts through the GGUF in the local store;
 *   its OpenAI-compatible side for the tokens' log-probabilities, also
 *   from a server that refuses to give them.
 *
 * Each server is started on a free loopback port and killed at the end.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"
#include "llm/grammar.h"
#include "llm/llm.h"
#include "models/models.h"
#ifdef MOAT_WITH_LLAMA
#include <llama.h>
#endif

static char *tmp;
static char *tiny_path;

/* Waits are bounded by deadlines on the monotonic clock, generous because
 * the machine may be loaded (2 cores, sanitizers), and end early when the
 * process waited for has died. */
#define WAIT_S 120.0

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static pid_t spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

static int exited(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == pid;
}

/* ---- llama-server ---- */

static char *llama_server_path(void)
{
	const char *d = getenv("MOAT_LLAMA_DIR");
	char p[4096];
	if (d && *d) {
		snprintf(p, sizeof(p), "%s/bin/llama-server", d);
		if (access(p, X_OK) == 0)
			return strdup(p);
	}
#ifdef MOAT_WITH_LLAMA
	{
		/* beside the libllama.so moat is linked with */
		Dl_info info;
		if (dladdr((void *)llama_backend_init, &info) && info.dli_fname) {
			char *dir = fs_dirname(info.dli_fname);
			snprintf(p, sizeof(p), "%s/../bin/llama-server", dir);
			free(dir);
			if (access(p, X_OK) == 0)
				return strdup(p);
		}
	}
#endif
	return NULL;
}

struct server {
	pid_t pid;
	int port;
	char uri[128];
};

static struct server ls;

/* The port llama-server reports once it has bound port 0 and loaded the
 * model ("listening on http://127.0.0.1:PORT"), or 0. */
static int reported_port(const char *log)
{
	static const char mark[] = "listening on http://127.0.0.1:";
	struct buf b = BUF_INIT;
	const char *p;
	int port = 0;
	if (fs_read_file(log, &b, 0, NULL) == 0 && (p = strstr(buf_str(&b), mark)))
		port = (int)strtol(p + sizeof(mark) - 1, NULL, 10);
	buf_release(&b);
	return port;
}

/* Starts llama-server on port 0 (the kernel picks a free port and the server
 * says which: no port is picked here and bound later by someone else) and
 * waits until it answers. */
static int start_llama_server(struct server *s)
{
	char *bin = llama_server_path(), log[4200];
	struct moat_err e = MOAT_ERR_INIT;
	double end = mono_s() + WAIT_S;
	int dead = 0;
	if (!bin)
		return -1;
	snprintf(log, sizeof(log), "%s/llama-server.log", tmp);
	unlink(log);
	{
		char *argv[] = { bin, "-m", tiny_path, "--host", "127.0.0.1", "--port", "0", "-c", "8192", "-np", "2",
				 "-t", "1", "--embeddings", "--pooling", "mean", "--no-webui", NULL };
		s->pid = spawn(argv, log);
	}
	s->port = 0;
	while (!s->port && !(dead = exited(s->pid)) && mono_s() < end) {
		s->port = reported_port(log);
		if (!s->port)
			sleep_ms(50);
	}
	if (s->port) {
		snprintf(s->uri, sizeof(s->uri), "openai://127.0.0.1:%d/v1/", s->port);
		while (!(dead = exited(s->pid)) && mono_s() < end) {
			struct llm *m = llm_open(s->uri, NULL, &e);
			if (m) {
				llm_free(m);
				free(bin);
				return 0;
			}
			sleep_ms(50);
		}
	}
	if (!dead)  /* a reaped process id may be someone else's by now */
		stop(s->pid);
	s->pid = 0;
	free(bin);
	fail_msg("llama-server did not start (see %s)", log);
	return -1;
}

static struct llm *open_ls(int parallel)
{
	struct llm_config cfg = llm_config_default();
	struct moat_err e = MOAT_ERR_INIT;
	struct llm *m;
	cfg.parallel = parallel;
	m = llm_open(ls.uri, &cfg, &e);
	if (!m)
		fail_msg("%s: %s", ls.uri, e.msg);
	return m;
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

static void need_llama_server(void)
{
	if (!tiny_path)
		skip();
	if (!ls.pid) {
#ifdef MOAT_WITH_LLAMA
		if (start_llama_server(&ls) < 0)
			fail_msg("llama-server not found beside libllama (set MOAT_LLAMA_DIR)");
#else
		skip();
#endif
	}
}

struct pieces {
	struct buf text;
	int n;
	int cancel_at;
	pid_t kill_pid;
};

static int on_piece(void *ud, const char *p, size_t n)
{
	struct pieces *c = ud;
	buf_add(&c->text, p, n);
	c->n++;
	if (c->kill_pid > 0 && c->n == 1)
		kill(c->kill_pid, SIGKILL);
	return c->cancel_at && c->n >= c->cancel_at;
}

static void ls_generation(void **state)
{
	struct llm *m;
	struct llm_request r = req("Tell me a story", 11);
	struct llm_result res;
	struct moat_err e = MOAT_ERR_INIT;
	struct pieces c;
	json_t *info;
	(void)state;
	need_llama_server();
	m = open_ls(0);
	info = llm_info(m);
	assert_string_equal(json_string_value(json_object_get(json_object_get(info, "server"), "kind")), "llama.cpp");
	assert_int_equal(json_integer_value(json_object_get(info, "parallel")), 2);  /* its slots */
	assert_non_null(json_string_value(json_object_get(info, "digest")));        /* the file it serves */
	json_decref(info);
	memset(&c, 0, sizeof(c));
	r.opt.max_tokens = 16;
	r.on_token = on_piece;
	r.ud = &c;
	assert_int_equal(llm_generate(m, &r, &res, &e), 0);
	assert_true(c.n >= 1);
	assert_string_equal(buf_str(&c.text), res.text);  /* streamed = whole answer */
	assert_int_equal(res.completion_tokens, 16);
	assert_string_equal(res.finish, "length");
	assert_true(res.prompt_tokens > 3);
	assert_true(res.gen_s > 0);                        /* the server's own timings */
	assert_non_null(json_string_value(json_object_get(res.provenance, "template_sha256")));
	/* the tokens' log-probabilities, from the stream (a token whose text
	 * llama-server holds back comes without one) */
	assert_true(res.n_logprob >= 1 && res.n_logprob <= res.completion_tokens);
	assert_true(llm_result_score(&res) > 0 && llm_result_score(&res) <= 1);
	llm_result_release(&res);
	buf_release(&c.text);

	/* a raw completion */
	r = req("Once upon a time", 2);
	r.raw = 1;
	r.opt.max_tokens = 4;
	assert_int_equal(llm_generate(m, &r, &res, &e), 0);
	assert_int_equal(res.completion_tokens, 4);
	assert_true(res.n_logprob >= 1 && res.n_logprob <= 4);
	assert_true(llm_result_score(&res) > 0 && llm_result_score(&res) <= 1);
	llm_result_release(&res);
	llm_free(m);
}

static void ls_constrained(void **state)
{
	const char *labels[] = { "spam", "ham", "not sure" };
	json_error_t je;
	json_t *schema;
	struct llm_request r[10];
	struct llm_result res[10];
	struct moat_err errs[10], e = MOAT_ERR_INIT;
	struct llm *m;
	(void)state;
	need_llama_server();  /* may skip: nothing allocated before it */
	schema = json_loads("{\"type\":\"object\",\"properties\":{\"title\":{\"type\":\"string\",\"maxLength\":10},"
			    "\"year\":{\"type\":\"integer\"},\"genres\":{\"type\":\"array\",\"items\":"
			    "{\"enum\":[\"a\",\"b\",\"c\"]},\"minItems\":1,\"maxItems\":2}},\"required\":[\"title\"]}",
			    0, &je);
	m = open_ls(0);
	for (int i = 0; i < 10; i++) {
		r[i] = req("Is this spam?", i);
		r[i].opt.temperature = 1.2;
		if (i < 4) {
			r[i].constraint = LLM_LABEL;
		} else if (i < 7) {
			r[i].constraint = LLM_LABELS;
		} else {
			r[i].constraint = LLM_SCHEMA;
			r[i].schema = schema;
		}
		r[i].labels = labels;
		r[i].n_labels = 3;
	}
	assert_int_equal(llm_generate_many(m, r, 10, res, errs), 0);
	for (int i = 0; i < 10; i++) {
		json_t *again = json_loads(res[i].text, JSON_DECODE_ANY, &je);
		assert_non_null(again);
		if (i < 4) {
			const char *v = json_string_value(res[i].value);
			assert_non_null(v);
			assert_true(!strcmp(v, "spam") || !strcmp(v, "ham") || !strcmp(v, "not sure"));
		} else if (i >= 7) {
			assert_int_equal(llm_schema_validate(schema, again, &e), 0);
		}
		json_decref(again);
		llm_result_release(&res[i]);
	}
	json_decref(schema);
	llm_free(m);
}

static void ls_embeddings_tokens_parallel(void **state)
{
	const char *texts[] = { "hello", "a b c" };
	struct llm_embedding em;
	struct llm_request r[6];
	struct llm_result res[6];
	struct moat_err errs[6], e = MOAT_ERR_INIT;
	struct llm *m;
	(void)state;
	need_llama_server();
	m = open_ls(0);
	assert_int_equal(llm_embed(m, texts, 2, &em, &e), 0);
	assert_int_equal(em.n, 2);
	assert_int_equal(em.dim, 8);
	llm_embedding_release(&em);
	assert_int_equal(llm_count_tokens(m, "hello world", &e), 2);
	for (int i = 0; i < 6; i++) {
		r[i] = req("Count", 20 + i);
		r[i].opt.max_tokens = 5;
	}
	assert_int_equal(llm_generate_many(m, r, 6, res, errs), 0);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(res[i].completion_tokens, 5);
		llm_result_release(&res[i]);
	}
	llm_free(m);
}

static void ls_ignores_proxies(void **state)
{
	static const char *vars[] = { "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "ALL_PROXY",
				      "all_proxy" };
	struct llm *m;
	struct llm_request r = req("x", 1);
	struct llm_result res;
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
	need_llama_server();
	/* a proxy that refuses everything: used, it would fail every request */
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		setenv(vars[i], "http://127.0.0.1:9", 1);
	unsetenv("NO_PROXY");
	unsetenv("no_proxy");
	m = open_ls(0);
	r.opt.max_tokens = 3;
	assert_int_equal(llm_generate(m, &r, &res, &e), 0);
	llm_result_release(&res);
	llm_free(m);
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

static void ls_cancel_and_kill(void **state)
{
	struct llm *m;
	struct llm_request r = req("Ramble", 9);
	struct llm_result res;
	struct moat_err e = MOAT_ERR_INIT;
	struct pieces c;
	int attempt;
	(void)state;
	need_llama_server();
	m = open_ls(0);
	memset(&c, 0, sizeof(c));
	c.cancel_at = 2;
	r.opt.max_tokens = 4000;  /* seconds of work for the server (-c 8192, 2 slots) */
	r.ignore_eos = 1;
	r.on_token = on_piece;
	r.ud = &c;
	assert_int_equal(llm_generate(m, &r, &res, &e), -1);
	assert_int_equal(e.code, MOAT_EINTERRUPTED);
	assert_string_equal(res.finish, "cancelled");
	llm_result_release(&res);
	buf_release(&c.text);
	llm_free(m);

	/* the server dies while it answers: an error, not a hang.  It is killed
	 * when the first piece arrives; should this process not have run for the
	 * whole time the server took to write the rest (a loaded machine), the
	 * complete answer was already here and succeeding was right, but that
	 * is not the case under test: then again, with a fresh server. */
	for (attempt = 0; attempt < 3; attempt++) {
		int rc;
		need_llama_server();
		m = open_ls(0);
		memset(&c, 0, sizeof(c));
		c.kill_pid = ls.pid;
		rc = llm_generate(m, &r, &res, &e);
		llm_free(m);
		waitpid(ls.pid, NULL, 0);
		ls.pid = 0;
		if (rc == 0) {
			/* never a cut answer passed off as whole */
			assert_int_equal(res.completion_tokens, r.opt.max_tokens);
			llm_result_release(&res);
			buf_release(&c.text);
			continue;
		}
		assert_int_equal(e.code, MOAT_ENET);
		assert_true(strstr(e.msg, "mid-answer") || strstr(e.msg, "before the answer was complete"));
		assert_non_null(strstr(e.msg, "the server at 127.0.0.1:"));
		llm_result_release(&res);
		buf_release(&c.text);
		break;
	}
	assert_true(attempt < 3);
}

/* ---- the fake Ollama ---- */

struct fake {
	pid_t pid;
	int port;
	char log[4200];
	char base[64];
};

static void start_fake(struct fake *f, const char *name, const char *scenario, const char *store)
{
	char scen[4200], portfile[4200], out[4200], *fake;
	const char *src = getenv("MOAT_SOURCE_DIR");
	struct buf b = BUF_INIT;
	if (!src)
		src = ".";
	fake = fs_join(src, "tests/fake_ollama.py");
	snprintf(scen, sizeof(scen), "%s/%s.json", tmp, name);
	snprintf(portfile, sizeof(portfile), "%s/%s.port", tmp, name);
	snprintf(f->log, sizeof(f->log), "%s/%s.log", tmp, name);
	snprintf(out, sizeof(out), "%s/%s.out", tmp, name);
	tu_write(scen, scenario, strlen(scenario));
	{
		char *argv[] = { "python3", fake, "--port", "0", "--port-file", portfile, "--scenario", scen,
				 "--log", f->log, store ? "--store" : NULL, (char *)store, NULL };
		f->pid = spawn(argv, out);
	}
	{
		double end = mono_s() + WAIT_S;
		while (!fs_exists(portfile) && !exited(f->pid) && mono_s() < end)
			sleep_ms(25);
	}
	if (fs_read_file(portfile, &b, 64, NULL) != 0)
		fail_msg("the fake Ollama did not start (see %s)", out);
	f->port = (int)strtol(buf_str(&b), NULL, 10);
	snprintf(f->base, sizeof(f->base), "ollama://127.0.0.1:%d", f->port);
	buf_release(&b);
	free(fake);
}

static int count_in_log(const char *log, const char *needle)
{
	struct buf b = BUF_INIT;
	int n = 0;
	const char *p;
	if (fs_read_file(log, &b, 0, NULL) != 0)
		return -1;
	for (p = buf_str(&b); (p = strstr(p, needle)); p++)
		n++;
	buf_release(&b);
	return n;
}

static struct llm *open_fake(const struct fake *f, const char *model, const struct llm_config *cfg)
{
	char uri[256];
	struct moat_err e = MOAT_ERR_INIT;
	struct llm *m;
	snprintf(uri, sizeof(uri), "%s/%s", f->base, model);
	m = llm_open(uri, cfg, &e);
	if (!m)
		fail_msg("%s: %s", uri, e.msg);
	return m;
}

static void ollama_busy_retry_and_errors(void **state)
{
	struct fake f;
	struct llm_config cfg = llm_config_default();
	struct llm *m;
	struct llm_request r = req("hi", 1);
	struct llm_result res;
	struct moat_err e = MOAT_ERR_INIT;
	char uri[128];
	(void)state;
	start_fake(&f, "busy", "{\"busy\":2,\"models\":{\"m:7b\":{}}}", NULL);
	cfg.backoff_ms = 20;
	m = open_fake(&f, "m:7b", &cfg);
	assert_int_equal(llm_generate(m, &r, &res, &e), 0);
	assert_string_equal(res.text, "ready set go and more words here");
	assert_int_equal(count_in_log(f.log, "\"path\": \"/api/chat\""), 3);  /* 503, 503, then the answer */
	llm_result_release(&res);
	llm_free(m);

	snprintf(uri, sizeof(uri), "%s/absent:1b", f.base);
	assert_null(llm_open(uri, &cfg, &e));
	assert_int_equal(e.code, MOAT_ENOTFOUND);
	assert_non_null(strstr(e.msg, "model 'absent:1b' is not on Ollama at 127.0.0.1:"));
	stop(f.pid);
}

static void ollama_parallel_and_cut_stream(void **state)
{
	struct fake f, g;
	struct llm *m;
	struct llm_request r[5];
	struct llm_result res[5];
	struct moat_err errs[5], e = MOAT_ERR_INIT;
	struct buf b = BUF_INIT;
	(void)state;
	/* the fake holds each answer until two requests have been in flight at
	 * once (then 0.3 s each, time for a third to show if one were sent) */
	start_fake(&f, "par", "{\"delay\":0.3,\"hold_until_inflight\":2,\"models\":{\"m:7b\":{}}}", NULL);
	setenv("OLLAMA_NUM_PARALLEL", "2", 1);
	m = open_fake(&f, "m:7b", NULL);
	unsetenv("OLLAMA_NUM_PARALLEL");
	for (int i = 0; i < 5; i++)
		r[i] = req("hi", i);
	assert_int_equal(llm_generate_many(m, r, 5, res, errs), 0);
	for (int i = 0; i < 5; i++)
		llm_result_release(&res[i]);
	{
		char p[4300];
		snprintf(p, sizeof(p), "%s.inflight", f.log);
		assert_int_equal(fs_read_file(p, &b, 64, NULL), 0);
		assert_int_equal(strtol(buf_str(&b), NULL, 10), 2);  /* never more than OLLAMA_NUM_PARALLEL */
		buf_release(&b);
	}
	llm_free(m);
	stop(f.pid);

	start_fake(&g, "cut", "{\"die_after_lines\":2,\"models\":{\"m:7b\":{}}}", NULL);
	m = open_fake(&g, "m:7b", NULL);
	assert_int_equal(llm_generate(m, &r[0], &res[0], &e), -1);
	assert_int_equal(e.code, MOAT_ENET);
	assert_non_null(strstr(e.msg, "closed the stream before the answer was complete"));
	assert_string_equal(res[0].text, "ready set");  /* what came before */
	llm_result_release(&res[0]);
	llm_free(m);
	stop(g.pid);
}

static void ollama_format_embed_digest_tokens(void **state)
{
	const char *labels[] = { "red", "green" };
	struct fake f;
	struct llm_config cfg = llm_config_default();
	struct llm *m;
	struct llm_request r = req("colour?", 3);
	struct llm_result res;
	struct llm_embedding em;
	struct moat_err e = MOAT_ERR_INIT;
	const char *texts[] = { "x", "y", "x" };
	char store[4200], *blob;
	json_t *imp;
	(void)state;
	if (!tiny_path)
		skip();
	/* a real store holding the tiny model, served by the fake */
	snprintf(store, sizeof(store), "%s/store", tmp);
	imp = models_import(store, tiny_path, "tiny:latest", &e);
	if (!imp)
		fail_msg("import: %s", e.msg);
	json_decref(imp);
	start_fake(&f, "fmt", "{\"models\":{}}", store);
	cfg.models_dir = store;
	m = open_fake(&f, "tiny", &cfg);

	r.constraint = LLM_LABEL;
	r.labels = labels;
	r.n_labels = 2;
	assert_int_equal(llm_generate(m, &r, &res, &e), 0);
	assert_true(!strcmp(json_string_value(res.value), "red") || !strcmp(json_string_value(res.value), "green"));
	assert_int_equal(count_in_log(f.log, "\"format\": {\"type\": \"string\", \"enum\": [\"red\", \"green\"]}"), 1);
	assert_int_equal(count_in_log(f.log, "\"seed\": 3"), 1);
	blob = models_resolve_gguf(store, "tiny", &e);
	assert_non_null(blob);
	{
		/* the weights' digest, read from /api/show's modelfile */
		const char *d = json_string_value(json_object_get(res.provenance, "model_digest"));
		assert_non_null(d);
		assert_string_equal(d + 7, strrchr(blob, '-') + 1);
	}
	free(blob);
	llm_result_release(&res);

	assert_int_equal(llm_embed(m, texts, 3, &em, &e), 0);
	assert_int_equal(em.dim, 8);
	assert_memory_equal(em.data, em.data + 16, 8 * sizeof(float));
	llm_embedding_release(&em);

#ifdef MOAT_WITH_LLAMA
	/* Ollama has no tokenizer endpoint: the GGUF from the store has one */
	assert_int_equal(llm_count_tokens(m, "hello world", &e), 2);
#else
	assert_int_equal(llm_count_tokens(m, "hello world", &e), -1);
	assert_int_equal(e.code, MOAT_EUNSUPPORTED);
#endif
	llm_free(m);
	stop(f.pid);
}

/* The tokens' log-probabilities from Ollama's API and from an
 * OpenAI-compatible server that is not llama-server; a server that refuses
 * the field answers all the same, and is not asked again. */
static void logprobs_from_servers(void **state)
{
	struct fake f, g;
	struct llm_config cfg = llm_config_default();
	struct llm *m;
	struct llm_request r = req("hi", 1);
	struct llm_result res;
	struct moat_err e = MOAT_ERR_INIT;
	char uri[128];
	(void)state;
	start_fake(&f, "lp", "{\"models\":{\"m:7b\":{}}}", NULL);
	m = open_fake(&f, "m:7b", NULL);  /* Ollama's native API */
	assert_int_equal(llm_generate(m, &r, &res, &e), 0);
	assert_int_equal(res.n_logprob, 7);  /* one a piece, -0.5 each */
	assert_true(fabs(res.logprob + 3.5) < 1e-9);
	assert_true(fabs(llm_result_score(&res) - exp(-0.5)) < 1e-9);
	llm_result_release(&res);
	llm_free(m);

	snprintf(uri, sizeof(uri), "openai://127.0.0.1:%d/v1/m:7b", f.port);
	m = llm_open(uri, NULL, &e);
	if (!m)
		fail_msg("%s: %s", uri, e.msg);
	r.opt.max_tokens = 4;
	assert_int_equal(llm_generate(m, &r, &res, &e), 0);
	assert_string_equal(res.text, "ready set go and");
	assert_int_equal(res.n_logprob, 4);
	assert_true(fabs(llm_result_score(&res) - exp(-0.5)) < 1e-9);
	llm_result_release(&res);
	llm_free(m);
	assert_int_equal(count_in_log(f.log, "\"logprobs\": true"), 2);

	/* the user turned it off: not asked, no score */
	cfg.no_logprobs = 1;
	m = llm_open(uri, &cfg, &e);
	assert_non_null(m);
	assert_int_equal(llm_generate(m, &r, &res, &e), 0);
	assert_int_equal(res.n_logprob, 0);
	assert_true(res.logprob == 0 && llm_result_score(&res) == -1);
	llm_result_release(&res);
	llm_free(m);
	assert_int_equal(count_in_log(f.log, "\"logprobs\": true"), 2);
	stop(f.pid);

	/* a server that refuses the field: asked again without it, once */
	start_fake(&g, "lprej", "{\"reject_fields\":[\"logprobs\"],\"models\":{\"m:7b\":{}}}", NULL);
	snprintf(uri, sizeof(uri), "openai://127.0.0.1:%d/v1/m:7b", g.port);
	m = llm_open(uri, NULL, &e);
	if (!m)
		fail_msg("%s: %s", uri, e.msg);
	assert_int_equal(llm_generate(m, &r, &res, &e), 0);
	assert_string_equal(res.text, "ready set go and");
	assert_int_equal(res.n_logprob, 0);
	assert_string_equal(res.finish, "length");
	llm_result_release(&res);
	assert_int_equal(count_in_log(g.log, "\"path\": \"/v1/chat/completions\""), 2);
	/* remembered: the next request goes without it at once */
	assert_int_equal(llm_generate(m, &r, &res, &e), 0);
	assert_string_equal(res.text, "ready set go and");
	llm_result_release(&res);
	assert_int_equal(count_in_log(g.log, "\"path\": \"/v1/chat/completions\""), 3);
	assert_int_equal(count_in_log(g.log, "\"logprobs\": true"), 1);
	llm_free(m);
	stop(g.pid);
}

static int setup(void **state)
{
	const char *base = getenv("MOAT_TESTDATA");
	char p[4096];
	(void)state;
	tmp = tu_tmpdir();
	setenv("MOAT_CACHE", tmp, 1);
	if (!base || !*base)
		base = getenv("MOAT_TESTDATA_DEFAULT");
	snprintf(p, sizeof(p), "%s/models/llama-2-tiny-random.gguf", base && *base ? base : "../shared");
	if (access(p, R_OK) == 0) {
		tiny_path = strdup(p);
	} else if (getenv("CI") && !strcmp(getenv("CI"), "true")) {
		fprintf(stderr, "test data '%s' is missing\n", p);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	stop(ls.pid);
	tu_rmtree(tmp);
	free(tmp);
	free(tiny_path);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ls_generation),
		cmocka_unit_test(ls_constrained),
		cmocka_unit_test(ls_embeddings_tokens_parallel),
		cmocka_unit_test(ls_ignores_proxies),
		cmocka_unit_test(ls_cancel_and_kill),
		cmocka_unit_test(ollama_busy_retry_and_errors),
		cmocka_unit_test(ollama_parallel_and_cut_stream),
		cmocka_unit_test(ollama_format_embed_digest_tokens),
		cmocka_unit_test(logprobs_from_servers),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
