/*
 * db_pg.c - the PostgreSQL backend of the database layer (db.h), through
 * libpq: a workspace's tables in a server's database, one schema per
 * workspace (store.c names it and sets the search path).
 *
 * Not for: the workspace's rules (store.c) or SQLite (db_sqlite.c).
 *
 * The store's SQL is SQLite's dialect where the two agree (db.h); this file
 * rewrites "?"/"?N" placeholders to "$N" and translates the migrations' DDL.
 * A statement runs on its first db_step() with PQexecParams and keeps its
 * whole result (text format; BYTEA columns are decoded when read as blobs),
 * so other statements may run between its rows.
 */
#include "db_int.h"
#include "../core/buf.h"
#include "../core/fmt.h"
#include "../core/utf8.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "../core/banned.h"

#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25
#define OID_FLOAT8 701
#define OID_BOOL 16

struct pg {
	struct db base;
	PGconn *c;
	char *msg;       /* the last error */
	int code;        /* moat's code for it */
	int64_t changes;
};

struct param {
	char *val;       /* NULL for SQL NULL */
	int len;
	int own;         /* val is ours to free */
	int blob;
	Oid type;
};

struct pg_stmt {
	struct db_stmt base;
	char *sql;          /* with $N */
	int n;              /* parameters: the largest N */
	unsigned char *used; /* [n]: 1 where $N appears */
	struct param *p;
	PGresult *res;
	int row, rows;
	unsigned char **blobs; /* decoded BYTEA per column of the current row */
	size_t *blob_len;
	int ncols;
};

#define PG(db) ((struct pg *)(db))
#define ST(st) ((struct pg_stmt *)(st))

static void set_msg(struct pg *db, int code, const char *msg)
{
	size_t n = strlen(msg);
	char *m;
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	m = malloc(n + 1);
	if (m) {
		memcpy(m, msg, n);
		m[n] = '\0';
	}
	free(db->msg);
	db->msg = m;
	db->code = code;
}

/* PostgreSQL's SQLSTATE as moat's code: a lock that was not granted in time
 * is MOAT_EBUSY; a full disk, no memory, a lost connection or a server
 * shutting down is the machine's (MOAT_EENV); the rest MOAT_EDB. */
static int state_code(const char *state)
{
	if (!state)
		return MOAT_EENV;
	if (!strcmp(state, "55P03") || !strcmp(state, "40P01") || !strcmp(state, "40001") ||
	    !strcmp(state, "57014"))
		return MOAT_EBUSY;
	if (!strncmp(state, "53", 2) || !strncmp(state, "08", 2) || !strncmp(state, "57P", 3) ||
	    !strncmp(state, "58", 2))
		return MOAT_EENV;
	return MOAT_EDB;
}

/* 0 when res is a success, else -1 with the error noted (res kept). */
static int check(struct pg *db, PGresult *res)
{
	ExecStatusType t = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	const char *m;
	if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK)
		return 0;
	if (!res || PQstatus(db->c) != CONNECTION_OK) {
		set_msg(db, MOAT_EENV, PQerrorMessage(db->c));
		return -1;
	}
	m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	set_msg(db, state_code(PQresultErrorField(res, PG_DIAG_SQLSTATE)),
		m ? m : PQresultErrorMessage(res));
	return -1;
}

static void pg_close(struct db *db)
{
	PQfinish(PG(db)->c);
	free(PG(db)->msg);
	free(db);
}

static const char *pg_errmsg(struct db *db)
{
	return PG(db)->msg ? PG(db)->msg : "out of memory";
}

static int pg_errcode(struct db *db)
{
	return PG(db)->msg ? PG(db)->code : MOAT_EENV;
}

static int pg_exec(struct db *db, const char *sql)
{
	PGresult *res = PQexec(PG(db)->c, sql);
	int rc = check(PG(db), res);
	PQclear(res);
	return rc;
}

static int pg_begin(struct db *db)
{
	return pg_exec(db, "BEGIN");
}

static int pg_lock_chain(struct db *db)
{
	/* until the transaction ends, one appender per workspace (schema) */
	return pg_exec(db, "SELECT pg_advisory_xact_lock(hashtext(current_schema()))");
}

static int pg_in_tx(struct db *db)
{
	return PQtransactionStatus(PG(db)->c) != PQTRANS_IDLE;
}

static int pg_schema_version(struct db *db)
{
	PGresult *res = PQexec(PG(db)->c, "SELECT to_regclass('moat_schema') IS NOT NULL");
	int v = -1;
	if (check(PG(db), res) == 0 && PQntuples(res) == 1) {
		v = 0;
		if (PQgetvalue(res, 0, 0)[0] == 't') {
			PQclear(res);
			res = PQexec(PG(db)->c, "SELECT coalesce(max(version), 0) FROM moat_schema");
			v = check(PG(db), res) == 0 && PQntuples(res) == 1 ? (int)strtol(PQgetvalue(res, 0, 0), NULL, 10) : -1;
		}
	}
	PQclear(res);
	return v;
}

static int pg_set_schema_version(struct db *db, int v)
{
	char sql[128];
	if (xsnprintf(sql, sizeof(sql), "CREATE TABLE IF NOT EXISTS moat_schema(version INTEGER NOT NULL);"
		      " DELETE FROM moat_schema; INSERT INTO moat_schema VALUES(%d)", v) < 0)
		return -1;
	return pg_exec(db, sql);
}

/* 1 when s[0..] starts the word w (uppercase, whole word). */
static int word_at(const char *sql, const char *s, const char *w)
{
	size_t n = strlen(w);
	return !strncmp(s, w, n) && (s == sql || !(isalnum((unsigned char)s[-1]) || s[-1] == '_')) &&
	       !(isalnum((unsigned char)s[n]) || s[n] == '_');
}

/* The migrations' DDL in PostgreSQL's words (db.h): types, SQLite's
 * implicit rowid where a query reads it, byte order for text, and the
 * column named user quoted. */
static int pg_exec_ddl(struct db *db, const char *ddl)
{
	static const struct { const char *from, *to; } words[] = {
		{ "INTEGER PRIMARY KEY", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" },
		{ "INTEGER", "BIGINT" },
		{ "REAL", "DOUBLE PRECISION" },
		{ "BLOB", "BYTEA" },
		{ "TEXT", "TEXT COLLATE \"C\"" },
		{ "user", "\"user\"" },
		{ "CREATE TABLE documents(", "CREATE TABLE documents(rowid BIGINT GENERATED ALWAYS AS"
					     " IDENTITY UNIQUE, " },
	};
	struct buf b = BUF_INIT;
	int rc;
	for (const char *p = ddl; *p;) {
		size_t k;
		if (*p == '\'') {  /* a literal, as it is */
			const char *q = strchr(p + 1, '\'');
			size_t n = q ? (size_t)(q - p) + 1 : strlen(p);
			buf_add(&b, p, n);
			p += n;
			continue;
		}
		for (k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
			const char *w = words[k].from;
			size_t n = strlen(w);
			if (w[n - 1] == '(' ? !strncmp(p, w, n) : word_at(ddl, p, w)) {
				buf_adds(&b, words[k].to);
				p += n;
				break;
			}
		}
		if (k == sizeof(words) / sizeof(words[0]))
			buf_addch(&b, *p++);
	}
	if (buf_failed(&b)) {
		buf_release(&b);
		set_msg(PG(db), MOAT_ENOMEM, "out of memory");
		return -1;
	}
	rc = pg_exec(db, buf_str(&b));
	buf_release(&b);
	return rc;
}

static int64_t pg_last_insert_id(struct db *db)
{
	PGresult *res = PQexec(PG(db)->c, "SELECT lastval()");
	int64_t id = 0;
	if (check(PG(db), res) == 0 && PQntuples(res) == 1)
		id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return id;
}

static int64_t pg_changes(struct db *db)
{
	return PG(db)->changes;
}

/* sql with "?" and "?N" as "$N" (outside literals and quoted names); the
 * largest N in *n and which appear in used (malloc'd, *n bytes + 1). */
static char *placeholders(const char *sql, int *n, unsigned char **used)
{
	struct buf b = BUF_INIT;
	int max = 0, cap = 16;
	unsigned char *u = calloc((size_t)cap + 1, 1);
	for (const char *p = sql; u && *p;) {
		if (*p == '\'' || *p == '"') {
			const char *q = strchr(p + 1, *p);
			size_t len = q ? (size_t)(q - p) + 1 : strlen(p);
			buf_add(&b, p, len);
			p += len;
		} else if (*p == '?') {
			int k;
			p++;
			if (isdigit((unsigned char)*p)) {
				k = (int)strtol(p, (char **)&p, 10);
			} else {
				k = max + 1;
			}
			if (k < 1 || k > 32766)
				k = 1;
			if (k > max)
				max = k;
			if (k > cap) {
				unsigned char *nu = realloc(u, (size_t)k * 2 + 1);
				if (!nu) {
					free(u);
					u = NULL;
					break;
				}
				memset(nu + cap + 1, 0, (size_t)(k * 2 - cap));
				u = nu;
				cap = k * 2;
			}
			u[k] = 1;
			buf_addf(&b, "$%d", k);
		} else {
			buf_addch(&b, *p++);
		}
	}
	if (!u || buf_failed(&b)) {
		free(u);
		buf_release(&b);
		return NULL;
	}
	*n = max;
	*used = u;
	return buf_detach(&b, NULL);
}

static int pg_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
	struct pg_stmt *st = calloc(1, sizeof(*st));
	if (!st || !(st->sql = placeholders(sql, &st->n, &st->used)) ||
	    !(st->p = calloc((size_t)st->n + 1, sizeof(*st->p)))) {
		if (st) {
			free(st->sql);
			free(st->used);
		}
		free(st);
		set_msg(PG(db), MOAT_ENOMEM, "out of memory");
		return -1;
	}
	st->base.db = db;
	st->row = -1;
	*out = &st->base;
	return 0;
}

static void drop_row(struct pg_stmt *st)
{
	for (int i = 0; st->blobs && i < st->ncols; i++) {
		PQfreemem(st->blobs[i]);
		st->blobs[i] = NULL;
	}
}

static void pg_reset(struct db_stmt *s)
{
	struct pg_stmt *st = ST(s);
	drop_row(st);
	PQclear(st->res);
	st->res = NULL;
	st->row = -1;
}

static int pg_step(struct db_stmt *s)
{
	struct pg_stmt *st = ST(s);
	struct pg *db = PG(s->db);
	drop_row(st);
	if (!st->res) {
		const char **vals = calloc((size_t)st->n + 1, sizeof(*vals));
		int *lens = calloc((size_t)st->n + 1, sizeof(*lens));
		int *fmts = calloc((size_t)st->n + 1, sizeof(*fmts));
		Oid *types = calloc((size_t)st->n + 1, sizeof(*types));
		int bad = !vals || !lens || !fmts || !types;
		for (int i = 0; !bad && i < st->n; i++) {
			struct param *p = &st->p[i + 1];
			vals[i] = p->val;
			lens[i] = p->len;
			fmts[i] = p->blob;
			/* a parameter the query leaves out still needs a type */
			types[i] = !st->used[i + 1] ? OID_TEXT : p->type;
		}
		if (!bad) {
			const char *cmd;
			st->res = PQexecParams(db->c, st->sql, st->n, types, vals, lens, fmts, 0);
			if (check(db, st->res) < 0)
				bad = 2;
			/* SQLite's changes(): rows an INSERT, UPDATE or DELETE
			 * changed; a SELECT leaves the count as it was */
			cmd = st->res ? PQcmdStatus(st->res) : "";
			if (!strncmp(cmd, "INSERT", 6) || !strncmp(cmd, "UPDATE", 6) ||
			    !strncmp(cmd, "DELETE", 6)) {
				cmd = PQcmdTuples(st->res);
				db->changes = *cmd ? strtoll(cmd, NULL, 10) : 0;
			}
		} else {
			set_msg(db, MOAT_ENOMEM, "out of memory");
		}
		free(vals);
		free(lens);
		free(fmts);
		free(types);
		if (bad) {
			PQclear(st->res);
			st->res = NULL;
			return DB_ERROR;
		}
		st->rows = PQntuples(st->res);
		st->ncols = PQnfields(st->res);
		free(st->blobs);
		free(st->blob_len);
		st->blobs = calloc((size_t)st->ncols + 1, sizeof(*st->blobs));
		st->blob_len = calloc((size_t)st->ncols + 1, sizeof(*st->blob_len));
		if (!st->blobs || !st->blob_len) {
			set_msg(db, MOAT_ENOMEM, "out of memory");
			return DB_ERROR;
		}
		st->row = -1;
	}
	if (++st->row < st->rows)
		return DB_ROW;
	st->row = st->rows;
	return DB_DONE;
}

static void clear_param(struct param *p)
{
	if (p->own)
		free(p->val);
	memset(p, 0, sizeof(*p));
}

static void pg_clear_bindings(struct db_stmt *s)
{
	for (int i = 1; i <= ST(s)->n; i++)
		clear_param(&ST(s)->p[i]);
}

static void pg_finalize(struct db_stmt *s)
{
	struct pg_stmt *st = ST(s);
	pg_reset(s);
	pg_clear_bindings(s);
	free(st->blobs);
	free(st->blob_len);
	free(st->p);
	free(st->used);
	free(st->sql);
	free(st);
}

static int bind_str(struct db_stmt *s, int i, char *val, int len, int own, int blob, Oid type)
{
	struct pg_stmt *st = ST(s);
	if (i < 1 || i > st->n) {
		if (own)
			free(val);
		return -1;
	}
	clear_param(&st->p[i]);
	st->p[i] = (struct param){ val, len, own, blob, type };
	return 0;
}

static int pg_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	char *t;
	if (asprintf(&t, "%" PRId64, v) < 0)
		return -1;
	return bind_str(s, i, t, 0, 1, 0, OID_INT8);
}

static int pg_bind_double(struct db_stmt *s, int i, double v)
{
	char *t;
	if (asprintf(&t, "%.17g", v) < 0)
		return -1;
	return bind_str(s, i, t, 0, 1, 0, OID_FLOAT8);
}

static int pg_bind_null(struct db_stmt *s, int i)
{
	return bind_str(s, i, NULL, 0, 0, 0, 0);
}

static int pg_bind_bytes(struct db_stmt *s, int i, const void *p, int len, enum db_life life,
			 int blob)
{
	size_t n;
	char *v;
	if (!p)
		return pg_bind_null(s, i);
	n = len < 0 ? strlen(p) : (size_t)len;
	/* PostgreSQL's text is UTF-8 without NUL: a file name that is not
	 * (SQLite keeps its bytes) is stored with U+FFFD for each bad byte,
	 * as moat's JSON output shows it anyway (db.h) */
	if (!blob && (!utf8_is_valid(p, n) || memchr(p, '\0', n))) {
		struct buf b = BUF_INIT;
		const char *t = p, *z;
		while ((z = memchr(t, '\0', n - (size_t)(t - (const char *)p)))) {
			utf8_sanitize(&b, t, (size_t)(z - t));
			buf_adds(&b, "\xEF\xBF\xBD");
			t = z + 1;
		}
		utf8_sanitize(&b, t, n - (size_t)(t - (const char *)p));
		if (life == DB_TAKE)
			free((void *)p);
		if (buf_failed(&b)) {
			buf_release(&b);
			return -1;
		}
		n = b.len;
		return bind_str(s, i, buf_detach(&b, NULL), (int)n, 1, 0, 0);
	}
	/* text must end in a NUL for libpq; a blob goes in binary */
	if (life == DB_TAKE && (blob || len < 0)) {
		v = (char *)p;
	} else if (life == DB_STATIC && blob) {
		return bind_str(s, i, (char *)p, (int)n, 0, 1, OID_BYTEA);
	} else {
		v = malloc(n + 1);
		if (v) {
			memcpy(v, p, n);
			v[n] = '\0';
		}
		if (life == DB_TAKE)
			free((void *)p);
		if (!v)
			return -1;
	}
	return bind_str(s, i, v, (int)n, 1, blob, blob ? OID_BYTEA : 0);
}

static int pg_is_null(struct db_stmt *s, int col)
{
	struct pg_stmt *st = ST(s);
	return !st->res || st->row >= st->rows || col >= st->ncols ||
	       PQgetisnull(st->res, st->row, col);
}

static const char *pg_col_text(struct db_stmt *s, int col)
{
	struct pg_stmt *st = ST(s);
	if (pg_is_null(s, col))
		return NULL;
	if (PQftype(st->res, col) == OID_BOOL)
		return PQgetvalue(st->res, st->row, col)[0] == 't' ? "1" : "0";
	return PQgetvalue(st->res, st->row, col);
}

static int64_t pg_col_int64(struct db_stmt *s, int col)
{
	const char *t = pg_col_text(s, col);
	return t ? strtoll(t, NULL, 10) : 0;
}

static double pg_col_double(struct db_stmt *s, int col)
{
	const char *t = pg_col_text(s, col);
	return t ? strtod(t, NULL) : 0.0;
}

static const void *pg_col_blob(struct db_stmt *s, int col)
{
	struct pg_stmt *st = ST(s);
	if (pg_is_null(s, col))
		return NULL;
	if (PQftype(st->res, col) != OID_BYTEA) {
		st->blob_len[col] = (size_t)PQgetlength(st->res, st->row, col);
		return PQgetvalue(st->res, st->row, col);
	}
	if (!st->blobs[col])
		st->blobs[col] = PQunescapeBytea((const unsigned char *)PQgetvalue(st->res, st->row, col),
						 &st->blob_len[col]);
	return st->blobs[col];
}

static int pg_col_bytes(struct db_stmt *s, int col)
{
	struct pg_stmt *st = ST(s);
	if (pg_is_null(s, col))
		return 0;
	if (PQftype(st->res, col) == OID_BYTEA) {
		if (!pg_col_blob(s, col))
			return 0;
		return (int)st->blob_len[col];
	}
	return (int)strlen(pg_col_text(s, col));
}

static const struct db_ops pg_ops = {
	.close = pg_close, .errmsg = pg_errmsg, .errcode = pg_errcode, .exec = pg_exec,
	.begin = pg_begin, .lock_chain = pg_lock_chain, .in_tx = pg_in_tx,
	.schema_version = pg_schema_version, .set_schema_version = pg_set_schema_version,
	.exec_ddl = pg_exec_ddl, .last_insert_id = pg_last_insert_id, .changes = pg_changes,
	.prepare = pg_prepare, .step = pg_step, .reset = pg_reset,
	.clear_bindings = pg_clear_bindings, .finalize = pg_finalize, .bind_int64 = pg_bind_int64,
	.bind_double = pg_bind_double, .bind_null = pg_bind_null, .bind_bytes = pg_bind_bytes,
	.is_null = pg_is_null, .col_int64 = pg_col_int64, .col_double = pg_col_double,
	.col_text = pg_col_text, .col_blob = pg_col_blob, .col_bytes = pg_col_bytes,
};

/* Notices (a table that already exists...) are the server's chatter, not
 * moat's output: library code never prints. */
static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

struct db *db_pg_open(const char *uri, struct moat_err *e)
{
	struct pg *db = calloc(1, sizeof(*db));
	if (!db) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	db->base.ops = &pg_ops;
	db->base.backend = DB_POSTGRES;
	db->c = PQconnectdb(uri);
	if (!db->c || PQstatus(db->c) != CONNECTION_OK) {
		char m[512] = "out of memory";
		if (db->c)
			(void)!xsnprintf(m, sizeof(m), "%s", PQerrorMessage(db->c));
		m[strcspn(m, "\n")] = '\0';
		/* the message names host and user, never a password (libpq's) */
		err_set(e, MOAT_EENV, "cannot connect to the workspace's PostgreSQL server: %s", m);
		pg_close(&db->base);
		return NULL;
	}
	PQsetNoticeProcessor(db->c, quiet, NULL);
	if (pg_exec(&db->base, "SET client_encoding = 'UTF8'; SET client_min_messages = warning") < 0) {
		err_set(e, pg_errcode(&db->base), "cannot set up the PostgreSQL session: %s",
			pg_errmsg(&db->base));
		pg_close(&db->base);
		return NULL;
	}
	return &db->base;
}

const char *db_pg_version(void)
{
	static char v[32];
	int n = PQlibVersion();
	if (xsnprintf(v, sizeof(v), "%d.%d", n / 10000, n % 10000) < 0)
		v[0] = '\0';
	return v;
}

int db_pg_check_uri(const char *uri, struct moat_err *e)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(uri, &msg);
	int rc = 0;
	if (!opts) {
		if (msg)
			msg[strcspn(msg, "\n")] = '\0';
		rc = err_set(e, MOAT_EUSAGE, "not a PostgreSQL URI: %s", msg ? msg : "out of memory");
		PQfreemem(msg);
		return rc;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val && *o->val)
			rc = err_set(e, MOAT_EUSAGE, "the store URI holds a password: moat never stores "
				     "one; put it in ~/.pgpass or the file $PGPASSFILE names");
	PQconninfoFree(opts);
	return rc;
}
