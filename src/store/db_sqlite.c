/*
 * db_sqlite.c - the SQLite backend of the database layer (db.h): the
 * workspace's moat.db in WAL mode, with a busy timeout, and opened read-only
 * where the user may only read it.
 *
 * Not for: the workspace's rules (store.c) or other backends (db_pg.c).
 */
#include "db_int.h"
#include "../core/buf.h"
#include "../core/fmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "../core/banned.h"

/* Prepared statements kept for reuse, per connection: compiling the SQL
 * was a fifth of a web request's time (bench/annotate).  An entry in use
 * (prepared and not yet finalized by its caller) is not handed out again:
 * the same SQL prepared twice at once gets a statement of its own. */
#define SQ_CACHE 64

struct sq_cached {
	char *sql;           /* NULL: a free slot */
	uint32_t hash;
	sqlite3_stmt *h;
	int in_use;
	uint64_t used;       /* when last handed out: the least recent goes */
};

struct sq {
	struct db base;
	sqlite3 *h;
	struct sq_cached cache[SQ_CACHE];
	uint64_t clock;
};

struct sq_stmt {
	struct db_stmt base;
	sqlite3_stmt *h;
	struct sq_cached *from;  /* the cache slot it came from, or NULL */
};

#define H(db) (((struct sq *)(db))->h)
#define S(st) (((struct sq_stmt *)(st))->h)

static void sq_close(struct db *db)
{
	struct sq *q = (struct sq *)db;
	for (size_t i = 0; i < SQ_CACHE; i++) {
		sqlite3_finalize(q->cache[i].h);
		free(q->cache[i].sql);
	}
	sqlite3_close_v2(q->h);
	free(db);
}

static const char *sq_errmsg(struct db *db)
{
	return H(db) ? sqlite3_errmsg(H(db)) : "out of memory";
}

/* SQLite's error as moat's code: a full disk, an I/O error or no memory is
 * the machine's fault (MOAT_EENV), not the data's. */
static int sq_errcode(struct db *db)
{
	if (!H(db))
		return MOAT_EENV;
	switch (sqlite3_errcode(H(db)) & 0xff) {
	case SQLITE_BUSY:
		return MOAT_EBUSY;
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_NOMEM:
		return MOAT_EENV;
	default:
		return err_errno_code(sqlite3_system_errno(H(db)), MOAT_EDB);
	}
}

static int sq_exec(struct db *db, const char *sql)
{
	return sqlite3_exec(H(db), sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int sq_begin(struct db *db)
{
	return sq_exec(db, "BEGIN IMMEDIATE");
}

static int sq_lock_chain(struct db *db)
{
	(void)db;  /* BEGIN IMMEDIATE holds SQLite's one writer lock */
	return 0;
}

static int sq_in_tx(struct db *db)
{
	return !sqlite3_get_autocommit(H(db));
}

static int sq_schema_version(struct db *db)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(H(db), "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int sq_set_schema_version(struct db *db, int v)
{
	char pragma[64];
	if (xsnprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", v) < 0)
		return -1;
	return sq_exec(db, pragma);
}

static int64_t sq_last_insert_id(struct db *db)
{
	return sqlite3_last_insert_rowid(H(db));
}

static int64_t sq_changes(struct db *db)
{
	return sqlite3_changes(H(db));
}

static uint32_t sql_hash(const char *s)
{
	uint32_t h = 2166136261u;  /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The cached statement for sql, marked in use, or NULL. */
static struct sq_cached *cache_take(struct sq *q, const char *sql, uint32_t hash)
{
	for (size_t i = 0; i < SQ_CACHE; i++) {
		struct sq_cached *c = &q->cache[i];
		if (c->sql && c->hash == hash && !c->in_use && !strcmp(c->sql, sql)) {
			c->in_use = 1;
			c->used = ++q->clock;
			return c;
		}
	}
	return NULL;
}

/* A slot for a new statement: a free one, else the least recently used
 * that is not in use (its statement finalized), or NULL when all are. */
static struct sq_cached *cache_slot(struct sq *q)
{
	struct sq_cached *best = NULL;
	for (size_t i = 0; i < SQ_CACHE; i++) {
		struct sq_cached *c = &q->cache[i];
		if (!c->sql)
			return c;
		if (!c->in_use && (!best || c->used < best->used))
			best = c;
	}
	if (best) {
		sqlite3_finalize(best->h);
		free(best->sql);
		memset(best, 0, sizeof(*best));
	}
	return best;
}

static int sq_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
	struct sq *q = (struct sq *)db;
	struct sq_stmt *st = calloc(1, sizeof(*st));
	uint32_t hash = sql_hash(sql);
	struct sq_cached *c;
	if (!st)
		return -1;
	st->base.db = db;
	if ((c = cache_take(q, sql, hash))) {
		st->h = c->h;
		st->from = c;
		*out = &st->base;
		return 0;
	}
	if (sqlite3_prepare_v3(q->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->h, NULL) != SQLITE_OK) {
		sqlite3_finalize(st->h);
		free(st);
		return -1;
	}
	/* statements with nothing to run (a comment) are not kept */
	if (st->h && (c = cache_slot(q)) && (c->sql = strdup(sql))) {
		c->hash = hash;
		c->h = st->h;
		c->in_use = 1;
		c->used = ++q->clock;
		st->from = c;
	}
	*out = &st->base;
	return 0;
}

static int sq_step(struct db_stmt *st)
{
	int rc = sqlite3_step(S(st));
	return rc == SQLITE_ROW ? DB_ROW : rc == SQLITE_DONE ? DB_DONE : DB_ERROR;
}

static void sq_reset(struct db_stmt *st)
{
	sqlite3_reset(S(st));
}

static void sq_clear_bindings(struct db_stmt *st)
{
	sqlite3_clear_bindings(S(st));
}

static void sq_finalize(struct db_stmt *st)
{
	struct sq_stmt *q = (struct sq_stmt *)st;
	if (q->from) {
		/* back to the cache, ready to run again and holding nothing */
		sqlite3_reset(q->h);
		sqlite3_clear_bindings(q->h);
		q->from->in_use = 0;
	} else {
		sqlite3_finalize(q->h);
	}
	free(st);
}

static int sq_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	return sqlite3_bind_int64(S(st), i, v) == SQLITE_OK ? 0 : -1;
}

static int sq_bind_double(struct db_stmt *st, int i, double v)
{
	return sqlite3_bind_double(S(st), i, v) == SQLITE_OK ? 0 : -1;
}

static int sq_bind_null(struct db_stmt *st, int i)
{
	return sqlite3_bind_null(S(st), i) == SQLITE_OK ? 0 : -1;
}

static int sq_bind_bytes(struct db_stmt *st, int i, const void *p, int len, enum db_life life,
			 int blob)
{
	sqlite3_destructor_type d = life == DB_TAKE ? free : life == DB_COPY ? SQLITE_TRANSIENT
									 : SQLITE_STATIC;
	int rc = blob ? sqlite3_bind_blob(S(st), i, p, len, d) : sqlite3_bind_text(S(st), i, p, len, d);
	return rc == SQLITE_OK ? 0 : -1;
}

static int sq_is_null(struct db_stmt *st, int col)
{
	return sqlite3_column_type(S(st), col) == SQLITE_NULL;
}

static int64_t sq_col_int64(struct db_stmt *st, int col)
{
	return sqlite3_column_int64(S(st), col);
}

static double sq_col_double(struct db_stmt *st, int col)
{
	return sqlite3_column_double(S(st), col);
}

static const char *sq_col_text(struct db_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(S(st), col);
}

static const void *sq_col_blob(struct db_stmt *st, int col)
{
	return sqlite3_column_blob(S(st), col);
}

static int sq_col_bytes(struct db_stmt *st, int col)
{
	return sqlite3_column_bytes(S(st), col);
}

static const struct db_ops sq_ops = {
	.close = sq_close, .errmsg = sq_errmsg, .errcode = sq_errcode, .exec = sq_exec,
	.begin = sq_begin, .lock_chain = sq_lock_chain, .in_tx = sq_in_tx,
	.schema_version = sq_schema_version, .set_schema_version = sq_set_schema_version,
	.exec_ddl = sq_exec, .last_insert_id = sq_last_insert_id, .changes = sq_changes,
	.prepare = sq_prepare, .step = sq_step, .reset = sq_reset,
	.clear_bindings = sq_clear_bindings, .finalize = sq_finalize, .bind_int64 = sq_bind_int64,
	.bind_double = sq_bind_double, .bind_null = sq_bind_null, .bind_bytes = sq_bind_bytes,
	.is_null = sq_is_null, .col_int64 = sq_col_int64, .col_double = sq_col_double,
	.col_text = sq_col_text, .col_blob = sq_col_blob, .col_bytes = sq_col_bytes,
};

/* SQLITE_READONLY or SQLITE_CANTOPEN: what a workspace the user may not
 * write gives when opened for writing. */
static int read_only_error(sqlite3 *h)
{
	int c = sqlite3_errcode(h) & 0xff;  /* the primary code of an extended one */
	/* a full disk too: reading needs no room (a WAL database's -shm may) */
	return c == SQLITE_READONLY || c == SQLITE_CANTOPEN || c == SQLITE_PERM || c == SQLITE_AUTH ||
	       c == SQLITE_FULL || c == SQLITE_IOERR;
}

/* Opens path read-only, as a URI: mode=ro, and where even that needs to
 * write (a WAL database's -shm in a read-only directory), immutable=1 (no
 * locks, no -shm: right for a workspace no one can write here).  Replaces
 * db's handle; 0 or -1. */
static int open_read_only(struct sq *db, const char *path)
{
	static const char *const params[] = { "?mode=ro", "?mode=ro&immutable=1" };
	struct buf uri = BUF_INIT;
	int rc = -1;
	for (size_t k = 0; k < 2 && rc < 0; k++) {
		buf_reset(&uri);
		buf_adds(&uri, "file:");
		for (const char *p = path; *p; p++) {
			if (*p == '?' || *p == '#' || *p == '%')
				buf_addf(&uri, "%%%02X", (unsigned char)*p);
			else
				buf_addch(&uri, *p);
		}
		buf_adds(&uri, params[k]);
		if (buf_failed(&uri))
			break;
		sqlite3_close_v2(db->h);
		db->h = NULL;
		if (sqlite3_open_v2(buf_str(&uri), &db->h, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
				    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK)
			continue;
		sqlite3_extended_result_codes(db->h, 1);
		if (sqlite3_exec(db->h, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) == SQLITE_OK)
			rc = 0;
	}
	buf_release(&uri);
	return rc;
}

struct db *db_sqlite_open(const char *path, int create, int write, int *read_only,
			  struct moat_err *e)
{
	struct sq *db = calloc(1, sizeof(*db));
	int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	*read_only = 0;
	if (!db) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	db->base.ops = &sq_ops;
	db->base.backend = DB_SQLITE;
	if (sqlite3_open_v2(path, &db->h, oflags, NULL) != SQLITE_OK) {
		if (!create && !write && open_read_only(db, path) == 0)
			goto opened_ro;
		err_set(e, sq_errcode(&db->base), "cannot open '%s': %s", path, sq_errmsg(&db->base));
		goto fail;
	}
	sqlite3_busy_timeout(db->h, 60000);
	sqlite3_extended_result_codes(db->h, 1);
	if (sq_exec(&db->base, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		    " PRAGMA foreign_keys=ON;") < 0) {
		/* a workspace this user may only read (a read-only directory or
		 * file, a read-only mount): list and verify it all the same */
		if (!create && !write && read_only_error(db->h) && open_read_only(db, path) == 0)
			goto opened_ro;
		err_set(e, sq_errcode(&db->base), "database error in '%s': %s", path,
			sq_errmsg(&db->base));
		goto fail;
	}
	return &db->base;
opened_ro:
	*read_only = 1;
	return &db->base;
fail:
	sq_close(&db->base);
	return NULL;
}

const char *db_sqlite_version(void)
{
	return sqlite3_libversion();
}
