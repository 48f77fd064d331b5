/*
 * store.c - reading an Ollama model store the way Ollama does: manifests at
 * exactly four levels under manifests/ (Ollama's glob manifests/x/x/x/x),
 * blobs under blobs/sha256-<hex> (or the old sha256:<hex>), names compared
 * without case.  On top of that: `models list`, resolving a name to its GGUF
 * blob, and `models rm`.  fsck lives in fsck.c.
 */
#define _GNU_SOURCE
#include "models_int.h"
#include "../core/jsonu.h"
#include "gguf.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"

#include "core/banned.h"

char *models_default_dir(const char *flag_dir)
{
	const char *env;
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
	return str_printf("%s/.ollama/models", env && *env ? env : ".");
}

char *blob_path(const char *models_dir, const char *digest)
{
	const char *hex = digest_hex(digest);
	return hex ? str_printf("%s/blobs/sha256-%s", models_dir, hex) : NULL;
}

char *blob_find(const char *models_dir, const char *digest, int *old_name)
{
	const char *hex = digest_hex(digest);
	char *p;
	struct stat st;
	if (old_name)
		*old_name = 0;
	if (!hex)
		return NULL;
	p = str_printf("%s/blobs/sha256-%s", models_dir, hex);
	if (p && stat(p, &st) == 0)
		return p;
	free(p);
	p = str_printf("%s/blobs/sha256:%s", models_dir, hex);
	if (p && stat(p, &st) == 0) {
		if (old_name)
			*old_name = 1;
		return p;
	}
	free(p);
	return NULL;
}

/* ---- the manifest walk ---- */

struct scan {
	struct store_entry *v;
	size_t n, cap;
	int failed;
};

static void scan_add(struct scan *s, const char *path, const char *parts[4], int dangling)
{
	struct store_entry *en;
	char *full;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 16;
		struct store_entry *nv = realloc(s->v, nc * sizeof(*nv));
		if (!nv) {
			s->failed = 1;
			return;
		}
		s->v = nv;
		s->cap = nc;
	}
	en = &s->v[s->n];
	memset(en, 0, sizeof(*en));
	en->path = strdup(path);
	en->rel = str_printf("%s/%s/%s/%s", parts[0], parts[1], parts[2], parts[3]);
	en->dangling = dangling;
	full = str_printf("%s/%s/%s:%s", parts[0], parts[1], parts[2], parts[3]);
	if (!en->path || !en->rel || !full) {
		free(en->path);
		free(en->rel);
		free(full);
		s->failed = 1;
		return;
	}
	if (model_name_parse(full, &en->name, NULL) == 0 && !strcmp(en->name.host, parts[0]) &&
	    !strcmp(en->name.ns, parts[1]) && !strcmp(en->name.model, parts[2]) &&
	    !strcmp(en->name.tag, parts[3]))
		en->name_ok = 1;
	free(full);
	s->n++;
}

static void scan_dir(struct scan *s, const char *dir, int depth, const char *parts[4])
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
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
	return strcmp(((const struct store_entry *)a)->rel, ((const struct store_entry *)b)->rel);
}

int store_scan(const char *models_dir, struct store_entry **out, size_t *n, struct moat_err *e)
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
		store_entries_free(s.v, s.n);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	if (s.n)
		qsort(s.v, s.n, sizeof(*s.v), entry_cmp);
	*out = s.v;
	*n = s.n;
	return 0;
}

void store_entries_free(struct store_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].path);
		free(v[i].rel);
	}
	free(v);
}

int store_read_manifest(const char *path, struct manifest *m, struct buf *raw, struct moat_err *e)
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
	}
	buf_release(&b);
	return rc;
}

/* Finds an entry of dir equal to name without case; exact match first. */
static char *find_ci(const char *dir, const char *name)
{
	char *p = fs_join(dir, name);
	DIR *d;
	struct dirent *de;
	char *hit = NULL;
	if (p && fs_exists(p))
		return p;
	free(p);
	d = opendir(dir);
	if (!d)
		return NULL;
	while ((de = readdir(d)))
		if (!strcasecmp(de->d_name, name)) {
			hit = fs_join(dir, de->d_name);
			break;
		}
	closedir(d);
	return hit;
}

char *store_find_manifest(const char *models_dir, const struct model_name *n, struct moat_err *e)
{
	const char *parts[4] = { n->host, n->ns, n->model, n->tag };
	char *cur = fs_join(models_dir, "manifests");
	for (int i = 0; cur && i < 4; i++) {
		char *next = find_ci(cur, parts[i]);
		free(cur);
		cur = next;
	}
	if (!cur || fs_is_dir(cur)) {
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

static void short_digest(const char *digest, char out[20])
{
	snprintf(out, 20, "sha256:%.12s", digest_hex(digest) ? digest_hex(digest) : digest);
}

/* Checks that the blobs of m exist with their sizes; appends problem strings. */
static void check_blobs_exist(const char *models_dir, const struct manifest *m, json_t *problems,
			      char **model_blob)
{
	for (size_t i = 0; i <= m->n_layers; i++) {
		const struct model_layer *l = i == 0 ? &m->config : &m->layers[i - 1];
		const char *kind = media_short(l->media_type);
		char sd[20];
		struct stat st;
		char *p = blob_find(models_dir, l->digest, NULL);
		short_digest(l->digest, sd);
		if (!p) {
			const char *why = "";
			if (i == 0)
				why = " (ollama hides this model from its list)";
			else if (!strcmp(l->media_type, MT_MEDIA_TEMPLATE) ||
				 !strcmp(l->media_type, MT_MEDIA_SYSTEM) ||
				 !strcmp(l->media_type, MT_MEDIA_PARAMS) ||
				 !strcmp(l->media_type, MT_MEDIA_MESSAGES) ||
				 !strcmp(l->media_type, MT_MEDIA_LICENSE))
				why = " (ollama run fails with \"model not found\")";
			json_array_append_new(problems, json_sprintf("%s blob %s is missing%s", kind,
								     sd, why));
			continue;
		}
		if (stat(p, &st) == 0 && (uint64_t)st.st_size != l->size)
			json_array_append_new(problems, json_sprintf(
				"%s blob %s is %llu bytes, the manifest says %llu", kind, sd,
				(unsigned long long)st.st_size, (unsigned long long)l->size));
		else if (model_blob && !*model_blob && !strcmp(l->media_type, MT_MEDIA_MODEL))
			*model_blob = realpath(p, NULL);
		free(p);
	}
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

json_t *models_list(const char *models_dir, struct moat_err *e)
{
	struct store_entry *v;
	size_t n;
	json_t *arr, **items;
	if (!fs_is_dir(models_dir)) {
		err_set(e, MOAT_ENOTFOUND, "no model store at '%s'", models_dir);
		return NULL;
	}
	if (store_scan(models_dir, &v, &n, e) < 0)
		return NULL;
	items = calloc(n + 1, sizeof(*items));
	if (!items) {
		store_entries_free(v, n);
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct store_entry *en = &v[i];
		json_t *o = json_object(), *problems = json_array();
		struct manifest m;
		struct moat_err me = MOAT_ERR_INIT;
		struct stat st;
		char *disp = en->name_ok ? model_name_display(&en->name) : strdup(en->rel);
		char *model_blob = NULL;
		json_object_set_new(o, "name", jsonu_string(disp ? disp : en->rel));
		free(disp);
		json_object_set_new(o, "manifest_path", jsonu_string(en->path));
		json_object_set_new(o, "id", json_null());
		json_object_set_new(o, "digest", json_null());
		json_object_set_new(o, "size", json_integer(0));
		json_object_set_new(o, "modified", json_integer(stat(en->path, &st) == 0 ?
								  (json_int_t)st.st_mtime : 0));
		json_object_set_new(o, "architecture", json_null());
		json_object_set_new(o, "parameters", json_null());
		json_object_set_new(o, "parameter_size", json_null());
		json_object_set_new(o, "quantization", json_null());
		json_object_set_new(o, "context_length", json_null());
		if (!en->name_ok)
			json_array_append_new(problems, json_string(
				"bad manifest name (ollama skips this file)"));
		if (en->dangling) {
			json_array_append_new(problems, json_string(
				"dangling symlink (ollama's whole model list fails on it)"));
		} else if (store_read_manifest(en->path, &m, NULL, &me) < 0) {
			json_array_append_new(problems, json_string(me.msg));
		} else {
			char id[13];
			memcpy(id, m.id, 12);
			id[12] = '\0';
			json_object_set_new(o, "id", json_string(id));
			json_object_set_new(o, "digest", json_string(m.id));
			json_object_set_new(o, "size", json_integer((json_int_t)manifest_size(&m)));
			check_blobs_exist(models_dir, &m, problems, &model_blob);
			if (!manifest_model_layer(&m))
				json_array_append_new(problems, json_string("no model layer"));
			if (model_blob) {
				struct gguf_info g;
				if (gguf_open(model_blob, &g, &me) == 0) {
					char ps[32];
					gguf_format_params(g.parameters, ps, sizeof(ps));
					json_object_set_new(o, "architecture", g.architecture ?
							    json_string(g.architecture) : json_null());
					json_object_set_new(o, "parameters",
							    json_integer((json_int_t)g.parameters));
					json_object_set_new(o, "parameter_size", json_string(ps));
					json_object_set_new(o, "quantization", g.quantization ?
							    json_string(g.quantization) : json_null());
					json_object_set_new(o, "context_length", g.context_length ?
							    json_integer((json_int_t)g.context_length) :
							    json_null());
					gguf_info_release(&g);
				} else {
					json_array_append_new(problems,
							      json_sprintf("model blob: %s", me.msg));
				}
			}
			manifest_release(&m);
		}
		json_object_set_new(o, "model_blob", model_blob ? json_string(model_blob)
								: json_null());
		free(model_blob);
		json_object_set_new(o, "problems", problems);
		items[i] = o;
	}
	if (n)
		qsort(items, n, sizeof(*items), list_cmp);
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, items[i]);
	free(items);
	store_entries_free(v, n);
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
	if (model_name_parse(name, &n, e) < 0)
		return NULL;
	mpath = store_find_manifest(models_dir, &n, e);
	if (!mpath)
		return NULL;
	if (store_read_manifest(mpath, &m, NULL, e) < 0) {
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
	blob = blob_find(models_dir, l->digest, NULL);
	if (!blob) {
		err_set(e, MOAT_ENOTFOUND, "the model blob of '%s' (%s) is missing from '%s'", name,
			l->digest, models_dir);
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
	const char *hex = digest_hex(digest);
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
	struct store_entry *v;
	size_t n;
	if (store_scan(models_dir, &v, &n, e) < 0)
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
			store_entries_free(v, n);
			return -1;
		}
		if (store_read_manifest(v[i].path, &m, NULL, e) < 0) {
			store_entries_free(v, n);
			return -1;
		}
		hexset_add(set, m.config.digest);
		for (size_t k = 0; k < m.n_layers; k++)
			hexset_add(set, m.layers[k].digest);
		manifest_release(&m);
	}
	store_entries_free(v, n);
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
	int count = 0;
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
		if (p && unlink(p) == 0) {
			count++;
			if (removed_out)
				json_array_append_new(removed_out, jsonu_string(p));
		}
		free(p);
	}
	if (d) {
		closedir(d);
		fs_sync_dir(bdir, NULL);
	}
	free(bdir);
	free(set.v);
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
	json_t *res = NULL, *removed, *kept_reason = NULL;
	uint64_t freed = 0;
	int blobs_removed = 0;
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
		paths[i] = store_find_manifest(models_dir, &nm, e);
		if (!paths[i])
			goto out;
		disp[i] = model_name_display(&nm);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(paths[k], paths[i])) {
				err_set(e, MOAT_EUSAGE, "model '%s' named twice", names[i]);
				goto out;
			}
	}
	for (got = 0; got < n; got++) {
		struct moat_err me = MOAT_ERR_INIT;
		if (store_read_manifest(paths[got], &ms[got], NULL, &me) < 0)
			memset(&ms[got], 0, sizeof(ms[got]));  /* removable; its blobs stay */
	}
	{
		struct moat_err me = MOAT_ERR_INIT;
		if (referenced_set(models_dir, &keep, paths, n, &me) < 0)
			kept_reason = json_sprintf("blobs kept: %s", me.msg);
	}
	removed = json_array();
	for (size_t i = 0; i < n; i++) {
		char *dir;
		if (unlink(paths[i]) < 0) {
			err_set(e, MOAT_EIO, "cannot remove '%s': %s", paths[i], strerror(errno));
			json_decref(removed);
			json_decref(kept_reason);
			goto out;
		}
		dir = fs_dirname(paths[i]);
		if (dir)
			prune_empty_dirs(dir, mroot);
		free(dir);
		json_array_append_new(removed, json_string(disp[i] ? disp[i] : names[i]));
	}
	if (!kept_reason) {
		for (size_t i = 0; i < n; i++) {
			for (size_t k = 0; k <= ms[i].n_layers && ms[i].layers; k++) {
				const struct model_layer *l = k == 0 ? &ms[i].config : &ms[i].layers[k - 1];
				char *p;
				int old;
				struct stat st;
				if (!digest_hex(l->digest) || hexset_has(&keep, digest_hex(l->digest)))
					continue;
				while ((p = blob_find(models_dir, l->digest, &old))) {
					if (stat(p, &st) == 0 && unlink(p) == 0) {
						freed += (uint64_t)st.st_size;
						blobs_removed++;
					} else {
						free(p);
						break;
					}
					free(p);
				}
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
	if (kept_reason)
		json_object_set_new(res, "warning", kept_reason);
out:
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
