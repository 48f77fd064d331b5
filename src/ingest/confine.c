/*
 * confine.c - the parser child's confinement (confine.h).
 */
#define _GNU_SOURCE
#include "confine.h"
#include "ingest.h"
#include "../core/err.h"
#include "../core/buf.h"
#include "../core/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <grp.h>
#include <termios.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include "../core/banned.h"

/* The system calls a parser needs.  openat and open are allowed read-only
 * (below), ioctl only for the terminal query isatty() makes, clone3 answers
 * ENOSYS (its flags sit in memory a filter cannot read; glibc then uses
 * clone). */
static const char *const ALLOWED[] = {
	/* memory */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "mincore",
	/* reading files already named by the parser (tessdata, fonts, /proc/self) */
	"read", "readv", "pread64", "preadv", "lseek", "close", "close_range", "fstat", "newfstatat",
	"stat", "lstat", "statx", "fstatfs", "statfs", "access", "faccessat", "faccessat2",
	"readlink", "readlinkat", "getdents64", "getcwd", "fcntl", "dup", "dup2", "dup3",
	/* answering: pipes to the parent and to its own OCR helpers */
	"write", "writev", "pipe", "pipe2", "poll", "ppoll", "wait4", "waitid",
	/* processes and threads (OCR helpers, OpenMP), signals, time */
	"clone", "fork", "vfork", "exit", "exit_group", "set_robust_list", "get_robust_list",
	"set_tid_address", "rseq", "futex", "sched_yield", "sched_getaffinity", "arch_prctl",
	"prctl", "getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid",
	"kill", "tgkill", "tkill", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
	"restart_syscall", "clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep",
	"clock_nanosleep", "getrandom", "prlimit64", "getrlimit", "getrusage", "times", "sysinfo",
	"uname", "umask", "membarrier",
};

/* A blocked call's name, resolved before the filter is in force (the
 * SIGSYS handler may not allocate). */
#define MAX_NR 512
static char names[MAX_NR][24];
static int answer_fd = -1;

static size_t put_str(char *dst, size_t at, size_t cap, const char *s)
{
	while (*s && at + 1 < cap)
		dst[at++] = *s++;
	return at;
}

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char msg[160], hdr[8];
	size_t n = 0;
	int nr = si->si_syscall;
	(void)sig;
	(void)uc;
	n = put_str(msg, n, sizeof(msg), "{\"ok\":false,\"code\":");
	{
		char num[12];
		int k = 0, c = MOAT_EUNSUPPORTED;
		do {
			num[k++] = (char)('0' + c % 10);
			c /= 10;
		} while (c && k < 11);
		while (k)
			msg[n++] = num[--k];
	}
	n = put_str(msg, n, sizeof(msg), ",\"msg\":\"blocked by the sandbox: ");
	if (nr >= 0 && nr < MAX_NR && names[nr][0]) {
		n = put_str(msg, n, sizeof(msg), names[nr]);
	} else {
		char num[12];
		int k = 0;
		unsigned u = (unsigned)nr;
		n = put_str(msg, n, sizeof(msg), "system call ");
		do {
			num[k++] = (char)('0' + u % 10);
			u /= 10;
		} while (u && k < 11);
		while (k)
			msg[n++] = num[--k];
	}
	n = put_str(msg, n, sizeof(msg), "\"}");
	for (int i = 0; i < 8; i++)
		hdr[i] = (char)((n >> (8 * i)) & 0xff);
	if (answer_fd >= 0 && write(answer_fd, hdr, 8) == 8)
		(void)!write(answer_fd, msg, n);
	_exit(0);
}

/* Appends s to dst[cap] (cut when full). */
static void append(char *dst, size_t cap, const char *s)
{
	size_t l = strlen(dst), n = strlen(s);
	if (l + 1 >= cap)
		return;
	if (n > cap - l - 1)
		n = cap - l - 1;
	memcpy(dst + l, s, n);
	dst[l + n] = '\0';
}

/* The filter, compiled once per process (the zygote, before it forks) into
 * a BPF program that each child installs with one prctl(). */
static struct sock_filter *prog;
static unsigned short prog_len;
static int prepared;
static char prep_why[80];

static int build_filter(char *why, size_t cap)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_TRAP);
	int rc = 0, fds[2] = { -1, -1 };
	struct buf b = BUF_INIT;
	if (!f) {
		append(why, cap, "seccomp: cannot set up a filter");
		return -1;
	}
	/* no_new_privs is set by the child itself, before it installs this */
	rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 0);
	/* The same rules as a binary tree of system call numbers rather than a
	 * list: when a child installs the program, the kernel runs it once for
	 * every system call number to cache which are always allowed: 0.18 ms
	 * of CPU per child for the list (more than its fork and exit), 0.08 ms
	 * for the tree; each call the parser makes is also checked in fewer
	 * steps.  Where libseccomp cannot, the list stays. */
	if (rc == 0 && seccomp_attr_set(f, SCMP_FLTATR_CTL_OPTIMIZE, 2) != 0)
		(void)seccomp_attr_set(f, SCMP_FLTATR_CTL_OPTIMIZE, 1);
	for (size_t i = 0; i < sizeof(ALLOWED) / sizeof(ALLOWED[0]) && rc == 0; i++) {
		int nr = seccomp_syscall_resolve_name(ALLOWED[i]);
		if (nr != __NR_SCMP_ERROR)
			rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 0);
	}
	/* files: read-only, never created, truncated or made as a temporary */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ,
					      O_ACCMODE | O_CREAT | O_TRUNC | O_TMPFILE | O_APPEND,
					      O_RDONLY));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
				      SCMP_A1(SCMP_CMP_MASKED_EQ,
					      O_ACCMODE | O_CREAT | O_TRUNC | O_TMPFILE | O_APPEND,
					      O_RDONLY));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_EQ, TCGETS));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* the program, read back through a pipe (libseccomp exports to a file
	 * descriptor); a few kilobytes, far below a pipe's buffer */
	if (rc == 0 && pipe2(fds, O_CLOEXEC) < 0)
		rc = -errno;
	if (rc == 0)
		rc = seccomp_export_bpf(f, fds[1]);
	if (fds[1] >= 0)
		close(fds[1]);
	if (rc == 0) {
		for (;;) {
			ssize_t n;
			if (buf_grow(&b, 4096) < 0) {
				rc = -ENOMEM;
				break;
			}
			n = read(fds[0], b.data + b.len, b.alloc - b.len - 1);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				rc = n < 0 ? -errno : 0;
				break;
			}
			b.len += (size_t)n;
		}
	}
	if (fds[0] >= 0)
		close(fds[0]);
	seccomp_release(f);
	if (rc == 0 && (!b.len || b.len % sizeof(struct sock_filter) ||
			b.len / sizeof(struct sock_filter) > BPF_MAXINSNS))
		rc = -EINVAL;
	if (rc != 0) {
		buf_release(&b);
		append(why, cap, "seccomp: ");
		append(why, cap, strerror(-rc));
		return -1;
	}
	prog_len = (unsigned short)(b.len / sizeof(struct sock_filter));
	prog = (struct sock_filter *)buf_detach(&b, NULL);
	return prog ? 0 : -1;
}

void confine_prepare(void)
{
	if (prepared)
		return;
	prepared = 1;
	for (int nr = 0; nr < MAX_NR; nr++) {
		char *n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		names[nr][0] = '\0';
		if (n) {
			size_t l = strlen(n);
			if (l < sizeof(names[nr]))
				memcpy(names[nr], n, l + 1);
			free(n);
		}
	}
	(void)build_filter(prep_why, sizeof(prep_why));
}

static int load_filter(char *why, size_t cap)
{
	struct sock_fprog fp;
	if (!prog) {
		append(why, cap, prep_why[0] ? prep_why : "seccomp: no filter");
		return -1;
	}
	fp.len = prog_len;
	fp.filter = prog;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp, 0, 0) < 0) {
		append(why, cap, "seccomp: ");
		append(why, cap, strerror(errno));
		return -1;
	}
	return 0;
}

static void set_limit(int res, rlim_t v)
{
	struct rlimit rl;
	if (getrlimit(res, &rl) == 0 && (rl.rlim_max == RLIM_INFINITY || v < rl.rlim_max)) {
		rl.rlim_cur = rl.rlim_max = v;
		setrlimit(res, &rl);
	}
}

/* Set once a process is confined: its children (the OCR helpers a PDF's
 * child forks) inherit the filter and the limits, and may not make new
 * namespaces or filters anyway. */
static struct confine_report in_force;
static int confined;

void confine_child(int result_fd, struct confine_report *r)
{
	struct confine_report local;
	struct sigaction sa;
	if (!r)
		r = &local;
	answer_fd = result_fd;
	if (confined) {
		*r = in_force;
		return;
	}
	memset(r, 0, sizeof(*r));
	confine_prepare();  /* at once, where no zygote did it before the fork */
	/* root parses as nobody: a parser that is taken over can then read
	 * what any user can, not root's own files */
	if (geteuid() == 0) {
		if (setgroups(0, NULL) == 0 && setgid(65534) == 0 && setuid(65534) == 0)
			r->dropped = 1;
		else
			append(r->why, sizeof(r->why), "cannot become nobody; ");
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	/* a user namespace of its own (cheap: 0.1 ms); a network namespace
	 * costs 1.5 to 5 ms per child, so it is made only when the filter,
	 * which denies every socket, cannot be loaded */
	if (unshare(CLONE_NEWUSER) == 0) {
		r->namespaces = 1;
	} else {
		append(r->why, sizeof(r->why), "user namespace: ");
		append(r->why, sizeof(r->why), strerror(errno));
		append(r->why, sizeof(r->why), "; ");
	}
	set_limit(RLIMIT_NOFILE, 64);
	/* counted per user (and, in its own user namespace, for the child's
	 * processes alone): room for the OCR helpers, not for a fork bomb;
	 * root is exempt by the kernel's rule */
	set_limit(RLIMIT_NPROC, 64);
	set_limit(RLIMIT_FSIZE, 0);
	signal(SIGXFSZ, SIG_DFL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
	r->seccomp = load_filter(r->why, sizeof(r->why)) == 0;
	if (!r->seccomp) {
		/* without the filter, at least no network */
		if (unshare(CLONE_NEWNET) == 0) {
			r->netns = 1;
		} else {
			append(r->why, sizeof(r->why), "network namespace: ");
			append(r->why, sizeof(r->why), strerror(errno));
		}
	}
	in_force = *r;
	confined = 1;
}

int confine_probe(struct confine_report *r)
{
	int fds[2], status;
	pid_t pid;
	ssize_t got;
	memset(r, 0, sizeof(*r));
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		struct confine_report c;
		close(fds[0]);
		confine_child(-1, &c);
		_exit(fs_write_all(fds[1], &c, sizeof(c)) == 0 ? 0 : 1);
	}
	close(fds[1]);
	do
		got = read(fds[0], r, sizeof(*r));
	while (got < 0 && errno == EINTR);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got != (ssize_t)sizeof(*r)) {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	r->why[sizeof(r->why) - 1] = '\0';
	return 0;
}

int ingest_sandbox_probe(struct ingest_sandbox *s)
{
	struct confine_report r;
	int rc = confine_probe(&r);
	memset(s, 0, sizeof(*s));
	if (rc < 0)
		return -1;
	s->seccomp = r.seccomp;
	s->namespaces = r.namespaces;
	s->netns = r.netns;
	s->dropped = r.dropped;
	memcpy(s->why, r.why, sizeof(s->why));
	s->why[sizeof(s->why) - 1] = '\0';
	return 0;
}

int confine_attacks_enabled(void)
{
#ifdef MOAT_TEST_HOOKS
	return getenv("MOAT_TEST_SANDBOX_ATTACKS") != NULL;
#else
	return 0;
#endif
}

#ifdef MOAT_TEST_HOOKS
#include <sys/socket.h>

int confine_attack(const char *what, size_t n, struct moat_err *e)
{
	char arg[256];
	size_t k = 0;
	while (k < n && k + 1 < sizeof(arg) && what[k] != '\n')
		k++;
	memcpy(arg, what, k);
	arg[k] = '\0';
	if (!strcmp(arg, "socket")) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		return err_set(e, MOAT_EPARSE, "attack socket SUCCEEDED (fd %d)", fd);
	}
	if (!strcmp(arg, "write")) {
		int fd = open("/tmp/moat-sandbox-attack-written", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		return err_set(e, MOAT_EPARSE, "attack write SUCCEEDED (fd %d)", fd);
	}
	if (!strcmp(arg, "exec")) {
		char *const argv[] = { (char *)"/bin/true", NULL };
		execv("/bin/true", argv);
		return err_set(e, MOAT_EPARSE, "attack exec failed without the sandbox: %s",
			       strerror(errno));
	}
	if (!strncmp(arg, "read ", 5)) {
		int fd = open(arg + 5, O_RDONLY);
		char b[64];
		ssize_t got;
		if (fd < 0)
			return err_set(e, MOAT_EPARSE, "attack read: denied (%s)", strerror(errno));
		got = read(fd, b, sizeof(b));
		close(fd);
		return err_set(e, MOAT_EPARSE, "attack read SUCCEEDED (%zd bytes)", got);
	}
	return err_set(e, MOAT_EPARSE, "unknown attack '%s'", arg);
}
#endif
