/*
 * ollama_store.c - reading an Ollama model store the way Ollama does:
 * manifests at exactly four levels under manifests/ (Ollama's glob
 * manifests/x/x/x/x), blobs under blobs/sha256-<hex> (or the old
 * sha256:<hex>), names compared without case.  On top of that: `models list`,
 * resolving a name to its GGUF blob, `models rm` and `fsck --prune`, and the
 * lock and owner that the commands writing into a store share.
 *
 * Not for: checking a store (fsck.c), writing models into one (install.c,
 * import.c), or moat's workspace store (src/store/).
 */
#define _GNU_SOURCE
#include "models_int.h"
#include "../core/jsonu.h"
#include "gguf.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"

#include "core/banned.h"

char *models_default_dir(const char *flag_dir)
{
	const char *env;
	char *dir;
	if (flag_dir && *flag_dir)
		return strdup(flag_dir);
	env = getenv("OLLAMA_MODELS");
	if (env) {
		/* Ollama's envconfig.Var: trim spaces, then quotes */
		size_t a = 0, b = strlen(env);
		while (a < b && isspace((unsigned char)env[a]))
			a++;
		while (b > a && isspace((unsigned char)env[b - 1]))
			b--;
		while (a < b && (env[a] == '"' || env[a] == '\''))
			a++;
		while (b > a && (env[b - 1] == '"' || env[b - 1] == '\''))
			b--;
		if (b > a)
			return strndup(env + a, b - a);
	}
	env = getenv("HOME");
	if (asprintf(&dir, "%s/.ollama/models", env && *env ? env : ".") < 0)
		return NULL;
	return dir;
}

char *blob_path(const char *models_dir, const char *digest)
{
	const char *hex = models_digest_hex(digest);
	char *p;
	if (!hex || asprintf(&p, "%s/blobs/sha256-%s", models_dir, hex) < 0)
		return NULL;
	return p;
}

int mstore_blob_find(const char *models_dir, const char *digest, char **path, int *old_name,
		     struct moat_err *e)
{
	const char *hex = models_digest_hex(digest);
	struct stat st;
	*path = NULL;
	if (old_name)
		*old_name = 0;
	if (!hex)
		return 0;
	for (int old = 0; old < 2; old++) {
		char *p;
		if (asprintf(&p, "%s/blobs/sha256%c%s", models_dir, old ? ':' : '-', hex) < 0)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		if (stat(p, &st) == 0) {
			*path = p;
			if (old_name)
				*old_name = old;
			return 1;
		}
		free(p);
	}
	return 0;
}

/* ---- the manifest walk ---- */

struct scan {
	struct mstore_entry *v;
	size_t n, cap;
	int failed;
};

static void scan_add(struct scan *s, const char *path, const char *parts[4], int dangling)
{
	struct mstore_entry *en;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 16;
		struct mstore_entry *nv = realloc(s->v, nc * sizeof(*nv));
		if (!nv) {
			s->failed = 1;
			return;
		}
		s->v = nv;
		s->cap = nc;
	}
	en = &s->v[s->n];
	memset(en, 0, sizeof(*en));
	en->dangling = dangling;
	if (!(en->path = strdup(path)) ||
	    asprintf(&en->rel, "%s/%s/%s/%s", parts[0], parts[1], parts[2], parts[3]) < 0) {
		free(en->path);
		s->failed = 1;
		return;
	}
	en->name_ok = model_name_from_relpath(en->rel, &en->name, NULL) == 0;
	s->n++;
}

static void scan_dir(struct scan *s, const char *dir, int depth, const char *parts[4])
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return;
	while (!s->failed && (de = readdir(d))) {
		struct stat st;
		char *p;
		int dangling = 0;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		p = fs_join(dir, de->d_name);
		if (!p) {
			s->failed = 1;
			break;
		}
		if (stat(p, &st) < 0) {
			struct stat lst;
			if (lstat(p, &lst) == 0 && S_ISLNK(lst.st_mode))
				dangling = 1;
			else {
				free(p);
				continue;
			}
		}
		parts[depth - 1] = de->d_name;
		if (depth == 4) {
			if (dangling || !S_ISDIR(st.st_mode))
				scan_add(s, p, parts, dangling);
		} else if (!dangling && S_ISDIR(st.st_mode)) {
			scan_dir(s, p, depth + 1, parts);
		}
		free(p);
	}
	closedir(d);
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mstore_entry *)a)->rel,
		      ((const struct mstore_entry *)b)->rel);
}

int mstore_scan(const char *models_dir, struct mstore_entry **out, size_t *n, struct moat_err *e)
{
	struct scan s = { NULL, 0, 0, 0 };
	const char *parts[4] = { "", "", "", "" };
	char *mdir = fs_join(models_dir, "manifests");
	*out = NULL;
	*n = 0;
	if (!mdir)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (fs_is_dir(mdir))
		scan_dir(&s, mdir, 1, parts);
	free(mdir);
	if (s.failed) {
		mstore_entries_free(s.v, s.n);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	if (s.n)
		qsort(s.v, s.n, sizeof(*s.v), entry_cmp);
	*out = s.v;
	*n = s.n;
	return 0;
}

void mstore_entries_free(struct mstore_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].path);
		free(v[i].rel);
	}
	free(v);
}

int mstore_read_manifest(const char *path, struct manifest *m, struct buf *raw,
			 struct moat_err *e)
{
	struct buf b = BUF_INIT;
	int rc;
	memset(m, 0, sizeof(*m));
	if (fs_read_file(path, &b, MANIFEST_MAX_BYTES, e) < 0) {
		buf_release(&b);
		return -1;
	}
	rc = manifest_parse(b.data ? b.data : "", b.len, m, e);
	if (rc < 0)
		err_prefix(e, "manifest '%s'", path);
	if (raw && rc == 0) {
		buf_add(raw, b.data, b.len);
		if (buf_failed(raw)) {
			manifest_release(m);
			rc = err_set(e, MOAT_ENOMEM, "out of memory");
		}
	}
	buf_release(&b);
	return rc;
}

/* The entry of dir equal to name without case, an exact match first: 1 with
 * *out (malloc'd), 0 when there is none, -1 when out of memory. */
static int find_ci(const char *dir, const char *name, char **out)
{
	char *p = fs_join(dir, name);
	DIR *d;
	struct dirent *de;
	*out = NULL;
	if (!p)
		return -1;
	if (fs_exists(p)) {
		*out = p;
		return 1;
	}
	free(p);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (!strcasecmp(de->d_name, name)) {
			*out = fs_join(dir, de->d_name);
			break;
		}
	closedir(d);
	return de ? (*out ? 1 : -1) : 0;
}

char *mstore_find_manifest(const char *models_dir, const struct model_name *n, struct moat_err *e)
{
	const char *parts[4] = { n->host, n->ns, n->model, n->tag };
	char *cur = fs_join(models_dir, "manifests");
	int found = cur ? 1 : -1;
	for (int i = 0; found == 1 && i < 4; i++) {
		char *next;
		found = find_ci(cur, parts[i], &next);
		free(cur);
		cur = next;
	}
	if (found < 0) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	if (!found || fs_is_dir(cur)) {
		char *disp = model_name_display(n);
		free(cur);
		err_set(e, MOAT_ENOTFOUND, "model '%s' not found in '%s'", disp ? disp : n->model,
			models_dir);
		free(disp);
		return NULL;
	}
	return cur;
}

/* ---- list ---- */

/* Checks that the blobs of m exist with their sizes, appending problems; the
 * first model layer's real path goes to *model_blob. */
static int check_blobs_exist(const char *models_dir, const struct manifest *m, json_t *problems,
			     char **model_blob, int *bad, struct moat_err *e)
{
	for (size_t i = 0; i <= m->n_layers; i++) {
		const struct model_layer *l = i == 0 ? &m->config : &m->layers[i - 1];
		const char *kind = models_media_short(l->media_type);
		const char *hex = models_digest_hex(l->digest);
		struct stat st;
		char *p;
		int found = mstore_blob_find(models_dir, l->digest, &p, NULL, e);
		if (found < 0)
			return -1;
		if (!found) {
			const char *why = "";
			if (i == 0)
				why = " (ollama hides this model from its list)";
			else if (!strcmp(l->media_type, MT_MEDIA_TEMPLATE) ||
				 !strcmp(l->media_type, MT_MEDIA_SYSTEM) ||
				 !strcmp(l->media_type, MT_MEDIA_PARAMS) ||
				 !strcmp(l->media_type, MT_MEDIA_MESSAGES) ||
				 !strcmp(l->media_type, MT_MEDIA_LICENSE))
				why = " (ollama run fails with \"model not found\")";
			models_jadd(problems, json_sprintf("%s blob sha256:%.12s is missing%s", kind,
							   hex ? hex : l->digest, why), bad);
			continue;
		}
		if (stat(p, &st) == 0 && (uint64_t)st.st_size != l->size)
			models_jadd(problems, json_sprintf(
				"%s blob sha256:%.12s is %llu bytes, the manifest says %llu", kind,
				hex ? hex : l->digest, (unsigned long long)st.st_size,
				(unsigned long long)l->size), bad);
		else if (model_blob && !*model_blob && !strcmp(l->media_type, MT_MEDIA_MODEL))
			*model_blob = realpath(p, NULL);
		free(p);
	}
	return 0;
}

static int list_cmp(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t mx = json_integer_value(json_object_get(x, "modified"));
	json_int_t my = json_integer_value(json_object_get(y, "modified"));
	if (mx != my)
		return mx > my ? -1 : 1;
	return strcmp(json_string_value(json_object_get(x, "name")),
		      json_string_value(json_object_get(y, "name")));
}

/* A problem from an error message, which may quote a file name that is not
 * UTF-8; NULL only when out of memory. */
static json_t *message_json(const char *prefix, const char *msg)
{
	char *s;
	json_t *j;
	if (asprintf(&s, "%s%s", prefix, msg) < 0)
		return NULL;
	j = jsonu_string(s);
	free(s);
	return j;
}

/* The GGUF facts of a model blob; a blob that does not read as GGUF is a
 * problem of the model, memory running out is the listing's error. */
static int list_gguf(json_t *o, const char *model_blob, json_t *problems, int *bad,
		     struct moat_err *e)
{
	struct gguf_info g;
	struct moat_err ge = MOAT_ERR_INIT;
	char ps[32];
	if (gguf_open(model_blob, &g, &ge) < 0) {
		if (ge.code == MOAT_ENOMEM) {
			models_err_copy(e, &ge);
			return -1;
		}
		models_jadd(problems, message_json("model blob: ", ge.msg), bad);
		return 0;
	}
	models_jset(o, "architecture", jsonu_string(g.architecture), bad);
	models_jset(o, "parameters", json_integer((json_int_t)g.parameters), bad);
	models_jset(o, "parameter_size", gguf_format_params(g.parameters, ps, sizeof(ps)) < 0 ?
		    json_null() : json_string(ps), bad);
	models_jset(o, "quantization", jsonu_string(g.quantization), bad);
	models_jset(o, "context_length", g.context_length ?
		    json_integer((json_int_t)g.context_length) : json_null(), bad);
	gguf_info_release(&g);
	return 0;
}

/* One row of `models list`; NULL with e set when out of memory. */
static json_t *list_entry(const char *models_dir, const struct mstore_entry *en,
			  struct moat_err *e)
{
	json_t *o = json_object(), *problems = json_array();
	struct manifest m;
	struct moat_err me = MOAT_ERR_INIT;
	struct stat st;
	char *disp = en->name_ok ? model_name_display(&en->name) : strdup(en->rel);
	char *model_blob = NULL;
	int bad = !o || !problems || !disp, rc = 0;
	models_jset(o, "name", jsonu_string(disp), &bad);
	free(disp);
	models_jset(o, "manifest_path", jsonu_string(en->path), &bad);
	models_jset(o, "id", json_null(), &bad);
	models_jset(o, "digest", json_null(), &bad);
	models_jset(o, "size", json_integer(0), &bad);
	models_jset(o, "modified", json_integer(stat(en->path, &st) == 0 ?
						(json_int_t)st.st_mtime : 0), &bad);
	models_jset(o, "architecture", json_null(), &bad);
	models_jset(o, "parameters", json_null(), &bad);
	models_jset(o, "parameter_size", json_null(), &bad);
	models_jset(o, "quantization", json_null(), &bad);
	models_jset(o, "context_length", json_null(), &bad);
	if (!en->name_ok)
		models_jadd(problems, json_string("bad manifest name (ollama skips this file)"),
			    &bad);
	if (en->dangling) {
		models_jadd(problems, json_string("dangling symlink (ollama's whole model list "
						  "fails on it)"), &bad);
	} else if (mstore_read_manifest(en->path, &m, NULL, &me) < 0) {
		if (me.code == MOAT_ENOMEM) {
			models_err_copy(e, &me);
			rc = -1;
		} else {
			models_jadd(problems, message_json("", me.msg), &bad);
		}
	} else {
		models_jset(o, "id", json_stringn(m.id, 12), &bad);
		models_jset(o, "digest", json_string(m.id), &bad);
		models_jset(o, "size", json_integer((json_int_t)manifest_size(&m)), &bad);
		rc = check_blobs_exist(models_dir, &m, problems, &model_blob, &bad, e);
		if (rc == 0 && !manifest_model_layer(&m))
			models_jadd(problems, json_string("no model layer"), &bad);
		if (rc == 0 && model_blob)
			rc = list_gguf(o, model_blob, problems, &bad, e);
		manifest_release(&m);
	}
	models_jset(o, "model_blob", model_blob ? json_string(model_blob) : json_null(), &bad);
	free(model_blob);
	models_jset(o, "problems", problems, &bad);
	if (rc == 0 && bad)
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
	if (rc < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *models_list(const char *models_dir, struct moat_err *e)
{
	struct mstore_entry *v;
	size_t n, done = 0;
	json_t *arr = NULL, **items;
	if (!fs_is_dir(models_dir)) {
		err_set(e, MOAT_ENOTFOUND, "no model store at '%s'", models_dir);
		return NULL;
	}
	if (mstore_scan(models_dir, &v, &n, e) < 0)
		return NULL;
	items = calloc(n + 1, sizeof(*items));
	if (!items) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (done = 0; done < n; done++)
		if (!(items[done] = list_entry(models_dir, &v[done], e)))
			goto out;
	if (n)
		qsort(items, n, sizeof(*items), list_cmp);
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		int bad = !arr;
		models_jadd(arr, items[i], &bad);
		items[i] = NULL;
		if (bad) {
			json_decref(arr);
			arr = NULL;
			err_set(e, MOAT_ENOMEM, "out of memory");
		}
	}
	if (!n && !arr)
		err_set(e, MOAT_ENOMEM, "out of memory");
out:
	for (size_t i = 0; items && i < done; i++)
		json_decref(items[i]);
	free(items);
	mstore_entries_free(v, n);
	return arr;
}

char *models_resolve_gguf(const char *models_dir, const char *name, struct moat_err *e)
{
	struct model_name n;
	struct manifest m;
	const struct model_layer *l;
	char *mpath, *blob, *abs;
	char magic[4];
	FILE *f;
	int found;
	if (model_name_parse(name, &n, e) < 0)
		return NULL;
	mpath = mstore_find_manifest(models_dir, &n, e);
	if (!mpath)
		return NULL;
	if (mstore_read_manifest(mpath, &m, NULL, e) < 0) {
		free(mpath);
		return NULL;
	}
	free(mpath);
	l = manifest_model_layer(&m);
	if (!l) {
		err_set(e, MOAT_ENOTFOUND, "model '%s' has no model layer", name);
		manifest_release(&m);
		return NULL;
	}
	found = mstore_blob_find(models_dir, l->digest, &blob, NULL, e);
	if (found <= 0) {
		if (!found)
			err_set(e, MOAT_ENOTFOUND, "the model blob of '%s' (%s) is missing from "
				"'%s'", name, l->digest, models_dir);
		manifest_release(&m);
		return NULL;
	}
	manifest_release(&m);
	abs = realpath(blob, NULL);
	free(blob);
	if (!abs) {
		err_set(e, MOAT_EIO, "cannot resolve the model blob of '%s': %s", name,
			strerror(errno));
		return NULL;
	}
	f = fopen(abs, "rb");
	if (!f || fread(magic, 1, 4, f) != 4 || memcmp(magic, "GGUF", 4)) {
		if (f)
			fclose(f);
		err_set(e, MOAT_ECORRUPT, "the model blob of '%s' ('%s') is not a GGUF file", name,
			abs);
		free(abs);
		return NULL;
	}
	fclose(f);
	return abs;
}

/* ---- sets of digests (sorted hex strings) ---- */

struct hexset {
	char (*v)[65];
	size_t n, cap;
};

static int hexset_add(struct hexset *s, const char *digest)
{
	const char *hex = models_digest_hex(digest);
	if (!hex)
		return 0;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		char (*nv)[65] = realloc(s->v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		s->v = nv;
		s->cap = nc;
	}
	for (int i = 0; i < 64; i++)
		s->v[s->n][i] = (char)tolower((unsigned char)hex[i]);
	s->v[s->n][64] = '\0';
	s->n++;
	return 0;
}

static int hex_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void hexset_sort(struct hexset *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), hex_cmp);
}

static int hexset_has(const struct hexset *s, const char *hex)
{
	char k[65];
	for (int i = 0; i < 64; i++)
		k[i] = (char)tolower((unsigned char)hex[i]);
	k[64] = '\0';
	return s->n && bsearch(k, s->v, s->n, sizeof(*s->v), hex_cmp) != NULL;
}

/* The digests every manifest references, skipping the manifest paths in
 * except.  Fails (naming it) when a manifest cannot be read: then nobody may
 * know what is unreferenced. */
static int referenced_set(const char *models_dir, struct hexset *set, char *const *except,
			  size_t n_except, struct moat_err *e)
{
	struct mstore_entry *v;
	size_t n;
	if (mstore_scan(models_dir, &v, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct manifest m;
		int skip = 0;
		for (size_t k = 0; k < n_except; k++)
			if (!strcmp(v[i].path, except[k]))
				skip = 1;
		if (skip || !v[i].name_ok)
			continue;
		if (v[i].dangling) {
			err_set(e, MOAT_ECORRUPT, "'%s' is a dangling symlink", v[i].path);
			mstore_entries_free(v, n);
			return -1;
		}
		if (mstore_read_manifest(v[i].path, &m, NULL, e) < 0) {
			mstore_entries_free(v, n);
			return -1;
		}
		int rc = hexset_add(set, m.config.digest);
		for (size_t k = 0; rc == 0 && k < m.n_layers; k++)
			rc = hexset_add(set, m.layers[k].digest);
		manifest_release(&m);
		if (rc < 0) {
			mstore_entries_free(v, n);
			return err_set(e, MOAT_ENOMEM, "out of memory");
		}
	}
	mstore_entries_free(v, n);
	hexset_sort(set);
	return 0;
}

/* True for sha256-<hex> or sha256:<hex>; *hex gets the hex part. */
static int blob_name_hex(const char *name, const char **hex)
{
	if (!digest_valid(name))
		return 0;
	*hex = name + 7;
	return 1;
}

int models_prune(const char *models_dir, json_t *removed_out, struct moat_err *e)
{
	struct hexset set = { NULL, 0, 0 };
	char *bdir;
	DIR *d;
	struct dirent *de;
	int count = 0, bad = 0;
	if (referenced_set(models_dir, &set, NULL, 0, e) < 0) {
		err_prefix(e, "not pruning");
		free(set.v);
		return -1;
	}
	bdir = fs_join(models_dir, "blobs");
	d = bdir ? opendir(bdir) : NULL;
	while (d && (de = readdir(d))) {
		const char *hex;
		char *p;
		if (!blob_name_hex(de->d_name, &hex) || hexset_has(&set, hex))
			continue;
		p = fs_join(bdir, de->d_name);
		if (!p) {
			bad = 1;
			break;
		}
		if (unlink(p) == 0) {
			count++;
			if (removed_out)
				models_jadd(removed_out, jsonu_string(p), &bad);
		}
		free(p);
	}
	if (d) {
		closedir(d);
		fs_sync_dir(bdir, NULL);
	}
	free(bdir);
	free(set.v);
	if (!bdir || bad)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return count;
}

/* Removes empty directories from dir up to (not including) stop. */
static void prune_empty_dirs(const char *dir, const char *stop)
{
	char *cur = strdup(dir);
	while (cur && strlen(cur) > strlen(stop) && !strncmp(cur, stop, strlen(stop))) {
		char *up;
		if (rmdir(cur) < 0)
			break;
		up = fs_dirname(cur);
		free(cur);
		cur = up;
	}
	if (cur)
		fs_sync_dir(cur, NULL);
	free(cur);
}

json_t *models_rm(const char *models_dir, const char *const *names, size_t n, struct moat_err *e)
{
	char **paths = calloc(n + 1, sizeof(*paths));
	char **disp = calloc(n + 1, sizeof(*disp));
	struct manifest *ms = calloc(n + 1, sizeof(*ms));
	struct hexset keep = { NULL, 0, 0 };
	json_t *res = NULL, *removed = NULL, *kept_reason = NULL;
	uint64_t freed = 0;
	int blobs_removed = 0, bad = 0;
	size_t got = 0;
	char *mroot = fs_join(models_dir, "manifests");

	if (!paths || !disp || !ms || !mroot) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct model_name nm;
		if (model_name_parse(names[i], &nm, e) < 0)
			goto out;
		paths[i] = mstore_find_manifest(models_dir, &nm, e);
		if (!paths[i])
			goto out;
		disp[i] = model_name_display(&nm);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(paths[k], paths[i])) {
				err_set(e, MOAT_EUSAGE, "model '%s' named twice", names[i]);
				goto out;
			}
	}
	/* Everything that can run out of memory before anything is removed. */
	for (got = 0; got < n; got++) {
		struct moat_err me = MOAT_ERR_INIT;
		if (mstore_read_manifest(paths[got], &ms[got], NULL, &me) < 0) {
			memset(&ms[got], 0, sizeof(ms[got]));  /* removable; its blobs stay */
			if (me.code == MOAT_ENOMEM) {
				models_err_copy(e, &me);
				goto out;
			}
		}
	}
	{
		struct moat_err me = MOAT_ERR_INIT;
		if (referenced_set(models_dir, &keep, paths, n, &me) < 0) {
			if (me.code == MOAT_ENOMEM) {
				models_err_copy(e, &me);
				goto out;
			}
			if (!(kept_reason = json_sprintf("blobs kept: %s", me.msg))) {
				err_set(e, MOAT_ENOMEM, "out of memory");
				goto out;
			}
		}
	}
	if (!(removed = json_array())) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char *dir;
		if (unlink(paths[i]) < 0) {
			err_set(e, MOAT_EIO, "cannot remove '%s': %s", paths[i], strerror(errno));
			goto out;
		}
		dir = fs_dirname(paths[i]);
		if (dir)
			prune_empty_dirs(dir, mroot);
		free(dir);
		models_jadd(removed, json_string(disp[i] ? disp[i] : names[i]), &bad);
	}
	if (!kept_reason) {
		for (size_t i = 0; i < n; i++) {
			for (size_t k = 0; k <= ms[i].n_layers && ms[i].layers; k++) {
				const struct model_layer *l = k == 0 ? &ms[i].config
								     : &ms[i].layers[k - 1];
				const char *hex = models_digest_hex(l->digest);
				char *p;
				int found;
				if (!hex || hexset_has(&keep, hex))
					continue;
				/* both names, when an old sha256: copy sits beside the new one */
				while ((found = mstore_blob_find(models_dir, l->digest, &p, NULL,
								 e)) == 1) {
					struct stat st;
					int gone = stat(p, &st) == 0 && unlink(p) == 0;
					free(p);
					if (!gone)
						break;
					freed += (uint64_t)st.st_size;
					blobs_removed++;
				}
				if (found < 0)
					bad = 1;
			}
		}
		{
			char *bdir = fs_join(models_dir, "blobs");
			if (bdir)
				fs_sync_dir(bdir, NULL);
			free(bdir);
		}
	}
	res = json_pack("{s:o, s:i, s:I}", "removed", removed, "blobs_removed", blobs_removed,
			"bytes_freed", (json_int_t)freed);
	removed = NULL;
	if (kept_reason)
		models_jset(res, "warning", kept_reason, &bad);
	kept_reason = NULL;
	if (!res || bad) {
		/* what was removed is gone; only the report of it failed */
		json_decref(res);
		res = NULL;
		err_set(e, MOAT_ENOMEM, "models removed, but out of memory reporting it");
	}
out:
	json_decref(removed);
	json_decref(kept_reason);
	for (size_t i = 0; i < n; i++) {
		free(paths ? paths[i] : NULL);
		free(disp ? disp[i] : NULL);
		if (ms && i < got)
			manifest_release(&ms[i]);
	}
	free(paths);
	free(disp);
	free(ms);
	free(keep.v);
	free(mroot);
	return res;
}

int mstore_owner(const char *models_dir, uid_t *uid, gid_t *gid, struct moat_err *e)
{
	char *cur;
	struct stat st;
	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (geteuid() != 0)
		return 0;
	cur = strdup(models_dir);
	while (cur) {
		char *up;
		if (stat(cur, &st) == 0) {
			if (st.st_uid != 0) {
				*uid = st.st_uid;
				*gid = st.st_gid;
			}
			free(cur);
			return 0;
		}
		if (!strcmp(cur, "/") || !strcmp(cur, "."))
			break;
		up = fs_dirname(cur);
		free(cur);
		cur = up;
	}
	if (!cur)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	free(cur);
	return 0;
}

int mstore_lock(const char *models_dir, uid_t uid, gid_t gid, struct moat_err *e)
{
	char *p = fs_join(models_dir, ".moat-lock");
	int fd;
	if (!p)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		err_set(e, MOAT_EIO, "cannot open '%s': %s", p, strerror(errno));
		free(p);
		return -1;
	}
	free(p);
	if (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0) {
		/* the lock works all the same */
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			err_set(e, MOAT_EIO, "cannot lock the store '%s': %s", models_dir,
				strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

int mstore_each_tmp(const char *dir, void (*fn)(void *arg, const char *path), void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;
	while (d && rc == 0 && (de = readdir(d))) {
		char *p;
		if (strncmp(de->d_name, MT_TMP_PREFIX, strlen(MT_TMP_PREFIX)))
			continue;
		if (!(p = fs_join(dir, de->d_name)))
			rc = -1;
		else
			fn(arg, p);
		free(p);
	}
	if (d)
		closedir(d);
	return rc;
}

static void remove_tmp(void *arg, const char *path)
{
	(void)arg;
	unlink(path);
}

void mstore_remove_stale_tmp(const char *dir)
{
	if (mstore_each_tmp(dir, remove_tmp, NULL) < 0) {
		/* out of memory: a rerun removes them */
	}
}

