/*
 * pii_internal.h - what the scanner's parts share and nothing else includes:
 * the recognizer tables (pii_recognizers.c, pii_lexicon.c) and the pattern
 * record the engine (pii_scan.c) compiles.
 *
 * A pattern has a PCRE2 expression, the span it reports (the whole match or
 * one capture group), a base score, and a Hyperscan trigger: an expression
 * whose match end lies at or after the start of every match of the PCRE2
 * expression and at most `back` bytes after that start.  When the trigger is
 * NULL the PCRE2 expression itself is given to Hyperscan in prefilter mode.
 *
 * Not for: anything outside the scanner's files (pii_scan.c,
 * pii_recognizers.c, pii_lexicon.c), which pii.h serves.  Uses
 * pii_validate.h.
 */
#ifndef MOAT_PII_INTERNAL_H
#define MOAT_PII_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "pii_validate.h"

enum pii_pattern_flags {
	P_CASELESS = 1,   /* both engines ignore ASCII case */
	P_UTF = 2,        /* PCRE2 in UTF mode, \w \b \d Unicode-aware */
	P_WEAKCHECK = 4,  /* a passing check keeps the pattern's score (a 1-in-10
			   * checksum on a bare number proves little) */
	P_TRIM = 8,       /* trim trailing punctuation . , ; : ! ? ) ] ' " */
	P_OFF = 16,       /* not in the default entity set */
	P_TCASE = 32,     /* the Hyperscan trigger ignores case (the PCRE2
			   * expression says itself where it does) */
	P_DIGITS = 64,    /* every match of the Hyperscan expression holds a
			   * digit, within the bounds of pii_shape.h: it runs
			   * over the shapes of the regions around digits */
};

/*
 * A checker sees the whole text and the span; it may move the span, change
 * the score, or return 0 to drop the finding.  Used where a regex cannot say
 * enough (names that are also common words, ages that are not ages).
 */
typedef int (*pii_checker)(const char *text, size_t len, size_t *start, size_t *end,
			   float *score);

/*
 * A gate sees the text, the end of a trigger hit and the start of its window
 * (end - back), and returns 0 when no match can start in the window: a test
 * in C where the same condition in the trigger would cost Hyperscan more than
 * it saves PCRE2.  It may also move *from later, past bytes no match can
 * start before, so PCRE2 searches less.
 */
typedef int (*pii_gate)(const char *text, size_t len, size_t end, size_t *from);

struct pii_pattern {
	const char *entity;
	const char *name;
	const char *regex;
	const char *trigger;
	float score;
	unsigned short back;
	unsigned char flags;
	unsigned char group;
	pii_validator validate;
	pii_checker check;
	/* A word list (separated by gaz_sep, regex escapes allowed) whose
	 * entries trigger the pattern where they start with a capital letter;
	 * found by a hash lookup of capitalized words instead of Hyperscan.
	 * The trigger, if any, then covers the entries that have no case. */
	const char *gaz;
	char gaz_sep;
	/* Cue words ('|'-separated, lower case, the expression's own syntax)
	 * that the expression requires before a name, which starts with an
	 * upper-case letter after nothing but [ \t\r\n,.!:?-]: instead of a
	 * Hyperscan trigger, the scan looks the word before each upper-case
	 * letter up in a table of the cues' last words and confirms from the
	 * cue's start (pii_scan.c); back is not used. */
	const char *cue;
	pii_gate gate;
};

struct pii_entity_def {
	const char *name;
	const char *context;   /* '|'-separated, lower case; phrases allowed */
};

/* ASCII letters and digits; with '_', a word byte as ASCII \b sees it. */
static inline int pii_ascii_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static inline int pii_ascii_word(unsigned char c)
{
	return pii_ascii_alnum(c) || c == '_';
}

extern const struct pii_pattern pii_patterns[];
extern const size_t pii_n_patterns;
extern const struct pii_entity_def pii_entities[];
extern const size_t pii_n_entities;

/* Lexicon patterns are built at run time from word lists (pii_lexicon.c):
 * calls add(ctx, pattern) for each; the strings live as long as the
 * process.  -1 when add() failed, or when the lists could not be built
 * whole (out of memory: then for the rest of the process). */
typedef int (*pii_add_fn)(void *ctx, const struct pii_pattern *p);
int pii_lexicon_patterns(pii_add_fn add, void *ctx) __attribute__((warn_unused_result));

/* Small word lists the checkers share (lower case, sorted): returns 1 when
 * the n bytes at s, lowered, are in the list. */
int pii_is_stopword(const char *s, size_t n);
/* The same for a word already in lower case, with h its 32-bit FNV-1a hash
 * (the hash the lists are built with), computed while lowering it; only
 * once pii_lexicon_patterns() has run (a scanner exists), and s must be
 * readable for 16 bytes. */
int pii_is_stopword_lower(const char *s, size_t n, uint32_t h);
int pii_is_common_capitalized(const char *s, size_t n);
int pii_is_first_name(const char *s, size_t n);

/* Extends a street address over its unit, city, region, postal code and
 * country (a checker for the STREET_ADDRESS patterns). */
int pii_chk_address(const char *t, size_t len, size_t *a, size_t *b, float *sc);
/* For a street suffix ("St", "Avenue"): the name and house number before it,
 * then as pii_chk_address. */
int pii_chk_street(const char *t, size_t len, size_t *a, size_t *b, float *sc);

/* The next name of a list after a PERSON finding ending at end ("Anna,
 * Hannah and Derek"): 1 with its span, 0 when the list stops. */
int pii_person_list_next(const char *t, size_t len, size_t end, size_t *na, size_t *nb);

#endif
