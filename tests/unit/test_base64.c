/* test_base64.c - core/base64: round trips in both alphabets at every length
 * mod 3, RFC 4648's test vectors, strict decoding refusing what is not
 * canonical, and the lenient MIME decoder skipping line breaks. */
#include "testutil.h"

#include <string.h>

#include "core/base64.h"

static void rfc4648_vectors(void **state)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const std[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
					   "Zm9vYmFy" };
	static const char *const url[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
	(void)state;
	for (size_t i = 0; i < 7; i++) {
		struct buf b = BUF_INIT, d = BUF_INIT;
		base64_encode(in[i], strlen(in[i]), BASE64_STD, &b);
		assert_string_equal(buf_str(&b), std[i]);
		assert_int_equal(base64_decode(b.data, b.len, BASE64_STD, &d), (long)strlen(in[i]));
		assert_memory_equal(buf_str(&d), in[i], strlen(in[i]));
		buf_reset(&b);
		buf_reset(&d);
		base64_encode(in[i], strlen(in[i]), BASE64_URL, &b);
		assert_string_equal(buf_str(&b), url[i]);
		assert_int_equal(base64_decode(b.data, b.len, BASE64_URL, &d), (long)strlen(in[i]));
		assert_memory_equal(buf_str(&d), in[i], strlen(in[i]));
		buf_release(&b);
		buf_release(&d);
	}
}

static void binary_roundtrip(void **state)
{
	unsigned char raw[256];
	(void)state;
	for (int i = 0; i < 256; i++)
		raw[i] = (unsigned char)(255 - i);
	for (size_t n = 0; n <= sizeof(raw); n++)
		for (int a = BASE64_STD; a <= BASE64_URL; a++) {
			struct buf b = BUF_INIT, d = BUF_INIT;
			base64_encode(raw, n, (enum base64_alphabet)a, &b);
			assert_null(memchr(buf_str(&b), a == BASE64_URL ? '+' : '-', b.len));
			assert_int_equal(base64_decode(buf_str(&b), b.len, (enum base64_alphabet)a, &d),
					 (long)n);
			assert_memory_equal(buf_str(&d), raw, n);
			buf_release(&b);
			buf_release(&d);
		}
}

static void strict_refuses(void **state)
{
	static const char *const bad_std[] = { "Zg=", "Z===", "Zm9v-g==", "Zg=a", "Zh==", "Zm8 " };
	static const char *const bad_url[] = { "Z", "Zm8=", "Zm+v", "Zh" };
	(void)state;
	for (size_t i = 0; i < sizeof(bad_std) / sizeof(bad_std[0]); i++) {
		struct buf d = BUF_INIT;
		assert_int_equal(base64_decode(bad_std[i], strlen(bad_std[i]), BASE64_STD, &d), -1);
		buf_release(&d);
	}
	for (size_t i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++) {
		struct buf d = BUF_INIT;
		assert_int_equal(base64_decode(bad_url[i], strlen(bad_url[i]), BASE64_URL, &d), -1);
		buf_release(&d);
	}
}

static void mime_is_lenient(void **state)
{
	struct buf d = BUF_INIT;
	(void)state;
	base64_decode_mime("SGVs\r\nbG8=", 10, &d);  /* line breaks inside, as in mail */
	assert_string_equal(buf_str(&d), "Hello");
	buf_reset(&d);
	base64_decode_mime("SGVsbG8=trailing", 16, &d);  /* stops at '=' */
	assert_string_equal(buf_str(&d), "Hello");
	buf_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc4648_vectors),
		cmocka_unit_test(binary_roundtrip),
		cmocka_unit_test(strict_refuses),
		cmocka_unit_test(mime_is_lenient),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
