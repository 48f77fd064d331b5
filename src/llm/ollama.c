/*
 * ollama.c - the ollama:// backend: Ollama's native API (/api/version,
 * /api/show, /api/tags, /api/chat, /api/generate, /api/embed), NDJSON
 * streaming, `format` for constrained output, OLLAMA_NUM_PARALLEL requests in
 * flight.  Ollama has no tokenizer endpoint, so token counts use the model's
 * own GGUF from the local store when there is one.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../models/models.h"

#include "../core/banned.h"

struct ollama {
	struct http_client http;
	char hp[300];
	void *vocab;             /* for counting tokens, from the store */
	int vocab_tried;
	struct moat_err vocab_err;
};

static const char HINT[] = "is 'ollama serve' running?";

static void xfer_setup(struct http_xfer *x, const char *url, const char *body)
{
	http_xfer_init(x, url, body);
	x->server = "Ollama";
	x->hint = HINT;
}

static char *url_of(const struct llm *m, const char *path)
{
	size_t n = strlen(m->uri.base) + strlen(path) + 1;
	char *u = malloc(n);
	if (u)
		snprintf(u, n, "%s%s", m->uri.base, path);
	return u;
}

/* The weights' digest from /api/show's modelfile ("FROM .../blobs/sha256-<hex>"). */
static char *digest_from_modelfile(const char *mf)
{
	const char *p = mf ? strstr(mf, "sha256-") : NULL;
	char d[80];
	size_t n = 0;
	if (!p)
		return NULL;
	p += 7;
	while (n < 64 && ((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'a' && p[n] <= 'f')))
		n++;
	if (n != 64)
		return NULL;
	snprintf(d, sizeof(d), "sha256:%.64s", p);
	{
		char *r = malloc(strlen(d) + 1);
		if (r)
			memcpy(r, d, strlen(d) + 1);
		return r;
	}
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
	ollama_generate, ollama_embed, ollama_count, NULL, ollama_free,
};

int llm_ollama_open(struct llm *m, struct moat_err *e)
{
	struct ollama *o = calloc(1, sizeof(*o));
	struct http_xfer x;
	char *url, *body;
	json_t *j, *show;
	json_error_t je;

	if (!o)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	m->be = o;
	m->ops = &ollama_ops;
	o->http.cfg = &m->cfg;
	o->http.allow = m->cfg.allow_hosts;
	o->http.n_allow = m->cfg.n_allow_hosts;
	http_hostport(m->uri.base, o->hp, sizeof(o->hp));
	m->parallel = m->cfg.parallel > 0 ? m->cfg.parallel : env_parallel();

	/* Is it there, and is it Ollama? */
	url = url_of(m, "/api/version");
	if (!url)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	xfer_setup(&x, url, NULL);
	if (http_simple(&o->http, &x, e) < 0) {
		if (x.status == 404)
			err_set(e, MOAT_ENET, "the server at %s is not Ollama (no /api/version); for "
				"llama-server and other OpenAI-compatible servers use openai://%s/v1/NAME",
				o->hp, o->hp);
		http_xfer_release(&x);
		free(url);
		return -1;
	}
	j = json_loadb(buf_str(&x.resp), x.resp.len, 0, &je);
	json_object_set_new(m->info, "server",
			    json_pack("{s:s, s:o}", "kind", "ollama", "version",
				      json_is_string(json_object_get(j, "version"))
					      ? json_copy(json_object_get(j, "version"))
					      : json_null()));
	json_decref(j);
	http_xfer_release(&x);
	free(url);
	if (m->cfg.quiet_probe)
		return 0;

	/* The model: its template, weights digest and shape. */
	url = url_of(m, "/api/show");
	j = json_pack("{s:s}", "model", m->uri.model);
	body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!url || !body) {
		free(url), free(body);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	xfer_setup(&x, url, body);
	if (http_simple(&o->http, &x, e) < 0) {
		if (x.status == 404)
			err_set(e, MOAT_ENOTFOUND, "model '%s' is not on Ollama at %s (see 'moat llm list'; "
				"carry it over with 'moat models bundle' and 'moat models install')",
				m->uri.model, o->hp);
		http_xfer_release(&x);
		free(url), free(body);
		return -1;
	}
	show = json_loadb(buf_str(&x.resp), x.resp.len, 0, &je);
	http_xfer_release(&x);
	free(url), free(body);
	if (!json_is_object(show)) {
		json_decref(show);
		return err_set(e, MOAT_EPARSE, "Ollama at %s sent a /api/show answer that is not JSON", o->hp);
	}
	{
		json_t *tmpl = json_object_get(show, "template"), *mi = json_object_get(show, "model_info");
		json_t *caps = json_object_get(show, "capabilities"), *det = json_object_get(show, "details");
		const char *arch = json_string_value(json_object_get(mi, "general.architecture"));
		if (json_is_string(tmpl)) {
			char h[65];
			llm_sha256_str(json_string_value(tmpl), h);
			m->template_sha256 = malloc(65);
			if (m->template_sha256)
				memcpy(m->template_sha256, h, 65);
		}
		m->digest = digest_from_modelfile(json_string_value(json_object_get(show, "modelfile")));
		if (arch) {
			char k[128];
			json_t *v;
			snprintf(k, sizeof(k), "%s.context_length", arch);
			if (json_is_integer(v = json_object_get(mi, k)))
				json_object_set(m->info, "n_ctx_train", v);
			snprintf(k, sizeof(k), "%s.embedding_length", arch);
			if (json_is_integer(v = json_object_get(mi, k)))
				json_object_set(m->info, "n_embd", v);
			json_object_set_new(m->info, "architecture", json_string(arch));
		}
		if (json_is_integer(json_object_get(mi, "general.parameter_count")))
			json_object_set(m->info, "n_params", json_object_get(mi, "general.parameter_count"));
		if (json_is_array(caps))
			json_object_set(m->info, "capabilities", caps);
		if (json_is_object(det))
			json_object_set(m->info, "details", det);
	}
	json_decref(show);
	return 0;
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

static json_t *options_json(const struct llm_request *r)
{
	json_t *opt = json_object();
	int mt = llm_max_tokens(r);
	json_object_set_new(opt, "temperature", json_real(r->opt.temperature));
	json_object_set_new(opt, "top_p", json_real(r->opt.top_p));
	json_object_set_new(opt, "top_k", json_integer(r->opt.top_k));
	json_object_set_new(opt, "seed", json_integer(r->opt.seed));
	if (mt >= 0)
		json_object_set_new(opt, "num_predict", json_integer(mt));
	if (r->opt.n_ctx > 0)
		json_object_set_new(opt, "num_ctx", json_integer(r->opt.n_ctx));
	if (r->opt.n_stop) {
		json_t *s = json_array();
		for (size_t i = 0; i < r->opt.n_stop; i++)
			json_array_append_new(s, json_string(r->opt.stop[i]));
		json_object_set_new(opt, "stop", s);
	}
	return opt;
}

static char *request_body(const struct llm *m, const struct llm_request *r)
{
	json_t *j = json_object(), *fmt;
	char *s;
	json_object_set_new(j, "model", json_string(m->uri.model));
	if (r->raw) {
		json_object_set_new(j, "prompt", json_string(r->prompt));
		json_object_set_new(j, "raw", json_true());
	} else {
		json_t *msgs = json_array();
		if (r->system)
			json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "system", "content", r->system));
		json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "user", "content", r->prompt));
		json_object_set_new(j, "messages", msgs);
	}
	json_object_set_new(j, "stream", json_true());
	json_object_set_new(j, "options", options_json(r));
	fmt = llm_constraint_schema(r);
	if (fmt)
		json_object_set_new(j, "format", fmt);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static char *body_of(const struct llm *m, void *ud, const struct llm_request *r)
{
	(void)ud;
	return request_body(m, r);
}

static int ollama_generate(struct llm *m, const struct llm_request *r, size_t n,
			   struct llm_result *out, struct moat_err *errs)
{
	struct ollama *o = m->be;
	char *chat = url_of(m, "/api/chat"), *gen = url_of(m, "/api/generate");
	struct llm_http_gen sp = { &o->http, chat, gen, "Ollama", HINT, o->hp, body_of, o,
				   llm_parse_ollama_line };
	int failed;
	if (!chat || !gen) {
		for (size_t i = 0; i < n; i++)
			err_set(&errs[i], MOAT_ENOMEM, "out of memory");
		free(chat), free(gen);
		return (int)n;
	}
	failed = llm_http_generate(m, &sp, r, n, out, errs);
	free(chat), free(gen);
	return failed;
}

#define EMBED_BATCH 64

static int ollama_embed(struct llm *m, const char *const *texts, size_t n,
			struct llm_embedding *out, struct moat_err *e)
{
	struct ollama *o = m->be;
	size_t nb = (n + EMBED_BATCH - 1) / EMBED_BATCH;
	struct http_xfer *x = calloc(nb, sizeof(*x));
	struct http_xfer **xs = calloc(nb, sizeof(*xs));
	char **bodies = calloc(nb, sizeof(char *));
	char *url = url_of(m, "/api/embed");
	int rc = 0;

	if (!x || !xs || !bodies || !url) {
		free(x), free(xs), free(bodies), free(url);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	for (size_t b = 0; b < nb; b++) {
		json_t *in = json_array(), *j;
		for (size_t i = b * EMBED_BATCH; i < n && i < (b + 1) * EMBED_BATCH; i++)
			json_array_append_new(in, json_string(texts[i]));
		j = json_pack("{s:s, s:o}", "model", m->uri.model, "input", in);
		bodies[b] = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		xfer_setup(&x[b], url, bodies[b] ? bodies[b] : "{}");
		xs[b] = &x[b];
	}
	if (http_run(&o->http, xs, nb, m->parallel) > 0) {
		for (size_t b = 0; b < nb; b++)
			if (x[b].failed) {
				if (e)
					*e = x[b].err;
				break;
			}
		rc = -1;
	}
	out->prompt_tokens = 0;
	for (size_t b = 0; b < nb && rc == 0; b++) {
		struct llm_embedding part;
		size_t cnt = (b + 1) * EMBED_BATCH < n ? EMBED_BATCH : n - b * EMBED_BATCH;
		memset(&part, 0, sizeof(part));
		if (llm_parse_ollama_embed(x[b].resp.data, x[b].resp.len, cnt, &part, e) < 0) {
			rc = -1;
			break;
		}
		if (b == 0) {
			out->dim = part.dim;
			out->data = malloc(n * part.dim * sizeof(float));
			if (!out->data) {
				free(part.data);
				rc = err_set(e, MOAT_ENOMEM, "out of memory");
				break;
			}
		} else if (part.dim != out->dim) {
			free(part.data);
			rc = err_set(e, MOAT_EPARSE, "Ollama sent embeddings of differing sizes");
			break;
		}
		memcpy(out->data + b * EMBED_BATCH * out->dim, part.data, cnt * part.dim * sizeof(float));
		if (part.prompt_tokens >= 0 && out->prompt_tokens >= 0)
			out->prompt_tokens += part.prompt_tokens;
		else
			out->prompt_tokens = -1;
		free(part.data);
	}
	if (rc == 0)
		out->n = n;
	for (size_t b = 0; b < nb; b++) {
		http_xfer_release(&x[b]);
		free(bodies[b]);
	}
	free(x), free(xs), free(bodies), free(url);
	return rc;
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
		if (!o->vocab)
			err_prefix(&o->vocab_err, "Ollama has no tokenizer endpoint and its GGUF cannot be used "
				   "from the store '%s' (name the store with --models-dir)", dir ? dir : "?");
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
