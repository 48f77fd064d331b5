/*
 * base64.c - Base64 (see base64.h).
 */
#include "base64.h"

#include <stdint.h>

#include "banned.h"

static const char std_tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void base64_encode(const void *data, size_t n, enum base64_alphabet a, struct buf *out)
{
	const unsigned char *p = data;
	const char *tab = a == BASE64_URL ? url_tab : std_tab;
	size_t i;
	if (buf_grow(out, (n + 2) / 3 * 4 + 1) < 0)
		return;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		char q[4] = { tab[v >> 18], tab[(v >> 12) & 63], tab[(v >> 6) & 63], tab[v & 63] };
		buf_add(out, q, 4);
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		char q[4] = { tab[v >> 18], tab[(v >> 12) & 63], tab[(v >> 6) & 63], '=' };
		size_t k = i + 1 < n ? 3 : 2;
		if (a == BASE64_STD) {
			if (k == 2)
				q[2] = '=';
			k = 4;
		}
		buf_add(out, q, k);
	}
}

int base64_value(unsigned char c, int a)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if ((c == '+' && a != BASE64_URL) || (c == '-' && a != BASE64_STD))
		return 62;
	if ((c == '/' && a != BASE64_URL) || (c == '_' && a != BASE64_STD))
		return 63;
	return -1;
}

/* Takes the six bits v into acc, appending each whole byte to out. */
static void put6(uint32_t *acc, int *bits, int v, struct buf *out)
{
	*acc = (*acc << 6) | (uint32_t)v;
	*bits += 6;
	if (*bits >= 8) {
		*bits -= 8;
		buf_addch(out, (int)((*acc >> *bits) & 0xFF));
		*acc &= (1u << *bits) - 1;
	}
}

long base64_decode(const char *s, size_t len, enum base64_alphabet a, struct buf *out)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t pad = 0, before = out->len;
	if (a == BASE64_STD) {
		if (len % 4)
			return -1;
		while (pad < 2 && pad < len && s[len - 1 - pad] == '=')
			pad++;
		len -= pad;
	} else if (len % 4 == 1) {
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		int v = base64_value((unsigned char)s[i], (int)a);
		if (v < 0)
			return -1;
		put6(&acc, &bits, v, out);
	}
	if (acc)  /* the unused low bits must be zero (canonical encoding) */
		return -1;
	return buf_failed(out) ? -1 : (long)(out->len - before);
}

void base64_decode_mime(const char *s, size_t len, struct buf *out)
{
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v;
		if (s[i] == '=')
			break;
		v = base64_value((unsigned char)s[i], -1);
		if (v < 0)
			continue;
		put6(&acc, &bits, v, out);
	}
}
