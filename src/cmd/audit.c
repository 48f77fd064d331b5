/*
 * audit.c - `moat audit log|verify`: read and check the hash-chained trail.
 *
 * Not for: the chain's rules or appending (store/audit.h); this file parses,
 * calls and prints.
 */
#include "cmd.h"
#include "../core/buf.h"
#include "../core/fs.h"
#include "../store/audit.h"

#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

static int audit_usage(void)
{
	return cmd_usage("usage: moat audit log [--json] | moat audit verify [--json] "
			 "| moat audit verify --file FILE... [--json]");
}

/* `moat audit verify --file F...`: a slice of a trail (an export's
 * audit/trail.jsonl, then audit/export.json), on its own. */
static int verify_files(char **files, int n, int as_json)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct buf all = BUF_INIT;
	struct audit_check c;
	for (int i = 0; i < n; i++) {
		struct buf one = BUF_INIT;
		if (fs_read_file(files[i], &one, (size_t)1 << 31, &e) < 0) {
			buf_release(&all);
			return cmd_fail(&e);
		}
		buf_add(&all, one.data ? one.data : "", one.len);
		if (one.len && one.data[one.len - 1] != '\n')
			buf_addch(&all, '\n');
		buf_release(&one);
	}
	if (buf_failed(&all)) {
		buf_release(&all);
		err_set(&e, MOAT_ENOMEM, "out of memory");
		return cmd_fail(&e);
	}
	while (all.len && all.data[all.len - 1] == '\n')
		all.len--;
	if (audit_verify_slice(all.data ? all.data : "", all.len, NULL, &c, &e) < 0) {
		buf_release(&all);
		return cmd_fail(&e);
	}
	buf_release(&all);
	if (as_json)
		cmd_print_json(json_pack("{s:b, s:I, s:I, s:s, s:I, s:s}", "ok", c.ok, "records",
					 (json_int_t)c.records, "first_record", (json_int_t)c.first_seq,
					 "head", c.head, "bad_line", (json_int_t)c.bad_seq, "reason",
					 c.reason));
	else if (c.ok)
		printf("audit slice intact: records %lld to %lld chain, head %s\n",
		       (long long)c.first_seq, (long long)(c.first_seq + c.records - 1), c.head);
	else
		fprintf(stderr, "moat: audit slice broken: %s\n", c.reason);
	return c.ok ? 0 : 1;
}

int cmd_audit(struct cmd_ctx *ctx)
{
	struct moat_err e = MOAT_ERR_INIT;
	int as_json = 0;
	const char *sub = ctx->argc > 1 ? ctx->argv[1] : NULL;
	if (!sub)
		return audit_usage();
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		printf("usage: moat audit log [--json]\n       moat audit verify [--json]\n"
		       "       moat audit verify --file FILE... [--json]\n\n"
		       "verify exits 0 and prints the head hash when the trail is intact, and\n"
		       "exits 1 naming the first bad record otherwise.  With --file it checks a\n"
		       "slice of a trail on its own, without a workspace (an export's\n"
		       "audit/trail.jsonl, then audit/export.json): each record chains to the\n"
		       "one before it.\n");
		return 0;
	}
	for (int k = 2; k < ctx->argc; k++) {
		if (!strcmp(ctx->argv[k], "--json"))
			as_json = 1;
		else if (!strcmp(ctx->argv[k], "--file") && !strcmp(sub, "verify")) {
			char *files[64];
			int n = 0;
			for (int j = 2; j < ctx->argc; j++) {
				if (!strcmp(ctx->argv[j], "--json"))
					as_json = 1;
				else if (!strcmp(ctx->argv[j], "--file"))
					continue;
				else if (n < 64)
					files[n++] = ctx->argv[j];
				else
					return cmd_usage("audit verify: at most 64 files");
			}
			if (!n)
				return cmd_usage("audit verify --file: which file?");
			return verify_files(files, n, as_json);
		} else
			return audit_usage();
	}
	if (!(ctx->store = cmd_open_read(ctx, &e)))
		return cmd_fail(&e);
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
		/* 1 means broken; a trail that could not be read for the machine's
		 * fault (a full disk, an I/O error) is not a verdict: EXIT_ENV */
		if (audit_verify(ctx->store, &c, &e) < 0)
			return as_json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
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
