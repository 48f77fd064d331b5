/*
 * label.h - the label stage: annotation projects made from what earlier
 * stages stored (documents, elements, chunks, images, pages), the next task
 * for an annotator, saving annotations, review, statistics with agreement,
 * AI pre-labels (suggestions) from local models and their evaluation.
 *
 * The CLI (src/cmd/label.c) and the web API (src/web/) are both thin clients
 * of these functions: they parse, call, and print or serialise the JSON
 * returned.  Every change a person makes (an annotation saved, a review
 * decision, a suggestion accepted or rejected) is one audit record naming
 * that person (audit_entry.actor); the functions here append it inside the
 * change's own transaction, so a change and its record commit together.
 *
 * Not for: SQL (src/store/label.h), the agreement formulas (agree.h), who
 * may call what (the web layer checks roles before calling; the library
 * trusts its caller's `user`), models (llm.h).
 *
 * Concurrency: every function that writes runs in its own transaction
 * (store_begin/commit) unless noted, so several `moat serve` processes and a
 * CLI stage may share a workspace: SQLite serialises the writers, PostgreSQL
 * row locks keep two annotators from taking the same lease.
 *
 * Ownership: json_t results are new references (json_decref).  Functions
 * return 0 (or a count) on success, -1 (or NULL) with e set; codes callers
 * map to HTTP: MOAT_ENOTFOUND (404), MOAT_EUSAGE / MOAT_EPARSE (400, a value
 * that does not fit the schema), MOAT_EEXISTS (409), MOAT_EBUSY (503).
 */
#ifndef MOAT_LABEL_H
#define MOAT_LABEL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../core/buf.h"
#include "../core/err.h"

struct store;
struct llm_config;
struct shard;

/* --- schemas ------------------------------------------------------------- */

enum label_kind { LABEL_CLASSIFICATION = 1, LABEL_SPANS, LABEL_QA, LABEL_BOXES, LABEL_PREFERENCE };

struct label_def {
	char *name;        /* unique in the schema, no control characters */
	char *key;         /* a shortcut key ("1"), unique, or NULL */
	char *color;       /* "#rrggbb", or NULL (a palette colour is assigned) */
	char *description; /* or NULL */
};

struct label_schema {
	enum label_kind kind;
	int multi;              /* classification: several labels per task */
	struct label_def *labels;
	size_t n_labels;
	char *guidelines;       /* Markdown, or NULL */
	char *prompt;           /* the suggestion prompt template ({{text}}, {{labels}},
				 * {{question}}, {{response_a}}, {{response_b}}), or NULL */
};

/* Parses and checks a schema file's text (JSON; docs/label.md).  what names
 * it in messages ("schema.json: field 'labels[2].key': duplicate key '1'").
 * Returns a new schema (label_schema_free) or NULL with e set (MOAT_EPARSE). */
struct label_schema *label_schema_parse(const char *text, size_t len, const char *what,
					struct moat_err *e) __attribute__((warn_unused_result));
void label_schema_free(struct label_schema *s);  /* NULL-safe */
/* The schema as stored and served (colours filled in). */
json_t *label_schema_json(const struct label_schema *s) __attribute__((warn_unused_result));
const char *label_kind_name(enum label_kind k);
/* The index of the label named name, or -1. */
int label_schema_find(const struct label_schema *s, const char *name);

/* Checks an annotation or suggestion value against the schema and the task
 * it is for (annot_value.h's JSON: {"labels"}, {"spans": [[s, e, label]]},
 * {"text"}, {"boxes": [[x, y, w, h, label]]}, {"preference": 1|2}): labels
 * from the set (one unless multi), spans inside text_cp code points and not
 * empty, boxes inside width x height (when known, > 0), an answer a string,
 * a preference 1 or 2.  Returns 0 or -1 with e set (MOAT_EPARSE) naming the
 * field. */
int label_value_check(const struct label_schema *s, const json_t *value, size_t text_cp,
		      int width, int height, struct moat_err *e) __attribute__((warn_unused_result));

/* --- projects ------------------------------------------------------------ */

struct label_create_opts {
	const char *name;
	const char *schema_text;   /* the schema file's bytes */
	size_t schema_len;
	const char *schema_what;   /* its name for messages */
	const char *from;          /* documents | elements | chunks[:SET] | images | pages */
	const char *where;         /* a filter expression (docs/label.md), or NULL */
	int overlap;               /* annotators per task, >= 1 */
	int raw;                   /* the ingested text, not clean's */
	int64_t run_id;
};

/* Makes project o->name with its tasks, in one transaction.  A project of
 * that name is MOAT_EEXISTS.  Returns the number of tasks, or -1. */
int64_t label_create(struct store *s, const struct label_create_opts *o, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Every project: [{name, kind, from, where, overlap, tasks, done, annotations,
 * suggestions, created_at}]. */
json_t *label_projects(struct store *s, struct moat_err *e) __attribute__((warn_unused_result));
/* One project: {name, kind, schema, from, where, overlap, tasks, done, ...}. */
json_t *label_project(struct store *s, const char *name, struct moat_err *e)
	__attribute__((warn_unused_result));
/* The project's schema (label_schema_free), MOAT_ENOTFOUND. */
struct label_schema *label_project_schema(struct store *s, const char *name, int64_t *id,
					  struct moat_err *e) __attribute__((warn_unused_result));
/* Removes the project, its tasks, annotations and suggestions; counts
 * (may be NULL) receives {tasks, annotations, suggestions}. */
int label_rm(struct store *s, const char *name, json_t **counts, struct moat_err *e)
	__attribute__((warn_unused_result));

/* --- annotating ---------------------------------------------------------- */

#define LABEL_LEASE_S 1800   /* a task handed out is held for its annotator this long */

/* The next task for user: the first task (by id, after `after` when > 0)
 * that has fewer than overlap submitted annotations, that user has not
 * submitted, and that is not leased to overlap other annotators; it is
 * leased to user (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, under
 * SQLite's writer lock there).  Returns the task as label_task() does, or
 * a JSON null when none is left. */
json_t *label_next(struct store *s, const char *project, const char *user, int64_t after,
		   struct moat_err *e) __attribute__((warn_unused_result));

/* One task: {id, project, kind, doc_id, seq, text, image, width, height,
 * name, meta, annotations: [...], suggestions: [...]}.  all: every
 * annotator's annotations (reviewers); else only user's. */
json_t *label_task(struct store *s, const char *project, int64_t task, const char *user, int all,
		   struct moat_err *e) __attribute__((warn_unused_result));

/* A page of tasks for lists: filter "all", "todo" (fewer than overlap
 * submitted), "done", "review" (submitted, not yet reviewed), "mine";
 * tasks after id `after`, at most limit (<= 500): {tasks: [{id, name,
 * n_done, status, snippet}], next: id or null, total}. */
json_t *label_tasks(struct store *s, const char *project, const char *filter, const char *user,
		    int64_t after, int limit, struct moat_err *e) __attribute__((warn_unused_result));

/* Saves user's annotation of task (one per task and annotator: a second
 * save replaces the first, until it is reviewed): value checked with
 * label_value_check, status "draft" or "submitted"; suggestion > 0 names the
 * suggestion it accepts or edits (recorded).  The task's lease is released
 * when submitted.  *id (may be NULL) receives the annotation's id.
 * MOAT_EEXISTS when it was already reviewed. */
int label_save(struct store *s, const char *project, int64_t task, const char *user,
	       const json_t *value, const char *status, int64_t suggestion, int64_t *id,
	       struct moat_err *e) __attribute__((warn_unused_result));

/* A suggestion rejected by user (recorded on the suggestion and audited). */
int label_suggestion_reject(struct store *s, const char *project, int64_t suggestion,
			    const char *user, struct moat_err *e) __attribute__((warn_unused_result));

/* --- review -------------------------------------------------------------- */

enum label_decision { LABEL_ACCEPT = 1, LABEL_REJECT, LABEL_CORRECT };

/* The reviewer's queue: tasks whose submitted annotations are not all
 * reviewed, oldest first, after task id `after`, at most limit:
 * {tasks: [{id, text snippet, annotations: [{id, annotator, value, status}]}],
 * next}. */
json_t *label_review_queue(struct store *s, const char *project, int64_t after, int limit,
			   struct moat_err *e) __attribute__((warn_unused_result));

/* A decision on annotation `annotation` by reviewer: accept or reject it,
 * or correct it with value (a new accepted annotation by the reviewer that
 * names the one it corrects, which becomes rejected). */
int label_review(struct store *s, const char *project, int64_t annotation, const char *reviewer,
		 enum label_decision d, const json_t *value, struct moat_err *e)
	__attribute__((warn_unused_result));

/* --- statistics ---------------------------------------------------------- */

/* {project, tasks, done, in_progress, annotations: {draft, submitted,
 * accepted, rejected}, suggestions, annotators: [{name, submitted,
 * accepted, rejected}], labels: [{name, count, agreement: {...}}],
 * agreement: {annotators: [...], items, cohen_kappa (two annotators),
 * fleiss_kappa, krippendorff_alpha, span_f1, box_f1, per_pair: [...]}};
 * figures the data does not define are null. */
json_t *label_stats(struct store *s, const char *project, struct moat_err *e)
	__attribute__((warn_unused_result));

/* --- suggestions --------------------------------------------------------- */

struct label_suggest_opts {
	const char *model;                  /* a model URI (llm.h) */
	const struct llm_config *llm;       /* NULL: llm_config_default() */
	int jobs;                           /* requests in flight; 0: 1 */
	int64_t limit;                      /* at most this many tasks; 0: all */
	int dry_run;                        /* count and render, call no model */
	int64_t seed;                       /* -1: moat picks (recorded) */
	int64_t run_id;
	const struct shard *shard;          /* NULL: every task; else tasks by their id */
	/* progress: called after each task (done, failed, total), may be NULL */
	void (*progress)(void *ud, int64_t done, int64_t failed, int64_t total);
	void *ud;
	volatile sig_atomic_t *cancel;      /* set: stop after the requests in flight */
	int64_t suggest_run;                /* > 0: the suggest_runs row to update */
	const char *template_text;          /* the prompt template; NULL: the schema's */
};

struct label_suggest_result {
	int64_t total;      /* tasks without a suggestion from this model */
	int64_t done, failed, skipped;
	double tokens_per_s;
	char first_error[512];
};

/* Suggests a value for every task of project that has none from this model
 * (so a killed run resumes): renders the schema's prompt, asks for output
 * constrained to the schema (labels from the set, spans as the exact
 * substrings the model names, their offsets computed here), checks it with
 * label_value_check, and stores it with model URI and digest, prompt hash,
 * options, seed and a score when the backend gives one.  Each task's
 * suggestion commits on its own. */
int label_suggest(struct store *s, const char *project, const struct label_suggest_opts *o,
		  struct label_suggest_result *out, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Suggestion runs started from the web page: a row per run that
 * label_suggest updates (o->suggest_run) as it goes.  _new makes one
 * ("running", total 0) and returns its id; _list: the project's runs, newest
 * first: [{id, model, status, total, done, failed, error, started_by,
 * started_at, updated_at}]; _end marks it "done", "failed" (error) or
 * "cancelled". */
int64_t label_suggest_run_new(struct store *s, const char *project, const char *model,
			      const char *user, struct moat_err *e) __attribute__((warn_unused_result));
json_t *label_suggest_runs(struct store *s, const char *project, struct moat_err *e)
	__attribute__((warn_unused_result));
int label_suggest_run_end(struct store *s, int64_t id, const char *status, const char *error,
			  struct moat_err *e) __attribute__((warn_unused_result));

/* The picture of an image or page task, as a browser shows it and a vision
 * model sees it (image.c): a PNG or JPEG image file's own bytes; other
 * images (TIFF, BMP, GIF ...) and PDF pages drawn as PNG in the sandbox
 * (pages at LABEL_PAGE_DPI).  Boxes are in this picture's pixels.  0 with
 * the bytes appended to out, their type in mime and the size in *w, *h;
 * MOAT_EUSAGE for a task that is not an image or a page. */
#define LABEL_PAGE_DPI 100
int label_task_image(struct store *s, const char *project, int64_t task, struct buf *out,
		     char mime[32], int *w, int *h, struct moat_err *e)
	__attribute__((warn_unused_result));

/* The prompt for one task as the model would get it (the preview). */
char *label_render_prompt(const struct label_schema *sc, const char *template_text,
			  const json_t *task, struct moat_err *e) __attribute__((warn_unused_result));

/* 0 when template names only fields a prompt knows; else MOAT_EUSAGE saying
 * which (label_render_prompt's check, without a task). */
int label_template_check(const struct label_schema *sc, const char *template_text,
			 struct moat_err *e) __attribute__((warn_unused_result));

/* Scores each model's stored suggestions against the accepted annotations:
 * [{model, tasks, accuracy, macro_f1 | span: {exact: {p, r, f1}, overlap: {...}}
 * | box_map50, tokens_per_s}], one object per model in the order given. */
json_t *label_eval(struct store *s, const char *project, const char *const *models, size_t n,
		   struct moat_err *e) __attribute__((warn_unused_result));

#endif
