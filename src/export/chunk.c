/*
 * chunk.c - a document's text cut into chunks by its structure and a token
 * budget (see chunk.h for the rules).
 *
 * How: the text is tokenized once into where each token ends (code points
 * for "chars"), so that the tokens of any slice are counted with two binary
 * searches.  Each chunk is then made greedily from its start: the furthest
 * byte the budget reaches is known at once, and the text up to it is scanned
 * once for the best break (element, sentence, word, grapheme).  A chunk near
 * the limit is tokenized on its own; when that count is over, the budget
 * shrinks (by the excess, or in proportion when estimates are rough) and the
 * chunk is made again.  A tokenizer that cannot say where its tokens end gets
 * estimates from pieces counted one by one, and every chunk is counted.
 *
 * Not for: the store or the command line.  Uses core/ (utf8, buf, err),
 * llm.h, utf8proc (grapheme breaks) and jansson.
 */
#include "chunk.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "../core/buf.h"
#include "../core/utf8.h"
#include "../llm/llm.h"

#include "../core/banned.h"

/* ---- tokenizers ---- */

struct chunk_tokenizer {
	struct llm *m;      /* NULL: chars */
	int owns;
	char *id;
	struct buf scratch; /* a NUL-terminated copy of a slice, for llm_count_tokens */
};

struct chunk_tokenizer *chunk_tokenizer_open(const char *spec, const struct llm_config *cfg,
					     struct moat_err *e)
{
	struct llm_config c;
	struct llm *m;
	struct chunk_tokenizer *t;
	if (!spec || !strcmp(spec, "chars")) {
		t = calloc(1, sizeof(*t));
		if (t && !(t->id = strdup("chars"))) {
			free(t);
			t = NULL;
		}
		if (!t)
			err_set(e, MOAT_ENOMEM, "out of memory");
		return t;
	}
	c = cfg ? *cfg : llm_config_default();
	c.n_gpu_layers = 0;  /* tokenizing needs no layer on a GPU */
	m = llm_open(spec, &c, e);
	if (!m)
		return NULL;
	if (llm_count_tokens(m, "a", e) < 0) {  /* a server without a tokenizer: say so now */
		llm_free(m);
		return NULL;
	}
	t = chunk_tokenizer_from_llm(m, e);
	if (!t) {
		llm_free(m);
		return NULL;
	}
	t->owns = 1;
	return t;
}

struct chunk_tokenizer *chunk_tokenizer_from_llm(struct llm *m, struct moat_err *e)
{
	struct chunk_tokenizer *t = calloc(1, sizeof(*t));
	json_t *info = llm_info(m);
	const char *id = json_string_value(json_object_get(info, "digest"));
	if (!id)
		id = json_string_value(json_object_get(info, "uri"));
	if (t && id)
		t->id = strdup(id);
	json_decref(info);
	if (!t || !t->id) {
		free(t);
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	t->m = m;
	return t;
}

void chunk_tokenizer_free(struct chunk_tokenizer *t)
{
	if (!t)
		return;
	if (t->owns)
		llm_free(t->m);
	buf_release(&t->scratch);
	free(t->id);
	free(t);
}

const char *chunk_tokenizer_id(const struct chunk_tokenizer *t)
{
	return t->id;
}

long chunk_count_tokens(struct chunk_tokenizer *t, const char *text, size_t len, struct moat_err *e)
{
	if (!t->m)
		return (long)utf8_count(text, len);
	buf_reset(&t->scratch);
	buf_add(&t->scratch, text, len);
	if (buf_failed(&t->scratch))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return llm_count_tokens(t->m, buf_str(&t->scratch), e);
}

/* ---- options ---- */

const char *chunk_by_name(enum chunk_by by)
{
	return by == CHUNK_BY_ELEMENT ? "element" : "section";
}

int chunk_by_parse(const char *s)
{
	if (!strcmp(s, "section"))
		return CHUNK_BY_SECTION;
	if (!strcmp(s, "element"))
		return CHUNK_BY_ELEMENT;
	return -1;
}

struct chunk_opts chunk_opts_default(void)
{
	struct chunk_opts o = { 512, 0, CHUNK_BY_SECTION, 0, 0 };
	return o;
}

int chunk_opts_check(const struct chunk_opts *o, struct moat_err *e)
{
	if (o->max_tokens < 1)
		return err_set(e, MOAT_EUSAGE, "max tokens must be at least 1 (not %d)", o->max_tokens);
	if (o->overlap < 0 || o->overlap >= o->max_tokens)
		return err_set(e, MOAT_EUSAGE, "overlap must be from 0 to max tokens - 1 (%d), not %d",
			       o->max_tokens - 1, o->overlap);
	if (o->by != CHUNK_BY_SECTION && o->by != CHUNK_BY_ELEMENT)
		return err_set(e, MOAT_EUSAGE, "unknown way to chunk (%d)", (int)o->by);
	return 0;
}

json_t *chunk_settings(const struct chunk_tokenizer *t, const struct chunk_opts *o)
{
	return json_pack("{s:i, s:s, s:i, s:i, s:b, s:b, s:s}", "rules", CHUNK_RULES_VERSION, "by",
			 chunk_by_name(o->by), "max_tokens", o->max_tokens, "overlap", o->overlap,
			 "exact", o->exact ? 1 : 0, "offsets", o->no_offsets ? 0 : 1, "tokenizer", t->id);
}

void chunk_list_release(struct chunk_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->alloc = 0;
}

/* ---- characters ---- */

/* Decodes the code point at text[p] (valid UTF-8); returns its length. */
static inline int cp_at(const char *text, size_t len, size_t p, uint32_t *cp)
{
	unsigned char c = (unsigned char)text[p];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	return utf8_decode((const unsigned char *)text + p, len - p, cp);
}

/* The start of the code point that ends at p (p > 0). */
static inline size_t cp_back(const char *text, size_t p)
{
	do
		p--;
	while (p && ((unsigned char)text[p] & 0xC0) == 0x80);
	return p;
}

/* White space that separates words (Unicode White_Space without the
 * no-break spaces). */
static int is_space(uint32_t c)
{
	if (c < 0x80)
		return c == ' ' || (c >= '\t' && c <= '\r');
	return c == 0x85 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A && c != 0x2007) || c == 0x2028 ||
	       c == 0x2029 || c == 0x205F || c == 0x3000;
}

/* Ends a sentence when white space follows. */
static int is_terminal(uint32_t c)
{
	switch (c) {
	case '.': case '!': case '?': case 0x037E: case 0x061F: case 0x06D4: case 0x0964: case 0x0965:
	case 0x2026: case 0x203C: case 0x2047: case 0x2048: case 0x2049:
	case 0x3002: case 0xFF01: case 0xFF0E: case 0xFF1F: case 0xFF61:
		return 1;
	}
	return 0;
}

/* Ends a sentence even with no white space after it (CJK full stops). */
static int is_cjk_terminal(uint32_t c)
{
	return c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == 0xFF61;
}

/* May follow a sentence's terminal before the break. */
static int is_closer(uint32_t c)
{
	switch (c) {
	case '"': case '\'': case ')': case ']': case '}': case 0xBB: case 0x2019: case 0x201D:
	case 0x3009: case 0x300B: case 0x300D: case 0x300F: case 0x3011: case 0xFF09:
		return 1;
	}
	return 0;
}

/* ---- one document ---- */

enum strength { BR_GRAPHEME = 0, BR_WORD, BR_SENTENCE, BR_ELEMENT, BR__COUNT };

struct el_x {
	size_t b0, b1;      /* the element in bytes */
	size_t bs, be;      /* without white space at its edges (bs == be: no text) */
	unsigned char head;
	unsigned char forced;  /* starts a chunk */
};

struct brk {
	size_t end;     /* the chunk before it ends here */
	size_t next;    /* the chunk after it starts here */
};

struct run {
	struct chunk_tokenizer *t;
	const struct chunk_opts *o;
	const char *text;
	size_t len;
	uint32_t *ends;     /* where each token ends */
	size_t nt;
	int approx;         /* ends are estimates: count every chunk on its own */
	struct el_x *el;
	size_t n_el;
	const struct chunk_el *in;
	struct chunk_list *out;
};

/* Tokens whose end is <= x. */
static size_t n_end_le(const struct run *r, size_t x)
{
	size_t lo = 0, hi = r->nt;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->ends[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Tokens whose end is < x. */
static size_t n_end_lt(const struct run *r, size_t x)
{
	size_t lo = 0, hi = r->nt;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->ends[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Tokens that begin before x. */
static size_t n_start_lt(const struct run *r, size_t x)
{
	size_t n;
	if (!x || !r->nt)
		return 0;
	n = 1 + n_end_lt(r, x);
	return n < r->nt ? n : r->nt;
}

/* The tokens text[s, e) overlaps. */
static size_t est(const struct run *r, size_t s, size_t e)
{
	size_t a, b;
	if (e <= s)
		return 0;
	a = n_start_lt(r, e);
	b = n_end_le(r, s);
	return a > b ? a - b : 0;
}

/* The furthest end a chunk from s may have with budget tokens (>= 1). */
static size_t reach(const struct run *r, size_t s, size_t budget)
{
	size_t k0 = n_end_le(r, s);
	if (k0 + budget >= r->nt)
		return r->len;
	return r->ends[k0 + budget - 1];
}

/* The element whose text (bs, be) holds p, from *j on (p only grows). */
static size_t el_at(const struct run *r, size_t *j, size_t p)
{
	while (*j + 1 < r->n_el && (r->el[*j].be <= p || r->el[*j].bs == r->el[*j].be))
		(*j)++;
	return *j;
}

/* The next element after j with text, or n_el. */
static size_t next_text(const struct run *r, size_t j)
{
	for (j++; j < r->n_el && r->el[j].bs == r->el[j].be; j++)
		;
	return j;
}

/* The best break in (f, lim]: the last one of the strongest kind found.
 * Elements from j (the one holding f) to sec (the section's last) are looked
 * at; returns the kind, or -1 when not even a grapheme boundary is there. */
static int find_break(const struct run *r, size_t j, size_t sec, size_t f, size_t lim, struct brk *out)
{
	struct brk best[BR__COUNT];
	int have[BR__COUNT] = { 0 };
	const char *text = r->text;
	const size_t j0 = j;
	for (; j <= sec && j < r->n_el; j = next_text(r, j)) {
		const struct el_x *x = &r->el[j];
		size_t p = f > x->bs ? f : x->bs, ws = 0;
		int in_ws = 0, nl = 0, term = 0, cjk = 0;
		if (x->bs >= lim || x->bs == x->be)
			break;
		while (p < x->be) {
			uint32_t c;
			int n = cp_at(text, r->len, p, &c);
			if (is_space(c)) {
				if (!in_ws) {
					ws = p;
					in_ws = 1;
					nl = 0;
				}
				nl |= c == '\n' || c == 0x2028 || c == 0x2029;
			} else {
				if (p > lim && !in_ws)
					break;
				if (in_ws) {
					if (ws > f && ws <= lim) {
						enum strength k = term || nl ? BR_SENTENCE : BR_WORD;
						best[k].end = ws;
						best[k].next = p;
						have[k] = 1;
					}
					in_ws = 0;
					term = cjk = 0;
				} else if (cjk && !is_closer(c) && p > f && p <= lim) {
					best[BR_SENTENCE].end = best[BR_SENTENCE].next = p;
					have[BR_SENTENCE] = 1;
				}
				if (is_terminal(c)) {
					term = 1;
					cjk = is_cjk_terminal(c);
				} else if (!is_closer(c)) {
					term = cjk = 0;
				}
			}
			p += (size_t)n;
		}
		if (x->be <= lim && x->be > f && j < sec) {
			enum strength k = x->head ? BR_WORD : BR_ELEMENT;
			best[k].end = x->be;
			best[k].next = r->el[next_text(r, j)].bs;
			have[k] = 1;
		}
		if (x->be > lim)
			break;
	}
	for (int k = BR__COUNT - 1; k > BR_GRAPHEME; k--)
		if (have[k]) {
			*out = best[k];
			return k;
		}
	/* one unbroken run of text from f past lim: its last grapheme boundary */
	{
		utf8proc_int32_t state = 0;
		uint32_t prev, c;
		size_t p = f, end = r->el[j0].be;
		p += (size_t)cp_at(text, r->len, p, &prev);
		while (p <= lim && p < end) {
			int n = cp_at(text, r->len, p, &c);
			if (utf8proc_grapheme_break_stateful((utf8proc_int32_t)prev, (utf8proc_int32_t)c, &state)) {
				best[BR_GRAPHEME].end = best[BR_GRAPHEME].next = p;
				have[BR_GRAPHEME] = 1;
			}
			prev = c;
			p += (size_t)n;
		}
	}
	if (!have[BR_GRAPHEME])
		return -1;
	*out = best[BR_GRAPHEME];
	return BR_GRAPHEME;
}

/* The first word start at or after p inside [p, end): after the white
 * space that follows p, or p itself when white space comes just before it
 * (before is 1 then); end when there is none. */
static size_t word_start(const struct run *r, size_t p, size_t end, int before)
{
	uint32_t c;
	int n;
	if (before && p < end && (cp_at(r->text, r->len, p, &c), !is_space(c)))
		return p;
	while (p < end && (n = cp_at(r->text, r->len, p, &c), !is_space(c)))
		p += (size_t)n;
	while (p < end && (n = cp_at(r->text, r->len, p, &c), is_space(c)))
		p += (size_t)n;
	return p;
}

/* Where the chunk after [s, e) (whose fresh text began at f, in element j
 * or later) starts with its overlap: the first word start from which at most
 * overlap tokens reach e, not before f and after s; e when there is none. */
static size_t overlap_start(const struct run *r, size_t j, size_t s, size_t f, size_t e)
{
	size_t k = n_start_lt(r, e), q = f > s ? f : s + 1, ov = (size_t)r->o->overlap;
	if (k > ov && r->ends[k - ov - 1] > q)
		q = r->ends[k - ov - 1];
	while (q < r->len && ((unsigned char)r->text[q] & 0xC0) == 0x80)
		q++;
	for (; j < r->n_el && q < e; j = next_text(r, j)) {
		const struct el_x *x = &r->el[j];
		size_t p;
		uint32_t c;
		if (x->bs == x->be || x->be <= q)
			continue;
		if (q <= x->bs)
			return x->bs < e ? x->bs : e;
		cp_at(r->text, r->len, cp_back(r->text, q), &c);
		p = word_start(r, q, x->be, is_space(c));
		if (p < x->be)
			return p < e ? p : e;
		q = x->be;
	}
	return e;
}

static int push(struct run *r, size_t s, size_t e, size_t tokens, int counted, struct moat_err *err)
{
	struct chunk *c;
	if (r->out->n == r->out->alloc) {
		size_t n = r->out->alloc ? r->out->alloc * 2 : 16;
		struct chunk *v = realloc(r->out->v, n * sizeof(*v));
		if (!v)
			return err_set(err, MOAT_ENOMEM, "out of memory");
		r->out->v = v;
		r->out->alloc = n;
	}
	c = &r->out->v[r->out->n++];
	memset(c, 0, sizeof(*c));
	c->byte_start = s;
	c->byte_end = e;
	c->tokens = (int)tokens;
	c->counted = counted;
	return 0;
}

static int too_small(const struct run *r, size_t f, size_t j, struct moat_err *e)
{
	uint32_t c;
	cp_at(r->text, r->len, f, &c);
	return err_set(e, MOAT_ELIMIT, "max tokens %d is too small: the character U+%04X at byte %zu "
		       "(element %zu) and what joins it take more", r->o->max_tokens, (unsigned)c, f, j);
}

/* The end of the grapheme cluster that begins at p (< end). */
static size_t grapheme_end(const struct run *r, size_t p, size_t end)
{
	utf8proc_int32_t state = 0;
	uint32_t prev, c;
	p += (size_t)cp_at(r->text, r->len, p, &prev);
	while (p < end) {
		int n = cp_at(r->text, r->len, p, &c);
		if (utf8proc_grapheme_break_stateful((utf8proc_int32_t)prev, (utf8proc_int32_t)c, &state))
			break;
		prev = c;
		p += (size_t)n;
	}
	return p;
}

/* The chunks of one section: elements a..b (those with text), from the
 * start of a to the end of b. */
static int chunk_section(struct run *r, size_t a, size_t b, struct moat_err *e)
{
	const size_t max = (size_t)r->o->max_tokens;
	const int model = r->t->m != NULL;
	size_t s = r->el[a].bs, f = s, sec_end = r->el[b].be, j = a;
	while (f < sec_end) {
		size_t budget = max, end, next, tokens;
		int counted = 0, one = 0;  /* one: try the grapheme cluster at f alone */
		el_at(r, &j, f);
		for (;;) {
			struct brk br;
			size_t lim = one ? grapheme_end(r, f, r->el[j].be) : reach(r, s, budget);
			int k = sec_end <= lim ? BR__COUNT : find_break(r, j, b, f, lim, &br);
			if (k == BR__COUNT) {
				end = next = sec_end;
			} else if (k > BR_GRAPHEME || (k == BR_GRAPHEME && s == f)) {
				end = br.end;
				next = br.next;
			} else if (s < f) {
				/* the overlap leaves no room for a word: drop it */
				s = f;
				budget = max;
				continue;
			} else if (model && !one) {
				/* estimates are only estimates: count the cluster itself */
				one = 1;
				continue;
			} else {
				return too_small(r, f, j, e);
			}
			tokens = est(r, s, end);
			if (model && (r->approx || r->o->exact || one || tokens + CHUNK_RECOUNT_MARGIN > max)) {
				long n = chunk_count_tokens(r->t, r->text + s, end - s, e);
				if (n < 0)
					return -1;
				if ((size_t)n > max) {
					/* make the estimate smaller by what the chunk alone is
					 * over, or in proportion, whichever is less (the edges
					 * of a chunk add a token or two; estimates without
					 * offsets may be off by a factor) */
					size_t over = (size_t)n - max, by_over = tokens > over ? tokens - over : 0,
					       by_ratio = tokens * max / (size_t)n;
					budget = by_over > by_ratio ? by_over : by_ratio;
					if (budget >= tokens)
						budget = tokens ? tokens - 1 : 0;
					if (budget >= 1 && !one)
						continue;
					if (s < f) {
						s = f;
						budget = max;
						continue;
					}
					if (!one) {
						one = 1;
						continue;
					}
					return too_small(r, f, j, e);
				}
				tokens = (size_t)n;
				counted = 1;
			}
			break;
		}
		if (push(r, s, end, tokens, counted || !model, e) < 0)
			return -1;
		if (next >= sec_end)
			break;
		s = r->o->overlap > 0 ? overlap_start(r, j, s, f, end) : next;
		if (s >= end)
			s = next;
		f = next;
	}
	return 0;
}

/* ends[] for "chars": a token per code point. */
static int char_ends(struct run *r, struct moat_err *e)
{
	size_t n = utf8_count(r->text, r->len), k = 0;
	r->ends = n ? malloc(n * sizeof(*r->ends)) : NULL;
	if (n && !r->ends)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	for (size_t p = 0; p < r->len;) {
		unsigned char c = (unsigned char)r->text[p];
		p += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		r->ends[k++] = (uint32_t)p;
	}
	r->nt = n;
	return 0;
}

/* ends[] for a tokenizer that cannot say where its tokens end: the tokens of
 * pieces of about 256 bytes (cut at white space) spread evenly over their
 * code points.  Only an estimate: every chunk is then counted on its own. */
static int approx_ends(struct run *r, struct moat_err *e)
{
	size_t alloc = 0;
	r->approx = 1;
	r->nt = 0;
	for (size_t j = 0; j < r->n_el; j++) {
		size_t p = r->el[j].bs;
		while (p < r->el[j].be) {
			size_t q = p + 256 < r->el[j].be ? p + 256 : r->el[j].be, cps, at = p, got = 0;
			long n;
			uint32_t c;
			while (q < r->el[j].be && ((unsigned char)r->text[q] & 0xC0) == 0x80)
				q++;
			q = word_start(r, q, r->el[j].be, 0);
			n = chunk_count_tokens(r->t, r->text + p, q - p, e);
			if (n < 0)
				return -1;
			if (r->nt + (size_t)n > alloc) {
				size_t na = (r->nt + (size_t)n) * 2 + 64;
				uint32_t *v = realloc(r->ends, na * sizeof(*v));
				if (!v)
					return err_set(e, MOAT_ENOMEM, "out of memory");
				r->ends = v;
				alloc = na;
			}
			cps = utf8_count(r->text + p, q - p);
			for (long k = 0; k < n; k++) {
				size_t want = ((size_t)k + 1) * cps / (size_t)n;
				while (got < want) {
					at += (size_t)cp_at(r->text, r->len, at, &c);
					got++;
				}
				r->ends[r->nt++] = (uint32_t)at;
			}
			p = q;
		}
	}
	return 0;
}

/* Byte offsets of the elements (code points in), checked. */
static int map_elements(struct run *r, struct moat_err *e)
{
	size_t cp = 0, b = 0;
	for (size_t i = 0; i < r->n_el; i++) {
		const struct chunk_el *in = &r->in[i];
		struct el_x *x = &r->el[i];
		size_t want[2] = { in->start, in->end }, *got[2] = { &x->b0, &x->b1 };
		uint32_t c;
		if (in->end < in->start || in->start < cp)
			return err_set(e, MOAT_EUSAGE, "element %zu: offsets [%zu, %zu) overlap the element "
				       "before it or run backwards", i, in->start, in->end);
		for (int k = 0; k < 2; k++) {
			while (cp < want[k] && b < r->len) {
				unsigned char ch = (unsigned char)r->text[b];
				b += ch < 0x80 ? 1 : ch < 0xE0 ? 2 : ch < 0xF0 ? 3 : 4;
				cp++;
			}
			if (cp < want[k])
				return err_set(e, MOAT_EUSAGE, "element %zu: offsets [%zu, %zu) run past the text "
					       "(%zu code points)", i, in->start, in->end, cp);
			*got[k] = b;
		}
		x->bs = x->b0;
		x->be = x->b1;
		while (x->bs < x->be && (cp_at(r->text, r->len, x->bs, &c), is_space(c)))
			x->bs += (size_t)cp_at(r->text, r->len, x->bs, &c);
		while (x->be > x->bs) {
			size_t q = cp_back(r->text, x->be);
			cp_at(r->text, r->len, q, &c);
			if (!is_space(c))
				break;
			x->be = q;
		}
		x->head = in->type == EL_HEADING || in->type == EL_TITLE;
	}
	return 0;
}

/* Element ranges, pages and code-point offsets of the chunks made (whose
 * starts and ends both never go back). */
static void finish(struct run *r)
{
	size_t js = 0, je = 0, ps = 0, cs = 0, pe = 0, ce = 0;
	for (size_t i = 0; i < r->out->n; i++) {
		struct chunk *c = &r->out->v[i];
		el_at(r, &js, c->byte_start);
		el_at(r, &je, c->byte_end - 1);
		if (je < js)
			je = js;
		c->el_first = js;
		c->el_last = je;
		for (size_t k = js; k <= je; k++) {
			int pg = r->in[k].page;
			if (pg <= 0)
				continue;
			if (!c->page_first || pg < c->page_first)
				c->page_first = pg;
			if (pg > c->page_last)
				c->page_last = pg;
		}
		cs += utf8_count(r->text + ps, c->byte_start - ps);
		ps = c->byte_start;
		ce += utf8_count(r->text + pe, c->byte_end - pe);
		pe = c->byte_end;
		c->start = cs;
		c->end = ce;
	}
}

long chunk_document(struct chunk_tokenizer *t, const struct chunk_opts *o, const char *text,
		    size_t len, const struct chunk_el *el, size_t n_el, struct chunk_list *out,
		    struct moat_err *e)
{
	struct run r;
	size_t bad, first = 0;
	int rc = 0;
	out->n = 0;
	if (chunk_opts_check(o, e) < 0)
		return -1;
	if (!text && len)
		return err_set(e, MOAT_EUSAGE, "no text");
	if ((bad = utf8_valid_prefix(text, len)) != len)
		return err_set(e, MOAT_EPARSE, "the text is not UTF-8 at byte %zu", bad);
	if (len >= UINT32_MAX)
		return err_set(e, MOAT_ELIMIT, "text of %zu bytes is too long to chunk", len);
	memset(&r, 0, sizeof(r));
	r.t = t;
	r.o = o;
	r.text = text;
	r.len = len;
	r.in = el;
	r.n_el = n_el;
	r.out = out;
	if (!n_el)
		return 0;
	r.el = calloc(n_el, sizeof(*r.el));
	if (!r.el)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (map_elements(&r, e) < 0)
		goto fail;

	/* sections: a heading starts one unless the text before it is headings only */
	{
		int prev_head = 0, any = 0;
		for (size_t i = 0; i < n_el; i++) {
			struct el_x *x = &r.el[i];
			if (x->bs == x->be)
				continue;
			x->forced = !any || o->by == CHUNK_BY_ELEMENT || (x->head && !prev_head);
			prev_head = x->head;
			any = 1;
		}
		if (!any)
			goto done;
	}

	if (!t->m) {
		rc = char_ends(&r, e);
	} else {
		struct moat_err why = MOAT_ERR_INIT;
		long n = o->no_offsets ? err_set(&why, MOAT_EUNSUPPORTED, "no offsets")
				       : llm_token_ends(t->m, text, len, &r.ends, &why);
		if (n >= 0)
			r.nt = (size_t)n;
		else if (why.code == MOAT_EUNSUPPORTED)
			rc = approx_ends(&r, e);
		else
			rc = err_set(e, why.code, "%s", why.msg);
	}
	if (rc < 0)
		goto fail;

	for (first = 0; first < n_el && r.el[first].bs == r.el[first].be; first++)
		;
	while (first < n_el) {
		size_t last = first, k;
		for (k = next_text(&r, first); k < n_el && !r.el[k].forced; k = next_text(&r, k))
			last = k;
		if (chunk_section(&r, first, last, e) < 0)
			goto fail;
		first = k;
	}
	finish(&r);
done:
	free(r.el);
	free(r.ends);
	return (long)out->n;
fail:
	free(r.el);
	free(r.ends);
	out->n = 0;
	return -1;
}
