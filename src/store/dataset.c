/*
 * dataset.c - the dataset stages' tables (see dataset.h): the documents a
 * dataset takes, chunk sets and chunks, projects, tasks, annotations,
 * suggestions and exports.  Plain SQL but for ds_audit_first_seq(), which
 * reads the audit body's time with json_extract() and julianday() (a
 * PostgreSQL backend would use its jsonb and timestamp operators there).
 */
#define _GNU_SOURCE
#include "dataset.h"
#include "store_int.h"
#include "../core/alloc.h"
#include "../core/fmt.h"
#include "../core/hash.h"

#include <stdlib.h>
#include <string.h>


#include "../core/banned.h"

static const char *col(struct db_stmt *st, int c)
{
	const char *t = (const char *)db_column_text(st, c);
	return t ? t : "";
}

static const char *col_or_null(struct db_stmt *st, int c)
{
	return (const char *)db_column_text(st, c);
}

static void bind_text_or_null(struct db_stmt *st, int i, const char *v)
{
	if (v)
		db_bind_text(st, i, v, -1, DB_COPY);
	else
		db_bind_null(st, i);
}

/* Runs st and makes each row an object with row(); an array of them.  NULL
 * with e set ("cannot <what>: ...") when a step or memory fails. */
static json_t *rows_json(struct store *s, struct db_stmt *st, json_t *(*row)(struct db_stmt *),
			 const char *what, struct moat_err *e)
{
	json_t *arr = json_array();
	int rc = DB_DONE, nomem = !arr;
	if (!st) {
		json_decref(arr);
		return NULL;
	}
	while (!nomem && (rc = db_step(st)) == DB_ROW)
		nomem = json_array_append_new(arr, row(st));
	db_finalize(st);
	if (store_rows_end(s, nomem ? DB_DONE : rc, nomem, what, e) < 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* --- documents ------------------------------------------------------------ */

/* A document's latest path (its parent's for an attachment) and its group:
 * the current document-level duplicate cluster it is in, else itself. */
#define PATH_GROUP_COLS                                                                  \
	" coalesce((SELECT f.path FROM files f WHERE f.doc_id = d.id ORDER BY f.id DESC LIMIT 1),"  \
	"  (SELECT f.path FROM files f WHERE f.doc_id = d.parent_id ORDER BY f.id DESC LIMIT 1), ''),"\
	" coalesce((SELECT 'cluster:' || m.cluster_id FROM clean_cluster_members m"          \
	"  JOIN clean_clusters k ON k.id = m.cluster_id WHERE m.member = d.id"                 \
	"  AND k.level = 'document' AND k.current = 1 ORDER BY m.cluster_id LIMIT 1), d.id)"
/* The documents a dataset takes; callers append " AND ..." and the order. */
#define SQL_DOCS_CLEAN                                                                   \
	"SELECT d.id, d.type, d.run_id, c.text, c.lang," PATH_GROUP_COLS                       \
	" FROM documents d JOIN clean_docs c ON c.doc_id = d.id WHERE c.status = 'kept'"
#define SQL_DOCS_RAW                                                                     \
	"SELECT d.id, d.type, d.run_id, d.text, NULL," PATH_GROUP_COLS " FROM documents d WHERE 1 = 1"
#define IN_ORDER " ORDER BY d.rowid"
#define HAS_CHUNKS " AND EXISTS (SELECT 1 FROM chunks x WHERE x.set_id = ?1 AND x.doc_id = d.id)"

static const char SQL_ELS_CLEAN[] =
	"SELECT c.seq, c.type, coalesce(e.level, 0), coalesce(e.page, 0), c.start_cp, c.end_cp"
	" FROM clean_elements c LEFT JOIN elements e ON e.doc_id = c.doc_id AND e.seq = c.seq"
	" WHERE c.doc_id = ? AND c.end_cp > c.start_cp ORDER BY c.seq";
static const char SQL_ELS_RAW[] =
	"SELECT seq, type, level, page, start_cp, end_cp FROM elements"
	" WHERE doc_id = ? AND end_cp > start_cp ORDER BY seq";

/* Fills d's id, type, run, path, group and lang from a row of SQL_DOCS_*. */
static void doc_row(struct db_stmt *st, struct ds_doc *d)
{
	d->id = col(st, 0);
	d->type = col(st, 1);
	d->run_id = db_column_int64(st, 2);
	d->lang = col_or_null(st, 4);
	d->path = col(st, 5);
	d->group = col(st, 6);
}

int ds_each_doc(struct store *s, int raw, ds_doc_fn fn, void *ctx, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, raw ? SQL_DOCS_RAW IN_ORDER : SQL_DOCS_CLEAN IN_ORDER, e);
	struct db_stmt *es = NULL;
	struct ds_el *el = NULL;
	size_t cap = 0;
	int rc, ret = 0;
	if (!st)
		return -1;
	if (!(es = store_prep(s, raw ? SQL_ELS_RAW : SQL_ELS_CLEAN, e))) {
		db_finalize(st);
		return -1;
	}
	while ((rc = db_step(st)) == DB_ROW) {
		struct ds_doc d;
		size_t n = 0;
		int erc;
		doc_row(st, &d);
		d.text = col(st, 3);
		d.len = (size_t)db_column_bytes(st, 3);
		db_reset(es);
		db_bind_text(es, 1, d.id, -1, DB_COPY);
		while ((erc = db_step(es)) == DB_ROW) {
			if (MOAT_GROW(el, cap, n + 1) < 0) {
				ret = err_set(e, MOAT_ENOMEM, "cannot read document '%s': out of memory", d.id);
				goto out;
			}
			el[n].seq = db_column_int(es, 0);
			store_col_copy(el[n].type, sizeof(el[n].type), es, 1);
			el[n].level = db_column_int(es, 2);
			el[n].page = db_column_int(es, 3);
			el[n].start = (size_t)db_column_int64(es, 4);
			el[n].end = (size_t)db_column_int64(es, 5);
			n++;
		}
		if (erc != DB_DONE) {
			ret = store_db_err(s, "cannot read elements", e);
			goto out;
		}
		d.el = el;
		d.n_el = n;
		if ((ret = fn(ctx, &d, e)) != 0)
			goto out;
	}
	if (rc != DB_DONE)
		ret = store_db_err(s, "cannot read documents", e);
out:
	free(el);
	db_finalize(es);
	db_finalize(st);
	return ret;
}

int64_t ds_count_uncleaned(struct store *s, char *first, size_t cap, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s,
		"SELECT count(*), (SELECT coalesce((SELECT f.path FROM files f WHERE f.doc_id = d.id"
		"  ORDER BY f.id DESC LIMIT 1), d.id) FROM documents d"
		"  WHERE NOT EXISTS (SELECT 1 FROM clean_docs c WHERE c.doc_id = d.id)"
		"  ORDER BY d.rowid LIMIT 1)"
		" FROM documents d WHERE NOT EXISTS (SELECT 1 FROM clean_docs c WHERE c.doc_id = d.id)", e);
	int64_t n = -1;
	if (!st)
		return -1;
	if (cap)
		first[0] = '\0';
	if (db_step(st) == DB_ROW) {
		n = db_column_int64(st, 0);
		store_col_copy(first, cap, st, 1);
	}
	db_finalize(st);
	if (n < 0)
		return store_db_err(s, "cannot count documents not cleaned", e);
	return n;
}

static json_t *finding_row(struct db_stmt *st)
{
	return json_pack("{s:s, s:s, s:I}", "type", col(st, 0), "operator", col(st, 1), "count",
			 (json_int_t)db_column_int64(st, 2));
}

json_t *ds_findings(struct store *s, struct moat_err *e)
{
	return rows_json(s, store_prep(s,
		"SELECT f.type, f.operator, count(*) FROM pii_findings f JOIN clean_docs c"
		" ON c.doc_id = f.doc_id WHERE f.current = 1 AND c.status = 'kept'"
		" GROUP BY f.type, f.operator ORDER BY f.type, f.operator", e),
		finding_row, "cannot count findings", e);
}

/* --- chunk sets ------------------------------------------------------------- */

static int set_row(struct store *s, const char *sql, const char *key, struct ds_chunk_set *out,
		   struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, sql, e);
	int rc;
	memset(out, 0, sizeof(*out));  /* created and the rest: 0 for a set found */
	if (!st)
		return -1;
	if (key)
		db_bind_text(st, 1, key, -1, DB_COPY);
	rc = db_step(st);
	if (rc == DB_ROW) {
		out->id = db_column_int64(st, 0);
		store_col_copy(out->name, sizeof(out->name), st, 1);
		store_col_copy(out->settings_sha256, sizeof(out->settings_sha256), st, 2);
		out->raw = db_column_int(st, 3);
	}
	db_finalize(st);
	if (rc == DB_ROW)
		return 1;
	if (rc != DB_DONE)
		return store_db_err(s, "cannot read chunk sets", e);
	return 0;
}

#define SET_COLS "SELECT id, name, settings_sha256, raw FROM chunk_sets "

static int set_open(struct store *s, const char *name, const char *settings,
		    const char *tokenizer, int raw, int64_t run_id, struct ds_chunk_set *out,
		    int again, struct moat_err *e)
{
	char sha[SHA256_HEX], now[STORE_TIME_MAX], defname[32];
	struct ds_chunk_set other;
	struct db_stmt *st;
	int r;
	memset(out, 0, sizeof(*out));
	sha256_hex_mem(settings, strlen(settings), sha);
	if (name && (r = set_row(s, SET_COLS "WHERE name = ?", name, out, e)) != 0) {
		if (r < 0)
			return -1;
		if (strcmp(out->settings_sha256, sha))
			return err_set(e, MOAT_EEXISTS,
				       "chunk set '%s' exists with other settings (it is kept); "
				       "give another --name", name);
		return 0;
	}
	if ((r = set_row(s, SET_COLS "WHERE settings_sha256 = ?", sha, &other, e)) < 0)
		return -1;
	if (r) {
		if (name)
			return err_set(e, MOAT_EEXISTS,
				       "these settings make chunk set '%s' already; use --name %s",
				       other.name, other.name);
		*out = other;
		return 0;
	}
	if (!name) {
		if (xsnprintf(defname, sizeof(defname), "chunks-%.8s", sha) < 0)
			return err_set(e, MOAT_ELIMIT, "cannot name a chunk set");
		name = defname;
	}
	if (strlen(name) >= sizeof(out->name))
		return err_set(e, MOAT_EUSAGE, "chunk set name '%.40s...' is longer than %zu bytes",
			       name, sizeof(out->name) - 1);
	/* another shard may make the same set at the same moment: then this
	 * insert does nothing and the set is looked up again, as theirs */
	st = store_prep(s, "INSERT INTO chunk_sets(name, settings, settings_sha256, tokenizer, raw,"
			" run_id, created_at, updated_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?)"
			" ON CONFLICT DO NOTHING", e);
	if (!st)
		return -1;
	store_utc_now(now, 3);
	db_bind_text(st, 1, name, -1, DB_COPY);
	db_bind_text(st, 2, settings, -1, DB_COPY);
	db_bind_text(st, 3, sha, -1, DB_COPY);
	db_bind_text(st, 4, tokenizer, -1, DB_COPY);
	db_bind_int(st, 5, raw);
	if (run_id > 0)
		db_bind_int64(st, 6, run_id);
	else
		db_bind_null(st, 6);
	db_bind_text(st, 7, now, -1, DB_COPY);
	db_bind_text(st, 8, now, -1, DB_COPY);
	if (store_step(s, st, "cannot write a chunk set", e) < 0)
		return -1;
	if (db_changes(store_db(s)) == 0) {
		if (again)
			return err_set(e, MOAT_EEXISTS, "chunk set '%s' was made and is gone again", name);
		return set_open(s, name, settings, tokenizer, raw, run_id, out, 1, e);
	}
	out->id = db_last_insert_id(store_db(s));
	memcpy(out->name, name, strlen(name) + 1);
	memcpy(out->settings_sha256, sha, sizeof(sha));
	out->raw = raw;
	out->created = 1;
	return 0;
}

int ds_chunk_set_open(struct store *s, const char *name, const char *settings,
		      const char *tokenizer, int raw, int64_t run_id, struct ds_chunk_set *out,
		      struct moat_err *e)
{
	return set_open(s, name, settings, tokenizer, raw, run_id, out, 0, e);
}

int ds_chunk_set_find(struct store *s, const char *name, struct ds_chunk_set *out,
		      struct moat_err *e)
{
	int r;
	memset(out, 0, sizeof(*out));
	r = name ? set_row(s, SET_COLS "WHERE name = ?", name, out, e)
		 : set_row(s, SET_COLS "ORDER BY updated_at DESC, id DESC LIMIT 1", NULL, out, e);
	if (r < 0)
		return -1;
	if (!r)
		return name ? err_set(e, MOAT_ENOTFOUND, "no chunk set '%s' (moat chunk --list)", name)
			    : err_set(e, MOAT_ENOTFOUND, "no chunk set: run moat chunk first");
	return 0;
}

static json_t *set_json(struct db_stmt *st)
{
	int bad = 0;
	json_t *settings = store_json_loads(col(st, 1), &bad);
	return json_pack("{s:s, s:o, s:s, s:b, s:s, s:s, s:I, s:I, s:I}", "name", col(st, 0),
			 "settings", settings ? settings : json_null(), "tokenizer", col(st, 2), "raw",
			 db_column_int(st, 3), "created_at", col(st, 4), "updated_at", col(st, 5),
			 "documents", (json_int_t)db_column_int64(st, 6), "chunks",
			 (json_int_t)db_column_int64(st, 7), "tokens",
			 (json_int_t)db_column_int64(st, 8));
}

json_t *ds_chunk_sets(struct store *s, struct moat_err *e)
{
	return rows_json(s, store_prep(s,
		"SELECT k.name, k.settings, k.tokenizer, k.raw, k.created_at, k.updated_at,"
		" (SELECT count(DISTINCT doc_id) FROM chunks c WHERE c.set_id = k.id),"
		" (SELECT count(*) FROM chunks c WHERE c.set_id = k.id),"
		" (SELECT coalesce(sum(tokens), 0) FROM chunks c WHERE c.set_id = k.id)"
		" FROM chunk_sets k ORDER BY k.id", e), set_json, "cannot list chunk sets", e);
}

int ds_chunks_source(struct store *s, int64_t set, const char *doc_id, char sha[65],
		     struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "SELECT source_sha256 FROM chunks WHERE set_id = ? AND doc_id = ?"
				      " LIMIT 1", e);
	int rc;
	if (!st)
		return -1;
	db_bind_int64(st, 1, set);
	db_bind_text(st, 2, doc_id, -1, DB_COPY);
	sha[0] = '\0';
	rc = db_step(st);
	if (rc == DB_ROW)
		store_col_copy(sha, 65, st, 0);
	db_finalize(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return store_db_err(s, "cannot read chunks", e);
	return rc == DB_ROW;
}

int ds_chunks_put(struct store *s, int64_t set, const char *doc_id, const char *source_sha,
		  const struct ds_chunk *c, size_t n, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "DELETE FROM chunks WHERE set_id = ? AND doc_id = ?", e);
	if (!st)
		return -1;
	db_bind_int64(st, 1, set);
	db_bind_text(st, 2, doc_id, -1, DB_COPY);
	if (store_step(s, st, "cannot write chunks", e) < 0)
		return -1;
	st = store_prep(s, "INSERT INTO chunks(set_id, doc_id, seq, el_first, el_last, page_first,"
			" page_last, start_cp, end_cp, tokens, text, source_sha256)"
			" VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", e);
	if (!st)
		return -1;
	for (size_t i = 0; i < n; i++) {
		db_reset(st);
		db_bind_int64(st, 1, set);
		db_bind_text(st, 2, doc_id, -1, DB_STATIC);
		db_bind_int(st, 3, c[i].seq);
		db_bind_int64(st, 4, (int64_t)c[i].el_first);
		db_bind_int64(st, 5, (int64_t)c[i].el_last);
		db_bind_int(st, 6, c[i].page_first);
		db_bind_int(st, 7, c[i].page_last);
		db_bind_int64(st, 8, (int64_t)c[i].start);
		db_bind_int64(st, 9, (int64_t)c[i].end);
		db_bind_int(st, 10, c[i].tokens);
		db_bind_text(st, 11, c[i].text, (int)c[i].len, DB_STATIC);
		db_bind_text(st, 12, source_sha, -1, DB_STATIC);
		if (db_step(st) != DB_DONE) {
			store_db_err(s, "cannot write chunks", e);
			db_finalize(st);
			return -1;
		}
	}
	db_finalize(st);
	return 0;
}

int ds_chunk_set_touch(struct store *s, int64_t set, int64_t run_id, struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	struct db_stmt *st = store_prep(s, "UPDATE chunk_sets SET updated_at = ?, run_id = ? WHERE id = ?", e);
	if (!st)
		return -1;
	store_utc_now(now, 3);
	db_bind_text(st, 1, now, -1, DB_COPY);
	db_bind_int64(st, 2, run_id);
	db_bind_int64(st, 3, set);
	return store_step(s, st, "cannot write a chunk set", e);
}

int ds_each_chunk(struct store *s, int64_t set, ds_chunk_fn fn, void *ctx, int64_t *stale,
		  struct moat_err *e)
{
	struct db_stmt *st, *q;
	int rc, ret = 0, raw;
	if (stale)
		*stale = 0;
	/* the set's raw decides which documents count */
	q = store_prep(s, "SELECT raw FROM chunk_sets WHERE id = ?", e);
	if (!q)
		return -1;
	db_bind_int64(q, 1, set);
	rc = db_step(q);
	raw = rc == DB_ROW ? db_column_int(q, 0) : 0;
	db_finalize(q);
	if (rc != DB_ROW)
		return rc == DB_DONE ? err_set(e, MOAT_ENOTFOUND, "no such chunk set")
					 : store_db_err(s, "cannot read chunk sets", e);
	/* documents in ingest order; chunks follow per document, checked
	 * against the digest of its current text */
	st = store_prep(s, raw ? SQL_DOCS_RAW HAS_CHUNKS IN_ORDER : SQL_DOCS_CLEAN HAS_CHUNKS IN_ORDER, e);
	if (!st)
		return -1;
	db_bind_int64(st, 1, set);
	if (!(q = store_prep(s, "SELECT seq, el_first, el_last, page_first, page_last, start_cp, end_cp,"
			     " tokens, text, source_sha256 FROM chunks WHERE set_id = ? AND doc_id = ?"
			     " ORDER BY seq", e))) {
		db_finalize(st);
		return -1;
	}
	while ((rc = db_step(st)) == DB_ROW) {
		struct ds_doc d;
		char sha[SHA256_HEX];
		int crc, first = 1;
		memset(&d, 0, sizeof(d));
		doc_row(st, &d);
		sha256_hex_mem(db_column_blob(st, 3), (size_t)db_column_bytes(st, 3), sha);
		db_reset(q);
		db_bind_int64(q, 1, set);
		db_bind_text(q, 2, d.id, -1, DB_COPY);
		while ((crc = db_step(q)) == DB_ROW) {
			struct ds_chunk c;
			if (first) {
				first = 0;
				if (strcmp(col(q, 9), sha)) {
					if (stale)
						(*stale)++;
					crc = DB_DONE;
					break;
				}
			}
			c.doc_id = d.id;
			c.seq = db_column_int(q, 0);
			c.el_first = (size_t)db_column_int64(q, 1);
			c.el_last = (size_t)db_column_int64(q, 2);
			c.page_first = db_column_int(q, 3);
			c.page_last = db_column_int(q, 4);
			c.start = (size_t)db_column_int64(q, 5);
			c.end = (size_t)db_column_int64(q, 6);
			c.tokens = db_column_int(q, 7);
			c.text = col(q, 8);
			c.len = (size_t)db_column_bytes(q, 8);
			if ((ret = fn(ctx, &c, &d, e)) != 0)
				goto out;
		}
		if (crc != DB_DONE) {
			ret = store_db_err(s, "cannot read chunks", e);
			goto out;
		}
	}
	if (rc != DB_DONE)
		ret = store_db_err(s, "cannot read documents", e);
out:
	db_finalize(q);
	db_finalize(st);
	return ret;
}

/* --- projects and tasks ------------------------------------------------------- */

int ds_project_find(struct store *s, const char *name, int64_t *id, char kind[16],
		    json_t **labels, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "SELECT id, kind, labels FROM projects WHERE name = ?", e);
	int rc;
	if (labels)
		*labels = NULL;
	if (!st)
		return -1;
	db_bind_text(st, 1, name, -1, DB_COPY);
	rc = db_step(st);
	if (rc == DB_ROW) {
		*id = db_column_int64(st, 0);
		if (kind)
			store_col_copy(kind, 16, st, 1);
		if (labels) {
			int nomem = 0;
			*labels = store_json_loads(col(st, 2), &nomem);
			if (!*labels || !json_is_array(*labels)) {
				json_decref(*labels);
				*labels = NULL;
				db_finalize(st);
				return err_set(e, nomem ? MOAT_ENOMEM : MOAT_ECORRUPT,
					       "project '%s': %s", name,
					       nomem ? "out of memory" : "its label set is not a JSON array");
			}
		}
	}
	db_finalize(st);
	if (rc == DB_ROW)
		return 0;
	if (rc != DB_DONE)
		return store_db_err(s, "cannot read projects", e);
	return err_set(e, MOAT_ENOTFOUND, "no project '%s'", name);
}

int ds_project_open(struct store *s, const char *name, const char *kind, const json_t *labels,
		    int64_t *id, struct moat_err *e)
{
	char have_kind[16], now[STORE_TIME_MAX];
	json_t *have = NULL, *l;
	size_t i;
	char *text;
	struct db_stmt *st;
	int changed = 0;
	struct moat_err fe = MOAT_ERR_INIT;
	if (ds_project_find(s, name, id, have_kind, &have, &fe) == 0) {
		if (strcmp(have_kind, kind)) {
			json_decref(have);
			return err_set(e, MOAT_EEXISTS, "project '%s' holds %s tasks, not %s (give --project)",
				       name, have_kind, kind);
		}
	} else if (fe.code != MOAT_ENOTFOUND) {
		*e = fe;
		return -1;
	} else {
		*id = 0;
		if (!(have = json_array()))
			return err_set(e, MOAT_ENOMEM, "out of memory");
		changed = 1;
	}
	json_array_foreach(labels, i, l) {
		size_t j;
		json_t *h;
		int found = 0;
		json_array_foreach(have, j, h)
			if (json_equal(h, l)) {
				found = 1;
				break;
			}
		if (!found) {
			if (json_array_append(have, l)) {
				json_decref(have);
				return err_set(e, MOAT_ENOMEM, "out of memory");
			}
			changed = 1;
		}
	}
	if (!changed) {
		json_decref(have);
		return 0;
	}
	text = store_json_dumps(have, JSON_COMPACT);
	json_decref(have);
	if (!text)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	store_utc_now(now, 3);
	st = *id ? store_prep(s, "UPDATE projects SET labels = ?2 WHERE id = ?1", e)
		 : store_prep(s, "INSERT INTO projects(name, kind, labels, created_at)"
			      " VALUES(?3, ?4, ?2, ?5)", e);
	if (!st) {
		free(text);
		return -1;
	}
	if (*id)
		db_bind_int64(st, 1, *id);
	else
		db_bind_null(st, 1);
	db_bind_text(st, 2, text, -1, DB_COPY);
	if (!*id) {
		db_bind_text(st, 3, name, -1, DB_COPY);
		db_bind_text(st, 4, kind, -1, DB_COPY);
		db_bind_text(st, 5, now, -1, DB_COPY);
	}
	free(text);
	if (store_step(s, st, "cannot write a project", e) < 0)
		return -1;
	if (!*id)
		*id = db_last_insert_id(store_db(s));
	return 0;
}

int ds_task_add(struct store *s, int64_t project, struct ds_task *t, struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	struct db_stmt *st = store_prep(s,
		"INSERT INTO tasks(project_id, kind, doc_id, seq, text, cleaned, width, height, name,"
		" split, source, meta, created_at, run_id, image) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", e);
	if (!st)
		return -1;
	store_utc_now(now, 3);
	db_bind_int64(st, 1, project);
	db_bind_text(st, 2, t->kind, -1, DB_STATIC);
	bind_text_or_null(st, 3, t->doc_id);
	if (t->seq >= 0)
		db_bind_int(st, 4, t->seq);
	bind_text_or_null(st, 5, t->text);
	db_bind_int(st, 6, t->cleaned);
	if (t->width > 0)
		db_bind_int(st, 7, t->width);
	if (t->height > 0)
		db_bind_int(st, 8, t->height);
	bind_text_or_null(st, 9, t->name);
	bind_text_or_null(st, 10, t->split);
	bind_text_or_null(st, 11, t->source);
	bind_text_or_null(st, 12, t->meta);
	db_bind_text(st, 13, now, -1, DB_COPY);
	db_bind_int64(st, 14, t->run_id);
	bind_text_or_null(st, 15, t->image);
	if (store_step(s, st, "cannot write a task", e) < 0)
		return -1;
	t->id = db_last_insert_id(store_db(s));
	return 0;
}

static const char *const STATUS_NAMES[] = { "draft", "submitted", "accepted", "rejected" };

unsigned ds_status_parse(const char *s)
{
	for (unsigned i = 0; i < 4; i++)
		if (!strcmp(s, STATUS_NAMES[i]))
			return 1u << i;
	return 0;
}

const char *ds_status_name(unsigned bit)
{
	for (unsigned i = 0; i < 4; i++)
		if (bit == 1u << i)
			return STATUS_NAMES[i];
	return "unknown";
}

int ds_annotation_add(struct store *s, int64_t task, const char *annotator, const char *value,
		      unsigned status, int64_t run_id, struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	struct db_stmt *st = store_prep(s, "INSERT INTO annotations(task_id, annotator, value, status,"
				      " created_at, updated_at, run_id) VALUES(?,?,?,?,?,?,?)", e);
	if (!st)
		return -1;
	store_utc_now(now, 3);
	db_bind_int64(st, 1, task);
	db_bind_text(st, 2, annotator, -1, DB_COPY);
	db_bind_text(st, 3, value, -1, DB_COPY);
	db_bind_text(st, 4, ds_status_name(status), -1, DB_STATIC);
	db_bind_text(st, 5, now, -1, DB_COPY);
	db_bind_text(st, 6, now, -1, DB_COPY);
	db_bind_int64(st, 7, run_id);
	return store_step(s, st, "cannot write an annotation", e);
}

int ds_suggestion_add(struct store *s, int64_t task, const struct ds_suggestion *g,
		      int64_t run_id, struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	struct db_stmt *st = store_prep(s, "INSERT INTO suggestions(task_id, value, model, model_digest,"
				      " score, created_at, run_id) VALUES(?,?,?,?,?,?,?)", e);
	if (!st)
		return -1;
	store_utc_now(now, 3);
	db_bind_int64(st, 1, task);
	db_bind_text(st, 2, g->value, -1, DB_COPY);
	bind_text_or_null(st, 3, g->model);
	bind_text_or_null(st, 4, g->model_digest);
	if (g->score >= 0)
		db_bind_double(st, 5, g->score);
	db_bind_text(st, 6, now, -1, DB_COPY);
	db_bind_int64(st, 7, run_id);
	return store_step(s, st, "cannot write a suggestion", e);
}

struct ann_buf {
	struct ds_annotation *v;
	char **owned;   /* the strings of v, 3 per annotation */
	size_t n, cap, cap_owned;
};

static void ann_clear(struct ann_buf *b)
{
	for (size_t i = 0; i < b->n * 3; i++)
		free(b->owned[i]);
	b->n = 0;
}

int ds_each_task(struct store *s, int64_t project, unsigned statuses, ds_task_fn fn, void *ctx,
		 struct moat_err *e)
{
	struct db_stmt *st = store_prep(s,
		"SELECT id, kind, doc_id, coalesce(seq, -1), text, cleaned, coalesce(width, 0),"
		" coalesce(height, 0), name, split, source, meta, coalesce(run_id, 0), image"
		" FROM tasks WHERE project_id = ? ORDER BY id", e), *an = NULL;
	struct ann_buf b = { NULL, NULL, 0, 0, 0 };
	int rc, ret = 0;
	if (!st)
		return -1;
	if (!(an = store_prep(s, "SELECT id, annotator, value, status, updated_at FROM annotations"
			      " WHERE task_id = ? ORDER BY id", e))) {
		db_finalize(st);
		return -1;
	}
	db_bind_int64(st, 1, project);
	while ((rc = db_step(st)) == DB_ROW) {
		struct ds_task t;
		int arc;
		t.id = db_column_int64(st, 0);
		t.kind = col(st, 1);
		t.doc_id = col_or_null(st, 2);
		t.seq = db_column_int(st, 3);
		t.text = col_or_null(st, 4);
		t.cleaned = db_column_int(st, 5);
		t.width = db_column_int(st, 6);
		t.height = db_column_int(st, 7);
		t.name = col_or_null(st, 8);
		t.split = col_or_null(st, 9);
		t.source = col_or_null(st, 10);
		t.meta = col_or_null(st, 11);
		t.run_id = db_column_int64(st, 12);
		t.image = col_or_null(st, 13);
		ann_clear(&b);
		db_reset(an);
		db_bind_int64(an, 1, t.id);
		while ((arc = db_step(an)) == DB_ROW) {
			unsigned bit = ds_status_parse(col(an, 3));
			struct ds_annotation *a;
			if (!(bit & statuses))
				continue;
			if (MOAT_GROW(b.v, b.cap, b.n + 1) < 0 ||
			    MOAT_GROW(b.owned, b.cap_owned, (b.n + 1) * 3) < 0) {
				ret = err_set(e, MOAT_ENOMEM, "cannot read annotations: out of memory");
				goto out;
			}
			a = &b.v[b.n];
			b.owned[b.n * 3] = store_col_dup(an, 1, NULL);
			b.owned[b.n * 3 + 1] = store_col_dup(an, 2, NULL);
			b.owned[b.n * 3 + 2] = store_col_dup(an, 4, NULL);
			b.n++;
			if (!b.owned[b.n * 3 - 3] || !b.owned[b.n * 3 - 2] || !b.owned[b.n * 3 - 1]) {
				ret = err_set(e, MOAT_ENOMEM, "cannot read annotations: out of memory");
				goto out;
			}
			a->id = db_column_int64(an, 0);
			a->annotator = b.owned[b.n * 3 - 3];
			a->value = b.owned[b.n * 3 - 2];
			a->updated_at = b.owned[b.n * 3 - 1];
			a->status = bit;
		}
		if (arc != DB_DONE) {
			ret = store_db_err(s, "cannot read annotations", e);
			goto out;
		}
		if ((ret = fn(ctx, &t, b.v, b.n, e)) != 0)
			goto out;
	}
	if (rc != DB_DONE)
		ret = store_db_err(s, "cannot read tasks", e);
out:
	ann_clear(&b);
	free(b.v);
	free(b.owned);
	db_finalize(an);
	db_finalize(st);
	return ret;
}

/* --- exports ------------------------------------------------------------------- */

int ds_export_add(struct store *s, const struct ds_export *x, struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	struct db_stmt *st = store_prep(s, STORE_SQL(s,
		"INSERT INTO exports(path, format, what, raw, counts, manifest_sha256, audit_seq,"
		" audit_hash, \"user\", created_at, run_id) VALUES(?,?,?,?,?,?,?,?,"
		" (SELECT json_extract(body, '$.user') FROM audit WHERE seq = ?7),?,?)",
		"INSERT INTO exports(path, format, what, raw, counts, manifest_sha256, audit_seq,"
		" audit_hash, \"user\", created_at, run_id) VALUES(?,?,?,?,?,?,?,?,"
		" (SELECT body::json->>'user' FROM audit WHERE seq = ?7),?,?)"), e);
	if (!st)
		return -1;
	store_utc_now(now, 3);
	db_bind_text(st, 1, x->path, -1, DB_COPY);
	db_bind_text(st, 2, x->format, -1, DB_COPY);
	db_bind_text(st, 3, x->what, -1, DB_COPY);
	db_bind_int(st, 4, x->raw);
	db_bind_text(st, 5, x->counts, -1, DB_COPY);
	db_bind_text(st, 6, x->manifest_sha256, -1, DB_COPY);
	db_bind_int64(st, 7, x->audit_seq);
	db_bind_text(st, 8, x->audit_hash, -1, DB_COPY);
	db_bind_text(st, 9, now, -1, DB_COPY);
	db_bind_int64(st, 10, x->run_id);
	return store_step(s, st, "cannot record the export", e);
}

static json_t *export_json(struct db_stmt *st)
{
	int bad = 0;
	json_t *counts = store_json_loads(col(st, 5), &bad);
	return json_pack("{s:I, s:s, s:s, s:s, s:b, s:o, s:s, s:I, s:s, s:s, s:s}", "id",
			 (json_int_t)db_column_int64(st, 0), "path", col(st, 1), "format",
			 col(st, 2), "what", col(st, 3), "raw", db_column_int(st, 4), "counts",
			 counts ? counts : json_object(), "manifest_sha256", col(st, 6), "audit_seq",
			 (json_int_t)db_column_int64(st, 7), "audit_hash", col(st, 8), "user",
			 col(st, 9), "created_at", col(st, 10));
}

json_t *ds_exports(struct store *s, struct moat_err *e)
{
	return rows_json(s, store_prep(s,
		"SELECT id, path, format, what, raw, counts, manifest_sha256, audit_seq, audit_hash,"
		" coalesce(\"user\", ''), created_at FROM exports ORDER BY id", e), export_json,
		"cannot list exports", e);
}

int64_t ds_audit_first_seq(struct store *s, int64_t earliest_run, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, STORE_SQL(s,
		"SELECT coalesce(min(a.seq), 0) FROM audit a WHERE julianday(json_extract(a.body, '$.time'))"
		" >= (SELECT julianday(r.started_at) FROM runs r WHERE r.id = ?)",
		"SELECT coalesce(min(a.seq), 0) FROM audit a WHERE (a.body::json->>'time')::timestamptz"
		" >= (SELECT r.started_at::timestamptz FROM runs r WHERE r.id = ?)"), e);
	int64_t seq = -1;
	if (!st)
		return -1;
	db_bind_int64(st, 1, earliest_run);
	if (db_step(st) == DB_ROW)
		seq = db_column_int64(st, 0);
	db_finalize(st);
	if (seq < 0)
		return store_db_err(s, "cannot read the audit trail", e);
	return seq;
}
