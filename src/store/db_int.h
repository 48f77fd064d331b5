/*
 * db_int.h - what db.c and the backends (db_sqlite.c, db_pg.c) share: the
 * table of a backend's functions.  db.c's public calls dispatch through it.
 *
 * Not for: the store's files, which include db.h only.
 */
#ifndef MOAT_STORE_DB_INT_H
#define MOAT_STORE_DB_INT_H

#include "db.h"

struct db_ops {
	void (*close)(struct db *db);
	const char *(*errmsg)(struct db *db);
	int (*errcode)(struct db *db);
	int (*exec)(struct db *db, const char *sql);
	int (*begin)(struct db *db);
	int (*lock_chain)(struct db *db);
	int (*in_tx)(struct db *db);
	int (*schema_version)(struct db *db);
	int (*set_schema_version)(struct db *db, int v);
	int (*exec_ddl)(struct db *db, const char *ddl);
	int64_t (*last_insert_id)(struct db *db);
	int64_t (*changes)(struct db *db);
	int (*prepare)(struct db *db, const char *sql, struct db_stmt **out);
	int (*step)(struct db_stmt *st);
	void (*reset)(struct db_stmt *st);
	void (*clear_bindings)(struct db_stmt *st);
	void (*finalize)(struct db_stmt *st);
	int (*bind_int64)(struct db_stmt *st, int i, int64_t v);
	int (*bind_double)(struct db_stmt *st, int i, double v);
	int (*bind_null)(struct db_stmt *st, int i);
	int (*bind_bytes)(struct db_stmt *st, int i, const void *p, int len, enum db_life life,
			  int blob);
	int (*is_null)(struct db_stmt *st, int col);
	int64_t (*col_int64)(struct db_stmt *st, int col);
	double (*col_double)(struct db_stmt *st, int col);
	const char *(*col_text)(struct db_stmt *st, int col);
	const void *(*col_blob)(struct db_stmt *st, int col);
	int (*col_bytes)(struct db_stmt *st, int col);
};

/* The first member of each backend's connection and statement. */
struct db {
	const struct db_ops *ops;
	enum db_backend backend;
	int in_tx;
};

struct db_stmt {
	struct db *db;
};

#endif
