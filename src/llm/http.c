/*
 * http.c - the HTTP client of the model layer (see http.h), on libcurl's
 * multi interface, and on it the generation and embeddings plumbing the
 * Ollama and OpenAI-compatible backends share.
 *
 * The network rules live here: proxies are switched off for every transfer
 * (libcurl would otherwise honour http_proxy and friends), redirects are not
 * followed, only http and https are spoken, and every socket is checked before
 * it connects: a loopback address, or a host the user named.  So do the
 * limits in time: a server's silence is measured per transfer (idle timeout),
 * and every transfer keeps to its call's budget (llm_budget: the deadline, or
 * the one idle timeout a model's probes share), connecting and retries
 * included.  It is not a general HTTP library: it speaks JSON to model
 * servers and nothing else.
 */
#include "http.h"
#include "parse.h"
#include "../core/jsonu.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "../core/fmt.h"
#include "../core/progress.h"
#include "version.h"

#include "../core/banned.h"

#define RESP_MAX (256u << 20)    /* a JSON answer larger than this is refused */
#define LINE_MAX_BYTES (64u << 20)
#define RETRY_CAP_S 30.0

enum { X_NEW, X_RUNNING, X_RETRY, X_DONE };

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void http_client_init(struct http_client *c, const struct llm_config *cfg, const char *server,
		      const char *hint)
{
	c->cfg = cfg;
	c->server = server ? server : "the server";
	c->hint = hint;
	c->budget = NULL;
}

void http_xfer_init(struct http_xfer *x, const char *url, const char *body)
{
	memset(x, 0, sizeof(*x));
	x->url = url;
	x->body = body;
	buf_init(&x->resp, RESP_MAX);
	buf_init(&x->line, LINE_MAX_BYTES);
}

/* The server's name for messages ("Ollama", "the server"). */
static const char *server_of(const struct http_xfer *x)
{
	return x->client && x->client->server ? x->client->server : "the server";
}

static void xfer_drop_handle(struct http_xfer *x)
{
	if (x->h)
		curl_easy_cleanup(x->h);
	x->h = NULL;
	if (x->hdrs)
		curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
}

void http_xfer_release(struct http_xfer *x)
{
	if (!x)
		return;
	xfer_drop_handle(x);
	buf_release(&x->resp);
	buf_release(&x->line);
}

static int status_ok(long s)
{
	return s >= 200 && s < 300;
}

/* Gives on_line one line: 0 to go on, else the transfer ends (ended set
 * when on_line had all it wanted, failed when it failed). */
static int emit_line(struct http_xfer *x, const char *p, size_t n)
{
	int rc;
	if (n && p[n - 1] == '\r')
		n--;
	x->got_data = 1;
	rc = x->on_line(x, p, n);
	if (rc > 0)
		x->ended = 1;
	return rc;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct http_xfer *x = ud;
	size_t n = size * nmemb;
	x->last_rx = now_seconds();
	if (!x->status)
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->on_line && status_ok(x->status)) {
		const char *p = ptr, *end = ptr + n;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl) {
				buf_add(&x->line, p, (size_t)(end - p));
				break;
			}
			if (x->line.len) {
				buf_add(&x->line, p, (size_t)(nl - p));
				if (buf_failed(&x->line))
					goto toolong;
				if (emit_line(x, x->line.data, x->line.len))
					return 0;  /* libcurl ends the transfer */
				buf_reset(&x->line);
			} else if (emit_line(x, p, (size_t)(nl - p))) {
				return 0;
			}
			p = nl + 1;
		}
		if (buf_failed(&x->line))
			goto toolong;
		return n;
	}
	buf_add(&x->resp, ptr, n);
	if (buf_failed(&x->resp)) {
		x->failed = 1;
		if (buf_failed(&x->resp) == MOAT_ENOMEM)
			err_set(&x->err, MOAT_ENOMEM, "out of memory");
		else
			err_set(&x->err, MOAT_ELIMIT, "the answer of %s is larger than %u MiB", server_of(x),
				RESP_MAX >> 20);
		return 0;
	}
	return n;
toolong:
	x->failed = 1;
	if (buf_failed(&x->line) == MOAT_ENOMEM)
		err_set(&x->err, MOAT_ENOMEM, "out of memory");
	else
		err_set(&x->err, MOAT_ELIMIT, "a line of the answer of %s is longer than %u MiB",
			server_of(x), LINE_MAX_BYTES >> 20);
	return 0;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct http_xfer *x = ud;
	size_t n = size * nmemb;
	x->last_rx = now_seconds();
	if (n > 12 && !strncasecmp(ptr, "retry-after:", 12)) {
		char tmp[32];
		size_t l = n - 12 < sizeof(tmp) - 1 ? n - 12 : sizeof(tmp) - 1;
		memcpy(tmp, ptr + 12, l);
		tmp[l] = '\0';
		x->retry_after = strtod(tmp, NULL);
	}
	return n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct http_xfer *x = ud;
	(void)dt, (void)dn, (void)ut, (void)un;
	return x->cancel && *x->cancel ? 1 : 0;
}

static int addr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		const unsigned char *a = in6->sin6_addr.s6_addr;
		static const unsigned char lo[16] = { [15] = 1 };
		static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
		return !memcmp(a, lo, 16) || (!memcmp(a, mapped, 12) && a[12] == 127);
	}
	return 0;
}

/* The last gate: whatever a name resolved to, only loopback addresses are
 * connected to unless the user named the host. */
static curl_socket_t on_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct http_xfer *x = ud;
	(void)purpose;
	if (!x->host_named && !addr_is_loopback(&addr->addr)) {
		char a[INET6_ADDRSTRLEN] = "?";
		if (addr->family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)&addr->addr)->sin_addr, a, sizeof(a));
		else if (addr->family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)&addr->addr)->sin6_addr, a, sizeof(a));
		x->failed = 1;
		err_set(&x->err, MOAT_EUSAGE,
			"refusing to connect to %s: moat only talks to loopback unless the host is named with --allow-host", a);
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}

/* Adds a request header to x; -1 when out of memory (the list kept). */
static int add_header(struct http_xfer *x, const char *line)
{
	struct curl_slist *l = curl_slist_append(x->hdrs, line);
	if (!l)
		return -1;
	x->hdrs = l;
	return 0;
}

/* The idle timeout in seconds, as messages give it. */
static long idle_seconds(const struct http_client *c)
{
	return c->cfg && c->cfg->idle_timeout_ms > 0 ? (c->cfg->idle_timeout_ms + 999) / 1000 : 300;
}

/* Fails x for its budget, spent before it could end: the deadline, or the one
 * idle timeout of a model's probes (as a server that sends nothing). */
static int budget_fail(struct http_client *c, struct http_xfer *x)
{
	char hpbuf[LLM_HOSTPORT_MAX], what[LLM_HOSTPORT_MAX + 64];
	const char *hp = llm_url_hostport(x->url, hpbuf, sizeof(hpbuf)) == 0 ? hpbuf : "?";
	x->failed = 1;
	if (!x->budget.deadline_ms)
		return err_set(&x->err, MOAT_ENET,
			       "no answer from %s at %s for %ld s (stuck, or still loading the model? raise --timeout)",
			       server_of(x), hp, idle_seconds(c));
	x->deadline_hit = 1;
	if (xsnprintf(what, sizeof(what), "%s at %s", server_of(x), hp) < 0)
		what[0] = '\0';
	return llm_deadline_err(&x->err, x->budget.deadline_ms, -1, what);
}

static int xfer_start(struct http_client *c, struct http_xfer *x, CURLM *mh)
{
	const struct llm_config *cfg = c->cfg;
	char host[256];
	int port;
	CURL *h;
	long connect_ms = cfg && cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 5000;
	double left = 0;

	x->client = c;
	if (llm_url_split(x->url, host, sizeof(host), &port, NULL) < 0) {
		x->failed = 1;
		return err_set(&x->err, MOAT_EUSAGE, "bad URL '%s'", x->url);
	}
	if (!llm_host_allowed(host, NULL, 0)) {
		if (!cfg || !llm_host_allowed(host, cfg->allow_hosts, cfg->n_allow_hosts)) {
			x->failed = 1;
			return err_set(&x->err, MOAT_EUSAGE,
				       "refusing host '%s': moat only talks to loopback unless the host is named "
				       "with --allow-host %s", host, host);
		}
		x->host_named = 1;
	}
	if (!x->budget.until && c->budget)
		x->budget = *c->budget;
	if (x->budget.until) {
		left = x->budget.until - now_seconds();
		if (left <= 0)
			return budget_fail(c, x);
	}
	h = curl_easy_init();
	if (!h) {
		x->failed = 1;
		return err_set(&x->err, MOAT_ENOMEM, "out of memory");
	}
	x->h = h;
	x->status = 0;
	x->got_data = 0;
	x->retry_after = 0;
	buf_reset(&x->resp);
	buf_reset(&x->line);
	x->last_rx = now_seconds();

	curl_easy_setopt(h, CURLOPT_URL, x->url);
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	/* Never a proxy, whatever the environment says. */
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (x->budget.until) {
		/* the time left, for connecting and for the whole transfer */
		long left_ms = (long)(left * 1000) + 1;
		if (connect_ms > left_ms)
			connect_ms = left_ms;
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, left_ms);
	}
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, x);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "moat/" MOAT_VERSION);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	if (add_header(x, "Accept: application/json, application/x-ndjson, text/event-stream") < 0 ||
	    (x->body && (add_header(x, "Content-Type: application/json") < 0 ||
			 add_header(x, "Expect:") < 0))) {
		xfer_drop_handle(x);
		x->failed = 1;
		return err_set(&x->err, MOAT_ENOMEM, "out of memory");
	}
	if (x->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(x->body));
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, (struct curl_slist *)x->hdrs);
	if (curl_multi_add_handle(mh, h) != CURLM_OK) {
		xfer_drop_handle(x);
		x->failed = 1;
		return err_set(&x->err, MOAT_ENOMEM, "cannot start a transfer");
	}
	x->attempts++;
	x->state = X_RUNNING;
	return 0;
}

/* s's first character as a message in the middle of a line writes it:
 * lowercase, unless it starts an acronym ("Connection refused" but "TLS"). */
static char lower_first(const char *s)
{
	if (s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z'))
		return (char)(s[0] - 'A' + 'a');
	return s[0];
}

/* Fails x, still holding its handle, for the server's silence: it did not
 * connect, answer, or go on answering in time. */
static void silence_fail(struct http_client *c, struct http_xfer *x)
{
	char hpbuf[LLM_HOSTPORT_MAX];
	const char *hp = llm_url_hostport(x->url, hpbuf, sizeof(hpbuf)) == 0 ? hpbuf : x->url;
	double ct = 0;
	curl_easy_getinfo(x->h, CURLINFO_CONNECT_TIME, &ct);
	x->failed = 1;
	if (ct <= 0)
		err_set(&x->err, MOAT_ENET, "cannot reach %s at %s: timed out connecting", server_of(x), hp);
	else if (x->got_data || x->resp.len)
		err_set(&x->err, MOAT_ENET, "%s at %s stopped sending mid-answer for %ld s", server_of(x),
			hp, idle_seconds(c));
	else
		err_set(&x->err, MOAT_ENET,
			"no answer from %s at %s for %ld s (stuck, or still loading the model? raise --timeout)",
			server_of(x), hp, idle_seconds(c));
}

/* Turns the outcome of a finished transfer into x->failed/x->err.  Returns
 * 1 when it should be retried. */
static int xfer_finish(struct http_client *c, struct http_xfer *x, CURLcode rc)
{
	char hpbuf[LLM_HOSTPORT_MAX];
	const char *hp, *server = server_of(x), *hint = c->hint;
	long os_errno = 0;
	int retries = c->cfg ? c->cfg->retries : 4;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
	curl_easy_getinfo(x->h, CURLINFO_OS_ERRNO, &os_errno);
	hp = llm_url_hostport(x->url, hpbuf, sizeof(hpbuf)) == 0 ? hpbuf : x->url;

	if (rc == CURLE_OK && x->on_line && status_ok(x->status) && x->line.len && !x->failed) {
		/* the last line had no newline */
		if (emit_line(x, x->line.data, x->line.len) < 0)
			rc = CURLE_WRITE_ERROR;
		buf_reset(&x->line);
	}
	if (x->failed)
		return 0;  /* our own error (a callback, a refused address) */
	if (x->ended)
		return 0;  /* cut on purpose: what was read is the answer */
	switch (rc) {
	case CURLE_OK:
		break;
	case CURLE_COULDNT_CONNECT: {
		const char *why = os_errno ? strerror((int)os_errno) : "cannot connect";
		x->failed = 1;
		err_set(&x->err, MOAT_ENET, "cannot reach %s at %s: %c%.126s%s%s%s", server, hp,
			lower_first(why), why[0] ? why + 1 : "", hint ? " (" : "", hint ? hint : "",
			hint ? ")" : "");
		return 0;
	}
	case CURLE_COULDNT_RESOLVE_HOST:
		x->failed = 1;
		err_set(&x->err, MOAT_ENET, "cannot reach %s at %s: unknown host", server, hp);
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		if (x->budget.deadline_ms && now_seconds() >= x->budget.until - 0.01)
			budget_fail(c, x);
		else
			silence_fail(c, x);  /* connecting, or the probes' one timeout */
		return 0;
	case CURLE_GOT_NOTHING:
		x->failed = 1;
		err_set(&x->err, MOAT_ENET, "%s at %s closed the connection without answering", server, hp);
		return 0;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		x->failed = 1;
		err_set(&x->err, MOAT_ENET,
			"%s at %s closed the connection mid-answer (did it crash or run out of memory?)",
			server, hp);
		return 0;
	case CURLE_ABORTED_BY_CALLBACK:
		x->failed = 1;
		err_set(&x->err, MOAT_EINTERRUPTED, "cancelled");
		return 0;
	default:
		x->failed = 1;
		err_set(&x->err, MOAT_ENET, "%s at %s: %s", server, hp, curl_easy_strerror(rc));
		return 0;
	}
	if ((x->status == 429 || x->status == 503) && !x->got_data && x->attempts <= retries)
		return 1;
	if (!status_ok(x->status)) {
		char *msg = llm_parse_error_body(x->resp.data, x->resp.len);
		x->failed = 1;
		err_set(&x->err, x->status == 404 ? MOAT_ENOTFOUND : MOAT_ENET, "%s at %s answered %ld%s%s",
			server, hp, x->status, msg ? ": " : "", msg ? msg : "");
		free(msg);
	}
	return 0;
}

int http_run(struct http_client *c, struct http_xfer *const *xs, size_t n, int parallel)
{
	CURLM *mh;
	size_t done = 0;
	int active = 0, nfailed = 0;
	double idle = c->cfg && c->cfg->idle_timeout_ms > 0 ? c->cfg->idle_timeout_ms / 1000.0 : 300;

	pthread_once(&curl_once, curl_init_once);
	if (parallel < 1)
		parallel = 1;
	mh = curl_multi_init();
	if (!mh) {
		for (size_t i = 0; i < n; i++) {
			xs[i]->failed = 1;
			err_set(&xs[i]->err, MOAT_ENOMEM, "out of memory");
		}
		return (int)n;
	}
	for (size_t i = 0; i < n; i++)
		xs[i]->state = X_NEW;

	while (done < n) {
		double now = now_seconds(), wake = now + 0.2;
		int still, finished;
		CURLMsg *msg;

		/* Start what may start: due retries first, then new ones. */
		for (int pass = 0; pass < 2 && active < parallel; pass++)
			for (size_t i = 0; i < n && active < parallel; i++) {
				struct http_xfer *x = xs[i];
				if (x->cancel && *x->cancel && (x->state == X_NEW || x->state == X_RETRY)) {
					x->failed = 1;
					err_set(&x->err, MOAT_EINTERRUPTED, "cancelled");
					x->state = X_DONE;
					done++;
					nfailed++;
					continue;
				}
				if ((pass == 0 && x->state == X_RETRY && x->retry_at <= now) ||
				    (pass == 1 && x->state == X_NEW)) {
					if (xfer_start(c, x, mh) < 0) {
						x->state = X_DONE;
						done++;
						nfailed++;
					} else {
						active++;
					}
				}
			}
		for (size_t i = 0; i < n; i++)
			if (xs[i]->state == X_RETRY && xs[i]->retry_at < wake)
				wake = xs[i]->retry_at;
		if (done >= n)
			break;

		curl_multi_perform(mh, &still);
		finished = 0;
		while ((msg = curl_multi_info_read(mh, &still))) {
			struct http_xfer *x = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			curl_multi_remove_handle(mh, msg->easy_handle);
			active--;
			finished++;
			if (xfer_finish(c, x, msg->data.result)) {
				double pause = (c->cfg && c->cfg->backoff_ms > 0 ? c->cfg->backoff_ms : 250) / 1000.0;
				for (int k = 1; k < x->attempts; k++)
					pause *= 2;
				if (x->retry_after > 0)
					pause = x->retry_after;
				if (pause > RETRY_CAP_S)
					pause = RETRY_CAP_S;
				xfer_drop_handle(x);
				x->state = X_RETRY;
				x->retry_at = now_seconds() + pause;
				/* no pause past the budget: the retry fails for it then */
				if (x->budget.until && x->retry_at > x->budget.until)
					x->retry_at = x->budget.until;
			} else {
				xfer_drop_handle(x);
				x->state = X_DONE;
				done++;
				if (x->failed)
					nfailed++;
			}
		}
		/* The server's silence, measured here: libcurl's low-speed check
		 * averages over seconds and counts the request's own bytes, which
		 * made one timeout a wait of several. */
		now = now_seconds();
		for (size_t i = 0; i < n; i++) {
			struct http_xfer *x = xs[i];
			if (x->state != X_RUNNING || now - x->last_rx < idle)
				continue;
			curl_multi_remove_handle(mh, x->h);
			silence_fail(c, x);
			xfer_drop_handle(x);
			x->state = X_DONE;
			active--;
			finished++;
			done++;
			nfailed++;
		}
		if (done < n && !finished) {
			/* a freed slot starts the next transfer at once, not after a poll */
			int ms = (int)((wake - now_seconds()) * 1000);
			if (ms < 1)
				ms = 1;
			if (ms > 100)
				ms = 100;  /* look at the cancel flags ten times a second */
			curl_multi_poll(mh, NULL, 0, ms, NULL);
		}
	}
	curl_multi_cleanup(mh);
	return nfailed;
}

int http_simple(struct http_client *c, struct http_xfer *x, struct moat_err *e)
{
	struct http_xfer *one[1] = { x };
	if (http_run(c, one, 1, 1) > 0) {
		if (e)
			*e = x->err;
		return -1;
	}
	return 0;
}

int http_json(struct http_client *c, const char *base, const char *path, const char *body,
	      json_t **out, long *status, struct moat_err *e)
{
	struct http_xfer x;
	json_error_t je;
	char *url;
	int rc;
	*out = NULL;
	if (status)
		*status = 0;
	if (asprintf(&url, "%s%s", base, path) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	http_xfer_init(&x, url, body);
	rc = http_simple(c, &x, e);
	if (status)
		*status = x.status;
	if (rc == 0) {
		*out = json_loadb(buf_str(&x.resp), x.resp.len, 0, &je);
		if (!*out && json_error_code(&je) == json_error_out_of_memory)
			rc = err_set(e, MOAT_ENOMEM, "out of memory");
	}
	http_xfer_release(&x);
	free(url);
	return rc;
}

json_t *llm_server_json(const struct llm_config *cfg, const char *url, const char *body,
			const char *server, const char *hint, struct moat_err *e)
{
	struct http_client c;
	char hp[LLM_HOSTPORT_MAX];
	json_t *j;
	struct llm_budget b = llm_budget_from(now_seconds(), cfg ? cfg->deadline_ms : 0);
	http_client_init(&c, cfg, server, hint);
	c.budget = &b;
	if (http_json(&c, url, "", body, &j, NULL, e) < 0)
		return NULL;
	if (!j)
		err_set(e, MOAT_EPARSE, "%s at %s sent an answer that is not JSON", c.server,
			llm_url_hostport(url, hp, sizeof(hp)) == 0 ? hp : url);
	return j;
}

/* ---- streamed generation ---- */

struct gen_slot {
	struct llm_stream st;
	struct http_xfer x;
	char *body;
	int (*parse)(struct llm_stream *s, const char *line, size_t len);
};

static int gen_on_line(struct http_xfer *x, const char *line, size_t len)
{
	struct gen_slot *g = x->ud;
	if (g->parse(&g->st, line, len) < 0) {
		x->failed = 1;
		x->err = g->st.err;
		return -1;
	}
	return g->st.cut;  /* past max_tokens: end the transfer, keep the answer */
}

/* The result of one finished transfer; returns 1 when it failed. */
static int gen_result(const struct llm_http_gen *sp, struct gen_slot *g, struct llm_result *res,
		      struct moat_err *err)
{
	struct llm_stream *s = &g->st;
	if (g->x.deadline_hit && s->pieces > 0)  /* say how far the answer got */
		llm_deadline_err(&g->x.err, g->x.budget.deadline_ms, s->pieces, NULL);
	if (!g->x.failed && !s->done && !s->stopped && !s->cut)
		err_set(&g->x.err, MOAT_ENET, "%s at %s closed the stream before the answer was complete",
			sp->http->server, sp->hostport), g->x.failed = 1;
	if (s->cb_cancel)
		err_set(&g->x.err, MOAT_EINTERRUPTED, "cancelled"), g->x.failed = 1;
	if (!g->x.failed)
		llm_stream_flush(s);
	res->text = llm_stream_take_text(s);
	if (!res->text && !g->x.failed)
		err_set(&g->x.err, MOAT_ENOMEM, "out of memory"), g->x.failed = 1;
	if (g->x.failed) {
		*err = g->x.err;
		llm_set_finish(res->finish, sizeof(res->finish),
			       err->code == MOAT_EINTERRUPTED ? "cancelled" :
			       g->x.deadline_hit ? "deadline" : "error");
	} else {
		llm_set_finish(res->finish, sizeof(res->finish), s->finish[0] ? s->finish : "stop");
	}
	res->prompt_tokens = s->prompt_tokens;
	/* cut by the client: the server's count never came */
	res->completion_tokens = s->cut && s->completion_tokens < 0 ? s->max_pieces : s->completion_tokens;
	res->logprob = s->n_logprob ? s->logprob : 0;
	res->n_logprob = s->n_logprob;
	res->load_s = s->load_s;
	res->prompt_s = s->prompt_s;
	res->gen_s = s->gen_s;
	/* the server's own total (Ollama's total_duration), else the parts */
	res->total_s = s->total_s > 0 ? s->total_s :
		       s->prompt_s >= 0 && s->gen_s >= 0 ? s->prompt_s + s->gen_s : -1;
	return g->x.failed;
}

static void fail_all(struct moat_err *errs, size_t n, struct llm_result *out)
{
	for (size_t i = 0; i < n; i++) {
		err_set(&errs[i], MOAT_ENOMEM, "out of memory");
		if (out)
			llm_set_finish(out[i].finish, sizeof(out[i].finish), "error");
	}
}

int llm_http_generate(struct llm *m, const struct llm_http_gen *sp, const struct llm_request *r,
		      size_t n, struct llm_result *out, struct moat_err *errs)
{
	struct gen_slot *g = calloc(n, sizeof(*g));
	struct http_xfer **xs = calloc(n, sizeof(*xs));
	char *chat = NULL, *raw = NULL;
	size_t nx = 0;
	int failed = 0;

	if (g && xs && asprintf(&chat, "%s%s", m->uri.base, sp->chat_path) < 0)
		chat = NULL;  /* what asprintf leaves there is undefined */
	if (chat && asprintf(&raw, "%s%s", m->uri.base, sp->raw_path) < 0)
		raw = NULL;
	if (!raw) {
		fail_all(errs, n, out);
		free(g), free(xs), free(chat);
		return (int)n;
	}
	for (size_t i = 0; i < n; i++) {
		llm_stream_init(&g[i].st, &r[i]);
		g[i].st.max_pieces = llm_max_tokens(&r[i]);
		g[i].parse = sp->parse;
		g[i].body = sp->body(m, sp->ud, &r[i], &errs[i]);
		http_xfer_init(&g[i].x, r[i].raw ? raw : chat, g[i].body);
		if (!g[i].body) {  /* errs[i] says why */
			g[i].x.failed = 1;
			g[i].x.err = errs[i];
			continue;
		}
		g[i].x.on_line = gen_on_line;
		g[i].x.ud = &g[i];
		g[i].x.cancel = r[i].cancel;
		g[i].x.budget = llm_budget_from(r[i].started, m->cfg.deadline_ms);
		xs[nx++] = &g[i].x;
	}
	/* each transfer keeps its own outcome, read below */
	http_run(sp->http, xs, nx, m->parallel);
	for (size_t i = 0; i < n; i++) {
		if (sp->status)
			sp->status[i] = g[i].x.status;
		failed += gen_result(sp, &g[i], &out[i], &errs[i]);
		llm_stream_release(&g[i].st);
		http_xfer_release(&g[i].x);
		free(g[i].body);
	}
	free(g), free(xs), free(chat), free(raw);
	return failed;
}

/* ---- embeddings ---- */

struct embed_batch {
	struct http_xfer x;
	char *body;
	size_t first, n;
};

static char *embed_body(const struct llm_http_embed *g, const char *const *texts, size_t n,
			struct moat_err *e)
{
	json_t *j = json_object();
	char *s = NULL;
	if (j && json_object_set_new(j, "model", jsonu_string(g->model)) == 0 &&
	    json_object_set_new(j, "input", llm_json_strings(texts, n)) == 0 &&
	    (!g->encoding_format ||
	     json_object_set_new(j, "encoding_format", json_string(g->encoding_format)) == 0))
		s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		err_set(e, MOAT_ENOMEM, "out of memory");
	return s;
}

/* Joins the answer of one batch into out; -1 with e set. */
static int embed_join(const struct llm_http_embed *g, const struct embed_batch *b, size_t total,
		      struct llm_embedding *out, struct moat_err *e)
{
	struct llm_embedding part;
	memset(&part, 0, sizeof(part));
	if (g->parse(b->x.resp.data, b->x.resp.len, b->n, &part, e) < 0)
		return -1;
	if (!out->data) {
		out->dim = part.dim;
		out->data = malloc(total * part.dim * sizeof(float));
		if (!out->data) {
			free(part.data);
			return err_set(e, MOAT_ENOMEM, "out of memory");
		}
	} else if (part.dim != out->dim) {
		free(part.data);
		return err_set(e, MOAT_EPARSE, "%s sent embeddings of differing sizes", g->http->server);
	}
	memcpy(out->data + b->first * out->dim, part.data, b->n * part.dim * sizeof(float));
	if (part.prompt_tokens >= 0 && out->prompt_tokens >= 0)
		out->prompt_tokens += part.prompt_tokens;
	else
		out->prompt_tokens = -1;
	free(part.data);
	return 0;
}

int llm_http_embed(struct llm *m, const struct llm_http_embed *g, const char *const *texts,
		   size_t n, struct llm_embedding *out, struct moat_err *e)
{
	size_t per = g->batch ? g->batch : n, nb = (n + per - 1) / per;
	struct embed_batch *b = calloc(nb, sizeof(*b));
	struct http_xfer **xs = calloc(nb, sizeof(*xs));
	char *url = NULL;
	int rc = 0;

	if (!b || !xs || asprintf(&url, "%s%s", m->uri.base, g->path) < 0) {
		free(b), free(xs);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	for (size_t k = 0; k < nb; k++) {
		b[k].first = k * per;
		b[k].n = n - b[k].first < per ? n - b[k].first : per;
		http_xfer_init(&b[k].x, url, NULL);
		xs[k] = &b[k].x;
	}
	for (size_t k = 0; k < nb && rc == 0; k++) {
		b[k].body = embed_body(g, texts + b[k].first, b[k].n, e);
		b[k].x.body = b[k].body;
		if (!b[k].body)
			rc = -1;
	}
	if (rc == 0 && http_run(g->http, xs, nb, m->parallel) > 0) {
		for (size_t k = 0; k < nb; k++)
			if (b[k].x.failed) {
				if (e)
					*e = b[k].x.err;
				break;
			}
		rc = -1;
	}
	out->prompt_tokens = 0;
	for (size_t k = 0; k < nb && rc == 0; k++)
		rc = embed_join(g, &b[k], n, out, e);
	if (rc == 0)
		out->n = n;
	for (size_t k = 0; k < nb; k++) {
		http_xfer_release(&b[k].x);
		free(b[k].body);
	}
	free(b), free(xs), free(url);
	return rc;
}
