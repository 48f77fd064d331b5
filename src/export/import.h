/*
 * import.h - `moat import` as a library call: annotations made with other
 * tools (annot.h's formats) brought into the workspace as a project's tasks,
 * annotations and suggestions (store/dataset.h), one transaction per file.
 *
 * A file is read whole first (annot_import: malformed input fails naming the
 * file, the line or record and the field, before anything is stored); the
 * images it names are then ingested as documents (without OCR: the
 * annotations are about pixels), those that are here: an image named by a
 * URL or a path on the annotation tool's server stays a name on its task
 * (label-studio exports keep it; the image layouts leave such tasks out);
 * then its tasks and annotations are written
 * in one transaction, so a file is imported whole or not at all (images
 * already ingested stay as documents).  Human annotations get status
 * o->status (accepted by default) and annotator "<user>" or, when the file
 * names one, "<user>:<name in the file>"; predictions become suggestions
 * with the model version and score the file gives.  Texts imported this way
 * are not cleaned: exporting them needs --raw (export.h).
 *
 * Not for: printing or the audit record (cmd/import.c).  Uses export/
 * (annot, annot_value), ingest/ (ingest_run, for the images), store/
 * (dataset.h), core/ and jansson.
 */
#ifndef MOAT_IMPORT_H
#define MOAT_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

struct store;

struct import_opts {
	const char *format;
	const char *project;    /* NULL: "default" */
	unsigned status;        /* a DS_ bit; 0: accepted */
	const char *user;       /* the importing user */
	int64_t run_id;         /* the import's run, recorded on its rows */
};

struct import_result {
	size_t items, annotations, suggestions, images;
	char kind[8];           /* "text" or "image" */
	char sha256[65];        /* of the file (a directory: of its path) */
	char images_sha256[65]; /* ingest's digest of the image documents stored, "" for none */
};

/* Imports one file or dataset directory.  0, or -1 with e set and nothing
 * of it stored. */
int import_file(struct store *s, const char *path, const struct import_opts *o,
		struct import_result *r, struct moat_err *e) __attribute__((warn_unused_result));

#endif
