/*
 * confine.h - what a parser child may do, internal to src/ingest: the
 * sandbox's confinement beyond its CPU and memory limits (sandbox.c).
 *
 * confine_child(), called in the child before it parses:
 *  - run as root, it becomes nobody (uid and gid 65534, no groups), so a
 *    parser taken over cannot read root's files (run as another user, the
 *    child keeps that user's identity and so can read that user's files);
 *  - PR_SET_NO_NEW_PRIVS (nothing it runs gains privileges);
 *  - a new user namespace where the kernel allows it (its own count of
 *    processes, no capabilities outside it); a new network namespace (no
 *    network at all) only where the filter below cannot be loaded, since
 *    the filter denies every socket and a network namespace costs 1.5 to
 *    5 ms per child;
 *  - RLIMIT_NOFILE 64, RLIMIT_FSIZE 0 (no file grows), RLIMIT_NPROC 64 (the
 *    kernel counts it per user, so it binds only where the child's user
 *    namespace gives it a count of its own; root is exempt);
 *  - a seccomp-bpf allow-list (libseccomp) of the system calls parsing
 *    needs: memory, reading files (open only read-only, never creating),
 *    pipes to its parent and its own OCR helpers, threads, time, signals.
 *    Everything else (socket, connect, execve, ptrace, opening for writing,
 *    mount, bpf, ...) stops the child: SIGSYS, caught, answers
 *    "blocked by the sandbox: <call>" as the file's reason, and exits.
 * The filter and the limits are inherited by the helpers a child forks.
 *
 * Not for: which descriptors the child keeps (sandbox.c closes all but its
 * result pipe and /dev/null on 0-2) or its CPU and memory limits.
 *
 * Uses libseccomp and libc.
 */
#ifndef MOAT_INGEST_CONFINE_H
#define MOAT_INGEST_CONFINE_H

#include <stddef.h>

#include "../core/err.h"

/* What confinement a child gets on this machine. */
struct confine_report {
	int seccomp;      /* the allow-list is in force */
	int namespaces;   /* a new user namespace */
	int netns;        /* a new network namespace (made only without seccomp) */
	int dropped;      /* root became nobody */
	char why[160];    /* when one of them is not: what the kernel said */
};

/* Compiles the filter and resolves the names of system calls, once per
 * process, so that each child only installs them: the zygote calls it
 * before it forks (confine_child does when nobody did). */
void confine_prepare(void);

/* In a freshly forked, single-threaded child: confines it as above.
 * result_fd is where a blocked call's answer goes (wire.h framing).  Never
 * fails: what the kernel does not allow is left out, and r (may be NULL)
 * says what is in force. */
void confine_child(int result_fd, struct confine_report *r);

/* Forks a probe child that confines itself and reports: what every parser
 * child gets here (for `moat doctor` and the ingest summary).  0, or -1
 * when the probe could not run. */
int confine_probe(struct confine_report *r);

/* 1 when the test-only parser that tries forbidden calls may run
 * ($MOAT_TEST_SANDBOX_ATTACKS set in a test build). */
int confine_attacks_enabled(void);

#ifdef MOAT_TEST_HOOKS
/* The test-only parser (a text file "MOAT-SANDBOX-ATTACK <what>" in a
 * sandbox's child with $MOAT_TEST_SANDBOX_ATTACKS set): tries socket(),
 * opening a file for writing, execve(), or reading a file ("read PATH"),
 * and fails saying what happened ("attack read: denied (...)", or
 * "... SUCCEEDED" when the sandbox let it). */
int confine_attack(const char *what, size_t n, struct moat_err *e);
#endif

#endif
