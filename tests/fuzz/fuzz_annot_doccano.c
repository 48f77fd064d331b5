/*
 * fuzz_annot_doccano.c - libFuzzer target for the doccano importer: doccano's JSONL: classification labels, span triples, entities with
 * relations, records over several lines.
 * Any input must import or fail with one line and the set untouched (see
 * fuzz_annot.h); what imports is written back and read again.  Built
 * without libFuzzer, replay.c's main() runs corpus/fuzz_annot_doccano/.
 */
#include "fuzz_annot.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_annot("doccano", data, size, "data.jsonl", 0);
	return 0;
}
