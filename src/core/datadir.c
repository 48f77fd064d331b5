/*
 * datadir.c - where moat's run-time data files come from (see datadir.h).
 */
#define _GNU_SOURCE
#include "datadir.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

static char self_dir[PATH_MAX];
static pthread_once_t self_once = PTHREAD_ONCE_INIT;

static void self_find(void)
{
	char p[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", p, sizeof(p) - 1);
	char *slash;
	if (n <= 0 || (size_t)n >= sizeof(p) - 1)
		return;
	p[n] = '\0';
	slash = strrchr(p, '/');
	if (!slash)
		return;
	*slash = '\0';
	memcpy(self_dir, p, (size_t)(slash - p) + 1);
}

const char *datadir_self_dir(void)
{
	pthread_once(&self_once, self_find);
	return self_dir;
}

const char *datadir_source_name(enum datadir_source s)
{
	switch (s) {
	case DATADIR_ENV: return "environment";
	case DATADIR_BUNDLE: return "bundle";
	case DATADIR_SYSTEM: return "system";
	case DATADIR_BUILD: return "build";
	case DATADIR_NONE: break;
	}
	return "none";
}

void datafile_release(struct datafile *f)
{
	free(f->path);
	f->path = NULL;
	f->source = DATADIR_NONE;
	f->why = "";
}

static void set(struct datafile *out, char *path, enum datadir_source s, const char *why)
{
	out->path = path;
	out->source = path || s == DATADIR_SYSTEM ? s : DATADIR_NONE;
	out->why = why;
}

/* No answer: memory ran out.  Returns -1. */
static int nomem(struct datafile *out)
{
	set(out, NULL, DATADIR_NONE, "out of memory");
	return -1;
}

/* <program dir>/rel into *path (malloc'd) when it exists: 1; 0 when it does
 * not (or that directory is unknown), -1 out of memory. */
static int beside_self(const char *rel, int mode, char **path)
{
	const char *d = datadir_self_dir();
	if (!*d)
		return 0;
	if (asprintf(path, "%s/%s", d, rel) < 0)
		return -1;
	if (access(*path, mode) == 0)
		return 1;
	free(*path);
	*path = NULL;
	return 0;
}

void datadir_magic(struct datafile *out)
{
	const char *env = getenv("MAGIC");
	char *p;
	if (env && *env) {
		set(out, strdup(env), DATADIR_ENV, "$MAGIC");
		return;
	}
	if (beside_self("share/magic.mgc", R_OK, &p) > 0) {
		set(out, p, DATADIR_BUNDLE, "beside the program");
		return;
	}
	set(out, NULL, DATADIR_SYSTEM, "libmagic's default");
}

/* 1 when dir holds eng or osd traineddata, 0 when not, -1 out of memory. */
static int has_traineddata(const char *dir)
{
	static const char *const names[] = { "eng", "osd" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *p;
		int ok;
		if (asprintf(&p, "%s/%s.traineddata", dir, names[i]) < 0)
			return -1;
		ok = access(p, R_OK) == 0;
		free(p);
		if (ok)
			return 1;
	}
	return 0;
}

/* set() with a copy of path: 0, or -1 out of memory (out says so). */
static int set_copy(struct datafile *out, const char *path, enum datadir_source s,
		    const char *why)
{
	char *p = strdup(path);
	if (!p)
		return nomem(out);
	set(out, p, s, why);
	return 0;
}

int datadir_tessdata(struct datafile *out)
{
	static const char *const debian[] = {
		"/usr/share/tesseract-ocr/5/tessdata",
		"/usr/share/tesseract-ocr/4.00/tessdata",
		"/usr/share/tessdata",
		"/usr/local/share/tessdata",
	};
	const char *env = getenv("TESSDATA_PREFIX");
	char *p;
	int r;
	if (env && *env) {
		if (asprintf(&p, "%s/tessdata", env) < 0)
			return nomem(out);
		r = has_traineddata(p);
		if (r > 0) {
			set(out, p, DATADIR_ENV, "$TESSDATA_PREFIX");
			return 0;
		}
		free(p);
		if (r < 0)
			return nomem(out);
		return set_copy(out, env, DATADIR_ENV, "$TESSDATA_PREFIX");
	}
	r = beside_self("share/tessdata", R_OK | X_OK, &p);
	if (r < 0)
		return nomem(out);
	if (r > 0) {
		set(out, p, DATADIR_BUNDLE, "beside the program");
		return 0;
	}
	for (size_t i = 0; i < sizeof(debian) / sizeof(debian[0]); i++)
		if (access(debian[i], R_OK | X_OK) == 0)
			return set_copy(out, debian[i], DATADIR_SYSTEM, "Debian's tesseract-ocr");
	return set_copy(out, debian[0], DATADIR_NONE, "not installed");
}

char *datadir_cache(const char *sub)
{
	const char *c = getenv("MOAT_CACHE"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
	char *p = NULL;
	int n;
	if (c && *c)
		n = asprintf(&p, "%s/%s", c, sub);
	else if (x && *x)
		n = asprintf(&p, "%s/moat/%s", x, sub);
	else if (h && *h)
		n = asprintf(&p, "%s/.cache/moat/%s", h, sub);
	else
		return NULL;
	return n < 0 ? NULL : p;
}

void datadir_llama_server(struct datafile *out)
{
	char *p;
	if (beside_self("bin/llama-server", X_OK, &p) > 0) {
		set(out, p, DATADIR_BUNDLE, "beside the program");
		return;
	}
#ifdef MOAT_LLAMA_SERVER
	if (access(MOAT_LLAMA_SERVER, X_OK) == 0) {
		set(out, strdup(MOAT_LLAMA_SERVER), DATADIR_BUILD, "the llama.cpp build moat links");
		return;
	}
#endif
	set(out, NULL, DATADIR_NONE, "not found");
}
