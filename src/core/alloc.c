/*
 * alloc.c - the one allocator (see alloc.h).
 */
#define _GNU_SOURCE
#define MOAT_ALLOC_IMPL  /* banned.h: this file calls the real functions */
#include "alloc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

static atomic_ulong fail_at;   /* 0: disarmed */
static atomic_ulong counted;
static atomic_int fired;

/* 1 when this allocation is the one to fail. */
static int fail_now(void)
{
	unsigned long n = atomic_load_explicit(&fail_at, memory_order_relaxed);
	if (!n)
		return 0;
	if (atomic_fetch_add(&counted, 1) + 1 != n)
		return 0;
	atomic_store(&fired, 1);
	return 1;
}

void *moat_malloc(size_t n)
{
	return fail_now() ? NULL : malloc(n);
}

void *moat_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : calloc(n, size);
}

void *moat_realloc(void *p, size_t n)
{
	return fail_now() ? NULL : realloc(p, n);
}

char *moat_strdup(const char *s)
{
	return fail_now() ? NULL : strdup(s);
}

char *moat_strndup(const char *s, size_t n)
{
	return fail_now() ? NULL : strndup(s, n);
}

int moat_vasprintf(char **out, const char *fmt, va_list ap)
{
	if (fail_now()) {
		*out = NULL;
		return -1;
	}
	return vasprintf(out, fmt, ap);
}

int moat_asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = moat_vasprintf(out, fmt, ap);
	va_end(ap);
	return n;
}

int moat_grow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t nc = *cap ? *cap : 16;
	void *nv;
	if (need <= *cap)
		return 0;
	while (nc < need) {
		if (nc > SIZE_MAX / 2)
			return -1;
		nc *= 2;
	}
	if (size && nc > SIZE_MAX / size)
		return -1;
	if (!(nv = moat_realloc(*v, nc * size)))
		return -1;
	*v = nv;
	*cap = nc;
	return 0;
}

void moat_alloc_init(void)
{
	/* jansson keeps the C library's allocator on purpose: jansson 2.14's
	 * parser loses a byte of a long token, or stops on assert(0) in
	 * load.c, when an allocation inside the token fails, which no caller
	 * can detect.  Its allocations are therefore never failed on purpose;
	 * moat's code still checks every jansson call that can fail. */
}

void alloc_fail_nth(unsigned long n)
{
	atomic_store(&fail_at, 0);
	atomic_store(&counted, 0);
	atomic_store(&fired, 0);
	atomic_store(&fail_at, n);
}

unsigned long alloc_count(void)
{
	return atomic_load(&counted);
}

int alloc_failed(void)
{
	return atomic_load(&fired);
}
