/*
 * store_int.h - what the store module's own files share (store.c, cleaned.c,
 * audit.c) and nothing outside src/store/ includes: the database connection (db.h),
 * preparing and stepping statements with the error they give, copying
 * columns, and the UTC time stamps the tables carry.
 *
 * Not for: stages or commands, which see only store.h, cleaned.h and audit.h,
 * so that the SQL and the database stay inside this module (a PostgreSQL backend
 * would replace these helpers, not their callers).
 *
 * Uses db.h, core/err.h and core/buf.h.
 */
#ifndef MOAT_STORE_INT_H
#define MOAT_STORE_INT_H

#include <stddef.h>

#include <jansson.h>

#include "store.h"
#include "db.h"

/* The workspace's connection (db.h). */
struct db *store_db(struct store *s);

/* The query for the store's backend: lite for SQLite, pg for PostgreSQL,
 * where the two dialects differ (db.h lists where). */
#define STORE_SQL(s, lite, pg) (db_backend(store_db(s)) == DB_POSTGRES ? (pg) : (lite))

/* Fills e from the connection's last error as "what: the database's message"
 * (MOAT_EBUSY when the database was locked, else MOAT_EDB); returns -1. */
int store_db_err(struct store *s, const char *what, struct moat_err *e);

/* A prepared statement, or NULL with e set ("cannot prepare a query: ..."). */
struct db_stmt *store_prep(struct store *s, const char *sql, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Steps st once and finalizes it: 0 when it ran (a row or done), else -1
 * with e set as store_db_err(s, what, e). */
int store_step(struct store *s, struct db_stmt *st, const char *what, struct moat_err *e)
	__attribute__((warn_unused_result));

/* How a loop over rows ended: 0 when it read them all (rc is DB_DONE),
 * else -1 with e set: "what: out of memory" when nomem, else the database's
 * error (store_db_err). */
int store_rows_end(struct store *s, int rc, int nomem, const char *what, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Copies a text column into dst[cap], cut to cap - 1 bytes ("" for NULL):
 * for ids and statuses whose length the schema bounds, and for messages
 * that are shown cut. */
void store_col_copy(char *dst, size_t cap, struct db_stmt *st, int col);

/* The meta table: store_meta_get gives 1 when key is there (its value in
 * out, cut to n - 1 bytes), 0 when not, -1 when the database failed;
 * store_meta_set 0 or -1. */
int store_meta_get(struct db *db, const char *key, char *out, size_t n)
	__attribute__((warn_unused_result));
int store_meta_set(struct db *db, const char *key, const char *value)
	__attribute__((warn_unused_result));

/* A malloc'd copy of a text column (its bytes, NUL-terminated; "" for
 * NULL) with its length in *len (may be NULL); NULL when out of memory. */
char *store_col_dup(struct db_stmt *st, int col, size_t *len) __attribute__((warn_unused_result));

/* json_dumps() that never returns a cut text: jansson's own drops an object
 * key whose append runs out of memory and goes on (2.14), so a record could
 * be stored without a part.  This one measures, allocates once and writes,
 * and returns NULL when anything fails.  Free with free(). */
char *store_json_dumps(const json_t *j, size_t flags) __attribute__((warn_unused_result));

/* json_loads() that tells running out of memory (*nomem = 1) from text that
 * is not JSON (*nomem = 0); both return NULL.  jansson leaves its error
 * empty, or says out of memory, for the first. */
json_t *store_json_loads(const char *text, int *nomem) __attribute__((warn_unused_result));

/* audit.head, beside moat.db: one line "<seq> <hash>" per audit record,
 * appended and fsynced once its transaction commits (audit.c notes the head
 * with store_note_audit_head; store_commit writes it). */
#define STORE_AUDIT_HEAD "audit.head"
void store_note_audit_head(struct store *s, long long seq, const char *hash);

/* The current UTC time as 2024-05-01T12:00:00Z with `decimals` digits of
 * the second (0, 3 or 6) before the Z. */
#define STORE_TIME_MAX 40
void store_utc_now(char out[STORE_TIME_MAX], int decimals);

#endif
