/* version.c - `moat version`: moat's version, those of the libraries it links or loads,
 * and where each run-time data file comes from (core/datadir.h). */
#include "cmd.h"
#include "../ingest/ocrlib.h"
#include "../store/store.h"
#include "version.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmark-gfm.h>
#include <curl/curl.h>
#include <jansson.h>
#include <libxml/xmlversion.h>
#include <magic.h>
#include <openssl/crypto.h>
#include <mupdf/fitz/version.h>
#include <zip.h>
#include <utf8proc.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#ifdef MOAT_HAVE_HYPERSCAN
#include <hs/hs.h>
#endif
#ifdef MOAT_WITH_LLAMA
#include <llama.h>
#endif

#include "../core/buf.h"
#include "../core/datadir.h"
#include "../core/fmt.h"
#include "../core/banned.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Tesseract's languages in dir, sorted, "deu+eng+osd" style (malloc'd). */
static char *langs_in(const char *dir)
{
	struct buf b = BUF_INIT;
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	const char *sfx = ".traineddata";
	size_t sl = strlen(sfx), n = 0, cap = 0;
	char **v = NULL;
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len > sl && !strcmp(de->d_name + len - sl, sfx)) {
			if (n == cap) {
				char **nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v));
				if (!nv)
					break;
				v = nv;
			}
			if (!(v[n] = strndup(de->d_name, len - sl)))
				break;
			n++;
		}
	}
	if (d)
		closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addch(&b, '+');
		buf_adds(&b, v[i]);
		free(v[i]);
	}
	free(v);
	if (!b.len)
		buf_adds(&b, "none");
	return buf_detach(&b, NULL);
}

/* {"path", "source", "why"} for one data file. */
static json_t *data_json(const struct datafile *f, const char *default_path)
{
	const char *p = f->path ? f->path : default_path;
	return json_pack("{s:s?, s:s, s:s}", "path", p, "source", datadir_source_name(f->source),
			 "why", f->why);
}

/* Where the data files come from; NULL when out of memory. */
static json_t *data_files(void)
{
	struct datafile magic = DATAFILE_INIT, tess = DATAFILE_INIT, server = DATAFILE_INIT;
	json_t *d = json_object(), *t;
	char *langs;
	datadir_magic(&magic);
	if (datadir_tessdata(&tess) < 0) {
		json_decref(d);
		datafile_release(&magic);
		return NULL;
	}
	datadir_llama_server(&server);
	json_object_set_new(d, "magic", data_json(&magic, magic_getpath(NULL, 0)));
	t = data_json(&tess, NULL);
	langs = langs_in(tess.source != DATADIR_NONE ? tess.path : NULL);
	json_object_set_new(t, "languages", json_string(langs));
	free(langs);
	json_object_set_new(d, "tessdata", t);
	json_object_set_new(d, "llama-server", data_json(&server, NULL));
	datafile_release(&magic);
	datafile_release(&tess);
	datafile_release(&server);
	return d;
}

int cmd_version(struct cmd_ctx *ctx)
{
	int as_json = ctx->argc > 1 && !strcmp(ctx->argv[1], "--json");
	char magicv[16];
	json_t *j;
	if (xsnprintf(magicv, sizeof(magicv), "%d.%02d", magic_version() / 100,
		      magic_version() % 100) < 0)
		magicv[0] = '\0';  /* two ints in 16 bytes: cannot happen */
	j = json_pack("{s:s, s:s++, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
		      "moat", MOAT_VERSION,
#ifdef MOAT_WITH_LLAMA
		      "llama.cpp", MOAT_LLAMA_VERSION, ", library ", llama_version(),
#else
		      "llama.cpp", "not built in", " (configured with MOAT_WITH_LLAMA=OFF)", "",
#endif
		      "sqlite", store_sqlite_version(),
		      "openssl", OpenSSL_version(OPENSSL_VERSION),
		      "jansson", JANSSON_VERSION,
		      "libxml2", LIBXML_DOTTED_VERSION,
		      "cmark-gfm", cmark_version_string(),
		      "libcurl", curl_version_info(CURLVERSION_NOW)->version,
		      "libmagic", magicv);
	{
		/* loaded for this (ocrlib.h: moat does not link them) */
		struct moat_err le = MOAT_ERR_INIT;
		int have = ocrlib_load(OCRLIB_TESSERACT, &le) == 0;
		char *lept = have ? ocrlib->getLeptonicaVersion() : NULL;
		json_object_set_new(j, "libpq", json_string(store_pg_version()));
		json_object_set_new(j, "mupdf", json_string(FZ_VERSION));
		json_object_set_new(j, "tesseract", have ? json_string(ocrlib->TessVersion())
							 : json_sprintf("not loaded (%s)", le.msg));
		json_object_set_new(j, "leptonica", json_string(lept ? lept : have ? "unknown" : "not loaded"));
		json_object_set_new(j, "libzip", json_string(zip_libzip_version()));
		json_object_set_new(j, "utf8proc", json_string(utf8proc_version()));
		json_object_set_new(j, "pcre2", json_sprintf("%d.%d", PCRE2_MAJOR, PCRE2_MINOR));
#ifdef MOAT_HAVE_HYPERSCAN
		json_object_set_new(j, "hyperscan", json_string(hs_version()));
#else
		json_object_set_new(j, "hyperscan", json_string("not built in"));
#endif
		if (lept)
			ocrlib->lept_free(lept);
	}
	if (json_object_set_new(j, "data", data_files()) < 0) {
		struct moat_err e = MOAT_ERR_INIT;
		json_decref(j);
		err_set(&e, MOAT_ENOMEM, "out of memory");
		return cmd_fail(&e);
	}
	if (as_json) {
		cmd_print_json(j);
		return 0;
	}
	printf("moat %s\n", MOAT_VERSION);
	{
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v)
			if (strcmp(k, "moat") && json_is_string(v))
				printf("  %-10s %s\n", k, json_string_value(v));
		printf("data files:\n");
		json_object_foreach(json_object_get(j, "data"), k, v) {
			const char *p = json_string_value(json_object_get(v, "path"));
			const char *l = json_string_value(json_object_get(v, "languages"));
			printf("  %-12s %s (%s: %s)%s%s\n", k, p ? p : "-",
			       json_string_value(json_object_get(v, "source")),
			       json_string_value(json_object_get(v, "why")), l ? ", languages " : "",
			       l ? l : "");
		}
	}
	json_decref(j);
	return 0;
}
