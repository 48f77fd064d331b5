/*
 * test_chunk.c - src/export/chunk.c: chunks that follow a document's
 * structure and fit a token budget.
 *
 * - structure: headings and titles start chunks, small elements are joined,
 *   a large one is split at sentences, then words, then graphemes; a heading
 *   stays with the text under it; --by element;
 * - every chunk of generated documents (prose, lists, emoji with ZWJ,
 *   combining marks, right-to-left text, CJK, long words) checked: its text
 *   is the slice at its code-point offsets, it begins and ends on grapheme
 *   boundaries without white space, its element range and pages are right,
 *   nothing of the text is left out, and tokenized on its own it fits
 *   max_tokens, with "chars" and with the tiny GGUF's Llama-2 tokenizer (also
 *   counting chunk by chunk, as for a tokenizer without offsets);
 * - overlap: at most N tokens of the chunk before, from a word start, never
 *   across a heading;
 * - the same input and settings give the same chunks; errors;
 * - llm_token_ends against llm_count_tokens, through the embedded backend and
 *   through llama-server's /tokenize (the same chunks both ways), and the
 *   pieces of the vocabularies llama.cpp ships (SentencePiece, BPE, ...).
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <utf8proc.h>

#include "core/buf.h"
#include "core/fmt.h"
#include "core/fs.h"
#include "core/utf8.h"
#include "export/chunk.h"
#include "llm/backend.h"
#include "llm/llm.h"
#ifdef MOAT_WITH_LLAMA
#include <llama.h>
#endif

static char *tmp;
static char *tiny_uri;                    /* gguf:<the tiny model>, or NULL */
static struct chunk_tokenizer *chars_t;
static struct chunk_tokenizer *tiny_t;    /* NULL without llama.cpp or the model */

/* The tiny GGUF's tokenizer, opened once; skips the test without llama.cpp
 * or the model. */
static struct chunk_tokenizer *need_tiny(void)
{
	struct moat_err e = MOAT_ERR_INIT;
	char *p;
	if (tiny_t)
		return tiny_t;
	if (!llm_have_embedded())
		skip();
	p = tu_testdata("models/llama-2-tiny-random.gguf");
	if (!p)
		return NULL;
	if (!tiny_uri) {
		struct buf b = BUF_INIT;
		buf_addf(&b, "gguf:%s", p);
		tiny_uri = buf_detach(&b, NULL);
	}
	free(p);
	tiny_t = chunk_tokenizer_open(tiny_uri, NULL, &e);
	if (!tiny_t)
		fail_msg("%s", e.msg);
	return tiny_t;
}

/* ---- documents ---- */

#define MAX_EL 4096

struct tdoc {
	struct buf text;
	struct chunk_el el[MAX_EL];
	size_t n, cps;
};

static struct tdoc *tdoc_new(void)
{
	struct tdoc *d = calloc(1, sizeof(*d));
	assert_non_null(d);
	return d;
}

static void tdoc_free(struct tdoc *d)
{
	buf_release(&d->text);
	free(d);
}

/* Appends an element; elements are joined by a blank line. */
static void add(struct tdoc *d, enum element_type type, int page, const char *s)
{
	struct chunk_el *el = &d->el[d->n++];
	assert_true(d->n <= MAX_EL);
	if (d->n > 1) {
		buf_adds(&d->text, "\n\n");
		d->cps += 2;
	}
	el->type = type;
	el->level = type == EL_HEADING ? 1 : 0;
	el->page = page;
	el->start = d->cps;
	buf_adds(&d->text, s);
	d->cps += utf8_count(s, strlen(s));
	el->end = d->cps;
	assert_false(buf_failed(&d->text));
}

static const char *dtext(const struct tdoc *d)
{
	return buf_str(&d->text);
}

/* Where each code point of s begins, found by decoding s, and len at [cps]. */
static size_t *cp_bytes(const char *s, size_t len, size_t *cps)
{
	size_t *at = malloc((len + 1) * sizeof(*at)), p = 0, n = 0;
	assert_non_null(at);
	while (p < len) {
		uint32_t c;
		int k = utf8_decode((const unsigned char *)s + p, len - p, &c);
		assert_true(k > 0);
		at[n++] = p;
		p += (size_t)k;
	}
	at[n] = len;
	*cps = n;
	return at;
}

static int is_ws_byte_run(const char *s, size_t a, size_t b)
{
	for (size_t i = a; i < b; i++)
		if (!strchr(" \t\n\r\f\v", s[i]))
			return 0;
	return 1;
}

/* 1 at every byte where a grapheme cluster begins, and at len. */
static unsigned char *grapheme_starts(const char *s, size_t len)
{
	unsigned char *g = calloc(len + 1, 1);
	utf8proc_int32_t state = 0, prev = -1;
	assert_non_null(g);
	for (size_t p = 0; p < len;) {
		utf8proc_int32_t c;
		utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s + p,
						      (utf8proc_ssize_t)(len - p), &c);
		assert_true(n > 0);
		if (prev < 0 || utf8proc_grapheme_break_stateful(prev, c, &state))
			g[p] = 1;
		prev = c;
		p += (size_t)n;
	}
	g[len] = 1;
	return g;
}

/* Everything a chunk list must be, whatever the settings. */
static void check_chunks(struct chunk_tokenizer *t, const struct chunk_opts *o, const struct tdoc *d,
			 const struct chunk_list *cl)
{
	const char *s = dtext(d);
	size_t len = d->text.len, covered = 0;
	unsigned char *g = grapheme_starts(s, len);
	size_t cps, *at = cp_bytes(s, len, &cps);
	struct moat_err e = MOAT_ERR_INIT;
	for (size_t i = 0; i < cl->n; i++) {
		const struct chunk *c = &cl->v[i];
		long own;
		int pf = 0, pl = 0;
		assert_true(c->byte_start < c->byte_end && c->byte_end <= len);
		/* offsets: the text at [start, end) in code points is the chunk's */
		assert_true(c->start < c->end && c->end <= cps);
		assert_int_equal(at[c->start], c->byte_start);
		assert_int_equal(at[c->end], c->byte_end);
		/* whole graphemes, no white space at the edges */
		if (!g[c->byte_start] || !g[c->byte_end])
			fail_msg("chunk %zu [%zu, %zu) cuts a grapheme cluster", i, c->byte_start, c->byte_end);
		assert_false(strchr(" \t\n\r", s[c->byte_start]));
		assert_false(strchr(" \t\n\r", s[c->byte_end - 1]));
		/* sizes: on its own it fits */
		assert_true(c->tokens >= 1 && c->tokens <= o->max_tokens);
		own = chunk_count_tokens(t, s + c->byte_start, c->byte_end - c->byte_start, &e);
		if (own < 0 || own > o->max_tokens)
			fail_msg("chunk %zu has %ld tokens on its own, max %d: '%.*s'", i, own, o->max_tokens,
				 (int)(c->byte_end - c->byte_start), s + c->byte_start);
		if (c->counted || o->exact)
			assert_int_equal(own, c->tokens);
		/* elements and pages */
		assert_true(c->el_first <= c->el_last && c->el_last < d->n);
		assert_true(d->el[c->el_first].start <= c->start && c->start < d->el[c->el_first].end);
		assert_true(d->el[c->el_last].start < c->end && c->end <= d->el[c->el_last].end);
		for (size_t k = c->el_first; k <= c->el_last; k++)
			if (d->el[k].page > 0) {
				pf = !pf || d->el[k].page < pf ? d->el[k].page : pf;
				pl = d->el[k].page > pl ? d->el[k].page : pl;
			}
		assert_int_equal(c->page_first, pf);
		assert_int_equal(c->page_last, pl);
		if (o->by == CHUNK_BY_ELEMENT)
			assert_int_equal(c->el_first, c->el_last);
		/* order, nothing left out, overlap only as asked */
		if (i) {
			const struct chunk *b = &cl->v[i - 1];
			assert_true(c->byte_start >= b->byte_start && c->byte_end > b->byte_end);
			if (c->byte_start < b->byte_end) {
				assert_true(o->overlap > 0);
				assert_true(c->byte_start > b->byte_start);
				/* from a word start */
				assert_true(strchr(" \t\n\r", s[c->byte_start - 1]) != NULL);
				if (!t || t == chars_t)
					assert_true(utf8_count(s + c->byte_start, b->byte_end - c->byte_start) <=
						    (size_t)o->overlap);
			}
		}
		if (c->byte_start > covered && !is_ws_byte_run(s, covered, c->byte_start))
			fail_msg("text [%zu, %zu) is in no chunk", covered, c->byte_start);
		if (c->byte_end > covered)
			covered = c->byte_end;
	}
	if (!is_ws_byte_run(s, covered, len))
		fail_msg("text after byte %zu is in no chunk", covered);
	/* a heading that follows text starts a chunk */
	if (o->by == CHUNK_BY_SECTION)
		for (size_t k = 1; k < d->n; k++) {
			int found = 0;
			if ((d->el[k].type != EL_HEADING && d->el[k].type != EL_TITLE) ||
			    d->el[k - 1].type == EL_HEADING || d->el[k - 1].type == EL_TITLE)
				continue;
			for (size_t i = 0; i < cl->n && !found; i++)
				found = cl->v[i].start == d->el[k].start;
			if (!found)
				fail_msg("heading %zu starts no chunk", k);
		}
	free(g);
	free(at);
}

static size_t run(struct chunk_tokenizer *t, const struct chunk_opts *o, const struct tdoc *d,
		  struct chunk_list *cl)
{
	struct moat_err e = MOAT_ERR_INIT;
	long n = chunk_document(t, o, dtext(d), d->text.len, d->el, d->n, cl, &e);
	if (n < 0)
		fail_msg("chunk_document: %s", e.msg);
	assert_int_equal((size_t)n, cl->n);
	check_chunks(t, o, d, cl);
	return cl->n;
}

static void expect_text(const struct tdoc *d, const struct chunk *c, const char *want)
{
	size_t n = c->byte_end - c->byte_start;
	if (n != strlen(want) || memcmp(dtext(d) + c->byte_start, want, n))
		fail_msg("chunk is '%.*s', expected '%s'", (int)n, dtext(d) + c->byte_start, want);
}

static struct chunk_opts opts(int max, int overlap)
{
	struct chunk_opts o = chunk_opts_default();
	o.max_tokens = max;
	o.overlap = overlap;
	return o;
}

/* ---- structure ---- */

static void headings_start_chunks(void **state)
{
	struct tdoc *d = tdoc_new();
	struct chunk_list cl = CHUNK_LIST_INIT;
	struct chunk_opts o = opts(1000, 0);
	(void)state;
	add(d, EL_TITLE, 1, "Annual report");
	add(d, EL_PARAGRAPH, 1, "Intro text.");
	add(d, EL_HEADING, 1, "Part one");
	add(d, EL_PARAGRAPH, 1, "Alpha.");
	add(d, EL_LIST_ITEM, 2, "Beta.");
	add(d, EL_HEADING, 2, "Part two");
	add(d, EL_HEADING, 2, "Part two, section one");
	add(d, EL_PARAGRAPH, 3, "Gamma.");
	assert_int_equal(run(chars_t, &o, d, &cl), 3);
	expect_text(d, &cl.v[0], "Annual report\n\nIntro text.");
	expect_text(d, &cl.v[1], "Part one\n\nAlpha.\n\nBeta.");
	expect_text(d, &cl.v[2], "Part two\n\nPart two, section one\n\nGamma.");
	assert_int_equal(cl.v[1].el_first, 2);
	assert_int_equal(cl.v[1].el_last, 4);
	assert_int_equal(cl.v[1].page_first, 1);
	assert_int_equal(cl.v[1].page_last, 2);
	assert_int_equal(cl.v[2].tokens, strlen("Part two\n\nPart two, section one\n\nGamma."));
	assert_int_equal(cl.v[2].start, d->el[5].start);
	assert_int_equal(cl.v[2].end, d->el[7].end);
	chunk_list_release(&cl);
	tdoc_free(d);
}

static void joins_up_to_max(void **state)
{
	struct tdoc *d = tdoc_new();
	struct chunk_list cl = CHUNK_LIST_INIT;
	struct chunk_opts o = opts(25, 0);
	(void)state;
	add(d, EL_PARAGRAPH, 0, "aaaaaaaaaa");
	add(d, EL_PARAGRAPH, 0, "bbbbbbbbbb");
	add(d, EL_PARAGRAPH, 0, "cccccccccc");
	add(d, EL_PARAGRAPH, 0, "   ");     /* white space only: in no chunk of its own */
	add(d, EL_PARAGRAPH, 0, "dddddddddd");
	add(d, EL_PARAGRAPH, 0, "eeeee");
	assert_int_equal(run(chars_t, &o, d, &cl), 3);
	expect_text(d, &cl.v[0], "aaaaaaaaaa\n\nbbbbbbbbbb");
	expect_text(d, &cl.v[1], "cccccccccc");  /* with the blank element and d: 27 */
	expect_text(d, &cl.v[2], "dddddddddd\n\neeeee");
	assert_int_equal(cl.v[0].tokens, 22);
	assert_int_equal(cl.v[2].el_first, 4);
	assert_int_equal(cl.v[2].el_last, 5);
	o.max_tokens = 30;
	assert_int_equal(run(chars_t, &o, d, &cl), 3);
	expect_text(d, &cl.v[1], "cccccccccc\n\n   \n\ndddddddddd");
	assert_int_equal(cl.v[1].el_first, 2);
	assert_int_equal(cl.v[1].el_last, 4);
	/* exactly at the limit, and one less */
	o.max_tokens = 22;
	assert_int_equal(run(chars_t, &o, d, &cl), 3);
	expect_text(d, &cl.v[0], "aaaaaaaaaa\n\nbbbbbbbbbb");
	o.max_tokens = 21;
	assert_int_equal(run(chars_t, &o, d, &cl), 4);
	expect_text(d, &cl.v[0], "aaaaaaaaaa");
	expect_text(d, &cl.v[1], "bbbbbbbbbb");
	chunk_list_release(&cl);
	tdoc_free(d);
}

static void splits_at_sentences_then_words_then_graphemes(void **state)
{
	struct tdoc *d = tdoc_new();
	struct chunk_list cl = CHUNK_LIST_INIT;
	struct chunk_opts o = opts(30, 0);
	(void)state;
	add(d, EL_PARAGRAPH, 0, "One two three. Four five six. Seven eight nine ten eleven twelve.");
	assert_int_equal(run(chars_t, &o, d, &cl), 3);
	expect_text(d, &cl.v[0], "One two three. Four five six.");
	expect_text(d, &cl.v[1], "Seven eight nine ten eleven");  /* 27 chars: no sentence end fits */
	expect_text(d, &cl.v[2], "twelve.");
	tdoc_free(d);

	d = tdoc_new();
	o.max_tokens = 12;
	add(d, EL_PARAGRAPH, 0, "alpha beta gamma delta epsilon");
	assert_int_equal(run(chars_t, &o, d, &cl), 3);
	expect_text(d, &cl.v[0], "alpha beta");
	expect_text(d, &cl.v[1], "gamma delta");
	expect_text(d, &cl.v[2], "epsilon");
	tdoc_free(d);

	d = tdoc_new();
	o.max_tokens = 10;
	add(d, EL_PARAGRAPH, 0, "abcdefghijklmnopqrstuvwxyz end");
	assert_int_equal(run(chars_t, &o, d, &cl), 3);
	expect_text(d, &cl.v[0], "abcdefghij");
	expect_text(d, &cl.v[1], "klmnopqrst");
	expect_text(d, &cl.v[2], "uvwxyz end");
	tdoc_free(d);

	/* a line break inside an element counts as a sentence end; CJK full
	 * stops end sentences without a space; closing quotes stay */
	d = tdoc_new();
	o.max_tokens = 21;
	add(d, EL_CODE, 0, "int a = 1;\nint b = 2;\nint c = 3;");
	add(d, EL_PARAGRAPH, 0, "他说：“好。”我们走吧。然后呢");
	add(d, EL_PARAGRAPH, 0, "She said \"Go.\" They went away.");
	assert_int_equal(run(chars_t, &o, d, &cl), 5);
	expect_text(d, &cl.v[0], "int a = 1;\nint b = 2;");
	expect_text(d, &cl.v[1], "int c = 3;");
	expect_text(d, &cl.v[2], "他说：“好。”我们走吧。然后呢");
	expect_text(d, &cl.v[3], "She said \"Go.\"");
	expect_text(d, &cl.v[4], "They went away.");
	tdoc_free(d);
	d = tdoc_new();
	o.max_tokens = 10;
	add(d, EL_CODE, 0, "int a = 1;\nint b = 2;\nint c = 3;");
	add(d, EL_PARAGRAPH, 0, "他说：“好。”我们走吧。然后呢");
	assert_int_equal(run(chars_t, &o, d, &cl), 5);
	expect_text(d, &cl.v[2], "int c = 3;");
	expect_text(d, &cl.v[3], "他说：“好。”");
	expect_text(d, &cl.v[4], "我们走吧。然后呢");
	chunk_list_release(&cl);
	tdoc_free(d);
}

static void heading_stays_with_its_text(void **state)
{
	struct tdoc *d = tdoc_new();
	struct chunk_list cl = CHUNK_LIST_INIT;
	struct chunk_opts o = opts(40, 0);
	(void)state;
	add(d, EL_PARAGRAPH, 0, "Before.");
	add(d, EL_HEADING, 0, "Results");
	add(d, EL_PARAGRAPH, 0, "First finding here. Second finding here. Third one.");
	add(d, EL_PARAGRAPH, 0, "Short.");
	assert_int_equal(run(chars_t, &o, d, &cl), 3);
	expect_text(d, &cl.v[0], "Before.");
	expect_text(d, &cl.v[1], "Results\n\nFirst finding here.");
	expect_text(d, &cl.v[2], "Second finding here. Third one.\n\nShort.");
	assert_int_equal(cl.v[1].el_first, 1);
	assert_int_equal(cl.v[1].el_last, 2);
	assert_int_equal(cl.v[2].el_first, 2);
	assert_int_equal(cl.v[2].el_last, 3);
	chunk_list_release(&cl);
	tdoc_free(d);
}

static void by_element(void **state)
{
	struct tdoc *d = tdoc_new();
	struct chunk_list cl = CHUNK_LIST_INIT;
	struct chunk_opts o = opts(20, 0);
	(void)state;
	o.by = CHUNK_BY_ELEMENT;
	add(d, EL_HEADING, 0, "Title");
	add(d, EL_PARAGRAPH, 0, "a b");
	add(d, EL_PARAGRAPH, 0, "c d");
	add(d, EL_PARAGRAPH, 0, "A long paragraph. It is split in two.");
	assert_int_equal(run(chars_t, &o, d, &cl), 5);
	expect_text(d, &cl.v[0], "Title");
	expect_text(d, &cl.v[1], "a b");
	expect_text(d, &cl.v[2], "c d");
	expect_text(d, &cl.v[3], "A long paragraph.");
	expect_text(d, &cl.v[4], "It is split in two.");
	/* overlap inside an element, never across elements */
	o.overlap = 12;
	assert_int_equal(run(chars_t, &o, d, &cl), 6);
	expect_text(d, &cl.v[2], "c d");
	expect_text(d, &cl.v[3], "A long paragraph.");
	expect_text(d, &cl.v[4], "paragraph. It is");
	expect_text(d, &cl.v[5], "It is split in two.");
	assert_string_equal(chunk_by_name(CHUNK_BY_ELEMENT), "element");
	assert_int_equal(chunk_by_parse("section"), CHUNK_BY_SECTION);
	assert_int_equal(chunk_by_parse("page"), -1);
	chunk_list_release(&cl);
	tdoc_free(d);
}

static void overlap(void **state)
{
	struct tdoc *d = tdoc_new();
	struct chunk_list cl = CHUNK_LIST_INIT;
	struct chunk_opts o = opts(30, 12);
	(void)state;
	add(d, EL_PARAGRAPH, 0, "one two three four five six seven eight nine ten eleven twelve");
	add(d, EL_PARAGRAPH, 0, "thirteen fourteen");
	add(d, EL_HEADING, 0, "New part");
	add(d, EL_PARAGRAPH, 0, "fifteen sixteen seventeen eighteen nineteen twenty");
	run(chars_t, &o, d, &cl);
	expect_text(d, &cl.v[0], "one two three four five six");
	expect_text(d, &cl.v[1], "five six seven eight nine ten");  /* "five six" = 8 <= 12 */
	expect_text(d, &cl.v[2], "nine ten eleven twelve");
	expect_text(d, &cl.v[3], "twelve\n\nthirteen fourteen");
	expect_text(d, &cl.v[4], "New part\n\nfifteen sixteen");  /* nothing from before the heading */
	expect_text(d, &cl.v[5], "sixteen seventeen eighteen");
	/* none when the next word would not fit after it, and never a whole chunk */
	o = opts(12, 11);
	tdoc_free(d);
	d = tdoc_new();
	add(d, EL_PARAGRAPH, 0, "aaaa bbbb cccccccccc");
	run(chars_t, &o, d, &cl);
	expect_text(d, &cl.v[0], "aaaa bbbb");
	expect_text(d, &cl.v[1], "cccccccccc");
	chunk_list_release(&cl);
	tdoc_free(d);
}

/* ---- Unicode ---- */

static void graphemes(struct chunk_tokenizer *tiny)
{
	static const char *const runs[] = {
		"👩‍👩‍👧‍👦👩‍👩‍👧‍👦👨‍👩‍👧👩‍❤️‍💋‍👨🇩🇪🇫🇷🏳️‍🌈👍🏽👍🏽",           /* ZWJ sequences, flags, skin tones */
		"e\u0301e\u0301a\u0300\u0316o\u0308\u0304u\u0308n\u0303e\u0301e\u0301e\u0301", /* combining marks */
		"مرحبابالعالمهذانصعربيطويلبدونمسافات",                              /* right-to-left, no spaces */
		"שָׁלוֹםעוֹלָםשָׁלוֹםעוֹלָם",                                             /* Hebrew with points */
		"한국어텍스트입니다한국어텍스트입니다",                                    /* Hangul syllables */
		"नमस्तेदुनियानमस्तेदुनिया",                                                /* Devanagari clusters */
	};
	struct chunk_list cl = CHUNK_LIST_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		for (int max = 1; max <= 12; max++) {
			struct tdoc *d = tdoc_new();
			struct chunk_opts o = opts(max, 0);
			long n;
			add(d, EL_PARAGRAPH, 0, runs[r]);
			add(d, EL_PARAGRAPH, 0, "x y");
			n = chunk_document(chars_t, &o, dtext(d), d->text.len, d->el, d->n, &cl, &e);
			if (n < 0) {
				/* only when one grapheme has more code points than max */
				assert_int_equal(e.code, MOAT_ELIMIT);
				assert_non_null(strstr(e.msg, "too small"));
				assert_true(max < 9);
			} else {
				check_chunks(chars_t, &o, d, &cl);
			}
			if (tiny && max >= 4) {
				o.max_tokens = max * 4;
				n = chunk_document(tiny, &o, dtext(d), d->text.len, d->el, d->n, &cl, &e);
				if (n < 0)
					assert_int_equal(e.code, MOAT_ELIMIT);
				else
					check_chunks(tiny, &o, d, &cl);
			}
			tdoc_free(d);
		}
	}
	chunk_list_release(&cl);
}

static void graphemes_chars(void **state)
{
	(void)state;
	graphemes(NULL);
}

static void graphemes_tiny_gguf(void **state)
{
	(void)state;
	graphemes(need_tiny());
}

/* A document of many kinds of text, the same for a seed. */
static struct tdoc *gen_doc(unsigned seed, size_t n_el, int emoji)
{
	static const char *const words[] = {
		"the", "of", "data", "model", "records", "policy", "a", "Zürich", "naïve", "café",
		"Pneumonoultramicroscopicsilicovolcanoconiosis", "2024-05-01", "e\u0301te\u0301",
		"👩‍👩‍👧‍👦", "🇩🇪", "👍🏽", "مرحبا", "بالعالم", "שָׁלוֹם", "数据集的质量", "「引用」", "Привет",
		"x", "I", "U.S.", "e.g.", "(see", "below)", "\"quoted\"", "—", "…", "3.14", "tab\there",
		"line\nbreak", "no\u00a0break", "ｆｕｌｌ", "का", "ज़्यादा",
	};
	static const char *const ends[] = { ".", "!", "?", "。", "", ";", ":" };
	struct tdoc *d = tdoc_new();
	unsigned x = seed * 2654435761u + 1;
#define RND(n) ((x = x * 1103515245u + 12345u), (size_t)((x >> 8) % (n)))
	for (size_t i = 0; i < n_el; i++) {
		struct buf b = BUF_INIT;
		size_t kind = RND(10), sentences = 1 + RND(kind == 0 ? 30 : 6);
		enum element_type t = kind == 1 || kind == 2 ? EL_HEADING : kind == 3 ? EL_LIST_ITEM
				    : kind == 4 && !RND(4) ? EL_TITLE : EL_PARAGRAPH;
		if (t == EL_HEADING || t == EL_TITLE)
			sentences = 1;
		for (size_t s = 0; s < sentences; s++) {
			size_t nw = 1 + RND(t == EL_HEADING ? 5 : 25);
			for (size_t w = 0; w < nw; w++) {
				if (w || s)
					buf_adds(&b, RND(20) ? " " : "  ");
				const char *w = words[RND(sizeof(words) / sizeof(words[0]))];
				if (!emoji && (unsigned char)w[0] == 0xF0)
					w = "emoji";
				buf_adds(&b, w);
			}
			if (t != EL_HEADING)
				buf_adds(&b, ends[RND(sizeof(ends) / sizeof(ends[0]))]);
		}
		if (RND(30) == 0)
			buf_adds(&b, " ");   /* white space at the end of an element */
		add(d, t, RND(5) ? (int)(i / 7) + 1 : 0, buf_str(&b));
		buf_release(&b);
	}
#undef RND
	return d;
}

/* Chunks of three generated documents with maxes[n_max], sections and
 * elements, with and without overlap. */
static void sizes_fit(struct chunk_tokenizer *t, int no_offsets, const int *maxes, size_t n_max,
		      int emoji)
{
	struct chunk_list cl = CHUNK_LIST_INIT;
	for (unsigned seed = 1; seed <= 3; seed++) {
		struct tdoc *d = gen_doc(seed, 150, emoji);
		for (size_t m = 0; m < n_max; m++)
			for (int by = 0; by < 2; by++)
				for (int ov = 0; ov < 2; ov++) {
					struct chunk_opts o = opts(maxes[m], ov ? maxes[m] / 4 : 0);
					struct moat_err e = MOAT_ERR_INIT;
					long n;
					o.by = by ? CHUNK_BY_ELEMENT : CHUNK_BY_SECTION;
					o.no_offsets = no_offsets;
					n = chunk_document(t, &o, dtext(d), d->text.len, d->el, d->n, &cl, &e);
					if (n < 0)
						fail_msg("seed %u max %d: %s", seed, maxes[m], e.msg);
					assert_true(n > 0);
					check_chunks(t, &o, d, &cl);
					if (no_offsets)
						for (size_t i = 0; i < cl.n; i++)
							assert_true(cl.v[i].counted);
				}
		tdoc_free(d);
	}
	chunk_list_release(&cl);
}

static void sizes_chars(void **state)
{
	static const int maxes[] = { 8, 16, 33, 100, 512 };
	(void)state;
	sizes_fit(chars_t, 0, maxes, 5, 1);
}

/* The family emoji is 26 byte tokens on its own (with SentencePiece's space):
 * small limits get text without emoji. */
static void sizes_tiny_gguf(void **state)
{
	static const int small[] = { 12, 16, 33 }, large[] = { 40, 100, 512 };
	(void)state;
	need_tiny();
	sizes_fit(tiny_t, 0, small, 3, 0);
	sizes_fit(tiny_t, 0, large, 3, 1);
}

static void sizes_tiny_gguf_without_offsets(void **state)
{
	static const int maxes[] = { 16, 40, 300 };
	(void)state;
	need_tiny();
	sizes_fit(tiny_t, 1, maxes, 3, 0);
}

static void exact_counts(void **state)
{
	struct tdoc *d = gen_doc(7, 200, 1);
	struct chunk_list a = CHUNK_LIST_INIT, b = CHUNK_LIST_INIT;
	struct chunk_opts o = opts(64, 8);
	size_t counted = 0;
	(void)state;
	need_tiny();
	run(tiny_t, &o, d, &a);
	for (size_t i = 0; i < a.n; i++)
		counted += (size_t)a.v[i].counted;
	assert_true(counted < a.n);  /* only those near the limit were tokenized again */
	o.exact = 1;
	run(tiny_t, &o, d, &b);      /* check_chunks compares every count */
	for (size_t i = 0; i < b.n; i++)
		assert_true(b.v[i].counted);
	chunk_list_release(&a);
	chunk_list_release(&b);
	tdoc_free(d);
}

/* ---- same input, same chunks ---- */

/* Chunks of t, and of the same tokenizer opened again from spec, are the
 * same, and so are their settings. */
static void same_chunks(struct chunk_tokenizer *t, const char *spec, const char *id_prefix)
{
	struct tdoc *d = gen_doc(11, 300, 1);
	struct chunk_list a = CHUNK_LIST_INIT, b = CHUNK_LIST_INIT;
	struct chunk_opts o = opts(50, 10);
	struct moat_err e = MOAT_ERR_INIT;
	struct chunk_tokenizer *again = chunk_tokenizer_open(spec, NULL, &e);
	json_t *s1, *s2;
	assert_non_null(again);
	run(t, &o, d, &a);
	run(again, &o, d, &b);
	assert_int_equal(a.n, b.n);
	assert_memory_equal(a.v, b.v, a.n * sizeof(*a.v));
	s1 = chunk_settings(t, &o);
	s2 = chunk_settings(again, &o);
	assert_true(json_equal(s1, s2));
	assert_int_equal(json_integer_value(json_object_get(s1, "max_tokens")), 50);
	assert_string_equal(json_string_value(json_object_get(s1, "tokenizer")), chunk_tokenizer_id(t));
	assert_memory_equal(chunk_tokenizer_id(t), id_prefix, strlen(id_prefix));
	json_decref(s1);
	o.max_tokens = 51;  /* other settings, another set */
	s1 = chunk_settings(t, &o);
	assert_false(json_equal(s1, s2));
	json_decref(s1);
	json_decref(s2);
	chunk_tokenizer_free(again);
	chunk_list_release(&a);
	chunk_list_release(&b);
	tdoc_free(d);
}

static void deterministic_chars(void **state)
{
	(void)state;
	same_chunks(chars_t, "chars", "chars");
}

static void deterministic_tiny_gguf(void **state)
{
	struct chunk_tokenizer *t = need_tiny();  /* sets tiny_uri */
	(void)state;
	same_chunks(t, tiny_uri, "sha256:");
}

/* ---- errors ---- */

static void expect_error(const struct chunk_opts *o, const char *text, const struct chunk_el *el,
			 size_t n, int code, const char *part)
{
	struct chunk_list cl = CHUNK_LIST_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	assert_int_equal(chunk_document(chars_t, o, text, strlen(text), el, n, &cl, &e), -1);
	assert_int_equal(cl.n, 0);
	assert_int_equal(e.code, code);
	if (!strstr(e.msg, part))
		fail_msg("'%s' does not say '%s'", e.msg, part);
	chunk_list_release(&cl);
}

static void errors(void **state)
{
	struct chunk_el el[2] = { { EL_PARAGRAPH, 0, 0, 0, 5 }, { EL_PARAGRAPH, 0, 0, 7, 12 } };
	struct chunk_opts o = opts(0, 0);
	struct chunk_list cl = CHUNK_LIST_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	const char *text = "hello\n\nworld";
	(void)state;
	expect_error(&o, text, el, 2, MOAT_EUSAGE, "max tokens must be at least 1");
	o = opts(10, 10);
	expect_error(&o, text, el, 2, MOAT_EUSAGE, "overlap must be from 0 to max tokens - 1 (9), not 10");
	o = opts(10, 11);
	assert_int_equal(chunk_opts_check(&o, &e), -1);
	o = opts(10, -1);
	expect_error(&o, text, el, 2, MOAT_EUSAGE, "overlap");
	o = opts(10, 0);
	assert_int_equal(chunk_opts_check(&o, &e), 0);
	el[1].start = 4;
	expect_error(&o, text, el, 2, MOAT_EUSAGE, "element 1: offsets [4, 12) overlap");
	el[1].start = 7;
	el[1].end = 13;
	expect_error(&o, text, el, 2, MOAT_EUSAGE, "element 1: offsets [7, 13) run past the text");
	el[1].end = 12;
	expect_error(&o, "hel\xff\n\nworld", el, 2, MOAT_EPARSE, "not UTF-8 at byte 3");
	o = opts(3, 0);
	{
		struct chunk_el one = { EL_PARAGRAPH, 0, 0, 0, 7 };
		expect_error(&o, "👩‍👩‍👧‍👦", &one, 1, MOAT_ELIMIT, "max tokens 3 is too small");
	}
	/* nothing to chunk */
	assert_int_equal(chunk_document(chars_t, &o, "", 0, NULL, 0, &cl, &e), 0);
	el[0].end = 3;
	el[1].start = el[1].end = 5;
	assert_int_equal(chunk_document(chars_t, &o, "   \n\n", 5, el, 2, &cl, &e), 0);
	assert_null(chunk_tokenizer_open("gguf:/nonexistent/model.gguf", NULL, &e));
	assert_non_null(strstr(e.msg, "/nonexistent/model.gguf"));
	chunk_list_release(&cl);
}

/* ---- the model layer's token offsets ---- */

static const char *const samples[] = {
	"", "a", "Hello world.", " leading space", "  two spaces", "\n\nnew lines\n", "tab\there",
	"👩‍👩‍👧‍👦 family, e\u0301te\u0301, مرحبا بالعالم, 数据集", "<s> looks special </s> [INST]",
	"trailing space ",
};

static void check_ends(struct llm *m, const char *text)
{
	struct moat_err e = MOAT_ERR_INIT;
	uint32_t *ends = NULL;
	long n = llm_token_ends(m, text, strlen(text), &ends, &e);
	long count = llm_count_tokens(m, text, &e);
	if (n < 0)
		fail_msg("'%s': %s", text, e.msg);
	assert_int_equal(n, count);
	for (long i = 1; i < n; i++)
		assert_true(ends[i] >= ends[i - 1]);
	if (n)
		assert_int_equal(ends[n - 1], strlen(text));
	else
		assert_null(ends);
	free(ends);
}

static void token_ends_embedded(void **state)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct llm *m;
	(void)state;
	need_tiny();
	m = llm_open(tiny_uri, NULL, &e);
	assert_non_null(m);
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		check_ends(m, samples[i]);
	llm_free(m);
}

#ifdef MOAT_WITH_LLAMA
struct vpieces {
	const struct llama_vocab *v;
	const llama_token *tok;
	char buf[512];
};

static const char *vpiece(void *ud, size_t i, size_t *len, struct moat_err *e)
{
	struct vpieces *p = ud;
	int32_t n = llama_token_to_piece(p->v, p->tok[i], p->buf, (int32_t)sizeof(p->buf), 0, false);
	(void)e;
	assert_true(n >= 0);
	*len = (size_t)n;
	return p->buf;
}
#endif

/* The pieces of vocabularies llama.cpp ships spell the text back (or are
 * refused when the tokenizer changes it), whatever its kind: SentencePiece
 * (llama, phi-3), byte-level BPE (GPT-2, Llama 3, Qwen 2), WordPiece (BERT). */
#define VOCABS "llama-spm.gguf phi-3.gguf gpt-2.gguf llama-bpe.gguf qwen2.gguf bert-bge.gguf"

static void token_ends_vocabularies(void **state)
{
#ifdef MOAT_WITH_LLAMA
	const char *dir = getenv("MOAT_LLAMA_DIR");
	char path[4096];
	DIR *dh;
	struct dirent *de;
	int spm = 0, bpe = 0, refused = 0;
	(void)state;
	need_tiny();
	if (!dir || xsnprintf(path, sizeof(path), "%s/vocab", dir) < 0 || !(dh = opendir(path)))
		skip();
	while ((de = readdir(dh))) {
		struct llama_model_params mp = llama_model_default_params();
		struct llama_model *model;
		const struct llama_vocab *v;
		if (!strstr(de->d_name, ".gguf") || !strstr(VOCABS, de->d_name + strlen("ggml-vocab-")))
			continue;
		assert_true(xsnprintf(path, sizeof(path), "%s/vocab/%s", dir, de->d_name) > 0);
		mp.vocab_only = true;
		model = llama_model_load_from_file(path, mp);
		if (!model)
			continue;
		v = llama_model_get_vocab(model);
		for (size_t s = 1; s < sizeof(samples) / sizeof(samples[0]); s++) {
			const char *text = samples[s];
			llama_token tok[512];
			uint32_t ends[512];
			struct vpieces p = { v, tok, "" };
			struct moat_err e = MOAT_ERR_INIT;
			int32_t n = llama_tokenize(v, text, (int32_t)strlen(text), tok, 512, false, false);
			assert_true(n >= 0);
			if (llm_ends_from_pieces(text, strlen(text), (size_t)n, vpiece, &p, ends, &e) < 0) {
				assert_int_equal(e.code, MOAT_EUNSUPPORTED);
				refused++;
				continue;
			}
			if (n)
				assert_int_equal(ends[n - 1], strlen(text));
			if (llama_vocab_type(v) == LLAMA_VOCAB_TYPE_SPM)
				spm++;
			if (llama_vocab_type(v) == LLAMA_VOCAB_TYPE_BPE)
				bpe++;
		}
		llama_model_free(model);
	}
	closedir(dh);
	assert_true(spm > 0 && bpe > 0);
	(void)refused;  /* BERT's WordPiece lowercases and marks word pieces: refused */
#else
	(void)state;
	skip();
#endif
}

/* ---- llama-server ---- */

#define WAIT_S 120.0

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* The port llama-server says it listens on once it has loaded the model. */
static int reported_port(const char *log)
{
	static const char mark[] = "listening on http://127.0.0.1:";
	struct buf b = BUF_INIT;
	const char *p;
	int port = 0;
	if (fs_read_file(log, &b, 0, NULL) == 0 && (p = strstr(buf_str(&b), mark)))
		port = (int)strtol(p + sizeof(mark) - 1, NULL, 10);
	buf_release(&b);
	return port;
}

static void openai_same_chunks(void **state)
{
	const char *dir = getenv("MOAT_LLAMA_DIR");
	char bin[4096], log[4096], uri[128];
	struct chunk_tokenizer *srv = NULL;
	struct moat_err e = MOAT_ERR_INIT;
	struct chunk_list a = CHUNK_LIST_INIT, b = CHUNK_LIST_INIT;
	struct chunk_opts o = opts(40, 6);
	struct tdoc *d;
	double end = mono_s() + WAIT_S;
	int port = 0;
	pid_t pid;
	(void)state;
	need_tiny();
	if (!dir || xsnprintf(bin, sizeof(bin), "%s/bin/llama-server", dir) < 0 ||
	    access(bin, X_OK) != 0)
		skip();
	assert_true(xsnprintf(log, sizeof(log), "%s/llama-server.log", tmp) > 0);
	pid = fork();
	if (pid == 0) {
		char *argv[] = { bin, "-m", tiny_uri + 5, "--host", "127.0.0.1", "--port", "0", "-c", "512",
				 "-np", "1", "-t", "1", "--no-webui", NULL };
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(bin, argv);
		_exit(127);
	}
	while (!port && waitpid(pid, NULL, WNOHANG) == 0 && mono_s() < end) {
		port = reported_port(log);
		if (!port)
			sleep_ms(50);
	}
	if (port) {
		assert_true(xsnprintf(uri, sizeof(uri), "openai://127.0.0.1:%d/v1/", port) > 0);
		while (!srv && mono_s() < end) {
			srv = chunk_tokenizer_open(uri, NULL, &e);
			if (!srv)
				sleep_ms(50);
		}
	}
	if (!srv) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("llama-server did not start (see %s): %s", log, e.msg);
	}
	d = gen_doc(5, 120, 1);
	run(tiny_t, &o, d, &a);
	run(srv, &o, d, &b);
	assert_int_equal(a.n, b.n);
	for (size_t i = 0; i < a.n; i++) {
		assert_int_equal(a.v[i].byte_start, b.v[i].byte_start);
		assert_int_equal(a.v[i].byte_end, b.v[i].byte_end);
		assert_int_equal(a.v[i].tokens, b.v[i].tokens);
	}
	/* the server on this machine serves the same file: the same identity */
	assert_string_equal(chunk_tokenizer_id(srv), chunk_tokenizer_id(tiny_t));
	{
		struct llm *m = llm_open(uri, NULL, &e);
		assert_non_null(m);
		for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
			check_ends(m, samples[i]);
		llm_free(m);
	}
	chunk_tokenizer_free(srv);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	chunk_list_release(&a);
	chunk_list_release(&b);
	tdoc_free(d);
}

/* ---- set-up ---- */

static int setup(void **state)
{
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
	tmp = tu_tmpdir();
	chars_t = chunk_tokenizer_open("chars", NULL, &e);
	return chars_t ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	chunk_tokenizer_free(chars_t);
	chunk_tokenizer_free(tiny_t);
	free(tiny_uri);
	tu_rmtree(tmp);
	free(tmp);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(headings_start_chunks),
		cmocka_unit_test(joins_up_to_max),
		cmocka_unit_test(splits_at_sentences_then_words_then_graphemes),
		cmocka_unit_test(heading_stays_with_its_text),
		cmocka_unit_test(by_element),
		cmocka_unit_test(overlap),
		cmocka_unit_test(graphemes_chars),
		cmocka_unit_test(graphemes_tiny_gguf),
		cmocka_unit_test(sizes_chars),
		cmocka_unit_test(sizes_tiny_gguf),
		cmocka_unit_test(sizes_tiny_gguf_without_offsets),
		cmocka_unit_test(exact_counts),
		cmocka_unit_test(deterministic_chars),
		cmocka_unit_test(deterministic_tiny_gguf),
		cmocka_unit_test(errors),
		cmocka_unit_test(token_ends_embedded),
		cmocka_unit_test(token_ends_vocabularies),
		cmocka_unit_test(openai_same_chunks),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);  /* one test by name, when run by hand */
	return cmocka_run_group_tests(tests, setup, teardown);
}
