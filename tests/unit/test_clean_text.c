/*
 * test_clean_text.c - normalisation and its offset map, boilerplate lines,
 * language identification, and MinHash near-duplicates: planted duplicates
 * (small edits, reordered paragraphs) are found, distinct texts are not
 * merged, and results are the same for the same seed.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clean/langid.h"
#include "clean/minhash.h"
#include "clean/normalize.h"
#include "core/fmt.h"
#include "core/utf8.h"

static void nfkc_and_map(void **state)
{
	struct norm r;
	struct moat_err e = MOAT_ERR_INIT;
	/* "ﬁ" (1 code point) becomes "fi" (2); a fullwidth A; NBSP; a soft hyphen */
	const char *in = "\xEF\xAC\x81le \xEF\xBC\xA1\xC2\xA0" "b\xC2\xAD" "c  d\r\nx";
	(void)state;
	norm_init(&r);
	assert_int_equal(norm_text(&r, in, strlen(in), NORM_ALL, &e), 0);
	assert_string_equal(r.text.data, "file A bc d\nx");
	/* "le" starts at output 2, input 1 */
	assert_int_equal(norm_orig_start(&r, 2), 1);
	/* "f" and "i" both come from the ligature */
	assert_int_equal(norm_orig_start(&r, 0), 0);
	assert_int_equal(norm_orig_start(&r, 1), 0);
	/* "A" (output 5) is input 4; "b" (output 7) is input 6 */
	assert_int_equal(norm_orig_start(&r, 5), 4);
	assert_int_equal(norm_orig_start(&r, 7), 6);
	/* "c" after the soft hyphen: output 8, input 8 */
	assert_int_equal(norm_orig_start(&r, 8), 8);
	/* span "bc" ends after input "c" */
	assert_int_equal(norm_orig_end(&r, 9), 9);
	/* "x" after CR LF: input 14 */
	assert_int_equal(norm_orig_start(&r, 12), 14);
	{
		json_t *m = norm_map_json(&r);
		assert_true(json_array_size(m) >= 3);
		json_decref(m);
	}
	norm_release(&r);
}

static void hyphenation_and_space(void **state)
{
	struct norm r;
	struct moat_err e = MOAT_ERR_INIT;
	const char *in = "  The infor-\n   mation   is\t\there.\n\n\n\nNext well-known para-\nGraph  ";
	(void)state;
	norm_init(&r);
	assert_int_equal(norm_text(&r, in, strlen(in), NORM_ALL, &e), 0);
	/* joined only before a lower-case letter; blank lines kept as one */
	assert_string_equal(r.text.data, "The information is here.\n\nNext well-known para-\nGraph");
	/* "mation" starts at output 9; in the input after "infor-\n   " (index 16) */
	assert_int_equal(norm_orig_start(&r, 9), 16);
	/* identity when nothing is asked */
	norm_release(&r);
	norm_init(&r);
	assert_int_equal(norm_text(&r, in, strlen(in), 0, &e), 0);
	assert_string_equal(r.text.data, in);
	assert_int_equal(norm_orig_start(&r, 20), 20);
	norm_release(&r);
}

static int boiler_ctx(const void *ctx, uint64_t h)
{
	return h == *(const uint64_t *)ctx;
}

static void boilerplate(void **state)
{
	struct norm r;
	struct moat_err e = MOAT_ERR_INIT;
	const char *in = "Intro line\nCONFIDENTIAL - do not share\nBody text here";
	uint64_t h = norm_line_hash("CONFIDENTIAL - do not share", 27);
	size_t removed = 0;
	(void)state;
	norm_init(&r);
	assert_int_equal(norm_text(&r, in, strlen(in), NORM_ALL, &e), 0);
	assert_int_equal(norm_drop_lines(&r, boiler_ctx, &h, &removed), 0);
	assert_int_equal(removed, 1);
	assert_string_equal(r.text.data, "Intro line\nBody text here");
	/* "Body" maps past the removed line */
	assert_int_equal(norm_orig_start(&r, 11), 39);
	norm_release(&r);
}

static void languages(void **state)
{
	struct langid l;
	(void)state;
	langid_detect("The patient was seen today and the results of the tests are in the report.", 75,
		      &l);
	assert_string_equal(l.code, "en");
	langid_detect("Der Patient wurde heute untersucht und die Ergebnisse sind in dem Bericht.", 75, &l);
	assert_string_equal(l.code, "de");
	{
		const char *tr = "Hasta bugün muayene edildi ve bu sonuçlar için çok daha iyi bir rapor var.";
		langid_detect(tr, strlen(tr), &l);
		assert_string_equal(l.code, "tr");
	}
	{
		const char *ko = "환자는 오늘 진료를 받았으며 검사 결과는 보고서에 있습니다.";
		langid_detect(ko, strlen(ko), &l);
		assert_string_equal(l.code, "ko");
	}
	{
		const char *th = "ผู้ป่วยได้รับการตรวจวันนี้และผลการตรวจอยู่ในรายงาน";
		langid_detect(th, strlen(th), &l);
		assert_string_equal(l.code, "th");
	}
	langid_detect("ok", 2, &l);
	assert_string_equal(l.code, "und");
}

static char *words_text(unsigned seed, int n)
{
	static const char *const w[] = { "river", "stone", "garden", "window", "silver", "market",
		"bridge", "candle", "forest", "harbor", "lantern", "meadow", "orchard", "pepper",
		"quartz", "saddle", "tunnel", "velvet", "walnut", "yellow", "anchor", "basket",
		"copper", "desert", "engine", "feather", "glacier", "hammer", "island", "jacket" };
	char *s = malloc((size_t)n * 10 + 1);
	size_t k = 0;
	unsigned x = seed * 2654435761u + 1;
	for (int i = 0; i < n; i++) {
		const char *word;
		x = x * 1103515245u + 12345u;
		word = w[(x >> 16) % 30];
		if (i && i % 40 == 0)
			s[k++] = '\n';
		else if (i)
			s[k++] = ' ';
		memcpy(s + k, word, strlen(word));
		k += strlen(word);
	}
	s[k] = '\0';
	return s;
}

static void minhash_near_duplicates(void **state)
{
	struct mh_params p = mh_default_params();
	enum { N = 6 };
	char *t[N];
	uint32_t sigs[N * 128], again[128];
	size_t root[N];
	float sim[N];
	(void)state;
	t[0] = words_text(1, 200);
	/* a few words changed */
	t[1] = strdup(t[0]);
	memcpy(t[1] + 10, "ZZZZ", 4);
	memcpy(t[1] + 500, "QQQQ", 4);
	/* paragraphs reordered */
	{
		char *nl = strchr(t[0], '\n');
		size_t a = (size_t)(nl - t[0]);
		t[2] = malloc(strlen(t[0]) + 2);
		assert_non_null(t[2]);
		assert_true(xsnprintf(t[2], strlen(t[0]) + 2, "%s\n%.*s", nl + 1, (int)a, t[0]) > 0);
	}
	/* distinct texts from the same vocabulary */
	t[3] = words_text(2, 200);
	t[4] = words_text(3, 200);
	t[5] = strdup(t[3]);
	memcpy(t[5] + 40, "XXXXX", 5);
	for (int i = 0; i < N; i++)
		assert_true(mh_signature(&p, t[i], strlen(t[i]), sigs + i * 128) > 100);
	assert_true(mh_similarity(sigs, sigs + 128, 128) > 0.8);
	assert_true(mh_similarity(sigs, sigs + 3 * 128, 128) < 0.3);
	assert_int_equal(mh_cluster(&p, sigs, N, NULL, root, sim), 0);
	assert_int_equal(root[0], 0);
	assert_int_equal(root[1], 0);  /* small edits */
	assert_int_equal(root[2], 0);  /* reordered paragraphs */
	assert_int_equal(root[3], 3);  /* distinct */
	assert_int_equal(root[4], 4);
	assert_int_equal(root[5], 3);
	assert_true(sim[1] >= 0.8f);
	/* deterministic for a seed, different for another */
	mh_signature(&p, t[0], strlen(t[0]), again);
	assert_memory_equal(again, sigs, sizeof(again));
	p.seed = 42;
	mh_signature(&p, t[0], strlen(t[0]), again);
	assert_memory_not_equal(again, sigs, sizeof(again));
	{
		size_t root2[N];
		for (int i = 0; i < N; i++)
			mh_signature(&p, t[i], strlen(t[i]), sigs + i * 128);
		assert_int_equal(mh_cluster(&p, sigs, N, NULL, root2, NULL), 0);
		assert_memory_equal(root, root2, sizeof(root));
	}
	for (int i = 0; i < N; i++)
		free(t[i]);
}

static void minhash_banding(void **state)
{
	struct mh_params p = mh_default_params();
	double t;
	(void)state;
	t = mh_choose_bands(&p);
	assert_true(p.bands * p.rows <= p.perms);
	assert_true(t > 0.6 && t < 0.85);
	p.bands = 32;
	p.rows = 4;
	t = mh_choose_bands(&p);
	assert_int_equal(p.bands, 32);
	assert_true(t < 0.5);
}

static void minhash_scripts_without_spaces(void **state)
{
	struct mh_params p = mh_default_params();
	uint32_t a[128], b[128], c[128];
	const char *th1 = "ผู้ป่วยได้รับการตรวจวันนี้และผลการตรวจอยู่ในรายงานของแพทย์ประจำโรงพยาบาลกรุงเทพ";
	const char *th2 = "ผู้ป่วยได้รับการตรวจวันนี้และผลการตรวจอยู่ในรายงานของแพทย์ประจำโรงพยาบาลเชียงใหม่";
	const char *ko = "환자는 오늘 진료를 받았으며 검사 결과는 보고서에 있습니다 의사가 다시 연락할 것입니다";
	(void)state;
	assert_true(mh_signature(&p, th1, strlen(th1), a) > 10);
	mh_signature(&p, th2, strlen(th2), b);
	mh_signature(&p, ko, strlen(ko), c);
	assert_true(mh_similarity(a, b, 128) > 0.5);
	assert_true(mh_similarity(a, c, 128) < 0.1);
}

/* A long text is normalised a window at a time: the windows change nothing.
 * The same text, with every construct a pass looks across (runs of spaces and
 * blank lines, "infor-\n mation", CR LF, combining marks, NFKC, CJK), comes
 * out with the same text and the same map through windows of 1 MiB (one
 * window here) and of 7 bytes (thousands). */
static void windows_change_nothing(void **state)
{
	static const char *const pieces[] = {
		"alpha", "Beta", " ", "   ", "\t", "\n", "\n\n\n", "\r\n", "infor-\n  mation", "-",
		"e\xCC\x81", "\xEF\xAC\x81", "\xEF\xBC\xA1", "\xC2\xA0", "\xC2\xAD", "\xE4\xB8\xAD\xE6\x96\x87",
		"\xE8\xAA\x9E", "x", "Zz", "42", "\xF0\x9F\x98\x80",
	};
	struct buf in = BUF_INIT;
	struct norm one, many;
	struct moat_err e = MOAT_ERR_INIT;
	json_t *m1, *m2;
	unsigned seed = 7;
	(void)state;
	while (in.len < 200000) {
		seed = seed * 1103515245u + 12345u;
		buf_adds(&in, pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))]);
	}
	norm_init(&one);
	norm_init(&many);
	norm_set_window(0);
	assert_int_equal(norm_text(&one, buf_str(&in), in.len, NORM_ALL, &e), 0);
	norm_set_window(7);
	assert_int_equal(norm_text(&many, buf_str(&in), in.len, NORM_ALL, &e), 0);
	norm_set_window(0);
	assert_int_equal(one.text.len, many.text.len);
	assert_memory_equal(one.text.data, many.text.data, one.text.len);
	assert_int_equal(one.n_cp, many.n_cp);
	m1 = norm_map_json(&one);
	m2 = norm_map_json(&many);
	assert_true(json_array_size(m1) > 100);  /* the text really moved */
	assert_true(json_equal(m1, m2));
	json_decref(m1);
	json_decref(m2);
	norm_release(&one);
	norm_release(&many);
	buf_release(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nfkc_and_map),
		cmocka_unit_test(hyphenation_and_space),
		cmocka_unit_test(boilerplate),
		cmocka_unit_test(windows_change_nothing),
		cmocka_unit_test(languages),
		cmocka_unit_test(minhash_near_duplicates),
		cmocka_unit_test(minhash_banding),
		cmocka_unit_test(minhash_scripts_without_spaces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
