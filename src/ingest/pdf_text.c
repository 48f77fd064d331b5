/*
 * pdf_text.c - a page's characters: the collecting device (text on to
 * MuPDF's structured-text device; ruling lines, image areas and path counts
 * kept for layout and for the decision to OCR), then characters into spans
 * (one baseline, no gap wider than ~1 em, in the page's main direction;
 * lines at an angle dropped), and the order spans are read in.
 *
 * Not for: putting spans together into lines, columns and blocks
 * (pdf_layout.c).  Uses MuPDF and pdf_bidi.c.
 */
#define _GNU_SOURCE
#include "pdf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

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

/* Counts a drawn path and walks it into w in page space: 0 for one too
 * transparent to be seen (not walked). */
static int walk_path(fz_context *ctx, fz_device *dev, const fz_path *path, fz_matrix m,
		     float alpha, struct walk *w)
{
	T(dev)->pg->paths++;
	if (alpha < 0.1f)
		return 0;
	memset(w, 0, sizeof(*w));
	w->m = m;
	fz_walk_path(ctx, path, &walker, w);
	return 1;
}

static void tee_fill_path(fz_context *ctx, fz_device *dev, const fz_path *path, int eo,
			  fz_matrix m, fz_colorspace *cs, const float *color, float alpha,
			  fz_color_params cp)
{
	struct walk w;
	(void)eo;
	(void)cs;
	(void)color;
	(void)cp;
	if (!walk_path(ctx, dev, path, m, alpha, &w))
		return;
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
	if (!walk_path(ctx, dev, path, m, alpha, &w) || w.curves)
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
		if (pdfx_span_text(pg->ch + s->c0, s->n, &b) < 0 || buf_failed(&b) ||
		    !(s->text = buf_detach(&b, &s->tlen))) {
			buf_release(&b);
			pg->n_sp--;
			return -1;
		}
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

void pdfx_page_release(struct page *pg)
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

int pdfx_extract_page(struct pdfx *x, fz_page *page, struct page *pg)
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

/* Page p, or NULL (*oom set when for lack of memory). */
fz_page *pdfx_load_page(struct pdfx *x, int p, int *oom)
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

int pdfx_cmp_span_y(const void *a, const void *b, void *arg)
{
	const struct page *pg = arg;
	const struct span *s = &pg->sp[*(const size_t *)a], *t = &pg->sp[*(const size_t *)b];
	if (s->base != t->base)
		return s->base < t->base ? -1 : 1;
	return s->x0 < t->x0 ? -1 : s->x0 > t->x0;
}
