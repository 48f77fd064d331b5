/*
 * fuzz_annot_coco.c - libFuzzer target for the coco importer: COCO instances in a dataset directory: images, categories,
 * annotations, bbox ranges, ids (sections name the images).
 * Any input must import or fail with one line and the set untouched (see
 * fuzz_annot.h); what imports is written back and read again.  Built
 * without libFuzzer, replay.c's main() runs corpus/fuzz_annot_coco/.
 */
#include "fuzz_annot.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_annot("coco", data, size, "annotations/instances_train.json", 1);
	return 0;
}
