/*
 * annot_spacy.c - the JSON Lines that spaCy and Prodigy users pass around
 * for span and entity training data: {"text", "spans": [[start, end,
 * label], ...]}, with "entities" read as another name for "spans", a span
 * also as {"start", "end", "label"} (Prodigy), "spans" also as span groups
 * {"sc": [...]} (spaCy's doc.spans), and "cats" as {"label": score} (spaCy's
 * textcat: a score of 0.5 or more chooses the label) or a list of labels.
 * Offsets are code points (Python string indices).  Other fields ("id"
 * aside) go to the item's meta.
 *
 * Not for: spaCy's binary DocBin (.spacy) or its v2 JSON training format
 * (token-based, with BILUO tags: use conll for token-level data).
 */
#include "annot_internal.h"

#include <stdlib.h>
#include <string.h>

#include "../core/utf8.h"

#include "../core/banned.h"

struct sp_ctx {
	const char *file;
	size_t line;
	struct annot_set *s;
	struct annot_value *v;
	size_t n_cps;
	struct moat_err *e;
};

static int sp_err(struct sp_ctx *c, const char *field, const char *msg)
{
	return annot_err(c->e, MOAT_EPARSE, c->file, "line", c->line, field, "%s", msg);
}

static int sp_nomem(struct sp_ctx *c)
{
	return annot_err(c->e, MOAT_ENOMEM, c->file, "line", c->line, NULL, "out of memory");
}

static int sp_label(struct sp_ctx *c, const char *label)
{
	if (annot_add_label(c->v, label) < 0 || annot_label_index(c->s, label) < 0)
		return sp_nomem(c);
	return 0;
}

static int sp_list(struct sp_ctx *c, const json_t *l, const char *name)
{
	const json_t *x;
	char f[96];
	size_t i;
	if (!json_is_array(l))
		return sp_err(c, name, "not a list");
	json_array_foreach(l, i, x) {
		int64_t s, e;
		const char *label;
		annot_field(f, sizeof(f), "%s[%zu]", name, i);
		if (annot_json_span(x, c->n_cps, &s, &e, &label, c->file, "line", c->line, f, c->e) < 0)
			return -1;
		if (annot_add_span(c->v, (size_t)s, (size_t)e, label) < 0 ||
		    annot_label_index(c->s, label) < 0)
			return sp_nomem(c);
	}
	return 0;
}

static int sp_spans(struct sp_ctx *c, const json_t *l, const char *name)
{
	const char *k;
	const json_t *g;
	char f[96];
	if (!json_is_object(l))
		return sp_list(c, l, name);
	json_object_foreach((json_t *)l, k, g) {
		annot_field(f, sizeof(f), "%s.%s", name, k);
		if (sp_list(c, g, f) < 0)
			return -1;
	}
	return 0;
}

static int sp_cats(struct sp_ctx *c, const json_t *cats)
{
	const char *k;
	const json_t *x;
	char f[96];
	size_t i;
	if (json_is_array(cats)) {
		json_array_foreach(cats, i, x) {
			annot_field(f, sizeof(f), "cats[%zu]", i);
			if (!json_is_string(x))
				return sp_err(c, f, "not a string");
			if (sp_label(c, json_string_value(x)) < 0)
				return -1;
		}
		return 0;
	}
	if (!json_is_object(cats))
		return sp_err(c, "cats", "not an object of label scores");
	json_object_foreach((json_t *)cats, k, x) {
		annot_field(f, sizeof(f), "cats.%s", k);
		if (!json_is_number(x) && !json_is_boolean(x))
			return sp_err(c, f, "not a number");
		if ((json_is_boolean(x) ? json_is_true(x) : json_number_value(x) >= 0.5) &&
		    sp_label(c, k) < 0)
			return -1;
	}
	return 0;
}

static int sp_record(struct sp_ctx *c, const json_t *rec, const char *split)
{
	static const char *const known[] = { "id", "text", "spans", "entities", "cats", NULL };
	const json_t *t = json_object_get(rec, "text"), *x;
	struct annot_item *it;
	if (!json_is_string(t))
		return sp_err(c, "text", t ? "not a string" : "missing");
	if (strlen(json_string_value(t)) != json_string_length(t))
		return sp_err(c, "text", "holds a NUL character");
	if (!(it = annot_add_item(c->s)))
		return sp_nomem(c);
	if (annot_json_id(json_object_get(rec, "id"), &it->id) < 0 && json_object_get(rec, "id"))
		return sp_err(c, "id", "not a string or an integer");
	if (!(it->text = strdup(json_string_value(t))) || (split && !(it->split = strdup(split))) ||
	    !(c->v = annot_add_value(it)) || annot_meta_from(rec, known, &it->meta) < 0)
		return sp_nomem(c);
	c->n_cps = utf8_count(it->text, strlen(it->text));
	if ((x = json_object_get(rec, "spans")) && sp_spans(c, x, "spans") < 0)
		return -1;
	if ((x = json_object_get(rec, "entities")) && sp_spans(c, x, "entities") < 0)
		return -1;
	if ((x = json_object_get(rec, "cats")) && sp_cats(c, x) < 0)
		return -1;
	return 0;
}

static int sp_file(const char *path, struct annot_set *s, struct moat_err *e)
{
	struct sp_ctx c = { path, 0, s, NULL, 0, e };
	struct annot_jstream js;
	struct buf b = BUF_INIT;
	char *split = NULL;
	json_t *rec;
	int rc;
	if (annot_read_file(path, &b, e) < 0) {
		buf_release(&b);
		return -1;
	}
	if (annot_split_from_name(path, &split) < 0) {
		buf_release(&b);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	annot_jstream_init(&js, path, buf_str(&b), b.len);
	while ((rc = annot_jstream_next(&js, &rec, &c.line, e)) > 0) {
		rc = sp_record(&c, rec, split);
		json_decref(rec);
		if (rc < 0)
			break;
	}
	free(split);
	buf_release(&b);
	return rc < 0 ? -1 : 0;
}

static int jsonl_name(const char *name)
{
	return annot_has_ext(name, ".jsonl") || annot_has_ext(name, ".json");
}

int annot_import_spacy(const char *path, struct annot_set *s, struct moat_err *e)
{
	return annot_import_files(path, jsonl_name, sp_file, s, e);
}

static json_t *sp_json(const struct annot_item *it)
{
	const struct annot_value *v = annot_main_value(it);
	json_t *r = json_object(), *l = json_array();
	if (it->id)
		json_object_set_new(r, "id", annot_id_json(it->id));
	json_object_set_new(r, "text", json_string(it->text));
	for (size_t i = 0; v && i < v->n_spans; i++)
		json_array_append_new(l, json_pack("[I,I,s]", (json_int_t)v->spans[i].start,
						   (json_int_t)v->spans[i].end, v->spans[i].label));
	json_object_set_new(r, "spans", l);
	if (v && v->n_labels) {
		json_t *cats = json_object();
		for (size_t i = 0; i < v->n_labels; i++)
			json_object_set_new(cats, v->labels[i], json_real(1.0));
		json_object_set_new(r, "cats", cats);
	}
	annot_meta_into(r, it->meta);
	return r;
}

int annot_export_spacy(const struct annot_set *s, struct annot_out *o,
		       const struct annot_export_opts *opts)
{
	return annot_export_jsonl(s, o, opts, sp_json);
}
