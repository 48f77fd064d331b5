/*
 * uri.c - model URIs (ollama://, openai://, gguf:, store:), the URLs they
 * turn into, OLLAMA_HOST as Ollama itself reads it, and the one rule of
 * where moat may connect: loopback, or a host the user named.  Nothing here
 * connects anywhere (http.c does, and asks llm_host_allowed first).
 */
#include "llm.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/fmt.h"

#include "../core/banned.h"

#define OLLAMA_PORT 11434
#define OPENAI_PORT 8080

/* Parses "host", "host:port", "[v6]" or "[v6]:port" (n bytes at s). */
static int parse_hostport(const char *s, size_t n, char *host, size_t hsize, int *port)
{
	const char *colon = NULL;
	size_t hl;
	if (n == 0)
		return -1;
	if (s[0] == '[') {
		const char *end = memchr(s, ']', n);
		if (!end)
			return -1;
		hl = (size_t)(end - s - 1);
		if (hl == 0 || hl >= hsize)
			return -1;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if ((size_t)(end + 1 - s) < n) {
			if (end[1] != ':')
				return -1;
			colon = end + 1;
		}
	} else {
		colon = memchr(s, ':', n);
		hl = colon ? (size_t)(colon - s) : n;
		if (hl >= hsize)
			return -1;
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (colon && memchr(colon + 1, ':', n - hl - 1))
			return -1;  /* an IPv6 address needs brackets */
	}
	if (colon) {
		long p = 0;
		const char *q = colon + 1, *end = s + n;
		if (q == end)
			return -1;
		for (; q < end; q++) {
			if (!isdigit((unsigned char)*q))
				return -1;
			p = p * 10 + (*q - '0');
			if (p > 65535)
				return -1;
		}
		if (p < 1)
			return -1;
		*port = (int)p;
	}
	for (const char *c = host; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr(".-_:%", *c))
			return -1;
	return 0;
}

/* "http://host:port" + path[0..plen), with brackets around an IPv6 host;
 * NULL when out of memory. */
static char *make_base(int https, const char *host, int port, const char *path, size_t plen)
{
	char *s;
	int v6 = strchr(host, ':') != NULL;
	if (asprintf(&s, "%s://%s%s%s:%d%.*s", https ? "https" : "http", v6 ? "[" : "", host,
		     v6 ? "]" : "", port, (int)plen, path ? path : "") < 0)
		return NULL;
	return s;
}

int llm_url_split(const char *url, char *host, size_t hsize, int *port, int *https)
{
	const char *p, *end;
	int tls;
	if (!strncasecmp(url, "http://", 7)) {
		tls = 0;
		p = url + 7;
	} else if (!strncasecmp(url, "https://", 8)) {
		tls = 1;
		p = url + 8;
	} else {
		return -1;
	}
	end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(end - p)))
		return -1;  /* no user:password@ */
	*port = tls ? 443 : 80;
	if (parse_hostport(p, (size_t)(end - p), host, hsize, port) < 0)
		return -1;
	if (https)
		*https = tls;
	return 0;
}

int llm_url_hostport(const char *url, char *out, size_t size)
{
	char host[256];
	int port, n;
	if (llm_url_split(url, host, sizeof(host), &port, NULL) < 0)
		return -1;
	if (strchr(host, ':'))
		n = xsnprintf(out, size, "[%s]:%d", host, port);
	else
		n = xsnprintf(out, size, "%s:%d", host, port);
	return n < 0 ? -1 : 0;
}

char *llm_ollama_url_from_env(void)
{
	const char *p = getenv("OLLAMA_HOST"), *host = "127.0.0.1";
	char h[256];
	size_t n, k;
	int https = 0, port = OLLAMA_PORT, pt;

	/* Ollama's envconfig.Var: trim spaces, then quotes. */
	if (!p)
		p = "";
	while (*p == ' ' || *p == '\t')
		p++;
	n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n'))
		n--;
	while (n && (*p == '"' || *p == '\''))
		p++, n--;
	while (n && (p[n - 1] == '"' || p[n - 1] == '\''))
		n--;

	if (n >= 8 && !strncasecmp(p, "https://", 8)) {
		https = 1;
		port = 443;
		p += 8;
		n -= 8;
	} else if (n >= 7 && !strncasecmp(p, "http://", 7)) {
		port = 80;
		p += 7;
		n -= 7;
	}
	for (k = 0; k < n && p[k] != '/'; k++)
		;
	n = k;
	pt = port;
	if (n > 0 && p[0] == ':') {
		/* ":11434": the default host with a port */
		char *tmp;
		if (asprintf(&tmp, "127.0.0.1%.*s", (int)n, p) < 0)
			return NULL;
		if (parse_hostport(tmp, strlen(tmp), h, sizeof(h), &pt) == 0) {
			host = h;
			port = pt;
		}
		free(tmp);
	} else if (n > 0 && parse_hostport(p, n, h, sizeof(h), &pt) == 0) {
		host = h;
		port = pt;
	}
	/* Ollama's ConnectableHost: the unspecified address means loopback. */
	if (!strcmp(host, "0.0.0.0") || !host[0])
		host = "127.0.0.1";
	else if (!strcmp(host, "::"))
		host = "::1";
	return make_base(https, host, port, NULL, 0);
}

/* A host as written, without its brackets: p[0..*n). */
static const char *unbracket(const char *s, size_t *n)
{
	const char *p = s[0] == '[' ? s + 1 : s;
	*n = strlen(p);
	if (*n && p[*n - 1] == ']')
		(*n)--;
	return p;
}

int llm_host_allowed(const char *host, const char *const *allow, size_t n_allow)
{
	unsigned char a[16];
	char lit[64];
	size_t n;
	const char *h;
	if (!host || !*host)
		return 0;
	h = unbracket(host, &n);
	if ((n == 9 && !strncasecmp(h, "localhost", 9)) ||
	    (n > 10 && !strncasecmp(h + n - 10, ".localhost", 10)))
		return 1;
	if (n < sizeof(lit)) {  /* an address literal is shorter */
		memcpy(lit, h, n);
		lit[n] = '\0';
		if (inet_pton(AF_INET, lit, a) == 1 && a[0] == 127)
			return 1;
		if (inet_pton(AF_INET6, lit, a) == 1) {
			static const unsigned char lo[16] = { [15] = 1 };
			static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
			if (!memcmp(a, lo, 16))
				return 1;
			if (!memcmp(a, mapped, 12) && a[12] == 127)
				return 1;
		}
	}
	for (size_t i = 0; i < n_allow; i++) {
		size_t wl;
		const char *w;
		if (!allow[i])
			continue;
		w = unbracket(allow[i], &wl);
		if (wl == n && !strncasecmp(w, h, n))
			return 1;
	}
	return 0;
}

void llm_uri_release(struct llm_uri *u)
{
	if (!u)
		return;
	free(u->host);
	free(u->base);
	free(u->root);
	free(u->model);
	memset(u, 0, sizeof(*u));
}

static int parse_server(const char *uri, const char *rest, int https, int openai,
			struct llm_uri *u, struct moat_err *e)
{
	char host[256];
	const char *slash = strchr(rest, '/');
	size_t hl = slash ? (size_t)(slash - rest) : strlen(rest);
	const char *path = slash ? slash : "";
	int port = openai ? (https ? 443 : OPENAI_PORT) : (https ? 443 : OLLAMA_PORT);

	if (hl == 0 || memchr(rest, '@', hl) ||
	    parse_hostport(rest, hl, host, sizeof(host), &port) < 0)
		return err_set(e, MOAT_EUSAGE, "bad host in model '%s' (expected %s://HOST:PORT/%s)",
			       uri, openai ? "openai" : "ollama", openai ? "v1/NAME" : "NAME");
	if (!openai && (!path[0] || !path[1]))
		return err_set(e, MOAT_EUSAGE,
			       "no model name in '%s' (expected ollama://HOST:PORT/NAME:TAG)", uri);
	u->host = strdup(host);
	u->port = port;
	u->https = https;
	u->root = make_base(https, host, port, NULL, 0);
	if (!openai) {
		u->model = strdup(path + 1);
		u->base = u->root ? strdup(u->root) : NULL;
	} else {
		/* the API's root: up to /v1 ("/x/v1/NAME", "/x/v1"), else /v1 */
		const char *v1 = strstr(path, "/v1/");
		size_t pl = strlen(path);
		if (v1) {
			u->base = make_base(https, host, port, path, (size_t)(v1 - path) + 3);
			u->model = strdup(v1 + 4);
		} else if (pl >= 3 && !strcmp(path + pl - 3, "/v1")) {
			u->base = make_base(https, host, port, path, pl);
			u->model = strdup("");
		} else {
			u->base = make_base(https, host, port, "/v1", 3);
			u->model = strdup(path[0] ? path + 1 : "");
		}
	}
	if (!u->host || !u->root || !u->base || !u->model)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return 0;
}

int llm_uri_parse(const char *uri, struct llm_uri *u, struct moat_err *e)
{
	memset(u, 0, sizeof(*u));
	if (!uri || !*uri)
		return err_set(e, MOAT_EUSAGE, "no model named");
	if (!strncmp(uri, "ollama://", 9)) {
		u->backend = LLM_OLLAMA;
		if (parse_server(uri, uri + 9, 0, 0, u, e) < 0)
			goto fail;
		return 0;
	}
	if (!strncmp(uri, "ollama:", 7)) {
		/* ollama:NAME - the server OLLAMA_HOST names */
		char *base;
		char host[256];
		int port, https;
		if (!uri[7])
			return err_set(e, MOAT_EUSAGE, "no model name in '%s'", uri);
		base = llm_ollama_url_from_env();
		if (!base)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		if (llm_url_split(base, host, sizeof(host), &port, &https) < 0) {
			free(base);
			return err_set(e, MOAT_EUSAGE, "cannot use OLLAMA_HOST for '%s'", uri);
		}
		u->backend = LLM_OLLAMA;
		u->host = strdup(host);
		u->port = port;
		u->https = https;
		u->root = base;
		u->base = strdup(base);
		u->model = strdup(uri + 7);
		if (!u->host || !u->base || !u->model)
			goto nomem;
		return 0;
	}
	if (!strncmp(uri, "openai://", 9) || !strncmp(uri, "openai+http://", 14) ||
	    !strncmp(uri, "openai+https://", 15)) {
		int https = !strncmp(uri, "openai+https://", 15);
		const char *rest = strstr(uri, "://") + 3;
		u->backend = LLM_OPENAI;
		if (parse_server(uri, rest, https, 1, u, e) < 0)
			goto fail;
		return 0;
	}
	if (!strncmp(uri, "gguf:", 5)) {
		const char *p = uri + 5;
		if (!strncmp(p, "//", 2) && p[2] == '/')
			p += 2;  /* gguf:///abs/path */
		if (!*p)
			return err_set(e, MOAT_EUSAGE, "no file in '%s' (expected gguf:/path/to/model.gguf)", uri);
		u->backend = LLM_GGUF;
		u->model = strdup(p);
		if (!u->model)
			goto nomem;
		return 0;
	}
	if (!strncmp(uri, "store:", 6)) {
		if (!uri[6])
			return err_set(e, MOAT_EUSAGE, "no model name in '%s' (expected store:NAME:TAG)", uri);
		u->backend = LLM_STORE;
		u->model = strdup(uri + 6);
		if (!u->model)
			goto nomem;
		return 0;
	}
	return err_set(e, MOAT_EUSAGE,
		       "unknown model '%s' (expected ollama://HOST:PORT/NAME, openai://HOST:PORT/v1/NAME, "
		       "gguf:/path/to/model.gguf or store:NAME)", uri);
nomem:
	err_set(e, MOAT_ENOMEM, "out of memory");
fail:
	llm_uri_release(u);
	return -1;
}
