/*
 * fuzz_annot_yolo.c - libFuzzer target for the yolo importer: YOLO datasets: data.yaml (the little YAML reader), obj.data,
 * names files, list files, label lines and image headers (sections name
 * the files: images/train/a.png, labels/train/a.txt...).
 * Any input must import or fail with one line and the set untouched (see
 * fuzz_annot.h); what imports is written back and read again.  Built
 * without libFuzzer, replay.c's main() runs corpus/fuzz_annot_yolo/.
 */
#include "fuzz_annot.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_annot("yolo", data, size, "data.yaml", 1);
	return 0;
}
