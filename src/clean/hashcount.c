/*
 * hashcount.c - the 64-bit hash set with counts of hashcount.h.
 */
#include "hashcount.h"

#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

#define SLOT(key, cap) ((size_t)((key) * 0x9E3779B97F4A7C15ULL) & ((cap) - 1))

static int grow(struct hashcount *h)
{
	size_t nc = h->cap ? h->cap * 2 : 1024;
	uint64_t *nk = calloc(nc, sizeof(*nk));
	uint32_t *nv = calloc(nc, sizeof(*nv));
	if (!nk || !nv) {
		free(nk);
		free(nv);
		return -1;
	}
	for (size_t j = 0; j < h->cap; j++)
		if (h->k[j]) {
			size_t p = SLOT(h->k[j], nc);
			while (nk[p])
				p = (p + 1) & (nc - 1);
			nk[p] = h->k[j];
			nv[p] = h->v[j];
		}
	free(h->k);
	free(h->v);
	h->k = nk;
	h->v = nv;
	h->cap = nc;
	return 0;
}

int hashcount_add(struct hashcount *h, uint64_t key, uint32_t add)
{
	size_t i;
	if (key == 0)
		key = 1;
	if ((h->n + 1) * 2 > h->cap && grow(h) < 0)
		return -1;
	i = SLOT(key, h->cap);
	while (h->k[i] && h->k[i] != key)
		i = (i + 1) & (h->cap - 1);
	if (!h->k[i]) {
		h->k[i] = key;
		h->n++;
	}
	h->v[i] += add;
	return 0;
}

uint32_t hashcount_get(const struct hashcount *h, uint64_t key)
{
	size_t i;
	if (!h->cap)
		return 0;
	if (key == 0)
		key = 1;
	i = SLOT(key, h->cap);
	while (h->k[i]) {
		if (h->k[i] == key)
			return h->v[i];
		i = (i + 1) & (h->cap - 1);
	}
	return 0;
}

void hashcount_release(struct hashcount *h)
{
	free(h->k);
	free(h->v);
	memset(h, 0, sizeof(*h));
}
