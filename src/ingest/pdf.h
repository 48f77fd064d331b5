/*
 * pdf.h - the PDF reader's insides, shared by its files and nothing else
 * (ingest_pdf() itself is declared in reader.h).
 *
 * The files, in the order a document goes through them:
 *   pdf.c           ingest_pdf(): MuPDF's document, the passes over its
 *                   pages, metadata, and the blocks emitted as elements
 *   pdf_text.c      a page's characters (the collecting device) into spans
 *   pdf_bidi.c      right-to-left runs put back in logical order
 *   pdf_ocr.c       which pages need OCR, read on helper processes
 *   pdf_render.c    a scanned page as pixels (its lone image, or drawn)
 *   pdf_furniture.c running headers and footers, page numbers
 *   pdf_layout.c    rows, columns (the gutter), lines and blocks of a page
 *   pdf_tables.c    ruled grids and aligned columns as tables
 *   pdf_typing.c    title, headings and their levels, captions, list depth
 *   pdf_blocks.c    the document's list of blocks
 *
 * Calls run one way: pdf.c -> pdf_text, pdf_ocr, pdf_furniture, pdf_layout,
 * pdf_typing; pdf_layout -> pdf_tables, pdf_typing; pdf_ocr -> pdf_render;
 * pdf_text -> pdf_bidi; and pdf_text, pdf_blocks below them all.
 *
 * Not for: other formats, or anything outside src/ingest.
 *
 * Uses MuPDF, Leptonica (pdf_render.c), core/ (buf, doc, utf8), docfmt.h,
 * ocr.h and sandbox.h (pdf_ocr.c).
 *
 * Ownership: a struct pdfx owns its pages (pdfx_page_release), its blocks
 * (their text and meta) and its OCR engine; ingest_pdf() frees them all.
 */
#ifndef MOAT_INGEST_PDF_H
#define MOAT_INGEST_PDF_H

#include <stddef.h>
#include <stdint.h>

#include <mupdf/fitz.h>

#include "docfmt.h"

struct Pix;
struct ocr;

/* --- page contents ---------------------------------------------------------- */

/* A character with its box (as displayed, rotated to the main direction). */
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
	int ocr_image;         /* ... from its lone image, not drawn (pdfx_render_gray) */
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

/* Appends to a growable array: &arr[n++], or NULL when out of memory (arr,
 * n and a then unchanged).  realloc is banned.h's, where the macro is used. */
#define PUSH(arr, n, a, T)                                                      \
	((n) < (a) ? &(arr)[(n)++] : ({                                         \
		size_t a_ = (a) ? (a) * 2 : 64;                                 \
		T *p_ = realloc((arr), a_ * sizeof(T));                         \
		p_ ? ((arr) = p_, (a) = a_, &(arr)[(n)++]) : (T *)NULL;         \
	}))

/* A line in reading order: some spans of one row (one column's part). */
struct line {
	size_t sp[64];
	size_t n;
	float x0, y0, x1, y1, size, base;
	int bold;
	int col;   /* -1 whole width */
};

static inline int pdfx_line_mono(struct page *pg, const struct line *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (!pg->sp[l->sp[i]].mono || pg->sp[l->sp[i]].taken == 3)
			return 0;
	return l->n > 0;
}

/* --- pdf_text.c -------------------------------------------------------------- */

/* Page p, or NULL (*oom set when for lack of memory). */
fz_page *pdfx_load_page(struct pdfx *x, int p, int *oom) __attribute__((warn_unused_result));
/* Runs the page through the collecting device into pg's characters, spans
 * and rules.  -1 when out of memory (x->oom set); a page MuPDF cannot read
 * is pg->damaged, not an error. */
int pdfx_extract_page(struct pdfx *x, fz_page *page, struct page *pg)
	__attribute__((warn_unused_result));
void pdfx_page_release(struct page *pg);
/* qsort_r order of span indices (arg: the page): by baseline, then x. */
int pdfx_cmp_span_y(const void *a, const void *b, void *arg);

/* --- pdf_bidi.c -------------------------------------------------------------- */

/* Appends n characters of a span to out in logical order.  -1 when out of
 * memory (besides out's own sticky error). */
int pdfx_span_text(const struct pch *ch, size_t n, struct buf *out)
	__attribute__((warn_unused_result));

/* --- pdf_blocks.c ------------------------------------------------------------ */

/* A new block at the end of x's list; NULL (x->oom set) when out of memory. */
struct blk *pdfx_new_blk(struct pdfx *x, int page, enum element_type type)
	__attribute__((warn_unused_result));
/* Grows b's box to hold the given one. */
void pdfx_blk_box(struct blk *b, float x0, float y0, float x1, float y1);
/* Puts blocks in page order, keeping the order within each page.  0 or -1. */
int pdfx_sort_by_page(struct pdfx *x) __attribute__((warn_unused_result));

/* --- pdf_ocr.c --------------------------------------------------------------- */

/* 1 when the page is read by OCR (o->ocr, or no usable text layer). */
int pdfx_needs_ocr(const struct ingest_opts *o, const struct page *pg);
/* Reads pages[0..n) (0-based) by OCR into x's blocks, in no particular
 * order (pdfx_sort_by_page puts them in place).  0 or -1. */
int pdfx_ocr_scanned(struct pdfx *x, const int *pages, size_t n, struct moat_err *e)
	__attribute__((warn_unused_result));

/* --- pdf_render.c ------------------------------------------------------------ */

/* The page in gray at dpi (less for a huge page), as Leptonica's image with
 * that resolution; NULL when it cannot be made.  *lone tells whether it is
 * the page's single image rather than the page drawn. */
struct Pix *pdfx_render_gray(fz_context *ctx, fz_page *page, int dpi, int *lone)
	__attribute__((warn_unused_result));

/* --- pdf_furniture.c ------------------------------------------------------- */

/* Gives every page's header and footer spans their role (1, 2); x->oom set
 * when out of memory. */
void pdfx_find_headers_footers(struct pdfx *x);

/* --- pdf_layout.c ------------------------------------------------------------ */

/* The page's blocks, in reading order, appended to x's.  0 or -1 (out of
 * memory). */
int pdfx_layout_page(struct pdfx *x, struct page *pg) __attribute__((warn_unused_result));

/* --- pdf_tables.c ------------------------------------------------------------ */

/* The page's ruled grids as tables waiting in pg->tabs, each with a stand-in
 * span in the flow.  0 or -1 (out of memory). */
int pdfx_ruled_tables(struct pdfx *x, struct page *pg) __attribute__((warn_unused_result));
/* How many lines from ls[0] form an aligned table (0 if none). */
size_t pdfx_table_run(struct page *pg, struct line *ls, size_t n);
/* Emits lines ls[0..n) as a table block, cells from their column slots:
 * 1 done, 0 not a table after all, -1 out of memory. */
int pdfx_emit_aligned_table(struct pdfx *x, struct page *pg, struct line *ls, size_t n)
	__attribute__((warn_unused_result));

/* --- pdf_typing.c ------------------------------------------------------------ */

/* 1 when a block's text starts like a caption ("Figure 3:", "Table 1."). */
int pdfx_is_caption(const char *s, size_t n);
/* The most common text size over all spans (half points), 10 when none. */
float pdfx_body_size(struct pdfx *x);
/* Titles, headings with levels, captions and list depths over x's blocks. */
void pdfx_type_blocks(struct pdfx *x);

#endif
