/*
 * pdf_ocr.c - the scanned pages of a PDF: which pages need OCR, and reading
 * them (pdf_render.c draws, ocr.c reads), spread over helper processes
 * (sandbox.h) when the parser is itself sandboxed and -j is above 1.
 *
 * Not for: the OCR engine (ocr.c).
 */
#define _GNU_SOURCE
#include "pdf.h"
#include "ocr.h"
#include "ocrlib.h"
#include "sandbox.h"

#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

int pdfx_needs_ocr(const struct ingest_opts *o, const struct page *pg)
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
		fz_page *page = pdfx_load_page(x, t->pages[i], &oom);
		struct Pix *pix;
		size_t words = 0;
		if (!page)
			return err_set(e, oom ? MOAT_ENOMEM : MOAT_EPARSE, "cannot load page %d for OCR", no);
		if (!x->ocr && !(x->ocr = ocr_new(x->o, e))) {
			fz_drop_page(x->ctx, page);
			return -1;
		}
		pix = pdfx_render_gray(x->ctx, page, dpi, &lone);
		fz_drop_page(x->ctx, page);
		if (!pix)
			return err_set(e, MOAT_ENOMEM, "cannot render page %d for OCR", no);
		if (lone) {
			json_t *a = json_object_get(d->meta, "image_pages");
			if (!a)
				json_object_set_new(d->meta, "image_pages", a = json_array());
			if (json_array_append_new(a, json_integer(no)) < 0) {
				ocrlib->pixDestroy(&pix);
				return err_set(e, MOAT_ENOMEM, "out of memory");
			}
		}
		rc = ocr_page(x->ocr, pix, no, dpi, 72.0 / ocrlib->pixGetXRes(pix), d, &words, e);
		ocrlib->pixDestroy(&pix);
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
		struct blk *b = pdfx_new_blk(x, el->page, el->type);
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
int pdfx_ocr_scanned(struct pdfx *x, const int *pages, size_t n, struct moat_err *e)
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
	/* Tesseract loaded before the OCR helpers below are forked, so that
	 * they inherit it (nothing to do where the sandbox's helper loaded it:
	 * after the first PDF that needed OCR) */
	if (ocr_load(e) < 0)
		return -1;
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
			if (doc_init(&t, lim) < 0 && rc == 0)
				rc = err_set(e, MOAT_ENOMEM, "out of memory");
			/* finished even then: the child is reaped */
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
			rc = doc_init(&t, lim) < 0 ? err_set(e, MOAT_ENOMEM, "out of memory")
						    : ocr_pages_into(&tasks[k], &t, e);
			if (rc == 0 && blocks_from(x, &t) < 0)
				rc = err_set(e, MOAT_ENOMEM, "out of memory");
			doc_release(&t);
		}
		return rc;
	}
	{
		struct ocr_task t1 = { x, pages, n, 0, 1 };
		struct doc t;
		rc = doc_init(&t, lim) < 0 ? err_set(e, MOAT_ENOMEM, "out of memory")
					    : ocr_pages_into(&t1, &t, e);
		if (rc == 0 && blocks_from(x, &t) < 0)
			rc = err_set(e, MOAT_ENOMEM, "out of memory");
		doc_release(&t);
	}
	return rc;
}
