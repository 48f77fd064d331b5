/*
 * wire.h - what crosses a pipe or a socket between moat and its parser
 * processes (sandbox.c, zygote.c), internal to src/ingest: messages of an
 * 8-byte little-endian length and that many bytes, read against a deadline;
 * in them, JSON: the request a zygote gets (a file's format and the options
 * a parser reads), and the reply a parser sends back (its document, or its
 * error).
 *
 * Not for: starting, limiting or reaping processes (sandbox.c), nor choosing
 * a reader (parse.c).  Nothing here forks.
 *
 * Uses core/ (doc, buf, base64, utf8), ingest.h's options, docfmt.h's
 * limits and jansson.
 *
 * The document travels as JSON and is rebuilt through doc_add_page(), so its
 * offsets come out the same; format and encoding names are interned (kept for
 * the life of the process), since a struct doc points to static strings.
 */
#ifndef MOAT_INGEST_WIRE_H
#define MOAT_INGEST_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "ingest.h"

/* --- messages ------------------------------------------------------------ */

/* The monotonic clock, in seconds, that deadlines are measured on. */
double wire_now(void);
/* The 8-byte length in front of every message. */
void wire_put_len(unsigned char hdr[8], uint64_t n);
uint64_t wire_get_len(const unsigned char hdr[8]);
/* Reads want bytes from fd (or until EOF) before the deadline; returns the
 * bytes read, or -1 on a time-out. */
ssize_t wire_read(int fd, void *p, size_t want, double deadline)
	__attribute__((warn_unused_result));
/* Sends one message on a socket (never raising SIGPIPE).  0 or -1. */
int wire_send(int fd, const void *p, size_t n) __attribute__((warn_unused_result));
/* Receives one message into *out (malloc'd, NUL-terminated, *n bytes);
 * deadline 0 waits for ever.  -1 on EOF or an error, a time-out, or no
 * memory for the message; *why says which. */
enum wire_why { WIRE_EOF, WIRE_TIMEOUT, WIRE_NOMEM, WIRE_TOO_BIG };
/* A request to a zygote (a header, a file's bytes) is at most this long. */
#define WIRE_MAX_REQUEST ((uint64_t)1 << 36)
/* max: the longest message accepted (a longer one is WIRE_TOO_BIG, before
 * anything is allocated). */
int wire_recv(int fd, char **out, size_t *n, uint64_t max, double deadline, enum wire_why *why)
	__attribute__((warn_unused_result));

/* --- the request to a zygote ------------------------------------------------ */

/* The options a parser reads (include/exclude and jobs' scheduling aside),
 * with the document's limits.  A new field of struct ingest_opts that a
 * parser reads must be added here.  NULL when out of memory. */
json_t *wire_opts_to_json(const struct ingest_opts *o, struct doc_limits lim)
	__attribute__((warn_unused_result));
/* The reverse; strings point into j, which must outlive o. */
void wire_opts_from_json(json_t *j, struct ingest_opts *o, struct doc_limits *lim);

/* --- the reply ----------------------------------------------------------------- */

/* A document as JSON (elements, metadata, children) and back; the reader
 * rebuilds d (doc_init'd) through doc_add_page.  doc_to_json gives NULL when
 * out of memory. */
json_t *doc_to_json(const struct doc *d) __attribute__((warn_unused_result));
int doc_from_json(json_t *j, struct doc *d, struct moat_err *e)
	__attribute__((warn_unused_result));
/* A parser's reply: its document when rc is 0, else e's code and message;
 * with fate, the message is the sandbox's verdict on the child (a crash, a
 * time-out), not the parser's own.  NULL when out of memory. */
json_t *wire_reply(int rc, const struct doc *d, const struct moat_err *e)
	__attribute__((warn_unused_result));
json_t *wire_fate(const struct moat_err *e) __attribute__((warn_unused_result));
/* Turns a reply into d (doc_init'd), or into e; a parser out of memory is
 * reported as o's memory limit reached.  On failure d is left empty.  The
 * payload (malloc'd) is freed as soon as it is parsed, and each element's
 * JSON as soon as it is in d, so a large document is held about twice at
 * most, never three times. */
int wire_decode_reply(char *payload, size_t n, const struct ingest_opts *o, struct doc *d,
		      struct moat_err *e) __attribute__((warn_unused_result));

#endif
