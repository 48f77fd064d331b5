/*
 * test_ingest_office.c - what Office files show beyond their paragraphs
 * (issue 21), on the small files of tests/data/ingest/ (make.py there wrote
 * them: openpyxl, python-docx, and chart and SmartArt parts by hand from
 * ECMA-376): charts as elements of their own where they sit, with title,
 * axis titles, series and categories in their meta; SmartArt nodes as list
 * items in the diagram's order; headers and footers per section as Word
 * shows them (first page with w:titlePg, even pages with
 * w:evenAndOddHeaders, inherited from the section before).
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "core/utf8.h"
#include "ingest/ingest.h"

/* Parses tests/data/ingest/NAME (detecting its format) in this process. */
static struct doc parse_file(const char *name)
{
	const char *src = getenv("MOAT_SOURCE_DIR");
	struct ingest_opts o = ingest_default_opts();
	struct moat_err e = MOAT_ERR_INIT;
	struct buf b = BUF_INIT;
	char path[4096];
	const char *fmt;
	struct doc d;
	o.no_sandbox = 1;
	snprintf(path, sizeof(path), "%s/tests/data/ingest/%s", src ? src : ".", name);
	if (fs_read_file(path, &b, 0, &e) < 0)
		fail_msg("%s: %s", path, e.msg);
	fmt = ingest_detect(name, b.data, b.len, NULL, 0, &e);
	if (!fmt)
		fail_msg("detect '%s': %s", name, e.msg);
	assert_int_equal(doc_init(&d, (struct doc_limits){ 100000, 0 }), 0);
	if (ingest_parse(fmt, (const unsigned char *)b.data, b.len, &o, &d, &e) != 0)
		fail_msg("parse '%s': %s", name, e.msg);
	buf_release(&b);
	for (size_t i = 0; i < d.n_el; i++)
		assert_int_equal(d.el[i].end - d.el[i].start,
				 utf8_count(doc_el_text(&d, &d.el[i]), d.el[i].byte_len));
	return d;
}

/* Element i has type t and its text starts with s. */
static void el_at(const struct doc *d, size_t i, enum element_type t, const char *s)
{
	if (i >= d->n_el)
		fail_msg("no element %zu (%zu in all)", i, d->n_el);
	if (d->el[i].type != t || d->el[i].byte_len < strlen(s) ||
	    memcmp(doc_el_text(d, &d->el[i]), s, strlen(s)))
		fail_msg("element %zu is %s '%.*s', expected %s '%s'", i,
			 element_type_name(d->el[i].type), (int)d->el[i].byte_len,
			 doc_el_text(d, &d->el[i]), element_type_name(t), s);
}

static const char *meta_str(const struct element *el, const char *key)
{
	const char *v = json_string_value(json_object_get(el->meta, key));
	if (!v)
		fail_msg("no string '%s' in the element's meta", key);
	return v;
}

/* The meta's array key joined by "," (numbers as %g), into out. */
static const char *joined(json_t *a, char *out, size_t cap)
{
	size_t i, n = 0;
	json_t *v;
	out[0] = 0;
	json_array_foreach(a, i, v) {
		if (json_is_string(v))
			n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "," : "", json_string_value(v));
		else if (json_is_number(v))
			n += (size_t)snprintf(out + n, cap - n, "%s%g", i ? "," : "", json_number_value(v));
		else
			n += (size_t)snprintf(out + n, cap - n, "%s?", i ? "," : "");
		assert_true(n < cap);
	}
	return out;
}

/* Chart element el: its type, title, axis titles, categories, and series
 * "name=v,v,v;name=..." */
static void chart_is(const struct element *el, const char *type, const char *title,
		     const char *axes, const char *cats, const char *series)
{
	char a[512], b[512];
	size_t i, n = 0;
	json_t *s;
	assert_int_equal(el->type, EL_CHART);
	assert_string_equal(meta_str(el, "chart_type"), type);
	assert_string_equal(meta_str(el, "title"), title);
	assert_string_equal(joined(json_object_get(el->meta, "axis_titles"), a, sizeof(a)), axes);
	assert_string_equal(joined(json_object_get(el->meta, "categories"), a, sizeof(a)), cats);
	a[0] = 0;
	json_array_foreach(json_object_get(el->meta, "series"), i, s)
		n += (size_t)snprintf(a + n, sizeof(a) - n, "%s%s=%s", i ? ";" : "",
				      json_string_value(json_object_get(s, "name")),
				      joined(json_object_get(s, "values"), b, sizeof(b)));
	assert_string_equal(a, series);
}

static void text_is(const struct doc *d, size_t i, const char *s)
{
	if (d->el[i].byte_len != strlen(s) || memcmp(doc_el_text(d, &d->el[i]), s, strlen(s)))
		fail_msg("element %zu is '%.*s', expected '%s'", i, (int)d->el[i].byte_len,
			 doc_el_text(d, &d->el[i]), s);
}

/* openpyxl keeps no cached values: the chart's cells come from the sheet
 * its references name, for the pie chart another sheet than its own. */
static void xlsx_charts(void **state)
{
	struct doc d = parse_file("charts.xlsx");
	(void)state;
	assert_int_equal(d.n_el, 6);
	el_at(&d, 0, EL_HEADING, "Sales");
	el_at(&d, 1, EL_TABLE, "Region | Revenue | Cost");
	el_at(&d, 2, EL_CHART, "Revenue by region");
	chart_is(&d.el[2], "bar", "Revenue by region", "Region,Dollars", "North,South,East",
		 "Revenue=120,95,143;Cost=80,60,99.5");
	text_is(&d, 2, "Revenue by region\nRegion; Dollars\n | Revenue | Cost\nNorth | 120 | 80\n"
		"South | 95 | 60\nEast | 143 | 99.5");
	assert_int_equal(d.el[2].page, 1);
	assert_string_equal(meta_str(&d.el[2], "part"), "xl/charts/chart1.xml");
	el_at(&d, 3, EL_HEADING, "Charts");
	el_at(&d, 4, EL_TABLE, "Cost share by region");
	chart_is(&d.el[5], "pie", "Cost share", "", "North,South,East", "Cost=80,60,99.5");
	assert_int_equal(d.el[5].page, 2);
	doc_release(&d);
}

/* A chart between a title and the text box under it (reading order by
 * position, not by the shapes' order in the slide); a SmartArt diagram's
 * nodes in the order of its connections, children under their parent. */
static void pptx_charts_and_smartart(void **state)
{
	struct doc d = parse_file("charts.pptx");
	(void)state;
	assert_int_equal(d.n_el, 9);
	el_at(&d, 0, EL_TITLE, "Quarterly results");
	el_at(&d, 1, EL_CHART, "Revenue by region");
	chart_is(&d.el[1], "bar", "Revenue by region", "Region,Dollars", "North,South,East",
		 "Revenue=120,95,143;Cost=80,60,99.5");
	assert_string_equal(meta_str(&d.el[1], "part"), "ppt/charts/chart1.xml");
	assert_int_equal(d.el[1].page, 1);
	el_at(&d, 2, EL_PARAGRAPH, "Source: the finance team");
	el_at(&d, 3, EL_PAGE_BREAK, "");
	el_at(&d, 4, EL_TITLE, "Next steps");
	el_at(&d, 5, EL_LIST_ITEM, "Research the market");
	el_at(&d, 6, EL_LIST_ITEM, "Interview fifty users");
	el_at(&d, 7, EL_LIST_ITEM, "Build the prototype");
	el_at(&d, 8, EL_LIST_ITEM, "Ship to customers");
	assert_int_equal(d.el[5].level, 1);
	assert_int_equal(d.el[6].level, 2);
	assert_int_equal(d.el[7].level, 1);
	assert_int_equal(d.el[8].page, 2);
	assert_string_equal(meta_str(&d.el[8], "diagram"), "ppt/diagrams/data1.xml");
	doc_release(&d);
}

/* A chart inline in a paragraph of a Word file comes where it sits. */
static void docx_chart(void **state)
{
	struct doc d = parse_file("charts.docx");
	(void)state;
	assert_int_equal(d.n_el, 3);
	el_at(&d, 0, EL_PARAGRAPH, "Visitors grew every month.");
	chart_is(&d.el[1], "line", "Monthly visitors", "Month,Visitors", "January,February,March",
		 "2025=1200,1350.5,1500;2026=1400,1610,1720");
	el_at(&d, 2, EL_PARAGRAPH, "March was the best month so far.");
	doc_release(&d);
}

static void hf_is(const struct doc *d, size_t i, enum element_type t, const char *text,
		  const char *kind, int section)
{
	el_at(d, i, t, text);
	text_is(d, i, text);
	assert_string_equal(meta_str(&d->el[i], "header_footer_type"), kind);
	assert_int_equal(json_integer_value(json_object_get(d->el[i].meta, "section")), section);
}

/* python-docx's different first-page and even-page headers and footers:
 * each section's before and after its body; the second section's own
 * default header, and what it inherits read once. */
static void docx_first_even_headers(void **state)
{
	struct doc d = parse_file("hdrftr.docx");
	(void)state;
	assert_int_equal(d.n_el, 11);
	hf_is(&d, 0, EL_HEADER, "Cover page header", "first", 1);
	hf_is(&d, 1, EL_HEADER, "Odd page header", "primary", 1);
	hf_is(&d, 2, EL_HEADER, "Even page header", "even", 1);
	el_at(&d, 3, EL_PARAGRAPH, "Body of page one.");
	el_at(&d, 5, EL_PARAGRAPH, "Body of page three.");
	hf_is(&d, 6, EL_FOOTER, "Cover page footer", "first", 1);
	hf_is(&d, 7, EL_FOOTER, "Odd page footer", "primary", 1);
	hf_is(&d, 8, EL_FOOTER, "Even page footer", "even", 1);
	hf_is(&d, 9, EL_HEADER, "Appendix header", "primary", 2);
	el_at(&d, 10, EL_PARAGRAPH, "Body of the appendix.");
	doc_release(&d);
}

/* Headers a section names but Word does not show are left out; a section
 * that turns the first-page header on without one of its own shows the
 * previous section's. */
static void docx_hidden_and_inherited_headers(void **state)
{
	struct doc d = parse_file("hdrftr-hidden.docx");
	(void)state;
	assert_int_equal(d.n_el, 5);
	hf_is(&d, 0, EL_HEADER, "Plain header", "primary", 1);
	el_at(&d, 1, EL_PARAGRAPH, "Section one.");
	hf_is(&d, 2, EL_FOOTER, "Plain footer", "primary", 1);
	hf_is(&d, 3, EL_HEADER, "Inherited first header", "first", 2);
	el_at(&d, 4, EL_PARAGRAPH, "Section two.");
	assert_null(strstr(buf_str(&d.text), "Hidden even header"));
	doc_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xlsx_charts),
		cmocka_unit_test(pptx_charts_and_smartart),
		cmocka_unit_test(docx_chart),
		cmocka_unit_test(docx_first_even_headers),
		cmocka_unit_test(docx_hidden_and_inherited_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
