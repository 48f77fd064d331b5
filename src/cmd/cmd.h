/*
 * cmd.h - what the subcommands share: the context main() sets up for them,
 * their signature, and small output helpers.  A subcommand parses its options,
 * calls the library, prints, and returns an exit status; nothing below it
 * prints or exits.
 *
 * Exit statuses: 0 success, 1 failure (or some inputs failed), 2 bad usage;
 * commands document any others they use.
 */
#ifndef MOAT_CMD_H
#define MOAT_CMD_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "../core/err.h"
#include "../core/shard.h"

struct store;

enum cmd_needs {
	NEED_WORKSPACE = 1,   /* open the workspace before the call */
	NEED_WRITE = 2,       /* ... as its one writer (waits for another writer) */
};

struct cmd_ctx {
	int argc;             /* argv[0] is the subcommand's name */
	char **argv;
	const char *workspace_flag;  /* -w DIR, or NULL */
	struct store *store;  /* set when the command NEEDs it */
	json_t *cmdline;      /* the whole command line, for the audit trail */
};

struct command {
	const char *name;
	int (*fn)(struct cmd_ctx *ctx);
	unsigned needs;
	const char *summary;
};

#define EXIT_USAGE 2
/* The machine failed, not the input or the trail: a full disk, an I/O error,
 * no memory (MOAT_EENV, MOAT_ENOMEM); running again with room may work. */
#define EXIT_ENV 5

/* The subcommands: each returns its exit status (warn_unused_result, like
 * everything here that can fail; cmd_fail and cmd_usage only print, and
 * their result is the status to return). */
int cmd_init(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_ingest(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_ls(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_show(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_audit(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_version(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_models(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_keys(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_llm(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_doctor(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_clean(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_pii(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_chunk(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_export(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_import(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_exports(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_slurm(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_label(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_augment(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_users(struct cmd_ctx *ctx) __attribute__((warn_unused_result));
int cmd_serve(struct cmd_ctx *ctx) __attribute__((warn_unused_result));

/* The exit status for a failure e: EXIT_ENV for the machine's fault, else 1. */
int cmd_exit_code(const struct moat_err *e);
/* Prints "moat: <msg>" for e on stderr and returns cmd_exit_code(e). */
int cmd_fail(const struct moat_err *e);
/* For --json, which always prints its summary: cmd_fail(), then summary (an
 * object, taken; NULL for none) with "ok": false, "error" and "exit" on
 * stdout.  Returns the exit status. */
int cmd_fail_json(const struct moat_err *e, json_t *summary);
/* Prints "moat: <fmt>" on stderr; returns EXIT_USAGE. */
int cmd_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A size such as 512M, 2G, 64KiB or 1048576 (bytes); *ok 0 when it is not one. */
size_t cmd_parse_size(const char *s, int *ok);
/* opt's value arg, a whole number from min to max, into *out: 0, or -1
 * after printing why (the caller returns EXIT_USAGE). */
int cmd_parse_int(const char *opt, const char *arg, int64_t min, int64_t max, int64_t *out)
	__attribute__((warn_unused_result));

/* SIGINT and SIGTERM set the flag returned (cleared first) until
 * cmd_release_interrupt puts the old handlers back: for a long run that
 * stops cleanly between items (label suggest, augment). */
struct cmd_interrupt {
	struct sigaction old_int, old_term;
};
volatile sig_atomic_t *cmd_catch_interrupt(struct cmd_interrupt *ci);
void cmd_release_interrupt(struct cmd_interrupt *ci);

/* `--shard I/N`: "I/N" with 0 <= I < N <= SHARD_MAX (decimal, nothing
 * else) into *s.  0, or EXIT_USAGE after printing why (name is the command,
 * "ingest"). */
int cmd_parse_shard(const char *name, const char *arg, struct shard *s)
	__attribute__((warn_unused_result));
/* {"index": I, "count": N} for a sharded run's audit record and --json, or
 * NULL for SHARD_ALL (and when out of memory: the caller checks s->n). */
json_t *cmd_shard_json(const struct shard *s);
/* 1 when arg (the whole argument, "--password" or "--password=x") names an
 * option whose value is a secret; see cmd_cmdline. */
int cmd_secret_option(const char *arg);
/* moat's own peak resident memory so far, in bytes (getrusage; not its
 * parser processes'), for --json summaries. */
json_int_t cmd_peak_rss(void);
/* Prints j as indented JSON on stdout with a newline and drops the reference. */
void cmd_print_json(json_t *j);
/* The command line as the audit trail keeps it: every argument as it was
 * (not UTF-8: escaped by jsonu_string), except the values of secret-bearing
 * options (--password, --db-password, also abbreviated or as --opt=value),
 * which become "***".  NULL when out of memory. */
json_t *cmd_cmdline(int argc, char **argv) __attribute__((warn_unused_result));

/* Prints a file name for a terminal as git does (core.quotePath): as it is,
 * or, when it holds a control character, a quote, a backslash or bytes that
 * are not UTF-8, in double quotes with C escapes ("a\nb", "\033[31m"), so
 * that no escape sequence runs and no newline splits a row. */
void cmd_put_path(FILE *f, const char *path);
/* Prints text (a document's, an error's) with its control characters escaped
 * but for newlines and tabs; bytes that are not UTF-8 as octal escapes. */
void cmd_put_text(FILE *f, const char *text);

/* Opens the workspace (-w, $MOAT_WORKSPACE or the nearest) for reading, for
 * commands that need it only for some of their subcommands.  NULL with e set. */
struct store *cmd_open_read(struct cmd_ctx *ctx, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Appends the audit record for a command that changed the workspace, printing
 * any error; returns 0 or 1. head (may be NULL) gets the new head hash. */
int cmd_audit_append(struct cmd_ctx *ctx, json_t *inputs, json_t *outputs, json_t *counts,
		     char head[65]) __attribute__((warn_unused_result));

#endif
