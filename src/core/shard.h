/*
 * shard.h - which share of a stage's items one process takes (`--shard I/N`):
 * an item belongs to shard I of N when the first 8 bytes of the SHA-256 of
 * its id, read as a big-endian number, are I modulo N.  The choice depends
 * on the id alone, so a rerun of one shard takes the same items, the N
 * shards together take every item exactly once, and nodes that see the
 * items in another order (or at another mount point, for ingest's ids
 * relative to the root given) agree.
 *
 * Not for: parsing the option (cmd/common.c, cmd_parse_shard) or deciding
 * what an item's id is (each stage says: ingest the path relative to the
 * root named, clean and chunk the document id).
 */
#ifndef MOAT_SHARD_H
#define MOAT_SHARD_H

#include <stddef.h>

#define SHARD_MAX 4096

/* A value type; n == 0 (SHARD_ALL) takes every item. */
struct shard {
	unsigned i, n;
};
#define SHARD_ALL { 0, 0 }

/* The shard (0..n-1) the id's n bytes belong to; n >= 1. */
unsigned shard_of(const char *id, size_t len, unsigned n);
/* 1 when the NUL-terminated id is in s (always, for SHARD_ALL). */
int shard_has(const struct shard *s, const char *id);

#endif
