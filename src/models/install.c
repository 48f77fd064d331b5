/*
 * install.c - `moat models install`: verifies a bundle, then puts its models
 * into a store so that Ollama never sees half a model: every blob goes to a
 * temporary name in blobs/, is fsynced and renamed (blobs already there with
 * the right digest are kept); manifests are written last, byte for byte,
 * each by an atomic rename.  Killed at any moment, the store shows only
 * complete models, and a rerun finishes the job.  New files get the store
 * owner's uid/gid when run as root (the `ollama` service user case).
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

#include "core/banned.h"

struct install_opts install_default_opts(void)
{
	struct install_opts o;
	memset(&o, 0, sizeof(o));
	o.jobs = 1;
	return o;
}

struct iblob {
	const char *digest;
	uint64_t size;
	size_t n_files;
	char **src;            /* bundle files, in order */
	int copied, skipped, failed;
	struct moat_err err;
};

struct ictx {
	const struct install_opts *o;
	struct iblob *blobs;
	size_t n_blobs;
	uid_t uid;
	gid_t gid;
	struct shared_progress sp;
	volatile int stop;
};

static int blob_present_ok(const char *models_dir, const char *digest, uint64_t size,
			   struct shared_progress *sp)
{
	int old;
	char *p = blob_find(models_dir, digest, &old);
	struct stat st;
	unsigned char d[SHA256_LEN];
	char hex[SHA256_HEX];
	uint64_t got;
	struct moat_err e = MOAT_ERR_INIT;
	int ok = 0;
	if (!p)
		return 0;
	if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size &&
	    sha256_file(p, d, &got, &e) == 0) {
		hex_encode(d, SHA256_LEN, hex);
		ok = !strcasecmp(hex, digest_hex(digest));
	}
	if (ok)
		sp_add(sp, size);
	free(p);
	return ok;
}

static void install_blob_job(void *arg, size_t i)
{
	struct ictx *c = arg;
	struct iblob *b = &c->blobs[i];
	struct copy_src *src;
	struct sha256 h;
	unsigned char d[SHA256_LEN];
	char hex[SHA256_HEX];
	char *dst, *tmp = NULL;
	if (c->stop)
		return;
	if (blob_present_ok(c->o->models_dir, b->digest, b->size, &c->sp)) {
		b->skipped = 1;
		return;
	}
	dst = blob_path(c->o->models_dir, b->digest);
	src = calloc(b->n_files, sizeof(*src));
	if (!dst || !src || sha256_init(&h) < 0) {
		err_set(&b->err, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t k = 0; k < b->n_files; k++) {
		src[k].path = b->src[k];
		src[k].off = 0;
		src[k].len = UINT64_MAX;
	}
	if (copy_to_tmp(src, b->n_files, dst, 0644, c->uid, c->gid, &h, NULL, &c->sp, &tmp,
			&b->err) < 0) {
		sha256_release(&h);
		goto fail;
	}
	sha256_final(&h, d);
	hex_encode(d, SHA256_LEN, hex);
	if (strcasecmp(hex, digest_hex(b->digest))) {
		err_set(&b->err, MOAT_ECORRUPT, "'%s' changed after it was verified: expected %s, "
			"found sha256:%s", b->src[0], b->digest, hex);
		unlink(tmp);
		goto fail;
	}
	if (rename_durable(tmp, dst, &b->err) < 0) {
		unlink(tmp);
		goto fail;
	}
	b->copied = 1;
	free(tmp);
	free(dst);
	free(src);
	return;
fail:
	b->failed = 1;
	c->stop = 1;
	free(tmp);
	free(dst);
	free(src);
}

/* Checks a store path from bundle.json: four valid name parts. */
static int store_rel_valid(const char *rel, struct model_name *n)
{
	char *s = strdup(rel), *parts[4], *full = NULL;
	int k = 0, ok = 0;
	if (!s)
		return 0;
	for (char *p = s, *q;; p = q + 1) {
		if (k == 4)
			goto out;
		parts[k++] = p;
		q = strchr(p, '/');
		if (!q)
			break;
		*q = '\0';
	}
	if (k != 4)
		goto out;
	full = str_printf("%s/%s/%s:%s", parts[0], parts[1], parts[2], parts[3]);
	ok = full && model_name_parse(full, n, NULL) == 0 && !strcmp(n->host, parts[0]) &&
	     !strcmp(n->ns, parts[1]) && !strcmp(n->model, parts[2]) && !strcmp(n->tag, parts[3]);
out:
	free(full);
	free(s);
	return ok;
}

json_t *models_install(const struct install_opts *o, int *status, struct moat_err *e)
{
	struct verify_opts vo = verify_default_opts();
	struct ictx c;
	struct buf raw = BUF_INIT;
	json_t *vres, *bj = NULL, *res = NULL, *models, *blobs, *installed, *already;
	char **targets = NULL, *bjpath = NULL;
	int lock = -1;
	size_t nm = 0;
	uint64_t total = 0;
	int copied = 0, skipped = 0;

	memset(&c, 0, sizeof(c));
	c.o = o;
	*status = 0;
	vo.dir = o->dir;
	vo.trust_key = o->trust_key;
	vo.jobs = o->jobs;
	vo.progress = o->progress;
	vo.progress_arg = o->progress_arg;
	vres = models_verify(&vo, status, e);
	if (!vres)
		return NULL;
	if (*status != VERIFY_OK) {
		err_set(e, *status == VERIFY_BADSIG ? MOAT_ESIGNATURE : MOAT_ECORRUPT,
			"the bundle '%s' did not verify; nothing installed", o->dir);
		return json_pack("{s:[], s:o}", "installed", "verify", vres);
	}

	bjpath = fs_join(o->dir, BUNDLE_JSON);
	if (!bjpath || fs_read_file(bjpath, &raw, 64u << 20, e) < 0)
		goto out;
	bj = json_loadb(raw.data ? raw.data : "", raw.len, 0, NULL);
	models = json_object_get(bj, "models");
	blobs = json_object_get(bj, "blobs");
	nm = json_array_size(models);
	targets = calloc(nm + 1, sizeof(*targets));
	c.blobs = calloc(json_array_size(blobs) + 1, sizeof(*c.blobs));
	if (!targets || !c.blobs) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}

	if (fs_mkdirs_owned(o->models_dir, 0755, (uid_t)-1, (gid_t)-1, e) < 0)
		goto out;
	store_owner(o->models_dir, &c.uid, &c.gid);
	lock = store_lock(o->models_dir, e);
	if (lock < 0)
		goto out;

	/* Where each manifest goes, and conflicts, before anything is written. */
	installed = json_array();
	already = json_array();
	{
		struct buf conflicts = BUF_INIT;
		for (size_t i = 0; i < nm; i++) {
			json_t *mj = json_array_get(models, i);
			const char *rel = json_string_value(json_object_get(mj, "store_path"));
			const char *id = json_string_value(json_object_get(mj, "id"));
			struct model_name n;
			char *existing;
			struct moat_err fe = MOAT_ERR_INIT;
			if (!rel || !store_rel_valid(rel, &n)) {
				err_set(e, MOAT_ECORRUPT, "bundle.json names an invalid store path '%s'",
					rel ? rel : "");
				buf_release(&conflicts);
				json_decref(installed);
				json_decref(already);
				goto out;
			}
			existing = store_find_manifest(o->models_dir, &n, &fe);
			if (existing) {
				struct buf cur = BUF_INIT;
				char hex[SHA256_HEX] = "";
				if (fs_read_file(existing, &cur, MANIFEST_MAX_BYTES, &fe) == 0)
					sha256_hex_mem(cur.data ? cur.data : "", cur.len, hex);
				buf_release(&cur);
				if (id && !strcmp(hex, id)) {
					json_array_append(already, json_object_get(mj, "name"));
				} else if (!o->force) {
					buf_addf(&conflicts, "%s'%s'", conflicts.len ? ", " : "",
						 json_string_value(json_object_get(mj, "name")));
				}
				targets[i] = existing;  /* keep the store's casing */
			} else {
				targets[i] = str_printf("%s/manifests/%s", o->models_dir, rel);
			}
		}
		if (conflicts.len) {
			err_set(e, MOAT_EEXISTS, "the store already holds a different %s; nothing "
				"installed (--force replaces)", buf_str(&conflicts));
			buf_release(&conflicts);
			json_decref(installed);
			json_decref(already);
			goto out;
		}
		buf_release(&conflicts);
	}

	/* Blobs first. */
	{
		char *bd = fs_join(o->models_dir, "blobs");
		if (!bd || fs_mkdirs_owned(bd, 0755, c.uid, c.gid, e) < 0) {
			free(bd);
			json_decref(installed);
			json_decref(already);
			goto out;
		}
		remove_stale_tmp(bd);
		remove_stale_tmp(o->models_dir);
		free(bd);
	}
	for (size_t i = 0; i < json_array_size(blobs); i++) {
		json_t *b = json_array_get(blobs, i), *files = json_object_get(b, "files");
		struct iblob *ib = &c.blobs[c.n_blobs];
		ib->digest = json_string_value(json_object_get(b, "digest"));
		ib->size = (uint64_t)json_integer_value(json_object_get(b, "size"));
		ib->n_files = json_array_size(files);
		ib->src = calloc(ib->n_files + 1, sizeof(*ib->src));
		if (!ib->src)
			continue;
		for (size_t k = 0; k < ib->n_files; k++)
			ib->src[k] = fs_join(o->dir, json_string_value(json_object_get(
				json_array_get(files, k), "path")));
		total += ib->size;
		c.n_blobs++;
	}
	sp_init(&c.sp, o->progress, o->progress_arg, total);
	pool_run(o->jobs > 0 ? o->jobs : 1, c.n_blobs, install_blob_job, &c);
	sp_finish(&c.sp);
	for (size_t i = 0; i < c.n_blobs; i++) {
		if (c.blobs[i].failed) {
			*e = c.blobs[i].err;
			json_decref(installed);
			json_decref(already);
			goto out;
		}
		copied += c.blobs[i].copied;
		skipped += c.blobs[i].skipped;
	}

	/* Manifests last, byte for byte, with their original modification time. */
	for (size_t i = 0; i < nm; i++) {
		json_t *mj = json_array_get(models, i);
		const char *rel = json_string_value(json_object_get(mj, "manifest"));
		struct buf mb = BUF_INIT;
		char *src = fs_join(o->dir, rel), *dir = fs_dirname(targets[i]);
		int rc = src && dir ? 0 : -1;
		if (rc == 0)
			rc = fs_read_file(src, &mb, MANIFEST_MAX_BYTES, e);
		if (rc == 0)
			rc = fs_mkdirs_owned(dir, 0755, c.uid, c.gid, e);
		if (rc == 0)
			rc = write_file_durable(o->models_dir, targets[i], mb.data ? mb.data : "",
						mb.len, 0644, c.uid, c.gid,
						json_integer_value(json_object_get(mj, "modified")),
						(long)json_integer_value(json_object_get(
							mj, "modified_nsec")), e);
		buf_release(&mb);
		free(src);
		free(dir);
		if (rc < 0) {
			json_decref(installed);
			json_decref(already);
			goto out;
		}
		json_array_append(installed, json_object_get(mj, "name"));
	}
	res = json_pack("{s:o, s:o, s:i, s:i, s:o}", "installed", installed, "already_installed",
			already, "copied_blobs", copied, "skipped_blobs", skipped, "verify", vres);
	vres = NULL;
out:
	if (lock >= 0)
		close(lock);
	for (size_t i = 0; i < nm && targets; i++)
		free(targets[i]);
	free(targets);
	for (size_t i = 0; i < c.n_blobs; i++) {
		for (size_t k = 0; k < c.blobs[i].n_files; k++)
			free(c.blobs[i].src[k]);
		free(c.blobs[i].src);
	}
	free(c.blobs);
	free(bjpath);
	buf_release(&raw);
	json_decref(bj);
	json_decref(vres);
	return res;
}
