/*
 * embedded.c - the gguf: and store: backends: llama.cpp linked into moat, so
 * no server is needed.  Several requests decode together: each one gets a
 * sequence of one context, new prompts are prefilled in the same batches as
 * the tokens of sequences already generating (continuous batching), and a
 * finished sequence frees its slot for the next request at once.  Output is
 * constrained with llama.cpp's GBNF grammar sampler; embeddings come from a
 * second context with mean pooling (or the model's own pooling).
 *
 * llama.cpp's process-wide side (its log, loading files) is llamacpp.c's.
 * Built without llama.cpp (MOAT_WITH_LLAMA undefined) this file only refuses.
 */
#include "backend.h"
#include "digest.h"
#include "grammar.h"
#include "llamacpp.h"
#include "stream.h"

#include <stdlib.h>
#include <string.h>

#ifdef MOAT_WITH_LLAMA
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include <llama.h>

#include "../core/fmt.h"
#include "../core/jsonu.h"
#include "../core/progress.h"
#endif

#include "../core/banned.h"

#ifndef MOAT_WITH_LLAMA

int llm_embedded_open(struct llm *m, const char *path, struct moat_err *e)
{
	(void)path;
	return llm_no_llama(e, m->uri_text);
}

#else /* MOAT_WITH_LLAMA */

#define DEFAULT_PARALLEL 4
#define DEFAULT_CTX 4096
#define EMBED_SEQ_MAX 16

/* Physical cores, as llama.cpp's own tools count them (one thread per core
 * is what they default to). */
static int physical_cores(void)
{
	char seen[256][64];
	int n = 0;
	for (int cpu = 0; cpu < 1024 && n < 256; cpu++) {
		char p[128], s[64];
		FILE *f;
		if (xsnprintf(p, sizeof(p), "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list",
			      cpu) < 0)
			break;  /* cannot happen: the number fits */
		f = fopen(p, "r");
		if (!f)
			break;
		if (fgets(s, sizeof(s), f)) {
			int dup = 0;
			for (int k = 0; k < n; k++)
				dup |= !strcmp(seen[k], s);
			if (!dup)
				memcpy(seen[n++], s, sizeof(s));
		}
		fclose(f);
	}
	if (n > 0)
		return n;
	{
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		return c > 0 ? (int)c : 4;
	}
}

/* ---- the backend's state ---- */

struct emb {
	struct llama_model *model;
	const struct llama_vocab *vocab;
	struct llama_context *ctx;     /* generation: n_seq sequences of n_ctx_seq */
	int ctx_seqs, ctx_seq_len;
	struct llama_context *ectx;    /* embeddings */
	int n_ctx_seq;                 /* default context per sequence */
	int n_vocab;
	int threads;
	char *tmpl;                    /* the chat template (the model's, or "chatml") */
	int tmpl_builtin;
	atomic_int abort_all;          /* read by the abort callback, on llama.cpp's threads */
};

static int emb_generate(struct llm *m, const struct llm_request *r, size_t n,
			struct llm_result *out, struct moat_err *errs);
static int emb_embed(struct llm *m, const char *const *texts, size_t n,
		     struct llm_embedding *out, struct moat_err *e);
static long emb_count(struct llm *m, const char *text, struct moat_err *e);
static long emb_token_ends(struct llm *m, const char *text, size_t len, uint32_t **ends,
			   struct moat_err *e);
static int emb_bench(struct llm *m, const struct llm_bench_opts *o,
		     struct llm_bench_result *out, struct moat_err *e);
static void emb_free(struct llm *m);

static const struct llm_ops emb_ops = {
	emb_generate, emb_embed, emb_count, emb_bench, emb_free, emb_token_ends,
};

int llm_embedded_open(struct llm *m, const char *path, struct moat_err *e)
{
	struct emb *b = calloc(1, sizeof(*b));
	const char *tmpl;
	char desc[128];
	int train;

	if (!b)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	m->be = b;
	m->ops = &emb_ops;
	b->model = llm_llama_load(path, 0, m->cfg.n_gpu_layers, e);
	if (!b->model)
		return -1;
	b->vocab = llama_model_get_vocab(b->model);
	b->n_vocab = llama_vocab_n_tokens(b->vocab);
	b->threads = m->cfg.n_threads > 0 ? m->cfg.n_threads : physical_cores();
	/* a model this small decodes faster on one thread than the others can be
	 * woken, and idle OpenMP threads spin while the main thread samples */
	if (m->cfg.n_threads <= 0 && llama_model_size(b->model) < (64u << 20))
		b->threads = 1;
	train = llama_model_n_ctx_train(b->model);
	b->n_ctx_seq = m->cfg.n_ctx > 0 ? m->cfg.n_ctx : DEFAULT_CTX;
	if (m->cfg.n_ctx <= 0 && train > 0 && train < b->n_ctx_seq)
		b->n_ctx_seq = train;
	m->parallel = m->cfg.parallel > 0 ? m->cfg.parallel : DEFAULT_PARALLEL;
	if ((size_t)m->parallel > llama_max_parallel_sequences())
		m->parallel = (int)llama_max_parallel_sequences();

	tmpl = llama_model_chat_template(b->model, NULL);
	if (tmpl && *tmpl) {
		b->tmpl = strdup(tmpl);
	} else {
		b->tmpl = strdup("chatml");  /* what llama-server falls back to as well */
		b->tmpl_builtin = 1;
	}
	if (!b->tmpl)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	{
		char h[65];
		llm_sha256_str(b->tmpl, h);
		m->template_sha256 = strdup(h);
		if (!m->template_sha256)
			return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	if (!m->digest) {
		m->digest = llm_file_digest(path, e);
		if (!m->digest)
			return -1;
	}
	llama_model_desc(b->model, desc, sizeof(desc));
	llm_info_set(m, "server", json_pack("{s:s, s:s}", "kind", "llama.cpp (built in)", "version",
					     llama_version()));
	if (!json_object_get(m->info, "path"))
		llm_info_set(m, "path", jsonu_string(path));
	llm_info_set(m, "description", jsonu_string(desc));
	llm_info_set(m, "n_ctx_train", json_integer(train));
	llm_info_set(m, "n_ctx", json_integer(b->n_ctx_seq));
	llm_info_set(m, "n_embd", json_integer(llama_model_n_embd(b->model)));
	llm_info_set(m, "n_layer", json_integer(llama_model_n_layer(b->model)));
	llm_info_set(m, "n_params", json_integer((json_int_t)llama_model_n_params(b->model)));
	llm_info_set(m, "size", json_integer((json_int_t)llama_model_size(b->model)));
	llm_info_set(m, "n_vocab", json_integer(b->n_vocab));
	llm_info_set(m, "threads", json_integer(b->threads));
	llm_info_set(m, "chat_template", json_string(b->tmpl_builtin ? "chatml (built in)" : "the model's"));
	return 0;
}

static void emb_free(struct llm *m)
{
	struct emb *b = m->be;
	if (!b)
		return;
	if (b->ctx)
		llama_free(b->ctx);
	if (b->ectx)
		llama_free(b->ectx);
	if (b->model)
		llama_model_free(b->model);
	free(b->tmpl);
	free(b);
	m->be = NULL;
}

static bool on_abort(void *data)
{
	const struct emb *b = data;
	return atomic_load(&b->abort_all) != 0;
}

/* A generation context for seqs sequences of seq_len tokens each. */
static int gen_context(struct emb *b, int seqs, int seq_len, struct moat_err *e)
{
	struct llama_context_params cp;
	if (b->ctx && b->ctx_seqs >= seqs && b->ctx_seq_len >= seq_len)
		return 0;
	if (b->ctx)
		llama_free(b->ctx);
	b->ctx = NULL;
	cp = llama_context_default_params();
	cp.n_ctx = (uint32_t)seq_len * (uint32_t)seqs;
	cp.n_seq_max = (uint32_t)seqs;
	cp.n_batch = cp.n_ctx < 2048 ? (cp.n_ctx > 512 ? cp.n_ctx : 512) : 2048;
	cp.n_ubatch = 512;
	cp.n_threads = cp.n_threads_batch = b->threads;
	cp.kv_unified = false;  /* sequences share no prefix: each gets its own cache */
	cp.no_perf = true;
	cp.abort_callback = on_abort;
	cp.abort_callback_data = b;
	b->ctx = llama_init_from_model(b->model, cp);
	if (!b->ctx) {
		char why[512];
		llm_llama_last_error(why, sizeof(why));
		return err_set(e, MOAT_ENOMEM, "cannot make a context of %d x %d tokens: %s", seqs, seq_len, why);
	}
	b->ctx_seqs = seqs;
	b->ctx_seq_len = seq_len;
	return 0;
}

/* The prompt as the model's chat template writes it. */
static char *render(struct emb *b, const struct llm_request *r, struct moat_err *e)
{
	struct llama_chat_message msgs[2];
	size_t nm = 0, cap;
	int32_t n;
	char *out;
	if (r->raw) {
		out = strdup(r->prompt);
		if (!out)
			err_set(e, MOAT_ENOMEM, "out of memory");
		return out;
	}
	if (r->system)
		msgs[nm++] = (struct llama_chat_message){ "system", r->system };
	msgs[nm++] = (struct llama_chat_message){ "user", r->prompt };
	cap = 2 * (strlen(r->prompt) + (r->system ? strlen(r->system) : 0)) + 512;
	for (int attempt = 0; attempt < 3; attempt++) {
		out = malloc(cap);
		if (!out) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			return NULL;
		}
		n = llama_chat_apply_template(b->tmpl, msgs, nm, true, out, (int32_t)cap);
		if (n < 0 && !b->tmpl_builtin) {
			/* a Jinja template llama.cpp's C API cannot run: ChatML */
			char *chatml = strdup("chatml");
			free(out);
			if (!chatml) {
				err_set(e, MOAT_ENOMEM, "out of memory");
				return NULL;
			}
			free(b->tmpl);
			b->tmpl = chatml;
			b->tmpl_builtin = 1;
			continue;
		}
		if (n < 0) {
			free(out);
			err_set(e, MOAT_EUNSUPPORTED, "cannot apply the chat template");
			return NULL;
		}
		if ((size_t)n < cap) {
			out[n] = '\0';
			return out;
		}
		free(out);
		cap = (size_t)n + 1;
	}
	err_set(e, MOAT_EUNSUPPORTED, "cannot apply the chat template");
	return NULL;
}

static llama_token *tokenize(struct emb *b, const char *text, int add_special, int parse_special,
			     int *n_out, struct moat_err *e)
{
	int32_t len = (int32_t)strlen(text), n;
	llama_token *t;
	if (strlen(text) > (size_t)INT32_MAX / 2) {
		err_set(e, MOAT_ELIMIT, "text too long to tokenize");
		return NULL;
	}
	n = -llama_tokenize(b->vocab, text, len, NULL, 0, add_special, parse_special);
	if (n < 0)
		n = 0;
	t = malloc(((size_t)n + 1) * sizeof(*t));
	if (!t) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	if (n > 0 && llama_tokenize(b->vocab, text, len, t, n, add_special, parse_special) != n) {
		free(t);
		err_set(e, MOAT_EPARSE, "cannot tokenize the text");
		return NULL;
	}
	*n_out = n;
	return t;
}

/* ---- the batched generation engine ---- */

struct job {
	const struct llm_request *req;   /* NULL for a token-only job (bench) */
	const llama_token *tokens;       /* prompt tokens when req is NULL */
	int n_tokens;
	int max_tokens;
	struct llm_budget budget;        /* the request's deadline */
	int greedy, ignore_eos;
	uint32_t seed;
	struct llm_result *out;
	struct moat_err *err;
};

/* What the text so far leaves open of a UTF-8 sequence: need more
 * continuation bytes, the next one in [lo, hi] (RFC 3629's table). */
struct u8state {
	unsigned char need, lo, hi;
};

struct slot {
	struct job *job;
	llama_token *prompt;
	int n_prompt, n_fed;
	int pos, n_gen, max;
	llama_token pending;
	int has_pending;
	int batch_idx;
	struct llama_sampler *smpl;
	struct llama_sampler *grammar;
	int fast;                        /* greedy argmax without a sampler */
	struct llm_stream st;
	double t_admit, t_first;
	double logprob;                  /* of the n_gen tokens taken (token_logprob) */
	struct u8state u8;               /* the answer's open UTF-8 sequence (sample()) */
};

struct engine_stats {
	double t_start, t_prefill_done, t_end;
	long tokens_decoded_after_prefill;
};

/* The sampling chain of a job (NULL with *fast for plain greedy) and, for a
 * constrained one, its grammar sampler apart (see sample()). */
static struct llama_sampler *make_sampler(struct emb *b, struct job *j, int *fast,
					  struct llama_sampler **grammar, struct moat_err *e)
{
	struct llama_sampler *c;
	const struct llm_request *r = j->req;
	*fast = 0;
	*grammar = NULL;
	if (!r || (j->greedy && r->constraint == LLM_FREE)) {
		*fast = 1;
		return NULL;
	}
	if (r->constraint != LLM_FREE) {
		struct buf g = BUF_INIT;
		if (llm_grammar(r, &g, e) < 0) {
			buf_release(&g);
			return NULL;
		}
		*grammar = llama_sampler_init_grammar(b->vocab, buf_str(&g), "root");
		buf_release(&g);
		if (!*grammar) {
			char why[512];
			llm_llama_last_error(why, sizeof(why));
			err_set(e, MOAT_EPARSE, "cannot build the grammar: %s", why);
			return NULL;
		}
	}
	c = llama_sampler_chain_init(llama_sampler_chain_default_params());
	if (!c) {
		if (*grammar)
			llama_sampler_free(*grammar);
		*grammar = NULL;
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	if (j->ignore_eos) {
		llama_logit_bias bias[2];
		int nb = 0;
		if (llama_vocab_eos(b->vocab) != LLAMA_TOKEN_NULL)
			bias[nb++] = (llama_logit_bias){ llama_vocab_eos(b->vocab), -INFINITY };
		if (llama_vocab_eot(b->vocab) != LLAMA_TOKEN_NULL)
			bias[nb++] = (llama_logit_bias){ llama_vocab_eot(b->vocab), -INFINITY };
		llama_sampler_chain_add(c, llama_sampler_init_logit_bias(b->n_vocab, nb, bias));
	}
	if (j->greedy) {
		llama_sampler_chain_add(c, llama_sampler_init_greedy());
	} else {
		if (r->opt.top_k > 0)
			llama_sampler_chain_add(c, llama_sampler_init_top_k(r->opt.top_k));
		if (r->opt.top_p > 0 && r->opt.top_p < 1)
			llama_sampler_chain_add(c, llama_sampler_init_top_p((float)r->opt.top_p, 1));
		llama_sampler_chain_add(c, llama_sampler_init_temp((float)r->opt.temperature));
		llama_sampler_chain_add(c, llama_sampler_init_dist(j->seed));
	}
	return c;
}

static void fill_candidates(struct emb *b, llama_token_data *cand, const float *logits)
{
	for (int i = 0; i < b->n_vocab; i++)
		cand[i] = (llama_token_data){ i, logits[i], 0.0f };
}

/* Feeds the n bytes of a token's piece to st: 0 with st advanced, or -1
 * when they would make the text invalid UTF-8 (st as it was). */
static int u8_feed(struct u8state *st, const char *p, size_t n)
{
	struct u8state s = *st;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (s.need) {
			if (c < s.lo || c > s.hi)
				return -1;
			s.need--;
			s.lo = 0x80;
			s.hi = 0xBF;
		} else if (c >= 0x80) {
			s.lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
			s.hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
			if (c >= 0xC2 && c <= 0xDF)
				s.need = 1;
			else if (c >= 0xE0 && c <= 0xEF)
				s.need = 2;
			else if (c >= 0xF0 && c <= 0xF4)
				s.need = 3;
			else
				return -1;
		}
	}
	*st = s;
	return 0;
}

/* 1 when tok's piece keeps the text valid UTF-8 after *st, which it then
 * advances (a piece longer than 256 bytes is not judged) */
static int u8_take(struct emb *b, struct u8state *st, llama_token tok)
{
	char piece[256];
	int32_t n = llama_token_to_piece(b->vocab, tok, piece, sizeof(piece), 0, false);
	return n < 0 || u8_feed(st, piece, (size_t)n) == 0;
}

/* Samples with the chain first and asks the grammar only about the token
 * chosen; only when the grammar refuses it is the whole vocabulary passed
 * through the grammar (what llama.cpp's own tools do: checking 32000
 * candidates against a grammar at every step is the slow part).  With a
 * grammar, likewise a token that would break the answer's UTF-8 (a byte
 * token opening a sequence that the next token does not continue):
 * llama.cpp's grammar takes any bytes after a lead byte as its
 * continuation and counts the broken sequence as one character, where the
 * text then holds an U+FFFD for each bad byte (a string longer than its
 * maxLength).  Unconstrained text keeps what the model chose (its bad
 * bytes become U+FFFD). */
static llama_token sample(struct emb *b, struct llama_sampler *chain, struct llama_sampler *grammar,
			  struct u8state *u8, llama_token_data *cand, int idx)
{
	const float *logits = llama_get_logits_ith(b->ctx, idx);
	llama_token_data_array arr;
	llama_token tok;
	struct u8state next = *u8;
	int ok;
	if (!logits)
		return LLAMA_TOKEN_NULL;
	fill_candidates(b, cand, logits);
	arr = (llama_token_data_array){ cand, (size_t)b->n_vocab, -1, false };
	llama_sampler_apply(chain, &arr);
	if (arr.selected < 0 || (size_t)arr.selected >= arr.size)
		return LLAMA_TOKEN_NULL;
	tok = arr.data[arr.selected].id;
	ok = !grammar || u8_take(b, &next, tok);
	if (ok && grammar) {
		llama_token_data one = { tok, 1.0f, 0.0f };
		llama_token_data_array a1 = { &one, 1, -1, false };
		llama_sampler_apply(grammar, &a1);
		ok = !(isinf(one.logit) && one.logit < 0);
	}
	if (!ok) {  /* (only with a grammar) */
		fill_candidates(b, cand, logits);
		arr = (llama_token_data_array){ cand, (size_t)b->n_vocab, -1, false };
		llama_sampler_apply(grammar, &arr);
		for (size_t i = 0; i < arr.size; i++) {
			struct u8state t = *u8;
			if (!(isinf(arr.data[i].logit) && arr.data[i].logit < 0) &&
			    !u8_take(b, &t, arr.data[i].id))
				arr.data[i].logit = -INFINITY;
		}
		llama_sampler_apply(chain, &arr);
		if (arr.selected < 0 || (size_t)arr.selected >= arr.size)
			return LLAMA_TOKEN_NULL;
		tok = arr.data[arr.selected].id;
		next = *u8;
		if (!u8_take(b, &next, tok))
			memset(&next, 0, sizeof(next));  /* nothing fitted: start afresh */
	}
	if (grammar) {
		*u8 = next;
		llama_sampler_accept(grammar, tok);
	}
	llama_sampler_accept(chain, tok);
	return tok;
}

/* The largest of n floats, sixteen lanes at a time (the compiler vectorises
 * it). */
static float max16(const float *l, int n)
{
	float mx[16], m = -INFINITY;
	int i;
	for (int k = 0; k < 16; k++)
		mx[k] = -INFINITY;
	for (i = 0; i + 16 <= n; i += 16)
		for (int k = 0; k < 16; k++)
			mx[k] = l[i + k] > mx[k] ? l[i + k] : mx[k];
	for (int k = 0; k < 16; k++)
		m = mx[k] > m ? mx[k] : m;
	for (; i < n; i++)
		m = l[i] > m ? l[i] : m;
	return m;
}

/* ---- the log-probability of a sampled token ---- */

typedef float v8sf __attribute__((vector_size(32)));
typedef int32_t v8si __attribute__((vector_size(32)));

/* e^x of eight x <= 0, in place, to 2.5e-7 relative: x = n ln2 + r with
 * |r| <= ln2/2, e^r by its Taylor polynomial of degree 6, 2^n put in the
 * exponent bits.  Below -87 (where 2^n would leave the normal floats) x is
 * taken as -87: e^-87 is 1.6e-38, nothing next to the largest term, 1.
 * Written with GCC's vector extensions, which the compiler turns into SSE2,
 * AVX2 or NEON: libm's exp, one value at a time, took 300 us for 32000
 * logits, longer than the tiny test model takes to decode a token. */
static inline void exp8_le0(v8sf *v)
{
	const v8sf lo = { -87.0f, -87.0f, -87.0f, -87.0f, -87.0f, -87.0f, -87.0f, -87.0f };
	const float shift = 12582912.0f;  /* 1.5 * 2^23: adding it rounds to an integer */
	v8sf x = *v, t, n, r, p;
	v8si keep = x > lo, bits;
	x = (v8sf)(((v8si)x & keep) | ((v8si)lo & ~keep));
	t = x * 1.44269504f + shift;
	n = t - shift;
	bits = (v8si)t - 0x4b400000;  /* the bits of t less those of shift: n */
	r = x - n * 0.693359375f - n * -2.12194440e-4f;  /* ln 2 in two parts */
	p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 +
										   r * (1.0f / 720))))));
	*v = p * (v8sf)((bits + 127) << 23);
}

/* The sum of e^(l[i] - mx) over n logits (mx their largest), added up in
 * double: the terms of each block of 1024 in float lanes (each lane sums
 * 64 terms of at most 1), the blocks in double.  On x86-64 a second copy is
 * built for AVX2 and FMA and chosen at load time. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
static double sum_exp(const float *l, int n, float mx)
{
	double s = 0;
	int i = 0;
	while (i + 16 <= n) {
		v8sf a0 = { 0 }, a1 = { 0 };
		int end = i + 1024 <= n ? i + 1024 : n - (n - i) % 16;
		for (; i < end; i += 16) {
			v8sf x0, x1;
			memcpy(&x0, l + i, sizeof(x0));
			memcpy(&x1, l + i + 8, sizeof(x1));
			x0 -= mx;
			x1 -= mx;
			exp8_le0(&x0);
			exp8_le0(&x1);
			a0 += x0;
			a1 += x1;
		}
		a0 += a1;
		for (int k = 0; k < 8; k++)
			s += a0[k];
	}
	for (; i < n; i++) {
		v8sf x = { l[i] - mx, -87.0f, -87.0f, -87.0f, -87.0f, -87.0f, -87.0f, -87.0f };
		exp8_le0(&x);
		s += x[0];
	}
	return s;
}

/* log p(tok) under the model's raw distribution at batch position idx: the
 * log-softmax of the logits as llama.cpp computed them, before any sampler,
 * the logit bias of ignore_eos and the grammar (a constrained answer is
 * scored as the unconstrained model sees it, which is what llama-server
 * reports too; the grammar's renormalised probability would need the whole
 * vocabulary through the grammar at every step, the slow path sample()
 * avoids).  0 when there are no logits. */
static double token_logprob(struct emb *b, int idx, llama_token tok)
{
	const float *l = llama_get_logits_ith(b->ctx, idx);
	float mx;
	if (!l || tok < 0 || tok >= b->n_vocab)
		return 0;
	mx = max16(l, b->n_vocab);
	return (double)(l[tok] - mx) - log(sum_exp(l, b->n_vocab, mx));
}

#define ARGMAX_BLOCK 512

/* Greedy decoding without a sampler: the first index of the largest logit.
 * Blocks are maximised vectorised, then only the winning block is searched
 * for the index: four times faster than one loop over 32000 logits, which
 * matters when a small model decodes a whole batch in about that time. */
static llama_token argmax(struct emb *b, int idx, int ignore_eos)
{
	const float *l = llama_get_logits_ith(b->ctx, idx);
	float m = -INFINITY;
	int n = b->n_vocab, best = 0, from = 0;
	if (!l)
		return LLAMA_TOKEN_NULL;
	for (int i = 0; i < n; i += ARGMAX_BLOCK) {
		float bm = max16(l + i, n - i < ARGMAX_BLOCK ? n - i : ARGMAX_BLOCK);
		if (bm > m) {
			m = bm;
			from = i;
		}
	}
	for (int i = from; i < n; i++)
		if (l[i] == m) {
			best = i;
			break;
		}
	if (ignore_eos && llama_vocab_is_eog(b->vocab, best)) {
		float bv = -INFINITY;
		best = -1;
		for (int i = 0; i < n; i++)
			if (!llama_vocab_is_eog(b->vocab, i) && (best < 0 || l[i] > bv))
				bv = l[i], best = i;
	}
	return best < 0 ? 0 : best;
}

static void slot_finish(struct slot *s, const char *finish, int failed_code,
			const char *msg)
{
	struct job *j = s->job;
	struct llm_result *o = j->out;
	double now = now_seconds();
	if (!failed_code)
		llm_stream_flush(&s->st);
	o->text = llm_stream_take_text(&s->st);
	if (!o->text && !failed_code) {
		finish = "error";
		failed_code = MOAT_ENOMEM;
		msg = "out of memory";
	}
	o->prompt_tokens = s->n_prompt;
	o->completion_tokens = s->n_gen;
	o->logprob = s->logprob;
	o->n_logprob = s->n_gen;
	o->prompt_s = s->t_first > 0 ? s->t_first - s->t_admit : now - s->t_admit;
	o->gen_s = s->t_first > 0 ? now - s->t_first : 0;
	o->total_s = now - s->t_admit;
	llm_set_finish(o->finish, sizeof(o->finish), finish);
	if (failed_code)
		err_set(j->err, failed_code, "%s", msg);
	llm_stream_release(&s->st);
	if (s->smpl)
		llama_sampler_free(s->smpl);
	if (s->grammar)
		llama_sampler_free(s->grammar);
	free(s->prompt);
	memset(s, 0, sizeof(*s));
}

static int cancelled(const struct job *j)
{
	return j->req && j->req->cancel && *j->req->cancel;
}

/* Ends a slot whose request is past its deadline; 1 when it did. */
static int past_deadline(struct slot *s)
{
	struct moat_err e = MOAT_ERR_INIT;
	if (!s->job->budget.until || now_seconds() < s->job->budget.until)
		return 0;
	llm_deadline_err(&e, s->job->budget.deadline_ms, s->n_gen, NULL);
	slot_finish(s, "deadline", e.code, e.msg);
	return 1;
}

/* Sets up a slot for a job; on failure the job is finished with its error. */
static int slot_start(struct emb *b, struct slot *s, struct job *j, int seq_len)
{
	struct moat_err *e = j->err;
	memset(s, 0, sizeof(*s));
	s->job = j;
	s->batch_idx = -1;
	s->t_admit = now_seconds();
	if (j->req) {
		char *text = render(b, j->req, e);
		int add_bos = 1;
		if (!text)
			goto fail;
		{
			/* a template that writes the BOS itself gets no second one */
			llama_token bos = llama_vocab_bos(b->vocab);
			const char *bt = bos != LLAMA_TOKEN_NULL ? llama_vocab_get_text(b->vocab, bos) : NULL;
			if (!j->req->raw && bt && *bt && !strncmp(text, bt, strlen(bt)))
				add_bos = 0;
		}
		s->prompt = tokenize(b, text, add_bos, !j->req->raw, &s->n_prompt, e);
		free(text);
		if (!s->prompt)
			goto fail;
	} else {
		s->prompt = malloc(((size_t)j->n_tokens + 1) * sizeof(llama_token));
		if (!s->prompt) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto fail;
		}
		memcpy(s->prompt, j->tokens, (size_t)j->n_tokens * sizeof(llama_token));
		s->n_prompt = j->n_tokens;
	}
	if (s->n_prompt == 0) {
		llama_token bos = llama_vocab_bos(b->vocab);
		s->prompt[0] = bos != LLAMA_TOKEN_NULL ? bos : 0;
		s->n_prompt = 1;
	}
	if (s->n_prompt >= seq_len) {
		err_set(e, MOAT_ELIMIT, "the prompt of %d tokens does not fit the context of %d tokens (raise --ctx)",
			s->n_prompt, seq_len);
		goto fail;
	}
	s->max = j->max_tokens >= 0 ? j->max_tokens : seq_len;
	if (s->max > seq_len - s->n_prompt)
		s->max = seq_len - s->n_prompt;
	s->smpl = make_sampler(b, j, &s->fast, &s->grammar, e);
	if (!s->smpl && !s->fast)
		goto fail;
	llm_stream_init(&s->st, j->req);
	return 0;
fail:
	free(s->prompt);
	s->prompt = NULL;
	j->out->text = NULL;
	llm_set_finish(j->out->finish, sizeof(j->out->finish), "error");
	memset(s, 0, sizeof(*s));
	return -1;
}

/* Runs jobs through P sequences of seq_len tokens. */
static void engine(struct emb *b, struct job *jobs, size_t n, int P, int seq_len,
		   struct engine_stats *stats)
{
	struct slot *slots = calloc((size_t)P, sizeof(*slots));
	llama_token_data *cand = malloc((size_t)b->n_vocab * sizeof(*cand));
	struct llama_batch batch;
	int n_batch;
	size_t next = 0;
	llama_memory_t mem;
	struct moat_err e0 = MOAT_ERR_INIT;

	if (stats)
		memset(stats, 0, sizeof(*stats));
	if (!slots || !cand || gen_context(b, P, seq_len, &e0) < 0) {
		free(cand);
		if (!slots || !cand)
			err_set(&e0, MOAT_ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			*jobs[i].err = e0;
			llm_set_finish(jobs[i].out->finish, sizeof(jobs[i].out->finish), "error");
		}
		free(slots);
		return;
	}
	mem = llama_get_memory(b->ctx);
	llama_memory_clear(mem, true);
	n_batch = (int)llama_n_batch(b->ctx);
	batch = llama_batch_init(n_batch, 0, 1);
	if (stats)
		stats->t_start = now_seconds();

	for (;;) {
		int active = 0, rc;
		/* admit */
		for (int k = 0; k < P && next < n; k++) {
			if (slots[k].job)
				continue;
			while (next < n && slot_start(b, &slots[k], &jobs[next], seq_len) < 0)
				next++;
			if (next < n)
				next++;
		}
		/* drop cancelled ones, build the batch: generating tokens first */
		batch.n_tokens = 0;
		for (int k = 0; k < P; k++) {
			struct slot *s = &slots[k];
			if (!s->job)
				continue;
			if (cancelled(s->job)) {
				slot_finish(s, "cancelled", MOAT_EINTERRUPTED, "cancelled");
				llama_memory_seq_rm(mem, k, -1, -1);
				continue;
			}
			if (past_deadline(s)) {
				llama_memory_seq_rm(mem, k, -1, -1);
				continue;
			}
			active++;
			s->batch_idx = -1;
			if (s->has_pending && batch.n_tokens < n_batch) {
				int i = batch.n_tokens++;
				batch.token[i] = s->pending;
				batch.pos[i] = s->pos;
				batch.n_seq_id[i] = 1;
				batch.seq_id[i][0] = k;
				batch.logits[i] = 1;
				s->batch_idx = i;
				s->has_pending = 0;
				s->pos++;
			}
		}
		if (!active) {
			if (next >= n)
				break;
			continue;
		}
		for (int k = 0; k < P; k++) {
			struct slot *s = &slots[k];
			if (!s->job || s->n_fed >= s->n_prompt)
				continue;
			while (s->n_fed < s->n_prompt && batch.n_tokens < n_batch) {
				int i = batch.n_tokens++;
				batch.token[i] = s->prompt[s->n_fed];
				batch.pos[i] = s->pos++;
				batch.n_seq_id[i] = 1;
				batch.seq_id[i][0] = k;
				batch.logits[i] = 0;
				s->n_fed++;
				if (s->n_fed == s->n_prompt) {
					batch.logits[i] = 1;
					s->batch_idx = i;
				}
			}
		}
		if (batch.n_tokens == 0)
			break;  /* cannot happen: an active slot always has work */
		{
			/* the abort callback stops a long decode when every request is cancelled */
			int all_cancel = 1;
			for (int k = 0; k < P; k++)
				if (slots[k].job && !cancelled(slots[k].job))
					all_cancel = 0;
			atomic_store(&b->abort_all, all_cancel);
		}
		rc = llama_decode(b->ctx, batch);
		atomic_store(&b->abort_all, 0);
		if (rc != 0) {
			char why[512];
			const char *msg;
			int code = MOAT_EIO;
			if (rc == 2) {
				msg = "cancelled";
				code = MOAT_EINTERRUPTED;
			} else if (rc == 1) {
				msg = "the context is full (raise --ctx or lower --parallel)";
				code = MOAT_ELIMIT;
			} else {
				llm_llama_last_error(why, sizeof(why));
				msg = why;
			}
			for (int k = 0; k < P; k++)
				if (slots[k].job) {
					slot_finish(&slots[k], code == MOAT_EINTERRUPTED ? "cancelled" : "error", code, msg);
					llama_memory_seq_rm(mem, k, -1, -1);
				}
			if (code != MOAT_EINTERRUPTED) {
				/* fail what is left too */
				for (; next < n; next++) {
					err_set(jobs[next].err, code, "%s", msg);
					llm_set_finish(jobs[next].out->finish, sizeof(jobs[next].out->finish), "error");
				}
			}
			continue;
		}
		if (stats) {
			int left = 0;
			for (int k = 0; k < P; k++)
				if (slots[k].job && slots[k].n_fed < slots[k].n_prompt)
					left = 1;
			if (stats->t_prefill_done > 0)
				stats->tokens_decoded_after_prefill += batch.n_tokens;
			else if (!left)
				stats->t_prefill_done = now_seconds();
		}
		/* sample */
		for (int k = 0; k < P; k++) {
			struct slot *s = &slots[k];
			struct job *j = s->job;
			llama_token tok;
			char piece[256];
			int32_t pl;
			const char *finish = NULL;
			if (!j || s->batch_idx < 0)
				continue;
			tok = s->fast ? argmax(b, s->batch_idx, j->ignore_eos)
				      : sample(b, s->smpl, s->grammar, &s->u8, cand, s->batch_idx);
			if (s->t_first == 0)
				s->t_first = now_seconds();
			if (tok == LLAMA_TOKEN_NULL || (llama_vocab_is_eog(b->vocab, tok) && !j->ignore_eos)) {
				finish = "stop";
			} else if (s->n_gen >= s->max) {
				finish = "length";  /* max_tokens 0: not one token */
			} else {
				s->n_gen++;
				s->logprob += token_logprob(b, s->batch_idx, tok);
				pl = llama_token_to_piece(b->vocab, tok, piece, sizeof(piece), 0, false);
				if (j->req && pl > 0) {
					int a = llm_stream_add(&s->st, piece, (size_t)pl);
					if (a < 0 && s->st.failed) {
						slot_finish(s, "error", s->st.err.code, s->st.err.msg);
						llama_memory_seq_rm(mem, k, -1, -1);
						continue;
					}
					if (a < 0) {
						slot_finish(s, "cancelled", MOAT_EINTERRUPTED, "cancelled");
						llama_memory_seq_rm(mem, k, -1, -1);
						continue;
					}
					if (a > 0)
						finish = "stop";
				}
				if (!finish && s->n_gen >= s->max)
					finish = "length";
			}
			if (finish) {
				slot_finish(s, finish, 0, NULL);
				llama_memory_seq_rm(mem, k, -1, -1);
			} else {
				s->pending = tok;
				s->has_pending = 1;
			}
		}
	}
	if (stats)
		stats->t_end = now_seconds();
	llama_batch_free(batch);
	free(slots);
	free(cand);
}

static int emb_generate(struct llm *m, const struct llm_request *r, size_t n,
			struct llm_result *out, struct moat_err *errs)
{
	struct emb *b = m->be;
	struct job *jobs = calloc(n, sizeof(*jobs));
	int P = m->parallel, seq_len = b->n_ctx_seq, failed = 0;
	if (!jobs) {
		for (size_t i = 0; i < n; i++)
			err_set(&errs[i], MOAT_ENOMEM, "out of memory");
		return (int)n;
	}
	for (size_t i = 0; i < n; i++) {
		jobs[i].req = &r[i];
		jobs[i].max_tokens = llm_max_tokens(&r[i]);
		jobs[i].budget = llm_budget_from(r[i].started, m->cfg.deadline_ms);
		jobs[i].greedy = r[i].opt.temperature <= 0;
		jobs[i].ignore_eos = r[i].ignore_eos;
		jobs[i].seed = (uint32_t)r[i].opt.seed;
		jobs[i].out = &out[i];
		jobs[i].err = &errs[i];
		if (r[i].opt.n_ctx > seq_len)
			seq_len = r[i].opt.n_ctx;
	}
	if ((size_t)P > n)
		P = (int)n;
	/* keep a bigger context once made: remaking it costs more than it saves */
	if (b->ctx && b->ctx_seqs >= P && b->ctx_seq_len >= seq_len) {
		P = b->ctx_seqs;
		seq_len = b->ctx_seq_len;
	}
	engine(b, jobs, n, P, seq_len, NULL);
	for (size_t i = 0; i < n; i++)
		if (errs[i].code)
			failed++;
	free(jobs);
	return failed;
}

static int emb_bench(struct llm *m, const struct llm_bench_opts *o, struct llm_bench_result *res,
		     struct moat_err *e)
{
	struct emb *b = m->be;
	int P = o->parallel, seq_len = o->prompt_tokens + o->gen_tokens + 2;
	struct job *jobs = calloc((size_t)P, sizeof(*jobs));
	struct llm_result *outs = calloc((size_t)P, sizeof(*outs));
	struct moat_err *errs = calloc((size_t)P, sizeof(*errs));
	llama_token *toks = malloc((size_t)P * (size_t)o->prompt_tokens * sizeof(llama_token));
	double pp_s = 0, tg_s = 0, tg_tok = 0;
	unsigned rnd = 12345;
	int rc = 0;

	if (!jobs || !outs || !errs || !toks) {
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if ((size_t)P > llama_max_parallel_sequences()) {
		rc = err_set(e, MOAT_EUSAGE, "at most %zu sequences at once", llama_max_parallel_sequences());
		goto out;
	}
	for (size_t i = 0; i < (size_t)P * (size_t)o->prompt_tokens; i++) {
		rnd = rnd * 1103515245u + 12345u;
		toks[i] = (llama_token)((rnd >> 8) % (unsigned)b->n_vocab);
	}
	for (int rep = 0; rep <= o->repeat; rep++) {  /* rep 0 warms up */
		struct engine_stats st;
		for (int i = 0; i < P; i++) {
			memset(&jobs[i], 0, sizeof(jobs[i]));
			jobs[i].tokens = toks + (size_t)i * (size_t)o->prompt_tokens;
			jobs[i].n_tokens = o->prompt_tokens;
			jobs[i].max_tokens = rep == 0 ? 2 : o->gen_tokens + 1;
			jobs[i].greedy = 1;
			jobs[i].ignore_eos = 1;
			jobs[i].out = &outs[i];
			jobs[i].err = &errs[i];
			err_clear(&errs[i]);
		}
		engine(b, jobs, (size_t)P, P, seq_len, &st);
		for (int i = 0; i < P; i++) {
			if (errs[i].code && rc == 0) {
				if (e)
					*e = errs[i];
				rc = -1;
			}
			llm_result_release(&outs[i]);
		}
		if (rc < 0)
			goto out;
		if (rep > 0) {
			pp_s += st.t_prefill_done - st.t_start;
			tg_s += st.t_end - st.t_prefill_done;
			tg_tok += (double)st.tokens_decoded_after_prefill;
		}
	}
	res->pp_tps = pp_s > 0 ? (double)P * o->prompt_tokens * o->repeat / pp_s : 0;
	res->tg_tps = tg_s > 0 ? tg_tok / tg_s : 0;
	res->tg_tps_seq = res->tg_tps / P;
	res->wall_s = pp_s + tg_s;
	res->measured_by_server = 0;
out:
	free(jobs), free(outs), free(errs), free(toks);
	return rc;
}

/* ---- embeddings ---- */

static int embed_context(struct llm *m, struct emb *b, struct moat_err *e)
{
	struct llama_context_params cp;
	char arch[64] = "", key[128], val[32];
	int n_ctx = b->n_ctx_seq > 512 ? b->n_ctx_seq : 512;
	if (b->ectx)
		return 0;
	cp = llama_context_default_params();
	cp.embeddings = true;
	cp.n_ctx = (uint32_t)n_ctx;
	cp.n_batch = cp.n_ubatch = (uint32_t)n_ctx;
	cp.n_seq_max = EMBED_SEQ_MAX;
	cp.kv_unified = true;
	cp.n_threads = cp.n_threads_batch = b->threads;
	cp.no_perf = true;
	/* the model's own pooling when it has one, else the mean (as Ollama and
	 * llama-server --pooling mean do for generative models) */
	llama_model_meta_val_str(b->model, "general.architecture", arch, sizeof(arch));
	/* arch has at most 63 bytes: the key always fits */
	cp.pooling_type = xsnprintf(key, sizeof(key), "%s.pooling_type", arch) >= 0 &&
					  llama_model_meta_val_str(b->model, key, val, sizeof(val)) > 0
				  ? LLAMA_POOLING_TYPE_UNSPECIFIED
				  : LLAMA_POOLING_TYPE_MEAN;
	b->ectx = llama_init_from_model(b->model, cp);
	if (!b->ectx) {
		char why[512];
		llm_llama_last_error(why, sizeof(why));
		return err_set(e, MOAT_ENOMEM, "cannot make an embeddings context: %s", why);
	}
	if (llama_pooling_type(b->ectx) == LLAMA_POOLING_TYPE_NONE ||
	    llama_pooling_type(b->ectx) == LLAMA_POOLING_TYPE_RANK) {
		llama_free(b->ectx);
		b->ectx = NULL;
		return err_set(e, MOAT_EUNSUPPORTED, "'%s' gives no pooled embeddings", m->uri_text);
	}
	return 0;
}

static int emb_embed(struct llm *m, const char *const *texts, size_t n, struct llm_embedding *out,
		     struct moat_err *e)
{
	struct emb *b = m->be;
	int dim, n_batch, rc = 0, enc;
	struct llama_batch batch;
	llama_token **tok = NULL;
	int *ntok = NULL;
	long total = 0;

	if (embed_context(m, b, e) < 0)
		return -1;
	dim = llama_model_n_embd_out(b->model);
	if (dim <= 0)
		dim = llama_model_n_embd(b->model);
	n_batch = (int)llama_n_batch(b->ectx);
	enc = llama_model_has_encoder(b->model) && !llama_model_has_decoder(b->model);
	tok = calloc(n, sizeof(*tok));
	ntok = calloc(n, sizeof(*ntok));
	out->data = malloc(n * (size_t)dim * sizeof(float));
	if (!tok || !ntok || !out->data) {
		free(tok), free(ntok);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		tok[i] = tokenize(b, texts[i], 1, 0, &ntok[i], e);
		if (!tok[i])
			rc = -1;
		else if (ntok[i] > n_batch)
			rc = err_set(e, MOAT_ELIMIT, "text %zu has %d tokens, more than the context of %d "
				     "(raise --ctx or split it)", i + 1, ntok[i], n_batch);
		else
			total += ntok[i];
	}
	batch = llama_batch_init(n_batch, 0, 1);
	for (size_t i = 0; i < n && rc == 0;) {
		size_t first = i;
		int seqs = 0;
		batch.n_tokens = 0;
		while (i < n && seqs < EMBED_SEQ_MAX && batch.n_tokens + ntok[i] <= n_batch) {
			for (int t = 0; t < ntok[i]; t++) {
				int k = batch.n_tokens++;
				batch.token[k] = tok[i][t];
				batch.pos[k] = t;
				batch.n_seq_id[k] = 1;
				batch.seq_id[k][0] = seqs;
				batch.logits[k] = 1;
			}
			seqs++;
			i++;
		}
		if (llama_get_memory(b->ectx))
			llama_memory_clear(llama_get_memory(b->ectx), true);
		if ((enc ? llama_encode(b->ectx, batch) : llama_decode(b->ectx, batch)) != 0) {
			char why[512];
			llm_llama_last_error(why, sizeof(why));
			rc = err_set(e, MOAT_EIO, "cannot embed: %s", why);
			break;
		}
		for (int s = 0; s < seqs; s++) {
			const float *v = llama_get_embeddings_seq(b->ectx, s);
			float *dst = out->data + (first + (size_t)s) * (size_t)dim;
			double sum = 0;
			if (!v) {
				rc = err_set(e, MOAT_EIO, "llama.cpp gave no embedding for text %zu", first + (size_t)s + 1);
				break;
			}
			for (int k = 0; k < dim; k++)
				sum += (double)v[k] * v[k];
			sum = sum > 0 ? 1.0 / sqrt(sum) : 1.0;
			for (int k = 0; k < dim; k++)
				dst[k] = (float)(v[k] * sum);
		}
	}
	llama_batch_free(batch);
	for (size_t i = 0; i < n; i++)
		free(tok[i]);
	free(tok), free(ntok);
	if (rc == 0) {
		out->n = n;
		out->dim = (size_t)dim;
		out->prompt_tokens = (int)total;
	}
	return rc;
}

static long emb_count(struct llm *m, const char *text, struct moat_err *e)
{
	const struct emb *b = m->be;
	return llm_llama_count(b->vocab, text, e);
}

struct emb_pieces {
	const struct llama_vocab *vocab;
	const llama_token *tok;
	char small[256];
	char *big;
	size_t big_size;
};

static const char *emb_piece(void *ud, size_t i, size_t *len, struct moat_err *e)
{
	struct emb_pieces *p = ud;
	int32_t n = llama_token_to_piece(p->vocab, p->tok[i], p->small, (int32_t)sizeof(p->small), 0, false);
	if (n >= 0) {
		*len = (size_t)n;
		return p->small;
	}
	if ((size_t)-n > p->big_size) {
		char *b = realloc(p->big, (size_t)-n);
		if (!b) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			return NULL;
		}
		p->big = b;
		p->big_size = (size_t)-n;
	}
	n = llama_token_to_piece(p->vocab, p->tok[i], p->big, (int32_t)p->big_size, 0, false);
	if (n < 0) {
		err_set(e, MOAT_EUNSUPPORTED, "llama.cpp cannot spell token %d", p->tok[i]);
		return NULL;
	}
	*len = (size_t)n;
	return p->big;
}

/* One llama_tokenize of the whole text, then where each token ends from the
 * pieces the vocabulary spells them with. */
static long emb_token_ends(struct llm *m, const char *text, size_t len, uint32_t **ends,
			   struct moat_err *e)
{
	const struct emb *b = m->be;
	struct emb_pieces p = { b->vocab, NULL, "", NULL, 0 };
	int32_t cap = (int32_t)len + 2, n;  /* at most a token a byte, and SentencePiece's space */
	llama_token *tok = malloc((size_t)cap * sizeof(*tok));
	long rc;
	if (!tok)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	n = llama_tokenize(b->vocab, text, (int32_t)len, tok, cap, false, false);
	if (n < 0 && n != INT32_MIN) {  /* more than cap after all: the exact count is -n */
		llama_token *t2 = realloc(tok, (size_t)-n * sizeof(*tok));
		if (!t2) {
			free(tok);
			return err_set(e, MOAT_ENOMEM, "out of memory");
		}
		tok = t2;
		cap = -n;
		n = llama_tokenize(b->vocab, text, (int32_t)len, tok, cap, false, false);
	}
	if (n < 0) {
		free(tok);
		return err_set(e, MOAT_ELIMIT, "text too long to tokenize");
	}
	*ends = n ? malloc((size_t)n * sizeof(**ends)) : NULL;
	if (n && !*ends) {
		free(tok);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	p.tok = tok;
	rc = llm_ends_from_pieces(text, len, (size_t)n, emb_piece, &p, *ends, e) < 0 ? -1 : (long)n;
	free(p.big);
	free(tok);
	return rc;
}

#endif /* MOAT_WITH_LLAMA */
