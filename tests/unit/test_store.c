/*
 * test_store.c - the workspace: creation and discovery, migrations, the
 * writer lock, objects/, and the audit chain under every kind of tampering
 * (edited, deleted, inserted, reordered, truncated records).  Tampering is
 * done with raw SQL on the real SQLite file, as an attacker would.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/fmt.h"
#include "core/fs.h"
#include "core/hash.h"
#include "store/audit.h"
#include "store/store.h"

static char *make_ws(int records)
{
	char *dir = tu_tmpdir();
	struct moat_err e = MOAT_ERR_INIT;
	struct store *s;
	assert_int_equal(store_create(dir, &e), 0);
	s = store_open(dir, STORE_WRITE, &e);
	assert_non_null(s);
	for (int i = 0; i < records; i++) {
		json_t *argv = json_pack("[s, s, i]", "moat", "test", i);
		json_t *counts = json_pack("{s:i}", "n", i);
		struct audit_entry a = { argv, NULL, NULL, counts };
		assert_int_equal(audit_append(s, &a, NULL, &e), 0);
		json_decref(argv);
		json_decref(counts);
	}
	store_close(s);
	return dir;
}

static void sql(const char *dir, const char *stmt)
{
	char *p = fs_join(dir, "moat.db");
	sqlite3 *db;
	char *msg = NULL;
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	if (sqlite3_exec(db, stmt, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("sql '%s': %s", stmt, msg);
	sqlite3_close(db);
	free(p);
}

static struct audit_check verify(const char *dir)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct audit_check c;
	struct store *s = store_open(dir, STORE_READ, &e);
	assert_non_null(s);
	assert_int_equal(audit_verify(s, &c, &e), 0);
	store_close(s);
	return c;
}

static void intact_chain_verifies(void **state)
{
	char *dir = make_ws(5);
	struct audit_check c = verify(dir);
	(void)state;
	assert_true(c.ok);
	assert_int_equal(c.records, 5);
	assert_int_equal(strlen(c.head), 64);
	tu_rmtree(dir);
	free(dir);
}

static void edited_record_is_named(void **state)
{
	char *dir = make_ws(5);
	struct audit_check c;
	(void)state;
	sql(dir, "UPDATE audit SET body = replace(body, '\"n\":2', '\"n\":7') WHERE seq = 3");
	c = verify(dir);
	assert_false(c.ok);
	assert_int_equal(c.bad_seq, 3);
	assert_non_null(strstr(c.reason, "edited"));
	tu_rmtree(dir);
	free(dir);
}

static void edited_record_with_recomputed_hash_breaks_next_link(void **state)
{
	char *dir = make_ws(5);
	struct audit_check c;
	char *p = fs_join(dir, "moat.db");
	sqlite3 *db;
	sqlite3_stmt *st;
	(void)state;
	/* Rewrite record 2 and give it a correct hash of its new body: the
	 * chain breaks at record 3, which still names the old hash. */
	sql(dir, "UPDATE audit SET body = replace(body, '\"n\":1', '\"n\":9') WHERE seq = 2");
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT body FROM audit WHERE seq = 2", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	{
		char hex[65], q[256];
		const char *body = (const char *)sqlite3_column_text(st, 0);
		sha256_hex_mem(body, strlen(body), hex);
		sqlite3_finalize(st);
		assert_true(xsnprintf(q, sizeof(q), "UPDATE audit SET hash = '%s' WHERE seq = 2", hex) > 0);
		assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
	}
	sqlite3_close(db);
	free(p);
	c = verify(dir);
	assert_false(c.ok);
	assert_int_equal(c.bad_seq, 3);
	tu_rmtree(dir);
	free(dir);
}

static void deleted_record_is_named(void **state)
{
	char *dir = make_ws(5);
	struct audit_check c;
	(void)state;
	sql(dir, "DELETE FROM audit WHERE seq = 2");
	c = verify(dir);
	assert_false(c.ok);
	assert_int_equal(c.bad_seq, 2);
	tu_rmtree(dir);
	free(dir);
}

static void deleted_and_renumbered_is_named(void **state)
{
	char *dir = make_ws(5);
	struct audit_check c;
	(void)state;
	/* Hide the gap by renumbering: the body's own seq and the chain still tell. */
	sql(dir, "DELETE FROM audit WHERE seq = 2; UPDATE audit SET seq = seq - 1 WHERE seq > 2");
	c = verify(dir);
	assert_false(c.ok);
	assert_int_equal(c.bad_seq, 2);
	tu_rmtree(dir);
	free(dir);
}

static void inserted_record_is_named(void **state)
{
	char *dir = make_ws(4);
	struct audit_check c;
	(void)state;
	/* A copy of record 2 inserted after it, later records shifted. */
	sql(dir, "UPDATE audit SET seq = seq + 10 WHERE seq > 2;"
		 "INSERT INTO audit(seq, body, prev, hash) SELECT 3, body, prev, hash FROM audit WHERE seq = 2;"
		 "UPDATE audit SET seq = seq - 9 WHERE seq > 10");
	c = verify(dir);
	assert_false(c.ok);
	assert_int_equal(c.bad_seq, 3);
	tu_rmtree(dir);
	free(dir);
}

static void reordered_records_are_named(void **state)
{
	char *dir = make_ws(5);
	struct audit_check c;
	(void)state;
	sql(dir, "UPDATE audit SET seq = 100 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = 4;"
		 "UPDATE audit SET seq = 4 WHERE seq = 100");
	c = verify(dir);
	assert_false(c.ok);
	assert_int_equal(c.bad_seq, 3);
	tu_rmtree(dir);
	free(dir);
}

static void truncated_tail_is_named(void **state)
{
	char *dir = make_ws(5);
	struct audit_check c;
	(void)state;
	sql(dir, "DELETE FROM audit WHERE seq >= 4");
	c = verify(dir);
	assert_false(c.ok);
	assert_int_equal(c.bad_seq, 4);
	assert_non_null(strstr(c.reason, "removed from the end"));
	tu_rmtree(dir);
	free(dir);
}

static void second_writer_is_refused_or_waits(void **state)
{
	char *dir = make_ws(0);
	struct moat_err e = MOAT_ERR_INIT;
	struct store *a, *b, *r;
	(void)state;
	a = store_open(dir, STORE_WRITE, &e);
	assert_non_null(a);
	b = store_open(dir, STORE_WRITE, &e);
	assert_null(b);
	assert_int_equal(e.code, MOAT_EBUSY);
	assert_non_null(strstr(e.msg, "busy"));
	r = store_open(dir, STORE_READ, &e);  /* readers are never blocked */
	assert_non_null(r);
	store_close(r);
	store_close(a);
	b = store_open(dir, STORE_WRITE, &e);
	assert_non_null(b);
	store_close(b);
	tu_rmtree(dir);
	free(dir);
}

static void workspace_is_found_like_git(void **state)
{
	char *dir = make_ws(0), *sub = fs_join(dir, "a/b"), *found, old[4096];
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
	assert_int_equal(fs_mkdirs(sub, 0755, &e), 0);
	assert_non_null(getcwd(old, sizeof(old)));
	assert_int_equal(chdir(sub), 0);
	unsetenv("MOAT_WORKSPACE");
	found = store_find(NULL, &e);
	assert_non_null(found);
	assert_string_equal(found, dir);
	free(found);
	setenv("MOAT_WORKSPACE", "/nonexistent-moat", 1);
	assert_null(store_find(NULL, &e));
	assert_non_null(strstr(e.msg, "/nonexistent-moat"));
	found = store_find(dir, &e);  /* -w wins over the environment */
	assert_non_null(found);
	free(found);
	unsetenv("MOAT_WORKSPACE");
	assert_int_equal(chdir("/"), 0);
	assert_null(store_find(NULL, &e));
	assert_int_equal(e.code, MOAT_ENOTFOUND);
	assert_int_equal(chdir(old), 0);
	assert_int_equal(store_create(dir, &e), -1);  /* never re-initialised */
	assert_int_equal(e.code, MOAT_EEXISTS);
	free(sub);
	tu_rmtree(dir);
	free(dir);
}

static void objects_are_content_addressed(void **state)
{
	char *dir = make_ws(0), *p;
	struct moat_err e = MOAT_ERR_INIT;
	const char *id = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
	struct buf b = BUF_INIT;
	struct stat st;
	(void)state;
	assert_int_equal(store_put_object(dir, id, "hello", 5, &e), 0);
	p = store_object_path(dir, id);
	assert_non_null(strstr(p, "/objects/2c/f24dba"));
	assert_int_equal(fs_read_file(p, &b, 0, &e), 0);
	assert_string_equal(b.data, "hello");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0222, 0);  /* read-only once stored */
	assert_int_equal(store_put_object(dir, id, "hello", 5, &e), 0);  /* idempotent */
	buf_release(&b);
	/* a file planted (or damaged) under the name, of the same size, is
	 * replaced: the name is the hash of the bytes, not of the size */
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(fs_write_atomic(p, "HELLO", 5, 0444, &e), 0);
	assert_int_equal(store_put_object(dir, id, "hello", 5, &e), 0);
	assert_int_equal(fs_read_file(p, &b, 0, &e), 0);
	assert_string_equal(b.data, "hello");
	buf_release(&b);
	free(p);
	tu_rmtree(dir);
	free(dir);
}

static void newer_schema_is_refused(void **state)
{
	char *dir = make_ws(0);
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
	sql(dir, "PRAGMA user_version = 999");
	assert_null(store_open(dir, STORE_READ, &e));
	assert_int_equal(e.code, MOAT_EUNSUPPORTED);
	assert_non_null(strstr(e.msg, "999"));
	tu_rmtree(dir);
	free(dir);
}

/* A second store_open() in a process that holds a connection keeps that
 * connection's locks: another process that opens and closes the database
 * then finds a reader still there and leaves the WAL alone.  (store_open
 * once peeked at moat.db through a descriptor it closed, which dropped every
 * POSIX lock of the process on the file: the other process deleted the WAL
 * under the first connection.) */
static void second_open_keeps_the_first_ones_locks(void **state)
{
	char *dir = tu_tmpdir(), *db, *wal;
	struct moat_err e = MOAT_ERR_INIT;
	struct store *a, *b;
	struct stat st;
	pid_t pid;
	int status;
	(void)state;
	assert_int_equal(store_create(dir, &e), 0);
	assert_non_null(a = store_open(dir, STORE_READ, &e));
	assert_int_equal(store_begin(a, &e), 0);  /* a write: the WAL has frames */
	assert_int_equal(store_commit(a, &e), 0);
	{
		json_t *argv = json_pack("[s]", "test");
		struct audit_entry en = { argv, NULL, NULL, NULL, NULL };
		assert_int_equal(audit_append(a, &en, NULL, &e), 0);
		json_decref(argv);
	}
	/* a reading: its connection holds moat.db's shared lock meanwhile */
	{
		json_t *log = audit_log(a, &e);
		assert_non_null(log);
		json_decref(log);
	}
	assert_int_equal(store_begin(a, &e), 0);
	assert_non_null(b = store_open(dir, STORE_READ, &e));
	assert_true(asprintf(&db, "%s/moat.db", dir) > 0);
	assert_true(asprintf(&wal, "%s/moat.db-wal", dir) > 0);
	assert_int_equal(stat(wal, &st), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {  /* another process: open, read, close its only connection */
		sqlite3 *h = NULL;
		int rc = sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL);
		rc = rc == SQLITE_OK ? sqlite3_exec(h, "SELECT count(*) FROM audit", NULL, NULL, NULL) : rc;
		sqlite3_close(h);
		_exit(rc == SQLITE_OK ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (stat(wal, &st) != 0)
		fail_msg("the other process deleted the WAL under our connections");
	assert_int_equal(store_commit(a, &e), 0);
	{
		struct audit_check ck;
		assert_int_equal(audit_verify(a, &ck, &e), 0);
		assert_true(ck.ok);
	}
	store_close(b);
	store_close(a);
	free(db);
	free(wal);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(intact_chain_verifies),
		cmocka_unit_test(edited_record_is_named),
		cmocka_unit_test(edited_record_with_recomputed_hash_breaks_next_link),
		cmocka_unit_test(deleted_record_is_named),
		cmocka_unit_test(deleted_and_renumbered_is_named),
		cmocka_unit_test(inserted_record_is_named),
		cmocka_unit_test(reordered_records_are_named),
		cmocka_unit_test(truncated_tail_is_named),
		cmocka_unit_test(second_writer_is_refused_or_waits),
		cmocka_unit_test(workspace_is_found_like_git),
		cmocka_unit_test(objects_are_content_addressed),
		cmocka_unit_test(newer_schema_is_refused),
		cmocka_unit_test(second_open_keeps_the_first_ones_locks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
