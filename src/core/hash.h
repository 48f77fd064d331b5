/*
 * hash.h - SHA-256 through OpenSSL's EVP interface (hardware-accelerated
 * where the CPU has SHA extensions), as a streaming context and as one-shot
 * helpers for memory and files.  Hex digests are 64 lowercase characters.
 */
#ifndef MOAT_HASH_H
#define MOAT_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SHA256_LEN 32
#define SHA256_HEX 65  /* 64 hex digits and a NUL */

struct sha256 {
	void *ctx;  /* EVP_MD_CTX, owned */
};

int sha256_init(struct sha256 *h) __attribute__((warn_unused_result));
void sha256_update(struct sha256 *h, const void *data, size_t len);
/* Writes the digest and frees the context; h can be initialised again. */
void sha256_final(struct sha256 *h, unsigned char out[SHA256_LEN]);
void sha256_release(struct sha256 *h);  /* frees without a digest; NULL-safe */

void sha256_mem(const void *data, size_t len, unsigned char out[SHA256_LEN]);
void sha256_hex_mem(const void *data, size_t len, char out[SHA256_HEX]);
void hex_encode(const unsigned char *in, size_t n, char *out /* 2n+1 */);
/* The value of hex digit c (either case), or -1. */
int hex_digit(int c);
/* Hashes a whole file; *size_out (if not NULL) gets its length. */
int sha256_file(const char *path, unsigned char out[SHA256_LEN], uint64_t *size_out,
		struct moat_err *e) __attribute__((warn_unused_result));

#endif
