/*
 * fuzz_llm_stream.c - libFuzzer target for what model servers send back:
 * the input, cut into lines, is fed both as Ollama's NDJSON stream and as an
 * OpenAI Server-Sent Events stream (through the accumulator, with stop
 * strings and a streaming callback), and whole as an embeddings body (Ollama
 * and OpenAI shapes) and as an error body.  Any bytes must give text or an
 * error, never a crash, a leak or a read out of bounds; the text handed to
 * the callback must always equal the accumulated answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llm/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	struct buf got;
};

static int on_token(void *ud, const char *p, size_t n)
{
	struct sink *s = ud;
	buf_add(&s->got, p, n);
	return 0;
}

static void feed(const char *d, size_t n, int sse)
{
	static const char *stops[] = { "\n\n", "</s>", "x" };
	struct llm_request r;
	struct llm_stream st;
	struct sink s;
	size_t i = 0;
	memset(&r, 0, sizeof(r));
	r.opt = llm_options_default();
	r.opt.stop = stops;
	r.opt.n_stop = 3;
	r.on_token = on_token;
	r.ud = &s;
	buf_init(&s.got, 0);
	llm_stream_init(&st, &r);
	while (i < n) {
		const char *nl = memchr(d + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (d + i)) : n - i;
		int rc = sse ? llm_parse_sse_line(&st, d + i, len) : llm_parse_ollama_line(&st, d + i, len);
		if (rc < 0)
			break;
		i += len + 1;
	}
	llm_stream_flush(&st);
	if (!st.failed && (s.got.len != st.text.len || (s.got.len && memcmp(s.got.data, st.text.data, s.got.len))))
		abort();
	llm_stream_release(&st);
	buf_release(&s.got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	struct llm_embedding em;
	struct moat_err e = MOAT_ERR_INIT;
	size_t n = size ? (size_t)(data[0] % 4) + 1 : 1;
	char *msg;

	feed(d, size, 0);
	feed(d, size, 1);
	memset(&em, 0, sizeof(em));
	if (llm_parse_ollama_embed(d, size, n, &em, &e) == 0) {
		if (em.n != n || !em.dim)
			abort();
		free(em.data);
	}
	memset(&em, 0, sizeof(em));
	if (llm_parse_openai_embed(d, size, n, &em, &e) == 0) {
		if (em.n != n || !em.dim)
			abort();
		free(em.data);
	}
	msg = llm_parse_error_body(d, size);
	free(msg);
	return 0;
}
