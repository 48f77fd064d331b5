/*
 * hashcount.h - a set of 64-bit hashes, each with a 32-bit count: open
 * addressing, linear probing, doubled when half full.  The clean stage counts
 * lines with it (repeated lines in a filter, boilerplate across documents)
 * and finds the first text with a given hash (exact duplicates).
 *
 * Not for: keeping the hashed bytes (callers compare them when a hash
 * matches) or removing entries.  Uses only libc.
 *
 * Ownership: the set owns its arrays; hashcount_release() frees them and
 * leaves an empty set.  Key 0 is stored as 1 (0 marks a free slot).
 */
#ifndef MOAT_HASHCOUNT_H
#define MOAT_HASHCOUNT_H

#include <stddef.h>
#include <stdint.h>

struct hashcount {
	uint64_t *k;
	uint32_t *v;
	size_t n, cap;
};
#define HASHCOUNT_INIT { NULL, NULL, 0, 0 }

/* Adds add to key's count (a new key starts at 0).  0, or -1 when out of
 * memory (the set is unchanged then). */
int hashcount_add(struct hashcount *h, uint64_t key, uint32_t add) __attribute__((warn_unused_result));

/* key's count, 0 when absent. */
uint32_t hashcount_get(const struct hashcount *h, uint64_t key);

void hashcount_release(struct hashcount *h);

#endif
