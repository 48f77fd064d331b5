/*
 * dedup.c - exact and near duplicates, over the cleaned documents or over
 * their elements, by one routine:
 *
 *   1. exact: items with the same content as an earlier one (a hash, then
 *      the content compared) join that first item, its representative;
 *   2. near (--dedup near): the representatives' MinHash signatures are
 *      banded and clustered (minhash.h); an exact duplicate follows its
 *      representative into that representative's near cluster;
 *   3. every cluster of two or more items keeps its first item (ingest
 *      order) and marks the others, which are never deleted; the clusters
 *      are recorded with their members and similarities, and rewritten only
 *      when the set changed.
 *
 * What differs between the levels is what an item is (loaded by the level's
 * function below), which items take part, and the words of the reasons.
 *
 * Not for: computing signatures of documents (document.c does, once, as it
 * cleans them) or the SQL (store/cleaned.h).
 */
#include "stage_int.h"
#include "../core/fmt.h"
#include "../core/utf8.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

/* One level's items, in ingest order, and what the search finds. */
struct dedup {
	size_t n;
	const char **name;        /* each item's name in clusters and reasons */
	uint64_t *key;            /* a hash of its content */
	unsigned char *out;       /* 1: takes no part (dropped, too short, no dedup) */
	/* the near pass: signatures (n * perms), or NULL to skip it */
	uint32_t *sigs;
	/* do items a and b have the same content? */
	int (*same)(const void *ctx, size_t a, size_t b);
	const void *ctx;
	/* the results: rep[i] the first item with i's content, root[i] the first
	 * of i's cluster, sim[i] i's estimated similarity to it */
	size_t *rep, *root;
	float *sim;
};

static int dedup_alloc(struct dedup *d, size_t n)
{
	d->n = n;
	d->name = calloc(n + 1, sizeof(*d->name));
	d->key = calloc(n + 1, sizeof(*d->key));
	d->out = calloc(n + 1, 1);
	d->rep = calloc(n + 1, sizeof(*d->rep));
	d->root = calloc(n + 1, sizeof(*d->root));
	d->sim = calloc(n + 1, sizeof(*d->sim));
	return d->name && d->key && d->out && d->rep && d->root && d->sim ? 0 : -1;
}

static void dedup_release(struct dedup *d)
{
	free(d->name);
	free(d->key);
	free(d->out);
	free(d->rep);
	free(d->root);
	free(d->sim);
	memset(d, 0, sizeof(*d));
}

/* Steps 1 and 2: fills rep, root and sim. */
static int dedup_find(struct dedup *d, const struct mh_params *mh, struct moat_err *e)
{
	struct hashcount first = HASHCOUNT_INIT;
	unsigned char *skip = calloc(d->n + 1, 1);
	if (!skip)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	for (size_t i = 0; i < d->n; i++) {
		uint32_t f;
		d->rep[i] = d->root[i] = i;
		d->sim[i] = 1.0f;
		skip[i] = d->out[i];
		if (d->out[i])
			continue;
		f = hashcount_get(&first, d->key[i]);
		if (f && d->same(d->ctx, f - 1, i)) {
			d->rep[i] = f - 1;
			skip[i] = 1;  /* not in the near pass: its representative is */
		} else if (!f && hashcount_add(&first, d->key[i], (uint32_t)i + 1) < 0) {
			hashcount_release(&first);
			free(skip);
			return err_set(e, MOAT_ENOMEM, "out of memory");
		}
	}
	hashcount_release(&first);
	if (d->sigs && mh_cluster(mh, d->sigs, d->n, skip, d->root, d->sim) < 0) {
		free(skip);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	free(skip);
	for (size_t i = 0; i < d->n; i++)
		if (d->rep[i] != i) {
			d->root[i] = d->root[d->rep[i]];
			d->sim[i] = 1.0f;
		}
	return 0;
}

static void clusters_free(struct clean_cluster *cl, size_t n)
{
	for (size_t i = 0; cl && i < n; i++) {
		free(cl[i].members);
		free(cl[i].sim);
	}
	free(cl);
}

/* Step 3: one cluster per root of two or more items, members in order, the
 * root kept; recorded for level.  first names the kept one in the reason
 * ("first ingested", "first element").  *count gets the number of clusters. */
static int dedup_record(struct store *s, int64_t run_id, const char *level, const char *first,
			const struct dedup *d, int64_t *count, struct moat_err *e)
{
	struct clean_cluster *cl = calloc(d->n + 1, sizeof(*cl));
	size_t *size = calloc(d->n + 1, sizeof(size_t)), ncl = 0;
	int rc = -1;
	if (!cl || !size) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < d->n; i++)
		if (!d->out[i])
			size[d->root[i]]++;
	for (size_t r = 0; r < d->n; r++) {
		struct clean_cluster *c = &cl[ncl];
		int near = 0;
		size_t m = 0;
		if (size[r] < 2)
			continue;
		c->members = malloc(size[r] * sizeof(*c->members));
		c->sim = malloc(size[r] * sizeof(*c->sim));
		ncl++;
		if (!c->members || !c->sim) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = r; i < d->n; i++) {
			if (d->out[i] || d->root[i] != r)
				continue;
			c->members[m] = d->name[i];
			c->sim[m] = d->sim[i];
			near |= i != r && d->rep[i] == i;
			m++;
		}
		c->n = m;
		c->method = near ? "near" : "exact";
		c->kept = d->name[r];
		if (xsnprintf(c->reason, sizeof(c->reason),
			      "%s of %zu %s duplicates; the others are marked, not deleted", first, m,
			      c->method) < 0) {
			err_set(e, MOAT_ELIMIT, "a cluster's reason does not fit");
			goto out;
		}
	}
	if (clean_store_replace_clusters(s, run_id, level, cl, ncl, e) < 0)
		goto out;
	*count = (int64_t)ncl;
	rc = 0;
out:
	clusters_free(cl, ncl);
	free(size);
	return rc;
}

/* --- documents ------------------------------------------------------------------- */

static int same_doc(const void *ctx, size_t a, size_t b)
{
	const struct clean_sig *v = ctx;
	return !strcmp(v[a].sha, v[b].sha);
}

/* The first 16 hex digits of a SHA-256 as a number. */
static uint64_t hex64(const char *sha)
{
	uint64_t h = 0;
	for (int k = 0; k < 16 && sha[k]; k++)
		h = h * 16 + (uint64_t)(isdigit((unsigned char)sha[k]) ? sha[k] - '0' : sha[k] - 'a' + 10);
	return h;
}

int clean_dedup_documents(struct store *s, const struct clean_opts *o, int64_t run_id,
			  struct clean_summary *sum, struct moat_err *e)
{
	struct clean_sig *v = NULL;
	uint32_t *block = NULL;
	struct dedup d;
	size_t n;
	int rc = -1;
	memset(&d, 0, sizeof(d));
	if (clean_store_load_sigs(s, o->mh.perms, &v, &n, &block, e) < 0)
		return -1;
	if (dedup_alloc(&d, n) < 0) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	d.same = same_doc;
	d.ctx = v;
	d.sigs = o->dedup == DEDUP_NEAR ? block : NULL;
	for (size_t i = 0; i < n; i++) {
		d.name[i] = v[i].doc_id;
		d.key[i] = hex64(v[i].sha);
		d.out[i] = v[i].dropped || o->dedup == DEDUP_NONE;
	}
	if (dedup_find(&d, &o->mh, e) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const char *status = "kept";
		char reason[200] = "";
		size_t r = d.root[i];
		int fit = 0;
		if (v[i].dropped) {
			sum->dropped++;
			continue;
		}
		if (r != i && d.rep[i] != i) {
			status = "duplicate";
			fit = xsnprintf(reason, sizeof(reason), "same normalised text as %.12s (kept)",
					v[d.rep[i]].doc_id);
			sum->duplicates++;
		} else if (r != i) {
			status = "near_duplicate";
			fit = xsnprintf(reason, sizeof(reason),
					"near duplicate of %.12s (kept), estimated Jaccard %.2f >= %.2f",
					v[r].doc_id, (double)d.sim[i], o->mh.threshold);
			sum->near_duplicates++;
		} else {
			sum->kept++;
		}
		if (fit < 0) {
			err_set(e, MOAT_ELIMIT, "the reason for %.12s does not fit", v[i].doc_id);
			goto out;
		}
		if (clean_store_set_status(s, v[i].doc_id, status, reason[0] ? reason : NULL, e) < 0)
			goto out;
	}
	rc = dedup_record(s, run_id, "document", "first ingested", &d, &sum->clusters_doc, e);
out:
	dedup_release(&d);
	free(v);
	free(block);
	return rc;
}

/* --- elements -------------------------------------------------------------------- */

static int same_el(const void *ctx, size_t a, size_t b)
{
	const struct clean_el_text *v = ctx;
	return !strcmp(v[a].sha, v[b].sha);  /* the texts' SHA-256 */
}

/* Element ids as clusters name them: "DOC#SEQ". */
typedef char el_id[80];

/* What element deduplication keeps of each element while the texts stream
 * by: its names, hash, signature and whether it takes part. */
struct el_scan {
	const struct clean_opts *o;
	struct clean_el_text *v;
	el_id *ids;
	struct dedup *d;
	size_t n, max;
};

static int scan_el(void *ctx, const struct clean_el_text *x, const char *text, size_t len,
		   struct moat_err *e)
{
	struct el_scan *sc = ctx;
	const struct clean_opts *o = sc->o;
	size_t i = sc->n, perms = (size_t)o->mh.perms;
	int candidate = (!strcmp(x->status, "kept") || !strcmp(x->status, "duplicate") ||
			 !strcmp(x->status, "near_duplicate")) &&
			utf8_count(text, len) >= (size_t)o->el_min_chars;
	if (i >= sc->max)
		return err_set(e, MOAT_ECORRUPT, "the workspace changed while it was deduplicated");
	sc->v[i] = *x;
	if (xsnprintf(sc->ids[i], sizeof(sc->ids[i]), "%s#%d", x->doc_id, x->seq) < 0)
		return err_set(e, MOAT_ELIMIT, "element id '%s#%d' is too long", x->doc_id, x->seq);
	sc->d->name[i] = sc->ids[i];
	sc->d->key[i] = norm_line_hash(text, len);
	sc->d->out[i] = !candidate || o->dedup == DEDUP_NONE;
	if (sc->d->sigs && !sc->d->out[i])
		mh_signature(&o->mh, text, len, sc->d->sigs + i * perms);
	sc->n++;
	return 0;
}

int clean_dedup_elements(struct store *s, const struct clean_opts *o, int64_t run_id,
			 struct clean_summary *sum, struct moat_err *e)
{
	struct clean_el_text *v = NULL;
	el_id *ids = NULL;
	struct dedup d;
	struct el_scan sc;
	size_t n, perms = (size_t)o->mh.perms;
	int64_t count;
	int rc = -1;
	memset(&d, 0, sizeof(d));
	count = clean_store_count_els(s, e);
	if (count < 0)
		return -1;
	n = (size_t)count;
	v = calloc(n + 1, sizeof(*v));
	ids = calloc(n + 1, sizeof(*ids));
	if (!v || !ids || dedup_alloc(&d, n) < 0 ||
	    (o->dedup == DEDUP_NEAR && !(d.sigs = malloc((n + 1) * perms * sizeof(uint32_t))))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	d.same = same_el;
	d.ctx = v;
	sc = (struct el_scan){ o, v, ids, &d, 0, n };
	if (clean_store_each_el(s, scan_el, &sc, e) < 0)
		goto out;
	if (sc.n != n) {
		err_set(e, MOAT_ECORRUPT, "the workspace changed while it was deduplicated");
		goto out;
	}
	if (dedup_find(&d, &o->mh, e) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const char *status = "kept";
		char reason[200] = "";
		int fit = 0;
		if (d.out[i])
			continue;
		if (d.root[i] != i) {
			int exact = d.rep[i] != i;
			status = exact ? "duplicate" : "near_duplicate";
			fit = xsnprintf(reason, sizeof(reason), exact ? "same text as element %.80s (kept)"
								     : "near duplicate of element %.80s (kept)",
					ids[d.root[i]]);
			sum->elements_duplicate++;
		}
		if (fit < 0) {
			err_set(e, MOAT_ELIMIT, "the reason for element %s does not fit", ids[i]);
			goto out;
		}
		if (clean_store_set_el_status(s, v[i].doc_id, v[i].seq, status, reason[0] ? reason : NULL,
					      e) < 0)
			goto out;
	}
	rc = dedup_record(s, run_id, "element", "first element", &d, &sum->clusters_el, e);
out:
	free(d.sigs);
	dedup_release(&d);
	free(ids);
	free(v);
	return rc;
}
