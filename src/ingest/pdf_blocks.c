/*
 * pdf_blocks.c - the document's blocks (struct blk, pdf.h): adding one,
 * growing its box, and putting them in page order.  Layout, tables and OCR
 * add them; typing and emitting (pdf.c) read them.
 *
 * Not for: deciding what a block is (pdf_layout.c, pdf_typing.c).
 */
#define _GNU_SOURCE
#include "pdf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

struct blk *pdfx_new_blk(struct pdfx *x, int page, enum element_type type)
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

void pdfx_blk_box(struct blk *b, float x0, float y0, float x1, float y1)
{
	b->x0 = fminf(b->x0, x0);
	b->y0 = fminf(b->y0, y0);
	b->x1 = fmaxf(b->x1, x1);
	b->y1 = fmaxf(b->y1, y1);
}

/* Puts blocks in page order, keeping the order within each page. */
int pdfx_sort_by_page(struct pdfx *x)
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
