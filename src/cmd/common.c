/* common.c - output helpers the subcommands share, and the command line as
 * the audit trail keeps it. */
#define _GNU_SOURCE
#include "cmd.h"
#include "../store/audit.h"
#include "../store/store.h"
#include "../core/jsonu.h"
#include "../core/utf8.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/resource.h>

#include "../core/banned.h"

int cmd_exit_code(const struct moat_err *e)
{
	return e->code == MOAT_EENV || e->code == MOAT_ENOMEM ? EXIT_ENV : 1;
}

int cmd_fail(const struct moat_err *e)
{
	fprintf(stderr, "moat: %s\n", e->msg[0] ? e->msg : moat_strerror(e->code));
	return cmd_exit_code(e);
}

int cmd_fail_json(const struct moat_err *e, json_t *summary)
{
	json_t *j = json_is_object(summary) ? summary : json_object();
	int code = cmd_fail(e);
	if (j != summary)
		json_decref(summary);
	if (j && (json_object_set_new(j, "ok", json_false()) ||
		  json_object_set_new(j, "error", jsonu_string(e->msg[0] ? e->msg
								     : moat_strerror(e->code))) ||
		  json_object_set_new(j, "exit", json_integer(code)))) {
		json_decref(j);
		j = NULL;
	}
	cmd_print_json(j);
	return code;
}

int cmd_usage(const char *fmt, ...)
{
	va_list ap;
	fputs("moat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

void cmd_print_json(json_t *j)
{
	if (!j) {
		/* a json_pack that failed (a bad format, text that is not UTF-8):
		 * never exit 0 having printed nothing */
		fflush(stdout);
		fputs("moat: internal error: the result could not be encoded as JSON\n", stderr);
		exit(1);
	}
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII * 0);
	fputc('\n', stdout);
	json_decref(j);
}

int cmd_audit_append(struct cmd_ctx *ctx, json_t *inputs, json_t *outputs, json_t *counts,
		     char head[65])
{
	struct moat_err e = MOAT_ERR_INIT;
	struct audit_entry a = { ctx->cmdline, inputs, outputs, counts, NULL };
	if (audit_append(ctx->store, &a, head, &e) < 0)
		return cmd_fail(&e);
	return 0;
}

struct store *cmd_open_read(struct cmd_ctx *ctx, struct moat_err *e)
{
	char *dir = store_find(ctx->workspace_flag, e);
	struct store *s;
	if (!dir)
		return NULL;
	s = store_open(dir, STORE_READ, e);
	free(dir);
	return s;
}

/* Options whose value is a secret: never written to the audit trail.  A new
 * secret-bearing option adds its name here. */
static const char *const SECRET_OPTIONS[] = { "--password", "--db-password", NULL };

/* 1 when arg names a secret option the way getopt_long accepts it: whole,
 * or a prefix of at least "--pa" (getopt takes unique abbreviations). */
static int secret_option(const char *arg, size_t len)
{
	if (len < 4 || strncmp(arg, "--", 2))
		return 0;
	for (size_t i = 0; SECRET_OPTIONS[i]; i++)
		if (len <= strlen(SECRET_OPTIONS[i]) && !strncmp(arg, SECRET_OPTIONS[i], len))
			return 1;
	return 0;
}

int cmd_secret_option(const char *arg)
{
	const char *eq = strchr(arg, '=');
	return secret_option(arg, eq ? (size_t)(eq - arg) : strlen(arg));
}

int cmd_parse_int(const char *opt, const char *arg, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;
	errno = 0;
	v = strtoll(arg, &end, 10);
	if (!*arg || *end || errno || v < min || v > max) {
		cmd_usage("%s '%s': give a whole number from %lld to %lld", opt, arg, (long long)min,
			  (long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

static volatile sig_atomic_t interrupted_flag;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted_flag = 1;
}

volatile sig_atomic_t *cmd_catch_interrupt(struct cmd_interrupt *ci)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	interrupted_flag = 0;
	sigaction(SIGINT, &sa, &ci->old_int);
	sigaction(SIGTERM, &sa, &ci->old_term);
	return &interrupted_flag;
}

void cmd_release_interrupt(struct cmd_interrupt *ci)
{
	sigaction(SIGINT, &ci->old_int, NULL);
	sigaction(SIGTERM, &ci->old_term, NULL);
}

int cmd_parse_shard(const char *name, const char *arg, struct shard *s)
{
	unsigned long v[2];
	const char *p = arg;
	for (int k = 0; k < 2; k++) {
		char *end;
		if (*p < '0' || *p > '9' || strlen(p) > 12)
			goto bad;
		v[k] = strtoul(p, &end, 10);
		if (k == 0 && *end != '/')
			goto bad;
		if (k == 1 && *end)
			goto bad;
		p = end + 1;
	}
	if (v[1] < 1 || v[1] > SHARD_MAX || v[0] >= v[1])
		goto bad;
	s->i = (unsigned)v[0];
	s->n = (unsigned)v[1];
	return 0;
bad:
	return cmd_usage("%s: --shard takes I/N with 0 <= I < N <= %d (got '%s')", name, SHARD_MAX,
			 arg);
}

json_t *cmd_shard_json(const struct shard *s)
{
	if (!s->n)
		return NULL;
	return json_pack("{s:i, s:i}", "index", (int)s->i, "count", (int)s->n);
}

json_t *cmd_cmdline(int argc, char **argv)
{
	json_t *a = json_array();
	int hide_next = 0;
	for (int k = 0; a && k < argc; k++) {
		const char *eq = strchr(argv[k], '=');
		json_t *v;
		if (hide_next) {
			v = json_string("***");
			hide_next = 0;
		} else if (eq && secret_option(argv[k], (size_t)(eq - argv[k]))) {
			char *t = NULL;
			v = asprintf(&t, "%.*s=***", (int)(eq - argv[k]), argv[k]) < 0 ? NULL : json_string(t);
			free(t);
		} else {
			hide_next = !eq && secret_option(argv[k], strlen(argv[k]));
			v = jsonu_string(argv[k]);
		}
		if (!v || json_array_append_new(a, v)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* A control character (C0, DEL, C1 as UTF-8) at s[0..n): its length, or 0. */
static size_t control_at(const unsigned char *s)
{
	if (s[0] < 0x20 || s[0] == 0x7f)
		return 1;
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
		return 2;
	return 0;
}

static void put_octal(FILE *f, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "\\%03o", s[i]);
}

static void put_escaped(FILE *f, const unsigned char *p, int keep_lines)
{
	static const char named[] = "\a\b\t\n\v\f\r";
	static const char letter[] = "abtnvfr";
	while (*p) {
		size_t c = control_at(p), bad;
		if (c == 1 && keep_lines && (*p == '\n' || *p == '\t')) {
			fputc(*p++, f);
		} else if (c == 1 && *p && strchr(named, *p)) {
			fputc('\\', f);
			fputc(letter[strchr(named, *p) - named], f);
			p++;
		} else if (c) {
			put_octal(f, p, c);
			p += c;
		} else if (*p >= 0x80 && !(bad = utf8_valid_prefix((const char *)p, strlen((const char *)p)))) {
			put_octal(f, p, 1);  /* a byte that is not UTF-8 */
			p++;
		} else if (*p >= 0x80) {
			/* a valid sequence: as it is, up to the next control or bad byte */
			size_t k = 0;
			while (k < bad && !control_at(p + k))
				k++;
			if (!k) {
				put_octal(f, p, 1);
				p++;
			} else {
				fwrite(p, 1, k, f);
				p += k;
			}
		} else {
			fputc(*p++, f);
		}
	}
}

void cmd_put_path(FILE *f, const char *path)
{
	const unsigned char *p = (const unsigned char *)path;
	int quote = 0;
	for (size_t i = 0; p[i] && !quote; i++)
		quote = control_at(p + i) || p[i] == '"' || p[i] == '\\';
	if (!quote && utf8_valid_prefix(path, strlen(path)) == strlen(path)) {
		fputs(path, f);
		return;
	}
	fputc('"', f);
	for (; *p; p++) {
		if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p, f);
		} else {
			char one[5] = { (char)*p, 0 };
			size_t n = 1;
			/* keep a whole code point together for put_escaped */
			while (n < 4 && (p[n] & 0xc0) == 0x80) {
				one[n] = (char)p[n];
				n++;
			}
			one[n] = 0;
			put_escaped(f, (const unsigned char *)one, 0);
			p += n - 1;
		}
	}
	fputc('"', f);
}

void cmd_put_text(FILE *f, const char *text)
{
	put_escaped(f, (const unsigned char *)text, 1);
}

size_t cmd_parse_size(const char *s, int *ok)
{
	char *end;
	double v = strtod(s, &end);
	double mul = 1;
	*ok = end != s && v >= 0;
	switch (*end) {
	case 'k': case 'K': mul = 1024.0; end++; break;
	case 'm': case 'M': mul = 1024.0 * 1024; end++; break;
	case 'g': case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
	default: break;
	}
	if (*end == 'i')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		*ok = 0;
	return (size_t)(v * mul);
}

json_int_t cmd_peak_rss(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (json_int_t)ru.ru_maxrss * 1024;  /* Linux gives KiB */
}
