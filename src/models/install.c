/*
 * install.c - `moat models install`: verifies a bundle, then puts its models
 * into a store so that Ollama never sees half a model: every blob goes to a
 * temporary name in blobs/, is fsynced and renamed (blobs already there with
 * the right digest are kept); manifests are written last, byte for byte,
 * each by an atomic rename.  Killed at any moment, or failing at any step,
 * the store shows only complete models, and a rerun finishes the job.  New
 * files get the store owner's uid/gid when run as root (the `ollama` service
 * user case); since that user may have planted symlinks, every directory of
 * the store is opened without following links (mstore_dir_open()), and what
 * is installed is exactly what verify read: bundle.json and the manifests
 * are not read again, blobs are hashed again as they are copied.
 *
 * Not for: checking the bundle (verify.c, called first) or making one
 * (bundle.c).
 */
#define _GNU_SOURCE
#include "models_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/pool.h"

#include "core/banned.h"

struct install_opts install_default_opts(void)
{
	return (struct install_opts){ .jobs = 1 };
}

struct iblob {
	const char *digest;
	uint64_t size;
	size_t n_files;
	char **src;            /* bundle files, in order */
	int copied, skipped;
};

struct ictx {
	const struct install_opts *o;
	struct iblob *blobs;
	size_t n_blobs;
	uid_t uid;
	gid_t gid;
	int rootfd, bfd;       /* the store and its blobs/, opened without following links */
	char *bdir;            /* <store>/blobs, for messages */
	struct models_progress sp;
};

/* 1 when the store already holds the blob, whole and right; 0 when it must
 * be copied; -1 when out of memory or when the store holds a symlink there. */
static int blob_present_ok(struct ictx *c, const char *digest, uint64_t size,
			   struct moat_err *e)
{
	const char *hex = models_digest_hex(digest);
	for (int old = 0; hex && old < 2; old++) {
		char name[MSTORE_BLOB_NAME], *p;
		struct stat st;
		struct sha256 h;
		unsigned char d[SHA256_LEN];
		char got_hex[SHA256_HEX];
		uint64_t got;
		struct moat_err he = MOAT_ERR_INIT;
		int fd, rc;
		mstore_blob_name(hex, old, name);
		if (fstatat(c->bfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			p = fs_join(c->bdir, name);
			if (!p)
				return err_set(e, MOAT_ENOMEM, "out of memory");
			mstore_refuse(c->bfd, name, p, ELOOP, e);
			free(p);
			return -1;
		}
		if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
			return 0;
		fd = openat(c->bfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return 0;
		if (sha256_init(&h) < 0) {
			close(fd);
			return err_set(e, MOAT_ENOMEM, "out of memory");
		}
		rc = models_hash_fd(fd, name, 0, UINT64_MAX, &h, NULL, NULL, &got, &he);
		close(fd);
		if (rc < 0) {
			sha256_release(&h);
			return he.code == MOAT_ENOMEM ? models_err_copy(e, &he) : 0;
		}
		sha256_final(&h, d);
		hex_encode(d, SHA256_LEN, got_hex);
		if (got != size || strcasecmp(got_hex, hex))
			return 0;
		models_progress_add(&c->sp, size);
		return 1;
	}
	return 0;
}

/* A pool job: one blob, copied from its bundle files unless the store has it. */
static int install_blob_job(void *arg, int worker, size_t i, struct moat_err *e)
{
	struct ictx *c = arg;
	struct iblob *b = &c->blobs[i];
	struct models_copy_src *src;
	struct sha256 h;
	unsigned char d[SHA256_LEN];
	char hex[SHA256_HEX];
	char *dst, *tmp = NULL;
	int rc = blob_present_ok(c, b->digest, b->size, e);
	(void)worker;
	if (rc != 0) {
		b->skipped = rc > 0;
		return rc < 0 ? -1 : 0;
	}
	dst = blob_path(c->o->models_dir, b->digest);
	src = calloc(b->n_files, sizeof(*src));
	if (!dst || !src || sha256_init(&h) < 0) {
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < b->n_files; k++) {
		src[k].path = b->src[k];
		src[k].off = 0;
		src[k].len = UINT64_MAX;
	}
	if (models_copy_to_tmp_at(src, b->n_files, c->bfd, dst, 0644, c->uid, c->gid, &h, NULL,
				  &c->sp, &tmp, e) < 0) {
		sha256_release(&h);
		rc = -1;
		goto out;
	}
	sha256_final(&h, d);
	hex_encode(d, SHA256_LEN, hex);
	if (strcasecmp(hex, models_digest_hex(b->digest)))
		rc = err_set(e, MOAT_ECORRUPT, "'%s' changed after it was verified: expected %s, "
			     "found sha256:%s", b->src[0], b->digest, hex);
	else
		rc = models_rename_at(c->bfd, tmp, c->bfd, dst, e);
	if (rc < 0)
		unlinkat(c->bfd, tmp, 0);
	else
		b->copied = 1;
out:
	free(tmp);
	free(dst);
	free(src);
	return rc;
}

/* Where each manifest goes (targets[i], manifests/... in the store,
 * malloc'd), before anything is written: an existing model keeps its casing,
 * one with other content is a conflict unless --force, and a symlink on the
 * way is refused. */
static int plan_targets(const struct install_opts *o, json_t *models, char **targets,
			json_t *already, struct moat_err *e)
{
	struct buf conflicts = BUF_INIT;
	int bad = 0;
	for (size_t i = 0; i < json_array_size(models); i++) {
		json_t *mj = json_array_get(models, i);
		const char *rel = json_string_value(json_object_get(mj, "store_path"));
		const char *id = json_string_value(json_object_get(mj, "id"));
		struct model_name n;
		struct moat_err fe = MOAT_ERR_INIT;
		char *existing;
		if (models_bundle_entry_check(mj, &n, e) < 0)
			goto fail;
		existing = mstore_find_manifest(o->models_dir, &n, &fe);
		if (!existing && fe.code != MOAT_ENOTFOUND && fe.code != MOAT_ENOMEM) {
			models_err_copy(e, &fe);
			goto fail;
		}
		if (existing) {
			struct buf cur = BUF_INIT;
			char hex[SHA256_HEX] = "";
			int fd = mstore_file_open(o->models_dir, existing, &fe);
			if (fd >= 0 && fs_read_fd(fd, existing, &cur, MANIFEST_MAX_BYTES, &fe) == 0)
				sha256_hex_mem(cur.data ? cur.data : "", cur.len, hex);
			buf_release(&cur);
			if (fe.code == MOAT_ENOMEM)
				bad = 1;
			else if (id && !strcmp(hex, id))
				models_jadd(already, json_incref(json_object_get(mj, "name")), &bad);
			else if (!o->force)
				buf_addf(&conflicts, "%s'%s'", conflicts.len ? ", " : "",
					 json_string_value(json_object_get(mj, "name")));
			targets[i] = existing;  /* keep the store's casing */
		} else if (fe.code == MOAT_ENOMEM ||
			   asprintf(&targets[i], "manifests/%s", rel) < 0) {
			targets[i] = NULL;
			bad = 1;
		}
		if (bad) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto fail;
		}
	}
	if (buf_failed(&conflicts)) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	if (conflicts.len) {
		err_set(e, MOAT_EEXISTS, "the store already holds a different %s; nothing "
			"installed (--force replaces)", buf_str(&conflicts));
		goto fail;
	}
	buf_release(&conflicts);
	return 0;
fail:
	buf_release(&conflicts);
	return -1;
}

/* The blobs of bundle.json with their bundle files, for the copying jobs. */
static int plan_blobs(struct ictx *c, json_t *blobs, uint64_t *total, struct moat_err *e)
{
	c->blobs = calloc(json_array_size(blobs) + 1, sizeof(*c->blobs));
	if (!c->blobs)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(blobs); i++) {
		json_t *b = json_array_get(blobs, i), *files = json_object_get(b, "files");
		struct iblob *ib = &c->blobs[c->n_blobs++];
		ib->digest = json_string_value(json_object_get(b, "digest"));
		ib->size = (uint64_t)json_integer_value(json_object_get(b, "size"));
		ib->src = calloc(json_array_size(files) + 1, sizeof(*ib->src));
		if (!ib->src)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		for (size_t k = 0; k < json_array_size(files); k++) {
			ib->src[k] = fs_join(c->o->dir, json_string_value(json_object_get(
				json_array_get(files, k), "path")));
			if (!ib->src[k])
				return err_set(e, MOAT_ENOMEM, "out of memory");
			ib->n_files++;
		}
		*total += ib->size;
	}
	return 0;
}

/* The manifests, last, byte for byte as verify read them, with their
 * original modification time; each name goes to installed as its model is
 * complete. */
static int write_manifests(struct ictx *c, json_t *models, char **targets,
			   const struct models_verified *kept, json_t *installed, struct moat_err *e)
{
	const struct install_opts *o = c->o;
	int bad = 0;
	for (size_t i = 0; i < json_array_size(models); i++) {
		json_t *mj = json_array_get(models, i);
		const struct buf *mb = i < kept->n ? &kept->manifest[i] : NULL;
		char *path = fs_join(o->models_dir, targets[i]);
		char *dir = strndup(targets[i], (size_t)(strrchr(targets[i], '/') - targets[i]));
		int rc = path && dir ? 0 : err_set(e, MOAT_ENOMEM, "out of memory"), dfd = -1;
		if (rc == 0 && (!mb || !mb->len))
			rc = err_set(e, MOAT_ECORRUPT, "the manifest of '%s' was not verified; "
				     "nothing more installed", json_string_value(json_object_get(
								       mj, "name")));
		if (rc == 0)
			rc = dfd = mstore_dir_open(o->models_dir, dir, 1, c->uid, c->gid, e);
		if (rc >= 0)
			rc = models_write_durable_at(c->rootfd, dfd, path, mb->data, mb->len, 0644,
						     c->uid, c->gid,
						     json_integer_value(json_object_get(mj, "modified")),
						     (long)json_integer_value(json_object_get(
							     mj, "modified_nsec")), e);
		if (dfd >= 0)
			close(dfd);
		free(path);
		free(dir);
		if (rc < 0)
			return -1;
		models_jadd(installed, json_incref(json_object_get(mj, "name")), &bad);
	}
	/* the models are in place; only the report of them failed */
	return bad ? err_set(e, MOAT_ENOMEM, "models installed, but out of memory reporting "
			     "it") : 0;
}

json_t *models_install(const struct install_opts *o, int *status, struct moat_err *e)
{
	struct verify_opts vo = verify_default_opts();
	struct models_verified kept = { NULL, NULL, 0 };
	struct ictx c;
	json_t *vres, *res = NULL, *models, *blobs;
	json_t *installed = json_array(), *already = json_array();
	char **targets = NULL;
	int lock = -1;
	size_t nm = 0;
	uint64_t total = 0;
	int copied = 0, skipped = 0, rc;

	memset(&c, 0, sizeof(c));
	c.o = o;
	c.rootfd = c.bfd = -1;
	*status = 0;
	if (!installed || !already) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out0;
	}
	vo.dir = o->dir;
	vo.trust_key = o->trust_key;
	vo.jobs = o->jobs;
	vo.progress = o->progress;
	vo.progress_arg = o->progress_arg;
	vres = models_verify_keep(&vo, status, &kept, e);
	if (!vres)
		goto out0;
	if (*status != VERIFY_OK) {
		err_set(e, *status == VERIFY_BADSIG ? MOAT_ESIGNATURE : MOAT_ECORRUPT,
			"the bundle '%s' did not verify; nothing installed", o->dir);
		res = json_pack("{s:[], s:o}", "installed", "verify", vres);
		if (!res) {
			*status = 0;
			err_set(e, MOAT_ENOMEM, "out of memory");
		}
		goto out0;
	}

	/* bundle.json and the manifests as verify read and checked them: the
	 * media is not read again for them */
	models = json_object_get(kept.index, "models");
	blobs = json_object_get(kept.index, "blobs");
	nm = json_array_size(models);
	targets = calloc(nm + 1, sizeof(*targets));
	c.bdir = fs_join(o->models_dir, "blobs");
	if (!targets || !c.bdir) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}

	if (fs_mkdirs_owned(o->models_dir, 0755, (uid_t)-1, (gid_t)-1, e) < 0 ||
	    mstore_owner(o->models_dir, &c.uid, &c.gid, e) < 0)
		goto out;
	lock = mstore_lock(o->models_dir, c.uid, c.gid, e);
	if (lock < 0 || plan_targets(o, models, targets, already, e) < 0 ||
	    plan_blobs(&c, blobs, &total, e) < 0)
		goto out;

	/* Blobs first. */
	c.rootfd = mstore_dir_open(o->models_dir, "", 0, (uid_t)-1, (gid_t)-1, e);
	if (c.rootfd < 0 ||
	    (c.bfd = mstore_dir_open(o->models_dir, "blobs", 1, c.uid, c.gid, e)) < 0)
		goto out;
	mstore_remove_stale_tmp(c.bfd);
	mstore_remove_stale_tmp(c.rootfd);
	models_progress_init(&c.sp, o->progress, o->progress_arg, total);
	rc = pool_for(o->jobs > 0 ? o->jobs : 1, c.n_blobs, install_blob_job, &c, e);
	models_progress_finish(&c.sp);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < c.n_blobs; i++) {
		copied += c.blobs[i].copied;
		skipped += c.blobs[i].skipped;
	}

	/* Manifests last. */
	if (write_manifests(&c, models, targets, &kept, installed, e) < 0)
		goto out;
	res = json_pack("{s:O, s:O, s:i, s:i, s:o}", "installed", installed, "already_installed",
			already, "copied_blobs", copied, "skipped_blobs", skipped, "verify", vres);
	vres = NULL;
	if (!res)
		err_set(e, MOAT_ENOMEM, "models installed, but out of memory reporting it");
out:
	json_decref(vres);
out0:
	if (lock >= 0)
		close(lock);
	if (c.rootfd >= 0)
		close(c.rootfd);
	if (c.bfd >= 0)
		close(c.bfd);
	free(c.bdir);
	for (size_t i = 0; i < nm && targets; i++)
		free(targets[i]);
	free(targets);
	for (size_t i = 0; i < c.n_blobs; i++) {
		for (size_t k = 0; k < c.blobs[i].n_files; k++)
			free(c.blobs[i].src[k]);
		free(c.blobs[i].src);
	}
	free(c.blobs);
	models_verified_release(&kept);
	json_decref(installed);
	json_decref(already);
	return res;
}
