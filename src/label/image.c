/*
 * image.c - the picture of an image or page task (label.h:
 * label_task_image): what the annotation page draws boxes on and what a
 * vision model is shown for box suggestions, so that both see the same
 * pixels.  PNG and JPEG files go as they are; anything else is drawn as
 * PNG by ingest_render_png() in the sandbox (a hostile file meets the same
 * walls as at ingest).
 */
#include "label.h"
#include "../ingest/ingest.h"
#include "../store/store.h"
#include "../store/label.h"
#include "../core/fmt.h"
#include "../core/fs.h"

#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

#define IMAGE_FILE_MAX ((size_t)512 << 20)

int label_task_image(struct store *s, const char *project, int64_t task, struct buf *out,
		     char mime[32], int *w, int *h, struct moat_err *e)
{
	struct lb_project p;
	json_t *t;
	const char *kind, *doc;
	char type[64] = "";
	char *path = NULL;
	struct buf file = BUF_INIT;
	int rc = -1, page;
	if (lb_project_get(s, project, &p, e) < 0)
		return -1;
	t = lb_task(s, p.id, task, e);
	lb_project_release(&p);
	if (!t)
		return -1;
	kind = json_string_value(json_object_get(t, "kind"));
	doc = json_string_value(json_object_get(t, "doc_id"));
	page = (int)json_integer_value(json_object_get(t, "seq"));
	if (!kind || (strcmp(kind, "image") && strcmp(kind, "page")) || !doc) {
		err_set(e, MOAT_EUSAGE, "task %lld is %s, not an image or a page", (long long)task,
			kind ? kind : "without a kind");
		goto out;
	}
	if (!strcmp(kind, "image") && lb_doc_mime(s, doc, type, e) < 0)
		goto out;
	if (!(path = store_object_path(store_dir(s), doc))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (fs_read_file(path, &file, IMAGE_FILE_MAX, e) < 0)
		goto out;
	if (!strcmp(kind, "image") && (!strcmp(type, "image/png") || !strcmp(type, "image/jpeg")) &&
	    json_integer_value(json_object_get(t, "width")) > 0) {
		buf_add(out, file.data, file.len);
		if (xsnprintf(mime, 32, "%s", type) < 0)
			mime[0] = '\0';  /* cannot happen: one of the two above */
		*w = (int)json_integer_value(json_object_get(t, "width"));
		*h = (int)json_integer_value(json_object_get(t, "height"));
		rc = buf_failed(out) ? err_set(e, MOAT_ENOMEM, "out of memory") : 0;
		goto out;
	}
	if (ingest_render_png((const unsigned char *)file.data, file.len,
			      !strcmp(kind, "page") ? page : 1, LABEL_PAGE_DPI, NULL, out, w, h, e) < 0) {
		char why[sizeof(e->msg)];
		memcpy(why, e->msg, sizeof(why));
		err_set(e, e->code, "task %lld (%s): %s", (long long)task,
			json_string_value(json_object_get(t, "name")) ?
			json_string_value(json_object_get(t, "name")) : doc, why);
		goto out;
	}
	memcpy(mime, "image/png", sizeof("image/png"));
	rc = 0;
out:
	buf_release(&file);
	free(path);
	json_decref(t);
	return rc;
}
