/*
 * fuzz_json.c - libFuzzer target for the JSON and JSON Lines reader:
 * records, the dotted --text-field path, and the metadata built without it.
 * The input's size picks JSON or JSON Lines and one of three text fields,
 * so that inputs of different sizes reach every mode.
 * Any input must parse or fail cleanly, with offsets that match the text.
 * Built without libFuzzer, replay.c's main() runs the saved corpus
 * (corpus/fuzz_json/) under ctest.
 */
#include "fuzz_ingest.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_opts o = ingest_default_opts();
	static const char *const fields[] = { NULL, "a.b", "items.0.t" };
	o.text_field = fields[(size / 2) % 3];
	fuzz_parse(size % 2 ? "jsonl" : "json", &o, data, size);
	return 0;
}
