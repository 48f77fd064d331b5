/*
 * parse.c - ingest_parse(), the dispatcher: a format name to its reader
 * (reader.h), and the element limit checked once for all of them.
 *
 * Not for: telling formats apart (detect.c) or running the reader in a
 * child process (zygote.c).
 *
 * How the files of src/ingest depend on each other (each arrow a call; none
 * runs back up, so no two files call each other in a circle):
 *
 *   run.c ----> detect.c -> docutil.c (zip: an Office file's kind)
 *     |
 *     +-------> zygote.c -> parse.c, sandbox.c, wire.c, ocr.c (warm-up)
 *
 *   parse.c --> text.c, markdown.c, html.c, csv.c, json.c, image.c,
 *               pdf.c, docx.c, xlsx.c, pptx.c, email.c
 *   email.c --> text.c, html.c, detect.c; attachments through the
 *               ingest_parse_fn it is handed (the dispatcher), not a call
 *   pdf.c ----> pdf_*.c (pdf.h), ocr.c; pdf_ocr.c -> sandbox.c, ocr.c
 *   docx.c, xlsx.c, pptx.c -> ooxml.c (ooxml.h)
 *   image.c --> ocr.c
 *   sandbox.c -> wire.c
 *   readers, ocr.c, wire.c -> docutil.c (docfmt.h)
 */
#include "ingest.h"
#include "docfmt.h"
#include "reader.h"
#include "confine.h"
#include "sandbox.h"

#include <string.h>

#include "../core/banned.h"

static int read_csv(const unsigned char *data, size_t len, const struct ingest_opts *o,
		    struct doc *d, struct moat_err *e)
{
	return ingest_csv(data, len, ',', o, d, e);
}

static int read_tsv(const unsigned char *data, size_t len, const struct ingest_opts *o,
		    struct doc *d, struct moat_err *e)
{
	return ingest_csv(data, len, '\t', o, d, e);
}

static int read_json(const unsigned char *data, size_t len, const struct ingest_opts *o,
		     struct doc *d, struct moat_err *e)
{
	return ingest_json(data, len, 0, o, d, e);
}

static int read_jsonl(const unsigned char *data, size_t len, const struct ingest_opts *o,
		      struct doc *d, struct moat_err *e)
{
	return ingest_json(data, len, 1, o, d, e);
}

static int read_email(const unsigned char *data, size_t len, const struct ingest_opts *o,
		      struct doc *d, struct moat_err *e)
{
	return ingest_email(data, len, o, ingest_parse, d, e);
}

static const struct {
	const char *format;
	int (*read)(const unsigned char *data, size_t len, const struct ingest_opts *o,
		    struct doc *d, struct moat_err *e);
} readers[] = {
	{ "text", ingest_text },   { "markdown", ingest_markdown }, { "html", ingest_html },
	{ "csv", read_csv },       { "tsv", read_tsv },             { "json", read_json },
	{ "jsonl", read_jsonl },   { "pdf", ingest_pdf },           { "image", ingest_image },
	{ "docx", ingest_docx },   { "xlsx", ingest_xlsx },         { "pptx", ingest_pptx },
	{ "email", read_email },   { "render", ingest_render },
};

int ingest_parse(const char *format, const unsigned char *data, size_t len,
		 const struct ingest_opts *o, struct doc *d, struct moat_err *e)
{
	size_t i = 0;
	int rc;
	d->format = format;
	if (!d->meta)  /* doc_init() could not make it */
		return err_set(e, MOAT_ENOMEM, "out of memory");
#ifdef MOAT_TEST_HOOKS
	if (confine_attacks_enabled() && sandbox_in_child() && len > 20 &&
	    !memcmp(data, "MOAT-SANDBOX-ATTACK ", 20))
		return confine_attack((const char *)data + 20, len - 20, e);
#endif
	while (i < sizeof(readers) / sizeof(readers[0]) && strcmp(format, readers[i].format))
		i++;
	if (i == sizeof(readers) / sizeof(readers[0]))
		return err_set(e, MOAT_EUNSUPPORTED, "unknown format '%s'", format);
	rc = readers[i].read(data, len, o, d, e);
	if (rc == 0 && d->over_limit)
		return docfmt_limit_error(d, e);
	return rc;
}
