/*
 * golden.c - known-good outputs in a bundle (golden.h): the prompts file,
 * recording answers, the golden.json format, comparing answers token by
 * token and naming the likely cause of a difference, and `models diff`.
 *
 * Not for running a model (the caller's golden_runner does) nor for writing
 * the file into a bundle (bundle.c writes what golden_record returns).
 */
#define _GNU_SOURCE
#include "golden.h"
#include "models_int.h"
#include "../core/jsonu.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fmt.h"
#include "core/fs.h"

#include "core/banned.h"

struct golden_options golden_default_options(void)
{
	return (struct golden_options){ .seed = 42, .n_ctx = 2048, .max_tokens = 32 };
}

static void *nomem(struct moat_err *e)
{
	err_set(e, MOAT_ENOMEM, "out of memory");
	return NULL;
}

static const char *str_or(json_t *o, const char *k, const char *d)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : d;
}

/* The hex SHA-256 of what a prompt asks (system, prompt, max_tokens), as
 * recorded with its answer: a prompt edited later no longer matches. */
static void prompt_hash(json_t *p, char hex[SHA256_HEX])
{
	struct buf b = BUF_INIT;
	buf_adds(&b, str_or(p, "system", ""));
	buf_addch(&b, '\0');
	buf_adds(&b, str_or(p, "prompt", ""));
	buf_addch(&b, '\0');
	buf_addf(&b, "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(p, "max_tokens")));
	sha256_hex_mem(b.data ? b.data : "", b.len, hex);
	buf_release(&b);
}

/* ---- the prompts file ---- */

/* Checks one prompt object and fills in its defaults; -1 with why set. */
static int prompt_fill(json_t *p, size_t line, const struct golden_options *o, const char **why)
{
	json_t *mt = json_object_get(p, "max_tokens");
	const char *key;
	json_t *v;
	if (!json_is_object(p))
		return *why = "not a JSON object", -1;
	if (!json_is_string(json_object_get(p, "prompt")))
		return *why = "no \"prompt\" string", -1;
	if (json_object_get(p, "system") && !json_is_string(json_object_get(p, "system")))
		return *why = "\"system\" is not a string", -1;
	if (json_object_get(p, "id") && !json_is_string(json_object_get(p, "id")))
		return *why = "\"id\" is not a string", -1;
	if (mt && (!json_is_integer(mt) || json_integer_value(mt) < 1 ||
		   json_integer_value(mt) > 4096))
		return *why = "\"max_tokens\" is not a number from 1 to 4096", -1;
	json_object_foreach(p, key, v) {
		if (strcmp(key, "prompt") && strcmp(key, "system") && strcmp(key, "id") &&
		    strcmp(key, "max_tokens"))
			return *why = "unknown key (prompt, system, id, max_tokens)", -1;
	}
	if (!json_object_get(p, "id")) {
		char id[32];
		if (xsnprintf(id, sizeof(id), "p%zu", line) < 0 ||
		    json_object_set_new(p, "id", json_string(id)) < 0)
			return *why = NULL, -1;
	}
	if (!mt && json_object_set_new(p, "max_tokens", json_integer(o->max_tokens)) < 0)
		return *why = NULL, -1;
	return 0;
}

json_t *golden_prompts_parse(const char *text, size_t len, const char *name,
			     const struct golden_options *o, struct moat_err *e)
{
	json_t *arr = json_array();
	const char *p = text, *end = text + len;
	size_t line = 0;
	if (!arr)
		return nomem(e);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *s = p;
		const char *why = NULL;
		json_error_t je;
		json_t *obj;
		line++;
		p = nl ? nl + 1 : end;
		while (s < le && isspace((unsigned char)*s))
			s++;
		if (s == le || *s == '#')
			continue;
		obj = json_loadb(s, (size_t)(le - s), JSON_REJECT_DUPLICATES, &je);
		if (!obj) {
			json_decref(arr);
			if (models_json_oom(&je))
				return nomem(e);
			err_set(e, MOAT_EPARSE, "'%s' line %zu: not JSON (%s)", name, line, je.text);
			return NULL;
		}
		if (prompt_fill(obj, line, o, &why) < 0 || json_array_append_new(arr, obj) < 0) {
			if (why)
				err_set(e, MOAT_EPARSE, "'%s' line %zu: %s", name, line, why);
			else
				err_set(e, MOAT_ENOMEM, "out of memory");
			if (why)
				json_decref(obj);
			json_decref(arr);
			return NULL;
		}
		if (json_array_size(arr) > GOLDEN_MAX_PROMPTS) {
			json_decref(arr);
			err_set(e, MOAT_ELIMIT, "'%s': more than %d prompts", name, GOLDEN_MAX_PROMPTS);
			return NULL;
		}
	}
	for (size_t i = 0; i < json_array_size(arr); i++)
		for (size_t k = 0; k < i; k++)
			if (!strcmp(json_string_value(json_object_get(json_array_get(arr, i), "id")),
				    json_string_value(json_object_get(json_array_get(arr, k), "id")))) {
				err_set(e, MOAT_EPARSE, "'%s': the id '%s' is used twice", name,
					json_string_value(json_object_get(json_array_get(arr, i),
									  "id")));
				json_decref(arr);
				return NULL;
			}
	if (!json_array_size(arr)) {
		json_decref(arr);
		err_set(e, MOAT_EPARSE, "'%s': no prompt in it", name);
		return NULL;
	}
	return arr;
}

json_t *golden_prompts_load(const char *path, const struct golden_options *o, struct moat_err *e)
{
	struct buf b = BUF_INIT;
	json_t *arr;
	if (fs_read_file(path, &b, GOLDEN_MAX_BYTES, e) < 0) {
		buf_release(&b);
		return NULL;
	}
	arr = golden_prompts_parse(b.data ? b.data : "", b.len, path, o, e);
	buf_release(&b);
	return arr;
}

char *golden_uri(const char *tmpl, const char *name)
{
	struct buf b = BUF_INIT;
	if (!tmpl) {
		buf_addf(&b, "store:%s", name);
		return buf_detach(&b, NULL);
	}
	for (const char *p = tmpl; *p;) {
		if (!strncmp(p, "{model}", 7)) {
			buf_adds(&b, name);
			p += 7;
		} else {
			buf_addch(&b, *p++);
		}
	}
	return buf_detach(&b, NULL);
}

/* ---- comparing ---- */

static const char *tok(json_t *a, size_t i)
{
	const char *s = json_string_value(json_array_get(a, i));
	return s ? s : "";
}

long golden_first_diff(json_t *a, json_t *b)
{
	size_t na = json_array_size(a), nb = json_array_size(b);
	for (size_t i = 0; i < na || i < nb; i++)
		if (i >= na || i >= nb || strcmp(tok(a, i), tok(b, i)))
			return (long)i;
	return -1;
}

double golden_similarity(json_t *a, json_t *b)
{
	size_t na = json_array_size(a), nb = json_array_size(b);
	size_t *row;
	double sim;
	if (!na && !nb)
		return 1.0;
	if (!na || !nb)
		return 0.0;
	row = malloc((nb + 1) * sizeof(*row));
	if (!row)
		return golden_first_diff(a, b) < 0 ? 1.0 : 0.0;
	for (size_t k = 0; k <= nb; k++)
		row[k] = k;
	for (size_t i = 1; i <= na; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t k = 1; k <= nb; k++) {
			size_t up = row[k];
			size_t best = diag + (strcmp(tok(a, i - 1), tok(b, k - 1)) != 0);
			if (up + 1 < best)
				best = up + 1;
			if (row[k - 1] + 1 < best)
				best = row[k - 1] + 1;
			row[k] = best;
			diag = up;
		}
	}
	sim = 1.0 - (double)row[nb] / (double)(na > nb ? na : nb);
	free(row);
	return sim;
}

/* The comparison of one answer with another: {"id","status","similarity",
 * "first_diff"?}; status "exact" or (by tolerance) "within" / "differs". */
static json_t *compare_one(const char *id, json_t *want, json_t *got, double tolerance, int *bad)
{
	json_t *wt = json_object_get(want, "tokens"), *gt = json_object_get(got, "tokens");
	long at = golden_first_diff(wt, gt);
	int same_text = !strcmp(json_string_value(json_object_get(want, "text")) ?
				json_string_value(json_object_get(want, "text")) : "",
				json_string_value(json_object_get(got, "text")) ?
				json_string_value(json_object_get(got, "text")) : "");
	double sim = at < 0 && same_text ? 1.0 : golden_similarity(wt, gt);
	json_t *o = json_object();
	if (!o) {
		*bad = 1;
		return NULL;
	}
	if (at < 0 && !same_text)
		at = (long)json_array_size(wt);  /* same pieces, other text: cut elsewhere */
	models_jset(o, "id", jsonu_string(id), bad);
	models_jset(o, "status", json_string(at < 0 ? "exact" : sim >= tolerance ? "within"
									  : "differs"), bad);
	models_jset(o, "similarity", json_real(sim), bad);
	if (at >= 0) {
		json_t *w = json_array_get(wt, (size_t)at), *g = json_array_get(gt, (size_t)at);
		models_jset(o, "first_diff", json_pack("{s:I, s:O, s:O}", "index", (json_int_t)at,
						       "expected", w ? w : json_null(), "found",
						       g ? g : json_null()), bad);
	}
	return o;
}

/* ---- the golden document ---- */

/* {"kind","version"} of a runtime's info, or null. */
static json_t *runtime_of(json_t *info)
{
	json_t *rt = json_object(), *srv = json_object_get(info, "server");
	int bad = !rt;
	models_jset(rt, "backend", json_incref(json_object_get(info, "backend") ?
					       json_object_get(info, "backend") : json_null()), &bad);
	models_jset(rt, "name", json_incref(json_object_get(srv, "kind") ?
					    json_object_get(srv, "kind") : json_null()), &bad);
	models_jset(rt, "version", json_incref(json_object_get(srv, "version") ?
					       json_object_get(srv, "version") : json_null()), &bad);
	models_jset(rt, "model_digest", json_incref(json_object_get(info, "digest") ?
						    json_object_get(info, "digest") : json_null()),
		    &bad);
	models_jset(rt, "template_sha256", json_incref(json_object_get(info, "template_sha256") ?
						       json_object_get(info, "template_sha256")
						       : json_null()), &bad);
	if (bad) {
		json_decref(rt);
		return NULL;
	}
	return rt;
}

/* Runs every prompt through one opened model: an array of answers, or NULL
 * with e set. */
static json_t *run_prompts(const struct golden_runner *r, void *m, json_t *prompts,
			   const struct golden_options *o, struct moat_err *e)
{
	json_t *outs = json_array();
	if (!outs)
		return nomem(e);
	for (size_t i = 0; i < json_array_size(prompts); i++) {
		json_t *p = json_array_get(prompts, i);
		json_t *a = r->generate(m, p, o, e);
		char hex[SHA256_HEX];
		prompt_hash(p, hex);
		if (!a || json_object_set(a, "id", json_object_get(p, "id")) < 0 ||
		    json_object_set_new(a, "prompt_sha256", json_string(hex)) < 0 ||
		    json_array_append_new(outs, a) < 0) {
			if (a && e->code == MOAT_EOK)
				err_set(e, MOAT_ENOMEM, "out of memory");
			json_decref(outs);
			return NULL;
		}
	}
	return outs;
}

json_t *golden_record(json_t *prompts, const struct golden_options *o, const char *const *names,
		      const char *const *uris, size_t n, const struct golden_runner *r,
		      struct moat_err *e)
{
	char created[32];
	json_t *models = json_array(), *doc;
	int bad = !models;
	models_iso_now(created);
	for (size_t i = 0; i < n && !bad; i++) {
		json_t *info = NULL, *outs, *rt;
		void *m = r->open(r->ud, uris[i], o->n_ctx, &info, e);
		if (!m) {
			json_decref(models);
			return NULL;
		}
		outs = run_prompts(r, m, prompts, o, e);
		r->close(m);
		rt = outs ? runtime_of(info) : NULL;
		json_decref(info);
		if (!outs || !rt) {
			json_decref(outs);
			json_decref(models);
			return outs ? nomem(e) : NULL;
		}
		models_jadd(models, json_pack("{s:s, s:s, s:o, s:o}", "name", names[i], "uri",
					      uris[i], "runtime", rt, "outputs", outs), &bad);
	}
	if (bad) {
		json_decref(models);
		return nomem(e);
	}
	doc = json_pack("{s:s, s:i, s:s, s:{s:I, s:i, s:i, s:f, s:i, s:f}, s:O, s:o}", "format",
			GOLDEN_FORMAT, "format_version", GOLDEN_FORMAT_VERSION, "created", created,
			"options", "seed", (json_int_t)o->seed, "n_ctx", o->n_ctx, "max_tokens",
			o->max_tokens, "temperature", 0.0, "top_k", 1, "top_p", 1.0, "prompts",
			prompts, "models", models);
	return doc ? doc : nomem(e);
}

/* Why a golden document is not one; NULL when it is. */
static const char *doc_problem(json_t *d)
{
	json_t *opt = json_object_get(d, "options"), *prompts = json_object_get(d, "prompts");
	json_t *models = json_object_get(d, "models");
	const char *f = json_string_value(json_object_get(d, "format"));
	if (!json_is_object(d) || !f || strcmp(f, GOLDEN_FORMAT))
		return "not a moat golden file (\"format\": \"moat-golden\")";
	if (json_integer_value(json_object_get(d, "format_version")) != GOLDEN_FORMAT_VERSION)
		return "an unknown format_version";
	if (!json_is_integer(json_object_get(opt, "seed")) ||
	    !json_is_integer(json_object_get(opt, "n_ctx")) ||
	    json_integer_value(json_object_get(opt, "n_ctx")) < 1 ||
	    json_integer_value(json_object_get(opt, "n_ctx")) > (1 << 20))
		return "\"options\" lacks a seed or a context size";
	if (!json_is_array(prompts) || !json_array_size(prompts) ||
	    json_array_size(prompts) > GOLDEN_MAX_PROMPTS)
		return "no \"prompts\" array";
	for (size_t i = 0; i < json_array_size(prompts); i++) {
		json_t *p = json_array_get(prompts, i), *mt = json_object_get(p, "max_tokens");
		if (!json_is_string(json_object_get(p, "id")) ||
		    !json_is_string(json_object_get(p, "prompt")) ||
		    (json_object_get(p, "system") && !json_is_string(json_object_get(p, "system"))) ||
		    !json_is_integer(mt) || json_integer_value(mt) < 1 ||
		    json_integer_value(mt) > 4096)
			return "a prompt without id, prompt text or max_tokens";
	}
	if (!json_is_array(models))
		return "no \"models\" array";
	for (size_t i = 0; i < json_array_size(models); i++) {
		json_t *m = json_array_get(models, i), *outs = json_object_get(m, "outputs");
		if (!json_is_string(json_object_get(m, "name")) ||
		    !json_is_object(json_object_get(m, "runtime")) || !json_is_array(outs) ||
		    json_array_size(outs) != json_array_size(prompts))
			return "a model entry without name, runtime or one output per prompt";
		for (size_t k = 0; k < json_array_size(outs); k++) {
			json_t *a = json_array_get(outs, k), *t = json_object_get(a, "tokens");
			if (!json_is_string(json_object_get(a, "text")) || !json_is_array(t))
				return "an output without text or tokens";
			for (size_t x = 0; x < json_array_size(t); x++)
				if (!json_is_string(json_array_get(t, x)))
					return "a token that is not a string";
		}
	}
	return NULL;
}

json_t *golden_parse(const char *data, size_t len, struct moat_err *e)
{
	json_error_t je;
	json_t *d = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	const char *why;
	if (!d) {
		if (models_json_oom(&je))
			return nomem(e);
		err_set(e, MOAT_EPARSE, "'" GOLDEN_FILE "' is not JSON (line %d: %s)", je.line,
			je.text);
		return NULL;
	}
	why = doc_problem(d);
	if (why) {
		json_decref(d);
		err_set(e, MOAT_EPARSE, "'" GOLDEN_FILE "': %s", why);
		return NULL;
	}
	return d;
}

/* The hex digest SHA256SUMS gives rel, into hex; 0, or -1 when not listed. */
static int sums_line(const struct buf *sums, const char *rel, char hex[SHA256_HEX])
{
	size_t rl = strlen(rel);
	const char *p = sums->data ? sums->data : "", *end = p + sums->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (le - p == (long)(66 + rl) && p[64] == ' ' && (p[65] == ' ' || p[65] == '*') &&
		    !memcmp(p + 66, rel, rl)) {
			for (int i = 0; i < 64; i++)
				hex[i] = (char)tolower((unsigned char)p[i]);
			hex[64] = '\0';
			return 0;
		}
		p = nl ? nl + 1 : end;
	}
	return -1;
}

json_t *golden_load_bundle(const char *dir, struct moat_err *e)
{
	struct buf text = BUF_INIT, sums = BUF_INIT;
	char *gp = fs_join(dir, GOLDEN_FILE), *sp = fs_join(dir, BUNDLE_SUMS);
	char want[SHA256_HEX], got[SHA256_HEX];
	json_t *d = NULL;
	if (!gp || !sp) {
		nomem(e);
		goto out;
	}
	if (!fs_exists(gp)) {
		err_set(e, MOAT_ENOTFOUND, "the bundle '%s' has no golden outputs (bundle it with "
			"--golden PROMPTS.jsonl)", dir);
		goto out;
	}
	if (fs_read_file(gp, &text, GOLDEN_MAX_BYTES, e) < 0 ||
	    fs_read_file(sp, &sums, 64u << 20, e) < 0)
		goto out;
	if (sums_line(&sums, GOLDEN_FILE, want) < 0) {
		err_set(e, MOAT_ECORRUPT, "'%s' is not listed in '%s': refused", gp, sp);
		goto out;
	}
	sha256_hex_mem(text.data ? text.data : "", text.len, got);
	if (strcmp(want, got)) {
		err_set(e, MOAT_ECORRUPT, "'%s' does not match its line in SHA256SUMS (expected "
			"sha256:%s, found sha256:%s): tampered or damaged", gp, want, got);
		goto out;
	}
	d = golden_parse(text.data ? text.data : "", text.len, e);
out:
	buf_release(&text);
	buf_release(&sums);
	free(gp);
	free(sp);
	return d;
}

/* ---- checking a bundle's golden outputs ---- */

/* The URI a model of the bundle runs through when the user names none. */
static char *default_uri(const char *dir, json_t *index, const char *name)
{
	json_t *models = json_object_get(index, "models"), *blobs = json_object_get(index, "blobs");
	for (size_t i = 0; i < json_array_size(models); i++) {
		json_t *m = json_array_get(models, i), *layers = json_object_get(m, "layers");
		const char *dg = NULL;
		if (strcmp(json_string_value(json_object_get(m, "name")) ?
			   json_string_value(json_object_get(m, "name")) : "", name))
			continue;
		for (size_t k = 0; k < json_array_size(layers) && !dg; k++)
			if (!strcmp(json_string_value(json_object_get(json_array_get(layers, k),
								      "mediaType")) ?
				    json_string_value(json_object_get(json_array_get(layers, k),
								      "mediaType")) : "",
				    MT_MEDIA_MODEL))
				dg = json_string_value(json_object_get(json_array_get(layers, k),
								       "digest"));
		for (size_t b = 0; dg && b < json_array_size(blobs); b++) {
			json_t *bl = json_array_get(blobs, b), *files = json_object_get(bl, "files");
			const char *bd = json_string_value(json_object_get(bl, "digest"));
			const char *rel = json_string_value(json_object_get(json_array_get(files, 0),
									    "path"));
			if (bd && !strcasecmp(bd, dg) && json_array_size(files) == 1 && rel &&
			    !strncmp(rel, "blobs/", 6) && !strstr(rel, "..")) {
				char *path = fs_join(dir, rel), *uri = NULL;
				char *abs = path ? realpath(path, NULL) : NULL;
				if (path && asprintf(&uri, "gguf:%s", abs ? abs : path) < 0)
					uri = NULL;
				free(abs);
				free(path);
				return uri;
			}
		}
	}
	return golden_uri(NULL, name);
}

/* The URI for model name from the user's --model values, or NULL. */
static char *chosen_uri(const char *name, const char *const *v, size_t n)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (!strncmp(v[i], name, nl) && v[i][nl] == '=')
			return strdup(v[i] + nl + 1);
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(v[i], '=');
		const char *colon = strchr(v[i], ':');
		/* NAME=URI for another model: not ours */
		if (eq && (!colon || eq < colon))
			continue;
		return golden_uri(v[i], name);
	}
	return NULL;
}

/* Two JSON values as text, for a message. */
static int same_value(json_t *a, json_t *b)
{
	return (!a && !b) || (a && b && json_equal(a, b));
}

/* What differs between how the answers were recorded and how they were run
 * now, whatever the answers: a prompt that is not the one its answer was
 * recorded for, an option used otherwise. */
static json_t *changes(json_t *prompts, json_t *recorded_outs, json_t *outs, int *bad)
{
	json_t *c = json_array();
	char *msg = NULL;
	if (!c) {
		*bad = 1;
		return NULL;
	}
	for (size_t i = 0; i < json_array_size(outs) && i < json_array_size(recorded_outs); i++) {
		json_t *rec = json_array_get(recorded_outs, i);
		json_t *wo = json_object_get(rec, "options");
		json_t *no = json_object_get(json_array_get(outs, i), "options");
		const char *id = str_or(json_array_get(prompts, i), "id", "?");
		const char *key, *want = str_or(rec, "prompt_sha256", NULL);
		char hex[SHA256_HEX];
		json_t *v;
		prompt_hash(json_array_get(prompts, i), hex);
		if (want && strcmp(want, hex)) {
			if (asprintf(&msg, "prompt '%s' is not the one its answer was recorded for "
				     "(its text, system text or max_tokens changed)", id) < 0)
				*bad = 1;
			else
				models_jadd(c, json_string(msg), bad), free(msg);
		}
		json_object_foreach(wo, key, v) {
			json_t *nv = json_object_get(no, key);
			char *ws, *ns;
			if (!no || same_value(v, nv))
				continue;
			ws = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
			ns = nv ? json_dumps(nv, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
			if (asprintf(&msg, "option '%s' of prompt '%s' changed (recorded %s, used %s)",
				     key, id, ws ? ws : "?", ns ? ns : "nothing") < 0)
				*bad = 1;
			else
				models_jadd(c, jsonu_string(msg), bad), free(msg);
			free(ws);
			free(ns);
		}
	}
	return c;
}

/* The likely causes of differences between recorded and rerun answers. */
static json_t *causes(json_t *was, json_t *now, size_t n_changes, int *bad)
{
	json_t *c = json_array();
	char *msg = NULL;
	int named = 0;
	if (!c) {
		*bad = 1;
		return NULL;
	}
#define CAUSE(...)                                                                  \
	do {                                                                        \
		if (asprintf(&msg, __VA_ARGS__) < 0)                                \
			*bad = 1;                                                   \
		else                                                                \
			models_jadd(c, json_string(msg), bad), free(msg);           \
		named++;                                                            \
	} while (0)
	if (!same_value(json_object_get(was, "model_digest"), json_object_get(now, "model_digest")) &&
	    json_is_string(json_object_get(was, "model_digest")) &&
	    json_is_string(json_object_get(now, "model_digest")))
		CAUSE("another model file (recorded %s, now %s): another quantisation or another "
		      "version of the model; its answers are expected to differ",
		      str_or(was, "model_digest", "?"), str_or(now, "model_digest", "?"));
	/* the runtime by its name (store: and gguf: are one: llama.cpp in moat),
	 * by its backend where a server does not say */
	if (json_is_string(json_object_get(was, "name")) && json_is_string(json_object_get(now, "name"))
	    ? !same_value(json_object_get(was, "name"), json_object_get(now, "name"))
	    : !same_value(json_object_get(was, "backend"), json_object_get(now, "backend")))
		CAUSE("another runtime (recorded %s, now %s): runtimes differ in kernels, batching "
		      "and prompt templates", str_or(was, "name", str_or(was, "backend", "?")),
		      str_or(now, "name", str_or(now, "backend", "?")));
	else if (!same_value(json_object_get(was, "version"), json_object_get(now, "version")))
		CAUSE("another runtime version (recorded %s %s, now %s): a new llama.cpp changes "
		      "kernels and rounding, and answers drift", str_or(was, "name", "?"),
		      str_or(was, "version", "?"), str_or(now, "version", "?"));
	if (!same_value(json_object_get(was, "template_sha256"),
			json_object_get(now, "template_sha256")) &&
	    json_is_string(json_object_get(was, "template_sha256")) &&
	    json_is_string(json_object_get(now, "template_sha256")))
		CAUSE("another chat template (sha256 %.12s, now %.12s): the model sees other text",
		      str_or(was, "template_sha256", "?"), str_or(now, "template_sha256", "?"));
	if (n_changes)
		CAUSE("the prompts or options are not those the answers were recorded with (see "
		      "changes)");
	if (!named)
		CAUSE("same model file, runtime and options: GPU against CPU arithmetic, another "
		      "number of threads or another batch size change floating-point sums; such "
		      "differences usually start late in an answer");
#undef CAUSE
	return c;
}

/* Reruns and compares one model's answers: its entry of the report. */
static json_t *check_model(const char *dir, json_t *index, json_t *doc, json_t *gm,
			   const char *const *v, size_t n, const struct golden_runner *r,
			   double tolerance, int *bad)
{
	const char *name = json_string_value(json_object_get(gm, "name"));
	json_t *prompts = json_object_get(doc, "prompts"), *opt = json_object_get(doc, "options");
	json_t *rec = json_object_get(gm, "outputs"), *was = json_object_get(gm, "runtime");
	struct golden_options o = golden_default_options();
	struct moat_err e = MOAT_ERR_INIT;
	json_t *res = json_object(), *info = NULL, *outs = NULL, *now = NULL, *cmp, *ch;
	char *uri = chosen_uri(name, v, n);
	size_t exact = 0, passed = 0;
	double smin = 1.0, ssum = 0.0;
	void *m;
	if (!uri)
		uri = default_uri(dir, index, name);
	if (!res || !uri || !(cmp = json_array())) {
		json_decref(res);
		free(uri);
		*bad = 1;
		return NULL;
	}
	o.seed = json_integer_value(json_object_get(opt, "seed"));
	o.n_ctx = (int)json_integer_value(json_object_get(opt, "n_ctx"));
	models_jset(res, "name", json_string(name), bad);
	models_jset(res, "uri", jsonu_string(uri), bad);
	models_jset(res, "prompts", json_integer((json_int_t)json_array_size(prompts)), bad);
	models_jset(res, "recorded_runtime", json_incref(was), bad);
	m = r->open(r->ud, uri, o.n_ctx, &info, &e);
	if (m) {
		outs = run_prompts(r, m, prompts, &o, &e);
		r->close(m);
	}
	free(uri);
	if (!outs) {
		if (e.code == MOAT_ENOMEM)
			*bad = 1;
		json_decref(info);
		json_decref(cmp);
		models_jset(res, "status", json_string("error"), bad);
		models_jset(res, "error", jsonu_string(e.msg), bad);
		return res;
	}
	now = runtime_of(info);
	json_decref(info);
	if (!now)
		*bad = 1;
	for (size_t i = 0; i < json_array_size(outs) && !*bad; i++) {
		json_t *c = compare_one(str_or(json_array_get(prompts, i), "id", "?"),
					json_array_get(rec, i), json_array_get(outs, i), tolerance,
					bad);
		double s = json_real_value(json_object_get(c, "similarity"));
		const char *st = str_or(c, "status", "");
		exact += !strcmp(st, "exact");
		passed += strcmp(st, "differs") != 0;
		ssum += s;
		if (s < smin)
			smin = s;
		if (c && strcmp(st, "exact")) {
			models_jset(c, "expected", json_incref(json_object_get(
				json_array_get(rec, i), "text")), bad);
			models_jset(c, "found", json_incref(json_object_get(
				json_array_get(outs, i), "text")), bad);
		}
		models_jadd(cmp, c, bad);
	}
	models_jset(res, "runtime", json_incref(now), bad);
	models_jset(res, "exact", json_integer((json_int_t)exact), bad);
	models_jset(res, "passed", json_integer((json_int_t)passed), bad);
	models_jset(res, "similarity_min", json_real(smin), bad);
	models_jset(res, "similarity_mean", json_real(json_array_size(outs) ?
						      ssum / (double)json_array_size(outs) : 1.0),
		    bad);
	models_jset(res, "status", json_string(exact == json_array_size(outs) ? "exact" :
					       passed == json_array_size(outs) ? "within" : "differs"),
		    bad);
	ch = changes(prompts, rec, outs, bad);
	if (json_array_size(ch)) {
		models_jset(res, "changes", json_incref(ch), bad);
		models_jset(res, "status", json_string("changed"), bad);
	}
	if (exact < json_array_size(outs))
		models_jset(res, "causes", causes(was, now, json_array_size(ch), bad), bad);
	json_decref(ch);
	models_jset(res, "outputs", cmp, bad);
	json_decref(outs);
	json_decref(now);
	return res;
}

json_t *golden_check_bundle(const char *dir, const char *const *model_uris, size_t n_uris,
			    const struct golden_runner *r, double tolerance, struct moat_err *e)
{
	json_t *doc = golden_load_bundle(dir, e), *index = NULL, *res = NULL, *models;
	char *ip = fs_join(dir, BUNDLE_JSON);
	struct buf b = BUF_INIT;
	json_error_t je;
	int bad = 0, ok = 1;
	if (!doc || !ip) {
		free(ip);
		json_decref(doc);
		return doc ? nomem(e) : NULL;
	}
	if (fs_read_file(ip, &b, 64u << 20, e) == 0)
		index = json_loadb(b.data ? b.data : "", b.len, 0, &je);
	buf_release(&b);
	free(ip);
	res = json_object();
	models = json_array();
	bad = !res || !models;
	models_jset(res, "bundle", jsonu_string(dir), &bad);
	models_jset(res, "tolerance", json_real(tolerance), &bad);
	for (size_t i = 0; i < json_array_size(json_object_get(doc, "models")) && !bad; i++) {
		json_t *m = check_model(dir, index, doc, json_array_get(json_object_get(doc, "models"),
									i),
					model_uris, n_uris, r, tolerance, &bad);
		const char *st = str_or(m, "status", "error");
		ok = ok && (!strcmp(st, "exact") || !strcmp(st, "within"));
		models_jadd(models, m, &bad);
	}
	models_jset(res, "ok", json_boolean(ok), &bad);
	models_jset(res, "models", models, &bad);
	json_decref(index);
	json_decref(doc);
	if (bad) {
		json_decref(res);
		return nomem(e);
	}
	return res;
}

/* ---- two models side by side ---- */

/* {"uri","runtime","tokens","seconds","tokens_per_second"} of one side. */
static json_t *side(const char *uri, json_t *info, json_t *outs, int *bad)
{
	json_int_t tokens = 0;
	double secs = 0;
	for (size_t i = 0; i < json_array_size(outs); i++) {
		json_t *a = json_array_get(outs, i);
		tokens += json_integer_value(json_object_get(a, "token_count"));
		secs += json_number_value(json_object_get(a, "seconds"));
	}
	json_t *s = json_pack("{s:s, s:o, s:I, s:f, s:f}", "uri", uri, "runtime", runtime_of(info),
			      "tokens", tokens, "seconds", secs, "tokens_per_second",
			      secs > 0 ? (double)tokens / secs : 0.0);
	if (!s)
		*bad = 1;
	return s;
}

json_t *golden_diff(json_t *prompts, const struct golden_options *o, const char *uri_a,
		    const char *uri_b, const struct golden_runner *r, struct moat_err *e)
{
	const char *uris[2] = { uri_a, uri_b };
	json_t *info[2] = { NULL, NULL }, *outs[2] = { NULL, NULL }, *res = NULL, *rows;
	size_t exact = 0;
	double ssum = 0;
	int bad = 0;
	for (int s = 0; s < 2; s++) {
		void *m = r->open(r->ud, uris[s], o->n_ctx, &info[s], e);
		if (!m)
			goto out;
		outs[s] = run_prompts(r, m, prompts, o, e);
		r->close(m);
		if (!outs[s])
			goto out;
	}
	rows = json_array();
	bad = !rows;
	for (size_t i = 0; i < json_array_size(prompts) && !bad; i++) {
		json_t *p = json_array_get(prompts, i);
		json_t *a = json_array_get(outs[0], i), *b = json_array_get(outs[1], i);
		json_t *c = compare_one(str_or(p, "id", "?"), a, b, 1.0, &bad);
		if (!c)
			break;
		exact += !strcmp(str_or(c, "status", ""), "exact");
		ssum += json_real_value(json_object_get(c, "similarity"));
		models_jset(c, "prompt", json_incref(json_object_get(p, "prompt")), &bad);
		models_jset(c, "a", json_incref(json_object_get(a, "text")), &bad);
		models_jset(c, "b", json_incref(json_object_get(b, "text")), &bad);
		models_jset(c, "a_tokens", json_incref(json_object_get(a, "token_count")), &bad);
		models_jset(c, "b_tokens", json_incref(json_object_get(b, "token_count")), &bad);
		models_jadd(rows, c, &bad);
	}
	res = json_object();
	bad = bad || !res;
	models_jset(res, "a", side(uri_a, info[0], outs[0], &bad), &bad);
	models_jset(res, "b", side(uri_b, info[1], outs[1], &bad), &bad);
	models_jset(res, "prompts", json_integer((json_int_t)json_array_size(prompts)), &bad);
	models_jset(res, "exact", json_integer((json_int_t)exact), &bad);
	models_jset(res, "agreement", json_real(json_array_size(prompts) ?
						ssum / (double)json_array_size(prompts) : 1.0), &bad);
	models_jset(res, "outputs", rows, &bad);
	if (bad) {
		json_decref(res);
		res = nomem(e);
	}
out:
	for (int s = 0; s < 2; s++) {
		json_decref(info[s]);
		json_decref(outs[s]);
	}
	return res;
}

/* A token for a message: quoted, control characters escaped, cut at 40. */
static void quote_tok(struct buf *b, json_t *t)
{
	const char *s = json_string_value(t);
	size_t n = 0;
	if (!s) {
		buf_adds(b, "(nothing: the answer ended)");
		return;
	}
	buf_addch(b, '"');
	for (; *s && n < 40; s++, n++) {
		if (*s == '\n')
			buf_adds(b, "\\n");
		else if ((unsigned char)*s < 0x20)
			buf_addf(b, "\\x%02x", (unsigned char)*s);
		else
			buf_addch(b, *s);
	}
	buf_adds(b, *s ? "...\"" : "\"");
}

char *golden_model_summary(json_t *m)
{
	struct buf b = BUF_INIT;
	json_t *outs = json_object_get(m, "outputs"), *cs = json_object_get(m, "causes");
	json_t *ch = json_object_get(m, "changes");
	json_int_t n = json_integer_value(json_object_get(m, "prompts"));
	json_int_t ex = json_integer_value(json_object_get(m, "exact"));
	json_int_t ps = json_integer_value(json_object_get(m, "passed"));
	size_t shown = 0;
	buf_addf(&b, "%s through %s: ", str_or(m, "name", "?"), str_or(m, "uri", "?"));
	if (!strcmp(str_or(m, "status", ""), "error")) {
		buf_addf(&b, "cannot run: %s", str_or(m, "error", "?"));
		return buf_detach(&b, NULL);
	}
	buf_addf(&b, "%" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT " answers exact", ex, n);
	if (ps > ex)
		buf_addf(&b, ", %" JSON_INTEGER_FORMAT " within tolerance", ps - ex);
	if (n > ps)
		buf_addf(&b, ", %" JSON_INTEGER_FORMAT " differ", n - ps);
	if (ex < n)
		buf_addf(&b, " (similarity min %.2f, mean %.2f)",
			 json_number_value(json_object_get(m, "similarity_min")),
			 json_number_value(json_object_get(m, "similarity_mean")));
	for (size_t i = 0; i < json_array_size(outs); i++) {
		json_t *o = json_array_get(outs, i), *fd = json_object_get(o, "first_diff");
		if (!fd)
			continue;
		if (shown++ == 10) {
			buf_adds(&b, "\n  ...");
			break;
		}
		buf_addf(&b, "\n  %s: %s, first difference at token %" JSON_INTEGER_FORMAT
			 ": expected ", str_or(o, "id", "?"), str_or(o, "status", "?"),
			 json_integer_value(json_object_get(fd, "index")));
		quote_tok(&b, json_object_get(fd, "expected"));
		buf_adds(&b, ", found ");
		quote_tok(&b, json_object_get(fd, "found"));
		buf_addf(&b, " (similarity %.2f)", json_number_value(json_object_get(o, "similarity")));
	}
	for (size_t i = 0; i < json_array_size(ch); i++)
		buf_addf(&b, "\n  changed: %s", json_string_value(json_array_get(ch, i)));
	for (size_t i = 0; i < json_array_size(cs); i++)
		buf_addf(&b, "\n  likely cause: %s", json_string_value(json_array_get(cs, i)));
	return buf_detach(&b, NULL);
}
