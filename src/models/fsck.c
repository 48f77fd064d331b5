/*
 * fsck.c - `moat models fsck`: checks a whole store the way Ollama will
 * meet it, and more (Ollama never hashes a blob it already has).  Every
 * manifest's blobs exist with their declared sizes and (unless quick) their
 * SHA-256; GGUF blobs are structurally valid; dangling symlinks, stray files,
 * old sha256: names, unfinished downloads and unreferenced blobs are named.
 * Findings are errors (something will fail) or warnings (harmless now, or
 * cleaned up by Ollama or a rerun).  Not for repairs: --prune is
 * models_prune() (ollama_store.c).
 */
#define _GNU_SOURCE
#include "models_int.h"
#include "../core/jsonu.h"
#include "gguf.h"

#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
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

struct fsck_blob {
	char digest[72];
	uint64_t size;          /* declared (first manifest that names it) */
	char *media_type;
	char *first_user;       /* display name of a model using it */
	char *path;             /* found path or NULL */
	int old_name;
	/* results of the check */
	char *error;
	char *warning;
};

struct fsck_ctx {
	const char *dir;
	int quick;
	json_t *problems;
	int errors;
	int bad;                /* out of memory: a finding may be lost */
	struct fsck_blob *blobs;
	size_t n_blobs, cap_blobs;
};

static void add(struct fsck_ctx *c, const char *path, const char *severity, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void add(struct fsck_ctx *c, const char *path, const char *severity, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int n;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (!strcmp(severity, "error"))
		c->errors++;
	if (n < 0) {
		c->bad = 1;
		return;
	}
	models_jadd(c->problems, json_pack("{s:o, s:o, s:s}", "path", jsonu_string(path),
					   "problem", jsonu_string(msg), "severity", severity),
		    &c->bad);
	free(msg);
}

/* The blob of a layer, added on first sight; NULL (c->bad) when out of memory. */
static struct fsck_blob *blob_get(struct fsck_ctx *c, const struct model_layer *l,
				  const char *user)
{
	struct fsck_blob *b;
	for (size_t i = 0; i < c->n_blobs; i++)
		if (!strcasecmp(c->blobs[i].digest, l->digest))
			return &c->blobs[i];
	if (c->n_blobs == c->cap_blobs) {
		size_t nc = c->cap_blobs ? c->cap_blobs * 2 : 32;
		struct fsck_blob *nb = realloc(c->blobs, nc * sizeof(*nb));
		if (!nb) {
			c->bad = 1;
			return NULL;
		}
		c->blobs = nb;
		c->cap_blobs = nc;
	}
	b = &c->blobs[c->n_blobs];
	memset(b, 0, sizeof(*b));
	memcpy(b->digest, l->digest, sizeof(b->digest));
	b->size = l->size;
	b->media_type = strdup(l->media_type);
	b->first_user = strdup(user);
	if (!b->media_type || !b->first_user ||
	    mstore_blob_find(c->dir, l->digest, &b->path, &b->old_name, NULL) < 0) {
		free(b->media_type);
		free(b->first_user);
		c->bad = 1;
		return NULL;
	}
	c->n_blobs++;
	return b;
}

/* Walks manifests/ completely: dangling symlinks anywhere, files at the wrong
 * depth, directories where manifests belong. */
static void walk_manifests(struct fsck_ctx *c, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d) {
		add(c, dir, "error", "cannot read directory: %s", strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		struct stat st, lst;
		char *p;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		p = fs_join(dir, de->d_name);
		if (!p) {
			c->bad = 1;
			break;
		}
		if (lstat(p, &lst) < 0) {
			/* gone meanwhile */
		} else if (S_ISLNK(lst.st_mode) && stat(p, &st) < 0) {
			add(c, p, "error", "dangling symlink (ollama's whole model list fails on it)");
		} else if (S_ISLNK(lst.st_mode)) {
			add(c, p, "error", "symlink (moat follows no link inside a model store, so "
			    "it neither reads nor checks what it points to)");
		} else {
			if (S_ISDIR(lst.st_mode)) {
				if (depth < 4)
					walk_manifests(c, p, depth + 1);
				else
					add(c, p, "warning", "directory where a manifest file belongs "
					    "(ollama ignores it)");
			} else if (depth != 4) {
				add(c, p, "warning", "stray file at depth %d under manifests/ "
				    "(ollama ignores it; manifests are at depth 4)", depth);
			}
		}
		free(p);
	}
	closedir(d);
}

/* A blob's finding: *out (malloc'd) from fmt; -1 when out of memory. */
static int finding(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int finding(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n < 0) {
		*out = NULL;
		return -1;
	}
	return 0;
}

/* Checks one blob (a pool job): its size, its digest (unless quick), and its
 * contents for the types that have a structure.  Fails only when out of
 * memory. */
static int check_blob_job(void *arg, int worker, size_t i, struct moat_err *e)
{
	struct fsck_ctx *c = arg;
	struct fsck_blob *b = &c->blobs[i];
	struct stat st;
	struct moat_err be = MOAT_ERR_INIT;
	int rc = 0;
	(void)worker;
	if (!b->path)
		return 0;
	if (lstat(b->path, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = finding(&b->error, S_ISLNK(st.st_mode) ? "symlink (moat follows no link "
			     "inside a model store)" : "not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size != b->size) {
		rc = finding(&b->error, "is %llu bytes, the manifest of %s declares %llu",
			     (unsigned long long)st.st_size, b->first_user,
			     (unsigned long long)b->size);
		goto out;
	}
	if (!c->quick) {
		unsigned char d[SHA256_LEN];
		char hex[SHA256_HEX];
		if (sha256_file(b->path, d, NULL, &be) < 0) {
			rc = be.code == MOAT_ENOMEM ? -1 : finding(&b->error, "%s", be.msg);
			goto out;
		}
		hex_encode(d, SHA256_LEN, hex);
		if (strcasecmp(hex, models_digest_hex(b->digest))) {
			rc = finding(&b->error, "content does not match its name: expected %s, "
				     "found sha256:%s", b->digest, hex);
			goto out;
		}
	}
	if (models_media_is_gguf(b->media_type)) {
		struct gguf_info g;
		if (gguf_open(b->path, &g, &be) < 0) {
			rc = be.code == MOAT_ENOMEM ? -1 :
			     finding(&b->error, "%s blob of %s is not a valid GGUF: %s",
				     models_media_short(b->media_type), b->first_user, be.msg);
			goto out;
		}
		if (g.warning[0])
			rc = finding(&b->warning, "GGUF: %s", g.warning);
		gguf_info_release(&g);
	} else if (!strcmp(b->media_type, MT_MEDIA_CONFIG) ||
		   !strcmp(b->media_type, MT_MEDIA_PARAMS) ||
		   !strcmp(b->media_type, MT_MEDIA_MESSAGES)) {
		struct buf raw = BUF_INIT;
		json_error_t je;
		json_t *j;
		if (fs_read_file(b->path, &raw, 64u << 20, &be) < 0) {
			rc = be.code == MOAT_ENOMEM ? -1 : finding(&b->error, "%s", be.msg);
			buf_release(&raw);
			goto out;
		}
		j = json_loadb(raw.data ? raw.data : "", raw.len, 0, &je);
		if (!j && models_json_oom(&je))
			rc = -1;
		else if (!j)
			rc = finding(&b->error, "%s blob of %s is not valid JSON: %s (ollama "
				     "cannot load this model)", models_media_short(b->media_type),
				     b->first_user, je.text);
		json_decref(j);
		buf_release(&raw);
	}
out:
	if (rc < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return 0;
}

static void stale_tmp(void *arg, int dirfd, const char *name)
{
	struct fsck_ctx *c = arg;
	char *path = fs_join(c->dir, name);
	(void)dirfd;
	if (!path)
		c->bad = 1;
	else
		add(c, path, "warning", "temporary file of an interrupted moat install or import "
		    "(rerunning it removes this)");
	free(path);
}

/* The media types Ollama's code knows (../shared/reference/ollama-store.md). */
static int media_known(const char *mt)
{
	static const char *known[] = { "model", "adapter", "projector", "template", "prompt",
				       "system", "params", "messages", "license", "embed", "draft",
				       "tensor", "json" };
	if (strncmp(mt, "application/vnd.ollama.image.", 29))
		return 0;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(mt + 29, known[i]))
			return 1;
	return 0;
}

static int is_hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* True for a directory of the store; a symlink there is an error. */
static int store_dir_ok(struct fsck_ctx *c, const char *path)
{
	struct stat st;
	if (!path) {
		c->bad = 1;
		return 0;
	}
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		add(c, path, "error", "symlink (moat follows no link inside a model store, so it "
		    "neither reads nor checks what it points to)");
		return 0;
	}
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void walk_blobs(struct fsck_ctx *c)
{
	char *bdir = fs_join(c->dir, "blobs");
	DIR *d = store_dir_ok(c, bdir) ? opendir(bdir) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		struct stat st, lst;
		char *p;
		const char *nm = de->d_name;
		if (!strcmp(nm, ".") || !strcmp(nm, ".."))
			continue;
		p = fs_join(bdir, nm);
		if (!p) {
			c->bad = 1;
			break;
		}
		if (lstat(p, &lst) == 0 && S_ISLNK(lst.st_mode) && stat(p, &st) < 0) {
			add(c, p, "error", "dangling symlink");
		} else if (S_ISLNK(lst.st_mode) && !digest_valid(nm)) {
			add(c, p, "error", "symlink (moat follows no link inside a model store)");
		} else if (digest_valid(nm)) {
			int used = 0;
			for (size_t i = 0; i < c->n_blobs; i++)
				if (!strcasecmp(c->blobs[i].digest + 7, nm + 7))
					used = 1;
			if (!used)
				add(c, p, "warning", "unreferenced blob (ollama deletes it at start-up "
				    "once it is an hour old; 'moat models fsck --prune' removes it)");
			if (nm[6] == ':')
				add(c, p, "warning", "old blob name: ollama renames it to sha256-%s at "
				    "start-up", nm + 7);
		} else if (!strncmp(nm, MT_TMP_PREFIX, strlen(MT_TMP_PREFIX))) {
			add(c, p, "warning", "temporary file of an interrupted moat install or import "
			    "(rerunning it removes this)");
		} else if (!strncmp(nm, "sha256-", 7) && strlen(nm) > 71 && is_hex64(nm + 7) &&
			   !strncmp(nm + 71, "-partial", 8)) {
			add(c, p, "warning", "unfinished ollama download");
		} else {
			add(c, p, "warning", "stray file in blobs/ (ollama deletes it at start-up once "
			    "it is an hour old)");
		}
		free(p);
	}
	if (d)
		closedir(d);
	free(bdir);
}

json_t *models_fsck(const char *models_dir, int quick, struct moat_err *e)
{
	struct fsck_ctx c;
	struct mstore_entry *v;
	size_t n;
	char *mdir;
	json_t *res = NULL;
	memset(&c, 0, sizeof(c));
	c.dir = models_dir;
	c.quick = quick;
	if (!fs_is_dir(models_dir)) {
		err_set(e, MOAT_ENOTFOUND, "no model store at '%s'", models_dir);
		return NULL;
	}
	if (mstore_scan(models_dir, &v, &n, e) < 0)
		return NULL;
	c.problems = json_array();
	mdir = fs_join(models_dir, "manifests");
	c.bad = !c.problems || !mdir;
	if (!c.bad && store_dir_ok(&c, mdir))
		walk_manifests(&c, mdir, 1);
	free(mdir);

	for (size_t i = 0; i < n && !c.bad; i++) {
		struct mstore_entry *en = &v[i];
		struct manifest m;
		struct moat_err me = MOAT_ERR_INIT;
		char *disp;
		if (en->link)
			continue;  /* reported by the walk */
		if (!en->name_ok) {
			const char *base = strrchr(en->path, '/');
			add(&c, en->path, "error", "bad manifest name%s (ollama skips this file; "
			    "one left by a copy breaks nothing else but is not a model)",
			    base && !strncmp(base + 1, "._", 2) ? ": macOS metadata file" : "");
			continue;
		}
		if (mstore_read_manifest(models_dir, en->srel, &m, NULL, NULL, &me) < 0) {
			if (me.code == MOAT_ENOMEM)
				c.bad = 1;
			else
				add(&c, en->path, "error", "%s (ollama skips pruning while it is "
				    "there)", me.msg);
			continue;
		}
		if (!(disp = model_name_display(&en->name)))
			c.bad = 1;
		if (m.media_type && strcmp(m.media_type, MT_MANIFEST_V2) &&
		    strcmp(m.media_type, "application/vnd.oci.image.manifest.v1+json"))
			add(&c, en->path, "error", "unknown manifest mediaType '%s'", m.media_type);
		if (strcmp(m.config.media_type, MT_MEDIA_CONFIG) &&
		    strcmp(m.config.media_type, "application/vnd.oci.image.config.v1+json"))
			add(&c, en->path, "error", "unknown config mediaType '%s' (ollama cannot read "
			    "this model's config)", m.config.media_type);
		for (size_t k = 0; k < m.n_layers; k++)
			if (!media_known(m.layers[k].media_type))
				add(&c, en->path, "error", "layer %zu has unknown mediaType '%s' (ollama "
				    "ignores it)", k + 1, m.layers[k].media_type);
		for (size_t k = 0; k <= m.n_layers; k++) {
			const struct model_layer *l = k == 0 ? &m.config : &m.layers[k - 1];
			struct fsck_blob *b = blob_get(&c, l, disp ? disp : en->rel);
			if (b && !b->path) {
				char *bp = blob_path(models_dir, l->digest);
				if (!bp)
					c.bad = 1;
				add(&c, bp ? bp : l->digest, "error", "missing: %s blob of %s%s",
				    models_media_short(l->media_type), disp ? disp : en->rel,
				    k == 0 ? " (ollama hides the model from its list)" : "");
				free(bp);
			} else if (b && b->size != l->size) {
				add(&c, b->path, "error", "%s declares %llu bytes, %s declares %llu",
				    en->rel, (unsigned long long)l->size, b->first_user,
				    (unsigned long long)b->size);
			}
		}
		free(disp);
		manifest_release(&m);
	}
	if (!c.bad && pool_for(quick ? 1 : pool_default_workers(), c.n_blobs, check_blob_job, &c,
			       e) < 0)
		goto out;
	for (size_t i = 0; i < c.n_blobs; i++) {
		struct fsck_blob *b = &c.blobs[i];
		if (b->error)
			add(&c, b->path, "error", "%s", b->error);
		if (b->warning)
			add(&c, b->path, "warning", "%s", b->warning);
	}
	walk_blobs(&c);
	/* manifests being installed wait in the store root under a temp name */
	{
		int rootfd = open(models_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rootfd >= 0) {
			mstore_each_tmp(rootfd, stale_tmp, &c);
			close(rootfd);
		}
	}

	if (!c.bad)
		res = json_pack("{s:b, s:i, s:i, s:O}", "ok", c.errors == 0, "models", (int)n,
				"errors", c.errors, "problems", c.problems);
	if (!res)
		err_set(e, MOAT_ENOMEM, "out of memory");
out:
	json_decref(c.problems);
	for (size_t i = 0; i < c.n_blobs; i++) {
		free(c.blobs[i].media_type);
		free(c.blobs[i].first_user);
		free(c.blobs[i].path);
		free(c.blobs[i].error);
		free(c.blobs[i].warning);
	}
	free(c.blobs);
	mstore_entries_free(v, n);
	return res;
}
