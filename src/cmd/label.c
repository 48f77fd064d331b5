/*
 * label.c - `moat label`: annotation projects from the terminal (label.h):
 * create, suggest (AI pre-labels), eval, stats, review, ls, rm.
 *
 * The label stage changes rows, one transaction each, not the workspace's
 * stages' outputs: it needs no writer lock, so `moat serve` and a `label
 * suggest` (or several, one per Slurm shard) share a workspace.  Each
 * command that changes anything appends its audit record; review decisions
 * made here name the OS user as the reviewer.
 *
 * Not for: the rules (src/label/) or SQL; this file parses, calls, prints.
 */
#include "cmd.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "../core/progress.h"
#include "../core/shard.h"
#include "../label/label.h"
#include "../llm/llm.h"
#include "../store/store.h"

#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/banned.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: moat label create PROJECT --schema FILE [--from documents|elements|pages|\n"
		"                         chunks[:SET]|images] [--where EXPR] [--overlap N] [--raw]\n"
		"       moat label suggest PROJECT --model URI [-j N] [--limit N] [--dry-run] [--prompt-file F]\n"
		"                          [--seed N] [--shard I/N] [--allow-host HOST]\n"
		"       moat label eval PROJECT --model URI [--model URI]...\n"
		"       moat label stats PROJECT\n"
		"       moat label review PROJECT [--accept ID | --reject ID | --correct ID VALUE]\n"
		"                         [--limit N]\n"
		"       moat label ls | moat label rm PROJECT\n"
		"Every command takes --json.  See docs/label.md for schemas and --where.\n");
}

static void os_user(char *out, size_t n)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];
	const char *name = "unknown";
	if (getpwuid_r(geteuid(), &pw, tmp, sizeof(tmp), &res) == 0 && res)
		name = res->pw_name;
	if (n) {
		size_t k = strlen(name) < n - 1 ? strlen(name) : n - 1;
		memcpy(out, name, k);
		out[k] = '\0';
	}
}

static int do_ls(struct cmd_ctx *ctx, int json)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *ps = label_projects(ctx->store, &e), *p;
	size_t i;
	if (!ps)
		return json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
	if (json) {
		cmd_print_json(ps);
		return 0;
	}
	if (!json_array_size(ps))
		printf("no projects (moat label create makes one)\n");
	json_array_foreach(ps, i, p)
		printf("%-24s %-6s from %-12s %7lld tasks %7lld done %7lld annotations %7lld suggestions"
		       "%s%s\n", json_string_value(json_object_get(p, "name")),
		       json_string_value(json_object_get(p, "kind")),
		       json_is_string(json_object_get(p, "from")) ?
		       json_string_value(json_object_get(p, "from")) : "import",
		       (long long)json_integer_value(json_object_get(p, "tasks")),
		       (long long)json_integer_value(json_object_get(p, "done")),
		       (long long)json_integer_value(json_object_get(p, "annotations")),
		       (long long)json_integer_value(json_object_get(p, "suggestions")),
		       json_is_string(json_object_get(p, "where")) ? "  where " : "",
		       json_is_string(json_object_get(p, "where")) ?
		       json_string_value(json_object_get(p, "where")) : "");
	json_decref(ps);
	return 0;
}

static int do_create(struct cmd_ctx *ctx, const char *name, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "schema", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "where", required_argument, NULL, 'w' },
		{ "overlap", required_argument, NULL, 'o' },
		{ "raw", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'J' },
		{ NULL, 0, NULL, 0 },
	};
	struct label_create_opts o = { 0 };
	struct moat_err e = MOAT_ERR_INIT;
	struct buf schema = BUF_INIT;
	const char *schema_path = NULL;
	int c, json = 0;
	int64_t n, overlap = 1;
	o.name = name;
	o.from = "documents";
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': schema_path = optarg; break;
		case 'f': o.from = optarg; break;
		case 'w': o.where = optarg; break;
		case 'o':
			if (cmd_parse_int("--overlap", optarg, 1, 100, &overlap) < 0)
				return EXIT_USAGE;
			break;
		case 'r': o.raw = 1; break;
		case 'J': json = 1; break;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cmd_usage("label create: unexpected '%s'", argv[optind]);
	if (!schema_path)
		return cmd_usage("label create: give --schema FILE (docs/label.md shows one per kind)");
	if (fs_read_file(schema_path, &schema, (size_t)4 << 20, &e) < 0)
		return json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
	o.schema_text = buf_str(&schema);
	o.schema_len = schema.len;
	o.schema_what = schema_path;
	o.overlap = (int)overlap;
	n = label_create(ctx->store, &o, &e);
	buf_release(&schema);
	if (n < 0)
		return json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
	{
		json_t *out = json_pack("{s:s, s:I}", "project", name, "tasks", (json_int_t)n);
		json_t *counts = json_pack("{s:I}", "tasks", (json_int_t)n);
		int rc = cmd_audit_append(ctx, NULL, out, counts, NULL);
		json_decref(counts);
		if (rc) {
			json_decref(out);
			return rc;
		}
		if (json) {
			json_object_set_new(out, "ok", json_true());
			cmd_print_json(out);
		} else {
			json_decref(out);
			printf("project '%s': %lld tasks from %s%s%s\n", name, (long long)n, o.from,
			       o.where ? " where " : "", o.where ? o.where : "");
			if (!n)
				printf("no item matched: check --from and --where (moat ls lists documents)\n");
		}
	}
	return 0;
}

struct bar_ctx {
	struct progress bar;
	int started;
};

static void on_progress(void *ud, int64_t done, int64_t failed, int64_t total)
{
	struct bar_ctx *b = ud;
	if (!b->started) {
		progress_start(&b->bar, "suggest", (uint64_t)total, 0);
		b->started = 1;
	}
	progress_update(&b->bar, (uint64_t)(done + failed), 0);
}

static int do_suggest(struct cmd_ctx *ctx, const char *name, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'l' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 'S' },
		{ "shard", required_argument, NULL, 'H' },
		{ "allow-host", required_argument, NULL, 'A' },
		{ "prompt-file", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'J' },
		{ NULL, 0, NULL, 0 },
	};
	struct label_suggest_opts o = { 0 };
	struct buf tpl = BUF_INIT;
	const char *tpl_path = NULL;
	char tpl_sha[65] = "";
	struct label_suggest_result r;
	struct llm_config cfg = llm_config_default();
	struct moat_err e = MOAT_ERR_INIT;
	struct shard shard = SHARD_ALL;
	struct bar_ctx bar = { 0 };
	struct cmd_interrupt ci;
	const char *hosts[16];
	size_t n_hosts = 0;
	int c, json = 0, rc;
	int64_t v;
	o.jobs = 1;
	o.seed = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "j:", opts, NULL)) != -1) {
		switch (c) {
		case 'm': o.model = optarg; break;
		case 'j':
			if (cmd_parse_int("-j", optarg, 1, 256, &v) < 0)
				return EXIT_USAGE;
			o.jobs = (int)v;
			break;
		case 'l':
			if (cmd_parse_int("--limit", optarg, 1, INT64_MAX / 2, &o.limit) < 0)
				return EXIT_USAGE;
			break;
		case 'n': o.dry_run = 1; break;
		case 'S':
			if (cmd_parse_int("--seed", optarg, 0, INT64_MAX / 2, &o.seed) < 0)
				return EXIT_USAGE;
			break;
		case 'H':
			if (cmd_parse_shard("--shard", optarg, &shard) < 0)
				return EXIT_USAGE;
			o.shard = &shard;
			break;
		case 'A':
			if (n_hosts == sizeof(hosts) / sizeof(hosts[0]))
				return cmd_usage("--allow-host: at most 16 hosts");
			hosts[n_hosts++] = optarg;
			break;
		case 'P': tpl_path = optarg; break;
		case 'J': json = 1; break;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cmd_usage("label suggest: unexpected '%s'", argv[optind]);
	if (!o.model)
		return cmd_usage("label suggest: give --model URI (moat llm ls lists the models here)");
	if (tpl_path) {  /* a prompt template instead of the schema's */
		if (fs_read_file(tpl_path, &tpl, (size_t)256 << 10, &e) < 0 || !buf_str(&tpl)) {
			buf_release(&tpl);
			return e.code ? cmd_fail(&e) : cmd_usage("--prompt-file: out of memory");
		}
		o.template_text = buf_str(&tpl);
	}
	cfg.allow_hosts = hosts;
	cfg.n_allow_hosts = n_hosts;
	o.llm = &cfg;
	if (!json && isatty(STDERR_FILENO)) {
		o.progress = on_progress;
		o.ud = &bar;
	}
	o.cancel = cmd_catch_interrupt(&ci);
	rc = label_suggest(ctx->store, name, &o, &r, &e);
	cmd_release_interrupt(&ci);
	if (o.template_text) {  /* the audit record keeps its digest, not the text */
		sha256_hex_mem(o.template_text, strlen(o.template_text), tpl_sha);
		o.template_text = NULL;
	}
	buf_release(&tpl);
	if (bar.started)
		progress_finish(&bar.bar);
	{
		json_t *sum = json_pack("{s:s, s:s, s:I, s:I, s:I, s:b}", "project", name, "model", o.model,
					"tasks", (json_int_t)r.total, "suggested", (json_int_t)r.done,
					"failed", (json_int_t)r.failed, "dry_run", o.dry_run);
		if (sum && o.shard)
			json_object_set_new(sum, "shard", cmd_shard_json(&shard));
		if (sum && r.first_error[0])
			json_object_set_new(sum, "first_error", json_string(r.first_error));
		if (sum && r.tokens_per_s > 0)
			json_object_set_new(sum, "tokens_per_s", json_real(r.tokens_per_s));
		if (!o.dry_run && (r.done || r.failed)) {
			json_t *counts = json_pack("{s:I, s:I}", "suggested", (json_int_t)r.done, "failed",
						   (json_int_t)r.failed);
			json_t *inputs = json_pack("{s:s}", "model", o.model);
			if (inputs && tpl_sha[0])
				json_object_set_new(inputs, "template_sha256", json_string(tpl_sha));
			if (inputs && o.shard)
				json_object_set_new(inputs, "shard", cmd_shard_json(&shard));
			int arc = cmd_audit_append(ctx, inputs, NULL, counts, NULL);
			json_decref(counts);
			json_decref(inputs);
			if (arc) {
				json_decref(sum);
				return arc;
			}
		}
		if (rc < 0) {
			if (json)
				return cmd_fail_json(&e, sum);
			json_decref(sum);
			return cmd_fail(&e);
		}
		if (json) {
			json_object_set_new(sum, "ok", json_boolean(r.failed == 0));
			cmd_print_json(sum);
		} else {
			json_decref(sum);
			if (o.dry_run)
				printf("%lld tasks would get a suggestion from %s\n", (long long)r.total, o.model);
			else
				printf("%lld suggested, %lld failed, of %lld tasks without a suggestion from "
				       "%s\n", (long long)r.done, (long long)r.failed, (long long)r.total,
				       o.model);
			if (r.first_error[0])
				fprintf(stderr, "moat: first failure: %s\n", r.first_error);
		}
	}
	return r.failed ? 1 : 0;
}

static int do_eval(struct cmd_ctx *ctx, const char *name, int argc, char **argv)
{
	const char *models[32];
	size_t n = 0;
	int json = 0;
	struct moat_err e = MOAT_ERR_INIT;
	json_t *out, *m;
	size_t i;
	for (int k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--json")) {
			json = 1;
		} else if (!strcmp(argv[k], "--model") && k + 1 < argc) {
			if (n == sizeof(models) / sizeof(models[0]))
				return cmd_usage("label eval: at most 32 models");
			models[n++] = argv[++k];
		} else if (!strncmp(argv[k], "--model=", 8)) {
			if (n == sizeof(models) / sizeof(models[0]))
				return cmd_usage("label eval: at most 32 models");
			models[n++] = argv[k] + 8;
		} else {
			return cmd_usage("label eval: unexpected '%s'", argv[k]);
		}
	}
	if (!n)
		return cmd_usage("label eval: give --model URI (once per model to compare)");
	if (!(out = label_eval(ctx->store, name, models, n, &e)))
		return json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
	if (json) {
		cmd_print_json(out);
		return 0;
	}
	printf("%-48s %6s %9s %9s %9s %9s\n", "model", "tasks", "predicted", "accuracy", "macro-F1",
	       "tokens/s");
	json_array_foreach(out, i, m) {
		json_t *sp = json_object_get(m, "spans");
		double acc = json_number_value(json_object_get(m, "accuracy"));
		double f1 = json_number_value(json_object_get(m, "macro_f1"));
		if (sp) {
			acc = json_number_value(json_object_get(json_object_get(sp, "exact"), "precision"));
			f1 = json_number_value(json_object_get(json_object_get(sp, "exact"), "f1"));
		} else if (json_object_get(m, "exact_match")) {
			acc = f1 = json_number_value(json_object_get(m, "exact_match"));
		} else if (json_object_get(m, "box_map50")) {
			acc = f1 = json_number_value(json_object_get(m, "box_map50"));
		}
		printf("%-48s %6lld %9lld %9.3f %9.3f %9.1f\n",
		       json_string_value(json_object_get(m, "model")),
		       (long long)json_integer_value(json_object_get(m, "tasks")),
		       (long long)json_integer_value(json_object_get(m, "predicted")), acc, f1,
		       json_number_value(json_object_get(m, "tokens_per_s")));
	}
	if (json_array_size(out) && json_object_get(json_array_get(out, 0), "spans"))
		printf("(spans: the accuracy column is exact precision, macro-F1 exact F1; --json has "
		       "overlap figures)\n");
	json_decref(out);
	return 0;
}

static void print_fig(const char *name, const json_t *v)
{
	if (json_is_number(v))
		printf("  %-20s %.4f\n", name, json_number_value(v));
	else if (v)
		printf("  %-20s -\n", name);
}

static int do_stats(struct cmd_ctx *ctx, const char *name, int json)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *st = label_stats(ctx->store, name, &e), *c, *ag, *x;
	size_t i;
	if (!st)
		return json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
	if (json) {
		cmd_print_json(st);
		return 0;
	}
	c = json_object_get(st, "counts");
	printf("project %s (%s): %lld tasks, %lld done, %lld in progress\n", name,
	       json_string_value(json_object_get(st, "kind")),
	       (long long)json_integer_value(json_object_get(c, "tasks")),
	       (long long)json_integer_value(json_object_get(c, "done")),
	       (long long)json_integer_value(json_object_get(c, "in_progress")));
	printf("annotations: %lld submitted, %lld accepted, %lld rejected, %lld drafts; %lld "
	       "suggestions\n", (long long)json_integer_value(json_object_get(c, "submitted")),
	       (long long)json_integer_value(json_object_get(c, "accepted")),
	       (long long)json_integer_value(json_object_get(c, "rejected")),
	       (long long)json_integer_value(json_object_get(c, "draft")),
	       (long long)json_integer_value(json_object_get(c, "suggestions")));
	json_array_foreach(json_object_get(st, "annotators"), i, x)
		printf("  %-20s %lld submitted, %lld accepted, %lld rejected\n",
		       json_string_value(json_object_get(x, "name")),
		       (long long)json_integer_value(json_object_get(x, "submitted")),
		       (long long)json_integer_value(json_object_get(x, "accepted")),
		       (long long)json_integer_value(json_object_get(x, "rejected")));
	ag = json_object_get(st, "agreement");
	printf("agreement over %lld tasks:\n", (long long)json_integer_value(json_object_get(ag, "items")));
	print_fig("cohen_kappa", json_object_get(ag, "cohen_kappa"));
	print_fig("fleiss_kappa", json_object_get(ag, "fleiss_kappa"));
	print_fig("krippendorff_alpha", json_object_get(ag, "krippendorff_alpha"));
	print_fig("span_f1", json_object_get(ag, "span_f1"));
	print_fig("box_f1", json_object_get(ag, "box_f1"));
	printf("labels:\n");
	json_array_foreach(json_object_get(st, "labels"), i, x) {
		json_t *la = json_object_get(x, "agreement");
		const char *k;
		json_t *v;
		printf("  %-20s %6lld", json_string_value(json_object_get(x, "name")),
		       (long long)json_integer_value(json_object_get(x, "count")));
		json_object_foreach(la, k, v)
			if (json_is_number(v))
				printf("  %s %.4f", k, json_number_value(v));
		printf("\n");
	}
	json_decref(st);
	return 0;
}

static int do_review(struct cmd_ctx *ctx, const char *name, int argc, char **argv)
{
	struct moat_err e = MOAT_ERR_INIT;
	enum label_decision d = 0;
	int64_t id = 0, limit = 20;
	const char *value_text = NULL;
	int json = 0;
	char who[256];
	for (int k = 1; k < argc; k++) {
		const char *a = argv[k];
		if (!strcmp(a, "--json")) {
			json = 1;
		} else if ((!strcmp(a, "--accept") || !strcmp(a, "--reject")) && k + 1 < argc) {
			if (d)
				return cmd_usage("label review: one decision at a time");
			d = a[2] == 'a' ? LABEL_ACCEPT : LABEL_REJECT;
			if (cmd_parse_int(a, argv[++k], 1, INT64_MAX, &id) < 0)
				return EXIT_USAGE;
		} else if (!strcmp(a, "--correct") && k + 2 < argc) {
			if (d)
				return cmd_usage("label review: one decision at a time");
			d = LABEL_CORRECT;
			if (cmd_parse_int(a, argv[++k], 1, INT64_MAX, &id) < 0)
				return EXIT_USAGE;
			value_text = argv[++k];
		} else if (!strcmp(a, "--limit") && k + 1 < argc) {
			if (cmd_parse_int(a, argv[++k], 1, 200, &limit) < 0)
				return EXIT_USAGE;
		} else {
			return cmd_usage("label review: unexpected '%s'", a);
		}
	}
	if (d) {
		json_t *value = NULL, *out;
		json_error_t je;
		int rc;
		if (value_text && !(value = json_loads(value_text, 0, &je)))
			return cmd_usage("--correct: the value is not JSON (%s); for example "
					 "'{\"labels\": [\"invoice\"]}'", je.text);
		os_user(who, sizeof(who));
		rc = label_review(ctx->store, name, id, who, d, value, &e);
		json_decref(value);
		if (rc < 0)
			return json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
		out = json_pack("{s:b, s:I, s:s, s:s}", "ok", 1, "annotation", (json_int_t)id, "decision",
				d == LABEL_ACCEPT ? "accepted" : d == LABEL_REJECT ? "rejected" : "corrected",
				"reviewer", who);
		if (json)
			cmd_print_json(out);
		else {
			json_decref(out);
			printf("annotation %lld %s by %s\n", (long long)id,
			       d == LABEL_ACCEPT ? "accepted" : d == LABEL_REJECT ? "rejected" : "corrected",
			       who);
		}
		return 0;
	}
	{
		json_t *q = label_review_queue(ctx->store, name, 0, (int)limit, &e), *t, *a;
		size_t i, j;
		if (!q)
			return json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
		if (json) {
			cmd_print_json(q);
			return 0;
		}
		if (!json_array_size(json_object_get(q, "tasks")))
			printf("nothing to review in '%s'\n", name);
		json_array_foreach(json_object_get(q, "tasks"), i, t) {
			const char *text = json_string_value(json_object_get(t, "text"));
			printf("task %lld  %s\n  %.*s%s\n", (long long)json_integer_value(json_object_get(t, "id")),
			       json_string_value(json_object_get(t, "name")) ?
			       json_string_value(json_object_get(t, "name")) : "",
			       text ? (int)(strlen(text) > 120 ? 120 : strlen(text)) : 0, text ? text : "",
			       text && strlen(text) > 120 ? "..." : "");
			json_array_foreach(json_object_get(t, "annotations"), j, a) {
				char *v = json_dumps(json_object_get(a, "value"), JSON_COMPACT);
				printf("  annotation %-6lld %-10s %-16s %s\n",
				       (long long)json_integer_value(json_object_get(a, "id")),
				       json_string_value(json_object_get(a, "status")),
				       json_string_value(json_object_get(a, "annotator")), v ? v : "?");
				free(v);
			}
		}
		json_decref(q);
	}
	return 0;
}

static int do_rm(struct cmd_ctx *ctx, const char *name, int json)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *counts = NULL, *out;
	int rc;
	if (label_rm(ctx->store, name, &counts, &e) < 0)
		return json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
	out = json_pack("{s:s}", "project", name);
	rc = cmd_audit_append(ctx, NULL, out, counts, NULL);
	if (rc) {
		json_decref(out);
		json_decref(counts);
		return rc;
	}
	if (json) {
		json_object_set_new(out, "ok", json_true());
		json_object_set(out, "removed", counts);
		cmd_print_json(out);
	} else {
		json_decref(out);
		printf("removed project '%s': %lld tasks, %lld annotations, %lld suggestions\n", name,
		       (long long)json_integer_value(json_object_get(counts, "tasks")),
		       (long long)json_integer_value(json_object_get(counts, "annotations")),
		       (long long)json_integer_value(json_object_get(counts, "suggestions")));
	}
	json_decref(counts);
	return 0;
}

int cmd_label(struct cmd_ctx *ctx)
{
	const char *sub = ctx->argc >= 2 ? ctx->argv[1] : NULL;
	int json = 0;
	if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h") || !ctx->store) {
		usage(stdout);
		return sub || ctx->store ? 0 : EXIT_USAGE;
	}
	for (int k = 2; k < ctx->argc; k++)
		if (!strcmp(ctx->argv[k], "--json"))
			json = 1;
	if (!strcmp(sub, "ls"))
		return do_ls(ctx, json);
	if (ctx->argc < 3 || ctx->argv[2][0] == '-')
		return cmd_usage("label %s: give the project's name", sub);
	/* argv from the subcommand's name: getopt sees [sub, options...] */
	{
		const char *name = ctx->argv[2];
		int argc = ctx->argc - 2;
		char **argv = ctx->argv + 2;
		argv[0] = ctx->argv[1];
		if (!strcmp(sub, "create"))
			return do_create(ctx, name, argc, argv);
		if (!strcmp(sub, "suggest"))
			return do_suggest(ctx, name, argc, argv);
		if (!strcmp(sub, "eval"))
			return do_eval(ctx, name, argc, argv);
		if (!strcmp(sub, "stats"))
			return do_stats(ctx, name, json);
		if (!strcmp(sub, "review"))
			return do_review(ctx, name, argc, argv);
		if (!strcmp(sub, "rm"))
			return do_rm(ctx, name, json);
	}
	return cmd_usage("label: unknown command '%s' (create, suggest, eval, stats, review, ls, rm)",
			 sub);
}
