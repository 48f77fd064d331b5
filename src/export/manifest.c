/*
 * manifest.c - writing and checking an export's MANIFEST (see manifest.h):
 * a walk of the directory that sees links and special files without
 * following them, the files hashed in parallel, and sha256sum's line format
 * with its escapes.
 *
 * Not for: what the files hold.  Uses core/ (err, hash, buf, fs, pool) and
 * libc.
 */
#include "manifest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/buf.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "../core/pool.h"

#include "../core/banned.h"

#define MANIFEST_MAX_BYTES ((size_t)1 << 30)
#define MANIFEST_MAX_DEPTH 64

const char *manifest_problem_str(enum manifest_problem p)
{
	switch (p) {
	case MANIFEST_DIFFERS:
		return "differs from MANIFEST";
	case MANIFEST_MISSING:
		return "listed in MANIFEST but missing";
	case MANIFEST_UNLISTED:
		return "not listed in MANIFEST";
	case MANIFEST_NOT_FILE:
		return "not a regular file (a link or a special file)";
	}
	return "unknown problem";
}

/* --- the walk -------------------------------------------------------------- */

struct names {
	char **v;
	size_t n, cap;
};

static void names_release(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* Takes ownership of s (frees it on failure). */
static int names_add(struct names *l, char *s)
{
	if (!s)
		return -1;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			free(s);
			return -1;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = s;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file under root/rel into files, every link or special file
 * into other (relative paths); MANIFEST at the top is left out. */
static int walk(const char *root, const char *rel, int depth, struct names *files,
		struct names *other, struct moat_err *e)
{
	char *path = *rel ? fs_join(root, rel) : strdup(root);
	DIR *d;
	struct dirent *de;
	int rc = 0;
	if (!path)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (depth > MANIFEST_MAX_DEPTH) {
		err_set(e, MOAT_ELIMIT, "'%s': directories nested deeper than %d", path,
			MANIFEST_MAX_DEPTH);
		free(path);
		return -1;
	}
	d = opendir(path);
	if (!d) {
		err_set(e, MOAT_EIO, "cannot open '%s': %s", path, strerror(errno));
		free(path);
		return -1;
	}
	while (rc == 0) {
		struct stat st;
		char *sub;
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				rc = err_set(e, MOAT_EIO, "cannot read '%s': %s", path, strerror(errno));
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!*rel && !strcmp(de->d_name, MANIFEST_NAME))
			continue;
		if (!strcmp(rel, MANIFEST_RECORD_DIR) && !strcmp(de->d_name, MANIFEST_RECORD_FILE))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = err_set(e, MOAT_EIO, "cannot stat '%s/%s': %s", path, de->d_name,
				     strerror(errno));
			break;
		}
		sub = *rel ? fs_join(rel, de->d_name) : strdup(de->d_name);
		if (!sub) {
			rc = err_set(e, MOAT_ENOMEM, "out of memory");
		} else if (S_ISDIR(st.st_mode)) {
			rc = walk(root, sub, depth + 1, files, other, e);
			free(sub);
		} else if (names_add(S_ISREG(st.st_mode) ? files : other, sub) < 0) {
			rc = err_set(e, MOAT_ENOMEM, "out of memory");
		}
	}
	closedir(d);
	free(path);
	return rc;
}

/* --- hashing --------------------------------------------------------------- */

struct hash_ctx {
	const char *dir;
	char **names;
	unsigned char (*digest)[SHA256_LEN];
};

static int hash_one(void *arg, int worker, size_t i, struct moat_err *e)
{
	struct hash_ctx *c = arg;
	char *path = fs_join(c->dir, c->names[i]);
	int rc;
	(void)worker;
	if (!path)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	rc = sha256_file(path, c->digest[i], NULL, e);
	free(path);
	return rc;
}

static int hash_all(const char *dir, char **names, size_t n, int workers,
		    unsigned char (*digest)[SHA256_LEN], struct moat_err *e)
{
	struct hash_ctx c = { dir, names, digest };
	if (workers <= 0)
		workers = pool_default_workers();
	return pool_for(workers, n, hash_one, &c, e);
}

/* --- writing --------------------------------------------------------------- */

static int needs_escape(const char *s)
{
	return strchr(s, '\\') || strchr(s, '\n');
}

static void add_line(struct buf *b, const unsigned char digest[SHA256_LEN], const char *name)
{
	int esc = needs_escape(name);
	if (esc)
		buf_addch(b, '\\');
	buf_addhex(b, digest, SHA256_LEN);
	buf_add(b, "  ", 2);
	if (!esc) {
		buf_adds(b, name);
	} else {
		for (const char *p = name; *p; p++) {
			if (*p == '\\')
				buf_add(b, "\\\\", 2);
			else if (*p == '\n')
				buf_add(b, "\\n", 2);
			else
				buf_addch(b, *p);
		}
	}
	buf_addch(b, '\n');
}

long manifest_write(const char *dir, int workers, char digest_hex[SHA256_HEX],
		    struct moat_err *e)
{
	struct names files = { 0 }, other = { 0 };
	unsigned char (*digest)[SHA256_LEN] = NULL;
	struct buf b = BUF_INIT;
	char *path = NULL;
	long rc = -1;

	if (walk(dir, "", 0, &files, &other, e) < 0)
		goto out;
	if (other.n) {
		qsort(other.v, other.n, sizeof(*other.v), cmp_str);
		err_set(e, MOAT_EUNSUPPORTED, "'%s/%s': %s; an export holds only files and directories",
			dir, other.v[0], manifest_problem_str(MANIFEST_NOT_FILE));
		goto out;
	}
	if (files.n)
		qsort(files.v, files.n, sizeof(*files.v), cmp_str);
	digest = malloc((files.n ? files.n : 1) * sizeof(*digest));
	if (!digest) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (hash_all(dir, files.v, files.n, workers, digest, e) < 0)
		goto out;
	for (size_t i = 0; i < files.n; i++)
		add_line(&b, digest[i], files.v[i]);
	if (buf_failed(&b)) {
		err_set(e, buf_failed(&b), "cannot write '%s/%s': %s", dir, MANIFEST_NAME,
			moat_strerror(buf_failed(&b)));
		goto out;
	}
	path = fs_join(dir, MANIFEST_NAME);
	if (!path) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (fs_write_atomic(path, b.data ? b.data : "", b.len, 0644, e) < 0)
		goto out;
	if (digest_hex)
		sha256_hex_mem(b.data ? b.data : "", b.len, digest_hex);
	rc = (long)files.n;
out:
	names_release(&files);
	names_release(&other);
	free(digest);
	free(path);
	buf_release(&b);
	return rc;
}

/* --- verifying ------------------------------------------------------------- */

struct entry {
	char *name;
	unsigned char digest[SHA256_LEN];
	size_t line;
};

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* NULL when name is a path inside the directory, else why not. */
static const char *bad_path(const char *name)
{
	const char *p = name;
	if (!*name)
		return "an empty path";
	if (*name == '/')
		return "an absolute path";
	while (*p) {
		const char *q = strchr(p, '/');
		size_t n = q ? (size_t)(q - p) : strlen(p);
		if (n == 0)
			return "an empty path component";
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return "a '.' or '..' component";
		if (!q)
			break;
		p = q + 1;
		if (!*p)
			return "a path ending in '/'";
	}
	return NULL;
}

/* One line (without its '\n') into en; -1 with e naming the line. */
static int parse_line(const char *s, size_t len, size_t lineno, struct entry *en,
		      struct moat_err *e)
{
	int esc = 0;
	size_t i = 0;
	struct buf name = BUF_INIT;
	const char *why;
	if (len && s[0] == '\\') {
		esc = 1;
		i = 1;
	}
	if (len < i + 2 * SHA256_LEN + 2)
		goto malformed;
	for (int k = 0; k < SHA256_LEN; k++) {
		int hi = hex_digit((unsigned char)s[i + 2 * k]), lo = hex_digit((unsigned char)s[i + 2 * k + 1]);
		if (hi < 0 || lo < 0)
			goto malformed;
		en->digest[k] = (unsigned char)(hi << 4 | lo);
	}
	i += 2 * SHA256_LEN;
	if (s[i] != ' ' || (s[i + 1] != ' ' && s[i + 1] != '*'))
		goto malformed;
	i += 2;
	for (; i < len; i++) {
		if (s[i] == '\0')
			goto malformed;
		if (esc && s[i] == '\\') {
			if (i + 1 < len && s[i + 1] == '\\')
				buf_addch(&name, '\\');
			else if (i + 1 < len && s[i + 1] == 'n')
				buf_addch(&name, '\n');
			else
				goto malformed;
			i++;
		} else {
			buf_addch(&name, s[i]);
		}
	}
	if (buf_failed(&name)) {
		buf_release(&name);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	en->name = buf_detach(&name, NULL);
	en->line = lineno;
	if (!en->name)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if ((why = bad_path(en->name)) != NULL) {
		err_set(e, MOAT_EPARSE, "%s: line %zu: '%s' is %s, not a file inside the export",
			MANIFEST_NAME, lineno, en->name, why);
		free(en->name);
		en->name = NULL;
		return -1;
	}
	if (!strcmp(en->name, MANIFEST_NAME)) {
		free(en->name);
		en->name = NULL;
		return err_set(e, MOAT_EPARSE, "%s: line %zu: MANIFEST lists itself", MANIFEST_NAME,
			       lineno);
	}
	return 0;
malformed:
	buf_release(&name);
	return err_set(e, MOAT_EPARSE, "%s: line %zu: expected '<64 hex digits>  <path>'",
		       MANIFEST_NAME, lineno);
}

struct problem {
	const char *path;
	enum manifest_problem kind;
};

static int cmp_problem(const void *a, const void *b)
{
	const struct problem *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	return c ? c : (int)x->kind - (int)y->kind;
}

int manifest_verify(const char *dir, int workers, manifest_problem_fn fn, void *ctx,
		    struct manifest_result *res, char digest_hex[SHA256_HEX], struct moat_err *e)
{
	struct buf text = BUF_INIT;
	struct entry *ent = NULL;
	struct names files = { 0 }, other = { 0 };
	char **common = NULL;
	size_t *common_ent = NULL, nent = 0, ncommon = 0, nprob = 0, lineno = 0;
	unsigned char (*digest)[SHA256_LEN] = NULL;
	struct problem *prob = NULL;
	struct manifest_result r = { 0 };
	char *path = fs_join(dir, MANIFEST_NAME);
	int rc = -1;

	if (!path) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (!fs_exists(path)) {
		err_set(e, MOAT_ENOTFOUND, "'%s': no %s (not an export, or not a complete one)", dir,
			MANIFEST_NAME);
		goto out;
	}
	if (fs_read_file(path, &text, MANIFEST_MAX_BYTES, e) < 0)
		goto out;
	if (digest_hex)
		sha256_hex_mem(buf_str(&text), text.len, digest_hex);

	/* The lines. */
	for (size_t off = 0; off < text.len;) {
		const char *s = text.data + off, *nl = memchr(s, '\n', text.len - off);
		size_t len = nl ? (size_t)(nl - s) : text.len - off;
		lineno++;
		off += len + (nl ? 1 : 0);
		if (nent % 256 == 0) {
			struct entry *v = realloc(ent, (nent + 256) * sizeof(*v));
			if (!v) {
				err_set(e, MOAT_ENOMEM, "out of memory");
				goto out;
			}
			ent = v;
		}
		if (parse_line(s, len, lineno, &ent[nent], e) < 0)
			goto out;
		nent++;
	}
	if (nent)
		qsort(ent, nent, sizeof(*ent), cmp_entry);
	for (size_t i = 1; i < nent; i++) {
		if (!strcmp(ent[i].name, ent[i - 1].name)) {
			size_t a = ent[i - 1].line < ent[i].line ? ent[i - 1].line : ent[i].line;
			size_t b = ent[i - 1].line < ent[i].line ? ent[i].line : ent[i - 1].line;
			err_set(e, MOAT_EPARSE, "%s: line %zu: '%s' is listed twice (also line %zu)",
				MANIFEST_NAME, b, ent[i].name, a);
			goto out;
		}
	}
	r.files = nent;

	/* What is there. */
	if (walk(dir, "", 0, &files, &other, e) < 0)
		goto out;
	if (files.n)
		qsort(files.v, files.n, sizeof(*files.v), cmp_str);
	common = malloc((nent ? nent : 1) * sizeof(*common));
	common_ent = malloc((nent ? nent : 1) * sizeof(*common_ent));
	prob = malloc((nent + files.n + other.n + 1) * sizeof(*prob));
	if (!common || !common_ent || !prob) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0, j = 0; i < nent || j < files.n;) {
		int c = i == nent ? 1 : j == files.n ? -1 : strcmp(ent[i].name, files.v[j]);
		if (c == 0) {
			common[ncommon] = files.v[j];
			common_ent[ncommon++] = i;
			i++;
			j++;
		} else if (c < 0) {
			/* a listed link or special file is that, not missing */
			int special = 0;
			for (size_t k = 0; k < other.n && !special; k++)
				special = !strcmp(other.v[k], ent[i].name);
			if (!special) {
				prob[nprob].path = ent[i].name;
				prob[nprob++].kind = MANIFEST_MISSING;
				r.missing++;
			}
			i++;
		} else {
			prob[nprob].path = files.v[j++];
			prob[nprob++].kind = MANIFEST_UNLISTED;
			r.unlisted++;
		}
	}
	for (size_t k = 0; k < other.n; k++) {
		prob[nprob].path = other.v[k];
		prob[nprob++].kind = MANIFEST_NOT_FILE;
		r.not_file++;
	}

	/* The digests. */
	digest = malloc((ncommon ? ncommon : 1) * sizeof(*digest));
	if (!digest) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (hash_all(dir, common, ncommon, workers, digest, e) < 0)
		goto out;
	for (size_t k = 0; k < ncommon; k++) {
		if (memcmp(digest[k], ent[common_ent[k]].digest, SHA256_LEN)) {
			prob[nprob].path = common[k];
			prob[nprob++].kind = MANIFEST_DIFFERS;
			r.differ++;
		}
	}

	if (nprob)
		qsort(prob, nprob, sizeof(*prob), cmp_problem);
	r.problems = nprob;
	for (size_t k = 0; fn && k < nprob; k++)
		fn(ctx, prob[k].kind, prob[k].path);
	if (nprob == 0) {
		rc = 0;
	} else if (nprob == 1) {
		err_set(e, MOAT_ECORRUPT, "'%s': %s", prob[0].path, manifest_problem_str(prob[0].kind));
	} else {
		err_set(e, MOAT_ECORRUPT, "'%s': %s (and %zu more problem%s)", prob[0].path,
			manifest_problem_str(prob[0].kind), nprob - 1, nprob == 2 ? "" : "s");
	}
out:
	if (res)
		*res = r;
	for (size_t i = 0; i < nent; i++)
		free(ent[i].name);
	free(ent);
	names_release(&files);
	names_release(&other);
	free(common);
	free(common_ent);
	free(digest);
	free(prob);
	free(path);
	buf_release(&text);
	return rc;
}
