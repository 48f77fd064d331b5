/*
 * audit.c - appending to and verifying the hash-chained audit trail.
 * The record layout and the checks are described in audit.h.
 *
 * Not for: deciding what a command records (cmd/common.c builds the entry).
 */
#define _GNU_SOURCE
#include "audit.h"
#include "store_int.h"
#include "../core/buf.h"
#include "../core/fmt.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "version.h"

#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "../core/banned.h"

static const char GENESIS[] =
	"0000000000000000000000000000000000000000000000000000000000000000";

/* The user's name, or uid:N when it has none, and the host's name: read
 * once per process (getpwuid reads /etc/passwd; a server appends a record
 * per request).  A name longer than its buffer is cut (the record still
 * says who, as far as it goes). */
static char os_user_name[256], os_host_name[256];
static pthread_once_t os_names_once = PTHREAD_ONCE_INIT;

static void os_names(void)
{
	struct passwd pw, *res = NULL;
	char tmp[4096];
	if (getpwuid_r(geteuid(), &pw, tmp, sizeof(tmp), &res) == 0 && res) {
		size_t l = strlen(res->pw_name);
		if (l >= sizeof(os_user_name))
			l = sizeof(os_user_name) - 1;
		memcpy(os_user_name, res->pw_name, l);
		os_user_name[l] = '\0';
	} else if (xsnprintf(os_user_name, sizeof(os_user_name), "uid:%ld", (long)geteuid()) < 0) {
		os_user_name[0] = '\0';  /* cannot happen: a long has at most 20 digits */
	}
	gethostname(os_host_name, sizeof(os_host_name) - 1);
}

int audit_append(struct store *s, const struct audit_entry *a, char head_out[65],
		 struct moat_err *e)
{
	struct db *db = store_db(s);
	int own_tx = !db_in_tx(db);
	char prev[65] = "", seqs[32] = "", now[STORE_TIME_MAX], hash[65];
	long long seq;
	int found;
	json_t *body;
	char *text = NULL;
	struct db_stmt *st = NULL;

	if (own_tx && store_begin(s, e) < 0)
		return -1;
	/* one appender at a time across processes and hosts (PostgreSQL) */
	if (db_lock_chain(db) < 0)
		goto dberr;
	if ((found = store_meta_get(db, "audit_head_hash", prev, sizeof(prev))) < 0)
		goto dberr;
	if (!found)
		memcpy(prev, GENESIS, sizeof(GENESIS));
	if ((found = store_meta_get(db, "audit_head_seq", seqs, sizeof(seqs))) < 0)
		goto dberr;
	seq = found ? strtoll(seqs, NULL, 10) : 0;
	seq++;

	store_utc_now(now, 6);
	pthread_once(&os_names_once, os_names);

	body = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "seq", (json_int_t)seq, "time", now,
			 "user", os_user_name, "host", os_host_name, "moat_version", MOAT_VERSION, "prev", prev);
	/* every part or no record: a record missing a part would chain as if whole */
	if (!body ||
	    json_object_set_new(body, "command", a->argv ? json_incref(a->argv) : json_array()) ||
	    json_object_set_new(body, "inputs", a->inputs ? json_incref(a->inputs) : json_object()) ||
	    json_object_set_new(body, "outputs", a->outputs ? json_incref(a->outputs) : json_object()) ||
	    json_object_set_new(body, "counts", a->counts ? json_incref(a->counts) : json_object()) ||
	    (a->actor && json_object_set_new(body, "actor", json_string(a->actor))) ||
	    !(text = store_json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS))) {
		json_decref(body);
		err_set(e, MOAT_ENOMEM, "cannot build the audit record: out of memory");
		goto fail;
	}
	json_decref(body);
	sha256_hex_mem(text, strlen(text), hash);

	if (db_prepare(db, "INSERT INTO audit(seq, body, prev, hash) VALUES(?,?,?,?)", &st) < 0)
		goto dberr;
	db_bind_int64(st, 1, seq);
	db_bind_text(st, 2, text, -1, DB_STATIC);
	db_bind_text(st, 3, prev, -1, DB_STATIC);
	db_bind_text(st, 4, hash, -1, DB_STATIC);
	if (db_step(st) != DB_DONE)
		goto dberr;
	db_finalize(st);
	st = NULL;
	if (xsnprintf(seqs, sizeof(seqs), "%lld", seq) < 0) {
		err_set(e, MOAT_ELIMIT, "audit record number %lld is too long", seq);
		goto fail;
	}
	if (store_meta_set(db, "audit_head_seq", seqs) < 0 || store_meta_set(db, "audit_head_hash", hash) < 0)
		goto dberr;
	store_note_audit_head(s, seq, hash);
	if (own_tx && store_commit(s, e) < 0)
		goto fail;
	free(text);
	if (head_out)
		memcpy(head_out, hash, 65);
	return 0;
dberr:
	err_set(e, MOAT_EDB, "cannot append to the audit trail: %s", db_errmsg(db));
fail:
	db_finalize(st);
	free(text);
	if (own_tx)
		store_rollback(s);
	return -1;
}

json_t *audit_log(struct store *s, struct moat_err *e)
{
	struct db *db = store_db(s);
	struct db_stmt *st;
	json_t *arr = json_array();
	int rc = DB_DONE, nomem = !arr;
	if (db_prepare(db, "SELECT body, hash FROM audit ORDER BY seq", &st) < 0) {
		json_decref(arr);
		err_set(e, MOAT_EDB, "cannot read the audit trail: %s", db_errmsg(db));
		return NULL;
	}
	while (!nomem && (rc = db_step(st)) == DB_ROW) {
		const char *b = (const char *)db_column_text(st, 0);
		int oom = 0;
		json_t *o = b ? store_json_loads(b, &oom) : NULL;
		if (oom)
			nomem = 1;
		else if (!o)
			o = json_pack("{s:s}", "error", "unreadable record");
		if (json_object_set_new(o, "hash", json_string((const char *)db_column_text(st, 1))) ||
		    json_array_append_new(arr, o))
			nomem = 1;
	}
	db_finalize(st);
	if (store_rows_end(s, rc, nomem, "cannot read the audit trail", e) < 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

static void bad(struct audit_check *c, int64_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void bad(struct audit_check *c, int64_t pos, const char *fmt, ...)
{
	va_list ap;
	if (!c->ok)
		return;
	c->ok = 0;
	c->bad_seq = pos;
	va_start(ap, fmt);
	if (xvsnprintf(c->reason, sizeof(c->reason), fmt, ap) < 0)
		memcpy(c->reason + sizeof(c->reason) - 4, "...", 4);  /* cut, and says so */
	va_end(ap);
}

/* Reads the seq a record's body carries into *seq: 1 when the body is JSON
 * whose prev is prev, 0 when not, -1 when out of memory. */
static int body_check(const char *body, const char *prev, json_int_t *seq)
{
	int nomem, same;
	json_t *j = store_json_loads(body, &nomem);
	const char *bprev = json_string_value(json_object_get(j, "prev"));
	if (nomem)
		return -1;
	same = bprev && !strcmp(bprev, prev);
	*seq = json_integer_value(json_object_get(j, "seq"));
	json_decref(j);
	return same;
}

/* The last line of audit.head: 1 with its seq and hash, 0 when there is
 * none (a workspace made by an older moat), -1 when it is damaged, -2 when
 * memory ran out reading it. */
static int file_head(struct store *s, long long *seq, char hash[65])
{
	char *path = fs_join(store_dir(s), STORE_AUDIT_HEAD);
	struct buf b = BUF_INIT;
	struct moat_err re = MOAT_ERR_INIT;
	const char *line;
	int rc = 0, n = 0;
	if (!path)
		return -2;
	if (fs_read_file(path, &b, (size_t)64 << 20, &re) < 0 && re.code == MOAT_ENOMEM)
		rc = -2;
	else if (b.len) {
		size_t end = b.len;
		while (end && b.data[end - 1] == '\n')
			end--;
		b.data[end] = '\0';
		line = strrchr(b.data, '\n');
		line = line ? line + 1 : b.data;
		rc = sscanf(line, "%lld %64[0-9a-f]%n", seq, hash, &n) == 2 && strlen(hash) == 64 &&
		     line[n] == '\0' ? 1 : -1;
	}
	buf_release(&b);
	free(path);
	return rc;
}

int audit_verify(struct store *s, struct audit_check *c, struct moat_err *e)
{
	struct db *db = store_db(s);
	struct db_stmt *st;
	char expect_prev[65], head_hash[65] = "", head_seq[32] = "", fhash[65] = "";
	long long fseq = 0;
	int64_t pos = 0;
	int rc, fhead;

	memset(c, 0, sizeof(*c));
	c->ok = 1;
	if ((fhead = file_head(s, &fseq, fhash)) == -2)
		return err_set(e, MOAT_ENOMEM, "cannot read audit.head: out of memory");
	memcpy(expect_prev, GENESIS, sizeof(GENESIS));
	if (db_prepare(db, "SELECT seq, body, prev, hash FROM audit ORDER BY seq", &st) < 0)
		return err_set(e, MOAT_EDB, "cannot read the audit trail: %s", db_errmsg(db));
	while ((rc = db_step(st)) == DB_ROW && c->ok) {
		int64_t rowseq = db_column_int64(st, 0);
		const char *body = (const char *)db_column_text(st, 1);
		const char *prev = (const char *)db_column_text(st, 2);
		const char *hash = (const char *)db_column_text(st, 3);
		char got[65];
		json_int_t bseq = 0;
		int same;
		pos++;
		if (!body || !prev || !hash) {
			bad(c, pos, "record %lld: a field is missing", (long long)pos);
			break;
		}
		sha256_hex_mem(body, strlen(body), got);
		if (strcmp(got, hash)) {
			bad(c, pos, "record %lld: content does not match its hash (edited)", (long long)pos);
			break;
		}
		same = body_check(body, prev, &bseq);
		/* jansson's lexer drops a byte it cannot allocate room for without
		 * saying so: a body is found wrong only when a second reading agrees */
		if (same == 0 || (same > 0 && bseq != pos))
			same = body_check(body, prev, &bseq);
		if (same < 0) {
			db_finalize(st);
			return err_set(e, MOAT_ENOMEM, "cannot read audit record %lld: out of memory",
				       (long long)pos);
		}
		if (!same) {
			bad(c, pos, "record %lld: body and chain disagree", (long long)pos);
		} else if (bseq != pos || rowseq != pos) {
			bad(c, pos, "record %lld: carries sequence number %lld (a record was removed, "
				    "inserted or moved)", (long long)pos, (long long)bseq);
		} else if (strcmp(prev, expect_prev)) {
			bad(c, pos, "record %lld: does not follow record %lld (a record was removed, "
				    "inserted or reordered)", (long long)pos, (long long)pos - 1);
		}
		if (c->ok && fhead == 1 && pos == fseq && strcmp(hash, fhash))
			bad(c, pos, "record %lld: its hash is not the one audit.head keeps for it (the "
				    "database was replaced)", (long long)pos);
		if (!c->ok)
			break;
		memcpy(expect_prev, hash, sizeof(expect_prev));  /* 64 digits: it matched got */
		c->records = pos;
		memcpy(c->head, hash, sizeof(c->head));
	}
	db_finalize(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return err_set(e, MOAT_EDB, "cannot read the audit trail: %s", db_errmsg(db));
	if (!c->ok)
		return 0;
	if (!c->records) {
		bad(c, 1, "the trail is empty: a workspace holds at least its init record (the "
			  "database was emptied or replaced)");
		return 0;
	}
	if (fhead < 0) {
		bad(c, c->records, "audit.head, the copy of the trail's end kept beside the database, "
			"is damaged");
		return 0;
	}
	if (fhead == 1 && fseq > c->records) {
		bad(c, c->records + 1, "the trail ends at record %lld but audit.head names record %lld "
			"(records were removed from the end, or the database was replaced)",
			(long long)c->records, fseq);
		return 0;
	}
	if (store_meta_get(db, "audit_head_seq", head_seq, sizeof(head_seq)) < 0 ||
	    store_meta_get(db, "audit_head_hash", head_hash, sizeof(head_hash)) < 0)
		return err_set(e, MOAT_EDB, "cannot read the audit trail's head: %s", db_errmsg(db));
	if (strtoll(head_seq[0] ? head_seq : "0", NULL, 10) != c->records ||
	    (c->records && strcmp(head_hash, c->head))) {
		bad(c, c->records + 1, "the trail ends at record %lld but the workspace's head names "
			"record %s (records were removed from the end)", (long long)c->records,
			head_seq[0] ? head_seq : "0");
	}
	return 0;
}

int audit_each(struct store *s, int64_t from, int64_t to, audit_record_fn fn, void *ctx,
	       struct moat_err *e)
{
	struct db_stmt *st = store_prep(s, from < 0
		? "SELECT seq, body, hash FROM audit WHERE seq = (SELECT max(seq) FROM audit)"
		  " AND ?1 < 0 AND ?2 = ?2"
		: "SELECT seq, body, hash FROM audit WHERE seq >= ?1 AND (?2 = 0 OR seq <= ?2)"
		  " ORDER BY seq", e);
	int rc, ret = 0;
	if (!st)
		return -1;
	db_bind_int64(st, 1, from);
	db_bind_int64(st, 2, to);
	while ((rc = db_step(st)) == DB_ROW) {
		const char *body = (const char *)db_column_text(st, 1);
		const char *hash = (const char *)db_column_text(st, 2);
		if (!body || !hash) {
			ret = err_set(e, MOAT_ECORRUPT, "audit record %lld: a field is missing",
				      (long long)db_column_int64(st, 0));
			break;
		}
		if ((ret = fn(ctx, db_column_int64(st, 0), body,
			      (size_t)db_column_bytes(st, 1), hash, e)) != 0)
			break;
	}
	if (!ret && rc != DB_DONE)
		ret = store_db_err(s, "cannot read the audit trail", e);
	db_finalize(st);
	return ret;
}

int audit_verify_slice(const char *text, size_t len, const char *first_prev,
		       struct audit_check *c, struct moat_err *e)
{
	char expect[65] = "";
	size_t p = 0;
	int64_t line = 0;
	json_int_t expect_seq = 0;
	memset(c, 0, sizeof(*c));
	c->ok = 1;
	if (first_prev)
		memcpy(expect, first_prev, strnlen(first_prev, 64));
	while (p < len && c->ok) {
		const char *nl = memchr(text + p, '\n', len - p);
		size_t n = nl ? (size_t)(nl - (text + p)) : len - p;
		char *body, got[65];
		const char *prev;
		json_t *j;
		json_int_t seq;
		int nomem = 0;
		line++;
		if (!(body = malloc(n + 1)))
			return err_set(e, MOAT_ENOMEM, "cannot check the audit slice: out of memory");
		memcpy(body, text + p, n);
		body[n] = '\0';
		p += n + (nl ? 1 : 0);
		j = strlen(body) == n ? store_json_loads(body, &nomem) : NULL;
		if (nomem) {
			free(body);
			return err_set(e, MOAT_ENOMEM, "cannot check the audit slice: out of memory");
		}
		sha256_hex_mem(body, n, got);
		free(body);
		prev = json_string_value(json_object_get(j, "prev"));
		seq = json_integer_value(json_object_get(j, "seq"));
		if (!json_is_object(j) || !prev || !json_is_integer(json_object_get(j, "seq")))
			bad(c, line, "line %lld: not an audit record", (long long)line);
		else if (line > 1 && seq != expect_seq)
			bad(c, line, "line %lld: record %lld follows record %lld (a record was removed, "
				     "inserted or moved)", (long long)line, (long long)seq,
			    (long long)expect_seq - 1);
		else if (expect[0] && strcmp(prev, expect))
			bad(c, line, line > 1 ? "line %lld: record %lld does not chain to the line before "
						"(it, or the line before, was edited)"
					      : "line %lld: record %lld does not follow the record it should",
			    (long long)line, (long long)seq);
		json_decref(j);
		if (!c->ok)
			break;
		if (line == 1)
			c->first_seq = seq;
		expect_seq = seq + 1;
		memcpy(expect, got, sizeof(expect));
		memcpy(c->head, got, sizeof(c->head));
		c->records = line;
	}
	if (c->ok && !line)
		bad(c, 1, "no records");
	return 0;
}
