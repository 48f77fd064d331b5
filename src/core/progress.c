/* progress.c - the terminal progress bar. */
#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "banned.h"

double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void human_bytes(uint64_t n, char *out, int size)
{
	static const char *units[] = { "B", "KB", "MB", "GB", "TB", "PB" };
	double v = (double)n;
	int u = 0;
	while (v >= 1000 && u < 5) {
		v /= 1000;
		u++;
	}
	if ((u == 0 ? xsnprintf(out, (size_t)size, "%llu B", (unsigned long long)n)
		    : xsnprintf(out, (size_t)size, "%.1f %s", v, units[u])) < 0)
		out[0] = '\0';  /* a buffer too small for "999.9 PB": the caller's bug */
}

void progress_start(struct progress *p, const char *label, uint64_t total, int is_bytes)
{
	p->label = label;
	p->total = total;
	p->done = p->bytes = 0;
	p->is_bytes = is_bytes;
	p->enabled = isatty(STDERR_FILENO);
	p->start = p->last = now_seconds();
}

static void draw(struct progress *p, double t)
{
	char rate[32] = "", eta[32] = "", done[32], tot[32];
	double el = t - p->start;
	uint64_t b = p->is_bytes ? p->done : p->bytes;
	if (el > 0.2 && b) {
		human_bytes((uint64_t)((double)b / el), rate, sizeof(rate));
	}
	if (p->is_bytes) {
		human_bytes(p->done, done, sizeof(done));
		human_bytes(p->total, tot, sizeof(tot));
	} else {
		/* 20 digits at most: these cannot fail */
		if (xsnprintf(done, sizeof(done), "%llu", (unsigned long long)p->done) < 0 ||
		    xsnprintf(tot, sizeof(tot), "%llu", (unsigned long long)p->total) < 0)
			return;
	}
	if (p->total && p->done && el > 0.5) {
		double left = el * (double)(p->total - p->done) / (double)p->done;
		if (left > 359999)
			left = 359999;
		if (xsnprintf(eta, sizeof(eta), " %02d:%02d left", (int)left / 60, (int)left % 60) < 0)
			eta[0] = '\0';
	}
	if (p->total) {
		int width = 30, fill = (int)((double)width * (double)p->done / (double)p->total);
		char bar[31];
		for (int i = 0; i < width; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[width] = '\0';
		fprintf(stderr, "\r%s [%s] %s/%s %s%s%s\033[K", p->label, bar, done, tot, rate,
			rate[0] ? "/s" : "", eta);
	} else {
		fprintf(stderr, "\r%s %s %s%s\033[K", p->label, done, rate, rate[0] ? "/s" : "");
	}
	fflush(stderr);
}

void progress_update(struct progress *p, uint64_t done, uint64_t bytes)
{
	double t;
	p->done = done;
	p->bytes = bytes;
	if (!p->enabled)
		return;
	t = now_seconds();
	if (t - p->last < 0.1 && done != p->total)
		return;
	p->last = t;
	draw(p, t);
}

void progress_finish(struct progress *p)
{
	if (!p->enabled)
		return;
	draw(p, now_seconds());
	fputc('\n', stderr);
}
