/*
 * api_label.c - the label stage's endpoints: projects, tasks, the next task,
 * annotations, suggestions, review, stats, suggestion runs in the
 * background, and the prompt preview.  Each checks its input and calls the
 * label library (src/label/label.h) with the logged-in user's name (the
 * library audits with it); roles were checked before (server.c).
 */
#define _GNU_SOURCE
#include "web_int.h"
#include "../core/alloc.h"
#include "../core/hash.h"
#include "../label/label.h"
#include "../llm/llm.h"
#include "../store/audit.h"
#include "../store/store.h"

#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

#define PAGE_DEFAULT 50
#define REVIEW_PAGE_MAX 200   /* label_review_queue's own limit */
#define PAGE_MAX 500
#define MODEL_URI_MAX 1024
#define TEMPLATE_MAX (256 * 1024)

static const char *project(struct web_req *r)
{
	return r->seg[1];
}

/* r->out = {key: j} (j taken); the status, or 500 with the error. */
static int wrap(struct web_req *r, const char *key, json_t *j, const struct moat_err *e)
{
	if (!j)
		return web_moat_err(r, e);
	r->out = json_pack("{s:o}", key, j);
	return 200;
}

static int done(struct web_req *r, json_t *j, const struct moat_err *e)
{
	if (!j)
		return web_moat_err(r, e);
	r->out = j;
	return 200;
}

static int projects_get(struct web_req *r)
{
	struct moat_err e = MOAT_ERR_INIT;
	return wrap(r, "projects", label_projects(r->st, &e), &e);
}

static int project_get(struct web_req *r)
{
	struct moat_err e = MOAT_ERR_INIT;
	return done(r, label_project(r->st, project(r), &e), &e);
}

static int tasks_get(struct web_req *r)
{
	static const char *const filters[] = { "all", "todo", "done", "review", "mine", NULL };
	struct moat_err e = MOAT_ERR_INIT;
	char fbuf[16];
	const char *filter;
	int64_t after, limit;
	int rc, bad, known = 0;
	filter = web_query(r, "filter", fbuf, sizeof(fbuf), &bad);
	if (bad)
		return web_err(r, 400, "parameter 'filter': all, todo, done, review or mine");
	if (!filter)
		filter = "all";
	for (size_t i = 0; filters[i]; i++)
		known |= !strcmp(filter, filters[i]);
	if (!known)
		return web_err(r, 400, "parameter 'filter': all, todo, done, review or mine");
	if ((rc = web_query_int(r, "after", 0, 0, INT64_MAX, &after)) ||
	    (rc = web_query_int(r, "limit", PAGE_DEFAULT, 1, PAGE_MAX, &limit)))
		return rc;
	return done(r, label_tasks(r->st, project(r), filter, r->sess.name, after, (int)limit, &e), &e);
}

static int next_get(struct web_req *r)
{
	struct moat_err e = MOAT_ERR_INIT;
	int64_t after;
	int rc;
	if ((rc = web_query_int(r, "after", 0, 0, INT64_MAX, &after)))
		return rc;
	return wrap(r, "task", label_next(r->st, project(r), r->sess.name, after, &e), &e);
}

static int task_get(struct web_req *r)
{
	struct moat_err e = MOAT_ERR_INIT;
	return done(r, label_task(r->st, project(r), web_seg_id(r, 3), r->sess.name,
				  r->sess.role >= USER_REVIEWER, &e), &e);
}

/* The task's picture (label_task_image): what boxes are drawn on. */
static int image_get(struct web_req *r)
{
	struct moat_err e = MOAT_ERR_INIT;
	int w, h;
	if (label_task_image(r->st, project(r), web_seg_id(r, 3), &r->bytes, r->bytes_type, &w, &h,
			     &e) < 0) {
		r->bytes_type[0] = '\0';
		return web_moat_err(r, &e);
	}
	return 200;
}

static int annotation_put(struct web_req *r)
{
	struct moat_err e = MOAT_ERR_INIT;
	const char *status;
	json_t *value;
	int64_t suggestion, id = 0;
	int rc;
	if ((rc = web_body_only(r, "value", "status", "suggestion", NULL)) ||
	    (rc = web_body_str(r, "status", 0, 16, &status)) ||
	    (rc = web_body_int(r, "suggestion", 0, 1, INT64_MAX, 0, &suggestion)))
		return rc;
	value = json_object_get(r->json, "value");
	if (!json_is_object(value))
		return web_err(r, 400, "field 'value': required, an object");
	if (!status)
		status = "submitted";
	if (strcmp(status, "draft") && strcmp(status, "submitted"))
		return web_err(r, 400, "field 'status': draft or submitted");
	if (label_save(r->st, project(r), web_seg_id(r, 3), r->sess.name, value, status, suggestion,
		       &id, &e) < 0)
		return web_moat_err(r, &e);
	r->out = json_pack("{s:I, s:s}", "id", (json_int_t)id, "status", status);
	return 200;
}

static int suggestion_reject(struct web_req *r)
{
	struct moat_err e = MOAT_ERR_INIT;
	int64_t id = web_seg_id(r, 3);
	if (r->body_len && web_body_only(r, NULL))
		return 400;
	if (label_suggestion_reject(r->st, project(r), id, r->sess.name, &e) < 0)
		return web_moat_err(r, &e);
	r->out = json_pack("{s:I}", "rejected", (json_int_t)id);
	return 200;
}

static int review_get(struct web_req *r)
{
	struct moat_err e = MOAT_ERR_INIT;
	int64_t after, limit;
	int rc;
	/* a review page holds whole tasks with everyone's annotations: 200 at most */
	if ((rc = web_query_int(r, "after", 0, 0, INT64_MAX, &after)) ||
	    (rc = web_query_int(r, "limit", PAGE_DEFAULT, 1, REVIEW_PAGE_MAX, &limit)))
		return rc;
	return done(r, label_review_queue(r->st, project(r), after, (int)limit, &e), &e);
}

static int review_post(struct web_req *r)
{
	struct moat_err e = MOAT_ERR_INIT;
	const char *decision;
	json_t *value;
	enum label_decision d;
	int64_t id = web_seg_id(r, 3);
	int rc;
	if ((rc = web_body_only(r, "decision", "value", NULL)) ||
	    (rc = web_body_str(r, "decision", 1, 16, &decision)))
		return rc;
	value = json_object_get(r->json, "value");
	if (!strcmp(decision, "accept"))
		d = LABEL_ACCEPT;
	else if (!strcmp(decision, "reject"))
		d = LABEL_REJECT;
	else if (!strcmp(decision, "correct"))
		d = LABEL_CORRECT;
	else
		return web_err(r, 400, "field 'decision': accept, reject or correct");
	if (d == LABEL_CORRECT && !json_is_object(value))
		return web_err(r, 400, "field 'value': required to correct, an object");
	if (d != LABEL_CORRECT && value)
		return web_err(r, 400, "field 'value': only with the decision correct");
	if (label_review(r->st, project(r), id, r->sess.name, d, value, &e) < 0)
		return web_moat_err(r, &e);
	r->out = json_pack("{s:I, s:s}", "annotation", (json_int_t)id, "decision", decision);
	return 200;
}

static int stats_get(struct web_req *r)
{
	struct moat_err e = MOAT_ERR_INIT;
	return done(r, label_stats(r->st, project(r), &e), &e);
}

/* --- suggestion runs ------------------------------------------------------ */

struct web_run {
	struct web_run *next;
	struct web *w;
	struct store *st;
	pthread_t th;
	int64_t id;
	int64_t limit;
	char project[WEB_NAME_MAX + 1];
	char model[MODEL_URI_MAX + 1];
	char *template_text;  /* the prompt template given, or NULL */
};

static void run_free(struct web_run *run)
{
	if (run)
		free(run->template_text);
	free(run);
}


static void *run_main(void *arg)
{
	struct web_run *run = arg;
	struct label_suggest_opts o;
	struct label_suggest_result res;
	struct moat_err e = MOAT_ERR_INIT, e2 = MOAT_ERR_INIT;
	const char *status;
	int rc;
	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	o.model = run->model;
	o.jobs = 1;
	o.limit = run->limit;
	o.seed = -1;
	o.cancel = &run->w->stop;
	o.suggest_run = run->id;
	o.template_text = run->template_text;
	rc = label_suggest(run->st, run->project, &o, &res, &e);
	status = run->w->stop ? "cancelled" : rc < 0 ? "failed" : "done";
	if (label_suggest_run_end(run->st, run->id, status,
				  rc < 0 ? e.msg : res.first_error[0] ? res.first_error : NULL, &e2) < 0)
		web_log(run->w, "suggestion run %lld: cannot record its end: %s", (long long)run->id,
			e2.msg);
	web_log(run->w, "suggestion run %lld on '%s' with %s: %s (%lld done, %lld failed)%s%s",
		(long long)run->id, run->project, run->model, status, (long long)res.done,
		(long long)res.failed, rc < 0 ? ": " : "", rc < 0 ? e.msg : "");
	web_store_give(run->w, run->st);
	run->st = NULL;
	return NULL;
}

void web_runs_join(struct web *w)
{
	struct web_run *run = w->runs;
	while (run) {
		struct web_run *next = run->next;
		pthread_join(run->th, NULL);
		run_free(run);
		run = next;
	}
	w->runs = NULL;
}

/* 0 when tpl names only fields a prompt knows, else 400 saying which. */
static int template_check(struct web_req *r, const char *tpl)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct label_schema *sc = label_project_schema(r->st, project(r), NULL, &e);
	int rc = sc && label_template_check(sc, tpl, &e) == 0 ? 0 : web_moat_err(r, &e);
	label_schema_free(sc);
	return rc;
}

static int suggest_post(struct web_req *r)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct llm_uri u;
	struct web_run *run;
	const char *model, *tpl;
	int64_t limit;
	int rc;
	if ((rc = web_body_only(r, "model", "limit", "template", NULL)) ||
	    (rc = web_body_str(r, "model", 1, MODEL_URI_MAX, &model)) ||
	    (rc = web_body_int(r, "limit", 0, 0, INT64_MAX, 0, &limit)) ||
	    (rc = web_body_str(r, "template", 0, TEMPLATE_MAX, &tpl)))
		return rc;
	if (llm_uri_parse(model, &u, &e) < 0)
		return web_err(r, 400, "field 'model': %s", e.msg);
	llm_uri_release(&u);
	if (tpl && (rc = template_check(r, tpl)))
		return rc;
	if (!(run = calloc(1, sizeof(*run))) || (tpl && !(run->template_text = strdup(tpl)))) {
		run_free(run);
		return web_err(r, 500, "out of memory");
	}
	if (!(run->st = web_store_take(r->w))) {
		run_free(run);
		return web_err(r, 503, "%d suggestion runs are running: wait for one to end",
			       WEB_RUN_SLOTS);
	}
	run->w = r->w;
	run->limit = limit;
	memcpy(run->project, project(r), strlen(project(r)) + 1);
	memcpy(run->model, model, strlen(model) + 1);
	if ((run->id = label_suggest_run_new(r->st, project(r), model, r->sess.name, &e)) < 0) {
		web_store_give(r->w, run->st);
		run_free(run);
		return web_moat_err(r, &e);
	}
	{
		json_t *argv = web_cmdline(r);
		json_t *out = json_pack("{s:s, s:s, s:I, s:I}", "project", run->project, "model", model,
					"suggest_run", (json_int_t)run->id, "limit", (json_int_t)limit);
		struct audit_entry a = { argv, NULL, out, NULL, r->sess.name };
		if (out && tpl) {  /* the template's digest, as a suggestion's provenance keeps it */
			char sha[65];
			sha256_hex_mem(tpl, strlen(tpl), sha);
			json_object_set_new(out, "template_sha256", json_string(sha));
		}
		if (!argv || !out || audit_append(r->st, &a, NULL, &e) < 0)
			web_log(r->w, "suggestion run %lld: cannot append its audit record: %s",
				(long long)run->id, e.msg[0] ? e.msg : "out of memory");
		json_decref(argv);
		json_decref(out);
	}
	pthread_mutex_lock(&r->w->lock);
	if (pthread_create(&run->th, NULL, run_main, run) != 0) {
		pthread_mutex_unlock(&r->w->lock);
		if (label_suggest_run_end(r->st, run->id, "failed", "cannot start a thread", &e) < 0)
			web_log(r->w, "%s", e.msg);
		web_store_give(r->w, run->st);
		run_free(run);
		return web_err(r, 503, "cannot start a thread for the run");
	}
	run->next = r->w->runs;
	r->w->runs = run;
	pthread_mutex_unlock(&r->w->lock);
	r->out = json_pack("{s:I}", "run", (json_int_t)run->id);
	return 202;
}

static int suggest_get(struct web_req *r)
{
	struct moat_err e = MOAT_ERR_INIT;
	return wrap(r, "runs", label_suggest_runs(r->st, project(r), &e), &e);
}

/* --- the prompt preview -------------------------------------------------------- */

static int preview_post(struct web_req *r)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct label_schema *sc = NULL;
	const char *tmpl, *model;
	json_t *task = NULL;
	char *prompt = NULL;
	int64_t task_id, pid;
	int rc;
	if ((rc = web_body_only(r, "template", "task", "model", NULL)) ||
	    (rc = web_body_str(r, "template", 0, TEMPLATE_MAX, &tmpl)) ||
	    (rc = web_body_int(r, "task", 1, 1, INT64_MAX, 0, &task_id)) ||
	    (rc = web_body_str(r, "model", 0, MODEL_URI_MAX, &model)))
		return rc;
	if (!(sc = label_project_schema(r->st, project(r), &pid, &e)))
		return web_moat_err(r, &e);
	if (!(task = label_task(r->st, project(r), task_id, r->sess.name, 0, &e)) ||
	    !(prompt = label_render_prompt(sc, tmpl, task, &e))) {
		rc = web_moat_err(r, &e);
		goto out;
	}
	r->out = json_pack("{s:s}", "prompt", prompt);
	rc = 200;
	if (model && r->out) {
		struct llm_config cfg = llm_config_default();
		struct llm_request q;
		struct llm_result res;
		struct llm *m;
		cfg.deadline_ms = 120000;
		memset(&q, 0, sizeof(q));
		memset(&res, 0, sizeof(res));
		q.prompt = prompt;
		q.template_text = tmpl ? tmpl : sc->prompt;
		q.opt = llm_options_default();
		q.opt.max_tokens = 512;
		q.opt.temperature = 0;
		q.cancel = &r->w->stop;
		if (!(m = llm_open(model, &cfg, &e)) || llm_generate(m, &q, &res, &e) < 0) {
			rc = web_moat_err(r, &e);
		} else if (json_object_set_new(r->out, "answer", json_string(res.text ? res.text : "")) ||
			   json_object_set(r->out, "provenance", res.provenance ? res.provenance : json_null())) {
			rc = web_err(r, 500, "out of memory");
		}
		llm_result_release(&res);
		llm_free(m);
	}
out:
	free(prompt);
	json_decref(task);
	label_schema_free(sc);
	return rc;
}

const struct web_route web_label_routes[] = {
	{ "GET", "projects", WEB_ANNOTATOR, projects_get, WEB_WRITES_BY_METHOD },
	{ "GET", "projects/{project}", WEB_ANNOTATOR, project_get, WEB_WRITES_BY_METHOD },
	{ "GET", "projects/{project}/tasks", WEB_ANNOTATOR, tasks_get, WEB_WRITES_BY_METHOD },
	{ "GET", "projects/{project}/next", WEB_ANNOTATOR, next_get, WEB_WRITES },
	{ "GET", "projects/{project}/tasks/{id}", WEB_ANNOTATOR, task_get, WEB_WRITES_BY_METHOD },
	{ "GET", "projects/{project}/tasks/{id}/image", WEB_ANNOTATOR, image_get, WEB_WRITES_BY_METHOD },
	{ "PUT", "projects/{project}/tasks/{id}/annotation", WEB_ANNOTATOR, annotation_put, WEB_WRITES_BY_METHOD },
	{ "POST", "projects/{project}/suggestions/{id}/reject", WEB_ANNOTATOR, suggestion_reject, WEB_WRITES_BY_METHOD },
	{ "GET", "projects/{project}/review", WEB_REVIEWER, review_get, WEB_WRITES_BY_METHOD },
	{ "POST", "projects/{project}/annotations/{id}/review", WEB_REVIEWER, review_post, WEB_WRITES_BY_METHOD },
	{ "GET", "projects/{project}/stats", WEB_REVIEWER, stats_get, WEB_WRITES_BY_METHOD },
	{ "POST", "projects/{project}/suggest", WEB_ADMIN, suggest_post, WEB_WRITES_BY_METHOD },
	{ "GET", "projects/{project}/suggest", WEB_ADMIN, suggest_get, WEB_WRITES_BY_METHOD },
	{ "POST", "projects/{project}/preview", WEB_ADMIN, preview_post, WEB_WRITES_NOT },
	{ NULL, NULL, 0, NULL, 0 },
};
