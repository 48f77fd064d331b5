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
	for (size_t k = 0; k < sp.n && rc == 0; k++) {
		struct annot_names names = { NULL, 0, 0 };
		json_t *root = json_object(), *images = json_array(), *anns = json_array(),
		       *cats = json_array();
		char *rel = NULL;
		json_object_set_new(root, "info", json_pack("{s:s}", "description",
							    "exported by moat"));
		json_object_set_new(root, "licenses", json_array());
		json_object_set_new(root, "images", images);
		json_object_set_new(root, "annotations", anns);
		json_object_set_new(root, "categories", cats);
		for (size_t i = 0; i < lab.n; i++)
			json_array_append_new(cats, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)i + 1,
							      "name", lab.name[i], "supercategory", ""));
		for (size_t i = 0; i < s->n_items && rc == 0; i++) {
			const struct annot_item *it = &s->items[i];
			const struct annot_value *v;
			char *name = NULL, *img_rel = NULL;
			json_t *ij;
			int w, h;
			if (!it->image || strcmp(annot_item_split(it, opts), sp.name[k]))
				continue;
			if ((rc = annot_item_size(it, i, &w, &h, o->e)) < 0)
				break;
			if (opts->copy_images) {
				if (annot_names_take(&names, annot_basename(it->image), i, &name, NULL) < 0 ||
				    asprintf(&img_rel, "images/%s/%s", sp.name[k], name) < 0) {
					free(name);
					rc = err_set(o->e, MOAT_ENOMEM, "out of memory");
					break;
				}
				rc = annot_out_copy(o, it->image, img_rel);
				free(img_rel);
				if (rc < 0) {
					free(name);
					break;
				}
			}
			ij = json_pack("{s:I,s:s,s:i,s:i}", "id", (json_int_t)++image_id, "file_name",
				       name ? name : it->image, "width", w, "height", h);
			free(name);
			annot_meta_into(ij, it->meta);
			json_array_append_new(images, ij);
			v = annot_main_value(it);
			for (size_t b = 0; v && b < v->n_boxes; b++) {
				double x, y, bw, bh;
				json_t *a;
				annot_box_aabb(&v->boxes[b], &x, &y, &bw, &bh);
				a = json_object();
				json_object_set_new(a, "id", json_integer((json_int_t)++ann_id));
				json_object_set_new(a, "image_id", json_integer((json_int_t)image_id));
				json_object_set_new(a, "category_id", json_integer(
					annot_labels_find(&lab, v->boxes[b].label) + 1));
				json_object_set_new(a, "segmentation", json_array());
				json_object_set_new(a, "area", annot_num_json(bw * bh));
				json_object_set_new(a, "bbox", json_pack("[o,o,o,o]", annot_num_json(x),
									 annot_num_json(y),
									 annot_num_json(bw),
									 annot_num_json(bh)));
				json_object_set_new(a, "iscrowd", json_integer(0));
				json_array_append_new(anns, a);
			}
		}
		if (rc == 0 && asprintf(&rel, "annotations/instances_%s.json", sp.name[k]) < 0)
			rc = err_set(o->e, MOAT_ENOMEM, "out of memory");
		if (rc == 0)
			rc = annot_out_json(o, rel, root, 1);
		free(rel);
		json_decref(root);
		annot_names_release(&names);
	}
	annot_splits_release(&sp);
	annot_labels_release(&lab);
	return rc;
}
