/*
 * llamacpp.c - llama.cpp's process-wide side (see llamacpp.h): its backends
 * initialised once, its log kept quiet with the last error kept for moat's
 * messages (MOAT_LLAMA_LOG=1 lets the log through to stderr, for debugging
 * only), GGUF files loaded whole or as a vocabulary, tokens counted.  Built
 * without llama.cpp (MOAT_WITH_LLAMA undefined) this file only refuses, with
 * a message saying how to get a moat that can.
 */
#include "llamacpp.h"
#include "../models/gguf.h"

#include <string.h>

#ifdef MOAT_WITH_LLAMA
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#endif

#include "../core/banned.h"

static const char NO_LLAMA[] =
	"this moat was built without llama.cpp (MOAT_WITH_LLAMA=OFF): it cannot run '%s' itself; "
	"rebuild with llama.cpp (make), or serve the model with Ollama or llama-server and use "
	"ollama:// or openai://";

int llm_no_llama(struct moat_err *e, const char *what)
{
	return err_set(e, MOAT_EUNSUPPORTED, NO_LLAMA, what);
}

#ifndef MOAT_WITH_LLAMA

void *llm_vocab_open(const char *path, struct moat_err *e)
{
	llm_no_llama(e, path);
	return NULL;
}

long llm_vocab_count(void *v, const char *text, struct moat_err *e)
{
	(void)v, (void)text;
	return llm_no_llama(e, "a tokenizer");
}

void llm_vocab_free(void *v)
{
	(void)v;
}

#else /* MOAT_WITH_LLAMA */

static pthread_once_t backend_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_error[512];
static int log_verbose;

/* Copies s into out[size], cut to fit. */
static void copy_cut(char *out, size_t size, const char *s)
{
	size_t n = strnlen(s, size - 1);
	memcpy(out, s, n);
	out[n] = '\0';
}

static void on_log(enum ggml_log_level level, const char *text, void *ud)
{
	(void)ud;
	if (log_verbose)
		fputs(text, stderr);  /* MOAT_LLAMA_LOG=1: llama.cpp's own log, for debugging */
	if (level == GGML_LOG_LEVEL_ERROR) {
		size_t n;
		pthread_mutex_lock(&log_lock);
		copy_cut(last_error, sizeof(last_error), text);
		n = strlen(last_error);
		while (n && (last_error[n - 1] == '\n' || last_error[n - 1] == ' '))
			last_error[--n] = '\0';
		pthread_mutex_unlock(&log_lock);
	}
}

static void backend_init(void)
{
	const char *v = getenv("MOAT_LLAMA_LOG");
	log_verbose = v && *v && strcmp(v, "0");
	llama_log_set(on_log, NULL);
	llama_backend_init();
}

void llm_llama_last_error(char *out, size_t size)
{
	pthread_mutex_lock(&log_lock);
	copy_cut(out, size, last_error[0] ? last_error : "llama.cpp gave no reason");
	last_error[0] = '\0';
	pthread_mutex_unlock(&log_lock);
}

/* moat's own GGUF validator reads the header first, checking every count,
 * size and offset against the file (gguf.h), so a crafted file (huge counts,
 * offsets past the end, a tensor table that does not fit) gets a clear
 * error here and never reaches llama.cpp's loader. */
static int check_gguf(const char *path, struct moat_err *e)
{
	struct gguf_info g;
	struct moat_err ge = MOAT_ERR_INIT;
	if (gguf_open(path, &g, &ge) < 0) {
		if (ge.code == MOAT_ENOMEM)
			return err_set(e, MOAT_ENOMEM, "cannot load '%s': out of memory", path);
		return err_set(e, ge.code == MOAT_EIO ? MOAT_EIO : MOAT_EPARSE,
			       "cannot load '%s': %s", path, ge.msg);
	}
	gguf_info_release(&g);
	return 0;
}

struct llama_model *llm_llama_load(const char *path, int vocab_only, int n_gpu_layers,
				   struct moat_err *e)
{
	struct llama_model_params mp;
	struct llama_model *model;
	pthread_once(&backend_once, backend_init);
	if (check_gguf(path, e) < 0)
		return NULL;
	mp = llama_model_default_params();
	mp.vocab_only = vocab_only ? true : false;
	mp.n_gpu_layers = n_gpu_layers;
	model = llama_model_load_from_file(path, mp);
	if (!model) {
		char why[512];
		llm_llama_last_error(why, sizeof(why));
		err_set(e, MOAT_EPARSE, "cannot load '%s': %s", path, why);
	}
	return model;
}

long llm_llama_count(const struct llama_vocab *v, const char *text, struct moat_err *e)
{
	int32_t n;
	if (strlen(text) > (size_t)INT32_MAX)
		return err_set(e, MOAT_ELIMIT, "text too long to tokenize");
	n = llama_tokenize(v, text, (int32_t)strlen(text), NULL, 0, false, false);
	if (n == INT32_MIN)
		return err_set(e, MOAT_ELIMIT, "text too long to tokenize");
	return n < 0 ? -(long)n : (long)n;
}

void *llm_vocab_open(const char *path, struct moat_err *e)
{
	return llm_llama_load(path, 1, 0, e);
}

long llm_vocab_count(void *v, const char *text, struct moat_err *e)
{
	return llm_llama_count(llama_model_get_vocab(v), text, e);
}

void llm_vocab_free(void *v)
{
	if (v)
		llama_model_free(v);
}

#endif /* MOAT_WITH_LLAMA */
