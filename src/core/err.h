/*
 * err.h - moat's error codes and the per-call error detail.
 *
 * Every library function that can fail returns an int: 0 (or a count) on
 * success, -1 on failure, after filling the caller's struct moat_err with a
 * code from the table below and a one-line message in git's style (lowercase,
 * no full stop, the object quoted).  The library never prints and never exits;
 * only main() and cmd_*() turn an error into output and an exit status.
 * A NULL struct moat_err pointer is allowed: the detail is then dropped.
 */
#ifndef MOAT_ERR_H
#define MOAT_ERR_H

#include <stdarg.h>

#define MOAT_ERRNO_MAP(X)                                   \
	X(OK, "success")                                    \
	X(NOMEM, "out of memory")                           \
	X(IO, "input/output error")                         \
	X(PARSE, "cannot parse")                            \
	X(LIMIT, "limit exceeded")                          \
	X(NOTFOUND, "not found")                            \
	X(BUSY, "busy")                                     \
	X(DB, "database error")                             \
	X(USAGE, "bad usage")                               \
	X(CORRUPT, "corrupt")                               \
	X(UNSUPPORTED, "unsupported")                       \
	X(EXISTS, "already exists")                         \
	X(NET, "network error")                             \
	X(SIGNATURE, "bad signature")                       \
	X(INTERRUPTED, "interrupted")                       \
	X(ENV, "the system failed")

enum moat_code {
#define MOAT_ERR_ENUM(name, msg) MOAT_E##name,
	MOAT_ERRNO_MAP(MOAT_ERR_ENUM)
#undef MOAT_ERR_ENUM
	MOAT_E__COUNT
};

#define MOAT_ERR_MSG_MAX 1024

struct moat_err {
	int code;                    /* enum moat_code */
	char msg[MOAT_ERR_MSG_MAX];  /* one line, never ends in '\n' */
};
#define MOAT_ERR_INIT { 0, "" }

/* The fixed text of a code ("not found"). Never NULL. */
const char *moat_strerror(int code);

/* Fills e (if not NULL) and returns -1, so callers can `return err_set(...)`. */
int err_set(struct moat_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int err_setv(struct moat_err *e, int code, const char *fmt, va_list ap);

/* Puts "prefix: " in front of the current message, keeping the code. */
void err_prefix(struct moat_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The code for a failed system call: MOAT_EENV when errnum is the machine's
 * fault, not the input's (a full disk or quota, a read-only file system, an
 * I/O error, no memory or descriptors left), else fallback. */
int err_errno_code(int errnum, int fallback);

/* Clears e back to MOAT_ERR_INIT. */
void err_clear(struct moat_err *e);

#endif
