/*
 * sandbox.c - parsing a document in a child process, so that a hostile or
 * broken file cannot take the run down.
 *
 * Each document is parsed by a fresh child process that takes limits on its
 * address space and CPU time, closes every descriptor but its pipe, silences
 * stdout and stderr, parses, and writes the document back as JSON behind an
 * 8-byte length.  Its fate becomes the file's reason when it does not answer:
 * crashed (which signal), out of CPU time, timed out (a wall-clock deadline
 * of twice the CPU limit plus 30 s, for a child that hangs without
 * spinning), memory limit, or the parser's own message.
 *
 * Forking from the ingest workers themselves would be unsafe: a child of a
 * multi-threaded process inherits every lock another thread held at that
 * moment (an allocator's, a library's) and can hang on it for ever.  So each
 * worker thread starts, once, a zygote: this same program re-executed
 * (/proc/self/exe) with MOAT_SANDBOX_ZYGOTE in its environment, which a
 * constructor here catches before main() runs.  The zygote is
 * single-threaded; it receives requests (format, options, bytes) over a
 * socket, forks a child per document, and relays the answer or the child's
 * fate.  It dies with its worker thread (PR_SET_PDEATHSIG), and a new one is
 * started if it ever goes away.  Where it cannot be started, the worker
 * forks directly.  sandbox_run() (a function in a child, for tests and for
 * the OCR helpers of an already sandboxed, single-threaded parser) forks.
 *
 * Not for: sharing state with the parent.  Nothing a child does (caches,
 * globals) survives it; each document starts from a fresh parser.
 */
#define _GNU_SOURCE
#include "docfmt.h"
#include "../core/fs.h"
#include "../core/utf8.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/banned.h"

#if defined(__SANITIZE_ADDRESS__)
#define MOAT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MOAT_ASAN 1
#endif
#endif

/* --- interning ------------------------------------------------------------ */

static pthread_mutex_t intern_mu = PTHREAD_MUTEX_INITIALIZER;
static char **interned;
static size_t n_interned;

const char *docfmt_intern(const char *s)
{
	const char *r = NULL;
	char **p;
	if (!s)
		return NULL;
	pthread_mutex_lock(&intern_mu);
	for (size_t i = 0; i < n_interned && !r; i++)
		if (!strcmp(interned[i], s))
			r = interned[i];
	if (!r && n_interned < 4096 && (p = realloc(interned, (n_interned + 1) * sizeof(*p)))) {
		interned = p;
		interned[n_interned] = strdup(s);
		if (interned[n_interned])
			r = interned[n_interned++];
	}
	pthread_mutex_unlock(&intern_mu);
	return r ? r : "other";
}

/* --- the document as JSON ------------------------------------------------- */

static json_t *str_json(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	if (!j) {  /* not valid UTF-8: should not happen, but never lose the element */
		struct buf b = BUF_INIT;
		utf8_sanitize(&b, s, len);
		j = json_stringn(buf_str(&b), b.len);
		buf_release(&b);
	}
	return j ? j : json_string("");
}

json_t *doc_to_json(const struct doc *d)
{
	json_t *j = json_object(), *els = json_array(), *kids = json_array();
	json_object_set_new(j, "format", d->format ? json_string(d->format) : json_null());
	json_object_set_new(j, "encoding", d->encoding ? json_string(d->encoding) : json_null());
	json_object_set(j, "meta", d->meta ? d->meta : json_null());
	json_object_set_new(j, "over_limit", json_boolean(d->over_limit));
	for (size_t i = 0; i < d->n_el; i++) {
		const struct element *el = &d->el[i];
		json_t *a = json_array();
		json_array_append_new(a, json_integer(el->type));
		json_array_append_new(a, json_integer(el->level));
		json_array_append_new(a, json_integer(el->page));
		json_array_append_new(a, str_json(doc_el_text(d, el), el->byte_len));
		json_array_append(a, el->meta ? el->meta : json_null());
		json_array_append_new(els, a);
	}
	json_object_set_new(j, "el", els);
	for (size_t i = 0; i < d->n_children; i++) {
		const struct doc_child *c = &d->children[i];
		struct buf b = BUF_INIT;
		json_t *k = json_object();
		base64_encode(c->data, c->len, BASE64_STD, &b);
		json_object_set_new(k, "name", c->name ? json_string(c->name) : json_null());
		json_object_set_new(k, "mime", c->mime ? json_string(c->mime) : json_null());
		json_object_set_new(k, "data", json_stringn(buf_str(&b), b.len));
		json_object_set_new(k, "failed", json_boolean(c->failed));
		json_object_set_new(k, "error", c->error ? json_string(c->error) : json_null());
		json_object_set_new(k, "doc", doc_to_json(&c->doc));
		json_array_append_new(kids, k);
		buf_release(&b);
	}
	json_object_set_new(j, "children", kids);
	return j;
}

int doc_from_json(json_t *j, struct doc *d, struct moat_err *e)
{
	json_t *els = json_object_get(j, "el"), *kids = json_object_get(j, "children"), *v;
	size_t i;
	if (!json_is_object(j) || !json_is_array(els))
		return err_set(e, MOAT_EPARSE, "the parser sent back a damaged document");
	if (json_is_string(json_object_get(j, "format")))
		d->format = docfmt_intern(json_string_value(json_object_get(j, "format")));
	if (json_is_string(json_object_get(j, "encoding")))
		d->encoding = docfmt_intern(json_string_value(json_object_get(j, "encoding")));
	if (json_is_object(json_object_get(j, "meta"))) {
		json_decref(d->meta);
		d->meta = json_incref(json_object_get(j, "meta"));
	}
	json_array_foreach(els, i, v) {
		json_t *t = json_array_get(v, 3), *m = json_array_get(v, 4);
		int type = (int)json_integer_value(json_array_get(v, 0));
		if (!json_is_string(t) || type < 0 || type >= EL__COUNT)
			return err_set(e, MOAT_EPARSE, "the parser sent back a damaged element");
		if (doc_add_page(d, (enum element_type)type,
				 (int)json_integer_value(json_array_get(v, 1)),
				 (int)json_integer_value(json_array_get(v, 2)), json_string_value(t),
				 json_string_length(t), json_is_object(m) ? json_incref(m) : NULL) < 0)
			break;
	}
	if (json_is_true(json_object_get(j, "over_limit")))
		d->over_limit = 1;
	json_array_foreach(kids, i, v) {
		json_t *data = json_object_get(v, "data");
		struct buf b = BUF_INIT;
		struct doc_child *c;
		unsigned char *bytes;
		size_t n;
		if (base64_decode(json_string_value(data) ? json_string_value(data) : "",
				  json_string_length(data), BASE64_STD, &b) < 0) {
			int oom = buf_failed(&b);
			buf_release(&b);
			return oom ? err_set(e, MOAT_ENOMEM, "out of memory")
				   : err_set(e, MOAT_ECORRUPT, "the parser sent a bad attachment");
		}
		bytes = (unsigned char *)buf_detach(&b, &n);
		c = doc_add_child(d, bytes, n, json_string_value(json_object_get(v, "name")),
				  json_string_value(json_object_get(v, "mime")));
		if (!c)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		c->failed = json_is_true(json_object_get(v, "failed"));
		if (json_is_string(json_object_get(v, "error")))
			c->error = strdup(json_string_value(json_object_get(v, "error")));
		if (doc_from_json(json_object_get(v, "doc"), &c->doc, e) < 0)
			return -1;
	}
	return 0;
}

/* --- the child ------------------------------------------------------------ */

static void child_limits(const struct ingest_opts *o)
{
	struct rlimit rl;
	rl.rlim_cur = docfmt_max_cpu(o);
	rl.rlim_max = rl.rlim_cur + 5;  /* SIGXCPU first, SIGKILL 5 s later */
	setrlimit(RLIMIT_CPU, &rl);
	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_CORE, &rl);
#ifndef MOAT_ASAN
	/* AddressSanitizer reserves terabytes of address space up front, so the
	 * memory limit is only taken in normal builds. */
	rl.rlim_cur = rl.rlim_max = docfmt_max_memory(o);
	setrlimit(RLIMIT_AS, &rl);
#endif
}

static int in_child;  /* this process is a sandbox's child */
static int child_fd = -1;

/* C++ code (Tesseract) out of memory: say so instead of aborting. */
static void child_out_of_memory(void)
{
	static const char msg[] = "{\"ok\":false,\"code\":1,\"msg\":\"out of memory\"}";
	unsigned char hdr[8] = { sizeof(msg) - 1 };
	if (fs_write_all(child_fd, hdr, 8) == 0)
		fs_write_all(child_fd, msg, sizeof(msg) - 1);
	_exit(0);
}

static void child_main(int fd, sandbox_fn fn, void *arg, const struct ingest_opts *o,
		       struct doc_limits lim, pid_t parent)
{
	struct doc d;
	struct moat_err e = MOAT_ERR_INIT;
	json_t *j;
	char *s;
	size_t n;
	unsigned char hdr[8];
	int devnull, rc;

	/* The child dies with the thread that started it (a killed moat leaves
	 * no parser behind). */
	in_child = 1;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(122);
	/* Only our end of the pipe and /dev/null on 0-2 survive. */
	if (fd != 3) {
		if (dup2(fd, 3) < 0)
			_exit(120);
		fd = 3;
	}
	syscall(SYS_close_range, 4u, ~0u, 0u);
	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (devnull > 3)
			close(devnull);
	}
	/* a crash is the child's death by its signal, whatever handlers the
	 * parent had (test harnesses and sanitizers install some) */
	{
		static const int sigs[] = { SIGPIPE, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGXCPU,
					    SIGTERM, SIGINT };
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], SIG_DFL);
	}
	/* Tesseract's OpenMP threads only slow it down when documents already
	 * run in parallel; ocr.c also caps the thread team (libgomp read the
	 * environment when it was loaded). */
	setenv("OMP_THREAD_LIMIT", "1", 1);
	child_fd = fd;
	{	/* std::set_new_handler, when the C++ runtime is loaded */
		void (*set_nh)(void (*)(void)) =
			(void (*)(void (*)(void)))dlsym(RTLD_DEFAULT, "_ZSt15set_new_handlerPFvvE");
		if (set_nh)
			set_nh(child_out_of_memory);
	}
	child_limits(o);

	doc_init(&d, lim);
	rc = fn(arg, &d, &e);
	if (rc < 0) {
		j = json_pack("{s:b, s:i, s:s}", "ok", 0, "code", e.code,
			      "msg", e.msg[0] ? e.msg : "cannot parse");
	} else {
		j = json_object();
		json_object_set_new(j, "ok", json_true());
		json_object_set_new(j, "doc", doc_to_json(&d));
	}
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!s) {  /* most likely out of memory */
		static const char oom[] = "{\"ok\":false,\"code\":1,\"msg\":\"out of memory\"}";
		s = (char *)oom;
		n = sizeof(oom) - 1;
	} else {
		n = strlen(s);
	}
	for (int i = 0; i < 8; i++)
		hdr[i] = (unsigned char)((uint64_t)n >> (8 * i));
	if (fs_write_all(fd, hdr, 8) < 0 || fs_write_all(fd, s, n) < 0)
		_exit(121);
	_exit(0);
}

/* --- the parent ----------------------------------------------------------- */

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads want bytes (or until EOF) before the deadline; returns bytes read,
 * or -1 on a time-out. */
static ssize_t read_deadline(int fd, void *p, size_t want, double deadline)
{
	size_t got = 0;
	while (got < want) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		double left = deadline - mono_now();
		int r;
		ssize_t k;
		if (left <= 0)
			return -1;
		r = poll(&pfd, 1, left > 1e6 ? 1000000000 : (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -1;
		k = read(fd, (char *)p + got, want - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static int fate(int status, int timed_out, long maxrss_kb, const struct ingest_opts *o,
		struct moat_err *e)
{
	if (timed_out)
		return err_set(e, MOAT_ELIMIT, "parser timed out (no answer in %u s; see --max-cpu)",
			       docfmt_max_cpu(o) * 2 + 30);
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		if (sig == SIGXCPU || sig == SIGKILL)
			return err_set(e, MOAT_ELIMIT, "parser ran out of CPU time (limit %u s, "
				       "see --max-cpu)", docfmt_max_cpu(o));
		if (maxrss_kb > 0 && (size_t)maxrss_kb * 1024 * 2 > docfmt_max_memory(o))
			return err_set(e, MOAT_ELIMIT, "parser crashed (signal %d, %s) near the memory limit "
				       "(%zu MiB, see --max-memory)", sig, strsignal(sig),
				       docfmt_max_memory(o) >> 20);
		return err_set(e, MOAT_EPARSE, "parser crashed (signal %d, %s)", sig, strsignal(sig));
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		return err_set(e, MOAT_EPARSE, "parser failed (exit status %d)", WEXITSTATUS(status));
	return err_set(e, MOAT_EPARSE, "parser sent back no document");
}

int sandbox_start(sandbox_fn fn, void *arg, const struct ingest_opts *o, struct doc_limits lim,
		  struct sandbox_job *j, struct moat_err *e)
{
	int fds[2];
	pid_t self = getpid();
	memset(j, 0, sizeof(*j));
	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_set(e, MOAT_EIO, "cannot start a parser process: %s", strerror(errno));
	j->pid = fork();
	if (j->pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return err_set(e, MOAT_EIO, "cannot start a parser process: %s", strerror(errno));
	}
	if (j->pid == 0) {
		close(fds[0]);
		child_main(fds[1], fn, arg, o, lim, self);
	}
	close(fds[1]);
	j->fd = fds[0];
	j->o = o;
	j->deadline = mono_now() + docfmt_max_cpu(o) * 2.0 + 30;
	return 0;
}

/* Collects a child's answer: 0 with *payload (malloc'd JSON of *n bytes),
 * or -1 with e saying what became of the child. */
static int finish_raw(struct sandbox_job *j, char **payload_out, size_t *n_out, struct moat_err *e)
{
	const struct ingest_opts *o = j->o;
	int status = 0, timed_out = 0;
	unsigned char hdr[8];
	uint64_t n = 0;
	char *payload = NULL;
	ssize_t got;
	pid_t pid = j->pid;
	struct rusage ru;

	*payload_out = NULL;
	*n_out = 0;
	got = read_deadline(j->fd, hdr, 8, j->deadline);
	if (got < 0) {
		timed_out = 1;
	} else if (got == 8) {
		for (int i = 0; i < 8; i++)
			n |= (uint64_t)hdr[i] << (8 * i);
		payload = n < ((uint64_t)1 << 40) ? malloc(n + 1) : NULL;
		if (!payload) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			close(j->fd);
			j->fd = -1;
			return err_set(e, MOAT_ENOMEM, "out of memory receiving a document of %llu bytes",
				       (unsigned long long)n);
		}
		got = read_deadline(j->fd, payload, n, j->deadline);
		if (got < 0)
			timed_out = 1;
		else if ((uint64_t)got != n)
			n = 0;  /* died mid-way */
		else
			payload[n] = '\0';
	}
	close(j->fd);
	j->fd = -1;
	if (timed_out)
		kill(pid, SIGKILL);
	memset(&ru, 0, sizeof(ru));
	while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	if (payload && n && !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		*payload_out = payload;
		*n_out = n;
		return 0;
	}
	free(payload);
	return fate(status, timed_out, ru.ru_maxrss, o, e);
}

/* Turns a child's answer into d, or into e. */
static int decode_reply(const char *payload, size_t n, const struct ingest_opts *o, struct doc *d,
			struct moat_err *e)
{
	json_error_t jerr;
	json_t *jd = json_loadb(payload, n, 0, &jerr);
	int rc = -1;
	if (!jd) {
		err_set(e, MOAT_EPARSE, "the parser sent back a damaged document");
	} else if (json_is_true(json_object_get(jd, "ok"))) {
		rc = doc_from_json(json_object_get(jd, "doc"), d, e);
	} else {
		int code = (int)json_integer_value(json_object_get(jd, "code"));
		const char *msg = json_string_value(json_object_get(jd, "msg"));
		if (code == MOAT_ENOMEM && !json_is_true(json_object_get(jd, "fate")))
			err_set(e, MOAT_ELIMIT, "memory limit reached (%zu MiB, see --max-memory)",
				docfmt_max_memory(o) >> 20);
		else
			err_set(e, code > 0 && code < MOAT_E__COUNT ? code : MOAT_EPARSE, "%s",
				msg ? msg : "cannot parse");
	}
	json_decref(jd);
	if (rc < 0) {
		struct doc_limits lim = d->limits;
		const char *fmt = d->format;
		doc_release(d);
		doc_init(d, lim);
		d->format = fmt;
	}
	return rc;
}

int sandbox_finish(struct sandbox_job *j, struct doc *d, struct moat_err *e)
{
	char *payload;
	size_t n;
	int rc;
	if (finish_raw(j, &payload, &n, e) < 0) {
		struct doc_limits lim = d->limits;
		const char *fmt = d->format;
		doc_release(d);
		doc_init(d, lim);
		d->format = fmt;
		return -1;
	}
	rc = decode_reply(payload, n, j->o, d, e);
	free(payload);
	return rc;
}

int sandbox_run(sandbox_fn fn, void *arg, const struct ingest_opts *o, struct doc *d,
		struct moat_err *e)
{
	struct sandbox_job j;
	if (sandbox_start(fn, arg, o, d->limits, &j, e) < 0)
		return -1;
	return sandbox_finish(&j, d, e);
}

int sandbox_in_child(void)
{
	return in_child;
}

/* --- ingest_parse in the sandbox ------------------------------------------ */

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

/* A message: 8-byte length, then the bytes. */
static int send_msg(int fd, const void *p, size_t n)
{
	unsigned char hdr[8];
	const char *c = p;
	for (int i = 0; i < 8; i++)
		hdr[i] = (unsigned char)((uint64_t)n >> (8 * i));
	for (size_t off = 0; off < 8 + n;) {
		const char *src = off < 8 ? (const char *)hdr + off : c + (off - 8);
		size_t left = off < 8 ? 8 - off : n - (off - 8);
		ssize_t k = send(fd, src, left, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		off += (size_t)k;
	}
	return 0;
}

/* Receives a message (deadline 0: wait for ever); -1 on EOF, error or time-out
 * (*timed_out says which). */
static int recv_msg(int fd, char **out, size_t *n, double deadline, int *timed_out)
{
	unsigned char hdr[8];
	uint64_t len = 0;
	ssize_t got;
	*out = NULL;
	*timed_out = 0;
	got = read_deadline(fd, hdr, 8, deadline ? deadline : 1e300);
	if (got != 8) {
		*timed_out = got < 0;
		return -1;
	}
	for (int i = 0; i < 8; i++)
		len |= (uint64_t)hdr[i] << (8 * i);
	if (len >= ((uint64_t)1 << 40) || !(*out = malloc(len + 1)))
		return -1;
	got = read_deadline(fd, *out, len, deadline ? deadline : 1e300);
	if (got < 0 || (uint64_t)got != len) {
		*timed_out = got < 0;
		free(*out);
		*out = NULL;
		return -1;
	}
	(*out)[len] = '\0';
	*n = len;
	return 0;
}

/* The options a parser reads (include/exclude and jobs' scheduling aside).
 * A new field of struct ingest_opts that a parser reads must be added here. */
static json_t *opts_to_json(const struct ingest_opts *o, struct doc_limits lim)
{
	json_t *j = json_object();
	json_object_set_new(j, "max_file_size", json_integer((json_int_t)o->max_file_size));
	json_object_set_new(j, "max_elements", json_integer((json_int_t)o->max_elements));
	if (o->text_field)
		json_object_set_new(j, "text_field", json_string(o->text_field));
	json_object_set_new(j, "jobs", json_integer(o->jobs));
	if (o->password)
		json_object_set_new(j, "password", json_string(o->password));
	json_object_set_new(j, "ocr", json_integer(o->ocr));
	if (o->ocr_lang)
		json_object_set_new(j, "ocr_lang", json_string(o->ocr_lang));
	json_object_set_new(j, "ocr_dpi", json_integer(o->ocr_dpi));
	json_object_set_new(j, "max_memory", json_integer((json_int_t)o->max_memory));
	json_object_set_new(j, "max_cpu", json_integer(o->max_cpu));
	json_object_set_new(j, "max_pages", json_integer(o->max_pages));
	json_object_set_new(j, "max_unzipped", json_integer((json_int_t)o->max_unzipped));
	json_object_set_new(j, "max_zip_ratio", json_integer(o->max_zip_ratio));
	json_object_set_new(j, "max_zip_entries", json_integer(o->max_zip_entries));
	json_object_set_new(j, "lim_elements", json_integer((json_int_t)lim.max_elements));
	json_object_set_new(j, "lim_text", json_integer((json_int_t)lim.max_text));
	return j;
}

/* The reverse; strings point into j, which must outlive o. */
static void opts_from_json(json_t *j, struct ingest_opts *o, struct doc_limits *lim)
{
#define NUM(k) ((size_t)json_integer_value(json_object_get(j, k)))
	memset(o, 0, sizeof(*o));
	o->max_file_size = NUM("max_file_size");
	o->max_elements = NUM("max_elements");
	o->text_field = json_string_value(json_object_get(j, "text_field"));
	o->jobs = (int)NUM("jobs");
	o->password = json_string_value(json_object_get(j, "password"));
	o->ocr = (int)NUM("ocr");
	o->ocr_lang = json_string_value(json_object_get(j, "ocr_lang"));
	o->ocr_dpi = (int)NUM("ocr_dpi");
	o->max_memory = NUM("max_memory");
	o->max_cpu = (unsigned)NUM("max_cpu");
	o->max_pages = (unsigned)NUM("max_pages");
	o->max_unzipped = NUM("max_unzipped");
	o->max_zip_ratio = (unsigned)NUM("max_zip_ratio");
	o->max_zip_entries = (unsigned)NUM("max_zip_entries");
	lim->max_elements = NUM("lim_elements");
	lim->max_text = NUM("lim_text");
#undef NUM
}

/* The zygote's life: one request after another until its socket closes. */
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
	for (;;) {
		char *hdr = NULL, *data = NULL, *reply = NULL;
		size_t nh = 0, nd = 0, nr = 0;
		int to;
		json_t *h;
		struct ingest_opts o;
		struct doc_limits lim;
		struct parse_args a;
		struct sandbox_job job;
		struct moat_err e = MOAT_ERR_INIT;
		if (recv_msg(fd, &hdr, &nh, 0, &to) < 0 || recv_msg(fd, &data, &nd, 0, &to) < 0)
			_exit(0);
		h = json_loadb(hdr, nh, 0, NULL);
		opts_from_json(json_object_get(h, "opts"), &o, &lim);
		a.format = json_string_value(json_object_get(h, "format"));
		a.data = (const unsigned char *)data;
		a.len = nd;
		a.o = &o;
		/* Tesseract loaded once here, before the fork, when this worker
		 * reads images, or PDFs and the last one needed OCR */
		if (a.format && o.ocr != INGEST_OCR_NEVER &&
		    (!strcmp(a.format, "image") || (!strcmp(a.format, "pdf") && pdf_ocr)))
			ocr_warm(&o);
		if (!a.format) {
			err_set(&e, MOAT_EPARSE, "damaged request to the parser");
		} else if (sandbox_start(parse_cb, &a, &o, lim, &job, &e) == 0 &&
			   finish_raw(&job, &reply, &nr, &e) == 0) {
			if (!strcmp(a.format, "pdf"))
				pdf_ocr = memmem(reply, nr, "\"ocr_pages\"", 11) != NULL;
			if (send_msg(fd, reply, nr) < 0)
				_exit(0);
		}
		if (!reply) {
			json_t *f = json_pack("{s:b, s:i, s:s, s:b}", "ok", 0, "code", e.code, "msg",
					      e.msg[0] ? e.msg : "cannot parse", "fate", 1);
			char *t = f ? json_dumps(f, JSON_COMPACT) : NULL;
			if (!t || send_msg(fd, t, strlen(t)) < 0)
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

/* This thread's zygote, started when there is none; NULL when it cannot be. */
static struct zygote *zygote_get(void)
{
	struct zygote *z;
	int sv[2], rc;
	posix_spawn_file_actions_t fa;
	char var[64], **envp;
	size_t n = 0;
	char *argv[] = { (char *)"moat-sandbox", NULL };
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
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return NULL;
	while (environ && environ[n])
		n++;
	envp = calloc(n + 2, sizeof(char *));
	if (!envp) {
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	for (size_t i = 0, k = 0; i < n; i++)
		if (strncmp(environ[i], "MOAT_SANDBOX_ZYGOTE=", 20))
			envp[k++] = environ[i];
	snprintf(var, sizeof(var), "MOAT_SANDBOX_ZYGOTE=3:%ld", (long)getpid());
	for (n = 0; envp[n]; n++)
		;
	envp[n] = var;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 3);  /* clears FD_CLOEXEC on 3 */
	rc = posix_spawn(&z->pid, "/proc/self/exe", &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		z->pid = 0;
		return NULL;
	}
	z->fd = sv[0];
	return z;
}

int ingest_parse_sandboxed(const char *format, const unsigned char *data, size_t len,
			   const struct ingest_opts *o, struct doc *d, struct moat_err *e)
{
	struct parse_args a = { format, data, len, o };
	struct zygote *z;
	json_t *h;
	char *hdr, *reply = NULL;
	size_t nr = 0;
	int rc = -1, to = 0;
	if (o && o->no_sandbox)
		return ingest_parse(format, data, len, o, d, e);
	h = json_pack("{s:s, s:o}", "format", format, "opts", opts_to_json(o, d->limits));
	hdr = h ? json_dumps(h, JSON_COMPACT) : NULL;
	json_decref(h);
	if (!hdr)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	for (int attempt = 0; attempt < 2 && !reply; attempt++) {
		z = zygote_get();
		if (!z)
			break;
		if (send_msg(z->fd, hdr, strlen(hdr)) < 0 || send_msg(z->fd, data ? data : (const unsigned char *)"", len) < 0) {
			zygote_stop(z);  /* gone: start another and try once more */
			continue;
		}
		if (recv_msg(z->fd, &reply, &nr, mono_now() + docfmt_max_cpu(o) * 2.0 + 60, &to) < 0) {
			zygote_stop(z);
			free(hdr);
			return err_set(e, to ? MOAT_ELIMIT : MOAT_EPARSE, "%s", to
				       ? "parser timed out (the sandbox did not answer; see --max-cpu)"
				       : "the sandbox process died");
		}
	}
	free(hdr);
	if (reply) {
		rc = decode_reply(reply, nr, o, d, e);
		free(reply);
	} else {
		rc = sandbox_run(parse_cb, &a, o, d, e);  /* no zygote: fork here */
	}
	d->format = format;
	return rc;
}
