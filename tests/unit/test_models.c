/* test_models.c - the model kit's readers: Ollama names, manifests (the real
 * fixture manifests), and the GGUF reader/validator (the real tiny GGUF, the
 * 24-byte fixture blob, and synthetic files damaged in every way). */
#define _GNU_SOURCE
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/hash.h"
#include "models/gguf.h"
#include "models/models.h"

/* ---- names ---- */

static void names_parse_like_ollama(void **state)
{
	static const struct { const char *in, *host, *ns, *model, *tag, *disp; } ok[] = {
		{ "mistral", "registry.ollama.ai", "library", "mistral", "latest", "mistral:latest" },
		{ "qwen2.5:14b", "registry.ollama.ai", "library", "qwen2.5", "14b", "qwen2.5:14b" },
		{ "user/model:tag", "registry.ollama.ai", "user", "model", "tag", "user/model:tag" },
		{ "host.com/ns/model:tag", "host.com", "ns", "model", "tag", "host.com/ns/model:tag" },
		{ "host:5000/ns/model", "host:5000", "ns", "model", "latest",
		  "host:5000/ns/model:latest" },
		{ "https://host:5000/ns/model:tag", "host:5000", "ns", "model", "tag",
		  "host:5000/ns/model:tag" },
		{ "REGISTRY.ollama.ai/library/Gemma:2b", "REGISTRY.ollama.ai", "library", "Gemma", "2b",
		  "Gemma:2b" },
	};
	static const char *bad[] = { "", "host/name:space/model:tag", "model:", "/model", "ns/",
				     ".hidden", "mo del", "a/b/c/d:e:f" };
	struct model_name n;
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *d, *rel, want_rel[512];
		assert_int_equal(model_name_parse(ok[i].in, &n, &e), 0);
		assert_string_equal(n.host, ok[i].host);
		assert_string_equal(n.ns, ok[i].ns);
		assert_string_equal(n.model, ok[i].model);
		assert_string_equal(n.tag, ok[i].tag);
		d = model_name_display(&n);
		assert_string_equal(d, ok[i].disp);
		rel = model_name_relpath(&n);
		snprintf(want_rel, sizeof(want_rel), "%s/%s/%s/%s", ok[i].host, ok[i].ns, ok[i].model,
			 ok[i].tag);
		assert_string_equal(rel, want_rel);
		free(d);
		free(rel);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		assert_int_equal(model_name_parse(bad[i], &n, &e), -1);
		assert_int_equal(e.code, MOAT_EUSAGE);
		assert_true(strlen(e.msg) > 0);
	}
}

/* ---- manifests ---- */

static void fixture_manifests_parse(void **state)
{
	static const struct { const char *rel, *id; uint64_t size; size_t layers; } fx[] = {
		{ "fixtures/ollama/manifests/registry.ollama.ai/library/qwen2/0.5b",
		  "6f48b936a09f7743c7dd30e72fdb14cba296bc5861902e4d0c387e8fb5050b39", 352164041, 4 },
		{ "fixtures/ollama/manifests/registry.ollama.ai/library/gemma/2b",
		  "b50d6c999e592ae4f79acae23b4feaefbdfceaa7cd366df2610e3072c052a160", 1678456656, 4 },
		{ "fixtures/ollama/manifests/example.com/library/smol/latest",
		  "ecfb1acfca9c76444d622fcdc3840217bd502124a9d3687d438c19b3cb9c3cb1", 291, 1 },
	};
	(void)state;
	for (size_t i = 0; i < 3; i++) {
		char *p = tu_testdata(fx[i].rel);
		struct buf b = BUF_INIT;
		struct manifest m;
		struct moat_err e = MOAT_ERR_INIT;
		if (!p)
			return;
		assert_int_equal(fs_read_file(p, &b, 0, &e), 0);
		assert_int_equal(manifest_parse(b.data, b.len, &m, &e), 0);
		assert_string_equal(m.id, fx[i].id);
		assert_int_equal(manifest_size(&m), fx[i].size);
		assert_int_equal(m.n_layers, fx[i].layers);
		assert_non_null(manifest_model_layer(&m));
		assert_string_equal(m.config.media_type,
				    "application/vnd.docker.container.image.v1+json");
		manifest_release(&m);
		buf_release(&b);
		free(p);
	}
}

static void manifests_any_order_and_bad_ones(void **state)
{
	static const char pretty[] =
		"{\n  \"layers\": [ {\"size\": 5, \"digest\": \"sha256:"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", "
		"\"mediaType\": \"application/vnd.ollama.image.model\", \"from\": \"x\"} ],\n"
		"  \"config\": {\"digest\": \"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		"bbbbbbbbbbbbbbbb\", \"mediaType\": \"c\", \"size\": 7},\n  \"schemaVersion\": 2\n}\n";
	static const char *bad[] = {
		"not json",
		"[]",
		"{\"schemaVersion\":1,\"config\":{},\"layers\":[]}",
		"{\"schemaVersion\":2,\"layers\":[]}",
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"c\",\"digest\":\"sha256:12\","
		"\"size\":1},\"layers\":[]}",
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"c\",\"digest\":\"sha256:bbbbbbbbbbb"
		"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\",\"size\":-1},\"layers\":[]}",
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"c\",\"digest\":\"sha256:bbbbbbbbbbb"
		"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\",\"size\":1},\"layers\":{}}",
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"c\",\"digest\":\"sha256:bbbbbbbbbbb"
		"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\",\"size\":1},\"layers\":[1]}",
	};
	struct manifest m;
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
	assert_int_equal(manifest_parse(pretty, sizeof(pretty) - 1, &m, &e), 0);
	assert_int_equal(manifest_size(&m), 12);
	assert_string_equal(m.layers[0].from, "x");
	assert_non_null(manifest_model_layer(&m));
	manifest_release(&m);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		assert_int_equal(manifest_parse(bad[i], strlen(bad[i]), &m, &e), -1);
		assert_true(e.code == MOAT_EPARSE || e.code == MOAT_ELIMIT);
	}
	assert_true(digest_valid("sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF"));
	assert_false(digest_valid("sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_false(digest_valid("sha256:0123"));
}

/* ---- GGUF ---- */

struct gw { struct buf b; };

static void put_u32(struct buf *b, uint32_t v)
{
	unsigned char p[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };
	buf_add(b, p, 4);
}

static void put_u64(struct buf *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		buf_addch(b, (int)((v >> (8 * i)) & 0xff));
}

static void put_str(struct buf *b, const char *s)
{
	put_u64(b, strlen(s));
	buf_adds(b, s);
}

/* A GGUF with arch, context length, an optional chat template and alignment,
 * and two F32 tensors of n0 and n1 elements; pad: write the final padding. */
static void make_gguf(struct buf *b, const char *tmpl, uint32_t align, uint64_t n0, uint64_t n1,
		      int pad)
{
	uint64_t nkv = 3 + (tmpl ? 1 : 0) + (align ? 1 : 0);
	uint32_t A = align ? align : 32;
	uint64_t sz0 = n0 * 4, off1 = (sz0 + A - 1) / A * A, sz1 = n1 * 4;
	buf_reset(b);
	buf_add(b, "GGUF", 4);
	put_u32(b, 3);
	put_u64(b, 2);
	put_u64(b, nkv);
	put_str(b, "general.architecture"); put_u32(b, 8); put_str(b, "llama");
	put_str(b, "llama.context_length"); put_u32(b, 4); put_u32(b, 4096);
	put_str(b, "general.file_type"); put_u32(b, 4); put_u32(b, 15);
	if (tmpl) {
		put_str(b, "tokenizer.chat_template"); put_u32(b, 8); put_str(b, tmpl);
	}
	if (align) {
		put_str(b, "general.alignment"); put_u32(b, 4); put_u32(b, align);
	}
	put_str(b, "a.weight"); put_u32(b, 1); put_u64(b, n0); put_u32(b, 0); put_u64(b, 0);
	put_str(b, "b.weight"); put_u32(b, 2); put_u64(b, n1); put_u64(b, 1); put_u32(b, 0);
	put_u64(b, off1);
	while (b->len % A)
		buf_addch(b, 0);
	for (uint64_t i = 0; i < off1 + sz1; i++)
		buf_addch(b, (int)(i & 0x7f));
	if (pad)
		while ((b->len) % A)
			buf_addch(b, 0);
}

static void gguf_reads_the_real_tiny_model(void **state)
{
	char *p = tu_testdata("models/llama-2-tiny-random.gguf");
	struct gguf_info g;
	struct moat_err e = MOAT_ERR_INIT;
	char ps[32];
	(void)state;
	if (!p)
		return;
	assert_int_equal(gguf_open(p, &g, &e), 0);
	assert_string_equal(g.architecture, "llama");
	assert_int_equal(g.version, 3);
	assert_int_equal(g.n_tensors, 12);
	assert_int_equal(g.context_length, 4096);
	assert_true(g.parameters > 100000);
	assert_non_null(g.quantization);
	assert_int_equal(g.file_size, 1750560);
	assert_true(g.min_size <= g.file_size);
	assert_string_equal(g.bos_token, "<s>");
	assert_string_equal(g.eos_token, "</s>");
	assert_true(gguf_format_params(g.parameters, ps, sizeof(ps)) > 0);
	assert_true(strlen(ps) > 0);
	{
		json_t *j = gguf_info_json(&g);
		assert_string_equal(json_string_value(json_object_get(j, "architecture")), "llama");
		json_decref(j);
	}
	gguf_info_release(&g);
	free(p);

	p = tu_testdata("fixtures/ollama/blobs/sha256-a4e5e156ddec27e286f75328784d7106b60a4eb1d246e950a001a3f944fbda99");
	if (!p)
		return;
	assert_int_equal(gguf_open(p, &g, &e), 0);
	assert_int_equal(g.n_tensors, 0);
	assert_int_equal(g.data_offset, 24);
	assert_null(g.architecture);
	gguf_info_release(&g);
	free(p);
}

static void gguf_synthetic_files(void **state)
{
	struct buf b = BUF_INIT;
	struct gguf_info g;
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;

	make_gguf(&b, "{% for m in messages %}<|im_start|>{{ m.content }}<|im_end|>{% endfor %}",
		  0, 10, 7, 1);
	assert_int_equal(gguf_parse(b.data, b.len, b.len, &g, &e), 0);
	assert_string_equal(g.architecture, "llama");
	assert_int_equal(g.parameters, 10 + 7);
	assert_string_equal(g.quantization, "Q4_K_M");
	assert_non_null(strstr(g.chat_template, "<|im_start|>"));
	assert_int_equal(g.padded_size, b.len);
	assert_string_equal(g.warning, "");
	gguf_info_release(&g);

	/* a header alone with the true file size: enough for the metadata */
	assert_int_equal(gguf_parse(b.data, (size_t)200 < b.len ? 200 : b.len, b.len, &g, &e) < 0 ||
			 g.architecture != NULL, 1);
	gguf_info_release(&g);

	/* missing final padding: a warning, not an error */
	make_gguf(&b, NULL, 0, 10, 7, 0);
	assert_int_equal(gguf_parse(b.data, b.len, b.len, &g, &e), 0);
	assert_non_null(strstr(g.warning, "final padding"));
	gguf_info_release(&g);

	/* trailing bytes: a warning */
	make_gguf(&b, NULL, 0, 10, 7, 1);
	buf_add(&b, "junkjunk", 8);
	assert_int_equal(gguf_parse(b.data, b.len, b.len, &g, &e), 0);
	assert_non_null(strstr(g.warning, "after the tensor data"));
	gguf_info_release(&g);

	/* declared alignment 64 is honoured */
	make_gguf(&b, NULL, 64, 10, 7, 1);
	assert_int_equal(gguf_parse(b.data, b.len, b.len, &g, &e), 0);
	assert_int_equal(g.alignment, 64);
	assert_int_equal(g.data_offset % 64, 0);
	gguf_info_release(&g);
	buf_release(&b);
}

static void gguf_every_truncation_fails_cleanly(void **state)
{
	struct buf b = BUF_INIT;
	struct gguf_info g;
	(void)state;
	make_gguf(&b, "tmpl", 0, 100, 40, 1);
	for (size_t cut = 0; cut < b.len; cut++) {
		struct moat_err e = MOAT_ERR_INIT;
		int rc = gguf_parse(b.data, cut, cut, &g, &e);
		/* only the final padding may be missing */
		uint64_t min_size;
		if (rc == 0) {
			min_size = g.min_size;
			assert_true(cut >= min_size);
			assert_non_null(strstr(g.warning, "padding"));
			gguf_info_release(&g);
		} else {
			assert_int_equal(e.code, MOAT_ECORRUPT);
			assert_true(strlen(e.msg) > 0);
		}
	}
	buf_release(&b);
}

static void gguf_damage_is_named(void **state)
{
	struct buf b = BUF_INIT;
	struct gguf_info g;
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;

	make_gguf(&b, NULL, 0, 10, 7, 1);
	b.data[0] = 'X';
	assert_int_equal(gguf_parse(b.data, b.len, b.len, &g, &e), -1);
	assert_non_null(strstr(e.msg, "bad magic"));

	make_gguf(&b, NULL, 0, 10, 7, 1);
	b.data[4] = 1;  /* version 1 */
	err_clear(&e);
	assert_int_equal(gguf_parse(b.data, b.len, b.len, &g, &e), -1);
	assert_int_equal(e.code, MOAT_EUNSUPPORTED);

	make_gguf(&b, NULL, 0, 10, 7, 1);
	b.data[4] = 0; b.data[7] = 3;  /* big-endian version */
	err_clear(&e);
	assert_int_equal(gguf_parse(b.data, b.len, b.len, &g, &e), -1);
	assert_non_null(strstr(e.msg, "big-endian"));

	make_gguf(&b, NULL, 0, 10, 7, 1);
	b.data[16] = (char)0xff; b.data[17] = (char)0xff;  /* absurd metadata count */
	err_clear(&e);
	assert_int_equal(gguf_parse(b.data, b.len, b.len, &g, &e), -1);
	assert_int_equal(e.code, MOAT_ECORRUPT);

	make_gguf(&b, NULL, 24, 10, 7, 1);  /* alignment not a power of two */
	err_clear(&e);
	assert_int_equal(gguf_parse(b.data, b.len, b.len, &g, &e), -1);
	assert_non_null(strstr(e.msg, "alignment"));

	/* a tensor whose data lies past the end of the file */
	make_gguf(&b, NULL, 0, 10, 7, 1);
	err_clear(&e);
	assert_int_equal(gguf_parse(b.data, b.len - 40, b.len - 40, &g, &e), -1);
	assert_non_null(strstr(e.msg, "b.weight"));

	/* a string claiming more bytes than the file has */
	make_gguf(&b, NULL, 0, 10, 7, 1);
	b.data[24 + 7] = 0x7f;
	err_clear(&e);
	assert_int_equal(gguf_parse(b.data, b.len, b.len, &g, &e), -1);
	assert_int_equal(e.code, MOAT_ECORRUPT);

	/* duplicate key */
	{
		struct buf d = BUF_INIT;
		buf_add(&d, "GGUF", 4);
		put_u32(&d, 3); put_u64(&d, 0); put_u64(&d, 2);
		put_str(&d, "k"); put_u32(&d, 4); put_u32(&d, 1);
		put_str(&d, "k"); put_u32(&d, 4); put_u32(&d, 2);
		err_clear(&e);
		assert_int_equal(gguf_parse(d.data, d.len, d.len, &g, &e), -1);
		assert_non_null(strstr(e.msg, "same key"));
		buf_release(&d);
	}
	/* unknown tensor type */
	make_gguf(&b, NULL, 0, 10, 7, 1);
	{
		char *t = memmem(b.data, b.len, "a.weight", 8);
		assert_non_null(t);
		t[8 + 4 + 8] = 4;  /* type 4 (Q4_2) was removed */
	}
	err_clear(&e);
	assert_int_equal(gguf_parse(b.data, b.len, b.len, &g, &e), -1);
	assert_int_equal(e.code, MOAT_EUNSUPPORTED);
	buf_release(&b);
}

static void gguf_parts_read_as_one(void **state)
{
	struct buf b = BUF_INIT;
	struct gguf_info g;
	struct moat_err e = MOAT_ERR_INIT;
	char *dir = tu_tmpdir();
	char *p[4];
	const char *cp[4];
	size_t cut[5];
	(void)state;
	make_gguf(&b, "{{ x }}", 0, 300, 200, 1);
	cut[0] = 0; cut[1] = 7; cut[2] = 100; cut[3] = 101; cut[4] = b.len;
	for (int i = 0; i < 4; i++) {
		p[i] = fs_join(dir, i == 0 ? "p0" : i == 1 ? "p1" : i == 2 ? "p2" : "p3");
		tu_write(p[i], b.data + cut[i], cut[i + 1] - cut[i]);
		cp[i] = p[i];
	}
	assert_int_equal(gguf_open_parts(cp, 4, &g, &e), 0);
	assert_string_equal(g.chat_template, "{{ x }}");
	assert_int_equal(g.file_size, b.len);
	gguf_info_release(&g);
	/* without the last part the data is short */
	assert_int_equal(gguf_open_parts(cp, 3, &g, &e), -1);
	assert_int_equal(e.code, MOAT_ECORRUPT);
	for (int i = 0; i < 4; i++)
		free(p[i]);
	tu_rmtree(dir);
	free(dir);
	buf_release(&b);
}

static void names_of_types(void **state)
{
	(void)state;
	assert_string_equal(gguf_ftype_name(15), "Q4_K_M");
	assert_string_equal(gguf_ftype_name(1), "F16");
	assert_null(gguf_ftype_name(4));
	assert_null(gguf_ftype_name(1000));
	assert_string_equal(gguf_tensor_type_name(12), "Q4_K");
	assert_null(gguf_tensor_type_name(99));
	{
		char s[32];
		assert_int_equal(gguf_format_params(7241732096ull, s, sizeof(s)), 4);
		assert_string_equal(s, "7.2B");
		assert_int_equal(gguf_format_params(494032768ull, s, sizeof(s)), 7);
		assert_string_equal(s, "494.03M");
		assert_int_equal(gguf_format_params(8000000000ull, s, sizeof(s)), 2);
		assert_string_equal(s, "8B");
		assert_int_equal(gguf_format_params(999, s, sizeof(s)), 3);
		assert_string_equal(s, "999");
		/* a result that does not fit is refused, not cut */
		assert_int_equal(gguf_format_params(494032768ull, s, 4), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_parse_like_ollama),
		cmocka_unit_test(fixture_manifests_parse),
		cmocka_unit_test(manifests_any_order_and_bad_ones),
		cmocka_unit_test(gguf_reads_the_real_tiny_model),
		cmocka_unit_test(gguf_synthetic_files),
		cmocka_unit_test(gguf_every_truncation_fails_cleanly),
		cmocka_unit_test(gguf_damage_is_named),
		cmocka_unit_test(gguf_parts_read_as_one),
		cmocka_unit_test(names_of_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
