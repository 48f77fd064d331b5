/*
 * jsonu.h - JSON strings from bytes moat does not control: file names, the
 * command line, names in a model store.  A JSON string must be UTF-8 and
 * jansson refuses anything else (json_string returns NULL, json_pack fails),
 * so a Latin-1 file name on an old share would silently vanish from a
 * listing or an audit record.  These never fail on bad bytes: each invalid
 * byte becomes U+FFFD, the convention of Python's errors="replace", ripgrep
 * and the LLM servers.
 */
#ifndef MOAT_JSONU_H
#define MOAT_JSONU_H

#include <jansson.h>
#include <stddef.h>

/* A JSON string of s (json null when s is NULL); NULL only when out of memory. */
json_t *jsonu_string(const char *s);
json_t *jsonu_stringn(const char *s, size_t len);

#endif
