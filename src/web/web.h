/*
 * web.h - `moat serve`: the JSON API (and the page's files built into the
 * binary) over HTTP on localhost, with libmicrohttpd.  The command line
 * (src/cmd/serve.c) fills the options, starts the server, waits for a
 * signal and stops it; everything else happens on the server's threads.
 *
 * Not for: what an endpoint does to the workspace (the label library,
 * store/users.h), the page itself (web/).  Design notes: docs/api.md.
 *
 * Threads: libmicrohttpd's pool of opts.threads workers; each opens its own
 * connection to the workspace (store_open(STORE_READ): no writer lock, so a
 * CLI stage holding moat.lock does not block the server; every write is a
 * transaction that the database serialises).  Suggestion runs started from
 * the API run on threads of their own, each with its own connection.
 */
#ifndef MOAT_WEB_H
#define MOAT_WEB_H

#include "../core/err.h"

struct web;

struct web_opts {
	const char *workspace;     /* the workspace directory */
	const char *bind;          /* a numeric address; NULL: 127.0.0.1 */
	int port;                  /* 0: a free one (web_port() says which) */
	const char *tls_cert_pem;  /* both or neither: serve HTTPS (GnuTLS) */
	const char *tls_key_pem;
	int insecure;              /* allow plain HTTP on a non-loopback address */
	int threads;               /* worker threads; 0: the CPUs but one, 1 to 16 */
	double session_hours;      /* a session's life; 0: 8 */
	const char *os_user;       /* the name of the admin the one-time token logs in */
	const char *models_dir;    /* GGUF files GET /api/models lists; NULL: none */
	const char *const *servers; /* OpenAI-compatible base URLs it lists too */
	size_t n_servers;
	const char *web_dir;       /* serve the page's files from here, not the
				      binary's (development); NULL: embedded */
	/* messages for the operator (a failed request's cause, a run that
	 * ended); called from any thread, may be NULL */
	void (*log)(void *ud, const char *msg);
	void *log_ud;
};
struct web_opts web_opts_default(void);

/* Checks the options (a non-loopback bind without TLS or insecure is
 * MOAT_EUSAGE), opens the workspace once to check it, makes the one-time
 * token and starts serving.  NULL with e set. */
struct web *web_start(const struct web_opts *o, struct moat_err *e)
	__attribute__((warn_unused_result));
/* The port it listens on, and the URL with the one-time token
 * ("http://127.0.0.1:8765/?token=..."), valid until web_stop. */
int web_port(const struct web *w);
const char *web_url(const struct web *w);
/* Stops accepting, finishes the requests in flight, cancels suggestion
 * runs (each ends "cancelled"), closes every connection and frees w.
 * NULL-safe. */
void web_stop(struct web *w);

#endif
