/*
 * cleaned.c - the clean stage's tables (see cleaned.h): documents in, cleaned
 * documents, elements, clusters and findings out.  Plain SQL that a
 * PostgreSQL backend can take as it is (no SQLite-only functions), except the
 * rowid used for ingest order.
 */
#define _GNU_SOURCE
#include "cleaned.h"
#include "store_int.h"
#include "../core/buf.h"
#include "../core/fmt.h"
#include "../core/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "../core/banned.h"

/* --- reading documents ---------------------------------------------------------- */

static void free_elements(struct clean_doc_in *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < d[i].n_el; j++)
			free(d[i].el[j].text);
		free(d[i].el);
		d[i].el = NULL;
		d[i].n_el = 0;
	}
}

void clean_store_free_docs(struct clean_doc_in *d, size_t n)
{
	if (!d)
		return;
	free_elements(d, n);
	free(d);
}

/* The one number a counting query gives, or -1 with e set. */
static int64_t count_rows(struct store *s, const char *sql, const char *what, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, sql, e);
	int64_t n = -1;
	if (!st)
		return -1;
	if (db_step(st) == DB_ROW)
		n = db_column_int64(st, 0);
	db_finalize(st);
	if (n < 0)
		return store_db_err(s, what, e);
	return n;
}

int64_t clean_store_count_docs(struct store *s, struct moat_err *e)
{
	return count_rows(s, "SELECT count(*) FROM documents", "cannot count documents", e);
}

int clean_store_load_docs(struct store *s, int64_t after, size_t max, size_t max_bytes,
			  const char *skip_params, struct clean_doc_in **out, size_t *n,
			  struct moat_err *e)
{
	struct db_stmt *st = store_prep(s,
		"SELECT d.rowid, d.id, c.params FROM documents d"
		" LEFT JOIN clean_docs c ON c.doc_id = d.id WHERE d.rowid > ? ORDER BY d.rowid LIMIT ?", e);
	struct db_stmt *el = NULL;
	struct clean_doc_in *v;
	size_t k = 0, bytes = 0;
	int rc = DB_DONE;
	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	v = calloc(max ? max : 1, sizeof(*v));
	if (!v) {
		db_finalize(st);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	db_bind_int64(st, 1, after);
	db_bind_int64(st, 2, (int64_t)max);
	while (k < max && (rc = db_step(st)) == DB_ROW) {
		struct clean_doc_in *d = &v[k++];
		d->rowid = db_column_int64(st, 0);
		store_col_copy(d->id, sizeof(d->id), st, 1);
		store_col_copy(d->params, sizeof(d->params), st, 2);
	}
	db_finalize(st);
	if (k < max && rc != DB_DONE) {
		clean_store_free_docs(v, k);
		return store_db_err(s, "cannot read documents", e);
	}
	el = store_prep(s, "SELECT seq, type, start_cp, end_cp, text FROM elements WHERE doc_id = ? ORDER BY seq",
		  e);
	if (!el) {
		clean_store_free_docs(v, k);
		return -1;
	}
	for (size_t i = 0; i < k; i++) {
		size_t cap = 0, doc_bytes = 0;
		if (skip_params && !strcmp(v[i].params, skip_params))
			continue;
		db_reset(el);
		db_bind_text(el, 1, v[i].id, -1, DB_COPY);
		while ((rc = db_step(el)) == DB_ROW) {
			struct clean_el_in *x;
			if (v[i].n_el == cap) {
				size_t nc = cap ? cap * 2 : 16;
				struct clean_el_in *ne = realloc(v[i].el, nc * sizeof(*ne));
				if (!ne) {
					db_finalize(el);
					clean_store_free_docs(v, k);
					return err_set(e, MOAT_ENOMEM, "out of memory");
				}
				v[i].el = ne;
				cap = nc;
			}
			x = &v[i].el[v[i].n_el++];
			x->seq = db_column_int(el, 0);
			store_col_copy(x->type, sizeof(x->type), el, 1);
			x->start = (size_t)db_column_int64(el, 2);
			x->end = (size_t)db_column_int64(el, 3);
			x->text = store_col_dup(el, 4, &x->len);
			doc_bytes += x->len;
			if (!x->text) {
				db_finalize(el);
				clean_store_free_docs(v, k);
				return err_set(e, MOAT_ENOMEM, "out of memory");
			}
		}
		if (rc != DB_DONE) {
			store_db_err(s, "cannot read elements", e);
			db_finalize(el);
			clean_store_free_docs(v, k);
			return -1;
		}
		if (i && bytes + doc_bytes > max_bytes) {
			/* it starts the next batch: read again then */
			free_elements(v + i, k - i);
			k = i;
			break;
		}
		bytes += doc_bytes;
	}
	db_finalize(el);
	*out = v;
	*n = k;
	return 0;
}

/* --- writing ----------------------------------------------------------------- */

int clean_store_put(struct store *s, struct clean_doc_out *o, struct moat_err *e)
{
	char now[STORE_TIME_MAX];
	struct db_stmt *st;
	store_utc_now(now, 0);
	st = store_prep(s,
		"INSERT INTO clean_docs(doc_id, params, run_id, status, reason, lang, lang_score,"
		" norm_sha256, norm_text, text, text_length, n_elements, minhash, stats, updated_at)"
		" VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)"
		" ON CONFLICT(doc_id) DO UPDATE SET params=?2, run_id=?3, status=?4, reason=?5, lang=?6,"
		" lang_score=?7, norm_sha256=?8, norm_text=?9, text=?10, text_length=?11, n_elements=?12,"
		" minhash=?13, stats=?14, updated_at=?15", e);
	if (!st)
		return -1;
	db_bind_text(st, 1, o->doc_id, -1, DB_STATIC);
	db_bind_text(st, 2, o->params, -1, DB_STATIC);
	db_bind_int64(st, 3, o->run_id);
	db_bind_text(st, 4, o->status, -1, DB_STATIC);
	if (o->reason)
		db_bind_text(st, 5, o->reason, -1, DB_STATIC);
	db_bind_text(st, 6, o->lang ? o->lang : "und", -1, DB_STATIC);
	db_bind_double(st, 7, o->lang_score);
	db_bind_text(st, 8, o->norm_sha256, -1, DB_STATIC);
	db_bind_text(st, 9, o->norm_text, (int)o->norm_len, DB_STATIC);
	db_bind_text(st, 10, o->text, (int)o->text_len, DB_STATIC);
	db_bind_int64(st, 11, (int64_t)o->text_cps);
	db_bind_int64(st, 12, (int64_t)o->n_el);
	if (o->minhash)
		db_bind_blob(st, 13, o->minhash, (int)(o->n_minhash * sizeof(uint32_t)), DB_STATIC);
	if (o->stats)
		db_bind_text(st, 14, o->stats, -1, DB_STATIC);
	db_bind_text(st, 15, now, -1, DB_STATIC);
	if (store_step(s, st, "cannot store a cleaned document", e) < 0)
		return -1;

	st = store_prep(s, "DELETE FROM clean_elements WHERE doc_id = ?", e);
	if (!st)
		return -1;
	db_bind_text(st, 1, o->doc_id, -1, DB_STATIC);
	if (store_step(s, st, "cannot store a cleaned document", e) < 0)
		return -1;
	st = store_prep(s, "INSERT INTO clean_elements(doc_id, seq, type, norm_start, norm_end, start_cp, end_cp,"
		     " lang, lang_score, status, reason, norm_sha256, offset_map)"
		     " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)", e);
	if (!st)
		return -1;
	for (size_t i = 0; i < o->n_el; i++) {
		const struct clean_el_out *x = &o->el[i];
		db_reset(st);
		db_clear_bindings(st);
		db_bind_text(st, 1, o->doc_id, -1, DB_STATIC);
		db_bind_int(st, 2, x->seq);
		db_bind_text(st, 3, x->type, -1, DB_STATIC);
		db_bind_int64(st, 4, (int64_t)x->norm_start);
		db_bind_int64(st, 5, (int64_t)x->norm_end);
		db_bind_int64(st, 6, (int64_t)x->start);
		db_bind_int64(st, 7, (int64_t)x->end);
		db_bind_text(st, 8, x->lang ? x->lang : "und", -1, DB_STATIC);
		db_bind_double(st, 9, x->lang_score);
		db_bind_text(st, 10, x->status, -1, DB_STATIC);
		if (x->reason)
			db_bind_text(st, 11, x->reason, -1, DB_STATIC);
		if (x->norm_sha256)
			db_bind_text(st, 12, x->norm_sha256, -1, DB_STATIC);
		if (x->offset_map)
			db_bind_text(st, 13, x->offset_map, -1, DB_STATIC);
		if (db_step(st) != DB_DONE) {
			db_finalize(st);
			return store_db_err(s, "cannot store an element", e);
		}
	}
	db_finalize(st);

	st = store_prep(s, "UPDATE pii_findings SET current = 0 WHERE doc_id = ? AND current = 1", e);
	if (!st)
		return -1;
	db_bind_text(st, 1, o->doc_id, -1, DB_STATIC);
	if (store_step(s, st, "cannot store findings", e) < 0)
		return -1;
	st = store_prep(s, "INSERT INTO pii_findings(run_id, doc_id, seq, type, start_cp, end_cp, orig_start,"
		     " orig_end, score, recognizer, operator, value_digest, replacement)"
		     " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)", e);
	if (!st)
		return -1;
	for (size_t i = 0; i < o->n_f; i++) {
		struct clean_finding_out *f = &o->f[i];
		db_reset(st);
		db_clear_bindings(st);
		db_bind_int64(st, 1, o->run_id);
		db_bind_text(st, 2, o->doc_id, -1, DB_STATIC);
		db_bind_int(st, 3, f->seq);
		db_bind_text(st, 4, f->type, -1, DB_STATIC);
		db_bind_int64(st, 5, (int64_t)f->start);
		db_bind_int64(st, 6, (int64_t)f->end);
		db_bind_int64(st, 7, (int64_t)f->orig_start);
		db_bind_int64(st, 8, (int64_t)f->orig_end);
		db_bind_double(st, 9, f->score);
		db_bind_text(st, 10, f->recognizer, -1, DB_STATIC);
		db_bind_text(st, 11, f->op, -1, DB_STATIC);
		db_bind_text(st, 12, f->digest, -1, DB_STATIC);
		if (f->replacement)
			db_bind_text(st, 13, f->replacement, -1, DB_STATIC);
		if (db_step(st) != DB_DONE) {
			db_finalize(st);
			return store_db_err(s, "cannot store a finding", e);
		}
		f->id = db_last_insert_id(store_db(s));
	}
	db_finalize(st);
	return 0;
}

/* --- duplicates ----------------------------------------------------------------- */

int clean_store_load_sigs(struct store *s, int perms, struct clean_sig **out, size_t *n,
			  uint32_t **blockp, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s,
		"SELECT c.doc_id, c.norm_sha256, c.status, c.minhash FROM documents d"
		" JOIN clean_docs c ON c.doc_id = d.id ORDER BY d.rowid", e);
	size_t cap = 1024, k = 0;
	struct clean_sig *v;
	uint32_t *block;
	int rc = DB_DONE;
	*out = NULL;
	*n = 0;
	*blockp = NULL;
	if (!st)
		return -1;
	v = calloc(cap, sizeof(*v));
	block = malloc(cap * (size_t)perms * sizeof(uint32_t));
	if (!v || !block)
		goto nomem;
	while ((rc = db_step(st)) == DB_ROW) {
		const void *blob = db_column_blob(st, 3);
		int bl = db_column_bytes(st, 3);
		if (k == cap) {
			struct clean_sig *nv = realloc(v, cap * 2 * sizeof(*nv));
			uint32_t *nb;
			if (!nv)
				goto nomem;
			v = nv;
			nb = realloc(block, cap * 2 * (size_t)perms * sizeof(uint32_t));
			if (!nb)
				goto nomem;
			block = nb;
			cap *= 2;
		}
		memset(&v[k], 0, sizeof(v[k]));
		store_col_copy(v[k].doc_id, sizeof(v[k].doc_id), st, 0);
		store_col_copy(v[k].sha, sizeof(v[k].sha), st, 1);
		v[k].dropped = !strcmp((const char *)db_column_text(st, 2), "dropped");
		if (blob && bl == perms * (int)sizeof(uint32_t))
			memcpy(block + k * (size_t)perms, blob, (size_t)bl);
		else
			memset(block + k * (size_t)perms, 0xFF, (size_t)perms * sizeof(uint32_t));
		k++;
	}
	db_finalize(st);
	if (rc != DB_DONE) {
		free(block);
		free(v);
		return store_db_err(s, "cannot read cleaned documents", e);
	}
	for (size_t i = 0; i < k; i++)
		v[i].sig = block + i * (size_t)perms;
	*out = v;
	*n = k;
	*blockp = block;
	return 0;
nomem:
	db_finalize(st);
	free(block);
	free(v);
	return err_set(e, MOAT_ENOMEM, "out of memory");
}

int clean_store_set_status(struct store *s, const char *doc_id, const char *status,
			   const char *reason, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "UPDATE clean_docs SET status = ?2, reason = ?3 WHERE doc_id = ?1"
				   " AND (status <> ?2 OR coalesce(reason, '') <> coalesce(?3, ''))", e);
	if (!st)
		return -1;
	db_bind_text(st, 1, doc_id, -1, DB_STATIC);
	db_bind_text(st, 2, status, -1, DB_STATIC);
	if (reason)
		db_bind_text(st, 3, reason, -1, DB_STATIC);
	if (store_step(s, st, "cannot set a status", e) < 0)
		return -1;
	return db_changes(store_db(s)) > 0;
}

int clean_store_set_el_status(struct store *s, const char *doc_id, int seq, const char *status,
			      const char *reason, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "UPDATE clean_elements SET status = ?3, reason = ?4 WHERE doc_id = ?1"
				   " AND seq = ?2 AND (status <> ?3 OR coalesce(reason, '') <> coalesce(?4, ''))",
				e);
	if (!st)
		return -1;
	db_bind_text(st, 1, doc_id, -1, DB_STATIC);
	db_bind_int(st, 2, seq);
	db_bind_text(st, 3, status, -1, DB_STATIC);
	if (reason)
		db_bind_text(st, 4, reason, -1, DB_STATIC);
	if (store_step(s, st, "cannot set a status", e) < 0)
		return -1;
	return db_changes(store_db(s)) > 0;
}

/* Moves *at (a byte of t) and *cp (its code point) forward to code point
 * target; returns the byte. */
static size_t forward(const unsigned char *t, size_t tl, size_t *at, size_t *cp, size_t target)
{
	while (*cp < target && *at < tl) {
		(*at)++;
		while (*at < tl && (t[*at] & 0xC0) == 0x80)
			(*at)++;
		(*cp)++;
	}
	return *at;
}

int clean_store_each_el(struct store *s, clean_el_fn fn, void *ctx, struct moat_err *e)
{
	/* each document's text is read once, and its elements found in it in
	 * one pass (they come in order) */
	struct db_stmt *docs = store_prep(s,
		"SELECT c.doc_id, c.norm_text FROM documents d JOIN clean_docs c ON c.doc_id = d.id"
		" WHERE c.status = 'kept' ORDER BY d.rowid", e);
	struct db_stmt *els = NULL;
	int rc = DB_DONE, frc = 0;
	if (!docs)
		return -1;
	els = store_prep(s, "SELECT seq, norm_start, norm_end, status, norm_sha256 FROM clean_elements"
			 " WHERE doc_id = ? ORDER BY seq", e);
	if (!els) {
		db_finalize(docs);
		return -1;
	}
	while (frc == 0 && (rc = db_step(docs)) == DB_ROW) {
		const unsigned char *t = (const unsigned char *)db_column_text(docs, 1);
		size_t tl = (size_t)db_column_bytes(docs, 1), at = 0, cp = 0;
		struct clean_el_text x;
		memset(&x, 0, sizeof(x));
		store_col_copy(x.doc_id, sizeof(x.doc_id), docs, 0);
		if (!t)
			t = (const unsigned char *)"";
		db_reset(els);
		db_bind_text(els, 1, x.doc_id, -1, DB_COPY);
		while (frc == 0 && (rc = db_step(els)) == DB_ROW) {
			size_t a = (size_t)db_column_int64(els, 1), b = (size_t)db_column_int64(els, 2);
			size_t ba, bb;
			/* code points to bytes, going forward */
			if (a < cp) {
				at = 0;
				cp = 0;
			}
			ba = forward(t, tl, &at, &cp, a);
			bb = forward(t, tl, &at, &cp, b);
			x.seq = db_column_int(els, 0);
			store_col_copy(x.status, sizeof(x.status), els, 3);
			store_col_copy(x.sha, sizeof(x.sha), els, 4);
			frc = fn(ctx, &x, (const char *)t + ba, bb - ba, e);
		}
		if (frc == 0 && rc != DB_DONE)
			break;
		rc = DB_DONE;
	}
	db_finalize(els);
	db_finalize(docs);
	if (frc < 0)
		return -1;
	if (rc != DB_DONE)
		return store_db_err(s, "cannot read cleaned elements", e);
	return 0;
}

int64_t clean_store_count_els(struct store *s, struct moat_err *e)
{
	return count_rows(s, "SELECT count(*) FROM clean_docs c JOIN clean_elements x ON"
			  " x.doc_id = c.doc_id WHERE c.status = 'kept'", "cannot count cleaned elements", e);
}

/* clean_meta[key]: 1 when there (*len its size, its first cap bytes in out),
 * 0 when not, -1 with e set when the database failed. */
static int meta_get(struct store *s, const char *key, void *out, size_t cap, size_t *len,
		    struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "SELECT value FROM clean_meta WHERE key = ?", e);
	int rc;
	*len = 0;
	if (!st)
		return -1;
	db_bind_text(st, 1, key, -1, DB_STATIC);
	rc = db_step(st);
	if (rc == DB_ROW) {
		const void *b = db_column_blob(st, 0);
		*len = (size_t)db_column_bytes(st, 0);
		if (b)
			memcpy(out, b, *len < cap ? *len : cap);
	}
	db_finalize(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return store_db_err(s, "cannot read the workspace", e);
	return rc == DB_ROW;
}

/* "prefix:name" into key[cap]; -1 with e set when it does not fit. */
static int meta_key(char *key, size_t cap, const char *prefix, const char *name,
		    struct moat_err *e)
{
	if (xsnprintf(key, cap, "%s:%s", prefix, name) < 0)
		return err_set(e, MOAT_ELIMIT, "%s name '%s' is too long", prefix, name);
	return 0;
}

static int meta_set(struct store *s, const char *key, const void *v, size_t n, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "INSERT INTO clean_meta(key, value) VALUES(?1, ?2)"
				   " ON CONFLICT(key) DO UPDATE SET value = ?2", e);
	if (!st)
		return -1;
	db_bind_text(st, 1, key, -1, DB_STATIC);
	db_bind_blob(st, 2, v, (int)n, DB_STATIC);
	return store_step(s, st, "cannot write the workspace", e);
}

int clean_store_replace_clusters(struct store *s, int64_t run_id, const char *level,
				 const struct clean_cluster *c, size_t n, struct moat_err *e)
{
	struct sha256 h;
	unsigned char d[SHA256_LEN];
	char hex[SHA256_HEX], old[SHA256_HEX], key[64];
	size_t old_len;
	int found;
	struct db_stmt *st;
	if (meta_key(key, sizeof(key), "clusters", level, e) < 0)
		return -1;
	if (sha256_init(&h) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		sha256_update(&h, c[i].method, strlen(c[i].method) + 1);
		sha256_update(&h, c[i].kept, strlen(c[i].kept) + 1);
		for (size_t j = 0; j < c[i].n; j++)
			sha256_update(&h, c[i].members[j], strlen(c[i].members[j]) + 1);
	}
	sha256_final(&h, d);
	hex_encode(d, SHA256_LEN, hex);
	found = meta_get(s, key, old, sizeof(old), &old_len, e);
	if (found < 0)
		return -1;
	if (found && old_len == SHA256_HEX - 1 && !memcmp(old, hex, SHA256_HEX - 1))
		return 0;
	st = store_prep(s, "UPDATE clean_clusters SET current = 0 WHERE level = ? AND current = 1", e);
	if (!st)
		return -1;
	db_bind_text(st, 1, level, -1, DB_STATIC);
	if (store_step(s, st, "cannot write clusters", e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int64_t id;
		st = store_prep(s, "INSERT INTO clean_clusters(run_id, level, method, kept, reason, size)"
			     " VALUES(?,?,?,?,?,?)", e);
		if (!st)
			return -1;
		db_bind_int64(st, 1, run_id);
		db_bind_text(st, 2, level, -1, DB_STATIC);
		db_bind_text(st, 3, c[i].method, -1, DB_STATIC);
		db_bind_text(st, 4, c[i].kept, -1, DB_STATIC);
		db_bind_text(st, 5, c[i].reason, -1, DB_STATIC);
		db_bind_int64(st, 6, (int64_t)c[i].n);
		if (store_step(s, st, "cannot write clusters", e) < 0)
			return -1;
		id = db_last_insert_id(store_db(s));
		st = store_prep(s, "INSERT INTO clean_cluster_members(cluster_id, member, similarity, kept)"
			     " VALUES(?,?,?,?) ON CONFLICT DO NOTHING", e);
		if (!st)
			return -1;
		for (size_t j = 0; j < c[i].n; j++) {
			db_reset(st);
			db_bind_int64(st, 1, id);
			db_bind_text(st, 2, c[i].members[j], -1, DB_STATIC);
			db_bind_double(st, 3, c[i].sim ? c[i].sim[j] : 1.0);
			db_bind_int(st, 4, !strcmp(c[i].members[j], c[i].kept));
			if (db_step(st) != DB_DONE) {
				db_finalize(st);
				return store_db_err(s, "cannot write clusters", e);
			}
		}
		db_finalize(st);
	}
	if (meta_set(s, key, hex, strlen(hex), e) < 0)
		return -1;
	return 1;
}

int clean_store_secret(struct store *s, const char *name, unsigned char out[32], struct moat_err *e)
{
	char key[80];
	size_t len;
	int found;
	if (meta_key(key, sizeof(key), "secret", name, e) < 0)
		return -1;
	found = meta_get(s, key, out, 32, &len, e);
	if (found < 0)
		return -1;
	if (found && len == 32)
		return 0;
	if (RAND_bytes(out, 32) != 1)
		return err_set(e, MOAT_EIO, "cannot get random bytes for the workspace secret");
	{	/* never replaced: shards of one clean, started together on a
		 * PostgreSQL store, each find none; the first one's is kept and
		 * the others read it (after it commits) */
		struct db_stmt *st = store_prep(s, "INSERT INTO clean_meta(key, value) VALUES(?1, ?2)"
					   " ON CONFLICT(key) DO NOTHING", e);
		if (!st)
			return -1;
		db_bind_text(st, 1, key, -1, DB_STATIC);
		db_bind_blob(st, 2, out, 32, DB_STATIC);
		if (store_step(s, st, "cannot write the workspace", e) < 0)
			return -1;
	}
	found = meta_get(s, key, out, 32, &len, e);
	if (found < 0)
		return -1;
	if (!found || len != 32)
		return err_set(e, MOAT_ECORRUPT, "the workspace secret '%s' cannot be read back", name);
	return 0;
}

/* --- findings and review -------------------------------------------------------- */

/* "prefix%": a LIKE pattern for ids starting with prefix (malloc'd); NULL
 * with e set when out of memory. */
static char *prefix_pattern(const char *prefix, struct moat_err *e)
{
	char *pat;
	if (asprintf(&pat, "%s%%", prefix) < 0) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	return pat;
}

json_t *clean_store_findings(struct store *s, const char *type, const char *status,
			     const char *doc, long limit, struct moat_err *e)
{
	struct buf sql = BUF_INIT;
	json_t *arr = json_array();
	struct db_stmt *st;
	char *pat = NULL;
	int k = 1, rc = DB_DONE, nomem = !arr;
	buf_adds(&sql, "SELECT id, doc_id, seq, type, start_cp, end_cp, orig_start, orig_end, score,"
		       " recognizer, operator, value_digest, review FROM pii_findings WHERE current = 1");
	if (type)
		buf_adds(&sql, " AND type = ?");
	if (status)
		buf_adds(&sql, " AND review = ?");
	if (doc)
		buf_adds(&sql, " AND doc_id LIKE ?");
	buf_adds(&sql, " ORDER BY id");
	if (limit > 0)
		buf_adds(&sql, " LIMIT ?");
	if (buf_failed(&sql) || nomem || (doc && !(pat = prefix_pattern(doc, e)))) {
		buf_release(&sql);
		json_decref(arr);
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	st = store_prep(s, sql.data, e);
	buf_release(&sql);
	if (!st) {
		free(pat);
		json_decref(arr);
		return NULL;
	}
	if (type)
		db_bind_text(st, k++, type, -1, DB_COPY);
	if (status)
		db_bind_text(st, k++, status, -1, DB_COPY);
	if (doc)
		db_bind_text(st, k++, pat, -1, DB_TAKE);
	if (limit > 0)
		db_bind_int64(st, k++, limit);
	while (!nomem && (rc = db_step(st)) == DB_ROW) {
		nomem = json_array_append_new(arr, json_pack("{s:I, s:s, s:i, s:s, s:I, s:I, s:I, s:I, s:f,"
							     " s:s, s:s, s:s, s:s}",
			"id", (json_int_t)db_column_int64(st, 0),
			"doc", (const char *)db_column_text(st, 1),
			"element", db_column_int(st, 2),
			"type", (const char *)db_column_text(st, 3),
			"start", (json_int_t)db_column_int64(st, 4),
			"end", (json_int_t)db_column_int64(st, 5),
			"orig_start", (json_int_t)db_column_int64(st, 6),
			"orig_end", (json_int_t)db_column_int64(st, 7),
			"score", db_column_double(st, 8),
			"recognizer", (const char *)db_column_text(st, 9),
			"operator", (const char *)db_column_text(st, 10),
			"digest", (const char *)db_column_text(st, 11),
			"status", (const char *)db_column_text(st, 12))) != 0;
	}
	db_finalize(st);
	if (store_rows_end(s, rc, nomem, "cannot read findings", e) < 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

int clean_store_set_review(struct store *s, int64_t id, const char *decision, char doc[65],
			   struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "SELECT doc_id FROM pii_findings WHERE id = ? AND current = 1", e);
	if (!st)
		return -1;
	db_bind_int64(st, 1, id);
	if (db_step(st) != DB_ROW) {
		db_finalize(st);
		return err_set(e, MOAT_ENOTFOUND, "no current finding %lld", (long long)id);
	}
	store_col_copy(doc, 65, st, 0);
	db_finalize(st);
	st = store_prep(s, "UPDATE pii_findings SET review = ? WHERE id = ?", e);
	if (!st)
		return -1;
	db_bind_text(st, 1, decision, -1, DB_STATIC);
	db_bind_int64(st, 2, id);
	return store_step(s, st, "cannot record a review", e);
}

void clean_store_render_free(struct clean_render_in *in)
{
	free(in->norm_text);
	for (size_t i = 0; i < in->n_r; i++)
		free(in->r[i].replacement);
	free(in->r);
	free(in->el);
	memset(in, 0, sizeof(*in));
}

int clean_store_render_input(struct store *s, const char *doc_id, struct clean_render_in *in,
			     struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "SELECT norm_text FROM clean_docs WHERE doc_id = ?", e);
	size_t cap = 0;
	int rc;
	memset(in, 0, sizeof(*in));
	if (!st)
		return -1;
	db_bind_text(st, 1, doc_id, -1, DB_STATIC);
	if (db_step(st) != DB_ROW) {
		db_finalize(st);
		return err_set(e, MOAT_ENOTFOUND, "document '%s' has not been cleaned", doc_id);
	}
	in->norm_text = store_col_dup(st, 0, &in->norm_len);
	db_finalize(st);
	if (!in->norm_text)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	st = store_prep(s, "SELECT start_cp, end_cp, replacement FROM pii_findings WHERE doc_id = ? AND"
		     " current = 1 AND review <> 'rejected' ORDER BY start_cp", e);
	if (!st)
		return -1;
	db_bind_text(st, 1, doc_id, -1, DB_STATIC);
	while ((rc = db_step(st)) == DB_ROW) {
		struct clean_repl *r;
		if (in->n_r == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct clean_repl *nr = realloc(in->r, nc * sizeof(*nr));
			if (!nr) {
				db_finalize(st);
				return err_set(e, MOAT_ENOMEM, "out of memory");
			}
			in->r = nr;
			cap = nc;
		}
		r = &in->r[in->n_r++];
		r->start = (size_t)db_column_int64(st, 0);
		r->end = (size_t)db_column_int64(st, 1);
		r->replacement = NULL;  /* keep */
		if (!db_column_is_null(st, 2) &&
		    !(r->replacement = store_col_dup(st, 2, NULL))) {
			/* never "keep" a value because its replacement could not be read */
			db_finalize(st);
			return err_set(e, MOAT_ENOMEM, "out of memory");
		}
	}
	db_finalize(st);
	if (rc != DB_DONE)
		return store_db_err(s, "cannot read findings", e);
	st = store_prep(s, "SELECT seq, norm_start, norm_end FROM clean_elements WHERE doc_id = ? ORDER BY seq", e);
	if (!st)
		return -1;
	db_bind_text(st, 1, doc_id, -1, DB_STATIC);
	cap = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		if (in->n_el == cap) {
			size_t nc = cap ? cap * 2 : 16;
			void *ne = realloc(in->el, nc * sizeof(*in->el));
			if (!ne) {
				db_finalize(st);
				return err_set(e, MOAT_ENOMEM, "out of memory");
			}
			in->el = ne;
			cap = nc;
		}
		in->el[in->n_el].seq = db_column_int(st, 0);
		in->el[in->n_el].norm_start = (size_t)db_column_int64(st, 1);
		in->el[in->n_el].norm_end = (size_t)db_column_int64(st, 2);
		in->n_el++;
	}
	db_finalize(st);
	if (rc != DB_DONE)
		return store_db_err(s, "cannot read cleaned elements", e);
	return 0;
}

int clean_store_update_text(struct store *s, const char *doc_id, const char *text, size_t len,
			    size_t cps, const size_t *el_start, const size_t *el_end,
			    const int *el_seq, size_t n_el, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, "UPDATE clean_docs SET text = ?, text_length = ? WHERE doc_id = ?", e);
	if (!st)
		return -1;
	db_bind_text(st, 1, text, (int)len, DB_STATIC);
	db_bind_int64(st, 2, (int64_t)cps);
	db_bind_text(st, 3, doc_id, -1, DB_STATIC);
	if (store_step(s, st, "cannot update a cleaned text", e) < 0)
		return -1;
	st = store_prep(s, "UPDATE clean_elements SET start_cp = ?, end_cp = ? WHERE doc_id = ? AND seq = ?", e);
	if (!st)
		return -1;
	for (size_t i = 0; i < n_el; i++) {
		db_reset(st);
		db_bind_int64(st, 1, (int64_t)el_start[i]);
		db_bind_int64(st, 2, (int64_t)el_end[i]);
		db_bind_text(st, 3, doc_id, -1, DB_STATIC);
		db_bind_int(st, 4, el_seq[i]);
		if (db_step(st) != DB_DONE) {
			db_finalize(st);
			return store_db_err(s, "cannot update an element", e);
		}
	}
	db_finalize(st);
	return 0;
}

static json_t *group_counts(struct store *s, const char *sql, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, sql, e);
	json_t *o = json_object();
	int rc = DB_DONE, nomem = !o;
	if (!st) {
		json_decref(o);
		return NULL;
	}
	while (!nomem && (rc = db_step(st)) == DB_ROW)
		nomem = json_object_set_new(o, (const char *)db_column_text(st, 0),
					    json_integer(db_column_int64(st, 1))) != 0;
	db_finalize(st);
	if (store_rows_end(s, rc, nomem, "cannot count cleaned rows", e) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *clean_store_summary(struct store *s, struct moat_err *e)
{
	json_t *docs = group_counts(s, "SELECT status, count(*) FROM clean_docs GROUP BY status ORDER BY status", e);
	json_t *els = docs ? group_counts(s, "SELECT status, count(*) FROM clean_elements GROUP BY status"
					     " ORDER BY status", e) : NULL;
	json_t *types = els ? group_counts(s, "SELECT type, count(*) FROM pii_findings WHERE current = 1"
					      " GROUP BY type ORDER BY type", e) : NULL;
	json_t *clusters = types ? group_counts(s, "SELECT level || ':' || method, count(*) FROM"
						   " clean_clusters WHERE current = 1 GROUP BY level, method"
						   " ORDER BY 1", e) : NULL;
	json_t *langs = clusters ? group_counts(s, "SELECT lang, count(*) FROM clean_docs GROUP BY lang"
						   " ORDER BY lang", e) : NULL;
	json_t *sum;
	if (!langs) {
		json_decref(docs);
		json_decref(els);
		json_decref(types);
		json_decref(clusters);
		return NULL;
	}
	/* "o" hands each object over, also when the pack fails */
	sum = json_pack("{s:o, s:o, s:o, s:o, s:o}", "documents", docs, "elements", els, "findings",
			types, "clusters", clusters, "languages", langs);
	if (!sum)
		err_set(e, MOAT_ENOMEM, "out of memory");
	return sum;
}

json_t *clean_store_show(struct store *s, const char *ref, struct moat_err *e)
{
	struct db_stmt *st = store_prep(s,
		"SELECT doc_id, status, reason, lang, lang_score, text, norm_text, text_length FROM clean_docs"
		" WHERE doc_id LIKE ? ORDER BY doc_id LIMIT 2", e);
	json_t *doc, *els, *findings;
	char *pat, id[65];
	int rc = DB_DONE, nomem;
	if (!st)
		return NULL;
	if (!(pat = prefix_pattern(ref, e))) {
		db_finalize(st);
		return NULL;
	}
	db_bind_text(st, 1, pat, -1, DB_TAKE);
	if (db_step(st) != DB_ROW) {
		db_finalize(st);
		err_set(e, MOAT_ENOTFOUND, "no cleaned document '%s' (run 'moat clean')", ref);
		return NULL;
	}
	store_col_copy(id, sizeof(id), st, 0);
	doc = json_pack("{s:s, s:s, s:s?, s:s, s:f, s:s, s:s, s:I}", "id", id,
			"status", (const char *)db_column_text(st, 1),
			"reason", (const char *)db_column_text(st, 2),
			"lang", (const char *)db_column_text(st, 3), "lang_score",
			db_column_double(st, 4), "text", (const char *)db_column_text(st, 5),
			"normalized", (const char *)db_column_text(st, 6), "text_length",
			(json_int_t)db_column_int64(st, 7));
	if (db_step(st) == DB_ROW) {
		db_finalize(st);
		json_decref(doc);
		err_set(e, MOAT_EUSAGE, "'%s' matches several documents; give more digits", ref);
		return NULL;
	}
	db_finalize(st);
	els = json_array();
	nomem = !doc || !els;
	st = store_prep(s, "SELECT seq, type, start_cp, end_cp, norm_start, norm_end, status, reason, lang,"
		     " offset_map FROM clean_elements WHERE doc_id = ? ORDER BY seq", e);
	if (!st) {
		json_decref(doc);
		json_decref(els);
		return NULL;
	}
	db_bind_text(st, 1, id, -1, DB_COPY);
	while (!nomem && (rc = db_step(st)) == DB_ROW) {
		const char *map = (const char *)db_column_text(st, 9);
		int oom;
		json_t *m = store_json_loads(map ? map : "[]", &oom);
		if (!m && !oom)
			m = json_array();  /* a map that does not parse shows as none */
		nomem = !m || json_array_append_new(els, json_pack("{s:i, s:s, s:I, s:I, s:I, s:I, s:s,"
								   " s:s?, s:s, s:o}",
			"seq", db_column_int(st, 0), "type", (const char *)db_column_text(st, 1),
			"start", (json_int_t)db_column_int64(st, 2),
			"end", (json_int_t)db_column_int64(st, 3),
			"norm_start", (json_int_t)db_column_int64(st, 4),
			"norm_end", (json_int_t)db_column_int64(st, 5),
			"status", (const char *)db_column_text(st, 6),
			"reason", (const char *)db_column_text(st, 7),
			"lang", (const char *)db_column_text(st, 8),
			"offset_map", m)) != 0;
	}
	db_finalize(st);
	if (store_rows_end(s, rc, nomem, "cannot read cleaned elements", e) < 0) {
		json_decref(doc);
		json_decref(els);
		return NULL;
	}
	if (json_object_set_new(doc, "elements", els)) {
		json_decref(doc);
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	findings = clean_store_findings(s, NULL, NULL, id, 0, e);
	if (!findings) {
		json_decref(doc);
		return NULL;
	}
	if (json_object_set_new(doc, "findings", findings)) {
		json_decref(doc);
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	return doc;
}
