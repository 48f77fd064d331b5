/*
 * db.c - the database layer's public calls (db.h), each passed to the
 * connection's backend.
 *
 * Not for: SQL or a backend's own rules (db_sqlite.c, db_pg.c).
 */
#include "db_int.h"

#include <stdlib.h>

#include "../core/banned.h"

void db_close(struct db *db)
{
	if (db)
		db->ops->close(db);
}

enum db_backend db_backend(const struct db *db)
{
	return db->backend;
}

const char *db_errmsg(struct db *db)
{
	return db->ops->errmsg(db);
}

int db_errcode(struct db *db)
{
	return db->ops->errcode(db);
}

int db_exec(struct db *db, const char *sql)
{
	return db->ops->exec(db, sql);
}

int db_begin(struct db *db)
{
	if (db->ops->begin(db) < 0)
		return -1;
	db->in_tx = 1;
	return 0;
}

int db_commit(struct db *db)
{
	if (db->ops->exec(db, "COMMIT") < 0)
		return -1;
	db->in_tx = 0;
	return 0;
}

int db_rollback(struct db *db)
{
	db->in_tx = 0;
	return db->ops->exec(db, "ROLLBACK");
}

int db_in_tx(struct db *db)
{
	return db->ops->in_tx(db);
}

int db_lock_chain(struct db *db)
{
	return db->ops->lock_chain(db);
}

int db_schema_version(struct db *db)
{
	return db->ops->schema_version(db);
}

int db_set_schema_version(struct db *db, int v)
{
	return db->ops->set_schema_version(db, v);
}

int db_exec_ddl(struct db *db, const char *ddl)
{
	return db->ops->exec_ddl(db, ddl);
}

int64_t db_last_insert_id(struct db *db)
{
	return db->ops->last_insert_id(db);
}

int64_t db_changes(struct db *db)
{
	return db->ops->changes(db);
}

int db_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
	*out = NULL;
	return db->ops->prepare(db, sql, out);
}

int db_step(struct db_stmt *st)
{
	return st->db->ops->step(st);
}

void db_reset(struct db_stmt *st)
{
	st->db->ops->reset(st);
}

void db_clear_bindings(struct db_stmt *st)
{
	st->db->ops->clear_bindings(st);
}

void db_finalize(struct db_stmt *st)
{
	if (st)
		st->db->ops->finalize(st);
}

int db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	return st->db->ops->bind_int64(st, i, v);
}

int db_bind_int(struct db_stmt *st, int i, int v)
{
	return st->db->ops->bind_int64(st, i, v);
}

int db_bind_double(struct db_stmt *st, int i, double v)
{
	return st->db->ops->bind_double(st, i, v);
}

int db_bind_null(struct db_stmt *st, int i)
{
	return st->db->ops->bind_null(st, i);
}

int db_bind_text(struct db_stmt *st, int i, const char *text, int len, enum db_life life)
{
	return st->db->ops->bind_bytes(st, i, text, len, life, 0);
}

int db_bind_blob(struct db_stmt *st, int i, const void *data, int len, enum db_life life)
{
	return st->db->ops->bind_bytes(st, i, data, len, life, 1);
}

int db_column_is_null(struct db_stmt *st, int col)
{
	return st->db->ops->is_null(st, col);
}

int64_t db_column_int64(struct db_stmt *st, int col)
{
	return st->db->ops->col_int64(st, col);
}

int db_column_int(struct db_stmt *st, int col)
{
	return (int)st->db->ops->col_int64(st, col);
}

double db_column_double(struct db_stmt *st, int col)
{
	return st->db->ops->col_double(st, col);
}

const char *db_column_text(struct db_stmt *st, int col)
{
	return st->db->ops->col_text(st, col);
}

const void *db_column_blob(struct db_stmt *st, int col)
{
	return st->db->ops->col_blob(st, col);
}

int db_column_bytes(struct db_stmt *st, int col)
{
	return st->db->ops->col_bytes(st, col);
}
