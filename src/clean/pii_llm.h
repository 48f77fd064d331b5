/*
 * pii_llm.h - names, places and organisations through a local model (the
 * model layer, src/llm/llm.h): a prompt asks for the entities of a text and
 * the answer is constrained to a JSON schema, so it always parses; every
 * returned string is then looked for, verbatim and at word boundaries, in the
 * text, and each occurrence becomes a finding (score 0.85, as Presidio gives
 * its NER results).  Strings the model made up are simply not found.
 *
 * Optional: the clean stage uses it when a PII policy names llm_model.  A
 * handle is used by one thread at a time.
 *
 * Not for: patterns (pii.h) or talking to models (the model layer does).
 * Uses llm/llm.h, pii.h, jansson and core/ (buf, hash, err).
 */
#ifndef MOAT_PII_LLM_H
#define MOAT_PII_LLM_H

#include <stddef.h>

#include <jansson.h>

#include "../core/err.h"
#include "pii.h"

struct pii_llm;

/* entities: comma-separated types to ask for (NULL: PERSON, LOCATION,
 * ORGANIZATION); allow: hosts beyond loopback the user named. */
struct pii_llm *pii_llm_open(const char *uri, const char *entities, const char *const *allow,
			     size_t n_allow, struct moat_err *e) __attribute__((warn_unused_result));
void pii_llm_free(struct pii_llm *m);

/* Findings (byte spans of text, types of scanner s) appended to *out (a
 * malloc'd array the caller frees) for the entities the model names. */
int pii_llm_find(struct pii_llm *m, const struct pii_scanner *s, const char *text, size_t len,
		 struct pii_finding **out, size_t *n, struct moat_err *e) __attribute__((warn_unused_result));

/* {model, backend, digest, template_sha256, prompt_sha256, calls} for the
 * audit trail (new reference); NULL when out of memory. */
json_t *pii_llm_info(const struct pii_llm *m) __attribute__((warn_unused_result));

#endif
