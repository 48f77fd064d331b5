/*
 * manifest.h - an export's MANIFEST: the SHA-256 of every file under its
 * directory, in the format of `sha256sum` (so `sha256sum -c MANIFEST` run in
 * the directory checks it on any machine), and the check of a directory
 * against it that `moat exports verify` makes without the workspace.
 *
 * Format: one line per file, sorted bytewise by path, "<64 hex>  <path>\n",
 * the path relative to the directory with '/' between its parts; every
 * regular file under the directory but MANIFEST itself and the audit
 * record that covers it (audit/export.json: it holds MANIFEST's digest, so
 * MANIFEST cannot hold its).  A path holding a
 * backslash or a newline is written as sha256sum writes it: the line starts
 * with '\' and the path has "\\" and "\n" for them.
 *
 * An export holds only files and directories: a symbolic link or a special
 * file is an error when writing, and a problem when verifying.
 *
 * Not for: the audit record that covers MANIFEST (the caller's) or the files'
 * contents.  Uses core/ (err, hash, buf, fs, pool) and libc.
 */
#ifndef MOAT_MANIFEST_H
#define MOAT_MANIFEST_H

#include <stddef.h>

#include "../core/err.h"
#include "../core/hash.h"

#define MANIFEST_NAME "MANIFEST"
/* The file left out besides MANIFEST: the export's own audit record. */
#define MANIFEST_RECORD_DIR "audit"
#define MANIFEST_RECORD_FILE "export.json"

/* Hashes every file under dir (workers threads; 0: one per CPU) and writes
 * dir/MANIFEST atomically, replacing one that is there.  digest_hex (may be
 * NULL) gets the SHA-256 of MANIFEST itself, which an audit record can cover.
 * Returns the number of files listed, or -1 with e set (a file that cannot
 * be read, a link or special file, naming it). */
long manifest_write(const char *dir, int workers, char digest_hex[SHA256_HEX],
		    struct moat_err *e) __attribute__((warn_unused_result));

enum manifest_problem {
	MANIFEST_DIFFERS,    /* its SHA-256 is not the one MANIFEST gives */
	MANIFEST_MISSING,    /* listed, not there */
	MANIFEST_UNLISTED,   /* there, not listed */
	MANIFEST_NOT_FILE,   /* a symbolic link, a special file */
};

/* A problem's kind in words ("differs from MANIFEST"). */
const char *manifest_problem_str(enum manifest_problem p);

struct manifest_result {
	size_t files;        /* lines in MANIFEST */
	size_t problems;     /* all kinds together */
	size_t differ, missing, unlisted, not_file;
};

/* Called once per problem, in path order (path relative to dir). */
typedef void (*manifest_problem_fn)(void *ctx, enum manifest_problem p, const char *path);

/* Checks dir against dir/MANIFEST: every listed file there with that digest,
 * and no other file.  Problems go to fn (may be NULL) and are counted in res
 * (may be NULL); digest_hex (may be NULL) gets the SHA-256 of MANIFEST.
 * Returns 0 when everything holds; -1 with e set otherwise: MOAT_ECORRUPT
 * naming the first problem in path order ("'data/train.jsonl': differs from
 * MANIFEST (and 2 more problems)"), MOAT_EPARSE for a MANIFEST line that is
 * not "<hex>  <path>" or a path that leaves the directory (naming the line),
 * MOAT_ENOTFOUND without MANIFEST, MOAT_EIO for a file that cannot be read. */
int manifest_verify(const char *dir, int workers, manifest_problem_fn fn, void *ctx,
		    struct manifest_result *res, char digest_hex[SHA256_HEX], struct moat_err *e)
	__attribute__((warn_unused_result));

#endif
