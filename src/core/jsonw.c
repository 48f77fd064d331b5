/*
 * jsonw.c - JSON straight into a buffer (see jsonw.h).
 */
#include "jsonw.h"

#include <math.h>

#include "banned.h"

#define ONES 0x0101010101010101ULL
#define HIGH 0x8080808080808080ULL

/* Nonzero when one of the eight bytes of w is under 0x20, '"', '\\' or
 * 0x80 and over (a byte of a multi-byte character), with a flag in bit 7 of
 * such bytes.  Exact as a yes/no, and the lowest flag is
 * always on a byte that is one (a test's borrow only reaches the bytes above
 * a match, which can get false flags). */
static inline uint64_t special8(uint64_t w)
{
	uint64_t q = w ^ (ONES * '"'), bs = w ^ (ONES * '\\');
	return (w | ((w - ONES * 0x20) & ~w) | ((q - ONES) & ~q) | ((bs - ONES) & ~bs)) & HIGH;
}

/* The length of the valid UTF-8 sequence at u (whose lead byte is 0x80 or
 * over), left bytes available; 0 when invalid (overlong, surrogate, past
 * U+10FFFF, cut short). */
static inline size_t utf8_seq(const unsigned char *u, size_t left)
{
	unsigned c = u[0];
	if (c >= 0xC2 && c <= 0xDF)
		return left >= 2 && (u[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (left < 3 || (u[1] & 0xC0) != 0x80 || (u[2] & 0xC0) != 0x80 ||
		    (c == 0xE0 && u[1] < 0xA0) || (c == 0xED && u[1] >= 0xA0))
			return 0;
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (left < 4 || (u[1] & 0xC0) != 0x80 || (u[2] & 0xC0) != 0x80 ||
		    (u[3] & 0xC0) != 0x80 || (c == 0xF0 && u[1] < 0x90) || (c == 0xF4 && u[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/* One pass: eight bytes at a time while none needs a look, the first one that
 * does found by its bit; plain runs are copied whole when an escape or the
 * end comes.  The room for the string as it is comes first, more only for
 * escapes. */
int jsonw_str(struct buf *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0, start = o->len, at;
	if (buf_grow(o, n + 2) < 0)
		return 0;  /* the buffer's sticky error says it */
	at = o->len;
	o->data[at++] = '"';
	for (;;) {
		unsigned char c;
		for (;;) {
			uint64_t w, m;
			if (i + 8 > n) {
				while (i < n && u[i] >= 0x20 && u[i] < 0x80 && u[i] != '"' && u[i] != '\\')
					i++;
				break;
			}
			memcpy(&w, u + i, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
			w = __builtin_bswap64(w);  /* the first byte in the lowest bits */
#endif
			m = special8(w);
			if (m) {
				/* the lowest flag is always a true one (the tests'
				 * borrows only reach upwards) */
				i += (size_t)__builtin_ctzll(m) >> 3;
				break;
			}
			i += 8;
		}
		if (i >= n)
			break;
		c = u[i];
		if (c >= 0x80) {
			size_t k = utf8_seq(u + i, n - i);
			if (!k) {
				o->len = start;
				o->data[start] = '\0';
				return -1;
			}
			i += k;
			continue;
		}
		/* an escape: the run before it, then two or six bytes; room for
		 * those and the rest as it is, its quote and the NUL */
		if (o->alloc - at < (n - run) + 8) {
			o->len = at;
			if (buf_grow(o, (n - run) + 8 + (n - run) / 4) < 0)
				return 0;
		}
		memcpy(o->data + at, s + run, i - run);
		at += i - run;
		o->data[at++] = '\\';
		switch (c) {
		case '"': o->data[at++] = '"'; break;
		case '\\': o->data[at++] = '\\'; break;
		case '\n': o->data[at++] = 'n'; break;
		case '\r': o->data[at++] = 'r'; break;
		case '\t': o->data[at++] = 't'; break;
		case '\b': o->data[at++] = 'b'; break;
		case '\f': o->data[at++] = 'f'; break;
		default:
			memcpy(o->data + at, "u00", 3);
			o->data[at + 3] = hex[c >> 4];
			o->data[at + 4] = hex[c & 15];
			at += 5;
		}
		run = ++i;
	}
	memcpy(o->data + at, s + run, n - run);
	at += n - run;
	o->data[at++] = '"';
	o->len = at;
	o->data[at] = '\0';
	return 0;
}

/* v times 100 rounded as printf rounds (rint: ties to even, the default
 * mode); exact for the floats moat prints (scores), whose products with 100
 * are exact in a double. */
void jsonw_fixed2(struct buf *o, double v)
{
	double c = rint(v * 100.0);
	char d[4];
	uint64_t k;
	if (!(c >= 0.0 && c < 1e15)) {
		buf_addf(o, "%.2f", v);
		return;
	}
	k = (uint64_t)c;
	if (k < 1000) {
		/* below 10 (scores, shares): "d.dd" in one copy */
		char e[4] = { (char)('0' + k / 100), '.', (char)('0' + k / 10 % 10),
			      (char)('0' + k % 10) };
		jsonw_add(o, e, 4);
		return;
	}
	jsonw_uint(o, k / 100);
	d[0] = '.';
	d[1] = (char)('0' + k / 10 % 10);
	d[2] = (char)('0' + k % 10);
	jsonw_add(o, d, 3);
}
