/*
 * pdf.c - PDF through MuPDF: text in reading order, typed elements, pages
 * and boxes; scanned pages through OCR (ocr.c).
 *
 * MuPDF gives characters with their boxes, sizes and fonts (the structured
 * text device); one pass over each page also collects ruling lines and image
 * areas through a device that forwards text to it.  From there:
 *
 *  - spans: characters on one baseline with no gap wider than ~1 em; lines
 *    at an angle to the page's main direction (arXiv side stamps) are dropped;
 *    right-to-left runs drawn in visual order are put back in logical order;
 *  - header and footer: rows in the top or bottom tenth of the page whose
 *    text (digits aside) comes back on many pages, or a lone page number;
 *  - reading order: a gutter (a vertical strip no text line crosses, with
 *    text lines on both sides) splits bands of rows into two columns read one
 *    after the other; rows that cross it are read whole;
 *  - tables: a ruled grid (two or more vertical and horizontal rules) gives
 *    the cells exactly; otherwise consecutive rows of several spans whose
 *    columns line up (gaps in the projection onto the x axis);
 *  - blocks: lines joined while size, weight and spacing agree; a first-line
 *    indent, a bullet or an enumerator, or a short line ending a sentence
 *    start a new one; hyphens at line ends are undone;
 *  - types: title (largest type on page 1), heading (larger or bold short
 *    block; level from the ranking of heading sizes, or from its numbering
 *    "2.1"), caption ("Figure 3:", "Table 1."), list_item, table, paragraph.
 *
 * Every element has its page and {"bbox":[x0,y0,x1,y1]} in PDF points, origin
 * top left, as displayed (after /Rotate), rounded to a quarter point.
 */
#define _GNU_SOURCE
#include "docfmt.h"
#include "ocr.h"
#include "reader.h"
#include "sandbox.h"
#include "../core/utf8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leptonica/allheaders.h>
#include <mupdf/fitz.h>
#include <mupdf/pdf.h>

#include "../core/banned.h"

/* --- page contents ---------------------------------------------------------- */

struct pch {
	uint32_t c;
	float x0, y0, x1, y1;
	float size;
	unsigned char bold, zero;  /* zero: no advance (a glyph's extra characters) */
	unsigned char mono;        /* from a fixed-pitch font */
};

struct span {
	size_t c0, n;          /* chars[c0 .. c0+n) */
	float x0, y0, x1, y1;
	float size, base;
	int bold;              /* every visible char bold */
	int mono;              /* (nearly) every visible char fixed-pitch */
	int role;              /* 0 body, 1 header, 2 footer */
	int col;               /* 0 left or whole, 1 right */
	int taken;             /* 1: placed in a ruled table, 3: stands for one */
	int tab;               /* with taken 3: index into the page's ruled tables */
	char *text;            /* logical-order UTF-8, malloc'd */
	size_t tlen;
};

struct rule {
	float x0, y0, x1, y1;
	int vertical;
};

struct blk;

struct page {
	int no;
	float w, h;
	struct pch *ch;
	size_t n_ch, a_ch;
	struct span *sp;
	size_t n_sp, a_sp;
	struct rule *ru;
	size_t n_ru, a_ru;
	double image_area;
	size_t paths, nonspace, fffd, rotated_dropped;
	struct blk *tabs;      /* ruled tables waiting for their place in the flow */
	size_t n_tabs;
	int ocr;               /* read by OCR */
	int ocr_image;         /* ... from its lone image, not drawn (render_gray) */
	int damaged;
};

/* A block on its way to being an element. */
struct blk {
	int page;
	enum element_type type;
	int level;
	struct buf text;
	float x0, y0, x1, y1;
	float size;
	int bold, nlines, numbered, numlevel;
	json_t *meta;          /* extra metadata (table rows, OCR), owned */
};

struct pdfx {
	fz_context *ctx;
	fz_document *doc;
	const struct ingest_opts *o;
	struct page *pages;
	int n_pages;
	struct blk *b;
	size_t n_b, a_b;
	struct ocr *ocr;
	float body;            /* the body text size */
	int warnings;
	int oom;
};

#define PUSH(arr, n, a, T)                                                    \
	((n) < (a) || ((a) = (a) ? (a) * 2 : 64,                             \
		       (arr) = realloc((arr), (a) * sizeof(T)), (arr) != NULL) \
		 ? &(arr)[(n)++]                                              \
		 : NULL)

static float q4(float v)
{
	return roundf(v * 4) / 4;
}

static json_t *bbox_json(float x0, float y0, float x1, float y1)
{
	return json_pack("[f,f,f,f]", (double)q4(x0), (double)q4(y0), (double)q4(x1), (double)q4(y1));
}

/* --- the collecting device ---------------------------------------------------- */

struct tee {
	fz_device super;
	fz_device *inner;
	struct page *pg;
	int *oom;
};

#define T(dev) ((struct tee *)(dev))

static void add_rule(struct tee *t, float x0, float y0, float x1, float y1)
{
	struct rule *r;
	float w = fabsf(x1 - x0), h = fabsf(y1 - y0);
	if (w < 0.01f && h < 0.01f)
		return;
	if (!(h <= 3 && w >= 6) && !(w <= 3 && h >= 6))
		return;
	if (t->pg->n_ru >= 20000)
		return;
	r = PUSH(t->pg->ru, t->pg->n_ru, t->pg->a_ru, struct rule);
	if (!r) {
		*t->oom = 1;
		t->pg->n_ru = t->pg->a_ru = 0;
		return;
	}
	r->x0 = fminf(x0, x1);
	r->x1 = fmaxf(x0, x1);
	r->y0 = fminf(y0, y1);
	r->y1 = fmaxf(y0, y1);
	r->vertical = h > w;
}

struct walk {
	fz_point cur, start;
	fz_point pts[64];
	int n;
	int curves;
	fz_matrix m;
};

static void w_moveto(fz_context *ctx, void *arg, float x, float y)
{
	struct walk *w = arg;
	(void)ctx;
	w->cur = w->start = fz_transform_point(fz_make_point(x, y), w->m);
	if (w->n < 64)
		w->pts[w->n++] = w->cur;
}

static void w_lineto(fz_context *ctx, void *arg, float x, float y)
{
	struct walk *w = arg;
	(void)ctx;
	w->cur = fz_transform_point(fz_make_point(x, y), w->m);
	if (w->n < 64)
		w->pts[w->n++] = w->cur;
	else
		w->curves++;
}

static void w_curveto(fz_context *ctx, void *arg, float a, float b, float c, float d2, float x,
		      float y)
{
	struct walk *w = arg;
	(void)ctx;
	(void)a;
	(void)b;
	(void)c;
	(void)d2;
	w->cur = fz_transform_point(fz_make_point(x, y), w->m);
	w->curves++;
}

static void w_closepath(fz_context *ctx, void *arg)
{
	struct walk *w = arg;
	(void)ctx;
	w->cur = w->start;
}

static void w_rectto(fz_context *ctx, void *arg, float x0, float y0, float x1, float y1)
{
	struct walk *w = arg;
	fz_point p[4] = { { x0, y0 }, { x1, y0 }, { x1, y1 }, { x0, y1 } };
	(void)ctx;
	for (int i = 0; i < 4 && w->n < 64; i++)
		w->pts[w->n++] = fz_transform_point(p[i], w->m);
	w->start = w->cur = w->pts[w->n - 1];
}

static const fz_path_walker walker = { w_moveto, w_lineto, w_curveto, w_closepath, NULL, NULL,
				       NULL, w_rectto };

static void tee_fill_path(fz_context *ctx, fz_device *dev, const fz_path *path, int eo,
			  fz_matrix m, fz_colorspace *cs, const float *color, float alpha,
			  fz_color_params cp)
{
	struct walk w;
	(void)eo;
	(void)cs;
	(void)color;
	(void)cp;
	T(dev)->pg->paths++;
	if (alpha < 0.1f)
		return;
	memset(&w, 0, sizeof(w));
	w.m = m;
	fz_walk_path(ctx, path, &walker, &w);
	/* A thin filled rectangle is a rule (how many generators draw them). */
	if (!w.curves && (w.n == 4 || w.n == 5)) {
		float x0 = w.pts[0].x, x1 = w.pts[0].x, y0 = w.pts[0].y, y1 = w.pts[0].y;
		for (int i = 1; i < w.n; i++) {
			x0 = fminf(x0, w.pts[i].x);
			x1 = fmaxf(x1, w.pts[i].x);
			y0 = fminf(y0, w.pts[i].y);
			y1 = fmaxf(y1, w.pts[i].y);
		}
		if (y1 - y0 <= 3 && x1 - x0 >= 6)
			add_rule(T(dev), x0, (y0 + y1) / 2, x1, (y0 + y1) / 2);
		else if (x1 - x0 <= 3 && y1 - y0 >= 6)
			add_rule(T(dev), (x0 + x1) / 2, y0, (x0 + x1) / 2, y1);
		else if (x1 - x0 > 6 && y1 - y0 > 6 && w.n == 4) {
			/* a cell border drawn as a stroked-looking box: its four sides */
		}
	}
}

static void tee_stroke_path(fz_context *ctx, fz_device *dev, const fz_path *path,
			    const fz_stroke_state *ss, fz_matrix m, fz_colorspace *cs,
			    const float *color, float alpha, fz_color_params cp)
{
	struct walk w;
	(void)ss;
	(void)cs;
	(void)color;
	(void)cp;
	T(dev)->pg->paths++;
	if (alpha < 0.1f)
		return;
	memset(&w, 0, sizeof(w));
	w.m = m;
	fz_walk_path(ctx, path, &walker, &w);
	if (w.curves)
		return;
	for (int i = 1; i < w.n; i++)
		add_rule(T(dev), w.pts[i - 1].x, w.pts[i - 1].y, w.pts[i].x, w.pts[i].y);
	if (w.n == 4)  /* rectto: the closing side */
		add_rule(T(dev), w.pts[3].x, w.pts[3].y, w.pts[0].x, w.pts[0].y);
}

static void tee_fill_image(fz_context *ctx, fz_device *dev, fz_image *img, fz_matrix m,
			   float alpha, fz_color_params cp)
{
	fz_rect r = fz_transform_rect(fz_unit_rect, m);
	T(dev)->pg->image_area += (double)(r.x1 - r.x0) * (double)(r.y1 - r.y0);
	fz_fill_image(ctx, T(dev)->inner, img, m, alpha, cp);
}

static void tee_fill_text(fz_context *ctx, fz_device *dev, const fz_text *text, fz_matrix m,
			  fz_colorspace *cs, const float *color, float alpha, fz_color_params cp)
{
	fz_fill_text(ctx, T(dev)->inner, text, m, cs, color, alpha, cp);
}

static void tee_stroke_text(fz_context *ctx, fz_device *dev, const fz_text *text,
			    const fz_stroke_state *ss, fz_matrix m, fz_colorspace *cs,
			    const float *color, float alpha, fz_color_params cp)
{
	fz_stroke_text(ctx, T(dev)->inner, text, ss, m, cs, color, alpha, cp);
}

static void tee_clip_text(fz_context *ctx, fz_device *dev, const fz_text *text, fz_matrix m,
			  fz_rect sc)
{
	fz_clip_text(ctx, T(dev)->inner, text, m, sc);
}

static void tee_clip_stroke_text(fz_context *ctx, fz_device *dev, const fz_text *text,
				 const fz_stroke_state *ss, fz_matrix m, fz_rect sc)
{
	fz_clip_stroke_text(ctx, T(dev)->inner, text, ss, m, sc);
}

static void tee_ignore_text(fz_context *ctx, fz_device *dev, const fz_text *text, fz_matrix m)
{
	fz_ignore_text(ctx, T(dev)->inner, text, m);
}

static void tee_clip_path(fz_context *ctx, fz_device *dev, const fz_path *path, int eo,
			  fz_matrix m, fz_rect sc)
{
	fz_clip_path(ctx, T(dev)->inner, path, eo, m, sc);
}

static void tee_clip_stroke_path(fz_context *ctx, fz_device *dev, const fz_path *path,
				 const fz_stroke_state *ss, fz_matrix m, fz_rect sc)
{
	fz_clip_stroke_path(ctx, T(dev)->inner, path, ss, m, sc);
}

static void tee_clip_image_mask(fz_context *ctx, fz_device *dev, fz_image *img, fz_matrix m,
				fz_rect sc)
{
	fz_clip_image_mask(ctx, T(dev)->inner, img, m, sc);
}

static void tee_fill_image_mask(fz_context *ctx, fz_device *dev, fz_image *img, fz_matrix m,
				fz_colorspace *cs, const float *color, float alpha,
				fz_color_params cp)
{
	fz_fill_image_mask(ctx, T(dev)->inner, img, m, cs, color, alpha, cp);
}

static void tee_pop_clip(fz_context *ctx, fz_device *dev)
{
	fz_pop_clip(ctx, T(dev)->inner);
}

static void tee_close(fz_context *ctx, fz_device *dev)
{
	fz_close_device(ctx, T(dev)->inner);
}

static fz_device *new_tee(fz_context *ctx, fz_device *inner, struct page *pg, int *oom)
{
	struct tee *t = fz_new_derived_device(ctx, struct tee);
	t->inner = inner;
	t->pg = pg;
	t->oom = oom;
	t->super.fill_path = tee_fill_path;
	t->super.stroke_path = tee_stroke_path;
	t->super.clip_path = tee_clip_path;
	t->super.clip_stroke_path = tee_clip_stroke_path;
	t->super.fill_text = tee_fill_text;
	t->super.stroke_text = tee_stroke_text;
	t->super.clip_text = tee_clip_text;
	t->super.clip_stroke_text = tee_clip_stroke_text;
	t->super.ignore_text = tee_ignore_text;
	t->super.fill_image = tee_fill_image;
	t->super.fill_image_mask = tee_fill_image_mask;
	t->super.clip_image_mask = tee_clip_image_mask;
	t->super.pop_clip = tee_pop_clip;
	t->super.close_device = tee_close;
	return &t->super;
}

/* --- right-to-left ------------------------------------------------------------- */

static int is_rtl(uint32_t c)
{
	return (c >= 0x0590 && c <= 0x08FF) || (c >= 0xFB1D && c <= 0xFDFF) ||
	       (c >= 0xFE70 && c <= 0xFEFF) || (c >= 0x10800 && c <= 0x10FFF) ||
	       (c >= 0x1E800 && c <= 0x1EFFF);
}

static int is_mark(uint32_t c)
{
	return (c >= 0x0300 && c <= 0x036F) || (c >= 0x0591 && c <= 0x05C7 && c != 0x05BE &&
						c != 0x05C0 && c != 0x05C3 && c != 0x05C6) ||
	       (c >= 0x0610 && c <= 0x061A) || (c >= 0x064B && c <= 0x065F) || c == 0x0670 ||
	       (c >= 0x06D6 && c <= 0x06ED) || (c >= 0x200B && c <= 0x200F);
}

static int is_digitish(uint32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 0x660 && c <= 0x669) || (c >= 0x6F0 && c <= 0x6F9);
}

static int is_strong_ltr(uint32_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= 0xC0 && c < 0x590 && c != 0xD7 && c != 0xF7 && !is_mark(c)) ||
	       (c >= 0x900 && c < 0x2000) || (c >= 0x3000 && c < 0xFB1D);
}

/* A unit: a character with its marks, or one glyph's several characters. */
struct unit {
	size_t a, b;  /* chars [a, b) of the span */
	int dir;      /* 1 ltr, -1 rtl, 2 digit, 0 neutral */
};

static void put_units(struct buf *out, const struct pch *ch, const struct unit *u, size_t i0,
		      size_t i1, int reverse)
{
	for (size_t k = 0; k < i1 - i0; k++) {
		const struct unit *v = &u[reverse ? i1 - 1 - k : i0 + k];
		for (size_t i = v->a; i < v->b; i++)
			utf8_encode(out, ch[i].c);
	}
}

/* Writes a span's characters in logical order.  Characters drawn left to
 * right are in visual order; a right-to-left run among them is reversed
 * (digits inside it keep their order), and a line that is mostly
 * right-to-left is reversed as a whole, its left-to-right runs put back. */
static void span_text(const struct pch *ch, size_t n, struct buf *out)
{
	struct unit *u;
	size_t nu = 0, rtl = 0, ltr = 0;
	int para_rtl;
	for (size_t i = 0; i < n; i++)
		if (is_rtl(ch[i].c))
			break;
		else if (i == n - 1) {
			for (size_t k = 0; k < n; k++)
				utf8_encode(out, ch[k].c);
			return;
		}
	u = malloc(n * sizeof(*u));
	if (!u)
		return;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		int dir = 0;
		while (j < n && (ch[j].zero || is_mark(ch[j].c)))
			j++;
		for (size_t k = i; k < j && !dir; k++)
			dir = is_rtl(ch[k].c) ? -1 : is_strong_ltr(ch[k].c) ? 1 : is_digitish(ch[k].c) ? 2 : 0;
		u[nu].a = i;
		u[nu].b = j;
		u[nu].dir = dir;
		rtl += dir == -1;
		ltr += dir == 1;
		/* one glyph carrying several characters: already in logical order */
		if (j - i > 2 && dir == -1)
			u[nu].dir = 1, rtl--, ltr++;
		nu++;
		i = j;
	}
	para_rtl = rtl > ltr;
	if (!para_rtl) {
		/* reverse each right-to-left run (neutrals between rtl units join it) */
		size_t i = 0;
		while (i < nu) {
			size_t j, last;
			if (u[i].dir != -1) {
				put_units(out, ch, u, i, i + 1, 0);
				i++;
				continue;
			}
			last = i;
			for (j = i + 1; j < nu && u[j].dir != 1; j++)
				if (u[j].dir == -1)
					last = j;
			/* within the run, digit groups keep their order */
			for (size_t k = last + 1; k-- > i;) {
				if (u[k].dir == 2) {
					size_t s = k;
					while (s > i && u[s - 1].dir == 2)
						s--;
					put_units(out, ch, u, s, k + 1, 0);
					k = s;
				} else {
					put_units(out, ch, u, k, k + 1, 0);
				}
			}
			i = last + 1;
		}
	} else {
		/* the whole line reversed; ltr and digit runs keep their order */
		size_t k = nu;
		while (k > 0) {
			size_t s = k - 1;
			if (u[s].dir == 1 || u[s].dir == 2) {
				size_t last = s;
				while (s > 0 && (u[s - 1].dir == 1 || u[s - 1].dir == 2 ||
						 (u[s - 1].dir == 0 && s > 1 &&
						  (u[s - 2].dir == 1 || u[s - 2].dir == 2))))
					s--;
				put_units(out, ch, u, s, last + 1, 0);
			} else {
				put_units(out, ch, u, s, s + 1, 0);
			}
			k = s;
		}
	}
	free(u);
}

/* --- extracting a page --------------------------------------------------------- */

static int is_space_cp(uint32_t c)
{
	return c == ' ' || c == 0xA0 || c == '\t' || (c >= 0x2000 && c <= 0x200A) || c == 0x3000;
}

static int font_mono(fz_context *ctx, fz_font *f)
{
	const char *name;
	if (!f)
		return 0;
	if (fz_font_is_monospaced(ctx, f))
		return 1;
	name = fz_font_name(ctx, f);
	return name && (strstr(name, "Mono") || strstr(name, "Courier") || strstr(name, "CMTT") ||
			strstr(name, "Consol") || strstr(name, "Inconsolata") || strstr(name, "SFTT"));
}

static int font_bold(fz_context *ctx, fz_font *f)
{
	const char *name;
	if (!f)
		return 0;
	if (fz_font_is_bold(ctx, f))
		return 1;
	name = fz_font_name(ctx, f);
	return name && (strstr(name, "Bold") || strstr(name, "bold") || strstr(name, "Black") ||
			strstr(name, "Heavy") || strstr(name, "Semibold") || strstr(name, ".B") ||
			strstr(name, "CMBX") || strstr(name, "-Bd"));
}

/* Skia-made PDFs map a whole cluster of text to one glyph and may map the
 * same text again to a later glyph; drop a multi-character glyph whose text
 * an earlier one on the same span already gave. */
static size_t drop_repeated_clusters(struct pch *ch, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && ch[j].zero)
			j++;
		if (j - i >= 3) {
			/* look for the same characters earlier in the span */
			size_t len = j - i;
			while (len && is_space_cp(ch[i + len - 1].c))
				len--;
			for (size_t k = 0; len && k + len <= i; k++) {
				size_t m = 0;
				while (m < len && ch[k + m].c == ch[i + m].c)
					m++;
				if (m == len) {
					memmove(ch + i, ch + j, (n - j) * sizeof(*ch));
					n -= j - i;
					j = i;
					break;
				}
			}
		}
		i = j;
	}
	return n;
}

/* Closes the span of chars [c0, pg->n_ch). */
static int end_span(struct page *pg, size_t c0)
{
	struct span *s;
	size_t vis = 0, bold = 0, mono = 0;
	float maxsize = 0;
	if (pg->n_ch <= c0)
		return 0;
	/* trim spaces */
	while (pg->n_ch > c0 && is_space_cp(pg->ch[pg->n_ch - 1].c))
		pg->n_ch--;
	while (c0 < pg->n_ch && is_space_cp(pg->ch[c0].c))
		c0++;
	if (c0 >= pg->n_ch)
		return 0;
	pg->n_ch = c0 + drop_repeated_clusters(pg->ch + c0, pg->n_ch - c0);
	while (pg->n_ch > c0 && is_space_cp(pg->ch[pg->n_ch - 1].c))
		pg->n_ch--;
	s = PUSH(pg->sp, pg->n_sp, pg->a_sp, struct span);
	if (!s)
		return -1;
	memset(s, 0, sizeof(*s));
	s->c0 = c0;
	s->n = pg->n_ch - c0;
	s->x0 = s->y0 = 1e9f;
	s->x1 = s->y1 = -1e9f;
	for (size_t i = c0; i < pg->n_ch; i++) {
		const struct pch *c = &pg->ch[i];
		if (is_space_cp(c->c))
			continue;
		vis++;
		bold += c->bold;
		mono += c->mono;
		s->x0 = fminf(s->x0, c->x0);
		s->x1 = fmaxf(s->x1, c->x1);
		s->y0 = fminf(s->y0, c->y0);
		s->y1 = fmaxf(s->y1, c->y1);
		if (c->size > maxsize)
			maxsize = c->size;
	}
	s->size = maxsize;
	s->bold = vis && bold * 10 >= vis * 9;
	s->mono = vis && mono * 10 >= vis * 9;
	{
		struct buf b = BUF_INIT;
		span_text(pg->ch + s->c0, s->n, &b);
		if (buf_failed(&b)) {
			buf_release(&b);
			pg->n_sp--;
			return -1;
		}
		s->text = buf_detach(&b, &s->tlen);
		if (!s->text)
			s->text = strdup(""), s->tlen = 0;
	}
	return 0;
}

/* Adds the characters of one stext line, rotated by rot (to make the page's
 * main direction horizontal), as spans. */
static int add_line(fz_context *ctx, struct page *pg, fz_stext_line *line, fz_matrix rot)
{
	size_t c0 = pg->n_ch;
	float last_x1 = 0, last_size = 0;
	int have = 0;
	for (fz_stext_char *c = line->first_char; c; c = c->next) {
		struct pch *p;
		fz_quad q = fz_transform_quad(c->quad, rot);
		fz_rect r = fz_rect_from_quad(q);
		uint32_t cp = (uint32_t)c->c;
		if (cp == 0xFFFD) {
			/* a glyph with no Unicode mapping: nothing to say, but it
			 * takes its room on the line */
			pg->fffd++;
			if (r.x1 > last_x1)
				last_x1 = r.x1;
			continue;
		}
		if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || (cp >= 0xD800 && cp <= 0xDFFF) ||
		    cp > 0x10FFFF)
			continue;
		if (cp == 0xAD && c->next)
			continue;  /* a soft hyphen inside a line is invisible */
		if (!is_space_cp(cp)) {
			int zero = have && r.x1 - r.x0 < 0.01f && fabsf(r.x0 - last_x1) < 0.5f;
			/* a wide gap splits the line: table cells, columns */
			if (have && !zero && r.x0 - last_x1 > 0.9f * fmaxf(c->size, last_size)) {
				if (end_span(pg, c0) < 0)
					return -1;
				c0 = pg->n_ch;
			}
			pg->nonspace++;
		}
		p = PUSH(pg->ch, pg->n_ch, pg->a_ch, struct pch);
		if (!p)
			return -1;
		p->c = cp;
		p->x0 = r.x0;
		p->y0 = r.y0;
		p->x1 = r.x1;
		p->y1 = r.y1;
		p->size = c->size;
		p->bold = (unsigned char)font_bold(ctx, c->font);
		p->mono = (unsigned char)font_mono(ctx, c->font);
		p->zero = have && !is_space_cp(cp) && r.x1 - r.x0 < 0.01f &&
			  fabsf(r.x0 - last_x1) < 0.5f;
		if (!is_space_cp(cp)) {
			if (!p->zero || !have)
				last_x1 = r.x1;
			last_size = c->size;
			have = 1;
		}
	}
	return end_span(pg, c0);
}

static void page_release(struct page *pg)
{
	for (size_t i = 0; i < pg->n_sp; i++)
		free(pg->sp[i].text);
	for (size_t i = 0; i < pg->n_tabs; i++) {
		buf_release(&pg->tabs[i].text);
		json_decref(pg->tabs[i].meta);
	}
	free(pg->tabs);
	free(pg->sp);
	free(pg->ch);
	free(pg->ru);
	memset(pg, 0, sizeof(*pg));
}

/* The direction most characters run in, as a rotation making it horizontal. */
static fz_matrix main_direction(fz_stext_page *sp, float *angle_out)
{
	size_t counts[4] = { 0 };
	int best = 0;
	for (fz_stext_block *b = sp->first_block; b; b = b->next) {
		if (b->type != FZ_STEXT_BLOCK_TEXT)
			continue;
		for (fz_stext_line *l = b->u.t.first_line; l; l = l->next) {
			size_t n = 0;
			int q;
			for (fz_stext_char *c = l->first_char; c; c = c->next)
				n++;
			if (fabsf(l->dir.x) >= fabsf(l->dir.y))
				q = l->dir.x > 0 ? 0 : 2;
			else
				q = l->dir.y > 0 ? 1 : 3;
			counts[q] += n;
		}
	}
	for (int q = 1; q < 4; q++)
		if (counts[q] > counts[best])
			best = q;
	*angle_out = (float)(best * 90);
	return fz_rotate((float)(-best * 90));
}

static int extract_page(struct pdfx *x, fz_page *page, struct page *pg)
{
	fz_context *ctx = x->ctx;
	fz_stext_page *volatile sp = NULL;
	fz_device *volatile dev = NULL, *volatile tee = NULL;
	fz_stext_options opts;
	volatile int rc = 0;
	fz_rect bounds;
	memset(&opts, 0, sizeof(opts));
	opts.flags = FZ_STEXT_MEDIABOX_CLIP;
	fz_var(sp);
	fz_var(dev);
	fz_var(tee);
	fz_try(ctx) {
		float angle;
		fz_matrix rot;
		bounds = fz_bound_page(ctx, page);
		pg->w = bounds.x1 - bounds.x0;
		pg->h = bounds.y1 - bounds.y0;
		sp = fz_new_stext_page(ctx, bounds);
		dev = fz_new_stext_device(ctx, sp, &opts);
		tee = new_tee(ctx, dev, pg, &x->oom);
		fz_run_page(ctx, page, tee, fz_identity, NULL);
		fz_close_device(ctx, tee);
		rot = main_direction(sp, &angle);
		if (angle != 0) {
			fz_rect r = fz_transform_rect(bounds, rot);
			rot = fz_concat(rot, fz_translate(-r.x0, -r.y0));
			pg->w = r.x1 - r.x0;
			pg->h = r.y1 - r.y0;
		}
		for (fz_stext_block *b = sp->first_block; b && rc == 0; b = b->next) {
			if (b->type != FZ_STEXT_BLOCK_TEXT)
				continue;
			for (fz_stext_line *l = b->u.t.first_line; l && rc == 0; l = l->next) {
				fz_point d = fz_transform_vector(l->dir, rot);
				if (d.x < 0.98f) {
					for (fz_stext_char *c = l->first_char; c; c = c->next)
						pg->rotated_dropped++;
					continue;
				}
				rc = add_line(ctx, pg, l, rot);
			}
		}
	}
	fz_always(ctx) {
		fz_drop_device(ctx, tee);
		fz_drop_device(ctx, dev);
		fz_drop_stext_page(ctx, sp);
	}
	fz_catch(ctx) {
		if (fz_caught(ctx) == FZ_ERROR_MEMORY)
			x->oom = 1;
		pg->damaged = 1;
		return fz_caught(ctx) == FZ_ERROR_MEMORY ? -1 : 0;
	}
	if (rc < 0)
		x->oom = 1;
	/* baselines; Skia's repeated clusters */
	for (size_t i = 0; i < pg->n_sp; i++) {
		struct span *s = &pg->sp[i];
		float base = 0;
		size_t vis = 0;
		for (size_t k = s->c0; k < s->c0 + s->n; k++)
			if (!is_space_cp(pg->ch[k].c)) {
				base += pg->ch[k].y1;
				vis++;
			}
		s->base = vis ? base / (float)vis : s->y1;
	}
	return rc;
}

/* --- blocks -------------------------------------------------------------------- */

static struct blk *new_blk(struct pdfx *x, int page, enum element_type type)
{
	struct blk *b = PUSH(x->b, x->n_b, x->a_b, struct blk);
	if (!b) {
		x->oom = 1;
		return NULL;
	}
	memset(b, 0, sizeof(*b));
	b->page = page;
	b->type = type;
	b->x0 = b->y0 = 1e9f;
	b->x1 = b->y1 = -1e9f;
	return b;
}

static void blk_box(struct blk *b, float x0, float y0, float x1, float y1)
{
	b->x0 = fminf(b->x0, x0);
	b->y0 = fminf(b->y0, y0);
	b->x1 = fmaxf(b->x1, x1);
	b->y1 = fmaxf(b->y1, y1);
}

/* --- header and footer --------------------------------------------------------- */

static void norm_key(const char *s, size_t n, char *out, size_t size)
{
	size_t j = 0;
	int sp = 0;
	for (size_t i = 0; i < n && j + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ' || c == '\t') {
			sp = 1;
			continue;
		}
		if (sp && j)
			out[j++] = ' ';
		sp = 0;
		if (j + 1 >= size)
			break;
		out[j++] = c >= '0' && c <= '9' ? '#' : (c >= 'A' && c <= 'Z' ? (char)(c + 32) : (char)c);
	}
	out[j] = '\0';
}

static int is_page_number(const char *k)
{
	/* k is normalised: digits are '#', lowercase */
	static const char *const pats[] = { "#", "##", "###", "####", "page #", "page ##",
					    "page ###", "# of #", "## of ##", "# / #", "- # -",
					    "– # –", "page # of #", "page ## of ##", "[#]" };
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
		if (!strcmp(k, pats[i]))
			return 1;
	if (*k && strspn(k, "ivxlc") == strlen(k) && strlen(k) <= 6)
		return 1;
	return 0;
}

/* A lone page number: nothing on the page lies beyond s (above it for the
 * top, below it for the bottom), it sits in the outer quarter of the page,
 * and a gap of at least one and a half lines parts it from the text. */
static int outermost(const struct page *pg, const struct span *s, int zone)
{
	float gap = 1e9f;
	if (zone == 1 ? s->y1 > pg->h * 0.25f : s->y0 < pg->h * 0.75f)
		return 0;
	for (size_t i = 0; i < pg->n_sp; i++) {
		const struct span *t = &pg->sp[i];
		if (t == s || t->role == zone || fabsf(t->base - s->base) < 2)
			continue;
		if (zone == 1 ? t->y1 < s->y0 + 0.5f : t->y0 > s->y1 - 0.5f)
			return 0;
		gap = fminf(gap, zone == 1 ? t->y0 - s->y1 : s->y0 - t->y1);
	}
	return gap >= 1.5f * s->size;
}

struct hf_key {
	char key[96];
	int zone;     /* 1 top, 2 bottom */
	int pages;
	int last_page;
};

/* The keys of the top and bottom zones, hashed (a long document has many). */
struct hf_tab {
	struct hf_key *slot;  /* key[0] == '\0' && !zone: empty */
	size_t cap, n;
};

static uint64_t hf_hash(int zone, const char *k)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)zone;
	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211ull;
	return h;
}

/* The entry for (zone, k), added when create; NULL when absent or out of memory. */
static struct hf_key *hf_find(struct hf_tab *t, int zone, const char *k, int create)
{
	size_t i;
	if (create && (t->n + 1) * 2 > t->cap) {
		struct hf_tab g = { NULL, t->cap ? t->cap * 2 : 64, 0 };
		g.slot = calloc(g.cap, sizeof(*g.slot));
		if (!g.slot)
			return NULL;
		for (size_t j = 0; j < t->cap; j++)
			if (t->slot[j].zone) {
				size_t q = hf_hash(t->slot[j].zone, t->slot[j].key) & (g.cap - 1);
				while (g.slot[q].zone)
					q = (q + 1) & (g.cap - 1);
				g.slot[q] = t->slot[j];
				g.n++;
			}
		free(t->slot);
		*t = g;
	}
	if (!t->cap)
		return NULL;
	for (i = hf_hash(zone, k) & (t->cap - 1); t->slot[i].zone; i = (i + 1) & (t->cap - 1))
		if (t->slot[i].zone == zone && !strcmp(t->slot[i].key, k))
			return &t->slot[i];
	if (!create)
		return NULL;
	memset(&t->slot[i], 0, sizeof(t->slot[i]));
	snprintf(t->slot[i].key, sizeof(t->slot[i].key), "%s", k);
	t->slot[i].zone = zone;
	t->slot[i].last_page = -1;
	t->n++;
	return &t->slot[i];
}

static void find_headers_footers(struct pdfx *x)
{
	struct hf_tab tab = { NULL, 0, 0 };
	int text_pages = 0;
	for (int p = 0; p < x->n_pages; p++)
		text_pages += x->pages[p].n_sp > 0 && !x->pages[p].ocr;
	for (int pass = 0; pass < 2; pass++) {
		for (int p = 0; p < x->n_pages; p++) {
			struct page *pg = &x->pages[p];
			if (pg->ocr)
				continue;
			for (size_t i = 0; i < pg->n_sp; i++) {
				struct span *s = &pg->sp[i];
				char k[96];
				int zone = s->y1 <= pg->h * 0.14f ? 1 : s->y0 >= pg->h * 0.86f ? 2 : 0;
				if (!zone && pass == 1) {
					/* not repeated text, but perhaps a lone page number */
					norm_key(s->text, s->tlen, k, sizeof(k));
					if (is_page_number(k))
						s->role = outermost(pg, s, 2) ? 2 : outermost(pg, s, 1) ? 1 : 0;
					continue;
				}
				if (!zone)
					continue;
				norm_key(s->text, s->tlen, k, sizeof(k));
				if (pass == 0) {
					struct hf_key *h = hf_find(&tab, zone, k, 1);
					if (!h) {
						x->oom = 1;
						free(tab.slot);
						return;
					}
					if (h->last_page != p) {
						h->pages++;
						h->last_page = p;
					}
				} else {
					struct hf_key *h = hf_find(&tab, zone, k, 0);
					int need = text_pages * 2 / 5;
					int rep = h && text_pages >= 2 && h->pages >= (need > 2 ? need : 2);
					if (rep || (is_page_number(k) && outermost(pg, s, zone)))
						s->role = zone;
				}
			}
		}
	}
	free(tab.slot);
	/* a running title beside a page number shares its row, and its role */
	for (int p = 0; p < x->n_pages; p++) {
		struct page *pg = &x->pages[p];
		for (size_t i = 0; i < pg->n_sp; i++) {
			struct span *s = &pg->sp[i];
			if (!s->role)
				continue;
			for (size_t k = 0; k < pg->n_sp; k++) {
				struct span *t = &pg->sp[k];
				if (!t->role && fabsf(t->base - s->base) < 2 &&
				    (s->role == 1 ? t->y1 <= pg->h * 0.14f : t->y0 >= pg->h * 0.86f))
					t->role = s->role;
			}
		}
	}
}

/* --- rows, columns, tables ------------------------------------------------------ */

struct row {
	size_t *sp;    /* span indices, left to right */
	size_t n;
	float y0, y1, base, size;
};

static int cmp_span_y(const void *a, const void *b, void *arg)
{
	const struct page *pg = arg;
	const struct span *s = &pg->sp[*(const size_t *)a], *t = &pg->sp[*(const size_t *)b];
	if (s->base != t->base)
		return s->base < t->base ? -1 : 1;
	return s->x0 < t->x0 ? -1 : s->x0 > t->x0;
}

static int cmp_span_x(const void *a, const void *b, void *arg)
{
	const struct page *pg = arg;
	const struct span *s = &pg->sp[*(const size_t *)a], *t = &pg->sp[*(const size_t *)b];
	return s->x0 < t->x0 ? -1 : s->x0 > t->x0;
}

/* Groups spans idx[0..n) (sorted by baseline) into rows. */
static struct row *make_rows(struct page *pg, size_t *idx, size_t n, size_t *n_rows)
{
	struct row *rows = calloc(n ? n : 1, sizeof(*rows));
	size_t nr = 0;
	if (!rows)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct span *s = &pg->sp[idx[i]];
		struct row *r = nr ? &rows[nr - 1] : NULL;
		float h = fminf(s->y1 - s->y0, r ? r->y1 - r->y0 : 1e9f);
		float ov = r ? fminf(s->y1, r->y1) - fmaxf(s->y0, r->y0) : 0;
		int marker = s->taken == 3 || (r && pg->sp[r->sp[0]].taken == 3);
		if (r && !marker && (fabsf(s->base - r->base) < 0.25f * fmaxf(s->size, r->size) ||
			  (h > 0 && ov >= 0.6f * h && s->size < 0.85f * r->size))) {
			r->n++;
			r->y0 = fminf(r->y0, s->y0);
			r->y1 = fmaxf(r->y1, s->y1);
			if (s->size > r->size)
				r->size = s->size;
		} else {
			r = &rows[nr++];
			r->sp = idx + i;
			r->n = 1;
			r->y0 = s->y0;
			r->y1 = s->y1;
			r->base = s->base;
			r->size = s->size;
		}
	}
	for (size_t i = 0; i < nr; i++)
		qsort_r(rows[i].sp, rows[i].n, sizeof(size_t), cmp_span_x, pg);
	*n_rows = nr;
	return rows;
}

/*
 * A vertical strip between two columns of text lines, or -1.  At x there are
 * columns when at least three text lines (spans over 18% of the page wide)
 * end left of x and three start right of it, and almost nothing crosses x
 * where the two columns sit side by side; what crosses above or below them
 * (a title, a figure across the page) is read as a whole-width row.
 */
static float find_gutter(struct page *pg, const size_t *idx, size_t n)
{
	int W = (int)ceilf(pg->w);
	float best = -1, run_a = -1;
	size_t best_score = 0, run_score = 0;
	if (W < 50 || n < 6)
		return -1;
	for (int x = (int)(W * 0.25f); x <= (int)(W * 0.75f) + 1; x++) {
		size_t left = 0, right = 0, cross = 0, score = 0;
		float ly0 = 1e9f, ly1 = -1e9f, ry0 = 1e9f, ry1 = -1e9f, y0, y1;
		int valid = 0;
		if (x <= (int)(W * 0.75f)) {
			for (size_t i = 0; i < n; i++) {
				const struct span *s = &pg->sp[idx[i]];
				if (s->taken == 3 || s->x1 - s->x0 < pg->w * 0.18f)
					continue;
				if (s->x1 <= x) {
					left++;
					ly0 = fminf(ly0, s->y0);
					ly1 = fmaxf(ly1, s->y1);
				} else if (s->x0 >= x) {
					right++;
					ry0 = fminf(ry0, s->y0);
					ry1 = fmaxf(ry1, s->y1);
				}
			}
			y0 = fmaxf(ly0, ry0);
			y1 = fminf(ly1, ry1);
			if (left >= 3 && right >= 3 && y1 > y0) {
				for (size_t i = 0; i < n; i++) {
					const struct span *s = &pg->sp[idx[i]];
					float cy = (s->y0 + s->y1) / 2;
					if (s->taken != 3 && s->x0 < x - 1 && s->x1 > x + 1 && cy > y0 &&
					    cy < y1)
						cross++;
				}
				if (cross * 10 <= left + right) {
					valid = 1;
					score = left < right ? left : right;
				}
			}
		}
		if (valid && run_a < 0) {
			run_a = (float)x;
			run_score = score;
		} else if (valid) {
			if (score > run_score)
				run_score = score;
		} else if (run_a >= 0) {
			/* a run of valid x ended: its middle is the gutter */
			if (run_score > best_score) {
				best_score = run_score;
				best = (run_a + (float)(x - 1)) / 2;
			}
			run_a = -1;
		}
	}
	return best;
}

/* A line in reading order: some spans of one row (one column's part). */
struct line {
	size_t sp[64];
	size_t n;
	float x0, y0, x1, y1, size, base;
	int bold;
	int col;   /* -1 whole width */
};

/* --- emitting blocks ------------------------------------------------------------ */

static int line_bold(struct page *pg, const struct line *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (!pg->sp[l->sp[i]].bold)
			return 0;
	return 1;
}

static int line_mono(struct page *pg, const struct line *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (!pg->sp[l->sp[i]].mono || pg->sp[l->sp[i]].taken == 3)
			return 0;
	return l->n > 0;
}

static void line_text(struct page *pg, const struct line *l, struct buf *out)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct span *s = &pg->sp[l->sp[i]];
		if (i)
			buf_addch(out, ' ');
		buf_add(out, s->text, s->tlen);
	}
}

static const char *const bullets[] = { "\xE2\x80\xA2", "\xC2\xB7", "\xE2\x96\xAA", "\xE2\x97\xA6",
				       "\xE2\x80\xA3", "\xE2\x81\x83", "\xE2\x97\x8F", "\xE2\x96\xA0",
				       "\xEF\x82\xB7", "\xEF\x82\xA7", "\xE2\x9E\xA2", "\xE2\x80\x93",
				       "\xE2\x97\x8B", "-", "*", "\xE2\x97\x86", "\xE2\x9C\x93" };

/* Length of a bullet at the start of s (with the space after), or 0. */
static size_t bullet_len(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(bullets) / sizeof(bullets[0]); i++) {
		size_t k = strlen(bullets[i]);
		if (n > k && !memcmp(s, bullets[i], k)) {
			if (s[k] == ' ')
				return k + 1;
			if (k > 1)  /* a glyph bullet may come without a space */
				return k;
		}
	}
	return 0;
}

/* An enumerator "1." "2)" "(a)" "iv." at the start of s, with its space; 0 if none. */
static size_t enum_len(const char *s, size_t n)
{
	size_t i = 0, j;
	int paren = 0;
	if (i < n && s[i] == '(')
		paren = 1, i++;
	j = i;
	while (j < n && j - i < 3 && s[j] >= '0' && s[j] <= '9')
		j++;
	if (j == i) {
		while (j < n && j - i < 4 && strchr("ivx", s[j]))
			j++;
		if (j == i && j < n && s[j] >= 'a' && s[j] <= 'z')
			j++;
	}
	if (j == i || j >= n)
		return 0;
	if (paren ? s[j] != ')' : (s[j] != '.' && s[j] != ')'))
		return 0;
	j++;
	if (j < n && s[j] == ' ')
		return j + 1;
	return 0;
}

static int is_caption(const char *s, size_t n)
{
	static const char *const words[] = { "Figure ", "Fig. ", "Table ", "Tab. ", "FIGURE ",
					     "TABLE ", "Listing ", "Chart ", "Algorithm ", "Fig " };
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t k = strlen(words[i]), j;
		if (n <= k || memcmp(s, words[i], k))
			continue;
		j = k;
		while (j < n && ((s[j] >= '0' && s[j] <= '9') || strchr("IVXivx.-", s[j])))
			j++;
		if (j > k && (j == n || s[j] == ':' || s[j - 1] == '.' || s[j] == '|' ||
			      (s[j] == ' ' && j + 1 < n && (s[j + 1] == '-' || s[j + 1] == '\xE2'))))
			return 1;
	}
	return 0;
}

/* The depth of a section number "2.1.3 Title" (0 if none). */
static int numbering_depth(const char *s, size_t n)
{
	size_t i = 0;
	int depth = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && s[j] >= '0' && s[j] <= '9' && j - i < 3)
			j++;
		if (j == i)
			break;
		depth++;
		i = j;
		if (i < n && s[i] == '.')
			i++;
		else
			break;
		if (i < n && s[i] == ' ')
			break;
	}
	if (!depth || i >= n || s[i] != ' ')
		return 0;
	while (i < n && s[i] == ' ')
		i++;
	if (i >= n || !((s[i] >= 'A' && s[i] <= 'Z') || (unsigned char)s[i] >= 0xC0))
		return 0;
	return depth;
}

/* Column slots of lines ls[0..n): the x ranges of their spans merged where
 * they overlap or the gap between them is under min_gap; sorted by x.
 * Returns the number of slots (at most 128). */
static size_t col_slots(struct page *pg, struct line *ls, size_t n, float min_gap,
			float edges[128][2])
{
	size_t ne = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < ls[i].n; k++) {
			const struct span *s = &pg->sp[ls[i].sp[k]];
			float a = s->x0, z = s->x1;
			size_t j = 0;
			while (j < ne) {
				if (a <= edges[j][1] + min_gap && z >= edges[j][0] - min_gap) {
					a = fminf(a, edges[j][0]);
					z = fmaxf(z, edges[j][1]);
					edges[j][0] = edges[ne - 1][0];
					edges[j][1] = edges[ne - 1][1];
					ne--;
					j = 0;
					continue;
				}
				j++;
			}
			if (ne < 128) {
				edges[ne][0] = a;
				edges[ne][1] = z;
				ne++;
			}
		}
	for (size_t i = 1; i < ne; i++)  /* sort by x */
		for (size_t j = i; j > 0 && edges[j][0] < edges[j - 1][0]; j--) {
			float t0 = edges[j][0], t1 = edges[j][1];
			edges[j][0] = edges[j - 1][0];
			edges[j][1] = edges[j - 1][1];
			edges[j - 1][0] = t0;
			edges[j - 1][1] = t1;
		}
	return ne;
}

/* The gap a table's columns leave between them, at least. */
static float channel(const struct line *ls, size_t n)
{
	float size = 0;
	for (size_t i = 0; i < n; i++)
		size = fmaxf(size, ls[i].size);
	return 0.8f * size;
}

/* Emits a table from rows of lines, cells from the column slots. */
static int emit_aligned_table(struct pdfx *x, struct page *pg, struct line *ls, size_t n)
{
	float edges[128][2];
	size_t ne = col_slots(pg, ls, n, channel(ls, n), edges);
	struct blk *b;
	json_t *rows;
	if (ne < 2)
		return 0;
	b = new_blk(x, pg->no, EL_TABLE);
	if (!b)
		return -1;
	rows = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *row = json_array();
		struct buf cell = BUF_INIT;
		for (size_t c = 0; c < ne; c++) {
			buf_reset(&cell);
			for (size_t k = 0; k < ls[i].n; k++) {
				const struct span *s = &pg->sp[ls[i].sp[k]];
				float cx = (s->x0 + s->x1) / 2;
				if (cx >= edges[c][0] && cx <= edges[c][1]) {
					if (cell.len)
						buf_addch(&cell, ' ');
					buf_add(&cell, s->text, s->tlen);
				}
			}
			json_array_append_new(row, json_stringn(buf_str(&cell), cell.len));
		}
		buf_release(&cell);
		json_array_append_new(rows, row);
		blk_box(b, ls[i].x0, ls[i].y0, ls[i].x1, ls[i].y1);
	}
	table_text(rows, &b->text);
	b->meta = json_pack("{s:o, s:i, s:i, s:b}", "rows", rows, "n_rows", (int)n, "n_cols",
			    (int)ne, "ruled", 0);
	b->nlines = (int)n;
	return 1;
}

/* How many lines from ls[0] form an aligned table (0 if none). */
static size_t table_run(struct page *pg, struct line *ls, size_t n)
{
	size_t i = 0, multi = 0, singles = 0;
	(void)pg;
	while (i < n) {
		if ((ls[i].n == 1 && pg->sp[ls[i].sp[0]].taken == 3) || line_mono(pg, &ls[i]))
			break;
		if (ls[i].n >= 2) {
			multi++;
			singles = 0;
		} else {
			/* one empty-celled row may sit inside a table */
			if (!multi || ++singles > 1 || i + 1 >= n || ls[i + 1].n < 2)
				break;
		}
		if (i > 0 && ls[i].y0 - ls[i - 1].y1 > 2.5f * fmaxf(ls[i].size, ls[i - 1].size))
			break;
		i++;
	}
	while (i > 0 && ls[i - 1].n < 2)
		i--;
	if (multi < 2 || i < 2)
		return 0;
	/* a column channel all rows leave free: wide enough, and for two rows
	 * only, twice as wide (two text lines with a wide space can line up) */
	{
		float edges[128][2];
		float gap = channel(ls, i) * (i == 2 ? 2.5f : 1.0f);
		if (col_slots(pg, ls, i, gap, edges) < 2)
			return 0;
	}
	/* the spans must line up in columns: most rows share their span starts */
	{
		size_t agree = 0;
		for (size_t r = 1; r < i; r++) {
			size_t hit = 0;
			for (size_t k = 0; k < ls[r].n; k++) {
				const struct span *s = &pg->sp[ls[r].sp[k]];
				for (size_t q = 0; q < ls[r - 1].n; q++) {
					const struct span *t = &pg->sp[ls[r - 1].sp[q]];
					if (fabsf(s->x0 - t->x0) < 3 || fabsf(s->x1 - t->x1) < 3 ||
					    fabsf((s->x0 + s->x1) - (t->x0 + t->x1)) < 6) {
						hit++;
						break;
					}
				}
			}
			if (hit >= 2 || (ls[r].n == 1 && hit == 1))
				agree++;
		}
		if (agree * 3 < (i - 1) * 2)
			return 0;
	}
	return i;
}

struct para_state {
	struct blk *cur;
	float last_x0, last_x1, last_base, col_left, col_right;
	int last_list;
};

static int ends_sentence(const struct buf *t)
{
	if (!t->len)
		return 1;
	char c = t->data[t->len - 1];
	return c == '.' || c == '!' || c == '?' || c == ':';
}

/* Adds a line of flowing text: continues the current block or starts one. */
static int flow_line(struct pdfx *x, struct page *pg, struct para_state *ps, struct line *l)
{
	struct buf t = BUF_INIT;
	struct blk *b = ps->cur;
	size_t bl, el = 0;
	int bold = line_bold(pg, l), start = 0, list = 0;
	line_text(pg, l, &t);
	if (buf_failed(&t)) {
		buf_release(&t);
		return -1;
	}
	bl = bullet_len(buf_str(&t), t.len);
	if (!bl)
		el = enum_len(buf_str(&t), t.len);
	if (!b || b->page != pg->no)
		start = 1;
	else {
		float lead = l->base - ps->last_base;
		float sz = fmaxf(l->size, b->size);
		if (fabsf(l->size - b->size) > 0.6f || bold != b->bold)
			start = 1;
		else if (lead > 1.75f * sz || lead < -0.5f * sz)
			start = 1;  /* a gap, or back up the page */
		else if (l->x0 > ps->last_x0 + 0.8f * sz && l->x0 - ps->col_left > 0.8f * sz &&
			 l->x0 - ps->col_left < 5 * sz && b->type != EL_LIST_ITEM && b->nlines >= 1 &&
			 ps->last_x1 < ps->col_right - 1.5f * sz)
			start = 1;  /* first-line indent after a short line */
		else if (l->x0 > ps->last_x0 + 0.8f * sz && l->x0 - ps->col_left > 0.8f * sz &&
			 l->x0 - ps->col_left < 5 * sz && b->type != EL_LIST_ITEM && b->nlines > 1)
			start = 1;  /* first-line indent */
		else if (ends_sentence(&b->text) && ps->last_x1 < ps->col_right - 0.12f *
			 (ps->col_right - ps->col_left) && b->type != EL_LIST_ITEM && b->nlines > 0 &&
			 fabsf(l->x0 - ps->last_x0) < 2 && ps->col_right - ps->col_left > 20 * sz)
			start = 1;  /* a short line ended a sentence */
		else if (b->type == EL_LIST_ITEM && l->x0 < b->x0 + 0.5f * sz && !bl && !el)
			start = 1;  /* back to the margin after a list */
	}
	if (bl || (el && (start || ends_sentence(&b->text) || (b && b->type == EL_LIST_ITEM))))
		start = list = 1;
	if (!start && is_caption(buf_str(&t), t.len))
		start = 1;
	if (start) {
		b = new_blk(x, pg->no, list ? EL_LIST_ITEM : EL_PARAGRAPH);
		if (!b) {
			buf_release(&t);
			return -1;
		}
		b->size = l->size;
		b->bold = bold;
		ps->cur = b;
		if (bl) {
			memmove(t.data, t.data + bl, t.len - bl);
			buf_setlen(&t, t.len - bl);
		}
		if (list)
			b->numbered = el > 0;
	}
	para_add_line(&b->text, buf_str(&t), t.len);
	blk_box(b, l->x0, l->y0, l->x1, l->y1);
	b->nlines++;
	ps->last_x0 = l->x0;
	ps->last_x1 = l->x1;
	ps->last_base = l->base;
	buf_release(&t);
	return 0;
}

/* Reads lines ls[0..n) of one column: tables, then flowing text. */
static int flow_lines(struct pdfx *x, struct page *pg, struct line *ls, size_t n,
		      struct para_state *ps)
{
	ps->col_left = 1e9f;
	ps->col_right = -1e9f;
	for (size_t i = 0; i < n; i++) {
		ps->col_left = fminf(ps->col_left, ls[i].x0);
		ps->col_right = fmaxf(ps->col_right, ls[i].x1);
	}
	for (size_t i = 0; i < n;) {
		size_t t;
		if (ls[i].n == 1 && pg->sp[ls[i].sp[0]].taken == 3) {
			int k = pg->sp[ls[i].sp[0]].tab;
			struct blk *b = new_blk(x, pg->no, EL_TABLE);
			if (!b)
				return -1;
			*b = pg->tabs[k];
			memset(&pg->tabs[k], 0, sizeof(pg->tabs[k]));
			ps->cur = NULL;
			i++;
			continue;
		}
		if (line_mono(pg, &ls[i])) {
			/* fixed-pitch lines are code: one block, its lines kept */
			struct blk *b = ps->cur;
			struct buf t0 = BUF_INIT;
			if (!b || b->type != EL_CODE || b->page != pg->no ||
			    ls[i].base - ps->last_base > 2.5f * ls[i].size || ls[i].base < ps->last_base) {
				b = new_blk(x, pg->no, EL_CODE);
				if (!b)
					return -1;
				b->size = ls[i].size;
				ps->cur = b;
			} else {
				buf_addch(&b->text, '\n');
			}
			/* the indentation, in spaces of the line's own width */
			if (ls[i].x0 > ps->col_left + 1 && ls[i].size > 0) {
				const struct span *sp0 = &pg->sp[ls[i].sp[0]];
				float cw = sp0->n ? (sp0->x1 - sp0->x0) / (float)sp0->n : ls[i].size * 0.5f;
				int k = cw > 0 ? (int)lroundf((ls[i].x0 - ps->col_left) / cw) : 0;
				for (; k > 0 && k < 80; k--)
					buf_addch(&b->text, ' ');
			}
			line_text(pg, &ls[i], &t0);
			buf_add(&b->text, buf_str(&t0), t0.len);
			buf_release(&t0);
			blk_box(b, ls[i].x0, ls[i].y0, ls[i].x1, ls[i].y1);
			b->nlines++;
			ps->last_base = ls[i].base;
			ps->last_x0 = ls[i].x0;
			ps->last_x1 = ls[i].x1;
			i++;
			continue;
		}
		t = table_run(pg, ls + i, n - i);
		if (t) {
			int r = emit_aligned_table(x, pg, ls + i, t);
			if (r < 0)
				return -1;
			if (r > 0) {
				ps->cur = NULL;
				i += t;
				continue;
			}
		}
		if (flow_line(x, pg, ps, &ls[i]) < 0)
			return -1;
		i++;
	}
	return 0;
}

static void line_from(struct page *pg, struct line *l, const struct row *r, int col, float g)
{
	memset(l, 0, sizeof(*l));
	l->x0 = l->y0 = 1e9f;
	l->x1 = l->y1 = -1e9f;
	l->col = col;
	for (size_t i = 0; i < r->n && l->n < 64; i++) {
		const struct span *s = &pg->sp[r->sp[i]];
		if (s->role || s->taken == 1)
			continue;
		if (col == 0 && g >= 0 && s->x0 >= g)
			continue;
		if (col == 1 && s->x1 <= g)
			continue;
		l->sp[l->n++] = r->sp[i];
		l->x0 = fminf(l->x0, s->x0);
		l->x1 = fmaxf(l->x1, s->x1);
		l->y0 = fminf(l->y0, s->y0);
		l->y1 = fmaxf(l->y1, s->y1);
		if (s->size > l->size)
			l->size = s->size;
		l->base = s->base;
	}
}

static struct blk *new_tab(struct page *pg);

/* A ruled grid: rules that touch each other, two or more each way. */
static int ruled_tables(struct pdfx *x, struct page *pg)
{
	size_t n = pg->n_ru;
	int *grp, *up;
	int ngrp = 0;
	/* a page of thousands of strokes is a drawing, not a table */
	if (n < 4 || n > 3000)
		return 0;
	grp = malloc(n * sizeof(*grp));
	up = malloc(n * sizeof(*up));
	if (!grp || !up) {
		free(grp);
		free(up);
		return -1;
	}
	/* union-find over rules that touch */
	for (size_t i = 0; i < n; i++)
		up[i] = (int)i;
	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++) {
			const struct rule *p = &pg->ru[a], *q = &pg->ru[b];
			int ra = (int)a, rb = (int)b;
			if (!(p->x0 - 2 <= q->x1 && q->x0 - 2 <= p->x1 && p->y0 - 2 <= q->y1 &&
			      q->y0 - 2 <= p->y1))
				continue;
			while (up[ra] != ra)
				ra = up[ra] = up[up[ra]];
			while (up[rb] != rb)
				rb = up[rb] = up[up[rb]];
			if (ra != rb)
				up[rb] = ra;
		}
	for (size_t i = 0; i < n; i++)
		grp[i] = -1;
	for (size_t i = 0; i < n; i++) {
		int r = (int)i;
		while (up[r] != r)
			r = up[r];
		if (grp[r] < 0)
			grp[r] = ngrp++;
		grp[i] = grp[r];
	}
	free(up);
	for (int g = 0; g < ngrp; g++) {
		float xs[64], ys[128];
		size_t nx = 0, ny = 0;
		float bx0 = 1e9f, by0 = 1e9f, bx1 = -1e9f, by1 = -1e9f;
		for (size_t i = 0; i < n; i++) {
			const struct rule *r = &pg->ru[i];
			float v;
			int dup = 0;
			if (grp[i] != g)
				continue;
			bx0 = fminf(bx0, r->x0);
			by0 = fminf(by0, r->y0);
			bx1 = fmaxf(bx1, r->x1);
			by1 = fmaxf(by1, r->y1);
			v = r->vertical ? (r->x0 + r->x1) / 2 : (r->y0 + r->y1) / 2;
			if (r->vertical) {
				for (size_t k = 0; k < nx; k++)
					dup |= fabsf(xs[k] - v) < 2;
				if (!dup && nx < 64)
					xs[nx++] = v;
			} else {
				for (size_t k = 0; k < ny; k++)
					dup |= fabsf(ys[k] - v) < 2;
				if (!dup && ny < 128)
					ys[ny++] = v;
			}
		}
		/* rules that reach past the outer ones close an open side */
		for (size_t i = 0; i < n; i++) {
			const struct rule *r = &pg->ru[i];
			if (grp[i] != g)
				continue;
			if (!r->vertical && nx < 62) {
				int lo = 1, hi = 1;
				for (size_t k = 0; k < nx; k++) {
					lo &= r->x0 < xs[k] - 5;
					hi &= r->x1 > xs[k] + 5;
				}
				if (nx && lo)
					xs[nx++] = r->x0;
				if (nx && hi)
					xs[nx++] = r->x1;
			} else if (r->vertical && ny < 126) {
				int lo = 1, hi = 1;
				for (size_t k = 0; k < ny; k++) {
					lo &= r->y0 < ys[k] - 5;
					hi &= r->y1 > ys[k] + 5;
				}
				if (ny && lo)
					ys[ny++] = r->y0;
				if (ny && hi)
					ys[ny++] = r->y1;
			}
		}
		if (nx < 2 || ny < 2 || bx1 - bx0 < 30 || by1 - by0 < 10)
			continue;
		for (size_t i = 1; i < nx; i++)
			for (size_t j = i; j > 0 && xs[j] < xs[j - 1]; j--) {
				float t = xs[j];
				xs[j] = xs[j - 1];
				xs[j - 1] = t;
			}
		for (size_t i = 1; i < ny; i++)
			for (size_t j = i; j > 0 && ys[j] < ys[j - 1]; j--) {
				float t = ys[j];
				ys[j] = ys[j - 1];
				ys[j - 1] = t;
			}
		{
			/* cells: each span by its centre; one row per horizontal band */
			size_t R = ny - 1, C = nx - 1, used = 0;
			struct buf *cells = calloc(R * C, sizeof(*cells));
			struct blk *b;
			json_t *rows;
			if (!cells) {
				free(grp);
				return -1;
			}
			for (size_t i = 0; i < pg->n_sp; i++) {
				struct span *s = &pg->sp[i];
				float cx = (s->x0 + s->x1) / 2, cy = (s->y0 + s->y1) / 2;
				size_t r, c;
				if (s->role || s->taken || cx < xs[0] || cx > xs[nx - 1] || cy < ys[0] ||
				    cy > ys[ny - 1])
					continue;
				for (r = 0; r + 1 < R && cy > ys[r + 1]; r++)
					;
				for (c = 0; c + 1 < C && cx > xs[c + 1]; c++)
					;
				s->taken = 2;
				used++;
			}
			if (!used) {
				free(cells);
				continue;
			}
			/* spans in reading order into their cells */
			{
				size_t *idx = malloc(pg->n_sp * sizeof(*idx)), m = 0;
				if (!idx) {
					free(cells);
					free(grp);
					return -1;
				}
				for (size_t i = 0; i < pg->n_sp; i++)
					if (pg->sp[i].taken == 2)
						idx[m++] = i;
				qsort_r(idx, m, sizeof(*idx), cmp_span_y, pg);
				for (size_t k = 0; k < m; k++) {
					struct span *s = &pg->sp[idx[k]];
					float cx = (s->x0 + s->x1) / 2, cy = (s->y0 + s->y1) / 2;
					size_t r, c;
					for (r = 0; r + 1 < R && cy > ys[r + 1]; r++)
						;
					for (c = 0; c + 1 < C && cx > xs[c + 1]; c++)
						;
					para_add_line(&cells[r * C + c], s->text, s->tlen);
					s->taken = 4;  /* this grid's, until it is kept */
				}
				free(idx);
			}
			{
				size_t rows_used = 0, cols_used = 0;
				for (size_t r = 0; r < R; r++) {
					int any = 0;
					for (size_t c = 0; c < C; c++)
						any |= cells[r * C + c].len > 0;
					rows_used += any;
				}
				for (size_t c = 0; c < C; c++) {
					int any = 0;
					for (size_t r = 0; r < R; r++)
						any |= cells[r * C + c].len > 0;
					cols_used += any;
				}
				if (rows_used < 2 || cols_used < 2) {
					/* a box around a figure or a legend, not a table */
					for (size_t i = 0; i < pg->n_sp; i++)
						if (pg->sp[i].taken == 4)
							pg->sp[i].taken = 0;
					for (size_t i = 0; i < R * C; i++)
						buf_release(&cells[i]);
					free(cells);
					continue;
				}
			}
			for (size_t i = 0; i < pg->n_sp; i++)
				if (pg->sp[i].taken == 4)
					pg->sp[i].taken = 1;
			b = new_tab(pg);
			if (!b) {
				for (size_t i = 0; i < R * C; i++)
					buf_release(&cells[i]);
				free(cells);
				free(grp);
				return -1;
			}
			rows = json_array();
			for (size_t r = 0; r < R; r++) {
				json_t *row = json_array();
				int any = 0;
				for (size_t c = 0; c < C; c++)
					any |= cells[r * C + c].len > 0;
				if (!any) {
					json_decref(row);
					continue;
				}
				for (size_t c = 0; c < C; c++) {
					struct buf *cb = &cells[r * C + c];
					json_array_append_new(row, json_stringn(buf_str(cb), cb->len));
				}
				json_array_append_new(rows, row);
			}
			for (size_t i = 0; i < R * C; i++)
				buf_release(&cells[i]);
			free(cells);
			blk_box(b, xs[0], ys[0], xs[nx - 1], ys[ny - 1]);
			table_text(rows, &b->text);
			b->meta = json_pack("{s:o, s:i, s:i, s:b}", "rows", rows, "n_rows",
					    (int)json_array_size(rows), "n_cols", (int)C, "ruled", 1);
			b->nlines = (int)json_array_size(rows);
			{	/* a stand-in span puts the table in the reading order */
				struct span *m = PUSH(pg->sp, pg->n_sp, pg->a_sp, struct span);
				if (!m) {
					free(grp);
					return -1;
				}
				memset(m, 0, sizeof(*m));
				m->x0 = b->x0;
				m->y0 = b->y0;
				m->x1 = b->x1;
				m->y1 = b->y1;
				m->base = b->y0;
				m->taken = 3;
				m->tab = (int)pg->n_tabs - 1;
			}
		}
	}
	free(grp);
	(void)x;
	return 0;
}

static struct blk *new_tab(struct page *pg)
{
	struct blk *p = realloc(pg->tabs, (pg->n_tabs + 1) * sizeof(*p)), *b;
	if (!p)
		return NULL;
	pg->tabs = p;
	b = &p[pg->n_tabs++];
	memset(b, 0, sizeof(*b));
	b->page = pg->no;
	b->type = EL_TABLE;
	b->x0 = b->y0 = 1e9f;
	b->x1 = b->y1 = -1e9f;
	return b;
}

static int layout_page(struct pdfx *x, struct page *pg)
{
	size_t *idx, n = 0, n_rows = 0;
	struct row *rows = NULL;
	struct line *ls = NULL;
	size_t n_ls = 0, a_ls = 0;
	struct para_state ps;
	float g;
	int rc = 0;

	memset(&ps, 0, sizeof(ps));
	/* headers first, footers last, both kept out of the body */
	for (size_t i = 0; i < pg->n_sp; i++) {
		struct span *s = &pg->sp[i];
		struct blk *b;
		if (s->role != 1)
			continue;
		b = new_blk(x, pg->no, EL_HEADER);
		if (!b)
			return -1;
		buf_add(&b->text, s->text, s->tlen);
		blk_box(b, s->x0, s->y0, s->x1, s->y1);
		b->size = s->size;
	}
	if (ruled_tables(x, pg) < 0)
		return -1;
	idx = malloc((pg->n_sp ? pg->n_sp : 1) * sizeof(*idx));
	if (!idx)
		return -1;
	for (size_t i = 0; i < pg->n_sp; i++)
		if (!pg->sp[i].role && pg->sp[i].taken != 1)
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_span_y, pg);
	g = find_gutter(pg, idx, n);
	rows = make_rows(pg, idx, n, &n_rows);
	if (!rows) {
		free(idx);
		return -1;
	}
	/* bands of rows: a row crossing the gutter is read whole; between such
	 * rows, the left column then the right one */
	for (size_t r = 0; r < n_rows && rc == 0;) {
		int crosses = 0;
		if (g >= 0)
			for (size_t k = 0; k < rows[r].n; k++) {
				const struct span *s = &pg->sp[rows[r].sp[k]];
				if (s->x0 < g - 1 && s->x1 > g + 1)
					crosses = 1;
			}
		if (g < 0 || crosses) {
			struct line *l = PUSH(ls, n_ls, a_ls, struct line);
			if (!l) {
				rc = -1;
				break;
			}
			line_from(pg, l, &rows[r], -1, -1);
			if (!l->n)
				n_ls--;
			r++;
			continue;
		}
		{
			size_t r1 = r;
			while (r1 < n_rows) {
				int cr = 0;
				for (size_t k = 0; k < rows[r1].n; k++) {
					const struct span *s = &pg->sp[rows[r1].sp[k]];
					if (s->x0 < g - 1 && s->x1 > g + 1)
						cr = 1;
				}
				if (cr)
					break;
				r1++;
			}
			for (int col = 0; col < 2 && rc == 0; col++) {
				for (size_t q = r; q < r1; q++) {
					struct line *l = PUSH(ls, n_ls, a_ls, struct line);
					if (!l) {
						rc = -1;
						break;
					}
					line_from(pg, l, &rows[q], col, g);
					if (!l->n)
						n_ls--;
				}
			}
			r = r1;
		}
	}
	/* flow each run of lines of one column */
	for (size_t i = 0; i < n_ls && rc == 0;) {
		size_t j = i + 1;
		while (j < n_ls && ls[j].col == ls[i].col)
			j++;
		ps.cur = NULL;
		rc = flow_lines(x, pg, ls + i, j - i, &ps);
		i = j;
	}
	/* footers */
	for (size_t i = 0; i < pg->n_sp && rc == 0; i++) {
		struct span *s = &pg->sp[i];
		struct blk *b;
		if (s->role != 2)
			continue;
		b = new_blk(x, pg->no, EL_FOOTER);
		if (!b) {
			rc = -1;
			break;
		}
		buf_add(&b->text, s->text, s->tlen);
		blk_box(b, s->x0, s->y0, s->x1, s->y1);
		b->size = s->size;
	}
	free(ls);
	free(rows);
	free(idx);
	return rc;
}

/* --- document-wide typing ---------------------------------------------------------- */

static float body_size(struct pdfx *x)
{
	size_t hist[400] = { 0 }, best = 0;
	float size = 10;
	for (int p = 0; p < x->n_pages; p++)
		for (size_t i = 0; i < x->pages[p].n_sp; i++) {
			const struct span *s = &x->pages[p].sp[i];
			int k = (int)lroundf(s->size * 2);
			if (k > 0 && k < 400)
				hist[k] += s->n;
		}
	for (int k = 1; k < 400; k++)
		if (hist[k] > best) {
			best = hist[k];
			size = (float)k / 2;
		}
	return size;
}

static int cmp_float_desc(const void *a, const void *b)
{
	float p = *(const float *)a, q = *(const float *)b;
	return p < q ? 1 : p > q ? -1 : 0;
}

static void type_blocks(struct pdfx *x)
{
	float sizes[32];
	size_t n_sizes = 0;
	float body = x->body;
	int have_title = 0;
	float p1max = 0;
	if (!x->n_b)
		return;
	for (size_t i = 0; i < x->n_b; i++) {
		struct blk *b = &x->b[i];
		if (b->page == x->b[0].page && b->type == EL_PARAGRAPH && b->size > p1max)
			p1max = b->size;
	}
	for (size_t i = 0; i < x->n_b; i++) {
		struct blk *b = &x->b[i];
		const char *t = buf_str(&b->text);
		size_t n = b->text.len;
		int short_block = n <= 200 && b->nlines <= 3;
		char last = n ? t[n - 1] : 0;
		if (b->type != EL_PARAGRAPH && !(b->type == EL_LIST_ITEM && b->numbered))
			continue;
		if (is_caption(t, n)) {
			b->type = EL_CAPTION;
			continue;
		}
		if (!short_block || last == ',' || last == ';')
			continue;
		b->numlevel = numbering_depth(t, n);
		if (!have_title && b->page == x->b[0].page && b->size >= body * 1.3f &&
		    b->size >= p1max - 0.01f && b->y0 < 0.5f * x->pages[b->page - 1].h) {
			b->type = EL_TITLE;
			have_title = 1;
			continue;
		}
		if (b->type == EL_LIST_ITEM && !b->numlevel)
			continue;  /* "a) item", not "2.1 Section" */
		if (b->size >= body + fmaxf(1.0f, body * 0.12f) && last != '.') {
			b->type = EL_HEADING;
		} else if (b->bold && b->size >= body - 0.6f && n <= 100 && b->nlines <= 2 &&
			   last != '.' && last != ':') {
			b->type = EL_HEADING;
		} else {
			continue;
		}
		{
			float s = roundf(b->size * 2) / 2;
			int dup = 0;
			for (size_t k = 0; k < n_sizes; k++)
				dup |= sizes[k] == s;
			if (!dup && n_sizes < 32)
				sizes[n_sizes++] = s;
		}
	}
	qsort(sizes, n_sizes, sizeof(float), cmp_float_desc);
	for (size_t i = 0; i < x->n_b; i++) {
		struct blk *b = &x->b[i];
		float s = roundf(b->size * 2) / 2;
		int lvl = 1;
		if (b->type != EL_HEADING)
			continue;
		for (size_t k = 0; k < n_sizes; k++)
			if (sizes[k] > s)
				lvl++;
		if (b->numlevel)
			lvl = b->numlevel;
		b->level = lvl > 6 ? 6 : lvl;
	}
	/* list depth by indentation among neighbouring items */
	for (size_t i = 0; i < x->n_b; i++) {
		struct blk *b = &x->b[i];
		if (b->type != EL_LIST_ITEM)
			continue;
		b->level = 1;
		if (i > 0 && x->b[i - 1].type == EL_LIST_ITEM && x->b[i - 1].page == b->page) {
			const struct blk *p = &x->b[i - 1];
			if (b->x0 > p->x0 + 6)
				b->level = p->level + 1 > 6 ? 6 : p->level + 1;
			else if (b->x0 < p->x0 - 6) {
				/* back out: find the item at this indentation */
				int lv = 1;
				for (size_t k = i - 1; k-- > 0 && x->b[k].type == EL_LIST_ITEM;)
					if (fabsf(x->b[k].x0 - b->x0) <= 6) {
						lv = x->b[k].level;
						break;
					}
				b->level = lv;
			} else {
				b->level = p->level;
			}
		}
	}
}

/* --- OCR pages ---------------------------------------------------------------------- */

/* An 8-bit Leptonica image of gray samples (Leptonica keeps four pixels to a
 * 32-bit word, the first in the high byte). */
static struct Pix *pix_from_gray(const unsigned char *s, int w, int h, ptrdiff_t stride, int dpi)
{
	struct Pix *pix = pixCreateNoInit(w, h, 8);
	l_uint32 *data;
	int wpl;
	if (!pix)
		return NULL;
	data = pixGetData(pix);
	wpl = pixGetWpl(pix);
	for (int y = 0; y < h; y++) {
		l_uint32 *line = data + (size_t)y * (size_t)wpl;
		const unsigned char *src = s + (ptrdiff_t)y * stride;
		int x = 0;
		for (; x + 4 <= w; x += 4)
			line[x >> 2] = (l_uint32)src[x] << 24 | (l_uint32)src[x + 1] << 16 |
				       (l_uint32)src[x + 2] << 8 | (l_uint32)src[x + 3];
		if (x < w) {
			l_uint32 v = 0;
			for (int k = 0; k < 4; k++)
				v |= (l_uint32)(x + k < w ? src[x + k] : 0) << (24 - 8 * k);
			line[x >> 2] = v;
		}
	}
	pixSetResolution(pix, dpi, dpi);
	return pix;
}

/* The pixel size a page drawn at this scale has (as fz_new_pixmap_from_page
 * makes it). */
static fz_irect page_pixels(fz_rect bounds, float scale)
{
	return fz_round_rect(fz_transform_rect(bounds, fz_scale(scale, scale)));
}

/*
 * A scanned page is mostly one image over the whole page and nothing else.
 * Drawing it at the OCR resolution decodes the image at its own (often 600
 * dpi), then scales every pixel; for such a page the image itself is taken
 * instead, decoded at the OCR resolution where its size is a power of two
 * of it (MuPDF subsamples while decoding: JPEG in the decoder, others by
 * averaging), else drawn as any page.  This device finds that image: one
 * opaque upright image, clips no tighter than it, and nothing else painting.
 */
struct lone {
	fz_device super;
	fz_image *img;         /* kept */
	fz_matrix m;
	fz_rect clip;          /* every clip seen, intersected */
	int other;             /* something else paints: draw the page */
};

#define L(dev) ((struct lone *)(dev))

static void lone_other(fz_context *ctx, fz_device *dev)
{
	(void)ctx;
	L(dev)->other = 1;
}

static void lone_fill_path(fz_context *ctx, fz_device *dev, const fz_path *path, int eo,
			   fz_matrix m, fz_colorspace *cs, const float *color, float alpha,
			   fz_color_params cp)
{
	(void)path; (void)eo; (void)m; (void)cs; (void)color; (void)alpha; (void)cp;
	lone_other(ctx, dev);
}

static void lone_stroke_path(fz_context *ctx, fz_device *dev, const fz_path *path,
			     const fz_stroke_state *ss, fz_matrix m, fz_colorspace *cs,
			     const float *color, float alpha, fz_color_params cp)
{
	(void)path; (void)ss; (void)m; (void)cs; (void)color; (void)alpha; (void)cp;
	lone_other(ctx, dev);
}

static void lone_clip_path(fz_context *ctx, fz_device *dev, const fz_path *path, int eo,
			   fz_matrix m, fz_rect sc)
{
	(void)eo;
	(void)sc;
	L(dev)->clip = fz_intersect_rect(L(dev)->clip, fz_bound_path(ctx, path, NULL, m));
}

static void lone_clip_stroke_path(fz_context *ctx, fz_device *dev, const fz_path *path,
				  const fz_stroke_state *ss, fz_matrix m, fz_rect sc)
{
	(void)path; (void)ss; (void)m; (void)sc;
	lone_other(ctx, dev);
}

static void lone_fill_text(fz_context *ctx, fz_device *dev, const fz_text *text, fz_matrix m,
			   fz_colorspace *cs, const float *color, float alpha, fz_color_params cp)
{
	(void)text; (void)m; (void)cs; (void)color; (void)alpha; (void)cp;
	lone_other(ctx, dev);
}

static void lone_stroke_text(fz_context *ctx, fz_device *dev, const fz_text *text,
			     const fz_stroke_state *ss, fz_matrix m, fz_colorspace *cs,
			     const float *color, float alpha, fz_color_params cp)
{
	(void)text; (void)ss; (void)m; (void)cs; (void)color; (void)alpha; (void)cp;
	lone_other(ctx, dev);
}

static void lone_clip_text(fz_context *ctx, fz_device *dev, const fz_text *text, fz_matrix m,
			   fz_rect sc)
{
	(void)text; (void)m; (void)sc;
	lone_other(ctx, dev);
}

static void lone_clip_stroke_text(fz_context *ctx, fz_device *dev, const fz_text *text,
				  const fz_stroke_state *ss, fz_matrix m, fz_rect sc)
{
	(void)text; (void)ss; (void)m; (void)sc;
	lone_other(ctx, dev);
}

static void lone_fill_shade(fz_context *ctx, fz_device *dev, fz_shade *shd, fz_matrix m,
			    float alpha, fz_color_params cp)
{
	(void)shd; (void)m; (void)alpha; (void)cp;
	lone_other(ctx, dev);
}

static void lone_fill_image(fz_context *ctx, fz_device *dev, fz_image *img, fz_matrix m,
			    float alpha, fz_color_params cp)
{
	struct lone *l = L(dev);
	(void)cp;
	if (l->img || alpha < 1.0f || img->imagemask || img->mask || img->use_colorkey ||
	    img->scalable || img->orientation > 1) {
		l->other = 1;
		return;
	}
	l->img = fz_keep_image(ctx, img);
	l->m = m;
}

static void lone_fill_image_mask(fz_context *ctx, fz_device *dev, fz_image *img, fz_matrix m,
				 fz_colorspace *cs, const float *color, float alpha,
				 fz_color_params cp)
{
	(void)img; (void)m; (void)cs; (void)color; (void)alpha; (void)cp;
	lone_other(ctx, dev);
}

static void lone_clip_image_mask(fz_context *ctx, fz_device *dev, fz_image *img, fz_matrix m,
				 fz_rect sc)
{
	(void)img; (void)m; (void)sc;
	lone_other(ctx, dev);
}

static void lone_begin_mask(fz_context *ctx, fz_device *dev, fz_rect area, int luminosity,
			    fz_colorspace *cs, const float *bc, fz_color_params cp)
{
	(void)area; (void)luminosity; (void)cs; (void)bc; (void)cp;
	lone_other(ctx, dev);
}

/* A plain group (a page's transparency group) changes nothing for one opaque image. */
static void lone_begin_group(fz_context *ctx, fz_device *dev, fz_rect area, fz_colorspace *cs,
			     int isolated, int knockout, int blendmode, float alpha)
{
	(void)area; (void)cs; (void)isolated; (void)knockout;
	if (blendmode != FZ_BLEND_NORMAL || alpha < 1.0f)
		lone_other(ctx, dev);
}

static int lone_begin_tile(fz_context *ctx, fz_device *dev, fz_rect area, fz_rect view,
			   float xstep, float ystep, fz_matrix m, int id)
{
	(void)area; (void)view; (void)xstep; (void)ystep; (void)m; (void)id;
	lone_other(ctx, dev);
	return 0;
}

static void lone_drop(fz_context *ctx, fz_device *dev)
{
	fz_drop_image(ctx, L(dev)->img);
	L(dev)->img = NULL;
}

/* Within a point of each other, side by side. */
static int same_rect(fz_rect a, fz_rect b)
{
	return fabsf(a.x0 - b.x0) <= 1 && fabsf(a.y0 - b.y0) <= 1 && fabsf(a.x1 - b.x1) <= 1 &&
	       fabsf(a.y1 - b.y1) <= 1;
}

/*
 * The page's lone image as gray pixels of the size the page would be drawn
 * at (within a pixel), or NULL to draw the page, also when the image cannot
 * be decoded (drawn, the page shows what MuPDF can make of it).
 */
static fz_pixmap *lone_image(fz_context *ctx, fz_page *page, fz_rect bounds, fz_irect want)
{
	struct lone *volatile l = NULL;
	fz_pixmap *volatile pm = NULL;
	int tw = want.x1 - want.x0, th = want.y1 - want.y0;
	fz_var(l);
	fz_var(pm);
	fz_try(ctx) {
		fz_rect r;
		fz_matrix m;
		int n = -1;
		l = fz_new_derived_device(ctx, struct lone);
		l->clip = fz_infinite_rect;
		l->super.fill_path = lone_fill_path;
		l->super.stroke_path = lone_stroke_path;
		l->super.clip_path = lone_clip_path;
		l->super.clip_stroke_path = lone_clip_stroke_path;
		l->super.fill_text = lone_fill_text;
		l->super.stroke_text = lone_stroke_text;
		l->super.clip_text = lone_clip_text;
		l->super.clip_stroke_text = lone_clip_stroke_text;
		l->super.fill_shade = lone_fill_shade;
		l->super.fill_image = lone_fill_image;
		l->super.fill_image_mask = lone_fill_image_mask;
		l->super.clip_image_mask = lone_clip_image_mask;
		l->super.begin_mask = lone_begin_mask;
		l->super.begin_group = lone_begin_group;
		l->super.begin_tile = lone_begin_tile;
		l->super.drop_device = lone_drop;
		fz_run_page(ctx, page, &l->super, fz_identity, NULL);
		fz_close_device(ctx, &l->super);
		m = l->m;
		r = fz_transform_rect(fz_unit_rect, m);
		/* upright (no turn, no mirror), the page's size and place, not clipped */
		if (l->other || !l->img || m.a <= 0 || m.d <= 0 || fabsf(m.b) > 1e-3f * m.a ||
		    fabsf(m.c) > 1e-3f * m.d || !same_rect(r, bounds) ||
		    !fz_contains_rect(fz_expand_rect(l->clip, 1), bounds))
			break;
		for (int k = 0; k <= 4 && n < 0; k++) {
			int iw = (l->img->w + (1 << k) - 1) >> k, ih = (l->img->h + (1 << k) - 1) >> k;
			if (abs(iw - tw) <= 1 && abs(ih - th) <= 1)
				n = k;
		}
		if (n < 0)
			break;
		/* MuPDF subsamples by the largest power of two that leaves the image
		 * two pixels over the size asked for */
		m = n ? fz_scale((float)((l->img->w >> n) - 2), (float)((l->img->h >> n) - 2))
		      : fz_scale((float)l->img->w, (float)l->img->h);
		pm = fz_get_pixmap_from_image(ctx, l->img, NULL, &m, NULL, NULL);
		if (abs(pm->w - tw) > 1 || abs(pm->h - th) > 1 || pm->alpha) {
			fz_drop_pixmap(ctx, pm);
			pm = NULL;
			break;
		}
		if (pm->n != 1 || fz_colorspace_type(ctx, pm->colorspace) != FZ_COLORSPACE_GRAY) {
			fz_pixmap *g = fz_convert_pixmap(ctx, pm, fz_device_gray(ctx), NULL, NULL,
							 fz_default_color_params, 0);
			fz_drop_pixmap(ctx, pm);
			pm = g;
		}
	}
	fz_always(ctx) {
		fz_drop_device(ctx, (fz_device *)l);
	}
	fz_catch(ctx) {
		fz_drop_pixmap(ctx, pm);
		pm = NULL;
	}
	return pm;
}

/*
 * The page in gray at dpi (less for a huge page), as Leptonica's image with
 * that resolution; NULL when it cannot be made.  *lone tells whether it is
 * the page's single image rather than the page drawn.
 */
static struct Pix *render_gray(fz_context *ctx, fz_page *page, int dpi, int *lone)
{
	fz_pixmap *volatile pm = NULL;
	struct Pix *pix = NULL;
	fz_var(pm);
	*lone = 0;
	fz_try(ctx) {
		fz_rect r = fz_bound_page(ctx, page);
		float scale = (float)dpi / 72.0f;
		float w = (r.x1 - r.x0) * scale, h = (r.y1 - r.y0) * scale;
		if (w > 12000 || h > 12000)  /* a huge page: keep the image sane */
			scale *= 12000.0f / fmaxf(w, h);
		pm = lone_image(ctx, page, r, page_pixels(r, scale));
		*lone = pm != NULL;
		if (!pm)
			pm = fz_new_pixmap_from_page(ctx, page, fz_scale(scale, scale),
						     fz_device_gray(ctx), 0);
	}
	fz_catch(ctx) {
		return NULL;
	}
	pix = pix_from_gray(fz_pixmap_samples(ctx, pm), fz_pixmap_width(ctx, pm),
			    fz_pixmap_height(ctx, pm), fz_pixmap_stride(ctx, pm), dpi);
	fz_drop_pixmap(ctx, pm);
	return pix;
}

static int needs_ocr(const struct ingest_opts *o, const struct page *pg)
{
	double area = (double)pg->w * pg->h;
	if (o->ocr == INGEST_OCR_NEVER)
		return 0;
	if (o->ocr == INGEST_OCR_ALWAYS)
		return 1;
	if (pg->fffd > 20 && pg->fffd > pg->nonspace)
		return 1;  /* glyphs without Unicode: the text layer is unusable */
	if (pg->nonspace >= 20)
		return 0;
	return pg->image_area >= 0.05 * area || pg->paths >= 200;
}

static fz_page *mu_page(struct pdfx *x, int p, int *oom);

/* The pages to read by OCR, and which of them one worker takes. */
struct ocr_task {
	struct pdfx *x;
	const int *pages;   /* 0-based */
	size_t n, k, step;  /* pages[k], pages[k + step], ... */
};

/* Renders and reads the task's pages into d (elements with their pages; the
 * pages read from their lone image listed in its meta, "image_pages"). */
static int ocr_pages_into(void *arg, struct doc *d, struct moat_err *e)
{
	struct ocr_task *t = arg;
	struct pdfx *x = t->x;
	int dpi = docfmt_ocr_dpi(x->o);
	for (size_t i = t->k; i < t->n; i += t->step) {
		int oom, no = t->pages[i] + 1, rc, lone;
		fz_page *page = mu_page(x, t->pages[i], &oom);
		struct Pix *pix;
		size_t words = 0;
		if (!page)
			return err_set(e, oom ? MOAT_ENOMEM : MOAT_EPARSE, "cannot load page %d for OCR", no);
		if (!x->ocr && !(x->ocr = ocr_new(x->o, e))) {
			fz_drop_page(x->ctx, page);
			return -1;
		}
		pix = render_gray(x->ctx, page, dpi, &lone);
		fz_drop_page(x->ctx, page);
		if (!pix)
			return err_set(e, MOAT_ENOMEM, "cannot render page %d for OCR", no);
		if (lone) {
			json_t *a = json_object_get(d->meta, "image_pages");
			if (!a)
				json_object_set_new(d->meta, "image_pages", a = json_array());
			if (json_array_append_new(a, json_integer(no)) < 0) {
				pixDestroy(&pix);
				return err_set(e, MOAT_ENOMEM, "out of memory");
			}
		}
		rc = ocr_page(x->ocr, pix, no, dpi, 72.0 / pixGetXRes(pix), d, &words, e);
		pixDestroy(&pix);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* OCR blocks from a document ocr_pages_into() filled. */
static int blocks_from(struct pdfx *x, const struct doc *t)
{
	json_t *a = json_object_get(t->meta, "image_pages"), *v;
	size_t k;
	json_array_foreach(a, k, v) {
		json_int_t no = json_integer_value(v);
		if (no >= 1 && no <= x->n_pages)
			x->pages[no - 1].ocr_image = 1;
	}
	for (size_t i = 0; i < t->n_el; i++) {
		const struct element *el = &t->el[i];
		struct blk *b = new_blk(x, el->page, el->type);
		if (!b)
			return -1;
		b->level = el->level;
		buf_add(&b->text, doc_el_text(t, el), el->byte_len);
		b->meta = json_incref(el->meta);
		b->nlines = 1;
	}
	return 0;
}

/*
 * Reads the scanned pages.  In a sandbox child with -j above 1, the pages
 * are shared among that many helper processes (each its own sandbox with the
 * same limits): Tesseract runs single-threaded, so pages in parallel are
 * what uses the cores.  Elsewhere they are read here, one after another.
 */
static int ocr_scanned(struct pdfx *x, const int *pages, size_t n, struct moat_err *e)
{
	struct doc_limits lim = { 0, 0 };
	size_t workers = x->o->jobs > 1 && sandbox_in_child() ? (size_t)x->o->jobs : 1;
	struct sandbox_job jobs[16];
	struct ocr_task tasks[16];
	size_t started = 0;
	int rc = 0;
	if (workers > n)
		workers = n;
	if (workers > 16)
		workers = 16;
	if (workers > 1) {
		for (size_t k = 0; k < workers; k++) {
			tasks[k] = (struct ocr_task){ x, pages, n, k, workers };
			if (sandbox_start(ocr_pages_into, &tasks[k], x->o, lim, &jobs[k], e) < 0)
				break;
			started++;
		}
		for (size_t k = 0; k < started; k++) {
			struct doc t;
			struct moat_err ke = MOAT_ERR_INIT;
			doc_init(&t, lim);
			if (sandbox_finish(&jobs[k], &t, &ke) < 0) {
				if (rc == 0)
					*e = ke;
				rc = -1;
			} else if (rc == 0 && blocks_from(x, &t) < 0) {
				rc = err_set(e, MOAT_ENOMEM, "out of memory");
			}
			doc_release(&t);
		}
		if (started == workers)
			return rc;
		if (rc < 0)
			return rc;
		/* could not fork them all: the rest here */
		for (size_t k = started; k < workers && rc == 0; k++) {
			struct doc t;
			tasks[k] = (struct ocr_task){ x, pages, n, k, workers };
			doc_init(&t, lim);
			rc = ocr_pages_into(&tasks[k], &t, e);
			if (rc == 0 && blocks_from(x, &t) < 0)
				rc = err_set(e, MOAT_ENOMEM, "out of memory");
			doc_release(&t);
		}
		return rc;
	}
	{
		struct ocr_task t1 = { x, pages, n, 0, 1 };
		struct doc t;
		doc_init(&t, lim);
		rc = ocr_pages_into(&t1, &t, e);
		if (rc == 0 && blocks_from(x, &t) < 0)
			rc = err_set(e, MOAT_ENOMEM, "out of memory");
		doc_release(&t);
	}
	return rc;
}

/* Puts blocks in page order, keeping the order within each page. */
static int sort_by_page(struct pdfx *x)
{
	size_t *start = calloc((size_t)x->n_pages + 2, sizeof(size_t));
	struct blk *out = malloc((x->n_b ? x->n_b : 1) * sizeof(*out));
	if (!start || !out) {
		free(start);
		free(out);
		return -1;
	}
	for (size_t i = 0; i < x->n_b; i++)
		start[x->b[i].page + 1]++;
	for (int p = 1; p <= x->n_pages + 1; p++)
		start[p] += start[p - 1];
	for (size_t i = 0; i < x->n_b; i++)
		out[start[x->b[i].page]++] = x->b[i];
	free(x->b);
	free(start);
	x->b = out;
	x->a_b = x->n_b ? x->n_b : 1;
	return 0;
}

/* --- the document --------------------------------------------------------------------- */

static void quiet(void *user, const char *msg)
{
	int *n = user;
	(void)msg;
	if (n)
		(*n)++;
}

static int mupdf_fail(fz_context *ctx, struct moat_err *e, const char *what)
{
	if (fz_caught(ctx) == FZ_ERROR_MEMORY)
		return err_set(e, MOAT_ENOMEM, "out of memory %s", what);
	return err_set(e, MOAT_EPARSE, "damaged PDF: %s (%s)", fz_caught_message(ctx), what);
}

static void add_info(struct pdfx *x, struct doc *d)
{
	static const struct {
		const char *key, *name;
	} info[] = {
		{ FZ_META_INFO_TITLE, "title" }, { FZ_META_INFO_AUTHOR, "author" },
		{ FZ_META_INFO_SUBJECT, "subject" }, { FZ_META_INFO_KEYWORDS, "keywords" },
		{ FZ_META_INFO_CREATOR, "creator" }, { FZ_META_INFO_PRODUCER, "producer" },
		{ FZ_META_INFO_CREATIONDATE, "created" }, { FZ_META_INFO_MODIFICATIONDATE, "modified" },
	};
	char buf[1024];
	for (size_t i = 0; i < sizeof(info) / sizeof(info[0]); i++) {
		volatile int n = -1;
		fz_try(x->ctx) {
			n = fz_lookup_metadata(x->ctx, x->doc, info[i].key, buf, sizeof(buf));
		}
		fz_catch(x->ctx) {
			n = -1;
		}
		if (n > 0 && buf[0] && utf8_is_valid(buf, strlen(buf)))
			json_object_set_new(d->meta, info[i].name, json_string(buf));
	}
}

static int emit(struct pdfx *x, struct doc *d)
{
	int last_page = 0;
	for (size_t i = 0; i < x->n_b; i++) {
		struct blk *b = &x->b[i];
		json_t *m;
		int r;
		while (last_page && b->page > last_page) {
			if (doc_add_page(d, EL_PAGE_BREAK, 0, last_page, "", 0, NULL) < 0)
				return -1;
			last_page++;
		}
		last_page = b->page;
		m = b->meta ? b->meta : json_object();
		b->meta = NULL;
		if (b->x1 >= b->x0 && !json_object_get(m, "bbox"))
			json_object_set_new(m, "bbox", bbox_json(b->x0, b->y0, b->x1, b->y1));
		if (b->type == EL_HEADING || b->type == EL_TITLE)
			json_object_set_new(m, "font_size", json_real(q4(b->size)));
		r = doc_add_page(d, b->type, b->level, b->page, buf_str(&b->text), b->text.len, m);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* MuPDF's calls that can throw, each in its own function so that no local
 * variable of ingest_pdf() lives across a setjmp. */
static int mu_open(struct pdfx *x, const unsigned char *data, size_t len, fz_stream **stm,
		    struct moat_err *e)
{
	fz_context *ctx = x->ctx;
	fz_try(ctx) {
		fz_register_document_handlers(ctx);
		*stm = fz_open_memory(ctx, data, len);
		x->doc = fz_open_document_with_stream(ctx, "application/pdf", *stm);
	}
	fz_catch(ctx) {
		return mupdf_fail(ctx, e, "cannot open it");
	}
	return 0;
}

/* 1 when the document needs a password, 0 when not, -1 on an error. */
static int mu_needs_pw(struct pdfx *x, struct moat_err *e)
{
	volatile int r = -1;
	fz_try(x->ctx) {
		r = fz_needs_password(x->ctx, x->doc) ? 1 : 0;
	}
	fz_catch(x->ctx) {
		return mupdf_fail(x->ctx, e, "cannot read its encryption");
	}
	return r;
}

static int mu_auth(struct pdfx *x, const char *pw)
{
	volatile int ok = 0;
	fz_try(x->ctx) {
		ok = fz_authenticate_password(x->ctx, x->doc, pw);
	}
	fz_catch(x->ctx) {
		return 0;
	}
	return ok;
}

static int mu_pages(struct pdfx *x, struct moat_err *e)
{
	fz_try(x->ctx) {
		x->n_pages = fz_count_pages(x->ctx, x->doc);
	}
	fz_catch(x->ctx) {
		return mupdf_fail(x->ctx, e, "cannot count its pages");
	}
	return 0;
}

static int mu_repaired(struct pdfx *x)
{
	pdf_document *pd = pdf_specifics(x->ctx, x->doc);
	volatile int r = 0;
	fz_try(x->ctx) {
		r = pd && pdf_was_repaired(x->ctx, pd);
	}
	fz_catch(x->ctx) {
		return 1;
	}
	return r;
}

/* Page p, or NULL (*oom set when for lack of memory). */
static fz_page *mu_page(struct pdfx *x, int p, int *oom)
{
	fz_page *volatile page = NULL;
	*oom = 0;
	fz_try(x->ctx) {
		page = fz_load_page(x->ctx, x->doc, p);
	}
	fz_catch(x->ctx) {
		*oom = fz_caught(x->ctx) == FZ_ERROR_MEMORY;
		return NULL;
	}
	return page;
}

int ingest_pdf(const unsigned char *data, size_t len, const struct ingest_opts *o,
	       struct doc *d, struct moat_err *e)
{
	struct pdfx x;
	fz_context *ctx;
	fz_stream *stm = NULL;
	int rc = 0, needs_pw;
	size_t tail = len < 4096 ? len : 4096;
	int has_eof = memmem(data + len - tail, tail, "%%EOF", 5) != NULL;
	json_t *ocr_pages = NULL, *damaged = NULL;
	int *ocr_list = NULL;
	size_t n_ocr_list = 0;

	memset(&x, 0, sizeof(x));
	x.o = o;
	ctx = fz_new_context(NULL, NULL, 64 << 20);
	if (!ctx)
		return err_set(e, MOAT_ENOMEM, "out of memory (cannot start MuPDF)");
	x.ctx = ctx;
	fz_set_warning_callback(ctx, quiet, &x.warnings);
	fz_set_error_callback(ctx, quiet, NULL);
	if (mu_open(&x, data, len, &stm, e) < 0) {
		rc = -1;
		goto out;
	}
	needs_pw = mu_needs_pw(&x, e);
	if (needs_pw < 0) {
		rc = -1;
		goto out;
	}
	if (needs_pw) {
		if (!o->password || !*o->password) {
			rc = err_set(e, MOAT_EUNSUPPORTED,
				     "password-protected PDF (give the password with --password)");
			goto out;
		}
		if (!mu_auth(&x, o->password)) {
			rc = err_set(e, MOAT_EUNSUPPORTED, "password-protected PDF: the password given "
				     "with --password is wrong");
			goto out;
		}
		json_object_set_new(d->meta, "encrypted", json_true());
	}
	if (mu_pages(&x, e) < 0) {
		rc = -1;
		goto out;
	}
	{
		int repaired = mu_repaired(&x);
		if (repaired && !has_eof) {
			rc = err_set(e, MOAT_EPARSE, "truncated PDF (no %%%%EOF marker at the end, "
				     "%zu bytes; the cross-reference table had to be rebuilt)", len);
			goto out;
		}
		if (repaired)
			json_object_set_new(d->meta, "repaired", json_true());
	}
	if (x.n_pages <= 0) {
		rc = err_set(e, MOAT_EPARSE, "damaged PDF: no pages");
		goto out;
	}
	if ((unsigned)x.n_pages > docfmt_max_pages(o)) {
		rc = err_set(e, MOAT_ELIMIT, "PDF with %d pages (more than %u, see --max-pages)",
			     x.n_pages, docfmt_max_pages(o));
		goto out;
	}
	x.pages = calloc((size_t)x.n_pages, sizeof(*x.pages));
	if (!x.pages) {
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	add_info(&x, d);
	json_object_set_new(d->meta, "pages", json_integer(x.n_pages));

	ocr_list = malloc((size_t)x.n_pages * sizeof(int));
	if (!ocr_list) {
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	/* pass 1: characters of every page, and which pages have no text layer */
	for (int p = 0; p < x.n_pages && rc == 0; p++) {
		struct page *pg = &x.pages[p];
		int oom;
		fz_page *page = mu_page(&x, p, &oom);
		pg->no = p + 1;
		if (!page) {
			if (oom) {
				rc = err_set(e, MOAT_ENOMEM, "out of memory on page %d", p + 1);
				break;
			}
			pg->damaged = 1;
			continue;
		}
		if (extract_page(&x, page, pg) < 0 || x.oom) {
			fz_drop_page(ctx, page);
			rc = err_set(e, MOAT_ENOMEM, "out of memory on page %d", p + 1);
			break;
		}
		if (!pg->damaged && needs_ocr(o, pg)) {
			pg->ocr = 1;
			ocr_list[n_ocr_list++] = p;
		}
		fz_drop_page(ctx, page);
	}
	if (rc == 0 && n_ocr_list && (ocr_scanned(&x, ocr_list, n_ocr_list, e) < 0 ||
				       sort_by_page(&x) < 0)) {
		if (!e->msg[0])
			err_set(e, MOAT_ENOMEM, "out of memory");
		rc = -1;
	}
	if (rc < 0)
		goto out;
	{
		/* the OCR blocks, in page order, set aside while the rest is laid out */
		struct blk *ocr_b = x.b;
		size_t n_ocr = x.n_b, k = 0;
		x.b = NULL;
		x.n_b = x.a_b = 0;
		x.body = body_size(&x);
		find_headers_footers(&x);
		for (int p = 0; p < x.n_pages && rc == 0; p++) {
			struct page *pg = &x.pages[p];
			if (pg->ocr) {
				if (!ocr_pages)
					ocr_pages = json_array();
				json_array_append_new(ocr_pages, json_integer(pg->no));
				while (k < n_ocr && ocr_b[k].page == pg->no) {
					struct blk *b = PUSH(x.b, x.n_b, x.a_b, struct blk);
					if (!b) {
						rc = err_set(e, MOAT_ENOMEM, "out of memory");
						break;
					}
					*b = ocr_b[k];
					memset(&ocr_b[k], 0, sizeof(ocr_b[k]));
					k++;
				}
				continue;
			}
			if (pg->damaged) {
				if (!damaged)
					damaged = json_array();
				json_array_append_new(damaged, json_integer(pg->no));
				continue;
			}
			if (layout_page(&x, pg) < 0 || x.oom)
				rc = err_set(e, MOAT_ENOMEM, "out of memory on page %d", pg->no);
		}
		for (size_t i = 0; i < n_ocr; i++) {
			buf_release(&ocr_b[i].text);
			json_decref(ocr_b[i].meta);
		}
		free(ocr_b);
	}
	if (rc < 0)
		goto out;
	type_blocks(&x);
	{
		size_t dropped = 0;
		for (int p = 0; p < x.n_pages; p++)
			dropped += x.pages[p].rotated_dropped;
		if (dropped)
			json_object_set_new(d->meta, "rotated_chars_dropped", json_integer((json_int_t)dropped));
	}
	if (ocr_pages)
		json_object_set_new(d->meta, "ocr_pages", json_incref(ocr_pages));
	{
		json_t *a = NULL;
		for (int p = 0; p < x.n_pages; p++)
			if (x.pages[p].ocr_image && (a || (a = json_array())))
				json_array_append_new(a, json_integer(x.pages[p].no));
		if (a)
			json_object_set_new(d->meta, "ocr_image_pages", a);
	}
	if (damaged)
		json_object_set_new(d->meta, "damaged_pages", json_incref(damaged));
	if (damaged && (int)json_array_size(damaged) == x.n_pages) {
		rc = err_set(e, MOAT_EPARSE, "damaged PDF: no page could be read");
		goto out;
	}
	if (emit(&x, d) < 0 && !d->over_limit)
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
	if (rc == 0 && d->n_el == 0 && o->ocr == INGEST_OCR_NEVER) {
		int scanned = 0;
		for (int p = 0; p < x.n_pages; p++)
			scanned |= x.pages[p].image_area > 0;
		if (scanned)
			rc = err_set(e, MOAT_EPARSE, "no text layer (scanned pages) and --ocr never");
	}
out:
	free(ocr_list);
	json_decref(ocr_pages);
	json_decref(damaged);
	for (size_t i = 0; i < x.n_b; i++) {
		buf_release(&x.b[i].text);
		json_decref(x.b[i].meta);
	}
	free(x.b);
	for (int p = 0; x.pages && p < x.n_pages; p++)
		page_release(&x.pages[p]);
	free(x.pages);
	ocr_free(x.ocr);
	fz_drop_document(ctx, x.doc);
	fz_drop_stream(ctx, stm);
	fz_drop_context(ctx);
	if (rc == 0)
		d->encoding = NULL;
	return rc;
}
