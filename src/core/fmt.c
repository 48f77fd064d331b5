/*
 * fmt.c - checked formatting (see fmt.h).
 */
#define MOAT_FMT_IMPL  /* banned.h: this file calls the real vsnprintf */
#include "fmt.h"

#include <stdio.h>

#include "banned.h"

int xvsnprintf(char *dst, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(dst, size, fmt, ap);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return n;
}

int xsnprintf(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = xvsnprintf(dst, size, fmt, ap);
	va_end(ap);
	return n;
}
