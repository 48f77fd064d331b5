/*
 * models.c - `moat models list|bundle|verify|install|import|fsck|rm|diff` and
 * `moat keys generate`: the model kit's command line.  One table names each
 * subcommand with the options and operands it takes; one parser checks them
 * and finds the store; each subcommand calls src/models/ (or src/keys/),
 * prints a table or JSON, and turns the result into an exit status:
 *   0 success; 1 failure; 2 bad usage;
 *   verify and install: 3 a file is corrupt, missing or unexpected,
 *                       4 the signature is missing, bad, or by another key.
 * Not for the work itself: nothing here reads a store or a bundle.
 */
#define _GNU_SOURCE
#include "cmd.h"
#include "../core/datadir.h"
#include "../core/fmt.h"
#include "../core/progress.h"
#include "../ingest/ocrlib.h"
#include "../keys/keys.h"
#include "../doctor/doctor.h"
#include "../models/golden.h"
#include "../models/models.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/banned.h"

static const char models_help[] =
	"usage: moat models COMMAND [ARGS]\n"
	"\n"
	"Carries Ollama models across an air gap, checked at every step.\n"
	"\n"
	"  list    [--models-dir DIR] [--json]\n"
	"          every model of the store: NAME ID SIZE MODIFIED (as 'ollama list'), and the\n"
	"          GGUF's architecture, parameters, quantisation and context; broken entries\n"
	"          are listed with what is wrong\n"
	"  bundle  NAME[:TAG]... --to DIR [--models-dir DIR] [--split-size SIZE]\n"
	"          [--sign KEYFILE] [--include-self [--ocr-lang eng+deu]]\n"
	"          [--golden PROMPTS.jsonl [--runtime URI]] [-j N] [--json]\n"
	"          copies the models' manifests and blobs (each once) to DIR with SHA256SUMS,\n"
	"          bundle.json and an optional Ed25519 signature; an interrupted run resumes.\n"
	"          --include-self adds moat itself for a target with nothing installed: its\n"
	"          libraries, libmagic's database, Tesseract's languages (all this machine\n"
	"          has, or those --ocr-lang names) and llama-server; sh DIR/moat/install.sh\n"
	"          --golden runs each prompt (greedy, seed 42, context 2048) through each model\n"
	"          here and carries the answers as golden.json (in SHA256SUMS, signed); the\n"
	"          runtime is llama.cpp inside moat on the store's blob unless --runtime names\n"
	"          one ({model} in URI is replaced by each model's name)\n"
	"  verify  DIR [--trust PUBKEY] [-j N] [--json]\n"
	"          [--golden [--model [NAME=]URI]... [--tolerance T]]\n"
	"          checks every checksum, every GGUF blob's structure, and the signature;\n"
	"          --golden then reruns the carried prompts and compares the answers (as\n"
	"          'moat doctor --golden'); T: the least similarity that passes (0.9)\n"
	"  diff    A B --prompts FILE [--models-dir DIR] [--json]\n"
	"          the same prompts through two models (URIs, or names in the store) side\n"
	"          by side: exact answers, agreement and tokens per second\n"
	"  install DIR [--models-dir DIR] [--force] [--trust PUBKEY] [-j N] [--json]\n"
	"          verifies, then installs blobs first and manifests last\n"
	"  import  FILE.gguf --name NAME[:TAG] [--models-dir DIR] [--json]\n"
	"          makes a GGUF file a model Ollama can serve (like 'ollama create')\n"
	"  fsck    [--models-dir DIR] [--quick] [--prune] [--json]\n"
	"          checks the whole store; --quick skips hashing, --prune removes\n"
	"          unreferenced blobs\n"
	"  rm      NAME[:TAG]... [--models-dir DIR]\n"
	"          removes models and the blobs no other model uses\n"
	"\n"
	"The store is --models-dir, else $OLLAMA_MODELS, else ~/.ollama/models.\n"
	"SIZE takes k, M, G, T (powers of 1000: '4G' fits FAT32) or KiB, MiB, GiB, TiB.\n"
	"Signing keys: 'moat keys generate --out KEYFILE'.\n"
	"\n"
	"Exit status: 0 all good; 1 failure (fsck: the store has errors); 2 bad usage;\n"
	"verify and install: 3 a file is corrupt, missing, truncated or unexpected,\n"
	"4 the signature is missing, tampered or made by another key (3 wins when both);\n"
	"verify --golden: 6 the bundle is intact but answers differ beyond --tolerance.\n";

/* ---- output helpers ---- */

struct bar {
	struct progress p;
	const char **labels;
	int n_labels, started;
	int quiet;
};

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct bar *b = arg;
	if (b->quiet)
		return;
	if (done == 0 && (!b->started || b->p.done >= b->p.total)) {
		if (b->started)
			progress_finish(&b->p);
		progress_start(&b->p, b->labels[b->started < b->n_labels ? b->started
									 : b->n_labels - 1],
			       total, 1);
		b->started++;
		return;
	}
	progress_update(&b->p, done, done);
}

static void bar_end(struct bar *b)
{
	if (b->started && !b->quiet)
		progress_finish(&b->p);
	b->started = 0;
}

/* Ollama's format.HumanBytes, into out (32 bytes always suffice). */
static const char *ollama_bytes(uint64_t b, char out[32])
{
	static const char *units[] = { "TB", "GB", "MB", "KB" };
	static const double div[] = { 1e12, 1e9, 1e6, 1e3 };
	int rc = -1, i;
	for (i = 0; i < 4 && (double)b < div[i]; i++)
		;
	if (i == 4) {
		rc = xsnprintf(out, 32, "%" PRIu64 " B", b);
	} else {
		double v = (double)b / div[i];
		if (v < 10 && v != trunc(v))
			rc = xsnprintf(out, 32, "%.1f %s", v, units[i]);
		else
			rc = xsnprintf(out, 32, "%d %s", (int)v, units[i]);
	}
	return rc < 0 ? "?" : out;
}

/* Ollama's format.HumanTime, into out (48 bytes always suffice). */
static const char *ollama_time(int64_t t, char out[48])
{
	double d = difftime(time(NULL), (time_t)t);
	const char *suffix = " ago", *what;
	int secs, mins, hours, n = 0, rc;
	if (t == 0)
		return "Never";
	if (d < 0) {
		d = -d;
		suffix = " from now";
	}
	secs = (int)d;
	mins = (int)(d / 60);
	hours = (int)lround(d / 3600);
	if (secs < 1)
		what = "Less than a second";
	else if (secs == 1)
		what = "1 second";
	else if (secs < 60)
		n = secs, what = "seconds";
	else if (mins == 1)
		what = "About a minute";
	else if (mins < 60)
		n = mins, what = "minutes";
	else if (hours == 1)
		what = "About an hour";
	else if (hours < 48)
		n = hours, what = "hours";
	else if (hours < 24 * 7 * 2)
		n = hours / 24, what = "days";
	else if (hours < 24 * 30 * 2)
		n = hours / 24 / 7, what = "weeks";
	else if (hours < 24 * 365 * 2)
		n = hours / 24 / 30, what = "months";
	else
		n = hours / 24 / 365, what = "years";
	/* a count is at least 2 in every branch that has one */
	rc = n ? xsnprintf(out, 48, "%d %s%s", n, what, suffix)
	       : xsnprintf(out, 48, "%s%s", what, suffix);
	return rc < 0 ? "?" : out;
}

static const char *jstr(json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : dflt;
}

static json_int_t jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* "" or "s": the plural of a count */
static const char *plural(json_int_t n)
{
	return n == 1 ? "" : "s";
}

static void print_list(json_t *arr)
{
	size_t w = 4;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		size_t l = strlen(jstr(json_array_get(arr, i), "name", ""));
		if (l > w)
			w = l;
	}
	printf("%-*s    %-12s    %-8s    %-18s    %-10s  %-9s  %-8s  %s\n", (int)w, "NAME", "ID",
	       "SIZE", "MODIFIED", "ARCH", "PARAMS", "QUANT", "CONTEXT");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *m = json_array_get(arr, i), *pr = json_object_get(m, "problems");
		json_t *cl = json_object_get(m, "context_length");
		char size[32], mod[48], ctxs[24];
		const char *ctx = "-";
		if (json_is_integer(cl) &&
		    xsnprintf(ctxs, sizeof(ctxs), "%" JSON_INTEGER_FORMAT, json_integer_value(cl)) >= 0)
			ctx = ctxs;
		printf("%-*s    %-12s    %-8s    %-18s    %-10s  %-9s  %-8s  %s\n", (int)w,
		       jstr(m, "name", "?"), jstr(m, "id", "-"),
		       ollama_bytes((uint64_t)jint(m, "size"), size), ollama_time(jint(m, "modified"), mod),
		       jstr(m, "architecture", "-"), jstr(m, "parameter_size", "-"),
		       jstr(m, "quantization", "-"), ctx);
		for (size_t k = 0; k < json_array_size(pr); k++)
			printf("    ! %s\n", json_string_value(json_array_get(pr, k)));
	}
}

static void print_verify(json_t *v, FILE *f)
{
	json_t *pr = json_object_get(v, "problems"), *w = json_object_get(v, "warnings");
	char tot[32];
	const char *sig = jstr(v, "signature", "absent");
	for (size_t i = 0; i < json_array_size(pr); i++) {
		json_t *p = json_array_get(pr, i);
		fprintf(f, "CORRUPT  %s: %s", jstr(p, "path", "?"), jstr(p, "problem", "?"));
		if (json_object_get(p, "expected"))
			fprintf(f, ": expected %s, found %s", jstr(p, "expected", "?"),
				jstr(p, "found", "?"));
		fputc('\n', f);
	}
	for (size_t i = 0; i < json_array_size(w); i++)
		fprintf(f, "warning  %s: %s\n", jstr(json_array_get(w, i), "path", "?"),
			jstr(json_array_get(w, i), "warning", "?"));
	fprintf(f, "checked %" JSON_INTEGER_FORMAT " files (%s)\n", jint(v, "files"),
		ollama_bytes((uint64_t)jint(v, "bytes"), tot));
	fprintf(f, "signature: %s", sig);
	if (json_object_get(v, "signed_by"))
		fprintf(f, " (key %s)", jstr(v, "signed_by", "?"));
	if (json_object_get(v, "signature_problem"))
		fprintf(f, ": %s", jstr(v, "signature_problem", "?"));
	fputc('\n', f);
	if (!strcmp(jstr(v, "status", ""), "ok")) {
		json_t *m = json_object_get(v, "models");
		fprintf(f, "OK: ");
		for (size_t i = 0; i < json_array_size(m); i++)
			fprintf(f, "%s%s", i ? ", " : "", json_string_value(json_array_get(m, i)));
		fputc('\n', f);
	} else if (!strcmp(jstr(v, "status", ""), "corrupt")) {
		fprintf(f, "FAILED: %zu problem%s; do not install this bundle\n", json_array_size(pr),
			json_array_size(pr) == 1 ? "" : "s");
	} else {
		fprintf(f, "FAILED: bad signature; do not install this bundle\n");
	}
}

/* ---- options ---- */

/* "4G" (decimal), "4GiB" (binary), "512M", "1000". Returns 0 on success. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v = strtod(s, &end), mul = 1;
	if (end == s || v <= 0)
		return -1;
	if (*end) {
		int bin = end[1] == 'i' || end[1] == 'I';
		double base = bin ? 1024.0 : 1000.0;
		switch (*end) {
		case 'k': case 'K': mul = base; break;
		case 'm': case 'M': mul = base * base; break;
		case 'g': case 'G': mul = base * base * base; break;
		case 't': case 'T': mul = base * base * base * base; break;
		case 'b': case 'B': mul = 1; end--; break;
		default: return -1;
		}
		end++;
		if (bin)
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
		if (*end)
			return -1;
	}
	*out = (uint64_t)(v * mul);
	return *out ? 0 : -1;
}

static int parse_jobs(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < 1 || v > 64)
		return -1;
	*out = (int)v;
	return 0;
}

enum { OPT_MODELS_DIR = 256, OPT_JSON, OPT_TO, OPT_SPLIT, OPT_SIGN, OPT_SELF, OPT_TRUST,
       OPT_FORCE, OPT_NAME, OPT_QUICK, OPT_PRUNE, OPT_OUT, OPT_OCR_LANG, OPT_GOLDEN,
       OPT_RUNTIME, OPT_MODEL, OPT_TOLERANCE, OPT_PROMPTS };

#define B(x) (1u << ((x) - 256))

static const struct option all_opts[] = {
	{ "models-dir", required_argument, NULL, OPT_MODELS_DIR },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "to", required_argument, NULL, OPT_TO },
	{ "split-size", required_argument, NULL, OPT_SPLIT },
	{ "sign", required_argument, NULL, OPT_SIGN },
	{ "include-self", no_argument, NULL, OPT_SELF },
	{ "trust", required_argument, NULL, OPT_TRUST },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "quick", no_argument, NULL, OPT_QUICK },
	{ "prune", no_argument, NULL, OPT_PRUNE },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "ocr-lang", required_argument, NULL, OPT_OCR_LANG },
	/* --golden takes a file for bundle and nothing for verify: see parse_args */
	{ "golden", optional_argument, NULL, OPT_GOLDEN },
	{ "runtime", required_argument, NULL, OPT_RUNTIME },
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "tolerance", required_argument, NULL, OPT_TOLERANCE },
	{ "prompts", required_argument, NULL, OPT_PROMPTS },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct args {
	const char *models_dir, *to, *sign, *trust, *name, *out, *ocr_lang;
	const char *golden, *runtime, *prompts;
	const char **model;  /* --model values, n_model of them (argv's strings) */
	int n_model;
	double tolerance;
	uint64_t split;
	int json, self, force, quick, prune, jobs, help;
	int n_pos;
	char **pos;
	unsigned seen;   /* bit per OPT_ - 256 */
	char *golden_arg; /* the "--golden=FILE" made for getopt */
	char *store;     /* the store directory, for the subcommands that use one */
};

/* Parses argv (argv[0] is the subcommand).  allowed: bitmask of OPT_ values
 * (bit OPT_x - 256) and 'j'. */
static int parse_args(int argc, char **argv, unsigned allowed, int allow_j, struct args *a)
{
	int c;
	const char **model = a->model;
	char *golden_arg = a->golden_arg;
	memset(a, 0, sizeof(*a));
	a->model = model;
	a->golden_arg = golden_arg;
	a->tolerance = 0.9;
	a->jobs = 0;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+j:h", all_opts, NULL)) != -1) {
		if (c == 'h') {
			a->help = 1;
			continue;
		}
		if (c == '?' || c == ':')
			return cmd_usage("%s: unknown option or missing value '%s' (see 'moat models "
					 "--help')", argv[0], argv[optind - 1]);
		if (c == 'j') {
			if (!allow_j)
				return cmd_usage("%s: -j is not an option here", argv[0]);
			if (parse_jobs(optarg, &a->jobs) < 0)
				return cmd_usage("%s: -j wants a number from 1 to 64", argv[0]);
			continue;
		}
		if (!(allowed & (1u << (c - 256))))
			return cmd_usage("%s: option '%s' is not for this command", argv[0],
					 argv[optind - 1]);
		a->seen |= 1u << (c - 256);
		switch (c) {
		case OPT_MODELS_DIR: a->models_dir = optarg; break;
		case OPT_JSON: a->json = 1; break;
		case OPT_TO: a->to = optarg; break;
		case OPT_SPLIT:
			if (parse_size(optarg, &a->split) < 0)
				return cmd_usage("%s: bad size '%s' (like 4G, 700M, 2GiB)", argv[0],
						 optarg);
			break;
		case OPT_SIGN: a->sign = optarg; break;
		case OPT_SELF: a->self = 1; break;
		case OPT_TRUST: a->trust = optarg; break;
		case OPT_FORCE: a->force = 1; break;
		case OPT_NAME: a->name = optarg; break;
		case OPT_QUICK: a->quick = 1; break;
		case OPT_PRUNE: a->prune = 1; break;
		case OPT_OUT: a->out = optarg; break;
		case OPT_OCR_LANG: a->ocr_lang = optarg; break;
		case OPT_GOLDEN: a->golden = optarg ? optarg : ""; break;
		case OPT_RUNTIME: a->runtime = optarg; break;
		case OPT_MODEL: a->model[a->n_model++] = optarg; break;
		case OPT_PROMPTS: a->prompts = optarg; break;
		case OPT_TOLERANCE: {
			char *end;
			a->tolerance = strtod(optarg, &end);
			if (*end || end == optarg || !(a->tolerance >= 0 && a->tolerance <= 1))
				return cmd_usage("%s: --tolerance wants a number from 0 to 1, not '%s'",
						 argv[0], optarg);
			break;
		}
		default: break;
		}
	}
	return 0;
}

/* parse_mixed() printed the help: the subcommand is done, successfully. */
#define HELP_SHOWN (-1)

/* getopt with '+' stops at operands; this gathers operands anywhere.  With
 * --help it prints help_text and returns HELP_SHOWN; on a usage error it
 * returns the exit status; 0 otherwise, with a->pos for the caller to free. */
static int parse_mixed(int argc, char **argv, unsigned allowed, int allow_j, struct args *a,
		       const char *help_text)
{
	char **opts = calloc((size_t)argc + 1, sizeof(*opts));
	char **pos = calloc((size_t)argc + 1, sizeof(*pos));
	const char **model = calloc((size_t)argc + 1, sizeof(*model));
	int no = 0, np = 0, rc;
	memset(a, 0, sizeof(*a));
	if (!opts || !pos || !model) {
		free(opts);
		free(pos);
		free(model);
		return cmd_usage("out of memory");
	}
	a->model = model;
	opts[no++] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (!strcmp(s, "--")) {
			while (++i < argc)
				pos[np++] = argv[i];
			break;
		}
		if (s[0] == '-' && s[1]) {
			/* an option with a separate value takes the next word */
			/* bundle's --golden takes a file (verify's takes none) */
			int takes = !strcmp(s, "-j") ||
				    (!strcmp(s, "--golden") && (allowed & B(OPT_RUNTIME)));
			opts[no++] = argv[i];
			for (const struct option *o = all_opts; o->name && !takes; o++)
				if (s[1] == '-' && !strcmp(s + 2, o->name) &&
				    o->has_arg == required_argument)
					takes = 1;
			if (takes && i + 1 < argc)
				opts[no++] = argv[++i];
		} else {
			pos[np++] = argv[i];
		}
	}
	if (allowed & B(OPT_RUNTIME))
		for (int i = 1; i + 1 < no; i++)
			if (!strcmp(opts[i], "--golden")) {
				/* getopt wants --golden=FILE for an optional value */
				char *joined;
				if (asprintf(&joined, "--golden=%s", opts[i + 1]) < 0) {
					free(opts), free(pos), free(model);
					return cmd_usage("out of memory");
				}
				a->golden_arg = joined;
				opts[i] = joined;
				memmove(&opts[i + 1], &opts[i + 2], (size_t)(no - i - 2) * sizeof(*opts));
				no--;
			}
	rc = parse_args(no, opts, allowed, allow_j, a);
	free(opts);
	if (rc) {
		free(pos);
		free(model);
		free(a->golden_arg);
		return rc;
	}
	if (a->help) {
		fputs(help_text, stdout);
		free(pos);
		free(model);
		free(a->golden_arg);
		return HELP_SHOWN;
	}
	a->pos = pos;
	a->n_pos = np;
	return 0;
}

/* ---- the subcommands ---- */

/* -j (2 when not given) and the progress bar, quiet under --json, for the
 * options of bundle, verify and install. */
static void bar_attach(struct bar *bar, const struct args *a, int *jobs, models_progress_fn *fn,
		       void **arg)
{
	*jobs = a->jobs ? a->jobs : 2;
	*fn = on_progress;
	*arg = bar;
	bar->quiet = a->json;
}

/* The end of most subcommands: the error, the JSON, or the text. */
static int report(json_t *res, const struct moat_err *e, const struct args *a, int status,
		  void (*print)(json_t *res, const struct args *a))
{
	if (!res)
		return cmd_fail(e);
	if (a->json) {
		cmd_print_json(res);
	} else {
		print(res, a);
		json_decref(res);
	}
	return status;
}

static void print_list_of(json_t *arr, const struct args *a)
{
	(void)a;
	print_list(arr);
}

static int do_list(struct args *a)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *arr = models_list(a->store, &e);
	return report(arr, &e, a, 0, print_list_of);
}

static void print_bundle(json_t *res, const struct args *a)
{
	json_t *models = json_object_get(res, "models"), *blobs = json_object_get(res, "blobs");
	char tot[32];
	size_t files = 0;
	for (size_t i = 0; i < json_array_size(blobs); i++)
		files += json_array_size(json_object_get(json_array_get(blobs, i), "files"));
	printf("bundled %zu model%s (%zu blob%s in %zu file%s, %s) into %s\n",
	       json_array_size(models), plural((json_int_t)json_array_size(models)),
	       json_array_size(blobs), plural((json_int_t)json_array_size(blobs)), files,
	       plural((json_int_t)files), ollama_bytes((uint64_t)jint(res, "total_size"), tot),
	       a->to);
	for (size_t i = 0; i < json_array_size(models); i++)
		printf("  %s  %.12s\n", jstr(json_array_get(models, i), "name", "?"),
		       jstr(json_array_get(models, i), "id", "?"));
	if (jint(res, "reused_files"))
		printf("resumed: %" JSON_INTEGER_FORMAT " file(s) already in place were "
		       "re-checked and kept\n", jint(res, "reused_files"));
	if (json_object_get(res, "golden_prompts"))
		printf("golden answers to %" JSON_INTEGER_FORMAT " prompt%s carried in golden.json\n",
		       jint(res, "golden_prompts"), plural(jint(res, "golden_prompts")));
	if (a->sign)
		printf("signed with %s (bundle.sig)\n", a->sign);
	if (a->self)
		printf("moat itself is in moat/: on the target run 'sh moat/install.sh'\n");
	printf("check it on the other side with: moat models verify %s%s\n", a->to,
	       a->sign ? " --trust KEYFILE.pub" : "");
}

/* The model layer's settings for golden runs and diff: the store for
 * store: URIs, a long idle wait (a big model loads for minutes). */
static struct llm_config golden_cfg(const struct args *a)
{
	struct llm_config cfg = llm_config_default();
	cfg.models_dir = a->store;
	cfg.idle_timeout_ms = 600000;
	return cfg;
}

/* bundle --golden: runs the prompts through each named model on this
 * machine; *doc gets the golden document for the bundle. */
static int record_golden(const struct args *a, json_t **doc, struct moat_err *e)
{
	struct golden_options go = golden_default_options();
	struct llm_config cfg = golden_cfg(a);
	struct golden_runner r = doctor_golden_runner(&cfg);
	char **names = calloc((size_t)a->n_pos + 1, sizeof(*names));
	char **uris = calloc((size_t)a->n_pos + 1, sizeof(*uris));
	json_t *prompts = NULL;
	int rc = -1;
	*doc = NULL;
	if (!names || !uris) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (!*a->golden) {
		cmd_usage("bundle: --golden wants a PROMPTS.jsonl file");
		err_set(e, MOAT_EUSAGE, "no prompts file");
		goto out;
	}
	if (!(prompts = golden_prompts_load(a->golden, &go, e)))
		goto out;
	for (int i = 0; i < a->n_pos; i++) {
		struct model_name n;
		if (model_name_parse(a->pos[i], &n, e) < 0)
			goto out;
		names[i] = model_name_display(&n);
		uris[i] = names[i] ? golden_uri(a->runtime, names[i]) : NULL;
		if (!uris[i]) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (!a->json)
		fprintf(stderr, "golden: %zu prompt%s through %d model%s (%s)\n",
			json_array_size(prompts), plural((json_int_t)json_array_size(prompts)),
			a->n_pos, plural(a->n_pos), a->runtime ? a->runtime : "llama.cpp in moat");
	*doc = golden_record(prompts, &go, (const char *const *)names, (const char *const *)uris,
			     (size_t)a->n_pos, &r, e);
	rc = *doc ? 0 : -1;
out:
	for (int i = 0; names && uris && i < a->n_pos; i++) {
		free(names[i]);
		free(uris[i]);
	}
	free(names);
	free(uris);
	json_decref(prompts);
	return rc;
}

static int do_bundle(struct args *a)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct bundle_opts o = bundle_default_opts();
	struct bar bar = { .labels = (const char *[]){ "bundle" }, .n_labels = 1 };
	struct datafile magic = DATAFILE_INIT, tessdata = DATAFILE_INIT, server = DATAFILE_INIT;
	json_t *res;
	if (a->ocr_lang && !a->self)
		return cmd_usage("bundle: --ocr-lang goes with --include-self");
	if (a->runtime && !a->golden)
		return cmd_usage("bundle: --runtime goes with --golden PROMPTS.jsonl");
	o.models_dir = a->store;
	o.names = (const char *const *)a->pos;
	o.n_names = (size_t)a->n_pos;
	o.to = a->to;
	o.split_size = a->split;
	o.sign_key = a->sign;
	o.include_self = a->self;
	if (a->self) {
		if (datadir_tessdata(&tessdata) < 0) {
			err_set(&e, MOAT_ENOMEM, "out of memory");
			return cmd_fail(&e);
		}
		datadir_magic(&magic);
		datadir_llama_server(&server);
		o.magic_file = magic.path;
		o.tessdata_dir = tessdata.source != DATADIR_NONE ? tessdata.path : NULL;
		o.ocr_langs = a->ocr_lang;
		o.llama_server = server.path;
		o.self_dlopen = ocrlib_sonames;
	}
	if (a->golden && record_golden(a, &o.golden, &e) < 0) {
		datafile_release(&magic);
		datafile_release(&tessdata);
		datafile_release(&server);
		return cmd_fail(&e);
	}
	bar_attach(&bar, a, &o.jobs, &o.progress, &o.progress_arg);
	res = models_bundle(&o, &e);
	bar_end(&bar);
	if (res && o.golden)
		json_object_set_new(res, "golden_prompts", json_integer((json_int_t)json_array_size(
			json_object_get(o.golden, "prompts"))));
	json_decref(o.golden);
	datafile_release(&magic);
	datafile_release(&tessdata);
	datafile_release(&server);
	return report(res, &e, a, 0, print_bundle);
}

static void print_verify_out(json_t *v, const struct args *a)
{
	json_t *g = json_object_get(v, "golden");
	(void)a;
	print_verify(v, stdout);
	if (json_is_string(g)) {
		printf("golden: %s\n", json_string_value(g));
	} else if (g) {
		json_t *models = json_object_get(g, "models");
		for (size_t i = 0; i < json_array_size(models); i++) {
			char *t = golden_model_summary(json_array_get(models, i));
			printf("golden: %s\n", t ? t : "out of memory");
			free(t);
		}
		printf(json_is_true(json_object_get(g, "ok")) ? "golden: OK (tolerance %.2f)\n" :
		       "golden: FAILED: answers differ beyond tolerance %.2f\n",
		       json_number_value(json_object_get(g, "tolerance")));
	}
}

static int do_verify(struct args *a)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct verify_opts o = verify_default_opts();
	struct bar bar = { .labels = (const char *[]){ "verify" }, .n_labels = 1 };
	json_t *res;
	int status;
	o.dir = a->pos[0];
	o.trust_key = a->trust;
	if ((a->n_model || (a->seen & B(OPT_TOLERANCE))) && !a->golden)
		return cmd_usage("verify: --model and --tolerance go with --golden");
	bar_attach(&bar, a, &o.jobs, &o.progress, &o.progress_arg);
	res = models_verify(&o, &status, &e);
	bar_end(&bar);
	if (res && a->golden) {
		json_t *g;
		if (status != VERIFY_OK) {
			g = json_string("not run: the bundle did not verify");
		} else {
			struct llm_config cfg = golden_cfg(a);
			struct golden_runner r = doctor_golden_runner(&cfg);
			g = golden_check_bundle(o.dir, a->model, (size_t)a->n_model, &r, a->tolerance, &e);
			if (!g) {
				json_decref(res);
				return cmd_fail(&e);
			}
			if (!json_is_true(json_object_get(g, "ok")))
				status = GOLDEN_EXIT_DIFFERS;
		}
		json_object_set_new(res, "golden", g);
	}
	return report(res, &e, a, status, print_verify_out);
}

static void print_install(json_t *res, const struct args *a)
{
	json_t *inst = json_object_get(res, "installed"), *list = json_object_get(res, "models");
	printf("installed %zu model%s (%" JSON_INTEGER_FORMAT " blob%s copied, %"
	       JSON_INTEGER_FORMAT " already present):", json_array_size(inst),
	       plural((json_int_t)json_array_size(inst)), jint(res, "copied_blobs"),
	       plural(jint(res, "copied_blobs")), jint(res, "skipped_blobs"));
	for (size_t i = 0; i < json_array_size(inst); i++)
		printf(" %s", json_string_value(json_array_get(inst, i)));
	printf("\n\nmodels now available in %s:\n", a->store);
	if (json_is_array(list))
		print_list(list);
}

static void print_refused(json_t *res, const struct args *a)
{
	(void)a;
	print_verify(json_object_get(res, "verify"), stdout);
}

static int do_install(struct args *a)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct install_opts o = install_default_opts();
	struct bar bar = { .labels = (const char *[]){ "verify", "install" }, .n_labels = 2 };
	json_t *res, *list;
	int status;
	o.dir = a->pos[0];
	o.models_dir = a->store;
	o.trust_key = a->trust;
	o.force = a->force;
	bar_attach(&bar, a, &o.jobs, &o.progress, &o.progress_arg);
	res = models_install(&o, &status, &e);
	bar_end(&bar);
	if (res && status) {
		/* did not verify: say why, install nothing */
		status = report(res, &e, a, status, print_refused);
		fprintf(stderr, "moat: %s\n", e.msg);
		return status;
	}
	if (res) {
		/* the store as it is now (null when it cannot be listed) */
		list = models_list(a->store, &e);
		json_object_set_new(res, "models", list ? list : json_null());
	}
	return report(res, &e, a, 0, print_install);
}

static void print_import(json_t *res, const struct args *a)
{
	json_t *w = json_object_get(res, "warnings");
	(void)a;
	printf("imported %s (id %.12s", jstr(res, "name", "?"), jstr(res, "id", "?"));
	if (json_object_get(res, "template_family"))
		printf(", chat template: %s", jstr(res, "template_family", "?"));
	printf(")\n");
	for (size_t i = 0; i < json_array_size(w); i++)
		printf("warning: %s\n", json_string_value(json_array_get(w, i)));
}

static int do_import(struct args *a)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *res = models_import(a->store, a->pos[0], a->name, &e);
	return report(res, &e, a, 0, print_import);
}

static void print_fsck(json_t *res, const struct args *a)
{
	json_t *pr = json_object_get(res, "problems"), *pruned = json_object_get(res, "pruned");
	json_int_t errors = jint(res, "errors");
	size_t warnings = json_array_size(pr) - (size_t)errors;
	for (size_t i = 0; i < json_array_size(pr); i++) {
		json_t *p = json_array_get(pr, i);
		printf("%-7s  %s: %s\n", !strcmp(jstr(p, "severity", ""), "error") ? "ERROR" : "warning",
		       jstr(p, "path", "?"), jstr(p, "problem", "?"));
	}
	for (size_t i = 0; i < json_array_size(pruned); i++)
		printf("pruned   %s\n", json_string_value(json_array_get(pruned, i)));
	if (json_object_get(res, "prune_error"))
		printf("prune    %s\n", jstr(res, "prune_error", "?"));
	printf("%" JSON_INTEGER_FORMAT " model%s, %" JSON_INTEGER_FORMAT " error%s, %zu warning%s%s\n",
	       jint(res, "models"), plural(jint(res, "models")), errors, plural(errors), warnings,
	       plural((json_int_t)warnings), a->quick ? " (quick: sizes only, no hashing)" : "");
}

static int do_fsck(struct args *a)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *res = models_fsck(a->store, a->quick, &e);
	if (res && a->prune) {
		json_t *removed = json_array();
		if (models_prune(a->store, removed, &e) < 0)
			json_object_set_new(res, "prune_error", json_string(e.msg));
		json_object_set_new(res, "pruned", removed);
	}
	return report(res, &e, a, res && json_is_true(json_object_get(res, "ok")) ? 0 : 1,
		      print_fsck);
}

static void print_rm(json_t *res, const struct args *a)
{
	json_t *r = json_object_get(res, "removed");
	char fr[32];
	(void)a;
	for (size_t i = 0; i < json_array_size(r); i++)
		printf("deleted '%s'\n", json_string_value(json_array_get(r, i)));
	printf("removed %" JSON_INTEGER_FORMAT " unused blob%s (%s)\n", jint(res, "blobs_removed"),
	       plural(jint(res, "blobs_removed")),
	       ollama_bytes((uint64_t)jint(res, "bytes_freed"), fr));
	if (json_object_get(res, "warning"))
		printf("warning: %s\n", jstr(res, "warning", ""));
}

static int do_rm(struct args *a)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *res = models_rm(a->store, (const char *const *)a->pos, (size_t)a->n_pos, &e);
	return report(res, &e, a, 0, print_rm);
}

/* A model operand of diff: a URI as it is, a bare name as store:NAME. */
static char *diff_uri(const char *s)
{
	if (strstr(s, "://") || !strncmp(s, "gguf:", 5) || !strncmp(s, "store:", 6) ||
	    !strncmp(s, "ollama:", 7))
		return strdup(s);
	return golden_uri(NULL, s);
}

static void print_diff(json_t *res, const struct args *a)
{
	json_t *rows = json_object_get(res, "outputs");
	json_t *sa = json_object_get(res, "a"), *sb = json_object_get(res, "b");
	(void)a;
	printf("A  %s\nB  %s\n\n", jstr(sa, "uri", "?"), jstr(sb, "uri", "?"));
	for (size_t i = 0; i < json_array_size(rows); i++) {
		json_t *r = json_array_get(rows, i);
		printf("[%s] %s  (%s, similarity %.2f)\n", jstr(r, "id", "?"), jstr(r, "prompt", ""),
		       !strcmp(jstr(r, "status", ""), "exact") ? "same answer" : "answers differ",
		       json_number_value(json_object_get(r, "similarity")));
		printf("  A: %s\n  B: %s\n", jstr(r, "a", ""), jstr(r, "b", ""));
	}
	printf("\n%" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT " answers the same, agreement "
	       "%.2f\n", jint(res, "exact"), jint(res, "prompts"),
	       json_number_value(json_object_get(res, "agreement")));
	printf("A: %.1f tokens/s (%" JSON_INTEGER_FORMAT " tokens)   B: %.1f tokens/s (%"
	       JSON_INTEGER_FORMAT " tokens)\n",
	       json_number_value(json_object_get(sa, "tokens_per_second")), jint(sa, "tokens"),
	       json_number_value(json_object_get(sb, "tokens_per_second")), jint(sb, "tokens"));
}

static int do_diff(struct args *a)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct golden_options go = golden_default_options();
	struct llm_config cfg = golden_cfg(a);
	struct golden_runner r = doctor_golden_runner(&cfg);
	char *ua = diff_uri(a->pos[0]), *ub = diff_uri(a->pos[1]);
	json_t *prompts = NULL, *res = NULL;
	if (!ua || !ub)
		err_set(&e, MOAT_ENOMEM, "out of memory");
	else if ((prompts = golden_prompts_load(a->prompts, &go, &e)))
		res = golden_diff(prompts, &go, ua, ub, &r, &e);
	json_decref(prompts);
	free(ua);
	free(ub);
	return report(res, &e, a, 0, print_diff);
}

static int do_keys_generate(struct args *a)
{
	struct moat_err e = MOAT_ERR_INIT;
	if (keys_signing_generate(a->out, &e) < 0)
		return cmd_fail(&e);
	printf("wrote %s (private key: keep it here, off the media) and %s.pub (public key: "
	       "give it to the target)\n", a->out, a->out);
	return 0;
}

/* A subcommand: what it accepts, and the message when the operands or a
 * required option are wrong (a cmd_usage format that may use the first
 * operand). */
struct sub {
	const char *name;
	int (*fn)(struct args *a);
	unsigned opts;       /* B(OPT_...) it takes */
	int allow_j;
	int min_pos, max_pos;  /* operands (max_pos -1: any number) */
	unsigned need;       /* B(OPT_...) it must have */
	int store;           /* it works on the store (--models-dir) */
	const char *usage;
};

static const struct sub subs[] = {
	{ "list", do_list, B(OPT_MODELS_DIR) | B(OPT_JSON), 0, 0, 0, 0, 1,
	  "list: unexpected argument '%s'" },
	{ "ls", do_list, B(OPT_MODELS_DIR) | B(OPT_JSON), 0, 0, 0, 0, 1,
	  "list: unexpected argument '%s'" },
	{ "bundle", do_bundle, B(OPT_MODELS_DIR) | B(OPT_JSON) | B(OPT_TO) | B(OPT_SPLIT) |
	  B(OPT_SIGN) | B(OPT_SELF) | B(OPT_OCR_LANG) | B(OPT_GOLDEN) | B(OPT_RUNTIME), 1, 1, -1,
	  B(OPT_TO), 1,
	  "bundle: usage: moat models bundle NAME[:TAG]... --to DIR" },
	{ "verify", do_verify, B(OPT_JSON) | B(OPT_TRUST) | B(OPT_GOLDEN) | B(OPT_MODEL) |
	  B(OPT_TOLERANCE) | B(OPT_MODELS_DIR), 1, 1, 1, 0, 1,
	  "verify: usage: moat models verify DIR [--trust PUBKEY] [-j N] [--golden]" },
	{ "diff", do_diff, B(OPT_MODELS_DIR) | B(OPT_JSON) | B(OPT_PROMPTS), 0, 2, 2, B(OPT_PROMPTS),
	  1, "diff: usage: moat models diff A B --prompts FILE" },
	{ "install", do_install, B(OPT_MODELS_DIR) | B(OPT_JSON) | B(OPT_TRUST) | B(OPT_FORCE), 1,
	  1, 1, 0, 1,
	  "install: usage: moat models install DIR [--models-dir DIR] [--force] [--trust PUBKEY]" },
	{ "import", do_import, B(OPT_MODELS_DIR) | B(OPT_JSON) | B(OPT_NAME), 0, 1, 1, B(OPT_NAME),
	  1, "import: usage: moat models import FILE.gguf --name NAME[:TAG]" },
	{ "fsck", do_fsck, B(OPT_MODELS_DIR) | B(OPT_JSON) | B(OPT_QUICK) | B(OPT_PRUNE), 0, 0, 0,
	  0, 1, "fsck: unexpected argument" },
	{ "rm", do_rm, B(OPT_MODELS_DIR) | B(OPT_JSON), 0, 1, -1, 0, 1,
	  "rm: usage: moat models rm NAME[:TAG]..." },
};

static const struct sub keys_generate = {
	"generate", do_keys_generate, B(OPT_OUT), 0, 0, 0, B(OPT_OUT), 0,
	"keys: usage: moat keys generate --out KEYFILE"
};

/* Parses a subcommand's arguments against its row, finds the store, runs it. */
static int run_sub(const struct sub *s, int argc, char **argv, const char *help)
{
	struct args a;
	int rc = parse_mixed(argc, argv, s->opts, s->allow_j, &a, help);
	if (rc)
		return rc == HELP_SHOWN ? 0 : rc;
	if (a.n_pos < s->min_pos || (s->max_pos >= 0 && a.n_pos > s->max_pos) ||
	    (a.seen & s->need) != s->need) {
		rc = cmd_usage(s->usage, a.n_pos ? a.pos[0] : "");
	} else if (s->store && !(a.store = models_default_dir(a.models_dir))) {
		struct moat_err e = MOAT_ERR_INIT;
		err_set(&e, MOAT_ENOMEM, "out of memory");
		rc = cmd_fail(&e);
	} else {
		rc = s->fn(&a);
	}
	free(a.store);
	free(a.pos);
	free(a.model);
	free(a.golden_arg);
	return rc;
}

int cmd_models(struct cmd_ctx *ctx)
{
	if (ctx->argc < 2 || !strcmp(ctx->argv[1], "--help") || !strcmp(ctx->argv[1], "-h") ||
	    !strcmp(ctx->argv[1], "help")) {
		fputs(models_help, ctx->argc < 2 ? stderr : stdout);
		return ctx->argc < 2 ? EXIT_USAGE : 0;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(ctx->argv[1], subs[i].name))
			return run_sub(&subs[i], ctx->argc - 1, ctx->argv + 1, models_help);
	return cmd_usage("models: '%s' is not a models command (see 'moat models --help')",
			 ctx->argv[1]);
}

static const char keys_help[] =
	"usage: moat keys generate --out KEYFILE\n"
	"\n"
	"Writes a new Ed25519 key pair for signing bundles: KEYFILE (the private key,\n"
	"PEM, mode 0600: keep it on the staging machine, never on the media) and\n"
	"KEYFILE.pub (the public key: carry it to the target separately and pass it\n"
	"to 'moat models verify --trust' and 'moat models install --trust').\n"
	"Existing files are never overwritten.\n";

int cmd_keys(struct cmd_ctx *ctx)
{
	if (ctx->argc < 2 || !strcmp(ctx->argv[1], "--help") || !strcmp(ctx->argv[1], "-h")) {
		fputs(keys_help, ctx->argc < 2 ? stderr : stdout);
		return ctx->argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(ctx->argv[1], keys_generate.name))
		return cmd_usage("keys: '%s' is not a keys command (see 'moat keys --help')",
				 ctx->argv[1]);
	return run_sub(&keys_generate, ctx->argc - 1, ctx->argv + 1, keys_help);
}
