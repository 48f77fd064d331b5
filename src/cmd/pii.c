/*
 * pii.c - `moat pii scan | review | restore | keygen`.
 *
 * scan reads a file or standard input (no workspace), prints one finding per
 * line; review lists the findings `moat clean --pii` stored and accepts or
 * rejects them; restore decrypts the values the encrypt operator wrote into an
 * export, for whoever holds the key file; keygen writes a new key file
 * (keys/keys.h: the secret key kind).
 */
#define _GNU_SOURCE
#include "cmd.h"
#include "../clean/pii.h"
#include "../clean/pii_ops.h"
#include "../clean/policy.h"
#include "../clean/stage.h"
#include "../core/buf.h"
#include "../core/fmt.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "../core/utf8.h"
#include "../keys/keys.h"
#include "../store/cleaned.h"
#include "../store/store.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <math.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/jsonw.h"
#include "../core/banned.h"

/* --- output ------------------------------------------------------------------ */

static void print_findings(struct buf *o, const struct pii_scanner *s, const struct pii_findings *f,
			   const char *text, size_t base_byte, int json)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct pii_finding *x = &f->v[i];
		const char *t = text + x->start - base_byte;
		const char *type = pii_type_name(s, x->type);
		if (json) {
#define LIT(s) jsonw_add(o, s, sizeof(s) - 1)
			LIT("{\"type\": ");
			jsonw_str(o, type, strlen(type));
			LIT(", \"start\": ");
			jsonw_uint(o, x->cp_start);
			LIT(", \"end\": ");
			jsonw_uint(o, x->cp_end);
			LIT(", \"score\": ");
			jsonw_fixed2(o, (double)x->score);
			LIT(", \"text\": ");
			jsonw_str(o, t, x->end - x->start);
			LIT("}\n");
#undef LIT
		} else {
			size_t run = 0, n = x->end - x->start;
			jsonw_uint(o, x->cp_start);
			buf_addch(o, '\t');
			jsonw_uint(o, x->cp_end);
			buf_addch(o, '\t');
			buf_adds(o, type);
			buf_addch(o, '\t');
			jsonw_fixed2(o, (double)x->score);
			buf_addch(o, '\t');
			for (size_t k = 0; k < n; k++)
				if (t[k] == '\n' || t[k] == '\t') {
					buf_add(o, t + run, k - run);
					buf_addch(o, ' ');
					run = k + 1;
				}
			buf_add(o, t + run, n - run);
			buf_addch(o, '\n');
		}
	}
}

/* --- scan ------------------------------------------------------------------ */

static void scan_usage(FILE *f)
{
	const char *const *types = pii_builtin_types();
	fprintf(f,
		"usage: moat pii scan [FILE|-] [--entities LIST] [--country LIST] [--language L]\n"
		"                     [--json] [--threshold X] [--policy FILE] [--all] [--redact]\n\n"
		"Finds personal and health identifiers in a text file (or standard input) and\n"
		"prints one finding per line: start, end (code points, end exclusive), type,\n"
		"score and the matched text; --json prints {\"type\", \"start\", \"end\", \"score\",\n"
		"\"text\"} objects.  Needs no workspace.\n"
		"  --entities LIST   comma-separated types (default: the default set below)\n"
		"  --country LIST    the text's countries (us,uk,de,...): their recognizers, all of\n"
		"                    them, and no other country's (generic types stay)\n"
		"  --language L      the text's language (en, de, ...): without --country, only the\n"
		"                    country recognizers Presidio registers for it\n"
		"  --threshold X     drop findings scoring below X (default 0: every finding, as\n"
		"                    Presidio's analyzer; 0.4 keeps only the likelier ones)\n"
		"  --policy FILE     allow/deny lists, dictionaries, threshold, country and operators\n"
		"  --all             keep overlapping findings (no overlap resolution)\n"
		"  --redact          print the text with each finding replaced: <TYPE>, or with\n"
		"                    --policy the policy's operators, as 'moat clean' applies them\n"
		"  --engine          print the pattern engine and the number of patterns\n\n"
		"types:");
	for (size_t i = 0; types[i]; i++)
		fprintf(f, "%s%s", i % 6 ? " " : "\n  ", types[i]);
	fputc('\n', f);
}

#define CHUNK (8u << 20)

/* What --redact writes for finding x of text: <TYPE>, or with a policy its
 * operator's output as 'moat clean' writes it. */
static int redact_one(struct buf *out, const struct pii_scanner *sc, const struct policy *pol,
		      const struct pii_secrets *sec, const struct pii_finding *x, const char *text,
		      struct moat_err *e)
{
	const char *type = pii_type_name(sc, x->type);
	const struct pii_op_spec *op;
	if (!pol) {
		buf_addf(out, "<%s>", type);
		return 0;
	}
	op = policy_op_for(pol, type);
	if (op->op == PII_OP_KEEP) {
		buf_add(out, text + x->start, x->end - x->start);
		return 0;
	}
	return pii_apply(sec, op, type, text + x->start, x->end - x->start, out, e);
}

static int scan_run(struct pii_scanner *sc, FILE *in, const char *name, int json, int redact,
		    const struct policy *pol, const struct pii_secrets *sec, struct moat_err *e)
{
	struct pii_scratch *scr = pii_scratch_new(sc, e);
	struct buf raw = BUF_INIT, text = BUF_INIT, out = BUF_INIT;
	struct pii_findings f = PII_FINDINGS_INIT;
	size_t cp_base = 0, chunk_len;
	const char *chunk;
	struct moat_err pe = MOAT_ERR_INIT;
	char saved;
	int eof = 0, rc = 0, src;
	if (!scr)
		return -1;
	while (!eof || raw.len) {
		size_t cut;
		while (!eof && raw.len < CHUNK) {
			char *to = buf_space(&raw, 1 << 20);
			size_t n = to ? fread(to, 1, 1 << 20, in) : 0;
			if (!to)
				break;
			buf_added(&raw, n);
			if (n < (1 << 20)) {
				if (ferror(in)) {
					rc = err_set(e, MOAT_EIO, "cannot read '%s': %s", name, strerror(errno));
					goto out;
				}
				eof = 1;
			}
		}
		if (buf_failed(&raw)) {
			rc = err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		cut = raw.len;
		if (!eof) {
			/* end the chunk at a paragraph break, else a line break */
			cut = 0;
			for (size_t k = raw.len; k > raw.len / 2; k--)
				if (raw.data[k - 1] == '\n' && k >= 2 && raw.data[k - 2] == '\n') {
					cut = k;
					break;
				}
			if (!cut) {
				const char *nl = memrchr(raw.data, '\n', raw.len);
				cut = nl ? (size_t)(nl - raw.data) + 1 : raw.len;
			}
		}
		/* the chunk is scanned where it was read, NUL-terminated for the
		 * moment; text that is not UTF-8 is scanned as a sanitized copy */
		saved = raw.data[cut];
		raw.data[cut] = '\0';
		chunk = raw.data;
		chunk_len = cut;
		f.n = 0;
		err_clear(&pe);
		src = pii_scan(sc, scr, chunk, chunk_len, cp_base, &f, &pe);
		if (src < 0 && pe.code == MOAT_EPARSE) {
			buf_reset(&text);
			utf8_sanitize(&text, raw.data, cut);
			chunk = buf_str(&text);
			chunk_len = text.len;
			f.n = 0;
			err_clear(&pe);
			src = pii_scan(sc, scr, chunk, chunk_len, cp_base, &f, &pe);
		}
		if (src < 0 && e)
			*e = pe;
		if (src < 0) {
			raw.data[cut] = saved;
			rc = -1;
			goto out;
		}
		buf_reset(&out);
		if (redact) {
			size_t pos = 0;
			for (size_t i = 0; i < f.n; i++) {
				if (f.v[i].start < pos)
					continue;
				buf_add(&out, chunk + pos, f.v[i].start - pos);
				if (redact_one(&out, sc, pol, sec, &f.v[i], chunk, e) < 0) {
					raw.data[cut] = saved;
					rc = -1;
					goto out;
				}
				pos = f.v[i].end;
			}
			buf_add(&out, chunk + pos, chunk_len - pos);
		} else {
			print_findings(&out, sc, &f, chunk, 0, json);
		}
		if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len) {
			rc = err_set(e, MOAT_EIO, "cannot write the output: %s", strerror(errno));
			goto out;
		}
		cp_base += utf8_count(chunk, chunk_len);
		raw.data[cut] = saved;
		memmove(raw.data, raw.data + cut, raw.len - cut);
		buf_setlen(&raw, raw.len - cut);
	}
out:
	buf_release(&raw);
	buf_release(&text);
	buf_release(&out);
	pii_findings_release(&f);
	pii_scratch_free(scr);
	return rc;
}

/*
 * The secrets of a policy's operators for --redact, as the clean stage takes
 * them: the policy's salt (without one, hash and pseudonymize get a random
 * salt for this run only, and a note says so: there is no workspace secret
 * here) and its key file, which the encrypt operator needs.
 */
static int scan_secrets(const struct policy *pol, const char *path, struct pii_secrets *sec,
			unsigned char salt[32], struct moat_err *e)
{
	int salted = pol->def.op == PII_OP_HASH || pol->def.op == PII_OP_PSEUDONYMIZE;
	int enc = pol->def.op == PII_OP_ENCRYPT;
	for (size_t i = 0; i < pol->n_ops; i++) {
		salted |= pol->ops[i].spec.op == PII_OP_HASH || pol->ops[i].spec.op == PII_OP_PSEUDONYMIZE;
		enc |= pol->ops[i].spec.op == PII_OP_ENCRYPT;
	}
	if (pol->salt) {
		sec->salt = pol->salt;
		sec->salt_len = pol->salt_len;
	} else {
		if (RAND_bytes(salt, 32) != 1)
			return err_set(e, MOAT_EIO, "cannot get random bytes for a salt");
		sec->salt = salt;
		sec->salt_len = 32;
		if (salted)
			fprintf(stderr, "moat: note: '%s' has no salt: hash and pseudonymize use a random one "
					"for this run\n", path);
	}
	if (pol->key_file) {
		if (pii_key_load(pol->key_file, sec->key, e) < 0)
			return -1;
		sec->have_key = 1;
	} else if (enc) {
		return err_set(e, MOAT_EUSAGE, "%s: the encrypt operator needs key_file", path);
	}
	return 0;
}

static int cmd_pii_scan(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "entities", required_argument, NULL, 'E' },
		{ "language", required_argument, NULL, 'L' },
		{ "country", required_argument, NULL, 'C' },
		{ "threshold", required_argument, NULL, 'T' },
		{ "policy", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'J' },
		{ "all", no_argument, NULL, 'A' },
		{ "redact", no_argument, NULL, 'R' },
		{ "engine", no_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pii_options o = pii_default_options();
	struct policy pol;
	struct pii_secrets sec;
	unsigned char salt[32];
	struct moat_err e = MOAT_ERR_INIT;
	struct pii_scanner *sc;
	const char *policy_path = NULL, *entities = NULL, *path = "-", *language = NULL;
	const char *countries = NULL;
	double threshold = -1;
	int c, json = 0, all = 0, redact = 0, engine = 0, rc = 0;
	FILE *in = stdin;

	memset(&sec, 0, sizeof(sec));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'E': entities = optarg; break;
		case 'L': language = optarg; break;
		case 'C': countries = optarg; break;
		case 'T': {
			char *end;
			threshold = strtod(optarg, &end);
			if (*end || threshold < 0 || threshold > 1)
				return cmd_usage("pii scan: --threshold needs a number from 0 to 1");
			break;
		}
		case 'P': policy_path = optarg; break;
		case 'J': json = 1; break;
		case 'A': all = 1; break;
		case 'R': redact = 1; break;
		case 'G': engine = 1; break;
		case 'h': scan_usage(stdout); return 0;
		default: scan_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		path = argv[optind++];
	if (optind < argc)
		return cmd_usage("pii scan: one input at a time");
	policy_init(&pol);
	if (policy_path && policy_load(&pol, policy_path, &e) < 0) {
		policy_release(&pol);
		return cmd_fail(&e);
	}
	policy_scan_options(&pol, &o);
	if (entities)
		o.entities = entities;
	if (countries)
		o.countries = countries;
	if (language)
		o.language = language;
	if (threshold >= 0)
		o.threshold = (float)threshold;
	if (all)
		o.resolve_overlaps = 0;
	sc = pii_scanner_new(&o, &e);
	if (!sc) {
		policy_release(&pol);
		return e.code == MOAT_EUSAGE ? (fprintf(stderr, "moat: %s\n", e.msg), EXIT_USAGE)
					     : cmd_fail(&e);
	}
	if (engine) {
		size_t slow, n = pii_pattern_count(sc, &slow);
		printf("%s: %zu patterns, %zu types, %zu without a trigger\n", pii_engine_name(), n,
		       pii_type_count(sc), slow);
		pii_scanner_free(sc);
		policy_release(&pol);
		return 0;
	}
	if (redact && policy_path && scan_secrets(&pol, policy_path, &sec, salt, &e) < 0) {
		pii_scanner_free(sc);
		policy_release(&pol);
		return e.code == MOAT_EUSAGE ? (fprintf(stderr, "moat: %s\n", e.msg), EXIT_USAGE)
					     : cmd_fail(&e);
	}
	if (strcmp(path, "-")) {
		in = fopen(path, "rb");
		if (!in) {
			fprintf(stderr, "moat: cannot open '%s': %s\n", path, strerror(errno));
			pii_scanner_free(sc);
			policy_release(&pol);
			return 1;
		}
	}
	if (scan_run(sc, in, strcmp(path, "-") ? path : "standard input", json, redact,
		     redact && policy_path ? &pol : NULL, &sec, &e) < 0)
		rc = cmd_fail(&e);
	OPENSSL_cleanse(&sec, sizeof(sec));
	OPENSSL_cleanse(salt, sizeof(salt));
	if (in != stdin)
		fclose(in);
	pii_scanner_free(sc);
	policy_release(&pol);
	return rc;
}

/* --- review ------------------------------------------------------------------ */

static int parse_ids(const char *s, json_t *arr)
{
	while (*s) {
		char *end;
		long long v = strtoll(s, &end, 10);
		if (end == s || v <= 0)
			return -1;
		json_array_append_new(arr, json_integer(v));
		s = end;
		while (*s == ',' || *s == ' ')
			s++;
	}
	return 0;
}

static void review_usage(FILE *f)
{
	fprintf(f,
		"usage: moat pii review [--type T] [--status S] [--doc DOC] [--json]\n"
		"       moat pii review --accept ID[,ID...] | --reject ID[,ID...]\n\n"
		"Lists the findings 'moat clean --pii' stored (never their values: the type,\n"
		"the span, the score, the operator and a keyed digest), or accepts or rejects\n"
		"findings by id.  A rejected finding is put back as it was in the cleaned text;\n"
		"each decision is recorded in the audit trail.\n");
}

static int cmd_pii_review(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "status", required_argument, NULL, 's' },
		{ "doc", required_argument, NULL, 'd' },
		{ "accept", required_argument, NULL, 'a' },
		{ "reject", required_argument, NULL, 'r' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct moat_err e = MOAT_ERR_INIT;
	const char *type = NULL, *status = NULL, *doc = NULL;
	json_t *accept = json_array(), *reject = json_array();
	long limit = 0;
	int c, json = 0, rc = 0, writing;
	char *dir;
	struct store *st;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': type = optarg; break;
		case 's': status = optarg; break;
		case 'd': doc = optarg; break;
		case 'a':
			if (parse_ids(optarg, accept) < 0)
				rc = cmd_usage("pii review: bad finding id list '%s'", optarg);
			break;
		case 'r':
			if (parse_ids(optarg, reject) < 0)
				rc = cmd_usage("pii review: bad finding id list '%s'", optarg);
			break;
		case 'n': limit = strtol(optarg, NULL, 10); break;
		case 'J': json = 1; break;
		case 'h': review_usage(stdout); json_decref(accept); json_decref(reject); return 0;
		default: rc = EXIT_USAGE; review_usage(stderr); break;
		}
	}
	if (rc || optind < argc) {
		json_decref(accept);
		json_decref(reject);
		return rc ? rc : cmd_usage("pii review: unexpected '%s'", argv[optind]);
	}
	writing = json_array_size(accept) || json_array_size(reject);
	dir = store_find(ctx->workspace_flag, &e);
	if (!dir) {
		json_decref(accept);
		json_decref(reject);
		return cmd_fail(&e);
	}
	st = store_open(dir, writing ? STORE_WRITE | STORE_WAIT : STORE_READ, &e);
	free(dir);
	if (!st) {
		json_decref(accept);
		json_decref(reject);
		return cmd_fail(&e);
	}
	ctx->store = st;
	if (writing) {
		json_t *counts = NULL, *outputs = NULL;
		char head[65] = "";
		int64_t changed = 0;
		if (store_begin(st, &e) < 0 ||
		    clean_review(st, accept, reject, &changed, &outputs, &e) < 0) {
			store_rollback(st);
			rc = cmd_fail(&e);
		} else {
			counts = json_pack("{s:I, s:I, s:I}", "accepted", (json_int_t)json_array_size(accept),
					   "rejected", (json_int_t)json_array_size(reject), "documents_rerendered",
					   (json_int_t)changed);
			json_object_set(outputs, "accepted", accept);
			json_object_set(outputs, "rejected", reject);
			if (cmd_audit_append(ctx, NULL, outputs, counts, head) != 0 ||
			    store_commit(st, &e) < 0) {
				store_rollback(st);
				rc = e.msg[0] ? cmd_fail(&e) : 1;
			} else if (json) {
				cmd_print_json(json_pack("{s:O, s:s}", "counts", counts, "audit_head", head));
			} else {
				printf("accepted %zu, rejected %zu findings; %lld documents re-rendered\n"
				       "audit head %s\n", json_array_size(accept), json_array_size(reject),
				       (long long)changed, head);
			}
		}
		json_decref(counts);
		json_decref(outputs);
	} else {
		json_t *list = clean_store_findings(st, type, status, doc, limit, &e);
		if (!list) {
			rc = cmd_fail(&e);
		} else if (json) {
			cmd_print_json(list);
		} else {
			size_t i;
			json_t *r;
			printf("%-8s %-12s %-4s %-20s %-16s %-5s %-9s %s\n", "ID", "DOC", "EL", "TYPE", "SPAN",
			       "SCORE", "STATUS", "OPERATOR");
			json_array_foreach(list, i, r) {
				char span[48];  /* two 64-bit numbers and a '-' always fit */
				if (xsnprintf(span, sizeof(span), "%lld-%lld",
					      (long long)json_integer_value(json_object_get(r, "start")),
					      (long long)json_integer_value(json_object_get(r, "end"))) < 0)
					span[0] = '\0';
				printf("%-8lld %-12.12s %-4lld %-20s %-16s %-5.2f %-9s %s\n",
				       (long long)json_integer_value(json_object_get(r, "id")),
				       json_string_value(json_object_get(r, "doc")),
				       (long long)json_integer_value(json_object_get(r, "element")),
				       json_string_value(json_object_get(r, "type")), span,
				       json_real_value(json_object_get(r, "score")),
				       json_string_value(json_object_get(r, "status")),
				       json_string_value(json_object_get(r, "operator")));
			}
			json_decref(list);
		}
	}
	json_decref(accept);
	json_decref(reject);
	return rc;
}

/* --- restore and keygen ------------------------------------------------------ */

static void restore_usage(FILE *f)
{
	fprintf(f,
		"usage: moat pii restore --key KEYFILE EXPORT [-o OUT]\n\n"
		"Decrypts the values the 'encrypt' operator wrote (<enc:TYPE:...> tokens) in\n"
		"an exported file and prints it (or writes OUT).  Only the holder of the key\n"
		"file can do this; inside a workspace the restore is recorded in its audit\n"
		"trail (counts and digests, never the values).\n");
}

static int cmd_pii_restore(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct moat_err e = MOAT_ERR_INIT;
	const char *keyfile = NULL, *outpath = NULL, *path;
	unsigned char key[32];
	struct buf in = BUF_INIT, out = BUF_INIT;
	size_t restored = 0, failed = 0;
	char in_hex[SHA256_HEX], out_hex[SHA256_HEX];
	int c, rc = 0;
	char *dir;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': keyfile = optarg; break;
		case 'o': outpath = optarg; break;
		case 'h': restore_usage(stdout); return 0;
		default: restore_usage(stderr); return EXIT_USAGE;
		}
	}
	if (!keyfile || optind + 1 != argc) {
		restore_usage(stderr);
		return EXIT_USAGE;
	}
	path = argv[optind];
	if (pii_key_load(keyfile, key, &e) < 0 || fs_read_file(path, &in, 0, &e) < 0) {
		buf_release(&in);
		return cmd_fail(&e);
	}
	if (pii_restore_text(key, buf_str(&in), in.len, &out, &restored, &failed, &e) < 0) {
		buf_release(&in);
		buf_release(&out);
		return cmd_fail(&e);
	}
	memset(key, 0, sizeof(key));
	sha256_hex_mem(in.data ? in.data : "", in.len, in_hex);
	sha256_hex_mem(out.data ? out.data : "", out.len, out_hex);
	if (outpath) {
		if (fs_write_atomic(outpath, out.data ? out.data : "", out.len, 0600, &e) < 0)
			rc = cmd_fail(&e);
	} else if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len) {
		rc = 1;
	}
	fprintf(stderr, "moat: restored %zu encrypted values%s\n", restored,
		failed ? " (some tokens did not decrypt with this key)" : "");
	/* record the restore when run inside a workspace */
	dir = store_find(ctx->workspace_flag, NULL);
	if (dir && rc == 0) {
		struct store *st = store_open(dir, STORE_WRITE | STORE_WAIT, &e);
		if (st) {
			json_t *inputs = json_pack("{s:s, s:s}", "export", path, "export_sha256", in_hex);
			json_t *outputs = json_pack("{s:s}", "restored_sha256", out_hex);
			json_t *counts = json_pack("{s:I, s:I}", "restored", (json_int_t)restored, "failed",
						   (json_int_t)failed);
			ctx->store = st;
			if (store_begin(st, &e) < 0 || cmd_audit_append(ctx, inputs, outputs, counts, NULL) ||
			    store_commit(st, &e) < 0) {
				store_rollback(st);
				rc = 1;
			}
			json_decref(inputs);
			json_decref(outputs);
			json_decref(counts);
		}
	}
	free(dir);
	buf_release(&in);
	buf_release(&out);
	if (rc == 0 && failed)
		rc = 1;
	return rc;
}

static int cmd_pii_keygen(int argc, char **argv)
{
	struct moat_err e = MOAT_ERR_INIT;
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(argc == 2 ? stdout : stderr,
			"usage: moat pii keygen KEYFILE\n\nWrites a new 256-bit key (hex) for the "
			"'encrypt' operator, readable by its owner only.\n");
		return argc == 2 ? 0 : EXIT_USAGE;
	}
	if (keys_secret_generate(argv[1], &e) < 0)  /* refuses an existing file */
		return cmd_fail(&e);
	printf("wrote a new key to %s\n", argv[1]);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: moat pii scan [FILE|-] [--entities LIST] [--language en] [--json]\n"
		   "       moat pii review [--type T] [--json] [--accept IDS] [--reject IDS]\n"
		   "       moat pii restore --key KEYFILE EXPORT\n"
		   "       moat pii keygen KEYFILE\n");
}

int cmd_pii(struct cmd_ctx *ctx)
{
	if (ctx->argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(ctx->argv[1], "scan"))
		return cmd_pii_scan(ctx->argc - 1, ctx->argv + 1);
	if (!strcmp(ctx->argv[1], "review"))
		return cmd_pii_review(ctx, ctx->argc - 1, ctx->argv + 1);
	if (!strcmp(ctx->argv[1], "restore"))
		return cmd_pii_restore(ctx, ctx->argc - 1, ctx->argv + 1);
	if (!strcmp(ctx->argv[1], "keygen"))
		return cmd_pii_keygen(ctx->argc - 1, ctx->argv + 1);
	if (!strcmp(ctx->argv[1], "--help") || !strcmp(ctx->argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "moat: 'pii %s' is not a pii command\n", ctx->argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
