/*
 * where.c - the `--where` filter (where.h): a recursive-descent parser into
 * a small tree, evaluated per item.
 */
#include "where.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/banned.h"

enum node_type { N_AND, N_OR, N_NOT, N_CMP };
enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_GLOB };

struct where {
	enum node_type type;
	struct where *a, *b;
	enum op op;
	char field[16];
	char *lit;
	int lit_num;       /* the literal was a number */
	double num;
};

static const char *const FIELDS[] = { "type", "path", "doc", "lang", "chars", "page", "element",
				      "tokens", "width", "height" };

struct parser {
	const char *s, *p;
	struct moat_err *e;
	int failed;
	int depth;
};

void where_free(struct where *w)
{
	if (!w)
		return;
	where_free(w->a);
	where_free(w->b);
	free(w->lit);
	free(w);
}

static void skip(struct parser *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

static struct where *fail(struct parser *ps, const char *what)
{
	if (!ps->failed) {
		char got[24];
		size_t n = strcspn(ps->p, " \t\n");
		if (!*ps->p)
			memcpy(got, "the end", 8);
		else {
			if (n > sizeof(got) - 1)
				n = sizeof(got) - 1;
			memcpy(got, ps->p, n);
			got[n] = '\0';
		}
		err_set(ps->e, MOAT_EUSAGE, "--where: at %zu: expected %s, got '%s'",
			(size_t)(ps->p - ps->s) + 1, what, got);
	}
	ps->failed = 1;
	return NULL;
}

static int keyword(struct parser *ps, const char *kw)
{
	size_t n = strlen(kw);
	skip(ps);
	if (!strncasecmp(ps->p, kw, n) && !isalnum((unsigned char)ps->p[n]) && ps->p[n] != '_') {
		ps->p += n;
		return 1;
	}
	return 0;
}

static struct where *node(enum node_type t, struct where *a, struct where *b)
{
	struct where *w = calloc(1, sizeof(*w));
	if (!w) {
		where_free(a);
		where_free(b);
		return NULL;
	}
	w->type = t;
	w->a = a;
	w->b = b;
	return w;
}

static struct where *p_or(struct parser *ps);

static struct where *p_cmp(struct parser *ps)
{
	struct where *w;
	const char *start;
	size_t n, k;
	skip(ps);
	start = ps->p;
	while (isalpha((unsigned char)*ps->p) || *ps->p == '_')
		ps->p++;
	n = (size_t)(ps->p - start);
	for (k = 0; k < sizeof(FIELDS) / sizeof(FIELDS[0]); k++)
		if (strlen(FIELDS[k]) == n && !strncmp(start, FIELDS[k], n))
			break;
	if (!n || k == sizeof(FIELDS) / sizeof(FIELDS[0])) {
		ps->p = start;
		return fail(ps, "a field (type, path, doc, lang, chars, page, element, tokens, width, "
			    "height)");
	}
	if (!(w = node(N_CMP, NULL, NULL)))
		return fail(ps, "memory");
	memcpy(w->field, start, n);
	skip(ps);
	if (!strncmp(ps->p, "!=", 2)) { w->op = OP_NE; ps->p += 2; }
	else if (!strncmp(ps->p, "<=", 2)) { w->op = OP_LE; ps->p += 2; }
	else if (!strncmp(ps->p, ">=", 2)) { w->op = OP_GE; ps->p += 2; }
	else if (*ps->p == '=') { w->op = OP_EQ; ps->p += 1 + (ps->p[1] == '='); }
	else if (*ps->p == '<') { w->op = OP_LT; ps->p++; }
	else if (*ps->p == '>') { w->op = OP_GT; ps->p++; }
	else if (*ps->p == '~') { w->op = OP_GLOB; ps->p++; }
	else {
		where_free(w);
		return fail(ps, "an operator (= != < <= > >= ~)");
	}
	skip(ps);
	if (*ps->p == '\'' || *ps->p == '"') {
		char q = *ps->p++;
		const char *end = strchr(ps->p, q);
		if (!end) {
			where_free(w);
			return fail(ps, "a closing quote");
		}
		w->lit = strndup(ps->p, (size_t)(end - ps->p));
		ps->p = end + 1;
	} else {
		char *end;
		w->num = strtod(ps->p, &end);
		if (end == ps->p) {
			where_free(w);
			return fail(ps, "a quoted text or a number");
		}
		w->lit = strndup(ps->p, (size_t)(end - ps->p));
		w->lit_num = 1;
		ps->p = end;
	}
	if (!w->lit) {
		where_free(w);
		return fail(ps, "memory");
	}
	if (!w->lit_num) {  /* a quoted number still compares as a number */
		char *end;
		w->num = strtod(w->lit, &end);
		w->lit_num = *w->lit && !*end && w->op != OP_GLOB;
	}
	return w;
}

static struct where *p_not(struct parser *ps)
{
	struct where *w;
	if (++ps->depth > 100)
		return fail(ps, "fewer nested parentheses");
	skip(ps);
	if (keyword(ps, "not")) {
		struct where *a = p_not(ps);
		w = a ? node(N_NOT, a, NULL) : NULL;
	} else if (*ps->p == '(') {
		ps->p++;
		w = p_or(ps);
		skip(ps);
		if (w && *ps->p != ')') {
			where_free(w);
			w = fail(ps, "')'");
		} else if (w) {
			ps->p++;
		}
	} else {
		w = p_cmp(ps);
	}
	ps->depth--;
	return w;
}

static struct where *p_and(struct parser *ps)
{
	struct where *w = p_not(ps);
	while (w && keyword(ps, "and")) {
		struct where *b = p_not(ps);
		w = b ? node(N_AND, w, b) : (where_free(w), NULL);
	}
	return w;
}

static struct where *p_or(struct parser *ps)
{
	struct where *w = p_and(ps);
	while (w && keyword(ps, "or")) {
		struct where *b = p_and(ps);
		w = b ? node(N_OR, w, b) : (where_free(w), NULL);
	}
	return w;
}

struct where *where_parse(const char *expr, struct moat_err *e)
{
	struct parser ps = { expr, expr, e, 0, 0 };
	struct where *w = p_or(&ps);
	if (w) {
		skip(&ps);
		if (*ps.p) {
			where_free(w);
			w = fail(&ps, "'and', 'or' or the end");
		}
	} else if (!ps.failed) {
		err_set(e, MOAT_ENOMEM, "out of memory");
	}
	return w;
}

int where_match(const struct where *w, where_get_fn get, void *ctx)
{
	const char *v;
	double d;
	char *end;
	int c;
	if (!w)
		return 1;
	switch (w->type) {
	case N_AND: return where_match(w->a, get, ctx) && where_match(w->b, get, ctx);
	case N_OR: return where_match(w->a, get, ctx) || where_match(w->b, get, ctx);
	case N_NOT: return !where_match(w->a, get, ctx);
	case N_CMP: break;
	}
	if (!(v = get(ctx, w->field)))
		return 0;
	if (w->op == OP_GLOB)
		return fnmatch(w->lit, v, 0) == 0;
	d = strtod(v, &end);
	if (w->lit_num && *v && !*end)
		c = d < w->num ? -1 : d > w->num;
	else
		c = strcmp(v, w->lit) < 0 ? -1 : strcmp(v, w->lit) > 0;
	switch (w->op) {
	case OP_EQ: return c == 0;
	case OP_NE: return c != 0;
	case OP_LT: return c < 0;
	case OP_LE: return c <= 0;
	case OP_GT: return c > 0;
	case OP_GE: return c >= 0;
	case OP_GLOB: break;
	}
	return 0;
}
