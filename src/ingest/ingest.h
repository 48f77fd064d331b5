/*
 * ingest.h - turning files into documents.
 *
 * Two layers: ingest_parse() turns one file's bytes into a struct doc (pure:
 * no workspace, no globals, safe to call from several threads at once), and
 * ingest_run() walks paths, parses with -j workers and records the results in
 * a workspace (src/store).  Each format lives in its own file and fills the
 * same struct doc through doc_add().
 *
 * Not for: what later stages do with the documents (they read the store),
 * nor printing: cmd/ingest.c turns the events and the summary into output.
 *
 * Uses core/ (the document model in core/doc.h, the thread pool, buffers,
 * files, hashing), store/ (to record what was read) and the libraries each
 * format needs (libmagic, cmark-gfm, libxml2, MuPDF, Tesseract, libzip).
 * Inside src/ingest the arrows run: run.c -> detect.c, zygote.c ->
 * parse.c -> the readers (reader.h) -> docfmt.h's helpers, ocr.c and
 * sandbox.c -> wire.c; see parse.c for the whole picture.
 */
#ifndef MOAT_INGEST_H
#define MOAT_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../core/doc.h"
#include "../core/err.h"
#include "../core/shard.h"

struct store;

struct ingest_opts {
	size_t max_file_size;    /* bytes; larger files fail with a reason */
	size_t max_elements;     /* per document */
	const char *text_field;  /* JSON/JSONL: dotted path of the text, NULL: "text" */
	int jobs;                /* worker threads, >= 1 */
	const char **include;    /* NULL-terminated globs on the base name or path, or NULL */
	const char **exclude;
	/* Documents (PDF, scans, images, Office, e-mail).  A zero field means the
	 * built-in default named beside it, so ingest_default_opts() need not know. */
	const char *password;    /* encrypted PDFs, NULL: none */
	int ocr;                 /* enum ingest_ocr */
	const char *ocr_lang;    /* Tesseract languages "eng+deu", NULL: "eng" */
	int ocr_dpi;             /* rendering resolution of scanned pages, 0: 300 */
	size_t max_memory;       /* bytes of address space per parser process, 0: 2 GiB */
	unsigned max_cpu;        /* CPU seconds per document, 0: 900 */
	unsigned max_pages;      /* pages (or slides, sheets) per document, 0: 10000 */
	size_t max_unzipped;     /* total bytes unpacked from one zip, 0: 512 MiB */
	unsigned max_zip_ratio;  /* uncompressed/compressed per entry, 0: 200 */
	unsigned max_zip_entries;/* entries per zip, 0: 10000 */
	int no_sandbox;          /* parse in this process (tests, debugging) */
	/* Only the files of this shard (SHARD_ALL: every file).  A file's id is
	 * its path relative to the root named in paths (a root that is a file:
	 * its base name), so that nodes mounting the share at different places
	 * take the same files. */
	struct shard shard;
	/* ingest_render_png(): the page to draw (1-based) and its resolution */
	int render_page;
	int render_dpi;
};

enum ingest_ocr { INGEST_OCR_AUTO = 0, INGEST_OCR_ALWAYS = 1, INGEST_OCR_NEVER = 2 };
struct ingest_opts ingest_default_opts(void);

/* The format of a file from its name and content: "text", "markdown", "html",
 * "csv", "tsv", "json", "jsonl", "pdf", "image", "docx", "xlsx", "pptx",
 * "email", or NULL when moat cannot read it; then why
 * (one line, "unsupported file type 'application/pdf'") is written to e.
 * mime (may be NULL) receives libmagic's MIME type. */
const char *ingest_detect(const char *path, const unsigned char *data, size_t len,
			  char *mime, size_t mime_size, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Parses one file's bytes.  On failure d holds nothing useful and e says why
 * (the caller names the file). */
int ingest_parse(const char *format, const unsigned char *data, size_t len,
		 const struct ingest_opts *o, struct doc *d, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Checks that the OCR languages o asks for are installed (nothing to check
 * with --ocr never).  MOAT_EUSAGE: the list is malformed.  MOAT_ENOTFOUND: a
 * language is missing; the message names the Debian package that brings it,
 * and the same message fails each file that needs OCR (others still ingest). */
int ingest_check_ocr(const struct ingest_opts *o, struct moat_err *e)
	__attribute__((warn_unused_result));

/*
 * ingest_parse() in a child process (zygote.c, sandbox.c): the child gets
 * limits on its address space (o->max_memory) and CPU time (o->max_cpu),
 * parses, and sends the document back over a pipe.  A crash, a time-out or a limit reached fails
 * with the reason in e ("parser crashed (signal 11, segmentation fault)"),
 * and d is left empty.  With o->no_sandbox it is ingest_parse() itself.
 */
int ingest_parse_sandboxed(const char *format, const unsigned char *data, size_t len,
			   const struct ingest_opts *o, struct doc *d, struct moat_err *e)
	__attribute__((warn_unused_result));
/* The same for bytes in a buffer, which is released as soon as the parser
 * process has them (the caller keeps what it needs first), so a worker never
 * holds a large file while it waits. */
int ingest_parse_sandboxed_buf(const char *format, struct buf *data, const struct ingest_opts *o,
			       struct doc *d, struct moat_err *e) __attribute__((warn_unused_result));

/*
 * A PDF's page (1-based; ignored for images) or an image file as a PNG,
 * drawn in the sandbox as ingest_parse_sandboxed() parses (o: its limits,
 * the PDF's password; NULL: the defaults): a PDF page at dpi (0: 100), an
 * image at its own size (its first frame).  0 with the PNG appended to png
 * and its size in *w, *h; -1 with e saying why (not a PDF or an image moat
 * can draw, no such page, the sandbox's limits).
 */
int ingest_render_png(const unsigned char *data, size_t len, int page, int dpi,
		      const struct ingest_opts *o, struct buf *png, int *w, int *h,
		      struct moat_err *e) __attribute__((warn_unused_result));

/* Starts n sandbox helpers (zygotes) ahead of the first document, so that
 * each one loads the program while the caller does other work (reading the
 * workspace, hashing, syncing): a helper needs 15 to 20 ms of CPU to start.
 * The next threads that parse sandboxed take one each instead of starting
 * their own.  ingest_sandbox_drop_spares() stops those that were not taken.
 * Best effort: a helper that cannot be started is started later, when
 * needed, as before. */
void ingest_sandbox_prestart(size_t n);
void ingest_sandbox_drop_spares(void);

/* What the parser sandbox's children get on this machine, found by a probe
 * child (a fork): the seccomp allow-list, a new user namespace (and a
 * network namespace where seccomp is missing), root becoming nobody, and when one is missing, why.  Call it from a
 * single-threaded process (before ingest_run starts workers).  0, or -1 when
 * the probe could not run. */
struct ingest_sandbox {
	int seccomp, namespaces, netns, dropped;
	char why[160];
};
int ingest_sandbox_probe(struct ingest_sandbox *s) __attribute__((warn_unused_result));

/* What happened to each file, for the caller's output. */
enum ingest_outcome { INGEST_ADDED, INGEST_NEW_VERSION, INGEST_UNCHANGED, INGEST_FAILED };

struct ingest_event {
	const char *path;
	enum ingest_outcome outcome;
	const char *doc_id;   /* may be NULL */
	const char *error;    /* for INGEST_FAILED */
	uint64_t size;
	size_t elements;
};

struct ingest_summary {
	uint64_t files, added, new_versions, unchanged, failed, bytes, elements, skipped;
	uint64_t other_shards;    /* files found that belong to other shards */
	int64_t run_id;           /* the runs row; the caller ends it with the audit record */
	char inputs_digest[65];   /* over the sorted "sha256  path" lines of the inputs */
	char outputs_digest[65];  /* over the sorted ids of documents stored or kept */
	json_t *interrupted;      /* runs a killed moat left behind, owned */
};

struct ingest_callbacks {
	/* Called from the calling thread, in completion order. */
	void (*on_file)(void *ctx, const struct ingest_event *ev);
	/* Called after the walk with the number of files found. */
	void (*on_total)(void *ctx, uint64_t files, uint64_t bytes);
	void *ctx;
};

/* Ingests paths (files or directories, walked recursively; symlinks are not
 * followed out of the given roots) into the open, writable store s.  A file
 * that fails is recorded as failed and the run goes on.  Returns 0 when the
 * run completed (whatever files failed), -1 on an error that stopped it. */
int ingest_run(struct store *s, const char *const *paths, size_t n_paths,
	       const struct ingest_opts *o, const struct ingest_callbacks *cb,
	       struct ingest_summary *sum, struct moat_err *e) __attribute__((warn_unused_result));
void ingest_summary_release(struct ingest_summary *sum);

#endif
