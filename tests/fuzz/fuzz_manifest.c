/*
 * fuzz_manifest.c - libFuzzer target for the Ollama manifest reader and the
 * name parsers (names, and manifest paths read back as names): any bytes
 * must give a parsed manifest or an error, never a crash, a leak or a read
 * out of bounds.  Parsed manifests are walked so every field is touched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/models.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m;
	struct moat_err e = MOAT_ERR_INIT;
	if (manifest_parse(data, size, &m, &e) == 0) {
		uint64_t total = manifest_size(&m);
		const struct model_layer *l = manifest_model_layer(&m);
		for (size_t i = 0; i < m.n_layers; i++)
			total += strlen(m.layers[i].media_type) + strlen(m.layers[i].digest);
		if (l && !digest_valid(l->digest))
			abort();
		(void)total;
		manifest_release(&m);
	}
	/* the same bytes as a model name (up to the first NUL) */
	if (size < 1024) {
		char name[1024];
		struct model_name n;
		memcpy(name, data, size);
		name[size] = '\0';
		struct model_name from_path;
		if (model_name_parse(name, &n, &e) == 0) {
			char *d = model_name_display(&n), *r = model_name_relpath(&n);
			struct model_name again;
			/* a displayed name parses back to the same parts */
			if (d && model_name_parse(d, &again, &e) == 0 &&
			    (strcmp(again.model, n.model) || strcmp(again.tag, n.tag)))
				abort();
			/* and its manifest path reads back as the same name */
			if (r && (model_name_from_relpath(r, &again, &e) < 0 ||
				  strcmp(again.host, n.host) || strcmp(again.ns, n.ns) ||
				  strcmp(again.model, n.model) || strcmp(again.tag, n.tag)))
				abort();
			free(d);
			free(r);
		}
		/* the same bytes as a manifest path (a store walk meets any name) */
		if (model_name_from_relpath(name, &from_path, &e) == 0) {
			char *r = model_name_relpath(&from_path);
			if (r && strcmp(r, name))
				abort();
			free(r);
		}
	}
	return 0;
}
