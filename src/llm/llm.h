/*
 * llm.h - moat's one model layer.  Every AI step (pre-labels, PII by model,
 * augmentation, chunking by tokens) goes through it, whatever runs the model:
 *
 *   ollama://127.0.0.1:11434/mistral:7b    Ollama's native API (also ollama:NAME,
 *                                          which takes the host from OLLAMA_HOST)
 *   openai://127.0.0.1:8080/v1/NAME        any OpenAI-compatible server
 *                                          (openai+https:// for TLS)
 *   gguf:/path/to/model.gguf               llama.cpp linked into moat
 *   store:mistral:7b                       llama.cpp on the GGUF blob of that model
 *                                          in an Ollama store
 *
 * What it is for: chat and raw completion with options, streaming, output
 * constrained to a label set or a JSON-schema subset (an answer that is
 * returned always parses and validates), embeddings, token counting, several
 * requests in flight (several sequences in one batch for the embedded
 * backend), cancellation, and a provenance record on every result.
 * What it is not for: prompts and their templates (the stages own them), and
 * downloading anything: servers must be on loopback unless the caller names
 * a host in llm_config.allow_hosts, and proxy variables are never used.
 *
 * May use: core/, and models/ (the Ollama store, for store: models and for
 * counting the tokens of Ollama's models).  Inside, llm.c calls the backends
 * (backend.h), which call the layer's services and never llm.c.
 *
 * Ownership: llm_open() returns a handle the caller frees with llm_free().
 * Results and embeddings own their memory until llm_result_release() /
 * llm_embedding_release().  Requests only borrow what they point to.
 * Callbacks (on_token) run on the calling thread, inside llm_generate*().
 * One handle is used by one thread at a time.
 */
#ifndef MOAT_LLM_H
#define MOAT_LLM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../core/err.h"

struct llm;

enum llm_backend {
	LLM_OLLAMA = 1,
	LLM_OPENAI,
	LLM_GGUF,
	LLM_STORE,
};

/* A parsed model URI.  For servers, base is the URL requests are made
 * against ("http://127.0.0.1:11434" for Ollama, "http://127.0.0.1:8080/v1"
 * for OpenAI) and root the server's root ("http://127.0.0.1:8080"). */
struct llm_uri {
	enum llm_backend backend;
	char *host;     /* as written, without brackets ("::1"); NULL for gguf:/store: */
	int port;
	int https;
	char *base;
	char *root;
	char *model;    /* Ollama name, server model id (may be ""), file path or store name */
};

/* Parses uri; fails with MOAT_EUSAGE naming what is wrong.  Does not check
 * the host (llm_host_allowed does).  Release with llm_uri_release. */
int llm_uri_parse(const char *uri, struct llm_uri *out, struct moat_err *e)
	__attribute__((warn_unused_result));
void llm_uri_release(struct llm_uri *u);

/* 1 when host is loopback (127.0.0.0/8, ::1, localhost) or appears in
 * allow (case-insensitive), else 0. */
int llm_host_allowed(const char *host, const char *const *allow, size_t n_allow);

/* Splits an http(s) URL: host (without brackets) into host[hsize], port
 * (the scheme's default when none), *https (may be NULL) 1 for https.  -1
 * when it is not an http(s) URL moat speaks to (user:password@ included) or
 * the host does not fit. */
int llm_url_split(const char *url, char *host, size_t hsize, int *port, int *https)
	__attribute__((warn_unused_result));
/* "127.0.0.1:11434" ("[::1]:8080") of an http(s) URL, for messages, into
 * out[size]; LLM_HOSTPORT_MAX always holds it.  -1 when url is not one. */
#define LLM_HOSTPORT_MAX 300
int llm_url_hostport(const char *url, char *out, size_t size) __attribute__((warn_unused_result));

/* How a model is opened.  Start from llm_config_default() and change fields. */
struct llm_config {
	const char *const *allow_hosts;  /* hosts beyond loopback the user named (--allow-host) */
	size_t n_allow_hosts;
	const char *models_dir;   /* store: URIs; NULL: OLLAMA_MODELS or ~/.ollama/models */
	int connect_timeout_ms;   /* 5000 */
	int idle_timeout_ms;      /* no byte from the server for this long: fail (300000);
				     llm_open's probes share one such wait */
	int deadline_ms;          /* the most wall time one call may take (llm_open,
				     one llm_generate*, llm_embed, ...), connecting,
				     probes, retries and the whole answer included;
				     0: none (1800000: half an hour) */
	int retries;              /* when the server is busy (429/503): 4 */
	int backoff_ms;           /* the first pause before a retry, doubled each time: 250 */
	int parallel;             /* requests in flight, sequences per batch; 0: the
				     backend's own (OLLAMA_NUM_PARALLEL, llama-server's
				     slots, 4 for the embedded backend) */
	int n_ctx;                /* embedded: context per sequence; 0: 4096 or the
				     model's training context if smaller */
	int n_gpu_layers;         /* embedded: layers to offload; -1 all (default) */
	int n_threads;            /* embedded: 0 = llama.cpp's default */
	int quiet_probe;          /* servers: skip the model checks at open (faster) */
	int no_logprobs;          /* OpenAI-compatible servers other than llama-server,
				     and Ollama: do not ask for token log-probabilities
				     (llm_result.n_logprob stays 0); llama-server,
				     which computes them cheaply, is asked anyway */
};
struct llm_config llm_config_default(void);

/* Opens the model a URI names: parses it, checks the host, and for servers
 * checks that the server answers and has the model (those probes together
 * wait at most one idle_timeout_ms, and within deadline_ms); for
 * gguf:/store: loads the weights.  NULL on failure, with an error that says
 * what to do
 * ("cannot reach Ollama at 127.0.0.1:11434: connection refused (is 'ollama
 * serve' running?)").  gguf:/store: fail with MOAT_EUNSUPPORTED in a moat
 * built without llama.cpp. */
struct llm *llm_open(const char *uri, const struct llm_config *cfg, struct moat_err *e)
	__attribute__((warn_unused_result));
void llm_free(struct llm *m);

/* What is known of the open model: {"uri","backend","model","digest",
 * "template_sha256","parallel", and where known "n_ctx_train","n_embd",
 * "n_params","size","server"}.  New reference; NULL when out of memory. */
json_t *llm_info(const struct llm *m) __attribute__((warn_unused_result));

/* Sampling options.  Start from llm_options_default(). */
struct llm_options {
	double temperature;   /* 0.8; 0 = greedy */
	double top_p;         /* 0.9 */
	int top_k;            /* 40 */
	int64_t seed;         /* -1: moat picks one and records it */
	int max_tokens;       /* -1: until the model stops (512 when constrained) */
	int n_ctx;            /* 0: the backend's default */
	const char *const *stop;  /* stop strings, not included in the answer */
	size_t n_stop;
};
struct llm_options llm_options_default(void);

enum llm_constraint {
	LLM_FREE = 0,
	LLM_LABEL,        /* one label of labels[]: the answer is a JSON string */
	LLM_LABELS,       /* one or more distinct labels: a JSON array of strings */
	LLM_SCHEMA,       /* a JSON value valid against schema (llm_schema_check's subset) */
};

/* One generation.  Zero it, then set what you need (opt from
 * llm_options_default()). */
/* An image a vision model looks at with the prompt: PNG or JPEG bytes. */
struct llm_image {
	const void *data;
	size_t len;
	const char *mime;         /* "image/png" or "image/jpeg" */
};

struct llm_request {
	const char *system;       /* may be NULL */
	const char *prompt;       /* the user's message (raw: the whole prompt) */
	int raw;                  /* completion without the chat template */
	int ignore_eos;           /* generate all max_tokens (benchmarks; not Ollama) */
	struct llm_options opt;
	enum llm_constraint constraint;
	const char *const *labels;
	size_t n_labels;
	json_t *schema;           /* borrowed */
	const char *template_text; /* the caller's prompt template before filling in;
				      its hash goes into the provenance */
	/* Images sent with the prompt (chat only): Ollama's "images", an
	 * OpenAI-compatible server's image_url parts (llama-server needs its
	 * --mmproj).  The embedded backend has no vision projector and refuses
	 * them (MOAT_EUNSUPPORTED), as do raw prompts. */
	const struct llm_image *images;
	size_t n_images;
	/* Streaming: called with each new piece of the answer (whole UTF-8
	 * characters, stop strings held back).  A non-zero return cancels. */
	int (*on_token)(void *ud, const char *piece, size_t len);
	void *ud;
	/* Set to non-zero from a signal handler to cancel: read on the calling
	 * thread between transfers and decoding steps (hence sig_atomic_t, not
	 * an atomic shared with other threads). */
	volatile sig_atomic_t *cancel;
	/* When the request's cfg.deadline_ms starts counting, on the monotonic
	 * clock of now_seconds() (core/progress.h); 0: when llm_generate*() is
	 * called.  A caller that counts opening the model in (`moat llm run`)
	 * gives the time before llm_open(). */
	double started;
};

struct llm_result {
	char *text;               /* the whole answer (NUL-terminated) */
	json_t *value;            /* constrained: the parsed answer, else NULL */
	int prompt_tokens;        /* -1 when the server does not say */
	int completion_tokens;
	double load_s, prompt_s, gen_s, total_s;  /* prompt_s, gen_s: -1 when unknown */
	char finish[16];          /* "stop", "length" (max_tokens, also when the
				     server went past it and the client cut the
				     answer), "cancelled", "deadline", "error" */
	json_t *provenance;       /* {"model","backend","model_digest","template_sha256",
				     "request_template_sha256"?,"options","seed","moat"} */
	/* How likely the model found its own answer: the sum of the natural-log
	 * probabilities of the answer's generated tokens as they were sampled,
	 * each under the model's raw distribution at that step (the softmax of
	 * its logits, before temperature, top-k/top-p and any grammar: a
	 * constrained answer is scored as the unconstrained model sees it).
	 * n_logprob is how many tokens that covers: the completion tokens for
	 * the embedded backend; for servers, the tokens they sent a
	 * log-probability for (llama-server and Ollama; a server may leave out
	 * a token whose text it held back).  n_logprob 0: the backend gave
	 * none, and logprob is 0. */
	double logprob;
	int n_logprob;
};

/* The score of a result: the geometric mean of its tokens' probabilities,
 * exp(logprob / n_logprob), in (0, 1]; -1 when it has none (n_logprob 0). */
double llm_result_score(const struct llm_result *r);

/* 0 when the model of uri can be sent images (llm_request.images), else
 * -1: a bad URI, or MOAT_EUNSUPPORTED for the embedded backend (no vision
 * projector), saying what to use instead.  Opens nothing. */
int llm_check_images(const char *uri, struct moat_err *e) __attribute__((warn_unused_result));

/* Generates one answer.  On failure out holds what was produced so far
 * (text may be NULL) and e says why: MOAT_EINTERRUPTED when cancelled,
 * MOAT_ENET for a server that cannot be reached or died mid-answer, MOAT_ELIMIT
 * for a constrained answer cut short by max_tokens, an answer longer than
 * LLM_TEXT_MAX (64 MiB; reading stops there) or the deadline reached ("deadline
 * of 60 s reached after 812 tokens", finish "deadline").  An answer is never
 * longer than max_tokens pieces, whatever the server sends: a server that goes
 * on is cut (finish "length").  Release out either way. */
int llm_generate(struct llm *m, const struct llm_request *r, struct llm_result *out,
		 struct moat_err *e) __attribute__((warn_unused_result));

/* Generates n answers with up to the handle's parallel in flight (or in one
 * batch).  out[i] and errs[i] (both arrays of n) belong to r[i].  Returns the
 * number that failed. */
int llm_generate_many(struct llm *m, const struct llm_request *r, size_t n,
		      struct llm_result *out, struct moat_err *errs) __attribute__((warn_unused_result));
void llm_result_release(struct llm_result *r);

struct llm_embedding {
	float *data;       /* n rows of dim floats, L2-normalised */
	size_t n, dim;
	int prompt_tokens; /* -1 when unknown */
	json_t *provenance;
};

/* Embeds n texts. */
int llm_embed(struct llm *m, const char *const *texts, size_t n, struct llm_embedding *out,
	      struct moat_err *e) __attribute__((warn_unused_result));
void llm_embedding_release(struct llm_embedding *em);

/* The number of tokens of text with the model's own tokenizer (without the
 * BOS/EOS the model adds), or -1: MOAT_EUNSUPPORTED when the backend has no
 * tokenizer moat can reach. */
long llm_count_tokens(struct llm *m, const char *text, struct moat_err *e)
	__attribute__((warn_unused_result));

/* The model's tokens of text[0, len), as llm_count_tokens counts them, by
 * where each one ends: *ends gets a malloc'd array (NULL for no token) whose
 * [i] is the byte just past token i, non-decreasing, the last len (a byte
 * token may end inside a code point).  One tokenization of the whole text,
 * for chunking by tokens.  Returns the number of tokens, or -1 with *ends
 * NULL and e set: MOAT_EUNSUPPORTED when the backend cannot say where tokens
 * end (Ollama; servers other than llama-server) or when the tokens do not
 * spell the text back (a tokenizer that normalises text, an unknown token),
 * where llm_count_tokens may still count; MOAT_ELIMIT for 2 GiB of text. */
long llm_token_ends(struct llm *m, const char *text, size_t len, uint32_t **ends,
		    struct moat_err *e) __attribute__((warn_unused_result));

/* Throughput as llama-bench and `ollama run --verbose` report it. */
struct llm_bench_opts {
	int prompt_tokens;   /* 512 */
	int gen_tokens;      /* 128 */
	int parallel;        /* sequences at once; 1 */
	int repeat;          /* 3 */
};
struct llm_bench_result {
	int prompt_tokens, gen_tokens, parallel, repeat;
	double pp_tps;       /* prompt tokens per second (all sequences) */
	double tg_tps;       /* generated tokens per second (all sequences) */
	double tg_tps_seq;   /* generated tokens per second of one sequence */
	double wall_s;
	int measured_by_server;  /* 1: the server's own timings, 0: wall clock */
};
int llm_bench(struct llm *m, const struct llm_bench_opts *o, struct llm_bench_result *out,
	      struct moat_err *e) __attribute__((warn_unused_result));

/* Where `moat llm list` looks.  NULL fields are skipped, except ollama_url:
 * NULL means OLLAMA_HOST (or 127.0.0.1:11434), "" skips Ollama. */
struct llm_list_sources {
	const char *ollama_url;
	const char *const *servers;  /* OpenAI-compatible base URLs */
	size_t n_servers;
	const char *models_dir;      /* an Ollama store; NULL: the default store */
	const char *gguf_dir;        /* GGUF files in a directory */
	const struct llm_config *cfg;
};
/* {"models":[{"uri","source","name","size"?,"digest"?}],
 *  "sources":[{"source","where","ok","models"|"error"}]}; a source that cannot
 * be read is reported inside, not as a failure.  NULL when out of memory. */
json_t *llm_list(const struct llm_list_sources *s) __attribute__((warn_unused_result));

/* The Ollama server URL from OLLAMA_HOST as Ollama parses it ("http://127.0.0.1:11434"
 * when unset; 0.0.0.0 and :: become loopback for connecting).  malloc'd;
 * NULL when out of memory. */
char *llm_ollama_url_from_env(void) __attribute__((warn_unused_result));

/* One request to a model server's JSON API under the layer's network rules
 * (loopback, or a host in cfg->allow_hosts; no proxies, no redirects) and
 * within cfg->deadline_ms: a GET
 * of url, or a POST of body when it is not NULL.  server and hint name the
 * server in messages ("Ollama", "is 'ollama serve' running?"; NULL: "the
 * server", none).  Returns the answer (a new reference), or NULL with e set:
 * MOAT_ENOTFOUND for a 404, MOAT_EPARSE for an answer that is not JSON, else
 * as llm_open's errors say. */
json_t *llm_server_json(const struct llm_config *cfg, const char *url, const char *body,
			const char *server, const char *hint, struct moat_err *e)
	__attribute__((warn_unused_result));

/* 1 when llama.cpp is built into this moat. */
int llm_have_embedded(void);

#endif
