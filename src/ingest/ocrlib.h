/*
 * ocrlib.h - Tesseract and Leptonica, loaded with dlopen on first need
 * instead of linked: linked, they and the 10 libraries only they need were
 * 12 of the program's 79, and half the dynamic loader's work at every start
 * of moat and of each sandbox helper (moat re-executed), while only images
 * and scanned pages need them.  Internal to src/ingest, plus `moat version`
 * (the versions) and `moat models bundle --include-self` (the sonames).
 *
 * The real headers give the types and prototypes; each function moat calls
 * is a pointer in struct ocrlib with the type of the library's own
 * declaration, so a call reads ocrlib->pixDestroy(&pix) and is checked by
 * the compiler like a direct one.  Naming a library function directly is a
 * link error in the moat program (it does not link them).
 *
 * Not for: OCR itself (ocr.h) or reading images (image.c).
 *
 * Where loading happens (docs/internals.md): the sandbox's helper loads
 * both before forking the child for an image, or for a PDF once a PDF
 * needed OCR; a child that finds a scanned page with nothing loaded loads
 * them itself (its filter allows reading files and mapping them), before it
 * forks its own OCR helpers, which inherit them.
 *
 * Ownership and lifetime: the libraries stay loaded until the process ends
 * (never dlclose'd); ocrlib's pointers are valid once ocrlib_load() returned
 * 0 for what they belong to, and stay valid in forked children.
 */
#ifndef MOAT_INGEST_OCRLIB_H
#define MOAT_INGEST_OCRLIB_H

#include <leptonica/allheaders.h>
#include <tesseract/capi.h>

#include "../core/err.h"

/* The Debian 12 sonames, and the packages that bring them. */
#define OCRLIB_LEPTONICA_SO "liblept.so.5"
#define OCRLIB_TESSERACT_SO "libtesseract.so.5"
#define OCRLIB_LEPTONICA_DEB "liblept5"
#define OCRLIB_TESSERACT_DEB "libtesseract5"

/* The libraries moat loads on demand, NULL-terminated (what `models bundle
 * --include-self` must carry besides what the program links). */
extern const char *const ocrlib_sonames[];

#define OCRLIB_LEPTONICA_FUNCS(X) \
	X(getFormatExtension) X(getLeptonicaVersion) X(lept_free) X(setMsgSeverity) \
	X(pixClone) X(pixConvertTo1) X(pixConvertTo8) X(pixCreateNoInit) X(pixDestroy) X(pixFindSkew) \
	X(pixGetColormap) X(pixGetData) X(pixGetDepth) X(pixGetHeight) X(pixGetWidth) X(pixGetWpl) \
	X(pixGetXRes) X(pixGetYRes) X(pixReadHeaderMem) X(pixReadMem) X(pixReadMemFromMultipageTiff) \
	X(pixRemoveColormap) X(pixRotate) X(pixRotateOrth) X(pixSetResolution)

#define OCRLIB_TESSERACT_FUNCS(X) \
	X(TessVersion) X(TessDeleteText) X(TessBaseAPICreate) X(TessBaseAPIDelete) \
	X(TessBaseAPIInit3) X(TessBaseAPIEnd) X(TessBaseAPIClear) X(TessBaseAPISetVariable) \
	X(TessBaseAPISetPageSegMode) X(TessBaseAPISetImage2) X(TessBaseAPISetSourceResolution) \
	X(TessBaseAPIRecognize) X(TessBaseAPIGetIterator) X(TessBaseAPIDetectOrientationScript) \
	X(TessResultIteratorGetPageIterator) X(TessResultIteratorGetUTF8Text) \
	X(TessResultIteratorConfidence) X(TessResultIteratorDelete) \
	X(TessPageIteratorIsAtBeginningOf) X(TessPageIteratorBoundingBox) \
	X(TessPageIteratorBlockType) X(TessPageIteratorNext)

struct ocrlib {
#define OCRLIB_PTR(name) __typeof__(name) *name;
	OCRLIB_LEPTONICA_FUNCS(OCRLIB_PTR)
	OCRLIB_TESSERACT_FUNCS(OCRLIB_PTR)
#undef OCRLIB_PTR
	/* libgomp's, when Tesseract brought it; NULL otherwise */
	void (*omp_set_max_active_levels)(int);
};

/* The functions; only those of what ocrlib_load() loaded are set. */
extern const struct ocrlib *const ocrlib;

enum ocrlib_what {
	OCRLIB_LEPTONICA = 1,   /* images: decoding, rotating */
	OCRLIB_TESSERACT = 3,   /* OCR: Tesseract and the Leptonica it needs */
};

/*
 * Loads what `what` names, once per process (thread-safe; a later call
 * returns at once).  Returns 0, or -1 with e set (MOAT_ENOTFOUND): "cannot
 * load Tesseract: <the loader's reason> (install the Debian package
 * libtesseract5)"; a failure is remembered and every later call fails the
 * same way, so a file that needs OCR fails with that message and others
 * still ingest.
 */
int ocrlib_load(enum ocrlib_what what, struct moat_err *e) __attribute__((warn_unused_result));

#endif
