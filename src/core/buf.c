/* buf.c - growable byte buffer with a cap and sticky errors. */
#include "buf.h"
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOAT_FMT_IMPL  /* banned.h: buf_addvf is built on vsnprintf */
#include "banned.h"

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->alloc = 0;
	b->max = max;
	b->failed = 0;
}

void buf_release(struct buf *b)
{
	size_t max = b->max;
	free(b->data);
	buf_init(b, max);
}

char *buf_detach(struct buf *b, size_t *len_out)
{
	char *d;
	if (b->failed) {
		buf_release(b);
		if (len_out)
			*len_out = 0;
		return NULL;
	}
	if (!b->data && buf_grow(b, 0) < 0)
		return NULL;
	d = b->data;
	if (len_out)
		*len_out = b->len;
	b->data = NULL;
	b->len = b->alloc = 0;
	return d;
}

/* Makes the allocation n bytes. */
static int resize(struct buf *b, size_t n)
{
	char *p = realloc(b->data, n);
	if (!p) {
		b->failed = MOAT_ENOMEM;
		return -1;
	}
	if (!b->data)
		p[0] = '\0';
	b->data = p;
	b->alloc = n;
	return 0;
}

int buf_grow(struct buf *b, size_t extra)
{
	size_t need, n;
	if (b->failed)
		return -1;
	if (extra > (size_t)-1 - b->len - 1) {
		b->failed = MOAT_ENOMEM;
		return -1;
	}
	need = b->len + extra + 1;
	if (b->max && need - 1 > b->max) {
		b->failed = MOAT_ELIMIT;
		return -1;
	}
	if (need <= b->alloc)
		return 0;
	n = b->alloc ? b->alloc : 64;
	while (n < need)
		n = n > ((size_t)-1) / 2 ? need : n * 2;
	return resize(b, n);
}

int buf_reserve(struct buf *b, size_t total)
{
	if (b->failed)
		return -1;
	if (total == (size_t)-1) {
		b->failed = MOAT_ENOMEM;
		return -1;
	}
	if (b->max && total > b->max)
		total = b->max;
	if (total + 1 <= b->alloc)
		return 0;
	return resize(b, total + 1);
}

char *buf_space(struct buf *b, size_t n)
{
	if (buf_grow(b, n) < 0)
		return NULL;
	return b->data + b->len;
}

void buf_added(struct buf *b, size_t m)
{
	if (b->failed || !b->data || m > b->alloc - b->len - 1)
		return;
	b->len += m;
	b->data[b->len] = '\0';
}

void buf_add(struct buf *b, const void *data, size_t len)
{
	if (buf_grow(b, len) < 0)
		return;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addch(struct buf *b, int c)
{
	char ch = (char)c;
	buf_add(b, &ch, 1);
}

void buf_addvf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	if (buf_grow(b, 64) < 0)
		return;
	va_copy(cp, ap);
	n = vsnprintf(b->data + b->len, b->alloc - b->len, fmt, cp);
	va_end(cp);
	if (n < 0) {
		b->data[b->len] = '\0';
		return;
	}
	if ((size_t)n >= b->alloc - b->len) {
		if (buf_grow(b, (size_t)n) < 0) {
			b->data[b->len] = '\0';
			return;
		}
		vsnprintf(b->data + b->len, b->alloc - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_addvf(b, fmt, ap);
	va_end(ap);
}

void buf_addhex(struct buf *b, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (buf_grow(b, n * 2) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		b->data[b->len++] = hex[p[i] >> 4];
		b->data[b->len++] = hex[p[i] & 15];
	}
	b->data[b->len] = '\0';
}

void buf_reset(struct buf *b)
{
	buf_setlen(b, 0);
}

void buf_setlen(struct buf *b, size_t len)
{
	if (!b->data || len > b->len)
		return;
	b->len = len;
	b->data[len] = '\0';
}

void buf_rtrim(struct buf *b)
{
	while (b->len && (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\t' ||
			  b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r'))
		b->len--;
	if (b->data)
		b->data[b->len] = '\0';
}
