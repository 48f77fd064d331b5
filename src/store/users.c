/*
 * users.c - the users and sessions of `moat serve` (users.h).  Plain SQL on
 * both backends; times are UTC text that sorts as it reads.
 */
#include "users.h"
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

static const char *const ROLE_NAMES[] = { NULL, "annotator", "reviewer", "admin" };

enum user_role user_role_parse(const char *s)
{
	for (int i = USER_ANNOTATOR; s && i <= USER_ADMIN; i++)
		if (!strcmp(s, ROLE_NAMES[i]))
			return (enum user_role)i;
	return 0;
}

const char *user_role_name(enum user_role r)
{
	return r >= USER_ANNOTATOR && r <= USER_ADMIN ? ROLE_NAMES[r] : "none";
}

int user_name_check(const char *name, struct moat_err *e)
{
	size_t n = strlen(name);
	if (n == 0 || n > USER_NAME_MAX)
		return err_set(e, MOAT_EUSAGE, "a user name has 1 to %d characters", USER_NAME_MAX);
	if (name[0] == '-' || name[0] == '.')
		return err_set(e, MOAT_EUSAGE, "a user name cannot start with '%c'", name[0]);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '@' || c == '-'))
			return err_set(e, MOAT_EUSAGE, "a user name holds only letters, digits and . _ @ -");
	}
	return 0;
}

void user_row_release(struct user_row *u)
{
	free(u->pw_hash);
	u->pw_hash = NULL;
}

int user_add(struct store *s, const char *name, enum user_role role, const char *pw_hash,
	     struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	struct db_stmt *st = store_prep(s,
		"INSERT INTO users(name, role, pw_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
		" ON CONFLICT(name) DO NOTHING", e);
	if (!st)
		return -1;
	store_utc_now(now, 0);
	db_bind_text(st, 1, name, -1, DB_COPY);
	db_bind_text(st, 2, user_role_name(role), -1, DB_STATIC);
	db_bind_text(st, 3, pw_hash, -1, DB_COPY);
	db_bind_text(st, 4, now, -1, DB_COPY);
	db_bind_text(st, 5, now, -1, DB_COPY);
	if (store_step(s, st, "cannot add the user", e) < 0)
		return -1;
	if (db_changes(store_db(s)) == 0)
		return err_set(e, MOAT_EEXISTS, "user '%s' already exists", name);
	return 0;
}

int user_get(struct store *s, const char *name, struct user_row *out, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "SELECT name, role, pw_hash FROM users WHERE name = ?", e);
	int rc;
	memset(out, 0, sizeof(*out));
	if (!st)
		return -1;
	db_bind_text(st, 1, name, -1, DB_COPY);
	rc = db_step(st);
	if (rc == DB_ROW) {
		store_col_copy(out->name, sizeof(out->name), st, 0);
		out->role = user_role_parse(db_column_text(st, 1));
		if (!(out->pw_hash = store_col_dup(st, 2, NULL))) {
			db_finalize(st);
			return err_set(e, MOAT_ENOMEM, "cannot read user '%s': out of memory", name);
		}
	}
	db_finalize(st);
	if (rc == DB_ROW)
		return 1;
	if (rc == DB_DONE)
		return 0;
	return store_db_err(s, "cannot read the user", e);
}

int user_set_password(struct store *s, const char *name, const char *pw_hash, struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	struct db_stmt *st = store_prep(s,
		"UPDATE users SET pw_hash = ?, updated_at = ? WHERE name = ?", e);
	if (!st)
		return -1;
	store_utc_now(now, 0);
	db_bind_text(st, 1, pw_hash, -1, DB_COPY);
	db_bind_text(st, 2, now, -1, DB_COPY);
	db_bind_text(st, 3, name, -1, DB_COPY);
	if (store_step(s, st, "cannot change the password", e) < 0)
		return -1;
	if (db_changes(store_db(s)) == 0)
		return err_set(e, MOAT_ENOTFOUND, "no user '%s'", name);
	return 0;
}

int user_rm(struct store *s, const char *name, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "DELETE FROM sessions WHERE name = ?", e);
	if (!st)
		return -1;
	db_bind_text(st, 1, name, -1, DB_COPY);
	if (store_step(s, st, "cannot remove the user's sessions", e) < 0)
		return -1;
	if (!(st = store_prep(s, "DELETE FROM users WHERE name = ?", e)))
		return -1;
	db_bind_text(st, 1, name, -1, DB_COPY);
	if (store_step(s, st, "cannot remove the user", e) < 0)
		return -1;
	if (db_changes(store_db(s)) == 0)
		return err_set(e, MOAT_ENOTFOUND, "no user '%s'", name);
	return 0;
}

json_t *user_list(struct store *s, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s,
		"SELECT name, role, created_at, updated_at, pw_hash FROM users ORDER BY name", e);
	json_t *arr = json_array();
	int rc = DB_DONE, nomem = !arr;
	if (!st) {
		json_decref(arr);
		return NULL;
	}
	while (!nomem && (rc = db_step(st)) == DB_ROW) {
		const char *h = db_column_text(st, 4);
		nomem = json_array_append_new(arr, json_pack("{s:s?, s:s?, s:s?, s:s?, s:b}",
			"name", db_column_text(st, 0), "role", db_column_text(st, 1),
			"created_at", db_column_text(st, 2), "updated_at", db_column_text(st, 3),
			"password", h && strcmp(h, "!") != 0)) != 0;
	}
	db_finalize(st);
	if (store_rows_end(s, nomem ? DB_DONE : rc, nomem, "cannot list users", e) < 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

int64_t user_count_admins(struct store *s, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "SELECT count(*) FROM users WHERE role = 'admin'", e);
	int64_t n = -1;
	if (!st)
		return -1;
	if (db_step(st) == DB_ROW)
		n = db_column_int64(st, 0);
	db_finalize(st);
	if (n < 0)
		return store_db_err(s, "cannot count admins", e);
	return n;
}

/* --- sessions --------------------------------------------------------------- */

int user_session_add(struct store *s, const char *token_sha256, const char *name,
		     const char *csrf, const char *expires_at, struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	struct db_stmt *st = store_prep(s,
		"INSERT INTO sessions(token_sha256, name, csrf, created_at, expires_at)"
		" VALUES (?, ?, ?, ?, ?)", e);
	if (!st)
		return -1;
	store_utc_now(now, 0);
	db_bind_text(st, 1, token_sha256, -1, DB_COPY);
	db_bind_text(st, 2, name, -1, DB_COPY);
	db_bind_text(st, 3, csrf, -1, DB_COPY);
	db_bind_text(st, 4, now, -1, DB_COPY);
	db_bind_text(st, 5, expires_at, -1, DB_COPY);
	return store_step(s, st, "cannot record the session", e);
}

int user_session_get(struct store *s, const char *token_sha256, const char *now,
		     struct user_session *out, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s,
		"SELECT s.name, u.role, s.csrf, s.expires_at FROM sessions s"
		" JOIN users u ON u.name = s.name WHERE s.token_sha256 = ? AND s.expires_at > ?", e);
	int rc;
	memset(out, 0, sizeof(*out));
	if (!st)
		return -1;
	db_bind_text(st, 1, token_sha256, -1, DB_COPY);
	db_bind_text(st, 2, now, -1, DB_COPY);
	rc = db_step(st);
	if (rc == DB_ROW) {
		store_col_copy(out->name, sizeof(out->name), st, 0);
		out->role = user_role_parse(db_column_text(st, 1));
		store_col_copy(out->csrf, sizeof(out->csrf), st, 2);
		store_col_copy(out->expires_at, sizeof(out->expires_at), st, 3);
	}
	db_finalize(st);
	if (rc == DB_ROW)
		return out->role ? 1 : 0;
	if (rc == DB_DONE)
		return 0;
	return store_db_err(s, "cannot read the session", e);
}

int user_session_rm(struct store *s, const char *token_sha256, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "DELETE FROM sessions WHERE token_sha256 = ?", e);
	if (!st)
		return -1;
	db_bind_text(st, 1, token_sha256, -1, DB_COPY);
	return store_step(s, st, "cannot end the session", e);
}

int64_t user_session_purge(struct store *s, const char *now, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "DELETE FROM sessions WHERE expires_at <= ?", e);
	if (!st)
		return -1;
	db_bind_text(st, 1, now, -1, DB_COPY);
	if (store_step(s, st, "cannot remove expired sessions", e) < 0)
		return -1;
	return db_changes(store_db(s));
}
