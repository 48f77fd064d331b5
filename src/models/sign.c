/*
 * sign.c - Ed25519 signatures over bundles, through OpenSSL's EVP interface:
 * signing with a private key file, checking with a public one, and the key
 * id a bundle names its signer by.  Signatures and raw public keys travel as
 * base64.  Not for: making or reading key files (keys/keys.h).
 */
#define _GNU_SOURCE
#include "models_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/base64.h"
#include "keys/keys.h"

#include "core/banned.h"

static char *b64(const unsigned char *p, size_t n)
{
	struct buf b = BUF_INIT;
	base64_encode(p, n, BASE64_STD, &b);
	return buf_detach(&b, NULL);  /* NULL when memory ran out */
}

/* Decodes a standard base64 signature of at most cap bytes: its length, -1
 * for anything else, or -2 when out of memory. */
static int unb64(const char *s, unsigned char *out, size_t cap)
{
	struct buf b = BUF_INIT;
	long n = base64_decode(s, strlen(s), BASE64_STD, &b);
	if (buf_failed(&b) == MOAT_ENOMEM)
		n = -2;
	else if (n >= 0 && (size_t)n <= cap)
		memcpy(out, b.data, (size_t)n);
	else
		n = -1;
	buf_release(&b);
	return (int)n;
}

static char *raw_pub_b64(EVP_PKEY *k)
{
	unsigned char raw[32];
	size_t len = sizeof(raw);
	if (EVP_PKEY_get_raw_public_key(k, raw, &len) != 1)
		return NULL;
	return b64(raw, len);
}

void models_key_id(const char *pub_b64, char out[17])
{
	char hex[SHA256_HEX];
	sha256_hex_mem(pub_b64, strlen(pub_b64), hex);
	memcpy(out, hex, 16);
	out[16] = '\0';
}

int models_key_id_file(const char *pub_path, char out[17], struct moat_err *e)
{
	EVP_PKEY *k = keys_signing_load(pub_path, 0, e);
	char *pb;
	if (!k)
		return -1;
	pb = raw_pub_b64(k);
	EVP_PKEY_free(k);
	if (!pb)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	models_key_id(pb, out);
	free(pb);
	return 0;
}

int models_sign(const char *key_path, const void *msg, size_t len, char **sig_b64,
		char **pub_b64, struct moat_err *e)
{
	EVP_PKEY *k = keys_signing_load(key_path, 1, e);
	EVP_MD_CTX *md;
	unsigned char sig[64];
	size_t slen = sizeof(sig);
	int ok;
	*sig_b64 = *pub_b64 = NULL;
	if (!k)
		return -1;
	md = EVP_MD_CTX_new();
	ok = md && EVP_DigestSignInit(md, NULL, NULL, NULL, k) == 1 &&
	     EVP_DigestSign(md, sig, &slen, msg, len) == 1;
	EVP_MD_CTX_free(md);
	if (ok) {
		*sig_b64 = b64(sig, slen);
		*pub_b64 = raw_pub_b64(k);
	}
	EVP_PKEY_free(k);
	if (!ok)
		return err_set(e, MOAT_EIO, "cannot sign with '%s'", key_path);
	if (!*sig_b64 || !*pub_b64) {
		free(*sig_b64);
		free(*pub_b64);
		*sig_b64 = *pub_b64 = NULL;
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	return 0;
}

int models_verify_signature(const char *pub_path, const void *msg, size_t len,
			    const char *sig_b64, struct moat_err *e)
{
	EVP_PKEY *k = keys_signing_load(pub_path, 0, e);
	EVP_MD_CTX *md;
	unsigned char sig[96];
	int n, ok;
	if (!k)
		return -1;
	n = sig_b64 ? unb64(sig_b64, sig, sizeof(sig)) : -1;
	if (n != 64) {
		EVP_PKEY_free(k);
		return n == -2 ? err_set(e, MOAT_ENOMEM, "out of memory") : 0;
	}
	md = EVP_MD_CTX_new();
	ok = md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1 &&
	     EVP_DigestVerify(md, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return ok ? 1 : 0;
}
