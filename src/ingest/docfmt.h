/*
 * docfmt.h - what moat's document readers (PDF, OCR, images, Office files,
 * e-mail) share, internal to src/ingest: the limits with their defaults,
 * joining the lines of a paragraph (hyphenation undone), a zip reader
 * with limits against zip bombs, an XML parser that refuses DTDs (no entity
 * expansion, no external entities), and the OCR engine.
 *
 * Not a public interface: other modules use ingest.h.
 */
#ifndef MOAT_DOCFMT_H
#define MOAT_DOCFMT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libxml/tree.h>

#include "ingest.h"
#include "../core/base64.h"
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
		       struct moat_err *e);
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
int ozip_read(struct ozip *z, const char *name, struct buf *out, struct moat_err *e);

/* The Office kind of a zip, from its [Content_Types].xml: "docx", "xlsx",
 * "pptx", or NULL (not OOXML, or another kind of OOXML). */
const char *ooxml_kind(const unsigned char *data, size_t len);

/* --- XML ---------------------------------------------------------------- */
/*
 * Parses XML without the network, without DTDs (a document with a DOCTYPE is
 * refused, so no entity can be declared, expanded or fetched) and without
 * the "huge" option's relaxed limits.  what names the part in the message.
 */
xmlDocPtr xml_parse_safe(const char *data, size_t len, const char *what, struct moat_err *e);
/* The node's local name equals name (namespace prefixes ignored). */
int xml_is(const xmlNode *n, const char *name);
/* An attribute by local name (any namespace), or NULL; the string belongs
 * to the caller (xmlFree). */
char *xml_attr(const xmlNode *n, const char *name);

/* --- the sandbox (sandbox.c) --------------------------------------------- */
/*
 * Runs fn(arg, d, e) in a child process with o's memory and CPU limits and
 * brings d (and e on failure) back.  A crash, a time-out or a limit reached
 * fails with the reason.  ingest_parse_sandboxed() is this with ingest_parse.
 */
typedef int (*sandbox_fn)(void *arg, struct doc *d, struct moat_err *e);
int sandbox_run(sandbox_fn fn, void *arg, const struct ingest_opts *o, struct doc *d,
		struct moat_err *e);
/* The same in two steps, so that several children can work at once:
 * sandbox_start() forks (the child gets lim for its document), and
 * sandbox_finish() collects into d, which must be doc_init'd. */
struct sandbox_job {
	pid_t pid;
	int fd;
	double deadline;
	const struct ingest_opts *o;
};
int sandbox_start(sandbox_fn fn, void *arg, const struct ingest_opts *o, struct doc_limits lim,
		  struct sandbox_job *j, struct moat_err *e);
int sandbox_finish(struct sandbox_job *j, struct doc *d, struct moat_err *e);
/* 1 in a sandbox's child (single-threaded, free to fork helpers of its own). */
int sandbox_in_child(void);
/* A static copy of s (formats and encodings must outlive any document). */
const char *docfmt_intern(const char *s);
/* Serialises d (elements, metadata, children) to JSON and back; the reader
 * rebuilds d through doc_add_page, so offsets come out the same. */
json_t *doc_to_json(const struct doc *d);
int doc_from_json(json_t *j, struct doc *d, struct moat_err *e);

/* --- OCR (ocr.c) ------------------------------------------------------- */
struct Pix;
struct ocr;
/*
 * Starts Tesseract for o->ocr_lang, single-threaded.  A missing language
 * pack fails naming the Debian package ("install tesseract-ocr-deu").
 */
struct ocr *ocr_new(const struct ingest_opts *o, struct moat_err *e);
void ocr_free(struct ocr *ocr);
/*
 * Starts Tesseract for o->ocr_lang ahead of time in a process that forks
 * parsers (the sandbox's helper): ocr_new in a forked child then hands out
 * this one, already loaded, instead of reading the language models again
 * (a quarter of a small image's time).  The child's copy is its own, and a
 * warm Tesseract never reads a page in the helper, so each document still
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
	     size_t *words, struct moat_err *e);

#endif
