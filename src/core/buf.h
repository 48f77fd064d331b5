/*
 * buf.h - a growable byte buffer with a hard size cap (git's strbuf with
 * curl's dynbuf limit).  Every byte moat reads from a file or a socket passes
 * through one.
 *
 * Errors are sticky (SQLite's sqlite3_str): appends after a failure do
 * nothing, and the caller checks buf_failed() once at the end.  data is always
 * NUL-terminated (when not NULL), so text can be used as a C string; the NUL is
 * not counted in len.
 *
 * Ownership: the buffer owns data.  buf_release() frees it and returns the
 * buffer to BUF_INIT (keeping the cap); buf_detach() hands data to the caller.
 */
#ifndef MOAT_BUF_H
#define MOAT_BUF_H

#include <stddef.h>
#include <stdarg.h>

struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t max;      /* 0: no cap beyond memory */
	int failed;      /* 0, or MOAT_ENOMEM / MOAT_ELIMIT */
};
#define BUF_INIT { NULL, 0, 0, 0, 0 }

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
/* Returns the data (malloc'd, NUL-terminated, never NULL unless failed) and
 * leaves b empty.  *len_out may be NULL. */
char *buf_detach(struct buf *b, size_t *len_out);

int buf_grow(struct buf *b, size_t extra);
/* Room for exactly total bytes in all (not the doubling buf_grow does), for a
 * buffer whose final size is known: 0 or -1 (failed set). */
int buf_reserve(struct buf *b, size_t total);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addch(struct buf *b, int c);
void buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_addvf(struct buf *b, const char *fmt, va_list ap);
/* Appends the lowercase hex of n bytes. */
void buf_addhex(struct buf *b, const unsigned char *p, size_t n);
/* Room for n more bytes at the end (NULL when it cannot grow), for a read
 * straight into the buffer; buf_added() then counts the m <= n written. */
char *buf_space(struct buf *b, size_t n);
void buf_added(struct buf *b, size_t m);
void buf_reset(struct buf *b);            /* len = 0, keeps memory */
void buf_setlen(struct buf *b, size_t len); /* len <= b->len */
/* Removes trailing ASCII whitespace. */
void buf_rtrim(struct buf *b);

static inline int buf_failed(const struct buf *b) { return b->failed; }
static inline const char *buf_str(const struct buf *b) { return b->data ? b->data : ""; }

#endif
