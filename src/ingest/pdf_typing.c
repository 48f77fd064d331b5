/*
 * pdf_typing.c - element types across the document: the body text size,
 * then title (largest type on page 1), heading (larger or bold short block;
 * level from the ranking of heading sizes, or from its numbering "2.1"),
 * caption ("Figure 3:", "Table 1."), and list depth by indentation.
 *
 * Not for: a page's blocks (pdf_layout.c).
 */
#define _GNU_SOURCE
#include "pdf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

int pdfx_is_caption(const char *s, size_t n)
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

float pdfx_body_size(struct pdfx *x)
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

void pdfx_type_blocks(struct pdfx *x)
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
		if (pdfx_is_caption(t, n)) {
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
