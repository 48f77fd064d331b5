/*
 * test_users.c - passwords (core/passwd.h) and the users and sessions of
 * moat serve (store/users.h): the hash's form and parameters, a fresh salt
 * each time, right and wrong passwords, hashes that cannot match (unusable,
 * damaged, absent), tokens; users added once, roles, removal taking the
 * sessions with it, sessions that expire.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "core/passwd.h"
#include "store/store.h"
#include "store/users.h"

static void test_hash_and_verify(void **state)
{
	char h1[PASSWD_HASH_MAX], h2[PASSWD_HASH_MAX];
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
	assert_int_equal(passwd_hash("correct horse", 13, h1, &e), 0);
	assert_int_equal(passwd_hash("correct horse", 13, h2, &e), 0);
	assert_int_equal(strncmp(h1, "scrypt$32768$8$1$", 17), 0);
	assert_string_not_equal(h1, h2);  /* a salt of its own */
	assert_int_equal(passwd_verify("correct horse", 13, h1), 1);
	assert_int_equal(passwd_verify("correct horse", 13, h2), 1);
	assert_int_equal(passwd_verify("correct hors", 12, h1), 0);
	assert_int_equal(passwd_verify("correct horse!", 14, h1), 0);
	assert_int_equal(passwd_verify("", 0, h1), 0);
	assert_int_equal(passwd_verify("correct horse", 13, PASSWD_UNUSABLE), 0);
	assert_int_equal(passwd_verify("correct horse", 13, NULL), 0);
	assert_int_equal(passwd_verify("", 0, ""), 0);
	/* damaged: a cut key, a cost out of range, a field too many */
	h1[strlen(h1) - 4] = '\0';
	assert_int_equal(passwd_verify("correct horse", 13, h1), 0);
	assert_int_equal(passwd_verify("x", 1, "scrypt$3$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA"), 0);
	assert_int_equal(passwd_verify("x", 1, "scrypt$32768$8$1$a$b$c"), 0);
	assert_int_equal(passwd_hash("x", PASSWD_MAX + 1, h1, &e), -1);
}

static void test_token(void **state)
{
	char a[64], b[64];
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
	assert_int_equal(passwd_token(32, a, sizeof(a), &e), 0);
	assert_int_equal(passwd_token(32, b, sizeof(b), &e), 0);
	assert_int_equal(strlen(a), 43);
	assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
	assert_string_not_equal(a, b);
	assert_int_equal(passwd_token(32, a, 10, &e), -1);  /* no room */
}

static void test_users_and_sessions(void **state)
{
	char *dir = tu_tmpdir();
	struct moat_err e = MOAT_ERR_INIT;
	struct store *s;
	struct user_row u;
	struct user_session ss;
	json_t *list;
	(void)state;
	assert_int_equal(store_create(dir, &e), 0);
	assert_non_null(s = store_open(dir, STORE_READ, &e));
	assert_int_equal(user_name_check("ann.b_c@x-y", &e), 0);
	assert_int_equal(user_name_check("", &e), -1);
	assert_int_equal(user_name_check("-x", &e), -1);
	assert_int_equal(user_name_check("..", &e), -1);
	assert_int_equal(user_name_check("a/b", &e), -1);
	assert_int_equal(user_name_check("a b", &e), -1);
	assert_int_equal(user_role_parse("reviewer"), USER_REVIEWER);
	assert_int_equal(user_role_parse("root"), 0);

	assert_int_equal(user_add(s, "ann", USER_ANNOTATOR, "h1", &e), 0);
	assert_int_equal(user_add(s, "ann", USER_ADMIN, "h2", &e), -1);
	assert_int_equal(e.code, MOAT_EEXISTS);
	assert_int_equal(user_add(s, "boss", USER_ADMIN, "!", &e), 0);
	assert_int_equal(user_get(s, "ann", &u, &e), 1);
	assert_int_equal(u.role, USER_ANNOTATOR);
	assert_string_equal(u.pw_hash, "h1");
	user_row_release(&u);
	assert_int_equal(user_get(s, "nobody", &u, &e), 0);
	assert_int_equal(user_set_password(s, "ann", "h3", &e), 0);
	assert_int_equal(user_set_password(s, "nobody", "h3", &e), -1);
	assert_int_equal(e.code, MOAT_ENOTFOUND);
	assert_int_equal(user_count_admins(s, &e), 1);
	assert_non_null(list = user_list(s, &e));
	assert_int_equal(json_array_size(list), 2);
	assert_true(json_is_true(json_object_get(json_array_get(list, 0), "password")));
	assert_true(json_is_false(json_object_get(json_array_get(list, 1), "password")));
	json_decref(list);

	/* sessions: valid until expires_at, gone with the user */
	assert_int_equal(user_session_add(s, "aa", "ann", "c1", "2030-01-01T00:00:00Z", &e), 0);
	assert_int_equal(user_session_add(s, "bb", "ann", "c2", "2020-01-01T00:00:00Z", &e), 0);
	assert_int_equal(user_session_get(s, "aa", "2026-01-01T00:00:00Z", &ss, &e), 1);
	assert_string_equal(ss.name, "ann");
	assert_string_equal(ss.csrf, "c1");
	assert_int_equal(ss.role, USER_ANNOTATOR);
	assert_int_equal(user_session_get(s, "aa", "2030-01-01T00:00:00Z", &ss, &e), 0);
	assert_int_equal(user_session_get(s, "bb", "2026-01-01T00:00:00Z", &ss, &e), 0);
	assert_int_equal(user_session_get(s, "cc", "2026-01-01T00:00:00Z", &ss, &e), 0);
	assert_int_equal(user_session_purge(s, "2026-01-01T00:00:00Z", &e), 1);
	assert_int_equal(user_rm(s, "ann", &e), 0);
	assert_int_equal(user_session_get(s, "aa", "2026-01-01T00:00:00Z", &ss, &e), 0);
	assert_int_equal(user_rm(s, "ann", &e), -1);
	assert_int_equal(e.code, MOAT_ENOTFOUND);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_and_verify),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_users_and_sessions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
