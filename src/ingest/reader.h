/*
 * reader.h - the format readers, internal to src/ingest: one function per
 * format, each turning a file's bytes into the elements of d (already
 * doc_init'd) through doc_add().  ingest_parse() (parse.c) picks the reader
 * by format name; nothing outside src/ingest calls them.  On failure d may
 * hold part of the document and e says why (the caller names the file).
 *
 * Not for: telling formats apart (detect.c), processes (sandbox.c,
 * zygote.c) or the workspace (run.c).
 *
 * Readers use core/, docfmt.h's helpers, the OCR engine (ocr.h) and, for a
 * PDF's scanned pages, the sandbox (sandbox.h).  The e-mail reader also
 * detects its attachments' formats (detect.c) and reads its body with the
 * text and HTML readers; it has the attachments parsed by the dispatcher it
 * is given, so that no reader calls parse.c and no two files call each other.
 */
#ifndef MOAT_INGEST_READER_H
#define MOAT_INGEST_READER_H

#include <stddef.h>

#include "ingest.h"

/* ingest_parse()'s type: how a container has the documents inside it parsed. */
typedef int (*ingest_parse_fn)(const char *format, const unsigned char *data, size_t len,
			       const struct ingest_opts *o, struct doc *d, struct moat_err *e);

int ingest_text(const unsigned char *data, size_t len, const struct ingest_opts *o,
		struct doc *d, struct moat_err *e) __attribute__((warn_unused_result));
int ingest_markdown(const unsigned char *data, size_t len, const struct ingest_opts *o,
		    struct doc *d, struct moat_err *e) __attribute__((warn_unused_result));
int ingest_html(const unsigned char *data, size_t len, const struct ingest_opts *o,
		struct doc *d, struct moat_err *e) __attribute__((warn_unused_result));
/* delim: ',' for CSV, '\t' for TSV (a .csv whose header has more ';' than
 * ',' is read with ';'). */
int ingest_csv(const unsigned char *data, size_t len, char delim, const struct ingest_opts *o,
	       struct doc *d, struct moat_err *e) __attribute__((warn_unused_result));
/* lines: JSON Lines rather than one JSON value. */
int ingest_json(const unsigned char *data, size_t len, int lines, const struct ingest_opts *o,
		struct doc *d, struct moat_err *e) __attribute__((warn_unused_result));

/* The document formats (issue 5). */
int ingest_pdf(const unsigned char *data, size_t len, const struct ingest_opts *o,
	       struct doc *d, struct moat_err *e) __attribute__((warn_unused_result));
int ingest_image(const unsigned char *data, size_t len, const struct ingest_opts *o,
		 struct doc *d, struct moat_err *e) __attribute__((warn_unused_result));
/* A PDF page or an image as PNG (render.c; called as the format "render"). */
int ingest_render(const unsigned char *data, size_t len, const struct ingest_opts *o,
		  struct doc *d, struct moat_err *e);
int ingest_docx(const unsigned char *data, size_t len, const struct ingest_opts *o,
		struct doc *d, struct moat_err *e) __attribute__((warn_unused_result));
int ingest_xlsx(const unsigned char *data, size_t len, const struct ingest_opts *o,
		struct doc *d, struct moat_err *e) __attribute__((warn_unused_result));
int ingest_pptx(const unsigned char *data, size_t len, const struct ingest_opts *o,
		struct doc *d, struct moat_err *e) __attribute__((warn_unused_result));
/* Attachments become d's children, each parsed with parse (the
 * dispatcher, ingest_parse). */
int ingest_email(const unsigned char *data, size_t len, const struct ingest_opts *o,
		 ingest_parse_fn parse, struct doc *d, struct moat_err *e)
	__attribute__((warn_unused_result));

#endif
