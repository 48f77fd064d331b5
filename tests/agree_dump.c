/*
 * agree_dump.c - a test helper (not installed): reads agreement and
 * classification cases from stdin and prints label/agree's figures, one a
 * line, for tests/agree_check.py to compare with scikit-learn and NLTK.
 *
 * Input, whitespace-separated integers (-1: missing):
 *   codes N C   then N rows of C codes
 *               -> "cohen A B v" for every coder pair A < B, "fleiss v", "alpha v"
 *   class N L   then N truths, then N predictions over L labels
 *               -> "accuracy v", "macro_f1 v"
 * Each case's lines open with "case K" (K counting from 0); figures are
 * printed with 17 significant digits, "nan" when undefined.  Exit status 1
 * on malformed input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "label/agree.h"

static int read_ints(int *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (scanf("%d", &v[i]) != 1)
			return -1;
	return 0;
}

static int codes_case(void)
{
	size_t n, c;
	int *codes;
	if (scanf("%zu %zu", &n, &c) != 2 || n > 100000 || c > 1000)
		return -1;
	codes = malloc((n * c ? n * c : 1) * sizeof(*codes));
	if (!codes || read_ints(codes, n * c) < 0) {
		free(codes);
		return -1;
	}
	for (size_t a = 0; a < c; a++)
		for (size_t b = a + 1; b < c; b++)
			printf("cohen %zu %zu %.17g\n", a, b, agree_cohen_kappa(codes, n, c, a, b));
	printf("fleiss %.17g\n", agree_fleiss_kappa(codes, n, c));
	printf("alpha %.17g\n", agree_krippendorff_alpha(codes, n, c));
	free(codes);
	return 0;
}

static int class_case(void)
{
	size_t n;
	int labels, *truth, *pred;
	if (scanf("%zu %d", &n, &labels) != 2 || n > 1000000)
		return -1;
	truth = malloc((n ? n : 1) * sizeof(*truth));
	pred = malloc((n ? n : 1) * sizeof(*pred));
	if (!truth || !pred || read_ints(truth, n) < 0 || read_ints(pred, n) < 0) {
		free(truth);
		free(pred);
		return -1;
	}
	printf("accuracy %.17g\n", agree_accuracy(truth, pred, n));
	printf("macro_f1 %.17g\n", agree_macro_f1(truth, pred, n, labels));
	free(truth);
	free(pred);
	return 0;
}

int main(void)
{
	char kind[16];
	for (unsigned long k = 0; scanf("%15s", kind) == 1; k++) {
		int rc = -1;
		printf("case %lu\n", k);
		if (strcmp(kind, "codes") == 0)
			rc = codes_case();
		else if (strcmp(kind, "class") == 0)
			rc = class_case();
		if (rc < 0) {
			fprintf(stderr, "agree_dump: case %lu: malformed input\n", k);
			return 1;
		}
	}
	return 0;
}
