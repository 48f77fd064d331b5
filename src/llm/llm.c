/*
 * llm.c - the front of the model layer: opening a model by URI, defaults,
 * the checks every request passes before a backend sees it (constraints,
 * seed), the check of every constrained answer after it, and the provenance
 * record each result carries.  The backends (ollama.c, openai.c, embedded.c)
 * only move text; what a result means is decided here.  This file calls the
 * backends; they never call it (what they share is backend.c's).
 */
#include "backend.h"
#include "grammar.h"

#include <stdlib.h>
#include <string.h>

#include "../core/buf.h"
#include "../core/jsonu.h"
#include "../core/progress.h"
#include "../models/models.h"
#include "version.h"

#include "../core/banned.h"

struct llm_config llm_config_default(void)
{
	struct llm_config c;
	memset(&c, 0, sizeof(c));
	c.connect_timeout_ms = 5000;
	c.idle_timeout_ms = 300000;
	c.deadline_ms = 1800000;
	c.retries = 4;
	c.backoff_ms = 250;
	c.n_gpu_layers = -1;
	return c;
}

struct llm_options llm_options_default(void)
{
	struct llm_options o;
	memset(&o, 0, sizeof(o));
	o.temperature = 0.8;
	o.top_p = 0.9;
	o.top_k = 40;
	o.seed = -1;
	o.max_tokens = -1;
	return o;
}

/* A call of the layer begins: its clock and, for all but generate (whose
 * requests carry their own), its budget. */
static void start_call(struct llm *m)
{
	m->call_start = now_seconds();
	m->budget = llm_budget_from(m->call_start, m->cfg.deadline_ms);
}

static const char *backend_name(enum llm_backend b)
{
	switch (b) {
	case LLM_OLLAMA: return "ollama";
	case LLM_OPENAI: return "openai";
	case LLM_GGUF: return "gguf";
	case LLM_STORE: return "store";
	}
	return "?";
}

int llm_have_embedded(void)
{
#ifdef MOAT_WITH_LLAMA
	return 1;
#else
	return 0;
#endif
}

struct llm *llm_open(const char *uri, const struct llm_config *cfg, struct moat_err *e)
{
	struct llm *m = calloc(1, sizeof(*m));
	int rc = -1;
	if (!m) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	m->cfg = cfg ? *cfg : llm_config_default();
	if (m->cfg.n_allow_hosts) {
		m->allow = calloc(m->cfg.n_allow_hosts, sizeof(char *));
		if (!m->allow)
			goto nomem;
		for (size_t i = 0; i < m->cfg.n_allow_hosts; i++)
			if (!(m->allow[i] = strdup(m->cfg.allow_hosts[i])))
				goto nomem;
		m->cfg.allow_hosts = (const char *const *)m->allow;
	} else {
		m->cfg.allow_hosts = NULL;
	}
	if (m->cfg.models_dir && !(m->models_dir = strdup(m->cfg.models_dir)))
		goto nomem;
	m->cfg.models_dir = m->models_dir;
	m->uri_text = strdup(uri ? uri : "");
	m->info = json_object();
	if (!m->uri_text || !m->info)
		goto nomem;
	if (llm_uri_parse(uri, &m->uri, e) < 0)
		goto fail;
	/* a server's probes share one idle timeout: silence is waited for once */
	start_call(m);
	if (m->cfg.idle_timeout_ms > 0 &&
	    (!m->budget.until || m->call_start + m->cfg.idle_timeout_ms / 1000.0 < m->budget.until)) {
		m->budget.until = m->call_start + m->cfg.idle_timeout_ms / 1000.0;
		m->budget.deadline_ms = 0;
	}
	switch (m->uri.backend) {
	case LLM_OLLAMA:
	case LLM_OPENAI:
		if (!llm_host_allowed(m->uri.host, m->cfg.allow_hosts, m->cfg.n_allow_hosts)) {
			err_set(e, MOAT_EUSAGE,
				"refusing host '%s': moat only talks to loopback unless the host is named with "
				"--allow-host %s", m->uri.host, m->uri.host);
			goto fail;
		}
		rc = m->uri.backend == LLM_OLLAMA ? llm_ollama_open(m, e) : llm_openai_open(m, e);
		break;
	case LLM_GGUF:
		rc = llm_embedded_open(m, m->uri.model, e);
		break;
	case LLM_STORE: {
		char *dir, *path;
		if (!llm_have_embedded()) {
			rc = llm_embedded_open(m, m->uri.model, e);  /* the refusal */
			break;
		}
		dir = models_default_dir(cfg ? cfg->models_dir : NULL);
		if (!dir)
			goto nomem;
		path = models_resolve_gguf(dir, m->uri.model, e);
		if (!path) {
			err_prefix(e, "cannot use '%s' from the store '%s'", m->uri.model, dir);
			free(dir);
			goto fail;
		}
		/* a blob is named by its digest: llm_file_digest does not hash it */
		llm_info_set(m, "store", jsonu_string(dir));
		llm_info_set(m, "path", jsonu_string(path));
		free(dir);
		rc = llm_embedded_open(m, path, e);
		free(path);
		break;
	}
	}
	if (rc < 0)
		goto fail;
	if (m->info_nomem)
		goto nomem;
	if (m->parallel < 1)
		m->parallel = 1;
	return m;
nomem:
	err_set(e, MOAT_ENOMEM, "out of memory");
fail:
	llm_free(m);
	return NULL;
}

void llm_free(struct llm *m)
{
	if (!m)
		return;
	if (m->ops && m->ops->free)
		m->ops->free(m);
	for (size_t i = 0; m->allow && i < m->cfg.n_allow_hosts; i++)
		free(m->allow[i]);
	free(m->allow);
	free(m->models_dir);
	free(m->uri_text);
	llm_uri_release(&m->uri);
	free(m->digest);
	free(m->template_sha256);
	json_decref(m->info);
	free(m);
}

/* o[key] = v, a reference it takes; a failure noted in *bad. */
static void put(json_t *o, const char *key, json_t *v, int *bad)
{
	if (json_object_set_new(o, key, v) < 0)
		*bad = 1;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *done(json_t *o, int bad)
{
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *llm_info(const struct llm *m)
{
	json_t *j = json_deep_copy(m->info);
	int bad = !j;
	put(j, "uri", jsonu_string(m->uri_text), &bad);
	put(j, "backend", json_string(backend_name(m->uri.backend)), &bad);
	put(j, "model", jsonu_string(m->uri.model), &bad);
	put(j, "digest", str_or_null(m->digest), &bad);
	put(j, "template_sha256", str_or_null(m->template_sha256), &bad);
	put(j, "parallel", json_integer(m->parallel), &bad);
	return done(j, bad);
}

/* What a request asked for, as the provenance records it. */
static json_t *options_json(const struct llm_request *r)
{
	json_t *opt = json_object();
	int bad = !opt;
	put(opt, "temperature", json_real(r->opt.temperature), &bad);
	put(opt, "top_p", json_real(r->opt.top_p), &bad);
	put(opt, "top_k", json_integer(r->opt.top_k), &bad);
	put(opt, "max_tokens", json_integer(llm_max_tokens(r)), &bad);
	if (r->opt.n_ctx > 0)
		put(opt, "n_ctx", json_integer(r->opt.n_ctx), &bad);
	put(opt, "stop", llm_json_strings(r->opt.stop, r->opt.n_stop), &bad);
	put(opt, "raw", json_boolean(r->raw), &bad);
	if (r->constraint == LLM_LABEL || r->constraint == LLM_LABELS) {
		put(opt, "labels", llm_json_strings(r->labels, r->n_labels), &bad);
		put(opt, "multi_label", json_boolean(r->constraint == LLM_LABELS), &bad);
	} else if (r->constraint == LLM_SCHEMA) {
		char *s = json_dumps(r->schema, JSON_COMPACT | JSON_SORT_KEYS), h[65];
		llm_sha256_str(s, h);
		bad |= !s;
		free(s);
		put(opt, "schema_sha256", json_string(h), &bad);
	}
	return done(opt, bad);
}

/* The provenance record of a result; NULL when out of memory. */
static json_t *provenance(const struct llm *m, const struct llm_request *r)
{
	json_t *p = json_object();
	int bad = !p;
	char h[65];
	put(p, "model", jsonu_string(m->uri_text), &bad);
	put(p, "backend", json_string(backend_name(m->uri.backend)), &bad);
	put(p, "model_digest", str_or_null(m->digest), &bad);
	put(p, "template_sha256", str_or_null(m->template_sha256), &bad);
	if (r->template_text) {
		llm_sha256_str(r->template_text, h);
		put(p, "request_template_sha256", json_string(h), &bad);
	}
	put(p, "options", options_json(r), &bad);
	put(p, "seed", json_integer(r->opt.seed), &bad);
	put(p, "moat", json_string(MOAT_VERSION), &bad);
	return done(p, bad);
}

/* -1 with the reason when a model of backend b cannot be sent images. */
static int images_refused(enum llm_backend b, const char *uri, struct moat_err *e)
{
	if (b != LLM_GGUF && b != LLM_STORE)
		return 0;
	return err_set(e, MOAT_EUNSUPPORTED, "'%s' cannot look at images: moat's embedded "
		       "llama.cpp has no vision projector; serve a vision model with Ollama or "
		       "llama-server --mmproj and name it ollama:// or openai://", uri);
}

int llm_check_images(const char *uri, struct moat_err *e)
{
	struct llm_uri u;
	int rc;
	if (llm_uri_parse(uri, &u, e) < 0)
		return -1;
	rc = images_refused(u.backend, uri, e);
	llm_uri_release(&u);
	return rc;
}

static int check_request(const struct llm_request *r, struct moat_err *e)
{
	struct buf g = BUF_INIT;
	int rc;
	if (!r->prompt)
		return err_set(e, MOAT_EUSAGE, "no prompt");
	if (r->opt.temperature < 0 || r->opt.top_p < 0 || r->opt.top_p > 1)
		return err_set(e, MOAT_EUSAGE, "bad sampling options (temperature >= 0, 0 <= top-p <= 1)");
	if (r->n_images && r->raw)
		return err_set(e, MOAT_EUSAGE, "a raw prompt takes no images");
	if (r->constraint == LLM_FREE)
		return 0;
	/* building the grammar checks labels and the schema subset */
	rc = llm_grammar(r, &g, e);
	buf_release(&g);
	return rc;
}

int llm_generate_many(struct llm *m, const struct llm_request *r, size_t n, struct llm_result *out,
		      struct moat_err *errs)
{
	struct llm_request *rr;
	struct llm_result *sub_out;
	struct moat_err *sub_err;
	size_t *idx, k = 0;
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].prompt_tokens = out[i].completion_tokens = -1;
		err_clear(&errs[i]);
	}
	if (n == 0)
		return 0;
	start_call(m);
	rr = calloc(n, sizeof(*rr));
	sub_out = calloc(n, sizeof(*sub_out));
	sub_err = calloc(n, sizeof(*sub_err));
	idx = calloc(n, sizeof(*idx));
	if (!rr || !sub_out || !sub_err || !idx) {
		for (size_t i = 0; i < n; i++)
			err_set(&errs[i], MOAT_ENOMEM, "out of memory");
		free(rr), free(sub_out), free(sub_err), free(idx);
		return (int)n;
	}
	for (size_t i = 0; i < n; i++) {
		struct llm_request q = r[i];
		q.opt.seed = llm_pick_seed(&r[i]);
		if (q.started <= 0)
			q.started = m->call_start;
		out[i].provenance = NULL;
		if (check_request(&q, &errs[i]) < 0 ||
		    (q.n_images && images_refused(m->uri.backend, m->uri_text, &errs[i]) < 0)) {
			failed++;
			out[i].provenance = provenance(m, &q);
			continue;
		}
		rr[k] = q;
		idx[k] = i;
		sub_out[k].prompt_tokens = sub_out[k].completion_tokens = -1;
		k++;
	}
	if (k)
		m->ops->generate(m, rr, k, sub_out, sub_err);
	for (size_t j = 0; j < k; j++) {
		size_t i = idx[j];
		struct llm_result *o = &out[i];
		*o = sub_out[j];
		errs[i] = sub_err[j];
		o->provenance = provenance(m, &rr[j]);
		if (!o->text)
			o->text = strdup("");
		if (!errs[i].code && (!o->provenance || !o->text))
			err_set(&errs[i], MOAT_ENOMEM, "out of memory");
		if (errs[i].code) {
			failed++;
			continue;
		}
		if (rr[j].constraint != LLM_FREE) {
			if (!strcmp(o->finish, "length")) {
				err_set(&errs[i], MOAT_ELIMIT,
					"the constrained answer was cut at max tokens (%d): raise --max-tokens",
					llm_max_tokens(&rr[j]));
				failed++;
				continue;
			}
			if (llm_check_answer(&rr[j], o->text, &o->value, &errs[i]) < 0) {
				if (errs[i].code != MOAT_ENOMEM)
					err_prefix(&errs[i], "the model's answer does not follow the constraint");
				failed++;
				continue;
			}
		}
	}
	free(rr), free(sub_out), free(sub_err), free(idx);
	return failed;
}

int llm_generate(struct llm *m, const struct llm_request *r, struct llm_result *out,
		 struct moat_err *e)
{
	struct moat_err tmp = MOAT_ERR_INIT;
	int f = llm_generate_many(m, r, 1, out, &tmp);
	if (f) {
		if (e)
			*e = tmp;
		return -1;
	}
	return 0;
}

int llm_embed(struct llm *m, const char *const *texts, size_t n, struct llm_embedding *out,
	      struct moat_err *e)
{
	memset(out, 0, sizeof(*out));
	out->prompt_tokens = -1;
	if (n == 0)
		return err_set(e, MOAT_EUSAGE, "nothing to embed");
	for (size_t i = 0; i < n; i++)
		if (!texts[i])
			return err_set(e, MOAT_EUSAGE, "text %zu is missing", i + 1);
	if (!m->ops->embed)
		return err_set(e, MOAT_EUNSUPPORTED, "'%s' cannot embed", m->uri_text);
	start_call(m);
	if (m->ops->embed(m, texts, n, out, e) < 0) {
		llm_embedding_release(out);
		return -1;
	}
	{
		json_t *p = json_object();
		int bad = !p;
		put(p, "model", jsonu_string(m->uri_text), &bad);
		put(p, "backend", json_string(backend_name(m->uri.backend)), &bad);
		put(p, "model_digest", str_or_null(m->digest), &bad);
		put(p, "dim", json_integer((json_int_t)out->dim), &bad);
		put(p, "moat", json_string(MOAT_VERSION), &bad);
		out->provenance = done(p, bad);
	}
	if (!out->provenance) {
		llm_embedding_release(out);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	return 0;
}

long llm_count_tokens(struct llm *m, const char *text, struct moat_err *e)
{
	if (!text)
		return err_set(e, MOAT_EUSAGE, "no text");
	if (!m->ops->count_tokens)
		return err_set(e, MOAT_EUNSUPPORTED, "'%s' has no tokenizer moat can use", m->uri_text);
	start_call(m);
	return m->ops->count_tokens(m, text, e);
}

long llm_token_ends(struct llm *m, const char *text, size_t len, uint32_t **ends, struct moat_err *e)
{
	long n;
	*ends = NULL;
	if (!text)
		return err_set(e, MOAT_EUSAGE, "no text");
	if (len > (size_t)INT32_MAX - 16)
		return err_set(e, MOAT_ELIMIT, "text of %zu bytes is too long to tokenize", len);
	if (!m->ops->token_ends)
		return err_set(e, MOAT_EUNSUPPORTED, "'%s' cannot say where its tokens end", m->uri_text);
	start_call(m);
	n = m->ops->token_ends(m, text, len, ends, e);
	if (n < 0) {
		free(*ends);
		*ends = NULL;
	}
	return n;
}

/* Servers: P raw requests of about prompt_tokens words each, generating
 * gen_tokens; the server's own timings when one request runs alone. */
static int bench_server(struct llm *m, const struct llm_bench_opts *o, struct llm_bench_result *res,
			struct moat_err *e)
{
	int P = o->parallel, R = o->repeat;
	double pp_tok = 0, pp_s = 0, tg_tok = 0, tg_s = 0, tg1_s = 0, wall_all = 0;
	struct llm_request *rq = calloc((size_t)P, sizeof(*rq));
	struct llm_result *rs = calloc((size_t)P, sizeof(*rs));
	struct moat_err *es = calloc((size_t)P, sizeof(*es));
	char **prompts = calloc((size_t)P, sizeof(char *));
	int rc = 0, server_timed = 1;

	if (!rq || !rs || !es || !prompts) {
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (int rep = 0; rep <= R; rep++) {  /* rep 0 warms up (loads the model) */
		double t0, wall;
		for (int i = 0; i < P; i++) {
			struct buf b = BUF_INIT;
			/* a different start each time, so no prompt cache helps */
			buf_addf(&b, "%u", llm_pick_seed(NULL));
			for (int w = 1; w < o->prompt_tokens; w++)
				buf_adds(&b, " the");
			free(prompts[i]);
			prompts[i] = buf_detach(&b, NULL);
			if (!prompts[i]) {
				rc = err_set(e, MOAT_ENOMEM, "out of memory");
				goto out;
			}
			memset(&rq[i], 0, sizeof(rq[i]));
			rq[i].prompt = prompts[i];
			rq[i].raw = 1;
			rq[i].ignore_eos = 1;
			rq[i].opt = llm_options_default();
			rq[i].opt.temperature = 0;
			rq[i].opt.seed = 1;
			rq[i].opt.max_tokens = rep == 0 ? 4 : o->gen_tokens;
		}
		t0 = now_seconds();
		if (llm_generate_many(m, rq, (size_t)P, rs, es) > 0) {
			for (int i = 0; i < P; i++)
				if (es[i].code) {
					if (e)
						*e = es[i];
					break;
				}
			rc = -1;
		}
		wall = now_seconds() - t0;
		for (int i = 0; i < P && rc == 0 && rep > 0; i++) {
			int pt = rs[i].prompt_tokens > 0 ? rs[i].prompt_tokens : o->prompt_tokens;
			int ct = rs[i].completion_tokens >= 0 ? rs[i].completion_tokens : 0;
			pp_tok += pt;
			tg_tok += ct;
			if (rs[i].prompt_s > 0 && rs[i].gen_s > 0) {
				pp_s += rs[i].prompt_s;
				tg1_s += rs[i].gen_s;
			} else {
				server_timed = 0;
			}
		}
		if (rep > 0)
			wall_all += wall, tg_s += wall;
		for (int i = 0; i < P; i++)
			llm_result_release(&rs[i]);
		if (rc < 0)
			goto out;
	}
	res->wall_s = wall_all;
	res->measured_by_server = server_timed;
	if (server_timed) {
		/* the P requests ran side by side: the aggregate rate is the tokens
		 * over the mean time one request took */
		res->pp_tps = pp_s > 0 ? pp_tok / pp_s * P : 0;
		res->tg_tps_seq = tg1_s > 0 ? tg_tok / tg1_s : 0;
		res->tg_tps = res->tg_tps_seq * P;
	} else {
		res->pp_tps = 0;
		res->tg_tps = tg_s > 0 ? tg_tok / tg_s : 0;
		res->tg_tps_seq = res->tg_tps / P;
	}
	res->gen_tokens = R > 0 ? (int)(tg_tok / R / P) : 0;
out:
	for (int i = 0; prompts && i < P; i++)
		free(prompts[i]);
	free(prompts), free(rq), free(rs), free(es);
	return rc;
}

int llm_bench(struct llm *m, const struct llm_bench_opts *o, struct llm_bench_result *out,
	      struct moat_err *e)
{
	struct llm_bench_opts d = { 512, 128, 1, 3 };
	if (o)
		d = *o;
	if (d.prompt_tokens < 1)
		d.prompt_tokens = 1;
	if (d.gen_tokens < 1)
		d.gen_tokens = 1;
	if (d.parallel < 1)
		d.parallel = 1;
	if (d.repeat < 1)
		d.repeat = 1;
	memset(out, 0, sizeof(*out));
	out->prompt_tokens = d.prompt_tokens;
	out->gen_tokens = d.gen_tokens;
	out->parallel = d.parallel;
	out->repeat = d.repeat;
	if (m->ops->bench)
		return m->ops->bench(m, &d, out, e);
	return bench_server(m, &d, out, e);
}
