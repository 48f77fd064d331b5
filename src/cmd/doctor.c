/*
 * doctor.c - `moat doctor`: the deployment checklist of an air-gapped Ollama
 * target in one command.  Prints each check as it ends, one line each with
 * ✔ (ok), ! (warning) or ✘ (failed) and a fix under each ✘, or everything as
 * JSON with --json.  Exit status: 0 when nothing failed (warnings allowed),
 * 1 when a check failed, 2 for bad usage.
 */
#include "cmd.h"
#include "../doctor/doctor.h"
#include "../store/store.h"
#include "../core/fmt.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: moat doctor [--models-dir DIR] [--ollama URL] [--model NAME]... [--no-models]\n"
		"                   [--allow-host HOST] [--json]\n"
		"       moat doctor --golden BUNDLE [--model [NAME=]URI]... [--tolerance T] [--json]\n\n"
		"Runs the checklist of an air-gapped Ollama deployment: GPUs, driver and CUDA\n"
		"(nvidia-smi, nvcc); the model store (exists, readable by the server's user,\n"
		"passes 'moat models fsck --quick', free space); the server's environment\n"
		"(OLLAMA_HOST on loopback, OLLAMA_MODELS, OLLAMA_KEEP_ALIVE, OLLAMA_NUM_PARALLEL,\n"
		"proxy variables); the server (reachable, listening on loopback only, listing\n"
		"the store's models); and for each model a test answer, its tokens/s, GPU use\n"
		"and whether weights plus KV cache fit in memory.  In a workspace (-w, or found\n"
		"as other commands find it): where its tables are, and whether this node sees the\n"
		"originals the store names (every node of a cluster must mount the same share).\n"
		"  --models-dir DIR   the store (default: the server's OLLAMA_MODELS, OLLAMA_MODELS,\n"
		"                     ~/.ollama/models)\n"
		"  --ollama URL       the server (default: from OLLAMA_HOST, 127.0.0.1:11434)\n"
		"  --model NAME       test this model (repeatable; default: every model listed)\n"
		"  --no-models        skip the per-model checks\n"
		"  --json             print the checks as JSON\n"
		"  --golden BUNDLE    only rerun the known-good prompts the bundle carries (made by\n"
		"                     'moat models bundle --golden') and compare each model's answers;\n"
		"                     --model then names the runtime: NAME=URI, or one URI for all\n"
		"                     ({model} is replaced by the name); default: llama.cpp inside\n"
		"                     moat on the bundle's own GGUF blob\n"
		"  --tolerance T      with --golden: the least similarity (0..1) an answer that is\n"
		"                     not exact needs to pass (default 0.9)\n"
		"Exit status: 0 nothing failed, 1 a check failed, 2 bad usage.\n");
}

struct show {
	const char *group;
};

/* Prints a group's title: its name, or the group capitalised ("Model x"). */
static void print_group(const char *g)
{
	if (!strcmp(g, "gpu"))
		puts("GPU");
	else if (!strcmp(g, "store"))
		puts("Model store");
	else if (!strcmp(g, "env"))
		puts("Environment");
	else if (!strcmp(g, "server"))
		puts("Server");
	else if (!strcmp(g, "moat"))
		puts("moat");
	else
		printf("%c%s\n", g[0] >= 'a' && g[0] <= 'z' ? g[0] - 'a' + 'A' : g[0], g[0] ? g + 1 : "");
}

static void on_check(void *ud, json_t *c)
{
	struct show *s = ud;
	const char *g = json_string_value(json_object_get(c, "group"));
	const char *st = json_string_value(json_object_get(c, "status"));
	const char *fix = json_string_value(json_object_get(c, "fix"));
	if (!s->group || strcmp(s->group, g)) {
		if (s->group)
			putchar('\n');
		print_group(g);
		s->group = g;
	}
	printf("  %s %s\n", !strcmp(st, "ok") ? "\u2714" : !strcmp(st, "warn") ? "!" : "\u2718",
	       json_string_value(json_object_get(c, "message")));
	if (fix && !strcmp(st, "fail"))
		printf("      fix: %s\n", fix);
	fflush(stdout);
}

/* Adds a check to doctor's result (and shows it). */
static void add_check(json_t *res, struct show *s, int as_json, const char *check,
		      const char *status, const char *msg, const char *fix)
{
	json_t *c = json_pack("{s:s, s:s, s:s, s:s}", "group", "workspace", "check", check, "status",
			      status, "message", msg);
	json_t *n = json_object_get(res, "counts");
	if (!c)
		return;
	if (fix)
		json_object_set_new(c, "fix", json_string(fix));
	json_object_set_new(n, status, json_integer(json_integer_value(json_object_get(n, status)) + 1));
	if (!strcmp(status, "fail"))
		json_object_set_new(res, "ok", json_false());
	if (!as_json)
		on_check(s, c);
	json_array_append_new(json_object_get(res, "checks"), c);
}

/* The workspace here, when there is one: where its tables are, and whether
 * this node sees the originals the store names (on a cluster, every node
 * must mount the same share; one that mounted another finds none). */
static void check_workspace(struct cmd_ctx *ctx, json_t *res, struct show *s, int as_json)
{
	struct moat_err e = MOAT_ERR_INIT;
	char *dir = store_find(ctx->workspace_flag, &e);
	struct store *st;
	char msg[512];
	size_t checked, found;
	if (!dir)
		return;  /* no workspace here: nothing to check */
	st = store_open(dir, STORE_READ, &e);
	if (!st) {
		add_check(res, s, as_json, "store", "fail", e.msg,
			  "check the workspace's database (or its PostgreSQL server and ~/.pgpass)");
		free(dir);
		return;
	}
	if (xsnprintf(msg, sizeof(msg), "workspace %s: tables in %s%s%s", dir, store_kind(st),
		      *store_workspace_id(st) ? ", workspace id " : "", store_workspace_id(st)) < 0)
		msg[0] = '\0';
	add_check(res, s, as_json, "store", "ok", msg, NULL);
	if (store_check_objects(st, 64, &checked, &found, &e) < 0) {
		add_check(res, s, as_json, "objects", "fail", e.msg, NULL);
	} else if (found == checked) {
		if (xsnprintf(msg, sizeof(msg), "this node sees the originals: %zu of the last %zu "
			      "documents' under %s/objects", found, checked, dir) < 0)
			msg[0] = '\0';
		add_check(res, s, as_json, "objects", "ok", msg, NULL);
	} else {
		if (xsnprintf(msg, sizeof(msg), "%zu of the last %zu documents' originals are missing "
			      "under %s/objects", checked - found, checked, dir) < 0)
			msg[0] = '\0';
		add_check(res, s, as_json, "objects", "fail", msg,
			  "mount the same share at this path on every node (the one the other nodes "
			  "write to), or restore the missing originals");
	}
	switch (store_share_probe(st, msg, sizeof(msg), &e)) {
	case 1:
		add_check(res, s, as_json, "share", "ok", msg, NULL);
		break;
	case 0:
		add_check(res, s, as_json, "share", "fail", msg,
			  "mount the one share at this path on every node, then run moat doctor on "
			  "each node again");
		break;
	default:
		add_check(res, s, as_json, "share", "fail", e.msg,
			  "moat doctor leaves a probe file in the workspace's directory: it needs "
			  "to write there and to the tables");
	}
	store_close(st);
	free(dir);
}

int cmd_doctor(struct cmd_ctx *ctx)
{
	static const struct option opts[] = {
		{ "models-dir", required_argument, NULL, 'd' },
		{ "ollama", required_argument, NULL, 'o' },
		{ "model", required_argument, NULL, 'm' },
		{ "no-models", no_argument, NULL, 'N' },
		{ "allow-host", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'J' },
		{ "golden", required_argument, NULL, 'G' },
		{ "tolerance", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct doctor_opts o;
	struct llm_config cfg = llm_config_default();
	const char **models = calloc((size_t)ctx->argc + 1, sizeof(char *));
	const char **allow = calloc((size_t)ctx->argc + 1, sizeof(char *));
	struct show s = { NULL };
	const struct moat_err nomem = { MOAT_ENOMEM, "out of memory" };
	int as_json = 0, tol_set = 0, c, rc;
	json_t *res;

	if (!models || !allow) {
		free(models), free(allow);
		return cmd_fail(&nomem);
	}
	memset(&o, 0, sizeof(o));
	optind = 1;
	while ((c = getopt_long(ctx->argc, ctx->argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o.models_dir = optarg; break;
		case 'o': o.ollama_url = optarg; break;
		case 'm': models[o.n_models++] = optarg; break;
		case 'N': o.no_models = 1; break;
		case 'a': allow[cfg.n_allow_hosts++] = optarg; break;
		case 'J': as_json = 1; break;
		case 'G': o.golden_bundle = optarg; break;
		case 'T': {
			char *end;
			o.golden_tolerance = strtod(optarg, &end);
			if (*end || end == optarg || !(o.golden_tolerance >= 0 && o.golden_tolerance <= 1)) {
				free(models), free(allow);
				return cmd_usage("doctor: --tolerance wants a number from 0 to 1, not '%s'",
						 optarg);
			}
			tol_set = 1;
			break;
		}
		case 'h': usage(stdout); free(models), free(allow); return 0;
		default: usage(stderr); free(models), free(allow); return EXIT_USAGE;
		}
	}
	if (optind != ctx->argc) {
		free(models), free(allow);
		return cmd_usage("doctor: unexpected '%s'", ctx->argv[optind]);
	}
	if (tol_set && !o.golden_bundle) {
		free(models), free(allow);
		return cmd_usage("doctor: --tolerance goes with --golden BUNDLE");
	}
	if (!tol_set)
		o.golden_tolerance = 0.9;
	cfg.allow_hosts = allow;
	cfg.idle_timeout_ms = 600000;  /* a big model may load for minutes */
	o.models = models;
	o.cfg = &cfg;
	if (!as_json) {
		o.on_check = on_check;
		o.ud = &s;
	}
	res = doctor_run(&o);
	free(models), free(allow);
	if (!res)
		return cmd_fail(&nomem);
	if (!o.golden_bundle)
		check_workspace(ctx, res, &s, as_json);
	rc = json_is_true(json_object_get(res, "ok")) ? 0 : 1;
	if (as_json) {
		cmd_print_json(res);
	} else {
		json_t *n = json_object_get(res, "counts");
		printf("\n%lld passed, %lld warnings, %lld failed\n",
		       (long long)json_integer_value(json_object_get(n, "ok")),
		       (long long)json_integer_value(json_object_get(n, "warn")),
		       (long long)json_integer_value(json_object_get(n, "fail")));
		json_decref(res);
	}
	return rc;
}
