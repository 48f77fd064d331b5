/*
 * render.c - the cleaned text: the normalised text with each finding's
 * replacement put in, and every element's span moved by what the
 * replacements before it added or removed.  Runs when a document is cleaned
 * and again when a review accepts or rejects findings.
 *
 * Not for: choosing replacements (pii_ops.c) or storing the result.
 */
#include "stage_int.h"
#include "../core/utf8.h"

#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

/* The byte length of the code point at p (a lead byte and its continuation
 * bytes, within n). */
static size_t cp_len(const char *p, size_t n)
{
	size_t l = 1;
	while (l < n && ((unsigned char)p[l] & 0xC0) == 0x80)
		l++;
	return l;
}

int clean_render(const char *norm, size_t nlen, const struct clean_repl *r, size_t nr,
		 struct buf *out, size_t *out_cps, const size_t *ns, const size_t *ne, size_t n_el,
		 size_t *fs, size_t *fe)
{
	size_t pos = 0, cp = 0, ocp = 0;
	long long *delta_at = calloc(nr + 1, sizeof(long long));
	size_t *end_at = calloc(nr + 1, sizeof(size_t));
	long long delta = 0;
	if (!delta_at || !end_at) {
		free(delta_at);
		free(end_at);
		return -1;
	}
	buf_reset(out);
	/* about the input's size: replacements are seldom much longer */
	if (buf_reserve(out, nlen + nlen / 8) < 0) {
		free(delta_at);
		free(end_at);
		return -1;
	}
	for (size_t i = 0; i < nr; i++) {
		size_t rs, re;
		if (r[i].start < cp || r[i].end < r[i].start)
			continue;
		/* copy up to the start */
		while (cp < r[i].start && pos < nlen) {
			size_t l = cp_len(norm + pos, nlen - pos);
			buf_add(out, norm + pos, l);
			pos += l;
			cp++;
			ocp++;
		}
		rs = pos;
		while (cp < r[i].end && pos < nlen) {
			pos += cp_len(norm + pos, nlen - pos);
			cp++;
		}
		re = pos;
		if (r[i].replacement) {
			size_t rl = strlen(r[i].replacement), rc = utf8_count(r[i].replacement, rl);
			buf_add(out, r[i].replacement, rl);
			ocp += rc;
			delta += (long long)rc - (long long)(r[i].end - r[i].start);
		} else {
			buf_add(out, norm + rs, re - rs);
			ocp += r[i].end - r[i].start;
		}
		end_at[i] = r[i].end;
		delta_at[i] = delta;
	}
	buf_add(out, norm + pos, nlen - pos);
	ocp += utf8_count(norm + pos, nlen - pos);
	*out_cps = ocp;
	for (size_t k = 0; k < n_el; k++) {
		long long ds = 0, de = 0;
		for (size_t i = 0; i < nr; i++) {
			if (!end_at[i] && !delta_at[i])
				continue;
			if (end_at[i] <= ns[k])
				ds = delta_at[i];
			if (end_at[i] <= ne[k])
				de = delta_at[i];
		}
		fs[k] = (size_t)((long long)ns[k] + ds);
		fe[k] = (size_t)((long long)ne[k] + de);
	}
	free(delta_at);
	free(end_at);
	return buf_failed(out) ? -1 : 0;
}
