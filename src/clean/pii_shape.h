/*
 * pii_shape.h - the triggers of digit-bearing identifiers, run over the
 * shape of the text around its digits (pii_shape.c), and nothing else.
 *
 * The shape of a byte: '0' for a digit, 'A' for A-Z, 'a' for a-z, any other
 * byte itself.  A pattern flagged P_DIGITS (pii_internal.h) has a Hyperscan
 * expression every match of which holds a digit, with at most
 * PII_SHAPE_LEAD bytes before its first digit, PII_SHAPE_TRAIL after its last
 * and PII_SHAPE_GAP between two of its digits (tests/pii_digits_check.py
 * checks each flagged expression).  Its expression is rewritten over shapes
 * (pii_shape_expr), and that database runs over the regions around clusters
 * of digits only (pii_shape_scan), each shape of region once per memo.
 *
 * Not for: anything outside the scanner (pii_scan.c); pii.h serves the rest.
 */
#ifndef MOAT_PII_SHAPE_H
#define MOAT_PII_SHAPE_H

#include <stddef.h>

#include "../core/buf.h"

#define PII_SHAPE_LEAD 8
#define PII_SHAPE_TRAIL 5
#define PII_SHAPE_GAP 5

/*
 * Appends to out the expression rx (PCRE syntax, as Hyperscan takes it)
 * rewritten over shapes: every literal and class becomes the shapes of the
 * bytes it matches, look-arounds are dropped (Hyperscan's prefilter mode
 * drops them too), the rest is kept.  Every string rx matches has a shape
 * that the result matches.  Returns 0, or -1 when rx uses what the rewrite
 * does not take (a back-reference, \p, a POSIX class...): then out holds
 * part of it.
 */
int pii_shape_expr(const char *rx, struct buf *out) __attribute__((warn_unused_result));

#ifdef MOAT_HAVE_HYPERSCAN
#include <hs.h>

/* The shapes seen, with the hits of the shape database in each (per
 * scratch, so per thread); bounded, cleared when full. */
struct pii_shape_memo;

struct pii_shape_memo *pii_shape_memo_new(void);
void pii_shape_memo_free(struct pii_shape_memo *m);

/* A hit of expression id ending at byte end of the text; non-zero stops the
 * scan. */
typedef int (*pii_shape_hit_fn)(unsigned id, size_t end, void *ctx);

/*
 * Reports, through hit, every match end of db's expressions in the region
 * of each cluster of digits of text, region by region in the order of the
 * text, each region's hits in order of their end (a hit may come twice where
 * two regions overlap).  Returns 0, -1 when hit stopped the scan, -2 out of
 * memory, or a Hyperscan error (> 0).
 */
int pii_shape_scan(const hs_database_t *db, hs_scratch_t *hs, struct pii_shape_memo *m,
		   const char *text, size_t len, pii_shape_hit_fn hit, void *ctx);

#endif

#endif
