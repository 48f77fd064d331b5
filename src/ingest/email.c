/*
 * email.c - e-mail messages (.eml, RFC 5322 with MIME).
 *
 * The header fields From, To, Cc, Date, Subject (and Message-ID, Reply-To,
 * In-Reply-To) become document metadata, their encoded words (RFC 2047)
 * decoded.  The body is the text/plain part, else the text/html one (through
 * the HTML reader), decoded from quoted-printable or base64 and converted
 * from its charset (iconv) to UTF-8, then split as plain text is (paragraphs,
 * list items).  Every other part with a file name, every non-text part and
 * every attached message becomes a child document: its bytes, its name and
 * type, parsed by the reader its content calls for (attached messages
 * recursively), stored with the parent's id.
 *
 * Limits: MIME nesting and attachment recursion together at most 16 deep
 * (a deeper message fails as such), at most 1000 parts.
 *
 * Not for: mailboxes (mbox, PST) or Outlook's .msg, nor sending anything.
 * The attachments are parsed by the dispatcher ingest_email() is handed
 * (parse.c's ingest_parse), never by a call back into parse.c.
 */
#define _GNU_SOURCE
#include "docfmt.h"
#include "reader.h"
#include "../core/base64.h"
#include "../core/jsonu.h"
#include "../core/utf8.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/banned.h"

#define MAX_DEPTH 16
#define MAX_PARTS 1000

static __thread int attach_depth;  /* messages inside messages, this thread */

struct part {
	const char *hdr;   /* header block */
	size_t hlen;
	const char *body;
	size_t blen;
};

struct mctx {
	struct doc *d;
	const struct ingest_opts *o;
	ingest_parse_fn parse;  /* the dispatcher, for attachments */
	struct moat_err *e;
	int parts;
	int have_body;     /* a text body was added */
	int oom;           /* a scratch buffer or JSON value could not be had */
	json_t *attachments;
};

/* Notes b's failure; 1 once anything failed for lack of memory. */
static int oom(struct mctx *m, const struct buf *b)
{
	if (buf_failed(b))
		m->oom = 1;
	return m->oom;
}

/* --- header fields -------------------------------------------------------------- */

/* Splits raw into header and body at the first empty line. */
static void split_part(const char *raw, size_t len, struct part *p)
{
	size_t i = 0;
	p->hdr = raw;
	while (i < len) {
		size_t j = i;
		while (j < len && raw[j] != '\n')
			j++;
		if (j == i || (j == i + 1 && raw[i] == '\r')) {
			p->hlen = i;
			p->body = raw + (j < len ? j + 1 : len);
			p->blen = len - (size_t)(p->body - raw);
			return;
		}
		i = j + 1;
	}
	/* no empty line: all header when the first line looks like one, else all body */
	p->hlen = len;
	p->body = raw + len;
	p->blen = 0;
}

/* The unfolded value of header field name, or 0 when absent. */
static int header(const struct part *p, const char *name, struct buf *out)
{
	size_t n = strlen(name), i = 0;
	buf_reset(out);
	while (i < p->hlen) {
		size_t j = i;
		while (j < p->hlen && p->hdr[j] != '\n')
			j++;
		if (j - i > n && !strncasecmp(p->hdr + i, name, n) && p->hdr[i + n] == ':') {
			size_t k = i + n + 1;
			for (;;) {
				size_t e = j;
				if (e > k && p->hdr[e - 1] == '\r')
					e--;
				buf_add(out, p->hdr + k, e - k);
				if (j + 1 < p->hlen && (p->hdr[j + 1] == ' ' || p->hdr[j + 1] == '\t')) {
					k = j + 1;
					j = k;
					while (j < p->hlen && p->hdr[j] != '\n')
						j++;
					continue;
				}
				break;
			}
			text_squeeze(out);
			return 1;
		}
		i = j + 1;
	}
	return 0;
}

/* A parameter of a structured field ("boundary", "charset", "name"),
 * with RFC 2231's name*=charset''%xx form. */
static int param(const char *v, const char *name, struct buf *out)
{
	size_t n = strlen(name);
	const char *p = v;
	buf_reset(out);
	while ((p = strchr(p, ';'))) {
		int ext = 0;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, name, n))
			continue;
		if (p[n] == '*' && (p[n + 1] == '=' || p[n + 1] == '0')) {
			ext = 1;
			p += n + 1;
			while (*p && *p != '=')
				p++;
		} else if (p[n] == '=') {
			p += n;
		} else {
			continue;
		}
		p++;
		if (ext) {
			const char *q = strstr(p, "''");
			const char *end = p + strcspn(p, ";");
			if (q && q < end)
				p = q + 2;
			while (p < end) {
				if (*p == '%' && p + 2 < end + 1 && isxdigit((unsigned char)p[1]) &&
				    isxdigit((unsigned char)p[2])) {
					char hx[3] = { p[1], p[2], 0 };
					buf_addch(out, (int)strtol(hx, NULL, 16));
					p += 3;
				} else {
					buf_addch(out, *p++);
				}
			}
		} else if (*p == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				buf_addch(out, *p++);
			}
		} else {
			size_t k = strcspn(p, "; \t");
			buf_add(out, p, k);
		}
		return 1;
	}
	return 0;
}

/* Converts bytes in charset to UTF-8 (appending); unknown charsets and bad
 * bytes fall back to Windows-1252 for what is not valid UTF-8. */
static void to_utf8(const char *charset, const char *s, size_t len, struct buf *out)
{
	iconv_t cd = (iconv_t)-1;
	if (charset && *charset && strcasecmp(charset, "utf-8") && strcasecmp(charset, "utf8") &&
	    strcasecmp(charset, "us-ascii") && strcasecmp(charset, "ascii"))
		cd = iconv_open("UTF-8", charset);
	if (cd != (iconv_t)-1) {
		char *in = (char *)s;
		size_t left = len;
		char tmp[4096];
		while (left > 0) {
			char *o = tmp;
			size_t room = sizeof(tmp);
			size_t r = iconv(cd, &in, &left, &o, &room);
			buf_add(out, tmp, (size_t)(o - tmp));
			if (r == (size_t)-1 && errno != E2BIG) {
				if (!left)
					break;
				buf_adds(out, "\xEF\xBF\xBD");  /* U+FFFD for a bad byte */
				in++;
				left--;
			}
		}
		iconv_close(cd);
		return;
	}
	if (utf8_is_valid(s, len))
		buf_add(out, s, len);
	else
		utf8_from_cp1252(out, (const unsigned char *)s, len);
}

static void qp_decode(const char *s, size_t len, int header_mode, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '=' && i + 2 < len + 0 && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			char hx[3] = { s[i + 1], s[i + 2], 0 };
			buf_addch(out, (int)strtol(hx, NULL, 16));
			i += 2;
		} else if (s[i] == '=' && !header_mode) {
			/* a soft line break: "=" then optional spaces and the line end */
			size_t j = i + 1;
			while (j < len && (s[j] == ' ' || s[j] == '\t'))
				j++;
			if (j < len && s[j] == '\r')
				j++;
			if (j < len && s[j] == '\n')
				i = j;
			else if (j >= len)
				i = j;
			else
				buf_addch(out, '=');
		} else if (s[i] == '_' && header_mode) {
			buf_addch(out, ' ');
		} else {
			buf_addch(out, s[i]);
		}
	}
}

/* Decodes RFC 2047 encoded words in a header value to UTF-8. */
static void decode_words(const char *v, size_t len, struct buf *out)
{
	size_t i = 0, pending_space = 0;
	int last_encoded = 0;
	while (i < len) {
		if (v[i] == '=' && i + 1 < len && v[i + 1] == '?') {
			const char *cs = v + i + 2, *q1 = memchr(cs, '?', len - (size_t)(cs - v));
			const char *enc, *q2, *txt, *end;
			if (q1 && q1 + 2 < v + len && q1[2] == '?') {
				enc = q1 + 1;
				q2 = q1 + 2;
				txt = q2 + 1;
				end = memmem(txt, len - (size_t)(txt - v), "?=", 2);
				if (end) {
					struct buf raw = BUF_INIT, charset = BUF_INIT;
					const char *star;
					buf_add(&charset, cs, (size_t)(q1 - cs));
					star = strchr(buf_str(&charset), '*');  /* RFC 2231 language */
					if (star)
						buf_setlen(&charset, (size_t)(star - buf_str(&charset)));
					if (*enc == 'B' || *enc == 'b')
						base64_decode_mime(txt, (size_t)(end - txt), &raw);
					else
						qp_decode(txt, (size_t)(end - txt), 1, &raw);
					if (!last_encoded && pending_space)
						buf_addch(out, ' ');
					if (buf_failed(&raw) || buf_failed(&charset))
						out->failed = MOAT_ENOMEM;  /* as if out had failed */
					else
						to_utf8(buf_str(&charset), buf_str(&raw), raw.len, out);
					buf_release(&raw);
					buf_release(&charset);
					i = (size_t)(end - v) + 2;
					last_encoded = 1;
					pending_space = 0;
					continue;
				}
			}
		}
		if (v[i] == ' ' || v[i] == '\t') {
			pending_space++;
			i++;
			continue;
		}
		if (pending_space)
			buf_addch(out, ' ');
		pending_space = 0;
		last_encoded = 0;
		/* raw 8-bit in a header: UTF-8 if it is, else cp1252 */
		{
			size_t j = i;
			while (j < len && v[j] != ' ' && v[j] != '\t' && !(v[j] == '=' && j + 1 < len &&
									v[j + 1] == '?'))
				j++;
			if (j == i)
				j++;
			to_utf8(NULL, v + i, j - i, out);
			i = j;
		}
	}
}

/* A header field's decoded value as a JSON string; NULL when absent or not
 * UTF-8, and when out of memory (*oom then set). */
static json_t *header_json(const struct part *p, const char *name, int *oom)
{
	struct buf raw = BUF_INIT, dec = BUF_INIT;
	json_t *j = NULL;
	if (header(p, name, &raw) && raw.len) {
		decode_words(buf_str(&raw), raw.len, &dec);
		if (buf_failed(&raw) || buf_failed(&dec))
			*oom = 1;
		else if (utf8_is_valid(buf_str(&dec), dec.len) &&
			 !(j = json_stringn(buf_str(&dec), dec.len)))
			*oom = 1;
	}
	buf_release(&raw);
	buf_release(&dec);
	return j;
}

/* --- bodies ----------------------------------------------------------------------- */

static void content_type(const struct part *p, struct buf *type, struct buf *params)
{
	buf_reset(type);
	buf_reset(params);
	if (header(p, "Content-Type", params) && params->len) {
		size_t k = strcspn(buf_str(params), ";");
		buf_add(type, buf_str(params), k);
		text_squeeze(type);
		for (size_t i = 0; i < type->len; i++)
			type->data[i] = (char)tolower((unsigned char)type->data[i]);
	} else {
		buf_adds(type, "text/plain");
	}
}

static void decode_body(const struct part *p, struct buf *out)
{
	struct buf cte = BUF_INIT;
	header(p, "Content-Transfer-Encoding", &cte);
	if (buf_failed(&cte))
		out->failed = MOAT_ENOMEM;  /* as if out had failed */
	else if (!strcasecmp(buf_str(&cte), "base64"))
		base64_decode_mime(p->body, p->blen, out);
	else if (!strcasecmp(buf_str(&cte), "quoted-printable"))
		qp_decode(p->body, p->blen, 0, out);
	else
		buf_add(out, p->body, p->blen);
	buf_release(&cte);
}

/* Adds the elements of a scratch document to the message. */
static int copy_elements(struct mctx *m, struct doc *t)
{
	for (size_t i = 0; i < t->n_el; i++) {
		const struct element *el = &t->el[i];
		if (doc_add(m->d, el->type, el->level, doc_el_text(t, el), el->byte_len,
			    json_incref(el->meta)) < 0)
			return -1;
	}
	return 0;
}

static int add_text_body(struct mctx *m, const struct part *p, int html)
{
	struct buf raw = BUF_INIT, utf = BUF_INIT, type = BUF_INIT, params = BUF_INIT,
		   cs = BUF_INIT;
	struct doc t;
	struct doc_limits lim = { 0, 0 };
	int rc;
	decode_body(p, &raw);
	content_type(p, &type, &params);
	param(buf_str(&params), "charset", &cs);
	if (!oom(m, &raw) && !oom(m, &type) && !oom(m, &params) && !oom(m, &cs))
		to_utf8(buf_str(&cs), buf_str(&raw), raw.len, &utf);
	if (oom(m, &utf) || (!json_object_get(m->d->meta, "charset") &&
			     json_object_set_new(m->d->meta, "charset",
						 jsonu_string(cs.len ? buf_str(&cs) : "us-ascii")) < 0)) {
		m->oom = 1;
		rc = err_set(m->e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (doc_init(&t, lim) < 0)
		rc = err_set(m->e, MOAT_ENOMEM, "out of memory");
	else if (html)
		rc = ingest_html((const unsigned char *)buf_str(&utf), utf.len, m->o, &t, m->e);
	else
		rc = ingest_text((const unsigned char *)buf_str(&utf), utf.len, m->o, &t, m->e);
	if (rc == 0 && t.over_limit)  /* a scratch document without limits: out of memory */
		rc = docfmt_limit_error(&t, m->e);
	if (rc == 0) {
		/* a mail's first line is not a document title */
		for (size_t i = 0; i < t.n_el; i++)
			if (t.el[i].type == EL_TITLE && !html)
				t.el[i].type = EL_PARAGRAPH;
		if (copy_elements(m, &t) < 0)
			rc = m->d->over_limit ? 0 : err_set(m->e, MOAT_ENOMEM, "out of memory");
		m->have_body = 1;
	}
	doc_release(&t);
out:
	buf_release(&raw);
	buf_release(&utf);
	buf_release(&type);
	buf_release(&params);
	buf_release(&cs);
	return rc;
}

static int walk(struct mctx *m, const struct part *p, int depth);

/* An attachment: a child document, parsed by the reader its content calls for. */
static int add_attachment(struct mctx *m, const struct part *p, const char *type,
			  const char *name)
{
	struct buf raw = BUF_INIT;
	struct doc_child *c;
	const char *fmt;
	char mime[96];
	struct moat_err ce = MOAT_ERR_INIT;
	const char *fname = name && *name ? name
			    : !strcmp(type, "message/rfc822") ? "attached.eml" : "attachment";
	unsigned char *bytes;
	size_t n;
	decode_body(p, &raw);
	if (buf_failed(&raw)) {
		buf_release(&raw);
		return err_set(m->e, MOAT_ENOMEM, "out of memory");
	}
	bytes = (unsigned char *)buf_detach(&raw, &n);
	if (!bytes)
		return err_set(m->e, MOAT_ENOMEM, "out of memory");
	c = doc_add_child(m->d, bytes, n, fname, type);
	if (!c || !c->name || !c->mime)
		return err_set(m->e, MOAT_ENOMEM, "out of memory");
	fmt = !strcmp(type, "message/rfc822") ? "email"
					       : ingest_detect(fname, c->data, c->len, mime,
							       sizeof(mime), &ce);
	if (fmt) {
		attach_depth++;
		if (attach_depth > MAX_DEPTH) {
			err_set(&ce, MOAT_ELIMIT, "messages nested more than %d deep", MAX_DEPTH);
			fmt = NULL;
		} else if (m->parse(fmt, c->data, c->len, m->o, &c->doc, &ce) < 0) {
			fmt = NULL;
		}
		attach_depth--;
		if (!fmt && ce.code == MOAT_ELIMIT && strstr(ce.msg, "nested")) {
			/* the whole message is too deep, not just this attachment */
			return err_set(m->e, MOAT_ELIMIT, "%s", ce.msg);
		}
	}
	if (!fmt && ce.code == MOAT_ENOMEM) {
		/* memory is not the attachment's fault: the message fails */
		return err_set(m->e, MOAT_ENOMEM, "%s", ce.msg);
	}
	if (!fmt) {
		c->failed = 1;
		c->error = strdup(ce.msg[0] ? ce.msg : "cannot parse");
		doc_release(&c->doc);
		if (doc_init(&c->doc, m->d->limits) < 0 || !c->error)
			return err_set(m->e, MOAT_ENOMEM, "out of memory");
	} else {
		c->doc.format = fmt;
	}
	if (json_array_append_new(m->attachments,
				  json_pack("{s:s, s:s, s:I, s:s, s:s*}", "name", c->name, "mime", type,
					    "size", (json_int_t)c->len, "id", c->id, "error",
					    c->failed ? c->error : NULL)) < 0)
		return err_set(m->e, MOAT_ENOMEM, "out of memory");
	return 0;
}

static int walk_multipart(struct mctx *m, const struct part *p, const char *subtype,
			  const char *boundary, int depth)
{
	size_t bl = strlen(boundary);
	const char *s = p->body, *end = p->body + p->blen;
	const char *starts[MAX_PARTS + 1];
	size_t lens[MAX_PARTS + 1], n = 0;
	const char *cur = NULL;
	int closed = 0, rc = 0;
	/* find the parts between "--boundary" lines */
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;
		if ((size_t)(le - s) >= bl + 2 && s[0] == '-' && s[1] == '-' &&
		    !memcmp(s + 2, boundary, bl)) {
			const char *after = s + 2 + bl;
			if (cur && n == MAX_PARTS)  /* never silently fewer */
				return err_set(m->e, MOAT_ELIMIT, "more than %d MIME parts", MAX_PARTS);
			if (cur) {
				const char *pe = s;
				if (pe > cur && pe[-1] == '\n')
					pe--;
				if (pe > cur && pe[-1] == '\r')
					pe--;
				starts[n] = cur;
				lens[n++] = (size_t)(pe - cur);
			}
			if (after + 1 < le + 1 && after[0] == '-' && after + 1 < end && after[1] == '-') {
				closed = 1;
				break;
			}
			cur = nl ? nl + 1 : end;
		}
		s = nl ? nl + 1 : end;
	}
	if (!closed && cur && cur < end) {
		if (n == MAX_PARTS)
			return err_set(m->e, MOAT_ELIMIT, "more than %d MIME parts", MAX_PARTS);
		starts[n] = cur;
		lens[n++] = (size_t)(end - cur);
	}
	if (m->parts + (int)n > MAX_PARTS)
		return err_set(m->e, MOAT_ELIMIT, "more than %d MIME parts", MAX_PARTS);
	m->parts += (int)n;
	if (!strcmp(subtype, "alternative")) {
		/* the plain text, else the HTML, else the richest part */
		int pick = -1, html = -1;
		for (size_t i = 0; i < n; i++) {
			struct part q;
			struct buf t = BUF_INIT, pr = BUF_INIT;
			split_part(starts[i], lens[i], &q);
			content_type(&q, &t, &pr);
			if (oom(m, &t) || oom(m, &pr)) {
				buf_release(&t);
				buf_release(&pr);
				return err_set(m->e, MOAT_ENOMEM, "out of memory");
			}
			if (!strcmp(buf_str(&t), "text/plain") && pick < 0)
				pick = (int)i;
			else if (!strcmp(buf_str(&t), "text/html") && html < 0)
				html = (int)i;
			else if (!strncmp(buf_str(&t), "multipart/", 10) && pick < 0 && html < 0)
				html = (int)i;
			buf_release(&t);
			buf_release(&pr);
		}
		if (pick < 0)
			pick = html;
		if (pick >= 0) {
			struct part q;
			split_part(starts[pick], lens[pick], &q);
			rc = walk(m, &q, depth + 1);
		}
		return rc;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct part q;
		split_part(starts[i], lens[i], &q);
		rc = walk(m, &q, depth + 1);
	}
	return rc;
}

static int walk(struct mctx *m, const struct part *p, int depth)
{
	struct buf type = BUF_INIT, params = BUF_INIT, disp = BUF_INIT, name = BUF_INIT,
		   dname = BUF_INIT, bnd = BUF_INIT;
	int rc = 0, attachment;
	if (depth + attach_depth > MAX_DEPTH)
		return err_set(m->e, MOAT_ELIMIT, "MIME parts nested more than %d deep", MAX_DEPTH);
	content_type(p, &type, &params);
	header(p, "Content-Disposition", &disp);
	param(buf_str(&params), "name", &name);
	param(buf_str(&disp), "filename", &dname);
	if (dname.len) {
		buf_reset(&name);
		buf_add(&name, buf_str(&dname), dname.len);
	}
	if (name.len) {  /* file names may be encoded words too */
		struct buf dec = BUF_INIT;
		decode_words(buf_str(&name), name.len, &dec);
		buf_reset(&name);
		buf_add(&name, buf_str(&dec), dec.len);
		oom(m, &dec);
		buf_release(&dec);
	}
	/* names and types end up in JSON: valid UTF-8 only */
	if (!utf8_is_valid(buf_str(&name), name.len)) {
		struct buf fix = BUF_INIT;
		utf8_sanitize(&fix, buf_str(&name), name.len);
		buf_reset(&name);
		buf_add(&name, buf_str(&fix), fix.len);
		oom(m, &fix);
		buf_release(&fix);
	}
	if (!utf8_is_valid(buf_str(&type), type.len)) {
		buf_reset(&type);
		buf_adds(&type, "application/octet-stream");
	}
	if (oom(m, &type) || oom(m, &params) || oom(m, &disp) || oom(m, &name) || oom(m, &dname)) {
		rc = err_set(m->e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	attachment = !strncasecmp(buf_str(&disp), "attachment", 10) || (name.len && depth > 0);
	if (!strncmp(buf_str(&type), "multipart/", 10)) {
		if (param(buf_str(&params), "boundary", &bnd) && oom(m, &bnd))
			rc = err_set(m->e, MOAT_ENOMEM, "out of memory");
		else if (!bnd.len)
			rc = err_set(m->e, MOAT_EPARSE, "malformed MIME: %s without a boundary",
				     buf_str(&type));
		else
			rc = walk_multipart(m, p, buf_str(&type) + 10, buf_str(&bnd), depth);
	} else if (!attachment && !m->have_body && !strcmp(buf_str(&type), "text/plain")) {
		rc = add_text_body(m, p, 0);
	} else if (!attachment && !m->have_body && !strcmp(buf_str(&type), "text/html")) {
		rc = add_text_body(m, p, 1);
	} else if (!attachment && m->have_body && !strcmp(buf_str(&type), "text/plain")) {
		rc = add_text_body(m, p, 0);  /* more inline text */
	} else if (depth > 0 || !strcmp(buf_str(&type), "message/rfc822")) {
		rc = add_attachment(m, p, buf_str(&type), buf_str(&name));
	} else {
		/* a single-part message that is not text: the body is its attachment */
		rc = add_attachment(m, p, buf_str(&type), buf_str(&name));
	}
out:
	buf_release(&type);
	buf_release(&params);
	buf_release(&disp);
	buf_release(&name);
	buf_release(&dname);
	buf_release(&bnd);
	return rc;
}

int ingest_email(const unsigned char *data, size_t len, const struct ingest_opts *o,
		 ingest_parse_fn parse, struct doc *d, struct moat_err *e)
{
	static const struct {
		const char *field, *key;
	} fields[] = { { "From", "from" }, { "To", "to" }, { "Cc", "cc" }, { "Date", "date" },
		       { "Subject", "subject" }, { "Message-ID", "message_id" },
		       { "Reply-To", "reply_to" }, { "In-Reply-To", "in_reply_to" } };
	struct mctx m;
	struct part p;
	int rc, any = 0;
	memset(&m, 0, sizeof(m));
	m.d = d;
	m.o = o;
	m.parse = parse;
	m.e = e;
	m.attachments = json_array();
	if (!len) {
		json_decref(m.attachments);
		return err_set(e, MOAT_EPARSE, "empty file (0 bytes; not an e-mail)");
	}
	if (!m.attachments)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	split_part((const char *)data, len, &p);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *v = header_json(&p, fields[i].field, &m.oom);
		if (v) {
			if (json_object_set_new(d->meta, fields[i].key, v) < 0)
				m.oom = 1;
			any = 1;
		}
	}
	if (m.oom) {
		json_decref(m.attachments);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	if (!any) {
		json_decref(m.attachments);
		return err_set(e, MOAT_EPARSE, "not an e-mail: no From, To, Date or Subject field");
	}
	rc = walk(&m, &p, 0);
	if (rc == 0 && json_array_size(m.attachments) &&
	    json_object_set(d->meta, "attachments", m.attachments) < 0)
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
	json_decref(m.attachments);
	d->encoding = NULL;
	return rc;
}
