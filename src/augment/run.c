/*
 * run.c - an augment run (augment.h: aug_run): the sources, the records to
 * make and their keys, prompts, requests in flight through the model layer,
 * the screen, and the records, tasks and annotations stored, each answer in
 * its own transaction.  Also the listings (aug_runs, aug_show).
 */
#include "augment_int.h"
#include "../label/label.h"
#include "../llm/llm.h"
#include "../store/audit.h"
#include "../store/augment.h"
#include "../store/dataset.h"
#include "../store/label.h"
#include "../store/store.h"
#include "../core/alloc.h"
#include "../core/buf.h"
#include "../core/fmt.h"
#include "../core/hash.h"
#include "../core/utf8.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "../core/banned.h"

#define TEXT_MAX_CP 6000     /* the source text a prompt carries, in code points */
#define EXAMPLES_MAX 5       /* balance: examples of a label in a prompt */

struct aug_opts aug_opts_default(void)
{
	struct aug_opts o;
	memset(&o, 0, sizeof(o));
	o.n = 1;
	o.seed = -1;
	o.jobs = 1;
	return o;
}

void aug_result_release(struct aug_result *r)
{
	json_decref(r->reasons);
	r->reasons = NULL;
}

/* --- sources -------------------------------------------------------------- */

struct src {
	char *id;           /* "chunk:SET/DOC/SEQ", "doc:ID", "task:ID" */
	char *text;
	json_t *value;      /* annotations: the annotation's value */
};

struct jobspec {
	size_t src[EXAMPLES_MAX];  /* indices into the sources */
	size_t n_src;
	char *label;               /* balance: the label wanted */
	int k;                     /* the record's number for its sources */
	char key[65];
	int64_t seed;
	char *prompt;
};

struct ctx {
	struct store *s;
	const struct aug_recipe *r;
	const struct aug_opts *o;
	struct aug_result *out;
	struct label_schema *sc;
	int64_t project;
	struct src *srcs;
	size_t n_srcs, cap_srcs;
	struct jobspec *jobs;
	size_t n_jobs, cap_jobs;
	const char *chunk_set;
	struct aug_screen screen;
	int have_screen;
	struct llm *m, *m2;
	char *labels_text;         /* the project's labels, for {{labels}} */
};

static void first_error(struct aug_result *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void first_error(struct aug_result *out, const char *fmt, ...)
{
	va_list ap;
	if (out->first_error[0])
		return;
	va_start(ap, fmt);
	if (xvsnprintf(out->first_error, sizeof(out->first_error), fmt, ap) < 0)
		out->first_error[sizeof(out->first_error) - 1] = '\0';
	va_end(ap);
}

static int add_src(struct ctx *c, const char *id, const char *text, size_t len, const json_t *value,
		   struct moat_err *e)
{
	struct src *x;
	if (MOAT_GROW(c->srcs, c->cap_srcs, c->n_srcs + 1) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	x = &c->srcs[c->n_srcs];
	memset(x, 0, sizeof(*x));
	if (!(x->id = strdup(id)) || !(x->text = strndup(text ? text : "", len))) {
		free(x->id);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	x->value = value ? json_incref((json_t *)value) : NULL;
	c->n_srcs++;
	return 0;
}

static int on_chunk(void *ctx, const struct ds_chunk *k, const struct ds_doc *d, struct moat_err *e)
{
	struct ctx *c = ctx;
	char id[400];
	if (xsnprintf(id, sizeof(id), "chunk:%s/%s/%d", c->chunk_set, d->id, k->seq) < 0)
		return err_set(e, MOAT_ELIMIT, "a chunk id is too long");
	return add_src(c, id, k->text, k->len, NULL, e);
}

static int on_doc(void *ctx, const struct ds_doc *d, struct moat_err *e)
{
	struct ctx *c = ctx;
	char id[300];
	if (!d->len)
		return 0;
	if (xsnprintf(id, sizeof(id), "doc:%s", d->id) < 0)
		return err_set(e, MOAT_ELIMIT, "a document id is too long");
	return add_src(c, id, d->text, d->len, NULL, e);
}

/* A task annotated by a person (an accepted annotation first, else a
 * submitted one), not one augment made. */
static int on_task(void *ctx, const struct ds_task *t, const struct ds_annotation *a, size_t n_a,
		   struct moat_err *e)
{
	struct ctx *c = ctx;
	const struct ds_annotation *pick = NULL;
	json_t *v;
	char id[40];
	int rc;
	if (!n_a || !t->text || (t->source && !strcmp(t->source, "synthetic")))
		return 0;
	for (size_t i = 0; i < n_a; i++)
		if (!pick || (a[i].status == DS_ACCEPTED && pick->status != DS_ACCEPTED))
			pick = &a[i];
	if (!(v = json_loads(pick->value, 0, NULL)))
		return 0;  /* a value the store holds is JSON; skip one that is not */
	if (xsnprintf(id, sizeof(id), "task:%lld", (long long)t->id) < 0) {
		json_decref(v);
		return err_set(e, MOAT_ELIMIT, "task id");
	}
	rc = add_src(c, id, t->text, strlen(t->text), v, e);
	json_decref(v);
	return rc;
}

static int load_sources(struct ctx *c, const char *from, struct moat_err *e)
{
	if (!strcmp(from, "documents"))
		return ds_each_doc(c->s, 0, on_doc, c, e);
	if (!strcmp(from, "annotations"))
		return ds_each_task(c->s, c->project, DS_ACCEPTED | DS_SUBMITTED, on_task, c, e);
	if (!strncmp(from, "chunks", 6) && (!from[6] || from[6] == ':')) {
		struct ds_chunk_set set;
		if (ds_chunk_set_find(c->s, from[6] ? from + 7 : NULL, &set, e) < 0)
			return -1;
		c->chunk_set = set.name;
		return ds_each_chunk(c->s, set.id, on_chunk, c, NULL, e);
	}
	return err_set(e, MOAT_EUSAGE, "--from: give chunks, chunks:SET, documents or annotations, not '%s'",
		       from);
}

/* --- the project ------------------------------------------------------------ */

static enum label_kind want_kind(const struct aug_recipe *r)
{
	return r->kind == AUG_QA ? LABEL_QA : r->kind == AUG_PREFERENCE ? LABEL_PREFERENCE : 0;
}

/* The project's schema; a qa or preference project is made when missing. */
static int open_project(struct ctx *c, struct moat_err *e)
{
	const struct aug_recipe *r = c->r;
	struct moat_err fe = MOAT_ERR_INIT;
	if (!(c->sc = label_project_schema(c->s, c->o->project, &c->project, &fe))) {
		struct lb_project p;
		char schema_in[64];
		struct label_schema *sc;
		json_t *sj;
		if (fe.code != MOAT_ENOTFOUND || r->kind == AUG_LABELED)
			return err_set(e, fe.code, "%s%s", fe.msg, fe.code == MOAT_ENOTFOUND ?
				       " (this recipe works on a labeled project: moat label create)" : "");
		if (c->o->dry_run)
			return 0;
		if (xsnprintf(schema_in, sizeof(schema_in), "{\"kind\": \"%s\"}",
			      r->kind == AUG_QA ? "qa" : "preference") < 0 ||
		    !(sc = label_schema_parse(schema_in, strlen(schema_in), "schema", e)))
			return -1;
		sj = label_schema_json(sc);
		memset(&p, 0, sizeof(p));
		if (xsnprintf(p.name, sizeof(p.name), "%s", c->o->project) < 0) {
			json_decref(sj);
			label_schema_free(sc);
			return err_set(e, MOAT_EUSAGE, "--project: a name of at most 128 bytes");
		}
		memcpy(p.kind, "text", 5);
		p.schema = sj ? json_dumps(sj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		p.source = "augment";
		p.overlap = 1;
		json_decref(sj);
		if (!p.schema) {
			label_schema_free(sc);
			return err_set(e, MOAT_ENOMEM, "out of memory");
		}
		if (store_begin(c->s, e) < 0 || lb_project_new(c->s, &p, "[]", e) < 0 ||
		    store_commit(c->s, e) < 0) {
			store_rollback(c->s);
			free(p.schema);
			label_schema_free(sc);
			return -1;
		}
		free(p.schema);
		c->sc = sc;
		c->project = p.id;
		return 0;
	}
	if (r->kind == AUG_LABELED ? c->sc->kind != LABEL_CLASSIFICATION && c->sc->kind != LABEL_SPANS
				   : c->sc->kind != want_kind(r))
		return err_set(e, MOAT_EUSAGE, "project '%s' is a %s project; recipe '%s' makes %s records",
			       c->o->project, label_kind_name(c->sc->kind), r->name,
			       r->kind == AUG_QA ? "qa" : r->kind == AUG_PREFERENCE ? "preference"
							: "classification or spans");
	if (!strcmp(r->name, "balance") && c->sc->kind != LABEL_CLASSIFICATION)
		return err_set(e, MOAT_EUSAGE, "balance works on a classification project, not %s",
			       label_kind_name(c->sc->kind));
	return 0;
}

/* --- the records to make ------------------------------------------------------ */

static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The record's key: what it is made of, whoever runs it again. */
static int make_key(struct ctx *c, struct jobspec *j, struct moat_err *e)
{
	struct buf b = BUF_INIT;
	unsigned char d[32];
	uint64_t h = 0;
	buf_addf(&b, "%lld\n%s\n%s\n%s\n%d\n%s\n", (long long)c->project, c->r->name, c->r->sha256,
		 c->o->model, j->k, j->label ? j->label : "");
	if (c->o->model2)
		buf_addf(&b, "%s\n", c->o->model2);
	for (size_t i = 0; i < j->n_src; i++)
		buf_addf(&b, "%s\n", c->srcs[j->src[i]].id);
	if (buf_failed(&b)) {
		buf_release(&b);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	sha256_hex_mem(b.data, b.len, j->key);
	/* the seed: the run's, the sources and the number only, so that the
	 * same seed gives the same records in another project or workspace */
	buf_reset(&b);
	buf_addf(&b, "%d\n%s\n", j->k, j->label ? j->label : "");
	for (size_t i = 0; i < j->n_src; i++)
		buf_addf(&b, "%s\n", c->srcs[j->src[i]].id);
	if (buf_failed(&b)) {
		buf_release(&b);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	sha256_mem(b.data, b.len, d);
	buf_release(&b);
	for (int i = 0; i < 8; i++)
		h = h << 8 | d[i];
	j->seed = (int64_t)(mix64(h ^ (uint64_t)c->out->seed) & 0x7fffffff);
	return 0;
}

static int add_job(struct ctx *c, const size_t *src, size_t n_src, const char *label, int k,
		   struct moat_err *e)
{
	struct jobspec *j;
	int have;
	if (MOAT_GROW(c->jobs, c->cap_jobs, c->n_jobs + 1) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	j = &c->jobs[c->n_jobs];
	memset(j, 0, sizeof(*j));
	memcpy(j->src, src, n_src * sizeof(*src));
	j->n_src = n_src;
	j->k = k;
	if (label && !(j->label = strdup(label)))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (make_key(c, j, e) < 0) {
		free(j->label);
		return -1;
	}
	if (!shard_has(&c->o->shard, j->key)) {
		c->out->other_shards++;
		free(j->label);
		return 0;
	}
	have = c->project ? aug_store_has_key(c->s, c->project, j->key, e) : 0;
	if (have < 0) {
		free(j->label);
		return -1;
	}
	if (have || (c->o->limit && (int64_t)c->n_jobs >= c->o->limit)) {
		c->out->skipped += have;
		free(j->label);
		return 0;
	}
	c->n_jobs++;
	return 0;
}

/* balance: for each label under its target, records until it reaches it,
 * each with up to EXAMPLES_MAX examples of the label. */
static int plan_balance(struct ctx *c, struct moat_err *e)
{
	const struct label_schema *sc = c->sc;
	size_t *count = calloc(sc->n_labels + 1, sizeof(size_t)), target = 0;
	int rc = 0;
	if (!count)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	for (size_t i = 0; i < c->n_srcs; i++) {
		const json_t *labs = json_object_get(c->srcs[i].value, "labels"), *l;
		size_t k;
		json_array_foreach(labs, k, l) {
			int li = label_schema_find(sc, json_string_value(l));
			if (li >= 0)
				count[li]++;
		}
	}
	for (size_t l = 0; l < sc->n_labels; l++)
		if (count[l] > target)
			target = count[l];
	if (c->o->n > 0)
		target = (size_t)c->o->n;
	for (size_t l = 0; l < sc->n_labels && rc == 0; l++) {
		size_t ex[EXAMPLES_MAX], n_ex = 0;
		for (size_t i = 0; i < c->n_srcs && n_ex < EXAMPLES_MAX; i++) {
			const json_t *labs = json_object_get(c->srcs[i].value, "labels"), *x;
			size_t k;
			json_array_foreach(labs, k, x)
				if (!strcmp(json_string_value(x) ? json_string_value(x) : "", sc->labels[l].name)) {
					ex[n_ex++] = i;
					break;
				}
		}
		/* a label without an example has nothing to imitate */
		for (size_t k = count[l]; n_ex && k < target && rc == 0; k++)
			rc = add_job(c, ex, n_ex, sc->labels[l].name, (int)k, e);
	}
	free(count);
	return rc;
}

static int plan(struct ctx *c, struct moat_err *e)
{
	if (!strcmp(c->r->name, "balance"))
		return plan_balance(c, e);
	for (size_t i = 0; i < c->n_srcs; i++)
		for (int k = 0; k < c->o->n; k++)
			if (add_job(c, &i, 1, NULL, k, e) < 0)
				return -1;
	return 0;
}

/* --- prompts ------------------------------------------------------------------ */

static void add_cut(struct buf *b, const char *text)
{
	size_t len = strlen(text), cut = 0, cp = 0;
	while (cut < len && cp < TEXT_MAX_CP) {
		cut++;
		while (cut < len && ((unsigned char)text[cut] & 0xc0) == 0x80)
			cut++;
		cp++;
	}
	buf_add(b, text, cut);
}

/* The source's span strings, for {{keep}}. */
static void add_keep(struct buf *b, const struct src *x)
{
	const json_t *spans = json_object_get(x->value, "spans"), *sp;
	size_t i;
	int any = 0;
	json_array_foreach(spans, i, sp) {
		size_t a = (size_t)json_integer_value(json_array_get(sp, 0));
		size_t z = (size_t)json_integer_value(json_array_get(sp, 1));
		size_t ba = 0, len = strlen(x->text), cp = 0;
		while (ba < len && cp < a) {
			ba++;
			while (ba < len && ((unsigned char)x->text[ba] & 0xc0) == 0x80)
				ba++;
			cp++;
		}
		{
			size_t bz = ba;
			while (bz < len && cp < z) {
				bz++;
				while (bz < len && ((unsigned char)x->text[bz] & 0xc0) == 0x80)
					bz++;
				cp++;
			}
			buf_adds(b, any ? ", \"" : "\"");
			buf_add(b, x->text + ba, bz - ba);
			buf_addch(b, '"');
			any = 1;
		}
	}
	if (!any)
		buf_adds(b, "(none)");
}

static char *render(struct ctx *c, struct jobspec *j, struct moat_err *e)
{
	json_t *vars = json_object();
	struct buf t = BUF_INIT, ex = BUF_INIT, keep = BUF_INIT;
	char *p = NULL;
	const struct src *x = &c->srcs[j->src[0]];
	if (!vars)
		return err_set(e, MOAT_ENOMEM, "out of memory"), NULL;
	add_cut(&t, x->text);
	add_keep(&keep, x);
	for (size_t i = 0; i < j->n_src; i++) {
		buf_adds(&ex, "- ");
		add_cut(&ex, c->srcs[j->src[i]].text);
		buf_addch(&ex, '\n');
	}
	if (buf_failed(&t) || buf_failed(&ex) || buf_failed(&keep) ||
	    json_object_set_new(vars, "text", json_string(buf_str(&t))) < 0 ||
	    json_object_set_new(vars, "examples", json_string(buf_str(&ex))) < 0 ||
	    json_object_set_new(vars, "keep", json_string(buf_str(&keep))) < 0 ||
	    json_object_set_new(vars, "labels", json_string(c->labels_text ? c->labels_text : "")) < 0 ||
	    json_object_set_new(vars, "label", json_string(j->label ? j->label : "")) < 0)
		err_set(e, MOAT_ENOMEM, "out of memory");
	else
		p = aug_render(c->r->template_text, vars, e);
	json_decref(vars);
	buf_release(&t);
	buf_release(&ex);
	buf_release(&keep);
	return p;
}

/* --- storing a record ---------------------------------------------------------- */

static json_t *source_ids(struct ctx *c, const struct jobspec *j)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < j->n_src; i++)
		if (json_array_append_new(a, json_string(c->srcs[j->src[i]].id)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* The annotation value an accepted record carries into the project, or
 * NULL (preference: a person decides); *text the task's text. */
static json_t *task_value(struct ctx *c, const struct jobspec *j, const json_t *answer, json_t *spans,
			  const char **text, json_t *meta)
{
	const struct aug_recipe *r = c->r;
	const struct src *x = &c->srcs[j->src[0]];
	const char *main = json_string_value(json_object_get(answer, r->text_field));
	switch (r->kind) {
	case AUG_QA:
		if (r->passage) {
			*text = x->text;
			json_object_set_new(meta, "question", json_string(main));
		} else {
			*text = main;
		}
		return json_pack("{s:s}", "text", json_string_value(json_object_get(answer, r->answer_field)));
	case AUG_PREFERENCE:
		*text = NULL;  /* the caller's: the prompt */
		json_object_set(meta, "response_a", json_object_get(answer, "response_a"));
		json_object_set(meta, "response_b", json_object_get(answer, "response_b"));
		return json_null();
	case AUG_LABELED:
		*text = main;
		if (j->label)
			return json_pack("{s:[s]}", "labels", j->label);
		if (c->sc->kind == LABEL_SPANS)
			return json_pack("{s:O}", "spans", spans ? spans : json_array());
		return json_pack("{s:O}", "labels", json_object_get(x->value, "labels"));
	}
	return NULL;
}

/* One answer: screened, stored as a record; accepted ones become a task
 * with a submitted annotation.  All in one transaction. */
static int store_one(struct ctx *c, const struct jobspec *j, json_t *answer, json_t *prov,
		     const char *prompt, struct moat_err *e)
{
	const char *texts[EXAMPLES_MAX], *ids[EXAMPLES_MAX];
	struct aug_verdict v;
	json_t *spans = NULL, *srcs = source_ids(c, j), *meta = NULL, *value = NULL;
	char psha[65], tsha[65], *value_text = NULL, *srcs_text = NULL, *prov_text = NULL, *opts_text = NULL;
	char *meta_text = NULL, *ann_text = NULL;
	const char *ttext = NULL;
	int64_t rec_id = 0;
	int rc = -1;
	for (size_t i = 0; i < j->n_src; i++) {
		texts[i] = c->srcs[j->src[i]].text;
		ids[i] = c->srcs[j->src[i]].id;
	}
	if (!srcs)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	/* balance: its examples are not its sources' text to repeat, but they are
	 * still sources: all are checked for duplicates */
	if (aug_screen_record(&c->screen, c->r, answer, texts, ids, j->n_src,
			      json_object_get(c->srcs[j->src[0]].value, "spans"), &spans, &v, e) < 0) {
		json_decref(srcs);
		return -1;
	}
	sha256_hex_mem(prompt, strlen(prompt), psha);
	sha256_hex_mem(c->r->template_text, strlen(c->r->template_text), tsha);
	/* the model layer's template_sha256 is the model's chat template; the
	 * recipe's prompt template is request_template_sha256 there, and here */
	json_object_set_new(prov, "prompt_sha256", json_string(psha));
	json_object_set_new(prov, "request_template_sha256", json_string(tsha));
	json_object_set_new(prov, "recipe", json_string(c->r->name));
	json_object_set_new(prov, "recipe_sha256", json_string(c->r->sha256));
	json_object_set(prov, "sources", srcs);
	json_object_set_new(prov, "key", json_string(j->key));
	if (v.deidentified)
		json_object_set(prov, "deidentified", v.deidentified);
	if (!v.reason) {  /* what the project's schema says of the value */
		struct moat_err ve = MOAT_ERR_INIT;
		meta = json_object();
		value = meta ? task_value(c, j, answer, spans, &ttext, meta) : NULL;
		if (!value) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		if (!json_is_null(value) &&
		    label_value_check(c->sc, value, ttext ? utf8_count(ttext, strlen(ttext)) : 0, 0, 0, &ve) < 0) {
			v.reason = "check";
			if (xsnprintf(v.detail, sizeof(v.detail), "not a value of the project: %s", ve.msg) < 0)
				v.detail[sizeof(v.detail) - 1] = '\0';
		}
	}
	value_text = json_dumps(answer, JSON_COMPACT | JSON_SORT_KEYS);
	srcs_text = json_dumps(srcs, JSON_COMPACT);
	prov_text = json_dumps(prov, JSON_COMPACT | JSON_SORT_KEYS);
	opts_text = json_dumps(json_object_get(prov, "options") ? json_object_get(prov, "options")
								 : json_object(), JSON_COMPACT | JSON_SORT_KEYS);
	if (!value_text || !srcs_text || !prov_text || !opts_text) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (store_begin(c->s, e) < 0)
		goto out;
	{
		struct aug_store_record rec = {
			c->out->aug_run, c->project, j->key, v.reason ? "rejected" : "accepted", v.reason,
			v.reason ? v.detail : NULL, value_text, v.sha, v.sig,
			v.sig ? (size_t)c->screen.mh.perms : 0, srcs_text, c->o->model,
			json_string_value(json_object_get(prov, "model_digest")), tsha, psha,
			opts_text, j->seed, prov_text };
		if (aug_store_record_add(c->s, &rec, &rec_id, e) < 0)
			goto rollback;
	}
	if (!v.reason) {
		struct ds_task t;
		json_t *syn = json_pack("{s:I, s:I, s:s, s:s, s:O}", "record", (json_int_t)rec_id, "run",
					(json_int_t)c->out->aug_run, "recipe", c->r->name, "model",
					c->o->model, "sources", srcs);
		memset(&t, 0, sizeof(t));
		if (!syn || json_object_set_new(meta, "synthetic", syn) < 0 ||
		    !(meta_text = json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS)) ||
		    (!json_is_null(value) && !(ann_text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS)))) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto rollback;
		}
		t.kind = "text";
		t.seq = -1;
		t.cleaned = 1;  /* screened with the workspace's PII policy */
		t.source = "synthetic";
		t.meta = meta_text;
		t.run_id = c->o->run_id;
		t.name = j->key;
		t.text = ttext ? ttext : prompt;
		if (ds_task_add(c->s, c->project, &t, e) < 0 ||
		    aug_store_record_task(c->s, rec_id, t.id, e) < 0)
			goto rollback;
		if (ann_text) {
			char who[96];
			if (xsnprintf(who, sizeof(who), "augment:%s", c->r->name) < 0 ||
			    ds_annotation_add(c->s, t.id, who, ann_text, DS_SUBMITTED, c->o->run_id, e) < 0)
				goto rollback;
		}
	}
	if (aug_store_run_update(c->s, c->out->aug_run, NULL, c->out->generated + 1,
				 c->out->accepted + !v.reason, c->out->rejected + !!v.reason,
				 c->out->failed, NULL, e) < 0 || store_commit(c->s, e) < 0)
		goto rollback;
	c->out->generated++;
	if (v.reason) {
		json_t *n = json_object_get(c->out->reasons, v.reason);
		c->out->rejected++;
		json_object_set_new(c->out->reasons, v.reason, json_integer(json_integer_value(n) + 1));
	} else {
		c->out->accepted++;
		if (aug_screen_remember(&c->screen, &v, srcs_text) < 0) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = 0;
	goto out;
rollback:
	store_rollback(c->s);
out:
	aug_verdict_release(&v);
	json_decref(spans);
	json_decref(srcs);
	json_decref(meta);
	json_decref(value);
	free(value_text);
	free(srcs_text);
	free(prov_text);
	free(opts_text);
	free(meta_text);
	free(ann_text);
	return rc;
}

/* --- sending ------------------------------------------------------------------- */

static void fill_request(struct ctx *c, struct llm_request *q, const struct jobspec *j, double temp)
{
	memset(q, 0, sizeof(*q));
	q->system = c->r->system;
	q->prompt = j->prompt;
	q->opt = llm_options_default();
	q->opt.temperature = temp;
	q->opt.seed = j->seed;
	q->opt.max_tokens = c->r->max_tokens;
	q->constraint = LLM_SCHEMA;
	q->schema = c->r->schema;
	q->template_text = c->r->template_text;
	q->cancel = c->o->cancel;
}

/* Sends jobs [a, b): one request each (preference: two), screens and stores
 * each answer. */
static int send_batch(struct ctx *c, size_t a, size_t b, struct moat_err *e)
{
	size_t n = b - a, per = c->r->kind == AUG_PREFERENCE ? 2 : 1;
	struct llm_request *q = calloc(n * per, sizeof(*q));
	struct llm_result *res = calloc(n * per, sizeof(*res));
	struct moat_err *errs = calloc(n * per, sizeof(*errs));
	int rc = 0;
	if (!q || !res || !errs) {
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		fill_request(c, &q[i], &c->jobs[a + i], c->r->temperature);
		if (per == 2)
			fill_request(c, &q[n + i], &c->jobs[a + i],
				     c->m2 ? c->r->temperature : c->r->temperature2);
	}
	/* each request's failure is in errs[i] */
	if (llm_generate_many(c->m, q, n, res, errs) < 0 && errs[0].code == MOAT_ENOMEM)
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
	if (per == 2 && rc == 0 &&
	    llm_generate_many(c->m2 ? c->m2 : c->m, q + n, n, res + n, errs + n) < 0 &&
	    errs[n].code == MOAT_ENOMEM)
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct jobspec *j = &c->jobs[a + i];
		json_t *answer, *prov;
		int bad = errs[i].code ? (int)i : per == 2 && errs[n + i].code ? (int)(n + i) : -1;
		if (bad >= 0) {
			if (errs[bad].code == MOAT_EINTERRUPTED)
				continue;
			c->out->failed++;
			first_error(c->out, "%s: %s", c->srcs[j->src[0]].id, errs[bad].msg);
			continue;
		}
		if (per == 2) {
			answer = json_pack("{s:O, s:O}", "response_a",
					   json_object_get(res[i].value, c->r->text_field), "response_b",
					   json_object_get(res[n + i].value, c->r->text_field));
			prov = json_deep_copy(res[i].provenance);
			if (prov)
				json_object_set(prov, "response_b", res[n + i].provenance);
		} else {
			answer = json_deep_copy(res[i].value);
			prov = json_deep_copy(res[i].provenance);
		}
		if (!answer || !prov || !json_is_object(answer)) {
			json_decref(answer);
			json_decref(prov);
			rc = err_set(e, MOAT_ENOMEM, "out of memory");
			break;
		}
		json_object_set_new(prov, "seed", json_integer(j->seed));
		rc = store_one(c, j, answer, prov, j->prompt, e);
		json_decref(answer);
		json_decref(prov);
		if (c->o->progress)
			c->o->progress(c->o->ud, c->out->generated + c->out->failed, c->out->total);
	}
out:
	for (size_t i = 0; res && i < n * per; i++)
		llm_result_release(&res[i]);
	free(q);
	free(res);
	free(errs);
	return rc;
}

static char *labels_text(const struct label_schema *sc)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; sc && i < sc->n_labels; i++) {
		if (i)
			buf_adds(&b, ", ");
		buf_adds(&b, sc->labels[i].name);
		if (sc->labels[i].description)
			buf_addf(&b, " (%s)", sc->labels[i].description);
	}
	buf_addch(&b, '\0');
	return buf_failed(&b) ? (buf_release(&b), NULL) : buf_detach(&b, NULL);
}

static void ctx_release(struct ctx *c)
{
	for (size_t i = 0; i < c->n_srcs; i++) {
		free(c->srcs[i].id);
		free(c->srcs[i].text);
		json_decref(c->srcs[i].value);
	}
	free(c->srcs);
	for (size_t i = 0; i < c->n_jobs; i++) {
		free(c->jobs[i].label);
		free(c->jobs[i].prompt);
	}
	free(c->jobs);
	if (c->have_screen)
		aug_screen_release(&c->screen);
	llm_free(c->m);
	llm_free(c->m2);
	label_schema_free(c->sc);
	free(c->labels_text);
}

/* The PII policy the last `moat clean --pii FILE` used, when its file still
 * has the digest clean recorded. */
struct last_policy {
	char path[512];
	char sha[65];
};

static int on_audit(void *ctx, int64_t seq, const char *body, size_t len, const char *hash,
		    struct moat_err *e)
{
	struct last_policy *lp = ctx;
	json_t *j = json_loadb(body, len, 0, NULL), *cmd, *x;
	size_t i;
	(void)seq;
	(void)hash;
	(void)e;
	cmd = json_object_get(j, "command");
	/* a clean run's record: only clean's inputs name a PII policy's digest */
	if (j && json_object_get(json_object_get(j, "inputs"), "pii_policy_sha256")) {
		const char *ps = json_string_value(json_object_get(json_object_get(j, "inputs"),
								   "pii_policy_sha256"));
		lp->path[0] = lp->sha[0] = '\0';
		json_array_foreach(cmd, i, x)
			if (!strcmp(json_string_value(x) ? json_string_value(x) : "", "--pii") &&
			    json_string_value(json_array_get(cmd, i + 1)) &&
			    xsnprintf(lp->path, sizeof(lp->path), "%s",
				      json_string_value(json_array_get(cmd, i + 1))) < 0)
				lp->path[0] = '\0';
		if (ps && strlen(ps) == 64)
			memcpy(lp->sha, ps, 65);
	}
	json_decref(j);
	return 0;
}

static int workspace_policy(struct store *s, struct last_policy *lp, struct moat_err *e)
{
	unsigned char d[32];
	char hex[65];
	uint64_t size;
	memset(lp, 0, sizeof(*lp));
	if (audit_each(s, 1, 0, on_audit, lp, e) < 0)
		return -1;
	if (!lp->path[0])
		return 0;
	if (sha256_file(lp->path, d, &size, e) < 0)
		return err_set(e, MOAT_EUSAGE, "the clean policy '%s' (moat clean --pii) cannot be read "
			       "from here: give --pii FILE", lp->path);
	hex_encode(d, 32, hex);
	if (lp->sha[0] && strcmp(hex, lp->sha))
		return err_set(e, MOAT_EUSAGE, "the clean policy '%s' changed since clean used it: give "
			       "--pii FILE", lp->path);
	return 0;
}

int aug_run(struct store *s, const struct aug_recipe *r, const struct aug_opts *o,
	    struct aug_result *out, struct moat_err *e)
{
	struct ctx c;
	struct llm_config cfg = o->llm ? *o->llm : llm_config_default();
	const char *from = o->from ? o->from : r->from;
	size_t jobs = o->jobs > 0 ? (size_t)o->jobs : 1;
	int rc = -1;
	memset(&c, 0, sizeof(c));
	memset(out, 0, sizeof(*out));
	c.s = s;
	c.r = r;
	c.o = o;
	c.out = out;
	if (!o->project || !*o->project)
		return err_set(e, MOAT_EUSAGE, "give --project P: the project the records join");
	if (o->n < 0 || (o->n == 0 && strcmp(r->name, "balance")))
		return err_set(e, MOAT_EUSAGE, "--n: give 1 or more records per source");
	if (!(out->reasons = json_object()))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	out->seed = o->seed;
	if (out->seed < 0) {
		uint32_t v = 0;
		if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
			v = 1;
		out->seed = v & 0x7fffffff;
	}
	if (open_project(&c, e) < 0)
		goto out;
	c.labels_text = labels_text(c.sc);
	/* a dry run for a project not made yet has no annotations to read */
	if ((c.project || strcmp(from, "annotations")) && load_sources(&c, from, e) < 0)
		goto out;
	if (plan(&c, e) < 0)
		goto out;
	out->total = (int64_t)c.n_jobs;
	for (size_t i = 0; i < c.n_jobs; i++)
		if (!(c.jobs[i].prompt = render(&c, &c.jobs[i], e)))
			goto out;
	if (o->dry_run) {
		for (size_t i = 0; i < c.n_jobs; i++)
			if (o->on_prompt && o->on_prompt(o->ud, c.jobs[i].key, r->system, c.jobs[i].prompt) < 0) {
				err_set(e, MOAT_EIO, "cannot write the prompts");
				goto out;
			}
		rc = 0;
		goto out;
	}
	if (!c.n_jobs) {
		rc = 0;
		goto out;
	}
	{
		struct last_policy lp;
		const char *pol = o->pii;
		if (!pol) {
			if (workspace_policy(s, &lp, e) < 0)
				goto out;
			pol = lp.path[0] ? lp.path : NULL;
		}
		if (aug_screen_init(&c.screen, s, pol, o->pii_reject, o->near_threshold, e) < 0) {
			aug_screen_release(&c.screen);
			goto out;
		}
		c.have_screen = 1;
	}
	cfg.parallel = (int)jobs;
	if (!(c.m = llm_open(o->model, &cfg, e)) || (o->model2 && !(c.m2 = llm_open(o->model2, &cfg, e))))
		goto out;
	{
		struct aug_store_run ar = { c.project, r->name, r->sha256, o->model, from, o->n, out->seed,
					    o->run_id };
		if (store_begin(s, e) < 0 || (out->aug_run = aug_store_run_new(s, &ar, e)) < 0 ||
		    store_commit(s, e) < 0) {
			store_rollback(s);
			goto out;
		}
	}
	if (o->progress)
		o->progress(o->ud, 0, out->total);
	for (size_t a = 0; a < c.n_jobs; a += jobs) {
		if (o->cancel && *o->cancel)
			break;
		if (send_batch(&c, a, a + jobs < c.n_jobs ? a + jobs : c.n_jobs, e) < 0)
			goto end;
	}
	rc = 0;
	if (o->cancel && *o->cancel)
		rc = err_set(e, MOAT_EINTERRUPTED, "interrupted after %lld records", (long long)out->generated);
end:
	{
		struct moat_err ue = MOAT_ERR_INIT;
		const char *status = rc == 0 ? "done"
				     : e->code == MOAT_EINTERRUPTED ? "interrupted" : "failed";
		if (store_begin(s, &ue) < 0 ||
		    aug_store_run_update(s, out->aug_run, status, out->generated, out->accepted,
					 out->rejected, out->failed,
					 rc < 0 ? e->msg : out->first_error[0] ? out->first_error : NULL, &ue) < 0 ||
		    store_commit(s, &ue) < 0) {
			store_rollback(s);
			if (rc == 0)
				rc = err_set(e, ue.code, "%s", ue.msg);
		}
	}
out:
	ctx_release(&c);
	return rc;
}

json_t *aug_runs(struct store *s, struct moat_err *e)
{
	return aug_store_runs(s, 0, e);
}

json_t *aug_show(struct store *s, int64_t run, struct moat_err *e)
{
	json_t *r = aug_store_runs(s, run, e), *recs;
	if (!r)
		return NULL;
	if (!(recs = aug_store_records(s, run, e)) || json_object_set_new(r, "records", recs) < 0) {
		json_decref(r);
		return NULL;
	}
	return r;
}
