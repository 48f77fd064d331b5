/*
 * fuzz_image.c - libFuzzer target for the image reader: Leptonica's header
 * sniffing and decoders (PNG, JPEG, TIFF with its pages, BMP, PNM, WebP) and
 * moat's page loop that records each page's size.  OCR is off (Tesseract
 * reads decoded pixels, never the file's bytes).  Any input must parse or
 * fail cleanly.  Built without libFuzzer, replay.c's main() runs the saved
 * corpus (corpus/fuzz_image/: tiny images written by hand, a two-page TIFF
 * among them) under ctest.
 */
#include "fuzz_ingest.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_opts o = ingest_default_opts();
	o.ocr = INGEST_OCR_NEVER;
	o.max_pages = 8;
	fuzz_parse("image", &o, data, size);
	return 0;
}
