/* init.c - `moat init DIR`: create a workspace and open its audit trail. */
#include "cmd.h"
#include "../store/store.h"

#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

int cmd_init(struct cmd_ctx *ctx)
{
	struct moat_err e = MOAT_ERR_INIT;
	const char *dir = NULL, *uri = getenv("MOAT_STORE");
	char head[65];
	int rc;
	if (ctx->argc == 2 && (!strcmp(ctx->argv[1], "--help") || !strcmp(ctx->argv[1], "-h"))) {
		printf("usage: moat init [--store URI] DIR\n\nCreates a workspace in DIR: moat.db, objects/,"
		       " exports/.\n--store postgres://USER@HOST[:PORT]/DB (or $MOAT_STORE) keeps its tables"
		       " in PostgreSQL;\nthe password comes from ~/.pgpass or $PGPASSFILE.\n");
		return 0;
	}
	for (int i = 1; i < ctx->argc; i++) {
		if (!strcmp(ctx->argv[i], "--store") && i + 1 < ctx->argc)
			uri = ctx->argv[++i];
		else if (!strncmp(ctx->argv[i], "--store=", 8))
			uri = ctx->argv[i] + 8;
		else if (!dir && ctx->argv[i][0] != '-')
			dir = ctx->argv[i];
		else
			return cmd_usage("usage: moat init [--store URI] [DIR]");
	}
	if (!dir)
		dir = ctx->workspace_flag ? ctx->workspace_flag : ".";
	if (store_create_at(dir, uri, &e) < 0)
		return cmd_fail(&e);
	ctx->store = store_open(dir, STORE_WRITE | STORE_WAIT, &e);
	if (!ctx->store)
		return cmd_fail(&e);
	{
		json_t *out = json_pack("{s:i}", "schema_version", store_schema_version(ctx->store));
		rc = cmd_audit_append(ctx, NULL, out, NULL, head);
		json_decref(out);
	}
	if (rc)
		return rc;
	printf("initialised moat workspace in %s\naudit head %s\n", store_dir(ctx->store), head);
	return 0;
}
