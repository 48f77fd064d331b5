/*
 * project.c - making, listing and removing annotation projects (label.h):
 * the tasks of a project are the documents, elements, pages, chunks or
 * images earlier stages stored, filtered by --where.
 */
#include "label.h"
#include "where.h"
#include "../store/store.h"
#include "../store/dataset.h"
#include "../store/label.h"
#include "../core/fmt.h"
#include "../core/utf8.h"

#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

/* The byte offset of code point cp in s[0, len) (len when past the end). */
static size_t cp_byte(const char *s, size_t len, size_t cp)
{
	size_t i = 0;
	while (cp && i < len) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		cp--;
	}
	return i;
}

/* A walk through one text by code points, forwards: elements come in order,
 * so finding each one's bytes costs its distance from the one before, not
 * from the start (100,000 elements of one CSV: minutes become a second). */
struct cp_cursor {
	const char *s;
	size_t len, cp, byte;
};

static size_t cursor_byte(struct cp_cursor *c, size_t cp)
{
	if (cp < c->cp) {  /* backwards (overlapping elements): from the start */
		c->cp = 0;
		c->byte = 0;
	}
	c->byte += cp_byte(c->s + c->byte, c->len - c->byte, cp - c->cp);
	c->cp = cp;
	return c->byte;
}

struct item {
	const char *type, *path, *doc, *lang, *element;
	long long chars, page, tokens, width, height;  /* -1: the item has none */
	char num[24];
};

static const char *item_get(void *ctx, const char *field)
{
	struct item *it = ctx;
	long long v = -1;
	if (!strcmp(field, "type")) return it->type;
	if (!strcmp(field, "path")) return it->path;
	if (!strcmp(field, "doc")) return it->doc;
	if (!strcmp(field, "lang")) return it->lang;
	if (!strcmp(field, "element")) return it->element;
	if (!strcmp(field, "chars")) v = it->chars;
	else if (!strcmp(field, "page")) v = it->page;
	else if (!strcmp(field, "tokens")) v = it->tokens;
	else if (!strcmp(field, "width")) v = it->width;
	else if (!strcmp(field, "height")) v = it->height;
	if (v < 0 || xsnprintf(it->num, sizeof(it->num), "%lld", v) < 0)
		return NULL;
	return it->num;
}

static void item_init(struct item *it)
{
	memset(it, 0, sizeof(*it));
	it->chars = it->page = it->tokens = it->width = it->height = -1;
}

enum source { SRC_DOCUMENTS, SRC_ELEMENTS, SRC_PAGES, SRC_CHUNKS, SRC_IMAGES };

struct creating {
	struct store *s;
	int64_t project;
	int64_t run_id;
	int raw;
	enum source src;
	const struct where *w;
	int64_t n;
};

static int add_task(struct creating *c, struct ds_task *t, struct moat_err *e)
{
	t->run_id = c->run_id;
	if (ds_task_add(c->s, c->project, t, e) < 0)
		return -1;
	c->n++;
	return 0;
}

/* The document's meta for a task: its path, type and language. */
static char *doc_meta(const struct ds_doc *d, const char *extra_key, json_t *extra)
{
	json_t *o = json_pack("{s:s, s:s, s:s?}", "path", d->path ? d->path : "", "type",
			      d->type ? d->type : "", "lang", d->lang);
	char *text;
	if (o && extra_key && extra)
		json_object_set(o, extra_key, extra);
	text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	return text;
}

/* A task showing text[0, len) of document d: its own copy of the text, the
 * document's meta (plus extra_key: extra, when given). */
static int add_text_task(struct creating *c, const char *kind, const struct ds_doc *d, int seq,
			 const char *text, size_t len, const char *extra_key, json_t *extra,
			 struct moat_err *e)
{
	struct ds_task t = { 0 };
	char *copy = strndup(text, len), *meta = doc_meta(d, extra_key, extra);
	int rc;
	json_decref(extra);
	if (!copy || !meta) {
		free(copy);
		free(meta);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	t.kind = kind;
	t.doc_id = d->id;
	t.seq = seq;
	t.text = copy;
	t.cleaned = !c->raw;
	t.name = d->path && d->path[0] ? d->path : d->id;
	t.meta = meta;
	rc = add_task(c, &t, e);
	free(copy);
	free(meta);
	return rc;
}

static int on_doc(void *ctx, const struct ds_doc *d, struct moat_err *e)
{
	struct creating *c = ctx;
	struct item it;
	item_init(&it);
	it.type = d->type;
	it.path = d->path;
	it.doc = d->id;
	it.lang = d->lang;
	if (c->src == SRC_DOCUMENTS) {
		struct ds_task t = { 0 };
		char *meta;
		int rc;
		it.chars = (long long)utf8_count(d->text, d->len);
		if (!where_match(c->w, item_get, &it))
			return 0;
		if (!(meta = doc_meta(d, NULL, NULL)))
			return err_set(e, MOAT_ENOMEM, "out of memory");
		t.kind = "document";
		t.doc_id = d->id;
		t.seq = -1;
		t.text = d->text;
		t.cleaned = !c->raw;
		t.name = d->path && d->path[0] ? d->path : d->id;
		t.meta = meta;
		rc = add_task(c, &t, e);
		free(meta);
		return rc;
	}
	if (c->src == SRC_ELEMENTS) {
		struct cp_cursor cur = { d->text, d->len, 0, 0 };
		for (size_t i = 0; i < d->n_el; i++) {
			const struct ds_el *el = &d->el[i];
			size_t a = cursor_byte(&cur, el->start);
			size_t b = a + cp_byte(d->text + a, d->len - a, el->end - el->start);
			it.chars = (long long)(el->end - el->start);
			it.page = el->page > 0 ? el->page : -1;
			it.element = el->type;
			if (!where_match(c->w, item_get, &it))
				continue;
			if (add_text_task(c, "element", d, el->seq, d->text + a, b - a, "element",
					  json_string(el->type), e) < 0)
				return -1;
		}
		return 0;
	}
	/* pages: the text from a page's first element to its last */
	struct cp_cursor cur = { d->text, d->len, 0, 0 };
	for (size_t i = 0; i < d->n_el;) {
		int page = d->el[i].page;
		size_t j = i, start = d->el[i].start, end = d->el[i].end;
		while (j < d->n_el && d->el[j].page == page) {
			if (d->el[j].end > end)
				end = d->el[j].end;
			j++;
		}
		i = j;
		if (page <= 0)
			continue;
		{
			size_t a = cursor_byte(&cur, start);
			size_t b = a + cp_byte(d->text + a, d->len - a, end - start);
			it.page = page;
			it.chars = (long long)(end - start);
			if (!where_match(c->w, item_get, &it))
				continue;
			if (add_text_task(c, "page", d, page, d->text + a, b - a, NULL, NULL, e) < 0)
				return -1;
		}
	}
	return 0;
}

struct chunking {
	struct creating *c;
	const char *set_name;
};

static int on_chunk(void *ctx, const struct ds_chunk *ch, const struct ds_doc *d, struct moat_err *e)
{
	struct chunking *k = ctx;
	struct item it;
	item_init(&it);
	it.type = d->type;
	it.path = d->path;
	it.doc = d->id;
	it.lang = d->lang;
	it.tokens = ch->tokens;
	it.page = ch->page_first > 0 ? ch->page_first : -1;
	it.chars = (long long)(ch->end - ch->start);
	if (!where_match(k->c->w, item_get, &it))
		return 0;
	return add_text_task(k->c, "chunk", d, ch->seq, ch->text, ch->len, "chunk_set",
			     json_string(k->set_name), e);
}

static int on_image(void *ctx, const char *id, const char *path, const char *meta_text,
		    struct moat_err *e)
{
	struct creating *c = ctx;
	struct item it;
	struct ds_task t = { 0 };
	json_t *meta = meta_text ? json_loads(meta_text, 0, NULL) : NULL;
	char *m;
	int rc;
	item_init(&it);
	it.type = "image";
	it.path = path;
	it.doc = id;
	it.width = json_integer_value(json_object_get(meta, "width"));
	it.height = json_integer_value(json_object_get(meta, "height"));
	json_decref(meta);
	if (!where_match(c->w, item_get, &it))
		return 0;
	if (!(meta = json_pack("{s:s, s:s}", "path", path ? path : "", "type", "image")) ||
	    !(m = json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS))) {
		json_decref(meta);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	json_decref(meta);
	t.kind = "image";
	t.doc_id = id;
	t.seq = -1;
	t.image = path;
	t.width = (int)it.width;
	t.height = (int)it.height;
	t.name = path && path[0] ? path : id;
	t.meta = m;
	rc = add_task(c, &t, e);
	free(m);
	return rc;
}

static int valid_name(const char *name)
{
	size_t n = strlen(name);
	if (!n || n > 128 || !strcmp(name, ".") || !strcmp(name, "..") || name[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch < 0x20 || ch == 0x7f || ch == '/' || ch == '\\')
			return 0;
	}
	return utf8_is_valid(name, n);
}

int64_t label_create(struct store *s, const struct label_create_opts *o, struct moat_err *e)
{
	struct label_schema *sc;
	struct where *w = NULL;
	struct creating c = { s, 0, o->run_id, o->raw, SRC_DOCUMENTS, NULL, 0 };
	struct lb_project p;
	json_t *sj = NULL, *labels = NULL;
	char *schema_text = NULL, *labels_text = NULL, set_name[128] = "";
	const char *from = o->from ? o->from : "documents";
	int rc = -1;

	if (!valid_name(o->name))
		return err_set(e, MOAT_EUSAGE, "'%.140s' is not a project name (1 to 128 bytes of "
			       "UTF-8, no '/', '\\\\' or control characters, not starting with '-')",
			       o->name);
	if (o->overlap < 1 || o->overlap > 100)
		return err_set(e, MOAT_EUSAGE, "--overlap %d: give 1 to 100 annotators per task",
			       o->overlap);
	if (!strcmp(from, "documents"))
		c.src = SRC_DOCUMENTS;
	else if (!strcmp(from, "elements"))
		c.src = SRC_ELEMENTS;
	else if (!strcmp(from, "pages"))
		c.src = SRC_PAGES;
	else if (!strcmp(from, "images"))
		c.src = SRC_IMAGES;
	else if (!strcmp(from, "chunks") || !strncmp(from, "chunks:", 7)) {
		c.src = SRC_CHUNKS;
		if (from[6] == ':' && xsnprintf(set_name, sizeof(set_name), "%s", from + 7) < 0)
			return err_set(e, MOAT_EUSAGE, "--from: chunk set name too long");
	} else
		return err_set(e, MOAT_EUSAGE, "--from '%.60s': give documents, elements, pages, "
			       "chunks[:SET] or images", from);
	if (!(sc = label_schema_parse(o->schema_text, o->schema_len, o->schema_what, e)))
		return -1;
	if (sc->kind == LABEL_BOXES && c.src != SRC_IMAGES && c.src != SRC_PAGES) {
		err_set(e, MOAT_EUSAGE, "a boxes schema needs --from images or --from pages");
		goto out;
	}
	if (c.src == SRC_IMAGES && sc->kind != LABEL_BOXES && sc->kind != LABEL_CLASSIFICATION) {
		err_set(e, MOAT_EUSAGE, "images take a boxes or classification schema, not %s",
			label_kind_name(sc->kind));
		goto out;
	}
	if (o->where && !(w = where_parse(o->where, e)))
		goto out;
	c.w = w;
	if (!(sj = label_schema_json(sc)) || !(labels = json_array()) ||
	    !(schema_text = json_dumps(sj, JSON_COMPACT | JSON_SORT_KEYS))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < sc->n_labels; i++)
		if (json_array_append_new(labels, json_string(sc->labels[i].name)) < 0) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
	if (!(labels_text = json_dumps(labels, JSON_COMPACT))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	memset(&p, 0, sizeof(p));
	if (xsnprintf(p.name, sizeof(p.name), "%s", o->name) < 0)
		goto out;
	memcpy(p.kind, c.src == SRC_IMAGES ? "image" : "text", c.src == SRC_IMAGES ? 6 : 5);
	p.schema = schema_text;
	p.source = (char *)from;
	p.where = (char *)o->where;
	p.overlap = o->overlap;
	if (store_begin(s, e) < 0)
		goto out;
	if (lb_project_new(s, &p, labels_text, e) < 0)
		goto rollback;
	c.project = p.id;
	if (c.src == SRC_IMAGES) {
		if (lb_each_image(s, on_image, &c, e) < 0)
			goto rollback;
	} else if (c.src == SRC_CHUNKS) {
		struct ds_chunk_set set;
		struct chunking k = { &c, NULL };
		if (ds_chunk_set_find(s, set_name[0] ? set_name : NULL, &set, e) < 0)
			goto rollback;
		if (set.raw != o->raw) {
			err_set(e, MOAT_EUSAGE, "chunk set '%s' was cut from %s text: %s", set.name,
				set.raw ? "raw" : "cleaned", set.raw ? "add --raw" : "leave out --raw");
			goto rollback;
		}
		k.set_name = set.name;
		if (ds_each_chunk(s, set.id, on_chunk, &k, NULL, e) < 0)
			goto rollback;
	} else if (ds_each_doc(s, o->raw, on_doc, &c, e) < 0) {
		goto rollback;
	}
	if (store_commit(s, e) < 0)
		goto rollback;
	rc = 0;
	goto out;
rollback:
	store_rollback(s);
out:
	free(labels_text);
	free(schema_text);
	json_decref(labels);
	json_decref(sj);
	where_free(w);
	label_schema_free(sc);
	return rc < 0 ? -1 : c.n;
}

json_t *label_projects(struct store *s, struct moat_err *e)
{
	return lb_projects(s, NULL, e);
}

/* A schema for a project `moat import` made (it has none): boxes for
 * images, spans when its annotations hold spans, else classification over
 * its label set. */
static struct label_schema *implied_schema(struct store *s, const struct lb_project *p,
					   struct moat_err *e)
{
	struct label_schema *sc;
	const char *kind = !strcmp(p->kind, "image") ? "boxes" : "classification";
	json_t *labels = NULL, *o;
	int64_t id;
	char pk[16], *text;
	if (strcmp(kind, "boxes")) {
		json_t *anns = lb_project_annotations(s, p->id, e), *a;
		size_t i;
		if (!anns)
			return NULL;
		json_array_foreach(anns, i, a)
			if (json_object_get(json_object_get(a, "value"), "spans")) {
				kind = "spans";
				break;
			}
		json_decref(anns);
	}
	if (ds_project_find(s, p->name, &id, pk, &labels, e) < 0)
		return NULL;
	if (!labels)
		labels = json_array();
	if (labels && !json_array_size(labels))
		json_array_append_new(labels, json_string("label"));
	o = json_pack("{s:s, s:b, s:o}", "kind", kind, "multi", !strcmp(kind, "classification"),
		      "labels", labels);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return err_set(e, MOAT_ENOMEM, "out of memory"), NULL;
	sc = label_schema_parse(text, strlen(text), p->name, e);
	free(text);
	return sc;
}

struct label_schema *label_project_schema(struct store *s, const char *name, int64_t *id,
					  struct moat_err *e)
{
	struct lb_project p;
	struct label_schema *sc;
	if (lb_project_get(s, name, &p, e) < 0)
		return NULL;
	if (id)
		*id = p.id;
	sc = p.schema ? label_schema_parse(p.schema, strlen(p.schema), p.name, e)
		      : implied_schema(s, &p, e);
	lb_project_release(&p);
	return sc;
}

json_t *label_project(struct store *s, const char *name, struct moat_err *e)
{
	json_t *o = lb_projects(s, name, e), *sj;
	struct label_schema *sc;
	if (!o)
		return NULL;
	if (!(sc = label_project_schema(s, name, NULL, e))) {
		json_decref(o);
		return NULL;
	}
	sj = label_schema_json(sc);
	label_schema_free(sc);
	if (!sj || json_object_set_new(o, "schema", sj) < 0) {
		json_decref(o);
		return err_set(e, MOAT_ENOMEM, "out of memory"), NULL;
	}
	return o;
}

int label_rm(struct store *s, const char *name, json_t **counts, struct moat_err *e)
{
	struct lb_project p;
	if (lb_project_get(s, name, &p, e) < 0)
		return -1;
	lb_project_release(&p);
	if (store_begin(s, e) < 0)
		return -1;
	if (lb_project_rm(s, p.id, counts, e) < 0 || store_commit(s, e) < 0) {
		store_rollback(s);
		return -1;
	}
	return 0;
}
