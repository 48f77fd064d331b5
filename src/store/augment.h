/*
 * augment.h (store) - the SQL of the augment stage: runs (aug_runs), and
 * every record a run generated (aug_records), accepted or rejected with its
 * reason, with the provenance that names its model, prompt, seed and
 * sources, and the task an accepted record became.  A record's key is
 * unique in its project, so a record is never stored twice.
 *
 * Not for: deciding anything (src/augment/ screens and decides).  Part of
 * the store module (store_int.h, db.h): portable SQL for SQLite and
 * PostgreSQL.
 *
 * Ownership: json_t results are new references; writes happen in the
 * caller's transaction.  Functions return 0 (or an id) or -1 (or NULL) with
 * e set.
 */
#ifndef MOAT_STORE_AUGMENT_H
#define MOAT_STORE_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../core/err.h"

struct store;

struct aug_store_run {
	int64_t project;
	const char *recipe, *recipe_sha256, *model, *source;
	int n;
	int64_t seed;
	int64_t run_id;
};
int64_t aug_store_run_new(struct store *s, const struct aug_store_run *r, struct moat_err *e)
	__attribute__((warn_unused_result));
/* Sets status (NULL: unchanged), the counts (< 0: unchanged), error. */
int aug_store_run_update(struct store *s, int64_t id, const char *status, int64_t generated,
			 int64_t accepted, int64_t rejected, int64_t failed, const char *error,
			 struct moat_err *e) __attribute__((warn_unused_result));

struct aug_store_record {
	int64_t aug_run, project;
	const char *key;            /* unique in the project */
	const char *status;         /* "accepted" or "rejected" */
	const char *reason, *detail;  /* rejected: why ("pii", "duplicate", ...); NULL */
	const char *value;          /* the answer, compact JSON (de-identified when it was) */
	const char *text_sha256;    /* of the record's normalised text */
	const uint32_t *minhash;    /* n_minhash values, or NULL */
	size_t n_minhash;
	const char *sources;        /* JSON array of source ids */
	const char *model, *model_digest, *template_sha256, *prompt_sha256, *options;
	int64_t seed;
	const char *provenance;     /* compact JSON */
};
/* Adds a record; *id its id.  A key already stored is MOAT_EEXISTS. */
int aug_store_record_add(struct store *s, const struct aug_store_record *r, int64_t *id,
			 struct moat_err *e) __attribute__((warn_unused_result));
int aug_store_record_task(struct store *s, int64_t record, int64_t task, struct moat_err *e)
	__attribute__((warn_unused_result));
/* 1 when key is stored for project, 0 when not, -1 on error. */
int aug_store_has_key(struct store *s, int64_t project, const char *key, struct moat_err *e)
	__attribute__((warn_unused_result));

/* What near-duplicates are looked for among: fn(ctx, what, sha, sig, n_sig,
 * sources) for every accepted record (what "record", sources its JSON array
 * of ids) and every cleaned document with a signature (what "document",
 * sha its normalised text's digest, sources NULL). */
typedef int (*aug_store_sig_fn)(void *ctx, const char *what, const char *sha,
				const uint32_t *sig, size_t n_sig, const char *sources,
				struct moat_err *e);
int aug_store_each_sig(struct store *s, aug_store_sig_fn fn, void *ctx, struct moat_err *e)
	__attribute__((warn_unused_result));

/* [{id, project, recipe, recipe_sha256, model, source, n, seed, status,
 * generated, accepted, rejected, failed, error, reasons, started_at,
 * updated_at}] (one run's object when id > 0: MOAT_ENOTFOUND). */
json_t *aug_store_runs(struct store *s, int64_t id, struct moat_err *e)
	__attribute__((warn_unused_result));
/* The records of run: [{id, key, status, reason, detail, value, sources,
 * task_id, model, model_digest, template_sha256, prompt_sha256, options,
 * seed, provenance, created_at}], by id. */
json_t *aug_store_records(struct store *s, int64_t run, struct moat_err *e)
	__attribute__((warn_unused_result));

#endif
