/*
 * models_int.h - what the files of src/models/ share and nobody else needs:
 * the store walk, blob lookup, a small thread pool, copying with hashing,
 * bundle layout names, and Ed25519 signing.
 *
 * Not a public interface: callers outside src/models/ use models.h.
 */
#ifndef MOAT_MODELS_INT_H
#define MOAT_MODELS_INT_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/hash.h"
#include "models.h"

#define MT_MEDIA_MODEL "application/vnd.ollama.image.model"
#define MT_MEDIA_PROJECTOR "application/vnd.ollama.image.projector"
#define MT_MEDIA_ADAPTER "application/vnd.ollama.image.adapter"
#define MT_MEDIA_DRAFT "application/vnd.ollama.image.draft"
#define MT_MEDIA_TEMPLATE "application/vnd.ollama.image.template"
#define MT_MEDIA_SYSTEM "application/vnd.ollama.image.system"
#define MT_MEDIA_PARAMS "application/vnd.ollama.image.params"
#define MT_MEDIA_MESSAGES "application/vnd.ollama.image.messages"
#define MT_MEDIA_LICENSE "application/vnd.ollama.image.license"
#define MT_MEDIA_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_MANIFEST_V2 "application/vnd.docker.distribution.manifest.v2+json"

/* The prefix of moat's temporary files in blobs/ (store) and in bundles. */
#define MT_TMP_PREFIX ".moat-tmp-"

/* Bundle layout. */
#define BUNDLE_JSON "bundle.json"
#define BUNDLE_SUMS "SHA256SUMS"
#define BUNDLE_SIG "bundle.sig"
#define BUNDLE_MARK ".moat-bundle"
#define BUNDLE_FORMAT "moat-bundle"
#define BUNDLE_FORMAT_VERSION 1

/* ---- store ---- */

/* One file found at depth four under manifests/ (what Ollama's glob sees). */
struct store_entry {
	char *path;          /* full path */
	char *rel;           /* host/ns/model/tag */
	struct model_name name;
	int name_ok;         /* the four parts are a valid name */
	int dangling;        /* a symlink to nothing */
};

/* Lists the manifest files of a store (depth four, not directories).  A store
 * without a manifests/ directory is empty, not an error.  *out is malloc'd;
 * free with store_entries_free(). */
int store_scan(const char *models_dir, struct store_entry **out, size_t *n, struct moat_err *e);
void store_entries_free(struct store_entry *v, size_t n);

/* Reads and parses one manifest file; raw (if not NULL) gets its bytes. */
int store_read_manifest(const char *path, struct manifest *m, struct buf *raw, struct moat_err *e);

/* The path of a blob that exists, under sha256-<hex> or the old sha256:<hex>;
 * NULL when neither exists.  *old_name (if not NULL) says which. */
char *blob_find(const char *models_dir, const char *digest, int *old_name);

/* Finds the manifest of a name in a store, comparing each part without
 * case (Ollama's rule).  Returns the path (malloc'd) or NULL (MOAT_ENOTFOUND). */
char *store_find_manifest(const char *models_dir, const struct model_name *n,
			  struct moat_err *e);

/* Hex of a digest ("sha256:<hex>" -> pointer to <hex>), or NULL. */
const char *digest_hex(const char *digest);

/* True for layers that hold GGUF data (model, projector, adapter, draft). */
int media_is_gguf(const char *media_type);
/* "model", "template", "config"... : the last word of a media type. */
const char *media_short(const char *media_type);

/* ---- jobs ---- */

/* Runs fn(arg, i) for i in [0, n) on up to jobs threads (jobs <= 1: in this
 * thread, in order). */
void pool_run(int jobs, size_t n, void (*fn)(void *arg, size_t i), void *arg);
int default_jobs(void);

/* Progress shared by worker threads: calls the user's callback under a lock
 * and at most every 64 MiB / at the end. */
struct shared_progress {
	pthread_mutex_t lock;
	uint64_t done, total, last;
	models_progress_fn fn;
	void *arg;
};
void sp_init(struct shared_progress *p, models_progress_fn fn, void *arg, uint64_t total);
void sp_add(struct shared_progress *p, uint64_t n);
void sp_finish(struct shared_progress *p);

/* ---- copying ---- */

#define COPY_BLOCK (4u << 20)

/* Reads a whole file (or len bytes from off, len UINT64_MAX: to the end),
 * feeding every byte to h1 and h2 (either may be NULL), reporting progress.
 * *got gets the byte count read. */
int hash_fd_range(int fd, const char *path, uint64_t off, uint64_t len, struct sha256 *h1,
		  struct sha256 *h2, struct shared_progress *sp, uint64_t *got,
		  struct moat_err *e);

/* A piece of a source file: len bytes from off (UINT64_MAX: to the end). */
struct copy_src {
	const char *path;
	uint64_t off, len;
};

/* Copies the sources, in order, into a new temporary file next to dst
 * (named MT_TMP_PREFIX...), hashing every byte into h1 (may be NULL) and the
 * copy's own digest into part_hex (if not NULL), then fsyncs it.  A source
 * shorter than its len is an error (MOAT_ECORRUPT).  The temporary path is
 * returned in *tmp_out (malloc'd) for the caller to rename or unlink.
 * mode/uid/gid apply to the new file (uid (uid_t)-1: leave). */
int copy_to_tmp(const struct copy_src *src, size_t n_src, const char *dst, mode_t mode,
		uid_t uid, gid_t gid, struct sha256 *h1, char part_hex[SHA256_HEX],
		struct shared_progress *sp, char **tmp_out, struct moat_err *e);

/* Writes small data to a temporary file in tmp_dir, with mode, owner and
 * (mtime_sec >= 0) modification time, fsyncs it and renames it to dst. */
int write_file_durable(const char *tmp_dir, const char *dst, const void *data, size_t len,
		       mode_t mode, uid_t uid, gid_t gid, int64_t mtime_sec, long mtime_nsec,
		       struct moat_err *e);

/* The owner new files of a store should get: the store directory's owner
 * (or its nearest existing parent's) when we are root, else (uid_t)-1. */
void store_owner(const char *models_dir, uid_t *uid, gid_t *gid);

/* Takes an exclusive lock on <models_dir>/.moat-lock (waiting for it);
 * returns the fd to close, or -1. */
int store_lock(const char *models_dir, struct moat_err *e);

/* Removes MT_TMP_PREFIX files left in dir by an interrupted run. */
void remove_stale_tmp(const char *dir);

/* rename(tmp, dst) then fsync of dst's directory. */
int rename_durable(const char *tmp, const char *dst, struct moat_err *e);

/* ---- the files of a bundle ---- */

/* A list of bundle paths (rel) with their SHA-256 (hex, "" when not known). */
struct fileset {
	char **rel;
	char (*hex)[65];
	size_t n, cap;
};
/* Appends a copy of rel (and hex, which may be NULL); -1 when out of memory. */
int fileset_add(struct fileset *f, const char *rel, const char *hex);
int fileset_has(const struct fileset *f, const char *rel);
void fileset_release(struct fileset *f);

/* --include-self (bundle_self.c): copies the moat program, the shared
 * libraries it runs with (all but the C library's), its data files (libmagic's
 * database, Tesseract's language files), llama.cpp's llama-server with the
 * libraries it needs, and install.sh into <o->to>/moat/, adding each to files
 * and to self_json's "files" array. */
int bundle_copy_self(const struct bundle_opts *o, struct shared_progress *sp,
		     struct fileset *files, json_t *self_json, struct moat_err *e);

/* ---- signing (Ed25519 through OpenSSL) ---- */

/* Signs msg with the PEM private key in key_path: *sig_b64 (malloc'd base64),
 * pub_b64 gets the raw public key in base64. */
int ed25519_sign_file_key(const char *key_path, const void *msg, size_t len, char **sig_b64,
			  char **pub_b64, struct moat_err *e);
/* Checks a base64 signature with the PEM public key in pub_path.  Returns 1
 * valid, 0 invalid, -1 error (unreadable key; e set). */
int ed25519_verify_file_key(const char *pub_path, const void *msg, size_t len,
			    const char *sig_b64, struct moat_err *e);
/* The key id of a raw base64 public key (first 16 hex of its SHA-256). */
void key_id_of(const char *pub_b64, char out[17]);
/* Key id of the public key in a PEM file. */
int key_id_of_file(const char *pub_path, char out[17], struct moat_err *e);

/* ---- misc ---- */
int64_t now_unix(void);
char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
