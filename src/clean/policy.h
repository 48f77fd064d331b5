/*
 * policy.h - the small policy files of the clean stage, in an INI-like
 * format: `[section]` headers, `key = value` lines, `#` comments.
 *
 * A PII policy (moat clean --pii FILE, moat pii scan --policy FILE):
 *
 *   [pii]
 *   entities = ALL                 # or a comma-separated list of types
 *   country = us, uk               # country recognizers of these countries only
 *   language = en                  # without country: the language's recognizers
 *   threshold = 0                  # the default: every finding
 *   context_prefix = 5             # words before a finding searched for context
 *   context_suffix = 0
 *   allow = ACME, example.com      # values never reported (repeatable)
 *   allow_file = allow.txt         # one value per line
 *   salt = a long secret           # or salt_file = FILE; else the workspace's own
 *   key_file = pii.key             # for the encrypt operator (moat pii keygen)
 *   llm_model = ollama://127.0.0.1:11434/mistral:7b   # optional: names, places,
 *   llm_entities = PERSON,LOCATION,ORGANIZATION       # organisations by a local model
 *   llm_allow_host = gpu-box.internal                  # a non-loopback host, named
 *   [deny]                         # always reported, score 1.0
 *   PERSON = Jane Roe, John Doe
 *   [dictionary]                   # TYPE = FILE of terms, one per line (score 0.85)
 *   PERSON = staff.txt
 *   [operators]                    # TYPE = operator [params]; DEFAULT for the rest
 *   DEFAULT = replace
 *   CREDIT_CARD = mask keep=4 char=*
 *   US_SSN = hash
 *   PERSON = pseudonymize
 *   PHONE_NUMBER = encrypt
 *   DATE_TIME = keep
 *
 * A filter policy (moat clean --filters FILE): sections [document] and
 * [element] with min_chars, max_chars, min_words, max_symbol_ratio,
 * max_digit_ratio, max_repeated_line_ratio, languages (comma list) and
 * min_language_score; [element] also drop_types (comma list of element
 * types: header, footer, ...).  A key left out does not filter.
 *
 * Paths in a policy are relative to the policy file.  Ownership: a struct
 * policy owns everything in it; policy_release() frees it.
 *
 * Not for: applying a policy (the scanner takes policy_scan_options(); the
 * stage applies operators and filters).  Uses pii.h and pii_ops.h (their
 * option and operator types) and core/ (buf, fs, hash, err).
 */
#ifndef MOAT_POLICY_H
#define MOAT_POLICY_H

#include <stddef.h>

#include "../core/err.h"
#include "pii.h"
#include "pii_ops.h"

struct policy_op {
	char type[64];
	struct pii_op_spec spec;
};

struct policy {
	char *path;
	char sha256[65];        /* of the file's bytes, for provenance */
	char *entities;
	char *countries;        /* country = us, uk: the text's countries */
	char *language;         /* language = en */
	float threshold;        /* < 0: not set */
	int context_prefix, context_suffix;  /* < 0: not set */
	char **allow;
	size_t n_allow;
	struct pii_term *terms;
	size_t n_terms;
	struct policy_op *ops;
	size_t n_ops;
	struct pii_op_spec def;
	unsigned char *salt;
	size_t salt_len;
	char *key_file;
	char *llm_model;        /* a model URI for names, places, organisations */
	char *llm_entities;
	char **llm_allow;       /* hosts beyond loopback */
	size_t n_llm_allow;
};

void policy_init(struct policy *p);
void policy_release(struct policy *p);
/* Reads a PII policy; errors name the file and line. */
int policy_load(struct policy *p, const char *path, struct moat_err *e)
	__attribute__((warn_unused_result));
/* Copies what the policy sets into scanner options (pointers into p). */
void policy_scan_options(const struct policy *p, struct pii_options *o);
/* The operator for a type (the DEFAULT one when the type has none). */
const struct pii_op_spec *policy_op_for(const struct policy *p, const char *type);

struct filter_rules {
	int set;                 /* any rule given */
	long min_chars, max_chars, min_words;          /* -1: off */
	double max_symbol_ratio, max_digit_ratio, max_repeated_line_ratio;  /* < 0: off */
	char languages[256];     /* "" : any */
	double min_language_score;                      /* < 0: off */
	char drop_types[256];    /* [element] only: element types dropped ("header,footer"); "" none */
};

struct filter_policy {
	struct filter_rules doc, el;
	char sha256[65];
};

int filter_policy_load(struct filter_policy *f, const char *path, struct moat_err *e)
	__attribute__((warn_unused_result));
void filter_policy_default(struct filter_policy *f);

#endif
