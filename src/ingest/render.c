/*
 * render.c - a PDF page or an image as PNG, for a person to draw boxes on
 * (the annotation page) or a model to look at (box suggestions):
 * ingest_render_png() (ingest.h) runs ingest_render() in the sandbox like
 * any parser, so a hostile file gets no further here than at ingest.
 *
 * The child answers with a pseudo-document whose meta is {"png": base64,
 * "width", "height"} (the wire carries a document's meta whole).  PDF pages are drawn at o->render_dpi (0: 100);
 * images keep their own pixels (boxes are in the image's pixels), the first
 * frame of a multi-frame file.  Both go through MuPDF.
 *
 * Not for: choosing what to render (src/label, src/web) or OCR's grey pages
 * (pdf_render.c).
 */
#include "ingest.h"
#include "docfmt.h"
#include "reader.h"
#include "../core/base64.h"
#include "../core/buf.h"

#include <stdlib.h>
#include <string.h>

#include <mupdf/fitz.h>

#include "../core/banned.h"

#define RENDER_MAX_PIXELS ((size_t)64 << 20)  /* 64 Mpx: 256 MiB of RGBA */

static void quiet(void *user, const char *msg)
{
	(void)user;
	(void)msg;
}

static int mu_fail(fz_context *ctx, struct moat_err *e, const char *what)
{
	if (fz_caught(ctx) == FZ_ERROR_MEMORY)
		return err_set(e, MOAT_ENOMEM, "out of memory %s", what);
	return err_set(e, MOAT_EPARSE, "%s: %s", what, fz_caught_message(ctx));
}

/* A PDF's page as RGB pixels at dpi. */
static fz_pixmap *pdf_page(fz_context *ctx, const unsigned char *data, size_t len, int page,
			   int dpi, const struct ingest_opts *o, struct moat_err *e)
{
	fz_stream *volatile stm = NULL;
	fz_document *volatile doc = NULL;
	fz_pixmap *volatile pix = NULL;
	volatile int n = 0, bad = 0, big = 0;
	fz_try(ctx) {
		fz_register_document_handlers(ctx);
		stm = fz_open_memory(ctx, data, len);
		doc = fz_open_document_with_stream(ctx, "application/pdf", stm);
		if (fz_needs_password(ctx, doc) &&
		    !(o->password && fz_authenticate_password(ctx, doc, o->password)))
			bad = 1;
		else if ((n = fz_count_pages(ctx, doc)) < page)
			bad = 2;
	}
	fz_catch(ctx) {
		fz_drop_document(ctx, doc);
		fz_drop_stream(ctx, stm);
		mu_fail(ctx, e, "cannot open the PDF");
		return NULL;
	}
	if (bad) {
		fz_drop_document(ctx, doc);
		fz_drop_stream(ctx, stm);
		if (bad == 1)
			err_set(e, MOAT_EUNSUPPORTED, "password-protected PDF");
		else
			err_set(e, MOAT_ENOTFOUND, "the PDF has %d pages, not %d", n, page);
		return NULL;
	}
	fz_try(ctx) {
		fz_page *pg = fz_load_page(ctx, doc, page - 1);
		fz_rect b = fz_bound_page(ctx, pg);
		float s = (float)dpi / 72.0f;
		fz_drop_page(ctx, pg);
		if ((double)(b.x1 - b.x0) * s * (double)(b.y1 - b.y0) * s > (double)RENDER_MAX_PIXELS)
			big = 1;
		else
			pix = fz_new_pixmap_from_page_number(ctx, doc, page - 1, fz_scale(s, s),
							     fz_device_rgb(ctx), 0);
	}
	fz_catch(ctx) {
		mu_fail(ctx, e, "cannot draw the page");
	}
	if (big)
		err_set(e, MOAT_ELIMIT, "page %d at %d dpi has more than %zu million pixels", page,
			dpi, RENDER_MAX_PIXELS >> 20);
	fz_drop_document(ctx, doc);
	fz_drop_stream(ctx, stm);
	return pix;
}

/* An image file's first frame as grey or RGB pixels of its own size. */
static fz_pixmap *image_pixels(fz_context *ctx, const unsigned char *data, size_t len,
			       struct moat_err *e)
{
	fz_buffer *volatile buf = NULL;
	fz_image *volatile img = NULL;
	fz_pixmap *volatile pix = NULL, *volatile rgb = NULL;
	volatile int big = 0;
	fz_try(ctx) {
		buf = fz_new_buffer_from_copied_data(ctx, data, len);
		img = fz_new_image_from_buffer(ctx, buf);
		if ((size_t)img->w * (size_t)img->h > RENDER_MAX_PIXELS)
			big = 1;
		else
			pix = fz_get_pixmap_from_image(ctx, img, NULL, NULL, NULL, NULL);
		if (pix && (pix->n - pix->alpha) != 1 && (pix->n - pix->alpha) != 3) {
			/* CMYK and the like: PNG has grey and RGB */
			rgb = fz_convert_pixmap(ctx, pix, fz_device_rgb(ctx), NULL, NULL,
						fz_default_color_params, 1);
		}
	}
	fz_catch(ctx) {
		fz_drop_pixmap(ctx, pix);
		pix = NULL;
		mu_fail(ctx, e, "cannot read the image");
	}
	fz_drop_image(ctx, img);
	fz_drop_buffer(ctx, buf);
	if (big)
		err_set(e, MOAT_ELIMIT, "the image has more than %zu million pixels",
			RENDER_MAX_PIXELS >> 20);
	if (rgb) {
		fz_drop_pixmap(ctx, pix);
		pix = rgb;
	}
	return pix;
}

static int to_png(fz_context *ctx, fz_pixmap *pix, struct doc *d, struct moat_err *e)
{
	fz_buffer *volatile png = NULL;
	unsigned char *p;
	size_t n;
	struct buf b64 = BUF_INIT;
	fz_try(ctx) {
		png = fz_new_buffer_from_pixmap_as_png(ctx, pix, fz_default_color_params);
	}
	fz_catch(ctx) {
		return mu_fail(ctx, e, "cannot write the PNG");
	}
	n = fz_buffer_storage(ctx, png, &p);
	base64_encode(p, n, BASE64_STD, &b64);
	fz_drop_buffer(ctx, png);
	if (buf_failed(&b64) || json_object_set_new(d->meta, "png", json_stringn(b64.data, b64.len)) < 0) {
		buf_release(&b64);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	buf_release(&b64);
	if (json_object_set_new(d->meta, "width", json_integer(pix->w)) < 0 ||
	    json_object_set_new(d->meta, "height", json_integer(pix->h)) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return 0;
}

int ingest_render(const unsigned char *data, size_t len, const struct ingest_opts *o,
		  struct doc *d, struct moat_err *e)
{
	fz_context *ctx = fz_new_context(NULL, NULL, 64 << 20);
	fz_pixmap *pix;
	int rc;
	if (!ctx)
		return err_set(e, MOAT_ENOMEM, "out of memory (cannot start MuPDF)");
	fz_set_warning_callback(ctx, quiet, NULL);
	fz_set_error_callback(ctx, quiet, NULL);
	if (len >= 5 && !memcmp(data, "%PDF-", 5))
		pix = pdf_page(ctx, data, len, o->render_page > 0 ? o->render_page : 1,
			       o->render_dpi > 0 ? o->render_dpi : 100, o, e);
	else
		pix = image_pixels(ctx, data, len, e);
	rc = pix ? to_png(ctx, pix, d, e) : -1;
	fz_drop_pixmap(ctx, pix);
	fz_drop_context(ctx);
	return rc;
}

int ingest_render_png(const unsigned char *data, size_t len, int page, int dpi,
		      const struct ingest_opts *base, struct buf *png, int *w, int *h,
		      struct moat_err *e)
{
	struct ingest_opts o = base ? *base : ingest_default_opts();
	struct doc d;
	struct doc_limits lim = { 0, 0 };
	int rc;
	o.render_page = page;
	o.render_dpi = dpi;
	if (doc_init(&d, lim) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	rc = ingest_parse_sandboxed("render", data, len, &o, &d, e);
	if (rc == 0) {
		json_t *b64 = json_object_get(d.meta, "png");
		*w = (int)json_integer_value(json_object_get(d.meta, "width"));
		*h = (int)json_integer_value(json_object_get(d.meta, "height"));
		if (!json_is_string(b64) || *w <= 0 || *h <= 0 ||
		    base64_decode(json_string_value(b64), json_string_length(b64), BASE64_STD, png) <= 0)
			rc = err_set(e, MOAT_EPARSE, "the renderer sent back no picture");
	}
	doc_release(&d);
	return rc;
}
