/*
 * split.c - grouped, stratified, deterministic splits (see split.h): the
 * ratios' parser, and the greedy placement of groups, largest first, by
 * integer arithmetic on scaled targets.
 *
 * Not for: anything about files or the workspace.  Uses core/ (err, fmt,
 * hash, buf) and libc.
 */
#include "split.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../core/buf.h"
#include "../core/fmt.h"
#include "../core/hash.h"

#include "../core/banned.h"

/* Products of counts and weights can pass 2^63 on huge inputs. */
__extension__ typedef __int128 i128;

#define SPLIT_MAX_DECIMALS 6

static const char *const split_names[SPLIT_MAX + 1][SPLIT_MAX] = {
	{ NULL, NULL, NULL },
	{ "train", NULL, NULL },
	{ "train", "test", NULL },
	{ "train", "val", "test" },
};

static uint64_t pow10u(int d)
{
	uint64_t p = 1;
	while (d-- > 0)
		p *= 10;
	return p;
}

/* v in units of 10^-d as text, into dst. */
static int fmt_fixed(char *dst, size_t size, uint64_t v, int d)
{
	uint64_t s = pow10u(d);
	if (d == 0)
		return xsnprintf(dst, size, "%" PRIu64, v);
	return xsnprintf(dst, size, "%" PRIu64 ".%0*" PRIu64, v / s, d, v % s);
}

int split_parse(const char *text, struct split_ratios *r, struct moat_err *e)
{
	uint64_t ip[SPLIT_MAX], fp[SPLIT_MAX], scale, sum = 0;
	int fd[SPLIT_MAX], dmax = 0;
	size_t n = 0;
	const char *p = text ? text : "";
	char sumtxt[64];

	memset(r, 0, sizeof(*r));
	for (;;) {
		uint64_t v = 0, f = 0;
		int d = 0, digits = 0;
		if (n == SPLIT_MAX)
			return err_set(e, MOAT_EUSAGE, "split '%s': more than %d parts", text ? text : "",
				       SPLIT_MAX);
		for (; *p >= '0' && *p <= '9'; p++, digits++) {
			v = v * 10 + (uint64_t)(*p - '0');
			if (v > 100)
				return err_set(e, MOAT_EUSAGE, "split '%s': a part is over 100", text);
		}
		if (*p == '.') {
			for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
				if (d == SPLIT_MAX_DECIMALS)
					return err_set(e, MOAT_EUSAGE,
						       "split '%s': more than %d decimal places", text,
						       SPLIT_MAX_DECIMALS);
				f = f * 10 + (uint64_t)(*p - '0');
				d++;
			}
		}
		if (!digits)
			return err_set(e, MOAT_EUSAGE,
				       "split '%s': expected a number at '%s' (ratios such as 80/10/10)",
				       text ? text : "", p);
		ip[n] = v;
		fp[n] = f;
		fd[n] = d;
		if (d > dmax)
			dmax = d;
		n++;
		if (*p == '/') {
			p++;
			continue;
		}
		if (*p)
			return err_set(e, MOAT_EUSAGE,
				       "split '%s': unexpected '%c' (ratios such as 80/10/10)", text, *p);
		break;
	}
	scale = pow10u(dmax);
	for (size_t i = 0; i < n; i++) {
		r->w[i] = ip[i] * scale + fp[i] * pow10u(dmax - fd[i]);
		sum += r->w[i];
	}
	if (sum != 100 * scale && sum != scale) {
		if (fmt_fixed(sumtxt, sizeof(sumtxt), sum, dmax) < 0)
			sumtxt[0] = '\0';
		return err_set(e, MOAT_EUSAGE, "split '%s': the parts add up to %s, not 100 (or 1)",
			       text, sumtxt);
	}
	r->n = n;
	r->decimals = dmax;
	for (size_t i = 0; i < n; i++)
		r->name[i] = split_names[n][i];
	return 0;
}

int split_format(const struct split_ratios *r, char *dst, size_t size)
{
	size_t len = 0;
	if (!size)
		return -1;
	dst[0] = '\0';
	for (size_t i = 0; i < r->n; i++) {
		int m;
		if (i) {
			if (len + 2 > size)
				return -1;
			dst[len++] = '/';
			dst[len] = '\0';
		}
		m = fmt_fixed(dst + len, size - len, r->w[i], r->decimals);
		if (m < 0)
			return -1;
		len += (size_t)m;
	}
	return (int)len;
}

/* --- assignment ------------------------------------------------------------ */

struct sitem {
	uint64_t rank;       /* the first 8 bytes of SHA-256(seed, 0, key) */
	const char *key;
	size_t idx;
};

struct group {
	uint64_t rank;
	const char *key;
	size_t start, size;  /* a run of the sorted items */
	size_t pairs, npairs; /* its (label, count) pairs */
};

struct lpair {
	size_t label, count;
};

static int cmp_sitem(const void *a, const void *b)
{
	const struct sitem *x = a, *y = b;
	int c;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if ((c = strcmp(x->key, y->key)))
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cmp_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return strcmp(x->key, y->key);
}

struct litem {
	const char *label;
	size_t idx;
};

static int cmp_label(const void *a, const void *b)
{
	const char *x = ((const struct litem *)a)->label, *y = ((const struct litem *)b)->label;
	if (!x || !y)
		return (x != NULL) - (y != NULL);
	return strcmp(x, y);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* Label ids: 0.. in label order, the unlabelled stratum first. */
static int label_ids(const struct split_item *items, size_t n, size_t *lid, size_t *nl)
{
	struct litem *p = malloc((n ? n : 1) * sizeof(*p));
	size_t id = 0;
	if (!p)
		return -1;
	for (size_t i = 0; i < n; i++) {
		p[i].label = items[i].label;
		p[i].idx = i;
	}
	qsort(p, n, sizeof(*p), cmp_label);
	for (size_t i = 0; i < n; i++) {
		if (i && cmp_label(&p[i - 1], &p[i]))
			id++;
		lid[p[i].idx] = id;
	}
	*nl = n ? id + 1 : 0;
	free(p);
	return 0;
}

static uint64_t rank_of(struct buf *scratch, const char *seed, const char *key)
{
	unsigned char d[SHA256_LEN];
	uint64_t v = 0;
	buf_reset(scratch);
	buf_adds(scratch, seed);
	buf_addch(scratch, '\0');
	buf_adds(scratch, key);
	sha256_mem(scratch->data, scratch->len, d);
	for (int i = 0; i < 8; i++)
		v = v << 8 | d[i];
	return v;
}

int split_assign(const struct split_item *items, size_t n, const struct split_ratios *r,
		 const char *seed, unsigned char *out, struct moat_err *e)
{
	struct sitem *si = NULL;
	struct group *g = NULL;
	struct lpair *pairs = NULL;
	size_t *lid = NULL, *tmp = NULL, *total = NULL, *cur = NULL;
	size_t ng = 0, np = 0, nl = 0, k = r->n, maxg = 0;
	struct buf scratch = BUF_INIT;
	uint64_t wsum = 0;
	int rc = -1;

	if (k < 1 || k > SPLIT_MAX)
		return err_set(e, MOAT_EUSAGE, "split: %zu parts (1 to %d)", k, SPLIT_MAX);
	for (size_t s = 0; s < k; s++)
		wsum += r->w[s];
	if (!wsum)
		return err_set(e, MOAT_EUSAGE, "split: every part is 0");
	if (!n)
		return 0;
	if (!seed)
		seed = "";

	si = malloc(n * sizeof(*si));
	lid = malloc(n * sizeof(*lid));
	g = malloc(n * sizeof(*g));
	pairs = malloc(n * sizeof(*pairs));
	if (!si || !lid || !g || !pairs)
		goto nomem;

	/* Rank every item by its group key; a run of equal keys (the common
	 * case: a document's items together) is hashed once. */
	for (size_t i = 0; i < n; i++) {
		const char *key = items[i].group ? items[i].group : items[i].id;
		if (!key) {
			err_set(e, MOAT_EUSAGE, "split: item %zu has neither a group nor an id", i);
			goto out;
		}
		si[i].key = key;
		si[i].idx = i;
		if (i && !strcmp(key, si[i - 1].key))
			si[i].rank = si[i - 1].rank;
		else
			si[i].rank = rank_of(&scratch, seed, key);
		if (buf_failed(&scratch))
			goto nomem;
	}
	qsort(si, n, sizeof(*si), cmp_sitem);
	if (label_ids(items, n, lid, &nl) < 0)
		goto nomem;

	/* Groups, each with its labels' counts. */
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && si[j].rank == si[i].rank && !strcmp(si[j].key, si[i].key))
			j++;
		g[ng].rank = si[i].rank;
		g[ng].key = si[i].key;
		g[ng].start = i;
		g[ng].size = j - i;
		if (j - i > maxg)
			maxg = j - i;
		ng++;
		i = j;
	}
	tmp = malloc(maxg * sizeof(*tmp));
	total = calloc(nl, sizeof(*total));
	cur = calloc(nl * k, sizeof(*cur));
	if (!tmp || !total || !cur)
		goto nomem;
	for (size_t x = 0; x < ng; x++) {
		size_t m = g[x].size;
		for (size_t j = 0; j < m; j++)
			tmp[j] = lid[si[g[x].start + j].idx];
		if (m > 1)
			qsort(tmp, m, sizeof(*tmp), cmp_size);
		g[x].pairs = np;
		for (size_t j = 0; j < m; j++) {
			if (j && tmp[j] == tmp[j - 1]) {
				pairs[np - 1].count++;
			} else {
				pairs[np].label = tmp[j];
				pairs[np].count = 1;
				np++;
			}
			total[tmp[j]]++;
		}
		g[x].npairs = np - g[x].pairs;
	}

	/* Largest groups first, so that single items come last and fill what
	 * the groups left below each target. */
	qsort(g, ng, sizeof(*g), cmp_group);
	for (size_t x = 0; x < ng; x++) {
		const struct lpair *pr = pairs + g[x].pairs;
		i128 best_over = 0, best_need = 0;
		size_t best = k;
		for (size_t s = 0; s < k; s++) {
			i128 over = 0, need = 0;
			if (!r->w[s])
				continue;
			for (size_t q = 0; q < g[x].npairs; q++) {
				/* in units of 1/W records: target, have, have after */
				i128 t = (i128)total[pr[q].label] * r->w[s];
				i128 h = (i128)cur[pr[q].label * k + s] * wsum;
				i128 a = h + (i128)pr[q].count * wsum;
				over += (a > t ? a - t : 0) - (h > t ? h - t : 0);
				need += (i128)pr[q].count * (t - h);
			}
			if (best == k || over < best_over || (over == best_over && need > best_need)) {
				best = s;
				best_over = over;
				best_need = need;
			}
		}
		for (size_t q = 0; q < g[x].npairs; q++)
			cur[pr[q].label * k + best] += pr[q].count;
		for (size_t j = 0; j < g[x].size; j++)
			out[si[g[x].start + j].idx] = (unsigned char)best;
	}
	rc = 0;
	goto out;
nomem:
	err_set(e, MOAT_ENOMEM, "out of memory");
out:
	buf_release(&scratch);
	free(si);
	free(lid);
	free(g);
	free(pairs);
	free(tmp);
	free(total);
	free(cur);
	return rc;
}
