/* doc.c - building a document's text and elements with consistent offsets. */
#include "doc.h"
#include "hash.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

static const char *const type_names[] = {
#define EL_NAME(n, s) s,
	ELEMENT_TYPES(EL_NAME)
#undef EL_NAME
};

const char *element_type_name(enum element_type t)
{
	return (unsigned)t < EL__COUNT ? type_names[t] : "other";
}

int element_type_parse(const char *s)
{
	for (int i = 0; i < EL__COUNT; i++)
		if (!strcmp(s, type_names[i]))
			return i;
	return -1;
}

int doc_init(struct doc *d, struct doc_limits limits)
{
	memset(d, 0, sizeof(*d));
	buf_init(&d->text, 0);
	d->limits = limits;
	d->meta = json_object();
	return d->meta ? 0 : -1;
}

void doc_release(struct doc *d)
{
	for (size_t i = 0; i < d->n_children; i++) {
		struct doc_child *c = &d->children[i];
		free(c->name);
		free(c->mime);
		free(c->data);
		free(c->error);
		doc_release(&c->doc);
	}
	free(d->children);
	for (size_t i = 0; i < d->n_el; i++)
		json_decref(d->el[i].meta);
	free(d->el);
	buf_release(&d->text);
	json_decref(d->meta);
	memset(d, 0, sizeof(*d));
}

void doc_clear(struct doc *d)
{
	struct doc_limits lim = d->limits;
	const char *format = d->format;
	json_t *meta = d->meta;
	d->meta = NULL;
	json_object_clear(meta);
	doc_release(d);
	buf_init(&d->text, 0);
	d->limits = lim;
	d->format = format;
	d->meta = meta;
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int doc_add(struct doc *d, enum element_type type, int level, const char *text, size_t len,
	    json_t *meta)
{
	struct element *e;
	size_t sep;
	while (len && is_space((unsigned char)*text)) {
		text++;
		len--;
	}
	while (len && is_space((unsigned char)text[len - 1]))
		len--;
	if (!len && type != EL_PAGE_BREAK) {
		json_decref(meta);
		return 0;
	}
	sep = d->text.len ? 2 : 0;
	if (d->over_limit ||
	    (d->limits.max_elements && d->n_el >= d->limits.max_elements) ||
	    (d->limits.max_text && d->text.len + sep + len > d->limits.max_text)) {
		d->over_limit = 1;
		json_decref(meta);
		return -1;
	}
	if (d->n_el == d->alloc_el) {
		size_t n = d->alloc_el ? d->alloc_el * 2 : 32;
		struct element *p = realloc(d->el, n * sizeof(*p));
		if (!p) {
			d->over_limit = d->nomem = 1;
			json_decref(meta);
			return -1;
		}
		d->el = p;
		d->alloc_el = n;
	}
	if (sep) {
		buf_add(&d->text, "\n\n", 2);
		d->text_cps += 2;
	}
	e = &d->el[d->n_el++];
	e->type = type;
	e->level = level;
	e->page = 0;
	e->meta = meta;
	e->start = d->text_cps;
	e->byte_start = d->text.len;
	buf_add(&d->text, text, len);
	e->byte_len = len;
	d->text_cps += utf8_count(text, len);
	e->end = d->text_cps;
	if (buf_failed(&d->text)) {
		d->over_limit = d->nomem = 1;
		return -1;
	}
	return 1;
}

int doc_add_page(struct doc *d, enum element_type type, int level, int page, const char *text,
		 size_t len, json_t *meta)
{
	int rc = doc_add(d, type, level, text, len, meta);
	if (rc == 1)
		d->el[d->n_el - 1].page = page;
	return rc;
}

struct doc_child *doc_add_child(struct doc *d, unsigned char *data, size_t len, const char *name,
				const char *mime)
{
	struct doc_child *c, *p;
	unsigned char digest[SHA256_LEN];
	p = realloc(d->children, (d->n_children + 1) * sizeof(*p));
	if (!p) {
		free(data);
		return NULL;
	}
	d->children = p;
	c = &d->children[d->n_children++];
	memset(c, 0, sizeof(*c));
	c->data = data;
	c->len = len;
	c->name = name ? strdup(name) : NULL;
	c->mime = mime ? strdup(mime) : NULL;
	sha256_mem(data ? (const void *)data : "", len, digest);
	hex_encode(digest, SHA256_LEN, c->id);
	return doc_init(&c->doc, d->limits) < 0 ? NULL : c;
}
