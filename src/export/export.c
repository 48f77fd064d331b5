/*
 * export.c - a dataset out of the workspace, and its check (export.h).
 *
 * Two passes over what is exported: the first gathers each item's group and
 * label for the split (and the sources and runs for the card and the audit
 * slice), the second writes the records in the same order.  Both read inside
 * the writer's lock, so nothing changes between them.
 */
#define _GNU_SOURCE
#include "export.h"
#include "annot.h"
#include "annot_value.h"
#include "card.h"
#include "manifest.h"
#include "records.h"
#include "../core/alloc.h"
#include "../core/buf.h"
#include "../core/fmt.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "../store/audit.h"
#include "../store/dataset.h"
#include "../store/store.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/banned.h"

enum what { W_DOCUMENTS, W_ELEMENTS, W_CHUNKS, W_ANNOTATIONS };
static const char *const WHAT[] = { "documents", "elements", "chunks", "annotations" };

struct export_opts export_default_opts(void)
{
	struct export_opts o;
	memset(&o, 0, sizeof(o));
	return o;
}

void export_result_release(struct export_result *r)
{
	free(r->path);
	r->path = NULL;
}

/* --- small helpers -------------------------------------------------------- */

/* Strings kept for the whole export. */
struct strs {
	char **v;
	size_t n, cap;
};

static const char *keep(struct strs *p, const char *s)
{
	char *d;
	if (!s)
		return NULL;
	if (MOAT_GROW(p->v, p->cap, p->n + 1) < 0 || !(d = strdup(s)))
		return NULL;
	return p->v[p->n++] = d;
}

static void strs_free(struct strs *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

static void rm_tree(const char *dir)
{
	if (dir && *dir)
		(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The byte offset of code point cp in text, walking on from (*b, *c). */
static size_t cp_byte(const char *text, size_t len, size_t *b, size_t *c, size_t cp)
{
	if (cp < *c) {
		*b = 0;
		*c = 0;
	}
	while (*c < cp && *b < len) {
		(*b)++;
		while (*b < len && ((unsigned char)text[*b] & 0xC0) == 0x80)
			(*b)++;
		(*c)++;
	}
	return *b;
}

/* "<doc>:<seq>" into id (96 bytes: a 64-digit id and a number always fit). */
static void item_id(char id[96], const char *doc, long long seq)
{
	if (xsnprintf(id, 96, "%.64s:%lld", doc, seq) < 0)
		id[0] = '\0';
}

/* Tests stop the export at a named point (MOAT_TEST_EXPORT_STOP=data,
 * manifest, record or commit) to kill it there for certain: the process
 * stops itself with SIGSTOP, and the test sends SIGKILL.  Debug builds only
 * (MOAT_TEST_HOOKS). */
static void test_stop(const char *point)
{
#ifdef MOAT_TEST_HOOKS
	const char *at = getenv("MOAT_TEST_EXPORT_STOP");
	if (at && !strcmp(at, point))
		raise(SIGSTOP);
#else
	(void)point;
#endif
}

/* --- the run ---------------------------------------------------------------- */

struct run {
	struct store *s;
	const struct export_opts *o;
	enum what what;
	struct strs strs;
	struct split_item *items;
	size_t n, cap;
	int64_t min_run;
	struct card_source *src;
	size_t n_src, cap_src;
	/* pass 2 */
	const unsigned char *assign;
	size_t k;
	struct rec_writer *w;
	int64_t set;
	const char *tokenizer;
	int64_t left_out;
	size_t n_synthetic;          /* records moat augment made (tasks of source "synthetic") */
	/* annotations */
	struct annot_set as;
	const char *stage;           /* images are linked here under their names */
	/* labels per split */
	const char **labels;
	size_t n_labels;
	size_t *label_counts;        /* [label * SPLIT_MAX + split] */
};

static int item_add(struct run *r, const char *id, const char *group, const char *label,
		    struct moat_err *e)
{
	struct split_item *it;
	if (MOAT_GROW(r->items, r->cap, r->n + 1) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	it = &r->items[r->n];
	it->id = keep(&r->strs, id);
	it->group = keep(&r->strs, group);
	it->label = label ? keep(&r->strs, label) : NULL;
	if (!it->id || !it->group || (label && !it->label))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	r->n++;
	return 0;
}

static int source_add(struct run *r, const struct ds_doc *d, struct moat_err *e)
{
	if (d->run_id && (!r->min_run || d->run_id < r->min_run))
		r->min_run = d->run_id;
	if (r->n_src && !strcmp(r->src[r->n_src - 1].sha256, d->id))
		return 0;
	if (MOAT_GROW(r->src, r->cap_src, r->n_src + 1) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	r->src[r->n_src].path = keep(&r->strs, d->path[0] ? d->path : "(attachment)");
	r->src[r->n_src].sha256 = keep(&r->strs, d->id);
	if (!r->src[r->n_src].path || !r->src[r->n_src].sha256)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	r->n_src++;
	return 0;
}

/* pass 1: documents, elements */
static int gather_doc(void *ctx, const struct ds_doc *d, struct moat_err *e)
{
	struct run *r = ctx;
	if (source_add(r, d, e) < 0)
		return -1;
	if (r->what == W_DOCUMENTS)
		return item_add(r, d->id, d->group, NULL, e);
	for (size_t i = 0; i < d->n_el; i++) {
		char id[96];
		item_id(id, d->id, d->el[i].seq);
		if (item_add(r, id, d->group, NULL, e) < 0)
			return -1;
	}
	return 0;
}

static int gather_chunk(void *ctx, const struct ds_chunk *c, const struct ds_doc *d,
			struct moat_err *e)
{
	struct run *r = ctx;
	char id[96];
	if (source_add(r, d, e) < 0)
		return -1;
	item_id(id, d->id, c->seq);
	return item_add(r, id, d->group, NULL, e);
}

/* pass 2 */
static int write_doc(void *ctx, const struct ds_doc *d, struct moat_err *e)
{
	struct run *r = ctx;
	struct rec rec;
	json_t *meta;
	int rc = 0;
	memset(&rec, 0, sizeof(rec));
	if (r->what == W_DOCUMENTS) {
		meta = json_pack("{s:s, s:s, s:s?}", "path", d->path, "type", d->type, "lang", d->lang);
		if (!meta)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		rec.id = d->id;
		rec.text = d->text;
		rec.text_len = d->len;
		rec.meta = meta;
		rec.split = r->assign[r->k++];
		rc = rec_write(r->w, &rec, e);
		json_decref(meta);
		return rc;
	}
	{
		size_t b = 0, c = 0;
		for (size_t i = 0; i < d->n_el && rc == 0; i++) {
			char id[96];
			size_t bs = cp_byte(d->text, d->len, &b, &c, d->el[i].start);
			size_t be = cp_byte(d->text, d->len, &b, &c, d->el[i].end);
			item_id(id, d->id, d->el[i].seq);
			meta = json_pack("{s:s, s:s, s:i, s:s, s:i}", "document", d->id, "path", d->path,
					 "seq", d->el[i].seq, "type", d->el[i].type, "page", d->el[i].page);
			if (!meta)
				return err_set(e, MOAT_ENOMEM, "out of memory");
			rec.id = id;
			rec.text = d->text + bs;
			rec.text_len = be - bs;
			rec.meta = meta;
			rec.split = r->assign[r->k++];
			rc = rec_write(r->w, &rec, e);
			json_decref(meta);
		}
	}
	return rc;
}

static int write_chunk(void *ctx, const struct ds_chunk *c, const struct ds_doc *d,
		       struct moat_err *e)
{
	struct run *r = ctx;
	struct rec rec;
	char id[96];
	memset(&rec, 0, sizeof(rec));
	item_id(id, d->id, c->seq);
	rec.id = id;
	rec.text = c->text;
	rec.text_len = c->len;
	rec.split = r->assign[r->k++];
	rec.document = d->id;
	rec.path = d->path;
	rec.page_first = c->page_first > 0 ? (unsigned)c->page_first : 0;
	rec.page_last = c->page_last > 0 ? (unsigned)c->page_last : 0;
	rec.start = c->start;
	rec.end = c->end;
	rec.tokens = c->tokens > 0 ? (size_t)c->tokens : 0;
	rec.tokenizer = r->tokenizer;
	return rec_write(r->w, &rec, e);
}

/* --- annotations ---------------------------------------------------------------- */

static int label_wanted(const struct export_opts *o, const char *l)
{
	if (!o->n_labels)
		return 1;
	for (size_t i = 0; i < o->n_labels; i++)
		if (!strcmp(o->labels[i], l))
			return 1;
	return 0;
}

/* Drops from v what --label does not keep. */
static void value_filter(const struct export_opts *o, struct annot_value *v)
{
	size_t k = 0;
	if (!o->n_labels)
		return;
	for (size_t i = 0; i < v->n_labels; i++) {
		if (label_wanted(o, v->labels[i]))
			v->labels[k++] = v->labels[i];
		else
			free(v->labels[i]);
	}
	v->n_labels = k;
	k = 0;
	for (size_t i = 0; i < v->n_spans; i++) {
		if (label_wanted(o, v->spans[i].label))
			v->spans[k++] = v->spans[i];
		else
			free(v->spans[i].label);
	}
	v->n_spans = k;
	k = 0;
	for (size_t i = 0; i < v->n_boxes; i++) {
		if (label_wanted(o, v->boxes[i].label))
			v->boxes[k++] = v->boxes[i];
		else
			free(v->boxes[i].label);
	}
	v->n_boxes = k;
}

static const char *value_label(const struct annot_value *v)
{
	if (v->n_labels)
		return v->labels[0];
	if (v->n_spans)
		return v->spans[0].label;
	if (v->n_boxes)
		return v->boxes[0].label;
	return NULL;
}

static int stage_image(struct run *r, struct annot_item *it, const char *doc_id, const char *name,
		       struct moat_err *e)
{
	char *obj = store_object_path(store_dir(r->s), doc_id), *sub = NULL, *link_path = NULL;
	char idx[32];
	const char *base = name ? strrchr(name, '/') : NULL;
	int rc = -1;
	base = base ? base + 1 : name;
	if (!base || !*base)
		base = doc_id;
	if (xsnprintf(idx, sizeof(idx), "%zu", r->as.n_items) < 0)
		return err_set(e, MOAT_ELIMIT, "too many images");
	if (!obj || !(sub = fs_join(r->stage, idx)) || !(link_path = fs_join(sub, base))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (mkdir(sub, 0700) < 0 || symlink(obj, link_path) < 0) {
		err_set(e, MOAT_EIO, "cannot stage the image '%s': %s", base, strerror(errno));
		goto out;
	}
	it->image = link_path;
	link_path = NULL;
	rc = 0;
out:
	free(obj);
	free(sub);
	free(link_path);
	return rc;
}

static int gather_task(void *ctx, const struct ds_task *t, const struct ds_annotation *a,
		       size_t n_a, struct moat_err *e)
{
	struct run *r = ctx;
	struct annot_item *it;
	char group[96];
	const char *label = NULL;
	size_t kept = 0;
	if (!n_a)
		return 0;
	if (!strcmp(t->kind, "image") && !t->doc_id && strcmp(r->o->format, "label-studio")) {
		struct stat st;
		if (!t->image || stat(t->image, &st) < 0 || !S_ISREG(st.st_mode)) {
			/* an image known only by a name its source gave (a URL, a path
			 * on another machine): a layout cannot hold it */
			r->left_out++;
			return 0;
		}
	}
	if (t->text && !t->cleaned && !r->o->raw)
		return err_set(e, MOAT_EUSAGE,
			       "task %lld holds text imported as it was (%s), not cleaned: give --raw "
			       "to export text that is NOT de-identified", (long long)t->id,
			       t->source ? t->source : "no source");
	if (!(it = annot_add_item(&r->as)))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if ((t->name && !(it->id = strdup(t->name))) || (t->text && !(it->text = strdup(t->text))) ||
	    (t->split && !(it->split = strdup(t->split))))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	it->width = t->width;
	it->height = t->height;
	if (!strcmp(t->kind, "image")) {
		if (t->doc_id) {
			if (stage_image(r, it, t->doc_id, t->image ? t->image : t->name, e) < 0)
				return -1;
		} else if (t->image && !(it->image = strdup(t->image))) {
			return err_set(e, MOAT_ENOMEM, "out of memory");
		}
	}
	for (size_t i = 0; i < n_a; i++) {
		struct annot_value *v = annot_add_value(it);
		if (!v)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		if (annot_value_parse(a[i].value, v, e) < 0) {
			char msg[sizeof(e->msg)];
			memcpy(msg, e->msg, sizeof(msg));
			return err_set(e, MOAT_ECORRUPT, "annotation %lld: %s", (long long)a[i].id, msg);
		}
		if (!(v->annotator = strdup(a[i].annotator)))
			return err_set(e, MOAT_ENOMEM, "out of memory");
		value_filter(r->o, v);
		if (!label)
			label = value_label(v);
		kept += !annot_value_empty(v);
	}
	if (!kept && r->o->n_labels) {
		/* nothing left under --label: the item goes */
		struct annot_set one = ANNOT_SET_INIT;
		if (!(one.items = malloc(sizeof(*one.items))))
			return err_set(e, MOAT_ENOMEM, "out of memory");
		one.items[0] = r->as.items[--r->as.n_items];
		one.n_items = 1;
		annot_set_release(&one);
		return 0;
	}
	for (size_t i = 0; i < it->n_values; i++) {
		const struct annot_value *v = &it->values[i];
		for (size_t k = 0; k < v->n_labels; k++)
			if (annot_label_index(&r->as, v->labels[k]) < 0)
				return err_set(e, MOAT_ENOMEM, "out of memory");
		for (size_t k = 0; k < v->n_spans; k++)
			if (annot_label_index(&r->as, v->spans[k].label) < 0)
				return err_set(e, MOAT_ENOMEM, "out of memory");
		for (size_t k = 0; k < v->n_boxes; k++)
			if (annot_label_index(&r->as, v->boxes[k].label) < 0)
				return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	if (t->doc_id)
		item_id(group, t->doc_id, 0);
	else if (xsnprintf(group, sizeof(group), "task:%lld", (long long)t->id) < 0)
		group[0] = '\0';
	if (t->run_id && (!r->min_run || t->run_id < r->min_run))
		r->min_run = t->run_id;
	if (t->source && !strcmp(t->source, "synthetic")) {
		/* a record moat augment made: marked, with its provenance (model,
		 * recipe, sources) and, for qa, its question, in the metadata */
		if (t->meta && !(it->meta = json_loads(t->meta, 0, NULL)))
			return err_set(e, MOAT_ECORRUPT, "task %lld: its metadata is not JSON", (long long)t->id);
		if (!it->meta && !(it->meta = json_object()))
			return err_set(e, MOAT_ENOMEM, "out of memory");
		if (!json_object_get(it->meta, "synthetic") &&
		    json_object_set_new(it->meta, "synthetic", json_true()) < 0)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		r->n_synthetic++;
	}
	{
		char id[32];
		if (xsnprintf(id, sizeof(id), "task:%lld", (long long)t->id) < 0)
			return err_set(e, MOAT_ELIMIT, "task id too long");
		return item_add(r, id, group, label, e);
	}
}

/* The splits the imported items came with: train, val and test first when
 * there, then others in the order seen; at most SPLIT_MAX. */
static int source_splits(struct run *r, struct split_ratios *sr, unsigned char *assign,
			 struct moat_err *e)
{
	static const char *const known[] = { "train", "val", "test" };
	const char *seen[64];
	size_t n_seen = 0;
	sr->n = 0;
	for (size_t i = 0; i < r->as.n_items; i++) {
		const char *sp = r->as.items[i].split ? r->as.items[i].split : "train";
		size_t k = 0;
		while (k < n_seen && strcmp(seen[k], sp))
			k++;
		if (k == n_seen) {
			if (n_seen == 64)
				break;
			seen[n_seen++] = sp;
		}
	}
	for (size_t k = 0; k < 3 + n_seen; k++) {
		const char *name = NULL;
		if (k < 3) {
			for (size_t j = 0; j < n_seen && !name; j++)
				if (!strcmp(seen[j], known[k]))
					name = known[k];
		} else if (strcmp(seen[k - 3], known[0]) && strcmp(seen[k - 3], known[1]) &&
			   strcmp(seen[k - 3], known[2])) {
			name = seen[k - 3];
		}
		if (!name)
			continue;
		if (sr->n == SPLIT_MAX)
			return err_set(e, MOAT_EUSAGE, "the annotations come in more than %d splits: "
				       "give --split to make new ones", SPLIT_MAX);
		if (!(sr->name[sr->n++] = keep(&r->strs, name)))
			return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < r->as.n_items; i++) {
		const char *sp = r->as.items[i].split ? r->as.items[i].split : "train";
		for (size_t k = 0; k < sr->n; k++)
			if (!strcmp(sr->name[k], sp))
				assign[i] = (unsigned char)k;
	}
	return 0;
}

/* Annotated items as records (jsonl, csv, hf, chat, alpaca): the first
 * value's labels and spans, or its text answer. */
static int write_annot_records(struct run *r, struct moat_err *e)
{
	for (size_t i = 0; i < r->as.n_items; i++) {
		const struct annot_item *it = &r->as.items[i];
		const struct annot_value *v = it->n_values ? &it->values[0] : NULL;
		struct rec rec;
		struct rec_span *sp = NULL;
		int rc;
		if (!it->text) {
			r->left_out++;
			continue;
		}
		memset(&rec, 0, sizeof(rec));
		rec.id = r->items[i].id;
		rec.text = it->text;
		rec.text_len = strlen(it->text);
		rec.split = r->assign[i];
		rec.meta = it->meta;
		rec.synthetic = it->meta && json_object_get(it->meta, "synthetic");
		if (v) {
			rec.labels = (const char *const *)v->labels;
			rec.n_labels = v->n_labels;
			if (v->n_spans && !(sp = calloc(v->n_spans, sizeof(*sp))))
				return err_set(e, MOAT_ENOMEM, "out of memory");
			for (size_t k = 0; k < v->n_spans; k++) {
				sp[k].start = v->spans[k].start;
				sp[k].end = v->spans[k].end;
				sp[k].label = v->spans[k].label;
			}
			rec.spans = sp;
			rec.n_spans = v->n_spans;
			rec.answer = v->text;
		}
		rc = rec_write(r->w, &rec, e);
		free(sp);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* --- the audit slice and what the card takes from it ----------------------------- */

struct slice {
	struct buf text;
	struct strs *strs;
	const char **steps;
	size_t n_steps, cap;
	const char *policy, *policy_sha;
	int64_t first, last;
};

static int slice_add(void *ctx, int64_t seq, const char *body, size_t len, const char *hash,
		     struct moat_err *e)
{
	struct slice *sl = ctx;
	json_t *j, *cmd, *x;
	json_error_t je;
	struct buf step = BUF_INIT;
	size_t i;
	(void)hash;
	if (!sl->first)
		sl->first = seq;
	sl->last = seq;
	buf_add(&sl->text, body, len);
	buf_addch(&sl->text, '\n');
	if (buf_failed(&sl->text))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (!(j = json_loadb(body, len, 0, &je)))
		return 0;
	cmd = json_object_get(j, "command");
	/* a step: "moat clean --pii policy.yaml" (the program's own path left out) */
	buf_adds(&step, "moat");
	json_array_foreach(cmd, i, x) {
		if (i == 0 || !json_is_string(x))
			continue;
		buf_addch(&step, ' ');
		buf_adds(&step, json_string_value(x));
		if (!strcmp(json_string_value(x), "--pii") && json_is_string(json_array_get(cmd, i + 1)))
			sl->policy = keep(sl->strs, json_string_value(json_array_get(cmd, i + 1)));
	}
	buf_addf(&step, " (record %lld, %s)", (long long)seq,
		 json_string_value(json_object_get(j, "time")) ? json_string_value(json_object_get(j, "time")) : "");
	{
		const char *ps = json_string_value(json_object_get(json_object_get(j, "inputs"),
								   "pii_policy_sha256"));
		if (ps)
			sl->policy_sha = keep(sl->strs, ps);
	}
	json_decref(j);
	if (buf_failed(&step))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (MOAT_GROW(sl->steps, sl->cap, sl->n_steps + 1) < 0) {
		buf_release(&step);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	sl->steps[sl->n_steps] = keep(sl->strs, buf_str(&step));
	buf_release(&step);
	if (!sl->steps[sl->n_steps])
		return err_set(e, MOAT_ENOMEM, "out of memory");
	sl->n_steps++;
	return 0;
}

struct last_rec {
	struct buf body;
	int64_t seq;
};

static int last_add(void *ctx, int64_t seq, const char *body, size_t len, const char *hash,
		    struct moat_err *e)
{
	struct last_rec *l = ctx;
	(void)hash;
	buf_reset(&l->body);
	buf_add(&l->body, body, len);
	buf_addch(&l->body, '\n');
	l->seq = seq;
	return buf_failed(&l->body) ? err_set(e, MOAT_ENOMEM, "out of memory") : 0;
}

static int write_file(const char *dir, const char *rel, const void *data, size_t len,
		      struct moat_err *e)
{
	char *p = fs_join(dir, rel), *d = p ? fs_dirname(p) : NULL;
	int rc = -1;
	if (!p || !d)
		err_set(e, MOAT_ENOMEM, "out of memory");
	else if (fs_mkdirs(d, 0755, e) == 0)
		rc = fs_write_atomic(p, data, len, 0644, e);
	free(d);
	free(p);
	return rc;
}

/* --- export_run -------------------------------------------------------------------- */

static int parse_what(const struct export_opts *o, enum what *w, struct moat_err *e)
{
	int an = annot_format_known(o->format), rec = rec_format_known(o->format);
	if (!an && !rec)
		return err_set(e, MOAT_EUSAGE,
			       "unknown format '%s' (jsonl, csv, chat, alpaca, rag, hf, spacy, conll, "
			       "label-studio, doccano, coco, yolo, voc)", o->format);
	if (!o->what)
		*w = an || o->project || o->statuses || o->n_labels ? W_ANNOTATIONS
		   : !strcmp(o->format, "rag") || o->chunks ? W_CHUNKS : W_DOCUMENTS;
	else {
		int k = -1;
		for (int i = 0; i < 4; i++)
			if (!strcmp(o->what, WHAT[i]))
				k = i;
		if (k < 0)
			return err_set(e, MOAT_EUSAGE, "--what takes documents, elements, chunks or "
				       "annotations, not '%s'", o->what);
		*w = (enum what)k;
	}
	if (an && *w != W_ANNOTATIONS)
		return err_set(e, MOAT_EUSAGE, "format %s writes annotations, not %s", o->format,
			       WHAT[*w]);
	if (!strcmp(o->format, "rag") && *w != W_CHUNKS)
		return err_set(e, MOAT_EUSAGE, "format rag writes chunks, not %s", WHAT[*w]);
	if (*w == W_ANNOTATIONS && rec && strcmp(o->format, "jsonl") && strcmp(o->format, "csv") &&
	    strcmp(o->format, "hf"))
		return err_set(e, MOAT_EUSAGE, "annotations go to jsonl, csv, hf or an annotation "
			       "format, not %s", o->format);
	return 0;
}

/* Makes "<parent>/.<base>.moat-<kind>-XXXXXX". */
static char *temp_beside(const char *out, const char *kind, struct moat_err *e)
{
	char *parent = fs_dirname(out), *t = NULL;
	const char *base = strrchr(out, '/');
	base = base ? base + 1 : out;
	if (!parent || asprintf(&t, "%s/.%s.moat-%s-XXXXXX", parent, base, kind) < 0) {
		free(parent);
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	free(parent);
	if (!mkdtemp(t)) {
		err_set(e, MOAT_EIO, "cannot create a directory beside '%s': %s", out, strerror(errno));
		free(t);
		return NULL;
	}
	return t;
}

static char *cmdline_text(const json_t *cmd)
{
	struct buf b = BUF_INIT;
	size_t i;
	json_t *x;
	json_array_foreach(cmd, i, x) {
		const char *s = json_string_value(x);
		if (i)
			buf_addch(&b, ' ');
		buf_adds(&b, s ? s : "");
	}
	if (buf_failed(&b)) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

int export_run(struct store *s, const struct export_opts *o, struct export_result *res,
	       struct moat_err *e)
{
	struct run r;
	struct split_ratios ratios;
	struct rec_opts ro = rec_default_opts();
	struct slice sl;
	struct last_rec last;
	struct card_facts cf;
	struct ds_chunk_set set;
	unsigned char *assign = NULL;
	char *tmp = NULL, *stage = NULL, *abs_out = NULL, *cmdtext = NULL, *counts_text = NULL;
	char now[40], first[512], ratio_text[64] = "";
	size_t counts[SPLIT_MAX] = { 0 };
	int64_t run_id = 0, uncleaned = 0;
	json_t *labels_seen = NULL, *cj = NULL;
	int rc = -1, in_tx = 0, committed = 0;
	struct card_finding *fnd = NULL;
	struct card_model model;
	json_t *findings = NULL;
	const char *gaps[4];
	size_t n_gaps = 0;
	char gap_text[256];

	memset(res, 0, sizeof(*res));
	memset(&r, 0, sizeof(r));
	memset(&sl, 0, sizeof(sl));
	memset(&cf, 0, sizeof(cf));
	memset(&set, 0, sizeof(set));
	buf_init(&sl.text, 0);
	buf_init(&last.body, 0);
	sl.strs = &r.strs;
	r.s = s;
	r.o = o;
	if (parse_what(o, &r.what, e) < 0)
		return -1;
	memcpy(res->what, WHAT[r.what], strlen(WHAT[r.what]) + 1);
	if (split_parse(o->split ? o->split : "100", &ratios, e) < 0)
		return -1;
	if (split_format(&ratios, ratio_text, sizeof(ratio_text)) < 0)
		ratio_text[0] = '\0';
	if (!o->out || !*o->out)
		return err_set(e, MOAT_EUSAGE, "--out DIR is needed");
	{
		struct stat st;
		if (lstat(o->out, &st) == 0)
			return err_set(e, MOAT_EEXISTS, "'%s' exists: an export goes to a new directory",
				       o->out);
	}
	/* what raw allows */
	if (r.what != W_ANNOTATIONS && !o->raw) {
		if ((uncleaned = ds_count_uncleaned(s, first, sizeof(first), e)) < 0)
			return -1;
		if (uncleaned)
			return err_set(e, MOAT_EUSAGE,
				       "%lld document%s not cleaned (first: '%s'): run moat clean first, "
				       "or give --raw to export text that is NOT de-identified",
				       (long long)uncleaned, uncleaned == 1 ? " is" : "s are", first);
	}
	if (r.what == W_CHUNKS) {
		if (ds_chunk_set_find(s, o->chunks, &set, e) < 0)
			return -1;
		if (set.raw && !o->raw)
			return err_set(e, MOAT_EUSAGE, "chunk set '%s' was cut from raw text: give --raw "
				       "to export text that is NOT de-identified", set.name);
		r.set = set.id;
	}

	if (!(tmp = temp_beside(o->out, "tmp", e)))
		return -1;
	if (!(abs_out = realpath(tmp, NULL))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	{
		/* the final name, absolute: the temporary one's directory + base */
		char *parent = fs_dirname(abs_out);
		const char *base = strrchr(o->out, '/');
		base = base ? base + 1 : o->out;
		free(abs_out);
		abs_out = parent ? fs_join(parent, base) : NULL;
		free(parent);
		if (!abs_out) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
	}

	/* pass 1 */
	if (r.what == W_DOCUMENTS || r.what == W_ELEMENTS) {
		if (ds_each_doc(s, o->raw, gather_doc, &r, e) != 0)
			goto out;
	} else if (r.what == W_CHUNKS) {
		if (ds_each_chunk(s, r.set, gather_chunk, &r, &r.left_out, e) != 0)
			goto out;
	} else {
		int64_t project;
		if (!(stage = temp_beside(o->out, "stage", e)))
			goto out;
		r.stage = stage;
		if (ds_project_find(s, o->project ? o->project : "default", &project, NULL, NULL, e) < 0 ||
		    ds_each_task(s, project, o->statuses ? o->statuses : DS_ACCEPTED, gather_task, &r,
				 e) != 0)
			goto out;
	}
	if (!(assign = calloc(r.n ? r.n : 1, 1))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (!o->split && r.what == W_ANNOTATIONS) {
		/* no --split: the splits the sources gave (train for items without) */
		if (source_splits(&r, &ratios, assign, e) < 0)
			goto out;
	} else if (split_assign(r.items, r.n, &ratios, o->seed ? o->seed : "moat", assign, e) < 0) {
		goto out;
	}
	r.assign = assign;
	for (size_t i = 0; i < ratios.n; i++)
		ro.splits[i] = ratios.name[i];
	ro.splits[ratios.n] = NULL;
	for (size_t i = 0; i < r.n; i++)
		counts[assign[i]]++;

	/* pass 2: the data */
	if (r.what == W_ANNOTATIONS && annot_format_known(o->format)) {
		struct annot_export_opts ao = annot_export_default_opts();
		for (size_t i = 0; i < ratios.n; i++)
			ao.split_names[i] = ratios.name[i];
		ao.split_names[ratios.n] = NULL;
		for (size_t i = 0; i < r.as.n_items; i++) {
			free(r.as.items[i].split);
			if (!(r.as.items[i].split = strdup(ratios.name[assign[i]]))) {
				err_set(e, MOAT_ENOMEM, "out of memory");
				goto out;
			}
		}
		if (annot_export(o->format, &r.as, tmp, &ao, e) < 0)
			goto out;
	} else {
		ro.chunks = r.what == W_CHUNKS;
		ro.system_prompt = o->system_prompt;
		ro.instruction = o->instruction;
		if (!(r.w = rec_writer_open(o->format, tmp, &ro, e)))
			goto out;
		r.tokenizer = NULL;
		if (r.what == W_CHUNKS) {
			json_t *sets = ds_chunk_sets(s, e), *x;
			size_t i;
			if (!sets)
				goto out;
			json_array_foreach(sets, i, x)
				if (!strcmp(json_string_value(json_object_get(x, "name")), set.name))
					r.tokenizer = keep(&r.strs, json_string_value(json_object_get(x, "tokenizer")));
			json_decref(sets);
		}
		if (r.what == W_DOCUMENTS || r.what == W_ELEMENTS) {
			if (ds_each_doc(s, o->raw, write_doc, &r, e) != 0)
				goto out;
		} else if (r.what == W_CHUNKS) {
			if (ds_each_chunk(s, r.set, write_chunk, &r, NULL, e) != 0)
				goto out;
		} else if (write_annot_records(&r, e) < 0) {
			goto out;
		}
		if (rec_writer_finish(r.w, e) < 0)
			goto out;
	}
	if (stage) {
		rm_tree(stage);
		free(stage);
		stage = NULL;
	}

	test_stop("data");

	/* labels per split, for the card */
	if (!(labels_seen = json_object())) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < r.n; i++) {
		if (r.items[i].label) {
			json_t *row = json_object_get(labels_seen, r.items[i].label);
			if (!row) {
				row = json_pack("[iii]", 0, 0, 0);
				if (!row || json_object_set_new(labels_seen, r.items[i].label, row)) {
					err_set(e, MOAT_ENOMEM, "out of memory");
					goto out;
				}
			}
			json_array_set_new(row, assign[i], json_integer(json_integer_value(
						json_array_get(row, assign[i])) + 1));
		}
	}
	r.n_labels = json_object_size(labels_seen);
	r.labels = calloc(r.n_labels + 1, sizeof(*r.labels));
	r.label_counts = calloc((r.n_labels + 1) * ratios.n, sizeof(*r.label_counts));
	if (!r.labels || !r.label_counts) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	{
		const char *key;
		json_t *row;
		size_t l = 0;
		json_object_foreach(labels_seen, key, row) {
			r.labels[l] = key;
			for (size_t k = 0; k < ratios.n; k++)
				r.label_counts[l * ratios.n + k] = (size_t)json_integer_value(json_array_get(row, k));
			l++;
		}
	}

	/* the audit slice: from the first record that made this data */
	if (r.min_run) {
		int64_t from = ds_audit_first_seq(s, r.min_run, e);
		if (from < 0)
			goto out;
		if (from && audit_each(s, from, 0, slice_add, &sl, e) != 0)
			goto out;
	}
	if (!sl.first && audit_each(s, 1, 0, slice_add, &sl, e) != 0)
		goto out;
	if (write_file(tmp, EXPORT_TRAIL, sl.text.data ? sl.text.data : "", sl.text.len, e) < 0)
		goto out;
	res->trail_first = sl.first;

	/* the card */
	if (!(findings = ds_findings(s, e)))
		goto out;
	if (json_array_size(findings) &&
	    !(fnd = calloc(json_array_size(findings), sizeof(*fnd)))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(findings); i++) {
		json_t *x = json_array_get(findings, i);
		fnd[i].type = json_string_value(json_object_get(x, "type"));
		fnd[i].op = json_string_value(json_object_get(x, "operator"));
		fnd[i].count = (size_t)json_integer_value(json_object_get(x, "count"));
	}
	{
		time_t t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if (!(cmdtext = cmdline_text(o->cmdline))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	cf.title = o->title;
	cf.format = o->format;
	cf.what = WHAT[r.what];
	cf.n_splits = ratios.n;
	cf.split_names = ratios.name;
	cf.split_counts = counts;
	cf.split_ratios = o->split ? ratio_text : NULL;
	cf.seed = o->split ? (o->seed ? o->seed : "moat") : NULL;
	cf.n_labels = r.n_labels;
	cf.labels = r.labels;
	cf.label_counts = r.label_counts;
	cf.n_sources = r.n_src;
	cf.sources = r.src;
	cf.sources_max = 1000;
	cf.clean_policy = sl.policy;
	cf.clean_policy_sha256 = sl.policy_sha;
	cf.n_findings = json_array_size(findings);
	cf.findings = fnd;
	if (r.what == W_CHUNKS && r.tokenizer && strcmp(r.tokenizer, "chars")) {
		model.role = "tokenizer (chunk sizes)";
		model.name = set.name;
		model.digest = r.tokenizer;
		cf.n_models = 1;
		cf.models = &model;
	}
	cf.moat_version = MOAT_VERSION;
	cf.command_line = cmdtext;
	cf.date = now;
	cf.status = r.what == W_ANNOTATIONS ? (o->statuses ? "as asked (--status)" : "accepted") : NULL;
	cf.raw = o->raw;
	cf.n_synthetic = r.n_synthetic;
	cf.has_audit = 1;
	cf.origin = o->origin;
	cf.n_steps = sl.n_steps;
	cf.steps = sl.steps;
	if (r.left_out && xsnprintf(gap_text, sizeof(gap_text), "%lld %s left out: %s.", (long long)r.left_out,
			 r.what == W_CHUNKS ? "documents' chunks were" : "items were",
			 r.what == W_CHUNKS ? "their text changed since they were cut (run moat chunk again)"
					    : "the format cannot hold them") >= 0)
		gaps[n_gaps++] = gap_text;
	if (r.what != W_ANNOTATIONS)
		gaps[n_gaps++] = "Document metadata (titles, authors) is not exported; documents clean "
				 "dropped or marked as duplicates are not in it.";
	cf.n_gaps = n_gaps;
	cf.gaps = gaps;
	{
		struct buf yaml = BUF_INIT;
		if (r.w && !strcmp(o->format, "hf"))
			rec_writer_hf_yaml(r.w, &yaml);
		if (buf_failed(&yaml)) {
			buf_release(&yaml);
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		rc = card_write(tmp, &cf, yaml.len ? buf_str(&yaml) : NULL, e);
		buf_release(&yaml);
		if (rc < 0)
			goto out;
		rc = -1;
	}

	/* MANIFEST, then the record that covers it */
	if ((res->files = manifest_write(tmp, 0, res->manifest_sha256, e)) < 0)
		goto out;
	test_stop("manifest");
	cj = json_object();
	for (size_t i = 0; cj && i < ratios.n; i++)
		if (json_object_set_new(cj, ratios.name[i], json_integer((json_int_t)counts[i])))
			break;
	if (!cj || !(counts_text = json_dumps(cj, JSON_COMPACT | JSON_SORT_KEYS))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (store_begin(s, e) < 0)
		goto out;
	in_tx = 1;
	if (store_run_begin(s, "export", &run_id, e) < 0)
		goto out;
	{
		json_t *inputs = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:b, s:s, s:I, s:I}", "format",
					   o->format, "what", WHAT[r.what], "chunk_set",
					   r.what == W_CHUNKS ? set.name : NULL, "project",
					   r.what == W_ANNOTATIONS ? (o->project ? o->project : "default") : NULL,
					   "split", o->split ? ratio_text : NULL, "raw", o->raw, "seed",
					   o->seed ? o->seed : "moat", "trail_first", (json_int_t)sl.first,
					   "trail_last", (json_int_t)sl.last);
		json_t *outputs = json_pack("{s:s, s:s, s:I}", "path", abs_out, "manifest_sha256",
					    res->manifest_sha256, "files", (json_int_t)res->files);
		json_t *cnt = json_pack("{s:I, s:O}", "records", (json_int_t)r.n, "splits", cj);
		struct audit_entry a = { (json_t *)o->cmdline, inputs, outputs, cnt, NULL };
		int bad = !inputs || !outputs || !cnt;
		if (bad)
			err_set(e, MOAT_ENOMEM, "out of memory");
		if (!bad && audit_append(s, &a, res->audit_hash, e) < 0)
			bad = 1;
		json_decref(inputs);
		json_decref(outputs);
		json_decref(cnt);
		if (bad)
			goto out;
	}
	if (audit_each(s, -1, 0, last_add, &last, e) != 0)
		goto out;
	res->audit_seq = last.seq;
	if (write_file(tmp, EXPORT_RECORD, last.body.data, last.body.len, e) < 0)
		goto out;
	{
		struct ds_export x = { abs_out, o->format, WHAT[r.what], o->raw, counts_text,
				       res->manifest_sha256, res->audit_seq, res->audit_hash, run_id };
		if (ds_export_add(s, &x, e) < 0 || store_run_end(s, run_id, "done", e) < 0)
			goto out;
		test_stop("record");
		if (store_commit(s, e) < 0)
			goto out;
	}
	test_stop("commit");
	in_tx = 0;
	committed = 1;
	if (rename(tmp, abs_out) < 0) {
		err_set(e, MOAT_EIO, "the export is recorded (audit record %lld) but '%s' cannot be "
			"renamed to '%s': %s", (long long)res->audit_seq, tmp, abs_out, strerror(errno));
		goto out;
	}
	{
		char *parent = fs_dirname(abs_out);
		if (parent)
			(void)fs_sync_dir(parent, NULL);
		free(parent);
	}
	res->path = abs_out;
	abs_out = NULL;
	res->records = r.n - (size_t)(r.what == W_ANNOTATIONS && !annot_format_known(o->format)
				      ? r.left_out : 0);
	res->left_out = r.left_out;
	res->n_splits = ratios.n;
	for (size_t i = 0; i < ratios.n; i++) {
		if (xsnprintf(res->split_names[i], sizeof(res->split_names[i]), "%s", ratios.name[i]) < 0)
			memcpy(res->split_names[i] + sizeof(res->split_names[i]) - 4, "...", 4);
		res->split_counts[i] = counts[i];
	}
	rc = 0;
out:
	if (in_tx)
		store_rollback(s);
	if (rc < 0 && tmp && !committed)
		rm_tree(tmp);
	if (stage)
		rm_tree(stage);
	free(stage);
	free(tmp);
	free(abs_out);
	free(assign);
	free(cmdtext);
	free(counts_text);
	free(fnd);
	json_decref(findings);
	json_decref(cj);
	json_decref(labels_seen);
	rec_writer_free(r.w);
	annot_set_release(&r.as);
	free(r.items);
	free(r.src);
	free(r.labels);
	free(r.label_counts);
	free(sl.steps);
	buf_release(&sl.text);
	buf_release(&last.body);
	strs_free(&r.strs);
	return rc;
}

/* --- export_verify ------------------------------------------------------------------ */

struct vctx {
	struct export_check *c;
	export_problem_fn fn;
	void *ctx;
};

static void problem(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct vctx *v, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	if (xvsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	va_end(ap);
	if (!v->c->problems++)
		memcpy(v->c->first_problem, msg, sizeof(msg));
	v->c->ok = 0;
	if (v->fn)
		v->fn(v->ctx, msg);
}

static void on_manifest_problem(void *ctx, enum manifest_problem p, const char *path)
{
	problem(ctx, "'%s': %s", path, manifest_problem_str(p));
}

static int read_in(const char *dir, const char *rel, struct buf *b, struct moat_err *e)
{
	char *p = fs_join(dir, rel);
	int rc;
	if (!p)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	rc = fs_read_file(p, b, (size_t)1 << 31, e);
	free(p);
	return rc;
}

int export_verify(const char *dir, export_problem_fn fn, void *ctx, struct export_check *c,
		  struct moat_err *e)
{
	struct vctx v = { c, fn, ctx };
	struct manifest_result mr;
	struct moat_err me = MOAT_ERR_INIT, re = MOAT_ERR_INIT;
	struct buf trail = BUF_INIT, rec = BUF_INIT, man = BUF_INIT;
	struct audit_check ac;
	int rc = -1;
	memset(c, 0, sizeof(*c));
	c->ok = 1;
	if (!fs_is_dir(dir))
		return err_set(e, MOAT_ENOTFOUND, "'%s' is not a directory", dir);
	if (manifest_verify(dir, 0, on_manifest_problem, &v, &mr, c->manifest_sha256, &me) < 0) {
		if (me.code == MOAT_ENOMEM)
			return err_set(e, MOAT_ENOMEM, "%s", me.msg);
		if (me.code != MOAT_ECORRUPT)
			problem(&v, "%s", me.msg);
	}
	c->files = mr.files;
	if (read_in(dir, MANIFEST_NAME, &man, &re) == 0 && !strstr(buf_str(&man), "  README.md\n"))
		problem(&v, "MANIFEST does not list README.md (the dataset card)");
	err_clear(&re);
	/* the trail */
	if (read_in(dir, EXPORT_TRAIL, &trail, &re) < 0) {
		problem(&v, "%s: %s", EXPORT_TRAIL, re.msg);
	} else {
		if (audit_verify_slice(trail.data ? trail.data : "", trail.len, NULL, &ac, e) < 0)
			goto out;
		if (!ac.ok)
			problem(&v, "%s: %s", EXPORT_TRAIL, ac.reason);
		c->trail_first = ac.first_seq;
		c->trail_last = ac.first_seq + ac.records - 1;
	}
	err_clear(&re);
	/* the export's own record: follows the trail, covers MANIFEST */
	if (read_in(dir, EXPORT_RECORD, &rec, &re) < 0) {
		problem(&v, "%s: %s", EXPORT_RECORD, re.msg);
	} else {
		struct audit_check rc2;
		json_error_t je;
		json_t *j;
		const char *got;
		size_t n = rec.len;
		while (n && rec.data[n - 1] == '\n')
			n--;
		if (audit_verify_slice(rec.data, n, ac.ok && ac.records ? ac.head : NULL, &rc2, e) < 0)
			goto out;
		if (!rc2.ok)
			problem(&v, "%s: %s", EXPORT_RECORD,
				strstr(rc2.reason, "does not follow") ? "does not follow audit/trail.jsonl"
								      : rc2.reason);
		else if (ac.ok && ac.records && rc2.first_seq != ac.first_seq + ac.records)
			problem(&v, "%s: record %lld does not follow record %lld of audit/trail.jsonl",
				EXPORT_RECORD, (long long)rc2.first_seq,
				(long long)(ac.first_seq + ac.records - 1));
		memcpy(c->record_hash, rc2.head, sizeof(c->record_hash));
		j = json_loadb(rec.data, n, 0, &je);
		got = json_string_value(json_object_get(json_object_get(j, "outputs"), "manifest_sha256"));
		if (!got || strcmp(got, c->manifest_sha256))
			problem(&v, "%s: it covers MANIFEST %s, but MANIFEST's SHA-256 is %s", EXPORT_RECORD,
				got ? got : "(none)", c->manifest_sha256[0] ? c->manifest_sha256 : "(none)");
		json_decref(j);
	}
	rc = 0;
out:
	buf_release(&trail);
	buf_release(&rec);
	buf_release(&man);
	return rc;
}
