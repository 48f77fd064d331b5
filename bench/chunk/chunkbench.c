/*
 * chunkbench.c - bench/chunk's driver: cuts one text file into chunks with
 * src/export/chunk.c as `moat chunk` will (the file is the document's text,
 * its blocks between blank lines the elements, "# " lines headings), and
 * prints what it made.  With --check it tokenizes every chunk on its own
 * and fails when one is over the limit, and shows how far the estimates of
 * the chunks that were not recounted lay from their own counts.
 *
 * Usage: chunkbench TOKENIZER FILE [--max N] [--overlap N] [--by element]
 *                   [--exact] [--check]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "export/chunk.h"
#include "llm/llm.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	long n;
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		return NULL;
	s = malloc((size_t)n + 1);
	if (!s || fread(s, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(s);
		return NULL;
	}
	fclose(f);
	s[n] = '\0';
	*len = (size_t)n;
	return s;
}

/* Blocks between blank lines, as ingest's text reader makes elements. */
static struct chunk_el *blocks(const char *s, size_t len, size_t *n)
{
	size_t alloc = 1024, cp = 0, p = 0;
	struct chunk_el *el = malloc(alloc * sizeof(*el));
	*n = 0;
	while (el && p < len) {
		size_t q = p, start;
		while (p < len && (s[p] == '\n' || s[p] == '\r'))
			cp++, p++;
		if (p >= len)
			break;
		start = cp;
		q = p;
		while (q < len && !(s[q] == '\n' && q + 1 < len && s[q + 1] == '\n'))
			q++;
		cp += utf8_count(s + p, q - p);
		if (*n == alloc) {
			struct chunk_el *v = realloc(el, (alloc *= 2) * sizeof(*el));
			if (!v) {
				free(el);
				return NULL;
			}
			el = v;
		}
		el[*n].type = s[p] == '#' ? EL_HEADING : EL_PARAGRAPH;
		el[*n].level = 0;
		el[*n].page = 0;
		el[*n].start = start;
		el[*n].end = cp;
		(*n)++;
		p = q;
	}
	return el;
}

int main(int argc, char **argv)
{
	struct chunk_opts o = chunk_opts_default();
	struct chunk_list cl = CHUNK_LIST_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	struct chunk_tokenizer *t;
	struct chunk_el *el;
	size_t len, n_el, toks = 0;
	long n;
	int check = 0, bad = 0;
	long diff[9] = { 0 }, counted = 0;
	char *text;

	if (argc < 3) {
		fprintf(stderr, "usage: chunkbench TOKENIZER FILE [--max N] [--overlap N] [--by element] "
				"[--exact] [--check]\n");
		return 2;
	}
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--max") && i + 1 < argc)
			o.max_tokens = (int)strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--overlap") && i + 1 < argc)
			o.overlap = (int)strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--by") && i + 1 < argc)
			o.by = chunk_by_parse(argv[++i]) == CHUNK_BY_ELEMENT ? CHUNK_BY_ELEMENT : CHUNK_BY_SECTION;
		else if (!strcmp(argv[i], "--exact"))
			o.exact = 1;
		else if (!strcmp(argv[i], "--check"))
			check = 1;
	}
	text = slurp(argv[2], &len);
	if (!text) {
		fprintf(stderr, "chunkbench: cannot read '%s'\n", argv[2]);
		return 1;
	}
	el = blocks(text, len, &n_el);
	t = chunk_tokenizer_open(argv[1], NULL, &e);
	if (!el || !t) {
		fprintf(stderr, "chunkbench: %s\n", t ? "out of memory" : e.msg);
		return 1;
	}
	n = chunk_document(t, &o, text, len, el, n_el, &cl, &e);
	if (n < 0) {
		fprintf(stderr, "chunkbench: %s\n", e.msg);
		return 1;
	}
	for (size_t i = 0; i < cl.n; i++) {
		const struct chunk *c = &cl.v[i];
		toks += (size_t)c->tokens;
		if (check) {
			long own = chunk_count_tokens(t, text + c->byte_start, c->byte_end - c->byte_start, &e);
			if (own < 0 || own > o.max_tokens) {
				fprintf(stderr, "chunkbench: chunk %zu has %ld tokens on its own (max %d)\n", i, own,
					o.max_tokens);
				bad = 1;
			}
			if (c->counted)
				counted++;
			else if (own >= 0) {
				long d = own - c->tokens;
				diff[d < -4 ? 0 : d > 4 ? 8 : d + 4]++;
			}
		}
	}
	printf("%zu elements, %zu chunks, %zu tokens in chunks, tokenizer %s\n", n_el, cl.n, toks,
	       chunk_tokenizer_id(t));
	if (check) {
		long all = chunk_count_tokens(t, text, len, &e);
		printf("document: %ld tokens\n", all);
		printf("recounted %ld; own count - estimate of the others:", counted);
		for (int d = 0; d < 9; d++)
			printf(" %s%d:%ld", d == 0 ? "<=" : d == 8 ? ">=" : "", d - 4, diff[d]);
		printf("\n");
	}
	chunk_list_release(&cl);
	chunk_tokenizer_free(t);
	free(el);
	free(text);
	return bad;
}
