/*
 * store.h - the workspace: a directory holding moat.db (SQLite, WAL mode,
 * numbered migrations; or a marker naming the PostgreSQL server that holds
 * the tables), objects/ (originals, content-addressed by SHA-256) and
 * exports/.  Every stage reads and writes through these functions; no other
 * module writes SQL (the store's own go through db.h, either backend).
 *
 * Not for: what a stage decides (the store knows no stage: it stores the
 * documents ingest hands it and the rows clean computes, cleaned.h), nor the
 * audit chain's rules (audit.h).  Uses db.h, jansson and core/ (err, buf,
 * fs, fmt, doc, jsonu); the module's own files share store_int.h.
 *
 * Concurrency: any number of readers; one writer at a time, serialised by an
 * advisory lock on moat.lock that a writer holds from store_open() to
 * store_close().  SQLite's own locking (busy timeout) covers the rest; on
 * PostgreSQL, audit appends also take an advisory lock (db_lock_chain).
 *
 * Ownership: struct store is opaque; store_close() frees it and everything it
 * handed out that is not documented as the caller's.  json_t results are new
 * references the caller must json_decref().  Every function that can fail
 * returns -1 (or NULL) with e set, and leaves an open transaction for the
 * caller to roll back.
 */
#ifndef MOAT_STORE_H
#define MOAT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../core/err.h"
#include "../core/doc.h"

struct store;

enum store_flags {
	STORE_READ = 0,
	STORE_WRITE = 1,   /* take the writer lock */
	STORE_WAIT = 2,    /* with STORE_WRITE: wait for the lock instead of MOAT_EBUSY */
	/* With STORE_WRITE, a shard's run (--shard I/N): the writer lock is
	 * taken shared, so the shards of one job run side by side while a
	 * run of the whole workspace still waits for them all (and they for
	 * it).  STORE_SHARD_PG: shared only when the tables are in PostgreSQL,
	 * for a stage that writes in one transaction for its whole run
	 * (SQLite would let such shards in only one at a time, each waiting
	 * in its busy handler). */
	STORE_SHARD = 4,
	STORE_SHARD_PG = 8,
};

/* Creates a new workspace in dir (created if missing).  Refuses an existing
 * workspace with MOAT_EEXISTS.  store_create_at() puts its tables where uri
 * says: NULL, "" or "sqlite" for dir/moat.db, or a libpq URI
 * postgres://USER@HOST[:PORT]/DB[?sslmode=...] for a PostgreSQL server (a
 * schema of its own there; dir keeps objects/, exports/ and a moat.db that
 * only names the server and the workspace's id).  A URI holding a password
 * is refused: libpq reads it from ~/.pgpass or $PGPASSFILE.  store_create()
 * takes uri from $MOAT_STORE. */
int store_create(const char *dir, struct moat_err *e) __attribute__((warn_unused_result));
int store_create_at(const char *dir, const char *uri, struct moat_err *e)
	__attribute__((warn_unused_result));

/*
 * Finds the workspace as git finds a repository: explicit (from -w) if not
 * NULL, else $MOAT_WORKSPACE, else the nearest parent of the current directory
 * holding moat.db, if that directory and its moat.db belong to the user (or
 * it is listed in $MOAT_SAFE_WORKSPACES; else MOAT_EUNSUPPORTED naming the
 * ways to use it).  Returns a malloc'd absolute path, or NULL with e set.
 */
char *store_find(const char *explicit_dir, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Opens the workspace at dir and brings its schema up to date.  With
 * STORE_WRITE and without STORE_WAIT, a workspace another writer holds gives
 * MOAT_EBUSY and e names the holder's pid. */
struct store *store_open(const char *dir, int flags, struct moat_err *e)
	__attribute__((warn_unused_result));
void store_close(struct store *s);  /* NULL-safe */

const char *store_dir(const struct store *s);
/* 1 when this store holds the writer lock alone (STORE_WRITE without a
 * shared shard lock): only then may it judge other runs dead (their
 * records left 'running') or sweep their temporary files. */
int store_exclusive(const struct store *s);
int store_schema_version(struct store *s) __attribute__((warn_unused_result));

int store_begin(struct store *s, struct moat_err *e) __attribute__((warn_unused_result));
int store_commit(struct store *s, struct moat_err *e) __attribute__((warn_unused_result));
void store_rollback(struct store *s);

/* --- objects/ ----------------------------------------------------------- */

/* Stores bytes whose SHA-256 hex is id under objects/ (temporary name, fsync,
 * rename).  Present objects are left alone.  Thread-safe: needs only the
 * workspace directory, not a connection. */
int store_put_object(const char *ws_dir, const char *id, const void *data, size_t len,
		     struct moat_err *e) __attribute__((warn_unused_result));
/* The same without fsync, for batches: the objects are durable after
 * store_sync_objects(), which must come before committing rows naming them. */
int store_put_object_nosync(const char *ws_dir, const char *id, const void *data, size_t len,
			    struct moat_err *e) __attribute__((warn_unused_result));
int store_sync_objects(const char *ws_dir, struct moat_err *e)
	__attribute__((warn_unused_result));
/* The object's path (malloc'd), NULL when out of memory. */
char *store_object_path(const char *ws_dir, const char *id) __attribute__((warn_unused_result));

/* --- runs: one row per command that changes the workspace ---------------- */

/* Starts a run; *run_id receives its id.  Runs a killed process left open are
 * marked "interrupted" and reported by store_runs_interrupted(). */
int store_run_begin(struct store *s, const char *command, int64_t *run_id, struct moat_err *e)
	__attribute__((warn_unused_result));
int store_run_end(struct store *s, int64_t run_id, const char *status, struct moat_err *e)
	__attribute__((warn_unused_result));
/* Runs left open (killed before they finished) and not yet audited, as an
 * array of {"run","command","started_at","files"} ; marks them interrupted.
 * Runs this process has open (a command that runs another stage inside it,
 * as import ingests images) are not interrupted and are left alone. */
json_t *store_runs_interrupted(struct store *s, int64_t current_run, struct moat_err *e)
	__attribute__((warn_unused_result));

/* --- ingest ------------------------------------------------------------- */

struct store_file {
	int found;
	int64_t version;
	char doc_id[65];   /* "" when the file could not be read */
	char status[16];   /* "ok" or "failed" */
	char error[512];
};

/* The latest version recorded for path (found = 0 when none). */
int store_file_latest(struct store *s, const char *path, struct store_file *out,
		      struct moat_err *e) __attribute__((warn_unused_result));

struct store_file_row {
	const char *path;
	const char *doc_id;   /* may be NULL for an unreadable file */
	uint64_t size;
	int64_t mtime;
	const char *status;   /* "ok" / "failed" */
	const char *error;    /* NULL when ok */
	int64_t run_id;
};

/* Records a new version of a file (version = latest + 1). */
int store_add_file(struct store *s, const struct store_file_row *row, int64_t *version_out,
		   struct moat_err *e) __attribute__((warn_unused_result));

/* Stores a parsed document and its elements under id, unless a document with
 * that id exists (returns 0 then, 1 when stored). */
int store_add_document(struct store *s, const char *id, const char *mime, uint64_t size,
		       const struct doc *d, int64_t run_id, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Stores the documents inside d (e-mail attachments, d->children): each
 * original in objects/, each parsed child as a document whose parent_id is
 * parent_id (and its own children likewise).  store_add_document() calls it
 * for a new document. */
int store_add_children(struct store *s, const char *parent_id, const struct doc *d,
		       int64_t run_id, struct moat_err *e) __attribute__((warn_unused_result));

/* --- reading ------------------------------------------------------------ */

/* Latest version of every path: array of {id, path, version, type, size,
 * elements, status, error, encoding, ingested_at}. */
json_t *store_list(struct store *s, struct moat_err *e) __attribute__((warn_unused_result));

/* One document by id, id prefix (4+ hex digits, unique) or path:
 * {id, paths[], type, mime, size, encoding, created_at, meta, text_length,
 *  elements: [{seq, type, level, page, start, end, text, meta}]}. */
json_t *store_show(struct store *s, const char *ref, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Counts for summaries: documents, elements, files (latest versions), failed. */
int store_counts(struct store *s, int64_t *documents, int64_t *elements, int64_t *files,
		 int64_t *failed, struct moat_err *e) __attribute__((warn_unused_result));

/* For moat doctor: where the tables are ("SQLite" or "PostgreSQL") and the
 * workspace id that names them (PostgreSQL; "" for SQLite). */
const char *store_kind(const struct store *s);
const char *store_workspace_id(const struct store *s);
/* For moat doctor, on each node of a cluster: of the originals of the last
 * max documents, how many are under this node's objects/ (*found of
 * *checked).  A node that mounted another share finds few or none.  0 or -1. */
int store_check_objects(struct store *s, size_t max, size_t *checked, size_t *found,
			struct moat_err *e) __attribute__((warn_unused_result));

/* For moat doctor, on each node of a cluster: a PostgreSQL workspace's
 * tables are one server's, but its directory (objects, exports) must be one
 * share that every node mounts.  Checks that this node's directory holds
 * the probe the last doctor run left (its token in DIR/share.probe and in
 * the tables), then leaves its own.  1 when it does (or no run left one, or
 * the tables are SQLite's, in the directory itself), 0 when not; msg says
 * which.  -1 with e set when it cannot be checked or left. */
int store_share_probe(struct store *s, char *msg, size_t cap, struct moat_err *e)
	__attribute__((warn_unused_result));

/* The versions of the database libraries, for moat version. */
const char *store_sqlite_version(void);
const char *store_pg_version(void);

#endif
