/*
 * docx.c - Word (.docx) files: paragraphs with their styles (Title,
 * Heading 1..9 or an outline level give title and heading levels, Caption,
 * Quote), numbered and bulleted paragraphs as list items (depth from the
 * numbering level), tables as rows and cells (a merged cell's text in its
 * first column), each section's headers before it and its footers after it
 * (first-page, even-page and default ones as the section shows them, each
 * part once), footnotes and endnotes after the body; comments become
 * document metadata.  Text boxes, charts and SmartArt diagrams
 * (ooxml_chart.c) follow the paragraph they are anchored in.
 *
 * Not for: what every Office package has (ooxml.c).
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
	const struct rels *rs;  /* the main part's relationships */
	struct wstyle *st;
	size_t n_st;
	xmlDocPtr numbering;
	json_t *notes;     /* footnote/endnote texts by id */
	int depth;         /* table nesting */
	struct moat_err *e;
	int failed;        /* doc_add refused (d->over_limit) or out of memory */
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
	int rc = ooxml_load_optional(w->z, part, &doc, w->e);
	if (rc <= 0) {
		w->failed |= rc < 0;
		return;
	}
	for (xmlNode *n = xmlDocGetRootElement(doc)->children; n && !w->failed; n = n->next) {
		struct wstyle *p;
		xmlNode *ppr;
		char *v;
		if (!xml_is(n, "style"))
			continue;
		p = realloc(w->st, (w->n_st + 1) * sizeof(*p));
		if (!p) {
			w->failed = 1;
			break;
		}
		w->st = p;
		p = &w->st[w->n_st++];
		memset(p, 0, sizeof(*p));
		v = xml_attr(n, "styleId");
		p->id = strdup(v ? v : "");
		xmlFree(v);
		v = ooxml_child_attr(n, "name", "val");
		p->name = strdup(v ? v : "");
		xmlFree(v);
		v = ooxml_child_attr(n, "basedOn", "val");
		p->based_on = v ? strdup(v) : NULL;
		w->failed |= !p->id || !p->name || (v && !p->based_on);
		xmlFree(v);
		p->outline = -1;
		ppr = ooxml_child(n, "pPr");
		v = ooxml_child_attr(ppr, "outlineLvl", "val");
		if (v)
			p->outline = (int)strtol(v, NULL, 10);
		xmlFree(v);
		{
			xmlNode *np = ooxml_child(ppr, "numPr");
			char *id = ooxml_child_attr(np, "numId", "val"), *lv = ooxml_child_attr(np, "ilvl", "val");
			p->num = id && strcmp(id, "0") != 0;
			p->num_id = p->num ? strdup(id) : NULL;
			w->failed |= p->num && !p->num_id;
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
			abs = ooxml_child_attr(n, "abstractNumId", "val");
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
					fmt = ooxml_child_attr(l, "numFmt", "val");
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

/* A paragraph's style, outline level and numbering (*num_id malloc'd).  0,
 * or -1 out of memory. */
static int paragraph_style(const struct wctx *w, const xmlNode *p, const struct wstyle **style,
			   int *outline, int *numbered, char **num_id, int *ilvl)
{
	xmlNode *ppr = ooxml_child(p, "pPr"), *np = ooxml_child(ppr, "numPr");
	char *sid = ooxml_child_attr(ppr, "pStyle", "val"), *v;
	const struct wstyle *s = find_style(w, sid);
	*style = s;
	*outline = -1;
	*numbered = 0;
	*num_id = NULL;
	*ilvl = 0;
	v = ooxml_child_attr(ppr, "outlineLvl", "val");
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
		char *id = ooxml_child_attr(np, "numId", "val"), *lv = ooxml_child_attr(np, "ilvl", "val");
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
	return *numbered && !*num_id ? -1 : 0;
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

/* What a paragraph holds besides its text, in document order: text boxes
 * (their paragraphs) and the charts and SmartArt diagrams of its drawings. */
static void w_anchored(struct wctx *w, const xmlNode *n, int level)
{
	if (level > 64)
		return;
	for (const xmlNode *c = n->children; c && !w->failed; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || xml_is(c, "Fallback"))
			continue;
		if (xml_is(c, "txbxContent"))
			w_block(w, c, 1);
		else if (xml_is(c, "graphicData"))
			w->failed |= ooxml_add_graphic(w->z, w->rs, c, w->d, 0, NULL, NULL, w->e) < 0;
		else
			w_anchored(w, c, level + 1);
	}
}

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
	if (paragraph_style(w, p, &style, &outline, &numbered, &num_id, &ilvl) < 0 || !meta)
		w->failed = 1;
	name = style ? style->name : NULL;
	if (name && *name && json_object_set_new(meta, "style", json_string(name)) < 0)
		w->failed = 1;
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
		if (fmt && json_object_set_new(meta, "list", json_string(!strcmp(fmt, "bullet")
									 ? "bullet" : "numbered")) < 0)
			w->failed = 1;
		xmlFree(fmt);
	}
	free(num_id);
	if (lvl > 6)
		lvl = 6;
	if (type == EL_PARAGRAPH || type == EL_TITLE)
		lvl = 0;
	if (!buf_failed(&t) && !w->failed)
		r = doc_add(w->d, type, lvl, buf_str(&t), t.len, meta);
	else
		json_decref(meta), r = -1;
	if (r < 0)
		w->failed = 1;
	buf_release(&t);
	/* text boxes, charts and diagrams anchored in the paragraph follow it */
	w_anchored(w, p, 0);
}

/* A cell that continues a vertical merge: its text belongs to the cell above. */
static int merged_away(const xmlNode *tc)
{
	xmlNode *vm = ooxml_child(ooxml_child(tc, "tcPr"), "vMerge");
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
			if (buf_failed(&t))
				w->failed = 1;
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
					if (buf_failed(&cell))
						w->failed = 1;
					if (cell.len) {
						if (row.len)
							buf_addch(&row, ' ');
						buf_add(&row, buf_str(&cell), cell.len);
					}
					buf_release(&cell);
				}
				if (buf_failed(&row))
					w->failed = 1;
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

/* A table cell (ooxml_cell_fn): a cell continuing a vertical merge stays
 * empty. */
static long w_cell(void *ud, const xmlNode *tc, struct buf *t)
{
	char *span = ooxml_child_attr(ooxml_child(tc, "tcPr"), "gridSpan", "val");
	long n = span ? strtol(span, NULL, 10) : 1;
	if (!merged_away(tc))
		w_flat_text(ud, tc, t, 0);
	xmlFree(span);
	return n;
}

static void w_table(struct wctx *w, const xmlNode *tbl)
{
	json_t *rows = ooxml_table_rows(tbl, w_cell, w);
	if (!rows || w->failed) {
		w->failed = 1;
		json_decref(rows);
	} else if (json_array_size(rows)) {
		if (ooxml_add_table(w->d, 0, rows, NULL) < 0)
			w->failed = 1;
	} else {
		json_decref(rows);
	}
}

/* One block-level node: a paragraph, a table, or a container of them. */
static void w_node(struct wctx *w, const xmlNode *c, int level)
{
	if (xml_is(c, "p"))
		w_paragraph(w, c);
	else if (xml_is(c, "tbl"))
		w_table(w, c);
	else if (xml_is(c, "sdt"))
		w_block(w, ooxml_child(c, "sdtContent") ? ooxml_child(c, "sdtContent") : c, level + 1);
	else if (xml_is(c, "customXml") || xml_is(c, "ins") || xml_is(c, "smartTag") ||
		 xml_is(c, "AlternateContent") || xml_is(c, "Choice"))
		w_block(w, c, level + 1);
}

static void w_block(struct wctx *w, const xmlNode *n, int level)
{
	if (level > 32)
		return;
	for (const xmlNode *c = n->children; c && !w->failed; c = c->next)
		w_node(w, c, level);
}

/* Footnotes or endnotes, after the body. */
static void w_notes(struct wctx *w, const char *part, const char *what)
{
	xmlDocPtr doc;
	int rc = w->failed ? 0 : ooxml_load_optional(w->z, part, &doc, w->e);
	if (rc <= 0) {
		w->failed |= rc < 0;
		return;
	}
	for (xmlNode *n = xmlDocGetRootElement(doc)->children; n && !w->failed; n = n->next) {
		struct buf t = BUF_INIT;
		char *id, *type;
		if (!xml_is(n, "footnote") && !xml_is(n, "endnote"))
			continue;
		type = xml_attr(n, "type");
		id = xml_attr(n, "id");
		if (!type || !strcmp(type, "normal")) {
			json_t *m = json_pack("{s:s, s:s}", "note", what, "id", id ? id : "");
			w_flat_text(w, n, &t, 0);
			text_squeeze(&t);
			if (!m || buf_failed(&t) || w->failed ||
			    doc_add(w->d, EL_PARAGRAPH, 0, buf_str(&t), t.len, json_incref(m)) < 0)
				w->failed = 1;
			json_decref(m);
		}
		buf_release(&t);
		xmlFree(type);
		xmlFree(id);
	}
	xmlFreeDoc(doc);
}

/*
 * Headers and footers, per section.  A section shows its "default" header
 * on every page, its "first" one on its first page when it has w:titlePg,
 * and its "even" one on even pages when settings.xml has
 * w:evenAndOddHeaders; a kind the section does not name is the previous
 * section's (ECMA-376 17.10.5).  So the kinds a section shows are read
 * through that inheritance, a kind it does not show is left out, and a part
 * is read once however many sections show it.
 */
enum { HF_FIRST, HF_DEFAULT, HF_EVEN, HF_KINDS };
static const char *const hf_kind_name[HF_KINDS] = { "first", "primary", "even" };
#define MAX_SECTS 256

struct wsects {
	const xmlNode *sect[MAX_SECTS];
	size_t n;
	/* the parts each section shows, by footer (0, 1) and kind; NULL none */
	const char *part[MAX_SECTS][2][HF_KINDS];
	const char *done[64];  /* parts read, pointing into the relationships */
	size_t n_done;
};

/* The sections' properties (in paragraphs' pPr, and the body's last) and
 * the parts each shows. */
static void w_sections(const struct rels *rs, const xmlNode *body, int even_odd, struct wsects *ss)
{
	const char *inherit[2][HF_KINDS] = { { NULL } };
	ss->n = 0;
	for (const xmlNode *c = body->children; c && ss->n < MAX_SECTS; c = c->next) {
		const xmlNode *sp = xml_is(c, "p") ? ooxml_child(ooxml_child(c, "pPr"), "sectPr")
			: xml_is(c, "sectPr") ? c : NULL;
		if (sp)
			ss->sect[ss->n++] = sp;
	}
	for (size_t s = 0; s < ss->n; s++) {
		xmlNode *tp = ooxml_child(ss->sect[s], "titlePg");
		char *v = xml_attr(tp, "val");
		int title_pg = tp && (!v || (strcmp(v, "0") && strcmp(v, "false") && strcmp(v, "off")));
		xmlFree(v);
		for (const xmlNode *r = ss->sect[s]->children; r; r = r->next) {
			int footer = xml_is(r, "footerReference"), k;
			char *id, *kind;
			if (!footer && !xml_is(r, "headerReference"))
				continue;
			id = ooxml_rel_id(r);
			kind = xml_attr(r, "type");
			k = kind && !strcmp(kind, "first") ? HF_FIRST : kind && !strcmp(kind, "even")
				? HF_EVEN : HF_DEFAULT;
			inherit[footer][k] = ooxml_rel_target(rs, id);
			xmlFree(id);
			xmlFree(kind);
		}
		for (int f = 0; f < 2; f++) {
			ss->part[s][f][HF_FIRST] = title_pg ? inherit[f][HF_FIRST] : NULL;
			ss->part[s][f][HF_DEFAULT] = inherit[f][HF_DEFAULT];
			ss->part[s][f][HF_EVEN] = even_odd ? inherit[f][HF_EVEN] : NULL;
		}
	}
}

/* The headers (or footers) section s shows that were not read before: one
 * element each, meta header_footer_type (first, primary, even) and
 * section (1-based). */
static void w_hdrftr(struct wctx *w, struct wsects *ss, size_t s, int footer)
{
	for (int k = 0; k < HF_KINDS && s < ss->n && !w->failed; k++) {
		const char *part = ss->part[s][footer][k];
		xmlDocPtr doc;
		int dup = 0, loaded;
		for (size_t i = 0; part && i < ss->n_done; i++)
			dup |= !strcmp(ss->done[i], part);
		if (!part || dup || ss->n_done >= 64)
			continue;
		ss->done[ss->n_done++] = part;
		loaded = ooxml_load_optional(w->z, part, &doc, w->e);
		if (loaded < 0)
			w->failed = 1;
		if (loaded > 0) {
			struct buf t = BUF_INIT;
			json_t *m = json_pack("{s:s, s:i}", "header_footer_type", hf_kind_name[k],
					      "section", (int)s + 1);
			w_flat_text(w, xmlDocGetRootElement(doc), &t, 0);
			if (!m || buf_failed(&t) || w->failed ||
			    doc_add(w->d, footer ? EL_FOOTER : EL_HEADER, 0, buf_str(&t), t.len,
				    json_incref(m)) < 0)
				w->failed = 1;
			json_decref(m);
			buf_release(&t);
			xmlFreeDoc(doc);
		}
	}
}

/* w:evenAndOddHeaders in the settings part.  0 or 1; -1 when the part is
 * there but cannot be read. */
static int w_even_odd(struct wctx *w, const char *part)
{
	xmlDocPtr doc;
	xmlNode *eo;
	char *v;
	int r = ooxml_load_optional(w->z, part, &doc, w->e);
	if (r <= 0)
		return r;
	eo = ooxml_child(xmlDocGetRootElement(doc), "evenAndOddHeaders");
	v = xml_attr(eo, "val");
	r = eo && (!v || (strcmp(v, "0") && strcmp(v, "false") && strcmp(v, "off")));
	xmlFree(v);
	xmlFreeDoc(doc);
	return r;
}

/* The body, section by section: each section's headers before its content
 * and its footers after it; the notes come after the last section's content,
 * before its footers. */
static void w_body(struct wctx *w, const struct rels *rs, const xmlNode *body)
{
	struct wsects *ss = calloc(1, sizeof(*ss));
	size_t s = 0;
	int started = 0, even_odd;
	if (!ss) {
		w->failed = 1;
		return;
	}
	even_odd = w_even_odd(w, ooxml_rel_by_type(rs, "/settings"));
	if (even_odd < 0)
		w->failed = 1;
	w_sections(rs, body, even_odd > 0, ss);
	for (const xmlNode *c = body->children; c && !w->failed; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || xml_is(c, "sectPr"))
			continue;
		if (!started) {
			w_hdrftr(w, ss, s, 0);
			started = 1;
		}
		w_node(w, c, 0);
		if (xml_is(c, "p") && ooxml_child(ooxml_child(c, "pPr"), "sectPr") && s + 1 < ss->n) {
			w_hdrftr(w, ss, s, 1);
			s++;
			started = 0;
		}
	}
	if (!started)
		w_hdrftr(w, ss, s, 0);
	w_notes(w, ooxml_rel_by_type(rs, "/footnotes"), "footnote");
	w_notes(w, ooxml_rel_by_type(rs, "/endnotes"), "endnote");
	w_hdrftr(w, ss, s, 1);
	free(ss);
}

static void w_comments(struct wctx *w, const char *part)
{
	xmlDocPtr doc;
	json_t *arr;
	int rc = w->failed ? 0 : ooxml_load_optional(w->z, part, &doc, w->e);
	if (rc <= 0) {
		w->failed |= rc < 0;
		return;
	}
	arr = json_array();
	if (!arr)
		w->failed = 1;
	for (xmlNode *n = xmlDocGetRootElement(doc)->children; n && !w->failed; n = n->next) {
		struct buf t = BUF_INIT;
		char *author;
		if (!xml_is(n, "comment"))
			continue;
		author = xml_attr(n, "author");
		w_flat_text(w, n, &t, 0);
		text_squeeze(&t);
		if (buf_failed(&t) ||
		    (utf8_is_valid(buf_str(&t), t.len) &&
		     json_array_append_new(arr, json_pack("{s:s, s:s}", "author",
							  author && utf8_is_valid(author, strlen(author))
								  ? author : "",
							  "text", buf_str(&t))) < 0))
			w->failed = 1;
		xmlFree(author);
		buf_release(&t);
	}
	if (json_array_size(arr) && !w->failed) {
		if (json_object_set_new(w->d->meta, "comments", arr) < 0)
			w->failed = 1;
	} else {
		json_decref(arr);
	}
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
	if (ooxml_open_package(data, len, o, &w.z, e) < 0)
		return -1;
	part = ooxml_main_part(w.z, "word/document.xml", e);
	if (!part || ooxml_load_rels(w.z, part, &rs, e) < 0)
		goto out;
	if (ooxml_load_xml(w.z, part, &doc, e) < 0)
		goto out;
	body = ooxml_child(xmlDocGetRootElement(doc), "body");
	if (!body) {
		rc = err_set(e, MOAT_EPARSE, "damaged Word file: no body in '%s'", part);
		goto out;
	}
	w.rs = &rs;
	load_styles(&w, ooxml_rel_by_type(&rs, "/styles"));
	if (!w.failed && ooxml_load_optional(w.z, ooxml_rel_by_type(&rs, "/numbering"),
					     &w.numbering, e) < 0)
		w.failed = 1;
	if (!w.failed && ooxml_core_props(w.z, d, e) < 0)
		w.failed = 1;
	w_body(&w, &rs, body);
	w_comments(&w, ooxml_rel_by_type(&rs, "/comments"));
	if (w.failed && !d->over_limit)  /* a part that cannot be read said why; else memory */
		rc = e && e->msg[0] ? -1 : err_set(e, MOAT_ENOMEM, "out of memory");
	else
		rc = 0;
out:
	if (doc)
		xmlFreeDoc(doc);
	if (w.numbering)
		xmlFreeDoc(w.numbering);
	styles_free(&w);
	ooxml_rels_free(&rs);
	free(part);
	ozip_close(w.z);
	d->encoding = NULL;
	return rc;
}
