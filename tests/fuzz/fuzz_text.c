/*
 * fuzz_text.c - libFuzzer target for the plain-text reader: encoding
 * detection (UTF-8, UTF-16 with a BOM, cp1252, latin-1), blocks, list
 * markers, titles and headings.
 * Any input must parse or fail cleanly, with offsets that match the text.
 * Built without libFuzzer, replay.c's main() runs the saved corpus
 * (corpus/fuzz_text/) under ctest.
 */
#include "fuzz_ingest.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_opts o = ingest_default_opts();
	fuzz_parse("text", &o, data, size);
	return 0;
}
