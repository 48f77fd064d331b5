/* test_agree.c - label/agree on cases worked by hand: a 2x2 Cohen's kappa,
 * Fleiss' kappa (NLTK's multi_kappa) and Krippendorff's alpha with a missing
 * code, perfect agreement, a single category, all missing, spans that
 * overlap and nest, IoU-matched boxes, accuracy and macro-F1, box mAP, and
 * NAN (no crash, no leak) when any one allocation fails.
 * tests/agree_check.py compares the coefficients with scikit-learn and NLTK
 * on random cases. */
#include "testutil.h"

#include <math.h>

#include "core/alloc.h"
#include "label/agree.h"

#define M AGREE_MISSING
#define EPS 1e-12

/* 50 items, yes (1) / no (0): 20 yes-yes, 5 yes-no, 10 no-yes, 15 no-no;
 * po = 0.7, pe = 0.5 * 0.6 + 0.5 * 0.4 = 0.5, kappa = 0.2 / 0.5 = 0.4.
 * A third coder codes a few items; rows where coder 0 or 1 is missing do
 * not count. */
static void cohen_2x2(void **state)
{
	int codes[54 * 3];
	size_t n = 0;
	(void)state;
	for (int i = 0; i < 50; i++, n++) {
		codes[n * 3] = i < 25 ? 1 : 0;
		codes[n * 3 + 1] = i < 20 ? 1 : i < 25 ? 0 : i < 35 ? 1 : 0;
		codes[n * 3 + 2] = i % 7 ? M : 1;
	}
	for (int i = 0; i < 4; i++, n++) {
		codes[n * 3] = i % 2 ? M : 1;
		codes[n * 3 + 1] = i % 2 ? 0 : M;
		codes[n * 3 + 2] = 0;
	}
	assert_float_equal(agree_cohen_kappa(codes, n, 3, 0, 1), 0.4, EPS);
	assert_float_equal(agree_cohen_kappa(codes, n, 3, 1, 0), 0.4, EPS);
}

/* With two coders, Fleiss' (Davies and Fleiss') kappa is Cohen's. */
static void fleiss_two_coders(void **state)
{
	int codes[50 * 2];
	(void)state;
	for (int i = 0; i < 50; i++) {
		codes[i * 2] = i < 25 ? 1 : 0;
		codes[i * 2 + 1] = i < 20 ? 1 : i < 25 ? 0 : i < 35 ? 1 : 0;
	}
	assert_float_equal(agree_fleiss_kappa(codes, 50, 2), 0.4, EPS);
	assert_float_equal(agree_cohen_kappa(codes, 50, 2, 0, 1), 0.4, EPS);
}

/* 3 coders, 4 complete items and one with a missing code (left out):
 *   0 0 0 | 0 0 1 | 1 1 1 | 1 0 1
 * agreeing pairs 3 + 1 + 3 + 1 = 8 of 12: Ao = 2/3; coder counts (0s, 1s):
 * (2, 2), (3, 1), (1, 3), so Ae per pair 8/16, 8/16, 6/16, mean 11/24;
 * kappa = (16/24 - 11/24) / (13/24) = 5/13. */
static void fleiss_three_coders(void **state)
{
	static const int codes[] = { 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 1, 0, M, 0 };
	(void)state;
	assert_float_equal(agree_fleiss_kappa(codes, 5, 3), 5.0 / 13.0, EPS);
}

/* Items (0,0), (0,1), (1,1), (1,-): the last is coded once and does not
 * count.  N = 6 pairable codes, three of each category; Do = 2/6 (only the
 * (0,1) item disagrees: (2^2 - 2) / (2 - 1) = 2); De = (36 - 18) / 30 =
 * 0.6; alpha = 1 - (1/3) / 0.6 = 4/9. */
static void alpha_missing(void **state)
{
	static const int codes[] = { 0, 0, 0, 1, 1, 1, 1, M };
	(void)state;
	assert_float_equal(agree_krippendorff_alpha(codes, 4, 2), 4.0 / 9.0, EPS);
	/* the once-coded item's category does not change alpha */
	static const int other[] = { 0, 0, 0, 1, 1, 1, M, 7 };
	assert_float_equal(agree_krippendorff_alpha(other, 4, 2), 4.0 / 9.0, EPS);
}

static void perfect(void **state)
{
	static const int codes[] = { 2, 2, 2, 5, 5, M, 0, 0, 0, 5, M, 5 };
	(void)state;
	assert_float_equal(agree_cohen_kappa(codes, 4, 3, 0, 1), 1.0, EPS);
	assert_float_equal(agree_cohen_kappa(codes, 4, 3, 0, 2), 1.0, EPS);
	assert_float_equal(agree_fleiss_kappa(codes, 4, 3), 1.0, EPS);
	assert_float_equal(agree_krippendorff_alpha(codes, 4, 3), 1.0, EPS);
}

static void all_missing(void **state)
{
	static const int codes[] = { M, M, M, M, M, M };
	(void)state;
	assert_true(isnan(agree_cohen_kappa(codes, 3, 2, 0, 1)));
	assert_true(isnan(agree_fleiss_kappa(codes, 3, 2)));
	assert_true(isnan(agree_krippendorff_alpha(codes, 3, 2)));
	/* nothing at all, one coder, a coder out of range */
	assert_true(isnan(agree_cohen_kappa(codes, 0, 2, 0, 1)));
	assert_true(isnan(agree_fleiss_kappa(codes, 0, 2)));
	assert_true(isnan(agree_krippendorff_alpha(codes, 0, 2)));
	assert_true(isnan(agree_fleiss_kappa(codes, 3, 1)));
	assert_true(isnan(agree_cohen_kappa(codes, 3, 2, 0, 2)));
	/* each item coded once: alpha has no pair to compare */
	static const int once[] = { 1, M, M, 1, 2, M };
	assert_true(isnan(agree_krippendorff_alpha(once, 3, 2)));
	assert_true(isnan(agree_cohen_kappa(once, 3, 2, 0, 1)));
}

/* One category throughout: kappa's pe (and multi_kappa's Ae) is 1, 0/0;
 * alpha's observed disagreement is 0, and agree.h (as NLTK) says 1. */
static void single_category(void **state)
{
	static const int codes[] = { 3, 3, 3, 3, M, 3, 3, 3 };
	static const int once_other[] = { 3, 3, 3, 3, 9, M };
	(void)state;
	assert_true(isnan(agree_cohen_kappa(codes, 4, 2, 0, 1)));
	assert_true(isnan(agree_fleiss_kappa(codes, 4, 2)));
	assert_float_equal(agree_krippendorff_alpha(codes, 4, 2), 1.0, 0);
	assert_float_equal(agree_krippendorff_alpha(once_other, 3, 2), 1.0, 0);
	/* one category each, but different: po = 0, pe = 0, kappa 0 */
	static const int apart[] = { 1, 2, 1, 2 };
	assert_float_equal(agree_cohen_kappa(apart, 2, 2, 0, 1), 0.0, EPS);
	/* alpha: Do = (2 + 2) / 4 = 1, De = (16 - 8) / 12 = 2/3: -1/2 */
	assert_float_equal(agree_krippendorff_alpha(apart, 2, 2), -0.5, EPS);
}

static void prf_is(struct agree_prf p, size_t tp, size_t fp, size_t fn, double pr, double re,
		   double f1)
{
	assert_int_equal(p.tp, tp);
	assert_int_equal(p.fp, fp);
	assert_int_equal(p.fn, fn);
	assert_float_equal(p.precision, pr, EPS);
	assert_float_equal(p.recall, re, EPS);
	assert_float_equal(p.f1, f1, EPS);
}

static void spans(void **state)
{
	static const struct agree_span a[] = { { 0, 5, 1 }, { 10, 15, 2 } };
	static const struct agree_span b[] = { { 0, 5, 1 }, { 10, 14, 2 }, { 20, 25, 1 } };
	(void)state;
	prf_is(agree_spans(a, 2, b, 3, 0), 1, 2, 1, 1.0 / 3, 0.5, 0.4);
	prf_is(agree_spans(a, 2, b, 3, 1), 2, 1, 0, 2.0 / 3, 1.0, 0.8);
	/* a label differs: no match either way */
	static const struct agree_span c[] = { { 0, 5, 2 } };
	prf_is(agree_spans(a, 1, c, 1, 1), 0, 1, 1, 0, 0, 0);
	/* nested: the outer span goes to the inner span it shares most with */
	static const struct agree_span outer[] = { { 0, 20, 1 } };
	static const struct agree_span inner[] = { { 2, 5, 1 }, { 6, 18, 1 } };
	struct agree_prf p = agree_spans(outer, 1, inner, 2, 1);
	prf_is(p, 1, 1, 0, 0.5, 1.0, 2.0 / 3);
	/* greedy by overlap: b's span overlaps a[0] by 5 and a[1] by 4 */
	static const struct agree_span two[] = { { 0, 10, 1 }, { 8, 20, 1 } };
	static const struct agree_span mid[] = { { 5, 12, 1 } };
	prf_is(agree_spans(two, 2, mid, 1, 1), 1, 0, 1, 1.0, 0.5, 2.0 / 3);
	/* touching spans share no code point; duplicates match once */
	static const struct agree_span touch[] = { { 10, 20, 1 } };
	prf_is(agree_spans(two, 1, touch, 1, 1), 0, 1, 1, 0, 0, 0);
	static const struct agree_span dup[] = { { 0, 5, 1 }, { 0, 5, 1 } };
	prf_is(agree_spans(dup, 2, a, 1, 0), 1, 0, 1, 1.0, 0.5, 2.0 / 3);
	/* an empty span matches exactly, never by overlap; nothing on a side */
	static const struct agree_span empty[] = { { 3, 3, 1 } };
	prf_is(agree_spans(empty, 1, empty, 1, 0), 1, 0, 0, 1, 1, 1);
	prf_is(agree_spans(empty, 1, empty, 1, 1), 0, 1, 1, 0, 0, 0);
	prf_is(agree_spans(a, 2, NULL, 0, 1), 0, 0, 2, 0, 0, 0);
	prf_is(agree_spans(NULL, 0, NULL, 0, 1), 0, 0, 0, 0, 0, 0);
}

static void sums_over_items(void **state)
{
	struct agree_prf sum = { 0, 0, 0, 3, 1, 2 };
	(void)state;
	agree_prf_finish(&sum);
	prf_is(sum, 3, 1, 2, 0.75, 0.6, 6.0 / 9);
	struct agree_prf none = { 0, 0, 0, 0, 0, 0 };
	agree_prf_finish(&none);
	prf_is(none, 0, 0, 0, 0, 0, 0);
}

static void boxes(void **state)
{
	static const struct agree_box a[] = { { 0, 0, 10, 10, 1, 0 }, { 3, 0, 10, 10, 1, 0 } };
	static const struct agree_box b[] = { { 1, 0, 10, 10, 1, 0 } };
	static const struct agree_box half[] = { { 5, 0, 10, 10, 1, 0 } };
	static const struct agree_box other[] = { { 0, 0, 10, 10, 2, 0 } };
	static const struct agree_box far[] = { { 50, 50, 10, 10, 1, 0 } };
	static const struct agree_box flat[] = { { 0, 0, 10, 0, 1, 0 } };
	(void)state;
	assert_float_equal(agree_iou(&a[0], &a[0]), 1.0, EPS);
	assert_float_equal(agree_iou(&a[0], &half[0]), 50.0 / 150, EPS);
	assert_float_equal(agree_iou(&a[0], &b[0]), 90.0 / 110, EPS);
	assert_float_equal(agree_iou(&a[1], &b[0]), 80.0 / 120, EPS);
	assert_float_equal(agree_iou(&a[0], &far[0]), 0, 0);
	assert_float_equal(agree_iou(&flat[0], &flat[0]), 0, 0);
	/* b goes to a[0] (IoU 0.82 over 0.67) */
	prf_is(agree_boxes(a, 2, b, 1, 0.5), 1, 0, 1, 1.0, 0.5, 2.0 / 3);
	prf_is(agree_boxes(&a[1], 1, b, 1, 0.7), 0, 1, 1, 0, 0, 0);
	/* IoU 1/3: no match at 0.5, a match at 0.3 */
	prf_is(agree_boxes(a, 1, half, 1, 0.5), 0, 1, 1, 0, 0, 0);
	prf_is(agree_boxes(a, 1, half, 1, 0.3), 1, 0, 0, 1, 1, 1);
	/* another label, or no overlap even at threshold 0 */
	prf_is(agree_boxes(a, 1, other, 1, 0.5), 0, 1, 1, 0, 0, 0);
	prf_is(agree_boxes(a, 1, far, 1, 0), 0, 1, 1, 0, 0, 0);
}

/* truth 0 0 1 1 2, pred 0 1 1 1 -: accuracy 3/5; F1 per label
 * 0: 2/3 (tp 1, fn 1), 1: 4/5 (tp 2, fp 1), 2: 0 (fn 1): macro 22/45. */
static void classes(void **state)
{
	static const int truth[] = { 0, 0, 1, 1, 2 };
	static const int pred[] = { 0, 1, 1, 1, M };
	(void)state;
	assert_float_equal(agree_accuracy(truth, pred, 5), 0.6, EPS);
	assert_float_equal(agree_macro_f1(truth, pred, 5, 3), 22.0 / 45, EPS);
	/* a label in neither array does not count; n_labels is only a bound */
	assert_float_equal(agree_macro_f1(truth, pred, 5, 10), 22.0 / 45, EPS);
	/* a prediction out of range is no label, as a missing one */
	static const int wild[] = { 0, 1, 1, 1, 42 };
	assert_float_equal(agree_macro_f1(truth, wild, 5, 3), 22.0 / 45, EPS);
	assert_true(isnan(agree_accuracy(truth, pred, 0)));
	assert_true(isnan(agree_macro_f1(truth, pred, 0, 3)));
	assert_true(isnan(agree_macro_f1(truth, pred, 5, 0)));
}

/* Image 0, label 0: reference boxes G1, G2; predictions by score: 0.9 on
 * G1 (TP), 0.8 on nothing (FP), 0.7 on G2 (TP): precision 1, 1/2, 2/3 at
 * recall 1/2, 1/2, 1; made monotone 1, 2/3, 2/3; AP = 1/2 * 1 + 1/2 * 2/3
 * = 5/6.  Image 1, label 1: a reference box and no prediction: AP 0.  A
 * prediction of label 2, which has no reference box, does not count.
 * mAP = (5/6 + 0) / 2 = 5/12. */
static void map_small(void **state)
{
	static const struct agree_box g0[] = { { 0, 0, 10, 10, 0, 0 }, { 20, 0, 10, 10, 0, 0 } };
	static const struct agree_box p0[] = { { 100, 100, 10, 10, 0, 0.8 },
					       { 20, 0, 10, 10, 0, 0.7 },
					       { 0, 0, 10, 10, 0, 0.9 },
					       { 0, 0, 10, 10, 2, 0.99 } };
	static const struct agree_box g1[] = { { 0, 0, 5, 5, 1, 0 } };
	const struct agree_box *gt[] = { g0, g1 }, *pred[] = { p0, NULL };
	size_t n_gt[] = { 2, 1 }, n_pred[] = { 4, 0 };
	(void)state;
	assert_float_equal(agree_box_map(gt, n_gt, pred, n_pred, 1, 0.5), 5.0 / 6, EPS);
	assert_float_equal(agree_box_map(gt, n_gt, pred, n_pred, 2, 0.5), 5.0 / 12, EPS);
	/* no reference box at all */
	size_t zero[] = { 0, 0 };
	assert_true(isnan(agree_box_map(gt, zero, pred, n_pred, 2, 0.5)));
}

/* A second detection of a box already found is a false positive; the best
 * unmatched reference box is taken (COCO), not the best one overall. */
static void map_duplicates(void **state)
{
	static const struct agree_box g[] = { { 0, 0, 10, 10, 0, 0 } };
	static const struct agree_box p[] = { { 1, 0, 10, 10, 0, 0.9 }, { 0, 0, 10, 10, 0, 0.95 } };
	/* G2 right of G1; the later prediction lies best on G1 (taken) but
	 * also on G2 at IoU 0.67 */
	static const struct agree_box g2[] = { { 0, 0, 10, 10, 0, 0 }, { 3, 0, 10, 10, 0, 0 } };
	static const struct agree_box p2[] = { { 0, 0, 10, 10, 0, 0.9 }, { 1, 0, 10, 10, 0, 0.8 } };
	const struct agree_box *gt[] = { g }, *pred[] = { p };
	const struct agree_box *gt2[] = { g2 }, *pred2[] = { p2 };
	size_t n_gt[] = { 1 }, n_pred[] = { 2 }, n_gt2[] = { 2 };
	(void)state;
	/* 0.95 exact: TP at precision 1, recall 1; then an FP: AP 1 */
	assert_float_equal(agree_box_map(gt, n_gt, pred, n_pred, 1, 0.5), 1.0, EPS);
	/* both match: AP 1; with VOC's rule the second would be an FP (AP 1/2) */
	assert_float_equal(agree_box_map(gt2, n_gt2, pred2, n_pred, 1, 0.5), 1.0, EPS);
	/* the ranking puts an unscored prediction last */
	static const struct agree_box p3[] = { { 0, 0, 10, 10, 0, NAN }, { 50, 50, 1, 1, 0, 0.1 } };
	const struct agree_box *pred3[] = { p3 };
	assert_float_equal(agree_box_map(gt, n_gt, pred3, n_pred, 1, 0.5), 0.5, EPS);
}

/* Each allocation in turn fails: the figure is NAN, or the one computed
 * without a failure when the failed allocation was not this function's. */
static void out_of_memory(void **state)
{
	static const int codes[] = { 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 1, 0, M, 0 };
	static const struct agree_span a[] = { { 0, 5, 1 }, { 10, 15, 2 } };
	static const struct agree_box g[] = { { 0, 0, 10, 10, 0, 0 } };
	static const struct agree_box p[] = { { 1, 0, 10, 10, 0, 0.9 } };
	static const int truth[] = { 0, 1 };
	const struct agree_box *gt[] = { g }, *pred[] = { p };
	size_t one[] = { 1 };
	(void)state;
	for (int f = 0; f < 7; f++)
		for (unsigned long nth = 1;; nth++) {
			double v = 0;
			alloc_fail_nth(nth);
			switch (f) {
			case 0: v = agree_cohen_kappa(codes, 5, 3, 0, 2); break;
			case 1: v = agree_fleiss_kappa(codes, 5, 3); break;
			case 2: v = agree_krippendorff_alpha(codes, 5, 3); break;
			case 3: v = agree_spans(a, 2, a, 2, 1).f1; break;
			case 4: v = agree_boxes(g, 1, p, 1, 0.5).f1; break;
			case 5: v = agree_box_map(gt, one, pred, one, 1, 0.5); break;
			case 6: v = agree_macro_f1(truth, truth, 2, 2); break;
			}
			int failed = alloc_failed();
			alloc_fail_nth(0);
			if (!failed) {
				assert_false(isnan(v));
				break;
			}
			assert_true(isnan(v));
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cohen_2x2),
		cmocka_unit_test(fleiss_two_coders),
		cmocka_unit_test(fleiss_three_coders),
		cmocka_unit_test(alpha_missing),
		cmocka_unit_test(perfect),
		cmocka_unit_test(all_missing),
		cmocka_unit_test(single_category),
		cmocka_unit_test(spans),
		cmocka_unit_test(sums_over_items),
		cmocka_unit_test(boxes),
		cmocka_unit_test(classes),
		cmocka_unit_test(map_small),
		cmocka_unit_test(map_duplicates),
		cmocka_unit_test(out_of_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
