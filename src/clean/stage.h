/*
 * stage.h - the clean stage over a workspace: normalise each document's
 * elements (keeping a map back to the original offsets), identify languages,
 * apply filters, find and replace PII by policy, mark exact and near
 * duplicates at document and element level, and store all of it with the
 * reasons (src/store/cleaned.h).  Documents are never deleted: they are marked.
 *
 * Incremental: a document whose parameters (normalisation, filters, policy,
 * secrets, boilerplate set, MinHash settings) have not changed since its last
 * run is not processed again, and clusters are rewritten only when they
 * change, so a second identical run changes nothing.
 *
 * Not for: printing (cmd/clean.c) or the audit record (the caller appends it
 * from the summary).  Uses the clean module's parts, the store (store.h and
 * cleaned.h, inside the caller's transaction) and core/ (the thread pool
 * among them); the stage's own files share stage_int.h.
 */
#ifndef MOAT_CLEAN_STAGE_H
#define MOAT_CLEAN_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../core/err.h"
#include "../core/shard.h"
#include "minhash.h"

struct store;

enum clean_dedup { DEDUP_NONE = 0, DEDUP_EXACT = 1, DEDUP_NEAR = 2 };
enum clean_level { LEVEL_DOC = 1, LEVEL_ELEMENT = 2, LEVEL_BOTH = 3 };

struct clean_opts {
	int normalize;
	int dedup;                 /* enum clean_dedup (near includes exact) */
	int level;                 /* enum clean_level */
	struct mh_params mh;
	const char *filters;       /* filter policy file, or NULL */
	const char *pii;           /* PII policy file, or NULL */
	int jobs;
	int boiler_min_docs;       /* a line in at least this many documents ... (3) */
	double boiler_share;       /* ... and this share of them is boilerplate (0.05) */
	int boiler_max_chars;      /* longer lines are content, not boilerplate (200 bytes) */
	int el_min_chars;          /* elements shorter are not deduplicated (20) */
	size_t max_memory;         /* bytes the documents in work may take, 0: 2 GiB */
	/* Only the documents of this shard (by document id; SHARD_ALL: all).
	 * A sharded run does each of its documents' own steps, with the
	 * boilerplate set found over every document (so its documents come out
	 * as an unsharded run would make them), and leaves out deduplication,
	 * which needs every document: an unsharded run with the same options
	 * does it afterwards, and skips the documents already clean. */
	struct shard shard;
};

struct clean_opts clean_default_opts(void);

struct clean_summary {
	int64_t documents, processed, unchanged, kept, dropped, duplicates, near_duplicates;
	int64_t elements, elements_dropped, elements_duplicate, elements_empty, boilerplate_lines;
	int64_t findings, clusters_doc, clusters_el;
	int64_t other_shards;      /* documents left to the other shards */
	char params[65];
	json_t *findings_list;     /* [[id, doc, element, type, start, end, operator], ...] */
	json_t *findings_by_type;  /* {type: n} */
	json_t *operators;         /* {operator: n} */
	json_t *drops;             /* [[doc, reason], ...] */
	json_t *drop_reasons;      /* {reason kind: n} */
	json_t *inputs;            /* policy and filter digests, parameters */
};

void clean_summary_release(struct clean_summary *s);

/* Cleans the workspace's documents inside the caller's transaction (which
 * the caller rolls back when this fails) and fills sum, which the caller
 * releases.  -1 with e set on failure; sum is then already released. */
int clean_run(struct store *s, const struct clean_opts *o, int64_t run_id, struct clean_summary *sum,
	      struct moat_err *e) __attribute__((warn_unused_result));

/* Accepts or rejects findings by id (arrays of integers) and re-renders the
 * cleaned text of every document concerned.  *outputs gets
 * {documents: [...]}. */
int clean_review(struct store *s, json_t *accept, json_t *reject, int64_t *changed, json_t **outputs,
		 struct moat_err *e) __attribute__((warn_unused_result));

#endif
