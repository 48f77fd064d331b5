/*
 * augment.c (store) - aug_runs and aug_records (augment.h): the rows of
 * the augment stage, in portable SQL.
 */
#include "augment.h"
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

static void bind_opt_text(struct db_stmt *st, int i, const char *v)
{
	if (v)
		db_bind_text(st, i, v, -1, DB_COPY);
	else
		db_bind_null(st, i);
}

int64_t aug_store_run_new(struct store *s, const struct aug_store_run *r, struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	struct db_stmt *st = store_prep(s, "INSERT INTO aug_runs(project_id, recipe, recipe_sha256, model,"
				      " source, n, seed, status, started_at, updated_at, run_id)"
				      " VALUES(?,?,?,?,?,?,?,'running',?,?,?)", e);
	if (!st)
		return -1;
	store_utc_now(now, 3);
	db_bind_int64(st, 1, r->project);
	db_bind_text(st, 2, r->recipe, -1, DB_COPY);
	db_bind_text(st, 3, r->recipe_sha256, -1, DB_COPY);
	db_bind_text(st, 4, r->model, -1, DB_COPY);
	db_bind_text(st, 5, r->source, -1, DB_COPY);
	db_bind_int(st, 6, r->n);
	db_bind_int64(st, 7, r->seed);
	db_bind_text(st, 8, now, -1, DB_COPY);
	db_bind_text(st, 9, now, -1, DB_COPY);
	db_bind_int64(st, 10, r->run_id);
	if (store_step(s, st, "cannot write an augment run", e) < 0)
		return -1;
	return db_last_insert_id(store_db(s));
}

int aug_store_run_update(struct store *s, int64_t id, const char *status, int64_t generated,
			 int64_t accepted, int64_t rejected, int64_t failed, const char *error,
			 struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	struct db_stmt *st = store_prep(s, "UPDATE aug_runs SET status = COALESCE(?2, status),"
		" generated = CASE WHEN ?3 < 0 THEN generated ELSE ?3 END,"
		" accepted = CASE WHEN ?4 < 0 THEN accepted ELSE ?4 END,"
		" rejected = CASE WHEN ?5 < 0 THEN rejected ELSE ?5 END,"
		" failed = CASE WHEN ?6 < 0 THEN failed ELSE ?6 END,"
		" error = COALESCE(?7, error), updated_at = ?8 WHERE id = ?1", e);
	if (!st)
		return -1;
	store_utc_now(now, 3);
	db_bind_int64(st, 1, id);
	bind_opt_text(st, 2, status);
	db_bind_int64(st, 3, generated);
	db_bind_int64(st, 4, accepted);
	db_bind_int64(st, 5, rejected);
	db_bind_int64(st, 6, failed);
	bind_opt_text(st, 7, error);
	db_bind_text(st, 8, now, -1, DB_COPY);
	return store_step(s, st, "cannot update an augment run", e);
}

int aug_store_record_add(struct store *s, const struct aug_store_record *r, int64_t *id,
			 struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	int have = aug_store_has_key(s, r->project, r->key, e);
	struct db_stmt *st;
	if (have < 0)
		return -1;
	if (have)
		return err_set(e, MOAT_EEXISTS, "augment record '%s' is stored already", r->key);
	st = store_prep(s, "INSERT INTO aug_records(aug_run, project_id, key, status, reason, detail,"
			" value, text_sha256, minhash, sources, model, model_digest, template_sha256,"
			" prompt_sha256, options, seed, provenance, created_at)"
			" VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", e);
	if (!st)
		return -1;
	store_utc_now(now, 3);
	db_bind_int64(st, 1, r->aug_run);
	db_bind_int64(st, 2, r->project);
	db_bind_text(st, 3, r->key, -1, DB_COPY);
	db_bind_text(st, 4, r->status, -1, DB_COPY);
	bind_opt_text(st, 5, r->reason);
	bind_opt_text(st, 6, r->detail);
	db_bind_text(st, 7, r->value, -1, DB_COPY);
	db_bind_text(st, 8, r->text_sha256, -1, DB_COPY);
	if (r->minhash)
		db_bind_blob(st, 9, r->minhash, (int)(r->n_minhash * sizeof(uint32_t)), DB_COPY);
	else
		db_bind_null(st, 9);
	db_bind_text(st, 10, r->sources, -1, DB_COPY);
	db_bind_text(st, 11, r->model, -1, DB_COPY);
	bind_opt_text(st, 12, r->model_digest);
	db_bind_text(st, 13, r->template_sha256, -1, DB_COPY);
	db_bind_text(st, 14, r->prompt_sha256, -1, DB_COPY);
	db_bind_text(st, 15, r->options, -1, DB_COPY);
	db_bind_int64(st, 16, r->seed);
	db_bind_text(st, 17, r->provenance, -1, DB_COPY);
	db_bind_text(st, 18, now, -1, DB_COPY);
	if (store_step(s, st, "cannot write an augment record", e) < 0)
		return -1;
	if (id)
		*id = db_last_insert_id(store_db(s));
	return 0;
}

int aug_store_record_task(struct store *s, int64_t record, int64_t task, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "UPDATE aug_records SET task_id = ? WHERE id = ?", e);
	if (!st)
		return -1;
	db_bind_int64(st, 1, task);
	db_bind_int64(st, 2, record);
	return store_step(s, st, "cannot update an augment record", e);
}

int aug_store_has_key(struct store *s, int64_t project, const char *key, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "SELECT 1 FROM aug_records WHERE project_id = ? AND key = ?", e);
	int rc;
	if (!st)
		return -1;
	db_bind_int64(st, 1, project);
	db_bind_text(st, 2, key, -1, DB_COPY);
	rc = db_step(st);
	db_finalize(st);
	if (rc == DB_ROW)
		return 1;
	if (rc == DB_DONE)
		return 0;
	return store_db_err(s, "cannot read augment records", e);
}

int aug_store_each_sig(struct store *s, aug_store_sig_fn fn, void *ctx, struct moat_err *e)
{
	static const char *const SQL[2] = {
		"SELECT text_sha256, minhash, sources FROM aug_records WHERE status = 'accepted'"
		" ORDER BY id",
		"SELECT norm_sha256, minhash, NULL FROM clean_docs WHERE status = 'kept'"
		" AND minhash IS NOT NULL ORDER BY doc_id",
	};
	for (int q = 0; q < 2; q++) {
		struct db_stmt *st = store_prep(s, SQL[q], e);
		int rc;
		if (!st)
			return -1;
		while ((rc = db_step(st)) == DB_ROW) {
			const void *blob = db_column_blob(st, 1);
			size_t n = (size_t)db_column_bytes(st, 1) / sizeof(uint32_t);
			uint32_t *sig = n ? malloc(n * sizeof(uint32_t)) : NULL;
			int frc;
			if (n && !sig) {
				db_finalize(st);
				return err_set(e, MOAT_ENOMEM, "out of memory");
			}
			if (n)
				memcpy(sig, blob, n * sizeof(uint32_t));
			frc = fn(ctx, q ? "document" : "record", (const char *)db_column_text(st, 0), sig,
				 n, db_column_is_null(st, 2) ? NULL : (const char *)db_column_text(st, 2), e);
			free(sig);
			if (frc < 0) {
				db_finalize(st);
				return -1;
			}
		}
		db_finalize(st);
		if (store_rows_end(s, rc, 0, "cannot read signatures", e) < 0)
			return -1;
	}
	return 0;
}

/* Each row of st as an object of the named columns: a name ending in '#'
 * is an integer, in '@' JSON text, else text. */
static json_t *rows_json(struct store *s, struct db_stmt *st, const char *const *cols, const char *what,
			 struct moat_err *e)
{
	json_t *out = json_array();
	int rc, nomem = !out;
	while (!nomem && (rc = db_step(st)) == DB_ROW) {
		json_t *o = json_object();
		nomem = !o || json_array_append_new(out, o) < 0;
		for (int c = 0; !nomem && cols[c]; c++) {
			char name[48];
			size_t n = strlen(cols[c]);
			char type = cols[c][n - 1];
			json_t *v;
			if (type == '#' || type == '@')
				n--;
			memcpy(name, cols[c], n < sizeof(name) ? n : sizeof(name) - 1);
			name[n < sizeof(name) ? n : sizeof(name) - 1] = '\0';
			if (db_column_is_null(st, c))
				v = json_null();
			else if (type == '#')
				v = json_integer(db_column_int64(st, c));
			else if (type == '@' && (v = json_loads((const char *)db_column_text(st, c),
							       JSON_DECODE_ANY, NULL)))
				;
			else
				v = json_string((const char *)db_column_text(st, c));
			nomem = !v || json_object_set_new(o, name, v) < 0;
		}
	}
	db_finalize(st);
	if (store_rows_end(s, nomem ? DB_ERROR : rc, nomem, what, e) < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* {reason: count} of run's rejects. */
static json_t *run_reasons(struct store *s, int64_t run, struct moat_err *e)
{
	static const char *const COLS[] = { "reason", "n#", NULL };
	struct db_stmt *st = store_prep(s, "SELECT reason, count(*) FROM aug_records WHERE aug_run = ?"
				      " AND status = 'rejected' GROUP BY reason ORDER BY reason", e);
	json_t *rows, *out, *r;
	size_t i;
	if (!st)
		return NULL;
	db_bind_int64(st, 1, run);
	if (!(rows = rows_json(s, st, COLS, "cannot read augment records", e)))
		return NULL;
	out = json_object();
	json_array_foreach(rows, i, r)
		if (out)
			json_object_set(out, json_string_value(json_object_get(r, "reason")) ?
					json_string_value(json_object_get(r, "reason")) : "?",
					json_object_get(r, "n"));
	json_decref(rows);
	if (!out)
		err_set(e, MOAT_ENOMEM, "out of memory");
	return out;
}

json_t *aug_store_runs(struct store *s, int64_t id, struct moat_err *e)
{
	static const char *const COLS[] = { "id#", "project", "recipe", "recipe_sha256", "model",
					    "source", "n#", "seed#", "status", "generated#",
					    "accepted#", "rejected#", "failed#", "error", "started_at",
					    "updated_at", NULL };
	struct db_stmt *st = store_prep(s, "SELECT r.id, p.name, r.recipe, r.recipe_sha256, r.model,"
		" r.source, r.n, r.seed, r.status, r.generated, r.accepted, r.rejected, r.failed,"
		" r.error, r.started_at, r.updated_at FROM aug_runs r JOIN projects p ON p.id = r.project_id"
		" WHERE ? <= 0 OR r.id = ? ORDER BY r.id", e);
	json_t *rows, *r;
	size_t i;
	if (!st)
		return NULL;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, id);
	if (!(rows = rows_json(s, st, COLS, "cannot read augment runs", e)))
		return NULL;
	json_array_foreach(rows, i, r) {
		json_t *reasons = run_reasons(s, json_integer_value(json_object_get(r, "id")), e);
		if (!reasons || json_object_set_new(r, "reasons", reasons) < 0) {
			json_decref(rows);
			return NULL;
		}
	}
	if (id > 0) {
		json_t *one = json_incref(json_array_get(rows, 0));
		json_decref(rows);
		if (!one)
			err_set(e, MOAT_ENOTFOUND, "no augment run %lld (moat augment ls lists them)",
				(long long)id);
		return one;
	}
	return rows;
}

json_t *aug_store_records(struct store *s, int64_t run, struct moat_err *e)
{
	static const char *const COLS[] = { "id#", "key", "status", "reason", "detail", "value@",
					    "sources@", "task_id#", "model", "model_digest",
					    "template_sha256", "prompt_sha256", "options@", "seed#",
					    "provenance@", "created_at", NULL };
	struct db_stmt *st = store_prep(s, "SELECT id, key, status, reason, detail, value, sources,"
		" task_id, model, model_digest, template_sha256, prompt_sha256, options, seed, provenance,"
		" created_at FROM aug_records WHERE aug_run = ? ORDER BY id", e);
	if (!st)
		return NULL;
	db_bind_int64(st, 1, run);
	return rows_json(s, st, COLS, "cannot read augment records", e);
}
