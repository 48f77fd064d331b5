/*
 * llamacpp.h - llama.cpp's process-wide side (llamacpp.c), shared by the
 * embedded backend (embedded.c) and by the token counter of Ollama's models
 * (ollama.c): initialising its backends once, keeping its log quiet while
 * its last error goes into moat's messages, loading a GGUF file (whole or
 * its vocabulary only), and counting tokens.  In a moat built without
 * llama.cpp only the refusals are left.
 *
 * Not for running a model (embedded.c does).
 *
 * May use: llama.cpp, core/.
 */
#ifndef MOAT_LLM_LLAMACPP_H
#define MOAT_LLM_LLAMACPP_H

#include <stddef.h>

#include "../core/err.h"

/* The refusal of a moat built without llama.cpp, naming what it cannot run;
 * returns -1 (MOAT_EUNSUPPORTED). */
int llm_no_llama(struct moat_err *e, const char *what);

/* A vocabulary-only handle for counting the tokens of a GGUF file; NULL
 * with e set (MOAT_EUNSUPPORTED when built without llama.cpp). */
void *llm_vocab_open(const char *path, struct moat_err *e) __attribute__((warn_unused_result));
/* The number of tokens of text (without BOS/EOS), or -1 with e set. */
long llm_vocab_count(void *v, const char *text, struct moat_err *e)
	__attribute__((warn_unused_result));
void llm_vocab_free(void *v);

#ifdef MOAT_WITH_LLAMA
#include <llama.h>

/* Loads a GGUF file (its vocabulary only when vocab_only); NULL with e set,
 * naming the file and llama.cpp's reason. */
struct llama_model *llm_llama_load(const char *path, int vocab_only, int n_gpu_layers,
				   struct moat_err *e) __attribute__((warn_unused_result));
/* llama.cpp's last logged error (then forgotten), or "llama.cpp gave no
 * reason", into out[size], cut to fit. */
void llm_llama_last_error(char *out, size_t size);
/* Tokens of text with a vocabulary, without BOS/EOS; -1 with e set. */
long llm_llama_count(const struct llama_vocab *v, const char *text, struct moat_err *e)
	__attribute__((warn_unused_result));
#endif

#endif
