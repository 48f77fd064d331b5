/*
 * list.c - every model moat can reach, as URIs it can open: what Ollama
 * serves (/api/tags), what OpenAI-compatible servers serve (/v1/models), the
 * models of an Ollama store on disk (store:), and GGUF files in a directory
 * (gguf:).  A source that cannot be read is reported in the answer, never
 * fatal: the point is to see what is there.
 */
#define _XOPEN_SOURCE 700  /* realpath */
#include "http.h"

#include <dirent.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/fs.h"
#include "../core/jsonu.h"
#include "../core/progress.h"
#include "../core/utf8.h"
#include "../models/models.h"

#include "../core/banned.h"

struct lister {
	json_t *models, *sources;
	const struct llm_config *cfg;
	struct llm_budget budget; /* cfg's deadline, for all the servers asked */
	int nomem;               /* something was lost for want of memory */
};

static void add_source(struct lister *l, const char *kind, const char *where, int ok, size_t n,
		       const char *err)
{
	/* where (a path) and err (a server's words) may be any bytes */
	json_t *s = json_object();
	if (!s || json_object_set_new(s, "source", json_string(kind)) < 0 ||
	    json_object_set_new(s, "where", jsonu_string(where)) < 0 ||
	    json_object_set_new(s, "ok", json_boolean(ok)) < 0 ||
	    json_object_set_new(s, ok ? "models" : "error",
				ok ? json_integer((json_int_t)n) : jsonu_string(err ? err : "unknown error")) < 0) {
		json_decref(s);
		l->nomem = 1;
		return;
	}
	if (json_array_append_new(l->sources, s) < 0)
		l->nomem = 1;
}

/* {"uri","source","name"} for a model, its URI made of fmt, added to the
 * list; NULL when it is left out: a name that is not UTF-8 (a file's) makes
 * no URI one can type, and no memory is noted. */
static json_t *add_model(struct lister *l, const char *source, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static json_t *add_model(struct lister *l, const char *source, const char *name, const char *fmt, ...)
{
	json_t *o = NULL;
	va_list ap;
	char *uri;
	int n;
	va_start(ap, fmt);
	n = vasprintf(&uri, fmt, ap);
	va_end(ap);
	if (n < 0) {
		l->nomem = 1;
		return NULL;
	}
	if (utf8_is_valid(uri, strlen(uri)) && utf8_is_valid(name, strlen(name))) {
		o = json_pack("{s:s, s:s, s:s}", "uri", uri, "source", source, "name", name);
		if (!o || json_array_append_new(l->models, o) < 0) {
			l->nomem = 1;
			o = NULL;
		}
	}
	free(uri);
	return o;
}

/* o[key] = v, a reference it takes; nothing when o is NULL. */
static void add_fact(struct lister *l, json_t *o, const char *key, json_t *v)
{
	if (!o)
		json_decref(v);
	else if (json_object_set_new(o, key, v) < 0)
		l->nomem = 1;
}

/* The list under key of a server's answer to GET base + path, or NULL after
 * reporting the source as failed; *root gets the document to release. */
static json_t *fetch_list(struct lister *l, struct http_client *c, const char *base, const char *path,
			  const char *key, const char *kind, const char *where, const char *no_list,
			  json_t **root)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *arr;
	if (http_json(c, base, path, NULL, root, NULL, &e) < 0) {
		if (e.code == MOAT_ENOMEM)
			l->nomem = 1;
		add_source(l, kind, where, 0, 0, e.msg);
		return NULL;
	}
	arr = json_object_get(*root, key);
	if (!json_is_array(arr)) {
		add_source(l, kind, where, 0, 0, no_list);
		return NULL;
	}
	return arr;
}

static void list_ollama(struct lister *l, const char *base)
{
	struct http_client c;
	char hpbuf[LLM_HOSTPORT_MAX];
	const char *hp = llm_url_hostport(base, hpbuf, sizeof(hpbuf)) == 0 ? hpbuf : base;
	json_t *j = NULL, *arr;
	size_t n = 0;

	http_client_init(&c, l->cfg, "Ollama", "is 'ollama serve' running?");
	c.budget = &l->budget;
	arr = fetch_list(l, &c, base, "/api/tags", "models", "ollama", hp,
			 "the /api/tags answer has no models list", &j);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *mo = json_array_get(arr, i), *v, *o;
		const char *name = json_string_value(json_object_get(mo, "name"));
		char *d;
		if (!name)
			name = json_string_value(json_object_get(mo, "model"));
		if (!name)
			continue;
		o = add_model(l, "ollama", name, "ollama://%s/%s", hp, name);
		if (json_is_integer(v = json_object_get(mo, "size")))
			add_fact(l, o, "size", json_incref(v));
		if (json_is_string(v = json_object_get(mo, "digest"))) {
			const char *dv = json_string_value(v);
			if (asprintf(&d, "%s%s", strncmp(dv, "sha256:", 7) ? "sha256:" : "", dv) < 0) {
				l->nomem = 1;
			} else {
				add_fact(l, o, "manifest_digest", json_string(d));
				free(d);
			}
		}
		n++;
	}
	if (arr)
		add_source(l, "ollama", hp, 1, n, NULL);
	json_decref(j);
}

/* "http://H:P" of an OpenAI-compatible server given as http://H:P,
 * http://H:P/v1, or openai://H:P[/v1]; NULL when out of memory. */
static char *server_base(const char *given)
{
	char *base;
	size_t len;
	int rc;
	if (!strncmp(given, "openai://", 9))
		rc = asprintf(&base, "http://%s", given + 9);
	else if (!strncmp(given, "openai+https://", 15))
		rc = asprintf(&base, "https://%s", given + 15);
	else
		rc = (base = strdup(given)) ? 0 : -1;
	if (rc < 0)
		return NULL;
	len = strlen(base);
	while (len && base[len - 1] == '/')
		base[--len] = '\0';
	if (len >= 3 && !strcmp(base + len - 3, "/v1"))
		base[len - 3] = '\0';
	return base;
}

static void list_server(struct lister *l, const char *given)
{
	struct http_client c;
	char hpbuf[LLM_HOSTPORT_MAX], *base = server_base(given);
	const char *hp;
	json_t *j = NULL, *data;
	size_t n = 0;

	if (!base) {
		l->nomem = 1;
		return;
	}
	hp = llm_url_hostport(base, hpbuf, sizeof(hpbuf)) == 0 ? hpbuf : base;
	http_client_init(&c, l->cfg, "the server", "is the server running?");
	c.budget = &l->budget;
	data = fetch_list(l, &c, base, "/v1/models", "data", "openai", hp,
			  "the /v1/models answer has no data list", &j);
	for (size_t i = 0; i < json_array_size(data); i++) {
		json_t *d = json_array_get(data, i), *o, *size;
		const char *id = json_string_value(json_object_get(d, "id"));
		if (!id)
			continue;
		o = add_model(l, "openai", id, "openai%s://%s/v1/%s", !strncmp(base, "https", 5) ? "+https" : "",
			      hp, id);
		size = json_object_get(json_object_get(d, "meta"), "size");
		if (json_is_integer(size))
			add_fact(l, o, "size", json_incref(size));
		n++;
	}
	if (data)
		add_source(l, "openai", hp, 1, n, NULL);
	json_decref(j);
	free(base);
}

static void list_store(struct lister *l, const char *flag_dir)
{
	char *dir = models_default_dir(flag_dir);
	struct moat_err e = MOAT_ERR_INIT;
	json_t *ms;
	size_t n = 0;
	if (!dir) {
		l->nomem = 1;
		return;
	}
	if (!fs_is_dir(dir)) {
		add_source(l, "store", dir, 0, 0, "no such directory");
		free(dir);
		return;
	}
	ms = models_list(dir, &e);
	if (!ms) {
		if (e.code == MOAT_ENOMEM)
			l->nomem = 1;
		add_source(l, "store", dir, 0, 0, e.msg);
		free(dir);
		return;
	}
	for (size_t i = 0; i < json_array_size(ms); i++) {
		json_t *mo = json_array_get(ms, i), *o, *v;
		const char *name = json_string_value(json_object_get(mo, "name"));
		if (!name)
			continue;
		o = add_model(l, "store", name, "store:%s", name);
		if (json_is_integer(v = json_object_get(mo, "size")))
			add_fact(l, o, "size", json_incref(v));
		if (json_is_string(v = json_object_get(mo, "digest")))
			add_fact(l, o, "manifest_digest", json_incref(v));
		if (json_is_array(v = json_object_get(mo, "problems")) && json_array_size(v))
			add_fact(l, o, "problems", json_incref(v));
		n++;
	}
	json_decref(ms);
	add_source(l, "store", dir, 1, n, NULL);
	free(dir);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of the *.gguf entries of a directory, sorted; NULL when there is
 * none (or no memory: noted). */
static char **gguf_names(struct lister *l, DIR *d, size_t *n_out)
{
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".gguf"))
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap ? cap * 2 : 16) * sizeof(*names));
			if (!nn)
				break;
			names = nn;
			cap = cap ? cap * 2 : 16;
		}
		if (!(names[n] = strdup(de->d_name)))
			break;
		n++;
	}
	if (de)
		l->nomem = 1;
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	*n_out = n;
	return names;
}

/* 1 when the file at path starts like a GGUF file; its size into *size. */
static int is_gguf(const char *path, long long *size)
{
	char magic[4];
	struct stat st;
	FILE *f = fopen(path, "rb");
	int ok = 0;
	if (f) {
		ok = fread(magic, 1, 4, f) == 4 && !memcmp(magic, "GGUF", 4);
		fclose(f);
	}
	if (!ok || stat(path, &st) < 0)
		return 0;
	*size = (long long)st.st_size;
	return 1;
}

static void list_gguf_dir(struct lister *l, const char *dir)
{
	DIR *d = opendir(dir);
	char absdir[PATH_MAX], **names;
	const char *root;
	size_t n = 0;
	if (!d) {
		add_source(l, "gguf", dir, 0, 0, "cannot open the directory");
		return;
	}
	root = realpath(dir, absdir) ? absdir : dir;
	names = gguf_names(l, d, &n);
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		char *path = fs_join(root, names[i]);
		long long size;
		if (!path)
			l->nomem = 1;
		else if (is_gguf(path, &size))
			add_fact(l, add_model(l, "gguf", names[i], "gguf:%s", path), "size", json_integer(size));
		free(path);
		free(names[i]);
	}
	free(names);
	add_source(l, "gguf", root, 1, n, NULL);
}

/* "http://127.0.0.1:11434" of "127.0.0.1:11434" or "http://127.0.0.1:11434/". */
static char *ollama_base(const char *given)
{
	char *b;
	size_t len;
	if (given && asprintf(&b, "%s%s", strstr(given, "://") ? "" : "http://", given) < 0)
		return NULL;
	if (!given && !(b = llm_ollama_url_from_env()))
		return NULL;
	len = strlen(b);
	while (len && b[len - 1] == '/')
		b[--len] = '\0';
	return b;
}

json_t *llm_list(const struct llm_list_sources *s)
{
	struct llm_config dflt = llm_config_default();
	struct lister l = { json_array(), json_array(), s->cfg ? s->cfg : &dflt, { 0, 0 }, 0 };
	l.budget = llm_budget_from(now_seconds(), l.cfg->deadline_ms);
	if (!l.models || !l.sources)
		goto nomem;
	if (!s->ollama_url || *s->ollama_url) {
		char *base = ollama_base(s->ollama_url);
		if (!base)
			goto nomem;
		list_ollama(&l, base);
		free(base);
	}
	for (size_t i = 0; i < s->n_servers; i++)
		list_server(&l, s->servers[i]);
	list_store(&l, s->models_dir);
	if (s->gguf_dir)
		list_gguf_dir(&l, s->gguf_dir);
	if (l.nomem)
		goto nomem;
	return json_pack("{s:o, s:o}", "models", l.models, "sources", l.sources);
nomem:
	json_decref(l.models);
	json_decref(l.sources);
	return NULL;
}
