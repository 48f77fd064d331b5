/*
 * fuzz_wire.c - libFuzzer target for the sandbox's wire format (wire.h):
 * what a parser child (or a zygote relaying it) sends back is decoded by the
 * ingest worker, and a child taken over sends whatever it likes.  Any bytes
 * must give a document whose elements are sound (fuzz_ingest.h's checks) or
 * an error, never a crash or a leak; the same bytes are also read as a
 * zygote's request header (options from JSON).
 */
#include "fuzz_ingest.h"
#include "ingest/wire.h"

#include <string.h>

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_opts o = ingest_default_opts();
	struct doc_limits lim = { 10000, 0 };
	struct moat_err e = MOAT_ERR_INIT;
	struct doc d;
	char *copy = malloc(size + 1);
	json_error_t je;
	json_t *j;
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	if (doc_init(&d, lim) < 0)
		abort();
	{
		char *mine = malloc(size + 1);  /* the decoder frees it */
		if (!mine)
			abort();
		memcpy(mine, copy, size + 1);
		if (wire_decode_reply(mine, size, &o, &d, &e) == 0)
			fuzz_check_doc(&d);
	}
	doc_release(&d);
	j = json_loadb(copy, size, 0, &je);
	if (j) {
		struct ingest_opts o2 = ingest_default_opts();
		wire_opts_from_json(json_object_get(j, "opts"), &o2, &lim);
		json_decref(j);
	}
	free(copy);
	return 0;
}
