/*
 * split.h - deterministic, grouped, stratified train/val/test splits for an
 * export (`moat export --split 80/10/10 --seed S`).
 *
 * Each item has a group key (its document id, or the near-duplicate cluster
 * id that clean found): the items of one group always land in the same split,
 * so no document and no cluster of near-duplicates is in two splits.  Each
 * item may have a label: every label's items are split in the proportions
 * asked for, each label's count in each split within one record of its target
 * whenever the groups allow it (see split_assign).
 *
 * The same items, ratios and seed give the same splits on any machine: the
 * only randomness is SHA-256 of the seed and each group key, and the rest is
 * integer arithmetic (no rand(), no floating point).  The order of the items
 * does not matter either.
 *
 * Not for: reading the workspace (the caller gathers the items) or writing
 * files (records.h).  Uses core/ (err, hash) and libc.
 */
#ifndef MOAT_SPLIT_H
#define MOAT_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

#define SPLIT_MAX 3

/* Ratios as parsed from "80/10/10", "90/10", "0.8/0.1/0.1" or "100": integer
 * weights in the text's own decimal units (so 33.3/33.3/33.4 is exact).  The
 * splits are named train (1 part); train, test (2); train, val, test (3). */
struct split_ratios {
	size_t n;                       /* 1..SPLIT_MAX */
	uint64_t w[SPLIT_MAX];          /* weights in units of 10^-decimals; 0: an empty split */
	int decimals;                   /* the most decimal places a part was written with */
	const char *name[SPLIT_MAX];    /* static strings */
};

/* Parses text: 1 to SPLIT_MAX non-negative decimals (at most 6 decimal
 * places each) separated by '/', adding up to exactly 100 or exactly 1.
 * Returns 0, or -1 with e naming the text and what is wrong (MOAT_EUSAGE). */
int split_parse(const char *text, struct split_ratios *r, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Writes the ratios back as text ("80/10/10") into dst (size bytes); -1 when
 * it does not fit. */
int split_format(const struct split_ratios *r, char *dst, size_t size)
	__attribute__((warn_unused_result));

/* One item to split.  Strings are borrowed for the call. */
struct split_item {
	const char *id;      /* used as the group key when group is NULL */
	const char *group;   /* the document or near-duplicate cluster; NULL: the item alone */
	const char *label;   /* the stratum; NULL: the unlabelled stratum */
};

/* Assigns each of the n items a split: out[i] is an index into r's splits.
 *
 * How: every group is ranked by SHA-256(seed, 0, group key); groups are then
 * placed one at a time, the largest first (ties in rank order), each into the
 * split where it fits best.  For each label L the target of split s is
 * N_L * w_s / W (N_L items of label L, W the sum of the weights).  A group
 * goes where adding its items exceeds the targets of its labels the least
 * (counted in records); among those, where its labels' remaining room,
 * weighted by how many of its items carry each label, is largest; then the
 * first split.  A split of weight 0 gets nothing.
 *
 * What it guarantees: when groups of several items never have to go over a
 * target (they are placed before single items, largest first, so this holds
 * unless a group is larger than the room left for its label), every label's
 * count in every split is within one record of its target (strictly less
 * than one away: single items always go to the split furthest below its
 * target).  Otherwise the groups that did not fit are what keeps a split
 * away from its target, and no regrouping is attempted.
 *
 * seed: any string (NULL: ""), hashed as its bytes.  Returns 0, or -1 with e
 * set (an item with neither group nor id: MOAT_EUSAGE; out of memory);
 * out is then unspecified. */
int split_assign(const struct split_item *items, size_t n, const struct split_ratios *r,
		 const char *seed, unsigned char *out, struct moat_err *e)
	__attribute__((warn_unused_result));

#endif
