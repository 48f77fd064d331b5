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
 * small non-negative ints; AGREE_MISSING marks a coder who did not code an
 * item.  Every function returns its figure, or NAN when it is undefined for
 * the data given (no item coded twice, a single category throughout where
 * the formula divides by zero; the docs say which), never crashes on
 * degenerate input, and allocates nothing it does not free.  The formulas
 * follow scikit-learn's cohen_kappa_score and NLTK's
 * nltk.metrics.agreement.AnnotationTask (kappa, multi_kappa, alpha), which
 * the tests compare against to 1e-9.
 */
#ifndef MOAT_LABEL_AGREE_H
#define MOAT_LABEL_AGREE_H

#include <stddef.h>

#define AGREE_MISSING (-1)

/* codes is n_items x n_coders, row-major: codes[i * n_coders + c] is coder
 * c's category for item i, or AGREE_MISSING. */

/* Cohen's kappa between coders a and b over the items both coded
 * (sklearn's cohen_kappa_score on those items). */
double agree_cohen_kappa(const int *codes, size_t n_items, size_t n_coders, size_t a, size_t b);

/* Fleiss' kappa (as NLTK's AnnotationTask.multi_kappa: Davies and Fleiss'
 * averaged pairwise form) over items every coder coded. */
double agree_fleiss_kappa(const int *codes, size_t n_items, size_t n_coders);

/* Krippendorff's alpha, nominal distance, missing values allowed; items
 * with fewer than two codes do not count (NLTK's AnnotationTask.alpha). */
double agree_krippendorff_alpha(const int *codes, size_t n_items, size_t n_coders);

/* A span or a box with its label (a category as above). */
struct agree_span { size_t start, end; int label; };          /* code points, end exclusive */
struct agree_box { double x, y, w, h; int label; double score; };  /* pixels; score: suggestions */

struct agree_prf { double precision, recall, f1; size_t tp, fp, fn; };

/* Spans of one item from two sides (a: reference, b: the other).  exact:
 * a match is the same start, end and label; overlap: the same label and at
 * least one shared code point, each span matched at most once (greedy, in
 * order of the largest overlap).  Sums over items are the caller's: add
 * tp/fp/fn over items, then agree_prf_finish. */
struct agree_prf agree_spans(const struct agree_span *a, size_t na, const struct agree_span *b,
			     size_t nb, int overlap);
/* Boxes matched one to one at IoU >= iou (same label, greedy by IoU). */
struct agree_prf agree_boxes(const struct agree_box *a, size_t na, const struct agree_box *b,
			     size_t nb, double iou);
/* precision, recall and f1 from tp, fp and fn (0 when the denominator is 0,
 * as sklearn's zero_division=0). */
void agree_prf_finish(struct agree_prf *p);
double agree_iou(const struct agree_box *a, const struct agree_box *b);

/* Classification scores: truth[i] and pred[i] for n items over n_labels
 * categories (AGREE_MISSING in pred: no prediction, counts as wrong).
 * accuracy, and macro-F1 over the labels that occur in truth or pred
 * (sklearn's f1_score(average='macro')). */
double agree_accuracy(const int *truth, const int *pred, size_t n);
double agree_macro_f1(const int *truth, const int *pred, size_t n, int n_labels);

/* Mean average precision at IoU iou over labels that have a reference box:
 * gt and pred are per image (arrays of n_images pointers and counts);
 * predictions ranked by score, AP as the area under the interpolated
 * precision-recall curve with all points (COCO's / VOC2010+ method). */
double agree_box_map(const struct agree_box *const *gt, const size_t *n_gt,
		     const struct agree_box *const *pred, const size_t *n_pred, size_t n_images,
		     double iou);

#endif
