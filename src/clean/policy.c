/*
 * policy.c - reading PII and filter policies (see policy.h for the format).
 */
#define _GNU_SOURCE
#include "policy.h"
#include "../core/buf.h"
#include "../core/fs.h"
#include "../core/hash.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/banned.h"

void policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	p->threshold = -1;
	p->context_prefix = p->context_suffix = -1;
	p->def = pii_op_default();
}

void policy_release(struct policy *p)
{
	free(p->path);
	free(p->entities);
	free(p->countries);
	free(p->language);
	for (size_t i = 0; i < p->n_allow; i++)
		free(p->allow[i]);
	free(p->allow);
	for (size_t i = 0; i < p->n_terms; i++) {
		free((char *)p->terms[i].type);
		free((char *)p->terms[i].text);
	}
	free(p->terms);
	free(p->ops);
	if (p->salt)
		memset(p->salt, 0, p->salt_len);
	free(p->salt);
	free(p->key_file);
	free(p->llm_model);
	free(p->llm_entities);
	for (size_t i = 0; i < p->n_llm_allow; i++)
		free(p->llm_allow[i]);
	free(p->llm_allow);
	policy_init(p);
}

static char *trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Calls fn for each key = value line; section is the current [header]. */
typedef int (*ini_fn)(void *ctx, const char *section, char *key, char *value, int line,
		      struct moat_err *e);

static int ini_parse(const char *path, char sha[65], ini_fn fn, void *ctx, struct moat_err *e)
{
	struct buf b = BUF_INIT;
	char section[64] = "";
	char *p, *save;
	int line = 0, rc = 0;
	if (fs_read_file(path, &b, 16u << 20, e) < 0) {
		buf_release(&b);
		return -1;
	}
	if (sha)
		sha256_hex_mem(buf_str(&b), b.len, sha);
	p = b.data;
	while (p && *p && rc == 0) {
		char *nl = strchr(p, '\n'), *l, *eq;
		line++;
		if (nl)
			*nl = '\0';
		save = nl ? nl + 1 : NULL;
		l = p;
		/* a # starts a comment unless it is inside a value after "value=" */
		{
			char *h = strchr(l, '#');
			if (h && (h == l || isspace((unsigned char)h[-1])))
				*h = '\0';
		}
		l = trim(l);
		if (!*l) {
			p = save;
			continue;
		}
		if (*l == '[') {
			char *end = strchr(l, ']');
			if (!end || end[1]) {
				rc = err_set(e, MOAT_EPARSE, "%s:%d: bad section header", path, line);
				break;
			}
			*end = '\0';
			/* a longer name is cut: no section is that long, so it stays unknown */
			l = trim(l + 1);
			l[strnlen(l, sizeof(section) - 1)] = '\0';
			memcpy(section, l, strlen(l) + 1);
			for (char *c = section; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			p = save;
			continue;
		}
		eq = strchr(l, '=');
		if (!eq) {
			rc = err_set(e, MOAT_EPARSE, "%s:%d: expected 'key = value'", path, line);
			break;
		}
		*eq = '\0';
		rc = fn(ctx, section, trim(l), trim(eq + 1), line, e);
		p = save;
	}
	buf_release(&b);
	return rc;
}

static char *rel_path(const char *policy, const char *file)
{
	char *dir, *r;
	if (file[0] == '/')
		return strdup(file);
	dir = fs_dirname(policy);
	r = dir ? fs_join(dir, file) : NULL;
	free(dir);
	return r;
}

struct pctx {
	struct policy *p;
	const char *path;
};

static int add_allow(struct policy *p, const char *v)
{
	char **na = realloc(p->allow, (p->n_allow + 1) * sizeof(char *));
	if (!na)
		return -1;
	p->allow = na;
	p->allow[p->n_allow] = strdup(v);
	if (!p->allow[p->n_allow])
		return -1;
	p->n_allow++;
	return 0;
}

static int add_term(struct policy *p, const char *type, const char *text, float score)
{
	struct pii_term *nt = realloc(p->terms, (p->n_terms + 1) * sizeof(*nt));
	if (!nt)
		return -1;
	p->terms = nt;
	nt[p->n_terms].type = strdup(type);
	nt[p->n_terms].text = strdup(text);
	nt[p->n_terms].score = score;
	nt[p->n_terms].caseless = 1;
	if (!nt[p->n_terms].type || !nt[p->n_terms].text) {
		free((char *)nt[p->n_terms].type);
		free((char *)nt[p->n_terms].text);
		return -1;
	}
	p->n_terms++;
	return 0;
}

static int valid_type(const char *t)
{
	if (!*t || strlen(t) >= 64)
		return 0;
	for (const char *c = t; *c; c++)
		if (!(isupper((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_'))
			return 0;
	return 1;
}

/* Calls fn for each non-empty line of a list file. */
static int each_line(const char *path, int (*fn)(struct policy *, const char *, const char *),
		     struct policy *p, const char *arg, struct moat_err *e)
{
	struct buf b = BUF_INIT;
	char *s, *save;
	if (fs_read_file(path, &b, 64u << 20, e) < 0) {
		buf_release(&b);
		return -1;
	}
	s = b.data;
	while (s && *s) {
		char *nl = strchr(s, '\n'), *t;
		if (nl)
			*nl = '\0';
		save = nl ? nl + 1 : NULL;
		t = trim(s);
		if (*t && *t != '#' && fn(p, arg, t) < 0) {
			buf_release(&b);
			return err_set(e, MOAT_ENOMEM, "out of memory");
		}
		s = save;
	}
	buf_release(&b);
	return 0;
}

static int allow_line(struct policy *p, const char *unused, const char *v)
{
	(void)unused;
	return add_allow(p, v);
}

static int dict_line(struct policy *p, const char *type, const char *v)
{
	return add_term(p, type, v, 0.85f);
}

static int split_list(struct policy *p, const char *type, char *v, float score, int allow)
{
	char *save = NULL, *tok;
	for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *t = trim(tok);
		if (!*t)
			continue;
		if (allow ? add_allow(p, t) : add_term(p, type, t, score))
			return -1;
	}
	return 0;
}

/* Replaces *dst with a copy of v. */
static int set_str(char **dst, const char *v, struct moat_err *e)
{
	char *d = strdup(v);
	if (!d)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	free(*dst);
	*dst = d;
	return 0;
}

static int pii_kv(void *ctx, const char *section, char *key, char *value, int line,
		  struct moat_err *e)
{
	struct pctx *c = ctx;
	struct policy *p = c->p;
	if (!strcmp(section, "pii") || !section[0]) {
		if (!strcmp(key, "entities")) {
			free(p->entities);
			if (!(p->entities = strdup(value)))
				return err_set(e, MOAT_ENOMEM, "out of memory");
		} else if (!strcmp(key, "country") || !strcmp(key, "countries")) {
			char *dup = strdup(value), *save = NULL;
			if (!dup)
				return err_set(e, MOAT_ENOMEM, "out of memory");
			for (char *t = strtok_r(dup, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
				if (strcasecmp(t, "ALL") && !pii_country_known(t)) {
					err_set(e, MOAT_EPARSE, "%s:%d: unknown country '%s'", c->path, line, t);
					free(dup);
					return -1;
				}
			free(dup);
			return set_str(&p->countries, value, e);
		} else if (!strcmp(key, "language")) {
			return set_str(&p->language, value, e);
		} else if (!strcmp(key, "threshold")) {
			char *end;
			double v = strtod(value, &end);
			if (*end || v < 0 || v > 1)
				return err_set(e, MOAT_EPARSE, "%s:%d: threshold must be from 0 to 1",
					       c->path, line);
			p->threshold = (float)v;
		} else if (!strcmp(key, "context_prefix") || !strcmp(key, "context_suffix")) {
			char *end;
			long v = strtol(value, &end, 10);
			if (*end || v < 0 || v > 15)
				return err_set(e, MOAT_EPARSE, "%s:%d: %s must be from 0 to 15", c->path,
					       line, key);
			if (key[8] == 'p')
				p->context_prefix = (int)v;
			else
				p->context_suffix = (int)v;
		} else if (!strcmp(key, "allow")) {
			if (split_list(p, NULL, value, 0, 1) < 0)
				return err_set(e, MOAT_ENOMEM, "out of memory");
		} else if (!strcmp(key, "allow_file")) {
			char *f = rel_path(c->path, value);
			int rc = f ? each_line(f, allow_line, p, NULL, e)
				   : err_set(e, MOAT_ENOMEM, "out of memory");
			free(f);
			if (rc < 0)
				return -1;
		} else if (!strcmp(key, "salt")) {
			free(p->salt);
			p->salt_len = 0;
			/* no salt would fall back to the workspace's own: never quietly */
			if (!(p->salt = (unsigned char *)strdup(value)))
				return err_set(e, MOAT_ENOMEM, "out of memory");
			p->salt_len = strlen(value);
		} else if (!strcmp(key, "salt_file")) {
			char *f = rel_path(c->path, value);
			struct buf b = BUF_INIT;
			if (!f)
				return err_set(e, MOAT_ENOMEM, "out of memory");
			if (fs_read_file(f, &b, 4096, e) < 0) {
				free(f);
				buf_release(&b);
				return -1;
			}
			free(f);
			free(p->salt);
			p->salt_len = b.len;
			if (!(p->salt = (unsigned char *)buf_detach(&b, NULL))) {
				p->salt_len = 0;
				return err_set(e, MOAT_ENOMEM, "out of memory");
			}
		} else if (!strcmp(key, "key_file")) {
			free(p->key_file);
			if (!(p->key_file = rel_path(c->path, value)))
				return err_set(e, MOAT_ENOMEM, "out of memory");
		} else if (!strcmp(key, "llm_model")) {
			free(p->llm_model);
			if (!(p->llm_model = strdup(value)))
				return err_set(e, MOAT_ENOMEM, "out of memory");
		} else if (!strcmp(key, "llm_entities")) {
			free(p->llm_entities);
			if (!(p->llm_entities = strdup(value)))
				return err_set(e, MOAT_ENOMEM, "out of memory");
		} else if (!strcmp(key, "llm_allow_host")) {
			char **na = realloc(p->llm_allow, (p->n_llm_allow + 1) * sizeof(char *));
			if (!na)
				return err_set(e, MOAT_ENOMEM, "out of memory");
			p->llm_allow = na;
			na[p->n_llm_allow] = strdup(value);
			if (!na[p->n_llm_allow])
				return err_set(e, MOAT_ENOMEM, "out of memory");
			p->n_llm_allow++;
		} else {
			return err_set(e, MOAT_EPARSE, "%s:%d: unknown key '%s' in [pii]", c->path, line,
				       key);
		}
		return 0;
	}
	if (!strcmp(section, "deny") || !strcmp(section, "dictionary") ||
	    !strcmp(section, "operators")) {
		if (!valid_type(key) && strcmp(key, "DEFAULT"))
			return err_set(e, MOAT_EPARSE, "%s:%d: '%s' is not an entity type (UPPER_CASE)",
				       c->path, line, key);
	}
	if (!strcmp(section, "deny")) {
		if (split_list(p, key, value, 0, 0) < 0)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		return 0;
	}
	if (!strcmp(section, "dictionary")) {
		char *f = rel_path(c->path, value);
		int rc = f ? each_line(f, dict_line, p, key, e) : err_set(e, MOAT_ENOMEM, "out of memory");
		free(f);
		return rc;
	}
	if (!strcmp(section, "operators")) {
		struct pii_op_spec spec;
		if (pii_op_parse(value, &spec, e) < 0) {
			err_prefix(e, "%s:%d", c->path, line);
			return -1;
		}
		if (!strcmp(key, "DEFAULT")) {
			p->def = spec;
		} else {
			struct policy_op *no = realloc(p->ops, (p->n_ops + 1) * sizeof(*no));
			if (!no)
				return err_set(e, MOAT_ENOMEM, "out of memory");
			p->ops = no;
			/* valid_type() said it is shorter than the field */
			memcpy(no[p->n_ops].type, key, strlen(key) + 1);
			no[p->n_ops].spec = spec;
			p->n_ops++;
		}
		return 0;
	}
	return err_set(e, MOAT_EPARSE, "%s:%d: unknown section [%s]", c->path, line, section);
}

int policy_load(struct policy *p, const char *path, struct moat_err *e)
{
	struct pctx c = { p, path };
	free(p->path);
	p->path = strdup(path);
	if (!p->path)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return ini_parse(path, p->sha256, pii_kv, &c, e);
}

void policy_scan_options(const struct policy *p, struct pii_options *o)
{
	if (p->entities)
		o->entities = p->entities;
	if (p->countries)
		o->countries = p->countries;
	if (p->language)
		o->language = p->language;
	if (p->threshold >= 0)
		o->threshold = p->threshold;
	if (p->context_prefix >= 0)
		o->context_prefix = p->context_prefix;
	if (p->context_suffix >= 0)
		o->context_suffix = p->context_suffix;
	o->allow = (const char *const *)p->allow;
	o->n_allow = p->n_allow;
	o->terms = p->terms;
	o->n_terms = p->n_terms;
}

const struct pii_op_spec *policy_op_for(const struct policy *p, const char *type)
{
	for (size_t i = 0; i < p->n_ops; i++)
		if (!strcmp(p->ops[i].type, type))
			return &p->ops[i].spec;
	return &p->def;
}

/* --- filters ------------------------------------------------------------------- */

static void rules_default(struct filter_rules *r)
{
	memset(r, 0, sizeof(*r));
	r->min_chars = r->max_chars = r->min_words = -1;
	r->max_symbol_ratio = r->max_digit_ratio = r->max_repeated_line_ratio = -1;
	r->min_language_score = -1;
}

void filter_policy_default(struct filter_policy *f)
{
	memset(f, 0, sizeof(*f));
	rules_default(&f->doc);
	rules_default(&f->el);
}

static int filter_kv(void *ctx, const char *section, char *key, char *value, int line,
		     struct moat_err *e)
{
	struct filter_policy *f = ctx;
	struct filter_rules *r;
	char *end;
	if (!strcmp(section, "document") || !strcmp(section, "filters") || !section[0])
		r = &f->doc;
	else if (!strcmp(section, "element") || !strcmp(section, "elements"))
		r = &f->el;
	else
		return err_set(e, MOAT_EPARSE, "line %d: unknown section [%s] (document, element)",
			       line, section);
	r->set = 1;
	if (!strcmp(key, "min_chars") || !strcmp(key, "max_chars") || !strcmp(key, "min_words")) {
		long v = strtol(value, &end, 10);
		if (*end || v < 0)
			return err_set(e, MOAT_EPARSE, "line %d: %s needs a whole number", line, key);
		if (key[1] == 'i' && key[4] == 'c')
			r->min_chars = v;
		else if (key[1] == 'a')
			r->max_chars = v;
		else
			r->min_words = v;
	} else if (!strcmp(key, "max_symbol_ratio") || !strcmp(key, "max_digit_ratio") ||
		   !strcmp(key, "max_repeated_line_ratio") || !strcmp(key, "min_language_score")) {
		double v = strtod(value, &end);
		if (*end || v < 0 || v > 1)
			return err_set(e, MOAT_EPARSE, "line %d: %s needs a ratio from 0 to 1", line, key);
		if (!strcmp(key, "max_symbol_ratio"))
			r->max_symbol_ratio = v;
		else if (!strcmp(key, "max_digit_ratio"))
			r->max_digit_ratio = v;
		else if (!strcmp(key, "max_repeated_line_ratio"))
			r->max_repeated_line_ratio = v;
		else
			r->min_language_score = v;
	} else if (!strcmp(key, "languages") || !strcmp(key, "drop_types")) {
		char *list = key[0] == 'l' ? r->languages : r->drop_types;
		size_t k = 0, cap = key[0] == 'l' ? sizeof(r->languages) : sizeof(r->drop_types);
		if (list == r->drop_types && r != &f->el)
			return err_set(e, MOAT_EPARSE, "line %d: drop_types is an [element] rule", line);
		for (const char *c = value; *c; c++) {
			if (*c == ' ' || *c == '\t')
				continue;
			if (k + 1 >= cap)
				return err_set(e, MOAT_EPARSE, "line %d: %s is longer than %zu bytes", line,
					       key, cap - 1);
			list[k++] = (char)tolower((unsigned char)*c);
		}
		list[k] = '\0';
	} else {
		return err_set(e, MOAT_EPARSE, "line %d: unknown filter '%s'", line, key);
	}
	return 0;
}

int filter_policy_load(struct filter_policy *f, const char *path, struct moat_err *e)
{
	filter_policy_default(f);
	if (ini_parse(path, f->sha256, filter_kv, f, e) < 0) {
		int line, off = 0;
		/* "line N: why" from filter_kv becomes "FILE:N: why", as for --pii */
		if (e && sscanf(e->msg, "line %d: %n", &line, &off) == 1 && off > 0) {
			char why[sizeof(e->msg)];
			memcpy(why, e->msg + off, strlen(e->msg + off) + 1);
			err_set(e, e->code, "%s:%d: %s", path, line, why);
		} else if (e && !strstr(e->msg, path)) {
			err_prefix(e, "%s", path);
		}
		return -1;
	}
	return 0;
}
