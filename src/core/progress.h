/*
 * progress.h - a one-line progress bar on stderr, drawn only when stderr is
 * a terminal (quiet otherwise, so logs and pipes stay clean).  Redrawn at most
 * ten times a second.  Not thread-safe: call it from one thread.
 */
#ifndef MOAT_PROGRESS_H
#define MOAT_PROGRESS_H

#include <stdint.h>

struct progress {
	const char *label;
	uint64_t total;      /* 0: unknown */
	uint64_t done;
	uint64_t bytes;      /* for the rate, when the unit is not bytes */
	int is_bytes;        /* total/done count bytes */
	int enabled;
	double start, last;
};

void progress_start(struct progress *p, const char *label, uint64_t total, int is_bytes);
void progress_update(struct progress *p, uint64_t done, uint64_t bytes);
void progress_finish(struct progress *p);

/* Wall-clock seconds from a monotonic clock. */
double now_seconds(void);
/* Formats a byte count in decimal units ("1.2 GB") into out. */
void human_bytes(uint64_t n, char *out, int size);

#endif
