/*
 * dataset.h - what the dataset stages keep in the workspace, and the SQL for
 * it (the store module owns all SQL): the text a dataset is made from (each
 * document's cleaned text, or with raw its ingested text), chunk sets and
 * their chunks (`moat chunk`), the label stage's projects, tasks,
 * annotations and suggestions (`moat import` fills them now, the label stage
 * later), and the exports made (`moat export`, `moat exports`).
 *
 *   chunk_sets   a name, the settings that made it (chunk.h: chunk_settings)
 *                and their digest, the tokenizer's identity, raw or cleaned
 *   chunks       per set and document: element range, pages, code-point
 *                offsets into the document's (cleaned) text, token count,
 *                the text, and the digest of the text it was cut from
 *   projects     a name, a task kind, the label set (JSON array), a schema
 *   tasks        what one annotates: a document, element, chunk, page, image
 *                or a text of its own (imported), with the text it shows and
 *                whether that text is cleaned
 *   annotations  per task: annotator, value (JSON: labels, spans, boxes,
 *                text, preference; see docs/export.md), status
 *                draft|submitted|accepted|rejected, times
 *   suggestions  the same values from a model: its name, digest and score
 *   exports      path, format, what, counts, MANIFEST's digest, the audit
 *                record that covers it
 *
 * Not for: deciding any of it (chunk.h cuts, annot.h reads and writes files,
 * the commands choose), nor documents and the clean stage's own tables
 * (store.h, cleaned.h).  Part of the store module: uses SQLite through
 * store_int.h, jansson and core/.
 *
 * Ownership: rows handed to a callback are borrowed for the call.  Every
 * function that can fail returns -1 (or NULL) with e set, writes inside the
 * caller's transaction (which the caller rolls back), and a callback that
 * returns non-zero stops the walk and its value is returned.
 */
#ifndef MOAT_STORE_DATASET_H
#define MOAT_STORE_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../core/err.h"

struct store;

/* --- the documents a dataset is made from --------------------------------- */

struct ds_el {
	int seq;
	char type[24];          /* element type name ("title", "paragraph", ...) */
	int level;
	int page;               /* 1-based, 0 when none */
	size_t start, end;      /* code points into the document's text */
};

struct ds_doc {
	const char *id;
	const char *path;       /* latest path it was ingested from ("" for attachments) */
	const char *type;       /* document type ("pdf", "docx", ...) */
	const char *text;       /* cleaned text (raw: the ingested text) */
	size_t len;
	const struct ds_el *el; /* elements with text, in order */
	size_t n_el;
	const char *group;      /* its near-duplicate cluster ("cluster:N"), else its id */
	const char *lang;       /* cleaned: its language, or NULL */
	int64_t run_id;         /* the run that first stored it */
};

typedef int (*ds_doc_fn)(void *ctx, const struct ds_doc *d, struct moat_err *e);

/* Calls fn for every document a dataset takes, in ingest order: without raw,
 * each document clean kept (status "kept"), with its cleaned text and
 * elements; with raw, every document with its ingested text.  Attachments
 * are documents too. */
int ds_each_doc(struct store *s, int raw, ds_doc_fn fn, void *ctx, struct moat_err *e)
	__attribute__((warn_unused_result));

/* How many documents clean has not processed (no clean row), and the path
 * (or id) of the first of them in first (cap bytes, cut), "" when none. */
int64_t ds_count_uncleaned(struct store *s, char *first, size_t cap, struct moat_err *e)
	__attribute__((warn_unused_result));

/* The current PII findings in the documents a dataset takes (clean kept),
 * counted by type and operator: [{type, operator, count}], by type. */
json_t *ds_findings(struct store *s, struct moat_err *e) __attribute__((warn_unused_result));

/* --- chunk sets ------------------------------------------------------------- */

struct ds_chunk_set {
	int64_t id;
	char name[128];
	char settings_sha256[65];
	int raw;
	int created;            /* ds_chunk_set_open: 1 when it made the set */
};

/* Finds the set `name` or makes it.  settings is compact JSON, its digest
 * names it.  A set of that name with other settings, or another set with
 * these settings, is MOAT_EEXISTS naming it (the old set is kept: give
 * another name).  name NULL: the set with these settings, or a new one named
 * "chunks-<first 8 hex digits of the digest>". */
int ds_chunk_set_open(struct store *s, const char *name, const char *settings,
		      const char *tokenizer, int raw, int64_t run_id, struct ds_chunk_set *out,
		      struct moat_err *e) __attribute__((warn_unused_result));
/* The set named name (NULL: the one made or updated last); MOAT_ENOTFOUND. */
int ds_chunk_set_find(struct store *s, const char *name, struct ds_chunk_set *out,
		      struct moat_err *e) __attribute__((warn_unused_result));
/* Every set: [{name, settings, tokenizer, raw, documents, chunks, tokens,
 * created_at, updated_at}]. */
json_t *ds_chunk_sets(struct store *s, struct moat_err *e) __attribute__((warn_unused_result));

struct ds_chunk {
	const char *doc_id;
	int seq;
	size_t el_first, el_last;   /* element seqs */
	int page_first, page_last;
	size_t start, end;          /* code points */
	int tokens;
	const char *text;
	size_t len;
};

/* The digest of the text the document's chunks in set were cut from, in
 * sha (65 bytes): 1 when it has chunks, 0 when not. */
int ds_chunks_source(struct store *s, int64_t set, const char *doc_id, char sha[65],
		     struct moat_err *e) __attribute__((warn_unused_result));
/* Replaces the document's chunks in set (doc_id of each chunk is ignored). */
int ds_chunks_put(struct store *s, int64_t set, const char *doc_id, const char *source_sha,
		  const struct ds_chunk *c, size_t n, struct moat_err *e)
	__attribute__((warn_unused_result));
/* Marks the set updated by run_id now. */
int ds_chunk_set_touch(struct store *s, int64_t set, int64_t run_id, struct moat_err *e)
	__attribute__((warn_unused_result));

typedef int (*ds_chunk_fn)(void *ctx, const struct ds_chunk *c, const struct ds_doc *d,
			   struct moat_err *e);
/* Calls fn for every chunk of set whose document a dataset still takes (see
 * ds_each_doc, with the set's raw) and whose text is still the one it was
 * cut from, in ingest order of documents and chunk order; d has no text or
 * elements, only id, path, type, group, lang and run_id.  stale (may be
 * NULL) counts the documents left out because their text changed since. */
int ds_each_chunk(struct store *s, int64_t set, ds_chunk_fn fn, void *ctx, int64_t *stale,
		  struct moat_err *e) __attribute__((warn_unused_result));

/* --- projects, tasks, annotations, suggestions ------------------------------ */

/* Finds project name or makes it with kind ("text", "image"); labels (a JSON
 * array of strings, may be NULL) are added to its label set, new ones at
 * the end.  A project of another kind is MOAT_EEXISTS. */
int ds_project_open(struct store *s, const char *name, const char *kind, const json_t *labels,
		    int64_t *id, struct moat_err *e) __attribute__((warn_unused_result));
/* MOAT_ENOTFOUND when there is none; labels (may be NULL) receives its label
 * set (new reference). */
int ds_project_find(struct store *s, const char *name, int64_t *id, char kind[16],
		    json_t **labels, struct moat_err *e) __attribute__((warn_unused_result));

struct ds_task {
	int64_t id;             /* set by ds_task_add */
	const char *kind;       /* "document", "element", "chunk", "page", "image", "text" */
	const char *doc_id;     /* the document shown (image tasks: the image ingested), or
				 * NULL (an image the source named but that was not there) */
	int seq;                /* element, chunk or page number; -1 none */
	const char *text;       /* the text shown, or NULL */
	int cleaned;            /* 1: text is a cleaned text of the workspace */
	const char *image;      /* images: the path the source named it by, or NULL */
	int width, height;      /* images: pixels, 0 unknown */
	const char *name;       /* the item's name in its source (file name, id), or NULL */
	const char *split;      /* the split its source put it in, or NULL */
	const char *source;     /* where it came from ("import:data.json#3"), or NULL */
	const char *meta;       /* compact JSON object, or NULL */
	int64_t run_id;
};

int ds_task_add(struct store *s, int64_t project, struct ds_task *t, struct moat_err *e)
	__attribute__((warn_unused_result));

enum ds_status { DS_DRAFT = 1, DS_SUBMITTED = 2, DS_ACCEPTED = 4, DS_REJECTED = 8 };
/* "draft" ... "rejected" to its bit, 0 when unknown; and back. */
unsigned ds_status_parse(const char *s);
const char *ds_status_name(unsigned bit);

struct ds_annotation {
	int64_t id;
	const char *annotator;
	const char *value;      /* compact JSON */
	unsigned status;        /* one DS_ bit */
	const char *updated_at;
};

struct ds_suggestion {
	int64_t id;
	const char *value;
	const char *model, *model_digest;   /* may be NULL */
	double score;                       /* -1 none */
};

int ds_annotation_add(struct store *s, int64_t task, const char *annotator, const char *value,
		      unsigned status, int64_t run_id, struct moat_err *e)
	__attribute__((warn_unused_result));
int ds_suggestion_add(struct store *s, int64_t task, const struct ds_suggestion *g,
		      int64_t run_id, struct moat_err *e) __attribute__((warn_unused_result));

typedef int (*ds_task_fn)(void *ctx, const struct ds_task *t, const struct ds_annotation *a,
			  size_t n_a, struct moat_err *e);
/* Calls fn for every task of project, in the order added, with its
 * annotations whose status is in statuses (a mask of DS_ bits), oldest
 * first; tasks with none of them are passed with n_a = 0. */
int ds_each_task(struct store *s, int64_t project, unsigned statuses, ds_task_fn fn, void *ctx,
		 struct moat_err *e) __attribute__((warn_unused_result));

/* --- exports ------------------------------------------------------------------- */

struct ds_export {
	const char *path;       /* absolute */
	const char *format, *what;
	int raw;
	const char *counts;     /* compact JSON */
	const char *manifest_sha256;
	int64_t audit_seq;
	const char *audit_hash;
	int64_t run_id;
};

int ds_export_add(struct store *s, const struct ds_export *x, struct moat_err *e)
	__attribute__((warn_unused_result));
/* Every export, oldest first: [{id, path, format, what, raw, counts,
 * manifest_sha256, audit_seq, audit_hash, user, created_at}]; user is the
 * audit record's. */
json_t *ds_exports(struct store *s, struct moat_err *e) __attribute__((warn_unused_result));

/* The first audit record a dataset made from the given runs' work needs:
 * the first record appended once the earliest of them had started (the
 * record of that run, or of the run that found it interrupted).  0 when
 * there is none. */
int64_t ds_audit_first_seq(struct store *s, int64_t earliest_run, struct moat_err *e)
	__attribute__((warn_unused_result));

#endif
