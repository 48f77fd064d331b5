/*
 * bundle.c - `moat models bundle`: copies the closure of some models (their
 * manifests, byte for byte, and every blob they reference, once) into a
 * directory for removable media, hashing while it copies, and writes
 * bundle.json (what is inside), SHA256SUMS (coreutils format) and, with a key,
 * bundle.sig (Ed25519 over both).  Large blobs can be cut into parts for FAT32.
 * An interrupted run resumes: what is already there is re-hashed and kept
 * when it is right.
 *
 * Layout of a bundle:
 *   .moat-bundle               marker: this directory is moat's
 *   bundle.json  SHA256SUMS  bundle.sig
 *   manifests/<host>/<ns>/<model>/<tag>     (':' in a host written %3A)
 *   blobs/sha256-<hex>  or  blobs/sha256-<hex>.part-0001 ...
 *   moat/                      with --include-self (bundle_self.c): bin/, lib/,
 *                              share/, install.sh
 *
 * Not for: checking a bundle (verify.c) or what --include-self carries
 * (bundle_self.c).
 */
#define _GNU_SOURCE
#include "models_int.h"
#include "gguf.h"
#include "golden.h"
#include "version.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/pool.h"

#include "core/banned.h"

struct bundle_opts bundle_default_opts(void)
{
	return (struct bundle_opts){ .jobs = 1 };
}

struct bmodel {
	char *display;
	char *store_rel;      /* host/ns/model/tag as on disk */
	char *bundle_rel;     /* manifests/... inside the bundle */
	struct buf raw;
	struct manifest m;
	struct timespec mtime;
};

struct bblob {
	char digest[72];
	char hex[65];
	uint64_t size;
	const char *media_type;
	char *src;
	size_t nparts;
	char **part_rel;
	uint64_t *part_size;
	char (*part_hex)[65];
	int reused;
	struct bctx *c;       /* for the pool's jobs */
};

struct bctx {
	const struct bundle_opts *o;
	struct bmodel *models;
	size_t n_models;
	struct bblob *blobs;
	size_t n_blobs;
	struct models_progress sp;
	struct pool *pool;    /* the copies: the first failure cancels the rest */
};

/* ---- the plan ---- */

char *models_bundle_manifest_rel(const char *store_rel)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, "manifests/");
	for (const char *p = store_rel; *p; p++) {
		if (*p == ':')
			buf_adds(&b, "%3A");
		else if (*p == '%')
			buf_adds(&b, "%25");
		else
			buf_addch(&b, *p);
	}
	return buf_detach(&b, NULL);
}

static int add_model(struct bctx *c, const char *name, struct moat_err *e)
{
	const char *dir = c->o->models_dir;
	struct model_name n;
	struct bmodel *bm;
	char *path;
	const char *mroot;
	if (model_name_parse(name, &n, e) < 0)
		return -1;
	path = mstore_find_manifest(dir, &n, e);  /* manifests/<store path> */
	if (!path)
		return -1;
	mroot = path + strlen("manifests/");
	for (size_t i = 0; i < c->n_models; i++)
		if (!strcmp(c->models[i].store_rel, mroot)) {
			free(path);
			return 0;  /* named twice */
		}
	bm = &c->models[c->n_models];
	memset(bm, 0, sizeof(*bm));
	if (mstore_read_manifest(dir, path, &bm->m, &bm->raw, &bm->mtime, e) < 0) {
		free(path);
		buf_release(&bm->raw);
		return -1;
	}
	bm->store_rel = strdup(mroot);
	free(path);
	if (bm->store_rel) {
		/* the display name with the on-disk casing */
		struct model_name on_disk;
		if (model_name_from_relpath(bm->store_rel, &on_disk, NULL) == 0)
			bm->display = model_name_display(&on_disk);
		bm->bundle_rel = models_bundle_manifest_rel(bm->store_rel);
	}
	if (!bm->display || !bm->bundle_rel) {
		manifest_release(&bm->m);
		buf_release(&bm->raw);
		free(bm->display);
		free(bm->store_rel);
		free(bm->bundle_rel);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	c->n_models++;
	return 0;
}

static int add_blob(struct bctx *c, const struct model_layer *l, const char *model,
		    struct moat_err *e)
{
	const struct bundle_opts *o = c->o;
	struct bblob *b;
	struct stat st;
	for (size_t i = 0; i < c->n_blobs; i++)
		if (!strcasecmp(c->blobs[i].digest, l->digest))
			return 0;
	b = &c->blobs[c->n_blobs];
	memset(b, 0, sizeof(*b));
	memcpy(b->digest, l->digest, sizeof(b->digest));
	for (int i = 0; i < 64; i++)
		b->hex[i] = (char)(l->digest[7 + i] | 0x20 * (l->digest[7 + i] >= 'A' &&
							       l->digest[7 + i] <= 'F'));
	b->hex[64] = '\0';
	b->size = l->size;
	b->media_type = l->media_type;
	switch (mstore_blob_find(o->models_dir, l->digest, &b->src, NULL, e)) {
	case -1:
		return -1;
	case 0:
		return err_set(e, MOAT_ENOTFOUND, "the %s blob %s of '%s' is missing from the "
			       "store '%s'", models_media_short(l->media_type), l->digest, model,
			       o->models_dir);
	}
	if (stat(b->src, &st) < 0 || (uint64_t)st.st_size != l->size) {
		err_set(e, MOAT_ECORRUPT, "the %s blob '%s' of '%s' is %llu bytes, its manifest "
			"says %llu", models_media_short(l->media_type), b->src, model,
			(unsigned long long)st.st_size, (unsigned long long)l->size);
		free(b->src);
		return -1;
	}
	b->nparts = o->split_size && l->size > o->split_size ?
		    (size_t)((l->size + o->split_size - 1) / o->split_size) : 1;
	b->part_rel = calloc(b->nparts, sizeof(*b->part_rel));
	b->part_size = calloc(b->nparts, sizeof(*b->part_size));
	b->part_hex = calloc(b->nparts, sizeof(*b->part_hex));
	if (!b->part_rel || !b->part_size || !b->part_hex)
		goto nomem;
	for (size_t k = 0; k < b->nparts; k++) {
		int rc;
		if (b->nparts == 1) {
			rc = asprintf(&b->part_rel[k], "blobs/sha256-%s", b->hex);
			b->part_size[k] = l->size;
		} else {
			uint64_t off = (uint64_t)k * o->split_size;
			rc = asprintf(&b->part_rel[k], "blobs/sha256-%s.part-%04zu", b->hex, k + 1);
			b->part_size[k] = l->size - off < o->split_size ? l->size - off : o->split_size;
		}
		if (rc < 0) {
			b->part_rel[k] = NULL;
			goto nomem;
		}
	}
	b->c = c;
	c->n_blobs++;
	return 0;
nomem:
	for (size_t k = 0; b->part_rel && k < b->nparts; k++)
		free(b->part_rel[k]);
	free(b->part_rel);
	free(b->part_size);
	free(b->part_hex);
	free(b->src);
	return err_set(e, MOAT_ENOMEM, "out of memory");
}

/* ---- copying the blobs ---- */

static int hash_existing(const char *path, uint64_t size, struct sha256 *whole, char hex[65],
			 struct models_progress *sp)
{
	struct stat st;
	struct sha256 h;
	unsigned char d[SHA256_LEN];
	uint64_t got;
	int fd, rc;
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (sha256_init(&h) < 0) {
		close(fd);
		return -1;
	}
	rc = models_hash_fd(fd, path, 0, size, &h, whole, sp, &got, NULL);  /* any error: copy it again */
	close(fd);
	sha256_final(&h, d);
	if (rc < 0 || got != size)
		return -1;
	hex_encode(d, SHA256_LEN, hex);
	return 0;
}

/* Copies one blob (each of its parts) from the store into the bundle, hashing
 * on the way; parts already there are re-hashed and kept when the whole
 * digest comes out right (allow_reuse).  Stops between parts once the pool
 * is cancelled. */
static int copy_blob(struct bctx *c, struct bblob *b, int allow_reuse, struct moat_err *e)
{
	const char *to = c->o->to;
	struct sha256 whole;
	unsigned char d[SHA256_LEN];
	char got[SHA256_HEX];
	int reused = 0, rc = 0;
	if (sha256_init(&whole) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	for (size_t k = 0; k < b->nparts && rc == 0; k++) {
		char *dst = fs_join(to, b->part_rel[k]);
		char *tmp = NULL;
		struct models_copy_src src = {
			b->src, (uint64_t)k * (b->nparts > 1 ? c->o->split_size : 0), b->part_size[k]
		};
		if (!dst) {
			rc = err_set(e, MOAT_ENOMEM, "out of memory");
			break;
		}
		if (pool_cancelled(c->pool)) {
			free(dst);
			rc = err_set(e, MOAT_EINTERRUPTED, "stopped");
			break;
		}
		if (allow_reuse && b->nparts == 1) {
			/* whole blob already there: its name is its digest */
			if (hash_existing(dst, b->size, NULL, b->part_hex[k], &c->sp) == 0 &&
			    !strcmp(b->part_hex[k], b->hex)) {
				b->reused++;
				free(dst);
				sha256_release(&whole);
				return 0;
			}
		} else if (allow_reuse &&
			   hash_existing(dst, b->part_size[k], &whole, b->part_hex[k], &c->sp) == 0) {
			reused++;
			free(dst);
			continue;
		}
		rc = models_copy_to_tmp(&src, 1, dst, 0644, (uid_t)-1, (gid_t)-1, &whole,
					b->nparts > 1 ? b->part_hex[k] : NULL, &c->sp, &tmp, e);
		if (rc < 0 && b->nparts == 1) {
			sha256_release(&whole);
		} else if (b->nparts == 1) {
			/* check the digest before the file gets its final name */
			sha256_final(&whole, d);
			hex_encode(d, SHA256_LEN, got);
			if (strcmp(got, b->hex))
				rc = err_set(e, MOAT_ECORRUPT, "the blob '%s' in the store is corrupt: "
					     "expected sha256:%s, found sha256:%s", b->src, b->hex,
					     got);
			else
				memcpy(b->part_hex[k], got, SHA256_HEX);
		}
		if (rc == 0)
			rc = models_rename_durable(tmp, dst, e);
		if (rc < 0 && tmp)
			unlink(tmp);
		free(tmp);
		free(dst);
		if (b->nparts == 1)
			return rc;  /* whole already final */
	}
	if (rc < 0) {
		sha256_release(&whole);
		return -1;
	}
	sha256_final(&whole, d);
	hex_encode(d, SHA256_LEN, got);
	if (strcmp(got, b->hex)) {
		if (reused) {
			/* an old part was wrong: start this blob again from the store */
			for (size_t k = 0; k < b->nparts; k++) {
				char *dst = fs_join(to, b->part_rel[k]);
				if (dst)
					unlink(dst);
				free(dst);
			}
			return copy_blob(c, b, 0, e);
		}
		return err_set(e, MOAT_ECORRUPT, "the blob '%s' in the store is corrupt: "
			       "expected sha256:%s, found sha256:%s", b->src, b->hex, got);
	}
	b->reused += reused;
	return 0;
}

/* A pool job: one blob. */
static int blob_job(void *arg, int worker, struct moat_err *e)
{
	struct bblob *b = arg;
	(void)worker;
	return copy_blob(b->c, b, 1, e);
}

/* Copies every blob on up to jobs threads; the first failure cancels the
 * copies that have not started and stops the others between parts. */
static int copy_blobs(struct bctx *c, int jobs, struct moat_err *e)
{
	struct moat_err se = MOAT_ERR_INIT;
	int rc = 0, workers = jobs < 1 ? 1 : jobs;
	if ((size_t)workers > c->n_blobs)
		workers = (int)c->n_blobs;
	c->pool = pool_new(workers, 0, e);
	if (!c->pool)
		return -1;
	for (size_t i = 0; i < c->n_blobs && rc == 0; i++)
		if (pool_submit(c->pool, blob_job, &c->blobs[i], &se) < 0) {
			rc = -1;
			pool_cancel(c->pool);
		}
	if (pool_wait(c->pool, e) < 0)
		rc = -1;  /* a job's error: it wins over a refused submit */
	else if (rc < 0)
		models_err_copy(e, &se);
	pool_free(c->pool);
	c->pool = NULL;
	return rc;
}

/* ---- files of the bundle ---- */

/* Removes files under to/sub that the plan does not name; returns 1 when the
 * directory ends up empty (and removes it). */
static int remove_strays(const char *to, const char *sub, const struct models_fileset *plan)
{
	char *dir = fs_join(to, sub);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	int left = 0;
	while (d && (de = readdir(d))) {
		struct stat st;
		char *rel, *p;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (asprintf(&rel, "%s/%s", sub, de->d_name) < 0)
			rel = NULL;
		p = rel ? fs_join(to, rel) : NULL;
		if (p && lstat(p, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				if (!remove_strays(to, rel, plan))
					left++;
			} else if (!models_fileset_has(plan, rel)) {
				if (unlink(p) < 0)
					left++;
			} else {
				left++;
			}
		}
		free(rel);
		free(p);
	}
	if (d)
		closedir(d);
	if (dir && !left && rmdir(dir) == 0) {
		free(dir);
		return 1;
	}
	free(dir);
	return 0;
}

/* ---- bundle.json, SHA256SUMS, bundle.sig ---- */

static json_t *layer_json(const struct model_layer *l)
{
	return json_pack("{s:s, s:s, s:I, s:o*}", "mediaType", l->media_type, "digest", l->digest,
			 "size", (json_int_t)l->size, "from",
			 l->from ? json_string(l->from) : NULL);
}

/* The text of a license layer, read into bundle.json; a license that cannot
 * be read is left out, running out of memory is an error. */
static int add_license(struct bctx *c, const struct model_layer *l, json_t *licenses, int *bad,
		       struct moat_err *e)
{
	struct buf t = BUF_INIT;
	struct moat_err le = MOAT_ERR_INIT;
	char *p;
	int found = mstore_blob_find(c->o->models_dir, l->digest, &p, NULL, e);
	if (found < 0)
		return -1;
	if (found && fs_read_file(p, &t, 4u << 20, &le) == 0)
		models_jadd(licenses, json_stringn_nocheck(t.data ? t.data : "", t.len), bad);
	else if (le.code == MOAT_ENOMEM)
		*bad = 1;
	buf_release(&t);
	free(p);
	return 0;
}

/* The GGUF facts of the model layer, or null when it does not read as GGUF. */
static json_t *model_gguf(struct bctx *c, const struct model_layer *ml, int *bad,
			  struct moat_err *e)
{
	struct gguf_info g;
	struct moat_err ge = MOAT_ERR_INIT;
	json_t *j;
	char *p;
	int found = ml ? mstore_blob_find(c->o->models_dir, ml->digest, &p, NULL, e) : 0;
	if (found < 0) {
		*bad = 1;
		return NULL;
	}
	if (!found)
		return json_null();
	if (gguf_open(p, &g, &ge) < 0) {
		free(p);
		if (ge.code == MOAT_ENOMEM)
			*bad = 1;
		return json_null();
	}
	free(p);
	j = gguf_info_json(&g);
	gguf_info_release(&g);
	return j;
}

/* A model's entry in bundle.json; NULL with e set when out of memory. */
static json_t *model_json(struct bctx *c, struct bmodel *bm, struct moat_err *e)
{
	json_t *j = json_object(), *layers = json_array(), *licenses = json_array();
	int bad = !j || !layers || !licenses;
	models_jset(j, "name", json_string(bm->display), &bad);
	models_jset(j, "store_path", json_string(bm->store_rel), &bad);
	models_jset(j, "manifest", json_string(bm->bundle_rel), &bad);
	models_jset(j, "id", json_string(bm->m.id), &bad);
	models_jset(j, "size", json_integer((json_int_t)manifest_size(&bm->m)), &bad);
	models_jset(j, "modified", json_integer((json_int_t)bm->mtime.tv_sec), &bad);
	models_jset(j, "modified_nsec", json_integer((json_int_t)bm->mtime.tv_nsec), &bad);
	models_jset(j, "config", layer_json(&bm->m.config), &bad);
	for (size_t i = 0; i < bm->m.n_layers && !bad; i++) {
		const struct model_layer *l = &bm->m.layers[i];
		models_jadd(layers, layer_json(l), &bad);
		if (!strcmp(l->media_type, MT_MEDIA_LICENSE) &&
		    add_license(c, l, licenses, &bad, e) < 0)
			bad = 1;
	}
	models_jset(j, "layers", layers, &bad);
	models_jset(j, "licenses", licenses, &bad);
	if (!bad)
		models_jset(j, "gguf", model_gguf(c, manifest_model_layer(&bm->m), &bad, e), &bad);
	if (bad) {
		json_decref(j);
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	return j;
}

void models_iso_now(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int cmp_rel(const void *a, const void *b)
{
	return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

/* The message an Ed25519 bundle signature covers (see docs/models.md). */
char *models_bundle_sig_message(const char *json_hex, const char *sums_hex)
{
	char *msg;
	if (asprintf(&msg, "moat-bundle-signature-v1\n%s  " BUNDLE_JSON "\n%s  " BUNDLE_SUMS "\n",
		     json_hex, sums_hex) < 0)
		return NULL;
	return msg;
}

static int write_sums(const char *to, struct models_fileset *files, char sums_hex[SHA256_HEX],
		      struct moat_err *e)
{
	struct buf b = BUF_INIT;
	char ***order = calloc(files->n + 1, sizeof(*order));
	char *p;
	int rc;
	if (!order)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	for (size_t i = 0; i < files->n; i++)
		order[i] = &files->rel[i];
	qsort(order, files->n, sizeof(*order), cmp_rel);
	for (size_t i = 0; i < files->n; i++) {
		size_t idx = (size_t)(order[i] - files->rel);
		buf_addf(&b, "%s  %s\n", files->hex[idx], files->rel[idx]);
	}
	free(order);
	if (buf_failed(&b)) {
		buf_release(&b);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	sha256_hex_mem(b.data ? b.data : "", b.len, sums_hex);
	p = fs_join(to, BUNDLE_SUMS);
	rc = p ? fs_write_atomic(p, b.data ? b.data : "", b.len, 0644, e)
	       : err_set(e, MOAT_ENOMEM, "out of memory");
	free(p);
	buf_release(&b);
	return rc;
}

static int write_sig(const char *to, const char *key, const char *json_hex, const char *sums_hex,
		     struct moat_err *e)
{
	char *msg = models_bundle_sig_message(json_hex, sums_hex);
	char *sig = NULL, *pub = NULL, *text = NULL, *p = NULL;
	char kid[17];
	json_t *j = NULL;
	int rc = -1;
	if (!msg)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (models_sign(key, msg, strlen(msg), &sig, &pub, e) < 0)
		goto out;
	models_key_id(pub, kid);
	j = json_pack("{s:s, s:s, s:s, s:s, s:[s,s], s:s}", "algorithm", "ed25519", "key_id", kid,
		      "public_key", pub, "message", "moat-bundle-signature-v1", "signed",
		      BUNDLE_JSON, BUNDLE_SUMS, "signature", sig);
	text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	p = fs_join(to, BUNDLE_SIG);
	if (!text || !p) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	{
		size_t n = strlen(text);
		text[n] = '\n';  /* json_dumps leaves room: replace the NUL, write n+1 */
		rc = fs_write_atomic(p, text, n + 1, 0644, e);
		text[n] = '\0';
	}
out:
	free(msg);
	free(sig);
	free(pub);
	free(text);
	free(p);
	json_decref(j);
	return rc;
}

/* ---- the whole run ---- */

/* The marker says "this directory is moat's": it is created in place (its
 * presence is all that counts), so a kill cannot leave a directory that holds
 * only a temporary file and no marker. */
static int write_marker(const char *to, struct moat_err *e)
{
	static const char text[] = "moat bundle directory (see bundle.json)\n";
	char *mark = fs_join(to, BUNDLE_MARK);
	int fd;
	if (!mark)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (fs_exists(mark)) {
		free(mark);
		return 0;
	}
	fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || fs_write_all(fd, text, sizeof(text) - 1) < 0 || fsync(fd) < 0) {
		err_set(e, MOAT_EIO, "cannot write '%s': %s", mark, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(mark);
		return -1;
	}
	close(fd);
	free(mark);
	return fs_sync_dir(to, e);
}

/* Removes the index files (an old index must not outlive this run: they are
 * written last) and temporary files an interrupted run left at the top. */
static void remove_index_files(const char *to)
{
	static const char *names[] = { BUNDLE_SIG, BUNDLE_SUMS, BUNDLE_JSON, GOLDEN_FILE };
	DIR *d;
	struct dirent *de;
	for (size_t i = 0; i < 4; i++) {
		char *p = fs_join(to, names[i]);
		if (p)
			unlink(p);
		free(p);
	}
	d = opendir(to);
	while (d && (de = readdir(d))) {
		int tmp = 0;
		for (size_t i = 0; i < 4; i++)
			if (!strncmp(de->d_name, names[i], strlen(names[i])) &&
			    !strncmp(de->d_name + strlen(names[i]), ".tmp-", 5))
				tmp = 1;
		if (!strncmp(de->d_name, BUNDLE_MARK ".tmp-", strlen(BUNDLE_MARK) + 5))
			tmp = 1;
		if (tmp) {
			char *p = fs_join(to, de->d_name);
			if (p)
				unlink(p);
			free(p);
		}
	}
	if (d)
		closedir(d);
	fs_sync_dir(to, NULL);
}

static int check_target(const char *to, struct moat_err *e)
{
	DIR *d = opendir(to);
	struct dirent *de;
	int nonempty = 0, ours = 0;
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return err_set(e, MOAT_EIO, "cannot open '%s': %s", to, strerror(errno));
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		nonempty = 1;
		/* the marker, or its temporary file when a run was killed creating it */
		if (!strncmp(de->d_name, BUNDLE_MARK, strlen(BUNDLE_MARK)))
			ours = 1;
	}
	closedir(d);
	if (nonempty && !ours) {
		/* a bundle whose marker was lost: its bundle.json says so */
		char *bj = fs_join(to, BUNDLE_JSON);
		struct buf b = BUF_INIT;
		struct moat_err re = MOAT_ERR_INIT;
		json_error_t je;
		int oom = !bj;
		if (bj && fs_read_file(bj, &b, 64u << 20, &re) == 0) {
			json_t *j = json_loadb(b.data ? b.data : "", b.len, 0, &je);
			const char *f = json_string_value(json_object_get(j, "format"));
			ours = f && !strcmp(f, BUNDLE_FORMAT);
			oom = !j && models_json_oom(&je);
			json_decref(j);
		}
		buf_release(&b);
		free(bj);
		if (oom || re.code == MOAT_ENOMEM)
			return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	if (nonempty && !ours)
		return err_set(e, MOAT_EEXISTS, "'%s' is not empty and is not a moat bundle; "
			       "choose an empty or new directory", to);
	return 0;
}

/* Removes what an earlier run left that this plan does not name. */
static int sweep(struct bctx *c, struct moat_err *e)
{
	const struct bundle_opts *o = c->o;
	struct models_fileset plan = { NULL, NULL, 0, 0 };
	int rc = 0;
	for (size_t i = 0; i < c->n_blobs && rc == 0; i++)
		for (size_t k = 0; k < c->blobs[i].nparts && rc == 0; k++)
			rc = models_fileset_add(&plan, c->blobs[i].part_rel[k], NULL);
	for (size_t i = 0; i < c->n_models && rc == 0; i++)
		rc = models_fileset_add(&plan, c->models[i].bundle_rel, NULL);
	if (rc == 0) {
		remove_strays(o->to, "blobs", &plan);
		remove_strays(o->to, "manifests", &plan);
		if (!o->include_self)
			remove_strays(o->to, "moat", &plan);
	}
	models_fileset_release(&plan);
	return rc < 0 ? err_set(e, MOAT_ENOMEM, "out of memory") : 0;
}

/* Copies the manifests, byte for byte, adding each to files. */
static int copy_manifests(struct bctx *c, struct models_fileset *files, struct moat_err *e)
{
	for (size_t i = 0; i < c->n_models; i++) {
		struct bmodel *bm = &c->models[i];
		char *dst = fs_join(c->o->to, bm->bundle_rel);
		char *dir = dst ? fs_dirname(dst) : NULL;
		char hex[SHA256_HEX];
		int rc = dir ? 0 : err_set(e, MOAT_ENOMEM, "out of memory");
		if (rc == 0)
			rc = fs_mkdirs(dir, 0755, e);
		if (rc == 0)
			rc = fs_write_atomic(dst, bm->raw.data ? bm->raw.data : "", bm->raw.len, 0644,
					     e);
		free(dir);
		free(dst);
		if (rc < 0)
			return -1;
		sha256_hex_mem(bm->raw.data ? bm->raw.data : "", bm->raw.len, hex);
		if (models_fileset_add(files, bm->bundle_rel, hex) < 0)
			return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	return 0;
}

/* golden.json: the known-good answers (golden.h), written and added to files
 * so that SHA256SUMS and the signature cover them. */
static int write_golden(const char *to, json_t *golden, struct models_fileset *files,
			struct moat_err *e)
{
	char *text = json_dumps(golden, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	char *p = fs_join(to, GOLDEN_FILE);
	char hex[SHA256_HEX];
	int rc;
	if (!text || !p) {
		free(text);
		free(p);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	{
		size_t n = strlen(text);
		text[n] = '\n';  /* json_dumps leaves room: replace the NUL, write n+1 */
		rc = fs_write_atomic(p, text, n + 1, 0644, e);
		sha256_hex_mem(text, n + 1, hex);
	}
	free(text);
	free(p);
	if (rc == 0 && models_fileset_add(files, GOLDEN_FILE, hex) < 0)
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
	return rc;
}

/* bundle.json: what is inside, written and added to files with its digest in
 * json_hex.  self_json is taken.  NULL with e set on failure. */
static json_t *write_index(struct bctx *c, uint64_t total, json_t *self_json,
			   struct models_fileset *files, char json_hex[SHA256_HEX],
			   struct moat_err *e)
{
	const struct bundle_opts *o = c->o;
	char created[32];
	json_t *models = json_array(), *blobs = json_array(), *bj = NULL;
	char *text = NULL, *p = NULL, *abs_store = realpath(o->models_dir, NULL);
	int bad = !models || !blobs;
	size_t n;
	models_iso_now(created);
	for (size_t i = 0; i < c->n_models && !bad; i++) {
		json_t *mj = model_json(c, &c->models[i], e);
		if (!mj)
			goto fail;
		models_jadd(models, mj, &bad);
	}
	for (size_t i = 0; i < c->n_blobs && !bad; i++) {
		struct bblob *b = &c->blobs[i];
		json_t *fl = json_array();
		bad = !fl;
		for (size_t k = 0; k < b->nparts; k++)
			models_jadd(fl, json_pack("{s:s, s:I, s:s}", "path", b->part_rel[k], "size",
						  (json_int_t)b->part_size[k], "sha256",
						  b->part_hex[k]), &bad);
		models_jadd(blobs, json_pack("{s:s, s:I, s:s, s:o}", "digest", b->digest, "size",
					     (json_int_t)b->size, "mediaType", b->media_type,
					     "files", fl), &bad);
	}
	if (bad)
		goto nomem;
	bj = json_pack("{s:s, s:i, s:s, s:s, s:s, s:I, s:I, s:O, s:O, s:O, s:o}",
		       "format", BUNDLE_FORMAT, "format_version", BUNDLE_FORMAT_VERSION,
		       "moat_version", MOAT_VERSION, "created", created,
		       "source_store", abs_store ? abs_store : o->models_dir,
		       "split_size", (json_int_t)o->split_size, "total_size", (json_int_t)total,
		       "models", models, "blobs", blobs, "self",
		       self_json ? self_json : json_null(), "golden",
		       o->golden ? json_string(GOLDEN_FILE) : json_null());
	text = bj ? json_dumps(bj, JSON_INDENT(2)) : NULL;
	p = fs_join(o->to, BUNDLE_JSON);
	if (!text || !p)
		goto nomem;
	n = strlen(text);
	text[n] = '\n';  /* json_dumps leaves room: replace the NUL, write n+1 */
	if (fs_write_atomic(p, text, n + 1, 0644, e) < 0)
		goto fail;
	sha256_hex_mem(text, n + 1, json_hex);
	if (models_fileset_add(files, BUNDLE_JSON, json_hex) < 0)
		goto nomem;
	goto out;
nomem:
	err_set(e, MOAT_ENOMEM, "out of memory");
fail:
	json_decref(bj);
	bj = NULL;
out:
	json_decref(models);
	json_decref(blobs);
	json_decref(self_json);
	free(text);
	free(p);
	free(abs_store);
	return bj;
}

json_t *models_bundle(const struct bundle_opts *o, struct moat_err *e)
{
	struct bctx c;
	struct models_fileset files = { NULL, NULL, 0, 0 };
	size_t max_blobs = 0;
	json_t *bj = NULL, *self_json = NULL;
	char json_hex[SHA256_HEX], sums_hex[SHA256_HEX];
	uint64_t total = 0;
	int reused = 0, rc;

	memset(&c, 0, sizeof(c));
	c.o = o;
	if (!o->n_names) {
		err_set(e, MOAT_EUSAGE, "no model named");
		return NULL;
	}
	if (!o->to || !*o->to) {
		err_set(e, MOAT_EUSAGE, "no bundle directory (--to)");
		return NULL;
	}
	if (!fs_is_dir(o->models_dir)) {
		err_set(e, MOAT_ENOTFOUND, "no model store at '%s'", o->models_dir);
		return NULL;
	}
	if (o->sign_key) {
		/* a key that cannot sign should fail now, not after the copying */
		char *sig = NULL, *pub = NULL;
		rc = models_sign(o->sign_key, "probe", 5, &sig, &pub, e);
		free(sig);
		free(pub);
		if (rc < 0)
			return NULL;
	}
	c.models = calloc(o->n_names, sizeof(*c.models));
	if (!c.models) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < o->n_names; i++)
		if (add_model(&c, o->names[i], e) < 0)
			goto out;
	for (size_t i = 0; i < c.n_models; i++)
		max_blobs += c.models[i].m.n_layers + 1;
	c.blobs = calloc(max_blobs + 1, sizeof(*c.blobs));
	if (!c.blobs) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < c.n_models; i++) {
		struct bmodel *bm = &c.models[i];
		if (add_blob(&c, &bm->m.config, bm->display, e) < 0)
			goto out;
		for (size_t k = 0; k < bm->m.n_layers; k++)
			if (add_blob(&c, &bm->m.layers[k], bm->display, e) < 0)
				goto out;
	}

	/* The directory: ours or empty; an old index must not outlive this run. */
	if (check_target(o->to, e) < 0 || fs_mkdirs(o->to, 0755, e) < 0)
		goto out;
	if (write_marker(o->to, e) < 0)
		goto out;
	remove_index_files(o->to);
	if (sweep(&c, e) < 0)
		goto out;
	{
		char *bd = fs_join(o->to, "blobs");
		rc = bd ? fs_mkdirs(bd, 0755, e) : err_set(e, MOAT_ENOMEM, "out of memory");
		free(bd);
		if (rc < 0)
			goto out;
	}

	/* Blobs, then manifests, then moat itself; the index files last. */
	for (size_t i = 0; i < c.n_blobs; i++)
		total += c.blobs[i].size;
	models_progress_init(&c.sp, o->progress, o->progress_arg, total);
	rc = copy_blobs(&c, o->jobs, e);
	for (size_t i = 0; i < c.n_blobs && rc == 0; i++)
		for (size_t k = 0; k < c.blobs[i].nparts && rc == 0; k++)
			if (models_fileset_add(&files, c.blobs[i].part_rel[k],
					       c.blobs[i].part_hex[k]) < 0)
				rc = err_set(e, MOAT_ENOMEM, "out of memory");
	if (rc == 0)
		rc = copy_manifests(&c, &files, e);
	if (rc == 0 && o->golden)
		rc = write_golden(o->to, o->golden, &files, e);
	if (rc == 0 && o->include_self) {
		self_json = json_pack("{s:s, s:[]}", "install", "sh moat/install.sh [PREFIX]", "files");
		rc = self_json ? models_bundle_self(o, &c.sp, &files, self_json, e)
			       : err_set(e, MOAT_ENOMEM, "out of memory");
	}
	models_progress_finish(&c.sp);
	if (rc < 0)
		goto out;
	bj = write_index(&c, total, self_json, &files, json_hex, e);
	self_json = NULL;
	if (!bj)
		goto out;
	if (write_sums(o->to, &files, sums_hex, e) < 0 ||
	    (o->sign_key && write_sig(o->to, o->sign_key, json_hex, sums_hex, e) < 0)) {
		json_decref(bj);
		bj = NULL;
		goto out;
	}
	for (size_t i = 0; i < c.n_blobs; i++)
		reused += c.blobs[i].reused;
	if (json_object_set_new(bj, "reused_files", json_integer(reused)) < 0) {
		json_decref(bj);
		bj = NULL;
		err_set(e, MOAT_ENOMEM, "bundle written, but out of memory reporting it");
	}
out:
	json_decref(self_json);
	models_fileset_release(&files);
	for (size_t i = 0; i < c.n_blobs; i++) {
		for (size_t k = 0; k < c.blobs[i].nparts; k++)
			free(c.blobs[i].part_rel[k]);
		free(c.blobs[i].part_rel);
		free(c.blobs[i].part_size);
		free(c.blobs[i].part_hex);
		free(c.blobs[i].src);
	}
	free(c.blobs);
	for (size_t i = 0; i < c.n_models; i++) {
		manifest_release(&c.models[i].m);
		buf_release(&c.models[i].raw);
		free(c.models[i].display);
		free(c.models[i].store_rel);
		free(c.models[i].bundle_rel);
	}
	free(c.models);
	return bj;
}
