/*
 * stream.c - the accumulator every backend feeds while an answer streams in
 * (see stream.h): whole UTF-8 characters to the callback, stop strings cut
 * off and held back until they cannot match any more.  What it is given may
 * come straight from a server: nothing is trusted, and the fuzz target
 * fuzz_llm_stream runs it.
 */
#include "stream.h"
#include "../core/utf8.h"

#include <stdarg.h>
#include <string.h>

#include "../core/banned.h"

void llm_stream_init(struct llm_stream *s, const struct llm_request *r)
{
	memset(s, 0, sizeof(*s));
	s->req = r;
	buf_init(&s->text, LLM_TEXT_MAX);
	s->prompt_tokens = s->completion_tokens = -1;
	s->prompt_s = s->gen_s = -1;
	s->max_pieces = -1;
}

void llm_stream_release(struct llm_stream *s)
{
	buf_release(&s->text);
}

int llm_stream_fail(struct llm_stream *s, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_setv(&s->err, code, fmt, ap);
	va_end(ap);
	s->failed = 1;
	return -1;
}

void llm_set_finish(char *finish, size_t size, const char *why)
{
	size_t n = strlen(why);
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)why[n] & 0xC0) == 0x80)
			n--;  /* not inside a character */
	}
	memcpy(finish, why, n);
	finish[n] = '\0';
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
	/* counted after a stop string too: a server that goes on is cut all the same */
	if (s->cut || (s->max_pieces >= 0 && s->pieces >= s->max_pieces)) {
		if (!s->stopped && !s->cut)
			llm_set_finish(s->finish, sizeof(s->finish), "length");
		s->cut = 1;
		return 1;
	}
	s->pieces++;
	if (s->stopped)
		return 1;
	buf_add(&s->text, piece, len);
	if (buf_failed(&s->text)) {
		if (buf_failed(&s->text) == MOAT_ELIMIT)
			return llm_stream_fail(s, MOAT_ELIMIT, "the answer is longer than %u MiB",
					       LLM_TEXT_MAX >> 20);
		return llm_stream_fail(s, MOAT_ENOMEM, "out of memory");
	}
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
				llm_set_finish(s->finish, sizeof(s->finish), "stop");
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
		buf_init(&v, 3 * (size_t)LLM_TEXT_MAX);  /* each bad byte may become 3 */
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
