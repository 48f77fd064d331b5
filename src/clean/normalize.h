/*
 * normalize.h - text normalisation for the clean stage: Unicode NFKC
 * (utf8proc), control and invisible characters removed, CR LF to LF,
 * white space collapsed, words hyphenated across a line break joined, and
 * boilerplate lines (repeated across many documents) removed.
 *
 * Every output code point remembers the input code point it came from, so a
 * span found in the clean text maps back to the original (norm_orig_start /
 * norm_orig_end), and the map is stored compressed as the breakpoints where
 * the alignment changes: [[clean_cp, orig_cp], ...].
 *
 * Not for: deciding which lines are boilerplate (the stage counts them across
 * documents, clean/boilerplate.c) or anything beyond one text.  Uses
 * utf8proc, jansson (the map) and core/buf, utf8, err.
 *
 * Ownership: struct norm owns its text and map; norm_release() frees them.
 */
#ifndef MOAT_NORMALIZE_H
#define MOAT_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../core/buf.h"
#include "../core/err.h"

enum norm_flags {
	NORM_NFKC = 1,
	NORM_CONTROLS = 2,   /* Cc (but tab, LF), soft hyphen, zero-width, BOM */
	NORM_SPACE = 4,      /* Zs and tabs to one space, trailing spaces, blank-line runs */
	NORM_HYPHEN = 8,     /* "infor-\nmation" -> "information" */
	NORM_ALL = 15,
};

/* The map from output to input code points, kept as its breakpoints: output
 * code point i comes from input code point v[k].orig + (i - v[k].clean), for
 * the last k with v[k].clean <= i.  Text that only moves costs nothing, so
 * the map of a long element is a small fraction of its text. */
struct norm_bp {
	size_t clean, orig;
};
struct norm_map {
	struct norm_bp *v;
	size_t n, alloc;
	int failed;
};

struct norm {
	struct buf text;     /* UTF-8 */
	struct norm_map map; /* every output code point to its input code point */
	size_t n_cp;         /* code points of text */
	size_t in_cps;       /* code points of the input */
	uint32_t last;       /* the last code point of text (while it is built) */
};

void norm_init(struct norm *r);
void norm_release(struct norm *r);

/* Normalises valid UTF-8 text into r (replacing what r held). */
int norm_text(struct norm *r, const char *in, size_t n, unsigned flags, struct moat_err *e)
	__attribute__((warn_unused_result));

/* For tests: the passes' window (1 MiB; 0 sets it back), so that a test
 * can show that windows change nothing. */
void norm_set_window(size_t bytes);

/* 64-bit hash of one line (for boilerplate counting); lines are compared
 * after normalisation, so the caller hashes norm output. */
uint64_t norm_line_hash(const char *s, size_t n);

/* Removes the lines of r whose hash is_boiler() accepts (whole lines with
 * their line break); *removed gets their number.  0, or -1 when out of
 * memory (r is unchanged then). */
int norm_drop_lines(struct norm *r, int (*is_boiler)(const void *ctx, uint64_t h),
		    const void *ctx, size_t *removed) __attribute__((warn_unused_result));

/* The input code point of output position cp (cp == n_cp: the input end). */
size_t norm_orig_start(const struct norm *r, size_t cp);
/* The input code point just past output span end (exclusive). */
size_t norm_orig_end(const struct norm *r, size_t end);

/* The compressed map: [[clean_cp, orig_cp], ...] (new reference); NULL when
 * out of memory. */
json_t *norm_map_json(const struct norm *r) __attribute__((warn_unused_result));

#endif
