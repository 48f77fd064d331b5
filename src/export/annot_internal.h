/*
 * annot_internal.h - what the annotation format files share, and nothing
 * outside src/export/ includes: error messages in one shape, bounded reads,
 * JSON streams, code-point indexes, the checks every importer applies to
 * spans and boxes, image sizes from file headers, and the output side of an
 * export (the splits to write, the effective label list, unique file names,
 * files written into the export directory).
 *
 * Not for: the model itself (annot.h) or any one format's rules (those stay
 * in annot_<format>.c, so each format reads top to bottom in one file).
 *
 * Importers write into a fresh set that annot_import() owns: on failure they
 * just return -1 (freeing only their own locals) and annot_import() drops
 * the whole set, so the caller's set never sees half a file.  They add to the
 * set's label list only labels in class-id order (COCO, YOLO):
 * annot_import() adds every label the items use.
 */
#ifndef MOAT_ANNOT_INTERNAL_H
#define MOAT_ANNOT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "annot.h"

/* --- errors ---------------------------------------------------------------- */

/* Sets e to one line, "FILE: UNIT N: field 'FIELD': MESSAGE", leaving out
 * the unit when unit is NULL and the field when field is NULL or empty.
 * Returns -1. */
int annot_err(struct moat_err *e, int code, const char *file, const char *unit, size_t n,
	      const char *field, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* A field path such as "annotations[2].result[0]" into dst (size bytes);
 * cut with "..." when it does not fit (it only names a place in a message). */
void annot_field(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* --- reading --------------------------------------------------------------- */

/* Reads a whole file into out (which must be empty), refusing files over
 * ANNOT_MAX_FILE_BYTES. */
int annot_read_file(const char *path, struct buf *out, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Reads and parses one JSON document (an object or an array).  On a syntax
 * error, e names the file, the line and column, and what was wrong. */
int annot_json_load(const char *path, json_t **out, struct moat_err *e)
	__attribute__((warn_unused_result));

/* A stream of JSON objects: JSON Lines, or values one after another over any
 * number of lines (doccano's "JSONL" examples are pretty-printed). */
struct annot_jstream {
	const char *file;
	const char *data;
	size_t len, off;
	size_t line;        /* 1-based line of off */
};
void annot_jstream_init(struct annot_jstream *js, const char *file, const char *data, size_t len);
/* The next object into *out (a new reference) and the line it starts on;
 * returns 1, 0 at the end, -1 with e set on bad JSON or a value that is not
 * an object. */
int annot_jstream_next(struct annot_jstream *js, json_t **out, size_t *line, struct moat_err *e)
	__attribute__((warn_unused_result));

/* The regular files of dir (names only, sorted bytewise, hidden ones left
 * out) that accept() takes (NULL: all), as a malloc'd array of malloc'd
 * strings. */
int annot_list_dir(const char *dir, int (*accept)(const char *name), char ***names, size_t *n,
		   struct moat_err *e) __attribute__((warn_unused_result));
void annot_free_list(char **names, size_t n);

/* 1 when name ends in ext (".json"), ignoring case. */
int annot_has_ext(const char *name, const char *ext);
/* 1 for the extensions of the image files a dataset may hold. */
int annot_is_image_name(const char *name);

/* The split a file's name says, or NULL: "train.jsonl" and "eng.train" give
 * "train"; the words are train, val, valid, validation, dev, test, testa,
 * testb (kept as written).  Malloc'd; *out NULL when none. */
int annot_split_from_name(const char *path, char **out) __attribute__((warn_unused_result));

/* The absolute form of the directory holding path (malloc'd), or NULL. */
char *annot_realdir(const char *path);
/* A path named by a file in directory dir: URLs ("scheme://", "data:") and
 * absolute paths are kept, others joined to dir.  Malloc'd. */
char *annot_resolve(const char *dir, const char *name);
/* The last component of path, and that without its extension (malloc'd). */
const char *annot_basename(const char *path);
char *annot_stem(const char *path);

/* An id from a JSON value: strings as they are, integers in decimal; NULL
 * for null or absent.  -1 for another type (out stays NULL). */
int annot_json_id(const json_t *v, char **out) __attribute__((warn_unused_result));
/* An id for output: an integer when it is all digits (and fits), else a
 * string. */
json_t *annot_id_json(const char *id);

/* An item's "meta" from a record: every member of obj except the names in
 * skip (NULL-terminated); NULL when none is left.  -1 when out of memory. */
int annot_meta_from(const json_t *obj, const char *const *skip, json_t **out)
	__attribute__((warn_unused_result));
/* Copies meta's members into obj where obj has no member of that name. */
void annot_meta_into(json_t *obj, const json_t *meta);

/* --- text ------------------------------------------------------------------ */

/* Byte offsets of each code point of valid UTF-8 s[0..len), plus one for the
 * end: (*idx)[cp] is the byte where code point cp starts, (*idx)[*n] == len.
 * Malloc'd. */
int annot_cp_index(const char *s, size_t len, size_t **idx, size_t *n)
	__attribute__((warn_unused_result));

/* NULL when [start, end) is a span of a text of n code points, else why not. */
const char *annot_span_problem(int64_t start, int64_t end, size_t n);

/* Reads a span from a JSON value: [start, end, label] (spaCy, doccano) or
 * {start|start_offset, end|end_offset, label}.  n is the text's length in
 * code points.  On failure e names file, line and field. */
int annot_json_span(const json_t *v, size_t n, int64_t *start, int64_t *end, const char **label,
		    const char *file, const char *unit, size_t at, const char *field,
		    struct moat_err *e) __attribute__((warn_unused_result));

/* --- images and boxes ------------------------------------------------------ */

/* The size of an image from its header (JPEG with its EXIF orientation, PNG,
 * GIF, BMP, WebP, TIFF), without decoding it.  Sizes outside
 * 1..ANNOT_MAX_IMAGE_SIDE are an error. */
int annot_image_size(const char *path, int *w, int *h, struct moat_err *e)
	__attribute__((warn_unused_result));

/* NULL when the pixel box (x, y, w, h) is sane for an image of iw x ih
 * (0: unknown): finite, w and h not negative, and inside the image give or
 * take max(1 px, 1%) (rotated boxes: only their corner is checked); else why
 * not. */
const char *annot_box_problem(double x, double y, double w, double h, double rotation, int iw,
			      int ih);

/* The axis-aligned box around a box rotated by its rotation (degrees
 * clockwise about its top-left corner); the box itself when not rotated. */
void annot_box_aabb(const struct annot_box *b, double *x, double *y, double *w, double *h);

/* A size from a JSON value or a string: an integer in 1..ANNOT_MAX_IMAGE_SIDE. */
int annot_size_ok(int64_t v);

/* Parses a whole string as a finite double / an integer (surrounding spaces
 * allowed); 0 on success. */
int annot_parse_double(const char *s, double *out);
int annot_parse_long(const char *s, long *out);

/* --- export ---------------------------------------------------------------- */

/* The value a format with one annotation per item writes: the item's first
 * human value, or NULL. */
const struct annot_value *annot_main_value(const struct annot_item *it);

/* The labels of a set for class ids: the set's list, then any label used in
 * a value but missing from it, in first-seen order.  Borrowed strings. */
struct annot_labels {
	const char **name;
	size_t n;
	size_t *sorted;     /* indexes of name, sorted by name, for lookups */
};
int annot_labels_of(const struct annot_set *s, struct annot_labels *l)
	__attribute__((warn_unused_result));
long annot_labels_find(const struct annot_labels *l, const char *label);
void annot_labels_release(struct annot_labels *l);

/* The splits an export writes: the listed ones that have items, in their
 * order, then any other split an item names, in first-seen order.  An item
 * whose split is NULL belongs to the first listed split ("train" when the
 * list is empty).  Fails on a name that cannot be a file name. */
struct annot_splits {
	const char **name;
	size_t n;
};
int annot_splits_of(const struct annot_set *s, const struct annot_export_opts *o,
		    int (*want)(const struct annot_item *), struct annot_splits *out,
		    struct moat_err *e) __attribute__((warn_unused_result));
void annot_splits_release(struct annot_splits *sp);
/* 1 when a split's name can be a file name (no '/', no control character,
 * not "." or ".."). */
int annot_split_ok(const char *name);
const char *annot_item_split(const struct annot_item *it, const struct annot_export_opts *o);
int annot_item_is_text(const struct annot_item *it);
int annot_item_is_image(const struct annot_item *it);

/* Unique file names within one directory of the output, unique by their
 * stem (so "a.jpg" and "a.png" do not both give "a.txt"): the wanted name
 * when its stem is free, else "N-name" with the item's number. */
struct annot_names {
	char **v;
	size_t n, cap;      /* open addressing; cap a power of two */
};
/* A name for item number idx that wants name, and its stem (both
 * malloc'd; stem may be NULL when not wanted). */
int annot_names_take(struct annot_names *nm, const char *name, size_t idx, char **out,
		     char **stem) __attribute__((warn_unused_result));
/* Remembers name: 1 when it is new, 0 when it was there, -1 out of memory. */
int annot_names_add(struct annot_names *nm, const char *name) __attribute__((warn_unused_result));
void annot_names_release(struct annot_names *nm);

/* Where an export writes: the directory, the count of files, the error. */
struct annot_out {
	const char *dir;
	long files;
	struct moat_err *e;
};
/* Writes data to dir/rel (its directories made as needed); the file must
 * not exist. */
int annot_out_write(struct annot_out *o, const char *rel, const void *data, size_t len)
	__attribute__((warn_unused_result));
/* The same for a buffer, failing on its sticky error. */
int annot_out_buf(struct annot_out *o, const char *rel, const struct buf *b)
	__attribute__((warn_unused_result));
/* Writes a JSON value (2-space indent when indent, else compact, keys in
 * their order), with a final newline. */
int annot_out_json(struct annot_out *o, const char *rel, const json_t *v, int indent)
	__attribute__((warn_unused_result));
/* A file of the export written as it is made: append to b, call
 * annot_stream_flush() now and then (it writes b out past a megabyte), and
 * annot_stream_close() at the end. */
struct annot_stream {
	struct annot_out *o;
	char *path;
	int fd;
	struct buf b;
};
/* Creates dir/rel as annot_out_write() does. */
int annot_stream_open(struct annot_out *o, const char *rel, struct annot_stream *st)
	__attribute__((warn_unused_result));
/* Writes b out when it holds a megabyte or more; fails on a write error or
 * b's sticky error. */
int annot_stream_flush(struct annot_stream *st) __attribute__((warn_unused_result));
/* With rc 0, writes the rest and closes the file, counting it; with rc -1
 * (the caller failed) only closes.  Frees the stream either way (once
 * opened).  Returns 0 or -1 with e set. */
int annot_stream_close(struct annot_stream *st, int rc);

/* Copies the file src to dir/rel. */
int annot_out_copy(struct annot_out *o, const char *src, const char *rel)
	__attribute__((warn_unused_result));
/* Makes dir/rel (and its parents). */
int annot_out_mkdir(struct annot_out *o, const char *rel) __attribute__((warn_unused_result));

/* An image item's size for an export, from the item or else the image's
 * header; fails naming the item when neither knows. */
int annot_item_size(const struct annot_item *it, size_t idx, int *w, int *h, struct moat_err *e)
	__attribute__((warn_unused_result));

/* One file per split of the items with text, "<split>.<ext>", written as a
 * stream: item() appends each item's bytes to b (0, or -1 with e set). */
int annot_export_text(const struct annot_set *s, struct annot_out *o,
		      const struct annot_export_opts *opts, const char *ext,
		      int (*item)(struct buf *b, const struct annot_item *it, size_t idx, void *arg,
				  struct moat_err *e),
		      void *arg) __attribute__((warn_unused_result));

/* One JSON Lines file per split ("<split>.jsonl"), a record() per item with
 * text (doccano and spaCy). */
int annot_export_jsonl(const struct annot_set *s, struct annot_out *o,
		       const struct annot_export_opts *opts,
		       json_t *(*record)(const struct annot_item *)) __attribute__((warn_unused_result));

/* Imports path, or each file of the directory path that accept() takes, in
 * name order, with one(file, arg); fails on a directory with none. */
int annot_import_files(const char *path, int (*accept)(const char *name),
		       int (*one)(const char *file, void *arg, struct annot_set *s,
				  struct moat_err *e),
		       void *arg, struct annot_set *s, struct moat_err *e)
	__attribute__((warn_unused_result));

/* A record of a JSON Lines importer (doccano, spaCy): where it is, and the
 * text item it became, with its one value. */
struct annot_jl {
	const char *file;
	size_t line;            /* where the record starts */
	struct annot_set *s;
	struct annot_item *it;
	struct annot_value *v;
	size_t n_cps;           /* the text's length in code points */
	struct moat_err *e;
	void *arg;              /* the importer's own, from annot_jl_import() */
};
/* Reads path (a file, or the .jsonl and .json files of a directory) as a
 * stream of JSON objects (annot_jstream): each record becomes a text item
 * (its "text", its "id", the split from the file's name, the members not in
 * known as meta, one value), which record() then fills; record() returns 0,
 * or -1 with e set. */
int annot_jl_import(const char *path, const char *const *known,
		    int (*record)(struct annot_jl *c, const json_t *rec), void *arg,
		    struct annot_set *s, struct moat_err *e) __attribute__((warn_unused_result));
/* e set to "FILE: line N: field 'FIELD': msg" (or "out of memory"); -1. */
int annot_jl_err(const struct annot_jl *c, const char *field, const char *msg);
int annot_jl_nomem(const struct annot_jl *c);
/* each() on every element of the list l (the field name), as "name[i]". */
int annot_jl_each(struct annot_jl *c, const json_t *l, const char *name,
		  int (*each)(struct annot_jl *c, const json_t *x, const char *field))
	__attribute__((warn_unused_result));
/* A list of class names (the field name) into the value's labels. */
int annot_jl_labels(struct annot_jl *c, const json_t *l, const char *name)
	__attribute__((warn_unused_result));
/* A span (annot_json_span()'s forms) into the value. */
int annot_jl_span(struct annot_jl *c, const json_t *x, const char *field)
	__attribute__((warn_unused_result));

/* A number as JSON: an integer when it is one, else a real. */
json_t *annot_num_json(double v);
/* The same number written as json_dumps() writes that value; -1 (nothing
 * written) when it is not finite. */
int annot_num_put(struct buf *b, double v) __attribute__((warn_unused_result));

/* --- the formats ----------------------------------------------------------- */

#define ANNOT_FORMAT(name)                                                                   \
	int annot_import_##name(const char *path, struct annot_set *s, struct moat_err *e)   \
		__attribute__((warn_unused_result));                                         \
	int annot_export_##name(const struct annot_set *s, struct annot_out *o,              \
				const struct annot_export_opts *opts)                        \
		__attribute__((warn_unused_result));
ANNOT_FORMAT(labelstudio)
ANNOT_FORMAT(doccano)
ANNOT_FORMAT(conll)
ANNOT_FORMAT(spacy)
ANNOT_FORMAT(coco)
ANNOT_FORMAT(yolo)
ANNOT_FORMAT(voc)
#undef ANNOT_FORMAT

#endif
