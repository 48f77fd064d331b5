/*
 * html.c - HTML through libxml2's HTML parser (recovering, no network, no
 * external entities).
 *
 * The charset is settled before parsing: a byte-order mark, else the
 * document's own <meta charset>, <meta http-equiv="Content-Type"> or XML
 * declaration (labels read as the WHATWG Encoding Standard reads them, so
 * "iso-8859-1" and "us-ascii" mean windows-1252), else UTF-8 when the bytes
 * are valid UTF-8 and windows-1252 when not.  The bytes are converted to
 * UTF-8 here and libxml2 is told to ignore the document's hints.
 *
 * libxml2 stops at 256 levels of nesting unless told XML_PARSE_HUGE, and old
 * pages with unclosed inline tags go deeper; stopping would silently lose the
 * rest of the page, so the limit is lifted (the input's size is bounded by
 * ingest's max_file_size) and the tree is walked without recursion, with
 * each level's bookkeeping cached so that depth costs nothing extra.
 *
 * The elements: the title, h1-h6 (heading, level), p, li (list_item, level =
 * list depth; a nested list's items are elements of their own), table (one
 * element, rows on lines, cells joined by " | ", meta "rows"), pre (code),
 * blockquote (quote), caption and figcaption (caption); a table used for
 * layout (one holding a table or a heading) is read as a container.  Loose
 * text inside containers (body, div, section ...) becomes paragraphs.
 * Scripts, styles, templates, navigation (<nav>, role="navigation"), hidden
 * elements, form controls and the rest of <head> are dropped.  Whitespace
 * is collapsed as a browser would, except inside pre.
 *
 * This file does not fetch, run or render anything; links and images are not
 * kept.
 */
#include "reader.h"
#include "blockstack.h"
#include "../core/utf8.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "../core/banned.h"

/* ---- charset ------------------------------------------------------------ */

/* Labels moat understands, each with the name it records and the name iconv
 * knows (NULL: converted here).  Labels follow the WHATWG Encoding Standard:
 * a page that says latin1 is decoded as windows-1252, as browsers do. */
static const struct {
	const char *label, *name, *iconv;
} charsets[] = {
	{ "utf-8", "utf-8", NULL }, { "utf8", "utf-8", NULL },
	{ "unicode-1-1-utf-8", "utf-8", NULL }, { "x-unicode20utf8", "utf-8", NULL },
	/* A <meta> cannot truthfully declare UTF-16 (it would not be readable as
	 * ASCII); browsers read such pages as UTF-8. */
	{ "utf-16", "utf-8", NULL }, { "utf-16le", "utf-8", NULL }, { "utf-16be", "utf-8", NULL },
	{ "windows-1252", "windows-1252", NULL }, { "cp1252", "windows-1252", NULL },
	{ "x-cp1252", "windows-1252", NULL }, { "iso-8859-1", "windows-1252", NULL },
	{ "iso8859-1", "windows-1252", NULL }, { "iso_8859-1", "windows-1252", NULL },
	{ "iso88591", "windows-1252", NULL }, { "latin1", "windows-1252", NULL },
	{ "l1", "windows-1252", NULL }, { "us-ascii", "windows-1252", NULL },
	{ "ascii", "windows-1252", NULL }, { "ansi_x3.4-1968", "windows-1252", NULL },
	{ "cp819", "windows-1252", NULL }, { "ibm819", "windows-1252", NULL },
	{ "csisolatin1", "windows-1252", NULL }, { "iso-ir-100", "windows-1252", NULL },
	{ "iso-8859-2", "iso-8859-2", "ISO-8859-2" }, { "latin2", "iso-8859-2", "ISO-8859-2" },
	{ "iso-8859-3", "iso-8859-3", "ISO-8859-3" }, { "iso-8859-4", "iso-8859-4", "ISO-8859-4" },
	{ "iso-8859-5", "iso-8859-5", "ISO-8859-5" }, { "iso-8859-6", "iso-8859-6", "ISO-8859-6" },
	{ "iso-8859-7", "iso-8859-7", "ISO-8859-7" }, { "iso-8859-8", "iso-8859-8", "ISO-8859-8" },
	{ "iso-8859-8-i", "iso-8859-8", "ISO-8859-8" },
	{ "iso-8859-9", "windows-1254", "CP1254" }, { "latin5", "windows-1254", "CP1254" },
	{ "iso-8859-10", "iso-8859-10", "ISO-8859-10" },
	{ "iso-8859-13", "iso-8859-13", "ISO-8859-13" },
	{ "iso-8859-14", "iso-8859-14", "ISO-8859-14" },
	{ "iso-8859-15", "iso-8859-15", "ISO-8859-15" }, { "latin9", "iso-8859-15", "ISO-8859-15" },
	{ "iso-8859-16", "iso-8859-16", "ISO-8859-16" },
	{ "windows-1250", "windows-1250", "CP1250" }, { "cp1250", "windows-1250", "CP1250" },
	{ "windows-1251", "windows-1251", "CP1251" }, { "cp1251", "windows-1251", "CP1251" },
	{ "windows-1253", "windows-1253", "CP1253" }, { "windows-1254", "windows-1254", "CP1254" },
	{ "windows-1255", "windows-1255", "CP1255" }, { "windows-1256", "windows-1256", "CP1256" },
	{ "windows-1257", "windows-1257", "CP1257" }, { "windows-1258", "windows-1258", "CP1258" },
	{ "windows-874", "windows-874", "CP874" }, { "tis-620", "windows-874", "CP874" },
	{ "koi8-r", "koi8-r", "KOI8-R" }, { "koi8-u", "koi8-u", "KOI8-U" },
	{ "ibm866", "ibm866", "CP866" }, { "cp866", "ibm866", "CP866" },
	{ "macintosh", "macintosh", "MACINTOSH" },
	{ "shift_jis", "shift_jis", "CP932" }, { "shift-jis", "shift_jis", "CP932" },
	{ "sjis", "shift_jis", "CP932" }, { "x-sjis", "shift_jis", "CP932" },
	{ "windows-31j", "shift_jis", "CP932" }, { "ms_kanji", "shift_jis", "CP932" },
	{ "euc-jp", "euc-jp", "EUC-JP" }, { "iso-2022-jp", "iso-2022-jp", "ISO-2022-JP" },
	{ "gbk", "gbk", "GB18030" }, { "gb2312", "gbk", "GB18030" }, { "x-gbk", "gbk", "GB18030" },
	{ "gb18030", "gb18030", "GB18030" },
	{ "big5", "big5", "BIG5-HKSCS" }, { "big5-hkscs", "big5", "BIG5-HKSCS" },
	{ "euc-kr", "euc-kr", "CP949" }, { "ks_c_5601-1987", "euc-kr", "CP949" },
	{ "windows-949", "euc-kr", "CP949" },
};

static int charset_lookup(const char *s, size_t n)
{
	while (n && (isspace((unsigned char)*s) || *s == '"' || *s == '\'')) {
		s++;
		n--;
	}
	while (n && (isspace((unsigned char)s[n - 1]) || s[n - 1] == '"' || s[n - 1] == '\''))
		n--;
	for (size_t i = 0; i < sizeof(charsets) / sizeof(charsets[0]); i++)
		if (strlen(charsets[i].label) == n && !strncasecmp(charsets[i].label, s, n))
			return (int)i;
	return -1;
}

/* The value of attribute name inside one tag [p, end), or NULL. */
static const char *tag_attr(const char *p, const char *end, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	while (p < end) {
		const char *a, *v;
		while (p < end && (isspace((unsigned char)*p) || *p == '/'))
			p++;
		a = p;
		while (p < end && !isspace((unsigned char)*p) && *p != '=' && *p != '>')
			p++;
		if (p == a) {
			p++;
			continue;
		}
		{
			int match = (size_t)(p - a) == nl && !strncasecmp(a, name, nl);
			while (p < end && isspace((unsigned char)*p))
				p++;
			if (p >= end || *p != '=') {
				if (match) {
					*len = 0;
					return p;
				}
				continue;
			}
			p++;
			while (p < end && isspace((unsigned char)*p))
				p++;
			if (p < end && (*p == '"' || *p == '\'')) {
				char q = *p++;
				v = p;
				while (p < end && *p != q)
					p++;
			} else {
				v = p;
				while (p < end && !isspace((unsigned char)*p) && *p != '>')
					p++;
			}
			if (match) {
				*len = (size_t)(p - v);
				return v;
			}
			if (p < end)
				p++;
		}
	}
	return NULL;
}

/* The charset a document declares for itself in its first bytes (meta tags
 * or the XML declaration), as an index into charsets[], or -1. */
static int declared_charset(const char *s, size_t len)
{
	const char *end = s + (len > 16384 ? 16384 : len), *p = s;
	size_t n;
	const char *v;
	if (len > 5 && !strncmp(s, "<?xml", 5)) {
		const char *q = memchr(s, '>', (size_t)(end - s));
		if (q && (v = tag_attr(s + 5, q, "encoding", &n)) != NULL) {
			int i = charset_lookup(v, n);
			if (i >= 0)
				return i;
		}
	}
	while (p < end && (p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		const char *gt;
		if (end - p > 4 && !strncmp(p, "<!--", 4)) {
			const char *c = p + 4;
			while (c + 2 < end && strncmp(c, "-->", 3))
				c++;
			p = c + 3;
			continue;
		}
		if (end - p > 5 && !strncasecmp(p, "<body", 5))
			break;
		if (end - p < 6 || strncasecmp(p, "<meta", 5) ||
		    !(isspace((unsigned char)p[5]) || p[5] == '/')) {
			p++;
			continue;
		}
		gt = memchr(p, '>', (size_t)(end - p));
		if (!gt)
			break;
		if ((v = tag_attr(p + 5, gt, "charset", &n)) != NULL) {
			int i = charset_lookup(v, n);
			if (i >= 0)
				return i;
		} else if ((v = tag_attr(p + 5, gt, "http-equiv", &n)) != NULL && n == 12 &&
			   !strncasecmp(v, "content-type", 12) &&
			   (v = tag_attr(p + 5, gt, "content", &n)) != NULL) {
			const char *c = v, *ce = v + n;
			while (c + 7 <= ce && strncasecmp(c, "charset", 7))
				c++;
			if (c + 7 <= ce) {
				c += 7;
				while (c < ce && isspace((unsigned char)*c))
					c++;
				if (c < ce && *c == '=') {
					const char *b = ++c;
					while (c < ce && *c != ';')
						c++;
					int i = charset_lookup(b, (size_t)(c - b));
					if (i >= 0)
						return i;
				}
			}
		}
		p = gt + 1;
	}
	return -1;
}

/* Converts with iconv; a byte iconv cannot read becomes U+FFFD. */
static int convert_iconv(struct buf *out, const char *from, const unsigned char *s, size_t len)
{
	iconv_t cd = iconv_open("UTF-8", from);
	char *in = (char *)s;
	size_t left = len;
	if (cd == (iconv_t)-1)
		return -1;
	while (left && !buf_failed(out)) {
		char *o;
		size_t room, r;
		if (buf_grow(out, left * 2 + 16) < 0)
			break;
		o = out->data + out->len;
		room = out->alloc - out->len - 1;
		r = iconv(cd, &in, &left, &o, &room);
		out->len = (size_t)(o - out->data);
		out->data[out->len] = '\0';
		if (r == (size_t)-1) {
			if (errno == E2BIG)
				continue;
			utf8_encode(out, 0xFFFD);  /* EILSEQ, or EINVAL: cut short at the end */
			if (errno == EINVAL) {
				left = 0;
				break;
			}
			in++;
			left--;
			iconv(cd, NULL, NULL, NULL, NULL);
		}
	}
	iconv_close(cd);
	return 0;
}

/* Decodes the document into out (UTF-8, no NUL bytes, valid) and returns
 * the encoding's name. */
static const char *decode_html(struct buf *out, const unsigned char *s, size_t len,
			       const char **source)
{
	struct buf raw = BUF_INIT;
	const char *enc = NULL;
	int i;
	if ((len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) ||
	    (len >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF)))) {
		*source = "bom";
		enc = utf8_decode_text(&raw, s, len);
	} else if ((i = declared_charset((const char *)s, len)) >= 0) {
		*source = "document";
		enc = charsets[i].name;
		if (!charsets[i].iconv) {
			if (!strcmp(enc, "utf-8"))
				utf8_sanitize(&raw, (const char *)s, len);
			else
				utf8_from_cp1252(&raw, s, len);
		} else if (convert_iconv(&raw, charsets[i].iconv, s, len) < 0) {
			enc = NULL;  /* iconv lacks it: sniff instead */
			buf_reset(&raw);
		}
	}
	if (!enc) {
		*source = "detected";
		if (utf8_is_valid((const char *)s, len)) {
			buf_add(&raw, s, len);
			enc = "utf-8";
		} else {
			utf8_from_cp1252(&raw, s, len);
			enc = "windows-1252";
		}
	}
	/* libxml2 stops at a NUL byte; HTML ignores them. */
	{
		const char *p = buf_str(&raw), *e = p + raw.len;
		while (p < e) {
			const char *z = memchr(p, '\0', (size_t)(e - p));
			size_t n = z ? (size_t)(z - p) : (size_t)(e - p);
			buf_add(out, p, n);
			p += n + 1;
		}
	}
	if (buf_failed(&raw))
		out->failed = raw.failed;
	buf_release(&raw);
	return enc;
}

/* ---- the walk ------------------------------------------------------------ */

enum hclass {
	H_INLINE,     /* text flows through it */
	H_SKIP,       /* dropped with everything inside */
	H_CONTAINER,  /* loose text inside becomes paragraphs */
	H_BLOCK,      /* one element: p, h1-h6, li, pre, caption ... */
	H_QUOTE,
	H_LIST,
	H_TABLE,
	H_ROW,
	H_CELL,
	H_BREAK,      /* br */
	H_RULE,       /* hr: ends loose text */
};

static const struct {
	const char *name;
	enum hclass cls;
	enum element_type type;
	int level;
} tags[] = {
	{ "address", H_CONTAINER, EL_PARAGRAPH, 0 }, { "article", H_CONTAINER, EL_PARAGRAPH, 0 },
	{ "aside", H_CONTAINER, EL_PARAGRAPH, 0 }, { "audio", H_SKIP, EL_OTHER, 0 },
	{ "blockquote", H_QUOTE, EL_QUOTE, 0 }, { "body", H_CONTAINER, EL_PARAGRAPH, 0 },
	{ "br", H_BREAK, EL_OTHER, 0 }, { "button", H_SKIP, EL_OTHER, 0 },
	{ "canvas", H_SKIP, EL_OTHER, 0 }, { "caption", H_BLOCK, EL_CAPTION, 0 },
	{ "center", H_CONTAINER, EL_PARAGRAPH, 0 }, { "datalist", H_SKIP, EL_OTHER, 0 },
	{ "dd", H_BLOCK, EL_PARAGRAPH, 0 }, { "details", H_CONTAINER, EL_PARAGRAPH, 0 },
	{ "dialog", H_CONTAINER, EL_PARAGRAPH, 0 }, { "dir", H_LIST, EL_OTHER, 0 },
	{ "div", H_CONTAINER, EL_PARAGRAPH, 0 }, { "dl", H_CONTAINER, EL_PARAGRAPH, 0 },
	{ "dt", H_BLOCK, EL_PARAGRAPH, 0 }, { "embed", H_SKIP, EL_OTHER, 0 },
	{ "fieldset", H_CONTAINER, EL_PARAGRAPH, 0 }, { "figcaption", H_BLOCK, EL_CAPTION, 0 },
	{ "figure", H_CONTAINER, EL_PARAGRAPH, 0 }, { "footer", H_CONTAINER, EL_PARAGRAPH, 0 },
	{ "form", H_CONTAINER, EL_PARAGRAPH, 0 }, { "frameset", H_SKIP, EL_OTHER, 0 },
	{ "h1", H_BLOCK, EL_HEADING, 1 }, { "h2", H_BLOCK, EL_HEADING, 2 },
	{ "h3", H_BLOCK, EL_HEADING, 3 }, { "h4", H_BLOCK, EL_HEADING, 4 },
	{ "h5", H_BLOCK, EL_HEADING, 5 }, { "h6", H_BLOCK, EL_HEADING, 6 },
	{ "head", H_SKIP, EL_OTHER, 0 }, { "header", H_CONTAINER, EL_PARAGRAPH, 0 },
	{ "hgroup", H_CONTAINER, EL_PARAGRAPH, 0 }, { "hr", H_RULE, EL_OTHER, 0 },
	{ "html", H_CONTAINER, EL_PARAGRAPH, 0 }, { "iframe", H_SKIP, EL_OTHER, 0 },
	{ "input", H_SKIP, EL_OTHER, 0 }, { "legend", H_BLOCK, EL_PARAGRAPH, 0 },
	{ "li", H_BLOCK, EL_LIST_ITEM, 0 }, { "listing", H_BLOCK, EL_CODE, 0 },
	{ "main", H_CONTAINER, EL_PARAGRAPH, 0 }, { "map", H_SKIP, EL_OTHER, 0 },
	{ "menu", H_LIST, EL_OTHER, 0 }, { "nav", H_SKIP, EL_OTHER, 0 },
	{ "noembed", H_SKIP, EL_OTHER, 0 }, { "noframes", H_SKIP, EL_OTHER, 0 },
	{ "noscript", H_SKIP, EL_OTHER, 0 }, { "object", H_SKIP, EL_OTHER, 0 },
	{ "ol", H_LIST, EL_OTHER, 0 }, { "p", H_BLOCK, EL_PARAGRAPH, 0 },
	{ "plaintext", H_BLOCK, EL_CODE, 0 }, { "pre", H_BLOCK, EL_CODE, 0 },
	{ "script", H_SKIP, EL_OTHER, 0 }, { "section", H_CONTAINER, EL_PARAGRAPH, 0 },
	{ "select", H_SKIP, EL_OTHER, 0 }, { "style", H_SKIP, EL_OTHER, 0 },
	{ "summary", H_BLOCK, EL_PARAGRAPH, 0 }, { "svg", H_SKIP, EL_OTHER, 0 },
	{ "table", H_TABLE, EL_TABLE, 0 }, { "td", H_CELL, EL_OTHER, 0 },
	{ "template", H_SKIP, EL_OTHER, 0 }, { "textarea", H_SKIP, EL_OTHER, 0 },
	{ "th", H_CELL, EL_OTHER, 0 }, { "title", H_BLOCK, EL_TITLE, 0 },
	{ "tr", H_ROW, EL_OTHER, 0 }, { "ul", H_LIST, EL_OTHER, 0 },
	{ "video", H_SKIP, EL_OTHER, 0 }, { "xmp", H_BLOCK, EL_CODE, 0 },
};

static int tag_cmp(const void *k, const void *el)
{
	return strcmp(k, *(const char *const *)el);
}

static int tag_index(const char *name)
{
	const void *hit = bsearch(name, tags, sizeof(tags) / sizeof(tags[0]), sizeof(tags[0]),
				  tag_cmp);
	return hit ? (int)(((const char *)hit - (const char *)tags) / sizeof(tags[0])) : -1;
}

enum fkind {
	F_NONE,       /* inline, or absorbed into an enclosing element */
	F_LIST,       /* barriers: text is not collected directly inside */
	F_TABLE,
	F_ROW,
	F_CONTAINER,  /* collectors */
	F_BLOCK,
	F_QUOTE,
	F_CELL,
};

struct walk {
	struct doc *d;
	struct bstack s;  /* frames' kind: enum fkind */
	int lists, pre;
	int stop, nomem;
};

static struct bframe *push(struct walk *w, enum fkind kind)
{
	static const enum bf_role role[] = {
		[F_NONE] = BF_INHERIT, [F_LIST] = BF_BARRIER, [F_TABLE] = BF_TABLE,
		[F_ROW] = BF_ROW, [F_CONTAINER] = BF_COLLECT, [F_BLOCK] = BF_COLLECT,
		[F_QUOTE] = BF_COLLECT, [F_CELL] = BF_COLLECT,
	};
	struct bframe *f = bstack_push(&w->s, role[kind], (int)kind);
	if (!f) {
		w->nomem = w->stop = 1;
		return NULL;
	}
	f->type = EL_OTHER;
	if (kind == F_LIST)
		w->lists++;
	return f;
}

/* The frame that receives text now. */
static struct bframe *collector(struct walk *w)
{
	return bstack_collector(&w->s);
}

/* The nearest frame that is not F_NONE. */
static struct bframe *structural(struct walk *w)
{
	return bstack_structural(&w->s);
}

static int is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static void put_pending(struct bframe *f)
{
	if (f->text.len) {
		if (f->brk)
			buf_addch(&f->text, f->kind == F_CELL ? ' ' : '\n');
		else if (f->sp && f->text.data[f->text.len - 1] != '\n')
			buf_addch(&f->text, ' ');
	}
	f->brk = f->sp = 0;
}

static void add_text(struct bframe *f, const char *s, size_t n, int verbatim)
{
	if (verbatim) {
		if (!n)
			return;
		put_pending(f);
		if (f->kind == F_CELL) {
			for (size_t i = 0; i < n; i++)
				buf_addch(&f->text, s[i] == '\n' || s[i] == '\r' ? ' ' : s[i]);
		} else {
			buf_add(&f->text, s, n);
		}
		return;
	}
	for (size_t i = 0; i < n;) {
		size_t j = i;
		if (is_ws((unsigned char)s[i])) {
			f->sp = 1;
			i++;
			continue;
		}
		while (j < n && !is_ws((unsigned char)s[j]))
			j++;
		put_pending(f);
		buf_add(&f->text, s + i, j - i);
		i = j;
	}
}

static void emit(struct walk *w, enum element_type type, int level, struct buf *b, json_t *meta)
{
	if (buf_failed(b))
		w->nomem = w->stop = 1;
	if (w->stop) {
		json_decref(meta);
		return;
	}
	if (doc_add(w->d, type, level, buf_str(b), b->len, meta) < 0)
		w->stop = 1;
}

/* Ends the loose text of a container as a paragraph. */
static void flush_container(struct walk *w, struct bframe *c)
{
	emit(w, EL_PARAGRAPH, 0, &c->text, NULL);
	buf_reset(&c->text);
	c->brk = c->sp = 0;
}

static void emit_table(struct walk *w, struct bframe *f)
{
	struct buf t = BUF_INIT;
	json_t *meta = bstack_table(f, &t, &w->nomem);
	if (w->nomem)
		w->stop = 1;
	else if (meta)
		emit(w, EL_TABLE, 0, &t, meta);
	buf_release(&t);
}

static const char *attr(xmlNode *n, const char *name)
{
	for (xmlAttr *a = n->properties; a; a = a->next)
		if (a->name && !strcasecmp((const char *)a->name, name))
			return a->children && a->children->content ? (const char *)a->children->content : "";
	return NULL;
}

static int hidden(xmlNode *n)
{
	const char *v;
	if (!n->properties)
		return 0;
	if (attr(n, "hidden"))
		return 1;
	if ((v = attr(n, "role")) != NULL && !strcasecmp(v, "navigation"))
		return 1;
	if ((v = attr(n, "aria-hidden")) != NULL && !strcasecmp(v, "true"))
		return 1;
	if ((v = attr(n, "style")) != NULL) {
		/* display:none, however it is spaced */
		const char *p = v;
		while ((p = strstr(p, "display")) != NULL) {
			p += 7;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == ':') {
				p++;
				while (*p == ' ' || *p == '\t')
					p++;
				if (!strncasecmp(p, "none", 4))
					return 1;
			}
		}
	}
	return 0;
}

/*
 * A table used for layout rather than data: marked so (role="presentation"
 * or "none"), or holding another table or a heading.  Its cells' content
 * then becomes ordinary elements instead of one table element.  The look
 * ahead stops after a few thousand nodes (a data table, then).
 */
static int layout_table(xmlNode *table)
{
	const char *role = table->properties ? attr(table, "role") : NULL;
	xmlNode *n = table->children;
	int budget = 5000;
	if (role && (!strcasecmp(role, "presentation") || !strcasecmp(role, "none")))
		return 1;
	while (n && n != table && budget-- > 0) {
		if (n->type == XML_ELEMENT_NODE) {
			const char *name = (const char *)n->name;
			if (!strcmp(name, "table") ||
			    (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !name[2]))
				return 1;
			if (n->children) {
				n = n->children;
				continue;
			}
		}
		while (n != table && !n->next)
			n = n->parent;
		if (n != table)
			n = n->next;
	}
	return 0;
}

/* The <title> inside <head>: the only thing kept from it. */
static void head_title(struct walk *w, xmlNode *head)
{
	for (xmlNode *c = head->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || strcasecmp((const char *)c->name, "title"))
			continue;
		struct bframe *f = push(w, F_BLOCK);
		if (!f)
			return;
		for (xmlNode *t = c->children; t; t = t->next)
			if (t->type == XML_TEXT_NODE && t->content)
				add_text(f, (const char *)t->content, strlen((const char *)t->content), 0);
		emit(w, EL_TITLE, 0, &f->text, NULL);
		bstack_pop(&w->s);
		return;
	}
}

/* Called on entering an element; returns 1 when its children are to be
 * walked (a frame was pushed, popped by leave()). */
static int enter(struct walk *w, xmlNode *n)
{
	int ti = tag_index((const char *)n->name);
	enum hclass cls = ti >= 0 ? tags[ti].cls : H_INLINE;
	struct bframe *c, *s, *f;
	if (cls == H_SKIP || hidden(n)) {
		if (ti >= 0 && !strcmp(tags[ti].name, "head"))
			head_title(w, n);
		return 0;
	}
	if (cls == H_INLINE) {
		push(w, F_NONE);
		return !w->stop;
	}
	c = collector(w);
	if (cls == H_BREAK) {
		if (c) {
			c->brk = 1;
			c->sp = 0;
		}
		return 0;
	}
	if (cls == H_RULE) {
		if (c && c->kind == F_CONTAINER)
			flush_container(w, c);
		else if (c)
			c->brk = 1;
		return 0;
	}
	if (c && c->kind != F_CONTAINER) {
		/* Inside an element: its blocks are part of its text, except a
		 * list nested in a list item, whose items stand alone. */
		if (c->kind == F_BLOCK && c->type == EL_LIST_ITEM && cls == H_LIST) {
			emit(w, EL_LIST_ITEM, c->level, &c->text, NULL);
			buf_reset(&c->text);
			c->brk = c->sp = 0;
			push(w, F_LIST);
			return !w->stop;
		}
		c->brk = 1;
		f = push(w, F_NONE);
		if (f)
			f->absorbed = 1;
		if (f && ti >= 0 && tags[ti].type == EL_CODE) {
			f->pre = 1;
			w->pre++;
		}
		return !w->stop;
	}
	if (c)
		flush_container(w, c);
	s = structural(w);
	switch (cls) {
	case H_CONTAINER:
		push(w, F_CONTAINER);
		break;
	case H_QUOTE:
		push(w, F_QUOTE);
		break;
	case H_LIST:
		push(w, F_LIST);
		break;
	case H_TABLE:
		push(w, layout_table(n) ? F_CONTAINER : F_TABLE);
		break;
	case H_ROW:
		push(w, s && s->kind == F_TABLE ? F_ROW : F_CONTAINER);
		break;
	case H_CELL:
		push(w, s && s->kind == F_ROW ? F_CELL : F_CONTAINER);
		break;
	default:
		f = push(w, F_BLOCK);
		if (!f)
			break;
		f->type = tags[ti].type;
		f->level = tags[ti].level;
		if (f->type == EL_LIST_ITEM)
			f->level = w->lists > 0 ? w->lists : 1;
		if (f->type == EL_CODE) {
			f->pre = 1;
			w->pre++;
		}
		break;
	}
	return !w->stop;
}

static void leave(struct walk *w)
{
	struct bframe *f = bstack_pop(&w->s), *c;
	if (!f)
		return;
	if (f->pre)
		w->pre--;
	switch ((enum fkind)f->kind) {
	case F_NONE:
		break;
	case F_LIST:
		w->lists--;
		break;
	case F_CONTAINER:
		emit(w, EL_PARAGRAPH, 0, &f->text, NULL);
		break;
	case F_BLOCK:
		emit(w, f->type, f->level, &f->text, NULL);
		break;
	case F_QUOTE:
		emit(w, EL_QUOTE, 0, &f->text, NULL);
		break;
	case F_CELL:
		if (bstack_cell_done(&w->s, f, buf_str(&f->text), f->text.len) < 0)
			w->nomem = w->stop = 1;
		break;
	case F_ROW:
		if (bstack_row_done(&w->s, f, 1) < 0)
			w->nomem = w->stop = 1;
		break;
	case F_TABLE:
		if (f->cells)
			emit_table(w, f);
		break;
	}
	bstack_done(f);
	/* An absorbed block ended: what follows starts on a new line. */
	if (f->absorbed && (c = collector(w)) != NULL)
		c->brk = 1;
}

static void walk_tree(struct walk *w, xmlDoc *doc)
{
	xmlNode *n = doc->children;
	while (n && !w->stop) {
		int down = 0;
		if (n->type == XML_ELEMENT_NODE) {
			down = enter(w, n);
		} else if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			struct bframe *c = collector(w);
			if (c && n->content)
				add_text(c, (const char *)n->content, strlen((const char *)n->content),
					 w->pre > 0);
		}
		if (down && n->children) {
			n = n->children;
			continue;
		}
		if (down)
			leave(w);
		while (n && !n->next) {
			n = n->parent;
			if (!n || n == (xmlNode *)doc || n->type == XML_DOCUMENT_NODE ||
			    n->type == XML_HTML_DOCUMENT_NODE) {
				n = NULL;
				break;
			}
			leave(w);
		}
		if (n)
			n = n->next;
	}
}

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

int ingest_html(const unsigned char *data, size_t len, const struct ingest_opts *o,
		struct doc *d, struct moat_err *e)
{
	struct buf t = BUF_INIT;
	struct walk w = { 0 };
	const char *source = "detected";
	xmlDoc *doc;
	(void)o;
	d->encoding = decode_html(&t, data, len, &source);
	if (buf_failed(&t) || json_object_set_new(d->meta, "charset_from", json_string(source)) < 0) {
		buf_release(&t);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	if (t.len > INT_MAX) {
		buf_release(&t);
		return err_set(e, MOAT_ELIMIT, "too large for the HTML parser (%zu bytes)", t.len);
	}
	if (!t.len) {
		buf_release(&t);
		return 0;
	}
	pthread_once(&xml_once, xml_init);
	/* HTML has no external entities to load and libxml2's HTML parser never
	 * reads a DTD; NONET forbids the network besides. */
	doc = htmlReadMemory(t.data, (int)t.len, NULL, "UTF-8",
			     HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
			     HTML_PARSE_NOWARNING | HTML_PARSE_IGNORE_ENC | HTML_PARSE_COMPACT |
			     XML_PARSE_HUGE);
	buf_release(&t);
	if (!doc)
		return err_set(e, MOAT_EPARSE, "cannot parse the HTML");
	w.d = d;
	walk_tree(&w, doc);
	xmlFreeDoc(doc);
	bstack_release(&w.s);
	if (w.nomem)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return 0;
}
