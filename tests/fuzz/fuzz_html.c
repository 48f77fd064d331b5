/*
 * fuzz_html.c - libFuzzer target for the HTML reader: charset sniffing (BOM,
 * <meta>, XML declaration, iconv), libxml2's recovering parser, and the walk
 * that turns its tree into elements.
 * Any input must parse or fail cleanly, with offsets that match the text.
 * Built without libFuzzer, replay.c's main() runs the saved corpus
 * (corpus/fuzz_html/) under ctest.
 */
#include "fuzz_ingest.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_opts o = ingest_default_opts();
	fuzz_parse("html", &o, data, size);
	return 0;
}
