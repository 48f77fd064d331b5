/*
 * export.h - `moat export` and `moat exports verify` as library calls: a
 * dataset written out of the workspace as a directory that proves itself.
 *
 * export_run() reads what to export (documents, elements, chunks of a chunk
 * set, or a project's annotations) from the workspace (store/dataset.h),
 * splits it (split.h: grouped by document and near-duplicate cluster,
 * stratified by label, the same for the same seed), and writes, under a
 * temporary name beside the destination:
 *   - the data files (records.h or annot.h, by format);
 *   - README.md, the dataset card (card.h);
 *   - audit/trail.jsonl: the audit records from the first that produced this
 *     data (the ingest of its earliest document) to the one before this
 *     export, one body per line exactly as hashed (audit_verify_slice);
 *   - MANIFEST (manifest.h): SHA-256 of every file but itself and
 *     audit/export.json;
 *   - audit/export.json: this export's own audit record, whose outputs hold
 *     MANIFEST's digest and whose prev is the last hash of trail.jsonl.
 * The record is appended to the workspace's trail and the export listed in
 * one transaction; once it is committed the directory is renamed to its
 * name.  A failure before removes the temporary directory; a kill leaves at
 * most the temporary one (".NAME.moat-tmp-*"), never a part under NAME.
 *
 * Text is the cleaned text (`moat clean`).  Without raw, an export refuses a
 * workspace holding documents clean has not processed, a chunk set cut from
 * raw text, and tasks whose text was imported as it was; raw is written into
 * the audit record and, in plain words, the card.
 *
 * Not for: parsing options or printing (cmd/export.c), the formats
 * (records.h, annot.h), or SQL (store/).  Uses store/ (dataset.h, audit.h,
 * store.h), export/ (records, annot, annot_value, split, card, manifest),
 * core/ and jansson.
 */
#ifndef MOAT_EXPORT_H
#define MOAT_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../core/err.h"
#include "split.h"

struct store;

#define EXPORT_TRAIL "audit/trail.jsonl"
#define EXPORT_RECORD "audit/export.json"

struct export_opts {
	const char *format;         /* a records.h or annot.h format */
	const char *out;            /* the directory to make; must not exist */
	const char *what;           /* "documents", "elements", "chunks", "annotations";
				     * NULL: annotations for an annotation format or with
				     * project, statuses or labels; chunks for rag or with
				     * chunks; else documents */
	const char *chunks;         /* chunks: the set (NULL: the one made or updated last) */
	const char *project;        /* annotations: the project (NULL: "default") */
	unsigned statuses;          /* annotations: DS_ bits (0: accepted) */
	const char *const *labels;  /* keep only these labels (NULL or n_labels 0: all) */
	size_t n_labels;
	const char *split;          /* "80/10/10"; NULL: one split, train */
	const char *seed;           /* NULL: "moat" */
	int raw;
	const char *title;          /* card */
	const char *origin;         /* card: where the sources came from, who holds them */
	const char *system_prompt;  /* chat */
	const char *instruction;    /* alpaca */
	const json_t *cmdline;      /* the command line, for the audit record (borrowed) */
};
struct export_opts export_default_opts(void);

struct export_result {
	char *path;                 /* absolute path of the export (malloc'd) */
	char what[16];
	size_t records;             /* records or annotated items written */
	size_t n_splits;
	char split_names[SPLIT_MAX][64];
	size_t split_counts[SPLIT_MAX];
	long files;                 /* files MANIFEST lists */
	char manifest_sha256[65];
	int64_t audit_seq;          /* this export's audit record */
	char audit_hash[65];
	int64_t trail_first;        /* the first record of audit/trail.jsonl */
	int64_t left_out;           /* chunks of documents whose text changed since they were
				     * cut, or items a format cannot hold */
};
void export_result_release(struct export_result *r);

/* Writes the export (see above).  Returns 0, or -1 with e set and nothing
 * under o->out (MOAT_EUSAGE for options that do not go together,
 * MOAT_EREFUSED... for what raw would allow). */
int export_run(struct store *s, const struct export_opts *o, struct export_result *r,
	       struct moat_err *e) __attribute__((warn_unused_result));

/* What `moat exports verify DIR` found. */
struct export_check {
	int ok;
	size_t files;               /* MANIFEST's lines */
	size_t problems;
	char first_problem[512];    /* "'data/train.jsonl': differs from MANIFEST", ... */
	int64_t trail_first, trail_last;
	char manifest_sha256[65];
	char record_hash[65];
};
typedef void (*export_problem_fn)(void *ctx, const char *problem);

/* Checks dir on its own, without a workspace: every file against MANIFEST,
 * audit/trail.jsonl as a chain, audit/export.json following it and holding
 * MANIFEST's digest, README.md listed.  Every problem goes to fn (may be
 * NULL), the first into c.  Returns 0 when the check ran (c->ok tells),
 * -1 with e set when it could not (out of memory, no directory). */
int export_verify(const char *dir, export_problem_fn fn, void *ctx, struct export_check *c,
		  struct moat_err *e) __attribute__((warn_unused_result));

#endif
