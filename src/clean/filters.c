/*
 * filters.c - the rules of a filter policy (policy.h) applied to one text:
 * length in characters, words, the share of symbols and of digits, repeated
 * lines, language and its score.  The first rule that fails names the drop.
 *
 * Not for: reading filter policies (policy.c) or deciding what a drop does
 * (the stage marks, never deletes).
 */
#include "stage_int.h"
#include "../core/utf8.h"

#include <ctype.h>
#include <string.h>

#include <utf8proc.h>

#include "../core/banned.h"

struct text_counts {
	size_t cps, words, symbols, digits, nonspace;
};

static void count_text(const char *t, size_t n, struct text_counts *k)
{
	int in_word = 0;
	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < n;) {
		uint32_t c;
		int l = utf8_decode((const unsigned char *)t + i, n - i, &c), cat;
		if (l <= 0)
			l = 1;
		i += (size_t)l;
		k->cps++;
		cat = c < 0x80 ? -1 : (int)utf8proc_category((utf8proc_int32_t)c);
		if (c == ' ' || c == '\n' || c == '\t' || cat == UTF8PROC_CATEGORY_ZS) {
			in_word = 0;
			continue;
		}
		k->nonspace++;
		if (c < 0x80 ? isdigit((int)c) : cat == UTF8PROC_CATEGORY_ND) {
			k->digits++;
		} else if (c < 0x80 ? !isalpha((int)c)
				    : !(cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) &&
				      !(cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME)) {
			k->symbols++;
		}
		if (!in_word)
			k->words++;
		in_word = 1;
	}
}

/* Lines, and lines seen before in the text; -1 when out of memory. */
static int count_repeats(const char *t, size_t n, size_t *lines, size_t *repeated)
{
	struct hashcount seen = HASHCOUNT_INIT;
	*lines = *repeated = 0;
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(t + i, '\n', n - i);
		size_t le = nl ? (size_t)(nl - t) : n;
		if (le > i) {
			uint64_t h = norm_line_hash(t + i, le - i);
			(*lines)++;
			if (hashcount_get(&seen, h)) {
				(*repeated)++;
			} else if (hashcount_add(&seen, h, 1) < 0) {
				hashcount_release(&seen);
				return -1;
			}
		}
		i = le + 1;
	}
	hashcount_release(&seen);
	return 0;
}

/* Is code one of the comma-separated codes of list? */
static int in_list(const char *list, const char *code)
{
	size_t cl = strlen(code);
	for (const char *p = list; *p;) {
		size_t l = strcspn(p, ",");
		if (l == cl && !memcmp(p, code, cl))
			return 1;
		p += l;
		if (*p)
			p++;
	}
	return 0;
}

int clean_filter_type(const struct filter_rules *r, const char *type, const char **kind,
		      struct buf *reason)
{
	*kind = NULL;
	if (!r->drop_types[0] || !in_list(r->drop_types, type))
		return 0;
	buf_addf(reason, "element type %s: drop_types", type);
	*kind = "type";
	return buf_failed(reason) ? -1 : 0;
}

int clean_filter(const struct filter_rules *r, const char *t, size_t n, const struct langid *lang,
		 const char **kind, struct buf *reason)
{
	struct text_counts k;
	*kind = NULL;
	if (!r->set)
		return 0;
	count_text(t, n, &k);
	if (r->min_chars >= 0 && k.cps < (size_t)r->min_chars) {
		buf_addf(reason, "too short: %zu characters < min_chars %ld", k.cps, r->min_chars);
		*kind = "too_short";
	} else if (r->max_chars >= 0 && k.cps > (size_t)r->max_chars) {
		buf_addf(reason, "too long: %zu characters > max_chars %ld", k.cps, r->max_chars);
		*kind = "too_long";
	} else if (r->min_words >= 0 && k.words < (size_t)r->min_words) {
		buf_addf(reason, "too few words: %zu < min_words %ld", k.words, r->min_words);
		*kind = "few_words";
	} else if (r->max_symbol_ratio >= 0 && k.nonspace &&
		   (double)k.symbols / (double)k.nonspace > r->max_symbol_ratio) {
		buf_addf(reason, "symbol ratio %.2f > max_symbol_ratio %.2f",
			 (double)k.symbols / (double)k.nonspace, r->max_symbol_ratio);
		*kind = "symbols";
	} else if (r->max_digit_ratio >= 0 && k.nonspace &&
		   (double)k.digits / (double)k.nonspace > r->max_digit_ratio) {
		buf_addf(reason, "digit ratio %.2f > max_digit_ratio %.2f",
			 (double)k.digits / (double)k.nonspace, r->max_digit_ratio);
		*kind = "digits";
	}
	if (!*kind && r->max_repeated_line_ratio >= 0) {
		size_t lines, repeated;
		if (count_repeats(t, n, &lines, &repeated) < 0)
			return -1;
		if (lines && (double)repeated / (double)lines > r->max_repeated_line_ratio) {
			buf_addf(reason, "repeated lines %.2f > max_repeated_line_ratio %.2f",
				 (double)repeated / (double)lines, r->max_repeated_line_ratio);
			*kind = "repeated_lines";
		}
	}
	if (!*kind && r->languages[0] && !in_list(r->languages, lang->code)) {
		buf_addf(reason, "language %s not in languages %s", lang->code, r->languages);
		*kind = "language";
	} else if (!*kind && r->min_language_score >= 0 && lang->score < r->min_language_score) {
		buf_addf(reason, "language score %.2f < min_language_score %.2f", (double)lang->score,
			 r->min_language_score);
		*kind = "language_score";
	}
	return buf_failed(reason) ? -1 : 0;
}
