/*
 * suggest.c - AI pre-labels (label.h: label_suggest): each task's prompt
 * from the schema's template, an answer constrained to the schema through
 * the model layer, the answer turned into a value moat checks (span offsets
 * are found by moat in the task's text, never taken from the model), stored
 * with its provenance.  Tasks that have a suggestion from the model are
 * skipped, so a killed run resumes where it stopped.
 */
#include "label.h"
#include "../llm/llm.h"
#include "../store/store.h"
#include "../store/audit.h"
#include "../store/label.h"
#include "../core/buf.h"
#include "../core/fmt.h"
#include "../core/hash.h"
#include "../core/progress.h"
#include "../core/shard.h"
#include "../core/utf8.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

#define TEXT_MAX_CP 6000   /* the task text a prompt carries, in code points */

static const char *default_prompt(enum label_kind k, int multi)
{
	switch (k) {
	case LABEL_CLASSIFICATION:
		return multi ? "Which of these labels apply to the text below? Labels: {{labels}}\n\n"
			       "Text:\n{{text}}"
			     : "Classify the text below with one of these labels: {{labels}}\n\n"
			       "Text:\n{{text}}";
	case LABEL_SPANS:
		return "Find every passage of the text below that is one of these kinds: {{labels}}. "
		       "Copy each passage exactly as it is written.\n\nText:\n{{text}}";
	case LABEL_QA:
		return "{{question}}\n\nAnswer from this passage:\n{{text}}";
	case LABEL_PREFERENCE:
		return "Which response answers the prompt better? Answer 1 or 2.\n\nPrompt:\n{{text}}\n\n"
		       "Response 1:\n{{response_a}}\n\nResponse 2:\n{{response_b}}";
	case LABEL_BOXES:
		return "Find every {{labels}} in this image of {{width}}x{{height}} pixels. Give each "
		       "one's box in pixels: x and y of its top-left corner, its width w and height h.";
	}
	return "{{text}}";
}

/* A meta field of the task as text, or "". */
static const char *meta_str(const json_t *task, const char *key)
{
	const char *v = json_string_value(json_object_get(json_object_get(task, "meta"), key));
	return v ? v : "";
}

char *label_render_prompt(const struct label_schema *sc, const char *template_text,
			  const json_t *task, struct moat_err *e)
{
	const char *tpl = template_text ? template_text : sc->prompt ? sc->prompt
								  : default_prompt(sc->kind, sc->multi);
	const char *text = json_string_value(json_object_get(task, "text"));
	struct buf b = BUF_INIT;
	if (!text)
		text = "";
	for (const char *p = tpl; *p;) {
		const char *open = strstr(p, "{{"), *close;
		if (!open) {
			buf_adds(&b, p);
			break;
		}
		buf_add(&b, p, (size_t)(open - p));
		if (!(close = strstr(open + 2, "}}"))) {
			buf_adds(&b, open);
			break;
		}
		{
			size_t n = (size_t)(close - open - 2);
			const char *name = open + 2;
			if (n == 4 && !strncmp(name, "text", 4)) {
				size_t len = strlen(text), cut = 0, cp = 0;
				while (cut < len && cp < TEXT_MAX_CP) {  /* whole characters */
					cut++;
					while (cut < len && ((unsigned char)text[cut] & 0xc0) == 0x80)
						cut++;
					cp++;
				}
				buf_add(&b, text, cut);
			} else if (n == 6 && !strncmp(name, "labels", 6)) {
				for (size_t i = 0; i < sc->n_labels; i++) {
					if (i)
						buf_adds(&b, ", ");
					buf_adds(&b, sc->labels[i].name);
					if (sc->labels[i].description) {
						buf_adds(&b, " (");
						buf_adds(&b, sc->labels[i].description);
						buf_adds(&b, ")");
					}
				}
			} else if (n == 8 && !strncmp(name, "question", 8)) {
				buf_adds(&b, meta_str(task, "question"));
			} else if (n == 10 && !strncmp(name, "response_a", 10)) {
				buf_adds(&b, meta_str(task, "response_a"));
			} else if (n == 10 && !strncmp(name, "response_b", 10)) {
				buf_adds(&b, meta_str(task, "response_b"));
			} else if ((n == 5 && !strncmp(name, "width", 5)) ||
				   (n == 6 && !strncmp(name, "height", 6))) {
				buf_addf(&b, "%lld", (long long)json_integer_value(
						 json_object_get(task, n == 5 ? "width" : "height")));
			} else if (n == 4 && !strncmp(name, "name", 4)) {
				const char *nm = json_string_value(json_object_get(task, "name"));
				buf_adds(&b, nm ? nm : "");
			} else {
				char field[40];
				if (n >= sizeof(field))
					n = sizeof(field) - 1;
				memcpy(field, name, n);
				field[n] = '\0';
				buf_release(&b);
				return err_set(e, MOAT_EUSAGE, "prompt template: unknown field '{{%s}}' (text, "
					       "labels, question, response_a, response_b, name, width, height)", field), NULL;
			}
			p = close + 2;
		}
	}
	if (buf_failed(&b)) {
		buf_release(&b);
		return err_set(e, MOAT_ENOMEM, "out of memory"), NULL;
	}
	return buf_detach(&b, NULL);
}

/* The schema's label names as a JSON array (an "enum"). */
static json_t *label_names(const struct label_schema *sc)
{
	json_t *labels = json_array();
	for (size_t i = 0; labels && i < sc->n_labels; i++)
		json_array_append_new(labels, json_string(sc->labels[i].name));
	return labels;
}

int label_template_check(const struct label_schema *sc, const char *tpl, struct moat_err *e)
{
	json_t *empty = json_object();
	char *p = empty ? label_render_prompt(sc, tpl, empty, e) : NULL;
	json_decref(empty);
	if (!p)
		return e && e->code ? -1 : err_set(e, MOAT_ENOMEM, "out of memory");
	free(p);
	return 0;
}

/* The JSON schema a spans answer follows: the passages and their labels. */
static json_t *spans_schema(const struct label_schema *sc)
{
	json_t *labels = label_names(sc);
	return json_pack("{s:s, s:{s:{s:s, s:i, s:{s:s, s:{s:{s:s, s:i, s:i}, s:{s:s, s:o}},"
			 " s:[s, s]}}}, s:[s]}",
			 "type", "object", "properties", "spans", "type", "array", "maxItems", 32,
			 "items", "type", "object", "properties", "text", "type", "string",
			 "minLength", 1, "maxLength", 400, "label", "type", "string", "enum", labels,
			 "required", "text", "label", "required", "spans");
}

/* The JSON schema a boxes answer follows: labelled boxes in pixels. */
static json_t *boxes_schema(const struct label_schema *sc)
{
	json_t *labels = label_names(sc);
	return json_pack("{s:s, s:{s:{s:s, s:i, s:{s:s, s:{s:{s:s, s:o}, s:{s:s}, s:{s:s},"
			 " s:{s:s}, s:{s:s}}, s:[s, s, s, s, s]}}}, s:[s]}",
			 "type", "object", "properties", "boxes", "type", "array", "maxItems", 32,
			 "items", "type", "object", "properties", "label", "type", "string", "enum",
			 labels, "x", "type", "integer", "y", "type", "integer", "w", "type",
			 "integer", "h", "type", "integer", "required", "label", "x", "y", "w", "h",
			 "required", "boxes");
}

/* A box of the model's clipped to the picture: 0 when nothing is left. */
static int clip_box(double *x, double *y, double *w, double *h, double W, double H)
{
	double x1 = *x + *w, y1 = *y + *h;
	*x = *x < 0 ? 0 : *x > W ? W : *x;
	*y = *y < 0 ? 0 : *y > H ? H : *y;
	x1 = x1 > W ? W : x1;
	y1 = y1 > H ? H : y1;
	*w = x1 - *x;
	*h = y1 - *y;
	return *w >= 1 && *h >= 1;
}

/* Code point offset of byte offset b in s. */
static size_t byte_cp(const char *s, size_t b)
{
	return utf8_count(s, b);
}

/* The model's answer as a value of the schema's kind (spans: each passage
 * found in the text, the first occurrence not yet taken for that label). */
static json_t *to_value(const struct label_schema *sc, const json_t *task, const struct llm_result *r)
{
	const char *text = json_string_value(json_object_get(task, "text"));
	switch (sc->kind) {
	case LABEL_CLASSIFICATION:
		if (json_is_string(r->value))
			return json_pack("{s:[O]}", "labels", r->value);
		return json_pack("{s:O}", "labels", r->value);
	case LABEL_PREFERENCE:
		return json_pack("{s:i}", "preference", !strcmp(json_string_value(r->value), "2") ? 2 : 1);
	case LABEL_QA: {
		const char *t = r->text ? r->text : "";
		while (*t == ' ' || *t == '\n')
			t++;
		return json_pack("{s:s}", "text", t);
	}
	case LABEL_SPANS: {
		json_t *spans = json_array(), *sp;
		size_t i;
		if (!spans)
			return NULL;
		json_array_foreach(json_object_get(r->value, "spans"), i, sp) {
			const char *pass = json_string_value(json_object_get(sp, "text"));
			const char *lab = json_string_value(json_object_get(sp, "label"));
			const char *at = text;
			while (pass && *pass && text && (at = strstr(at, pass))) {
				size_t a = byte_cp(text, (size_t)(at - text));
				size_t b = a + utf8_count(pass, strlen(pass));
				size_t k;
				json_t *x;
				int taken = 0;
				json_array_foreach(spans, k, x)
					taken |= (size_t)json_integer_value(json_array_get(x, 0)) == a &&
						 !strcmp(json_string_value(json_array_get(x, 2)), lab);
				if (!taken) {
					json_array_append_new(spans, json_pack("[I, I, s]", (json_int_t)a,
									       (json_int_t)b, lab));
					break;
				}
				at++;
			}
		}
		return json_pack("{s:o}", "spans", spans);
	}
	case LABEL_BOXES: {
		/* boxes the model drew past the picture's edge are cut at it; a
		 * box with nothing left inside is dropped */
		json_t *boxes = json_array(), *b;
		double W = (double)json_integer_value(json_object_get(task, "width"));
		double H = (double)json_integer_value(json_object_get(task, "height"));
		size_t i;
		if (!boxes)
			return NULL;
		json_array_foreach(json_object_get(r->value, "boxes"), i, b) {
			double x = (double)json_integer_value(json_object_get(b, "x"));
			double y = (double)json_integer_value(json_object_get(b, "y"));
			double w = (double)json_integer_value(json_object_get(b, "w"));
			double h = (double)json_integer_value(json_object_get(b, "h"));
			if (clip_box(&x, &y, &w, &h, W, H))
				json_array_append_new(boxes, json_pack("[I, I, I, I, O]", (json_int_t)x,
								       (json_int_t)y, (json_int_t)w, (json_int_t)h,
								       json_object_get(b, "label")));
		}
		return json_pack("{s:o}", "boxes", boxes);
	}
	}
	return NULL;
}

/* The first failure's message, kept as a cut line when it is long. */
static void first_error(struct label_suggest_result *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void first_error(struct label_suggest_result *out, const char *fmt, ...)
{
	va_list ap;
	if (out->first_error[0])
		return;
	va_start(ap, fmt);
	if (xvsnprintf(out->first_error, sizeof(out->first_error), fmt, ap) < 0)
		out->first_error[sizeof(out->first_error) - 1] = '\0';  /* cut, said as such */
	va_end(ap);
}

struct pending {
	json_t *task;
	char *prompt;
	struct buf image;          /* boxes: the task's picture (label_task_image) */
	char mime[32];
};

struct run {
	struct store *s;
	const struct label_schema *sc;
	const struct label_suggest_opts *o;
	struct label_suggest_result *out;
	struct llm *m;
	const char **labels;
	json_t *schema;
	struct pending *batch;
	size_t n, cap;
	double gen_s;
	int64_t gen_tokens;
	const char *project;
	int64_t pid;
};

static int flush(struct run *r, struct moat_err *e)
{
	struct llm_request *req = calloc(r->n ? r->n : 1, sizeof(*req));
	struct llm_image *img = calloc(r->n ? r->n : 1, sizeof(*img));
	struct llm_result *res = calloc(r->n ? r->n : 1, sizeof(*res));
	struct moat_err *errs = calloc(r->n ? r->n : 1, sizeof(*errs));
	int rc = 0;
	if (!req || !res || !errs || !img) {
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < r->n; i++) {
		req[i].prompt = r->batch[i].prompt;
		req[i].opt = llm_options_default();
		req[i].opt.temperature = 0;
		req[i].opt.seed = r->o->seed;
		req[i].template_text = r->o->template_text ? r->o->template_text : r->sc->prompt ? r->sc->prompt
							: default_prompt(r->sc->kind, r->sc->multi);
		req[i].cancel = r->o->cancel;
		switch (r->sc->kind) {
		case LABEL_CLASSIFICATION:
			req[i].constraint = r->sc->multi ? LLM_LABELS : LLM_LABEL;
			req[i].labels = r->labels;
			req[i].n_labels = r->sc->n_labels;
			break;
		case LABEL_PREFERENCE: {
			static const char *const PREF[] = { "1", "2" };
			req[i].constraint = LLM_LABEL;
			req[i].labels = PREF;
			req[i].n_labels = 2;
			break;
		}
		case LABEL_SPANS:
			req[i].constraint = LLM_SCHEMA;
			req[i].schema = r->schema;
			req[i].opt.max_tokens = 1024;
			break;
		case LABEL_BOXES:
			img[i] = (struct llm_image){ r->batch[i].image.data, r->batch[i].image.len,
						     r->batch[i].mime };
			req[i].images = &img[i];
			req[i].n_images = 1;
			req[i].constraint = LLM_SCHEMA;
			req[i].schema = r->schema;
			req[i].opt.max_tokens = 1024;
			break;
		default:
			req[i].opt.max_tokens = 256;
			break;
		}
	}
	/* each request's failure is in errs[i], counted below */
	if (llm_generate_many(r->m, req, r->n, res, errs) < 0)
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
	for (size_t i = 0; i < r->n; i++) {
		json_t *value = NULL, *prov = res[i].provenance;
		struct moat_err ve = MOAT_ERR_INIT;
		char *vtext = NULL, *prov_text = NULL, *opts = NULL, psha[65];
		int64_t tid = json_integer_value(json_object_get(r->batch[i].task, "id"));
		const char *text = json_string_value(json_object_get(r->batch[i].task, "text"));
		if (errs[i].code) {
			if (errs[i].code == MOAT_EINTERRUPTED)
				continue;
			r->out->failed++;
			first_error(r->out, "task %lld: %s", (long long)tid, errs[i].msg);
			continue;
		}
		if (res[i].gen_s > 0) {
			r->gen_s += res[i].gen_s;
			r->gen_tokens += res[i].completion_tokens > 0 ? res[i].completion_tokens : 0;
		}
		value = to_value(r->sc, r->batch[i].task, &res[i]);
		if (!value || label_value_check(r->sc, value, text ? utf8_count(text, strlen(text)) : 0,
						(int)json_integer_value(json_object_get(r->batch[i].task,
											"width")),
						(int)json_integer_value(json_object_get(r->batch[i].task,
											"height")),
						&ve) < 0) {
			r->out->failed++;
			first_error(r->out, "task %lld: the answer is not a valid value: %s",
				    (long long)tid, value ? ve.msg : "out of memory");
			json_decref(value);
			continue;
		}
		sha256_hex_mem(r->batch[i].prompt, strlen(r->batch[i].prompt), psha);
		if (prov) {  /* what eval reports as tokens/s */
			json_object_set_new(prov, "completion_tokens", json_integer(res[i].completion_tokens));
			json_object_set_new(prov, "gen_s", json_real(res[i].gen_s));
			json_object_set_new(prov, "total_s", json_real(res[i].total_s));
			if (r->batch[i].image.len) {  /* the picture the model saw */
				char isha[65];
				sha256_hex_mem(r->batch[i].image.data, r->batch[i].image.len, isha);
				json_object_set_new(prov, "image_sha256", json_string(isha));
				json_object_set_new(prov, "image_size", json_pack("[i, i]",
					(int)json_integer_value(json_object_get(r->batch[i].task, "width")),
					(int)json_integer_value(json_object_get(r->batch[i].task, "height"))));
			}
			if (res[i].n_logprob > 0) {  /* the score's source */
				json_object_set_new(prov, "logprob", json_real(res[i].logprob));
				json_object_set_new(prov, "logprob_tokens", json_integer(res[i].n_logprob));
			}
		}
		vtext = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);
		prov_text = prov ? json_dumps(prov, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		opts = json_dumps(json_object_get(prov, "options") ? json_object_get(prov, "options")
								  : json_object(), JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(value);
		if (!vtext || !opts) {
			free(vtext);
			free(prov_text);
			free(opts);
			rc = err_set(e, MOAT_ENOMEM, "out of memory");
			break;
		}
		{
			struct lb_suggestion g = { vtext, r->o->model,
						   json_string_value(json_object_get(prov, "model_digest")),
						   llm_result_score(&res[i]), psha, opts,
						   json_integer_value(json_object_get(prov, "seed")), prov_text };
			if (store_begin(r->s, e) < 0 ||
			    lb_suggestion_add(r->s, tid, &g, r->o->run_id, NULL, e) < 0 ||
			    store_commit(r->s, e) < 0) {
				store_rollback(r->s);
				rc = -1;
			}
		}
		free(vtext);
		free(prov_text);
		free(opts);
		if (rc < 0)
			break;
		r->out->done++;
	}
out:
	for (size_t i = 0; i < r->n; i++) {
		if (res)
			llm_result_release(&res[i]);
		json_decref(r->batch[i].task);
		free(r->batch[i].prompt);
		buf_release(&r->batch[i].image);
	}
	r->n = 0;
	free(img);
	free(req);
	free(res);
	free(errs);
	if (rc == 0 && r->o->progress)
		r->o->progress(r->o->ud, r->out->done, r->out->failed, r->out->total);
	if (rc == 0 && r->o->suggest_run > 0) {
		struct moat_err ue = MOAT_ERR_INIT;
		if (lb_suggest_run_update(r->s, r->o->suggest_run, NULL, r->out->total, r->out->done,
					  r->out->failed, NULL, &ue) < 0)
			rc = err_set(e, ue.code, "%s", ue.msg);
	}
	return rc;
}

static int in_shard(struct run *r, const json_t *task)
{
	char id[32];
	if (!r->o->shard || !r->o->shard->n)
		return 1;
	if (xsnprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(task, "id"))) < 0)
		return 0;
	return shard_has(r->o->shard, id);
}

static int on_count(void *ctx, json_t *task, struct moat_err *e)
{
	struct run *r = ctx;
	(void)e;
	if (in_shard(r, task) && (!r->o->limit || r->out->total < r->o->limit))
		r->out->total++;
	return 0;
}

static int on_task(void *ctx, json_t *task, struct moat_err *e)
{
	struct run *r = ctx;
	char *prompt;
	if (!in_shard(r, task))
		return 0;
	if (r->o->cancel && *r->o->cancel)
		return 1;
	if (r->o->limit && r->out->done + r->out->failed + (int64_t)r->n >= r->o->limit)
		return 2;
	if (r->n == r->cap)  /* cannot happen: flushed when full */
		return err_set(e, MOAT_ENOMEM, "batch full");
	if (r->sc->kind == LABEL_BOXES && !r->o->dry_run) {
		/* the picture first: the prompt may name its size */
		struct pending *p = &r->batch[r->n];
		struct moat_err ie = MOAT_ERR_INIT;
		int w, h;
		buf_init(&p->image, 0);
		if (label_task_image(r->s, r->project, json_integer_value(json_object_get(task, "id")),
				     &p->image, p->mime, &w, &h, &ie) < 0) {
			buf_release(&p->image);
			r->out->failed++;
			first_error(r->out, "task %lld: %s",
				    (long long)json_integer_value(json_object_get(task, "id")), ie.msg);
			return 0;
		}
		json_object_set_new(task, "width", json_integer(w));
		json_object_set_new(task, "height", json_integer(h));
	}
	if (!(prompt = label_render_prompt(r->sc, r->o->template_text, task, e))) {
		buf_release(&r->batch[r->n].image);
		return -1;
	}
	if (r->o->dry_run) {
		free(prompt);
		r->out->skipped++;
		return 0;
	}
	r->batch[r->n].task = json_incref(task);
	r->batch[r->n].prompt = prompt;
	r->n++;
	if (r->n == r->cap)
		return flush(r, e) < 0 ? -1 : 0;
	return 0;
}

int label_suggest(struct store *s, const char *project, const struct label_suggest_opts *o,
		  struct label_suggest_result *out, struct moat_err *e)
{
	struct run r;
	struct label_schema *sc;
	struct llm_config cfg = o->llm ? *o->llm : llm_config_default();
	int64_t pid;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	if (!(sc = label_project_schema(s, project, &pid, e)))
		return -1;
	if (o->template_text && label_template_check(sc, o->template_text, e) < 0) {
		label_schema_free(sc);  /* an unknown field is refused before any work */
		return -1;
	}
	r.s = s;
	r.sc = sc;
	r.o = o;
	r.out = out;
	r.project = project;
	r.pid = pid;
	r.cap = o->jobs > 0 ? (size_t)o->jobs : 1;
	if (!(r.batch = calloc(r.cap, sizeof(*r.batch))) ||
	    !(r.labels = calloc(sc->n_labels + 1, sizeof(*r.labels)))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < sc->n_labels; i++)
		r.labels[i] = sc->labels[i].name;
	if ((sc->kind == LABEL_SPANS && !(r.schema = spans_schema(sc))) ||
	    (sc->kind == LABEL_BOXES && !(r.schema = boxes_schema(sc)))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (sc->kind == LABEL_BOXES && llm_check_images(o->model, e) < 0)
		goto out;  /* before any work: boxes need a model that sees the picture */
	if (lb_each_task(s, pid, o->model, on_count, &r, e) < 0)
		goto out;
	if (!o->dry_run && out->total) {
		cfg.parallel = (int)r.cap;
		if (!(r.m = llm_open(o->model, &cfg, e)))
			goto out;
	}
	if (o->suggest_run > 0 &&
	    lb_suggest_run_update(s, o->suggest_run, NULL, out->total, 0, 0, NULL, e) < 0)
		goto out;
	{
		int w = lb_each_task(s, pid, o->model, on_task, &r, e);
		if (w < 0)
			goto out;
	}
	if (r.n && flush(&r, e) < 0)
		goto out;
	if (r.gen_s > 0)
		out->tokens_per_s = (double)r.gen_tokens / r.gen_s;
	rc = 0;
	if (o->cancel && *o->cancel)
		rc = err_set(e, MOAT_EINTERRUPTED, "interrupted after %lld suggestions",
			     (long long)out->done);
out:
	for (size_t i = 0; i < r.n; i++) {
		json_decref(r.batch[i].task);
		free(r.batch[i].prompt);
		buf_release(&r.batch[i].image);
	}
	free(r.batch);
	free(r.labels);
	json_decref(r.schema);
	llm_free(r.m);
	label_schema_free(sc);
	return rc;
}

int64_t label_suggest_run_new(struct store *s, const char *project, const char *model,
			      const char *user, struct moat_err *e)
{
	struct lb_project p;
	int64_t id;
	if (lb_project_get(s, project, &p, e) < 0)
		return -1;
	lb_project_release(&p);
	if (store_begin(s, e) < 0)
		return -1;
	if ((id = lb_suggest_run_new(s, p.id, model, user, e)) < 0 || store_commit(s, e) < 0) {
		store_rollback(s);
		return -1;
	}
	return id;
}

json_t *label_suggest_runs(struct store *s, const char *project, struct moat_err *e)
{
	struct lb_project p;
	if (lb_project_get(s, project, &p, e) < 0)
		return NULL;
	lb_project_release(&p);
	return lb_suggest_runs(s, p.id, e);
}

int label_suggest_run_end(struct store *s, int64_t id, const char *status, const char *error,
			  struct moat_err *e)
{
	if (store_begin(s, e) < 0)
		return -1;
	if (lb_suggest_run_update(s, id, status, -1, -1, -1, error, e) < 0 || store_commit(s, e) < 0) {
		store_rollback(s);
		return -1;
	}
	return 0;
}
