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
 *
 * Not for: images inside PDFs (pdf_render.c) or reading the text (ocr.c).
 */
#define _GNU_SOURCE
#include "docfmt.h"
#include "ocr.h"
#include "ocrlib.h"
#include "reader.h"

#include <stdio.h>
#include <string.h>

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

static int is_tiff(int format)
{
	return format == IFF_TIFF || format == IFF_TIFF_G3 || format == IFF_TIFF_G4 ||
	       format == IFF_TIFF_PACKBITS || format == IFF_TIFF_LZW || format == IFF_TIFF_ZIP ||
	       format == IFF_TIFF_JPEG;
}

/* One decoded page (p from 0): its size in the meta, then OCR. */
static int read_page(PIX *pix, int p, const struct ingest_opts *o,
		     struct ocr **ocr, json_t *sizes, struct doc *d, struct moat_err *e)
{
	size_t words = 0;
	if ((p == 0 && ocrlib->pixGetXRes(pix) > 0 &&
	     json_object_set_new(d->meta, "dpi", json_integer(ocrlib->pixGetXRes(pix))) < 0) ||
	    json_array_append_new(sizes, json_pack("[i,i]", ocrlib->pixGetWidth(pix), ocrlib->pixGetHeight(pix))) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (p > 0 && d->n_el && doc_add_page(d, EL_PAGE_BREAK, 0, p, "", 0, NULL) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (o->ocr == INGEST_OCR_NEVER)
		return 0;
	if (!*ocr && !(*ocr = ocr_new(o, e)))
		return -1;
	/* Tesseract reads a page at its vertical resolution (a fax is 204x196 or
	 * 204x98 dpi), as the tesseract command does */
	return ocr_page(*ocr, pix, p + 1, ocrlib->pixGetYRes(pix) > 0 ? ocrlib->pixGetYRes(pix)
								   : ocrlib->pixGetXRes(pix), 1.0, d, &words, e);
}

int ingest_image(const unsigned char *data, size_t len, const struct ingest_opts *o,
		 struct doc *d, struct moat_err *e)
{
	l_int32 format = IFF_UNKNOWN, w = 0, h = 0, bps = 0, spp = 0, cmap = 0;
	struct ocr *ocr = NULL;
	json_t *sizes;
	int pages = 0, rc = 0;
	const char *ext;
	if (ocrlib_load(OCRLIB_LEPTONICA, e) < 0)
		return -1;
	ocrlib->setMsgSeverity(L_SEVERITY_NONE);
	if (len < 8 || ocrlib->pixReadHeaderMem(data, len, &format, &w, &h, &bps, &spp, &cmap) != 0 ||
	    w <= 0 || h <= 0)
		return err_set(e, MOAT_EPARSE, "damaged or unreadable image (its header cannot be read)");
	ext = ocrlib->getFormatExtension(format);
	if ((double)w * (double)h * 4.0 > (double)docfmt_max_memory(o) / 2)
		return err_set(e, MOAT_ELIMIT, "image of %dx%d pixels is too large for the memory limit "
			       "(see --max-memory)", w, h);
	if (truncated(format, data, len))
		return err_set(e, MOAT_EPARSE, "truncated %s image (its end marker is missing)",
			       ext ? ext : "");
	if (json_object_set_new(d->meta, "width", json_integer(w)) < 0 ||
	    json_object_set_new(d->meta, "height", json_integer(h)) < 0 ||
	    json_object_set_new(d->meta, "image_format", json_string(ext ? ext : "unknown")) < 0 ||
	    !(sizes = json_array()))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (is_tiff(format)) {
		/* each page decoded once, in order, following the directory chain
		 * (a page that cannot be decoded ends the document there) */
		size_t off = 0;
		do {
			PIX *pix;
			if ((unsigned)pages >= docfmt_max_pages(o)) {
				rc = err_set(e, MOAT_ELIMIT, "TIFF with more than %u pages (see "
					     "--max-pages)", docfmt_max_pages(o));
				break;
			}
			pix = ocrlib->pixReadMemFromMultipageTiff(data, len, &off);
			if (!pix) {
				if (!pages)
					rc = err_set(e, MOAT_EPARSE, "damaged TIFF image (no page can be decoded)");
				break;
			}
			rc = read_page(pix, pages, o, &ocr, sizes, d, e);
			ocrlib->pixDestroy(&pix);
			pages++;
		} while (rc == 0 && off != 0);
	} else {
		PIX *pix = ocrlib->pixReadMem(data, len);
		if (!pix) {
			rc = err_set(e, MOAT_EPARSE, "damaged %s image (cannot decode)", ext ? ext : "");
		} else {
			rc = read_page(pix, 0, o, &ocr, sizes, d, e);
			ocrlib->pixDestroy(&pix);
			pages = 1;
		}
	}
	ocr_free(ocr);
	if ((json_object_set_new(d->meta, "pages", json_integer(pages)) < 0 ||
	     (pages > 1 && json_object_set_new(d->meta, "page_sizes", json_incref(sizes)) < 0)) &&
	    rc == 0)
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
	json_decref(sizes);
	if (rc == 0) {
		if (json_object_set_new(d->meta, "ocr", json_boolean(o->ocr != INGEST_OCR_NEVER)) < 0)
			rc = err_set(e, MOAT_ENOMEM, "out of memory");
		d->encoding = NULL;
	}
	return rc;
}
