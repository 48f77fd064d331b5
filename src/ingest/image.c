/*
 * image.c - images (PNG, JPEG, TIFF with all its pages, WebP, BMP, GIF)
 * decoded by Leptonica and read by OCR (ocr.c).
 *
 * The document records the image's width and height in pixels (image
 * labelling needs them), its format, resolution and page count; each TIFF
 * page is a page of the document.  With --ocr never the document has no
 * elements, only that metadata.  The header is read before any pixel: an
 * image whose size would not fit the memory limit fails at once
 * (decompression bombs), and a PNG or JPEG cut short fails as truncated
 * instead of giving a half-grey page to OCR.
 */
#define _GNU_SOURCE
#include "docfmt.h"

#include <stdio.h>
#include <string.h>

#include <leptonica/allheaders.h>

#include "../core/banned.h"

static int truncated(int format, const unsigned char *data, size_t len)
{
	size_t tail = len < 4096 ? len : 4096;
	if (format == IFF_PNG)
		return !memmem(data + len - tail, tail, "IEND", 4);
	if (format == IFF_JFIF_JPEG)
		return !memmem(data + len - tail, tail, "\xff\xd9", 2);
	return 0;
}

int ingest_image(const unsigned char *data, size_t len, const struct ingest_opts *o,
		 struct doc *d, struct moat_err *e)
{
	l_int32 format = IFF_UNKNOWN, w = 0, h = 0, bps = 0, spp = 0, cmap = 0;
	struct ocr *ocr = NULL;
	int pages = 1, rc = 0;
	const char *ext;
	setMsgSeverity(L_SEVERITY_NONE);
	if (len < 8 || pixReadHeaderMem(data, len, &format, &w, &h, &bps, &spp, &cmap) != 0 ||
	    w <= 0 || h <= 0)
		return err_set(e, MOAT_EPARSE, "damaged or unreadable image (its header cannot be read)");
	ext = getFormatExtension(format);
	if ((double)w * (double)h * 4.0 > (double)docfmt_max_memory(o) / 2)
		return err_set(e, MOAT_ELIMIT, "image of %dx%d pixels is too large for the memory limit "
			       "(see --max-memory)", w, h);
	if (truncated(format, data, len))
		return err_set(e, MOAT_EPARSE, "truncated %s image (its end marker is missing)",
			       ext ? ext : "");
	if (format == IFF_TIFF || format == IFF_TIFF_G3 || format == IFF_TIFF_G4 ||
	    format == IFF_TIFF_PACKBITS || format == IFF_TIFF_LZW || format == IFF_TIFF_ZIP ||
	    format == IFF_TIFF_JPEG) {
		/* count the pages by reading each header through the directory chain */
		pages = 0;
		for (;;) {
			PIX *p;
			if ((unsigned)pages >= docfmt_max_pages(o)) {
				return err_set(e, MOAT_ELIMIT, "TIFF with more than %u pages (see "
					       "--max-pages)", docfmt_max_pages(o));
			}
			p = pixReadMemTiff(data, len, pages);
			if (!p)
				break;
			pixDestroy(&p);
			pages++;
		}
		if (!pages)
			return err_set(e, MOAT_EPARSE, "damaged TIFF image (no page can be decoded)");
	}
	json_object_set_new(d->meta, "width", json_integer(w));
	json_object_set_new(d->meta, "height", json_integer(h));
	json_object_set_new(d->meta, "image_format", json_string(ext ? ext : "unknown"));
	json_object_set_new(d->meta, "pages", json_integer(pages));
	for (int p = 0; p < pages && rc == 0; p++) {
		PIX *pix = pages > 1 || format == IFF_TIFF || format == IFF_TIFF_G3 ||
				   format == IFF_TIFF_G4 || format == IFF_TIFF_PACKBITS ||
				   format == IFF_TIFF_LZW || format == IFF_TIFF_ZIP ||
				   format == IFF_TIFF_JPEG
			       ? pixReadMemTiff(data, len, p)
			       : pixReadMem(data, len);
		size_t words = 0;
		if (!pix) {
			rc = err_set(e, MOAT_EPARSE, "damaged %s image (cannot decode%s)", ext ? ext : "",
				     pages > 1 ? " a page" : "");
			break;
		}
		if (p == 0 && pixGetXRes(pix) > 0)
			json_object_set_new(d->meta, "dpi", json_integer(pixGetXRes(pix)));
		if (pages > 1) {
			json_t *sizes = json_object_get(d->meta, "page_sizes");
			if (!sizes) {
				sizes = json_array();
				json_object_set_new(d->meta, "page_sizes", sizes);
			}
			json_array_append_new(sizes, json_pack("[i,i]", pixGetWidth(pix),
								 pixGetHeight(pix)));
		}
		if (p > 0 && d->n_el && doc_add_page(d, EL_PAGE_BREAK, 0, p, "", 0, NULL) < 0) {
			pixDestroy(&pix);
			break;
		}
		if (o->ocr != INGEST_OCR_NEVER) {
			if (!ocr && !(ocr = ocr_new(o, e))) {
				pixDestroy(&pix);
				rc = -1;
				break;
			}
			rc = ocr_page(ocr, pix, p + 1, pixGetXRes(pix), 1.0, d, &words, e);
		}
		pixDestroy(&pix);
	}
	ocr_free(ocr);
	if (rc == 0) {
		json_object_set_new(d->meta, "ocr", json_boolean(o->ocr != INGEST_OCR_NEVER));
		d->encoding = NULL;
	}
	return rc;
}
