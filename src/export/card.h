/*
 * card.h - an export's README.md, its dataset card: what is in it (records
 * per split, label distribution per split), where it came from (sources with
 * their digests, the clean policy and its digest, PII findings by type and
 * operator, models with their digests), how it was made (moat version,
 * command line, date, split settings), and the facts a data-governance
 * reviewer asks for (origin, preparation steps, known gaps).  An export made
 * with --raw says near the top, in plain words, that its text is NOT
 * de-identified.  For `hf` the card starts with the YAML header that
 * datasets.load_dataset() reads (records.h: rec_writer_hf_yaml()).
 *
 * The caller (`moat export`) fills struct card_facts from the workspace;
 * this module only renders it, as Markdown (GitHub's, with tables), and the
 * same facts always give the same bytes (no clock, no locale: the date is a
 * fact like the others).
 *
 * Not for: reading the workspace, or the MANIFEST (which lists this file).
 * Uses core/ (buf, fs, err).  All strings are borrowed; any may be NULL
 * where not said otherwise.
 */
#ifndef MOAT_CARD_H
#define MOAT_CARD_H

#include <stddef.h>

#include "../core/buf.h"
#include "../core/err.h"

struct card_source {
	const char *path;        /* as ingested */
	const char *sha256;      /* the document's id: SHA-256 of its bytes, hex */
};

struct card_finding {
	const char *type;        /* "EMAIL", "PERSON", ... */
	const char *op;          /* the policy's operator: "replace", "mask", "hash", "redact", ... */
	size_t count;
};

struct card_model {
	const char *role;        /* what it did: "tokenizer", "labelling suggestions", ... */
	const char *name;        /* its URI or name */
	const char *digest;      /* SHA-256 of its weights, hex */
};

struct card_facts {
	const char *title;                /* NULL: "Dataset exported by moat" */
	const char *format;               /* "jsonl", "coco", ... */
	const char *what;                 /* "documents", "elements", "chunks", "annotations" */

	/* splits: n_splits names and record counts */
	size_t n_splits;
	const char *const *split_names;
	const size_t *split_counts;
	const char *split_ratios;         /* "80/10/10", or NULL when not split */
	const char *seed;                 /* the split's seed */

	/* labels: label_counts[l * n_splits + s] records of label l in split s */
	size_t n_labels;
	const char *const *labels;
	const size_t *label_counts;

	/* sources: listed in the given order, at most sources_max (0: all) */
	size_t n_sources;
	const struct card_source *sources;
	size_t sources_max;

	/* the clean stage */
	const char *clean_policy;         /* its name or path; NULL: no policy was applied */
	const char *clean_policy_sha256;
	size_t n_findings;
	const struct card_finding *findings;

	size_t n_models;
	const struct card_model *models;

	/* provenance */
	const char *moat_version;
	const char *command_line;
	const char *date;                 /* UTC, ISO 8601 */
	const char *status;               /* annotations exported: "accepted", ... */
	int raw;                          /* --raw: the text is NOT de-identified */
	size_t n_synthetic;               /* records made by moat augment (of all the records) */
	int has_audit;                    /* the export holds audit/ */

	/* data governance */
	const char *origin;               /* where the source files came from, who holds them */
	size_t n_steps;
	const char *const *steps;         /* preparation steps, in order */
	size_t n_gaps;
	const char *const *gaps;          /* known gaps and limits */
};

/* Appends the card to out: yaml (may be NULL) first, as it is, then the
 * Markdown.  Returns 0, or -1 when out failed (out of memory). */
int card_render(const struct card_facts *f, const char *yaml, struct buf *out)
	__attribute__((warn_unused_result));

/* Renders the card and writes it atomically to dir/README.md. */
int card_write(const char *dir, const struct card_facts *f, const char *yaml, struct moat_err *e)
	__attribute__((warn_unused_result));

#endif
