/*
 * parse.h - reading what model servers send back (parse.c): Ollama's NDJSON
 * stream lines, OpenAI-style Server-Sent Events, embeddings bodies and error
 * bodies.  Everything here reads outside data: nothing is trusted, sizes are
 * checked, and the fuzz targets fuzz_llm_* run it.
 *
 * Not for talking to servers (http.h) nor for what an answer means (llm.c).
 *
 * May use: stream.h, llm.h, core/.
 */
#ifndef MOAT_LLM_PARSE_H
#define MOAT_LLM_PARSE_H

#include <stddef.h>

#include "llm.h"
#include "stream.h"

/* One line of Ollama's NDJSON answer (/api/chat, /api/generate): its piece
 * goes to llm_stream_add, the last line's counts and times into s (s->cut
 * set: the answer reached max_pieces and the rest is not read).  Returns 0,
 * or -1 with s->failed and s->err set for an error the server reported, a
 * line that does not parse, a cancelled answer or no memory. */
int llm_parse_ollama_line(struct llm_stream *s, const char *line, size_t len)
	__attribute__((warn_unused_result));
/* The same for one line of a Server-Sent Events stream of
 * chat.completion.chunk (or text_completion) objects; "data: [DONE]" marks
 * the end. */
int llm_parse_sse_line(struct llm_stream *s, const char *line, size_t len)
	__attribute__((warn_unused_result));
/* Embeddings bodies: Ollama's /api/embed and OpenAI's /v1/embeddings.
 * n texts were sent; fills em (data, n, dim, prompt_tokens), L2-normalised.
 * -1 with e set on failure, with em->data freed. */
int llm_parse_ollama_embed(const char *body, size_t len, size_t n, struct llm_embedding *em,
			   struct moat_err *e) __attribute__((warn_unused_result));
int llm_parse_openai_embed(const char *body, size_t len, size_t n, struct llm_embedding *em,
			   struct moat_err *e) __attribute__((warn_unused_result));
/* The message of a server's error body ({"error":"..."},
 * {"error":{"message":...}} or the first line of a text), at most 599 bytes
 * with control characters made spaces; NULL when there is none or no memory
 * for it.  malloc'd. */
char *llm_parse_error_body(const char *body, size_t len) __attribute__((warn_unused_result));

#endif
