/*
 * test_pii_presidio.c - moat's recognizers on the test cases of Presidio's
 * own recognizers (tests/data/pii/presidio_cases.jsonl, ported by
 * tests/data/pii/port_presidio.py from Microsoft Presidio's
 * presidio-analyzer/tests, MIT licence; see tests/data/pii/README.md).
 *
 * Each case names one entity type, a text and what Presidio's recognizer
 * must find in it: exact code-point spans (a span may leave out blanks and
 * quotes at the ends of Presidio's, see trim_span), or only a count.  As in Presidio's
 * tests, each type is looked at on its own: one scanner with every built-in
 * type, no overlap resolution between types (Presidio's recognizer.analyze
 * runs one recognizer), and only the findings of the case's type counted.
 * Per type: recall (expected spans found exactly, or the count reached) and
 * negatives clean (texts where Presidio expects nothing and moat reports
 * nothing of that type), both at least 0.95, at threshold 0 and at moat's
 * default threshold.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clean/pii.h"

struct tally {
	char type[48];
	int pos, pos_found, neg, neg_clean;
};

static struct tally *tally_for(struct tally *t, size_t *n, size_t cap, const char *type)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(t[i].type, type))
			return &t[i];
	assert_true(*n < cap);
	memset(&t[*n], 0, sizeof(t[*n]));
	snprintf(t[*n].type, sizeof(t[*n].type), "%s", type);
	return &t[(*n)++];
}

/* Every built-in type, comma-separated (some are off by default). */
static char *all_types(void)
{
	const char *const *types = pii_builtin_types();
	size_t n = 1, k = 0;
	char *s;
	for (size_t i = 0; types[i]; i++)
		n += strlen(types[i]) + 1;
	s = calloc(1, n);
	assert_non_null(s);
	for (size_t i = 0; types[i]; i++) {
		size_t l = strlen(types[i]);
		if (i)
			s[k++] = ',';
		memcpy(s + k, types[i], l);  /* sized above */
		k += l;
	}
	return s;
}

/* The byte offset of code point cp of text. */
static size_t cp_byte(const char *text, size_t cp)
{
	size_t i = 0;
	for (size_t c = 0; text[i] && c < cp; c++)
		do
			i++;
		while (((unsigned char)text[i] & 0xC0) == 0x80);
	return i;
}

/*
 * The expected span [*a, *b) without the blanks and quotes at its ends:
 * Presidio's patterns sometimes take them in (a NINO's " ?" before its
 * letters, a URL's quotes), moat's spans stop at the value.  Code points.
 */
static void trim_span(const char *text, size_t *a, size_t *b)
{
	while (*b > *a && strchr(" \t\"'", text[cp_byte(text, *a)]))
		++*a;
	while (*b > *a && strchr(" \t\"'", text[cp_byte(text, *b - 1)]))
		--*b;
}

static char *cases_path(void)
{
	const char *src = getenv("MOAT_SOURCE_DIR");
	char *p = malloc(4096);
	assert_non_null(p);
	snprintf(p, 4096, "%s/tests/data/pii/presidio_cases.jsonl", src ? src : ".");
	return p;
}

static void run_at(float threshold, const char *label)
{
	struct pii_options o = pii_default_options();
	struct moat_err e = MOAT_ERR_INIT;
	struct pii_scanner *s;
	struct pii_scratch *sc;
	struct pii_findings f = PII_FINDINGS_INIT;
	struct tally t[160];
	size_t nt = 0;
	char *types = all_types(), *path = cases_path(), *line = NULL;
	size_t cap = 0;
	int bad = 0, cases = 0;
	FILE *in;

	o.entities = types;
	o.threshold = threshold;
	o.resolve_overlaps = 0;
	s = pii_scanner_new(&o, &e);
	if (!s)
		fail_msg("scanner: %s", e.msg);
	sc = pii_scratch_new(s, &e);
	assert_non_null(sc);
	in = fopen(path, "r");
	if (!in)
		fail_msg("cannot open '%s'", path);
	while (getline(&line, &cap, in) > 0) {
		json_t *c = json_loads(line, 0, NULL), *spans, *sp;
		const char *text, *ent;
		struct tally *ta;
		int type, n, got = 0;
		size_t i;
		assert_non_null(c);
		text = json_string_value(json_object_get(c, "text"));
		ent = json_string_value(json_object_get(c, "entity"));
		n = (int)json_integer_value(json_object_get(c, "n"));
		spans = json_object_get(c, "spans");
		assert_non_null(text);
		assert_non_null(ent);
		cases++;
		ta = tally_for(t, &nt, sizeof(t) / sizeof(t[0]), ent);
		type = pii_type_find(s, ent);
		f.n = 0;
		if (type >= 0)
			assert_true(pii_scan(s, sc, text, strlen(text), 0, &f, &e) >= 0);
		for (size_t k = 0; k < f.n; k++)
			got += f.v[k].type == type;
		if (n == 0) {
			ta->neg++;
			ta->neg_clean += got == 0;
			if (got && getenv("MOAT_TEST_VERBOSE"))
				fprintf(stderr, "  %s FP %s: %s\n", label, ent, text);
		} else if (!json_is_array(spans) || !json_array_size(spans)) {
			ta->pos++;
			ta->pos_found += got >= n;
			if (got < n && getenv("MOAT_TEST_VERBOSE"))
				fprintf(stderr, "  %s FN %s: %s\n", label, ent, text);
		} else {
			json_array_foreach(spans, i, sp) {
				size_t a = (size_t)json_integer_value(json_array_get(sp, 0));
				size_t b = (size_t)json_integer_value(json_array_get(sp, 1));
				size_t xa = a, xb = b;
				int hit = 0;
				trim_span(text, &xa, &xb);
				for (size_t k = 0; k < f.n && !hit; k++)
					hit = f.v[k].type == type &&
					      ((f.v[k].cp_start == a && f.v[k].cp_end == b) ||
					       (f.v[k].cp_start == xa && f.v[k].cp_end == xb));
				ta->pos++;
				ta->pos_found += hit;
				if (!hit && getenv("MOAT_TEST_VERBOSE"))
					fprintf(stderr, "  %s FN %s [%zu,%zu): %s\n", label, ent, a, b, text);
			}
		}
		json_decref(c);
	}
	fclose(in);
	free(line);
	assert_true(cases > 1000);
	fprintf(stderr, "threshold %s (%.2f): %d cases\n%-26s %9s %9s\n", label, (double)threshold, cases,
		"type", "recall", "neg clean");
	for (size_t i = 0; i < nt; i++) {
		double r = t[i].pos ? (double)t[i].pos_found / t[i].pos : 1.0;
		double c = t[i].neg ? (double)t[i].neg_clean / t[i].neg : 1.0;
		int ok = r >= 0.95 && c >= 0.95;
		fprintf(stderr, "%-26s %3d/%-3d %4.2f %3d/%-3d %4.2f%s\n", t[i].type, t[i].pos_found, t[i].pos,
			r, t[i].neg_clean, t[i].neg, c, ok ? "" : "  BELOW 0.95");
		bad += !ok;
	}
	pii_findings_release(&f);
	pii_scratch_free(sc);
	pii_scanner_free(s);
	free(types);
	free(path);
	assert_int_equal(bad, 0);
}

static void presidio_cases_threshold_zero(void **state)
{
	(void)state;
	run_at(0.0f, "0");
}

static void presidio_cases_default_threshold(void **state)
{
	(void)state;
	run_at(pii_default_options().threshold, "default");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(presidio_cases_threshold_zero),
		cmocka_unit_test(presidio_cases_default_threshold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
