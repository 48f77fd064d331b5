/*
 * edges.c - how far a slice of a text, tokenized on its own, lies from the
 * number of the whole text's tokens it overlaps (the chunker's estimate,
 * src/export/chunk.c): the measurement behind CHUNK_RECOUNT_MARGIN.
 *
 * For one vocabulary (a GGUF, weights or not) and one text (its first
 * 400 KB): the text is tokenized once, the tokens' pieces give where each
 * ends, then SAMPLES slices of 50 to 1550 bytes are drawn (seeded): two in
 * three start at a word, one in three at any code point; all end at a word's
 * end.  Prints the histogram of (own count - estimate).
 *
 * Usage: edges VOCAB.gguf TEXT [SAMPLES]
 */
#include <llama.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t nt;
static uint32_t *ends;

/* Tokens whose end is <= x (le) or < x (!le). */
static size_t n_ends(uint32_t x, int le)
{
	size_t lo = 0, hi = nt;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (le ? ends[mid] <= x : ends[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The tokens [s, e) overlaps, as chunk.c counts them. */
static size_t estimate(size_t s, size_t e)
{
	size_t a = e ? 1 + n_ends((uint32_t)e, 0) : 0, b = n_ends((uint32_t)s, 1);
	if (a > nt)
		a = nt;
	return a > b ? a - b : 0;
}

static void quiet(enum ggml_log_level level, const char *text, void *ud)
{
	(void)level, (void)text, (void)ud;
}

int main(int argc, char **argv)
{
	struct llama_model_params mp = llama_model_default_params();
	struct llama_model *model;
	const struct llama_vocab *v;
	llama_token *tok, *own;
	long h[11] = { 0 }, n;
	int samples = argc > 3 ? atoi(argv[3]) : 20000, k, skip;
	size_t total = 0, at = 0;
	unsigned seed = 1;
	char *s, piece[512];
	FILE *f;

	if (argc < 3) {
		fprintf(stderr, "usage: edges VOCAB.gguf TEXT [SAMPLES]\n");
		return 2;
	}
	f = fopen(argv[2], "rb");
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 4000 || fseek(f, 0, SEEK_SET))
		return 1;
	s = malloc((size_t)n + 1);
	if (!s || fread(s, 1, (size_t)n, f) != (size_t)n)
		return 1;
	fclose(f);
	if (n > 400000)
		n = 400000;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	s[n] = '\0';
	llama_log_set(quiet, NULL);
	llama_backend_init();
	mp.vocab_only = true;
	model = llama_model_load_from_file(argv[1], mp);
	if (!model)
		return 1;
	v = llama_model_get_vocab(model);
	tok = malloc(((size_t)n + 2) * sizeof(*tok));
	own = malloc(8192 * sizeof(*own));
	k = llama_tokenize(v, s, (int32_t)n, tok, (int32_t)n + 2, false, false);
	ends = malloc((size_t)k * sizeof(*ends));
	if (!tok || !own || k < 0 || !ends)
		return 1;
	nt = (size_t)k;
	for (int i = 0; i < k; i++)
		total += (size_t)llama_token_to_piece(v, tok[i], piece, sizeof(piece), 0, false);
	skip = total == (size_t)n + 1;   /* SentencePiece's space in front */
	for (int i = 0; i < k; i++) {
		int32_t len = llama_token_to_piece(v, tok[i], piece, sizeof(piece), 0, false);
		const char *p = piece;
		if (i == 0 && skip)
			p++, len--;
		if (at + (size_t)len > (size_t)n || memcmp(s + at, p, (size_t)len)) {
			printf("%-32s no offsets (its pieces do not spell the text)\n", strrchr(argv[1], '/') + 1);
			return 0;
		}
		at += (size_t)len;
		ends[i] = (uint32_t)at;
	}
	for (int it = 0; it < samples; it++) {
		size_t a, e;
		long d;
		int c;
		seed = seed * 1103515245u + 12345u;
		a = 1 + (seed >> 4) % (size_t)(n - 2000);
		if (it % 3 < 2)
			while (a < (size_t)n && s[a - 1] != ' ' && s[a - 1] != '\n')
				a++;
		else
			while (((unsigned char)s[a] & 0xC0) == 0x80)
				a++;
		if (a >= (size_t)n - 1600 || s[a] == ' ' || s[a] == '\n')
			continue;
		seed = seed * 1103515245u + 12345u;
		e = a + 50 + (seed >> 4) % 1500;
		while (e < (size_t)n && s[e] != ' ' && s[e] != '\n')
			e++;
		c = llama_tokenize(v, s + a, (int32_t)(e - a), own, 8192, false, false);
		d = (long)c - (long)estimate(a, e);
		h[d < -5 ? 0 : d > 5 ? 10 : d + 5]++;
	}
	printf("%-32s", strrchr(argv[1], '/') + 1);
	for (int i = 0; i < 11; i++)
		printf(" %s%+d:%ld", i == 0 ? "<=" : i == 10 ? ">=" : "", i - 5, h[i]);
	printf("\n");
	llama_model_free(model);
	return 0;
}
