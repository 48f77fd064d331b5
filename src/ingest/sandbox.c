/*
 * sandbox.c - parsing a document in a child process, so that a hostile or
 * broken file cannot take the run down (see sandbox.h).
 *
 * Each document is parsed by a fresh child process that takes limits on its
 * address space and CPU time, closes every descriptor but its pipe, silences
 * stdout and stderr, parses, and writes the document back as JSON behind an
 * 8-byte length (wire.h).  Its fate becomes the file's reason when it does
 * not answer: crashed (which signal), out of CPU time, timed out (a
 * wall-clock deadline of twice the CPU limit plus 30 s, for a child that
 * hangs without spinning), memory limit, or the parser's own message.
 *
 * Forking from the ingest workers themselves would be unsafe (see
 * zygote.c); this file forks from whoever calls it: a zygote, a test, or the
 * OCR helpers of an already sandboxed, single-threaded parser.
 *
 * Not for: sharing state with the parent.  Nothing a child does (caches,
 * globals) survives it; each document starts from a fresh parser.
 */
#define _GNU_SOURCE
#include "sandbox.h"
#include "confine.h"
#include "docfmt.h"
#include "wire.h"
#include "../core/fs.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/banned.h"

#if defined(__SANITIZE_ADDRESS__)
#define MOAT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MOAT_ASAN 1
#endif
#endif

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

	/* a child of a child (a PDF's OCR helper) is confined already: 0-2
	 * are /dev/null, and it may not open files for writing */
	int nested = in_child;

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
	devnull = nested ? -1 : open("/dev/null", O_RDWR);
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
	confine_child(fd, NULL);

	rc = doc_init(&d, lim) < 0 ? err_set(&e, MOAT_ENOMEM, "out of memory") : fn(arg, &d, &e);
	j = wire_reply(rc, &d, &e);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!s) {  /* most likely out of memory */
		static const char oom[] = "{\"ok\":false,\"code\":1,\"msg\":\"out of memory\"}";
		s = (char *)oom;
		n = sizeof(oom) - 1;
	} else {
		n = strlen(s);
	}
	wire_put_len(hdr, n);
	if (fs_write_all(fd, hdr, 8) < 0 || fs_write_all(fd, s, n) < 0)
		_exit(121);
	_exit(0);
}

/* --- the parent ----------------------------------------------------------- */

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
	j->deadline = wire_now() + docfmt_max_cpu(o) * 2.0 + 30;
	return 0;
}

int sandbox_collect(struct sandbox_job *j, char **payload_out, size_t *n_out, struct moat_err *e)
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
	got = wire_read(j->fd, hdr, 8, j->deadline);
	if (got < 0) {
		timed_out = 1;
	} else if (got == 8) {
		n = wire_get_len(hdr);
		/* an honest child cannot build more than its address space holds */
		if (n > docfmt_max_memory(o)) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			close(j->fd);
			j->fd = -1;
			return err_set(e, MOAT_ELIMIT, "the parser's answer claims %llu bytes, more than its "
				       "memory limit allows (%zu MiB): refused", (unsigned long long)n,
				       docfmt_max_memory(o) >> 20);
		}
		payload = malloc(n + 1);
		if (!payload) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			close(j->fd);
			j->fd = -1;
			return err_set(e, MOAT_ENOMEM, "out of memory receiving a document of %llu bytes",
				       (unsigned long long)n);
		}
		got = wire_read(j->fd, payload, n, j->deadline);
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

int sandbox_finish(struct sandbox_job *j, struct doc *d, struct moat_err *e)
{
	char *payload;
	size_t n;
	int rc;
	if (sandbox_collect(j, &payload, &n, e) < 0) {
		doc_clear(d);
		return -1;
	}
	rc = wire_decode_reply(payload, n, j->o, d, e);  /* frees payload */
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

