/*
 * boilerplate.c - lines repeated across many documents (headers, footers,
 * disclaimers): every document's elements are normalised, each distinct line
 * of up to boiler_max_chars bytes is counted once per document, and a line
 * found in at least boiler_min_docs documents and boiler_share of them is
 * boilerplate, which normalisation then removes.
 *
 * Not for: removing the lines (normalize.c, norm_drop_lines) or lines within
 * one document (filters.c counts those).
 */
#include "stage_int.h"
#include "../core/hash.h"

#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

#define BATCH 256

int clean_is_boilerplate(const void *ctx, uint64_t h)
{
	return hashcount_get(ctx, h) != 0;
}

/* Counts the distinct lines of one element in mine, and those new to the
 * document in df; -1 with e set on failure. */
static int count_element(const struct clean_opts *o, const struct clean_el_in *el,
			 struct hashcount *mine, struct hashcount *df, struct moat_err *e)
{
	struct norm nm;
	const char *t;
	int rc = 0;
	norm_init(&nm);
	if (norm_text(&nm, el->text, el->len, NORM_ALL, e) < 0) {
		norm_release(&nm);
		return -1;
	}
	t = buf_str(&nm.text);
	for (size_t p = 0; p < nm.text.len && rc == 0;) {
		const char *nl = memchr(t + p, '\n', nm.text.len - p);
		size_t le = nl ? (size_t)(nl - t) : nm.text.len;
		if (le > p && le - p <= (size_t)o->boiler_max_chars) {
			uint64_t h = norm_line_hash(t + p, le - p);
			if (!hashcount_get(mine, h) &&
			    (hashcount_add(mine, h, 1) < 0 || hashcount_add(df, h, 1) < 0))
				rc = err_set(e, MOAT_ENOMEM, "out of memory");
		}
		p = le + 1;
	}
	norm_release(&nm);
	return rc;
}

int clean_find_boilerplate(struct clean_ctx *c, struct store *s, int64_t *lines, struct moat_err *e)
{
	struct hashcount df = HASHCOUNT_INIT;
	int64_t after = 0, ndocs = 0;
	uint32_t need;
	int rc = 0;
	for (;;) {
		struct clean_doc_in *d;
		size_t n;
		if (clean_store_load_docs(s, after, BATCH, clean_batch_bytes(c->o), NULL, &d, &n, e) < 0) {
			hashcount_release(&df);
			return -1;
		}
		if (n == 0) {
			free(d);
			break;
		}
		for (size_t i = 0; i < n && rc == 0; i++) {
			struct hashcount mine = HASHCOUNT_INIT;
			for (size_t j = 0; j < d[i].n_el && rc == 0; j++)
				rc = count_element(c->o, &d[i].el[j], &mine, &df, e);
			hashcount_release(&mine);
		}
		ndocs += (int64_t)n;
		after = d[n - 1].rowid;
		clean_store_free_docs(d, n);
		if (rc < 0) {
			hashcount_release(&df);
			return -1;
		}
	}
	need = (uint32_t)(c->o->boiler_share * (double)ndocs + 0.999);
	if (need < (uint32_t)c->o->boiler_min_docs)
		need = (uint32_t)c->o->boiler_min_docs;
	for (size_t i = 0; i < df.cap; i++)
		if (df.k[i] && df.v[i] >= need && hashcount_add(&c->boiler, df.k[i], 1) < 0) {
			hashcount_release(&df);
			return err_set(e, MOAT_ENOMEM, "out of memory");
		}
	*lines = (int64_t)c->boiler.n;
	hashcount_release(&df);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int clean_boilerplate_digest(const struct hashcount *boiler, char hex[65], struct moat_err *e)
{
	struct sha256 h;
	unsigned char d[SHA256_LEN];
	uint64_t *keys = malloc((boiler->n ? boiler->n : 1) * sizeof(uint64_t));
	size_t k = 0;
	if (!keys || sha256_init(&h) < 0) {
		free(keys);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < boiler->cap; i++)
		if (boiler->k[i])
			keys[k++] = boiler->k[i];
	qsort(keys, k, sizeof(*keys), cmp_u64);
	sha256_update(&h, keys, k * sizeof(uint64_t));
	sha256_final(&h, d);
	hex_encode(d, SHA256_LEN, hex);
	free(keys);
	return 0;
}
