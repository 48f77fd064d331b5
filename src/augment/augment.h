/*
 * augment.h - the augment stage: synthetic training records from local
 * models (llm.h), each one traced to its model, prompt, seed and sources and
 * screened before it can join a dataset.
 *
 * A recipe is data (struct aug_recipe): a prompt template, the JSON schema
 * the model's answer is constrained to (llm.h's subset, so every answer
 * parses), which answer fields make the record, length limits and the
 * recipe's own check.  Five are built in (paraphrase, qa, balance,
 * instruct, preference); a user's own comes from a JSON file
 * (aug_recipe_parse; docs/augment.md shows one).
 *
 * A run (aug_run) walks the sources (chunks, documents, or the annotated
 * tasks of the project), renders one prompt per record to make (--n per
 * source; for balance, per label until it reaches its target), sends up to
 * jobs requests at once, and screens every answer:
 *   - PII with the workspace's clean policy (the policy file the last
 *     `moat clean --pii FILE` used, or opts.pii): a finding rejects the
 *     record (no policy, or pii_action "reject") or is replaced by the
 *     policy's operator (pii_action "deidentify", the default with a policy);
 *   - exact and MinHash near-duplicates (clean's minhash.h) of its sources,
 *     of its siblings (records of the same sources) and of the whole
 *     workspace (every record augment accepted before, every cleaned
 *     document's signature);
 *   - the recipe's length limits and its own check (qa: the key phrase
 *     occurs in the chunk and in the answer; paraphrase: every span of the
 *     source is found again in the variant by its surface string, with new
 *     offsets).
 * Every answer is stored as an aug record, accepted or rejected with its
 * reason, with the model URI and digest, template and prompt hashes,
 * options, seed and source ids.  An accepted record becomes a task of the
 * project (source "synthetic", its annotation "submitted" by
 * "augment:RECIPE"), which review and export take like any other.
 *
 * Resuming: a record is keyed by the project, recipe, model, its sources and
 * its number; keys already stored (accepted or rejected) are not asked
 * again, so a killed run, run again, makes only what is missing and never a
 * record twice.  Each answer commits on its own.
 *
 * Determinism: request i's seed is derived from opts.seed, the sources and
 * i, so the same seed and model give the same records on the embedded
 * backend (a server may not promise it).
 *
 * Not for: SQL (src/store/augment.h), printing (src/cmd/augment.c), the
 * model layer's work (llm.h).  Uses llm/, store/, core/, clean/'s scanner,
 * operators, policy reader and MinHash, and label.h's schema reader for the
 * project a recipe writes into.
 *
 * Ownership: aug_recipe_* results are freed with aug_recipe_free; json_t
 * results are new references.  Functions return 0 (or a count) or -1 (or
 * NULL) with e set.
 */
#ifndef MOAT_AUGMENT_H
#define MOAT_AUGMENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../core/err.h"
#include "../core/shard.h"

struct store;
struct llm_config;

/* What a record is, once accepted: which kind of project holds it. */
enum aug_kind {
	AUG_QA = 1,       /* a passage (or instruction) and its answer: a qa project */
	AUG_LABELED,      /* a text with the labels or spans of its source (classification,
			   * spans) */
	AUG_PREFERENCE,   /* a prompt and two responses: a preference project */
};

/* The recipe's own check of an answer. */
enum aug_check {
	AUG_CHECK_NONE = 0,
	AUG_CHECK_KEY_PHRASE,  /* check_field occurs in the source text and in the answer */
	AUG_CHECK_SPANS,       /* the source's spans are found again in the new text */
};

struct aug_recipe {
	char *name;            /* [a-z0-9_-]+ */
	char *description;     /* may be NULL */
	enum aug_kind kind;
	char *from;            /* the default source: "chunks", "documents", "annotations" */
	char *system;          /* system message, or NULL */
	char *template_text;   /* the prompt; fields: {{text}} (the source's text),
				* {{labels}} (the project's labels), {{label}} (balance:
				* the label wanted), {{examples}} (balance: examples of it),
				* {{keep}} (paraphrase: the source's span strings) */
	json_t *schema;        /* the answer's JSON schema: an object with string properties */
	char *text_field;      /* the answer field that is the record's text (qa: "question") */
	char *answer_field;    /* qa: the answer; else NULL */
	int passage;           /* qa: the task shows the source's text, text_field is its
				* question; else the task's text is text_field's */
	enum aug_check check;
	char *check_field;     /* key_phrase: the field holding the phrase */
	size_t min_chars, max_chars;  /* of every string field of the answer, in code points */
	double temperature;
	double temperature2;   /* preference: the second response's temperature */
	int max_tokens;
	char sha256[65];       /* of the recipe's canonical JSON: what a record's key holds */
};

/* The built-in recipe called name, or NULL (MOAT_ENOTFOUND listing them). */
struct aug_recipe *aug_recipe_builtin(const char *name, struct moat_err *e)
	__attribute__((warn_unused_result));
/* Names of the built-in recipes, NULL-terminated. */
const char *const *aug_recipe_names(void);

/* Parses a recipe file's text (JSON; docs/augment.md): name, kind ("qa",
 * "labeled", "preference"), from, system, template, schema (an object whose
 * properties are strings, inside llm.h's subset), text_field, answer_field,
 * passage, check ("none", "key_phrase", "spans"), check_field, min_chars,
 * max_chars, temperature, temperature2, max_tokens.  The built-in recipes
 * are such texts too.  Unknown keys, template fields and
 * answer fields the schema lacks are refused.  what names the file in
 * messages ("faq.json: field 'schema': ...").  MOAT_EPARSE. */
struct aug_recipe *aug_recipe_parse(const char *text, size_t len, const char *what,
				    struct moat_err *e) __attribute__((warn_unused_result));
void aug_recipe_free(struct aug_recipe *r);  /* NULL-safe */
/* The recipe as JSON (what aug_recipe_parse reads back). */
json_t *aug_recipe_json(const struct aug_recipe *r) __attribute__((warn_unused_result));

/* Fills the template's {{fields}} from vars (an object of strings); a field
 * vars lacks is MOAT_EUSAGE naming it.  malloc'd. */
char *aug_render(const char *template_text, const json_t *vars, struct moat_err *e)
	__attribute__((warn_unused_result));

struct aug_opts {
	const char *model;               /* a model URI (llm.h) */
	const char *model2;              /* preference: a second model, or NULL (two temperatures) */
	const struct llm_config *llm;    /* NULL: llm_config_default() */
	const char *project;             /* the project records join (made for qa, instruct,
					  * preference when missing) */
	const char *from;                /* NULL: the recipe's; "chunks[:SET]", "documents",
					  * "annotations" */
	int n;                           /* records per source (balance: the target count per
					  * label; 0: the most frequent label's count) */
	int64_t limit;                   /* at most this many requests; 0: all */
	int64_t seed;                    /* -1: moat picks one (recorded) */
	int jobs;                        /* requests in flight; 0: 1 */
	int dry_run;                     /* render and hand prompts to on_prompt; send nothing */
	const char *pii;                 /* a PII policy file; NULL: the workspace's */
	int pii_reject;                  /* 1: reject records with a finding even with a policy */
	double near_threshold;           /* MinHash similarity that rejects (0: 0.8) */
	int64_t run_id;
	/* only the records of this shard, by their key (SHARD_ALL: all): the
	 * shards of one run together make what one run makes, each record
	 * once; --limit counts within the shard */
	struct shard shard;
	/* dry run: each prompt as it would be sent, with the record's key */
	int (*on_prompt)(void *ud, const char *key, const char *system, const char *prompt);
	/* after each answer: done (screened), total */
	void (*progress)(void *ud, int64_t done, int64_t total);
	void *ud;
	volatile sig_atomic_t *cancel;   /* set: stop after the requests in flight */
};
struct aug_opts aug_opts_default(void);

struct aug_result {
	int64_t aug_run;         /* the run's id (0 for a dry run) */
	int64_t total;           /* requests to make (records not yet stored) */
	int64_t skipped;         /* records already stored by an earlier run */
	int64_t other_shards;    /* records left to the other shards */
	int64_t generated, accepted, rejected, failed;
	json_t *reasons;         /* {"pii": n, "duplicate": n, ...}: new reference, or NULL */
	int64_t seed;
	char first_error[512];
};
void aug_result_release(struct aug_result *r);

/* Runs recipe r as o says (above).  A request that fails is counted in
 * failed (first_error) and not stored, so a rerun asks again. */
int aug_run(struct store *s, const struct aug_recipe *r, const struct aug_opts *o,
	    struct aug_result *out, struct moat_err *e) __attribute__((warn_unused_result));

/* Every run: [{id, project, recipe, model, source, status, generated,
 * accepted, rejected, failed, reasons: {...}, started_at, updated_at}]. */
json_t *aug_runs(struct store *s, struct moat_err *e) __attribute__((warn_unused_result));
/* One run with its records: {run..., records: [{id, status, reason, detail,
 * value, sources, task_id, model, model_digest, template_sha256,
 * prompt_sha256, options, seed, provenance}]}.  MOAT_ENOTFOUND. */
json_t *aug_show(struct store *s, int64_t run, struct moat_err *e) __attribute__((warn_unused_result));

/* The screening parts, public for tests. */
/* 1 when phrase occurs in text ignoring case and runs of white space. */
int aug_contains(const char *text, const char *phrase);
/* Finds the spans [[start, end, label]] (code points of src) again in dst
 * by their surface strings, each at the first occurrence not yet taken for
 * its label; NULL with *missing set to the first span's surface (malloc'd)
 * that dst lacks. */
json_t *aug_refind_spans(const char *src, const json_t *spans, const char *dst, char **missing)
	__attribute__((warn_unused_result));

#endif
