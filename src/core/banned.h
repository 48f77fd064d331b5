/*
 * banned.h - functions moat never calls (git's banned.h), and the allocator
 * every allocation goes through.  Included last by every .c file of src/.
 *
 * Banned because they overflow silently or hide errors: strcpy, strcat,
 * strncpy, strncat, snprintf, vsnprintf (truncate without a word), sprintf,
 * vsprintf, strtok, gets, atoi; gmtime, localtime, ctime, asctime (static
 * buffers shared by threads: use the _r forms).  Use struct buf (core/buf.h),
 * asprintf, or checked formatting (core/fmt.h: xsnprintf) instead; only
 * core/fmt.c, core/buf.c and core/err.c (which cuts messages on purpose)
 * call snprintf, by defining MOAT_FMT_IMPL first.
 *
 * malloc, calloc, realloc, strdup, strndup, asprintf and vasprintf become
 * core/alloc.h's wrappers, so that a test can fail any one allocation.
 */
#ifndef MOAT_BANNED_H
#define MOAT_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)
#undef atoi
#define atoi(x) BANNED(atoi)
#ifndef MOAT_FMT_IMPL
#undef snprintf
#define snprintf(...) BANNED(snprintf)
#undef vsnprintf
#define vsnprintf(...) BANNED(vsnprintf)
#endif
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)
#undef ctime
#define ctime(t) BANNED(ctime)
#undef asctime
#define asctime(t) BANNED(asctime)

#ifndef MOAT_ALLOC_IMPL
#include "alloc.h"
#undef malloc
#define malloc(n) moat_malloc(n)
#undef calloc
#define calloc(n, s) moat_calloc(n, s)
#undef realloc
#define realloc(p, n) moat_realloc(p, n)
#undef strdup
#define strdup(s) moat_strdup(s)
#undef strndup
#define strndup(s, n) moat_strndup(s, n)
#undef asprintf
#define asprintf(...) moat_asprintf(__VA_ARGS__)
#undef vasprintf
#define vasprintf(o, f, a) moat_vasprintf(o, f, a)
#endif

#endif
