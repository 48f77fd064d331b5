/*
 * models_int.h - what the files of src/models/ share and nobody else needs:
 * the Ollama store's walk, lookups, lock and owner (mstore_, ollama_store.c),
 * copying that hashes every byte and durable writes (copy.c), the progress
 * the copying threads share, the bundle's layout and file list, and Ed25519
 * signatures over a bundle (sign.c).
 *
 * Not a public interface: callers outside src/models/ use models.h.  Not for
 * moat's workspace store either (src/store/): "store" here is always Ollama's
 * model store, hence the mstore_ prefix; the rest of the module's shared
 * names start with models_.
 *
 * Uses core/ (buf, err, fs, hash, pool), keys/ (sign.c), jansson and
 * OpenSSL.
 *
 * Conventions as in models.h: -1 (or NULL) after filling the moat_err; what a
 * function returns malloc'd is the caller's to free().
 */
#ifndef MOAT_MODELS_INT_H
#define MOAT_MODELS_INT_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>
#include <time.h>

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

/* ---- the Ollama store (ollama_store.c) ---- */

/* One file found at depth four under manifests/ (what Ollama's glob sees). */
struct mstore_entry {
	char *path;          /* full path */
	char *rel;           /* host/ns/model/tag */
	char *srel;          /* manifests/host/ns/model/tag: rel in the store */
	struct model_name name;
	int name_ok;         /* the four parts are a valid name */
	int link;            /* a symlink (never read through) */
	int dangling;        /* a symlink to nothing */
};

/* Lists the manifest files of a store (depth four, not directories), sorted by
 * rel.  A store without a manifests/ directory is empty, not an error;
 * symlinks are listed at depth four (link set) and never followed above it.
 * *out is malloc'd; free with mstore_entries_free(). */
int mstore_scan(const char *models_dir, struct mstore_entry **out, size_t *n,
		struct moat_err *e) __attribute__((warn_unused_result));
void mstore_entries_free(struct mstore_entry *v, size_t n);

/* Reads and parses the manifest at rel (manifests/host/ns/model/tag) of a
 * store, following no link (mstore_file_open()); raw (if not NULL) gets its
 * bytes, mtime (if not NULL) its modification time.  The message of a parse
 * error names the file. */
int mstore_read_manifest(const char *models_dir, const char *rel, struct manifest *m,
			 struct buf *raw, struct timespec *mtime, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Opens <models_dir>/<rel> as a directory (rel: names separated by '/', ""
 * for the store itself), each name of rel with O_NOFOLLOW: the store
 * directory may be a link (whoever runs moat names it), nothing below it may.
 * With create, missing directories are made (0755, given to uid/gid unless
 * (uid_t)-1, each made durable).  A symlink on the way is refused
 * (MOAT_ECORRUPT, "refusing '<path>': it is a symlink..."), a missing
 * directory without create is MOAT_ENOTFOUND.  Returns the descriptor
 * (O_CLOEXEC) or -1. */
int mstore_dir_open(const char *models_dir, const char *rel, int create, uid_t uid, gid_t gid,
		    struct moat_err *e) __attribute__((warn_unused_result));

/* Opens the regular file <models_dir>/<rel> for reading the same way (its own
 * name with O_NOFOLLOW too).  Returns the descriptor or -1. */
int mstore_file_open(const char *models_dir, const char *rel, struct moat_err *e)
	__attribute__((warn_unused_result));

/* The error for name in dirfd that could not be opened (errno err) as path:
 * a refusal when it is a symlink, else what err says.  Returns -1. */
int mstore_refuse(int dirfd, const char *name, const char *path, int err, struct moat_err *e);

/* Looks for a blob under sha256-<hex>, then the old sha256:<hex> (a symlink
 * counts: callers that read it check; a blobs/ that is a symlink holds
 * nothing).  Returns 1 with *path (malloc'd) and
 * *old_name (if not NULL) set, 0 when neither exists or the digest is not
 * valid (*path NULL), or -1 when out of memory. */
int mstore_blob_find(const char *models_dir, const char *digest, char **path, int *old_name,
		     struct moat_err *e) __attribute__((warn_unused_result));

/* The name of a blob in blobs/ from its 64 hex digits: sha256-<hex>, or with
 * old the sha256:<hex> of older Ollama versions. */
#define MSTORE_BLOB_NAME 72
void mstore_blob_name(const char *hex, int old, char name[MSTORE_BLOB_NAME]);

/* Finds the manifest of a name in a store, comparing each part without
 * case (Ollama's rule), following no link.  Returns its path in the store,
 * manifests/host/ns/model/tag in the store's casing (malloc'd), or NULL
 * (MOAT_ENOTFOUND; MOAT_ECORRUPT for a symlink on the way; MOAT_ENOMEM). */
char *mstore_find_manifest(const char *models_dir, const struct model_name *n,
			   struct moat_err *e) __attribute__((warn_unused_result));

/* The owner new files of a store should get: the store directory's owner
 * (or its nearest existing parent's) when we are root, else (uid_t)-1. */
int mstore_owner(const char *models_dir, uid_t *uid, gid_t *gid, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Takes an exclusive lock on <models_dir>/.moat-lock (waiting for it).  The
 * file is never followed through a symlink (refused, naming it); when moat
 * creates it, it is given to uid/gid (from mstore_owner(); (uid_t)-1: left as
 * it is); an existing one is opened read-only and left as it is.  Returns the
 * fd to close, or -1. */
int mstore_lock(const char *models_dir, uid_t uid, gid_t gid, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Calls fn(arg, dirfd, name) for each MT_TMP_PREFIX file in the directory
 * dirfd: what an interrupted install or import left. */
void mstore_each_tmp(int dirfd, void (*fn)(void *arg, int dirfd, const char *name), void *arg);
/* Removes them (best effort: a later run sweeps again). */
void mstore_remove_stale_tmp(int dirfd);

/* ---- what verify checked, for install (verify.c) ---- */

/* bundle.json and the manifests exactly as verify read and checked them, so
 * that install writes those bytes and never reads the media again for them
 * (removable media may answer a second read with other bytes). */
struct models_verified {
	json_t *index;          /* bundle.json, parsed from the verified bytes */
	struct buf *manifest;   /* manifest[i]: the bytes of index.models[i]'s manifest */
	size_t n;
};
/* models_verify() that also fills kept (when the bundle verified; release it
 * with models_verified_release() in any case). */
json_t *models_verify_keep(const struct verify_opts *o, int *status, struct models_verified *kept,
			   struct moat_err *e) __attribute__((warn_unused_result));
void models_verified_release(struct models_verified *v);

/* Checks a model entry of bundle.json: its store path is four valid name
 * parts (so no '..', no absolute path), and its manifest path and name are the
 * ones bundle.c derives from that store path, so that the three cannot
 * disagree about what is installed; *n gets the name.  -1 (MOAT_ECORRUPT,
 * naming the entry) when not. */
int models_bundle_entry_check(json_t *mj, struct model_name *n, struct moat_err *e)
	__attribute__((warn_unused_result));

/* ---- names, digests, media types (manifest.c) ---- */

/* Hex of a digest ("sha256:<hex>" -> pointer to <hex>), or NULL. */
const char *models_digest_hex(const char *digest);

/* True for layers that hold GGUF data (model, projector, adapter, draft). */
int models_media_is_gguf(const char *media_type);
/* "model", "template", "config"... : the last word of a media type. */
const char *models_media_short(const char *media_type);

/* Copies an error that stops the operation into e (which may be NULL, as
 * everywhere); returns -1. */
static inline int models_err_copy(struct moat_err *e, const struct moat_err *from)
{
	if (e)
		*e = *from;
	return -1;
}

/* ---- building JSON results ---- */

/* json_object_set_new() and json_array_append_new() that remember a failure
 * (out of memory) in *bad, so that a result is built freely and checked once:
 * a listing that lost a field must not pass for a complete one. */
static inline void models_jset(json_t *o, const char *key, json_t *v, int *bad)
{
	if (json_object_set_new(o, key, v) < 0)
		*bad = 1;
}
static inline void models_jadd(json_t *a, json_t *v, int *bad)
{
	if (json_array_append_new(a, v) < 0)
		*bad = 1;
}

/* True when a failed json_loadb() ran out of memory rather than met bad
 * JSON: jansson then says so, or leaves its error text empty. */
static inline int models_json_oom(const json_error_t *je)
{
	return !je->text[0] || json_error_code(je) == json_error_out_of_memory;
}

/* ---- progress shared by worker threads (copy.c) ---- */

/* Calls the user's callback under a lock, at most every 16 MiB and at the
 * end. */
struct models_progress {
	pthread_mutex_t lock;
	uint64_t done, total, last;
	models_progress_fn fn;
	void *arg;
};
void models_progress_init(struct models_progress *p, models_progress_fn fn, void *arg,
			  uint64_t total);
void models_progress_add(struct models_progress *p, uint64_t n);  /* p may be NULL */
void models_progress_finish(struct models_progress *p);

/* ---- copying (copy.c) ---- */

#define COPY_BLOCK (4u << 20)
/* Reading only to hash: a block that stays in the CPU's L2 cache between the
 * kernel's copy and the hash (4 MiB blocks cost verify 10% more time). */
#define HASH_BLOCK (256u << 10)

/* Reads a whole file (or len bytes from off, len UINT64_MAX: to the end),
 * feeding every byte to h1 and h2 (either may be NULL), reporting progress.
 * *got gets the byte count read. */
int models_hash_fd(int fd, const char *path, uint64_t off, uint64_t len, struct sha256 *h1,
		   struct sha256 *h2, struct models_progress *sp, uint64_t *got,
		   struct moat_err *e) __attribute__((warn_unused_result));

/* A piece of a source file: len bytes from off (UINT64_MAX: to the end). */
struct models_copy_src {
	const char *path;
	uint64_t off, len;
};

/* Copies the sources, in order, into a new temporary file next to dst
 * (named MT_TMP_PREFIX...), hashing every byte into h1 (may be NULL) and the
 * copy's own digest into part_hex (if not NULL), then fsyncs it.  A source
 * shorter than its len is an error (MOAT_ECORRUPT).  The temporary path is
 * returned in *tmp_out (malloc'd) for the caller to rename or unlink; on
 * failure nothing is left behind.  mode/uid/gid apply to the new file
 * (uid (uid_t)-1: leave). */
int models_copy_to_tmp(const struct models_copy_src *src, size_t n_src, const char *dst,
		       mode_t mode, uid_t uid, gid_t gid, struct sha256 *h1,
		       char part_hex[SHA256_HEX], struct models_progress *sp, char **tmp_out,
		       struct moat_err *e) __attribute__((warn_unused_result));
/* The same in the directory dirfd (dst: the final path, for its name and for
 * messages); *tmp_out gets the temporary file's name in dirfd. */
int models_copy_to_tmp_at(const struct models_copy_src *src, size_t n_src, int dirfd,
			  const char *dst, mode_t mode, uid_t uid, gid_t gid, struct sha256 *h1,
			  char part_hex[SHA256_HEX], struct models_progress *sp, char **tmp_out,
			  struct moat_err *e) __attribute__((warn_unused_result));

/* Writes small data to a temporary file in tmp_dirfd, with mode, owner and
 * (mtime_sec >= 0) modification time, fsyncs it and renames it into dirfd
 * under dst's last name (dst, the full path, names it in messages). */
int models_write_durable_at(int tmp_dirfd, int dirfd, const char *dst, const void *data,
			    size_t len, mode_t mode, uid_t uid, gid_t gid, int64_t mtime_sec,
			    long mtime_nsec, struct moat_err *e) __attribute__((warn_unused_result));

/* renameat(from_dirfd, from, dirfd, last name of dst) then fsync of dirfd. */
int models_rename_at(int from_dirfd, const char *from, int dirfd, const char *dst,
		     struct moat_err *e) __attribute__((warn_unused_result));
/* rename(tmp, dst) then fsync of dst's directory. */
int models_rename_durable(const char *tmp, const char *dst, struct moat_err *e)
	__attribute__((warn_unused_result));

/* ---- the files of a bundle (bundle_self.c) ---- */

/* A list of bundle paths (rel) with their SHA-256 (hex, "" when not known). */
struct models_fileset {
	char **rel;
	char (*hex)[65];
	size_t n, cap;
};
/* Appends a copy of rel (and hex, which may be NULL); -1 when out of memory. */
int models_fileset_add(struct models_fileset *f, const char *rel, const char *hex)
	__attribute__((warn_unused_result));
int models_fileset_has(const struct models_fileset *f, const char *rel);
void models_fileset_release(struct models_fileset *f);

/* --include-self (bundle_self.c): copies the moat program, the shared
 * libraries it runs with (all but the C library's), its data files (libmagic's
 * database, Tesseract's language files), llama.cpp's llama-server with the
 * libraries it needs, and install.sh into <o->to>/moat/, adding each to files
 * and to self_json's "files" array. */
int models_bundle_self(const struct bundle_opts *o, struct models_progress *sp,
		       struct models_fileset *files, json_t *self_json, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Where a manifest at store path host/ns/model/tag goes in a bundle:
 * manifests/<store path>, with ':' written %3A (FAT32) and '%' as %25;
 * malloc'd, NULL when out of memory. */
char *models_bundle_manifest_rel(const char *store_rel) __attribute__((warn_unused_result));

/* The time now in UTC as 2026-01-31T12:00:00Z (bundle.json, golden.json). */
void models_iso_now(char out[32]);

/* The message an Ed25519 bundle signature covers (see docs/models.md), from
 * the hex SHA-256 of bundle.json and of SHA256SUMS; malloc'd, NULL when out of
 * memory. */
char *models_bundle_sig_message(const char *json_hex, const char *sums_hex)
	__attribute__((warn_unused_result));

/* ---- signatures (sign.c; the key files are keys/'s) ---- */

/* Signs msg with the PEM private key in key_path: *sig_b64 (malloc'd base64),
 * *pub_b64 (malloc'd) the raw public key in base64. */
int models_sign(const char *key_path, const void *msg, size_t len, char **sig_b64,
		char **pub_b64, struct moat_err *e) __attribute__((warn_unused_result));
/* Checks a base64 signature with the PEM public key in pub_path.  Returns 1
 * valid, 0 invalid, -1 error (unreadable key; e set). */
int models_verify_signature(const char *pub_path, const void *msg, size_t len,
			    const char *sig_b64, struct moat_err *e)
	__attribute__((warn_unused_result));
/* The key id of a raw base64 public key (first 16 hex of its SHA-256). */
void models_key_id(const char *pub_b64, char out[17]);
/* Key id of the public key in a PEM file. */
int models_key_id_file(const char *pub_path, char out[17], struct moat_err *e)
	__attribute__((warn_unused_result));

#endif
