/*
 * import.c - `moat import`: annotations from other tools into a project
 * (export/import.h), one transaction per file, and one audit record for the
 * command naming every file with its digest and what came of it.
 *
 * Not for: reading the formats (export/annot.h) or SQL; this file parses,
 * calls and prints.  Exit status 1 when a file could not be imported (the
 * others are).
 */
#define _GNU_SOURCE
#include "cmd.h"
#include "../core/fmt.h"
#include "../export/annot.h"
#include "../export/import.h"
#include "../store/dataset.h"
#include "../store/store.h"

#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/banned.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: moat import --format FORMAT PATH... [--project P]\n"
		"                   [--status accepted|submitted] [--json]\n\n"
		"Reads annotations made with other tools into a project's tasks (one\n"
		"transaction per file: a malformed file is named with the line or record and\n"
		"the field, and nothing of it is imported).  Images the files name are\n"
		"ingested as documents.  Annotations are accepted unless --status says\n"
		"otherwise; their annotator is you, plus the name the file gives.\n"
		"Predictions become suggestions.  Imported texts are not cleaned: exporting\n"
		"them needs --raw.\n"
		"  formats: label-studio doccano conll spacy coco yolo voc\n");
}

static void user_name(char *out, size_t n)
{
	struct passwd pw, *res = NULL;
	char tmp[4096];
	if (getpwuid_r(geteuid(), &pw, tmp, sizeof(tmp), &res) == 0 && res && strlen(res->pw_name) < n)
		memcpy(out, res->pw_name, strlen(res->pw_name) + 1);
	else if (xsnprintf(out, n, "uid:%ld", (long)geteuid()) < 0)
		out[0] = '\0';
}

int cmd_import(struct cmd_ctx *ctx)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "project", required_argument, NULL, 'p' },
		{ "status", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct import_opts o;
	struct moat_err e = MOAT_ERR_INIT;
	char user[256], head[65] = "";
	int c, json = 0, failed = 0, rc = 0;
	size_t items = 0, annotations = 0, suggestions = 0, images = 0;
	json_t *files = NULL;

	if (!ctx->store) {
		usage(stdout);
		return 0;
	}
	memset(&o, 0, sizeof(o));
	optind = 1;
	while ((c = getopt_long(ctx->argc, ctx->argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': o.format = optarg; break;
		case 'p': o.project = optarg; break;
		case 's':
			o.status = ds_status_parse(optarg);
			if (o.status != DS_ACCEPTED && o.status != DS_SUBMITTED)
				return cmd_usage("import: --status takes accepted or submitted");
			break;
		case 'J': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (!o.format || !annot_format_known(o.format))
		return cmd_usage("import: --format takes label-studio, doccano, conll, spacy, coco, "
				 "yolo or voc");
	if (optind >= ctx->argc)
		return cmd_usage("import: which files? (see moat import --help)");
	user_name(user, sizeof(user));
	o.user = user;
	if (!(files = json_array())) {
		err_set(&e, MOAT_ENOMEM, "out of memory");
		return cmd_fail(&e);
	}
	if (store_run_begin(ctx->store, "import", &o.run_id, &e) < 0) {
		json_decref(files);
		return cmd_fail(&e);
	}
	for (int i = optind; i < ctx->argc; i++) {
		struct import_result r;
		json_t *row;
		err_clear(&e);
		if (import_file(ctx->store, ctx->argv[i], &o, &r, &e) < 0) {
			fprintf(stderr, "moat: %s\n", e.msg);
			failed++;
			row = json_pack("{s:s, s:s, s:s}", "path", ctx->argv[i], "status", "failed",
					"error", e.msg);
		} else {
			items += r.items;
			annotations += r.annotations;
			suggestions += r.suggestions;
			images += r.images;
			row = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:I, s:I, s:I, s:I}", "path", ctx->argv[i],
					"status", "imported", "sha256", r.sha256, "images_sha256",
					r.images_sha256[0] ? r.images_sha256 : NULL, "kind", r.kind, "items",
					(json_int_t)r.items, "annotations", (json_int_t)r.annotations,
					"suggestions", (json_int_t)r.suggestions, "images",
					(json_int_t)r.images);
			if (!json)
				printf("%s: %zu %s items, %zu annotations, %zu suggestions, %zu images\n",
				       ctx->argv[i], r.items, r.kind, r.annotations, r.suggestions, r.images);
		}
		if (json_array_append_new(files, row)) {
			err_set(&e, MOAT_ENOMEM, "out of memory");
			json_decref(files);
			return cmd_fail(&e);
		}
	}
	{
		json_t *inputs = json_pack("{s:s, s:s, s:s, s:O}", "format", o.format, "project",
					   o.project ? o.project : "default", "status",
					   ds_status_name(o.status ? o.status : DS_ACCEPTED), "files", files);
		json_t *counts = json_pack("{s:I, s:I, s:I, s:I, s:I}", "items", (json_int_t)items,
					   "annotations", (json_int_t)annotations, "suggestions",
					   (json_int_t)suggestions, "images", (json_int_t)images,
					   "failed_files", (json_int_t)failed);
		if (!inputs || !counts) {
			err_set(&e, MOAT_ENOMEM, "out of memory");
			rc = cmd_fail(&e);
		} else if (store_begin(ctx->store, &e) < 0 ||
			   cmd_audit_append(ctx, inputs, NULL, counts, head) != 0 ||
			   store_run_end(ctx->store, o.run_id, failed ? "failed" : "done", &e) < 0 ||
			   store_commit(ctx->store, &e) < 0) {
			store_rollback(ctx->store);
			rc = e.msg[0] ? cmd_fail(&e) : 1;
		}
		if (rc == 0 && json)
			cmd_print_json(json_pack("{s:O, s:O, s:s}", "files", files, "counts", counts,
						 "audit_head", head));
		else if (rc == 0)
			printf("imported %zu items (%zu annotations, %zu suggestions) from %d of %d files; "
			       "audit head %s\n", items, annotations, suggestions,
			       ctx->argc - optind - failed, ctx->argc - optind, head);
		json_decref(inputs);
		json_decref(counts);
	}
	json_decref(files);
	return rc ? rc : failed ? 1 : 0;
}
