/*
 * ollama.c - the ollama:// backend: Ollama's native API (/api/version,
 * /api/show, /api/chat, /api/generate, /api/embed), NDJSON streaming,
 * `format` for constrained output, OLLAMA_NUM_PARALLEL requests in flight,
 * the tokens' log-probabilities (`logprobs`) for llm_result.logprob.
 * Ollama has no tokenizer endpoint, so token counts use the model's own GGUF
 * from the local store when there is one.  What it shares with the other
 * server backend (streaming, embeddings in batches) is http.c's.
 */
#include "backend.h"
#include "grammar.h"
#include "http.h"
#include "llamacpp.h"
#include "parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/jsonu.h"
#include "../models/models.h"

#include "../core/banned.h"

#define EMBED_BATCH 64

struct ollama {
	struct http_client http;
	char hp[LLM_HOSTPORT_MAX];
	void *vocab;             /* for counting tokens, from the store */
	int vocab_tried;
	struct moat_err vocab_err;
};

/* The weights' digest from /api/show's modelfile ("FROM .../blobs/sha256-<hex>");
 * NULL when it names none. */
static int digest_from_modelfile(const char *mf, char **out)
{
	const char *p = mf ? strstr(mf, "sha256-") : NULL;
	size_t n = 0;
	*out = NULL;
	if (!p)
		return 0;
	p += 7;
	while (n < 64 && ((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'a' && p[n] <= 'f')))
		n++;
	if (n != 64)
		return 0;
	if (asprintf(out, "sha256:%.64s", p) < 0) {
		*out = NULL;  /* what asprintf leaves there is undefined */
		return -1;
	}
	return 0;
}

static int env_parallel(void)
{
	const char *v = getenv("OLLAMA_NUM_PARALLEL");
	char *end;
	long n;
	if (!v || !*v)
		return 1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n < 1 || n > 256)
		return 1;
	return (int)n;
}

static int ollama_generate(struct llm *m, const struct llm_request *r, size_t n,
			   struct llm_result *out, struct moat_err *errs);
static int ollama_embed(struct llm *m, const char *const *texts, size_t n,
			struct llm_embedding *out, struct moat_err *e);
static long ollama_count(struct llm *m, const char *text, struct moat_err *e);
static void ollama_free(struct llm *m);

static const struct llm_ops ollama_ops = {
	ollama_generate, ollama_embed, ollama_count, NULL, ollama_free, NULL,
};

/* m->info[key] = model_info["<arch>.<key>"] when it is an integer. */
static int copy_arch_int(struct llm *m, json_t *mi, const char *arch, const char *key,
			 const char *as)
{
	char *k;
	json_t *v;
	if (asprintf(&k, "%s.%s", arch, key) < 0)
		return -1;
	v = json_object_get(mi, k);
	free(k);
	if (json_is_integer(v))
		llm_info_set(m, as, json_incref(v));
	return 0;
}

/* The model's template, weights digest and shape from /api/show. */
static int read_show(struct llm *m, json_t *show, struct moat_err *e)
{
	json_t *tmpl = json_object_get(show, "template"), *mi = json_object_get(show, "model_info");
	json_t *caps = json_object_get(show, "capabilities"), *det = json_object_get(show, "details");
	const char *arch = json_string_value(json_object_get(mi, "general.architecture"));
	if (json_is_string(tmpl)) {
		char h[65];
		llm_sha256_str(json_string_value(tmpl), h);
		if (!(m->template_sha256 = strdup(h)))
			return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	if (digest_from_modelfile(json_string_value(json_object_get(show, "modelfile")), &m->digest) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (arch) {
		if (copy_arch_int(m, mi, arch, "context_length", "n_ctx_train") < 0 ||
		    copy_arch_int(m, mi, arch, "embedding_length", "n_embd") < 0)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		llm_info_set(m, "architecture", json_string(arch));
	}
	if (json_is_integer(json_object_get(mi, "general.parameter_count")))
		llm_info_set(m, "n_params", json_incref(json_object_get(mi, "general.parameter_count")));
	if (json_is_array(caps))
		llm_info_set(m, "capabilities", json_incref(caps));
	if (json_is_object(det))
		llm_info_set(m, "details", json_incref(det));
	return 0;
}

int llm_ollama_open(struct llm *m, struct moat_err *e)
{
	struct ollama *o = calloc(1, sizeof(*o));
	json_t *j, *show, *ver;
	char *body;
	long status;
	int rc;

	if (!o)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	m->be = o;
	m->ops = &ollama_ops;
	http_client_init(&o->http, &m->cfg, "Ollama", "is 'ollama serve' running?");
	o->http.budget = &m->budget;
	if (llm_url_hostport(m->uri.base, o->hp, sizeof(o->hp)) < 0)
		return err_set(e, MOAT_EUSAGE, "bad URL '%s'", m->uri.base);
	m->parallel = m->cfg.parallel > 0 ? m->cfg.parallel : env_parallel();

	/* Is it there, and is it Ollama? */
	if (http_json(&o->http, m->uri.base, "/api/version", NULL, &j, &status, e) < 0) {
		if (status == 404)
			err_set(e, MOAT_ENET, "the server at %s is not Ollama (no /api/version); for "
				"llama-server and other OpenAI-compatible servers use openai://%s/v1/NAME",
				o->hp, o->hp);
		return -1;
	}
	ver = json_object_get(j, "version");
	llm_info_set(m, "server", json_pack("{s:s, s:O}", "kind", "ollama", "version",
					    json_is_string(ver) ? ver : json_null()));
	json_decref(j);
	if (m->cfg.quiet_probe)
		return 0;

	/* The model: its template, weights digest and shape. */
	j = json_object();
	body = j && json_object_set_new(j, "model", jsonu_string(m->uri.model)) == 0
		       ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!body)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	rc = http_json(&o->http, m->uri.base, "/api/show", body, &show, &status, e);
	free(body);
	if (rc < 0) {
		if (status == 404)
			err_set(e, MOAT_ENOTFOUND, "model '%s' is not on Ollama at %s (see 'moat llm list'; "
				"carry it over with 'moat models bundle' and 'moat models install')",
				m->uri.model, o->hp);
		return -1;
	}
	if (!json_is_object(show)) {
		json_decref(show);
		return err_set(e, MOAT_EPARSE, "Ollama at %s sent a /api/show answer that is not JSON", o->hp);
	}
	rc = read_show(m, show, e);
	json_decref(show);
	return rc;
}

static void ollama_free(struct llm *m)
{
	struct ollama *o = m->be;
	if (!o)
		return;
	llm_vocab_free(o->vocab);
	free(o);
	m->be = NULL;
}

/* Ollama's "options": the sampling options under its names. */
static json_t *options_json(const struct llm_request *r)
{
	json_t *opt = json_object();
	int mt = llm_max_tokens(r), bad = !opt;
	bad = bad || json_object_set_new(opt, "temperature", json_real(r->opt.temperature)) < 0;
	bad = bad || json_object_set_new(opt, "top_p", json_real(r->opt.top_p)) < 0;
	bad = bad || json_object_set_new(opt, "top_k", json_integer(r->opt.top_k)) < 0;
	bad = bad || json_object_set_new(opt, "seed", json_integer(r->opt.seed)) < 0;
	if (mt >= 0)
		bad = bad || json_object_set_new(opt, "num_predict", json_integer(mt)) < 0;
	if (r->opt.n_ctx > 0)
		bad = bad || json_object_set_new(opt, "num_ctx", json_integer(r->opt.n_ctx)) < 0;
	if (r->opt.n_stop)
		bad = bad || json_object_set_new(opt, "stop", llm_json_strings(r->opt.stop, r->opt.n_stop)) < 0;
	if (bad) {
		json_decref(opt);
		return NULL;
	}
	return opt;
}

static char *request_body(const struct llm *m, void *ud, const struct llm_request *r,
			  struct moat_err *e)
{
	json_t *j = json_object();
	char *s = NULL;
	int bad = !j;
	(void)ud;
	bad = bad || json_object_set_new(j, "model", jsonu_string(m->uri.model)) < 0;
	if (r->raw)
		bad = bad || json_object_set_new(j, "prompt", jsonu_string(r->prompt)) < 0 ||
		      json_object_set_new(j, "raw", json_true()) < 0;
	else
		bad = bad || json_object_set_new(j, "messages", llm_chat_messages(r, LLM_IMAGES_OLLAMA)) < 0;
	bad = bad || json_object_set_new(j, "stream", json_true()) < 0;
	bad = bad || json_object_set_new(j, "options", options_json(r)) < 0;
	if (r->constraint != LLM_FREE)
		bad = bad || json_object_set_new(j, "format", llm_constraint_schema(r)) < 0;
	/* Ollama documents "logprobs" on /api/chat and /api/generate (since
	 * 0.12.11): each streamed line then carries logprobs[{token, logprob}]
	 * of its tokens.  An older Ollama ignores the field it does not know
	 * and sends none (n_logprob 0), so there is nothing to retry. */
	if (!m->cfg.no_logprobs)
		bad = bad || json_object_set_new(j, "logprobs", json_true()) < 0;
	if (!bad)
		s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		err_set(e, MOAT_ENOMEM, "out of memory");
	return s;
}

static int ollama_generate(struct llm *m, const struct llm_request *r, size_t n,
			   struct llm_result *out, struct moat_err *errs)
{
	struct ollama *o = m->be;
	const struct llm_http_gen gen = { &o->http, "/api/chat", "/api/generate", o->hp,
					  request_body, o, llm_parse_ollama_line, NULL };
	return llm_http_generate(m, &gen, r, n, out, errs);
}

static int ollama_embed(struct llm *m, const char *const *texts, size_t n,
			struct llm_embedding *out, struct moat_err *e)
{
	struct ollama *o = m->be;
	const struct llm_http_embed emb = { &o->http, "/api/embed", EMBED_BATCH, m->uri.model, NULL,
					    llm_parse_ollama_embed };
	return llm_http_embed(m, &emb, texts, n, out, e);
}

static long ollama_count(struct llm *m, const char *text, struct moat_err *e)
{
	struct ollama *o = m->be;
	if (!o->vocab_tried) {
		char *dir = models_default_dir(m->cfg.models_dir), *path;
		o->vocab_tried = 1;
		path = dir ? models_resolve_gguf(dir, m->uri.model, &o->vocab_err) : NULL;
		if (path)
			o->vocab = llm_vocab_open(path, &o->vocab_err);
		if (!dir)
			err_set(&o->vocab_err, MOAT_ENOMEM, "out of memory");
		else if (!o->vocab)
			err_prefix(&o->vocab_err, "Ollama has no tokenizer endpoint and its GGUF cannot be used "
				   "from the store '%s' (name the store with --models-dir)", dir);
		free(path);
		free(dir);
	}
	if (!o->vocab) {
		if (e)
			*e = o->vocab_err;
		if (e && e->code != MOAT_ENOMEM)
			e->code = MOAT_EUNSUPPORTED;
		return -1;
	}
	return llm_vocab_count(o->vocab, text, e);
}
