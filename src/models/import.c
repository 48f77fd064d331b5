/*
 * import.c - `moat models import FILE.gguf --name NAME`: what `ollama create`
 * does with `FROM ./model.gguf`, offline.  The GGUF becomes the model layer
 * (copied into blobs/ while hashing), its chat template is matched to one of
 * the prompt formats below and written as Ollama's Go-template layer with the
 * stop words as a params layer, and a config blob carries what `ollama list`
 * shows.  The manifest is written last.
 *
 * Not a Jinja interpreter: an unrecognised chat template is reported, and the
 * model then uses Ollama's default template ({{ .Prompt }}).
 */
#define _GNU_SOURCE
#include "models_int.h"
#include "gguf.h"
#include "core/jsonu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"

#include "core/banned.h"

struct family {
	const char *name;
	const char *marker1, *marker2;   /* both must appear in the chat template */
	const char *tmpl;                /* Ollama Go template */
	const char *stop[5];
};

static const struct family families[] = {
	{ "llama3-instruct", "<|start_header_id|>", "<|eot_id|>",
	  "{{- if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>\n"
	  "{{- end }}\n{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n"
	  "{{ .Content }}<|eot_id|>\n{{- end }}<|start_header_id|>assistant<|end_header_id|>\n\n",
	  { "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>" } },
	{ "chatml", "<|im_start|>", "<|im_end|>",
	  "{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
	  "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
	  "<|im_start|>assistant\n",
	  { "<|im_start|>", "<|im_end|>" } },
	{ "gemma-instruct", "<start_of_turn>", "<end_of_turn>",
	  "{{- range .Messages }}<start_of_turn>\n{{- if eq .Role \"user\" }}user\n"
	  "{{- else if eq .Role \"assistant\" }}model\n{{- end }}\n{{ .Content }}<end_of_turn>\n"
	  "{{ end }}<start_of_turn>model\n",
	  { "<start_of_turn>", "<end_of_turn>" } },
	{ "phi-3", "<|assistant|>", "<|end|>",
	  "{{- if .System }}<|system|>\n{{ .System }}<|end|>\n{{ end }}"
	  "{{- range .Messages }}<|{{ .Role }}|>\n{{ .Content }}<|end|>\n{{ end }}<|assistant|>\n",
	  { "<|end|>", "<|user|>", "<|assistant|>" } },
	{ "zephyr", "<|assistant|>", "<|user|>",
	  "{{- if .System }}<|system|>\n{{ .System }}</s>\n{{ end }}"
	  "{{- range .Messages }}<|{{ .Role }}|>\n{{ .Content }}</s>\n{{ end }}<|assistant|>\n",
	  { "<|system|>", "<|user|>", "<|assistant|>", "</s>" } },
	{ "llama2-chat", "[INST]", "<<SYS>>",
	  "{{- range $index, $_ := .Messages }}\n{{- if eq .Role \"user\" }}[INST] "
	  "{{ if and (eq $index 0) $.System }}<<SYS>>{{ $.System }}<</SYS>>\n\n{{ end }}"
	  "{{ .Content }}\n{{- else }} [/INST] {{ .Content }}</s><s>\n{{- end }}\n{{- end }} [/INST] ",
	  { "[INST]", "[/INST]", "<<SYS>>", "<</SYS>>" } },
	{ "mistral-instruct", "[INST]", "[/INST]",
	  "{{- range $i, $_ := .Messages }}\n{{- if eq .Role \"user\" }}[INST] "
	  "{{ if and $.System (eq (len (slice $.Messages $i)) 1) }}{{ $.System }}\n\n{{ end }}"
	  "{{ .Content }}[/INST]\n{{- else if eq .Role \"assistant\" }} {{ .Content }}</s>\n"
	  "{{- end }}\n{{- end }}",
	  { "[INST]", "[/INST]" } },
};

/* The first family whose two markers the chat template holds, or NULL. */
static const struct family *family_of(const char *chat_template)
{
	for (size_t i = 0; chat_template && i < sizeof(families) / sizeof(families[0]); i++)
		if (strstr(chat_template, families[i].marker1) &&
		    strstr(chat_template, families[i].marker2))
			return &families[i];
	return NULL;
}

/* "sha256:<hex>" */
static void digest_of(const char hex[SHA256_HEX], char digest[72])
{
	memcpy(digest, "sha256:", 7);
	memcpy(digest + 7, hex, SHA256_HEX);
}

/* A layer of the manifest to be, remembering a failure in *bad. */
static void add_layer(json_t *layers, const char *media_type, const char *digest, uint64_t size,
		      int *bad)
{
	models_jadd(layers, json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest,
				      "size", (json_int_t)size), bad);
}

/* Writes a small blob (content-addressed) into the store; fills digest. */
static int put_small_blob(const char *models_dir, int bfd, const void *data, size_t len,
			  uid_t uid, gid_t gid, char digest[72], struct moat_err *e)
{
	char hex[SHA256_HEX], name[MSTORE_BLOB_NAME];
	struct stat st;
	char *dst;
	int rc = 0;
	sha256_hex_mem(data, len, hex);
	digest_of(hex, digest);
	mstore_blob_name(hex, 0, name);
	dst = blob_path(models_dir, digest);
	if (!dst)
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
	else if (fstatat(bfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		rc = models_write_durable_at(bfd, bfd, dst, data, len, 0644, uid, gid, -1, 0, e);
	free(dst);
	return rc;
}

/* A manifest the way Ollama's WriteManifest encodes one (Go's encoder: compact,
 * fields in struct order, a final newline). */
static char *manifest_text(const char *config_digest, size_t config_size, json_t *layers)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
		 "\"digest\":\"%s\",\"size\":%zu},\"layers\":[", MT_MANIFEST_V2, MT_MEDIA_CONFIG,
		 config_digest, config_size);
	for (size_t i = 0; i < json_array_size(layers); i++) {
		json_t *l = json_array_get(layers, i);
		buf_addf(&b, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}", i ? "," : "",
			 json_string_value(json_object_get(l, "mediaType")),
			 json_string_value(json_object_get(l, "digest")),
			 (long long)json_integer_value(json_object_get(l, "size")));
	}
	buf_adds(&b, "]}\n");
	return buf_detach(&b, NULL);
}

json_t *models_import(const char *models_dir, const char *gguf_path, const char *name,
		      struct moat_err *e)
{
	struct model_name n;
	struct gguf_info g;
	const struct family *fam;
	uid_t uid;
	gid_t gid;
	int lock = -1, rootfd = -1, bfd = -1, mdfd = -1;
	char *tmp = NULL, *dst = NULL, *rel = NULL, *mpath = NULL, *mdir = NULL, *mfull = NULL;
	char *mtext = NULL, *ctext = NULL, *disp = NULL;
	char digest[72], cdigest[72], hex[SHA256_HEX];
	unsigned char d[SHA256_LEN];
	struct sha256 h;
	struct stat st;
	json_t *layers = json_array(), *warnings = json_array(), *res = NULL, *config = NULL;
	int bad = !layers || !warnings;

	memset(&g, 0, sizeof(g));
	if (bad) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (model_name_parse(name, &n, e) < 0)
		goto out;
	if (gguf_open(gguf_path, &g, e) < 0) {
		err_prefix(e, "cannot import '%s'", gguf_path);
		goto out;
	}
	if (g.warning[0])
		models_jadd(warnings, json_string(g.warning), &bad);
	if (stat(gguf_path, &st) < 0) {
		err_set(e, MOAT_EIO, "cannot read '%s': %s", gguf_path, strerror(errno));
		goto out;
	}
	if (fs_mkdirs_owned(models_dir, 0755, (uid_t)-1, (gid_t)-1, e) < 0)
		goto out;
	if (mstore_owner(models_dir, &uid, &gid, e) < 0)
		goto out;
	lock = mstore_lock(models_dir, uid, gid, e);
	if (lock < 0)
		goto out;
	rootfd = mstore_dir_open(models_dir, "", 0, (uid_t)-1, (gid_t)-1, e);
	if (rootfd < 0 || (bfd = mstore_dir_open(models_dir, "blobs", 1, uid, gid, e)) < 0)
		goto out;
	mstore_remove_stale_tmp(bfd);
	mstore_remove_stale_tmp(rootfd);

	/* The model layer: copy while hashing; the digest names it. */
	{
		struct models_copy_src src = { gguf_path, 0, (uint64_t)st.st_size };
		char *probe = fs_join(models_dir, "blobs/sha256-import");
		if (!probe || sha256_init(&h) < 0) {
			free(probe);
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		if (models_copy_to_tmp_at(&src, 1, bfd, probe, 0644, uid, gid, &h, NULL, NULL, &tmp,
					  e) < 0) {
			free(probe);
			sha256_release(&h);
			goto out;
		}
		free(probe);
		sha256_final(&h, d);
		hex_encode(d, SHA256_LEN, hex);
		digest_of(hex, digest);
		dst = blob_path(models_dir, digest);
		if (!dst)
			err_set(e, MOAT_ENOMEM, "out of memory");
		if (!dst || models_rename_at(bfd, tmp, bfd, dst, e) < 0) {
			unlinkat(bfd, tmp, 0);
			goto out;
		}
		add_layer(layers, MT_MEDIA_MODEL, digest, (uint64_t)st.st_size, &bad);
	}

	fam = family_of(g.chat_template);
	if (fam) {
		json_t *params = json_object(), *stop = json_array();
		char *ptext;
		if (put_small_blob(models_dir, bfd, fam->tmpl, strlen(fam->tmpl), uid, gid, digest, e) < 0) {
			json_decref(params);
			json_decref(stop);
			goto out;
		}
		add_layer(layers, MT_MEDIA_TEMPLATE, digest, strlen(fam->tmpl), &bad);
		for (size_t i = 0; i < 5 && fam->stop[i]; i++)
			models_jadd(stop, json_string(fam->stop[i]), &bad);
		models_jset(params, "stop", stop, &bad);
		ptext = bad ? NULL : json_dumps(params, JSON_COMPACT);
		json_decref(params);
		if (!ptext)
			err_set(e, MOAT_ENOMEM, "out of memory");
		if (!ptext || put_small_blob(models_dir, bfd, ptext, strlen(ptext), uid, gid, digest,
					     e) < 0) {
			free(ptext);
			goto out;
		}
		add_layer(layers, MT_MEDIA_PARAMS, digest, strlen(ptext), &bad);
		free(ptext);
	} else if (g.chat_template) {
		models_jadd(warnings, json_string(
			"the GGUF's chat template is not one moat recognises; Ollama will use its "
			"default template ({{ .Prompt }}): add a TEMPLATE with 'ollama create' if "
			"chat matters"), &bad);
	} else {
		models_jadd(warnings, json_string(
			"the GGUF has no chat template; Ollama will use its default template"), &bad);
	}
	if (g.license) {
		if (put_small_blob(models_dir, bfd, g.license, strlen(g.license), uid, gid, digest, e) < 0)
			goto out;
		add_layer(layers, MT_MEDIA_LICENSE, digest, strlen(g.license), &bad);
	}

	/* The config blob: what `ollama list` and `ollama show` read. */
	{
		char ps[32];
		json_t *diff = json_array();
		if (gguf_format_params(g.parameters, ps, sizeof(ps)) < 0)
			ps[0] = '\0';
		for (size_t i = 0; i < json_array_size(layers); i++)
			if (json_array_append(diff, json_object_get(json_array_get(layers, i),
								    "digest")) < 0)
				bad = 1;
		config = bad ? NULL : json_pack("{s:s, s:s, s:[s], s:s, s:s, s:s, s:s, s:{s:s, s:o}}",
				   "model_format", "gguf", "model_family",
				   g.architecture ? g.architecture : "unknown", "model_families",
				   g.architecture ? g.architecture : "unknown", "model_type", ps,
				   "file_type", g.quantization ? g.quantization : "unknown",
				   "architecture", "amd64", "os", "linux", "rootfs", "type", "layers",
				   "diff_ids", diff);
		if (bad)
			json_decref(diff);
		ctext = config ? json_dumps(config, JSON_COMPACT) : NULL;
		if (!ctext)
			err_set(e, MOAT_ENOMEM, "out of memory");
		if (!ctext || put_small_blob(models_dir, bfd, ctext, strlen(ctext), uid, gid, cdigest,
					     e) < 0)
			goto out;
	}

	/* The manifest, last. */
	mtext = manifest_text(cdigest, strlen(ctext), layers);
	rel = model_name_relpath(&n);
	{
		struct moat_err fe = MOAT_ERR_INIT;
		mpath = mstore_find_manifest(models_dir, &n, &fe);  /* keep an existing casing */
		if (!mpath && fe.code == MOAT_ENOMEM) {
			models_err_copy(e, &fe);
			goto out;
		}
	}
	if (!mpath && rel && asprintf(&mpath, "manifests/%s", rel) < 0)
		mpath = NULL;
	mdir = mpath ? fs_dirname(mpath) : NULL;
	mfull = mpath ? fs_join(models_dir, mpath) : NULL;
	if (!mtext || !mdir || !mfull) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	mdfd = mstore_dir_open(models_dir, mdir, 1, uid, gid, e);
	if (mdfd < 0 || models_write_durable_at(rootfd, mdfd, mfull, mtext, strlen(mtext), 0644, uid,
						gid, -1, 0, e) < 0)
		goto out;
	sha256_hex_mem(mtext, strlen(mtext), hex);
	disp = model_name_display(&n);
	res = json_pack("{s:s, s:s, s:o, s:o, s:O, s:s?, s:o}", "name", disp ? disp : name, "id",
			hex, "manifest_path", jsonu_string(mfull), "layers", layers, "config",
			config, "template_family", fam ? fam->name : NULL, "warnings", warnings);
	layers = warnings = NULL;
	if (!res)
		err_set(e, MOAT_ENOMEM, "model imported, but out of memory reporting it");
out:
	if (lock >= 0)
		close(lock);
	if (rootfd >= 0)
		close(rootfd);
	if (bfd >= 0)
		close(bfd);
	if (mdfd >= 0)
		close(mdfd);
	gguf_info_release(&g);
	json_decref(layers);
	json_decref(warnings);
	json_decref(config);
	free(tmp);
	free(dst);
	free(rel);
	free(mpath);
	free(mdir);
	free(mfull);
	free(mtext);
	free(ctext);
	free(disp);
	return res;
}
