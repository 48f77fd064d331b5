/*
 * store.c - the SQLite workspace: schema and migrations, the writer lock,
 * objects/, runs, files, documents and elements.
 *
 * Not for: the audit chain's rules (audit.c) or parsing (src/ingest/).
 */
#define _GNU_SOURCE
#include <sys/random.h>
#include "store.h"
#include "store_int.h"
#include "../core/jsonu.h"
#include "../core/fs.h"
#include "../core/buf.h"
#include "../core/fmt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/banned.h"

#define STORE_ID_MAX 40  /* a workspace id, hex, and its NUL */

struct store {
	char *dir;
	struct db *db;
	char *pg_uri;         /* a PostgreSQL workspace's server, else NULL */
	char id[STORE_ID_MAX]; /* its workspace id */
	int lock_fd;
	int lock_shared;        /* moat.lock held LOCK_SH (a shard's run) */
	int in_tx;
	char pending_head[96];  /* "<seq> <hash>\n" of an audit record not yet committed */
	int head_fd;            /* audit.head, opened at the first append; -1 */
};

/* Numbered migrations: the schema version is PRAGMA user_version.  Only
 * append; never edit a migration that has shipped. */
static const char *const migrations[] = {
	/* 1: the foundation */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE runs(id INTEGER PRIMARY KEY, command TEXT NOT NULL,"
	" started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL,"
	" pid INTEGER, audited INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE documents(id TEXT PRIMARY KEY, type TEXT NOT NULL, mime TEXT,"
	" size INTEGER NOT NULL, encoding TEXT, text TEXT NOT NULL,"
	" text_length INTEGER NOT NULL, n_elements INTEGER NOT NULL, meta TEXT,"
	" created_at TEXT NOT NULL, run_id INTEGER, parent_id TEXT);"
	"CREATE TABLE elements(doc_id TEXT NOT NULL REFERENCES documents(id),"
	" seq INTEGER NOT NULL, type TEXT NOT NULL, level INTEGER NOT NULL DEFAULT 0,"
	" page INTEGER NOT NULL DEFAULT 0, start_cp INTEGER NOT NULL, end_cp INTEGER NOT NULL,"
	" text TEXT NOT NULL, meta TEXT, PRIMARY KEY(doc_id, seq));"
	"CREATE TABLE files(id INTEGER PRIMARY KEY, path TEXT NOT NULL, version INTEGER NOT NULL,"
	" doc_id TEXT, size INTEGER, mtime INTEGER, status TEXT NOT NULL, error TEXT,"
	" ingested_at TEXT NOT NULL, run_id INTEGER, UNIQUE(path, version));"
	"CREATE INDEX files_doc ON files(doc_id);"
	"CREATE TABLE audit(seq INTEGER PRIMARY KEY, body TEXT NOT NULL, prev TEXT NOT NULL,"
	" hash TEXT NOT NULL);",
	/* 2: the clean stage (src/store/cleaned.c) */
	"CREATE TABLE clean_docs(doc_id TEXT PRIMARY KEY, params TEXT NOT NULL, run_id INTEGER NOT NULL,"
	" status TEXT NOT NULL, reason TEXT, lang TEXT, lang_score REAL, norm_sha256 TEXT NOT NULL,"
	" norm_text TEXT NOT NULL, text TEXT NOT NULL, text_length INTEGER NOT NULL,"
	" n_elements INTEGER NOT NULL, minhash BLOB, stats TEXT, updated_at TEXT NOT NULL);"
	"CREATE TABLE clean_elements(doc_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL,"
	" norm_start INTEGER NOT NULL, norm_end INTEGER NOT NULL, start_cp INTEGER NOT NULL,"
	" end_cp INTEGER NOT NULL, lang TEXT, lang_score REAL, status TEXT NOT NULL, reason TEXT,"
	" norm_sha256 TEXT, offset_map TEXT, PRIMARY KEY(doc_id, seq));"
	"CREATE TABLE clean_clusters(id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, level TEXT NOT NULL,"
	" method TEXT NOT NULL, kept TEXT NOT NULL, reason TEXT NOT NULL, size INTEGER NOT NULL,"
	" current INTEGER NOT NULL DEFAULT 1);"
	"CREATE TABLE clean_cluster_members(cluster_id INTEGER NOT NULL, member TEXT NOT NULL,"
	" similarity REAL, kept INTEGER NOT NULL, PRIMARY KEY(cluster_id, member));"
	"CREATE TABLE pii_findings(id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, doc_id TEXT NOT NULL,"
	" seq INTEGER NOT NULL, type TEXT NOT NULL, start_cp INTEGER NOT NULL, end_cp INTEGER NOT NULL,"
	" orig_start INTEGER NOT NULL, orig_end INTEGER NOT NULL, score REAL NOT NULL,"
	" recognizer TEXT NOT NULL, operator TEXT NOT NULL, value_digest TEXT NOT NULL,"
	" replacement TEXT, review TEXT NOT NULL DEFAULT 'pending', current INTEGER NOT NULL DEFAULT 1);"
	"CREATE INDEX pii_findings_doc ON pii_findings(doc_id, current);"
	"CREATE TABLE clean_meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);",
	/* 3: datasets: chunk sets, the label stage's projects, tasks, annotations
	 * and suggestions, and exports (src/store/dataset.c) */
	"CREATE TABLE chunk_sets(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	" settings TEXT NOT NULL, settings_sha256 TEXT NOT NULL UNIQUE, tokenizer TEXT NOT NULL,"
	" raw INTEGER NOT NULL, run_id INTEGER, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
	"CREATE TABLE chunks(set_id INTEGER NOT NULL REFERENCES chunk_sets(id), doc_id TEXT NOT NULL,"
	" seq INTEGER NOT NULL, el_first INTEGER NOT NULL, el_last INTEGER NOT NULL,"
	" page_first INTEGER NOT NULL, page_last INTEGER NOT NULL, start_cp INTEGER NOT NULL,"
	" end_cp INTEGER NOT NULL, tokens INTEGER NOT NULL, text TEXT NOT NULL,"
	" source_sha256 TEXT NOT NULL, PRIMARY KEY(set_id, doc_id, seq));"
	"CREATE TABLE projects(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
	" labels TEXT NOT NULL, schema TEXT, created_at TEXT NOT NULL);"
	"CREATE TABLE tasks(id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id),"
	" kind TEXT NOT NULL CHECK(kind IN ('document','element','chunk','page','image','text')),"
	" doc_id TEXT, seq INTEGER, chunk_set INTEGER, text TEXT, cleaned INTEGER NOT NULL DEFAULT 0, image TEXT,"
	" width INTEGER, height INTEGER, name TEXT, split TEXT, source TEXT, meta TEXT,"
	" created_at TEXT NOT NULL, run_id INTEGER);"
	"CREATE INDEX tasks_project ON tasks(project_id);"
	"CREATE TABLE annotations(id INTEGER PRIMARY KEY, task_id INTEGER NOT NULL REFERENCES tasks(id),"
	" annotator TEXT NOT NULL, value TEXT NOT NULL, status TEXT NOT NULL"
	" CHECK(status IN ('draft','submitted','accepted','rejected')), created_at TEXT NOT NULL,"
	" updated_at TEXT NOT NULL, run_id INTEGER);"
	"CREATE INDEX annotations_task ON annotations(task_id);"
	"CREATE TABLE suggestions(id INTEGER PRIMARY KEY, task_id INTEGER NOT NULL REFERENCES tasks(id),"
	" value TEXT NOT NULL, model TEXT, model_digest TEXT, score REAL, created_at TEXT NOT NULL,"
	" run_id INTEGER);"
	"CREATE INDEX suggestions_task ON suggestions(task_id);"
	"CREATE TABLE exports(id INTEGER PRIMARY KEY, path TEXT NOT NULL, format TEXT NOT NULL,"
	" what TEXT NOT NULL, raw INTEGER NOT NULL, counts TEXT NOT NULL, manifest_sha256 TEXT NOT NULL,"
	" audit_seq INTEGER NOT NULL, audit_hash TEXT NOT NULL, user TEXT, created_at TEXT NOT NULL,"
	" run_id INTEGER);",
	/* 4: the label stage (src/store/label.c) and the users of `moat serve`
	 * (src/store/users.c): a project's source and overlap, who a task is
	 * handed to (leases), how many submitted it, review decisions, the
	 * provenance of suggestions, suggestion runs, users and sessions */
	"ALTER TABLE projects ADD COLUMN source TEXT;"
	"ALTER TABLE projects ADD COLUMN where_expr TEXT;"
	"ALTER TABLE projects ADD COLUMN overlap INTEGER NOT NULL DEFAULT 1;"
	"ALTER TABLE projects ADD COLUMN updated_at TEXT;"
	"ALTER TABLE tasks ADD COLUMN n_done INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE tasks ADD COLUMN is_open INTEGER NOT NULL DEFAULT 1;"
	"CREATE INDEX tasks_next ON tasks(project_id, is_open, id);"
	"ALTER TABLE annotations ADD COLUMN reviewer TEXT;"
	"ALTER TABLE annotations ADD COLUMN reviewed_at TEXT;"
	"ALTER TABLE annotations ADD COLUMN corrects INTEGER;"
	"ALTER TABLE annotations ADD COLUMN suggestion_id INTEGER;"
	"CREATE INDEX annotations_annotator ON annotations(annotator, task_id);"
	"ALTER TABLE suggestions ADD COLUMN prompt_sha256 TEXT;"
	"ALTER TABLE suggestions ADD COLUMN options TEXT;"
	"ALTER TABLE suggestions ADD COLUMN seed INTEGER;"
	"ALTER TABLE suggestions ADD COLUMN provenance TEXT;"
	"ALTER TABLE suggestions ADD COLUMN decision TEXT;"
	"CREATE INDEX suggestions_model ON suggestions(model, task_id);"
	"CREATE TABLE task_leases(task_id INTEGER NOT NULL REFERENCES tasks(id),"
	" annotator TEXT NOT NULL, expires_at TEXT NOT NULL, PRIMARY KEY(task_id, annotator));"
	"CREATE TABLE suggest_runs(id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL"
	" REFERENCES projects(id), model TEXT NOT NULL, status TEXT NOT NULL, total INTEGER NOT NULL,"
	" done INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0, error TEXT,"
	" started_by TEXT, started_at TEXT NOT NULL, updated_at TEXT NOT NULL, run_id INTEGER);"
	"CREATE TABLE users(name TEXT PRIMARY KEY, role TEXT NOT NULL"
	" CHECK(role IN ('annotator','reviewer','admin')), pw_hash TEXT NOT NULL,"
	" created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
	"CREATE TABLE sessions(token_sha256 TEXT PRIMARY KEY, name TEXT NOT NULL,"
	" csrf TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL);",
	/* 5: the augment stage (src/store/augment.c): runs, and every record a
	 * run generated, accepted or rejected with its reason and provenance;
	 * an accepted record's task has source 'synthetic' */
	"CREATE TABLE aug_runs(id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id),"
	" recipe TEXT NOT NULL, recipe_sha256 TEXT NOT NULL, model TEXT NOT NULL, source TEXT NOT NULL,"
	" n INTEGER NOT NULL, seed INTEGER, status TEXT NOT NULL, generated INTEGER NOT NULL DEFAULT 0,"
	" accepted INTEGER NOT NULL DEFAULT 0, rejected INTEGER NOT NULL DEFAULT 0,"
	" failed INTEGER NOT NULL DEFAULT 0, error TEXT, started_at TEXT NOT NULL,"
	" updated_at TEXT NOT NULL, run_id INTEGER);"
	"CREATE TABLE aug_records(id INTEGER PRIMARY KEY, aug_run INTEGER NOT NULL REFERENCES aug_runs(id),"
	" project_id INTEGER NOT NULL, key TEXT NOT NULL, status TEXT NOT NULL"
	" CHECK(status IN ('accepted','rejected')), reason TEXT, detail TEXT, value TEXT NOT NULL,"
	" text_sha256 TEXT NOT NULL, minhash BLOB, sources TEXT NOT NULL, task_id INTEGER,"
	" model TEXT NOT NULL, model_digest TEXT, template_sha256 TEXT NOT NULL,"
	" prompt_sha256 TEXT NOT NULL, options TEXT NOT NULL, seed INTEGER NOT NULL,"
	" provenance TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE(project_id, key));"
	"CREATE INDEX aug_records_run ON aug_records(aug_run, id);"
	"CREATE INDEX tasks_source ON tasks(source);",
};
#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* --- what the module's files share (store_int.h) ------------------------- */

/* Reads the meta table: 1 when key is there (its value in out, cut to n - 1
 * bytes), 0 when not, -1 when the database failed. */
int store_meta_get(struct db *db, const char *key, char *out, size_t n)
{
	struct db_stmt *st;
	int rc;
	out[0] = '\0';
	if (db_prepare(db, "SELECT value FROM meta WHERE key = ?", &st) < 0)
		return -1;
	db_bind_text(st, 1, key, -1, DB_STATIC);
	rc = db_step(st);
	if (rc == DB_ROW)
		store_col_copy(out, n, st, 0);
	db_finalize(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

int store_meta_set(struct db *db, const char *key, const char *value)
{
	struct db_stmt *st;
	int rc;
	if (db_prepare(db, "INSERT INTO meta(key, value) VALUES(?, ?)"
			       " ON CONFLICT(key) DO UPDATE SET value = excluded.value", &st) < 0)
		return -1;
	db_bind_text(st, 1, key, -1, DB_STATIC);
	db_bind_text(st, 2, value, -1, DB_COPY);
	rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? 0 : -1;
}


struct db *store_db(struct store *s)
{
	return s->db;
}

int store_db_err(struct store *s, const char *what, struct moat_err *e)
{
	return err_set(e, db_errcode(s->db), "%s: %s", what, db_errmsg(s->db));
}

struct db_stmt *store_prep(struct store *s, const char *sql, struct moat_err *e)
{
	struct db_stmt *st = NULL;
	if (db_prepare(s->db, sql, &st) < 0) {
		store_db_err(s, "cannot prepare a query", e);
		return NULL;
	}
	return st;
}

int store_rows_end(struct store *s, int rc, int nomem, const char *what, struct moat_err *e)
{
	if (nomem)
		return err_set(e, MOAT_ENOMEM, "%s: out of memory", what);
	if (rc != DB_DONE)
		return store_db_err(s, what, e);
	return 0;
}

int store_step(struct store *s, struct db_stmt *st, const char *what, struct moat_err *e)
{
	int rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE && rc != DB_ROW)
		return store_db_err(s, what, e);
	return 0;
}

void store_col_copy(char *dst, size_t cap, struct db_stmt *st, int col)
{
	const char *t = (const char *)db_column_text(st, col);
	size_t n = t ? strlen(t) : 0;
	if (!cap)
		return;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, t ? t : "", n);
	dst[n] = '\0';
}

char *store_col_dup(struct db_stmt *st, int col, size_t *len)
{
	const char *t = (const char *)db_column_text(st, col);
	size_t n = (size_t)db_column_bytes(st, col);
	char *r = malloc(n + 1);
	if (!r)
		return NULL;
	if (t)
		memcpy(r, t, n);
	r[n] = '\0';
	if (len)
		*len = n;
	return r;
}

char *store_json_dumps(const json_t *j, size_t flags)
{
	/* json_dumpb() writes into a fixed buffer (counting what does not fit),
	 * so only its own checked allocations can fail, and it returns 0 then */
	size_t n = json_dumpb(j, NULL, 0, flags);
	char *text;
	if (!n || !(text = malloc(n + 1)))
		return NULL;
	if (json_dumpb(j, text, n, flags) != n) {
		free(text);
		return NULL;
	}
	text[n] = '\0';
	return text;
}

json_t *store_json_loads(const char *text, int *nomem)
{
	json_error_t jerr;
	json_t *j;
	memset(&jerr, 0, sizeof(jerr));
	j = json_loads(text, 0, &jerr);
	*nomem = !j && (!jerr.text[0] || json_error_code(&jerr) == json_error_out_of_memory);
	return j;
}

void store_utc_now(char out[STORE_TIME_MAX], int decimals)
{
	struct timespec ts;
	struct tm tm;
	size_t n;
	long frac;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, STORE_TIME_MAX - 9, "%Y-%m-%dT%H:%M:%S", &tm);
	if (decimals > 0) {
		frac = ts.tv_nsec;
		for (int i = decimals; i < 9; i++)
			frac /= 10;
		out[n++] = '.';
		for (int i = decimals - 1; i >= 0; i--, frac /= 10)
			out[n + (size_t)i] = (char)('0' + frac % 10);
		n += (size_t)decimals;
	}
	out[n++] = 'Z';
	out[n] = '\0';
}

static int exec(struct store *s, const char *sql, struct moat_err *e)
{
	if (db_exec(s->db, sql) < 0)
		return err_set(e, db_errcode(s->db), "database error in '%s/moat.db': %s", s->dir,
			       db_errmsg(s->db));
	return 0;
}

int store_schema_version(struct store *s)
{
	return db_schema_version(s->db);
}

static int migrate(struct store *s, int create, struct moat_err *e)
{
	int v = store_schema_version(s);
	if (v < 0)
		return store_db_err(s, "cannot read the schema version", e);
	if (v == 0 && !create)
		return err_set(e, MOAT_ECORRUPT, "'%s/moat.db' holds no workspace (schema version 0): "
			       "the database was replaced or lost; restore it from a backup", s->dir);
	if (v > N_MIGRATIONS)
		return err_set(e, MOAT_EUNSUPPORTED,
			       "workspace '%s' has schema version %d; this moat knows up to %d "
			       "(upgrade moat)", s->dir, v, N_MIGRATIONS);
	if (v == N_MIGRATIONS)
		return 0;
	if (db_begin(s->db) < 0)
		return err_set(e, db_errcode(s->db), "database error in '%s/moat.db': %s", s->dir,
			       db_errmsg(s->db));
	v = store_schema_version(s);  /* another process may have migrated meanwhile */
	for (; v < N_MIGRATIONS; v++) {
		if (db_exec_ddl(s->db, migrations[v]) < 0 || db_set_schema_version(s->db, v + 1) < 0) {
			err_set(e, db_errcode(s->db), "database error in '%s/moat.db': %s", s->dir,
				db_errmsg(s->db));
			goto fail;
		}
	}
	return exec(s, "COMMIT", e);
fail:
	db_rollback(s->db);
	return -1;
}

static int take_lock(struct store *s, int flags, struct moat_err *e)
{
	char *path = fs_join(s->dir, "moat.lock");
	char pid[32];
	if (!path)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	/* never through a link (another user could point it at a file of ours
	 * that the truncate and write below would ruin), and a regular file */
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (s->lock_fd < 0) {
		if (errno == ELOOP)
			err_set(e, MOAT_EIO, "refusing '%s': it is a symbolic link", path);
		else
			err_set(e, MOAT_EIO, "cannot open '%s': %s", path, strerror(errno));
		free(path);
		return -1;
	}
	{
		struct stat st;
		if (fstat(s->lock_fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
			err_set(e, MOAT_EIO, "refusing '%s': not a regular file of its own (a link?)",
				path);
			free(path);
			return -1;
		}
	}
	s->lock_shared = (flags & STORE_SHARD) != 0;
	if (flock(s->lock_fd, (s->lock_shared ? LOCK_SH : LOCK_EX) |
			      ((flags & STORE_WAIT) ? 0 : LOCK_NB)) < 0) {
		char holder[32] = "";
		ssize_t n = pread(s->lock_fd, holder, sizeof(holder) - 1, 0);
		holder[n > 0 ? n : 0] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
		err_set(e, MOAT_EBUSY, "workspace '%s' is busy: another moat (pid %s) is writing to it",
			s->dir, holder[0] ? holder : "unknown");
		free(path);
		return -1;
	}
	free(path);
	/* the pid only names the holder in another writer's message (one of
	 * them, for shards) */
	if (xsnprintf(pid, sizeof(pid), "%ld\n", (long)getpid()) > 0 &&
	    (s->lock_shared || ftruncate(s->lock_fd, 0) == 0))
		(void)!pwrite(s->lock_fd, pid, strlen(pid), 0);
	return 0;
}

/* Temporary files a killed writer left in objects/.tmp: safe to remove while
 * holding the writer lock, since no other writer can be using them. */
static void sweep_tmp(const char *dir)
{
	char *tmp = fs_join(dir, "objects/.tmp");
	DIR *d = tmp ? opendir(tmp) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (!strncmp(de->d_name, "tmp-", 4)) {
			char *p = fs_join(tmp, de->d_name);
			if (p)
				unlink(p);
			free(p);
		}
	}
	if (d)
		closedir(d);
	free(tmp);
}

/* A PostgreSQL workspace's moat.db is not SQLite but this marker: the
 * server's libpq URI (no password: ~/.pgpass or $PGPASSFILE hold it) and the
 * workspace's id, which names its schema on the server.  Reads it: 1 with
 * *uri (malloc'd) and id set, 0 when path is SQLite's (or missing), -1 with
 * e set when it is a marker that cannot be read. */
#define PG_MARKER "moat-store postgres\n"
/*
 * The SQLite files this process has found are no marker, by device and
 * inode.  Closing any descriptor of a file drops every POSIX lock the
 * process holds on it, SQLite's included (sqlite.org/howtocorrupt.html,
 * 2.2): a second store_open() of a workspace (`moat serve` opens one
 * connection per worker; a suggestion run opens its own) must not open
 * moat.db to peek at it while a connection of this process holds its locks,
 * or another process that closes its last connection takes itself for the
 * last, checkpoints and deletes the WAL under ours.  A file is looked at once
 * per process; stat() takes no descriptor.  A replaced file is a new inode,
 * looked at again.
 */
#define SQLITE_SEEN_MAX 64
static struct { dev_t dev; ino_t ino; } sqlite_seen[SQLITE_SEEN_MAX];
static size_t n_sqlite_seen;
static pthread_mutex_t sqlite_seen_lock = PTHREAD_MUTEX_INITIALIZER;

static int seen_sqlite(const struct stat *st)
{
	int found = 0;
	pthread_mutex_lock(&sqlite_seen_lock);
	for (size_t i = 0; i < n_sqlite_seen && !found; i++)
		found = sqlite_seen[i].dev == st->st_dev && sqlite_seen[i].ino == st->st_ino;
	pthread_mutex_unlock(&sqlite_seen_lock);
	return found;
}

static void note_sqlite(const struct stat *st)
{
	pthread_mutex_lock(&sqlite_seen_lock);
	if (n_sqlite_seen < SQLITE_SEEN_MAX) {  /* beyond: looked at each time, as before */
		sqlite_seen[n_sqlite_seen].dev = st->st_dev;
		sqlite_seen[n_sqlite_seen].ino = st->st_ino;
		n_sqlite_seen++;
	}
	pthread_mutex_unlock(&sqlite_seen_lock);
}

static int read_marker(const char *path, char **uri, char id[STORE_ID_MAX], struct moat_err *e)
{
	struct buf b = BUF_INIT;
	char *u, *w, *end;
	struct stat st;
	int fd, have_st = stat(path, &st) == 0;
	char head[sizeof(PG_MARKER)] = "";
	ssize_t n;
	if (have_st && seen_sqlite(&st))
		return 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	n = fd >= 0 ? pread(fd, head, sizeof(head) - 1, 0) : -1;
	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)strlen(PG_MARKER) || memcmp(head, PG_MARKER, strlen(PG_MARKER))) {
		if (have_st && n > 0 && !memcmp(head, "SQLite format 3", n < 15 ? (size_t)n : 15))
			note_sqlite(&st);
		return 0;
	}
	if (fs_read_file(path, &b, 65536, e) < 0)
		return -1;
	/* "moat-store postgres\nuri URI\nid ID\n" */
	u = strstr(buf_str(&b), "\nuri ");
	w = strstr(buf_str(&b), "\nid ");
	if (!u || !w || strlen(w + 4) < 2 || strlen(w + 4) > STORE_ID_MAX) {
		buf_release(&b);
		return err_set(e, MOAT_ECORRUPT, "'%s' is not a valid PostgreSQL workspace marker", path);
	}
	u += 5;
	end = strchr(u, '\n');
	*uri = strndup(u, end ? (size_t)(end - u) : strlen(u));
	w += 4;
	memcpy(id, w, strcspn(w, "\n"));
	id[strcspn(w, "\n")] = '\0';
	buf_release(&b);
	if (!*uri)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (strspn(id, "0123456789abcdef") != strlen(id)) {
		free(*uri);
		return err_set(e, MOAT_ECORRUPT, "'%s' names a workspace id that is not hex", path);
	}
	return 1;
}

/* Connects to the PostgreSQL server of the marker at path, in the
 * workspace's schema (made when create). */
static int open_pg(struct store *s, const char *path, int create, struct moat_err *e)
{
	char *uri = NULL, id[STORE_ID_MAX], sql[160];
	int rc = read_marker(path, &uri, id, e);
	if (rc <= 0)
		return rc < 0 ? -1 : err_set(e, MOAT_ECORRUPT, "'%s' is not a PostgreSQL marker", path);
	s->db = db_pg_open(uri, e);
	free(uri);
	if (!s->db)
		return -1;
	if ((create ? xsnprintf(sql, sizeof(sql), "CREATE SCHEMA IF NOT EXISTS moat_%s;"
				" SET search_path TO moat_%s", id, id)
		    : xsnprintf(sql, sizeof(sql), "SET search_path TO moat_%s", id)) < 0)
		return err_set(e, MOAT_ELIMIT, "workspace id too long");
	if (db_exec(s->db, sql) < 0)
		return err_set(e, db_errcode(s->db), "cannot open the workspace's schema moat_%s: %s", id,
			       db_errmsg(s->db));
	return 0;
}

static struct store *open_db(const char *dir, int create, int flags, struct moat_err *e)
{
	struct store *s = calloc(1, sizeof(*s));
	char *path;
	int ro = 0;
	if (!s) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	s->lock_fd = -1;
	s->head_fd = -1;
	s->dir = realpath(dir, NULL);
	if (!s->dir) {
		err_set(e, MOAT_EIO, "cannot open workspace '%s': %s", dir, strerror(errno));
		free(s);
		return NULL;
	}
	path = fs_join(s->dir, "moat.db");
	if (!path) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	if ((flags & STORE_SHARD_PG) && !create) {
		/* shared only when the tables are a PostgreSQL server's */
		struct moat_err ignored = MOAT_ERR_INIT;
		char *uri = NULL, id[STORE_ID_MAX];
		if (read_marker(path, &uri, id, &ignored) == 1)
			flags |= STORE_SHARD;
		free(uri);
	}
	if ((flags & STORE_WRITE) && take_lock(s, flags, e) < 0) {
		free(path);
		goto fail;
	}
	if ((flags & STORE_WRITE) && !s->lock_shared)
		sweep_tmp(s->dir);  /* a shard's siblings may be writing theirs */
	if (!create && !fs_exists(path)) {
		err_set(e, MOAT_ENOTFOUND, "'%s' is not a moat workspace (no moat.db)", s->dir);
		free(path);
		goto fail;
	}
	if (!create) {
		/* a workspace's database holds at least its schema and its init
		 * record: an empty one is a lost trail, never a new workspace */
		struct stat st;
		if (stat(path, &st) == 0 && st.st_size == 0) {
			err_set(e, MOAT_ECORRUPT, "'%s' is empty: the workspace's database is lost "
				"(its audit trail with it); restore it from a backup, or move '%s' "
				"away and run moat init", path, s->dir);
			free(path);
			goto fail;
		}
	}
	ro = read_marker(path, &s->pg_uri, s->id, e);
	if (ro < 0) {
		free(path);
		goto fail;
	}
	if (ro == 1) {
		ro = 0;
		if (open_pg(s, path, create, e) < 0) {
			free(path);
			goto fail;
		}
	} else {
		s->db = db_sqlite_open(path, create, flags & STORE_WRITE, &ro, e);
	}
	if (!s->db) {
		free(path);
		goto fail;
	}
	if (ro)
		goto opened_ro;
	free(path);
	if (migrate(s, create, e) < 0)
		goto fail;
	return s;
opened_ro:
	free(path);
	if (store_schema_version(s) != N_MIGRATIONS) {
		int v = store_schema_version(s);
		if (v == 0)
			err_set(e, MOAT_ECORRUPT, "'%s/moat.db' holds no workspace (schema version 0)",
				s->dir);
		else
			err_set(e, MOAT_EUNSUPPORTED, "workspace '%s' is read-only here and has schema "
				"version %d, not %d: open it once where it can be written, to upgrade it",
				s->dir, v, N_MIGRATIONS);
		goto fail;
	}
	return s;
fail:
	store_close(s);
	return NULL;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	db_close(s->db);
	free(s->pg_uri);
	if (s->lock_fd >= 0)
		close(s->lock_fd);  /* releases the flock */
	if (s->head_fd >= 0)
		close(s->head_fd);
	free(s->dir);
	free(s);
}

/* 32 random hex digits in out, for what (named in the error) */
static int random_hex(char out[33], const char *what, struct moat_err *e)
{
	unsigned char r[16];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return err_set(e, MOAT_EENV, "cannot make %s: %s", what, strerror(errno));
	for (size_t i = 0; i < sizeof(r); i++) {
		out[2 * i] = "0123456789abcdef"[r[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[r[i] & 15];
	}
	out[32] = '\0';
	return 0;
}

/* Writes a PostgreSQL workspace's marker (read_marker) at path, with a new
 * random workspace id. */
static int write_marker(const char *path, const char *uri, struct moat_err *e)
{
	char id[33], *text;
	int rc;
	if (random_hex(id, "a workspace id", e) < 0)
		return -1;
	if (asprintf(&text, PG_MARKER "uri %s\nid %s\n", uri, id) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	rc = fs_write_atomic(path, text, strlen(text), 0644, e);
	free(text);
	return rc;
}

int store_create(const char *dir, struct moat_err *e)
{
	return store_create_at(dir, getenv("MOAT_STORE"), e);
}

int store_create_at(const char *dir, const char *uri, struct moat_err *e)
{
	struct store *s;
	char *p;
	if (uri && !*uri)
		uri = NULL;
	if (uri && strncmp(uri, "postgres://", 11) && strncmp(uri, "postgresql://", 13) &&
	    strcmp(uri, "sqlite"))
		return err_set(e, MOAT_EUSAGE, "unknown store '%s' (sqlite, or postgres://USER@HOST/DB)",
			       uri);
	if (uri && !strcmp(uri, "sqlite"))
		uri = NULL;
	if (uri && db_pg_check_uri(uri, e) < 0)
		return -1;
	if (fs_mkdirs(dir, 0755, e) < 0)
		return -1;
	p = fs_join(dir, "moat.db");
	if (!p)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (fs_exists(p)) {
		free(p);
		return err_set(e, MOAT_EEXISTS, "'%s' is already a moat workspace", dir);
	}
	free(p);
	for (int i = 0; i < 3; i++) {
		p = fs_join(dir, i == 2 ? "objects/.tmp" : i ? "exports" : "objects");
		if (!p)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		if (fs_mkdirs(p, 0755, e) < 0) {
			free(p);
			return -1;
		}
		free(p);
	}
	if (uri) {
		p = fs_join(dir, "moat.db");
		if (!p)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		if (write_marker(p, uri, e) < 0) {
			free(p);
			return -1;
		}
		free(p);
	}
	s = open_db(dir, 1, STORE_WRITE, e);
	if (!s) {
		if (uri) {  /* no server, no workspace: init may be run again */
			p = fs_join(dir, "moat.db");
			if (p)
				unlink(p);
			free(p);
		}
		return -1;
	}
	store_close(s);
	return 0;
}

/* A workspace found by walking up from the current directory is used only
 * when it (the directory and its moat.db) belongs to the user running moat,
 * or is listed in $MOAT_SAFE_WORKSPACES (':'-separated, "*" for any): a
 * moat.db planted in a shared parent directory would otherwise collect other
 * users' ingests (git's safe.directory, CVE-2022-24765).  1 when it may be
 * used, else 0 with e set. */
static int owned_or_safe(const char *dir, struct moat_err *e)
{
	const char *safe = getenv("MOAT_SAFE_WORKSPACES");
	struct stat d, f;
	char *db = fs_join(dir, "moat.db");
	int mine;
	memset(&d, 0, sizeof(d));
	if (!db)
		return err_set(e, MOAT_ENOMEM, "out of memory"), 0;
	mine = stat(dir, &d) == 0 && lstat(db, &f) == 0 && d.st_uid == geteuid() &&
	       f.st_uid == geteuid() && S_ISREG(f.st_mode);
	free(db);
	if (mine)
		return 1;
	while (safe && *safe) {
		size_t n = strcspn(safe, ":");
		if ((n == 1 && safe[0] == '*') || (n == strlen(dir) && !strncmp(safe, dir, n)))
			return 1;
		safe += n + (safe[n] == ':');
	}
	err_set(e, MOAT_EUNSUPPORTED,
		"the workspace found above the current directory, '%s', belongs to another user "
		"(uid %ld); use it with -w %s or MOAT_WORKSPACE, or add it to MOAT_SAFE_WORKSPACES",
		dir, (long)d.st_uid, dir);
	return 0;
}

char *store_find(const char *explicit_dir, struct moat_err *e)
{
	const char *env = getenv("MOAT_WORKSPACE");
	char cwd[PATH_MAX], *p;
	if (explicit_dir || (env && *env)) {
		const char *d = explicit_dir ? explicit_dir : env;
		char *db = fs_join(d, "moat.db");
		int ok = db && fs_exists(db);
		free(db);
		if (!db) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			return NULL;
		}
		if (!ok) {
			err_set(e, MOAT_ENOTFOUND, "'%s' is not a moat workspace (no moat.db; run 'moat init %s')",
				d, d);
			return NULL;
		}
		p = realpath(d, NULL);
		if (!p)
			err_set(e, MOAT_EIO, "cannot resolve '%s': %s", d, strerror(errno));
		return p;
	}
	if (!getcwd(cwd, sizeof(cwd))) {
		err_set(e, MOAT_EIO, "cannot get the current directory: %s", strerror(errno));
		return NULL;
	}
	for (;;) {
		char *db = fs_join(cwd, "moat.db");
		int ok = db && fs_exists(db);
		free(db);
		if (!db) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			return NULL;
		}
		if (ok) {
			if (!owned_or_safe(cwd, e))
				return NULL;
			p = strdup(cwd);
			if (!p)
				err_set(e, MOAT_ENOMEM, "out of memory");
			return p;
		}
		p = strrchr(cwd, '/');
		if (!p || p == cwd) {
			if (p == cwd && cwd[1]) {
				cwd[1] = '\0';
				continue;
			}
			break;
		}
		*p = '\0';
	}
	err_set(e, MOAT_ENOTFOUND,
		"not in a moat workspace (no moat.db here or in any parent; use -w DIR, "
		"MOAT_WORKSPACE, or 'moat init DIR')");
	return NULL;
}

struct store *store_open(const char *dir, int flags, struct moat_err *e)
{
	return open_db(dir, 0, flags, e);
}

const char *store_dir(const struct store *s)
{
	return s->dir;
}

int store_exclusive(const struct store *s)
{
	return s->lock_fd >= 0 && !s->lock_shared;
}

int store_begin(struct store *s, struct moat_err *e)
{
	if (db_begin(s->db) < 0)
		return err_set(e, db_errcode(s->db), "database error in '%s/moat.db': %s", s->dir,
			       db_errmsg(s->db));
	s->in_tx = 1;
	return 0;
}

/* Appends the committed head to audit.head: a copy of the chain's end that
 * the database cannot take with it (a database cut short, emptied or
 * replaced is then found by audit_verify). */
static int write_head(struct store *s, struct moat_err *e)
{
	int rc = 0;
	/* kept open for the next commits: a server appends once per request */
	if (s->head_fd < 0) {
		char *path = fs_join(s->dir, STORE_AUDIT_HEAD);
		if (!path)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		s->head_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (s->head_fd < 0)
			rc = err_set(e, MOAT_EIO, "the audit record is committed, but '%s' cannot be "
				     "written: %s", path, strerror(errno));
		free(path);
	}
	if (!rc && (fs_write_all(s->head_fd, s->pending_head, strlen(s->pending_head)) < 0 ||
		    fsync(s->head_fd) < 0))
		rc = err_set(e, MOAT_EIO, "the audit record is committed, but '%s/%s' cannot be "
			     "written: %s", s->dir, STORE_AUDIT_HEAD, strerror(errno));
	s->pending_head[0] = '\0';
	return rc;
}

void store_note_audit_head(struct store *s, long long seq, const char *hash)
{
	if (xsnprintf(s->pending_head, sizeof(s->pending_head), "%lld %.64s\n", seq, hash) < 0)
		s->pending_head[0] = '\0';  /* cannot happen: 20 digits and 64 */
}

int store_commit(struct store *s, struct moat_err *e)
{
	if (exec(s, "COMMIT", e) < 0)
		return -1;
	s->in_tx = 0;
	if (s->pending_head[0])
		return write_head(s, e);
	return 0;
}

void store_rollback(struct store *s)
{
	s->pending_head[0] = '\0';
	if (s->in_tx)
		db_rollback(s->db);
	s->in_tx = 0;
}

/* --- objects ------------------------------------------------------------ */

char *store_object_path(const char *ws_dir, const char *id)
{
	char *p;
	if (asprintf(&p, "%s/objects/%.2s/%s", ws_dir, id, id + 2) < 0)
		return NULL;
	return p;
}

/* 1 when the file at path holds exactly data[0, len). */
static int same_bytes(const char *path, const void *data, size_t len)
{
	unsigned char chunk[65536];
	size_t at = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), same = fd >= 0;
	while (same) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			same = n == 0 && at == len;
			break;
		}
		same = (size_t)n <= len - at && !memcmp(chunk, (const unsigned char *)data + at, (size_t)n);
		at += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	return same;
}

static int put_object(const char *ws_dir, const char *id, const void *data, size_t len, int sync,
		      struct moat_err *e)
{
	char *path = store_object_path(ws_dir, id), *dir;
	struct stat st;
	int rc;
	if (!path)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (lstat(path, &st) == 0) {
		/* Present with these very bytes: keep.  Anything else (a write a
		 * power cut lost before its batch was synced, a file planted or
		 * damaged under the name) is replaced: the name is the content's
		 * hash, so the bytes are compared, not only the size. */
		if (S_ISREG(st.st_mode) && (uint64_t)st.st_size == (uint64_t)len &&
		    same_bytes(path, data, len)) {
			free(path);
			return 0;
		}
		unlink(path);
	}
	dir = fs_dirname(path);
	rc = dir ? fs_mkdirs(dir, 0755, e) : err_set(e, MOAT_ENOMEM, "out of memory");
	free(dir);
	if (rc == 0) {
		char *tmp = fs_join(ws_dir, "objects/.tmp");
		if (!tmp)
			rc = err_set(e, MOAT_ENOMEM, "out of memory");
		else if (sync)
			rc = fs_write_atomic_in(path, tmp, data, len, 0444, e);
		else
			rc = fs_write_atomic_in_nosync(path, tmp, data, len, 0444, e);
		free(tmp);
	}
	free(path);
	return rc;
}

int store_put_object(const char *ws_dir, const char *id, const void *data, size_t len,
		     struct moat_err *e)
{
	return put_object(ws_dir, id, data, len, 1, e);
}

int store_put_object_nosync(const char *ws_dir, const char *id, const void *data, size_t len,
			    struct moat_err *e)
{
	return put_object(ws_dir, id, data, len, 0, e);
}

int store_sync_objects(const char *ws_dir, struct moat_err *e)
{
	char *p = fs_join(ws_dir, "objects");
	int rc = p ? fs_sync_fs(p, e) : err_set(e, MOAT_ENOMEM, "out of memory");
	free(p);
	return rc;
}

/* --- runs --------------------------------------------------------------- */

int store_run_begin(struct store *s, const char *command, int64_t *run_id, struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	struct db_stmt *st = store_prep(s, "INSERT INTO runs(command, started_at, status, pid) "
				   "VALUES(?, ?, 'running', ?)", e);
	if (!st)
		return -1;
	store_utc_now(now, 3);
	db_bind_text(st, 1, command, -1, DB_COPY);
	db_bind_text(st, 2, now, -1, DB_COPY);
	db_bind_int64(st, 3, getpid());
	if (store_step(s, st, "cannot write to the workspace", e) < 0)
		return -1;
	*run_id = db_last_insert_id(s->db);
	return 0;
}

int store_run_end(struct store *s, int64_t run_id, const char *status, struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	struct db_stmt *st = store_prep(s, "UPDATE runs SET finished_at = ?, status = ?, audited = 1 "
				   "WHERE id = ?", e);
	if (!st)
		return -1;
	store_utc_now(now, 3);
	db_bind_text(st, 1, now, -1, DB_COPY);
	db_bind_text(st, 2, status, -1, DB_COPY);
	db_bind_int64(st, 3, run_id);
	return store_step(s, st, "cannot write to the workspace", e);
}

json_t *store_runs_interrupted(struct store *s, int64_t current_run, struct moat_err *e)
{
	json_t *arr = json_array();
	struct db_stmt *st = store_prep(s,
		"SELECT r.id, r.command, r.started_at,"
		" (SELECT count(*) FROM files f WHERE f.run_id = r.id)"
		" FROM runs r WHERE r.audited = 0 AND r.id <> ?1 AND coalesce(r.pid, 0) <> ?2"
		" ORDER BY r.id", e);
	int rc = DB_DONE, bad = !arr;
	if (!st) {
		json_decref(arr);
		return NULL;
	}
	db_bind_int64(st, 1, current_run);
	db_bind_int64(st, 2, getpid());
	while (!bad && (rc = db_step(st)) == DB_ROW) {
		bad = json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:I}",
			"run", (json_int_t)db_column_int64(st, 0),
			"command", (const char *)db_column_text(st, 1),
			"started_at", (const char *)db_column_text(st, 2),
			"files", (json_int_t)db_column_int64(st, 3))) != 0;
	}
	db_finalize(st);
	if (store_rows_end(s, rc, bad, "cannot read the workspace's runs", e) < 0) {
		json_decref(arr);
		return NULL;
	}
	st = store_prep(s, "UPDATE runs SET status = 'interrupted', audited = 1 "
		     "WHERE audited = 0 AND id <> ?1 AND coalesce(pid, 0) <> ?2", e);
	if (!st) {
		json_decref(arr);
		return NULL;
	}
	db_bind_int64(st, 1, current_run);
	db_bind_int64(st, 2, getpid());
	if (store_step(s, st, "cannot write to the workspace", e) < 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* --- files and documents ------------------------------------------------ */

int store_file_latest(struct store *s, const char *path, struct store_file *out,
		      struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "SELECT version, doc_id, status, error FROM files "
				   "WHERE path = ? ORDER BY version DESC LIMIT 1", e);
	int rc;
	memset(out, 0, sizeof(*out));
	if (!st)
		return -1;
	db_bind_text(st, 1, path, -1, DB_COPY);
	rc = db_step(st);
	if (rc == DB_ROW) {
		out->found = 1;
		out->version = db_column_int64(st, 0);
		store_col_copy(out->doc_id, sizeof(out->doc_id), st, 1);
		store_col_copy(out->status, sizeof(out->status), st, 2);
		store_col_copy(out->error, sizeof(out->error), st, 3);
	}
	db_finalize(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return store_db_err(s, "cannot read the workspace", e);
	return 0;
}

int store_add_file(struct store *s, const struct store_file_row *r, int64_t *version_out,
		   struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	struct db_stmt *st = store_prep(s,
		"INSERT INTO files(path, version, doc_id, size, mtime, status, error, ingested_at, run_id)"
		" VALUES(?1, (SELECT coalesce(max(version), 0) + 1 FROM files WHERE path = ?1),"
		" ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING version", e);
	int rc;
	if (!st)
		return -1;
	store_utc_now(now, 3);
	db_bind_text(st, 1, r->path, -1, DB_COPY);
	if (r->doc_id)
		db_bind_text(st, 2, r->doc_id, -1, DB_COPY);
	db_bind_int64(st, 3, (int64_t)r->size);
	db_bind_int64(st, 4, r->mtime);
	db_bind_text(st, 5, r->status, -1, DB_COPY);
	if (r->error)
		db_bind_text(st, 6, r->error, -1, DB_COPY);
	db_bind_text(st, 7, now, -1, DB_COPY);
	db_bind_int64(st, 8, r->run_id);
	rc = db_step(st);
	if (rc == DB_ROW && version_out)
		*version_out = db_column_int64(st, 0);
	db_finalize(st);
	if (rc != DB_ROW)
		return store_db_err(s, "cannot record a file", e);
	return 0;
}

/* Metadata as stored: NULL in *out for none (or an empty object); -1 when
 * out of memory. */
static int json_text(json_t *j, char **out)
{
	*out = NULL;
	if (!j || (json_is_object(j) && json_object_size(j) == 0))
		return 0;
	*out = store_json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	return *out ? 0 : -1;
}

int store_add_document(struct store *s, const char *id, const char *mime, uint64_t size,
		       const struct doc *d, int64_t run_id, struct moat_err *e)
{
	char now[STORE_TIME_MAX], *meta;
	struct db_stmt *st = store_prep(s,
		"INSERT INTO documents(id, type, mime, size, encoding, text, text_length, n_elements,"
		" meta, created_at, run_id) VALUES(?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING", e);
	int rc;
	if (!st)
		return -1;
	if (json_text(d->meta, &meta) < 0) {
		db_finalize(st);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	store_utc_now(now, 3);
	db_bind_text(st, 1, id, -1, DB_COPY);
	db_bind_text(st, 2, d->format, -1, DB_STATIC);
	db_bind_text(st, 3, mime, -1, DB_COPY);
	db_bind_int64(st, 4, (int64_t)size);
	db_bind_text(st, 5, d->encoding, -1, DB_STATIC);
	db_bind_text(st, 6, buf_str(&d->text), (int)d->text.len, DB_STATIC);
	db_bind_int64(st, 7, (int64_t)d->text_cps);
	db_bind_int64(st, 8, (int64_t)d->n_el);
	if (meta)
		db_bind_text(st, 9, meta, -1, DB_TAKE);
	db_bind_text(st, 10, now, -1, DB_COPY);
	db_bind_int64(st, 11, run_id);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE)
		return store_db_err(s, "cannot store a document", e);
	if (db_changes(s->db) == 0)
		return 0;
	st = store_prep(s, "INSERT INTO elements(doc_id, seq, type, level, page, start_cp, end_cp, text, meta)"
		     " VALUES(?,?,?,?,?,?,?,?,?)", e);
	if (!st)
		return -1;
	for (size_t i = 0; i < d->n_el; i++) {
		const struct element *el = &d->el[i];
		char *m;
		if (json_text(el->meta, &m) < 0) {
			db_finalize(st);
			return err_set(e, MOAT_ENOMEM, "out of memory");
		}
		db_reset(st);
		db_clear_bindings(st);
		db_bind_text(st, 1, id, -1, DB_COPY);
		db_bind_int64(st, 2, (int64_t)i + 1);
		db_bind_text(st, 3, element_type_name(el->type), -1, DB_STATIC);
		db_bind_int(st, 4, el->level);
		db_bind_int(st, 5, el->page);
		db_bind_int64(st, 6, (int64_t)el->start);
		db_bind_int64(st, 7, (int64_t)el->end);
		db_bind_text(st, 8, doc_el_text(d, el), (int)el->byte_len, DB_STATIC);
		if (m)
			db_bind_text(st, 9, m, -1, DB_TAKE);
		if (db_step(st) != DB_DONE) {
			db_finalize(st);
			return store_db_err(s, "cannot store an element", e);
		}
	}
	db_finalize(st);
	if (d->n_children && store_add_children(s, id, d, run_id, e) < 0)
		return -1;
	return 1;
}

int store_add_children(struct store *s, const char *parent_id, const struct doc *d,
		       int64_t run_id, struct moat_err *e)
{
	for (size_t i = 0; i < d->n_children; i++) {
		const struct doc_child *c = &d->children[i];
		struct db_stmt *st;
		int rc;
		if (store_put_object(store_dir(s), c->id, c->data ? (const void *)c->data : "", c->len,
				     e) < 0)
			return -1;
		if (c->failed)
			continue;  /* the parent's metadata says why */
		rc = store_add_document(s, c->id, c->mime, c->len, &c->doc, run_id, e);
		if (rc < 0)
			return -1;
		st = store_prep(s, "UPDATE documents SET parent_id = ? WHERE id = ? AND parent_id IS NULL"
			     " AND id <> ?", e);
		if (!st)
			return -1;
		db_bind_text(st, 1, parent_id, -1, DB_COPY);
		db_bind_text(st, 2, c->id, -1, DB_COPY);
		db_bind_text(st, 3, parent_id, -1, DB_COPY);
		rc = db_step(st);
		db_finalize(st);
		if (rc != DB_DONE)
			return store_db_err(s, "cannot record a child document", e);
	}
	return 0;
}

/* --- reading ------------------------------------------------------------ */

/* A JSON column as a value ({} for NULL or text that is not JSON); NULL when
 * out of memory. */
static json_t *col_json(struct db_stmt *st, int col)
{
	const char *t = (const char *)db_column_text(st, col);
	json_t *j;
	int nomem;
	if (!t)
		return json_object();
	j = store_json_loads(t, &nomem);
	if (nomem)
		return NULL;
	return j ? j : json_object();
}

/* A text column as a JSON string (null for NULL); NULL when out of memory. */
static json_t *col_str(struct db_stmt *st, int col)
{
	const char *t = (const char *)db_column_text(st, col);
	return t ? jsonu_string(t) : json_null();
}

/* Sets o[key] = v, taking v; *bad becomes 1 when either is NULL (out of
 * memory), so that a builder checks once at the end. */
static void set(json_t *o, const char *key, json_t *v, int *bad)
{
	if (json_object_set_new(o, key, v) != 0)
		*bad = 1;
}

json_t *store_list(struct store *s, struct moat_err *e)
{
	json_t *arr = json_array();
	struct db_stmt *st = store_prep(s,
		"SELECT f.doc_id, f.path, f.version, d.type, f.size, d.n_elements, f.status, f.error,"
		" d.encoding, f.ingested_at FROM files f"
		" LEFT JOIN documents d ON d.id = f.doc_id"
		" WHERE f.version = (SELECT max(version) FROM files g WHERE g.path = f.path)"
		" ORDER BY f.path", e);
	int rc = DB_DONE, bad = !arr;
	if (!st) {
		json_decref(arr);
		return NULL;
	}
	while (!bad && (rc = db_step(st)) == DB_ROW) {
		json_t *o = json_object();
		set(o, "id", col_str(st, 0), &bad);
		set(o, "path", col_str(st, 1), &bad);
		set(o, "version", json_integer(db_column_int64(st, 2)), &bad);
		set(o, "type", col_str(st, 3), &bad);
		set(o, "size", json_integer(db_column_int64(st, 4)), &bad);
		set(o, "elements", db_column_is_null(st, 5)
				   ? json_null() : json_integer(db_column_int64(st, 5)), &bad);
		set(o, "status", col_str(st, 6), &bad);
		set(o, "error", col_str(st, 7), &bad);
		set(o, "encoding", col_str(st, 8), &bad);
		set(o, "ingested_at", col_str(st, 9), &bad);
		if (json_array_append_new(arr, o) != 0)
			bad = 1;
	}
	db_finalize(st);
	if (store_rows_end(s, rc, bad, "cannot list documents", e) < 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

static int resolve_ref(struct store *s, const char *ref, char id[65], struct moat_err *e)
{
	struct db_stmt *st;
	int n = 0, rc;
	size_t len = strlen(ref);
	int hexref = len >= 4 && len <= 64 && strspn(ref, "0123456789abcdef") == len;
	char *abs = realpath(ref, NULL);
	if (hexref) {
		char pat[70];
		/* LIKE: ref is lowercase hex, so SQLite's case-blind LIKE and
		 * PostgreSQL's agree, and it holds no % or _ */
		if (xsnprintf(pat, sizeof(pat), "%s%%", ref) < 0) {
			free(abs);
			return err_set(e, MOAT_EUSAGE, "document id '%s' is too long", ref);
		}
		st = store_prep(s, "SELECT id FROM documents WHERE id LIKE ? LIMIT 2", e);
		if (!st) {
			free(abs);
			return -1;
		}
		db_bind_text(st, 1, pat, -1, DB_COPY);
		while ((rc = db_step(st)) == DB_ROW) {
			if (n++ == 0)
				store_col_copy(id, 65, st, 0);
		}
		db_finalize(st);
		if (n > 1) {
			free(abs);
			return err_set(e, MOAT_EUSAGE, "'%s' matches several documents; give more digits", ref);
		}
		if (n == 1) {
			free(abs);
			return 0;
		}
	}
	st = store_prep(s, "SELECT doc_id FROM files WHERE (path = ? OR path = ?) AND doc_id IS NOT NULL"
		     " ORDER BY version DESC LIMIT 1", e);
	if (!st) {
		free(abs);
		return -1;
	}
	db_bind_text(st, 1, ref, -1, DB_COPY);
	db_bind_text(st, 2, abs ? abs : ref, -1, DB_COPY);
	rc = db_step(st);
	if (rc == DB_ROW)
		store_col_copy(id, 65, st, 0);
	db_finalize(st);
	free(abs);
	if (rc != DB_ROW)
		return err_set(e, MOAT_ENOTFOUND, "no document '%s' in this workspace", ref);
	return 0;
}

/* The first column of every row of sql (one text parameter, id) as an array
 * of strings; NULL with e set on failure. */
static json_t *str_rows(struct store *s, const char *sql, const char *id, struct moat_err *e)
{
	json_t *arr = json_array();
	struct db_stmt *st = store_prep(s, sql, e);
	int rc = DB_DONE, bad = !arr;
	if (!st) {
		json_decref(arr);
		return NULL;
	}
	db_bind_text(st, 1, id, -1, DB_COPY);
	while (!bad && (rc = db_step(st)) == DB_ROW)
		if (json_array_append_new(arr, col_str(st, 0)) != 0)
			bad = 1;
	db_finalize(st);
	if (store_rows_end(s, rc, bad, "cannot read a document", e) < 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

json_t *store_show(struct store *s, const char *ref, struct moat_err *e)
{
	char id[65];
	json_t *doc, *paths, *parent, *kids, *els;
	struct db_stmt *st;
	int rc = DB_DONE, bad = 0;
	if (resolve_ref(s, ref, id, e) < 0)
		return NULL;
	st = store_prep(s, "SELECT type, mime, size, encoding, created_at, meta, text_length, n_elements"
		     " FROM documents WHERE id = ?", e);
	if (!st)
		return NULL;
	db_bind_text(st, 1, id, -1, DB_COPY);
	if (db_step(st) != DB_ROW) {
		db_finalize(st);
		err_set(e, MOAT_ENOTFOUND, "no document '%s' in this workspace", ref);
		return NULL;
	}
	doc = json_object();
	set(doc, "id", json_string(id), &bad);
	set(doc, "type", col_str(st, 0), &bad);
	set(doc, "mime", col_str(st, 1), &bad);
	set(doc, "size", json_integer(db_column_int64(st, 2)), &bad);
	set(doc, "encoding", col_str(st, 3), &bad);
	set(doc, "created_at", col_str(st, 4), &bad);
	set(doc, "meta", col_json(st, 5), &bad);
	set(doc, "text_length", json_integer(db_column_int64(st, 6)), &bad);
	set(doc, "n_elements", json_integer(db_column_int64(st, 7)), &bad);
	db_finalize(st);
	if (bad) {
		json_decref(doc);
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}

	paths = str_rows(s, "SELECT DISTINCT path FROM files WHERE doc_id = ? ORDER BY path", id, e);
	parent = paths ? str_rows(s, "SELECT parent_id FROM documents WHERE id = ? AND"
				  " parent_id IS NOT NULL", id, e) : NULL;
	kids = parent ? str_rows(s, "SELECT id FROM documents WHERE parent_id = ? ORDER BY id", id, e)
		      : NULL;
	if (!kids) {
		json_decref(paths);
		json_decref(parent);
		json_decref(doc);
		return NULL;  /* e says why */
	}
	set(doc, "paths", paths, &bad);
	if (json_array_size(parent))
		set(doc, "parent_id", json_incref(json_array_get(parent, 0)), &bad);
	json_decref(parent);
	if (json_array_size(kids))
		set(doc, "children", kids, &bad);
	else
		json_decref(kids);

	els = json_array();
	st = store_prep(s, "SELECT seq, type, level, page, start_cp, end_cp, text, meta FROM elements"
		     " WHERE doc_id = ? ORDER BY seq", e);
	if (!st) {
		json_decref(doc);
		json_decref(els);
		return NULL;
	}
	bad |= !els;
	db_bind_text(st, 1, id, -1, DB_COPY);
	while (!bad && (rc = db_step(st)) == DB_ROW) {
		json_t *o = json_object();
		set(o, "seq", json_integer(db_column_int64(st, 0)), &bad);
		set(o, "type", col_str(st, 1), &bad);
		if (db_column_int(st, 2))
			set(o, "level", json_integer(db_column_int(st, 2)), &bad);
		if (db_column_int(st, 3))
			set(o, "page", json_integer(db_column_int(st, 3)), &bad);
		set(o, "start", json_integer(db_column_int64(st, 4)), &bad);
		set(o, "end", json_integer(db_column_int64(st, 5)), &bad);
		set(o, "text", col_str(st, 6), &bad);
		if (!db_column_is_null(st, 7))
			set(o, "meta", col_json(st, 7), &bad);
		if (json_array_append_new(els, o) != 0)
			bad = 1;
	}
	db_finalize(st);
	set(doc, "elements", els, &bad);
	if (store_rows_end(s, rc, bad, "cannot read a document", e) < 0) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

int store_counts(struct store *s, int64_t *documents, int64_t *elements, int64_t *files,
		 int64_t *failed, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s,
		"SELECT (SELECT count(*) FROM documents), (SELECT coalesce(sum(n_elements),0) FROM documents),"
		" (SELECT count(DISTINCT path) FROM files),"
		" (SELECT count(*) FROM files f WHERE f.status = 'failed' AND f.version ="
		"   (SELECT max(version) FROM files g WHERE g.path = f.path))", e);
	if (!st)
		return -1;
	if (db_step(st) != DB_ROW) {
		db_finalize(st);
		return store_db_err(s, "cannot count documents", e);
	}
	*documents = db_column_int64(st, 0);
	*elements = db_column_int64(st, 1);
	*files = db_column_int64(st, 2);
	*failed = db_column_int64(st, 3);
	db_finalize(st);
	return 0;
}

const char *store_sqlite_version(void)
{
	return db_sqlite_version();
}

const char *store_pg_version(void)
{
	return db_pg_version();
}

const char *store_kind(const struct store *s)
{
	return s->pg_uri ? "PostgreSQL" : "SQLite";
}

const char *store_workspace_id(const struct store *s)
{
	return s->pg_uri ? s->id : "";
}

/* The share probe (store.h): DIR/share.probe holds the token of the last
 * moat doctor run, and the meta table the same token with the run's host
 * and time. */
#define SHARE_PROBE "share.probe"

int store_share_probe(struct store *s, char *msg, size_t cap, struct moat_err *e)
{
	char last[256] = "", tok[33], host[128] = "", now[STORE_TIME_MAX], *path, *mine;
	const char *seen;
	struct buf b = BUF_INIT;
	int same = 1, found;
	if (!s->pg_uri) {
		if (xsnprintf(msg, cap, "the tables are in %s/moat.db, in the share itself", s->dir) < 0)
			msg[0] = '\0';
		return 1;
	}
	if (!(path = fs_join(s->dir, SHARE_PROBE)))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if ((found = store_meta_get(s->db, "share_probe", last, sizeof(last))) < 0) {
		free(path);
		return store_db_err(s, "cannot read the share probe", e);
	}
	if (fs_exists(path) && fs_read_file(path, &b, 4096, e) < 0) {
		free(path);
		return -1;
	}
	seen = b.len ? buf_str(&b) : "";
	if (found) {
		/* "TOKEN HOST TIME" */
		size_t n = strcspn(last, " ");
		same = strlen(seen) == n + 1 && !strncmp(seen, last, n) && seen[n] == '\n';
		if (xsnprintf(msg, cap, same ? "this node sees the probe that %s left in %s" :
			      "this node does not see the probe that %s left in %s (it finds %s): "
			      "it mounts another directory there than that node did (or a doctor "
			      "ran there at the same moment: run it again)",
			      last + n + (last[n] == ' '), path,
			      b.len ? "another probe" : "none") < 0)
			msg[0] = '\0';
	} else if (xsnprintf(msg, cap, "left the first probe in %s: run moat doctor on each node",
			     path) < 0) {
		msg[0] = '\0';
	}
	buf_release(&b);
	/* this run's probe, for the next node to find */
	if (random_hex(tok, "a probe token", e) < 0) {
		free(path);
		return -1;
	}
	gethostname(host, sizeof(host) - 1);
	store_utc_now(now, 0);
	if (asprintf(&mine, "%s %s at %s", tok, host[0] ? host : "?", now) < 0) {
		free(path);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	tok[32] = '\n';
	if (store_begin(s, e) < 0 ||
	    (store_meta_set(s->db, "share_probe", mine) < 0 &&
	     store_db_err(s, "cannot write the share probe", e)) ||
	    fs_write_atomic(path, tok, 33, 0644, e) < 0 || store_commit(s, e) < 0) {
		store_rollback(s);
		free(mine);
		free(path);
		return -1;
	}
	free(mine);
	free(path);
	return same;
}

int store_check_objects(struct store *s, size_t max, size_t *checked, size_t *found,
			struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "SELECT id FROM documents ORDER BY rowid DESC LIMIT ?", e);
	int rc;
	*checked = *found = 0;
	if (!st)
		return -1;
	db_bind_int64(st, 1, (int64_t)max);
	while ((rc = db_step(st)) == DB_ROW) {
		char *p = store_object_path(s->dir, db_column_text(st, 0));
		struct stat sb;
		if (!p) {
			db_finalize(st);
			return err_set(e, MOAT_ENOMEM, "out of memory");
		}
		(*checked)++;
		*found += stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
		free(p);
	}
	db_finalize(st);
	if (rc != DB_DONE)
		return store_db_err(s, "cannot list documents", e);
	return 0;
}
