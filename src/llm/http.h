/*
 * http.h - the HTTP client of the model layer (http.c), on libcurl's multi
 * interface: several transfers in flight from one thread, answers streamed
 * line by line (NDJSON, Server-Sent Events), retries with backoff when a
 * server is busy, cancellation, the idle timeout and the call's budget in
 * time (a deadline), and errors that say what to do.  The network
 * rules live there: no proxies, no redirects, only http and https, and every
 * socket checked before it connects (loopback, or a host the user named).
 * On it, what the Ollama and OpenAI-compatible backends share: streamed
 * generation (llm_http_generate) and embeddings in batches (llm_http_embed).
 *
 * Not a general HTTP library: it speaks JSON to model servers and nothing
 * else.
 *
 * Ownership: a transfer owns its answer (resp) until http_xfer_release();
 * it borrows url, body and the client, which must outlive it.
 *
 * May use: backend.h (the handle), stream.h, parse.h, llm.h, core/.
 */
#ifndef MOAT_LLM_HTTP_H
#define MOAT_LLM_HTTP_H

#include <signal.h>
#include <stddef.h>

#include <jansson.h>

#include "backend.h"
#include "stream.h"
#include "../core/buf.h"

/* Who the transfers of one server are for: the rules, and how messages name
 * the server. */
struct http_client {
	const struct llm_config *cfg;   /* timeouts, retries, allow_hosts; NULL: defaults */
	const char *server;             /* "Ollama", "the server" */
	const char *hint;               /* after "connection refused" (may be NULL):
					   "is 'ollama serve' running?" */
	const struct llm_budget *budget; /* the call's wall-clock limit, which every
					    transfer keeps to (connecting and
					    retries included); NULL: none */
};
/* A client with no budget (set c->budget for one). */
void http_client_init(struct http_client *c, const struct llm_config *cfg, const char *server,
		      const char *hint);

struct http_xfer;
/* Called per line of a streamed answer: 0 to go on, 1 when the answer is
 * complete and the rest is not wanted (the transfer ends at once, not
 * failed), -1 when it failed (x->failed and x->err set). */
typedef int (*http_line_fn)(struct http_xfer *x, const char *line, size_t len);

struct http_xfer {
	/* in */
	const char *url;
	const char *body;        /* POST a JSON body when not NULL, else GET */
	http_line_fn on_line;    /* stream: called per line of a 2xx answer */
	void *ud;
	volatile sig_atomic_t *cancel;  /* may be NULL */
	struct llm_budget budget;       /* this transfer's limit; until 0: the client's */
	/* out */
	long status;
	struct buf resp;         /* the body (non-stream, or any non-2xx answer) */
	int got_data;            /* a line was delivered */
	int ended;               /* on_line had all it wanted: the rest was not read */
	int deadline_hit;        /* failed for the budget's deadline (err says which) */
	int failed;
	struct moat_err err;
	/* private */
	const struct http_client *client;
	void *h;
	void *hdrs;
	struct buf line;
	int attempts;
	double retry_at;
	double retry_after;
	double last_rx;          /* when the server last sent a byte (or the start) */
	int state;
	int host_named;          /* the host is in allow_hosts: any address is fine */
};

void http_xfer_init(struct http_xfer *x, const char *url, const char *body);
void http_xfer_release(struct http_xfer *x);
/* Runs n transfers, at most parallel at a time; retries busy answers with
 * backoff; a non-2xx answer fails with the server's message.  Each transfer
 * ends with its own outcome (failed and err set when it failed), which is
 * the result; the number that failed is returned for callers that need no
 * more.  Every transfer must be released. */
int http_run(struct http_client *c, struct http_xfer *const *x, size_t n, int parallel);
/* One GET or POST, the whole body in x->resp; -1 with e set on failure. */
int http_simple(struct http_client *c, struct http_xfer *x, struct moat_err *e)
	__attribute__((warn_unused_result));
/* One GET (body NULL) or POST of base + path whose answer is JSON: *out gets
 * it (a new reference), or NULL when the answer is not JSON (the caller says
 * what that means); *status (may be NULL) the HTTP status.  -1 with e set
 * when the transfer fails or memory runs out. */
int http_json(struct http_client *c, const char *base, const char *path, const char *body,
	      json_t **out, long *status, struct moat_err *e) __attribute__((warn_unused_result));

/* Streamed generation, the part the Ollama and OpenAI-compatible backends
 * share: one POST per request (to m->uri.base + raw_path for raw prompts,
 * else + chat_path), at most m->parallel at a time, each answer's lines given
 * to parse.  body builds a request's JSON body (ud is the backend), NULL with
 * e set when it cannot.  Fills out[] and errs[] as the ops' generate does and
 * returns the number that failed. */
struct llm_http_gen {
	struct http_client *http;
	const char *chat_path, *raw_path;
	const char *hostport;    /* "127.0.0.1:11434", for messages */
	char *(*body)(const struct llm *m, void *ud, const struct llm_request *r, struct moat_err *e);
	void *ud;
	int (*parse)(struct llm_stream *s, const char *line, size_t len);
	long *status;            /* NULL, or n: each request's HTTP status (0: none
				    came), to tell why one failed */
};
int llm_http_generate(struct llm *m, const struct llm_http_gen *g, const struct llm_request *r,
		      size_t n, struct llm_result *out, struct moat_err *errs)
	__attribute__((warn_unused_result));

/* Embeddings, the part the two share: POSTs of {"model","input":[texts],
 * "encoding_format"?} to m->uri.base + path, batch texts each (0: all in
 * one), up to m->parallel at a time, each answer read by parse; the rows
 * joined in order into out (data, n, dim, prompt_tokens). */
struct llm_http_embed {
	struct http_client *http;
	const char *path;
	size_t batch;
	const char *model;            /* what the server calls the model */
	const char *encoding_format;  /* NULL: none sent */
	int (*parse)(const char *body, size_t len, size_t n, struct llm_embedding *em,
		     struct moat_err *e);
};
int llm_http_embed(struct llm *m, const struct llm_http_embed *g, const char *const *texts,
		   size_t n, struct llm_embedding *out, struct moat_err *e)
	__attribute__((warn_unused_result));

#endif
