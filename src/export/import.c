/*
 * import.c - annotations from other tools into the workspace (import.h).
 */
#define _GNU_SOURCE
#include "import.h"
#include "annot.h"
#include "annot_value.h"
#include "../core/buf.h"
#include "../core/fmt.h"
#include "../core/hash.h"
#include "../ingest/ingest.h"
#include "../store/dataset.h"
#include "../store/store.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "../core/banned.h"

/* The images of a set and the documents ingest made of them. */
struct images {
	char **path;
	char **doc;
	const char *fail;       /* the first image that failed */
	char why[256];
	size_t n;
};

static void on_image(void *ctx, const struct ingest_event *ev)
{
	struct images *im = ctx;
	for (size_t i = 0; i < im->n; i++) {
		if (strcmp(im->path[i], ev->path))
			continue;
		if (ev->outcome == INGEST_FAILED || !ev->doc_id) {
			if (!im->fail) {
				im->fail = im->path[i];
				if (xsnprintf(im->why, sizeof(im->why), "%s",
					      ev->error ? ev->error : "not read") < 0)
					memcpy(im->why + sizeof(im->why) - 4, "...", 4);
			}
		} else if (!im->doc[i]) {
			im->doc[i] = strdup(ev->doc_id);
		}
	}
}

static void images_free(struct images *im)
{
	for (size_t i = 0; i < im->n; i++) {
		free(im->path[i]);
		free(im->doc[i]);
	}
	free(im->path);
	free(im->doc);
}

/* The document ingested for the image at path (any spelling of it), or
 * NULL. */
static const char *image_doc(const struct images *im, const char *path)
{
	char *real = realpath(path, NULL);
	const char *doc = NULL;
	for (size_t i = 0; real && i < im->n && !doc; i++)
		if (!strcmp(im->path[i], real))
			doc = im->doc[i];
	free(real);
	return doc;
}

/* Ingests every image the set names (once each). */
static int ingest_images(struct store *s, const char *file, const struct annot_set *set,
			 struct images *im, char digest[65], struct moat_err *e)
{
	struct ingest_opts io = ingest_default_opts();
	struct ingest_callbacks cb = { on_image, NULL, im };
	struct ingest_summary sum;
	int rc;
	memset(im, 0, sizeof(*im));
	if (!(im->path = calloc(set->n_items + 1, sizeof(char *))) ||
	    !(im->doc = calloc(set->n_items + 1, sizeof(char *))))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	for (size_t i = 0; i < set->n_items; i++) {
		const char *p = set->items[i].image;
		struct stat st;
		/* an image the file names that is not here (a URL, a path on the
		 * annotation tool's server) stays a name: its task has no document */
		char *real;
		if (!p || stat(p, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		/* ingest records a file by its real path: look it up by the same */
		if (!(real = realpath(p, NULL)))
			continue;
		{
			int dup = 0;
			for (size_t k = 0; k < im->n && !dup; k++)
				dup = !strcmp(im->path[k], real);
			if (dup) {
				free(real);
				continue;
			}
		}
		im->path[im->n++] = real;
	}
	if (!im->n)
		return 0;
	io.ocr = INGEST_OCR_NEVER;
	io.jobs = 1;
	memset(&sum, 0, sizeof(sum));
	rc = ingest_run(s, (const char *const *)im->path, im->n, &io, &cb, &sum, e);
	if (rc == 0 && store_run_end(s, sum.run_id, "done", e) < 0)
		rc = -1;
	if (rc == 0)
		memcpy(digest, sum.outputs_digest, 65);
	ingest_summary_release(&sum);
	if (rc < 0)
		return -1;
	if (im->fail)
		return err_set(e, MOAT_EIO, "%s: image '%s' cannot be ingested: %s", file, im->fail,
			       im->why);
	for (size_t i = 0; i < im->n; i++)
		if (!im->doc[i])
			return err_set(e, MOAT_EIO, "%s: image '%s' was not ingested", file, im->path[i]);
	return 0;
}

static int file_digest(const char *path, char out[65], struct moat_err *e)
{
	struct stat st;
	unsigned char d[SHA256_LEN];
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		/* a dataset directory: its path stands for it; the annotation
		 * files' contents are in the tasks */
		sha256_hex_mem(path, strlen(path), out);
		return 0;
	}
	if (sha256_file(path, d, NULL, e) < 0)
		return -1;
	hex_encode(d, SHA256_LEN, out);
	return 0;
}

static int put_item(struct store *s, int64_t project, const struct import_opts *o,
		    const char *file, size_t idx, const struct annot_item *it, const struct images *im,
		    struct import_result *r, struct moat_err *e)
{
	struct ds_task t;
	char source[600], *meta = NULL;
	const char *base = strrchr(file, '/');
	int rc = -1;
	base = base ? base + 1 : file;
	memset(&t, 0, sizeof(t));
	t.seq = -1;
	t.run_id = o->run_id;
	t.kind = it->image ? "image" : "text";
	t.text = it->text;
	t.width = it->width;
	t.height = it->height;
	t.split = it->split;
	t.name = it->id;
	if (it->image) {
		t.image = it->image;
		t.doc_id = image_doc(im, it->image);
	}
	if (xsnprintf(source, sizeof(source), "import:%.500s#%zu", base, idx + 1) < 0)
		source[0] = '\0';
	t.source = source;
	if (it->meta && !(meta = json_dumps(it->meta, JSON_COMPACT | JSON_SORT_KEYS)))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	t.meta = meta;
	if (ds_task_add(s, project, &t, e) < 0)
		goto out;
	r->items++;
	for (size_t k = 0; k < it->n_values; k++) {
		const struct annot_value *v = &it->values[k];
		char *val = annot_value_json(v), *who = NULL;
		int bad;
		if (!val) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		if (v->origin == ANNOT_PREDICTION) {
			struct ds_suggestion g = { 0, val, v->model, NULL, v->score };
			bad = ds_suggestion_add(s, t.id, &g, o->run_id, e) < 0;
			r->suggestions += !bad;
		} else {
			if (v->annotator && *v->annotator ? asprintf(&who, "%s:%s", o->user, v->annotator) < 0
							  : !(who = strdup(o->user))) {
				free(val);
				err_set(e, MOAT_ENOMEM, "out of memory");
				goto out;
			}
			bad = ds_annotation_add(s, t.id, who, val, o->status ? o->status : DS_ACCEPTED,
						o->run_id, e) < 0;
			r->annotations += !bad;
		}
		free(who);
		free(val);
		if (bad)
			goto out;
	}
	rc = 0;
out:
	free(meta);
	return rc;
}

int import_file(struct store *s, const char *path, const struct import_opts *o,
		struct import_result *r, struct moat_err *e)
{
	struct annot_set set = ANNOT_SET_INIT;
	struct images im;
	json_t *labels = NULL;
	int64_t project;
	int rc = -1, image = 0;
	memset(r, 0, sizeof(*r));
	memset(&im, 0, sizeof(im));
	if (file_digest(path, r->sha256, e) < 0)
		return -1;
	if (annot_import(o->format, path, &set, e) < 0)
		return -1;
	for (size_t i = 0; i < set.n_items; i++)
		image |= set.items[i].image != NULL;
	memcpy(r->kind, image ? "image" : "text", image ? 6 : 5);
	if (ingest_images(s, path, &set, &im, r->images_sha256, e) < 0)
		goto out;
	r->images = im.n;
	if (!(labels = json_array())) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < set.n_labels; i++)
		if (json_array_append_new(labels, json_string(set.labels[i]))) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
	if (store_begin(s, e) < 0)
		goto out;
	if (ds_project_open(s, o->project ? o->project : "default", r->kind, labels, &project, e) < 0)
		goto rollback;
	for (size_t i = 0; i < set.n_items; i++)
		if (put_item(s, project, o, path, i, &set.items[i], &im, r, e) < 0)
			goto rollback;
	if (store_commit(s, e) < 0)
		goto rollback;
	rc = 0;
	goto out;
rollback:
	store_rollback(s);
	r->items = r->annotations = r->suggestions = 0;
out:
	json_decref(labels);
	images_free(&im);
	annot_set_release(&set);
	return rc;
}
