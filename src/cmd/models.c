/*
 * models.c - `moat models list|bundle|verify|install|import|fsck|rm` and
 * `moat keys generate`: the model kit's command line.  Parses options, calls
 * src/models/, prints tables or JSON, and turns results into exit statuses:
 *   0 success; 1 failure; 2 bad usage;
 *   verify and install: 3 a file is corrupt, missing or unexpected,
 *                       4 the signature is missing, bad, or by another key.
 */
#define _GNU_SOURCE
#include "cmd.h"
#include "../core/datadir.h"
#include "../core/progress.h"
#include "../keys/keys.h"
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
	"          [--sign KEYFILE] [--include-self [--ocr-lang eng+deu]] [-j N] [--json]\n"
	"          copies the models' manifests and blobs (each once) to DIR with SHA256SUMS,\n"
	"          bundle.json and an optional Ed25519 signature; an interrupted run resumes.\n"
	"          --include-self adds moat itself for a target with nothing installed: its\n"
	"          libraries, libmagic's database, Tesseract's languages (all this machine\n"
	"          has, or those --ocr-lang names) and llama-server; sh DIR/moat/install.sh\n"
	"  verify  DIR [--trust PUBKEY] [-j N] [--json]\n"
	"          checks every checksum, every GGUF blob's structure, and the signature\n"
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
	"4 the signature is missing, tampered or made by another key (3 wins when both).\n";

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

/* Ollama's format.HumanBytes */
static void ollama_bytes(uint64_t b, char *out, size_t size)
{
	static const char *units[] = { "TB", "GB", "MB", "KB" };
	static const double div[] = { 1e12, 1e9, 1e6, 1e3 };
	for (int i = 0; i < 4; i++)
		if ((double)b >= div[i]) {
			double v = (double)b / div[i];
			if (v >= 10)
				snprintf(out, size, "%d %s", (int)v, units[i]);
			else if (v != trunc(v))
				snprintf(out, size, "%.1f %s", v, units[i]);
			else
				snprintf(out, size, "%d %s", (int)v, units[i]);
			return;
		}
	snprintf(out, size, "%" PRIu64 " B", b);
}

/* Ollama's format.HumanTime */
static void ollama_time(int64_t t, char *out, size_t size)
{
	double d = difftime(time(NULL), (time_t)t);
	const char *suffix = " ago";
	char s[48];
	int secs, mins, hours;
	if (t == 0) {
		snprintf(out, size, "Never");
		return;
	}
	if (d < 0) {
		d = -d;
		suffix = " from now";
	}
	secs = (int)d;
	mins = (int)(d / 60);
	hours = (int)lround(d / 3600);
	if (secs < 1)
		snprintf(s, sizeof(s), "Less than a second");
	else if (secs == 1)
		snprintf(s, sizeof(s), "1 second");
	else if (secs < 60)
		snprintf(s, sizeof(s), "%d seconds", secs);
	else if (mins == 1)
		snprintf(s, sizeof(s), "About a minute");
	else if (mins < 60)
		snprintf(s, sizeof(s), "%d minutes", mins);
	else if (hours == 1)
		snprintf(s, sizeof(s), "About an hour");
	else if (hours < 48)
		snprintf(s, sizeof(s), "%d hours", hours);
	else if (hours < 24 * 7 * 2)
		snprintf(s, sizeof(s), "%d days", hours / 24);
	else if (hours < 24 * 30 * 2)
		snprintf(s, sizeof(s), "%d weeks", hours / 24 / 7);
	else if (hours < 24 * 365 * 2)
		snprintf(s, sizeof(s), "%d months", hours / 24 / 30);
	else
		snprintf(s, sizeof(s), "%d years", hours / 24 / 365);
	snprintf(out, size, "%s%s", s, suffix);
}

static const char *jstr(json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : dflt;
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
		char size[32], mod[48], ctxs[24] = "-";
		json_t *cl = json_object_get(m, "context_length");
		ollama_bytes((uint64_t)json_integer_value(json_object_get(m, "size")), size,
			     sizeof(size));
		ollama_time(json_integer_value(json_object_get(m, "modified")), mod, sizeof(mod));
		if (json_is_integer(cl))
			snprintf(ctxs, sizeof(ctxs), "%" JSON_INTEGER_FORMAT, json_integer_value(cl));
		printf("%-*s    %-12s    %-8s    %-18s    %-10s  %-9s  %-8s  %s\n", (int)w,
		       jstr(m, "name", "?"), jstr(m, "id", "-"), size, mod,
		       jstr(m, "architecture", "-"), jstr(m, "parameter_size", "-"),
		       jstr(m, "quantization", "-"), ctxs);
		for (size_t k = 0; k < json_array_size(pr); k++)
			printf("    ! %s\n", json_string_value(json_array_get(pr, k)));
	}
}

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
       OPT_FORCE, OPT_NAME, OPT_QUICK, OPT_PRUNE, OPT_OUT, OPT_OCR_LANG };

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
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct args {
	const char *models_dir, *to, *sign, *trust, *name, *out, *ocr_lang;
	uint64_t split;
	int json, self, force, quick, prune, jobs, help;
	int n_pos;
	char **pos;
	unsigned seen;   /* bit per OPT_ - 256 */
};

/* Parses argv (argv[0] is the subcommand).  allowed: bitmask of OPT_ values
 * (bit OPT_x - 256) and 'j'. */
static int parse_args(int argc, char **argv, unsigned allowed, int allow_j, struct args *a)
{
	int c;
	memset(a, 0, sizeof(*a));
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
		default: break;
		}
		/* GNU getopt with '+' stops at the first operand: collect it and go on */
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
	int no = 0, np = 0, rc;
	if (!opts || !pos) {
		free(opts);
		free(pos);
		return cmd_usage("out of memory");
	}
	opts[no++] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (!strcmp(s, "--")) {
			while (++i < argc)
				pos[np++] = argv[i];
			break;
		}
		if (s[0] == '-' && s[1]) {
			opts[no++] = argv[i];
			/* an option with a separate value takes the next word */
			int takes = 0;
			if (!strcmp(s, "-j"))
				takes = 1;
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
	rc = parse_args(no, opts, allowed, allow_j, a);
	free(opts);
	if (rc) {
		free(pos);
		return rc;
	}
	if (a->help) {
		fputs(help_text, stdout);
		free(pos);
		return HELP_SHOWN;
	}
	a->pos = pos;
	a->n_pos = np;
	return 0;
}

#define B(x) (1u << ((x) - 256))

/* ---- the subcommands ---- */

static int do_list(int argc, char **argv)
{
	struct args a;
	struct moat_err e = MOAT_ERR_INIT;
	char *dir;
	json_t *arr;
	int rc = parse_mixed(argc, argv, B(OPT_MODELS_DIR) | B(OPT_JSON), 0, &a, models_help);
	if (rc)
		return rc == HELP_SHOWN ? 0 : rc;
	if (a.n_pos) {
		rc = cmd_usage("list: unexpected argument '%s'", a.pos[0]);
		free(a.pos);
		return rc;
	}
	free(a.pos);
	dir = models_default_dir(a.models_dir);
	arr = models_list(dir, &e);
	free(dir);
	if (!arr)
		return cmd_fail(&e);
	if (a.json)
		cmd_print_json(arr);
	else {
		print_list(arr);
		json_decref(arr);
	}
	return 0;
}

static int do_bundle(int argc, char **argv)
{
	struct args a;
	struct moat_err e = MOAT_ERR_INIT;
	struct bundle_opts o = bundle_default_opts();
	struct bar bar = { .labels = (const char *[]){ "bundle" }, .n_labels = 1 };
	struct datafile magic = DATAFILE_INIT, tessdata = DATAFILE_INIT, server = DATAFILE_INIT;
	char *dir;
	json_t *res;
	int rc = parse_mixed(argc, argv, B(OPT_MODELS_DIR) | B(OPT_JSON) | B(OPT_TO) | B(OPT_SPLIT) |
			     B(OPT_SIGN) | B(OPT_SELF) | B(OPT_OCR_LANG), 1, &a, models_help);
	if (rc)
		return rc == HELP_SHOWN ? 0 : rc;
	if (!a.n_pos || !a.to) {
		free(a.pos);
		return cmd_usage("bundle: usage: moat models bundle NAME[:TAG]... --to DIR");
	}
	dir = models_default_dir(a.models_dir);
	o.models_dir = dir;
	o.names = (const char *const *)a.pos;
	o.n_names = (size_t)a.n_pos;
	o.to = a.to;
	o.split_size = a.split;
	o.sign_key = a.sign;
	o.include_self = a.self;
	if (a.ocr_lang && !a.self) {
		free(dir);
		free(a.pos);
		return cmd_usage("bundle: --ocr-lang goes with --include-self");
	}
	if (a.self) {
		datadir_magic(&magic);
		datadir_tessdata(&tessdata);
		datadir_llama_server(&server);
		o.magic_file = magic.path;
		o.tessdata_dir = tessdata.source != DATADIR_NONE ? tessdata.path : NULL;
		o.ocr_langs = a.ocr_lang;
		o.llama_server = server.path;
	}
	o.jobs = a.jobs ? a.jobs : 2;
	o.progress = on_progress;
	o.progress_arg = &bar;
	bar.quiet = a.json;
	res = models_bundle(&o, &e);
	bar_end(&bar);
	datafile_release(&magic);
	datafile_release(&tessdata);
	datafile_release(&server);
	free(dir);
	free(a.pos);
	if (!res)
		return cmd_fail(&e);
	if (a.json) {
		cmd_print_json(res);
		return 0;
	}
	{
		json_t *models = json_object_get(res, "models"), *blobs = json_object_get(res, "blobs");
		char tot[32];
		size_t files = 0;
		ollama_bytes((uint64_t)json_integer_value(json_object_get(res, "total_size")), tot,
			     sizeof(tot));
		for (size_t i = 0; i < json_array_size(blobs); i++)
			files += json_array_size(json_object_get(json_array_get(blobs, i), "files"));
		printf("bundled %zu model%s (%zu blob%s in %zu file%s, %s) into %s\n",
		       json_array_size(models), json_array_size(models) == 1 ? "" : "s",
		       json_array_size(blobs), json_array_size(blobs) == 1 ? "" : "s", files,
		       files == 1 ? "" : "s", tot, a.to);
		for (size_t i = 0; i < json_array_size(models); i++)
			printf("  %s  %.12s\n", jstr(json_array_get(models, i), "name", "?"),
			       jstr(json_array_get(models, i), "id", "?"));
		if (json_integer_value(json_object_get(res, "reused_files")))
			printf("resumed: %" JSON_INTEGER_FORMAT " file(s) already in place were "
			       "re-checked and kept\n",
			       json_integer_value(json_object_get(res, "reused_files")));
		if (a.sign)
			printf("signed with %s (bundle.sig)\n", a.sign);
		if (a.self)
			printf("moat itself is in moat/: on the target run 'sh moat/install.sh'\n");
		printf("check it on the other side with: moat models verify %s%s\n", a.to,
		       a.sign ? " --trust KEYFILE.pub" : "");
	}
	json_decref(res);
	return 0;
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
	ollama_bytes((uint64_t)json_integer_value(json_object_get(v, "bytes")), tot, sizeof(tot));
	fprintf(f, "checked %" JSON_INTEGER_FORMAT " files (%s)\n",
		json_integer_value(json_object_get(v, "files")), tot);
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

static int do_verify(int argc, char **argv)
{
	struct args a;
	struct moat_err e = MOAT_ERR_INIT;
	struct verify_opts o = verify_default_opts();
	struct bar bar = { .labels = (const char *[]){ "verify" }, .n_labels = 1 };
	json_t *res;
	int status;
	int rc = parse_mixed(argc, argv, B(OPT_JSON) | B(OPT_TRUST), 1, &a, models_help);
	if (rc)
		return rc == HELP_SHOWN ? 0 : rc;
	if (a.n_pos != 1) {
		free(a.pos);
		return cmd_usage("verify: usage: moat models verify DIR [--trust PUBKEY] [-j N]");
	}
	o.dir = a.pos[0];
	o.trust_key = a.trust;
	o.jobs = a.jobs ? a.jobs : 2;
	o.progress = on_progress;
	o.progress_arg = &bar;
	bar.quiet = a.json;
	res = models_verify(&o, &status, &e);
	bar_end(&bar);
	free(a.pos);
	if (!res)
		return cmd_fail(&e);
	if (a.json)
		cmd_print_json(res);
	else {
		print_verify(res, stdout);
		json_decref(res);
	}
	return status;
}

static int do_install(int argc, char **argv)
{
	struct args a;
	struct moat_err e = MOAT_ERR_INIT;
	struct install_opts o = install_default_opts();
	struct bar bar = { .labels = (const char *[]){ "verify", "install" }, .n_labels = 2 };
	char *dir;
	json_t *res, *list;
	int status;
	int rc = parse_mixed(argc, argv, B(OPT_MODELS_DIR) | B(OPT_JSON) | B(OPT_TRUST) |
			     B(OPT_FORCE), 1, &a, models_help);
	if (rc)
		return rc == HELP_SHOWN ? 0 : rc;
	if (a.n_pos != 1) {
		free(a.pos);
		return cmd_usage("install: usage: moat models install DIR [--models-dir DIR] "
				 "[--force] [--trust PUBKEY]");
	}
	dir = models_default_dir(a.models_dir);
	o.dir = a.pos[0];
	o.models_dir = dir;
	o.trust_key = a.trust;
	o.force = a.force;
	o.jobs = a.jobs ? a.jobs : 2;
	o.progress = on_progress;
	o.progress_arg = &bar;
	bar.quiet = a.json;
	res = models_install(&o, &status, &e);
	bar_end(&bar);
	free(a.pos);
	if (!res) {
		free(dir);
		return cmd_fail(&e);
	}
	if (status) {
		/* did not verify: say why, install nothing */
		if (a.json)
			cmd_print_json(res);
		else {
			print_verify(json_object_get(res, "verify"), stdout);
			json_decref(res);
		}
		fprintf(stderr, "moat: %s\n", e.msg);
		free(dir);
		return status;
	}
	list = models_list(dir, &e);
	if (a.json) {
		free(dir);
		json_object_set_new(res, "models", list ? list : json_null());
		cmd_print_json(res);
		return 0;
	}
	{
		json_t *inst = json_object_get(res, "installed");
		printf("installed %zu model%s (%" JSON_INTEGER_FORMAT " blob%s copied, %"
		       JSON_INTEGER_FORMAT " already present):",
		       json_array_size(inst), json_array_size(inst) == 1 ? "" : "s",
		       json_integer_value(json_object_get(res, "copied_blobs")),
		       json_integer_value(json_object_get(res, "copied_blobs")) == 1 ? "" : "s",
		       json_integer_value(json_object_get(res, "skipped_blobs")));
		for (size_t i = 0; i < json_array_size(inst); i++)
			printf(" %s", json_string_value(json_array_get(inst, i)));
		printf("\n\nmodels now available in %s:\n", o.models_dir);
		if (list)
			print_list(list);
	}
	free(dir);
	json_decref(list);
	json_decref(res);
	return 0;
}

static int do_import(int argc, char **argv)
{
	struct args a;
	struct moat_err e = MOAT_ERR_INIT;
	char *dir;
	json_t *res;
	int rc = parse_mixed(argc, argv, B(OPT_MODELS_DIR) | B(OPT_JSON) | B(OPT_NAME), 0, &a, models_help);
	if (rc)
		return rc == HELP_SHOWN ? 0 : rc;
	if (a.n_pos != 1 || !a.name) {
		free(a.pos);
		return cmd_usage("import: usage: moat models import FILE.gguf --name NAME[:TAG]");
	}
	dir = models_default_dir(a.models_dir);
	res = models_import(dir, a.pos[0], a.name, &e);
	free(dir);
	free(a.pos);
	if (!res)
		return cmd_fail(&e);
	if (a.json) {
		cmd_print_json(res);
		return 0;
	}
	{
		json_t *w = json_object_get(res, "warnings");
		printf("imported %s (id %.12s", jstr(res, "name", "?"), jstr(res, "id", "?"));
		if (json_object_get(res, "template_family"))
			printf(", chat template: %s", jstr(res, "template_family", "?"));
		printf(")\n");
		for (size_t i = 0; i < json_array_size(w); i++)
			printf("warning: %s\n", json_string_value(json_array_get(w, i)));
	}
	json_decref(res);
	return 0;
}

static int do_fsck(int argc, char **argv)
{
	struct args a;
	struct moat_err e = MOAT_ERR_INIT;
	char *dir;
	json_t *res, *pr;
	int ok, rc = parse_mixed(argc, argv, B(OPT_MODELS_DIR) | B(OPT_JSON) | B(OPT_QUICK) |
				 B(OPT_PRUNE), 0, &a, models_help);
	if (rc)
		return rc == HELP_SHOWN ? 0 : rc;
	free(a.pos);
	if (a.n_pos)
		return cmd_usage("fsck: unexpected argument");
	dir = models_default_dir(a.models_dir);
	res = models_fsck(dir, a.quick, &e);
	if (!res) {
		free(dir);
		return cmd_fail(&e);
	}
	if (a.prune) {
		json_t *removed = json_array();
		int n = models_prune(dir, removed, &e);
		if (n < 0)
			json_object_set_new(res, "prune_error", json_string(e.msg));
		json_object_set_new(res, "pruned", removed);
	}
	free(dir);
	ok = json_is_true(json_object_get(res, "ok"));
	if (a.json) {
		cmd_print_json(res);
		return ok ? 0 : 1;
	}
	pr = json_object_get(res, "problems");
	for (size_t i = 0; i < json_array_size(pr); i++) {
		json_t *p = json_array_get(pr, i);
		printf("%-7s  %s: %s\n", !strcmp(jstr(p, "severity", ""), "error") ? "ERROR" : "warning",
		       jstr(p, "path", "?"), jstr(p, "problem", "?"));
	}
	{
		json_t *pruned = json_object_get(res, "pruned");
		for (size_t i = 0; i < json_array_size(pruned); i++)
			printf("pruned   %s\n", json_string_value(json_array_get(pruned, i)));
		if (json_object_get(res, "prune_error"))
			printf("prune    %s\n", jstr(res, "prune_error", "?"));
	}
	printf("%" JSON_INTEGER_FORMAT " model%s, %" JSON_INTEGER_FORMAT " error%s, %zu warning%s%s\n",
	       json_integer_value(json_object_get(res, "models")),
	       json_integer_value(json_object_get(res, "models")) == 1 ? "" : "s",
	       json_integer_value(json_object_get(res, "errors")),
	       json_integer_value(json_object_get(res, "errors")) == 1 ? "" : "s",
	       json_array_size(pr) - (size_t)json_integer_value(json_object_get(res, "errors")),
	       json_array_size(pr) - (size_t)json_integer_value(json_object_get(res, "errors")) == 1
		       ? "" : "s",
	       a.quick ? " (quick: sizes only, no hashing)" : "");
	json_decref(res);
	return ok ? 0 : 1;
}

static int do_rm(int argc, char **argv)
{
	struct args a;
	struct moat_err e = MOAT_ERR_INIT;
	char *dir;
	json_t *res;
	int rc = parse_mixed(argc, argv, B(OPT_MODELS_DIR) | B(OPT_JSON), 0, &a, models_help);
	if (rc)
		return rc == HELP_SHOWN ? 0 : rc;
	if (!a.n_pos) {
		free(a.pos);
		return cmd_usage("rm: usage: moat models rm NAME[:TAG]...");
	}
	dir = models_default_dir(a.models_dir);
	res = models_rm(dir, (const char *const *)a.pos, (size_t)a.n_pos, &e);
	free(dir);
	free(a.pos);
	if (!res)
		return cmd_fail(&e);
	if (a.json) {
		cmd_print_json(res);
		return 0;
	}
	{
		json_t *r = json_object_get(res, "removed");
		char fr[32];
		for (size_t i = 0; i < json_array_size(r); i++)
			printf("deleted '%s'\n", json_string_value(json_array_get(r, i)));
		ollama_bytes((uint64_t)json_integer_value(json_object_get(res, "bytes_freed")), fr,
			     sizeof(fr));
		printf("removed %" JSON_INTEGER_FORMAT " unused blob%s (%s)\n",
		       json_integer_value(json_object_get(res, "blobs_removed")),
		       json_integer_value(json_object_get(res, "blobs_removed")) == 1 ? "" : "s", fr);
		if (json_object_get(res, "warning"))
			printf("warning: %s\n", jstr(res, "warning", ""));
	}
	json_decref(res);
	return 0;
}

int cmd_models(struct cmd_ctx *ctx)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} subs[] = {
		{ "list", do_list }, { "ls", do_list }, { "bundle", do_bundle },
		{ "verify", do_verify }, { "install", do_install }, { "import", do_import },
		{ "fsck", do_fsck }, { "rm", do_rm },
	};
	if (ctx->argc < 2 || !strcmp(ctx->argv[1], "--help") || !strcmp(ctx->argv[1], "-h") ||
	    !strcmp(ctx->argv[1], "help")) {
		fputs(models_help, ctx->argc < 2 ? stderr : stdout);
		return ctx->argc < 2 ? EXIT_USAGE : 0;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(ctx->argv[1], subs[i].name))
			return subs[i].fn(ctx->argc - 1, ctx->argv + 1);
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
	struct args a;
	struct moat_err e = MOAT_ERR_INIT;
	int rc;
	if (ctx->argc < 2 || !strcmp(ctx->argv[1], "--help") || !strcmp(ctx->argv[1], "-h")) {
		fputs(keys_help, ctx->argc < 2 ? stderr : stdout);
		return ctx->argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(ctx->argv[1], "generate"))
		return cmd_usage("keys: '%s' is not a keys command (see 'moat keys --help')",
				 ctx->argv[1]);
	rc = parse_mixed(ctx->argc - 1, ctx->argv + 1, B(OPT_OUT), 0, &a, keys_help);
	if (rc)
		return rc == HELP_SHOWN ? 0 : rc;
	free(a.pos);
	if (!a.out || a.n_pos)
		return cmd_usage("keys: usage: moat keys generate --out KEYFILE");
	if (keys_signing_generate(a.out, &e) < 0)
		return cmd_fail(&e);
	printf("wrote %s (private key: keep it here, off the media) and %s.pub (public key: "
	       "give it to the target)\n", a.out, a.out);
	return 0;
}
