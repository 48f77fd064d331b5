/*
 * openai.c - the openai:// backend: any OpenAI-compatible server on loopback
 * (/v1/models, /v1/chat/completions, /v1/completions, /v1/embeddings) with
 * Server-Sent Events streaming.  When the server is llama.cpp's llama-server
 * (it answers /props) constrained output goes as a GBNF "grammar", tokens are
 * counted with its /tokenize, requests in flight follow its slots, and the
 * model's digest and chat template come from /props; other servers get an
 * OpenAI response_format json_schema.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/banned.h"

struct openai {
	struct http_client http;
	char hp[300];
	char *model_id;      /* what the server calls the model */
	int llamacpp;        /* the server is llama-server */
};

static const char HINT[] = "is the server running?";

static char *join_url(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 1;
	char *u = malloc(n);
	if (u)
		snprintf(u, n, "%s%s", a, b);
	return u;
}

static void xfer_setup(struct http_xfer *x, const char *url, const char *body)
{
	http_xfer_init(x, url, body);
	x->server = "the server";
	x->hint = HINT;
}

static int get_json(struct openai *o, const char *url, const char *body, json_t **out, long *status,
		    struct moat_err *e)
{
	struct http_xfer x;
	json_error_t je;
	int rc;
	xfer_setup(&x, url, body);
	rc = http_simple(&o->http, &x, e);
	if (status)
		*status = x.status;
	if (rc == 0) {
		*out = json_loadb(buf_str(&x.resp), x.resp.len, 0, &je);
		if (!*out)
			rc = err_set(e, MOAT_EPARSE, "the server at %s sent an answer that is not JSON", o->hp);
	}
	http_xfer_release(&x);
	return rc;
}

static int openai_generate(struct llm *m, const struct llm_request *r, size_t n,
			   struct llm_result *out, struct moat_err *errs);
static int openai_embed(struct llm *m, const char *const *texts, size_t n,
			struct llm_embedding *out, struct moat_err *e);
static long openai_count(struct llm *m, const char *text, struct moat_err *e);
static void openai_free(struct llm *m);

static const struct llm_ops openai_ops = {
	openai_generate, openai_embed, openai_count, NULL, openai_free,
};

static char *xdup(const char *s)
{
	size_t n = strlen(s);
	char *d = malloc(n + 1);
	if (d)
		memcpy(d, s, n + 1);
	return d;
}

/* llama-server's /props: chat template, model file, slots, context. */
static void read_props(struct llm *m, struct openai *o)
{
	char *url = join_url(m->uri.root, "/props");
	json_t *j = NULL, *v;
	struct moat_err ignore = MOAT_ERR_INIT;
	long status = 0;
	if (!url)
		return;
	if (get_json(o, url, NULL, &j, &status, &ignore) < 0 || !json_is_object(j) ||
	    !json_object_get(j, "default_generation_settings")) {
		json_decref(j);
		free(url);
		return;
	}
	free(url);
	o->llamacpp = 1;
	json_object_set_new(m->info, "server", json_pack("{s:s}", "kind", "llama.cpp"));
	if (json_is_string(v = json_object_get(j, "build_info")))
		json_object_set(json_object_get(m->info, "server"), "version", v);
	if (json_is_string(v = json_object_get(j, "chat_template")) && json_string_length(v)) {
		char h[65];
		llm_sha256_str(json_string_value(v), h);
		m->template_sha256 = xdup(h);
	}
	if (json_is_integer(v = json_object_get(j, "total_slots")) && json_integer_value(v) > 0 &&
	    m->cfg.parallel <= 0)
		m->parallel = (int)json_integer_value(v);
	v = json_object_get(json_object_get(j, "default_generation_settings"), "n_ctx");
	if (json_is_integer(v))
		json_object_set(m->info, "n_ctx", v);
	if (json_is_string(v = json_object_get(j, "model_path"))) {
		struct stat st;
		const char *p = json_string_value(v);
		json_object_set(m->info, "path", v);
		/* the same machine: the digest of the very file it serves */
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			m->digest = llm_file_digest(p, &ignore);
	}
	json_decref(j);
}

int llm_openai_open(struct llm *m, struct moat_err *e)
{
	struct openai *o = calloc(1, sizeof(*o));
	char *url;
	json_t *j = NULL, *data;
	long status = 0;

	if (!o)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	m->be = o;
	m->ops = &openai_ops;
	o->http.cfg = &m->cfg;
	o->http.allow = m->cfg.allow_hosts;
	o->http.n_allow = m->cfg.n_allow_hosts;
	http_hostport(m->uri.root, o->hp, sizeof(o->hp));
	m->parallel = m->cfg.parallel > 0 ? m->cfg.parallel : 4;

	url = join_url(m->uri.base, "/models");
	if (!url)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (get_json(o, url, NULL, &j, &status, e) < 0) {
		if (status == 404)
			err_set(e, MOAT_ENOTFOUND, "the server at %s has no %s/models: is it OpenAI-compatible? "
				"(for Ollama's own API use ollama://%s/NAME)", o->hp, m->uri.base + strlen(m->uri.root),
				o->hp);
		free(url);
		return -1;
	}
	free(url);
	data = json_object_get(j, "data");
	if (!json_is_array(data)) {
		json_decref(j);
		return err_set(e, MOAT_EPARSE, "the server at %s sent a model list without data", o->hp);
	}
	read_props(m, o);
	{
		const char *want = m->uri.model, *found = NULL;
		struct buf names = BUF_INIT;
		for (size_t i = 0; i < json_array_size(data); i++) {
			const char *id = json_string_value(json_object_get(json_array_get(data, i), "id"));
			if (!id)
				continue;
			if (!found && (!*want || !strcmp(id, want)))
				found = id;
			buf_addf(&names, "%s'%s'", names.len ? ", " : "", id);
		}
		/* llama-server serves one model whatever the request names */
		if (!found && o->llamacpp && json_array_size(data) == 1)
			found = json_string_value(json_object_get(json_array_get(data, 0), "id"));
		if (!found) {
			err_set(e, MOAT_ENOTFOUND, "model '%s' is not served at %s (it serves: %s)", want, o->hp,
				names.len ? buf_str(&names) : "nothing");
			buf_release(&names);
			json_decref(j);
			return -1;
		}
		buf_release(&names);
		o->model_id = xdup(found);
		json_object_set_new(m->info, "model_id", json_string(found));
		{
			json_t *meta = NULL;
			for (size_t i = 0; i < json_array_size(data); i++) {
				json_t *d = json_array_get(data, i);
				const char *id = json_string_value(json_object_get(d, "id"));
				if (id && !strcmp(found, id))
					meta = json_object_get(d, "meta");
			}
			if (json_is_object(meta)) {
				json_t *v;
				if (json_is_integer(v = json_object_get(meta, "n_ctx_train")))
					json_object_set(m->info, "n_ctx_train", v);
				if (json_is_integer(v = json_object_get(meta, "n_embd")))
					json_object_set(m->info, "n_embd", v);
				if (json_is_integer(v = json_object_get(meta, "n_params")))
					json_object_set(m->info, "n_params", v);
				if (json_is_integer(v = json_object_get(meta, "size")))
					json_object_set(m->info, "size", v);
			}
		}
	}
	json_decref(j);
	if (!o->model_id)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (!json_object_get(m->info, "server"))
		json_object_set_new(m->info, "server", json_pack("{s:s}", "kind", "openai-compatible"));
	return 0;
}

static void openai_free(struct llm *m)
{
	struct openai *o = m->be;
	if (!o)
		return;
	free(o->model_id);
	free(o);
	m->be = NULL;
}

static char *request_body(const struct llm *m, const struct openai *o, const struct llm_request *r)
{
	json_t *j = json_object();
	int mt = llm_max_tokens(r);
	char *s;
	json_object_set_new(j, "model", json_string(o->model_id));
	if (r->raw) {
		json_object_set_new(j, "prompt", json_string(r->prompt));
	} else {
		json_t *msgs = json_array();
		if (r->system)
			json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "system", "content", r->system));
		json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "user", "content", r->prompt));
		json_object_set_new(j, "messages", msgs);
	}
	json_object_set_new(j, "stream", json_true());
	json_object_set_new(j, "stream_options", json_pack("{s:b}", "include_usage", 1));
	json_object_set_new(j, "temperature", json_real(r->opt.temperature));
	json_object_set_new(j, "top_p", json_real(r->opt.top_p));
	json_object_set_new(j, "seed", json_integer(r->opt.seed));
	if (mt >= 0)
		json_object_set_new(j, "max_tokens", json_integer(mt));
	if (r->opt.n_stop) {
		json_t *st = json_array();
		for (size_t i = 0; i < r->opt.n_stop; i++)
			json_array_append_new(st, json_string(r->opt.stop[i]));
		json_object_set_new(j, "stop", st);
	}
	if (o->llamacpp) {
		json_object_set_new(j, "top_k", json_integer(r->opt.top_k));
		if (r->ignore_eos)
			json_object_set_new(j, "ignore_eos", json_true());
		if (r->constraint != LLM_FREE) {
			struct buf g = BUF_INIT;
			if (llm_grammar(r, &g, NULL) == 0 && !buf_failed(&g))
				json_object_set_new(j, "grammar", json_string(buf_str(&g)));
			buf_release(&g);
		}
	} else if (r->constraint != LLM_FREE) {
		json_t *sc = llm_constraint_schema(r);
		json_object_set_new(j, "response_format",
				    json_pack("{s:s, s:{s:s, s:o, s:b}}", "type", "json_schema", "json_schema",
					      "name", "answer", "schema", sc, "strict", 1));
	}
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	(void)m;
	return s;
}

static char *body_of(const struct llm *m, void *ud, const struct llm_request *r)
{
	return request_body(m, ud, r);
}

static int openai_generate(struct llm *m, const struct llm_request *r, size_t n,
			   struct llm_result *out, struct moat_err *errs)
{
	struct openai *o = m->be;
	char *chat = join_url(m->uri.base, "/chat/completions");
	char *comp = join_url(m->uri.base, "/completions");
	struct llm_http_gen sp = { &o->http, chat, comp, "the server", HINT, o->hp, body_of, o,
				   llm_parse_sse_line };
	int failed;
	if (!chat || !comp) {
		for (size_t i = 0; i < n; i++)
			err_set(&errs[i], MOAT_ENOMEM, "out of memory");
		free(chat), free(comp);
		return (int)n;
	}
	failed = llm_http_generate(m, &sp, r, n, out, errs);
	free(chat), free(comp);
	return failed;
}

static int openai_embed(struct llm *m, const char *const *texts, size_t n,
			struct llm_embedding *out, struct moat_err *e)
{
	struct openai *o = m->be;
	char *url = join_url(m->uri.base, "/embeddings"), *body;
	json_t *in = json_array(), *j;
	struct http_xfer x;
	int rc;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(in, json_string(texts[i]));
	j = json_pack("{s:s, s:o, s:s}", "model", o->model_id, "input", in, "encoding_format", "float");
	body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!url || !body) {
		free(url), free(body);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	xfer_setup(&x, url, body);
	rc = http_simple(&o->http, &x, e);
	if (rc == 0)
		rc = llm_parse_openai_embed(x.resp.data, x.resp.len, n, out, e);
	http_xfer_release(&x);
	free(url), free(body);
	return rc;
}

static long openai_count(struct llm *m, const char *text, struct moat_err *e)
{
	struct openai *o = m->be;
	char *url, *body;
	json_t *j, *ans = NULL, *toks;
	long n;
	if (!o->llamacpp)
		return err_set(e, MOAT_EUNSUPPORTED,
			       "the server at %s has no tokenizer endpoint (llama-server has /tokenize)", o->hp);
	url = join_url(m->uri.root, "/tokenize");
	j = json_pack("{s:s, s:b}", "content", text, "add_special", 0);
	body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!url || !body) {
		free(url), free(body);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	if (get_json(o, url, body, &ans, NULL, e) < 0) {
		free(url), free(body);
		return -1;
	}
	free(url), free(body);
	toks = json_object_get(ans, "tokens");
	n = json_is_array(toks) ? (long)json_array_size(toks) : -1;
	json_decref(ans);
	if (n < 0)
		return err_set(e, MOAT_EPARSE, "the server at %s sent a /tokenize answer without tokens", o->hp);
	return n;
}
