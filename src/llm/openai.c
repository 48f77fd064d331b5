/*
 * openai.c - the openai:// backend: any OpenAI-compatible server on loopback
 * (/v1/models, /v1/chat/completions, /v1/completions, /v1/embeddings) with
 * Server-Sent Events streaming.  When the server is llama.cpp's llama-server
 * (it answers /props) constrained output goes as a GBNF "grammar", tokens are
 * counted with its /tokenize, requests in flight follow its slots, and the
 * model's digest and chat template come from /props; other servers get an
 * OpenAI response_format json_schema.  Every server is asked for the
 * log-probabilities of the answer's tokens (llm_result.logprob; llama-server
 * reports them under the raw distribution, before its samplers and grammar);
 * a server that refuses the field gets the request again without it, and is
 * not asked again.  What it shares with the other server backend
 * (streaming, embeddings) is http.c's.
 */
#include "backend.h"
#include "digest.h"
#include "grammar.h"
#include "http.h"
#include "parse.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/jsonu.h"
#include "../core/progress.h"

#include "../core/banned.h"

struct openai {
	struct http_client http;
	char hp[LLM_HOSTPORT_MAX];
	char *model_id;      /* what the server calls the model */
	int llamacpp;        /* the server is llama-server */
	int logprobs;        /* the requests being made ask for log-probabilities */
	int logprobs_refused; /* the server refused a request asking for them and
				 answered it without: never ask again */
};

/* A JSON answer, which must be one; -1 with e set. */
static int get_json(struct openai *o, const char *base, const char *path, const char *body,
		    json_t **out, long *status, struct moat_err *e)
{
	if (http_json(&o->http, base, path, body, out, status, e) < 0)
		return -1;
	if (!*out)
		return err_set(e, MOAT_EPARSE, "the server at %s sent an answer that is not JSON", o->hp);
	return 0;
}

static int openai_generate(struct llm *m, const struct llm_request *r, size_t n,
			   struct llm_result *out, struct moat_err *errs);
static int openai_embed(struct llm *m, const char *const *texts, size_t n,
			struct llm_embedding *out, struct moat_err *e);
static long openai_count(struct llm *m, const char *text, struct moat_err *e);
static long openai_token_ends(struct llm *m, const char *text, size_t len, uint32_t **ends,
			      struct moat_err *e);
static void openai_free(struct llm *m);

static const struct llm_ops openai_ops = {
	openai_generate, openai_embed, openai_count, NULL, openai_free, openai_token_ends,
};

/* llama-server's /props: chat template, model file, slots, context.  A
 * server without it is another server: 0 all the same; -1 only when out of
 * memory or when the probes' time ran out waiting for it (a server that
 * went silent is not waited for twice). */
static int read_props(struct llm *m, struct openai *o, struct moat_err *e)
{
	json_t *j = NULL, *v, *server;
	struct moat_err ignore = MOAT_ERR_INIT;
	if (get_json(o, m->uri.root, "/props", NULL, &j, NULL, &ignore) < 0 || !json_is_object(j) ||
	    !json_object_get(j, "default_generation_settings")) {
		json_decref(j);
		if (ignore.code == MOAT_ENOMEM)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		if (m->budget.until && now_seconds() >= m->budget.until) {
			if (e)
				*e = ignore;
			return -1;
		}
		return 0;
	}
	o->llamacpp = 1;
	server = json_pack("{s:s}", "kind", "llama.cpp");
	if (json_is_string(v = json_object_get(j, "build_info")) && server &&
	    json_object_set(server, "version", v) < 0)
		m->info_nomem = 1;
	llm_info_set(m, "server", server);
	if (json_is_string(v = json_object_get(j, "chat_template")) && json_string_length(v)) {
		char h[65];
		llm_sha256_str(json_string_value(v), h);
		if (!(m->template_sha256 = strdup(h)))
			m->info_nomem = 1;
	}
	if (json_is_integer(v = json_object_get(j, "total_slots")) && json_integer_value(v) > 0 &&
	    m->cfg.parallel <= 0)
		m->parallel = (int)json_integer_value(v);
	v = json_object_get(json_object_get(j, "default_generation_settings"), "n_ctx");
	if (json_is_integer(v))
		llm_info_set(m, "n_ctx", json_incref(v));
	if (json_is_string(v = json_object_get(j, "model_path"))) {
		struct stat st;
		const char *p = json_string_value(v);
		llm_info_set(m, "path", json_incref(v));
		/* the same machine: the digest of the very file it serves */
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && !(m->digest = llm_file_digest(p, &ignore)) &&
		    ignore.code == MOAT_ENOMEM)
			m->info_nomem = 1;
	}
	json_decref(j);
	return 0;
}

/* The served model the URI names: its id, or the only one llama-server
 * serves whatever the request names; NULL with e listing what is served. */
static json_t *find_model(struct llm *m, struct openai *o, json_t *data, struct moat_err *e)
{
	const char *want = m->uri.model;
	json_t *found = NULL;
	struct buf names = BUF_INIT;
	for (size_t i = 0; i < json_array_size(data); i++) {
		json_t *d = json_array_get(data, i);
		const char *id = json_string_value(json_object_get(d, "id"));
		if (!id)
			continue;
		if (!found && (!*want || !strcmp(id, want)))
			found = d;
		buf_addf(&names, "%s'%s'", names.len ? ", " : "", id);
	}
	if (!found && o->llamacpp && json_array_size(data) == 1 &&
	    json_is_string(json_object_get(json_array_get(data, 0), "id")))
		found = json_array_get(data, 0);
	if (!found) {
		if (buf_failed(&names))
			err_set(e, MOAT_ENOMEM, "out of memory");
		else
			err_set(e, MOAT_ENOTFOUND, "model '%s' is not served at %s (it serves: %s)", want,
				o->hp, names.len ? buf_str(&names) : "nothing");
	}
	buf_release(&names);
	return found;
}

int llm_openai_open(struct llm *m, struct moat_err *e)
{
	static const char *const meta_keys[] = { "n_ctx_train", "n_embd", "n_params", "size" };
	struct openai *o = calloc(1, sizeof(*o));
	json_t *j = NULL, *data, *model, *meta;
	long status = 0;

	if (!o)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	m->be = o;
	m->ops = &openai_ops;
	http_client_init(&o->http, &m->cfg, "the server", "is the server running?");
	o->http.budget = &m->budget;
	if (llm_url_hostport(m->uri.root, o->hp, sizeof(o->hp)) < 0)
		return err_set(e, MOAT_EUSAGE, "bad URL '%s'", m->uri.root);
	m->parallel = m->cfg.parallel > 0 ? m->cfg.parallel : 4;

	if (get_json(o, m->uri.base, "/models", NULL, &j, &status, e) < 0) {
		if (status == 404)
			err_set(e, MOAT_ENOTFOUND, "the server at %s has no %s/models: is it OpenAI-compatible? "
				"(for Ollama's own API use ollama://%s/NAME)", o->hp, m->uri.base + strlen(m->uri.root),
				o->hp);
		return -1;
	}
	data = json_object_get(j, "data");
	if (!json_is_array(data)) {
		json_decref(j);
		return err_set(e, MOAT_EPARSE, "the server at %s sent a model list without data", o->hp);
	}
	if (read_props(m, o, e) < 0 || !(model = find_model(m, o, data, e))) {
		json_decref(j);
		return -1;
	}
	o->model_id = strdup(json_string_value(json_object_get(model, "id")));
	llm_info_set(m, "model_id", json_string(o->model_id ? o->model_id : ""));
	meta = json_object_get(model, "meta");
	for (size_t i = 0; i < sizeof(meta_keys) / sizeof(meta_keys[0]); i++) {
		json_t *v = json_object_get(meta, meta_keys[i]);
		if (json_is_integer(v))
			llm_info_set(m, meta_keys[i], json_incref(v));
	}
	json_decref(j);
	if (!o->model_id)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (!json_object_get(m->info, "server"))
		llm_info_set(m, "server", json_pack("{s:s}", "kind", "openai-compatible"));
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

/* How the answer is constrained: llama-server's "grammar", else OpenAI's
 * response_format with a JSON schema. */
static int set_constraint(const struct openai *o, json_t *j, const struct llm_request *r,
			  struct moat_err *e)
{
	if (r->constraint == LLM_FREE)
		return 0;
	if (o->llamacpp) {
		struct buf g = BUF_INIT;
		int rc = llm_grammar(r, &g, e);
		if (rc == 0 && json_object_set_new(j, "grammar", json_string(buf_str(&g))) < 0)
			rc = err_set(e, MOAT_ENOMEM, "out of memory");
		buf_release(&g);
		return rc;
	}
	if (json_object_set_new(j, "response_format",
				json_pack("{s:s, s:{s:s, s:o, s:b}}", "type", "json_schema", "json_schema",
					  "name", "answer", "schema", llm_constraint_schema(r), "strict", 1)) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return 0;
}

static char *request_body(const struct llm *m, void *ud, const struct llm_request *r,
			  struct moat_err *e)
{
	const struct openai *o = ud;
	json_t *j = json_object();
	int mt = llm_max_tokens(r), bad = !j;
	char *s = NULL;
	(void)m;
	bad = bad || json_object_set_new(j, "model", json_string(o->model_id)) < 0;
	if (r->raw)
		bad = bad || json_object_set_new(j, "prompt", jsonu_string(r->prompt)) < 0;
	else
		bad = bad || json_object_set_new(j, "messages", llm_chat_messages(r, LLM_IMAGES_OPENAI)) < 0;
	bad = bad || json_object_set_new(j, "stream", json_true()) < 0;
	bad = bad || json_object_set_new(j, "stream_options", json_pack("{s:b}", "include_usage", 1)) < 0;
	bad = bad || json_object_set_new(j, "temperature", json_real(r->opt.temperature)) < 0;
	bad = bad || json_object_set_new(j, "top_p", json_real(r->opt.top_p)) < 0;
	bad = bad || json_object_set_new(j, "seed", json_integer(r->opt.seed)) < 0;
	if (mt >= 0)
		bad = bad || json_object_set_new(j, "max_tokens", json_integer(mt)) < 0;
	if (r->opt.n_stop)
		bad = bad || json_object_set_new(j, "stop", llm_json_strings(r->opt.stop, r->opt.n_stop)) < 0;
	if (o->logprobs && r->raw) {
		/* the completions API's count of top tokens, which llama-server
		 * reads as its n_probs; 1 is the least that returns the token's own */
		bad = bad || json_object_set_new(j, "logprobs", json_integer(1)) < 0;
	} else if (o->logprobs) {
		bad = bad || json_object_set_new(j, "logprobs", json_true()) < 0;
		/* llama-server gives none with top_logprobs 0 (its n_probs) */
		if (o->llamacpp)
			bad = bad || json_object_set_new(j, "top_logprobs", json_integer(1)) < 0;
	}
	if (o->llamacpp) {
		bad = bad || json_object_set_new(j, "top_k", json_integer(r->opt.top_k)) < 0;
		if (r->ignore_eos)
			bad = bad || json_object_set_new(j, "ignore_eos", json_true()) < 0;
	}
	if (bad) {
		err_set(e, MOAT_ENOMEM, "out of memory");
	} else if (set_constraint(o, j, r, e) == 0) {
		s = json_dumps(j, JSON_COMPACT);
		if (!s)
			err_set(e, MOAT_ENOMEM, "out of memory");
	}
	json_decref(j);
	return s;
}

/* Asks again, without log-probabilities, the requests the server refused
 * (400, or 422 as FastAPI servers answer a field they do not know) when they
 * asked for them: out[] and errs[] of those are replaced by the new answers.
 * When one of them is answered now, the handle stops asking.  Returns how
 * many of the failed requests now succeed. */
static int retry_refused(struct llm *m, struct openai *o, struct llm_http_gen *gen,
			 const struct llm_request *r, size_t n, const long *status,
			 struct llm_result *out, struct moat_err *errs)
{
	struct llm_request *rq;
	struct llm_result *ro;
	struct moat_err *re;
	size_t *idx, k = 0;
	int fixed;
	for (size_t i = 0; i < n; i++)
		if (errs[i].code && (status[i] == 400 || status[i] == 422))
			k++;
	if (!k)
		return 0;
	rq = calloc(k, sizeof(*rq));
	ro = calloc(k, sizeof(*ro));
	re = calloc(k, sizeof(*re));
	idx = calloc(k, sizeof(*idx));
	if (!rq || !ro || !re || !idx) {
		free(rq), free(ro), free(re), free(idx);
		return 0;  /* the refusals stand */
	}
	k = 0;
	for (size_t i = 0; i < n; i++)
		if (errs[i].code && (status[i] == 400 || status[i] == 422)) {
			rq[k] = r[i];
			ro[k].prompt_tokens = ro[k].completion_tokens = -1;
			idx[k++] = i;
		}
	o->logprobs = 0;
	gen->status = NULL;
	fixed = (int)k - llm_http_generate(m, gen, rq, k, ro, re);
	for (size_t j = 0; j < k; j++) {
		size_t i = idx[j];
		llm_result_release(&out[i]);
		out[i] = ro[j];
		errs[i] = re[j];
	}
	/* a request that fails again was refused for something else */
	if (fixed)
		o->logprobs_refused = 1;
	free(rq), free(ro), free(re), free(idx);
	return fixed;
}

static int openai_generate(struct llm *m, const struct llm_request *r, size_t n,
			   struct llm_result *out, struct moat_err *errs)
{
	struct openai *o = m->be;
	struct llm_http_gen gen = { &o->http, "/chat/completions", "/completions", o->hp,
				    request_body, o, llm_parse_sse_line, NULL };
	long *status = NULL;
	int failed;
	/* llama-server computes them from the logits it has anyway; another
	 * server is asked unless the user said not to, and once it refuses,
	 * no more */
	o->logprobs = (o->llamacpp || !m->cfg.no_logprobs) && !o->logprobs_refused;
	if (o->logprobs && !(status = calloc(n, sizeof(*status))))
		o->logprobs = 0;  /* no memory to tell a refusal: do not ask */
	gen.status = status;
	failed = llm_http_generate(m, &gen, r, n, out, errs);
	if (failed && status)
		failed -= retry_refused(m, o, &gen, r, n, status, out, errs);
	free(status);
	return failed;
}

static int openai_embed(struct llm *m, const char *const *texts, size_t n,
			struct llm_embedding *out, struct moat_err *e)
{
	struct openai *o = m->be;
	const struct llm_http_embed emb = { &o->http, "/embeddings", 0, o->model_id, "float",
					    llm_parse_openai_embed };
	return llm_http_embed(m, &emb, texts, n, out, e);
}

static long openai_count(struct llm *m, const char *text, struct moat_err *e)
{
	struct openai *o = m->be;
	char *body;
	json_t *j, *ans = NULL, *toks;
	long n;
	if (!o->llamacpp)
		return err_set(e, MOAT_EUNSUPPORTED,
			       "the server at %s has no tokenizer endpoint (llama-server has /tokenize)", o->hp);
	j = json_object();
	body = j && json_object_set_new(j, "content", jsonu_string(text)) == 0 &&
		       json_object_set_new(j, "add_special", json_false()) == 0 &&
		       json_object_set_new(j, "parse_special", json_false()) == 0
		       ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!body)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (get_json(o, m->uri.root, "/tokenize", body, &ans, NULL, e) < 0) {
		free(body);
		return -1;
	}
	free(body);
	toks = json_object_get(ans, "tokens");
	n = json_is_array(toks) ? (long)json_array_size(toks) : -1;
	json_decref(ans);
	if (n < 0)
		return err_set(e, MOAT_EPARSE, "the server at %s sent a /tokenize answer without tokens", o->hp);
	return n;
}

/* A piece of llama-server's /tokenize: a string, or an array of byte values
 * when it is not UTF-8. */
struct openai_pieces {
	json_t *toks;
	char bytes[256];
};

static const char *openai_piece(void *ud, size_t i, size_t *len, struct moat_err *e)
{
	struct openai_pieces *p = ud;
	json_t *v = json_object_get(json_array_get(p->toks, i), "piece");
	size_t k;
	json_t *b;
	if (json_is_string(v)) {
		*len = json_string_length(v);
		return json_string_value(v);
	}
	if (!json_is_array(v) || json_array_size(v) > sizeof(p->bytes)) {
		err_set(e, MOAT_EPARSE, "a /tokenize answer with a bad piece at token %zu", i);
		return NULL;
	}
	json_array_foreach(v, k, b) {
		json_int_t c = json_integer_value(b);
		if (!json_is_integer(b) || c < 0 || c > 255) {
			err_set(e, MOAT_EPARSE, "a /tokenize answer with a bad byte at token %zu", i);
			return NULL;
		}
		p->bytes[k] = (char)c;
	}
	*len = json_array_size(v);
	return p->bytes;
}

/* llama-server's /tokenize with the pieces of the tokens. */
static long openai_token_ends(struct llm *m, const char *text, size_t len, uint32_t **ends,
			      struct moat_err *e)
{
	struct openai *o = m->be;
	struct openai_pieces p = { NULL, "" };
	char *body;
	json_t *j, *ans = NULL;
	long n = -1;
	if (!o->llamacpp)
		return err_set(e, MOAT_EUNSUPPORTED,
			       "the server at %s has no tokenizer endpoint (llama-server has /tokenize)", o->hp);
	j = json_object();
	body = j && json_object_set_new(j, "content", json_stringn(text, len)) == 0 &&
		       json_object_set_new(j, "add_special", json_false()) == 0 &&
		       json_object_set_new(j, "parse_special", json_false()) == 0 &&
		       json_object_set_new(j, "with_pieces", json_true()) == 0
		       ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!body)
		return err_set(e, MOAT_ENOMEM, "out of memory (or the text is not UTF-8)");
	if (get_json(o, m->uri.root, "/tokenize", body, &ans, NULL, e) < 0) {
		free(body);
		return -1;
	}
	free(body);
	p.toks = json_object_get(ans, "tokens");
	if (!json_is_array(p.toks)) {
		json_decref(ans);
		return err_set(e, MOAT_EPARSE, "the server at %s sent a /tokenize answer without tokens", o->hp);
	}
	*ends = json_array_size(p.toks) ? malloc(json_array_size(p.toks) * sizeof(**ends)) : NULL;
	if (json_array_size(p.toks) && !*ends)
		err_set(e, MOAT_ENOMEM, "out of memory");
	else if (llm_ends_from_pieces(text, len, json_array_size(p.toks), openai_piece, &p, *ends, e) == 0)
		n = (long)json_array_size(p.toks);
	json_decref(ans);
	return n;
}
