/*
 * manifest.c - reading Ollama manifests (Docker distribution v2 JSON with
 * Ollama's layer media types), and the digest and media-type helpers the
 * module shares.  Any whitespace and field order is accepted; the bytes are
 * never written back from the parsed form (copies are byte-exact), so this is
 * a reader only.  Not for: finding manifests in a store (ollama_store.c).
 */
#include "models_int.h"
#include "core/fmt.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

int digest_valid(const char *d)
{
	if (!d || strncmp(d, "sha256", 6) || (d[6] != ':' && d[6] != '-'))
		return 0;
	for (int i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)d[7 + i]))
			return 0;
	return d[71] == '\0';
}

const char *models_digest_hex(const char *d)
{
	return digest_valid(d) ? d + 7 : NULL;
}

int models_media_is_gguf(const char *mt)
{
	return mt && (!strcmp(mt, MT_MEDIA_MODEL) || !strcmp(mt, MT_MEDIA_PROJECTOR) ||
		      !strcmp(mt, MT_MEDIA_ADAPTER) || !strcmp(mt, MT_MEDIA_DRAFT));
}

const char *models_media_short(const char *mt)
{
	const char *dot;
	if (!mt)
		return "unknown";
	if (!strcmp(mt, MT_MEDIA_CONFIG))
		return "config";
	dot = strrchr(mt, '.');
	return dot ? dot + 1 : mt;
}

static int parse_layer(json_t *j, struct model_layer *l, const char *what, struct moat_err *e)
{
	json_t *mt, *dg, *sz, *from;
	memset(l, 0, sizeof(*l));
	if (!json_is_object(j))
		return err_set(e, MOAT_EPARSE, "%s is not an object", what);
	mt = json_object_get(j, "mediaType");
	dg = json_object_get(j, "digest");
	sz = json_object_get(j, "size");
	from = json_object_get(j, "from");
	if (!json_is_string(mt))
		return err_set(e, MOAT_EPARSE, "%s has no mediaType", what);
	if (!json_is_string(dg) || !digest_valid(json_string_value(dg)) ||
	    json_string_value(dg)[6] != ':')
		return err_set(e, MOAT_EPARSE, "%s has no valid digest (want sha256:<64 hex>)", what);
	if (!json_is_integer(sz) || json_integer_value(sz) < 0)
		return err_set(e, MOAT_EPARSE, "%s has no valid size", what);
	l->media_type = strdup(json_string_value(mt));
	memcpy(l->digest, json_string_value(dg), 72);
	l->size = (uint64_t)json_integer_value(sz);
	if (json_is_string(from) && json_string_length(from))
		l->from = strdup(json_string_value(from));
	if (!l->media_type || (json_is_string(from) && json_string_length(from) && !l->from))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return 0;
}

static void layer_release(struct model_layer *l)
{
	free(l->media_type);
	free(l->from);
	l->media_type = l->from = NULL;
}

int manifest_parse(const void *data, size_t len, struct manifest *m, struct moat_err *e)
{
	json_error_t je;
	json_t *root, *sv, *mt, *layers;
	memset(m, 0, sizeof(*m));
	if (len > MANIFEST_MAX_BYTES)
		return err_set(e, MOAT_ELIMIT, "manifest is %zu bytes, over the limit of %u", len,
			       MANIFEST_MAX_BYTES);
	sha256_hex_mem(data, len, m->id);
	root = json_loadb(data, len, 0, &je);
	if (!root && models_json_oom(&je))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (!root)
		return err_set(e, MOAT_EPARSE, "manifest is not JSON: %s (line %d)", je.text,
			       je.line);
	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(e, MOAT_EPARSE, "manifest is not a JSON object");
	}
	sv = json_object_get(root, "schemaVersion");
	mt = json_object_get(root, "mediaType");
	layers = json_object_get(root, "layers");
	if (!json_is_integer(sv) || json_integer_value(sv) != 2) {
		json_decref(root);
		return err_set(e, MOAT_EPARSE, "manifest schemaVersion is not 2");
	}
	m->schema_version = 2;
	if (json_is_string(mt) && !(m->media_type = strdup(json_string_value(mt)))) {
		json_decref(root);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	if (parse_layer(json_object_get(root, "config"), &m->config, "config", e) < 0)
		goto fail;
	if (!json_is_array(layers)) {
		err_set(e, MOAT_EPARSE, "manifest has no layers array");
		goto fail;
	}
	if (json_array_size(layers) > MANIFEST_MAX_LAYERS) {
		err_set(e, MOAT_ELIMIT, "manifest has %zu layers, over the limit of %d",
			json_array_size(layers), MANIFEST_MAX_LAYERS);
		goto fail;
	}
	m->layers = calloc(json_array_size(layers) + 1, sizeof(*m->layers));
	if (!m->layers) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < json_array_size(layers); i++) {
		char what[32];  /* "layer " and at most 20 digits */
		if (xsnprintf(what, sizeof(what), "layer %zu", i + 1) < 0) {
			err_set(e, MOAT_ELIMIT, "manifest has too many layers");
			goto fail;
		}
		if (parse_layer(json_array_get(layers, i), &m->layers[i], what, e) < 0) {
			layer_release(&m->layers[i]);
			goto fail;
		}
		m->n_layers++;
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	manifest_release(m);
	return -1;
}

void manifest_release(struct manifest *m)
{
	if (!m)
		return;
	free(m->media_type);
	layer_release(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		layer_release(&m->layers[i]);
	free(m->layers);
	m->media_type = NULL;
	m->layers = NULL;
	m->n_layers = 0;
}

uint64_t manifest_size(const struct manifest *m)
{
	uint64_t s = m->config.size;
	for (size_t i = 0; i < m->n_layers; i++)
		s += m->layers[i].size;
	return s;
}

const struct model_layer *manifest_model_layer(const struct manifest *m)
{
	for (size_t i = 0; i < m->n_layers; i++)
		if (!strcmp(m->layers[i].media_type, MT_MEDIA_MODEL))
			return &m->layers[i];
	return NULL;
}
