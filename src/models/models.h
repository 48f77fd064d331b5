/*
 * models.h - moat's model kit: reading an Ollama model store (names,
 * manifests, blobs), listing it, checking it (fsck), and the operations that
 * carry models across an air gap (bundle, verify, install), turn a GGUF file
 * into a store entry (import), and remove models (rm).  Bundles are signed
 * with Ed25519 keys made by keys/ (keys.h).
 *
 * Not for: talking to an Ollama server (that is src/llm/), loading a model,
 * or moat's workspace (src/store/): "store" here is Ollama's model store.
 *
 * Uses core/ (files, hashing, the thread pool, progress), keys/, jansson and
 * OpenSSL; no stage.  Called by cmd/ and by llm/ (resolving store: URIs,
 * doctor's checks).
 *
 * Conventions: functions that can fail take a struct moat_err and return -1
 * (or NULL) after filling it.  Returned strings and json_t values belong to
 * the caller (free() / json_decref()).  Nothing here prints or exits;
 * progress is reported through an optional callback.
 */
#ifndef MOAT_MODELS_H
#define MOAT_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

/* ---- the store -------------------------------------------------------- */

/* The store directory: flag_dir (--models-dir) if not NULL, else
 * $OLLAMA_MODELS (spaces and quotes around it stripped, as Ollama does), else
 * ~/.ollama/models.  malloc'd; NULL only when out of memory. */
char *models_default_dir(const char *flag_dir) __attribute__((warn_unused_result));

/* Every model of the store, most recently modified first: an array of
 * {name, id, digest, size, modified (unix seconds), manifest_path,
 *  model_blob (path or null), architecture, parameters, quantization,
 *  context_length, problems:[strings]}.  GGUF facts are null when unknown.
 * Broken entries are listed with their problems, never dropped.  NULL with e
 * set only when the store cannot be read at all. */
json_t *models_list(const char *models_dir, struct moat_err *e) __attribute__((warn_unused_result));

/* Checks the whole store: {"ok":bool, "models":N, "problems":[{"path":...,
 * "problem":...}]}.  quick: sizes only, no SHA-256 of blobs. */
json_t *models_fsck(const char *models_dir, int quick, struct moat_err *e)
	__attribute__((warn_unused_result));

/* "mistral:7b" -> absolute path of that model's GGUF model-layer blob
 * (malloc'd), or NULL with e set (MOAT_ENOTFOUND for an unknown model or a
 * missing blob, MOAT_EPARSE for a bad name or manifest). */
char *models_resolve_gguf(const char *models_dir, const char *name, struct moat_err *e)
	__attribute__((warn_unused_result));

/* ---- names ------------------------------------------------------------ */

struct model_name {
	char host[352];
	char ns[82];
	char model[82];
	char tag[82];
};

/* Parses "model", "model:tag", "ns/model:tag", "host/ns/model:tag" (an
 * optional scheme:// is dropped) and fills in Ollama's defaults.  Returns 0, or
 * -1 (MOAT_EUSAGE) for a name Ollama would reject. */
int model_name_parse(const char *s, struct model_name *n, struct moat_err *e)
	__attribute__((warn_unused_result));
/* Ollama's short display form ("mistral:latest", "user/m:tag",
 * "host/ns/m:tag"); malloc'd, NULL when out of memory. */
char *model_name_display(const struct model_name *n) __attribute__((warn_unused_result));
/* "host/ns/model/tag" (the manifest path under manifests/); malloc'd, NULL
 * when out of memory. */
char *model_name_relpath(const struct model_name *n) __attribute__((warn_unused_result));
/* The reverse: the name whose manifest path is rel, when rel is four parts
 * that are a valid name exactly as written (no default filled in, case kept).
 * Returns 0, or -1 (MOAT_EUSAGE) for anything else. */
int model_name_from_relpath(const char *rel, struct model_name *n, struct moat_err *e)
	__attribute__((warn_unused_result));

/* ---- manifests -------------------------------------------------------- */

struct model_layer {
	char *media_type;
	char digest[72];      /* "sha256:<64 hex>", lowercased */
	uint64_t size;
	char *from;           /* may be NULL */
};

struct manifest {
	int schema_version;
	char *media_type;
	struct model_layer config;
	struct model_layer *layers;
	size_t n_layers;
	char id[65];          /* hex SHA-256 of the manifest bytes */
};

#define MANIFEST_MAX_BYTES (4u << 20)
#define MANIFEST_MAX_LAYERS 4096

/* Parses manifest bytes (any whitespace, any field order).  Returns 0, or -1
 * with e set (MOAT_EPARSE naming what is wrong).  On success m owns its
 * strings: release with manifest_release(). */
int manifest_parse(const void *data, size_t len, struct manifest *m, struct moat_err *e)
	__attribute__((warn_unused_result));
void manifest_release(struct manifest *m);
/* Declared size: config plus every layer (what `ollama list` shows). */
uint64_t manifest_size(const struct manifest *m);
/* The model layer (mediaType application/vnd.ollama.image.model), or NULL. */
const struct model_layer *manifest_model_layer(const struct manifest *m);

/* True when digest is "sha256:<64 hex>" or "sha256-<64 hex>". */
int digest_valid(const char *digest);
/* <dir>/blobs/sha256-<hex> for a digest; malloc'd, NULL for a bad digest or
 * when out of memory. */
char *blob_path(const char *models_dir, const char *digest) __attribute__((warn_unused_result));

/* ---- the carrying operations ----------------------------------------- */

/* Called now and then with bytes done of total (total 0 when unknown). */
typedef void (*models_progress_fn)(void *arg, uint64_t done, uint64_t total);

struct bundle_opts {
	const char *models_dir;
	const char *const *names;   /* models to carry */
	size_t n_names;
	const char *to;             /* the bundle directory */
	uint64_t split_size;        /* 0: never split */
	const char *sign_key;       /* PEM private key file, or NULL */
	int include_self;
	const char *self_exe;       /* the moat binary for include_self (NULL: /proc/self/exe) */
	/* What include_self carries besides the program and its libraries
	 * (the caller finds them: core/datadir.h); each may be NULL. */
	const char *magic_file;     /* libmagic's compiled database */
	const char *tessdata_dir;   /* Tesseract's <lang>.traineddata files */
	const char *ocr_langs;      /* "eng+deu": only these (osd too); NULL: all in tessdata_dir */
	const char *llama_server;   /* llama.cpp's server program */
	/* Libraries the program loads on first need (dlopen) rather than
	 * links, by soname, NULL-terminated: carried with everything they
	 * need, as the loader finds them here (ingest/ocrlib.h's
	 * ocrlib_sonames: Tesseract and Leptonica).  NULL: none. */
	const char *const *self_dlopen;
	/* Known-good answers to carry (golden.h's golden_record), written as
	 * golden.json and listed in SHA256SUMS; borrowed; NULL: none. */
	json_t *golden;
	int jobs;
	models_progress_fn progress;
	void *progress_arg;
};
struct bundle_opts bundle_default_opts(void);
/* Writes (or resumes) a bundle.  Returns the bundle.json object written, or
 * NULL with e set.  Refuses a non-empty directory that is not a moat bundle
 * (MOAT_EEXISTS). */
json_t *models_bundle(const struct bundle_opts *o, struct moat_err *e) __attribute__((warn_unused_result));

/* Exit statuses of `moat models verify` (and install's verify step). */
enum verify_status {
	VERIFY_OK = 0,
	VERIFY_CORRUPT = 3,     /* a file corrupt, missing, truncated or unexpected */
	VERIFY_BADSIG = 4,      /* the signature is missing, tampered or from another key */
};

struct verify_opts {
	const char *dir;
	const char *trust_key;      /* PEM public key file, or NULL */
	int jobs;
	models_progress_fn progress;
	void *progress_arg;
};
struct verify_opts verify_default_opts(void);
/* Verifies a bundle.  Returns {"ok":bool, "status":"ok"|"corrupt"|"bad-signature",
 * "files":N, "bytes":N, "signature":"valid"|"absent"|..., "problems":[{path,
 * problem, expected?, found?}], "warnings":[...]}, or NULL with e set when the
 * directory cannot be read as a bundle at all.  *status gets an enum
 * verify_status (corrupt wins over a bad signature). */
json_t *models_verify(const struct verify_opts *o, int *status, struct moat_err *e)
	__attribute__((warn_unused_result));

struct install_opts {
	const char *dir;            /* the bundle */
	const char *models_dir;     /* the target store */
	const char *trust_key;
	int force;
	int jobs;
	models_progress_fn progress;
	void *progress_arg;
};
struct install_opts install_default_opts(void);
/* Verifies then installs a bundle: blobs first (temp name, fsync, rename),
 * manifests last.  Returns {"installed":[names], "skipped_blobs":N,
 * "copied_blobs":N, "verify":{...}} or NULL with e set; *status gets the
 * verify status when verification failed (else 0). */
json_t *models_install(const struct install_opts *o, int *status, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Imports a GGUF file as NAME (model, template and params layers, and a
 * config blob).  Returns {"name":..., "id":..., "layers":[...]} or NULL. */
json_t *models_import(const char *models_dir, const char *gguf_path, const char *name,
		      struct moat_err *e) __attribute__((warn_unused_result));

/* Removes models and the blobs no other manifest references.  Returns
 * {"removed":[names], "blobs_removed":N, "bytes_freed":N} or NULL with e set
 * (nothing removed when a name is unknown). */
json_t *models_rm(const char *models_dir, const char *const *names, size_t n,
		  struct moat_err *e) __attribute__((warn_unused_result));

/* fsck --prune: removes unreferenced blobs (only when every manifest parses).
 * Returns the number removed, or -1. */
int models_prune(const char *models_dir, json_t *removed_out, struct moat_err *e)
	__attribute__((warn_unused_result));

#endif
