/*
 * export.c - `moat export`: write a dataset (export/export.h) and
 * `moat exports [verify DIR]`: list the exports, or check one on any
 * machine, without the workspace.
 *
 * Not for: what goes into an export or its checks (export/export.h); this
 * file parses options, calls and prints.
 */
#include "cmd.h"
#include "../export/export.h"
#include "../store/dataset.h"
#include "../store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/banned.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: moat export --format FORMAT --out DIR [--what documents|elements|chunks|annotations]\n"
		"                   [--chunks SET] [--project P] [--status accepted|submitted|all]\n"
		"                   [--label L]... [--split 80/10/10] [--seed S] [--raw]\n"
		"                   [--title T] [--origin TEXT] [--system PROMPT] [--instruction TEXT]\n"
		"                   [--json]\n\n"
		"Writes a new directory DIR: the data, README.md (the dataset card), MANIFEST\n"
		"(sha256sum -c format) and audit/ (the audit records that made the data, and\n"
		"this export's own record, which covers MANIFEST).  Nothing is under DIR\n"
		"until the export is complete.\n"
		"  formats  records: jsonl csv chat alpaca rag hf\n"
		"           text annotations: spacy conll label-studio doccano\n"
		"           image annotations: coco yolo voc\n"
		"  --what         documents (default), elements, chunks (rag's default),\n"
		"                 annotations (the annotation formats' default)\n"
		"  --chunks SET   the chunk set (default: the one made or updated last)\n"
		"  --project P    the annotation project (default: default)\n"
		"  --status S     annotations with status accepted (default), submitted, or all\n"
		"  --label L      keep only label L (repeat for more)\n"
		"  --split R      train/val/test ratios (80/10/10, 90/10, ...): grouped by\n"
		"                 document and near-duplicate cluster, stratified by label\n"
		"  --seed S       the split's seed (default moat): the same seed, the same split\n"
		"  --raw          export text that is NOT de-identified (documents clean has\n"
		"                 not processed, imported texts); the card says so\n"
		"  --origin TEXT  where the sources came from, for the card\n");
}

static unsigned parse_status(const char *s)
{
	if (!strcmp(s, "all"))
		return DS_DRAFT | DS_SUBMITTED | DS_ACCEPTED | DS_REJECTED;
	return ds_status_parse(s);
}

int cmd_export(struct cmd_ctx *ctx)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "what", required_argument, NULL, 'w' },
		{ "chunks", required_argument, NULL, 'c' },
		{ "project", required_argument, NULL, 'p' },
		{ "status", required_argument, NULL, 's' },
		{ "label", required_argument, NULL, 'l' },
		{ "split", required_argument, NULL, 'S' },
		{ "seed", required_argument, NULL, 'E' },
		{ "raw", no_argument, NULL, 'r' },
		{ "title", required_argument, NULL, 'T' },
		{ "origin", required_argument, NULL, 'O' },
		{ "system", required_argument, NULL, 'Y' },
		{ "instruction", required_argument, NULL, 'I' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct export_opts o = export_default_opts();
	struct export_result res;
	struct moat_err e = MOAT_ERR_INIT;
	const char *labels[64];
	int c, json = 0;
	unsigned bits;

	if (!ctx->store) {
		usage(stdout);
		return 0;
	}
	o.labels = labels;
	optind = 1;
	while ((c = getopt_long(ctx->argc, ctx->argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': o.format = optarg; break;
		case 'o': o.out = optarg; break;
		case 'w': o.what = optarg; break;
		case 'c': o.chunks = optarg; break;
		case 'p': o.project = optarg; break;
		case 's':
			if (!(bits = parse_status(optarg)))
				return cmd_usage("export: --status takes draft, submitted, accepted, "
						 "rejected or all");
			o.statuses |= bits;
			break;
		case 'l':
			if (o.n_labels == sizeof(labels) / sizeof(labels[0]))
				return cmd_usage("export: at most 64 --label");
			labels[o.n_labels++] = optarg;
			break;
		case 'S': o.split = optarg; break;
		case 'E': o.seed = optarg; break;
		case 'r': o.raw = 1; break;
		case 'T': o.title = optarg; break;
		case 'O': o.origin = optarg; break;
		case 'Y': o.system_prompt = optarg; break;
		case 'I': o.instruction = optarg; break;
		case 'J': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < ctx->argc)
		return cmd_usage("export: unexpected '%s' (see moat export --help)", ctx->argv[optind]);
	if (!o.format || !o.out)
		return cmd_usage("export: --format and --out are needed (see moat export --help)");
	o.cmdline = ctx->cmdline;
	if (export_run(ctx->store, &o, &res, &e) < 0) {
		if (e.code == MOAT_EUSAGE) {
			fprintf(stderr, "moat: export: %s\n", e.msg);
			return EXIT_USAGE;
		}
		return cmd_fail(&e);
	}
	if (json) {
		json_t *splits = json_object();
		for (size_t i = 0; splits && i < res.n_splits; i++)
			json_object_set_new(splits, res.split_names[i],
					    json_integer((json_int_t)res.split_counts[i]));
		cmd_print_json(json_pack("{s:s, s:s, s:s, s:I, s:o, s:I, s:I, s:s, s:I, s:s, s:I}",
					 "path", res.path, "format", o.format, "what", res.what,
					 "records", (json_int_t)res.records, "splits", splits,
					 "left_out", (json_int_t)res.left_out, "files", (json_int_t)res.files,
					 "manifest_sha256", res.manifest_sha256, "audit_seq",
					 (json_int_t)res.audit_seq, "audit_hash", res.audit_hash,
					 "trail_first", (json_int_t)res.trail_first));
	} else {
		printf("exported %zu %s as %s to %s:", res.records, res.what, o.format, res.path);
		for (size_t i = 0; i < res.n_splits; i++)
			printf(" %s %zu", res.split_names[i], res.split_counts[i]);
		printf("\n");
		if (res.left_out)
			printf("left out %lld (see the card's known gaps)\n", (long long)res.left_out);
		printf("MANIFEST %s (%ld files); audit record %lld %s\n", res.manifest_sha256, res.files,
		       (long long)res.audit_seq, res.audit_hash);
		if (o.raw)
			printf("warning: --raw: this export's text is NOT de-identified\n");
	}
	export_result_release(&res);
	return 0;
}

static void print_problem(void *ctx, const char *problem)
{
	(void)ctx;
	fprintf(stderr, "moat: %s\n", problem);
}

static int verify(int argc, char **argv)
{
	struct export_check c;
	struct moat_err e = MOAT_ERR_INIT;
	const char *dir = NULL;
	int json = 0;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!dir)
			dir = argv[i];
		else
			return cmd_usage("exports verify: one directory at a time");
	}
	if (!dir)
		return cmd_usage("usage: moat exports verify DIR [--json]");
	if (export_verify(dir, json ? NULL : print_problem, NULL, &c, &e) < 0)
		return cmd_fail(&e);
	if (json) {
		cmd_print_json(json_pack("{s:b, s:I, s:I, s:s, s:I, s:I, s:s, s:s}", "ok", c.ok, "files",
					 (json_int_t)c.files, "problems", (json_int_t)c.problems,
					 "first_problem", c.first_problem, "trail_first",
					 (json_int_t)c.trail_first, "trail_last", (json_int_t)c.trail_last,
					 "manifest_sha256", c.manifest_sha256, "record_hash", c.record_hash));
	} else if (c.ok) {
		printf("export intact: %zu files match MANIFEST %s; audit records %lld to %lld chain, "
		       "and the export's record %s covers MANIFEST\n", c.files, c.manifest_sha256,
		       (long long)c.trail_first, (long long)c.trail_last, c.record_hash);
	} else {
		fprintf(stderr, "moat: export '%s' does not hold: %zu problem%s\n", dir, c.problems,
			c.problems == 1 ? "" : "s");
	}
	return c.ok ? 0 : 1;
}

int cmd_exports(struct cmd_ctx *ctx)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct store *s;
	json_t *list, *x;
	size_t i;
	int json = 0;
	if (ctx->argc >= 2 && !strcmp(ctx->argv[1], "verify"))
		return verify(ctx->argc, ctx->argv);
	for (int k = 1; k < ctx->argc; k++) {
		if (!strcmp(ctx->argv[k], "--json"))
			json = 1;
		else if (!strcmp(ctx->argv[k], "--help") || !strcmp(ctx->argv[k], "-h")) {
			printf("usage: moat exports [--json]\n       moat exports verify DIR [--json]\n\n"
			       "Lists the workspace's exports, or checks an export directory on its\n"
			       "own (any machine, no workspace): its files against MANIFEST, its audit\n"
			       "records' chain, and the export's record covering MANIFEST.\n");
			return 0;
		} else
			return cmd_usage("exports: unexpected '%s'", ctx->argv[k]);
	}
	if (!(s = cmd_open_read(ctx, &e)))
		return cmd_fail(&e);
	list = ds_exports(s, &e);
	store_close(s);
	if (!list)
		return cmd_fail(&e);
	if (json) {
		cmd_print_json(list);
		return 0;
	}
	if (!json_array_size(list))
		printf("no exports (moat export makes one)\n");
	json_array_foreach(list, i, x) {
		struct stat st;
		const char *path = json_string_value(json_object_get(x, "path"));
		char *counts = json_dumps(json_object_get(x, "counts"), JSON_COMPACT | JSON_SORT_KEYS);
		printf("%s  %s  %-12s %-11s %s%s  %s\n     MANIFEST %s  audit record %lld%s\n",
		       json_string_value(json_object_get(x, "created_at")),
		       json_string_value(json_object_get(x, "user")),
		       json_string_value(json_object_get(x, "format")),
		       json_string_value(json_object_get(x, "what")), counts ? counts : "",
		       json_is_true(json_object_get(x, "raw")) ? " RAW" : "", path,
		       json_string_value(json_object_get(x, "manifest_sha256")),
		       (long long)json_integer_value(json_object_get(x, "audit_seq")),
		       path && stat(path, &st) == 0 ? "" : "  (the directory is not there now)");
		free(counts);
	}
	json_decref(list);
	return 0;
}
