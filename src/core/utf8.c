/* utf8.c - UTF-8 validation, counting and decoding of legacy encodings. */
#include "utf8.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "banned.h"

int utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c;
	int n;
	if (!len)
		goto bad;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xE0) == 0xC0) {
		n = 2;
		c &= 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3;
		c &= 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4;
		c &= 0x07;
	} else {
		goto bad;
	}
	if ((size_t)n > len)
		goto bad;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			goto bad;
		c = (c << 6) | (s[i] & 0x3F);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are invalid. */
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		goto bad;
	*cp = c;
	return n;
bad:
	*cp = 0xFFFD;
	return 0;
}

size_t utf8_valid_prefix(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		uint32_t cp;
		int n;
		/* Fast path over ASCII, eight bytes at a time. */
		while (i + 8 <= len) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i >= len)
			break;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_decode(s + i, len - i, &cp);
		if (!n)
			return i;
		i += (size_t)n;
	}
	return len;
}

size_t utf8_count(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	const uint64_t hi = 0x8080808080808080ULL;
	size_t cont = 0, i = 0;
#ifdef __SSE2__
	/* sixteen at a time: a continuation byte is below -64 as a signed byte */
	{
		/* 0 or 1 per byte, summed by _mm_sad_epu8 (x86-64 has no popcnt
		 * before its v2 level) */
		const __m128i lim = _mm_set1_epi8(-64), one = _mm_set1_epi8(1);
		for (; i + 16 <= len; i += 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
			__m128i c = _mm_sad_epu8(_mm_and_si128(_mm_cmplt_epi8(v, lim), one),
						 _mm_setzero_si128());
			cont += (size_t)_mm_cvtsi128_si32(c) + (size_t)_mm_extract_epi16(c, 4);
		}
	}
#endif
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		/* one bit 7 per continuation byte (10xxxxxx), summed by a multiply */
		cont += (size_t)((((w & ~(w << 1) & hi) >> 7) * 0x0101010101010101ULL) >> 56);
	}
	for (; i < len; i++)
		cont += (s[i] & 0xC0) == 0x80;
	return len - cont;
}

void utf8_encode(struct buf *b, uint32_t cp)
{
	unsigned char t[4];
	size_t n;
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	if (cp < 0x80) {
		t[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		t[0] = (unsigned char)(0xC0 | (cp >> 6));
		t[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		t[0] = (unsigned char)(0xE0 | (cp >> 12));
		t[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		t[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		t[0] = (unsigned char)(0xF0 | (cp >> 18));
		t[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		t[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		t[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	buf_add(b, t, n);
}

/* Windows-1252 bytes 0x80..0x9F; 0 marks the five unassigned ones. */
static const uint16_t cp1252_high[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

void utf8_from_cp1252(struct buf *out, const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint32_t c = s[i];
		if (c >= 0x80 && c < 0xA0)
			c = cp1252_high[c - 0x80] ? cp1252_high[c - 0x80] : c;
		utf8_encode(out, c);
	}
}

void utf8_from_latin1(struct buf *out, const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		utf8_encode(out, s[i]);
}

void utf8_from_utf16(struct buf *out, const unsigned char *s, size_t len, int be)
{
	size_t i = 0;
	while (i + 1 < len) {
		uint32_t u = be ? (uint32_t)(s[i] << 8 | s[i + 1]) : (uint32_t)(s[i + 1] << 8 | s[i]);
		i += 2;
		if (u >= 0xD800 && u <= 0xDBFF) {
			if (i + 1 < len) {
				uint32_t l = be ? (uint32_t)(s[i] << 8 | s[i + 1])
						: (uint32_t)(s[i + 1] << 8 | s[i]);
				if (l >= 0xDC00 && l <= 0xDFFF) {
					i += 2;
					utf8_encode(out, 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00));
					continue;
				}
			}
			u = 0xFFFD;
		} else if (u >= 0xDC00 && u <= 0xDFFF) {
			u = 0xFFFD;
		}
		utf8_encode(out, u);
	}
	if (i < len)
		utf8_encode(out, 0xFFFD);
}

void utf8_sanitize(struct buf *out, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		size_t ok = utf8_valid_prefix((const char *)s + i, len - i);
		buf_add(out, s + i, ok);
		i += ok;
		if (i < len) {
			utf8_encode(out, 0xFFFD);
			i++;
		}
	}
}

const char *utf8_decode_text(struct buf *out, const unsigned char *s, size_t len)
{
	if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
		utf8_sanitize(out, (const char *)s + 3, len - 3);
		return "utf-8-sig";
	}
	if (len >= 2 && s[0] == 0xFF && s[1] == 0xFE) {
		utf8_from_utf16(out, s + 2, len - 2, 0);
		return "utf-16le";
	}
	if (len >= 2 && s[0] == 0xFE && s[1] == 0xFF) {
		utf8_from_utf16(out, s + 2, len - 2, 1);
		return "utf-16be";
	}
	if (utf8_is_valid((const char *)s, len)) {
		buf_add(out, s, len);
		return "utf-8";
	}
	/* Not UTF-8: Windows-1252 unless it uses one of the five bytes that
	 * encoding leaves unassigned, which only ISO-8859-1 (C1 controls) has. */
	for (size_t i = 0; i < len; i++) {
		unsigned c = s[i];
		if (c >= 0x80 && c < 0xA0 && !cp1252_high[c - 0x80]) {
			utf8_from_latin1(out, s, len);
			return "iso-8859-1";
		}
	}
	utf8_from_cp1252(out, s, len);
	return "windows-1252";
}
