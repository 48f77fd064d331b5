/*
 * verify.c - `moat models verify`: checks a bundle after its trip.  Every
 * file named in SHA256SUMS is hashed (files in parallel), split blobs are
 * put back together in the hash (their digest is their name), GGUF blobs get
 * a structural check, every manifest's closure must be in the bundle, files
 * nobody listed are named, and with a trusted key the Ed25519 signature over
 * bundle.json and SHA256SUMS must hold.  Each problem names the file, what
 * was expected and what was found.  Running out of memory is an error of the
 * run, never a problem of the bundle, and never a problem left unreported.
 *
 * Not for: making bundles (bundle.c) or installing them (install.c, which
 * calls this first).
 */
#define _GNU_SOURCE
#include "models_int.h"
#include "../core/jsonu.h"
#include "gguf.h"

#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/pool.h"

#include "core/banned.h"

struct verify_opts verify_default_opts(void)
{
	return (struct verify_opts){ .jobs = 1 };
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
	int bad;                   /* out of memory: a finding may be lost */
};

struct vctx {
	const struct verify_opts *o;
	struct vjob *jobs;
	size_t n_jobs;
	struct models_progress sp;
};

/* Appends {path, problem, expected?, found?} to arr. */
static void problem(json_t *arr, const char *path, const char *what, const char *expected,
		    const char *found, int *bad)
{
	json_t *p = json_object();
	models_jset(p, "path", jsonu_string(path), bad);
	models_jset(p, "problem", jsonu_string(what), bad);
	if (expected)
		models_jset(p, "expected", jsonu_string(expected), bad);
	if (found)
		models_jset(p, "found", jsonu_string(found), bad);
	models_jadd(arr, p, bad);
}

/* A formatted value for a problem (malloc'd), or NULL with *bad set. */
static char *fmt(int *bad, const char *f, ...) __attribute__((format(printf, 2, 3)));
static char *fmt(int *bad, const char *f, ...)
{
	va_list ap;
	char *s;
	int n;
	va_start(ap, f);
	n = vasprintf(&s, f, ap);
	va_end(ap);
	if (n < 0) {
		*bad = 1;
		return NULL;
	}
	return s;
}

/* "sha256:<hex>" of a 64-digit hex digest (or of "?"). */
static void sha_ref(const char *hex, char out[72])
{
	size_t n = strnlen(hex, 64);
	memcpy(out, "sha256:", 7);
	memcpy(out + 7, hex, n);
	out[7 + n] = '\0';
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

/* Parses SHA256SUMS (coreutils text or binary mode lines); lines that are not
 * such lines are problems. */
static struct sum *parse_sums(const char *text, size_t len, size_t *n, json_t *problems,
			      int *bad)
{
	struct sum *v = NULL;
	size_t cap = 0, line = 0;
	const char *p = text, *end = text + len;
	*n = 0;
	while (p < end && !*bad) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *name = p + 66;
		char *lbuf, *rel = NULL;
		int ok = le - p > 66;
		line++;
		for (int i = 0; ok && i < 64; i++)
			ok = isxdigit((unsigned char)p[i]) != 0;
		ok = ok && p[64] == ' ' && (p[65] == ' ' || p[65] == '*');
		if (le == p) {
			/* an empty line */
		} else if (!ok || !(rel = strndup(name, (size_t)(le - name))) || !safe_rel(rel)) {
			if (ok && !rel) {
				*bad = 1;
				break;
			}
			lbuf = fmt(bad, "line %zu", line);
			if (!ok)
				problem(problems, BUNDLE_SUMS, "malformed line", "'<sha256>  <path>'",
					lbuf, bad);
			else
				problem(problems, BUNDLE_SUMS, "unsafe or unreadable path",
					"a relative path inside the bundle", lbuf, bad);
			free(lbuf);
			free(rel);
		} else {
			if (*n == cap) {
				size_t nc = cap ? cap * 2 : 64;
				struct sum *nv = realloc(v, nc * sizeof(*nv));
				if (!nv) {
					free(rel);
					*bad = 1;
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

/* Hashes file k of a job, checking it against its line in SHA256SUMS; the
 * bytes go into whole too when it is not NULL (a blob in parts), and the
 * file's digest into d (a blob in one file is its own whole: hashed once).
 * Returns 1 when the file was read whole and matched (or has no line), else
 * 0; *present says it was there. */
static int check_file(struct vctx *c, struct vjob *j, size_t k, const char *path,
		      struct sha256 *whole, unsigned char d[SHA256_LEN], int *present)
{
	const char *rel = j->rel[k];
	struct stat st;
	struct sha256 h;
	uint64_t got = 0;
	struct moat_err e = MOAT_ERR_INIT;
	char ex[72], fo[72];
	int fd;
	*present = 0;
	if (lstat(path, &st) < 0) {
		sha_ref(j->sums[k] ? j->sums[k]->hex : "?", ex);
		problem(j->problems, rel, "missing", ex, "nothing", &j->bad);
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		problem(j->problems, rel, "not a regular file", "a file", "something else", &j->bad);
		return 0;
	}
	*present = 1;
	if (j->file_size[k] != (uint64_t)-1 && (uint64_t)st.st_size != j->file_size[k]) {
		char *exs = fmt(&j->bad, "%llu bytes", (unsigned long long)j->file_size[k]);
		char *fos = fmt(&j->bad, "%llu bytes", (unsigned long long)st.st_size);
		problem(j->problems, rel, (uint64_t)st.st_size < j->file_size[k] ?
			"truncated" : "wrong size", exs, fos, &j->bad);
		free(exs);
		free(fos);
		models_progress_add(&c->sp, (uint64_t)st.st_size);
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		problem(j->problems, rel, "cannot read", "a readable file", strerror(errno), &j->bad);
		return 0;
	}
	if (sha256_init(&h) < 0) {
		close(fd);
		j->bad = 1;
		return 0;
	}
	if (models_hash_fd(fd, path, 0, UINT64_MAX, &h, whole, &c->sp, &got, &e) < 0) {
		if (e.code == MOAT_ENOMEM)
			j->bad = 1;
		else
			problem(j->problems, rel, "cannot read", "a readable file", e.msg, &j->bad);
		sha256_release(&h);
		close(fd);
		return 0;
	}
	close(fd);
	j->bytes += got;
	sha256_final(&h, d);
	if (!j->sums[k])
		return 1;
	hex_encode(d, SHA256_LEN, j->sums[k]->got);
	j->sums[k]->ok = !strcmp(j->sums[k]->got, j->sums[k]->hex);
	if (j->sums[k]->ok)
		return 1;
	sha_ref(j->sums[k]->hex, ex);
	sha_ref(j->sums[k]->got, fo);
	if (j->alt && j->alt[k] && !strcasecmp(j->alt[k], j->sums[k]->got)) {
		/* the file is what bundle.json says: the list is wrong */
		char *what = fmt(&j->bad, "wrong checksum line for '%s' (the file itself "
				 "matches bundle.json)", rel);
		problem(j->problems, BUNDLE_SUMS, what, fo, ex, &j->bad);
		free(what);
		return 1;
	}
	problem(j->problems, rel, "checksum mismatch (corrupt)", ex, fo, &j->bad);
	return 0;
}

/* A pool job: one blob (its parts reassembled in the hash, then its GGUF
 * structure) or one other file.  Fails only when out of memory. */
static int run_job(void *arg, int worker, size_t idx, struct moat_err *e)
{
	struct vctx *c = arg;
	struct vjob *j = &c->jobs[idx];
	struct sha256 whole = { NULL };
	unsigned char d[SHA256_LEN];
	/* a blob in one file: its file's digest is the blob's, one pass */
	int parts = j->digest && j->n_files > 1, whole_ok = 1, all_present = 1;
	char **paths = calloc(j->n_files + 1, sizeof(*paths));
	(void)worker;
	memset(d, 0, sizeof(d));
	j->problems = json_array();
	j->warnings = json_array();
	if (!paths || !j->problems || !j->warnings || (parts && sha256_init(&whole) < 0))
		j->bad = 1;
	for (size_t k = 0; k < j->n_files && !j->bad; k++) {
		int present;
		if (!(paths[k] = fs_join(c->o->dir, j->rel[k]))) {
			j->bad = 1;
			break;
		}
		if (!check_file(c, j, k, paths[k], parts ? &whole : NULL, d, &present))
			whole_ok = 0;
		if (!present)
			all_present = 0;
	}
	if (j->digest && !j->bad) {
		char hex[SHA256_HEX], fo[72];
		if (parts)
			sha256_final(&whole, d);
		hex_encode(d, SHA256_LEN, hex);
		sha_ref(hex, fo);
		if (whole_ok && strcasecmp(hex, models_digest_hex(j->digest)))
			problem(j->problems, j->rel[0], j->n_files > 1 ?
				"reassembled blob does not match its digest" :
				"blob does not match its digest", j->digest, fo, &j->bad);
		if (all_present && whole_ok && models_media_is_gguf(j->media_type)) {
			struct gguf_info g;
			struct moat_err ge = MOAT_ERR_INIT;
			if (gguf_open_parts((const char *const *)paths, j->n_files, &g, &ge) < 0) {
				if (ge.code == MOAT_ENOMEM)
					j->bad = 1;
				else
					problem(j->problems, j->rel[0], "invalid GGUF",
						"a valid GGUF file", ge.msg, &j->bad);
			} else {
				if (g.warning[0])
					models_jadd(j->warnings, json_pack(
						"{s:o, s:s}", "path", jsonu_string(j->rel[0]),
						"warning", g.warning), &j->bad);
				gguf_info_release(&g);
			}
		}
	} else {
		sha256_release(&whole);
	}
	for (size_t k = 0; paths && k < j->n_files; k++)
		free(paths[k]);
	free(paths);
	return j->bad ? err_set(e, MOAT_ENOMEM, "out of memory") : 0;
}

/* Files present in the bundle directory that SHA256SUMS does not name. */
static void find_unexpected(const char *dir, const char *sub, struct sum *sums, size_t n,
			    json_t *problems, int *bad)
{
	char *p = sub ? fs_join(dir, sub) : strdup(dir);
	DIR *d = p ? opendir(p) : NULL;
	struct dirent *de;
	if (!p)
		*bad = 1;
	while (d && !*bad && (de = readdir(d))) {
		char *rel, *full;
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!sub && (!strcmp(de->d_name, BUNDLE_MARK) || !strcmp(de->d_name, BUNDLE_SUMS) ||
			     !strcmp(de->d_name, BUNDLE_SIG)))
			continue;
		rel = sub ? fmt(bad, "%s/%s", sub, de->d_name) : strdup(de->d_name);
		full = rel ? fs_join(dir, rel) : NULL;
		if (!full)
			*bad = 1;
		if (full && lstat(full, &st) == 0) {
			/* without SHA256SUMS only the top level can be judged */
			if (S_ISDIR(st.st_mode)) {
				if (sums)
					find_unexpected(dir, rel, sums, n, problems, bad);
			} else if (sums ? !find_sum(sums, n, rel) : strcmp(rel, BUNDLE_JSON) != 0) {
				problem(problems, rel, "unexpected file (not in SHA256SUMS)", "nothing",
					"a file", bad);
			}
		}
		free(rel);
		free(full);
	}
	if (d)
		closedir(d);
	free(p);
}

/* Reads one of the bundle's small files, refusing a symlink (as blobs are
 * refused: a link could make a bundle out of any file of the target). */
static int read_small(const char *dir, const char *rel, struct buf *b, struct moat_err *e)
{
	char *p = fs_join(dir, rel);
	int fd, rc;
	if (!p)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	fd = open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == ELOOP)
		rc = err_set(e, MOAT_ECORRUPT, "'%s' is a symlink (refused, as every link in a "
			     "bundle)", p);
	else if (fd < 0)
		rc = err_set(e, MOAT_EIO, "cannot open '%s': %s", p, strerror(errno));
	else
		rc = fs_read_fd(fd, p, b, 64u << 20, e);
	free(p);
	return rc;
}

int models_bundle_entry_check(json_t *mj, struct model_name *n, struct moat_err *e)
{
	const char *rel = json_string_value(json_object_get(mj, "store_path"));
	const char *manifest = json_string_value(json_object_get(mj, "manifest"));
	const char *name = json_string_value(json_object_get(mj, "name"));
	char *want_manifest, *want_name;
	int ok;
	if (!rel || model_name_from_relpath(rel, n, NULL) < 0)
		return err_set(e, MOAT_ECORRUPT, "bundle.json names an invalid store path '%s'",
			       rel ? rel : "");
	want_manifest = models_bundle_manifest_rel(rel);
	want_name = model_name_display(n);
	if (!want_manifest || !want_name) {
		free(want_manifest);
		free(want_name);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	ok = manifest && name && !strcmp(manifest, want_manifest) && !strcmp(name, want_name);
	free(want_manifest);
	free(want_name);
	if (!ok)
		return err_set(e, MOAT_ECORRUPT, "bundle.json's entry for the store path '%s' "
			       "names another manifest or model ('%s')", rel, name ? name : "");
	return 0;
}

/* The signature fields of the result; *badsig when --trust is not met. */
static void check_signature(const struct verify_opts *o, const struct buf *bjson,
			    const struct buf *sums, json_t *res, int *badsig, int *bad)
{
	struct buf sig = BUF_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	json_error_t je;
	json_t *sj = NULL;
	char json_hex[SHA256_HEX], sums_hex[SHA256_HEX], trusted[17] = "";
	const char *sig_b64, *kid;
	char *msg = NULL, *why = NULL;
	int v;

	*badsig = 0;
	if (read_small(o->dir, BUNDLE_SIG, &sig, &e) < 0) {
		if (e.code == MOAT_ENOMEM) {
			*bad = 1;
		} else if (o->trust_key) {
			models_jset(res, "signature", json_string("missing"), bad);
			models_jset(res, "signature_problem", json_string(
				"bundle.sig is missing, but --trust asks for a signed bundle"), bad);
			*badsig = 1;
		} else {
			models_jset(res, "signature", json_string("absent"), bad);
		}
		buf_release(&sig);
		return;
	}
	sj = json_loadb(sig.data ? sig.data : "", sig.len, 0, &je);
	buf_release(&sig);
	if (!sj && models_json_oom(&je)) {
		*bad = 1;
		return;
	}
	sig_b64 = json_string_value(json_object_get(sj, "signature"));
	kid = json_string_value(json_object_get(sj, "key_id"));
	if (kid)
		models_jset(res, "signed_by", jsonu_string(kid), bad);
	if (!o->trust_key) {
		models_jset(res, "signature", json_string("not checked (no --trust)"), bad);
		json_decref(sj);
		return;
	}
	if (models_key_id_file(o->trust_key, trusted, &e) < 0) {
		if (e.code == MOAT_ENOMEM)
			*bad = 1;
		models_jset(res, "signature", json_string("bad"), bad);
		models_jset(res, "signature_problem", jsonu_string(e.msg), bad);
		*badsig = 1;
		json_decref(sj);
		return;
	}
	models_jset(res, "trusted_key", json_string(trusted), bad);
	sha256_hex_mem(bjson->data ? bjson->data : "", bjson->len, json_hex);
	sha256_hex_mem(sums->data ? sums->data : "", sums->len, sums_hex);
	msg = models_bundle_sig_message(json_hex, sums_hex);
	if (!msg)
		*bad = 1;
	v = msg && sig_b64 ? models_verify_signature(o->trust_key, msg, strlen(msg), sig_b64, &e)
			   : 0;
	free(msg);
	if (v < 0 && e.code == MOAT_ENOMEM)
		*bad = 1;
	if (v == 1) {
		models_jset(res, "signature", json_string("valid"), bad);
	} else {
		if (!sig_b64)
			why = fmt(bad, "bundle.sig is damaged (no signature in it)");
		else if (kid && strcmp(kid, trusted))
			why = fmt(bad, "signed by key %s, not by the trusted key %s", kid, trusted);
		else
			why = fmt(bad, "the signature does not match bundle.json and SHA256SUMS "
				  "(tampered, or made with another key)");
		models_jset(res, "signature", json_string("bad"), bad);
		models_jset(res, "signature_problem", jsonu_string(why), bad);
		free(why);
		*badsig = 1;
	}
	json_decref(sj);
}

/* Reads and parses bundle.json; a missing or foreign one is a problem. */
static json_t *load_index(const struct verify_opts *o, struct buf *bjson, json_t *problems,
			  int *bad)
{
	struct moat_err le = MOAT_ERR_INIT;
	json_error_t je;
	json_t *bj;
	const char *format;
	if (read_small(o->dir, BUNDLE_JSON, bjson, &le) < 0) {
		if (le.code == MOAT_ENOMEM)
			*bad = 1;
		else
			problem(problems, BUNDLE_JSON, "missing or unreadable", "the bundle index",
				le.msg, bad);
		return NULL;
	}
	bj = json_loadb(bjson->data ? bjson->data : "", bjson->len, 0, &je);
	if (!bj && models_json_oom(&je)) {
		*bad = 1;
		return NULL;
	}
	format = json_string_value(json_object_get(bj, "format"));
	if (!bj || strcmp(format ? format : "", BUNDLE_FORMAT)) {
		problem(problems, BUNDLE_JSON, "not a moat bundle index", "JSON with "
			"\"format\": \"moat-bundle\"", bj ? "other JSON" : je.text, bad);
		json_decref(bj);
		return NULL;
	}
	return bj;
}

/* The job arrays of j for nf files; -1 when out of memory. */
static int job_alloc(struct vjob *j, size_t nf)
{
	j->n_files = nf;
	j->rel = calloc(nf, sizeof(*j->rel));
	j->file_size = calloc(nf, sizeof(*j->file_size));
	j->sums = calloc(nf, sizeof(*j->sums));
	j->alt = calloc(nf, sizeof(*j->alt));
	return j->rel && j->file_size && j->sums && j->alt ? 0 : -1;
}

/* The jobs: each blob of bundle.json, then every other file of SHA256SUMS. */
static int plan_jobs(struct vctx *c, json_t *blobs, json_t *models, struct sum *sums,
		     size_t n_sums, json_t *problems, int *bad)
{
	c->jobs = calloc(json_array_size(blobs) + n_sums + 1, sizeof(*c->jobs));
	if (!c->jobs)
		return -1;
	for (size_t i = 0; i < json_array_size(blobs); i++) {
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
				"digest and files of a blob", NULL, bad);
			continue;
		}
		j = &c->jobs[c->n_jobs++];
		j->digest = dg;
		j->media_type = json_string_value(json_object_get(b, "mediaType"));
		j->size = (uint64_t)json_integer_value(json_object_get(b, "size"));
		if (job_alloc(j, nf) < 0)
			return -1;
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
					"a checksum line", "none", bad);
			else
				j->sums[k]->claimed = 1;
		}
		if (nf == 1)
			j->alt[0] = models_digest_hex(dg);
	}
	for (size_t i = 0; i < n_sums; i++) {
		struct vjob *j;
		if (sums[i].claimed)
			continue;
		j = &c->jobs[c->n_jobs++];
		if (job_alloc(j, 1) < 0)
			return -1;
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
	return 0;
}

/* Each model: its manifest was checked by a job; its closure must be in the
 * bundle. */
static void check_models(const struct verify_opts *o, json_t *models, json_t *blobs,
			 struct sum *sums, size_t n_sums, struct models_verified *kept,
			 json_t *problems, int *bad)
{
	for (size_t i = 0; i < json_array_size(models) && !*bad; i++) {
		json_t *mj = json_array_get(models, i);
		const char *rel = json_string_value(json_object_get(mj, "manifest"));
		const char *name = json_string_value(json_object_get(mj, "name"));
		const char *id = json_string_value(json_object_get(mj, "id"));
		struct buf raw = BUF_INIT;
		struct manifest m;
		struct model_name nm;
		struct moat_err me = MOAT_ERR_INIT;
		struct sum *s;
		char hex[SHA256_HEX], ex[72], fo[72];
		if (!rel || !safe_rel(rel) || !name) {
			problem(problems, BUNDLE_JSON, "malformed model entry", "name and manifest",
				NULL, bad);
			continue;
		}
		if (models_bundle_entry_check(mj, &nm, &me) < 0) {
			/* what install would refuse, refused here */
			if (me.code == MOAT_ENOMEM)
				*bad = 1;
			else
				problem(problems, BUNDLE_JSON, me.msg, "a name that is its store "
					"path's, a store path of four names", name, bad);
			continue;
		}
		s = find_sum(sums, n_sums, rel);
		if (!s) {
			problem(problems, rel, "manifest not listed in SHA256SUMS", "a checksum line",
				"none", bad);
			continue;
		}
		if (!s->ok)
			continue;  /* already named as missing or corrupt */
		if (read_small(o->dir, rel, &raw, &me) < 0 ||
		    manifest_parse(raw.data ? raw.data : "", raw.len, &m, &me) < 0) {
			if (me.code == MOAT_ENOMEM)
				*bad = 1;
			else
				problem(problems, rel, "unreadable manifest", "an Ollama manifest",
					me.msg, bad);
			buf_release(&raw);
			continue;
		}
		sha256_hex_mem(raw.data ? raw.data : "", raw.len, hex);
		if (strcmp(hex, s->hex)) {
			sha_ref(s->hex, ex);
			sha_ref(hex, fo);
			problem(problems, rel, "changed between two reads (unreliable media)", ex, fo,
				bad);
		} else if (id && strcmp(id, m.id)) {
			problem(problems, rel, "manifest is not the one bundle.json describes", id,
				m.id, bad);
		} else if (kept && i < kept->n) {
			buf_add(&kept->manifest[i], raw.data, raw.len);
			if (buf_failed(&kept->manifest[i]))
				*bad = 1;
		}
		buf_release(&raw);
		for (size_t k = 0; k <= m.n_layers; k++) {
			const struct model_layer *l = k == 0 ? &m.config : &m.layers[k - 1];
			int found = 0;
			for (size_t b = 0; b < json_array_size(blobs) && !found; b++) {
				const char *dg = json_string_value(json_object_get(
					json_array_get(blobs, b), "digest"));
				found = dg && !strcasecmp(dg, l->digest);
			}
			if (!found) {
				char *want = fmt(bad, "the %s blob of %s",
						 models_media_short(l->media_type), name);
				problem(problems, rel, "references a blob the bundle does not carry",
					want, l->digest, bad);
				free(want);
			}
		}
		manifest_release(&m);
	}
}

/* bundle.json was hashed by its job and parsed from another read: the two
 * must be the same bytes, or what was checked is not what is used. */
static void check_index_read(const struct buf *bjson, struct sum *sums, size_t n_sums,
			     json_t *problems, int *bad)
{
	struct sum *s = find_sum(sums, n_sums, BUNDLE_JSON);
	char hex[SHA256_HEX], ex[72], fo[72];
	if (!s || !s->ok || !bjson->len)
		return;
	sha256_hex_mem(bjson->data, bjson->len, hex);
	if (strcmp(hex, s->hex)) {
		sha_ref(s->hex, ex);
		sha_ref(hex, fo);
		problem(problems, BUNDLE_JSON, "changed between two reads (unreliable media)", ex, fo,
			bad);
	}
}

static json_t *verify_run(const struct verify_opts *o, int *status, struct models_verified *kept,
			  struct moat_err *e)
{
	struct vctx c;
	struct buf bjson = BUF_INIT, sums_text = BUF_INIT;
	struct sum *sums = NULL;
	size_t n_sums = 0;
	json_t *bj, *res = NULL, *problems, *warnings, *blobs, *models, *names;
	struct moat_err le = MOAT_ERR_INIT;
	uint64_t bytes = 0, total = 0;
	int badsig = 0, bad = 0, rc;

	memset(&c, 0, sizeof(c));
	c.o = o;
	*status = VERIFY_CORRUPT;
	if (!o->dir || !fs_is_dir(o->dir)) {
		err_set(e, MOAT_ENOTFOUND, "no bundle directory at '%s'", o->dir ? o->dir : "");
		return NULL;
	}
	problems = json_array();
	warnings = json_array();
	names = json_array();
	res = json_object();
	bad = !problems || !warnings || !names || !res;

	bj = bad ? NULL : load_index(o, &bjson, problems, &bad);
	if (!bad && read_small(o->dir, BUNDLE_SUMS, &sums_text, &le) < 0) {
		if (le.code == MOAT_ENOMEM)
			bad = 1;
		else
			problem(problems, BUNDLE_SUMS, "missing or unreadable", "the checksum list",
				le.msg, &bad);
	} else if (!bad) {
		sums = parse_sums(sums_text.data ? sums_text.data : "", sums_text.len, &n_sums,
				  problems, &bad);
	}

	blobs = json_object_get(bj, "blobs");
	models = json_object_get(bj, "models");
	if (!bad && plan_jobs(&c, blobs, models, sums, n_sums, problems, &bad) < 0)
		bad = 1;
	if (bad)
		goto nomem;
	for (size_t i = 0; i < c.n_jobs; i++) {
		for (size_t k = 0; k < c.jobs[i].n_files; k++) {
			struct stat st;
			char *p = fs_join(o->dir, c.jobs[i].rel[k]);
			if (p && stat(p, &st) == 0)
				total += (uint64_t)st.st_size;
			free(p);
		}
	}
	models_progress_init(&c.sp, o->progress, o->progress_arg, total);
	rc = pool_for(o->jobs > 0 ? o->jobs : 1, c.n_jobs, run_job, &c, e);
	models_progress_finish(&c.sp);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < c.n_jobs; i++) {
		if (json_array_extend(problems, c.jobs[i].problems) < 0 ||
		    json_array_extend(warnings, c.jobs[i].warnings) < 0)
			bad = 1;
		bytes += c.jobs[i].bytes;
	}

	if (kept && json_array_size(models)) {
		if (!(kept->manifest = calloc(json_array_size(models), sizeof(*kept->manifest))))
			goto nomem;
		kept->n = json_array_size(models);
		for (size_t i = 0; i < kept->n; i++)
			buf_init(&kept->manifest[i], MANIFEST_MAX_BYTES);
	}
	check_models(o, models, blobs, sums, n_sums, kept, problems, &bad);
	check_index_read(&bjson, sums, n_sums, problems, &bad);
	find_unexpected(o->dir, NULL, sums, n_sums, problems, &bad);

	if (bj && sums_text.data)
		check_signature(o, &bjson, &sums_text, res, &badsig, &bad);
	else
		models_jset(res, "signature", json_string(o->trust_key ? "unchecked (bundle "
							  "damaged)" : "absent"), &bad);
	if (!bj && o->trust_key)
		badsig = 1;

	*status = json_array_size(problems) ? VERIFY_CORRUPT : badsig ? VERIFY_BADSIG : VERIFY_OK;
	models_jset(res, "ok", json_boolean(*status == VERIFY_OK), &bad);
	models_jset(res, "status", json_string(*status == VERIFY_OK ? "ok" :
					       *status == VERIFY_CORRUPT ? "corrupt"
									 : "bad-signature"), &bad);
	models_jset(res, "files", json_integer((json_int_t)n_sums), &bad);
	models_jset(res, "bytes", json_integer((json_int_t)bytes), &bad);
	for (size_t i = 0; i < json_array_size(models); i++)
		if (json_array_append(names, json_object_get(json_array_get(models, i), "name")) < 0)
			bad = 1;
	models_jset(res, "models", json_incref(names), &bad);
	models_jset(res, "problems", json_incref(problems), &bad);
	models_jset(res, "warnings", json_incref(warnings), &bad);
	if (kept && *status == VERIFY_OK)
		kept->index = json_incref(bj);
	if (!bad)
		goto out;
nomem:
	err_set(e, MOAT_ENOMEM, "out of memory");
fail:
	json_decref(res);
	res = NULL;
out:
	for (size_t i = 0; i < c.n_jobs; i++) {
		json_decref(c.jobs[i].problems);
		json_decref(c.jobs[i].warnings);
		free(c.jobs[i].rel);
		free(c.jobs[i].file_size);
		free(c.jobs[i].sums);
		free(c.jobs[i].alt);
	}
	free(c.jobs);
	for (size_t i = 0; i < n_sums; i++)
		free(sums[i].rel);
	free(sums);
	json_decref(names);
	json_decref(problems);
	json_decref(warnings);
	json_decref(bj);
	buf_release(&bjson);
	buf_release(&sums_text);
	return res;
}

json_t *models_verify(const struct verify_opts *o, int *status, struct moat_err *e)
{
	return verify_run(o, status, NULL, e);
}

json_t *models_verify_keep(const struct verify_opts *o, int *status, struct models_verified *kept,
			   struct moat_err *e)
{
	return verify_run(o, status, kept, e);
}

void models_verified_release(struct models_verified *v)
{
	json_decref(v->index);
	for (size_t i = 0; i < v->n; i++)
		buf_release(&v->manifest[i]);
	free(v->manifest);
	v->index = NULL;
	v->manifest = NULL;
	v->n = 0;
}
