/*
 * jsonw.h - JSON written straight into a struct buf, for output paths where
 * building jansson values first would cost more than the work itself (a PII
 * scan prints a line per finding at 100 MB/s; exports write millions of
 * records).  Everything else builds jansson values (and core/jsonu.h for
 * strings from outside bytes).
 *
 * The caller keeps the JSON well formed (commas, braces); these write one
 * value each.  Uses only core/buf.h; errors are the buffer's sticky error.
 */
#ifndef MOAT_JSONW_H
#define MOAT_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* A JSON string of s[0..n), which must be valid UTF-8: '"', '\\' and control
 * characters escaped (\n \t \r, else \u00XX), everything else copied. */
void jsonw_str(struct buf *o, const char *s, size_t n);

/* An unsigned integer, without printf. */
void jsonw_uint(struct buf *o, uint64_t v);

/* A number with two decimals, exactly as printf("%.2f") writes it. */
void jsonw_fixed2(struct buf *o, double v);

#endif
