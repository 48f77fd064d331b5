/*
 * pptx.c - PowerPoint (.pptx) files: each slide (its number is the page) has
 * its title, the text of its shapes in reading order (top to bottom, left to
 * right), tables, charts and SmartArt diagrams (ooxml_chart.c) where their
 * frames sit, and its notes; body placeholders are bulleted unless told
 * otherwise.
 *
 * Not for: animations, media; what every Office package has (ooxml.c).
 */
#define _GNU_SOURCE
#include "ooxml.h"
#include "reader.h"
#include "../core/utf8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/banned.h"

struct shape {
	const xmlNode *n;
	long x, y;
	int title;   /* 1 title, 2 subtitle */
	int body;    /* a body placeholder: bulleted by default */
};

static int cmp_shape(const void *a, const void *b)
{
	const struct shape *p = a, *q = b;
	if (p->title != q->title)
		return p->title && (!q->title || p->title < q->title) ? -1 : 1;
	if (labs(p->y - q->y) > 100000)  /* about a quarter centimetre */
		return p->y < q->y ? -1 : 1;
	return p->x < q->x ? -1 : p->x > q->x;
}

/* The paragraphs of a text body.  0, or -1: d->over_limit set, or out of
 * memory with e set. */
static int p_txbody(struct doc *d, const xmlNode *tx, int page, int title, int body, int notes,
		    struct moat_err *e)
{
	for (const xmlNode *p = tx ? tx->children : NULL; p; p = p->next) {
		struct buf t = BUF_INIT;
		xmlNode *ppr;
		char *lvl;
		int level = 0, list = body, r, oom;
		enum element_type type;
		json_t *m = notes ? json_pack("{s:b}", "notes", 1) : NULL;
		if (!xml_is(p, "p")) {
			json_decref(m);
			continue;
		}
		ooxml_a_text(p, &t);
		ppr = ooxml_child(p, "pPr");
		lvl = xml_attr(ppr, "lvl");
		if (lvl)
			level = (int)strtol(lvl, NULL, 10);
		xmlFree(lvl);
		if (ooxml_child(ppr, "buNone"))
			list = 0;
		if (ooxml_child(ppr, "buChar") || ooxml_child(ppr, "buAutoNum") || ooxml_child(ppr, "buBlip"))
			list = 1;
		oom = (notes && !m) || buf_failed(&t);
		if (ooxml_child(ppr, "buAutoNum")) {
			if (!m)
				m = json_object();
			oom |= json_object_set_new(m, "list", json_string("numbered")) < 0;
		}
		if (oom) {
			json_decref(m);
			buf_release(&t);
			return err_set(e, MOAT_ENOMEM, "out of memory");
		}
		type = title == 1 ? EL_TITLE : title == 2 ? EL_HEADING : list && !notes ? EL_LIST_ITEM
											    : EL_PARAGRAPH;
		r = doc_add_page(d, type, type == EL_LIST_ITEM ? level + 1 : title == 2 ? 2 : 0, page,
				 buf_str(&t), t.len, m);
		buf_release(&t);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* A table cell (ooxml_cell_fn): its paragraphs on lines.  *oom (ud) is set
 * when a paragraph's text could not be kept. */
static long p_cell(void *ud, const xmlNode *tc, struct buf *t)
{
	xmlNode *body = ooxml_child(tc, "txBody");
	for (const xmlNode *p = body ? body->children : NULL; p; p = p->next)
		if (xml_is(p, "p")) {
			struct buf pt = BUF_INIT;
			ooxml_a_text(p, &pt);
			*(int *)ud |= buf_failed(&pt);
			if (pt.len) {
				if (t->len)
					buf_addch(t, '\n');
				buf_add(t, buf_str(&pt), pt.len);
			}
			buf_release(&pt);
		}
	return 1;
}

static int p_table(struct doc *d, const xmlNode *tbl, int page, struct moat_err *e)
{
	int oom = 0;
	json_t *rows = ooxml_table_rows(tbl, p_cell, &oom);
	if (!rows || oom) {
		json_decref(rows);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	if (!json_array_size(rows)) {
		json_decref(rows);
		return 0;
	}
	if (ooxml_add_table(d, page, rows, NULL) < 0)
		return d->over_limit ? -1 : err_set(e, MOAT_ENOMEM, "out of memory");
	return 0;
}

/* The shapes under tree into *sh.  0, or -1 out of memory. */
static int collect_shapes(const xmlNode *tree, struct shape **sh, size_t *n, size_t *alloc,
			  int level)
{
	if (level > 16)
		return 0;
	for (const xmlNode *c = tree->children; c; c = c->next) {
		struct shape s;
		xmlNode *nv, *ph, *xf, *off;
		char *v;
		if (xml_is(c, "grpSp")) {
			if (collect_shapes(c, sh, n, alloc, level + 1) < 0)
				return -1;
			continue;
		}
		if (xml_is(c, "AlternateContent")) {
			xmlNode *ch = ooxml_child(c, "Choice");
			if (collect_shapes(ch ? ch : c, sh, n, alloc, level + 1) < 0)
				return -1;
			continue;
		}
		if (!xml_is(c, "sp") && !xml_is(c, "graphicFrame"))
			continue;
		memset(&s, 0, sizeof(s));
		s.n = c;
		nv = ooxml_child(c, xml_is(c, "sp") ? "nvSpPr" : "nvGraphicFramePr");
		ph = ooxml_child(ooxml_child(nv, "nvPr"), "ph");
		if (ph) {
			v = xml_attr(ph, "type");
			if (v && (!strcmp(v, "title") || !strcmp(v, "ctrTitle")))
				s.title = 1;
			else if (v && !strcmp(v, "subTitle"))
				s.title = 2;
			else if (!v || !strcmp(v, "body") || !strcmp(v, "obj"))
				s.body = 1;
			xmlFree(v);
		}
		xf = xml_is(c, "sp") ? ooxml_child(ooxml_child(c, "spPr"), "xfrm") : ooxml_child(c, "xfrm");
		off = ooxml_child(xf, "off");
		v = xml_attr(off, "x");
		s.x = v ? strtol(v, NULL, 10) : 0;
		xmlFree(v);
		v = xml_attr(off, "y");
		s.y = v ? strtol(v, NULL, 10) : 0;
		xmlFree(v);
		if (*n == *alloc) {
			size_t na = *alloc ? *alloc * 2 : 32;
			struct shape *p = realloc(*sh, na * sizeof(*p));
			if (!p)
				return -1;
			*sh = p;
			*alloc = na;
		}
		(*sh)[(*n)++] = s;
	}
	return 0;
}

static int p_slide(struct ozip *z, struct doc *d, const char *part, int page, struct moat_err *e)
{
	xmlDocPtr doc;
	struct rels rs;
	struct shape *sh = NULL;
	size_t n = 0, alloc = 0;
	xmlNode *tree;
	int rc = 0;
	struct moat_err re = MOAT_ERR_INIT;
	if (ooxml_load_xml(z, part, &doc, e) < 0)
		return -1;
	/* the slide's relationships: its charts, diagrams and notes (a damaged
	 * .rels is read as none) */
	if (ooxml_load_rels(z, part, &rs, &re) < 0 && re.code == MOAT_ENOMEM) {
		xmlFreeDoc(doc);
		return err_set(e, MOAT_ENOMEM, "%s", re.msg);
	}
	tree = ooxml_child(ooxml_child(xmlDocGetRootElement(doc), "cSld"), "spTree");
	if (tree && collect_shapes(tree, &sh, &n, &alloc, 0) < 0)
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
	if (n)
		qsort(sh, n, sizeof(*sh), cmp_shape);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const xmlNode *tbl;
		if (xml_is(sh[i].n, "graphicFrame")) {
			tbl = ooxml_descendant(sh[i].n, "tbl");
			if (tbl)
				rc = p_table(d, tbl, page, e);
			else if (ooxml_add_graphic(z, &rs, sh[i].n, d, page, NULL, NULL, e) < 0)
				rc = -1;
			continue;
		}
		rc = p_txbody(d, ooxml_child(sh[i].n, "txBody"), page, sh[i].title, sh[i].body, 0, e);
	}
	free(sh);
	xmlFreeDoc(doc);
	/* the notes */
	if (rc == 0) {
		xmlDocPtr nd;
		int loaded = ooxml_load_optional(z, ooxml_rel_by_type(&rs, "/notesSlide"), &nd, e);
		if (loaded < 0)
			rc = -1;
		if (loaded > 0) {
			struct shape *ns = NULL;
			size_t nn = 0, na = 0;
			xmlNode *nt = ooxml_child(ooxml_child(xmlDocGetRootElement(nd), "cSld"),
						  "spTree");
			if (nt && collect_shapes(nt, &ns, &nn, &na, 0) < 0)
				rc = err_set(e, MOAT_ENOMEM, "out of memory");
			for (size_t i = 0; i < nn && rc == 0; i++)
				if (ns[i].body)  /* the notes placeholder, not the slide image */
					rc = p_txbody(d, ooxml_child(ns[i].n, "txBody"), page, 0, 0, 1,
						      e);
			free(ns);
			xmlFreeDoc(nd);
		}
	}
	ooxml_rels_free(&rs);
	return rc;
}

int ingest_pptx(const unsigned char *data, size_t len, const struct ingest_opts *o,
		struct doc *d, struct moat_err *e)
{
	struct ozip *z;
	struct rels rs;
	char *part = NULL;
	xmlDocPtr pres = NULL;
	xmlNode *lst;
	int rc = -1, page = 0;
	memset(&rs, 0, sizeof(rs));
	if (ooxml_open_package(data, len, o, &z, e) < 0)
		return -1;
	part = ooxml_main_part(z, "ppt/presentation.xml", e);
	if (!part || ooxml_load_rels(z, part, &rs, e) < 0 || ooxml_load_xml(z, part, &pres, e) < 0)
		goto out;
	if (ooxml_core_props(z, d, e) < 0)
		goto out;
	lst = ooxml_child(xmlDocGetRootElement(pres), "sldIdLst");
	rc = 0;
	for (xmlNode *s = lst ? lst->children : NULL; s && rc == 0; s = s->next) {
		char *rid;
		const char *sp;
		if (!xml_is(s, "sldId"))
			continue;
		rid = ooxml_rel_id(s);
		sp = ooxml_rel_target(&rs, rid);
		xmlFree(rid);
		if (!sp || !ozip_has(z, sp))
			continue;
		if ((unsigned)page >= docfmt_max_pages(o)) {
			rc = err_set(e, MOAT_ELIMIT, "presentation with more than %u slides (see "
				     "--max-pages)", docfmt_max_pages(o));
			break;
		}
		if (page && doc_add_page(d, EL_PAGE_BREAK, 0, page, "", 0, NULL) < 0)
			break;
		page++;
		rc = p_slide(z, d, sp, page, e);
		if (rc < 0 && d->over_limit)
			rc = 0;
	}
	if (rc == 0 && json_object_set_new(d->meta, "slides", json_integer(page)) < 0)
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
out:
	if (pres)
		xmlFreeDoc(pres);
	ooxml_rels_free(&rs);
	free(part);
	ozip_close(z);
	d->encoding = NULL;
	return rc;
}
