/*
 * keys.h - moat's two kinds of key files, made, written and read through one
 * path:
 *   signing keys  an Ed25519 pair for signing bundles (`moat keys generate`):
 *                 FILE, the private key as PEM PKCS#8, and FILE.pub, the
 *                 public key as PEM SubjectPublicKeyInfo (`openssl pkey`
 *                 reads both);
 *   secret keys   256 bits for the PII encrypt operator (`moat pii keygen`):
 *                 64 hex digits and a newline (32 raw bytes are read too).
 * Both are made from OpenSSL's random generator and written the same way:
 * refused when the name exists, else atomically (a temporary name, fsync,
 * rename, fsync of the directory: core/fs.h), private and secret keys with
 * mode 0600 from the moment they exist, public keys 0644.
 *
 * Not for: using the keys.  Signing and checking bundles is models/sign.c,
 * encrypting values clean/pii_ops.c.
 *
 * Uses core/ (files, buffers, hex) and OpenSSL; no stage.  Called by models/
 * and clean/ (reading keys) and cmd/ (making them).
 *
 * Conventions: -1 (or NULL) after filling the moat_err; nothing prints.
 */
#ifndef MOAT_KEYS_H
#define MOAT_KEYS_H

#include <openssl/types.h>

#include "core/err.h"

#define KEYS_SECRET_LEN 32

/* Makes a new Ed25519 pair: path (the private key, 0600) and path.pub (the
 * public key, 0644).  Refuses (MOAT_EEXISTS) when either file exists; when
 * the second cannot be written the first is removed again. */
int keys_signing_generate(const char *path, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Reads an Ed25519 key from a PEM file: the private key, or (private_key 0)
 * the public key, which a private key file also gives.  NULL with e set:
 * MOAT_EPARSE for a file that is not such a PEM key, MOAT_EUNSUPPORTED for
 * another algorithm.  Free with EVP_PKEY_free(). */
EVP_PKEY *keys_signing_load(const char *path, int private_key, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Makes a new secret key file (hex, 0600).  Refuses (MOAT_EEXISTS) an
 * existing file. */
int keys_secret_generate(const char *path, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Reads a secret key file into key; nothing of the file stays in memory.
 * MOAT_EPARSE for a file that is neither 64 hex digits (and whitespace) nor
 * 32 bytes. */
int keys_secret_load(const char *path, unsigned char key[KEYS_SECRET_LEN], struct moat_err *e)
	__attribute__((warn_unused_result));

#endif
