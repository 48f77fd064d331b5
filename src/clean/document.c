/*
 * document.c - cleaning one document, on a worker thread: each element is
 * normalised (boilerplate lines dropped), its language identified, hashed and
 * filtered; the elements joined by blank lines make the document's
 * normalised text, which is identified, filtered, signed for near-duplicate
 * search, scanned for PII (patterns, and a local model when the policy names
 * one) and rendered with each finding replaced by its policy's operator.
 *
 * Not for: the store (the calling thread writes what this makes) or
 * anything across documents (boilerplate.c, dedup.c).  Reads only the run's
 * settings, so any number of workers can clean documents at once, each with
 * its own PII scratch.
 */
#include "stage_int.h"
#include "../core/hash.h"

#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

void doc_work_release(struct doc_work *w)
{
	for (size_t i = 0; i < w->n_el; i++) {
		norm_release(&w->el[i].nm);
		buf_release(&w->el[i].reason);
		free(w->el[i].map_json);
	}
	free(w->el);
	buf_release(&w->norm);
	buf_release(&w->fin);
	buf_release(&w->reason);
	free(w->sig);
	for (size_t i = 0; i < w->n_f; i++)
		free(w->f[i].replacement);
	free(w->f);
	memset(w, 0, sizeof(*w));
}

static int nomem(struct doc_work *w)
{
	return err_set(&w->err, MOAT_ENOMEM, "out of memory");
}

/* One element: normalised into x->nm, identified, hashed and filtered. */
static int clean_element(const struct clean_ctx *c, struct doc_work *w, struct el_work *x)
{
	const struct clean_el_in *in = x->in;
	unsigned flags = c->norm_flags;
	const char *kind;
	json_t *m;
	x->orig_start = in->start;
	if (!strcmp(in->type, "code"))
		flags &= (unsigned)~(NORM_SPACE | NORM_HYPHEN);
	if (norm_text(&x->nm, in->text, in->len, flags, &w->err) < 0)
		return -1;
	if (c->boiler.n) {
		size_t removed;
		if (norm_drop_lines(&x->nm, clean_is_boilerplate, &c->boiler, &removed) < 0)
			return nomem(w);
		w->boiler_lines += (int)removed;
	}
	x->empty = x->nm.text.len == 0;
	x->status = x->empty ? "empty" : "kept";
	if (x->empty) {
		buf_adds(&x->reason, in->len ? "nothing left after normalisation (boilerplate)" : "empty");
		return buf_failed(&x->reason) ? nomem(w) : 0;
	}
	langid_detect(x->nm.text.data, x->nm.text.len, &x->lang);
	sha256_hex_mem(x->nm.text.data, x->nm.text.len, x->sha);
	if (c->have_filters) {
		if (clean_filter_type(&c->fp.el, in->type, &kind, &x->reason) < 0 ||
		    (!kind && clean_filter(&c->fp.el, x->nm.text.data, x->nm.text.len, &x->lang, &kind,
					   &x->reason) < 0))
			return nomem(w);
		if (kind)
			x->status = "dropped";
	}
	m = norm_map_json(&x->nm);
	x->map_json = m ? json_dumps(m, JSON_COMPACT) : NULL;
	json_decref(m);
	return x->map_json ? 0 : nomem(w);
}

/* The document's normalised text: the elements' joined by blank lines.  Each
 * element's own copy is released once it is in (a document of one element
 * hands its text over whole), so a large element is held once, not twice. */
static int left_out(const struct el_work *x)
{
	/* an element the filters dropped is not in the cleaned text: its span
	 * is empty, as an empty element's, so exports and chunks leave it out */
	return x->empty || !strcmp(x->status, "dropped");
}

static int join_elements(struct doc_work *w)
{
	size_t total = 0, kept = 0, cps = 0;
	for (size_t k = 0; k < w->n_el; k++)
		if (!left_out(&w->el[k])) {
			total += w->el[k].nm.text.len + (kept ? 2 : 0);
			kept++;
		}
	if (kept > 1 && buf_reserve(&w->norm, total) < 0)
		return nomem(w);
	for (size_t k = 0; k < w->n_el; k++) {
		struct el_work *x = &w->el[k];
		if (left_out(x)) {
			x->norm_start = x->norm_end = cps;
			continue;
		}
		if (w->norm.len) {
			buf_adds(&w->norm, "\n\n");
			cps += 2;
		}
		x->norm_start = cps;
		x->byte_start = w->norm.len;
		x->byte_len = x->nm.text.len;
		if (kept == 1) {
			w->norm = x->nm.text;
			x->nm.text = (struct buf)BUF_INIT;
		} else {
			buf_add(&w->norm, x->nm.text.data, x->nm.text.len);
			buf_release(&x->nm.text);
		}
		cps += x->nm.n_cp;
		x->norm_end = cps;
	}
	w->norm_cps = cps;
	return buf_failed(&w->norm) ? nomem(w) : 0;
}

/* Names, places and organisations the policy's model finds, element by
 * element (a paragraph fits any context), merged into f. */
static int find_by_model(const struct clean_ctx *c, struct doc_work *w, struct pii_findings *f)
{
	for (size_t k = 0; k < w->n_el; k++) {
		struct pii_finding *x = NULL;
		size_t nx = 0, eb;
		struct el_work *el = &w->el[k];
		int rc = 0;
		if (left_out(el))
			continue;
		if (pii_llm_find(c->llm, c->scanner, w->norm.data + el->byte_start, el->byte_len, &x,
				 &nx, &w->err) < 0) {
			free(x);
			return -1;
		}
		/* element bytes to document bytes */
		eb = el->byte_start;
		for (size_t q = 0; q < nx; q++) {
			x[q].start += eb;
			x[q].end += eb;
		}
		if (nx)
			rc = pii_merge(c->scanner, buf_str(&w->norm), w->norm.len, 0, f, 0, x, nx, &w->err);
		free(x);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* The element a finding starts in (the last one holding cp), or NULL. */
static struct el_work *element_at(struct doc_work *w, size_t cp)
{
	struct el_work *el = NULL;
	for (size_t k = 0; k < w->n_el; k++)
		if (!left_out(&w->el[k]) && cp >= w->el[k].norm_start && cp < w->el[k].norm_end)
			el = &w->el[k];
	return el;
}

/* Each finding's record in w->f and its replacement in rep[] (the text it
 * is replaced by, or NULL to keep it). */
static int apply_policy(const struct clean_ctx *c, struct doc_work *w,
			const struct pii_findings *f, struct clean_repl *rep)
{
	const char *norm = buf_str(&w->norm);
	for (size_t i = 0; i < f->n; i++) {
		const struct pii_finding *x = &f->v[i];
		const char *type = pii_type_name(c->scanner, x->type);
		const struct pii_op_spec *op = policy_op_for(&c->pol, type);
		struct clean_finding_out *y = &w->f[w->n_f];
		struct el_work *el = element_at(w, x->cp_start);
		size_t end = x->cp_end;
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
		if (pii_value_digest(&c->sec, type, norm + x->start, x->end - x->start, y->digest,
				     &w->err) < 0)
			return -1;
		if (op->op != PII_OP_KEEP) {
			struct buf rb = BUF_INIT;
			if (pii_apply(&c->sec, op, type, norm + x->start, x->end - x->start, &rb,
				      &w->err) < 0) {
				buf_release(&rb);
				return -1;
			}
			/* never NULL for a value that is replaced: NULL would keep it */
			y->replacement = buf_detach(&rb, NULL);
			if (!y->replacement)
				return nomem(w);
		}
		rep[w->n_f].start = y->start;
		rep[w->n_f].end = y->end;
		rep[w->n_f].replacement = y->replacement;
		w->n_f++;
	}
	return 0;
}

/* PII: scan the normalised text, replace by policy, render. */
static int clean_pii(const struct clean_ctx *c, struct pii_scratch *scr, struct doc_work *w)
{
	struct pii_findings f = PII_FINDINGS_INIT;
	struct clean_repl *rep = NULL;
	size_t *spans = NULL, n1 = w->n_el + 1;
	int rc = -1;
	if (pii_scan(c->scanner, scr, buf_str(&w->norm), w->norm.len, 0, &f, &w->err) < 0)
		goto out;
	if (c->llm && find_by_model(c, w, &f) < 0)
		goto out;
	w->f = calloc(f.n ? f.n : 1, sizeof(*w->f));
	rep = calloc(f.n ? f.n : 1, sizeof(*rep));
	spans = calloc(4 * n1, sizeof(size_t));  /* norm start, end; final start, end */
	if (!w->f || !rep || !spans) {
		nomem(w);
		goto out;
	}
	if (apply_policy(c, w, &f, rep) < 0)
		goto out;
	for (size_t k = 0; k < w->n_el; k++) {
		spans[k] = w->el[k].norm_start;
		spans[n1 + k] = w->el[k].norm_end;
	}
	if (clean_render(buf_str(&w->norm), w->norm.len, rep, w->n_f, &w->fin, &w->fin_cps, spans,
			 spans + n1, w->n_el, spans + 2 * n1, spans + 3 * n1) < 0) {
		nomem(w);
		goto out;
	}
	for (size_t k = 0; k < w->n_el; k++) {
		w->el[k].fin_start = spans[2 * n1 + k];
		w->el[k].fin_end = spans[3 * n1 + k];
	}
	rc = 0;
out:
	free(rep);
	free(spans);
	pii_findings_release(&f);
	return rc;
}

static int clean_doc(const struct clean_ctx *c, struct pii_scratch *scr, struct doc_work *w)
{
	const struct clean_doc_in *d = w->in;
	const struct clean_opts *o = c->o;
	const char *kind;
	w->el = calloc(d->n_el ? d->n_el : 1, sizeof(*w->el));
	if (!w->el)
		return nomem(w);
	w->n_el = d->n_el;
	for (size_t i = 0; i < d->n_el; i++) {
		w->el[i].in = &d->el[i];
		norm_init(&w->el[i].nm);
		if (clean_element(c, w, &w->el[i]) < 0)
			return -1;
	}
	if (join_elements(w) < 0)
		return -1;
	langid_detect(buf_str(&w->norm), w->norm.len, &w->lang);
	sha256_hex_mem(buf_str(&w->norm), w->norm.len, w->sha);
	w->status = "kept";
	if (c->have_filters) {
		if (clean_filter(&c->fp.doc, buf_str(&w->norm), w->norm.len, &w->lang, &kind,
				 &w->reason) < 0)
			return nomem(w);
		if (kind)
			w->status = "dropped";
	}
	if (c->want_sig) {
		w->sig = malloc((size_t)o->mh.perms * sizeof(uint32_t));
		if (!w->sig)
			return nomem(w);
		mh_signature(&o->mh, buf_str(&w->norm), w->norm.len, w->sig);
	}
	if (c->have_pii && w->norm.len)
		return clean_pii(c, scr, w);
	w->fin_is_norm = 1;  /* nothing replaced: the final text is norm */
	w->fin_cps = w->norm_cps;
	for (size_t k = 0; k < w->n_el; k++) {
		w->el[k].fin_start = w->el[k].norm_start;
		w->el[k].fin_end = w->el[k].norm_end;
	}
	return 0;
}

void clean_document(const struct clean_ctx *c, struct pii_scratch *scr, struct doc_work *w)
{
	if (clean_doc(c, scr, w) < 0)
		w->failed = 1;
}
