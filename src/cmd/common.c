/* common.c - output helpers the subcommands share. */
#include "cmd.h"
#include "../store/audit.h"
#include "../store/store.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>

#include "../core/banned.h"

int cmd_fail(const struct moat_err *e)
{
	fprintf(stderr, "moat: %s\n", e->msg[0] ? e->msg : moat_strerror(e->code));
	return 1;
}

int cmd_usage(const char *fmt, ...)
{
	va_list ap;
	fputs("moat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

void cmd_print_json(json_t *j)
{
	if (!j) {
		/* a json_pack that failed (a bad format, text that is not UTF-8):
		 * never exit 0 having printed nothing */
		fflush(stdout);
		fputs("moat: internal error: the result could not be encoded as JSON\n", stderr);
		exit(1);
	}
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII * 0);
	fputc('\n', stdout);
	json_decref(j);
}

int cmd_audit_append(struct cmd_ctx *ctx, json_t *inputs, json_t *outputs, json_t *counts,
		     char head[65])
{
	struct moat_err e = MOAT_ERR_INIT;
	struct audit_entry a = { ctx->cmdline, inputs, outputs, counts };
	if (audit_append(ctx->store, &a, head, &e) < 0)
		return cmd_fail(&e);
	return 0;
}

struct store *cmd_open_read(struct cmd_ctx *ctx, struct moat_err *e)
{
	char *dir = store_find(ctx->workspace_flag, e);
	struct store *s;
	if (!dir)
		return NULL;
	s = store_open(dir, STORE_READ, e);
	free(dir);
	return s;
}
