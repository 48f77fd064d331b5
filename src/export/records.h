/*
 * records.h - the record formats of an export, written as a stream: `jsonl`
 * (id, text, metadata, labels, spans), `csv` (RFC 4180), `chat` (OpenAI's
 * {"messages": [...]}), `alpaca` ({"instruction", "input", "output"}), `rag`
 * (chunks with their document, path, pages, offsets and token counts) and
 * `hf` (a Hugging Face datasets folder: data/<split>.jsonl, and the YAML
 * header of its README.md that names the splits under `configs`).
 *
 * The caller (`moat export`) reads records from the workspace and hands them
 * over one at a time; a writer turns each into JSON written straight into a
 * struct buf per split (as core/jsonw.h does, with UTF-8 checked on the
 * way), flushed to its file in blocks of a megabyte, with no jansson value
 * built per record.  The same records give the same bytes.
 * What each format writes, and what it cannot carry, is in docs/export.md
 * ("Record formats").
 *
 * Files: one per split that receives a record, "<split>.jsonl" ("<split>.csv"
 * for csv, "data/<split>.jsonl" for hf), created in dir, which the caller
 * made (a temporary directory it renames into place when complete); a file
 * that exists is an error.  With no record at all, the first split's file is
 * written empty (csv: its header), so the export still shows its format.
 *
 * Not for: the workspace, splits (split.h), the dataset card (card.h) or the
 * MANIFEST (manifest.h).  Uses core/ (buf, utf8, fs, fmt, err) and jansson
 * (reading a record's metadata object).
 *
 * Ownership: a record's strings and arrays are borrowed for the call to
 * rec_write(); the writer owns its buffers and files until rec_writer_free().
 */
#ifndef MOAT_RECORDS_H
#define MOAT_RECORDS_H

#include <stddef.h>

#include <jansson.h>

#include "../core/buf.h"
#include "../core/err.h"

#define REC_MAX_SPLITS 8

/* A span: code points into the record's text, end exclusive. */
struct rec_span {
	size_t start, end;
	const char *label;
};

struct rec {
	const char *id;                 /* required */
	const char *text;               /* UTF-8, text_len bytes (NULL: empty) */
	size_t text_len;
	const json_t *meta;             /* an object, or NULL (none: {}) */
	const char *meta_json;          /* or: a JSON object as compact text, copied as is (not
					 * checked beyond UTF-8: the store's own); meta_json wins */
	size_t meta_json_len;
	const char *const *labels;      /* classification labels chosen */
	size_t n_labels;
	const struct rec_span *spans;
	size_t n_spans;
	const char *answer;             /* a free-text answer, or NULL */
	int synthetic;                  /* made by moat augment: "synthetic": true (jsonl, hf) */
	unsigned split;                 /* index into the writer's splits */
	/* chunks (rec_opts.chunks): */
	const char *document;           /* the document's id */
	const char *path;               /* its path when ingested */
	unsigned page_first, page_last; /* pages it covers, 1-based; 0: none (at most
					 * 100000 of them) */
	size_t start, end;              /* code points into the document's text */
	size_t tokens;                  /* its length in the tokenizer's tokens */
	const char *tokenizer;          /* the tokenizer's identity ("gguf:sha256:...", "chars") */
};

struct rec_opts {
	const char *splits[REC_MAX_SPLITS + 1]; /* split names, NULL-terminated; none: "train".
						 * Each [A-Za-z0-9_]+ */
	int chunks;                     /* records are chunks: their fields are written too */
	const char *system_prompt;      /* chat: the system message, or NULL for none */
	const char *instruction;        /* alpaca: the instruction, or NULL (the text is then
					 * the instruction and the input is empty) */
};
/* No chunks, split "train", no system prompt, no instruction. */
struct rec_opts rec_default_opts(void);

/* 1 for "jsonl", "csv", "chat", "alpaca", "rag", "hf". */
int rec_format_known(const char *format);

struct rec_writer;

/* A writer of format into the existing directory dir.  NULL with e set on an
 * unknown format or a bad split name; hf makes dir/data. */
struct rec_writer *rec_writer_open(const char *format, const char *dir, const struct rec_opts *o,
				   struct moat_err *e) __attribute__((warn_unused_result));

/* Writes one record.  Bad data fails, naming the record by its id, and the
 * record is left out while the writer goes on: text or a string that is not
 * UTF-8, a span outside its text, a split index out of range, a csv label
 * holding '|' (csv's separator of labels).  A write that fails, or memory
 * running out, fails too and leaves the writer unusable (rec_writer_free()
 * it). */
int rec_write(struct rec_writer *w, const struct rec *r, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Flushes, fsyncs and closes every file; no record can be written after.
 * 0, or -1 with e set. */
int rec_writer_finish(struct rec_writer *w, struct moat_err *e) __attribute__((warn_unused_result));

/* Records written to split (an index into the writer's splits). */
size_t rec_writer_count(const struct rec_writer *w, unsigned split);
/* Files written, relative to dir ("train.jsonl", "data/val.jsonl"), in split
 * order; valid until rec_writer_free(). */
size_t rec_writer_files(const struct rec_writer *w, const char *const **files);

/* hf: the YAML header of README.md (from "---\n" to "---\n"), naming under
 * `configs` each split that has a file, so `datasets.load_dataset(DIR)`
 * reads the folder offline.  Appends to out; check buf_failed(out). */
void rec_writer_hf_yaml(const struct rec_writer *w, struct buf *out);

/* Closes what is open (without syncing) and frees the writer; the files
 * stay.  NULL-safe. */
void rec_writer_free(struct rec_writer *w);

#endif
