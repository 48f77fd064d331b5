/*
 * passwd.h - password hashes and random tokens for `moat serve`'s users:
 * scrypt through libcrypto (EVP_PBE_scrypt; N = 2^15, r = 8, p = 1, a
 * 16-byte salt from RAND_bytes, a 32-byte key), stored as the text
 * "scrypt$N$r$p$SALT$HASH" (standard base64), compared in constant time.
 *
 * Not for: where hashes are kept (store/users.h) nor who may log in
 * (web/).  Uses libcrypto and core/.
 */
#ifndef MOAT_PASSWD_H
#define MOAT_PASSWD_H

#include <stddef.h>

#include "err.h"

#define PASSWD_HASH_MAX 160
/* A stored hash no password matches (a user made for the one-time token). */
#define PASSWD_UNUSABLE "!"
#define PASSWD_MAX 1024    /* bytes of a password, at most */

/* Hashes pw[0..len) with a fresh salt into out.  0, or -1 with e set. */
int passwd_hash(const char *pw, size_t len, char out[PASSWD_HASH_MAX], struct moat_err *e)
	__attribute__((warn_unused_result));

/* 1 when pw matches stored, else 0 (also for an unusable or damaged hash,
 * or stored NULL: a user who does not exist).  Every call that does not
 * match costs what a match costs: a stored hash that cannot be used is
 * checked against a dummy hash of the same parameters, so the time does not
 * tell whether the user exists. */
int passwd_verify(const char *pw, size_t len, const char *stored);

/* nbytes random bytes (RAND_bytes) as base64url without padding into out
 * (cap >= 4 * nbytes / 3 + 2).  0, or -1 with e set. */
int passwd_token(size_t nbytes, char *out, size_t cap, struct moat_err *e)
	__attribute__((warn_unused_result));

#endif
