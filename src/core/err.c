/* err.c - the error table and the helpers that fill struct moat_err. */
#include "err.h"

#include <errno.h>

#include <stdio.h>
#include <string.h>

#define MOAT_FMT_IMPL  /* banned.h: cuts messages with snprintf on purpose */
#include "banned.h"

static const char *const messages[] = {
#define MOAT_ERR_TEXT(name, msg) msg,
	MOAT_ERRNO_MAP(MOAT_ERR_TEXT)
#undef MOAT_ERR_TEXT
};

const char *moat_strerror(int code)
{
	if (code < 0 || code >= MOAT_E__COUNT)
		return "unknown error";
	return messages[code];
}

int err_setv(struct moat_err *e, int code, const char *fmt, va_list ap)
{
	if (!e)
		return -1;
	e->code = code;
	/* A message is one line of at most MOAT_ERR_MSG_MAX - 1 bytes: cut on
	 * purpose (it may quote outside data of any length). */
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	/* Keep it one line: a message may quote outside data. */
	for (char *p = e->msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return -1;
}

int err_set(struct moat_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_setv(e, code, fmt, ap);
	va_end(ap);
	return -1;
}

void err_prefix(struct moat_err *e, const char *fmt, ...)
{
	char pre[512], old[MOAT_ERR_MSG_MAX];
	va_list ap;
	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	if (snprintf(e->msg, sizeof(e->msg), "%s: %s", pre, old) >= (int)sizeof(e->msg)) {
		/* cut on purpose, as in err_setv */
	}
}

void err_clear(struct moat_err *e)
{
	if (e) {
		e->code = 0;
		e->msg[0] = '\0';
	}
}

int err_errno_code(int errnum, int fallback)
{
	switch (errnum) {
	case ENOSPC:
	case EDQUOT:
	case EROFS:
	case EIO:
	case ENOMEM:
	case EMFILE:
	case ENFILE:
		return MOAT_EENV;
	default:
		return fallback;
	}
}
