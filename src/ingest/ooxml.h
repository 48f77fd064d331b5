/*
 * ooxml.h - what the Office Open XML readers (docx.c, xlsx.c, pptx.c) share,
 * internal to them: a package's relationships, its main part and core
 * properties, XML helpers, and tables as elements.  All of it is in ooxml.c.
 *
 * Not for: the zip reader and the DTD-refusing XML parser (docfmt.h), which
 * these use; nor anything outside the three readers.
 *
 * Charts, SmartArt diagrams and a drawing's text boxes (what sits in a
 * graphic frame) are read in ooxml_chart.c, declared here too.
 *
 * Uses docfmt.h, libxml2 and core/doc.h.
 *
 * Ownership: ooxml_load_rels() fills a struct rels the caller frees with
 * ooxml_rels_free(); strings from ooxml_main_part(), ooxml_rel_id() and
 * ooxml_child_attr() are the caller's (free, or xmlFree for the XML ones,
 * as noted).
 */
#ifndef MOAT_INGEST_OOXML_H
#define MOAT_INGEST_OOXML_H

#include <stddef.h>

#include <libxml/tree.h>

#include "docfmt.h"

/* A package relationship; target is an absolute part name, no leading '/'. */
struct rel {
	char *id, *type, *target;
};

struct rels {
	struct rel *r;
	size_t n;
};

/* Opens the package (ozip_open with o's limits).  0 or -1. */
int ooxml_open_package(const unsigned char *data, size_t len, const struct ingest_opts *o,
		       struct ozip **z, struct moat_err *e) __attribute__((warn_unused_result));
/* Reads and parses a part (no DTD).  0 with *out, or -1 (*out NULL). */
int ooxml_load_xml(struct ozip *z, const char *part, xmlDocPtr *out, struct moat_err *e)
	__attribute__((warn_unused_result));
/* The relationships of part ("" for the package's own); a missing .rels is
 * no relationships.  0 or -1; rs is freed with ooxml_rels_free either way. */
int ooxml_load_rels(struct ozip *z, const char *part, struct rels *rs, struct moat_err *e)
	__attribute__((warn_unused_result));
void ooxml_rels_free(struct rels *rs);
/* The target of relationship id, or NULL. */
const char *ooxml_rel_target(const struct rels *rs, const char *id);
/* The target of the first relationship whose type ends in suffix, or NULL. */
const char *ooxml_rel_by_type(const struct rels *rs, const char *suffix);
/* The package's main part (from _rels/.rels), or def; malloc'd, NULL on
 * failure. */
char *ooxml_main_part(struct ozip *z, const char *def, struct moat_err *e)
	__attribute__((warn_unused_result));
/* The relationship id of n: its r:id (an "id" in a namespace, not a plain
 * one); xmlFree it.  NULL when none. */
char *ooxml_rel_id(const xmlNode *n);
/* n's first child element named name, or NULL. */
xmlNode *ooxml_child(const xmlNode *n, const char *name);
/* n's first descendant named name, depth first, within 16 levels; or NULL. */
const xmlNode *ooxml_descendant(const xmlNode *n, const char *name);
/* An attribute of that child (xmlFree it), or NULL. */
char *ooxml_child_attr(const xmlNode *n, const char *name, const char *attr);
/* ooxml_load_xml() for a part the document can do without: 1 loaded, 0
 * absent, -1 with e set when it is there but cannot be read (damaged XML, a
 * DTD, a limit, memory): a part that is there is never silently skipped. */
int ooxml_load_optional(struct ozip *z, const char *part, xmlDocPtr *out, struct moat_err *e)
	__attribute__((warn_unused_result));
/* Document properties from docProps/core.xml into d->meta.  0 or -1 (out of
 * memory); a damaged core.xml is skipped. */
int ooxml_core_props(struct ozip *z, struct doc *d, struct moat_err *e)
	__attribute__((warn_unused_result));
/* Adds a table element on page: its rows (arrays of cell strings, taken
 * over) as text "a | b" per row and in meta "rows", with n_rows and n_cols;
 * extra (taken over, may be NULL) is the meta to add them to.  doc_add's
 * result: 1, 0, or -1 (d->over_limit set), and -1 out of memory. */
int ooxml_add_table(struct doc *d, int page, json_t *rows, json_t *extra)
	__attribute__((warn_unused_result));
/* Reads one table cell tc (an a:tc or w:tc): appends its text to t and
 * returns how many grid columns it spans (1 for most). */
typedef long (*ooxml_cell_fn)(void *ud, const xmlNode *tc, struct buf *t);
/* The rows of table tbl (its tr children), as arrays of cell strings, each
 * cell read by cell(ud, ...) with its whitespace squeezed, and a cell that
 * spans columns followed by empty strings (63 at most).  NULL out of memory
 * (a buffer cell failed, or jansson). */
json_t *ooxml_table_rows(const xmlNode *tbl, ooxml_cell_fn cell, void *ud)
	__attribute__((warn_unused_result));

/* DrawingML text (a:t runs, a:br as a line break, a:tab) under n, appended
 * to out. */
void ooxml_a_text(const xmlNode *n, struct buf *out);
/* A cell's or a chart point's number as Excel shows it in general format
 * ("120", "0.25"); a value that is not a number is appended as it is. */
void ooxml_number(const char *v, struct buf *out);

/* --- graphic frames: charts, SmartArt, text boxes (ooxml_chart.c) -------- */

/*
 * Resolves a chart's cell reference ("'Sales'!$B$2:$B$4") to its cells'
 * texts, appended to out as strings in reading order, for a chart part that
 * carries no cached values (openpyxl writes none; XLSX only).  0, or -1 out
 * of memory; a reference that names nothing appends nothing.
 */
typedef int (*ooxml_ref_fn)(void *ud, const char *formula, json_t *out);

/*
 * Reads the chart part (c:chartSpace) as one element of type chart on page:
 * title, axis titles, series names, categories and values (the cached ones,
 * or through ref when there are none; ref may be NULL).  Its text is the
 * title, the axis titles and a table of categories by series; its meta has
 * chart_type, title, axis_titles, categories, series [{name, values}] and
 * part.  A missing part adds nothing; a damaged one fails (e says which).
 * 0, or -1: e set, or d->over_limit set (doc_add refused).
 */
int ooxml_add_chart(struct ozip *z, const char *part, struct doc *d, int page, ooxml_ref_fn ref,
		    void *ud, struct moat_err *e) __attribute__((warn_unused_result));
/*
 * Reads a SmartArt diagram's data part (dgm:dataModel): each node with text
 * a list item, its level the node's depth in the diagram's tree, in the
 * diagram's order; meta {"diagram": part}.  Returns as ooxml_add_chart().
 */
int ooxml_add_diagram(struct ozip *z, const char *part, struct doc *d, int page,
		      struct moat_err *e) __attribute__((warn_unused_result));
/*
 * What graphic frame n (or anything holding an a:graphicData: a DOCX
 * drawing, an XLSX anchor) shows: a chart (c:chart r:id) or a SmartArt
 * diagram (dgm:relIds r:dm), found through rs (the relationships of the part
 * n is in) and added as above.  1 when one was added, 0 when n holds
 * neither (a picture), -1 as ooxml_add_chart().
 */
int ooxml_add_graphic(struct ozip *z, const struct rels *rs, const xmlNode *n, struct doc *d,
		      int page, ooxml_ref_fn ref, void *ud, struct moat_err *e)
	__attribute__((warn_unused_result));

#endif
