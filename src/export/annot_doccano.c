/*
 * annot_doccano.c - doccano's JSONL export: one record per text, with
 * "label" as a list of class names (text classification) or of
 * [start, end, label] triples (sequence labelling), or "entities" as triples
 * or objects {id, start_offset, end_offset, label} with "relations"
 * {from_id, to_id, type} (relation extraction), and "cats" beside
 * "entities" (intent detection and slot filling).  Records may be spread
 * over lines (doccano's own relation example is one pretty-printed object):
 * the file is read as a stream of JSON objects.
 *
 * Offsets are code points (doccano's backend is Python).  Relations are
 * kept in the item's meta with from_id/to_id turned into positions in the
 * item's span list, so that an export writes them back against entity ids
 * 0..n-1.  Other fields ("id" aside) go to the item's meta.
 *
 * Not for: doccano's CSV or fastText exports, or image projects.
 */
#include "annot_internal.h"

#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

/* --- import ---------------------------------------------------------------- */

/* The entity id of each span of the record, for its relations. */
struct dc_ents {
	int64_t *id;
	size_t n;
};

static int dc_span(struct annot_jl *c, const json_t *x, const char *field, int64_t ent_id)
{
	struct dc_ents *ents = c->arg;
	int64_t *ids;
	if (annot_jl_span(c, x, field) < 0)
		return -1;
	ids = realloc(ents->id, (ents->n + 1) * sizeof(*ids));
	if (!ids)
		return annot_jl_nomem(c);
	ents->id = ids;
	ids[ents->n++] = ent_id;
	return 0;
}

/* "label" / "labels": class names, or span triples; not both. */
static int dc_labels(struct annot_jl *c, const json_t *l, const char *name)
{
	const json_t *x;
	char f[64];
	size_t i;
	if (json_is_string(l))
		return annot_add_label(c->v, json_string_value(l)) < 0 ? annot_jl_nomem(c) : 0;
	if (!json_is_array(l))
		return annot_jl_err(c, name, "not a list");
	json_array_foreach(l, i, x) {
		annot_field(f, sizeof(f), "%s[%zu]", name, i);
		if (json_is_string(x)) {
			if (c->v->n_spans)
				return annot_jl_err(c, f, "class names mixed with spans");
			if (annot_add_label(c->v, json_string_value(x)) < 0)
				return annot_jl_nomem(c);
		} else if (json_is_array(x)) {
			if (c->v->n_labels)
				return annot_jl_err(c, f, "spans mixed with class names");
			if (dc_span(c, x, f, (int64_t)i) < 0)
				return -1;
		} else {
			return annot_jl_err(c, f, "expected a class name or [start, end, label]");
		}
	}
	return 0;
}

static int dc_entities(struct annot_jl *c, const json_t *l)
{
	const struct dc_ents *ents = c->arg;
	const json_t *x;
	char f[64];
	size_t i;
	if (!json_is_array(l))
		return annot_jl_err(c, "entities", "not a list");
	json_array_foreach(l, i, x) {
		int64_t id = (int64_t)i;
		annot_field(f, sizeof(f), "entities[%zu]", i);
		if (json_is_object(x) && json_object_get(x, "id")) {
			if (!json_is_integer(json_object_get(x, "id")))
				return annot_jl_err(c, f, "'id' is not an integer");
			id = json_integer_value(json_object_get(x, "id"));
			for (size_t k = 0; k < ents->n; k++)
				if (ents->id[k] == id)
					return annot_jl_err(c, f, "two entities have the same id");
		}
		if (dc_span(c, x, f, id) < 0)
			return -1;
	}
	return 0;
}

/* relations -> meta, with entity ids turned into span positions */
static int dc_relations(struct annot_jl *c, const json_t *l, json_t *meta)
{
	const struct dc_ents *ents = c->arg;
	json_t *out, *x;
	char f[64];
	size_t i;
	if (!json_is_array(l))
		return annot_jl_err(c, "relations", "not a list");
	if (!(out = json_array()))
		return annot_jl_nomem(c);
	json_array_foreach(l, i, x) {
		static const char *const ends[] = { "from_id", "to_id" };
		json_t *r;
		if (!json_is_object(x)) {
			json_decref(out);
			annot_field(f, sizeof(f), "relations[%zu]", i);
			return annot_jl_err(c, f, "not an object");
		}
		if (!(r = json_deep_copy(x)) || json_array_append_new(out, r) < 0) {
			json_decref(out);
			return annot_jl_nomem(c);
		}
		json_object_del(r, "id");
		for (int k = 0; k < 2; k++) {
			const json_t *id = json_object_get(x, ends[k]);
			size_t pos;
			annot_field(f, sizeof(f), "relations[%zu].%s", i, ends[k]);
			for (pos = 0; json_is_integer(id) && pos < ents->n; pos++)
				if (ents->id[pos] == json_integer_value(id))
					break;
			if (!json_is_integer(id) || pos == ents->n) {
				json_decref(out);
				return annot_jl_err(c, f, id ? "names no entity of this record" : "missing");
			}
			json_object_set_new(r, ends[k], json_integer((json_int_t)pos));
		}
	}
	if (json_object_set_new(meta, "relations", out) < 0)
		return annot_jl_nomem(c);
	return 0;
}

static int dc_record(struct annot_jl *c, const json_t *rec)
{
	const json_t *x;
	((struct dc_ents *)c->arg)->n = 0;
	if ((x = json_object_get(rec, "label")) && dc_labels(c, x, "label") < 0)
		return -1;
	if ((x = json_object_get(rec, "labels")) && dc_labels(c, x, "labels") < 0)
		return -1;
	if ((x = json_object_get(rec, "entities")) && dc_entities(c, x) < 0)
		return -1;
	if ((x = json_object_get(rec, "cats")) && annot_jl_labels(c, x, "cats") < 0)
		return -1;
	if ((x = json_object_get(rec, "relations"))) {
		if (!c->it->meta && !(c->it->meta = json_object()))
			return annot_jl_nomem(c);
		if (dc_relations(c, x, c->it->meta) < 0)
			return -1;
	}
	return 0;
}

int annot_import_doccano(const char *path, struct annot_set *s, struct moat_err *e)
{
	static const char *const known[] = { "id", "text", "label", "labels", "entities", "cats",
					     "relations", NULL };
	struct dc_ents ents = { NULL, 0 };
	int rc = annot_jl_import(path, known, dc_record, &ents, s, e);
	free(ents.id);
	return rc;
}

/* --- export ---------------------------------------------------------------- */

static json_t *triple(const struct annot_span *sp)
{
	return json_pack("[I,I,s]", (json_int_t)sp->start, (json_int_t)sp->end, sp->label);
}

static json_t *dc_json(const struct annot_item *it)
{
	const struct annot_value *v = annot_main_value(it);
	const json_t *rel = it->meta ? json_object_get(it->meta, "relations") : NULL;
	json_t *r = json_object(), *l;
	size_t ns = v ? v->n_spans : 0, nl = v ? v->n_labels : 0;
	if (it->id)
		json_object_set_new(r, "id", annot_id_json(it->id));
	json_object_set_new(r, "text", json_string(it->text));
	if (ns && json_is_array(rel)) {
		l = json_array();
		for (size_t i = 0; i < ns; i++)
			json_array_append_new(l, json_pack("{s:I,s:s,s:I,s:I}", "id", (json_int_t)i,
							   "label", v->spans[i].label, "start_offset",
							   (json_int_t)v->spans[i].start, "end_offset",
							   (json_int_t)v->spans[i].end));
		json_object_set_new(r, "entities", l);
		json_object_set(r, "relations", (json_t *)rel);
		if (nl) {
			l = json_array();
			for (size_t i = 0; i < nl; i++)
				json_array_append_new(l, json_string(v->labels[i]));
			json_object_set_new(r, "cats", l);
		}
	} else if (ns && nl) {
		l = json_array();
		for (size_t i = 0; i < ns; i++)
			json_array_append_new(l, triple(&v->spans[i]));
		json_object_set_new(r, "entities", l);
		l = json_array();
		for (size_t i = 0; i < nl; i++)
			json_array_append_new(l, json_string(v->labels[i]));
		json_object_set_new(r, "cats", l);
	} else {
		l = json_array();
		for (size_t i = 0; i < ns; i++)
			json_array_append_new(l, triple(&v->spans[i]));
		for (size_t i = 0; i < nl; i++)
			json_array_append_new(l, json_string(v->labels[i]));
		json_object_set_new(r, "label", l);
	}
	if (it->meta) {
		json_t *m = json_copy(it->meta);
		if (m) {
			json_object_del(m, "relations");
			annot_meta_into(r, m);
			json_decref(m);
		}
	}
	return r;
}

int annot_export_doccano(const struct annot_set *s, struct annot_out *o,
			 const struct annot_export_opts *opts)
{
	return annot_export_jsonl(s, o, opts, dc_json);
}
