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
#include "fuzz_ingest.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The message and, recursively, every attachment. */
static void consistent(const struct doc *d)
{
	fuzz_check_doc(d);
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
	if (doc_init(&d, (struct doc_limits){ o.max_elements, 0 }) < 0)
		abort();  /* out of memory */
	if (ingest_parse("email", data, size, &o, &d, &e) < 0 && !e.msg[0])
		abort();
	consistent(&d);
	doc_release(&d);
	return 0;
}
