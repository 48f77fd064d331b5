/*
 * stage.c - `moat clean` as a library call (see stage.h): the run.  Its
 * settings (policies, secrets, the boilerplate set) make one parameter hash;
 * documents are read in batches in ingest order, the -j workers of
 * core/pool.h clean each document of a batch whose parameters changed
 * (document.c), and the calling thread writes them in order.  Then the
 * duplicates are marked over every cleaned document and element (dedup.c).
 *
 * Not for: the steps themselves (the files stage_int.h lists), SQL, or
 * printing.
 */
#define _GNU_SOURCE
#include "stage_int.h"
#include "../core/fmt.h"
#include "../core/hash.h"
#include "../core/pool.h"
#include "version.h"

#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

#define BATCH 256
#define MAX_JOBS 64

size_t clean_mem_per_byte(const struct clean_opts *o)
{
	return o->pii ? CLEAN_MEM_PER_BYTE_PII : CLEAN_MEM_PER_BYTE;
}

size_t clean_batch_bytes(const struct clean_opts *o)
{
	return (o->max_memory ? o->max_memory : CLEAN_MEM_DEFAULT) / clean_mem_per_byte(o);
}

struct clean_opts clean_default_opts(void)
{
	struct clean_opts o;
	memset(&o, 0, sizeof(o));
	o.level = LEVEL_BOTH;
	o.mh = mh_default_params();
	o.jobs = 1;
	o.boiler_min_docs = 3;
	o.boiler_share = 0.05;
	o.boiler_max_chars = 200;
	o.el_min_chars = 20;
	return o;
}

void clean_summary_release(struct clean_summary *s)
{
	json_decref(s->findings_list);
	json_decref(s->findings_by_type);
	json_decref(s->operators);
	json_decref(s->drops);
	json_decref(s->drop_reasons);
	json_decref(s->inputs);
	memset(s, 0, sizeof(*s));
}

/* --- the run's settings ------------------------------------------------------------ */

/* Policies, scanner, secrets and model; -1 with e set. */
static int load_policies(struct clean_ctx *c, struct store *s, char salt_hex[65], char key_hex[65],
			 struct moat_err *e)
{
	const struct clean_opts *o = c->o;
	struct pii_options po = pii_default_options();
	if (o->filters) {
		if (filter_policy_load(&c->fp, o->filters, e) < 0)
			return -1;
		c->have_filters = 1;
	} else {
		filter_policy_default(&c->fp);
	}
	if (!o->pii)
		return 0;
	if (policy_load(&c->pol, o->pii, e) < 0)
		return -1;
	policy_scan_options(&c->pol, &po);
	c->scanner = pii_scanner_new(&po, e);
	if (!c->scanner)
		return -1;
	c->have_pii = 1;
	if (c->pol.salt) {
		c->sec.salt = c->pol.salt;
		c->sec.salt_len = c->pol.salt_len;
	} else {
		if (clean_store_secret(s, "pii", c->salt, e) < 0)
			return -1;
		c->sec.salt = c->salt;
		c->sec.salt_len = sizeof(c->salt);
	}
	sha256_hex_mem(c->sec.salt, c->sec.salt_len, salt_hex);
	if (c->pol.key_file) {
		if (pii_key_load(c->pol.key_file, c->sec.key, e) < 0)
			return -1;
		c->sec.have_key = 1;
		sha256_hex_mem(c->sec.key, 32, key_hex);
	}
	if (c->pol.llm_model) {
		c->llm = pii_llm_open(c->pol.llm_model, c->pol.llm_entities,
				      (const char *const *)c->pol.llm_allow, c->pol.n_llm_allow, e);
		if (!c->llm)
			return -1;
		c->llm_info = pii_llm_info(c->llm);
		if (!c->llm_info)
			return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	/* an encrypt operator without a key fails now, not halfway */
	for (size_t i = 0; i < c->pol.n_ops; i++)
		if (c->pol.ops[i].spec.op == PII_OP_ENCRYPT && !c->sec.have_key)
			return err_set(e, MOAT_EUSAGE, "%s: the encrypt operator needs key_file", o->pii);
	if (c->pol.def.op == PII_OP_ENCRYPT && !c->sec.have_key)
		return err_set(e, MOAT_EUSAGE, "%s: the encrypt operator needs key_file", o->pii);
	return 0;
}

/* Loads the settings and hashes them into c->params: a document cleaned
 * with the same hash before is not cleaned again. */
static int load_config(struct clean_ctx *c, struct store *s, struct moat_err *e)
{
	const struct clean_opts *o = c->o;
	struct buf pb = BUF_INIT;
	char salt_hex[65] = "", key_hex[65] = "";
	const char *digest;
	c->norm_flags = o->normalize ? NORM_ALL : 0;
	c->want_sig = o->dedup == DEDUP_NEAR;
	policy_init(&c->pol);
	if (load_policies(c, s, salt_hex, key_hex, e) < 0)
		return -1;
	digest = json_string_value(json_object_get(c->llm_info, "digest"));
	buf_addf(&pb, "clean/1 moat=%s norm=%u filters=%s pii=%s engine=%s salt=%.16s key=%.16s "
		 "sig=%d mh=%d/%d/%llu llm=%s/%s", MOAT_VERSION, c->norm_flags,
		 c->have_filters ? c->fp.sha256 : "-", c->have_pii ? c->pol.sha256 : "-",
		 c->have_pii ? pii_engine_name() : "-", salt_hex, key_hex, c->want_sig,
		 c->want_sig ? o->mh.shingle : 0, c->want_sig ? o->mh.perms : 0,
		 c->want_sig ? (unsigned long long)o->mh.seed : 0ULL,
		 c->pol.llm_model ? c->pol.llm_model : "-", c->llm && digest ? digest : "-");
	if (c->boiler.n) {
		/* the boilerplate set changes what normalisation gives */
		char hex[SHA256_HEX];
		if (clean_boilerplate_digest(&c->boiler, hex, e) < 0) {
			buf_release(&pb);
			return -1;
		}
		buf_addf(&pb, " boiler=%s", hex);
	}
	if (buf_failed(&pb)) {
		buf_release(&pb);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	sha256_hex_mem(pb.data, pb.len, c->params);
	buf_release(&pb);
	return 0;
}

static void ctx_release(struct clean_ctx *c)
{
	pii_scanner_free(c->scanner);
	pii_llm_free(c->llm);
	json_decref(c->llm_info);
	policy_release(&c->pol);
	hashcount_release(&c->boiler);
	memset(c->salt, 0, sizeof(c->salt));
	memset(c->sec.key, 0, sizeof(c->sec.key));
}

/* --- the summary -------------------------------------------------------------------- */

/* obj[key] += 1; -1 when out of memory. */
static int bump(json_t *obj, const char *key)
{
	return json_object_set_new(obj, key,
				   json_integer(json_integer_value(json_object_get(obj, key)) + 1));
}

/* The first 12 characters of a document id, as the summary shows it. */
static void short_id(char out[13], const char *id)
{
	size_t n = strnlen(id, 12);
	memcpy(out, id, n);
	out[n] = '\0';
}

/* A drop in the summary: [who, reason], and one more of its kind (the
 * reason up to its colon). */
static int count_drop(struct clean_summary *sum, const char *who, const char *reason)
{
	char kind[32];
	size_t k = strcspn(reason, ":");
	if (k > sizeof(kind) - 1)
		k = sizeof(kind) - 1;
	memcpy(kind, reason, k);
	kind[k] = '\0';
	if (json_array_append_new(sum->drops, json_pack("[s,s]", who, reason)) ||
	    bump(sum->drop_reasons, kind))
		return -1;
	return 0;
}

static int summary_init(struct clean_summary *sum)
{
	memset(sum, 0, sizeof(*sum));
	sum->findings_list = json_array();
	sum->findings_by_type = json_object();
	sum->operators = json_object();
	sum->drops = json_array();
	sum->drop_reasons = json_object();
	return sum->findings_list && sum->findings_by_type && sum->operators && sum->drops &&
	       sum->drop_reasons ? 0 : -1;
}

/* What the summary says of a written document. */
static int summarise_doc(struct clean_summary *sum, const struct doc_work *w, struct moat_err *e)
{
	char doc[13];
	short_id(doc, w->in->id);
	for (size_t i = 0; i < w->n_el; i++) {
		const struct el_work *x = &w->el[i];
		sum->elements++;
		if (!strcmp(x->status, "dropped")) {
			char who[96];
			sum->elements_dropped++;
			if (xsnprintf(who, sizeof(who), "%s#%d", doc, x->in->seq) < 0)
				return err_set(e, MOAT_ELIMIT, "element %s#%d: its name is too long", doc,
					       x->in->seq);
			if (count_drop(sum, who, buf_str(&x->reason)) < 0)
				return err_set(e, MOAT_ENOMEM, "out of memory");
		}
		if (x->empty)
			sum->elements_empty++;
	}
	if (!strcmp(w->status, "dropped") && count_drop(sum, doc, buf_str(&w->reason)) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	for (size_t i = 0; i < w->n_f; i++) {
		const struct clean_finding_out *f = &w->f[i];
		if (json_array_append_new(sum->findings_list,
					  json_pack("[I,s,i,s,I,I,s]", (json_int_t)f->id, doc, f->seq,
						    f->type, (json_int_t)f->start, (json_int_t)f->end,
						    f->op)) ||
		    bump(sum->findings_by_type, f->type) || bump(sum->operators, f->op))
			return err_set(e, MOAT_ENOMEM, "out of memory");
		sum->findings++;
	}
	return 0;
}

/* --- writing ------------------------------------------------------------------------ */

static int write_doc(struct store *s, const struct clean_ctx *c, int64_t run_id,
		     struct doc_work *w, struct clean_summary *sum, struct moat_err *e)
{
	struct clean_doc_out o;
	struct clean_el_out *eo = calloc(w->n_el ? w->n_el : 1, sizeof(*eo));
	int rc;
	if (!eo)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	memset(&o, 0, sizeof(o));
	o.doc_id = w->in->id;
	o.params = c->params;
	o.run_id = run_id;
	o.status = w->status;
	o.reason = w->reason.len ? w->reason.data : NULL;
	o.lang = w->lang.code;
	o.lang_score = w->lang.score;
	memcpy(o.norm_sha256, w->sha, sizeof(o.norm_sha256));
	o.norm_text = buf_str(&w->norm);
	o.norm_len = w->norm.len;
	o.text = buf_str(w->fin_is_norm ? &w->norm : &w->fin);
	o.text_len = w->fin_is_norm ? w->norm.len : w->fin.len;
	o.text_cps = w->fin_cps;
	o.minhash = w->sig;
	o.n_minhash = w->sig ? (size_t)c->o->mh.perms : 0;
	o.el = eo;
	o.n_el = w->n_el;
	o.f = w->f;
	o.n_f = w->n_f;
	for (size_t i = 0; i < w->n_el; i++) {
		struct el_work *x = &w->el[i];
		eo[i].seq = x->in->seq;
		eo[i].type = x->in->type;
		eo[i].norm_start = x->norm_start;
		eo[i].norm_end = x->norm_end;
		eo[i].start = x->fin_start;
		eo[i].end = x->fin_end;
		eo[i].lang = x->lang.code[0] ? x->lang.code : "und";
		eo[i].lang_score = x->lang.score;
		eo[i].status = x->status;
		eo[i].reason = x->reason.len ? x->reason.data : NULL;
		eo[i].norm_sha256 = x->sha[0] ? x->sha : NULL;
		eo[i].offset_map = x->map_json;
	}
	rc = clean_store_put(s, &o, e);
	free(eo);
	if (rc < 0)
		return -1;
	return summarise_doc(sum, w, e);
}

/* --- the batches -------------------------------------------------------------------- */

struct batch {
	const struct clean_ctx *c;
	struct pii_scratch **scr;  /* one per worker */
	struct doc_work *w;
};

static int clean_one(void *arg, int worker, size_t i, struct moat_err *e)
{
	struct batch *b = arg;
	struct doc_work *w = &b->w[i];
	if (w->skip)
		return 0;
	clean_document(b->c, b->scr[worker], w);
	/* the input's text is not needed again: not held while the batch is
	 * written */
	for (size_t j = 0; j < w->in->n_el; j++) {
		free(w->in->el[j].text);
		w->in->el[j].text = NULL;
	}
	if (!w->failed)
		return 0;
	if (e)
		*e = w->err;
	return -1;  /* stops handing out the rest: the run fails */
}

/* Cleans the n documents of d on the workers and writes them in order. */
static int run_batch(struct store *s, const struct clean_ctx *c, struct pii_scratch **scr, int jobs,
		     int64_t run_id, struct clean_doc_in *d, size_t n, struct doc_work *w,
		     struct clean_summary *sum, struct moat_err *e)
{
	struct batch b = { c, scr, w };
	size_t i;
	int rc;
	for (i = 0; i < n; i++) {
		size_t bytes = 0;
		memset(&w[i], 0, sizeof(w[i]));
		w[i].in = &d[i];
		w[i].skip = !strcmp(d[i].params, c->params);
		if (!shard_has(&c->o->shard, d[i].id)) {
			w[i].skip = 2;  /* another shard's */
			continue;
		}
		for (size_t j = 0; j < d[i].n_el; j++)
			bytes += d[i].el[j].len;
		if (bytes > clean_batch_bytes(c->o))
			return err_set(e, MOAT_ELIMIT, "document %.12s: cleaning its %zu MiB of text needs "
				       "about %zu MiB, more than --max-memory allows (%zu MiB)", d[i].id,
				       bytes >> 20, (bytes >> 20) * clean_mem_per_byte(c->o),
				       clean_batch_bytes(c->o) * clean_mem_per_byte(c->o) >> 20);
	}
	rc = pool_for(jobs, n, clean_one, &b, e);
	/* the documents before a failed one were all handed out and cleaned, so
	 * the first failure in ingest order names itself, whichever came first
	 * in time; when none failed, the pool's own error stands */
	for (i = 0; rc < 0 && i < n; i++)
		if (w[i].failed) {
			if (e)
				*e = w[i].err;
			err_prefix(e, "cannot clean document %.12s", d[i].id);
			break;
		}
	for (i = 0; rc == 0 && i < n; i++) {
		if (w[i].skip == 2) {
			sum->other_shards++;
			continue;
		}
		sum->documents++;
		if (w[i].skip) {
			sum->unchanged++;
			continue;
		}
		sum->processed++;
		rc = write_doc(s, c, run_id, &w[i], sum, e);
	}
	for (i = 0; i < n; i++)
		doc_work_release(&w[i]);
	return rc;
}

int clean_run(struct store *s, const struct clean_opts *o, int64_t run_id, struct clean_summary *sum,
	      struct moat_err *e)
{
	struct clean_ctx c;
	struct pii_scratch *scr[MAX_JOBS];
	int jobs = o->jobs < 1 ? 1 : o->jobs > MAX_JOBS ? MAX_JOBS : o->jobs, rc = -1;
	int64_t after = 0;
	struct doc_work *w = calloc(BATCH, sizeof(*w));
	memset(&c, 0, sizeof(c));
	memset(scr, 0, sizeof(scr));
	c.o = o;
	if (summary_init(sum) < 0 || !w) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (o->mh.perms < 4 || o->mh.perms > 512) {
		err_set(e, MOAT_EUSAGE, "--perms must be from 4 to 512");
		goto out;
	}
	if (o->normalize && clean_find_boilerplate(&c, s, &sum->boilerplate_lines, e) < 0)
		goto out;
	if (load_config(&c, s, e) < 0)
		goto out;
	memcpy(sum->params, c.params, sizeof(sum->params));
	if (c.llm)
		jobs = 1;  /* one model handle, one thread */
	for (int i = 0; i < jobs; i++)
		if (c.scanner && !(scr[i] = pii_scratch_new(c.scanner, e)))
			goto out;
	for (;;) {
		struct clean_doc_in *d;
		size_t n;
		int brc;
		if (clean_store_load_docs(s, after, BATCH, clean_batch_bytes(o), c.params, &d, &n, e) < 0)
			goto out;
		if (n == 0) {
			free(d);
			break;
		}
		brc = run_batch(s, &c, scr, jobs, run_id, d, n, w, sum, e);
		after = d[n - 1].rowid;
		clean_store_free_docs(d, n);
		if (brc < 0)
			goto out;
	}
	/* duplicates are found among every document: not in a shard's run */
	if (o->shard.n <= 1 && clean_dedup_documents(s, o, run_id, sum, e) < 0)
		goto out;
	if (o->shard.n <= 1 && (o->level & LEVEL_ELEMENT) && clean_dedup_elements(s, o, run_id, sum, e) < 0)
		goto out;
	sum->inputs = json_pack("{s:s, s:s, s:s?, s:s?, s:i, s:i, s:f, s:i, s:I}", "params", c.params,
				"engine", pii_engine_name(), "filters_sha256",
				c.have_filters ? c.fp.sha256 : NULL, "pii_policy_sha256",
				c.have_pii ? c.pol.sha256 : NULL, "shingle", o->mh.shingle, "perms", o->mh.perms,
				"near_threshold", o->mh.threshold, "boilerplate_min_docs", o->boiler_min_docs,
				"seed", (json_int_t)o->mh.seed);
	if (!sum->inputs ||
	    (c.llm && json_object_set_new(sum->inputs, "pii_model", pii_llm_info(c.llm)))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	for (int i = 0; i < jobs; i++)
		pii_scratch_free(scr[i]);
	ctx_release(&c);
	free(w);
	if (rc < 0)
		clean_summary_release(sum);
	return rc;
}
