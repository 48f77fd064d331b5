/* version.c - `moat version`: moat's version and those of the libraries it links. */
#include "cmd.h"
#include "version.h"

#include <stdio.h>
#include <string.h>

#include <cmark-gfm.h>
#include <curl/curl.h>
#include <jansson.h>
#include <libxml/xmlversion.h>
#include <magic.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <mupdf/fitz/version.h>
#include <tesseract/capi.h>
#include <leptonica/allheaders.h>
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

#include "../core/banned.h"

int cmd_version(struct cmd_ctx *ctx)
{
	int as_json = ctx->argc > 1 && !strcmp(ctx->argv[1], "--json");
	char magicv[16];
	json_t *j;
	snprintf(magicv, sizeof(magicv), "%d.%02d", magic_version() / 100, magic_version() % 100);
	j = json_pack("{s:s, s:s++, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
		      "moat", MOAT_VERSION,
#ifdef MOAT_WITH_LLAMA
		      "llama.cpp", MOAT_LLAMA_VERSION, ", library ", llama_version(),
#else
		      "llama.cpp", "not built in", " (configured with MOAT_WITH_LLAMA=OFF)", "",
#endif
		      "sqlite", sqlite3_libversion(),
		      "openssl", OpenSSL_version(OPENSSL_VERSION),
		      "jansson", JANSSON_VERSION,
		      "libxml2", LIBXML_DOTTED_VERSION,
		      "cmark-gfm", cmark_version_string(),
		      "libcurl", curl_version_info(CURLVERSION_NOW)->version,
		      "libmagic", magicv);
	{
		char *lept = getLeptonicaVersion();
		json_object_set_new(j, "mupdf", json_string(FZ_VERSION));
		json_object_set_new(j, "tesseract", json_string(TessVersion()));
		json_object_set_new(j, "leptonica", json_string(lept ? lept : "unknown"));
		json_object_set_new(j, "libzip", json_string(zip_libzip_version()));
		json_object_set_new(j, "utf8proc", json_string(utf8proc_version()));
		json_object_set_new(j, "pcre2", json_sprintf("%d.%d", PCRE2_MAJOR, PCRE2_MINOR));
#ifdef MOAT_HAVE_HYPERSCAN
		json_object_set_new(j, "hyperscan", json_string(hs_version()));
#else
		json_object_set_new(j, "hyperscan", json_string("not built in"));
#endif
		lept_free(lept);
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
			if (strcmp(k, "moat"))
				printf("  %-10s %s\n", k, json_string_value(v));
	}
	json_decref(j);
	return 0;
}
