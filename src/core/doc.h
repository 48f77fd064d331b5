/*
 * doc.h - the document and element records every ingest format produces, the
 * store keeps and later stages read: the data model they share, so that the
 * store (the lower layer) never needs the ingest module.  The element-type
 * table lives here for the same reason.
 *
 * Uses core/buf.h, core/hash.h, core/utf8.h and jansson.
 *
 * A document's full text is its elements' texts joined by a blank line;
 * each element's [start, end) is its place in that text, counted in Unicode
 * code points (end exclusive), so spans from spaCy, Prodigy or Presidio line
 * up with it.  doc_add() keeps text and offsets in step; formats never compute
 * offsets themselves.
 *
 * Ownership: a struct doc owns its text, its elements and their metadata
 * (jansson references).  doc_release() frees all of it.
 */
#ifndef MOAT_DOC_H
#define MOAT_DOC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"

#define ELEMENT_TYPES(X)      \
	X(TITLE, "title")     \
	X(HEADING, "heading") \
	X(PARAGRAPH, "paragraph") \
	X(LIST_ITEM, "list_item") \
	X(TABLE, "table")     \
	X(TABLE_ROW, "table_row") \
	X(CODE, "code")       \
	X(QUOTE, "quote")     \
	X(CAPTION, "caption") \
	X(HEADER, "header")   \
	X(FOOTER, "footer")   \
	X(PAGE_BREAK, "page_break") \
	X(RECORD, "record")   \
	X(OTHER, "other")     \
	X(CHART, "chart")

enum element_type {
#define EL_ENUM(n, s) EL_##n,
	ELEMENT_TYPES(EL_ENUM)
#undef EL_ENUM
	EL__COUNT
};

const char *element_type_name(enum element_type t);
int element_type_parse(const char *s);  /* -1 when unknown */

struct element {
	enum element_type type;
	int level;        /* heading level 1..6, list depth; 0 when none */
	int page;         /* 1-based page, 0 when the format has none */
	size_t start;     /* code points into the document text */
	size_t end;
	size_t byte_start, byte_len;  /* the same span in bytes of doc->text */
	json_t *meta;     /* owned reference, or NULL */
};

struct doc_limits {
	size_t max_elements;  /* 0: no limit */
	size_t max_text;      /* bytes of full text, 0: no limit */
};

struct doc_child;

struct doc {
	const char *format;   /* "text", "markdown", "html", "csv", "json", "jsonl", "pdf", "image",
				 "docx", "xlsx", "pptx", "email" */
	const char *encoding; /* detected source encoding, static string */
	struct buf text;      /* UTF-8, the full text */
	size_t text_cps;      /* code points in text */
	struct element *el;
	size_t n_el, alloc_el;
	json_t *meta;         /* document-level metadata (object), owned */
	struct doc_limits limits;
	int over_limit;       /* sticky: an element or text limit was reached, or nomem */
	int nomem;            /* sticky: doc_add() ran out of memory (over_limit set too) */
	struct doc_child *children;  /* documents inside this one (e-mail attachments), owned */
	size_t n_children;
};

/*
 * A document found inside another (an e-mail's attachment): its bytes, which
 * go to objects/ under id, and its parsed form, stored with the parent's id as
 * parent_id.  A child that could not be parsed has failed set, error saying
 * why, and an empty doc.
 */
struct doc_child {
	char id[65];          /* SHA-256 hex of data */
	char *name;           /* file name given by the container, malloc'd, may be NULL */
	char *mime;           /* malloc'd, may be NULL */
	unsigned char *data;  /* malloc'd, len bytes */
	size_t len;
	int failed;
	char *error;          /* malloc'd when failed */
	struct doc doc;
};

/* Makes d an empty document.  -1 when out of memory: d is still empty and
 * must be released, but has no meta. */
int doc_init(struct doc *d, struct doc_limits limits) __attribute__((warn_unused_result));
void doc_release(struct doc *d);
/* Empties d again after a failed parse, keeping its limits and format: no
 * text, elements or children, meta an empty object (when it had one). */
void doc_clear(struct doc *d);

/*
 * Appends an element.  The text is trimmed of surrounding whitespace and
 * runs of whitespace inside paragraphs are kept as they are (formats decide).
 * Empty texts are dropped (returns 0 without adding).  meta: a reference the
 * document takes over (may be NULL).  Returns 1 when added, 0 when dropped,
 * -1 when a limit was reached (d->over_limit is then set).  The text must be
 * valid UTF-8.  Out of memory counts as a limit (d->over_limit), so that
 * readers stop, and sets d->nomem, so that the error says which.
 */
int doc_add(struct doc *d, enum element_type type, int level, const char *text, size_t len,
	    json_t *meta);
/* doc_add() for formats with pages: the element gets page (1-based). */
int doc_add_page(struct doc *d, enum element_type type, int level, int page, const char *text,
		 size_t len, json_t *meta);
/* Appends a child document taking over data (malloc'd) and name/mime (copied);
 * returns the new child (its doc is doc_init'd with d's limits), or NULL when
 * out of memory (data is then freed, or is the appended child's, which
 * doc_release(d) frees). */
struct doc_child *doc_add_child(struct doc *d, unsigned char *data, size_t len, const char *name,
				const char *mime);

static inline const char *doc_el_text(const struct doc *d, const struct element *e)
{
	return d->text.data + e->byte_start;
}

#endif
