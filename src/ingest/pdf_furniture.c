/*
 * pdf_furniture.c - running headers and footers: spans in the top or bottom
 * of the page whose text (digits aside) comes back on many pages, a lone page
 * number, and what shares their row.  They get role 1 (header) or 2
 * (footer) and stay out of the body's reading order.
 *
 * Not for: emitting them (pdf_layout.c puts headers first and footers last).
 */
#define _GNU_SOURCE
#include "pdf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

static void norm_key(const char *s, size_t n, char *out, size_t size)
{
	size_t j = 0;
	int sp = 0;
	for (size_t i = 0; i < n && j + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ' || c == '\t') {
			sp = 1;
			continue;
		}
		if (sp && j)
			out[j++] = ' ';
		sp = 0;
		if (j + 1 >= size)
			break;
		out[j++] = c >= '0' && c <= '9' ? '#' : (c >= 'A' && c <= 'Z' ? (char)(c + 32) : (char)c);
	}
	out[j] = '\0';
}

static int is_page_number(const char *k)
{
	/* k is normalised: digits are '#', lowercase */
	static const char *const pats[] = { "#", "##", "###", "####", "page #", "page ##",
					    "page ###", "# of #", "## of ##", "# / #", "- # -",
					    "– # –", "page # of #", "page ## of ##", "[#]" };
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
		if (!strcmp(k, pats[i]))
			return 1;
	if (*k && strspn(k, "ivxlc") == strlen(k) && strlen(k) <= 6)
		return 1;
	return 0;
}

/* A lone page number: nothing on the page lies beyond s (above it for the
 * top, below it for the bottom), it sits in the outer quarter of the page,
 * and a gap of at least one and a half lines parts it from the text. */
static int outermost(const struct page *pg, const struct span *s, int zone)
{
	float gap = 1e9f;
	if (zone == 1 ? s->y1 > pg->h * 0.25f : s->y0 < pg->h * 0.75f)
		return 0;
	for (size_t i = 0; i < pg->n_sp; i++) {
		const struct span *t = &pg->sp[i];
		if (t == s || t->role == zone || fabsf(t->base - s->base) < 2)
			continue;
		if (zone == 1 ? t->y1 < s->y0 + 0.5f : t->y0 > s->y1 - 0.5f)
			return 0;
		gap = fminf(gap, zone == 1 ? t->y0 - s->y1 : s->y0 - t->y1);
	}
	return gap >= 1.5f * s->size;
}

#define HF_KEY 96  /* a normalised key's room, NUL included */

struct hf_key {
	char key[HF_KEY];
	int zone;     /* 1 top, 2 bottom */
	int pages;
	int last_page;
};

/* The keys of the top and bottom zones, hashed (a long document has many). */
struct hf_tab {
	struct hf_key *slot;  /* key[0] == '\0' && !zone: empty */
	size_t cap, n;
};

static uint64_t hf_hash(int zone, const char *k)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)zone;
	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211ull;
	return h;
}

/* The entry for (zone, k), added when create; NULL when absent or out of memory. */
static struct hf_key *hf_find(struct hf_tab *t, int zone, const char *k, int create)
{
	size_t i;
	if (create && (t->n + 1) * 2 > t->cap) {
		struct hf_tab g = { NULL, t->cap ? t->cap * 2 : 64, 0 };
		g.slot = calloc(g.cap, sizeof(*g.slot));
		if (!g.slot)
			return NULL;
		for (size_t j = 0; j < t->cap; j++)
			if (t->slot[j].zone) {
				size_t q = hf_hash(t->slot[j].zone, t->slot[j].key) & (g.cap - 1);
				while (g.slot[q].zone)
					q = (q + 1) & (g.cap - 1);
				g.slot[q] = t->slot[j];
				g.n++;
			}
		free(t->slot);
		*t = g;
	}
	if (!t->cap)
		return NULL;
	for (i = hf_hash(zone, k) & (t->cap - 1); t->slot[i].zone; i = (i + 1) & (t->cap - 1))
		if (t->slot[i].zone == zone && !strcmp(t->slot[i].key, k))
			return &t->slot[i];
	if (!create)
		return NULL;
	memset(&t->slot[i], 0, sizeof(t->slot[i]));
	memcpy(t->slot[i].key, k, strlen(k) + 1);  /* k: norm_key's, under HF_KEY */
	t->slot[i].zone = zone;
	t->slot[i].last_page = -1;
	t->n++;
	return &t->slot[i];
}

void pdfx_find_headers_footers(struct pdfx *x)
{
	struct hf_tab tab = { NULL, 0, 0 };
	int text_pages = 0;
	for (int p = 0; p < x->n_pages; p++)
		text_pages += x->pages[p].n_sp > 0 && !x->pages[p].ocr;
	for (int pass = 0; pass < 2; pass++) {
		for (int p = 0; p < x->n_pages; p++) {
			struct page *pg = &x->pages[p];
			if (pg->ocr)
				continue;
			for (size_t i = 0; i < pg->n_sp; i++) {
				struct span *s = &pg->sp[i];
				char k[HF_KEY];
				int zone = s->y1 <= pg->h * 0.14f ? 1 : s->y0 >= pg->h * 0.86f ? 2 : 0;
				if (!zone && pass == 1) {
					/* not repeated text, but perhaps a lone page number */
					norm_key(s->text, s->tlen, k, sizeof(k));
					if (is_page_number(k))
						s->role = outermost(pg, s, 2) ? 2 : outermost(pg, s, 1) ? 1 : 0;
					continue;
				}
				if (!zone)
					continue;
				norm_key(s->text, s->tlen, k, sizeof(k));
				if (pass == 0) {
					struct hf_key *h = hf_find(&tab, zone, k, 1);
					if (!h) {
						x->oom = 1;
						free(tab.slot);
						return;
					}
					if (h->last_page != p) {
						h->pages++;
						h->last_page = p;
					}
				} else {
					struct hf_key *h = hf_find(&tab, zone, k, 0);
					int need = text_pages * 2 / 5;
					int rep = h && text_pages >= 2 && h->pages >= (need > 2 ? need : 2);
					if (rep || (is_page_number(k) && outermost(pg, s, zone)))
						s->role = zone;
				}
			}
		}
	}
	free(tab.slot);
	/* a running title beside a page number shares its row, and its role */
	for (int p = 0; p < x->n_pages; p++) {
		struct page *pg = &x->pages[p];
		for (size_t i = 0; i < pg->n_sp; i++) {
			struct span *s = &pg->sp[i];
			if (!s->role)
				continue;
			for (size_t k = 0; k < pg->n_sp; k++) {
				struct span *t = &pg->sp[k];
				if (!t->role && fabsf(t->base - s->base) < 2 &&
				    (s->role == 1 ? t->y1 <= pg->h * 0.14f : t->y0 >= pg->h * 0.86f))
					t->role = s->role;
			}
		}
	}
}
