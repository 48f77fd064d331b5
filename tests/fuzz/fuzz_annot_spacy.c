/*
 * fuzz_annot_spacy.c - libFuzzer target for the spacy importer: spaCy/Prodigy JSONL: span triples and objects, span groups, cats.
 * Any input must import or fail with one line and the set untouched (see
 * fuzz_annot.h); what imports is written back and read again.  Built
 * without libFuzzer, replay.c's main() runs corpus/fuzz_annot_spacy/.
 */
#include "fuzz_annot.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_annot("spacy", data, size, "train.jsonl", 0);
	return 0;
}
