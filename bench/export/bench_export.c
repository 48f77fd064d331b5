/*
 * bench_export.c - the export benchmark's moat side: N annotated records
 * (text with non-ASCII words, a label, one to three spans, metadata) written
 * to jsonl by src/export/records.h, or N box annotations over images written
 * to COCO by src/export/annot.h; bench_export.py writes the same records with
 * Python's json.  Both make their records with the same generator (a 64-bit
 * LCG) before the clock starts, so the jsonl files are byte for byte equal.
 *
 *   bench_export jsonl N DIR [meta-json]   (meta-json: metadata as JSON text
 *                                           from the store, not jansson objects)
 *   bench_export coco N DIR                (N boxes, five per image)
 *
 * Prints one JSON line: records, bytes, wall and CPU seconds of the write,
 * and records/s and MB/s per CPU second (the machine this runs on is shared:
 * CPU time is what other jobs do not inflate; both tools are single-threaded).  Built by run.sh against build/release's libmoatlib.a.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "core/utf8.h"
#include "export/annot.h"
#include "export/records.h"

static uint64_t lcg = 42;
static uint64_t next(void)
{
	lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return lcg >> 33;
}

static const char *const WORDS[32] = {
	"the", "claim", "was", "filed", "by", "Zoë", "Müller", "in", "São", "Paulo", "on",
	"Monday", "café", "naïve", "東京", "report", "\"urgent\"", "payment", "of", "€1,200",
	"and", "policy", "number", "reviewed", "Ørsted", "قطر", "🙂", "delayed", "because",
	"storm", "damage", "roof",
};
static const char *const LABELS[4] = { "claim", "complaint", "inquiry", "fraud" };
static const char *const SPAN_LABELS[4] = { "PER", "LOC", "ORG", "MONEY" };

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the process (user and system): on a shared machine, the
 * measure that other jobs do not inflate. */
static double cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

struct gen {
	char *text;
	size_t len;
	const char *label;
	struct rec_span spans[3];
	size_t n_spans;
	unsigned page, source;
	char *id;
};

static int bench_jsonl(size_t n, const char *dir, int meta_text)
{
	struct gen *g = calloc(n, sizeof(*g));
	json_t **meta = meta_text ? NULL : calloc(n, sizeof(*meta));
	char **meta_json = meta_text ? calloc(n, sizeof(*meta_json)) : NULL;
	size_t wlen[32], wcp[32], cpos[48];
	struct moat_err e = MOAT_ERR_INIT;
	struct rec_writer *w;
	double t0, t1, c0, c1;
	char *path;

	for (int i = 0; i < 32; i++) {
		wlen[i] = strlen(WORDS[i]);
		wcp[i] = utf8_count(WORDS[i], wlen[i]);
	}
	for (size_t r = 0; r < n; r++) {
		size_t nw = 8 + next() % 33, wi[40], nl_at, off = 0, cp = 0;
		char *t;
		for (size_t j = 0; j < nw; j++)
			wi[j] = next() % 32;
		nl_at = next() % 7;
		t = malloc(nw * 12 + 2);
		for (size_t j = 0; j < nw; j++) {
			if (j) {
				t[off++] = (r % 5 == 0 && j == nl_at) ? '\n' : ' ';
				cp++;
			}
			cpos[j] = cp;
			memcpy(t + off, WORDS[wi[j]], wlen[wi[j]]);
			off += wlen[wi[j]];
			cp += wcp[wi[j]];
		}
		t[off++] = '.';
		t[off] = '\0';
		g[r].text = t;
		g[r].len = off;
		g[r].label = LABELS[next() % 4];
		g[r].n_spans = 1 + next() % 3;
		for (size_t j = 0; j < g[r].n_spans; j++) {
			size_t k = next() % nw;
			g[r].spans[j].start = cpos[k];
			g[r].spans[j].end = cpos[k] + wcp[wi[k]];
			g[r].spans[j].label = SPAN_LABELS[next() % 4];
		}
		g[r].page = 1 + (unsigned)(next() % 40);
		g[r].source = (unsigned)(next() % 1000);
		if (meta_text) {
			if (asprintf(&meta_json[r],
				     "{\"element\":\"paragraph\",\"page\":%u,\"source\":\"docs/file-%u.pdf\"}",
				     g[r].page, g[r].source) < 0)
				return 1;
		} else {
			char *src;
			if (asprintf(&src, "docs/file-%u.pdf", g[r].source) < 0)
				return 1;
			/* built in another key order: the writer sorts keys */
			meta[r] = json_pack("{s:s,s:i,s:s}", "source", src, "page", (int)g[r].page,
					    "element", "paragraph");
			free(src);
		}
		if (asprintf(&g[r].id, "doc-%zu#%zu", r / 8, r % 8) < 0)
			return 1;
	}

	t0 = now();
	c0 = cpu();
	w = rec_writer_open("jsonl", dir, NULL, &e);
	if (!w) {
		fprintf(stderr, "bench_export: %s\n", e.msg);
		return 1;
	}
	for (size_t r = 0; r < n; r++) {
		const char *labels[1] = { g[r].label };
		struct rec rec;
		memset(&rec, 0, sizeof(rec));
		rec.id = g[r].id;
		rec.text = g[r].text;
		rec.text_len = g[r].len;
		if (meta_text) {
			rec.meta_json = meta_json[r];
			rec.meta_json_len = strlen(meta_json[r]);
		} else {
			rec.meta = meta[r];
		}
		rec.labels = labels;
		rec.n_labels = 1;
		rec.spans = g[r].spans;
		rec.n_spans = g[r].n_spans;
		if (rec_write(w, &rec, &e) < 0) {
			fprintf(stderr, "bench_export: %s\n", e.msg);
			return 1;
		}
	}
	if (rec_writer_finish(w, &e) < 0) {
		fprintf(stderr, "bench_export: %s\n", e.msg);
		return 1;
	}
	rec_writer_free(w);
	t1 = now();
	c1 = cpu();

	if (asprintf(&path, "%s/train.jsonl", dir) < 0)
		return 1;
	printf("{\"tool\":\"moat\",\"format\":\"jsonl%s\",\"records\":%zu,\"bytes\":%llu,"
	       "\"seconds\":%.4f,\"cpu_seconds\":%.4f,\"records_per_s\":%.0f,\"mb_per_s\":%.1f}\n",
	       meta_text ? " (metadata as JSON text)" : "", n,
	       (unsigned long long)file_size(path), t1 - t0, c1 - c0, (double)n / (c1 - c0),
	       (double)file_size(path) / 1e6 / (c1 - c0));
	free(path);
	for (size_t r = 0; r < n; r++) {
		free(g[r].text);
		free(g[r].id);
		if (meta)
			json_decref(meta[r]);
		if (meta_json)
			free(meta_json[r]);
	}
	free(g);
	free(meta);
	free(meta_json);
	return 0;
}

/* n boxes, five per image, over 80 categories. */
static int bench_coco(size_t n, const char *dir)
{
	struct annot_set s = ANNOT_SET_INIT;
	struct annot_export_opts o = annot_export_default_opts();
	struct moat_err e = MOAT_ERR_INIT;
	size_t images = (n + 4) / 5, boxes = 0;
	double t0, t1, c0, c1;
	char *name, *path;
	long written;

	for (int c = 0; c < 80; c++) {
		if (asprintf(&name, "category-%02d", c) < 0 || annot_label_index(&s, name) < 0)
			return 1;
		free(name);
	}
	for (size_t i = 0; i < images; i++) {
		struct annot_item *it = annot_add_item(&s);
		struct annot_value *v;
		if (!it)
			return 1;
		if (asprintf(&it->image, "images/img_%07zu.jpg", i) < 0)
			return 1;
		it->width = 640;
		it->height = 480;
		if (!(v = annot_add_value(it)))
			return 1;
		for (int b = 0; b < 5 && boxes < n; b++, boxes++) {
			double x = (double)(next() % 600), y = (double)(next() % 440);
			double w = (double)(1 + next() % (640 - (uint64_t)x));
			double h = (double)(1 + next() % (480 - (uint64_t)y));
			if (annot_add_box(v, x, y, w, h, 0, s.labels[next() % 80]) < 0)
				return 1;
		}
	}
	o.copy_images = 0;
	t0 = now();
	c0 = cpu();
	written = annot_export("coco", &s, dir, &o, &e);
	t1 = now();
	c1 = cpu();
	if (written < 0) {
		fprintf(stderr, "bench_export: %s\n", e.msg);
		return 1;
	}
	if (asprintf(&path, "%s/annotations/instances_train.json", dir) < 0)
		return 1;
	printf("{\"tool\":\"moat\",\"format\":\"coco\",\"records\":%zu,\"images\":%zu,\"bytes\":%llu,"
	       "\"seconds\":%.4f,\"cpu_seconds\":%.4f,\"records_per_s\":%.0f,\"mb_per_s\":%.1f}\n",
	       n, images, (unsigned long long)file_size(path), t1 - t0, c1 - c0, (double)n / (c1 - c0),
	       (double)file_size(path) / 1e6 / (c1 - c0));
	free(path);
	annot_set_release(&s);
	return 0;
}

int main(int argc, char **argv)
{
	size_t n;
	if (argc < 4) {
		fprintf(stderr, "usage: bench_export jsonl|coco N DIR [meta-json]\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 10);
	if (!strcmp(argv[1], "jsonl"))
		return bench_jsonl(n, argv[3], argc > 4 && !strcmp(argv[4], "meta-json"));
	if (!strcmp(argv[1], "coco"))
		return bench_coco(n, argv[3]);
	fprintf(stderr, "bench_export: unknown mode '%s'\n", argv[1]);
	return 2;
}
