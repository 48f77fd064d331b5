/*
 * passwd.c - scrypt password hashes and random tokens (passwd.h).
 */
#include "passwd.h"
#include "base64.h"
#include "buf.h"
#include "fmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "banned.h"

#define SCRYPT_N 32768u
#define SCRYPT_R 8u
#define SCRYPT_P 1u
#define SALT_LEN 16
#define KEY_LEN 32
/* scrypt needs 128 * r * N bytes (32 MiB here) and a little more */
#define SCRYPT_MAXMEM ((uint64_t)64 << 20)

static int derive(const char *pw, size_t len, const unsigned char *salt, size_t salt_len,
		  uint64_t n, uint64_t r, uint64_t p, unsigned char key[KEY_LEN])
{
	return EVP_PBE_scrypt(pw, len, salt, salt_len, n, r, p, SCRYPT_MAXMEM, key, KEY_LEN) == 1
		       ? 0 : -1;
}

int passwd_hash(const char *pw, size_t len, char out[PASSWD_HASH_MAX], struct moat_err *e)
{
	unsigned char salt[SALT_LEN], key[KEY_LEN];
	struct buf b = BUF_INIT;
	int rc;
	if (len > PASSWD_MAX)
		return err_set(e, MOAT_ELIMIT, "a password is at most %d bytes", PASSWD_MAX);
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return err_set(e, MOAT_EENV, "cannot make a salt: no random bytes");
	if (derive(pw, len, salt, sizeof(salt), SCRYPT_N, SCRYPT_R, SCRYPT_P, key) < 0)
		return err_set(e, MOAT_ENOMEM, "cannot hash the password: scrypt failed");
	buf_addf(&b, "scrypt$%u$%u$%u$", SCRYPT_N, SCRYPT_R, SCRYPT_P);
	base64_encode(salt, sizeof(salt), BASE64_STD, &b);
	buf_addch(&b, '$');
	base64_encode(key, sizeof(key), BASE64_STD, &b);
	OPENSSL_cleanse(key, sizeof(key));
	rc = buf_failed(&b) ? -1 : xsnprintf(out, PASSWD_HASH_MAX, "%s", buf_str(&b));
	buf_release(&b);
	if (rc < 0)
		return err_set(e, MOAT_ENOMEM, "cannot hash the password: out of memory");
	return 0;
}

/* Splits "scrypt$N$r$p$salt$hash" and decodes it; 0 or -1. */
static int parse(const char *stored, uint64_t *n, uint64_t *r, uint64_t *p, struct buf *salt,
		 struct buf *key)
{
	const char *f[5];
	const char *q;
	char *end;
	if (!stored || strncmp(stored, "scrypt$", 7))
		return -1;
	q = stored + 7;
	for (int i = 0; i < 5; i++) {
		f[i] = q;
		q = strchr(q, '$');
		if (i < 4) {
			if (!q)
				return -1;
			q++;
		} else if (q) {
			return -1;
		}
	}
	*n = strtoull(f[0], &end, 10);
	if (*end != '$' || *n < 2 || *n > (1u << 20) || (*n & (*n - 1)))
		return -1;
	*r = strtoull(f[1], &end, 10);
	if (*end != '$' || *r < 1 || *r > 32)
		return -1;
	*p = strtoull(f[2], &end, 10);
	if (*end != '$' || *p < 1 || *p > 16)
		return -1;
	if (base64_decode(f[3], (size_t)(f[4] - 1 - f[3]), BASE64_STD, salt) < 8 ||
	    base64_decode(f[4], strlen(f[4]), BASE64_STD, key) != KEY_LEN)
		return -1;
	return 0;
}

int passwd_verify(const char *pw, size_t len, const char *stored)
{
	static const unsigned char dummy_salt[SALT_LEN] = { 0 };
	struct buf salt = BUF_INIT, want = BUF_INIT;
	unsigned char key[KEY_LEN];
	uint64_t n, r, p;
	int usable, ok = 0;
	usable = len <= PASSWD_MAX && parse(stored, &n, &r, &p, &salt, &want) == 0;
	if (!usable) {
		/* the same work as a real check, then no match */
		if (len > PASSWD_MAX)
			len = PASSWD_MAX;
		(void)derive(pw, len, dummy_salt, sizeof(dummy_salt), SCRYPT_N, SCRYPT_R, SCRYPT_P, key);
	} else if (derive(pw, len, (const unsigned char *)salt.data, salt.len, n, r, p, key) == 0) {
		ok = CRYPTO_memcmp(key, want.data, KEY_LEN) == 0;
	}
	OPENSSL_cleanse(key, sizeof(key));
	buf_release(&salt);
	buf_release(&want);
	return ok;
}

int passwd_token(size_t nbytes, char *out, size_t cap, struct moat_err *e)
{
	unsigned char raw[64];
	struct buf b = BUF_INIT;
	int rc;
	if (nbytes > sizeof(raw))
		return err_set(e, MOAT_EUSAGE, "a token is at most %zu bytes", sizeof(raw));
	if (RAND_bytes(raw, (int)nbytes) != 1)
		return err_set(e, MOAT_EENV, "cannot make a token: no random bytes");
	base64_encode(raw, nbytes, BASE64_URL, &b);
	OPENSSL_cleanse(raw, sizeof(raw));
	rc = buf_failed(&b) ? -1 : xsnprintf(out, cap, "%s", buf_str(&b));
	buf_release(&b);
	if (rc < 0)
		return err_set(e, MOAT_ENOMEM, "cannot make a token: out of memory");
	return 0;
}
