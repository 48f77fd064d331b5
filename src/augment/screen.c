/*
 * screen.c - the screen every generated record passes before it is accepted
 * (augment_int.h): PII by the workspace's clean policy (reject, or replace
 * by the policy's operators), length limits, exact and MinHash
 * near-duplicates of its sources, its siblings and the whole workspace, and
 * the recipe's own check.  Not for: generating, storing.
 */
#include "augment_int.h"
#include "../store/augment.h"
#include "../store/cleaned.h"
#include "../core/buf.h"
#include "../core/fmt.h"
#include "../core/hash.h"
#include "../core/utf8.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

/* text lower-cased (ASCII), white space runs as one space, trimmed */
static char *norm_text(const char *text)
{
	size_t n = strlen(text), o = 0;
	char *out = malloc(n + 1);
	int space = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		if (isspace(c)) {
			space = o > 0;
			continue;
		}
		if (space)
			out[o++] = ' ';
		space = 0;
		out[o++] = (char)tolower(c);
	}
	out[o] = '\0';
	return out;
}

void aug_norm_sha(const char *text, char hex[65])
{
	char *n = norm_text(text);
	if (!n) {  /* no memory: the text's own digest (an exact twin still matches) */
		sha256_hex_mem(text, strlen(text), hex);
		return;
	}
	sha256_hex_mem(n, strlen(n), hex);
	free(n);
}

int aug_contains(const char *text, const char *phrase)
{
	char *t = norm_text(text), *p = norm_text(phrase);
	int found = t && p && *p && strstr(t, p) != NULL;
	free(t);
	free(p);
	return found;
}

/* byte offset of code point cp in s */
static size_t cp_byte(const char *s, size_t cp)
{
	size_t b = 0, len = strlen(s);
	while (cp && b < len) {
		b++;
		while (b < len && ((unsigned char)s[b] & 0xc0) == 0x80)
			b++;
		cp--;
	}
	return b;
}

static int cmp_span(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_array_get(*(json_t *const *)a, 0));
	json_int_t y = json_integer_value(json_array_get(*(json_t *const *)b, 0));
	return x < y ? -1 : x > y;
}

/* spans by start, as a person would list them */
static void qsort_spans(json_t *spans)
{
	size_t n = json_array_size(spans);
	json_t **v = n ? malloc(n * sizeof(*v)) : NULL;
	if (!v)
		return;  /* no memory: left in the order found, still valid */
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(spans, i));
	qsort(v, n, sizeof(*v), cmp_span);
	json_array_clear(spans);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(spans, v[i]);
	free(v);
}

json_t *aug_refind_spans(const char *src, const json_t *spans, const char *dst, char **missing)
{
	json_t *out = json_array(), *sp;
	size_t i;
	*missing = NULL;
	if (!out)
		return NULL;
	json_array_foreach(spans, i, sp) {
		size_t a = cp_byte(src, (size_t)json_integer_value(json_array_get(sp, 0)));
		size_t b = cp_byte(src, (size_t)json_integer_value(json_array_get(sp, 1)));
		const char *lab = json_string_value(json_array_get(sp, 2));
		char *surface = b > a ? strndup(src + a, b - a) : NULL;
		const char *at = dst;
		int placed = 0;
		if (!surface || !lab) {
			json_decref(out);
			if (surface)
				*missing = surface;
			return NULL;
		}
		while ((at = strstr(at, surface))) {
			size_t s0 = utf8_count(dst, (size_t)(at - dst)), k;
			json_t *x;
			int taken = 0;
			json_array_foreach(out, k, x)
				taken |= (size_t)json_integer_value(json_array_get(x, 0)) == s0 &&
					 !strcmp(json_string_value(json_array_get(x, 2)), lab);
			if (!taken) {
				json_array_append_new(out, json_pack("[I, I, s]", (json_int_t)s0,
					(json_int_t)(s0 + utf8_count(surface, strlen(surface))), lab));
				placed = 1;
				break;
			}
			at++;
		}
		if (!placed) {
			json_decref(out);
			*missing = surface;
			return NULL;
		}
		free(surface);
	}
	qsort_spans(out);
	return out;
}

static int add_seen(struct aug_screen *sc, const char *sha, const uint32_t *sig, size_t n,
		    const char *sources, int document)
{
	struct aug_sig *g;
	if (sc->n_seen == sc->cap_seen) {
		size_t cap = sc->cap_seen ? sc->cap_seen * 2 : 256;
		struct aug_sig *v = realloc(sc->seen, cap * sizeof(*v));
		if (!v)
			return -1;
		sc->seen = v;
		sc->cap_seen = cap;
	}
	g = &sc->seen[sc->n_seen];
	memset(g, 0, sizeof(*g));
	if (sha && strlen(sha) < sizeof(g->sha))
		memcpy(g->sha, sha, strlen(sha) + 1);
	g->document = document;
	if (sig && n == (size_t)sc->mh.perms) {  /* other MinHash settings: exact checks only */
		if (!(g->sig = malloc(n * sizeof(uint32_t))))
			return -1;
		memcpy(g->sig, sig, n * sizeof(uint32_t));
	}
	if (sources && !(g->sources = strdup(sources))) {
		free(g->sig);
		return -1;
	}
	sc->n_seen++;
	return 0;
}

static int on_sig(void *ctx, const char *what, const char *sha, const uint32_t *sig, size_t n,
		  const char *sources, struct moat_err *e)
{
	if (add_seen(ctx, sha, sig, n, sources, !strcmp(what, "document")) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return 0;
}

int aug_screen_init(struct aug_screen *sc, struct store *s, const char *policy_path, int reject,
		    double near_threshold, struct moat_err *e)
{
	struct pii_options po = pii_default_options();
	memset(sc, 0, sizeof(*sc));
	policy_init(&sc->pol);
	sc->mh = mh_default_params();
	if (near_threshold > 0)
		sc->mh.threshold = near_threshold;
	sc->reject = 1;
	if (policy_path) {
		if (policy_load(&sc->pol, policy_path, e) < 0)
			return -1;
		sc->have_policy = 1;
		sc->reject = reject;
		policy_scan_options(&sc->pol, &po);
		if (xsnprintf(sc->policy_path, sizeof(sc->policy_path), "%s", policy_path) < 0)
			sc->policy_path[0] = '\0';
	}
	if (!(sc->scanner = pii_scanner_new(&po, e)) || !(sc->scratch = pii_scratch_new(sc->scanner, e)))
		return -1;
	if (sc->have_policy && sc->pol.salt) {
		sc->sec.salt = sc->pol.salt;
		sc->sec.salt_len = sc->pol.salt_len;
	} else {
		if (clean_store_secret(s, "pii", sc->salt, e) < 0)
			return -1;
		sc->sec.salt = sc->salt;
		sc->sec.salt_len = sizeof(sc->salt);
	}
	if (sc->have_policy && sc->pol.key_file) {
		if (pii_key_load(sc->pol.key_file, sc->sec.key, e) < 0)
			return -1;
		sc->sec.have_key = 1;
	}
	return aug_store_each_sig(s, on_sig, sc, e);
}

void aug_screen_release(struct aug_screen *sc)
{
	for (size_t i = 0; i < sc->n_seen; i++) {
		free(sc->seen[i].sig);
		free(sc->seen[i].sources);
	}
	free(sc->seen);
	pii_scratch_free(sc->scratch);
	pii_scanner_free(sc->scanner);
	policy_release(&sc->pol);
	memset(sc, 0, sizeof(*sc));
}

void aug_verdict_release(struct aug_verdict *v)
{
	free(v->sig);
	json_decref(v->deidentified);
	memset(v, 0, sizeof(*v));
}

int aug_screen_remember(struct aug_screen *sc, struct aug_verdict *v, const char *sources_json)
{
	return add_seen(sc, v->sha, v->sig, v->sig ? (size_t)sc->mh.perms : 0, sources_json, 0);
}

static int reject(struct aug_verdict *v, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int reject(struct aug_verdict *v, const char *reason, const char *fmt, ...)
{
	va_list ap;
	v->reason = reason;
	va_start(ap, fmt);
	if (xvsnprintf(v->detail, sizeof(v->detail), fmt, ap) < 0)
		v->detail[sizeof(v->detail) - 1] = '\0';  /* a cut detail, said as such by its length */
	va_end(ap);
	return 0;
}

/* PII in one field: rejects, or replaces the findings by the policy's
 * operators.  1 when rejected, 0 when not, -1 on error. */
static int screen_pii(struct aug_screen *sc, json_t *answer, const char *key, struct aug_verdict *v,
		      struct moat_err *e)
{
	const char *text = json_string_value(json_object_get(answer, key));
	struct pii_findings f = PII_FINDINGS_INIT;
	struct buf out = BUF_INIT;
	size_t at = 0, len;
	int rc = 0;
	if (!text)
		return 0;
	len = strlen(text);
	if (pii_scan(sc->scanner, sc->scratch, text, len, 0, &f, e) < 0)
		return -1;
	if (!f.n)
		goto done;
	if (sc->reject) {
		reject(v, "pii", "%s in '%s' at %zu", pii_type_name(sc->scanner, f.v[0].type), key,
		       f.v[0].cp_start);
		rc = 1;
		goto done;
	}
	if (!v->deidentified && !(v->deidentified = json_array())) {
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < f.n; i++) {
		const char *type = pii_type_name(sc->scanner, f.v[i].type);
		const struct pii_op_spec *op = policy_op_for(&sc->pol, type);
		if (f.v[i].start < at)
			continue;
		buf_add(&out, text + at, f.v[i].start - at);
		if (pii_apply(&sc->sec, op, type, text + f.v[i].start, f.v[i].end - f.v[i].start, &out,
			      e) < 0) {
			rc = -1;
			goto done;
		}
		at = f.v[i].end;
		json_array_append_new(v->deidentified, json_pack("{s:s, s:s, s:s}", "field", key, "type",
								 type, "operator", pii_op_name(op->op)));
	}
	buf_add(&out, text + at, len - at);
	if (buf_failed(&out) || json_object_set_new(answer, key, json_string(buf_str(&out))) < 0)
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
done:
	buf_release(&out);
	pii_findings_release(&f);
	return rc;
}

/* Duplicates: 1 when rejected. */
static int screen_dups(struct aug_screen *sc, const char *const *src_text,
		       const char *const *src_ids, size_t n_src, struct aug_verdict *v)
{
	int perms = sc->mh.perms;
	uint32_t *ssig = malloc((size_t)perms * sizeof(uint32_t));
	int rc = 0;
	if (!ssig)
		return -1;
	for (size_t i = 0; i < n_src && !rc; i++) {
		char sha[65];
		aug_norm_sha(src_text[i], sha);
		if (!strcmp(sha, v->sha)) {
			rc = reject(v, "duplicate", "repeats its source %s", src_ids[i]) + 1;
			break;
		}
		mh_signature(&sc->mh, src_text[i], strlen(src_text[i]), ssig);
		if (mh_similarity(ssig, v->sig, perms) >= sc->mh.threshold)
			rc = reject(v, "near_duplicate", "%.2f like its source %s",
				    mh_similarity(ssig, v->sig, perms), src_ids[i]) + 1;
	}
	free(ssig);
	for (size_t i = 0; i < sc->n_seen && !rc; i++) {
		const struct aug_sig *g = &sc->seen[i];
		const char *whose = g->document ? "a document of the workspace"
				    : "a record of the workspace";
		double sim;
		for (size_t k = 0; !g->document && g->sources && k < n_src; k++) {
			char q[300];
			if (xsnprintf(q, sizeof(q), "\"%s\"", src_ids[k]) >= 0 && strstr(g->sources, q))
				whose = "a sibling (a record of the same source)";
		}
		if (!strcmp(g->sha, v->sha)) {
			rc = reject(v, "duplicate", "repeats %s", whose) + 1;
			break;
		}
		if (g->sig && (sim = mh_similarity(g->sig, v->sig, perms)) >= sc->mh.threshold)
			rc = reject(v, "near_duplicate", "%.2f like %s", sim, whose) + 1;
	}
	return rc;
}

int aug_screen_record(struct aug_screen *sc, const struct aug_recipe *r, json_t *answer,
		      const char *const *src_text, const char *const *src_ids, size_t n_src,
		      const json_t *src_spans, json_t **spans_out, struct aug_verdict *v,
		      struct moat_err *e)
{
	const char *key;
	json_t *val;
	struct buf all = BUF_INIT;
	const char *text;
	int rc;
	memset(v, 0, sizeof(*v));
	if (spans_out)
		*spans_out = NULL;
	/* 1. PII, every string field */
	json_object_foreach(answer, key, val) {
		if (!json_is_string(val))
			continue;
		if ((rc = screen_pii(sc, answer, key, v, e)) < 0)
			return -1;
		if (rc)
			break;
	}
	/* 2. the text the duplicate checks see: every field, in the schema's order */
	json_object_foreach(answer, key, val) {
		if (!json_is_string(val) || (r->check_field && !strcmp(key, r->check_field)))
			continue;
		if (all.len)
			buf_addch(&all, '\n');
		buf_adds(&all, json_string_value(val));
	}
	if (buf_failed(&all)) {
		buf_release(&all);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	text = json_string_value(json_object_get(answer, r->text_field));
	aug_norm_sha(r->answer_field || !text ? buf_str(&all) : text, v->sha);
	if (!(v->sig = malloc((size_t)sc->mh.perms * sizeof(uint32_t)))) {
		buf_release(&all);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	mh_signature(&sc->mh, buf_str(&all), all.len, v->sig);
	if (v->reason)
		goto out;
	/* 3. length limits */
	json_object_foreach(answer, key, val) {
		size_t cps;
		if (!json_is_string(val))
			continue;
		cps = utf8_count(json_string_value(val), json_string_length(val));
		if (cps < r->min_chars || cps > r->max_chars) {
			reject(v, "length", "'%s' has %zu characters (%zu to %zu)", key, cps, r->min_chars,
			       r->max_chars);
			goto out;
		}
	}
	/* 4. duplicates */
	if ((rc = screen_dups(sc, src_text, src_ids, n_src, v)) < 0) {
		buf_release(&all);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	if (rc)
		goto out;
	/* 5. the recipe's own check */
	if (r->check == AUG_CHECK_KEY_PHRASE) {
		const char *kp = json_string_value(json_object_get(answer, r->check_field));
		const char *ans = json_string_value(json_object_get(answer, r->answer_field));
		if (!kp || !n_src || !aug_contains(src_text[0], kp))
			reject(v, "check", "the key phrase is not in the source");
		else if (!ans || !aug_contains(ans, kp))
			reject(v, "check", "the key phrase is not in the answer");
	} else if (r->check == AUG_CHECK_SPANS && src_spans && json_array_size(src_spans) && n_src) {
		char *missing = NULL;
		json_t *sp = aug_refind_spans(src_text[0], src_spans, text ? text : "", &missing);
		if (!sp) {
			reject(v, "check", "the span '%.120s' is not in the variant", missing ? missing : "?");
			free(missing);
		} else if (spans_out) {
			*spans_out = sp;
		} else {
			json_decref(sp);
		}
	}
out:
	buf_release(&all);
	return 0;
}
