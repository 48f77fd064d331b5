/*
 * audit.c - appending to and verifying the hash-chained audit trail.
 * The record layout and the checks are described in audit.h.
 */
#define _GNU_SOURCE
#include "audit.h"
#include "store_int.h"
#include "../core/hash.h"
#include "version.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../core/banned.h"

static const char GENESIS[] =
	"0000000000000000000000000000000000000000000000000000000000000000";

static void os_user(char *out, size_t n)
{
	struct passwd pw, *res = NULL;
	char tmp[4096];
	if (getpwuid_r(geteuid(), &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(out, n, "%s", res->pw_name);
	else
		snprintf(out, n, "uid:%ld", (long)geteuid());
}

static int meta_get(sqlite3 *db, const char *key, char *out, size_t n)
{
	sqlite3_stmt *st;
	int found = 0;
	out[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
		found = 1;
	}
	sqlite3_finalize(st);
	return found;
}

static int meta_set(sqlite3 *db, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int rc;
	if (sqlite3_prepare_v2(db, "INSERT INTO meta(key, value) VALUES(?, ?)"
			       " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int audit_append(struct store *s, const struct audit_entry *a, char head_out[65],
		 struct moat_err *e)
{
	sqlite3 *db = store_sqlite(s);
	int own_tx = sqlite3_get_autocommit(db);
	char prev[65] = "", seqs[32] = "", now[40], user[256], host[256] = "", hash[65];
	long long seq;
	struct timespec ts;
	struct tm tm;
	json_t *body;
	char *text = NULL;
	sqlite3_stmt *st = NULL;

	if (own_tx && store_begin(s, e) < 0)
		return -1;
	if (meta_get(db, "audit_head_hash", prev, sizeof(prev)) <= 0)
		snprintf(prev, sizeof(prev), "%s", GENESIS);
	seq = meta_get(db, "audit_head_seq", seqs, sizeof(seqs)) > 0 ? strtoll(seqs, NULL, 10) : 0;
	seq++;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(now, sizeof(now), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
	os_user(user, sizeof(user));
	gethostname(host, sizeof(host) - 1);

	body = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "seq", (json_int_t)seq, "time", now,
			 "user", user, "host", host, "moat_version", MOAT_VERSION, "prev", prev);
	if (body) {
		json_object_set_new(body, "command", a->argv ? json_incref(a->argv) : json_array());
		json_object_set_new(body, "inputs", a->inputs ? json_incref(a->inputs) : json_object());
		json_object_set_new(body, "outputs", a->outputs ? json_incref(a->outputs) : json_object());
		json_object_set_new(body, "counts", a->counts ? json_incref(a->counts) : json_object());
	}
	if (!body || !(text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS))) {
		json_decref(body);
		err_set(e, MOAT_ENOMEM, "cannot build the audit record");
		goto fail;
	}
	json_decref(body);
	sha256_hex_mem(text, strlen(text), hash);

	if (sqlite3_prepare_v2(db, "INSERT INTO audit(seq, body, prev, hash) VALUES(?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		goto dberr;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	st = NULL;
	snprintf(seqs, sizeof(seqs), "%lld", seq);
	if (meta_set(db, "audit_head_seq", seqs) < 0 || meta_set(db, "audit_head_hash", hash) < 0)
		goto dberr;
	if (own_tx && store_commit(s, e) < 0)
		goto fail;
	free(text);
	if (head_out)
		memcpy(head_out, hash, 65);
	return 0;
dberr:
	err_set(e, MOAT_EDB, "cannot append to the audit trail: %s", sqlite3_errmsg(db));
fail:
	sqlite3_finalize(st);
	free(text);
	if (own_tx)
		store_rollback(s);
	return -1;
}

json_t *audit_log(struct store *s, struct moat_err *e)
{
	sqlite3 *db = store_sqlite(s);
	sqlite3_stmt *st;
	json_t *arr = json_array();
	if (sqlite3_prepare_v2(db, "SELECT body, hash FROM audit ORDER BY seq", -1, &st, NULL) != SQLITE_OK) {
		json_decref(arr);
		err_set(e, MOAT_EDB, "cannot read the audit trail: %s", sqlite3_errmsg(db));
		return NULL;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *b = (const char *)sqlite3_column_text(st, 0);
		json_t *o = b ? json_loads(b, 0, NULL) : NULL;
		if (!o)
			o = json_pack("{s:s}", "error", "unreadable record");
		json_object_set_new(o, "hash", json_string((const char *)sqlite3_column_text(st, 1)));
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(st);
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
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
}

int audit_verify(struct store *s, struct audit_check *c, struct moat_err *e)
{
	sqlite3 *db = store_sqlite(s);
	sqlite3_stmt *st;
	char expect_prev[65], head_hash[65] = "", head_seq[32] = "";
	int64_t pos = 0;
	int rc;

	memset(c, 0, sizeof(*c));
	c->ok = 1;
	snprintf(expect_prev, sizeof(expect_prev), "%s", GENESIS);
	if (sqlite3_prepare_v2(db, "SELECT seq, body, prev, hash FROM audit ORDER BY seq",
			       -1, &st, NULL) != SQLITE_OK)
		return err_set(e, MOAT_EDB, "cannot read the audit trail: %s", sqlite3_errmsg(db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && c->ok) {
		int64_t rowseq = sqlite3_column_int64(st, 0);
		const char *body = (const char *)sqlite3_column_text(st, 1);
		const char *prev = (const char *)sqlite3_column_text(st, 2);
		const char *hash = (const char *)sqlite3_column_text(st, 3);
		char got[65];
		json_t *j;
		json_int_t bseq;
		const char *bprev;
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
		j = json_loads(body, 0, NULL);
		bseq = j ? json_integer_value(json_object_get(j, "seq")) : 0;
		bprev = j ? json_string_value(json_object_get(j, "prev")) : NULL;
		if (!j || !bprev || strcmp(bprev, prev)) {
			bad(c, pos, "record %lld: body and chain disagree", (long long)pos);
		} else if (bseq != pos || rowseq != pos) {
			bad(c, pos, "record %lld: carries sequence number %lld (a record was removed, "
				    "inserted or moved)", (long long)pos, (long long)bseq);
		} else if (strcmp(prev, expect_prev)) {
			bad(c, pos, "record %lld: does not follow record %lld (a record was removed, "
				    "inserted or reordered)", (long long)pos, (long long)pos - 1);
		}
		json_decref(j);
		if (!c->ok)
			break;
		snprintf(expect_prev, sizeof(expect_prev), "%s", hash);
		c->records = pos;
		snprintf(c->head, sizeof(c->head), "%s", hash);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return err_set(e, MOAT_EDB, "cannot read the audit trail: %s", sqlite3_errmsg(db));
	if (!c->ok)
		return 0;
	meta_get(db, "audit_head_seq", head_seq, sizeof(head_seq));
	meta_get(db, "audit_head_hash", head_hash, sizeof(head_hash));
	if (strtoll(head_seq[0] ? head_seq : "0", NULL, 10) != c->records ||
	    (c->records && strcmp(head_hash, c->head))) {
		bad(c, c->records + 1, "the trail ends at record %lld but the workspace's head names "
			"record %s (records were removed from the end)", (long long)c->records,
			head_seq[0] ? head_seq : "0");
	}
	return 0;
}
