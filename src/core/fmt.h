/*
 * fmt.h - formatting into a fixed-size array that never truncates silently
 * (git's xsnprintf, as a library function: it reports instead of dying).
 * For anything whose length is not bounded by construction, use struct buf
 * (core/buf.h) or asprintf.  Bare snprintf is banned (banned.h).
 *
 * Uses only libc.
 */
#ifndef MOAT_FMT_H
#define MOAT_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Formats into dst[0..size).  Returns the length written, or -1 when the
 * result does not fit (dst then holds a truncated, NUL-terminated string that
 * the caller must not use as if whole) or on an encoding error. */
int xsnprintf(char *dst, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), warn_unused_result));
int xvsnprintf(char *dst, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0), warn_unused_result));

#endif
