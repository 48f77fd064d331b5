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

#include "../core/banned.h"

static int sp_spans(struct annot_jl *c, const json_t *l, const char *name)
{
	const char *k;
	const json_t *g;
	char f[96];
	if (!json_is_object(l))
		return annot_jl_each(c, l, name, annot_jl_span);
	json_object_foreach((json_t *)l, k, g) {
		annot_field(f, sizeof(f), "%s.%s", name, k);
		if (annot_jl_each(c, g, f, annot_jl_span) < 0)
			return -1;
	}
	return 0;
}

static int sp_cats(struct annot_jl *c, const json_t *cats)
{
	const char *k;
	const json_t *x;
	char f[96];
	if (json_is_array(cats))
		return annot_jl_labels(c, cats, "cats");
	if (!json_is_object(cats))
		return annot_jl_err(c, "cats", "not an object of label scores");
	json_object_foreach((json_t *)cats, k, x) {
		annot_field(f, sizeof(f), "cats.%s", k);
		if (!json_is_number(x) && !json_is_boolean(x))
			return annot_jl_err(c, f, "not a number");
		if ((json_is_boolean(x) ? json_is_true(x) : json_number_value(x) >= 0.5) &&
		    annot_add_label(c->v, k) < 0)
			return annot_jl_nomem(c);
	}
	return 0;
}

static int sp_record(struct annot_jl *c, const json_t *rec)
{
	const json_t *x;
	if ((x = json_object_get(rec, "spans")) && sp_spans(c, x, "spans") < 0)
		return -1;
	if ((x = json_object_get(rec, "entities")) && sp_spans(c, x, "entities") < 0)
		return -1;
	if ((x = json_object_get(rec, "cats")) && sp_cats(c, x) < 0)
		return -1;
	return 0;
}

int annot_import_spacy(const char *path, struct annot_set *s, struct moat_err *e)
{
	static const char *const known[] = { "id", "text", "spans", "entities", "cats", NULL };
	return annot_jl_import(path, known, sp_record, NULL, s, e);
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
