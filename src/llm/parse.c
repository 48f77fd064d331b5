/*
 * parse.c - reading what model servers send back (see parse.h): Ollama's
 * NDJSON stream lines, OpenAI-style Server-Sent Events, embeddings bodies and
 * error bodies.  Everything here reads outside data: nothing is trusted,
 * sizes are checked, and the fuzz targets fuzz_llm_* run it.
 */
#include "parse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

#define EMBED_DIM_MAX (1u << 16)
#define ERROR_MAX 599  /* bytes of a server's error message kept */

/* A JSON object from a server, or NULL with *nomem set when jansson ran out
 * of memory (as far as it says so) rather than met something else. */
static json_t *load_object(const char *p, size_t n, int *nomem)
{
	json_error_t je;
	json_t *j = json_loadb(p, n, 0, &je);
	*nomem = !j && json_error_code(&je) == json_error_out_of_memory;
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* One line of a streamed answer as a JSON object, or NULL with the stream
 * failed: "<who> sent <what> that is not a JSON object", or the error the
 * server sent inside ("<who>: <message>"; with nested, an object's message
 * is looked for too, as OpenAI-style servers send it). */
static json_t *stream_object(struct llm_stream *s, const char *p, size_t n, const char *who,
			     const char *what, int nested)
{
	int nomem;
	json_t *j = load_object(p, n, &nomem), *err, *msg;
	if (!j) {
		if (nomem)
			llm_stream_fail(s, MOAT_ENOMEM, "out of memory");
		else
			llm_stream_fail(s, MOAT_EPARSE, "%s sent %s that is not a JSON object", who, what);
		return NULL;
	}
	err = json_object_get(j, "error");
	if (err) {
		msg = nested && json_is_object(err) ? json_object_get(err, "message") : err;
		/* "Ollama: ...", "the server: ..." */
		llm_stream_fail(s, MOAT_ENET, "%s: %.*s", who, ERROR_MAX,
				json_is_string(msg) ? json_string_value(msg) : "unknown error");
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Gives a piece of the answer to the stream (after a stop string too, to be
 * counted); -1 when the answer must end. */
static int add_piece(struct llm_stream *s, json_t *piece)
{
	if (!json_is_string(piece) || !json_string_length(piece))
		return 0;
	if (llm_stream_add(s, json_string_value(piece), json_string_length(piece)) < 0)
		return s->failed ? -1 : llm_stream_fail(s, MOAT_EINTERRUPTED, "cancelled");
	return 0;
}

/* Adds the log-probabilities of a line's tokens (an array of objects with a
 * "logprob", as llama-server's choices[].logprobs.content and Ollama's
 * logprobs send them, or of numbers, as the completions API's
 * logprobs.token_logprobs) unless the line's piece was not taken (live: the
 * answer was neither stopped nor cut before it, and the piece did not cut
 * it).  An entry without a number is not counted; one above 0 (rounding) is
 * taken as 0. */
static void add_logprobs(struct llm_stream *s, json_t *arr, int live)
{
	size_t i;
	json_t *t;
	if (!live || s->cut || !json_is_array(arr))
		return;
	json_array_foreach(arr, i, t) {
		json_t *lp = json_is_number(t) ? t : json_object_get(t, "logprob");
		double v;
		if (!json_is_number(lp))
			continue;
		v = json_number_value(lp);
		if (!isfinite(v))  /* cannot come from JSON; kept out all the same */
			continue;
		s->logprob += v < 0 ? v : 0;
		s->n_logprob++;
	}
}

static double ns_to_s(json_t *v)
{
	return json_is_number(v) ? json_number_value(v) / 1e9 : -1;
}

static int int_or(json_t *v, int dflt)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1 << 30)
		return dflt;
	return (int)json_integer_value(v);
}

int llm_parse_ollama_line(struct llm_stream *s, const char *line, size_t len)
{
	json_t *j, *msg;
	size_t i = 0;
	int live;
	while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
		i++;
	if (i == len)
		return 0;
	if (!(j = stream_object(s, line + i, len - i, "Ollama", "a line", 0)))
		return -1;
	msg = json_object_get(j, "message");
	live = !s->stopped && !s->cut;
	if (add_piece(s, json_is_object(msg) ? json_object_get(msg, "content")
					     : json_object_get(j, "response")) < 0) {
		json_decref(j);
		return -1;
	}
	add_logprobs(s, json_object_get(j, "logprobs"), live);
	if (json_is_true(json_object_get(j, "done"))) {
		json_t *reason = json_object_get(j, "done_reason");
		s->done = 1;
		if (!s->stopped && !s->cut)
			llm_set_finish(s->finish, sizeof(s->finish),
				       json_is_string(reason) ? json_string_value(reason) : "stop");
		s->prompt_tokens = int_or(json_object_get(j, "prompt_eval_count"), s->prompt_tokens);
		s->completion_tokens = int_or(json_object_get(j, "eval_count"), s->completion_tokens);
		s->load_s = ns_to_s(json_object_get(j, "load_duration"));
		s->prompt_s = ns_to_s(json_object_get(j, "prompt_eval_duration"));
		s->gen_s = ns_to_s(json_object_get(j, "eval_duration"));
		s->total_s = ns_to_s(json_object_get(j, "total_duration"));
		if (s->load_s < 0)
			s->load_s = 0;
	}
	json_decref(j);
	return 0;
}

int llm_parse_sse_line(struct llm_stream *s, const char *line, size_t len)
{
	json_t *j, *choices, *usage, *timings;
	size_t i;
	if (len == 0 || line[0] == ':')
		return 0;  /* event separator, comment */
	if (len < 5 || memcmp(line, "data:", 5))
		return 0;  /* event:, id:, retry: */
	i = 5;
	while (i < len && line[i] == ' ')
		i++;
	if (len - i == 6 && !memcmp(line + i, "[DONE]", 6)) {
		s->done = 1;
		return 0;
	}
	if (!(j = stream_object(s, line + i, len - i, "the server", "an event", 1)))
		return -1;
	choices = json_object_get(j, "choices");
	if (json_is_array(choices) && json_array_size(choices) > 0) {
		json_t *c = json_array_get(choices, 0), *delta, *piece, *fin, *lps;
		int live = !s->stopped && !s->cut;
		delta = json_object_get(c, "delta");
		piece = json_is_object(delta) ? json_object_get(delta, "content") : json_object_get(c, "text");
		if (!piece && json_is_object(json_object_get(c, "message")))
			piece = json_object_get(json_object_get(c, "message"), "content");
		if (add_piece(s, piece) < 0) {
			json_decref(j);
			return -1;
		}
		lps = json_object_get(c, "logprobs");
		add_logprobs(s, json_object_get(lps, "content") ? json_object_get(lps, "content")
								: json_object_get(lps, "token_logprobs"), live);
		fin = json_object_get(c, "finish_reason");
		if (json_is_string(fin)) {
			s->done = 1;
			if (!s->stopped && !s->cut)
				llm_set_finish(s->finish, sizeof(s->finish), json_string_value(fin));
		}
	}
	usage = json_object_get(j, "usage");
	if (json_is_object(usage)) {
		s->prompt_tokens = int_or(json_object_get(usage, "prompt_tokens"), s->prompt_tokens);
		s->completion_tokens = int_or(json_object_get(usage, "completion_tokens"), s->completion_tokens);
	}
	timings = json_object_get(j, "timings");  /* llama-server's own measurements */
	if (json_is_object(timings)) {
		json_t *pms = json_object_get(timings, "prompt_ms"), *gms = json_object_get(timings, "predicted_ms");
		if (json_is_number(pms))
			s->prompt_s = json_number_value(pms) / 1000.0;
		if (json_is_number(gms))
			s->gen_s = json_number_value(gms) / 1000.0;
		/* usage counts the whole prompt; prompt_n only what was not cached */
		if (s->prompt_tokens < 0)
			s->prompt_tokens = int_or(json_object_get(timings, "prompt_n"), -1);
		if (s->completion_tokens < 0)
			s->completion_tokens = int_or(json_object_get(timings, "predicted_n"), -1);
	}
	json_decref(j);
	return 0;
}

char *llm_parse_error_body(const char *body, size_t len)
{
	json_error_t je;
	json_t *j, *err, *m = NULL;
	char *out = NULL;
	if (!body || !len)
		return NULL;
	j = json_loadb(body, len, 0, &je);
	if (j && json_is_object(j)) {
		err = json_object_get(j, "error");
		if (json_is_string(err))
			m = err;
		else if (json_is_object(err))
			m = json_object_get(err, "message");
		else
			m = json_object_get(j, "message");
		if (json_is_string(m))
			out = strndup(json_string_value(m), ERROR_MAX);
	}
	if (!json_is_string(m)) {
		/* not a JSON message: the first line of the text */
		size_t n = 0;
		while (n < len && n < 200 && body[n] != '\n' && body[n] != '\r' && body[n])
			n++;
		if (n)
			out = strndup(body, n);
	}
	json_decref(j);
	for (char *p = out; p && *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	return out;
}

static void normalise(float *v, size_t dim)
{
	double sum = 0;
	for (size_t i = 0; i < dim; i++)
		sum += (double)v[i] * v[i];
	if (sum > 0) {
		double inv = 1.0 / sqrt(sum);
		for (size_t i = 0; i < dim; i++)
			v[i] = (float)(v[i] * inv);
	}
}

/* Copies n JSON vectors (rows[i] for i in order) into em. */
static int take_rows(json_t *const *rows, size_t n, struct llm_embedding *em, const char *who,
		     struct moat_err *e)
{
	size_t dim;
	if (n == 0)
		return err_set(e, MOAT_EPARSE, "%s sent no embeddings", who);
	if (!json_is_array(rows[0]) || json_array_size(rows[0]) == 0)
		return err_set(e, MOAT_EPARSE, "%s sent an embedding that is not a list of numbers", who);
	dim = json_array_size(rows[0]);
	if (dim > EMBED_DIM_MAX)
		return err_set(e, MOAT_EPARSE, "%s sent embeddings of %zu dimensions", who, dim);
	em->data = malloc(n * dim * sizeof(float));
	if (!em->data)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	for (size_t r = 0; r < n; r++) {
		if (!json_is_array(rows[r]) || json_array_size(rows[r]) != dim)
			goto bad;
		for (size_t k = 0; k < dim; k++) {
			json_t *x = json_array_get(rows[r], k);
			if (json_is_array(x)) {
				free(em->data);
				em->data = NULL;
				return err_set(e, MOAT_EPARSE,
					       "%s sent one embedding per token (start llama-server with --pooling mean)",
					       who);
			}
			if (!json_is_number(x))
				goto bad;
			em->data[r * dim + k] = (float)json_number_value(x);
		}
		normalise(em->data + r * dim, dim);
	}
	em->n = n;
	em->dim = dim;
	return 0;
bad:
	free(em->data);
	em->data = NULL;
	return err_set(e, MOAT_EPARSE, "%s sent embeddings of differing sizes or non-numbers", who);
}

/* The list under key of an embeddings body, which must hold n of them, or
 * NULL with e set; *root gets the document, for the caller to release. */
static json_t *embed_list(const char *body, size_t len, size_t n, const char *key, const char *who,
			  json_t **root, struct moat_err *e)
{
	int nomem;
	json_t *arr;
	*root = load_object(body ? body : "", body ? len : 0, &nomem);
	if (!*root) {
		if (nomem)
			err_set(e, MOAT_ENOMEM, "out of memory");
		else
			err_set(e, MOAT_EPARSE, "%s sent embeddings that are not JSON", who);
		return NULL;
	}
	arr = json_object_get(*root, key);
	if (!json_is_array(arr) || json_array_size(arr) != n) {
		err_set(e, MOAT_EPARSE, "%s sent %zu embeddings for %zu texts", who,
			json_is_array(arr) ? json_array_size(arr) : 0, n);
		return NULL;
	}
	return arr;
}

static json_t **new_rows(size_t n, struct moat_err *e)
{
	json_t **rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows)
		err_set(e, MOAT_ENOMEM, "out of memory");
	return rows;
}

int llm_parse_ollama_embed(const char *body, size_t len, size_t n, struct llm_embedding *em,
			   struct moat_err *e)
{
	json_t *j, *arr = embed_list(body, len, n, "embeddings", "Ollama", &j, e), **rows;
	int rc = -1;
	if (arr && (rows = new_rows(n, e))) {
		for (size_t i = 0; i < n; i++)
			rows[i] = json_array_get(arr, i);
		rc = take_rows(rows, n, em, "Ollama", e);
		em->prompt_tokens = int_or(json_object_get(j, "prompt_eval_count"), -1);
		free(rows);
	}
	json_decref(j);
	return rc;
}

/* OpenAI's rows may come in any order, each with its index. */
static int openai_rows(json_t *data, size_t n, json_t **rows, struct moat_err *e)
{
	for (size_t i = 0; i < n; i++) {
		json_t *d = json_array_get(data, i), *idx = json_object_get(d, "index");
		size_t at = i;
		if (json_is_integer(idx)) {
			if (json_integer_value(idx) < 0 || (size_t)json_integer_value(idx) >= n)
				return err_set(e, MOAT_EPARSE, "the server sent embeddings with bad indexes");
			at = (size_t)json_integer_value(idx);
		}
		if (rows[at])
			return err_set(e, MOAT_EPARSE, "the server sent embeddings with bad indexes");
		rows[at] = json_object_get(d, "embedding");
		if (!rows[at])
			rows[at] = json_null();
	}
	return 0;
}

int llm_parse_openai_embed(const char *body, size_t len, size_t n, struct llm_embedding *em,
			   struct moat_err *e)
{
	json_t *j, *data = embed_list(body, len, n, "data", "the server", &j, e), **rows;
	int rc = -1;
	if (data && (rows = new_rows(n, e))) {
		if (openai_rows(data, n, rows, e) == 0)
			rc = take_rows(rows, n, em, "the server", e);
		em->prompt_tokens = int_or(json_object_get(json_object_get(j, "usage"), "prompt_tokens"), -1);
		free(rows);
	}
	json_decref(j);
	return rc;
}
