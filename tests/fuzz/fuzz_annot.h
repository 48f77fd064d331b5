/*
 * fuzz_annot.h - what the annotation-format fuzz targets share: write the
 * input as one file, or as a small directory layout, import it into a set
 * that already holds an item, and abort unless the import either succeeds
 * with sound items (valid UTF-8 text, spans inside it, finite boxes, sane
 * sizes) or fails leaving the set exactly as it was.  A set read whole is
 * written back in the same format and read again (no crash, no leak).
 * Included by one target each, so the functions are static.
 *
 * Layouts: the input is split at lines "%% rel/path" (letters, digits and
 * ". _ - /" only, no ".."); each section becomes that file, and what comes
 * before the first such line becomes the target's default file.
 */
#ifndef MOAT_FUZZ_ANNOT_H
#define MOAT_FUZZ_ANNOT_H

#define _GNU_SOURCE
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/utf8.h"
#include "export/annot.h"

static int fuzz_rm(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void fuzz_rmtree(const char *dir)
{
	nftw(dir, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static int fuzz_rel_ok(const char *p, size_t n)
{
	if (!n || n > 100 || p[0] == '/' || p[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '/'))
			return 0;
		if (c == '.' && i + 1 < n && p[i + 1] == '.')
			return 0;
		if (c == '/' && i + 1 < n && (p[i + 1] == '/' || p[i + 1] == '.'))
			return 0;
	}
	return p[n - 1] != '/';
}

static void fuzz_put(const char *dir, const char *rel, size_t rlen, const uint8_t *d, size_t n)
{
	char *path, *slash;
	FILE *f;
	if (asprintf(&path, "%s/%.*s", dir, (int)rlen, rel) < 0)
		return;
	for (slash = strchr(path + strlen(dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "wb");
	if (f) {
		if (n)
			fwrite(d, 1, n, f);
		fclose(f);
	}
	free(path);
}

/* Writes the input under dir; returns 1 when it named files of its own. */
static int fuzz_layout(const char *dir, const uint8_t *data, size_t size, const char *dflt)
{
	const uint8_t *p = data, *end = data + size, *body = data;
	const char *name = dflt;
	size_t nlen = strlen(dflt);
	int named = 0;
	while (p <= end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		const uint8_t *next = nl ? nl + 1 : end;
		if (end - p >= 3 && !memcmp(p, "%% ", 3)) {
			const char *r = (const char *)p + 3;
			size_t rl = (size_t)((nl ? nl : end) - (p + 3));
			if (fuzz_rel_ok(r, rl)) {
				/* the default file only when something comes before */
				if (named || p > body)
					fuzz_put(dir, name, nlen, body, (size_t)(p - body));
				name = r, nlen = rl, body = next, named = 1;
			}
		}
		if (!nl)
			break;
		p = next;
	}
	fuzz_put(dir, name, nlen, body, (size_t)(end - body));
	return named;
}

static void fuzz_check_set(const struct annot_set *s)
{
	for (size_t i = 0; i < s->n_items; i++) {
		const struct annot_item *it = &s->items[i];
		size_t cps = it->text ? utf8_count(it->text, strlen(it->text)) : 0;
		if (it->text && !utf8_is_valid(it->text, strlen(it->text)))
			abort();
		if (it->image && (it->width < 0 || it->height < 0 ||
				  it->width > ANNOT_MAX_IMAGE_SIDE || it->height > ANNOT_MAX_IMAGE_SIDE))
			abort();
		for (size_t k = 0; k < it->n_values; k++) {
			const struct annot_value *v = &it->values[k];
			for (size_t j = 0; j < v->n_spans; j++)
				if (!it->text || v->spans[j].start >= v->spans[j].end ||
				    v->spans[j].end > cps || !v->spans[j].label)
					abort();
			for (size_t j = 0; j < v->n_boxes; j++)
				if (!isfinite(v->boxes[j].x) || !isfinite(v->boxes[j].y) ||
				    !(v->boxes[j].w >= 0) || !(v->boxes[j].h >= 0) || !v->boxes[j].label)
					abort();
			for (size_t j = 0; j < v->n_labels; j++)
				if (!v->labels[j])
					abort();
		}
	}
}

/* Imports path (dir/dflt, or dir itself when whole_dir or the input named
 * its own files) in format, checks, exports, reads back. */
static void fuzz_annot(const char *format, const uint8_t *data, size_t size, const char *dflt,
		       int whole_dir)
{
	struct annot_set s = ANNOT_SET_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	struct annot_item *it, *items;
	char tmpl[] = "/tmp/moat-fuzz-annot-XXXXXX", *path = NULL, *out = NULL;
	const char *base = getenv("TMPDIR");
	char *dir;
	int named, rc;
	if (size > (1 << 20))
		return;
	if (base && *base) {
		if (asprintf(&dir, "%s/moat-fuzz-annot-XXXXXX", base) < 0)
			return;
	} else if (!(dir = strdup(tmpl))) {
		return;
	}
	if (!mkdtemp(dir)) {
		free(dir);
		return;
	}
	named = fuzz_layout(dir, data, size, dflt);
	if (whole_dir || named)
		path = strdup(dir);
	else if (asprintf(&path, "%s/%s", dir, dflt) < 0)
		path = NULL;
	it = annot_add_item(&s);
	if (!path || !it || !(it->text = strdup("keep")) || annot_label_index(&s, "keep") != 0)
		abort();
	items = s.items;
	rc = annot_import(format, path, &s, &e);
	if (getenv("MOAT_FUZZ_VERBOSE"))  /* to see what a seed exercises */
		fprintf(stderr, "%s: %d %s\n", format, rc, rc < 0 ? e.msg : "");
	if (rc < 0) {
		if (s.n_items != 1 || s.items != items || s.n_labels != 1 ||
		    strcmp(s.items[0].text, "keep") || !e.msg[0] || strchr(e.msg, '\n'))
			abort();
	} else {
		struct annot_set again = ANNOT_SET_INIT;
		struct annot_export_opts o = annot_export_default_opts();
		if (s.n_items != 1 + (size_t)rc)
			abort();
		fuzz_check_set(&s);
		if (asprintf(&out, "%s/out.d", dir) >= 0 && mkdir(out, 0755) == 0 &&
		    annot_export(format, &s, out, &o, &e) >= 0 &&
		    annot_import(format, out, &again, &e) >= 0)
			fuzz_check_set(&again);
		annot_set_release(&again);
	}
	annot_set_release(&s);
	fuzz_rmtree(dir);
	free(out);
	free(path);
	free(dir);
}

#endif
