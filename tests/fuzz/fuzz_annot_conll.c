/*
 * fuzz_annot_conll.c - libFuzzer target for the conll importer: CoNLL columns: IOB, IOB2, BIOES and BILOU tags, -DOCSTART-, blank
 * lines, bad UTF-8.
 * Any input must import or fail with one line and the set untouched (see
 * fuzz_annot.h); what imports is written back and read again.  Built
 * without libFuzzer, replay.c's main() runs corpus/fuzz_annot_conll/.
 */
#include "fuzz_annot.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_annot("conll", data, size, "train.conll", 0);
	return 0;
}
