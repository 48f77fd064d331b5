/*
 * fuzz_render.c - libFuzzer target for the picture of an image or page task
 * (ingest/render.c, what `moat serve` shows and box suggestions send): a PDF
 * page or an image file drawn by MuPDF and written as PNG.  Any input must
 * draw or fail cleanly; a picture drawn must be a PNG of the size the
 * answer names.  Built without libFuzzer, replay.c's main() runs the saved
 * corpus (corpus/fuzz_render/: the PDF and image targets' small files).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/buf.h"
#include "ingest/ingest.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_opts o = ingest_default_opts();
	struct moat_err e = MOAT_ERR_INIT;
	struct doc d;
	o.render_page = size % 2 ? 2 : 1;
	o.render_dpi = 20;  /* small pictures: the decoders are what is tested */
	if (doc_init(&d, (struct doc_limits){ 0, 0 }) < 0)
		abort();
	if (ingest_parse("render", data, size, &o, &d, &e) == 0) {
		json_t *b64 = json_object_get(d.meta, "png");
		struct buf png = BUF_INIT;
		long w = (long)json_integer_value(json_object_get(d.meta, "width"));
		long h = (long)json_integer_value(json_object_get(d.meta, "height"));
		if (!json_is_string(b64) ||
		    base64_decode(json_string_value(b64), json_string_length(b64), BASE64_STD, &png) < 24 ||
		    memcmp(png.data, "\x89PNG\r\n\x1a\n", 8) || be32((unsigned char *)png.data + 16) != (uint32_t)w ||
		    be32((unsigned char *)png.data + 20) != (uint32_t)h)
			abort();
		buf_release(&png);
	}
	doc_release(&d);
	return 0;
}
