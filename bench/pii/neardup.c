/*
 * neardup.c - near-duplicate benchmark for the clean stage's MinHash + LSH
 * (src/clean/minhash.c): N synthetic documents (about 120 words from a
 * 5,000-word vocabulary), of which 5% are planted near duplicates of an
 * earlier one (one word changed, or two paragraphs swapped: Jaccard
 * similarity of their 5-word shingles about 0.9, over the 0.8 threshold).  Prints
 * documents per second for signatures and for clustering, memory per
 * document (peak RSS over N), and how many planted duplicates were found and
 * how many distinct documents were merged.  Built and run by run.sh.
 *
 *   neardup N [seed]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "clean/minhash.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* a pronounceable word for index i */
static size_t word(char *out, unsigned i)
{
	static const char *const syl[] = { "ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "de", "gu",
					   "ba", "fe", "hi", "jo", "ve", "zu" };
	size_t k = 0;
	do {
		const char *s = syl[i % 16];
		out[k++] = s[0];
		out[k++] = s[1];
		i /= 16;
	} while (i);
	return k;
}

static size_t make_doc(char *buf, uint64_t seed)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
	size_t k = 0;
	for (int w = 0; w < 120; w++) {
		if (w)
			buf[k++] = (w % 40 == 0) ? '\n' : ' ';
		k += word(buf + k, (unsigned)(rng(&s) % 5000));
	}
	buf[k] = '\0';
	return k;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
	struct mh_params p = mh_default_params();
	uint32_t *sigs = malloc(n * (size_t)p.perms * sizeof(uint32_t));
	size_t *root = malloc(n * sizeof(size_t)), *orig = malloc(n * sizeof(size_t));
	char buf[4096], tmp[4096];
	uint64_t r = seed * 7 + 3;
	size_t planted = 0, found = 0, merged = 0, bytes = 0;
	double t0, t1, t2;
	struct rusage ru;
	if (!sigs || !root || !orig)
		return 1;
	p.seed = seed;
	mh_choose_bands(&p);
	t0 = now();
	for (size_t i = 0; i < n; i++) {
		size_t len;
		orig[i] = i;
		if (i > 10 && rng(&r) % 20 == 0) {
			/* a near duplicate of an earlier document */
			size_t src = (size_t)(rng(&r) % i);
			while (orig[src] != src)
				src = orig[src];
			len = make_doc(buf, src);
			if (rng(&r) % 2) {
				/* one word changed: estimated Jaccard about 0.92 */
				buf[rng(&r) % len] = 'x';
			} else {
				char *nl = strchr(buf, '\n');
				if (nl) {
					size_t a = (size_t)(nl - buf);
					snprintf(tmp, sizeof(tmp), "%s\n%.*s", nl + 1, (int)a, buf);
					len = strlen(tmp);
					memcpy(buf, tmp, len + 1);
				}
			}
			orig[i] = src;
			planted++;
		} else {
			len = make_doc(buf, i);
		}
		bytes += len;
		mh_signature(&p, buf, len, sigs + i * (size_t)p.perms);
	}
	t1 = now();
	if (mh_cluster(&p, sigs, n, NULL, root, NULL) < 0)
		return 1;
	t2 = now();
	for (size_t i = 0; i < n; i++) {
		if (orig[i] != i && root[i] == root[orig[i]])
			found++;
		if (orig[i] == i && root[i] != i)
			merged++;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("documents %zu (%.1f MB of text), perms %d, bands %d x rows %d, threshold %.2f\n", n,
	       bytes / 1e6, p.perms, p.bands, p.rows, p.threshold);
	printf("signatures: %.2f s, %.0f documents/s\n", t1 - t0, n / (t1 - t0));
	printf("clustering (LSH + check): %.2f s, %.0f documents/s\n", t2 - t1, n / (t2 - t1));
	printf("total: %.0f documents/s\n", n / (t2 - t0));
	printf("peak RSS %.1f MB, %.0f bytes per document (signature alone: %zu)\n",
	       ru.ru_maxrss / 1024.0, ru.ru_maxrss * 1024.0 / n, p.perms * sizeof(uint32_t));
	printf("planted near duplicates %zu, found %zu (%.1f%%); distinct documents merged %zu\n",
	       planted, found, planted ? 100.0 * found / planted : 0, merged);
	free(sigs);
	free(root);
	free(orig);
	return 0;
}
