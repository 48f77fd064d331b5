/*
 * pdf_render.c - a page as gray pixels for OCR (a Leptonica image): a
 * scanned page's lone image decoded at the OCR resolution when it can be
 * (a device that finds it), else the page drawn.
 *
 * Not for: which pages need OCR or reading them (pdf_ocr.c, ocr.c).  Uses
 * MuPDF and Leptonica.
 */
#define _GNU_SOURCE
#include "pdf.h"
#include "ocrlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

/* An 8-bit Leptonica image of gray samples (Leptonica keeps four pixels to a
 * 32-bit word, the first in the high byte). */
static struct Pix *pix_from_gray(const unsigned char *s, int w, int h, ptrdiff_t stride, int dpi)
{
	struct Pix *pix = ocrlib->pixCreateNoInit(w, h, 8);
	l_uint32 *data;
	int wpl;
	if (!pix)
		return NULL;
	data = ocrlib->pixGetData(pix);
	wpl = ocrlib->pixGetWpl(pix);
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
	ocrlib->pixSetResolution(pix, dpi, dpi);
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
struct Pix *pdfx_render_gray(fz_context *ctx, fz_page *page, int dpi, int *lone)
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
