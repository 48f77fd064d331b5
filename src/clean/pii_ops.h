/*
 * pii_ops.h - what happens to a finding: the operators of a PII policy
 * (redact, replace with <TYPE>, mask keeping the last N, salted SHA-256,
 * consistent pseudonyms, AES-256-GCM encryption that `moat pii restore`
 * reverses, keep), and the key files they use.
 *
 * Pseudonyms and encryption are deterministic for a given secret: the same
 * original value of the same type always gives the same output, across
 * documents and runs, which keeps a dataset consistent (the same person is
 * the same fake person everywhere).  Pseudonyms keep the format where it
 * means something: digits stay digits and separators stay put, card numbers
 * keep a valid Luhn digit, IBANs a valid mod-97 check, e-mails look like
 * e-mails, names like names.
 *
 * Encrypted values are written as <enc:TYPE:BASE64URL> where the payload is
 * nonce (12 bytes) || ciphertext || tag (16 bytes), with the type as
 * associated data; the nonce is an HMAC of the value under the key, so equal
 * values encrypt equally (a synthetic-IV construction) and the output is
 * reproducible.
 *
 * Not for: finding the values (pii.h) or choosing an operator per type
 * (policy.h).  Uses OpenSSL (HMAC, AES-GCM, random bytes), core/buf, base64,
 * hash, utf8, fs, and pii_validate.h's check digits.
 */
#ifndef MOAT_PII_OPS_H
#define MOAT_PII_OPS_H

#include <stddef.h>

#include "../core/buf.h"
#include "../core/err.h"

enum pii_op {
	PII_OP_REDACT,
	PII_OP_REPLACE,
	PII_OP_MASK,
	PII_OP_HASH,
	PII_OP_PSEUDONYMIZE,
	PII_OP_ENCRYPT,
	PII_OP_KEEP,
};

struct pii_op_spec {
	enum pii_op op;
	int keep;            /* mask: characters left in clear at the end (4) */
	char mask_char[8];   /* mask: UTF-8 of the masking character ("*") */
	char value[64];      /* replace: the replacement ("" = <TYPE>) */
};

/* Parses "mask keep=4 char=#", "replace value=[REDACTED]", "hash", ... */
int pii_op_parse(const char *s, struct pii_op_spec *out, struct moat_err *e)
	__attribute__((warn_unused_result));
const char *pii_op_name(enum pii_op op);
/* The default operator for a type when a policy names none: replace. */
struct pii_op_spec pii_op_default(void);

struct pii_secrets {
	const unsigned char *salt;   /* for hash and pseudonymize (and finding digests) */
	size_t salt_len;
	unsigned char key[32];       /* for encrypt */
	int have_key;
};

/*
 * Appends to out what replaces the n bytes of value (a finding of type).
 * Fails with MOAT_EUSAGE for encrypt without a key.
 */
int pii_apply(const struct pii_secrets *sec, const struct pii_op_spec *op, const char *type,
	      const char *value, size_t n, struct buf *out, struct moat_err *e)
	__attribute__((warn_unused_result));

/* A keyed digest of a value (HMAC-SHA-256 under the salt, hex): stored for
 * each finding so equal values can be linked without keeping them.  0, or -1
 * with e set (out of memory, or OpenSSL failed). */
int pii_value_digest(const struct pii_secrets *sec, const char *type, const char *value, size_t n,
		     char hex[65], struct moat_err *e) __attribute__((warn_unused_result));

/* Reads the encrypt operator's key: a secret key file of keys/keys.h (64 hex
 * digits, a trailing newline allowed, or 32 raw bytes), which `moat pii
 * keygen` writes (keys_secret_generate(), mode 0600). */
int pii_key_load(const char *path, unsigned char key[32], struct moat_err *e)
	__attribute__((warn_unused_result));

/* Replaces every <enc:TYPE:...> token of text that decrypts under key with
 * its plaintext; tokens that do not decrypt are left as they are and counted
 * in *failed. */
int pii_restore_text(const unsigned char key[32], const char *text, size_t n, struct buf *out,
		     size_t *restored, size_t *failed, struct moat_err *e)
	__attribute__((warn_unused_result));

#endif
