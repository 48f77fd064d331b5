/*
 * sandbox.h - running a parsing function in a child process, internal to
 * src/ingest: the child takes limits on its address space and CPU time
 * (o->max_memory, o->max_cpu), runs fn(arg, d, e), and sends d back (or its
 * error); a crash, a time-out or a limit reached becomes the reason
 * ("parser crashed (signal 11, segmentation fault)").
 *
 * Not for: choosing the parser (the caller passes fn), nor forking from a
 * multi-threaded process: fork only from a single-threaded one (a test, a
 * zygote, a sandboxed parser); ingest_parse_sandboxed() (zygote.c) is how the
 * ingest workers get there.
 *
 * Uses wire.h (the reply's framing and JSON), docfmt.h's limits and core/.
 *
 * Ownership: d belongs to the caller; after a failure it is left empty
 * (doc_init'd with its limits, its format kept).
 */
#ifndef MOAT_INGEST_SANDBOX_H
#define MOAT_INGEST_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

#include "ingest.h"

typedef int (*sandbox_fn)(void *arg, struct doc *d, struct moat_err *e);

/* Runs fn(arg, d, e) in a child with o's limits and brings d (and e on
 * failure) back.  0 or -1. */
int sandbox_run(sandbox_fn fn, void *arg, const struct ingest_opts *o, struct doc *d,
		struct moat_err *e) __attribute__((warn_unused_result));

/* The same in two steps, so that several children can work at once:
 * sandbox_start() forks (the child gets lim for its document), and
 * sandbox_finish() collects into d, which must be doc_init'd.  A started job
 * must be finished (or collected), which reaps the child. */
struct sandbox_job {
	pid_t pid;
	int fd;
	double deadline;
	const struct ingest_opts *o;
};
int sandbox_start(sandbox_fn fn, void *arg, const struct ingest_opts *o, struct doc_limits lim,
		  struct sandbox_job *j, struct moat_err *e) __attribute__((warn_unused_result));
int sandbox_finish(struct sandbox_job *j, struct doc *d, struct moat_err *e)
	__attribute__((warn_unused_result));
/* sandbox_finish() without decoding, for a process that relays the answer
 * (the zygote): 0 with *payload (malloc'd reply of *n bytes, see wire.h), or
 * -1 with e saying what became of the child. */
int sandbox_collect(struct sandbox_job *j, char **payload, size_t *n, struct moat_err *e)
	__attribute__((warn_unused_result));

/* 1 in a sandbox's child (single-threaded, free to fork helpers of its own). */
int sandbox_in_child(void);

#endif
