/*
 * docfmt.h - what moat's document readers (PDF, OCR, images, Office files,
 * e-mail) share, internal to src/ingest: the limits with their defaults,
 * joining the lines of a paragraph (hyphenation undone), a table's text
 * (the HTML and Markdown readers' too, through blockstack.c), a zip reader
 * with limits against zip bombs, and an XML parser that refuses DTDs (no
 * entity expansion, no external entities).  All of it is in docutil.c.
 *
 * Not for: the readers themselves (reader.h), the OCR engine (ocr.h) or the
 * sandbox (sandbox.h).  Not a public interface: other modules use ingest.h.
 *
 * Uses core/ (buf, utf8), libzip, libxml2 and jansson; calls nothing else in
 * src/ingest.
 */
#ifndef MOAT_DOCFMT_H
#define MOAT_DOCFMT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libxml/tree.h>

#include "ingest.h"
#include "../core/buf.h"

/* --- limits: an option's value, or its default when 0 ------------------- */
size_t docfmt_max_memory(const struct ingest_opts *o);
unsigned docfmt_max_cpu(const struct ingest_opts *o);
unsigned docfmt_max_pages(const struct ingest_opts *o);
size_t docfmt_max_unzipped(const struct ingest_opts *o);
unsigned docfmt_max_zip_ratio(const struct ingest_opts *o);
unsigned docfmt_max_zip_entries(const struct ingest_opts *o);
int docfmt_ocr_dpi(const struct ingest_opts *o);
const char *docfmt_ocr_lang(const struct ingest_opts *o);

/* --- errors ------------------------------------------------------------- */
/*
 * The error for a document that doc_add() refused (d->over_limit): the
 * memory doc_add() could not get (d->nomem), or its element limit reached
 * ("more than N elements").  Returns -1.
 */
int docfmt_limit_error(const struct doc *d, struct moat_err *e) __attribute__((warn_unused_result));

/* --- text --------------------------------------------------------------- */
/*
 * Appends one line of a paragraph: a space between lines, or nothing when the
 * text so far ends in a hyphen after a letter and the line starts with a
 * lowercase letter (the hyphen is then dropped: "adip-" + "iscing").
 */
void para_add_line(struct buf *para, const char *line, size_t len);
/* 1 when the UTF-8 at s starts with a lowercase letter. */
int utf8_starts_lower(const char *s, size_t len);
/* A table's text: its rows (arrays of cell strings) one per line, cells
 * joined by " | ", each line without trailing spaces (appending). */
void table_text(json_t *rows, struct buf *out);
/* table_text() without the trimming: each cell's text as it is. */
void table_join(json_t *rows, struct buf *out);
/* Collapses runs of whitespace to one space and trims (in place). */
void text_squeeze(struct buf *b);

/* --- zip ---------------------------------------------------------------- */
struct ozip;
/*
 * Opens a zip held in memory.  Fails on a damaged zip, more entries than
 * o->max_zip_entries, or a declared total size over o->max_unzipped.  data
 * must outlive the handle.
 */
struct ozip *ozip_open(const unsigned char *data, size_t len, const struct ingest_opts *o,
		       struct moat_err *e) __attribute__((warn_unused_result));
void ozip_close(struct ozip *z);
int ozip_has(struct ozip *z, const char *name);
/* Entry names, for iteration: index < ozip_count(). */
size_t ozip_count(struct ozip *z);
const char *ozip_name(struct ozip *z, size_t index);
/*
 * Reads an entry into out (replacing its contents).  Counts the bytes
 * actually inflated against the limits (the sizes a zip declares can lie):
 * the total over all reads, and the ratio of this entry.  Returns 0, or -1
 * with MOAT_ENOTFOUND for a missing entry, MOAT_ELIMIT for a zip bomb.
 */
int ozip_read(struct ozip *z, const char *name, struct buf *out, struct moat_err *e)
	__attribute__((warn_unused_result));

/* The Office kind of a zip, from its [Content_Types].xml: "docx", "xlsx",
 * "pptx", or NULL (not OOXML, or another kind of OOXML). */
const char *ooxml_kind(const unsigned char *data, size_t len);

/* --- XML ---------------------------------------------------------------- */
/*
 * Parses XML without the network, without DTDs (a document with a DOCTYPE is
 * refused, so no entity can be declared, expanded or fetched) and without
 * the "huge" option's relaxed limits.  what names the part in the message.
 */
xmlDocPtr xml_parse_safe(const char *data, size_t len, const char *what, struct moat_err *e)
	__attribute__((warn_unused_result));
/* The node's local name equals name (namespace prefixes ignored). */
int xml_is(const xmlNode *n, const char *name);
/* An attribute by local name (any namespace), or NULL; the string belongs
 * to the caller (xmlFree). */
char *xml_attr(const xmlNode *n, const char *name);

#endif
