/*
 * audit.c - `moat audit log|verify`: read and check the hash-chained trail.
 *
 * Not for: the chain's rules or appending (store/audit.h); this file parses,
 * calls and prints.
 */
#include "cmd.h"
#include "../store/audit.h"

#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

static int audit_usage(void)
{
	return cmd_usage("usage: moat audit log [--json] | moat audit verify [--json]");
}

int cmd_audit(struct cmd_ctx *ctx)
{
	struct moat_err e = MOAT_ERR_INIT;
	int as_json = 0;
	const char *sub = ctx->argc > 1 ? ctx->argv[1] : NULL;
	if (!sub)
		return audit_usage();
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		printf("usage: moat audit log [--json]\n       moat audit verify [--json]\n\n"
		       "verify exits 0 and prints the head hash when the trail is intact, and\n"
		       "exits 1 naming the first bad record otherwise.\n");
		return 0;
	}
	for (int k = 2; k < ctx->argc; k++) {
		if (!strcmp(ctx->argv[k], "--json"))
			as_json = 1;
		else
			return audit_usage();
	}
	if (!strcmp(sub, "log")) {
		json_t *log = audit_log(ctx->store, &e), *r;
		size_t i;
		if (!log)
			return cmd_fail(&e);
		if (as_json) {
			cmd_print_json(log);
			return 0;
		}
		json_array_foreach(log, i, r) {
			char *cmd = json_dumps(json_object_get(r, "command"), JSON_COMPACT);
			char *counts = json_dumps(json_object_get(r, "counts"), JSON_COMPACT | JSON_SORT_KEYS);
			if ((!cmd && json_object_get(r, "command")) || (!counts && json_object_get(r, "counts"))) {
				free(cmd);
				free(counts);
				json_decref(log);
				err_set(&e, MOAT_ENOMEM, "cannot show audit record %zu: out of memory", i + 1);
				return cmd_fail(&e);
			}
			printf("%4lld %s %s@%s %s\n     counts %s\n     hash %s\n",
			       (long long)json_integer_value(json_object_get(r, "seq")),
			       json_string_value(json_object_get(r, "time")),
			       json_string_value(json_object_get(r, "user")),
			       json_string_value(json_object_get(r, "host")), cmd ? cmd : "",
			       counts ? counts : "{}", json_string_value(json_object_get(r, "hash")));
			free(cmd);
			free(counts);
		}
		json_decref(log);
		return 0;
	}
	if (!strcmp(sub, "verify")) {
		struct audit_check c;
		if (audit_verify(ctx->store, &c, &e) < 0)
			return cmd_fail(&e);
		if (as_json) {
			cmd_print_json(json_pack("{s:b, s:I, s:s, s:I, s:s}", "ok", c.ok,
						 "records", (json_int_t)c.records, "head", c.head,
						 "bad_record", (json_int_t)c.bad_seq, "reason", c.reason));
		} else if (c.ok) {
			printf("audit trail intact: %lld records, head %s\n", (long long)c.records,
			       c.records ? c.head : "(empty)");
		} else {
			fprintf(stderr, "moat: audit trail broken at record %lld: %s\n",
				(long long)c.bad_seq, c.reason);
		}
		return c.ok ? 0 : 1;
	}
	return audit_usage();
}
