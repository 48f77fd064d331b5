/*
 * text.c - plain text: encoding detected (UTF-8, UTF-16 with BOM, cp1252 or
 * ISO-8859-1) and recorded; blocks separated by blank lines become
 * paragraphs, bulleted or numbered lines list items, a short first line a
 * title, and a lone line ending in ':' a heading.
 *
 * Not for: Markdown, HTML or delimited text (their own readers), which
 * detect.c sends elsewhere.
 */
#include "reader.h"
#include "../core/utf8.h"

#include <ctype.h>
#include <string.h>

#include "../core/banned.h"

/* Length of a list marker at the start of line ("- ", "* ", "1. ", "a) "), or 0. */
static size_t list_marker(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i + 1 < len && (s[i] == '-' || s[i] == '*' || s[i] == '+') && s[i + 1] == ' ')
		return i + 2;
	if (i + 3 < len && !memcmp(s + i, "\xE2\x80\xA2", 3))  /* U+2022 bullet */
		return i + 3 + (s[i + 3] == ' ');
	{
		size_t j = i;
		while (j < len && j - i < 3 && isdigit((unsigned char)s[j]))
			j++;
		if (j > i && j + 1 < len && (s[j] == '.' || s[j] == ')') && s[j + 1] == ' ')
			return j + 2;
	}
	return 0;
}

static int blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)s[i]))
			return 0;
	return 1;
}

static void flush_block(struct doc *d, const char *s, size_t len, int first, int more_follows)
{
	const char *nl;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	nl = memchr(s, '\n', len);
	if (!nl) {
		size_t n = len;
		while (n && isspace((unsigned char)s[n - 1]))
			n--;
		if (first && more_follows && n <= 80 && n && !strchr(".!?;,", s[n - 1])) {
			doc_add(d, EL_TITLE, 0, s, len, NULL);
			return;
		}
		if (n && n <= 80 && s[n - 1] == ':') {
			doc_add(d, EL_HEADING, 1, s, len, NULL);
			return;
		}
	}
	doc_add(d, EL_PARAGRAPH, 0, s, len, NULL);
}

int ingest_text(const unsigned char *data, size_t len, const struct ingest_opts *o,
		struct doc *d, struct moat_err *e)
{
	struct buf raw = BUF_INIT, t = BUF_INIT;
	const char *p, *end, *block = NULL;
	int first = 1;
	(void)o;
	d->encoding = utf8_decode_text(&raw, data, len);
	if (buf_failed(&raw)) {
		buf_release(&raw);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	/* Line ends to \n. */
	for (size_t i = 0; i < raw.len; i++) {
		if (raw.data[i] == '\r') {
			buf_addch(&t, '\n');
			if (i + 1 < raw.len && raw.data[i + 1] == '\n')
				i++;
		} else {
			buf_addch(&t, raw.data[i]);
		}
	}
	buf_release(&raw);
	if (buf_failed(&t)) {
		buf_release(&t);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	p = buf_str(&t);
	end = p + t.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t ll = (size_t)(le - p), m;
		if (blank(p, ll)) {
			if (block) {
				flush_block(d, block, (size_t)(p - block), first, 1);
				first = 0;
				block = NULL;
			}
		} else if ((m = list_marker(p, ll)) != 0) {
			if (block) {
				flush_block(d, block, (size_t)(p - block), first, 1);
				first = 0;
				block = NULL;
			}
			size_t indent = 0;
			while (indent < ll && (p[indent] == ' ' || p[indent] == '\t'))
				indent++;
			doc_add(d, EL_LIST_ITEM, 1 + (int)(indent / 2), p + m, ll - m, NULL);
			first = 0;
		} else if (!block) {
			block = p;
		}
		p = nl ? nl + 1 : end;
	}
	if (block)
		flush_block(d, block, (size_t)(end - block), first, 0);
	buf_release(&t);
	return 0;
}
