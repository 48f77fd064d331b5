/*
 * test_ingest_formats.c - the text-format readers (plain text, CSV/TSV,
 * JSON/JSON Lines, Markdown, HTML) on inputs written here: element types,
 * levels, texts, code-point offsets on German, Korean and Thai text,
 * encodings and limits.  Then word-level F1 against the ground truth of the
 * shared corpus (read in place), each with a threshold set from what was
 * measured.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fmt.h"
#include "core/utf8.h"
#include "ingest/ingest.h"

/* ---- helpers --------------------------------------------------------------- */

/* Every element's offsets agree with the text: start counts the code points
 * before it, end - start the code points in it, and elements are joined by
 * exactly one blank line. */
static void check_offsets(const struct doc *d)
{
	size_t bytes = 0;
	for (size_t i = 0; i < d->n_el; i++) {
		const struct element *e = &d->el[i];
		if (i) {
			assert_int_equal(e->byte_start, bytes + 2);
			assert_memory_equal(d->text.data + bytes, "\n\n", 2);
		} else {
			assert_int_equal(e->byte_start, 0);
		}
		assert_int_equal(e->start, utf8_count(d->text.data, e->byte_start));
		assert_int_equal(e->end - e->start, utf8_count(doc_el_text(d, e), e->byte_len));
		assert_true(utf8_is_valid(doc_el_text(d, e), e->byte_len));
		assert_true(e->byte_len > 0);
		bytes = e->byte_start + e->byte_len;
	}
	assert_int_equal(bytes, d->text.len);
	assert_int_equal(d->text_cps, utf8_count(buf_str(&d->text), d->text.len));
}

static struct doc parse_opts(const char *format, const void *data, size_t len,
			     const struct ingest_opts *o)
{
	struct doc d;
	struct moat_err e = MOAT_ERR_INIT;
	assert_int_equal(doc_init(&d, (struct doc_limits){ o->max_elements, 0 }), 0);
	if (ingest_parse(format, data, len, o, &d, &e) != 0)
		fail_msg("ingest_parse(%s) failed: %s", format, e.msg);
	check_offsets(&d);
	return d;
}

static struct doc parse_bytes(const char *format, const char *s, size_t len)
{
	struct ingest_opts o = ingest_default_opts();
	return parse_opts(format, s, len, &o);
}

static struct doc parse(const char *format, const char *s)
{
	struct ingest_opts o = ingest_default_opts();
	return parse_opts(format, s, strlen(s), &o);
}

/* Element i has this type, level and text. */
static void expect(const struct doc *d, size_t i, enum element_type type, int level,
		   const char *text)
{
	const struct element *e;
	if (i >= d->n_el)
		fail_msg("element %zu missing (have %zu)", i, d->n_el);
	e = &d->el[i];
	if (e->type != type || e->level != level || e->byte_len != strlen(text) ||
	    memcmp(doc_el_text(d, e), text, e->byte_len))
		fail_msg("element %zu: got %s/%d '%.*s', want %s/%d '%s'", i,
			 element_type_name(e->type), e->level, (int)e->byte_len, doc_el_text(d, e),
			 element_type_name(type), level, text);
}

static void expect_span(const struct doc *d, size_t i, size_t start, size_t end)
{
	assert_true(i < d->n_el);
	assert_int_equal(d->el[i].start, start);
	assert_int_equal(d->el[i].end, end);
}

/* The element's metadata as compact JSON with sorted keys (malloc'd). */
static char *meta_json(const struct doc *d, size_t i)
{
	assert_true(i < d->n_el);
	assert_non_null(d->el[i].meta);
	return json_dumps(d->el[i].meta, JSON_COMPACT | JSON_SORT_KEYS);
}

static void expect_meta(const struct doc *d, size_t i, const char *json)
{
	char *m = meta_json(d, i);
	if (strcmp(m, json))
		fail_msg("element %zu meta: got %s, want %s", i, m, json);
	free(m);
}

static int parse_fails(const char *format, const void *data, size_t len,
		       const struct ingest_opts *o, struct moat_err *e)
{
	struct doc d;
	int rc;
	assert_int_equal(doc_init(&d, (struct doc_limits){ o->max_elements, 0 }), 0);
	rc = ingest_parse(format, data, len, o, &d, e);
	doc_release(&d);
	return rc;
}

/* ---- plain text ------------------------------------------------------------- */

static void text_structure(void **state)
{
	struct doc d = parse("text", "Quarterly Report\n\nFirst paragraph\nwith two lines.\n\n"
				     "Important points:\n\n- one\n  - nested\n2. two\n\nLast.");
	(void)state;
	assert_string_equal(d.encoding, "utf-8");
	expect(&d, 0, EL_TITLE, 0, "Quarterly Report");
	expect(&d, 1, EL_PARAGRAPH, 0, "First paragraph\nwith two lines.");
	expect(&d, 2, EL_HEADING, 1, "Important points:");
	expect(&d, 3, EL_LIST_ITEM, 1, "one");
	expect(&d, 4, EL_LIST_ITEM, 2, "nested");
	expect(&d, 5, EL_LIST_ITEM, 1, "two");
	expect(&d, 6, EL_PARAGRAPH, 0, "Last.");
	assert_int_equal(d.n_el, 7);
	expect_span(&d, 0, 0, 16);
	expect_span(&d, 1, 18, 49);
	doc_release(&d);
}

static void text_offsets_unicode(void **state)
{
	/* German (2-byte), Korean and Thai (3-byte) characters: offsets count
	 * code points, not bytes. */
	struct doc d = parse("text", "Größenänderung.\n\n한국어 텍스트입니다.\n\nภาษาไทย ง่าย.");
	(void)state;
	expect(&d, 0, EL_PARAGRAPH, 0, "Größenänderung.");
	expect(&d, 1, EL_PARAGRAPH, 0, "한국어 텍스트입니다.");
	expect(&d, 2, EL_PARAGRAPH, 0, "ภาษาไทย ง่าย.");
	expect_span(&d, 0, 0, 15);
	expect_span(&d, 1, 17, 28);   /* 3 + 1 + 6 + '.' = 11 code points */
	expect_span(&d, 2, 30, 43);   /* Thai: 7 + 1 + 4 (ง ่ า ย) + '.' = 13 */
	assert_int_equal(d.el[2].byte_len, 35);
	doc_release(&d);
}

static void text_encodings(void **state)
{
	struct ingest_opts o = ingest_default_opts();
	/* cp1252: "Größe 5 €" with CRLF line ends */
	const unsigned char cp1252[] = "Gr\xF6\xDF" "e 5 \x80\r\n\r\nna\xEF" "ve \x93quoted\x94";
	/* UTF-16LE and UTF-16BE with BOMs: "Hi 한\n\nx" */
	const unsigned char u16le[] = { 0xFF, 0xFE, 'H', 0, 'i', 0, ' ', 0, 0x5C, 0xD5, '\n', 0,
					'\n', 0, 'x', 0 };
	const unsigned char u16be[] = { 0xFE, 0xFF, 0, 'H', 0, 'i', 0, ' ', 0xD5, 0x5C, 0, '\n',
					0, '\n', 0, 'x' };
	struct doc d;
	(void)state;
	d = parse_opts("text", cp1252, sizeof(cp1252) - 1, &o);
	assert_string_equal(d.encoding, "windows-1252");
	expect(&d, 0, EL_TITLE, 0, "Größe 5 €");
	expect(&d, 1, EL_PARAGRAPH, 0, "naïve “quoted”");
	expect_span(&d, 1, 11, 25);
	doc_release(&d);

	d = parse_opts("text", u16le, sizeof(u16le), &o);
	assert_string_equal(d.encoding, "utf-16le");
	expect(&d, 0, EL_TITLE, 0, "Hi 한");
	expect(&d, 1, EL_PARAGRAPH, 0, "x");
	expect_span(&d, 1, 6, 7);
	doc_release(&d);

	d = parse_opts("text", u16be, sizeof(u16be), &o);
	assert_string_equal(d.encoding, "utf-16be");
	expect(&d, 0, EL_TITLE, 0, "Hi 한");
	doc_release(&d);

	d = parse_opts("text", "\xEF\xBB\xBFwith BOM", 11, &o);
	assert_string_equal(d.encoding, "utf-8-sig");
	expect(&d, 0, EL_PARAGRAPH, 0, "with BOM");
	doc_release(&d);
}

static void text_empty(void **state)
{
	struct doc d = parse("text", "");
	(void)state;
	assert_int_equal(d.n_el, 0);
	assert_int_equal(d.text.len, 0);
	doc_release(&d);
	d = parse("text", " \n\t\n\n ");
	assert_int_equal(d.n_el, 0);
	doc_release(&d);
}

/* ---- CSV / TSV ----------------------------------------------------------- */

static void csv_rows(void **state)
{
	struct doc d = parse("csv", "name,city,note\r\nAnna,\"Köln, DE\",\"said \"\"hi\"\"\"\r\n"
				    "\r\nBo,\"multi\nline\",\r\n김,서울,ไทย\r\n");
	char *cols;
	(void)state;
	expect(&d, 0, EL_TABLE_ROW, 0, "name | city | note");
	expect_meta(&d, 0, "{\"header\":true}");
	expect(&d, 1, EL_TABLE_ROW, 0, "Anna | Köln, DE | said \"hi\"");
	expect_meta(&d, 1, "{\"cells\":{\"city\":\"Köln, DE\",\"name\":\"Anna\",\"note\":\"said \\\"hi\\\"\"},"
			   "\"row\":1}");
	expect(&d, 2, EL_TABLE_ROW, 0, "Bo | multi\nline |");
	expect(&d, 3, EL_TABLE_ROW, 0, "김 | 서울 | ไทย");
	assert_int_equal(d.n_el, 4);
	/* "name | city | note" (18) + 2, "Anna | Köln, DE | said "hi"" (27) + 2 ... */
	expect_span(&d, 1, 20, 47);
	cols = json_dumps(d.meta, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(cols, "{\"columns\":[\"name\",\"city\",\"note\"],\"delimiter\":\",\",\"rows\":3}");
	free(cols);
	doc_release(&d);
}

static void csv_tsv_semicolon_and_errors(void **state)
{
	struct ingest_opts o = ingest_default_opts();
	struct moat_err e = MOAT_ERR_INIT;
	struct doc d = parse("tsv", "a\tb\n1\t2, 3\n");
	(void)state;
	expect(&d, 0, EL_TABLE_ROW, 0, "a | b");
	expect(&d, 1, EL_TABLE_ROW, 0, "1 | 2, 3");
	doc_release(&d);

	d = parse("csv", "Name;Preis\nKäse;3,50\n");
	expect(&d, 1, EL_TABLE_ROW, 0, "Käse | 3,50");
	expect_meta(&d, 1, "{\"cells\":{\"Name\":\"Käse\",\"Preis\":\"3,50\"},\"row\":1}");
	doc_release(&d);

	/* More cells than the header: named column_N. */
	d = parse("csv", "a\n1,2\n");
	expect_meta(&d, 1, "{\"cells\":{\"a\":\"1\",\"column_2\":\"2\"},\"row\":1}");
	doc_release(&d);

	assert_int_equal(parse_fails("csv", "a,b\n1,\"open\n", 12, &o, &e), -1);
	assert_int_equal(e.code, MOAT_EPARSE);
	assert_non_null(strstr(e.msg, "not closed"));
}

/* ---- JSON / JSON Lines ------------------------------------------------- */

static void json_records(void **state)
{
	struct doc d = parse("json", "[{\"text\": \"Hallo Welt\", \"id\": 1},"
				     " {\"text\": \"세계\", \"lang\": \"ko\"}, \"plain\"]");
	(void)state;
	expect(&d, 0, EL_RECORD, 0, "Hallo Welt");
	expect_meta(&d, 0, "{\"id\":1,\"record\":1}");
	expect(&d, 1, EL_RECORD, 0, "세계");
	expect_meta(&d, 1, "{\"lang\":\"ko\",\"record\":2}");
	expect(&d, 2, EL_RECORD, 0, "plain");
	expect_span(&d, 1, 12, 14);
	expect_span(&d, 2, 16, 21);
	doc_release(&d);
}

static void json_text_field_paths(void **state)
{
	struct ingest_opts o = ingest_default_opts();
	struct moat_err e = MOAT_ERR_INIT;
	const char *one = "{\"doc\": {\"body\": \"Inhalt\", \"title\": \"T\"}, \"n\": 2}";
	const char *arr = "{\"parts\": [{\"t\": \"zero\"}, {\"t\": \"ภาษาไทย\", \"k\": 1}]}";
	const char *lines = "{\"m\":{\"x\":\"a\"}}\r\n\n   \n{\"m\":{\"x\":\"b\"},\"id\":7}\n";
	struct doc d;
	(void)state;
	o.text_field = "doc.body";
	d = parse_opts("json", one, strlen(one), &o);
	expect(&d, 0, EL_RECORD, 0, "Inhalt");
	/* the text field leaves the metadata; its siblings stay */
	expect_meta(&d, 0, "{\"doc\":{\"title\":\"T\"},\"n\":2,\"record\":1}");
	doc_release(&d);

	o.text_field = "parts.1.t";
	d = parse_opts("json", arr, strlen(arr), &o);
	expect(&d, 0, EL_RECORD, 0, "ภาษาไทย");
	expect_span(&d, 0, 0, 7);
	expect_meta(&d, 0, "{\"parts\":[{\"t\":\"zero\"},{\"k\":1}],\"record\":1}");
	doc_release(&d);

	o.text_field = "m.x";
	d = parse_opts("jsonl", lines, strlen(lines), &o);
	assert_int_equal(d.n_el, 2);
	expect(&d, 0, EL_RECORD, 0, "a");
	expect(&d, 1, EL_RECORD, 0, "b");
	expect_meta(&d, 1, "{\"id\":7,\"m\":{},\"record\":2}");
	doc_release(&d);

	/* A record without the field, a field that is not a string, bad lines. */
	o.text_field = "body";
	assert_int_equal(parse_fails("json", one, strlen(one), &o, &e), -1);
	assert_non_null(strstr(e.msg, "--text-field"));
	o.text_field = "n";
	assert_int_equal(parse_fails("json", one, strlen(one), &o, &e), -1);
	assert_non_null(strstr(e.msg, "not a string"));
	o.text_field = NULL;
	{
		const char *bad = "{\"text\":\"ok\"}\n{\"text\":\n";
		assert_int_equal(parse_fails("jsonl", bad, strlen(bad), &o, &e), -1);
	}
	assert_non_null(strstr(e.msg, "line 2"));
	assert_int_equal(parse_fails("json", "42", 2, &o, &e), -1);
	assert_int_equal(parse_fails("json", "[1,", 3, &o, &e), -1);
	assert_int_equal(e.code, MOAT_EPARSE);
}

/* ---- Markdown ------------------------------------------------------------- */

static void markdown_blocks(void **state)
{
	const char *md =
		"Title\n=====\n\n"
		"## Größe *und* Maß\n\n"
		"Some *emph*, **strong**, a [link](http://x.invalid/) and ![the alt](i.png),\n"
		"a soft break.  \nA hard break, www.example.com, ~~struck~~ and `code`.\n\n"
		"- one\n  continued\n- two\n  1. two-a\n  2. two-b\n     - deep\n- three\n\n"
		"> quoted line\n> goes on\n>\n> - in quote\n\n"
		"```python extra\ndef f():\n    return 1\n```\n\n"
		"    indented code\n\n"
		"| Name | Größe |\n|------|------:|\n| Anna | 1,70 |\n| 김 | ไทย \\| x |\n\n"
		"<div>raw <b>html</b></div>\n\n"
		"<!-- only a comment -->\n\n"
		"***\n\n###### Six\n";
	struct doc d = parse("markdown", md);
	(void)state;
	assert_string_equal(d.format, "markdown");
	assert_string_equal(d.encoding, "utf-8");
	expect(&d, 0, EL_HEADING, 1, "Title");
	expect(&d, 1, EL_HEADING, 2, "Größe und Maß");
	expect(&d, 2, EL_PARAGRAPH, 0,
	       "Some emph, strong, a link and the alt, a soft break.\n"
	       "A hard break, www.example.com, struck and code.");
	expect(&d, 3, EL_LIST_ITEM, 1, "one continued");
	expect(&d, 4, EL_LIST_ITEM, 1, "two");
	expect(&d, 5, EL_LIST_ITEM, 2, "two-a");
	expect(&d, 6, EL_LIST_ITEM, 2, "two-b");
	expect(&d, 7, EL_LIST_ITEM, 3, "deep");
	expect(&d, 8, EL_LIST_ITEM, 1, "three");
	expect(&d, 9, EL_QUOTE, 0, "quoted line goes on\nin quote");
	expect(&d, 10, EL_CODE, 0, "def f():\n    return 1");
	expect_meta(&d, 10, "{\"info\":\"python extra\",\"language\":\"python\"}");
	expect(&d, 11, EL_CODE, 0, "indented code");
	assert_null(d.el[11].meta);
	expect(&d, 12, EL_TABLE, 0, "Name | Größe\nAnna | 1,70\n김 | ไทย | x");
	expect_meta(&d, 12, "{\"header_rows\":1,\"rows\":[[\"Name\",\"Größe\"],[\"Anna\",\"1,70\"],"
			    "[\"김\",\"ไทย | x\"]]}");
	expect(&d, 13, EL_PARAGRAPH, 0, "raw html");
	expect(&d, 14, EL_HEADING, 6, "Six");
	assert_int_equal(d.n_el, 15);
	/* "Title" 0-5, then "Größe und Maß" (13 code points, 16 bytes) 7-20 */
	expect_span(&d, 1, 7, 20);
	doc_release(&d);
}

static void markdown_unicode_and_encoding(void **state)
{
	struct ingest_opts o = ingest_default_opts();
	/* cp1252 Markdown: "# Café\n\nPreis: 5 €" */
	const unsigned char cp[] = "# Caf\xE9\n\nPreis: 5 \x80\n";
	struct doc d = parse("markdown", "# 한국어\n\nภาษาไทย *ง่าย*\n\n- Straße\n");
	(void)state;
	expect(&d, 0, EL_HEADING, 1, "한국어");
	expect(&d, 1, EL_PARAGRAPH, 0, "ภาษาไทย ง่าย");
	expect(&d, 2, EL_LIST_ITEM, 1, "Straße");
	expect_span(&d, 0, 0, 3);
	expect_span(&d, 1, 5, 17);
	expect_span(&d, 2, 19, 25);
	doc_release(&d);

	d = parse_opts("markdown", cp, sizeof(cp) - 1, &o);
	assert_string_equal(d.encoding, "windows-1252");
	expect(&d, 0, EL_HEADING, 1, "Café");
	expect(&d, 1, EL_PARAGRAPH, 0, "Preis: 5 €");
	doc_release(&d);

	/* Inline HTML is dropped, but <br> breaks the line. */
	d = parse("markdown", "one<br>two <span>three</span><BR/>four");
	expect(&d, 0, EL_PARAGRAPH, 0, "one\ntwo three\nfour");
	doc_release(&d);

	/* Entities decode; a NUL byte becomes U+FFFD (CommonMark). */
	d = parse_opts("markdown", "a &amp; b &eacute; \0 c", 22, &o);
	expect(&d, 0, EL_PARAGRAPH, 0, "a & b é \xEF\xBF\xBD c");
	doc_release(&d);
}

static void markdown_deep_nesting(void **state)
{
	/* Deep block quotes and emphasis must not exhaust the stack. */
	size_t n = 100000;
	char *s = malloc(2 * n + 8);
	struct doc d;
	struct ingest_opts o = ingest_default_opts();
	(void)state;
	assert_non_null(s);
	memset(s, '>', n);
	memcpy(s + n, " deep", 5);
	d = parse_opts("markdown", s, n + 5, &o);
	expect(&d, 0, EL_QUOTE, 0, "deep");
	doc_release(&d);
	for (size_t i = 0; i < n; i++)
		s[i] = i % 2 ? '*' : '[';
	d = parse_opts("markdown", s, n, &o);
	assert_int_equal(d.n_el, 1);
	doc_release(&d);
	free(s);
}

static struct doc parse_repeated(const char *format, const char *unit, size_t times)
{
	struct buf b = BUF_INIT;
	struct doc d;
	for (size_t i = 0; i < times; i++)
		buf_adds(&b, unit);
	assert_false(buf_failed(&b));
	d = parse_bytes(format, b.data, b.len);
	buf_release(&b);
	return d;
}

static const char *guard_note(const struct doc *d, size_t i)
{
	return json_string_value(json_array_get(json_object_get(d->meta, "markdown_guard"), i));
}

static void markdown_slow_path_guard(void **state)
{
	/* Inputs that drive Debian 12's cmark-gfm into its quadratic paths
	 * (CVE-2023-22483..22486) are read with the guilty extension off, or
	 * with unclosed "<?" escaped; the text comes out the same. */
	struct doc d = parse_repeated("markdown", "|\n|-|\n", 20000);
	(void)state;
	assert_string_equal(guard_note(&d, 0), "table extension off");
	assert_int_equal(d.n_el, 1);
	assert_int_equal(d.el[0].type, EL_PARAGRAPH);
	assert_int_equal(strncmp(doc_el_text(&d, &d.el[0]), "| |-| | |-|", 11), 0);
	doc_release(&d);

	d = parse_repeated("markdown", "_www.", 20000);
	assert_string_equal(guard_note(&d, 0), "autolink extension off");
	doc_release(&d);

	d = parse_repeated("markdown", "#<?", 30000);
	assert_string_equal(guard_note(&d, 0), "unclosed <? escaped");
	assert_int_equal(d.n_el, 1);
	assert_int_equal(d.el[0].byte_len, 90000);
	assert_int_equal(strncmp(doc_el_text(&d, &d.el[0]), "#<?#<?#<?", 9), 0);
	doc_release(&d);

	/* Ordinary documents, however long, are read with everything on. */
	d = parse_repeated("markdown", "| a | b |\n|---|---|\n| www.x.org | <?php ?> |\n\n", 5000);
	assert_null(json_object_get(d.meta, "markdown_guard"));
	assert_int_equal(d.n_el, 5000);
	expect(&d, 0, EL_TABLE, 0, "a | b\nwww.x.org |");
	doc_release(&d);
}

/* ---- HTML ------------------------------------------------------------------ */

static void html_structure(void **state)
{
	const char *html =
		"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>  Test\n page </title>"
		"<style>p { color: red }</style><script>var x = '<p>no</p>';</script></head><body>"
		"<nav><a href=\"/\">Home</a></nav><div role=\"navigation\">Skip me</div>"
		"<header>Loose   text &amp; more</header>"
		"<h1>Main &mdash; heading</h1><h3>Third</h3>"
		"<div>Div text <span>in</span><b>line</b><p>Para   one\nwrapped</p>after</div>"
		"<ul><li>First <em>item</em></li><li>Second<ol><li>A</li><li>B<ul><li>Deep</li></ul>"
		"</li></ol>tail</li></ul>"
		"<table><caption>Prices</caption><thead><tr><th>Name</th><th>Price</th></tr></thead>"
		"<tbody><tr><td>Tea</td><td>1&nbsp;&euro;</td></tr>"
		"<tr><td> Coffee <br> large</td><td><p>2</p></td></tr><tr><td></td></tr></tbody></table>"
		"<pre>code\n    indented &lt;x&gt;</pre>"
		"<blockquote><p>Quote one</p><p>Quote two</p></blockquote>"
		"<figure><img src=\"a.png\" alt=\"pic\"><figcaption>A figure</figcaption></figure>"
		"<p hidden>hidden</p><p style=\"color: red; display : none\">invisible</p>"
		"<noscript>Enable JS</noscript><template><p>tmpl</p></template>"
		"<form><button>Click</button><select><option>opt</option></select></form>"
		"<p>Line<br>break</p><!-- comment --></body></html>";
	struct doc d = parse("html", html);
	(void)state;
	assert_string_equal(d.format, "html");
	assert_string_equal(d.encoding, "utf-8");
	expect(&d, 0, EL_TITLE, 0, "Test page");
	expect(&d, 1, EL_PARAGRAPH, 0, "Loose text & more");
	expect(&d, 2, EL_HEADING, 1, "Main — heading");
	expect(&d, 3, EL_HEADING, 3, "Third");
	expect(&d, 4, EL_PARAGRAPH, 0, "Div text inline");
	expect(&d, 5, EL_PARAGRAPH, 0, "Para one wrapped");
	expect(&d, 6, EL_PARAGRAPH, 0, "after");
	expect(&d, 7, EL_LIST_ITEM, 1, "First item");
	expect(&d, 8, EL_LIST_ITEM, 1, "Second");
	expect(&d, 9, EL_LIST_ITEM, 2, "A");
	expect(&d, 10, EL_LIST_ITEM, 2, "B");
	expect(&d, 11, EL_LIST_ITEM, 3, "Deep");
	expect(&d, 12, EL_LIST_ITEM, 1, "tail");
	expect(&d, 13, EL_CAPTION, 0, "Prices");
	expect(&d, 14, EL_TABLE, 0, "Name | Price\nTea | 1\xC2\xA0€\nCoffee large | 2");
	expect_meta(&d, 14, "{\"rows\":[[\"Name\",\"Price\"],[\"Tea\",\"1\xC2\xA0€\"],"
			    "[\"Coffee large\",\"2\"]]}");
	expect(&d, 15, EL_CODE, 0, "code\n    indented <x>");
	expect(&d, 16, EL_QUOTE, 0, "Quote one\nQuote two");
	expect(&d, 17, EL_CAPTION, 0, "A figure");
	expect(&d, 18, EL_PARAGRAPH, 0, "Line\nbreak");
	assert_int_equal(d.n_el, 19);
	expect_span(&d, 2, 30, 44);
	doc_release(&d);
}

static void html_layout_table(void **state)
{
	/* A table holding headings and another table lays out a page: its
	 * content is read as ordinary elements; the inner data table stays one. */
	struct doc d = parse("html", "<table><tr><td><h2>Menu</h2>Loose cell</td><td><p>Body</p>"
				     "<table><tr><th>k</th><td>v</td></tr></table></td></tr></table>"
				     "<table role=\"presentation\"><tr><td>Laid out</td></tr></table>");
	(void)state;
	expect(&d, 0, EL_HEADING, 2, "Menu");
	expect(&d, 1, EL_PARAGRAPH, 0, "Loose cell");
	expect(&d, 2, EL_PARAGRAPH, 0, "Body");
	expect(&d, 3, EL_TABLE, 0, "k | v");
	expect(&d, 4, EL_PARAGRAPH, 0, "Laid out");
	assert_int_equal(d.n_el, 5);
	doc_release(&d);
}

static void html_unicode_offsets(void **state)
{
	struct doc d = parse("html", "<h2>Größe</h2><p>한국어 <i>텍스트</i></p><li>ภาษาไทย</li>");
	(void)state;
	expect(&d, 0, EL_HEADING, 2, "Größe");
	expect(&d, 1, EL_PARAGRAPH, 0, "한국어 텍스트");
	expect(&d, 2, EL_LIST_ITEM, 1, "ภาษาไทย");
	expect_span(&d, 0, 0, 5);
	expect_span(&d, 1, 7, 14);
	expect_span(&d, 2, 16, 23);
	doc_release(&d);
}

static const char *charset_from(const struct doc *d)
{
	return json_string_value(json_object_get(d->meta, "charset_from"));
}

static void html_charsets(void **state)
{
	struct doc d;
	/* No declaration, not UTF-8: windows-1252. */
	const char nodecl[] = "<p>Gr\xF6\xDF" "e 5 \x80</p>";
	/* <meta charset="iso-8859-1">: browsers read windows-1252 (0x80 is €). */
	const char latin1[] = "<html><head><meta charset='ISO-8859-1'></head><p>\xE9 \x80</p>";
	/* http-equiv with windows-1251: "Привет" */
	const char cyr[] = "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">"
			   "<p>\xCF\xF0\xE8\xE2\xE5\xF2</p>";
	/* Shift_JIS "日本" (0x93FA 0x967B) */
	const char sjis[] = "<meta charset=shift_jis><p>\x93\xFA\x96\x7B</p>";
	/* The XML declaration of an XHTML page, ISO-8859-2: "Łódź" */
	const char xhtml[] = "<?xml version=\"1.0\" encoding=\"iso-8859-2\"?><html><body><p>\xA3\xF3" "d\xBC</p></body></html>";
	/* The document says UTF-8 and is: the declaration is honoured even
	 * where a later meta disagrees. */
	const char utf8decl[] = "<meta charset=\"utf-8\"><meta charset=\"windows-1252\"><p>caf\xC3\xA9</p>";
	/* UTF-16LE with a BOM: "<p>한</p>" */
	const char u16[] = { '\xFF', '\xFE', '<', 0, 'p', 0, '>', 0, '\x5C', '\xD5', '<', 0, '/', 0, 'p', 0, '>', 0 };
	/* An unknown label: sniffed. */
	const char bogus[] = "<meta charset=\"x-no-such\"><p>caf\xC3\xA9</p>";
	(void)state;

	d = parse_bytes("html", nodecl, sizeof(nodecl) - 1);
	assert_string_equal(d.encoding, "windows-1252");
	assert_string_equal(charset_from(&d), "detected");
	expect(&d, 0, EL_PARAGRAPH, 0, "Größe 5 €");
	doc_release(&d);

	d = parse_bytes("html", latin1, sizeof(latin1) - 1);
	assert_string_equal(d.encoding, "windows-1252");
	assert_string_equal(charset_from(&d), "document");
	expect(&d, 0, EL_PARAGRAPH, 0, "é €");
	doc_release(&d);

	d = parse_bytes("html", cyr, sizeof(cyr) - 1);
	assert_string_equal(d.encoding, "windows-1251");
	expect(&d, 0, EL_PARAGRAPH, 0, "Привет");
	doc_release(&d);

	d = parse_bytes("html", sjis, sizeof(sjis) - 1);
	assert_string_equal(d.encoding, "shift_jis");
	expect(&d, 0, EL_PARAGRAPH, 0, "日本");
	expect_span(&d, 0, 0, 2);
	doc_release(&d);

	d = parse_bytes("html", xhtml, sizeof(xhtml) - 1);
	assert_string_equal(d.encoding, "iso-8859-2");
	expect(&d, 0, EL_PARAGRAPH, 0, "Łódź");
	doc_release(&d);

	d = parse_bytes("html", utf8decl, sizeof(utf8decl) - 1);
	assert_string_equal(d.encoding, "utf-8");
	expect(&d, 0, EL_PARAGRAPH, 0, "café");
	doc_release(&d);

	d = parse_bytes("html", u16, sizeof(u16));
	assert_string_equal(d.encoding, "utf-16le");
	assert_string_equal(charset_from(&d), "bom");
	expect(&d, 0, EL_PARAGRAPH, 0, "한");
	doc_release(&d);

	d = parse_bytes("html", bogus, sizeof(bogus) - 1);
	assert_string_equal(d.encoding, "utf-8");
	assert_string_equal(charset_from(&d), "detected");
	expect(&d, 0, EL_PARAGRAPH, 0, "café");
	doc_release(&d);
}

static void html_odd_input(void **state)
{
	struct doc d;
	const char nul[] = "<p>a\0b</p><p>c</p>";
	(void)state;
	/* NUL bytes are ignored and do not cut the document short. */
	d = parse_bytes("html", nul, sizeof(nul) - 1);
	expect(&d, 0, EL_PARAGRAPH, 0, "ab");
	expect(&d, 1, EL_PARAGRAPH, 0, "c");
	doc_release(&d);
	d = parse("html", "");
	assert_int_equal(d.n_el, 0);
	doc_release(&d);
	/* Unclosed tags, stray end tags, text outside any element. */
	d = parse("html", "just text</div><p>one<p>two<li>three");
	expect(&d, 0, EL_PARAGRAPH, 0, "just text");
	expect(&d, 1, EL_PARAGRAPH, 0, "one");
	expect(&d, 2, EL_PARAGRAPH, 0, "two");
	expect(&d, 3, EL_LIST_ITEM, 1, "three");
	doc_release(&d);
	/* External entities are never fetched: the SYSTEM id stays unread. */
	d = parse("html", "<!DOCTYPE html SYSTEM \"file:///etc/passwd\"><p>&unknown; &lt;ok&gt;</p>");
	expect(&d, 0, EL_PARAGRAPH, 0, "&unknown; <ok>");
	assert_int_equal(d.n_el, 1);
	doc_release(&d);
}

static void html_deep_nesting(void **state)
{
	size_t n = 20000;
	struct buf b = BUF_INIT;
	struct doc d;
	(void)state;
	for (size_t i = 0; i < n; i++)
		buf_adds(&b, i % 2 ? "<div>" : "<blockquote>");
	buf_adds(&b, "deep");
	/* Past libxml2's default depth of 256 the parse would stop and lose the
	 * rest of the page; moat lifts that limit and walks without recursion. */
	buf_adds(&b, "</div><p>after</p>");
	d = parse_bytes("html", b.data, b.len);
	expect(&d, 0, EL_QUOTE, 0, "deep\nafter");
	assert_int_equal(d.n_el, 1);
	doc_release(&d);
	buf_release(&b);
}

/* ---- limits ------------------------------------------------------------ */

static void limits_max_elements(void **state)
{
	struct ingest_opts o = ingest_default_opts();
	struct moat_err e = MOAT_ERR_INIT;
	static const struct {
		const char *format, *input;
	} cases[] = {
		{ "text", "a\n\nb\n\nc\n\nd\n\ne" },
		{ "markdown", "# a\n\nb\n\n- c\n- d\n\ne" },
		{ "html", "<h1>a</h1><p>b</p><li>c</li><li>d</li><p>e</p>" },
		{ "csv", "h\n1\n2\n3\n4" },
		{ "jsonl", "\"a\"\n\"b\"\n\"c\"\n\"d\"\n\"e\"" },
		{ "json", "[\"a\",\"b\",\"c\",\"d\",\"e\"]" },
	};
	(void)state;
	o.max_elements = 3;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct doc d;
		assert_int_equal(doc_init(&d, (struct doc_limits){ o.max_elements, 0 }), 0);
		err_clear(&e);
		if (ingest_parse(cases[i].format, cases[i].input, strlen(cases[i].input), &o, &d, &e) != -1)
			fail_msg("%s: no limit error", cases[i].format);
		assert_int_equal(e.code, MOAT_ELIMIT);
		assert_int_equal(d.n_el, 3);
		assert_true(d.over_limit);
		check_offsets(&d);
		doc_release(&d);
	}
	/* Exactly at the limit is fine. */
	o.max_elements = 5;
	{
		struct doc d = parse_opts("markdown", "# a\n\nb\n\n- c\n- d\n\ne", 18, &o);
		assert_int_equal(d.n_el, 5);
		doc_release(&d);
	}
}

/* ---- corpus: word-level F1 against the ground truth ---------------------- */

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char tmp[65536];
	size_t n;
	if (!f)
		fail_msg("cannot open '%s'", path);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_add(&b, tmp, n);
	fclose(f);
	assert_false(buf_failed(&b));
	return (unsigned char *)buf_detach(&b, len);
}

/* A word character: an ASCII letter or digit, or a code point from U+00C0
 * on that is not punctuation, a symbol or a space (U+2000-U+2BFF, U+3000-
 * U+303F, U+FFFD). */
static int word_cp(uint32_t c)
{
	if (c < 0x80)
		return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
	if (c < 0xC0 || c == 0xD7 || c == 0xF7 || c == 0xFFFD)
		return 0;
	return !(c >= 0x2000 && c <= 0x2BFF) && !(c >= 0x3000 && c <= 0x303F);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Words of s, ASCII-lowercased, sorted (malloc'd array of malloc'd strings). */
static char **words(const char *s, size_t len, size_t *n)
{
	char **w = NULL;
	size_t cnt = 0, cap = 0, i = 0;
	struct buf cur = BUF_INIT;
	while (i <= len) {
		uint32_t c = 0;
		int k = i < len ? utf8_decode((const unsigned char *)s + i, len - i, &c) : 1;
		if (!k)
			k = 1;
		if (i < len && word_cp(c)) {
			for (int j = 0; j < k; j++) {
				char ch = s[i + j];
				buf_addch(&cur, ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
			}
		} else if (cur.len) {
			if (cnt == cap) {
				cap = cap ? cap * 2 : 256;
				w = realloc(w, cap * sizeof(*w));
				assert_non_null(w);
			}
			w[cnt++] = buf_detach(&cur, NULL);
		}
		i += (size_t)k;
	}
	buf_release(&cur);
	if (cnt)
		qsort(w, cnt, sizeof(*w), cmp_str);
	*n = cnt;
	return w;
}

static void free_words(char **w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i]);
	free(w);
}

/* Bag-of-words F1 of got against want; *p and *r get precision and recall. */
static double word_f1(const char *got, size_t got_len, const char *want, size_t want_len,
		      double *p, double *r, size_t *n_want)
{
	size_t na, nb, i = 0, j = 0, common = 0;
	char **a = words(got, got_len, &na), **b = words(want, want_len, &nb);
	while (i < na && j < nb) {
		int c = strcmp(a[i], b[j]);
		if (!c) {
			common++;
			i++;
			j++;
		} else if (c < 0) {
			i++;
		} else {
			j++;
		}
	}
	free_words(a, na);
	free_words(b, nb);
	*n_want = nb;
	*p = na ? (double)common / (double)na : 0;
	*r = nb ? (double)common / (double)nb : 0;
	return common ? 2 * *p * *r / (*p + *r) : 0;
}

/* Docling's Markdown ground truth carries link targets "[text](url)" and
 * image placeholders; only the text is the document's. */
static void strip_markdown_links(struct buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ']' && i + 1 < len && s[i + 1] == '(') {
			size_t j = i + 2;
			while (j < len && s[j] != ')' && s[j] != ' ' && s[j] != '\n')
				j++;
			if (j < len && s[j] == ')') {
				buf_addch(out, ' ');
				i = j;
				continue;
			}
		}
		if (!strncmp(s + i, "<!-- image -->", 14) && i + 14 <= len) {
			i += 13;
			continue;
		}
		buf_addch(out, s[i]);
	}
}

static double corpus_f1(const char *name, const char *format, const char *encoding,
			int strip_links)
{
	char rel[256], relgt[256];
	char *path, *gtpath;
	unsigned char *data, *gt;
	size_t len, gtlen;
	struct doc d;
	struct buf want = BUF_INIT;
	double f1, p, r;
	size_t nw;
	assert_true(xsnprintf(rel, sizeof(rel), "corpus/%s", name) > 0);
	assert_true(xsnprintf(relgt, sizeof(relgt), "corpus/%s.gt.txt", name) > 0);
	path = tu_testdata(rel);
	gtpath = tu_testdata(relgt);
	data = slurp(path, &len);
	gt = slurp(gtpath, &gtlen);
	{
		struct ingest_opts o = ingest_default_opts();
		d = parse_opts(format, data, len, &o);
	}
	if (encoding)
		assert_string_equal(d.encoding, encoding);
	if (strip_links)
		strip_markdown_links(&want, (const char *)gt, gtlen);
	else
		buf_add(&want, gt, gtlen);
	f1 = word_f1(buf_str(&d.text), d.text.len, buf_str(&want), want.len, &p, &r, &nw);
	printf("# %-22s word F1 %.3f (precision %.3f, recall %.3f, %zu words in the ground truth)\n",
	       name, f1, p, r, nw);
	buf_release(&want);
	doc_release(&d);
	free(data);
	free(gt);
	free(path);
	free(gtpath);
	return f1;
}

static void corpus_markdown(void **state)
{
	(void)state;
	/* Measured 1.000: the ground truth is the file itself (Docling exports
	 * this Markdown unchanged) and all of it is text.  0.99 lets at most 7
	 * of its 740 words differ. */
	assert_true(corpus_f1("wiki.md", "markdown", "utf-8", 0) >= 0.99);
}

static void corpus_html(void **state)
{
	struct doc d;
	char *path;
	unsigned char *data;
	size_t len;
	struct ingest_opts o = ingest_default_opts();
	(void)state;
	/* Measured 0.964 (precision 0.986, recall 0.943 of 4407 words) once
	 * link targets and image placeholders are taken out of Docling's
	 * Markdown.  The rest of the gap is on purpose: Docling keeps navigation
	 * that moat drops (the table of contents, "move to sidebar", "hide",
	 * "Toggle ... subsection", "&amp;" left escaped) and cuts the footer
	 * ("Privacy policy", "Terms of Use", "Jump to content") that moat keeps.
	 * 0.95 fails when any one section of the article of 120 words or more
	 * (Taxonomy, Breeding, Hunting, Communication ...) goes missing (recall
	 * falls by 0.027), or when the navigation comes back. */
	assert_true(corpus_f1("wiki_duck.html", "html", "utf-8", 1) >= 0.95);

	path = tu_testdata("corpus/wiki_duck.html");
	data = slurp(path, &len);
	d = parse_opts("html", data, len, &o);
	expect(&d, 0, EL_TITLE, 0, "Duck - Wikipedia");
	/* No script or style text, and the article's sections are headings. */
	assert_null(strstr(buf_str(&d.text), "function("));
	assert_null(strstr(buf_str(&d.text), "{display:"));
	{
		int etymology = 0, table = 0;
		for (size_t i = 0; i < d.n_el; i++) {
			const struct element *e = &d.el[i];
			if (e->type == EL_HEADING && e->level == 2 && e->byte_len == 9 &&
			    !memcmp(doc_el_text(&d, e), "Etymology", 9))
				etymology = 1;
			if (e->type == EL_TABLE && strstr(doc_el_text(&d, e), "Kingdom: | Animalia"))
				table = 1;
		}
		assert_true(etymology);
		assert_true(table);
	}
	doc_release(&d);
	free(data);
	free(path);
}

static void corpus_html_cp1252(void **state)
{
	struct doc d;
	char *path;
	unsigned char *data;
	size_t len;
	struct ingest_opts o = ingest_default_opts();
	(void)state;
	/* Measured 0.945 (138 of 146 words).  The ground truth itself
	 * mis-decodes five characters (è as č, ñ as ń, å as ĺ, ã as ă, ¡ as ˇ:
	 * it was read as windows-1250), which costs exactly those eight words;
	 * everything else matches.  0.94 fails on any one more wrong word
	 * (137/146 = 0.938). */
	assert_true(corpus_f1("fake-html-cp1252.html", "html", "windows-1252", 0) >= 0.94);
	path = tu_testdata("corpus/fake-html-cp1252.html");
	data = slurp(path, &len);
	d = parse_opts("html", data, len, &o);
	expect(&d, 0, EL_HEADING, 1, "My First Heading");
	expect(&d, 1, EL_PARAGRAPH, 0, "My first paragraph.");
	assert_int_equal(d.el[3].type, EL_CODE);
	assert_non_null(strstr(doc_el_text(&d, &d.el[3]), "très chaud"));
	assert_non_null(strstr(doc_el_text(&d, &d.el[3]), "El niño"));
	assert_non_null(strstr(doc_el_text(&d, &d.el[3]), "15,50 €"));
	doc_release(&d);
	free(data);
	free(path);
}

static void corpus_text_csv(void **state)
{
	(void)state;
	/* Measured 1.000 for both: the ground truth holds the same words (the
	 * CSV's as a Markdown table, whose "| - |" rule has no words).  0.99
	 * fails on a single wrong word of the 26 and 155. */
	assert_true(corpus_f1("fake-text.txt", "text", "utf-8", 0) >= 0.99);
	assert_true(corpus_f1("csv-comma.csv", "csv", "utf-8", 0) >= 0.99);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_structure),
		cmocka_unit_test(text_offsets_unicode),
		cmocka_unit_test(text_encodings),
		cmocka_unit_test(text_empty),
		cmocka_unit_test(csv_rows),
		cmocka_unit_test(csv_tsv_semicolon_and_errors),
		cmocka_unit_test(json_records),
		cmocka_unit_test(json_text_field_paths),
		cmocka_unit_test(markdown_blocks),
		cmocka_unit_test(markdown_unicode_and_encoding),
		cmocka_unit_test(markdown_deep_nesting),
		cmocka_unit_test(markdown_slow_path_guard),
		cmocka_unit_test(html_structure),
		cmocka_unit_test(html_layout_table),
		cmocka_unit_test(html_unicode_offsets),
		cmocka_unit_test(html_charsets),
		cmocka_unit_test(html_odd_input),
		cmocka_unit_test(html_deep_nesting),
		cmocka_unit_test(limits_max_elements),
		cmocka_unit_test(corpus_markdown),
		cmocka_unit_test(corpus_html),
		cmocka_unit_test(corpus_html_cp1252),
		cmocka_unit_test(corpus_text_csv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
