/*
 * annot_coco.c - COCO object detection ("instances") files: "images" with
 * id, file_name, width and height; "categories" with id and name (ids need
 * not run 1..n: the set's labels follow the ids' order); "annotations" with
 * image_id, category_id and bbox [x, y, width, height] in pixels.  Read
 * from one JSON file, or from a dataset directory holding
 * annotations/instances_<split>.json with the images in images/<split>/
 * (or images/, or <split>/ beside annotations/, as COCO's own train2017/).
 *
 * Every image is an item with one value, even with no box (an image with no
 * object is data too).  Segmentation, area, iscrowd and attributes are not
 * carried: a crowd region comes in as its box.  An image's other fields
 * (license, coco_url...) go to its meta and are written back.
 *
 * Not for: COCO's keypoints, captions or panoptic files, or results lists.
 */
#define _GNU_SOURCE
#include "annot_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/fs.h"
#include "../core/jsonw.h"

#include "../core/banned.h"

/* --- import ---------------------------------------------------------------- */

struct idmap {
	json_int_t id;
	size_t idx;
};

static int cmp_id(const void *a, const void *b)
{
	const struct idmap *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static const struct idmap *find_id(const struct idmap *m, size_t n, json_int_t id)
{
	struct idmap key = { id, 0 };
	return bsearch(&key, m, n, sizeof(*m), cmp_id);
}

/* Where an image named by file_name is: the first that exists of
 * root/images/<split>/, root/images/, root/<split>/, root/ (and the file's
 * own directory); else the first. */
static char *find_image(const char *root, const char *filedir, const char *split, const char *name)
{
	char *cand[5] = { NULL, NULL, NULL, NULL, NULL }, *found = NULL;
	size_t n = 0;
	if (name[0] == '/' || strstr(name, "://"))
		return strdup(name);
	if (split && asprintf(&cand[n], "%s/images/%s/%s", root, split, name) >= 0)
		n++;
	if (asprintf(&cand[n], "%s/images/%s", root, name) >= 0)
		n++;
	if (split && asprintf(&cand[n], "%s/%s/%s", root, split, name) >= 0)
		n++;
	if (asprintf(&cand[n], "%s/%s", root, name) >= 0)
		n++;
	if (strcmp(root, filedir) && asprintf(&cand[n], "%s/%s", filedir, name) >= 0)
		n++;
	for (size_t i = 0; i < n && !found; i++)
		if (fs_exists(cand[i]))
			found = cand[i], cand[i] = NULL;
	if (!found && n)
		found = cand[0], cand[0] = NULL;
	for (size_t i = 0; i < n; i++)
		free(cand[i]);
	return found;
}

static char *id_string(json_int_t id)
{
	char *p;
	return asprintf(&p, "%lld", (long long)id) < 0 ? NULL : p;
}

struct coco_ctx {
	const char *file;
	struct annot_set *s;
	struct moat_err *e;
};

static int c_err(struct coco_ctx *c, const char *unit, size_t n, const char *field,
		 const char *msg)
{
	return annot_err(c->e, MOAT_EPARSE, c->file, unit, n, field, "%s", msg);
}

static int c_int(struct coco_ctx *c, const json_t *obj, const char *unit, size_t n,
		 const char *name, json_int_t *out)
{
	const json_t *v = json_object_get(obj, name);
	if (!json_is_integer(v))
		return c_err(c, unit, n, name, v ? "not an integer" : "missing");
	*out = json_integer_value(v);
	return 0;
}

static int coco_file(const char *path, const char *root_in, const char *split,
		     struct annot_set *s, struct moat_err *e)
{
	static const char *const known[] = { "id", "file_name", "width", "height", NULL };
	struct coco_ctx c = { path, s, e };
	json_t *root = NULL, *images, *cats, *anns, *x;
	struct idmap *im = NULL, *cm = NULL;
	const char **catname = NULL;
	char *filedir = NULL, *dataroot = NULL;
	size_t i, nc = 0;
	int rc = -1;
	if (annot_json_load(path, &root, e) < 0)
		return -1;
	if (!json_is_object(root)) {
		c_err(&c, NULL, 0, NULL, "expected a COCO object with images, categories and "
		      "annotations");
		goto out;
	}
	images = json_object_get(root, "images");
	cats = json_object_get(root, "categories");
	anns = json_object_get(root, "annotations");
	if (!json_is_array(images)) {
		c_err(&c, NULL, 0, "images", images ? "not a list" : "missing");
		goto out;
	}
	if (anns && !json_is_array(anns)) {
		c_err(&c, NULL, 0, "annotations", "not a list");
		goto out;
	}
	if (cats ? !json_is_array(cats) : json_array_size(anns) > 0) {
		c_err(&c, NULL, 0, "categories", cats ? "not a list" : "missing");
		goto out;
	}
	filedir = annot_realdir(path);
	if (!filedir) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (root_in) {
		dataroot = strdup(root_in);
	} else {
		/* a file inside annotations/ has its dataset one level up */
		const char *b = annot_basename(filedir);
		dataroot = !strcmp(b, "annotations") ? fs_dirname(filedir) : strdup(filedir);
	}
	im = calloc(json_array_size(images) + 1, sizeof(*im));
	cm = calloc(json_array_size(cats) + 1, sizeof(*cm));
	catname = calloc(json_array_size(cats) + 1, sizeof(*catname));
	if (!dataroot || !im || !cm || !catname) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	/* categories: labels in the order of their ids */
	json_array_foreach(cats, i, x) {
		const json_t *nm = json_object_get(x, "name");
		json_int_t id;
		if (!json_is_object(x)) {
			c_err(&c, "category", i + 1, NULL, "not an object");
			goto out;
		}
		if (c_int(&c, x, "category", i + 1, "id", &id) < 0)
			goto out;
		if (!json_is_string(nm) || !json_string_length(nm)) {
			c_err(&c, "category", i + 1, "name", nm ? "not a non-empty string" : "missing");
			goto out;
		}
		cm[nc].id = id;
		cm[nc].idx = i;
		catname[i] = json_string_value(nm);
		nc++;
	}
	qsort(cm, nc, sizeof(*cm), cmp_id);
	for (i = 0; i < nc; i++) {
		if (i && cm[i].id == cm[i - 1].id) {
			c_err(&c, "category", cm[i].idx + 1, "id", "the same id as another category");
			goto out;
		}
		if (annot_label_index(s, catname[cm[i].idx]) < 0) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
	}
	/* images: one item each */
	json_array_foreach(images, i, x) {
		const json_t *fn;
		struct annot_item *it;
		json_int_t id, w, h;
		if (!json_is_object(x)) {
			c_err(&c, "image", i + 1, NULL, "not an object");
			goto out;
		}
		fn = json_object_get(x, "file_name");
		if (c_int(&c, x, "image", i + 1, "id", &id) < 0 ||
		    c_int(&c, x, "image", i + 1, "width", &w) < 0 ||
		    c_int(&c, x, "image", i + 1, "height", &h) < 0)
			goto out;
		if (!annot_size_ok(w) || !annot_size_ok(h)) {
			c_err(&c, "image", i + 1, annot_size_ok(w) ? "height" : "width",
			      "out of range (1 to 1048576 pixels)");
			goto out;
		}
		if (!json_is_string(fn) || !json_string_length(fn) ||
		    strlen(json_string_value(fn)) != json_string_length(fn)) {
			c_err(&c, "image", i + 1, "file_name", fn ? "not a file name" : "missing");
			goto out;
		}
		if (!(it = annot_add_item(s)) || !(it->id = id_string(id)) ||
		    !(it->image = find_image(dataroot, filedir, split, json_string_value(fn))) ||
		    (split && !(it->split = strdup(split))) || !annot_add_value(it) ||
		    annot_meta_from(x, known, &it->meta) < 0) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		it->width = (int)w;
		it->height = (int)h;
		im[i].id = id;
		im[i].idx = s->n_items - 1;
	}
	qsort(im, json_array_size(images), sizeof(*im), cmp_id);
	for (i = 1; i < json_array_size(images); i++)
		if (im[i].id == im[i - 1].id) {
			annot_err(e, MOAT_EPARSE, path, NULL, 0, "images",
				  "two images have the id %lld", (long long)im[i].id);
			goto out;
		}
	/* annotations: boxes on their images */
	json_array_foreach(anns, i, x) {
		const json_t *bb;
		const struct idmap *img, *cat;
		struct annot_item *it;
		double v[4];
		const char *why;
		json_int_t iid, cid;
		if (!json_is_object(x)) {
			c_err(&c, "annotation", i + 1, NULL, "not an object");
			goto out;
		}
		if (c_int(&c, x, "annotation", i + 1, "image_id", &iid) < 0 ||
		    c_int(&c, x, "annotation", i + 1, "category_id", &cid) < 0)
			goto out;
		if (!(img = find_id(im, json_array_size(images), iid))) {
			c_err(&c, "annotation", i + 1, "image_id", "names no image of the file");
			goto out;
		}
		if (!(cat = find_id(cm, nc, cid))) {
			c_err(&c, "annotation", i + 1, "category_id", "names no category of the file");
			goto out;
		}
		bb = json_object_get(x, "bbox");
		if (!json_is_array(bb) || json_array_size(bb) != 4) {
			c_err(&c, "annotation", i + 1, "bbox",
			      bb ? "not a list of 4 numbers [x, y, width, height]" : "missing");
			goto out;
		}
		for (int k = 0; k < 4; k++) {
			const json_t *n = json_array_get(bb, (size_t)k);
			if (!json_is_number(n)) {
				c_err(&c, "annotation", i + 1, "bbox", "not a list of 4 numbers");
				goto out;
			}
			v[k] = json_number_value(n);
		}
		it = &s->items[img->idx];
		if ((why = annot_box_problem(v[0], v[1], v[2], v[3], 0, it->width, it->height))) {
			annot_err(e, MOAT_EPARSE, path, "annotation", i + 1, "bbox",
				  "[%g, %g, %g, %g] in a %dx%d image: %s", v[0], v[1], v[2], v[3],
				  it->width, it->height, why);
			goto out;
		}
		if (annot_add_box(&it->values[0], v[0], v[1], v[2], v[3], 0, catname[cat->idx]) < 0) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	free(im);
	free(cm);
	free(catname);
	free(filedir);
	free(dataroot);
	json_decref(root);
	return rc;
}

static int instances_name(const char *name)
{
	return !strncmp(name, "instances_", 10) && annot_has_ext(name, ".json");
}

int annot_import_coco(const char *path, struct annot_set *s, struct moat_err *e)
{
	char **names, *adir, *root;
	size_t n;
	int rc = 0;
	if (!fs_is_dir(path)) {
		char *split = NULL;
		const char *b = annot_basename(path);
		if (instances_name(b) && !(split = strndup(b + 10, strlen(b) - 15)))
			return err_set(e, MOAT_ENOMEM, "out of memory");
		rc = coco_file(path, NULL, split && *split ? split : NULL, s, e);
		free(split);
		return rc;
	}
	if (!(adir = fs_join(path, "annotations")) || !(root = realpath(path, NULL))) {
		free(adir);
		return err_set(e, adir ? MOAT_EIO : MOAT_ENOMEM, "cannot open '%s'", path);
	}
	if (!fs_is_dir(adir) || annot_list_dir(adir, instances_name, &names, &n, e) < 0) {
		if (!fs_is_dir(adir))
			err_set(e, MOAT_ENOTFOUND, "%s: no annotations/ directory (a COCO dataset "
				"holds annotations/instances_<split>.json)", path);
		free(adir);
		free(root);
		return -1;
	}
	if (!n)
		rc = err_set(e, MOAT_ENOTFOUND, "%s: no instances_<split>.json in annotations/", path);
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *p = fs_join(adir, names[i]);
		char *split = strndup(names[i] + 10, strlen(names[i]) - 15);
		if (!p || !split)
			rc = err_set(e, MOAT_ENOMEM, "out of memory");
		else
			rc = coco_file(p, root, *split ? split : NULL, s, e);
		free(p);
		free(split);
	}
	annot_free_list(names, n);
	free(adir);
	free(root);
	return rc;
}

/* --- export ---------------------------------------------------------------- */

/*
 * Written as a stream, in the layout json_dumps() gives with a 2-space
 * indent (what this writer made when it built a jansson tree first, at a
 * sixth of the speed): no value is built but an image's extra fields.
 */

static const char *const image_keys[] = { "id", "file_name", "width", "height", NULL };

/* The "images" entry number id of an item (a comma before it unless it is
 * the first of its file, after number first): its fields, then its meta's other members (dumped by jansson,
 * indented to their depth). */
static int put_image(struct buf *b, size_t id, size_t first, const char *file, int w, int h,
		     const json_t *meta)
{
	const char *key;
	json_t *val;
	if (id > first + 1)
		jsonw_addch(b, ',');
	JSONW_LIT(b, "\n    {\n      \"id\": ");
	jsonw_uint(b, id);
	JSONW_LIT(b, ",\n      \"file_name\": ");
	if (jsonw_str(b, file, strlen(file)) < 0)
		return -1;
	JSONW_LIT(b, ",\n      \"width\": ");
	jsonw_uint(b, (uint64_t)w);
	JSONW_LIT(b, ",\n      \"height\": ");
	jsonw_uint(b, (uint64_t)h);
	json_object_foreach((json_t *)meta, key, val) {
		char *s;
		size_t k = 0;
		while (image_keys[k] && strcmp(image_keys[k], key))
			k++;
		if (image_keys[k])
			continue;
		JSONW_LIT(b, ",\n      ");
		jsonw_str(b, key, strlen(key));
		JSONW_LIT(b, ": ");
		if (!(s = json_dumps(val, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY))) {
			b->failed = b->failed ? b->failed : MOAT_ENOMEM;
			return 0;
		}
		for (const char *p = s, *nl; *p; p = nl + 1) {
			if (!(nl = strchr(p, '\n'))) {
				jsonw_add(b, p, strlen(p));
				break;
			}
			jsonw_add(b, p, (size_t)(nl + 1 - p));
			JSONW_LIT(b, "      ");
		}
		free(s);
	}
	JSONW_LIT(b, "\n    }");
	return 0;
}

/* The "annotations" entries of an item's boxes, numbered on from *ann_id
 * (a comma before each but the first of its file, after number first). */
static int put_boxes(struct buf *b, const struct annot_value *v, size_t image_id,
		     size_t *ann_id, size_t first, const struct annot_labels *lab)
{
	for (size_t i = 0; v && i < v->n_boxes; i++) {
		double x[4];
		annot_box_aabb(&v->boxes[i], &x[0], &x[1], &x[2], &x[3]);
		if (*ann_id > first)
			jsonw_addch(b, ',');
		JSONW_LIT(b, "\n    {\n      \"id\": ");
		jsonw_uint(b, ++*ann_id);
		JSONW_LIT(b, ",\n      \"image_id\": ");
		jsonw_uint(b, image_id);
		JSONW_LIT(b, ",\n      \"category_id\": ");
		jsonw_int(b, annot_labels_find(lab, v->boxes[i].label) + 1);
		JSONW_LIT(b, ",\n      \"segmentation\": [],\n      \"area\": ");
		if (annot_num_put(b, x[2] * x[3]) < 0)
			return -1;
		JSONW_LIT(b, ",\n      \"bbox\": [");
		for (int k = 0; k < 4; k++) {
			JSONW_LIT(b, "\n        ");
			if (annot_num_put(b, x[k]) < 0)
				return -1;
			if (k < 3)
				jsonw_addch(b, ',');
		}
		JSONW_LIT(b, "\n      ],\n      \"iscrowd\": 0\n    }");
	}
	return 0;
}

/* Ends an array of entries (any: it has some) as json_dumps() does. */
static void end_array(struct buf *b, int any)
{
	if (any)
		JSONW_LIT(b, "\n  ]");
	else
		jsonw_addch(b, ']');
}

/* One split's instances file: images first (copying each image when asked),
 * then a second pass for their boxes, then the categories.  Image and
 * annotation ids go on from *image_id and *ann_id (they are unique across
 * the splits). */
static int coco_split(const struct annot_set *s, struct annot_out *o,
		      const struct annot_export_opts *opts, const struct annot_labels *lab,
		      const char *split, size_t *image_id, size_t *ann_id)
{
	struct annot_names names = { NULL, 0, 0 };
	struct annot_stream st;
	struct buf *b = &st.b;
	size_t first = *image_id, id;
	char *rel;
	int rc = 0;
	if (asprintf(&rel, "annotations/instances_%s.json", split) < 0)
		return err_set(o->e, MOAT_ENOMEM, "out of memory");
	rc = annot_stream_open(o, rel, &st);
	free(rel);
	if (rc < 0)
		return -1;
	JSONW_LIT(b, "{\n  \"info\": {\n    \"description\": \"exported by moat\"\n  },\n"
		     "  \"licenses\": [],\n  \"images\": [");
	for (size_t i = 0; i < s->n_items && rc == 0; i++) {
		const struct annot_item *it = &s->items[i];
		char *name = NULL, *img_rel = NULL;
		int w, h;
		if (!it->image || strcmp(annot_item_split(it, opts), split))
			continue;
		if ((rc = annot_item_size(it, i, &w, &h, o->e)) < 0)
			break;
		if (opts->copy_images) {
			if (annot_names_take(&names, annot_basename(it->image), i, &name, NULL) < 0 ||
			    asprintf(&img_rel, "images/%s/%s", split, name) < 0) {
				free(name);
				rc = err_set(o->e, MOAT_ENOMEM, "out of memory");
				break;
			}
			rc = annot_out_copy(o, it->image, img_rel);
			free(img_rel);
		}
		if (rc == 0 && put_image(b, ++*image_id, first, name ? name : it->image, w, h, it->meta) < 0)
			rc = err_set(o->e, MOAT_EPARSE, "item %zu: the image's path is not UTF-8", i + 1);
		free(name);
		if (rc == 0)
			rc = annot_stream_flush(&st);
	}
	annot_names_release(&names);
	if (rc < 0)
		return annot_stream_close(&st, rc);
	end_array(b, *image_id > first);
	JSONW_LIT(b, ",\n  \"annotations\": [");
	id = first;
	first = *ann_id;
	for (size_t i = 0; i < s->n_items && rc == 0; i++) {
		const struct annot_item *it = &s->items[i];
		if (!it->image || strcmp(annot_item_split(it, opts), split))
			continue;
		if (put_boxes(b, annot_main_value(it), ++id, ann_id, first, lab) < 0)
			rc = err_set(o->e, MOAT_EUSAGE, "item %zu: a box that is not finite", i + 1);
		else
			rc = annot_stream_flush(&st);
	}
	if (rc < 0)
		return annot_stream_close(&st, rc);
	end_array(b, *ann_id > first);
	JSONW_LIT(b, ",\n  \"categories\": [");
	for (size_t i = 0; i < lab->n; i++) {
		if (i)
			jsonw_addch(b, ',');
		JSONW_LIT(b, "\n    {\n      \"id\": ");
		jsonw_uint(b, i + 1);
		JSONW_LIT(b, ",\n      \"name\": ");
		if (jsonw_str(b, lab->name[i], strlen(lab->name[i])) < 0)
			return annot_stream_close(&st, err_set(o->e, MOAT_EPARSE,
							       "label %zu is not UTF-8", i + 1));
		JSONW_LIT(b, ",\n      \"supercategory\": \"\"\n    }");
	}
	end_array(b, lab->n > 0);
	JSONW_LIT(b, "\n}\n");
	return annot_stream_close(&st, 0);
}

int annot_export_coco(const struct annot_set *s, struct annot_out *o,
		      const struct annot_export_opts *opts)
{
	struct annot_labels lab;
	struct annot_splits sp;
	size_t image_id = 0, ann_id = 0;
	int rc = 0;
	if (annot_labels_of(s, &lab) < 0)
		return err_set(o->e, MOAT_ENOMEM, "out of memory");
	if (annot_splits_of(s, opts, annot_item_is_image, &sp, o->e) < 0) {
		annot_labels_release(&lab);
		return -1;
	}
	for (size_t k = 0; k < sp.n && rc == 0; k++)
		rc = coco_split(s, o, opts, &lab, sp.name[k], &image_id, &ann_id);
	annot_splits_release(&sp);
	annot_labels_release(&lab);
	return rc;
}
