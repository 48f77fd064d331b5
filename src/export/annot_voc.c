/*
 * annot_voc.c - Pascal VOC detection: one XML file per image
 * (<annotation> with <filename>, <size> and an <object> per box, its <name>
 * and <bndbox> xmin/ymin/xmax/ymax), in a dataset directory with
 * Annotations/, JPEGImages/ and ImageSets/Main/<split>.txt (image ids, one
 * a line; blank lines and '#' comments skipped), or one XML file.
 *
 * Coordinates are taken as pixel edges, x = xmin and w = xmax - xmin, as
 * Datumaro, CVAT and Label Studio read them (VOC's devkit counts pixels
 * from 1: such files come out shifted by one pixel at most), and written
 * rounded to whole pixels.  An id in several lists belongs to the first
 * split read: train, val, test, then the others by name, trainval last;
 * per-class lists (<class>_<split>.txt) are not read.  pose, truncated,
 * difficult and occluded are not carried (written as Unspecified, 0, 0).
 * An image whose XML lacks <size> is measured from its header.
 *
 * XML is parsed with libxml2 without network access, DTDs or entity
 * expansion (a file declaring a DTD is refused).
 *
 * Not for: VOC segmentation masks, layouts or actions.
 */
#define _GNU_SOURCE
#include "annot_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "../core/fs.h"
#include "../core/xml.h"

#include "../core/banned.h"

/* --- import ---------------------------------------------------------------- */

static xmlDocPtr parse_xml(const char *path, struct moat_err *e)
{
	struct buf b = BUF_INIT;
	struct xml_why why;
	xmlDocPtr doc;
	if (annot_read_file(path, &b, e) < 0) {
		buf_release(&b);
		return NULL;
	}
	doc = xml_read_safe(buf_str(&b), b.len, XML_PARSE_NOCDATA, &why);
	buf_release(&b);
	if (doc)
		return doc;
	if (why.fail == XML_TOO_LARGE)
		err_set(e, MOAT_ELIMIT, "%s: too large for an XML file", path);
	else if (why.fail == XML_NOMEM)
		err_set(e, MOAT_ENOMEM, "out of memory");
	else if (why.fail == XML_DTD)
		err_set(e, MOAT_EUNSUPPORTED, "%s: declares a DTD (refused: no DTDs or entity "
			"expansion)", path);
	else
		annot_err(e, MOAT_EPARSE, path, "line", why.line > 0 ? (size_t)why.line : 1, NULL,
			  "malformed XML: %s", why.msg[0] ? why.msg : "unknown");
	return NULL;
}

static xmlNode *child(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
			return c;
	return NULL;
}

/* The text of a child element (malloc'd, trimmed), or NULL when absent. */
static char *child_text(const xmlNode *n, const char *name)
{
	xmlNode *c = child(n, name);
	xmlChar *t;
	char *s, *p;
	size_t len;
	if (!c)
		return NULL;
	t = xmlNodeGetContent(c);
	if (!t)
		return strdup("");
	p = (char *)t;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	len = strlen(p);
	while (len && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\n' ||
		       p[len - 1] == '\r'))
		len--;
	s = strndup(p, len);
	xmlFree(t);
	return s;
}

struct voc_ctx {
	const char *file;
	struct annot_set *s;
	struct moat_err *e;
};

static int v_number(struct voc_ctx *c, const xmlNode *n, const char *name, size_t obj,
		    const char *prefix, double *out, int required)
{
	char *t = child_text(n, name);
	char f[64];
	int rc = 0;
	annot_field(f, sizeof(f), "%s%s", prefix, name);
	if (!t)
		rc = required ? annot_err(c->e, MOAT_EPARSE, c->file, obj ? "object" : NULL, obj, f,
					  "missing") : 1;
	else if (annot_parse_double(t, out) < 0)
		rc = annot_err(c->e, MOAT_EPARSE, c->file, obj ? "object" : NULL, obj, f,
			       "'%.32s' is not a number", t);
	free(t);
	return rc;
}

/* One XML file: an item.  jpeg_dir: where the dataset keeps images. */
static int voc_file(struct voc_ctx *c, const char *path, const char *jpeg_dir, const char *split)
{
	xmlDocPtr doc = parse_xml(path, c->e);
	xmlNode *root;
	struct annot_item *it;
	struct annot_value *v;
	char *fname = NULL, *img = NULL, *dir = NULL;
	double w = 0, h = 0;
	size_t nobj = 0;
	int rc = -1;
	if (!doc)
		return -1;
	root = xmlDocGetRootElement(doc);
	if (!root || strcmp((const char *)root->name, "annotation")) {
		annot_err(c->e, MOAT_EPARSE, path, NULL, 0, NULL, "the root element is not "
			  "<annotation>");
		goto out;
	}
	if (!(dir = annot_realdir(path))) {
		err_set(c->e, MOAT_EIO, "cannot open '%s'", path);
		goto out;
	}
	fname = child_text(root, "filename");
	if (fname && (!*fname || strchr(fname, '/'))) {
		/* a path in <filename>: its last part */
		char *b = strdup(annot_basename(fname));
		free(fname);
		fname = b && *b ? b : (free(b), (char *)NULL);
	}
	if (!fname) {
		char *stem = annot_stem(path);
		if (!stem || asprintf(&fname, "%s.jpg", stem) < 0)
			fname = NULL;
		free(stem);
		if (!fname) {
			err_set(c->e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
	}
	/* the image: JPEGImages/, beside the XML, then <path> */
	{
		char *cand[3] = { NULL, NULL, NULL };
		cand[0] = jpeg_dir ? fs_join(jpeg_dir, fname) : NULL;
		cand[1] = fs_join(dir, fname);
		cand[2] = child_text(root, "path");
		int pick = -1;
		for (int k = 0; k < 3 && pick < 0; k++)
			if (cand[k] && cand[k][0] && fs_exists(cand[k]))
				pick = k;
		if (pick < 0)  /* none there: name it where the dataset would keep it */
			pick = cand[0] ? 0 : 1;
		img = cand[pick];
		cand[pick] = NULL;
		for (int k = 0; k < 3; k++)
			free(cand[k]);
		if (!img) {
			err_set(c->e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
	}
	{
		xmlNode *size = child(root, "size");
		int r1 = size ? v_number(c, size, "width", 0, "size.", &w, 0) : 1;
		int r2 = size && r1 >= 0 ? v_number(c, size, "height", 0, "size.", &h, 0) : 1;
		if (r1 < 0 || r2 < 0)
			goto out;
		if (r1 || r2 || (w == 0 && h == 0)) {
			int iw, ih;
			if (annot_image_size(img, &iw, &ih, c->e) < 0) {
				err_prefix(c->e, "%s: no <size>", path);
				goto out;
			}
			w = iw, h = ih;
		}
		if (w != floor(w) || h != floor(h) || !annot_size_ok((int64_t)w) ||
		    !annot_size_ok((int64_t)h)) {
			annot_err(c->e, MOAT_EPARSE, path, NULL, 0, "size",
				  "%gx%g is not an image size (1 to %d pixels a side)", w, h,
				  ANNOT_MAX_IMAGE_SIDE);
			goto out;
		}
	}
	if (!(it = annot_add_item(c->s)) || !(it->id = annot_stem(path)) ||
	    (split && !(it->split = strdup(split))) || !(v = annot_add_value(it))) {
		err_set(c->e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	it->image = img;
	img = NULL;
	it->width = (int)w;
	it->height = (int)h;
	for (xmlNode *o = root->children; o; o = o->next) {
		xmlNode *bb;
		double x0, y0, x1, y1;
		const char *why;
		char *name;
		if (o->type != XML_ELEMENT_NODE || strcmp((const char *)o->name, "object"))
			continue;
		nobj++;
		name = child_text(o, "name");
		if (!name || !*name) {
			free(name);
			annot_err(c->e, MOAT_EPARSE, path, "object", nobj, "name", "missing");
			goto out;
		}
		if (!(bb = child(o, "bndbox"))) {
			free(name);
			annot_err(c->e, MOAT_EPARSE, path, "object", nobj, "bndbox", "missing");
			goto out;
		}
		if (v_number(c, bb, "xmin", nobj, "bndbox.", &x0, 1) ||
		    v_number(c, bb, "ymin", nobj, "bndbox.", &y0, 1) ||
		    v_number(c, bb, "xmax", nobj, "bndbox.", &x1, 1) ||
		    v_number(c, bb, "ymax", nobj, "bndbox.", &y1, 1)) {
			free(name);
			goto out;
		}
		if ((why = annot_box_problem(x0, y0, x1 - x0, y1 - y0, 0, it->width, it->height))) {
			annot_err(c->e, MOAT_EPARSE, path, "object", nobj, "bndbox",
				  "(%g, %g)-(%g, %g) in a %dx%d image: %s", x0, y0, x1, y1,
				  it->width, it->height, why);
			free(name);
			goto out;
		}
		if (annot_add_box(v, x0, y0, x1 - x0, y1 - y0, 0, name) < 0) {
			free(name);
			err_set(c->e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		free(name);
	}
	rc = 0;
out:
	free(fname);
	free(img);
	free(dir);
	xmlFreeDoc(doc);
	return rc;
}

/* ImageSets/Main/<split>.txt: the split of each id (first list wins). */
struct idsplit {
	struct annot_names ids;
	char **id, **split;
	size_t n;
};

static int rank(const char *name)
{
	static const char *const order[] = { "train.txt", "val.txt", "test.txt", NULL };
	for (int i = 0; order[i]; i++)
		if (!strcmp(name, order[i]))
			return i;
	return !strcmp(name, "trainval.txt") ? 5 : 4;
}

static int list_name(const char *name)
{
	return annot_has_ext(name, ".txt") && !strchr(name, '_');
}

static int read_sets(const char *main_dir, struct idsplit *is, struct moat_err *e)
{
	char **names;
	size_t n;
	int rc = 0;
	if (annot_list_dir(main_dir, list_name, &names, &n, e) < 0)
		return -1;
	for (int r = 0; r <= 5 && rc == 0; r++)
		for (size_t i = 0; i < n && rc == 0; i++) {
			struct buf b = BUF_INIT;
			char *p, *split;
			size_t off = 0;
			if (rank(names[i]) != r)
				continue;
			if (!(p = fs_join(main_dir, names[i])) ||
			    !(split = strndup(names[i], strlen(names[i]) - 4))) {
				free(p);
				rc = err_set(e, MOAT_ENOMEM, "out of memory");
				break;
			}
			if (annot_read_file(p, &b, e) < 0)
				rc = -1;
			while (rc == 0 && off < b.len) {
				char *l = b.data + off, *nl = memchr(l, '\n', b.len - off);
				size_t len = nl ? (size_t)(nl - l) : b.len - off, k = 0;
				int added;
				off += len + (nl ? 1 : 0);
				while (len && (*l == ' ' || *l == '\t'))
					l++, len--;
				while (k < len && l[k] != ' ' && l[k] != '\t' && l[k] != '\r')
					k++;
				if (!k || l[0] == '#')
					continue;
				l[k] = '\0';
				if ((added = annot_names_add(&is->ids, l)) < 0)
					rc = err_set(e, MOAT_ENOMEM, "out of memory");
				else if (added) {
					char **a = realloc(is->id, (is->n + 1) * sizeof(*a)), **s2;
					if (a)
						is->id = a;
					s2 = a ? realloc(is->split, (is->n + 1) * sizeof(*s2)) : NULL;
					if (s2)
						is->split = s2;
					if (!a || !s2 || !(is->id[is->n] = strdup(l)) ||
					    !(is->split[is->n] = strdup(split))) {
						if (a && s2 && is->id[is->n])
							free(is->id[is->n]);
						rc = err_set(e, MOAT_ENOMEM, "out of memory");
					} else {
						is->n++;
					}
				}
			}
			buf_release(&b);
			free(split);
			free(p);
		}
	annot_free_list(names, n);
	return rc;
}

static const char *split_of(const struct idsplit *is, const char *id)
{
	for (size_t i = 0; i < is->n; i++)
		if (!strcmp(is->id[i], id))
			return is->split[i];
	return NULL;
}

static int xml_name(const char *name)
{
	return annot_has_ext(name, ".xml");
}

int annot_import_voc(const char *path, struct annot_set *s, struct moat_err *e)
{
	struct voc_ctx c = { NULL, s, e };
	struct idsplit is;
	char **names = NULL, *ann = NULL, *jpeg = NULL, *main_dir = NULL;
	size_t n = 0;
	int rc = -1;
	memset(&is, 0, sizeof(is));
	if (!fs_is_dir(path)) {
		char *dir = annot_realdir(path), *up = dir ? fs_dirname(dir) : NULL;
		c.file = path;
		jpeg = up ? fs_join(up, "JPEGImages") : NULL;
		rc = dir && up && jpeg ? voc_file(&c, path, jpeg, NULL)
				       : err_set(e, MOAT_EIO, "cannot open '%s'", path);
		free(dir);
		free(up);
		free(jpeg);
		return rc;
	}
	ann = fs_join(path, "Annotations");
	jpeg = fs_join(path, "JPEGImages");
	main_dir = fs_join(path, "ImageSets/Main");
	if (!ann || !jpeg || !main_dir) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (!fs_is_dir(ann)) {
		err_set(e, MOAT_ENOTFOUND, "%s: no Annotations/ directory (a VOC dataset holds "
			"Annotations/*.xml)", path);
		goto out;
	}
	if (fs_is_dir(main_dir) && read_sets(main_dir, &is, e) < 0)
		goto out;
	if (annot_list_dir(ann, xml_name, &names, &n, e) < 0)
		goto out;
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *p = fs_join(ann, names[i]), *stem = annot_stem(names[i]);
		if (!p || !stem) {
			rc = err_set(e, MOAT_ENOMEM, "out of memory");
		} else {
			c.file = p;
			rc = voc_file(&c, p, jpeg, split_of(&is, stem));
		}
		free(p);
		free(stem);
	}
out:
	annot_free_list(names, n);
	for (size_t i = 0; i < is.n; i++) {
		free(is.id[i]);
		free(is.split[i]);
	}
	free(is.id);
	free(is.split);
	annot_names_release(&is.ids);
	free(ann);
	free(jpeg);
	free(main_dir);
	return rc;
}

/* --- export ---------------------------------------------------------------- */

static void xml_text(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '&': buf_adds(b, "&amp;"); break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n')
				buf_addch(b, ' ');  /* XML 1.0 cannot hold it */
			else
				buf_addch(b, *s);
		}
	}
}

static long px(double v, int max)
{
	long r = lround(v);
	return r < 0 ? 0 : r > max ? max : r;
}

int annot_export_voc(const struct annot_set *s, struct annot_out *o,
		     const struct annot_export_opts *opts)
{
	struct annot_splits sp;
	struct annot_names images = { NULL, 0, 0 };
	int rc = 0;
	if (annot_splits_of(s, opts, annot_item_is_image, &sp, o->e) < 0)
		return -1;
	if (annot_out_mkdir(o, "Annotations") < 0 || annot_out_mkdir(o, "JPEGImages") < 0) {
		annot_splits_release(&sp);
		return -1;
	}
	for (size_t k = 0; k < sp.n && rc == 0; k++) {
		struct buf list = BUF_INIT;
		char *rel = NULL;
		for (size_t i = 0; i < s->n_items && rc == 0; i++) {
			const struct annot_item *it = &s->items[i];
			const struct annot_value *v;
			struct buf x = BUF_INIT;
			char *name = NULL, *stem = NULL;
			int w, h;
			if (!it->image || strcmp(annot_item_split(it, opts), sp.name[k]))
				continue;
			if ((rc = annot_item_size(it, i, &w, &h, o->e)) < 0)
				break;
			/* one name space for the whole dataset: Annotations/ and
			 * JPEGImages/ hold every split */
			if (annot_names_take(&images, annot_basename(it->image), i, &name, &stem) < 0) {
				rc = err_set(o->e, MOAT_ENOMEM, "out of memory");
				break;
			}
			if (opts->copy_images) {
				if (asprintf(&rel, "JPEGImages/%s", name) < 0)
					rel = NULL;
				rc = rel ? annot_out_copy(o, it->image, rel)
					 : err_set(o->e, MOAT_ENOMEM, "out of memory");
				free(rel);
				rel = NULL;
			}
			buf_adds(&x, "<annotation>\n  <folder>JPEGImages</folder>\n  <filename>");
			xml_text(&x, name);
			buf_adds(&x, "</filename>\n");
			if (!opts->copy_images) {
				buf_adds(&x, "  <path>");
				xml_text(&x, it->image);
				buf_adds(&x, "</path>\n");
			}
			buf_addf(&x, "  <size>\n    <width>%d</width>\n    <height>%d</height>\n"
				 "    <depth>3</depth>\n  </size>\n  <segmented>0</segmented>\n", w, h);
			v = annot_main_value(it);
			for (size_t b = 0; v && b < v->n_boxes; b++) {
				double bx, by, bw, bh;
				annot_box_aabb(&v->boxes[b], &bx, &by, &bw, &bh);
				buf_adds(&x, "  <object>\n    <name>");
				xml_text(&x, v->boxes[b].label);
				buf_addf(&x, "</name>\n    <pose>Unspecified</pose>\n"
					 "    <truncated>0</truncated>\n    <difficult>0</difficult>\n"
					 "    <bndbox>\n      <xmin>%ld</xmin>\n      <ymin>%ld</ymin>\n"
					 "      <xmax>%ld</xmax>\n      <ymax>%ld</ymax>\n    </bndbox>\n"
					 "  </object>\n", px(bx, w), px(by, h), px(bx + bw, w),
					 px(by + bh, h));
			}
			buf_adds(&x, "</annotation>\n");
			if (rc == 0 && asprintf(&rel, "Annotations/%s.xml", stem) < 0) {
				rel = NULL;
				rc = err_set(o->e, MOAT_ENOMEM, "out of memory");
			}
			if (rc == 0)
				rc = annot_out_buf(o, rel, &x);
			free(rel);
			rel = NULL;
			buf_adds(&list, stem);
			buf_addch(&list, '\n');
			free(name);
			free(stem);
			buf_release(&x);
		}
		if (rc == 0 && asprintf(&rel, "ImageSets/Main/%s.txt", sp.name[k]) < 0) {
			rel = NULL;
			rc = err_set(o->e, MOAT_ENOMEM, "out of memory");
		}
		if (rc == 0)
			rc = annot_out_buf(o, rel, &list);
		free(rel);
		buf_release(&list);
	}
	annot_names_release(&images);
	annot_splits_release(&sp);
	return rc;
}
