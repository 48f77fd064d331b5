/*
 * minhash.c - MinHash signatures, LSH banding and union-find clustering
 * (see minhash.h).  The per-shingle loop over the permutations is a
 * multiply-add the compiler vectorises; the bucketing sorts one band at a time
 * so memory stays at the signatures plus one array.
 */
#include "minhash.h"
#include "../core/utf8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "../core/banned.h"

struct mh_params mh_default_params(void)
{
	struct mh_params p = { 5, 128, 0, 0, 0.8, 1 };
	return p;
}

double mh_choose_bands(struct mh_params *p)
{
	if (p->perms < 4)
		p->perms = 4;
	if (p->bands <= 0 || p->rows <= 0) {
		/* the banding whose S-curve midpoint sits a little below the
		 * threshold: recall first, the similarity check removes the rest */
		double target = p->threshold - 0.05, best = 1e9;
		for (int r = 1; r <= p->perms; r++) {
			int b = p->perms / r;
			double t;
			if (b < 1)
				break;
			t = pow(1.0 / b, 1.0 / r);
			if (fabs(t - target) < best) {
				best = fabs(t - target);
				p->bands = b;
				p->rows = r;
			}
		}
	}
	if (p->bands * p->rows > p->perms)
		p->bands = p->perms / p->rows;
	return pow(1.0 / p->bands, 1.0 / p->rows);
}

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xFF51AFD7ED558CCDULL;
	h ^= h >> 33;
	h *= 0xC4CEB9FE1A85EC53ULL;
	return h ^ (h >> 33);
}

static uint64_t fnv64(const unsigned char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ULL;
	return h;
}

static void perm_coeffs(const struct mh_params *p, uint64_t *a, uint64_t *b)
{
	uint64_t st = p->seed * 0x2545F4914F6CDD1DULL + 7;
	for (int i = 0; i < p->perms; i++) {
		a[i] = splitmix(&st) | 1;
		b[i] = splitmix(&st);
	}
}

static void update(uint32_t *sig, const uint64_t *a, const uint64_t *b, int perms, uint64_t x)
{
	for (int i = 0; i < perms; i++) {
		uint32_t v = (uint32_t)((a[i] * x + b[i]) >> 32);
		sig[i] = v < sig[i] ? v : sig[i];
	}
}

size_t mh_signature(const struct mh_params *p, const char *text, size_t n, uint32_t *sig)
{
	uint64_t a[512], b[512];
	uint64_t ring[64];
	int perms = p->perms > 512 ? 512 : p->perms, k = p->shingle < 1 ? 1 : p->shingle > 64 ? 64 : p->shingle;
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, nw = 0, shingles = 0, spaces = 0, letters = 0;
	uint64_t wh = 1469598103934665603ULL;
	int in_word = 0;
	perm_coeffs(p, a, b);
	for (int j = 0; j < perms; j++)
		sig[j] = UINT32_MAX;
	for (size_t j = 0; j < n; j++)
		spaces += s[j] == ' ' || s[j] == '\n';
	letters = utf8_count(text, n);
	if (letters > 40 && spaces * 20 < letters) {
		/* no spaces to speak of: shingles of 5 code points */
		size_t pos[6] = { 0 }, cnt = 0;
		while (i < n) {
			uint32_t c;
			int l = utf8_decode(s + i, n - i, &c);
			if (l <= 0)
				l = 1;
			memmove(pos, pos + 1, 5 * sizeof(size_t));
			pos[5] = i;
			i += (size_t)l;
			if (++cnt >= 5) {
				update(sig, a, b, perms, mix64(fnv64(s + pos[1], i - pos[1])));
				shingles++;
			}
		}
		return shingles;
	}
	while (i <= n) {
		uint32_t c = ' ';
		int l = 1, word;
		if (i < n) {
			l = utf8_decode(s + i, n - i, &c);
			if (l <= 0) {
				l = 1;
				c = 0xFFFD;
			}
		}
		if (c < 0x80)
			word = (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
		else {
			int cat = utf8proc_category((utf8proc_int32_t)c);
			word = (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
			       cat == UTF8PROC_CATEGORY_ND;
		}
		if (i < n && word) {
			uint32_t lc = c < 0x80 ? (c >= 'A' && c <= 'Z' ? c + 32 : c)
					       : (uint32_t)utf8proc_tolower((utf8proc_int32_t)c);
			wh = (wh ^ lc) * 1099511628211ULL;
			in_word = 1;
		} else if (in_word) {
			ring[nw % 64] = mix64(wh);
			nw++;
			wh = 1469598103934665603ULL;
			in_word = 0;
			if (nw >= (size_t)k) {
				uint64_t h = 0;
				for (int j = 0; j < k; j++)
					h = mix64(h ^ ring[(nw - (size_t)k + (size_t)j) % 64]) + (uint64_t)j;
				update(sig, a, b, perms, h);
				shingles++;
			}
		}
		i += (size_t)l;
	}
	if (nw > 0 && nw < (size_t)k) {
		/* shorter than one shingle: the whole text is the shingle */
		uint64_t h = 0;
		for (size_t j = 0; j < nw; j++)
			h = mix64(h ^ ring[j % 64]) + j;
		update(sig, a, b, perms, h);
		shingles++;
	}
	return shingles;
}

double mh_similarity(const uint32_t *a, const uint32_t *b, int perms)
{
	int eq = 0;
	for (int i = 0; i < perms; i++)
		eq += a[i] == b[i];
	return perms ? (double)eq / perms : 0;
}

static size_t find(size_t *parent, size_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

static void unite(size_t *parent, size_t a, size_t b)
{
	a = find(parent, a);
	b = find(parent, b);
	if (a == b)
		return;
	/* the smaller index stays the root: the earliest text keeps its place */
	if (a < b)
		parent[b] = a;
	else
		parent[a] = b;
}

struct bk {
	uint64_t h;
	size_t i;
};

static int cmp_bk(const void *x, const void *y)
{
	const struct bk *a = x, *b = y;
	if (a->h != b->h)
		return a->h < b->h ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

int mh_cluster(const struct mh_params *pp, const uint32_t *sigs, size_t n, const unsigned char *skip,
	       size_t *root, float *sim)
{
	struct mh_params p = *pp;
	struct bk *v;
	size_t *parent = root;
	mh_choose_bands(&p);
	for (size_t i = 0; i < n; i++)
		parent[i] = i;
	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return -1;
	for (int band = 0; band < p.bands; band++) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++) {
			const uint32_t *s = sigs + i * (size_t)p.perms + (size_t)band * (size_t)p.rows;
			uint64_t h = 0x9E3779B97F4A7C15ULL * (uint64_t)(band + 1);
			int empty = 1;
			if (skip && skip[i])
				continue;
			for (int r = 0; r < p.rows; r++) {
				h = mix64(h ^ s[r]) + (uint64_t)r;
				empty &= s[r] == UINT32_MAX;
			}
			if (empty)
				continue;  /* no shingles: nothing to compare */
			v[m].h = h;
			v[m].i = i;
			m++;
		}
		qsort(v, m, sizeof(*v), cmp_bk);
		for (size_t j = 0; j < m;) {
			size_t k = j + 1;
			while (k < m && v[k].h == v[j].h)
				k++;
			/* compare each member with the bucket's first (earliest) */
			for (size_t q = j + 1; q < k; q++) {
				const uint32_t *a = sigs + v[j].i * (size_t)p.perms;
				const uint32_t *b = sigs + v[q].i * (size_t)p.perms;
				if (find(parent, v[q].i) == find(parent, v[j].i))
					continue;
				if (mh_similarity(a, b, p.perms) >= p.threshold)
					unite(parent, v[j].i, v[q].i);
			}
			j = k;
		}
	}
	free(v);
	for (size_t i = 0; i < n; i++)
		root[i] = find(parent, i);
	if (sim)
		for (size_t i = 0; i < n; i++)
			sim[i] = root[i] == i ? 1.0f
					      : (float)mh_similarity(sigs + i * (size_t)p.perms,
								     sigs + root[i] * (size_t)p.perms, p.perms);
	return 0;
}
