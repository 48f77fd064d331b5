/*
 * ocrlib.c - loading Tesseract and Leptonica on first need (ocrlib.h).
 *
 * Each library is opened by its soname with RTLD_NOW (a library that lacks
 * a symbol fails here, with the loader's reason, rather than in the middle
 * of a page) and RTLD_LOCAL (its symbols stay out of the program's scope);
 * every function moat calls is looked up at once.  The outcome, success or
 * the message, is kept for the life of the process.
 *
 * Not for: deciding when to load (the callers: ocr.c, image.c, pdf_ocr.c,
 * zygote.c through ocr_warm, cmd/version.c).
 */
#include "ocrlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../core/fmt.h"

#include "../core/banned.h"

const char *const ocrlib_sonames[] = { OCRLIB_LEPTONICA_SO, OCRLIB_TESSERACT_SO, NULL };

static struct ocrlib fns;
const struct ocrlib *const ocrlib = &fns;

/* One library's state: 0 not tried, 1 loaded, -1 failed with msg. */
struct lib {
	int state;
	struct moat_err err;
};
static struct lib lept, tess;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/* The soname to open: in Debug builds MOAT_TEST_OCRLIB_MISSING=tesseract
 * (or leptonica) names one that is nowhere instead, so tests see what a
 * machine without that package gives. */
static const char *soname(const char *so, const char *which)
{
#ifdef MOAT_TEST_HOOKS
	const char *t = getenv("MOAT_TEST_OCRLIB_MISSING");
	if (t && !strcmp(t, which))
		return "libmoat-test-missing.so.0";
#else
	(void)which;
#endif
	return so;
}

static int failed(struct lib *l, const char *name, const char *deb, const char *why)
{
	err_set(&l->err, MOAT_ENOTFOUND, "cannot load %s: %s (install the Debian package %s)", name,
		why ? why : "unknown reason", deb);
	__atomic_store_n(&l->state, -1, __ATOMIC_RELEASE);
	return -1;
}

static int missing(struct lib *l, const char *name, const char *deb, const char *so,
		   const char *fn)
{
	char why[160];
	if (xsnprintf(why, sizeof(why), "%s has no '%s' (another version?)", so, fn) < 0)
		why[0] = '\0';
	return failed(l, name, deb, why);
}

/* Opens one library for l (which: its MOAT_TEST_OCRLIB_MISSING name); the
 * handle, or NULL with l failed. */
static void *open_lib(struct lib *l, const char *name, const char *deb, const char *so,
		      const char *which)
{
	void *h = dlopen(soname(so, which), RTLD_NOW | RTLD_LOCAL);
	if (!h)
		failed(l, name, deb, dlerror());
	return h;
}

/* Looks up each function of one library into fns; on a miss returns the
 * failure from the function it is used in (h, l, name, deb, so there). */
#define LOOKUP(fn)                                                        \
	if (!(fns.fn = (__typeof__(fns.fn))dlsym(h, #fn)))                 \
		return missing(l, name, deb, so, #fn);

static int open_lept(void)
{
	struct lib *l = &lept;
	const char *name = "Leptonica", *deb = OCRLIB_LEPTONICA_DEB, *so = OCRLIB_LEPTONICA_SO;
	void *h = open_lib(l, name, deb, so, "leptonica");
	if (!h)
		return -1;
	OCRLIB_LEPTONICA_FUNCS(LOOKUP)
	__atomic_store_n(&l->state, 1, __ATOMIC_RELEASE);
	return 0;
}

static int open_tess(void)
{
	struct lib *l = &tess;
	const char *name = "Tesseract", *deb = OCRLIB_TESSERACT_DEB, *so = OCRLIB_TESSERACT_SO;
	void *h = open_lib(l, name, deb, so, "tesseract");
	if (!h)
		return -1;
	OCRLIB_TESSERACT_FUNCS(LOOKUP)
	/* searched in Tesseract's own dependencies; absent from a Tesseract
	 * built without OpenMP, which is no failure */
	fns.omp_set_max_active_levels = (void (*)(int))dlsym(h, "omp_set_max_active_levels");
	__atomic_store_n(&l->state, 1, __ATOMIC_RELEASE);
	return 0;
}
#undef LOOKUP

static int loaded(const struct lib *l)
{
	return __atomic_load_n(&l->state, __ATOMIC_ACQUIRE) == 1;
}

int ocrlib_load(enum ocrlib_what what, struct moat_err *e)
{
	int want_tess = what == OCRLIB_TESSERACT;
	const struct lib *bad = NULL;
	if (loaded(&lept) && (!want_tess || loaded(&tess)))
		return 0;
	pthread_mutex_lock(&mu);
	if (lept.state == 0)
		open_lept();
	if (lept.state < 0) {
		bad = &lept;
	} else if (want_tess) {
		if (tess.state == 0)
			open_tess();
		if (tess.state < 0)
			bad = &tess;
	}
	if (bad && e)
		*e = bad->err;
	pthread_mutex_unlock(&mu);
	return bad ? -1 : 0;
}
