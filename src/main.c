/*
 * main.c - moat's entry point: global options, the subcommand table, and the
 * set-up each subcommand needs (git's commands[]).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/jsonu.h"
#include "store/store.h"
#include "version.h"

#include "core/banned.h"

static const struct command commands[] = {
	{ "init", cmd_init, 0, "create a workspace" },
	{ "ingest", cmd_ingest, NEED_WORKSPACE | NEED_WRITE, "read files into the workspace" },
	{ "ls", cmd_ls, NEED_WORKSPACE, "list documents" },
	{ "show", cmd_show, NEED_WORKSPACE, "show one document's elements" },
	{ "audit", cmd_audit, 0, "show or verify the audit trail, or a slice of it" },
	{ "models", cmd_models, 0, "list, bundle, verify and install Ollama models" },
	{ "keys", cmd_keys, 0, "generate keys for signing bundles" },
	{ "llm", cmd_llm, 0, "run, embed and benchmark local models" },
	{ "doctor", cmd_doctor, 0, "check an air-gapped deployment" },
	{ "clean", cmd_clean, NEED_WORKSPACE | NEED_WRITE, "normalise, deduplicate, filter and de-identify" },
	{ "chunk", cmd_chunk, NEED_WORKSPACE | NEED_WRITE, "cut cleaned documents into chunks by tokens" },
	{ "export", cmd_export, NEED_WORKSPACE | NEED_WRITE, "write a dataset: records, annotations, card, audit" },
	{ "import", cmd_import, NEED_WORKSPACE | NEED_WRITE, "read annotations from other tools" },
	/* row by row in transactions, no writer lock: beside `moat serve` */
	{ "label", cmd_label, NEED_WORKSPACE, "annotation projects, AI pre-labels, review, agreement" },
	{ "augment", cmd_augment, NEED_WORKSPACE, "synthetic records from local models, screened, with provenance" },
	{ "exports", cmd_exports, 0, "list exports, or verify one on any machine" },
	{ "slurm", cmd_slurm, NEED_WORKSPACE, "run a stage's shards as a Slurm job array; follow, rerun" },
	{ "users", cmd_users, 0, "the users who log in to moat serve, and their roles" },
	{ "serve", cmd_serve, 0, "serve the JSON API (and the page) on localhost" },
	{ "pii", cmd_pii, 0, "scan text for PII, review findings, restore encrypted values" },
	{ "version", cmd_version, 0, "moat's version and the libraries it links" },
};

/* A stage run with --shard I/N takes the writer lock shared, so the shards
 * of one job run side by side (store.h, STORE_SHARD): ingest commits in
 * small batches, so its shards share SQLite too; clean and chunk write in
 * one transaction per run, so theirs share only a PostgreSQL store. */
static int shard_flags(const char *name, int argc, char **argv)
{
	int sharded = 0;
	for (int k = 1; k < argc && !sharded; k++)
		sharded = !strcmp(argv[k], "--shard") || !strncmp(argv[k], "--shard=", 8);
	if (!sharded)
		return 0;
	if (!strcmp(name, "ingest"))
		return STORE_SHARD;
	if (!strcmp(name, "clean") || !strcmp(name, "chunk"))
		return STORE_SHARD_PG;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: moat [-w DIR] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n-w DIR (or MOAT_WORKSPACE) names the workspace; otherwise the nearest\n"
		   "parent directory holding moat.db is used.  'moat COMMAND --help' for more.\n");
}

int main(int argc, char **argv)
{
	const char *ws = NULL;
	const struct command *cmd = NULL;
	struct cmd_ctx ctx;
	struct moat_err e = MOAT_ERR_INIT;
	int i = 1, rc, as_json = 0;

	moat_alloc_init();
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-w") || !strcmp(argv[i], "--workspace")) {
			if (i + 1 >= argc)
				return cmd_usage("-w needs a directory");
			ws = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--workspace=", 12)) {
			ws = argv[i] + 12;
			i++;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("moat %s\n", MOAT_VERSION);
			return 0;
		} else {
			fprintf(stderr, "moat: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (!strcmp(argv[i], commands[k].name))
			cmd = &commands[k];
	if (!cmd) {
		fprintf(stderr, "moat: '%s' is not a moat command (see 'moat --help')\n", argv[i]);
		return EXIT_USAGE;
	}

	memset(&ctx, 0, sizeof(ctx));
	ctx.argc = argc - i;
	ctx.argv = argv + i;
	ctx.workspace_flag = ws;
	if (!(ctx.cmdline = cmd_cmdline(argc, argv))) {
		fprintf(stderr, "moat: out of memory\n");
		return 1;
	}

	/* --help never needs a workspace; --json always prints a summary, also
	 * when the workspace cannot be opened */
	for (int k = 1; k < ctx.argc; k++) {
		if (!strcmp(ctx.argv[k], "--help") || !strcmp(ctx.argv[k], "-h"))
			goto run;
		if (!strcmp(ctx.argv[k], "--json"))
			as_json = 1;
	}

	if (cmd->needs & NEED_WORKSPACE) {
		char *dir = store_find(ws, &e);
		if (!dir) {
			json_decref(ctx.cmdline);
			return as_json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
		}
		if (cmd->needs & NEED_WRITE) {
			int flags = STORE_WRITE | shard_flags(cmd->name, ctx.argc, ctx.argv);
			ctx.store = store_open(dir, flags, &e);
			if (!ctx.store && e.code == MOAT_EBUSY) {
				fprintf(stderr, "moat: %s; waiting for it to finish\n", e.msg);
				err_clear(&e);
				ctx.store = store_open(dir, flags | STORE_WAIT, &e);
			}
		} else {
			ctx.store = store_open(dir, STORE_READ, &e);
		}
		free(dir);
		if (!ctx.store) {
			json_decref(ctx.cmdline);
			return as_json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
		}
	}
run:
	rc = cmd->fn(&ctx);
	store_close(ctx.store);
	json_decref(ctx.cmdline);
	if (fflush(stdout) != 0 && rc == 0) {
		perror("moat: cannot write the output");
		rc = 1;
	}
	return rc;
}
