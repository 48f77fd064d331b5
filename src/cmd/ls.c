/* ls.c - `moat ls`: the documents of the workspace, latest version of each path. */
#include "cmd.h"
#include "../store/store.h"

#include <string.h>

#include "../core/fmt.h"
#include "../core/banned.h"

int cmd_ls(struct cmd_ctx *ctx)
{
	struct moat_err e = MOAT_ERR_INIT;
	int as_json = 0;
	size_t i;
	json_t *rows, *row;
	for (int k = 1; k < ctx->argc; k++) {
		if (!strcmp(ctx->argv[k], "--json"))
			as_json = 1;
		else if (!strcmp(ctx->argv[k], "--help") || !strcmp(ctx->argv[k], "-h")) {
			printf("usage: moat ls [--json]\n\nLists documents: id, path, type, size, "
			       "elements, status (latest version of each path).\n");
			return 0;
		} else
			return cmd_usage("ls: unknown option '%s'", ctx->argv[k]);
	}
	rows = store_list(ctx->store, &e);
	if (!rows)
		return cmd_fail(&e);
	if (as_json) {
		cmd_print_json(rows);
		return 0;
	}
	printf("%-12s  %-9s  %10s  %8s  %-7s  %s\n", "ID", "TYPE", "SIZE", "ELEMENTS", "STATUS", "PATH");
	json_array_foreach(rows, i, row) {
		const char *id = json_string_value(json_object_get(row, "id"));
		const char *type = json_string_value(json_object_get(row, "type"));
		const char *st = json_string_value(json_object_get(row, "status"));
		const char *err = json_string_value(json_object_get(row, "error"));
		json_t *nel = json_object_get(row, "elements");
		char els[24] = "-";
		if (json_is_integer(nel) &&
		    xsnprintf(els, sizeof(els), "%lld", (long long)json_integer_value(nel)) < 0)
			els[0] = '\0';  /* 20 digits fit: cannot happen */
		printf("%-12.12s  %-9s  %10lld  %8s  %-7s  ", id ? id : "-", type ? type : "-",
		       (long long)json_integer_value(json_object_get(row, "size")), els, st);
		cmd_put_path(stdout, json_string_value(json_object_get(row, "path")));
		if (err) {
			fputs(": ", stdout);
			cmd_put_text(stdout, err);
		}
		fputc('\n', stdout);
	}
	json_decref(rows);
	return 0;
}
