/*
 * cleaned.h - what the clean stage keeps in the workspace, and the SQL for it
 * (the store module owns all SQL):
 *
 *   clean_docs       one row per document: the normalised text, the cleaned
 *                    (de-identified) text, status (kept, dropped, duplicate,
 *                    near_duplicate) with the reason, language, the MinHash
 *                    signature, and the hash of the parameters that made it
 *   clean_elements   per element: its span in the normalised and in the
 *                    cleaned text, language, status and reason, and the map
 *                    of its normalised offsets back to the original
 *   clean_clusters / clean_cluster_members
 *                    duplicate clusters (exact or near, document or element
 *                    level): every member, the one kept and why
 *   pii_findings     every finding: type, span (normalised text, and in the
 *                    original), score, recognizer, operator, a keyed digest of
 *                    the value (never the value), the replacement written, and
 *                    the review decision
 *   clean_meta       the workspace's PII secret and digests of cluster sets
 *
 * Not for: deciding any of it (src/clean/ computes the rows; this file only
 * reads and writes them), nor the ingested documents' own tables (store.h).
 * Part of the store module: uses SQLite through store_int.h, jansson,
 * core/hash.h and OpenSSL's random bytes for the secret.
 *
 * Ownership: loaders hand out arrays the caller frees with the matching
 * _free function; json_t results are new references.  Every function that
 * can fail returns -1 (or NULL) with e set and writes inside the caller's
 * transaction, which the caller rolls back.
 */
#ifndef MOAT_STORE_CLEAN_H
#define MOAT_STORE_CLEAN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../core/err.h"

struct store;

/* --- reading documents ------------------------------------------------------ */

struct clean_el_in {
	int seq;
	char type[24];
	size_t start, end;       /* code points in the document text */
	char *text;
	size_t len;              /* bytes */
};

struct clean_doc_in {
	char id[65];
	int64_t rowid;
	struct clean_el_in *el;
	size_t n_el;
	char params[65];         /* of its clean row, "" when it has none */
};

/* Up to max documents after rowid `after`, in ingest order, with their
 * elements' text: as many as hold max_bytes of it (always at least one), so
 * a batch of large documents is a short one.  A document whose clean row has
 * the parameters skip_params (when not NULL) comes without its elements: it
 * is already clean. */
int clean_store_load_docs(struct store *s, int64_t after, size_t max, size_t max_bytes,
			  const char *skip_params, struct clean_doc_in **out, size_t *n,
			  struct moat_err *e) __attribute__((warn_unused_result));
void clean_store_free_docs(struct clean_doc_in *d, size_t n);
int64_t clean_store_count_docs(struct store *s, struct moat_err *e)
	__attribute__((warn_unused_result));

/* --- writing a cleaned document ----------------------------------------------- */

struct clean_el_out {
	int seq;
	const char *type;
	size_t norm_start, norm_end;   /* in norm_text */
	size_t start, end;             /* in text */
	const char *lang;
	double lang_score;
	const char *status, *reason;
	const char *norm_sha256;
	char *offset_map;              /* JSON */
};

struct clean_finding_out {
	int64_t id;                    /* set by clean_store_put */
	const char *type;
	int seq;
	size_t start, end;             /* code points of norm_text */
	size_t orig_start, orig_end;   /* code points of the document text */
	double score;
	const char *recognizer, *op;
	char digest[65];
	char *replacement;             /* NULL for keep */
};

struct clean_doc_out {
	const char *doc_id;
	const char *params;
	int64_t run_id;
	const char *status, *reason;
	const char *lang;
	double lang_score;
	char norm_sha256[65];
	const char *norm_text;
	size_t norm_len;
	const char *text;
	size_t text_len, text_cps;
	const uint32_t *minhash;
	size_t n_minhash;
	const char *stats;             /* JSON, may be NULL */
	struct clean_el_out *el;
	size_t n_el;
	struct clean_finding_out *f;
	size_t n_f;
};

/* Replaces the document's clean row, its elements, and marks its earlier
 * findings as not current; fills o->f[i].id. */
int clean_store_put(struct store *s, struct clean_doc_out *o, struct moat_err *e)
	__attribute__((warn_unused_result));

/* --- duplicates ----------------------------------------------------------- */

struct clean_sig {
	char doc_id[65];
	char sha[65];
	int dropped;                   /* status 'dropped' by a filter */
	uint32_t *sig;                 /* perms values, or NULL */
};

/* Every cleaned document in ingest order with its normalised-text hash and
 * signature; the signatures live in *block (n * perms values).  Free both
 * with free(). */
int clean_store_load_sigs(struct store *s, int perms, struct clean_sig **out, size_t *n,
			  uint32_t **block, struct moat_err *e) __attribute__((warn_unused_result));

/* Sets a document's status unless it already has it; returns 1 when it
 * changed, 0 when not, -1 on error. */
int clean_store_set_status(struct store *s, const char *doc_id, const char *status,
			   const char *reason, struct moat_err *e)
	__attribute__((warn_unused_result));
int clean_store_set_el_status(struct store *s, const char *doc_id, int seq, const char *status,
			      const char *reason, struct moat_err *e)
	__attribute__((warn_unused_result));

struct clean_el_text {
	char doc_id[65];
	int seq;
	char status[24];
	char sha[65];            /* SHA-256 of its normalised text */
};
/* Calls fn with every element of the documents whose status is kept, in
 * ingest order, and its normalised text (valid during the call only, so the
 * workspace's text is never held at once); fn's -1 stops it.  0 or -1. */
typedef int (*clean_el_fn)(void *ctx, const struct clean_el_text *x, const char *text, size_t len,
			   struct moat_err *e);
int clean_store_each_el(struct store *s, clean_el_fn fn, void *ctx, struct moat_err *e)
	__attribute__((warn_unused_result));
/* How many elements clean_store_each_el() gives (at most). */
int64_t clean_store_count_els(struct store *s, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Cluster sets: the current clusters of a level are replaced only when the
 * digest of the new set differs (so a rerun changes nothing).  Returns 1 when
 * replaced, 0 when unchanged. */
struct clean_cluster {
	const char *method;            /* "exact" or "near" */
	const char *kept;
	char reason[160];
	const char **members;
	float *sim;
	size_t n;
};
int clean_store_replace_clusters(struct store *s, int64_t run_id, const char *level,
				 const struct clean_cluster *c, size_t n, struct moat_err *e)
	__attribute__((warn_unused_result));

/* --- secrets, meta ------------------------------------------------------------ */

/* The workspace's 32-byte secret name, made on first use. */
int clean_store_secret(struct store *s, const char *name, unsigned char out[32],
		       struct moat_err *e) __attribute__((warn_unused_result));

/* --- findings and review -------------------------------------------------------- */

/* Current findings as [{id, doc, element, type, start, end, orig_start,
 * orig_end, score, recognizer, operator, digest, status}], filtered by type,
 * review status and document (each may be NULL), at most limit (0: all). */
json_t *clean_store_findings(struct store *s, const char *type, const char *status,
			     const char *doc, long limit, struct moat_err *e)
	__attribute__((warn_unused_result));
/* Sets the review decision of a current finding; returns its document id in
 * doc (65 bytes) or fails with MOAT_ENOTFOUND. */
int clean_store_set_review(struct store *s, int64_t id, const char *decision, char doc[65],
			   struct moat_err *e) __attribute__((warn_unused_result));

/* What a re-render needs: the normalised text and the current findings not
 * rejected, as (start, end, replacement) in order of start. */
struct clean_repl {
	size_t start, end;
	char *replacement;             /* NULL: keep */
};
struct clean_render_in {
	char *norm_text;
	size_t norm_len;
	struct clean_repl *r;
	size_t n_r;
	struct { int seq; size_t norm_start, norm_end; } *el;
	size_t n_el;
};
int clean_store_render_input(struct store *s, const char *doc_id, struct clean_render_in *in,
			     struct moat_err *e) __attribute__((warn_unused_result));
void clean_store_render_free(struct clean_render_in *in);
/* Stores a re-rendered text and element spans. */
int clean_store_update_text(struct store *s, const char *doc_id, const char *text, size_t len,
			    size_t cps, const size_t *el_start, const size_t *el_end,
			    const int *el_seq, size_t n_el, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Counts by status for summaries: {documents: {kept: N, ...}, elements:
 * {...}, findings: N, clusters: N}. */
json_t *clean_store_summary(struct store *s, struct moat_err *e) __attribute__((warn_unused_result));

/* A cleaned document for show: {id, status, reason, lang, text, elements:
 * [{seq, type, start, end, status, reason, lang, text}], findings: N}. */
json_t *clean_store_show(struct store *s, const char *doc_id, struct moat_err *e)
	__attribute__((warn_unused_result));

#endif
