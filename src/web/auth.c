/*
 * auth.c - who is asking: the one-time token printed at start, logins by
 * name and password, sessions and their CSRF tokens (web_int.h).
 *
 * A session is a random 32-byte token in the cookie moat_session; only its
 * SHA-256 is stored (table sessions), so several serve processes on one
 * workspace share sessions and a copy of the database holds no usable
 * token.  Its CSRF token is returned by login and GET /api/session and must
 * come back in X-CSRF-Token with every request that is not GET or HEAD.
 *
 * Failed logins are limited per name, in this process: after RL_FAILS
 * failures within RL_WINDOW_S seconds, logins for that name are refused
 * (429) until the window ends, whether the name exists or not.  Every
 * check of a password costs one scrypt, also for a name that does not
 * exist, so the time does not tell which names exist.
 */
#define _GNU_SOURCE
#include "web_int.h"
#include "../core/alloc.h"
#include "../core/fmt.h"
#include "../core/hash.h"
#include "../core/passwd.h"
#include "../store/audit.h"
#include "../store/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "../core/banned.h"

#define RL_FAILS 5
#define RL_WINDOW_S 900
#define RL_SLOTS 1024

struct rl_slot {
	char name[USER_NAME_MAX + 1];
	time_t start;
	int fails;
};

struct web_ratelimit {
	struct rl_slot slot[RL_SLOTS];
};

int web_auth_init(struct web *w, struct moat_err *e)
{
	if (!(w->rl = calloc(1, sizeof(*w->rl))))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return passwd_token(32, w->token, sizeof(w->token), e);
}

void web_auth_free(struct web *w)
{
	free(w->rl);
	OPENSSL_cleanse(w->token, sizeof(w->token));
}

/* The slot of name: its own, else a free or stale one, else the one whose
 * window started first (w->lock held). */
static struct rl_slot *rl_slot(struct web *w, const char *name, time_t now)
{
	struct rl_slot *pick = NULL;
	for (size_t i = 0; i < RL_SLOTS; i++) {
		struct rl_slot *s = &w->rl->slot[i];
		if (s->name[0] && !strcmp(s->name, name)) {
			if (now - s->start >= RL_WINDOW_S) {
				s->start = now;
				s->fails = 0;
			}
			return s;
		}
		if (!pick || (pick->name[0] && (!s->name[0] || now - s->start >= RL_WINDOW_S ||
						s->start < pick->start)))
			pick = s;
	}
	if (xsnprintf(pick->name, sizeof(pick->name), "%s", name) < 0)
		pick->name[0] = '\0';
	pick->start = now;
	pick->fails = 0;
	return pick;
}

/* Seconds until name may try again, 0 when it may now. */
static int rl_wait(struct web *w, const char *name)
{
	time_t now = time(NULL);
	int wait = 0;
	pthread_mutex_lock(&w->lock);
	{
		struct rl_slot *s = rl_slot(w, name, now);
		if (s->fails >= RL_FAILS)
			wait = (int)(s->start + RL_WINDOW_S - now);
	}
	pthread_mutex_unlock(&w->lock);
	return wait > 0 ? wait : 0;
}

static void rl_note(struct web *w, const char *name, int ok)
{
	pthread_mutex_lock(&w->lock);
	{
		struct rl_slot *s = rl_slot(w, name, time(NULL));
		if (ok)
			s->fails = 0;
		else
			s->fails++;
	}
	pthread_mutex_unlock(&w->lock);
}

int web_auth_session(struct web_req *r)
{
	const char *tok = web_cookie(r, "moat_session");
	char now[40];
	struct moat_err e = MOAT_ERR_INIT;
	int rc;
	r->have_session = 0;
	if (!tok || strlen(tok) > 100)
		return 0;
	sha256_hex_mem(tok, strlen(tok), r->token_sha);
	web_utc(now, 0);
	if ((rc = user_session_get(r->st, r->token_sha, now, &r->sess, &e)) < 0)
		return web_moat_err(r, &e);
	r->have_session = rc;
	return 0;
}

int web_auth_csrf(struct web_req *r)
{
	const char *got = web_header(r, "X-CSRF-Token");
	size_t n = strlen(r->sess.csrf);
	if (!got)
		return web_err(r, 403, "missing the X-CSRF-Token header (GET /api/session gives it)");
	if (strlen(got) != n || n == 0 || CRYPTO_memcmp(got, r->sess.csrf, n))
		return web_err(r, 403, "wrong X-CSRF-Token");
	return 0;
}

/* Makes a session for name: the cookie, and r->out {name, role, csrf, expires_at}. */
static int new_session(struct web_req *r, const char *name, enum user_role role)
{
	char token[64], csrf[64], sha[SHA256_HEX], expires[40], now[40];
	struct moat_err e = MOAT_ERR_INIT;
	double secs = r->w->o.session_hours * 3600.0;
	if (passwd_token(32, token, sizeof(token), &e) < 0 || passwd_token(32, csrf, sizeof(csrf), &e) < 0)
		return web_moat_err(r, &e);
	sha256_hex_mem(token, strlen(token), sha);
	web_utc(expires, secs);
	web_utc(now, 0);
	if (user_session_purge(r->st, now, &e) < 0)  /* housekeeping: a failure changes nothing */
		err_clear(&e);
	if (user_session_add(r->st, sha, name, csrf, expires, &e) < 0) {
		OPENSSL_cleanse(token, sizeof(token));
		return web_moat_err(r, &e);
	}
	if (xsnprintf(r->cookie, sizeof(r->cookie),
		      "moat_session=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%lld%s", token,
		      (long long)(secs < 1 ? 1 : secs), r->w->tls ? "; Secure" : "") < 0)
		r->cookie[0] = '\0';
	OPENSSL_cleanse(token, sizeof(token));
	json_decref(r->out);
	r->out = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "role", user_role_name(role), "csrf",
			   csrf, "expires_at", expires);
	return 200;
}

/* The one-time token's login: the OS user who started serve, as an admin
 * (made, with no usable password, when missing). */
static int token_login(struct web_req *r, const char *token)
{
	struct web *w = r->w;
	struct moat_err e = MOAT_ERR_INIT;
	struct user_row u;
	const char *name = w->o.os_user && user_name_check(w->o.os_user, NULL) == 0 ? w->o.os_user
										       : "admin";
	size_t n = strlen(w->token);
	int ok, found;
	pthread_mutex_lock(&w->lock);
	ok = n && strlen(token) == n && CRYPTO_memcmp(token, w->token, n) == 0;
	if (ok)
		OPENSSL_cleanse(w->token, sizeof(w->token));  /* once only */
	pthread_mutex_unlock(&w->lock);
	if (!ok)
		return web_err(r, 401, "wrong or used token");
	if ((found = user_get(r->st, name, &u, &e)) < 0)
		return web_moat_err(r, &e);
	user_row_release(&u);
	if (!found) {
		struct audit_entry a = { NULL, NULL, NULL, NULL, name };
		json_t *argv = web_cmdline(r), *out = json_pack("{s:s, s:s}", "user", name, "role", "admin");
		a.argv = argv;
		a.outputs = out;
		if (!argv || !out || store_begin(r->st, &e) < 0 ||
		    user_add(r->st, name, USER_ADMIN, PASSWD_UNUSABLE, &e) < 0 ||
		    audit_append(r->st, &a, NULL, &e) < 0 || store_commit(r->st, &e) < 0) {
			store_rollback(r->st);
			json_decref(argv);
			json_decref(out);
			if (!e.code)
				err_set(&e, MOAT_ENOMEM, "out of memory");
			return web_moat_err(r, &e);
		}
		json_decref(argv);
		json_decref(out);
		web_log(w, "made user '%s' (admin, logs in only with serve's token)", name);
	} else if (u.role != USER_ADMIN) {
		return web_err(r, 403, "user '%s' exists and is not an admin", name);
	}
	return new_session(r, name, USER_ADMIN);
}

int api_login(struct web_req *r)
{
	const char *token, *name, *pw;
	struct moat_err e = MOAT_ERR_INIT;
	struct user_row u;
	int rc, found, wait, ok;
	if ((rc = web_body_only(r, "token", "name", "password", NULL)) ||
	    (rc = web_body_str(r, "token", 0, 100, &token)) ||
	    (rc = web_body_str(r, "name", 0, USER_NAME_MAX, &name)) ||
	    (rc = web_body_str(r, "password", 0, PASSWD_MAX, &pw)))
		return rc;
	if (token) {
		if (name || pw)
			return web_err(r, 400, "field 'token': give either the token or name and password");
		return token_login(r, token);
	}
	if (!name)
		return web_err(r, 400, "field 'name': required");
	if (!pw)
		return web_err(r, 400, "field 'password': required");
	if ((wait = rl_wait(r->w, name)) > 0) {
		r->retry_after = wait;
		return web_err(r, 429, "too many failed logins for '%s': try again in %d s", name, wait);
	}
	if ((found = user_get(r->st, name, &u, &e)) < 0)
		return web_moat_err(r, &e);
	ok = passwd_verify(pw, strlen(pw), found ? u.pw_hash : NULL);
	user_row_release(&u);
	rl_note(r->w, name, ok);
	if (!ok)
		return web_err(r, 401, "wrong name or password");
	return new_session(r, u.name, u.role);
}

int api_logout(struct web_req *r)
{
	struct moat_err e = MOAT_ERR_INIT;
	if (user_session_rm(r->st, r->token_sha, &e) < 0)
		return web_moat_err(r, &e);
	if (xsnprintf(r->cookie, sizeof(r->cookie),
		      "moat_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0%s",
		      r->w->tls ? "; Secure" : "") < 0)
		r->cookie[0] = '\0';
	r->out = json_pack("{s:b}", "ok", 1);
	return 200;
}

int api_session(struct web_req *r)
{
	if (!r->have_session)
		return web_err(r, 401, "not logged in");
	r->out = json_pack("{s:s, s:s, s:s, s:s}", "name", r->sess.name, "role",
			   user_role_name(r->sess.role), "csrf", r->sess.csrf, "expires_at",
			   r->sess.expires_at);
	return 200;
}
