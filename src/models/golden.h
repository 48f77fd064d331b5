/*
 * golden.h - known-good outputs that travel with the models.  On the staging
 * machine each prompt of a PROMPTS.jsonl file is run through each bundled
 * model with greedy decoding, a fixed seed and a fixed context, and the
 * answers (text, the pieces the model produced one token at a time, their
 * count, the options used, the runtime's name and version) are written into
 * the bundle as golden.json, listed in SHA256SUMS and so covered by the
 * signature.  On the target the same prompts are run again and compared:
 * exact matches, and for the rest the first differing token, a similarity
 * score and the likely cause (another model file, runtime, template or
 * option; else GPU against CPU arithmetic).  The same machinery compares two
 * models on the same prompts (`moat models diff`).
 *
 * Not for running a model: the caller gives a golden_runner (doctor.h has
 * the one over the model layer), so that src/models/ stays below src/llm/.
 * Nothing here prints.
 *
 * Ownership: every json_t returned is a new reference for the caller;
 * strings returned are malloc'd.  Functions that can fail fill the moat_err
 * and return NULL (or -1); MOAT_ENOMEM when out of memory.
 */
#ifndef MOAT_GOLDEN_H
#define MOAT_GOLDEN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

#define GOLDEN_FILE "golden.json"
#define GOLDEN_FORMAT "moat-golden"
#define GOLDEN_FORMAT_VERSION 1
#define GOLDEN_MAX_BYTES (64u << 20)
#define GOLDEN_MAX_PROMPTS 10000
/* Exit status of `moat models verify --golden` when the bundle is intact
 * but some answers differ beyond --tolerance. */
#define GOLDEN_EXIT_DIFFERS 6

/* The decoding every golden answer uses (greedy: temperature 0, top-k 1). */
struct golden_options {
	int64_t seed;       /* 42 */
	int n_ctx;          /* 2048 */
	int max_tokens;     /* 32, unless a prompt line says otherwise */
};
struct golden_options golden_default_options(void);

/* What runs the prompts.  open() loads the model a URI names (n_ctx: the
 * context to give it) and fills *info with what is known of it
 * ({"backend","digest","template_sha256","server":{"kind","version"}} as
 * llm_info gives); generate() answers one prompt object ({"id","prompt",
 * "system"?,"max_tokens"}) greedily and returns {"text","tokens":[pieces],
 * "token_count","finish","options","seconds"}, or NULL with e set.  Both
 * may be called for several models, one after another. */
struct golden_runner {
	void *(*open)(void *ud, const char *uri, int n_ctx, json_t **info, struct moat_err *e);
	json_t *(*generate)(void *model, json_t *prompt, const struct golden_options *o,
			    struct moat_err *e);
	void (*close)(void *model);
	void *ud;
};

/* Reads a PROMPTS.jsonl file: one JSON object a line, {"prompt": TEXT} with
 * optional "id" (default "p<line>"), "system" and "max_tokens" (1..4096);
 * blank lines and lines starting with '#' are skipped.  Returns the array of
 * prompt objects (every field filled in), or NULL with e set (MOAT_EPARSE:
 * "'FILE' line N: why"). */
json_t *golden_prompts_load(const char *path, const struct golden_options *o,
			    struct moat_err *e) __attribute__((warn_unused_result));
json_t *golden_prompts_parse(const char *text, size_t len, const char *name,
			     const struct golden_options *o, struct moat_err *e)
	__attribute__((warn_unused_result));

/* The URI that runs model name: tmpl with each "{model}" replaced by name;
 * NULL tmpl: "store:NAME".  malloc'd, NULL when out of memory. */
char *golden_uri(const char *tmpl, const char *name) __attribute__((warn_unused_result));

/* Runs prompts through each of n models (names[i] through uris[i]) and
 * returns the golden document to write as golden.json.  NULL with e set when
 * a model cannot be opened or a prompt fails (no half record). */
json_t *golden_record(json_t *prompts, const struct golden_options *o, const char *const *names,
		      const char *const *uris, size_t n, const struct golden_runner *r,
		      struct moat_err *e) __attribute__((warn_unused_result));

/* Parses and checks a golden document (bytes from a bundle: outside data).
 * Returns it, or NULL with e set (MOAT_EPARSE naming what is wrong). */
json_t *golden_parse(const char *data, size_t len, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Reads DIR/golden.json, checks it against its line in DIR/SHA256SUMS (a
 * golden file that is not listed, or does not match, is refused:
 * MOAT_ECORRUPT) and parses it.  MOAT_ENOTFOUND when the bundle has none. */
json_t *golden_load_bundle(const char *dir, struct moat_err *e) __attribute__((warn_unused_result));

/* Reruns a bundle's golden prompts and compares.  model_uris (n_uris of
 * them): "NAME=URI" for one model, or a plain URI for every model ("{model}"
 * is replaced by the name); a model without one runs embedded on the
 * bundle's own GGUF blob (gguf:DIR/blobs/sha256-HEX), or store:NAME when the
 * blob is split.  tolerance: the least similarity (0..1) an answer needs to
 * pass.  Returns {"ok","tolerance","bundle","models":[{"name","uri",
 * "status":"exact"|"within"|"differs"|"error","prompts","exact","passed",
 * "similarity_min","similarity_mean","recorded_runtime","runtime","causes":
 * [...],"outputs":[{"id","status","similarity","first_diff"?:{"index",
 * "expected","found"}}],"error"?}]}; a model that cannot run is an "error"
 * entry, not a failure of the call.  NULL with e set when the bundle's
 * golden file cannot be used. */
json_t *golden_check_bundle(const char *dir, const char *const *model_uris, size_t n_uris,
			    const struct golden_runner *r, double tolerance, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Runs prompts through two models (URIs) and compares them answer by
 * answer: {"a":{"uri","runtime","tokens_per_second","tokens","seconds"},
 * "b":{...}, "prompts", "exact", "agreement" (mean similarity),
 * "outputs":[{"id","prompt","a","b","similarity","first_diff"?}]}.  NULL
 * with e set when a model cannot be opened or a prompt fails. */
json_t *golden_diff(json_t *prompts, const struct golden_options *o, const char *uri_a,
		    const char *uri_b, const struct golden_runner *r, struct moat_err *e)
	__attribute__((warn_unused_result));

/* One model's entry of golden_check_bundle's report as text for people: a
 * line with its counts, a line per differing answer (the first ten), a line
 * per likely cause.  malloc'd; NULL when out of memory. */
char *golden_model_summary(json_t *model) __attribute__((warn_unused_result));

/* How alike two token sequences (JSON arrays of strings) are: 1 - the edit
 * distance over tokens / the longer length (1 for two empty ones). */
double golden_similarity(json_t *a, json_t *b);
/* The index of the first token where a and b differ, or -1 when equal. */
long golden_first_diff(json_t *a, json_t *b);

#endif
