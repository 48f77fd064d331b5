/*
 * pdf_tables.c - tables on a page: a ruled grid (two or more vertical and
 * horizontal rules that touch) gives the cells exactly and takes its spans
 * out of the flow, a stand-in span keeping its place; otherwise consecutive
 * lines of several spans whose columns line up (gaps in the projection onto
 * the x axis) make a table.  Each becomes a table block, its rows in meta.
 *
 * Not for: the lines themselves (pdf_layout.c).
 */
#define _GNU_SOURCE
#include "pdf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

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
int pdfx_emit_aligned_table(struct pdfx *x, struct page *pg, struct line *ls, size_t n)
{
	float edges[128][2];
	size_t ne = col_slots(pg, ls, n, channel(ls, n), edges);
	struct blk *b;
	json_t *rows;
	int oom = 0;
	if (ne < 2)
		return 0;
	b = pdfx_new_blk(x, pg->no, EL_TABLE);
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
			if (buf_failed(&cell) ||
			    json_array_append_new(row, json_stringn(buf_str(&cell), cell.len)) < 0)
				oom = 1;
		}
		buf_release(&cell);
		if (json_array_append_new(rows, row) < 0)
			oom = 1;
		pdfx_blk_box(b, ls[i].x0, ls[i].y0, ls[i].x1, ls[i].y1);
	}
	table_text(rows, &b->text);
	b->meta = json_pack("{s:o, s:i, s:i, s:b}", "rows", rows, "n_rows", (int)n, "n_cols",
			    (int)ne, "ruled", 0);
	b->nlines = (int)n;
	if (oom || !b->meta) {
		x->oom = 1;
		return -1;
	}
	return 1;
}

/* How many lines from ls[0] form an aligned table (0 if none). */
size_t pdfx_table_run(struct page *pg, struct line *ls, size_t n)
{
	size_t i = 0, multi = 0, singles = 0;
	(void)pg;
	while (i < n) {
		if ((ls[i].n == 1 && pg->sp[ls[i].sp[0]].taken == 3) || pdfx_line_mono(pg, &ls[i]))
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

static struct blk *new_tab(struct page *pg);

static void release_cells(struct buf *cells, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_release(&cells[i]);
	free(cells);
}

/* A ruled grid: rules that touch each other, two or more each way. */
int pdfx_ruled_tables(struct pdfx *x, struct page *pg)
{
	size_t n = pg->n_ru;
	int *grp, *up;
	int ngrp = 0, oom = 0;
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
				qsort_r(idx, m, sizeof(*idx), pdfx_cmp_span_y, pg);
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
				for (size_t i = 0; i < R * C; i++)
					if (buf_failed(&cells[i])) {
						release_cells(cells, R * C);
						free(grp);
						return -1;
					}
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
					release_cells(cells, R * C);
					continue;
				}
			}
			for (size_t i = 0; i < pg->n_sp; i++)
				if (pg->sp[i].taken == 4)
					pg->sp[i].taken = 1;
			b = new_tab(pg);
			if (!b) {
				release_cells(cells, R * C);
				free(grp);
				return -1;
			}
			rows = json_array();
			for (size_t r = 0; r < R && !oom; r++) {
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
					if (json_array_append_new(row, json_stringn(buf_str(cb), cb->len)) < 0)
						oom = 1;
				}
				if (json_array_append_new(rows, row) < 0)
					oom = 1;
			}
			release_cells(cells, R * C);
			pdfx_blk_box(b, xs[0], ys[0], xs[nx - 1], ys[ny - 1]);
			table_text(rows, &b->text);
			b->meta = json_pack("{s:o, s:i, s:i, s:b}", "rows", rows, "n_rows",
					    (int)json_array_size(rows), "n_cols", (int)C, "ruled", 1);
			b->nlines = (int)json_array_size(rows);
			if (oom || !b->meta || buf_failed(&b->text)) {
				free(grp);
				return -1;
			}
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
