/*
 * chunk.c - `moat chunk`: cut the workspace's cleaned documents into chunks
 * that follow their structure and fit a model's context (export/chunk.h),
 * kept as a named chunk set (store/dataset.h) in one transaction with its
 * audit record; `moat chunk list` shows the sets.
 *
 * A set is its settings: the same settings again update the same set (only
 * documents whose text changed since are cut again), other settings make a
 * new set and keep the old one.
 *
 * Not for: the chunking rules (chunk.h) or SQL; this file parses, calls and
 * prints.
 */
#include "cmd.h"
#include "../core/alloc.h"
#include "../core/hash.h"
#include "../export/chunk.h"
#include "../llm/llm.h"
#include "../store/dataset.h"
#include "../store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: moat chunk [--max-tokens N] [--overlap N] [--by section|element]\n"
		"                  [--tokenizer chars|gguf:PATH|store:NAME|openai://HOST/v1/NAME]\n"
		"                  [--name SET] [--exact] [--raw] [--allow-host HOST]... [--json]\n"
		"                  [--shard I/N]\n"
		"       moat chunk list [--json]\n\n"
		"Cuts every cleaned document into chunks: a heading starts a chunk, small\n"
		"elements are joined, a large one is split at sentences, then words.  Sizes\n"
		"are counted in the tokenizer's own tokens (or code points with chars).\n"
		"  --max-tokens N     the largest chunk (512)\n"
		"  --overlap N        tokens a chunk repeats of the one before it (0)\n"
		"  --by section       headings start chunks, elements are joined (default);\n"
		"       element       one element per chunk, split when too large\n"
		"  --tokenizer T      chars (default), or a model: gguf:PATH, store:NAME,\n"
		"                     openai://HOST/v1/NAME (llama-server's /tokenize)\n"
		"  --name SET         the set's name (default chunks-<digest of the settings>)\n"
		"  --exact            count every chunk on its own (slower)\n"
		"  --raw              chunk the ingested text, not the cleaned one (NOT\n"
		"                     de-identified; every export of the set says so)\n"
		"  --allow-host HOST  a server beyond loopback the tokenizer may use\n"
		"  --shard I/N        only the documents of shard I of N (by document id)\n"
		"  --json             print the summary as JSON\n");
}

static int list(struct cmd_ctx *ctx, int json)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *sets = ds_chunk_sets(ctx->store, &e), *k;
	size_t i;
	if (!sets)
		return cmd_fail(&e);
	if (json) {
		cmd_print_json(sets);
		return 0;
	}
	if (!json_array_size(sets))
		printf("no chunk sets (moat chunk makes one)\n");
	json_array_foreach(sets, i, k) {
		json_t *st = json_object_get(k, "settings");
		printf("%-24s %6lld documents %8lld chunks %10lld tokens  max %lld by %s%s  %s\n",
		       json_string_value(json_object_get(k, "name")),
		       (long long)json_integer_value(json_object_get(k, "documents")),
		       (long long)json_integer_value(json_object_get(k, "chunks")),
		       (long long)json_integer_value(json_object_get(k, "tokens")),
		       (long long)json_integer_value(json_object_get(st, "max_tokens")),
		       json_string_value(json_object_get(st, "by")),
		       json_is_true(json_object_get(k, "raw")) ? " RAW" : "",
		       json_string_value(json_object_get(k, "tokenizer")));
	}
	json_decref(sets);
	return 0;
}

struct chunk_run {
	struct store *s;
	struct chunk_tokenizer *t;
	struct chunk_opts o;
	struct ds_chunk_set set;
	struct chunk_list cl;
	struct chunk_el *el;
	size_t el_cap;
	struct ds_chunk *out;
	size_t out_cap;
	struct shard shard;
	int64_t documents, cut, unchanged, empty, chunks, tokens, other_shards;
};

static int on_doc(void *ctx, const struct ds_doc *d, struct moat_err *e)
{
	struct chunk_run *r = ctx;
	char sha[SHA256_HEX], have[65];
	long n;
	int got;
	if (!shard_has(&r->shard, d->id)) {
		r->other_shards++;
		return 0;
	}
	r->documents++;
	sha256_hex_mem(d->text, d->len, sha);
	if ((got = ds_chunks_source(r->s, r->set.id, d->id, have, e)) < 0)
		return -1;
	if (got && !strcmp(have, sha)) {
		r->unchanged++;
		return 0;
	}
	if (MOAT_GROW(r->el, r->el_cap, d->n_el ? d->n_el : 1) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	for (size_t i = 0; i < d->n_el; i++) {
		int ty = element_type_parse(d->el[i].type);
		r->el[i].type = ty < 0 ? EL_OTHER : (enum element_type)ty;
		r->el[i].level = d->el[i].level;
		r->el[i].page = d->el[i].page;
		r->el[i].start = d->el[i].start;
		r->el[i].end = d->el[i].end;
	}
	n = chunk_document(r->t, &r->o, d->text, d->len, r->el, d->n_el, &r->cl, e);
	if (n < 0) {
		char msg[sizeof(e->msg)];
		memcpy(msg, e->msg, sizeof(msg));
		return err_set(e, e->code, "cannot chunk '%s' (%.12s): %s", d->path[0] ? d->path : d->id,
			       d->id, msg);
	}
	if (MOAT_GROW(r->out, r->out_cap, r->cl.n ? r->cl.n : 1) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	for (size_t i = 0; i < r->cl.n; i++) {
		const struct chunk *c = &r->cl.v[i];
		struct ds_chunk *o = &r->out[i];
		o->doc_id = d->id;
		o->seq = (int)i;
		o->el_first = (size_t)d->el[c->el_first].seq;
		o->el_last = (size_t)d->el[c->el_last].seq;
		o->page_first = c->page_first;
		o->page_last = c->page_last;
		o->start = c->start;
		o->end = c->end;
		o->tokens = c->tokens;
		o->text = d->text + c->byte_start;
		o->len = c->byte_end - c->byte_start;
		r->tokens += c->tokens;
	}
	if (!r->cl.n)
		r->empty++;
	r->chunks += (int64_t)r->cl.n;
	r->cut++;
	return ds_chunks_put(r->s, r->set.id, d->id, sha, r->out, r->cl.n, e);
}

int cmd_chunk(struct cmd_ctx *ctx)
{
	static const struct option opts[] = {
		{ "max-tokens", required_argument, NULL, 'm' },
		{ "overlap", required_argument, NULL, 'o' },
		{ "by", required_argument, NULL, 'b' },
		{ "tokenizer", required_argument, NULL, 't' },
		{ "name", required_argument, NULL, 'n' },
		{ "exact", no_argument, NULL, 'x' },
		{ "raw", no_argument, NULL, 'r' },
		{ "allow-host", required_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'J' },
		{ "shard", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct chunk_run r;
	struct moat_err e = MOAT_ERR_INIT;
	struct llm_config cfg = llm_config_default();
	const char *tokenizer = "chars", *name = NULL, *hosts[16];
	size_t n_hosts = 0;
	int c, json = 0, raw = 0, rc = 1, shared;
	int64_t run_id = 0, uncleaned = 0;
	char first[512] = "", head[65] = "", digest[SHA256_HEX];
	char *settings_text = NULL;
	json_t *settings = NULL;
	long v;
	char *end;

	if (!ctx->store) {
		usage(stdout);
		return 0;
	}
	if (ctx->argc >= 2 && !strcmp(ctx->argv[1], "list"))
		return list(ctx, ctx->argc >= 3 && !strcmp(ctx->argv[2], "--json"));
	memset(&r, 0, sizeof(r));
	r.o = chunk_opts_default();
	optind = 1;
	while ((c = getopt_long(ctx->argc, ctx->argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
		case 'o':
			v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < (c == 'm') || v > 1000000)
				return cmd_usage("chunk: --%s needs a number from %d to 1000000",
						 c == 'm' ? "max-tokens" : "overlap", c == 'm');
			if (c == 'm')
				r.o.max_tokens = (int)v;
			else
				r.o.overlap = (int)v;
			break;
		case 'b':
			if ((v = chunk_by_parse(optarg)) < 0)
				return cmd_usage("chunk: --by takes section or element");
			r.o.by = (enum chunk_by)v;
			break;
		case 't': tokenizer = optarg; break;
		case 'n': name = optarg; break;
		case 'x': r.o.exact = 1; break;
		case 'r': raw = 1; break;
		case 'A':
			if (n_hosts == sizeof(hosts) / sizeof(hosts[0]))
				return cmd_usage("chunk: at most 16 --allow-host");
			hosts[n_hosts++] = optarg;
			break;
		case 'J': json = 1; break;
		case 'H':
			if ((rc = cmd_parse_shard("chunk", optarg, &r.shard)) != 0)
				return rc;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	rc = 1;
	if (optind < ctx->argc)
		return cmd_usage("chunk: unexpected '%s' (see moat chunk --help)", ctx->argv[optind]);
	if (name && (!name[0] || strlen(name) > 127 || strchr(name, '/')))
		return cmd_usage("chunk: --name needs 1 to 127 bytes without '/'");
	if (chunk_opts_check(&r.o, &e) < 0)
		return cmd_usage("chunk: %s", e.msg);
	cfg.allow_hosts = hosts;
	cfg.n_allow_hosts = n_hosts;
	if (!raw && (uncleaned = ds_count_uncleaned(ctx->store, first, sizeof(first), &e)) < 0)
		return cmd_fail(&e);
	if (!(r.t = chunk_tokenizer_open(tokenizer, &cfg, &e)))
		return cmd_fail(&e);
	r.s = ctx->store;
	settings = chunk_settings(r.t, &r.o);
	if (!settings || json_object_set_new(settings, "raw", json_boolean(raw)) ||
	    !(settings_text = json_dumps(settings, JSON_COMPACT | JSON_SORT_KEYS))) {
		err_set(&e, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	shared = !store_exclusive(ctx->store);
	if (shared) {
		/* a shard beside its siblings (PostgreSQL): the set is made, or
		 * found, in a transaction of its own, so the shards started
		 * together share it rather than wait for the first one's run */
		if (store_begin(ctx->store, &e) < 0)
			goto fail;
		if (ds_chunk_set_open(ctx->store, name, settings_text, chunk_tokenizer_id(r.t), raw, 0,
				      &r.set, &e) < 0 ||
		    store_commit(ctx->store, &e) < 0)
			goto rollback;
	}
	if (store_begin(ctx->store, &e) < 0)
		goto fail;
	if (store_run_begin(ctx->store, "chunk", &run_id, &e) < 0 ||
	    (!shared && ds_chunk_set_open(ctx->store, name, settings_text, chunk_tokenizer_id(r.t),
					  raw, run_id, &r.set, &e) < 0) ||
	    ds_each_doc(ctx->store, raw, on_doc, &r, &e) != 0 ||
	    ds_chunk_set_touch(ctx->store, r.set.id, run_id, &e) < 0)
		goto rollback;
	sha256_hex_mem(settings_text, strlen(settings_text), digest);
	{
		json_t *counts = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "documents",
			(json_int_t)r.documents, "chunked", (json_int_t)r.cut, "unchanged",
			(json_int_t)r.unchanged, "without_text", (json_int_t)r.empty, "chunks",
			(json_int_t)r.chunks, "tokens", (json_int_t)r.tokens);
		json_t *inputs = json_pack("{s:s, s:b, s:I, s:o*}", "tokenizer", chunk_tokenizer_id(r.t),
					   "raw", raw, "not_cleaned", (json_int_t)uncleaned, "shard",
					   cmd_shard_json(&r.shard));
		if (r.shard.n && counts &&
		    (!json_object_get(inputs, "shard") ||
		     json_object_set_new(counts, "other_shards", json_integer(r.other_shards)))) {
			json_decref(counts);
			counts = NULL;
		}
		json_t *outputs = json_pack("{s:s, s:s, s:o}", "chunk_set", r.set.name,
					    "settings_sha256", digest, "settings", json_incref(settings));
		if (!counts || !inputs || !outputs) {
			json_decref(counts);
			json_decref(inputs);
			json_decref(outputs);
			err_set(&e, MOAT_ENOMEM, "out of memory");
			goto rollback;
		}
		if (cmd_audit_append(ctx, inputs, outputs, counts, head) != 0 ||
		    store_run_end(ctx->store, run_id, "done", &e) < 0 ||
		    store_commit(ctx->store, &e) < 0) {
			json_decref(counts);
			json_decref(inputs);
			json_decref(outputs);
			store_rollback(ctx->store);
			rc = e.msg[0] ? cmd_fail(&e) : 1;
			goto out;
		}
		rc = 0;
		if (json) {
			cmd_print_json(json_pack("{s:s, s:b, s:O, s:O, s:s}", "chunk_set", r.set.name,
						 "created", r.set.created, "settings", settings, "counts",
						 counts, "audit_head", head));
		} else {
			printf("chunk set %s%s: %lld documents, %lld cut, %lld unchanged; %lld chunks, "
			       "%lld tokens (%s)\n", r.set.name, r.set.created ? " (new)" : "",
			       (long long)r.documents, (long long)r.cut, (long long)r.unchanged,
			       (long long)r.chunks, (long long)r.tokens, chunk_tokenizer_id(r.t));
			if (r.shard.n)
				printf("shard %u/%u: left %lld documents to the other shards\n", r.shard.i,
				       r.shard.n, (long long)r.other_shards);
			printf("audit head %s\n", head);
		}
		json_decref(counts);
		json_decref(inputs);
		json_decref(outputs);
	}
	if (uncleaned)
		fprintf(stderr, "moat: note: %lld documents are not cleaned and were left out (first: "
			"'%s'); run moat clean, or chunk with --raw\n", (long long)uncleaned, first);
	goto out;
rollback:
	store_rollback(ctx->store);
fail:
	rc = cmd_fail(&e);
out:
	free(settings_text);
	json_decref(settings);
	chunk_list_release(&r.cl);
	free(r.el);
	free(r.out);
	chunk_tokenizer_free(r.t);
	return rc;
}
