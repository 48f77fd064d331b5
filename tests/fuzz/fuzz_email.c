/*
 * fuzz_email.c - libFuzzer target for the e-mail reader: header unfolding,
 * RFC 2047 encoded words, MIME structure (boundaries, nesting limits),
 * quoted-printable and base64, charset conversion, and attachments parsed as
 * child documents (OCR off, so an image attachment stays cheap).  Any input
 * must parse or fail cleanly, with offsets that match the text in the message
 * and in every child.
 * Built without libFuzzer, replay.c's main() runs the saved corpus
 * (corpus/fuzz_email/, written by tests/data/docs/gen_seeds.py) under ctest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "ingest/ingest.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void consistent(const struct doc *d)
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
	for (size_t i = 0; i < d->n_children; i++) {
		const struct doc_child *c = &d->children[i];
		if ((c->failed && !c->error) || (!c->data && c->len))
			abort();
		consistent(&c->doc);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_opts o = ingest_default_opts();
	struct moat_err e = MOAT_ERR_INIT;
	struct doc d;
	o.no_sandbox = 1;
	o.ocr = INGEST_OCR_NEVER;
	o.max_elements = 10000;
	o.max_unzipped = (size_t)32 << 20;
	o.max_pages = 50;
	doc_init(&d, (struct doc_limits){ o.max_elements, 0 });
	if (ingest_parse("email", data, size, &o, &d, &e) < 0 && !e.msg[0])
		abort();
	consistent(&d);
	doc_release(&d);
	return 0;
}
