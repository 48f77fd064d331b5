/*
 * pii_scan.c - the scanning engine behind pii.h.
 *
 * One Hyperscan block-mode database holds a trigger for every pattern but the
 * digit-bearing ones (P_DIGITS), whose triggers run over the shapes of the
 * regions around digits instead (pii_shape.c); each
 * hit (pattern, end offset) is confirmed at once, in the match callback, by
 * the pattern's PCRE2 expression (JIT), searched from `back` bytes before the
 * hit with PCRE2's offset limit at the hit, so the exact Presidio-style
 * expression (look-arounds, groups) decides on a few bytes only; a later hit
 * that an earlier search already covered is skipped.  Gazetteer patterns
 * (first names, surnames, places, nationalities, company suffixes) are not in
 * the database: capitalized words are looked up in a hash instead, and the
 * pattern's expression is matched anchored after the entry.  Then, as
 * Presidio does: validators (a passing checksum sets the score to 1.0, a
 * failing one drops the finding), context words raise the score, the
 * threshold filters, duplicates of one type contained in another are
 * dropped, and overlaps are resolved as the anonymizer does (same-type
 * intersections merged, contained findings dropped, then the higher score
 * wins, then the longer span).
 */
#define _GNU_SOURCE
#include "pii.h"
#include "pii_internal.h"
#include "pii_shape.h"
#include "../core/datadir.h"
#include "../core/fmt.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "../core/utf8.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <strings.h>

#include <utf8proc.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#ifdef MOAT_HAVE_HYPERSCAN
#include <hs.h>
#endif

#include "../core/banned.h"

#define CUE_KEY_MAX 23
#define CUE_PRE_MAX 31

struct pat {
	struct pii_pattern def;
	int type;
	pcre2_code *re;
	int slow;        /* no trigger: PCRE2 over the whole text */
	int jit;         /* compiled for PCRE2's JIT: matched through it directly */
	/* a gazetteer pattern's expression compiled anchored, for the JIT
	 * (PCRE2_ANCHORED given when matching would take the interpreter);
	 * NULL: match re anchored */
	pcre2_code *anchored;
	/* Patterns whose Hyperscan expression and flags are the same (the
	 * RUN9 identifiers, IPv4 and embedded IPv4): only the first is in the
	 * database, its hits are dispatched to each in turn; index + 1 of the
	 * next, 0 at the end of the chain. */
	unsigned next_same;
	char *owned_re;  /* for term patterns built here */
	char *owned_trig;
	char *shape;     /* P_DIGITS: the trigger over shapes (pii_shape.h), in
			  * the shape database; NULL: in the main one */
};

struct type {
	char *name;
	char **ctx;      /* context words, lower case */
	size_t *ctx_len;
	unsigned char *ctx_phrase;  /* the word has a space */
	size_t n_ctx;
	int has_phrase;
	uint32_t *ctx_slot;  /* the single words: index + 1 by hash, 0 empty */
	size_t ctx_mask;
	/* The single words of 4 bytes or more, which may also match inside a
	 * longer word, and their first four bytes hashed into a bitmap
	 * (gram4_bit): a word none of whose 4-byte runs is set holds none. */
	unsigned *ctx_long;
	size_t n_long;
	uint64_t gram[64];
};

struct pii_scanner {
	struct pat *pats;
	size_t n_pats, alloc_pats;
	struct type *types;
	size_t n_types, alloc_types;
	char **allow;    /* lower case, sorted */
	size_t n_allow;
	struct pii_options o;
	size_t n_slow;
	char *cache;     /* path of the serialized database being loaded */
	struct gaz {     /* capitalized words that trigger gazetteer patterns */
		struct gaz_entry {
			char *w;
			size_t len;
			unsigned pat[4];
			unsigned n_pat;
		} *e;
		size_t n, alloc;
		uint32_t *slot;
		size_t mask;
		size_t max_words;
		/* the first three bytes of the entries of three bytes or more, and
		 * the two of those of two, as bits of a hash: a capitalized word
		 * whose start has neither bit starts no entry (most do not) */
		uint64_t pre3[1024], pre2[1024];
		int short1;  /* an entry of one byte */
	} gaz;
	struct cue {     /* cues before a name, by last word (pii_internal.h) */
		struct cue_ent {
			char key[CUE_KEY_MAX + 1];  /* lower case; "#" for a number */
			char pre[CUE_PRE_MAX + 1];  /* what comes before the key */
			unsigned char klen, plen;
			unsigned pat;
		} *e;            /* sorted by key, pattern, longer prefix first */
		size_t n_e;
		struct cue_key {
			unsigned first, n;  /* n 0: empty */
		} *slot;         /* open addressing over the keys */
		size_t mask, n;
		/* the last two bytes of the keys (0 for a one-byte key), lower
		 * case, as a bitmap: most words before a capital letter are no
		 * key and are told so without a lookup; num: a key is "#" */
		unsigned char pair[65536 / 8];
		/* finer: the last three bytes of the keys (0 before a key's
		 * start) as letters and digits 1..36, a bitmap over 37^3; tri_ok
		 * when every key is ASCII letters and digits (else pair alone) */
		unsigned char tri[(37 * 37 * 37 + 7) / 8];
		int tri_ok;
		int num;
	} cue;
	int nohit;       /* MOAT_PII_NOCONFIRM: measure the trigger scan alone */
#ifdef MOAT_HAVE_HYPERSCAN
	hs_database_t *db;        /* every trigger but the P_DIGITS ones */
	hs_database_t *db_shape;  /* the P_DIGITS triggers, over shapes */
#endif
};

struct cand {
	size_t a, b;
	float score;
	int type;
	unsigned pat;
};

/*
 * What sorting the findings needs, kept from one scan to the next so a large
 * chunk does not allocate (and fault in) its arrays again: the findings are
 * sorted as compact keys (sort_findings), then moved once.
 */
struct skey {
	uint64_t k1, k2;
	size_t idx;
};

struct sortbuf {
	struct skey *k, *kt;
	struct pii_finding *f;
	size_t alloc;
	size_t *count;   /* per type */
	size_t n_count;
	struct bound { size_t off, slot; } *bd;
	size_t alloc_bd;
};

static void sortbuf_release(struct sortbuf *b)
{
	free(b->k);
	free(b->kt);
	free(b->f);
	free(b->count);
	free(b->bd);
	memset(b, 0, sizeof(*b));
}

/*
 * A word before a finding as has_context() takes it, kept by the offset
 * where it ends for the findings after (the candidates of one pass come
 * mostly in order, and many look back over the words of the one before):
 * its start, what ctx_take() said, and the word, lowered.
 */
#define WC_SIZE 256
struct ctx_cached {
	size_t we, ws;
	uint32_t gen, h;
	unsigned char wl;
	signed char r;
	char w[48];  /* as ctx_words' words */
};

struct pii_scratch {
	struct sortbuf sort;
#ifdef MOAT_HAVE_HYPERSCAN
	hs_scratch_t *hs;
#endif
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit;
	size_t n_hits;   /* trigger hits of the last scan */
	struct cand *c;
	size_t n_c, alloc_c;
	size_t *done, *resume;
	size_t n_state;
#ifdef MOAT_HAVE_HYPERSCAN
	struct pii_shape_memo *shape;
#endif
	struct ctx_cached *wc;  /* WC_SIZE context words, by where they end */
	uint32_t gen;           /* the scan the valid ones are from */
};

struct pii_options pii_default_options(void)
{
	struct pii_options o;
	memset(&o, 0, sizeof(o));
	o.threshold = 0.0f;
	o.context_prefix = 5;
	o.context_suffix = 0;
	o.context_boost = 0.35f;
	o.context_floor = 0.4f;
	o.resolve_overlaps = 1;
	return o;
}

void pii_findings_release(struct pii_findings *f)
{
	free(f->v);
	f->v = NULL;
	f->n = f->alloc = 0;
}

/* The version of a library up to its first space, cut to fit out[n]. */
static void version_word(char *out, size_t n, const char *v)
{
	size_t l = strcspn(v, " ");
	if (l >= n)
		l = n - 1;
	memcpy(out, v, l);
	out[l] = '\0';
}

static char engine_name[96];
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;

static void build_engine_name(void)
{
	char pv[32] = "";
	int n;
	pcre2_config(PCRE2_CONFIG_VERSION, pv);
	pv[strcspn(pv, " ")] = '\0';
#ifdef MOAT_HAVE_HYPERSCAN
	{
		char hv[32];
		version_word(hv, sizeof(hv), hs_version());
		n = xsnprintf(engine_name, sizeof(engine_name), "hyperscan %s + pcre2 %s", hv, pv);
	}
#else
	n = xsnprintf(engine_name, sizeof(engine_name), "pcre2 %s", pv);
#endif
	if (n < 0)  /* cannot happen: both versions are cut to 31 bytes */
		version_word(engine_name, sizeof(engine_name), "pcre2");
}

const char *pii_engine_name(void)
{
	pthread_once(&engine_once, build_engine_name);
	return engine_name;
}

const char *const *pii_builtin_types(void)
{
	static const char *names[128];
	if (!names[0]) {
		size_t k = 0;
		for (size_t i = 0; i < pii_n_entities && k + 1 < 128; i++)
			names[k++] = pii_entities[i].name;
		names[k] = NULL;
	}
	return names;
}

/* --- building ------------------------------------------------------------- */

static int add_type(struct pii_scanner *s, const char *name, const char *ctx)
{
	struct type *t;
	for (size_t i = 0; i < s->n_types; i++)
		if (s->types[i].name && !strcmp(s->types[i].name, name))
			return (int)i;
	if (s->n_types == s->alloc_types) {
		size_t na = s->alloc_types ? s->alloc_types * 2 : 64;
		struct type *nt = realloc(s->types, na * sizeof(*nt));
		if (!nt)
			return -1;
		s->types = nt;
		s->alloc_types = na;
	}
	/* counted at once: pii_scanner_free() frees what a failure below leaves */
	t = &s->types[s->n_types++];
	memset(t, 0, sizeof(*t));
	t->name = strdup(name);
	if (!t->name)
		return -1;
	if (ctx && *ctx) {
		size_t n = 1;
		const char *p = ctx;
		for (const char *q = ctx; *q; q++)
			n += *q == '|';
		t->ctx = calloc(n, sizeof(char *));
		t->ctx_len = calloc(n, sizeof(size_t));
		t->ctx_phrase = calloc(n, 1);
		if (!t->ctx || !t->ctx_len || !t->ctx_phrase)
			return -1;
		while (*p) {
			size_t l = strcspn(p, "|");
			char *w = strndup(p, l);
			if (!w)
				return -1;
			for (char *c = w; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			if (strchr(w, ' ')) {
				t->has_phrase = 1;
				t->ctx_phrase[t->n_ctx] = 1;
			}
			t->ctx_len[t->n_ctx] = l;
			t->ctx[t->n_ctx++] = w;
			p += l;
			if (*p == '|')
				p++;
		}
	}
	return (int)(t - s->types);
}

static const char *entity_context(const char *name)
{
	for (size_t i = 0; i < pii_n_entities; i++)
		if (!strcmp(pii_entities[i].name, name))
			return pii_entities[i].context;
	return NULL;
}

struct build {
	struct pii_scanner *s;
	char **want;     /* requested entity names, NULL: all */
	size_t n_want;
	int *used;       /* per want entry: a pattern or term covers it */
	const char *countries;  /* lower case, ",xx,yy,": NULL: no country filter */
	const char *language;   /* NULL: no language filter */
	struct moat_err *e;
};

/*
 * The country of a country-specific recognizer (Presidio's country_code),
 * from the entity's prefix, and the languages Presidio registers it for;
 * NULL for the generic ones.
 */
static const struct {
	const char prefix[4], country[3], *langs;
} country_of[] = {
	{ "US_", "us", ",en," }, { "UK_", "uk", ",en," }, { "CA_", "ca", ",en,fr," },
	{ "AU_", "au", ",en," }, { "IN_", "in", ",en," }, { "SG_", "sg", ",en," },
	{ "NG_", "ng", ",en," }, { "ZA_", "za", ",en," }, { "PH_", "ph", ",en," },
	{ "ES_", "es", ",es," }, { "IT_", "it", ",it," }, { "PL_", "pl", ",pl," },
	{ "FI_", "fi", ",fi," }, { "KR_", "kr", ",ko,kr," }, { "SE_", "se", ",sv," },
	{ "TH_", "th", ",th," }, { "TR_", "tr", ",tr," }, { "DE_", "de", ",de," },
};

static int country_index(const char *entity)
{
	if (!strcmp(entity, "MEDICAL_LICENSE") || !strcmp(entity, "ABA_ROUTING_NUMBER"))
		return 0;
	for (size_t i = 0; i < sizeof(country_of) / sizeof(country_of[0]); i++)
		if (!strncmp(entity, country_of[i].prefix, 3))
			return (int)i;
	return -1;
}

int pii_country_known(const char *code)
{
	for (size_t i = 0; i < sizeof(country_of) / sizeof(country_of[0]); i++)
		if (!strcasecmp(code, country_of[i].country) ||
		    (!strcasecmp(code, "gb") && !strcmp(country_of[i].country, "uk")))
			return 1;
	return 0;
}

const char *pii_entity_country(const char *entity)
{
	int c = country_index(entity);
	return c < 0 ? NULL : country_of[c].country;
}

/* Is a pattern of entity in the set: named by --entities, else its
 * country's and language's recognizers (a listed country turns on all of
 * them), else the default set. */
static int wanted(struct build *b, const char *entity, int off)
{
	int c;
	if (!b->want) {
		c = country_index(entity);
		if (c >= 0 && b->countries) {
			char key[5] = { ',', country_of[c].country[0], country_of[c].country[1], ',', '\0' };
			return strstr(b->countries, key) != NULL;
		}
		if (c >= 0 && b->language) {
			char key[16];
			if (strlen(b->language) > 8)
				return 0;
			key[0] = ',';
			memcpy(key + 1, b->language, strlen(b->language));
			key[1 + strlen(b->language)] = ',';
			key[2 + strlen(b->language)] = '\0';
			if (!strstr(country_of[c].langs, key))
				return 0;
		}
		return !off;
	}
	for (size_t i = 0; i < b->n_want; i++)
		if (!strcmp(b->want[i], entity)) {
			b->used[i] = 1;
			return 1;
		}
	return 0;
}

static int add_pattern(void *ctx, const struct pii_pattern *p)
{
	struct build *b = ctx;
	struct pii_scanner *s = b->s;
	struct pat *np;
	int type;
	if (!wanted(b, p->entity, p->flags & P_OFF))
		return 0;
	type = add_type(s, p->entity, entity_context(p->entity));
	if (type < 0)
		return err_set(b->e, MOAT_ENOMEM, "out of memory");
	if (s->n_pats == s->alloc_pats) {
		size_t na = s->alloc_pats ? s->alloc_pats * 2 : 128;
		struct pat *nps = realloc(s->pats, na * sizeof(*nps));
		if (!nps)
			return err_set(b->e, MOAT_ENOMEM, "out of memory");
		s->pats = nps;
		s->alloc_pats = na;
	}
	np = &s->pats[s->n_pats++];
	memset(np, 0, sizeof(*np));
	np->def = *p;
	np->type = type;
	return 0;
}

static int cmp_str_fold(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* Deny lists and dictionaries: one pattern per (type, caseless, score). */
static int add_terms(struct build *b, const struct pii_options *o)
{
	for (size_t i = 0; i < o->n_terms; i++) {
		const struct pii_term *t = &o->terms[i];
		struct buf re = BUF_INIT, trig = BUF_INIT;
		size_t longest = 0;
		int seen = 0;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(o->terms[j].type, t->type) && o->terms[j].caseless == t->caseless &&
			    o->terms[j].score == t->score)
				seen = 1;
		if (seen || !t->text || !*t->text)
			continue;
		buf_adds(&re, "(?<![\\w])(?:");
		buf_adds(&trig, "(?:");
		for (size_t j = i, k = 0; j < o->n_terms; j++) {
			const struct pii_term *u = &o->terms[j];
			if (strcmp(u->type, t->type) || u->caseless != t->caseless || u->score != t->score ||
			    !u->text || !*u->text)
				continue;
			if (k++) {
				buf_addch(&re, '|');
				buf_addch(&trig, '|');
			}
			for (const char *c = u->text; *c; c++) {
				if (strchr(".^$*+?()[]{}|\\/-#&~\"'", *c) || *c == ' ') {
					buf_addch(&re, '\\');
					buf_addch(&trig, '\\');
				}
				buf_addch(&re, *c);
				buf_addch(&trig, *c);
			}
			if (strlen(u->text) > longest)
				longest = strlen(u->text);
		}
		buf_adds(&re, ")(?![\\w])");
		buf_addch(&trig, ')');
		if (buf_failed(&re) || buf_failed(&trig)) {
			buf_release(&re);
			buf_release(&trig);
			return err_set(b->e, MOAT_ENOMEM, "out of memory");
		}
		{
			struct pii_pattern p;
			memset(&p, 0, sizeof(p));
			p.entity = t->type;
			p.name = t->score > 0 ? "dictionary" : "deny list";
			p.regex = re.data;
			p.trigger = trig.data;
			p.score = t->score > 0 ? t->score : 1.0f;
			p.back = (unsigned short)(longest + 1 > 65535 ? 65535 : longest + 1);
			p.flags = (unsigned char)(P_UTF | (t->caseless ? P_CASELESS : 0));
			/* terms name their own type: always wanted */
			if (b->want)
				for (size_t w = 0; w < b->n_want; w++)
					if (!strcmp(b->want[w], t->type))
						b->used[w] = 1;
			{
				char **save = b->want;
				b->want = NULL;
				if (add_pattern(b, &p) < 0) {
					b->want = save;
					buf_release(&re);
					buf_release(&trig);
					return -1;
				}
				b->want = save;
			}
			b->s->pats[b->s->n_pats - 1].owned_re = buf_detach(&re, NULL);
			b->s->pats[b->s->n_pats - 1].owned_trig = buf_detach(&trig, NULL);
			b->s->pats[b->s->n_pats - 1].def.regex = b->s->pats[b->s->n_pats - 1].owned_re;
			b->s->pats[b->s->n_pats - 1].def.trigger = b->s->pats[b->s->n_pats - 1].owned_trig;
		}
	}
	return 0;
}

static int compile_pcre(struct pii_scanner *s, struct moat_err *e)
{
	for (size_t i = 0; i < s->n_pats; i++) {
		struct pat *p = &s->pats[i];
		int err;
		PCRE2_SIZE off;
		uint32_t opt = PCRE2_USE_OFFSET_LIMIT;
		if (p->def.flags & P_CASELESS)
			opt |= PCRE2_CASELESS;
		if (p->def.flags & P_UTF)
			opt |= PCRE2_UTF | PCRE2_UCP;
		p->re = pcre2_compile((PCRE2_SPTR)p->def.regex, PCRE2_ZERO_TERMINATED, opt, &err, &off,
				      NULL);
		if (!p->re) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(err, msg, sizeof(msg));
			return err_set(e, MOAT_EPARSE, "cannot compile pattern '%s' (%s) at %zu: %s",
				       p->def.name, p->def.entity, (size_t)off, (char *)msg);
		}
		/* the interpreter if the JIT fails */
		p->jit = pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE) == 0;
		if (p->def.gaz) {
			p->anchored = pcre2_compile((PCRE2_SPTR)p->def.regex, PCRE2_ZERO_TERMINATED,
						    (opt & ~(uint32_t)PCRE2_USE_OFFSET_LIMIT) |
							    PCRE2_ANCHORED,
						    &err, &off, NULL);
			if (p->anchored && pcre2_jit_compile(p->anchored, PCRE2_JIT_COMPLETE) != 0) {
				pcre2_code_free(p->anchored);
				p->anchored = NULL;
			}
		}
	}
	return 0;
}

#ifdef MOAT_HAVE_HYPERSCAN
/*
 * Compiling the database takes a second or two of CPU; a serialized copy is
 * kept in <cache>/pii (core/datadir.h: $MOAT_CACHE, default ~/.cache/moat), named by the
 * SHA-256 of the Hyperscan version and every expression, flag and id, so a
 * changed pattern set never meets a stale database.  Any failure to read or
 * write it just means compiling.
 */
static char *cache_path(const char *const *expr, const unsigned *flags, const unsigned *ids,
			size_t n)
{
	struct sha256 h;
	unsigned char d[SHA256_LEN];
	char hex[SHA256_HEX], *dir, *p = NULL;
	if (getenv("MOAT_NO_CACHE"))
		return NULL;
	dir = datadir_cache("pii");
	if (!dir || sha256_init(&h) < 0) {
		free(dir);
		return NULL;
	}
	sha256_update(&h, hs_version(), strlen(hs_version()));
	for (size_t i = 0; i < n; i++) {
		sha256_update(&h, expr[i], strlen(expr[i]) + 1);
		sha256_update(&h, &flags[i], sizeof(flags[i]));
		sha256_update(&h, &ids[i], sizeof(ids[i]));
	}
	sha256_final(&h, d);
	hex_encode(d, SHA256_LEN, hex);
	if (asprintf(&p, "%s/%.32s.hsdb", dir, hex) < 0)
		p = NULL;
	free(dir);
	return p;
}

/* The cached file: "moat-hsdb 1 <SHA-256 of the database, hex>\n" and the
 * serialized database.  A file that another user owns or could have written
 * (group or world writable, or in such a directory), that is damaged, or
 * whose digest does not match is not deserialized (Hyperscan trusts its
 * input): the database is compiled again and the file replaced. */
#define HSDB_MAGIC "moat-hsdb 1 "
#define HSDB_HEAD (sizeof(HSDB_MAGIC) - 1 + 64 + 1)

static int cache_trusted(const char *path)
{
	struct stat st, dst;
	char *dir = fs_dirname(path);
	int ok = dir && lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
		 !(st.st_mode & 022) && stat(dir, &dst) == 0 && dst.st_uid == geteuid() &&
		 !(dst.st_mode & 022);
	free(dir);
	return ok;
}

static int cache_load(struct pii_scanner *s, hs_database_t **db, const char *const *expr,
		      const unsigned *flags, const unsigned *ids, size_t n)
{
	struct buf b = BUF_INIT;
	char hex[SHA256_HEX];
	int rc = -1;
	free(s->cache);
	s->cache = cache_path(expr, flags, ids, n);
	if (!s->cache || !cache_trusted(s->cache) ||
	    fs_read_file(s->cache, &b, 256u << 20, NULL) < 0 || b.len < HSDB_HEAD ||
	    memcmp(b.data, HSDB_MAGIC, sizeof(HSDB_MAGIC) - 1) || b.data[HSDB_HEAD - 1] != '\n') {
		buf_release(&b);
		return -1;
	}
	sha256_hex_mem(b.data + HSDB_HEAD, b.len - HSDB_HEAD, hex);
	if (!memcmp(hex, b.data + sizeof(HSDB_MAGIC) - 1, 64) &&
	    hs_deserialize_database(b.data + HSDB_HEAD, b.len - HSDB_HEAD, db) == HS_SUCCESS)
		rc = 0;
	else
		*db = NULL;
	buf_release(&b);
	return rc;
}

static void cache_store(struct pii_scanner *s, const hs_database_t *db)
{
	char *bytes = NULL, *dir, hex[SHA256_HEX];
	size_t len = 0;
	struct buf b = BUF_INIT;
	if (!s->cache || hs_serialize_database(db, &bytes, &len) != HS_SUCCESS)
		return;
	sha256_hex_mem(bytes, len, hex);
	buf_adds(&b, HSDB_MAGIC);
	buf_adds(&b, hex);
	buf_addch(&b, '\n');
	buf_add(&b, bytes, len);
	dir = fs_dirname(s->cache);
	if (!buf_failed(&b) && dir && fs_mkdirs(dir, 0755, NULL) == 0)
		(void)!fs_write_atomic(s->cache, b.data, b.len, 0644, NULL);
	buf_release(&b);
	free(dir);
	free(bytes);
}

/* The order of a trigger's chain after its first pattern. */
static int gate_before(const struct pat *a, const struct pat *b)
{
	uintptr_t ga = (uintptr_t)a->def.gate, gb = (uintptr_t)b->def.gate;
	return ga != gb ? ga < gb : a->def.back < b->def.back;
}

/*
 * One database (*db): the shape expressions of the P_DIGITS patterns (shape),
 * or the triggers of the others.  Patterns whose expression and flags are
 * the same go in one chain (next_same); the patterns of an expression
 * Hyperscan cannot take leave this database (a shape one for the main one,
 * a main one for PCRE2 over the whole text) and the rest is compiled again.
 */
static int compile_db(struct pii_scanner *s, hs_database_t **db, int shape, struct moat_err *e)
{
	const char **expr = calloc(s->n_pats + 1, sizeof(char *));
	unsigned *flags = calloc(s->n_pats + 1, sizeof(unsigned));
	unsigned *ids = calloc(s->n_pats + 1, sizeof(unsigned));
	int rc = -1;
	if (!expr || !flags || !ids) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		size_t n = 0;
		hs_compile_error_t *cerr = NULL;
		for (size_t i = 0; i < s->n_pats; i++) {
			struct pat *p = &s->pats[i];
			const char *x;
			unsigned fl;
			size_t k;
			if (p->slow || (p->def.gaz && !p->def.trigger) || p->def.cue ||
			    !p->shape != !shape)
				continue;
			p->next_same = 0;
			x = shape ? p->shape : p->def.trigger ? p->def.trigger : p->def.regex;
			fl = (p->def.trigger ? 0 : HS_FLAG_PREFILTER) |
			     ((p->def.flags & (P_CASELESS | P_TCASE)) ? HS_FLAG_CASELESS : 0);
			for (k = 0; k < n; k++)
				if (flags[k] == fl && !strcmp(expr[k], x))
					break;
			if (k < n) {
				/* the same trigger: into that one's chain, after the
				 * patterns of a lower (gate, back) key, so that the
				 * patterns of one gate and window follow each other */
				struct pat *q = &s->pats[ids[k]];
				while (q->next_same && !gate_before(p, &s->pats[q->next_same - 1]))
					q = &s->pats[q->next_same - 1];
				p->next_same = q->next_same;
				q->next_same = (unsigned)i + 1;
				continue;
			}
			expr[n] = x;
			flags[n] = fl;
			ids[n] = (unsigned)i;
			n++;
		}
		if (n == 0) {
			rc = 0;
			break;
		}
		if (cache_load(s, db, expr, flags, ids, n) == 0) {
			rc = 0;
			break;
		}
		if (hs_compile_multi(expr, flags, ids, (unsigned)n, HS_MODE_BLOCK, NULL, db, &cerr) ==
		    HS_SUCCESS) {
			cache_store(s, *db);
			rc = 0;
			break;
		}
		if (cerr && cerr->expression >= 0 && (size_t)cerr->expression < n) {
			/* Hyperscan cannot take this trigger: the patterns that
			 * share it run on PCRE2, or over shapes in the main
			 * database */
			for (unsigned j = ids[cerr->expression] + 1; j; j = s->pats[j - 1].next_same) {
				struct pat *p = &s->pats[j - 1];
				if (shape) {
					free(p->shape);
					p->shape = NULL;
				} else {
					p->slow = 1;
					s->n_slow++;
				}
			}
			hs_free_compile_error(cerr);
			continue;
		}
		err_set(e, MOAT_EUNSUPPORTED, "cannot build the pattern database: %s",
			cerr ? cerr->message : "unknown error");
		hs_free_compile_error(cerr);
		break;
	}
out:
	free(expr);
	free(flags);
	free(ids);
	return rc;
}

/* The shape database first: a P_DIGITS trigger that it cannot take (or
 * that the rewrite cannot) goes to the main one. */
static int compile_hs(struct pii_scanner *s, struct moat_err *e)
{
	for (size_t i = 0; i < s->n_pats; i++) {
		struct pat *p = &s->pats[i];
		struct buf b = BUF_INIT;
		if (!(p->def.flags & P_DIGITS) || p->slow || p->def.gaz || p->def.cue)
			continue;
		if (pii_shape_expr(p->def.trigger ? p->def.trigger : p->def.regex, &b) == 0)
			p->shape = buf_detach(&b, NULL);
		buf_release(&b);
	}
	if (compile_db(s, &s->db_shape, 1, e) < 0)
		return -1;
	return compile_db(s, &s->db, 0, e);
}
#endif

static uint32_t gaz_hash(const char *w, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)w[i]) * 16777619u;
	return h;
}

/* 16 bits of the first bytes of a word (gaz.pre3, gaz.pre2) */
static inline unsigned gaz_pre(unsigned char a, unsigned char b, unsigned char c)
{
	return ((uint32_t)a << 16 | (uint32_t)b << 8 | c) * 2654435761u >> 16;
}

/* Can an entry start at text[i]? */
static inline int gaz_may_start(const struct gaz *g, const char *text, size_t len, size_t i)
{
	const unsigned char *u = (const unsigned char *)text + i;
	unsigned h;
	if (g->short1 || len - i < 3)
		return 1;
	h = gaz_pre(u[0], u[1], u[2]);
	if (g->pre3[h >> 6] & (1ULL << (h & 63)))
		return 1;
	h = gaz_pre(u[0], u[1], 0);
	return (g->pre2[h >> 6] >> (h & 63)) & 1;
}

/*
 * The gazetteer's slots hold index + 1 in their low 24 bits and the top 8
 * bits of the entry's hash above, so a probe compares an entry only when
 * those agree.  h is gaz_hash(w, n).
 */
#define GAZ_IDX 0xFFFFFFu

static struct gaz_entry *gaz_find(const struct gaz *g, const char *w, size_t n, uint32_t h)
{
	size_t p;
	uint32_t v;
	if (!g->slot)
		return NULL;
	for (p = h & g->mask; (v = g->slot[p]) != 0; p = (p + 1) & g->mask) {
		struct gaz_entry *x;
		if ((v ^ h) >> 24)
			continue;
		x = &g->e[(v & GAZ_IDX) - 1];
		if (x->len == n && !memcmp(x->w, w, n))
			return x;
	}
	return NULL;
}

/* An open-addressing table of 32-bit slots (index + 1, 0 empty) for n
 * entries, at most half full; *mask is its size - 1. */
static uint32_t *slots_new(size_t n, size_t *mask)
{
	size_t size = 16;
	uint32_t *slot;
	while (size < n * 2)
		size *= 2;
	slot = calloc(size, sizeof(uint32_t));
	*mask = size - 1;
	return slot;
}

static void slot_put(uint32_t *slot, size_t mask, const char *w, size_t n, uint32_t v)
{
	size_t h = gaz_hash(w, n) & mask;
	while (slot[h])
		h = (h + 1) & mask;
	slot[h] = v;
}

/* Appends entry w (len k, ownership taken) and puts it in the slots (room
 * for it made by gaz_build); NULL out of memory (w freed). */
static struct gaz_entry *gaz_add(struct gaz *g, char *w, size_t k, uint32_t h)
{
	struct gaz_entry *x;
	size_t p;
	if (g->n == g->alloc) {
		size_t na = g->alloc ? g->alloc * 2 : 256;
		struct gaz_entry *ne = realloc(g->e, na * sizeof(*ne));
		if (!ne) {
			free(w);
			return NULL;
		}
		g->e = ne;
		g->alloc = na;
	}
	x = &g->e[g->n++];
	x->w = w;
	x->len = k;
	x->n_pat = 0;
	for (p = h & g->mask; g->slot[p]; p = (p + 1) & g->mask)
		;
	g->slot[p] = (uint32_t)g->n | (h & ~GAZ_IDX);
	return x;
}

static int gaz_build(struct pii_scanner *s)
{
	struct gaz *g = &s->gaz;
	size_t most = 0;
	/* at most one entry per list item and one per space in it (the
	 * prefixes): the slots are made for that many, at most half full */
	for (size_t i = 0; i < s->n_pats; i++)
		for (const char *q = s->pats[i].def.gaz; q && *q; q++)
			most += *q == s->pats[i].def.gaz_sep || *q == ' ';
	most += s->n_pats;
	if (most >= GAZ_IDX)
		return -1;
	g->slot = slots_new(most, &g->mask);
	if (!g->slot)
		return -1;
	for (size_t i = 0; i < s->n_pats; i++) {
		const char *q = s->pats[i].def.gaz;
		char sep = s->pats[i].def.gaz_sep;
		if (!q)
			continue;
		while (*q) {
			size_t l = strcspn(q, sep == '|' ? "|" : " "), k = 0, words = 1;
			char *w = malloc(l + 1);
			uint32_t cp = 0, h;
			struct gaz_entry *x;
			if (!w)
				return -1;
			for (size_t j = 0; j < l; j++)
				if (q[j] != '\\')
					w[k++] = q[j];
			w[k] = '\0';
			for (size_t j = 0; j < k; j++)
				words += w[j] == ' ';
			q += l;
			if (*q)
				q++;
			if (!k || utf8_decode((const unsigned char *)w, k, &cp) <= 0 ||
			    utf8proc_category((utf8proc_int32_t)cp) != UTF8PROC_CATEGORY_LU) {
				free(w);
				continue;
			}
			h = gaz_hash(w, k);
			x = gaz_find(g, w, k, h);
			if (x)
				free(w);
			else if (!(x = gaz_add(g, w, k, h)))
				return -1;
			if (x->n_pat < 4 && (x->n_pat == 0 || x->pat[x->n_pat - 1] != i))
				x->pat[x->n_pat++] = (unsigned)i;
			if (words > g->max_words)
				g->max_words = words;
		}
	}
	/* each word-boundary prefix of a multi-word entry, as an entry without
	 * patterns, so the scan knows when to look one word further */
	for (size_t i = 0, n0 = g->n; i < n0; i++) {
		for (size_t k = 0; k < g->e[i].len; k++) {
			char *w;
			uint32_t h;
			if (g->e[i].w[k] != ' ')
				continue;
			h = gaz_hash(g->e[i].w, k);
			if (gaz_find(g, g->e[i].w, k, h))
				continue;
			w = strndup(g->e[i].w, k);
			if (!w || !gaz_add(g, w, k, h))
				return -1;
		}
	}
	for (size_t i = 0; i < g->n; i++) {
		const unsigned char *w = (const unsigned char *)g->e[i].w;
		if (g->e[i].len >= 3) {
			unsigned h = gaz_pre(w[0], w[1], w[2]);
			g->pre3[h >> 6] |= 1ULL << (h & 63);
		} else if (g->e[i].len == 2) {
			unsigned h = gaz_pre(w[0], w[1], 0);
			g->pre2[h >> 6] |= 1ULL << (h & 63);
		} else {
			g->short1 = 1;
		}
	}
	return 0;
}

/* --- cues before a name ----------------------------------------------------- */

static struct cue_key *cue_slot(const struct cue *c, const char *w, size_t n)
{
	size_t h = gaz_hash(w, n) & c->mask;
	while (c->slot[h].n &&
	       (c->e[c->slot[h].first].klen != n || memcmp(c->e[c->slot[h].first].key, w, n)))
		h = (h + 1) & c->mask;
	return &c->slot[h];
}

static int cmp_cue_ent(const void *x, const void *y)
{
	const struct cue_ent *a = x, *b = y;
	int d = strcmp(a->key, b->key);
	if (d)
		return d;
	if (a->pat != b->pat)
		return a->pat < b->pat ? -1 : 1;
	return a->plen > b->plen ? -1 : a->plen < b->plen;
}

/*
 * One cue of a list ("my name is", "i'?m", "name *:", "last name\??",
 * "they had \d+"): trailing punctuation and quantifiers go (the expression
 * matches them after the key; the scan walks back over them), an optional
 * character gives both spellings, and what is left is a literal: its key is
 * the run of letters or digits it ends with ("#" for \d+), its prefix what
 * comes before.
 */
static int cue_add(struct cue *c, size_t *alloc, unsigned pat, const char *q, size_t l)
{
	struct cue_ent *x;
	size_t e = l, k;
	int digits = 0;
	while (e > 0 && strchr("?*:+ ", q[e - 1]))
		e--;
	while (e > 0 && q[e - 1] == '\\')
		e--;
	for (size_t m = 1; m < e; m++)
		if (q[m] == '?' && q[m - 1] != '\\') {
			char v[2 * (CUE_KEY_MAX + CUE_PRE_MAX)];
			if (e > sizeof(v))
				return -1;
			memcpy(v, q, m);  /* with the character */
			memcpy(v + m, q + m + 1, e - m - 1);
			if (cue_add(c, alloc, pat, v, e - 1) < 0)
				return -1;
			memcpy(v, q, m - 1);  /* without it */
			memcpy(v + m - 1, q + m + 1, e - m - 1);
			return cue_add(c, alloc, pat, v, e - 2);
		}
	if (e >= 2 && q[e - 2] == '\\' && q[e - 1] == 'd') {
		digits = 1;
		k = e - 2;
	} else {
		for (k = e; k > 0 && pii_ascii_alnum((unsigned char)q[k - 1]); k--)
			;
		if (k == e || e - k > CUE_KEY_MAX)
			return -1;  /* a cue ends in a word */
	}
	if (k > CUE_PRE_MAX || memchr(q, '\\', k) || (k && !pii_ascii_alnum((unsigned char)q[0])))
		return -1;  /* the prefix must be a literal that starts a word */
	if (c->n_e == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 128;
		struct cue_ent *ne = realloc(c->e, na * sizeof(*ne));
		if (!ne)
			return -1;
		c->e = ne;
		*alloc = na;
	}
	x = &c->e[c->n_e++];
	memset(x, 0, sizeof(*x));
	if (digits) {
		x->key[0] = '#';
		x->klen = 1;
	} else {
		memcpy(x->key, q + k, e - k);
		x->klen = (unsigned char)(e - k);
	}
	for (size_t m = 0; m < k; m++)
		x->pre[m] = (char)tolower((unsigned char)q[m]);
	x->plen = (unsigned char)k;
	x->pat = pat;
	return 0;
}

/* The table of the cues' last words (cue_at confirms from each matching
 * cue's own start, so a cue pattern needs no back). */
/* A lower-case ASCII letter or digit as 1..36, anything else 0. */
static inline unsigned tri_code(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0' + 1;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 11;
	return 0;
}

static inline unsigned tri_index(unsigned char a, unsigned char b, unsigned char c)
{
	return (tri_code(a) * 37 + tri_code(b)) * 37 + tri_code(c);
}

static int cue_build(struct pii_scanner *s)
{
	struct cue *c = &s->cue;
	size_t alloc = 0, size = 64;
	for (size_t i = 0; i < s->n_pats; i++) {
		const char *q = s->pats[i].def.cue;
		if (!q)
			continue;
		while (*q) {
			size_t l = strcspn(q, "|");
			if (cue_add(c, &alloc, (unsigned)i, q, l) < 0)
				return -1;
			q += l;
			if (*q)
				q++;
		}
	}
	if (!c->n_e)
		return 0;
	qsort(c->e, c->n_e, sizeof(*c->e), cmp_cue_ent);
	c->tri_ok = 1;
	for (size_t j = 0; j < c->n_e; j++) {
		const struct cue_ent *x = &c->e[j];
		unsigned p, t;
		if (x->key[0] == '#') {
			c->num = 1;
			continue;
		}
		p = (x->klen > 1 ? (unsigned char)x->key[x->klen - 2] << 8 : 0) |
		    (unsigned char)x->key[x->klen - 1];
		c->pair[p >> 3] |= (unsigned char)(1u << (p & 7));
		for (unsigned k = 0; k < x->klen; k++)
			if (!tri_code((unsigned char)x->key[k]))
				c->tri_ok = 0;
		t = tri_index(x->klen > 2 ? (unsigned char)x->key[x->klen - 3] : 0,
			      x->klen > 1 ? (unsigned char)x->key[x->klen - 2] : 0,
			      (unsigned char)x->key[x->klen - 1]);
		c->tri[t >> 3] |= (unsigned char)(1u << (t & 7));
	}
	while (size < c->n_e * 2)
		size *= 2;
	c->slot = calloc(size, sizeof(*c->slot));
	if (!c->slot)
		return -1;
	c->mask = size - 1;
	for (size_t j = 0; j < c->n_e; j++) {
		struct cue_key *x = cue_slot(c, c->e[j].key, c->e[j].klen);
		if (!x->n) {
			x->first = (unsigned)j;
			c->n++;
		}
		x->n++;
	}
	return 0;
}

static unsigned gram4_bit(const char *w)
{
	uint32_t x;
	memcpy(&x, w, 4);
	return (x * 2654435761u) >> 20;  /* 12 bits */
}

/* Each type's single context words in a hash, and those that may match
 * inside a longer word, for has_context. */
static int ctx_build(struct pii_scanner *s)
{
	for (size_t i = 0; i < s->n_types; i++) {
		struct type *t = &s->types[i];
		t->ctx_slot = slots_new(t->n_ctx, &t->ctx_mask);
		t->ctx_long = calloc(t->n_ctx + 1, sizeof(*t->ctx_long));
		if (!t->ctx_slot || !t->ctx_long)
			return -1;
		for (size_t c = 0; c < t->n_ctx; c++) {
			if (t->ctx_phrase[c])
				continue;
			slot_put(t->ctx_slot, t->ctx_mask, t->ctx[c], t->ctx_len[c], (uint32_t)c + 1);
			if (t->ctx_len[c] >= 4) {
				unsigned g = gram4_bit(t->ctx[c]);
				t->ctx_long[t->n_long++] = (unsigned)c;
				t->gram[g >> 6] |= 1ULL << (g & 63);
			}
		}
	}
	return 0;
}

struct pii_scanner *pii_scanner_new(const struct pii_options *opt, struct moat_err *e)
{
	struct pii_options o = opt ? *opt : pii_default_options();
	struct pii_scanner *s = calloc(1, sizeof(*s));
	char *countries = NULL, lang[12];
	struct build b;
	memset(&b, 0, sizeof(b));
	if (!s) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	b.s = s;
	b.e = e;
	if (o.entities && *o.entities && strcasecmp(o.entities, "ALL") != 0) {
		const char *p = o.entities;
		size_t n = 1;
		for (const char *q = p; *q; q++)
			n += *q == ',';
		b.want = calloc(n, sizeof(char *));
		b.used = calloc(n, sizeof(int));
		if (!b.want || !b.used)
			goto nomem;
		while (*p) {
			size_t l = strcspn(p, ", ");
			if (l) {
				char *w = strndup(p, l);
				if (!w)
					goto nomem;
				for (char *c = w; *c; c++)
					*c = (char)toupper((unsigned char)*c);
				b.want[b.n_want++] = w;
			}
			p += l;
			while (*p == ',' || *p == ' ')
				p++;
		}
	}
	if (o.countries && *o.countries && strcasecmp(o.countries, "ALL") != 0) {
		size_t n = strlen(o.countries);
		const char *p = o.countries;
		char *w = calloc(1, n + 3);
		if (!w)
			goto nomem;
		countries = w;
		*w++ = ',';
		while (*p) {
			size_t l = strcspn(p, ", ");
			if (l) {
				char code[8];
				if (l >= sizeof(code)) {
					err_set(e, MOAT_EUSAGE, "unknown country '%.*s' (see 'moat pii scan --help')",
						(int)l, p);
					goto fail;
				}
				for (size_t k = 0; k < l; k++)
					code[k] = (char)tolower((unsigned char)p[k]);
				code[l] = '\0';
				if (!strcmp(code, "gb"))
					memcpy(code, "uk", 3);
				if (!pii_country_known(code)) {
					err_set(e, MOAT_EUSAGE, "unknown country '%s' (see 'moat pii scan --help')",
						code);
					goto fail;
				}
				memcpy(w, code, strlen(code));
				w += strlen(code);
				*w++ = ',';
			}
			p += l;
			while (*p == ',' || *p == ' ')
				p++;
		}
		b.countries = countries;
	}
	if (o.language && *o.language && strcasecmp(o.language, "any") != 0) {
		size_t l = strcspn(o.language, "-_");  /* en-US: en */
		if (l > 8) {
			err_set(e, MOAT_EUSAGE, "unknown language '%s'", o.language);
			goto fail;
		}
		memcpy(lang, o.language, l);
		lang[l] = '\0';
		for (size_t k = 0; k < l; k++)
			lang[k] = (char)tolower((unsigned char)lang[k]);
		b.language = lang;
	}
	for (size_t i = 0; i < pii_n_patterns; i++)
		if (add_pattern(&b, &pii_patterns[i]) < 0)
			goto fail;
	if (pii_lexicon_patterns(add_pattern, &b) < 0) {
		if (!e || !e->code)
			err_set(e, MOAT_ENOMEM, "cannot build the name lists");
		goto fail;
	}
	if (add_terms(&b, &o) < 0)
		goto fail;
	for (size_t i = 0; i < b.n_want; i++)
		if (!b.used[i]) {
			err_set(e, MOAT_EUSAGE, "unknown entity type '%s' (see 'moat pii scan --help')",
				b.want[i]);
			goto fail;
		}
	if (o.n_allow) {
		s->allow = calloc(o.n_allow, sizeof(char *));
		if (!s->allow)
			goto nomem;
		for (size_t i = 0; i < o.n_allow; i++) {
			s->allow[i] = strdup(o.allow[i]);
			if (!s->allow[i])
				goto nomem;
			s->n_allow++;
		}
		qsort(s->allow, s->n_allow, sizeof(char *), cmp_str_fold);
	}
	s->nohit = getenv("MOAT_PII_NOCONFIRM") != NULL;
	s->o = o;
	s->o.entities = NULL;
	s->o.countries = NULL;
	s->o.language = NULL;
	s->o.allow = NULL;
	s->o.terms = NULL;
	if (compile_pcre(s, e) < 0)
		goto fail;
	if (gaz_build(s) < 0 || cue_build(s) < 0 || ctx_build(s) < 0)
		goto nomem;
#ifdef MOAT_HAVE_HYPERSCAN
	if (!o.no_triggers && compile_hs(s, e) < 0)
		goto fail;
	if (o.no_triggers)
#endif
	{
		/* the gazetteer and cue patterns need no Hyperscan */
		for (size_t i = 0; i < s->n_pats; i++)
			if (!s->pats[i].def.gaz && !s->pats[i].def.cue) {
				s->pats[i].slow = 1;
				s->n_slow++;
			}
	}
	for (size_t i = 0; i < b.n_want; i++)
		free(b.want[i]);
	free(b.want);
	free(b.used);
	free(countries);
	return s;
nomem:
	err_set(e, MOAT_ENOMEM, "out of memory");
fail:
	for (size_t i = 0; i < b.n_want; i++)
		free(b.want[i]);
	free(b.want);
	free(b.used);
	free(countries);
	pii_scanner_free(s);
	return NULL;
}

void pii_scanner_free(struct pii_scanner *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_pats; i++) {
		pcre2_code_free(s->pats[i].re);
		pcre2_code_free(s->pats[i].anchored);
		free(s->pats[i].owned_re);
		free(s->pats[i].owned_trig);
		free(s->pats[i].shape);
	}
	free(s->pats);
	for (size_t i = 0; i < s->n_types; i++) {
		for (size_t j = 0; j < s->types[i].n_ctx; j++)
			free(s->types[i].ctx[j]);
		free(s->types[i].ctx);
		free(s->types[i].ctx_len);
		free(s->types[i].ctx_phrase);
		free(s->types[i].ctx_slot);
		free(s->types[i].ctx_long);
		free(s->types[i].name);
	}
	free(s->types);
	for (size_t i = 0; i < s->n_allow; i++)
		free(s->allow[i]);
	free(s->allow);
	free(s->cache);
	for (size_t i = 0; i < s->gaz.n; i++)
		free(s->gaz.e[i].w);
	free(s->gaz.e);
	free(s->gaz.slot);
	free(s->cue.slot);
	free(s->cue.e);
#ifdef MOAT_HAVE_HYPERSCAN
	hs_free_database(s->db);
	hs_free_database(s->db_shape);
#endif
	free(s);
}

const char *pii_type_name(const struct pii_scanner *s, int type)
{
	return type >= 0 && (size_t)type < s->n_types ? s->types[type].name : "?";
}

int pii_type_find(const struct pii_scanner *s, const char *name)
{
	for (size_t i = 0; i < s->n_types; i++)
		if (s->types[i].name && !strcmp(s->types[i].name, name))
			return (int)i;
	return -1;
}

size_t pii_type_count(const struct pii_scanner *s)
{
	return s->n_types;
}

size_t pii_pattern_count(const struct pii_scanner *s, size_t *slow)
{
	if (slow)
		*slow = s->n_slow;
	return s->n_pats;
}

struct pii_scratch *pii_scratch_new(const struct pii_scanner *s, struct moat_err *e)
{
	struct pii_scratch *sc = calloc(1, sizeof(*sc));
	if (!sc)
		goto nomem;
	sc->md = pcre2_match_data_create(16, NULL);
	sc->mctx = pcre2_match_context_create(NULL);
	sc->jit = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
	sc->n_state = s->n_pats;
	sc->done = calloc(s->n_pats + 1, sizeof(size_t));
	sc->resume = calloc(s->n_pats + 1, sizeof(size_t));
	sc->wc = calloc(WC_SIZE, sizeof(*sc->wc));
	if (!sc->md || !sc->mctx || !sc->jit || !sc->done || !sc->resume || !sc->wc)
		goto nomem;
	pcre2_jit_stack_assign(sc->mctx, NULL, sc->jit);
#ifdef MOAT_HAVE_HYPERSCAN
	if ((s->db && hs_alloc_scratch(s->db, &sc->hs) != HS_SUCCESS) ||
	    (s->db_shape && hs_alloc_scratch(s->db_shape, &sc->hs) != HS_SUCCESS)) {
		pii_scratch_free(sc);
		err_set(e, MOAT_ENOMEM, "cannot allocate Hyperscan scratch space");
		return NULL;
	}
	if (s->db_shape && !(sc->shape = pii_shape_memo_new()))
		goto nomem;
#endif
	return sc;
nomem:
	pii_scratch_free(sc);
	err_set(e, MOAT_ENOMEM, "out of memory");
	return NULL;
}

void pii_scratch_free(struct pii_scratch *sc)
{
	if (!sc)
		return;
#ifdef MOAT_HAVE_HYPERSCAN
	hs_free_scratch(sc->hs);
	pii_shape_memo_free(sc->shape);
#endif
	pcre2_match_data_free(sc->md);
	pcre2_match_context_free(sc->mctx);
	pcre2_jit_stack_free(sc->jit);
	sortbuf_release(&sc->sort);
	free(sc->c);
	free(sc->wc);
	free(sc->done);
	free(sc->resume);
	free(sc);
}

/* --- scanning ------------------------------------------------------------- */

struct scan_ctx {
	const struct pii_scanner *s;
	struct pii_scratch *sc;
	const char *text;
	size_t len, base;
	int failed;
};

static int confirm(const struct pii_scanner *s, struct pii_scratch *sc, unsigned i,
		   const char *text, size_t len, size_t from, size_t limit);

#ifdef MOAT_HAVE_HYPERSCAN
/* Hyperscan reports in order of end offset: each hit is confirmed at once,
 * for every pattern of the trigger, unless an earlier search of the same
 * pattern already covered it.  Patterns that share a gate and a window start
 * ask the gate once. */
static int on_hit(unsigned int id, unsigned long long from, unsigned long long to,
		  unsigned int flags, void *ctx)
{
	struct scan_ctx *x = ctx;
	struct pii_scratch *sc = x->sc;
	size_t end = (size_t)to + x->base;
	pii_gate last_gate = NULL;
	size_t last_from = 0, last_start = 0;
	int last_ok = 0;
	(void)from;
	(void)flags;
	sc->n_hits++;
	if (x->s->nohit)
		return 0;
	for (unsigned i = id + 1; i; i = x->s->pats[i - 1].next_same) {
		const struct pat *p = &x->s->pats[i - 1];
		size_t start;
		/* searched up to here before, or a match found past here */
		if (end < sc->done[i - 1] || sc->resume[i - 1] > end)
			continue;
		start = end > p->def.back ? end - p->def.back : 0;
		if (p->def.gate) {
			if (p->def.gate != last_gate || start != last_from) {
				last_gate = p->def.gate;
				last_from = start;
				last_ok = p->def.gate(x->text, x->len, end, &start);
				last_start = start;
			}
			if (!last_ok)
				continue;
			start = last_start;
		}
		if (confirm(x->s, sc, i - 1, x->text, x->len, start, end) < 0) {
			x->failed = 1;
			return 1;
		}
		sc->done[i - 1] = end + 1;
	}
	return 0;
}

static int on_shape_hit(unsigned id, size_t end, void *ctx)
{
	return on_hit(id, 0, end, 0, ctx);
}
#endif

static int add_cand(struct pii_scratch *sc, unsigned pat, int type, size_t a, size_t b, float score)
{
	if (sc->n_c == sc->alloc_c) {
		size_t na = sc->alloc_c ? sc->alloc_c * 2 : 256;
		struct cand *nc = realloc(sc->c, na * sizeof(*nc));
		if (!nc)
			return -1;
		sc->c = nc;
		sc->alloc_c = na;
	}
	sc->c[sc->n_c].a = a;
	sc->c[sc->n_c].b = b;
	sc->c[sc->n_c].score = score;
	sc->c[sc->n_c].type = type;
	sc->c[sc->n_c].pat = pat;
	sc->n_c++;
	return 0;
}

/* Runs pattern i's PCRE2 expression for matches starting in [from, limit]. */
static int confirm(const struct pii_scanner *s, struct pii_scratch *sc, unsigned i,
		   const char *text, size_t len, size_t from, size_t limit)
{
	const struct pat *p = &s->pats[i];
	int utf = p->def.flags & P_UTF;
	size_t start = from;
	if (start < sc->resume[i])
		start = sc->resume[i];
	if (utf)
		while (start > 0 && start < len && ((unsigned char)text[start] & 0xC0) == 0x80)
			start--;
	pcre2_set_offset_limit(sc->mctx, limit);
	while (start <= limit && start <= len) {
		PCRE2_SIZE *ov;
		size_t ms, me, a, b;
		/* pcre2_jit_match() skips pcre2_match()'s checks of what
		 * compile_pcre() and pii_scan() made sure of */
		int rc = p->jit ? pcre2_jit_match(p->re, (PCRE2_SPTR)text, len, start, 0, sc->md,
						  sc->mctx)
				: pcre2_match(p->re, (PCRE2_SPTR)text, len, start, PCRE2_NO_UTF_CHECK,
					      sc->md, sc->mctx);
		if (rc < 0)
			break;
		ov = pcre2_get_ovector_pointer(sc->md);
		ms = ov[0];
		me = ov[1];
		a = ms;
		b = me;
		if (p->def.group) {
			if ((unsigned)rc <= p->def.group || ov[2 * p->def.group] == PCRE2_UNSET) {
				a = b = 0;
			} else {
				a = ov[2 * p->def.group];
				b = ov[2 * p->def.group + 1];
			}
		}
		if (b > a && add_cand(sc, i, p->type, a, b, p->def.score) < 0)
			return -1;
		start = me > ms ? me : ms + 1;
		if (utf)
			while (start < len && ((unsigned char)text[start] & 0xC0) == 0x80)
				start++;
		sc->resume[i] = start;
	}
	return 0;
}

/* Bytes of a context word: ASCII letters and digits, '#', '-', '.', '\'',
 * and any byte of a multi-byte character.  lower[] folds ASCII. */
static unsigned char wbyte[256], lower[256], cue_sep[256], gaz_punct[256], trim_punct[256],
	gaz_blank[256];
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static void build_tabs(void)
{
	for (int c = 0; c < 256; c++) {
		wbyte[c] = (unsigned char)(isalnum(c) || c == '#' || c >= 0x80 || c == '-' || c == '.' ||
					   c == '\'');
		lower[c] = (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		cue_sep[c] = c && strchr(" \t\r\n,.!:?-", c);
		/* NUL counts as punctuation here, as it always has */
		gaz_punct[c] = !c || strchr(".,;:!?)'\"", c);
		trim_punct[c] = !c || strchr(".,;:!?)]'\"", c);
		gaz_blank[c] = c == ' ' || c == '\n' || c == '\t' || c == '\r';
	}
}

/* memmem for a word of at most 47 bytes: a plain loop beats the library's
 * set-up on haystacks this short. */
static int has_sub(const char *h, size_t hl, const char *nd, size_t nl)
{
	for (size_t p = 0; p + nl <= hl; p++)
		if (h[p] == nd[0] && !memcmp(h + p, nd, nl))
			return 1;
	return 0;
}

/* The words around a span that has_context compares, kept for the next
 * finding at the same place (several patterns often match one span). */
struct ctx_words {
	struct ctx_cached *wc;
	uint32_t gen;
	int valid, ph;
	size_t a, b;
	const struct type *rt;  /* the type whose answer res is, for these words */
	int res;
	char words[16][48];
	size_t wl[16], nw, nbefore;
	uint32_t wh[16];  /* gaz_hash of each word */
	char phrase[512];
	size_t pl;
};

/* A context word of t among the words: the same word (a hash lookup), a
 * phrase in the words before, or a context word of 4 bytes or more inside a
 * longer word ("creditcard"). */
static int ctx_match(const struct type *t, const struct ctx_words *cx)
{
	for (size_t k = 0; k < cx->nw; k++) {
		size_t h = cx->wh[k] & t->ctx_mask;
		while (t->ctx_slot[h]) {
			size_t c = t->ctx_slot[h] - 1;
			if (t->ctx_len[c] == cx->wl[k] && !memcmp(t->ctx[c], cx->words[k], cx->wl[k]))
				return 1;
			h = (h + 1) & t->ctx_mask;
		}
	}
	for (size_t c = 0; cx->pl && c < t->n_ctx; c++)
		if (t->ctx_phrase[c] && strstr(cx->phrase, t->ctx[c]))
			return 1;
	for (size_t k = 0; t->n_long && k < cx->nw; k++) {
		size_t p;
		if (cx->wl[k] <= 4)
			continue;
		for (p = 0; p + 4 <= cx->wl[k]; p++) {
			unsigned g = gram4_bit(cx->words[k] + p);
			if (t->gram[g >> 6] & (1ULL << (g & 63)))
				break;
		}
		if (p + 4 > cx->wl[k])
			continue;  /* no context word starts in this one */
		for (size_t j = 0; j < t->n_long; j++) {
			size_t c = t->ctx_long[j], cl = t->ctx_len[c];
			if (cl < cx->wl[k] && has_sub(cx->words[k], cx->wl[k], t->ctx[c], cl))
				return 1;
		}
	}
	return 0;
}

/* Puts the word text[ws, we), lowercased and without trailing '.', '-' or
 * '\'', into cx's next slot (cx->nw is left to the caller): -1 when it is
 * empty or too long (nothing kept), 0 for a stopword, 1 for a word. */
static int ctx_take(struct ctx_words *cx, const char *text, size_t ws, size_t we)
{
	const unsigned char *u = (const unsigned char *)text;
	uint32_t h = 2166136261u;  /* gaz_hash, as the word is lowered */
	while (we > ws && (text[we - 1] == '.' || text[we - 1] == '-' || text[we - 1] == '\''))
		we--;
	if (we <= ws || we - ws >= sizeof(cx->words[0]))
		return -1;
	for (size_t k = 0; k < we - ws; k++) {
		unsigned char c = lower[u[ws + k]];
		cx->words[cx->nw][k] = (char)c;
		h = (h ^ c) * 16777619u;
	}
	cx->words[cx->nw][we - ws] = '\0';
	cx->wl[cx->nw] = we - ws;
	cx->wh[cx->nw] = h;
	return !pii_is_stopword_lower(cx->words[cx->nw], we - ws, h);
}

/* Does a context word of type t appear in the words around [a, b)? */
static int has_context(const struct pii_scanner *s, const struct type *t, const char *text,
		       size_t len, size_t a, size_t b, struct ctx_words *cx)
{
	if (!cx->valid || cx->a != a || cx->ph != t->has_phrase ||
	    (s->o.context_suffix && cx->b != b)) {
		size_t i = a;
		int taken = 0, r;
		const unsigned char *u = (const unsigned char *)text;
		cx->valid = 1;
		cx->rt = NULL;
		cx->a = a;
		cx->b = b;
		cx->ph = t->has_phrase;
		cx->nw = 0;
		cx->pl = 0;
		while (taken < s->o.context_prefix && i > 0 && cx->nw < 16) {
			size_t we, ws;
			struct ctx_cached *c;
			while (i > 0 && !wbyte[u[i - 1]])
				i--;
			we = i;
			c = &cx->wc[we % WC_SIZE];
			if (c->gen == cx->gen && c->we == we) {
				ws = c->ws;
				r = c->r;
				if (r >= 0) {
					/* all 48 bytes: a copy of fixed size */
					memcpy(cx->words[cx->nw], c->w, sizeof(c->w));
					cx->wl[cx->nw] = c->wl;
					cx->wh[cx->nw] = c->h;
				}
			} else {
				while (i > 0 && wbyte[u[i - 1]] && we - i < 64)
					i--;
				ws = i;
				r = ctx_take(cx, text, ws, we);
				c->gen = cx->gen;
				c->we = we;
				c->ws = ws;
				c->r = (signed char)r;
				if (r >= 0) {
					c->wl = (unsigned char)cx->wl[cx->nw];
					c->h = cx->wh[cx->nw];
					memcpy(c->w, cx->words[cx->nw], sizeof(c->w));
				}
			}
			i = ws;
			if (r > 0) {
				cx->nw++;
				taken++;
			} else if (r == 0 && t->has_phrase) {
				cx->nw++;
			}
		}
		cx->nbefore = cx->nw;
		i = b;
		taken = 0;
		while (taken < s->o.context_suffix && i < len && cx->nw < 16) {
			size_t ws, we;
			while (i < len && !wbyte[u[i]])
				i++;
			ws = i;
			while (i < len && wbyte[u[i]] && i - ws < 64)
				i++;
			we = i;
			if (ctx_take(cx, text, ws, we) > 0) {
				cx->nw++;
				taken++;
			}
		}
		if (t->has_phrase) {
			/* the words before, in reading order, for multi-word context */
			for (size_t k = cx->nbefore; k-- > 0;) {
				if (cx->pl + cx->wl[k] + 2 >= sizeof(cx->phrase))
					break;
				memcpy(cx->phrase + cx->pl, cx->words[k], cx->wl[k]);
				cx->pl += cx->wl[k];
				cx->phrase[cx->pl++] = ' ';
			}
			cx->phrase[cx->pl] = '\0';
		}
	}
	if (cx->rt == t)
		return cx->res;
	cx->rt = t;
	cx->res = ctx_match(t, cx);
	return cx->res;
}

static int allowed(const struct pii_scanner *s, const char *text, size_t a, size_t b)
{
	size_t lo = 0, hi = s->n_allow;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *w = s->allow[mid];
		size_t wl = strlen(w), n = b - a < wl ? b - a : wl;
		int c = strncasecmp(text + a, w, n);
		if (c == 0)
			c = (b - a > wl) - (b - a < wl);
		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

static int cmp_start(const void *x, const void *y)
{
	const struct pii_finding *a = x, *b = y;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->end != b->end)
		return a->end > b->end ? -1 : 1;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	/* the same finding from two recognizers: keep the same one whatever
	 * order they were found in */
	return strcmp(a->recognizer ? a->recognizer : "", b->recognizer ? b->recognizer : "");
}

static int cmp_type_start(const void *x, const void *y)
{
	const struct pii_finding *a = x, *b = y;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return cmp_start(x, y);
}

/*
 * Sorting the findings by cmp_type_start (by_type) or cmp_start.  A finding
 * is 56 bytes and qsort moves it at every level; here each gets a key of two
 * words that orders as the comparison does as far as it goes (type, start,
 * end, a coarse score), ties fall back to the comparison itself, and the
 * findings move once.  By type: a stable counting sort by type first, then
 * each type's keys, which come mostly in order of start already, by a merge
 * sort that skips merging halves already in order.  The result is the one
 * order the comparisons define (they tie only on findings that are the same
 * in every field the output shows), so it is qsort's.  Spans or types too
 * large for the keys, or no memory for them, sort by qsort.
 */
#define KEY_END_MAX ((1ULL << 40) - 1)

/* A descending score in 24 bits, coarse: a lower key for a higher score, the
 * same key only for near scores (the comparison then decides). */
static uint64_t score_key(float sc)
{
	uint32_t u;
	if (!(sc > 0.0f))
		return 0xFFFFFF;
	if (sc >= 1.0f)
		return 0;
	memcpy(&u, &sc, sizeof(u));
	return (0x3F800000u - u) >> 6;  /* < 2^24: u > 0 */
}

static inline int key_cmp(const struct skey *a, const struct skey *b, const struct pii_finding *f,
			  int by_type)
{
	if (a->k1 != b->k1)
		return a->k1 < b->k1 ? -1 : 1;
	if (a->k2 != b->k2)
		return a->k2 < b->k2 ? -1 : 1;
	return by_type ? cmp_type_start(&f[a->idx], &f[b->idx]) : cmp_start(&f[a->idx], &f[b->idx]);
}

/* Stable merge sort of k[0..n) with t[0..n) to merge into. */
static void key_sort(struct skey *k, struct skey *t, size_t n, const struct pii_finding *f,
		     int by_type)
{
	size_t m, i, j, o;
	if (n <= 16) {
		for (i = 1; i < n; i++) {
			struct skey x = k[i];
			for (j = i; j > 0 && key_cmp(&k[j - 1], &x, f, by_type) > 0; j--)
				k[j] = k[j - 1];
			k[j] = x;
		}
		return;
	}
	m = n / 2;
	key_sort(k, t, m, f, by_type);
	key_sort(k + m, t + m, n - m, f, by_type);
	if (key_cmp(&k[m - 1], &k[m], f, by_type) <= 0)
		return;  /* already in order */
	for (i = 0, j = m, o = 0; i < m && j < n;)
		t[o++] = key_cmp(&k[j], &k[i], f, by_type) < 0 ? k[j++] : k[i++];
	while (i < m)
		t[o++] = k[i++];
	/* what is left of the right half is in place */
	memcpy(k, t, o * sizeof(*k));
}

static int sortbuf_reserve(struct sortbuf *b, size_t n, size_t n_types)
{
	if (n > b->alloc) {
		size_t na = b->alloc ? b->alloc : 1024;
		while (na < n)
			na *= 2;
		free(b->k);
		free(b->kt);
		free(b->f);
		b->k = malloc(na * sizeof(*b->k));
		b->kt = malloc(na * sizeof(*b->kt));
		b->f = malloc(na * sizeof(*b->f));
		b->alloc = b->k && b->kt && b->f ? na : 0;
		if (!b->alloc)
			return -1;
	}
	if (n_types + 1 > b->n_count) {
		free(b->count);
		b->count = malloc((n_types + 1) * sizeof(*b->count));
		b->n_count = b->count ? n_types + 1 : 0;
		if (!b->count)
			return -1;
	}
	return 0;
}

static void sort_findings(struct pii_finding *f, size_t n, size_t n_types, int by_type,
			  struct sortbuf *b)
{
	struct skey *k;
	int (*cmp)(const void *, const void *) = by_type ? cmp_type_start : cmp_start;
	int fits = n_types < (1u << 24);
	/* by start, the keys are made as the spans are checked: one pass */
	for (size_t i = 0; i < n && fits && by_type; i++)
		fits = f[i].end <= KEY_END_MAX && f[i].start <= KEY_END_MAX && f[i].type >= 0 &&
		       (size_t)f[i].type < n_types;
	if (n < 2 || !fits || sortbuf_reserve(b, n, n_types) < 0) {
		qsort(f, n, sizeof(*f), cmp);
		return;
	}
	if (by_type) {
		/* by type, stably, into kt; then each type by the rest */
		memset(b->count, 0, (n_types + 1) * sizeof(*b->count));
		for (size_t i = 0; i < n; i++)
			b->count[f[i].type + 1]++;
		for (size_t t = 1; t <= n_types; t++)
			b->count[t] += b->count[t - 1];
		for (size_t i = 0; i < n; i++) {
			struct skey *x = &b->kt[b->count[f[i].type]++];
			x->k1 = (uint64_t)f[i].type << 40 | f[i].start;
			x->k2 = (KEY_END_MAX - f[i].end) << 24 | score_key(f[i].score);
			x->idx = i;
		}
		/* count[t] is now the end of type t's keys */
		for (size_t t = 0, lo = 0; t < n_types; lo = b->count[t++])
			key_sort(b->kt + lo, b->k + lo, b->count[t] - lo, f, 1);
		k = b->kt;
	} else {
		for (size_t i = 0; i < n; i++) {
			if (f[i].end > KEY_END_MAX || f[i].type < 0 || (size_t)f[i].type >= n_types) {
				qsort(f, n, sizeof(*f), cmp);
				return;
			}
			b->k[i].k1 = f[i].start;
			b->k[i].k2 = (KEY_END_MAX - f[i].end) << 24 | (uint64_t)f[i].type;
			b->k[i].idx = i;
		}
		key_sort(b->k, b->kt, n, f, 0);
		k = b->k;
	}
	for (size_t i = 0; i < n; i++)
		b->f[i] = f[k[i].idx];
	memcpy(f, b->f, n * sizeof(*f));
}

/* Presidio's remove_duplicates on findings sorted by cmp_type_start: a
 * finding contained in a finding of the same type that scores at least as
 * high goes. */
static size_t dedup_sorted(struct pii_finding *f, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int drop = 0;
		for (size_t j = k; j-- > 0;) {
			if (f[j].type != f[i].type)
				break;
			if (f[j].end <= f[i].start && j + 8 < k)
				break;
			if (f[j].start <= f[i].start && f[j].end >= f[i].end && f[j].score >= f[i].score) {
				drop = 1;
				break;
			}
		}
		if (!drop)
			f[k++] = f[i];
	}
	return k;
}

/* Presidio's anonymizer, first step, on findings sorted by cmp_type_start:
 * intersecting findings of one type merged. */
static size_t merge_sorted(struct pii_finding *f, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k && f[k - 1].type == f[i].type && f[i].start < f[k - 1].end) {
			if (f[i].end > f[k - 1].end)
				f[k - 1].end = f[i].end;
			if (f[i].score > f[k - 1].score) {
				f[k - 1].score = f[i].score;
				f[k - 1].recognizer = f[i].recognizer;
			}
			continue;
		}
		f[k++] = f[i];
	}
	return k;
}

/* Its second step, on findings sorted by cmp_start: findings contained in
 * others (or equal with a lower score) go, then what still overlaps: higher
 * score, then longer span, then earlier.  The result neither overlaps nor
 * goes back. */
static size_t overlaps_sorted(struct pii_finding *f, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct pii_finding *cur = &f[i];
		if (k) {
			struct pii_finding *prev = &f[k - 1];
			if (cur->start < prev->end) {
				int cur_wins;
				if (cur->start == prev->start && cur->end == prev->end)
					cur_wins = cur->score > prev->score;
				else if (prev->start <= cur->start && prev->end >= cur->end)
					cur_wins = 0;  /* contained: goes, as in Presidio */
				else if (cur->score != prev->score)
					cur_wins = cur->score > prev->score;
				else
					cur_wins = (cur->end - cur->start) > (prev->end - prev->start);
				if (cur_wins)
					*prev = *cur;
				continue;
			}
		}
		f[k++] = *cur;
	}
	return k;
}

/* A few findings sorted by cmp (stable, as sort_findings is). */
static void small_sort(struct pii_finding *f, size_t n, int (*cmp)(const void *, const void *))
{
	for (size_t i = 1; i < n; i++) {
		struct pii_finding x = f[i];
		size_t j = i;
		for (; j > 0 && cmp(&f[j - 1], &x) > 0; j--)
			f[j] = f[j - 1];
		f[j] = x;
	}
}

/*
 * Duplicate removal, then (resolve) overlap resolution or (not) the order of
 * start, over f[0..n); returns how many are left, in f.  Nothing the steps
 * do reaches from one finding to another that it does not overlap (each
 * drops or merges findings that overlap, and a merge stays within them), so
 * the findings are sorted by start once and cut where none reaches past,
 * and each piece goes through the steps alone: most pieces in dense text
 * are one finding or a few, and the steps' sorts by type, all over memory,
 * become sorts of a few.  The result is the one the steps give over all of
 * f (the order each sort gives is the one its comparison defines, and
 * remove_duplicates' look back counts only the same type's findings, which
 * are all in the piece).
 */
static size_t dedup_and_order(struct pii_finding *f, size_t n, size_t n_types, int resolve,
			      struct sortbuf *b)
{
	size_t out = 0;
	sort_findings(f, n, n_types, 0, b);
	for (size_t i = 0, j; i < n; i = j) {
		size_t end = f[i].end, m;
		for (j = i + 1; j < n && f[j].start < end; j++)
			if (f[j].end > end)
				end = f[j].end;
		m = j - i;
		if (m > 1) {
			struct pii_finding *p = f + i;
			if (m <= 32)
				small_sort(p, m, cmp_type_start);
			else
				sort_findings(p, m, n_types, 1, b);
			m = dedup_sorted(p, m);
			if (resolve)
				m = merge_sorted(p, m);
			if (m <= 32)
				small_sort(p, m, cmp_start);
			else
				sort_findings(p, m, n_types, 0, b);
			if (resolve)
				m = overlaps_sorted(p, m);
		}
		if (out != i)
			for (size_t k = 0; k < m; k++)  /* few: no call */
				f[out + k] = f[i + k];
		out += m;
	}
	return out;
}

static int cmp_bound(const void *x, const void *y)
{
	const size_t *a = x, *b = y;
	return a[0] < b[0] ? -1 : a[0] > b[0];
}

static int is_letter_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/*
 * At an upper-case letter i: the cues that end in the word before it, past
 * any [ \t\r\n,.!:?-], and start a word (ASCII \b, as Hyperscan's triggers
 * had it) are confirmed from their start.  Every match of a cue pattern has
 * such a letter, its name's first, so no match is missed; the walk back over
 * the separators is paid once per letter.  cue_end() walks it and returns
 * where the word before ends, or 0 when that word's last two bytes end no
 * key; cue_at() then looks the word up.
 */
static inline size_t cue_end(const struct cue *c, const char *text, size_t i)
{
	size_t j = i;
	while (j > 0 && cue_sep[(unsigned char)text[j - 1]])
		j--;
	if (j == 0)
		return 0;
	if (text[j - 1] >= '0' && text[j - 1] <= '9')
		return c->num ? j : 0;
	{
		unsigned char b = j > 1 ? (unsigned char)text[j - 2] : 0, a = 0;
		unsigned p = (pii_ascii_alnum(b) ? lower[b] << 8 : 0) | lower[(unsigned char)text[j - 1]];
		if (!(c->pair[p >> 3] & (1u << (p & 7))))
			return 0;
		if (!c->tri_ok)
			return j;
		/* the word's last three bytes, 0 before its start (cue_at
		 * takes the whole run of letters and digits as the key) */
		if (!pii_ascii_alnum(b))
			b = 0;
		else if (j > 2 && pii_ascii_alnum((unsigned char)text[j - 3]))
			a = lower[(unsigned char)text[j - 3]];
		p = tri_index(a, lower[b], lower[(unsigned char)text[j - 1]]);
		return c->tri[p >> 3] & (1u << (p & 7)) ? j : 0;
	}
}

static int cue_at(const struct pii_scanner *s, struct pii_scratch *sc, const char *text,
		  size_t len, size_t j)
{
	const struct cue *c = &s->cue;
	const struct cue_key *x;
	char key[CUE_KEY_MAX + 1];
	size_t k, n;
	int digits = 1;
	for (k = j; k > 0 && pii_ascii_alnum((unsigned char)text[k - 1]); k--) {
		digits &= text[k - 1] >= '0' && text[k - 1] <= '9';
		if (!digits && j - k >= CUE_KEY_MAX)
			return 0;  /* longer than any key */
	}
	n = j - k;
	if (!n)
		return 0;
	if (digits) {
		key[0] = '#';
		n = 1;
	} else {
		for (size_t m = 0; m < n; m++)
			key[m] = (char)lower[(unsigned char)text[k + m]];
	}
	x = cue_slot(c, key, n);
	/* a key's entries come pattern by pattern: each pattern is confirmed
	 * once, from its earliest matching cue start to its latest */
	for (unsigned q = 0; q < x->n;) {
		unsigned id = c->e[x->first + q].pat;
		size_t lo = (size_t)-1, hi = 0;
		for (; q < x->n && c->e[x->first + q].pat == id; q++) {
			const struct cue_ent *ce = &c->e[x->first + q];
			size_t cs, m = 0;
			if (ce->plen > k)
				continue;
			cs = k - ce->plen;
			if (cs > 0 && pii_ascii_word((unsigned char)text[cs - 1]))
				continue;
			while (m < ce->plen && lower[(unsigned char)text[cs + m]] == (unsigned char)ce->pre[m])
				m++;
			if (m < ce->plen)
				continue;
			if (cs < lo)
				lo = cs;
			if (cs > hi)
				hi = cs;
		}
		if (lo > hi)
			continue;  /* no cue of this pattern ends here */
		sc->n_hits++;
		if (s->nohit || hi < sc->done[id])
			continue;
		if (confirm(s, sc, id, text, len, lo, hi) < 0)
			return -1;
		sc->done[id] = hi + 1;
	}
	return 0;
}

/* At byte i, which is in A-Z or a lead byte from 0xC3 up. */
static int gaz_at(const struct pii_scanner *s, struct pii_scratch *sc, const char *text,
		  size_t len, size_t i)
{
	const struct gaz *g = &s->gaz;
	unsigned char c = (unsigned char)text[i];
	size_t pos;
	uint32_t hw;
	int inword;
	inword = i && is_letter_byte((unsigned char)text[i - 1]);
	/* inside a word only a cue glued to the name can apply ("dearJohn") */
	if (inword && (!s->cue.n || !pii_ascii_alnum((unsigned char)text[i - 1])))
		return 0;
	if (c >= 0x80) {
		uint32_t cp;
		if (utf8_decode((const unsigned char *)text + i, len - i, &cp) <= 0 ||
		    utf8proc_category((utf8proc_int32_t)cp) != UTF8PROC_CATEGORY_LU)
			return 0;
	}
	if (s->cue.n) {
		/* the quick test inline, the lookup only for a word that may be a cue */
		size_t j = cue_end(&s->cue, text, i);
		if (j && cue_at(s, sc, text, len, j) < 0)
			return -1;
	}
	if (inword || !g->n || !gaz_may_start(g, text, len, i))
		return 0;
	/* each word's hash is taken as it is walked, and its values without
	 * the last one or two bytes kept for the lookups without trailing
	 * punctuation (which never reach back past the word: a blank ends
	 * the strip) */
	pos = i;
	hw = 2166136261u;  /* gaz_hash of text[i, pos) */
	for (size_t w = 0; w < g->max_words; w++) {
		size_t e = pos;
		uint32_t hk[3] = { hw, hw, hw };  /* of text[i, e - k) */
		const struct gaz_entry *whole = NULL;
		while (e < len && !gaz_blank[(unsigned char)text[e]]) {
			hk[2] = hk[1];
			hk[1] = hk[0];
			hk[0] = (hk[0] ^ (unsigned char)text[e]) * 16777619u;
			e++;
		}
		/* the word, then without trailing punctuation */
		for (size_t end = e, k = 0; end > i && k < 3; k++) {
			const struct gaz_entry *x =
				gaz_find(g, text + i, end - i,
					 end >= pos ? hk[e - end] : gaz_hash(text + i, end - i));
			if (k == 0)
				whole = x;
			if (x && x->n_pat) {
				for (unsigned p = 0; p < x->n_pat; p++) {
					unsigned id = x->pat[p];
					const struct pat *pt = &s->pats[id];
					int rc = pt->anchored
							 ? pcre2_jit_match(pt->anchored, (PCRE2_SPTR)text,
									   len, end, 0, sc->md, NULL)
							 : pcre2_match(pt->re, (PCRE2_SPTR)text, len, end,
								       PCRE2_ANCHORED | PCRE2_NO_UTF_CHECK,
								       sc->md, NULL);
					if (rc < 0)
						continue;
					if (add_cand(sc, id, pt->type, i,
						     pcre2_get_ovector_pointer(sc->md)[1],
						     pt->def.score) < 0)
						return -1;
				}
				break;
			}
			if (x)
				break;  /* a prefix of a longer entry */
			if (!gaz_punct[(unsigned char)text[end - 1]])
				break;
			end--;
		}
		if (e >= len || text[e] != ' ' || !whole)
			break;  /* no entry goes on past this word */
		pos = e + 1;
		hw = (hk[0] ^ ' ') * 16777619u;
	}
	return 0;
}

/* Looks up each capitalized word (and runs of up to max_words words) in the
 * gazetteer and confirms the patterns its entries trigger; at each upper-case
 * letter, the cues before it (cue_at).  ASCII text goes 8 bytes at a time,
 * to the bytes in A-Z. */
static int gaz_scan(const struct pii_scanner *s, struct pii_scratch *sc, const char *text,
		    size_t len)
{
	const uint64_t hi = 0x8080808080808080ULL;
	size_t i = 0;
	while (i < len) {
		unsigned char c;
		if (i + 8 <= len) {
			uint64_t w, m;
			memcpy(&w, text + i, 8);
			if (!(w & hi)) {
				/* no carry crosses a byte below 0x80: bit 7 of
				 * w + 0x3F is set from 'A' up, of w + 0x25 from '['
				 * up */
				m = (w + 0x3F3F3F3F3F3F3F3FULL) & ~(w + 0x2525252525252525ULL) & hi;
				while (m) {
					if (gaz_at(s, sc, text, len, i + ((size_t)__builtin_ctzll(m) >> 3)) < 0)
						return -1;
					m &= m - 1;
				}
				i += 8;
				continue;
			}
		}
		c = (unsigned char)text[i];
		if (((c >= 'A' && c <= 'Z') || c >= 0xC3) && gaz_at(s, sc, text, len, i) < 0)
			return -1;
		i++;
	}
	return 0;
}

static int finish(const struct pii_scanner *s, const char *text, size_t cp_base,
		  struct pii_findings *out, size_t first, struct sortbuf *b, struct moat_err *e);

/* Appends f to out (its code points are finish()'s to set); -1 out of
 * memory. */
static int add_finding(struct pii_findings *out, struct pii_finding f, struct moat_err *e)
{
	if (out->n == out->alloc) {
		size_t na = out->alloc ? out->alloc * 2 : 64;
		struct pii_finding *nv = realloc(out->v, na * sizeof(*nv));
		if (!nv)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		out->v = nv;
		out->alloc = na;
	}
	out->v[out->n++] = f;
	return 0;
}

int pii_merge(const struct pii_scanner *s, const char *text, size_t len, size_t cp_base,
	      struct pii_findings *out, size_t first, const struct pii_finding *extra, size_t n,
	      struct moat_err *e)
{
	for (size_t i = 0; i < n; i++) {
		if (extra[i].end > len || extra[i].start >= extra[i].end || extra[i].type < 0 ||
		    (size_t)extra[i].type >= s->n_types)
			continue;
		if (add_finding(out, extra[i], e) < 0)
			return -1;
	}
	{
		struct sortbuf b;
		int rc;
		memset(&b, 0, sizeof(b));
		rc = finish(s, text, cp_base, out, first, &b, e);
		sortbuf_release(&b);
		return rc;
	}
}

int pii_scan(const struct pii_scanner *s, struct pii_scratch *sc, const char *text, size_t len,
	     size_t cp_base, struct pii_findings *out, struct moat_err *e)
{
	size_t first = out->n;
	struct ctx_words cx;
	pthread_once(&tab_once, build_tabs);
	if (!utf8_is_valid(text, len))
		return err_set(e, MOAT_EPARSE, "cannot scan: the text is not valid UTF-8");
	sc->n_hits = 0;
	sc->n_c = 0;
	memset(sc->done, 0, sc->n_state * sizeof(size_t));
	memset(sc->resume, 0, sc->n_state * sizeof(size_t));
#ifdef MOAT_HAVE_HYPERSCAN
	if (s->db && len) {
		struct scan_ctx x = { s, sc, text, len, 0, 0 };
		/* Hyperscan takes at most 4 GiB per call. */
		while (x.base < len) {
			size_t part = len - x.base > 0xF0000000u ? 0xF0000000u : len - x.base;
			hs_error_t rc = hs_scan(s->db, text + x.base, (unsigned)part, 0, sc->hs, on_hit, &x);
			if (x.failed)
				return err_set(e, MOAT_ENOMEM, "out of memory");
			if (rc != HS_SUCCESS)
				return err_set(e, MOAT_EIO, "pattern scan failed (hyperscan error %d)", rc);
			x.base += part;
		}
	}
	if (s->db_shape && len) {
		struct scan_ctx x = { s, sc, text, len, 0, 0 };
		int rc = pii_shape_scan(s->db_shape, sc->hs, sc->shape, text, len, on_shape_hit, &x);
		if (x.failed || rc == -2)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		if (rc)
			return err_set(e, MOAT_EIO, "pattern scan failed (hyperscan error %d)", -rc);
	}
#endif
	for (size_t i = 0; i < s->n_pats; i++)
		if (s->pats[i].slow && len && confirm(s, sc, (unsigned)i, text, len, 0, len) < 0)
			return err_set(e, MOAT_ENOMEM, "out of memory");
	if ((s->gaz.n || s->cue.n) && gaz_scan(s, sc, text, len) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");

	cx.valid = 0;
	cx.wc = sc->wc;
	cx.gen = ++sc->gen;
	if (!cx.gen) {
		/* after 2^32 scans: nothing cached is of this one */
		memset(sc->wc, 0, WC_SIZE * sizeof(*sc->wc));
		cx.gen = sc->gen = 1;
	}
	/* room for every candidate, so the loop appends without growing */
	if (out->alloc - out->n < sc->n_c) {
		struct pii_finding *nv = realloc(out->v, (out->n + sc->n_c) * sizeof(*nv));
		if (!nv)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		out->v = nv;
		out->alloc = out->n + sc->n_c;
	}
	for (size_t i = 0; i < sc->n_c; i++) {
		struct cand *c = &sc->c[i];
		const struct pat *p = &s->pats[c->pat];
		const struct type *t = &s->types[c->type];
		size_t a = c->a, b = c->b;
		float score = c->score;
		if (p->def.flags & P_TRIM)
			while (b > a && trim_punct[(unsigned char)text[b - 1]])
				b--;
		if (b <= a)
			continue;
		if (p->def.validate) {
			int v = p->def.validate(text + a, b - a);
			if (v == PII_INVALID)
				continue;
			if (v == PII_VALID && !(p->def.flags & P_WEAKCHECK))
				score = 1.0f;
		}
		if (p->def.check && !p->def.check(text, len, &a, &b, &score))
			continue;
		if (b <= a || (s->n_allow && allowed(s, text, a, b)))
			continue;
		if (score < 1.0f && t->n_ctx && has_context(s, t, text, len, a, b, &cx)) {
			score += s->o.context_boost;
			if (score < s->o.context_floor)
				score = s->o.context_floor;
			if (score > 1.0f)
				score = 1.0f;
		}
		if (score > 1.0f)
			score = 1.0f;
		if (score < s->o.threshold || score <= 0.0f)
			continue;
		{
			struct pii_finding *f = &out->v[out->n++];
			memset(f, 0, sizeof(*f));
			f->type = c->type;
			f->start = a;
			f->end = b;
			f->score = score;
			f->recognizer = p->def.name;
		}
	}
	{
		/* names in a list continue a name: "Anna, Hannah and Derek" */
		int person = pii_type_find(s, "PERSON");
		size_t end_list = out->n;
		for (size_t i = first; person >= 0 && i < end_list && s->o.threshold <= 0.5f; i++) {
			size_t a, b, pos;
			if (out->v[i].type != person)
				continue;
			pos = out->v[i].end;
			for (int k = 0; k < 12 && pii_person_list_next(text, len, pos, &a, &b); k++) {
				if (add_finding(out, (struct pii_finding){ .type = person, .start = a,
									   .end = b, .score = 0.5f,
									   .recognizer = "list of names" },
						e) < 0)
					return -1;
				pos = b;
			}
		}
	}
	return finish(s, text, cp_base, out, first, &sc->sort, e);
}

/* Presidio's duplicate removal and overlap resolution over out[first..],
 * then code points. */
static int finish(const struct pii_scanner *s, const char *text, size_t cp_base,
		  struct pii_findings *out, size_t first, struct sortbuf *b, struct moat_err *e)
{
	size_t n = out->n - first, pos = 0, cps = cp_base;
	struct pii_finding *f = out->v + first;
	if (n == 0)
		return 0;
	n = dedup_and_order(f, n, s->n_types, s->o.resolve_overlaps, b);
	out->n = first + n;
	if (s->o.resolve_overlaps) {
		/* code points: the findings neither overlap nor go back */
		for (size_t i = 0; i < n; i++) {
			cps += utf8_count_short(text + pos, f[i].start - pos);
			f[i].cp_start = cps;
			cps += utf8_count_short(text + f[i].start, f[i].end - f[i].start);
			f[i].cp_end = cps;
			pos = f[i].end;
		}
		return (int)n;
	}
	/* code points: one walk over the text through the sorted boundaries */
	if (2 * n > b->alloc_bd) {
		free(b->bd);
		b->bd = malloc(2 * n * sizeof(*b->bd));
		b->alloc_bd = b->bd ? 2 * n : 0;
		if (!b->bd)
			return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		b->bd[2 * i].off = f[i].start;
		b->bd[2 * i].slot = 2 * i;
		b->bd[2 * i + 1].off = f[i].end;
		b->bd[2 * i + 1].slot = 2 * i + 1;
	}
	qsort(b->bd, 2 * n, sizeof(*b->bd), cmp_bound);
	for (size_t i = 0; i < 2 * n; i++) {
		cps += utf8_count_short(text + pos, b->bd[i].off - pos);
		pos = b->bd[i].off;
		if (b->bd[i].slot % 2 == 0)
			f[b->bd[i].slot / 2].cp_start = cps;
		else
			f[b->bd[i].slot / 2].cp_end = cps;
	}
	return (int)n;
}
