/*
 * utf8.h - what moat needs of Unicode text at the byte level: validation,
 * code-point counting (element offsets are counted in code points, the
 * convention of spaCy, Prodigy and Presidio), and decoding of the encodings
 * ingest meets (UTF-16 with a BOM, Windows-1252, ISO-8859-1) into UTF-8.
 * Normalisation (NFKC) lives in the clean stage, through utf8proc.
 */
#ifndef MOAT_UTF8_H
#define MOAT_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

/* Length of the valid UTF-8 prefix of s (== len when all of it is valid). */
size_t utf8_valid_prefix(const char *s, size_t len);
static inline int utf8_is_valid(const char *s, size_t len) { return utf8_valid_prefix(s, len) == len; }

/* Number of code points in valid UTF-8 (counts lead bytes). */
size_t utf8_count(const char *s, size_t len);

/* The same, inline for the short runs (between two findings, say) where the
 * call would cost more than the count; long runs go to utf8_count(). */
static inline size_t utf8_count_short(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	const uint64_t hi = 0x8080808080808080ULL;
	size_t cont = 0, i = 0;
	if (len >= 64)
		return utf8_count(str, len);
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (w & hi)
			cont += (size_t)((((w & ~(w << 1) & hi) >> 7) * 0x0101010101010101ULL) >> 56);
	}
	for (; i < len; i++)
		cont += (s[i] & 0xC0) == 0x80;
	return len - cont;
}

/* Decodes one code point at s; returns its byte length (1..4), or 0 on a bad
 * sequence (then *cp = U+FFFD and the caller should skip one byte). */
int utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);
void utf8_encode(struct buf *b, uint32_t cp);

/* Appends UTF-8 for bytes in the named single-byte encoding. */
void utf8_from_cp1252(struct buf *out, const unsigned char *s, size_t len);
void utf8_from_latin1(struct buf *out, const unsigned char *s, size_t len);
/* UTF-16 (big_endian or not) to UTF-8; unpaired surrogates become U+FFFD. */
void utf8_from_utf16(struct buf *out, const unsigned char *s, size_t len, int big_endian);
/* Appends s with invalid sequences replaced by U+FFFD. */
void utf8_sanitize(struct buf *out, const char *s, size_t len);

/* Detects the encoding of raw text and appends it as UTF-8 to out.  Returns
 * the encoding's name: "utf-8", "utf-8-sig", "utf-16le", "utf-16be",
 * "windows-1252" or "iso-8859-1". */
const char *utf8_decode_text(struct buf *out, const unsigned char *s, size_t len);

#endif
