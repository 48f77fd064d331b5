/*
 * fuzz_markdown.c - libFuzzer target for the Markdown reader: cmark-gfm with
 * the table, strikethrough and autolink extensions, and the walk that turns
 * its tree into elements.
 * Any input must parse or fail cleanly, with offsets that match the text.
 * Built without libFuzzer, replay.c's main() runs the saved corpus
 * (corpus/fuzz_markdown/) under ctest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "ingest/ingest.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_opts o = ingest_default_opts();
	struct moat_err e = MOAT_ERR_INIT;
	struct doc d;
	o.max_elements = 10000;
	doc_init(&d, (struct doc_limits){ o.max_elements, 0 });
	if (ingest_parse("markdown", data, size, &o, &d, &e) == 0 || d.n_el) {
		/* What was added is consistent, even when the parse failed late. */
		size_t cps = 0;
		for (size_t i = 0; i < d.n_el; i++) {
			const struct element *el = &d.el[i];
			if (el->byte_start + el->byte_len > d.text.len ||
			    !utf8_is_valid(doc_el_text(&d, el), el->byte_len) ||
			    el->end - el->start != utf8_count(doc_el_text(&d, el), el->byte_len) ||
			    el->start < cps)
				abort();
			cps = el->end;
		}
		if (cps > d.text_cps)
			abort();
	}
	doc_release(&d);
	return 0;
}
