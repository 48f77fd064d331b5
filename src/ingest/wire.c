/*
 * wire.c - the messages between moat and its parser processes (see wire.h):
 * their framing, read against a deadline, and the JSON in them (the request
 * a zygote gets, the document or error a parser sends back).
 *
 * Not for: processes (sandbox.c, zygote.c).
 */
#define _GNU_SOURCE
#include "wire.h"
#include "docfmt.h"
#include "../core/base64.h"
#include "../core/utf8.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../core/banned.h"

/* --- interning ------------------------------------------------------------ */

static pthread_mutex_t intern_mu = PTHREAD_MUTEX_INITIALIZER;
static char **interned;
static size_t n_interned;

/* A static copy of s (formats and encodings must outlive any document);
 * "other" once 4096 names are kept, NULL when out of memory. */
static const char *intern(const char *s)
{
	const char *r = NULL;
	char **p;
	if (!s)
		return NULL;
	pthread_mutex_lock(&intern_mu);
	for (size_t i = 0; i < n_interned && !r; i++)
		if (!strcmp(interned[i], s))
			r = interned[i];
	if (!r && n_interned >= 4096) {
		r = "other";
	} else if (!r && (p = realloc(interned, (n_interned + 1) * sizeof(*p)))) {
		interned = p;
		interned[n_interned] = strdup(s);
		if (interned[n_interned])
			r = interned[n_interned++];
	}
	pthread_mutex_unlock(&intern_mu);
	return r;
}

/* --- the document as JSON ------------------------------------------------- */

/* The text as a JSON string; NULL only when out of memory. */
static json_t *str_json(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	if (!j && !utf8_is_valid(s, len)) {
		/* not valid UTF-8: should not happen, but never lose the element */
		struct buf b = BUF_INIT;
		utf8_sanitize(&b, s, len);
		j = buf_failed(&b) ? NULL : json_stringn(buf_str(&b), b.len);
		buf_release(&b);
	}
	return j;
}

/* j[key] = v (taken over); bad set when v is NULL or the setting failed. */
static void put(json_t *j, const char *key, json_t *v, int *bad)
{
	if (json_object_set_new(j, key, v) < 0)
		*bad = 1;
}

json_t *doc_to_json(const struct doc *d)
{
	json_t *j = json_object(), *els = json_array(), *kids = json_array();
	int bad = !j;
	put(j, "format", d->format ? json_string(d->format) : json_null(), &bad);
	put(j, "encoding", d->encoding ? json_string(d->encoding) : json_null(), &bad);
	put(j, "meta", d->meta ? json_incref(d->meta) : json_null(), &bad);
	put(j, "over_limit", json_boolean(d->over_limit), &bad);
	put(j, "nomem", json_boolean(d->nomem), &bad);
	for (size_t i = 0; i < d->n_el && !bad; i++) {
		const struct element *el = &d->el[i];
		json_t *a = json_array();
		if (json_array_append_new(a, json_integer(el->type)) < 0 ||
		    json_array_append_new(a, json_integer(el->level)) < 0 ||
		    json_array_append_new(a, json_integer(el->page)) < 0 ||
		    json_array_append_new(a, str_json(doc_el_text(d, el), el->byte_len)) < 0 ||
		    json_array_append(a, el->meta ? el->meta : json_null()) < 0) {
			json_decref(a);
			bad = 1;
		} else if (json_array_append_new(els, a) < 0) {
			bad = 1;
		}
	}
	put(j, "el", els, &bad);
	for (size_t i = 0; i < d->n_children && !bad; i++) {
		const struct doc_child *c = &d->children[i];
		struct buf b = BUF_INIT;
		json_t *k = json_object();
		base64_encode(c->data, c->len, BASE64_STD, &b);
		put(k, "name", c->name ? json_string(c->name) : json_null(), &bad);
		put(k, "mime", c->mime ? json_string(c->mime) : json_null(), &bad);
		put(k, "data", buf_failed(&b) ? NULL : json_stringn(buf_str(&b), b.len), &bad);
		put(k, "failed", json_boolean(c->failed), &bad);
		put(k, "error", c->error ? json_string(c->error) : json_null(), &bad);
		put(k, "doc", doc_to_json(&c->doc), &bad);
		if (json_array_append_new(kids, k) < 0)
			bad = 1;
		buf_release(&b);
	}
	put(j, "children", kids, &bad);
	if (bad) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int doc_from_json(json_t *j, struct doc *d, struct moat_err *e)
{
	json_t *els = json_object_get(j, "el"), *kids = json_object_get(j, "children"), *v;
	size_t i;
	if (!json_is_object(j) || !json_is_array(els))
		return err_set(e, MOAT_EPARSE, "the parser sent back a damaged document");
	if (json_is_string(json_object_get(j, "format")) &&
	    !(d->format = intern(json_string_value(json_object_get(j, "format")))))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (json_is_string(json_object_get(j, "encoding")) &&
	    !(d->encoding = intern(json_string_value(json_object_get(j, "encoding")))))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (json_is_object(json_object_get(j, "meta"))) {
		json_decref(d->meta);
		d->meta = json_incref(json_object_get(j, "meta"));
	}
	{
		/* the text's final size at once (not doubling past it) */
		size_t total = d->text.len;
		json_array_foreach(els, i, v)
			total += json_string_length(json_array_get(v, 3)) + 2;
		if (buf_reserve(&d->text, total) < 0)
			return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	json_array_foreach(els, i, v) {
		json_t *t = json_array_get(v, 3), *m = json_array_get(v, 4);
		int type = (int)json_integer_value(json_array_get(v, 0));
		if (!json_is_string(t) || type < 0 || type >= EL__COUNT)
			return err_set(e, MOAT_EPARSE, "the parser sent back a damaged element");
		if (doc_add_page(d, (enum element_type)type,
				 (int)json_integer_value(json_array_get(v, 1)),
				 (int)json_integer_value(json_array_get(v, 2)), json_string_value(t),
				 json_string_length(t), json_is_object(m) ? json_incref(m) : NULL) < 0)
			return docfmt_limit_error(d, e);
		json_array_set_new(els, i, json_null());  /* its text is in d now */
	}
	if (json_is_true(json_object_get(j, "over_limit")))
		d->over_limit = 1;
	if (json_is_true(json_object_get(j, "nomem")))
		d->nomem = 1;
	json_array_foreach(kids, i, v) {
		json_t *data = json_object_get(v, "data");
		struct buf b = BUF_INIT;
		struct doc_child *c;
		unsigned char *bytes;
		size_t n;
		if (base64_decode(json_string_value(data) ? json_string_value(data) : "",
				  json_string_length(data), BASE64_STD, &b) < 0) {
			int oom = buf_failed(&b);
			buf_release(&b);
			return oom ? err_set(e, MOAT_ENOMEM, "out of memory")
				   : err_set(e, MOAT_ECORRUPT, "the parser sent a bad attachment");
		}
		bytes = (unsigned char *)buf_detach(&b, &n);
		c = doc_add_child(d, bytes, n, json_string_value(json_object_get(v, "name")),
				  json_string_value(json_object_get(v, "mime")));
		if (!c)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		if (!c->doc.meta || (json_string_value(json_object_get(v, "name")) && !c->name) ||
		    (json_string_value(json_object_get(v, "mime")) && !c->mime))
			return err_set(e, MOAT_ENOMEM, "out of memory");
		c->failed = json_is_true(json_object_get(v, "failed"));
		if (json_is_string(json_object_get(v, "error")) &&
		    !(c->error = strdup(json_string_value(json_object_get(v, "error")))))
			return err_set(e, MOAT_ENOMEM, "out of memory");
		if (doc_from_json(json_object_get(v, "doc"), &c->doc, e) < 0)
			return -1;
	}
	return 0;
}

/* --- messages ------------------------------------------------------------------ */

double wire_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void wire_put_len(unsigned char hdr[8], uint64_t n)
{
	for (int i = 0; i < 8; i++)
		hdr[i] = (unsigned char)(n >> (8 * i));
}

uint64_t wire_get_len(const unsigned char hdr[8])
{
	uint64_t n = 0;
	for (int i = 0; i < 8; i++)
		n |= (uint64_t)hdr[i] << (8 * i);
	return n;
}

ssize_t wire_read(int fd, void *p, size_t want, double deadline)
{
	size_t got = 0;
	while (got < want) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		double left = deadline - wire_now();
		int r;
		ssize_t k;
		if (left <= 0)
			return -1;
		r = poll(&pfd, 1, left > 1e6 ? 1000000000 : (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -1;
		k = read(fd, (char *)p + got, want - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

int wire_send(int fd, const void *p, size_t n)
{
	unsigned char hdr[8];
	const char *c = p;
	wire_put_len(hdr, n);
	for (size_t off = 0; off < 8 + n;) {
		const char *src = off < 8 ? (const char *)hdr + off : c + (off - 8);
		size_t left = off < 8 ? 8 - off : n - (off - 8);
		ssize_t k = send(fd, src, left, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		off += (size_t)k;
	}
	return 0;
}

int wire_recv(int fd, char **out, size_t *n, uint64_t max, double deadline, enum wire_why *why)
{
	unsigned char hdr[8];
	uint64_t len = 0;
	ssize_t got;
	*out = NULL;
	*why = WIRE_EOF;
	got = wire_read(fd, hdr, 8, deadline ? deadline : 1e300);
	if (got != 8) {
		*why = got < 0 ? WIRE_TIMEOUT : WIRE_EOF;
		return -1;
	}
	len = wire_get_len(hdr);
	if (len > max) {
		*why = WIRE_TOO_BIG;
		return -1;
	}
	if (!(*out = malloc(len + 1))) {
		*why = WIRE_NOMEM;
		return -1;
	}
	got = wire_read(fd, *out, len, deadline ? deadline : 1e300);
	if (got < 0 || (uint64_t)got != len) {
		*why = got < 0 ? WIRE_TIMEOUT : WIRE_EOF;
		free(*out);
		*out = NULL;
		return -1;
	}
	(*out)[len] = '\0';
	*n = len;
	return 0;
}

/* --- the request to a zygote ------------------------------------------------------ */

json_t *wire_opts_to_json(const struct ingest_opts *o, struct doc_limits lim)
{
	json_t *j = json_object();
	int bad = !j;
	put(j, "max_file_size", json_integer((json_int_t)o->max_file_size), &bad);
	put(j, "max_elements", json_integer((json_int_t)o->max_elements), &bad);
	if (o->text_field)
		put(j, "text_field", json_string(o->text_field), &bad);
	put(j, "jobs", json_integer(o->jobs), &bad);
	if (o->password)
		put(j, "password", json_string(o->password), &bad);
	put(j, "ocr", json_integer(o->ocr), &bad);
	if (o->ocr_lang)
		put(j, "ocr_lang", json_string(o->ocr_lang), &bad);
	put(j, "ocr_dpi", json_integer(o->ocr_dpi), &bad);
	put(j, "max_memory", json_integer((json_int_t)o->max_memory), &bad);
	put(j, "max_cpu", json_integer(o->max_cpu), &bad);
	put(j, "max_pages", json_integer(o->max_pages), &bad);
	put(j, "max_unzipped", json_integer((json_int_t)o->max_unzipped), &bad);
	put(j, "max_zip_ratio", json_integer(o->max_zip_ratio), &bad);
	put(j, "max_zip_entries", json_integer(o->max_zip_entries), &bad);
	put(j, "render_page", json_integer(o->render_page), &bad);
	put(j, "render_dpi", json_integer(o->render_dpi), &bad);
	put(j, "lim_elements", json_integer((json_int_t)lim.max_elements), &bad);
	put(j, "lim_text", json_integer((json_int_t)lim.max_text), &bad);
	if (bad) {
		json_decref(j);
		return NULL;
	}
	return j;
}

void wire_opts_from_json(json_t *j, struct ingest_opts *o, struct doc_limits *lim)
{
#define NUM(k) ((size_t)json_integer_value(json_object_get(j, k)))
	memset(o, 0, sizeof(*o));
	o->max_file_size = NUM("max_file_size");
	o->max_elements = NUM("max_elements");
	o->text_field = json_string_value(json_object_get(j, "text_field"));
	o->jobs = (int)NUM("jobs");
	o->password = json_string_value(json_object_get(j, "password"));
	o->ocr = (int)NUM("ocr");
	o->ocr_lang = json_string_value(json_object_get(j, "ocr_lang"));
	o->ocr_dpi = (int)NUM("ocr_dpi");
	o->max_memory = NUM("max_memory");
	o->max_cpu = (unsigned)NUM("max_cpu");
	o->max_pages = (unsigned)NUM("max_pages");
	o->max_unzipped = NUM("max_unzipped");
	o->max_zip_ratio = (unsigned)NUM("max_zip_ratio");
	o->max_zip_entries = (unsigned)NUM("max_zip_entries");
	o->render_page = (int)NUM("render_page");
	o->render_dpi = (int)NUM("render_dpi");
	lim->max_elements = NUM("lim_elements");
	lim->max_text = NUM("lim_text");
#undef NUM
}

/* --- the reply ----------------------------------------------------------------------- */

json_t *wire_reply(int rc, const struct doc *d, const struct moat_err *e)
{
	json_t *j;
	if (rc < 0)
		return json_pack("{s:b, s:i, s:s}", "ok", 0, "code", e->code,
				 "msg", e->msg[0] ? e->msg : "cannot parse");
	j = json_object();
	if (json_object_set_new(j, "ok", json_true()) < 0 ||
	    json_object_set_new(j, "doc", doc_to_json(d)) < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

json_t *wire_fate(const struct moat_err *e)
{
	return json_pack("{s:b, s:i, s:s, s:b}", "ok", 0, "code", e->code, "msg",
			 e->msg[0] ? e->msg : "cannot parse", "fate", 1);
}

int wire_decode_reply(char *payload, size_t n, const struct ingest_opts *o, struct doc *d,
		      struct moat_err *e)
{
	json_error_t jerr;
	json_t *jd = json_loadb(payload, n, 0, &jerr);
	int rc = -1;
	free(payload);
	if (!jd) {
		err_set(e, MOAT_EPARSE, "the parser sent back a damaged document");
	} else if (json_is_true(json_object_get(jd, "ok"))) {
		rc = doc_from_json(json_object_get(jd, "doc"), d, e);
	} else {
		int code = (int)json_integer_value(json_object_get(jd, "code"));
		const char *msg = json_string_value(json_object_get(jd, "msg"));
		if (code == MOAT_ENOMEM && !json_is_true(json_object_get(jd, "fate")))
			err_set(e, MOAT_ELIMIT, "memory limit reached (%zu MiB, see --max-memory)",
				docfmt_max_memory(o) >> 20);
		else
			err_set(e, code > 0 && code < MOAT_E__COUNT ? code : MOAT_EPARSE, "%s",
				msg ? msg : "cannot parse");
	}
	json_decref(jd);
	if (rc < 0)
		doc_clear(d);
	return rc;
}

