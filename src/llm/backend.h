/*
 * backend.h - what a backend of the model layer is, and the helpers every
 * backend may use (backend.c).  llm.c opens a model by calling one of the
 * backends' open functions below; the backends (ollama.c, openai.c,
 * embedded.c) fill in the handle and its ops table.  Arrows run one way:
 * llm.c calls the backends and backend.c; a backend calls backend.c and the
 * layer's services (http.h, stream.h, parse.h, grammar.h, digest.h,
 * llamacpp.h), never llm.c and never another backend.
 *
 * Not for code outside src/llm/ (llm.h is the layer's interface), nor for
 * anything a request means beyond moving it (llm.c checks requests and
 * answers and writes the provenance).
 *
 * May use: llm.h, core/.
 */
#ifndef MOAT_LLM_BACKEND_H
#define MOAT_LLM_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "llm.h"

/* The wall-clock limit of the call in progress, on now_seconds()'s clock:
 * every transfer and decoding step of the call keeps to it. */
struct llm_budget {
	double until;            /* 0: no limit */
	int deadline_ms;         /* the deadline until comes from, for messages;
				    0 when until is the one idle timeout that
				    llm_open's probes share */
};

struct llm_ops {
	/* n requests; fill out[i] (text, value left to llm.c, counts, times)
	 * and errs[i]; return the number failed. */
	int (*generate)(struct llm *m, const struct llm_request *r, size_t n,
			struct llm_result *out, struct moat_err *errs);
	int (*embed)(struct llm *m, const char *const *texts, size_t n,
		     struct llm_embedding *out, struct moat_err *e);
	long (*count_tokens)(struct llm *m, const char *text, struct moat_err *e);
	/* NULL: llm.c measures through generate */
	int (*bench)(struct llm *m, const struct llm_bench_opts *o,
		     struct llm_bench_result *out, struct moat_err *e);
	void (*free)(struct llm *m);
	/* NULL: no token offsets (llm_token_ends says so) */
	long (*token_ends)(struct llm *m, const char *text, size_t len, uint32_t **ends,
			   struct moat_err *e);
};

/* The handle.  A backend's open function fills in ops, parallel, info and
 * what it knows of digest and template_sha256; llm.c frees all of them but
 * be, which the backend frees in ops->free (also after its open failed). */
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
	json_t *info;             /* backend facts for llm_info (llm_info_set) */
	int info_nomem;           /* a fact was lost for want of memory */
	void *be;                 /* the backend's own state */
	/* The call in progress, set by llm.c before it calls a backend: when it
	 * started, and the budget of calls other than generate (whose requests
	 * llm.c gives their started: their budget is cfg.deadline_ms from it). */
	double call_start;
	struct llm_budget budget;
};

/* The backends.  Each sets m->ops first, so that llm_free() releases what
 * it made even when it fails; -1 with e set on failure. */
int llm_ollama_open(struct llm *m, struct moat_err *e) __attribute__((warn_unused_result));
int llm_openai_open(struct llm *m, struct moat_err *e) __attribute__((warn_unused_result));
/* gguf:/store: on the GGUF file at path; a refusal (MOAT_EUNSUPPORTED) in a
 * moat built without llama.cpp. */
int llm_embedded_open(struct llm *m, const char *path, struct moat_err *e)
	__attribute__((warn_unused_result));

/* ---- what every backend may use (backend.c) ---- */

/* Sets m->info[key] to v, a reference it takes (NULL counts as no memory).
 * A fact that cannot be set makes llm_open() fail with "out of memory". */
void llm_info_set(struct llm *m, const char *key, json_t *v);
/* The seed a request will use: its own, or a fresh random one. */
uint32_t llm_pick_seed(const struct llm_request *r);
/* max_tokens after defaults (512 when constrained and unset, else as given). */
int llm_max_tokens(const struct llm_request *r);
/* The budget of a deadline of ms counted from start (no limit for ms <= 0). */
struct llm_budget llm_budget_from(double start, int ms);
/* Sets e to MOAT_ELIMIT "deadline of N s reached after T tokens" (tokens >= 0)
 * or "... waiting for WHAT" (tokens < 0); returns -1. */
int llm_deadline_err(struct moat_err *e, int deadline_ms, int tokens, const char *what);
/* Lowercase hex SHA-256 of a string (NULL counts as "") into out. */
void llm_sha256_str(const char *s, char out[65]);
/* A JSON array of n strings, any bytes that are not UTF-8 made U+FFFD
 * (core/jsonu.h); NULL only when out of memory. */
json_t *llm_json_strings(const char *const *v, size_t n) __attribute__((warn_unused_result));
/* The chat of a request as the servers take it: [{"role":"system",...}?,
 * {"role":"user","content":prompt}], made UTF-8 as llm_json_strings does,
 * the request's images added in the style of the server (Ollama: "images",
 * base64; OpenAI: content parts with data: URLs); NULL only when out of
 * memory. */
enum llm_image_style { LLM_IMAGES_OLLAMA, LLM_IMAGES_OPENAI };
json_t *llm_chat_messages(const struct llm_request *r, enum llm_image_style style)
	__attribute__((warn_unused_result));
/* llm_token_ends() from the pieces of text's n tokens (each token's text as
 * its tokenizer gives it back): piece(ud, i, &len) returns token i's bytes
 * (NULL when it cannot, e set), and is called twice per token.  ends[n] gets
 * where each token ends in text.  Pieces spelling one byte more than text,
 * the first beginning with a space, are SentencePiece's space put in front of
 * the text: that space is not counted.  Fails with MOAT_EUNSUPPORTED naming
 * the token when the pieces do not spell text back. */
typedef const char *(*llm_piece_fn)(void *ud, size_t i, size_t *len, struct moat_err *e);
int llm_ends_from_pieces(const char *text, size_t len, size_t n, llm_piece_fn piece, void *ud,
			 uint32_t *ends, struct moat_err *e) __attribute__((warn_unused_result));

#endif
