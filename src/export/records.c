/*
 * records.c - the record formats (see records.h): one function per format
 * that appends a record's bytes to its split's buffer, the JSON and CSV
 * pieces they share, and the buffered files.
 *
 * The JSON goes straight into a struct buf through core/jsonw.h (no jansson
 * value per record): its string escaper checks UTF-8 in the same pass that
 * finds what to escape, and its small appends are inline, which is what
 * matters at a million records.
 *
 * Not for: choosing records or splits.  Uses core/ (buf, jsonw, utf8, fs,
 * fmt, err) and jansson (walking a metadata object).
 */
#include "records.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/fmt.h"
#include "../core/fs.h"
#include "../core/jsonw.h"
#include "../core/utf8.h"

#include "../core/banned.h"

#define FLUSH_BYTES ((size_t)1 << 20)
#define META_MAX_DEPTH 64
#define REC_MAX_PAGES 100000u

enum fmt { F_JSONL, F_CSV, F_CHAT, F_ALPACA, F_RAG, F_HF };

static const char *const fmt_names[] = { "jsonl", "csv", "chat", "alpaca", "rag", "hf" };

struct split_out {
	char *rel;           /* the file, relative to dir */
	int fd;              /* -1 until its first record, and after finishing */
	int created;         /* its file exists */
	struct buf b;
	size_t count;
};

struct rec_writer {
	enum fmt f;
	char *dir;
	int chunks;
	char *system_prompt, *instruction;
	char *names[REC_MAX_SPLITS];
	size_t n;
	struct split_out out[REC_MAX_SPLITS];
	const char *files[REC_MAX_SPLITS];
	size_t nfiles;
	struct buf scratch;  /* a value before it becomes a string or a cell */
	struct buf target;   /* chat and alpaca: the answer text */
	size_t *cp;          /* byte offset of each code point of a text, and its end */
	size_t cp_cap;
	int broken;
	int finished;
};

struct rec_opts rec_default_opts(void)
{
	struct rec_opts o;
	memset(&o, 0, sizeof(o));
	return o;
}

static int fmt_of(const char *name)
{
	for (size_t i = 0; name && i < sizeof(fmt_names) / sizeof(fmt_names[0]); i++)
		if (!strcmp(name, fmt_names[i]))
			return (int)i;
	return -1;
}

int rec_format_known(const char *format)
{
	return fmt_of(format) >= 0;
}

/* --- JSON ------------------------------------------------------------------ */

static int put_cstr(struct buf *o, const char *s)
{
	if (!s) {
		JSONW_LIT(o, "null");
		return 0;
	}
	return jsonw_str(o, s, strlen(s));
}

/* The shortest of %.15g, %.16g, %.17g that reads back as v, with ".0" when
 * it would read as an integer (Python's repr does the same). */
static void put_real(struct buf *o, double v)
{
	char d[40];
	int n = -1;
	for (int p = 15; p <= 17; p++) {
		n = xsnprintf(d, sizeof(d), "%.*g", p, v);
		if (n > 0 && strtod(d, NULL) == v)
			break;
	}
	if (n <= 0) {
		JSONW_LIT(o, "null");
		return;
	}
	jsonw_add(o, d, (size_t)n);
	if (!strpbrk(d, ".eEn"))
		JSONW_LIT(o, ".0");
}

struct member {
	const char *key;
	json_t *value;
};

static int cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->key, ((const struct member *)b)->key);
}

/* Members sorted by key: insertion sort, as objects are small. */
static void sort_members(struct member *m, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct member x = m[i];
		size_t j = i;
		while (j > 0 && strcmp(m[j - 1].key, x.key) > 0) {
			m[j] = m[j - 1];
			j--;
		}
		m[j] = x;
	}
}

/* A jansson value, objects with their keys sorted; -1 on a string that is
 * not UTF-8 or nesting deeper than META_MAX_DEPTH. */
static int put_json(struct buf *o, const json_t *v, int depth)
{
	if (depth > META_MAX_DEPTH)
		return -1;
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		size_t n = json_object_size(v), k = 0;
		struct member small[16], *m = small;
		const char *key;
		json_t *val;
		int rc = 0;
		if (n > 16 && !(m = malloc(n * sizeof(*m)))) {
			o->failed = o->failed ? o->failed : MOAT_ENOMEM;
			return 0;
		}
		json_object_foreach((json_t *)v, key, val) {
			m[k].key = key;
			m[k++].value = val;
		}
		if (k > 16)
			qsort(m, k, sizeof(*m), cmp_member);
		else
			sort_members(m, k);
		jsonw_addch(o, '{');
		for (size_t i = 0; i < k && rc == 0; i++) {
			if (i)
				jsonw_addch(o, ',');
			rc = jsonw_str(o, m[i].key, strlen(m[i].key));
			jsonw_addch(o, ':');
			if (rc == 0)
				rc = put_json(o, m[i].value, depth + 1);
		}
		jsonw_addch(o, '}');
		if (m != small)
			free(m);
		return rc;
	}
	case JSON_ARRAY: {
		int rc = 0;
		jsonw_addch(o, '[');
		for (size_t i = 0; i < json_array_size(v) && rc == 0; i++) {
			if (i)
				jsonw_addch(o, ',');
			rc = put_json(o, json_array_get(v, i), depth + 1);
		}
		jsonw_addch(o, ']');
		return rc;
	}
	case JSON_STRING:
		return jsonw_str(o, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		jsonw_int(o, json_integer_value(v));
		return 0;
	case JSON_REAL:
		put_real(o, json_real_value(v));
		return 0;
	case JSON_TRUE:
		JSONW_LIT(o, "true");
		return 0;
	case JSON_FALSE:
		JSONW_LIT(o, "false");
		return 0;
	case JSON_NULL:
		JSONW_LIT(o, "null");
		return 0;
	}
	return -1;
}

/* --- errors ---------------------------------------------------------------- */

static int bad_field(struct moat_err *e, const struct rec *r, const char *field)
{
	return err_set(e, MOAT_EPARSE, "record '%s': field '%s' is not UTF-8", r->id, field);
}

/* --- record parts ---------------------------------------------------------- */

/* The metadata object as compact JSON. */
static int put_meta(struct buf *o, const struct rec *r, struct moat_err *e)
{
	if (r->meta_json) {
		if (!utf8_is_valid(r->meta_json, r->meta_json_len))
			return bad_field(e, r, "metadata");
		jsonw_add(o, r->meta_json, r->meta_json_len);
		return 0;
	}
	if (!r->meta) {
		jsonw_add(o, "{}", 2);
		return 0;
	}
	if (!json_is_object(r->meta))
		return err_set(e, MOAT_EUSAGE, "record '%s': metadata is not a JSON object", r->id);
	if (put_json(o, r->meta, 0) < 0)
		return err_set(e, MOAT_EPARSE,
			       "record '%s': field 'metadata' is not UTF-8 or nests deeper than %d",
			       r->id, META_MAX_DEPTH);
	return 0;
}

static int put_labels(struct buf *o, const struct rec *r, struct moat_err *e)
{
	jsonw_addch(o, '[');
	for (size_t i = 0; i < r->n_labels; i++) {
		if (i)
			jsonw_addch(o, ',');
		if (put_cstr(o, r->labels[i]) < 0)
			return bad_field(e, r, "labels");
	}
	jsonw_addch(o, ']');
	return 0;
}

/* Spans as [start, end, label] triples (as_objects: {"start", "end", "label"}). */
static int put_spans(struct buf *o, const struct rec *r, int as_objects, struct moat_err *e)
{
	jsonw_addch(o, '[');
	for (size_t i = 0; i < r->n_spans; i++) {
		const struct rec_span *sp = &r->spans[i];
		if (i)
			jsonw_addch(o, ',');
		jsonw_add(o, as_objects ? "{\"start\":" : "[", as_objects ? 9 : 1);
		jsonw_uint(o, sp->start);
		jsonw_add(o, as_objects ? ",\"end\":" : ",", as_objects ? 7 : 1);
		jsonw_uint(o, sp->end);
		jsonw_add(o, as_objects ? ",\"label\":" : ",", as_objects ? 9 : 1);
		if (put_cstr(o, sp->label) < 0)
			return bad_field(e, r, "spans");
		jsonw_addch(o, as_objects ? '}' : ']');
	}
	jsonw_addch(o, ']');
	return 0;
}

/* Every page from the first to the last; a range over REC_MAX_PAGES pages
 * (a chunk is a few pages) is refused rather than written out. */
static int put_pages(struct buf *o, const struct rec *r, struct moat_err *e)
{
	jsonw_addch(o, '[');
	if (r->page_first) {
		unsigned last = r->page_last >= r->page_first ? r->page_last : r->page_first;
		if (last - r->page_first >= REC_MAX_PAGES)
			return err_set(e, MOAT_EUSAGE, "record '%s': pages %u to %u, over %u pages",
				       r->id, r->page_first, last, REC_MAX_PAGES);
		for (unsigned p = r->page_first;; p++) {
			if (p != r->page_first)
				jsonw_addch(o, ',');
			jsonw_uint(o, p);
			if (p == last)
				break;
		}
	}
	jsonw_addch(o, ']');
	return 0;
}

/* "document":..,"path":..,"pages":[..],"start":..,"end":..,"tokens":..,"tokenizer":.., */
static int put_chunk_fields(struct buf *o, const struct rec *r, struct moat_err *e)
{
	JSONW_LIT(o, "\"document\":");
	if (put_cstr(o, r->document) < 0)
		return bad_field(e, r, "document");
	JSONW_LIT(o, ",\"path\":");
	if (put_cstr(o, r->path) < 0)
		return bad_field(e, r, "path");
	JSONW_LIT(o, ",\"pages\":");
	if (put_pages(o, r, e) < 0)
		return -1;
	JSONW_LIT(o, ",\"start\":");
	jsonw_uint(o, r->start);
	JSONW_LIT(o, ",\"end\":");
	jsonw_uint(o, r->end);
	JSONW_LIT(o, ",\"tokens\":");
	jsonw_uint(o, r->tokens);
	JSONW_LIT(o, ",\"tokenizer\":");
	if (put_cstr(o, r->tokenizer) < 0)
		return bad_field(e, r, "tokenizer");
	jsonw_addch(o, ',');
	return 0;
}

static int put_text(struct buf *o, const struct rec *r, struct moat_err *e)
{
	if (jsonw_str(o, r->text ? r->text : "", r->text ? r->text_len : 0) < 0)
		return bad_field(e, r, "text");
	return 0;
}

/* Checks every span against the text; with want_bytes, also fills w->cp so
 * that w->cp[k] is the byte offset of code point k. */
static int check_spans(struct rec_writer *w, const struct rec *r, int want_bytes,
		       struct moat_err *e)
{
	const char *t = r->text ? r->text : "";
	size_t len = r->text ? r->text_len : 0, ncp;
	if (!r->n_spans)
		return 0;
	/* counted as if valid: the text is checked where it is written, and
	 * offsets into bad text stay inside it */
	ncp = utf8_count(t, len);
	for (size_t i = 0; i < r->n_spans; i++) {
		const struct rec_span *sp = &r->spans[i];
		if (sp->start >= sp->end || sp->end > ncp)
			return err_set(e, MOAT_EUSAGE,
				       "record '%s': span %zu [%zu, %zu) is not inside its text of %zu "
				       "code points", r->id, i, sp->start, sp->end, ncp);
	}
	if (!want_bytes)
		return 0;
	if (ncp + 1 > w->cp_cap) {
		size_t cap = (ncp + 1) * 2;
		size_t *p = realloc(w->cp, cap * sizeof(*p));
		if (!p)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		w->cp = p;
		w->cp_cap = cap;
	}
	for (size_t b = 0, k = 0; b <= len; b++) {
		if (b == len || ((unsigned char)t[b] & 0xC0) != 0x80)
			w->cp[k++] = b;
	}
	return 0;
}

/* chat and alpaca: what the assistant says, into w->target: the answer, else
 * the labels joined by ", ", else the spans as JSON [{"text", "label"}].
 * Returns 1 when there is one, 0 when the record has none. */
static int make_target(struct rec_writer *w, const struct rec *r, struct moat_err *e)
{
	struct buf *t = &w->target;
	buf_reset(t);
	if (r->answer) {
		jsonw_add(t, r->answer, strlen(r->answer));
		return 1;
	}
	if (r->n_labels) {
		for (size_t i = 0; i < r->n_labels; i++) {
			if (i)
				jsonw_add(t, ", ", 2);
			if (r->labels[i])
				jsonw_add(t, r->labels[i], strlen(r->labels[i]));
		}
		return 1;
	}
	if (r->n_spans) {
		if (check_spans(w, r, 1, e) < 0)
			return -1;
		jsonw_addch(t, '[');
		for (size_t i = 0; i < r->n_spans; i++) {
			const struct rec_span *sp = &r->spans[i];
			size_t b0 = w->cp[sp->start], b1 = w->cp[sp->end];
			if (i)
				jsonw_addch(t, ',');
			JSONW_LIT(t, "{\"text\":");
			jsonw_str(t, r->text + b0, b1 - b0);
			JSONW_LIT(t, ",\"label\":");
			if (put_cstr(t, sp->label) < 0)
				return bad_field(e, r, "spans");
			jsonw_addch(t, '}');
		}
		jsonw_addch(t, ']');
		return 1;
	}
	return 0;
}

/* --- the formats ----------------------------------------------------------- */

/* {"id":..,  the chunk fields when chunks,  "text":.. */
static int put_head(struct buf *o, const struct rec *r, int chunks, struct moat_err *e)
{
	JSONW_LIT(o, "{\"id\":");
	if (put_cstr(o, r->id) < 0)
		return bad_field(e, r, "id");
	jsonw_addch(o, ',');
	if (chunks && put_chunk_fields(o, r, e) < 0)
		return -1;
	JSONW_LIT(o, "\"text\":");
	return put_text(o, r, e);
}

/* jsonl, and hf: the same fields, but for Arrow's one schema per file hf
 * has spans as objects, "answer" always (null when none) and the metadata
 * as a string of JSON, last (its keys differ from record to record, which
 * schema inference cannot take as a column). */
static int w_jsonl(struct rec_writer *w, struct buf *o, const struct rec *r, struct moat_err *e)
{
	int hf = w->f == F_HF;
	if (check_spans(w, r, 0, e) < 0 || put_head(o, r, w->chunks, e) < 0)
		return -1;
	if (!hf) {
		JSONW_LIT(o, ",\"metadata\":");
		if (put_meta(o, r, e) < 0)
			return -1;
	}
	JSONW_LIT(o, ",\"labels\":");
	if (put_labels(o, r, e) < 0)
		return -1;
	JSONW_LIT(o, ",\"spans\":");
	if (put_spans(o, r, hf, e) < 0)
		return -1;
	if (r->answer || hf) {
		JSONW_LIT(o, ",\"answer\":");
		if (put_cstr(o, r->answer) < 0)
			return bad_field(e, r, "answer");
	}
	if (r->synthetic)
		JSONW_LIT(o, ",\"synthetic\":true");
	else if (hf)  /* hf: a column in every record */
		JSONW_LIT(o, ",\"synthetic\":false");
	if (hf) {
		buf_reset(&w->scratch);
		if (put_meta(&w->scratch, r, e) < 0)
			return -1;
		JSONW_LIT(o, ",\"metadata\":");
		jsonw_str(o, buf_str(&w->scratch), w->scratch.len);
		if (buf_failed(&w->scratch))
			o->failed = buf_failed(&w->scratch);
	}
	jsonw_add(o, "}\n", 2);
	return 0;
}

static int w_rag(struct rec_writer *w, struct buf *o, const struct rec *r, struct moat_err *e)
{
	(void)w;
	if (put_head(o, r, 1, e) < 0)
		return -1;
	JSONW_LIT(o, ",\"metadata\":");
	if (put_meta(o, r, e) < 0)
		return -1;
	jsonw_add(o, "}\n", 2);
	return 0;
}

static int w_chat(struct rec_writer *w, struct buf *o, const struct rec *r, struct moat_err *e)
{
	int has = make_target(w, r, e);
	if (has < 0)
		return -1;
	JSONW_LIT(o, "{\"messages\":[");
	if (w->system_prompt) {
		JSONW_LIT(o, "{\"role\":\"system\",\"content\":");
		put_cstr(o, w->system_prompt);
		JSONW_LIT(o, "},");
	}
	JSONW_LIT(o, "{\"role\":\"user\",\"content\":");
	if (put_text(o, r, e) < 0)
		return -1;
	jsonw_addch(o, '}');
	if (has) {
		JSONW_LIT(o, ",{\"role\":\"assistant\",\"content\":");
		if (jsonw_str(o, buf_str(&w->target), w->target.len) < 0)
			return bad_field(e, r, r->answer ? "answer" : "labels");
		jsonw_addch(o, '}');
	}
	jsonw_add(o, "]}\n", 3);
	if (buf_failed(&w->target))
		o->failed = buf_failed(&w->target);
	return 0;
}

static int w_alpaca(struct rec_writer *w, struct buf *o, const struct rec *r, struct moat_err *e)
{
	int has = make_target(w, r, e);
	if (has < 0)
		return -1;
	JSONW_LIT(o, "{\"instruction\":");
	if (w->instruction) {
		put_cstr(o, w->instruction);
		JSONW_LIT(o, ",\"input\":");
		if (put_text(o, r, e) < 0)
			return -1;
	} else {
		if (put_text(o, r, e) < 0)
			return -1;
		JSONW_LIT(o, ",\"input\":\"\"");
	}
	JSONW_LIT(o, ",\"output\":");
	if (jsonw_str(o, has ? buf_str(&w->target) : "", has ? w->target.len : 0) < 0)
		return bad_field(e, r, r->answer ? "answer" : "labels");
	jsonw_add(o, "}\n", 2);
	if (buf_failed(&w->target))
		o->failed = buf_failed(&w->target);
	return 0;
}

/* --- CSV ------------------------------------------------------------------- */

static const char csv_head_docs[] = "id,text,labels,spans,answer,metadata\r\n";
static const char csv_head_chunks[] =
	"id,document,path,page_start,page_end,start,end,tokens,tokenizer,text,labels,spans,answer,"
	"metadata\r\n";

/* One cell (RFC 4180): quoted, with '"' doubled, when it holds a comma, a
 * quote, CR or LF (Python's csv QUOTE_MINIMAL); -1 when not UTF-8. */
static int put_cell(struct buf *o, const char *s, size_t n)
{
	size_t i, run = 0;
	if (!utf8_is_valid(s, n))
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			break;
	if (i == n) {
		jsonw_add(o, s, n);
		return 0;
	}
	jsonw_addch(o, '"');
	for (; i < n; i++) {
		if (s[i] == '"') {
			jsonw_add(o, s + run, i + 1 - run);
			jsonw_addch(o, '"');
			run = i + 1;
		}
	}
	jsonw_add(o, s + run, n - run);
	jsonw_addch(o, '"');
	return 0;
}

static int put_ccell(struct buf *o, const char *s)
{
	return put_cell(o, s ? s : "", s ? strlen(s) : 0);
}

static void put_ucell(struct buf *o, size_t v, int empty_when_zero)
{
	if (!(empty_when_zero && !v))
		jsonw_uint(o, v);
}

static int w_csv(struct rec_writer *w, struct buf *o, const struct rec *r, struct moat_err *e)
{
	struct buf *s = &w->scratch;
	if (check_spans(w, r, 0, e) < 0)
		return -1;
	if (put_ccell(o, r->id) < 0)
		return bad_field(e, r, "id");
	jsonw_addch(o, ',');
	if (w->chunks) {
		if (put_ccell(o, r->document) < 0)
			return bad_field(e, r, "document");
		jsonw_addch(o, ',');
		if (put_ccell(o, r->path) < 0)
			return bad_field(e, r, "path");
		jsonw_addch(o, ',');
		put_ucell(o, r->page_first, 1);
		jsonw_addch(o, ',');
		put_ucell(o, r->page_first ? (r->page_last >= r->page_first ? r->page_last
									    : r->page_first)
					   : 0, 1);
		jsonw_addch(o, ',');
		put_ucell(o, r->start, 0);
		jsonw_addch(o, ',');
		put_ucell(o, r->end, 0);
		jsonw_addch(o, ',');
		put_ucell(o, r->tokens, 0);
		jsonw_addch(o, ',');
		if (put_ccell(o, r->tokenizer) < 0)
			return bad_field(e, r, "tokenizer");
		jsonw_addch(o, ',');
	}
	if (put_cell(o, r->text ? r->text : "", r->text ? r->text_len : 0) < 0)
		return bad_field(e, r, "text");
	jsonw_addch(o, ',');
	buf_reset(s);
	for (size_t i = 0; i < r->n_labels; i++) {
		const char *l = r->labels[i] ? r->labels[i] : "";
		if (strchr(l, '|'))
			return err_set(e, MOAT_EUNSUPPORTED,
				       "record '%s': label '%s' holds '|', which separates labels in "
				       "csv (use jsonl)", r->id, l);
		if (i)
			jsonw_addch(s, '|');
		jsonw_add(s, l, strlen(l));
	}
	if (put_cell(o, buf_str(s), s->len) < 0)
		return bad_field(e, r, "labels");
	jsonw_addch(o, ',');
	if (r->n_spans) {
		buf_reset(s);
		if (put_spans(s, r, 0, e) < 0)
			return -1;
		put_cell(o, buf_str(s), s->len);
	}
	jsonw_addch(o, ',');
	if (r->answer && put_ccell(o, r->answer) < 0)
		return bad_field(e, r, "answer");
	jsonw_addch(o, ',');
	buf_reset(s);
	if (put_meta(s, r, e) < 0)
		return -1;
	if (put_cell(o, buf_str(s), s->len) < 0)
		return bad_field(e, r, "metadata");
	jsonw_add(o, "\r\n", 2);
	if (buf_failed(s))
		o->failed = buf_failed(s);
	return 0;
}

/* --- the writer ------------------------------------------------------------ */

static int name_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return 0;
	return 1;
}

struct rec_writer *rec_writer_open(const char *format, const char *dir, const struct rec_opts *o,
				   struct moat_err *e)
{
	struct rec_writer *w;
	struct rec_opts def = rec_default_opts();
	const char *ext;
	int f = fmt_of(format);
	if (f < 0) {
		err_set(e, MOAT_EUSAGE,
			"unknown record format '%s' (jsonl, csv, chat, alpaca, rag, hf)",
			format ? format : "");
		return NULL;
	}
	if (!o)
		o = &def;
	w = calloc(1, sizeof(*w));
	if (!w)
		goto nomem;
	w->f = (enum fmt)f;
	w->chunks = o->chunks || w->f == F_RAG;
	for (size_t i = 0; i < REC_MAX_SPLITS; i++)
		w->out[i].fd = -1;
	if (!(w->dir = strdup(dir)))
		goto nomem;
	if (o->system_prompt && !(w->system_prompt = strdup(o->system_prompt)))
		goto nomem;
	if (o->instruction && !(w->instruction = strdup(o->instruction)))
		goto nomem;
	if (o->system_prompt && !utf8_is_valid(o->system_prompt, strlen(o->system_prompt))) {
		err_set(e, MOAT_EUSAGE, "the system prompt is not UTF-8");
		goto fail;
	}
	if (o->instruction && !utf8_is_valid(o->instruction, strlen(o->instruction))) {
		err_set(e, MOAT_EUSAGE, "the instruction is not UTF-8");
		goto fail;
	}
	ext = w->f == F_CSV ? "csv" : "jsonl";
	for (size_t i = 0; i < REC_MAX_SPLITS && (o->splits[i] || i == 0); i++) {
		const char *name = o->splits[i] ? o->splits[i] : "train";
		if (!name_ok(name)) {
			err_set(e, MOAT_EUSAGE, "split name '%s': use letters, digits and '_'", name);
			goto fail;
		}
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(w->names[j], name)) {
				err_set(e, MOAT_EUSAGE, "split name '%s' given twice", name);
				goto fail;
			}
		}
		if (!(w->names[i] = strdup(name)))
			goto nomem;
		if (asprintf(&w->out[i].rel, "%s%s.%s", w->f == F_HF ? "data/" : "", name, ext) < 0) {
			w->out[i].rel = NULL;
			goto nomem;
		}
		w->n++;
	}
	if (w->f == F_HF) {
		char *data = fs_join(dir, "data");
		int rc;
		if (!data)
			goto nomem;
		rc = mkdir(data, 0755);
		if (rc < 0 && errno != EEXIST) {
			err_set(e, MOAT_EIO, "cannot create '%s': %s", data, strerror(errno));
			free(data);
			goto fail;
		}
		free(data);
	}
	return w;
nomem:
	err_set(e, MOAT_ENOMEM, "out of memory");
fail:
	rec_writer_free(w);
	return NULL;
}

static int open_split(struct rec_writer *w, unsigned k, struct moat_err *e)
{
	struct split_out *so = &w->out[k];
	char *path = fs_join(w->dir, so->rel);
	if (!path)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	so->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (so->fd < 0) {
		err_set(e, MOAT_EIO, "cannot create '%s': %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	so->created = 1;
	w->files[w->nfiles++] = so->rel;
	if (w->f == F_CSV)
		buf_adds(&so->b, w->chunks ? csv_head_chunks : csv_head_docs);
	return 0;
}

static int flush_split(struct rec_writer *w, struct split_out *so, struct moat_err *e)
{
	if (buf_failed(&so->b))
		return err_set(e, buf_failed(&so->b), "cannot write '%s/%s': %s", w->dir, so->rel,
			       moat_strerror(buf_failed(&so->b)));
	if (so->b.len && fs_write_all(so->fd, so->b.data, so->b.len) < 0)
		return err_set(e, MOAT_EIO, "cannot write '%s/%s': %s", w->dir, so->rel,
			       strerror(errno));
	buf_reset(&so->b);
	return 0;
}

int rec_write(struct rec_writer *w, const struct rec *r, struct moat_err *e)
{
	struct split_out *so;
	size_t mark;
	int rc;
	if (w->broken)
		return err_set(e, MOAT_EUSAGE, "record writer: an earlier write failed");
	if (w->finished)
		return err_set(e, MOAT_EUSAGE, "record writer: already finished");
	if (!r->id)
		return err_set(e, MOAT_EUSAGE, "a record without an id");
	if (r->split >= w->n)
		return err_set(e, MOAT_EUSAGE, "record '%s': split %u of %zu", r->id, r->split, w->n);
	so = &w->out[r->split];
	if (so->fd < 0 && open_split(w, r->split, e) < 0) {
		w->broken = 1;
		return -1;
	}
	mark = so->b.len;
	switch (w->f) {
	case F_JSONL:
	case F_HF: rc = w_jsonl(w, &so->b, r, e); break;
	case F_CSV: rc = w_csv(w, &so->b, r, e); break;
	case F_CHAT: rc = w_chat(w, &so->b, r, e); break;
	case F_ALPACA: rc = w_alpaca(w, &so->b, r, e); break;
	case F_RAG: rc = w_rag(w, &so->b, r, e); break;
	default: rc = err_set(e, MOAT_EUSAGE, "record writer: no format");
	}
	if (rc < 0 && !buf_failed(&so->b)) {
		/* bad data: the record is left out, the writer goes on */
		buf_setlen(&so->b, mark);
		return -1;
	}
	if (buf_failed(&so->b) || (so->b.len >= FLUSH_BYTES && flush_split(w, so, e) < 0)) {
		if (buf_failed(&so->b))
			flush_split(w, so, e);
		w->broken = 1;
		return -1;
	}
	so->count++;
	return 0;
}

int rec_writer_finish(struct rec_writer *w, struct moat_err *e)
{
	if (w->broken)
		return err_set(e, MOAT_EUSAGE, "record writer: an earlier write failed");
	if (w->finished)
		return 0;
	if (w->nfiles == 0 && open_split(w, 0, e) < 0)
		goto fail;
	for (size_t i = 0; i < w->n; i++) {
		struct split_out *so = &w->out[i];
		int fd = so->fd;
		if (fd < 0)
			continue;
		if (flush_split(w, so, e) < 0)
			goto fail;
		so->fd = -1;
		if (fsync(fd) < 0 || close(fd) < 0) {
			err_set(e, MOAT_EIO, "cannot write '%s/%s': %s", w->dir, so->rel,
				strerror(errno));
			close(fd);
			goto fail;
		}
	}
	w->finished = 1;
	return 0;
fail:
	w->broken = 1;
	return -1;
}

size_t rec_writer_count(const struct rec_writer *w, unsigned split)
{
	return split < w->n ? w->out[split].count : 0;
}

size_t rec_writer_files(const struct rec_writer *w, const char *const **files)
{
	*files = w->files;
	return w->nfiles;
}

void rec_writer_hf_yaml(const struct rec_writer *w, struct buf *out)
{
	JSONW_LIT(out, "---\nconfigs:\n- config_name: default\n  data_files:\n");
	for (size_t i = 0; i < w->n; i++) {
		if (!w->out[i].created)
			continue;
		buf_addf(out, "  - split: %s\n    path: %s\n", w->names[i], w->out[i].rel);
	}
	JSONW_LIT(out, "---\n");
}

void rec_writer_free(struct rec_writer *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < REC_MAX_SPLITS; i++) {
		if (w->out[i].fd >= 0)
			close(w->out[i].fd);
		free(w->out[i].rel);
		buf_release(&w->out[i].b);
		free(w->names[i]);
	}
	free(w->dir);
	free(w->system_prompt);
	free(w->instruction);
	buf_release(&w->scratch);
	buf_release(&w->target);
	free(w->cp);
	free(w);
}
