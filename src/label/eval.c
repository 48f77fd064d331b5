/*
 * eval.c - models' suggestions scored against the accepted human labels
 * (label.h: label_eval), side by side, so a team sees whether a newly
 * transferred model is better before switching.  Only tasks with an
 * accepted annotation count; a task the model has no suggestion for counts
 * as a miss (no prediction), so a model that skipped work is not flattered.
 */
#include "label.h"
#include "agree.h"
#include "../store/store.h"
#include "../store/label.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* The value of task in rows ([{task_id, value}] by task), or NULL. */
static const json_t *value_of(const json_t *rows, int64_t task, size_t *hint)
{
	size_t n = json_array_size(rows);
	for (size_t i = *hint; i < n; i++) {
		const json_t *r = json_array_get(rows, i);
		int64_t t = json_integer_value(json_object_get(r, "task_id"));
		if (t == task) {
			*hint = i;
			return json_object_get(r, "value");
		}
		if (t > task)
			break;
	}
	return NULL;
}

static int has_label(const json_t *v, const char *name)
{
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(v, "labels"), i, l)
		if (json_is_string(l) && !strcmp(json_string_value(l), name))
			return 1;
	return 0;
}

/* Lowercase, collapsed white space: SQuAD's normalisation without its
 * English articles rule. */
static int same_answer(const char *a, const char *b)
{
	for (;;) {
		while (isspace((unsigned char)*a) && (isspace((unsigned char)a[1]) || !a[1]))
			a++;
		while (isspace((unsigned char)*b) && (isspace((unsigned char)b[1]) || !b[1]))
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b) &&
		    !(isspace((unsigned char)*a) && isspace((unsigned char)*b)))
			return 0;
		a++;
		b++;
	}
}

static json_t *spans_json(const struct label_schema *sc, const json_t *truth, const json_t *pred,
			  int overlap)
{
	struct agree_prf sum = { 0 };
	size_t i;
	json_t *t;
	json_array_foreach(truth, i, t) {
		int64_t task = json_integer_value(json_object_get(t, "task_id"));
		size_t hint = 0, na = 0, nb = 0, k;
		const json_t *p = value_of(pred, task, &hint), *x;
		json_t *ta = json_object_get(json_object_get(t, "value"), "spans");
		json_t *pa = json_object_get(p, "spans");
		struct agree_span *a = calloc(json_array_size(ta) + 1, sizeof(*a));
		struct agree_span *b = calloc(json_array_size(pa) + 1, sizeof(*b));
		struct agree_prf r;
		if (!a || !b) {
			free(a);
			free(b);
			return NULL;
		}
		json_array_foreach(ta, k, x) {
			a[na].start = (size_t)json_integer_value(json_array_get(x, 0));
			a[na].end = (size_t)json_integer_value(json_array_get(x, 1));
			a[na].label = label_schema_find(sc, json_string_value(json_array_get(x, 2)));
			na++;
		}
		json_array_foreach(pa, k, x) {
			b[nb].start = (size_t)json_integer_value(json_array_get(x, 0));
			b[nb].end = (size_t)json_integer_value(json_array_get(x, 1));
			b[nb].label = label_schema_find(sc, json_string_value(json_array_get(x, 2)));
			nb++;
		}
		r = agree_spans(a, na, b, nb, overlap);
		sum.tp += r.tp;
		sum.fp += r.fp;
		sum.fn += r.fn;
		free(a);
		free(b);
	}
	agree_prf_finish(&sum);
	return json_pack("{s:o, s:o, s:o}", "precision", num(sum.precision), "recall", num(sum.recall),
			 "f1", num(sum.f1));
}

static struct agree_box *boxes(const struct label_schema *sc, const json_t *v, size_t *n,
			       double score)
{
	json_t *arr = json_object_get(v, "boxes"), *x;
	struct agree_box *b = calloc(json_array_size(arr) + 1, sizeof(*b));
	size_t k;
	*n = 0;
	if (!b)
		return NULL;
	json_array_foreach(arr, k, x) {
		b[*n].x = json_number_value(json_array_get(x, 0));
		b[*n].y = json_number_value(json_array_get(x, 1));
		b[*n].w = json_number_value(json_array_get(x, 2));
		b[*n].h = json_number_value(json_array_get(x, 3));
		b[*n].label = label_schema_find(sc, json_string_value(json_array_get(x, 4)));
		b[*n].score = score;
		(*n)++;
	}
	return b;
}

static json_t *eval_one(struct store *s, const struct label_schema *sc, int64_t pid,
			const json_t *truth, const char *model, struct moat_err *e)
{
	json_t *pred = lb_model_suggestions(s, pid, model, e), *o, *t, *g;
	size_t n = json_array_size(truth), i, hint = 0, predicted = 0;
	double gen_s = 0;
	int64_t tokens = 0;
	if (!pred)
		return NULL;
	json_array_foreach(pred, i, g) {
		json_t *prov = json_object_get(g, "provenance");
		gen_s += json_number_value(json_object_get(prov, "gen_s"));
		tokens += json_integer_value(json_object_get(prov, "completion_tokens"));
	}
	json_array_foreach(truth, i, t) {
		size_t h = 0;
		predicted += value_of(pred, json_integer_value(json_object_get(t, "task_id")), &h) != NULL;
	}
	o = json_pack("{s:s, s:I, s:I, s:o}", "model", model, "tasks", (json_int_t)n, "predicted",
		      (json_int_t)predicted, "tokens_per_s", gen_s > 0 ? json_real((double)tokens / gen_s)
								      : json_null());
	if (!o)
		goto nomem;
	if (sc->kind == LABEL_CLASSIFICATION && !sc->multi) {
		int *tr = calloc(n + 1, sizeof(int)), *pr = calloc(n + 1, sizeof(int));
		if (!tr || !pr) {
			free(tr);
			free(pr);
			goto nomem;
		}
		json_array_foreach(truth, i, t) {
			const json_t *p = value_of(pred, json_integer_value(json_object_get(t, "task_id")), &hint);
			tr[i] = label_schema_find(sc, json_string_value(json_array_get(
				json_object_get(json_object_get(t, "value"), "labels"), 0)));
			pr[i] = p ? label_schema_find(sc, json_string_value(json_array_get(
					json_object_get(p, "labels"), 0))) : AGREE_MISSING;
			if (tr[i] < 0)
				tr[i] = AGREE_MISSING;
		}
		json_object_set_new(o, "accuracy", n ? num(agree_accuracy(tr, pr, n)) : json_null());
		json_object_set_new(o, "macro_f1", n ? num(agree_macro_f1(tr, pr, n, (int)sc->n_labels))
						     : json_null());
		free(tr);
		free(pr);
	} else if (sc->kind == LABEL_CLASSIFICATION) {
		/* several labels: subset accuracy, and the mean of per-label F1 */
		size_t exact = 0;
		double f1_sum = 0;
		size_t used = 0;
		for (size_t l = 0; l < sc->n_labels; l++) {
			struct agree_prf r = { 0 };
			hint = 0;
			json_array_foreach(truth, i, t) {
				const json_t *p = value_of(pred, json_integer_value(json_object_get(t, "task_id")),
							   &hint);
				int a = has_label(json_object_get(t, "value"), sc->labels[l].name);
				int b = p && has_label(p, sc->labels[l].name);
				r.tp += a && b;
				r.fp += !a && b;
				r.fn += a && !b;
			}
			agree_prf_finish(&r);
			if (r.tp + r.fp + r.fn) {
				f1_sum += r.f1;
				used++;
			}
		}
		hint = 0;
		json_array_foreach(truth, i, t) {
			const json_t *p = value_of(pred, json_integer_value(json_object_get(t, "task_id")), &hint);
			int same = p != NULL;
			for (size_t l = 0; same && l < sc->n_labels; l++)
				same = has_label(json_object_get(t, "value"), sc->labels[l].name) ==
				       has_label(p, sc->labels[l].name);
			exact += (size_t)same;
		}
		json_object_set_new(o, "accuracy", n ? json_real((double)exact / (double)n) : json_null());
		json_object_set_new(o, "macro_f1", used ? json_real(f1_sum / (double)used) : json_null());
	} else if (sc->kind == LABEL_SPANS) {
		json_t *ex = spans_json(sc, truth, pred, 0), *ov = spans_json(sc, truth, pred, 1);
		if (!ex || !ov) {
			json_decref(ex);
			json_decref(ov);
			goto nomem;
		}
		json_object_set_new(o, "spans", json_pack("{s:o, s:o}", "exact", ex, "overlap", ov));
	} else if (sc->kind == LABEL_BOXES) {
		const struct agree_box **gt = calloc(n + 1, sizeof(*gt)), **pb = calloc(n + 1, sizeof(*pb));
		size_t *ngt = calloc(n + 1, sizeof(*ngt)), *npb = calloc(n + 1, sizeof(*npb));
		if (!gt || !pb || !ngt || !npb) {
			free(gt);
			free(pb);
			free(ngt);
			free(npb);
			goto nomem;
		}
		json_array_foreach(truth, i, t) {
			size_t h = 0, k;
			const json_t *p = value_of(pred, json_integer_value(json_object_get(t, "task_id")), &h);
			double score = 1;
			json_array_foreach(pred, k, g)
				if (json_integer_value(json_object_get(g, "task_id")) ==
				    json_integer_value(json_object_get(t, "task_id")) &&
				    json_is_number(json_object_get(g, "score")))
					score = json_number_value(json_object_get(g, "score"));
			gt[i] = boxes(sc, json_object_get(t, "value"), &ngt[i], 1);
			pb[i] = boxes(sc, p, &npb[i], score);
		}
		json_object_set_new(o, "box_map50", num(agree_box_map(gt, ngt, pb, npb, n, 0.5)));
		for (i = 0; i < n; i++) {
			free((void *)gt[i]);
			free((void *)pb[i]);
		}
		free(gt);
		free(pb);
		free(ngt);
		free(npb);
	} else {  /* qa: exact answers; preference: the same choice */
		size_t right = 0;
		json_array_foreach(truth, i, t) {
			const json_t *p = value_of(pred, json_integer_value(json_object_get(t, "task_id")), &hint);
			const json_t *tv = json_object_get(t, "value");
			if (!p)
				continue;
			if (sc->kind == LABEL_QA)
				right += json_is_string(json_object_get(p, "text")) &&
					 same_answer(json_string_value(json_object_get(tv, "text")),
						     json_string_value(json_object_get(p, "text")));
			else
				right += json_equal(json_object_get(tv, "preference"),
						    json_object_get(p, "preference"));
		}
		json_object_set_new(o, sc->kind == LABEL_QA ? "exact_match" : "accuracy",
				    n ? json_real((double)right / (double)n) : json_null());
	}
	json_decref(pred);
	return o;
nomem:
	json_decref(pred);
	json_decref(o);
	return err_set(e, MOAT_ENOMEM, "out of memory"), NULL;
}

json_t *label_eval(struct store *s, const char *project, const char *const *models, size_t n,
		   struct moat_err *e)
{
	int64_t pid;
	struct label_schema *sc = label_project_schema(s, project, &pid, e);
	json_t *truth, *out = NULL;
	if (!sc)
		return NULL;
	if (!(truth = lb_accepted(s, pid, e)))
		goto done;
	/* one accepted value per task: the last decision (a correction comes after) */
	{
		json_t *uniq = json_array(), *t;
		size_t i;
		if (!uniq)
			goto nomem;
		json_array_foreach(truth, i, t) {
			size_t m = json_array_size(uniq);
			if (m && json_integer_value(json_object_get(json_array_get(uniq, m - 1), "task_id")) ==
				 json_integer_value(json_object_get(t, "task_id")))
				json_array_set(uniq, m - 1, t);
			else
				json_array_append(uniq, t);
		}
		json_decref(truth);
		truth = uniq;
	}
	if (!(out = json_array()))
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		json_t *one = eval_one(s, sc, pid, truth, models[i], e);
		if (!one || json_array_append_new(out, one) < 0) {
			json_decref(out);
			out = NULL;
			break;
		}
	}
	goto done;
nomem:
	err_set(e, MOAT_ENOMEM, "out of memory");
done:
	json_decref(truth);
	label_schema_free(sc);
	return out;
}
