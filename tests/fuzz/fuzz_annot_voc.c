/*
 * fuzz_annot_voc.c - libFuzzer target for the voc importer: Pascal VOC: the XML (with DTDs refused), sizes, boxes, and
 * ImageSets/Main lists (sections name them).
 * Any input must import or fail with one line and the set untouched (see
 * fuzz_annot.h); what imports is written back and read again.  Built
 * without libFuzzer, replay.c's main() runs corpus/fuzz_annot_voc/.
 */
#include "fuzz_annot.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_annot("voc", data, size, "Annotations/a.xml", 1);
	return 0;
}
