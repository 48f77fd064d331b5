/*
 * grammar.h - constrained output (grammar.c): a label set or a JSON-schema
 * subset turned into a GBNF grammar (llama.cpp inside moat, llama-server's
 * "grammar") or a JSON schema (Ollama's "format", OpenAI's response_format),
 * and the check of every answer against it.
 *
 * Not a general JSON Schema validator: anything outside the subset is
 * refused up front with a message naming the keyword.
 *
 * May use: llm.h, core/ (buf, utf8).
 */
#ifndef MOAT_LLM_GRAMMAR_H
#define MOAT_LLM_GRAMMAR_H

#include <jansson.h>

#include "llm.h"
#include "../core/buf.h"

/* Checks that schema is inside the supported subset: object (properties,
 * required), string (enum, minLength, maxLength), number, integer, boolean,
 * null, array (items, minItems, maxItems), enum, and type lists of those. */
int llm_schema_check(json_t *schema, struct moat_err *e) __attribute__((warn_unused_result));
/* Appends to out the GBNF for a request's constraint (root rule "root"):
 * compact JSON only, bounded lengths, so that an answer that stops always
 * parses.  Nothing for LLM_FREE.  -1 with e set for labels or a schema it
 * refuses, or no memory. */
int llm_grammar(const struct llm_request *r, struct buf *out, struct moat_err *e)
	__attribute__((warn_unused_result));
/* The JSON schema the answer must follow (labels become an enum) for
 * servers that take one.  A new reference; NULL for LLM_FREE or when out of
 * memory. */
json_t *llm_constraint_schema(const struct llm_request *r) __attribute__((warn_unused_result));
/* Parses and validates an answer; on success *value gets a new reference
 * (NULL for LLM_FREE). */
int llm_check_answer(const struct llm_request *r, const char *text, json_t **value,
		     struct moat_err *e) __attribute__((warn_unused_result));
/* Validates value against schema (the subset). */
int llm_schema_validate(json_t *schema, json_t *value, struct moat_err *e)
	__attribute__((warn_unused_result));

#endif
