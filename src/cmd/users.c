/*
 * users.c - `moat users add|ls|passwd|rm`: the people who log in to
 * `moat serve`.  Passwords come from the terminal (not echoed, asked twice)
 * or the first line of --password-file, never from the command line; only
 * their scrypt hash is stored (core/passwd.h), and neither is ever in the
 * audit trail.  Users are rows of the workspace, written in a transaction
 * without the writer lock, as serve writes: a long stage does not block them.
 */
#include "cmd.h"
#include "../core/passwd.h"
#include "../store/audit.h"
#include "../store/store.h"
#include "../store/users.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../core/banned.h"

#define PASSWD_MIN 8

static void usage(FILE *f)
{
	fprintf(f,
		"usage: moat users add NAME --role annotator|reviewer|admin [--password-file F]\n"
		"       moat users ls [--json]\n"
		"       moat users passwd NAME [--password-file F]\n"
		"       moat users rm NAME\n\n"
		"The users who log in to 'moat serve'.  A password is read from the terminal\n"
		"(not shown, asked twice) or from the first line of --password-file F ('-' for\n"
		"the standard input); it has at least %d characters and is stored only as a\n"
		"scrypt hash.  Roles: annotator < reviewer < admin.\n", PASSWD_MIN);
}

/* One line from the terminal without echo, into buf[cap]: its length, or -1. */
static long read_tty_line(FILE *tty, const char *prompt, char *buf, size_t cap)
{
	struct termios old, quiet;
	int fd = fileno(tty), restore = 0;
	size_t n;
	fputs(prompt, stderr);
	fflush(stderr);
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	if (!fgets(buf, (int)cap, tty))
		buf[0] = '\0';
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	n = strlen(buf);
	if (n && buf[n - 1] != '\n' && n == cap - 1)
		return -1;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return (long)n;
}

/* The password into pw[cap] (from file, or the terminal): 0, or an exit status. */
static int get_password(const char *file, char *pw, size_t cap)
{
	size_t n;
	if (file) {
		FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
		if (!f) {
			fprintf(stderr, "moat: cannot open '%s': %s\n", file, strerror(errno));
			return 1;
		}
		if (!fgets(pw, (int)cap, f))
			pw[0] = '\0';
		if (f != stdin)
			fclose(f);
		n = strlen(pw);
		if (n == cap - 1 && pw[n - 1] != '\n')
			return cmd_usage("the password in '%s' is longer than %d bytes", file, PASSWD_MAX);
		while (n && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
			pw[--n] = '\0';
	} else {
		char again[PASSWD_MAX + 2];
		FILE *tty = fopen("/dev/tty", "r+");
		long a, b;
		if (!tty || !isatty(fileno(tty))) {
			if (tty)
				fclose(tty);
			return cmd_usage("no terminal to ask for the password: give --password-file F");
		}
		a = read_tty_line(tty, "Password: ", pw, cap);
		b = a < 0 ? -1 : read_tty_line(tty, "Password again: ", again, sizeof(again));
		fclose(tty);
		if (a < 0 || b < 0) {
			OPENSSL_cleanse(again, sizeof(again));
			return cmd_usage("a password is at most %d bytes", PASSWD_MAX);
		}
		if (a != b || strcmp(pw, again)) {
			OPENSSL_cleanse(again, sizeof(again));
			return cmd_usage("the two passwords differ");
		}
		OPENSSL_cleanse(again, sizeof(again));
		n = (size_t)a;
	}
	if (n < PASSWD_MIN)
		return cmd_usage("a password has at least %d characters", PASSWD_MIN);
	return 0;
}

/* Hashes the password asked for into hash: 0 or an exit status. */
static int new_hash(const char *file, char hash[PASSWD_HASH_MAX])
{
	char pw[PASSWD_MAX + 2];
	struct moat_err e = MOAT_ERR_INIT;
	int rc = get_password(file, pw, sizeof(pw));
	if (rc == 0 && passwd_hash(pw, strlen(pw), hash, &e) < 0)
		rc = cmd_fail(&e);
	OPENSSL_cleanse(pw, sizeof(pw));
	return rc;
}

/* Runs one change (fn) and its audit record in one transaction. */
static int change(struct cmd_ctx *ctx, const char *name, const char *what, json_t *outputs,
		  int (*fn)(struct store *, const char *, const void *, struct moat_err *),
		  const void *arg)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct audit_entry a = { ctx->cmdline, NULL, outputs, NULL, NULL };
	int rc = 0;
	if (store_begin(ctx->store, &e) < 0 || fn(ctx->store, name, arg, &e) < 0 ||
	    audit_append(ctx->store, &a, NULL, &e) < 0 || store_commit(ctx->store, &e) < 0) {
		store_rollback(ctx->store);
		rc = cmd_fail(&e);
	} else {
		printf("%s user '%s'\n", what, name);
	}
	json_decref(outputs);
	return rc;
}

struct add_arg {
	enum user_role role;
	const char *hash;
};

static int do_add(struct store *s, const char *name, const void *arg, struct moat_err *e)
{
	const struct add_arg *a = arg;
	return user_add(s, name, a->role, a->hash, e);
}

static int do_passwd(struct store *s, const char *name, const void *arg, struct moat_err *e)
{
	return user_set_password(s, name, arg, e);
}

static int do_rm(struct store *s, const char *name, const void *arg, struct moat_err *e)
{
	(void)arg;
	return user_rm(s, name, e);
}

static int users_ls(struct cmd_ctx *ctx, int as_json)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *list = user_list(ctx->store, &e), *u;
	size_t i;
	if (!list)
		return as_json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
	if (as_json) {
		cmd_print_json(json_pack("{s:o}", "users", list));
		return 0;
	}
	json_array_foreach(list, i, u) {
		printf("%-24s %-10s %s%s\n", json_string_value(json_object_get(u, "name")),
		       json_string_value(json_object_get(u, "role")),
		       json_string_value(json_object_get(u, "created_at")),
		       json_is_true(json_object_get(u, "password")) ? "" : "  (no password: serve's token)");
	}
	json_decref(list);
	return 0;
}

int cmd_users(struct cmd_ctx *ctx)
{
	struct moat_err e = MOAT_ERR_INIT;
	const char *sub, *name = NULL, *role = NULL, *pwfile = NULL;
	int as_json = 0, rc;
	if (ctx->argc < 2 || !strcmp(ctx->argv[1], "--help") || !strcmp(ctx->argv[1], "-h")) {
		usage(ctx->argc < 2 ? stderr : stdout);
		return ctx->argc < 2 ? EXIT_USAGE : 0;
	}
	sub = ctx->argv[1];
	if (strcmp(sub, "add") && strcmp(sub, "ls") && strcmp(sub, "passwd") && strcmp(sub, "rm"))
		return cmd_usage("users: unknown subcommand '%s' (add, ls, passwd, rm)", sub);
	for (int i = 2; i < ctx->argc; i++) {
		const char *a = ctx->argv[i];
		if (!strcmp(a, "--role") && i + 1 < ctx->argc)
			role = ctx->argv[++i];
		else if (!strncmp(a, "--role=", 7))
			role = a + 7;
		else if (!strcmp(a, "--password-file") && i + 1 < ctx->argc)
			pwfile = ctx->argv[++i];
		else if (!strncmp(a, "--password-file=", 16))
			pwfile = a + 16;
		else if (!strcmp(a, "--json"))
			as_json = 1;
		else if (!strncmp(a, "--password", 10))
			return cmd_usage("users: a password is never given on the command line: "
					 "use --password-file F or the terminal");
		else if (a[0] != '-' && !name)
			name = a;
		else
			return cmd_usage("users %s: unexpected '%s'", sub, a);
	}
	if (!strcmp(sub, "ls")) {
		if (name || role || pwfile)
			return cmd_usage("usage: moat users ls [--json]");
	} else {
		if (!name)
			return cmd_usage("usage: moat users %s NAME%s", sub,
					 !strcmp(sub, "add") ? " --role annotator|reviewer|admin" : "");
		if (user_name_check(name, &e) < 0)
			return cmd_usage("users: '%s': %s", name, e.msg);
		if (as_json || (role && strcmp(sub, "add")) || (pwfile && !strcmp(sub, "rm")))
			return cmd_usage("users %s: unexpected option", sub);
	}
	if (!strcmp(sub, "add") && !user_role_parse(role))
		return cmd_usage("users add: --role annotator, reviewer or admin");

	if (!(ctx->store = cmd_open_read(ctx, &e)))
		return as_json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
	if (!strcmp(sub, "ls"))
		return users_ls(ctx, as_json);
	if (!strcmp(sub, "rm"))
		return change(ctx, name, "removed", json_pack("{s:s}", "user", name), do_rm, NULL);

	{
		char hash[PASSWD_HASH_MAX];
		struct user_row u;
		/* a name taken (or missing) is said before the password is asked for */
		int found = user_get(ctx->store, name, &u, &e);
		user_row_release(&u);
		if (found < 0)
			return cmd_fail(&e);
		if (!strcmp(sub, "add") && found)
			return fprintf(stderr, "moat: user '%s' already exists\n", name), 1;
		if (!strcmp(sub, "passwd") && !found)
			return fprintf(stderr, "moat: no user '%s'\n", name), 1;
		if ((rc = new_hash(pwfile, hash)) != 0)
			return rc;
		if (!strcmp(sub, "add")) {
			struct add_arg a = { user_role_parse(role), hash };
			rc = change(ctx, name, "added", json_pack("{s:s, s:s}", "user", name, "role", role),
				    do_add, &a);
		} else {
			rc = change(ctx, name, "changed the password of",
				    json_pack("{s:s}", "user", name), do_passwd, hash);
		}
		OPENSSL_cleanse(hash, sizeof(hash));
		return rc;
	}
}
