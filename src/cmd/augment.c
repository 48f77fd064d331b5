/*
 * augment.c - `moat augment`: synthetic records from local models
 * (augment.h): run a recipe, list runs (ls), show a run's records and
 * rejects (show).
 *
 * Like the label stage, augment changes rows, one transaction per record,
 * so it needs no writer lock: `moat serve` may run beside it.  A run that
 * stored anything appends its audit record.
 *
 * Not for: the rules (src/augment/) or SQL; this file parses, calls, prints.
 */
#include "cmd.h"
#include "../augment/augment.h"
#include "../core/buf.h"
#include "../core/fs.h"
#include "../core/progress.h"
#include "../llm/llm.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/banned.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: moat augment RECIPE --model URI --project P [--from chunks[:SET]|documents|\n"
		"                    annotations] [--n N] [--seed S] [--recipe-file FILE] [--dry-run]\n"
		"                    [-j N] [--limit N] [--shard I/N] [--pii FILE] [--pii-reject]\n"
		"                    [--model2 URI]\n"
		"                    [--allow-host HOST] [--json]\n"
		"       moat augment ls [--json]\n"
		"       moat augment show RUN [--json]\n"
		"       moat augment recipe NAME     (a built-in recipe as JSON: a start for your own)\n"
		"Recipes: paraphrase, qa, balance, instruct, preference, or your own with\n"
		"--recipe-file FILE (RECIPE is then its name).  See docs/augment.md.\n");
}

struct bar_ctx {
	struct progress bar;
	int started;
};

static void on_progress(void *ud, int64_t done, int64_t total)
{
	struct bar_ctx *b = ud;
	if (!b->started) {
		progress_start(&b->bar, "augment", (uint64_t)total, 0);
		b->started = 1;
	}
	progress_update(&b->bar, (uint64_t)done, 0);
}

static int on_prompt(void *ud, const char *key, const char *system, const char *prompt)
{
	(void)ud;
	printf("--- record %.16s\n", key);
	if (system)
		printf("[system]\n%s\n", system);
	cmd_put_text(stdout, prompt);
	putchar('\n');
	return ferror(stdout) ? -1 : 0;
}

static int do_ls(struct cmd_ctx *ctx, int json)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *runs = aug_runs(ctx->store, &e), *r;
	size_t i;
	if (!runs)
		return json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
	if (json) {
		cmd_print_json(runs);
		return 0;
	}
	if (!json_array_size(runs))
		printf("no augment runs (moat augment RECIPE --model URI --project P makes one)\n");
	json_array_foreach(runs, i, r) {
		const char *k;
		json_t *n;
		printf("%4lld %-11s %-10s %-20s %5lld generated %5lld accepted %5lld rejected",
		       (long long)json_integer_value(json_object_get(r, "id")),
		       json_string_value(json_object_get(r, "status")),
		       json_string_value(json_object_get(r, "recipe")),
		       json_string_value(json_object_get(r, "project")),
		       (long long)json_integer_value(json_object_get(r, "generated")),
		       (long long)json_integer_value(json_object_get(r, "accepted")),
		       (long long)json_integer_value(json_object_get(r, "rejected")));
		json_object_foreach(json_object_get(r, "reasons"), k, n)
			printf(" %s=%lld", k, (long long)json_integer_value(n));
		if (json_integer_value(json_object_get(r, "failed")))
			printf(" %lld failed", (long long)json_integer_value(json_object_get(r, "failed")));
		printf("  %s\n", json_string_value(json_object_get(r, "model")));
	}
	json_decref(runs);
	return 0;
}

static int do_show(struct cmd_ctx *ctx, int argc, char **argv, int json)
{
	struct moat_err e = MOAT_ERR_INIT;
	int64_t id;
	json_t *r, *rec;
	size_t i;
	if (argc < 3)
		return cmd_usage("augment show: give a run's number (moat augment ls lists them)");
	if (cmd_parse_int("augment show", argv[2], 1, INT64_MAX / 2, &id) < 0)
		return EXIT_USAGE;
	if (!(r = aug_show(ctx->store, id, &e)))
		return json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
	if (json) {
		cmd_print_json(r);
		return 0;
	}
	printf("run %lld: %s, recipe %s, project %s, model %s, seed %lld\n", (long long)id,
	       json_string_value(json_object_get(r, "status")), json_string_value(json_object_get(r, "recipe")),
	       json_string_value(json_object_get(r, "project")), json_string_value(json_object_get(r, "model")),
	       (long long)json_integer_value(json_object_get(r, "seed")));
	json_array_foreach(json_object_get(r, "records"), i, rec) {
		char *v = json_dumps(json_object_get(rec, "value"), JSON_COMPACT | JSON_SORT_KEYS);
		const char *st = json_string_value(json_object_get(rec, "status"));
		printf("%6lld %s", (long long)json_integer_value(json_object_get(rec, "id")), st);
		if (!strcmp(st, "rejected"))
			printf(" (%s: %s)", json_string_value(json_object_get(rec, "reason")),
			       json_string_value(json_object_get(rec, "detail")) ?
			       json_string_value(json_object_get(rec, "detail")) : "");
		else
			printf(" task %lld", (long long)json_integer_value(json_object_get(rec, "task_id")));
		fputs("  ", stdout);
		cmd_put_text(stdout, v ? v : "?");
		putchar('\n');
		free(v);
	}
	json_decref(r);
	return 0;
}

int cmd_augment(struct cmd_ctx *ctx)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "model2", required_argument, NULL, 'M' },
		{ "project", required_argument, NULL, 'p' },
		{ "from", required_argument, NULL, 'f' },
		{ "n", required_argument, NULL, 'N' },
		{ "seed", required_argument, NULL, 'S' },
		{ "recipe-file", required_argument, NULL, 'R' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'l' },
		{ "shard", required_argument, NULL, 'H' },
		{ "pii", required_argument, NULL, 'P' },
		{ "pii-reject", no_argument, NULL, 'X' },
		{ "allow-host", required_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct aug_opts o = aug_opts_default();
	struct aug_result res;
	struct aug_recipe *r = NULL;
	struct llm_config cfg = llm_config_default();
	struct moat_err e = MOAT_ERR_INIT;
	struct bar_ctx bar = { 0 };
	struct cmd_interrupt ci;
	const char *hosts[16], *recipe_file = NULL, *name;
	size_t n_hosts = 0;
	int c, json = 0, rc;
	int64_t v;

	for (int k = 1; k < ctx->argc; k++)
		if (!strcmp(ctx->argv[k], "--json"))
			json = 1;
	if (ctx->argc >= 2 && (!strcmp(ctx->argv[1], "--help") || !strcmp(ctx->argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (ctx->argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	name = ctx->argv[1];
	if (!strcmp(name, "ls"))
		return ctx->argc > 2 + json ? cmd_usage("augment ls: only --json") : do_ls(ctx, json);
	if (!strcmp(name, "show"))
		return do_show(ctx, ctx->argc, ctx->argv, json);
	if (!strcmp(name, "recipe")) {  /* a built-in recipe as a file of one's own starts */
		json_t *j;
		if (ctx->argc != 3 + json)
			return cmd_usage("augment recipe: give one recipe's name");
		if (!(r = aug_recipe_builtin(ctx->argv[2], &e)))
			return cmd_fail(&e);
		j = aug_recipe_json(r);
		aug_recipe_free(r);
		r = NULL;
		if (!j)
			return cmd_usage("augment recipe: out of memory");
		cmd_print_json(j);
		return 0;
	}
	optind = 2;
	while ((c = getopt_long(ctx->argc, ctx->argv, "j:", opts, NULL)) != -1) {
		switch (c) {
		case 'm': o.model = optarg; break;
		case 'M': o.model2 = optarg; break;
		case 'p': o.project = optarg; break;
		case 'f': o.from = optarg; break;
		case 'N':
			if (cmd_parse_int("--n", optarg, 0, 100000, &v) < 0)
				return EXIT_USAGE;
			o.n = (int)v;
			break;
		case 'S':
			if (cmd_parse_int("--seed", optarg, 0, 0x7fffffff, &v) < 0)
				return EXIT_USAGE;
			o.seed = v;
			break;
		case 'R': recipe_file = optarg; break;
		case 'n': o.dry_run = 1; break;
		case 'j':
			if (cmd_parse_int("-j", optarg, 1, 256, &v) < 0)
				return EXIT_USAGE;
			o.jobs = (int)v;
			break;
		case 'l':
			if (cmd_parse_int("--limit", optarg, 1, INT64_MAX / 2, &v) < 0)
				return EXIT_USAGE;
			o.limit = v;
			break;
		case 'H':
			if ((rc = cmd_parse_shard("augment", optarg, &o.shard)) != 0)
				return rc;
			break;
		case 'P': o.pii = optarg; break;
		case 'X': o.pii_reject = 1; break;
		case 'A':
			if (n_hosts == sizeof(hosts) / sizeof(hosts[0]))
				return cmd_usage("--allow-host: at most 16 hosts");
			hosts[n_hosts++] = optarg;
			break;
		case 'J': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != ctx->argc)
		return cmd_usage("augment: unexpected '%s'", ctx->argv[optind]);
	if (!o.model)
		return cmd_usage("augment: give --model URI (moat llm ls lists the models here)");
	if (!o.project)
		return cmd_usage("augment: give --project P (the project the records join)");
	if (!strcmp(name, "balance") && o.n == 1)
		o.n = 0;  /* balance's --n is a target; none given: the largest label's count */
	if (recipe_file) {
		struct buf b = BUF_INIT;
		if (fs_read_file(recipe_file, &b, (size_t)1 << 20, &e) < 0) {
			buf_release(&b);
			return json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
		}
		r = aug_recipe_parse(b.data ? b.data : "", b.len, recipe_file, &e);
		buf_release(&b);
		if (r && strcmp(r->name, name)) {
			err_set(&e, MOAT_EUSAGE, "%s: the recipe is called '%s', not '%s'", recipe_file,
				r->name, name);
			aug_recipe_free(r);
			r = NULL;
		}
	} else {
		r = aug_recipe_builtin(name, &e);
	}
	if (!r)
		return json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
	cfg.allow_hosts = hosts;
	cfg.n_allow_hosts = n_hosts;
	o.llm = &cfg;
	if (o.dry_run) {
		o.on_prompt = on_prompt;
	} else if (!json && isatty(STDERR_FILENO)) {
		o.progress = on_progress;
		o.ud = &bar;
	}
	o.cancel = cmd_catch_interrupt(&ci);
	rc = aug_run(ctx->store, r, &o, &res, &e);
	cmd_release_interrupt(&ci);
	if (bar.started)
		progress_finish(&bar.bar);
	{
		json_t *sum = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:O?, s:b}",
					"recipe", r->name, "recipe_sha256", r->sha256, "model", o.model,
					"project", o.project, "run", (json_int_t)res.aug_run, "seed",
					(json_int_t)res.seed, "records", (json_int_t)res.total, "skipped",
					(json_int_t)res.skipped, "accepted", (json_int_t)res.accepted,
					"rejected", (json_int_t)res.rejected, "failed",
					(json_int_t)res.failed, "reasons", res.reasons, "dry_run", o.dry_run);
		if (sum && res.first_error[0])
			json_object_set_new(sum, "first_error", json_string(res.first_error));
		if (sum && o.shard.n) {
			json_object_set_new(sum, "shard", cmd_shard_json(&o.shard));
			json_object_set_new(sum, "other_shards", json_integer(res.other_shards));
		}
		if (!o.dry_run && res.generated) {
			json_t *counts = json_pack("{s:I, s:I, s:I}", "accepted", (json_int_t)res.accepted,
						   "rejected", (json_int_t)res.rejected, "failed",
						   (json_int_t)res.failed);
			json_t *inputs = json_pack("{s:s, s:s, s:s, s:I, s:I, s:o*}", "recipe", r->name,
						   "recipe_sha256", r->sha256, "model", o.model, "seed",
						   (json_int_t)res.seed, "augment_run", (json_int_t)res.aug_run,
						   "shard", cmd_shard_json(&o.shard));
			int arc = cmd_audit_append(ctx, inputs, NULL, counts, NULL);
			json_decref(counts);
			json_decref(inputs);
			if (arc) {
				json_decref(sum);
				aug_result_release(&res);
				aug_recipe_free(r);
				return arc;
			}
		}
		aug_recipe_free(r);
		if (rc < 0) {
			aug_result_release(&res);
			if (json)
				return cmd_fail_json(&e, sum);
			json_decref(sum);
			return cmd_fail(&e);
		}
		if (json) {
			json_object_set_new(sum, "ok", json_boolean(res.failed == 0));
			cmd_print_json(sum);
		} else {
			const char *k;
			json_t *n;
			json_decref(sum);
			if (o.dry_run) {
				printf("%lld prompts would be sent (%lld records stored before)\n",
				       (long long)res.total, (long long)res.skipped);
			} else {
				printf("run %lld: %lld accepted, %lld rejected", (long long)res.aug_run,
				       (long long)res.accepted, (long long)res.rejected);
				json_object_foreach(res.reasons, k, n)
					printf(" %s=%lld", k, (long long)json_integer_value(n));
				printf(", %lld failed, %lld stored before\n", (long long)res.failed,
				       (long long)res.skipped);
			}
			if (o.shard.n)
				printf("shard %u/%u: left %lld records to the other shards\n", o.shard.i,
				       o.shard.n, (long long)res.other_shards);
			if (res.first_error[0])
				fprintf(stderr, "moat: first failure: %s\n", res.first_error);
		}
	}
	rc = res.failed ? 1 : 0;
	aug_result_release(&res);
	return rc;
}
