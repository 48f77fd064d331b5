/*
 * xlsx.c - Excel (.xlsx) files: each sheet a heading and its tables: blocks
 * of filled cells separated by empty rows and columns; shared strings,
 * numbers as Excel shows them when the format is general, dates and times
 * as ISO dates.
 *
 * The charts, SmartArt diagrams and text boxes of a sheet's drawing follow
 * its tables, top to bottom (ooxml_chart.c reads them; a chart whose writer
 * kept no cached values gets its cells here, chart_ref).
 *
 * Not for: formulas (their cached values are read), pivot tables; what every
 * Office package has (ooxml.c).
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

struct xctx {
	struct ozip *z;
	const struct rels *rs;     /* the workbook's relationships */
	const xmlNode *sheets;     /* the workbook's sheet list */
	struct moat_err *e;
	char *ref_sheet;           /* the sheet last read for a chart's references */
	struct xsheet ref_cells;
	char **sst;
	size_t n_sst;
	int *date_xf;      /* per cellXfs index: 0 no, 1 date, 2 time only */
	size_t n_xf;
	int date1904;
};

/* The shared strings.  0, or -1 with e set. */
static int load_sst(struct xctx *x, const char *part, struct moat_err *e)
{
	xmlDocPtr doc;
	size_t n = 0;
	int rc;
	/* the workbook's text: present and unreadable (a DTD, bad XML) fails the
	 * file, never a workbook silently without its text cells */
	if (!part || !ozip_has(x->z, part))
		return 0;
	if (ooxml_load_xml(x->z, part, &doc, e) < 0)
		return -1;
	rc = 1;
	for (xmlNode *si = xmlDocGetRootElement(doc)->children; si; si = si->next)
		n += xml_is(si, "si");
	x->sst = calloc(n ? n : 1, sizeof(char *));
	if (!x->sst)
		rc = -1;
	for (xmlNode *si = xmlDocGetRootElement(doc)->children; si && rc >= 0; si = si->next) {
		struct buf t = BUF_INIT;
		if (!xml_is(si, "si"))
			continue;
		/* t directly, or runs r/t; not the phonetic rPh */
		for (xmlNode *c = si->children; c; c = c->next) {
			xmlNode *tn = xml_is(c, "t") ? c : xml_is(c, "r") ? ooxml_child(c, "t") : NULL;
			if (tn) {
				char *v = (char *)xmlNodeGetContent(tn);
				if (v)
					buf_adds(&t, v);
				xmlFree(v);
			}
		}
		if (!(x->sst[x->n_sst++] = buf_detach(&t, NULL)))
			rc = -1;
	}
	xmlFreeDoc(doc);
	return rc < 0 ? err_set(e, MOAT_ENOMEM, "out of memory") : 0;
}

/* Which cell formats are dates.  0, or -1 out of memory (e set). */
static int load_xstyles(struct xctx *x, const char *part, struct moat_err *e)
{
	xmlDocPtr doc;
	xmlNode *root, *fmts, *xfs;
	size_t n = 0;
	int rc = ooxml_load_optional(x->z, part, &doc, e);
	if (rc <= 0)
		return rc;
	root = xmlDocGetRootElement(doc);
	fmts = ooxml_child(root, "numFmts");
	xfs = ooxml_child(root, "cellXfs");
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
	return x->date_xf ? 0 : err_set(e, MOAT_ENOMEM, "out of memory");
}

static int cmp_cell(const void *a, const void *b)
{
	const struct xcell *p = a, *q = b;
	if (p->row != q->row)
		return p->row < q->row ? -1 : 1;
	return p->col < q->col ? -1 : p->col > q->col;
}

/* Reads a sheet's cells.  0; -1 out of memory (e not set), or -2 with e set
 * for a cell that names a shared string there is none of (refused: never a
 * cell silently empty). */
static int read_sheet(struct xctx *x, xmlDocPtr doc, struct xsheet *sh, const char *sheet,
		      struct moat_err *e)
{
	xmlNode *data = ooxml_child(xmlDocGetRootElement(doc), "sheetData");
	int rc = 0;
	for (xmlNode *r = data ? data->children : NULL; r && rc == 0; r = r->next) {
		if (!xml_is(r, "row"))
			continue;
		for (xmlNode *c = r->children; c && rc == 0; c = c->next) {
			char *ref, *t, *s, *v = NULL;
			struct buf txt = BUF_INIT;
			uint32_t row, col;
			xmlNode *vn;
			if (!xml_is(c, "c"))
				continue;
			ref = xml_attr(c, "r");
			t = xml_attr(c, "t");
			s = xml_attr(c, "s");
			vn = ooxml_child(c, "v");
			if (vn)
				v = (char *)xmlNodeGetContent(vn);
			if (t && !strcmp(t, "inlineStr")) {
				xmlNode *is = ooxml_child(c, "is");
				for (xmlNode *k = is ? is->children : NULL; k; k = k->next) {
					xmlNode *tn = xml_is(k, "t") ? k : xml_is(k, "r") ? ooxml_child(k, "t") : NULL;
					char *tv = tn ? (char *)xmlNodeGetContent(tn) : NULL;
					if (tv)
						buf_adds(&txt, tv);
					xmlFree(tv);
				}
			} else if (v && t && !strcmp(t, "s")) {
				char *end;
				unsigned long k = strtoul(v, &end, 10);
				if (end == v || *end || k >= x->n_sst || !x->sst[k]) {
					rc = -2;
					err_set(e, MOAT_EPARSE, "sheet '%s': cell %s refers to shared string "
						"'%.20s', but the workbook has %zu", sheet, ref ? ref : "?", v,
						x->n_sst);
				} else {
					buf_adds(&txt, x->sst[k]);
				}
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
					ooxml_number(v, &txt);
			}
			text_squeeze(&txt);
			if (ref && parse_ref(ref, &row, &col) && (txt.len || buf_failed(&txt))) {
				if (sh->n == sh->alloc) {
					size_t na = sh->alloc ? sh->alloc * 2 : 256;
					struct xcell *p = realloc(sh->c, na * sizeof(*p));
					if (p) {
						sh->c = p;
						sh->alloc = na;
					}
				}
				if (sh->n < sh->alloc) {
					sh->c[sh->n].row = row;
					sh->c[sh->n].col = col;
					/* NULL when txt failed */
					sh->c[sh->n].text = buf_detach(&txt, NULL);
				}
				if (sh->n == sh->alloc || !sh->c[sh->n].text)
					rc = -1;
				else
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
	return rc;
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
		for (uint32_t r = r0; r <= r1 && rc == 0; r++) {
			json_t *row = json_array();
			int any = 0;
			for (uint32_t c = c0; c <= c1; c++)
				if (json_array_append_new(row, json_string("")) < 0)
					rc = -1;
			for (size_t i = 0; i < n && rc == 0; i++)
				if (grp[i] == g && sh->c[i].row == r) {
					if (json_array_set_new(row, sh->c[i].col - c0,
							       json_string(sh->c[i].text)) < 0)
						rc = -1;
					any = 1;
				}
			if (any && rc == 0) {
				if (json_array_append_new(rows, row) < 0)
					rc = -1;
			} else {
				json_decref(row);
			}
		}
		if (rc < 0 || !rows) {
			json_decref(rows);
			rc = -1;
			break;
		}
		{
			struct buf first = BUF_INIT;
			int k = 0;
			uint32_t col = c0;
			char tmp[8];
			while (col && k < 7) {
				tmp[k++] = (char)('A' + (col - 1) % 26);
				col = (col - 1) / 26;
			}
			json_t *extra;
			while (k > 0)
				buf_addch(&first, tmp[--k]);
			buf_addf(&first, "%u", r0);
			extra = buf_failed(&first) ? NULL : json_pack("{s:s, s:s}", "sheet", name,
								      "range_start", buf_str(&first));
			if (!extra)
				json_decref(rows);
			if (!extra || ooxml_add_table(d, page, rows, extra) < 0)
				rc = -1;
			buf_release(&first);
		}
	}
	free(grp);
	free(stack);
	return rc;
}

static void xsheet_free(struct xsheet *sh)
{
	for (size_t i = 0; i < sh->n; i++)
		free(sh->c[i].text);
	free(sh->c);
	memset(sh, 0, sizeof(*sh));
}

/* The text of cell (row, col) of sh (its cells sorted), or "". */
static const char *cell_at(const struct xsheet *sh, uint32_t row, uint32_t col)
{
	size_t lo = 0, hi = sh->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct xcell *c = &sh->c[mid];
		if (c->row == row && c->col == col)
			return c->text;
		if (c->row < row || (c->row == row && c->col < col))
			lo = mid + 1;
		else
			hi = mid;
	}
	return "";
}

/* Reads the cells of the sheet called name into x->ref_cells (kept for the
 * next reference to it).  1 read, 0 no such sheet (or damaged: a reference
 * into it reads as empty), -1 out of memory. */
static int ref_load(struct xctx *x, const char *name)
{
	struct moat_err e = MOAT_ERR_INIT;
	if (x->ref_sheet && !strcmp(x->ref_sheet, name))
		return 1;
	free(x->ref_sheet);
	x->ref_sheet = NULL;
	xsheet_free(&x->ref_cells);
	for (const xmlNode *s = x->sheets ? x->sheets->children : NULL; s; s = s->next) {
		char *nm, *rid;
		const char *sp;
		xmlDocPtr sd;
		int rc = 0, match;
		if (!xml_is(s, "sheet"))
			continue;
		nm = xml_attr(s, "name");
		match = nm && !strcmp(nm, name);
		xmlFree(nm);
		if (!match)
			continue;
		rid = ooxml_rel_id(s);
		sp = ooxml_rel_target(x->rs, rid);
		xmlFree(rid);
		if (!sp || ooxml_load_optional(x->z, sp, &sd, &e) <= 0)
			return e.code == MOAT_ENOMEM ? -1 : 0;
		if (read_sheet(x, sd, &x->ref_cells, name, &e) == -1)
			rc = -1;
		xmlFreeDoc(sd);
		if (rc == 0 && !(x->ref_sheet = strdup(name)))
			rc = -1;
		if (rc < 0)
			xsheet_free(&x->ref_cells);
		return rc < 0 ? -1 : 1;
	}
	return 0;
}

/* One area "'Sheet 1'!$A$2:$B$4" (or a lone cell) of a chart's reference:
 * its cells, row by row, appended to out.  0, or -1 out of memory. */
static int ref_area(struct xctx *x, const char *a, size_t len, json_t *out)
{
	struct buf sheet = BUF_INIT, r0 = BUF_INIT, r1 = BUF_INIT;
	const char *p = a, *end = a + len;
	uint32_t row0, col0, row1, col1;
	int rc = 0;
	if (p < end && *p == '\'') {
		for (p++; p < end; p++) {
			if (*p == '\'' && p + 1 < end && p[1] == '\'')
				buf_addch(&sheet, *p++);
			else if (*p == '\'')
				break;
			else
				buf_addch(&sheet, *p);
		}
		p++;
	} else {
		while (p < end && *p != '!')
			buf_addch(&sheet, *p++);
	}
	if (p >= end || *p != '!') {
		buf_release(&sheet);
		return 0;
	}
	for (p++; p < end && *p != ':'; p++)
		if (*p != '$')
			buf_addch(&r0, *p);
	for (p += p < end; p < end; p++)
		if (*p != '$')
			buf_addch(&r1, *p);
	if (buf_failed(&sheet) || buf_failed(&r0) || buf_failed(&r1)) {
		rc = -1;
	} else if (parse_ref(buf_str(&r0), &row0, &col0) &&
		   (!r1.len ? (row1 = row0, col1 = col0, 1) : parse_ref(buf_str(&r1), &row1, &col1)) &&
		   row0 <= row1 && col0 <= col1 &&
		   (uint64_t)(row1 - row0 + 1) * (col1 - col0 + 1) <= 100000 &&
		   (rc = ref_load(x, buf_str(&sheet))) > 0) {
		rc = 0;
		for (uint32_t r = row0; r <= row1 && rc == 0; r++)
			for (uint32_t c = col0; c <= col1 && rc == 0; c++)
				rc = json_array_append_new(out, json_string(cell_at(&x->ref_cells, r,
										    c))) < 0 ? -1 : 0;
	}
	buf_release(&sheet);
	buf_release(&r0);
	buf_release(&r1);
	return rc < 0 ? -1 : 0;
}

/* ooxml_ref_fn: a chart reference, one area or several "(a,b)". */
static int chart_ref(void *ud, const char *formula, json_t *out)
{
	const char *p = formula;
	size_t len = strlen(formula);
	if (len >= 2 && p[0] == '(' && p[len - 1] == ')')
		p++, len -= 2;
	while (len) {
		const char *comma = memchr(p, ',', len);
		size_t k = comma ? (size_t)(comma - p) : len;
		if (ref_area(ud, p, k, out) < 0)
			return -1;
		p += k + (comma != NULL);
		len -= k + (comma != NULL);
	}
	return 0;
}

/* An anchor of a drawing and where it sits. */
struct xanchor {
	const xmlNode *n;
	long row, col;
};

static int cmp_anchor(const void *a, const void *b)
{
	const struct xanchor *p = a, *q = b;
	if (p->row != q->row)
		return p->row < q->row ? -1 : 1;
	return p->col < q->col ? -1 : p->col > q->col;
}

/* What a drawing's anchored shape n shows: a chart or diagram, or a text
 * box's paragraphs; a group's shapes in turn.  0 or -1. */
static int x_shape(struct xctx *x, struct ozip *z, const struct rels *rs, const xmlNode *n,
		   struct doc *d, int page, int level)
{
	for (const xmlNode *c = n->children; c && level < 16; c = c->next) {
		int rc = 0;
		if (xml_is(c, "graphicFrame")) {
			rc = ooxml_add_graphic(z, rs, c, d, page, chart_ref, x, x->e) < 0 ? -1 : 0;
		} else if (xml_is(c, "sp")) {
			const xmlNode *tx = ooxml_child(c, "txBody");
			for (const xmlNode *p = tx ? tx->children : NULL; p && rc == 0; p = p->next) {
				struct buf t = BUF_INIT;
				json_t *m;
				if (!xml_is(p, "p"))
					continue;
				ooxml_a_text(p, &t);
				m = json_pack("{s:b}", "text_box", 1);
				if (buf_failed(&t) || !m) {
					json_decref(m);
					rc = err_set(x->e, MOAT_ENOMEM, "out of memory");
				} else if (doc_add_page(d, EL_PARAGRAPH, 0, page, buf_str(&t), t.len,
							m) < 0) {
					rc = -1;
				}
				buf_release(&t);
			}
		} else if (xml_is(c, "grpSp") || xml_is(c, "AlternateContent") ||
			   xml_is(c, "Choice")) {
			rc = x_shape(x, z, rs, c, d, page, level + 1);
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* The drawing of a sheet (or chart sheet) sd whose part is sp: its charts,
 * diagrams and text boxes, top to bottom, left to right.  0, or -1: e set,
 * or d->over_limit. */
static int sheet_drawing(struct xctx *x, xmlDocPtr sd, const char *sp, struct doc *d, int page)
{
	struct rels srs, drs;
	struct moat_err re = MOAT_ERR_INIT;
	xmlNode *dn = ooxml_child(xmlDocGetRootElement(sd), "drawing");
	char *rid;
	const char *dp;
	xmlDocPtr dd = NULL;
	struct xanchor *an = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	if (!dn)
		return 0;
	/* a damaged .rels of the sheet is read as none, as before drawings
	 * were read */
	if (ooxml_load_rels(x->z, sp, &srs, &re) < 0)
		return re.code == MOAT_ENOMEM ? err_set(x->e, MOAT_ENOMEM, "out of memory") : 0;
	rid = ooxml_rel_id(dn);
	dp = ooxml_rel_target(&srs, rid);
	xmlFree(rid);
	memset(&drs, 0, sizeof(drs));
	if (dp && (rc = ooxml_load_optional(x->z, dp, &dd, x->e)) > 0)
		rc = ooxml_load_rels(x->z, dp, &drs, x->e);
	for (const xmlNode *a = dd && rc == 0 ? xmlDocGetRootElement(dd)->children : NULL;
	     a && rc == 0; a = a->next) {
		const xmlNode *from = ooxml_child(a, "from");
		char *v;
		if (!xml_is(a, "twoCellAnchor") && !xml_is(a, "oneCellAnchor") &&
		    !xml_is(a, "absoluteAnchor"))
			continue;
		if (n == cap) {
			struct xanchor *p = realloc(an, (cap ? cap * 2 : 8) * sizeof(*p));
			if (!p) {
				rc = err_set(x->e, MOAT_ENOMEM, "out of memory");
				break;
			}
			an = p;
			cap = cap ? cap * 2 : 8;
		}
		an[n].n = a;
		v = (char *)xmlNodeGetContent(ooxml_child(from, "row"));
		an[n].row = v ? strtol(v, NULL, 10) : 0;
		xmlFree(v);
		v = (char *)xmlNodeGetContent(ooxml_child(from, "col"));
		an[n].col = v ? strtol(v, NULL, 10) : 0;
		xmlFree(v);
		n++;
	}
	if (n)
		qsort(an, n, sizeof(*an), cmp_anchor);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = x_shape(x, x->z, &drs, an[i].n, d, page, 0);
	free(an);
	if (dd)
		xmlFreeDoc(dd);
	ooxml_rels_free(&drs);
	ooxml_rels_free(&srs);
	return rc < 0 ? -1 : 0;
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
	if (ooxml_open_package(data, len, o, &x.z, e) < 0) {
		json_decref(names);
		return -1;
	}
	part = ooxml_main_part(x.z, "xl/workbook.xml", e);
	if (!part || ooxml_load_rels(x.z, part, &rs, e) < 0 || ooxml_load_xml(x.z, part, &wb, e) < 0)
		goto out;
	{
		xmlNode *pr = ooxml_child(xmlDocGetRootElement(wb), "workbookPr");
		char *v = xml_attr(pr, "date1904");
		x.date1904 = v && (!strcmp(v, "1") || !strcmp(v, "true"));
		xmlFree(v);
	}
	if (!names || load_sst(&x, ooxml_rel_by_type(&rs, "/sharedStrings"), e) < 0 ||
	    load_xstyles(&x, ooxml_rel_by_type(&rs, "/styles"), e) < 0 ||
	    ooxml_core_props(x.z, d, e) < 0) {
		if (!e || !e->msg[0])
			err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	sheets = ooxml_child(xmlDocGetRootElement(wb), "sheets");
	x.rs = &rs;
	x.sheets = sheets;
	x.e = e;
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
		rid = ooxml_rel_id(s);
		state = xml_attr(s, "state");
		sp = ooxml_rel_target(&rs, rid);
		page++;
		memset(&sh, 0, sizeof(sh));
		if (sp && ozip_has(x.z, sp)) {
			if (ooxml_load_xml(x.z, sp, &sd, e) < 0) {
				rc = -1;
			} else {
				const char *nm = name && utf8_is_valid(name, strlen(name)) ? name : "";
				json_t *m = json_pack("{s:s, s:b}", "sheet", nm, "hidden",
						      state && strcmp(state, "visible") != 0);
				if (!m || json_array_append_new(names, json_string(nm)) < 0) {
					json_decref(m);
					rc = err_set(e, MOAT_ENOMEM, "out of memory");
				} else if (doc_add_page(d, EL_HEADING, 1, page, nm, strlen(nm), m) < 0 ||
					   (rc = read_sheet(&x, sd, &sh, nm, e)) < 0 ||
					   sheet_tables(d, &sh, page, nm) < 0) {
					rc = rc == -2 ? -1 : d->over_limit ? 0
					   : err_set(e, MOAT_ENOMEM, "out of memory");
				} else if (sheet_drawing(&x, sd, sp, d, page) < 0) {
					rc = d->over_limit ? 0 : -1;
				}
				xmlFreeDoc(sd);
			}
		}
		xsheet_free(&sh);
		xmlFree(name);
		xmlFree(rid);
		xmlFree(state);
		if (d->over_limit)
			break;
	}
	if (rc == 0 && json_object_set_new(d->meta, "sheets", json_incref(names)) < 0)
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
out:
	json_decref(names);
	if (wb)
		xmlFreeDoc(wb);
	for (size_t i = 0; i < x.n_sst; i++)
		free(x.sst[i]);
	free(x.sst);
	free(x.date_xf);
	free(x.ref_sheet);
	xsheet_free(&x.ref_cells);
	ooxml_rels_free(&rs);
	free(part);
	ozip_close(x.z);
	d->encoding = NULL;
	return rc;
}
