/*
 * fuzz_csv.c - libFuzzer target for the CSV and TSV reader: quoting,
 * doubled quotes, newlines inside quotes, the ';' guess.  The first byte
 * picks the delimiter.
 * Any input must parse or fail cleanly, with offsets that match the text.
 * Built without libFuzzer, replay.c's main() runs the saved corpus
 * (corpus/fuzz_csv/) under ctest.
 */
#include "fuzz_ingest.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_opts o = ingest_default_opts();
	const char *format = size && (data[0] & 1) ? "tsv" : "csv";
	fuzz_parse(format, &o, data, size);
	return 0;
}
