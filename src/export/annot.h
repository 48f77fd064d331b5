/*
 * annot.h - annotated items in memory, and the annotation formats moat reads
 * and writes: Label Studio (JSON export, predictions included), doccano
 * (JSONL), CoNLL-2003 (IOB2), spaCy (JSONL of text + spans), COCO
 * (instances JSON), YOLO (Ultralytics layout, and the older Darknet layout
 * with obj.names/obj.data or classes.txt) and Pascal VOC.
 *
 * An importer reads files into a struct annot_set; an exporter writes a set
 * into a directory.  Neither knows the workspace: `moat import` stores a set
 * as projects/tasks/annotations (src/store/), `moat export` builds a set from
 * them.  Uses core/ (buf, fs, err, utf8, jsonw), jansson and libxml2.
 *
 * Conventions, the same in every format:
 *  - span offsets are Unicode code points into the item's text, end
 *    exclusive (Python string indices, as spaCy, Prodigy and Presidio);
 *  - boxes are pixels, top-left origin, x/y of the top-left corner, w/h
 *    (COCO's [x, y, width, height]); formats with relative or corner boxes
 *    are converted on the way in and out, using the image's size;
 *  - a label is a string; class ids (COCO, YOLO) map through the set's
 *    ordered label list.
 *
 * Ownership: a set owns every string and array in it; annot_set_release()
 * frees all.  Paths of images are as the file named them, resolved against
 * the directory of the file that named them (absolute after import; URLs
 * and absolute paths are kept as they are).  The arrays grow only through
 * the annot_add_* functions (their capacity is the next power of two of
 * their count), and a pointer one of them returned is valid until the next
 * addition to the same array.
 *
 * What each format can carry, and the choices made where a format is
 * ambiguous, are in docs/export.md ("Annotation formats").
 */
#ifndef MOAT_ANNOT_H
#define MOAT_ANNOT_H

#include <stddef.h>

#include <jansson.h>

#include "../core/err.h"

/* Limits every importer keeps: larger files are refused, and image sides
 * (from a file or an image header) must lie in 1..ANNOT_MAX_IMAGE_SIDE. */
#define ANNOT_MAX_FILE_BYTES ((size_t)1 << 30)
#define ANNOT_MAX_IMAGE_SIDE 1048576

struct annot_span {
	size_t start, end;   /* code points, end exclusive */
	char *label;
};

struct annot_box {
	double x, y, w, h;   /* pixels, top-left corner and size */
	double rotation;     /* degrees clockwise about the top-left corner (Label Studio's); 0 for most */
	char *label;
};

enum annot_origin { ANNOT_HUMAN = 0, ANNOT_PREDICTION = 1 };

/* One annotation of an item: labels, spans, boxes, a text answer, or a
 * preference between two responses (any combination a format carries). */
struct annot_value {
	enum annot_origin origin;
	char *annotator;        /* who, as the file names them (NULL when it does not) */
	char *model;            /* predictions: the model version the file names, or NULL */
	double score;           /* predictions: the score, or -1 */
	char **labels;          /* classification: labels chosen */
	size_t n_labels;
	struct annot_span *spans;
	size_t n_spans;
	struct annot_box *boxes;
	size_t n_boxes;
	char *text;             /* a free-text answer, or NULL */
	int preference;         /* 0 none, 1 the first response, 2 the second */
};

/* One item (a task): a text or an image, with its annotations. */
struct annot_item {
	char *id;               /* the file's own id for it, as a string, or NULL */
	char *text;             /* text items: UTF-8 */
	char *image;            /* image items: a path (see above) */
	int width, height;      /* image size in pixels, 0 when not known */
	char *split;            /* "train", "val", "test"... when the source says, else NULL */
	json_t *meta;           /* other fields of the source record (owned), or NULL */
	struct annot_value *values;
	size_t n_values;
};

struct annot_set {
	char **labels;          /* every label, in class-id order (COCO ids, YOLO indices) */
	size_t n_labels;
	struct annot_item *items;
	size_t n_items;
};

#define ANNOT_SET_INIT { NULL, 0, NULL, 0 }

void annot_set_release(struct annot_set *s);

/* Adds an item / a value (zeroed; a value's score is -1) / a span, a box or
 * a classification label to a value (the label string is copied); return
 * NULL or -1 when out of memory, leaving the array as it was.  These do not
 * touch the set's label list: annot_label_index() does. */
struct annot_item *annot_add_item(struct annot_set *s) __attribute__((warn_unused_result));
struct annot_value *annot_add_value(struct annot_item *it) __attribute__((warn_unused_result));
int annot_add_span(struct annot_value *v, size_t start, size_t end, const char *label)
	__attribute__((warn_unused_result));
int annot_add_box(struct annot_value *v, double x, double y, double w, double h, double rotation,
		  const char *label) __attribute__((warn_unused_result));
int annot_add_label(struct annot_value *v, const char *label) __attribute__((warn_unused_result));
/* The index of label in the set's list (first-seen order, no duplicates),
 * adding it when new; -1 out of memory. */
long annot_label_index(struct annot_set *s, const char *label) __attribute__((warn_unused_result));

/* The formats: "label-studio", "doccano", "conll", "spacy", "coco", "yolo", "voc". */
int annot_format_known(const char *format);

/* Reads path in format into s, appending items, and labels to the set's
 * list: coco/yolo's in class-id order, then any other label the items use in
 * first-seen order (item by item, a value's spans', then its classification
 * labels, then its boxes').  path is
 * a file, or a directory: a dataset layout for coco/yolo/voc, and for the
 * text formats every file of theirs in it, in name order.  A split comes
 * from the layout, or from a file's name ("train.jsonl", "eng.testa").
 * Returns the number of items added, or -1: malformed input gives one line
 * naming the file, the line or record, and the field ("data.json: record 3:
 * field 'annotations[0].result[1].value.x': not a number"), and s is then
 * exactly as it was before the call (the file is read into a set of its
 * own, appended only when all of it was read). */
int annot_import(const char *format, const char *path, struct annot_set *s, struct moat_err *e)
	__attribute__((warn_unused_result));

struct annot_export_opts {
	const char *split_names[8];  /* the order of splits ("train", "val", "test"; NULL ends the
				      * list); items whose split is NULL go to the first (or
				      * "train"), splits not listed are written after these */
	int copy_images;             /* coco/yolo/voc: copy each image into the layout (else link
				      * nothing and name the path) */
};
/* Splits train, val, test; copy_images on. */
struct annot_export_opts annot_export_default_opts(void);

/* Writes s in format into the existing, empty directory dir (the caller
 * renames it into place when complete), one file (or one directory of the
 * layout) per split, and the same set always as the same bytes.  Every
 * format but label-studio carries one annotation per item: the item's first
 * human value (predictions and further annotators are not written).  Items a
 * format cannot hold (text items in coco/yolo/voc, image items in the text
 * formats) are left out.  Returns the number of files written, or -1 with e
 * set (what was written so far stays in dir). */
long annot_export(const char *format, const struct annot_set *s, const char *dir,
		  const struct annot_export_opts *o, struct moat_err *e)
	__attribute__((warn_unused_result));

#endif
