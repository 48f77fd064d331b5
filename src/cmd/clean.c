/*
 * clean.c - `moat clean`: normalise, deduplicate, filter and de-identify the
 * workspace's documents (src/clean/stage.h), in one transaction with its
 * audit record; `moat clean show DOC` and `moat clean status` read the result.
 *
 * Not for: any of the cleaning (the clean stage does it) or its SQL
 * (store/cleaned.h); this file parses options, calls them and prints.
 */
#include "cmd.h"
#include "../clean/stage.h"
#include "../core/pool.h"
#include "../store/audit.h"
#include "../store/cleaned.h"
#include "../store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/banned.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: moat clean [--normalize] [--dedup exact|near] [--near-threshold 0.8]\n"
		"                  [--filters FILE] [--pii POLICY] [-j N] [--max-memory SIZE] [--json]\n"
		"                  [--level document|element|both] [--shingle N] [--perms N]\n"
		"                  [--bands N] [--seed N] [--boilerplate-min-docs N] [--shard I/N]\n"
		"       moat clean show DOC [--json]\n"
		"       moat clean status [--json]\n\n"
		"Cleans every document of the workspace and records what it did in the audit\n"
		"trail.  Documents and elements are never deleted: duplicates and documents a\n"
		"filter drops are marked with the reason.  A second run with the same options\n"
		"changes nothing.\n"
		"  --normalize          NFKC, control characters, white space, hyphenation,\n"
		"                       boilerplate lines repeated across documents\n"
		"  --dedup exact|near   mark exact (same normalised text) or near duplicates\n"
		"                       (MinHash + LSH), at document and element level\n"
		"  --near-threshold X   estimated Jaccard similarity for near duplicates (0.8)\n"
		"  --filters FILE       length, symbol, digit, repeated-line and language filters\n"
		"  --pii POLICY         find PII and replace it by the policy's operators\n"
		"  --level L            deduplicate documents, elements or both (both)\n"
		"  --shingle N          words per shingle (5); --perms N signature length (128)\n"
		"  --bands N            LSH bands (chosen from the threshold); --seed N (1)\n"
		"  -j N                 worker threads (default: the number of CPUs)\n"
		"  --max-memory SIZE    memory the documents being cleaned may take (default 2G);\n"
		"                       a document too large for it stops the run and says so\n"
		"  --shard I/N          only the documents of shard I of N (by document id):\n"
		"                       each is normalised, filtered and de-identified as an\n"
		"                       unsharded run would (boilerplate lines are still found\n"
		"                       over every document), but duplicates are not marked:\n"
		"                       that needs every document.  After the N shards, run\n"
		"                       moat clean with the same options and no --shard: it\n"
		"                       skips the documents already clean and marks the\n"
		"                       duplicates (docs/cluster.md)\n"
		"  --json               print the summary as JSON\n");
}

static int show(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct moat_err e = MOAT_ERR_INIT;
	int json = 0;
	const char *ref = NULL;
	json_t *d;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!ref)
			ref = argv[i];
		else
			return cmd_usage("clean show: one document at a time");
	}
	if (!ref)
		return cmd_usage("clean show: which document? (an id prefix)");
	d = clean_store_show(ctx->store, ref, &e);
	if (!d)
		return cmd_fail(&e);
	if (json) {
		cmd_print_json(d);
		return 0;
	}
	printf("%s  %s%s%s  lang %s\n", json_string_value(json_object_get(d, "id")),
	       json_string_value(json_object_get(d, "status")),
	       json_is_string(json_object_get(d, "reason")) ? ": " : "",
	       json_is_string(json_object_get(d, "reason")) ? json_string_value(json_object_get(d, "reason")) : "",
	       json_string_value(json_object_get(d, "lang")));
	printf("%s\n", json_string_value(json_object_get(d, "text")));
	json_decref(d);
	return 0;
}

static int status(struct cmd_ctx *ctx, int json)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *s = clean_store_summary(ctx->store, &e);
	if (!s)
		return cmd_fail(&e);
	if (json) {
		cmd_print_json(s);
		return 0;
	}
	/* a line per group: "documents: 3 kept, 1 near_duplicate" */
	{
		static const char *const groups[] = { "documents", "elements", "findings", "clusters",
						      "languages" };
		for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
			json_t *o = json_object_get(s, groups[g]), *v;
			const char *k;
			int first = 1;
			if (!json_is_object(o))
				continue;
			printf("%s:", groups[g]);
			json_object_foreach(o, k, v) {
				printf("%s %lld %s", first ? "" : ",", (long long)json_integer_value(v), k);
				first = 0;
			}
			printf("%s\n", first ? " none" : "");
		}
	}
	json_decref(s);
	return 0;
}

int cmd_clean(struct cmd_ctx *ctx)
{
	static const struct option opts[] = {
		{ "normalize", no_argument, NULL, 'N' },
		{ "dedup", required_argument, NULL, 'D' },
		{ "near-threshold", required_argument, NULL, 'T' },
		{ "filters", required_argument, NULL, 'F' },
		{ "pii", required_argument, NULL, 'P' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "max-memory", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'J' },
		{ "level", required_argument, NULL, 'L' },
		{ "shingle", required_argument, NULL, 'S' },
		{ "perms", required_argument, NULL, 'M' },
		{ "bands", required_argument, NULL, 'B' },
		{ "seed", required_argument, NULL, 'E' },
		{ "boilerplate-min-docs", required_argument, NULL, 'b' },
		{ "shard", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct clean_opts o = clean_default_opts();
	struct clean_summary sum;
	struct moat_err e = MOAT_ERR_INIT;
	char head[65] = "";
	int c, json = 0, rc = 0;
	int64_t run_id = 0;
	long n;
	char *end;

	if (!ctx->store) {
		/* only with --help does main() leave the workspace closed */
		usage(stdout);
		return 0;
	}
	if (ctx->argc >= 2 && !strcmp(ctx->argv[1], "show"))
		return show(ctx, ctx->argc - 1, ctx->argv + 1);
	if (ctx->argc >= 2 && !strcmp(ctx->argv[1], "status"))
		return status(ctx, ctx->argc >= 3 && !strcmp(ctx->argv[2], "--json"));
	o.jobs = pool_default_workers();
	optind = 1;
	while ((c = getopt_long(ctx->argc, ctx->argv, "j:h", opts, NULL)) != -1) {
		switch (c) {
		case 'N': o.normalize = 1; break;
		case 'D':
			if (!strcmp(optarg, "exact"))
				o.dedup = DEDUP_EXACT;
			else if (!strcmp(optarg, "near"))
				o.dedup = DEDUP_NEAR;
			else
				return cmd_usage("clean: --dedup takes exact or near");
			break;
		case 'T':
			o.mh.threshold = strtod(optarg, &end);
			if (*end || o.mh.threshold <= 0 || o.mh.threshold > 1)
				return cmd_usage("clean: --near-threshold needs a number in (0, 1]");
			break;
		case 'F': o.filters = optarg; break;
		case 'P': o.pii = optarg; break;
		case 'j':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 64)
				return cmd_usage("clean: -j needs a number from 1 to 64");
			o.jobs = (int)n;
			break;
		case 'm': {
			int ok;
			o.max_memory = cmd_parse_size(optarg, &ok);
			if (!ok || o.max_memory < ((size_t)64 << 20))
				return cmd_usage("clean: bad --max-memory '%s' (at least 64M)", optarg);
			break;
		}
		case 'J': json = 1; break;
		case 'L':
			if (!strcmp(optarg, "document") || !strcmp(optarg, "doc"))
				o.level = LEVEL_DOC;
			else if (!strcmp(optarg, "element"))
				o.level = LEVEL_ELEMENT;
			else if (!strcmp(optarg, "both"))
				o.level = LEVEL_BOTH;
			else
				return cmd_usage("clean: --level takes document, element or both");
			break;
		case 'S':
		case 'M':
		case 'B':
		case 'b':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 512)
				return cmd_usage("clean: --%s needs a number from 1 to 512",
						 c == 'S' ? "shingle" : c == 'M' ? "perms" : c == 'B' ? "bands"
								  : "boilerplate-min-docs");
			if (c == 'S')
				o.mh.shingle = (int)n;
			else if (c == 'M')
				o.mh.perms = (int)n;
			else if (c == 'B')
				o.mh.bands = (int)n;
			else
				o.boiler_min_docs = (int)n;
			break;
		case 'E': o.mh.seed = strtoull(optarg, &end, 10); break;
		case 'H':
			if ((rc = cmd_parse_shard("clean", optarg, &o.shard)) != 0)
				return rc;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < ctx->argc)
		return cmd_usage("clean: unexpected '%s' (see moat clean --help)", ctx->argv[optind]);
	if (o.mh.bands) {
		o.mh.rows = o.mh.perms / o.mh.bands;
		if (o.mh.rows < 1)
			return cmd_usage("clean: --bands cannot exceed --perms");
	}
	/* clean is one transaction: a run that stops has written nothing, and
	 * --json says so rather than print nothing */
	if (store_begin(ctx->store, &e) < 0)
		return json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
	if (store_run_begin(ctx->store, "clean", &run_id, &e) < 0 ||
	    clean_run(ctx->store, &o, run_id, &sum, &e) < 0) {
		store_rollback(ctx->store);
		return json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
	}
	{
		json_t *counts = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			"documents", (json_int_t)sum.documents, "processed", (json_int_t)sum.processed,
			"unchanged", (json_int_t)sum.unchanged, "kept", (json_int_t)sum.kept,
			"dropped", (json_int_t)sum.dropped, "duplicates", (json_int_t)sum.duplicates,
			"near_duplicates", (json_int_t)sum.near_duplicates, "elements",
			(json_int_t)sum.elements, "elements_dropped", (json_int_t)sum.elements_dropped,
			"elements_duplicate", (json_int_t)sum.elements_duplicate, "findings",
			(json_int_t)sum.findings, "clusters_document", (json_int_t)sum.clusters_doc,
			"clusters_element", (json_int_t)sum.clusters_el);
		json_t *outputs = json_pack("{s:O, s:O, s:O, s:O, s:O, s:I}",
			"findings", sum.findings_list, "findings_by_type", sum.findings_by_type,
			"operators", sum.operators, "drops", sum.drops, "drop_reasons", sum.drop_reasons,
			"boilerplate_lines", (json_int_t)sum.boilerplate_lines);
		json_object_set_new(outputs, "findings_columns",
				    json_pack("[s,s,s,s,s,s,s]", "id", "doc", "element", "type", "start",
					      "end", "operator"));
		if (o.shard.n) {
			/* which shard this was, and that duplicates wait for an
			 * unsharded run */
			json_object_set_new(sum.inputs, "shard", cmd_shard_json(&o.shard));
			json_object_set_new(sum.inputs, "dedup", json_string("deferred to an unsharded run"));
			json_object_set_new(counts, "other_shards", json_integer(sum.other_shards));
			if (!json_object_get(sum.inputs, "shard") || !json_object_get(counts, "other_shards")) {
				json_decref(counts);
				counts = NULL;
			}
		}
		if (!counts || !outputs) {
			json_decref(counts);
			json_decref(outputs);
			store_rollback(ctx->store);
			clean_summary_release(&sum);
			err_set(&e, MOAT_ENOMEM, "out of memory");
			return json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
		}
		if (cmd_audit_append(ctx, sum.inputs, outputs, counts, head) != 0 ||
		    store_run_end(ctx->store, run_id, "done", &e) < 0 ||
		    store_commit(ctx->store, &e) < 0) {
			store_rollback(ctx->store);
			if (!e.msg[0])
				err_set(&e, MOAT_EDB, "the run could not be recorded");
			rc = json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
		}
		if (rc == 0 && json) {
			cmd_print_json(json_pack("{s:b, s:O, s:O, s:O, s:O, s:s, s:I}", "ok", 1, "counts", counts,
						 "findings_by_type", sum.findings_by_type, "drop_reasons",
						 sum.drop_reasons, "inputs", sum.inputs, "audit_head", head,
						 "peak_rss_bytes", cmd_peak_rss()));
		} else if (rc == 0 && o.shard.n) {
			printf("cleaned shard %u/%u: %lld documents, %lld processed, %lld unchanged; %lld "
			       "left to the other shards\n", o.shard.i, o.shard.n, (long long)sum.documents,
			       (long long)sum.processed, (long long)sum.unchanged,
			       (long long)sum.other_shards);
			printf("elements: %lld dropped; %lld PII findings; %lld boilerplate lines\n",
			       (long long)sum.elements_dropped, (long long)sum.findings,
			       (long long)sum.boilerplate_lines);
			printf("duplicates are not marked by a shard: when every shard is done, run moat "
			       "clean with the same options and no --shard\n");
			printf("audit head %s\n", head);
		} else if (rc == 0) {
			printf("cleaned %lld documents: %lld processed, %lld unchanged; %lld kept, %lld dropped, "
			       "%lld duplicates, %lld near duplicates\n",
			       (long long)sum.documents, (long long)sum.processed, (long long)sum.unchanged,
			       (long long)sum.kept, (long long)sum.dropped, (long long)sum.duplicates,
			       (long long)sum.near_duplicates);
			printf("elements: %lld dropped, %lld duplicates; %lld PII findings; %lld boilerplate "
			       "lines\n", (long long)sum.elements_dropped, (long long)sum.elements_duplicate,
			       (long long)sum.findings, (long long)sum.boilerplate_lines);
			if (sum.processed == 0)
				printf("nothing changed\n");
			printf("audit head %s\n", head);
		}
		json_decref(counts);
		json_decref(outputs);
	}
	clean_summary_release(&sum);
	return rc;
}
