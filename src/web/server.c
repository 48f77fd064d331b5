/*
 * server.c - `moat serve`'s HTTP side (web.h): libmicrohttpd set up with a
 * pool of worker threads, each with its own workspace connection; a
 * request's body read under a 1 MiB cap; the path split and decoded here
 * (libmicrohttpd's own decoding is turned off, so "%2F" and "%00" cannot
 * hide a separator or cut a name); routing with 404/405; the role and CSRF
 * checks before any endpoint runs; and the headers every response carries.
 *
 * Not for: what the endpoints do (api.c, api_label.c) or logins (auth.c).
 */
#define _GNU_SOURCE
#include "web_int.h"
#include "embed.h"
#include "../core/alloc.h"
#include "../core/buf.h"
#include "../core/fmt.h"
#include "../core/fs.h"
#include "../core/pool.h"
#include "../core/jsonu.h"
#include "../store/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include <microhttpd.h>

#include "../core/banned.h"

static const char CSP[] = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
			  "form-action 'self'";

struct web_opts web_opts_default(void)
{
	struct web_opts o;
	memset(&o, 0, sizeof(o));
	o.port = 8765;
	o.threads = 0;  /* the CPUs but one (web_start) */
	o.session_hours = 8;
	return o;
}

void web_log(struct web *w, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	if (!w->o.log)
		return;
	va_start(ap, fmt);
	if (xvsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		(void)0;  /* a cut message is still worth it */
	va_end(ap);
	w->o.log(w->o.log_ud, msg);
}

void web_utc(char out[40], double secs)
{
	time_t t = time(NULL) + (time_t)secs;
	struct tm tm;
	gmtime_r(&t, &tm);
	if (!strftime(out, 40, "%Y-%m-%dT%H:%M:%SZ", &tm))
		out[0] = '\0';
}

/* --- helpers for the endpoints ---------------------------------------------- */

int web_err(struct web_req *r, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	if (xvsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		(void)0;  /* cut: still worth saying */
	va_end(ap);
	json_decref(r->out);
	/* a message can carry bytes that are not UTF-8 (a name from a file):
	 * jsonu_string keeps it, with U+FFFD for them */
	r->out = json_object();
	if (r->out && json_object_set_new(r->out, "error", jsonu_string(msg)) < 0) {
		json_decref(r->out);
		r->out = NULL;
	}
	return status;
}

int web_moat_err(struct web_req *r, const struct moat_err *e)
{
	const char *msg = e->msg[0] ? e->msg : moat_strerror(e->code);
	switch (e->code) {
	case MOAT_ENOTFOUND: return web_err(r, 404, "%s", msg);
	case MOAT_EUSAGE:
	case MOAT_EPARSE:
	case MOAT_EUNSUPPORTED:
	case MOAT_ELIMIT: return web_err(r, 400, "%s", msg);
	case MOAT_EEXISTS: return web_err(r, 409, "%s", msg);
	case MOAT_EBUSY:
	case MOAT_ENET: return web_err(r, 503, "%s", msg);
	default:
		web_log(r->w, "%s %s: %s", r->method, r->path, msg);
		return web_err(r, 500, "%s", msg);
	}
}

const char *web_header(struct web_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *web_cookie(struct web_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

/* Decodes %XX in s[0..n) into out[cap]; -1 for a bad escape, a NUL or a
 * control character (after decoding), or no room. */
static int decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= n)
				return -1;
			hi = s[i + 1] >= '0' && s[i + 1] <= '9' ? s[i + 1] - '0'
			   : (s[i + 1] | 32) >= 'a' && (s[i + 1] | 32) <= 'f' ? (s[i + 1] | 32) - 'a' + 10 : -1;
			lo = s[i + 2] >= '0' && s[i + 2] <= '9' ? s[i + 2] - '0'
			   : (s[i + 2] | 32) >= 'a' && (s[i + 2] | 32) <= 'f' ? (s[i + 2] | 32) - 'a' + 10 : -1;
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

const char *web_query(struct web_req *r, const char *key, char *buf, size_t cap, int *bad)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
	*bad = 0;
	if (!v)
		return NULL;
	if (decode(v, strlen(v), buf, cap) < 0) {
		*bad = 1;
		return NULL;
	}
	return buf;
}

static int parse_int(const char *s, int64_t min, int64_t max, int64_t *v)
{
	char *end;
	long long x;
	if (!*s || strlen(s) > 19 || (*s != '-' && (*s < '0' || *s > '9')))
		return -1;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || *end || x < min || x > max)
		return -1;
	*v = x;
	return 0;
}

int web_query_int(struct web_req *r, const char *key, int64_t def, int64_t min, int64_t max,
		  int64_t *v)
{
	char buf[32];
	int bad;
	const char *s = web_query(r, key, buf, sizeof(buf), &bad);
	*v = def;
	if (bad || (s && parse_int(s, min, max, v) < 0))
		return web_err(r, 400, "parameter '%s': an integer from %lld to %lld", key,
			       (long long)min, (long long)max);
	return 0;
}

int web_body_only(struct web_req *r, ...)
{
	const char *k;
	json_t *v;
	if (!r->json)
		return web_err(r, 400, "the body must be a JSON object");
	json_object_foreach(r->json, k, v) {
		va_list ap;
		const char *f;
		int known = 0;
		va_start(ap, r);
		while ((f = va_arg(ap, const char *)))
			known |= !strcmp(f, k);
		va_end(ap);
		if (!known)
			return web_err(r, 400, "field '%.100s': not a field of this request", k);
	}
	return 0;
}

int web_body_str(struct web_req *r, const char *key, int required, size_t max, const char **out)
{
	json_t *v = r->json ? json_object_get(r->json, key) : NULL;
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return web_err(r, 400, "field '%s': required", key);
		return 0;
	}
	if (!json_is_string(v))
		return web_err(r, 400, "field '%s': must be a string", key);
	if (json_string_length(v) > max)
		return web_err(r, 400, "field '%s': at most %zu bytes", key, max);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return web_err(r, 400, "field '%s': holds a NUL character", key);
	*out = json_string_value(v);
	return 0;
}

int web_body_int(struct web_req *r, const char *key, int required, int64_t min, int64_t max,
		 int64_t def, int64_t *out)
{
	json_t *v = r->json ? json_object_get(r->json, key) : NULL;
	*out = def;
	if (!v || json_is_null(v)) {
		if (required)
			return web_err(r, 400, "field '%s': required", key);
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return web_err(r, 400, "field '%s': an integer from %lld to %lld", key, (long long)min,
			       (long long)max);
	*out = json_integer_value(v);
	return 0;
}

json_t *web_cmdline(struct web_req *r)
{
	return json_pack("[s,s,s,s]", "moat", "serve", r->method, r->path);
}

int web_check_param(struct web_req *r, const char *kind, const char *v)
{
	size_t n = strlen(v);
	if (!strcmp(kind, "{id}")) {
		int64_t id;
		if (v[0] < '1' || v[0] > '9' || parse_int(v, 1, INT64_MAX, &id) < 0)
			return web_err(r, 400, "'%.40s' is not an id (a positive integer)", v);
		return 0;
	}
	if (!strcmp(kind, "{name}")) {
		struct moat_err e = MOAT_ERR_INIT;
		if (user_name_check(v, &e) < 0)
			return web_err(r, 400, "bad user name: %s", e.msg);
		return 0;
	}
	/* {project} */
	if (n == 0 || n > WEB_NAME_MAX)
		return web_err(r, 400, "a project name has 1 to %d bytes", WEB_NAME_MAX);
	if (!strcmp(v, ".") || !strcmp(v, "..") || strchr(v, '/') || strchr(v, '\\'))
		return web_err(r, 400, "'%.130s' is not a project name", v);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return web_err(r, 400, "a project name holds no control characters");
	return 0;
}

int64_t web_seg_id(struct web_req *r, size_t i)
{
	return i < r->n_seg ? strtoll(r->seg[i], NULL, 10) : 0;
}

/* --- connections ------------------------------------------------------------

 * Every connection the server uses is opened here, in web_start(), before
 * it serves: one for the requests that write (under the write lock), one
 * per worker thread and one per suggestion-run slot, the last two handed
 * out from a free list (a worker keeps its own; a run returns its own).  A
 * second store_open() in this process does not touch moat.db's locks (it
 * once did: store.c, read_marker), so a pool is a choice for speed, not a
 * workaround.
 */

static __thread struct store *thread_store;
static __thread struct web *thread_web;

static int open_stores(struct web *w, size_t n, struct moat_err *e)
{
	if (!(w->stores = calloc(n, sizeof(*w->stores))) || !(w->free_stores = calloc(n, sizeof(*w->stores))))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (!(w->stores[i] = store_open(w->dir, STORE_READ, e)))
			return -1;
		w->n_stores = i + 1;
		w->free_stores[w->n_free++] = w->stores[i];
	}
	return 0;
}

struct store *web_store_take(struct web *w)
{
	struct store *s = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->n_free)
		s = w->free_stores[--w->n_free];
	pthread_mutex_unlock(&w->lock);
	return s;
}

void web_store_give(struct web *w, struct store *s)
{
	pthread_mutex_lock(&w->lock);
	w->free_stores[w->n_free++] = s;
	pthread_mutex_unlock(&w->lock);
}

/* The calling worker's connection (taken from the free list once). */
static struct store *get_store(struct web *w, struct moat_err *e)
{
	if (thread_store && thread_web == w)
		return thread_store;
	if (!(thread_store = web_store_take(w))) {
		err_set(e, MOAT_EBUSY, "no workspace connection left for this thread");
		return NULL;
	}
	thread_web = w;
	return thread_store;
}

/* --- responses -------------------------------------------------------------- */

static void security_headers(struct MHD_Response *resp, int api)
{
	MHD_add_response_header(resp, "Content-Security-Policy", CSP);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
	MHD_add_response_header(resp, "Cache-Control", api ? "no-store" : "no-cache");
}

static enum MHD_Result send_json(struct MHD_Connection *c, int status, json_t *j,
				 const char *cookie, const char *allow, int retry_after)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	if (!text) {
		static const char oom[] = "{\"error\":\"out of memory\"}";
		status = 500;
		resp = MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom,
						       MHD_RESPMEM_PERSISTENT);
	} else {
		size_t n = strlen(text);
		text[n] = '\n';  /* the NUL becomes the final newline */
		resp = MHD_create_response_from_buffer(n + 1, text, MHD_RESPMEM_MUST_FREE);
	}
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	security_headers(resp, 1);
	if (cookie && cookie[0])
		MHD_add_response_header(resp, "Set-Cookie", cookie);
	if (allow)
		MHD_add_response_header(resp, "Allow", allow);
	if (retry_after > 0) {
		char ra[24];
		if (xsnprintf(ra, sizeof(ra), "%d", retry_after) >= 0)
			MHD_add_response_header(resp, "Retry-After", ra);
	}
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* An endpoint's bytes (a task's picture): taken from b. */
static enum MHD_Result send_bytes(struct MHD_Connection *c, struct buf *b, const char *type)
{
	size_t n = b->len;
	char *data = buf_detach(b, NULL);
	struct MHD_Response *resp = data ? MHD_create_response_from_buffer(n, data, MHD_RESPMEM_MUST_FREE)
					 : NULL;
	enum MHD_Result ret;
	if (!resp) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	security_headers(resp, 1);
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *msg)
{
	json_t *j = json_pack("{s:s}", "error", msg);
	enum MHD_Result ret = send_json(c, status, j, NULL, NULL, 0);
	json_decref(j);
	return ret;
}

static enum MHD_Result send_file(struct MHD_Connection *c, const struct embed_file *f)
{
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
	int same = inm && !strcmp(inm, f->etag);
	struct MHD_Response *resp = same
		? MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT)
		: MHD_create_response_from_buffer(f->len, (void *)f->data, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;
	if (!resp)
		return MHD_NO;
	if (!same)
		MHD_add_response_header(resp, "Content-Type", f->type);
	MHD_add_response_header(resp, "ETag", f->etag);
	security_headers(resp, 0);
	ret = MHD_queue_response(c, same ? 304 : 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A file of --web-dir: path (decoded, "/..." ) of letters, digits and
 * "._-/" without a "." at a segment's start (no "..", no hidden files),
 * opened without following a link; 404 for anything else. */
static enum MHD_Result send_disk_file(struct MHD_Connection *c, const char *dir, const char *path)
{
	static const char *const types[][2] = {
		{ ".html", "text/html; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" }, { ".mjs", "text/javascript; charset=utf-8" },
		{ ".json", "application/json" }, { ".svg", "image/svg+xml" }, { ".png", "image/png" },
		{ ".ico", "image/x-icon" }, { ".txt", "text/plain; charset=utf-8" },
	};
	const char *type = "application/octet-stream", *dot;
	char full[4096];
	struct buf b = BUF_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int fd;
	if (!strcmp(path, "/"))
		path = "/index.html";
	for (const char *p = path; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '/' || (*p == '.' && p[-1] != '/')))
			return send_error(c, 404, "not found");
	if (xsnprintf(full, sizeof(full), "%s%s", dir, path) < 0 ||
	    (fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return send_error(c, 404, "not found");
	if (fs_read_fd(fd, full, &b, (size_t)16 << 20, &e) < 0) {
		close(fd);
		return send_error(c, 404, "not found");
	}
	close(fd);
	if ((dot = strrchr(path, '.')))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcmp(dot, types[i][0]))
				type = types[i][1];
	{
		size_t n = b.len;
		char *data = buf_detach(&b, NULL);
		resp = MHD_create_response_from_buffer(n, data ? data : (char *)"",
						       data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
		if (!resp) {
			free(data);
			return MHD_NO;
		}
	}
	MHD_add_response_header(resp, "Content-Type", type);
	security_headers(resp, 1);  /* no-store: the file may change under it */
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* --- routing ---------------------------------------------------------------- */

/* Splits the path after "/api/" into r->seg (decoded).  0; 404 when it has
 * too many or empty segments; 400 for a bad escape, a NUL or a control
 * character. */
static int split_path(struct web_req *r, const char *rest)
{
	const char *p = rest;
	while (1) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char *s;
		if (n == 0 || r->n_seg == WEB_MAX_SEGS)
			return 404;
		if (!(s = malloc(n + 1)))
			return web_err(r, 500, "out of memory");
		if (decode(p, n, s, n + 1) < 0) {
			free(s);
			return web_err(r, 400, "bad path: an escape that is not %%XX, a NUL or a control "
				       "character");
		}
		r->seg[r->n_seg++] = s;
		if (!slash)
			return 0;
		p = slash + 1;
	}
}

/* 1 when the route's pattern has r's shape (its literal segments equal,
 * as many segments). */
static int shape_matches(const struct web_route *rt, const struct web_req *r)
{
	const char *p = rt->pattern;
	size_t i = 0;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (i >= r->n_seg)
			return 0;
		if (p[0] != '{' && (strlen(r->seg[i]) != n || memcmp(r->seg[i], p, n)))
			return 0;
		i++;
		p += n + (slash ? 1 : 0);
	}
	return i == r->n_seg;
}

/* Checks each {param} of the route's pattern: 0 or 400. */
static int check_params(const struct web_route *rt, struct web_req *r)
{
	const char *p = rt->pattern;
	for (size_t i = 0; *p; i++) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (p[0] == '{') {
			char kind[16];
			int rc;
			if (xsnprintf(kind, sizeof(kind), "%.*s", (int)n, p) < 0)
				return web_err(r, 500, "bad route");
			if ((rc = web_check_param(r, kind, r->seg[i])) != 0)
				return rc;
		}
		p += n + (slash ? 1 : 0);
	}
	return 0;
}

static const struct web_route *find_route(struct web_req *r, char allow[64], int *shape)
{
	const struct web_route *tables[] = { web_api_routes, web_label_routes };
	const struct web_route *found = NULL;
	const char *m = strcmp(r->method, "HEAD") ? r->method : "GET";
	allow[0] = '\0';
	*shape = 0;
	for (size_t t = 0; t < 2; t++)
		for (const struct web_route *rt = tables[t]; rt->method; rt++) {
			if (!shape_matches(rt, r))
				continue;
			*shape = 1;
			if (!strstr(allow, rt->method)) {
				size_t n = strlen(allow);
				if (xsnprintf(allow + n, 64 - n, "%s%s", n ? ", " : "", rt->method) < 0)
					allow[n] = '\0';
			}
			if (!strcmp(rt->method, m))
				found = rt;
		}
	return found;
}

/* 1 when the Host header names this server as its loopback address does
 * (127.0.0.1, localhost, [::1], with or without the port): a page of
 * another site that a DNS name rebinds to 127.0.0.1 is refused. */
static int host_ok(struct web *w, const char *host)
{
	static const char *const names[] = { "127.0.0.1", "localhost", "[::1]", NULL };
	if (!w->loopback)
		return 1;
	if (!host)
		return 0;
	for (size_t i = 0; names[i]; i++) {
		size_t n = strlen(names[i]);
		if (!strncmp(host, names[i], n) && (host[n] == '\0' || host[n] == ':'))
			return 1;
	}
	return 0;
}

/* An Origin header, when a browser sends one, must be this server's own. */
static int origin_ok(struct web_req *r)
{
	const char *origin = web_header(r, "Origin");
	const char *host = web_header(r, "Host");
	const char *scheme = r->w->tls ? "https://" : "http://";
	size_t n = strlen(scheme);
	if (!origin)
		return 1;
	return host && !strncmp(origin, scheme, n) && !strcmp(origin + n, host);
}

static enum MHD_Result count_value(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	(void)kind;
	(void)value;
	if (!strcasecmp(key, "Content-Type"))
		(*(int *)cls)++;
	return MHD_YES;
}

/* 1 when the request has exactly one Content-Type, and it is JSON. */
static int is_json_type(struct web_req *r)
{
	const char *ct = web_header(r, "Content-Type");
	int n = 0;
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_value, &n);
	if (n != 1)
		return 0;
	if (!ct || strncasecmp(ct, "application/json", 16))
		return 0;
	return ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ';
}

/* The writing requests' turns, first come first served (a ticket lock):
 * with a plain mutex the thread that just let go took it again before the
 * waiting one woke, and that thread's connections waited many turns
 * (bench/annotate: save p95 2.6 times the median). */
static void write_enter(struct web *w)
{
	unsigned long me;
	pthread_mutex_lock(&w->write_lock);
	me = w->write_next++;
	while (me != w->write_serving)
		pthread_cond_wait(&w->write_turn, &w->write_lock);
	pthread_mutex_unlock(&w->write_lock);
}

static void write_leave(struct web *w)
{
	pthread_mutex_lock(&w->write_lock);
	w->write_serving++;
	pthread_cond_broadcast(&w->write_turn);
	pthread_mutex_unlock(&w->write_lock);
}

/* Runs an API request: everything a request goes through before and after
 * its endpoint.  Returns the status, with r->out set. */
static int api_request(struct web_req *r, const char *rest, char allow[64])
{
	const struct web_route *rt;
	struct moat_err e = MOAT_ERR_INIT;
	int rc, shape, writes, safe = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
	if ((rc = split_path(r, rest)) != 0)
		return rc == 404 ? web_err(r, 404, "no such endpoint") : rc;
	if (!(rt = find_route(r, allow, &shape)))
		return shape ? web_err(r, 405, "method %s is not allowed here", r->method)
			     : web_err(r, 404, "no such endpoint");
	allow[0] = '\0';
	if (!safe && !origin_ok(r))
		return web_err(r, 403, "the request comes from another origin");
	if (!(r->st = get_store(r->w, &e)))
		return web_moat_err(r, &e);
	if ((rc = web_auth_session(r)) != 0)
		return rc;
	if (rt->access != WEB_PUBLIC) {
		if (!r->have_session)
			return web_err(r, 401, "not logged in");
		if ((int)r->sess.role < (int)rt->access)
			return web_err(r, 403, "this needs the role %s; '%s' is %s",
				       user_role_name((enum user_role)rt->access), r->sess.name,
				       user_role_name(r->sess.role));
		if (!safe && (rc = web_auth_csrf(r)) != 0)
			return rc;
	}
	if ((rc = check_params(rt, r)) != 0)
		return rc;
	if (r->body_len) {
		json_error_t je;
		if (safe)
			return web_err(r, 400, "a %s request has no body", r->method);
		if (!is_json_type(r))
			return web_err(r, 400, "the body must be sent as Content-Type: application/json");
		r->json = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
		if (!r->json)
			return web_err(r, 400, "the body is not JSON: %s (line %d, column %d)", je.text,
				       je.line, je.column);
		if (!json_is_object(r->json))
			return web_err(r, 400, "the body must be a JSON object");
	}
	/* Requests that write take turns here: SQLite lets one writer in at a
	 * time anyway, and a worker that finds the database locked sleeps in
	 * its busy handler (1, 2, 5 ... 100 ms steps), which under load made
	 * the slowest saves ten times the median.  Other processes' writers
	 * still meet the busy handler. */
	writes = rt->writes == WEB_WRITES || (rt->writes == WEB_WRITES_BY_METHOD && !safe);
	if (writes) {
		/* ... on one connection kept for them: a connection's page cache
		 * is dropped whenever another connection has written since its
		 * last transaction (SQLite's WAL), so writes spread over the
		 * workers' connections read every page again; on the writer's
		 * own they stay cached (bench/annotate: saves x1.3) */
		struct store *mine = r->st;
		write_enter(r->w);
		r->st = r->w->writer;
		rc = rt->fn(r);
		r->st = mine;
		write_leave(r->w);
	} else {
		rc = rt->fn(r);
	}
	if (!r->out && !(rc == 200 && r->bytes_type[0]))
		rc = web_err(r, 500, "out of memory");
	return rc;
}

/* --- libmicrohttpd's callbacks --------------------------------------------- */

/* how much of a body over the limit is read and dropped before answering */
#define WEB_DISCARD_MAX ((size_t)16 << 20)

struct conn_state {
	struct buf body;
	size_t seen;    /* bytes of body received */
	int answered;   /* 413 queued before the body was read */
};

static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode why)
{
	struct conn_state *cs = *con_cls;
	(void)cls;
	(void)c;
	(void)why;
	if (cs) {
		buf_release(&cs->body);
		free(cs);
		*con_cls = NULL;
	}
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct web *w = cls;
	struct conn_state *cs = *con_cls;
	struct web_req r;
	char allow[64] = "";
	int status;
	enum MHD_Result ret;
	(void)version;
	if (!cs) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		if (!(cs = calloc(1, sizeof(*cs))))
			return MHD_NO;
		buf_init(&cs->body, WEB_BODY_MAX);
		*con_cls = cs;
		if (cl && strtoull(cl, NULL, 10) > WEB_BODY_MAX) {
			cs->answered = 1;
			return send_error(c, 413, "the body is larger than 1 MiB");
		}
		return MHD_YES;
	}
	if (cs->answered) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		/* a body over the limit (chunked: no Content-Length said so) is
		 * read and dropped, and answered 413 at its end, which clients
		 * read best; one that goes on past WEB_DISCARD_MAX is answered at
		 * once and its connection closed */
		cs->seen += *upload_size;
		if (cs->seen > WEB_BODY_MAX + WEB_DISCARD_MAX) {
			*upload_size = 0;
			cs->answered = 1;
			return send_error(c, 413, "the body is larger than 1 MiB");
		}
		if (cs->seen <= WEB_BODY_MAX)
			buf_add(&cs->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (cs->seen > WEB_BODY_MAX)
		return send_error(c, 413, "the body is larger than 1 MiB");
	if (buf_failed(&cs->body))
		return send_error(c, 500, "out of memory");
	if (!host_ok(w, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host")))
		return send_error(c, 403, "this server answers only to its loopback address "
				  "(Host 127.0.0.1, localhost or [::1])");

	if (strncmp(url, "/api/", 5)) {
		const struct embed_file *f;
		char path[256];
		if (strcmp(method, "GET") && strcmp(method, "HEAD"))
			return send_error(c, 405, "only GET and HEAD are allowed here");
		if (w->o.web_dir)
			return decode(url, strlen(url), path, sizeof(path)) < 0
				? send_error(c, 404, "not found") : send_disk_file(c, w->o.web_dir, path);
		if (decode(url, strlen(url), path, sizeof(path)) < 0 || !(f = embed_find(path)) ||
		    !strcmp(path, "/openapi.json"))
			return send_error(c, 404, "not found");
		return send_file(c, f);
	}
	if (!strcmp(url, "/api/openapi.json") && (!strcmp(method, "GET") || !strcmp(method, "HEAD"))) {
		const struct embed_file *f = embed_find("/openapi.json");
		if (f)
			return send_file(c, f);
	}
	memset(&r, 0, sizeof(r));
	r.w = w;
	r.conn = c;
	r.method = method;
	r.path = url;
	r.body = cs->body.data;
	r.body_len = cs->body.len;
	status = api_request(&r, url + 5, allow);
	if (status == 200 && r.bytes_type[0] && !r.out)
		ret = send_bytes(c, &r.bytes, r.bytes_type);
	else
		ret = send_json(c, status, r.out, r.cookie, allow[0] ? allow : NULL, r.retry_after);
	buf_release(&r.bytes);
	json_decref(r.out);
	json_decref(r.json);
	for (size_t i = 0; i < r.n_seg; i++)
		free(r.seg[i]);
	return ret;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct web *w = cls;
	char msg[1024];
	size_t n;
	if (xvsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		(void)0;  /* cut: still worth saying */
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	web_log(w, "libmicrohttpd: %s", msg);
}

/* --- starting and stopping -------------------------------------------------- */

static int parse_bind(const char *bind, int port, struct sockaddr_storage *ss, int *v6,
		      int *loopback, struct moat_err *e)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	memset(ss, 0, sizeof(*ss));
	if (!strcmp(bind, "localhost"))
		bind = "127.0.0.1";
	if (inet_pton(AF_INET, bind, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*v6 = 0;
		*loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	if (inet_pton(AF_INET6, bind, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*v6 = 1;
		*loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
		return 0;
	}
	return err_set(e, MOAT_EUSAGE, "--bind '%s': not an IPv4 or IPv6 address", bind);
}

struct web *web_start(const struct web_opts *o, struct moat_err *e)
{
	struct sockaddr_storage ss;
	struct web *w;
	const union MHD_DaemonInfo *info;
	const char *bind = o->bind ? o->bind : "127.0.0.1";
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	int v6, loopback;

	if (parse_bind(bind, o->port, &ss, &v6, &loopback, e) < 0)
		return NULL;
	if (o->port < 0 || o->port > 65535) {
		err_set(e, MOAT_EUSAGE, "--port %d: not a port", o->port);
		return NULL;
	}
	if (!o->tls_cert_pem != !o->tls_key_pem) {
		err_set(e, MOAT_EUSAGE, "--tls-cert and --tls-key go together");
		return NULL;
	}
	if (!loopback && !o->tls_cert_pem && !o->insecure) {
		err_set(e, MOAT_EUSAGE, "--bind %s is not a loopback address: serve it with --tls-cert "
			"and --tls-key, or say --insecure to send passwords and sessions in clear", bind);
		return NULL;
	}
	if (o->tls_cert_pem && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		err_set(e, MOAT_EUNSUPPORTED, "this libmicrohttpd has no TLS support");
		return NULL;
	}
	if (!(w = calloc(1, sizeof(*w)))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	w->o = *o;
	if (w->o.threads <= 0) {
		/* one per CPU but one: writes take turns on one connection anyway,
		 * and threads beyond the CPUs left over only wait on each other
		 * (bench/annotate on 2 CPUs, wrk on one: 1 thread gave a save p95
		 * of 16 to 19 ms, 2 threads 22 to 36 ms, 4 threads 88 ms) */
		int n = pool_default_workers() - 1;
		w->o.threads = n < 1 ? 1 : n > 16 ? 16 : n;
	}
	if (w->o.session_hours <= 0)
		w->o.session_hours = 8;
	w->loopback = loopback;
	w->tls = o->tls_cert_pem != NULL;
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->write_lock, NULL);
	pthread_cond_init(&w->write_turn, NULL);
	if (!(w->dir = strdup(o->workspace))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	if (web_auth_init(w, e) < 0 || open_stores(w, (size_t)w->o.threads + WEB_RUN_SLOTS + 1, e) < 0)
		goto fail;
	w->writer = w->free_stores[--w->n_free];  /* the writing requests' own */
	if (v6)
		flags |= MHD_USE_IPv6;
	if (w->tls)
		flags |= MHD_USE_TLS;
	{
		/* the TLS options, or none (an option of TLS without MHD_USE_TLS fails) */
		/* a pool of one is no pool: libmicrohttpd's own thread then
		 * (and it warns when given a size of 1) */
		struct MHD_OptionItem pool[] = {
			{ MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)w->o.threads, NULL },
			{ MHD_OPTION_END, 0, NULL },
		};
		struct MHD_OptionItem tls[] = {
			{ MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)o->tls_cert_pem },
			{ MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)o->tls_key_pem },
			{ MHD_OPTION_END, 0, NULL },
		};
		w->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, w,
			MHD_OPTION_EXTERNAL_LOGGER, mhd_log, w,
			MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			MHD_OPTION_ARRAY, w->o.threads > 1 ? pool : pool + 1,
			MHD_OPTION_CONNECTION_LIMIT, 1024u,
			MHD_OPTION_CONNECTION_TIMEOUT, 60u,
			MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
			MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
			MHD_OPTION_ARRAY, w->tls ? tls : tls + 2,
			MHD_OPTION_END);
	}
	if (!w->daemon) {
		err_set(e, MOAT_EIO, "cannot serve on %s port %d: %s%s", bind, o->port, strerror(errno),
			w->tls ? " (or the certificate or key cannot be used)" : "");
		goto fail;
	}
	info = MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_BIND_PORT);
	w->port = info ? info->port : o->port;
	if (xsnprintf(w->url, sizeof(w->url), "%s://%s%s%s:%d/?token=%s", w->tls ? "https" : "http",
		      v6 ? "[" : "", !strcmp(bind, "localhost") ? "127.0.0.1" : bind, v6 ? "]" : "",
		      w->port, w->token) < 0) {
		err_set(e, MOAT_EUSAGE, "--bind '%s': too long", bind);
		goto fail;
	}
	return w;
fail:
	web_stop(w);
	return NULL;
}

int web_port(const struct web *w)
{
	return w->port;
}

const char *web_url(const struct web *w)
{
	return w->url;
}

void web_stop(struct web *w)
{
	if (!w)
		return;
	w->stop = 1;
	if (w->daemon)
		MHD_stop_daemon(w->daemon);
	web_runs_join(w);
	for (size_t i = 0; i < w->n_stores; i++)
		store_close(w->stores[i]);
	free(w->stores);
	free(w->free_stores);
	web_auth_free(w);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->write_lock);
	pthread_cond_destroy(&w->write_turn);
	free(w->dir);
	free(w);
}
