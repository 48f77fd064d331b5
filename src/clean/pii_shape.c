/*
 * pii_shape.c - the digit-bearing identifiers found through the shape of the
 * text around their digits (pii_shape.h).
 *
 * On text dense in numbers most of Hyperscan's time went to the triggers of
 * cards, phone numbers, SSNs, numeric dates and national numbers: some sixty
 * automata without a literal to wait for, each run over every byte.  What
 * they match depends on little more than the shape of the text near digits,
 * which repeats: a phone number, a date or an SSN has one of a few shapes
 * however its digits go.  So their expressions are rewritten over shapes, and
 * the text is cut into clusters of digits (at most PII_SHAPE_GAP non-digits
 * between two digits).  A cluster's region runs from PII_SHAPE_LEAD + 1 bytes
 * before its first digit to PII_SHAPE_TRAIL + 1 after its last; every match
 * of a flagged expression lies in one region, with the byte before and the
 * byte after it, so \b sees there what it sees in the text.  The shape
 * database runs over a region's shape when that shape is not in the memo,
 * and its hits, kept by shape, are replayed at each region of that shape.
 * A region's edge can only add a hit (a \b the text would not have); every
 * hit is confirmed by PCRE2 on the text itself.
 *
 * Not for: deciding what is a finding (pii_scan.c confirms each hit).
 */
#define _GNU_SOURCE
#include "pii_shape.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/hash.h"

#include "../core/banned.h"

static unsigned char shape_byte(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return '0';
	if (c >= 'A' && c <= 'Z')
		return 'A';
	if (c >= 'a' && c <= 'z')
		return 'a';
	return c;
}

/* --- the rewrite ------------------------------------------------------------ */

struct byteset {
	uint64_t w[4];
};

static void set_add(struct byteset *s, unsigned c)
{
	s->w[c >> 6] |= 1ULL << (c & 63);
}

static void set_range(struct byteset *s, unsigned lo, unsigned hi)
{
	for (unsigned c = lo; c <= hi; c++)
		set_add(s, c);
}

/* \d \w \s and their complements, in or out of a class; 0 for another
 * letter */
static int set_escape(struct byteset *s, char e)
{
	struct byteset x;
	int neg = e == 'D' || e == 'W' || e == 'S';
	memset(&x, 0, sizeof(x));
	switch (e) {
	case 'd':
	case 'D':
		set_range(&x, '0', '9');
		break;
	case 'w':
	case 'W':
		set_range(&x, '0', '9');
		set_range(&x, 'A', 'Z');
		set_range(&x, 'a', 'z');
		set_add(&x, '_');
		break;
	case 's':
	case 'S':
		set_range(&x, '\t', '\r');
		set_add(&x, ' ');
		break;
	default:
		return 0;
	}
	for (int k = 0; k < 4; k++)
		s->w[k] |= neg ? ~x.w[k] : x.w[k];
	return 1;
}

/*
 * The byte of an escape that stands for one byte (rx[*i] is the letter or
 * symbol after the backslash; *i moves past it): -1 for one that does not
 * (a class escape, an assertion, a back-reference, \p...).
 */
static int escape_byte(const char *rx, size_t *i, int in_class)
{
	char e = rx[*i];
	(*i)++;
	switch (e) {
	case 't':
		return '\t';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 'f':
		return '\f';
	case 'v':
		return '\v';
	case 'e':
		return 0x1b;
	case 'b':
		return in_class ? '\b' : -1;
	case 'x': {
		int h1 = hex_digit(rx[*i]), h2;
		if (h1 < 0)
			return -1;
		h2 = hex_digit(rx[*i + 1]);
		if (h2 < 0) {
			(*i)++;
			return h1;
		}
		*i += 2;
		return h1 * 16 + h2;
	}
	default:
		if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9') || !e)
			return -1;
		return (unsigned char)e;
	}
}

/* Appends shape byte c so that Hyperscan reads it as that byte. */
static void emit_byte(struct buf *out, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char x[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
	if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
		buf_addch(out, c);
	else
		buf_add(out, x, 4);
}

static void emit_set(struct buf *out, const struct byteset *s)
{
	/* the image: the set's bytes other than digits and ASCII letters, and
	 * '0', 'A', 'a' for the groups it has any of */
	const uint64_t digits = 0x03FFULL << 48, upper = 0x03FFFFFFULL << 1,
		       lower = 0x03FFFFFFULL << 33;
	struct byteset img = *s;
	int n = 0;
	unsigned last = 0;
	img.w[0] &= ~digits;
	img.w[1] &= ~(upper | lower);
	if (s->w[0] & digits)
		set_add(&img, '0');
	if (s->w[1] & upper)
		set_add(&img, 'A');
	if (s->w[1] & lower)
		set_add(&img, 'a');
	for (int k = 0; k < 4; k++)
		for (uint64_t m = img.w[k]; m; m &= m - 1) {
			n++;
			last = (unsigned)(k * 64 + __builtin_ctzll(m));
		}
	if (n == 1) {
		emit_byte(out, (unsigned char)last);
		return;
	}
	buf_addch(out, '[');
	for (int k = 0; k < 4; k++)
		for (uint64_t m = img.w[k]; m; m &= m - 1)
			emit_byte(out, (unsigned char)(k * 64 + __builtin_ctzll(m)));
	buf_addch(out, ']');
}

/* A class from rx[*i] (after its '['); *i moves past its ']'. */
static int parse_class(const char *rx, size_t *i, struct byteset *s)
{
	int neg = 0, first = 1;
	memset(s, 0, sizeof(*s));
	if (rx[*i] == '^') {
		neg = 1;
		(*i)++;
	}
	while (rx[*i] && (rx[*i] != ']' || first)) {
		int lo, hi;
		first = 0;
		if (rx[*i] == '[' && rx[*i + 1] == ':')
			return -1;  /* a POSIX class */
		if (rx[*i] == '\\') {
			(*i)++;
			if (set_escape(s, rx[*i])) {
				(*i)++;
				continue;
			}
			lo = escape_byte(rx, i, 1);
		} else {
			lo = (unsigned char)rx[(*i)++];
		}
		if (lo < 0)
			return -1;
		if (rx[*i] == '-' && rx[*i + 1] && rx[*i + 1] != ']') {
			(*i)++;
			if (rx[*i] == '\\') {
				(*i)++;
				hi = escape_byte(rx, i, 1);
			} else {
				hi = (unsigned char)rx[(*i)++];
			}
			if (hi < lo)
				return -1;
			set_range(s, (unsigned)lo, (unsigned)hi);
		} else {
			set_add(s, (unsigned)lo);
		}
	}
	if (rx[*i] != ']')
		return -1;
	(*i)++;
	if (neg)
		for (int k = 0; k < 4; k++)
			s->w[k] = ~s->w[k];
	return 0;
}

/* Past the group that opens at rx[*i] ('('), nested groups and classes
 * included. */
static int skip_group(const char *rx, size_t *i)
{
	int depth = 0;
	while (rx[*i]) {
		char c = rx[*i];
		if (c == '\\') {
			if (!rx[*i + 1])
				return -1;
			*i += 2;
			continue;
		}
		if (c == '[') {
			struct byteset s;
			(*i)++;
			if (parse_class(rx, i, &s) < 0)
				return -1;
			continue;
		}
		(*i)++;
		if (c == '(')
			depth++;
		else if (c == ')' && --depth == 0)
			return 0;
	}
	return -1;
}

static int is_quantifier(const char *rx, size_t i)
{
	if (rx[i] == '?' || rx[i] == '*' || rx[i] == '+')
		return 1;
	if (rx[i] != '{' || rx[i + 1] < '0' || rx[i + 1] > '9')
		return 0;
	while ((rx[i + 1] >= '0' && rx[i + 1] <= '9') || rx[i + 1] == ',')
		i++;
	return rx[i + 1] == '}';
}

int pii_shape_expr(const char *rx, struct buf *out)
{
	size_t i = 0;
	while (rx[i]) {
		char c = rx[i];
		struct byteset s;
		int b;
		switch (c) {
		case '\\':
			i++;
			if (rx[i] == 'b' || rx[i] == 'B') {
				buf_addch(out, '\\');
				buf_addch(out, rx[i++]);
				continue;
			}
			memset(&s, 0, sizeof(s));
			if (set_escape(&s, rx[i])) {
				i++;
				emit_set(out, &s);
				continue;
			}
			b = escape_byte(rx, &i, 0);
			if (b < 0)
				return -1;
			emit_byte(out, shape_byte((unsigned char)b));
			continue;
		case '[':
			i++;
			if (parse_class(rx, &i, &s) < 0)
				return -1;
			emit_set(out, &s);
			continue;
		case '(':
			if (rx[i + 1] != '?') {
				buf_addch(out, '(');
				i++;
				continue;
			}
			if (rx[i + 2] == '=' || rx[i + 2] == '!' ||
			    (rx[i + 2] == '<' && (rx[i + 3] == '=' || rx[i + 3] == '!'))) {
				/* a look-around: dropped, which only widens */
				if (skip_group(rx, &i) < 0 || is_quantifier(rx, i))
					return -1;
				continue;
			}
			/* (?: and inline options as (?i: (?-i) */
			buf_add(out, rx + i, 2);
			i += 2;
			while ((rx[i] >= 'a' && rx[i] <= 'z') || rx[i] == '-')
				buf_addch(out, rx[i++]);
			if (rx[i] != ':' && rx[i] != ')')
				return -1;
			buf_addch(out, rx[i++]);
			continue;
		case ')':
		case '|':
		case '^':
		case '$':
		case '.':
		case '*':
		case '+':
		case '?':
			buf_addch(out, c);
			i++;
			continue;
		case '{':
			if (is_quantifier(rx, i)) {
				while (rx[i] != '}')
					buf_addch(out, rx[i++]);
				buf_addch(out, rx[i++]);
				continue;
			}
			break;
		default:
			break;
		}
		emit_byte(out, shape_byte((unsigned char)c));
		i++;
	}
	return buf_failed(out) ? -1 : 0;
}

/* --- the scan --------------------------------------------------------------- */

#ifdef MOAT_HAVE_HYPERSCAN

/* A region longer than this is scanned, not kept: its shape is unlikely to
 * come again, and the hits' offsets fit 16 bits. */
#define REGION_MAX 256
#define MEMO_SLOTS 8192               /* a power of two */
#define MEMO_MAX_SHAPES (MEMO_SLOTS / 2)
#define MEMO_MAX_HITS (1u << 20)

struct shape_hit {
	uint32_t id;
	uint16_t end;
};

struct shape_ent {
	uint64_t h;
	uint32_t key, hit;  /* offsets into keys and hits */
	uint16_t klen, nhit;
	int used;
};

struct pii_shape_memo {
	struct shape_ent *slot;
	size_t n;
	unsigned char *keys;
	size_t nkeys, akeys;
	struct shape_hit *hits;
	size_t nhits, ahits;
	unsigned char *sb;   /* the region's shape */
	size_t asb;
	struct shape_hit *tmp;  /* the hits of a scan */
	size_t ntmp, atmp;
	int tmp_failed;
};

struct pii_shape_memo *pii_shape_memo_new(void)
{
	struct pii_shape_memo *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->slot = calloc(MEMO_SLOTS, sizeof(*m->slot));
	if (!m->slot) {
		free(m);
		return NULL;
	}
	return m;
}

void pii_shape_memo_free(struct pii_shape_memo *m)
{
	if (!m)
		return;
	free(m->slot);
	free(m->keys);
	free(m->hits);
	free(m->sb);
	free(m->tmp);
	free(m);
}

static void memo_clear(struct pii_shape_memo *m)
{
	memset(m->slot, 0, MEMO_SLOTS * sizeof(*m->slot));
	m->n = 0;
	m->nkeys = 0;
	m->nhits = 0;
}

static int collect(unsigned int id, unsigned long long from, unsigned long long to,
		   unsigned int flags, void *ctx)
{
	struct pii_shape_memo *m = ctx;
	(void)from;
	(void)flags;
	if (MOAT_GROW(m->tmp, m->atmp, m->ntmp + 1) < 0) {
		m->tmp_failed = 1;
		return 1;
	}
	m->tmp[m->ntmp].id = id;
	m->tmp[m->ntmp].end = (uint16_t)to;
	m->ntmp++;
	return 0;
}

/* What a long region reports as it scans. */
struct direct {
	pii_shape_hit_fn hit;
	void *ctx;
	size_t base;
	int stopped;
};

static int direct_hit(unsigned int id, unsigned long long from, unsigned long long to,
		      unsigned int flags, void *ctx)
{
	struct direct *d = ctx;
	(void)from;
	(void)flags;
	if (d->hit(id, d->base + (size_t)to, d->ctx)) {
		d->stopped = 1;
		return 1;
	}
	return 0;
}

/*
 * The shapes of n bytes of u into out, eight at a time where they are all
 * below 0x80: a byte's bit 7 after adding a constant says it is at least
 * that letter or digit (no carry crosses a byte below 0x80), so each class
 * is a mask, and its bytes are replaced by its shape.
 */
static void shape_bytes(unsigned char *out, const unsigned char *u, size_t n)
{
	const uint64_t hi = 0x8080808080808080ULL, one = 0x0101010101010101ULL;
	size_t k = 0;
	for (; k + 8 <= n; k += 8) {
		uint64_t w, d, up, lo;
		memcpy(&w, u + k, 8);
		if (w & hi) {
			for (size_t j = 0; j < 8; j++)
				out[k + j] = shape_byte(u[k + j]);
			continue;
		}
		d = (w + 0x50 * one) & ~(w + 0x46 * one) & hi;   /* '0'..'9' */
		up = (w + 0x3F * one) & ~(w + 0x25 * one) & hi;  /* 'A'..'Z' */
		lo = (w + 0x1F * one) & ~(w + 0x05 * one) & hi;  /* 'a'..'z' */
		/* bit 7 of a byte to all its bits */
		d = (d >> 7) * 0xFF;
		up = (up >> 7) * 0xFF;
		lo = (lo >> 7) * 0xFF;
		w = (w & ~(d | up | lo)) | (d & '0' * one) | (up & 'A' * one) | (lo & 'a' * one);
		memcpy(out + k, &w, 8);
	}
	for (; k < n; k++)
		out[k] = shape_byte(u[k]);
}

static uint64_t shape_hash(const unsigned char *s, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
	size_t k = 0;
	for (; k + 8 <= n; k += 8) {
		uint64_t w;
		memcpy(&w, s + k, 8);
		h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
		h ^= h >> 29;
	}
	for (; k < n; k++)
		h = (h ^ s[k]) * 0x100000001B3ULL;
	return h ^ (h >> 32);
}

/* The region [a, b) of text: its hits, from the memo or a scan. */
static int region(const hs_database_t *db, hs_scratch_t *hs, struct pii_shape_memo *m,
		  const char *text, size_t a, size_t b, pii_shape_hit_fn hit, void *ctx)
{
	size_t n = b - a, slot;
	const unsigned char *u = (const unsigned char *)text + a;
	struct shape_ent *e;
	uint64_t h;
	hs_error_t rc;
	if (MOAT_GROW(m->sb, m->asb, n) < 0)
		return -2;
	shape_bytes(m->sb, u, n);
	if (n > REGION_MAX) {
		struct direct d = { hit, ctx, a, 0 };
		rc = hs_scan(db, (const char *)m->sb, (unsigned)n, 0, hs, direct_hit, &d);
		if (d.stopped)
			return -1;
		return rc == HS_SUCCESS ? 0 : (int)(rc < 0 ? -rc : rc);
	}
	h = shape_hash(m->sb, n);
	for (slot = h & (MEMO_SLOTS - 1);; slot = (slot + 1) & (MEMO_SLOTS - 1)) {
		e = &m->slot[slot];
		if (!e->used)
			break;
		if (e->h == h && e->klen == n && !memcmp(m->keys + e->key, m->sb, n))
			goto replay;
	}
	/* not seen: scan the shape, keep its hits */
	m->ntmp = 0;
	m->tmp_failed = 0;
	rc = hs_scan(db, (const char *)m->sb, (unsigned)n, 0, hs, collect, m);
	if (m->tmp_failed)
		return -2;
	if (rc != HS_SUCCESS)
		return (int)(rc < 0 ? -rc : rc);
	if (m->n >= MEMO_MAX_SHAPES || m->nhits + m->ntmp > MEMO_MAX_HITS || m->ntmp > UINT16_MAX) {
		memo_clear(m);
		for (slot = h & (MEMO_SLOTS - 1); m->slot[slot].used; slot = (slot + 1) & (MEMO_SLOTS - 1))
			;
		e = &m->slot[slot];
	}
	if (m->ntmp <= UINT16_MAX &&
	    MOAT_GROW(m->keys, m->akeys, m->nkeys + n) == 0 &&
	    MOAT_GROW(m->hits, m->ahits, m->nhits + m->ntmp + 1) == 0) {
		e->used = 1;
		e->h = h;
		e->klen = (uint16_t)n;
		e->key = (uint32_t)m->nkeys;
		e->hit = (uint32_t)m->nhits;
		e->nhit = (uint16_t)m->ntmp;
		memcpy(m->keys + m->nkeys, m->sb, n);
		m->nkeys += n;
		if (m->ntmp)
			memcpy(m->hits + m->nhits, m->tmp, m->ntmp * sizeof(*m->tmp));
		m->nhits += m->ntmp;
		m->n++;
	}
	for (size_t k = 0; k < m->ntmp; k++)
		if (hit(m->tmp[k].id, a + m->tmp[k].end, ctx))
			return -1;
	return 0;
replay:
	for (unsigned k = 0; k < e->nhit; k++) {
		const struct shape_hit *x = &m->hits[e->hit + k];
		if (hit(x->id, a + x->end, ctx))
			return -1;
	}
	return 0;
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* The first digit of text at or after i, or len. */
static size_t next_digit(const char *text, size_t len, size_t i)
{
	const uint64_t hi = 0x8080808080808080ULL;
	while (i + 8 <= len) {
		uint64_t w, m;
		memcpy(&w, text + i, 8);
		if (!(w & hi)) {
			/* bytes below 0x80: bit 7 of w + 0x50 is set from '0'
			 * up, of w + 0x46 from ':' up, and no carry crosses a
			 * byte */
			m = (w + 0x5050505050505050ULL) & ~(w + 0x4646464646464646ULL) & hi;
			if (m)
				return i + ((size_t)__builtin_ctzll(m) >> 3);
			i += 8;
			continue;
		}
		for (size_t k = 0; k < 8; k++)
			if (is_digit((unsigned char)text[i + k]))
				return i + k;
		i += 8;
	}
	while (i < len && !is_digit((unsigned char)text[i]))
		i++;
	return i;
}

int pii_shape_scan(const hs_database_t *db, hs_scratch_t *hs, struct pii_shape_memo *m,
		   const char *text, size_t len, pii_shape_hit_fn hit, void *ctx)
{
	size_t i = 0;
	for (;;) {
		size_t d = next_digit(text, len, i), j, a, b;
		int rc;
		if (d >= len)
			return 0;
		/* the cluster: digits with at most PII_SHAPE_GAP bytes between */
		j = d;
		for (;;) {
			size_t k = j + 1, lim = j + 1 + PII_SHAPE_GAP;
			while (k < len && k <= lim && !is_digit((unsigned char)text[k]))
				k++;
			if (k >= len || k > lim)
				break;
			j = k;
		}
		a = d > PII_SHAPE_LEAD + 1 ? d - PII_SHAPE_LEAD - 1 : 0;
		b = len - j > PII_SHAPE_TRAIL + 2 ? j + PII_SHAPE_TRAIL + 2 : len;
		rc = region(db, hs, m, text, a, b, hit, ctx);
		if (rc)
			return rc;
		i = j + 1;
	}
}

#endif
