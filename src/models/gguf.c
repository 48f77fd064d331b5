/*
 * gguf.c - GGUF header reader and validator.  It reads through a window
 * over a source (a file read with pread, or a buffer), checking every length
 * and count against the bytes that exist before using it, so a damaged or
 * hostile file can only produce an error, never a large allocation or a read
 * out of bounds.  The checks follow ggml's reference reader (gguf.cpp) and
 * llama.cpp's loader bounds check; see ../shared/reference/gguf.md.  Not for
 * tensor data, which only llama.cpp reads.
 */
#define _GNU_SOURCE
#include "gguf.h"
#include "core/fmt.h"
#include "core/jsonu.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/banned.h"

#define GGUF_MAX_KEEP_STRING (16u << 20)  /* strings we copy out (chat template...) */
#define GGUF_MAX_KEY 65535u
#define GGUF_MAX_TENSOR_NAME 63u          /* GGML_MAX_NAME - 1 */
#define GGUF_MAX_DIMS 4u
#define GGUF_WINDOW (1u << 20)

struct type_traits { const char *name; uint32_t block; uint32_t bytes; };

/* ggml tensor types: block size in elements and bytes per block (0: removed). */
static const struct type_traits ggml_types[] = {
	{ "F32", 1, 4 }, { "F16", 1, 2 }, { "Q4_0", 32, 18 }, { "Q4_1", 32, 20 },
	{ NULL, 0, 0 }, { NULL, 0, 0 }, { "Q5_0", 32, 22 }, { "Q5_1", 32, 24 },
	{ "Q8_0", 32, 34 }, { "Q8_1", 32, 36 }, { "Q2_K", 256, 84 }, { "Q3_K", 256, 110 },
	{ "Q4_K", 256, 144 }, { "Q5_K", 256, 176 }, { "Q6_K", 256, 210 }, { "Q8_K", 256, 292 },
	{ "IQ2_XXS", 256, 66 }, { "IQ2_XS", 256, 74 }, { "IQ3_XXS", 256, 98 },
	{ "IQ1_S", 256, 50 }, { "IQ4_NL", 32, 18 }, { "IQ3_S", 256, 110 }, { "IQ2_S", 256, 82 },
	{ "IQ4_XS", 256, 136 }, { "I8", 1, 1 }, { "I16", 1, 2 }, { "I32", 1, 4 },
	{ "I64", 1, 8 }, { "F64", 1, 8 }, { "IQ1_M", 256, 56 }, { "BF16", 1, 2 },
	{ NULL, 0, 0 }, { NULL, 0, 0 }, { NULL, 0, 0 }, { "TQ1_0", 256, 54 },
	{ "TQ2_0", 256, 66 }, { NULL, 0, 0 }, { NULL, 0, 0 }, { NULL, 0, 0 },
	{ "MXFP4", 32, 17 }, { "NVFP4", 64, 36 }, { "Q1_0", 128, 18 }, { "Q2_0", 64, 18 },
};
#define N_GGML_TYPES (sizeof(ggml_types) / sizeof(ggml_types[0]))

const char *gguf_tensor_type_name(uint32_t type)
{
	return type < N_GGML_TYPES ? ggml_types[type].name : NULL;
}

const char *gguf_ftype_name(int64_t ft)
{
	static const char *names[] = {
		[0] = "F32", [1] = "F16", [2] = "Q4_0", [3] = "Q4_1", [7] = "Q8_0", [8] = "Q5_0",
		[9] = "Q5_1", [10] = "Q2_K", [11] = "Q3_K_S", [12] = "Q3_K_M", [13] = "Q3_K_L",
		[14] = "Q4_K_S", [15] = "Q4_K_M", [16] = "Q5_K_S", [17] = "Q5_K_M", [18] = "Q6_K",
		[19] = "IQ2_XXS", [20] = "IQ2_XS", [21] = "Q2_K_S", [22] = "IQ3_XS",
		[23] = "IQ3_XXS", [24] = "IQ1_S", [25] = "IQ4_NL", [26] = "IQ3_S", [27] = "IQ3_M",
		[28] = "IQ2_S", [29] = "IQ2_M", [30] = "IQ4_XS", [31] = "IQ1_M", [32] = "BF16",
		[36] = "TQ1_0", [37] = "TQ2_0", [38] = "MXFP4_MOE", [39] = "NVFP4", [40] = "Q1_0",
		[41] = "Q2_0",
	};
	if (ft < 0 || ft >= (int64_t)(sizeof(names) / sizeof(names[0])))
		return NULL;
	return names[ft];
}

int gguf_format_params(uint64_t b, char *out, size_t size)
{
	/* Ollama's format.HumanNumber */
	if (b >= 1000000000ull) {
		double v = (double)b / 1e9;
		return xsnprintf(out, size, v == (double)(uint64_t)v ? "%.0fB" : "%.1fB", v);
	}
	if (b >= 1000000ull) {
		double v = (double)b / 1e6;
		return xsnprintf(out, size, v == (double)(uint64_t)v ? "%.0fM" : "%.2fM", v);
	}
	if (b >= 1000ull)
		return xsnprintf(out, size, "%.0fK", (double)b / 1e3);
	return xsnprintf(out, size, "%" PRIu64, b);
}

/* ---- the reading window ---- */

struct rd {
	const unsigned char *mem;  /* memory source, or NULL */
	int *fds;                  /* file source: the parts, in order */
	const char *const *paths;
	uint64_t *starts;          /* offset of each part in the whole */
	size_t nparts;
	const char *path;          /* for messages: the first part */
	uint64_t avail;            /* bytes readable from the source */
	uint64_t file_size;
	uint64_t pos;
	unsigned char *win;
	size_t win_cap, win_len;
	uint64_t win_off;
	struct moat_err *e;
};

static int rd_fail(struct rd *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int rd_fail(struct rd *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_setv(r->e, code, fmt, ap);
	va_end(ap);
	return -1;
}

static int rd_truncated(struct rd *r, const char *what)
{
	if (r->pos <= r->file_size && r->avail < r->file_size)
		return rd_fail(r, MOAT_ELIMIT, "header is larger than the %" PRIu64
			       " bytes given (reading %s at offset %" PRIu64 ")",
			       r->avail, what, r->pos);
	return rd_fail(r, MOAT_ECORRUPT, "truncated: file ends at %" PRIu64
		       " bytes, inside %s at offset %" PRIu64, r->file_size, what, r->pos);
}

/* pread over the parts of a (possibly split) file. */
static ssize_t rd_pread(struct rd *r, void *buf, size_t n, uint64_t off)
{
	size_t i = r->nparts;
	while (i > 0 && r->starts[i - 1] > off)
		i--;
	if (i == 0)
		return 0;
	i--;
	for (;;) {
		uint64_t end = i + 1 < r->nparts ? r->starts[i + 1] : r->avail;
		ssize_t k;
		if (off >= end) {
			if (i + 1 >= r->nparts)
				return 0;
			i++;
			continue;
		}
		if (n > end - off)
			n = (size_t)(end - off);
		k = pread(r->fds[i], buf, n, (off_t)(off - r->starts[i]));
		if (k < 0 && errno == EINTR)
			continue;
		return k;
	}
}

/* Makes [pos, pos+n) available; returns a pointer to it or NULL (error set). */
static const unsigned char *rd_need(struct rd *r, size_t n, const char *what)
{
	if (n > r->avail || r->pos > r->avail - n) {
		rd_truncated(r, what);
		return NULL;
	}
	if (r->mem)
		return r->mem + r->pos;
	if (r->pos >= r->win_off && r->pos + n <= r->win_off + r->win_len)
		return r->win + (r->pos - r->win_off);
	if (n > r->win_cap) {
		unsigned char *w = realloc(r->win, n);
		if (!w) {
			rd_fail(r, MOAT_ENOMEM, "out of memory reading %s", what);
			return NULL;
		}
		r->win = w;
		r->win_cap = n;
	}
	{
		size_t want = r->win_cap;
		size_t got = 0;
		if (want > r->avail - r->pos)
			want = (size_t)(r->avail - r->pos);
		while (got < want) {
			ssize_t k = rd_pread(r, r->win + got, want - got, r->pos + got);
			if (k < 0) {
				rd_fail(r, MOAT_EIO, "cannot read '%s': %s", r->path, strerror(errno));
				return NULL;
			}
			if (k == 0)
				break;
			got += (size_t)k;
		}
		r->win_off = r->pos;
		r->win_len = got;
		if (got < n) {
			r->avail = r->pos + got;  /* the file shrank under us */
			r->file_size = r->avail;
			rd_truncated(r, what);
			return NULL;
		}
	}
	return r->win + (r->pos - r->win_off);
}

static int rd_u32(struct rd *r, uint32_t *v, const char *what)
{
	const unsigned char *p = rd_need(r, 4, what);
	if (!p)
		return -1;
	*v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	r->pos += 4;
	return 0;
}

static int rd_u64(struct rd *r, uint64_t *v, const char *what)
{
	const unsigned char *p = rd_need(r, 8, what);
	if (!p)
		return -1;
	*v = 0;
	for (int i = 7; i >= 0; i--)
		*v = *v << 8 | p[i];
	r->pos += 8;
	return 0;
}

static int rd_skip(struct rd *r, uint64_t n, const char *what)
{
	if (n > r->file_size || r->pos > r->file_size - n) {
		r->pos = r->file_size;
		return rd_truncated(r, what);
	}
	if (n > r->avail || r->pos > r->avail - n)
		return rd_truncated(r, what);
	r->pos += n;
	return 0;
}

/* Reads a GGUF string; when keep, *out gets a NUL-terminated copy (capped). */
static int rd_string(struct rd *r, uint64_t max, char **out, uint64_t *len_out, const char *what)
{
	uint64_t len;
	if (rd_u64(r, &len, what) < 0)
		return -1;
	if (len_out)
		*len_out = len;
	if (len > r->file_size - r->pos)
		return rd_fail(r, MOAT_ECORRUPT, "%s at offset %" PRIu64 " claims %" PRIu64
			       " bytes, more than the file holds", what, r->pos - 8, len);
	if (max && len > max)
		return rd_fail(r, MOAT_ECORRUPT, "%s at offset %" PRIu64 " is %" PRIu64
			       " bytes long (at most %" PRIu64 ")", what, r->pos - 8, len, max);
	if (!out)
		return rd_skip(r, len, what);
	if (len > GGUF_MAX_KEEP_STRING) {
		*out = NULL;
		return rd_skip(r, len, what);
	}
	const unsigned char *p = rd_need(r, (size_t)len, what);
	if (!p)
		return -1;
	*out = malloc((size_t)len + 1);
	if (!*out)
		return rd_fail(r, MOAT_ENOMEM, "out of memory");
	memcpy(*out, p, (size_t)len);
	(*out)[len] = '\0';
	r->pos += len;
	return 0;
}

static const uint8_t scalar_size[GGUF_T__COUNT] = {
	[GGUF_T_UINT8] = 1, [GGUF_T_INT8] = 1, [GGUF_T_UINT16] = 2, [GGUF_T_INT16] = 2,
	[GGUF_T_UINT32] = 4, [GGUF_T_INT32] = 4, [GGUF_T_FLOAT32] = 4, [GGUF_T_BOOL] = 1,
	[GGUF_T_UINT64] = 8, [GGUF_T_INT64] = 8, [GGUF_T_FLOAT64] = 8,
};

static int is_int_type(uint32_t t)
{
	return t == GGUF_T_UINT8 || t == GGUF_T_INT8 || t == GGUF_T_UINT16 || t == GGUF_T_INT16 ||
	       t == GGUF_T_UINT32 || t == GGUF_T_INT32 || t == GGUF_T_UINT64 || t == GGUF_T_INT64;
}

/* Reads an integer scalar of type t as a signed 64-bit value. */
static int rd_int(struct rd *r, uint32_t t, int64_t *v, const char *what)
{
	const unsigned char *p = rd_need(r, scalar_size[t], what);
	uint64_t u = 0;
	if (!p)
		return -1;
	for (int i = scalar_size[t] - 1; i >= 0; i--)
		u = u << 8 | p[i];
	r->pos += scalar_size[t];
	switch (t) {
	case GGUF_T_INT8: *v = (int8_t)u; break;
	case GGUF_T_INT16: *v = (int16_t)u; break;
	case GGUF_T_INT32: *v = (int32_t)u; break;
	default: *v = (int64_t)u; break;
	}
	return 0;
}

/* ---- the parse ---- */

struct suffix_val { char prefix[64]; int64_t v; };

struct parse_state {
	struct suffix_val ctx[8], emb[8], pool[8];
	int n_ctx, n_emb, n_pool;
	int64_t bos, eos;
	uint64_t tokens_pos, tokens_count;  /* tokenizer.ggml.tokens array */
	int have_tokens;
	uint64_t *hashes;                   /* keys, then tensor names */
	size_t n_hashes, cap_hashes;
};

static uint64_t fnv64(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static int push_hash(struct parse_state *ps, uint64_t h)
{
	if (ps->n_hashes == ps->cap_hashes) {
		size_t nc = ps->cap_hashes ? ps->cap_hashes * 2 : 64;
		uint64_t *nh = realloc(ps->hashes, nc * sizeof(*nh));
		if (!nh)
			return -1;
		ps->hashes = nh;
		ps->cap_hashes = nc;
	}
	ps->hashes[ps->n_hashes++] = h;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int has_dup(uint64_t *v, size_t n)
{
	if (n < 2)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 1; i < n; i++)
		if (v[i] == v[i - 1])
			return 1;
	return 0;
}

static void remember_suffix(struct suffix_val *arr, int *n, const char *key, const char *suffix,
			    int64_t v)
{
	size_t kl = strlen(key), sl = strlen(suffix);
	if (*n >= 8 || kl <= sl || strcmp(key + kl - sl, suffix) || kl - sl >= 64)
		return;
	memcpy(arr[*n].prefix, key, kl - sl);
	arr[*n].prefix[kl - sl] = '\0';
	arr[*n].v = v;
	(*n)++;
}

static int64_t pick_suffix(const struct suffix_val *arr, int n, const char *arch)
{
	for (int i = 0; i < n; i++)
		if (arch && !strcmp(arr[i].prefix, arch))
			return arr[i].v;
	return -1;
}

static int read_kv(struct rd *r, struct gguf_info *g, struct parse_state *ps, uint64_t idx)
{
	char *key = NULL;
	uint64_t klen;
	uint32_t type;
	char what[96];
	int rc = -1;
	uint64_t kpos = r->pos;

	if (xsnprintf(what, sizeof(what), "key of metadata entry %" PRIu64, idx) < 0)
		return rd_fail(r, MOAT_ELIMIT, "metadata entry %" PRIu64 ": name too long", idx);
	if (rd_string(r, GGUF_MAX_KEY, &key, &klen, what) < 0)
		return -1;
	if (klen == 0) {
		rd_fail(r, MOAT_ECORRUPT, "metadata entry %" PRIu64 " at offset %" PRIu64
			" has an empty key", idx, kpos);
		goto out;
	}
	if (push_hash(ps, fnv64(key, (size_t)klen)) < 0) {
		rd_fail(r, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (xsnprintf(what, sizeof(what), "metadata '%.60s'", key) < 0) {
		rd_fail(r, MOAT_ELIMIT, "metadata entry %" PRIu64 ": name too long", idx);
		goto out;
	}
	if (rd_u32(r, &type, what) < 0)
		goto out;
	if (type >= GGUF_T__COUNT) {
		rd_fail(r, MOAT_ECORRUPT, "metadata '%.60s' has invalid type %u", key, type);
		goto out;
	}
	if (type == GGUF_T_STRING) {
		char **dst = NULL;
		if (!strcmp(key, "general.architecture"))
			dst = &g->architecture;
		else if (!strcmp(key, "general.name"))
			dst = &g->name;
		else if (!strcmp(key, "tokenizer.chat_template"))
			dst = &g->chat_template;
		else if (!strcmp(key, "general.license"))
			dst = &g->license;
		if (dst && *dst) {  /* a duplicate: caught below; keep the first */
			rc = rd_string(r, 0, NULL, NULL, what);
			goto out;
		}
		rc = rd_string(r, 0, dst, NULL, what);
		goto out;
	}
	if (type == GGUF_T_ARRAY) {
		uint32_t et;
		uint64_t count;
		if (rd_u32(r, &et, what) < 0 || rd_u64(r, &count, what) < 0)
			goto out;
		if (et >= GGUF_T__COUNT || et == GGUF_T_ARRAY) {
			rd_fail(r, MOAT_ECORRUPT, "metadata '%.60s' is an array of invalid type %u",
				key, et);
			goto out;
		}
		if (et == GGUF_T_STRING) {
			if (count > (r->file_size - r->pos) / 8) {
				rd_fail(r, MOAT_ECORRUPT, "metadata '%.60s' claims %" PRIu64
					" strings, more than the file holds", key, count);
				goto out;
			}
			if (!strcmp(key, "tokenizer.ggml.tokens")) {
				ps->tokens_pos = r->pos;
				ps->tokens_count = count;
				ps->have_tokens = 1;
			}
			for (uint64_t i = 0; i < count; i++)
				if (rd_string(r, 0, NULL, NULL, what) < 0)
					goto out;
			rc = 0;
			goto out;
		}
		if (count > (r->file_size - r->pos) / scalar_size[et]) {
			rd_fail(r, MOAT_ECORRUPT, "metadata '%.60s' claims %" PRIu64
				" elements, more than the file holds", key, count);
			goto out;
		}
		rc = rd_skip(r, count * scalar_size[et], what);
		goto out;
	}
	if (is_int_type(type)) {
		int64_t v;
		if (rd_int(r, type, &v, what) < 0)
			goto out;
		if (!strcmp(key, "general.alignment")) {
			if (type != GGUF_T_UINT32 || v == 0 || (v & (v - 1))) {
				rd_fail(r, MOAT_ECORRUPT, "general.alignment must be a power of two "
					"stored as uint32 (found %" PRId64 ", type %u)", v, type);
				goto out;
			}
			g->alignment = (uint32_t)v;
		} else if (!strcmp(key, "general.file_type")) {
			g->file_type = v;
		} else if (!strcmp(key, "tokenizer.ggml.bos_token_id")) {
			ps->bos = v;
		} else if (!strcmp(key, "tokenizer.ggml.eos_token_id")) {
			ps->eos = v;
		} else {
			remember_suffix(ps->ctx, &ps->n_ctx, key, ".context_length", v);
			remember_suffix(ps->emb, &ps->n_emb, key, ".embedding_length", v);
			remember_suffix(ps->pool, &ps->n_pool, key, ".pooling_type", v);
		}
		rc = 0;
		goto out;
	}
	if (!strcmp(key, "general.alignment")) {
		rd_fail(r, MOAT_ECORRUPT, "general.alignment must be uint32 (found type %u)", type);
		goto out;
	}
	rc = rd_skip(r, scalar_size[type], what);
out:
	free(key);
	return rc;
}

static char *token_text(struct rd *r, const struct parse_state *ps, int64_t id)
{
	char *s = NULL;
	if (!ps->have_tokens || id < 0 || (uint64_t)id >= ps->tokens_count)
		return NULL;
	r->pos = ps->tokens_pos;
	for (int64_t i = 0; i < id; i++)
		if (rd_string(r, 0, NULL, NULL, "token") < 0)
			return NULL;
	if (rd_string(r, 4096, &s, NULL, "token") < 0)
		return NULL;
	return s;
}

static int mul_ovf(uint64_t a, uint64_t b, uint64_t *out)
{
	return __builtin_mul_overflow(a, b, out);
}

static int read_tensors(struct rd *r, struct gguf_info *g, struct parse_state *ps,
			char furthest[GGUF_MAX_TENSOR_NAME + 1], uint64_t *max_end,
			uint64_t *max_padded, int *noncontig)
{
	uint64_t expect = 0;
	uint64_t bytes_by_type[N_GGML_TYPES] = { 0 };
	size_t keys = ps->n_hashes;
	*max_end = *max_padded = 0;
	*noncontig = 0;
	for (uint64_t i = 0; i < g->n_tensors; i++) {
		char name[GGUF_MAX_TENSOR_NAME + 1];
		char *nm = NULL;
		uint64_t nlen, ne[GGUF_MAX_DIMS] = { 1, 1, 1, 1 }, nel = 1, nbytes, off, pad, end;
		uint32_t ndims, type;
		char what[128];
		if (xsnprintf(what, sizeof(what), "tensor %" PRIu64 " of %" PRIu64, i + 1,
			      g->n_tensors) < 0)
			return rd_fail(r, MOAT_ELIMIT, "tensor %" PRIu64 ": name too long", i + 1);
		if (rd_string(r, 0, &nm, &nlen, what) < 0)
			return -1;
		if (!nm || nlen > GGUF_MAX_TENSOR_NAME) {
			free(nm);
			return rd_fail(r, MOAT_ECORRUPT, "%s has a name of %" PRIu64
				       " bytes (at most %u)", what, nlen, GGUF_MAX_TENSOR_NAME);
		}
		memcpy(name, nm, (size_t)nlen + 1);
		free(nm);
		if (push_hash(ps, fnv64(name, (size_t)nlen)) < 0)
			return rd_fail(r, MOAT_ENOMEM, "out of memory");
		if (xsnprintf(what, sizeof(what), "tensor '%s'", name) < 0)
			return rd_fail(r, MOAT_ELIMIT, "tensor %" PRIu64 ": name too long", i + 1);
		if (rd_u32(r, &ndims, what) < 0)
			return -1;
		if (ndims > GGUF_MAX_DIMS)
			return rd_fail(r, MOAT_ECORRUPT, "tensor '%s' has %u dimensions (at most %u)",
				       name, ndims, GGUF_MAX_DIMS);
		for (uint32_t d = 0; d < ndims; d++) {
			if (rd_u64(r, &ne[d], what) < 0)
				return -1;
			if (ne[d] > (uint64_t)INT64_MAX)
				return rd_fail(r, MOAT_ECORRUPT, "tensor '%s' has a negative dimension",
					       name);
		}
		for (int d = 0; d < 4; d++)
			if (mul_ovf(nel, ne[d], &nel) || nel > (uint64_t)INT64_MAX)
				return rd_fail(r, MOAT_ECORRUPT, "tensor '%s' has too many elements",
					       name);
		if (rd_u32(r, &type, what) < 0 || rd_u64(r, &off, what) < 0)
			return -1;
		if (type >= N_GGML_TYPES || !ggml_types[type].block)
			return rd_fail(r, MOAT_EUNSUPPORTED, "tensor '%s' has unknown type %u", name,
				       type);
		if (ne[0] % ggml_types[type].block)
			return rd_fail(r, MOAT_ECORRUPT, "tensor '%s': row of %" PRIu64
				       " elements is not a multiple of the %s block size %u",
				       name, ne[0], ggml_types[type].name, ggml_types[type].block);
		if (mul_ovf(ne[0] / ggml_types[type].block, ggml_types[type].bytes, &nbytes) ||
		    mul_ovf(nbytes, ne[1], &nbytes) || mul_ovf(nbytes, ne[2], &nbytes) ||
		    mul_ovf(nbytes, ne[3], &nbytes))
			return rd_fail(r, MOAT_ECORRUPT, "tensor '%s' is too large", name);
		if (off % g->alignment)
			return rd_fail(r, MOAT_ECORRUPT, "tensor '%s' has offset %" PRIu64
				       ", not a multiple of the alignment %u", name, off,
				       g->alignment);
		if (__builtin_add_overflow(off, nbytes, &end) || end > r->file_size)
			return rd_fail(r, MOAT_ECORRUPT, "tensor '%s' (offset %" PRIu64 ", %" PRIu64
				       " bytes) lies beyond the end of the %" PRIu64 "-byte file",
				       name, off, nbytes, r->file_size);
		pad = nbytes % g->alignment ? g->alignment - nbytes % g->alignment : 0;
		if (off != expect)
			*noncontig = 1;
		expect = end + pad;
		if (end > *max_end) {
			*max_end = end;
			memcpy(furthest, name, (size_t)nlen + 1);
		}
		if (end + pad > *max_padded)
			*max_padded = end + pad;
		g->parameters += nel;
		bytes_by_type[type] += nbytes;
	}
	if (has_dup(ps->hashes + keys, ps->n_hashes - keys))
		return rd_fail(r, MOAT_ECORRUPT, "two tensors have the same name");
	if (g->n_tensors && g->file_type < 0) {
		uint32_t best = 0;
		for (uint32_t t = 1; t < N_GGML_TYPES; t++)
			if (bytes_by_type[t] > bytes_by_type[best])
				best = t;
		g->quantization = strdup(ggml_types[best].name);
		if (!g->quantization)
			return rd_fail(r, MOAT_ENOMEM, "out of memory");
	}
	return 0;
}

static int parse(struct rd *r, struct gguf_info *g)
{
	struct parse_state ps;
	const unsigned char *p;
	char furthest[GGUF_MAX_TENSOR_NAME + 1] = "";
	uint64_t max_end = 0, max_padded = 0;
	int noncontig = 0, rc = -1, wrc = 0;

	memset(g, 0, sizeof(*g));
	memset(&ps, 0, sizeof(ps));
	ps.bos = ps.eos = -1;
	g->file_type = -1;
	g->alignment = 32;
	g->file_size = r->file_size;

	if (r->file_size < 4 || r->avail < 4) {
		if (r->file_size < 4)
			return rd_fail(r, MOAT_ECORRUPT, "not a GGUF file: only %" PRIu64 " bytes",
				       r->file_size);
	}
	if (!(p = rd_need(r, 4, "magic")))
		return -1;
	if (memcmp(p, "GGUF", 4))
		return rd_fail(r, MOAT_ECORRUPT, "not a GGUF file: bad magic %02x %02x %02x %02x "
			       "(expected 'GGUF')", p[0], p[1], p[2], p[3]);
	r->pos = 4;
	if (rd_u32(r, &g->version, "version") < 0)
		return -1;
	if (g->version && !(g->version & 0xFFFF))
		return rd_fail(r, MOAT_EUNSUPPORTED, "big-endian GGUF files are not supported");
	if (g->version == 0)
		return rd_fail(r, MOAT_ECORRUPT, "GGUF version 0 is invalid");
	if (g->version == 1)
		return rd_fail(r, MOAT_EUNSUPPORTED, "GGUF version 1 is no longer supported");
	if (g->version > 3)
		return rd_fail(r, MOAT_EUNSUPPORTED, "GGUF version %u is newer than this reader (3)",
			       g->version);
	if (rd_u64(r, &g->n_tensors, "tensor count") < 0 || rd_u64(r, &g->n_kv, "metadata count") < 0)
		return -1;
	/* Each record takes some bytes: counts beyond what the file holds are lies. */
	if (g->n_kv > r->file_size / 13)
		return rd_fail(r, MOAT_ECORRUPT, "metadata count %" PRIu64 " is impossible for a %"
			       PRIu64 "-byte file", g->n_kv, r->file_size);
	if (g->n_tensors > r->file_size / 25)
		return rd_fail(r, MOAT_ECORRUPT, "tensor count %" PRIu64 " is impossible for a %"
			       PRIu64 "-byte file", g->n_tensors, r->file_size);
	for (uint64_t i = 0; i < g->n_kv; i++)
		if (read_kv(r, g, &ps, i) < 0)
			goto out;
	if (has_dup(ps.hashes, ps.n_hashes)) {
		rd_fail(r, MOAT_ECORRUPT, "two metadata entries have the same key");
		goto out;
	}
	ps.n_hashes = 0;
	if (read_tensors(r, g, &ps, furthest, &max_end, &max_padded, &noncontig) < 0)
		goto out;
	g->data_offset = r->pos;
	if (g->n_tensors) {
		uint64_t a = g->alignment;
		g->data_offset = r->pos + (a - r->pos % a) % a;
	}
	g->min_size = g->data_offset + max_end;
	g->padded_size = g->data_offset + max_padded;
	if (g->data_offset > r->file_size) {
		rd_fail(r, MOAT_ECORRUPT, "truncated: file is %" PRIu64 " bytes, the tensor data "
			"starts at %" PRIu64, r->file_size, g->data_offset);
		goto out;
	}
	if (r->file_size < g->min_size) {
		rd_fail(r, MOAT_ECORRUPT, "truncated: file is %" PRIu64 " bytes, tensor '%s' ends "
			"at %" PRIu64, r->file_size, furthest, g->min_size);
		goto out;
	}
	/* each of these fits g->warning; one that did not would be dropped, not cut */
	if (r->file_size < g->padded_size)
		wrc = xsnprintf(g->warning, sizeof(g->warning), "file ends %" PRIu64 " bytes "
				"before the final padding (llama.cpp loads it; some readers "
				"refuse)", g->padded_size - r->file_size);
	else if (r->file_size > g->padded_size && g->n_tensors)
		wrc = xsnprintf(g->warning, sizeof(g->warning), "%" PRIu64 " bytes after the "
				"tensor data", r->file_size - g->padded_size);
	else if (noncontig)
		wrc = xsnprintf(g->warning, sizeof(g->warning), "tensors are not stored "
				"contiguously in file order (current ggml refuses such files)");
	if (wrc < 0)
		g->warning[0] = '\0';

	{
		int64_t v = pick_suffix(ps.ctx, ps.n_ctx, g->architecture);
		g->context_length = v > 0 ? (uint64_t)v : 0;
		v = pick_suffix(ps.emb, ps.n_emb, g->architecture);
		g->embedding_length = v > 0 ? (uint64_t)v : 0;
		g->has_pooling = pick_suffix(ps.pool, ps.n_pool, g->architecture) >= 0;
	}
	if (g->file_type >= 0) {
		const char *q = gguf_ftype_name(g->file_type);
		free(g->quantization);
		g->quantization = q ? strdup(q) : NULL;
		if (q && !g->quantization) {
			rd_fail(r, MOAT_ENOMEM, "out of memory");
			goto out;
		}
	}
	{
		/* token texts: a damaged token list only loses the text, but memory
		 * running out is the reader's error */
		struct moat_err *saved = r->e;
		struct moat_err ignore = MOAT_ERR_INIT;
		r->e = &ignore;
		g->bos_token = token_text(r, &ps, ps.bos);
		g->eos_token = token_text(r, &ps, ps.eos);
		r->e = saved;
		if (ignore.code == MOAT_ENOMEM) {
			rd_fail(r, MOAT_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	free(ps.hashes);
	if (rc < 0)
		gguf_info_release(g);
	return rc;
}

int gguf_parse(const void *data, size_t len, uint64_t file_size, struct gguf_info *g,
	       struct moat_err *e)
{
	struct rd r;
	memset(&r, 0, sizeof(r));
	r.mem = data;
	r.avail = len;
	r.file_size = file_size < len ? len : file_size;
	r.e = e;
	return parse(&r, g);
}

int gguf_open_parts(const char *const *paths, size_t n, struct gguf_info *g, struct moat_err *e)
{
	struct rd r;
	int rc = -1;
	size_t opened = 0;
	memset(&r, 0, sizeof(r));
	memset(g, 0, sizeof(*g));
	if (n == 0)
		return err_set(e, MOAT_EUSAGE, "no file to read");
	r.fds = calloc(n, sizeof(*r.fds));
	r.starts = calloc(n, sizeof(*r.starts));
	r.win_cap = GGUF_WINDOW;
	r.win = malloc(r.win_cap);
	if (!r.fds || !r.starts || !r.win) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (; opened < n; opened++) {
		struct stat st;
		r.fds[opened] = open(paths[opened], O_RDONLY | O_CLOEXEC);
		if (r.fds[opened] < 0) {
			err_set(e, MOAT_EIO, "cannot open '%s': %s", paths[opened], strerror(errno));
			goto out;
		}
		if (fstat(r.fds[opened], &st) < 0 || !S_ISREG(st.st_mode)) {
			close(r.fds[opened]);
			err_set(e, MOAT_EIO, "cannot read '%s': not a regular file", paths[opened]);
			goto out;
		}
		r.starts[opened] = r.avail;
		r.avail += (uint64_t)st.st_size;
	}
	r.nparts = n;
	r.paths = paths;
	r.path = paths[0];
	r.file_size = r.avail;
	r.e = e;
	rc = parse(&r, g);
out:
	for (size_t i = 0; i < opened; i++)
		close(r.fds[i]);
	free(r.fds);
	free(r.starts);
	free(r.win);
	return rc;
}

int gguf_open(const char *path, struct gguf_info *g, struct moat_err *e)
{
	return gguf_open_parts(&path, 1, g, e);
}

void gguf_info_release(struct gguf_info *g)
{
	if (!g)
		return;
	free(g->architecture);
	free(g->name);
	free(g->quantization);
	free(g->chat_template);
	free(g->license);
	free(g->bos_token);
	free(g->eos_token);
	g->architecture = g->name = g->quantization = g->chat_template = NULL;
	g->license = g->bos_token = g->eos_token = NULL;
}

json_t *gguf_info_json(const struct gguf_info *g)
{
	char ps[32];
	if (gguf_format_params(g->parameters, ps, sizeof(ps)) < 0)
		return NULL;
	/* one json_pack: the object is whole or NULL ("o" values are taken either way) */
	return json_pack("{s:o, s:I, s:s, s:o, s:o, s:o, s:o, s:I, s:I, s:b}",
			 "architecture", jsonu_string(g->architecture),
			 "parameters", (json_int_t)g->parameters,
			 "parameter_size", ps,
			 "quantization", jsonu_string(g->quantization),
			 "file_type", g->file_type >= 0 ? json_integer(g->file_type) : json_null(),
			 "context_length", g->context_length ?
			 json_integer((json_int_t)g->context_length) : json_null(),
			 "embedding_length", g->embedding_length ?
			 json_integer((json_int_t)g->embedding_length) : json_null(),
			 "gguf_version", (json_int_t)g->version,
			 "tensors", (json_int_t)g->n_tensors,
			 "has_chat_template", g->chat_template != NULL);
}
