/*
 * normalize.c - NFKC through utf8proc one normalisation segment at a time
 * (a starter and the combining marks after it), so every output code point
 * knows its input code point; then control characters, white space,
 * hyphenation and boilerplate lines in separate passes over code points, each
 * carrying the map along.  ASCII runs take a fast path: NFKC leaves them as
 * they are.
 */
#include "normalize.h"
#include "../core/utf8.h"

#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "../core/banned.h"

void norm_init(struct norm *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->text, 0);
}

void norm_release(struct norm *r)
{
	buf_release(&r->text);
	free(r->orig);
	memset(r, 0, sizeof(*r));
}

/* A code point sequence with its origins, the unit the passes work on. */
struct cps {
	uint32_t *c;
	size_t *o;
	size_t n, alloc;
	int failed;
};

static void cps_push(struct cps *v, uint32_t c, size_t o)
{
	if (v->failed)
		return;
	if (v->n == v->alloc) {
		size_t na = v->alloc ? v->alloc * 2 : 256;
		uint32_t *nc = realloc(v->c, na * sizeof(*nc));
		size_t *no;
		if (!nc) {
			v->failed = 1;
			return;
		}
		v->c = nc;
		no = realloc(v->o, na * sizeof(*no));
		if (!no) {
			v->failed = 1;
			return;
		}
		v->o = no;
		v->alloc = na;
	}
	v->c[v->n] = c;
	v->o[v->n] = o;
	v->n++;
}

static void cps_free(struct cps *v)
{
	free(v->c);
	free(v->o);
	memset(v, 0, sizeof(*v));
}

static int is_removed_control(uint32_t c)
{
	if (c == '\t' || c == '\n')
		return 0;
	if (c < 0x20 || (c >= 0x7F && c < 0xA0))
		return 1;
	return c == 0x00AD || c == 0x200B || c == 0x2060 || c == 0xFEFF || c == 0x180E;
}

static int is_space(uint32_t c)
{
	if (c == ' ' || c == '\t')
		return 1;
	if (c < 0x80)
		return 0;
	return utf8proc_category((utf8proc_int32_t)c) == UTF8PROC_CATEGORY_ZS;
}

static int is_letter(uint32_t c)
{
	int cat;
	if (c < 0x80)
		return (c | 32) >= 'a' && (c | 32) <= 'z';
	cat = utf8proc_category((utf8proc_int32_t)c);
	return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

static int is_lower(uint32_t c)
{
	if (c < 0x80)
		return c >= 'a' && c <= 'z';
	return utf8proc_category((utf8proc_int32_t)c) == UTF8PROC_CATEGORY_LL;
}

/* Pass A: decode, CR LF, NFKC per segment, controls. */
static int pass_decode(struct cps *out, const char *in, size_t n, unsigned flags)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, cp = 0;
	while (i < n) {
		uint32_t c;
		int l;
		size_t seg_start = i, seg_cp = cp, k;
		if (s[i] < 0x80) {
			c = s[i++];
			if (c == '\r' && (flags & (NORM_CONTROLS | NORM_SPACE))) {
				if (i < n && s[i] == '\n') {
					cp++;
					continue;  /* the LF that follows stands for both */
				}
				c = '\n';
			}
			if (!((flags & NORM_CONTROLS) && is_removed_control(c)))
				cps_push(out, c, cp);
			cp++;
			continue;
		}
		l = utf8_decode(s + i, n - i, &c);
		if (l <= 0) {
			cps_push(out, 0xFFFD, cp++);
			i++;
			continue;
		}
		/* the segment: this code point and the combining marks after it */
		i += (size_t)l;
		k = 1;
		while (i < n && s[i] >= 0x80) {
			uint32_t d;
			int dl = utf8_decode(s + i, n - i, &d);
			const utf8proc_property_t *pr;
			if (dl <= 0)
				break;
			pr = utf8proc_get_property((utf8proc_int32_t)d);
			if (pr->combining_class == 0)
				break;
			i += (size_t)dl;
			k++;
		}
		cp += k;
		if (flags & NORM_NFKC) {
			utf8proc_uint8_t *mapped = NULL;
			utf8proc_ssize_t ml = utf8proc_map(s + seg_start, (utf8proc_ssize_t)(i - seg_start),
							   &mapped,
							   UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
			if (ml >= 0 && mapped) {
				size_t j = 0;
				size_t idx = 0;
				while (j < (size_t)ml) {
					uint32_t m;
					int mlen = utf8_decode(mapped + j, (size_t)ml - j, &m);
					if (mlen <= 0)
						break;
					if (!((flags & NORM_CONTROLS) && is_removed_control(m)))
						cps_push(out, m, seg_cp + (idx < k ? idx : k - 1));
					idx++;
					j += (size_t)mlen;
				}
				free(mapped);
				continue;
			}
			free(mapped);
		}
		/* no NFKC (or it failed): copy the segment */
		for (size_t j = seg_start, idx = 0; j < i; idx++) {
			uint32_t m;
			int mlen = utf8_decode(s + j, i - j, &m);
			if (mlen <= 0)
				break;
			if (!((flags & NORM_CONTROLS) && is_removed_control(m)))
				cps_push(out, m, seg_cp + idx);
			j += (size_t)mlen;
		}
	}
	return out->failed ? -1 : 0;
}

/* Pass B: white space and hyphenation. */
static int pass_space(struct cps *out, const struct cps *in, unsigned flags)
{
	size_t i = 0;
	while (i < in->n) {
		uint32_t c = in->c[i];
		if ((flags & NORM_HYPHEN) && c == '-' && out->n && is_letter(out->c[out->n - 1])) {
			/* "infor-\n  mation": drop the hyphen, the break and the indent */
			size_t j = i + 1;
			while (j < in->n && is_space(in->c[j]))
				j++;
			if (j < in->n && in->c[j] == '\n') {
				j++;
				while (j < in->n && is_space(in->c[j]))
					j++;
				if (j < in->n && is_lower(in->c[j])) {
					i = j;
					continue;
				}
			}
		}
		if (flags & NORM_SPACE) {
			if (is_space(c)) {
				size_t j = i;
				while (j < in->n && is_space(in->c[j]))
					j++;
				/* no spaces at the start or end of a line, one inside */
				if (j < in->n && in->c[j] != '\n' && out->n && out->c[out->n - 1] != '\n')
					cps_push(out, ' ', in->o[i]);
				i = j;
				continue;
			}
			if (c == '\n') {
				size_t nl = 0, j = i;
				while (j < in->n && (in->c[j] == '\n' || is_space(in->c[j]))) {
					nl += in->c[j] == '\n';
					j++;
				}
				if (out->n && j < in->n) {
					cps_push(out, '\n', in->o[i]);
					if (nl > 1)
						cps_push(out, '\n', in->o[i]);
				}
				i = j;
				continue;
			}
		}
		cps_push(out, c, in->o[i]);
		i++;
	}
	return out->failed ? -1 : 0;
}

static int emit(struct norm *r, const struct cps *v)
{
	buf_reset(&r->text);
	free(r->orig);
	r->orig = malloc((v->n + 1) * sizeof(size_t));
	r->alloc = v->n + 1;
	if (!r->orig)
		return -1;
	for (size_t i = 0; i < v->n; i++) {
		utf8_encode(&r->text, v->c[i]);
		r->orig[i] = v->o[i];
	}
	r->n_cp = v->n;
	r->orig[v->n] = r->in_cps;
	return buf_failed(&r->text) ? -1 : 0;
}

int norm_text(struct norm *r, const char *in, size_t n, unsigned flags, struct moat_err *e)
{
	struct cps a = { 0 }, b = { 0 };
	int rc;
	r->in_cps = utf8_count(in, n);
	rc = pass_decode(&a, in, n, flags);
	if (rc == 0)
		rc = pass_space(&b, &a, flags);
	if (rc == 0)
		rc = emit(r, &b);
	cps_free(&a);
	cps_free(&b);
	if (rc < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return 0;
}

uint64_t norm_line_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h ^ (h >> 29);
}

int norm_drop_lines(struct norm *r, int (*is_boiler)(const void *ctx, uint64_t h),
		    const void *ctx, size_t *removed)
{
	struct buf nt = BUF_INIT;
	size_t i = 0, cp = 0, k = 0, dropped = 0;
	const char *t = buf_str(&r->text);
	size_t n = r->text.len;
	size_t *no = malloc((r->n_cp + 1) * sizeof(size_t));
	*removed = 0;
	if (!no)
		return -1;
	while (i < n) {
		const char *nl = memchr(t + i, '\n', n - i);
		size_t le = nl ? (size_t)(nl - t) : n, lcp = utf8_count(t + i, le - i);
		int has_nl = nl != NULL;
		if (le > i && is_boiler(ctx, norm_line_hash(t + i, le - i))) {
			dropped++;
		} else {
			buf_add(&nt, t + i, le - i + (size_t)has_nl);
			for (size_t j = 0; j < lcp + (size_t)has_nl; j++)
				no[k++] = r->orig[cp + j];
		}
		cp += lcp + (size_t)has_nl;
		i = le + (size_t)has_nl;
	}
	if (!dropped || buf_failed(&nt)) {
		int failed = buf_failed(&nt);
		buf_release(&nt);
		free(no);
		return failed ? -1 : 0;
	}
	/* no blank lines left at the ends, no runs of three line breaks */
	{
		struct buf tt = BUF_INIT;
		size_t *to = malloc((k + 1) * sizeof(size_t));
		size_t m = 0, nls = 0, j = 0;
		const char *s = buf_str(&nt);
		if (!to) {
			buf_release(&nt);
			free(no);
			return -1;
		}
		for (size_t b = 0; b < nt.len; j++) {
			uint32_t c;
			int l = utf8_decode((const unsigned char *)s + b, nt.len - b, &c);
			if (l <= 0)
				l = 1;
			if (c == '\n') {
				nls++;
			} else {
				if (m && nls) {
					for (size_t q = 0; q < (nls > 2 ? 2 : nls); q++) {
						buf_addch(&tt, '\n');
						to[m++] = no[j - 1];
					}
				}
				nls = 0;
				buf_add(&tt, s + b, (size_t)l);
				to[m++] = no[j];
			}
			b += (size_t)l;
		}
		to[m] = r->in_cps;
		if (buf_failed(&tt)) {
			buf_release(&tt);
			buf_release(&nt);
			free(no);
			free(to);
			return -1;
		}
		buf_release(&r->text);
		r->text = tt;
		free(r->orig);
		r->orig = to;
		r->n_cp = m;
	}
	buf_release(&nt);
	free(no);
	*removed = dropped;
	return 0;
}

size_t norm_orig_start(const struct norm *r, size_t cp)
{
	if (cp >= r->n_cp)
		return r->in_cps;
	return r->orig[cp];
}

size_t norm_orig_end(const struct norm *r, size_t end)
{
	if (end == 0)
		return r->n_cp ? r->orig[0] : 0;
	if (end > r->n_cp)
		end = r->n_cp;
	/* one past the input code point of the last output code point, and past
	 * the whole input segment it came from */
	{
		size_t o = r->orig[end - 1] + 1;
		if (end < r->n_cp && r->orig[end] > o && r->orig[end] == r->orig[end - 1])
			o = r->orig[end];
		return o;
	}
}

json_t *norm_map_json(const struct norm *r)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < r->n_cp; i++)
		if ((i == 0 || r->orig[i] != r->orig[i - 1] + 1) &&
		    json_array_append_new(a, json_pack("[I,I]", (json_int_t)i, (json_int_t)r->orig[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}
