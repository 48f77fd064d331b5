/*
 * list.c - every model moat can reach, as URIs it can open: what Ollama
 * serves (/api/tags), what OpenAI-compatible servers serve (/v1/models), the
 * models of an Ollama store on disk (store:), and GGUF files in a directory
 * (gguf:).  A source that cannot be read is reported in the answer, never
 * fatal: the point is to see what is there.
 */
#define _XOPEN_SOURCE 700  /* realpath */
#include "internal.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/fs.h"
#include "../models/models.h"

#include "../core/banned.h"

static void add_source(json_t *sources, const char *kind, const char *where, int ok, size_t n,
		       const char *err)
{
	json_t *s = json_pack("{s:s, s:s, s:b}", "source", kind, "where", where, "ok", ok);
	if (ok)
		json_object_set_new(s, "models", json_integer((json_int_t)n));
	else
		json_object_set_new(s, "error", json_string(err ? err : "unknown error"));
	json_array_append_new(sources, s);
}

static void http_setup(struct http_client *c, const struct llm_config *cfg)
{
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->allow = cfg->allow_hosts;
	c->n_allow = cfg->n_allow_hosts;
}

static void list_ollama(const char *base, const struct llm_config *cfg, json_t *models, json_t *sources)
{
	struct http_client c;
	struct http_xfer x;
	struct moat_err e = MOAT_ERR_INIT;
	char url[1200], hp[300];
	json_t *j, *arr;
	json_error_t je;
	size_t n = 0;

	http_setup(&c, cfg);
	http_hostport(base, hp, sizeof(hp));
	snprintf(url, sizeof(url), "%s/api/tags", base);
	http_xfer_init(&x, url, NULL);
	x.server = "Ollama";
	x.hint = "is 'ollama serve' running?";
	if (http_simple(&c, &x, &e) < 0) {
		add_source(sources, "ollama", hp, 0, 0, e.msg);
		http_xfer_release(&x);
		return;
	}
	j = json_loadb(buf_str(&x.resp), x.resp.len, 0, &je);
	http_xfer_release(&x);
	arr = json_object_get(j, "models");
	if (!json_is_array(arr)) {
		add_source(sources, "ollama", hp, 0, 0, "the /api/tags answer has no models list");
		json_decref(j);
		return;
	}
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *mo = json_array_get(arr, i), *v, *o;
		const char *name = json_string_value(json_object_get(mo, "name"));
		char uri[1200];
		if (!name)
			name = json_string_value(json_object_get(mo, "model"));
		if (!name)
			continue;
		snprintf(uri, sizeof(uri), "ollama://%s/%s", hp, name);
		o = json_pack("{s:s, s:s, s:s}", "uri", uri, "source", "ollama", "name", name);
		if (json_is_integer(v = json_object_get(mo, "size")))
			json_object_set(o, "size", v);
		if (json_is_string(v = json_object_get(mo, "digest"))) {
			char d[100];
			snprintf(d, sizeof(d), "%s%s", strncmp(json_string_value(v), "sha256:", 7) ? "sha256:" : "",
				 json_string_value(v));
			json_object_set_new(o, "manifest_digest", json_string(d));
		}
		json_array_append_new(models, o);
		n++;
	}
	json_decref(j);
	add_source(sources, "ollama", hp, 1, n, NULL);
}

static void list_server(const char *given, const struct llm_config *cfg, json_t *models, json_t *sources)
{
	struct http_client c;
	struct http_xfer x;
	struct moat_err e = MOAT_ERR_INIT;
	char base[1100], url[1200], hp[300], prefix[600] = "/v1";
	json_t *j, *data;
	json_error_t je;
	size_t n = 0;

	/* http://H:P, http://H:P/v1, or openai://H:P[/v1] */
	if (!strncmp(given, "openai://", 9))
		snprintf(base, sizeof(base), "http://%s", given + 9);
	else if (!strncmp(given, "openai+https://", 15))
		snprintf(base, sizeof(base), "https://%s", given + 15);
	else
		snprintf(base, sizeof(base), "%s", given);
	{
		size_t l = strlen(base);
		while (l && base[l - 1] == '/')
			base[--l] = '\0';
		if (l >= 3 && !strcmp(base + l - 3, "/v1"))
			base[l - 3] = '\0';
	}
	http_hostport(base, hp, sizeof(hp));
	snprintf(url, sizeof(url), "%s%s/models", base, prefix);
	http_setup(&c, cfg);
	http_xfer_init(&x, url, NULL);
	x.hint = "is the server running?";
	if (http_simple(&c, &x, &e) < 0) {
		add_source(sources, "openai", hp, 0, 0, e.msg);
		http_xfer_release(&x);
		return;
	}
	j = json_loadb(buf_str(&x.resp), x.resp.len, 0, &je);
	http_xfer_release(&x);
	data = json_object_get(j, "data");
	if (!json_is_array(data)) {
		add_source(sources, "openai", hp, 0, 0, "the /v1/models answer has no data list");
		json_decref(j);
		return;
	}
	for (size_t i = 0; i < json_array_size(data); i++) {
		json_t *d = json_array_get(data, i), *o, *meta;
		const char *id = json_string_value(json_object_get(d, "id"));
		char uri[1400];
		if (!id)
			continue;
		snprintf(uri, sizeof(uri), "openai%s://%s/v1/%s", !strncmp(base, "https", 5) ? "+https" : "", hp, id);
		o = json_pack("{s:s, s:s, s:s}", "uri", uri, "source", "openai", "name", id);
		meta = json_object_get(d, "meta");
		if (json_is_integer(json_object_get(meta, "size")))
			json_object_set(o, "size", json_object_get(meta, "size"));
		json_array_append_new(models, o);
		n++;
	}
	json_decref(j);
	add_source(sources, "openai", hp, 1, n, NULL);
}

static void list_store(const char *flag_dir, json_t *models, json_t *sources)
{
	char *dir = models_default_dir(flag_dir);
	struct moat_err e = MOAT_ERR_INIT;
	json_t *l;
	size_t n = 0;
	if (!dir)
		return;
	if (!fs_is_dir(dir)) {
		add_source(sources, "store", dir, 0, 0, "no such directory");
		free(dir);
		return;
	}
	l = models_list(dir, &e);
	if (!l) {
		add_source(sources, "store", dir, 0, 0, e.msg);
		free(dir);
		return;
	}
	for (size_t i = 0; i < json_array_size(l); i++) {
		json_t *mo = json_array_get(l, i), *o, *v;
		const char *name = json_string_value(json_object_get(mo, "name"));
		char uri[600];
		if (!name)
			continue;
		snprintf(uri, sizeof(uri), "store:%s", name);
		o = json_pack("{s:s, s:s, s:s}", "uri", uri, "source", "store", "name", name);
		if (json_is_integer(v = json_object_get(mo, "size")))
			json_object_set(o, "size", v);
		if (json_is_string(v = json_object_get(mo, "digest")))
			json_object_set(o, "manifest_digest", v);
		if (json_is_array(v = json_object_get(mo, "problems")) && json_array_size(v))
			json_object_set(o, "problems", v);
		json_array_append_new(models, o);
		n++;
	}
	json_decref(l);
	add_source(sources, "store", dir, 1, n, NULL);
	free(dir);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void list_gguf_dir(const char *dir, json_t *models, json_t *sources)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	char absdir[PATH_MAX];
	if (!d) {
		add_source(sources, "gguf", dir, 0, 0, "cannot open the directory");
		return;
	}
	if (!realpath(dir, absdir))
		snprintf(absdir, sizeof(absdir), "%s", dir);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".gguf"))
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof(*names));
			if (!nn)
				break;
			names = nn;
		}
		names[n] = malloc(l + 1);
		if (!names[n])
			break;
		memcpy(names[n++], de->d_name, l + 1);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX + 300], uri[PATH_MAX + 310], magic[4];
		struct stat st;
		FILE *f;
		int ok = 0;
		snprintf(path, sizeof(path), "%s/%s", absdir, names[i]);
		f = fopen(path, "rb");
		if (f) {
			ok = fread(magic, 1, 4, f) == 4 && !memcmp(magic, "GGUF", 4);
			fclose(f);
		}
		if (ok && stat(path, &st) == 0) {
			snprintf(uri, sizeof(uri), "gguf:%s", path);
			json_array_append_new(models, json_pack("{s:s, s:s, s:s, s:I}", "uri", uri, "source", "gguf",
								"name", names[i], "size", (json_int_t)st.st_size));
		}
		free(names[i]);
	}
	free(names);
	add_source(sources, "gguf", absdir, 1, n, NULL);
}

json_t *llm_list(const struct llm_list_sources *s)
{
	json_t *models = json_array(), *sources = json_array();
	struct llm_config dflt = llm_config_default();
	const struct llm_config *cfg = s->cfg ? s->cfg : &dflt;
	if (!s->ollama_url || *s->ollama_url) {
		char *base = s->ollama_url ? NULL : llm_ollama_url_from_env();
		const char *b = s->ollama_url ? s->ollama_url : base;
		char norm[1100];
		if (b) {
			/* "127.0.0.1:11434" or "http://127.0.0.1:11434/" */
			snprintf(norm, sizeof(norm), "%s%s", strstr(b, "://") ? "" : "http://", b);
			{
				size_t l = strlen(norm);
				while (l && norm[l - 1] == '/')
					norm[--l] = '\0';
			}
			list_ollama(norm, cfg, models, sources);
		}
		free(base);
	}
	for (size_t i = 0; i < s->n_servers; i++)
		list_server(s->servers[i], cfg, models, sources);
	list_store(s->models_dir, models, sources);
	if (s->gguf_dir)
		list_gguf_dir(s->gguf_dir, models, sources);
	return json_pack("{s:o, s:o}", "models", models, "sources", sources);
}
