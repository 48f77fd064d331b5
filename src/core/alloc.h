/*
 * alloc.h - the one allocator: every allocation moat's own code makes goes
 * through these functions (banned.h, included last by every .c file, maps
 * malloc, calloc, realloc, strdup, strndup, asprintf and vasprintf onto them).
 * Libraries keep their own (jansson's parser cannot survive a failed
 * allocation inside a token: see alloc.c).  Memory from them is released with
 * plain free().
 *
 * They behave exactly as the C library's, except that a test can make one
 * allocation fail on purpose (curl's and SQLite's torture tests): arm it with
 * alloc_fail_nth(N) and the N-th allocation from then on returns NULL, once.
 * That is how tests/unit/test_alloc_fail.c shows that opening a workspace,
 * ingesting each format, appending to the audit trail and verifying a bundle
 * end with a clear error, never a crash or a leak, whichever allocation fails.
 * Unarmed, the cost is one relaxed atomic load per call.
 *
 * Uses only libc.
 */
#ifndef MOAT_ALLOC_H
#define MOAT_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *moat_malloc(size_t n) __attribute__((malloc, warn_unused_result));
void *moat_calloc(size_t n, size_t size) __attribute__((malloc, warn_unused_result));
void *moat_realloc(void *p, size_t n) __attribute__((warn_unused_result));
char *moat_strdup(const char *s) __attribute__((malloc, warn_unused_result));
char *moat_strndup(const char *s, size_t n) __attribute__((malloc, warn_unused_result));
int moat_asprintf(char **out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), warn_unused_result));
int moat_vasprintf(char **out, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0), warn_unused_result));

/* Grows the array *v of *cap elements of size bytes so that it holds at
 * least need (doubling, from 16): 0, or -1 when out of memory (or the size
 * overflows) with *v and *cap as they were. */
int moat_grow(void **v, size_t *cap, size_t need, size_t size) __attribute__((warn_unused_result));
/* The same for a typed pointer: MOAT_GROW(arr, cap, n + 1). */
#define MOAT_GROW(arr, cap, need) moat_grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

/* Sets up allocation for the process (today nothing: libraries keep their
 * own allocators).  Call once, early (main, tests). */
void moat_alloc_init(void);

/* Fault injection, for tests: counting from now, the n-th allocation fails
 * (returns NULL, as when memory runs out); 0 disarms. */
void alloc_fail_nth(unsigned long n);
/* Allocations counted since the last alloc_fail_nth() (0 when disarmed). */
unsigned long alloc_count(void);
/* 1 once the armed failure has happened. */
int alloc_failed(void);

#endif
