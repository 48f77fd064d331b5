/*
 * fuzz_pdf.c - libFuzzer target for the PDF reader: MuPDF's parser and its
 * repair of broken files, then moat's own layout pass over what MuPDF gives
 * (reading order across columns, headings, lists, tables, repeated headers
 * and footers, hyphenation).  OCR is off so that the target stays fast; the
 * scan path is the image target's.  Any input must parse or fail cleanly,
 * with element offsets that match the text.  Built without libFuzzer,
 * replay.c's main() runs the saved corpus (corpus/fuzz_pdf/: small PDFs made
 * with `mutool create`, one truncated and one without its xref table) under
 * ctest.
 */
#include "fuzz_ingest.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_opts o = ingest_default_opts();
	o.ocr = INGEST_OCR_NEVER;
	o.max_pages = 16;
	fuzz_parse("pdf", &o, data, size);
	return 0;
}
