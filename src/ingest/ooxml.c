/*
 * ooxml.c - Word (.docx), Excel (.xlsx) and PowerPoint (.pptx) files:
 * Office Open XML packages read through libzip (docutil.c's ozip, with its
 * limits against zip bombs) and libxml2 (xml_parse_safe: no DTD, so no
 * entity expansion and no external entities).
 *
 * DOCX: paragraphs with their styles (Title, Heading 1..9 or an outline
 * level give title and heading levels, Caption, Quote), numbered and
 * bulleted paragraphs as list items (depth from the numbering level), tables
 * as rows and cells (a merged cell's text in its first column), headers
 * (first) and footers (last) once per distinct part, footnotes and endnotes
 * after the body; comments become document metadata.
 * XLSX: each sheet a heading and its tables: blocks of filled cells
 * separated by empty rows and columns; shared strings, numbers as Excel
 * shows them when the format is general, dates and times as ISO dates.
 * PPTX: each slide (its number is the page) has its title, the text of its
 * shapes in reading order (top to bottom, left to right), tables, and its
 * notes; body placeholders are bulleted unless told otherwise.
 *
 * Not for: macros, embedded objects, charts, images (their alt text aside).
 */
#define _GNU_SOURCE
#include "docfmt.h"
#include "reader.h"
#include "../core/utf8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "../core/banned.h"

/* --- package parts and relationships ------------------------------------------- */

struct rel {
	char *id, *type, *target;  /* target: absolute part name, no leading '/' */
};

struct rels {
	struct rel *r;
	size_t n;
};

static void rels_free(struct rels *rs)
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

static int load_xml(struct ozip *z, const char *part, xmlDocPtr *out, struct moat_err *e)
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
static int load_rels(struct ozip *z, const char *part, struct rels *rs, struct moat_err *e)
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
	if (!ozip_has(z, buf_str(&name))) {
		buf_release(&name);
		return 0;
	}
	rc = load_xml(z, buf_str(&name), &doc, e);
	buf_release(&name);
	if (rc < 0)
		return -1;
	for (xmlNode *n = xmlDocGetRootElement(doc) ? xmlDocGetRootElement(doc)->children : NULL; n;
	     n = n->next) {
		char *id, *type, *target, *mode;
		struct rel *p;
		if (!xml_is(n, "Relationship"))
			continue;
		id = xml_attr(n, "Id");
		type = xml_attr(n, "Type");
		target = xml_attr(n, "Target");
		mode = xml_attr(n, "TargetMode");
		if (id && type && target && !(mode && !strcmp(mode, "External")) &&
		    (p = realloc(rs->r, (rs->n + 1) * sizeof(*p)))) {
			rs->r = p;
			p[rs->n].id = strdup(id);
			p[rs->n].type = strdup(type);
			p[rs->n].target = resolve(part, target);
			rs->n++;
		}
		xmlFree(id);
		xmlFree(type);
		xmlFree(target);
		xmlFree(mode);
	}
	xmlFreeDoc(doc);
	return 0;
}

static const char *rel_target(const struct rels *rs, const char *id)
{
	for (size_t i = 0; id && i < rs->n; i++)
		if (!strcmp(rs->r[i].id, id))
			return rs->r[i].target;
	return NULL;
}

/* The target of the first relationship whose type ends in suffix. */
static const char *rel_by_type(const struct rels *rs, const char *suffix)
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
static char *main_part(struct ozip *z, const char *def, struct moat_err *e)
{
	struct rels rs;
	const char *t;
	char *r;
	if (load_rels(z, "", &rs, e) < 0)
		return NULL;
	t = rel_by_type(&rs, "/officeDocument");
	r = strdup(t && ozip_has(z, t) ? t : def);
	rels_free(&rs);
	return r;
}

/* The relationship id of n: its r:id (an "id" in a namespace, not a plain one). */
static char *rel_id(const xmlNode *n)
{
	for (xmlAttr *a = n ? n->properties : NULL; a; a = a->next)
		if (a->ns && !strcmp((const char *)a->name, "id"))
			return (char *)xmlNodeGetContent((xmlNode *)a);
	return NULL;
}

static xmlNode *child(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (xml_is(c, name))
			return c;
	return NULL;
}

static char *child_attr(const xmlNode *n, const char *name, const char *attr)
{
	return xml_attr(child(n, name), attr);
}

/* Document properties from docProps/core.xml into d->meta. */
static void core_props(struct ozip *z, struct doc *d)
{
	static const struct {
		const char *el, *key;
	} props[] = { { "title", "title" }, { "creator", "author" }, { "subject", "subject" },
		      { "lastModifiedBy", "last_modified_by" }, { "created", "created" },
		      { "modified", "modified" }, { "keywords", "keywords" } };
	xmlDocPtr doc;
	if (!ozip_has(z, "docProps/core.xml") || load_xml(z, "docProps/core.xml", &doc, NULL) < 0)
		return;
	for (xmlNode *n = xmlDocGetRootElement(doc)->children; n; n = n->next)
		for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
			if (xml_is(n, props[i].el)) {
				char *v = (char *)xmlNodeGetContent(n);
				if (v && *v && utf8_is_valid(v, strlen(v)))
					json_object_set_new(d->meta, props[i].key, json_string(v));
				xmlFree(v);
			}
	xmlFreeDoc(doc);
}

static int open_package(const unsigned char *data, size_t len, const struct ingest_opts *o,
			struct ozip **z, struct moat_err *e)
{
	*z = ozip_open(data, len, o, e);
	return *z ? 0 : -1;
}

/* Adds the rows of a table element: text "a | b" per row, meta rows. */
static int add_table(struct doc *d, int page, json_t *rows, json_t *extra)
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
		json_object_set_new(m, "rows", rows);
		json_object_set_new(m, "n_rows", json_integer((json_int_t)json_array_size(rows)));
		json_object_set_new(m, "n_cols", json_integer((json_int_t)ncols));
		rc = doc_add_page(d, EL_TABLE, 0, page, buf_str(&t), t.len, m);
	}
	buf_release(&t);
	return rc;
}

/* =================================================================================
 * DOCX
 * ================================================================================= */

struct wstyle {
	char *id, *name, *based_on;
	int outline;   /* 0-based outline level, -1 none */
	int num;       /* has numbering */
	char *num_id;  /* its numbering, when num */
	int ilvl;
};

struct wctx {
	struct ozip *z;
	struct doc *d;
	const struct ingest_opts *o;
	struct wstyle *st;
	size_t n_st;
	xmlDocPtr numbering;
	json_t *notes;     /* footnote/endnote texts by id */
	int depth;         /* table nesting */
	struct moat_err *e;
	int failed;
};

static void styles_free(struct wctx *w)
{
	for (size_t i = 0; i < w->n_st; i++) {
		free(w->st[i].id);
		free(w->st[i].name);
		free(w->st[i].based_on);
		free(w->st[i].num_id);
	}
	free(w->st);
}

static void load_styles(struct wctx *w, const char *part)
{
	xmlDocPtr doc;
	if (!part || !ozip_has(w->z, part) || load_xml(w->z, part, &doc, NULL) < 0)
		return;
	for (xmlNode *n = xmlDocGetRootElement(doc)->children; n; n = n->next) {
		struct wstyle *p;
		xmlNode *ppr;
		char *v;
		if (!xml_is(n, "style"))
			continue;
		p = realloc(w->st, (w->n_st + 1) * sizeof(*p));
		if (!p)
			break;
		w->st = p;
		p = &w->st[w->n_st++];
		memset(p, 0, sizeof(*p));
		v = xml_attr(n, "styleId");
		p->id = strdup(v ? v : "");
		xmlFree(v);
		v = child_attr(n, "name", "val");
		p->name = strdup(v ? v : "");
		xmlFree(v);
		v = child_attr(n, "basedOn", "val");
		p->based_on = v ? strdup(v) : NULL;
		xmlFree(v);
		p->outline = -1;
		ppr = child(n, "pPr");
		v = child_attr(ppr, "outlineLvl", "val");
		if (v)
			p->outline = (int)strtol(v, NULL, 10);
		xmlFree(v);
		{
			xmlNode *np = child(ppr, "numPr");
			char *id = child_attr(np, "numId", "val"), *lv = child_attr(np, "ilvl", "val");
			p->num = id && strcmp(id, "0") != 0;
			p->num_id = p->num ? strdup(id) : NULL;
			p->ilvl = lv ? (int)strtol(lv, NULL, 10) : 0;
			xmlFree(id);
			xmlFree(lv);
		}
	}
	xmlFreeDoc(doc);
}

static const struct wstyle *find_style(const struct wctx *w, const char *id)
{
	for (size_t i = 0; id && i < w->n_st; i++)
		if (!strcmp(w->st[i].id, id))
			return &w->st[i];
	return NULL;
}

/* The numbering format ("bullet", "decimal", ...) of numId at level ilvl. */
static char *num_format(const struct wctx *w, const char *num_id, int ilvl)
{
	xmlNode *root = w->numbering ? xmlDocGetRootElement(w->numbering) : NULL;
	char *abs = NULL, *fmt = NULL;
	for (xmlNode *n = root ? root->children : NULL; n && !abs; n = n->next) {
		char *id;
		if (!xml_is(n, "num"))
			continue;
		id = xml_attr(n, "numId");
		if (id && num_id && !strcmp(id, num_id))
			abs = child_attr(n, "abstractNumId", "val");
		xmlFree(id);
	}
	for (xmlNode *n = root ? root->children : NULL; abs && n && !fmt; n = n->next) {
		char *id;
		if (!xml_is(n, "abstractNum"))
			continue;
		id = xml_attr(n, "abstractNumId");
		if (id && !strcmp(id, abs))
			for (xmlNode *l = n->children; l && !fmt; l = l->next) {
				char *lv;
				if (!xml_is(l, "lvl"))
					continue;
				lv = xml_attr(l, "ilvl");
				if (lv && strtol(lv, NULL, 10) == ilvl)
					fmt = child_attr(l, "numFmt", "val");
				xmlFree(lv);
			}
		xmlFree(id);
	}
	xmlFree(abs);
	return fmt;
}

/* Text of a paragraph-level node: runs, tabs, breaks, hyperlinks, fields'
 * results, insertions; no deletions, no field codes. */
static void w_text(struct wctx *w, const xmlNode *n, struct buf *out, int level)
{
	if (level > 64)
		return;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (xml_is(c, "t")) {
			char *v = (char *)xmlNodeGetContent((xmlNode *)c);
			if (v)
				buf_adds(out, v);
			xmlFree(v);
		} else if (xml_is(c, "tab") || xml_is(c, "ptab")) {
			buf_addch(out, '\t');
		} else if (xml_is(c, "br") || xml_is(c, "cr")) {
			buf_addch(out, '\n');
		} else if (xml_is(c, "noBreakHyphen")) {
			buf_addch(out, '-');
		} else if (xml_is(c, "sym")) {
			char *v = xml_attr(c, "char");
			unsigned long cp = v ? strtoul(v, NULL, 16) : 0;
			if (cp >= 0xF000 && cp <= 0xF0FF)
				cp -= 0xF000;  /* symbol fonts: the private-use alias */
			if (cp >= 0x20 && cp < 0xD800)
				utf8_encode(out, (uint32_t)cp);
			xmlFree(v);
		} else if (xml_is(c, "del") || xml_is(c, "delText") || xml_is(c, "instrText") ||
			   xml_is(c, "footnoteReference") || xml_is(c, "endnoteReference") ||
			   xml_is(c, "commentReference") || xml_is(c, "rPr") || xml_is(c, "pPr") ||
			   xml_is(c, "txbxContent") || xml_is(c, "Fallback")) {
			continue;
		} else {
			w_text(w, c, out, level + 1);
		}
	}
}

static void paragraph_style(const struct wctx *w, const xmlNode *p, const struct wstyle **style,
			    int *outline, int *numbered, char **num_id, int *ilvl)
{
	xmlNode *ppr = child(p, "pPr"), *np = child(ppr, "numPr");
	char *sid = child_attr(ppr, "pStyle", "val"), *v;
	const struct wstyle *s = find_style(w, sid);
	*style = s;
	*outline = -1;
	*numbered = 0;
	*num_id = NULL;
	*ilvl = 0;
	v = child_attr(ppr, "outlineLvl", "val");
	if (v)
		*outline = (int)strtol(v, NULL, 10);
	xmlFree(v);
	/* the style and what it is based on */
	for (int k = 0; s && k < 16; k++, s = find_style(w, s->based_on)) {
		if (*outline < 0 && s->outline >= 0)
			*outline = s->outline;
		if (s->num && !*numbered) {
			*numbered = 1;
			*num_id = strdup(s->num_id);
			*ilvl = s->ilvl;
		}
	}
	if (np) {
		char *id = child_attr(np, "numId", "val"), *lv = child_attr(np, "ilvl", "val");
		/* numId 0 switches off the numbering a style gives */
		if (id) {
			*numbered = strcmp(id, "0") != 0;
			free(*num_id);
			*num_id = *numbered ? strdup(id) : NULL;
		}
		if (lv)
			*ilvl = (int)strtol(lv, NULL, 10);
		xmlFree(id);
		xmlFree(lv);
	}
	xmlFree(sid);
}

static int heading_level_of(const char *name)
{
	if (!name)
		return 0;
	if (!strncasecmp(name, "heading ", 8) && name[8] >= '1' && name[8] <= '9')
		return name[8] - '0';
	return 0;
}

static void w_block(struct wctx *w, const xmlNode *n, int level);

static void w_paragraph(struct wctx *w, const xmlNode *p)
{
	struct buf t = BUF_INIT;
	const struct wstyle *style;
	int outline, numbered, ilvl, lvl, r = 0;
	char *num_id;
	const char *name;
	json_t *meta = json_object();
	enum element_type type = EL_PARAGRAPH;
	w_text(w, p, &t, 0);
	paragraph_style(w, p, &style, &outline, &numbered, &num_id, &ilvl);
	name = style ? style->name : NULL;
	if (name && *name)
		json_object_set_new(meta, "style", json_string(name));
	lvl = heading_level_of(name);
	if (name && (!strcasecmp(name, "Title"))) {
		type = EL_TITLE;
	} else if (lvl || (outline >= 0 && outline < 9)) {
		type = EL_HEADING;
		if (!lvl)
			lvl = outline + 1;
	} else if (name && !strcasecmp(name, "Caption")) {
		type = EL_CAPTION;
	} else if (name && (strcasestr(name, "Quote"))) {
		type = EL_QUOTE;
	} else if (numbered) {
		char *fmt = num_format(w, num_id, ilvl);
		type = EL_LIST_ITEM;
		lvl = ilvl + 1;
		if (fmt)
			json_object_set_new(meta, "list", json_string(!strcmp(fmt, "bullet") ? "bullet"
									      : "numbered"));
		xmlFree(fmt);
	}
	free(num_id);
	if (lvl > 6)
		lvl = 6;
	if (type == EL_PARAGRAPH || type == EL_TITLE)
		lvl = 0;
	if (!buf_failed(&t))
		r = doc_add(w->d, type, lvl, buf_str(&t), t.len, meta);
	else
		json_decref(meta);
	if (r < 0)
		w->failed = 1;
	buf_release(&t);
	/* text boxes anchored in the paragraph follow it */
	{
		const xmlNode *stack[64];
		int sp = 0;
		stack[sp++] = p;
		while (sp > 0) {
			const xmlNode *n = stack[--sp];
			for (const xmlNode *c = n->children; c; c = c->next) {
				if (c->type != XML_ELEMENT_NODE)
					continue;
				if (xml_is(c, "txbxContent"))
					w_block(w, c, 1);
				else if (!xml_is(c, "Fallback") && sp < 64)
					stack[sp++] = c;
			}
		}
	}
}

/* A cell that continues a vertical merge: its text belongs to the cell above. */
static int merged_away(const xmlNode *tc)
{
	xmlNode *vm = child(child(tc, "tcPr"), "vMerge");
	char *v;
	int r;
	if (!vm)
		return 0;
	v = xml_attr(vm, "val");
	r = !v || strcmp(v, "restart") != 0;
	xmlFree(v);
	return r;
}

/* The text of a cell or a header: its paragraphs, one per line. */
static void w_flat_text(struct wctx *w, const xmlNode *n, struct buf *out, int level)
{
	if (level > 32)
		return;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (xml_is(c, "p")) {
			struct buf t = BUF_INIT;
			w_text(w, c, &t, 0);
			if (t.len) {
				if (out->len)
					buf_addch(out, '\n');
				buf_add(out, buf_str(&t), t.len);
			}
			buf_release(&t);
		} else if (xml_is(c, "tbl")) {
			for (const xmlNode *tr = c->children; tr; tr = tr->next) {
				struct buf row = BUF_INIT;
				if (!xml_is(tr, "tr"))
					continue;
				for (const xmlNode *tc = tr->children; tc; tc = tc->next) {
					struct buf cell = BUF_INIT;
					if (!xml_is(tc, "tc") || merged_away(tc))
						continue;
					w_flat_text(w, tc, &cell, level + 1);
					text_squeeze(&cell);
					if (cell.len) {
						if (row.len)
							buf_addch(&row, ' ');
						buf_add(&row, buf_str(&cell), cell.len);
					}
					buf_release(&cell);
				}
				if (row.len) {
					if (out->len)
						buf_addch(out, '\n');
					buf_add(out, buf_str(&row), row.len);
				}
				buf_release(&row);
			}
		} else if (c->type == XML_ELEMENT_NODE && !xml_is(c, "tcPr") && !xml_is(c, "sectPr")) {
			w_flat_text(w, c, out, level + 1);
		}
	}
}

static void w_table(struct wctx *w, const xmlNode *tbl)
{
	json_t *rows = json_array();
	for (const xmlNode *tr = tbl->children; tr; tr = tr->next) {
		json_t *row;
		if (!xml_is(tr, "tr"))
			continue;
		row = json_array();
		for (const xmlNode *tc = tr->children; tc; tc = tc->next) {
			struct buf cell = BUF_INIT;
			xmlNode *pr;
			char *span;
			long n = 1;
			if (!xml_is(tc, "tc"))
				continue;
			pr = child(tc, "tcPr");
			span = child_attr(pr, "gridSpan", "val");
			if (span)
				n = strtol(span, NULL, 10);
			/* a cell continuing a vertical merge stays empty */
			if (!merged_away(tc))
				w_flat_text(w, tc, &cell, 0);
			text_squeeze(&cell);
			json_array_append_new(row, json_stringn(buf_str(&cell), cell.len));
			for (long k = 1; k < n && k < 64; k++)
				json_array_append_new(row, json_string(""));
			xmlFree(span);
			buf_release(&cell);
		}
		json_array_append_new(rows, row);
	}
	if (json_array_size(rows)) {
		if (add_table(w->d, 0, rows, NULL) < 0)
			w->failed = 1;
	} else {
		json_decref(rows);
	}
}

static void w_block(struct wctx *w, const xmlNode *n, int level)
{
	if (level > 32)
		return;
	for (const xmlNode *c = n->children; c && !w->failed; c = c->next) {
		if (xml_is(c, "p"))
			w_paragraph(w, c);
		else if (xml_is(c, "tbl"))
			w_table(w, c);
		else if (xml_is(c, "sdt"))
			w_block(w, child(c, "sdtContent") ? child(c, "sdtContent") : c, level + 1);
		else if (xml_is(c, "customXml") || xml_is(c, "ins") || xml_is(c, "smartTag") ||
			 xml_is(c, "AlternateContent") || xml_is(c, "Choice"))
			w_block(w, c, level + 1);
	}
}

/* Headers or footers, each distinct part once, as one element each. */
static void w_hdrftr(struct wctx *w, const struct rels *rs, const xmlNode *body, int footer)
{
	const char *ref = footer ? "footerReference" : "headerReference";
	char seen[16][256];
	size_t n_seen = 0;
	const xmlNode *sects[256];
	size_t n_sects = 0;
	/* section properties: in paragraphs' pPr, and the body's last */
	for (const xmlNode *c = body->children; c && n_sects < 255; c = c->next) {
		if (xml_is(c, "p") && child(child(c, "pPr"), "sectPr"))
			sects[n_sects++] = child(child(c, "pPr"), "sectPr");
		else if (xml_is(c, "sectPr"))
			sects[n_sects++] = c;
	}
	for (size_t s = 0; s < n_sects; s++)
		for (const xmlNode *r = sects[s]->children; r; r = r->next) {
			char *id, *kind;
			const char *part;
			xmlDocPtr doc;
			int dup = 0;
			if (!xml_is(r, ref))
				continue;
			id = rel_id(r);
			kind = xml_attr(r, "type");
			part = rel_target(rs, id);
			for (size_t k = 0; part && k < n_seen; k++)
				dup |= !strcmp(seen[k], part);
			if (part && !dup && n_seen < 16 && load_xml(w->z, part, &doc, NULL) == 0) {
				struct buf t = BUF_INIT;
				snprintf(seen[n_seen++], sizeof(seen[0]), "%s", part);
				w_flat_text(w, xmlDocGetRootElement(doc), &t, 0);
				if (doc_add(w->d, footer ? EL_FOOTER : EL_HEADER, 0, buf_str(&t), t.len,
					    json_pack("{s:s}", "header_footer_type",
						      kind ? (!strcmp(kind, "default") ? "primary" : kind)
							   : "primary")) < 0)
					w->failed = 1;
				buf_release(&t);
				xmlFreeDoc(doc);
			}
			xmlFree(id);
			xmlFree(kind);
		}
}

/* Footnotes or endnotes, after the body. */
static void w_notes(struct wctx *w, const char *part, const char *what)
{
	xmlDocPtr doc;
	if (!part || !ozip_has(w->z, part) || load_xml(w->z, part, &doc, NULL) < 0)
		return;
	for (xmlNode *n = xmlDocGetRootElement(doc)->children; n && !w->failed; n = n->next) {
		struct buf t = BUF_INIT;
		char *id, *type;
		if (!xml_is(n, "footnote") && !xml_is(n, "endnote"))
			continue;
		type = xml_attr(n, "type");
		id = xml_attr(n, "id");
		if (!type || !strcmp(type, "normal")) {
			w_flat_text(w, n, &t, 0);
			text_squeeze(&t);
			if (doc_add(w->d, EL_PARAGRAPH, 0, buf_str(&t), t.len,
				    json_pack("{s:s, s:s}", "note", what, "id", id ? id : "")) < 0)
				w->failed = 1;
		}
		buf_release(&t);
		xmlFree(type);
		xmlFree(id);
	}
	xmlFreeDoc(doc);
}

static void w_comments(struct wctx *w, const char *part)
{
	xmlDocPtr doc;
	json_t *arr;
	if (!part || !ozip_has(w->z, part) || load_xml(w->z, part, &doc, NULL) < 0)
		return;
	arr = json_array();
	for (xmlNode *n = xmlDocGetRootElement(doc)->children; n; n = n->next) {
		struct buf t = BUF_INIT;
		char *author;
		if (!xml_is(n, "comment"))
			continue;
		author = xml_attr(n, "author");
		w_flat_text(w, n, &t, 0);
		text_squeeze(&t);
		if (utf8_is_valid(buf_str(&t), t.len))
			json_array_append_new(arr, json_pack("{s:s, s:s}", "author",
							     author && utf8_is_valid(author, strlen(author))
								     ? author : "",
							     "text", buf_str(&t)));
		xmlFree(author);
		buf_release(&t);
	}
	if (json_array_size(arr))
		json_object_set_new(w->d->meta, "comments", arr);
	else
		json_decref(arr);
	xmlFreeDoc(doc);
}

int ingest_docx(const unsigned char *data, size_t len, const struct ingest_opts *o,
		struct doc *d, struct moat_err *e)
{
	struct wctx w;
	struct rels rs;
	char *part = NULL;
	xmlDocPtr doc = NULL;
	xmlNode *body;
	int rc = -1;
	memset(&w, 0, sizeof(w));
	memset(&rs, 0, sizeof(rs));
	w.d = d;
	w.o = o;
	w.e = e;
	if (open_package(data, len, o, &w.z, e) < 0)
		return -1;
	part = main_part(w.z, "word/document.xml", e);
	if (!part || load_rels(w.z, part, &rs, e) < 0)
		goto out;
	if (load_xml(w.z, part, &doc, e) < 0)
		goto out;
	body = child(xmlDocGetRootElement(doc), "body");
	if (!body) {
		rc = err_set(e, MOAT_EPARSE, "damaged Word file: no body in '%s'", part);
		goto out;
	}
	load_styles(&w, rel_by_type(&rs, "/styles"));
	{
		const char *np = rel_by_type(&rs, "/numbering");
		if (np && ozip_has(w.z, np) && load_xml(w.z, np, &w.numbering, NULL) < 0)
			w.numbering = NULL;
	}
	core_props(w.z, d);
	w_hdrftr(&w, &rs, body, 0);
	w_block(&w, body, 0);
	w_notes(&w, rel_by_type(&rs, "/footnotes"), "footnote");
	w_notes(&w, rel_by_type(&rs, "/endnotes"), "endnote");
	w_hdrftr(&w, &rs, body, 1);
	w_comments(&w, rel_by_type(&rs, "/comments"));
	if (w.failed && !d->over_limit)
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
	else
		rc = 0;
out:
	if (doc)
		xmlFreeDoc(doc);
	if (w.numbering)
		xmlFreeDoc(w.numbering);
	styles_free(&w);
	rels_free(&rs);
	free(part);
	ozip_close(w.z);
	d->encoding = NULL;
	return rc;
}

/* =================================================================================
 * XLSX
 * ================================================================================= */

struct xcell {
	uint32_t row, col;
	char *text;
};

struct xsheet {
	struct xcell *c;
	size_t n, alloc;
};

/* Column letters of a cell reference "AB12" and its row; 0 on a bad one. */
static int parse_ref(const char *r, uint32_t *row, uint32_t *col)
{
	uint64_t c = 0, rr = 0;
	size_t i = 0;
	while (r[i] >= 'A' && r[i] <= 'Z' && i < 4)
		c = c * 26 + (uint64_t)(r[i++] - 'A' + 1);
	while (r[i] >= '0' && r[i] <= '9' && rr < 10000000)
		rr = rr * 10 + (uint64_t)(r[i++] - '0');
	if (!c || !rr || r[i])
		return 0;
	*row = (uint32_t)rr;
	*col = (uint32_t)c;
	return 1;
}

static int is_date_format(int id, const char *code)
{
	int in_quote = 0, in_br = 0;
	if ((id >= 14 && id <= 22) || (id >= 27 && id <= 36) || (id >= 45 && id <= 47) ||
	    (id >= 50 && id <= 58))
		return 1;
	if (!code)
		return 0;
	for (const char *p = code; *p; p++) {
		if (*p == '"')
			in_quote = !in_quote;
		else if (*p == '[')
			in_br = 1;
		else if (*p == ']')
			in_br = 0;
		else if (*p == '\\' && p[1])
			p++;
		else if (!in_quote && !in_br && strchr("dmyhsDMYHS", *p))
			return 1;
	}
	return 0;
}

/* Days since 1899-12-30 (or 1904-01-01) as an ISO date, time if any. */
static void excel_date(double v, int date1904, int has_date, struct buf *out)
{
	long days = (long)floor(v);
	double frac = v - (double)days;
	long secs = lround(frac * 86400.0);
	if (secs >= 86400) {
		days++;
		secs -= 86400;
	}
	if (has_date) {
		/* civil from days (Howard Hinnant's algorithm), epoch 1970-01-01 */
		long z = days - (date1904 ? 24107 : 25569);  /* days since 1970-01-01 */
		long era, doe, yoe, y, doy, mp, dd, mm;
		z += 719468;
		era = (z >= 0 ? z : z - 146096) / 146097;
		doe = z - era * 146097;
		yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
		y = yoe + era * 400;
		doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
		mp = (5 * doy + 2) / 153;
		dd = doy - (153 * mp + 2) / 5 + 1;
		mm = mp < 10 ? mp + 3 : mp - 9;
		y += mm <= 2;
		buf_addf(out, "%04ld-%02ld-%02ld", y, mm, dd);
	}
	if (secs || !has_date)
		buf_addf(out, "%s%02ld:%02ld:%02ld", has_date ? " " : "", secs / 3600, secs / 60 % 60,
			 secs % 60);
}

static void excel_number(const char *v, struct buf *out)
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
	{
		char tmp[64];
		snprintf(tmp, sizeof(tmp), "%.15g", x);
		buf_adds(out, tmp);
	}
}

struct xctx {
	struct ozip *z;
	char **sst;
	size_t n_sst;
	int *date_xf;      /* per cellXfs index: 0 no, 1 date, 2 time only */
	size_t n_xf;
	int date1904;
};

static void load_sst(struct xctx *x, const char *part)
{
	xmlDocPtr doc;
	size_t n = 0;
	if (!part || !ozip_has(x->z, part) || load_xml(x->z, part, &doc, NULL) < 0)
		return;
	for (xmlNode *si = xmlDocGetRootElement(doc)->children; si; si = si->next)
		n += xml_is(si, "si");
	x->sst = calloc(n ? n : 1, sizeof(char *));
	for (xmlNode *si = xmlDocGetRootElement(doc)->children; si && x->sst; si = si->next) {
		struct buf t = BUF_INIT;
		if (!xml_is(si, "si"))
			continue;
		/* t directly, or runs r/t; not the phonetic rPh */
		for (xmlNode *c = si->children; c; c = c->next) {
			xmlNode *tn = xml_is(c, "t") ? c : xml_is(c, "r") ? child(c, "t") : NULL;
			if (tn) {
				char *v = (char *)xmlNodeGetContent(tn);
				if (v)
					buf_adds(&t, v);
				xmlFree(v);
			}
		}
		x->sst[x->n_sst++] = buf_detach(&t, NULL);
	}
	xmlFreeDoc(doc);
}

static void load_xstyles(struct xctx *x, const char *part)
{
	xmlDocPtr doc;
	xmlNode *root, *fmts, *xfs;
	size_t n = 0;
	if (!part || !ozip_has(x->z, part) || load_xml(x->z, part, &doc, NULL) < 0)
		return;
	root = xmlDocGetRootElement(doc);
	fmts = child(root, "numFmts");
	xfs = child(root, "cellXfs");
	for (xmlNode *c = xfs ? xfs->children : NULL; c; c = c->next)
		n += xml_is(c, "xf");
	x->date_xf = calloc(n ? n : 1, sizeof(int));
	for (xmlNode *c = xfs ? xfs->children : NULL; c && x->date_xf; c = c->next) {
		char *idv;
		int id;
		const char *code = NULL;
		char *codebuf = NULL;
		if (!xml_is(c, "xf"))
			continue;
		idv = xml_attr(c, "numFmtId");
		id = idv ? (int)strtol(idv, NULL, 10) : 0;
		xmlFree(idv);
		for (xmlNode *f = fmts ? fmts->children : NULL; f && !code; f = f->next) {
			char *fid;
			if (!xml_is(f, "numFmt"))
				continue;
			fid = xml_attr(f, "numFmtId");
			if (fid && strtol(fid, NULL, 10) == id)
				code = codebuf = xml_attr(f, "formatCode");
			xmlFree(fid);
		}
		if (is_date_format(id, code)) {
			int has_date = (id >= 14 && id <= 17) || id == 22 || (id >= 27 && id <= 36) ||
				       (id >= 50 && id <= 58) ||
				       (code && (strpbrk(code, "dDyY") || strstr(code, "mmm")));
			x->date_xf[x->n_xf] = has_date ? 1 : 2;
		}
		x->n_xf++;
		xmlFree(codebuf);
	}
	xmlFreeDoc(doc);
}

static int cmp_cell(const void *a, const void *b)
{
	const struct xcell *p = a, *q = b;
	if (p->row != q->row)
		return p->row < q->row ? -1 : 1;
	return p->col < q->col ? -1 : p->col > q->col;
}

static int read_sheet(struct xctx *x, xmlDocPtr doc, struct xsheet *sh)
{
	xmlNode *data = child(xmlDocGetRootElement(doc), "sheetData");
	for (xmlNode *r = data ? data->children : NULL; r; r = r->next) {
		if (!xml_is(r, "row"))
			continue;
		for (xmlNode *c = r->children; c; c = c->next) {
			char *ref, *t, *s, *v = NULL;
			struct buf txt = BUF_INIT;
			uint32_t row, col;
			xmlNode *vn;
			if (!xml_is(c, "c"))
				continue;
			ref = xml_attr(c, "r");
			t = xml_attr(c, "t");
			s = xml_attr(c, "s");
			vn = child(c, "v");
			if (vn)
				v = (char *)xmlNodeGetContent(vn);
			if (t && !strcmp(t, "inlineStr")) {
				xmlNode *is = child(c, "is");
				for (xmlNode *k = is ? is->children : NULL; k; k = k->next) {
					xmlNode *tn = xml_is(k, "t") ? k : xml_is(k, "r") ? child(k, "t") : NULL;
					char *tv = tn ? (char *)xmlNodeGetContent(tn) : NULL;
					if (tv)
						buf_adds(&txt, tv);
					xmlFree(tv);
				}
			} else if (v && t && !strcmp(t, "s")) {
				size_t k = (size_t)strtoul(v, NULL, 10);
				if (k < x->n_sst && x->sst[k])
					buf_adds(&txt, x->sst[k]);
			} else if (v && t && !strcmp(t, "b")) {
				buf_adds(&txt, strcmp(v, "0") ? "TRUE" : "FALSE");
			} else if (v && t && (!strcmp(t, "str") || !strcmp(t, "e") || !strcmp(t, "d"))) {
				buf_adds(&txt, v);
			} else if (v) {
				size_t xf = s ? (size_t)strtoul(s, NULL, 10) : 0;
				int kind = xf < x->n_xf && x->date_xf ? x->date_xf[xf] : 0;
				char *end;
				double num = strtod(v, &end);
				if (kind && !*end && num >= 0 && num < 2958466)
					excel_date(num, x->date1904, kind == 1, &txt);
				else
					excel_number(v, &txt);
			}
			text_squeeze(&txt);
			if (ref && parse_ref(ref, &row, &col) && txt.len && !buf_failed(&txt)) {
				if (sh->n == sh->alloc) {
					size_t na = sh->alloc ? sh->alloc * 2 : 256;
					struct xcell *p = realloc(sh->c, na * sizeof(*p));
					if (!p) {
						buf_release(&txt);
						xmlFree(ref);
						xmlFree(t);
						xmlFree(s);
						xmlFree(v);
						return -1;
					}
					sh->c = p;
					sh->alloc = na;
				}
				sh->c[sh->n].row = row;
				sh->c[sh->n].col = col;
				sh->c[sh->n].text = buf_detach(&txt, NULL);
				sh->n++;
			}
			buf_release(&txt);
			xmlFree(ref);
			xmlFree(t);
			xmlFree(s);
			xmlFree(v);
		}
	}
	if (sh->n)
		qsort(sh->c, sh->n, sizeof(*sh->c), cmp_cell);
	return 0;
}

/* Splits a sheet's cells into tables: groups of cells connected through
 * neighbours (a gap of one empty row or column separates tables). */
static int sheet_tables(struct doc *d, struct xsheet *sh, int page, const char *name)
{
	size_t n = sh->n;
	int *grp = malloc((n ? n : 1) * sizeof(int)), ng = 0;
	size_t *stack = malloc((n ? n : 1) * sizeof(size_t));
	int rc = 0;
	if (!grp || !stack) {
		free(grp);
		free(stack);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		grp[i] = -1;
	for (size_t i = 0; i < n; i++) {
		size_t sp = 0;
		if (grp[i] >= 0)
			continue;
		grp[i] = ng;
		stack[sp++] = i;
		while (sp) {
			size_t a = stack[--sp];
			/* neighbours are within one row: scan the sorted cells near a */
			size_t lo = a, hi = a;
			while (lo > 0 && sh->c[lo - 1].row + 1 >= sh->c[a].row)
				lo--;
			while (hi + 1 < n && sh->c[hi + 1].row <= sh->c[a].row + 1)
				hi++;
			for (size_t b = lo; b <= hi; b++) {
				long dc = (long)sh->c[b].col - (long)sh->c[a].col;
				if (grp[b] >= 0 || dc < -1 || dc > 1)
					continue;
				grp[b] = ng;
				stack[sp++] = b;
			}
		}
		ng++;
	}
	for (int g = 0; g < ng && rc == 0; g++) {
		uint32_t r0 = UINT32_MAX, r1 = 0, c0 = UINT32_MAX, c1 = 0;
		json_t *rows;
		for (size_t i = 0; i < n; i++)
			if (grp[i] == g) {
				r0 = sh->c[i].row < r0 ? sh->c[i].row : r0;
				r1 = sh->c[i].row > r1 ? sh->c[i].row : r1;
				c0 = sh->c[i].col < c0 ? sh->c[i].col : c0;
				c1 = sh->c[i].col > c1 ? sh->c[i].col : c1;
			}
		if ((uint64_t)(c1 - c0 + 1) > 16384 || r1 - r0 + 1 > 1048576) {
			rc = -1;
			break;
		}
		rows = json_array();
		for (uint32_t r = r0; r <= r1; r++) {
			json_t *row = json_array();
			int any = 0;
			for (uint32_t c = c0; c <= c1; c++)
				json_array_append_new(row, json_string(""));
			for (size_t i = 0; i < n; i++)
				if (grp[i] == g && sh->c[i].row == r) {
					json_array_set_new(row, sh->c[i].col - c0,
							   json_string(sh->c[i].text));
					any = 1;
				}
			if (any)
				json_array_append_new(rows, row);
			else
				json_decref(row);
		}
		{
			char first[16];
			int k = 0;
			uint32_t col = c0;
			char tmp[8];
			while (col && k < 7) {
				tmp[k++] = (char)('A' + (col - 1) % 26);
				col = (col - 1) / 26;
			}
			for (int i = 0; i < k; i++)
				first[i] = tmp[k - 1 - i];
			snprintf(first + k, sizeof(first) - (size_t)k, "%u", r0);
			if (add_table(d, page, rows, json_pack("{s:s, s:s}", "sheet", name, "range_start",
							       first)) < 0)
				rc = -1;
		}
	}
	free(grp);
	free(stack);
	return rc;
}

int ingest_xlsx(const unsigned char *data, size_t len, const struct ingest_opts *o,
		struct doc *d, struct moat_err *e)
{
	struct xctx x;
	struct rels rs;
	char *part = NULL;
	xmlDocPtr wb = NULL;
	xmlNode *sheets;
	int rc = -1, page = 0;
	json_t *names = json_array();
	memset(&x, 0, sizeof(x));
	memset(&rs, 0, sizeof(rs));
	if (open_package(data, len, o, &x.z, e) < 0) {
		json_decref(names);
		return -1;
	}
	part = main_part(x.z, "xl/workbook.xml", e);
	if (!part || load_rels(x.z, part, &rs, e) < 0 || load_xml(x.z, part, &wb, e) < 0)
		goto out;
	{
		xmlNode *pr = child(xmlDocGetRootElement(wb), "workbookPr");
		char *v = xml_attr(pr, "date1904");
		x.date1904 = v && (!strcmp(v, "1") || !strcmp(v, "true"));
		xmlFree(v);
	}
	load_sst(&x, rel_by_type(&rs, "/sharedStrings"));
	load_xstyles(&x, rel_by_type(&rs, "/styles"));
	core_props(x.z, d);
	sheets = child(xmlDocGetRootElement(wb), "sheets");
	rc = 0;
	for (xmlNode *s = sheets ? sheets->children : NULL; s && rc == 0; s = s->next) {
		char *name, *rid, *state;
		const char *sp;
		xmlDocPtr sd;
		struct xsheet sh;
		if (!xml_is(s, "sheet"))
			continue;
		if ((unsigned)page >= docfmt_max_pages(o)) {
			rc = err_set(e, MOAT_ELIMIT, "workbook with more than %u sheets (see --max-pages)",
				     docfmt_max_pages(o));
			break;
		}
		name = xml_attr(s, "name");
		rid = rel_id(s);
		state = xml_attr(s, "state");
		sp = rel_target(&rs, rid);
		page++;
		memset(&sh, 0, sizeof(sh));
		if (sp && ozip_has(x.z, sp)) {
			if (load_xml(x.z, sp, &sd, e) < 0) {
				rc = -1;
			} else {
				const char *nm = name && utf8_is_valid(name, strlen(name)) ? name : "";
				json_array_append_new(names, json_string(nm));
				if (doc_add_page(d, EL_HEADING, 1, page, nm, strlen(nm),
						 json_pack("{s:s, s:b}", "sheet", nm, "hidden",
							   state && strcmp(state, "visible") != 0)) < 0 ||
				    read_sheet(&x, sd, &sh) < 0 || sheet_tables(d, &sh, page, nm) < 0)
					rc = d->over_limit ? 0 : err_set(e, MOAT_ENOMEM, "out of memory");
				xmlFreeDoc(sd);
			}
		}
		for (size_t i = 0; i < sh.n; i++)
			free(sh.c[i].text);
		free(sh.c);
		xmlFree(name);
		xmlFree(rid);
		xmlFree(state);
		if (d->over_limit)
			break;
	}
	json_object_set_new(d->meta, "sheets", json_incref(names));
out:
	json_decref(names);
	if (wb)
		xmlFreeDoc(wb);
	for (size_t i = 0; i < x.n_sst; i++)
		free(x.sst[i]);
	free(x.sst);
	free(x.date_xf);
	rels_free(&rs);
	free(part);
	ozip_close(x.z);
	d->encoding = NULL;
	return rc;
}

/* =================================================================================
 * PPTX
 * ================================================================================= */

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

/* The paragraphs of a text body. */
static int p_txbody(struct doc *d, const xmlNode *tx, int page, int title, int body, int notes)
{
	for (const xmlNode *p = tx ? tx->children : NULL; p; p = p->next) {
		struct buf t = BUF_INIT;
		xmlNode *ppr;
		char *lvl;
		int level = 0, list = body, r;
		enum element_type type;
		json_t *m = notes ? json_pack("{s:b}", "notes", 1) : NULL;
		if (!xml_is(p, "p")) {
			json_decref(m);
			continue;
		}
		a_text(p, &t, 0);
		ppr = child(p, "pPr");
		lvl = xml_attr(ppr, "lvl");
		if (lvl)
			level = (int)strtol(lvl, NULL, 10);
		xmlFree(lvl);
		if (child(ppr, "buNone"))
			list = 0;
		if (child(ppr, "buChar") || child(ppr, "buAutoNum") || child(ppr, "buBlip"))
			list = 1;
		if (child(ppr, "buAutoNum")) {
			if (!m)
				m = json_object();
			json_object_set_new(m, "list", json_string("numbered"));
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

static int p_table(struct doc *d, const xmlNode *tbl, int page)
{
	json_t *rows = json_array();
	for (const xmlNode *tr = tbl->children; tr; tr = tr->next) {
		json_t *row;
		if (!xml_is(tr, "tr"))
			continue;
		row = json_array();
		for (const xmlNode *tc = tr->children; tc; tc = tc->next) {
			struct buf t = BUF_INIT;
			xmlNode *body = child(tc, "txBody");
			if (!xml_is(tc, "tc"))
				continue;
			for (const xmlNode *p = body ? body->children : NULL; p; p = p->next)
				if (xml_is(p, "p")) {
					struct buf pt = BUF_INIT;
					a_text(p, &pt, 0);
					if (pt.len) {
						if (t.len)
							buf_addch(&t, '\n');
						buf_add(&t, buf_str(&pt), pt.len);
					}
					buf_release(&pt);
				}
			text_squeeze(&t);
			json_array_append_new(row, json_stringn(buf_str(&t), t.len));
			buf_release(&t);
		}
		json_array_append_new(rows, row);
	}
	if (!json_array_size(rows)) {
		json_decref(rows);
		return 0;
	}
	return add_table(d, page, rows, NULL) < 0 ? -1 : 0;
}

static void collect_shapes(const xmlNode *tree, struct shape **sh, size_t *n, size_t *alloc,
			   int level)
{
	if (level > 16)
		return;
	for (const xmlNode *c = tree->children; c; c = c->next) {
		struct shape s;
		xmlNode *nv, *ph, *xf, *off;
		char *v;
		if (xml_is(c, "grpSp")) {
			collect_shapes(c, sh, n, alloc, level + 1);
			continue;
		}
		if (xml_is(c, "AlternateContent")) {
			xmlNode *ch = child(c, "Choice");
			collect_shapes(ch ? ch : c, sh, n, alloc, level + 1);
			continue;
		}
		if (!xml_is(c, "sp") && !xml_is(c, "graphicFrame"))
			continue;
		memset(&s, 0, sizeof(s));
		s.n = c;
		nv = child(c, xml_is(c, "sp") ? "nvSpPr" : "nvGraphicFramePr");
		ph = child(child(nv, "nvPr"), "ph");
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
		xf = xml_is(c, "sp") ? child(child(c, "spPr"), "xfrm") : child(c, "xfrm");
		off = child(xf, "off");
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
				return;
			*sh = p;
			*alloc = na;
		}
		(*sh)[(*n)++] = s;
	}
}

static const xmlNode *find_desc(const xmlNode *n, const char *name, int level)
{
	if (level > 16)
		return NULL;
	for (const xmlNode *c = n->children; c; c = c->next) {
		const xmlNode *r;
		if (xml_is(c, name))
			return c;
		if (c->type == XML_ELEMENT_NODE && (r = find_desc(c, name, level + 1)))
			return r;
	}
	return NULL;
}

static int p_slide(struct ozip *z, struct doc *d, const char *part, int page, struct moat_err *e)
{
	xmlDocPtr doc;
	struct rels rs;
	struct shape *sh = NULL;
	size_t n = 0, alloc = 0;
	xmlNode *tree;
	int rc = 0;
	if (load_xml(z, part, &doc, e) < 0)
		return -1;
	tree = child(child(xmlDocGetRootElement(doc), "cSld"), "spTree");
	if (tree)
		collect_shapes(tree, &sh, &n, &alloc, 0);
	if (n)
		qsort(sh, n, sizeof(*sh), cmp_shape);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const xmlNode *tbl;
		if (xml_is(sh[i].n, "graphicFrame")) {
			tbl = find_desc(sh[i].n, "tbl", 0);
			if (tbl)
				rc = p_table(d, tbl, page);
			continue;
		}
		rc = p_txbody(d, child(sh[i].n, "txBody"), page, sh[i].title, sh[i].body, 0);
	}
	free(sh);
	xmlFreeDoc(doc);
	/* the notes */
	if (rc == 0 && load_rels(z, part, &rs, e) == 0) {
		const char *np = rel_by_type(&rs, "/notesSlide");
		xmlDocPtr nd;
		if (np && ozip_has(z, np) && load_xml(z, np, &nd, NULL) == 0) {
			struct shape *ns = NULL;
			size_t nn = 0, na = 0;
			xmlNode *nt = child(child(xmlDocGetRootElement(nd), "cSld"), "spTree");
			if (nt)
				collect_shapes(nt, &ns, &nn, &na, 0);
			for (size_t i = 0; i < nn && rc == 0; i++)
				if (ns[i].body)  /* the notes placeholder, not the slide image */
					rc = p_txbody(d, child(ns[i].n, "txBody"), page, 0, 0, 1);
			free(ns);
			xmlFreeDoc(nd);
		}
		rels_free(&rs);
	}
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
	if (open_package(data, len, o, &z, e) < 0)
		return -1;
	part = main_part(z, "ppt/presentation.xml", e);
	if (!part || load_rels(z, part, &rs, e) < 0 || load_xml(z, part, &pres, e) < 0)
		goto out;
	core_props(z, d);
	lst = child(xmlDocGetRootElement(pres), "sldIdLst");
	rc = 0;
	for (xmlNode *s = lst ? lst->children : NULL; s && rc == 0; s = s->next) {
		char *rid;
		const char *sp;
		if (!xml_is(s, "sldId"))
			continue;
		rid = rel_id(s);
		sp = rel_target(&rs, rid);
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
	json_object_set_new(d->meta, "slides", json_integer(page));
out:
	if (pres)
		xmlFreeDoc(pres);
	rels_free(&rs);
	free(part);
	ozip_close(z);
	d->encoding = NULL;
	return rc;
}
