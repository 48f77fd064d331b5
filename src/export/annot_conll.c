/*
 * annot_conll.c - CoNLL-2003 style columns: one token per line, columns
 * split by spaces or tabs, the last column the entity tag, a blank line
 * between sentences, "-DOCSTART-" lines skipped.  Each sentence is an item
 * whose text is its tokens joined by single spaces, with its entities as
 * spans in code points of that text.
 *
 * Tags read: O, and B-/I- (IOB2, and IOB1 where an I- tag may open an
 * entity), E-/S- (BIOES) and L-/U- (BILOU); any other tag is an error.  An
 * I-/E-/L- tag whose type differs from the open entity's starts a new one.
 * Tags written: IOB2, as "token _ _ TAG" (the four columns of CoNLL-2003,
 * the two middle ones empty).
 *
 * Writing a text that is not tokenised: tokens are the runs of characters
 * between ASCII whitespace, and a token is cut where a span begins or ends
 * inside it ("Paris," with a span on "Paris" gives "Paris" and ","), so a
 * span keeps exactly its characters; what changes is that the text read
 * back has a space at each such cut, and loses its line breaks and runs of
 * spaces.  Spaces at the edges of a span are not carried.  Overlapping
 * spans, a span holding no token and a label with whitespace cannot be
 * written: the export fails naming the item.
 *
 * Not for: CoNLL-U (dependency trees) or CoNLL-2012 (coreference).
 */
#include "annot_internal.h"

#include <stdlib.h>
#include <string.h>

#include "../core/utf8.h"

#include "../core/banned.h"

/* --- import ---------------------------------------------------------------- */

struct sentence {
	struct buf text;
	size_t cps;              /* code points in text */
	size_t line;             /* of the first token */
	/* the open entity */
	char *type;
	size_t ent_start;
	/* finished entities */
	struct { size_t start, end; char *label; } *ents;
	size_t n_ents;
};

static int close_entity(struct sentence *st, size_t end)
{
	void *p;
	if (!st->type)
		return 0;
	p = realloc(st->ents, (st->n_ents + 1) * sizeof(*st->ents));
	if (!p)
		return -1;
	st->ents = p;
	st->ents[st->n_ents].start = st->ent_start;
	st->ents[st->n_ents].end = end;
	st->ents[st->n_ents].label = st->type;
	st->n_ents++;
	st->type = NULL;
	return 0;
}

static void sentence_clear(struct sentence *st)
{
	for (size_t i = 0; i < st->n_ents; i++)
		free(st->ents[i].label);
	free(st->ents);
	free(st->type);
	st->ents = NULL;
	st->n_ents = 0;
	st->type = NULL;
	buf_reset(&st->text);
	st->cps = 0;
}

/* Ends a sentence: one item. */
static int flush(struct sentence *st, struct annot_set *s, const char *split)
{
	struct annot_item *it;
	struct annot_value *v;
	if (!st->text.len)
		return 0;
	if (close_entity(st, st->cps) < 0 || buf_failed(&st->text) || !(it = annot_add_item(s)) ||
	    !(it->text = strdup(buf_str(&st->text))) || (split && !(it->split = strdup(split))) ||
	    !(v = annot_add_value(it)))
		return -1;
	for (size_t i = 0; i < st->n_ents; i++)
		if (annot_add_span(v, st->ents[i].start, st->ents[i].end, st->ents[i].label) < 0)
			return -1;
	sentence_clear(st);
	return 0;
}

/* One token with its tag. */
static int token(struct sentence *st, const char *tok, size_t tlen, const char *tag, size_t glen,
		 const char *file, size_t line, struct moat_err *e)
{
	size_t start = st->cps + (st->text.len ? 1 : 0), n = utf8_count(tok, tlen);
	char p = glen >= 2 && tag[1] == '-' ? tag[0] : 0;
	const char *type = tag + 2;
	size_t ty = glen >= 2 ? glen - 2 : 0;
	if (!(glen == 1 && tag[0] == 'O') && (!p || !strchr("BIESLU", p) || !ty))
		return annot_err(e, MOAT_EPARSE, file, "line", line, "tag",
				 "'%.*s' is not an IOB, IOB2, BIOES or BILOU tag", (int)(glen > 64 ? 64 : glen),
				 tag);
	if (st->text.len)
		buf_addch(&st->text, ' ');
	else
		st->line = line;
	buf_add(&st->text, tok, tlen);
	st->cps = start + n;
	if (!p) {                                         /* O */
		if (close_entity(st, start ? start - 1 : 0) < 0)
			goto nomem;
		return 0;
	}
	/* continue the open entity, or close it */
	if (st->type && (p == 'I' || p == 'E' || p == 'L') && strlen(st->type) == ty &&
	    !memcmp(st->type, type, ty)) {
		/* continues */
	} else {
		if (close_entity(st, start ? start - 1 : 0) < 0 || !(st->type = strndup(type, ty)))
			goto nomem;
		st->ent_start = start;
	}
	if ((p == 'E' || p == 'L' || p == 'S' || p == 'U') && close_entity(st, st->cps) < 0)
		goto nomem;
	return 0;
nomem:
	return annot_err(e, MOAT_ENOMEM, file, "line", line, NULL, "out of memory");
}

static int conll_file(const char *path, void *arg, struct annot_set *s, struct moat_err *e)
{
	struct buf b = BUF_INIT;
	struct sentence st;
	char *split = NULL;
	size_t line = 0, off = 0, valid;
	int rc = 0;
	(void)arg;
	memset(&st, 0, sizeof(st));
	if (annot_read_file(path, &b, e) < 0) {
		buf_release(&b);
		return -1;
	}
	valid = utf8_valid_prefix(buf_str(&b), b.len);
	if (valid < b.len) {
		size_t l = 1;
		for (size_t i = 0; i < valid; i++)
			l += b.data[i] == '\n';
		buf_release(&b);
		return annot_err(e, MOAT_EPARSE, path, "line", l, NULL, "not UTF-8");
	}
	if (annot_split_from_name(path, &split) < 0) {
		buf_release(&b);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	if (b.len >= 3 && !memcmp(b.data, "\xef\xbb\xbf", 3))
		off = 3;
	while (off < b.len && rc == 0) {
		const char *l = b.data + off, *nl = memchr(l, '\n', b.len - off);
		size_t len = nl ? (size_t)(nl - l) : b.len - off;
		const char *first = NULL, *last = NULL;
		size_t firstlen = 0, lastlen = 0, ncol = 0;
		off += len + (nl ? 1 : 0);
		line++;
		while (len && (l[len - 1] == '\r' || l[len - 1] == ' ' || l[len - 1] == '\t'))
			len--;
		for (size_t i = 0; i < len;) {
			size_t j;
			while (i < len && (l[i] == ' ' || l[i] == '\t'))
				i++;
			if (i >= len)
				break;
			for (j = i; j < len && l[j] != ' ' && l[j] != '\t'; j++)
				;
			if (!ncol)
				first = l + i, firstlen = j - i;
			last = l + i, lastlen = j - i;
			ncol++;
			i = j;
		}
		if (memchr(l, 0, len)) {
			rc = annot_err(e, MOAT_EPARSE, path, "line", line, NULL, "holds a NUL byte");
			break;
		}
		if (!ncol || (firstlen == 10 && !memcmp(first, "-DOCSTART-", 10))) {
			if (flush(&st, s, split) < 0)
				rc = annot_err(e, MOAT_ENOMEM, path, "line", line, NULL, "out of memory");
			continue;
		}
		if (ncol < 2) {
			rc = annot_err(e, MOAT_EPARSE, path, "line", line, "tag",
				       "missing (a token line needs the token and its tag)");
			break;
		}
		rc = token(&st, first, firstlen, last, lastlen, path, line, e);
	}
	if (rc == 0 && flush(&st, s, split) < 0)
		rc = annot_err(e, MOAT_ENOMEM, path, "line", line, NULL, "out of memory");
	sentence_clear(&st);
	buf_release(&st.text);
	free(split);
	buf_release(&b);
	return rc;
}

static int conll_name(const char *name)
{
	static const char *const ext[] = { ".conll", ".conll03", ".txt", ".iob", ".iob2", ".bio",
					   ".bioes", ".tsv", NULL };
	char *split = NULL;
	int ok = 0;
	for (size_t i = 0; ext[i] && !ok; i++)
		ok = annot_has_ext(name, ext[i]);
	if (!ok && annot_split_from_name(name, &split) == 0 && split)
		ok = 1;
	free(split);
	return ok;
}

int annot_import_conll(const char *path, struct annot_set *s, struct moat_err *e)
{
	return annot_import_files(path, conll_name, conll_file, NULL, s, e);
}

/* --- export ---------------------------------------------------------------- */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int cmp_span(const void *a, const void *b)
{
	const struct annot_span *x = *(const struct annot_span *const *)a;
	const struct annot_span *y = *(const struct annot_span *const *)b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return strcmp(x->label, y->label);
}

/* Writes one item's tokens and tags into b. */
static int conll_item(struct buf *b, const struct annot_item *it, size_t idx, void *arg,
		      struct moat_err *e)
{
	const struct annot_value *v = annot_main_value(it);
	size_t n = v ? v->n_spans : 0, *cps = NULL, n_cps, k = 0, written = 0;
	const struct annot_span **sp = NULL;
	const char *t = it->text;
	size_t *hit = NULL;     /* tokens written per span */
	int rc = -1;
	(void)arg;
	if (annot_cp_index(t, strlen(t), &cps, &n_cps) < 0 ||
	    (n && (!(sp = malloc(n * sizeof(*sp))) || !(hit = calloc(n, sizeof(*hit)))))) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		sp[i] = &v->spans[i];
		if (sp[i]->end > n_cps || sp[i]->start >= sp[i]->end) {
			err_set(e, MOAT_EUSAGE, "item %zu: span [%zu, %zu) is outside its text", idx + 1,
				sp[i]->start, sp[i]->end);
			goto out;
		}
		for (const char *c = sp[i]->label; *c; c++)
			if (is_space(*c)) {
				err_set(e, MOAT_EUNSUPPORTED, "item %zu: label '%s' holds whitespace: "
					"CoNLL cannot carry it", idx + 1, sp[i]->label);
				goto out;
			}
		if (!*sp[i]->label) {
			err_set(e, MOAT_EUNSUPPORTED, "item %zu: a span has an empty label", idx + 1);
			goto out;
		}
	}
	if (n)
		qsort(sp, n, sizeof(*sp), cmp_span);
	for (size_t i = 1; i < n; i++)
		if (sp[i]->start < sp[i - 1]->end) {
			err_set(e, MOAT_EUNSUPPORTED, "item %zu: spans '%s' [%zu, %zu) and '%s' [%zu, "
				"%zu) overlap: CoNLL cannot carry overlapping spans", idx + 1,
				sp[i - 1]->label, sp[i - 1]->start, sp[i - 1]->end, sp[i]->label,
				sp[i]->start, sp[i]->end);
			goto out;
		}
	/* walk the code points: a token piece ends at whitespace, at the end,
	 * or where a span starts or ends */
	for (size_t c = 0; c < n_cps;) {
		size_t end;
		if (is_space(t[cps[c]])) {
			c++;
			continue;
		}
		while (k < n && sp[k]->end <= c)
			k++;
		for (end = c + 1; end < n_cps && !is_space(t[cps[end]]); end++)
			if (k < n && (end == sp[k]->start || end == sp[k]->end))
				break;
		buf_add(b, t + cps[c], cps[end] - cps[c]);
		if (k < n && sp[k]->start <= c)
			buf_addf(b, " _ _ %s-%s\n", hit[k]++ ? "I" : "B", sp[k]->label);
		else
			buf_adds(b, " _ _ O\n");
		written++;
		c = end;
	}
	for (size_t i = 0; i < n; i++)
		if (!hit[i]) {
			err_set(e, MOAT_EUNSUPPORTED, "item %zu: span '%s' [%zu, %zu) holds no token "
				"(only whitespace)", idx + 1, sp[i]->label, sp[i]->start, sp[i]->end);
			goto out;
		}
	if (written)
		buf_addch(b, '\n');
	rc = 0;
out:
	free(cps);
	free(sp);
	free(hit);
	return rc;
}

int annot_export_conll(const struct annot_set *s, struct annot_out *o,
		       const struct annot_export_opts *opts)
{
	return annot_export_text(s, o, opts, "conll", conll_item, NULL);
}
