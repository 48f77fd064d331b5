/*
 * web_int.h - what the server's files share (server.c: HTTP and threads;
 * auth.c: logins, sessions, CSRF; api.c and api_label.c: the endpoints).
 * Nothing outside src/web/ includes it.
 *
 * A request is parsed into struct web_req (path segments decoded, the
 * session found, the body read and parsed) before an endpoint runs; the
 * endpoint sets r->out and returns the HTTP status.  Every response, errors
 * included, gets the security headers in server.c.
 */
#ifndef MOAT_WEB_INT_H
#define MOAT_WEB_INT_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "web.h"
#include "../core/buf.h"
#include "../store/users.h"

#define WEB_BODY_MAX ((size_t)1 << 20)   /* 1 MiB */
#define WEB_MAX_SEGS 8
#define WEB_NAME_MAX 128                 /* a project name's bytes */
#define WEB_RUN_SLOTS 2                  /* suggestion runs at once */

struct store;
struct web_ratelimit;
struct web_run;

struct web {
	struct web_opts o;
	char *dir;                  /* the workspace */
	void *daemon;               /* struct MHD_Daemon */
	int port, loopback, tls;
	char url[512];
	char token[64];             /* the one-time token; "" once used */
	pthread_mutex_t lock;       /* token, stores, runs, rate limits */
	pthread_mutex_t write_lock; /* one writing request at a time, in turn: server.c */
	pthread_cond_t write_turn;
	unsigned long write_next, write_serving;  /* tickets */
	struct store **stores;      /* every connection, opened at the start (server.c) */
	size_t n_stores;
	struct store **free_stores; /* those not yet taken by a worker or a run */
	struct store *writer;       /* the connection of writing requests (write_lock) */
	size_t n_free;
	struct web_ratelimit *rl;
	struct web_run *runs;       /* suggestion runs' threads */
	volatile sig_atomic_t stop; /* set by web_stop: runs cancel */
};

/* The request as the endpoints see it. */
struct web_req {
	struct web *w;
	struct store *st;             /* this thread's connection */
	void *conn;                   /* struct MHD_Connection */
	const char *method;
	const char *path;             /* as sent (not decoded) */
	char *seg[WEB_MAX_SEGS];      /* path segments after /api/, decoded */
	size_t n_seg;
	const char *body;
	size_t body_len;
	json_t *json;                 /* the body parsed (an object), or NULL */
	int have_session;
	struct user_session sess;
	char token_sha[65];           /* the session's token digest */
	/* the response: JSON in out, or bytes of type bytes_type (an image) */
	json_t *out;
	struct buf bytes;
	char bytes_type[32];
	char cookie[256];             /* a Set-Cookie value, or "" */
	int retry_after;              /* seconds, for 429; 0 none */
};

/* Sets r->out to {"error": message} and returns status. */
int web_err(struct web_req *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The HTTP status for a library error (label.h's mapping), with r->out set. */
int web_moat_err(struct web_req *r, const struct moat_err *e);
/* A query parameter, decoded (NULL when absent); 400 for a malformed one is
 * the caller's: *bad is set. */
const char *web_query(struct web_req *r, const char *key, char *buf, size_t cap, int *bad);
/* An integer query parameter: 0 with *v (def when absent), or the status of
 * an error (400) with r->out set. */
int web_query_int(struct web_req *r, const char *key, int64_t def, int64_t min, int64_t max,
		  int64_t *v);
/* The value of a request header or cookie, or NULL. */
const char *web_header(struct web_req *r, const char *name);
const char *web_cookie(struct web_req *r, const char *name);
/* Checks that the body has only the fields named (NULL-ended): 0 or 400. */
int web_body_only(struct web_req *r, ...);
/* Field key of the body as a string of at most max bytes (and no NUL):
 * 0 with *out (NULL when absent and not required), or 400. */
int web_body_str(struct web_req *r, const char *key, int required, size_t max, const char **out);
/* Field key as an integer in [min, max]: 0 with *out (def when absent), or 400. */
int web_body_int(struct web_req *r, const char *key, int required, int64_t min, int64_t max,
		 int64_t def, int64_t *out);
/* The audit trail's command line for what r did: ["moat","serve",METHOD,PATH]. */
json_t *web_cmdline(struct web_req *r);
void web_log(struct web *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The UTC time now plus secs, as the sessions table keeps it. */
void web_utc(char out[40], double secs);

/* A connection of the server's (opened at the start) for a suggestion run,
 * or NULL when all are in use; given back when the run ends. */
struct store *web_store_take(struct web *w);
void web_store_give(struct web *w, struct store *s);

/* --- auth.c ----------------------------------------------------------------- */

int web_auth_init(struct web *w, struct moat_err *e);
void web_auth_free(struct web *w);
/* Finds the session of the request's cookie (r->have_session). 0 or 500. */
int web_auth_session(struct web_req *r);
/* 0 when the request carries the session's CSRF token, else 403. */
int web_auth_csrf(struct web_req *r);
int api_login(struct web_req *r);
int api_logout(struct web_req *r);
int api_session(struct web_req *r);

/* --- the endpoints -------------------------------------------------------- */

enum web_access { WEB_PUBLIC = 0, WEB_ANNOTATOR = USER_ANNOTATOR, WEB_REVIEWER = USER_REVIEWER,
		  WEB_ADMIN = USER_ADMIN };

/* Whether an endpoint runs under the server's write lock (server.c): by
 * default the methods that change things; GET .../next leases a task; a
 * login's scrypt and a preview's model must not hold the lock. */
enum web_writes { WEB_WRITES_BY_METHOD = 0, WEB_WRITES = 1, WEB_WRITES_NOT = 2 };

struct web_route {
	const char *method;
	const char *pattern;    /* "projects/{project}/tasks/{id}" under /api/ */
	enum web_access access;
	int (*fn)(struct web_req *r);
	enum web_writes writes;
};

/* The routes of api.c and api_label.c, each ended by a NULL method. */
extern const struct web_route web_api_routes[];
extern const struct web_route web_label_routes[];

/* Checks a path parameter: a project name ({project}: 1 to 128 bytes, no
 * '/', no control characters, not "." or ".."), an id ({id}: a positive
 * decimal integer), a user name ({name}).  0 or 400. */
int web_check_param(struct web_req *r, const char *kind, const char *value);
/* The id in segment i (already checked). */
int64_t web_seg_id(struct web_req *r, size_t i);

/* Waits for the suggestion runs' threads (api_label.c), after w->stop. */
void web_runs_join(struct web *w);

#endif
