/*
 * serve.c - `moat serve`: the JSON API on localhost (src/web/web.h).
 * Parses the options, starts the server, prints the URL with the one-time
 * token, and waits for SIGINT or SIGTERM, then stops it cleanly (requests
 * in flight finish, suggestion runs are cancelled).
 */
#define _GNU_SOURCE
#include "cmd.h"
#include "../core/buf.h"
#include "../core/fs.h"
#include "../store/store.h"
#include "../web/web.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
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
		"usage: moat serve [--bind ADDR] [--port N] [--tls-cert F --tls-key F] [--insecure]\n"
		"                  [--threads N] [--session-hours H] [--models-dir DIR]\n"
		"                  [--llm-server URL]... [--web-dir DIR]\n\n"
		"Serves the workspace's JSON API (docs/api.md; /api/openapi.json) over HTTP.\n"
		"  --bind ADDR          the address to listen on (default 127.0.0.1); an address\n"
		"                       that is not loopback needs --tls-cert/--tls-key or --insecure\n"
		"  --port N             the port (default 8765; 0: a free one, printed)\n"
		"  --tls-cert F, --tls-key F   serve HTTPS with this PEM certificate and key\n"
		"  --insecure           allow plain HTTP on a non-loopback address (warns)\n"
		"  --threads N          worker threads (default: the CPUs but one, 1 to 16)\n"
		"  --session-hours H    how long a login lasts (default 8)\n"
		"  --models-dir DIR     GGUF files the page lists as models (gguf:PATH), beside\n"
		"                       Ollama at OLLAMA_HOST and the Ollama store\n"
		"  --llm-server URL     an OpenAI-compatible server (llama-server, vLLM) whose models\n"
		"                       the page lists too, e.g. http://127.0.0.1:8080/v1 (repeatable)\n"
		"  --web-dir DIR        serve the page's files from DIR instead of those built into\n"
		"                       moat (for working on web/; the API is the same)\n\n"
		"It prints 'moat serve: URL' with a one-time token: opening it (POST /api/login\n"
		"{\"token\": ...}) logs in as the admin named after the OS user who started serve.\n"
		"Runs until SIGINT or SIGTERM.\n");
}

static void log_line(void *ud, const char *msg)
{
	(void)ud;
	fprintf(stderr, "moat serve: %s\n", msg);
}

static char *read_pem(const char *path)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct buf b = BUF_INIT;
	if (fs_read_file(path, &b, 1 << 20, &e) < 0) {
		buf_release(&b);
		cmd_fail(&e);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

enum { O_BIND = 1000, O_PORT, O_CERT, O_KEY, O_INSECURE, O_THREADS, O_HOURS, O_WEBDIR, O_MODELSDIR, O_LLMSERVER };

int cmd_serve(struct cmd_ctx *ctx)
{
	static const struct option opts[] = {
		{ "bind", required_argument, NULL, O_BIND },
		{ "port", required_argument, NULL, O_PORT },
		{ "tls-cert", required_argument, NULL, O_CERT },
		{ "tls-key", required_argument, NULL, O_KEY },
		{ "insecure", no_argument, NULL, O_INSECURE },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "session-hours", required_argument, NULL, O_HOURS },
		{ "web-dir", required_argument, NULL, O_WEBDIR },
		{ "models-dir", required_argument, NULL, O_MODELSDIR },
		{ "llm-server", required_argument, NULL, O_LLMSERVER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct web_opts o = web_opts_default();
	static const char *servers[8];
	size_t n_servers = 0;
	struct moat_err e = MOAT_ERR_INIT;
	const char *cert = NULL, *key = NULL;
	char *cert_pem = NULL, *key_pem = NULL, *dir = NULL, *end;
	struct passwd *pw = getpwuid(geteuid());
	struct web *w;
	sigset_t set;
	int opt, sig, rc = 0;

	optind = 1;
	while ((opt = getopt_long(ctx->argc, ctx->argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case O_BIND: o.bind = optarg; break;
		case O_PORT:
			o.port = (int)strtol(optarg, &end, 10);
			if (*end || !*optarg || o.port < 0 || o.port > 65535)
				return cmd_usage("serve: --port '%s': a port from 0 to 65535", optarg);
			break;
		case O_CERT: cert = optarg; break;
		case O_KEY: key = optarg; break;
		case O_INSECURE: o.insecure = 1; break;
		case O_WEBDIR: o.web_dir = optarg; break;
		case O_MODELSDIR: o.models_dir = optarg; break;
		case O_LLMSERVER:
			if (n_servers == sizeof(servers) / sizeof(servers[0]))
				return cmd_usage("serve: --llm-server: at most 8");
			servers[n_servers++] = optarg;
			o.servers = servers;
			o.n_servers = n_servers;
			break;
		case O_THREADS:
			o.threads = (int)strtol(optarg, &end, 10);
			if (*end || o.threads < 1 || o.threads > 256)
				return cmd_usage("serve: --threads '%s': 1 to 256", optarg);
			break;
		case O_HOURS:
			o.session_hours = strtod(optarg, &end);
			if (*end || !(o.session_hours > 0) || o.session_hours > 24 * 366)
				return cmd_usage("serve: --session-hours '%s': a number of hours above 0",
						 optarg);
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != ctx->argc)
		return cmd_usage("serve: unexpected '%s'", ctx->argv[optind]);
	if (!cert != !key)
		return cmd_usage("serve: --tls-cert and --tls-key go together");
	if (cert && (!(cert_pem = read_pem(cert)) || !(key_pem = read_pem(key)))) {
		free(cert_pem);
		return 1;
	}
	if (!(dir = store_find(ctx->workspace_flag, &e))) {
		free(cert_pem);
		free(key_pem);
		return cmd_fail(&e);
	}
	o.workspace = dir;
	o.tls_cert_pem = cert_pem;
	o.tls_key_pem = key_pem;
	o.os_user = pw ? pw->pw_name : NULL;
	o.log = log_line;

	/* the server's threads inherit this mask: the signals come to sigwait */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	w = web_start(&o, &e);
	if (key_pem) {
		memset(key_pem, 0, strlen(key_pem));
		free(key_pem);
	}
	free(cert_pem);
	if (!w) {
		free(dir);
		return e.code == MOAT_EUSAGE ? cmd_usage("serve: %s", e.msg) : cmd_fail(&e);
	}
	if (o.insecure && o.bind && !o.tls_cert_pem)
		fprintf(stderr, "moat serve: warning: --insecure: passwords and sessions cross the "
				"network in clear on %s\n", o.bind);
	printf("moat serve: %s\n", web_url(w));
	fflush(stdout);
	while (sigwait(&set, &sig) != 0)
		;
	fprintf(stderr, "moat serve: %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	web_stop(w);
	free(dir);
	return rc;
}
