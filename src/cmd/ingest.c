/*
 * ingest.c - `moat ingest PATH...`: read files into the workspace.  Parses
 * the options, calls ingest_run() (src/ingest), prints a line per failed
 * file (and per file with -v) and the summary, and appends the run's audit
 * record.
 *
 * Not for: reading files or recording them (src/ingest, src/store).
 */
#include "cmd.h"
#include "../core/buf.h"
#include "../core/fs.h"
#include "../core/jsonu.h"
#include "../core/pool.h"
#include "../core/progress.h"
#include "../ingest/ingest.h"
#include "../store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/banned.h"

struct out_ctx {
	struct progress bar;
	int json, verbose;
	int oom;  /* a failure could not be listed */
	uint64_t done, bytes;
	json_t *failures;
};

static void on_total(void *c, uint64_t files, uint64_t bytes)
{
	struct out_ctx *o = c;
	(void)bytes;
	progress_start(&o->bar, "ingest", files, 0);
}

static void on_file(void *c, const struct ingest_event *ev)
{
	struct out_ctx *o = c;
	o->done++;
	o->bytes += ev->size;
	if (ev->outcome == INGEST_FAILED) {
		if (json_array_append_new(o->failures,
					  json_pack("{s:o, s:o}", "path", jsonu_string(ev->path),
						    "error", jsonu_string(ev->error))) < 0)
			o->oom = 1;  /* the summary would miss it: the command fails */
		if (!o->json) {
			if (o->bar.enabled)
				fputs("\r\033[K", stderr);
			fprintf(stderr, "moat: cannot ingest '%s': %s\n", ev->path, ev->error);
		}
	} else if (o->verbose && !o->json) {
		static const char *what[] = { "added", "new version", "unchanged", "failed" };
		printf("%-11s %.12s %s\n", what[ev->outcome], ev->doc_id ? ev->doc_id : "-", ev->path);
	}
	progress_update(&o->bar, o->done, o->bytes);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: moat ingest PATH... [-j N] [--include GLOB] [--exclude GLOB] [--json]\n"
		"                   [--text-field PATH] [--max-file-size SIZE] [--max-elements N] [-v]\n"
		"                   [--password PW | --password-file FILE] [--ocr auto|always|never]\n"
		"                   [--ocr-lang eng+deu]\n"
		"                   [--max-memory SIZE] [--max-cpu SECONDS] [--max-pages N]\n"
		"                   [--shard I/N]\n\n"
		"Reads files and directories (recursively) into the workspace.  Unchanged files\n"
		"are skipped; a changed file becomes a new version.  Files that cannot be read\n"
		"are recorded as failed with the reason, and the exit status is then 1.\n"
		"  -j N                worker threads (default: the number of CPUs)\n"
		"  --include GLOB      only files whose name or path matches (repeatable)\n"
		"  --exclude GLOB      skip files whose name or path matches (repeatable)\n"
		"  --text-field PATH   JSON/JSONL: dotted path of the text (default: text)\n"
		"  --max-file-size S   larger files fail (default 256M)\n"
		"  --max-elements N    documents with more elements fail (default 1000000)\n"
		"  --password PW       password of encrypted PDFs (kept out of the audit trail;\n"
		"                      --password-file FILE or $MOAT_PDF_PASSWORD keep it out of\n"
		"                      the process list too)\n"
		"  --ocr MODE          auto: OCR pages without a usable text layer and images\n"
		"                      (default); always: every page; never: no OCR\n"
		"  --ocr-lang LANGS    Tesseract languages, '+'-separated (default eng; each needs\n"
		"                      its Debian package, e.g. tesseract-ocr-deu)\n"
		"  --ocr-dpi N         resolution scanned PDF pages are rendered at (default 300)\n"
		"  --max-memory SIZE   address space of each parser process (default 2G), and\n"
		"                      the memory the files in work may take in moat itself\n"
		"  --max-cpu SECONDS   CPU time to parse one document, OCR included (default 900)\n"
		"  --max-pages N       documents with more pages fail (default 10000)\n"
		"  --no-sandbox        parse in the moat process itself (debugging only)\n"
		"  --shard I/N         only shard I of N (0 <= I < N): the files whose path\n"
		"                      below the PATH named hashes to I; see docs/cluster.md\n"
		"  --json              print a JSON summary\n"
		"  -v                  a line per file\n");
}

/* A usage error inside cmd_ingest(): frees the glob lists first. */
#define USAGE_FAIL(...) \
	do { \
		free(inc); \
		free(exc); \
		return cmd_usage(__VA_ARGS__); \
	} while (0)

/* The password from file (its first line; NULL: $MOAT_PDF_PASSWORD) into
 * out[cap]. */
static int read_password(const char *file, char *out, size_t cap, struct moat_err *e)
{
	struct buf b = BUF_INIT;
	const char *src;
	size_t n;
	if (file) {
		if (fs_read_file(file, &b, cap, e) < 0)
			return -1;
		src = buf_str(&b);
	} else {
		src = getenv("MOAT_PDF_PASSWORD");
	}
	n = strcspn(src, "\r\n");
	if (n >= cap) {
		buf_release(&b);
		return err_set(e, MOAT_EUSAGE, "the password is longer than %zu bytes", cap - 1);
	}
	memcpy(out, src, n);
	out[n] = '\0';
	buf_release(&b);
	return 0;
}

int cmd_ingest(struct cmd_ctx *ctx)
{
	static const struct option opts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "include", required_argument, NULL, 'I' },
		{ "exclude", required_argument, NULL, 'X' },
		{ "text-field", required_argument, NULL, 'T' },
		{ "max-file-size", required_argument, NULL, 'S' },
		{ "max-elements", required_argument, NULL, 'E' },
		{ "json", no_argument, NULL, 'J' },
		{ "password", required_argument, NULL, 'P' },
		{ "password-file", required_argument, NULL, 'W' },
		{ "ocr", required_argument, NULL, 'O' },
		{ "ocr-lang", required_argument, NULL, 'L' },
		{ "ocr-dpi", required_argument, NULL, 'D' },
		{ "max-memory", required_argument, NULL, 'M' },
		{ "max-cpu", required_argument, NULL, 'C' },
		{ "max-pages", required_argument, NULL, 'G' },
		{ "no-sandbox", no_argument, NULL, 'N' },
		{ "shard", required_argument, NULL, 'H' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ingest_opts o = ingest_default_opts();
	struct ingest_callbacks cb;
	struct ingest_summary sum;
	struct out_ctx out;
	struct moat_err e = MOAT_ERR_INIT;
	const char **inc = calloc((size_t)ctx->argc + 1, sizeof(char *));
	const char **exc = calloc((size_t)ctx->argc + 1, sizeof(char *));
	size_t ni = 0, nx = 0;
	char head[65] = "";
	int c, ok, rc;
	long n;
	const char *pwfile = NULL;
	char pwbuf[1024];
	struct ingest_sandbox sandbox;

	memset(&out, 0, sizeof(out));
	if (!inc || !exc) {
		free(inc);
		free(exc);
		err_set(&e, MOAT_ENOMEM, "out of memory");
		return cmd_fail(&e);
	}
	o.jobs = pool_default_workers();
	optind = 1;
	while ((c = getopt_long(ctx->argc, ctx->argv, "j:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			n = strtol(optarg, NULL, 10);
			if (n < 1 || n > 256)
				USAGE_FAIL("ingest: -j needs a number from 1 to 256");
			o.jobs = (int)n;
			break;
		case 'I': inc[ni++] = optarg; break;
		case 'X': exc[nx++] = optarg; break;
		case 'T': o.text_field = optarg; break;
		case 'S':
			o.max_file_size = cmd_parse_size(optarg, &ok);
			if (!ok || !o.max_file_size)
				USAGE_FAIL("ingest: bad size '%s' (for example 64M)", optarg);
			break;
		case 'E':
			n = strtol(optarg, NULL, 10);
			if (n < 1)
				USAGE_FAIL("ingest: --max-elements needs a positive number");
			o.max_elements = (size_t)n;
			break;
		case 'J': out.json = 1; break;
		case 'P': o.password = optarg; break;
		case 'W': pwfile = optarg; break;
		case 'O':
			if (!strcmp(optarg, "auto"))
				o.ocr = INGEST_OCR_AUTO;
			else if (!strcmp(optarg, "always"))
				o.ocr = INGEST_OCR_ALWAYS;
			else if (!strcmp(optarg, "never"))
				o.ocr = INGEST_OCR_NEVER;
			else
				USAGE_FAIL("ingest: --ocr takes auto, always or never");
			break;
		case 'L': o.ocr_lang = optarg; break;
		case 'D':
			n = strtol(optarg, NULL, 10);
			if (n < 50 || n > 1200)
				USAGE_FAIL("ingest: --ocr-dpi needs a number from 50 to 1200");
			o.ocr_dpi = (int)n;
			break;
		case 'M':
			o.max_memory = cmd_parse_size(optarg, &ok);
			if (!ok || o.max_memory < ((size_t)64 << 20))
				USAGE_FAIL("ingest: bad --max-memory '%s' (at least 64M)", optarg);
			break;
		case 'C':
			n = strtol(optarg, NULL, 10);
			if (n < 1 || n > 86400)
				USAGE_FAIL("ingest: --max-cpu needs seconds from 1 to 86400");
			o.max_cpu = (unsigned)n;
			break;
		case 'G':
			n = strtol(optarg, NULL, 10);
			if (n < 1 || n > 10000000)
				USAGE_FAIL("ingest: --max-pages needs a positive number");
			o.max_pages = (unsigned)n;
			break;
		case 'N': o.no_sandbox = 1; break;
		case 'H':
			if ((rc = cmd_parse_shard("ingest", optarg, &o.shard)) != 0) {
				free(inc);
				free(exc);
				return rc;
			}
			break;
		case 'v': out.verbose = 1; break;
		case 'h': usage(stdout); free(inc); free(exc); return 0;
		default: usage(stderr); free(inc); free(exc); return EXIT_USAGE;
		}
	}
	if (optind >= ctx->argc) {
		usage(stderr);
		free(inc);
		free(exc);
		return EXIT_USAGE;
	}
	if (pwfile || (!o.password && getenv("MOAT_PDF_PASSWORD"))) {
		if (pwfile && o.password)
			USAGE_FAIL("ingest: give --password or --password-file, not both");
		if (read_password(pwfile, pwbuf, sizeof(pwbuf), &e) < 0) {
			free(inc);
			free(exc);
			return cmd_fail(&e);
		}
		o.password = pwbuf;
	}
	o.include = inc;
	o.exclude = exc;
	if (ingest_check_ocr(&o, &e) < 0) {
		/* A language that is not installed fails only the files that need
		 * OCR (each with this message); a malformed list is a usage error. */
		if (e.code != MOAT_ENOTFOUND)
			USAGE_FAIL("ingest: %s", e.msg);
		fprintf(stderr, "moat: warning: %s; files that need OCR will fail\n", e.msg);
		err_clear(&e);
	}
	if (!o.no_sandbox && ingest_sandbox_probe(&sandbox) == 0 &&
	    (!sandbox.seccomp || !sandbox.namespaces))
		fprintf(stderr, "moat: warning: the parser sandbox runs without %s here (%s); "
			"see moat doctor\n", !sandbox.seccomp ? "its seccomp allow-list" : "namespaces",
			sandbox.why);
	out.failures = json_array();
	if (!out.failures) {
		free(inc);
		free(exc);
		err_set(&e, MOAT_ENOMEM, "out of memory");
		return cmd_fail(&e);
	}
	cb.on_file = on_file;
	cb.on_total = on_total;
	cb.ctx = &out;
	rc = ingest_run(ctx->store, (const char *const *)ctx->argv + optind,
			(size_t)(ctx->argc - optind), &o, &cb, &sum, &e);
	progress_finish(&out.bar);
	if (rc < 0) {
		free(inc);
		free(exc);
		/* the last batch is not kept: no counts to give, only why */
		rc = out.json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
		json_decref(out.failures);
		ingest_summary_release(&sum);
		return rc;
	}
	{
		json_t *counts = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			"files", (json_int_t)sum.files, "added", (json_int_t)sum.added,
			"new_versions", (json_int_t)sum.new_versions, "unchanged", (json_int_t)sum.unchanged,
			"failed", (json_int_t)sum.failed, "elements", (json_int_t)sum.elements,
			"bytes", (json_int_t)sum.bytes, "skipped", (json_int_t)sum.skipped);
		json_t *inputs = json_pack("{s:s, s:I, s:o*}", "files_sha256", sum.inputs_digest,
					   "files", (json_int_t)sum.files, "shard",
					   cmd_shard_json(&o.shard));
		json_t *outputs = json_pack("{s:s, s:O}", "documents_sha256", sum.outputs_digest,
					    "interrupted_runs", sum.interrupted);
		int oom = !counts || !inputs || !outputs || out.oom ||
			  (o.shard.n && (!json_object_get(inputs, "shard") ||
					 json_object_set_new(counts, "other_shards",
							     json_integer((json_int_t)sum.other_shards))));
		if (oom)
			err_set(&e, MOAT_ENOMEM, "out of memory");
		if (oom || store_begin(ctx->store, &e) < 0 ||
		    cmd_audit_append(ctx, inputs, outputs, counts, head) != 0 ||
		    store_run_end(ctx->store, sum.run_id, "done", &e) < 0 ||
		    store_commit(ctx->store, &e) < 0) {
			store_rollback(ctx->store);
			if (!e.msg[0])
				err_set(&e, MOAT_EDB, "the run could not be recorded");
			rc = out.json ? cmd_fail_json(&e, NULL) : cmd_fail(&e);
		}
		if (rc == 0 && out.json) {
			json_t *j = json_pack("{s:b, s:O, s:O, s:s, s:O, s:I}", "ok", 1, "counts", counts,
					      "failures", out.failures, "audit_head", head,
					      "interrupted_runs", sum.interrupted, "peak_rss_bytes",
					      cmd_peak_rss());
			cmd_print_json(j);
		} else if (rc == 0) {
			printf("ingested %llu files: %llu added, %llu new versions, %llu unchanged, "
			       "%llu failed; %llu elements\n",
			       (unsigned long long)sum.files, (unsigned long long)sum.added,
			       (unsigned long long)sum.new_versions, (unsigned long long)sum.unchanged,
			       (unsigned long long)sum.failed, (unsigned long long)sum.elements);
			if (o.shard.n)
				printf("shard %u/%u: left %llu files to the other shards\n", o.shard.i,
				       o.shard.n, (unsigned long long)sum.other_shards);
			if (sum.skipped)
				printf("skipped %llu entries that are not regular files: special files (FIFOs, "
				       "sockets, devices), broken links and links leading outside the inputs\n",
				       (unsigned long long)sum.skipped);
			if (sum.added + sum.new_versions == 0 && sum.failed == 0 && sum.files)
				printf("nothing changed\n");
			if (json_array_size(sum.interrupted))
				printf("recorded %zu interrupted earlier run(s) in the audit trail\n",
				       json_array_size(sum.interrupted));
			printf("audit head %s\n", head);
		}
		json_decref(counts);
		json_decref(inputs);
		json_decref(outputs);
	}
	free(inc);
	free(exc);
	json_decref(out.failures);
	ingest_summary_release(&sum);
	if (rc)
		return rc;
	return sum.failed ? 1 : 0;
}
