/*
 * annot_value.h - one annotation value (annot.h's struct annot_value) as the
 * workspace keeps it: a compact JSON object with sorted keys, the same for
 * annotations and suggestions, and read back into a value.
 *
 *   {"labels": ["spam"],                                  classification
 *    "spans": [[start, end, "PER"], ...],                 code points, end exclusive
 *    "boxes": [[x, y, w, h, "car"], [x, y, w, h, "bus", rotation], ...],   pixels
 *    "text": "a free-text answer",
 *    "preference": 1 | 2}                                 the first or second response
 *
 * Only the parts a value has are written; an empty value is {}.  Who made it,
 * its status, and a model's name and score live in their own columns
 * (store/dataset.h), not here.
 *
 * Not for: files (annot.h) or the store.  Uses jansson and annot.h.
 */
#ifndef MOAT_ANNOT_VALUE_H
#define MOAT_ANNOT_VALUE_H

#include "annot.h"
#include "../core/err.h"

/* The value as compact JSON text, malloc'd; NULL when out of memory. */
char *annot_value_json(const struct annot_value *v) __attribute__((warn_unused_result));

/* Adds to v (zeroed by annot_add_value) what text holds.  -1 with e set
 * (MOAT_EPARSE naming the part that is wrong, or out of memory); v may then
 * hold part of it, and annot_set_release() frees it as usual. */
int annot_value_parse(const char *text, struct annot_value *v, struct moat_err *e)
	__attribute__((warn_unused_result));

/* 1 when v has nothing of any kind. */
int annot_value_empty(const struct annot_value *v);

#endif
