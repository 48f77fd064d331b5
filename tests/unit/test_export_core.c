/*
 * test_export_core.c - the export engine's pure pieces: splits
 * (src/export/split.h: the ratios' parser; the same split for the same
 * items and seed in any order; groups never in two splits; every label's
 * count in every split within one record of its target over many label
 * mixes, groups with several labels included; another seed, another split),
 * MANIFEST (manifest.h: written in sha256sum's format and checked by
 * sha256sum itself; a flipped byte, a missing file, an extra file and a link
 * each named), the record formats (records.h: each format's exact bytes on
 * records with non-ASCII, emoji, combining marks, right-to-left text,
 * quotes, tabs, newlines and commas, compared with what Python's json and
 * csv modules write for them; the hf README's YAML; bad records refused by
 * name), the dataset card (card.h: its sections, the --raw warning,
 * escaping, same facts same bytes), and every allocation failing in turn.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/hash.h"
#include "core/utf8.h"
#include "export/card.h"
#include "export/manifest.h"
#include "export/records.h"
#include "export/split.h"

/* ---- helpers --------------------------------------------------------------- */

static char *join(const char *a, const char *b)
{
	char *p;
	if (asprintf(&p, "%s/%s", a, b) < 0)
		fail_msg("out of memory");
	return p;
}

static void put(const char *dir, const char *rel, const char *text)
{
	char *p = join(dir, rel), *cmd;
	char *d = strdup(p);
	*strrchr(d, '/') = '\0';
	if (asprintf(&cmd, "mkdir -p '%s'", d) < 0 || system(cmd) != 0)
		fail_msg("mkdir failed");
	free(cmd);
	tu_write(p, text, strlen(text));
	free(d);
	free(p);
}

/* The whole file dir/rel, NUL-terminated (malloc'd); NULL when absent. */
static char *slurp(const char *dir, const char *rel, size_t *len)
{
	char *p = join(dir, rel), *data;
	FILE *f = fopen(p, "rb");
	long n;
	free(p);
	if (!f)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	data = malloc((size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return data;
}

static void assert_file(const char *dir, const char *rel, const char *want)
{
	size_t len;
	char *got = slurp(dir, rel, &len);
	if (!got)
		fail_msg("'%s' was not written", rel);
	if (len != strlen(want) || memcmp(got, want, len)) {
		fprintf(stderr, "--- %s: want\n%s--- got\n%s---\n", rel, want, got);
		fail_msg("'%s' differs", rel);
	}
	free(got);
}

static void unlink_in(const char *dir, const char *rel)
{
	char *p = join(dir, rel);
	unlink(p);
	free(p);
}

/* xorshift64*: the tests' own deterministic randomness */
static uint64_t rnd_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 2685821657736338717ULL;
}
static size_t rnd_below(size_t n)
{
	return (size_t)(rnd() % n);
}

/* ---- splits: ratios ------------------------------------------------------- */

static void split_ratios_parse(void **state)
{
	struct split_ratios r;
	struct moat_err e = MOAT_ERR_INIT;
	char txt[64];
	static const char *const bad[] = {
		"", "80/10", "80/10/5/5", "a/b", "80/-10/30", "80//20", "80/10/10/",
		"0.1234567/0.8765433", "101", "60/50", "0.5/0.4", "80 /20", "1e2",
	};
	(void)state;

	assert_int_equal(split_parse("80/10/10", &r, &e), 0);
	assert_int_equal(r.n, 3);
	assert_true(r.w[0] == 80 && r.w[1] == 10 && r.w[2] == 10);
	assert_string_equal(r.name[0], "train");
	assert_string_equal(r.name[1], "val");
	assert_string_equal(r.name[2], "test");
	assert_int_equal(split_format(&r, txt, sizeof(txt)), 8);
	assert_string_equal(txt, "80/10/10");

	assert_int_equal(split_parse("90/10", &r, &e), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.name[0], "train");
	assert_string_equal(r.name[1], "test");

	assert_int_equal(split_parse("0.8/0.1/0.1", &r, &e), 0);
	assert_true(r.w[0] == 8 && r.w[1] == 1 && r.w[2] == 1 && r.decimals == 1);
	assert_true(split_format(&r, txt, sizeof(txt)) > 0);
	assert_string_equal(txt, "0.8/0.1/0.1");

	assert_int_equal(split_parse("33.3/33.3/33.4", &r, &e), 0);
	assert_true(r.w[0] == 333 && r.w[2] == 334);
	assert_int_equal(split_parse("100", &r, &e), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(split_parse("0.85/0.1/0.05", &r, &e), 0);
	assert_true(split_format(&r, txt, sizeof(txt)) > 0);
	assert_string_equal(txt, "0.85/0.10/0.05");
	assert_int_equal(split_format(&r, txt, 5), -1);
	assert_int_equal(split_parse("80/0/20", &r, &e), 0);
	assert_true(r.w[1] == 0);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		if (split_parse(bad[i], &r, &e) != -1)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(e.code, MOAT_EUSAGE);
		assert_non_null(strstr(e.msg, "split '"));
	}
	assert_int_equal(split_parse("80/10/5", &r, &e), -1);
	assert_string_equal(e.msg, "split '80/10/5': the parts add up to 95, not 100 (or 1)");
}

/* ---- splits: assignment --------------------------------------------------- */

struct mix {
	size_t n;
	struct split_item *items;
	char **strs;          /* owned strings */
	size_t nstrs;
};

static const char *mix_str(struct mix *m, const char *fmt, size_t a)
{
	char *s;
	if (asprintf(&s, fmt, a) < 0)
		fail_msg("out of memory");
	m->strs = realloc(m->strs, (m->nstrs + 1) * sizeof(*m->strs));
	m->strs[m->nstrs++] = s;
	return s;
}

static void mix_free(struct mix *m)
{
	for (size_t i = 0; i < m->nstrs; i++)
		free(m->strs[i]);
	free(m->strs);
	free(m->items);
	memset(m, 0, sizeof(*m));
}

/* n items over nl labels (skewed: label k about twice as common as k+1,
 * some unlabelled when with_null); about grouped_pct percent of each
 * label's items in groups of 2 to 4 that mix labels, never more than
 * max_grouped_pm per mille of a label's items. */
static void make_mix(struct mix *m, size_t n, size_t nl, int with_null, size_t grouped_pct,
		     size_t max_grouped_pm)
{
	size_t *per_label = calloc(nl + 1, sizeof(size_t)), *grouped = calloc(nl + 1, sizeof(size_t));
	const char **label_of = calloc(nl + 1, sizeof(char *));
	size_t ngroups = 0;
	memset(m, 0, sizeof(*m));
	m->n = n;
	m->items = calloc(n, sizeof(*m->items));
	for (size_t l = 0; l < nl; l++)
		label_of[l] = mix_str(m, "label-%zu", l);
	label_of[nl] = NULL;
	for (size_t i = 0; i < n; i++) {
		size_t l = 0;
		while (l + 1 < nl && rnd_below(2))
			l++;
		if (with_null && rnd_below(7) == 0)
			l = nl;
		m->items[i].id = mix_str(m, "item-%zu", i);
		m->items[i].label = label_of[l];
		m->items[i].group = NULL;
		per_label[l]++;
	}
	/* groups: runs of 2..4 items chosen at random, if every label in the
	 * run stays under its cap */
	for (size_t tries = 0; tries < n * grouped_pct / 100; tries++) {
		size_t size = 2 + rnd_below(3), start = rnd_below(n), ok = 1;
		const char *g;
		if (start + size > n)
			continue;
		for (size_t j = start; j < start + size; j++) {
			size_t l = m->items[j].label ? (size_t)(strchr(m->items[j].label, '-') ?
				strtoul(strchr(m->items[j].label, '-') + 1, NULL, 10) : 0) : nl;
			if (m->items[j].group || (grouped[l] + size) * 1000 > max_grouped_pm * per_label[l])
				ok = 0;
		}
		if (!ok)
			continue;
		g = mix_str(m, "group-%zu", ngroups++);
		for (size_t j = start; j < start + size; j++) {
			size_t l = m->items[j].label ?
				strtoul(strchr(m->items[j].label, '-') + 1, NULL, 10) : nl;
			grouped[l]++;
			m->items[j].group = g;
		}
	}
	free(per_label);
	free(grouped);
	free(label_of);
}

static int label_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Checks groups (never in two splits) and, when exact, every label within
 * one record of its target in every split. */
static void check_split(const struct mix *m, const struct split_ratios *r, const unsigned char *out,
			int exact)
{
	uint64_t W = 0;
	for (size_t s = 0; s < r->n; s++)
		W += r->w[s];
	for (size_t i = 0; i < m->n; i++) {
		assert_true(out[i] < r->n);
		if (r->w[out[i]] == 0)
			fail_msg("item %zu went to a split of weight 0", i);
	}
	for (size_t i = 0; i < m->n; i++)
		for (size_t j = i + 1; m->items[i].group && j < m->n && j < i + 8; j++)
			if (m->items[j].group && !strcmp(m->items[i].group, m->items[j].group))
				assert_int_equal(out[i], out[j]);
	if (!exact)
		return;
	for (size_t i = 0; i < m->n; i++) {
		size_t nl = 0, cnt[SPLIT_MAX] = { 0 };
		int seen = 0;
		for (size_t j = 0; j < i && !seen; j++)
			seen = label_eq(m->items[j].label, m->items[i].label);
		if (seen)
			continue;
		for (size_t j = 0; j < m->n; j++) {
			if (label_eq(m->items[j].label, m->items[i].label)) {
				nl++;
				cnt[out[j]]++;
			}
		}
		for (size_t s = 0; s < r->n; s++) {
			/* |cnt - nl*w/W| < 1, in units of 1/W */
			long long d = (long long)(cnt[s] * W) - (long long)(nl * r->w[s]);
			if (d <= -(long long)W || d >= (long long)W)
				fail_msg("label '%s': %zu of %zu in split %zu, target %.2f",
					 m->items[i].label ? m->items[i].label : "(none)", cnt[s], nl, s,
					 (double)nl * (double)r->w[s] / (double)W);
		}
	}
}

static void split_stratified_many_mixes(void **state)
{
	static const char *const ratios[] = { "80/10/10", "90/10", "70/15/15", "50/50", "100",
					      "0.6/0.2/0.2", "33.3/33.3/33.4", "80/0/20" };
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
	rnd_state = 12345;
	for (int trial = 0; trial < 240; trial++) {
		struct mix m;
		struct split_ratios r;
		size_t n = 1 + rnd_below(trial < 120 ? 60 : 800);
		size_t nl = 1 + rnd_below(6);
		/* singletons only in a third of the trials; else groups of mixed
		 * labels, under a quarter of each label so that the largest split
		 * can always take them */
		size_t pct = trial % 3 == 0 ? 0 : 10 + rnd_below(30);
		unsigned char *out = malloc(n), *again = malloc(n);
		make_mix(&m, n, nl, trial % 2, pct, 250);
		assert_int_equal(split_parse(ratios[trial % 8], &r, &e), 0);
		assert_int_equal(split_assign(m.items, n, &r, "seed", out, &e), 0);
		check_split(&m, &r, out, 1);
		assert_int_equal(split_assign(m.items, n, &r, "seed", again, &e), 0);
		assert_memory_equal(out, again, n);
		free(out);
		free(again);
		mix_free(&m);
	}
}

static void split_deterministic_grouped_seeded(void **state)
{
	struct mix m;
	struct split_ratios r;
	struct moat_err e = MOAT_ERR_INIT;
	size_t n = 2000, differ = 0;
	unsigned char *a = malloc(n), *b = malloc(n), *c = malloc(n);
	struct split_item *rev = malloc(n * sizeof(*rev));
	(void)state;
	rnd_state = 777;
	make_mix(&m, n, 4, 1, 40, 250);
	assert_int_equal(split_parse("80/10/10", &r, &e), 0);
	assert_int_equal(split_assign(m.items, n, &r, "42", a, &e), 0);
	check_split(&m, &r, a, 1);

	/* the order of the items does not matter */
	for (size_t i = 0; i < n; i++)
		rev[i] = m.items[n - 1 - i];
	assert_int_equal(split_assign(rev, n, &r, "42", b, &e), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(a[i], b[n - 1 - i]);

	/* another seed, another split, as good */
	assert_int_equal(split_assign(m.items, n, &r, "43", c, &e), 0);
	check_split(&m, &r, c, 1);
	for (size_t i = 0; i < n; i++)
		differ += a[i] != c[i];
	assert_true(differ > n / 10);

	/* a group larger than any split's room keeps together, unbalanced */
	for (size_t i = 0; i < n; i++)
		m.items[i].group = i < n / 2 ? "one big document" : NULL;
	assert_int_equal(split_assign(m.items, n, &r, "42", a, &e), 0);
	for (size_t i = 1; i < n / 2; i++)
		assert_int_equal(a[i], a[0]);
	check_split(&m, &r, a, 0);

	/* an item with neither group nor id */
	m.items[n - 1].group = NULL;
	m.items[n - 1].id = NULL;
	assert_int_equal(split_assign(m.items, n, &r, "42", a, &e), -1);
	assert_int_equal(e.code, MOAT_EUSAGE);
	assert_non_null(strstr(e.msg, "item 1999"));
	assert_int_equal(split_assign(m.items, 0, &r, "42", a, &e), 0);

	free(a);
	free(b);
	free(c);
	free(rev);
	mix_free(&m);
}

/* Known answers, computed by an independent Python transcription of the
 * algorithm split.h documents (SHA-256 ranks, largest groups first, integer
 * targets): the same splits on any machine, and a change here changes every
 * export's splits, so it must be deliberate. */
static void split_known_answer(void **state)
{
	struct split_item it[10], *big = calloc(2000, sizeof(*big));
	static const char *const ids[10] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j" };
	unsigned char out[10], *bo = malloc(2000);
	char got[11], hex[SHA256_HEX], **strs = calloc(2000 * 3, sizeof(char *));
	size_t cnt[3] = { 0 };
	struct split_ratios r;
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
	for (int i = 0; i < 10; i++) {
		it[i].id = ids[i];
		it[i].group = NULL;
		it[i].label = i < 6 ? "x" : "y";
	}
	assert_int_equal(split_parse("50/30/20", &r, &e), 0);
	assert_int_equal(split_assign(it, 10, &r, "seed", out, &e), 0);
	for (int i = 0; i < 10; i++)
		got[i] = (char)('0' + out[i]);
	got[10] = '\0';
	assert_string_equal(got, "0121000102");

	/* 2000 items: ids item-I; every third in document doc-(I/4); labels
	 * L((7I) mod 5), none for every eleventh; 70/20/10, seed "moat" */
	for (int i = 0; i < 2000; i++) {
		assert_true(asprintf(&strs[3 * i], "item-%d", i) > 0);
		big[i].id = strs[3 * i];
		if (i % 3 == 0) {
			assert_true(asprintf(&strs[3 * i + 1], "doc-%d", i / 4) > 0);
			big[i].group = strs[3 * i + 1];
		}
		if (i % 11) {
			assert_true(asprintf(&strs[3 * i + 2], "L%d", i * 7 % 5) > 0);
			big[i].label = strs[3 * i + 2];
		}
	}
	assert_int_equal(split_parse("70/20/10", &r, &e), 0);
	assert_int_equal(split_assign(big, 2000, &r, "moat", bo, &e), 0);
	for (int i = 0; i < 2000; i++)
		cnt[bo[i]]++;
	assert_true(cnt[0] == 1401 && cnt[1] == 401 && cnt[2] == 198);
	sha256_hex_mem(bo, 2000, hex);
	assert_string_equal(hex, "e6812fd5417a184ae0e69360f9ed6cc3b3083f68a644375a9063aa61c2c38d15");
	for (int i = 0; i < 2000 * 3; i++)
		free(strs[i]);
	free(strs);
	free(big);
	free(bo);
}

/* ---- MANIFEST --------------------------------------------------------------- */

struct seen {
	char paths[16][64];
	enum manifest_problem kind[16];
	int n;
};

static void on_problem(void *ctx, enum manifest_problem p, const char *path)
{
	struct seen *s = ctx;
	if (s->n < 16) {
		assert_true(strlen(path) < 64);
		memcpy(s->paths[s->n], path, strlen(path) + 1);
		s->kind[s->n++] = p;
	}
}

static void manifest_write_and_verify(void **state)
{
	char *dir = tu_tmpdir(), *cmd, *m;
	char hex[SHA256_HEX], hex2[SHA256_HEX];
	struct moat_err e = MOAT_ERR_INIT;
	struct manifest_result res;
	struct seen seen = { 0 };
	(void)state;
	put(dir, "a.txt", "abc");
	put(dir, "data/train.jsonl", "{\"id\":1}\n");
	put(dir, "data/val.jsonl", "{\"id\":2}\n");
	put(dir, "README.md", "# card\n");
	put(dir, "audit/records.jsonl", "");
	put(dir, "odd name, with space.txt", "x");
	put(dir, "back\\slash.txt", "y");

	assert_int_equal(manifest_write(dir, 2, hex, &e), 7);
	m = slurp(dir, MANIFEST_NAME, NULL);
	/* sorted bytewise; sha256("abc") and sha256("") known */
	assert_non_null(strstr(m, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a.txt\n"));
	assert_non_null(strstr(m, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  audit/records.jsonl\n"));
	assert_non_null(strstr(m, "\\"));
	assert_true(strstr(m, "  README.md\n") < strstr(m, "  a.txt\n"));
	assert_true(strstr(m, "  a.txt\n") < strstr(m, "  audit/records.jsonl\n"));
	assert_true(strstr(m, "  audit/") < strstr(m, "back\\\\slash.txt\n"));
	assert_null(strstr(m, "MANIFEST"));
	sha256_hex_mem(m, strlen(m), hex2);
	assert_string_equal(hex, hex2);
	free(m);

	/* sha256sum itself accepts it, escapes included */
	if (asprintf(&cmd, "cd '%s' && sha256sum --quiet -c MANIFEST", dir) < 0)
		fail_msg("oom");
	assert_int_equal(system(cmd), 0);
	free(cmd);

	assert_int_equal(manifest_verify(dir, 2, on_problem, &seen, &res, hex2, &e), 0);
	assert_int_equal(seen.n, 0);
	assert_int_equal(res.files, 7);
	assert_int_equal(res.problems, 0);
	assert_string_equal(hex, hex2);

	/* a flipped byte */
	put(dir, "data/train.jsonl", "{\"id\":3}\n");
	assert_int_equal(manifest_verify(dir, 1, NULL, NULL, &res, NULL, &e), -1);
	assert_int_equal(e.code, MOAT_ECORRUPT);
	assert_string_equal(e.msg, "'data/train.jsonl': differs from MANIFEST");
	assert_int_equal(res.differ, 1);
	put(dir, "data/train.jsonl", "{\"id\":1}\n");

	/* a missing file */
	m = join(dir, "data/val.jsonl");
	assert_int_equal(unlink(m), 0);
	free(m);
	assert_int_equal(manifest_verify(dir, 0, NULL, NULL, &res, NULL, &e), -1);
	assert_string_equal(e.msg, "'data/val.jsonl': listed in MANIFEST but missing");
	assert_int_equal(res.missing, 1);
	put(dir, "data/val.jsonl", "{\"id\":2}\n");

	/* a file not listed */
	put(dir, "data/extra.jsonl", "{}\n");
	assert_int_equal(manifest_verify(dir, 0, NULL, NULL, &res, NULL, &e), -1);
	assert_string_equal(e.msg, "'data/extra.jsonl': not listed in MANIFEST");
	assert_int_equal(res.unlisted, 1);

	/* all at once, in path order; a link is not a file */
	put(dir, "README.md", "# changed\n");
	m = join(dir, "a.txt");
	assert_int_equal(unlink(m), 0);
	free(m);
	m = join(dir, "link");
	assert_int_equal(symlink("/etc/passwd", m), 0);
	free(m);
	assert_int_equal(manifest_verify(dir, 0, on_problem, &seen, &res, NULL, &e), -1);
	assert_string_equal(e.msg, "'README.md': differs from MANIFEST (and 3 more problems)");
	assert_int_equal(seen.n, 4);
	assert_string_equal(seen.paths[0], "README.md");
	assert_int_equal(seen.kind[0], MANIFEST_DIFFERS);
	assert_string_equal(seen.paths[1], "a.txt");
	assert_int_equal(seen.kind[1], MANIFEST_MISSING);
	assert_string_equal(seen.paths[2], "data/extra.jsonl");
	assert_int_equal(seen.kind[2], MANIFEST_UNLISTED);
	assert_string_equal(seen.paths[3], "link");
	assert_int_equal(seen.kind[3], MANIFEST_NOT_FILE);
	assert_true(res.differ == 1 && res.missing == 1 && res.unlisted == 1 && res.not_file == 1);

	/* writing refuses the link */
	assert_int_equal(manifest_write(dir, 0, NULL, &e), -1);
	assert_int_equal(e.code, MOAT_EUNSUPPORTED);
	assert_non_null(strstr(e.msg, "/link': not a regular file"));

	tu_rmtree(dir);
	free(dir);
}

static void manifest_refuses_bad_lines(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "zz  a\n", "MANIFEST: line 1: expected '<64 hex digits>  <path>'" },
		{ "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad a\n",
		  "MANIFEST: line 1: expected '<64 hex digits>  <path>'" },
		{ "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  ../etc/passwd\n",
		  "MANIFEST: line 1: '../etc/passwd' is a '.' or '..' component, not a file inside the export" },
		{ "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a\n"
		  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  /abs\n",
		  "MANIFEST: line 2: '/abs' is an absolute path, not a file inside the export" },
		{ "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a\n"
		  "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD *a\n",
		  "MANIFEST: line 2: 'a' is listed twice (also line 1)" },
		{ "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a\n\n",
		  "MANIFEST: line 2: expected '<64 hex digits>  <path>'" },
	};
	struct moat_err e = MOAT_ERR_INIT;
	char *dir = tu_tmpdir();
	(void)state;
	assert_int_equal(manifest_verify(dir, 0, NULL, NULL, NULL, NULL, &e), -1);
	assert_int_equal(e.code, MOAT_ENOTFOUND);
	put(dir, "a", "abc");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put(dir, MANIFEST_NAME, cases[i].text);
		assert_int_equal(manifest_verify(dir, 0, NULL, NULL, NULL, NULL, &e), -1);
		assert_int_equal(e.code, MOAT_EPARSE);
		assert_string_equal(e.msg, cases[i].msg);
	}
	/* upper-case hex and the binary marker are sha256sum's too */
	put(dir, MANIFEST_NAME,
	    "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD *a\n");
	assert_int_equal(manifest_verify(dir, 0, NULL, NULL, NULL, NULL, &e), 0);
	/* an empty export: an empty MANIFEST */
	tu_rmtree(dir);
	free(dir);
	dir = tu_tmpdir();
	assert_int_equal(manifest_write(dir, 0, NULL, &e), 0);
	assert_int_equal(manifest_verify(dir, 0, NULL, NULL, NULL, NULL, &e), 0);
	tu_rmtree(dir);
	free(dir);
}

/* ---- record formats ---------------------------------------------------------- */

/* Expected bytes, as Python 3 writes the same records with
 * json.dumps(o, ensure_ascii=False, separators=(",", ":")) (metadata with
 * sort_keys=True) and csv.writer (QUOTE_MINIMAL, "\r\n"). */
static const char exp_jsonl_train[] =
	"{\"id\":\"doc1#0\",\"text\":\"Zoë lives in São Paulo, \\\"SP\\\".\\nNew\\tline 🎉 café́\",\"metadata\":{\"nested\":{\"a\":true,\"b\":1},\"none\":null,\"page\":2,\"score\":0.5,\"source\":\"a.txt\",\"tags\":[\"x\",\"y\"]},\"labels\":[\"travel\"],\"spans\":[[0,3,\"PER\"],[13,22,\"LOC\"],[39,40,\"EMOJI\"],[41,46,\"FOOD\"]]}\n"
	"{\"id\":\"doc3\",\"text\":\"مرحبا بالعالم\",\"metadata\":{\"lang\":\"ar\"},\"labels\":[],\"spans\":[[6,13,\"LOC\"]],\"answer\":\"Hello, world\"}\n";
static const char exp_jsonl_test[] =
	"{\"id\":\"doc2#0\",\"text\":\"Comma, \\\"quote\\\" and emoji 😀\\r\\nend\",\"metadata\":{},\"labels\":[\"a\",\"b\"],\"spans\":[]}\n";
static const char exp_hf_train[] =
	"{\"id\":\"doc1#0\",\"text\":\"Zoë lives in São Paulo, \\\"SP\\\".\\nNew\\tline 🎉 café́\",\"labels\":[\"travel\"],\"spans\":[{\"start\":0,\"end\":3,\"label\":\"PER\"},{\"start\":13,\"end\":22,\"label\":\"LOC\"},{\"start\":39,\"end\":40,\"label\":\"EMOJI\"},{\"start\":41,\"end\":46,\"label\":\"FOOD\"}],\"answer\":null,\"synthetic\":false,\"metadata\":\"{\\\"nested\\\":{\\\"a\\\":true,\\\"b\\\":1},\\\"none\\\":null,\\\"page\\\":2,\\\"score\\\":0.5,\\\"source\\\":\\\"a.txt\\\",\\\"tags\\\":[\\\"x\\\",\\\"y\\\"]}\"}\n"
	"{\"id\":\"doc3\",\"text\":\"مرحبا بالعالم\",\"labels\":[],\"spans\":[{\"start\":6,\"end\":13,\"label\":\"LOC\"}],\"answer\":\"Hello, world\",\"synthetic\":false,\"metadata\":\"{\\\"lang\\\":\\\"ar\\\"}\"}\n";
static const char exp_hf_test[] =
	"{\"id\":\"doc2#0\",\"text\":\"Comma, \\\"quote\\\" and emoji 😀\\r\\nend\",\"labels\":[\"a\",\"b\"],\"spans\":[],\"answer\":null,\"synthetic\":false,\"metadata\":\"{}\"}\n";
static const char exp_csv_train[] =
	"id,text,labels,spans,answer,metadata\r\n"
	"doc1#0,\"Zoë lives in São Paulo, \"\"SP\"\".\n"
	"New\tline 🎉 café́\",travel,\"[[0,3,\"\"PER\"\"],[13,22,\"\"LOC\"\"],[39,40,\"\"EMOJI\"\"],[41,46,\"\"FOOD\"\"]]\",,\"{\"\"nested\"\":{\"\"a\"\":true,\"\"b\"\":1},\"\"none\"\":null,\"\"page\"\":2,\"\"score\"\":0.5,\"\"source\"\":\"\"a.txt\"\",\"\"tags\"\":[\"\"x\"\",\"\"y\"\"]}\"\r\n"
	"doc3,مرحبا بالعالم,,\"[[6,13,\"\"LOC\"\"]]\",\"Hello, world\",\"{\"\"lang\"\":\"\"ar\"\"}\"\r\n";
static const char exp_csv_test[] =
	"id,text,labels,spans,answer,metadata\r\n"
	"doc2#0,\"Comma, \"\"quote\"\" and emoji 😀\r\n"
	"end\",a|b,,,{}\r\n";
static const char exp_chat_train[] =
	"{\"messages\":[{\"role\":\"system\",\"content\":\"Label the text.\"},{\"role\":\"user\",\"content\":\"Zoë lives in São Paulo, \\\"SP\\\".\\nNew\\tline 🎉 café́\"},{\"role\":\"assistant\",\"content\":\"travel\"}]}\n"
	"{\"messages\":[{\"role\":\"system\",\"content\":\"Label the text.\"},{\"role\":\"user\",\"content\":\"مرحبا بالعالم\"},{\"role\":\"assistant\",\"content\":\"Hello, world\"}]}\n"
	"{\"messages\":[{\"role\":\"system\",\"content\":\"Label the text.\"},{\"role\":\"user\",\"content\":\"Zoë lives in São Paulo, \\\"SP\\\".\\nNew\\tline 🎉 café́\"},{\"role\":\"assistant\",\"content\":\"[{\\\"text\\\":\\\"Zoë\\\",\\\"label\\\":\\\"PER\\\"},{\\\"text\\\":\\\"São Paulo\\\",\\\"label\\\":\\\"LOC\\\"}]\"}]}\n"
	"{\"messages\":[{\"role\":\"system\",\"content\":\"Label the text.\"},{\"role\":\"user\",\"content\":\"no target\"}]}\n";
static const char exp_alpaca_train[] =
	"{\"instruction\":\"Zoë lives in São Paulo, \\\"SP\\\".\\nNew\\tline 🎉 café́\",\"input\":\"\",\"output\":\"travel\"}\n"
	"{\"instruction\":\"مرحبا بالعالم\",\"input\":\"\",\"output\":\"Hello, world\"}\n"
	"{\"instruction\":\"Zoë lives in São Paulo, \\\"SP\\\".\\nNew\\tline 🎉 café́\",\"input\":\"\",\"output\":\"[{\\\"text\\\":\\\"Zoë\\\",\\\"label\\\":\\\"PER\\\"},{\\\"text\\\":\\\"São Paulo\\\",\\\"label\\\":\\\"LOC\\\"}]\"}\n"
	"{\"instruction\":\"no target\",\"input\":\"\",\"output\":\"\"}\n";
static const char exp_alpaca_instr_test[] =
	"{\"instruction\":\"Name the categories.\",\"input\":\"Comma, \\\"quote\\\" and emoji 😀\\r\\nend\",\"output\":\"a, b\"}\n";
static const char exp_rag_train[] =
	"{\"id\":\"c1\",\"document\":\"d1\",\"path\":\"docs/a b.pdf\",\"pages\":[2,3],\"start\":10,\"end\":56,\"tokens\":12,\"tokenizer\":\"gguf:sha256:abcd\",\"text\":\"Zoë lives in São Paulo, \\\"SP\\\".\\nNew\\tline 🎉 café́\",\"metadata\":{\"k\":\"v\"}}\n"
	"{\"id\":\"c2\",\"document\":\"d1\",\"path\":\"docs/a b.pdf\",\"pages\":[],\"start\":58,\"end\":89,\"tokens\":9,\"tokenizer\":\"gguf:sha256:abcd\",\"text\":\"Comma, \\\"quote\\\" and emoji 😀\\r\\nend\",\"metadata\":{}}\n";
static const char exp_jsonl_chunks_train[] =
	"{\"id\":\"c1\",\"document\":\"d1\",\"path\":\"docs/a b.pdf\",\"pages\":[2,3],\"start\":10,\"end\":56,\"tokens\":12,\"tokenizer\":\"gguf:sha256:abcd\",\"text\":\"Zoë lives in São Paulo, \\\"SP\\\".\\nNew\\tline 🎉 café́\",\"metadata\":{\"k\":\"v\"},\"labels\":[],\"spans\":[[0,3,\"PER\"]]}\n"
	"{\"id\":\"c2\",\"document\":\"d1\",\"path\":\"docs/a b.pdf\",\"pages\":[],\"start\":58,\"end\":89,\"tokens\":9,\"tokenizer\":\"gguf:sha256:abcd\",\"text\":\"Comma, \\\"quote\\\" and emoji 😀\\r\\nend\",\"metadata\":{},\"labels\":[\"x\"],\"spans\":[]}\n";
static const char exp_csv_chunks_train[] =
	"id,document,path,page_start,page_end,start,end,tokens,tokenizer,text,labels,spans,answer,metadata\r\n"
	"c1,d1,docs/a b.pdf,2,3,10,56,12,gguf:sha256:abcd,\"Zoë lives in São Paulo, \"\"SP\"\".\n"
	"New\tline 🎉 café́\",,\"[[0,3,\"\"PER\"\"]]\",,\"{\"\"k\"\":\"\"v\"\"}\"\r\n"
	"c2,d1,docs/a b.pdf,,,58,89,9,gguf:sha256:abcd,\"Comma, \"\"quote\"\" and emoji 😀\r\n"
	"end\",x,,,{}\r\n";

static const char T1[] = "Zoë lives in São Paulo, \"SP\".\nNew\tline 🎉 café\xcc\x81";
static const char T2[] = "Comma, \"quote\" and emoji 😀\r\nend";
static const char T3[] = "مرحبا بالعالم";

struct sample {
	struct rec r[5];
	json_t *meta1;
	const char *labels1[1], *labels2[2];
	struct rec_span spans1[4], spans3[1], spans4[2];
};

static void sample_init(struct sample *s)
{
	memset(s, 0, sizeof(*s));
	/* keys out of order: the writer sorts them */
	s->meta1 = json_pack("{s:s,s:i,s:f,s:[s,s],s:{s:i,s:b},s:n}", "source", "a.txt", "page", 2,
			     "score", 0.5, "tags", "x", "y", "nested", "b", 1, "a", 1, "none");
	assert_non_null(s->meta1);
	s->labels1[0] = "travel";
	s->labels2[0] = "a";
	s->labels2[1] = "b";
	s->spans1[0] = (struct rec_span){ 0, 3, "PER" };
	s->spans1[1] = (struct rec_span){ 13, 22, "LOC" };
	s->spans1[2] = (struct rec_span){ 39, 40, "EMOJI" };
	s->spans1[3] = (struct rec_span){ 41, 46, "FOOD" };
	s->spans3[0] = (struct rec_span){ 6, 13, "LOC" };
	s->spans4[0] = (struct rec_span){ 0, 3, "PER" };
	s->spans4[1] = (struct rec_span){ 13, 22, "LOC" };

	s->r[0].id = "doc1#0";
	s->r[0].text = T1;
	s->r[0].text_len = strlen(T1);
	s->r[0].meta = s->meta1;
	s->r[0].labels = s->labels1;
	s->r[0].n_labels = 1;
	s->r[0].spans = s->spans1;
	s->r[0].n_spans = 4;

	s->r[1].id = "doc2#0";
	s->r[1].text = T2;
	s->r[1].text_len = strlen(T2);
	s->r[1].labels = s->labels2;
	s->r[1].n_labels = 2;
	s->r[1].split = 1;

	s->r[2].id = "doc3";
	s->r[2].text = T3;
	s->r[2].text_len = strlen(T3);
	s->r[2].meta_json = "{\"lang\":\"ar\"}";
	s->r[2].meta_json_len = strlen(s->r[2].meta_json);
	s->r[2].spans = s->spans3;
	s->r[2].n_spans = 1;
	s->r[2].answer = "Hello, world";

	s->r[3].id = "r4";
	s->r[3].text = T1;
	s->r[3].text_len = strlen(T1);
	s->r[3].spans = s->spans4;
	s->r[3].n_spans = 2;

	s->r[4].id = "r5";
	s->r[4].text = "no target";
	s->r[4].text_len = 9;
}

static void write_all(const char *format, const char *dir, const struct rec_opts *o,
		      const struct rec *r, size_t n, struct buf *yaml)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct rec_writer *w = rec_writer_open(format, dir, o, &e);
	if (!w)
		fail_msg("%s: %s", format, e.msg);
	for (size_t i = 0; i < n; i++)
		if (rec_write(w, &r[i], &e) < 0)
			fail_msg("%s: %s", format, e.msg);
	if (rec_writer_finish(w, &e) < 0)
		fail_msg("%s: %s", format, e.msg);
	if (yaml)
		rec_writer_hf_yaml(w, yaml);
	rec_writer_free(w);
}

static void records_exact_bytes(void **state)
{
	struct sample s;
	struct rec_opts o = rec_default_opts();
	struct buf yaml = BUF_INIT;
	char *dir;
	(void)state;
	sample_init(&s);
	o.splits[0] = "train";
	o.splits[1] = "test";

	dir = tu_tmpdir();
	write_all("jsonl", dir, &o, s.r, 3, NULL);
	assert_file(dir, "train.jsonl", exp_jsonl_train);
	assert_file(dir, "test.jsonl", exp_jsonl_test);
	tu_rmtree(dir);
	free(dir);

	dir = tu_tmpdir();
	write_all("csv", dir, &o, s.r, 3, NULL);
	assert_file(dir, "train.csv", exp_csv_train);
	assert_file(dir, "test.csv", exp_csv_test);
	tu_rmtree(dir);
	free(dir);

	dir = tu_tmpdir();
	write_all("hf", dir, &o, s.r, 3, &yaml);
	assert_file(dir, "data/train.jsonl", exp_hf_train);
	assert_file(dir, "data/test.jsonl", exp_hf_test);
	assert_string_equal(buf_str(&yaml),
			    "---\n"
			    "configs:\n"
			    "- config_name: default\n"
			    "  data_files:\n"
			    "  - split: train\n"
			    "    path: data/train.jsonl\n"
			    "  - split: test\n"
			    "    path: data/test.jsonl\n"
			    "---\n");
	tu_rmtree(dir);
	free(dir);

	/* chat with a system prompt; alpaca without and with an instruction */
	dir = tu_tmpdir();
	o.system_prompt = "Label the text.";
	s.r[3].split = s.r[4].split = 0;
	write_all("chat", dir, &o, s.r, 5, NULL);
	assert_file(dir, "train.jsonl", exp_chat_train);
	tu_rmtree(dir);
	free(dir);

	dir = tu_tmpdir();
	write_all("alpaca", dir, &o, s.r, 5, NULL);
	assert_file(dir, "train.jsonl", exp_alpaca_train);
	tu_rmtree(dir);
	free(dir);

	dir = tu_tmpdir();
	o.instruction = "Name the categories.";
	write_all("alpaca", dir, &o, s.r, 5, NULL);
	assert_file(dir, "test.jsonl", exp_alpaca_instr_test);
	tu_rmtree(dir);
	free(dir);

	json_decref(s.meta1);
	buf_release(&yaml);
}

static void records_chunks(void **state)
{
	const char *labx[1] = { "x" };
	struct rec_span sp[1] = { { 0, 3, "PER" } };
	json_t *meta = json_pack("{s:s}", "k", "v");
	struct rec c[2];
	struct rec_opts o = rec_default_opts();
	char *dir;
	(void)state;
	memset(c, 0, sizeof(c));
	c[0].id = "c1";
	c[0].document = "d1";
	c[0].path = "docs/a b.pdf";
	c[0].page_first = 2;
	c[0].page_last = 3;
	c[0].start = 10;
	c[0].end = 56;
	c[0].tokens = 12;
	c[0].tokenizer = "gguf:sha256:abcd";
	c[0].text = T1;
	c[0].text_len = strlen(T1);
	c[0].meta = meta;
	c[0].spans = sp;
	c[0].n_spans = 1;
	c[1] = c[0];
	c[1].id = "c2";
	c[1].page_first = c[1].page_last = 0;
	c[1].start = 58;
	c[1].end = 89;
	c[1].tokens = 9;
	c[1].text = T2;
	c[1].text_len = strlen(T2);
	c[1].meta = NULL;
	c[1].spans = NULL;
	c[1].n_spans = 0;
	c[1].labels = labx;
	c[1].n_labels = 1;

	dir = tu_tmpdir();
	write_all("rag", dir, NULL, c, 2, NULL);
	assert_file(dir, "train.jsonl", exp_rag_train);
	tu_rmtree(dir);
	free(dir);

	o.chunks = 1;
	dir = tu_tmpdir();
	write_all("jsonl", dir, &o, c, 2, NULL);
	assert_file(dir, "train.jsonl", exp_jsonl_chunks_train);
	tu_rmtree(dir);
	free(dir);

	dir = tu_tmpdir();
	write_all("csv", dir, &o, c, 2, NULL);
	assert_file(dir, "train.csv", exp_csv_chunks_train);
	tu_rmtree(dir);
	free(dir);
	json_decref(meta);
}

static void records_refusals(void **state)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct rec_opts o = rec_default_opts();
	struct rec_writer *w;
	struct rec r;
	struct rec_span sp = { 2, 9, "X" };
	const char *bar[1] = { "a|b" };
	const char *const *files;
	struct buf yaml = BUF_INIT;
	char *dir = tu_tmpdir();
	(void)state;

	assert_null(rec_writer_open("parquet", dir, NULL, &e));
	assert_string_equal(e.msg, "unknown record format 'parquet' (jsonl, csv, chat, alpaca, rag, hf)");
	o.splits[0] = "train";
	o.splits[1] = "../x";
	assert_null(rec_writer_open("jsonl", dir, &o, &e));
	assert_string_equal(e.msg, "split name '../x': use letters, digits and '_'");
	o.splits[1] = "train";
	assert_null(rec_writer_open("jsonl", dir, &o, &e));
	assert_string_equal(e.msg, "split name 'train' given twice");
	assert_true(rec_format_known("hf") && !rec_format_known("HF"));

	o = rec_default_opts();
	o.splits[0] = "train";
	o.splits[1] = "val";
	o.splits[2] = "test";
	w = rec_writer_open("csv", dir, &o, &e);
	assert_non_null(w);
	memset(&r, 0, sizeof(r));
	r.id = "bad-utf8";
	r.text = "caf\xe9";
	r.text_len = 4;
	assert_int_equal(rec_write(w, &r, &e), -1);
	assert_string_equal(e.msg, "record 'bad-utf8': field 'text' is not UTF-8");
	r.id = "bad-span";
	r.text = "short";
	r.text_len = 5;
	r.spans = &sp;
	r.n_spans = 1;
	assert_int_equal(rec_write(w, &r, &e), -1);
	assert_string_equal(e.msg, "record 'bad-span': span 0 [2, 9) is not inside its text of 5 code points");
	r.id = "bar";
	r.spans = NULL;
	r.n_spans = 0;
	r.labels = bar;
	r.n_labels = 1;
	assert_int_equal(rec_write(w, &r, &e), -1);
	assert_int_equal(e.code, MOAT_EUNSUPPORTED);
	r.labels = NULL;
	r.n_labels = 0;
	r.page_first = 1;
	r.page_last = 4000000000u;
	{
		struct rec_writer *rw = rec_writer_open("rag", dir, NULL, &e);
		assert_non_null(rw);
		assert_int_equal(rec_write(rw, &r, &e), -1);
		assert_string_equal(e.msg, "record 'bar': pages 1 to 4000000000, over 100000 pages");
		rec_writer_free(rw);
		unlink_in(dir, "train.jsonl");
	}
	r.page_first = r.page_last = 0;
	r.split = 3;
	assert_int_equal(rec_write(w, &r, &e), -1);
	assert_string_equal(e.msg, "record 'bar': split 3 of 3");
	/* the writer goes on after a bad record, which left nothing behind */
	r.id = "good";
	r.split = 2;
	assert_int_equal(rec_write(w, &r, &e), 0);
	assert_int_equal(rec_writer_finish(w, &e), 0);
	assert_int_equal(rec_write(w, &r, &e), -1);
	assert_string_equal(e.msg, "record writer: already finished");
	assert_int_equal(rec_writer_count(w, 0), 0);
	assert_int_equal(rec_writer_count(w, 2), 1);
	assert_int_equal(rec_writer_files(w, &files), 2);
	assert_string_equal(files[0], "train.csv");
	assert_string_equal(files[1], "test.csv");
	rec_writer_free(w);
	assert_file(dir, "train.csv", "id,text,labels,spans,answer,metadata\r\n");
	assert_file(dir, "test.csv", "id,text,labels,spans,answer,metadata\r\ngood,short,,,,{}\r\n");

	/* a file already there is not overwritten */
	w = rec_writer_open("csv", dir, &o, &e);
	assert_non_null(w);
	assert_int_equal(rec_write(w, &r, &e), -1);
	assert_int_equal(e.code, MOAT_EIO);
	assert_int_equal(rec_write(w, &r, &e), -1);
	rec_writer_free(w);
	tu_rmtree(dir);
	free(dir);

	/* hf with nothing in val: the YAML names the splits that have files;
	 * no record at all: the first split's file, empty */
	dir = tu_tmpdir();
	w = rec_writer_open("hf", dir, &o, &e);
	assert_non_null(w);
	assert_int_equal(rec_write(w, &r, &e), 0);
	r.split = 0;
	assert_int_equal(rec_write(w, &r, &e), 0);
	assert_int_equal(rec_writer_finish(w, &e), 0);
	rec_writer_hf_yaml(w, &yaml);
	rec_writer_free(w);
	assert_null(strstr(buf_str(&yaml), "val"));
	assert_non_null(strstr(buf_str(&yaml), "  - split: train\n    path: data/train.jsonl\n"
					       "  - split: test\n    path: data/test.jsonl\n"));
	tu_rmtree(dir);
	free(dir);
	dir = tu_tmpdir();
	w = rec_writer_open("jsonl", dir, NULL, &e);
	assert_non_null(w);
	assert_int_equal(rec_writer_finish(w, &e), 0);
	rec_writer_free(w);
	assert_file(dir, "train.jsonl", "");
	tu_rmtree(dir);
	free(dir);
	buf_release(&yaml);
}

/* Random strings, valid and not: each written string is what jansson writes
 * for it (the same escapes, but for the case of \u00XX's hex digits, and
 * UTF-8 copied), and a string is refused exactly when core/utf8.h finds it
 * invalid. */
static void records_strings_match_jansson(void **state)
{
	static const char *const pieces[] = {
		"a", "bc", "defghij", " ", "\"", "\\", "\n", "\r", "\t", "\b", "\f", "\x01", "\x1f",
		"\x7f", "/", "é", "€", "東", "🙂", "\xcc\x81", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf",
		/* bad: a lone continuation, a cut sequence, overlong, surrogate, past U+10FFFF,
		 * 0xC0/0xF5 leads */
		"\x80", "\xc3", "\xe2\x82", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xf5\x80\x80\x80", "\xf0\x8f\xbf\xbf",
	};
	const size_t nbad = 9, np = sizeof(pieces) / sizeof(pieces[0]);
	struct moat_err e = MOAT_ERR_INIT;
	struct rec_opts o = rec_default_opts();
	struct buf want = BUF_INIT, text = BUF_INIT;
	char *dir = tu_tmpdir(), *got;
	struct rec_writer *w;
	size_t ok = 0, refused = 0;
	(void)state;
	rnd_state = 4242;
	w = rec_writer_open("jsonl", dir, &o, &e);
	assert_non_null(w);
	for (int t = 0; t < 20000; t++) {
		struct rec r;
		size_t k = rnd_below(24);
		int valid;
		buf_reset(&text);
		for (size_t j = 0; j < k; j++) {
			/* mostly valid pieces, now and then a bad one */
			size_t p = rnd_below(t % 4 == 0 ? np : np - nbad);
			buf_adds(&text, pieces[p]);
		}
		valid = utf8_is_valid(buf_str(&text), text.len);
		memset(&r, 0, sizeof(r));
		r.id = "x";
		r.text = buf_str(&text);
		r.text_len = text.len;
		if (rec_write(w, &r, &e) < 0) {
			assert_false(valid);
			assert_string_equal(e.msg, "record 'x': field 'text' is not UTF-8");
			refused++;
			continue;
		}
		assert_true(valid);
		ok++;
		{
			json_t *js = json_stringn(buf_str(&text), text.len);
			char *d = json_dumps(js, JSON_ENCODE_ANY);
			assert_non_null(d);
			/* jansson writes \u001F, Python and moat \u001f */
			for (char *q = strstr(d, "\\u00"); q; q = strstr(q + 1, "\\u00"))
				for (int h = 4; h < 6; h++)
					if (q[h] >= 'A' && q[h] <= 'F')
						q[h] = (char)(q[h] - 'A' + 'a');
			buf_adds(&want, "{\"id\":\"x\",\"text\":");
			buf_adds(&want, d);
			buf_adds(&want, ",\"metadata\":{},\"labels\":[],\"spans\":[]}\n");
			free(d);
			json_decref(js);
		}
	}
	assert_true(ok > 10000 && refused > 1000);
	assert_int_equal(rec_writer_finish(w, &e), 0);
	rec_writer_free(w);
	got = slurp(dir, "train.jsonl", NULL);
	{
		size_t i = 0;
		const char *wd = buf_str(&want);
		while (got[i] && got[i] == wd[i])
			i++;
		if (got[i] || wd[i])
			fail_msg("differs at byte %zu: got '%.40s', want '%.40s'", i, got + (i > 20 ? i - 20 : 0),
				 wd + (i > 20 ? i - 20 : 0));
	}
	free(got);
	buf_release(&want);
	buf_release(&text);
	tu_rmtree(dir);
	free(dir);
}

/* Big records cross the flush threshold; the bytes are the same whatever the
 * flushing. */
static void records_large_stream(void **state)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct rec_writer *w;
	struct rec r;
	char *dir = tu_tmpdir(), *text = malloc(300001), *got;
	size_t len;
	(void)state;
	for (size_t i = 0; i < 300000; i++)
		text[i] = "ab\"c\n\\d"[i % 7];
	text[300000] = '\0';
	w = rec_writer_open("jsonl", dir, NULL, &e);
	assert_non_null(w);
	memset(&r, 0, sizeof(r));
	r.text = text;
	r.text_len = 300000;
	for (int i = 0; i < 20; i++) {
		char *id;
		assert_true(asprintf(&id, "r%d", i) > 0);
		r.id = id;
		assert_int_equal(rec_write(w, &r, &e), 0);
		free(id);
	}
	assert_int_equal(rec_writer_finish(w, &e), 0);
	rec_writer_free(w);
	got = slurp(dir, "train.jsonl", &len);
	assert_non_null(got);
	{
		/* each record: {"id":"rN","text":"...","metadata":{},"labels":[],"spans":[]}\n
		 * with 3 of every 7 characters escaped to two bytes */
		size_t per = 300000;
		for (size_t i = 0; i < 300000; i++)
			per += text[i] == '"' || text[i] == '\n' || text[i] == '\\';
		size_t want = 0;
		for (int i = 0; i < 20; i++)
			want += strlen("{\"id\":\"r\",\"text\":\"\",\"metadata\":{},\"labels\":[],\"spans\":[]}\n") +
				(i < 10 ? 1 : 2) + per;
		assert_int_equal(len, want);
	}
	free(got);
	free(text);
	tu_rmtree(dir);
	free(dir);
}

/* ---- the dataset card ----------------------------------------------------------- */

static void card_facts_sample(struct card_facts *f)
{
	static const char *const splits[] = { "train", "val", "test" };
	static const size_t counts[] = { 8, 1, 1 };
	static const char *const labels[] = { "LOC", "PER|ORG" };
	static const size_t lc[] = { 8, 1, 1, 2, 0, 1 };
	static const struct card_source src[] = {
		{ "docs/report|2024.pdf", "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12" },
		{ "docs/b.txt", "cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34" },
		{ "docs/c.txt", "ef56ef56ef56ef56ef56ef56ef56ef56ef56ef56ef56ef56ef56ef56ef56ef56" },
	};
	static const struct card_finding fnd[] = { { "EMAIL", "replace", 12 }, { "PERSON", "mask", 3 } };
	static const struct card_model mod[] = {
		{ "tokenizer", "store:mistral:7b", "0011223344556677889900112233445566778899001122334455667788990011" },
	};
	static const char *const steps[] = { "Ingested with `moat ingest`.", "Cleaned with policy *strict*." };
	static const char *const gaps[] = { "Scanned pages below 70% OCR confidence were dropped." };
	memset(f, 0, sizeof(*f));
	f->title = "Claims 2024";
	f->format = "hf";
	f->what = "chunks";
	f->n_splits = 3;
	f->split_names = splits;
	f->split_counts = counts;
	f->split_ratios = "80/10/10";
	f->seed = "42";
	f->n_labels = 2;
	f->labels = labels;
	f->label_counts = lc;
	f->n_sources = 3;
	f->sources = src;
	f->sources_max = 2;
	f->clean_policy = "policies/strict.yaml";
	f->clean_policy_sha256 = "99aa99aa99aa99aa99aa99aa99aa99aa99aa99aa99aa99aa99aa99aa99aa99aa";
	f->n_findings = 2;
	f->findings = fnd;
	f->n_models = 1;
	f->models = mod;
	f->moat_version = "0.1.0";
	f->command_line = "moat export --format hf --out out --split 80/10/10 --seed 42";
	f->date = "2026-11-22T10:00:00Z";
	f->status = "accepted";
	f->has_audit = 1;
	f->origin = "Claims files from the Lyon office, held by its records team.";
	f->n_steps = 2;
	f->steps = steps;
	f->n_gaps = 1;
	f->gaps = gaps;
}

static void card_sections(void **state)
{
	struct card_facts f;
	struct buf a = BUF_INIT, b = BUF_INIT, yaml = BUF_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	const char *s, *order[] = { "---\nconfigs:", "# Claims 2024\n", "## Splits\n",
				    "## Label distribution\n", "## Sources\n",
				    "## Cleaning and personal data\n", "## Models\n", "## Provenance\n",
				    "## Data governance\n", "### Origin\n", "### Preparation\n",
				    "### Known gaps\n" };
	char *dir, *got;
	(void)state;
	card_facts_sample(&f);
	buf_adds(&yaml, "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n"
			"    path: data/train.jsonl\n---\n");
	assert_int_equal(card_render(&f, buf_str(&yaml), &a), 0);
	s = buf_str(&a);
	/* the YAML first, then the sections in order */
	assert_int_equal(strncmp(s, buf_str(&yaml), yaml.len), 0);
	for (size_t i = 1; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *p = strstr(s, order[i - 1]), *q = strstr(s, order[i]);
		if (!p || !q || p >= q)
			fail_msg("'%s' is not before '%s'\n%s", order[i - 1], order[i], s);
	}
	assert_non_null(strstr(s, "10 records (chunks) in the `hf` format, exported by moat 0.1.0 on "
				  "2026-11-22T10:00:00Z.\n"));
	assert_non_null(strstr(s, "| train | 8 (80.0%) |\n| val | 1 (10.0%) |\n| test | 1 (10.0%) |\n"
				  "| **total** | **10** |\n"));
	assert_non_null(strstr(s, "Split `80/10/10` with seed `42`"));
	assert_non_null(strstr(s, "| label | train | val | test | total |\n|---|---:|---:|---:|---:|\n"
				  "| LOC | 8 (100.0%) | 1 (100.0%) | 1 (100.0%) | 10 |\n"
				  "| PER\\|ORG | 2 (25.0%) | 0 (0.0%) | 1 (100.0%) | 3 |\n"));
	assert_non_null(strstr(s, "| `docs/report\\|2024.pdf` | `ab12ab12"));
	assert_non_null(strstr(s, "and 1 more (the audit records in `audit/` name every one).\n"));
	assert_null(strstr(s, "docs/c.txt"));
	assert_non_null(strstr(s, "Clean policy: `policies/strict.yaml` (SHA-256 `99aa"));
	assert_non_null(strstr(s, "| EMAIL | replace | 12 |\n| PERSON | mask | 3 |\n"));
	assert_non_null(strstr(s, "| tokenizer | `store:mistral:7b` | `0011"));
	assert_non_null(strstr(s, "```\nmoat export --format hf --out out --split 80/10/10 --seed 42\n```\n"));
	assert_non_null(strstr(s, "`sha256sum -c MANIFEST`"));
	assert_non_null(strstr(s, "1. Ingested with \\`moat ingest\\`.\n2. Cleaned with policy \\*strict\\*.\n"));
	assert_non_null(strstr(s, "- Scanned pages below 70% OCR confidence were dropped.\n"));
	assert_null(strstr(s, "NOT de-identified"));

	/* the same facts, the same bytes */
	assert_int_equal(card_render(&f, buf_str(&yaml), &b), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);

	/* --raw: said near the top, in plain words, and again where it matters */
	buf_reset(&a);
	f.raw = 1;
	assert_int_equal(card_render(&f, NULL, &a), 0);
	s = buf_str(&a);
	assert_int_equal(strncmp(s, "# Claims 2024\n\n> **Warning: this text is NOT de-identified.**", 60), 0);
	assert_non_null(strstr(s, "- The text is NOT de-identified (`--raw`).\n"));
	assert_non_null(strstr(s, "**not de-identified**"));

	/* no policy, no labels, no split, a command line with backticks */
	buf_reset(&a);
	f.raw = 0;
	f.clean_policy = NULL;
	f.n_labels = 0;
	f.split_ratios = NULL;
	f.n_findings = 0;
	f.n_models = 0;
	f.command_line = "moat export --format jsonl --out ```odd```";
	assert_int_equal(card_render(&f, NULL, &a), 0);
	s = buf_str(&a);
	assert_non_null(strstr(s, "No clean policy was applied"));
	assert_non_null(strstr(s, "- No clean policy was applied: personal data may be in the text.\n"));
	assert_non_null(strstr(s, "No labels.\n"));
	assert_non_null(strstr(s, "Not split"));
	assert_non_null(strstr(s, "No model took part"));
	assert_non_null(strstr(s, "````\nmoat export --format jsonl --out ```odd```\n````\n"));

	/* written atomically as README.md */
	dir = tu_tmpdir();
	assert_int_equal(card_write(dir, &f, NULL, &e), 0);
	got = slurp(dir, "README.md", NULL);
	assert_string_equal(got, buf_str(&a));
	free(got);
	tu_rmtree(dir);
	free(dir);
	buf_release(&a);
	buf_release(&b);
	buf_release(&yaml);
}

/* ---- allocation failures ------------------------------------------------------- */

static void allocation_failures(void **state)
{
	struct sample s;
	struct mix m;
	struct split_ratios r;
	struct card_facts f;
	unsigned char out[300];
	(void)state;
	sample_init(&s);
	rnd_state = 99;
	make_mix(&m, 300, 3, 1, 30, 250);
	assert_int_equal(split_parse("80/10/10", &r, NULL), 0);
	card_facts_sample(&f);
	for (unsigned long n = 1;; n++) {
		struct moat_err e = MOAT_ERR_INIT;
		struct rec_writer *w = NULL;
		struct buf b = BUF_INIT;
		struct rec_opts o = rec_default_opts();
		char *dir = tu_tmpdir();
		int rc = 0, done;
		o.splits[0] = "train";
		o.splits[1] = "test";
		alloc_fail_nth(n);
		if (split_assign(m.items, m.n, &r, "s", out, &e) < 0)
			rc = -1;
		if (rc == 0 && card_render(&f, NULL, &b) < 0)
			rc = -1;
		if (rc == 0 && !(w = rec_writer_open("hf", dir, &o, &e)))
			rc = -1;
		for (size_t i = 0; rc == 0 && i < 3; i++)
			rc = rec_write(w, &s.r[i], &e);
		if (rc == 0)
			rc = rec_writer_finish(w, &e);
		if (rc == 0 && manifest_write(dir, 1, NULL, &e) < 0)
			rc = -1;
		if (rc == 0 && manifest_verify(dir, 1, NULL, NULL, NULL, NULL, &e) < 0)
			rc = -1;
		done = !alloc_failed();
		alloc_fail_nth(0);
		if (done)
			assert_int_equal(rc, 0);
		else if (rc == 0)
			; /* the failed allocation was one the code can do without */
		else
			assert_true(e.code == MOAT_ENOMEM || e.code == MOAT_EIO || buf_failed(&b));
		rec_writer_free(w);
		buf_release(&b);
		tu_rmtree(dir);
		free(dir);
		if (done)
			break;
		assert_true(n < 5000);
	}
	json_decref(s.meta1);
	mix_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(split_ratios_parse),
		cmocka_unit_test(split_stratified_many_mixes),
		cmocka_unit_test(split_deterministic_grouped_seeded),
		cmocka_unit_test(split_known_answer),
		cmocka_unit_test(manifest_write_and_verify),
		cmocka_unit_test(manifest_refuses_bad_lines),
		cmocka_unit_test(records_exact_bytes),
		cmocka_unit_test(records_chunks),
		cmocka_unit_test(records_refusals),
		cmocka_unit_test(records_strings_match_jansson),
		cmocka_unit_test(records_large_stream),
		cmocka_unit_test(card_sections),
		cmocka_unit_test(allocation_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
