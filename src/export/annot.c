/*
 * annot.c - the annotation model (adding to a set, releasing it, appending
 * an import to the caller's set all at once or not at all), the table of
 * formats behind annot_import() and annot_export(), and the helpers every
 * format file shares (annot_internal.h): messages, bounded reads, JSON
 * streams, code points, span and box checks, splits, labels and the files of
 * an export.
 *
 * Not for: any one format's rules (annot_<format>.c) or image headers
 * (annot_image.c).
 */
#define _GNU_SOURCE
#include "annot.h"
#include "annot_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/fmt.h"
#include "../core/fs.h"
#include "../core/jsonw.h"
#include "../core/utf8.h"

#include "../core/banned.h"

/* --- the model ------------------------------------------------------------- */

/* Makes room for element n of an array whose capacity is the next power of
 * two of its count (so no capacity field is needed). */
static int grow(void **p, size_t n, size_t size)
{
	size_t cap;
	void *q;
	if (n && (n & (n - 1)))
		return 0;
	cap = n ? n * 2 : 1;
	if (cap < n || cap > SIZE_MAX / size)
		return -1;
	q = realloc(*p, cap * size);
	if (!q)
		return -1;
	*p = q;
	return 0;
}

/* Capacity for at least n elements, keeping the power-of-two rule. */
static int reserve(void **p, size_t have, size_t n, size_t size)
{
	size_t cap = 1, old = 0;
	void *q;
	while (old < have)
		old = old ? old * 2 : 1;
	if (n <= old)
		return 0;
	while (cap < n) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	if (cap > SIZE_MAX / size)
		return -1;
	q = realloc(*p, cap * size);
	if (!q)
		return -1;
	*p = q;
	return 0;
}

static void value_release(struct annot_value *v)
{
	free(v->annotator);
	free(v->model);
	for (size_t i = 0; i < v->n_labels; i++)
		free(v->labels[i]);
	free(v->labels);
	for (size_t i = 0; i < v->n_spans; i++)
		free(v->spans[i].label);
	free(v->spans);
	for (size_t i = 0; i < v->n_boxes; i++)
		free(v->boxes[i].label);
	free(v->boxes);
	free(v->text);
}

static void item_release(struct annot_item *it)
{
	free(it->id);
	free(it->text);
	free(it->image);
	free(it->split);
	if (it->meta)
		json_decref(it->meta);
	for (size_t i = 0; i < it->n_values; i++)
		value_release(&it->values[i]);
	free(it->values);
}

void annot_set_release(struct annot_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_labels; i++)
		free(s->labels[i]);
	free(s->labels);
	for (size_t i = 0; i < s->n_items; i++)
		item_release(&s->items[i]);
	free(s->items);
	*s = (struct annot_set)ANNOT_SET_INIT;
}

struct annot_item *annot_add_item(struct annot_set *s)
{
	struct annot_item *it;
	if (grow((void **)&s->items, s->n_items, sizeof(*s->items)) < 0)
		return NULL;
	it = &s->items[s->n_items++];
	memset(it, 0, sizeof(*it));
	return it;
}

struct annot_value *annot_add_value(struct annot_item *it)
{
	struct annot_value *v;
	if (grow((void **)&it->values, it->n_values, sizeof(*it->values)) < 0)
		return NULL;
	v = &it->values[it->n_values++];
	memset(v, 0, sizeof(*v));
	v->score = -1;
	return v;
}

int annot_add_span(struct annot_value *v, size_t start, size_t end, const char *label)
{
	char *l = strdup(label ? label : "");
	if (!l || grow((void **)&v->spans, v->n_spans, sizeof(*v->spans)) < 0) {
		free(l);
		return -1;
	}
	v->spans[v->n_spans++] = (struct annot_span){ start, end, l };
	return 0;
}

int annot_add_box(struct annot_value *v, double x, double y, double w, double h, double rotation,
		  const char *label)
{
	char *l = strdup(label ? label : "");
	if (!l || grow((void **)&v->boxes, v->n_boxes, sizeof(*v->boxes)) < 0) {
		free(l);
		return -1;
	}
	v->boxes[v->n_boxes++] = (struct annot_box){ x, y, w, h, rotation, l };
	return 0;
}

int annot_add_label(struct annot_value *v, const char *label)
{
	char *l = strdup(label ? label : "");
	if (!l || grow((void **)&v->labels, v->n_labels, sizeof(*v->labels)) < 0) {
		free(l);
		return -1;
	}
	v->labels[v->n_labels++] = l;
	return 0;
}

long annot_label_index(struct annot_set *s, const char *label)
{
	char *l;
	for (size_t i = 0; i < s->n_labels; i++)
		if (!strcmp(s->labels[i], label))
			return (long)i;
	l = strdup(label);
	if (!l || grow((void **)&s->labels, s->n_labels, sizeof(*s->labels)) < 0) {
		free(l);
		return -1;
	}
	s->labels[s->n_labels] = l;
	return (long)s->n_labels++;
}

/* Adds every label a value of s uses to s's list, after those the importer
 * put there (COCO's and YOLO's, in class-id order): item by item, a value's
 * spans', then its classification labels, then its boxes' (the order in
 * which doccano's and spaCy's records hold them).  The importers
 * leave this to annot_import(). */
static int register_labels(struct annot_set *s)
{
	for (size_t i = 0; i < s->n_items; i++) {
		for (size_t k = 0; k < s->items[i].n_values; k++) {
			const struct annot_value *v = &s->items[i].values[k];
			for (size_t j = 0; j < v->n_spans; j++)
				if (annot_label_index(s, v->spans[j].label) < 0)
					return -1;
			for (size_t j = 0; j < v->n_labels; j++)
				if (annot_label_index(s, v->labels[j]) < 0)
					return -1;
			for (size_t j = 0; j < v->n_boxes; j++)
				if (annot_label_index(s, v->boxes[j].label) < 0)
					return -1;
		}
	}
	return 0;
}

/* Moves every item and label of from to the end of to.  All the memory is
 * claimed first, so it either happens whole or not at all. */
static int merge(struct annot_set *to, struct annot_set *from)
{
	if (from->n_items > SIZE_MAX - to->n_items || from->n_labels > SIZE_MAX - to->n_labels ||
	    reserve((void **)&to->items, to->n_items, to->n_items + from->n_items,
		    sizeof(*to->items)) < 0 ||
	    reserve((void **)&to->labels, to->n_labels, to->n_labels + from->n_labels,
		    sizeof(*to->labels)) < 0)
		return -1;
	if (from->n_items)
		memcpy(to->items + to->n_items, from->items, from->n_items * sizeof(*from->items));
	to->n_items += from->n_items;
	for (size_t i = 0; i < from->n_labels; i++) {
		size_t j;
		for (j = 0; j < to->n_labels; j++)
			if (!strcmp(to->labels[j], from->labels[i]))
				break;
		if (j < to->n_labels)
			free(from->labels[i]);
		else
			to->labels[to->n_labels++] = from->labels[i];
	}
	free(from->items);
	free(from->labels);
	*from = (struct annot_set)ANNOT_SET_INIT;
	return 0;
}

/* --- the formats ----------------------------------------------------------- */

static const struct format {
	const char *name;
	int (*import)(const char *path, struct annot_set *s, struct moat_err *e);
	int (*export)(const struct annot_set *s, struct annot_out *o,
		      const struct annot_export_opts *opts);
} formats[] = {
	{ "label-studio", annot_import_labelstudio, annot_export_labelstudio },
	{ "doccano", annot_import_doccano, annot_export_doccano },
	{ "conll", annot_import_conll, annot_export_conll },
	{ "spacy", annot_import_spacy, annot_export_spacy },
	{ "coco", annot_import_coco, annot_export_coco },
	{ "yolo", annot_import_yolo, annot_export_yolo },
	{ "voc", annot_import_voc, annot_export_voc },
};

static const struct format *find_format(const char *name)
{
	for (size_t i = 0; name && i < sizeof(formats) / sizeof(formats[0]); i++)
		if (!strcmp(formats[i].name, name))
			return &formats[i];
	return NULL;
}

int annot_format_known(const char *format)
{
	return find_format(format) != NULL;
}

int annot_import(const char *format, const char *path, struct annot_set *s, struct moat_err *e)
{
	const struct format *f = find_format(format);
	struct annot_set tmp = ANNOT_SET_INIT;
	size_t n;
	if (!f)
		return err_set(e, MOAT_EUSAGE, "unknown annotation format '%s'", format ? format : "");
	if (!path || !*path)
		return err_set(e, MOAT_EUSAGE, "no file to import");
	if (f->import(path, &tmp, e) < 0) {
		annot_set_release(&tmp);
		return -1;
	}
	if (register_labels(&tmp) < 0) {
		annot_set_release(&tmp);
		return err_set(e, MOAT_ENOMEM, "cannot import '%s': out of memory", path);
	}
	n = tmp.n_items;
	if (merge(s, &tmp) < 0) {
		annot_set_release(&tmp);
		return err_set(e, MOAT_ENOMEM, "cannot import '%s': out of memory", path);
	}
	return n > INT_MAX ? INT_MAX : (int)n;
}

struct annot_export_opts annot_export_default_opts(void)
{
	struct annot_export_opts o = { { "train", "val", "test" }, 1 };
	return o;
}

long annot_export(const char *format, const struct annot_set *s, const char *dir,
		  const struct annot_export_opts *o, struct moat_err *e)
{
	const struct format *f = find_format(format);
	struct annot_export_opts def = annot_export_default_opts();
	struct annot_out out = { dir, 0, e };
	DIR *d;
	struct dirent *de;
	if (!f)
		return err_set(e, MOAT_EUSAGE, "unknown annotation format '%s'", format ? format : "");
	if (!o)
		o = &def;
	d = opendir(dir);
	if (!d)
		return err_set(e, MOAT_EIO, "cannot open the export directory '%s': %s", dir,
			       strerror(errno));
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			closedir(d);
			return err_set(e, MOAT_EEXISTS, "the export directory '%s' is not empty", dir);
		}
	closedir(d);
	if (f->export(s, &out, o) < 0)
		return -1;
	return out.files;
}

/* --- errors ---------------------------------------------------------------- */

int annot_err(struct moat_err *e, int code, const char *file, const char *unit, size_t n,
	      const char *field, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	if (!e)
		return -1;
	buf_init(&b, MOAT_ERR_MSG_MAX * 2);
	if (file)
		buf_addf(&b, "%s: ", file);
	if (unit)
		buf_addf(&b, "%s %zu: ", unit, n);
	if (field && *field)
		buf_addf(&b, "field '%s': ", field);
	va_start(ap, fmt);
	buf_addvf(&b, fmt, ap);
	va_end(ap);
	if (buf_failed(&b))
		err_set(e, code, "%s", file ? file : "annotation file");
	else
		err_set(e, code, "%s", buf_str(&b));
	buf_release(&b);
	return -1;
}

void annot_field(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = xvsnprintf(dst, size, fmt, ap);
	va_end(ap);
	if (n < 0 && size >= 4)
		memcpy(dst + size - 4, "...", 4);
}

/* --- reading --------------------------------------------------------------- */

int annot_read_file(const char *path, struct buf *out, struct moat_err *e)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > ANNOT_MAX_FILE_BYTES)
		return err_set(e, MOAT_ELIMIT, "%s: %lld bytes, over the limit of 1 GiB for an "
			       "annotation file", path, (long long)st.st_size);
	return fs_read_file(path, out, ANNOT_MAX_FILE_BYTES, e);
}

static void json_error(const char *file, const char *data, size_t len, const json_error_t *je,
		       size_t line_base, struct moat_err *e)
{
	size_t line = line_base, col = 1;
	/* jansson counts lines itself, but only inside the text it was given;
	 * recount from the position so a stream reports lines of the file */
	for (size_t i = 0; i < (size_t)(je->position > 0 ? je->position : 0) && i < len; i++) {
		if (data[i] == '\n')
			line++, col = 1;
		else
			col++;
	}
	annot_err(e, MOAT_EPARSE, file, "line", line, NULL, "column %zu: bad JSON: %s", col,
		  je->text);
}

int annot_json_load(const char *path, json_t **out, struct moat_err *e)
{
	struct buf b = BUF_INIT;
	json_error_t je;
	json_t *j;
	*out = NULL;
	if (annot_read_file(path, &b, e) < 0) {
		buf_release(&b);
		return -1;
	}
	j = json_loadb(buf_str(&b), b.len, 0, &je);
	if (!j) {
		json_error(path, buf_str(&b), b.len, &je, 1, e);
		buf_release(&b);
		return -1;
	}
	buf_release(&b);
	*out = j;
	return 0;
}

void annot_jstream_init(struct annot_jstream *js, const char *file, const char *data, size_t len)
{
	js->file = file;
	js->data = data;
	js->len = len;
	js->off = 0;
	js->line = 1;
}

int annot_jstream_next(struct annot_jstream *js, json_t **out, size_t *line, struct moat_err *e)
{
	json_error_t je;
	json_t *j;
	*out = NULL;
	/* a UTF-8 byte-order mark at the start is not part of the data */
	if (js->off == 0 && js->len >= 3 && !memcmp(js->data, "\xef\xbb\xbf", 3))
		js->off = 3;
	while (js->off < js->len && strchr(" \t\r\n", js->data[js->off]) && js->data[js->off]) {
		if (js->data[js->off] == '\n')
			js->line++;
		js->off++;
	}
	if (js->off >= js->len)
		return 0;
	*line = js->line;
	if (js->data[js->off] != '{')
		return annot_err(e, MOAT_EPARSE, js->file, "line", js->line, NULL,
				 "expected a JSON object (one record), found '%c'",
				 (unsigned char)js->data[js->off] >= 0x20 &&
				 (unsigned char)js->data[js->off] < 0x7f ? js->data[js->off] : '?');
	j = json_loadb(js->data + js->off, js->len - js->off, JSON_DISABLE_EOF_CHECK, &je);
	if (!j) {
		json_error(js->file, js->data + js->off, js->len - js->off, &je, js->line, e);
		return -1;
	}
	if (je.position <= 0 || (size_t)je.position > js->len - js->off) {
		json_decref(j);
		return annot_err(e, MOAT_EPARSE, js->file, "line", js->line, NULL, "bad JSON");
	}
	for (size_t i = 0; i < (size_t)je.position; i++)
		if (js->data[js->off + i] == '\n')
			js->line++;
	js->off += (size_t)je.position;
	*out = j;
	return 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int annot_list_dir(const char *dir, int (*accept)(const char *name), char ***names, size_t *n,
		   struct moat_err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t k = 0;
	*names = NULL;
	*n = 0;
	if (!d)
		return err_set(e, MOAT_EIO, "cannot open '%s': %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		char *p;
		int reg;
		if (de->d_name[0] == '.' || (accept && !accept(de->d_name)))
			continue;
		p = fs_join(dir, de->d_name);
		if (!p)
			goto nomem;
		{
			struct stat st;
			reg = stat(p, &st) == 0 && S_ISREG(st.st_mode);
		}
		free(p);
		if (!reg)
			continue;
		if (grow((void **)&v, k, sizeof(*v)) < 0 || !(v[k] = strdup(de->d_name)))
			goto nomem;
		k++;
	}
	closedir(d);
	if (k)
		qsort(v, k, sizeof(*v), cmp_str);
	*names = v;
	*n = k;
	return 0;
nomem:
	closedir(d);
	annot_free_list(v, k);
	return err_set(e, MOAT_ENOMEM, "out of memory");
}

void annot_free_list(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int annot_import_files(const char *path, int (*accept)(const char *name),
		       int (*one)(const char *file, void *arg, struct annot_set *s,
				  struct moat_err *e),
		       void *arg, struct annot_set *s, struct moat_err *e)
{
	char **names;
	size_t n;
	int rc = 0;
	if (!fs_is_dir(path))
		return one(path, arg, s, e);
	if (annot_list_dir(path, accept, &names, &n, e) < 0)
		return -1;
	if (!n)
		rc = err_set(e, MOAT_ENOTFOUND, "%s: no annotation file in the directory", path);
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *p = fs_join(path, names[i]);
		rc = p ? one(p, arg, s, e) : err_set(e, MOAT_ENOMEM, "out of memory");
		free(p);
	}
	annot_free_list(names, n);
	return rc;
}

/* --- JSON Lines importers -------------------------------------------------- */

int annot_jl_err(const struct annot_jl *c, const char *field, const char *msg)
{
	return annot_err(c->e, MOAT_EPARSE, c->file, "line", c->line, field, "%s", msg);
}

int annot_jl_nomem(const struct annot_jl *c)
{
	return annot_err(c->e, MOAT_ENOMEM, c->file, "line", c->line, NULL, "out of memory");
}

int annot_jl_each(struct annot_jl *c, const json_t *l, const char *name,
		  int (*each)(struct annot_jl *c, const json_t *x, const char *field))
{
	const json_t *x;
	char f[96];
	size_t i;
	if (!json_is_array(l))
		return annot_jl_err(c, name, "not a list");
	json_array_foreach(l, i, x) {
		annot_field(f, sizeof(f), "%s[%zu]", name, i);
		if (each(c, x, f) < 0)
			return -1;
	}
	return 0;
}

static int jl_label(struct annot_jl *c, const json_t *x, const char *field)
{
	if (!json_is_string(x))
		return annot_jl_err(c, field, "not a string");
	if (annot_add_label(c->v, json_string_value(x)) < 0)
		return annot_jl_nomem(c);
	return 0;
}

int annot_jl_labels(struct annot_jl *c, const json_t *l, const char *name)
{
	return annot_jl_each(c, l, name, jl_label);
}

int annot_jl_span(struct annot_jl *c, const json_t *x, const char *field)
{
	int64_t s = 0, e = 0;
	const char *label = NULL;
	if (annot_json_span(x, c->n_cps, &s, &e, &label, c->file, "line", c->line, field, c->e) < 0)
		return -1;
	if (annot_add_span(c->v, (size_t)s, (size_t)e, label) < 0)
		return annot_jl_nomem(c);
	return 0;
}

struct jl_job {
	const char *const *known;
	int (*record)(struct annot_jl *c, const json_t *rec);
	void *arg;
};

/* The item of a record, from its "text" and "id", with one value. */
static int jl_item(struct annot_jl *c, const json_t *rec, const char *split,
		   const char *const *known)
{
	const json_t *t = json_object_get(rec, "text"), *id = json_object_get(rec, "id");
	if (!json_is_string(t))
		return annot_jl_err(c, "text", t ? "not a string" : "missing");
	if (strlen(json_string_value(t)) != json_string_length(t))
		return annot_jl_err(c, "text", "holds a NUL character");
	if (!(c->it = annot_add_item(c->s)))
		return annot_jl_nomem(c);
	if (annot_json_id(id, &c->it->id) < 0 && id)
		return annot_jl_err(c, "id", "not a string or an integer");
	if (!(c->it->text = strdup(json_string_value(t))) ||
	    (split && !(c->it->split = strdup(split))) || !(c->v = annot_add_value(c->it)) ||
	    annot_meta_from(rec, known, &c->it->meta) < 0)
		return annot_jl_nomem(c);
	c->n_cps = utf8_count(c->it->text, strlen(c->it->text));
	return 0;
}

static int jl_file(const char *path, void *arg, struct annot_set *s, struct moat_err *e)
{
	const struct jl_job *job = arg;
	struct annot_jl c = { path, 0, s, NULL, NULL, 0, e, job->arg };
	struct annot_jstream js;
	struct buf b = BUF_INIT;
	char *split = NULL;
	json_t *rec;
	int rc;
	if (annot_read_file(path, &b, e) < 0) {
		buf_release(&b);
		return -1;
	}
	if (annot_split_from_name(path, &split) < 0) {
		buf_release(&b);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	annot_jstream_init(&js, path, buf_str(&b), b.len);
	while ((rc = annot_jstream_next(&js, &rec, &c.line, e)) > 0) {
		rc = jl_item(&c, rec, split, job->known);
		if (rc == 0)
			rc = job->record(&c, rec);
		json_decref(rec);
		if (rc < 0)
			break;
	}
	free(split);
	buf_release(&b);
	return rc < 0 ? -1 : 0;
}

static int jsonl_name(const char *name)
{
	return annot_has_ext(name, ".jsonl") || annot_has_ext(name, ".json");
}

int annot_jl_import(const char *path, const char *const *known,
		    int (*record)(struct annot_jl *c, const json_t *rec), void *arg,
		    struct annot_set *s, struct moat_err *e)
{
	struct jl_job job = { known, record, arg };
	return annot_import_files(path, jsonl_name, jl_file, &job, s, e);
}

int annot_has_ext(const char *name, const char *ext)
{
	size_t n = strlen(name), m = strlen(ext);
	return n > m && !strcasecmp(name + n - m, ext);
}

int annot_is_image_name(const char *name)
{
	static const char *const ext[] = { ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp",
					   ".tif", ".tiff", ".jpe", ".jfif", NULL };
	for (size_t i = 0; ext[i]; i++)
		if (annot_has_ext(name, ext[i]))
			return 1;
	return 0;
}

static int split_word(const char *s, size_t n)
{
	static const char *const words[] = { "train", "val", "valid", "validation", "dev",
					     "test", "testa", "testb", NULL };
	for (size_t i = 0; words[i]; i++)
		if (strlen(words[i]) == n && !strncasecmp(s, words[i], n))
			return 1;
	return 0;
}

int annot_split_from_name(const char *path, char **out)
{
	const char *base = annot_basename(path), *dot = strrchr(base, '.'), *first;
	*out = NULL;
	if (dot && split_word(dot + 1, strlen(dot + 1)))
		return (*out = strdup(dot + 1)) ? 0 : -1;
	first = strchr(base, '.');
	if (split_word(base, first ? (size_t)(first - base) : strlen(base)))
		return (*out = strndup(base, first ? (size_t)(first - base) : strlen(base))) ? 0 : -1;
	return 0;
}

char *annot_realdir(const char *path)
{
	char *dir = fs_dirname(path), *real;
	if (!dir)
		return NULL;
	real = realpath(dir, NULL);
	free(dir);
	if (!real)
		return NULL;
	/* realpath's memory comes from libc's malloc: hand back ours */
	dir = strdup(real);
	free(real);
	return dir;
}

char *annot_resolve(const char *dir, const char *name)
{
	if (name[0] == '/' || strstr(name, "://") || !strncmp(name, "data:", 5) || !dir)
		return strdup(name);
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	return fs_join(dir, name);
}

const char *annot_basename(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

char *annot_stem(const char *path)
{
	const char *b = annot_basename(path), *dot = strrchr(b, '.');
	return strndup(b, dot && dot != b ? (size_t)(dot - b) : strlen(b));
}

int annot_json_id(const json_t *v, char **out)
{
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v))
		return (*out = strndup(json_string_value(v), json_string_length(v))) ? 0 : -1;
	if (json_is_integer(v))
		return asprintf(out, "%lld", (long long)json_integer_value(v)) < 0 ? (*out = NULL, -1)
										   : 0;
	return -1;
}

json_t *annot_id_json(const char *id)
{
	size_t n = strlen(id);
	int digits = n > 0 && n < 19 && (id[0] != '0' || n == 1);
	for (size_t i = 0; digits && i < n; i++)
		digits = id[i] >= '0' && id[i] <= '9';
	if (digits)
		return json_integer(strtoll(id, NULL, 10));
	return json_string(id);
}

int annot_meta_from(const json_t *obj, const char *const *skip, json_t **out)
{
	const char *k;
	json_t *v, *m = NULL;
	*out = NULL;
	json_object_foreach((json_t *)obj, k, v) {
		size_t i;
		for (i = 0; skip[i] && strcmp(skip[i], k); i++)
			;
		if (skip[i])
			continue;
		if (!m && !(m = json_object()))
			return -1;
		if (json_object_set(m, k, v) < 0) {
			json_decref(m);
			return -1;
		}
	}
	*out = m;
	return 0;
}

void annot_meta_into(json_t *obj, const json_t *meta)
{
	const char *k;
	json_t *v;
	if (!meta || !json_is_object(meta))
		return;
	json_object_foreach((json_t *)meta, k, v)
		if (!json_object_get(obj, k))
			json_object_set(obj, k, v);
}

/* --- text ------------------------------------------------------------------ */

int annot_cp_index(const char *s, size_t len, size_t **idx, size_t *n)
{
	size_t cps = utf8_count(s, len), k = 0;
	size_t *v = malloc((cps + 1) * sizeof(*v));
	*idx = NULL;
	*n = 0;
	if (!v)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80 && k < cps)
			v[k++] = i;
	v[cps] = len;
	*idx = v;
	*n = cps;
	return 0;
}

const char *annot_span_problem(int64_t start, int64_t end, size_t n)
{
	if (start < 0 || end < 0)
		return "negative offset";
	if (start >= end)
		return "start is not before end";
	if ((uint64_t)end > n)
		return "end is past the end of the text";
	return NULL;
}

static int json_offset(const json_t *v, int64_t *out)
{
	if (!json_is_integer(v))
		return -1;
	*out = json_integer_value(v);
	return 0;
}

int annot_json_span(const json_t *v, size_t n, int64_t *start, int64_t *end, const char **label,
		    const char *file, const char *unit, size_t at, const char *field,
		    struct moat_err *e)
{
	const json_t *js, *je, *jl;
	const char *why;
	if (json_is_array(v)) {
		if (json_array_size(v) != 3)
			return annot_err(e, MOAT_EPARSE, file, unit, at, field,
					 "expected [start, end, label], found %zu elements",
					 json_array_size(v));
		js = json_array_get(v, 0), je = json_array_get(v, 1), jl = json_array_get(v, 2);
	} else if (json_is_object(v)) {
		js = json_object_get(v, "start");
		if (!js)
			js = json_object_get(v, "start_offset");
		je = json_object_get(v, "end");
		if (!je)
			je = json_object_get(v, "end_offset");
		jl = json_object_get(v, "label");
		if (!js || !je || !jl)
			return annot_err(e, MOAT_EPARSE, file, unit, at, field,
					 "missing %s", !js ? "'start'" : !je ? "'end'" : "'label'");
	} else {
		return annot_err(e, MOAT_EPARSE, file, unit, at, field,
				 "expected [start, end, label] or an object");
	}
	if (json_offset(js, start) < 0 || json_offset(je, end) < 0)
		return annot_err(e, MOAT_EPARSE, file, unit, at, field,
				 "start and end must be integers");
	if (!json_is_string(jl) || !json_string_length(jl))
		return annot_err(e, MOAT_EPARSE, file, unit, at, field,
				 "the label must be a non-empty string");
	if ((why = annot_span_problem(*start, *end, n)))
		return annot_err(e, MOAT_EPARSE, file, unit, at, field,
				 "[%lld, %lld) in a text of %zu code points: %s", (long long)*start,
				 (long long)*end, n, why);
	*label = json_string_value(jl);
	return 0;
}

/* --- boxes and numbers ----------------------------------------------------- */

const char *annot_box_problem(double x, double y, double w, double h, double rotation, int iw,
			      int ih)
{
	double tx = iw > 0 ? fmax(1.0, 0.01 * iw) : 0, ty = ih > 0 ? fmax(1.0, 0.01 * ih) : 0;
	if (!isfinite(x) || !isfinite(y) || !isfinite(w) || !isfinite(h) || !isfinite(rotation))
		return "not a finite number";
	if (w < 0 || h < 0)
		return "negative width or height";
	if (fabs(x) > 4.0 * ANNOT_MAX_IMAGE_SIDE || fabs(y) > 4.0 * ANNOT_MAX_IMAGE_SIDE ||
	    w > 4.0 * ANNOT_MAX_IMAGE_SIDE || h > 4.0 * ANNOT_MAX_IMAGE_SIDE)
		return "out of range";
	if (iw > 0 && (x < -tx || x > iw + tx || (rotation == 0 && x + w > iw + tx)))
		return "outside the image";
	if (ih > 0 && (y < -ty || y > ih + ty || (rotation == 0 && y + h > ih + ty)))
		return "outside the image";
	return NULL;
}

void annot_box_aabb(const struct annot_box *b, double *x, double *y, double *w, double *h)
{
	double r, c, s, xs[4], ys[4], x0, x1, y0, y1;
	if (b->rotation == 0 || !isfinite(b->rotation)) {
		*x = b->x, *y = b->y, *w = b->w, *h = b->h;
		return;
	}
	r = b->rotation * M_PI / 180.0;
	c = cos(r), s = sin(r);
	/* corners relative to the top-left one, turned clockwise (y grows down) */
	xs[0] = 0, ys[0] = 0;
	xs[1] = b->w * c, ys[1] = b->w * s;
	xs[2] = b->w * c - b->h * s, ys[2] = b->w * s + b->h * c;
	xs[3] = -b->h * s, ys[3] = b->h * c;
	x0 = x1 = xs[0], y0 = y1 = ys[0];
	for (int i = 1; i < 4; i++) {
		x0 = fmin(x0, xs[i]), x1 = fmax(x1, xs[i]);
		y0 = fmin(y0, ys[i]), y1 = fmax(y1, ys[i]);
	}
	*x = b->x + x0, *y = b->y + y0, *w = x1 - x0, *h = y1 - y0;
}

int annot_size_ok(int64_t v)
{
	return v >= 1 && v <= ANNOT_MAX_IMAGE_SIDE;
}

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

int annot_parse_double(const char *s, double *out)
{
	char *end;
	double d;
	s = skip_space(s);
	errno = 0;
	d = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(d) || *skip_space(end))
		return -1;
	*out = d;
	return 0;
}

int annot_parse_long(const char *s, long *out)
{
	char *end;
	long v;
	s = skip_space(s);
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || errno == ERANGE || *skip_space(end))
		return -1;
	*out = v;
	return 0;
}

static int num_is_int(double v)
{
	return v == floor(v) && fabs(v) < 9e15;
}

json_t *annot_num_json(double v)
{
	if (num_is_int(v))
		return json_integer((json_int_t)v);
	return json_real(v);
}

/* A real as jansson 2.14's jsonp_dtostr() writes it: %.17g, ".0" added when
 * it would read as an integer, the exponent without '+' or leading zeros. */
int annot_num_put(struct buf *b, double v)
{
	char d[40], *x;
	int n;
	if (num_is_int(v)) {
		jsonw_int(b, (int64_t)v);
		return 0;
	}
	if (!isfinite(v) || (n = xsnprintf(d, sizeof(d), "%.17g", v)) <= 0)
		return -1;
	if (!strchr(d, '.') && !strchr(d, 'e')) {
		memcpy(d + n, ".0", 3);
		n += 2;
	}
	if ((x = strchr(d, 'e'))) {
		char *start = x + 1, *end = x + 2;
		if (*start == '-')
			start++;
		while (*end == '0')
			end++;
		memmove(start, end, (size_t)(d + n + 1 - end));
		n -= (int)(end - start);
	}
	jsonw_add(b, d, (size_t)n);
	return 0;
}

/* --- export ---------------------------------------------------------------- */

const struct annot_value *annot_main_value(const struct annot_item *it)
{
	for (size_t i = 0; i < it->n_values; i++)
		if (it->values[i].origin == ANNOT_HUMAN)
			return &it->values[i];
	return NULL;
}

/* Sorts the indexes v[0..n) by the names they point at (a merge sort, as
 * qsort has no argument for the names). */
static void sort_idx(size_t *v, size_t *tmp, size_t n, const char **names)
{
	size_t h = n / 2, i = 0, j = h, k = 0;
	if (n < 2)
		return;
	sort_idx(v, tmp, h, names);
	sort_idx(v + h, tmp, n - h, names);
	while (i < h && j < n)
		tmp[k++] = strcmp(names[v[i]], names[v[j]]) <= 0 ? v[i++] : v[j++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
}

static long find_linear(const struct annot_labels *l, const char *label)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->name[i], label))
			return (long)i;
	return -1;
}

static int labels_add(struct annot_labels *l, const char *label)
{
	if (find_linear(l, label) >= 0)
		return 0;
	if (grow((void **)&l->name, l->n, sizeof(*l->name)) < 0)
		return -1;
	l->name[l->n++] = label;
	return 0;
}

int annot_labels_of(const struct annot_set *s, struct annot_labels *l)
{
	size_t *tmp;
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < s->n_labels; i++)
		if (labels_add(l, s->labels[i]) < 0)
			goto nomem;
	for (size_t i = 0; i < s->n_items; i++)
		for (size_t j = 0; j < s->items[i].n_values; j++) {
			const struct annot_value *v = &s->items[i].values[j];
			for (size_t k = 0; k < v->n_boxes; k++)
				if (labels_add(l, v->boxes[k].label) < 0)
					goto nomem;
			for (size_t k = 0; k < v->n_spans; k++)
				if (labels_add(l, v->spans[k].label) < 0)
					goto nomem;
			for (size_t k = 0; k < v->n_labels; k++)
				if (labels_add(l, v->labels[k]) < 0)
					goto nomem;
		}
	l->sorted = malloc((l->n ? l->n : 1) * sizeof(*l->sorted));
	tmp = malloc((l->n ? l->n : 1) * sizeof(*tmp));
	if (!l->sorted || !tmp) {
		free(tmp);
		goto nomem;
	}
	for (size_t i = 0; i < l->n; i++)
		l->sorted[i] = i;
	sort_idx(l->sorted, tmp, l->n, l->name);
	free(tmp);
	return 0;
nomem:
	annot_labels_release(l);
	return -1;
}

long annot_labels_find(const struct annot_labels *l, const char *label)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->name[l->sorted[mid]], label);
		if (!c)
			return (long)l->sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

void annot_labels_release(struct annot_labels *l)
{
	free(l->name);
	free(l->sorted);
	memset(l, 0, sizeof(*l));
}

const char *annot_item_split(const struct annot_item *it, const struct annot_export_opts *o)
{
	if (it->split)
		return it->split;
	return o->split_names[0] ? o->split_names[0] : "train";
}

int annot_item_is_text(const struct annot_item *it)
{
	return it->text != NULL;
}

int annot_item_is_image(const struct annot_item *it)
{
	return it->image != NULL;
}

int annot_split_ok(const char *n)
{
	if (!*n || !strcmp(n, ".") || !strcmp(n, "..") || strlen(n) > 200)
		return 0;
	for (const char *p = n; *p; p++)
		if (*p == '/' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static int splits_add(struct annot_splits *sp, const char *name)
{
	for (size_t i = 0; i < sp->n; i++)
		if (!strcmp(sp->name[i], name))
			return 0;
	if (grow((void **)&sp->name, sp->n, sizeof(*sp->name)) < 0)
		return -1;
	sp->name[sp->n++] = name;
	return 0;
}

int annot_splits_of(const struct annot_set *s, const struct annot_export_opts *o,
		    int (*want)(const struct annot_item *), struct annot_splits *out,
		    struct moat_err *e)
{
	size_t nlisted = 0;
	memset(out, 0, sizeof(*out));
	while (nlisted < sizeof(o->split_names) / sizeof(o->split_names[0]) &&
	       o->split_names[nlisted])
		nlisted++;
	for (size_t k = 0; k <= nlisted; k++) {
		for (size_t i = 0; i < s->n_items; i++) {
			const struct annot_item *it = &s->items[i];
			const char *sp = annot_item_split(it, o);
			if (want && !want(it))
				continue;
			if (k < nlisted ? strcmp(sp, o->split_names[k]) : 0)
				continue;
			if (!annot_split_ok(sp)) {
				annot_splits_release(out);
				return err_set(e, MOAT_EUSAGE, "item %zu: split '%s' cannot be a "
					       "file name", i + 1, sp);
			}
			if (splits_add(out, sp) < 0) {
				annot_splits_release(out);
				return err_set(e, MOAT_ENOMEM, "out of memory");
			}
			if (k < nlisted)
				break;
		}
	}
	return 0;
}

void annot_splits_release(struct annot_splits *sp)
{
	free(sp->name);
	memset(sp, 0, sizeof(*sp));
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;  /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int names_has(const struct annot_names *nm, const char *name)
{
	if (!nm->cap)
		return 0;
	for (size_t i = hash_str(name) & (nm->cap - 1);; i = (i + 1) & (nm->cap - 1)) {
		if (!nm->v[i])
			return 0;
		if (!strcmp(nm->v[i], name))
			return 1;
	}
}

static int names_put(struct annot_names *nm, char *name)
{
	size_t i;
	if ((nm->n + 1) * 2 > nm->cap) {
		size_t cap = nm->cap ? nm->cap * 2 : 64;
		char **v = calloc(cap, sizeof(*v));
		if (!v)
			return -1;
		for (size_t k = 0; k < nm->cap; k++)
			if (nm->v[k]) {
				for (i = hash_str(nm->v[k]) & (cap - 1); v[i]; i = (i + 1) & (cap - 1))
					;
				v[i] = nm->v[k];
			}
		free(nm->v);
		nm->v = v;
		nm->cap = cap;
	}
	for (i = hash_str(name) & (nm->cap - 1); nm->v[i]; i = (i + 1) & (nm->cap - 1))
		;
	nm->v[i] = name;
	nm->n++;
	return 0;
}

int annot_names_take(struct annot_names *nm, const char *name, size_t idx, char **out,
		     char **stem_out)
{
	const char *dot = strrchr(name, '.');
	char *stem, *n;
	*out = NULL;
	if (stem_out)
		*stem_out = NULL;
	if (!dot || dot == name)
		dot = name + strlen(name);
	stem = strndup(name, (size_t)(dot - name));
	if (!stem)
		return -1;
	if (!*stem || !strcmp(stem, ".") || !strcmp(stem, "..")) {
		free(stem);
		if (!(stem = strdup("image")))
			return -1;
	}
	n = strdup(stem);
	for (size_t k = 0; n && names_has(nm, n); k++) {
		free(n);
		if ((k ? asprintf(&n, "%zu-%zu-%s", idx + 1, k, stem)
		       : asprintf(&n, "%zu-%s", idx + 1, stem)) < 0)
			n = NULL;
	}
	free(stem);
	if (!n)
		return -1;
	if (asprintf(out, "%s%s", n, dot) < 0 || (stem_out && !(*stem_out = strdup(n))) ||
	    names_put(nm, n) < 0) {
		free(*out);
		*out = NULL;
		if (stem_out) {
			free(*stem_out);
			*stem_out = NULL;
		}
		free(n);
		return -1;
	}
	return 0;
}

int annot_names_add(struct annot_names *nm, const char *name)
{
	char *n;
	if (names_has(nm, name))
		return 0;
	if (!(n = strdup(name)) || names_put(nm, n) < 0) {
		free(n);
		return -1;
	}
	return 1;
}

void annot_names_release(struct annot_names *nm)
{
	for (size_t i = 0; i < nm->cap; i++)
		free(nm->v[i]);
	free(nm->v);
	memset(nm, 0, sizeof(*nm));
}

int annot_out_mkdir(struct annot_out *o, const char *rel)
{
	char *p = fs_join(o->dir, rel);
	int rc;
	if (!p)
		return err_set(o->e, MOAT_ENOMEM, "out of memory");
	rc = fs_mkdirs(p, 0755, o->e);
	free(p);
	return rc;
}

/* Creates dir/rel (its directories made as needed), which must not exist:
 * the descriptor, and its path in *path (malloc'd), or -1 with e set. */
static int out_create(struct annot_out *o, const char *rel, char **path)
{
	char *p = fs_join(o->dir, rel), *dir = p ? fs_dirname(p) : NULL;
	int fd = -1;
	if (!dir)
		err_set(o->e, MOAT_ENOMEM, "out of memory");
	else if (fs_mkdirs(dir, 0755, o->e) == 0 &&
		 (fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
		err_set(o->e, MOAT_EIO, "cannot create '%s': %s", p, strerror(errno));
	free(dir);
	if (fd < 0) {
		free(p);
		return -1;
	}
	*path = p;
	return fd;
}

/* Closes a file out_create() made, counting it when rc is 0; frees path. */
static int out_close(struct annot_out *o, int fd, char *path, int rc)
{
	if (close(fd) < 0 && rc == 0)
		rc = err_set(o->e, MOAT_EIO, "cannot write '%s': %s", path, strerror(errno));
	free(path);
	if (rc == 0)
		o->files++;
	return rc;
}

int annot_out_write(struct annot_out *o, const char *rel, const void *data, size_t len)
{
	char *p;
	int fd = out_create(o, rel, &p), rc = 0;
	if (fd < 0)
		return -1;
	if (fs_write_all(fd, data, len) < 0)
		rc = err_set(o->e, MOAT_EIO, "cannot write '%s': %s", p, strerror(errno));
	return out_close(o, fd, p, rc);
}

int annot_out_buf(struct annot_out *o, const char *rel, const struct buf *b)
{
	if (buf_failed(b))
		return err_set(o->e, buf_failed(b), "cannot write '%s': %s", rel,
			       moat_strerror(buf_failed(b)));
	return annot_out_write(o, rel, buf_str(b), b->len);
}

int annot_out_json(struct annot_out *o, const char *rel, const json_t *v, int indent)
{
	char *s = json_dumps(v, (indent ? JSON_INDENT(2) : JSON_COMPACT) | JSON_PRESERVE_ORDER);
	struct buf b = BUF_INIT;
	int rc;
	if (!s)
		return err_set(o->e, MOAT_ENOMEM, "cannot write '%s': out of memory", rel);
	buf_adds(&b, s);
	buf_addch(&b, '\n');
	free(s);
	rc = annot_out_buf(o, rel, &b);
	buf_release(&b);
	return rc;
}

int annot_out_copy(struct annot_out *o, const char *src, const char *rel)
{
	char chunk[65536];
	char *p;
	int in, out, rc = -1;
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return err_set(o->e, MOAT_EIO, "cannot copy the image '%s': %s", src,
			       strerror(errno));
	if ((out = out_create(o, rel, &p)) < 0) {
		close(in);
		return -1;
	}
	for (;;) {
		ssize_t n = read(in, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(o->e, MOAT_EIO, "cannot read '%s': %s", src, strerror(errno));
			break;
		}
		if (n == 0) {
			rc = 0;
			break;
		}
		if (fs_write_all(out, chunk, (size_t)n) < 0) {
			err_set(o->e, MOAT_EIO, "cannot write '%s': %s", p, strerror(errno));
			break;
		}
	}
	close(in);
	return out_close(o, out, p, rc);
}

#define STREAM_FLUSH_BYTES ((size_t)1 << 20)

int annot_stream_open(struct annot_out *o, const char *rel, struct annot_stream *st)
{
	st->o = o;
	st->b = (struct buf)BUF_INIT;
	st->fd = out_create(o, rel, &st->path);
	return st->fd < 0 ? -1 : 0;
}

/* Writes what the buffer holds; -1 with e set on a write error or the
 * buffer's sticky error. */
static int stream_write(struct annot_stream *st)
{
	if (buf_failed(&st->b))
		return err_set(st->o->e, buf_failed(&st->b), "cannot write '%s': %s", st->path,
			       moat_strerror(buf_failed(&st->b)));
	if (fs_write_all(st->fd, st->b.data, st->b.len) < 0)
		return err_set(st->o->e, MOAT_EIO, "cannot write '%s': %s", st->path,
			       strerror(errno));
	buf_reset(&st->b);
	return 0;
}

int annot_stream_flush(struct annot_stream *st)
{
	if (st->b.len < STREAM_FLUSH_BYTES && !buf_failed(&st->b))
		return 0;
	return stream_write(st);
}

int annot_stream_close(struct annot_stream *st, int rc)
{
	if (st->fd < 0)
		return -1;
	if (rc == 0)
		rc = stream_write(st);
	rc = out_close(st->o, st->fd, st->path, rc);
	st->fd = -1;
	st->path = NULL;
	buf_release(&st->b);
	return rc;
}

int annot_export_text(const struct annot_set *s, struct annot_out *o,
		      const struct annot_export_opts *opts, const char *ext,
		      int (*item)(struct buf *b, const struct annot_item *it, size_t idx, void *arg,
				  struct moat_err *e),
		      void *arg)
{
	struct annot_splits sp;
	int rc = 0;
	if (annot_splits_of(s, opts, annot_item_is_text, &sp, o->e) < 0)
		return -1;
	for (size_t k = 0; k < sp.n && rc == 0; k++) {
		struct annot_stream st;
		char *rel;
		if (asprintf(&rel, "%s.%s", sp.name[k], ext) < 0) {
			rc = err_set(o->e, MOAT_ENOMEM, "out of memory");
			break;
		}
		rc = annot_stream_open(o, rel, &st);
		free(rel);
		for (size_t i = 0; i < s->n_items && rc == 0; i++) {
			const struct annot_item *it = &s->items[i];
			if (it->text && !strcmp(annot_item_split(it, opts), sp.name[k]) &&
			    (rc = item(&st.b, it, i, arg, o->e)) == 0)
				rc = annot_stream_flush(&st);
		}
		rc = annot_stream_close(&st, rc);
	}
	annot_splits_release(&sp);
	return rc;
}

/* A JSON Lines record: arg points to the record() function. */
static int jsonl_item(struct buf *b, const struct annot_item *it, size_t idx, void *arg,
		      struct moat_err *e)
{
	json_t *(*const *record)(const struct annot_item *) = arg;
	json_t *r = (*record)(it);
	char *line = r ? json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(r);
	if (!line)
		return err_set(e, MOAT_ENOMEM, "item %zu: cannot write it as JSON", idx + 1);
	buf_adds(b, line);
	buf_addch(b, '\n');
	free(line);
	return 0;
}

int annot_export_jsonl(const struct annot_set *s, struct annot_out *o,
		       const struct annot_export_opts *opts, json_t *(*record)(const struct annot_item *))
{
	return annot_export_text(s, o, opts, "jsonl", jsonl_item, &record);
}

int annot_item_size(const struct annot_item *it, size_t idx, int *w, int *h, struct moat_err *e)
{
	struct moat_err why = MOAT_ERR_INIT;
	if (it->width > 0 && it->height > 0) {
		*w = it->width, *h = it->height;
		return 0;
	}
	if (it->image && annot_image_size(it->image, w, h, &why) == 0)
		return 0;
	return err_set(e, MOAT_EUNSUPPORTED, "item %zu ('%s'): the image's size is not known "
		       "(%s)", idx + 1, it->image ? it->image : "", why.msg[0] ? why.msg : "no image");
}
