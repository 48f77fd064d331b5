/*
 * pii_llm.c - entity extraction through the model layer with a JSON-schema
 * constrained answer (see pii_llm.h).  Greedy sampling with a fixed seed, so
 * a run is reproducible with the same model.
 */
#define _GNU_SOURCE
#include "pii_llm.h"
#include "../core/buf.h"
#include "../core/hash.h"
#include "../llm/llm.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

static const char SYSTEM[] =
	"You find personal data in text for de-identification. Answer with the entities that "
	"appear verbatim in the text, copied exactly as written.";
static const char TEMPLATE[] =
	"List every %s in the text between <<< and >>>. Copy each one exactly as it is written. "
	"If there is none, answer with an empty list.\n<<<\n%s\n>>>";

struct pii_llm {
	struct llm *m;
	char *entities;
	json_t *schema;
	char template_sha[SHA256_HEX];
	long calls;
	json_t *info;
};

struct pii_llm *pii_llm_open(const char *uri, const char *entities, const char *const *allow,
			     size_t n_allow, struct moat_err *e)
{
	struct llm_config cfg = llm_config_default();
	struct pii_llm *p = calloc(1, sizeof(*p));
	json_t *types;
	const char *q;
	int bad;
	if (!p) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	p->entities = strdup(entities && *entities ? entities : "PERSON,LOCATION,ORGANIZATION");
	types = json_array();
	bad = !types;
	for (q = p->entities; !bad && q && *q;) {
		size_t l = strcspn(q, ", ");
		if (l && json_array_append_new(types, json_stringn(q, l)))
			bad = 1;
		q += l;
		while (*q == ',' || *q == ' ')
			q++;
	}
	if (bad)
		json_decref(types);
	/* "o" hands types over, also when the pack fails */
	p->schema = bad ? NULL : json_pack("{s:s, s:{s:{s:s, s:{s:s, s:{s:{s:s, s:o}, s:{s:s}}, s:[s,s]}}}, s:[s]}",
			      "type", "object", "properties", "entities", "type", "array", "items",
			      "type", "object", "properties", "type", "type", "string", "enum", types,
			      "text", "type", "string", "required", "type", "text", "required",
			      "entities");
	cfg.allow_hosts = allow;
	cfg.n_allow_hosts = n_allow;
	cfg.parallel = 1;
	/* one chunk's answer: 512 tokens at most, but the first request may load
	 * the model; a server stuck streaming is given up on after ten minutes */
	cfg.deadline_ms = 600000;
	sha256_hex_mem(TEMPLATE, strlen(TEMPLATE), p->template_sha);
	if (!p->entities || !p->schema) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		pii_llm_free(p);
		return NULL;
	}
	p->m = llm_open(uri, &cfg, e);
	if (!p->m) {
		err_prefix(e, "cannot open the PII model '%s'", uri);
		pii_llm_free(p);
		return NULL;
	}
	p->info = llm_info(p->m);
	if (!p->info) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		pii_llm_free(p);
		return NULL;
	}
	return p;
}

void pii_llm_free(struct pii_llm *p)
{
	if (!p)
		return;
	llm_free(p->m);
	json_decref(p->schema);
	json_decref(p->info);
	free(p->entities);
	free(p);
}

json_t *pii_llm_info(const struct pii_llm *p)
{
	json_t *o = json_deep_copy(p->info);
	if (!o || json_object_set_new(o, "prompt_template_sha256", json_string(p->template_sha)) ||
	    json_object_set_new(o, "entities", json_string(p->entities)) ||
	    json_object_set_new(o, "calls", json_integer(p->calls))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int word_char(unsigned char c)
{
	return isalnum(c) || c >= 0x80;
}

int pii_llm_find(struct pii_llm *p, const struct pii_scanner *s, const char *text, size_t len,
		 struct pii_finding **out, size_t *n, struct moat_err *e)
{
	struct llm_request r;
	struct llm_result res;
	struct buf prompt = BUF_INIT, what = BUF_INIT;
	json_t *ents, *ent;
	size_t i, cap = 0;
	*out = NULL;
	*n = 0;
	if (!len)
		return 0;
	/* "PERSON,LOCATION" asked for as "person/location" */
	for (const char *c = p->entities; *c; c++)
		buf_addch(&what, *c == ',' ? '/' : *c == '_' ? ' ' : tolower((unsigned char)*c));
	buf_addf(&prompt, TEMPLATE, buf_str(&what), text);
	if (buf_failed(&what) || buf_failed(&prompt)) {
		buf_release(&what);
		buf_release(&prompt);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	buf_release(&what);
	memset(&r, 0, sizeof(r));
	memset(&res, 0, sizeof(res));
	r.system = SYSTEM;
	r.prompt = buf_str(&prompt);
	r.opt = llm_options_default();
	r.opt.temperature = 0;
	r.opt.seed = 1;
	r.opt.max_tokens = 512;
	r.constraint = LLM_SCHEMA;
	r.schema = p->schema;
	r.template_text = TEMPLATE;
	p->calls++;
	if (llm_generate(p->m, &r, &res, e) < 0) {
		/* an answer cut short by max_tokens: use what parsed, if any (not
		 * the other limits: a deadline or 64 MiB found nothing) */
		if (!e || e->code != MOAT_ELIMIT || strcmp(res.finish, "length")) {
			llm_result_release(&res);
			buf_release(&prompt);
			return -1;
		}
	}
	buf_release(&prompt);
	ents = res.value ? json_object_get(res.value, "entities") : NULL;
	json_array_foreach(ents, i, ent) {
		const char *type = json_string_value(json_object_get(ent, "type"));
		const char *t = json_string_value(json_object_get(ent, "text"));
		int ty = type ? pii_type_find(s, type) : -1;
		size_t tl = t ? strlen(t) : 0;
		const char *hit = text;
		if (ty < 0 || tl < 2 || tl > 200)
			continue;
		while ((hit = memmem(hit, len - (size_t)(hit - text), t, tl))) {
			size_t a = (size_t)(hit - text), b = a + tl;
			if ((a == 0 || !word_char((unsigned char)text[a - 1])) &&
			    (b == len || !word_char((unsigned char)text[b]))) {
				if (*n == cap) {
					size_t nc = cap ? cap * 2 : 8;
					struct pii_finding *nf = realloc(*out, nc * sizeof(*nf));
					if (!nf) {
						llm_result_release(&res);
						return err_set(e, MOAT_ENOMEM, "out of memory");
					}
					*out = nf;
					cap = nc;
				}
				memset(&(*out)[*n], 0, sizeof(**out));
				(*out)[*n].type = ty;
				(*out)[*n].start = a;
				(*out)[*n].end = b;
				(*out)[*n].score = 0.85f;
				(*out)[*n].recognizer = "local model";
				(*n)++;
			}
			hit += tl;
			if ((size_t)(hit - text) >= len)
				break;
		}
	}
	llm_result_release(&res);
	if (e)
		err_clear(e);
	return 0;
}
