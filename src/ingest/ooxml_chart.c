/*
 * ooxml_chart.c - what an Office file shows in a graphic frame besides
 * pictures: charts (DrawingML chart parts, word/charts/, ppt/charts/,
 * xl/charts/) as one element each, and SmartArt diagrams (their data part,
 * ppt/diagrams/dataN.xml and the like) as list items.  A chart's words are
 * its title, axis titles, series names and category labels, and its numbers
 * the cached values Office keeps beside the references (c:strCache,
 * c:numCache), or, where a writer kept none, the cells the references name
 * (through the reader's ooxml_ref_fn).
 *
 * Not for: drawing the chart, formulas, chartEx parts (Office 2016's
 * waterfall and the like: Office writes a plain chart or a picture beside
 * them), nor finding the frames (each reader walks its own parts).
 */
#define _GNU_SOURCE
#include "ooxml.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

/* Points kept per series (an index past it is ignored: a lying idx cannot
 * make a huge array). */
#define MAX_POINTS 100000
/* SmartArt nodes read per diagram. */
#define MAX_NODES 10000

/* Rich text (c:rich, dgm:t): its paragraphs joined by a space, squeezed. */
static void rich_text(const xmlNode *rich, struct buf *out)
{
	for (const xmlNode *p = rich ? rich->children : NULL; p; p = p->next) {
		if (!xml_is(p, "p"))
			continue;
		if (out->len)
			buf_addch(out, ' ');
		ooxml_a_text(p, out);
	}
	text_squeeze(out);
}

/* The points of a cache or literal (c:strCache, c:numCache, c:strLit,
 * c:numLit, a c:lvl) into arr (strings by idx, "" for gaps).  0 or -1. */
/* A point's index (its idx), -1 for none or not a point. */
static long pt_index(const xmlNode *pt)
{
	char *idx = xml_is(pt, "pt") ? xml_attr(pt, "idx") : NULL;
	long i = idx ? strtol(idx, NULL, 10) : -1;
	xmlFree(idx);
	return i;
}

static int cache_points(const xmlNode *cache, json_t *arr)
{
	long top = -1;
	int oom = 0;
	for (const xmlNode *pt = cache->children; pt; pt = pt->next) {
		long i = pt_index(pt);
		if (i > top && i < MAX_POINTS)
			top = i;
	}
	for (long i = 0; i <= top && !oom; i++)
		oom = json_array_append_new(arr, json_string("")) < 0;
	for (const xmlNode *pt = cache->children; pt && !oom; pt = pt->next) {
		struct buf t = BUF_INIT;
		long i = pt_index(pt);
		char *v;
		if (i < 0)
			continue;
		v = (char *)xmlNodeGetContent(ooxml_child(pt, "v"));
		if (i >= 0 && i <= top && v) {
			if (xml_is(cache, "numCache") || xml_is(cache, "numLit"))
				ooxml_number(v, &t);
			else
				buf_adds(&t, v);
			text_squeeze(&t);
			oom = buf_failed(&t) ||
			      json_array_set_new(arr, (size_t)i, json_stringn(buf_str(&t), t.len)) < 0;
		}
		xmlFree(v);
		buf_release(&t);
	}
	return oom ? -1 : 0;
}

/*
 * The values of a data source (c:tx, c:cat, c:val, c:xVal, c:yVal) into arr:
 * a literal c:v, a literal list, the cache of a reference, or, with no
 * cache, the cells its formula names (through ref).  0 or -1.
 */
static int source_values(const xmlNode *src, ooxml_ref_fn ref, void *ud, json_t *arr)
{
	const xmlNode *r, *cache = NULL, *f = NULL;
	if (!src)
		return 0;
	if ((r = ooxml_child(src, "v"))) {
		char *v = (char *)xmlNodeGetContent((xmlNode *)r);
		int rc = v && json_array_append_new(arr, json_string(v)) < 0 ? -1 : 0;
		xmlFree(v);
		return rc;
	}
	for (r = src->children; r && !cache; r = r->next) {
		if (xml_is(r, "strLit") || xml_is(r, "numLit")) {
			cache = r;
		} else if (xml_is(r, "strRef") || xml_is(r, "numRef")) {
			cache = ooxml_child(r, xml_is(r, "strRef") ? "strCache" : "numCache");
			f = ooxml_child(r, "f");
		} else if (xml_is(r, "multiLvlStrRef")) {
			/* the innermost level, the labels next to the axis */
			cache = ooxml_child(ooxml_child(r, "multiLvlStrCache"), "lvl");
			f = ooxml_child(r, "f");
		}
	}
	if (cache && ooxml_child(cache, "pt"))
		return cache_points(cache, arr);
	if (f && ref) {
		char *formula = (char *)xmlNodeGetContent((xmlNode *)f);
		int rc = formula ? ref(ud, formula, arr) : 0;
		xmlFree(formula);
		return rc;
	}
	return 0;
}

/* A title (c:title): its rich text, or the text its reference holds. */
static int title_text(const xmlNode *title, ooxml_ref_fn ref, void *ud, struct buf *out)
{
	const xmlNode *tx = ooxml_child(title, "tx");
	if (ooxml_child(tx, "rich")) {
		rich_text(ooxml_child(tx, "rich"), out);
	} else if (tx) {
		json_t *a = json_array();
		size_t i;
		json_t *v;
		if (!a || source_values(tx, ref, ud, a) < 0) {
			json_decref(a);
			return -1;
		}
		json_array_foreach(a, i, v) {
			if (out->len && *json_string_value(v))
				buf_addch(out, ' ');
			buf_adds(out, json_string_value(v));
		}
		json_decref(a);
		text_squeeze(out);
	}
	return buf_failed(out) ? -1 : 0;
}

/* A point's value for the meta: a number when it reads as one, null for a
 * gap, else the string. */
static json_t *point_json(const char *s)
{
	char *end;
	double x;
	if (!*s)
		return json_null();
	x = strtod(s, &end);
	if (!*end && end != s && isfinite(x)) {
		if (x == (double)(json_int_t)x && x > -9e15 && x < 9e15)
			return json_integer((json_int_t)x);
		return json_real(x);
	}
	return json_string(s);
}

struct chart {
	json_t *types;     /* chart types, "bar", "pie", ... */
	json_t *axes;      /* axis titles */
	json_t *cats;      /* category labels (strings) */
	json_t *names;     /* series names (strings) */
	json_t *vals;      /* per series, an array of strings */
	struct buf title;
};

/* The series of one plot (c:barChart, c:pieChart, ...). */
static int read_plot(struct chart *c, const xmlNode *plot, ooxml_ref_fn ref, void *ud)
{
	for (const xmlNode *s = plot->children; s; s = s->next) {
		json_t *name, *vals, *cats;
		struct buf nm = BUF_INIT;
		size_t i;
		json_t *v;
		int rc = 0;
		if (!xml_is(s, "ser"))
			continue;
		name = json_array();
		vals = json_array();
		cats = json_array();
		if (!name || !vals || !cats ||
		    source_values(ooxml_child(s, "tx"), ref, ud, name) < 0 ||
		    source_values(ooxml_child(s, "val") ? ooxml_child(s, "val") : ooxml_child(s, "yVal"),
				  ref, ud, vals) < 0 ||
		    source_values(ooxml_child(s, "cat") ? ooxml_child(s, "cat") : ooxml_child(s, "xVal"),
				  ref, ud, cats) < 0)
			rc = -1;
		json_array_foreach(name, i, v) {
			if (nm.len && *json_string_value(v))
				buf_addch(&nm, ' ');
			buf_adds(&nm, json_string_value(v));
		}
		text_squeeze(&nm);
		if (rc == 0 && (buf_failed(&nm) ||
				json_array_append_new(c->names, json_stringn(buf_str(&nm), nm.len)) < 0 ||
				json_array_append(c->vals, vals) < 0))
			rc = -1;
		/* the categories: the first series that has them */
		if (rc == 0 && !json_array_size(c->cats) && json_array_extend(c->cats, cats) < 0)
			rc = -1;
		buf_release(&nm);
		json_decref(name);
		json_decref(vals);
		json_decref(cats);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* The chart's text: title, axis titles, then a table of categories (rows)
 * by series (columns) under a row of series names. */
static int chart_text(const struct chart *c, struct buf *out)
{
	size_t ns = json_array_size(c->vals), nrows = json_array_size(c->cats), i;
	int named = 0, has_cats = nrows > 0;
	json_t *rows = json_array(), *v;
	int oom = !rows;
	for (i = 0; i < ns; i++) {
		size_t k = json_array_size(json_array_get(c->vals, i));
		named |= *json_string_value(json_array_get(c->names, i)) != 0;
		if (k > nrows)
			nrows = k;
	}
	if (c->title.len)
		buf_add(out, buf_str(&c->title), c->title.len);
	if (json_array_size(c->axes)) {
		if (out->len)
			buf_addch(out, '\n');
		json_array_foreach(c->axes, i, v) {
			if (i)
				buf_adds(out, "; ");
			buf_adds(out, json_string_value(v));
		}
	}
	if (ns && named) {
		json_t *row = json_array();
		oom |= !row || (has_cats && json_array_append_new(row, json_string("")) < 0);
		for (i = 0; i < ns && !oom; i++)
			oom |= json_array_append(row, json_array_get(c->names, i)) < 0;
		oom |= json_array_append_new(rows, row) < 0;
	}
	for (size_t r = 0; r < nrows && !oom; r++) {
		json_t *row = json_array(), *cat = json_array_get(c->cats, r);
		oom |= !row || (has_cats && json_array_append_new(row, json_string(
			cat ? json_string_value(cat) : "")) < 0);
		for (i = 0; i < ns && !oom; i++) {
			json_t *x = json_array_get(json_array_get(c->vals, i), r);
			oom |= json_array_append_new(row, json_string(x ? json_string_value(x) : "")) < 0;
		}
		oom |= json_array_append_new(rows, row) < 0;
	}
	if (!oom && json_array_size(rows)) {
		if (out->len)
			buf_addch(out, '\n');
		table_text(rows, out);
	}
	json_decref(rows);
	return oom || buf_failed(out) ? -1 : 0;
}

/* The meta of a chart element.  NULL out of memory. */
static json_t *chart_meta(const struct chart *c, const char *part)
{
	json_t *m = json_object(), *series = json_array(), *v;
	size_t i, j;
	int oom = !m || !series;
	for (i = 0; i < json_array_size(c->vals) && !oom; i++) {
		json_t *vals = json_array(), *x;
		json_array_foreach(json_array_get(c->vals, i), j, x)
			oom |= !vals || json_array_append_new(vals, point_json(json_string_value(x))) < 0;
		oom |= !vals || json_array_append_new(series, json_pack("{s:O, s:o}", "name",
			json_array_get(c->names, i), "values", vals)) < 0;
	}
	if (!oom && c->title.len)
		oom |= json_object_set_new(m, "title", json_stringn(buf_str(&c->title),
								    c->title.len)) < 0;
	v = json_array_get(c->types, 0);
	oom = oom || json_object_set_new(m, "chart_type", v ? json_incref(v) : json_string("")) < 0 ||
	      (json_array_size(c->types) > 1 &&
	       json_object_set(m, "chart_types", c->types) < 0) ||
	      json_object_set(m, "axis_titles", c->axes) < 0 ||
	      json_object_set(m, "categories", c->cats) < 0 ||
	      json_object_set(m, "series", series) < 0 ||
	      json_object_set_new(m, "part", json_string(part)) < 0;
	json_decref(series);
	if (oom) {
		json_decref(m);
		return NULL;
	}
	return m;
}

static void chart_release(struct chart *c)
{
	json_decref(c->types);
	json_decref(c->axes);
	json_decref(c->cats);
	json_decref(c->names);
	json_decref(c->vals);
	buf_release(&c->title);
}

int ooxml_add_chart(struct ozip *z, const char *part, struct doc *d, int page, ooxml_ref_fn ref,
		    void *ud, struct moat_err *e)
{
	struct chart c;
	xmlDocPtr doc;
	const xmlNode *chart, *plot, *title;
	struct buf t = BUF_INIT;
	int rc = ooxml_load_optional(z, part, &doc, e), oom = 0;
	if (rc <= 0)
		return rc;
	memset(&c, 0, sizeof(c));
	c.types = json_array();
	c.axes = json_array();
	c.cats = json_array();
	c.names = json_array();
	c.vals = json_array();
	oom = !c.types || !c.axes || !c.cats || !c.names || !c.vals;
	chart = ooxml_child(xmlDocGetRootElement(doc), "chart");
	plot = ooxml_child(chart, "plotArea");
	for (const xmlNode *p = plot ? plot->children : NULL; p && !oom; p = p->next) {
		const char *nm = (const char *)p->name;
		size_t n = p->type == XML_ELEMENT_NODE ? strlen(nm) : 0;
		if (n > 5 && !strcmp(nm + n - 5, "Chart")) {
			oom = json_array_append_new(c.types, json_stringn(nm, n - 5)) < 0 ||
			      read_plot(&c, p, ref, ud) < 0;
		} else if (n > 2 && !strcmp(nm + n - 2, "Ax") && ooxml_child(p, "title")) {
			struct buf at = BUF_INIT;
			oom = title_text(ooxml_child(p, "title"), ref, ud, &at) < 0 ||
			      (at.len && json_array_append_new(c.axes, json_stringn(buf_str(&at),
										 at.len)) < 0);
			buf_release(&at);
		}
	}
	title = ooxml_child(chart, "title");
	if (!oom && title)
		oom = title_text(title, ref, ud, &c.title) < 0;
	/* a title without text of its own shows the lone series' name */
	if (!oom && title && !c.title.len && json_array_size(c.names) == 1)
		buf_adds(&c.title, json_string_value(json_array_get(c.names, 0)));
	if (!oom)
		oom = chart_text(&c, &t) < 0;
	if (!oom) {
		json_t *m = chart_meta(&c, part);
		if (!m)
			oom = 1;
		else if (doc_add_page(d, EL_CHART, 0, page, buf_str(&t), t.len, m) < 0)
			rc = -1;
	}
	if (oom)
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
	else if (rc > 0)
		rc = 0;
	buf_release(&t);
	chart_release(&c);
	xmlFreeDoc(doc);
	return rc;
}

/* --- SmartArt ------------------------------------------------------------ */

struct dnode {
	char *id;
	char *text;   /* NULL: no text (the doc node, transitions) */
	int doc;      /* the diagram's root */
	int seen;
};

struct dcxn {
	const struct dnode *src, *dst;
	long ord;
};

static int cmp_cxn(const void *a, const void *b)
{
	const struct dcxn *p = a, *q = b;
	if (p->src != q->src)
		return p->src < q->src ? -1 : 1;
	return p->ord < q->ord ? -1 : p->ord > q->ord;
}

static struct dnode *find_node(struct dnode *n, size_t count, const char *id)
{
	for (size_t i = 0; id && i < count; i++)
		if (!strcmp(n[i].id, id))
			return &n[i];
	return NULL;
}

/* Adds node k and, depth first, its children (cx sorted by source). */
static int add_subtree(struct doc *d, int page, struct dnode *k, int depth, struct dcxn *cx,
		       size_t ncx, const char *part, struct moat_err *e)
{
	if (k->seen || depth > 32)
		return 0;
	k->seen = 1;
	if (k->text && *k->text) {
		json_t *m = json_pack("{s:s}", "diagram", part);
		if (!m)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		if (doc_add_page(d, EL_LIST_ITEM, depth < 1 ? 1 : depth > 6 ? 6 : depth, page, k->text,
				 strlen(k->text), m) < 0)
			return -1;
	}
	for (size_t i = 0; i < ncx; i++)
		if (cx[i].src == k &&
		    add_subtree(d, page, (struct dnode *)cx[i].dst, depth + 1, cx, ncx, part, e) < 0)
			return -1;
	return 0;
}

int ooxml_add_diagram(struct ozip *z, const char *part, struct doc *d, int page,
		      struct moat_err *e)
{
	xmlDocPtr doc;
	const xmlNode *root, *pts, *cxns;
	struct dnode *nodes = NULL;
	struct dcxn *cx = NULL;
	size_t n = 0, ncx = 0, cap = 0;
	int rc = ooxml_load_optional(z, part, &doc, e), oom = 0;
	if (rc <= 0)
		return rc;
	rc = 0;
	root = xmlDocGetRootElement(doc);
	pts = ooxml_child(root, "ptLst");
	cxns = ooxml_child(root, "cxnLst");
	for (const xmlNode *p = pts ? pts->children : NULL; p && !oom && n < MAX_NODES; p = p->next) {
		char *id, *type;
		if (!xml_is(p, "pt"))
			continue;
		if (n == cap) {
			struct dnode *q = realloc(nodes, (cap ? cap * 2 : 16) * sizeof(*q));
			if (!q) {
				oom = 1;
				break;
			}
			nodes = q;
			cap = cap ? cap * 2 : 16;
		}
		id = xml_attr(p, "modelId");
		type = xml_attr(p, "type");
		memset(&nodes[n], 0, sizeof(nodes[n]));
		nodes[n].id = strdup(id ? id : "");
		oom = !nodes[n].id;
		nodes[n].doc = type && !strcmp(type, "doc");
		/* nodes (no type, "node") and assistants carry the text; the
		 * transitions and presentation points do not */
		if (!oom && (!type || !strcmp(type, "node") || !strcmp(type, "asst"))) {
			struct buf t = BUF_INIT;
			rich_text(ooxml_child(p, "t"), &t);
			oom = buf_failed(&t);
			nodes[n].text = buf_detach(&t, NULL);
		}
		n++;
		xmlFree(id);
		xmlFree(type);
	}
	cap = 0;
	for (const xmlNode *c = cxns ? cxns->children : NULL; c && !oom; c = c->next) {
		char *type, *src, *dst, *ord;
		if (!xml_is(c, "cxn"))
			continue;
		type = xml_attr(c, "type");
		src = xml_attr(c, "srcId");
		dst = xml_attr(c, "destId");
		ord = xml_attr(c, "srcOrd");
		if ((!type || !strcmp(type, "parOf")) && find_node(nodes, n, src) &&
		    find_node(nodes, n, dst)) {
			if (ncx == cap) {
				struct dcxn *q = realloc(cx, (cap ? cap * 2 : 16) * sizeof(*q));
				oom = !q;
				if (q) {
					cx = q;
					cap = cap ? cap * 2 : 16;
				}
			}
			if (!oom) {
				cx[ncx].src = find_node(nodes, n, src);
				cx[ncx].dst = find_node(nodes, n, dst);
				cx[ncx].ord = ord ? strtol(ord, NULL, 10) : 0;
				ncx++;
			}
		}
		xmlFree(type);
		xmlFree(src);
		xmlFree(dst);
		xmlFree(ord);
	}
	if (ncx)
		qsort(cx, ncx, sizeof(*cx), cmp_cxn);
	if (oom)
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
	/* from the root through the tree; then whatever no connection reached */
	for (size_t i = 0; i < n && rc == 0; i++)
		if (nodes[i].doc)
			rc = add_subtree(d, page, &nodes[i], 0, cx, ncx, part, e);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = add_subtree(d, page, &nodes[i], 1, cx, ncx, part, e);
	for (size_t i = 0; i < n; i++) {
		free(nodes[i].id);
		free(nodes[i].text);
	}
	free(nodes);
	free(cx);
	xmlFreeDoc(doc);
	return rc;
}

int ooxml_add_graphic(struct ozip *z, const struct rels *rs, const xmlNode *n, struct doc *d,
		      int page, ooxml_ref_fn ref, void *ud, struct moat_err *e)
{
	const xmlNode *gd = xml_is(n, "graphicData") ? n : ooxml_descendant(n, "graphicData");
	const xmlNode *c;
	int rc = 0;
	if (!gd)
		return 0;
	if ((c = ooxml_child(gd, "chart"))) {
		char *id = ooxml_rel_id(c);
		const char *part = ooxml_rel_target(rs, id);
		xmlFree(id);
		if (part)
			rc = ooxml_add_chart(z, part, d, page, ref, ud, e);
		return rc < 0 ? -1 : part != NULL;
	}
	if ((c = ooxml_child(gd, "relIds"))) {
		char *id = xml_attr(c, "dm");
		const char *part = ooxml_rel_target(rs, id);
		xmlFree(id);
		if (part)
			rc = ooxml_add_diagram(z, part, d, page, e);
		return rc < 0 ? -1 : part != NULL;
	}
	return 0;
}
