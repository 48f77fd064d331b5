/*
 * fuzz_annot_labelstudio.c - libFuzzer target for the label-studio importer: Label Studio's JSON export: tasks, annotations, predictions, results of
 * every type, percent boxes, UTF-16 offsets.
 * Any input must import or fail with one line and the set untouched (see
 * fuzz_annot.h); what imports is written back and read again.  Built
 * without libFuzzer, replay.c's main() runs corpus/fuzz_annot_labelstudio/.
 */
#include "fuzz_annot.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_annot("label-studio", data, size, "tasks.json", 0);
	return 0;
}
