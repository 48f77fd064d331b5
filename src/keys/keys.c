/*
 * keys.c - making, writing and reading moat's key files (see keys.h): one
 * writer for both kinds, OpenSSL for randomness and for Ed25519's PEM forms.
 */
#define _GNU_SOURCE
#include "keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/hash.h"

#include "core/banned.h"

/* A key file is at most this big (PEM of an Ed25519 key: about 120 bytes). */
#define KEY_FILE_MAX 4096

/* Writes a key file where nothing exists yet: atomically, and readable by no
 * one else while it is written (the temporary file is created 0600). */
static int write_key(const char *path, const void *data, size_t len, mode_t mode,
		     struct moat_err *e)
{
	if (fs_exists(path))
		return err_set(e, MOAT_EEXISTS, "'%s' exists; not overwriting a key", path);
	return fs_write_atomic(path, data, len, mode, e);
}

/* ---- signing keys ---- */

/* The PEM text of k (private or public) into a memory BIO, then a key file. */
static int write_pem(const char *path, EVP_PKEY *k, int private_key, struct moat_err *e)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int rc;
	if (!bio)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if ((private_key ? PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL)
			 : PEM_write_bio_PUBKEY(bio, k)) != 1) {
		BIO_free(bio);
		return err_set(e, MOAT_EIO, "cannot encode the key");
	}
	len = BIO_get_mem_data(bio, &data);
	rc = write_key(path, data, (size_t)len, private_key ? 0600 : 0644, e);
	if (len > 0)
		OPENSSL_cleanse(data, (size_t)len);
	BIO_free(bio);
	return rc;
}

int keys_signing_generate(const char *path, struct moat_err *e)
{
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	char *pub;
	int rc = -1;
	if (asprintf(&pub, "%s.pub", path) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (fs_exists(path) || fs_exists(pub)) {
		err_set(e, MOAT_EEXISTS, "'%s' or '%s' already exists; not overwriting a key", path,
			pub);
		goto out;
	}
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &k) != 1) {
		err_set(e, MOAT_EIO, "cannot generate an Ed25519 key");
		goto out;
	}
	if (write_pem(path, k, 1, e) < 0)
		goto out;
	if (write_pem(pub, k, 0, e) < 0) {
		unlink(path);
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_free(k);
	EVP_PKEY_CTX_free(ctx);
	free(pub);
	return rc;
}

/* A PEM key from memory: the private key, or the public key (read from a
 * public key, else from a private key). */
static EVP_PKEY *pem_key(const struct buf *b, int private_key)
{
	EVP_PKEY *k = NULL;
	for (int pass = 0; !k && pass < 2; pass++) {
		BIO *bio = BIO_new_mem_buf(b->data ? b->data : "", (int)b->len);
		if (!bio)
			break;
		if (private_key || pass == 1)
			k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		else
			k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		BIO_free(bio);
		if (private_key)
			break;
	}
	return k;
}

EVP_PKEY *keys_signing_load(const char *path, int private_key, struct moat_err *e)
{
	struct buf b = BUF_INIT;
	EVP_PKEY *k;
	if (fs_read_file(path, &b, 1u << 20, e) < 0) {
		buf_release(&b);
		return NULL;
	}
	k = pem_key(&b, private_key);
	if (b.data)
		OPENSSL_cleanse(b.data, b.len);
	buf_release(&b);
	if (!k) {
		err_set(e, MOAT_EPARSE, "cannot read '%s': not a PEM %s key", path,
			private_key ? "private" : "public");
		return NULL;
	}
	if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		err_set(e, MOAT_EUNSUPPORTED, "'%s' is not an Ed25519 key", path);
		return NULL;
	}
	return k;
}

/* ---- secret keys ---- */

int keys_secret_generate(const char *path, struct moat_err *e)
{
	unsigned char k[KEYS_SECRET_LEN];
	char hex[2 * KEYS_SECRET_LEN + 2];
	int rc;
	if (RAND_bytes(k, sizeof(k)) != 1)
		return err_set(e, MOAT_EIO, "cannot get random bytes for a key");
	hex_encode(k, KEYS_SECRET_LEN, hex);
	hex[2 * KEYS_SECRET_LEN] = '\n';
	hex[2 * KEYS_SECRET_LEN + 1] = '\0';
	rc = write_key(path, hex, 2 * KEYS_SECRET_LEN + 1, 0600, e);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(hex, sizeof(hex));
	return rc;
}

int keys_secret_load(const char *path, unsigned char key[KEYS_SECRET_LEN], struct moat_err *e)
{
	struct buf b = BUF_INIT;
	size_t n;
	int rc = 0;
	if (fs_read_file(path, &b, KEY_FILE_MAX, e) < 0) {
		buf_release(&b);
		return -1;
	}
	n = b.len;
	while (n && (b.data[n - 1] == '\n' || b.data[n - 1] == '\r' || b.data[n - 1] == ' '))
		n--;
	if (n == 2 * KEYS_SECRET_LEN) {
		for (size_t i = 0; i < KEYS_SECRET_LEN && rc == 0; i++) {
			int hi = hex_digit((unsigned char)b.data[2 * i]);
			int lo = hex_digit((unsigned char)b.data[2 * i + 1]);
			if (hi < 0 || lo < 0)
				rc = err_set(e, MOAT_EPARSE, "cannot read key '%s': not hex", path);
			else
				key[i] = (unsigned char)(hi << 4 | lo);
		}
	} else if (b.len == KEYS_SECRET_LEN) {
		memcpy(key, b.data, KEYS_SECRET_LEN);
	} else {
		rc = err_set(e, MOAT_EPARSE, "cannot read key '%s': want 64 hex digits or 32 bytes "
			     "(moat pii keygen)", path);
	}
	if (b.data)
		OPENSSL_cleanse(b.data, b.len);
	buf_release(&b);
	if (rc < 0)
		OPENSSL_cleanse(key, KEYS_SECRET_LEN);
	return rc;
}
