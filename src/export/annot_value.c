/*
 * annot_value.c - an annotation value to and from the workspace's JSON
 * (annot_value.h).
 */
#include "annot_value.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../core/banned.h"

int annot_value_empty(const struct annot_value *v)
{
	return !v->n_labels && !v->n_spans && !v->n_boxes && !v->text && !v->preference;
}

char *annot_value_json(const struct annot_value *v)
{
	json_t *o = json_object(), *a;
	char *text = NULL;
	int bad = !o;
	if (!bad && v->n_labels) {
		bad = !(a = json_array()) || json_object_set_new(o, "labels", a);
		for (size_t i = 0; !bad && i < v->n_labels; i++)
			bad = json_array_append_new(a, json_string(v->labels[i]));
	}
	if (!bad && v->n_spans) {
		bad = !(a = json_array()) || json_object_set_new(o, "spans", a);
		for (size_t i = 0; !bad && i < v->n_spans; i++)
			bad = json_array_append_new(a, json_pack("[I,I,s]", (json_int_t)v->spans[i].start,
								 (json_int_t)v->spans[i].end,
								 v->spans[i].label));
	}
	if (!bad && v->n_boxes) {
		bad = !(a = json_array()) || json_object_set_new(o, "boxes", a);
		for (size_t i = 0; !bad && i < v->n_boxes; i++) {
			const struct annot_box *b = &v->boxes[i];
			json_t *x = json_pack("[f,f,f,f,s]", b->x, b->y, b->w, b->h, b->label);
			if (x && b->rotation != 0 && json_array_append_new(x, json_real(b->rotation))) {
				json_decref(x);
				x = NULL;
			}
			bad = json_array_append_new(a, x);
		}
	}
	if (!bad && v->text)
		bad = json_object_set_new(o, "text", json_string(v->text));
	if (!bad && v->preference)
		bad = json_object_set_new(o, "preference", json_integer(v->preference));
	if (!bad)
		text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

static int part_err(struct moat_err *e, const char *part, size_t i, const char *why)
{
	return err_set(e, MOAT_EPARSE, "annotation value: %s[%zu]: %s", part, i, why);
}

int annot_value_parse(const char *text, struct annot_value *v, struct moat_err *e)
{
	json_error_t je;
	json_t *o = json_loads(text, 0, &je), *a, *x;
	size_t i;
	int rc = -1;
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return err_set(e, MOAT_EPARSE, "annotation value: not a JSON object");
	}
	json_array_foreach(json_object_get(o, "labels"), i, x) {
		if (!json_is_string(x)) {
			part_err(e, "labels", i, "not a string");
			goto out;
		}
		if (annot_add_label(v, json_string_value(x)) < 0)
			goto nomem;
	}
	json_array_foreach(json_object_get(o, "spans"), i, x) {
		json_t *s = json_array_get(x, 0), *en = json_array_get(x, 1), *l = json_array_get(x, 2);
		if (!json_is_integer(s) || !json_is_integer(en) || !json_is_string(l) ||
		    json_integer_value(s) < 0 || json_integer_value(en) < json_integer_value(s)) {
			part_err(e, "spans", i, "not [start, end, label]");
			goto out;
		}
		if (annot_add_span(v, (size_t)json_integer_value(s), (size_t)json_integer_value(en),
				   json_string_value(l)) < 0)
			goto nomem;
	}
	a = json_object_get(o, "boxes");
	json_array_foreach(a, i, x) {
		double n[5] = { 0, 0, 0, 0, 0 };
		json_t *l = json_array_get(x, 4);
		for (size_t k = 0; k < 4; k++) {
			if (!json_is_number(json_array_get(x, k))) {
				part_err(e, "boxes", i, "not [x, y, w, h, label]");
				goto out;
			}
			n[k] = json_number_value(json_array_get(x, k));
		}
		if (!json_is_string(l)) {
			part_err(e, "boxes", i, "not [x, y, w, h, label]");
			goto out;
		}
		if (json_is_number(json_array_get(x, 5)))
			n[4] = json_number_value(json_array_get(x, 5));
		if (annot_add_box(v, n[0], n[1], n[2], n[3], n[4], json_string_value(l)) < 0)
			goto nomem;
	}
	if (json_is_string(json_object_get(o, "text")) &&
	    !(v->text = strdup(json_string_value(json_object_get(o, "text")))))
		goto nomem;
	v->preference = (int)json_integer_value(json_object_get(o, "preference"));
	rc = 0;
	goto out;
nomem:
	err_set(e, MOAT_ENOMEM, "out of memory");
out:
	json_decref(o);
	return rc;
}
