/*
 * agree.c - agreement and evaluation figures (see agree.h).
 *
 * Categories are mapped to 0..k-1 through a sorted copy of the codes, so a
 * large code costs nothing; counts are held in doubles, exact for any count
 * below 2^53, so the degenerate cases (expected agreement 1) are found by
 * comparing integers, not by a tolerance.
 */
#include "agree.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/banned.h"

static int cmp_int(const void *pa, const void *pb)
{
	int a = *(const int *)pa, b = *(const int *)pb;
	return (a > b) - (a < b);
}

/* The distinct codes (>= 0) among v[0..n-1], sorted, in a malloc'd array;
 * *nk their number.  NULL when out of memory (or n is 0: *nk is then 0). */
static int *distinct(const int *v, size_t n, size_t *nk)
{
	int *k;
	size_t m = 0, u = 0;
	*nk = 0;
	if (n == 0 || !(k = malloc(n * sizeof(*k))))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (v[i] >= 0)
			k[m++] = v[i];
	qsort(k, m, sizeof(*k), cmp_int);
	for (size_t i = 0; i < m; i++)
		if (u == 0 || k[u - 1] != k[i])
			k[u++] = k[i];
	*nk = u;
	return k;
}

/* Index of code c in the sorted distinct codes k[0..nk-1] (c is there). */
static size_t index_of(const int *k, size_t nk, int c)
{
	size_t lo = 0, hi = nk;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (k[mid] <= c)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int cells(size_t n_items, size_t n_coders, size_t *n)
{
	if (n_coders != 0 && n_items > SIZE_MAX / sizeof(int) / n_coders)
		return -1;
	*n = n_items * n_coders;
	return 0;
}

double agree_cohen_kappa(const int *codes, size_t n_items, size_t n_coders, size_t a, size_t b)
{
	size_t total, n = 0;
	int *pair;
	double ret;
	if (a >= n_coders || b >= n_coders || cells(n_items, 2, &total) < 0)
		return NAN;
	if (!(pair = malloc((total ? total : 1) * sizeof(*pair))))
		return NAN;
	for (size_t i = 0; i < n_items; i++) {
		int ca = codes[i * n_coders + a], cb = codes[i * n_coders + b];
		if (ca >= 0 && cb >= 0) {
			pair[2 * n] = ca;
			pair[2 * n + 1] = cb;
			n++;
		}
	}
	/* two coders' multi_kappa is Cohen's: one pair, each coder's own
	 * frequencies */
	ret = agree_fleiss_kappa(pair, n, 2);
	free(pair);
	return ret;
}

double agree_fleiss_kappa(const int *codes, size_t n_items, size_t n_coders)
{
	size_t total, nk, n = 0;
	int *k;
	double *t, *s, *c, agree_pairs = 0, ae_pairs = 0, pairs, ao, ae, ret = NAN;
	if (n_coders < 2 || cells(n_items, n_coders, &total) < 0 || total == 0)
		return NAN;
	if (!(k = distinct(codes, total, &nk)))
		return NAN;
	/* per category: its codes over complete items (t), the sum over coders
	 * of the square of each coder's count (s), and each coder's count (c) */
	t = calloc(nk, sizeof(*t));
	s = calloc(nk, sizeof(*s));
	c = nk <= SIZE_MAX / sizeof(*c) / n_coders ? calloc(nk * n_coders, sizeof(*c)) : NULL;
	if (!t || !s || !c)
		goto out;
	for (size_t i = 0; i < n_items; i++) {
		const int *row = codes + i * n_coders;
		size_t m = 0;
		while (m < n_coders && row[m] >= 0)
			m++;
		if (m < n_coders)
			continue;
		n++;
		/* agreeing coder pairs on this item */
		for (size_t x = 0; x < n_coders; x++)
			for (size_t y = x + 1; y < n_coders; y++)
				agree_pairs += row[x] == row[y];
		for (size_t x = 0; x < n_coders; x++)
			c[index_of(k, nk, row[x]) * n_coders + x]++;
	}
	if (n == 0)
		goto out;
	/* sum over coder pairs of sum_k N_ak N_bk = sum_k (T_k^2 - S_k) / 2 */
	for (size_t j = 0; j < nk; j++) {
		for (size_t x = 0; x < n_coders; x++) {
			t[j] += c[j * n_coders + x];
			s[j] += c[j * n_coders + x] * c[j * n_coders + x];
		}
		ae_pairs += (t[j] * t[j] - s[j]) / 2;
	}
	pairs = (double)n_coders * (double)(n_coders - 1) / 2;
	if (ae_pairs == pairs * (double)n * (double)n)
		goto out; /* every coder used one and the same category: Ae = 1 */
	ao = agree_pairs / (pairs * (double)n);
	ae = ae_pairs / (pairs * (double)n * (double)n);
	ret = (ao - ae) / (1.0 - ae);
out:
	free(c);
	free(s);
	free(t);
	free(k);
	return ret;
}

double agree_krippendorff_alpha(const int *codes, size_t n_items, size_t n_coders)
{
	size_t total, nk;
	int *k;
	double *item, *all, big_n = 0, do_sum = 0, sq = 0, ret = NAN;
	if (cells(n_items, n_coders, &total) < 0 || total == 0)
		return NAN;
	if (!(k = distinct(codes, total, &nk)))
		return NAN;
	item = calloc(nk ? nk : 1, sizeof(*item));
	all = calloc(nk ? nk : 1, sizeof(*all));
	if (!item || !all || nk == 0)
		goto out;
	for (size_t i = 0; i < n_items; i++) {
		const int *row = codes + i * n_coders;
		double m = 0, q = 0;
		for (size_t x = 0; x < n_coders; x++)
			if (row[x] >= 0) {
				item[index_of(k, nk, row[x])]++;
				m++;
			}
		for (size_t x = 0; x < n_coders; x++)
			if (row[x] >= 0) {
				size_t j = index_of(k, nk, row[x]);
				if (m >= 2) {
					all[j] += item[j];
					q += item[j] * item[j];
				}
				item[j] = 0;
			}
		if (m < 2)
			continue; /* not pairable: as NLTK, the item does not count */
		/* NLTK: Disagreement(item) * m = (m^2 - sum n_k^2) / (m (m - 1)) * m */
		do_sum += (m * m - q) / (m - 1);
		big_n += m;
	}
	if (big_n == 0)
		goto out; /* no item coded twice */
	for (size_t j = 0; j < nk; j++)
		sq += all[j] * all[j];
	if (sq == big_n * big_n) {
		ret = 1.0; /* one category among the pairable codes: De = 0 */
		goto out;
	}
	ret = 1.0 - (do_sum / big_n) / ((big_n * big_n - sq) / (big_n * (big_n - 1)));
out:
	free(all);
	free(item);
	free(k);
	return ret;
}

/* A candidate match for the greedy matcher: a[i] with b[j], by how good. */
struct cand {
	double score;
	size_t i, j;
};

static int cmp_cand(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	if (a->score != b->score)
		return a->score < b->score ? 1 : -1;
	if (a->i != b->i)
		return a->i < b->i ? -1 : 1;
	return (a->j > b->j) - (a->j < b->j);
}

/* How well x matches y (> 0), or 0 when they do not match at all. */
typedef double match_fn(const void *x, const void *y, const void *arg);

/* Matches the na elements of a (size sa each) with the nb of b one to one,
 * greedily, best first (ties: earlier in a, then in b). */
static struct agree_prf match_greedy(const void *a, size_t na, size_t sa, const void *b,
				     size_t nb, size_t sb, match_fn *fn, const void *arg)
{
	struct agree_prf p = { NAN, NAN, NAN, 0, 0, 0 };
	struct cand *cand = NULL;
	unsigned char *ua = NULL, *ub = NULL;
	size_t nc = 0, tp = 0;
	if (na && nb) {
		if (na > SIZE_MAX / sizeof(*cand) / nb)
			return p;
		cand = malloc(na * nb * sizeof(*cand));
		ua = calloc(na, 1);
		ub = calloc(nb, 1);
		if (!cand || !ua || !ub)
			goto out;
	}
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++) {
			double v = fn((const char *)a + i * sa, (const char *)b + j * sb, arg);
			if (v > 0)
				cand[nc++] = (struct cand){ v, i, j };
		}
	if (nc)
		qsort(cand, nc, sizeof(*cand), cmp_cand);
	for (size_t c = 0; c < nc; c++)
		if (!ua[cand[c].i] && !ub[cand[c].j]) {
			ua[cand[c].i] = ub[cand[c].j] = 1;
			tp++;
		}
	p.tp = tp;
	p.fp = nb - tp;
	p.fn = na - tp;
	agree_prf_finish(&p);
out:
	free(ub);
	free(ua);
	free(cand);
	return p;
}

static double span_match(const void *x, const void *y, const void *arg)
{
	const struct agree_span *a = x, *b = y;
	size_t lo, hi;
	if (a->label != b->label)
		return 0;
	if (!*(const int *)arg)
		return a->start == b->start && a->end == b->end;
	lo = a->start > b->start ? a->start : b->start;
	hi = a->end < b->end ? a->end : b->end;
	return hi > lo ? (double)(hi - lo) : 0;
}

struct agree_prf agree_spans(const struct agree_span *a, size_t na, const struct agree_span *b,
			     size_t nb, int overlap)
{
	return match_greedy(a, na, sizeof(*a), b, nb, sizeof(*b), span_match, &overlap);
}

double agree_iou(const struct agree_box *a, const struct agree_box *b)
{
	double x0 = fmax(a->x, b->x), y0 = fmax(a->y, b->y);
	double x1 = fmin(a->x + a->w, b->x + b->w), y1 = fmin(a->y + a->h, b->y + b->h);
	double inter = x1 > x0 && y1 > y0 ? (x1 - x0) * (y1 - y0) : 0;
	double uni = fmax(a->w, 0) * fmax(a->h, 0) + fmax(b->w, 0) * fmax(b->h, 0) - inter;
	return uni > 0 ? inter / uni : 0;
}

static double box_match(const void *x, const void *y, const void *arg)
{
	const struct agree_box *a = x, *b = y;
	double v;
	if (a->label != b->label)
		return 0;
	v = agree_iou(a, b);
	return v >= *(const double *)arg ? v : 0;
}

struct agree_prf agree_boxes(const struct agree_box *a, size_t na, const struct agree_box *b,
			     size_t nb, double iou)
{
	return match_greedy(a, na, sizeof(*a), b, nb, sizeof(*b), box_match, &iou);
}

void agree_prf_finish(struct agree_prf *p)
{
	double tp = (double)p->tp, fp = (double)p->fp, fn = (double)p->fn;
	p->precision = tp + fp > 0 ? tp / (tp + fp) : 0;
	p->recall = tp + fn > 0 ? tp / (tp + fn) : 0;
	p->f1 = tp > 0 ? 2 * tp / (2 * tp + fp + fn) : 0;
}

double agree_accuracy(const int *truth, const int *pred, size_t n)
{
	size_t right = 0;
	if (n == 0)
		return NAN;
	for (size_t i = 0; i < n; i++)
		right += pred[i] != AGREE_MISSING && pred[i] == truth[i];
	return (double)right / (double)n;
}

double agree_macro_f1(const int *truth, const int *pred, size_t n, int n_labels)
{
	size_t *tp, *fp, *fn, used = 0;
	double sum = 0;
	if (n_labels <= 0)
		return NAN;
	tp = calloc((size_t)n_labels, sizeof(*tp));
	fp = calloc((size_t)n_labels, sizeof(*fp));
	fn = calloc((size_t)n_labels, sizeof(*fn));
	if (!tp || !fp || !fn) {
		free(tp);
		free(fp);
		free(fn);
		return NAN;
	}
	for (size_t i = 0; i < n; i++) {
		int t = truth[i] >= 0 && truth[i] < n_labels ? truth[i] : -1;
		int p = pred[i] >= 0 && pred[i] < n_labels ? pred[i] : -1;
		if (t >= 0 && t == p) {
			tp[t]++;
			continue;
		}
		if (t >= 0)
			fn[t]++;
		if (p >= 0)
			fp[p]++;
	}
	for (int l = 0; l < n_labels; l++) {
		if (tp[l] + fp[l] + fn[l] == 0)
			continue; /* in neither truth nor pred */
		used++;
		sum += 2.0 * (double)tp[l] / (2.0 * (double)tp[l] + (double)fp[l] + (double)fn[l]);
	}
	free(tp);
	free(fp);
	free(fn);
	return used ? sum / (double)used : NAN;
}

/* A prediction in the ranking for one label's AP. */
struct ranked {
	double score;
	size_t image, index;
};

static int cmp_ranked(const void *pa, const void *pb)
{
	const struct ranked *a = pa, *b = pb;
	int na = isnan(a->score), nb = isnan(b->score);
	if (na != nb)
		return na - nb; /* no score ranks last */
	if (!na && a->score != b->score)
		return a->score < b->score ? 1 : -1;
	if (a->image != b->image)
		return a->image < b->image ? -1 : 1;
	return (a->index > b->index) - (a->index < b->index);
}

/* AP of one label: predictions r[0..nr-1] ranked, n_ref reference boxes;
 * used[] flags the reference boxes (off[image] + index) already matched. */
static double average_precision(const struct ranked *r, size_t nr, size_t n_ref, int label,
				const struct agree_box *const *gt, const size_t *n_gt,
				const struct agree_box *const *pred, const size_t *off,
				unsigned char *used, double *prec, double *rec, double iou)
{
	size_t tp = 0;
	double ap = 0;
	for (size_t q = 0; q < nr; q++) {
		const struct agree_box *p = &pred[r[q].image][r[q].index];
		size_t im = r[q].image, best = SIZE_MAX;
		double best_iou = 0;
		/* COCO: the unmatched reference box of the label with the best
		 * IoU at or above the threshold */
		for (size_t g = 0; g < n_gt[im]; g++) {
			double v;
			if (gt[im][g].label != label || used[off[im] + g])
				continue;
			v = agree_iou(p, &gt[im][g]);
			if (v > 0 && v >= iou && (best == SIZE_MAX || v > best_iou)) {
				best = g;
				best_iou = v;
			}
		}
		if (best != SIZE_MAX) {
			used[off[im] + best] = 1;
			tp++;
		}
		prec[q] = (double)tp / (double)(q + 1);
		rec[q] = (double)tp / (double)n_ref;
	}
	/* all-point interpolation (VOC2010+): precision made monotone from the
	 * right, summed over the steps in recall */
	for (size_t q = nr; q-- > 1;)
		if (prec[q] > prec[q - 1])
			prec[q - 1] = prec[q];
	for (size_t q = 0; q < nr; q++)
		ap += (rec[q] - (q ? rec[q - 1] : 0)) * prec[q];
	return ap;
}

double agree_box_map(const struct agree_box *const *gt, const size_t *n_gt,
		     const struct agree_box *const *pred, const size_t *n_pred, size_t n_images,
		     double iou)
{
	size_t all_gt = 0, all_pred = 0, nl = 0, *off = NULL;
	int *labels = NULL;
	unsigned char *used = NULL;
	struct ranked *r = NULL;
	double *prec = NULL, *rec = NULL, sum = 0, ret = NAN;
	for (size_t im = 0; im < n_images; im++) {
		all_gt += n_gt[im];
		all_pred += n_pred[im];
	}
	if (all_gt == 0)
		return NAN;
	off = malloc((n_images ? n_images : 1) * sizeof(*off));
	labels = malloc(all_gt * sizeof(*labels));
	used = calloc(all_gt, 1);
	r = malloc((all_pred ? all_pred : 1) * sizeof(*r));
	prec = malloc((all_pred ? all_pred : 1) * sizeof(*prec));
	rec = malloc((all_pred ? all_pred : 1) * sizeof(*rec));
	if (!off || !labels || !used || !r || !prec || !rec)
		goto out;
	for (size_t im = 0, o = 0; im < n_images; im++) {
		off[im] = o;
		for (size_t g = 0; g < n_gt[im]; g++)
			labels[o++] = gt[im][g].label;
	}
	qsort(labels, all_gt, sizeof(*labels), cmp_int);
	for (size_t i = 0; i < all_gt; i++)
		if (nl == 0 || labels[nl - 1] != labels[i])
			labels[nl++] = labels[i];
	for (size_t l = 0; l < nl; l++) {
		size_t nr = 0, n_ref = 0;
		for (size_t im = 0; im < n_images; im++) {
			for (size_t g = 0; g < n_gt[im]; g++)
				n_ref += gt[im][g].label == labels[l];
			for (size_t p = 0; p < n_pred[im]; p++)
				if (pred[im][p].label == labels[l])
					r[nr++] = (struct ranked){ pred[im][p].score, im, p };
		}
		qsort(r, nr, sizeof(*r), cmp_ranked);
		sum += average_precision(r, nr, n_ref, labels[l], gt, n_gt, pred, off, used, prec,
					 rec, iou);
	}
	ret = sum / (double)nl;
out:
	free(rec);
	free(prec);
	free(r);
	free(used);
	free(labels);
	free(off);
	return ret;
}
