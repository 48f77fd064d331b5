/*
 * fuzz_ingest.h - what the ingest fuzz targets share: parse one input with a
 * format's reader and abort unless every element added (even by a parse that
 * failed late) is valid UTF-8 inside the text, with code-point offsets that
 * match it and never go backwards.  Included by one target each, so the
 * functions are static.
 */
#ifndef MOAT_FUZZ_INGEST_H
#define MOAT_FUZZ_INGEST_H

#include <stdint.h>
#include <stdlib.h>

#include "core/utf8.h"
#include "ingest/ingest.h"

static void fuzz_check_doc(const struct doc *d)
{
	size_t cps = 0;
	for (size_t i = 0; i < d->n_el; i++) {
		const struct element *el = &d->el[i];
		if (el->byte_start + el->byte_len > d->text.len ||
		    !utf8_is_valid(doc_el_text(d, el), el->byte_len) ||
		    el->end - el->start != utf8_count(doc_el_text(d, el), el->byte_len) ||
		    el->start < cps)
			abort();
		cps = el->end;
	}
	if (cps > d->text_cps)
		abort();
}

/* Parses data as format with o (max_elements capped for speed) and checks it. */
static void fuzz_parse(const char *format, struct ingest_opts *o, const uint8_t *data, size_t size)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct doc d;
	o->max_elements = 10000;
	if (doc_init(&d, (struct doc_limits){ o->max_elements, 0 }) < 0)
		abort();  /* out of memory */
	if (ingest_parse(format, data, size, o, &d, &e) == 0 || d.n_el)
		fuzz_check_doc(&d);
	doc_release(&d);
}

#endif
