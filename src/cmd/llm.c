/*
 * llm.c - `moat llm list|run|embed|bench|tokens|info`: the model layer from
 * the command line.  Parses options, calls src/llm/, prints; streams free text
 * to the terminal as it is generated; Ctrl-C cancels a generation (exit 130).
 * What the subcommands share is written once: the options every MODEL takes
 * (next_opt), the TEXT argument or the standard input (text_arg), opening
 * the model (open_model).
 */
#include "cmd.h"
#include "../core/buf.h"
#include "../core/fmt.h"
#include "../core/progress.h"
#include "../llm/llm.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/banned.h"

#define EXIT_CANCELLED 130

static volatile sig_atomic_t cancel_flag;

static void on_sigint(int sig)
{
	(void)sig;
	cancel_flag = 1;
}

static void catch_sigint(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: moat llm list [--json] [--ollama URL | --no-ollama] [--server URL]...\n"
		"                     [--models-dir DIR] [--dir DIR]\n"
		"       moat llm run MODEL [PROMPT|-] [--system S] [--temperature T] [--top-p P]\n"
		"                     [--top-k K] [--seed N] [--max-tokens N] [--ctx N] [--stop S]...\n"
		"                     [--labels a,b,c [--multi]] [--schema FILE] [--raw] [-n N]\n"
		"                     [--json] [--verbose]\n"
		"       moat llm embed MODEL [TEXT|-] [--lines] [--json]\n"
		"       moat llm bench MODEL [--prompt-tokens N] [--gen-tokens N] [--parallel N]\n"
		"                     [--repeat N] [--json]\n"
		"       moat llm tokens MODEL [TEXT|-]\n"
		"       moat llm info MODEL\n\n"
		"MODEL is a URI:\n"
		"  ollama://127.0.0.1:11434/NAME:TAG   Ollama's API (ollama:NAME uses OLLAMA_HOST)\n"
		"  openai://127.0.0.1:8080/v1/NAME     an OpenAI-compatible server (llama-server, ...)\n"
		"  gguf:/path/to/model.gguf            llama.cpp inside moat, no server\n"
		"  store:NAME:TAG                      llama.cpp inside moat, on the model's GGUF in the\n"
		"                                      Ollama store (--models-dir, OLLAMA_MODELS)\n\n"
		"Options for every MODEL:\n"
		"  --allow-host HOST   talk to this non-loopback host (repeatable; loopback only otherwise)\n"
		"  --models-dir DIR    the Ollama store for store: models\n"
		"  --timeout S         give up when a server sends nothing for S seconds (default 300;\n"
		"                      the checks of a server at the start share one such wait)\n"
		"  --deadline S        give up on a request after S seconds in all, connecting and the\n"
		"                      checks at the start included (default 1800; 0: none)\n"
		"  --parallel N        requests in flight / sequences decoded together\n"
		"  --ctx N             context size (per sequence)\n"
		"  --gpu-layers N      layers offloaded to the GPU by the built-in llama.cpp (-1: all)\n"
		"  --threads N         CPU threads of the built-in llama.cpp\n\n"
		"run: free text streams to stdout; --labels constrains the answer to one label\n"
		"(--multi: one or more, comma-separated), --schema to JSON following a schema\n"
		"subset; a constrained answer always parses.  -n N generates N answers together\n"
		"(seeds SEED, SEED+1, ... with --seed).  --json prints the results with their provenance.\n"
		"An answer stops at --max-tokens even when a server goes on (finish \"length\"); one\n"
		"longer than 64 MiB or past --deadline fails with a message saying so.\n"
		"Proxy variables are never used.  Exit status: 0 ok, 1 failed, 2 bad usage,\n"
		"130 cancelled (Ctrl-C).\n");
}

struct common {
	struct llm_config cfg;
	const char **allow;
	size_t n_allow;
	int own_parallel;         /* --parallel is the subcommand's (bench) */
};

enum {
	O_ALLOW = 1000, O_MODELS_DIR, O_TIMEOUT, O_DEADLINE, O_PARALLEL, O_CTX, O_GPU, O_THREADS,
	O_SYSTEM, O_TEMP, O_TOPP, O_TOPK, O_SEED, O_MAXTOK, O_STOP, O_LABELS, O_MULTI, O_SCHEMA,
	O_RAW, O_JSON, O_LINES, O_PP, O_TG, O_REPEAT, O_OLLAMA, O_NO_OLLAMA, O_SERVER, O_DIR,
	O_VERBOSE, O_N,
};

static const struct option all_opts[] = {
	{ "allow-host", required_argument, NULL, O_ALLOW },
	{ "models-dir", required_argument, NULL, O_MODELS_DIR },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "deadline", required_argument, NULL, O_DEADLINE },
	{ "parallel", required_argument, NULL, O_PARALLEL },
	{ "ctx", required_argument, NULL, O_CTX },
	{ "gpu-layers", required_argument, NULL, O_GPU },
	{ "threads", required_argument, NULL, O_THREADS },
	{ "system", required_argument, NULL, O_SYSTEM },
	{ "temperature", required_argument, NULL, O_TEMP },
	{ "top-p", required_argument, NULL, O_TOPP },
	{ "top-k", required_argument, NULL, O_TOPK },
	{ "seed", required_argument, NULL, O_SEED },
	{ "max-tokens", required_argument, NULL, O_MAXTOK },
	{ "stop", required_argument, NULL, O_STOP },
	{ "labels", required_argument, NULL, O_LABELS },
	{ "multi", no_argument, NULL, O_MULTI },
	{ "schema", required_argument, NULL, O_SCHEMA },
	{ "raw", no_argument, NULL, O_RAW },
	{ "json", no_argument, NULL, O_JSON },
	{ "lines", no_argument, NULL, O_LINES },
	{ "prompt-tokens", required_argument, NULL, O_PP },
	{ "gen-tokens", required_argument, NULL, O_TG },
	{ "repeat", required_argument, NULL, O_REPEAT },
	{ "ollama", required_argument, NULL, O_OLLAMA },
	{ "no-ollama", no_argument, NULL, O_NO_OLLAMA },
	{ "server", required_argument, NULL, O_SERVER },
	{ "dir", required_argument, NULL, O_DIR },
	{ "verbose", no_argument, NULL, O_VERBOSE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* The options every subcommand shares; returns 1 when taken, -1 bad value, 0 not one. */
static int common_opt(struct common *c, int opt, const char *arg)
{
	long v;
	switch (opt) {
	case O_ALLOW:
		c->allow[c->n_allow++] = arg;
		c->cfg.allow_hosts = c->allow;
		c->cfg.n_allow_hosts = c->n_allow;
		return 1;
	case O_MODELS_DIR:
		c->cfg.models_dir = arg;
		return 1;
	case O_TIMEOUT:
		if (parse_long(arg, 1, 86400, &v) < 0)
			return cmd_usage("llm: --timeout needs seconds"), -1;
		c->cfg.idle_timeout_ms = (int)v * 1000;
		return 1;
	case O_DEADLINE:
		if (parse_long(arg, 0, 7 * 86400, &v) < 0)
			return cmd_usage("llm: --deadline needs seconds (0: none)"), -1;
		c->cfg.deadline_ms = (int)v * 1000;
		return 1;
	case O_PARALLEL:
		if (c->own_parallel)
			return 0;
		if (parse_long(arg, 1, 256, &v) < 0)
			return cmd_usage("llm: --parallel needs a number from 1 to 256"), -1;
		c->cfg.parallel = (int)v;
		return 1;
	case O_CTX:
		if (parse_long(arg, 16, 1 << 22, &v) < 0)
			return cmd_usage("llm: --ctx needs a number of tokens"), -1;
		c->cfg.n_ctx = (int)v;
		return 1;
	case O_GPU:
		if (parse_long(arg, -1, 100000, &v) < 0)
			return cmd_usage("llm: --gpu-layers needs a number (-1: all)"), -1;
		c->cfg.n_gpu_layers = (int)v;
		return 1;
	case O_THREADS:
		if (parse_long(arg, 1, 1024, &v) < 0)
			return cmd_usage("llm: --threads needs a number"), -1;
		c->cfg.n_threads = (int)v;
		return 1;
	}
	return 0;
}

/* Reads all of stdin (capped). */
static char *read_stdin(struct moat_err *e)
{
	struct buf b = BUF_INIT;
	char tmp[65536];
	size_t n;
	buf_init(&b, 256u << 20);
	while ((n = fread(tmp, 1, sizeof(tmp), stdin)) > 0)
		buf_add(&b, tmp, n);
	if (ferror(stdin)) {
		buf_release(&b);
		err_set(e, MOAT_EIO, "cannot read the standard input");
		return NULL;
	}
	if (buf_failed(&b)) {
		buf_release(&b);
		err_set(e, MOAT_ELIMIT, "the standard input is larger than 256 MiB");
		return NULL;
	}
	return buf_detach(&b, NULL);
}

enum { OPT_END = -1, OPT_HELP = -2, OPT_BAD = -3 };

/* The next option a subcommand handles itself: the options every MODEL
 * takes are taken here, and --help prints the usage.  OPT_END after the
 * last one; OPT_HELP (usage printed: exit 0) and OPT_BAD (a bad value of a
 * shared option, said: exit 2) end the parsing. */
static int next_opt(struct common *c, int argc, char **argv, const char *shortopts)
{
	int opt, t;
	while ((opt = getopt_long(argc, argv, shortopts, all_opts, NULL)) != -1) {
		t = common_opt(c, opt, optarg);
		if (t < 0)
			return OPT_BAD;
		if (t > 0)
			continue;
		if (opt == 'h') {
			usage(stdout);
			return OPT_HELP;
		}
		return opt;
	}
	return OPT_END;
}

/* What a subcommand returns for OPT_HELP, OPT_BAD or an option it does not
 * take (the usage on stderr). */
static int opt_exit(int opt)
{
	if (opt == OPT_HELP)
		return 0;
	if (opt != OPT_BAD)
		usage(stderr);
	return EXIT_USAGE;
}

/* The TEXT after MODEL as a string of its own, or the standard input when
 * it is "-" or missing (what, when not NULL, is said to a terminal first:
 * "the prompt").  NULL after saying why. */
static char *text_arg(int argc, char **argv, const char *what)
{
	struct moat_err e = MOAT_ERR_INIT;
	char *t;
	if (argc - optind == 2 && strcmp(argv[optind + 1], "-")) {
		if (!(t = strdup(argv[optind + 1])))
			err_set(&e, MOAT_ENOMEM, "out of memory");
	} else {
		if (what && argc - optind == 1 && isatty(STDIN_FILENO))
			fprintf(stderr, "moat: reading %s from the standard input (Ctrl-D ends it)\n", what);
		t = read_stdin(&e);
	}
	if (!t)
		cmd_fail(&e);
	return t;
}

/* The model argv[optind] names, or NULL after saying why. */
static struct llm *open_model(struct common *c, char **argv)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct llm *m = llm_open(argv[optind], &c->cfg, &e);
	if (!m)
		cmd_fail(&e);
	return m;
}

static int out_of_memory(void)
{
	struct moat_err e = MOAT_ERR_INIT;
	err_set(&e, MOAT_ENOMEM, "out of memory");
	return cmd_fail(&e);
}

static int on_piece(void *ud, const char *piece, size_t len)
{
	(void)ud;
	fwrite(piece, 1, len, stdout);
	fflush(stdout);
	return 0;
}

static json_t *result_json(const struct llm_result *r, const struct moat_err *e)
{
	json_t *j = json_pack("{s:s, s:s, s:i, s:i}", "text", r->text ? r->text : "", "finish", r->finish,
			      "prompt_tokens", r->prompt_tokens, "completion_tokens", r->completion_tokens);
	json_t *t = json_object();
	if (r->value)
		json_object_set(j, "value", r->value);
	if (r->load_s > 0)
		json_object_set_new(t, "load_s", json_real(r->load_s));
	if (r->prompt_s >= 0)
		json_object_set_new(t, "prompt_s", json_real(r->prompt_s));
	if (r->gen_s >= 0)
		json_object_set_new(t, "gen_s", json_real(r->gen_s));
	if (r->prompt_s > 0 && r->prompt_tokens > 0)
		json_object_set_new(t, "prompt_tps", json_real(r->prompt_tokens / r->prompt_s));
	if (r->gen_s > 0 && r->completion_tokens > 0)
		json_object_set_new(t, "gen_tps", json_real(r->completion_tokens / r->gen_s));
	json_object_set_new(j, "timings", t);
	if (r->provenance)
		json_object_set(j, "provenance", r->provenance);
	if (e && e->code)
		json_object_set_new(j, "error", json_string(e->msg));
	return j;
}

static void print_value(const struct llm_result *r)
{
	if (json_is_string(r->value)) {
		printf("%s\n", json_string_value(r->value));
	} else if (json_is_array(r->value) && json_array_size(r->value) &&
		   json_is_string(json_array_get(r->value, 0))) {
		for (size_t i = 0; i < json_array_size(r->value); i++)
			printf("%s%s", i ? "," : "", json_string_value(json_array_get(r->value, i)));
		printf("\n");
	} else {
		char *s = json_dumps(r->value, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("%s\n", s ? s : "null");
		free(s);
	}
}

static void print_stats(const struct llm_result *r)
{
	if (r->load_s > 0)
		fprintf(stderr, "load duration:        %.3f s\n", r->load_s);
	if (r->prompt_tokens >= 0)
		fprintf(stderr, "prompt eval count:    %d token(s)\n", r->prompt_tokens);
	if (r->prompt_s > 0 && r->prompt_tokens > 0)
		fprintf(stderr, "prompt eval rate:     %.2f tokens/s\n", r->prompt_tokens / r->prompt_s);
	if (r->completion_tokens >= 0)
		fprintf(stderr, "eval count:           %d token(s)\n", r->completion_tokens);
	if (r->gen_s > 0 && r->completion_tokens > 0)
		fprintf(stderr, "eval rate:            %.2f tokens/s\n", r->completion_tokens / r->gen_s);
}

/* What `llm run` was asked. */
struct run_args {
	struct llm_options o;
	const char **stops;
	size_t n_stop;
	const char *labels, *system, *schema_file;
	int as_json, verbose, multi, raw;
	long count;
};

static int run_bad_value(void)
{
	cmd_usage("llm run: bad value for an option");
	usage(stderr);
	return EXIT_USAGE;
}

/* Parses run's options and arguments; -1 to go on, else the exit status. */
static int run_options(struct common *c, int argc, char **argv, struct run_args *a)
{
	int opt;
	long v;
	while ((opt = next_opt(c, argc, argv, "n:h")) != OPT_END) {
		switch (opt) {
		case O_SYSTEM: a->system = optarg; break;
		case O_TEMP:
			if (parse_double(optarg, 0, 100, &a->o.temperature) < 0)
				return run_bad_value();
			break;
		case O_TOPP:
			if (parse_double(optarg, 0, 1, &a->o.top_p) < 0)
				return run_bad_value();
			break;
		case O_TOPK:
			if (parse_long(optarg, 0, 1000000, &v) < 0)
				return run_bad_value();
			a->o.top_k = (int)v;
			break;
		case O_SEED:
			if (parse_long(optarg, 0, 0x7fffffff, &v) < 0)
				return run_bad_value();
			a->o.seed = v;
			break;
		case O_MAXTOK:
			if (parse_long(optarg, 0, 1 << 24, &v) < 0)
				return run_bad_value();
			a->o.max_tokens = (int)v;
			break;
		case O_STOP: a->stops[a->n_stop++] = optarg; break;
		case O_LABELS: a->labels = optarg; break;
		case O_MULTI: a->multi = 1; break;
		case O_SCHEMA: a->schema_file = optarg; break;
		case O_RAW: a->raw = 1; break;
		case O_JSON: a->as_json = 1; break;
		case O_VERBOSE: a->verbose = 1; break;
		case 'n':
			if (parse_long(optarg, 1, 4096, &a->count) < 0)
				return run_bad_value();
			break;
		case OPT_BAD:
			usage(stderr);
			return EXIT_USAGE;
		default:
			return opt_exit(opt);
		}
	}
	if (optind >= argc || argc - optind > 2)
		return cmd_usage("llm run: needs MODEL and at most one PROMPT (or - for the standard input)");
	if (a->labels && a->schema_file)
		return cmd_usage("llm run: --labels and --schema exclude each other");
	if (a->multi && !a->labels)
		return cmd_usage("llm run: --multi goes with --labels");
	if (c->cfg.n_ctx > 0)
		a->o.n_ctx = c->cfg.n_ctx;
	a->o.stop = a->stops;
	a->o.n_stop = a->n_stop;
	return -1;
}

/* Splits "a,b,c" into labels (pointers into s, which is modified). */
static size_t split_labels(char *s, const char **out, size_t max)
{
	size_t n = 0;
	char *p = s;
	while (p && n < max) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		out[n++] = p;
		p = comma ? comma + 1 : NULL;
	}
	return n;
}

/* Prints the answers of a run: streamed already, values, texts or JSON. */
static void print_answers(const struct run_args *a, long count, int streaming,
			  const struct llm_result *res, const struct moat_err *errs)
{
	if (a->as_json) {
		json_t *arr = json_array();
		for (long i = 0; i < count; i++)
			json_array_append_new(arr, result_json(&res[i], &errs[i]));
		if (count == 1) {
			json_t *one = json_incref(json_array_get(arr, 0));
			json_decref(arr);
			cmd_print_json(one);
		} else {
			cmd_print_json(arr);
		}
		return;
	}
	for (long i = 0; i < count; i++) {
		if (errs[i].code) {
			if (streaming && res[i].text && res[i].text[0])
				fputc('\n', stdout);
			continue;
		}
		if (res[i].value)
			print_value(&res[i]);
		else if (streaming)
			fputc('\n', stdout);
		else
			printf("%s%s", res[i].text ? res[i].text : "", count > 1 ? "\n---\n" : "\n");
		if (a->verbose) {
			fflush(stdout);
			print_stats(&res[i]);
		}
	}
}

/* Generates a->count answers to rq and prints them; the exit status. */
static int generate(struct llm *m, const struct llm_request *rq, const struct run_args *a)
{
	long count = a->count;
	struct llm_request *rs = calloc((size_t)count, sizeof(*rs));
	struct llm_result *res = calloc((size_t)count, sizeof(*res));
	struct moat_err *errs = calloc((size_t)count, sizeof(*errs));
	int streaming = !a->as_json && count == 1 && rq->constraint == LLM_FREE;
	int failed, any_cancel = 0;
	if (!rs || !res || !errs) {
		free(rs), free(res), free(errs);
		return out_of_memory();
	}
	for (long i = 0; i < count; i++) {
		rs[i] = *rq;
		if (a->o.seed >= 0)
			rs[i].opt.seed = a->o.seed + i;  /* else each gets its own, recorded */
		if (streaming)
			rs[i].on_token = on_piece;
	}
	failed = llm_generate_many(m, rs, (size_t)count, res, errs);
	for (long i = 0; i < count; i++)
		any_cancel |= errs[i].code == MOAT_EINTERRUPTED;
	print_answers(a, count, streaming, res, errs);
	for (long i = 0; i < count; i++)
		if (errs[i].code) {
			if (count > 1)
				err_prefix(&errs[i], "answer %ld", i + 1);
			cmd_fail(&errs[i]);
		}
	for (long i = 0; i < count; i++)
		llm_result_release(&res[i]);
	free(rs), free(res), free(errs);
	return any_cancel ? EXIT_CANCELLED : failed ? 1 : 0;
}

static int llm_run(struct common *c, int argc, char **argv)
{
	struct run_args a;
	struct llm_request rq;
	const char **labels = NULL;
	char *labels_text = NULL, *prompt = NULL;
	size_t n_labels = 0;
	json_t *schema = NULL;
	struct llm *m = NULL;
	double started;
	int rc;

	memset(&a, 0, sizeof(a));
	a.o = llm_options_default();
	a.count = 1;
	a.stops = calloc((size_t)argc + 1, sizeof(char *));
	if (!a.stops)
		return out_of_memory();
	rc = run_options(c, argc, argv, &a);
	if (rc >= 0)
		goto out;
	rc = 1;
	prompt = text_arg(argc, argv, "the prompt");
	if (!prompt)
		goto out;
	if (a.labels) {
		labels_text = strdup(a.labels);
		labels = calloc(strlen(a.labels) + 2, sizeof(char *));
		if (!labels_text || !labels) {
			rc = out_of_memory();
			goto out;
		}
		n_labels = split_labels(labels_text, labels, strlen(a.labels) + 1);
	}
	if (a.schema_file) {
		json_error_t je;
		struct moat_err e = MOAT_ERR_INIT;
		schema = json_load_file(a.schema_file, 0, &je);
		if (!schema) {
			err_set(&e, MOAT_EPARSE, "cannot read the schema '%s': %s (line %d)", a.schema_file,
				je.text, je.line);
			rc = cmd_fail(&e);
			goto out;
		}
	}
	started = now_seconds();  /* --deadline counts opening the model in */
	m = open_model(c, argv);
	if (!m)
		goto out;
	catch_sigint();
	memset(&rq, 0, sizeof(rq));
	rq.started = started;
	rq.system = a.system;
	rq.prompt = prompt;
	rq.raw = a.raw;
	rq.opt = a.o;
	rq.constraint = schema ? LLM_SCHEMA : labels ? (a.multi ? LLM_LABELS : LLM_LABEL) : LLM_FREE;
	rq.labels = labels;
	rq.n_labels = n_labels;
	rq.schema = schema;
	rq.cancel = &cancel_flag;
	rc = generate(m, &rq, &a);
out:
	llm_free(m);
	json_decref(schema);
	free(labels);
	free(labels_text);
	free(a.stops);
	free(prompt);
	return rc;
}

static int llm_embed_cmd(struct common *c, int argc, char **argv)
{
	int as_json = 0, lines = 0, opt, rc = 1;
	char *input;
	const char **texts = NULL;
	size_t n = 0;
	struct llm *m = NULL;
	struct llm_embedding em;
	struct moat_err e = MOAT_ERR_INIT;

	memset(&em, 0, sizeof(em));
	while ((opt = next_opt(c, argc, argv, "h")) != OPT_END) {
		switch (opt) {
		case O_JSON: as_json = 1; break;
		case O_LINES: lines = 1; break;
		default: return opt_exit(opt);
		}
	}
	if (optind >= argc || argc - optind > 2)
		return cmd_usage("llm embed: needs MODEL and at most one TEXT (or - for the standard input)");
	if (!(input = text_arg(argc, argv, NULL)))
		return 1;
	texts = calloc(strlen(input) + 2, sizeof(char *));
	if (!texts) {
		free(input);
		return out_of_memory();
	}
	if (lines) {
		char *p = input;
		while (*p) {
			char *nl = strchr(p, '\n');
			if (nl)
				*nl = '\0';
			if (*p)
				texts[n++] = p;
			if (!nl)
				break;
			p = nl + 1;
		}
	} else {
		texts[n++] = input;
	}
	if (n == 0) {
		rc = cmd_usage("llm embed: nothing to embed");
		goto out;
	}
	if (!(m = open_model(c, argv)))
		goto out;
	if (llm_embed(m, texts, n, &em, &e) < 0) {
		rc = cmd_fail(&e);
		goto out;
	}
	rc = 0;
	if (as_json) {
		json_t *rows = json_array();
		for (size_t i = 0; i < em.n; i++) {
			json_t *row = json_array();
			for (size_t k = 0; k < em.dim; k++)
				json_array_append_new(row, json_real(em.data[i * em.dim + k]));
			json_array_append_new(rows, row);
		}
		cmd_print_json(json_pack("{s:I, s:I, s:i, s:o, s:O}", "n", (json_int_t)em.n, "dim",
					 (json_int_t)em.dim, "prompt_tokens", em.prompt_tokens, "embeddings", rows,
					 "provenance", em.provenance));
	} else {
		for (size_t i = 0; i < em.n; i++) {
			fputc('[', stdout);
			for (size_t k = 0; k < em.dim; k++)
				printf("%s%.7g", k ? "," : "", em.data[i * em.dim + k]);
			fputs("]\n", stdout);
		}
	}
out:
	llm_embedding_release(&em);
	llm_free(m);
	free(texts);
	free(input);
	return rc;
}

static void print_bench(const char *model, const char *be, const struct llm_bench_result *br)
{
	printf("| %-40s | %-7s | %8s | %14s |\n", "model", "backend", "test", "t/s");
	printf("| %.40s | ------- | -------- | -------------: |\n",
	       "----------------------------------------");
	if (br->pp_tps > 0)
		printf("| %-40.40s | %-7s | %5s%-3d | %14.2f |\n", model, be, "pp", br->prompt_tokens, br->pp_tps);
	if (br->parallel > 1) {
		char t[32];  /* "tg128x4": two numbers always fit */
		if (xsnprintf(t, sizeof(t), "tg%dx%d", br->gen_tokens, br->parallel) < 0)
			t[0] = '\0';
		printf("| %-40.40s | %-7s | %8s | %14.2f |\n", model, be, t, br->tg_tps);
		printf("| %-40.40s | %-7s | %8s | %14.2f |\n", model, be, "per seq", br->tg_tps_seq);
	} else {
		printf("| %-40.40s | %-7s | %5s%-3d | %14.2f |\n", model, be, "tg", br->gen_tokens, br->tg_tps);
	}
	printf("(%d runs after a warm-up; %s)\n", br->repeat,
	       br->measured_by_server ? "the server's own timings" : "timed by moat");
}

static int llm_bench_cmd(struct common *c, int argc, char **argv)
{
	struct llm_bench_opts bo = { 512, 128, 1, 3 };
	struct llm_bench_result br;
	int as_json = 0, opt;
	long v;
	struct llm *m;
	struct moat_err e = MOAT_ERR_INIT;
	json_t *info;
	c->own_parallel = 1;
	while ((opt = next_opt(c, argc, argv, "h")) != OPT_END) {
		switch (opt) {
		case O_PARALLEL:
			if (parse_long(optarg, 1, 256, &v) < 0)
				return cmd_usage("llm bench: --parallel needs a number from 1 to 256");
			bo.parallel = (int)v;
			break;
		case O_PP:
			if (parse_long(optarg, 1, 1 << 20, &v) < 0)
				return cmd_usage("llm bench: --prompt-tokens needs a number");
			bo.prompt_tokens = (int)v;
			break;
		case O_TG:
			if (parse_long(optarg, 1, 1 << 20, &v) < 0)
				return cmd_usage("llm bench: --gen-tokens needs a number");
			bo.gen_tokens = (int)v;
			break;
		case O_REPEAT:
			if (parse_long(optarg, 1, 1000, &v) < 0)
				return cmd_usage("llm bench: --repeat needs a number");
			bo.repeat = (int)v;
			break;
		case O_JSON: as_json = 1; break;
		default: return opt_exit(opt);
		}
	}
	if (optind + 1 != argc)
		return cmd_usage("llm bench: needs one MODEL");
	/* the server's slots / the batch must hold the parallel sequences */
	if (c->cfg.parallel < bo.parallel)
		c->cfg.parallel = bo.parallel;
	if (!(m = open_model(c, argv)))
		return 1;
	if (llm_bench(m, &bo, &br, &e) < 0) {
		llm_free(m);
		return cmd_fail(&e);
	}
	info = llm_info(m);
	llm_free(m);
	if (!info)
		return out_of_memory();
	if (as_json)
		cmd_print_json(json_pack("{s:s, s:O, s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:f, s:b}", "model",
					 argv[optind], "backend", json_object_get(info, "backend"), "prompt_tokens",
					 br.prompt_tokens, "gen_tokens", br.gen_tokens, "parallel", br.parallel,
					 "repeat", br.repeat, "pp_tps", br.pp_tps, "tg_tps", br.tg_tps, "tg_tps_seq",
					 br.tg_tps_seq, "wall_s", br.wall_s, "measured_by_server",
					 br.measured_by_server));
	else
		print_bench(argv[optind], json_string_value(json_object_get(info, "backend")), &br);
	json_decref(info);
	return 0;
}

static int llm_tokens_cmd(struct common *c, int argc, char **argv)
{
	int opt;
	char *text;
	struct llm *m;
	struct moat_err e = MOAT_ERR_INIT;
	long n;
	if ((opt = next_opt(c, argc, argv, "h")) != OPT_END)
		return opt_exit(opt);
	if (optind >= argc || argc - optind > 2)
		return cmd_usage("llm tokens: needs MODEL and at most one TEXT");
	if (!(text = text_arg(argc, argv, NULL)))
		return 1;
	c->cfg.quiet_probe = 0;
	if (!(m = open_model(c, argv))) {
		free(text);
		return 1;
	}
	n = llm_count_tokens(m, text, &e);
	llm_free(m);
	free(text);
	if (n < 0)
		return cmd_fail(&e);
	printf("%ld\n", n);
	return 0;
}

static int llm_info_cmd(struct common *c, int argc, char **argv)
{
	int opt;
	struct llm *m;
	json_t *info;
	while ((opt = next_opt(c, argc, argv, "h")) != OPT_END)
		if (opt != O_JSON)  /* the answer is JSON anyway */
			return opt_exit(opt);
	if (optind + 1 != argc)
		return cmd_usage("llm info: needs one MODEL");
	if (!(m = open_model(c, argv)))
		return 1;
	info = llm_info(m);
	llm_free(m);
	if (!info)
		return out_of_memory();
	cmd_print_json(info);
	return 0;
}

/* The list as a table on stdout, the sources that failed on stderr. */
static void print_list(const struct common *c, json_t *j)
{
	json_t *models = json_object_get(j, "models"), *sources = json_object_get(j, "sources");
	size_t w = 5;
	for (size_t i = 0; i < json_array_size(models); i++) {
		size_t l = strlen(json_string_value(json_object_get(json_array_get(models, i), "uri")));
		if (l > w)
			w = l;
	}
	if (w > 90)
		w = 90;
	printf("%-*s  %10s  %s\n", (int)w, "MODEL", "SIZE", "SOURCE");
	for (size_t i = 0; i < json_array_size(models); i++) {
		json_t *mo = json_array_get(models, i), *sz = json_object_get(mo, "size");
		char size[32] = "-";
		if (json_is_integer(sz))
			human_bytes((uint64_t)json_integer_value(sz), size, sizeof(size));
		printf("%-*s  %10s  %s%s\n", (int)w, json_string_value(json_object_get(mo, "uri")), size,
		       json_string_value(json_object_get(mo, "source")),
		       json_object_get(mo, "problems") ? " (broken: see 'moat models fsck')" : "");
	}
	for (size_t i = 0; i < json_array_size(sources); i++) {
		json_t *so = json_array_get(sources, i);
		const char *where = json_string_value(json_object_get(so, "where"));
		const char *err = json_string_value(json_object_get(so, "error"));
		/* a default store that is not there is normal: say nothing */
		if (!c->cfg.models_dir && !strcmp(json_string_value(json_object_get(so, "source")), "store"))
			continue;
		if (json_is_true(json_object_get(so, "ok")))
			continue;
		if (strstr(err, where))
			fprintf(stderr, "moat: %s\n", err);
		else
			fprintf(stderr, "moat: %s %s: %s\n", json_string_value(json_object_get(so, "source")),
				where, err);
	}
}

static int llm_list_cmd(struct common *c, int argc, char **argv)
{
	struct llm_list_sources s;
	const char **servers = calloc((size_t)argc + 1, sizeof(char *));
	int as_json = 0, opt, rc = -1;
	json_t *j;
	memset(&s, 0, sizeof(s));
	if (!servers)
		return out_of_memory();
	while (rc < 0 && (opt = next_opt(c, argc, argv, "h")) != OPT_END) {
		switch (opt) {
		case O_JSON: as_json = 1; break;
		case O_OLLAMA: s.ollama_url = optarg; break;
		case O_NO_OLLAMA: s.ollama_url = ""; break;
		case O_SERVER: servers[s.n_servers++] = optarg; break;
		case O_DIR: s.gguf_dir = optarg; break;
		default: rc = opt_exit(opt);
		}
	}
	if (rc < 0 && optind != argc)
		rc = cmd_usage("llm list: unexpected '%s'", argv[optind]);
	if (rc >= 0) {
		free(servers);
		return rc;
	}
	s.servers = servers;
	s.models_dir = c->cfg.models_dir;
	s.cfg = &c->cfg;
	j = llm_list(&s);
	free(servers);
	if (!j)
		return out_of_memory();
	if (as_json) {
		cmd_print_json(j);
		return 0;
	}
	print_list(c, j);
	json_decref(j);
	return 0;
}

int cmd_llm(struct cmd_ctx *ctx)
{
	struct common c;
	const char *sub;
	int rc;
	if (ctx->argc < 2 || !strcmp(ctx->argv[1], "--help") || !strcmp(ctx->argv[1], "-h")) {
		usage(ctx->argc < 2 ? stderr : stdout);
		return ctx->argc < 2 ? EXIT_USAGE : 0;
	}
	memset(&c, 0, sizeof(c));
	c.cfg = llm_config_default();
	c.allow = calloc((size_t)ctx->argc + 1, sizeof(char *));
	if (!c.allow)
		return out_of_memory();
	sub = ctx->argv[1];
	optind = 1;
	if (!strcmp(sub, "run"))
		rc = llm_run(&c, ctx->argc - 1, ctx->argv + 1);
	else if (!strcmp(sub, "embed"))
		rc = llm_embed_cmd(&c, ctx->argc - 1, ctx->argv + 1);
	else if (!strcmp(sub, "bench"))
		rc = llm_bench_cmd(&c, ctx->argc - 1, ctx->argv + 1);
	else if (!strcmp(sub, "tokens"))
		rc = llm_tokens_cmd(&c, ctx->argc - 1, ctx->argv + 1);
	else if (!strcmp(sub, "info"))
		rc = llm_info_cmd(&c, ctx->argc - 1, ctx->argv + 1);
	else if (!strcmp(sub, "list"))
		rc = llm_list_cmd(&c, ctx->argc - 1, ctx->argv + 1);
	else
		rc = cmd_usage("llm: unknown subcommand '%s' (list, run, embed, bench, tokens, info)", sub);
	free(c.allow);
	return rc;
}
