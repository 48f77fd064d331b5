/*
 * ooxml.c - what the Office Open XML readers (docx.c, xlsx.c, pptx.c) share:
 * a package's parts and their relationships, its core properties (title,
 * author, dates) and tables as elements.  Packages are read through libzip
 * (docutil.c's ozip, with its limits against zip bombs) and libxml2
 * (xml_parse_safe: no DTD, so no entity expansion and no external
 * entities).
 *
 * Not for: macros, embedded objects, images (their alt text aside), charts
 * and diagrams (ooxml_chart.c), nor telling the kinds apart (docutil.c's
 * ooxml_kind).
 */
#define _GNU_SOURCE
#include "ooxml.h"
#include "../core/utf8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

void ooxml_rels_free(struct rels *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->r[i].id);
		free(rs->r[i].type);
		free(rs->r[i].target);
	}
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

/* Resolves target against the directory of part ("word/document.xml"). */
static char *resolve(const char *part, const char *target)
{
	struct buf b = BUF_INIT;
	const char *slash = strrchr(part, '/');
	if (target[0] == '/') {
		buf_adds(&b, target + 1);
	} else {
		if (slash)
			buf_add(&b, part, (size_t)(slash - part) + 1);
		buf_adds(&b, target);
	}
	/* collapse "dir/../" and "./" */
	for (;;) {
		char *s = b.data, *p = s ? strstr(s, "/../") : NULL;
		if (s && !strncmp(s, "../", 3)) {
			memmove(s, s + 3, b.len - 2);
			b.len -= 3;
			continue;
		}
		if (!p)
			break;
		{
			char *q = p;
			while (q > s && q[-1] != '/')
				q--;
			memmove(q, p + 4, (size_t)(s + b.len - (p + 4)) + 1);
			b.len -= (size_t)(p + 4 - q);
		}
	}
	while (b.data && strstr(b.data, "/./")) {
		char *p = strstr(b.data, "/./");
		memmove(p, p + 2, (size_t)(b.data + b.len - (p + 2)) + 1);
		b.len -= 2;
	}
	return buf_detach(&b, NULL);
}

int ooxml_load_xml(struct ozip *z, const char *part, xmlDocPtr *out, struct moat_err *e)
{
	struct buf b = BUF_INIT;
	int rc = ozip_read(z, part, &b, e);
	*out = NULL;
	if (rc == 0) {
		*out = xml_parse_safe(buf_str(&b), b.len, part, e);
		if (!*out)
			rc = -1;
	}
	buf_release(&b);
	return rc;
}

/* The relationships of part; a missing .rels is no relationships. */
int ooxml_load_rels(struct ozip *z, const char *part, struct rels *rs, struct moat_err *e)
{
	struct buf name = BUF_INIT;
	const char *slash = strrchr(part, '/');
	xmlDocPtr doc;
	int rc;
	memset(rs, 0, sizeof(*rs));
	if (slash) {
		buf_add(&name, part, (size_t)(slash - part) + 1);
		buf_adds(&name, "_rels/");
		buf_adds(&name, slash + 1);
	} else {
		buf_adds(&name, "_rels/");
		buf_adds(&name, part);
	}
	buf_adds(&name, ".rels");
	if (buf_failed(&name)) {
		buf_release(&name);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	if (!ozip_has(z, buf_str(&name))) {
		buf_release(&name);
		return 0;
	}
	rc = ooxml_load_xml(z, buf_str(&name), &doc, e);
	buf_release(&name);
	if (rc < 0)
		return -1;
	for (xmlNode *n = xmlDocGetRootElement(doc) ? xmlDocGetRootElement(doc)->children : NULL;
	     n && rc == 0; n = n->next) {
		char *id, *type, *target, *mode;
		struct rel *p;
		if (!xml_is(n, "Relationship"))
			continue;
		id = xml_attr(n, "Id");
		type = xml_attr(n, "Type");
		target = xml_attr(n, "Target");
		mode = xml_attr(n, "TargetMode");
		if (id && type && target && !(mode && !strcmp(mode, "External"))) {
			p = realloc(rs->r, (rs->n + 1) * sizeof(*p));
			if (p) {
				rs->r = p;
				p[rs->n].id = strdup(id);
				p[rs->n].type = strdup(type);
				p[rs->n].target = resolve(part, target);
				rs->n++;
			}
			if (!p || !p[rs->n - 1].id || !p[rs->n - 1].type || !p[rs->n - 1].target)
				rc = err_set(e, MOAT_ENOMEM, "out of memory");
		}
		xmlFree(id);
		xmlFree(type);
		xmlFree(target);
		xmlFree(mode);
	}
	xmlFreeDoc(doc);
	if (rc < 0)
		ooxml_rels_free(rs);
	return rc;
}

const char *ooxml_rel_target(const struct rels *rs, const char *id)
{
	for (size_t i = 0; id && i < rs->n; i++)
		if (!strcmp(rs->r[i].id, id))
			return rs->r[i].target;
	return NULL;
}

/* The target of the first relationship whose type ends in suffix. */
const char *ooxml_rel_by_type(const struct rels *rs, const char *suffix)
{
	size_t k = strlen(suffix);
	for (size_t i = 0; i < rs->n; i++) {
		size_t n = strlen(rs->r[i].type);
		if (n >= k && !strcmp(rs->r[i].type + n - k, suffix))
			return rs->r[i].target;
	}
	return NULL;
}

/* The package's main part (from _rels/.rels), or def. */
char *ooxml_main_part(struct ozip *z, const char *def, struct moat_err *e)
{
	struct rels rs;
	const char *t;
	char *r;
	if (ooxml_load_rels(z, "", &rs, e) < 0)
		return NULL;
	t = ooxml_rel_by_type(&rs, "/officeDocument");
	r = strdup(t && ozip_has(z, t) ? t : def);
	ooxml_rels_free(&rs);
	if (!r)
		err_set(e, MOAT_ENOMEM, "out of memory");
	return r;
}

/* The relationship id of n: its r:id (an "id" in a namespace, not a plain one). */
char *ooxml_rel_id(const xmlNode *n)
{
	for (xmlAttr *a = n ? n->properties : NULL; a; a = a->next)
		if (a->ns && !strcmp((const char *)a->name, "id"))
			return (char *)xmlNodeGetContent((xmlNode *)a);
	return NULL;
}

xmlNode *ooxml_child(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (xml_is(c, name))
			return c;
	return NULL;
}

static const xmlNode *descendant(const xmlNode *n, const char *name, int level)
{
	if (!n || level > 16)
		return NULL;
	for (const xmlNode *c = n->children; c; c = c->next) {
		const xmlNode *r;
		if (xml_is(c, name))
			return c;
		if (c->type == XML_ELEMENT_NODE && (r = descendant(c, name, level + 1)))
			return r;
	}
	return NULL;
}

const xmlNode *ooxml_descendant(const xmlNode *n, const char *name)
{
	return descendant(n, name, 0);
}

char *ooxml_child_attr(const xmlNode *n, const char *name, const char *attr)
{
	return xml_attr(ooxml_child(n, name), attr);
}

int ooxml_load_optional(struct ozip *z, const char *part, xmlDocPtr *out, struct moat_err *e)
{
	*out = NULL;
	if (!part || !ozip_has(z, part))
		return 0;
	/* there but unreadable (bad XML, a DTD, over a limit): the file fails,
	 * naming the part; its text is never silently left out */
	return ooxml_load_xml(z, part, out, e) == 0 ? 1 : -1;
}

int ooxml_core_props(struct ozip *z, struct doc *d, struct moat_err *e)
{
	static const struct {
		const char *el, *key;
	} props[] = { { "title", "title" }, { "creator", "author" }, { "subject", "subject" },
		      { "lastModifiedBy", "last_modified_by" }, { "created", "created" },
		      { "modified", "modified" }, { "keywords", "keywords" } };
	xmlDocPtr doc;
	int rc = ooxml_load_optional(z, "docProps/core.xml", &doc, e);
	if (rc <= 0)
		return rc;
	rc = 0;
	for (xmlNode *n = xmlDocGetRootElement(doc)->children; n && rc == 0; n = n->next)
		for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
			if (xml_is(n, props[i].el)) {
				char *v = (char *)xmlNodeGetContent(n);
				if (v && *v && utf8_is_valid(v, strlen(v)) &&
				    json_object_set_new(d->meta, props[i].key, json_string(v)) < 0)
					rc = err_set(e, MOAT_ENOMEM, "out of memory");
				xmlFree(v);
			}
	xmlFreeDoc(doc);
	return rc;
}

int ooxml_open_package(const unsigned char *data, size_t len, const struct ingest_opts *o,
		       struct ozip **z, struct moat_err *e)
{
	*z = ozip_open(data, len, o, e);
	return *z ? 0 : -1;
}

/* Adds the rows of a table element: text "a | b" per row, meta rows. */
int ooxml_add_table(struct doc *d, int page, json_t *rows, json_t *extra)
{
	struct buf t = BUF_INIT;
	size_t i, ncols = 0;
	json_t *row;
	int rc;
	json_array_foreach(rows, i, row)
		if (json_array_size(row) > ncols)
			ncols = json_array_size(row);
	table_text(rows, &t);
	{
		json_t *m = extra ? extra : json_object();
		size_t n_rows = json_array_size(rows);
		if (json_object_set_new(m, "rows", rows) < 0 ||
		    json_object_set_new(m, "n_rows", json_integer((json_int_t)n_rows)) < 0 ||
		    json_object_set_new(m, "n_cols", json_integer((json_int_t)ncols)) < 0 ||
		    buf_failed(&t)) {
			json_decref(m);
			rc = -1;
		} else {
			rc = doc_add_page(d, EL_TABLE, 0, page, buf_str(&t), t.len, m);
		}
	}
	buf_release(&t);
	return rc;
}

json_t *ooxml_table_rows(const xmlNode *tbl, ooxml_cell_fn cell, void *ud)
{
	json_t *rows = json_array();
	int oom = !rows;
	for (const xmlNode *tr = tbl->children; tr; tr = tr->next) {
		json_t *row;
		if (!xml_is(tr, "tr"))
			continue;
		row = json_array();
		for (const xmlNode *tc = tr->children; tc; tc = tc->next) {
			struct buf t = BUF_INIT;
			long span;
			if (!xml_is(tc, "tc"))
				continue;
			span = cell(ud, tc, &t);
			text_squeeze(&t);
			oom |= buf_failed(&t) ||
			       json_array_append_new(row, json_stringn(buf_str(&t), t.len)) < 0;
			for (long k = 1; k < span && k < 64; k++)
				oom |= json_array_append_new(row, json_string("")) < 0;
			buf_release(&t);
		}
		oom |= json_array_append_new(rows, row) < 0;
	}
	if (oom) {
		json_decref(rows);
		return NULL;
	}
	return rows;
}

static void a_text(const xmlNode *n, struct buf *out, int level)
{
	if (level > 32)
		return;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (xml_is(c, "t")) {
			char *v = (char *)xmlNodeGetContent((xmlNode *)c);
			if (v)
				buf_adds(out, v);
			xmlFree(v);
		} else if (xml_is(c, "br")) {
			buf_addch(out, '\n');
		} else if (xml_is(c, "tab")) {
			buf_addch(out, '\t');
		} else if (c->type == XML_ELEMENT_NODE && !xml_is(c, "pPr") && !xml_is(c, "rPr") &&
			   !xml_is(c, "endParaRPr")) {
			a_text(c, out, level + 1);
		}
	}
}

void ooxml_a_text(const xmlNode *n, struct buf *out)
{
	a_text(n, out, 0);
}

void ooxml_number(const char *v, struct buf *out)
{
	char *end;
	double x = strtod(v, &end);
	if (*end || end == v || !isfinite(x)) {
		buf_adds(out, v);
		return;
	}
	if (x == floor(x) && fabs(x) < 1e15) {
		buf_addf(out, "%.0f", x);
		return;
	}
	buf_addf(out, "%.15g", x);
}
