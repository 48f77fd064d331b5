/*
 * detect.c - which reader a file goes to: by content (libmagic) and by
 * extension, and ingest_parse(), the dispatcher.
 *
 * libmagic is trusted for binary formats and as a tie-breaker; for text it is
 * often wrong (Markdown read as HTML, CSV as plain text), so a known text
 * extension wins when the content is text.
 */
#define _GNU_SOURCE
#include "ingest.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <magic.h>

#include "../core/banned.h"

static __thread magic_t cookie;
static __thread int cookie_tried;

static const char *magic_mime(const unsigned char *data, size_t len)
{
	if (!cookie_tried) {
		cookie_tried = 1;
		cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
		if (cookie && magic_load(cookie, NULL) != 0) {
			magic_close(cookie);
			cookie = NULL;
		}
	}
	if (!cookie)
		return NULL;
	/* The first 1 MiB is plenty for every format's signature. */
	return magic_buffer(cookie, data, len > (1u << 20) ? (1u << 20) : len);
}

static const struct {
	const char *ext;
	const char *format;
} by_ext[] = {
	{ "txt", "text" }, { "text", "text" }, { "log", "text" }, { "md", "markdown" },
	{ "markdown", "markdown" }, { "mdown", "markdown" }, { "mkd", "markdown" },
	{ "html", "html" }, { "htm", "html" }, { "xhtml", "html" }, { "csv", "csv" },
	{ "tsv", "tsv" }, { "tab", "tsv" }, { "json", "json" }, { "jsonl", "jsonl" },
	{ "ndjson", "jsonl" },
};

/* Formats another issue will read; named so the failure says so. */
static const struct {
	const char *mime_prefix;
	const char *what;
} later[] = {
	{ "application/pdf", "PDF" },
	{ "application/vnd.openxmlformats", "Office Open XML" },
	{ "application/msword", "legacy Word (.doc)" },
	{ "application/vnd.ms-", "legacy Office" },
	{ "message/rfc822", "e-mail" },
	{ "image/", "image" },
};

static int is_texty(const char *mime)
{
	return mime && (!strncmp(mime, "text/", 5) || !strcmp(mime, "application/json") ||
			!strcmp(mime, "application/csv") || !strcmp(mime, "application/x-ndjson") ||
			!strcmp(mime, "application/javascript") || !strcmp(mime, "inode/x-empty") ||
			!strcmp(mime, "application/xml"));
}

/* Text in a legacy 8-bit or UTF-16 encoding reads as "data" to libmagic;
 * accept it when it has no NUL bytes (or is UTF-16 with a BOM). */
static int looks_like_text(const unsigned char *d, size_t len)
{
	size_t n = len > 65536 ? 65536 : len, ctrl = 0;
	if (len >= 2 && ((d[0] == 0xFF && d[1] == 0xFE) || (d[0] == 0xFE && d[1] == 0xFF)))
		return 1;
	for (size_t i = 0; i < n; i++) {
		if (d[i] == 0)
			return 0;
		if (d[i] < 0x20 && d[i] != '\n' && d[i] != '\r' && d[i] != '\t' && d[i] != '\f')
			ctrl++;
	}
	return ctrl * 100 <= n;
}

const char *ingest_detect(const char *path, const unsigned char *data, size_t len,
			  char *mime_out, size_t mime_size, struct moat_err *e)
{
	const char *ext = strrchr(path, '.'), *slash = strrchr(path, '/');
	const char *mime = magic_mime(data, len);
	const char *fmt = NULL;
	int text;
	if (ext && slash && ext < slash)
		ext = NULL;
	if (mime_out)
		snprintf(mime_out, mime_size, "%s", mime ? mime : "application/octet-stream");
	text = is_texty(mime) || looks_like_text(data, len);
	if (ext)
		for (size_t i = 0; i < sizeof(by_ext) / sizeof(by_ext[0]); i++)
			if (!strcasecmp(ext + 1, by_ext[i].ext))
				fmt = by_ext[i].format;
	if (fmt && text)
		return fmt;
	if (mime && !text) {
		for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++)
			if (!strncmp(mime, later[i].mime_prefix, strlen(later[i].mime_prefix))) {
				err_set(e, MOAT_EUNSUPPORTED, "%s files are not supported yet (%s)",
					later[i].what, mime);
				return NULL;
			}
		err_set(e, MOAT_EUNSUPPORTED, "unsupported file type '%s'%s", mime,
			fmt ? " (the extension says text, the content does not)" : "");
		return NULL;
	}
	if (!text) {
		err_set(e, MOAT_EUNSUPPORTED, "unsupported file type (binary content)");
		return NULL;
	}
	if (mime && !strcmp(mime, "text/html"))
		return "html";
	if (mime && !strcmp(mime, "application/json"))
		return "json";
	if (mime && (!strcmp(mime, "text/csv") || !strcmp(mime, "application/csv")))
		return "csv";
	if (mime && !strcmp(mime, "text/markdown"))
		return "markdown";
	return "text";
}

int ingest_parse(const char *format, const unsigned char *data, size_t len,
		 const struct ingest_opts *o, struct doc *d, struct moat_err *e)
{
	int rc;
	d->format = format;
	if (!strcmp(format, "text"))
		rc = ingest_text(data, len, o, d, e);
	else if (!strcmp(format, "markdown"))
		rc = ingest_markdown(data, len, o, d, e);
	else if (!strcmp(format, "html"))
		rc = ingest_html(data, len, o, d, e);
	else if (!strcmp(format, "csv"))
		rc = ingest_csv(data, len, ',', o, d, e);
	else if (!strcmp(format, "tsv"))
		rc = ingest_csv(data, len, '\t', o, d, e);
	else if (!strcmp(format, "json"))
		rc = ingest_json(data, len, 0, o, d, e);
	else if (!strcmp(format, "jsonl"))
		rc = ingest_json(data, len, 1, o, d, e);
	else
		return err_set(e, MOAT_EUNSUPPORTED, "unknown format '%s'", format);
	if (rc == 0 && d->over_limit)
		return err_set(e, MOAT_ELIMIT, "more than %zu elements (raise --max-elements)",
			       d->limits.max_elements);
	return rc;
}
