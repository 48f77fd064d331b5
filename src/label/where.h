/*
 * where.h - the filter of `moat label create --where EXPR`: which items
 * become tasks.  An expression compares an item's fields with literals and
 * combines the comparisons:
 *
 *   expr   := or
 *   or     := and ("or" and)*
 *   and    := not ("and" not)*
 *   not    := "not" not | "(" expr ")" | field op literal
 *   op     := = | != | < | <= | > | >= | ~        (~: a shell glob, fnmatch)
 *   literal:= 'text' | "text" | number
 *
 * Fields (docs/label.md): type (the document's format: pdf, docx, image...),
 * path, doc (its id), lang, chars (code points of the item's text), page,
 * element (an element's type: title, paragraph, table...), tokens (a chunk's),
 * width, height (images).  A field an item does not have compares as
 * missing: every comparison with it is false ("not" makes it true).
 * Numbers compare as numbers, text as bytes.
 *
 * Not for: SQL (the filter runs in moat over the items, never as SQL text).
 */
#ifndef MOAT_LABEL_WHERE_H
#define MOAT_LABEL_WHERE_H

#include <stddef.h>

#include "../core/err.h"

struct where;

/* Parses expr; NULL with e set (MOAT_EUSAGE: "--where: at 12: expected a
 * field, got ')'"). */
struct where *where_parse(const char *expr, struct moat_err *e) __attribute__((warn_unused_result));
void where_free(struct where *w);  /* NULL-safe */

/* An item's fields: get returns the field's value as text (numbers too) or
 * NULL when the item has no such field. */
typedef const char *(*where_get_fn)(void *ctx, const char *field);

/* 1 when the item matches, 0 when not.  A NULL w matches everything. */
int where_match(const struct where *w, where_get_fn get, void *ctx);

#endif
