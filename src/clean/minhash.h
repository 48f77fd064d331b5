/*
 * minhash.h - near-duplicate detection with MinHash signatures and
 * locality-sensitive hashing (banding), deterministic for a seed.
 *
 * Shingles are runs of `shingle` words (lower-cased; Unicode letters and
 * digits), or of 5 characters for text written without spaces (Thai, CJK).
 * A signature keeps, for each of `perms` hash functions h_i(x) = a_i * x + b_i
 * (mod 2^64, odd a_i drawn from the seed), the minimum over the shingles.
 * Banding splits a signature into `bands` bands of `rows` values; texts that
 * agree on a whole band become candidates, and a candidate pair joins a
 * cluster only when the share of equal signature values (the estimated
 * Jaccard similarity) reaches the threshold.  With bands = 0 the banding is
 * chosen for the threshold.
 *
 * Memory: perms * 4 bytes per text for the signature, plus 16 bytes per text
 * for the band being bucketed.
 *
 * Not for: exact duplicates (a hash of the text finds those) or deciding
 * which texts to compare (clean/dedup.c).  Uses utf8proc and core/utf8.h.
 */
#ifndef MOAT_MINHASH_H
#define MOAT_MINHASH_H

#include <stddef.h>
#include <stdint.h>

struct mh_params {
	int shingle;        /* words per shingle (5) */
	int perms;          /* signature length (128) */
	int bands, rows;    /* 0: chosen from the threshold */
	double threshold;   /* estimated Jaccard to join a cluster (0.8) */
	uint64_t seed;      /* (1) */
};

struct mh_params mh_default_params(void);
/* Fills bands/rows when they are 0; returns the approximate threshold of
 * the banding, (1/bands)^(1/rows). */
double mh_choose_bands(struct mh_params *p);

/* The signature of text (UTF-8) into sig[perms]; returns the number of
 * shingles (0: empty text, every value UINT32_MAX). */
size_t mh_signature(const struct mh_params *p, const char *text, size_t n, uint32_t *sig);

/* Estimated Jaccard similarity of two signatures. */
double mh_similarity(const uint32_t *a, const uint32_t *b, int perms);

/*
 * Clusters n signatures (sigs + i * perms).  root[i] receives the smallest
 * index of i's cluster (i itself when alone), sim[i] (may be NULL) the
 * estimated similarity to that member.  skip[i] (may be NULL) nonzero keeps
 * text i out.  Returns 0, or -1 when out of memory.
 */
int mh_cluster(const struct mh_params *p, const uint32_t *sigs, size_t n, const unsigned char *skip,
	       size_t *root, float *sim) __attribute__((warn_unused_result));

#endif
