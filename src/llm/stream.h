/*
 * stream.h - the accumulator of an answer as it streams in, which every
 * backend feeds (stream.c): pieces go through llm_stream_add, which keeps
 * whole UTF-8 characters, cuts at stop strings (holding back what may still
 * become one) and calls the request's on_token; at the end the text is handed
 * over as valid UTF-8.
 *
 * Not for reading what servers send (parse.h turns their lines into pieces)
 * nor for deciding what an answer means (llm.c).
 *
 * Ownership: the stream owns its text until llm_stream_take_text(); release
 * it with llm_stream_release() either way.  It borrows the request.
 *
 * May use: llm.h, core/ (buf, utf8).
 */
#ifndef MOAT_LLM_STREAM_H
#define MOAT_LLM_STREAM_H

#include <stddef.h>

#include "llm.h"
#include "../core/buf.h"

#define LLM_TEXT_MAX (64u << 20)  /* an answer longer than this fails */

struct llm_stream {
	const struct llm_request *req;
	struct buf text;
	size_t sent;              /* bytes of text already given to on_token */
	int done;                 /* the server said it finished */
	int stopped;              /* a stop string was met: ignore the rest */
	int max_pieces;           /* pieces to take before the answer is cut
				     (the request's max_tokens, kept on the
				     client's side); -1: no limit */
	int pieces;               /* non-empty pieces given, stop strings or not */
	int cut;                  /* a piece came past max_pieces: the answer is
				     complete ("length"), stop reading */
	int cb_cancel;            /* on_token asked to cancel */
	char finish[16];
	int prompt_tokens, completion_tokens;
	double load_s, prompt_s, gen_s, total_s;
	double logprob;           /* the tokens' log-probabilities the server sent, */
	int n_logprob;            /* summed, for the pieces taken (llm_result's) */
	struct moat_err err;      /* why the answer failed (set with failed) */
	int failed;
};

void llm_stream_init(struct llm_stream *s, const struct llm_request *r);
void llm_stream_release(struct llm_stream *s);
/* Appends a piece.  Returns 1 when the answer is complete (a stop string,
 * or with cut set a piece beyond max_pieces, which is dropped: a server that
 * does not keep to max_tokens), 0 to go on, -1 when it must end: on_token
 * cancelled (cb_cancel set), or the text cannot grow (failed set; err: out
 * of memory, or longer than LLM_TEXT_MAX). */
int llm_stream_add(struct llm_stream *s, const char *piece, size_t len)
	__attribute__((warn_unused_result));
/* Gives on_token what is still held back (at the end of an answer). */
void llm_stream_flush(struct llm_stream *s);
/* The answer's text, handed over ("" when there is none): always valid
 * UTF-8, with any invalid or cut-off sequence (a model may emit byte tokens
 * that form none) replaced by U+FFFD, as llama-server and Ollama do.  NULL
 * when out of memory (or the text had failed to grow). */
char *llm_stream_take_text(struct llm_stream *s) __attribute__((warn_unused_result));
/* Marks the answer failed with code and a message; returns -1. */
int llm_stream_fail(struct llm_stream *s, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sets a finish reason (llm_stream.finish, llm_result.finish): why, cut to
 * size - 1 bytes at a character boundary (a server may send a longer one). */
void llm_set_finish(char *finish, size_t size, const char *why);

#endif
