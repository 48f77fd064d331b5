/* init.c - `moat init DIR`: create a workspace and open its audit trail. */
#include "cmd.h"
#include "../store/store.h"

#include <string.h>

#include "../core/banned.h"

int cmd_init(struct cmd_ctx *ctx)
{
	struct moat_err e = MOAT_ERR_INIT;
	const char *dir;
	char head[65];
	int rc;
	if (ctx->argc == 2 && (!strcmp(ctx->argv[1], "--help") || !strcmp(ctx->argv[1], "-h"))) {
		printf("usage: moat init DIR\n\nCreates a workspace in DIR: moat.db, objects/, exports/.\n");
		return 0;
	}
	if (ctx->argc > 2)
		return cmd_usage("usage: moat init [DIR]");
	dir = ctx->argc == 2 ? ctx->argv[1] : (ctx->workspace_flag ? ctx->workspace_flag : ".");
	if (store_create(dir, &e) < 0)
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
