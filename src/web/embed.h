/*
 * embed.h - the files under web/ (the page, its scripts, the OpenAPI
 * description), built into the binary by cmake/embed.cmake: each with its
 * URL path, Content-Type and SHA-256 (its ETag, quoted).  Nothing is read
 * from disk at run time, so the page served is the one the binary was
 * built with.
 */
#ifndef MOAT_EMBED_H
#define MOAT_EMBED_H

#include <stddef.h>

struct embed_file {
	const char *path;            /* "/index.html" */
	const char *type;            /* "text/html; charset=utf-8" */
	const unsigned char *data;   /* len bytes (and a NUL after them) */
	size_t len;
	const char *etag;            /* "\"<sha256 hex>\"" */
};

/* The table, ended by an entry whose path is NULL (generated). */
extern const struct embed_file embed_files[];

/* The file served at path ("/" is "/index.html"), or NULL. */
const struct embed_file *embed_find(const char *path);

#endif
