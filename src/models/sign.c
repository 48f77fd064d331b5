/*
 * sign.c - Ed25519 keys and signatures for bundles, through OpenSSL's EVP
 * interface.  Keys are PEM files (PKCS#8 private key, SubjectPublicKeyInfo
 * public key) so `openssl pkey` can read them; signatures travel as base64.
 */
#define _GNU_SOURCE
#include "models_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/base64.h"
#include "core/fs.h"

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

static EVP_PKEY *read_key(const char *path, int private, struct moat_err *e)
{
	struct buf b = BUF_INIT;
	BIO *bio;
	EVP_PKEY *k;
	if (fs_read_file(path, &b, 1u << 20, e) < 0) {
		buf_release(&b);
		return NULL;
	}
	bio = BIO_new_mem_buf(b.data ? b.data : "", (int)b.len);
	k = bio ? (private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
			   : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) : NULL;
	if (!k && !private && bio) {
		/* a private key file also names its public key */
		BIO_free(bio);
		bio = BIO_new_mem_buf(b.data ? b.data : "", (int)b.len);
		k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	}
	BIO_free(bio);
	buf_release(&b);
	if (!k) {
		err_set(e, MOAT_EPARSE, "cannot read '%s': not a PEM %s key", path,
			private ? "private" : "public");
		return NULL;
	}
	if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		err_set(e, MOAT_EUNSUPPORTED, "'%s' is not an Ed25519 key", path);
		return NULL;
	}
	return k;
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
	EVP_PKEY *k = read_key(pub_path, 0, e);
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
	EVP_PKEY *k = read_key(key_path, 1, e);
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
	EVP_PKEY *k = read_key(pub_path, 0, e);
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

static int write_pem(const char *path, EVP_PKEY *k, int private, struct moat_err *e)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int rc;
	if (!bio)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if ((private ? PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL)
		     : PEM_write_bio_PUBKEY(bio, k)) != 1) {
		BIO_free(bio);
		return err_set(e, MOAT_EIO, "cannot encode the key");
	}
	len = BIO_get_mem_data(bio, &data);
	rc = fs_write_atomic(path, data, (size_t)len, private ? 0600 : 0644, e);
	BIO_free(bio);
	return rc;
}

int models_keygen(const char *out, struct moat_err *e)
{
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *ctx;
	char *pub;
	int rc = -1;
	if (asprintf(&pub, "%s.pub", out) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (fs_exists(out) || fs_exists(pub)) {
		err_set(e, MOAT_EEXISTS, "'%s' or '%s' already exists; not overwriting a key", out,
			pub);
		free(pub);
		return -1;
	}
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &k) != 1) {
		err_set(e, MOAT_EIO, "cannot generate an Ed25519 key");
		goto out;
	}
	if (write_pem(out, k, 1, e) < 0)
		goto out;
	if (write_pem(pub, k, 0, e) < 0) {
		unlink(out);
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_free(k);
	EVP_PKEY_CTX_free(ctx);
	free(pub);
	return rc;
}
