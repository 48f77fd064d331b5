/*
 * work.c - the annotator's and the reviewer's actions (label.h): the next
 * task, a task with its annotations and suggestions, pages of tasks, saving
 * an annotation, rejecting a suggestion, the review queue and decisions.
 * Each change commits with its own audit record naming the person.
 */
#include "label.h"
#include "../store/store.h"
#include "../store/audit.h"
#include "../store/label.h"
#include "../core/fmt.h"
#include "../core/hash.h"
#include "../core/utf8.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/banned.h"

/* UTC "YYYY-MM-DDTHH:MM:SS.000Z" at now + secs, the form the tables hold
 * (store_utc_now with 3 decimals), so text comparison orders them. */
static void utc_at(char out[40], long secs)
{
	time_t t = time(NULL) + secs;
	struct tm tm;
	gmtime_r(&t, &tm);
	if (!strftime(out, 40, "%Y-%m-%dT%H:%M:%S.000Z", &tm))
		out[0] = '\0';
}

/* One audit record for a person's change, inside the open transaction. */
static int audit_change(struct store *s, const char *user, const char *action,
			const char *project, json_t *outputs, struct moat_err *e)
{
	json_t *argv = json_pack("[s, s, s]", "label", action, project);
	struct audit_entry a = { argv, NULL, outputs, NULL, user };
	int rc;
	if (!argv)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	rc = audit_append(s, &a, NULL, e);
	json_decref(argv);
	return rc;
}

static json_t *task_with(struct store *s, int64_t project, int64_t task, const char *user, int all,
			 struct moat_err *e)
{
	json_t *t = lb_task(s, project, task, e), *anns = NULL, *sugs = NULL;
	if (!t)
		return NULL;
	if (!(anns = lb_annotations(s, task, all ? NULL : user, e)) || !(sugs = lb_suggestions(s, task, e)) ||
	    json_object_set_new(t, "annotations", anns) < 0 ||
	    json_object_set_new(t, "suggestions", sugs) < 0) {
		if (!e || !e->code)
			err_set(e, MOAT_ENOMEM, "out of memory");
		json_decref(t);
		return NULL;
	}
	return t;
}

static int project_id(struct store *s, const char *project, int64_t *id, int *overlap,
		      struct moat_err *e)
{
	struct lb_project p;
	if (lb_project_get(s, project, &p, e) < 0)
		return -1;
	*id = p.id;
	if (overlap)
		*overlap = p.overlap;
	lb_project_release(&p);
	return 0;
}

json_t *label_task(struct store *s, const char *project, int64_t task, const char *user, int all,
		   struct moat_err *e)
{
	int64_t pid;
	if (project_id(s, project, &pid, NULL, e) < 0)
		return NULL;
	return task_with(s, pid, task, user, all, e);
}

json_t *label_next(struct store *s, const char *project, const char *user, int64_t after,
		   struct moat_err *e)
{
	int64_t pid, id;
	int overlap;
	char now[40], until[40];
	if (project_id(s, project, &pid, &overlap, e) < 0)
		return NULL;
	utc_at(now, 0);
	utc_at(until, LABEL_LEASE_S);
	if (store_begin(s, e) < 0)
		return NULL;
	if ((id = lb_next(s, pid, overlap, user, after, now, until, e)) < 0 || store_commit(s, e) < 0) {
		store_rollback(s);
		return NULL;
	}
	if (!id)
		return json_null();
	return task_with(s, pid, id, user, 0, e);
}

json_t *label_tasks(struct store *s, const char *project, const char *filter, const char *user,
		    int64_t after, int limit, struct moat_err *e)
{
	int64_t pid;
	if (limit <= 0 || limit > 500)
		return err_set(e, MOAT_EUSAGE, "limit %d: give 1 to 500", limit), NULL;
	if (project_id(s, project, &pid, NULL, e) < 0)
		return NULL;
	return lb_tasks(s, pid, filter ? filter : "all", user, after, limit, e);
}

/* Checks value against the project's schema and the task; its compact text. */
static char *checked_value(struct store *s, const char *project, int64_t pid, int64_t task,
			   const json_t *value, struct moat_err *e)
{
	struct label_schema *sc = label_project_schema(s, project, NULL, e);
	size_t cp;
	int w, h;
	char *text = NULL;
	if (!sc)
		return NULL;
	if (lb_task_dims(s, pid, task, &cp, &w, &h, e) == 0 &&
	    label_value_check(sc, value, cp, w, h, e) == 0 &&
	    !(text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS)))
		err_set(e, MOAT_ENOMEM, "out of memory");
	label_schema_free(sc);
	return text;
}

static json_t *change_outputs(int64_t task, int64_t annotation, const char *value,
			      const char *status, int64_t suggestion)
{
	char sha[65];
	json_t *o;
	sha256_hex_mem(value ? value : "", value ? strlen(value) : 0, sha);
	o = json_pack("{s:I, s:I, s:s}", "task", (json_int_t)task, "annotation", (json_int_t)annotation,
		      "status", status);
	if (o && value)
		json_object_set_new(o, "value_sha256", json_string(sha));
	if (o && suggestion > 0)
		json_object_set_new(o, "suggestion", json_integer(suggestion));
	return o;
}

/* 1 when value is the suggestion's own (accepted as it was), 0 when the
 * annotator changed it (or it is not the task's: lb_suggestion_decide says). */
static int same_as_suggestion(struct store *s, int64_t task, int64_t suggestion,
			      const json_t *value)
{
	struct moat_err ignored = MOAT_ERR_INIT;
	json_t *all = lb_suggestions(s, task, &ignored), *g;
	size_t i;
	int same = 0;
	json_array_foreach(all, i, g)
		if (json_integer_value(json_object_get(g, "id")) == suggestion)
			same = json_equal(json_object_get(g, "value"), (json_t *)value);
	json_decref(all);
	return same;
}

int label_save(struct store *s, const char *project, int64_t task, const char *user,
	       const json_t *value, const char *status, int64_t suggestion, int64_t *id,
	       struct moat_err *e)
{
	int64_t pid, aid = 0;
	int overlap;
	char *text;
	json_t *out;
	if (!status || (strcmp(status, "draft") && strcmp(status, "submitted")))
		return err_set(e, MOAT_EUSAGE, "status '%.20s': give draft or submitted",
			       status ? status : "");
	if (project_id(s, project, &pid, &overlap, e) < 0)
		return -1;
	if (!(text = checked_value(s, project, pid, task, value, e)))
		return -1;
	if (store_begin(s, e) < 0) {
		free(text);
		return -1;
	}
	if (suggestion > 0 && lb_suggestion_decide(s, pid, suggestion,
						   same_as_suggestion(s, task, suggestion, value) ?
						   "accepted" : "edited", e) < 0)
		goto fail;
	if (lb_annotation_save(s, task, overlap, user, text, status, suggestion, 0, &aid, e) < 0)
		goto fail;
	if (!(out = change_outputs(task, aid, text, status, suggestion))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	if (audit_change(s, user, "annotate", project, out, e) < 0) {
		json_decref(out);
		goto fail;
	}
	json_decref(out);
	if (store_commit(s, e) < 0)
		goto fail;
	free(text);
	if (id)
		*id = aid;
	return 0;
fail:
	store_rollback(s);
	free(text);
	return -1;
}

int label_suggestion_reject(struct store *s, const char *project, int64_t suggestion,
			    const char *user, struct moat_err *e)
{
	int64_t pid, task;
	json_t *out;
	if (project_id(s, project, &pid, NULL, e) < 0 || store_begin(s, e) < 0)
		return -1;
	if ((task = lb_suggestion_decide(s, pid, suggestion, "rejected", e)) < 0)
		goto fail;
	if (!(out = json_pack("{s:I, s:I, s:s}", "task", (json_int_t)task, "suggestion",
			      (json_int_t)suggestion, "decision", "rejected"))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	if (audit_change(s, user, "suggestion", project, out, e) < 0) {
		json_decref(out);
		goto fail;
	}
	json_decref(out);
	if (store_commit(s, e) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(s);
	return -1;
}

json_t *label_review_queue(struct store *s, const char *project, int64_t after, int limit,
			   struct moat_err *e)
{
	int64_t pid;
	json_t *ids, *tasks, *t, *out;
	size_t i;
	if (limit <= 0 || limit > 200)
		return err_set(e, MOAT_EUSAGE, "limit %d: give 1 to 200", limit), NULL;
	if (project_id(s, project, &pid, NULL, e) < 0 || !(ids = lb_review_tasks(s, pid, after, limit, e)))
		return NULL;
	if (!(tasks = json_array())) {
		json_decref(ids);
		return err_set(e, MOAT_ENOMEM, "out of memory"), NULL;
	}
	json_array_foreach(ids, i, t) {
		json_t *full = task_with(s, pid, json_integer_value(json_object_get(t, "id")), NULL, 1, e);
		if (!full || json_array_append_new(tasks, full) < 0) {
			json_decref(ids);
			json_decref(tasks);
			return NULL;
		}
	}
	out = json_pack("{s:o, s:o}", "tasks", tasks, "next",
			json_array_size(ids) == (size_t)limit ?
			json_incref(json_object_get(json_array_get(ids, json_array_size(ids) - 1), "id")) :
			json_null());
	json_decref(ids);
	if (!out)
		err_set(e, MOAT_ENOMEM, "out of memory");
	return out;
}

int label_review(struct store *s, const char *project, int64_t annotation, const char *reviewer,
		 enum label_decision d, const json_t *value, struct moat_err *e)
{
	int64_t pid, task, cid = 0;
	int overlap;
	json_t *a, *out = NULL;
	const char *status;
	char *text = NULL;
	if (project_id(s, project, &pid, &overlap, e) < 0 || !(a = lb_annotation(s, pid, annotation, e)))
		return -1;
	task = json_integer_value(json_object_get(a, "task_id"));
	status = json_string_value(json_object_get(a, "status"));
	if (status && !strcmp(status, "draft")) {
		json_decref(a);
		return err_set(e, MOAT_EUSAGE, "annotation %lld is a draft: its annotator has not "
			       "submitted it", (long long)annotation);
	}
	if (!json_is_null(json_object_get(a, "corrects"))) {
		json_decref(a);
		return err_set(e, MOAT_EUSAGE, "annotation %lld is a reviewer's correction: review "
			       "the annotation it corrects", (long long)annotation);
	}
	json_decref(a);
	if (d == LABEL_CORRECT && !(text = checked_value(s, project, pid, task, value, e)))
		return -1;
	if (store_begin(s, e) < 0) {
		free(text);
		return -1;
	}
	if (lb_annotation_decide(s, annotation, d == LABEL_ACCEPT ? "accepted" : "rejected", reviewer,
				 e) < 0)
		goto fail;
	if (d == LABEL_CORRECT && lb_annotation_correct(s, task, annotation, reviewer, text, &cid, e) < 0)
		goto fail;
	if (!(out = change_outputs(task, annotation, text,
				   d == LABEL_ACCEPT ? "accepted" : d == LABEL_REJECT ? "rejected"
									 : "corrected", 0))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	if (cid)
		json_object_set_new(out, "correction", json_integer(cid));
	if (audit_change(s, reviewer, "review", project, out, e) < 0)
		goto fail;
	json_decref(out);
	if (store_commit(s, e) < 0) {
		out = NULL;
		goto fail;
	}
	free(text);
	return 0;
fail:
	json_decref(out);
	store_rollback(s);
	free(text);
	return -1;
}
