/*
 * chunk.h - one document's text cut into chunks that follow its structure
 * and fit a model's context, counted in the model's own tokens or in
 * characters (issue 12, "Chunk").
 *
 * A chunk is a slice of the document's text: whole elements joined (with the
 * document's blank-line separators inside the slice), or a part of an
 * element, or the end of one element and the start of the next.  The rules:
 *  - a heading or a title starts a chunk (headings that follow each other
 *    with nothing between stay together: "Title / Chapter 1 / 1.1");
 *  - elements are joined while the chunk fits max_tokens; when the next one
 *    does not fit, the chunk ends at the last element boundary that fits,
 *    else at the last sentence boundary, else the last word boundary, else
 *    the last grapheme boundary (utf8proc), never inside a code point or a
 *    grapheme cluster.  A heading's own end counts as a word boundary, so a
 *    heading stays with the first sentences of the text under it;
 *  - CHUNK_BY_ELEMENT: every element starts a chunk and is split when too
 *    large, never joined;
 *  - overlap: a chunk that continues the same section (no heading, or with
 *    CHUNK_BY_ELEMENT the same element, in between) starts with up to overlap
 *    tokens of the end of the chunk before it, from a word boundary on; a
 *    chunk never repeats text from further back than the one before it;
 *  - whitespace at a chunk's edges is left out; elements with no text but
 *    whitespace are in no chunk's element range unless they lie inside it.
 * The same text, elements, options and tokenizer give the same chunks.
 *
 * Token counts.  The text is tokenized once, with where each token ends
 * (llm_token_ends); a chunk's estimate is the number of those tokens it
 * overlaps.  Tokenized on its own, a chunk's text can come out a token or two
 * different at its edges (SentencePiece's leading space, a word tokenized
 * without the space before it, a token cut by a grapheme split), so a chunk
 * whose estimate comes within CHUNK_RECOUNT_MARGIN tokens of the limit is
 * tokenized on its own and made smaller until it fits, and its count is then
 * its own.  Every chunk tokenizes on its own to at most
 * max_tokens; `tokens` is exact for "chars", for every chunk with
 * opts.exact, and for every chunk of a tokenizer that cannot say where its
 * tokens end (a normalising one), which is counted chunk by chunk.
 *
 * Not for: the store (`moat chunk` keeps chunk sets there), choosing models,
 * or embeddings.  May use: core/ (utf8, buf, err), llm/ (llm.h only), doc.h's
 * element types, utf8proc and jansson.
 *
 * Ownership: a tokenizer from chunk_tokenizer_open() owns its model handle;
 * one from chunk_tokenizer_from_llm() borrows it (the handle must outlive
 * it).  A tokenizer is used by one thread at a time (open one per worker).
 * A struct chunk_list owns its array; chunk_list_release() frees it.
 * Chunks point into no memory: their text is text[byte_start, byte_end).
 */
#ifndef MOAT_CHUNK_H
#define MOAT_CHUNK_H

#include <stddef.h>

#include <jansson.h>

#include "../core/doc.h"
#include "../core/err.h"

struct llm;
struct llm_config;

/* The chunking rules' version: part of a chunk set's settings, raised when a
 * change of these rules changes chunks. */
#define CHUNK_RULES_VERSION 1
/* Estimates within this many tokens of the limit are checked by tokenizing
 * the chunk on its own.  A chunk alone came out at most 3 tokens above its
 * estimate in over 300,000 random slices of English and of mixed scripts, emoji
 * and long words, cut at words and inside words, with nine of the
 * vocabularies llama.cpp ships (SentencePiece and BPE: Llama 2 and 3, Qwen 2,
 * GPT-2, Phi-3, Falcon, StarCoder, DeepSeek, Command R). */
#define CHUNK_RECOUNT_MARGIN 4

struct chunk_tokenizer;

/* "chars" (a token is a code point), or a model URI (gguf:PATH, store:NAME,
 * openai://HOST/v1/NAME, ...) opened with llm_open() on cfg (NULL: the
 * defaults), without offloading layers to a GPU, and refused when its
 * tokenizer cannot be reached (MOAT_EUNSUPPORTED: an OpenAI-compatible server
 * other than llama-server).  NULL with e set. */
struct chunk_tokenizer *chunk_tokenizer_open(const char *spec, const struct llm_config *cfg,
					     struct moat_err *e) __attribute__((warn_unused_result));
/* The tokenizer of an open model, borrowed.  NULL with e set (out of memory). */
struct chunk_tokenizer *chunk_tokenizer_from_llm(struct llm *m, struct moat_err *e)
	__attribute__((warn_unused_result));
void chunk_tokenizer_free(struct chunk_tokenizer *t);
/* What identifies the tokenizer in a chunk set's settings: "chars", the
 * model's digest ("sha256:<hex>"), or its URI when no digest is known. */
const char *chunk_tokenizer_id(const struct chunk_tokenizer *t);
/* The number of tokens of text[0, len) tokenized on its own; -1 with e set. */
long chunk_count_tokens(struct chunk_tokenizer *t, const char *text, size_t len,
			struct moat_err *e) __attribute__((warn_unused_result));

enum chunk_by {
	CHUNK_BY_SECTION = 0,   /* headings start chunks; elements joined */
	CHUNK_BY_ELEMENT,       /* one element per chunk (split when too large) */
};
const char *chunk_by_name(enum chunk_by by);   /* "section", "element" */
int chunk_by_parse(const char *s);             /* -1 when unknown */

struct chunk_opts {
	int max_tokens;    /* 512 */
	int overlap;       /* 0; less than max_tokens */
	enum chunk_by by;  /* CHUNK_BY_SECTION */
	int exact;         /* 1: tokenize every chunk on its own for its count (slower) */
	int no_offsets;    /* 1: estimate as for a tokenizer that cannot say where its
			      tokens end, counting every chunk on its own (tests, checks) */
};
struct chunk_opts chunk_opts_default(void);
/* 0, or -1 with e (MOAT_EUSAGE) naming the bad option. */
int chunk_opts_check(const struct chunk_opts *o, struct moat_err *e)
	__attribute__((warn_unused_result));
/* A chunk set's settings: {"rules":CHUNK_RULES_VERSION,"by","max_tokens",
 * "overlap","exact","offsets","tokenizer":chunk_tokenizer_id}.  Equal
 * settings give equal chunks of equal text and elements.  New reference;
 * NULL when out of memory. */
json_t *chunk_settings(const struct chunk_tokenizer *t, const struct chunk_opts *o)
	__attribute__((warn_unused_result));

/* One element of the document, as the store has it. */
struct chunk_el {
	enum element_type type;
	int level;          /* heading level; not used by the rules yet */
	int page;           /* 1-based, 0 when none */
	size_t start, end;  /* code points into the text, end exclusive */
};

struct chunk {
	size_t el_first, el_last;   /* the elements it touches (indexes, inclusive) */
	int page_first, page_last;  /* their pages with a number; 0 when none has one */
	size_t start, end;          /* code points into the text, end exclusive */
	size_t byte_start, byte_end;
	int tokens;                 /* <= max_tokens */
	int counted;                /* 1: tokens is the count of the chunk's text on its own */
};

struct chunk_list {
	struct chunk *v;
	size_t n, alloc;
};
#define CHUNK_LIST_INIT { NULL, 0, 0 }

/* Cuts a document into chunks.  text[0, len) is its (cleaned) text, valid
 * UTF-8; el[n_el] its elements in order, not overlapping, inside the text.
 * out's chunks are replaced (its memory is reused); a document with no
 * element, or none with text, has none.  Returns the number of chunks, or -1
 * with e set and out emptied: MOAT_EUSAGE for bad options or elements,
 * MOAT_EPARSE for text that is not UTF-8, MOAT_ELIMIT when a single grapheme
 * cluster takes more than max_tokens tokens, else the tokenizer's error. */
long chunk_document(struct chunk_tokenizer *t, const struct chunk_opts *o, const char *text,
		    size_t len, const struct chunk_el *el, size_t n_el, struct chunk_list *out,
		    struct moat_err *e) __attribute__((warn_unused_result));
void chunk_list_release(struct chunk_list *l);

#endif
