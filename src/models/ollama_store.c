/*
 * ollama_store.c - reading an Ollama model store the way Ollama does:
 * manifests at exactly four levels under manifests/ (Ollama's glob
 * manifests/x/x/x/x), blobs under blobs/sha256-<hex> (or the old
 * sha256:<hex>), names compared without case.  On top of that: `models list`,
 * resolving a name to its GGUF blob, `models rm` and `fsck --prune`, and the
 * lock and owner that the commands writing into a store share.  Below the
 * store directory nothing is followed through a symlink: the store may belong
 * to the `ollama` user while root writes into it, and whoever owns it must not
 * be able to point moat at files outside it (opened one component at a time,
 * O_NOFOLLOW, with mstore_dir_open()).
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
	char *bdir;
	int linked;
	*path = NULL;
	if (old_name)
		*old_name = 0;
	if (!hex)
		return 0;
	/* nothing is found through a symlinked blobs/ (fsck names it) */
	if (!(bdir = fs_join(models_dir, "blobs")))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	linked = lstat(bdir, &st) < 0 || !S_ISDIR(st.st_mode);
	free(bdir);
	if (linked)
		return 0;
	for (int old = 0; old < 2; old++) {
		char *p;
		if (asprintf(&p, "%s/blobs/sha256%c%s", models_dir, old ? ':' : '-', hex) < 0)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		if (lstat(p, &st) == 0) {
			*path = p;
			if (old_name)
				*old_name = old;
			return 1;
		}
		free(p);
	}
	return 0;
}

/* ---- walking the store without following links ---- */

/* '<models_dir>/<rel up to len>' for messages; NULL when out of memory. */
static char *store_path(const char *models_dir, const char *rel, size_t len)
{
	char *p;
	if (!len)
		return strdup(models_dir);
	if (asprintf(&p, "%s/%.*s", models_dir, (int)len, rel) < 0)
		return NULL;
	return p;
}

int mstore_refuse(int dirfd, const char *name, const char *path, int err, struct moat_err *e)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return err_set(e, MOAT_ECORRUPT, "refusing '%s': it is a symlink, and moat follows "
			       "no link inside a model store", path);
	if (err == ENOENT)
		return err_set(e, MOAT_ENOTFOUND, "'%s' does not exist", path);
	if (err == ENOTDIR)
		return err_set(e, MOAT_ECORRUPT, "refusing '%s': not a directory", path);
	return err_set(e, MOAT_EIO, "cannot open '%s': %s", path, strerror(err));
}

int mstore_dir_open(const char *models_dir, const char *rel, int create, uid_t uid, gid_t gid,
		    struct moat_err *e)
{
	int fd = open(models_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t i = 0;
	if (fd < 0)
		return err_set(e, errno == ENOENT ? MOAT_ENOTFOUND : MOAT_EIO,
			       "cannot open the model store '%s': %s", models_dir, strerror(errno));
	while (rel[i]) {
		size_t end = i;
		char name[NAME_MAX + 1];
		int nfd, made = 0;
		while (rel[end] && rel[end] != '/')
			end++;
		if (end - i > NAME_MAX || (end - i == 2 && !strncmp(rel + i, "..", 2))) {
			close(fd);
			return err_set(e, MOAT_EUSAGE, "bad path '%s' in the store '%s'", rel,
				       models_dir);
		}
		memcpy(name, rel + i, end - i);
		name[end - i] = '\0';
		nfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT && create) {
			made = mkdirat(fd, name, 0755) == 0;
			nfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (nfd < 0 || (made && uid != (uid_t)-1 && fchown(nfd, uid, gid) < 0)) {
			int err = errno;
			char *p = store_path(models_dir, rel, end);
			if (!p)
				err_set(e, MOAT_ENOMEM, "out of memory");
			else if (nfd >= 0)
				err_set(e, MOAT_EIO, "cannot give '%s' to its owner: %s", p,
					strerror(err));
			else
				mstore_refuse(fd, name, p, err, e);
			free(p);
			if (nfd >= 0)
				close(nfd);
			close(fd);
			return -1;
		}
		if (made)
			fsync(fd);  /* the new directory survives a crash */
		close(fd);
		fd = nfd;
		i = rel[end] ? end + 1 : end;
	}
	return fd;
}

int mstore_file_open(const char *models_dir, const char *rel, struct moat_err *e)
{
	const char *slash = strrchr(rel, '/');
	char *dir = slash ? strndup(rel, (size_t)(slash - rel)) : strdup("");
	const char *base = slash ? slash + 1 : rel;
	struct stat st;
	int dfd, fd = -1;
	if (!dir)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	dfd = mstore_dir_open(models_dir, dir, 0, (uid_t)-1, (gid_t)-1, e);
	free(dir);
	if (dfd < 0)
		return -1;
	fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int err = fd < 0 ? errno : ENOTDIR;
		char *p = store_path(models_dir, rel, strlen(rel));
		if (!p)
			err_set(e, MOAT_ENOMEM, "out of memory");
		else if (fd >= 0)
			err_set(e, MOAT_ECORRUPT, "refusing '%s': not a regular file", p);
		else
			mstore_refuse(dfd, base, p, err, e);
		free(p);
		if (fd >= 0)
			close(fd);
		close(dfd);
		return -1;
	}
	close(dfd);
	return fd;
}

/* ---- the manifest walk ---- */

struct scan {
	struct mstore_entry *v;
	size_t n, cap;
	int failed;
};

static void scan_add(struct scan *s, const char *path, const char *parts[4], int link,
		     int dangling)
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
	en->link = link;
	en->dangling = dangling;
	if (!(en->path = strdup(path)) ||
	    asprintf(&en->rel, "%s/%s/%s/%s", parts[0], parts[1], parts[2], parts[3]) < 0) {
		free(en->path);
		s->failed = 1;
		return;
	}
	if (asprintf(&en->srel, "manifests/%s", en->rel) < 0) {
		free(en->path);
		free(en->rel);
		s->failed = 1;
		return;
	}
	en->name_ok = model_name_from_relpath(en->rel, &en->name, NULL) == 0;
	s->n++;
}

/* Links are listed at depth four (never read) and not followed above it:
 * whoever owns the store must not make moat read outside it. */
static void scan_dir(struct scan *s, const char *dir, int depth, const char *parts[4])
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return;
	while (!s->failed && (de = readdir(d))) {
		struct stat st, lst;
		char *p;
		int link;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		p = fs_join(dir, de->d_name);
		if (!p) {
			s->failed = 1;
			break;
		}
		if (lstat(p, &lst) < 0) {
			free(p);
			continue;
		}
		link = S_ISLNK(lst.st_mode);
		parts[depth - 1] = de->d_name;
		if (depth == 4) {
			if (link || !S_ISDIR(lst.st_mode))
				scan_add(s, p, parts, link, link && stat(p, &st) < 0);
		} else if (S_ISDIR(lst.st_mode)) {
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
	struct stat st;
	const char *parts[4] = { "", "", "", "" };
	char *mdir = fs_join(models_dir, "manifests");
	*out = NULL;
	*n = 0;
	if (!mdir)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (lstat(mdir, &st) == 0 && S_ISDIR(st.st_mode))
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
		free(v[i].srel);
	}
	free(v);
}

int mstore_read_manifest(const char *models_dir, const char *rel, struct manifest *m,
			 struct buf *raw, struct timespec *mtime, struct moat_err *e)
{
	struct buf b = BUF_INIT;
	struct stat st;
	char *path;
	int rc, fd;
	memset(m, 0, sizeof(*m));
	fd = mstore_file_open(models_dir, rel, e);
	if (fd < 0)
		return -1;
	if (mtime && fstat(fd, &st) == 0)
		*mtime = st.st_mtim;
	if (!(path = fs_join(models_dir, rel))) {
		close(fd);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	if (fs_read_fd(fd, path, &b, MANIFEST_MAX_BYTES, e) < 0) {
		free(path);
		buf_release(&b);
		return -1;
	}
	rc = manifest_parse(b.data ? b.data : "", b.len, m, e);
	if (rc < 0)
		err_prefix(e, "manifest '%s'", path);
	free(path);
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

/* The entry of the directory dfd equal to name without case, an exact match
 * first: 1 with *out (malloc'd), 0 when there is none, -1 when out of memory. */
static int find_ci(int dfd, const char *name, char **out)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd;
	*out = NULL;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return (*out = strdup(name)) ? 1 : -1;
	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)))
		if (!strcasecmp(de->d_name, name)) {
			*out = strdup(de->d_name);
			break;
		}
	closedir(d);
	return de ? (*out ? 1 : -1) : 0;
}

char *mstore_find_manifest(const char *models_dir, const struct model_name *n, struct moat_err *e)
{
	const char *parts[4] = { n->host, n->ns, n->model, n->tag };
	struct buf rel = BUF_INIT;
	struct moat_err oe = MOAT_ERR_INIT;
	int dfd = mstore_dir_open(models_dir, "manifests", 0, (uid_t)-1, (gid_t)-1, &oe);
	int found = dfd >= 0;
	buf_adds(&rel, "manifests");
	for (int i = 0; found == 1 && i < 4; i++) {
		char *next;
		struct stat st;
		found = find_ci(dfd, parts[i], &next);
		if (found != 1)
			break;
		buf_addf(&rel, "/%s", next);
		if (fstatat(dfd, next, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			found = 0;
		} else if (S_ISLNK(st.st_mode)) {
			char *p = fs_join(models_dir, buf_str(&rel));
			found = p ? 0 : -1;
			if (p)
				mstore_refuse(dfd, next, p, ELOOP, &oe);
			free(p);
		} else if (i < 3) {
			int nfd = S_ISDIR(st.st_mode) ? openat(dfd, next, O_RDONLY | O_DIRECTORY |
								O_NOFOLLOW | O_CLOEXEC) : -1;
			found = nfd >= 0;
			close(dfd);
			dfd = nfd;
		} else if (S_ISDIR(st.st_mode)) {
			found = 0;
		}
		free(next);
	}
	if (dfd >= 0)
		close(dfd);
	if (found < 0 || buf_failed(&rel) || oe.code == MOAT_ENOMEM) {
		buf_release(&rel);
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	if (oe.code && oe.code != MOAT_ENOTFOUND) {
		buf_release(&rel);
		models_err_copy(e, &oe);
		return NULL;
	}
	if (found != 1) {
		char *disp = model_name_display(n);
		buf_release(&rel);
		err_set(e, MOAT_ENOTFOUND, "model '%s' not found in '%s'", disp ? disp : n->model,
			models_dir);
		free(disp);
		return NULL;
	}
	return buf_detach(&rel, NULL);
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
		if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode))
			models_jadd(problems, json_sprintf(
				"%s blob sha256:%.12s is a symlink (moat follows no link inside a "
				"model store)", kind, hex ? hex : l->digest), bad);
		else if (lstat(p, &st) == 0 && (uint64_t)st.st_size != l->size)
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
	models_jset(o, "modified", json_integer(lstat(en->path, &st) == 0 ?
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
	} else if (en->link) {
		models_jadd(problems, json_string("symlink (moat follows no link inside a model "
						  "store, and reads no manifest through one)"), &bad);
	} else if (mstore_read_manifest(models_dir, en->srel, &m, NULL, NULL, &me) < 0) {
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
	if (mstore_read_manifest(models_dir, mpath, &m, NULL, NULL, e) < 0) {
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
			if (!strcmp(v[i].srel, except[k]))
				skip = 1;
		if (skip || !v[i].name_ok)
			continue;
		if (v[i].link) {
			err_set(e, MOAT_ECORRUPT, "'%s' is a %ssymlink", v[i].path,
				v[i].dangling ? "dangling " : "");
			mstore_entries_free(v, n);
			return -1;
		}
		if (mstore_read_manifest(models_dir, v[i].srel, &m, NULL, NULL, e) < 0) {
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
	char *bdir = NULL;
	DIR *d = NULL;
	struct dirent *de;
	int count = 0, bad = 0, bfd, dfd;
	if (referenced_set(models_dir, &set, NULL, 0, e) < 0) {
		err_prefix(e, "not pruning");
		free(set.v);
		return -1;
	}
	bfd = mstore_dir_open(models_dir, "blobs", 0, (uid_t)-1, (gid_t)-1, e);
	if (bfd < 0) {
		free(set.v);
		return e && e->code == MOAT_ENOTFOUND ? 0 : -1;
	}
	dfd = openat(bfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d && dfd >= 0)
		close(dfd);
	bdir = fs_join(models_dir, "blobs");
	while (d && bdir && (de = readdir(d))) {
		const char *hex;
		char *p;
		if (!blob_name_hex(de->d_name, &hex) || hexset_has(&set, hex))
			continue;
		p = fs_join(bdir, de->d_name);
		if (!p) {
			bad = 1;
			break;
		}
		if (unlinkat(bfd, de->d_name, 0) == 0) {
			count++;
			if (removed_out)
				models_jadd(removed_out, jsonu_string(p), &bad);
		}
		free(p);
	}
	if (d)
		closedir(d);
	fsync(bfd);
	close(bfd);
	free(bdir);
	free(set.v);
	if (!bdir || bad)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return count;
}

/* Removes the manifest at rel (manifests/host/ns/model/tag), then the
 * directories above it left empty, up to manifests/; each through a
 * directory opened without following links. */
static int remove_manifest(const char *models_dir, const char *rel, struct moat_err *e)
{
	char *cur = strdup(rel), *slash;
	int first = 1;
	if (!cur)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	while ((slash = strrchr(cur, '/'))) {
		int dfd, rc;
		*slash = '\0';
		dfd = mstore_dir_open(models_dir, cur, 0, (uid_t)-1, (gid_t)-1, first ? e : NULL);
		if (dfd < 0)
			break;
		rc = unlinkat(dfd, slash + 1, first ? 0 : AT_REMOVEDIR);
		if (rc < 0 && first)
			err_set(e, MOAT_EIO, "cannot remove '%s/%s': %s", models_dir, rel,
				strerror(errno));
		if (rc == 0)
			fsync(dfd);
		close(dfd);
		if (rc < 0)
			break;
		first = 0;
		if (!strchr(cur, '/'))
			break;  /* manifests/ itself stays */
	}
	free(cur);
	return first ? -1 : 0;
}

void mstore_blob_name(const char *hex, int old, char name[MSTORE_BLOB_NAME])
{
	memcpy(name, old ? "sha256:" : "sha256-", 7);
	memcpy(name + 7, hex, 64);
	name[71] = '\0';
}

/* Removes the blob of hex (both names, when an old sha256: copy sits beside
 * the new one) from the blobs/ directory bfd, adding to *freed and *count. */
static void remove_blob(int bfd, const char *hex, uint64_t *freed, int *count)
{
	for (int old = 0; old < 2; old++) {
		char name[MSTORE_BLOB_NAME];
		struct stat st;
		mstore_blob_name(hex, old, name);
		if (fstatat(bfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    unlinkat(bfd, name, 0) == 0) {
			*freed += S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
			(*count)++;
		}
	}
}

json_t *models_rm(const char *models_dir, const char *const *names, size_t n, struct moat_err *e)
{
	char **paths = calloc(n + 1, sizeof(*paths));
	char **disp = calloc(n + 1, sizeof(*disp));
	struct manifest *ms = calloc(n + 1, sizeof(*ms));
	struct hexset keep = { NULL, 0, 0 };
	json_t *res = NULL, *removed = NULL, *kept_reason = NULL;
	uint64_t freed = 0;
	int blobs_removed = 0, bad = 0, bfd = -1;
	size_t got = 0;

	if (!paths || !disp || !ms) {
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
		if (mstore_read_manifest(models_dir, paths[got], &ms[got], NULL, NULL, &me) < 0) {
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
	if (!kept_reason) {
		/* blobs only in a blobs/ that is no link */
		struct moat_err be = MOAT_ERR_INIT;
		bfd = mstore_dir_open(models_dir, "blobs", 0, (uid_t)-1, (gid_t)-1, &be);
		if (bfd < 0 && be.code != MOAT_ENOTFOUND &&
		    !(kept_reason = json_sprintf("blobs kept: %s", be.msg))) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (!(removed = json_array())) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (remove_manifest(models_dir, paths[i], e) < 0)
			goto out;
		models_jadd(removed, json_string(disp[i] ? disp[i] : names[i]), &bad);
	}
	if (bfd >= 0) {
		for (size_t i = 0; i < n; i++) {
			for (size_t k = 0; k <= ms[i].n_layers && ms[i].layers; k++) {
				const struct model_layer *l = k == 0 ? &ms[i].config
								     : &ms[i].layers[k - 1];
				const char *hex = models_digest_hex(l->digest);
				if (hex && !hexset_has(&keep, hex))
					remove_blob(bfd, hex, &freed, &blobs_removed);
			}
		}
		fsync(bfd);
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
	if (bfd >= 0)
		close(bfd);
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
	struct stat st;
	char *p = fs_join(models_dir, ".moat-lock");
	int dfd, fd;
	if (!p)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	dfd = mstore_dir_open(models_dir, "", 0, (uid_t)-1, (gid_t)-1, e);
	if (dfd < 0) {
		free(p);
		return -1;
	}
	/* only a file moat has just made is given away; an existing one (which the
	 * store's owner may have planted) is opened read-only, never followed */
	fd = openat(dfd, ".moat-lock", O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd >= 0 && uid != (uid_t)-1 && fchown(fd, uid, gid) < 0) {
		/* the lock works all the same */
	}
	if (fd < 0 && errno == EEXIST)
		fd = openat(dfd, ".moat-lock", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
			    O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			err_set(e, MOAT_ECORRUPT, "refusing '%s': not a regular file", p);
		else
			mstore_refuse(dfd, ".moat-lock", p, errno, e);
		if (fd >= 0)
			close(fd);
		close(dfd);
		free(p);
		return -1;
	}
	close(dfd);
	free(p);
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

void mstore_each_tmp(int dirfd, void (*fn)(void *arg, int dirfd, const char *name), void *arg)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	if (!d && fd >= 0)
		close(fd);
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, MT_TMP_PREFIX, strlen(MT_TMP_PREFIX)))
			fn(arg, dirfd, de->d_name);
	if (d)
		closedir(d);
}

static void remove_tmp(void *arg, int dirfd, const char *name)
{
	(void)arg;
	unlinkat(dirfd, name, 0);
}

void mstore_remove_stale_tmp(int dirfd)
{
	mstore_each_tmp(dirfd, remove_tmp, NULL);
}
