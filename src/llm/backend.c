/*
 * backend.c - the helpers every backend shares (see backend.h): seeds,
 * max_tokens after defaults, the request's chat and lists as JSON, and
 * releasing results.  Nothing here talks to a model or knows
 * which backend runs; it depends on core/ only, so that the backends depend
 * on it and llm.c on the backends, never back.
 */
#include "backend.h"
#include "../core/base64.h"
#include "../core/buf.h"

#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/fmt.h"
#include "../core/hash.h"
#include "../core/jsonu.h"

#include "../core/banned.h"

void llm_sha256_str(const char *s, char out[65])
{
	sha256_hex_mem(s ? s : "", s ? strlen(s) : 0, out);
}

void llm_info_set(struct llm *m, const char *key, json_t *v)
{
	if (json_object_set_new(m->info, key, v) < 0)
		m->info_nomem = 1;
}

uint32_t llm_pick_seed(const struct llm_request *r)
{
	uint32_t v = 0;
	int fd;
	if (r && r->opt.seed >= 0)
		return (uint32_t)r->opt.seed;
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		v = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() ^ (uint32_t)ts.tv_sec;
	}
	if (fd >= 0)
		close(fd);
	return v & 0x7fffffff;
}

int llm_max_tokens(const struct llm_request *r)
{
	if (r->opt.max_tokens >= 0)
		return r->opt.max_tokens;
	return r->constraint != LLM_FREE ? 512 : -1;
}

struct llm_budget llm_budget_from(double start, int ms)
{
	struct llm_budget b = { 0, 0 };
	if (ms > 0) {
		b.until = start + ms / 1000.0;
		b.deadline_ms = ms;
	}
	return b;
}

int llm_deadline_err(struct moat_err *e, int deadline_ms, int tokens, const char *what)
{
	char s[32];
	/* whole seconds as the option takes them; a fraction only when given one */
	if (xsnprintf(s, sizeof(s), deadline_ms % 1000 ? "%.3g" : "%.0f", deadline_ms / 1000.0) < 0)
		s[0] = '\0';
	if (tokens >= 0)
		return err_set(e, MOAT_ELIMIT, "deadline of %s s reached after %d token%s", s, tokens,
			       tokens == 1 ? "" : "s");
	return err_set(e, MOAT_ELIMIT, "deadline of %s s reached waiting for %s", s, what);
}

json_t *llm_json_strings(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, jsonu_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static int add_message(json_t *msgs, const char *role, const char *content)
{
	json_t *m = json_object();
	if (!m || json_object_set_new(m, "role", json_string(role)) < 0 ||
	    json_object_set_new(m, "content", jsonu_string(content)) < 0) {
		json_decref(m);
		return -1;
	}
	return json_array_append_new(msgs, m);
}

/* The request's images in base64 (with the data: URL's head when url). */
static json_t *image_text(const struct llm_image *im, int url)
{
	struct buf b = BUF_INIT;
	json_t *s;
	if (url)
		buf_addf(&b, "data:%s;base64,", im->mime ? im->mime : "image/png");
	base64_encode(im->data, im->len, BASE64_STD, &b);
	s = buf_failed(&b) ? NULL : json_stringn(b.data, b.len);
	buf_release(&b);
	return s;
}

/* The user's message with its images: Ollama's {"content", "images":
 * [base64]}, or OpenAI's content parts [{"type": "text"}, {"type":
 * "image_url", "image_url": {"url": "data:..."}}]. */
static int add_images(json_t *msgs, const struct llm_request *r, enum llm_image_style style)
{
	json_t *m = json_array_get(msgs, json_array_size(msgs) - 1), *list = json_array();
	int bad = !m || !list;
	if (style == LLM_IMAGES_OPENAI) {
		json_t *t = json_pack("{s:s, s:o}", "type", "text", "text", jsonu_string(r->prompt));
		bad = bad || !t || json_array_append_new(list, t) < 0;
	}
	for (size_t i = 0; !bad && i < r->n_images; i++) {
		json_t *s = image_text(&r->images[i], style == LLM_IMAGES_OPENAI);
		if (style == LLM_IMAGES_OPENAI)
			s = s ? json_pack("{s:s, s:{s:o}}", "type", "image_url", "image_url", "url", s) : NULL;
		bad = !s || json_array_append_new(list, s) < 0;
	}
	if (bad) {
		json_decref(list);
		return -1;
	}
	return json_object_set_new(m, style == LLM_IMAGES_OPENAI ? "content" : "images", list);
}

json_t *llm_chat_messages(const struct llm_request *r, enum llm_image_style style)
{
	json_t *msgs = json_array();
	if (!msgs || (r->system && add_message(msgs, "system", r->system) < 0) ||
	    add_message(msgs, "user", r->prompt) < 0 ||
	    (r->n_images && add_images(msgs, r, style) < 0)) {
		json_decref(msgs);
		return NULL;
	}
	return msgs;
}

void llm_result_release(struct llm_result *r)
{
	if (!r)
		return;
	free(r->text);
	json_decref(r->value);
	json_decref(r->provenance);
	memset(r, 0, sizeof(*r));
}

double llm_result_score(const struct llm_result *r)
{
	double s;
	if (!r || r->n_logprob <= 0)
		return -1;
	s = exp(r->logprob / r->n_logprob);
	if (isnan(s))
		return -1;
	/* a server may round a certain token's log-probability up past 0; a
	 * mean below e^-745 underflows, and is still not a probability of 0 */
	return s > 1 ? 1 : s > 0 ? s : DBL_MIN;
}

void llm_embedding_release(struct llm_embedding *em)
{
	if (!em)
		return;
	free(em->data);
	json_decref(em->provenance);
	memset(em, 0, sizeof(*em));
}

int llm_ends_from_pieces(const char *text, size_t len, size_t n, llm_piece_fn piece, void *ud,
			 uint32_t *ends, struct moat_err *e)
{
	size_t total = 0, at = 0, skip = 0, plen;
	const char *p;
	if (len >= UINT32_MAX)
		return err_set(e, MOAT_ELIMIT, "text of %zu bytes is too long for token offsets", len);
	for (size_t i = 0; i < n; i++) {
		if (!(p = piece(ud, i, &plen, e)))
			return -1;
		total += plen;
		if (i == 0 && plen && p[0] == ' ')
			skip = 1;
	}
	if (total != len + skip && total != len)
		return err_set(e, MOAT_EUNSUPPORTED, "the tokenizer's pieces spell %zu bytes, the text has %zu: "
			       "it changes the text (no token offsets)", total, len);
	if (total == len)
		skip = 0;
	for (size_t i = 0; i < n; i++) {
		if (!(p = piece(ud, i, &plen, e)))
			return -1;
		if (i == 0 && skip)
			p++, plen--;
		if (plen > len - at || memcmp(text + at, p, plen))
			return err_set(e, MOAT_EUNSUPPORTED, "the tokenizer's token %zu does not spell the text "
				       "at byte %zu: it changes the text (no token offsets)", i, at);
		at += plen;
		ends[i] = (uint32_t)at;
	}
	return 0;
}
