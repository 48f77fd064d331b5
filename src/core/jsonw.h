/*
 * jsonw.h - JSON written straight into a struct buf, for output paths where
 * building jansson values first would cost more than the work itself (a PII
 * scan prints a line per finding at 100 MB/s; exports write millions of
 * records).  Everything else builds jansson values (and core/jsonu.h for
 * strings from outside bytes).
 *
 * This is moat's one hand-written JSON string escaper: every fast path
 * (records, the COCO writer, `moat pii scan`) writes its strings with
 * jsonw_str(), so they all escape alike, as Python's json and jansson do.
 *
 * The caller keeps the JSON well formed (commas, braces); these write one
 * value each.  Uses only core/buf.h; errors are the buffer's sticky error.
 */
#ifndef MOAT_JSONW_H
#define MOAT_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

/* buf_add() with the common case (room left) inline: a record is some
 * thirty small appends.  Keeps buf's rules (NUL-terminated, errors sticky). */
static inline void jsonw_add(struct buf *o, const void *p, size_t n)
{
	if (o->alloc - o->len > n) {
		memcpy(o->data + o->len, p, n);
		o->len += n;
		o->data[o->len] = '\0';
	} else {
		buf_add(o, p, n);
	}
}

static inline void jsonw_addch(struct buf *o, char c)
{
	jsonw_add(o, &c, 1);
}

/* A string literal's bytes, its length known at compile time. */
#define JSONW_LIT(o, s) jsonw_add((o), "" s, sizeof(s) - 1)

/* A JSON string of s[0..n): '"', '\\' and the control characters escaped
 * (\" \\ \n \r \t \b \f, else \u00xx, as Python's json writes them),
 * everything else, non-ASCII included, copied as UTF-8.  s is checked for
 * UTF-8 in the same pass (eight ASCII bytes at a time): -1, with nothing
 * appended, when it is not.  0 otherwise, also when the buffer failed (its
 * sticky error says so).  A caller whose text is known to be UTF-8 may
 * ignore the result. */
int jsonw_str(struct buf *o, const char *s, size_t n);

/* An unsigned integer, without printf (inline: records write a dozen). */
static inline void jsonw_uint(struct buf *o, uint64_t v)
{
	char d[40];  /* the digits end at 20; 20 bytes from any k are in d */
	size_t k = 20;
	do {
		d[--k] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (o->alloc - o->len > 20) {
		/* a copy of fixed size, which the compiler inlines */
		memcpy(o->data + o->len, d + k, 20);
		o->len += 20 - k;
		o->data[o->len] = '\0';
	} else {
		buf_add(o, d + k, 20 - k);
	}
}

/* A signed integer, without printf. */
static inline void jsonw_int(struct buf *o, int64_t v)
{
	if (v < 0) {
		jsonw_addch(o, '-');
		jsonw_uint(o, (uint64_t)0 - (uint64_t)v);
	} else {
		jsonw_uint(o, (uint64_t)v);
	}
}

/* A number with two decimals, exactly as printf("%.2f") writes it. */
void jsonw_fixed2(struct buf *o, double v);

#endif
