/*
 * detect.c - which reader a file goes to: by content first for binary
 * formats (signatures, and for zips their [Content_Types].xml rather than
 * libmagic, which calls some PowerPoint files "Microsoft OOXML"), by
 * extension and libmagic for text.
 *
 * libmagic is trusted for binary formats and as a tie-breaker; for text it is
 * often wrong (Markdown read as HTML, CSV as plain text), so a known text
 * extension wins when the content is text.  When the extension names a
 * binary document format the content does not have, the file fails with both
 * named, rather than being read as something else.
 *
 * Not for: reading the file (parse.c picks the reader).  Uses libmagic,
 * core/datadir.h (its database) and docfmt.h's zip reader.
 */
#define _GNU_SOURCE
#include "ingest.h"
#include "docfmt.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <magic.h>

#include "../core/datadir.h"
#include "../core/fmt.h"
#include "../core/banned.h"

static __thread magic_t cookie;
static __thread int cookie_tried;
static pthread_key_t cookie_key;
static pthread_once_t cookie_once = PTHREAD_ONCE_INIT;

/* A thread's libmagic handle is closed when the thread ends. */
static void cookie_close(void *c)
{
	magic_close(c);
}

static void cookie_key_make(void)
{
	if (pthread_key_create(&cookie_key, cookie_close) != 0)
		cookie_key = (pthread_key_t)-1;
}

static const char *magic_mime(const unsigned char *data, size_t len)
{
	if (!cookie_tried) {
		cookie_tried = 1;
		struct datafile db = DATAFILE_INIT;
		datadir_magic(&db);  /* $MAGIC, a bundle's copy, or libmagic's own */
		cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
		if (cookie && magic_load(cookie, db.path) != 0) {
			magic_close(cookie);
			cookie = NULL;
		}
		datafile_release(&db);
		pthread_once(&cookie_once, cookie_key_make);
		if (cookie && cookie_key != (pthread_key_t)-1)
			pthread_setspecific(cookie_key, cookie);
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

/* Formats moat does not read; named so the failure says so. */
static const struct {
	const char *mime_prefix;
	const char *what;
} later[] = {
	{ "application/msword", "legacy Word (.doc) files are not supported (save as .docx)" },
	{ "application/vnd.ms-excel", "legacy Excel (.xls) files are not supported (save as .xlsx)" },
	{ "application/vnd.ms-powerpoint",
	  "legacy PowerPoint (.ppt) files are not supported (save as .pptx)" },
	{ "application/vnd.ms-outlook", "Outlook .msg files are not supported (save as .eml)" },
	{ "application/vnd.ms-", "legacy Office files are not supported" },
	{ "application/vnd.oasis.opendocument", "OpenDocument files are not supported" },
	{ "application/x-ole-storage", "legacy Office (OLE2) files are not supported" },
	{ "application/CDFV2", "legacy Office (OLE2) files are not supported" },
};

/* Extensions of the binary document formats, and the format they promise. */
static const struct {
	const char *ext;
	const char *format;
} doc_ext[] = {
	{ "pdf", "pdf" }, { "docx", "docx" }, { "docm", "docx" }, { "dotx", "docx" },
	{ "xlsx", "xlsx" }, { "xlsm", "xlsx" }, { "pptx", "pptx" }, { "pptm", "pptx" },
	{ "ppsx", "pptx" }, { "png", "image" }, { "jpg", "image" }, { "jpeg", "image" },
	{ "tif", "image" }, { "tiff", "image" }, { "webp", "image" }, { "bmp", "image" },
	{ "gif", "image" },
};

static const struct {
	const char *ext;
	const char *why;
} legacy_ext[] = {
	{ "doc", "legacy Word (.doc) files are not supported (save as .docx)" },
	{ "xls", "legacy Excel (.xls) files are not supported (save as .xlsx)" },
	{ "ppt", "legacy PowerPoint (.ppt) files are not supported (save as .pptx)" },
	{ "msg", "Outlook .msg files are not supported (save as .eml)" },
	{ "rtf", "RTF files are not supported" },
	{ "odt", "OpenDocument files are not supported" },
	{ "ods", "OpenDocument files are not supported" },
	{ "odp", "OpenDocument files are not supported" },
};

static int has_prefix(const unsigned char *d, size_t len, const char *sig, size_t n)
{
	return len >= n && !memcmp(d, sig, n);
}

/* The format a binary signature gives, or NULL. */
static const char *by_signature(const unsigned char *d, size_t len)
{
	size_t scan = len < 1024 ? len : 1024;
	if (len >= 5 && memmem(d, scan, "%PDF-", 5))
		return "pdf";
	if (has_prefix(d, len, "\x89PNG\r\n\x1a\n", 8) || has_prefix(d, len, "\xff\xd8\xff", 3) ||
	    has_prefix(d, len, "II*\0", 4) || has_prefix(d, len, "MM\0*", 4) ||
	    has_prefix(d, len, "GIF87a", 6) || has_prefix(d, len, "GIF89a", 6) ||
	    (len >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4)) ||
	    (len >= 26 && d[0] == 'B' && d[1] == 'M' && d[14] >= 12 && d[15] == 0 && d[16] == 0 &&
	     d[17] == 0))
		return "image";
	return NULL;
}

/* An RFC 5322 message: the first lines are header fields, among them at
 * least two that every mail carries. */
static int looks_like_email(const unsigned char *d, size_t len)
{
	static const char *const known[] = { "from:", "to:", "subject:", "date:", "message-id:",
					     "mime-version:", "received:", "return-path:",
					     "content-type:", "delivered-to:" };
	size_t i = 0, n = len > 16384 ? 16384 : len;
	int hits = 0, lines = 0;
	while (i < n && lines < 200) {
		size_t j = i, k;
		while (j < n && d[j] != '\n')
			j++;
		if (j == i || (j == i + 1 && d[i] == '\r'))
			break;  /* the blank line ending the header */
		if (d[i] != ' ' && d[i] != '\t') {
			for (k = i; k < j && d[k] != ':' && d[k] > ' ' && d[k] < 127; k++)
				;
			if (k == i || k >= j || d[k] != ':')
				return 0;
			for (size_t m = 0; m < sizeof(known) / sizeof(known[0]); m++)
				if (k + 1 - i == strlen(known[m]) && !strncasecmp((const char *)d + i, known[m], k + 1 - i))
					hits++;
		}
		lines++;
		i = j + 1;
	}
	return hits >= 2;
}

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
	if (mime_out && xsnprintf(mime_out, mime_size, "%s", mime ? mime : "application/octet-stream") < 0) {
		err_set(e, MOAT_ELIMIT, "libmagic's MIME type '%s' is too long", mime);
		return NULL;
	}
	{	/* binary documents: the content decides */
		const char *want = NULL, *sig;
		if (ext)
			for (size_t i = 0; i < sizeof(doc_ext) / sizeof(doc_ext[0]); i++)
				if (!strcasecmp(ext + 1, doc_ext[i].ext))
					want = doc_ext[i].format;
		if (want && len == 0) {
			err_set(e, MOAT_EPARSE, "empty file (0 bytes; a .%s file cannot be empty)",
				ext + 1);
			return NULL;
		}
		sig = by_signature(data, len);
		if (sig)
			return sig;
		if (has_prefix(data, len, "PK\003\004", 4)) {
			const char *k = ooxml_kind(data, len);
			struct ingest_opts big;
			struct moat_err ze = MOAT_ERR_INIT;
			struct ozip *z;
			if (k)
				return k;
			memset(&big, 0, sizeof(big));
			big.max_unzipped = (size_t)-1;
			big.max_zip_entries = ~0u;
			z = ozip_open(data, len, &big, &ze);
			if (!z) {  /* cut short or damaged: say so, not "unsupported" */
				err_set(e, MOAT_EPARSE, "%s", ze.msg);
				return NULL;
			}
			ozip_close(z);
			if (want && strcmp(want, "docx") && strcmp(want, "xlsx") && strcmp(want, "pptx")) {
				err_set(e, MOAT_EUNSUPPORTED, "the extension says .%s but the content is a "
					"zip archive", ext + 1);
				return NULL;
			}
			err_set(e, MOAT_EUNSUPPORTED, "%s (a zip archive without a Word, Excel or "
				"PowerPoint document in its [Content_Types].xml)",
				want ? "damaged or unsupported Office file" : "unsupported zip archive");
			return NULL;
		}
		if (has_prefix(data, len, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8)) {
			const char *why = "legacy Office (OLE2) files are not supported";
			for (size_t i = 0; ext && i < sizeof(legacy_ext) / sizeof(legacy_ext[0]); i++)
				if (!strcasecmp(ext + 1, legacy_ext[i].ext))
					why = legacy_ext[i].why;
			for (size_t i = 0; mime && i < sizeof(later) / sizeof(later[0]); i++)
				if (!strncmp(mime, later[i].mime_prefix, strlen(later[i].mime_prefix))) {
					why = later[i].what;
					break;
				}
			err_set(e, MOAT_EUNSUPPORTED, "%s", why);
			return NULL;
		}
		if (want) {
			err_set(e, MOAT_EUNSUPPORTED, "not %s: the extension says .%s but the "
				"content is %s", !strcmp(want, "pdf") ? "a PDF file" : !strcmp(want, "image") ?
				"an image" : "a Word, Excel or PowerPoint file", ext + 1,
				mime ? mime : "something else");
			return NULL;
		}
		for (size_t i = 0; ext && i < sizeof(legacy_ext) / sizeof(legacy_ext[0]); i++)
			if (!strcasecmp(ext + 1, legacy_ext[i].ext)) {
				err_set(e, MOAT_EUNSUPPORTED, "%s", legacy_ext[i].why);
				return NULL;
			}
	}
	text = is_texty(mime) || looks_like_text(data, len);
	if (text && len && ((ext && !strcasecmp(ext + 1, "eml")) ||
			    (mime && !strcmp(mime, "message/rfc822")) ||
			    (!ext && looks_like_email(data, len))))
		return "email";
	if (text && ext && !strcasecmp(ext + 1, "eml") && len == 0) {
		err_set(e, MOAT_EPARSE, "empty file (0 bytes; not an e-mail)");
		return NULL;
	}
	if (ext)
		for (size_t i = 0; i < sizeof(by_ext) / sizeof(by_ext[0]); i++)
			if (!strcasecmp(ext + 1, by_ext[i].ext))
				fmt = by_ext[i].format;
	if (fmt && text)
		return fmt;
	if (text && looks_like_email(data, len))
		return "email";
	if (mime && !text) {
		for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++)
			if (!strncmp(mime, later[i].mime_prefix, strlen(later[i].mime_prefix))) {
				err_set(e, MOAT_EUNSUPPORTED, "%s (%s)", later[i].what, mime);
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
