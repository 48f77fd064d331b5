/*
 * markdown.c - Markdown through Debian's cmark-gfm (CommonMark plus the GFM
 * table, strikethrough and autolink extensions).
 *
 * The parse tree is walked with cmark's iterator (no recursion, so deeply
 * nested input cannot exhaust the stack) and turned into elements: headings
 * with their level, paragraphs, list items (level = list depth; a nested
 * list's items are elements of their own), code blocks (meta "language"),
 * block quotes and tables (one element; rows on lines, cells joined by
 * " | ", meta "rows" holds the cells).  Inline markup becomes plain text:
 * links keep their text, images their alt text, soft breaks are spaces and
 * hard breaks (and <br>) newlines; other raw inline HTML is dropped and an
 * HTML block keeps only the text between its tags.
 *
 * This file is not a Markdown renderer: nothing here writes HTML, and link
 * targets are not kept.
 */
#include "reader.h"
#include "blockstack.h"
#include "../core/utf8.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>

#include "../core/banned.h"

/* What a block container on the walk's stack does with the text inside it. */
enum fkind {
	F_NONE,     /* absorbed into an enclosing element, or the document */
	F_LIST,     /* a list whose items are elements: a barrier for text */
	F_PARA,     /* these collect text into one element ... */
	F_HEADING,
	F_QUOTE,
	F_ITEM,
	F_CELL,     /* ... or into one table cell */
	F_TABLE,
	F_ROW,
};

struct md {
	struct doc *d;
	struct bstack s;   /* frames' kind: enum fkind */
	int lists;         /* F_LIST frames on the stack */
	int stop;          /* a limit was reached */
	int nomem;
};

static pthread_once_t ext_once = PTHREAD_ONCE_INIT;

static void register_extensions(void)
{
	/* Not thread-safe inside cmark-gfm: run once, before any parser. */
	cmark_gfm_core_extensions_ensure_registered();
}

static struct bframe *push(struct md *m, enum fkind kind, int level)
{
	static const enum bf_role role[] = {
		[F_NONE] = BF_INHERIT, [F_LIST] = BF_BARRIER, [F_PARA] = BF_COLLECT,
		[F_HEADING] = BF_COLLECT, [F_QUOTE] = BF_COLLECT, [F_ITEM] = BF_COLLECT,
		[F_CELL] = BF_COLLECT, [F_TABLE] = BF_TABLE, [F_ROW] = BF_ROW,
	};
	struct bframe *f = bstack_push(&m->s, role[kind], (int)kind);
	if (!f) {
		m->nomem = m->stop = 1;
		return NULL;
	}
	f->level = level;
	if (kind == F_LIST)
		m->lists++;
	return f;
}

/* The frame that receives text now. */
static struct bframe *collector(struct md *m)
{
	return bstack_collector(&m->s);
}

/* The frame on top of the stack, or NULL. */
static struct bframe *top(struct md *m)
{
	return m->s.n ? &m->s.st[m->s.n - 1] : NULL;
}

static void add_text(struct bframe *f, const char *s, size_t n)
{
	if (!n)
		return;
	if (f->brk) {
		if (f->text.len)
			buf_addch(&f->text, f->kind == F_CELL ? ' ' : '\n');
		f->brk = 0;
	}
	if (f->kind == F_CELL) {
		/* A cell stays on its row's line. */
		for (size_t i = 0; i < n; i++)
			buf_addch(&f->text, s[i] == '\n' || s[i] == '\r' ? ' ' : s[i]);
	} else {
		buf_add(&f->text, s, n);
	}
}

static void emit(struct md *m, enum element_type type, int level, const char *s, size_t n,
		 json_t *meta)
{
	if (m->stop) {
		json_decref(meta);
		return;
	}
	if (doc_add(m->d, type, level, s, n, meta) < 0)
		m->stop = 1;
}

/* Appends s with runs of whitespace as one space. */
static void add_collapsed(struct buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int ws = s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r';
		if (!ws)
			buf_addch(out, s[i]);
		else if (out->len && out->data[out->len - 1] != ' ')
			buf_addch(out, ' ');
	}
}

/* The text between the tags of an HTML block: comments, tags, and the
 * contents of script and style elements are left out. */
static void html_block_text(struct buf *out, const char *s)
{
	while (*s) {
		if (*s != '<') {
			const char *lt = strchr(s, '<');
			size_t n = lt ? (size_t)(lt - s) : strlen(s);
			add_collapsed(out, s, n);
			s += n;
			continue;
		}
		if (!strncmp(s, "<!--", 4)) {
			const char *end = strstr(s + 4, "-->");
			s = end ? end + 3 : s + strlen(s);
			continue;
		}
		if (!strncasecmp(s, "<script", 7) || !strncasecmp(s, "<style", 6)) {
			const char *close = s[2] == 'c' || s[2] == 'C' ? "</script" : "</style";
			const char *p = s + 1;
			s = NULL;
			while ((p = strchr(p, '<')) != NULL) {
				if (!strncasecmp(p, close, strlen(close))) {
					s = p;
					break;
				}
				p++;
			}
			if (!s)
				return;
		}
		{
			const char *gt = strchr(s, '>');
			if (!gt)
				return;
			add_collapsed(out, " ", 1);
			s = gt + 1;
		}
	}
}

static void emit_table(struct md *m, struct bframe *f)
{
	struct buf t = BUF_INIT;
	json_t *meta = bstack_table(f, &t, &m->nomem);
	if (meta && json_object_set_new(meta, "header_rows", json_integer(f->level)) < 0) {
		json_decref(meta);
		meta = NULL;
		m->nomem = 1;
	}
	if (m->nomem)
		m->stop = 1;
	else if (meta)
		emit(m, EL_TABLE, 0, buf_str(&t), t.len, meta);
	buf_release(&t);
}

static void enter_block(struct md *m, cmark_node *node)
{
	cmark_node_type type = cmark_node_get_type(node);
	const char *ts = cmark_node_get_type_string(node);
	struct bframe *c = collector(m);
	if (c) {
		if (c->kind == F_ITEM && type == CMARK_NODE_LIST) {
			/* A nested list: the item so far is one element, the nested
			 * items are elements of their own. */
			emit(m, EL_LIST_ITEM, c->level, c->text.data, c->text.len, NULL);
			buf_reset(&c->text);
			c->brk = 0;
			push(m, F_LIST, 0);
			return;
		}
		c->brk = 1;
		push(m, F_NONE, 0);
		return;
	}
	switch (type) {
	case CMARK_NODE_PARAGRAPH:
		push(m, F_PARA, 0);
		return;
	case CMARK_NODE_HEADING:
		push(m, F_HEADING, cmark_node_get_heading_level(node));
		return;
	case CMARK_NODE_BLOCK_QUOTE:
		push(m, F_QUOTE, 0);
		return;
	case CMARK_NODE_LIST:
		push(m, F_LIST, 0);
		return;
	case CMARK_NODE_ITEM:
		push(m, F_ITEM, m->lists > 0 ? m->lists : 1);
		return;
	default:
		break;
	}
	if (ts && !strcmp(ts, "table")) {
		push(m, F_TABLE, 0);
	} else if (ts && (!strcmp(ts, "table_row") || !strcmp(ts, "table_header")) && top(m) &&
		   top(m)->kind == F_TABLE) {
		/* cmark-gfm names the header row "table_header" */
		if (!strcmp(ts, "table_header"))
			top(m)->level++;
		push(m, F_ROW, 0);
	} else if (ts && !strcmp(ts, "table_cell") && top(m) && top(m)->kind == F_ROW) {
		push(m, F_CELL, 0);
	} else {
		push(m, F_NONE, 0);
	}
}

static void exit_block(struct md *m)
{
	struct bframe *f = bstack_pop(&m->s), *c;
	if (!f)
		return;
	switch ((enum fkind)f->kind) {
	case F_NONE:
		if ((c = collector(m)) != NULL)
			c->brk = 1;
		break;
	case F_LIST:
		m->lists--;
		break;
	case F_PARA:
		emit(m, EL_PARAGRAPH, 0, f->text.data, f->text.len, NULL);
		break;
	case F_HEADING:
		emit(m, EL_HEADING, f->level, f->text.data, f->text.len, NULL);
		break;
	case F_QUOTE:
		emit(m, EL_QUOTE, 0, f->text.data, f->text.len, NULL);
		break;
	case F_ITEM:
		emit(m, EL_LIST_ITEM, f->level, f->text.data, f->text.len, NULL);
		break;
	case F_CELL: {
		const char *s = buf_str(&f->text);
		size_t n = f->text.len;
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		while (n && (*s == ' ' || *s == '\t')) {
			s++;
			n--;
		}
		if (bstack_cell_done(&m->s, f, s, n) < 0)
			m->nomem = m->stop = 1;
		break;
	}
	case F_ROW:
		if (bstack_row_done(&m->s, f, 0) < 0)
			m->nomem = m->stop = 1;
		break;
	case F_TABLE:
		if (f->cells)
			emit_table(m, f);
		break;
	}
	if (buf_failed(&f->text))
		m->nomem = m->stop = 1;
	bstack_done(f);
}

static void leaf(struct md *m, cmark_node *node)
{
	struct bframe *c = collector(m);
	const char *lit;
	switch (cmark_node_get_type(node)) {
	case CMARK_NODE_TEXT:
	case CMARK_NODE_CODE:
		if (c && (lit = cmark_node_get_literal(node)) != NULL)
			add_text(c, lit, strlen(lit));
		break;
	case CMARK_NODE_SOFTBREAK:
		if (c)
			add_text(c, " ", 1);
		break;
	case CMARK_NODE_LINEBREAK:
		if (c)
			add_text(c, "\n", 1);
		break;
	case CMARK_NODE_CODE_BLOCK:
		lit = cmark_node_get_literal(node);
		if (!lit)
			break;
		if (c) {
			c->brk = 1;
			add_text(c, lit, strlen(lit));
			c->brk = 1;
		} else {
			const char *info = cmark_node_get_fence_info(node);
			json_t *meta = NULL;
			if (info && *info) {
				size_t n = strcspn(info, " \t");
				meta = json_pack("{s:s%}", "language", info, n);
				if (!meta || (info[n] && json_object_set_new(meta, "info",
									     json_string(info)) < 0)) {
					json_decref(meta);
					m->nomem = m->stop = 1;
					break;
				}
			}
			emit(m, EL_CODE, 0, lit, strlen(lit), meta);
		}
		break;
	case CMARK_NODE_HTML_BLOCK: {
		struct buf t = BUF_INIT;
		lit = cmark_node_get_literal(node);
		if (!lit)
			break;
		html_block_text(&t, lit);
		if (c) {
			c->brk = 1;
			add_text(c, buf_str(&t), t.len);
			c->brk = 1;
		} else {
			emit(m, EL_PARAGRAPH, 0, buf_str(&t), t.len, NULL);
		}
		buf_release(&t);
		break;
	}
	case CMARK_NODE_THEMATIC_BREAK:
		if (c)
			c->brk = 1;
		break;
	case CMARK_NODE_HTML_INLINE:
		/* Raw inline HTML is dropped, except that <br> still breaks the line. */
		lit = cmark_node_get_literal(node);
		if (c && lit && !strncasecmp(lit, "<br", 3) && !isalpha((unsigned char)lit[3]))
			add_text(c, "\n", 1);
		break;
	default:
		break;
	}
}

/* ---- guarding against cmark-gfm's slow paths -------------------------------
 *
 * Debian 12's cmark-gfm (0.29.0.gfm.6) predates the fixes for its quadratic
 * paths (CVE-2023-22483..22486, fixed upstream in 0.29.0.gfm.7).  Three of
 * them are reachable with a few hundred kilobytes: the table extension
 * re-reads a whole paragraph at every table-delimiter-like line that fails
 * to open a table; the autolink extension scans to the end of a run without
 * spaces at every "www."; and the inline parser scans to the end of a
 * paragraph at every "<?" that is never closed by "?>".  One linear pass
 * bounds that work from above; over the budget, the table or autolink
 * extension stays off for this document (its text is the same; only tables
 * become paragraphs, or underscores in a bare URL may read as emphasis), and
 * unclosed "<?" are escaped (they were literal text anyway, except inside
 * code).  d->meta "markdown_guard" says what was done.  The sandbox's CPU
 * limit remains the backstop.
 */
#define GUARD_BUDGET ((uint64_t)1 << 25)  /* about 0.1 s of cmark's slow paths */

struct guard {
	uint64_t table, autolink, pi;
};

static int blank_line(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

/* s[i] follows an odd number of backslashes. */
static int escaped(const char *s, size_t i)
{
	size_t n = 0;
	while (i > n && s[i - n - 1] == '\\')
		n++;
	return n % 2;
}

/* A line made of '|', '-', ':' and blanks, with a '-' and a '|'. */
static int delim_row(const char *s, size_t n)
{
	int dash = 0, pipe = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '-')
			dash = 1;
		else if (s[i] == '|')
			pipe = 1;
		else if (s[i] != ':' && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	}
	return dash && pipe;
}

/* Cells of a table row as GFM counts them: '|' separators, leading and
 * trailing pipes not counted. */
static size_t row_cells(const char *s, size_t n)
{
	size_t pipes = 0, a = 0, b = n;
	while (a < b && (s[a] == ' ' || s[a] == '\t'))
		a++;
	while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r'))
		b--;
	if (a == b)
		return 0;
	for (size_t i = a; i < b; i++)
		if (s[i] == '|' && (i == a || s[i - 1] != '\\'))
			pipes++;
	if (s[a] == '|')
		pipes--;
	if (b - a > 1 && s[b - 1] == '|')
		pipes--;
	return s[a] == '|' && b - a == 1 ? 0 : pipes + 1;
}

static int is_blank_char(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void guard_measure(const char *s, size_t len, struct guard *g)
{
	size_t para = 0, prev = 0, prev_len = 0, lines = 0, open_pi = 0, run_end = 0;
	int in_table = 0;
	memset(g, 0, sizeof(*g));
	for (size_t ls = 0; ls < len;) {
		const char *nl = memchr(s + ls, '\n', len - ls);
		size_t le = nl ? (size_t)(nl - s) : len, n = le - ls;
		if (blank_line(s + ls, n)) {
			g->pi += (uint64_t)open_pi * (ls - para);
			open_pi = 0;
			para = le + 1;
			in_table = 0;
			lines = 0;
		} else {
			/* "<?" and "?>" are found through their '?', which is rare. */
			const char *q = s + ls, *qe = s + le;
			while ((q = memchr(q, '?', (size_t)(qe - q))) != NULL) {
				size_t i = (size_t)(q - s);
				if (i > ls && s[i - 1] == '<' && !escaped(s, i - 1))
					open_pi++;
				else if (i + 1 < le && s[i + 1] == '>')
					open_pi = 0;
				q++;
			}
			if (!in_table && lines && delim_row(s + ls, n)) {
				g->table += ls - para;
				in_table = row_cells(s + prev, prev_len) == row_cells(s + ls, n);
			}
			prev = ls;
			prev_len = n;
			lines++;
		}
		ls = le + 1;
	}
	g->pi += (uint64_t)open_pi * (len - para);
	/* Every "www." scans the rest of its run of non-blanks; found through
	 * the '.', each run measured once. */
	for (const char *q = s; (q = memchr(q, '.', len - (size_t)(q - s))) != NULL; q++) {
		size_t i = (size_t)(q - s);
		if (i < 3 || (s[i - 1] | 0x20) != 'w' || (s[i - 2] | 0x20) != 'w' ||
		    (s[i - 3] | 0x20) != 'w')
			continue;
		if (run_end <= i) {
			run_end = i;
			while (run_end < len && !is_blank_char(s[run_end]))
				run_end++;
		}
		g->autolink += run_end - i;
	}
}

/* Escapes "<?" that no "?>" closes later in its paragraph. */
static void escape_open_pi(struct buf *out, const char *s, size_t len)
{
	size_t start = 0;
	while (start < len) {
		/* one paragraph: up to a blank line */
		size_t end = start, close = 0;
		int found_close = 0;
		for (;;) {
			const char *nl = memchr(s + end, '\n', len - end);
			size_t le = nl ? (size_t)(nl - s) : len;
			int blank = blank_line(s + end, le - end);
			end = nl ? le + 1 : len;
			if (blank || !nl)
				break;
		}
		for (size_t i = start; i + 1 < end; i++)
			if (s[i] == '?' && s[i + 1] == '>') {
				close = i;
				found_close = 1;
			}
		for (size_t i = start; i < end; i++) {
			if (s[i] == '<' && i + 1 < end && s[i + 1] == '?' && (!found_close || i > close) &&
			    !escaped(s, i))
				buf_addch(out, '\\');
			buf_addch(out, s[i]);
		}
		start = end;
	}
}

static void attach(cmark_parser *p, const char *name)
{
	cmark_syntax_extension *ext = cmark_find_syntax_extension(name);
	if (ext)
		cmark_parser_attach_syntax_extension(p, ext);
}

int ingest_markdown(const unsigned char *data, size_t len, const struct ingest_opts *o,
		    struct doc *d, struct moat_err *e)
{
	struct buf t = BUF_INIT;
	struct md m = { 0 };
	struct guard g;
	cmark_parser *p;
	cmark_node *root;
	cmark_iter *it;
	cmark_event_type ev;
	(void)o;
	d->encoding = utf8_decode_text(&t, data, len);
	if (buf_failed(&t)) {
		buf_release(&t);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	guard_measure(buf_str(&t), t.len, &g);
	if (g.table > GUARD_BUDGET || g.autolink > GUARD_BUDGET || g.pi > GUARD_BUDGET) {
		json_t *what = json_array();
		int bad = !what;
		if (g.table > GUARD_BUDGET)
			bad |= json_array_append_new(what, json_string("table extension off")) < 0;
		if (g.autolink > GUARD_BUDGET)
			bad |= json_array_append_new(what, json_string("autolink extension off")) < 0;
		if (g.pi > GUARD_BUDGET) {
			struct buf esc = BUF_INIT;
			escape_open_pi(&esc, buf_str(&t), t.len);
			buf_release(&t);
			t = esc;
			bad |= json_array_append_new(what, json_string("unclosed <? escaped")) < 0;
		}
		if (bad)
			json_decref(what);
		if (bad || json_object_set_new(d->meta, "markdown_guard", what) < 0 ||
		    buf_failed(&t)) {
			buf_release(&t);
			return err_set(e, MOAT_ENOMEM, "out of memory");
		}
	}
	pthread_once(&ext_once, register_extensions);
	p = cmark_parser_new(CMARK_OPT_DEFAULT);
	if (!p) {
		buf_release(&t);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	if (g.table <= GUARD_BUDGET)
		attach(p, "table");
	attach(p, "strikethrough");
	if (g.autolink <= GUARD_BUDGET)
		attach(p, "autolink");
	cmark_parser_feed(p, buf_str(&t), t.len);
	root = cmark_parser_finish(p);
	cmark_parser_free(p);
	buf_release(&t);
	if (!root)
		return err_set(e, MOAT_EPARSE, "cannot parse the Markdown");
	it = cmark_iter_new(root);
	m.d = d;
	while (!m.stop && (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *node = cmark_iter_get_node(it);
		cmark_node_type type = cmark_node_get_type(node);
		int block = (type & CMARK_NODE_TYPE_MASK) == CMARK_NODE_TYPE_BLOCK;
		int is_leaf = type == CMARK_NODE_CODE_BLOCK || type == CMARK_NODE_HTML_BLOCK ||
			      type == CMARK_NODE_THEMATIC_BREAK || !block;
		if (type == CMARK_NODE_DOCUMENT)
			continue;
		if (is_leaf) {
			if (ev == CMARK_EVENT_ENTER)
				leaf(&m, node);
		} else if (ev == CMARK_EVENT_ENTER) {
			enter_block(&m, node);
		} else if (ev == CMARK_EVENT_EXIT) {
			exit_block(&m);
		}
	}
	cmark_iter_free(it);
	cmark_node_free(root);
	bstack_release(&m.s);
	if (m.nomem)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return 0;
}
