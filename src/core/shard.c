/* shard.c - the stable item selector of `--shard I/N` (see shard.h). */
#include "shard.h"
#include "hash.h"

#include <stdint.h>
#include <string.h>

#include "banned.h"

unsigned shard_of(const char *id, size_t len, unsigned n)
{
	unsigned char d[SHA256_LEN];
	uint64_t v = 0;
	sha256_mem(id, len, d);
	for (int k = 0; k < 8; k++)
		v = v << 8 | d[k];
	return (unsigned)(v % n);
}

int shard_has(const struct shard *s, const char *id)
{
	return !s || s->n <= 1 || shard_of(id, strlen(id), s->n) == s->i;
}
