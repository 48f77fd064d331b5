/*
 * augment_int.h - what the augment stage's files share: the screen every
 * generated record passes (screen.c), used by the run (run.c).
 *
 * Not for: callers outside src/augment/ (augment.h is the module's face).
 */
#ifndef MOAT_AUGMENT_INT_H
#define MOAT_AUGMENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "augment.h"
#include "../clean/minhash.h"
#include "../clean/pii.h"
#include "../clean/pii_ops.h"
#include "../clean/policy.h"

/* One text already in the workspace that a record may not repeat. */
struct aug_sig {
	char sha[65];            /* of its normalised text */
	uint32_t *sig;           /* params.perms values, or NULL */
	char *sources;           /* the JSON array of ids of a record's sources, or NULL */
	int document;            /* 1: a cleaned document, 0: a record */
};

struct aug_screen {
	struct pii_scanner *scanner;
	struct pii_scratch *scratch;
	struct policy pol;
	int have_policy;
	int reject;              /* 1: a finding rejects the record */
	struct pii_secrets sec;
	unsigned char salt[32];
	char policy_path[512];   /* "" when none */
	struct mh_params mh;
	struct aug_sig *seen;
	size_t n_seen, cap_seen;
};

/* Loads the policy (path, or NULL for none), the scanner, the secrets and
 * every signature of the workspace.  Release with aug_screen_release. */
int aug_screen_init(struct aug_screen *sc, struct store *s, const char *policy_path, int reject,
		    double near_threshold, struct moat_err *e) __attribute__((warn_unused_result));
void aug_screen_release(struct aug_screen *sc);

/* What the screen decided on one record. */
struct aug_verdict {
	const char *reason;      /* NULL: accepted; else "pii", "duplicate", "near_duplicate",
				  * "length", "check" */
	char detail[256];
	char sha[65];            /* of the record's normalised text */
	uint32_t *sig;           /* its signature (malloc'd), mh.perms values */
	json_t *deidentified;    /* [{type, operator}] of findings replaced, or NULL */
};
void aug_verdict_release(struct aug_verdict *v);

/* Screens the answer (an object of strings; PII findings replaced in place
 * when the policy says so) made from sources (their texts and ids, n), with
 * text the record's main text: PII, length, duplicates, then the recipe's
 * check (spans: *spans_out gets the spans found again).  0 with v filled,
 * -1 with e set when screening itself failed. */
int aug_screen_record(struct aug_screen *sc, const struct aug_recipe *r, json_t *answer,
		      const char *const *src_text, const char *const *src_ids, size_t n_src,
		      const json_t *src_spans, json_t **spans_out, struct aug_verdict *v,
		      struct moat_err *e) __attribute__((warn_unused_result));

/* Remembers an accepted record's signature for the rest of the run. */
int aug_screen_remember(struct aug_screen *sc, struct aug_verdict *v, const char *sources_json)
	__attribute__((warn_unused_result));

/* The record's text as the duplicate checks see it: lower case, white space
 * runs as one space, trimmed; its SHA-256 in hex. */
void aug_norm_sha(const char *text, char hex[65]);

#endif
