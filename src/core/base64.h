/*
 * base64.h - Base64 (RFC 4648), the one codec: the standard alphabet with '='
 * padding (signatures, the sandbox's wire format, MIME bodies) and the URL
 * alphabet without padding (values the PII encrypt operator writes into text).
 *
 * Uses only core/buf.h.  Output is appended to a struct buf, whose sticky
 * error says when memory ran out.
 */
#ifndef MOAT_BASE64_H
#define MOAT_BASE64_H

#include <stddef.h>

#include "buf.h"

enum base64_alphabet {
	BASE64_STD,  /* A-Z a-z 0-9 + /, padded with '=' */
	BASE64_URL,  /* A-Z a-z 0-9 - _, no padding */
};

/* The value (0-63) of the character c in alphabet a, or in either alphabet
 * for a = -1; -1 for a character outside it. */
int base64_value(unsigned char c, int a);

/* Appends the encoding of p[0..n) to out. */
void base64_encode(const void *p, size_t n, enum base64_alphabet a, struct buf *out);

/* Strict decoding of s[0..len): every character must be of the alphabet
 * (BASE64_STD: '=' padding only at the end, the length a multiple of 4;
 * BASE64_URL: no padding).  Appends the bytes to out and returns their
 * number, or -1 for anything else (out may then hold a part). */
long base64_decode(const char *s, size_t len, enum base64_alphabet a, struct buf *out)
	__attribute__((warn_unused_result));

/* Lenient decoding for MIME bodies: characters outside both alphabets (line
 * breaks, spaces) are skipped, and decoding stops at the first '='. */
void base64_decode_mime(const char *s, size_t len, struct buf *out);

#endif
