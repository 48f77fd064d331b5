/*
 * ocr.h - the OCR engine (Tesseract through its C API), internal to
 * src/ingest: page images in, paragraphs with boxes and word confidences out.
 * The image reader and the PDF reader's scanned pages use it;
 * ingest_check_ocr() (ingest.h) is its public face.
 *
 * Not for: getting the page image (image.c decodes files, pdf_render.c draws
 * PDF pages) or deciding which pages need reading (pdf_ocr.c).
 *
 * Uses Tesseract and Leptonica (loaded on first need: ocrlib.h), core/ (doc,
 * datadir) and docfmt.h.
 *
 * Ownership: ocr_new()'s engine is the caller's, freed by ocr_free(); the
 * engine ocr_warm() keeps is the process's and ocr_free() leaves it alone.
 */
#ifndef MOAT_INGEST_OCR_H
#define MOAT_INGEST_OCR_H

#include <stddef.h>

#include "ingest.h"

struct Pix;
struct ocr;

/*
 * Loads Tesseract and Leptonica (ocrlib.h), set up to run single-threaded,
 * without starting an engine: a process that will fork OCR helpers loads
 * them once, before the fork.  0, or -1 with e set ("cannot load Tesseract:
 * ...").  ocr_new() does it too.
 */
int ocr_load(struct moat_err *e) __attribute__((warn_unused_result));
/*
 * Starts Tesseract for o->ocr_lang, single-threaded, loading it first.  A
 * missing language pack fails naming the Debian package ("install
 * tesseract-ocr-deu"), a missing library with "cannot load Tesseract: ...".
 */
struct ocr *ocr_new(const struct ingest_opts *o, struct moat_err *e)
	__attribute__((warn_unused_result));
void ocr_free(struct ocr *ocr);
/*
 * Starts Tesseract for o->ocr_lang ahead of time in a process that forks
 * parsers (the sandbox's zygote): ocr_new in a forked child then hands out
 * this one, already loaded, instead of reading the language models again
 * (a quarter of a small image's time).  The child's copy is its own, and a
 * warm Tesseract never reads a page in the zygote, so each document still
 * starts from the same clean state.  Quietly does nothing when Tesseract
 * cannot start: ocr_new then says why.
 */
void ocr_warm(const struct ingest_opts *o);
/*
 * Reads one page image and appends its paragraphs to d with page set and
 * meta {"bbox": [x0,y0,x1,y1], "confidence": mean word confidence,
 * "word_confidences": [...], "ocr": true}.  Boxes are pixel coordinates
 * times scale (72/dpi gives PDF points, 1 pixels).  dpi: the image's
 * resolution, 0 when unknown.  A page turned by 90/180/270 degrees is found
 * by orientation detection and read upright; a skewed one is deskewed.
 * *words receives the number of words read.  Returns 0 or -1.
 */
int ocr_page(struct ocr *ocr, struct Pix *pix, int page, int dpi, double scale, struct doc *d,
	     size_t *words, struct moat_err *e) __attribute__((warn_unused_result));

#endif
