/*
 * test_annot.c - the annotation formats (src/export/annot.h): every sample
 * of the shared fixtures (fixtures/annotation: Label Studio, doccano, CoNLL,
 * COCO, YOLO in both layouts, VOC) read with the counts and values the
 * fixture README states, written back in its own format and read again to
 * the same meaning; COCO -> YOLO -> COCO and Label Studio -> spaCy -> CoNLL;
 * exact code-point spans on non-ASCII, emoji, combining marks and
 * right-to-left text through every text format; CoNLL's cut tokens; image
 * headers; deterministic bytes; and malformed inputs, each giving one line
 * that names the file, the line or record and the field, with the set left
 * as it was (also when any one allocation fails).
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/fs.h"
#include "core/utf8.h"
#include "export/annot.h"

/* ---- helpers --------------------------------------------------------------- */

static char *fx(const char *rel)
{
	char *p;
	if (asprintf(&p, "fixtures/annotation/%s", rel) < 0)
		fail_msg("out of memory");
	char *full = tu_testdata(p);
	free(p);
	return full;
}

static char *join(const char *a, const char *b)
{
	char *p;
	if (asprintf(&p, "%s/%s", a, b) < 0)
		fail_msg("out of memory");
	return p;
}

static void mkdirs(const char *base, const char *rel)
{
	char *cmd;
	if (asprintf(&cmd, "mkdir -p '%s/%s'", base, rel) < 0 || system(cmd) != 0)
		fail_msg("mkdir failed");
	free(cmd);
}

static void put(const char *dir, const char *rel, const char *text)
{
	char *p = join(dir, rel), *d = strdup(p);
	*strrchr(d, '/') = '\0';
	mkdirs(d, ".");
	tu_write(p, text, strlen(text));
	free(p);
	free(d);
}

/* A PNG whose header says w x h (the pixels are never read). */
static void put_png(const char *dir, const char *rel, unsigned w, unsigned h)
{
	unsigned char png[33] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
				  'I', 'H', 'D', 'R' };
	char *p = join(dir, rel), *d = strdup(p);
	png[16] = (unsigned char)(w >> 24), png[17] = (unsigned char)(w >> 16);
	png[18] = (unsigned char)(w >> 8), png[19] = (unsigned char)w;
	png[20] = (unsigned char)(h >> 24), png[21] = (unsigned char)(h >> 16);
	png[22] = (unsigned char)(h >> 8), png[23] = (unsigned char)h;
	png[24] = 8, png[25] = 2;
	*strrchr(d, '/') = '\0';
	mkdirs(d, ".");
	tu_write(p, png, sizeof(png));
	free(p);
	free(d);
}

static void import_ok(const char *format, const char *path, struct annot_set *s)
{
	struct moat_err e = MOAT_ERR_INIT;
	if (annot_import(format, path, s, &e) < 0)
		fail_msg("import %s '%s': %s", format, path, e.msg);
}

static char *export_ok(const char *format, const struct annot_set *s, int copy)
{
	struct annot_export_opts o = annot_export_default_opts();
	struct moat_err e = MOAT_ERR_INIT;
	char *dir = tu_tmpdir();
	o.copy_images = copy;
	if (annot_export(format, s, dir, &o, &e) < 0)
		fail_msg("export %s: %s", format, e.msg);
	return dir;
}

static const char *split_of(const struct annot_item *it)
{
	return it->split ? it->split : "train";
}

static int cmp_box(const void *a, const void *b)
{
	const struct annot_box *x = a, *y = b;
	int c = strcmp(x->label, y->label);
	if (c)
		return c;
	if (fabs(x->x - y->x) > 0.5)
		return x->x < y->x ? -1 : 1;
	if (fabs(x->y - y->y) > 0.5)
		return x->y < y->y ? -1 : 1;
	return 0;
}

static int cmp_span(const void *a, const void *b)
{
	const struct annot_span *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return strcmp(x->label, y->label);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Two values mean the same: labels, spans, boxes (edges within 0.5 px),
 * text answer, preference; with provenance when full. */
static void same_value(const struct annot_value *a, const struct annot_value *b, int full,
		       const char *where)
{
	if (a->n_labels != b->n_labels || a->n_spans != b->n_spans || a->n_boxes != b->n_boxes)
		fail_msg("%s: %zu/%zu/%zu labels/spans/boxes, then %zu/%zu/%zu", where, a->n_labels,
			 a->n_spans, a->n_boxes, b->n_labels, b->n_spans, b->n_boxes);
	if (a->n_labels)
		qsort(a->labels, a->n_labels, sizeof(char *), cmp_str);
	if (b->n_labels)
		qsort(b->labels, b->n_labels, sizeof(char *), cmp_str);
	for (size_t i = 0; i < a->n_labels; i++)
		assert_string_equal(a->labels[i], b->labels[i]);
	if (a->n_spans)
		qsort(a->spans, a->n_spans, sizeof(*a->spans), cmp_span);
	if (b->n_spans)
		qsort(b->spans, b->n_spans, sizeof(*b->spans), cmp_span);
	for (size_t i = 0; i < a->n_spans; i++)
		if (cmp_span(&a->spans[i], &b->spans[i]))
			fail_msg("%s: span %zu [%zu,%zu) %s, then [%zu,%zu) %s", where, i,
				 a->spans[i].start, a->spans[i].end, a->spans[i].label,
				 b->spans[i].start, b->spans[i].end, b->spans[i].label);
	if (a->n_boxes)
		qsort(a->boxes, a->n_boxes, sizeof(*a->boxes), cmp_box);
	if (b->n_boxes)
		qsort(b->boxes, b->n_boxes, sizeof(*b->boxes), cmp_box);
	for (size_t i = 0; i < a->n_boxes; i++) {
		const struct annot_box *x = &a->boxes[i], *y = &b->boxes[i];
		if (strcmp(x->label, y->label) || fabs(x->x - y->x) > 0.5 || fabs(x->y - y->y) > 0.5 ||
		    fabs(x->x + x->w - y->x - y->w) > 0.5 || fabs(x->y + x->h - y->y - y->h) > 0.5 ||
		    fabs(x->rotation - y->rotation) > 1e-6)
			fail_msg("%s: box %s %g,%g %gx%g, then %s %g,%g %gx%g", where, x->label, x->x,
				 x->y, x->w, x->h, y->label, y->x, y->y, y->w, y->h);
	}
	if ((a->text == NULL) != (b->text == NULL) || (a->text && strcmp(a->text, b->text)))
		fail_msg("%s: text answers differ", where);
	assert_int_equal(a->preference, b->preference);
	if (full) {
		assert_int_equal(a->origin, b->origin);
		if ((a->annotator == NULL) != (b->annotator == NULL) ||
		    (a->annotator && strcmp(a->annotator, b->annotator)))
			fail_msg("%s: annotator differs", where);
		if ((a->model == NULL) != (b->model == NULL) || (a->model && strcmp(a->model, b->model)))
			fail_msg("%s: model differs", where);
		assert_true(fabs(a->score - b->score) < 1e-9);
	}
}

/* The same items, in the same order within each split (NULL meaning the
 * first split), with the same text, image (by file name), size and values;
 * full: every value with its provenance, else the first human one. */
static void same_sets(const struct annot_set *a, const struct annot_set *b, int full)
{
	assert_int_equal(a->n_items, b->n_items);
	for (size_t i = 0; i < a->n_items; i++) {
		const struct annot_item *x = &a->items[i], *y = NULL;
		size_t rank = 0, r = 0;
		char *where;
		for (size_t k = 0; k < i; k++)
			rank += !strcmp(split_of(&a->items[k]), split_of(x));
		for (size_t k = 0; k < b->n_items && !y; k++)
			if (!strcmp(split_of(&b->items[k]), split_of(x)) && r++ == rank)
				y = &b->items[k];
		if (!y)
			fail_msg("item %zu (split %s) is missing", i + 1, split_of(x));
		if (asprintf(&where, "item %zu", i + 1) < 0)
			fail_msg("out of memory");
		if ((x->text == NULL) != (y->text == NULL) || (x->text && strcmp(x->text, y->text)))
			fail_msg("%s: text '%s', then '%s'", where, x->text ? x->text : "(none)",
				 y->text ? y->text : "(none)");
		if ((x->image == NULL) != (y->image == NULL) ||
		    (x->image && strcmp(strrchr(x->image, '/') ? strrchr(x->image, '/') : x->image,
					strrchr(y->image, '/') ? strrchr(y->image, '/') : y->image)))
			fail_msg("%s: image '%s', then '%s'", where, x->image ? x->image : "(none)",
				 y->image ? y->image : "(none)");
		if (x->image && x->width > 0) {
			assert_int_equal(x->width, y->width);
			assert_int_equal(x->height, y->height);
		}
		if (full) {
			assert_int_equal(x->n_values, y->n_values);
			for (size_t k = 0; k < x->n_values; k++)
				same_value(&x->values[k], &y->values[k], 1, where);
		} else {
			const struct annot_value *vx = NULL, *vy = NULL;
			for (size_t k = 0; k < x->n_values && !vx; k++)
				if (x->values[k].origin == ANNOT_HUMAN)
					vx = &x->values[k];
			for (size_t k = 0; k < y->n_values && !vy; k++)
				if (y->values[k].origin == ANNOT_HUMAN)
					vy = &y->values[k];
			if (vx && vy)
				same_value(vx, vy, 0, where);
			else if (vx && (vx->n_boxes || vx->n_spans || vx->n_labels))
				fail_msg("%s: its annotation was lost", where);
		}
		free(where);
	}
}

/* import, export in the same format, import that, compare */
static void round_trip(const char *format, const char *path, struct annot_set *first)
{
	struct annot_set again = ANNOT_SET_INIT;
	char *dir;
	import_ok(format, path, first);
	assert_true(first->n_items > 0);
	dir = export_ok(format, first, 1);
	import_ok(format, dir, &again);
	same_sets(first, &again, !strcmp(format, "label-studio"));
	annot_set_release(&again);
	tu_rmtree(dir);
	free(dir);
}

static size_t count_boxes(const struct annot_set *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_items; i++)
		for (size_t k = 0; k < s->items[i].n_values; k++)
			n += s->items[i].values[k].n_boxes;
	return n;
}

/* ---- the fixtures ---------------------------------------------------------- */

static void fixture_labelstudio(void **state)
{
	struct annot_set s = ANNOT_SET_INIT;
	char *p = fx("labelstudio/lssdk_export_yolo/data.json");
	const struct annot_box *b;
	(void)state;
	round_trip("label-studio", p, &s);
	assert_int_equal(s.n_items, 2);
	assert_int_equal(s.items[0].n_values, 2);   /* two annotators on task 1 */
	assert_string_equal(s.items[0].values[0].annotator, "2");
	assert_string_equal(s.items[0].values[1].annotator, "1");
	assert_string_equal(s.items[0].id, "1");
	assert_string_equal(s.items[0].image, "/image1");
	assert_int_equal(s.items[0].width, 2800);
	assert_int_equal(count_boxes(&s), 6);
	b = &s.items[0].values[0].boxes[0];
	assert_string_equal(b->label, "parasites");
	assert_true(fabs(b->x - 37.15846994535519 * 28) < 1e-6);
	assert_true(fabs(b->h - 4.735883424408015 * 28) < 1e-6);
	assert_int_equal(s.n_labels, 2);
	annot_set_release(&s);
	free(p);
}

static void fixture_doccano(void **state)
{
	struct annot_set s = ANNOT_SET_INIT, r = ANNOT_SET_INIT;
	char *p = fx("doccano/text_classification_example.jsonl");
	char *q = fx("doccano/relation_extraction_example.jsonl");
	const json_t *rel;
	(void)state;
	round_trip("doccano", p, &s);
	assert_int_equal(s.n_items, 3);
	assert_string_equal(s.items[0].text, "Terrible customer service.");
	assert_int_equal(s.items[0].values[0].n_labels, 1);
	assert_string_equal(s.items[0].values[0].labels[0], "negative");
	assert_string_equal(s.items[2].values[0].labels[0], "positive");
	/* one pretty-printed object, with entities and relations */
	round_trip("doccano", q, &r);
	assert_int_equal(r.n_items, 1);
	assert_int_equal(r.items[0].values[0].n_spans, 4);
	assert_int_equal(r.items[0].values[0].spans[1].start, 22);
	assert_int_equal(r.items[0].values[0].spans[1].end, 39);
	assert_string_equal(r.items[0].values[0].spans[1].label, "DATE");
	rel = json_object_get(r.items[0].meta, "relations");
	assert_int_equal(json_array_size(rel), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rel, 2), "to_id")), 3);
	annot_set_release(&s);
	annot_set_release(&r);
	free(p);
	free(q);
}

static const struct annot_span *span_on(const struct annot_item *it, const char *word)
{
	const char *t = it->text;
	for (size_t k = 0; k < it->values[0].n_spans; k++) {
		const struct annot_span *sp = &it->values[0].spans[k];
		size_t a = 0;
		for (size_t cp = 0; t[a] && cp < sp->start; cp++)
			for (a++; ((unsigned char)t[a] & 0xc0) == 0x80; a++)
				;
		if (!strncmp(t + a, word, strlen(word)))
			return sp;
	}
	return NULL;
}

static void fixture_conll(void **state)
{
	static const char *const files[] = { "conll/flair_fashion/eng.train",
					     "conll/flair_fashion/eng.testa",
					     "conll/flair_fashion/eng.testb", NULL };
	struct annot_set s = ANNOT_SET_INIT, d = ANNOT_SET_INIT;
	char *p;
	size_t tokens = 0;
	(void)state;
	for (int i = 0; files[i]; i++) {
		struct annot_set one = ANNOT_SET_INIT;
		p = fx(files[i]);
		round_trip("conll", p, &one);
		annot_set_release(&one);
		free(p);
	}
	p = fx("conll/flair_fashion/eng.train");
	import_ok("conll", p, &s);
	free(p);
	assert_int_equal(s.n_items, 6);
	for (size_t i = 0; i < s.n_items; i++) {
		tokens++;
		for (const char *c = s.items[i].text; *c; c++)
			tokens += *c == ' ';
		assert_string_equal(s.items[i].split, "train");
	}
	assert_int_equal(tokens, 114);
	/* the first entity: "Arlésienne" (non-ASCII) */
	assert_int_equal(s.items[0].values[0].spans[0].start, 18);
	assert_int_equal(s.items[0].values[0].spans[0].end, 28);
	assert_string_equal(s.items[0].values[0].spans[0].label, "NamedPerson");
	/* the BIOES tag S-Occasion inside IOB2 is read as a one-token entity */
	{
		const struct annot_span *sp = NULL;
		for (size_t i = 0; i < s.n_items && !sp; i++)
			if (strstr(s.items[i].text, "debut"))
				sp = span_on(&s.items[i], "debut");
		assert_non_null(sp);
		assert_string_equal(sp->label, "Occasion");
		assert_int_equal(sp->end - sp->start, 5);
	}
	/* the directory: three splits */
	p = fx("conll/flair_fashion");
	round_trip("conll", p, &d);
	assert_int_equal(d.n_items, 8);
	assert_string_equal(d.items[0].split, "testa");
	assert_string_equal(d.items[7].split, "train");
	annot_set_release(&s);
	annot_set_release(&d);
	free(p);
}

static void fixture_coco(void **state)
{
	struct annot_set s = ANNOT_SET_INIT, f = ANNOT_SET_INIT;
	char *p = fx("coco/datumaro_instances");
	char *q = fx("coco/datumaro_instances/annotations/instances_val.json");
	(void)state;
	round_trip("coco", p, &s);
	assert_int_equal(s.n_items, 2);
	assert_int_equal(s.n_labels, 3);
	assert_string_equal(s.labels[2], "c");   /* id 4, after 1 and 2 */
	assert_string_equal(s.items[0].split, "train");
	assert_string_equal(s.items[0].id, "5");
	assert_int_equal(s.items[0].width, 10);
	assert_int_equal(s.items[0].height, 5);
	assert_non_null(strstr(s.items[0].image, "/images/train/a.jpg"));
	assert_int_equal(s.items[0].values[0].n_boxes, 1);
	assert_string_equal(s.items[0].values[0].boxes[0].label, "b");
	assert_true(s.items[0].values[0].boxes[0].x == 2 && s.items[0].values[0].boxes[0].w == 3);
	assert_string_equal(s.items[1].split, "val");
	assert_int_equal(s.items[1].values[0].n_boxes, 2);   /* the crowd region as a box */
	round_trip("coco", q, &f);
	assert_int_equal(f.n_items, 1);
	assert_non_null(strstr(f.items[0].image, "/images/val/b.jpg"));
	annot_set_release(&f);
	free(q);
	q = fx("coco/datumaro_instances/annotations/instances_train.json");
	round_trip("coco", q, &f);
	assert_string_equal(f.items[0].split, "train");
	annot_set_release(&s);
	annot_set_release(&f);
	free(p);
	free(q);
}

static void fixture_yolo(void **state)
{
	struct annot_set s = ANNOT_SET_INIT, u = ANNOT_SET_INIT;
	char *p = fx("yolo/lssdk_unif_dims");
	char *q = fx("yolo/datumaro_yolov8_detection");
	const struct annot_box *b;
	(void)state;
	round_trip("yolo", p, &s);
	assert_int_equal(s.n_items, 5);
	assert_int_equal(count_boxes(&s), 19);
	assert_int_equal(s.n_labels, 4);
	assert_string_equal(s.labels[3], "number");
	for (size_t i = 0; i < s.n_items; i++) {
		assert_int_equal(s.items[i].width, 640);
		assert_int_equal(s.items[i].height, 329);
		assert_null(s.items[i].split);
	}
	b = &s.items[0].values[0].boxes[0];
	assert_string_equal(b->label, "bus");
	assert_true(fabs(b->x - (0.49765625 - 0.9640625 / 2) * 640) < 1e-6);
	assert_true(fabs(b->h - 0.8693009118541033 * 329) < 1e-6);
	round_trip("yolo", q, &u);
	assert_int_equal(u.n_items, 1);
	assert_int_equal(u.n_labels, 10);
	assert_string_equal(u.items[0].split, "train");
	assert_int_equal(u.items[0].width, 15);
	assert_int_equal(u.items[0].height, 10);
	b = &u.items[0].values[0].boxes[1];
	assert_string_equal(b->label, "label_4");
	assert_true(fabs(b->x - 3.0) < 0.01 && fabs(b->y - 3.0) < 0.01 && fabs(b->w - 2.0) < 0.01);
	annot_set_release(&s);
	annot_set_release(&u);
	free(p);
	free(q);
}

static void fixture_voc(void **state)
{
	struct annot_set s = ANNOT_SET_INIT, x = ANNOT_SET_INIT;
	char *p = fx("voc/datumaro_voc3");
	char *q = fx("voc/datumaro_voc3/Annotations/2007_000001.xml");
	const struct annot_box *b;
	(void)state;
	round_trip("voc", p, &s);
	assert_int_equal(s.n_items, 1);
	assert_string_equal(s.items[0].split, "train");   /* past the blank and '#' lines */
	assert_string_equal(s.items[0].id, "2007_000001");
	assert_int_equal(s.items[0].width, 20);
	assert_int_equal(s.items[0].height, 10);
	assert_non_null(strstr(s.items[0].image, "/JPEGImages/2007_000001.jpg"));
	b = &s.items[0].values[0].boxes[0];
	assert_string_equal(b->label, "cat");
	assert_true(b->x == 1 && b->y == 2 && b->w == 2 && b->h == 2);
	round_trip("voc", q, &x);
	assert_non_null(strstr(x.items[0].image, "/JPEGImages/2007_000001.jpg"));
	annot_set_release(&s);
	annot_set_release(&x);
	free(p);
	free(q);
}

/* ---- across formats ---------------------------------------------------------- */

/* The streaming COCO writer's bytes: json_dumps()'s 2-space layout, ids
 * going on across splits, reals as jansson writes them, an image's meta
 * after its own fields; a box that is not finite fails naming the item. */
static void coco_stream_bytes(void **state)
{
	static const char want_val[] =
		"{\n  \"info\": {\n    \"description\": \"exported by moat\"\n  },\n"
		"  \"licenses\": [],\n  \"images\": [\n"
		"    {\n      \"id\": 2,\n      \"file_name\": \"b\\\"\\u0001.png\",\n"
		"      \"width\": 10,\n      \"height\": 20,\n      \"license\": 3,\n"
		"      \"tags\": [\n        \"x\",\n        {}\n      ]\n    }\n  ],\n"
		"  \"annotations\": [\n"
		"    {\n      \"id\": 2,\n      \"image_id\": 2,\n      \"category_id\": 2,\n"
		"      \"segmentation\": [],\n      \"area\": 0.375,\n      \"bbox\": [\n"
		"        1,\n        2.5,\n        0.5,\n        0.75\n      ],\n"
		"      \"iscrowd\": 0\n    }\n  ],\n"
		"  \"categories\": [\n"
		"    {\n      \"id\": 1,\n      \"name\": \"car\",\n      \"supercategory\": \"\"\n    },\n"
		"    {\n      \"id\": 2,\n      \"name\": \"bus\",\n      \"supercategory\": \"\"\n    }\n"
		"  ]\n}\n";
	struct annot_set s = ANNOT_SET_INIT;
	struct annot_export_opts o = annot_export_default_opts();
	struct moat_err e = MOAT_ERR_INIT;
	struct annot_item *it;
	struct annot_value *v;
	struct buf got = BUF_INIT;
	char *dir, *f;
	(void)state;
	assert_non_null(it = annot_add_item(&s));
	it->image = strdup("a.png"), it->width = 10, it->height = 20;
	assert_non_null(v = annot_add_value(it));
	assert_int_equal(annot_add_box(v, 0, 0, 1, 1, 0, "car"), 0);
	assert_non_null(it = annot_add_item(&s));
	it->image = strdup("b\"\x01.png"), it->width = 10, it->height = 20;
	it->split = strdup("val");
	it->meta = json_pack("{s:i,s:i,s:[s,{}]}", "width", 99, "license", 3, "tags", "x");
	assert_non_null(v = annot_add_value(it));
	assert_int_equal(annot_add_box(v, 1, 2.5, 0.5, 0.75, 0, "bus"), 0);
	assert_true(annot_label_index(&s, "car") == 0 && annot_label_index(&s, "bus") == 1);
	dir = export_ok("coco", &s, 0);
	f = join(dir, "annotations/instances_val.json");
	assert_int_equal(fs_read_file(f, &got, 0, &e), 0);
	assert_string_equal(buf_str(&got), want_val);
	buf_release(&got);
	free(f);
	tu_rmtree(dir);
	free(dir);
	s.items[1].values[0].boxes[0].w = NAN;
	dir = tu_tmpdir();
	o.copy_images = 0;
	assert_true(annot_export("coco", &s, dir, &o, &e) < 0);
	assert_non_null(strstr(e.msg, "item 2: a box that is not finite"));
	tu_rmtree(dir);
	free(dir);
	annot_set_release(&s);
}

static void coco_yolo_coco(void **state)
{
	struct annot_set c = ANNOT_SET_INIT, y = ANNOT_SET_INIT, c2 = ANNOT_SET_INIT;
	char *p = fx("coco/datumaro_instances"), *d1, *d2;
	(void)state;
	import_ok("coco", p, &c);
	d1 = export_ok("yolo", &c, 1);
	import_ok("yolo", d1, &y);
	same_sets(&c, &y, 0);
	d2 = export_ok("coco", &y, 1);
	import_ok("coco", d2, &c2);
	same_sets(&c, &c2, 0);
	assert_int_equal(c2.n_labels, 3);
	assert_string_equal(c2.labels[0], "a");
	annot_set_release(&c);
	annot_set_release(&y);
	annot_set_release(&c2);
	tu_rmtree(d1);
	tu_rmtree(d2);
	free(d1);
	free(d2);
	free(p);
}

/* Texts that break byte or UTF-16 counting, with spans on whole tokens. */
static const struct {
	const char *text;
	const char *words[3];
	const char *labels[3];
} hard[] = {
	{ "Zoë met 👩‍👩‍👧 in São Paulo", { "👩‍👩‍👧", "São", NULL }, { "FAMILY", "CITY", NULL } },
	{ "e\xcc\x81" "cole re\xcc\x81sume\xcc\x81 na\xcc\x88ive",   /* combining marks */
	  { "re\xcc\x81sume\xcc\x81", "na\xcc\x88ive", NULL }, { "WORD", "WORD", NULL } },
	{ "قال محمد إن القاهرة جميلة", { "محمد", "القاهرة", NULL }, { "PER", "LOC", NULL } },
	{ "שלום 🙂 ירושלים 𝔘𝔫𝔦", { "ירושלים", "𝔘𝔫𝔦", NULL }, { "LOC", "MATH", NULL } },
};

static size_t cp_of(const char *text, const char *at)
{
	return utf8_count(text, (size_t)(at - text));
}

static void build_hard(struct annot_set *s)
{
	for (size_t i = 0; i < sizeof(hard) / sizeof(hard[0]); i++) {
		struct annot_item *it = annot_add_item(s);
		struct annot_value *v;
		assert_non_null(it);
		it->text = strdup(hard[i].text);
		v = annot_add_value(it);
		assert_non_null(v);
		for (int k = 0; hard[i].words[k]; k++) {
			const char *w = strstr(hard[i].text, hard[i].words[k]);
			size_t a = cp_of(hard[i].text, w);
			assert_int_equal(annot_add_span(v, a, a + utf8_count(w, strlen(hard[i].words[k])),
							hard[i].labels[k]), 0);
			assert_true(annot_label_index(s, hard[i].labels[k]) >= 0);
		}
	}
}

static void check_hard(const struct annot_set *s)
{
	assert_int_equal(s->n_items, sizeof(hard) / sizeof(hard[0]));
	for (size_t i = 0; i < s->n_items; i++) {
		const struct annot_item *it = &s->items[i];
		assert_string_equal(it->text, hard[i].text);
		for (int k = 0; hard[i].words[k]; k++) {
			const char *w = strstr(hard[i].text, hard[i].words[k]);
			size_t a = cp_of(hard[i].text, w), n = utf8_count(w, strlen(hard[i].words[k]));
			int found = 0;
			for (size_t j = 0; j < it->values[0].n_spans; j++)
				found |= it->values[0].spans[j].start == a &&
					 it->values[0].spans[j].end == a + n &&
					 !strcmp(it->values[0].spans[j].label, hard[i].labels[k]);
			if (!found)
				fail_msg("item %zu: span '%s' [%zu, %zu) lost", i + 1, hard[i].words[k], a,
					 a + n);
		}
	}
}

static void unicode_spans_every_text_format(void **state)
{
	static const char *const formats[] = { "label-studio", "doccano", "spacy", "conll", NULL };
	struct annot_set s = ANNOT_SET_INIT;
	(void)state;
	build_hard(&s);
	for (int f = 0; formats[f]; f++) {
		struct annot_set r = ANNOT_SET_INIT;
		char *dir = export_ok(formats[f], &s, 1);
		import_ok(formats[f], dir, &r);
		check_hard(&r);
		same_sets(&s, &r, 0);
		annot_set_release(&r);
		tu_rmtree(dir);
		free(dir);
	}
	annot_set_release(&s);
}

static void labelstudio_spacy_conll(void **state)
{
	struct annot_set s = ANNOT_SET_INIT, ls = ANNOT_SET_INIT, sp = ANNOT_SET_INIT,
			 co = ANNOT_SET_INIT;
	char *d1, *d2, *d3;
	(void)state;
	build_hard(&s);
	d1 = export_ok("label-studio", &s, 1);
	import_ok("label-studio", d1, &ls);
	d2 = export_ok("spacy", &ls, 1);
	import_ok("spacy", d2, &sp);
	d3 = export_ok("conll", &sp, 1);
	import_ok("conll", d3, &co);
	check_hard(&ls);
	check_hard(&sp);
	check_hard(&co);
	same_sets(&ls, &co, 0);
	annot_set_release(&s);
	annot_set_release(&ls);
	annot_set_release(&sp);
	annot_set_release(&co);
	tu_rmtree(d1);
	tu_rmtree(d2);
	tu_rmtree(d3);
	free(d1);
	free(d2);
	free(d3);
}

/* ---- format details ----------------------------------------------------------- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *d;
	long n;
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	d = malloc((size_t)n + 1);
	assert_int_equal(fread(d, 1, (size_t)n, f), (size_t)n);
	d[n] = '\0';
	fclose(f);
	return d;
}

static void conll_cuts_tokens_at_span_edges(void **state)
{
	struct annot_set s = ANNOT_SET_INIT, r = ANNOT_SET_INIT;
	struct annot_export_opts o = annot_export_default_opts();
	struct moat_err e = MOAT_ERR_INIT;
	struct annot_item *it;
	struct annot_value *v;
	char *dir, *p, *text;
	(void)state;
	it = annot_add_item(&s);
	it->text = strdup("I love Paris, really.\n  Truly.");
	v = annot_add_value(it);
	assert_int_equal(annot_add_span(v, 7, 12, "LOC"), 0);        /* "Paris" in "Paris," */
	assert_int_equal(annot_add_span(v, 14, 18, "ADV"), 0);       /* "real" in "really." */
	dir = export_ok("conll", &s, 1);
	p = join(dir, "train.conll");
	text = slurp(p);
	assert_string_equal(text, "I _ _ O\nlove _ _ O\nParis _ _ B-LOC\n, _ _ O\nreal _ _ B-ADV\n"
				  "ly. _ _ O\nTruly. _ _ O\n\n");
	import_ok("conll", dir, &r);
	assert_string_equal(r.items[0].text, "I love Paris , real ly. Truly.");
	assert_int_equal(r.items[0].values[0].spans[0].start, 7);
	assert_int_equal(r.items[0].values[0].spans[0].end, 12);
	assert_int_equal(r.items[0].values[0].spans[1].start, 15);
	assert_int_equal(r.items[0].values[0].spans[1].end, 19);
	free(text);
	free(p);
	tu_rmtree(dir);
	free(dir);
	/* what CoNLL cannot carry fails, naming the item */
	assert_int_equal(annot_add_span(v, 8, 10, "PART"), 0);        /* overlaps Paris */
	dir = tu_tmpdir();
	assert_true(annot_export("conll", &s, dir, &o, &e) < 0);
	assert_non_null(strstr(e.msg, "item 1: spans"));
	assert_non_null(strstr(e.msg, "overlap"));
	tu_rmtree(dir);
	free(dir);
	free(v->spans[2].label);
	v->n_spans = 2;
	free(v->spans[1].label);
	v->spans[1].label = strdup("two words");
	dir = tu_tmpdir();
	assert_true(annot_export("conll", &s, dir, &o, &e) < 0);
	assert_non_null(strstr(e.msg, "whitespace"));
	tu_rmtree(dir);
	free(dir);
	annot_set_release(&s);
	annot_set_release(&r);
}

static void labelstudio_everything_it_carries(void **state)
{
	struct annot_set s = ANNOT_SET_INIT, r = ANNOT_SET_INIT;
	struct annot_item *it;
	struct annot_value *v;
	char *dir, *img;
	(void)state;
	dir = tu_tmpdir();
	img = join(dir, "photo.png");
	put_png(dir, "photo.png", 300, 200);
	it = annot_add_item(&s);
	it->id = strdup("task-7");
	it->text = strdup("Which answer is better?");
	it->meta = json_pack("{s:s,s:s}", "response_a", "yes", "response_b", "no");
	v = annot_add_value(it);
	v->annotator = strdup("ann@example.org");
	v->preference = 2;
	v->text = strdup("B is shorter\nand right");
	assert_int_equal(annot_add_label(v, "good"), 0);
	v = annot_add_value(it);
	v->origin = ANNOT_PREDICTION;
	v->model = strdup("llama-3-8b");
	v->score = 0.75;
	assert_int_equal(annot_add_span(v, 0, 5, "Q"), 0);
	it = annot_add_item(&s);
	it->image = strdup(img);             /* size from the header */
	v = annot_add_value(it);
	v->annotator = strdup("3");
	assert_int_equal(annot_add_box(v, 10, 20, 30, 40, 15, "car"), 0);
	{
		char *out = export_ok("label-studio", &s, 1);
		import_ok("label-studio", out, &r);
		same_sets(&s, &r, 1);
		assert_string_equal(r.items[0].id, "task-7");
		assert_string_equal(json_string_value(json_object_get(r.items[0].meta, "response_b")),
				    "no");
		assert_int_equal(r.items[1].width, 300);
		tu_rmtree(out);
		free(out);
	}
	annot_set_release(&s);
	annot_set_release(&r);
	tu_rmtree(dir);
	free(dir);
	free(img);
}

static void labelstudio_old_utf16_offsets(void **state)
{
	struct annot_set s = ANNOT_SET_INIT;
	char *dir = tu_tmpdir(), *p = join(dir, "old.json");
	(void)state;
	/* "😀 abc": "abc" is code points 2..5, UTF-16 units 3..6 */
	put(dir, "old.json", "[{\"data\":{\"text\":\"\xf0\x9f\x98\x80 abc\"},\"annotations\":[{\"result\":"
		"[{\"type\":\"labels\",\"value\":{\"start\":3,\"end\":6,\"text\":\"abc\","
		"\"labels\":[\"X\"]}},{\"type\":\"labels\",\"value\":{\"start\":2,\"end\":5,"
		"\"text\":\"abc\",\"labels\":[\"Y\"]}}]}]}]");
	import_ok("label-studio", p, &s);
	assert_int_equal(s.items[0].values[0].spans[0].start, 2);
	assert_int_equal(s.items[0].values[0].spans[0].end, 5);
	assert_int_equal(s.items[0].values[0].spans[1].start, 2);
	annot_set_release(&s);
	tu_rmtree(dir);
	free(dir);
	free(p);
}

static void jsonl_streams_and_splits(void **state)
{
	struct annot_set s = ANNOT_SET_INIT, r = ANNOT_SET_INIT;
	char *dir = tu_tmpdir(), *p = join(dir, "train.jsonl"), *out, *f;
	(void)state;
	/* records on one line, over several lines, and several on one line */
	put(dir, "train.jsonl", "{\"text\": \"a b\", \"spans\": [[0, 1, \"A\"]], \"source\": \"x\"}\n"
		"{\n  \"text\": \"c d\",\n  \"spans\": [{\"start\": 2, \"end\": 3, \"label\": \"D\"}],\n"
		"  \"cats\": {\"POS\": 0.9, \"NEG\": 0.1}\n}\n{\"text\": \"e\"} {\"text\": \"f\", "
		"\"entities\": [[0, 1, \"F\"]]}\n");
	import_ok("spacy", p, &s);
	assert_int_equal(s.n_items, 4);
	assert_string_equal(s.items[1].split, "train");
	assert_int_equal(s.items[1].values[0].n_labels, 1);
	assert_string_equal(s.items[1].values[0].labels[0], "POS");
	assert_string_equal(s.items[3].values[0].spans[0].label, "F");
	/* an item with a split not listed is written after the listed ones */
	free(s.items[2].split);
	s.items[2].split = strdup("dev");
	out = export_ok("spacy", &s, 1);
	f = join(out, "dev.jsonl");
	{
		char *text = slurp(f);
		assert_string_equal(text, "{\"text\":\"e\",\"spans\":[]}\n");
		free(text);
	}
	free(f);
	f = join(out, "train.jsonl");
	{
		char *text = slurp(f);
		assert_non_null(strstr(text, "{\"text\":\"a b\",\"spans\":[[0,1,\"A\"]],\"source\":\"x\"}\n"));
		assert_non_null(strstr(text, "\"cats\":{\"POS\":1.0}"));
		free(text);
	}
	free(f);
	import_ok("spacy", out, &r);
	same_sets(&s, &r, 0);
	annot_set_release(&s);
	annot_set_release(&r);
	tu_rmtree(out);
	tu_rmtree(dir);
	free(out);
	free(dir);
	free(p);
}

static void deterministic_bytes(void **state)
{
	static const char *const formats[] = { "label-studio", "doccano", "conll", "spacy", "coco",
					       "yolo", "voc", NULL };
	struct annot_set s = ANNOT_SET_INIT;
	char *p = fx("coco/datumaro_instances"), *q = fx("doccano/relation_extraction_example.jsonl");
	(void)state;
	import_ok("coco", p, &s);
	import_ok("doccano", q, &s);
	build_hard(&s);
	for (int f = 0; formats[f]; f++) {
		char *a = export_ok(formats[f], &s, 1), *b = export_ok(formats[f], &s, 1), *cmd;
		assert_true(asprintf(&cmd, "diff -r '%s' '%s' >/dev/null", a, b) > 0);
		if (system(cmd) != 0)
			fail_msg("%s: two exports of the same set differ", formats[f]);
		free(cmd);
		tu_rmtree(a);
		tu_rmtree(b);
		free(a);
		free(b);
	}
	annot_set_release(&s);
	free(p);
	free(q);
}

static void export_refusals(void **state)
{
	struct annot_set s = ANNOT_SET_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	char *dir = tu_tmpdir();
	struct annot_item *it = annot_add_item(&s);
	(void)state;
	it->text = strdup("x");
	assert_true(annot_export("csv", &s, dir, NULL, &e) < 0);
	assert_non_null(strstr(e.msg, "unknown annotation format 'csv'"));
	put(dir, "x", "");
	assert_true(annot_export("spacy", &s, dir, NULL, &e) < 0);
	assert_non_null(strstr(e.msg, "is not empty"));
	assert_false(annot_format_known("json"));
	assert_true(annot_format_known("label-studio"));
	/* a split that cannot be a file name */
	tu_rmtree(dir);
	free(dir);
	dir = tu_tmpdir();
	it->split = strdup("../up");
	assert_true(annot_export("spacy", &s, dir, NULL, &e) < 0);
	assert_non_null(strstr(e.msg, "cannot be a file name"));
	/* an image of unknown size */
	tu_rmtree(dir);
	free(dir);
	dir = tu_tmpdir();
	it = annot_add_item(&s);
	it->image = strdup("/nonexistent/a.jpg");
	assert_true(annot_export("yolo", &s, dir, NULL, &e) < 0);
	assert_non_null(strstr(e.msg, "item 2 ('/nonexistent/a.jpg'): the image's size"));
	tu_rmtree(dir);
	free(dir);
	annot_set_release(&s);
}

static void yolo_layouts(void **state)
{
	struct annot_set s = ANNOT_SET_INIT, r = ANNOT_SET_INIT;
	char *dir = tu_tmpdir(), *out;
	(void)state;
	/* Darknet as CVAT writes it: obj.data naming data/train.txt */
	put(dir, "dk/obj.names", "cat\ndog\n");
	put(dir, "dk/obj.data", "classes = 2\ntrain = data/train.txt\nnames = data/obj.names\n");
	put(dir, "dk/train.txt", "data/obj_train_data/a.png\ndata/obj_train_data/b.png\n");
	put_png(dir, "dk/obj_train_data/a.png", 100, 50);
	put_png(dir, "dk/obj_train_data/b.png", 100, 50);
	put(dir, "dk/obj_train_data/a.txt", "1 0.5 0.5 0.2 0.4\n\n");
	{
		char *p = join(dir, "dk");
		import_ok("yolo", p, &s);
		free(p);
	}
	assert_int_equal(s.n_items, 2);
	assert_string_equal(s.items[0].split, "train");
	assert_int_equal(s.items[0].values[0].n_boxes, 1);
	assert_string_equal(s.items[0].values[0].boxes[0].label, "dog");
	assert_true(fabs(s.items[0].values[0].boxes[0].x - 40) < 1e-9);
	assert_true(fabs(s.items[0].values[0].boxes[0].h - 20) < 1e-9);
	assert_int_equal(s.items[1].values[0].n_boxes, 0);    /* no label file: background */
	/* Ultralytics with names as a flow list, quoted, and a val list file */
	put(dir, "ul/data.yaml", "# comment\npath: ../ul  # the root\ntrain: [images/train]\n"
		"val: val.txt\nnames: ['it''s', \"b: c\", plain]\n");
	put_png(dir, "ul/images/train/x.png", 10, 10);
	put(dir, "ul/labels/train/x.txt", "2 0.5 0.5 1 1\n");
	put_png(dir, "ul/images/v/y.png", 20, 10);
	put(dir, "ul/val.txt", "./images/v/y.png\n");
	put(dir, "ul/labels/v/y.txt", "0 0.25 0.5 0.5 1.0\n");
	{
		char *p = join(dir, "ul/data.yaml");
		import_ok("yolo", p, &r);
		free(p);
	}
	assert_int_equal(r.n_items, 2);
	assert_string_equal(r.labels[0], "it's");
	assert_string_equal(r.labels[1], "b: c");
	assert_string_equal(r.items[0].values[0].boxes[0].label, "plain");
	assert_string_equal(r.items[1].split, "val");
	assert_true(fabs(r.items[1].values[0].boxes[0].w - 10) < 1e-9);
	/* written back (quoted names), without copying the images */
	out = export_ok("yolo", &r, 0);
	{
		struct annot_set again = ANNOT_SET_INIT;
		char *y = join(out, "data.yaml"), *text = slurp(y);
		assert_non_null(strstr(text, "  0: 'it''s'\n  1: 'b: c'\n  2: plain\n"));
		assert_non_null(strstr(text, "train: train.txt\n"));
		import_ok("yolo", out, &again);
		same_sets(&r, &again, 0);
		annot_set_release(&again);
		free(text);
		free(y);
	}
	tu_rmtree(out);
	free(out);
	annot_set_release(&s);
	annot_set_release(&r);
	tu_rmtree(dir);
	free(dir);
}

/* A JPEG with only what its header needs: SOI, APP1 Exif (orientation),
 * SOF0, EOI. */
static void image_headers(void **state)
{
	static const unsigned char jpg[] = {
		0xff, 0xd8,
		0xff, 0xe1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0, 0,
		'M', 'M', 0, 42, 0, 0, 0, 8,      /* TIFF header, IFD at 8 */
		0, 1,                             /* one entry */
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0,   /* orientation 6 */
		0, 0, 0, 0,
		0xff, 0xc0, 0x00, 0x0b, 8, 0x00, 0x20, 0x00, 0x40, 1, 1, 0x11, 0,  /* 64 wide, 32 high */
		0xff, 0xd9 };
	static const unsigned char gif[] = { 'G', 'I', 'F', '8', '9', 'a', 7, 0, 3, 0, 0, 0, 0 };
	struct moat_err e = MOAT_ERR_INIT;
	struct annot_set s = ANNOT_SET_INIT;
	char *dir = tu_tmpdir(), *p;
	(void)state;
	/* the size of a turned photo is its displayed size: 32 x 64 */
	p = join(dir, "images/t.jpg");
	mkdirs(dir, "images");
	mkdirs(dir, "labels");
	tu_write(p, jpg, sizeof(jpg));
	free(p);
	p = join(dir, "images/g.gif");
	tu_write(p, gif, sizeof(gif));
	free(p);
	put(dir, "images/bad.png", "\x89PNG\r\n\x1a\n");
	put(dir, "classes.txt", "a\n");
	put(dir, "labels/t.txt", "0 0.5 0.5 1 1\n");
	assert_true(annot_import("yolo", dir, &s, &e) < 0);      /* bad.png comes first */
	assert_non_null(strstr(e.msg, "bad.png': damaged PNG header"));
	assert_int_equal(s.n_items, 0);
	p = join(dir, "images/bad.png");
	unlink(p);
	free(p);
	import_ok("yolo", dir, &s);
	assert_int_equal(s.n_items, 2);
	assert_int_equal(s.items[0].width, 7);
	assert_int_equal(s.items[0].height, 3);
	assert_int_equal(s.items[1].width, 32);
	assert_int_equal(s.items[1].height, 64);
	assert_true(fabs(s.items[1].values[0].boxes[0].h - 64) < 1e-9);
	annot_set_release(&s);
	tu_rmtree(dir);
	free(dir);
}

/* ---- malformed input ---------------------------------------------------------- */

struct bad {
	const char *format;
	const char *file;          /* written with text; the import is of path */
	const char *text;
	const char *path;          /* NULL: the file */
	const char *want[3];       /* pieces of the message */
};

static const struct bad bad[] = {
	{ "label-studio", "t.json", "[{\"data\": {\"text\": \"abc\"}", NULL,
	  { "t.json: line 1: column", "bad JSON", NULL } },
	{ "label-studio", "t.json", "[{\"data\": {\"text\": \"abc\"}}, {\"id\": 2}]", NULL,
	  { "t.json: record 2: field 'data': missing", NULL, NULL } },
	{ "label-studio", "t.json", "{\"data\": {}}", NULL, { "expected a list of tasks", NULL, NULL } },
	{ "label-studio", "t.json",
	  "[{\"data\":{\"image\":\"a.png\"},\"annotations\":[{\"result\":[{\"type\":"
	  "\"rectanglelabels\",\"original_width\":10,\"original_height\":10,\"value\":{\"x\":\"1\","
	  "\"y\":1,\"width\":1,\"height\":1,\"rectanglelabels\":[\"a\"]}}]}]}]", NULL,
	  { "t.json: record 1: field 'annotations[0].result[0].value.x': not a number", NULL, NULL } },
	{ "label-studio", "t.json",
	  "[{\"data\":{\"image\":\"a.png\"},\"annotations\":[{\"result\":[{\"type\":"
	  "\"rectanglelabels\",\"original_width\":10,\"original_height\":10,\"value\":{\"x\":150,"
	  "\"y\":1,\"width\":1,\"height\":1,\"rectanglelabels\":[\"a\"]}}]}]}]", NULL,
	  { "record 1: field 'annotations[0].result[0].value'", "outside the image", NULL } },
	{ "label-studio", "t.json",
	  "[{\"data\":{\"text\":\"abc\"},\"annotations\":[{\"result\":[{\"type\":\"labels\","
	  "\"value\":{\"start\":1,\"end\":9,\"labels\":[\"a\"]}}]}]}]", NULL,
	  { "field 'annotations[0].result[0].value'", "past the end of the text", NULL } },
	{ "label-studio", "t.json",
	  "[{\"data\":{\"text\":\"abc\"},\"predictions\":[{\"score\":\"high\",\"result\":[]}]}]",
	  NULL, { "record 1: field 'predictions[0].score'", NULL, NULL } },
	{ "doccano", "d.jsonl", "{\"text\": \"ok\", \"label\": [\"a\"]}\n{\"text\": 5}\n", NULL,
	  { "d.jsonl: line 2: field 'text': not a string", NULL, NULL } },
	{ "doccano", "d.jsonl", "{\"text\": \"ok\"}\n\n{\n  \"text\": \"x\",\n  \"label\": [\n", NULL,
	  { "d.jsonl: line ", "bad JSON", NULL } },
	{ "doccano", "d.jsonl", "{\"text\": \"abc\", \"label\": [[0, 2, \"A\"], \"B\"]}\n", NULL,
	  { "line 1: field 'label[1]': class names mixed with spans", NULL, NULL } },
	{ "doccano", "d.jsonl", "{\"label\": [\"a\"]}\n", NULL,
	  { "d.jsonl: line 1: field 'text': missing", NULL, NULL } },
	{ "doccano", "d.jsonl", "{\"text\":\"ab\",\"entities\":[{\"id\":4,\"start_offset\":0,"
	  "\"end_offset\":1,\"label\":\"X\"}],\"relations\":[{\"from_id\":4,\"to_id\":5,"
	  "\"type\":\"r\"}]}", NULL, { "field 'relations[0].to_id': names no entity", NULL, NULL } },
	{ "doccano", "d.jsonl", "[1, 2]\n", NULL, { "line 1: expected a JSON object", NULL, NULL } },
	{ "spacy", "s.jsonl", "{\"text\": \"abc\", \"spans\": [[0, 2]]}\n", NULL,
	  { "s.jsonl: line 1: field 'spans[0]': expected [start, end, label]", NULL, NULL } },
	{ "spacy", "s.jsonl", "{\"text\": \"abc\", \"spans\": [[2, 1, \"X\"]]}\n", NULL,
	  { "line 1: field 'spans[0]'", "start is not before end", NULL } },
	{ "spacy", "s.jsonl", "{\"text\": \"abc\", \"spans\": [[-1, 1, \"X\"]]}\n", NULL,
	  { "negative offset", NULL, NULL } },
	{ "spacy", "s.jsonl", "{\"text\": \"abc\", \"cats\": {\"A\": \"yes\"}}\n", NULL,
	  { "line 1: field 'cats.A': not a number", NULL, NULL } },
	{ "conll", "c.conll", "EU B-ORG\nrejects O\nGerman\n", NULL,
	  { "c.conll: line 3: field 'tag': missing", NULL, NULL } },
	{ "conll", "c.conll", "EU B-ORG\n\nrejects X-ORG\n", NULL,
	  { "c.conll: line 3: field 'tag': 'X-ORG' is not", NULL, NULL } },
	{ "conll", "c.conll", "EU B-ORG\nbad\xff O\n", NULL, { "c.conll: line 2: not UTF-8", NULL, NULL } },
	{ "yolo", "y/classes.txt", "a\nb\n", "y", { "labels/i.txt: line 2: expected 5 fields", "found 4", NULL } },
	{ "yolo", "y/classes.txt", "a\nb\n", "y", { "labels/i.txt: line 1: field 'width'", "out of range", NULL } },
	{ "yolo", "y/classes.txt", "a\nb\n", "y", { "labels/i.txt: line 1: field 'class'", NULL, NULL } },
	{ "yolo", "y/classes.txt", "a\nb\n", "y", { "labels/i.txt: line 1: field 'y_center'", "not a number", NULL } },
	{ "yolo", "y/data.yaml", "train: images\n", "y", { "data.yaml: field 'names': missing", NULL, NULL } },
	{ "yolo", "y/data.yaml", "names:\n  0: a\n  2: b\n", "y",
	  { "data.yaml: line 1: field 'names': class ids must be 0 to 1", NULL, NULL } },
	{ "yolo", "y/data.yaml", "names: [a]\ntrain: nowhere\n", "y",
	  { "data.yaml: field 'train': '", "does not exist", NULL } },
	{ "coco", "c.json", "{\"images\": [{\"id\": 1, \"file_name\": \"a.png\", \"width\": 10, "
	  "\"height\": 10}], \"categories\": [{\"id\": 1, \"name\": \"x\"}], \"annotations\": "
	  "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [1, 1, -2, 3]}]}", NULL,
	  { "c.json: annotation 1: field 'bbox'", "negative width or height", NULL } },
	{ "coco", "c.json", "{\"images\": [{\"id\": 1, \"file_name\": \"a.png\", \"width\": 10, "
	  "\"height\": 10}], \"categories\": [{\"id\": 1, \"name\": \"x\"}], \"annotations\": "
	  "[{\"image_id\": 2, \"category_id\": 1, \"bbox\": [1, 1, 2, 3]}]}", NULL,
	  { "c.json: annotation 1: field 'image_id': names no image", NULL, NULL } },
	{ "coco", "c.json", "{\"images\": [{\"id\": 1, \"file_name\": \"a.png\", \"width\": 10, "
	  "\"height\": 10}], \"categories\": [{\"id\": 1, \"name\": \"x\"}], \"annotations\": "
	  "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [1, 1, 20, 3]}]}", NULL,
	  { "annotation 1: field 'bbox'", "outside the image", NULL } },
	{ "coco", "c.json", "{\"images\": [{\"id\": 1, \"file_name\": \"a.png\", \"width\": 0, "
	  "\"height\": 10}]}", NULL, { "c.json: image 1: field 'width': out of range", NULL, NULL } },
	{ "coco", "c.json", "{\"images\": [{\"id\": 1, \"file_name\": \"a.png\", \"height\": 10}]}",
	  NULL, { "c.json: image 1: field 'width': missing", NULL, NULL } },
	{ "coco", "c.json", "{\"categories\": []}", NULL, { "c.json: field 'images': missing", NULL, NULL } },
	{ "voc", "v.xml", "<annotation><filename>a.png</filename><size><width>10</width><height>10"
	  "</height></size><object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><ymax>2"
	  "</ymax></bndbox></object></annotation>", NULL,
	  { "v.xml: object 1: field 'bndbox.xmax': missing", NULL, NULL } },
	{ "voc", "v.xml", "<annotation><filename>a.png</filename><size><width>10</width><height>10"
	  "</height></size><object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>30"
	  "</xmax><ymax>2</ymax></bndbox></object></annotation>", NULL,
	  { "v.xml: object 1: field 'bndbox'", "outside the image", NULL } },
	{ "voc", "v.xml", "<annotation><filename>a.png</filename><size><width>ten</width>"
	  "</size></annotation>", NULL, { "v.xml: field 'size.width': 'ten' is not a number", NULL, NULL } },
	{ "voc", "v.xml", "<?xml version=\"1.0\"?>\n<!DOCTYPE a [<!ENTITY x \"y\">]>\n<annotation/>",
	  NULL, { "v.xml: declares a DTD", NULL, NULL } },
	{ "voc", "v.xml", "<annotation>\n<filename>a.png</filename>\n<object>\n</annotation>", NULL,
	  { "v.xml: line ", "malformed XML", NULL } },
};

/* the label files for the YOLO cases, in the order of bad[] */
static const char *const yolo_lines[] = { "0 0.5 0.5 0.1 0.1\n1 0.5 0.5 0.1\n",
					  "0 0.5 0.5 1.5 0.1\n", "2 0.5 0.5 0.1 0.1\n",
					  "0 0.5 nan 0.1 0.1\n" };

static void malformed_inputs_leave_the_set_alone(void **state)
{
	size_t yl = 0;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct annot_set s = ANNOT_SET_INIT;
		struct moat_err e = MOAT_ERR_INIT;
		struct annot_item *it, *items;
		char *dir = tu_tmpdir(), *p;
		/* a set with something in it already */
		it = annot_add_item(&s);
		it->text = strdup("before");
		assert_true(annot_label_index(&s, "old") == 0);
		items = s.items;
		put(dir, bad[i].file, bad[i].text);
		if (!strcmp(bad[i].format, "yolo") && !strcmp(bad[i].file, "y/classes.txt")) {
			put_png(dir, "y/images/i.png", 10, 10);
			put(dir, "y/labels/i.txt", yolo_lines[yl++]);
		}
		p = join(dir, bad[i].path ? bad[i].path : bad[i].file);
		if (annot_import(bad[i].format, p, &s, &e) >= 0)
			fail_msg("case %zu (%s): imported", i, bad[i].want[0]);
		for (int k = 0; k < 3 && bad[i].want[k]; k++)
			if (!strstr(e.msg, bad[i].want[k]))
				fail_msg("case %zu: '%s' lacks '%s'", i, e.msg, bad[i].want[k]);
		assert_null(strchr(e.msg, '\n'));
		/* exactly as before */
		assert_int_equal(s.n_items, 1);
		assert_ptr_equal(s.items, items);
		assert_int_equal(s.n_labels, 1);
		assert_string_equal(s.items[0].text, "before");
		annot_set_release(&s);
		tu_rmtree(dir);
		free(dir);
		free(p);
	}
}

static void limits(void **state)
{
	struct annot_set s = ANNOT_SET_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	char *dir = tu_tmpdir(), *p = join(dir, "huge.jsonl");
	int fd;
	(void)state;
	/* a sparse file one byte over 1 GiB */
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, ((off_t)1 << 30) + 1), 0);
	close(fd);
	assert_true(annot_import("doccano", p, &s, &e) < 0);
	assert_non_null(strstr(e.msg, "over the limit of 1 GiB"));
	assert_int_equal(s.n_items, 0);
	free(p);
	/* an image header with an absurd size */
	put_png(dir, "big/images/a.png", 5000000, 10);
	put(dir, "big/classes.txt", "a\n");
	p = join(dir, "big");
	assert_true(annot_import("yolo", p, &s, &e) < 0);
	assert_non_null(strstr(e.msg, "sides must be 1 to 1048576"));
	free(p);
	assert_true(annot_import("nope", dir, &s, &e) < 0);
	assert_non_null(strstr(e.msg, "unknown annotation format"));
	tu_rmtree(dir);
	free(dir);
}

/* Every allocation of an import fails in turn: an error or success, never a
 * crash or a leak, and the set untouched on error.  jansson keeps its own
 * allocator here (main() does not call moat_alloc_init()): its lexer drops
 * an allocation failure and writes past its buffer (akheron/jansson#362,
 * unfixed in Debian 12's 2.14), which is jansson's to fix, not ours to
 * test. */
static void allocation_failures(void **state)
{
	static const struct { const char *format, *path; } in[] = {
		{ "label-studio", "labelstudio/lssdk_export_yolo/data.json" },
		{ "doccano", "doccano/relation_extraction_example.jsonl" },
		{ "conll", "conll/flair_fashion/eng.testb" },
		{ "coco", "coco/datumaro_instances" },
		{ "yolo", "yolo/datumaro_yolov8_detection" },
		{ "voc", "voc/datumaro_voc3" },
	};
	(void)state;
	for (size_t f = 0; f < sizeof(in) / sizeof(in[0]); f++) {
		char *p = fx(in[f].path);
		for (unsigned long n = 1; n < 5000; n++) {
			struct annot_set s = ANNOT_SET_INIT;
			struct moat_err e = MOAT_ERR_INIT;
			int rc;
			alloc_fail_nth(n);
			rc = annot_import(in[f].format, p, &s, &e);
			if (!alloc_failed()) {
				alloc_fail_nth(0);
				assert_true(rc > 0);
				annot_set_release(&s);
				break;
			}
			alloc_fail_nth(0);
			if (rc < 0)
				assert_int_equal(s.n_items, 0);
			annot_set_release(&s);
		}
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixture_labelstudio),
		cmocka_unit_test(fixture_doccano),
		cmocka_unit_test(fixture_conll),
		cmocka_unit_test(fixture_coco),
		cmocka_unit_test(fixture_yolo),
		cmocka_unit_test(fixture_voc),
		cmocka_unit_test(coco_yolo_coco),
		cmocka_unit_test(coco_stream_bytes),
		cmocka_unit_test(unicode_spans_every_text_format),
		cmocka_unit_test(labelstudio_spacy_conll),
		cmocka_unit_test(conll_cuts_tokens_at_span_edges),
		cmocka_unit_test(labelstudio_everything_it_carries),
		cmocka_unit_test(labelstudio_old_utf16_offsets),
		cmocka_unit_test(jsonl_streams_and_splits),
		cmocka_unit_test(deterministic_bytes),
		cmocka_unit_test(export_refusals),
		cmocka_unit_test(yolo_layouts),
		cmocka_unit_test(image_headers),
		cmocka_unit_test(malformed_inputs_leave_the_set_alone),
		cmocka_unit_test(limits),
		cmocka_unit_test(allocation_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
