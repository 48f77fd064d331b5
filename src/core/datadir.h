/*
 * datadir.h - where moat's run-time data files come from: libmagic's database,
 * Tesseract's language files and llama.cpp's llama-server.
 *
 * A moat installed from a bundle (`moat models bundle --include-self`, then
 * `sh moat/install.sh`) carries its own copies beside the program:
 *   <program dir>/share/magic.mgc
 *   <program dir>/share/tessdata/<lang>.traineddata
 *   <program dir>/bin/llama-server
 * Each lookup takes, in order: the environment variable the library itself
 * honours (MAGIC, TESSDATA_PREFIX), the copy beside the program, then the
 * system's (Debian's paths, or the llama.cpp build moat was built against).
 * `moat version` shows what each lookup found and why.
 *
 * The cache directory for what moat can always make again (digests of model
 * files, the compiled PII database) is here too: one variable, MOAT_CACHE.
 *
 * Uses only libc.  Not for workspace data (src/store/).
 */
#ifndef MOAT_DATADIR_H
#define MOAT_DATADIR_H

enum datadir_source {
	DATADIR_NONE,     /* not found anywhere */
	DATADIR_ENV,      /* named by an environment variable */
	DATADIR_BUNDLE,   /* the copy beside the program (installed from a bundle) */
	DATADIR_SYSTEM,   /* the system's (a Debian package, or the library's default) */
	DATADIR_BUILD,    /* the llama.cpp build moat was compiled against */
};

/* "environment", "bundle", "system", "build", "none" */
const char *datadir_source_name(enum datadir_source s);

/* One lookup's answer.  path is malloc'd (NULL with DATADIR_NONE, and for
 * libmagic's own default database); release with datafile_release. */
struct datafile {
	char *path;
	enum datadir_source source;
	const char *why;  /* static: the rule that chose it, e.g. "$TESSDATA_PREFIX" */
};
#define DATAFILE_INIT { NULL, DATADIR_NONE, "" }

void datafile_release(struct datafile *f);

/* The directory of the running program (/proc/self/exe resolved), or "" when
 * it cannot be known.  Static storage, computed once; thread-safe. */
const char *datadir_self_dir(void);

/* libmagic's compiled database: $MAGIC, else <program dir>/share/magic.mgc,
 * else libmagic's default (path NULL, source DATADIR_SYSTEM). */
void datadir_magic(struct datafile *out);

/* The directory of Tesseract's traineddata files: $TESSDATA_PREFIX (with or
 * without its tessdata/ part), else <program dir>/share/tessdata, else the
 * first of Debian's directories that exists (else Debian's default, so that a
 * message can name where a language was looked for).  0, or -1 when memory
 * ran out (out then has no path, source DATADIR_NONE, why "out of memory"). */
int datadir_tessdata(struct datafile *out) __attribute__((warn_unused_result));

/* llama.cpp's server: <program dir>/bin/llama-server, else the one built
 * beside the llama.cpp moat links (DATADIR_BUILD), else DATADIR_NONE. */
void datadir_llama_server(struct datafile *out);

/* <cache>/sub (malloc'd), where <cache> is $MOAT_CACHE, else
 * $XDG_CACHE_HOME/moat, else $HOME/.cache/moat; NULL when none is set (no
 * cache then) or memory ran out.  The directory may not exist yet. */
char *datadir_cache(const char *sub);

#endif
