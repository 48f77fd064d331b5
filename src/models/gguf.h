/*
 * gguf.h - a reader and validator of GGUF headers (the llama.cpp model
 * format): the metadata that moat lists (architecture, parameter count,
 * quantisation, context length, chat template) and the structural checks
 * that find a truncated or damaged file (magic, version, metadata, tensor
 * table, and a file long enough for its largest tensor).
 *
 * Not for: loading tensor data.  The reader never trusts a length from the
 * file: every count and size is checked against the bytes that are there.
 *
 * Uses only core/ (errors, formatting, JSON strings) and jansson; nothing
 * else of the model kit.
 *
 * Ownership: gguf_open()/gguf_parse() fill a struct gguf_info that owns its
 * strings; gguf_info_release() frees them.
 */
#ifndef MOAT_GGUF_H
#define MOAT_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

enum gguf_value_type {
	GGUF_T_UINT8 = 0, GGUF_T_INT8, GGUF_T_UINT16, GGUF_T_INT16, GGUF_T_UINT32,
	GGUF_T_INT32, GGUF_T_FLOAT32, GGUF_T_BOOL, GGUF_T_STRING, GGUF_T_ARRAY,
	GGUF_T_UINT64, GGUF_T_INT64, GGUF_T_FLOAT64, GGUF_T__COUNT
};

struct gguf_info {
	uint32_t version;
	uint64_t n_tensors;
	uint64_t n_kv;
	uint32_t alignment;
	uint64_t data_offset;
	uint64_t min_size;        /* data_offset + end of the furthest tensor */
	uint64_t padded_size;     /* ... with its final padding */
	uint64_t file_size;
	char *architecture;       /* general.architecture, or NULL */
	char *name;               /* general.name, or NULL */
	uint64_t parameters;      /* sum of tensor elements */
	int64_t file_type;        /* general.file_type, -1 when absent */
	char *quantization;       /* "Q4_K_M", "F16"... (from file_type, else the main tensor type), or NULL */
	uint64_t context_length;  /* <arch>.context_length, 0 when absent */
	uint64_t embedding_length;
	char *chat_template;      /* tokenizer.chat_template, or NULL */
	char *license;            /* general.license, or NULL */
	char *bos_token;          /* token text of tokenizer.ggml.bos_token_id, or NULL */
	char *eos_token;          /* token text of tokenizer.ggml.eos_token_id, or NULL */
	int has_pooling;          /* <arch>.pooling_type present (an embedding model) */
	char warning[256];        /* "" or a non-fatal finding (missing final padding...) */
};

/* Parses a GGUF header from memory.  len is what the buffer holds and
 * file_size the size of the whole file (>= len; the tensor data need not be
 * in the buffer).  Returns 0, or -1 with e set (MOAT_ECORRUPT: bad magic,
 * truncated, inconsistent; MOAT_EUNSUPPORTED: version 1 or > 3, big-endian,
 * an unknown tensor type).  Truncation of the data section is reported as
 * MOAT_ECORRUPT ("file is N bytes, tensor 'x' ends at M"). */
int gguf_parse(const void *data, size_t len, uint64_t file_size, struct gguf_info *g,
	       struct moat_err *e)
	__attribute__((warn_unused_result));

/* Opens and validates a GGUF file (reads only its header).  Same results. */
int gguf_open(const char *path, struct gguf_info *g, struct moat_err *e)
	__attribute__((warn_unused_result));

/* The same for a file cut into parts (a split bundle blob), read as their
 * concatenation in the order given. */
int gguf_open_parts(const char *const *paths, size_t n, struct gguf_info *g, struct moat_err *e)
	__attribute__((warn_unused_result));

void gguf_info_release(struct gguf_info *g);

/* {architecture, parameters, quantization, context_length, ...} for listings;
 * NULL only when out of memory. */
json_t *gguf_info_json(const struct gguf_info *g) __attribute__((warn_unused_result));

/* "7.2B", "494.03M" - Ollama's parameter size display, into out[size] (16
 * bytes always suffice).  Returns its length, or -1 when it does not fit. */
int gguf_format_params(uint64_t n, char *out, size_t size)
	__attribute__((warn_unused_result));
/* llama_ftype number to a name ("Q4_K_M"), or NULL when unknown. */
const char *gguf_ftype_name(int64_t ftype);
/* ggml tensor type id to a name ("Q4_K"), or NULL. */
const char *gguf_tensor_type_name(uint32_t type);

#endif
