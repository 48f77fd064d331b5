/*
 * pdf.c - PDF through MuPDF: text in reading order, typed elements, pages
 * and boxes; scanned pages through OCR (pdf_ocr.c, ocr.c).
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
 *
 * This file holds ingest_pdf() (MuPDF's document, the passes, the metadata
 * and the elements emitted); each step above has its own file (pdf.h lists
 * them).  Not for: other formats.
 */
#define _GNU_SOURCE
#include "pdf.h"
#include "ocr.h"
#include "reader.h"
#include "../core/utf8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <mupdf/pdf.h>

#include "../core/banned.h"

static float q4(float v)
{
	return roundf(v * 4) / 4;
}

static json_t *bbox_json(float x0, float y0, float x1, float y1)
{
	return json_pack("[f,f,f,f]", (double)q4(x0), (double)q4(y0), (double)q4(x1), (double)q4(y1));
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

/* The document information dictionary into d->meta.  0 or -1 (out of
 * memory). */
static int add_info(struct pdfx *x, struct doc *d)
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
		if (n > 0 && buf[0] && utf8_is_valid(buf, strlen(buf)) &&
		    json_object_set_new(d->meta, info[i].name, json_string(buf)) < 0)
			return -1;
	}
	return 0;
}

/* The blocks as elements, a page break between pages.  -1 with d->over_limit
 * set when doc_add refused one (ingest_parse says why), else out of memory. */
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
		if (!m || buf_failed(&b->text) ||
		    (b->x1 >= b->x0 && !json_object_get(m, "bbox") &&
		     json_object_set_new(m, "bbox", bbox_json(b->x0, b->y0, b->x1, b->y1)) < 0) ||
		    ((b->type == EL_HEADING || b->type == EL_TITLE) &&
		     json_object_set_new(m, "font_size", json_real(q4(b->size))) < 0)) {
			json_decref(m);
			return -1;  /* out of memory: d->over_limit not set */
		}
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
		if (json_object_set_new(d->meta, "encrypted", json_true()) < 0)
			goto nomem;
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
		if (repaired && json_object_set_new(d->meta, "repaired", json_true()) < 0)
			goto nomem;
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
	ocr_list = malloc((size_t)x.n_pages * sizeof(int));
	if (!x.pages || !ocr_list || add_info(&x, d) < 0 ||
	    json_object_set_new(d->meta, "pages", json_integer(x.n_pages)) < 0)
		goto nomem;
	/* pass 1: characters of every page, and which pages have no text layer */
	for (int p = 0; p < x.n_pages && rc == 0; p++) {
		struct page *pg = &x.pages[p];
		int oom;
		fz_page *page = pdfx_load_page(&x, p, &oom);
		pg->no = p + 1;
		if (!page) {
			if (oom) {
				rc = err_set(e, MOAT_ENOMEM, "out of memory on page %d", p + 1);
				break;
			}
			pg->damaged = 1;
			continue;
		}
		if (pdfx_extract_page(&x, page, pg) < 0 || x.oom) {
			fz_drop_page(ctx, page);
			rc = err_set(e, MOAT_ENOMEM, "out of memory on page %d", p + 1);
			break;
		}
		if (!pg->damaged && pdfx_needs_ocr(o, pg)) {
			pg->ocr = 1;
			ocr_list[n_ocr_list++] = p;
		}
		fz_drop_page(ctx, page);
	}
	if (rc == 0 && n_ocr_list && (pdfx_ocr_scanned(&x, ocr_list, n_ocr_list, e) < 0 ||
				       pdfx_sort_by_page(&x) < 0)) {
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
		x.body = pdfx_body_size(&x);
		pdfx_find_headers_footers(&x);
		if (x.oom)
			rc = err_set(e, MOAT_ENOMEM, "out of memory");
		for (int p = 0; p < x.n_pages && rc == 0; p++) {
			struct page *pg = &x.pages[p];
			if (pg->ocr) {
				if (!ocr_pages)
					ocr_pages = json_array();
				if (json_array_append_new(ocr_pages, json_integer(pg->no)) < 0) {
					rc = err_set(e, MOAT_ENOMEM, "out of memory");
					break;
				}
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
				if (json_array_append_new(damaged, json_integer(pg->no)) < 0)
					rc = err_set(e, MOAT_ENOMEM, "out of memory");
				continue;
			}
			if (pdfx_layout_page(&x, pg) < 0 || x.oom)
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
	pdfx_type_blocks(&x);
	{
		size_t dropped = 0;
		for (int p = 0; p < x.n_pages; p++)
			dropped += x.pages[p].rotated_dropped;
		if (dropped && json_object_set_new(d->meta, "rotated_chars_dropped",
						   json_integer((json_int_t)dropped)) < 0)
			goto nomem;
	}
	if (ocr_pages && json_object_set_new(d->meta, "ocr_pages", json_incref(ocr_pages)) < 0)
		goto nomem;
	{
		json_t *a = NULL;
		for (int p = 0; p < x.n_pages; p++)
			if (x.pages[p].ocr_image &&
			    (!(a || (a = json_array())) ||
			     json_array_append_new(a, json_integer(x.pages[p].no)) < 0)) {
				json_decref(a);
				goto nomem;
			}
		if (a && json_object_set_new(d->meta, "ocr_image_pages", a) < 0)
			goto nomem;
	}
	if (damaged && json_object_set_new(d->meta, "damaged_pages", json_incref(damaged)) < 0)
		goto nomem;
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
	goto out;
nomem:
	rc = err_set(e, MOAT_ENOMEM, "out of memory");
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
		pdfx_page_release(&x.pages[p]);
	free(x.pages);
	ocr_free(x.ocr);
	fz_drop_document(ctx, x.doc);
	fz_drop_stream(ctx, stm);
	fz_drop_context(ctx);
	if (rc == 0)
		d->encoding = NULL;
	return rc;
}
