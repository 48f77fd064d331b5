/*
 * schema.c - a project's schema (label.h): the task kind, its labels with
 * keys and colours, guidelines and the suggestion prompt; and the check that
 * an annotation or suggestion value fits the schema and its task.
 */
#include "label.h"
#include "../core/fmt.h"
#include "../core/utf8.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

static const char *const KIND_NAMES[] = { "", "classification", "spans", "qa", "boxes", "preference" };

/* A palette that stays apart for the common kinds of colour blindness
 * (Okabe and Ito), then Tableau's ten. */
static const char *const PALETTE[] = {
	"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000",
	"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
};

const char *label_kind_name(enum label_kind k)
{
	return k >= LABEL_CLASSIFICATION && k <= LABEL_PREFERENCE ? KIND_NAMES[k] : "unknown";
}

void label_schema_free(struct label_schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_labels; i++) {
		free(s->labels[i].name);
		free(s->labels[i].key);
		free(s->labels[i].color);
		free(s->labels[i].description);
	}
	free(s->labels);
	free(s->guidelines);
	free(s->prompt);
	free(s);
}

int label_schema_find(const struct label_schema *s, const char *name)
{
	for (size_t i = 0; name && i < s->n_labels; i++)
		if (!strcmp(s->labels[i].name, name))
			return (int)i;
	return -1;
}

static int bad(struct moat_err *e, const char *what, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int bad(struct moat_err *e, const char *what, const char *field, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	if (xvsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	return err_set(e, MOAT_EPARSE, "%s: field '%s': %s", what, field, msg);
}

/* A string field or NULL; -1 when present and not a string. */
static int opt_str(const json_t *o, const char *key, char **out, const char *what, const char *field,
		   size_t max, struct moat_err *e)
{
	const json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return bad(e, what, field, "not a string");
	if (json_string_length(v) > max)
		return bad(e, what, field, "longer than %zu bytes", max);
	if (!(*out = strdup(json_string_value(v))))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return 0;
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

struct label_schema *label_schema_parse(const char *text, size_t len, const char *what,
					struct moat_err *e)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *labels, *v;
	struct label_schema *s = NULL;
	const char *kind;
	char field[64];
	size_t i;
	int k;

	if (!root) {
		err_set(e, MOAT_EPARSE, "%s: not JSON (line %d: %s)", what, je.line, je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		err_set(e, MOAT_EPARSE, "%s: not a JSON object", what);
		goto fail;
	}
	if (!(s = calloc(1, sizeof(*s)))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	kind = json_string_value(json_object_get(root, "kind"));
	if (!kind) {
		bad(e, what, "kind", "missing (classification, spans, qa, boxes or preference)");
		goto fail;
	}
	for (k = LABEL_CLASSIFICATION; k <= LABEL_PREFERENCE; k++)
		if (!strcmp(kind, KIND_NAMES[k]))
			s->kind = (enum label_kind)k;
	if (!s->kind) {
		bad(e, what, "kind", "unknown kind '%.40s' (classification, spans, qa, boxes or "
		    "preference)", kind);
		goto fail;
	}
	v = json_object_get(root, "multi");
	if (v && !json_is_boolean(v)) {
		bad(e, what, "multi", "not true or false");
		goto fail;
	}
	s->multi = json_is_true(v);
	if (s->multi && s->kind != LABEL_CLASSIFICATION) {
		bad(e, what, "multi", "only classification takes several labels per task");
		goto fail;
	}
	if (opt_str(root, "guidelines", &s->guidelines, what, "guidelines", 1 << 20, e) < 0 ||
	    opt_str(root, "prompt", &s->prompt, what, "prompt", 1 << 20, e) < 0)
		goto fail;
	labels = json_object_get(root, "labels");
	if (labels && !json_is_array(labels)) {
		bad(e, what, "labels", "not an array");
		goto fail;
	}
	if ((s->kind == LABEL_CLASSIFICATION || s->kind == LABEL_SPANS || s->kind == LABEL_BOXES) &&
	    json_array_size(labels) == 0) {
		bad(e, what, "labels", "a %s schema needs at least one label", kind);
		goto fail;
	}
	if (json_array_size(labels) > 1000) {
		bad(e, what, "labels", "more than 1000 labels");
		goto fail;
	}
	if (json_array_size(labels) &&
	    !(s->labels = calloc(json_array_size(labels), sizeof(*s->labels)))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	json_array_foreach(labels, i, v) {
		struct label_def *d = &s->labels[i];
		if (json_is_string(v)) {  /* a bare name */
			if (!(d->name = strdup(json_string_value(v)))) {
				err_set(e, MOAT_ENOMEM, "out of memory");
				goto fail;
			}
		} else if (json_is_object(v)) {
			if (xsnprintf(field, sizeof(field), "labels[%zu].name", i) < 0 ||
			    opt_str(v, "name", &d->name, what, field, 200, e) < 0)
				goto fail;
			if (xsnprintf(field, sizeof(field), "labels[%zu].key", i) < 0 ||
			    opt_str(v, "key", &d->key, what, field, 8, e) < 0)
				goto fail;
			if (xsnprintf(field, sizeof(field), "labels[%zu].color", i) < 0 ||
			    opt_str(v, "color", &d->color, what, field, 7, e) < 0)
				goto fail;
			if (xsnprintf(field, sizeof(field), "labels[%zu].description", i) < 0 ||
			    opt_str(v, "description", &d->description, what, field, 4096, e) < 0)
				goto fail;
		} else {
			if (xsnprintf(field, sizeof(field), "labels[%zu]", i) < 0)
				field[0] = '\0';
			bad(e, what, field, "neither a name nor an object");
			goto fail;
		}
		s->n_labels = i + 1;
		if (xsnprintf(field, sizeof(field), "labels[%zu].name", i) < 0)
			field[0] = '\0';
		if (!d->name || !d->name[0] || has_control(d->name) ||
		    !utf8_is_valid(d->name, strlen(d->name))) {
			bad(e, what, field, "missing, empty or holding control characters");
			goto fail;
		}
		if (label_schema_find(s, d->name) != (int)i) {
			bad(e, what, field, "duplicate label '%s'", d->name);
			goto fail;
		}
		if (xsnprintf(field, sizeof(field), "labels[%zu].key", i) < 0)
			field[0] = '\0';
		if (d->key && (!d->key[0] || has_control(d->key))) {
			bad(e, what, field, "empty or a control character");
			goto fail;
		}
		for (size_t j = 0; d->key && j < i; j++)
			if (s->labels[j].key && !strcmp(s->labels[j].key, d->key)) {
				bad(e, what, field, "duplicate key '%s' (also '%s')", d->key,
				    s->labels[j].name);
				goto fail;
			}
		if (xsnprintf(field, sizeof(field), "labels[%zu].color", i) < 0)
			field[0] = '\0';
		if (d->color) {
			int ok = strlen(d->color) == 7 && d->color[0] == '#';
			for (int c = 1; ok && c < 7; c++)
				ok = isxdigit((unsigned char)d->color[c]);
			if (!ok) {
				bad(e, what, field, "not a colour '#rrggbb'");
				goto fail;
			}
		} else if (!(d->color = strdup(PALETTE[i % (sizeof(PALETTE) / sizeof(PALETTE[0]))]))) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto fail;
		}
	}
	json_decref(root);
	return s;
fail:
	json_decref(root);
	label_schema_free(s);
	return NULL;
}

json_t *label_schema_json(const struct label_schema *s)
{
	json_t *o = json_pack("{s:s, s:b}", "kind", label_kind_name(s->kind), "multi", s->multi),
	       *labels = json_array();
	int fail = !o || !labels;
	for (size_t i = 0; !fail && i < s->n_labels; i++) {
		const struct label_def *d = &s->labels[i];
		json_t *l = json_pack("{s:s, s:s?, s:s?, s:s?}", "name", d->name, "key", d->key, "color",
				      d->color, "description", d->description);
		fail = !l || json_array_append_new(labels, l) < 0;
	}
	if (!fail)
		fail = json_object_set_new(o, "labels", labels) < 0;
	else
		json_decref(labels);
	if (!fail && s->guidelines)
		fail = json_object_set_new(o, "guidelines", json_string(s->guidelines)) < 0;
	if (!fail && s->prompt)
		fail = json_object_set_new(o, "prompt", json_string(s->prompt)) < 0;
	if (fail) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* --- values ------------------------------------------------------------------ */

static int vbad(struct moat_err *e, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int vbad(struct moat_err *e, const char *field, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	if (xvsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	return err_set(e, MOAT_EPARSE, "field '%s': %s", field, msg);
}

static int known_label(const struct label_schema *s, const json_t *v, const char *field,
		       struct moat_err *e)
{
	if (!json_is_string(v))
		return vbad(e, field, "a label is a string");
	if (label_schema_find(s, json_string_value(v)) < 0)
		return vbad(e, field, "'%.80s' is not a label of this project", json_string_value(v));
	return 0;
}

static int is_int(const json_t *v, json_int_t *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 1;
	}
	if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
	    fabs(json_real_value(v)) < 9e15) {
		*out = (json_int_t)json_real_value(v);
		return 1;
	}
	return 0;
}

int label_value_check(const struct label_schema *s, const json_t *value, size_t text_cp,
		      int width, int height, struct moat_err *e)
{
	const char *key;
	json_t *v;
	char field[48];
	size_t i;
	static const char *const ALLOWED[] = { "", "labels", "spans", "text", "boxes", "preference" };

	if (!json_is_object(value))
		return vbad(e, "value", "not a JSON object");
	json_object_foreach((json_t *)value, key, v) {
		if (strcmp(key, ALLOWED[s->kind]) && strcmp(key, "comment"))
			return vbad(e, key, "a %s task's value holds '%s'%s", label_kind_name(s->kind),
				    ALLOWED[s->kind], s->kind == LABEL_QA ? " (the answer)" : "");
	}
	if ((v = json_object_get(value, "comment")) && !json_is_string(v))
		return vbad(e, "comment", "not a string");
	v = json_object_get(value, ALLOWED[s->kind]);
	if (!v)
		return vbad(e, ALLOWED[s->kind], "missing");
	switch (s->kind) {
	case LABEL_CLASSIFICATION:
		if (!json_is_array(v))
			return vbad(e, "labels", "not an array");
		if (!s->multi && json_array_size(v) != 1)
			return vbad(e, "labels", "this project takes exactly one label per task");
		for (i = 0; i < json_array_size(v); i++) {
			if (xsnprintf(field, sizeof(field), "labels[%zu]", i) < 0 ||
			    known_label(s, json_array_get(v, i), field, e) < 0)
				return -1;
			for (size_t j = 0; j < i; j++)
				if (json_equal(json_array_get(v, i), json_array_get(v, j)))
					return vbad(e, field, "label given twice");
		}
		return 0;
	case LABEL_SPANS:
		if (!json_is_array(v))
			return vbad(e, "spans", "not an array");
		for (i = 0; i < json_array_size(v); i++) {
			json_t *sp = json_array_get(v, i);
			json_int_t a, b;
			if (xsnprintf(field, sizeof(field), "spans[%zu]", i) < 0)
				field[0] = '\0';
			if (!json_is_array(sp) || json_array_size(sp) != 3 ||
			    !is_int(json_array_get(sp, 0), &a) || !is_int(json_array_get(sp, 1), &b))
				return vbad(e, field, "not [start, end, label]");
			if (a < 0 || b <= a || (size_t)b > text_cp)
				return vbad(e, field, "[%lld, %lld) is not a span of the text (%zu code "
					    "points)", (long long)a, (long long)b, text_cp);
			if (known_label(s, json_array_get(sp, 2), field, e) < 0)
				return -1;
		}
		return 0;
	case LABEL_QA:
		if (!json_is_string(v))
			return vbad(e, "text", "the answer is a string");
		if (json_string_length(v) > (1u << 20))
			return vbad(e, "text", "longer than 1 MiB");
		return 0;
	case LABEL_BOXES:
		if (!json_is_array(v))
			return vbad(e, "boxes", "not an array");
		for (i = 0; i < json_array_size(v); i++) {
			json_t *bx = json_array_get(v, i);
			double c[4];
			if (xsnprintf(field, sizeof(field), "boxes[%zu]", i) < 0)
				field[0] = '\0';
			if (!json_is_array(bx) || json_array_size(bx) != 5)
				return vbad(e, field, "not [x, y, w, h, label]");
			for (int k = 0; k < 4; k++) {
				if (!json_is_number(json_array_get(bx, (size_t)k)))
					return vbad(e, field, "x, y, w and h are numbers");
				c[k] = json_number_value(json_array_get(bx, (size_t)k));
				if (!isfinite(c[k]))
					return vbad(e, field, "not a finite number");
			}
			if (c[0] < 0 || c[1] < 0 || c[2] <= 0 || c[3] <= 0)
				return vbad(e, field, "a box starts inside the image and has a size");
			/* half a pixel of slack: rounding in a browser's zoom */
			if ((width > 0 && c[0] + c[2] > width + 0.5) ||
			    (height > 0 && c[1] + c[3] > height + 0.5))
				return vbad(e, field, "leaves the %dx%d image", width, height);
			if (known_label(s, json_array_get(bx, 4), field, e) < 0)
				return -1;
		}
		return 0;
	case LABEL_PREFERENCE: {
		json_int_t p;
		if (!is_int(v, &p) || (p != 1 && p != 2))
			return vbad(e, "preference", "1 or 2");
		return 0;
	}
	}
	return vbad(e, "value", "unknown kind");
}
