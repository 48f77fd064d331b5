/*
 * label.h (store) - the SQL of the label stage: projects with their schema,
 * source and overlap, handing tasks out (leases), annotations one per task
 * and annotator, review decisions, suggestions with their provenance, and
 * suggestion runs.  Rows come back as JSON objects, so the stage and the web
 * API share one shape.
 *
 * Not for: deciding anything (src/label/ does: what a value may hold, who
 * may act, which figures to compute).  Part of the store module (store_int.h,
 * db.h): the same SQL on SQLite and PostgreSQL, with STORE_SQL where the two
 * differ.
 *
 * Ownership: json_t results are new references.  Functions return 0 (or a
 * count, or an id) on success and -1 (or NULL) with e set; writes happen in
 * the caller's transaction (store_begin/commit), which the caller rolls back
 * on failure.
 */
#ifndef MOAT_STORE_LABEL_H
#define MOAT_STORE_LABEL_H

#include <stdint.h>

#include <jansson.h>

#include "../core/err.h"

struct store;

struct lb_project {
	int64_t id;
	char name[129];
	char kind[16];          /* "text" or "image" (the tasks' kind of content) */
	char *schema;           /* JSON text (malloc'd; lb_project_release) or NULL */
	char *source, *where;   /* NULL when none */
	int overlap;
};
void lb_project_release(struct lb_project *p);

/* Makes a project; MOAT_EEXISTS when the name is taken. */
int lb_project_new(struct store *s, struct lb_project *p, const char *labels_json,
		   struct moat_err *e) __attribute__((warn_unused_result));
/* MOAT_ENOTFOUND naming it when there is none. */
int lb_project_get(struct store *s, const char *name, struct lb_project *out, struct moat_err *e)
	__attribute__((warn_unused_result));
/* [{name, kind, from, where, overlap, tasks, done, annotations, suggestions,
 * created_at}], by name; one project's object when name is not NULL
 * (MOAT_ENOTFOUND). */
json_t *lb_projects(struct store *s, const char *name, struct moat_err *e)
	__attribute__((warn_unused_result));
/* Deletes the project and all its rows; counts {tasks, annotations,
 * suggestions}. */
int lb_project_rm(struct store *s, int64_t project, json_t **counts, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Images ingested: calls fn(ctx, id, path, meta JSON text or NULL). */
typedef int (*lb_image_fn)(void *ctx, const char *id, const char *path, const char *meta,
			   struct moat_err *e);
int lb_each_image(struct store *s, lb_image_fn fn, void *ctx, struct moat_err *e)
	__attribute__((warn_unused_result));

/* --- tasks ---------------------------------------------------------------- */

/* The task leased to user in project that user has not submitted (a task
 * they had open), else the first open task after `after` that user has not
 * submitted and that fewer than overlap - n_done others hold; leases it to
 * user until `until`.  0 when none. */
int64_t lb_next(struct store *s, int64_t project, int overlap, const char *user, int64_t after,
		const char *now, const char *until, struct moat_err *e)
	__attribute__((warn_unused_result));
/* {id, kind, doc_id, seq, text, image, width, height, name, split, meta,
 * n_done, cleaned}; NULL with MOAT_ENOTFOUND when the task is not project's. */
/* A document's MIME type as ingest found it ("" when none). */
int lb_doc_mime(struct store *s, const char *doc, char mime[64], struct moat_err *e)
	__attribute__((warn_unused_result));
/* What a value is checked against (label_value_check): the task's text
 * length in code points and its image size (0 when none).  MOAT_ENOTFOUND
 * when the task is not the project's. */
int lb_task_dims(struct store *s, int64_t project, int64_t task, size_t *cps, int *width,
		 int *height, struct moat_err *e) __attribute__((warn_unused_result));
json_t *lb_task(struct store *s, int64_t project, int64_t task, struct moat_err *e)
	__attribute__((warn_unused_result));
/* A page of tasks (label.h's label_tasks): filter as there; user for "mine". */
json_t *lb_tasks(struct store *s, int64_t project, const char *filter, const char *user,
		 int64_t after, int limit, struct moat_err *e) __attribute__((warn_unused_result));
/* Every task of project, by id, with the text the schema needs: [{id, text,
 * width, height}] is too much for 100,000 tasks; so a walk: */
typedef int (*lb_task_fn)(void *ctx, json_t *task, struct moat_err *e);
/* Tasks of project without a suggestion from model (all when model is NULL),
 * by id, each as lb_task's object (borrowed for the call). */
int lb_each_task(struct store *s, int64_t project, const char *without_model, lb_task_fn fn,
		 void *ctx, struct moat_err *e) __attribute__((warn_unused_result));

/* --- annotations ---------------------------------------------------------- */

/* [{id, task_id, annotator, value (JSON), status, reviewer, reviewed_at,
 * corrects, suggestion_id, created_at, updated_at}] of task; only user's when
 * user is not NULL. */
json_t *lb_annotations(struct store *s, int64_t task, const char *user, struct moat_err *e)
	__attribute__((warn_unused_result));
/* One annotation of project (MOAT_ENOTFOUND). */
json_t *lb_annotation(struct store *s, int64_t project, int64_t id, struct moat_err *e)
	__attribute__((warn_unused_result));
/* Saves user's annotation of task: updates the one user has (MOAT_EEXISTS
 * when a reviewer decided on it) or adds one.  Then recounts the task's
 * submitted annotations against overlap and drops user's lease when
 * submitted.  *id receives the annotation's id. */
int lb_annotation_save(struct store *s, int64_t task, int overlap, const char *user,
		       const char *value, const char *status, int64_t suggestion, int64_t run_id,
		       int64_t *id, struct moat_err *e) __attribute__((warn_unused_result));
/* A review decision: status "accepted" or "rejected", by reviewer. */
int lb_annotation_decide(struct store *s, int64_t id, const char *status, const char *reviewer,
			 struct moat_err *e) __attribute__((warn_unused_result));
/* A reviewer's correction: a new accepted annotation of task by reviewer
 * naming `corrects`; *id its id. */
int lb_annotation_correct(struct store *s, int64_t task, int64_t corrects, const char *reviewer,
			  const char *value, int64_t *id, struct moat_err *e)
	__attribute__((warn_unused_result));
/* The review queue (label.h's label_review_queue): task ids with a submitted
 * annotation, after `after`, at most limit. */
json_t *lb_review_tasks(struct store *s, int64_t project, int64_t after, int limit,
			struct moat_err *e) __attribute__((warn_unused_result));
/* Every annotation of project whose status is not draft, by task then id:
 * [{id, task_id, annotator, value, status, corrects}], for statistics. */
json_t *lb_project_annotations(struct store *s, int64_t project, struct moat_err *e)
	__attribute__((warn_unused_result));
/* {tasks, done, in_progress (leased, not done), draft, submitted, accepted,
 * rejected, suggestions}. */
json_t *lb_counts(struct store *s, int64_t project, int overlap, const char *now,
		  struct moat_err *e) __attribute__((warn_unused_result));

/* --- suggestions ---------------------------------------------------------- */

struct lb_suggestion {
	const char *value;          /* compact JSON */
	const char *model, *model_digest;
	double score;               /* < 0: none */
	const char *prompt_sha256;
	const char *options;        /* compact JSON */
	int64_t seed;
	const char *provenance;     /* compact JSON */
};
int lb_suggestion_add(struct store *s, int64_t task, const struct lb_suggestion *g, int64_t run_id,
		      int64_t *id, struct moat_err *e) __attribute__((warn_unused_result));
/* [{id, value, model, model_digest, score, prompt_sha256, seed, decision,
 * created_at}] of task. */
json_t *lb_suggestions(struct store *s, int64_t task, struct moat_err *e)
	__attribute__((warn_unused_result));
/* The suggestion's task if it is project's, else MOAT_ENOTFOUND; then sets
 * its decision ("accepted", "edited", "rejected"). */
int64_t lb_suggestion_decide(struct store *s, int64_t project, int64_t id, const char *decision,
			     struct moat_err *e) __attribute__((warn_unused_result));
/* For eval: [{task_id, value, provenance}] of model's suggestions in project. */
json_t *lb_model_suggestions(struct store *s, int64_t project, const char *model,
			     struct moat_err *e) __attribute__((warn_unused_result));
/* For eval: [{task_id, value}] of accepted annotations in project. */
json_t *lb_accepted(struct store *s, int64_t project, struct moat_err *e)
	__attribute__((warn_unused_result));

/* --- suggestion runs ------------------------------------------------------ */

int64_t lb_suggest_run_new(struct store *s, int64_t project, const char *model, const char *user,
			   struct moat_err *e) __attribute__((warn_unused_result));
int lb_suggest_run_update(struct store *s, int64_t id, const char *status, int64_t total,
			  int64_t done, int64_t failed, const char *error, struct moat_err *e)
	__attribute__((warn_unused_result));
json_t *lb_suggest_runs(struct store *s, int64_t project, struct moat_err *e)
	__attribute__((warn_unused_result));

#endif
