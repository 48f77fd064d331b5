/*
 * agree.h - the label stage's numbers: agreement between annotators (Cohen's
 * kappa, Fleiss' kappa, Krippendorff's alpha for nominal data with missing
 * values, span F1 and IoU-matched box F1 between two annotators) and the
 * scores of a model's suggestions against accepted labels (accuracy and
 * macro-F1 for classes, span precision/recall/F1 exact and overlapping, box
 * mAP at IoU 0.5).
 *
 * Not for: reading annotations or deciding which to compare (label.c and
 * eval.c gather them from the store); these are pure functions over arrays.
 *
 * Conventions: items are 0..n_items-1, coders 0..n_coders-1, categories are
 * small non-negative ints; AGREE_MISSING (any negative code) marks a coder
 * who did not code an item.  Every function returns its figure, or NAN when
 * it is undefined for the data given (no item coded twice, a single category
 * throughout where the formula divides by zero; the docs say which) or when
 * memory runs out, never crashes on degenerate input, keeps no pointer it is
 * given, and allocates nothing it does not free.  The formulas follow
 * scikit-learn's cohen_kappa_score, accuracy_score and f1_score and NLTK's
 * nltk.metrics.agreement.AnnotationTask (kappa_pairwise, multi_kappa,
 * alpha), which tests/agree_check.py compares against to 1e-9 on random
 * cases.  NLTK's AnnotationTask assumes every coder coded every item (it
 * raises otherwise, or divides by the number of all items); the functions
 * here say which items they use instead.
 */
#ifndef MOAT_LABEL_AGREE_H
#define MOAT_LABEL_AGREE_H

#include <stddef.h>

#define AGREE_MISSING (-1)

/* codes is n_items x n_coders, row-major: codes[i * n_coders + c] is coder
 * c's category for item i, or AGREE_MISSING. */

/* Cohen's kappa between coders a and b over the items both coded:
 * (po - pe) / (1 - pe), pe from each coder's own category frequencies
 * (sklearn's cohen_kappa_score on those items, and NLTK's kappa_pairwise on
 * a task of those items; NLTK's kappa() is the mean of this over all coder
 * pairs).  NAN when no item is coded by both, when a or b is not a coder,
 * and when both used one and the same category throughout (pe = 1: sklearn
 * gives nan, NLTK divides by zero). */
double agree_cohen_kappa(const int *codes, size_t n_items, size_t n_coders, size_t a, size_t b);

/* Fleiss' kappa as NLTK's AnnotationTask.multi_kappa (Davies and Fleiss
 * 1982): (Ao - Ae) / (1 - Ae) where Ao and Ae are the observed and expected
 * agreement averaged over all coder pairs, Ae of a pair from each coder's
 * own category frequencies (Cohen's, not Fleiss' 1971 pooled frequencies,
 * which is NLTK's pi()).  Over the items every coder coded; other items are
 * left out.  With two coders it is Cohen's kappa.  NAN with fewer than two
 * coders, no item coded by all, or every coder using one and the same
 * category (Ae = 1: NLTK divides by zero). */
double agree_fleiss_kappa(const int *codes, size_t n_items, size_t n_coders);

/* Krippendorff's alpha, nominal distance, missing values allowed, as NLTK's
 * AnnotationTask.alpha: 1 - Do / De, where items with fewer than two codes
 * do not count at all (neither in Do nor in De's frequencies), Do sums each
 * item's disagreement weighted by its number of codes, and De is the
 * disagreement of all the counted codes pooled.  NAN when no item has two
 * codes (NLTK divides by zero there, or returns 1 when a single category
 * occurs in all the data).  1 when the counted codes are all one category
 * (NLTK returns 1 when the whole data has one category, and divides by zero
 * when another occurs only on items coded once). */
double agree_krippendorff_alpha(const int *codes, size_t n_items, size_t n_coders);

/* A span or a box with its label (a category as above). */
struct agree_span { size_t start, end; int label; };          /* code points, end exclusive */
struct agree_box { double x, y, w, h; int label; double score; };  /* pixels; score: suggestions */

struct agree_prf { double precision, recall, f1; size_t tp, fp, fn; };

/* Spans of one item from two sides (a: reference, b: the other); tp is the
 * number of matched pairs, fn the unmatched spans of a, fp those of b.
 * exact: a match is the same start, end and label; overlap: the same label
 * and at least one shared code point (an empty span matches nothing).  Each
 * span is matched at most once (duplicates too), greedy in order of the
 * largest overlap, ties to the earlier span of a, then of b.  Sums over
 * items are the caller's: add tp/fp/fn over items, then agree_prf_finish.
 * Out of memory: NAN figures and zero counts. */
struct agree_prf agree_spans(const struct agree_span *a, size_t na, const struct agree_span *b,
			     size_t nb, int overlap);
/* Boxes matched one to one at IoU >= iou and > 0 (same label, greedy by
 * IoU, ties as for spans); counts and failure as agree_spans. */
struct agree_prf agree_boxes(const struct agree_box *a, size_t na, const struct agree_box *b,
			     size_t nb, double iou);
/* precision, recall and f1 from tp, fp and fn (0 when the denominator is 0,
 * as sklearn's zero_division=0). */
void agree_prf_finish(struct agree_prf *p);
/* Intersection over union of two boxes; 0 when the union is empty. */
double agree_iou(const struct agree_box *a, const struct agree_box *b);

/* Classification scores: truth[i] and pred[i] for n items over n_labels
 * categories 0..n_labels-1 (AGREE_MISSING in pred: no prediction, counts
 * as wrong).  accuracy: the share of items with pred == truth (sklearn's
 * accuracy_score), NAN when n is 0.  macro-F1: the mean F1 over the labels
 * that occur in truth or pred, a missing prediction counting as a false
 * negative of its truth and as no label (sklearn's f1_score(average='macro',
 * zero_division=0, labels=those labels)); a value outside 0..n_labels-1 is
 * no label, as AGREE_MISSING.  NAN when no label occurs. */
double agree_accuracy(const int *truth, const int *pred, size_t n);
double agree_macro_f1(const int *truth, const int *pred, size_t n, int n_labels);

/* Mean average precision at IoU iou over labels that have a reference box:
 * gt and pred are per image (arrays of n_images pointers and counts);
 * predictions of a label ranked by score (ties: image, then order; a NAN
 * score last), each matched as COCO does to the unmatched reference box of
 * its label and image with the best IoU >= iou (and > 0), else a false
 * positive; AP as the area under the precision-recall curve made monotone,
 * with all points (VOC2010+; COCO samples 101 recall points instead).  A
 * label with reference boxes and no prediction has AP 0; predictions of a
 * label without reference boxes do not count.  NAN when there is no
 * reference box (or out of memory). */
double agree_box_map(const struct agree_box *const *gt, const size_t *n_gt,
		     const struct agree_box *const *pred, const size_t *n_pred, size_t n_images,
		     double iou);

#endif
