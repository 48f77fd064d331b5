/*
 * users.h - the people who log in to `moat serve` and their sessions: the
 * tables users(name, role, pw_hash) and sessions(token_sha256, name, csrf,
 * expires_at) of migration 4.  Plain SQL, the same on SQLite and
 * PostgreSQL, so several serve processes on one workspace share sessions.
 *
 * Not for: hashing passwords or making tokens (core/passwd.h), nor who may
 * do what (src/web/).  The functions here write in their own statement,
 * never a transaction of their own: a caller that audits a change (moat
 * users) wraps the change and its record in store_begin/commit.
 *
 * Ownership: json_t results are new references; struct user_row's pw_hash
 * is the caller's (user_row_release).  Every function returns 0 (or 1 for
 * found) or -1 with e set.
 */
#ifndef MOAT_USERS_H
#define MOAT_USERS_H

#include <stdint.h>

#include <jansson.h>

#include "store.h"

#define USER_NAME_MAX 64
#define USER_ROLE_MAX 16

/* The roles, in order of what they may do. */
enum user_role { USER_ANNOTATOR = 1, USER_REVIEWER = 2, USER_ADMIN = 3 };
/* "annotator", "reviewer", "admin" to the enum (0 when none of them); and back. */
enum user_role user_role_parse(const char *s);
const char *user_role_name(enum user_role r);

/* 0 when name can be a user's: 1 to USER_NAME_MAX bytes of letters, digits
 * and . _ @ -, not starting with '-' or '.'; else -1 with e set (MOAT_EUSAGE). */
int user_name_check(const char *name, struct moat_err *e) __attribute__((warn_unused_result));

struct user_row {
	char name[USER_NAME_MAX + 1];
	enum user_role role;
	char *pw_hash;
};
void user_row_release(struct user_row *u);

/* Adds a user; MOAT_EEXISTS when there is one of that name. */
int user_add(struct store *s, const char *name, enum user_role role, const char *pw_hash,
	     struct moat_err *e) __attribute__((warn_unused_result));
/* 1 with *out filled when name is a user, 0 when not. */
int user_get(struct store *s, const char *name, struct user_row *out, struct moat_err *e)
	__attribute__((warn_unused_result));
/* MOAT_ENOTFOUND when there is no such user. */
int user_set_password(struct store *s, const char *name, const char *pw_hash, struct moat_err *e)
	__attribute__((warn_unused_result));
/* Removes the user and their sessions; MOAT_ENOTFOUND when none. */
int user_rm(struct store *s, const char *name, struct moat_err *e)
	__attribute__((warn_unused_result));
/* [{name, role, created_at, updated_at, password: true|false}], by name;
 * password is false for a user who can log in only by a serve token. */
json_t *user_list(struct store *s, struct moat_err *e) __attribute__((warn_unused_result));
/* How many users have role admin. */
int64_t user_count_admins(struct store *s, struct moat_err *e) __attribute__((warn_unused_result));

/* --- sessions --------------------------------------------------------------- */

struct user_session {
	char name[USER_NAME_MAX + 1];
	enum user_role role;          /* the user's role now, not at login */
	char csrf[80];
	char expires_at[40];
};

/* Records a session (the SHA-256 hex of its token) for name until
 * expires_at (UTC, 2024-05-01T12:00:00Z). */
int user_session_add(struct store *s, const char *token_sha256, const char *name,
		     const char *csrf, const char *expires_at, struct moat_err *e)
	__attribute__((warn_unused_result));
/* 1 with *out filled for a session that has not expired at now (the same
 * format) and whose user still exists, else 0. */
int user_session_get(struct store *s, const char *token_sha256, const char *now,
		     struct user_session *out, struct moat_err *e) __attribute__((warn_unused_result));
int user_session_rm(struct store *s, const char *token_sha256, struct moat_err *e)
	__attribute__((warn_unused_result));
/* Removes the sessions that expired before now; the number removed. */
int64_t user_session_purge(struct store *s, const char *now, struct moat_err *e)
	__attribute__((warn_unused_result));

#endif
