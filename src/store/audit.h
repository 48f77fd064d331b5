/*
 * audit.h - the hash-chained audit trail of a workspace.
 *
 * Each record is a canonical JSON body (sorted keys, compact) holding: seq,
 * time (UTC), user, host, moat version, the command line, digests of inputs
 * and outputs, counts, and prev, the SHA-256 of the previous record (64 zeros
 * for the first).  The record's hash is the SHA-256 of its body.  The head
 * (last seq and hash) is also kept in the workspace's meta table, written in
 * the same transaction, so a truncated trail is caught.
 *
 * audit_verify() walks the chain and names the first bad record: an edited
 * body (hash mismatch), a removed or inserted record (seq gap, prev mismatch),
 * a reordered pair, or a truncated tail (head mismatch).
 *
 * Not for: what goes into a record (the command decides: cmd/common.c) or
 * showing it (cmd/audit.c).  Part of the store module; uses SQLite through
 * store_int.h, jansson and core/hash.h.  A record is appended whole or not at
 * all: a failure (out of memory included) leaves the trail as it was.
 */
#ifndef MOAT_AUDIT_H
#define MOAT_AUDIT_H

#include <stdint.h>

#include <jansson.h>

#include "store.h"

struct audit_entry {
	json_t *argv;     /* array of strings, borrowed */
	json_t *inputs;   /* object, borrowed, may be NULL */
	json_t *outputs;  /* object, borrowed, may be NULL */
	json_t *counts;   /* object, borrowed, may be NULL */
	const char *actor; /* the moat user who acted (`moat serve`'s login), or NULL:
			    * the record then has no "actor" (user is the OS user) */
};

/* Appends one record in its own transaction (or inside the caller's, if one
 * is open).  head (may be NULL) receives the new record's hash. */
int audit_append(struct store *s, const struct audit_entry *a, char head[65],
		 struct moat_err *e) __attribute__((warn_unused_result));

/* All records, oldest first: array of the bodies with "hash" added. */
json_t *audit_log(struct store *s, struct moat_err *e) __attribute__((warn_unused_result));

struct audit_check {
	int ok;
	int64_t records;
	int64_t first_seq;  /* audit_verify_slice: the seq of its first record */
	char head[65];      /* hash of the last good record */
	int64_t bad_seq;    /* position (1-based) of the first bad record, 0 if ok */
	char reason[512];
};

/* Fills out; returns 0 when the check ran (whatever it found), -1 on error. */
int audit_verify(struct store *s, struct audit_check *out, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Calls fn for records from..to (to 0: up to the head; from -1: the head
 * alone), oldest first, with
 * each body exactly as it was hashed (len bytes) and its hash.  A non-zero
 * return of fn stops the walk and is returned. */
typedef int (*audit_record_fn)(void *ctx, int64_t seq, const char *body, size_t len,
			       const char *hash, struct moat_err *e);
int audit_each(struct store *s, int64_t from, int64_t to, audit_record_fn fn, void *ctx,
	       struct moat_err *e) __attribute__((warn_unused_result));

/* Checks a slice of a trail on its own, without the workspace: text holds
 * records one body per line, oldest first (an export's audit/trail.jsonl;
 * several files checked as one are their lines in order).  Every line must be
 * a record (JSON with seq and prev) whose seq is one more than the line
 * before's and whose prev is the SHA-256 of the line before; the first line's
 * prev must be first_prev when that is not NULL.  out: ok, records, first_seq,
 * head (the last line's SHA-256), bad_seq (the 1-based line of the first
 * problem) and reason.  0 when the check ran, -1 with e set (out of memory). */
int audit_verify_slice(const char *text, size_t len, const char *first_prev,
		       struct audit_check *out, struct moat_err *e)
	__attribute__((warn_unused_result));

#endif
