/*
 * label.c (store) - the label stage's SQL (label.h).  Queries bind their
 * values through a small format ("i" int64, "n" an id or NULL when not > 0,
 * "m" a count or NULL when negative,
 * "s" text or NULL, "d" double)
 * and turn rows into JSON objects through a column list ("id:i,name:s,
 * value:j"; types i int64, s text, f double, j JSON text, b 0/1 as bool),
 * so each query is written once, beside the shape it returns.
 */
#include "label.h"
#include "store_int.h"
#include "../core/fmt.h"
#include "../core/utf8.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

/* Binds the values in ap as fmt says, from parameter 1. */
static void bind_v(struct db_stmt *st, const char *fmt, va_list ap)
{
	for (int i = 0; fmt && fmt[i]; i++) {
		if (fmt[i] == 'i') {
			db_bind_int64(st, i + 1, va_arg(ap, int64_t));
		} else if (fmt[i] == 'm') {  /* a count, NULL when negative */
			int64_t v = va_arg(ap, int64_t);
			if (v >= 0)
				db_bind_int64(st, i + 1, v);
			else
				db_bind_null(st, i + 1);
		} else if (fmt[i] == 'n') {  /* an id, NULL when not > 0 */
			int64_t v = va_arg(ap, int64_t);
			if (v > 0)
				db_bind_int64(st, i + 1, v);
			else
				db_bind_null(st, i + 1);
		} else if (fmt[i] == 'd') {
			db_bind_double(st, i + 1, va_arg(ap, double));
		} else {
			const char *v = va_arg(ap, const char *);
			if (v)
				db_bind_text(st, i + 1, v, -1, DB_COPY);
			else
				db_bind_null(st, i + 1);
		}
	}
}

/* The current row as an object by cols ("name:t,..."); NULL out of memory. */
static json_t *row_obj(struct db_stmt *st, const char *cols)
{
	json_t *o = json_object();
	int c = 0;
	for (const char *p = cols; o && *p; c++) {
		const char *colon = strchr(p, ':');
		char name[48];
		size_t n;
		json_t *v;
		if (!colon || (size_t)(colon - p) >= sizeof(name))
			break;
		n = (size_t)(colon - p);
		memcpy(name, p, n);
		name[n] = '\0';
		if (db_column_is_null(st, c)) {
			v = json_null();
		} else {
			switch (colon[1]) {
			case 'i': v = json_integer(db_column_int64(st, c)); break;
			case 'f': v = json_real(db_column_double(st, c)); break;
			case 'b': v = json_boolean(db_column_int64(st, c) != 0); break;
			case 'j': {
				const char *t = (const char *)db_column_text(st, c);
				v = json_loads(t ? t : "null", JSON_DECODE_ANY, NULL);
				if (!v)
					v = json_string(t ? t : "");
				break;
			}
			default: {
				const char *t = (const char *)db_column_text(st, c);
				v = json_string(t ? t : "");
				if (!v)  /* not UTF-8: a lossy copy, never a missing field */
					v = json_stringn_nocheck(t ? t : "", strlen(t ? t : ""));
			}
			}
		}
		if (!v || json_object_set_new(o, name, v) < 0) {
			json_decref(o);
			return NULL;
		}
		p = colon + 2;
		if (*p == ',')
			p++;
	}
	return o;
}

/* Every row of sql as an array of objects. */
static json_t *q_rows(struct store *s, struct moat_err *e, const char *what, const char *cols,
		      const char *sql, const char *fmt, ...)
{
	struct db_stmt *st = store_prep(s, sql, e);
	json_t *out = json_array();
	va_list ap;
	int rc, nomem = !out;
	if (!st) {
		json_decref(out);
		return NULL;
	}
	va_start(ap, fmt);
	bind_v(st, fmt, ap);
	va_end(ap);
	while (!nomem && (rc = db_step(st)) == DB_ROW) {
		json_t *o = row_obj(st, cols);
		nomem = !o || json_array_append_new(out, o) < 0;
	}
	db_finalize(st);
	if (store_rows_end(s, nomem ? DB_ERROR : rc, nomem, what, e) < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* The first row of sql as an object; NULL with MOAT_ENOTFOUND (message
 * notfound) when there is none. */
static json_t *q_one(struct store *s, struct moat_err *e, const char *what, const char *notfound,
		     const char *cols, const char *sql, const char *fmt, ...)
{
	struct db_stmt *st = store_prep(s, sql, e);
	json_t *o = NULL;
	va_list ap;
	int rc;
	if (!st)
		return NULL;
	va_start(ap, fmt);
	bind_v(st, fmt, ap);
	va_end(ap);
	rc = db_step(st);
	if (rc == DB_ROW) {
		if (!(o = row_obj(st, cols)))
			err_set(e, MOAT_ENOMEM, "%s: out of memory", what);
	} else if (rc == DB_DONE) {
		err_set(e, MOAT_ENOTFOUND, "%s", notfound);
	} else {
		store_db_err(s, what, e);
	}
	db_finalize(st);
	return o;
}

/* Runs sql; the number of rows changed, or -1. */
static int64_t q_exec(struct store *s, struct moat_err *e, const char *what, const char *sql,
		      const char *fmt, ...)
{
	struct db_stmt *st = store_prep(s, sql, e);
	va_list ap;
	if (!st)
		return -1;
	va_start(ap, fmt);
	bind_v(st, fmt, ap);
	va_end(ap);
	if (store_step(s, st, what, e) < 0)
		return -1;
	return db_changes(store_db(s));
}

/* The first column of the first row as an integer (dflt when no row). */
static int64_t q_int(struct store *s, struct moat_err *e, int *ok, int64_t dflt, const char *what,
		     const char *sql, const char *fmt, ...)
{
	struct db_stmt *st = store_prep(s, sql, e);
	va_list ap;
	int64_t v = dflt;
	int rc;
	*ok = 0;
	if (!st)
		return -1;
	va_start(ap, fmt);
	bind_v(st, fmt, ap);
	va_end(ap);
	rc = db_step(st);
	if (rc == DB_ROW && !db_column_is_null(st, 0))
		v = db_column_int64(st, 0);
	db_finalize(st);
	if (rc != DB_ROW && rc != DB_DONE) {
		store_db_err(s, what, e);
		return -1;
	}
	*ok = 1;
	return v;
}

/* --- projects ---------------------------------------------------------------- */

void lb_project_release(struct lb_project *p)
{
	free(p->schema);
	free(p->source);
	free(p->where);
	p->schema = p->source = p->where = NULL;
}

int lb_project_new(struct store *s, struct lb_project *p, const char *labels_json,
		   struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	int ok;
	int64_t have = q_int(s, e, &ok, 0, "cannot read projects",
			     "SELECT id FROM projects WHERE name = ?", "s", p->name);
	if (!ok)
		return -1;
	if (have)
		return err_set(e, MOAT_EEXISTS, "project '%s' exists (moat label rm '%s' first, or "
			       "pick another name)", p->name, p->name);
	store_utc_now(now, 3);
	if (q_exec(s, e, "cannot write a project",
		   "INSERT INTO projects(name, kind, labels, schema, created_at, updated_at, source,"
		   " where_expr, overlap) VALUES(?,?,?,?,?,?,?,?,?)", "ssssssssi", p->name, p->kind,
		   labels_json, p->schema, now, now, p->source, p->where, (int64_t)p->overlap) < 0)
		return -1;
	p->id = db_last_insert_id(store_db(s));
	return 0;
}

int lb_project_get(struct store *s, const char *name, struct lb_project *out, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "SELECT id, name, kind, schema, source, where_expr, overlap"
					" FROM projects WHERE name = ?", e);
	int rc, nomem = 0;
	memset(out, 0, sizeof(*out));
	if (!st)
		return -1;
	db_bind_text(st, 1, name, -1, DB_COPY);
	rc = db_step(st);
	if (rc == DB_ROW) {
		nomem = (!db_column_is_null(st, 3) && !(out->schema = store_col_dup(st, 3, NULL))) ||
			(!db_column_is_null(st, 4) && !(out->source = store_col_dup(st, 4, NULL))) ||
			(!db_column_is_null(st, 5) && !(out->where = store_col_dup(st, 5, NULL)));
		out->id = db_column_int64(st, 0);
		store_col_copy(out->name, sizeof(out->name), st, 1);
		store_col_copy(out->kind, sizeof(out->kind), st, 2);
		out->overlap = db_column_int(st, 6) > 0 ? db_column_int(st, 6) : 1;
	}
	db_finalize(st);
	if (rc == DB_DONE)
		return err_set(e, MOAT_ENOTFOUND, "no project '%s' (moat label ls lists them)", name);
	if (rc != DB_ROW)
		return store_db_err(s, "cannot read projects", e);
	if (nomem) {
		lb_project_release(out);
		return err_set(e, MOAT_ENOMEM, "cannot read project '%s': out of memory", name);
	}
	return 0;
}

#define PROJECT_COLS "name:s,kind:s,from:s,where:s,overlap:i,tasks:i,done:i,annotations:i," \
		     "suggestions:i,created_at:s"
#define PROJECT_SQL \
	"SELECT p.name, p.kind, p.source, p.where_expr, p.overlap," \
	" (SELECT count(*) FROM tasks t WHERE t.project_id = p.id)," \
	" (SELECT count(*) FROM tasks t WHERE t.project_id = p.id AND t.is_open = 0)," \
	" (SELECT count(*) FROM annotations a JOIN tasks t ON t.id = a.task_id" \
	"  WHERE t.project_id = p.id AND a.status <> 'draft')," \
	" (SELECT count(*) FROM suggestions g JOIN tasks t ON t.id = g.task_id" \
	"  WHERE t.project_id = p.id)," \
	" p.created_at FROM projects p"

json_t *lb_projects(struct store *s, const char *name, struct moat_err *e)
{
	if (name) {
		char nf[200];
		if (xsnprintf(nf, sizeof(nf), "no project '%.128s' (moat label ls lists them)", name) < 0)
			nf[0] = '\0';
		return q_one(s, e, "cannot read projects", nf, PROJECT_COLS,
			     PROJECT_SQL " WHERE p.name = ?", "s", name);
	}
	return q_rows(s, e, "cannot read projects", PROJECT_COLS, PROJECT_SQL " ORDER BY p.name", "");
}

int lb_project_rm(struct store *s, int64_t project, json_t **counts, struct moat_err *e)
{
	int64_t n_t, n_a, n_g;
	static const char IN_PROJECT[] = " WHERE task_id IN (SELECT id FROM tasks WHERE project_id = ?)";
	char sql[200];
	if (xsnprintf(sql, sizeof(sql), "DELETE FROM annotations%s", IN_PROJECT) < 0 ||
	    (n_a = q_exec(s, e, "cannot remove annotations", sql, "i", project)) < 0)
		return -1;
	if (xsnprintf(sql, sizeof(sql), "DELETE FROM suggestions%s", IN_PROJECT) < 0 ||
	    (n_g = q_exec(s, e, "cannot remove suggestions", sql, "i", project)) < 0)
		return -1;
	if (xsnprintf(sql, sizeof(sql), "DELETE FROM task_leases%s", IN_PROJECT) < 0 ||
	    q_exec(s, e, "cannot remove leases", sql, "i", project) < 0)
		return -1;
	if ((n_t = q_exec(s, e, "cannot remove tasks", "DELETE FROM tasks WHERE project_id = ?", "i",
			  project)) < 0 ||
	    q_exec(s, e, "cannot remove suggestion runs", "DELETE FROM suggest_runs WHERE project_id = ?",
		   "i", project) < 0 ||
	    q_exec(s, e, "cannot remove the project", "DELETE FROM projects WHERE id = ?", "i",
		   project) < 0)
		return -1;
	if (counts && !(*counts = json_pack("{s:I, s:I, s:I}", "tasks", (json_int_t)n_t, "annotations",
					    (json_int_t)n_a, "suggestions", (json_int_t)n_g)))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return 0;
}

int lb_each_image(struct store *s, lb_image_fn fn, void *ctx, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s,
		"SELECT d.id, coalesce((SELECT f.path FROM files f WHERE f.doc_id = d.id"
		" ORDER BY f.id DESC LIMIT 1), ''), d.meta FROM documents d WHERE d.type = 'image'"
		" ORDER BY d.rowid", e);
	int rc, ret = 0;
	if (!st)
		return -1;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *meta = (const char *)db_column_text(st, 2);
		if ((ret = fn(ctx, (const char *)db_column_text(st, 0),
			      (const char *)db_column_text(st, 1), meta, e)) != 0)
			break;
	}
	db_finalize(st);
	if (!ret && rc != DB_DONE)
		ret = store_db_err(s, "cannot read images", e);
	return ret;
}

/* --- tasks ---------------------------------------------------------------------- */

int64_t lb_next(struct store *s, int64_t project, int overlap, const char *user, int64_t after,
		const char *now, const char *until, struct moat_err *e)
{
	int ok;
	/* a task user holds and has not submitted comes first: a reload or a
	 * second tab gets the same task, not a second one */
	int64_t id = q_int(s, e, &ok, 0, "cannot read leases",
		/* from the user's few leases to their tasks, never the other way
		 * (SQLite would walk every open task of the project: 44 ms at
		 * 100,000; CROSS JOIN keeps its order) */
		"SELECT l.task_id FROM task_leases l CROSS JOIN tasks t WHERE t.id = l.task_id"
		" AND l.annotator = ? AND l.expires_at > ? AND t.project_id = ? AND t.is_open = 1"
		" AND t.id > ? AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id"
		" AND a.annotator = l.annotator AND a.status <> 'draft') ORDER BY l.task_id LIMIT 1",
		"ssii", user, now, project, after);
	if (!ok)
		return -1;
	/* On PostgreSQL (READ COMMITTED) the pick below may see an old picture:
	 * a server that leased a task and committed after this statement's
	 * snapshot was taken has released the row by the time we lock it, and
	 * its lease is a row of another table, so nothing re-checks.  Holding
	 * the row lock, a new statement sees every lease committed before it:
	 * the task is taken only if it is still free, else the next one is
	 * tried (cli.serve_two, pg.serve_two: two servers under wrk). */
	for (int tries = 0; !id && tries < 64; tries++) {
		int64_t pick = q_int(s, e, &ok, 0, "cannot pick the next task",
			   STORE_SQL(s,
			"SELECT t.id FROM tasks t WHERE t.project_id = ?1 AND t.is_open = 1 AND t.id > ?2"
			" AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id"
			" AND a.annotator = ?3 AND a.status <> 'draft')"
			" AND t.n_done + (SELECT count(*) FROM task_leases l WHERE l.task_id = t.id"
			" AND l.annotator <> ?3 AND l.expires_at > ?4) < ?5 ORDER BY t.id LIMIT 1",
			/* two servers asking at once skip each other's row, not wait */
			"SELECT t.id FROM tasks t WHERE t.project_id = ?1 AND t.is_open = 1 AND t.id > ?2"
			" AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id"
			" AND a.annotator = ?3 AND a.status <> 'draft')"
			" AND t.n_done + (SELECT count(*) FROM task_leases l WHERE l.task_id = t.id"
			" AND l.annotator <> ?3 AND l.expires_at > ?4) < ?5 ORDER BY t.id LIMIT 1"
			" FOR UPDATE OF t SKIP LOCKED"),
			   "iissi", project, after, user, now, (int64_t)overlap);
		if (!ok)
			return -1;
		if (!pick)
			break;
		if (db_backend(store_db(s)) != DB_POSTGRES) {
			id = pick;  /* SQLite: one writer at a time, the picture is current */
			break;
		}
		id = q_int(s, e, &ok, 0, "cannot pick the next task",
			"SELECT t.id FROM tasks t WHERE t.id = ?1 AND t.is_open = 1"
			" AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id"
			" AND a.annotator = ?2 AND a.status <> 'draft')"
			" AND t.n_done + (SELECT count(*) FROM task_leases l WHERE l.task_id = t.id"
			" AND l.annotator <> ?2 AND l.expires_at > ?3) < ?4",
			"issi", pick, user, now, (int64_t)overlap);
		if (!ok)
			return -1;
		after = pick;
	}
	if (id && q_exec(s, e, "cannot lease the task",
			 "INSERT INTO task_leases(task_id, annotator, expires_at) VALUES(?,?,?)"
			 " ON CONFLICT(task_id, annotator) DO UPDATE SET expires_at = excluded.expires_at",
			 "iss", id, user, until) < 0)
		return -1;
	return id;
}

#define TASK_COLS "id:i,kind:s,doc_id:s,seq:i,text:s,image:s,width:i,height:i,name:s,split:s," \
		  "meta:j,n_done:i,cleaned:b"
#define TASK_SQL "SELECT t.id, t.kind, t.doc_id, t.seq, t.text, t.image, t.width, t.height," \
		 " t.name, t.split, t.meta, t.n_done, t.cleaned FROM tasks t"

int lb_doc_mime(struct store *s, const char *doc, char mime[64], struct moat_err *e)
{
	int ok;
	json_t *o = q_one(s, e, "cannot read the document", "no such document", "mime:s",
			  "SELECT mime FROM documents WHERE id = ?", "s", doc);
	const char *m = json_string_value(json_object_get(o, "mime"));
	ok = o != NULL;
	if (xsnprintf(mime, 64, "%s", m ? m : "") < 0)
		mime[0] = '\0';  /* a MIME type longer than 63 bytes: none moat serves as is */
	json_decref(o);
	return ok ? 0 : -1;
}

int lb_task_dims(struct store *s, int64_t project, int64_t task, size_t *cps, int *width,
		 int *height, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "SELECT text, width, height FROM tasks"
					" WHERE id = ? AND project_id = ?", e);
	int rc;
	if (!st)
		return -1;
	db_bind_int64(st, 1, task);
	db_bind_int64(st, 2, project);
	rc = db_step(st);
	if (rc == DB_ROW) {
		const char *t = db_column_text(st, 0);
		*cps = t ? utf8_count(t, (size_t)db_column_bytes(st, 0)) : 0;
		*width = db_column_int(st, 1);
		*height = db_column_int(st, 2);
	}
	db_finalize(st);
	if (rc == DB_DONE)
		return err_set(e, MOAT_ENOTFOUND, "no task %lld in this project", (long long)task);
	return rc == DB_ROW ? 0 : store_db_err(s, "cannot read the task", e);
}

json_t *lb_task(struct store *s, int64_t project, int64_t task, struct moat_err *e)
{
	char nf[96];
	if (xsnprintf(nf, sizeof(nf), "no task %lld in this project", (long long)task) < 0)
		nf[0] = '\0';
	return q_one(s, e, "cannot read the task", nf, TASK_COLS,
		     TASK_SQL " WHERE t.id = ? AND t.project_id = ?", "ii", task, project);
}

json_t *lb_tasks(struct store *s, int64_t project, const char *filter, const char *user,
		 int64_t after, int limit, struct moat_err *e)
{
	const char *cond;
	json_t *rows, *out;
	int ok;
	int64_t total;
	char sql[1024], csql[512];
	if (!strcmp(filter, "todo"))
		cond = " AND t.is_open = 1";
	else if (!strcmp(filter, "done"))
		cond = " AND t.is_open = 0";
	else if (!strcmp(filter, "review"))
		cond = " AND EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id"
		       " AND a.status = 'submitted')";
	else if (!strcmp(filter, "mine"))
		cond = " AND EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = t.id"
		       " AND a.annotator = ?3)";
	else if (!strcmp(filter, "all"))
		cond = "";
	else
		return err_set(e, MOAT_EUSAGE, "unknown filter '%.40s' (all, todo, done, review, mine)",
			       filter), NULL;
	if (xsnprintf(sql, sizeof(sql),
		      "SELECT t.id, t.name, t.n_done, t.is_open, substr(coalesce(t.text, ''), 1, 160),"
		      " t.doc_id, t.seq FROM tasks t WHERE t.project_id = ?1 AND t.id > ?2%s"
		      " AND CAST(?3 AS TEXT) IS NOT NULL ORDER BY t.id LIMIT ?4", cond) < 0 ||
	    xsnprintf(csql, sizeof(csql), "SELECT count(*) FROM tasks t WHERE t.project_id = ?1"
		      " AND ?2 >= 0%s AND CAST(?3 AS TEXT) IS NOT NULL", cond) < 0)
		return err_set(e, MOAT_ELIMIT, "query too long"), NULL;
	if (!(rows = q_rows(s, e, "cannot read tasks", "id:i,name:s,n_done:i,open:b,snippet:s,doc_id:s,"
			    "seq:i", sql, "iisi", project, after, user ? user : "", (int64_t)limit)))
		return NULL;
	total = q_int(s, e, &ok, 0, "cannot count tasks", csql, "iis", project, after,
		      user ? user : "");
	if (!ok) {
		json_decref(rows);
		return NULL;
	}
	out = json_pack("{s:o, s:o, s:I}", "tasks", rows, "next",
			json_array_size(rows) == (size_t)limit && limit > 0 ?
			json_integer(json_integer_value(json_object_get(
				json_array_get(rows, json_array_size(rows) - 1), "id"))) : json_null(),
			"total", (json_int_t)total);
	if (!out)
		err_set(e, MOAT_ENOMEM, "out of memory");
	return out;
}

int lb_each_task(struct store *s, int64_t project, const char *without_model, lb_task_fn fn,
		 void *ctx, struct moat_err *e)
{
	int64_t after = 0;
	/* in pages by id, so a walk over 100,000 tasks holds one page */
	for (;;) {
		json_t *rows = q_rows(s, e, "cannot read tasks", TASK_COLS,
			TASK_SQL " WHERE t.project_id = ? AND t.id > ? AND (CAST(?3 AS TEXT) IS NULL OR NOT EXISTS"
			" (SELECT 1 FROM suggestions g WHERE g.task_id = t.id AND g.model = ?3))"
			" ORDER BY t.id LIMIT 256", "iis", project, after, without_model);
		size_t i, n;
		json_t *t;
		int ret = 0;
		if (!rows)
			return -1;
		n = json_array_size(rows);
		json_array_foreach(rows, i, t) {
			after = json_integer_value(json_object_get(t, "id"));
			if ((ret = fn(ctx, t, e)) != 0)
				break;
		}
		json_decref(rows);
		if (ret)
			return ret;
		if (n < 256)
			return 0;
	}
}

/* --- annotations ------------------------------------------------------------------ */

#define ANN_COLS "id:i,task_id:i,annotator:s,value:j,status:s,reviewer:s,reviewed_at:s," \
		 "corrects:i,suggestion_id:i,created_at:s,updated_at:s"
#define ANN_SQL "SELECT a.id, a.task_id, a.annotator, a.value, a.status, a.reviewer," \
		" a.reviewed_at, a.corrects, a.suggestion_id, a.created_at, a.updated_at" \
		" FROM annotations a"

json_t *lb_annotations(struct store *s, int64_t task, const char *user, struct moat_err *e)
{
	return q_rows(s, e, "cannot read annotations", ANN_COLS,
		      ANN_SQL " WHERE a.task_id = ? AND (CAST(?2 AS TEXT) IS NULL OR a.annotator = ?2) ORDER BY a.id",
		      "is", task, user);
}

json_t *lb_annotation(struct store *s, int64_t project, int64_t id, struct moat_err *e)
{
	char nf[96];
	if (xsnprintf(nf, sizeof(nf), "no annotation %lld in this project", (long long)id) < 0)
		nf[0] = '\0';
	return q_one(s, e, "cannot read the annotation", nf, ANN_COLS,
		     ANN_SQL " JOIN tasks t ON t.id = a.task_id WHERE a.id = ? AND t.project_id = ?",
		     "ii", id, project);
}

/* Recounts the task's annotations that count towards its overlap (submitted
 * or decided, not drafts, not a reviewer's corrections). */
static int recount(struct store *s, int64_t task, int overlap, struct moat_err *e)
{
	return q_exec(s, e, "cannot update the task",
		      "UPDATE tasks SET n_done = (SELECT count(*) FROM annotations a WHERE a.task_id = ?1"
		      " AND a.status <> 'draft' AND a.corrects IS NULL), is_open = CASE WHEN"
		      " (SELECT count(*) FROM annotations a WHERE a.task_id = ?1 AND a.status <> 'draft'"
		      " AND a.corrects IS NULL) >= ?2 THEN 0 ELSE 1 END WHERE id = ?1", "ii", task,
		      (int64_t)overlap) < 0 ? -1 : 0;
}

int lb_annotation_save(struct store *s, int64_t task, int overlap, const char *user,
		       const char *value, const char *status, int64_t suggestion, int64_t run_id,
		       int64_t *id, struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	json_t *have;
	int64_t aid = 0;
	store_utc_now(now, 3);
	/* saves of one task take turns (PostgreSQL: the task's row lock, held
	 * to the commit; SQLite has one writer anyway), so that two servers
	 * saving the same person's annotation at once make one row, not two,
	 * and the task's count is right */
	if (db_backend(store_db(s)) == DB_POSTGRES) {
		int ok;
		q_int(s, e, &ok, 0, "cannot lock the task", "SELECT id FROM tasks WHERE id = ? FOR UPDATE",
		      "i", task);
		if (!ok)
			return -1;
	}
	have = q_rows(s, e, "cannot read annotations", "id:i,status:s,corrects:i",
		      "SELECT id, status, corrects FROM annotations WHERE task_id = ? AND annotator = ?"
		      " AND corrects IS NULL ORDER BY id", "is", task, user);
	if (!have)
		return -1;
	if (json_array_size(have)) {
		json_t *a = json_array_get(have, 0);
		const char *st = json_string_value(json_object_get(a, "status"));
		aid = json_integer_value(json_object_get(a, "id"));
		if (st && (!strcmp(st, "accepted") || !strcmp(st, "rejected"))) {
			int accepted = !strcmp(st, "accepted");
			json_decref(have);
			return err_set(e, MOAT_EEXISTS, "annotation %lld of task %lld was %s by a reviewer:"
				       " it can no longer change", (long long)aid, (long long)task,
				       accepted ? "accepted" : "rejected");
		}
	}
	json_decref(have);
	if (aid) {
		if (q_exec(s, e, "cannot save the annotation",
			   "UPDATE annotations SET value = ?, status = ?, updated_at = ?,"
			   " suggestion_id = ?, run_id = ? WHERE id = ?", "sssnii", value, status, now,
			   suggestion, run_id, aid) < 0)
			return -1;
	} else {
		struct db_stmt *st = store_prep(s,
			"INSERT INTO annotations(task_id, annotator, value, status, created_at, updated_at,"
			" run_id, suggestion_id) VALUES(?,?,?,?,?,?,?,?)", e);
		if (!st)
			return -1;
		db_bind_int64(st, 1, task);
		db_bind_text(st, 2, user, -1, DB_COPY);
		db_bind_text(st, 3, value, -1, DB_COPY);
		db_bind_text(st, 4, status, -1, DB_COPY);
		db_bind_text(st, 5, now, -1, DB_COPY);
		db_bind_text(st, 6, now, -1, DB_COPY);
		db_bind_int64(st, 7, run_id);
		if (suggestion > 0)
			db_bind_int64(st, 8, suggestion);
		else
			db_bind_null(st, 8);
		if (store_step(s, st, "cannot save the annotation", e) < 0)
			return -1;
		aid = db_last_insert_id(store_db(s));
	}
	if (strcmp(status, "draft") &&
	    q_exec(s, e, "cannot release the lease",
		   "DELETE FROM task_leases WHERE task_id = ? AND annotator = ?", "is", task, user) < 0)
		return -1;
	if (recount(s, task, overlap, e) < 0)
		return -1;
	if (id)
		*id = aid;
	return 0;
}

int lb_annotation_decide(struct store *s, int64_t id, const char *status, const char *reviewer,
			 struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	store_utc_now(now, 3);
	return q_exec(s, e, "cannot record the decision",
		      "UPDATE annotations SET status = ?, reviewer = ?, reviewed_at = ?, updated_at = ?"
		      " WHERE id = ?", "ssssi", status, reviewer, now, now, id) < 0 ? -1 : 0;
}

int lb_annotation_correct(struct store *s, int64_t task, int64_t corrects, const char *reviewer,
			  const char *value, int64_t *id, struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	store_utc_now(now, 3);
	if (q_exec(s, e, "cannot record the correction",
		   "INSERT INTO annotations(task_id, annotator, value, status, created_at, updated_at,"
		   " reviewer, reviewed_at, corrects) VALUES(?,?,?,'accepted',?,?,?,?,?)", "issssssi",
		   task, reviewer, value, now, now, reviewer, now, corrects) < 0)
		return -1;
	*id = db_last_insert_id(store_db(s));
	return 0;
}

json_t *lb_review_tasks(struct store *s, int64_t project, int64_t after, int limit,
			struct moat_err *e)
{
	return q_rows(s, e, "cannot read the review queue", "id:i",
		      "SELECT t.id FROM tasks t WHERE t.project_id = ? AND t.id > ? AND EXISTS"
		      " (SELECT 1 FROM annotations a WHERE a.task_id = t.id AND a.status = 'submitted')"
		      " ORDER BY t.id LIMIT ?", "iii", project, after, (int64_t)limit);
}

json_t *lb_project_annotations(struct store *s, int64_t project, struct moat_err *e)
{
	return q_rows(s, e, "cannot read annotations", "id:i,task_id:i,annotator:s,value:j,status:s,"
		      "corrects:i",
		      "SELECT a.id, a.task_id, a.annotator, a.value, a.status, a.corrects"
		      " FROM annotations a JOIN tasks t ON t.id = a.task_id WHERE t.project_id = ?"
		      " AND a.status <> 'draft' ORDER BY a.task_id, a.id", "i", project);
}

json_t *lb_counts(struct store *s, int64_t project, int overlap, const char *now,
		  struct moat_err *e)
{
	(void)overlap;
	return q_one(s, e, "cannot count the project", "no such project",
		     "tasks:i,done:i,in_progress:i,draft:i,submitted:i,accepted:i,rejected:i,"
		     "suggestions:i",
		     "SELECT (SELECT count(*) FROM tasks WHERE project_id = ?1),"
		     " (SELECT count(*) FROM tasks WHERE project_id = ?1 AND is_open = 0),"
		     " (SELECT count(DISTINCT l.task_id) FROM task_leases l JOIN tasks t ON t.id = l.task_id"
		     "  WHERE t.project_id = ?1 AND t.is_open = 1 AND l.expires_at > ?2),"
		     " (SELECT count(*) FROM annotations a JOIN tasks t ON t.id = a.task_id"
		     "  WHERE t.project_id = ?1 AND a.status = 'draft'),"
		     " (SELECT count(*) FROM annotations a JOIN tasks t ON t.id = a.task_id"
		     "  WHERE t.project_id = ?1 AND a.status = 'submitted'),"
		     " (SELECT count(*) FROM annotations a JOIN tasks t ON t.id = a.task_id"
		     "  WHERE t.project_id = ?1 AND a.status = 'accepted'),"
		     " (SELECT count(*) FROM annotations a JOIN tasks t ON t.id = a.task_id"
		     "  WHERE t.project_id = ?1 AND a.status = 'rejected'),"
		     " (SELECT count(*) FROM suggestions g JOIN tasks t ON t.id = g.task_id"
		     "  WHERE t.project_id = ?1)", "is", project, now);
}

/* --- suggestions ------------------------------------------------------------------ */

int lb_suggestion_add(struct store *s, int64_t task, const struct lb_suggestion *g, int64_t run_id,
		      int64_t *id, struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	struct db_stmt *st = store_prep(s,
		"INSERT INTO suggestions(task_id, value, model, model_digest, score, created_at, run_id,"
		" prompt_sha256, options, seed, provenance) VALUES(?,?,?,?,?,?,?,?,?,?,?)", e);
	if (!st)
		return -1;
	store_utc_now(now, 3);
	db_bind_int64(st, 1, task);
	db_bind_text(st, 2, g->value, -1, DB_COPY);
	db_bind_text(st, 3, g->model, -1, DB_COPY);
	if (g->model_digest)
		db_bind_text(st, 4, g->model_digest, -1, DB_COPY);
	else
		db_bind_null(st, 4);
	if (g->score >= 0)
		db_bind_double(st, 5, g->score);
	else
		db_bind_null(st, 5);
	db_bind_text(st, 6, now, -1, DB_COPY);
	db_bind_int64(st, 7, run_id);
	db_bind_text(st, 8, g->prompt_sha256 ? g->prompt_sha256 : "", -1, DB_COPY);
	db_bind_text(st, 9, g->options ? g->options : "{}", -1, DB_COPY);
	db_bind_int64(st, 10, g->seed);
	db_bind_text(st, 11, g->provenance ? g->provenance : "{}", -1, DB_COPY);
	if (store_step(s, st, "cannot write a suggestion", e) < 0)
		return -1;
	if (id)
		*id = db_last_insert_id(store_db(s));
	return 0;
}

json_t *lb_suggestions(struct store *s, int64_t task, struct moat_err *e)
{
	return q_rows(s, e, "cannot read suggestions", "id:i,value:j,model:s,model_digest:s,score:f,"
		      "prompt_sha256:s,seed:i,decision:s,created_at:s",
		      "SELECT id, value, model, model_digest, score, prompt_sha256, seed, decision,"
		      " created_at FROM suggestions WHERE task_id = ? ORDER BY id", "i", task);
}

int64_t lb_suggestion_decide(struct store *s, int64_t project, int64_t id, const char *decision,
			     struct moat_err *e)
{
	int ok;
	int64_t task = q_int(s, e, &ok, 0, "cannot read the suggestion",
			     "SELECT g.task_id FROM suggestions g JOIN tasks t ON t.id = g.task_id"
			     " WHERE g.id = ? AND t.project_id = ?", "ii", id, project);
	if (!ok)
		return -1;
	if (!task)
		return err_set(e, MOAT_ENOTFOUND, "no suggestion %lld in this project", (long long)id);
	if (q_exec(s, e, "cannot record the decision", "UPDATE suggestions SET decision = ? WHERE id = ?",
		   "si", decision, id) < 0)
		return -1;
	return task;
}

json_t *lb_model_suggestions(struct store *s, int64_t project, const char *model,
			     struct moat_err *e)
{
	return q_rows(s, e, "cannot read suggestions", "task_id:i,value:j,score:f,provenance:j",
		      "SELECT g.task_id, g.value, g.score, g.provenance FROM suggestions g"
		      " JOIN tasks t ON t.id = g.task_id WHERE t.project_id = ? AND g.model = ?"
		      " ORDER BY g.task_id, g.id", "is", project, model);
}

json_t *lb_accepted(struct store *s, int64_t project, struct moat_err *e)
{
	return q_rows(s, e, "cannot read annotations", "task_id:i,value:j",
		      "SELECT a.task_id, a.value FROM annotations a JOIN tasks t ON t.id = a.task_id"
		      " WHERE t.project_id = ? AND a.status = 'accepted' ORDER BY a.task_id, a.id",
		      "i", project);
}

/* --- suggestion runs ------------------------------------------------------------- */

int64_t lb_suggest_run_new(struct store *s, int64_t project, const char *model, const char *user,
			   struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	store_utc_now(now, 3);
	if (q_exec(s, e, "cannot record the suggestion run",
		   "INSERT INTO suggest_runs(project_id, model, status, total, started_by, started_at,"
		   " updated_at) VALUES(?, ?, 'running', 0, ?, ?, ?)", "issss", project, model, user,
		   now, now) < 0)
		return -1;
	return db_last_insert_id(store_db(s));
}

int lb_suggest_run_update(struct store *s, int64_t id, const char *status, int64_t total,
			  int64_t done, int64_t failed, const char *error, struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	store_utc_now(now, 3);
	return q_exec(s, e, "cannot update the suggestion run",
		      "UPDATE suggest_runs SET status = coalesce(?, status), total = coalesce(?, total),"
		      " done = coalesce(?, done), failed = coalesce(?, failed), error = coalesce(?, error),"
		      " updated_at = ? WHERE id = ?", "smmmssi",
		      status, total, done, failed, error, now, id) < 0 ? -1 : 0;
}

json_t *lb_suggest_runs(struct store *s, int64_t project, struct moat_err *e)
{
	return q_rows(s, e, "cannot read suggestion runs", "id:i,model:s,status:s,total:i,done:i,"
		      "failed:i,error:s,started_by:s,started_at:s,updated_at:s",
		      "SELECT id, model, status, total, done, failed, error, started_by, started_at,"
		      " updated_at FROM suggest_runs WHERE project_id = ? ORDER BY id DESC", "i", project);
}
