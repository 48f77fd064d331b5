/*
 * annot_yolo.c - YOLO detection datasets: one text file per image, a line
 * "class x_center y_center width height" per box, normalised to the image's
 * size (read from the image's header, so every image must be there).
 *
 * Two layouts are read.  Ultralytics: a data.yaml with "names" (a list, or
 * a map of class ids 0..n-1), "path" (the root: relative to the YAML's
 * directory, which is also the root when "path" is missing or does not
 * exist) and "train"/"val"/"test" (a directory of images, a .txt list of
 * images, or a list of those); an image's labels are where "/images/"
 * becomes "/labels/" in its path, with .txt for its extension (for an image
 * outside the root, labels/<split>/<stem>.txt under the root first).  Darknet:
 * obj.names or classes.txt, with obj.data's train/valid/test lists when
 * present (paths in them relative to the root, or to its parent as Darknet
 * names them "data/..."), else images/ and labels/ side by side (a
 * subdirectory of images/ being a split), else obj_<split>_data/ or the root
 * with each label file beside its image.  An image with no label file has
 * no boxes (a background image, as Ultralytics reads it).
 *
 * Written: the Ultralytics layout, images/<split>/, labels/<split>/ with six
 * decimals, and data.yaml with "path: ." (this file's directory: moat and
 * Datumaro read it so; Ultralytics resolves a relative path against its
 * working directory, so run it from the dataset or edit the line).  Without
 * copy_images the split is a "<split>.txt" list of the images where they
 * are, with the labels still under labels/<split>/.
 *
 * Not for: segmentation or pose lines (more than five fields are an error),
 * or oriented boxes (a rotated box is written as the box around it).  Only
 * the YAML that data.yaml files use is understood: top-level keys, block
 * and flow lists and maps of scalars, quoted or plain.
 */
#define _GNU_SOURCE
#include "annot_internal.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/fs.h"
#include "../core/utf8.h"

#include "../core/banned.h"

/* --- a little YAML --------------------------------------------------------- */

struct yval {
	char *key;
	size_t line;
	char *scalar;           /* a scalar, or NULL */
	char **items;           /* a list (keys NULL) or a map (keys set) */
	char **keys;
	size_t n;
	int block;              /* 1 while indented lines may follow */
};

struct ydoc {
	struct yval *v;
	size_t n;
};

static void ydoc_release(struct ydoc *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].key);
		free(d->v[i].scalar);
		for (size_t k = 0; k < d->v[i].n; k++) {
			free(d->v[i].items[k]);
			if (d->v[i].keys)
				free(d->v[i].keys[k]);
		}
		free(d->v[i].items);
		free(d->v[i].keys);
	}
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

static const struct yval *yget(const struct ydoc *d, const char *key)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].key, key))
			return &d->v[i];
	return NULL;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Unquotes s[0..n) (trimmed) into a new string; NULL with *bad set when a
 * quote is not closed. */
static char *yscalar(const char *s, size_t n, int *bad)
{
	struct buf b = BUF_INIT;
	while (n && is_blank(*s))
		s++, n--;
	while (n && is_blank(s[n - 1]))
		n--;
	*bad = 0;
	if (n && (s[0] == '\'' || s[0] == '"')) {
		char q = s[0];
		size_t i;
		for (i = 1; i < n; i++) {
			if (s[i] == q) {
				if (q == '\'' && i + 1 < n && s[i + 1] == '\'') {
					buf_addch(&b, '\'');
					i++;
					continue;
				}
				break;
			}
			if (q == '"' && s[i] == '\\' && i + 1 < n) {
				char c = s[++i];
				buf_addch(&b, c == 'n' ? '\n' : c == 't' ? '\t' : c);
				continue;
			}
			buf_addch(&b, s[i]);
		}
		if (i >= n || i != n - 1) {
			*bad = 1;
			buf_release(&b);
			return NULL;
		}
		if (!b.data)
			buf_adds(&b, "");
		return buf_detach(&b, NULL);
	}
	buf_add(&b, s, n);
	if (!b.data)
		buf_adds(&b, "");
	return buf_detach(&b, NULL);
}

/* The first c in s[0..n) outside quotes with a blank or the line's edge
 * before it (after it, with after); n when none. */
static size_t unquoted(const char *s, size_t n, char c, int after)
{
	char q = 0;
	for (size_t i = 0; i < n; i++) {
		if (q) {
			if (s[i] == q)
				q = 0;
		} else if (s[i] == '\'' || s[i] == '"') {
			q = s[i];
		} else if (s[i] == c && (after ? i + 1 == n || is_blank(s[i + 1])
					      : i == 0 || is_blank(s[i - 1]))) {
			return i;
		}
	}
	return n;
}

/* The end of s[0..n) before a comment ('#' at the start or after a blank,
 * outside quotes). */
static size_t strip_comment(const char *s, size_t n)
{
	return unquoted(s, n, '#', 0);
}

/* Where "key: value" splits: the ':' followed by a blank or the end,
 * outside quotes; n when none. */
static size_t key_colon(const char *s, size_t n)
{
	return unquoted(s, n, ':', 1);
}

static int yadd(struct yval *v, char *key, char *item)
{
	char **it = realloc(v->items, (v->n + 1) * sizeof(*it)), **ks;
	if (!it)
		return -1;
	v->items = it;
	if (key || v->keys) {
		ks = realloc(v->keys, (v->n + 1) * sizeof(*ks));
		if (!ks)
			return -1;
		v->keys = ks;
		if (!key)
			return -1;
		ks[v->n] = key;
	}
	it[v->n++] = item;
	return 0;
}

/* A flow list "[a, b]" or map "{0: a, 1: b}" in s[0..n). */
static int yflow(struct yval *v, const char *s, size_t n, int map)
{
	size_t i = 1, end = n - 1;
	while (i < end) {
		size_t j = i;
		char q = 0;
		int bad;
		for (; j < end; j++) {
			if (q) {
				if (s[j] == q)
					q = 0;
			} else if (s[j] == '\'' || s[j] == '"') {
				q = s[j];
			} else if (s[j] == ',') {
				break;
			}
		}
		{
			const char *p = s + i;
			size_t m = j - i, c;
			while (m && is_blank(*p))
				p++, m--;
			if (m) {
				char *key = NULL, *val;
				if (map) {
					c = key_colon(p, m);
					if (c == m || !(key = yscalar(p, c, &bad)))
						return -1;
					p += c + 1, m -= c + 1;
				}
				if (!(val = yscalar(p, m, &bad)) || yadd(v, key, val) < 0) {
					free(key);
					free(val);
					return -1;
				}
			}
		}
		i = j + 1;
	}
	return 0;
}

static int yparse(const char *file, const char *data, size_t len, struct ydoc *d, struct moat_err *e)
{
	size_t off = 0, line = 0;
	struct yval *cur = NULL;
	memset(d, 0, sizeof(*d));
	while (off < len) {
		const char *l = data + off, *nl = memchr(l, '\n', len - off);
		size_t n = nl ? (size_t)(nl - l) : len - off, ind = 0, c;
		int bad = 0;
		off += n + (nl ? 1 : 0);
		line++;
		n = strip_comment(l, n);
		while (n && (is_blank(l[n - 1]) || l[n - 1] == '\r'))
			n--;
		while (ind < n && is_blank(l[ind]))
			ind++;
		if (ind == n || (line == 1 && n >= 3 && !memcmp(l, "---", 3)))
			continue;
		if (ind == 0 && l[0] == '-' && cur && cur->block) {
			/* "names:\n- a" lists may start at column 0 */
		} else if (ind == 0) {
			struct yval *v;
			c = key_colon(l, n);
			if (c == n)
				return annot_err(e, MOAT_EPARSE, file, "line", line, NULL,
						 "expected 'key: value'");
			v = realloc(d->v, (d->n + 1) * sizeof(*v));
			if (!v)
				return err_set(e, MOAT_ENOMEM, "out of memory");
			d->v = v;
			cur = &d->v[d->n++];
			memset(cur, 0, sizeof(*cur));
			cur->line = line;
			if (!(cur->key = yscalar(l, c, &bad)))
				return annot_err(e, MOAT_EPARSE, file, "line", line, NULL,
						 "unclosed quote");
			{
				const char *p = l + c + 1;
				size_t m = n - c - 1;
				while (m && is_blank(*p))
					p++, m--;
				if (!m) {
					cur->block = 1;
				} else if (p[0] == '[' || p[0] == '{') {
					if (p[m - 1] != (p[0] == '[' ? ']' : '}') ||
					    yflow(cur, p, m, p[0] == '{') < 0)
						return annot_err(e, MOAT_EPARSE, file, "line", line,
								 cur->key, "a list or map this reader "
								 "cannot follow (keep it on one line)");
				} else if (!(cur->scalar = yscalar(p, m, &bad))) {
					return annot_err(e, MOAT_EPARSE, file, "line", line, cur->key,
							 "unclosed quote");
				}
			}
			continue;
		}
		/* an indented line (or "- " at column 0) inside a block */
		if (!cur || !cur->block)
			return annot_err(e, MOAT_EPARSE, file, "line", line, NULL,
					 "indented line outside a list or map");
		{
			const char *p = l + ind;
			size_t m = n - ind;
			char *key = NULL, *val;
			if (p[0] == '-' && (m == 1 || is_blank(p[1]))) {
				if (cur->keys)
					return annot_err(e, MOAT_EPARSE, file, "line", line, cur->key,
							 "list item inside a map");
				val = yscalar(p + 1, m - 1, &bad);
			} else {
				if (cur->n && !cur->keys)
					return annot_err(e, MOAT_EPARSE, file, "line", line, cur->key,
							 "map entry inside a list");
				c = key_colon(p, m);
				if (c == m)
					return annot_err(e, MOAT_EPARSE, file, "line", line, cur->key,
							 "expected '- item' or 'key: value'");
				if (!(key = yscalar(p, c, &bad)))
					return annot_err(e, MOAT_EPARSE, file, "line", line, cur->key,
							 "unclosed quote");
				val = yscalar(p + c + 1, m - c - 1, &bad);
			}
			if (!val) {
				free(key);
				return annot_err(e, MOAT_EPARSE, file, "line", line, cur->key,
						 bad ? "unclosed quote" : "out of memory");
			}
			if (yadd(cur, key, val) < 0) {
				free(key);
				free(val);
				return err_set(e, MOAT_ENOMEM, "out of memory");
			}
		}
	}
	return 0;
}

/* --- import ---------------------------------------------------------------- */

struct yolo_ctx {
	const char *root;            /* absolute dataset root */
	struct annot_set *s;
	struct annot_names seen;     /* image paths already taken */
	long n_names;                /* classes */
	char **names;                /* their labels (borrowed from the set) */
	struct moat_err *e;
};

static int utf8_line_ok(const char *s)
{
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return 0;
	return utf8_is_valid(s, strlen(s));
}

static int set_names(struct yolo_ctx *c, char **names, size_t n, const char *file)
{
	c->names = calloc(n ? n : 1, sizeof(*c->names));
	if (!c->names)
		return err_set(c->e, MOAT_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		long k;
		if (!*names[i] || !utf8_line_ok(names[i]))
			return annot_err(c->e, MOAT_EPARSE, file, "class", i, NULL,
					 "an empty name, or one that is not a line of UTF-8");
		if ((k = annot_label_index(c->s, names[i])) < 0)
			return err_set(c->e, MOAT_ENOMEM, "out of memory");
		c->names[i] = c->s->labels[k];
	}
	c->n_names = (long)n;
	return 0;
}

/* The label file of an image: the last "/images/" turned into "/labels/",
 * the extension into ".txt". */
static char *label_path(const char *img)
{
	const char *dot = strrchr(img, '.'), *slash = strrchr(img, '/'), *im = NULL, *p = img;
	struct buf b = BUF_INIT;
	size_t n = dot && (!slash || dot > slash) ? (size_t)(dot - img) : strlen(img);
	while ((p = strstr(p, "/images/")) && (size_t)(p - img) < n)
		im = p++;
	if (im) {
		buf_add(&b, img, (size_t)(im - img));
		buf_adds(&b, "/labels/");
		buf_add(&b, im + 8, n - (size_t)(im + 8 - img));
	} else {
		buf_add(&b, img, n);
	}
	buf_adds(&b, ".txt");
	return buf_detach(&b, NULL);
}

static int read_labels(struct yolo_ctx *c, const char *file, struct annot_item *it)
{
	static const char *const fields[] = { "class", "x_center", "y_center", "width", "height" };
	struct annot_value *v = &it->values[0];
	struct buf b = BUF_INIT;
	size_t off = 0, line = 0;
	int rc = 0;
	if (annot_read_file(file, &b, c->e) < 0) {
		buf_release(&b);
		return -1;
	}
	while (off < b.len && rc == 0) {
		char *l = b.data + off, *nl = memchr(l, '\n', b.len - off), *tok[6], *save = NULL;
		size_t n = nl ? (size_t)(nl - l) : b.len - off, nf = 0;
		double d[5];
		long cls;
		const char *why;
		off += n + (nl ? 1 : 0);
		line++;
		l[n] = '\0';
		if (strlen(l) != n) {
			rc = annot_err(c->e, MOAT_EPARSE, file, "line", line, NULL, "holds a NUL byte");
			break;
		}
		for (char *t = strtok_r(l, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
			if (nf < 6)
				tok[nf] = t;
			nf++;
		}
		if (!nf)
			continue;
		if (nf != 5) {
			rc = annot_err(c->e, MOAT_EPARSE, file, "line", line, NULL,
				       "expected 5 fields (class x_center y_center width height), "
				       "found %zu", nf);
			break;
		}
		if (annot_parse_long(tok[0], &cls) < 0 || cls < 0 || cls >= c->n_names) {
			rc = annot_err(c->e, MOAT_EPARSE, file, "line", line, "class",
				       "'%.32s' is not a class id of the dataset (0 to %ld)", tok[0],
				       c->n_names - 1);
			break;
		}
		for (int k = 1; k < 5 && rc == 0; k++) {
			if (annot_parse_double(tok[k], &d[k]) < 0)
				rc = annot_err(c->e, MOAT_EPARSE, file, "line", line, fields[k],
					       "'%.32s' is not a number", tok[k]);
			else if (d[k] < (k < 3 ? -0.01 : 0) || d[k] > 1.01)
				rc = annot_err(c->e, MOAT_EPARSE, file, "line", line, fields[k],
					       "%g is out of range (normalised values lie in 0..1)", d[k]);
		}
		if (rc)
			break;
		d[1] = (d[1] - d[3] / 2) * it->width;
		d[2] = (d[2] - d[4] / 2) * it->height;
		d[3] *= it->width;
		d[4] *= it->height;
		if ((why = annot_box_problem(d[1], d[2], d[3], d[4], 0, it->width, it->height))) {
			rc = annot_err(c->e, MOAT_EPARSE, file, "line", line, NULL,
				       "box %g,%g %gx%g px in a %dx%d image: %s", d[1], d[2], d[3],
				       d[4], it->width, it->height, why);
			break;
		}
		if (annot_add_box(v, d[1], d[2], d[3], d[4], 0, c->names[cls]) < 0)
			rc = err_set(c->e, MOAT_ENOMEM, "out of memory");
	}
	buf_release(&b);
	return rc;
}

/* One image: an item with its size and boxes.  lab: its label file, or
 * NULL to find it (by the /images/ -> /labels/ rule, then beside it, then
 * under root/labels/<split>/). */
static int add_image(struct yolo_ctx *c, const char *img, const char *split)
{
	struct annot_item *it;
	char *lab = NULL;
	int r;
	if ((r = annot_names_add(&c->seen, img)) <= 0)
		return r < 0 ? err_set(c->e, MOAT_ENOMEM, "out of memory") : 0;
	if (!(it = annot_add_item(c->s)) || !(it->image = strdup(img)) || !(it->id = annot_stem(img)) ||
	    (split && !(it->split = strdup(split))) || !annot_add_value(it))
		return err_set(c->e, MOAT_ENOMEM, "out of memory");
	if (annot_image_size(img, &it->width, &it->height, c->e) < 0)
		return -1;
	if (!(lab = label_path(img)))
		return err_set(c->e, MOAT_ENOMEM, "out of memory");
	/* an image outside the dataset (a list naming images where they are,
	 * as moat writes without copy_images) has its labels under
	 * labels/<split>/ first */
	if (split && (strncmp(img, c->root, strlen(c->root)) || img[strlen(c->root)] != '/')) {
		char *stem = annot_stem(img), *own = NULL;
		if (!stem || asprintf(&own, "%s/labels/%s/%s.txt", c->root, split, stem) < 0)
			own = NULL;
		free(stem);
		if (!own) {
			free(lab);
			return err_set(c->e, MOAT_ENOMEM, "out of memory");
		}
		if (fs_exists(own)) {
			free(lab);
			lab = own;
		} else {
			free(own);
		}
	}
	if (!fs_exists(lab) && split) {
		char *stem = annot_stem(img);
		free(lab);
		lab = NULL;
		if (!stem || asprintf(&lab, "%s/labels/%s/%s.txt", c->root, split, stem) < 0)
			lab = NULL;
		free(stem);
		if (!lab)
			return err_set(c->e, MOAT_ENOMEM, "out of memory");
	}
	r = fs_exists(lab) ? read_labels(c, lab, it) : 0;
	free(lab);
	return r;
}

/* Every image under dir (recursively, in name order, not following links to
 * directories), or only those directly in it. */
static int walk_images(struct yolo_ctx *c, const char *dir, const char *split, int depth,
		       int recurse)
{
	char **names = NULL;
	size_t n = 0;
	DIR *d;
	struct dirent *de;
	int rc = 0;
	if (depth > 16)
		return 0;
	if (!(d = opendir(dir)))
		return err_set(c->e, MOAT_EIO, "cannot open '%s'", dir);
	while ((de = readdir(d))) {
		char **v;
		if (de->d_name[0] == '.')
			continue;
		v = realloc(names, (n + 1) * sizeof(*v));
		if (!v || !(v[n] = strdup(de->d_name))) {
			names = v ? v : names;
			closedir(d);
			annot_free_list(names, n);
			return err_set(c->e, MOAT_ENOMEM, "out of memory");
		}
		names = v;
		n++;
	}
	closedir(d);
	for (size_t i = 0; i + 1 < n; i++)  /* insertion sort: small directories */
		for (size_t j = i + 1; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *p = fs_join(dir, names[i]);
		struct stat st;
		if (!p) {
			rc = err_set(c->e, MOAT_ENOMEM, "out of memory");
			break;
		}
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (recurse)
				rc = walk_images(c, p, split, depth + 1, 1);
		} else if (annot_is_image_name(names[i]) && stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			rc = add_image(c, p, split);
		}
		free(p);
	}
	annot_free_list(names, n);
	return rc;
}

/* A path named by a dataset file: absolute, else under root, else (Darknet's
 * "data/...") under root without its first component. */
static char *dataset_path(const char *root, const char *base, const char *p)
{
	char *a, *b;
	const char *slash;
	if (p[0] == '/')
		return strdup(p);
	if (!strncmp(p, "./", 2) && base)
		return fs_join(base, p + 2);
	a = fs_join(root, p);
	if (!a || fs_exists(a) || !(slash = strchr(p, '/')))
		return a;
	b = fs_join(root, slash + 1);
	if (b && fs_exists(b)) {
		free(a);
		return b;
	}
	free(b);
	return a;
}

/* A .txt list of images, one path a line. */
static int list_images(struct yolo_ctx *c, const char *list, const char *split)
{
	struct buf b = BUF_INIT;
	size_t off = 0;
	int rc = 0;
	char *base = annot_realdir(list);
	if (!base)
		return err_set(c->e, MOAT_EIO, "cannot open '%s'", list);
	if (annot_read_file(list, &b, c->e) < 0) {
		free(base);
		buf_release(&b);
		return -1;
	}
	while (off < b.len && rc == 0) {
		char *l = b.data + off, *nl = memchr(l, '\n', b.len - off), *p;
		size_t n = nl ? (size_t)(nl - l) : b.len - off;
		off += n + (nl ? 1 : 0);
		while (n && (l[n - 1] == '\r' || is_blank(l[n - 1])))
			n--;
		while (n && is_blank(*l))
			l++, n--;
		if (!n || l[0] == '#')
			continue;
		l[n] = '\0';
		if (strlen(l) != n)
			continue;
		if (!(p = dataset_path(c->root, base, l))) {
			rc = err_set(c->e, MOAT_ENOMEM, "out of memory");
			break;
		}
		rc = add_image(c, p, split);
		free(p);
	}
	free(base);
	buf_release(&b);
	return rc;
}

/* One entry of a split: a directory of images or a list file. */
static int split_source(struct yolo_ctx *c, const char *name, const char *split, const char *file)
{
	char *p = dataset_path(c->root, NULL, name);
	struct stat st;
	int rc;
	if (!p)
		return err_set(c->e, MOAT_ENOMEM, "out of memory");
	if (stat(p, &st) < 0)
		rc = annot_err(c->e, MOAT_ENOTFOUND, file, NULL, 0, split,
			       "'%s' does not exist", p);
	else if (S_ISDIR(st.st_mode))
		rc = walk_images(c, p, split, 0, 1);
	else
		rc = list_images(c, p, split);
	free(p);
	return rc;
}

static int ultralytics(struct yolo_ctx *c, const char *yaml)
{
	static const char *const splits[] = { "train", "val", "test" };
	struct ydoc d;
	struct buf b = BUF_INIT;
	const struct yval *names, *path;
	char *dir = annot_realdir(yaml), *root = NULL, **nm = NULL;
	int rc = -1;
	memset(&d, 0, sizeof(d));
	if (!dir)
		return err_set(c->e, MOAT_EIO, "cannot open '%s'", yaml);
	if (annot_read_file(yaml, &b, c->e) < 0 || yparse(yaml, buf_str(&b), b.len, &d, c->e) < 0)
		goto out;
	names = yget(&d, "names");
	if (!names || (!names->n && !names->scalar)) {
		annot_err(c->e, MOAT_EPARSE, yaml, NULL, 0, "names", "missing");
		goto out;
	}
	if (!names->n || names->scalar) {
		annot_err(c->e, MOAT_EPARSE, yaml, "line", names->line, "names",
			  "expected a list or a map of class names");
		goto out;
	}
	if (!(nm = calloc(names->n, sizeof(*nm)))) {
		err_set(c->e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < names->n; i++) {
		long k = (long)i;
		if (names->keys && (annot_parse_long(names->keys[i], &k) < 0 || k < 0 ||
				    (size_t)k >= names->n || nm[k])) {
			annot_err(c->e, MOAT_EPARSE, yaml, "line", names->line, "names",
				  "class ids must be 0 to %zu, each once ('%.32s')", names->n - 1,
				  names->keys[i]);
			goto out;
		}
		nm[k] = names->items[i];
	}
	path = yget(&d, "path");
	if (path && path->scalar && *path->scalar) {
		char *cand = path->scalar[0] == '/' ? strdup(path->scalar)
						    : fs_join(dir, path->scalar);
		char *real = cand && fs_is_dir(cand) ? realpath(cand, NULL) : NULL;
		root = strdup(real ? real : dir);
		free(real);
		free(cand);
	} else {
		root = strdup(dir);
	}
	if (!root) {
		err_set(c->e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	c->root = root;
	if (set_names(c, nm, names->n, yaml) < 0)
		goto out;
	for (size_t k = 0; k < 3; k++) {
		const struct yval *sv = yget(&d, splits[k]);
		if (!sv)
			continue;
		if (sv->scalar && *sv->scalar && split_source(c, sv->scalar, splits[k], yaml) < 0)
			goto out;
		for (size_t i = 0; i < sv->n; i++)
			if (split_source(c, sv->items[i], splits[k], yaml) < 0)
				goto out;
	}
	/* other keys naming an existing directory or list are splits too (moat
	 * writes splits beyond train/val/test so; Ultralytics ignores them) */
	for (size_t i = 0; i < d.n; i++) {
		static const char *const not_splits[] = { "path", "names", "nc", "download",
							  "train", "val", "test", "kpt_shape",
							  "flip_idx", "channels", "yaml_file", NULL };
		const struct yval *sv = &d.v[i];
		const char *first = sv->scalar ? sv->scalar : sv->n && !sv->keys ? sv->items[0] : NULL;
		char *p;
		size_t k;
		for (k = 0; not_splits[k] && strcmp(not_splits[k], sv->key); k++)
			;
		if (not_splits[k] || !first || !*first || !annot_split_ok(sv->key))
			continue;
		if (!(p = dataset_path(c->root, NULL, first))) {
			err_set(c->e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		k = fs_exists(p);
		free(p);
		if (!k)
			continue;
		if (sv->scalar && split_source(c, sv->scalar, sv->key, yaml) < 0)
			goto out;
		for (size_t j = 0; !sv->scalar && j < sv->n; j++)
			if (split_source(c, sv->items[j], sv->key, yaml) < 0)
				goto out;
	}
	rc = 0;
out:
	free(nm);
	free(dir);
	ydoc_release(&d);
	buf_release(&b);
	return rc;
}

/* Darknet's class list: one name a line. */
static int names_file(struct yolo_ctx *c, const char *file)
{
	struct buf b = BUF_INIT;
	char **v = NULL;
	size_t n = 0, off = 0, line = 0, blank = 0;
	int rc = 0;
	if (annot_read_file(file, &b, c->e) < 0) {
		buf_release(&b);
		return -1;
	}
	while (off < b.len && rc == 0) {
		char *l = b.data + off, *nl = memchr(l, '\n', b.len - off);
		size_t len = nl ? (size_t)(nl - l) : b.len - off;
		off += len + (nl ? 1 : 0);
		line++;
		while (len && (l[len - 1] == '\r' || is_blank(l[len - 1])))
			len--;
		while (len && is_blank(*l))
			l++, len--;
		if (!len) {
			blank = blank ? blank : line;
			continue;
		}
		if (blank) {
			rc = annot_err(c->e, MOAT_EPARSE, file, "line", blank, NULL,
				       "an empty class name (class ids would shift)");
			break;
		}
		l[len] = '\0';
		char **w = realloc(v, (n + 1) * sizeof(*w));
		if (!w) {
			rc = err_set(c->e, MOAT_ENOMEM, "out of memory");
			break;
		}
		v = w;
		v[n++] = l;
	}
	if (rc == 0 && !n)
		rc = annot_err(c->e, MOAT_EPARSE, file, NULL, 0, NULL, "no class names");
	if (rc == 0)
		rc = set_names(c, v, n, file);
	free(v);
	buf_release(&b);
	return rc;
}

static int darknet(struct yolo_ctx *c)
{
	static const char *const keys[] = { "train", "valid", "test" };
	static const char *const splits[] = { "train", "val", "test" };
	char *data = fs_join(c->root, "obj.data"), *names = NULL, *lists[3] = { NULL, NULL, NULL };
	char *images = NULL;
	struct buf b = BUF_INIT;
	int rc = -1, any = 0;
	if (!data)
		return err_set(c->e, MOAT_ENOMEM, "out of memory");
	if (fs_exists(data)) {
		size_t off = 0;
		if (annot_read_file(data, &b, c->e) < 0)
			goto out;
		while (off < b.len) {
			char *l = b.data + off, *nl = memchr(l, '\n', b.len - off), *eq;
			size_t n = nl ? (size_t)(nl - l) : b.len - off, kl;
			off += n + (nl ? 1 : 0);
			l[n] = '\0';
			if (!(eq = strchr(l, '=')))
				continue;
			for (kl = (size_t)(eq - l); kl && is_blank(l[kl - 1]); kl--)
				;
			eq++;
			while (is_blank(*eq))
				eq++;
			for (n = strlen(eq); n && (eq[n - 1] == '\r' || is_blank(eq[n - 1])); n--)
				eq[n - 1] = '\0';
			if (!*eq)
				continue;
			for (int k = 0; k < 3; k++)
				if (kl == strlen(keys[k]) && !memcmp(l, keys[k], kl) && !lists[k] &&
				    !(lists[k] = dataset_path(c->root, NULL, eq)))
					goto nomem;
			if (kl == 5 && !memcmp(l, "names", 5) && !names &&
			    !(names = dataset_path(c->root, NULL, eq)))
				goto nomem;
		}
	}
	if (!names || !fs_exists(names)) {
		free(names);
		names = fs_join(c->root, "obj.names");
		if (names && !fs_exists(names)) {
			free(names);
			names = fs_join(c->root, "classes.txt");
		}
		if (!names)
			goto nomem;
		if (!fs_exists(names)) {
			err_set(c->e, MOAT_ENOTFOUND, "%s: not a YOLO dataset (no data.yaml, obj.names "
				"or classes.txt)", c->root);
			goto out;
		}
	}
	if (names_file(c, names) < 0)
		goto out;
	for (int k = 0; k < 3; k++)
		if (lists[k] && fs_exists(lists[k])) {
			any = 1;
			if (list_images(c, lists[k], splits[k]) < 0)
				goto out;
		}
	if (any) {
		rc = 0;
		goto out;
	}
	if (!(images = fs_join(c->root, "images")))
		goto nomem;
	if (fs_is_dir(images)) {
		/* images/ itself (no split), then each subdirectory as a split */
		char **sub = NULL;
		size_t n = 0;
		DIR *d;
		struct dirent *de;
		if (walk_images(c, images, NULL, 0, 0) < 0)
			goto out;
		if (!(d = opendir(images)))
			goto out;
		while ((de = readdir(d))) {
			char *p, **w;
			if (de->d_name[0] == '.' || !(p = fs_join(images, de->d_name)))
				continue;
			if (fs_is_dir(p) && (w = realloc(sub, (n + 1) * sizeof(*w)))) {
				sub = w;
				if ((sub[n] = strdup(de->d_name)))
					n++;
			}
			free(p);
		}
		closedir(d);
		for (size_t i = 0; i + 1 < n; i++)
			for (size_t j = i + 1; j > 0 && strcmp(sub[j - 1], sub[j]) > 0; j--) {
				char *t = sub[j];
				sub[j] = sub[j - 1];
				sub[j - 1] = t;
			}
		for (size_t i = 0; i < n; i++) {
			char *p = fs_join(images, sub[i]);
			int r = p ? walk_images(c, p, sub[i], 0, 1) : err_set(c->e, MOAT_ENOMEM,
									    "out of memory");
			free(p);
			if (r < 0) {
				annot_free_list(sub, n);
				goto out;
			}
		}
		annot_free_list(sub, n);
	} else {
		/* CVAT's obj_<split>_data/, else the root, labels beside images */
		char **sub = NULL;
		size_t n = 0;
		DIR *d = opendir(c->root);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			size_t l = strlen(de->d_name);
			char **w;
			if (l > 9 && !strncmp(de->d_name, "obj_", 4) &&
			    !strcmp(de->d_name + l - 5, "_data") &&
			    (w = realloc(sub, (n + 1) * sizeof(*w)))) {
				sub = w;
				if ((sub[n] = strdup(de->d_name)))
					n++;
			}
		}
		if (d)
			closedir(d);
		for (size_t i = 0; i < n; i++) {
			char *p = fs_join(c->root, sub[i]);
			char *sp = strndup(sub[i] + 4, strlen(sub[i]) - 9);
			int r = p && sp ? walk_images(c, p, !strcmp(sp, "valid") ? "val" : sp, 0, 1)
					: err_set(c->e, MOAT_ENOMEM, "out of memory");
			free(p);
			free(sp);
			if (r < 0) {
				annot_free_list(sub, n);
				goto out;
			}
		}
		annot_free_list(sub, n);
		if (!n && walk_images(c, c->root, NULL, 0, 0) < 0)
			goto out;
	}
	rc = 0;
	goto out;
nomem:
	err_set(c->e, MOAT_ENOMEM, "out of memory");
out:
	free(images);
	for (int k = 0; k < 3; k++)
		free(lists[k]);
	free(names);
	free(data);
	buf_release(&b);
	return rc;
}

int annot_import_yolo(const char *path, struct annot_set *s, struct moat_err *e)
{
	struct yolo_ctx c;
	char *yaml = NULL, *root = NULL;
	int rc;
	memset(&c, 0, sizeof(c));
	c.s = s;
	c.e = e;
	if (!fs_is_dir(path)) {
		if (!annot_has_ext(path, ".yaml") && !annot_has_ext(path, ".yml"))
			return err_set(e, MOAT_EUSAGE, "%s: give a YOLO dataset's directory or its "
				       "data.yaml", path);
		if (!fs_exists(path))
			return err_set(e, MOAT_EIO, "cannot open '%s': no such file", path);
		yaml = strdup(path);
	} else {
		char *r = realpath(path, NULL);
		root = r ? strdup(r) : NULL;
		free(r);
		if (!root)
			return err_set(e, MOAT_EIO, "cannot open '%s'", path);
		yaml = fs_join(root, "data.yaml");
		if (yaml && !fs_exists(yaml)) {
			free(yaml);
			yaml = fs_join(root, "data.yml");
			if (yaml && !fs_exists(yaml)) {
				free(yaml);
				yaml = NULL;
				c.root = root;
				rc = darknet(&c);
				goto out;
			}
		}
	}
	if (!yaml) {
		free(root);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	rc = ultralytics(&c, yaml);
	free((char *)c.root);
	c.root = NULL;
out:
	free(c.names);
	annot_names_release(&c.seen);
	free(yaml);
	free(root);
	return rc;
}

/* --- export ---------------------------------------------------------------- */

/* A class name for YAML: plain when that reads back as the same string,
 * else single-quoted. */
static void yaml_name(struct buf *b, const char *s)
{
	static const char *const words[] = { "true", "false", "yes", "no", "on", "off", "null",
					     "y", "n", "~", NULL };
	int plain = *s && (((unsigned char)*s >= 0x80) || (*s >= 'A' && *s <= 'Z') ||
			   (*s >= 'a' && *s <= 'z') || *s == '_');
	for (const char *p = s; plain && *p; p++)
		plain = (unsigned char)*p >= 0x80 || (*p >= 'A' && *p <= 'Z') ||
			(*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("_-. ", *p);
	if (plain && s[strlen(s) - 1] == ' ')
		plain = 0;
	for (size_t i = 0; plain && words[i]; i++)
		if (!strcasecmp(s, words[i]))
			plain = 0;
	if (plain) {
		buf_adds(b, s);
		return;
	}
	buf_addch(b, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			buf_addch(b, '\'');
		buf_addch(b, *p);
	}
	buf_addch(b, '\'');
}

static double clamp01(double v)
{
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

int annot_export_yolo(const struct annot_set *s, struct annot_out *o,
		      const struct annot_export_opts *opts)
{
	struct annot_labels lab;
	struct annot_splits sp;
	struct buf yaml = BUF_INIT;
	int rc = 0;
	if (annot_labels_of(s, &lab) < 0)
		return err_set(o->e, MOAT_ENOMEM, "out of memory");
	for (size_t i = 0; i < lab.n; i++)
		if (!*lab.name[i] || !utf8_line_ok(lab.name[i])) {
			annot_labels_release(&lab);
			return err_set(o->e, MOAT_EUNSUPPORTED, "label '%s' is empty or holds a line "
				       "break: YOLO's names cannot carry it", lab.name[i]);
		}
	if (annot_splits_of(s, opts, annot_item_is_image, &sp, o->e) < 0) {
		annot_labels_release(&lab);
		return -1;
	}
	buf_adds(&yaml, "# YOLO dataset (Ultralytics layout) written by moat; 'path' is this "
		 "file's directory\npath: .\n");
	for (size_t k = 0; k < sp.n && rc == 0; k++) {
		struct annot_names names = { NULL, 0, 0 };
		struct buf list = BUF_INIT;
		yaml_name(&yaml, sp.name[k]);
		buf_adds(&yaml, ": ");
		/* the value: images/<split> or <split>.txt (quoted like a name) */
		{
			struct buf v = BUF_INIT;
			if (opts->copy_images)
				buf_addf(&v, "images/%s", sp.name[k]);
			else
				buf_addf(&v, "%s.txt", sp.name[k]);
			yaml_name(&yaml, buf_str(&v));
			buf_release(&v);
		}
		buf_addch(&yaml, '\n');
		for (size_t i = 0; i < s->n_items && rc == 0; i++) {
			const struct annot_item *it = &s->items[i];
			const struct annot_value *v;
			struct buf lb = BUF_INIT;
			char *name = NULL, *stem = NULL, *rel = NULL;
			int w, h;
			if (!it->image || strcmp(annot_item_split(it, opts), sp.name[k]))
				continue;
			if ((rc = annot_item_size(it, i, &w, &h, o->e)) < 0)
				break;
			if (annot_names_take(&names, annot_basename(it->image), i, &name, &stem) < 0) {
				rc = err_set(o->e, MOAT_ENOMEM, "out of memory");
				break;
			}
			if (opts->copy_images) {
				if (asprintf(&rel, "images/%s/%s", sp.name[k], name) < 0)
					rel = NULL;
				rc = rel ? annot_out_copy(o, it->image, rel)
					 : err_set(o->e, MOAT_ENOMEM, "out of memory");
				free(rel);
				rel = NULL;
			} else {
				buf_adds(&list, it->image);
				buf_addch(&list, '\n');
			}
			v = annot_main_value(it);
			for (size_t b = 0; rc == 0 && v && b < v->n_boxes; b++) {
				double x, y, bw, bh, x1, y1;
				annot_box_aabb(&v->boxes[b], &x, &y, &bw, &bh);
				x1 = clamp01((x + bw) / w), y1 = clamp01((y + bh) / h);
				x = clamp01(x / w), y = clamp01(y / h);
				buf_addf(&lb, "%ld %.6f %.6f %.6f %.6f\n",
					 annot_labels_find(&lab, v->boxes[b].label), (x + x1) / 2,
					 (y + y1) / 2, x1 - x, y1 - y);
			}
			if (rc == 0 && asprintf(&rel, "labels/%s/%s.txt", sp.name[k], stem) < 0) {
				rel = NULL;
				rc = err_set(o->e, MOAT_ENOMEM, "out of memory");
			}
			if (rc == 0)
				rc = annot_out_buf(o, rel, &lb);
			free(rel);
			free(name);
			free(stem);
			buf_release(&lb);
		}
		if (rc == 0 && !opts->copy_images) {
			char *rel = NULL;
			if (asprintf(&rel, "%s.txt", sp.name[k]) < 0)
				rc = err_set(o->e, MOAT_ENOMEM, "out of memory");
			else
				rc = annot_out_buf(o, rel, &list);
			free(rel);
		} else if (rc == 0) {
			char *rel = NULL;
			if (asprintf(&rel, "images/%s", sp.name[k]) < 0)
				rc = err_set(o->e, MOAT_ENOMEM, "out of memory");
			else
				rc = annot_out_mkdir(o, rel);
			free(rel);
		}
		buf_release(&list);
		annot_names_release(&names);
	}
	buf_addf(&yaml, "nc: %zu\nnames:\n", lab.n);
	for (size_t i = 0; i < lab.n; i++) {
		buf_addf(&yaml, "  %zu: ", i);
		yaml_name(&yaml, lab.name[i]);
		buf_addch(&yaml, '\n');
	}
	if (rc == 0)
		rc = annot_out_buf(o, "data.yaml", &yaml);
	buf_release(&yaml);
	annot_splits_release(&sp);
	annot_labels_release(&lab);
	return rc;
}
