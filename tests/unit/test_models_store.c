/* test_models_store.c - the model kit on real stores built in temporary
 * directories (the fixture manifests and the tiny GGUF, read in place and
 * copied only into the temporary store): list, resolve, fsck, prune, rm,
 * keys and signatures, bundle -> verify -> install, and import. */
#define _GNU_SOURCE
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/hash.h"
#include "keys/keys.h"
#include "models/gguf.h"
#include "models/models.h"

static void copy_file(const char *src, const char *dst)
{
	struct buf b = BUF_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	assert_int_equal(fs_read_file(src, &b, 0, &e), 0);
	tu_write(dst, b.data ? b.data : "", b.len);
	buf_release(&b);
}

/* Writes data as a blob of store; digest gets "sha256:<hex>". */
static void put_blob(const char *store, const void *data, size_t len, char digest[72])
{
	char hex[65], path[4096];
	struct moat_err e = MOAT_ERR_INIT;
	snprintf(path, sizeof(path), "%s/blobs", store);
	assert_int_equal(fs_mkdirs(path, 0755, &e), 0);
	sha256_hex_mem(data, len, hex);
	snprintf(digest, 72, "sha256:%s", hex);
	snprintf(path, sizeof(path), "%s/blobs/sha256-%s", store, hex);
	tu_write(path, data, len);
}

/* A healthy model REL (host/ns/model/tag) whose model layer is the tiny GGUF
 * and whose template is tmpl (so two models can share or not share). */
static void add_tiny(const char *store, const char *rel, const char *tmpl)
{
	char *gguf = tu_testdata("models/llama-2-tiny-random.gguf");
	struct buf g = BUF_INIT, m = BUF_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	char md[72], td[72], cd[72], path[4096], *dir;
	static const char cfg[] = "{\"model_format\":\"gguf\",\"model_family\":\"llama\"}";
	assert_non_null(gguf);
	assert_int_equal(fs_read_file(gguf, &g, 0, &e), 0);
	put_blob(store, g.data, g.len, md);
	put_blob(store, tmpl, strlen(tmpl), td);
	put_blob(store, cfg, strlen(cfg), cd);
	buf_addf(&m, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution."
		 "manifest.v2+json\",\"config\":{\"mediaType\":\"application/vnd.docker.container."
		 "image.v1+json\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
		 "\"application/vnd.ollama.image.model\",\"digest\":\"%s\",\"size\":%zu},"
		 "{\"mediaType\":\"application/vnd.ollama.image.template\",\"digest\":\"%s\","
		 "\"size\":%zu}]}", cd, strlen(cfg), md, g.len, td, strlen(tmpl));
	snprintf(path, sizeof(path), "%s/manifests/%s", store, rel);
	dir = fs_dirname(path);
	assert_int_equal(fs_mkdirs(dir, 0755, &e), 0);
	tu_write(path, m.data, m.len);
	free(dir);
	free(gguf);
	buf_release(&g);
	buf_release(&m);
}

static void add_fixtures(const char *store)
{
	static const char *rels[] = { "registry.ollama.ai/library/qwen2/0.5b",
				      "registry.ollama.ai/library/gemma/2b",
				      "example.com/library/smol/latest" };
	struct moat_err e = MOAT_ERR_INIT;
	for (size_t i = 0; i < 3; i++) {
		char src[512], *p, *dst, *dir;
		snprintf(src, sizeof(src), "fixtures/ollama/manifests/%s", rels[i]);
		p = tu_testdata(src);
		assert_non_null(p);
		assert_int_equal(asprintf(&dst, "%s/manifests/%s", store, rels[i]) > 0, 1);
		dir = fs_dirname(dst);
		assert_int_equal(fs_mkdirs(dir, 0755, &e), 0);
		copy_file(p, dst);
		free(p);
		free(dst);
		free(dir);
	}
	{
		char *p = tu_testdata("fixtures/ollama/blobs/sha256-a4e5e156ddec27e286f75328784d7106b60a4eb1d246e950a001a3f944fbda99");
		char *dst;
		assert_int_equal(asprintf(&dst, "%s/blobs/sha256-a4e5e156ddec27e286f75328784d7106b60a4eb1d246e950a001a3f944fbda99", store) > 0, 1);
		copy_file(p, dst);
		free(p);
		free(dst);
	}
}

/* The shared data is there (skip or fail otherwise). */
static int have_tiny(void)
{
	char *p = tu_testdata("models/llama-2-tiny-random.gguf");
	free(p);
	return p != NULL;
}

static json_t *find_model(json_t *list, const char *name)
{
	for (size_t i = 0; i < json_array_size(list); i++)
		if (!strcmp(json_string_value(json_object_get(json_array_get(list, i), "name")), name))
			return json_array_get(list, i);
	return NULL;
}

static int has_problem(json_t *fsck, const char *path_part, const char *what)
{
	json_t *pr = json_object_get(fsck, "problems");
	for (size_t i = 0; i < json_array_size(pr); i++) {
		json_t *p = json_array_get(pr, i);
		if (strstr(json_string_value(json_object_get(p, "path")), path_part) &&
		    strstr(json_string_value(json_object_get(p, "problem")), what))
			return 1;
	}
	return 0;
}

static void default_dir_rules(void **state)
{
	char *d;
	(void)state;
	d = models_default_dir("/flag");
	assert_string_equal(d, "/flag");
	free(d);
	setenv("OLLAMA_MODELS", "  \"/env/models\" ", 1);
	d = models_default_dir(NULL);
	assert_string_equal(d, "/env/models");
	free(d);
	unsetenv("OLLAMA_MODELS");
	setenv("HOME", "/home/u", 1);
	d = models_default_dir(NULL);
	assert_string_equal(d, "/home/u/.ollama/models");
	free(d);
}

static void list_resolve_fsck(void **state)
{
	char *s = tu_tmpdir();
	struct moat_err e = MOAT_ERR_INIT;
	json_t *list, *m, *f;
	char *p;
	(void)state;
	if (!have_tiny())
		return;
	add_tiny(s, "registry.ollama.ai/library/tiny/latest", "{{ .Prompt }}");
	add_fixtures(s);
	list = models_list(s, &e);
	assert_non_null(list);
	assert_int_equal(json_array_size(list), 4);
	m = find_model(list, "qwen2:0.5b");
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(m, "id")), "6f48b936a09f");
	assert_int_equal(json_integer_value(json_object_get(m, "size")), 352164041);
	assert_true(json_array_size(json_object_get(m, "problems")) >= 5);
	m = find_model(list, "example.com/library/smol:latest");
	assert_non_null(m);
	assert_non_null(strstr(json_string_value(json_array_get(json_object_get(m, "problems"), 0)),
			       "config blob"));
	m = find_model(list, "tiny:latest");
	assert_non_null(m);
	assert_int_equal(json_array_size(json_object_get(m, "problems")), 0);
	assert_string_equal(json_string_value(json_object_get(m, "architecture")), "llama");
	assert_int_equal(json_integer_value(json_object_get(m, "context_length")), 4096);
	assert_true(json_is_string(json_object_get(m, "model_blob")));
	json_decref(list);

	/* names compare without case */
	p = models_resolve_gguf(s, "TINY:Latest", &e);
	assert_non_null(p);
	assert_true(p[0] == '/');
	free(p);
	assert_null(models_resolve_gguf(s, "nothere", &e));
	assert_int_equal(e.code, MOAT_ENOTFOUND);
	assert_null(models_resolve_gguf(s, "qwen2:0.5b", &e));
	assert_int_equal(e.code, MOAT_ENOTFOUND);

	/* fsck: the fixtures' missing blobs are errors; tiny is fine */
	f = models_fsck(s, 0, &e);
	assert_non_null(f);
	assert_false(json_is_true(json_object_get(f, "ok")));
	assert_int_equal(json_integer_value(json_object_get(f, "models")), 4);
	assert_true(has_problem(f, "sha256-ca239d7bd8ea", "missing: config blob"));
	json_decref(f);
	json_decref(models_rm(s, (const char *[]){ "qwen2:0.5b", "gemma:2b",
						   "example.com/library/smol" }, 3, &e));
	f = models_fsck(s, 0, &e);
	assert_true(json_is_true(json_object_get(f, "ok")));
	json_decref(f);

	/* damage: a flipped byte in the model blob (same size), a stray file,
	 * a dangling symlink and an old blob name */
	{
		char *blob = models_resolve_gguf(s, "tiny", &e), *x;
		FILE *fp = fopen(blob, "r+b");
		assert_non_null(fp);
		int c;
		fseek(fp, 1700000, SEEK_SET);
		c = fgetc(fp);
		fseek(fp, 1700000, SEEK_SET);
		fputc(c ^ 0xff, fp);
		fclose(fp);
		f = models_fsck(s, 1, &e);  /* quick: sizes only, does not see it */
		assert_true(json_is_true(json_object_get(f, "ok")));
		json_decref(f);
		f = models_fsck(s, 0, &e);
		assert_false(json_is_true(json_object_get(f, "ok")));
		assert_true(has_problem(f, strrchr(blob, '/') + 1, "does not match"));
		json_decref(f);
		assert_int_equal(asprintf(&x, "%s/blobs/junk", s) > 0, 1);
		tu_write(x, "x", 1);
		free(x);
		assert_int_equal(asprintf(&x, "%s/manifests/registry.ollama.ai/library/tiny/broken", s) > 0, 1);
		assert_int_equal(symlink("/nonexistent/target", x), 0);
		free(x);
		f = models_fsck(s, 1, &e);
		assert_true(has_problem(f, "blobs/junk", "stray file"));
		assert_true(has_problem(f, "tiny/broken", "dangling symlink"));
		assert_false(json_is_true(json_object_get(f, "ok")));
		json_decref(f);
		free(blob);
	}
	tu_rmtree(s);
	free(s);
}

static void rm_keeps_shared_blobs_and_prune(void **state)
{
	char *s = tu_tmpdir(), *x;
	struct moat_err e = MOAT_ERR_INIT;
	json_t *r, *list;
	json_t *removed;
	(void)state;
	if (!have_tiny())
		return;
	add_tiny(s, "registry.ollama.ai/library/tiny/a", "A {{ .Prompt }}");
	add_tiny(s, "registry.ollama.ai/library/tiny/b", "B {{ .Prompt }}");
	r = models_rm(s, (const char *[]){ "tiny:a" }, 1, &e);
	assert_non_null(r);
	/* only the template of a goes: model and config blobs are shared with b */
	assert_int_equal(json_integer_value(json_object_get(r, "blobs_removed")), 1);
	json_decref(r);
	list = models_list(s, &e);
	assert_int_equal(json_array_size(list), 1);
	assert_int_equal(json_array_size(json_object_get(json_array_get(list, 0), "problems")), 0);
	json_decref(list);
	assert_null(models_rm(s, (const char *[]){ "tiny:zzz" }, 1, &e));
	assert_int_equal(e.code, MOAT_ENOTFOUND);
	/* prune: an unreferenced blob goes, the others stay */
	assert_int_equal(asprintf(&x, "%s/blobs/sha256-%064d", s, 0) > 0, 1);
	tu_write(x, "orphan", 6);
	removed = json_array();
	assert_int_equal(models_prune(s, removed, &e), 1);
	assert_false(fs_exists(x));
	json_decref(removed);
	free(x);
	r = models_rm(s, (const char *[]){ "tiny:b" }, 1, &e);
	assert_int_equal(json_integer_value(json_object_get(r, "blobs_removed")), 3);
	json_decref(r);
	/* empty directories are gone up to manifests/ */
	assert_int_equal(asprintf(&x, "%s/manifests/registry.ollama.ai", s) > 0, 1);
	assert_false(fs_exists(x));
	free(x);
	tu_rmtree(s);
	free(s);
}

static void keys_sign_and_check(void **state)
{
	char *d = tu_tmpdir(), *k, *k2;
	struct moat_err e = MOAT_ERR_INIT;
	struct stat st;
	(void)state;
	assert_int_equal(asprintf(&k, "%s/key", d) > 0, 1);
	assert_int_equal(asprintf(&k2, "%s/other", d) > 0, 1);
	assert_int_equal(keys_signing_generate(k, &e), 0);
	assert_int_equal(stat(k, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(keys_signing_generate(k, &e), -1);
	assert_int_equal(e.code, MOAT_EEXISTS);
	assert_int_equal(keys_signing_generate(k2, &e), 0);
	{
		/* the other kind, through the same writer */
		unsigned char key[KEYS_SECRET_LEN], again[KEYS_SECRET_LEN];
		char *sk, *bad;
		FILE *f;
		assert_int_equal(asprintf(&sk, "%s/secret", d) > 0, 1);
		assert_int_equal(asprintf(&bad, "%s/bad", d) > 0, 1);
		assert_int_equal(keys_secret_generate(sk, &e), 0);
		assert_int_equal(stat(sk, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		assert_int_equal(st.st_size, 65);
		assert_int_equal(keys_secret_generate(sk, &e), -1);
		assert_int_equal(e.code, MOAT_EEXISTS);
		assert_string_equal(strstr(e.msg, "exists; not overwriting a key"),
				    "exists; not overwriting a key");
		assert_int_equal(keys_secret_load(sk, key, &e), 0);
		assert_int_equal(keys_secret_load(sk, again, &e), 0);
		assert_memory_equal(key, again, KEYS_SECRET_LEN);
		f = fopen(bad, "w");
		assert_non_null(f);
		fputs("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg\n", f);
		fclose(f);
		assert_int_equal(keys_secret_load(bad, key, &e), -1);
		assert_int_equal(e.code, MOAT_EPARSE);
		assert_int_equal(keys_secret_load(k, key, &e), -1);  /* a PEM file is no secret key */
		assert_int_equal(e.code, MOAT_EPARSE);
		free(sk);
		free(bad);
	}
	free(k);
	free(k2);
	tu_rmtree(d);
	free(d);
}

static void roundtrip(void **state)
{
	char *src = tu_tmpdir(), *dst = tu_tmpdir(), *work = tu_tmpdir(), *bdir, *key, *pub, *other;
	struct moat_err e = MOAT_ERR_INIT;
	struct bundle_opts bo = bundle_default_opts();
	struct verify_opts vo = verify_default_opts();
	struct install_opts io = install_default_opts();
	const char *names[] = { "tiny:latest", "tiny:other" };
	json_t *res, *l1, *l2;
	int st;
	(void)state;
	if (!have_tiny())
		return;
	add_tiny(src, "registry.ollama.ai/library/tiny/latest", "{{ .Prompt }}");
	add_tiny(src, "registry.ollama.ai/library/tiny/other", "other {{ .Prompt }}");
	assert_int_equal(asprintf(&bdir, "%s/bundle", work) > 0, 1);
	assert_int_equal(asprintf(&key, "%s/k", work) > 0, 1);
	assert_int_equal(asprintf(&pub, "%s/k.pub", work) > 0, 1);
	assert_int_equal(asprintf(&other, "%s/o", work) > 0, 1);
	assert_int_equal(keys_signing_generate(key, &e), 0);
	assert_int_equal(keys_signing_generate(other, &e), 0);

	bo.models_dir = src;
	bo.names = names;
	bo.n_names = 2;
	bo.to = bdir;
	bo.sign_key = key;
	bo.split_size = 500000;
	bo.jobs = 2;
	res = models_bundle(&bo, &e);
	assert_non_null(res);
	/* the shared model blob once: 2 models, model + config + 2 templates */
	assert_int_equal(json_array_size(json_object_get(res, "blobs")), 4);
	json_decref(res);

	vo.dir = bdir;
	vo.trust_key = pub;
	vo.jobs = 2;
	res = models_verify(&vo, &st, &e);
	assert_non_null(res);
	assert_int_equal(st, VERIFY_OK);
	assert_string_equal(json_string_value(json_object_get(res, "signature")), "valid");
	json_decref(res);
	free(pub);
	assert_int_equal(asprintf(&pub, "%s.pub", other) > 0, 1);
	vo.trust_key = pub;
	res = models_verify(&vo, &st, &e);
	assert_int_equal(st, VERIFY_BADSIG);
	json_decref(res);

	io.dir = bdir;
	io.models_dir = dst;
	res = models_install(&io, &st, &e);
	assert_non_null(res);
	assert_int_equal(st, 0);
	assert_int_equal(json_integer_value(json_object_get(res, "copied_blobs")), 4);
	json_decref(res);
	res = models_install(&io, &st, &e);  /* again: nothing to copy */
	assert_int_equal(json_integer_value(json_object_get(res, "skipped_blobs")), 4);
	json_decref(res);

	l1 = models_list(src, &e);
	l2 = models_list(dst, &e);
	assert_int_equal(json_array_size(l1), json_array_size(l2));
	for (size_t i = 0; i < json_array_size(l1); i++) {
		json_t *a = json_array_get(l1, i);
		json_t *b = find_model(l2, json_string_value(json_object_get(a, "name")));
		assert_non_null(b);
		assert_string_equal(json_string_value(json_object_get(a, "id")),
				    json_string_value(json_object_get(b, "id")));
		assert_int_equal(json_integer_value(json_object_get(a, "modified")),
				 json_integer_value(json_object_get(b, "modified")));
		assert_int_equal(json_integer_value(json_object_get(a, "size")),
				 json_integer_value(json_object_get(b, "size")));
	}
	json_decref(l1);
	json_decref(l2);

	/* a different manifest under the same name is not replaced without force */
	{
		char *mp;
		assert_int_equal(asprintf(&mp, "%s/manifests/registry.ollama.ai/library/tiny/other",
					  dst) > 0, 1);
		tu_write(mp, "{}", 2);
		res = models_install(&io, &st, &e);
		assert_null(res);
		assert_int_equal(e.code, MOAT_EEXISTS);
		io.force = 1;
		res = models_install(&io, &st, &e);
		assert_non_null(res);
		json_decref(res);
		res = models_fsck(dst, 0, &e);
		assert_true(json_is_true(json_object_get(res, "ok")));
		json_decref(res);
		free(mp);
	}
	/* a non-empty foreign directory is refused */
	bo.to = work;
	assert_null(models_bundle(&bo, &e));
	assert_int_equal(e.code, MOAT_EEXISTS);

	free(bdir);
	free(key);
	free(pub);
	free(other);
	tu_rmtree(src);
	tu_rmtree(dst);
	tu_rmtree(work);
	free(src);
	free(dst);
	free(work);
}

static void import_with_chat_template(void **state)
{
	char *s = tu_tmpdir(), *g;
	struct moat_err e = MOAT_ERR_INIT;
	struct buf b = BUF_INIT;
	json_t *res, *f;
	static const char tmpl[] = "{% for m in messages %}<|im_start|>{{ m.role }}\n"
				   "{{ m.content }}<|im_end|>\n{% endfor %}";
	(void)state;
	/* a minimal GGUF (no tensors) with a ChatML template */
	buf_add(&b, "GGUF\3\0\0\0", 8);
	{
		uint64_t z = 0, two = 2, l;
		uint32_t t8 = 8;
		buf_add(&b, &z, 8);
		buf_add(&b, &two, 8);
		l = 20; buf_add(&b, &l, 8); buf_adds(&b, "general.architecture");
		buf_add(&b, &t8, 4); l = 5; buf_add(&b, &l, 8); buf_adds(&b, "qwen2");
		l = 23; buf_add(&b, &l, 8); buf_adds(&b, "tokenizer.chat_template");
		buf_add(&b, &t8, 4); l = sizeof(tmpl) - 1; buf_add(&b, &l, 8); buf_adds(&b, tmpl);
	}
	assert_int_equal(asprintf(&g, "%s/in.gguf", s) > 0, 1);
	tu_write(g, b.data, b.len);
	{
		char *store;
		assert_int_equal(asprintf(&store, "%s/store", s) > 0, 1);
		res = models_import(store, g, "mine:v1", &e);
		assert_non_null(res);
		assert_string_equal(json_string_value(json_object_get(res, "template_family")), "chatml");
		assert_int_equal(json_array_size(json_object_get(res, "layers")), 3);
		json_decref(res);
		f = models_fsck(store, 0, &e);
		assert_true(json_is_true(json_object_get(f, "ok")));
		assert_int_equal(json_array_size(json_object_get(f, "problems")), 0);
		json_decref(f);
		{
			char *p = models_resolve_gguf(store, "mine:v1", &e);
			assert_non_null(p);
			free(p);
		}
		/* not a GGUF: refused, nothing written */
		tu_write(g, "nope", 4);
		assert_null(models_import(store, g, "bad", &e));
		assert_int_equal(e.code, MOAT_ECORRUPT);
		free(store);
	}
	free(g);
	buf_release(&b);
	tu_rmtree(s);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_dir_rules),
		cmocka_unit_test(list_resolve_fsck),
		cmocka_unit_test(rm_keeps_shared_blobs_and_prune),
		cmocka_unit_test(keys_sign_and_check),
		cmocka_unit_test(roundtrip),
		cmocka_unit_test(import_with_chat_template),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
