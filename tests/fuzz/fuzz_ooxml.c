/*
 * fuzz_ooxml.c - libFuzzer target for the Office readers: the zip reader and
 * its limits, [Content_Types].xml detection, relationships, and the DOCX,
 * XLSX and PPTX walks over whatever XML the parts hold.  The same bytes go
 * to all three readers (each fails cleanly on the others' packages).  Any
 * input must parse or fail cleanly, with element offsets that match the text.
 * Built without libFuzzer, replay.c's main() runs the saved corpus
 * (corpus/fuzz_ooxml/: small packages written by tests/data/docs/gen_seeds.py,
 * and tests/data/ingest/make.py's charts, SmartArt and section headers)
 * under ctest.
 */
#include "fuzz_ingest.h"
#include "ingest/docfmt.h"
#include "ingest/reader.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int (*const readers[])(const unsigned char *, size_t, const struct ingest_opts *,
				      struct doc *, struct moat_err *) = { ingest_docx, ingest_xlsx,
									   ingest_pptx };
	struct ingest_opts o = ingest_default_opts();
	o.no_sandbox = 1;
	o.max_elements = 10000;
	o.max_unzipped = (size_t)32 << 20;  /* keep a fuzzing run's memory small */
	o.max_zip_entries = 2000;
	o.max_pages = 200;
	(void)ooxml_kind(data, size);
	for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++) {
		struct moat_err e = MOAT_ERR_INIT;
		struct doc d;
		if (doc_init(&d, (struct doc_limits){ o.max_elements, 0 }) < 0)
			abort();  /* out of memory */
		if (readers[i](data, size, &o, &d, &e) < 0 && !e.msg[0])
			abort();  /* a failure always says why */
		fuzz_check_doc(&d);
		doc_release(&d);
	}
	return 0;
}
