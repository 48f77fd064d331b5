/*
 * fuzz_markdown.c - libFuzzer target for the Markdown reader: cmark-gfm with
 * the table, strikethrough and autolink extensions, and the walk that turns
 * its tree into elements.
 * Any input must parse or fail cleanly, with offsets that match the text.
 * Built without libFuzzer, replay.c's main() runs the saved corpus
 * (corpus/fuzz_markdown/) under ctest.
 */
#include "fuzz_ingest.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_opts o = ingest_default_opts();
	fuzz_parse("markdown", &o, data, size);
	return 0;
}
