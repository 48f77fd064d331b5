/*
 * stage.c - `moat clean` as a library call (see stage.h).  Documents are read
 * in batches in ingest order; -j workers normalise, identify, filter, scan and
 * render each document of a batch; the calling thread writes them.  Then the
 * duplicate clusters are computed over every cleaned document (and element)
 * and the statuses set.
 */
#define _GNU_SOURCE
#include "stage.h"
#include "langid.h"
#include "normalize.h"
#include "pii.h"
#include "pii_llm.h"
#include "pii_ops.h"
#include "policy.h"
#include "../core/hash.h"
#include "../core/utf8.h"
#include "../store/cleaned.h"
#include "../store/store.h"
#include "version.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "../core/banned.h"

#define BATCH 256

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

/* --- a set of 64-bit line hashes with counts ------------------------------------- */

struct hcount {
	uint64_t *k;
	uint32_t *v;
	size_t n, cap;
};

static int hc_add(struct hcount *h, uint64_t key, uint32_t add)
{
	size_t i;
	if (key == 0)
		key = 1;
	if ((h->n + 1) * 2 > h->cap) {
		size_t nc = h->cap ? h->cap * 2 : 1024;
		uint64_t *nk = calloc(nc, sizeof(*nk));
		uint32_t *nv = calloc(nc, sizeof(*nv));
		if (!nk || !nv) {
			free(nk);
			free(nv);
			return -1;
		}
		for (size_t j = 0; j < h->cap; j++)
			if (h->k[j]) {
				size_t p = (size_t)(h->k[j] * 0x9E3779B97F4A7C15ULL) & (nc - 1);
				while (nk[p])
					p = (p + 1) & (nc - 1);
				nk[p] = h->k[j];
				nv[p] = h->v[j];
			}
		free(h->k);
		free(h->v);
		h->k = nk;
		h->v = nv;
		h->cap = nc;
	}
	i = (size_t)(key * 0x9E3779B97F4A7C15ULL) & (h->cap - 1);
	while (h->k[i] && h->k[i] != key)
		i = (i + 1) & (h->cap - 1);
	if (!h->k[i]) {
		h->k[i] = key;
		h->n++;
	}
	h->v[i] += add;
	return 0;
}

static uint32_t hc_get(const struct hcount *h, uint64_t key)
{
	size_t i;
	if (!h->cap)
		return 0;
	if (key == 0)
		key = 1;
	i = (size_t)(key * 0x9E3779B97F4A7C15ULL) & (h->cap - 1);
	while (h->k[i]) {
		if (h->k[i] == key)
			return h->v[i];
		i = (i + 1) & (h->cap - 1);
	}
	return 0;
}

static void hc_free(struct hcount *h)
{
	free(h->k);
	free(h->v);
	memset(h, 0, sizeof(*h));
}

/* --- shared context ------------------------------------------------------------ */

struct ctx {
	const struct clean_opts *o;
	struct filter_policy fp;
	int have_filters;
	struct policy pol;
	int have_pii;
	struct pii_scanner *scanner;
	struct pii_llm *llm;       /* names by a local model; one worker then */
	json_t *llm_info;
	struct pii_secrets sec;
	unsigned char salt[32];
	struct hcount boiler;      /* line hash -> 1: boilerplate */
	char params[65];
	unsigned norm_flags;
	int want_sig;
};

struct el_work {
	const struct clean_el_in *in;
	struct norm nm;
	size_t orig_start;
	size_t norm_start, norm_end, fin_start, fin_end;
	struct langid lang;
	char status[16];
	char reason[160];
	char sha[65];
	char *map_json;
	int empty;
};

struct doc_work {
	struct clean_doc_in *in;
	int skip;
	struct el_work *el;
	size_t n_el;
	struct buf norm, fin;
	size_t norm_cps, fin_cps;
	struct langid lang;
	char status[16];
	char reason[200];
	char sha[65];
	uint32_t *sig;
	struct clean_finding_out *f;
	size_t n_f;
	int boiler_lines;
	int failed;
	struct moat_err err;
};

static void work_free(struct doc_work *w)
{
	for (size_t i = 0; i < w->n_el; i++) {
		norm_release(&w->el[i].nm);
		free(w->el[i].map_json);
	}
	free(w->el);
	buf_release(&w->norm);
	buf_release(&w->fin);
	free(w->sig);
	for (size_t i = 0; i < w->n_f; i++)
		free(w->f[i].replacement);
	free(w->f);
	memset(w, 0, sizeof(*w));
}

/* --- filters ----------------------------------------------------------------------- */

static const char *filter_check(const struct filter_rules *r, const char *t, size_t n,
				const struct langid *lang, char *reason, size_t cap)
{
	size_t cps = 0, words = 0, symbols = 0, digits = 0, nonspace = 0, lines = 0, repeated = 0;
	int in_word = 0;
	if (!r->set)
		return NULL;
	for (size_t i = 0; i < n;) {
		uint32_t c;
		int l = utf8_decode((const unsigned char *)t + i, n - i, &c), cat;
		if (l <= 0)
			l = 1;
		i += (size_t)l;
		cps++;
		cat = c < 0x80 ? -1 : (int)utf8proc_category((utf8proc_int32_t)c);
		if (c == ' ' || c == '\n' || c == '\t' || cat == UTF8PROC_CATEGORY_ZS) {
			in_word = 0;
			continue;
		}
		nonspace++;
		if (c < 0x80 ? isdigit((int)c) : cat == UTF8PROC_CATEGORY_ND) {
			digits++;
		} else if (c < 0x80 ? !isalpha((int)c)
				    : !(cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) &&
				      !(cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME)) {
			symbols++;
		}
		if (!in_word)
			words++;
		in_word = 1;
	}
	if (r->min_chars >= 0 && cps < (size_t)r->min_chars) {
		snprintf(reason, cap, "too short: %zu characters < min_chars %ld", cps, r->min_chars);
		return "too_short";
	}
	if (r->max_chars >= 0 && cps > (size_t)r->max_chars) {
		snprintf(reason, cap, "too long: %zu characters > max_chars %ld", cps, r->max_chars);
		return "too_long";
	}
	if (r->min_words >= 0 && words < (size_t)r->min_words) {
		snprintf(reason, cap, "too few words: %zu < min_words %ld", words, r->min_words);
		return "few_words";
	}
	if (r->max_symbol_ratio >= 0 && nonspace && (double)symbols / (double)nonspace > r->max_symbol_ratio) {
		snprintf(reason, cap, "symbol ratio %.2f > max_symbol_ratio %.2f",
			 (double)symbols / (double)nonspace, r->max_symbol_ratio);
		return "symbols";
	}
	if (r->max_digit_ratio >= 0 && nonspace && (double)digits / (double)nonspace > r->max_digit_ratio) {
		snprintf(reason, cap, "digit ratio %.2f > max_digit_ratio %.2f",
			 (double)digits / (double)nonspace, r->max_digit_ratio);
		return "digits";
	}
	if (r->max_repeated_line_ratio >= 0) {
		struct hcount seen = { 0 };
		for (size_t i = 0; i < n;) {
			const char *nl = memchr(t + i, '\n', n - i);
			size_t le = nl ? (size_t)(nl - t) : n;
			if (le > i) {
				uint64_t h = norm_line_hash(t + i, le - i);
				lines++;
				if (hc_get(&seen, h))
					repeated++;
				else if (hc_add(&seen, h, 1) < 0)
					break;
			}
			i = le + 1;
		}
		hc_free(&seen);
		if (lines && (double)repeated / (double)lines > r->max_repeated_line_ratio) {
			snprintf(reason, cap, "repeated lines %.2f > max_repeated_line_ratio %.2f",
				 (double)repeated / (double)lines, r->max_repeated_line_ratio);
			return "repeated_lines";
		}
	}
	if (r->languages[0]) {
		char key[16], list[260];
		snprintf(key, sizeof(key), ",%s,", lang->code);
		snprintf(list, sizeof(list), ",%s,", r->languages);
		if (!strstr(list, key)) {
			snprintf(reason, cap, "language %s not in languages %s", lang->code, r->languages);
			return "language";
		}
	}
	if (r->min_language_score >= 0 && lang->score < r->min_language_score) {
		snprintf(reason, cap, "language score %.2f < min_language_score %.2f", (double)lang->score,
			 r->min_language_score);
		return "language_score";
	}
	return NULL;
}

/* --- rendering ------------------------------------------------------------------ */

/* Writes norm with each replacement (code point spans, sorted, disjoint) put
 * in; maps element spans (ns/ne, code points of norm) to the output. */
static int render(const char *norm, size_t nlen, const struct clean_repl *r, size_t nr,
		  struct buf *out, size_t *out_cps, const size_t *ns, const size_t *ne, size_t nel,
		  size_t *fs, size_t *fe)
{
	size_t pos = 0, cp = 0, ocp = 0;
	long long *delta_at = calloc(nr + 1, sizeof(long long));
	size_t *end_at = calloc(nr + 1, sizeof(size_t));
	long long delta = 0;
	if (!delta_at || !end_at) {
		free(delta_at);
		free(end_at);
		return -1;
	}
	buf_reset(out);
	for (size_t i = 0; i < nr; i++) {
		size_t rs, re;
		if (r[i].start < cp || r[i].end < r[i].start)
			continue;
		/* copy up to the start */
		while (cp < r[i].start && pos < nlen) {
			size_t l = 1;
			while (pos + l < nlen && ((unsigned char)norm[pos + l] & 0xC0) == 0x80)
				l++;
			buf_add(out, norm + pos, l);
			pos += l;
			cp++;
			ocp++;
		}
		rs = pos;
		while (cp < r[i].end && pos < nlen) {
			pos++;
			while (pos < nlen && ((unsigned char)norm[pos] & 0xC0) == 0x80)
				pos++;
			cp++;
		}
		re = pos;
		if (r[i].replacement) {
			size_t rl = strlen(r[i].replacement), rc = utf8_count(r[i].replacement, rl);
			buf_add(out, r[i].replacement, rl);
			ocp += rc;
			delta += (long long)rc - (long long)(r[i].end - r[i].start);
		} else {
			buf_add(out, norm + rs, re - rs);
			ocp += r[i].end - r[i].start;
		}
		end_at[i] = r[i].end;
		delta_at[i] = delta;
	}
	buf_add(out, norm + pos, nlen - pos);
	ocp += utf8_count(norm + pos, nlen - pos);
	*out_cps = ocp;
	for (size_t k = 0; k < nel; k++) {
		long long ds = 0, de = 0;
		for (size_t i = 0; i < nr; i++) {
			if (!end_at[i] && !delta_at[i])
				continue;
			if (end_at[i] <= ns[k])
				ds = delta_at[i];
			if (end_at[i] <= ne[k])
				de = delta_at[i];
		}
		fs[k] = (size_t)((long long)ns[k] + ds);
		fe[k] = (size_t)((long long)ne[k] + de);
	}
	free(delta_at);
	free(end_at);
	return buf_failed(out) ? -1 : 0;
}

/* --- one document --------------------------------------------------------------- */

static int is_boiler(void *c, uint64_t h)
{
	return hc_get(&((struct ctx *)c)->boiler, h) != 0;
}

static void process_doc(struct ctx *c, struct pii_scratch *scr, struct doc_work *w)
{
	struct clean_doc_in *d = w->in;
	const struct clean_opts *o = c->o;
	struct pii_findings f = PII_FINDINGS_INIT;
	size_t cps = 0, prev_end_orig = 0;
	char why[200];
	const char *kind;
	(void)prev_end_orig;
	w->el = calloc(d->n_el ? d->n_el : 1, sizeof(*w->el));
	if (!w->el)
		goto nomem;
	w->n_el = d->n_el;
	/* elements: normalise, drop boilerplate lines, join */
	for (size_t i = 0; i < d->n_el; i++) {
		struct el_work *x = &w->el[i];
		unsigned flags = c->norm_flags;
		x->in = &d->el[i];
		x->orig_start = d->el[i].start;
		norm_init(&x->nm);
		if (!strcmp(d->el[i].type, "code"))
			flags &= (unsigned)~(NORM_SPACE | NORM_HYPHEN);
		if (norm_text(&x->nm, d->el[i].text, d->el[i].len, flags, &w->err) < 0)
			goto fail;
		if (c->boiler.n)
			w->boiler_lines += (int)norm_drop_lines(&x->nm, is_boiler, c);
		x->empty = x->nm.text.len == 0;
		snprintf(x->status, sizeof(x->status), "%s", x->empty ? "empty" : "kept");
		if (x->empty) {
			snprintf(x->reason, sizeof(x->reason), "%s",
				 d->el[i].len ? "nothing left after normalisation (boilerplate)" : "empty");
			x->norm_start = x->norm_end = cps;
			continue;
		}
		if (w->norm.len) {
			buf_adds(&w->norm, "\n\n");
			cps += 2;
		}
		x->norm_start = cps;
		buf_add(&w->norm, x->nm.text.data, x->nm.text.len);
		cps += x->nm.n_cp;
		x->norm_end = cps;
		langid_detect(x->nm.text.data, x->nm.text.len, &x->lang);
		sha256_hex_mem(x->nm.text.data, x->nm.text.len, x->sha);
		if (c->have_filters && (kind = filter_check(&c->fp.el, x->nm.text.data, x->nm.text.len,
							   &x->lang, x->reason, sizeof(x->reason)))) {
			snprintf(x->status, sizeof(x->status), "dropped");
		}
		{
			json_t *m = norm_map_json(&x->nm);
			x->map_json = json_dumps(m, JSON_COMPACT);
			json_decref(m);
		}
	}
	if (buf_failed(&w->norm))
		goto nomem;
	w->norm_cps = cps;
	langid_detect(buf_str(&w->norm), w->norm.len, &w->lang);
	sha256_hex_mem(buf_str(&w->norm), w->norm.len, w->sha);
	snprintf(w->status, sizeof(w->status), "kept");
	if (c->have_filters && (kind = filter_check(&c->fp.doc, buf_str(&w->norm), w->norm.len, &w->lang,
						   why, sizeof(why)))) {
		snprintf(w->status, sizeof(w->status), "dropped");
		snprintf(w->reason, sizeof(w->reason), "%s", why);
	}
	if (c->want_sig) {
		w->sig = malloc((size_t)o->mh.perms * sizeof(uint32_t));
		if (!w->sig)
			goto nomem;
		mh_signature(&o->mh, buf_str(&w->norm), w->norm.len, w->sig);
	}
	/* PII: scan the normalised text, replace by policy */
	if (c->have_pii && w->norm.len) {
		struct clean_repl *rep;
		size_t *ns, *ne, *fs, *fe;
		if (pii_scan(c->scanner, scr, buf_str(&w->norm), w->norm.len, 0, &f, &w->err) < 0)
			goto fail;
		if (c->llm) {
			/* element by element: a paragraph fits any context */
			for (size_t k = 0; k < w->n_el; k++) {
				struct pii_finding *x = NULL;
				size_t nx = 0;
				struct el_work *el = &w->el[k];
				if (el->empty)
					continue;
				if (pii_llm_find(c->llm, c->scanner, el->nm.text.data, el->nm.text.len, &x,
						 &nx, &w->err) < 0) {
					free(x);
					goto fail;
				}
				/* element bytes to document bytes */
				{
					size_t eb = 0, cp = 0;
					const char *t = buf_str(&w->norm);
					while (cp < el->norm_start && eb < w->norm.len) {
						eb++;
						while (eb < w->norm.len && ((unsigned char)t[eb] & 0xC0) == 0x80)
							eb++;
						cp++;
					}
					for (size_t q = 0; q < nx; q++) {
						x[q].start += eb;
						x[q].end += eb;
					}
				}
				if (nx && pii_merge(c->scanner, buf_str(&w->norm), w->norm.len, 0, &f, 0, x, nx,
						    &w->err) < 0) {
					free(x);
					goto fail;
				}
				free(x);
			}
		}
		w->f = calloc(f.n ? f.n : 1, sizeof(*w->f));
		rep = calloc(f.n ? f.n : 1, sizeof(*rep));
		ns = calloc(w->n_el + 1, sizeof(size_t));
		ne = calloc(w->n_el + 1, sizeof(size_t));
		fs = calloc(w->n_el + 1, sizeof(size_t));
		fe = calloc(w->n_el + 1, sizeof(size_t));
		if (!w->f || !rep || !ns || !ne || !fs || !fe) {
			free(rep);
			free(ns);
			free(ne);
			free(fs);
			free(fe);
			goto nomem;
		}
		for (size_t i = 0; i < f.n; i++) {
			const struct pii_finding *x = &f.v[i];
			const char *type = pii_type_name(c->scanner, x->type);
			const struct pii_op_spec *op = policy_op_for(&c->pol, type);
			struct clean_finding_out *y = &w->f[w->n_f];
			struct el_work *el = NULL;
			struct buf rb = BUF_INIT;
			size_t end = x->cp_end;
			for (size_t k = 0; k < w->n_el; k++)
				if (!w->el[k].empty && x->cp_start >= w->el[k].norm_start &&
				    x->cp_start < w->el[k].norm_end)
					el = &w->el[k];
			if (!el)
				continue;
			if (end > el->norm_end)
				end = el->norm_end;
			y->type = type;
			y->seq = el->in->seq;
			y->start = x->cp_start;
			y->end = end;
			y->orig_start = el->orig_start + norm_orig_start(&el->nm, x->cp_start - el->norm_start);
			y->orig_end = el->orig_start + norm_orig_end(&el->nm, end - el->norm_start);
			y->score = x->score;
			y->recognizer = x->recognizer;
			y->op = pii_op_name(op->op);
			pii_value_digest(&c->sec, type, buf_str(&w->norm) + x->start, x->end - x->start, y->digest);
			if (op->op != PII_OP_KEEP) {
				if (pii_apply(&c->sec, op, type, buf_str(&w->norm) + x->start, x->end - x->start,
					      &rb, &w->err) < 0) {
					buf_release(&rb);
					free(rep);
					free(ns);
					free(ne);
					free(fs);
					free(fe);
					goto fail;
				}
				y->replacement = buf_detach(&rb, NULL);
				if (!y->replacement)
					y->replacement = strdup("");
			}
			rep[w->n_f].start = y->start;
			rep[w->n_f].end = y->end;
			rep[w->n_f].replacement = y->replacement;
			w->n_f++;
		}
		for (size_t k = 0; k < w->n_el; k++) {
			ns[k] = w->el[k].norm_start;
			ne[k] = w->el[k].norm_end;
		}
		if (render(buf_str(&w->norm), w->norm.len, rep, w->n_f, &w->fin, &w->fin_cps, ns, ne,
			   w->n_el, fs, fe) < 0) {
			free(rep);
			free(ns);
			free(ne);
			free(fs);
			free(fe);
			goto nomem;
		}
		for (size_t k = 0; k < w->n_el; k++) {
			w->el[k].fin_start = fs[k];
			w->el[k].fin_end = fe[k];
		}
		free(rep);
		free(ns);
		free(ne);
		free(fs);
		free(fe);
	} else {
		buf_add(&w->fin, buf_str(&w->norm), w->norm.len);
		w->fin_cps = w->norm_cps;
		for (size_t k = 0; k < w->n_el; k++) {
			w->el[k].fin_start = w->el[k].norm_start;
			w->el[k].fin_end = w->el[k].norm_end;
		}
	}
	pii_findings_release(&f);
	return;
nomem:
	err_set(&w->err, MOAT_ENOMEM, "out of memory");
fail:
	pii_findings_release(&f);
	w->failed = 1;
}

/* --- workers -------------------------------------------------------------------- */

struct pool {
	struct ctx *c;
	struct doc_work *w;
	size_t n;
	size_t next;
	pthread_mutex_t mu;
};

struct worker {
	struct pool *p;
	struct pii_scratch *scr;
};

static void *work(void *arg)
{
	struct worker *k = arg;
	struct pool *p = k->p;
	for (;;) {
		size_t i;
		pthread_mutex_lock(&p->mu);
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n)
			break;
		if (!p->w[i].skip)
			process_doc(p->c, k->scr, &p->w[i]);
	}
	return NULL;
}

static int run_batch(struct ctx *c, struct worker *ws, int jobs, struct doc_work *w, size_t n)
{
	struct pool p;
	pthread_t th[64];
	int started = 0;
	p.c = c;
	p.w = w;
	p.n = n;
	p.next = 0;
	pthread_mutex_init(&p.mu, NULL);
	for (int i = 0; i < jobs; i++)
		ws[i].p = &p;
	for (int i = 1; i < jobs; i++) {
		if (pthread_create(&th[i], NULL, work, &ws[i]) != 0)
			break;
		started = i;
	}
	work(&ws[0]);
	for (int i = 1; i <= started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&p.mu);
	return 0;
}

/* --- the run ---------------------------------------------------------------------- */

static int load_config(struct ctx *c, struct store *s, struct moat_err *e)
{
	const struct clean_opts *o = c->o;
	struct buf pb = BUF_INIT;
	char salt_hex[65] = "", key_hex[65] = "";
	c->norm_flags = o->normalize ? NORM_ALL : 0;
	c->want_sig = o->dedup == DEDUP_NEAR;
	policy_init(&c->pol);
	if (o->filters) {
		if (filter_policy_load(&c->fp, o->filters, e) < 0)
			return -1;
		c->have_filters = 1;
	} else {
		filter_policy_default(&c->fp);
	}
	if (o->pii) {
		struct pii_options po = pii_default_options();
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
		}
		/* an encrypt operator without a key fails now, not halfway */
		for (size_t i = 0; i < c->pol.n_ops; i++)
			if (c->pol.ops[i].spec.op == PII_OP_ENCRYPT && !c->sec.have_key)
				return err_set(e, MOAT_EUSAGE, "%s: the encrypt operator needs key_file",
					       o->pii);
		if (c->pol.def.op == PII_OP_ENCRYPT && !c->sec.have_key)
			return err_set(e, MOAT_EUSAGE, "%s: the encrypt operator needs key_file", o->pii);
	}
	buf_addf(&pb, "clean/1 moat=%s norm=%u filters=%s pii=%s engine=%s salt=%.16s key=%.16s "
		 "sig=%d mh=%d/%d/%llu llm=%s/%s", MOAT_VERSION, c->norm_flags, c->have_filters ? c->fp.sha256 : "-",
		 c->have_pii ? c->pol.sha256 : "-", c->have_pii ? pii_engine_name() : "-", salt_hex,
		 key_hex, c->want_sig, c->want_sig ? o->mh.shingle : 0, c->want_sig ? o->mh.perms : 0,
		 c->want_sig ? (unsigned long long)o->mh.seed : 0ULL,
		 c->pol.llm_model ? c->pol.llm_model : "-",
		 c->llm ? json_string_value(json_object_get(c->llm_info, "digest")) ? json_string_value(json_object_get(c->llm_info, "digest")) : "-" : "-");
	if (c->boiler.n) {
		/* the boilerplate set changes what normalisation gives */
		struct sha256 h;
		unsigned char d[SHA256_LEN];
		char hex[SHA256_HEX];
		uint64_t *keys = malloc(c->boiler.n * sizeof(uint64_t));
		size_t k = 0;
		if (!keys || sha256_init(&h) < 0) {
			free(keys);
			buf_release(&pb);
			return err_set(e, MOAT_ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < c->boiler.cap; i++)
			if (c->boiler.k[i])
				keys[k++] = c->boiler.k[i];
		for (size_t i = 1; i < k; i++)
			for (size_t j = i; j > 0 && keys[j - 1] > keys[j]; j--) {
				uint64_t t = keys[j];
				keys[j] = keys[j - 1];
				keys[j - 1] = t;
			}
		sha256_update(&h, keys, k * sizeof(uint64_t));
		sha256_final(&h, d);
		hex_encode(d, SHA256_LEN, hex);
		buf_addf(&pb, " boiler=%s", hex);
		free(keys);
	}
	if (buf_failed(&pb)) {
		buf_release(&pb);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	sha256_hex_mem(pb.data, pb.len, c->params);
	buf_release(&pb);
	return 0;
}

/* Boilerplate: lines (after normalisation) found in many documents. */
static int find_boilerplate(struct ctx *c, struct store *s, struct clean_summary *sum,
			    struct moat_err *e)
{
	struct hcount df = { 0 };
	int64_t after = 0, ndocs = 0;
	uint32_t need;
	for (;;) {
		struct clean_doc_in *d;
		size_t n;
		if (clean_store_load_docs(s, after, BATCH, &d, &n, e) < 0) {
			hc_free(&df);
			return -1;
		}
		if (n == 0) {
			free(d);
			break;
		}
		for (size_t i = 0; i < n; i++) {
			struct hcount mine = { 0 };
			for (size_t j = 0; j < d[i].n_el; j++) {
				struct norm nm;
				const char *t;
				norm_init(&nm);
				if (norm_text(&nm, d[i].el[j].text, d[i].el[j].len, NORM_ALL, e) < 0) {
					norm_release(&nm);
					clean_store_free_docs(d, n);
					hc_free(&df);
					hc_free(&mine);
					return -1;
				}
				t = buf_str(&nm.text);
				for (size_t p = 0; p < nm.text.len;) {
					const char *nl = memchr(t + p, '\n', nm.text.len - p);
					size_t le = nl ? (size_t)(nl - t) : nm.text.len;
					if (le > p && le - p <= (size_t)c->o->boiler_max_chars) {
						uint64_t h = norm_line_hash(t + p, le - p);
						if (!hc_get(&mine, h) && (hc_add(&mine, h, 1) < 0 ||
									  hc_add(&df, h, 1) < 0)) {
							norm_release(&nm);
							clean_store_free_docs(d, n);
							hc_free(&df);
							hc_free(&mine);
							return err_set(e, MOAT_ENOMEM, "out of memory");
						}
					}
					p = le + 1;
				}
				norm_release(&nm);
			}
			hc_free(&mine);
		}
		ndocs += (int64_t)n;
		after = d[n - 1].rowid;
		clean_store_free_docs(d, n);
	}
	need = (uint32_t)(c->o->boiler_share * (double)ndocs + 0.999);
	if (need < (uint32_t)c->o->boiler_min_docs)
		need = (uint32_t)c->o->boiler_min_docs;
	for (size_t i = 0; i < df.cap; i++)
		if (df.k[i] && df.v[i] >= need && hc_add(&c->boiler, df.k[i], 1) < 0) {
			hc_free(&df);
			return err_set(e, MOAT_ENOMEM, "out of memory");
		}
	sum->boilerplate_lines = (int64_t)c->boiler.n;
	hc_free(&df);
	return 0;
}

static void count_drop(struct clean_summary *sum, const char *doc, const char *reason)
{
	char kind[32];
	size_t k = strcspn(reason, ":");
	json_array_append_new(sum->drops, json_pack("[s,s]", doc, reason));
	snprintf(kind, sizeof(kind), "%.*s", (int)(k < 31 ? k : 31), reason);
	json_object_set_new(sum->drop_reasons, kind,
			    json_integer(json_integer_value(json_object_get(sum->drop_reasons, kind)) + 1));
}

static int write_doc(struct store *s, struct ctx *c, int64_t run_id, struct doc_work *w,
		     struct clean_summary *sum, struct moat_err *e)
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
	o.reason = w->reason[0] ? w->reason : NULL;
	o.lang = w->lang.code;
	o.lang_score = w->lang.score;
	snprintf(o.norm_sha256, sizeof(o.norm_sha256), "%s", w->sha);
	o.norm_text = buf_str(&w->norm);
	o.norm_len = w->norm.len;
	o.text = buf_str(&w->fin);
	o.text_len = w->fin.len;
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
		eo[i].reason = x->reason[0] ? x->reason : NULL;
		eo[i].norm_sha256 = x->sha[0] ? x->sha : NULL;
		eo[i].offset_map = x->map_json;
		sum->elements++;
		if (!strcmp(x->status, "dropped")) {
			char r[240];
			snprintf(r, sizeof(r), "%s", x->reason);
			sum->elements_dropped++;
			{
				char who[96];
				snprintf(who, sizeof(who), "%.12s#%d", w->in->id, x->in->seq);
				count_drop(sum, who, r);
			}
		}
		if (x->empty)
			sum->elements_empty++;
	}
	rc = clean_store_put(s, &o, e);
	free(eo);
	if (rc < 0)
		return -1;
	if (!strcmp(w->status, "dropped")) {
		char who[16];
		snprintf(who, sizeof(who), "%.12s", w->in->id);
		count_drop(sum, who, w->reason);
	}
	for (size_t i = 0; i < w->n_f; i++) {
		const struct clean_finding_out *f = &w->f[i];
		char doc[16];
		snprintf(doc, sizeof(doc), "%.12s", w->in->id);
		json_array_append_new(sum->findings_list,
			json_pack("[I,s,i,s,I,I,s]", (json_int_t)f->id, doc, f->seq, f->type,
				  (json_int_t)f->start, (json_int_t)f->end, f->op));
		json_object_set_new(sum->findings_by_type, f->type,
			json_integer(json_integer_value(json_object_get(sum->findings_by_type, f->type)) + 1));
		json_object_set_new(sum->operators, f->op,
			json_integer(json_integer_value(json_object_get(sum->operators, f->op)) + 1));
		sum->findings++;
	}
	return 0;
}

static int dedup_docs(struct store *s, struct ctx *c, int64_t run_id, struct clean_summary *sum,
		      struct moat_err *e)
{
	const struct clean_opts *o = c->o;
	struct clean_sig *v = NULL;
	uint32_t *block = NULL;
	size_t n, *root = NULL, *exact = NULL;
	float *sim = NULL;
	unsigned char *skip = NULL;
	struct clean_cluster *cl = NULL;
	size_t ncl = 0;
	int rc = -1;
	if (clean_store_load_sigs(s, o->mh.perms, &v, &n, &block, e) < 0)
		return -1;
	root = calloc(n + 1, sizeof(size_t));
	exact = calloc(n + 1, sizeof(size_t));
	sim = calloc(n + 1, sizeof(float));
	skip = calloc(n + 1, 1);
	cl = calloc(n + 1, sizeof(*cl));
	if (!root || !exact || !sim || !skip || !cl) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	/* exact: the first document with the same normalised text */
	{
		struct hcount first = { 0 };
		for (size_t i = 0; i < n; i++) {
			uint64_t h = 0;
			uint32_t f;
			exact[i] = i;
			if (v[i].dropped || o->dedup == DEDUP_NONE) {
				skip[i] = 1;
				continue;
			}
			for (int k = 0; k < 16 && v[i].sha[k]; k++)
				h = h * 16 + (uint64_t)(isdigit((unsigned char)v[i].sha[k]) ? v[i].sha[k] - '0'
											   : v[i].sha[k] - 'a' + 10);
			f = hc_get(&first, h);
			if (f && !strcmp(v[f - 1].sha, v[i].sha)) {
				exact[i] = f - 1;
				skip[i] = 1;  /* not in the near pass */
			} else if (!f && hc_add(&first, h, (uint32_t)i + 1) < 0) {
				hc_free(&first);
				err_set(e, MOAT_ENOMEM, "out of memory");
				goto out;
			}
		}
		hc_free(&first);
	}
	for (size_t i = 0; i < n; i++)
		root[i] = i;
	if (o->dedup == DEDUP_NEAR && mh_cluster(&o->mh, block, n, skip, root, sim) < 0) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	/* statuses, and the clusters to record */
	{
		size_t *count = calloc(n + 1, sizeof(size_t)), *first_member = calloc(n + 1, sizeof(size_t));
		const char **members = calloc(n + 1, sizeof(char *));
		float *msim = calloc(n + 1, sizeof(float));
		size_t *order = calloc(n + 1, sizeof(size_t));
		if (!count || !first_member || !members || !msim || !order) {
			free(count);
			free(first_member);
			free(members);
			free(msim);
			free(order);
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		/* the cluster of i: its exact representative's near root */
		for (size_t i = 0; i < n; i++) {
			size_t r = root[exact[i]];
			if (!v[i].dropped && o->dedup != DEDUP_NONE)
				count[r]++;
		}
		for (size_t i = 0; i < n; i++) {
			const char *status = "kept";
			char reason[200] = "";
			size_t r = root[exact[i]];
			int ch;
			if (v[i].dropped) {
				sum->dropped++;
				continue;
			}
			if (o->dedup != DEDUP_NONE && r != i) {
				int is_exact = exact[i] != i;
				status = is_exact ? "duplicate" : "near_duplicate";
				if (is_exact)
					snprintf(reason, sizeof(reason), "same normalised text as %.12s (kept)",
						 v[exact[i]].doc_id);
				else
					snprintf(reason, sizeof(reason),
						 "near duplicate of %.12s (kept), estimated Jaccard %.2f >= %.2f",
						 v[r].doc_id, (double)sim[exact[i]], o->mh.threshold);
				if (is_exact)
					sum->duplicates++;
				else
					sum->near_duplicates++;
			} else {
				sum->kept++;
			}
			ch = clean_store_set_status(s, v[i].doc_id, status, reason[0] ? reason : NULL, e);
			if (ch < 0) {
				free(count);
				free(first_member);
				free(members);
				free(msim);
				free(order);
				goto out;
			}
		}
		/* one cluster per root with more than one member, members in order */
		for (size_t r = 0; r < n; r++) {
			size_t m = 0;
			int has_near = 0;
			if (count[r] < 2)
				continue;
			for (size_t i = r; i < n; i++) {
				if (v[i].dropped || root[exact[i]] != r)
					continue;
				members[m] = v[i].doc_id;
				msim[m] = exact[i] != i ? 1.0f : sim[i];
				if (exact[i] == i && i != r)
					has_near = 1;
				m++;
			}
			cl[ncl].method = has_near ? "near" : "exact";
			cl[ncl].kept = v[r].doc_id;
			snprintf(cl[ncl].reason, sizeof(cl[ncl].reason),
				 "first ingested of %zu %s duplicates; the others are marked, not deleted", m,
				 has_near ? "near" : "exact");
			cl[ncl].members = malloc(m * sizeof(char *));
			cl[ncl].sim = malloc(m * sizeof(float));
			if (!cl[ncl].members || !cl[ncl].sim) {
				free(cl[ncl].members);
				free(cl[ncl].sim);
				break;
			}
			memcpy(cl[ncl].members, members, m * sizeof(char *));
			memcpy(cl[ncl].sim, msim, m * sizeof(float));
			cl[ncl].n = m;
			ncl++;
		}
		free(count);
		free(first_member);
		free(members);
		free(msim);
		free(order);
	}
	if (clean_store_replace_clusters(s, run_id, "document", cl, ncl, e) < 0)
		goto out;
	sum->clusters_doc = (int64_t)ncl;
	rc = 0;
out:
	for (size_t i = 0; cl && i < ncl; i++) {
		free(cl[i].members);
		free(cl[i].sim);
	}
	free(cl);
	free(root);
	free(exact);
	free(sim);
	free(skip);
	free(v);
	free(block);
	return rc;
}

static int dedup_elements(struct store *s, struct ctx *c, int64_t run_id,
			  struct clean_summary *sum, struct moat_err *e)
{
	const struct clean_opts *o = c->o;
	struct clean_el_text *v = NULL;
	size_t n, *root = NULL;
	float *sim = NULL;
	unsigned char *skip = NULL;
	uint32_t *sigs = NULL;
	struct clean_cluster *cl = NULL;
	char (*ids)[80] = NULL;
	size_t ncl = 0;
	int rc = -1;
	if (clean_store_load_el_texts(s, &v, &n, e) < 0)
		return -1;
	root = calloc(n + 1, sizeof(size_t));
	sim = calloc(n + 1, sizeof(float));
	skip = calloc(n + 1, 1);
	cl = calloc(n + 1, sizeof(*cl));
	ids = calloc(n + 1, sizeof(*ids));
	if (o->dedup == DEDUP_NEAR)
		sigs = malloc((n + 1) * (size_t)o->mh.perms * sizeof(uint32_t));
	if (!root || !sim || !skip || !cl || !ids || (o->dedup == DEDUP_NEAR && !sigs)) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	{
		struct hcount first = { 0 };
		for (size_t i = 0; i < n; i++) {
			int candidate = (!strcmp(v[i].status, "kept") || !strcmp(v[i].status, "duplicate") ||
					 !strcmp(v[i].status, "near_duplicate")) &&
					utf8_count(v[i].text, v[i].len) >= (size_t)o->el_min_chars;
			uint64_t h = norm_line_hash(v[i].text, v[i].len);
			uint32_t f;
			snprintf(ids[i], sizeof(ids[i]), "%s#%d", v[i].doc_id, v[i].seq);
			root[i] = i;
			if (!candidate || o->dedup == DEDUP_NONE) {
				skip[i] = 1;
				continue;
			}
			f = hc_get(&first, h);
			if (f && v[f - 1].len == v[i].len && !memcmp(v[f - 1].text, v[i].text, v[i].len)) {
				root[i] = f - 1;
				sim[i] = 1.0f;
				skip[i] = 2;
			} else if (!f && hc_add(&first, h, (uint32_t)i + 1) < 0) {
				hc_free(&first);
				err_set(e, MOAT_ENOMEM, "out of memory");
				goto out;
			}
			if (sigs)
				mh_signature(&o->mh, v[i].text, v[i].len, sigs + i * (size_t)o->mh.perms);
		}
		hc_free(&first);
	}
	if (sigs) {
		size_t *nroot = calloc(n + 1, sizeof(size_t));
		float *nsim = calloc(n + 1, sizeof(float));
		if (!nroot || !nsim || mh_cluster(&o->mh, sigs, n, skip, nroot, nsim) < 0) {
			free(nroot);
			free(nsim);
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			if (!skip[i] && nroot[i] != i) {
				root[i] = nroot[i];
				sim[i] = nsim[i];
			}
		free(nroot);
		free(nsim);
	}
	/* exact members follow their representative's near root */
	for (size_t i = 0; i < n; i++)
		if (skip[i] == 2)
			root[i] = root[root[i]] != root[i] ? root[root[i]] : root[i];
	for (size_t i = 0; i < n; i++) {
		const char *status;
		char reason[200] = "";
		if (skip[i] == 1)
			continue;
		if (root[i] != i) {
			int ex = skip[i] == 2;
			status = ex ? "duplicate" : "near_duplicate";
			snprintf(reason, sizeof(reason), ex ? "same text as element %.80s (kept)"
							    : "near duplicate of element %.80s (kept)",
				 ids[root[i]]);
			sum->elements_duplicate++;
		} else {
			status = "kept";
		}
		if (clean_store_set_el_status(s, v[i].doc_id, v[i].seq, status, reason[0] ? reason : NULL,
					      e) < 0)
			goto out;
	}
	for (size_t r = 0; r < n; r++) {
		size_t m = 0;
		int near = 0;
		const char **members;
		float *ms;
		for (size_t i = r + 1; i < n; i++)
			if (skip[i] != 1 && root[i] == r)
				m++;
		if (!m || skip[r] == 1)
			continue;
		members = malloc((m + 1) * sizeof(char *));
		ms = malloc((m + 1) * sizeof(float));
		if (!members || !ms) {
			free(members);
			free(ms);
			break;
		}
		members[0] = ids[r];
		ms[0] = 1.0f;
		m = 1;
		for (size_t i = r + 1; i < n; i++)
			if (skip[i] != 1 && root[i] == r) {
				members[m] = ids[i];
				ms[m++] = sim[i];
				near |= skip[i] != 2;
			}
		cl[ncl].method = near ? "near" : "exact";
		cl[ncl].kept = ids[r];
		snprintf(cl[ncl].reason, sizeof(cl[ncl].reason),
			 "first element of %zu %s duplicates; the others are marked, not deleted", m,
			 near ? "near" : "exact");
		cl[ncl].members = members;
		cl[ncl].sim = ms;
		cl[ncl].n = m;
		ncl++;
	}
	if (clean_store_replace_clusters(s, run_id, "element", cl, ncl, e) < 0)
		goto out;
	sum->clusters_el = (int64_t)ncl;
	rc = 0;
out:
	for (size_t i = 0; cl && i < ncl; i++) {
		free(cl[i].members);
		free(cl[i].sim);
	}
	free(cl);
	free(ids);
	free(root);
	free(sim);
	free(skip);
	free(sigs);
	clean_store_free_el_texts(v, n);
	return rc;
}

int clean_run(struct store *s, const struct clean_opts *o, int64_t run_id, struct clean_summary *sum,
	      struct moat_err *e)
{
	struct ctx c;
	struct worker ws[64];
	int jobs = o->jobs < 1 ? 1 : o->jobs > 64 ? 64 : o->jobs, rc = -1;
	int64_t after = 0;
	struct doc_work *w = calloc(BATCH, sizeof(*w));
	memset(&c, 0, sizeof(c));
	memset(ws, 0, sizeof(ws));
	memset(sum, 0, sizeof(*sum));
	sum->findings_list = json_array();
	sum->findings_by_type = json_object();
	sum->operators = json_object();
	sum->drops = json_array();
	sum->drop_reasons = json_object();
	c.o = o;
	if (!w)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (o->mh.perms < 4 || o->mh.perms > 512) {
		free(w);
		return err_set(e, MOAT_EUSAGE, "--perms must be from 4 to 512");
	}
	if (o->normalize && find_boilerplate(&c, s, sum, e) < 0)
		goto out;
	if (load_config(&c, s, e) < 0)
		goto out;
	snprintf(sum->params, sizeof(sum->params), "%s", c.params);
	if (c.llm)
		jobs = 1;  /* one model handle, one thread */
	for (int i = 0; i < jobs; i++)
		if (c.scanner && !(ws[i].scr = pii_scratch_new(c.scanner, e)))
			goto out;
	for (;;) {
		struct clean_doc_in *d;
		size_t n;
		if (clean_store_load_docs(s, after, BATCH, &d, &n, e) < 0)
			goto out;
		if (n == 0) {
			free(d);
			break;
		}
		for (size_t i = 0; i < n; i++) {
			memset(&w[i], 0, sizeof(w[i]));
			w[i].in = &d[i];
			w[i].skip = !strcmp(d[i].params, c.params);
		}
		run_batch(&c, ws, jobs, w, n);
		for (size_t i = 0; i < n; i++) {
			sum->documents++;
			if (w[i].skip) {
				sum->unchanged++;
				continue;
			}
			if (w[i].failed) {
				*e = w[i].err;
				err_prefix(e, "cannot clean document %.12s", d[i].id);
				for (size_t k = i; k < n; k++)
					work_free(&w[k]);
				clean_store_free_docs(d, n);
				goto out;
			}
			sum->processed++;
			if (write_doc(s, &c, run_id, &w[i], sum, e) < 0) {
				for (size_t k = i; k < n; k++)
					work_free(&w[k]);
				clean_store_free_docs(d, n);
				goto out;
			}
			work_free(&w[i]);
		}
		after = d[n - 1].rowid;
		clean_store_free_docs(d, n);
	}
	if (dedup_docs(s, &c, run_id, sum, e) < 0)
		goto out;
	if ((o->level & LEVEL_ELEMENT) && dedup_elements(s, &c, run_id, sum, e) < 0)
		goto out;
	sum->inputs = json_pack("{s:s, s:s, s:s?, s:s?, s:i, s:i, s:f, s:i, s:I}", "params", c.params,
				"engine", pii_engine_name(), "filters_sha256",
				c.have_filters ? c.fp.sha256 : NULL, "pii_policy_sha256",
				c.have_pii ? c.pol.sha256 : NULL, "shingle", o->mh.shingle, "perms", o->mh.perms,
				"near_threshold", o->mh.threshold, "boilerplate_min_docs", o->boiler_min_docs,
				"seed", (json_int_t)o->mh.seed);
	if (c.llm)
		json_object_set_new(sum->inputs, "pii_model", pii_llm_info(c.llm));
	rc = 0;
out:
	for (int i = 0; i < jobs; i++)
		pii_scratch_free(ws[i].scr);
	pii_scanner_free(c.scanner);
	pii_llm_free(c.llm);
	json_decref(c.llm_info);
	policy_release(&c.pol);
	hc_free(&c.boiler);
	memset(c.salt, 0, sizeof(c.salt));
	memset(c.sec.key, 0, sizeof(c.sec.key));
	free(w);
	return rc;
}

/* --- review ----------------------------------------------------------------------- */

static int rerender(struct store *s, const char *doc, struct moat_err *e)
{
	struct clean_render_in in;
	struct buf out = BUF_INIT;
	size_t *ns = NULL, *ne = NULL, *fs = NULL, *fe = NULL, cps = 0;
	int *seq = NULL, rc = -1;
	if (clean_store_render_input(s, doc, &in, e) < 0) {
		clean_store_render_free(&in);
		return -1;
	}
	ns = calloc(in.n_el + 1, sizeof(size_t));
	ne = calloc(in.n_el + 1, sizeof(size_t));
	fs = calloc(in.n_el + 1, sizeof(size_t));
	fe = calloc(in.n_el + 1, sizeof(size_t));
	seq = calloc(in.n_el + 1, sizeof(int));
	if (!ns || !ne || !fs || !fe || !seq) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < in.n_el; i++) {
		ns[i] = in.el[i].norm_start;
		ne[i] = in.el[i].norm_end;
		seq[i] = in.el[i].seq;
	}
	if (render(in.norm_text, in.norm_len, in.r, in.n_r, &out, &cps, ns, ne, in.n_el, fs, fe) < 0) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	rc = clean_store_update_text(s, doc, buf_str(&out), out.len, cps, fs, fe, seq, in.n_el, e);
out:
	free(ns);
	free(ne);
	free(fs);
	free(fe);
	free(seq);
	buf_release(&out);
	clean_store_render_free(&in);
	return rc;
}

int clean_review(struct store *s, json_t *accept, json_t *reject, int64_t *changed, json_t **outputs,
		 struct moat_err *e)
{
	json_t *docs = json_array();
	size_t i;
	json_t *id;
	*changed = 0;
	*outputs = NULL;
	for (int pass = 0; pass < 2; pass++)
	json_array_foreach(pass ? reject : accept, i, id) {
		char doc[65];
		int seen = 0;
		size_t k;
		json_t *d;
		if (clean_store_set_review(s, json_integer_value(id), pass ? "rejected" : "accepted", doc,
					   e) < 0) {
			json_decref(docs);
			return -1;
		}
		json_array_foreach(docs, k, d)
			if (!strcmp(json_string_value(d), doc))
				seen = 1;
		if (!seen)
			json_array_append_new(docs, json_string(doc));
	}
	json_array_foreach(docs, i, id) {
		if (rerender(s, json_string_value(id), e) < 0) {
			json_decref(docs);
			return -1;
		}
		(*changed)++;
	}
	*outputs = json_pack("{s:o}", "documents", docs);
	return 0;
}
