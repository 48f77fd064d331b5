/*
 * jsonw.c - JSON straight into a buffer (see jsonw.h).
 */
#include "jsonw.h"

#include <math.h>

#include "banned.h"

void jsonw_str(struct buf *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;
	buf_addch(o, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(o, s + run, i - run);
		run = i + 1;
		if (c == '"' || c == '\\') {
			buf_addch(o, '\\');
			buf_addch(o, (char)c);
		} else if (c == '\n') {
			buf_adds(o, "\\n");
		} else if (c == '\t') {
			buf_adds(o, "\\t");
		} else if (c == '\r') {
			buf_adds(o, "\\r");
		} else {
			char u[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };
			buf_adds(o, u);
		}
	}
	buf_add(o, s + run, n - run);
	buf_addch(o, '"');
}

void jsonw_uint(struct buf *o, uint64_t v)
{
	char d[24];
	size_t n = sizeof(d);
	do {
		d[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_add(o, d + n, sizeof(d) - n);
}

/* v times 100 rounded as printf rounds (rint: ties to even, the default
 * mode); exact for the floats moat prints (scores), whose products with 100
 * are exact in a double. */
void jsonw_fixed2(struct buf *o, double v)
{
	double c = rint(v * 100.0);
	char d[4];
	uint64_t k;
	if (!(c >= 0.0 && c < 1e15)) {
		buf_addf(o, "%.2f", v);
		return;
	}
	k = (uint64_t)c;
	jsonw_uint(o, k / 100);
	d[0] = '.';
	d[1] = (char)('0' + k / 10 % 10);
	d[2] = (char)('0' + k % 10);
	buf_add(o, d, 3);
}
