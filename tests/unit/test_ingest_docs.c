/*
 * test_ingest_docs.c - the document readers (issue 5) on inputs made here:
 * DOCX, XLSX and PPTX packages built in memory with libzip, e-mails with
 * MIME, images drawn with Leptonica; the sandbox (crash, CPU and memory
 * limits, a document's round trip through the pipe); the guards (zip bombs,
 * XML bombs, deep MIME, truncated, empty and mislabelled files).  OCR runs on
 * the shared test image phototest.tif, turned and skewed, to check that
 * orientation detection and deskewing work, and drawn as a scanned PDF page
 * (the page's lone image read at the OCR resolution, not the page drawn).
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leptonica/allheaders.h>
#include <zip.h>

#include "core/fmt.h"
#include "core/fs.h"
#include "core/utf8.h"
#include "ingest/docfmt.h"
#include "ingest/sandbox.h"
#include "ingest/ingest.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#endif

/* ---- helpers ----------------------------------------------------------------- */

static struct ingest_opts opts(void)
{
	struct ingest_opts o = ingest_default_opts();
	o.no_sandbox = 1;
	return o;
}

static void check_offsets(const struct doc *d)
{
	size_t bytes = 0;
	for (size_t i = 0; i < d->n_el; i++) {
		const struct element *e = &d->el[i];
		assert_int_equal(e->byte_start, i ? bytes + 2 : 0);
		assert_int_equal(e->start, utf8_count(d->text.data, e->byte_start));
		assert_int_equal(e->end - e->start, utf8_count(doc_el_text(d, e), e->byte_len));
		assert_true(utf8_is_valid(doc_el_text(d, e), e->byte_len));
		assert_true(e->byte_len > 0 || e->type == EL_PAGE_BREAK);
		bytes = e->byte_start + e->byte_len;
	}
	assert_int_equal(bytes, d->text.len);
}

/* Parses with format (NULL: detect from name); fails the test on an error. */
static struct doc parse_ok(const char *name, const void *data, size_t len,
			   const struct ingest_opts *o)
{
	struct doc d;
	struct moat_err e = MOAT_ERR_INIT;
	const char *fmt = ingest_detect(name, data, len, NULL, 0, &e);
	if (!fmt)
		fail_msg("detect '%s': %s", name, e.msg);
	assert_int_equal(doc_init(&d, (struct doc_limits){ 100000, 0 }), 0);
	if (ingest_parse(fmt, data, len, o, &d, &e) != 0)
		fail_msg("parse '%s' as %s: %s", name, fmt, e.msg);
	check_offsets(&d);
	return d;
}

/* Expects the file to fail, detection or parsing, with a message holding want. */
static void parse_fails(const char *name, const void *data, size_t len,
			const struct ingest_opts *o, const char *want)
{
	struct doc d;
	struct moat_err e = MOAT_ERR_INIT;
	const char *fmt = ingest_detect(name, data, len, NULL, 0, &e);
	int rc = -1;
	if (fmt) {
		assert_int_equal(doc_init(&d, (struct doc_limits){ 100000, 0 }), 0);
		rc = ingest_parse(fmt, data, len, o, &d, &e);
		doc_release(&d);
	}
	if (rc == 0)
		fail_msg("'%s' parsed, expected a failure with '%s'", name, want);
	if (!strstr(e.msg, want))
		fail_msg("'%s' failed with '%s', expected '%s'", name, e.msg, want);
}

static const struct element *find(const struct doc *d, const char *text)
{
	for (size_t i = 0; i < d->n_el; i++)
		if (d->el[i].byte_len == strlen(text) && !memcmp(doc_el_text(d, &d->el[i]), text,
								  strlen(text)))
			return &d->el[i];
	fail_msg("no element '%s'", text);
	return NULL;
}

/* Element i's text is exactly s. */
static void el_is(const struct doc *d, size_t i, const char *s)
{
	assert_true(i < d->n_el);
	if (d->el[i].byte_len != strlen(s) || memcmp(doc_el_text(d, &d->el[i]), s, strlen(s)))
		fail_msg("element %zu is '%.*s', expected '%s'", i, (int)d->el[i].byte_len,
			 doc_el_text(d, &d->el[i]), s);
}

static int text_has(const struct doc *d, const char *s)
{
	return strstr(buf_str(&d->text), s) != NULL;
}

/* A zip made in memory from name/content pairs (NULL-terminated). */
struct zbuf {
	unsigned char *p;
	size_t n;
};

static struct zbuf make_zip(const char *const *parts, size_t n_parts, const size_t *lens)
{
	zip_error_t ze;
	zip_source_t *src;
	zip_t *za;
	struct zbuf z = { NULL, 0 };
	zip_stat_t st;
	zip_error_init(&ze);
	src = zip_source_buffer_create(NULL, 0, 0, &ze);
	assert_non_null(src);
	zip_source_keep(src);
	za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
	assert_non_null(za);
	for (size_t i = 0; i < n_parts; i++) {
		size_t len = lens && lens[i] ? lens[i] : strlen(parts[2 * i + 1]);
		zip_source_t *s = zip_source_buffer(za, parts[2 * i + 1], len, 0);
		assert_non_null(s);
		assert_true(zip_file_add(za, parts[2 * i], s, ZIP_FL_ENC_UTF_8) >= 0);
	}
	assert_int_equal(zip_close(za), 0);
	assert_int_equal(zip_source_open(src), 0);
	assert_int_equal(zip_source_stat(src, &st), 0);
	z.n = (size_t)st.size;
	z.p = malloc(z.n);
	assert_int_equal(zip_source_read(src, z.p, z.n), (zip_int64_t)z.n);
	zip_source_close(src);
	zip_source_free(src);
	zip_error_fini(&ze);
	return z;
}

#define CT_HEAD "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
#define RELS_HEAD "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
#define RT "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
#define W_NS "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""

static const char docx_ct[] = CT_HEAD
	"<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>";
static const char docx_rels[] = RELS_HEAD
	"<Relationship Id=\"rId1\" Type=\"" RT "officeDocument\" Target=\"word/document.xml\"/></Relationships>";

/* A DOCX whose document.xml is body (its w:body content). */
static struct zbuf docx_with(const char *document)
{
	const char *parts[] = { "[Content_Types].xml", docx_ct, "_rels/.rels", docx_rels,
				"word/document.xml", document };
	return make_zip(parts, 3, NULL);
}

/* ---- small pieces ---------------------------------------------------------------- */

static void dehyphenation(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;
	para_add_line(&b, "an exam-", 8);
	para_add_line(&b, "ple of it", 9);
	assert_string_equal(buf_str(&b), "an example of it");
	para_add_line(&b, "well-", 5);
	para_add_line(&b, "Known", 5);  /* a capital: a real hyphen stays */
	assert_string_equal(buf_str(&b), "an example of it well-Known");
	buf_reset(&b);
	para_add_line(&b, "Stra\xC3\x9F" "en-", 9);
	para_add_line(&b, "\xC3\xBC" "ber", 5);
	assert_string_equal(buf_str(&b), "Stra\xC3\x9F" "en\xC3\xBC" "ber");
	buf_reset(&b);
	para_add_line(&b, "page 12 -", 9);  /* no letter before the hyphen */
	para_add_line(&b, "and more", 8);
	assert_string_equal(buf_str(&b), "page 12 - and more");
	buf_release(&b);
}

/* ---- the sandbox ---------------------------------------------------------------- */

static int make_doc(void *arg, struct doc *d, struct moat_err *e)
{
	struct doc_child *c;
	unsigned char *bytes = malloc(3);
	(void)arg;
	(void)e;
	memcpy(bytes, "a\0b", 3);
	d->format = "pdf";
	json_object_set_new(d->meta, "pages", json_integer(2));
	doc_add_page(d, EL_TITLE, 0, 1, "T\xC3\xADtulo", 7, json_pack("{s:[i,i,i,i]}", "bbox", 1, 2, 3, 4));
	doc_add_page(d, EL_PAGE_BREAK, 0, 1, "", 0, NULL);
	doc_add_page(d, EL_HEADING, 2, 2, "\xED\x95\x9C\xEA\xB5\xAD", 6, NULL);
	c = doc_add_child(d, bytes, 3, "x.bin", "application/octet-stream");
	c->failed = 1;
	c->error = strdup("unsupported");
	return 0;
}

static void sandbox_roundtrip(void **state)
{
	struct ingest_opts o = ingest_default_opts();
	struct doc d, ref;
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
	assert_int_equal(doc_init(&d, (struct doc_limits){ 100, 0 }), 0);
	assert_int_equal(doc_init(&ref, (struct doc_limits){ 100, 0 }), 0);
	assert_int_equal(sandbox_run(make_doc, NULL, &o, &d, &e), 0);
	assert_int_equal(make_doc(NULL, &ref, &e), 0);
	assert_int_equal(d.n_el, 3);
	assert_string_equal(buf_str(&d.text), buf_str(&ref.text));
	for (size_t i = 0; i < d.n_el; i++) {
		assert_int_equal(d.el[i].start, ref.el[i].start);
		assert_int_equal(d.el[i].end, ref.el[i].end);
		assert_int_equal(d.el[i].page, ref.el[i].page);
		assert_int_equal(d.el[i].type, ref.el[i].type);
		assert_int_equal(d.el[i].level, ref.el[i].level);
	}
	assert_true(json_equal(d.el[0].meta, ref.el[0].meta));
	assert_int_equal(json_integer_value(json_object_get(d.meta, "pages")), 2);
	assert_int_equal(d.n_children, 1);
	assert_int_equal(d.children[0].len, 3);
	assert_memory_equal(d.children[0].data, "a\0b", 3);
	assert_string_equal(d.children[0].id, ref.children[0].id);
	assert_true(d.children[0].failed);
	assert_string_equal(d.children[0].error, "unsupported");
	doc_release(&d);
	doc_release(&ref);
}

static int crash(void *arg, struct doc *d, struct moat_err *e)
{
	(void)arg;
	(void)d;
	(void)e;
	__builtin_trap();
}

static int spin(void *arg, struct doc *d, struct moat_err *e)
{
	volatile unsigned long n = 0;
	(void)arg;
	(void)d;
	(void)e;
	for (;;)
		n++;
	return 0;
}

static int hog(void *arg, struct doc *d, struct moat_err *e)
{
	(void)arg;
	(void)d;
	for (size_t i = 0; i < 4096; i++) {
		char *p = malloc(16 << 20);
		if (!p)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		memset(p, 1, 16 << 20);
	}
	return 0;
}

static int fails(void *arg, struct doc *d, struct moat_err *e)
{
	(void)arg;
	doc_add(d, EL_PARAGRAPH, 0, "half", 4, NULL);
	return err_set(e, MOAT_EPARSE, "damaged thing: %s", "reason");
}

static void sandbox_failures(void **state)
{
	struct ingest_opts o = ingest_default_opts();
	struct doc d;
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
	assert_int_equal(doc_init(&d, (struct doc_limits){ 100, 0 }), 0);
	assert_int_equal(sandbox_run(crash, NULL, &o, &d, &e), -1);
	if (!strstr(e.msg, "parser crashed (signal"))
		fail_msg("crash gave '%s'", e.msg);
	assert_int_equal(d.n_el, 0);

	o.max_cpu = 1;
	assert_int_equal(sandbox_run(spin, NULL, &o, &d, &e), -1);
	assert_non_null(strstr(e.msg, "ran out of CPU time (limit 1 s"));

	assert_int_equal(sandbox_run(fails, NULL, &o, &d, &e), -1);
	assert_string_equal(e.msg, "damaged thing: reason");
	assert_int_equal(e.code, MOAT_EPARSE);
	assert_int_equal(d.n_el, 0);  /* nothing half-made comes back */
#ifndef ASAN
	o.max_memory = (size_t)256 << 20;
	assert_int_equal(sandbox_run(hog, NULL, &o, &d, &e), -1);
	assert_non_null(strstr(e.msg, "memory limit reached (256 MiB"));
#else
	(void)hog;
#endif
	doc_release(&d);
}

/* ingest_parse_sandboxed(): through this thread's zygote (this test program
 * re-executed), twice, then a failure and a limit coming back as reasons. */
static void sandboxed_parse(void **state)
{
	char *path = tu_testdata("corpus/habibi.pdf");
	struct buf b = BUF_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	struct ingest_opts o = ingest_default_opts();
	struct doc d;
	(void)state;
	if (!path)
		return;
	assert_int_equal(fs_read_file(path, &b, 0, &e), 0);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(doc_init(&d, (struct doc_limits){ 100, 0 }), 0);
		if (ingest_parse_sandboxed("pdf", (const unsigned char *)b.data, b.len, &o, &d, &e) < 0)
			fail_msg("sandboxed parse: %s", e.msg);
		assert_string_equal(d.format, "pdf");
		el_is(&d, 0, "\xD8\xAD\xD9\x8E\xD8\xA8\xD9\x8A\xD8\xA8\xD9\x8A habibi");
		assert_int_equal(d.el[0].page, 1);
		doc_release(&d);
	}
	assert_int_equal(doc_init(&d, (struct doc_limits){ 100, 0 }), 0);
	assert_int_equal(ingest_parse_sandboxed("docx", (const unsigned char *)"PK\3\4junk", 8, &o, &d,
						&e), -1);
	assert_non_null(strstr(e.msg, "damaged zip archive"));
	assert_int_equal(d.n_el, 0);
#ifndef ASAN
	/* a 1200 dpi rendering does not fit in 128 MiB */
	o.ocr = INGEST_OCR_ALWAYS;
	o.ocr_dpi = 1200;
	o.max_memory = (size_t)128 << 20;
	assert_int_equal(ingest_parse_sandboxed("pdf", (const unsigned char *)b.data, b.len, &o, &d, &e),
			 -1);
	if (!strstr(e.msg, "memory limit reached (128 MiB"))
		fail_msg("expected the memory limit, got '%s'", e.msg);
#endif
	doc_release(&d);
	buf_release(&b);
	free(path);
}

/* ---- DOCX ------------------------------------------------------------------------- */

static void docx_structure(void **state)
{
	static const char styles[] =
		"<w:styles " W_NS ">"
		"<w:style w:type=\"paragraph\" w:styleId=\"Title\"><w:name w:val=\"Title\"/></w:style>"
		"<w:style w:type=\"paragraph\" w:styleId=\"Heading1\"><w:name w:val=\"heading 1\"/></w:style>"
		"<w:style w:type=\"paragraph\" w:styleId=\"H2\"><w:name w:val=\"My Section\"/>"
		"<w:pPr><w:outlineLvl w:val=\"1\"/></w:pPr></w:style>"
		"<w:style w:type=\"paragraph\" w:styleId=\"Cap\"><w:name w:val=\"Caption\"/></w:style>"
		"</w:styles>";
	static const char numbering[] =
		"<w:numbering " W_NS "><w:abstractNum w:abstractNumId=\"0\"><w:lvl w:ilvl=\"0\">"
		"<w:numFmt w:val=\"decimal\"/></w:lvl><w:lvl w:ilvl=\"1\"><w:numFmt w:val=\"bullet\"/></w:lvl>"
		"</w:abstractNum><w:num w:numId=\"3\"><w:abstractNumId w:val=\"0\"/></w:num></w:numbering>";
	static const char document[] =
		"<w:document " W_NS "><w:body>"
		"<w:p><w:pPr><w:pStyle w:val=\"Title\"/></w:pPr><w:r><w:t>Annual Plan</w:t></w:r></w:p>"
		"<w:p><w:pPr><w:pStyle w:val=\"Heading1\"/></w:pPr><w:r><w:t>Goals</w:t></w:r></w:p>"
		"<w:p><w:r><w:t xml:space=\"preserve\">Grow the </w:t></w:r><w:r><w:t>garden</w:t></w:r>"
		"<w:del><w:r><w:delText>REMOVED</w:delText></w:r></w:del>"
		"<w:r><w:footnoteReference w:id=\"2\"/></w:r><w:r><w:t>.</w:t></w:r></w:p>"
		"<w:p><w:pPr><w:pStyle w:val=\"H2\"/></w:pPr><w:r><w:t>Details</w:t></w:r></w:p>"
		"<w:p><w:pPr><w:numPr><w:ilvl w:val=\"0\"/><w:numId w:val=\"3\"/></w:numPr></w:pPr>"
		"<w:r><w:t>Plant trees</w:t></w:r></w:p>"
		"<w:p><w:pPr><w:numPr><w:ilvl w:val=\"1\"/><w:numId w:val=\"3\"/></w:numPr></w:pPr>"
		"<w:r><w:t>Oak</w:t></w:r></w:p>"
		"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Item</w:t></w:r></w:p></w:tc>"
		"<w:tc><w:p><w:r><w:t>Cost</w:t></w:r></w:p></w:tc></w:tr>"
		"<w:tr><w:tc><w:tcPr><w:gridSpan w:val=\"2\"/></w:tcPr><w:p><w:r><w:t>Both</w:t></w:r></w:p></w:tc></w:tr>"
		"</w:tbl>"
		"<w:p><w:pPr><w:pStyle w:val=\"Cap\"/></w:pPr><w:r><w:t>Table 1: Costs</w:t></w:r></w:p>"
		"<w:sectPr><w:headerReference w:type=\"default\" r:id=\"rH\"/>"
		"<w:footerReference w:type=\"default\" r:id=\"rF\"/></w:sectPr>"
		"</w:body></w:document>";
	static const char rels[] = RELS_HEAD
		"<Relationship Id=\"rS\" Type=\"" RT "styles\" Target=\"styles.xml\"/>"
		"<Relationship Id=\"rN\" Type=\"" RT "numbering\" Target=\"numbering.xml\"/>"
		"<Relationship Id=\"rH\" Type=\"" RT "header\" Target=\"header1.xml\"/>"
		"<Relationship Id=\"rF\" Type=\"" RT "footer\" Target=\"/word/footer1.xml\"/>"
		"<Relationship Id=\"rFn\" Type=\"" RT "footnotes\" Target=\"footnotes.xml\"/>"
		"<Relationship Id=\"rC\" Type=\"" RT "comments\" Target=\"comments.xml\"/>"
		"</Relationships>";
	const char *parts[] = {
		"[Content_Types].xml", docx_ct, "_rels/.rels", docx_rels,
		"word/document.xml", document, "word/_rels/document.xml.rels", rels,
		"word/styles.xml", styles, "word/numbering.xml", numbering,
		"word/header1.xml", "<w:hdr " W_NS "><w:p><w:r><w:t>ACME Confidential</w:t></w:r></w:p></w:hdr>",
		"word/footer1.xml", "<w:ftr " W_NS "><w:p><w:r><w:t>Page footer</w:t></w:r></w:p></w:ftr>",
		"word/footnotes.xml", "<w:footnotes " W_NS "><w:footnote w:type=\"separator\" w:id=\"0\"><w:p/></w:footnote>"
			"<w:footnote w:id=\"2\"><w:p><w:r><w:t>Only native species.</w:t></w:r></w:p></w:footnote></w:footnotes>",
		"word/comments.xml", "<w:comments " W_NS "><w:comment w:id=\"1\" w:author=\"Ann\"><w:p><w:r>"
			"<w:t>Check this</w:t></w:r></w:p></w:comment></w:comments>",
	};
	struct ingest_opts o = opts();
	struct zbuf z = make_zip(parts, 10, NULL);
	struct doc d = parse_ok("plan.docx", z.p, z.n, &o);
	const struct element *el;
	json_t *rows;
	(void)state;
	assert_string_equal(d.format, "docx");
	assert_int_equal(d.el[0].type, EL_HEADER);
	el_is(&d, 0, "ACME Confidential");
	assert_int_equal(find(&d, "Annual Plan")->type, EL_TITLE);
	el = find(&d, "Goals");
	assert_int_equal(el->type, EL_HEADING);
	assert_int_equal(el->level, 1);
	el = find(&d, "Details");  /* a custom style with an outline level */
	assert_int_equal(el->type, EL_HEADING);
	assert_int_equal(el->level, 2);
	assert_int_equal(find(&d, "Grow the garden.")->type, EL_PARAGRAPH);
	assert_false(text_has(&d, "REMOVED"));
	el = find(&d, "Plant trees");
	assert_int_equal(el->type, EL_LIST_ITEM);
	assert_int_equal(el->level, 1);
	assert_string_equal(json_string_value(json_object_get(el->meta, "list")), "numbered");
	el = find(&d, "Oak");
	assert_int_equal(el->level, 2);
	assert_string_equal(json_string_value(json_object_get(el->meta, "list")), "bullet");
	el = find(&d, "Item | Cost\nBoth |");
	assert_int_equal(el->type, EL_TABLE);
	rows = json_object_get(el->meta, "rows");
	assert_int_equal(json_array_size(rows), 2);
	assert_string_equal(json_string_value(json_array_get(json_array_get(rows, 0), 1)), "Cost");
	assert_string_equal(json_string_value(json_array_get(json_array_get(rows, 1), 0)), "Both");
	assert_int_equal(find(&d, "Table 1: Costs")->type, EL_CAPTION);
	assert_non_null(strstr(json_string_value(json_object_get(find(&d, "Only native species.")->meta,
								 "note")), "footnote"));
	assert_int_equal(d.el[d.n_el - 1].type, EL_FOOTER);
	el_is(&d, d.n_el - 1, "Page footer");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(d.meta, "comments"), 0), "text")), "Check this");
	doc_release(&d);
	free(z.p);
}

/* ---- XLSX ------------------------------------------------------------------------- */

static void xlsx_sheets(void **state)
{
	static const char ct[] = CT_HEAD
		"<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/></Types>";
	static const char rels[] = RELS_HEAD
		"<Relationship Id=\"rId1\" Type=\"" RT "officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>";
	static const char wb[] =
		"<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
		"xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>"
		"<sheet name=\"Budget\" sheetId=\"1\" r:id=\"rId1\"/><sheet name=\"Empty\" sheetId=\"2\" r:id=\"rId2\"/>"
		"</sheets></workbook>";
	static const char wbrels[] = RELS_HEAD
		"<Relationship Id=\"rId1\" Type=\"" RT "worksheet\" Target=\"worksheets/sheet1.xml\"/>"
		"<Relationship Id=\"rId2\" Type=\"" RT "worksheet\" Target=\"worksheets/sheet2.xml\"/>"
		"<Relationship Id=\"rId3\" Type=\"" RT "sharedStrings\" Target=\"sharedStrings.xml\"/>"
		"<Relationship Id=\"rId4\" Type=\"" RT "styles\" Target=\"styles.xml\"/></Relationships>";
	static const char sst[] =
		"<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
		"<si><t>Item</t></si><si><r><t>Da</t></r><r><t>te</t></r></si><si><t>Paint</t></si></sst>";
	static const char styles[] =
		"<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
		"<numFmts><numFmt numFmtId=\"170\" formatCode=\"hh:mm\"/></numFmts>"
		"<cellXfs><xf numFmtId=\"0\"/><xf numFmtId=\"14\"/><xf numFmtId=\"170\"/></cellXfs></styleSheet>";
	static const char sheet1[] =
		"<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>"
		"<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c>"
		"<c r=\"E1\" t=\"inlineStr\"><is><t>Note</t></is></c></row>"
		"<row r=\"2\"><c r=\"A2\" t=\"s\"><v>2</v></c><c r=\"B2\" s=\"1\"><v>45306</v></c>"
		"<c r=\"C2\"><v>3.5</v></c><c r=\"E2\" t=\"b\"><v>1</v></c></row>"
		"<row r=\"3\"><c r=\"A3\"><v>12</v></c><c r=\"B3\" s=\"2\"><v>0.75</v></c></row>"
		"</sheetData></worksheet>";
	const char *parts[] = { "[Content_Types].xml", ct, "_rels/.rels", rels, "xl/workbook.xml", wb,
				"xl/_rels/workbook.xml.rels", wbrels, "xl/sharedStrings.xml", sst,
				"xl/styles.xml", styles, "xl/worksheets/sheet1.xml", sheet1,
				"xl/worksheets/sheet2.xml",
				"<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"/>" };
	struct ingest_opts o = opts();
	struct zbuf z = make_zip(parts, 8, NULL);
	struct doc d = parse_ok("budget.xlsx", z.p, z.n, &o);
	const struct element *el;
	(void)state;
	assert_string_equal(d.format, "xlsx");
	el = find(&d, "Budget");
	assert_int_equal(el->type, EL_HEADING);
	assert_int_equal(el->page, 1);
	/* a blank column D splits the sheet into two tables */
	el = find(&d, "Item | Date |\nPaint | 2024-01-15 | 3.5\n12 | 18:00:00 |");
	assert_int_equal(el->type, EL_TABLE);
	assert_int_equal(el->page, 1);
	assert_string_equal(json_string_value(json_object_get(el->meta, "sheet")), "Budget");
	el = find(&d, "Note\nTRUE");
	assert_int_equal(el->type, EL_TABLE);
	assert_int_equal(find(&d, "Empty")->page, 2);
	assert_int_equal(json_array_size(json_object_get(d.meta, "sheets")), 2);
	doc_release(&d);
	free(z.p);
	/* a shared-string index past the table, and shared strings that
	 * declare a DTD: refused, never a workbook silently without its text */
	{
		static const char badref[] =
			"<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>"
			"<row r=\"1\"><c r=\"A1\" t=\"s\"><v>7</v></c></row></sheetData></worksheet>";
		static const char dtd[] =
			"<?xml version=\"1.0\"?><!DOCTYPE sst [<!ENTITY a \"aaaa\">]>"
			"<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
			"<si><t>&a;</t></si></sst>";
		parts[13] = badref;
		z = make_zip(parts, 8, NULL);
		parse_fails("badref.xlsx", z.p, z.n, &o, "cell A1 refers to shared string '7', but the workbook has 3");
		free(z.p);
		parts[13] = sheet1;
		parts[9] = dtd;
		z = make_zip(parts, 8, NULL);
		parse_fails("dtd.xlsx", z.p, z.n, &o, "DTD");
		free(z.p);
	}
}

/* ---- PPTX ------------------------------------------------------------------------- */

#define P_NS "xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\" xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\""
#define SP(ph, y, body) "<p:sp><p:nvSpPr><p:cNvPr id=\"2\" name=\"x\"/><p:cNvSpPr/><p:nvPr>" ph \
	"</p:nvPr></p:nvSpPr><p:spPr><a:xfrm><a:off x=\"100\" y=\"" y "\"/></a:xfrm></p:spPr><p:txBody>" body "</p:txBody></p:sp>"

static void pptx_slides(void **state)
{
	static const char ct[] = CT_HEAD
		"<Override PartName=\"/ppt/presentation.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml\"/></Types>";
	static const char rels[] = RELS_HEAD
		"<Relationship Id=\"rId1\" Type=\"" RT "officeDocument\" Target=\"ppt/presentation.xml\"/></Relationships>";
	static const char pres[] = "<p:presentation " P_NS "><p:sldIdLst>"
		"<p:sldId id=\"256\" r:id=\"rId7\"/><p:sldId id=\"257\" r:id=\"rId8\"/></p:sldIdLst></p:presentation>";
	static const char prels[] = RELS_HEAD
		"<Relationship Id=\"rId7\" Type=\"" RT "slide\" Target=\"slides/slide1.xml\"/>"
		"<Relationship Id=\"rId8\" Type=\"" RT "slide\" Target=\"slides/slide2.xml\"/></Relationships>";
	/* shapes out of reading order on purpose: the body comes first in the tree */
	static const char slide1[] = "<p:sld " P_NS "><p:cSld><p:spTree>"
		SP("<p:ph idx=\"1\"/>", "3000", "<a:p><a:r><a:t>First point</a:t></a:r></a:p>"
		   "<a:p><a:pPr lvl=\"1\"/><a:r><a:t>Sub point</a:t></a:r></a:p>"
		   "<a:p><a:pPr><a:buNone/></a:pPr><a:r><a:t>Plain line</a:t></a:r></a:p>")
		SP("<p:ph type=\"title\"/>", "100", "<a:p><a:r><a:t>Roadmap</a:t></a:r></a:p>")
		"</p:spTree></p:cSld></p:sld>";
	static const char s1rels[] = RELS_HEAD
		"<Relationship Id=\"n\" Type=\"" RT "notesSlide\" Target=\"../notesSlides/notesSlide1.xml\"/></Relationships>";
	static const char notes[] = "<p:notes " P_NS "><p:cSld><p:spTree>"
		SP("<p:ph type=\"body\" idx=\"1\"/>", "0", "<a:p><a:r><a:t>Speak slowly</a:t></a:r></a:p>")
		"</p:spTree></p:cSld></p:notes>";
	static const char slide2[] = "<p:sld " P_NS "><p:cSld><p:spTree>"
		SP("<p:ph type=\"ctrTitle\"/>", "100", "<a:p><a:r><a:t>Thanks</a:t></a:r></a:p>")
		SP("", "900", "<a:p><a:r><a:t>Box text</a:t></a:r></a:p>")
		"</p:spTree></p:cSld></p:sld>";
	const char *parts[] = { "[Content_Types].xml", ct, "_rels/.rels", rels, "ppt/presentation.xml", pres,
				"ppt/_rels/presentation.xml.rels", prels, "ppt/slides/slide1.xml", slide1,
				"ppt/slides/_rels/slide1.xml.rels", s1rels,
				"ppt/notesSlides/notesSlide1.xml", notes, "ppt/slides/slide2.xml", slide2 };
	struct ingest_opts o = opts();
	struct zbuf z = make_zip(parts, 8, NULL);
	struct doc d = parse_ok("deck.pptx", z.p, z.n, &o);
	const struct element *el;
	(void)state;
	assert_string_equal(d.format, "pptx");
	assert_int_equal(d.el[0].type, EL_TITLE);  /* the title first, whatever the tree order */
	el_is(&d, 0, "Roadmap");
	el = find(&d, "First point");
	assert_int_equal(el->type, EL_LIST_ITEM);
	assert_int_equal(el->level, 1);
	assert_int_equal(el->page, 1);
	assert_int_equal(find(&d, "Sub point")->level, 2);
	assert_int_equal(find(&d, "Plain line")->type, EL_PARAGRAPH);
	el = find(&d, "Speak slowly");
	assert_true(json_is_true(json_object_get(el->meta, "notes")));
	assert_int_equal(el->page, 1);
	assert_int_equal(find(&d, "Thanks")->page, 2);
	assert_int_equal(find(&d, "Box text")->type, EL_PARAGRAPH);
	assert_int_equal(json_integer_value(json_object_get(d.meta, "slides")), 2);
	doc_release(&d);
	free(z.p);
}

/* ---- zip and XML bombs -------------------------------------------------------------- */

static void zip_bombs(void **state)
{
	struct ingest_opts o = opts();
	size_t big = (size_t)8 << 20;
	char *pad = malloc(big + 200);
	struct zbuf z;
	(void)state;
	/* 8 MiB of one character: about 8 KiB compressed, a ratio far over 200 */
	{
		int k = xsnprintf(pad, 200, "<w:document %s><w:body><w:p><w:r><w:t>", W_NS);
		size_t n;
		assert_true(k > 0);
		n = (size_t)k;
		memset(pad + n, 'a', big - n - 40);
		memcpy(pad + big - 40, "</w:t></w:r></w:p></w:body></w:document>", 40);
	}
	{
		const char *parts[] = { "[Content_Types].xml", docx_ct, "_rels/.rels", docx_rels,
					"word/document.xml", pad };
		size_t lens[] = { 0, 0, big };
		z = make_zip(parts, 3, lens);
	}
	assert_true(z.n < big / 100);
	parse_fails("bomb.docx", z.p, z.n, &o, "zip bomb");
	/* the same package under a total limit smaller than its declared size */
	o.max_zip_ratio = 100000;
	o.max_unzipped = (size_t)1 << 20;
	parse_fails("bomb.docx", z.p, z.n, &o, "zip bomb");
	/* with limits that allow it, it reads */
	o.max_unzipped = (size_t)64 << 20;
	{
		struct doc d = parse_ok("bomb.docx", z.p, z.n, &o);
		assert_int_equal(d.n_el, 1);
		doc_release(&d);
	}
	free(z.p);
	free(pad);
	/* too many entries */
	{
		const char *parts[24];
		char names[10][16];
		o = opts();
		o.max_zip_entries = 8;
		parts[0] = "[Content_Types].xml";
		parts[1] = docx_ct;
		parts[2] = "_rels/.rels";
		parts[3] = docx_rels;
		for (int i = 0; i < 10; i++) {
			assert_true(xsnprintf(names[i], sizeof(names[i]), "x/%d.xml", i) > 0);
			parts[4 + 2 * i] = names[i];
			parts[5 + 2 * i] = "<x/>";
		}
		z = make_zip(parts, 12, NULL);
		parse_fails("many.docx", z.p, z.n, &o, "entries");
		free(z.p);
	}
}

static void xml_bombs(void **state)
{
	static const char laughs[] =
		"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
		"<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
		"<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
		"<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
		"<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
		"<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
		"<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
		"<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
		"<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
		"<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">]>"
		"<w:document " W_NS "><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>";
	static const char xxe[] =
		"<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
		"<w:document " W_NS "><w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>";
	static const char broken[] = "<w:document " W_NS "><w:body><w:p>";
	struct ingest_opts o = opts();
	struct zbuf z;
	(void)state;
	z = docx_with(laughs);
	parse_fails("laughs.docx", z.p, z.n, &o, "declares a DTD");
	free(z.p);
	z = docx_with(xxe);
	parse_fails("xxe.docx", z.p, z.n, &o, "declares a DTD");
	free(z.p);
	z = docx_with(broken);
	parse_fails("broken.docx", z.p, z.n, &o, "malformed XML in 'word/document.xml'");
	free(z.p);
}

/* ---- detection and damaged files ------------------------------------------------------ */

static void detection(void **state)
{
	static const char ole[] = "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0\0\0\0\0\0\0";
	struct ingest_opts o = opts();
	struct zbuf z;
	struct moat_err e = MOAT_ERR_INIT;
	const char *doc = "<w:document " W_NS "><w:body><w:p><w:r><w:t>Hi</w:t></w:r></w:p></w:body></w:document>";
	(void)state;
	parse_fails("notes.pdf", "just some text\n", 15, &o, "not a PDF file: the extension says .pdf");
	parse_fails("empty.pdf", "", 0, &o, "empty file (0 bytes");
	parse_fails("empty.docx", "", 0, &o, "empty file (0 bytes");
	parse_fails("old.doc", ole, sizeof(ole) - 1, &o, "legacy Word (.doc) files are not supported");
	parse_fails("old.xls", ole, sizeof(ole) - 1, &o, "legacy Excel");
	parse_fails("pic.png", "not an image at all", 19, &o, "not an image: the extension says .png");
	/* content wins over a wrong extension when the content is known */
	z = docx_with(doc);
	assert_string_equal(ingest_detect("report.zip", z.p, z.n, NULL, 0, &e), "docx");
	assert_string_equal(ingest_detect("report.pdf", z.p, z.n, NULL, 0, &e), "docx");
	free(z.p);
	assert_string_equal(ingest_detect("x.docx", (const unsigned char *)"%PDF-1.4\n", 9, NULL, 0, &e),
			    "pdf");
	/* a zip with no Office document inside */
	{
		const char *parts[] = { "a.txt", "hello" };
		z = make_zip(parts, 1, NULL);
		parse_fails("a.docx", z.p, z.n, &o, "[Content_Types].xml");
		free(z.p);
	}
	/* a truncated zip */
	z = docx_with(doc);
	parse_fails("cut.docx", z.p, z.n / 2, &o, "damaged");
	free(z.p);
}

static void pdf_truncated(void **state)
{
	char *path = tu_testdata("corpus/multicolumn.pdf");
	struct buf b = BUF_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	struct ingest_opts o = opts();
	(void)state;
	if (!path)
		return;
	assert_int_equal(fs_read_file(path, &b, 0, &e), 0);
	parse_fails("cut.pdf", b.data, b.len / 2, &o, "truncated PDF");
	parse_fails("cut.pdf", b.data, 200, &o, "PDF");
	{
		struct doc d = parse_ok("whole.pdf", b.data, b.len, &o);
		assert_true(d.n_el > 10);
		doc_release(&d);
	}
	buf_release(&b);
	free(path);
	/* the encrypted corpus file: a clear reason without the password, text with it */
	path = tu_testdata("corpus/password.pdf");
	assert_int_equal(fs_read_file(path, &b, 0, &e), 0);
	parse_fails("password.pdf", b.data, b.len, &o, "password-protected PDF (give the password");
	o.password = "nope";
	parse_fails("password.pdf", b.data, b.len, &o, "password given with --password is wrong");
	o.password = "password";
	{
		struct doc d = parse_ok("password.pdf", b.data, b.len, &o);
		assert_true(text_has(&d, "File with password"));
		doc_release(&d);
	}
	buf_release(&b);
	free(path);
}

/* ---- e-mail ----------------------------------------------------------------------- */

static void email_mime(void **state)
{
	static const char mail[] =
		"From: =?ISO-8859-1?Q?Ren=E9?= <rene@example.org>\r\n"
		"To: a@example.org,\r\n b@example.org\r\n"
		"Subject: =?UTF-8?B?w4lsw6lwaGFudA==?= and =?UTF-8?Q?caf=C3=A9?=\r\n"
		"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=\"OUTER\"\r\n\r\n"
		"preamble\r\n"
		"--OUTER\r\n"
		"Content-Type: multipart/alternative; boundary=INNER\r\n\r\n"
		"--INNER\r\n"
		"Content-Type: text/plain; charset=iso-8859-1\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
		"Bonjour, voil=E0 le r=E9sum=E9 d=\r\n"
		"u projet.\r\n\r\n"
		"- premier point\r\n"
		"- second point\r\n"
		"--INNER\r\n"
		"Content-Type: text/html\r\n\r\n"
		"<p>HTML VERSION</p>\r\n"
		"--INNER--\r\n"
		"--OUTER\r\n"
		"Content-Type: text/plain; name=\"x.txt\"\r\n"
		"Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.txt\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n"
		"QXR0YWNoZWQgbm90ZXMu\r\n"
		"--OUTER\r\n"
		"Content-Type: message/rfc822\r\n\r\n"
		"From: inner@example.org\r\nSubject: Forwarded\r\n\r\nInner body text.\r\n"
		"--OUTER\r\n"
		"Content-Type: application/x-unknown; name=blob.bin\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n"
		"AAECAwQ=\r\n"
		"--OUTER--\r\n";
	struct ingest_opts o = opts();
	struct doc d = parse_ok("m.eml", mail, sizeof(mail) - 1, &o);
	(void)state;
	assert_string_equal(d.format, "email");
	assert_string_equal(json_string_value(json_object_get(d.meta, "from")),
			    "Ren\xC3\xA9 <rene@example.org>");
	assert_string_equal(json_string_value(json_object_get(d.meta, "subject")),
			    "\xC3\x89l\xC3\xA9phant and caf\xC3\xA9");
	assert_string_equal(json_string_value(json_object_get(d.meta, "to")),
			    "a@example.org, b@example.org");
	assert_non_null(json_object_get(d.meta, "date"));
	assert_true(text_has(&d, "Bonjour, voil\xC3\xA0 le r\xC3\xA9sum\xC3\xA9 du projet."));
	assert_false(text_has(&d, "HTML VERSION"));  /* text/plain preferred */
	assert_false(text_has(&d, "preamble"));
	assert_int_equal(find(&d, "second point")->type, EL_LIST_ITEM);
	assert_int_equal(d.n_children, 3);
	assert_string_equal(d.children[0].name, "r\xC3\xA9sum\xC3\xA9.txt");
	assert_false(d.children[0].failed);
	assert_string_equal(buf_str(&d.children[0].doc.text), "Attached notes.");
	assert_string_equal(d.children[1].doc.format, "email");
	assert_string_equal(json_string_value(json_object_get(d.children[1].doc.meta, "subject")),
			    "Forwarded");
	assert_string_equal(buf_str(&d.children[1].doc.text), "Inner body text.");
	assert_true(d.children[2].failed);  /* unreadable attachments are kept, with the reason */
	assert_int_equal(d.children[2].len, 5);
	assert_int_equal(json_array_size(json_object_get(d.meta, "attachments")), 3);
	doc_release(&d);
}

static void email_html_only_and_bad(void **state)
{
	static const char html[] =
		"From: x@example.org\nSubject: Hi\nContent-Type: text/html; charset=utf-8\n\n"
		"<html><body><h1>Welcome</h1><p>Visit us.</p><script>evil()</script></body></html>\n";
	static const char noboundary[] =
		"From: x@example.org\nSubject: Hi\nContent-Type: multipart/mixed\n\nbody\n";
	struct ingest_opts o = opts();
	struct buf deep = BUF_INIT;
	struct doc d = parse_ok("h.eml", html, sizeof(html) - 1, &o);
	(void)state;
	assert_true(text_has(&d, "Welcome"));
	assert_true(text_has(&d, "Visit us."));
	assert_false(text_has(&d, "evil"));
	doc_release(&d);
	parse_fails("n.eml", noboundary, sizeof(noboundary) - 1, &o, "without a boundary");
	/* 40 levels of multipart */
	buf_adds(&deep, "From: x@example.org\nSubject: deep\n");
	for (int i = 0; i < 40; i++)
		buf_addf(&deep, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
	buf_adds(&deep, "Content-Type: text/plain\n\nbottom\n");
	parse_fails("deep.eml", deep.data, deep.len, &o, "nested more than 16 deep");
	buf_release(&deep);
	parse_fails("notmail.eml", "hello there\nno headers\n", 22, &o, "not an e-mail");
	/* 1000 parts read; 1001 fail, never silently 1000 (closed, and not) */
	for (int parts = 1000; parts <= 1001; parts++) {
		for (int closed = 0; closed < 2; closed++) {
			struct buf many = BUF_INIT;
			buf_adds(&many, "From: x@example.org\nSubject: many\n"
					"Content-Type: multipart/mixed; boundary=B\n\n");
			for (int i = 0; i < parts; i++)
				buf_addf(&many, "--B\nContent-Type: text/plain\n\npart %d\n", i);
			if (closed)
				buf_adds(&many, "--B--\n");
			if (parts == 1000) {
				d = parse_ok("many.eml", many.data, many.len, &o);
				assert_true(text_has(&d, "part 999"));
				doc_release(&d);
			} else {
				parse_fails("many.eml", many.data, many.len, &o, "more than 1000 MIME parts");
			}
			buf_release(&many);
		}
	}
}

/* ---- images --------------------------------------------------------------------------- */

static l_uint8 *write_mem(PIX *pix, int format, size_t *n)
{
	l_uint8 *data = NULL;
	assert_int_equal(pixWriteMem(&data, n, pix, format), 0);
	return data;
}

static void images_meta(void **state)
{
	struct ingest_opts o = opts();
	PIX *pix = pixCreate(321, 123, 8);
	static const int formats[] = { IFF_PNG, IFF_BMP, IFF_JFIF_JPEG, IFF_TIFF_ZIP, IFF_WEBP };
	static const char *names[] = { "a.png", "a.bmp", "a.jpg", "a.tif", "a.webp" };
	(void)state;
	o.ocr = INGEST_OCR_NEVER;
	pixSetAll(pix);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		size_t n;
		l_uint8 *data = write_mem(pix, formats[i], &n);
		struct doc d = parse_ok(names[i], data, n, &o);
		assert_string_equal(d.format, "image");
		assert_int_equal(json_integer_value(json_object_get(d.meta, "width")), 321);
		assert_int_equal(json_integer_value(json_object_get(d.meta, "height")), 123);
		assert_int_equal(d.n_el, 0);
		doc_release(&d);
		/* cut short: a clear failure */
		if (formats[i] == IFF_PNG || formats[i] == IFF_JFIF_JPEG)
			parse_fails(names[i], data, n / 2, &o, "truncated");
		lept_free(data);
	}
	pixDestroy(&pix);
	/* a two-page TIFF */
	{
		char *dir = tu_tmpdir(), *path = NULL;
		PIX *a = pixCreate(100, 50, 1), *b = pixCreate(80, 40, 1);
		struct buf f = BUF_INIT;
		struct moat_err e = MOAT_ERR_INIT;
		struct doc d;
		assert_int_equal(asprintf(&path, "%s/two.tif", dir) > 0, 1);
		assert_int_equal(pixWriteTiff(path, a, IFF_TIFF_G4, "w"), 0);
		assert_int_equal(pixWriteTiff(path, b, IFF_TIFF_G4, "a"), 0);
		assert_int_equal(fs_read_file(path, &f, 0, &e), 0);
		d = parse_ok("two.tif", f.data, f.len, &o);
		assert_int_equal(json_integer_value(json_object_get(d.meta, "pages")), 2);
		assert_int_equal(json_integer_value(json_array_get(json_array_get(
			json_object_get(d.meta, "page_sizes"), 1), 0)), 80);
		doc_release(&d);
		buf_release(&f);
		/* a third page, over a limit of two: refused, naming the limit */
		assert_int_equal(pixWriteTiff(path, a, IFF_TIFF_G4, "a"), 0);
		assert_int_equal(fs_read_file(path, &f, 0, &e), 0);
		d = parse_ok("three.tif", f.data, f.len, &o);
		assert_int_equal(json_integer_value(json_object_get(d.meta, "pages")), 3);
		doc_release(&d);
		o.max_pages = 2;
		parse_fails("three.tif", f.data, f.len, &o, "TIFF with more than 2 pages");
		o.max_pages = 0;
		buf_release(&f);
		pixDestroy(&a);
		pixDestroy(&b);
		free(path);
		tu_rmtree(dir);
		free(dir);
	}
}

/* Phototest upside down and skewed by four degrees still reads. */
static void ocr_turned_and_skewed(void **state)
{
	char *path = tu_testdata("corpus/phototest.tif");
	struct ingest_opts o = opts();
	PIX *pix, *turned, *skewed;
	(void)state;
	if (!path)
		return;
	pix = pixRead(path);
	assert_non_null(pix);
	turned = pixRotateOrth(pix, 2);  /* upside down: Tesseract alone reads nothing */
	skewed = pixRotate(pix, 0.07f, L_ROTATE_AREA_MAP, L_BRING_IN_WHITE, 0, 0);
	for (int k = 0; k < 2; k++) {
		size_t n;
		l_uint8 *data = write_mem(k ? skewed : turned, IFF_PNG, &n);
		struct doc d = parse_ok("scan.png", data, n, &o);
		assert_true(text_has(&d, "quick brown dog"));
		assert_true(text_has(&d, "lazy fox"));
		assert_true(d.n_el > 0);
		assert_non_null(json_object_get(d.el[0].meta, "confidence"));
		assert_non_null(json_object_get(d.el[0].meta, "bbox"));
		if (!k)
			assert_int_equal(json_integer_value(json_object_get(d.el[0].meta, "rotation")), 180);
		else
			assert_non_null(json_object_get(d.el[0].meta, "deskew_degrees"));
		doc_release(&d);
		lept_free(data);
	}
	pixDestroy(&pix);
	pixDestroy(&turned);
	pixDestroy(&skewed);
	free(path);
	/* a language pack that is not there: the Debian package is named */
	o.ocr_lang = "eng+xyz";
	{
		struct moat_err e = MOAT_ERR_INIT;
		assert_int_equal(ingest_check_ocr(&o, &e), -1);
		assert_non_null(strstr(e.msg, "install the Debian package tesseract-ocr-xyz"));
		o.ocr_lang = "chi_sim";
		if (ingest_check_ocr(&o, &e) < 0)
			assert_non_null(strstr(e.msg, "tesseract-ocr-chi-sim"));
		o.ocr_lang = "eng;rm";
		assert_int_equal(ingest_check_ocr(&o, &e), -1);
		assert_non_null(strstr(e.msg, "bad OCR language list"));
	}
}

/*
 * A one-page PDF of width x height points showing a gray image (Flate, or
 * DCT when jpeg is set) at (x, y, w, h) points from the top left, and a small
 * white square over it when mark is set.
 */
static void scan_pdf(struct buf *out, PIX *gray, int jpeg, float width, float height, float x,
		     float y, float w, float h, int mark)
{
	struct buf body = BUF_INIT, content = BUF_INIT;
	size_t off[6], n = 0, xref;
	l_uint8 *img;
	size_t img_len;
	int pw = pixGetWidth(gray), ph = pixGetHeight(gray);
	if (jpeg) {
		assert_int_equal(pixWriteMem(&img, &img_len, gray, IFF_JFIF_JPEG), 0);
	} else {
		size_t raw_len = (size_t)pw * (size_t)ph;
		l_uint8 *raw = malloc(raw_len);
		assert_non_null(raw);
		for (int yy = 0; yy < ph; yy++) {
			l_uint32 *line = pixGetData(gray) + (size_t)yy * (size_t)pixGetWpl(gray);
			for (int xx = 0; xx < pw; xx++)
				raw[(size_t)yy * (size_t)pw + (size_t)xx] = (l_uint8)GET_DATA_BYTE(line, xx);
		}
		img = zlibCompress(raw, raw_len, &img_len);
		assert_non_null(img);
		free(raw);
	}
	buf_addf(&content, "q %g 0 0 %g %g %g cm /Im0 Do Q", w, h, x, height - y - h);
	if (mark)
		buf_addf(&content, " 1 g %g %g 2 2 re f", x + 1, height - y - 3);
	buf_adds(&body, "%PDF-1.4\n");
	off[n++] = body.len;
	buf_adds(&body, "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n");
	off[n++] = body.len;
	buf_adds(&body, "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n");
	off[n++] = body.len;
	buf_addf(&body, "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] /Contents 4 0 R "
		 "/Resources << /XObject << /Im0 5 0 R >> >> >> endobj\n", width, height);
	off[n++] = body.len;
	buf_addf(&body, "4 0 obj << /Length %zu >> stream\n%s\nendstream endobj\n", content.len,
		 buf_str(&content));
	off[n++] = body.len;
	buf_addf(&body, "5 0 obj << /Type /XObject /Subtype /Image /Width %d /Height %d "
		 "/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /%s /Length %zu >> stream\n",
		 pw, ph, jpeg ? "DCTDecode" : "FlateDecode", img_len);
	buf_add(&body, img, img_len);
	buf_adds(&body, "\nendstream endobj\n");
	xref = body.len;
	buf_addf(&body, "xref\n0 %zu\n0000000000 65535 f \n", n + 1);
	for (size_t i = 0; i < n; i++)
		buf_addf(&body, "%010zu 00000 n \n", off[i]);
	buf_addf(&body, "trailer << /Size %zu /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", n + 1, xref);
	buf_reset(out);
	buf_add(out, body.data, body.len);
	buf_release(&body);
	buf_release(&content);
	lept_free(img);
}

/* Whether the document says OCR read page 1 from its lone image. */
static int read_from_image(const struct doc *d)
{
	json_t *a = json_object_get(d->meta, "ocr_image_pages");
	return json_array_size(a) == 1 && json_integer_value(json_array_get(a, 0)) == 1;
}

/*
 * A scanned page, phototest drawn at 600 dpi over the whole page: OCR reads
 * the image itself, subsampled to 300 dpi, and gets the same text as from the
 * page drawn at 300 dpi (forced here by a speck the image path must not
 * ignore); an image that does not cover its page is drawn.
 */
static void ocr_scanned_pdf_page(void **state)
{
	char *path = tu_testdata("corpus/phototest.tif");
	struct ingest_opts o = opts();
	struct buf pdf = BUF_INIT;
	PIX *pix, *pix8, *gray;
	(void)state;
	if (!path)
		return;
	pix = pixRead(path);
	assert_non_null(pix);
	/* 640x480 at 200 dpi: 230.4 x 172.8 points; three times over is 600 dpi */
	pix8 = pixConvertTo8(pix, 0);
	gray = pixScale(pix8, 3.0f, 3.0f);
	assert_non_null(gray);
	for (int jpeg = 0; jpeg < 2; jpeg++) {
		struct doc lone, drawn, small;
		scan_pdf(&pdf, gray, jpeg, 230.4f, 172.8f, 0, 0, 230.4f, 172.8f, 0);
		lone = parse_ok("scan.pdf", pdf.data, pdf.len, &o);
		assert_true(read_from_image(&lone));
		assert_true(text_has(&lone, "quick brown dog"));
		assert_true(text_has(&lone, "lazy fox"));
		scan_pdf(&pdf, gray, jpeg, 230.4f, 172.8f, 0, 0, 230.4f, 172.8f, 1);
		drawn = parse_ok("scan.pdf", pdf.data, pdf.len, &o);
		assert_false(read_from_image(&drawn));
		assert_string_equal(buf_str(&lone.text), buf_str(&drawn.text));
		assert_int_equal(lone.n_el, drawn.n_el);
		/* the image on part of a bigger page: drawn, the same words */
		scan_pdf(&pdf, gray, jpeg, 300.0f, 250.0f, 20, 30, 230.4f, 172.8f, 0);
		small = parse_ok("scan.pdf", pdf.data, pdf.len, &o);
		assert_false(read_from_image(&small));
		assert_true(text_has(&small, "quick brown dog"));
		doc_release(&lone);
		doc_release(&drawn);
		doc_release(&small);
	}
	/* an image of a size that is no power of two of 300 dpi (450 dpi): drawn */
	{
		PIX *g450 = pixScale(gray, 0.75f, 0.75f);
		struct doc d;
		scan_pdf(&pdf, g450, 0, 230.4f, 172.8f, 0, 0, 230.4f, 172.8f, 0);
		d = parse_ok("scan.pdf", pdf.data, pdf.len, &o);
		assert_false(read_from_image(&d));
		assert_true(text_has(&d, "quick brown dog"));
		doc_release(&d);
		pixDestroy(&g450);
	}
	buf_release(&pdf);
	pixDestroy(&pix);
	pixDestroy(&pix8);
	pixDestroy(&gray);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dehyphenation),
		cmocka_unit_test(sandbox_roundtrip),
		cmocka_unit_test(sandbox_failures),
		cmocka_unit_test(sandboxed_parse),
		cmocka_unit_test(docx_structure),
		cmocka_unit_test(xlsx_sheets),
		cmocka_unit_test(pptx_slides),
		cmocka_unit_test(zip_bombs),
		cmocka_unit_test(xml_bombs),
		cmocka_unit_test(detection),
		cmocka_unit_test(pdf_truncated),
		cmocka_unit_test(email_mime),
		cmocka_unit_test(email_html_only_and_bad),
		cmocka_unit_test(images_meta),
		cmocka_unit_test(ocr_turned_and_skewed),
		cmocka_unit_test(ocr_scanned_pdf_page),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
