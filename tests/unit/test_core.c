/* test_core.c - buffers, UTF-8 and encodings, hashing, atomic files. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/hash.h"
#include "core/jsonw.h"
#include "core/shard.h"
#include "core/utf8.h"

static void buf_grows_and_caps(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;
	for (int i = 0; i < 1000; i++)
		buf_addf(&b, "%d,", i);
	assert_false(buf_failed(&b));
	assert_int_equal(strncmp(b.data, "0,1,2,", 6), 0);
	assert_int_equal(b.data[b.len], '\0');
	buf_release(&b);

	buf_init(&b, 10);
	buf_adds(&b, "0123456789");
	assert_false(buf_failed(&b));
	buf_addch(&b, 'x');  /* one over the cap: sticky failure */
	assert_int_equal(buf_failed(&b), MOAT_ELIMIT);
	buf_adds(&b, "more");
	assert_int_equal(b.len, 10);
	assert_null(buf_detach(&b, NULL));
}

static void utf8_validation_and_counting(void **state)
{
	(void)state;
	assert_true(utf8_is_valid("h\xC3\xA9llo", 6));
	assert_false(utf8_is_valid("\xC0\xAF", 2));          /* overlong '/' */
	assert_false(utf8_is_valid("\xED\xA0\x80", 3));      /* surrogate */
	assert_false(utf8_is_valid("\xF4\x90\x80\x80", 4));  /* > U+10FFFF */
	assert_int_equal(utf8_count("h\xC3\xA9llo \xF0\x9F\x98\x80", 11), 7);
	/* Korean, Thai: one code point per syllable/char, three bytes each. */
	assert_int_equal(utf8_count("\xED\x95\x9C\xEA\xB5\xAD", 6), 2);
}

static void legacy_encodings(void **state)
{
	struct buf b = BUF_INIT;
	const unsigned char cp1252[] = { 'c', 'a', 'f', 0xE9, ' ', 0x80, ' ', 0x93, 'q', 0x94 };
	const unsigned char utf16le[] = { 0xFF, 0xFE, 'h', 0, 'i', 0, 0x3D, 0xD8, 0x00, 0xDE };
	const unsigned char latin1_c1[] = { 'a', 0x81, 'b' };
	(void)state;
	assert_string_equal(utf8_decode_text(&b, cp1252, sizeof(cp1252)), "windows-1252");
	assert_string_equal(b.data, "caf\xC3\xA9 \xE2\x82\xAC \xE2\x80\x9Cq\xE2\x80\x9D");
	buf_reset(&b);
	assert_string_equal(utf8_decode_text(&b, utf16le, sizeof(utf16le)), "utf-16le");
	assert_string_equal(b.data, "hi\xF0\x9F\x98\x80");
	buf_reset(&b);
	assert_string_equal(utf8_decode_text(&b, latin1_c1, sizeof(latin1_c1)), "iso-8859-1");
	assert_string_equal(b.data, "a\xC2\x81" "b");
	buf_reset(&b);
	assert_string_equal(utf8_decode_text(&b, (const unsigned char *)"\xEF\xBB\xBFok", 5), "utf-8-sig");
	assert_string_equal(b.data, "ok");
	buf_release(&b);
}

/* --shard's selector: fixed values (a rerun of a shard by another moat
 * version must take the same items), every id in exactly one shard, and
 * shares close to even. */
static void shard_selector(void **state)
{
	struct shard s2 = { 1, 2 }, all = SHARD_ALL;
	unsigned count[8] = { 0 };
	(void)state;
	/* the first 8 bytes of SHA-256, big-endian, mod N (python3 hashlib) */
	assert_int_equal(shard_of("report.pdf", 10, 4), 0);
	assert_int_equal(shard_of("dir/a.txt", 9, 4096), 2904);
	assert_int_equal(shard_of("", 0, 7), 1);
	assert_true(shard_has(&all, "anything"));
	for (int i = 0; i < 8000; i++) {
		char id[32];
		int in = 0;
		snprintf(id, sizeof(id), "doc-%d", i);
		for (unsigned k = 0; k < 8; k++) {
			struct shard s = { k, 8 };
			if (shard_has(&s, id)) {
				in++;
				count[k]++;
			}
		}
		assert_int_equal(in, 1);
		assert_int_equal(shard_has(&s2, id), shard_of(id, strlen(id), 2) == 1);
	}
	for (unsigned k = 0; k < 8; k++)
		assert_true(count[k] > 900 && count[k] < 1100);
}

static void sha256_known_answers(void **state)
{
	char hex[SHA256_HEX];
	(void)state;
	sha256_hex_mem("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex_mem("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void atomic_write_and_capped_read(void **state)
{
	char *dir = tu_tmpdir(), *p = fs_join(dir, "a/b/f.txt"), *sub = fs_join(dir, "a/b");
	struct buf b = BUF_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	unsigned char d[SHA256_LEN];
	uint64_t n = 0;
	char hex[SHA256_HEX];
	(void)state;
	assert_int_equal(fs_mkdirs(sub, 0755, &e), 0);
	/* an empty path is an error, read within the string */
	assert_int_equal(fs_mkdirs("", 0755, &e), -1);
	assert_int_equal(e.code, MOAT_EIO);
	/* a directory is not read as a file */
	assert_int_equal(fs_read_file(sub, &b, 0, &e), -1);
	assert_non_null(strstr(e.msg, "is a directory"));
	assert_int_equal(fs_write_atomic(p, "hello", 5, 0644, &e), 0);
	assert_int_equal(fs_read_file(p, &b, 0, &e), 0);
	assert_string_equal(b.data, "hello");
	buf_release(&b);
	assert_int_equal(fs_read_file(p, &b, 4, &e), -1);
	assert_int_equal(e.code, MOAT_ELIMIT);
	assert_non_null(strstr(e.msg, "f.txt"));
	buf_release(&b);
	assert_int_equal(sha256_file(p, d, &n, &e), 0);
	hex_encode(d, SHA256_LEN, hex);
	assert_string_equal(hex, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
	assert_int_equal(n, 5);
	free(p);
	free(sub);
	tu_rmtree(dir);
	free(dir);
}

/* The one escaper: Python's json.dumps(s, ensure_ascii=False) bytes, UTF-8
 * checked (nothing appended when bad), at every position of the eight-byte
 * steps. */
static void jsonw_escapes_as_python(void **state)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "", "\"\"" },
		{ "plain text, long enough for two words", "\"plain text, long enough for two words\"" },
		{ "q\"b\\n\nr\rt\tb\bf\f", "\"q\\\"b\\\\n\\nr\\rt\\tb\\bf\\f\"" },
		{ "\x01\x1f\x7f/", "\"\\u0001\\u001f\x7f/\"" },
		{ "Zo\xc3\xab \xe6\x9d\xb1 \xf0\x9f\x99\x82 ok", "\"Zo\xc3\xab \xe6\x9d\xb1 \xf0\x9f\x99\x82 ok\"" },
	};
	static const char *const bad[] = { "\xc0\xaf", "abcdefgh\xed\xa0\x80", "\xf4\x90\x80\x80",
					   "abc\xe2\x82", "\x80", "0123456789\xff" };
	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		for (size_t pad = 0; pad < 9; pad++) {
			struct buf in = BUF_INIT, out = BUF_INIT, want = BUF_INIT;
			for (size_t k = 0; k < pad; k++)
				buf_addch(&in, 'x');
			buf_adds(&in, ok[i].in);
			buf_addch(&want, '"');
			for (size_t k = 0; k < pad; k++)
				buf_addch(&want, 'x');
			buf_adds(&want, ok[i].out + 1);
			buf_adds(&out, "[");
			assert_int_equal(jsonw_str(&out, buf_str(&in), in.len), 0);
			assert_string_equal(out.data + 1, buf_str(&want));
			buf_release(&in);
			buf_release(&out);
			buf_release(&want);
		}
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf out = BUF_INIT;
		buf_adds(&out, "[");
		assert_int_equal(jsonw_str(&out, bad[i], strlen(bad[i])), -1);
		assert_string_equal(buf_str(&out), "[");
		buf_release(&out);
	}
}

/* Numbers as printf writes them, on a buffer with and without room left
 * (the in-place and the growing ways); jsonw_fixed2 for what it is made for,
 * floats (scores), whose products with 100 a double holds exactly. */
static void jsonw_numbers_as_printf(void **state)
{
	static const float v[] = { 0.0f, 0.004f, 0.005f, 0.015f, 0.125f, 0.35f, 0.5f, 0.85f,
				   0.995f, 1.0f, 9.994999f, 9.995f, 9.999f, 10.0f, 12.345f, 99.995f,
				   1234.5678f, 1e14f, 3.0f / 7.0f, 0.1f, 0.3f, 0.9f, 0.045f, 0.125f };
	static const uint64_t u[] = { 0, 7, 10, 99, 100, 12345678, 18446744073709551615ULL };
	(void)state;
	for (int room = 0; room < 2; room++) {
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			struct buf out = BUF_INIT;
			char want[64];
			if (room)
				assert_int_equal(buf_reserve(&out, 256), 0);
			snprintf(want, sizeof(want), "%.2f", (double)v[i]);
			jsonw_fixed2(&out, (double)v[i]);
			assert_string_equal(buf_str(&out), want);
			buf_release(&out);
		}
		for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
			struct buf out = BUF_INIT;
			char want[32];
			if (room)
				assert_int_equal(buf_reserve(&out, 256), 0);
			snprintf(want, sizeof(want), "%llu", (unsigned long long)u[i]);
			jsonw_uint(&out, u[i]);
			assert_string_equal(buf_str(&out), want);
			buf_release(&out);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf_grows_and_caps),
		cmocka_unit_test(utf8_validation_and_counting),
		cmocka_unit_test(jsonw_escapes_as_python),
		cmocka_unit_test(jsonw_numbers_as_printf),
		cmocka_unit_test(legacy_encodings),
		cmocka_unit_test(sha256_known_answers),
		cmocka_unit_test(shard_selector),
		cmocka_unit_test(atomic_write_and_capped_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
