/*
 * parse.c - reading what model servers send back: Ollama's NDJSON stream
 * lines, OpenAI-style Server-Sent Events, embeddings bodies and error bodies;
 * and the streaming accumulator every backend feeds (whole UTF-8 characters
 * to the callback, stop strings cut off and held back until they cannot
 * match any more).  Everything here reads outside data: nothing is trusted,
 * sizes are checked, and the fuzz targets fuzz_llm_* run it.
 */
#include "internal.h"
#include "../core/utf8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

#define TEXT_MAX (64u << 20)
#define EMBED_DIM_MAX (1u << 16)

void llm_stream_init(struct llm_stream *s, const struct llm_request *r)
{
	memset(s, 0, sizeof(*s));
	s->req = r;
	buf_init(&s->text, TEXT_MAX);
	s->prompt_tokens = s->completion_tokens = -1;
	s->prompt_s = s->gen_s = -1;
}

void llm_stream_release(struct llm_stream *s)
{
	buf_release(&s->text);
}

/* Length of the longest proper prefix of a stop string that text ends with. */
static size_t held_for_stops(const struct llm_stream *s)
{
	const struct llm_options *o = s->req ? &s->req->opt : NULL;
	size_t best = 0;
	if (!o)
		return 0;
	for (size_t i = 0; i < o->n_stop; i++) {
		const char *st = o->stop[i];
		size_t sl = st ? strlen(st) : 0;
		for (size_t k = sl ? sl - 1 : 0; k > best; k--)
			if (k <= s->text.len && !memcmp(s->text.data + s->text.len - k, st, k)) {
				best = k;
				break;
			}
	}
	return best;
}

/* Where the last complete UTF-8 character of [0, len) ends. */
static size_t utf8_complete(const char *p, size_t len)
{
	size_t i = len, back = 0;
	while (i > 0 && back < 4) {
		unsigned char c = (unsigned char)p[i - 1];
		i--;
		back++;
		if ((c & 0xC0) != 0x80) {
			size_t need = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 :
				      (c & 0xF8) == 0xF0 ? 4 : 1;
			return back >= need ? len : i;
		}
	}
	return len;
}

static int send_upto(struct llm_stream *s, size_t upto)
{
	if (!s->req || !s->req->on_token || upto <= s->sent)
		return 0;
	if (s->req->on_token(s->req->ud, s->text.data + s->sent, upto - s->sent)) {
		s->cb_cancel = 1;
		return -1;
	}
	s->sent = upto;
	return 0;
}

int llm_stream_add(struct llm_stream *s, const char *piece, size_t len)
{
	const struct llm_options *o = s->req ? &s->req->opt : NULL;
	size_t old = s->text.len, safe;
	if (s->stopped)
		return 1;
	buf_add(&s->text, piece, len);
	if (buf_failed(&s->text))
		return 1;
	for (size_t i = 0; o && i < o->n_stop; i++) {
		const char *st = o->stop[i];
		size_t sl = st ? strlen(st) : 0, from;
		if (!sl || sl > s->text.len)
			continue;
		from = old + 1 > sl ? old + 1 - sl : 0;
		for (size_t p = from; p + sl <= s->text.len; p++)
			if (!memcmp(s->text.data + p, st, sl)) {
				buf_setlen(&s->text, p);
				s->stopped = 1;
				snprintf(s->finish, sizeof(s->finish), "stop");
				break;
			}
	}
	if (s->stopped) {
		if (send_upto(s, utf8_complete(s->text.data, s->text.len)) < 0)
			return -1;
		return 1;
	}
	safe = s->text.len - held_for_stops(s);
	safe = utf8_complete(s->text.data ? s->text.data : "", safe);
	if (send_upto(s, safe) < 0)
		return -1;
	return 0;
}

void llm_stream_flush(struct llm_stream *s)
{
	send_upto(s, s->text.len);
}

char *llm_stream_take_text(struct llm_stream *s)
{
	if (s->text.data && !utf8_is_valid(s->text.data, s->text.len)) {
		struct buf v;
		buf_init(&v, 3 * (size_t)TEXT_MAX);  /* each bad byte may become 3 */
		utf8_sanitize(&v, s->text.data, s->text.len);
		if (buf_failed(&v)) {
			buf_release(&v);
			return NULL;
		}
		buf_release(&s->text);
		s->text = v;
	}
	return buf_detach(&s->text, NULL);
}

static int stream_fail(struct llm_stream *s, int code, const char *fmt, const char *arg)
{
	s->failed = 1;
	err_set(&s->err, code, fmt, arg);
	return -1;
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
	json_error_t je;
	json_t *j, *err, *msg, *piece;
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
		i++;
	if (i == len)
		return 0;
	j = json_loadb(line + i, len - i, 0, &je);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return stream_fail(s, MOAT_EPARSE, "Ollama sent a line that is not a JSON object%s", "");
	}
	err = json_object_get(j, "error");
	if (err) {
		char m[600];
		snprintf(m, sizeof(m), "%s", json_is_string(err) ? json_string_value(err) : "unknown error");
		json_decref(j);
		return stream_fail(s, MOAT_ENET, "Ollama: %s", m);
	}
	msg = json_object_get(j, "message");
	piece = json_is_object(msg) ? json_object_get(msg, "content") : json_object_get(j, "response");
	if (json_is_string(piece) && json_string_length(piece) && !s->stopped) {
		if (llm_stream_add(s, json_string_value(piece), json_string_length(piece)) < 0) {
			json_decref(j);
			return stream_fail(s, MOAT_EINTERRUPTED, "cancelled%s", "");
		}
	}
	if (json_is_true(json_object_get(j, "done"))) {
		json_t *reason = json_object_get(j, "done_reason");
		s->done = 1;
		if (!s->stopped)
			snprintf(s->finish, sizeof(s->finish), "%s",
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
	json_error_t je;
	json_t *j, *err, *choices, *usage, *timings;
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
	j = json_loadb(line + i, len - i, 0, &je);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return stream_fail(s, MOAT_EPARSE, "the server sent an event that is not a JSON object%s", "");
	}
	err = json_object_get(j, "error");
	if (err) {
		char m[600];
		json_t *mm = json_is_object(err) ? json_object_get(err, "message") : err;
		snprintf(m, sizeof(m), "%s", json_is_string(mm) ? json_string_value(mm) : "unknown error");
		json_decref(j);
		return stream_fail(s, MOAT_ENET, "the server: %s", m);
	}
	choices = json_object_get(j, "choices");
	if (json_is_array(choices) && json_array_size(choices) > 0) {
		json_t *c = json_array_get(choices, 0), *delta, *piece, *fin;
		delta = json_object_get(c, "delta");
		piece = json_is_object(delta) ? json_object_get(delta, "content") : json_object_get(c, "text");
		if (!piece && json_is_object(json_object_get(c, "message")))
			piece = json_object_get(json_object_get(c, "message"), "content");
		if (json_is_string(piece) && json_string_length(piece) && !s->stopped) {
			if (llm_stream_add(s, json_string_value(piece), json_string_length(piece)) < 0) {
				json_decref(j);
				return stream_fail(s, MOAT_EINTERRUPTED, "cancelled%s", "");
			}
		}
		fin = json_object_get(c, "finish_reason");
		if (json_is_string(fin)) {
			s->done = 1;
			if (!s->stopped)
				snprintf(s->finish, sizeof(s->finish), "%s", json_string_value(fin));
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
	char out[600];
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
		if (json_is_string(m)) {
			snprintf(out, sizeof(out), "%s", json_string_value(m));
			json_decref(j);
			goto done;
		}
	}
	json_decref(j);
	{
		size_t n = 0;
		while (n < len && n < 200 && body[n] != '\n' && body[n] != '\r' && body[n])
			n++;
		if (!n)
			return NULL;
		snprintf(out, sizeof(out), "%.*s", (int)n, body);
	}
done:
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	{
		size_t l = strlen(out);
		char *d = malloc(l + 1);
		if (d)
			memcpy(d, out, l + 1);
		return d;
	}
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

int llm_parse_ollama_embed(const char *body, size_t len, size_t n, struct llm_embedding *em,
			   struct moat_err *e)
{
	json_error_t je;
	json_t *j = json_loadb(body ? body : "", len, 0, &je), *arr;
	json_t **rows;
	int rc;
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return err_set(e, MOAT_EPARSE, "Ollama sent embeddings that are not JSON");
	}
	arr = json_object_get(j, "embeddings");
	if (!json_is_array(arr) || json_array_size(arr) != n) {
		size_t got = json_is_array(arr) ? json_array_size(arr) : 0;
		json_decref(j);
		return err_set(e, MOAT_EPARSE, "Ollama sent %zu embeddings for %zu texts", got, n);
	}
	rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows) {
		json_decref(j);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		rows[i] = json_array_get(arr, i);
	rc = take_rows(rows, n, em, "Ollama", e);
	em->prompt_tokens = int_or(json_object_get(j, "prompt_eval_count"), -1);
	free(rows);
	json_decref(j);
	return rc;
}

int llm_parse_openai_embed(const char *body, size_t len, size_t n, struct llm_embedding *em,
			   struct moat_err *e)
{
	json_error_t je;
	json_t *j = json_loadb(body ? body : "", len, 0, &je), *data;
	json_t **rows;
	int rc;
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return err_set(e, MOAT_EPARSE, "the server sent embeddings that are not JSON");
	}
	data = json_object_get(j, "data");
	if (!json_is_array(data) || json_array_size(data) != n) {
		size_t got = json_is_array(data) ? json_array_size(data) : 0;
		json_decref(j);
		return err_set(e, MOAT_EPARSE, "the server sent %zu embeddings for %zu texts", got, n);
	}
	rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows) {
		json_decref(j);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		json_t *d = json_array_get(data, i), *idx = json_object_get(d, "index");
		size_t at = i;
		if (json_is_integer(idx)) {
			if (json_integer_value(idx) < 0 || (size_t)json_integer_value(idx) >= n ||
			    rows[json_integer_value(idx)]) {
				free(rows);
				json_decref(j);
				return err_set(e, MOAT_EPARSE, "the server sent embeddings with bad indexes");
			}
			at = (size_t)json_integer_value(idx);
		} else if (rows[at]) {
			free(rows);
			json_decref(j);
			return err_set(e, MOAT_EPARSE, "the server sent embeddings with bad indexes");
		}
		rows[at] = json_object_get(d, "embedding");
		if (!rows[at])
			rows[at] = json_null();
	}
	rc = take_rows(rows, n, em, "the server", e);
	em->prompt_tokens = int_or(json_object_get(json_object_get(j, "usage"), "prompt_tokens"), -1);
	free(rows);
	json_decref(j);
	return rc;
}
