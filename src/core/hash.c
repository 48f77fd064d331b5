/* hash.c - SHA-256 through OpenSSL EVP. */
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "banned.h"

int sha256_init(struct sha256 *h)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		h->ctx = NULL;
		return -1;
	}
	h->ctx = c;
	return 0;
}

void sha256_update(struct sha256 *h, const void *data, size_t len)
{
	if (h->ctx && len)
		EVP_DigestUpdate(h->ctx, data, len);
}

void sha256_final(struct sha256 *h, unsigned char out[SHA256_LEN])
{
	unsigned int n = SHA256_LEN;
	if (h->ctx)
		EVP_DigestFinal_ex(h->ctx, out, &n);
	else
		memset(out, 0, SHA256_LEN);
	sha256_release(h);
}

void sha256_release(struct sha256 *h)
{
	if (h && h->ctx) {
		EVP_MD_CTX_free(h->ctx);
		h->ctx = NULL;
	}
}

void sha256_mem(const void *data, size_t len, unsigned char out[SHA256_LEN])
{
	unsigned int n = SHA256_LEN;
	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void sha256_hex_mem(const void *data, size_t len, char out[SHA256_HEX])
{
	unsigned char d[SHA256_LEN];
	sha256_mem(data, len, d);
	hex_encode(d, SHA256_LEN, out);
}

int sha256_file(const char *path, unsigned char out[SHA256_LEN], uint64_t *size_out,
		struct moat_err *e)
{
	struct sha256 h;
	static __thread unsigned char block[1 << 20];
	uint64_t total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, MOAT_EIO, "cannot open '%s': %s", path, strerror(errno));
	if (sha256_init(&h) < 0) {
		close(fd);
		return err_set(e, MOAT_ENOMEM, "cannot start sha256");
	}
	for (;;) {
		ssize_t n = read(fd, block, sizeof(block));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;
			sha256_release(&h);
			close(fd);
			return err_set(e, MOAT_EIO, "cannot read '%s': %s", path, strerror(saved));
		}
		if (n == 0)
			break;
		sha256_update(&h, block, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	sha256_final(&h, out);
	if (size_out)
		*size_out = total;
	return 0;
}
