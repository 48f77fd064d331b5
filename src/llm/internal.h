/*
 * internal.h - what the files of src/llm/ share and nothing outside uses:
 * the backend table, the HTTP client (libcurl, loopback only, no proxies,
 * several transfers in flight, retries), the parsers of server answers, and
 * the grammar/schema helpers behind constrained output.
 */
#ifndef MOAT_LLM_INTERNAL_H
#define MOAT_LLM_INTERNAL_H

#include "llm.h"
#include "../core/buf.h"

/* ---- the handle and the backend table ---- */

struct llm_ops {
	/* n requests; fill out[i] (text, value left to llm.c, counts, times)
	 * and errs[i]; return the number failed. */
	int (*generate)(struct llm *m, const struct llm_request *r, size_t n,
			struct llm_result *out, struct moat_err *errs);
	int (*embed)(struct llm *m, const char *const *texts, size_t n,
		     struct llm_embedding *out, struct moat_err *e);
	long (*count_tokens)(struct llm *m, const char *text, struct moat_err *e);
	int (*bench)(struct llm *m, const struct llm_bench_opts *o,
		     struct llm_bench_result *out, struct moat_err *e);
	void (*free)(struct llm *m);
};

struct llm {
	const struct llm_ops *ops;
	struct llm_config cfg;
	char **allow;             /* copies of cfg.allow_hosts */
	char *models_dir;         /* copy of cfg.models_dir */
	char *uri_text;
	struct llm_uri uri;
	char *digest;             /* "sha256:<hex>", or NULL when unknown */
	char *template_sha256;    /* the model's prompt (chat) template, or NULL */
	int parallel;             /* requests in flight / sequences per batch */
	json_t *info;             /* backend facts for llm_info */
	void *be;                 /* the backend's own state */
};

int llm_ollama_open(struct llm *m, struct moat_err *e);
int llm_openai_open(struct llm *m, struct moat_err *e);
/* gguf:/store: (embedded.c); a refusal when built without llama.cpp. */
int llm_embedded_open(struct llm *m, const char *path, struct moat_err *e);
/* A vocabulary-only llama.cpp handle for counting tokens of a GGUF file
 * (Ollama's models, through the store); NULL with MOAT_EUNSUPPORTED when
 * built without llama.cpp. */
void *llm_vocab_open(const char *path, struct moat_err *e);
long llm_vocab_count(void *v, const char *text, struct moat_err *e);
void llm_vocab_free(void *v);

/* The seed a request will use: its own, or a fresh random one. */
uint32_t llm_pick_seed(const struct llm_request *r);
/* max_tokens after defaults (512 when constrained and unset, else as given). */
int llm_max_tokens(const struct llm_request *r);

/* ---- streaming answers ---- */

/* What a backend accumulates while an answer streams in.  Pieces go through
 * llm_stream_add, which keeps whole UTF-8 characters, cuts at stop strings
 * and calls the request's on_token. */
struct llm_stream {
	const struct llm_request *req;
	struct buf text;
	size_t sent;              /* bytes of text already given to on_token */
	int done;                 /* the server said it finished */
	int stopped;              /* a stop string was met: ignore the rest */
	int cb_cancel;            /* on_token asked to cancel */
	char finish[16];
	int prompt_tokens, completion_tokens;
	double load_s, prompt_s, gen_s, total_s;
	struct moat_err err;      /* an error the server sent inside the stream */
	int failed;
};
void llm_stream_init(struct llm_stream *s, const struct llm_request *r);
void llm_stream_release(struct llm_stream *s);
/* Appends a piece; returns 1 when the answer is complete (stop string),
 * -1 when on_token cancelled, else 0. */
int llm_stream_add(struct llm_stream *s, const char *piece, size_t len);
/* Gives on_token what is still held back (at the end of an answer). */
void llm_stream_flush(struct llm_stream *s);
/* The answer's text, handed over (NULL if none): always valid UTF-8, with
 * any invalid or cut-off sequence (a model may emit byte tokens that form
 * none) replaced by U+FFFD, as llama-server and Ollama do. */
char *llm_stream_take_text(struct llm_stream *s);

/* Parsers of server answers (parse.c); each takes one line or body, never
 * trusts it, and fills s.  Return 0, or -1 with s->err set for an error the
 * server reported or a line that does not parse. */
int llm_parse_ollama_line(struct llm_stream *s, const char *line, size_t len);
/* One line of a Server-Sent Events stream of chat.completion.chunk (or
 * text_completion) objects; "data: [DONE]" marks the end. */
int llm_parse_sse_line(struct llm_stream *s, const char *line, size_t len);
/* Embeddings bodies: Ollama's /api/embed and OpenAI's /v1/embeddings.
 * n texts were sent; fills em (data, n, dim). */
int llm_parse_ollama_embed(const char *body, size_t len, size_t n, struct llm_embedding *em,
			   struct moat_err *e);
int llm_parse_openai_embed(const char *body, size_t len, size_t n, struct llm_embedding *em,
			   struct moat_err *e);
/* The message of a server's error body ({"error":"..."} or
 * {"error":{"message":...}}), or NULL; malloc'd. */
char *llm_parse_error_body(const char *body, size_t len);

/* ---- constrained output (grammar.c) ---- */

/* Checks that schema is inside the supported subset: object (properties,
 * required), string (enum, minLength, maxLength), number, integer, boolean,
 * null, array (items, minItems, maxItems), enum, and type lists of those. */
int llm_schema_check(json_t *schema, struct moat_err *e);
/* GBNF for a constraint (root rule "root"): compact JSON only, bounded
 * lengths, so that an answer that stops always parses. */
int llm_grammar(const struct llm_request *r, struct buf *out, struct moat_err *e);
/* The JSON schema the answer must follow (labels become an enum) for
 * servers that take one (Ollama's format, OpenAI's response_format).  New ref. */
json_t *llm_constraint_schema(const struct llm_request *r);
/* Parses and validates an answer; on success *value gets a new reference. */
int llm_check_answer(const struct llm_request *r, const char *text, json_t **value,
		     struct moat_err *e);
/* Validates value against schema (the subset). */
int llm_schema_validate(json_t *schema, json_t *value, struct moat_err *e);

/* ---- HTTP (http.c) ---- */

struct http_xfer;
typedef int (*http_line_fn)(struct http_xfer *x, const char *line, size_t len);

struct http_xfer {
	/* in */
	const char *url;
	const char *body;        /* POST a JSON body when not NULL, else GET */
	const char *server;      /* for messages: "Ollama", "the server" */
	const char *hint;        /* after "connection refused": "is 'ollama serve' running?" */
	http_line_fn on_line;    /* stream: called per line of a 2xx answer */
	void *ud;
	volatile sig_atomic_t *cancel;  /* may be NULL */
	/* out */
	long status;
	struct buf resp;         /* the body (non-stream, or any non-2xx answer) */
	int got_data;            /* a line was delivered */
	int failed;
	struct moat_err err;
	/* private */
	void *h;
	void *hdrs;
	struct buf line;
	int attempts;
	double retry_at;
	double retry_after;
	int state;
	int host_named;          /* the host is in allow_hosts: any address is fine */
	const struct http_client *client;
};

struct http_client {
	const struct llm_config *cfg;
	const char *const *allow;
	size_t n_allow;
};

/* Runs n transfers, at most parallel at a time; retries busy answers with
 * backoff; a non-2xx answer fails with the server's message.  Returns the
 * number of failed transfers.  Every transfer must be released. */
int http_run(struct http_client *c, struct http_xfer *const *x, size_t n, int parallel);
void http_xfer_init(struct http_xfer *x, const char *url, const char *body);
void http_xfer_release(struct http_xfer *x);
/* One GET or POST, whole body in x->resp. */
int http_simple(struct http_client *c, struct http_xfer *x, struct moat_err *e);
/* Splits an http(s) URL: host (no brackets) and port (default by scheme).
 * -1 when it is not one. */
int llm_url_split(const char *url, char *host, size_t hsize, int *port, int *https);
/* "127.0.0.1:11434" ("[::1]:8080") of a URL, for messages. */
void http_hostport(const char *url, char *out, size_t size);

/* Streamed generation over HTTP, the part the Ollama and OpenAI-compatible
 * backends share: one POST per request (to raw_url for raw prompts, else to
 * url), at most m->parallel at a time, each answer's lines given to parse.
 * body builds a request's JSON body (ud is the backend).  Fills out[] and
 * errs[] as llm_generate_many does and returns the number that failed. */
struct llm_http_gen {
	struct http_client *http;
	const char *url, *raw_url;
	const char *server;      /* for messages: "Ollama", "the server" */
	const char *hint;        /* what to check when it cannot be reached */
	const char *hostport;
	char *(*body)(const struct llm *m, void *ud, const struct llm_request *r);
	void *ud;
	int (*parse)(struct llm_stream *s, const char *line, size_t len);
};
int llm_http_generate(struct llm *m, const struct llm_http_gen *g, const struct llm_request *r,
		      size_t n, struct llm_result *out, struct moat_err *errs);

/* ---- files ---- */

/* "sha256:<hex>" of a file, remembered in ~/.cache/moat/digests by device,
 * inode, size and mtime so a big model is hashed once.  malloc'd or NULL. */
char *llm_file_digest(const char *path, struct moat_err *e);
/* Lowercase hex SHA-256 of a string into out. */
void llm_sha256_str(const char *s, char out[65]);

#endif
