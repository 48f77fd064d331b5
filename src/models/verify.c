/*
 * verify.c - `moat models verify`: checks a bundle after its trip.  Every
 * file named in SHA256SUMS is hashed (files in parallel), split blobs are
 * put back together in the hash (their digest is their name), GGUF blobs get
 * a structural check, every manifest's closure must be in the bundle, files
 * nobody listed are named, and with a trusted key the Ed25519 signature over
 * bundle.json and SHA256SUMS must hold.  Each problem names the file, what
 * was expected and what was found.
 */
#define _GNU_SOURCE
#include "models_int.h"
#include "../core/jsonu.h"
#include "gguf.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"

#include "core/banned.h"

char *bundle_sig_message(const char *json_hex, const char *sums_hex);

struct verify_opts verify_default_opts(void)
{
	struct verify_opts o;
	memset(&o, 0, sizeof(o));
	o.jobs = 1;
	return o;
}

struct sum {
	char hex[65];
	char *rel;
	int claimed;          /* part of a blob or a manifest: checked by that job */
	char got[65];         /* filled by the job */
	int ok;
};

/* One unit of work: a whole blob (all its parts), or one other file. */
struct vjob {
	const char *digest;        /* blob digest, or NULL for a plain file */
	const char *media_type;
	uint64_t size;             /* blob size (0 for plain files) */
	size_t n_files;
	const char **rel;          /* files in order */
	uint64_t *file_size;       /* expected, (uint64_t)-1 unknown */
	struct sum **sums;         /* SHA256SUMS entry of each file, or NULL */
	const char **alt;          /* what bundle.json says the file hashes to, or NULL */
	json_t *problems;          /* owned by the job until merged */
	json_t *warnings;
	uint64_t bytes;
};

struct vctx {
	const struct verify_opts *o;
	struct vjob *jobs;
	size_t n_jobs;
	struct shared_progress sp;
};

static void problem(json_t *arr, const char *path, const char *what, const char *expected,
		    const char *found)
{
	json_t *p = json_pack("{s:o, s:o}", "path", jsonu_string(path), "problem", jsonu_string(what));
	if (expected)
		json_object_set_new(p, "expected", json_string(expected));
	if (found)
		json_object_set_new(p, "found", json_string(found));
	json_array_append_new(arr, p);
}

static int safe_rel(const char *rel)
{
	if (!*rel || rel[0] == '/' || strstr(rel, "//"))
		return 0;
	for (const char *p = rel; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == '\\')
			return 0;
		if ((p == rel || p[-1] == '/') && p[0] == '.' && p[1] == '.' &&
		    (p[2] == '/' || !p[2]))
			return 0;
	}
	return 1;
}

/* Parses SHA256SUMS (coreutils text or binary mode lines). */
static struct sum *parse_sums(const char *text, size_t len, size_t *n, json_t *problems)
{
	struct sum *v = NULL;
	size_t cap = 0, line = 0;
	const char *p = text, *end = text + len;
	*n = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *name;
		char lbuf[32];
		line++;
		snprintf(lbuf, sizeof(lbuf), "line %zu", line);
		if (le > p) {
			int ok = le - p > 66;
			for (int i = 0; ok && i < 64; i++)
				ok = isxdigit((unsigned char)p[i]) != 0;
			ok = ok && p[64] == ' ' && (p[65] == ' ' || p[65] == '*');
			name = p + 66;
			if (!ok) {
				problem(problems, BUNDLE_SUMS, "malformed line", "'<sha256>  <path>'",
					lbuf);
			} else {
				char *rel = strndup(name, (size_t)(le - name));
				if (!rel || !safe_rel(rel)) {
					problem(problems, BUNDLE_SUMS, "unsafe or unreadable path",
						"a relative path inside the bundle", lbuf);
					free(rel);
				} else {
					if (*n == cap) {
						size_t nc = cap ? cap * 2 : 64;
						struct sum *nv = realloc(v, nc * sizeof(*nv));
						if (!nv) {
							free(rel);
							break;
						}
						v = nv;
						cap = nc;
					}
					memset(&v[*n], 0, sizeof(v[*n]));
					for (int i = 0; i < 64; i++)
						v[*n].hex[i] = (char)tolower((unsigned char)p[i]);
					v[*n].rel = rel;
					(*n)++;
				}
			}
		}
		p = nl ? nl + 1 : end;
	}
	return v;
}

static struct sum *find_sum(struct sum *v, size_t n, const char *rel)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].rel, rel))
			return &v[i];
	return NULL;
}

static void run_job(void *arg, size_t idx)
{
	struct vctx *c = arg;
	struct vjob *j = &c->jobs[idx];
	const char *dir = c->o->dir;
	struct sha256 whole;
	int whole_ok = 1, all_present = 1;
	char **paths = calloc(j->n_files + 1, sizeof(*paths));
	j->problems = json_array();
	j->warnings = json_array();
	if (!paths || sha256_init(&whole) < 0) {
		problem(j->problems, j->rel[0], "out of memory", NULL, NULL);
		free(paths);
		return;
	}
	for (size_t k = 0; k < j->n_files; k++) {
		const char *rel = j->rel[k];
		char *p = fs_join(dir, rel);
		struct stat st;
		struct sha256 h;
		unsigned char d[SHA256_LEN];
		uint64_t got = 0;
		struct moat_err e = MOAT_ERR_INIT;
		int fd;
		paths[k] = p;
		if (!p || lstat(p, &st) < 0) {
			char ex[80];
			snprintf(ex, sizeof(ex), "sha256:%s", j->sums[k] ? j->sums[k]->hex : "?");
			problem(j->problems, rel, "missing", ex, "nothing");
			whole_ok = all_present = 0;
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			problem(j->problems, rel, "not a regular file", "a file", "something else");
			whole_ok = all_present = 0;
			continue;
		}
		if (j->file_size[k] != (uint64_t)-1 && (uint64_t)st.st_size != j->file_size[k]) {
			char ex[32], fo[32];
			snprintf(ex, sizeof(ex), "%llu bytes", (unsigned long long)j->file_size[k]);
			snprintf(fo, sizeof(fo), "%llu bytes", (unsigned long long)st.st_size);
			problem(j->problems, rel, (uint64_t)st.st_size < j->file_size[k] ?
				"truncated" : "wrong size", ex, fo);
			whole_ok = 0;
			sp_add(&c->sp, (uint64_t)st.st_size);
			continue;
		}
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || sha256_init(&h) < 0) {
			problem(j->problems, rel, "cannot read", "a readable file", strerror(errno));
			if (fd >= 0)
				close(fd);
			whole_ok = 0;
			continue;
		}
		if (hash_fd_range(fd, p, 0, UINT64_MAX, &h, j->digest ? &whole : NULL, &c->sp, &got,
				  &e) < 0) {
			problem(j->problems, rel, "cannot read", "a readable file", e.msg);
			sha256_release(&h);
			close(fd);
			whole_ok = 0;
			continue;
		}
		close(fd);
		j->bytes += got;
		sha256_final(&h, d);
		if (j->sums[k]) {
			hex_encode(d, SHA256_LEN, j->sums[k]->got);
			j->sums[k]->ok = !strcmp(j->sums[k]->got, j->sums[k]->hex);
			if (!j->sums[k]->ok) {
				char ex[80], fo[80], what[600];
				snprintf(ex, sizeof(ex), "sha256:%s", j->sums[k]->hex);
				snprintf(fo, sizeof(fo), "sha256:%s", j->sums[k]->got);
				if (j->alt && j->alt[k] && !strcasecmp(j->alt[k], j->sums[k]->got)) {
					/* the file is what bundle.json says: the list is wrong */
					snprintf(what, sizeof(what), "wrong checksum line for '%s' (the "
						 "file itself matches bundle.json)", rel);
					problem(j->problems, BUNDLE_SUMS, what, fo, ex);
				} else {
					problem(j->problems, rel, "checksum mismatch (corrupt)", ex, fo);
					whole_ok = 0;
				}
			}
		}
	}
	if (j->digest) {
		unsigned char d[SHA256_LEN];
		char hex[SHA256_HEX], fo[80];
		sha256_final(&whole, d);
		hex_encode(d, SHA256_LEN, hex);
		snprintf(fo, sizeof(fo), "sha256:%s", hex);
		if (whole_ok && strcasecmp(hex, digest_hex(j->digest)))
			problem(j->problems, j->rel[0], j->n_files > 1 ?
				"reassembled blob does not match its digest" :
				"blob does not match its digest", j->digest, fo);
		if (all_present && whole_ok && media_is_gguf(j->media_type)) {
			struct gguf_info g;
			struct moat_err e = MOAT_ERR_INIT;
			if (gguf_open_parts((const char *const *)paths, j->n_files, &g, &e) < 0) {
				problem(j->problems, j->rel[0], "invalid GGUF", "a valid GGUF file",
					e.msg);
			} else {
				if (g.warning[0])
					json_array_append_new(j->warnings, json_pack(
						"{s:s, s:s}", "path", j->rel[0], "warning", g.warning));
				gguf_info_release(&g);
			}
		}
	} else {
		sha256_release(&whole);
	}
	for (size_t k = 0; k < j->n_files; k++)
		free(paths[k]);
	free(paths);
}

/* Files present in the bundle directory that SHA256SUMS does not name. */
static void find_unexpected(const char *dir, const char *sub, struct sum *sums, size_t n,
			    json_t *problems)
{
	char *p = sub ? fs_join(dir, sub) : strdup(dir);
	DIR *d = p ? opendir(p) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char *rel, *full;
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!sub && (!strcmp(de->d_name, BUNDLE_MARK) || !strcmp(de->d_name, BUNDLE_SUMS) ||
			     !strcmp(de->d_name, BUNDLE_SIG)))
			continue;
		rel = sub ? str_printf("%s/%s", sub, de->d_name) : strdup(de->d_name);
		full = rel ? fs_join(dir, rel) : NULL;
		if (full && lstat(full, &st) == 0) {
			/* without SHA256SUMS only the top level can be judged */
			if (S_ISDIR(st.st_mode)) {
				if (sums)
					find_unexpected(dir, rel, sums, n, problems);
			} else if (sums ? !find_sum(sums, n, rel) : strcmp(rel, BUNDLE_JSON) != 0) {
				problem(problems, rel, "unexpected file (not in SHA256SUMS)", "nothing",
					"a file");
			}
		}
		free(rel);
		free(full);
	}
	if (d)
		closedir(d);
	free(p);
}

static int read_small(const char *dir, const char *rel, struct buf *b, struct moat_err *e)
{
	char *p = fs_join(dir, rel);
	int rc = p ? fs_read_file(p, b, 64u << 20, e) : -1;
	free(p);
	return rc;
}

static void check_signature(const struct verify_opts *o, const struct buf *bjson,
			    const struct buf *sums, json_t *res, int *bad)
{
	struct buf sig = BUF_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	json_t *sj = NULL;
	char json_hex[SHA256_HEX], sums_hex[SHA256_HEX], trusted[17] = "";
	const char *sig_b64, *kid;
	char *msg = NULL;
	int v;

	*bad = 0;
	if (read_small(o->dir, BUNDLE_SIG, &sig, &e) < 0) {
		if (o->trust_key) {
			json_object_set_new(res, "signature", json_string("missing"));
			json_object_set_new(res, "signature_problem", json_string(
				"bundle.sig is missing, but --trust asks for a signed bundle"));
			*bad = 1;
		} else {
			json_object_set_new(res, "signature", json_string("absent"));
		}
		buf_release(&sig);
		return;
	}
	sj = json_loadb(sig.data ? sig.data : "", sig.len, 0, NULL);
	buf_release(&sig);
	sig_b64 = json_string_value(json_object_get(sj, "signature"));
	kid = json_string_value(json_object_get(sj, "key_id"));
	if (kid)
		json_object_set_new(res, "signed_by", json_string(kid));
	if (!o->trust_key) {
		json_object_set_new(res, "signature", json_string("not checked (no --trust)"));
		json_decref(sj);
		return;
	}
	if (key_id_of_file(o->trust_key, trusted, &e) < 0) {
		json_object_set_new(res, "signature", json_string("bad"));
		json_object_set_new(res, "signature_problem", json_string(e.msg));
		*bad = 1;
		json_decref(sj);
		return;
	}
	json_object_set_new(res, "trusted_key", json_string(trusted));
	sha256_hex_mem(bjson->data ? bjson->data : "", bjson->len, json_hex);
	sha256_hex_mem(sums->data ? sums->data : "", sums->len, sums_hex);
	msg = bundle_sig_message(json_hex, sums_hex);
	v = msg && sig_b64 ? ed25519_verify_file_key(o->trust_key, msg, strlen(msg), sig_b64, &e) : 0;
	free(msg);
	if (v == 1) {
		json_object_set_new(res, "signature", json_string("valid"));
	} else {
		char why[300];
		if (!sig_b64)
			snprintf(why, sizeof(why), "bundle.sig is damaged (no signature in it)");
		else if (kid && strcmp(kid, trusted))
			snprintf(why, sizeof(why), "signed by key %s, not by the trusted key %s", kid,
				 trusted);
		else
			snprintf(why, sizeof(why), "the signature does not match bundle.json and "
				 "SHA256SUMS (tampered, or made with another key)");
		json_object_set_new(res, "signature", json_string("bad"));
		json_object_set_new(res, "signature_problem", json_string(why));
		*bad = 1;
	}
	json_decref(sj);
}

json_t *models_verify(const struct verify_opts *o, int *status, struct moat_err *e)
{
	struct vctx c;
	struct buf bjson = BUF_INIT, sums_text = BUF_INIT;
	struct sum *sums = NULL;
	size_t n_sums = 0;
	json_t *bj = NULL, *res, *problems, *warnings, *blobs, *models;
	struct moat_err le = MOAT_ERR_INIT;
	uint64_t bytes = 0;
	int badsig = 0;

	memset(&c, 0, sizeof(c));
	c.o = o;
	*status = VERIFY_CORRUPT;
	if (!o->dir || !fs_is_dir(o->dir)) {
		err_set(e, MOAT_ENOTFOUND, "no bundle directory at '%s'", o->dir ? o->dir : "");
		return NULL;
	}
	problems = json_array();
	warnings = json_array();
	res = json_object();

	if (read_small(o->dir, BUNDLE_JSON, &bjson, &le) < 0) {
		problem(problems, BUNDLE_JSON, "missing or unreadable", "the bundle index", le.msg);
	} else {
		json_error_t je;
		bj = json_loadb(bjson.data ? bjson.data : "", bjson.len, 0, &je);
		if (!bj || strcmp(json_string_value(json_object_get(bj, "format")) ?
				  json_string_value(json_object_get(bj, "format")) : "",
				  BUNDLE_FORMAT)) {
			problem(problems, BUNDLE_JSON, "not a moat bundle index", "JSON with "
				"\"format\": \"moat-bundle\"", bj ? "other JSON" : je.text);
			json_decref(bj);
			bj = NULL;
		}
	}
	err_clear(&le);
	if (read_small(o->dir, BUNDLE_SUMS, &sums_text, &le) < 0)
		problem(problems, BUNDLE_SUMS, "missing or unreadable", "the checksum list", le.msg);
	else
		sums = parse_sums(sums_text.data ? sums_text.data : "", sums_text.len, &n_sums,
				  problems);

	/* Jobs: each blob of bundle.json, then every other file of SHA256SUMS. */
	blobs = json_object_get(bj, "blobs");
	models = json_object_get(bj, "models");
	c.jobs = calloc(json_array_size(blobs) + n_sums + 1, sizeof(*c.jobs));
	for (size_t i = 0; c.jobs && i < json_array_size(blobs); i++) {
		json_t *b = json_array_get(blobs, i), *files = json_object_get(b, "files");
		const char *dg = json_string_value(json_object_get(b, "digest"));
		struct vjob *j;
		size_t nf = json_array_size(files);
		int ok = dg && digest_valid(dg) && nf > 0;
		for (size_t k = 0; ok && k < nf; k++) {
			const char *rel = json_string_value(json_object_get(json_array_get(files, k),
									    "path"));
			ok = rel && safe_rel(rel);
		}
		if (!ok) {
			problem(problems, BUNDLE_JSON, "malformed blob entry",
				"digest and files of a blob", NULL);
			continue;
		}
		j = &c.jobs[c.n_jobs++];
		j->digest = dg;
		j->media_type = json_string_value(json_object_get(b, "mediaType"));
		j->size = (uint64_t)json_integer_value(json_object_get(b, "size"));
		j->n_files = nf;
		j->rel = calloc(nf, sizeof(*j->rel));
		j->file_size = calloc(nf, sizeof(*j->file_size));
		j->sums = calloc(nf, sizeof(*j->sums));
		j->alt = calloc(nf, sizeof(*j->alt));
		if (!j->rel || !j->file_size || !j->sums || !j->alt) {
			c.n_jobs--;
			continue;
		}
		for (size_t k = 0; k < nf; k++) {
			json_t *f = json_array_get(files, k);
			json_t *sz = json_object_get(f, "size");
			j->alt[k] = json_string_value(json_object_get(f, "sha256"));
			j->rel[k] = json_string_value(json_object_get(f, "path"));
			j->file_size[k] = json_is_integer(sz) ? (uint64_t)json_integer_value(sz)
							      : (uint64_t)-1;
			j->sums[k] = find_sum(sums, n_sums, j->rel[k]);
			if (!j->sums[k])
				problem(problems, j->rel[k], "not listed in SHA256SUMS",
					"a checksum line", "none");
			else
				j->sums[k]->claimed = 1;
		}
		if (nf == 1)
			j->alt[0] = digest_hex(dg);
	}
	for (size_t i = 0; c.jobs && i < n_sums; i++) {
		struct vjob *j;
		if (sums[i].claimed)
			continue;
		j = &c.jobs[c.n_jobs++];
		j->n_files = 1;
		j->rel = calloc(1, sizeof(*j->rel));
		j->file_size = calloc(1, sizeof(*j->file_size));
		j->sums = calloc(1, sizeof(*j->sums));
		j->alt = calloc(1, sizeof(*j->alt));
		if (!j->rel || !j->file_size || !j->sums || !j->alt) {
			c.n_jobs--;
			continue;
		}
		for (size_t k = 0; k < json_array_size(models); k++) {
			json_t *mj = json_array_get(models, k);
			const char *mrel = json_string_value(json_object_get(mj, "manifest"));
			if (mrel && !strcmp(mrel, sums[i].rel))
				j->alt[0] = json_string_value(json_object_get(mj, "id"));
		}
		j->rel[0] = sums[i].rel;
		j->file_size[0] = (uint64_t)-1;
		j->sums[0] = &sums[i];
	}
	{
		uint64_t total = 0;
		for (size_t i = 0; i < c.n_jobs; i++) {
			for (size_t k = 0; k < c.jobs[i].n_files; k++) {
				struct stat st;
				char *p = fs_join(o->dir, c.jobs[i].rel[k]);
				if (p && stat(p, &st) == 0)
					total += (uint64_t)st.st_size;
				free(p);
			}
		}
		sp_init(&c.sp, o->progress, o->progress_arg, total);
	}
	pool_run(o->jobs > 0 ? o->jobs : 1, c.n_jobs, run_job, &c);
	sp_finish(&c.sp);
	for (size_t i = 0; i < c.n_jobs; i++) {
		json_array_extend(problems, c.jobs[i].problems);
		json_array_extend(warnings, c.jobs[i].warnings);
		json_decref(c.jobs[i].problems);
		json_decref(c.jobs[i].warnings);
		bytes += c.jobs[i].bytes;
	}

	/* Each model: its manifest checked above; its closure in the bundle. */
	for (size_t i = 0; i < json_array_size(models); i++) {
		json_t *mj = json_array_get(models, i);
		const char *rel = json_string_value(json_object_get(mj, "manifest"));
		const char *name = json_string_value(json_object_get(mj, "name"));
		const char *id = json_string_value(json_object_get(mj, "id"));
		struct buf raw = BUF_INIT;
		struct manifest m;
		struct moat_err me = MOAT_ERR_INIT;
		struct sum *s;
		if (!rel || !safe_rel(rel) || !name) {
			problem(problems, BUNDLE_JSON, "malformed model entry", "name and manifest",
				NULL);
			continue;
		}
		s = find_sum(sums, n_sums, rel);
		if (!s) {
			problem(problems, rel, "manifest not listed in SHA256SUMS", "a checksum line",
				"none");
			continue;
		}
		if (!s->ok)
			continue;  /* already named as missing or corrupt */
		if (read_small(o->dir, rel, &raw, &me) < 0 ||
		    manifest_parse(raw.data ? raw.data : "", raw.len, &m, &me) < 0) {
			problem(problems, rel, "unreadable manifest", "an Ollama manifest", me.msg);
			buf_release(&raw);
			continue;
		}
		buf_release(&raw);
		if (id && strcmp(id, m.id))
			problem(problems, rel, "manifest is not the one bundle.json describes", id,
				m.id);
		for (size_t k = 0; k <= m.n_layers; k++) {
			const struct model_layer *l = k == 0 ? &m.config : &m.layers[k - 1];
			int found = 0;
			for (size_t b = 0; b < json_array_size(blobs) && !found; b++) {
				const char *dg = json_string_value(json_object_get(
					json_array_get(blobs, b), "digest"));
				found = dg && !strcasecmp(dg, l->digest);
			}
			if (!found) {
				char ex[200];
				snprintf(ex, sizeof(ex), "the %s blob of %s", media_short(l->media_type),
					 name);
				problem(problems, rel, "references a blob the bundle does not carry", ex,
					l->digest);
			}
		}
		manifest_release(&m);
	}
	find_unexpected(o->dir, NULL, sums, n_sums, problems);

	if (bj && sums_text.data)
		check_signature(o, &bjson, &sums_text, res, &badsig);
	else
		json_object_set_new(res, "signature", json_string(o->trust_key ? "unchecked (bundle "
								  "damaged)" : "absent"));
	if (!bj && o->trust_key)
		badsig = 1;

	*status = json_array_size(problems) ? VERIFY_CORRUPT : badsig ? VERIFY_BADSIG : VERIFY_OK;
	json_object_set_new(res, "ok", json_boolean(*status == VERIFY_OK));
	json_object_set_new(res, "status", json_string(*status == VERIFY_OK ? "ok" :
						       *status == VERIFY_CORRUPT ? "corrupt"
										 : "bad-signature"));
	json_object_set_new(res, "files", json_integer((json_int_t)n_sums));
	json_object_set_new(res, "bytes", json_integer((json_int_t)bytes));
	{
		json_t *names = json_array();
		for (size_t i = 0; i < json_array_size(models); i++)
			json_array_append(names, json_object_get(json_array_get(models, i), "name"));
		json_object_set_new(res, "models", names);
	}
	json_object_set_new(res, "problems", problems);
	json_object_set_new(res, "warnings", warnings);

	for (size_t i = 0; i < c.n_jobs; i++) {
		free(c.jobs[i].rel);
		free(c.jobs[i].file_size);
		free(c.jobs[i].sums);
		free(c.jobs[i].alt);
	}
	free(c.jobs);
	for (size_t i = 0; i < n_sums; i++)
		free(sums[i].rel);
	free(sums);
	json_decref(bj);
	buf_release(&bjson);
	buf_release(&sums_text);
	return res;
}
