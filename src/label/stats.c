/*
 * stats.c - a project's progress, label counts and agreement between its
 * annotators (label.h: label_stats).  Agreement is computed on the
 * annotators' own submitted (or since reviewed) annotations, never on a
 * reviewer's corrections: it measures how alike people label before review.
 */
#include "label.h"
#include "agree.h"
#include "../store/store.h"
#include "../store/label.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/banned.h"

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

struct coders {
	char **name;
	size_t n;
};

static int coder_index(struct coders *c, const char *name)
{
	char **nn;
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->name[i], name))
			return (int)i;
	if (!(nn = realloc(c->name, (c->n + 1) * sizeof(*nn))) || !(nn[c->n] = strdup(name))) {
		if (nn)
			c->name = nn;
		return -1;
	}
	c->name = nn;
	return (int)c->n++;
}

/* The items (tasks) in order of the annotations, task ids in item[]. */
struct items {
	int64_t *task;
	size_t n;
};

static long item_index(struct items *it, int64_t task)
{
	int64_t *nt;
	if (it->n && it->task[it->n - 1] == task)
		return (long)it->n - 1;
	if (!(nt = realloc(it->task, (it->n + 1) * sizeof(*nt))))
		return -1;
	it->task = nt;
	nt[it->n] = task;
	return (long)it->n++;
}

/* The index of task in the items (ascending: annotations come by task). */
static long item_find(const struct items *it, int64_t task)
{
	size_t lo = 0, hi = it->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (it->task[mid] < task)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < it->n && it->task[lo] == task ? (long)lo : -1;
}

/* The classes an annotation's value gives (classification): a label index,
 * or AGREE_MISSING; has[] per label for binary per-label figures. */
static int class_of(const struct label_schema *sc, const json_t *value, unsigned char *has)
{
	json_t *labels = json_object_get(value, "labels"), *l;
	size_t i;
	int first = AGREE_MISSING;
	json_array_foreach(labels, i, l) {
		int k = label_schema_find(sc, json_string_value(l));
		if (k >= 0) {
			has[k] = 1;
			if (first == AGREE_MISSING)
				first = k;
		}
	}
	return first;
}

static size_t spans_of(const struct label_schema *sc, const json_t *value, struct agree_span **out)
{
	json_t *arr = json_object_get(value, "spans"), *sp;
	size_t i, n = 0;
	*out = json_array_size(arr) ? calloc(json_array_size(arr), sizeof(**out)) : NULL;
	json_array_foreach(arr, i, sp) {
		int k = label_schema_find(sc, json_string_value(json_array_get(sp, 2)));
		if (!*out || k < 0)
			continue;
		(*out)[n].start = (size_t)json_integer_value(json_array_get(sp, 0));
		(*out)[n].end = (size_t)json_integer_value(json_array_get(sp, 1));
		(*out)[n].label = k;
		n++;
	}
	return n;
}

static size_t boxes_of(const struct label_schema *sc, const json_t *value, struct agree_box **out)
{
	json_t *arr = json_object_get(value, "boxes"), *bx;
	size_t i, n = 0;
	*out = json_array_size(arr) ? calloc(json_array_size(arr), sizeof(**out)) : NULL;
	json_array_foreach(arr, i, bx) {
		int k = label_schema_find(sc, json_string_value(json_array_get(bx, 4)));
		if (!*out || k < 0)
			continue;
		(*out)[n].x = json_number_value(json_array_get(bx, 0));
		(*out)[n].y = json_number_value(json_array_get(bx, 1));
		(*out)[n].w = json_number_value(json_array_get(bx, 2));
		(*out)[n].h = json_number_value(json_array_get(bx, 3));
		(*out)[n].label = k;
		(*out)[n].score = 1;
		n++;
	}
	return n;
}

/* The three nominal figures over codes (n_items x n_coders) into o. */
static int nominal(json_t *o, const int *codes, size_t n_items, size_t n_coders)
{
	return json_object_set_new(o, "cohen_kappa", n_coders == 2 ?
				   num(agree_cohen_kappa(codes, n_items, 2, 0, 1)) : json_null()) |
	       json_object_set_new(o, "fleiss_kappa", num(agree_fleiss_kappa(codes, n_items, n_coders))) |
	       json_object_set_new(o, "krippendorff_alpha",
				   num(agree_krippendorff_alpha(codes, n_items, n_coders)));
}

json_t *label_stats(struct store *s, const char *project, struct moat_err *e)
{
	struct label_schema *sc = NULL;
	int64_t pid;
	json_t *anns = NULL, *counts = NULL, *out = NULL, *a, *annotators = NULL, *labels = NULL,
	       *agreement = NULL, *pairs = NULL;
	struct coders cd = { NULL, 0 };
	struct items it = { NULL, 0 };
	int *codes = NULL, *bin = NULL;
	long *n_label = NULL;
	size_t i, L;
	char now[40];
	int nomem = 0;
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	if (!strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%S.000Z", &tm))
		now[0] = '\0';
	if (!(sc = label_project_schema(s, project, &pid, e)))
		return NULL;
	L = sc->n_labels;
	if (!(counts = lb_counts(s, pid, 1, now, e)) || !(anns = lb_project_annotations(s, pid, e)))
		goto out;
	/* the coders and the items, then a matrix of first-round annotations */
	json_array_foreach(anns, i, a) {
		if (!json_is_null(json_object_get(a, "corrects")))
			continue;
		if (coder_index(&cd, json_string_value(json_object_get(a, "annotator"))) < 0 ||
		    item_index(&it, json_integer_value(json_object_get(a, "task_id"))) < 0) {
			nomem = 1;
			goto out;
		}
	}
	if (!(annotators = json_array()) || !(labels = json_array()) || !(agreement = json_object()) ||
	    !(pairs = json_array()) || !(n_label = calloc(L + 1, sizeof(*n_label)))) {
		nomem = 1;
		goto out;
	}
	/* per annotator */
	for (size_t c = 0; c < cd.n; c++) {
		long sub = 0, acc = 0, rej = 0;
		json_array_foreach(anns, i, a) {
			const char *st = json_string_value(json_object_get(a, "status"));
			if (!json_is_null(json_object_get(a, "corrects")) ||
			    strcmp(json_string_value(json_object_get(a, "annotator")), cd.name[c]))
				continue;
			sub++;
			acc += !strcmp(st, "accepted");
			rej += !strcmp(st, "rejected");
		}
		if (json_array_append_new(annotators, json_pack("{s:s, s:i, s:i, s:i}", "name", cd.name[c],
								"submitted", (int)sub, "accepted",
								(int)acc, "rejected", (int)rej)) < 0) {
			nomem = 1;
			goto out;
		}
	}
	/* label counts over annotations that stand: not rejected, and a
	 * correction in place of the annotation it corrects */
	json_array_foreach(anns, i, a) {
		json_t *v = json_object_get(a, "value"), *arr, *x;
		size_t j;
		if (!strcmp(json_string_value(json_object_get(a, "status")), "rejected"))
			continue;
		if ((arr = json_object_get(v, "labels")))
			json_array_foreach(arr, j, x) {
				int k = label_schema_find(sc, json_string_value(x));
				n_label[k < 0 ? L : (size_t)k]++;
			}
		if ((arr = json_object_get(v, "spans")))
			json_array_foreach(arr, j, x) {
				int k = label_schema_find(sc, json_string_value(json_array_get(x, 2)));
				n_label[k < 0 ? L : (size_t)k]++;
			}
		if ((arr = json_object_get(v, "boxes")))
			json_array_foreach(arr, j, x) {
				int k = label_schema_find(sc, json_string_value(json_array_get(x, 4)));
				n_label[k < 0 ? L : (size_t)k]++;
			}
	}

	if (json_object_set_new(agreement, "annotators", json_array()) < 0) {
		nomem = 1;
		goto out;
	}
	for (size_t c = 0; c < cd.n; c++)
		json_array_append_new(json_object_get(agreement, "annotators"), json_string(cd.name[c]));
	json_object_set_new(agreement, "items", json_integer((json_int_t)it.n));

	if (sc->kind == LABEL_CLASSIFICATION && cd.n && it.n) {
		size_t n = it.n * cd.n;
		unsigned char *has = calloc(L ? L : 1, 1);
		if (!has || !(codes = malloc(n * sizeof(*codes))) ||
		    !(bin = malloc(n * L * sizeof(*bin) + 1))) {
			free(has);
			nomem = 1;
			goto out;
		}
		for (size_t k = 0; k < n; k++)
			codes[k] = AGREE_MISSING;
		for (size_t k = 0; k < n * L; k++)
			bin[k] = AGREE_MISSING;
		json_array_foreach(anns, i, a) {
			long item;
			int c;
			if (!json_is_null(json_object_get(a, "corrects")))
				continue;
			c = coder_index(&cd, json_string_value(json_object_get(a, "annotator")));
			item = item_find(&it, json_integer_value(json_object_get(a, "task_id")));
			if (c < 0 || item < 0)
				continue;
			memset(has, 0, L ? L : 1);
			codes[(size_t)item * cd.n + (size_t)c] = class_of(sc, json_object_get(a, "value"), has);
			for (size_t k = 0; k < L; k++)
				bin[k * n + (size_t)item * cd.n + (size_t)c] = has[k];
		}
		free(has);
		if (!sc->multi)
			nominal(agreement, codes, it.n, cd.n);
		else
			json_object_set_new(agreement, "note", json_string(
				"several labels per task: agreement is per label (present or not)"));
		for (size_t p = 0; p < cd.n; p++)
			for (size_t q = p + 1; q < cd.n; q++) {
				size_t both = 0;
				for (size_t k = 0; k < it.n; k++)
					both += codes[k * cd.n + p] != AGREE_MISSING &&
						codes[k * cd.n + q] != AGREE_MISSING;
				json_array_append_new(pairs, json_pack("{s:s, s:s, s:i, s:o}", "a", cd.name[p],
					"b", cd.name[q], "items", (int)both, "cohen_kappa",
					sc->multi ? json_null() :
					num(agree_cohen_kappa(codes, it.n, cd.n, p, q))));
			}
	} else if ((sc->kind == LABEL_SPANS || sc->kind == LABEL_BOXES) && cd.n > 1) {
		/* pairwise: for each pair, over the tasks both annotated */
		struct agree_prf total = { 0 };
		struct agree_prf *per = calloc(L ? L : 1, sizeof(*per));
		if (!per) {
			nomem = 1;
			goto out;
		}
		for (size_t p = 0; p < cd.n; p++)
			for (size_t q = p + 1; q < cd.n; q++) {
				struct agree_prf pr = { 0 };
				size_t both = 0, j, k;
				json_t *x, *y;
				json_array_foreach(anns, j, x) {
					if (!json_is_null(json_object_get(x, "corrects")) ||
					    strcmp(json_string_value(json_object_get(x, "annotator")), cd.name[p]))
						continue;
					json_array_foreach(anns, k, y) {
						struct agree_prf r;
						if (!json_is_null(json_object_get(y, "corrects")) ||
						    json_integer_value(json_object_get(y, "task_id")) !=
						    json_integer_value(json_object_get(x, "task_id")) ||
						    strcmp(json_string_value(json_object_get(y, "annotator")), cd.name[q]))
							continue;
						both++;
						if (sc->kind == LABEL_SPANS) {
							struct agree_span *sa, *sb;
							size_t na = spans_of(sc, json_object_get(x, "value"), &sa);
							size_t nb = spans_of(sc, json_object_get(y, "value"), &sb);
							r = agree_spans(sa, na, sb, nb, 0);
							for (size_t l = 0; l < L; l++) {
								struct agree_prf rl;
								struct agree_span *fa = calloc(na + 1, sizeof(*fa)),
										  *fb = calloc(nb + 1, sizeof(*fb));
								size_t ma = 0, mb = 0;
								for (size_t z = 0; fa && z < na; z++)
									if (sa[z].label == (int)l)
										fa[ma++] = sa[z];
								for (size_t z = 0; fb && z < nb; z++)
									if (sb[z].label == (int)l)
										fb[mb++] = sb[z];
								rl = agree_spans(fa, ma, fb, mb, 0);
								per[l].tp += rl.tp;
								per[l].fp += rl.fp;
								per[l].fn += rl.fn;
								free(fa);
								free(fb);
							}
							free(sa);
							free(sb);
						} else {
							struct agree_box *ba, *bb;
							size_t na = boxes_of(sc, json_object_get(x, "value"), &ba);
							size_t nb = boxes_of(sc, json_object_get(y, "value"), &bb);
							r = agree_boxes(ba, na, bb, nb, 0.5);
							for (size_t l = 0; l < L; l++) {
								struct agree_prf rl;
								struct agree_box *fa = calloc(na + 1, sizeof(*fa)),
										 *fb = calloc(nb + 1, sizeof(*fb));
								size_t ma = 0, mb = 0;
								for (size_t z = 0; fa && z < na; z++)
									if (ba[z].label == (int)l)
										fa[ma++] = ba[z];
								for (size_t z = 0; fb && z < nb; z++)
									if (bb[z].label == (int)l)
										fb[mb++] = bb[z];
								rl = agree_boxes(fa, ma, fb, mb, 0.5);
								per[l].tp += rl.tp;
								per[l].fp += rl.fp;
								per[l].fn += rl.fn;
								free(fa);
								free(fb);
							}
							free(ba);
							free(bb);
						}
						pr.tp += r.tp;
						pr.fp += r.fp;
						pr.fn += r.fn;
					}
				}
				agree_prf_finish(&pr);
				total.tp += pr.tp;
				total.fp += pr.fp;
				total.fn += pr.fn;
				json_array_append_new(pairs, json_pack("{s:s, s:s, s:i, s:o}", "a", cd.name[p], "b",
					cd.name[q], "items", (int)both,
					sc->kind == LABEL_SPANS ? "span_f1" : "box_f1",
					both ? num(pr.f1) : json_null()));
			}
		agree_prf_finish(&total);
		json_object_set_new(agreement, sc->kind == LABEL_SPANS ? "span_f1" : "box_f1",
				    total.tp + total.fp + total.fn ? num(total.f1) : json_null());
		for (size_t l = 0; l < L; l++)
			agree_prf_finish(&per[l]);
		/* per-label F1 goes with the labels below */
		for (size_t l = 0; l < L; l++) {
			json_t *lo = json_pack("{s:s, s:i, s:{s:o}}", "name", sc->labels[l].name, "count",
					       (int)n_label[l], "agreement",
					       sc->kind == LABEL_SPANS ? "span_f1" : "box_f1",
					       per[l].tp + per[l].fp + per[l].fn ? num(per[l].f1) : json_null());
			if (!lo || json_array_append_new(labels, lo) < 0) {
				free(per);
				nomem = 1;
				goto out;
			}
		}
		free(per);
	}
	json_object_set_new(agreement, "per_pair", json_incref(pairs));
	if (!json_array_size(labels))
		for (size_t l = 0; l < L; l++) {
			json_t *lo = json_pack("{s:s, s:i, s:{}}", "name", sc->labels[l].name, "count",
					       (int)n_label[l], "agreement"), *ag;
			if (!lo) {
				nomem = 1;
				goto out;
			}
			ag = json_object_get(lo, "agreement");
			if (bin && it.n && cd.n)
				nominal(ag, bin + l * it.n * cd.n, it.n, cd.n);
			if (json_array_append_new(labels, lo) < 0) {
				nomem = 1;
				goto out;
			}
		}
	out = json_pack("{s:s, s:s, s:O, s:O, s:O, s:O}", "project", project, "kind",
			label_kind_name(sc->kind), "counts", counts, "annotators", annotators, "labels",
			labels, "agreement", agreement);
	if (!out)
		nomem = 1;
out:
	if (nomem)
		err_set(e, MOAT_ENOMEM, "cannot compute the statistics: out of memory");
	for (i = 0; i < cd.n; i++)
		free(cd.name[i]);
	free(cd.name);
	free(it.task);
	free(codes);
	free(bin);
	free(n_label);
	json_decref(pairs);
	json_decref(agreement);
	json_decref(labels);
	json_decref(annotators);
	json_decref(anns);
	json_decref(counts);
	label_schema_free(sc);
	return nomem ? (json_decref(out), NULL) : out;
}
