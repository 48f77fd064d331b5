/*
 * digest.h - the SHA-256 of a model file for provenance (digest.c), hashed
 * once per version of the file and remembered in the cache directory.
 *
 * Not for checking a store (models fsck does) nor for anything but model
 * files the layer opens.
 *
 * May use: core/ (datadir, fs, hash).
 */
#ifndef MOAT_LLM_DIGEST_H
#define MOAT_LLM_DIGEST_H

#include "../core/err.h"

/* "sha256:<hex>" of a file, remembered in <cache>/digests by device, inode,
 * size and mtime so that a big model is hashed once; an Ollama blob
 * ("sha256-<hex>") is named by its digest and never hashed.  malloc'd, or
 * NULL with e set. */
char *llm_file_digest(const char *path, struct moat_err *e) __attribute__((warn_unused_result));

#endif
