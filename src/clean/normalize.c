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

static void map_free(struct norm_map *m);

void norm_init(struct norm *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->text, 0);
}

void norm_release(struct norm *r)
{
	buf_release(&r->text);
	map_free(&r->map);
	memset(r, 0, sizeof(*r));
}

/* --- the map ----------------------------------------------------------- */

/* Output code point i comes from input code point o (i one more than the
 * last call's). */
static void map_add(struct norm_map *m, size_t i, size_t o)
{
	if (m->failed)
		return;
	if (m->n && m->v[m->n - 1].orig + (i - m->v[m->n - 1].clean) == o)
		return;
	if (MOAT_GROW(m->v, m->alloc, m->n + 1) < 0) {
		m->failed = 1;
		return;
	}
	m->v[m->n].clean = i;
	m->v[m->n].orig = o;
	m->n++;
}

static void map_free(struct norm_map *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* A reader of a map at positions that never go back. */
struct map_cursor {
	const struct norm_map *m;
	size_t k;
};

static size_t map_next(struct map_cursor *c, size_t i)
{
	const struct norm_map *m = c->m;
	if (!m->n)
		return i;
	while (c->k + 1 < m->n && m->v[c->k + 1].clean <= i)
		c->k++;
	return m->v[c->k].orig + (i - m->v[c->k].clean);
}

/* The same at any position (a binary search). */
static size_t map_at(const struct norm_map *m, size_t i)
{
	size_t lo = 0, hi = m->n;
	if (!m->n)
		return i;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->v[mid].clean <= i)
			lo = mid;
		else
			hi = mid;
	}
	return m->v[lo].orig + (i - m->v[lo].clean);
}

/* Appends code point c, from input code point o, to r. */
static void put(struct norm *r, uint32_t c, size_t o)
{
	utf8_encode(&r->text, c);
	map_add(&r->map, r->n_cp, o);
	r->n_cp++;
	r->last = c;
}

/* --- the passes ------------------------------------------------------------ */

/* The code points between the passes (4 bytes each) with their origins as a
 * map: the passes never hold more than this and the output. */
struct cps {
	uint32_t *c;
	size_t n, alloc;
	struct norm_map o;
	int failed;
};

static void cps_push(struct cps *v, uint32_t c, size_t o)
{
	if (v->failed)
		return;
	if (v->n == v->alloc) {
		/* one and a half times: NFKC rarely grows text much */
		size_t na = v->alloc ? v->alloc + v->alloc / 2 : 256;
		uint32_t *nc = realloc(v->c, na * sizeof(*nc));
		if (!nc) {
			v->failed = 1;
			return;
		}
		v->c = nc;
		v->alloc = na;
	}
	v->c[v->n] = c;
	map_add(&v->o, v->n, o);
	v->n++;
	v->failed = v->o.failed;
}

static void cps_free(struct cps *v)
{
	free(v->c);
	map_free(&v->o);
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

/* Pass A: decode, CR LF, NFKC per segment, controls.  The input's first code
 * point is input code point *cp, which ends past its last. */
static int pass_decode(struct cps *out, const char *in, size_t n, unsigned flags, size_t *cpp)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, cp = *cpp;
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
	*cpp = cp;
	return out->failed ? -1 : 0;
}

/* Pass B: white space and hyphenation, straight into r. */
static int pass_space(struct norm *r, const struct cps *in, unsigned flags)
{
	struct map_cursor o = { &in->o, 0 };
	size_t i = 0;
	while (i < in->n) {
		uint32_t c = in->c[i];
		if ((flags & NORM_HYPHEN) && c == '-' && r->n_cp && is_letter(r->last)) {
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
				if (j < in->n && in->c[j] != '\n' && r->n_cp && r->last != '\n')
					put(r, ' ', map_next(&o, i));
				i = j;
				continue;
			}
			if (c == '\n') {
				size_t nl = 0, j = i;
				while (j < in->n && (in->c[j] == '\n' || is_space(in->c[j]))) {
					nl += in->c[j] == '\n';
					j++;
				}
				if (r->n_cp && j < in->n) {
					size_t at = map_next(&o, i);
					put(r, '\n', at);
					if (nl > 1)
						put(r, '\n', at);
				}
				i = j;
				continue;
			}
		}
		put(r, c, map_next(&o, i));
		i++;
	}
	return buf_failed(&r->text) || r->map.failed ? -1 : 0;
}

/* The passes take the input a window at a time, so a long element costs its
 * output and one window of code points, not four bytes a character.  A window
 * ends where nothing a pass does can reach across: between two ASCII letters
 * or two CJK ideographs (starters that NFKC never composes, neither space,
 * line break nor hyphen).  Text with no such place is one window. */
static size_t norm_window = (size_t)1 << 20;

void norm_set_window(size_t bytes)
{
	norm_window = bytes ? bytes : (size_t)1 << 20;
}

static int is_ascii_letter(unsigned char b)
{
	return (b | 32) >= 'a' && (b | 32) <= 'z';
}

/* The first byte of U+4000..U+9FFF (CJK ideographs, Yijing hexagrams). */
static int is_cjk_lead(unsigned char b)
{
	return b >= 0xE4 && b <= 0xE9;
}

static size_t window_end(const unsigned char *s, size_t n, size_t from)
{
	for (size_t p = from; p < n; p++) {
		if (is_ascii_letter(s[p - 1]) && is_ascii_letter(s[p]))
			return p;
		if (p >= 3 && is_cjk_lead(s[p]) && is_cjk_lead(s[p - 3]) && (s[p - 2] & 0xC0) == 0x80 &&
		    (s[p - 1] & 0xC0) == 0x80)
			return p;
	}
	return n;
}

int norm_text(struct norm *r, const char *in, size_t n, unsigned flags, struct moat_err *e)
{
	const unsigned char *s = (const unsigned char *)in;
	struct cps a = { 0 };
	size_t start = 0, cp = 0;
	int rc = 0;
	buf_reset(&r->text);
	map_free(&r->map);
	r->n_cp = 0;
	r->last = 0;
	r->in_cps = utf8_count(in, n);
	if (buf_reserve(&r->text, n) < 0)
		rc = -1;
	while (rc == 0 && start < n) {
		size_t end = n - start > norm_window ? window_end(s, n, start + norm_window) : n;
		a.n = 0;
		a.o.n = 0;
		rc = pass_decode(&a, in + start, end - start, flags, &cp);
		if (rc == 0)
			rc = pass_space(r, &a, flags);
		start = end;
	}
	cps_free(&a);
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
	struct norm kept, out;
	struct map_cursor cur = { &r->map, 0 };
	size_t i = 0, cp = 0, dropped = 0;
	const char *t = buf_str(&r->text);
	size_t n = r->text.len;
	*removed = 0;
	norm_init(&kept);
	while (i < n) {
		const char *nl = memchr(t + i, '\n', n - i);
		size_t le = nl ? (size_t)(nl - t) : n, lcp = utf8_count(t + i, le - i);
		size_t has_nl = nl != NULL;
		if (le > i && is_boiler(ctx, norm_line_hash(t + i, le - i))) {
			dropped++;
		} else {
			buf_add(&kept.text, t + i, le - i + has_nl);
			for (size_t j = 0; j < lcp + has_nl; j++)
				map_add(&kept.map, kept.n_cp++, map_next(&cur, cp + j));
		}
		cp += lcp + has_nl;
		i = le + has_nl;
	}
	if (!dropped || buf_failed(&kept.text) || kept.map.failed) {
		int failed = buf_failed(&kept.text) || kept.map.failed;
		norm_release(&kept);
		return failed ? -1 : 0;
	}
	/* no blank lines left at the ends, no runs of three line breaks */
	norm_init(&out);
	cur.m = &kept.map;
	cur.k = 0;
	{
		const char *s = buf_str(&kept.text);
		size_t nls = 0, j = 0;
		for (size_t b = 0; b < kept.text.len; j++) {
			uint32_t c;
			int l = utf8_decode((const unsigned char *)s + b, kept.text.len - b, &c);
			if (l <= 0)
				l = 1;
			if (c == '\n') {
				nls++;
			} else {
				if (out.n_cp && nls) {
					size_t at = map_next(&cur, j - 1);
					for (size_t q = 0; q < (nls > 2 ? 2 : nls); q++)
						put(&out, '\n', at);
				}
				nls = 0;
				buf_add(&out.text, s + b, (size_t)l);
				map_add(&out.map, out.n_cp++, map_next(&cur, j));
			}
			b += (size_t)l;
		}
	}
	norm_release(&kept);
	if (buf_failed(&out.text) || out.map.failed) {
		norm_release(&out);
		return -1;
	}
	out.in_cps = r->in_cps;
	norm_release(r);
	*r = out;
	*removed = dropped;
	return 0;
}

size_t norm_orig_start(const struct norm *r, size_t cp)
{
	if (cp >= r->n_cp)
		return r->in_cps;
	return map_at(&r->map, cp);
}

size_t norm_orig_end(const struct norm *r, size_t end)
{
	if (end == 0)
		return r->n_cp ? map_at(&r->map, 0) : 0;
	if (end > r->n_cp)
		end = r->n_cp;
	/* one past the input code point of the last output code point */
	return map_at(&r->map, end - 1) + 1;
}

json_t *norm_map_json(const struct norm *r)
{
	json_t *a = json_array();
	for (size_t k = 0; a && k < r->map.n; k++)
		if (json_array_append_new(a, json_pack("[I,I]", (json_int_t)r->map.v[k].clean,
							(json_int_t)r->map.v[k].orig))) {
			json_decref(a);
			return NULL;
		}
	return a;
}
