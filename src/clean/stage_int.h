/*
 * stage_int.h - what the clean stage's own files share and nothing outside
 * them includes: the settings of one run (struct clean_ctx), the work on one
 * document while it is cleaned (struct doc_work), and the steps:
 *
 *   document.c     one document: normalise its elements, identify languages,
 *                  filter, sign (MinHash), find and replace PII, render
 *   filters.c      the filter rules of a filter policy applied to one text
 *   render.c       a normalised text with replacements put in, element spans
 *                  mapped to the result (also after a review)
 *   boilerplate.c  lines found in many documents, and the digest of that set
 *   dedup.c        exact and near duplicates, documents and elements alike
 *   review.c       accepting and rejecting findings, and re-rendering
 *   stage.c        the run: settings, batches over the -j workers, writing,
 *                  the summary
 *
 * Not for: SQL (store/cleaned.h) or printing (cmd/clean.c).  Uses the clean
 * module's parts (normalize, langid, minhash, pii, pii_ops, pii_llm, policy,
 * hashcount), the store's cleaned.h, and core/.
 */
#ifndef MOAT_CLEAN_STAGE_INT_H
#define MOAT_CLEAN_STAGE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../store/cleaned.h"
#include "hashcount.h"
#include "langid.h"
#include "normalize.h"
#include "pii.h"
#include "pii_llm.h"
#include "pii_ops.h"
#include "policy.h"
#include "stage.h"

/* What every document of a run is cleaned with; read-only while workers run. */
struct clean_ctx {
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
	struct hashcount boiler;   /* line hash -> 1: boilerplate */
	char params[65];
	unsigned norm_flags;
	int want_sig;
};

/* Memory: cleaning a document takes at most about CLEAN_MEM_PER_BYTE times
 * its elements' text (measured on one 200 MB element: 3.2 times; with PII
 * on a text where one word in seven is PII, 11.7 times: every finding has its
 * record and its replacement; bench/memory), so a batch holds the documents
 * whose text fits the memory limit divided by that, and a document that
 * alone would pass the limit stops the run with the reason. */
#define CLEAN_MEM_PER_BYTE 4
#define CLEAN_MEM_PER_BYTE_PII 16
#define CLEAN_MEM_DEFAULT ((size_t)2 << 30)
size_t clean_mem_per_byte(const struct clean_opts *o);
size_t clean_batch_bytes(const struct clean_opts *o);

struct el_work {
	const struct clean_el_in *in;
	struct norm nm;
	size_t orig_start;
	size_t norm_start, norm_end, fin_start, fin_end;
	size_t byte_start, byte_len;   /* its bytes in the document's norm */
	struct langid lang;
	const char *status;        /* "kept", "empty" or "dropped" */
	struct buf reason;         /* empty: none */
	char sha[65];
	char *map_json;
	int empty;
};

struct doc_work {
	struct clean_doc_in *in;
	int skip;                  /* 1: unchanged since its last run; 2: another shard's */
	struct el_work *el;
	size_t n_el;
	struct buf norm, fin;      /* fin is empty when it would be norm again */
	size_t norm_cps, fin_cps;
	int fin_is_norm;
	struct langid lang;
	const char *status;        /* "kept" or "dropped" */
	struct buf reason;         /* empty: none */
	char sha[65];
	uint32_t *sig;
	struct clean_finding_out *f;
	size_t n_f;
	int boiler_lines;
	int failed;
	struct moat_err err;
};

/* document.c: cleans w->in into w; on failure w->failed is set and w->err
 * says why.  scr is the calling worker's own scratch (NULL without PII). */
void clean_document(const struct clean_ctx *c, struct pii_scratch *scr, struct doc_work *w);
void doc_work_release(struct doc_work *w);

/* filters.c: applies the rules to the n bytes of t (lang: its language).
 * *kind is NULL when the text passes, else the rule that failed
 * ("too_short", ...) with a sentence in reason.  0, or -1 when out of
 * memory. */
int clean_filter(const struct filter_rules *r, const char *t, size_t n, const struct langid *lang,
		 const char **kind, struct buf *reason) __attribute__((warn_unused_result));
/* ... and the rule on an element's type (drop_types: "type" in *kind). */
int clean_filter_type(const struct filter_rules *r, const char *type, const char **kind,
		      struct buf *reason) __attribute__((warn_unused_result));

/* render.c: writes norm[0..nlen) into out with each replacement (code point
 * spans, sorted, disjoint; a NULL replacement keeps the text) put in, and
 * maps the n_el element spans ns/ne (code points of norm) to fs/fe in the
 * output.  0, or -1 when out of memory. */
int clean_render(const char *norm, size_t nlen, const struct clean_repl *r, size_t nr,
		 struct buf *out, size_t *out_cps, const size_t *ns, const size_t *ne, size_t n_el,
		 size_t *fs, size_t *fe) __attribute__((warn_unused_result));

/* boilerplate.c: counts the normalised lines of every document and puts
 * those found in enough of them into c->boiler; *lines gets their number. */
int clean_find_boilerplate(struct clean_ctx *c, struct store *s, int64_t *lines, struct moat_err *e)
	__attribute__((warn_unused_result));
/* The SHA-256 hex of the boilerplate set (its hashes in order), part of the
 * run's parameters. */
int clean_boilerplate_digest(const struct hashcount *boiler, char hex[65], struct moat_err *e)
	__attribute__((warn_unused_result));
/* For norm_drop_lines(): ctx is the struct hashcount of boilerplate lines. */
int clean_is_boilerplate(const void *ctx, uint64_t h);

/* dedup.c: marks exact and near duplicates among the cleaned documents (or
 * their elements) and records the clusters; counts go into sum. */
int clean_dedup_documents(struct store *s, const struct clean_opts *o, int64_t run_id,
			  struct clean_summary *sum, struct moat_err *e) __attribute__((warn_unused_result));
int clean_dedup_elements(struct store *s, const struct clean_opts *o, int64_t run_id,
			 struct clean_summary *sum, struct moat_err *e) __attribute__((warn_unused_result));

#endif
