/*
 * pii.h - the PII/PHI scanner: finds personal and health identifiers in
 * UTF-8 text the way Presidio's analyzer does (patterns, validators with
 * checksums, context words that raise a score, allow and deny lists, overlap
 * resolution), in one pass of a Hyperscan multi-pattern database whose hits
 * are confirmed by PCRE2 (JIT) in a small window.  Names, places and
 * organisations come from built-in gazetteers, simple cues and user
 * dictionaries.  Without Hyperscan (a build on a platform that lacks it) every
 * pattern runs through PCRE2 alone: same findings, slower.
 *
 * Threading: a struct pii_scanner is immutable once built and can be shared by
 * any number of threads; each thread needs its own struct pii_scratch.
 *
 * Ownership: pii_scanner_new() copies what it keeps from the options.  A
 * struct pii_findings owns its array; pii_findings_release() frees it.
 * Finding type names and recognizer names point into the scanner and live as
 * long as it does.
 *
 * Not for: replacing the findings in text (pii_ops.h), reading policy files
 * (policy.h).  Uses Hyperscan (where built with it), PCRE2, utf8proc, core/
 * (buf, err, fs, hash, utf8; datadir for the cache of compiled databases)
 * and the recognizer tables of pii_internal.h.
 */
#ifndef MOAT_PII_H
#define MOAT_PII_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

struct pii_scanner;
struct pii_scratch;

/* A term from a deny list or user dictionary: always reported as type. */
struct pii_term {
	const char *type;
	const char *text;
	float score;       /* 0: 1.0 for deny lists, as Presidio does */
	int caseless;
};

struct pii_options {
	/* Entity types to look for, comma-separated ("ALL" or NULL: every
	 * built-in recognizer). */
	const char *entities;
	/* Country-specific recognizers (Presidio's country_code): a comma-
	 * separated list of ISO 3166 codes (us, uk or gb, de, ...) keeps the
	 * listed countries' recognizers, all of them, and drops the others';
	 * NULL or "ALL": the default set.  Ignored for types --entities names. */
	const char *countries;
	/* The text's language (ISO 639-1, "en", "de-CH"): without countries,
	 * keeps only the country recognizers Presidio registers for it;
	 * NULL or "any": no filter. */
	const char *language;
	float threshold;          /* drop findings scoring below (default 0: keep all) */
	int context_prefix;       /* words before a finding searched for context (5) */
	int context_suffix;       /* words after it (0, as Presidio) */
	float context_boost;      /* added to the score on a context word (0.35) */
	float context_floor;      /* minimum score with context (0.4) */
	int resolve_overlaps;     /* 1: resolve overlaps as Presidio's anonymizer */
	const char *const *allow; /* values never reported (case-insensitive) */
	size_t n_allow;
	const struct pii_term *terms;  /* deny lists and dictionaries */
	size_t n_terms;
	/* 1: no Hyperscan triggers, every pattern's PCRE2 expression over the
	 * whole text (what a build without Hyperscan does; slow, for checking
	 * that the triggers miss nothing) */
	int no_triggers;
};

/* Defaults: the default entity set, threshold 0, context 5 words before,
 * resolve. */
struct pii_options pii_default_options(void);

struct pii_finding {
	size_t start, end;       /* bytes of the scanned text, end exclusive */
	size_t cp_start, cp_end; /* the same span in code points */
	const char *recognizer;  /* the pattern's name */
	int type;                /* index: pii_type_name() */
	float score;             /* (this order: 48 bytes, no padding) */
};

struct pii_findings {
	struct pii_finding *v;
	size_t n, alloc;
};
#define PII_FINDINGS_INIT { NULL, 0, 0 }
void pii_findings_release(struct pii_findings *f);

struct pii_scanner *pii_scanner_new(const struct pii_options *o, struct moat_err *e) __attribute__((warn_unused_result));
void pii_scanner_free(struct pii_scanner *s);  /* NULL-safe */
struct pii_scratch *pii_scratch_new(const struct pii_scanner *s, struct moat_err *e)
	__attribute__((warn_unused_result));
void pii_scratch_free(struct pii_scratch *sc);  /* NULL-safe */

/*
 * Scans text (valid UTF-8; see pii_scan_bytes for anything else) and appends
 * the findings to out, ordered by start.  Code-point offsets count from the
 * start of text plus cp_base.  Returns the number of findings added, or -1
 * with e set (out keeps what it had).
 */
int pii_scan(const struct pii_scanner *s, struct pii_scratch *sc, const char *text, size_t len,
	     size_t cp_base, struct pii_findings *out, struct moat_err *e) __attribute__((warn_unused_result));

/*
 * Adds findings found elsewhere (a model, a reviewer) to out[first..] of text
 * and resolves duplicates and overlaps again, as pii_scan does; the extras'
 * byte spans and types must be set, their code points are computed.
 */
int pii_merge(const struct pii_scanner *s, const char *text, size_t len, size_t cp_base,
	      struct pii_findings *out, size_t first, const struct pii_finding *extra, size_t n,
	      struct moat_err *e) __attribute__((warn_unused_result));

const char *pii_type_name(const struct pii_scanner *s, int type);
/* The type's index, or -1 when the scanner does not know it. */
int pii_type_find(const struct pii_scanner *s, const char *name);
size_t pii_type_count(const struct pii_scanner *s);
/* Number of patterns compiled, and how many of them run without a
 * Hyperscan trigger (0 in a Hyperscan build). */
size_t pii_pattern_count(const struct pii_scanner *s, size_t *slow);
/* 1 when code is a country some recognizer belongs to ("gb" is "uk"). */
int pii_country_known(const char *code);
/* The country of a built-in type ("us"), or NULL for a generic type. */
const char *pii_entity_country(const char *entity);
/* Every built-in entity type, NULL-terminated (for --help and docs). */
const char *const *pii_builtin_types(void);
/* "hyperscan 5.4.0 + pcre2 10.42" or "pcre2 10.42". */
const char *pii_engine_name(void);

#endif
