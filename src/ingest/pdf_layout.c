/*
 * pdf_layout.c - one page's reading order and blocks: spans into rows, a
 * gutter splitting bands of rows into two columns read one after the other,
 * rows into lines, and lines into blocks (paragraphs, list items, code),
 * with the page's headers first and footers last.  Lines that line up as a
 * table go to pdf_tables.c.
 *
 * Not for: document-wide decisions (pdf_furniture.c before, pdf_typing.c
 * after).
 */
#define _GNU_SOURCE
#include "pdf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

struct row {
	size_t *sp;    /* span indices, left to right */
	size_t n;
	float y0, y1, base, size;
};

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

static int line_bold(struct page *pg, const struct line *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (!pg->sp[l->sp[i]].bold)
			return 0;
	return 1;
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
	if (!start && pdfx_is_caption(buf_str(&t), t.len))
		start = 1;
	if (start) {
		b = pdfx_new_blk(x, pg->no, list ? EL_LIST_ITEM : EL_PARAGRAPH);
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
	pdfx_blk_box(b, l->x0, l->y0, l->x1, l->y1);
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
			struct blk *b = pdfx_new_blk(x, pg->no, EL_TABLE);
			if (!b)
				return -1;
			*b = pg->tabs[k];
			memset(&pg->tabs[k], 0, sizeof(pg->tabs[k]));
			ps->cur = NULL;
			i++;
			continue;
		}
		if (pdfx_line_mono(pg, &ls[i])) {
			/* fixed-pitch lines are code: one block, its lines kept */
			struct blk *b = ps->cur;
			if (!b || b->type != EL_CODE || b->page != pg->no ||
			    ls[i].base - ps->last_base > 2.5f * ls[i].size || ls[i].base < ps->last_base) {
				b = pdfx_new_blk(x, pg->no, EL_CODE);
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
			line_text(pg, &ls[i], &b->text);
			pdfx_blk_box(b, ls[i].x0, ls[i].y0, ls[i].x1, ls[i].y1);
			b->nlines++;
			ps->last_base = ls[i].base;
			ps->last_x0 = ls[i].x0;
			ps->last_x1 = ls[i].x1;
			i++;
			continue;
		}
		t = pdfx_table_run(pg, ls + i, n - i);
		if (t) {
			int r = pdfx_emit_aligned_table(x, pg, ls + i, t);
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

int pdfx_layout_page(struct pdfx *x, struct page *pg)
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
		b = pdfx_new_blk(x, pg->no, EL_HEADER);
		if (!b)
			return -1;
		buf_add(&b->text, s->text, s->tlen);
		pdfx_blk_box(b, s->x0, s->y0, s->x1, s->y1);
		b->size = s->size;
	}
	if (pdfx_ruled_tables(x, pg) < 0)
		return -1;
	idx = malloc((pg->n_sp ? pg->n_sp : 1) * sizeof(*idx));
	if (!idx)
		return -1;
	for (size_t i = 0; i < pg->n_sp; i++)
		if (!pg->sp[i].role && pg->sp[i].taken != 1)
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), pdfx_cmp_span_y, pg);
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
		b = pdfx_new_blk(x, pg->no, EL_FOOTER);
		if (!b) {
			rc = -1;
			break;
		}
		buf_add(&b->text, s->text, s->tlen);
		pdfx_blk_box(b, s->x0, s->y0, s->x1, s->y1);
		b->size = s->size;
	}
	free(ls);
	free(rows);
	free(idx);
	return rc;
}
