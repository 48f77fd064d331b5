/*
 * zygote.c - ingest_parse_sandboxed(): ingest_parse() in a child process
 * (sandbox.h), started from a single-threaded helper.
 *
 * Forking from the ingest workers themselves would be unsafe: a child of a
 * multi-threaded process inherits every lock another thread held at that
 * moment (an allocator's, a library's) and can hang on it for ever.  So each
 * worker thread starts, once, a zygote: this same program re-executed
 * (/proc/self/exe) with MOAT_SANDBOX_ZYGOTE in its environment, which a
 * constructor here catches before main() runs.  The zygote is
 * single-threaded; it receives requests (format, options, bytes) over a
 * socket (wire.h), forks a child per document (sandbox.c), and relays the
 * answer or the child's fate.  It dies with its worker thread
 * (PR_SET_PDEATHSIG), and a new one is started if it ever goes away.  Where
 * it cannot be started the document fails with that reason: the worker
 * never forks itself.
 *
 * Not for: the parsing itself (parse.c) or the child's limits (sandbox.c).
 */
#define _GNU_SOURCE
#include "ingest.h"
#include "docfmt.h"
#include "ocr.h"
#include "ocrlib.h"
#include "sandbox.h"
#include "confine.h"
#include "wire.h"
#include "../core/fmt.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/banned.h"

struct parse_args {
	const char *format;
	const unsigned char *data;
	size_t len;
	const struct ingest_opts *o;
};

static int parse_cb(void *arg, struct doc *d, struct moat_err *e)
{
	struct parse_args *a = arg;
	return ingest_parse(a->format, a->data, a->len, a->o, d, e);
}

/* --- the zygote ------------------------------------------------------------- */

static void zygote_loop(int fd, pid_t parent) __attribute__((noreturn));
static void zygote_loop(int fd, pid_t parent)
{
	int devnull, pdf_ocr = 0;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	signal(SIGPIPE, SIG_IGN);
	syscall(SYS_close_range, (unsigned)fd + 1, ~0u, 0u);
	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0 && devnull > 2) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (devnull != fd)
			close(devnull);
	}
	confine_prepare();  /* once here, not in each child */
	for (;;) {
		char *hdr = NULL, *data = NULL, *reply = NULL;
		size_t nh = 0, nd = 0, nr = 0;
		enum wire_why why;
		json_t *h;
		struct ingest_opts o;
		struct doc_limits lim;
		struct parse_args a;
		struct sandbox_job job;
		struct moat_err e = MOAT_ERR_INIT;
		if (wire_recv(fd, &hdr, &nh, WIRE_MAX_REQUEST, 0, &why) < 0 ||
		    wire_recv(fd, &data, &nd, WIRE_MAX_REQUEST, 0, &why) < 0)
			_exit(0);
		h = json_loadb(hdr, nh, 0, NULL);
		wire_opts_from_json(json_object_get(h, "opts"), &o, &lim);
		a.format = json_string_value(json_object_get(h, "format"));
		a.data = (const unsigned char *)data;
		a.len = nd;
		a.o = &o;
		/* Tesseract loaded and started once here, before the fork, when
		 * this worker reads images, or PDFs and the last one needed OCR;
		 * Leptonica alone for images without OCR.  Nothing otherwise
		 * (ocrlib.h): a child that finds a scanned page loads them. */
		if (a.format && o.ocr != INGEST_OCR_NEVER &&
		    (!strcmp(a.format, "image") || (!strcmp(a.format, "pdf") && pdf_ocr)))
			ocr_warm(&o);
		else if (a.format && !strcmp(a.format, "image") &&
			 ocrlib_load(OCRLIB_LEPTONICA, &e) < 0)
			err_clear(&e);  /* the child fails with the reason */
		if (!a.format) {
			err_set(&e, MOAT_EPARSE, "damaged request to the parser");
		} else if (sandbox_start(parse_cb, &a, &o, lim, &job, &e) == 0 &&
			   sandbox_collect(&job, &reply, &nr, &e) == 0) {
			if (!strcmp(a.format, "pdf"))
				pdf_ocr = memmem(reply, nr, "\"ocr_pages\"", 11) != NULL;
			if (wire_send(fd, reply, nr) < 0)
				_exit(0);
		}
		if (!reply) {
			json_t *f = wire_fate(&e);
			char *t = f ? json_dumps(f, JSON_COMPACT) : NULL;
			if (!t || wire_send(fd, t, strlen(t)) < 0)
				_exit(0);
			free(t);
			json_decref(f);
		}
		free(reply);
		json_decref(h);
		free(hdr);
		free(data);
	}
}

/* Before main(): a process started as a zygote never leaves the loop. */
__attribute__((constructor)) static void zygote_check(void)
{
	const char *v = getenv("MOAT_SANDBOX_ZYGOTE");
	char *end;
	long fd, parent;
	if (!v)
		return;
	fd = strtol(v, &end, 10);
	parent = *end == ':' ? strtol(end + 1, NULL, 10) : 0;
	unsetenv("MOAT_SANDBOX_ZYGOTE");
	if (fd < 3 || parent <= 0)
		_exit(120);
	zygote_loop((int)fd, (pid_t)parent);
}

struct zygote {
	pid_t pid;   /* 0: none running */
	int fd;
};

static pthread_key_t zkey;
static pthread_once_t zonce = PTHREAD_ONCE_INIT;

static void zygote_stop(struct zygote *z)
{
	int status;
	if (z->pid > 0) {
		close(z->fd);
		kill(z->pid, SIGKILL);
		while (waitpid(z->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	z->pid = 0;
	z->fd = -1;
}

static void zygote_free(void *p)
{
	zygote_stop(p);
	free(p);
}

static void zkey_make(void)
{
	if (pthread_key_create(&zkey, zygote_free) != 0)
		zkey = (pthread_key_t)-1;
}

extern char **environ;

/* Starts a zygote into z (its death signal tied to the calling thread).
 * 0, or -1 when it cannot be started. */
static int zygote_spawn(struct zygote *z)
{
	int sv[2], rc;
	posix_spawn_file_actions_t fa;
	char var[64], **envp;
	size_t n = 0;
	int tunables = 0;
	char *argv[] = { (char *)"moat-sandbox", NULL };
	/* Each child's heap in transparent huge pages where the kernel gives
	 * them on request: a child starts with none of its parent's heap
	 * free, and growing it 4 KiB at a time took 400 page faults per
	 * corpus PDF, 5% of moat's CPU time on them.  A user's own
	 * GLIBC_TUNABLES is left alone. */
	static char thp[] = "GLIBC_TUNABLES=glibc.malloc.hugetlb=1";
	z->pid = 0;
	z->fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	while (environ && environ[n])
		tunables |= !strncmp(environ[n++], "GLIBC_TUNABLES=", 15);
	envp = calloc(n + 3, sizeof(char *));
	if (!envp) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	for (size_t i = 0, k = 0; i < n; i++)
		if (strncmp(environ[i], "MOAT_SANDBOX_ZYGOTE=", 20))
			envp[k++] = environ[i];
	if (xsnprintf(var, sizeof(var), "MOAT_SANDBOX_ZYGOTE=3:%ld", (long)getpid()) < 0) {
		close(sv[0]);
		close(sv[1]);
		free(envp);
		return -1;
	}
	for (n = 0; envp[n]; n++)
		;
	envp[n++] = var;
	if (!tunables)
		envp[n] = thp;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 3);  /* clears FD_CLOEXEC on 3 */
	rc = posix_spawn(&z->pid, "/proc/self/exe", &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		z->pid = 0;
		return -1;
	}
	z->fd = sv[0];
	return 0;
}

/* Zygotes started ahead of need (ingest_sandbox_prestart), for the next
 * threads that have none.  Their death signal is tied to the thread that
 * started them, which outlives the workers that take them (ingest_run's). */
#define MAX_SPARES 64
static pthread_mutex_t spares_mu = PTHREAD_MUTEX_INITIALIZER;
static struct zygote spares[MAX_SPARES];
static size_t n_spares;

void ingest_sandbox_prestart(size_t n)
{
	pthread_mutex_lock(&spares_mu);
	while (n_spares < n && n_spares < MAX_SPARES && zygote_spawn(&spares[n_spares]) == 0)
		n_spares++;
	pthread_mutex_unlock(&spares_mu);
}

void ingest_sandbox_drop_spares(void)
{
	pthread_mutex_lock(&spares_mu);
	while (n_spares)
		zygote_stop(&spares[--n_spares]);
	pthread_mutex_unlock(&spares_mu);
}

/* A zygote started ahead into z; 0, or -1 when there is none. */
static int take_spare(struct zygote *z)
{
	int rc = -1;
	pthread_mutex_lock(&spares_mu);
	if (n_spares) {
		*z = spares[--n_spares];
		rc = 0;
	}
	pthread_mutex_unlock(&spares_mu);
	return rc;
}

/* This thread's zygote, started (or taken from the spares) when there is
 * none; NULL when it cannot be. */
static struct zygote *zygote_get(void)
{
	struct zygote *z;
	pthread_once(&zonce, zkey_make);
	if (zkey == (pthread_key_t)-1)
		return NULL;
	z = pthread_getspecific(zkey);
	if (z && z->pid > 0)
		return z;
	if (!z) {
		z = calloc(1, sizeof(*z));
		if (!z || pthread_setspecific(zkey, z) != 0) {
			free(z);
			return NULL;
		}
	}
	if (take_spare(z) < 0 && zygote_spawn(z) < 0)
		return NULL;
	return z;
}

/* owner, when not NULL, holds data and is released as soon as the helper has
 * it, so the worker does not hold the file while the parser works. */
static int parse_sandboxed(const char *format, const unsigned char *data, size_t len,
			   struct buf *owner, const struct ingest_opts *o, struct doc *d,
			   struct moat_err *e)
{
	struct zygote *z;
	json_t *h;
	char *hdr, *reply = NULL;
	size_t nr = 0;
	int rc = -1;
	enum wire_why why = WIRE_EOF;
	if (o && o->no_sandbox) {
		rc = ingest_parse(format, data, len, o, d, e);
		if (owner)
			buf_release(owner);
		return rc;
	}
	h = json_pack("{s:s, s:o}", "format", format, "opts", wire_opts_to_json(o, d->limits));
	hdr = h ? json_dumps(h, JSON_COMPACT) : NULL;
	json_decref(h);
	if (!hdr)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	for (int attempt = 0; attempt < 2 && !reply; attempt++) {
		z = zygote_get();
		if (!z)
			break;
		if (wire_send(z->fd, hdr, strlen(hdr)) < 0 || wire_send(z->fd, data ? data : (const unsigned char *)"", len) < 0) {
			zygote_stop(z);  /* gone: start another and try once more */
			continue;
		}
		if (owner)
			buf_release(owner);  /* the helper has it now */
		if (wire_recv(z->fd, &reply, &nr, docfmt_max_memory(o),
			      wire_now() + docfmt_max_cpu(o) * 2.0 + 60, &why) < 0) {
			zygote_stop(z);  /* its answer is cut off: it cannot serve another */
			free(hdr);
			if (why == WIRE_NOMEM)
				return err_set(e, MOAT_ENOMEM, "out of memory receiving the document");
			if (why == WIRE_TOO_BIG)
				return err_set(e, MOAT_ELIMIT, "the parser's answer is larger than its memory "
					       "limit allows (%zu MiB): refused", docfmt_max_memory(o) >> 20);
			return err_set(e, why == WIRE_TIMEOUT ? MOAT_ELIMIT : MOAT_EPARSE, "%s",
				       why == WIRE_TIMEOUT
				       ? "parser timed out (the sandbox did not answer; see --max-cpu)"
				       : "the sandbox process died");
		}
	}
	free(hdr);
	if (owner)
		buf_release(owner);
	if (reply) {
		rc = wire_decode_reply(reply, nr, o, d, e);  /* frees reply */
	} else {
		/* never fork from this multi-threaded worker instead (a child can
		 * inherit a lock another thread held, and hang for ever) */
		rc = err_set(e, MOAT_EIO, "the sandbox's helper process cannot be started "
			     "(out of processes or memory?)");
	}
	d->format = format;
	return rc;
}

int ingest_parse_sandboxed(const char *format, const unsigned char *data, size_t len,
			   const struct ingest_opts *o, struct doc *d, struct moat_err *e)
{
	return parse_sandboxed(format, data, len, NULL, o, d, e);
}

int ingest_parse_sandboxed_buf(const char *format, struct buf *data, const struct ingest_opts *o,
			       struct doc *d, struct moat_err *e)
{
	return parse_sandboxed(format, (const unsigned char *)buf_str(data), data->len, data, o, d, e);
}
