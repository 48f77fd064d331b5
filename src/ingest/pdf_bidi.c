/*
 * pdf_bidi.c - a span's characters in logical order: PDFs draw
 * right-to-left scripts (Hebrew, Arabic) in visual order, left to right;
 * the runs are put back the way they are read.
 *
 * Not for: finding the spans (pdf_text.c).  Uses core/utf8.h.
 */
#define _GNU_SOURCE
#include "pdf.h"
#include "../core/utf8.h"

#include <stdlib.h>

#include "../core/banned.h"

static int is_rtl(uint32_t c)
{
	return (c >= 0x0590 && c <= 0x08FF) || (c >= 0xFB1D && c <= 0xFDFF) ||
	       (c >= 0xFE70 && c <= 0xFEFF) || (c >= 0x10800 && c <= 0x10FFF) ||
	       (c >= 0x1E800 && c <= 0x1EFFF);
}

static int is_mark(uint32_t c)
{
	return (c >= 0x0300 && c <= 0x036F) || (c >= 0x0591 && c <= 0x05C7 && c != 0x05BE &&
						c != 0x05C0 && c != 0x05C3 && c != 0x05C6) ||
	       (c >= 0x0610 && c <= 0x061A) || (c >= 0x064B && c <= 0x065F) || c == 0x0670 ||
	       (c >= 0x06D6 && c <= 0x06ED) || (c >= 0x200B && c <= 0x200F);
}

static int is_digitish(uint32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 0x660 && c <= 0x669) || (c >= 0x6F0 && c <= 0x6F9);
}

static int is_strong_ltr(uint32_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= 0xC0 && c < 0x590 && c != 0xD7 && c != 0xF7 && !is_mark(c)) ||
	       (c >= 0x900 && c < 0x2000) || (c >= 0x3000 && c < 0xFB1D);
}

/* A unit: a character with its marks, or one glyph's several characters. */
struct unit {
	size_t a, b;  /* chars [a, b) of the span */
	int dir;      /* 1 ltr, -1 rtl, 2 digit, 0 neutral */
};

static void put_units(struct buf *out, const struct pch *ch, const struct unit *u, size_t i0,
		      size_t i1, int reverse)
{
	for (size_t k = 0; k < i1 - i0; k++) {
		const struct unit *v = &u[reverse ? i1 - 1 - k : i0 + k];
		for (size_t i = v->a; i < v->b; i++)
			utf8_encode(out, ch[i].c);
	}
}

/* Writes a span's characters in logical order.  Characters drawn left to
 * right are in visual order; a right-to-left run among them is reversed
 * (digits inside it keep their order), and a line that is mostly
 * right-to-left is reversed as a whole, its left-to-right runs put back. */
int pdfx_span_text(const struct pch *ch, size_t n, struct buf *out)
{
	struct unit *u;
	size_t nu = 0, rtl = 0, ltr = 0;
	int para_rtl;
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (is_rtl(ch[i].c))
			break;
		else if (i == n - 1) {
			for (size_t k = 0; k < n; k++)
				utf8_encode(out, ch[k].c);
			return 0;
		}
	u = malloc(n * sizeof(*u));
	if (!u)
		return -1;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		int dir = 0;
		while (j < n && (ch[j].zero || is_mark(ch[j].c)))
			j++;
		for (size_t k = i; k < j && !dir; k++)
			dir = is_rtl(ch[k].c) ? -1 : is_strong_ltr(ch[k].c) ? 1 : is_digitish(ch[k].c) ? 2 : 0;
		u[nu].a = i;
		u[nu].b = j;
		u[nu].dir = dir;
		rtl += dir == -1;
		ltr += dir == 1;
		/* one glyph carrying several characters: already in logical order */
		if (j - i > 2 && dir == -1)
			u[nu].dir = 1, rtl--, ltr++;
		nu++;
		i = j;
	}
	para_rtl = rtl > ltr;
	if (!para_rtl) {
		/* reverse each right-to-left run (neutrals between rtl units join it) */
		size_t i = 0;
		while (i < nu) {
			size_t j, last;
			if (u[i].dir != -1) {
				put_units(out, ch, u, i, i + 1, 0);
				i++;
				continue;
			}
			last = i;
			for (j = i + 1; j < nu && u[j].dir != 1; j++)
				if (u[j].dir == -1)
					last = j;
			/* within the run, digit groups keep their order */
			for (size_t k = last + 1; k-- > i;) {
				if (u[k].dir == 2) {
					size_t s = k;
					while (s > i && u[s - 1].dir == 2)
						s--;
					put_units(out, ch, u, s, k + 1, 0);
					k = s;
				} else {
					put_units(out, ch, u, k, k + 1, 0);
				}
			}
			i = last + 1;
		}
	} else {
		/* the whole line reversed; ltr and digit runs keep their order */
		size_t k = nu;
		while (k > 0) {
			size_t s = k - 1;
			if (u[s].dir == 1 || u[s].dir == 2) {
				size_t last = s;
				while (s > 0 && (u[s - 1].dir == 1 || u[s - 1].dir == 2 ||
						 (u[s - 1].dir == 0 && s > 1 &&
						  (u[s - 2].dir == 1 || u[s - 2].dir == 2))))
					s--;
				put_units(out, ch, u, s, last + 1, 0);
			} else {
				put_units(out, ch, u, s, s + 1, 0);
			}
			k = s;
		}
	}
	free(u);
	return 0;
}
