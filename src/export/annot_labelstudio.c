/*
 * annot_labelstudio.c - Label Studio's JSON export: a list of tasks, each
 * with "data" (the text or the image), "annotations" (with "completed_by")
 * and "predictions" (with "model_version" and "score"), each holding a
 * "result" list.  Result types read: labels (text spans, or a labelled
 * region with x/y/width/height), choices, rectanglelabels (percent of
 * original_width/original_height, turned to pixels), textarea and pairwise;
 * others (polygons, keypoints, brushes, relations, ratings...) are skipped.
 * Cancelled annotations are skipped too (the model has no status).
 *
 * Span offsets are read as code points, which Label Studio writes since its
 * frontend fixed emoji (label-studio-frontend#308); an older export counted
 * UTF-16 units, so when a span's "text" does not match its code-point
 * offsets but does match them read as UTF-16 units, they are converted.
 *
 * Not for: Label Studio's other exports (JSON-MIN, CSV, its own COCO/YOLO:
 * use those formats), or its labelling config.
 */
#include "annot_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/fs.h"
#include "../core/utf8.h"

#include "../core/banned.h"

/* --- import ---------------------------------------------------------------- */

struct ls_ctx {
	const char *file;
	const char *dir;         /* absolute directory of the file */
	size_t rec;              /* 1-based task number */
	struct annot_set *s;
	struct annot_item *it;
	size_t *cps;             /* code-point index of the item's text */
	size_t n_cps;
	struct moat_err *e;
};

static int ls_err(struct ls_ctx *c, const char *field, const char *fmt, const char *detail)
{
	return annot_err(c->e, MOAT_EPARSE, c->file, "record", c->rec, field, fmt, detail);
}

static int ls_nomem(struct ls_ctx *c)
{
	return annot_err(c->e, MOAT_ENOMEM, c->file, "record", c->rec, NULL, "out of memory");
}

static int ls_number(struct ls_ctx *c, const json_t *obj, const char *name, const char *at,
		     int required, double *out)
{
	const json_t *v = json_object_get(obj, name);
	char f[160];
	annot_field(f, sizeof(f), "%s.%s", at, name);
	if (!v || json_is_null(v)) {
		if (required)
			return ls_err(c, f, "%s", "missing");
		return 1;
	}
	if (!json_is_number(v) || !isfinite(json_number_value(v)))
		return ls_err(c, f, "%s", "not a number");
	*out = json_number_value(v);
	return 0;
}

/* The UTF-16 length of code point cp. */
static size_t u16_units(const char *text, size_t b)
{
	return ((unsigned char)text[b] & 0xf8) == 0xf0 ? 2 : 1;
}

/* start/end read as UTF-16 units, to code points; -1 when they fall inside
 * a surrogate pair or past the end. */
static int from_utf16(struct ls_ctx *c, int64_t start, int64_t end, int64_t *cs, int64_t *ce)
{
	uint64_t u = 0;
	*cs = *ce = -1;
	for (size_t i = 0; i <= c->n_cps; i++) {
		if ((int64_t)u == start)
			*cs = (int64_t)i;
		if ((int64_t)u == end)
			*ce = (int64_t)i;
		if (i < c->n_cps)
			u += u16_units(c->it->text, c->cps[i]);
	}
	return *cs >= 0 && *ce >= 0 ? 0 : -1;
}

static int text_is(struct ls_ctx *c, int64_t s, int64_t e, const json_t *t)
{
	size_t a, b;
	if (!t || !json_is_string(t) || s < 0 || e < s || (uint64_t)e > c->n_cps)
		return 0;
	a = c->cps[s], b = c->cps[e];
	return json_string_length(t) == b - a && !memcmp(json_string_value(t), c->it->text + a, b - a);
}

static int ls_span(struct ls_ctx *c, struct annot_value *v, const json_t *val, const char *at)
{
	const json_t *js = json_object_get(val, "start"), *je = json_object_get(val, "end");
	const json_t *labels = json_object_get(val, "labels"), *l;
	int64_t s, e;
	const char *why;
	char f[160];
	size_t i;
	if (!c->it->text)
		return ls_err(c, "data.text", "%s", "missing (a result marks a span of text)");
	annot_field(f, sizeof(f), "%s.value.start", at);
	if (!json_is_integer(js))
		return ls_err(c, f, "%s", js ? "not an integer" : "missing");
	annot_field(f, sizeof(f), "%s.value.end", at);
	if (!json_is_integer(je))
		return ls_err(c, f, "%s", je ? "not an integer" : "missing");
	s = json_integer_value(js), e = json_integer_value(je);
	if (!text_is(c, s, e, json_object_get(val, "text"))) {
		int64_t us, ue;
		if (json_is_string(json_object_get(val, "text")) && from_utf16(c, s, e, &us, &ue) == 0 &&
		    text_is(c, us, ue, json_object_get(val, "text")))
			s = us, e = ue;
	}
	annot_field(f, sizeof(f), "%s.value", at);
	if ((why = annot_span_problem(s, e, c->n_cps)))
		return annot_err(c->e, MOAT_EPARSE, c->file, "record", c->rec, f,
				 "span [%lld, %lld) in a text of %zu code points: %s", (long long)s,
				 (long long)e, c->n_cps, why);
	annot_field(f, sizeof(f), "%s.value.labels", at);
	if (!json_is_array(labels) || !json_array_size(labels))
		return ls_err(c, f, "%s", labels ? "not a non-empty list" : "missing");
	json_array_foreach(labels, i, l) {
		if (!json_is_string(l))
			return ls_err(c, f, "%s", "not a list of strings");
		if (annot_add_span(v, (size_t)s, (size_t)e, json_string_value(l)) < 0)
			return ls_nomem(c);
	}
	return 0;
}

static int ls_box(struct ls_ctx *c, struct annot_value *v, const json_t *r, const json_t *val,
		  const char *labels_key, const char *at)
{
	const json_t *labels = json_object_get(val, labels_key), *l;
	double x, y, w, h, rot = 0, ow = 0, oh = 0;
	const char *why;
	char f[160], fv[160];
	size_t i;
	int rc;
	annot_field(fv, sizeof(fv), "%s.value", at);
	if (ls_number(c, val, "x", fv, 1, &x) || ls_number(c, val, "y", fv, 1, &y) ||
	    ls_number(c, val, "width", fv, 1, &w) || ls_number(c, val, "height", fv, 1, &h) ||
	    ls_number(c, val, "rotation", fv, 0, &rot) < 0)
		return -1;
	if ((rc = ls_number(c, r, "original_width", at, 0, &ow)) < 0 ||
	    (rc == 0 && ls_number(c, r, "original_height", at, 1, &oh) < 0))
		return -1;
	if (rc == 1) {
		if (c->it->width <= 0) {
			annot_field(f, sizeof(f), "%s.original_width", at);
			return ls_err(c, f, "%s", "missing (needed to turn percent into pixels)");
		}
		ow = c->it->width, oh = c->it->height;
	}
	annot_field(f, sizeof(f), "%s.original_width", at);
	if (ow != floor(ow) || !annot_size_ok((int64_t)ow) || oh != floor(oh) ||
	    !annot_size_ok((int64_t)oh))
		return ls_err(c, f, "%s", "image size out of range");
	if (c->it->width <= 0) {
		c->it->width = (int)ow;
		c->it->height = (int)oh;
	}
	x = x * ow / 100.0, w = w * ow / 100.0, y = y * oh / 100.0, h = h * oh / 100.0;
	if ((why = annot_box_problem(x, y, w, h, rot, (int)ow, (int)oh)))
		return annot_err(c->e, MOAT_EPARSE, c->file, "record", c->rec, fv,
				 "box %g,%g %gx%g px in a %dx%d image: %s", x, y, w, h, (int)ow,
				 (int)oh, why);
	annot_field(f, sizeof(f), "%s.value.%s", at, labels_key);
	if (!json_is_array(labels) || !json_array_size(labels))
		return ls_err(c, f, "%s", labels ? "not a non-empty list" : "missing");
	json_array_foreach(labels, i, l) {
		if (!json_is_string(l))
			return ls_err(c, f, "%s", "not a list of strings");
		if (annot_add_box(v, x, y, w, h, rot, json_string_value(l)) < 0)
			return ls_nomem(c);
	}
	return 0;
}

static int ls_text_answer(struct ls_ctx *c, struct annot_value *v, const json_t *val,
			  const char *at)
{
	const json_t *t = json_object_get(val, "text"), *x;
	struct buf b = BUF_INIT;
	char f[160];
	size_t i;
	annot_field(f, sizeof(f), "%s.value.text", at);
	if (v->text)
		buf_adds(&b, v->text);
	if (json_is_string(t)) {
		if (b.len)
			buf_addch(&b, '\n');
		buf_add(&b, json_string_value(t), json_string_length(t));
	} else if (json_is_array(t)) {
		json_array_foreach(t, i, x) {
			if (!json_is_string(x)) {
				buf_release(&b);
				return ls_err(c, f, "%s", "not a list of strings");
			}
			if (b.len)
				buf_addch(&b, '\n');
			buf_add(&b, json_string_value(x), json_string_length(x));
		}
	} else {
		buf_release(&b);
		return ls_err(c, f, "%s", t ? "not a string or a list of strings" : "missing");
	}
	if (memchr(buf_str(&b), 0, b.len)) {
		buf_release(&b);
		return ls_err(c, f, "%s", "holds a NUL character");
	}
	free(v->text);
	v->text = buf_detach(&b, NULL);
	if (!v->text)
		return ls_nomem(c);
	return 0;
}

static int ls_result(struct ls_ctx *c, struct annot_value *v, const json_t *r, const char *at)
{
	const json_t *val = json_object_get(r, "value"), *type = json_object_get(r, "type");
	const char *t;
	char f[160];
	if (!json_is_object(r))
		return ls_err(c, at, "%s", "not an object");
	annot_field(f, sizeof(f), "%s.type", at);
	if (!json_is_string(type))
		return ls_err(c, f, "%s", type ? "not a string" : "missing");
	t = json_string_value(type);
	annot_field(f, sizeof(f), "%s.value", at);
	if (!json_is_object(val)) {
		if (!strcmp(t, "relation"))  /* relations have no value */
			return 0;
		return ls_err(c, f, "%s", val ? "not an object" : "missing");
	}
	if (!strcmp(t, "labels")) {
		if (json_object_get(val, "start") || json_object_get(val, "end")) {
			if (json_object_get(val, "startOffset") || json_object_get(val, "globalOffsets"))
				return 0;  /* HyperText spans: offsets into HTML, not carried */
			return ls_span(c, v, val, at);
		}
		if (json_object_get(val, "x"))
			return ls_box(c, v, r, val, "labels", at);
		return 0;
	}
	if (!strcmp(t, "rectanglelabels"))
		return ls_box(c, v, r, val, "rectanglelabels", at);
	if (!strcmp(t, "choices")) {
		const json_t *ch = json_object_get(val, "choices"), *x;
		size_t i;
		annot_field(f, sizeof(f), "%s.value.choices", at);
		if (!json_is_array(ch))
			return ls_err(c, f, "%s", ch ? "not a list" : "missing");
		json_array_foreach(ch, i, x) {
			if (!json_is_string(x))
				return ls_err(c, f, "%s", "not a list of strings");
			if (annot_add_label(v, json_string_value(x)) < 0)
				return ls_nomem(c);
		}
		return 0;
	}
	if (!strcmp(t, "textarea"))
		return ls_text_answer(c, v, val, at);
	if (!strcmp(t, "pairwise")) {
		const json_t *sel = json_object_get(val, "selected");
		annot_field(f, sizeof(f), "%s.value.selected", at);
		if (json_is_string(sel) && !strcmp(json_string_value(sel), "left"))
			v->preference = 1;
		else if (json_is_string(sel) && !strcmp(json_string_value(sel), "right"))
			v->preference = 2;
		else
			return ls_err(c, f, "%s", "not \"left\" or \"right\"");
		return 0;
	}
	return 0;  /* a type the model cannot carry */
}

static int ls_value(struct ls_ctx *c, const json_t *a, const char *list, size_t k, int pred)
{
	const json_t *res, *r, *by;
	struct annot_value *v;
	char at[96], f[160];
	size_t i;
	annot_field(at, sizeof(at), "%s[%zu]", list, k);
	if (!json_is_object(a))
		return ls_err(c, at, "%s", "not an object");
	if (json_is_true(json_object_get(a, "was_cancelled")))
		return 0;
	res = json_object_get(a, "result");
	annot_field(f, sizeof(f), "%s.result", at);
	if (!json_is_array(res))
		return ls_err(c, f, "%s", res ? "not a list" : "missing");
	if (!(v = annot_add_value(c->it)))
		return ls_nomem(c);
	v->origin = pred ? ANNOT_PREDICTION : ANNOT_HUMAN;
	if (pred) {
		const json_t *mv = json_object_get(a, "model_version"), *sc = json_object_get(a, "score");
		if (mv && !json_is_null(mv) && annot_json_id(mv, &v->model) < 0) {
			annot_field(f, sizeof(f), "%s.model_version", at);
			return ls_err(c, f, "%s", "not a string");
		}
		if (sc && !json_is_null(sc)) {
			annot_field(f, sizeof(f), "%s.score", at);
			if (!json_is_number(sc) || !isfinite(json_number_value(sc)) ||
			    json_number_value(sc) < 0)
				return ls_err(c, f, "%s", "not a number of 0 or more");
			v->score = json_number_value(sc);
		}
	}
	by = json_object_get(a, "completed_by");
	if (json_is_object(by)) {
		const json_t *em = json_object_get(by, "email");
		by = json_is_string(em) ? em : json_object_get(by, "id");
	}
	if (by && !json_is_null(by) && annot_json_id(by, &v->annotator) < 0) {
		annot_field(f, sizeof(f), "%s.completed_by", at);
		return ls_err(c, f, "%s", "not a user id");
	}
	json_array_foreach(res, i, r) {
		char rat[128];
		annot_field(rat, sizeof(rat), "%s.result[%zu]", at, i);
		/* the value pointer moves if a value is added; none is added here */
		if (ls_result(c, &c->it->values[c->it->n_values - 1], r, rat) < 0)
			return -1;
	}
	return 0;
}

/* Whether a task's results hold a region of an image. */
static int has_boxes(const json_t *task)
{
	static const char *const lists[] = { "annotations", "predictions", NULL };
	for (size_t k = 0; lists[k]; k++) {
		const json_t *l = json_object_get(task, lists[k]), *a, *r;
		size_t i, j;
		json_array_foreach(l, i, a) {
			json_array_foreach(json_object_get(a, "result"), j, r) {
				const json_t *t = json_object_get(r, "type");
				if (json_is_string(t) && strstr(json_string_value(t), "rectangle"))
					return 1;
			}
		}
	}
	return 0;
}

static int ls_task(struct ls_ctx *c, const json_t *task, const char *split)
{
	static const char *const text_keys[] = { "text", NULL };
	static const char *const image_keys[] = { "image", "img", NULL };
	const json_t *data, *ann, *pred, *x;
	const char *tkey = NULL, *ikey = NULL, *k;
	const char *skip[4] = { NULL, NULL, NULL, NULL };
	size_t i, ns = 0;
	if (!json_is_object(task))
		return ls_err(c, NULL, "%s", "a task is not an object");
	data = json_object_get(task, "data");
	if (!json_is_object(data))
		return ls_err(c, "data", "%s", data ? "not an object" : "missing");
	for (i = 0; text_keys[i] && !tkey; i++)
		if (json_is_string(json_object_get(data, text_keys[i])))
			tkey = text_keys[i];
	for (i = 0; image_keys[i] && !ikey; i++)
		if (json_is_string(json_object_get(data, image_keys[i])))
			ikey = image_keys[i];
	if (!tkey && !ikey) {
		/* a config with other names ($doc, $photo): the first string field */
		json_object_foreach((json_t *)data, k, x)
			if (json_is_string(x)) {
				if (has_boxes(task))
					ikey = k;
				else
					tkey = k;
				break;
			}
		if (!tkey && !ikey)
			return ls_err(c, "data", "%s", "holds no text or image field");
	}
	if (!(c->it = annot_add_item(c->s)))
		return ls_nomem(c);
	if (annot_json_id(json_object_get(task, "id"), &c->it->id) < 0 && json_object_get(task, "id"))
		return ls_err(c, "id", "%s", "not a string or an integer");
	if (split && !(c->it->split = strdup(split)))
		return ls_nomem(c);
	if (tkey) {
		const json_t *t = json_object_get(data, tkey);
		char f[96];
		annot_field(f, sizeof(f), "data.%s", tkey);
		if (memchr(json_string_value(t), 0, json_string_length(t)) ||
		    strlen(json_string_value(t)) != json_string_length(t))
			return ls_err(c, f, "%s", "holds a NUL character");
		if (!(c->it->text = strdup(json_string_value(t))) ||
		    annot_cp_index(c->it->text, strlen(c->it->text), &c->cps, &c->n_cps) < 0)
			return ls_nomem(c);
		skip[ns++] = tkey;
	}
	if (ikey) {
		if (!(c->it->image = annot_resolve(c->dir, json_string_value(json_object_get(data, ikey)))))
			return ls_nomem(c);
		skip[ns++] = ikey;
	}
	if (annot_meta_from(data, skip, &c->it->meta) < 0)
		return ls_nomem(c);
	ann = json_object_get(task, "annotations");
	if (!ann)
		ann = json_object_get(task, "completions");  /* Label Studio before 1.0 */
	pred = json_object_get(task, "predictions");
	if (ann && !json_is_array(ann))
		return ls_err(c, "annotations", "%s", "not a list");
	if (pred && !json_is_array(pred))
		return ls_err(c, "predictions", "%s", "not a list");
	json_array_foreach(ann, i, x)
		if (ls_value(c, x, "annotations", i, 0) < 0)
			return -1;
	json_array_foreach(pred, i, x)
		if (ls_value(c, x, "predictions", i, 1) < 0)
			return -1;
	return 0;
}

static int ls_file(const char *path, void *arg, struct annot_set *s, struct moat_err *e)
{
	struct ls_ctx c = { path, NULL, 0, s, NULL, NULL, 0, e };
	json_t *root, *task;
	char *split = NULL;
	size_t i;
	int rc = 0;
	(void)arg;
	if (annot_json_load(path, &root, e) < 0)
		return -1;
	if (!json_is_array(root)) {
		json_decref(root);
		return annot_err(e, MOAT_EPARSE, path, NULL, 0, NULL,
				 "expected a list of tasks (Label Studio's JSON export)");
	}
	if (!(c.dir = annot_realdir(path)) || annot_split_from_name(path, &split) < 0) {
		json_decref(root);
		free((char *)c.dir);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	json_array_foreach(root, i, task) {
		c.rec = i + 1;
		rc = ls_task(&c, task, split);
		free(c.cps);
		c.cps = NULL;
		c.n_cps = 0;
		if (rc < 0)
			break;
	}
	free(split);
	free((char *)c.dir);
	json_decref(root);
	return rc;
}

static int json_name(const char *name)
{
	return annot_has_ext(name, ".json");
}

int annot_import_labelstudio(const char *path, struct annot_set *s, struct moat_err *e)
{
	return annot_import_files(path, json_name, ls_file, NULL, s, e);
}

/* --- export ---------------------------------------------------------------- */

static json_t *result(size_t *rid, const char *type, const char *from, const char *to,
		      json_t *value)
{
	char id[32];
	json_t *r = json_object();
	annot_field(id, sizeof(id), "r%zu", ++*rid);
	json_object_set_new(r, "id", json_string(id));
	json_object_set_new(r, "type", json_string(type));
	json_object_set_new(r, "from_name", json_string(from));
	json_object_set_new(r, "to_name", json_string(to));
	json_object_set_new(r, "value", value);
	return r;
}

static int value_results(const struct annot_item *it, size_t idx, const struct annot_value *v,
			 const size_t *cps, size_t n_cps, json_t *res, struct moat_err *e)
{
	const char *to = it->text ? "text" : "image";
	size_t rid = 0;
	if (v->n_labels) {
		json_t *ch = json_array();
		for (size_t i = 0; i < v->n_labels; i++)
			json_array_append_new(ch, json_string(v->labels[i]));
		json_array_append_new(res, result(&rid, "choices", "choice", to,
						  json_pack("{s:o}", "choices", ch)));
	}
	for (size_t i = 0; i < v->n_spans; i++) {
		const struct annot_span *sp = &v->spans[i];
		if (!it->text || sp->end > n_cps || sp->start >= sp->end)
			return err_set(e, MOAT_EUSAGE, "item %zu: span [%zu, %zu) is outside its text",
				       idx + 1, sp->start, sp->end);
		json_array_append_new(res, result(&rid, "labels", "label", "text",
			json_pack("{s:I,s:I,s:s%,s:[s]}", "start", (json_int_t)sp->start, "end",
				  (json_int_t)sp->end, "text", it->text + cps[sp->start],
				  cps[sp->end] - cps[sp->start], "labels", sp->label)));
	}
	if (v->n_boxes) {
		int w, h;
		if (annot_item_size(it, idx, &w, &h, e) < 0)
			return -1;
		for (size_t i = 0; i < v->n_boxes; i++) {
			const struct annot_box *b = &v->boxes[i];
			json_t *val = json_object(), *r;
			json_object_set_new(val, "x", json_real(b->x * 100.0 / w));
			json_object_set_new(val, "y", json_real(b->y * 100.0 / h));
			json_object_set_new(val, "width", json_real(b->w * 100.0 / w));
			json_object_set_new(val, "height", json_real(b->h * 100.0 / h));
			json_object_set_new(val, "rotation", annot_num_json(b->rotation));
			json_object_set_new(val, "rectanglelabels", json_pack("[s]", b->label));
			r = result(&rid, "rectanglelabels", "label", "image", val);
			json_object_set_new(r, "original_width", json_integer(w));
			json_object_set_new(r, "original_height", json_integer(h));
			json_object_set_new(r, "image_rotation", json_integer(0));
			json_array_append_new(res, r);
		}
	}
	if (v->text)
		json_array_append_new(res, result(&rid, "textarea", "answer", to,
						  json_pack("{s:[s]}", "text", v->text)));
	if (v->preference == 1 || v->preference == 2)
		json_array_append_new(res, result(&rid, "pairwise", "comparison", to,
			json_pack("{s:s}", "selected", v->preference == 1 ? "left" : "right")));
	return 0;
}

static json_t *task_json(const struct annot_item *it, size_t idx, struct moat_err *e)
{
	json_t *t = json_object(), *data = json_object(), *ann = json_array(), *pred = json_array();
	size_t *cps = NULL, n_cps = 0, na = 0, np = 0;
	json_object_set_new(t, "id", it->id ? annot_id_json(it->id) : json_integer((json_int_t)idx + 1));
	if (it->text)
		json_object_set_new(data, "text", json_string(it->text));
	if (it->image)
		json_object_set_new(data, "image", json_string(it->image));
	annot_meta_into(data, it->meta);
	json_object_set_new(t, "data", data);
	json_object_set_new(t, "annotations", ann);
	json_object_set_new(t, "predictions", pred);
	if (it->text && annot_cp_index(it->text, strlen(it->text), &cps, &n_cps) < 0) {
		json_decref(t);
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < it->n_values; i++) {
		const struct annot_value *v = &it->values[i];
		json_t *a = json_object(), *res = json_array();
		int pr = v->origin == ANNOT_PREDICTION;
		json_object_set_new(a, "id", json_integer((json_int_t)(pr ? ++np : ++na)));
		if (pr) {
			if (v->model)
				json_object_set_new(a, "model_version", json_string(v->model));
			if (v->score >= 0)
				json_object_set_new(a, "score", json_real(v->score));
		} else if (v->annotator) {
			json_object_set_new(a, "completed_by", annot_id_json(v->annotator));
		}
		json_object_set_new(a, "result", res);
		if (!pr) {
			json_object_set_new(a, "was_cancelled", json_false());
			json_object_set_new(a, "ground_truth", json_false());
		}
		json_array_append_new(pr ? pred : ann, a);
		if (value_results(it, idx, v, cps, n_cps, res, e) < 0) {
			free(cps);
			json_decref(t);
			return NULL;
		}
	}
	free(cps);
	return t;
}

int annot_export_labelstudio(const struct annot_set *s, struct annot_out *o,
			     const struct annot_export_opts *opts)
{
	struct annot_splits sp;
	if (annot_splits_of(s, opts, NULL, &sp, o->e) < 0)
		return -1;
	for (size_t k = 0; k < sp.n; k++) {
		json_t *list = json_array();
		char *rel = NULL;
		int rc;
		for (size_t i = 0; i < s->n_items; i++) {
			json_t *t;
			if (strcmp(annot_item_split(&s->items[i], opts), sp.name[k]))
				continue;
			if (!(t = task_json(&s->items[i], i, o->e))) {
				json_decref(list);
				annot_splits_release(&sp);
				return -1;
			}
			json_array_append_new(list, t);
		}
		if (asprintf(&rel, "%s.json", sp.name[k]) < 0) {
			json_decref(list);
			annot_splits_release(&sp);
			return err_set(o->e, MOAT_ENOMEM, "out of memory");
		}
		rc = annot_out_json(o, rel, list, 1);
		free(rel);
		json_decref(list);
		if (rc < 0) {
			annot_splits_release(&sp);
			return -1;
		}
	}
	annot_splits_release(&sp);
	return 0;
}
