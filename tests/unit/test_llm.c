/*
 * test_llm.c - the model layer without any model: URIs, the loopback rule,
 * OLLAMA_HOST, grammars and the check of constrained answers, the streaming
 * accumulator (stop strings, UTF-8), the parsers of Ollama and OpenAI answers,
 * and the errors for a server that is not there or a host that is not allowed.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/hash.h"
#include "llm/digest.h"
#include "llm/grammar.h"
#include "llm/parse.h"

static void uri_forms(void **state)
{
	struct llm_uri u;
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;

	assert_int_equal(llm_uri_parse("ollama://127.0.0.1:11434/mistral:7b-instruct-v0.3-q4_K_M", &u, &e), 0);
	assert_int_equal(u.backend, LLM_OLLAMA);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 11434);
	assert_string_equal(u.base, "http://127.0.0.1:11434");
	assert_string_equal(u.model, "mistral:7b-instruct-v0.3-q4_K_M");
	llm_uri_release(&u);

	assert_int_equal(llm_uri_parse("ollama://localhost/hf.co/x/y:Q4", &u, &e), 0);
	assert_int_equal(u.port, 11434);
	assert_string_equal(u.model, "hf.co/x/y:Q4");
	llm_uri_release(&u);

	assert_int_equal(llm_uri_parse("openai://127.0.0.1:8080/v1/tiny", &u, &e), 0);
	assert_int_equal(u.backend, LLM_OPENAI);
	assert_string_equal(u.base, "http://127.0.0.1:8080/v1");
	assert_string_equal(u.root, "http://127.0.0.1:8080");
	assert_string_equal(u.model, "tiny");
	llm_uri_release(&u);

	assert_int_equal(llm_uri_parse("openai://[::1]:9000/v1", &u, &e), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.base, "http://[::1]:9000/v1");
	assert_string_equal(u.model, "");
	llm_uri_release(&u);

	assert_int_equal(llm_uri_parse("openai://127.0.0.1:8080/v1/org/model-name", &u, &e), 0);
	assert_string_equal(u.model, "org/model-name");
	llm_uri_release(&u);

	assert_int_equal(llm_uri_parse("gguf:/models/a.gguf", &u, &e), 0);
	assert_int_equal(u.backend, LLM_GGUF);
	assert_string_equal(u.model, "/models/a.gguf");
	llm_uri_release(&u);

	assert_int_equal(llm_uri_parse("store:mistral:7b", &u, &e), 0);
	assert_int_equal(u.backend, LLM_STORE);
	assert_string_equal(u.model, "mistral:7b");
	llm_uri_release(&u);

	setenv("OLLAMA_HOST", "0.0.0.0:5555", 1);
	assert_int_equal(llm_uri_parse("ollama:qwen2:0.5b", &u, &e), 0);
	assert_string_equal(u.base, "http://127.0.0.1:5555");
	assert_string_equal(u.model, "qwen2:0.5b");
	llm_uri_release(&u);
	unsetenv("OLLAMA_HOST");

	assert_int_equal(llm_uri_parse("ollama://127.0.0.1:11434/", &u, &e), -1);
	assert_int_equal(e.code, MOAT_EUSAGE);
	assert_non_null(strstr(e.msg, "no model name"));
	assert_int_equal(llm_uri_parse("ollama://127.0.0.1:99999/x", &u, &e), -1);
	assert_int_equal(llm_uri_parse("ollama://user:pw@127.0.0.1/x", &u, &e), -1);
	assert_int_equal(llm_uri_parse("http://127.0.0.1/x", &u, &e), -1);
	assert_non_null(strstr(e.msg, "unknown model"));
	assert_int_equal(llm_uri_parse("gguf:", &u, &e), -1);
	assert_int_equal(llm_uri_parse("store:", &u, &e), -1);
}

static void ollama_host_env(void **state)
{
	static const struct { const char *env, *want; } cases[] = {
		{ NULL, "http://127.0.0.1:11434" },
		{ "", "http://127.0.0.1:11434" },
		{ "127.0.0.1", "http://127.0.0.1:11434" },
		{ " \"127.0.0.1:1234\" ", "http://127.0.0.1:1234" },
		{ "0.0.0.0", "http://127.0.0.1:11434" },
		{ "[::]:8000", "http://[::1]:8000" },
		{ "http://localhost", "http://localhost:80" },
		{ "https://example.internal", "https://example.internal:443" },
		{ ":7000", "http://127.0.0.1:7000" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *u;
		if (cases[i].env)
			setenv("OLLAMA_HOST", cases[i].env, 1);
		else
			unsetenv("OLLAMA_HOST");
		u = llm_ollama_url_from_env();
		assert_string_equal(u, cases[i].want);
		free(u);
	}
	unsetenv("OLLAMA_HOST");
}

static void loopback_rule(void **state)
{
	const char *allow[] = { "gpu-box.internal", "[fd00::5]" };
	(void)state;
	assert_true(llm_host_allowed("127.0.0.1", NULL, 0));
	assert_true(llm_host_allowed("127.8.9.10", NULL, 0));
	assert_true(llm_host_allowed("::1", NULL, 0));
	assert_true(llm_host_allowed("[::1]", NULL, 0));
	assert_true(llm_host_allowed("::ffff:127.0.0.1", NULL, 0));
	assert_true(llm_host_allowed("LocalHost", NULL, 0));
	assert_false(llm_host_allowed("10.0.0.5", NULL, 0));
	assert_false(llm_host_allowed("0.0.0.0", NULL, 0));
	assert_false(llm_host_allowed("128.0.0.1", NULL, 0));
	assert_false(llm_host_allowed("localhost.evil.com", NULL, 0));
	assert_false(llm_host_allowed("gpu-box.internal", NULL, 0));
	assert_true(llm_host_allowed("GPU-box.internal", allow, 2));
	assert_true(llm_host_allowed("fd00::5", allow, 2));
	assert_false(llm_host_allowed("fd00::6", allow, 2));
}

static void refuses_other_hosts(void **state)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct llm *m;
	(void)state;
	/* refused before any connection is tried */
	m = llm_open("ollama://10.1.2.3:11434/mistral", NULL, &e);
	assert_null(m);
	assert_int_equal(e.code, MOAT_EUSAGE);
	assert_non_null(strstr(e.msg, "refusing host '10.1.2.3'"));
	assert_non_null(strstr(e.msg, "--allow-host"));
	m = llm_open("openai://example.com/v1/x", NULL, &e);
	assert_null(m);
	assert_non_null(strstr(e.msg, "refusing host 'example.com'"));
}

/* A loopback port that refuses connections: bound by the socket returned in
 * *held, which never listens, so nobody else can take the port while the
 * test runs (a port picked, closed and used later could be anyone's by then). */
static int closed_port(int *held)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &l), 0);
	*held = s;
	return ntohs(a.sin_port);
}

static void connection_refused_says_what_to_do(void **state)
{
	struct moat_err e = MOAT_ERR_INIT;
	char uri[128], want[128];
	int held, port = closed_port(&held);
	struct llm *m;
	(void)state;
	snprintf(uri, sizeof(uri), "ollama://127.0.0.1:%d/mistral:7b", port);
	m = llm_open(uri, NULL, &e);
	assert_null(m);
	assert_int_equal(e.code, MOAT_ENET);
	snprintf(want, sizeof(want), "cannot reach Ollama at 127.0.0.1:%d: connection refused (is 'ollama serve' running?)",
		 port);
	assert_string_equal(e.msg, want);
	snprintf(uri, sizeof(uri), "openai://127.0.0.1:%d/v1/x", port);
	assert_null(llm_open(uri, NULL, &e));
	assert_non_null(strstr(e.msg, "connection refused (is the server running?)"));
	close(held);
}

static void embedded_refusal_or_load_error(void **state)
{
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
#ifdef MOAT_WITH_LLAMA
	assert_null(llm_open("gguf:/nonexistent/model.gguf", NULL, &e));
	assert_int_equal(e.code, MOAT_EIO);
	assert_non_null(strstr(e.msg, "/nonexistent/model.gguf"));
#else
	assert_null(llm_open("gguf:/nonexistent/model.gguf", NULL, &e));
	assert_int_equal(e.code, MOAT_EUNSUPPORTED);
	assert_non_null(strstr(e.msg, "built without llama.cpp"));
#endif
}

/* ---- grammars and answers ---- */

static void label_grammar(void **state)
{
	const char *labels[] = { "yes", "no", "say \"maybe\"" };
	struct llm_request r;
	struct buf g = BUF_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	json_t *v;
	(void)state;
	memset(&r, 0, sizeof(r));
	r.constraint = LLM_LABEL;
	r.labels = labels;
	r.n_labels = 3;
	assert_int_equal(llm_grammar(&r, &g, &e), 0);
	assert_non_null(strstr(buf_str(&g), "root ::= (\"\\\"yes\\\"\" | \"\\\"no\\\"\" | \"\\\"say \\\\\\\"maybe\\\\\\\"\\\"\")"));
	buf_release(&g);

	assert_int_equal(llm_check_answer(&r, "\"no\"", &v, &e), 0);
	assert_string_equal(json_string_value(v), "no");
	json_decref(v);
	assert_int_equal(llm_check_answer(&r, "\"say \\\"maybe\\\"\"", &v, &e), 0);
	json_decref(v);
	assert_int_equal(llm_check_answer(&r, "\"perhaps\"", &v, &e), -1);
	assert_int_equal(e.code, MOAT_EPARSE);
	assert_int_equal(llm_check_answer(&r, "no", &v, &e), -1);
	assert_non_null(strstr(e.msg, "not JSON"));

	r.constraint = LLM_LABELS;
	assert_int_equal(llm_check_answer(&r, "[\"no\",\"yes\",\"no\"]", &v, &e), 0);
	assert_int_equal(json_array_size(v), 2);  /* distinct, in order */
	assert_string_equal(json_string_value(json_array_get(v, 0)), "no");
	json_decref(v);
	assert_int_equal(llm_check_answer(&r, "[]", &v, &e), -1);
	assert_int_equal(llm_grammar(&r, &g, &e), 0);
	assert_non_null(strstr(buf_str(&g), "\"[\""));
	buf_release(&g);

	{
		const char *dup[] = { "a", "a" };
		r.labels = dup;
		r.n_labels = 2;
		assert_int_equal(llm_grammar(&r, &g, &e), -1);
		assert_non_null(strstr(e.msg, "given twice"));
		r.n_labels = 0;
		assert_int_equal(llm_grammar(&r, &g, &e), -1);
		buf_release(&g);
	}
}

static void schema_subset(void **state)
{
	json_error_t je;
	json_t *s = json_loads("{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":5},"
			       "\"n\":{\"type\":\"integer\"},\"tags\":{\"type\":\"array\",\"items\":{\"enum\":[\"a\",\"b\"]},"
			       "\"minItems\":1,\"maxItems\":2},\"x\":{\"type\":[\"number\",\"null\"]}},"
			       "\"required\":[\"name\",\"n\"]}", 0, &je);
	struct llm_request r;
	struct buf g = BUF_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	json_t *v, *bad;
	(void)state;
	assert_non_null(s);
	memset(&r, 0, sizeof(r));
	r.constraint = LLM_SCHEMA;
	r.schema = s;
	assert_int_equal(llm_grammar(&r, &g, &e), 0);
	assert_non_null(strstr(buf_str(&g), "root ::= r"));
	assert_non_null(strstr(buf_str(&g), "char{0,5}"));
	assert_non_null(strstr(buf_str(&g), "int ::="));
	assert_null(strstr(buf_str(&g), "\\\\u"));  /* no \u escapes: a lone surrogate would not parse */
	buf_release(&g);

	assert_int_equal(llm_check_answer(&r, "{\"name\":\"ab\",\"n\":3,\"tags\":[\"a\"],\"x\":null}", &v, &e), 0);
	json_decref(v);
	assert_int_equal(llm_check_answer(&r, "{\"name\":\"ab\"}", &v, &e), -1);
	assert_non_null(strstr(e.msg, "lacks 'n'"));
	assert_int_equal(llm_check_answer(&r, "{\"name\":\"abcdef\",\"n\":1}", &v, &e), -1);
	assert_non_null(strstr(e.msg, "length"));
	assert_int_equal(llm_check_answer(&r, "{\"name\":\"a\",\"n\":1.5}", &v, &e), -1);
	assert_int_equal(llm_check_answer(&r, "{\"name\":\"a\",\"n\":1,\"tags\":[\"c\"]}", &v, &e), -1);
	assert_int_equal(llm_check_answer(&r, "{\"name\":\"a\",\"n\":1,\"tags\":[]}", &v, &e), -1);

	bad = json_loads("{\"type\":\"string\",\"pattern\":\"^a\"}", 0, &je);
	assert_int_equal(llm_schema_check(bad, &e), -1);
	assert_int_equal(e.code, MOAT_EUNSUPPORTED);
	assert_non_null(strstr(e.msg, "'pattern'"));
	json_decref(bad);
	bad = json_loads("{\"type\":\"array\"}", 0, &je);
	assert_int_equal(llm_schema_check(bad, &e), -1);
	assert_non_null(strstr(e.msg, "needs items"));
	json_decref(bad);
	bad = json_loads("{\"type\":\"object\",\"properties\":{},\"required\":[\"z\"]}", 0, &je);
	assert_int_equal(llm_schema_check(bad, &e), -1);
	json_decref(bad);
	json_decref(s);
}

/* ---- streaming ---- */

struct collect {
	struct buf got;
	int calls;
	int stop_after;
};

static int collect_piece(void *ud, const char *p, size_t n)
{
	struct collect *c = ud;
	buf_add(&c->got, p, n);
	c->calls++;
	return c->stop_after && c->calls >= c->stop_after;
}

static void stream_stops_and_utf8(void **state)
{
	const char *stops[] = { "END", "\n\n" };
	struct llm_request r;
	struct llm_stream s;
	struct collect c;
	(void)state;
	memset(&r, 0, sizeof(r));
	memset(&c, 0, sizeof(c));
	r.opt = llm_options_default();
	r.opt.stop = stops;
	r.opt.n_stop = 2;
	r.on_token = collect_piece;
	r.ud = &c;
	llm_stream_init(&s, &r);
	assert_int_equal(llm_stream_add(&s, "caf\xc3", 4), 0);
	assert_string_equal(buf_str(&c.got), "caf");        /* half a character held back */
	assert_int_equal(llm_stream_add(&s, "\xa9 E", 3), 0);
	assert_string_equal(buf_str(&c.got), "caf\xc3\xa9 ");  /* "E" may start "END" */
	assert_int_equal(llm_stream_add(&s, "Nx", 2), 0);
	assert_string_equal(buf_str(&c.got), "caf\xc3\xa9 ENx");
	assert_int_equal(llm_stream_add(&s, " E", 2), 0);
	assert_int_equal(llm_stream_add(&s, "ND and more", 11), 1);
	assert_string_equal(buf_str(&s.text), "caf\xc3\xa9 ENx ");
	assert_string_equal(buf_str(&c.got), "caf\xc3\xa9 ENx ");
	assert_string_equal(s.finish, "stop");
	assert_int_equal(llm_stream_add(&s, "ignored", 7), 1);
	llm_stream_release(&s);
	buf_release(&c.got);

	/* a callback that cancels */
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	r.opt.n_stop = 0;
	llm_stream_init(&s, &r);
	assert_int_equal(llm_stream_add(&s, "a", 1), 0);
	assert_int_equal(llm_stream_add(&s, "b", 1), -1);
	assert_true(s.cb_cancel);
	llm_stream_release(&s);
	buf_release(&c.got);

	/* byte tokens that form no character, and an answer cut mid-character
	 * (max_tokens): the text handed over is valid UTF-8 all the same */
	{
		char *t;
		r.on_token = NULL;
		llm_stream_init(&s, &r);
		assert_int_equal(llm_stream_add(&s, "a\x80" "b", 3), 0);
		assert_int_equal(llm_stream_add(&s, "\xe2\x82", 2), 0);
		llm_stream_flush(&s);
		t = llm_stream_take_text(&s);
		assert_string_equal(t, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd");
		free(t);
		llm_stream_release(&s);
		llm_stream_init(&s, &r);
		assert_int_equal(llm_stream_add(&s, "ok \xc3\xa9", 5), 0);
		t = llm_stream_take_text(&s);
		assert_string_equal(t, "ok \xc3\xa9");  /* valid text is untouched */
		free(t);
		llm_stream_release(&s);
	}
}

static void parse_ollama_lines(void **state)
{
	struct llm_request r;
	struct llm_stream s;
	const char *l1 = "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"done\":false}";
	const char *l2 = "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"lo\"},\"done\":false}";
	const char *l3 = "{\"model\":\"m\",\"message\":{\"content\":\"\"},\"done\":true,\"done_reason\":\"length\","
			 "\"total_duration\":2000000000,\"load_duration\":500000000,\"prompt_eval_count\":12,"
			 "\"prompt_eval_duration\":100000000,\"eval_count\":2,\"eval_duration\":40000000}";
	(void)state;
	memset(&r, 0, sizeof(r));
	llm_stream_init(&s, &r);
	assert_int_equal(llm_parse_ollama_line(&s, l1, strlen(l1)), 0);
	assert_int_equal(llm_parse_ollama_line(&s, "", 0), 0);
	assert_int_equal(llm_parse_ollama_line(&s, l2, strlen(l2)), 0);
	assert_false(s.done);
	assert_int_equal(llm_parse_ollama_line(&s, l3, strlen(l3)), 0);
	assert_true(s.done);
	assert_string_equal(buf_str(&s.text), "Hello");
	assert_string_equal(s.finish, "length");
	assert_int_equal(s.prompt_tokens, 12);
	assert_int_equal(s.completion_tokens, 2);
	assert_true(s.gen_s > 0.039 && s.gen_s < 0.041);
	assert_true(s.load_s > 0.49 && s.load_s < 0.51);
	llm_stream_release(&s);

	llm_stream_init(&s, &r);
	{
		const char *el = "{\"error\":\"model requires more system memory\"}";
		assert_int_equal(llm_parse_ollama_line(&s, el, strlen(el)), -1);
	}
	assert_string_equal(s.err.msg, "Ollama: model requires more system memory");
	llm_stream_release(&s);
	llm_stream_init(&s, &r);
	assert_int_equal(llm_parse_ollama_line(&s, "<html>", 6), -1);
	assert_int_equal(s.err.code, MOAT_EPARSE);
	llm_stream_release(&s);
}

static void parse_sse_lines(void **state)
{
	struct llm_request r;
	struct llm_stream s;
	const char *lines[] = {
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null}}]}",
		"",
		": keep-alive",
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ab\"}}]}",
		"data:{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"c\"},\"finish_reason\":\"stop\"}]}",
		"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":29,\"completion_tokens\":2},"
		"\"timings\":{\"prompt_n\":1,\"prompt_ms\":5,\"predicted_n\":2,\"predicted_ms\":10}}",
		"data: [DONE]",
	};
	(void)state;
	memset(&r, 0, sizeof(r));
	llm_stream_init(&s, &r);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_int_equal(llm_parse_sse_line(&s, lines[i], strlen(lines[i])), 0);
	assert_true(s.done);
	assert_string_equal(buf_str(&s.text), "abc");
	assert_string_equal(s.finish, "stop");
	assert_int_equal(s.prompt_tokens, 29);  /* usage wins over the uncached count */
	assert_int_equal(s.completion_tokens, 2);
	assert_true(s.gen_s > 0.0099 && s.gen_s < 0.0101);
	llm_stream_release(&s);

	llm_stream_init(&s, &r);
	{
		const char *err = "data: {\"error\":{\"code\":500,\"message\":\"boom\"}}";
		assert_int_equal(llm_parse_sse_line(&s, err, strlen(err)), -1);
		assert_string_equal(s.err.msg, "the server: boom");
	}
	llm_stream_release(&s);
}

static char *error_of(const char *body)
{
	return llm_parse_error_body(body, strlen(body));
}

/* A server that goes on past max_tokens (issue 14): the client keeps
 * max_pieces pieces, drops the rest, and says the answer is complete
 * ("length"), for both stream formats; pieces after a stop string count too. */
static void stream_cut_at_max_pieces(void **state)
{
	const char *stops[] = { "END" };
	struct llm_request r;
	struct llm_stream s;
	const char *ollama = "{\"message\":{\"content\":\"on \"},\"done\":false}";
	const char *sse = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"on \"}}]}";
	const char *role = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}";
	const char *done = "{\"message\":{\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\"}";
	(void)state;
	memset(&r, 0, sizeof(r));
	r.opt = llm_options_default();

	llm_stream_init(&s, &r);
	assert_int_equal(s.max_pieces, -1);  /* no limit unless the caller sets one */
	s.max_pieces = 3;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(llm_parse_ollama_line(&s, ollama, strlen(ollama)), 0);
		assert_false(s.cut);
	}
	assert_int_equal(llm_parse_ollama_line(&s, ollama, strlen(ollama)), 0);
	assert_true(s.cut);
	assert_false(s.failed);
	assert_string_equal(s.finish, "length");
	assert_string_equal(buf_str(&s.text), "on on on ");
	/* a done line after the cut does not make it "stop" */
	assert_int_equal(llm_parse_ollama_line(&s, done, strlen(done)), 0);
	assert_string_equal(s.finish, "length");
	llm_stream_release(&s);

	/* SSE: a chunk without content is not a piece */
	llm_stream_init(&s, &r);
	s.max_pieces = 2;
	assert_int_equal(llm_parse_sse_line(&s, role, strlen(role)), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(llm_parse_sse_line(&s, sse, strlen(sse)), 0);
	assert_false(s.cut);
	assert_int_equal(llm_parse_sse_line(&s, sse, strlen(sse)), 0);
	assert_true(s.cut);
	assert_string_equal(s.finish, "length");
	assert_string_equal(buf_str(&s.text), "on on ");
	llm_stream_release(&s);

	/* max_tokens 0: not one piece */
	llm_stream_init(&s, &r);
	s.max_pieces = 0;
	assert_int_equal(llm_stream_add(&s, "x", 1), 1);
	assert_true(s.cut);
	assert_int_equal(s.text.len, 0);
	llm_stream_release(&s);

	/* a stop string met, and the server goes on: still cut, finish "stop" */
	r.opt.stop = stops;
	r.opt.n_stop = 1;
	llm_stream_init(&s, &r);
	s.max_pieces = 3;
	assert_int_equal(llm_stream_add(&s, "a END", 5), 1);
	assert_int_equal(llm_stream_add(&s, "b", 1), 1);
	assert_int_equal(llm_stream_add(&s, "c", 1), 1);
	assert_false(s.cut);
	assert_int_equal(llm_stream_add(&s, "d", 1), 1);
	assert_true(s.cut);
	assert_string_equal(s.finish, "stop");
	assert_string_equal(buf_str(&s.text), "a ");
	llm_stream_release(&s);
}

/* The 64 MiB cap: the piece that passes it fails the answer, which says so. */
static void stream_text_cap(void **state)
{
	struct llm_request r;
	struct llm_stream s;
	size_t piece = 1u << 20;
	char *big = malloc(piece);
	(void)state;
	assert_non_null(big);
	memset(big, 'x', piece);
	memset(&r, 0, sizeof(r));
	r.opt = llm_options_default();
	llm_stream_init(&s, &r);
	for (size_t i = 0; i < LLM_TEXT_MAX / piece; i++)
		assert_int_equal(llm_stream_add(&s, big, piece), 0);
	assert_int_equal(llm_stream_add(&s, "x", 1), -1);
	assert_true(s.failed);
	assert_int_equal(s.err.code, MOAT_ELIMIT);
	assert_string_equal(s.err.msg, "the answer is longer than 64 MiB");
	llm_stream_release(&s);
	free(big);
}

static void parse_embeddings_and_errors(void **state)
{
	struct llm_embedding em;
	struct moat_err e = MOAT_ERR_INIT;
	const char *ol = "{\"model\":\"m\",\"embeddings\":[[3,4],[0,2]],\"prompt_eval_count\":5}";
	const char *oa = "{\"data\":[{\"embedding\":[0,5],\"index\":1},{\"embedding\":[1,0],\"index\":0}],"
			 "\"usage\":{\"prompt_tokens\":3}}";
	char *m;
	(void)state;
	memset(&em, 0, sizeof(em));
	assert_int_equal(llm_parse_ollama_embed(ol, strlen(ol), 2, &em, &e), 0);
	assert_int_equal(em.dim, 2);
	assert_true(em.data[0] > 0.599f && em.data[0] < 0.601f);  /* normalised */
	assert_true(em.data[3] > 0.999f);
	assert_int_equal(em.prompt_tokens, 5);
	free(em.data);
	memset(&em, 0, sizeof(em));
	assert_int_equal(llm_parse_ollama_embed(ol, strlen(ol), 3, &em, &e), -1);
	assert_non_null(strstr(e.msg, "2 embeddings for 3 texts"));
	assert_int_equal(llm_parse_openai_embed(oa, strlen(oa), 2, &em, &e), 0);
	assert_true(em.data[0] > 0.999f);        /* index 0 first */
	assert_true(em.data[3] > 0.999f);
	assert_int_equal(em.prompt_tokens, 3);
	free(em.data);
	memset(&em, 0, sizeof(em));
	{
		const char *tok = "{\"data\":[{\"embedding\":[[1,2],[3,4]],\"index\":0}]}";
		assert_int_equal(llm_parse_openai_embed(tok, strlen(tok), 1, &em, &e), -1);
		assert_non_null(strstr(e.msg, "--pooling"));
	}
	m = error_of("{\"error\":\"model 'x' not found\"}");
	assert_string_equal(m, "model 'x' not found");
	free(m);
	m = error_of("{\"error\":{\"message\":\"Loading model\",\"code\":503}}");
	assert_string_equal(m, "Loading model");
	free(m);
	m = error_of("404 page not found\nmore");
	assert_string_equal(m, "404 page not found");
	free(m);
}

static void file_digest_cache(void **state)
{
	char *dir = tu_tmpdir(), path[4200], cache[4200], want[80], hex[65];
	char *d;
	struct moat_err e = MOAT_ERR_INIT;
	struct buf b = BUF_INIT;
	(void)state;
	snprintf(path, sizeof(path), "%s/model.gguf", dir);
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	setenv("MOAT_CACHE", cache, 1);
	tu_write(path, "GGUF one", 8);
	sha256_hex_mem("GGUF one", 8, hex);
	snprintf(want, sizeof(want), "sha256:%s", hex);
	d = llm_file_digest(path, &e);
	assert_string_equal(d, want);
	free(d);
	/* remembered: the cache names the file */
	{
		char cf[4300];
		snprintf(cf, sizeof(cf), "%s/digests", cache);
		assert_int_equal(fs_read_file(cf, &b, 0, NULL), 0);
	}
	assert_non_null(strstr(buf_str(&b), hex));
	buf_release(&b);
	d = llm_file_digest(path, &e);
	assert_string_equal(d, want);
	free(d);
	/* a changed file (another size) is hashed again */
	tu_write(path, "GGUF two!", 9);
	sha256_hex_mem("GGUF two!", 9, hex);
	snprintf(want, sizeof(want), "sha256:%s", hex);
	d = llm_file_digest(path, &e);
	assert_string_equal(d, want);
	free(d);
	/* a blob is named by its digest: never hashed */
	snprintf(path, sizeof(path), "%s/sha256-%s", dir,
		 "0000000000000000000000000000000000000000000000000000000000000000");
	d = llm_file_digest(path, &e);
	assert_string_equal(d, "sha256:0000000000000000000000000000000000000000000000000000000000000000");
	free(d);
	unsetenv("MOAT_CACHE");
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uri_forms),
		cmocka_unit_test(ollama_host_env),
		cmocka_unit_test(loopback_rule),
		cmocka_unit_test(refuses_other_hosts),
		cmocka_unit_test(connection_refused_says_what_to_do),
		cmocka_unit_test(embedded_refusal_or_load_error),
		cmocka_unit_test(label_grammar),
		cmocka_unit_test(schema_subset),
		cmocka_unit_test(stream_stops_and_utf8),
		cmocka_unit_test(parse_ollama_lines),
		cmocka_unit_test(parse_sse_lines),
		cmocka_unit_test(stream_cut_at_max_pieces),
		cmocka_unit_test(stream_text_cap),
		cmocka_unit_test(parse_embeddings_and_errors),
		cmocka_unit_test(file_digest_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
