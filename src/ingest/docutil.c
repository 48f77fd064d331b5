/*
 * docutil.c - helpers the document readers share (see docfmt.h): option
 * defaults, paragraph joining with de-hyphenation, the zip reader
 * with its limits against zip bombs, and the DTD-refusing XML parser.
 *
 * Not for: anything a single reader needs alone (it stays in that reader's
 * file); nothing here calls another file of src/ingest.
 */
#include "docfmt.h"
#include "../core/utf8.h"
#include "../core/xml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <zip.h>

#include "../core/banned.h"

/* --- limits --------------------------------------------------------------- */

size_t docfmt_max_memory(const struct ingest_opts *o)
{
	return o && o->max_memory ? o->max_memory : (size_t)2 << 30;
}

unsigned docfmt_max_cpu(const struct ingest_opts *o)
{
	return o && o->max_cpu ? o->max_cpu : 900;
}

unsigned docfmt_max_pages(const struct ingest_opts *o)
{
	return o && o->max_pages ? o->max_pages : 10000;
}

size_t docfmt_max_unzipped(const struct ingest_opts *o)
{
	return o && o->max_unzipped ? o->max_unzipped : (size_t)512 << 20;
}

unsigned docfmt_max_zip_ratio(const struct ingest_opts *o)
{
	return o && o->max_zip_ratio ? o->max_zip_ratio : 200;
}

unsigned docfmt_max_zip_entries(const struct ingest_opts *o)
{
	return o && o->max_zip_entries ? o->max_zip_entries : 10000;
}

int docfmt_ocr_dpi(const struct ingest_opts *o)
{
	return o && o->ocr_dpi > 0 ? o->ocr_dpi : 300;
}

const char *docfmt_ocr_lang(const struct ingest_opts *o)
{
	return o && o->ocr_lang && *o->ocr_lang ? o->ocr_lang : "eng";
}

/* --- errors --------------------------------------------------------------- */

int docfmt_limit_error(const struct doc *d, struct moat_err *e)
{
	if (d->nomem)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return err_set(e, MOAT_ELIMIT, "more than %zu elements (raise --max-elements)",
		       d->limits.max_elements);
}

/* --- text ----------------------------------------------------------------- */

int utf8_starts_lower(const char *s, size_t len)
{
	uint32_t c;
	if (!len || !utf8_decode((const unsigned char *)s, len, &c))
		return 0;
	if (c < 0x80)
		return c >= 'a' && c <= 'z';
	if (c >= 0xDF && c <= 0xFF)
		return c != 0xF7;
	if (c >= 0x100 && c <= 0x17F)
		return c & 1;  /* Latin Extended-A alternates upper, lower (close enough) */
	if ((c >= 0x3AC && c <= 0x3CE) || (c >= 0x430 && c <= 0x45F))
		return 1;      /* Greek, Cyrillic lowercase */
	return 0;
}

/* The code point that ends s[0..len), and where it starts. */
static uint32_t last_cp(const char *s, size_t len, size_t *at)
{
	size_t i = len;
	uint32_t c = 0;
	if (!len)
		return 0;
	i--;
	while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	if (!utf8_decode((const unsigned char *)s + i, len - i, &c))
		c = 0xFFFD;
	*at = i;
	return c;
}

static int is_letter_cp(uint32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c != 0xD7 &&
								   c != 0xF7 && c != 0x2010 &&
								   c != 0xAD);
}

void para_add_line(struct buf *para, const char *line, size_t len)
{
	size_t at = 0, before = 0;
	uint32_t c;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (!len)
		return;
	if (!para->len) {
		buf_add(para, line, len);
		return;
	}
	c = last_cp(para->data, para->len, &at);
	if ((c == '-' || c == 0xAD || c == 0x2010) && at > 0 &&
	    is_letter_cp(last_cp(para->data, at, &before))) {
		/* "exam-" + "ple": one word; "Trace-" + "Monkey": a compound, kept */
		if (utf8_starts_lower(line, len) || c == 0xAD)
			buf_setlen(para, at);
		buf_add(para, line, len);
		return;
	}
	if (c != ' ')
		buf_addch(para, ' ');
	buf_add(para, line, len);
}

void text_squeeze(struct buf *b)
{
	size_t j = 0;
	int space = 1;
	for (size_t i = 0; i < b->len; i++) {
		char ch = b->data[i];
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v') {
			if (!space)
				b->data[j++] = ' ';
			space = 1;
		} else {
			b->data[j++] = ch;
			space = 0;
		}
	}
	while (j && b->data[j - 1] == ' ')
		j--;
	if (b->data)
		buf_setlen(b, j);
}

/* --- zip ------------------------------------------------------------------ */

struct ozip {
	zip_t *z;
	zip_source_t *src;
	size_t n;
	size_t max_total, total;
	unsigned max_ratio;
};

struct ozip *ozip_open(const unsigned char *data, size_t len, const struct ingest_opts *o,
		       struct moat_err *e)
{
	zip_error_t zerr;
	struct ozip *z = calloc(1, sizeof(*z));
	zip_int64_t n;
	uint64_t declared = 0;
	if (!z) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	z->max_total = docfmt_max_unzipped(o);
	z->max_ratio = docfmt_max_zip_ratio(o);
	zip_error_init(&zerr);
	z->src = zip_source_buffer_create(data, len, 0, &zerr);
	if (!z->src)
		goto bad;
	z->z = zip_open_from_source(z->src, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
	if (!z->z) {
		zip_source_free(z->src);
		goto bad;
	}
	n = zip_get_num_entries(z->z, 0);
	if (n < 0)
		n = 0;
	z->n = (size_t)n;
	if (z->n > docfmt_max_zip_entries(o)) {
		err_set(e, MOAT_ELIMIT, "zip with %zu entries (more than %u: zip bomb?)", z->n,
			docfmt_max_zip_entries(o));
		ozip_close(z);
		return NULL;
	}
	for (size_t i = 0; i < z->n; i++) {
		zip_stat_t st;
		if (zip_stat_index(z->z, i, 0, &st) == 0 && (st.valid & ZIP_STAT_SIZE))
			declared += st.size;
	}
	if (declared > z->max_total) {
		err_set(e, MOAT_ELIMIT,
			"zip unpacks to %llu bytes (more than the limit of %zu: zip bomb?)",
			(unsigned long long)declared, z->max_total);
		ozip_close(z);
		return NULL;
	}
	zip_error_fini(&zerr);
	return z;
bad:
	if (zip_error_code_zip(&zerr) == ZIP_ER_MEMORY)  /* a limit reached, not a damaged file */
		err_set(e, MOAT_ENOMEM, "out of memory");
	else
		err_set(e, MOAT_EPARSE, "damaged zip archive (%s)", zip_error_strerror(&zerr));
	zip_error_fini(&zerr);
	free(z);
	return NULL;
}

void ozip_close(struct ozip *z)
{
	if (!z)
		return;
	if (z->z)
		zip_discard(z->z);
	free(z);
}

size_t ozip_count(struct ozip *z)
{
	return z->n;
}

const char *ozip_name(struct ozip *z, size_t index)
{
	const char *s = zip_get_name(z->z, index, ZIP_FL_ENC_GUESS);
	return s ? s : "";
}

int ozip_has(struct ozip *z, const char *name)
{
	while (*name == '/')
		name++;
	return zip_name_locate(z->z, name, ZIP_FL_NOCASE) >= 0;
}

int ozip_read(struct ozip *z, const char *name, struct buf *out, struct moat_err *e)
{
	zip_int64_t idx;
	zip_stat_t st;
	zip_file_t *f;
	char chunk[65536];
	zip_int64_t got;
	size_t entry = 0;
	while (*name == '/')
		name++;
	buf_reset(out);
	idx = zip_name_locate(z->z, name, ZIP_FL_NOCASE);
	if (idx < 0)
		return err_set(e, MOAT_ENOTFOUND, "no part '%s' in the zip", name);
	if (zip_stat_index(z->z, (zip_uint64_t)idx, 0, &st) < 0)
		return err_set(e, MOAT_EPARSE, "damaged zip entry '%s'", name);
	f = zip_fopen_index(z->z, (zip_uint64_t)idx, 0);
	if (!f)
		return err_set(e, MOAT_EPARSE, "cannot read zip entry '%s' (%s)", name,
			       zip_strerror(z->z));
	while ((got = zip_fread(f, chunk, sizeof(chunk))) > 0) {
		entry += (size_t)got;
		z->total += (size_t)got;
		if (z->total > z->max_total) {
			zip_fclose(f);
			return err_set(e, MOAT_ELIMIT,
				       "zip unpacks to more than the limit of %zu bytes (zip bomb?)",
				       z->max_total);
		}
		/* Small parts can compress well legitimately; the ratio is
		 * checked once a part passes 1 MiB. */
		if (entry > ((size_t)1 << 20) && (st.valid & ZIP_STAT_COMP_SIZE) &&
		    entry / (st.comp_size ? st.comp_size : 1) > z->max_ratio) {
			zip_fclose(f);
			return err_set(e, MOAT_ELIMIT,
				       "zip entry '%s' expands more than %u times (zip bomb?)", name,
				       z->max_ratio);
		}
		buf_add(out, chunk, (size_t)got);
	}
	if (got < 0) {
		err_set(e, MOAT_EPARSE, "damaged zip entry '%s' (%s)", name, zip_file_strerror(f));
		zip_fclose(f);
		return -1;
	}
	zip_fclose(f);
	if (buf_failed(out))
		return err_set(e, MOAT_ENOMEM, "out of memory reading '%s'", name);
	return 0;
}

const char *ooxml_kind(const unsigned char *data, size_t len)
{
	struct ingest_opts o;
	struct ozip *z;
	struct buf ct = BUF_INIT;
	const char *kind = NULL;
	memset(&o, 0, sizeof(o));
	o.max_unzipped = (size_t)4 << 30;  /* detection reads one small part */
	o.max_zip_entries = 1u << 30;
	if (len < 4 || memcmp(data, "PK\003\004", 4))
		return NULL;
	z = ozip_open(data, len, &o, NULL);
	if (!z)
		return NULL;
	ct.max = 4u << 20;
	if (ozip_read(z, "[Content_Types].xml", &ct, NULL) == 0) {
		const char *s = buf_str(&ct);
		if (strstr(s, "wordprocessingml.document.main+xml") ||
		    strstr(s, "wordprocessingml.template.main+xml") ||
		    strstr(s, "ms-word.document.macroEnabled.main+xml"))
			kind = "docx";
		else if (strstr(s, "spreadsheetml.sheet.main+xml") ||
			 strstr(s, "spreadsheetml.template.main+xml") ||
			 strstr(s, "ms-excel.sheet.macroEnabled.main+xml"))
			kind = "xlsx";
		else if (strstr(s, "presentationml.presentation.main+xml") ||
			 strstr(s, "presentationml.slideshow.main+xml") ||
			 strstr(s, "presentationml.template.main+xml") ||
			 strstr(s, "ms-powerpoint.presentation.macroEnabled.main+xml"))
			kind = "pptx";
	}
	buf_release(&ct);
	ozip_close(z);
	return kind;
}

/* --- XML ------------------------------------------------------------------ */

xmlDocPtr xml_parse_safe(const char *data, size_t len, const char *what, struct moat_err *e)
{
	struct xml_why why;
	xmlDocPtr doc = xml_read_safe(data, len, XML_PARSE_NOCDATA | XML_PARSE_COMPACT, &why);
	if (doc)
		return doc;
	if (why.fail == XML_TOO_LARGE)
		err_set(e, MOAT_ELIMIT, "XML part '%s' is too large", what);
	else if (why.fail == XML_NOMEM)
		err_set(e, MOAT_ENOMEM, "out of memory");
	else if (why.fail == XML_DTD)
		err_set(e, MOAT_EUNSUPPORTED,
			"XML part '%s' declares a DTD (refused: entity expansion and external "
			"entities are off)", what);
	else
		err_set(e, MOAT_EPARSE, "malformed XML in '%s'%s%s", what, why.msg[0] ? ": " : "",
			why.msg);
	return NULL;
}

int xml_is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

char *xml_attr(const xmlNode *n, const char *name)
{
	for (xmlAttr *a = n ? n->properties : NULL; a; a = a->next)
		if (!strcmp((const char *)a->name, name))
			return (char *)xmlNodeGetContent((xmlNode *)a);
	return NULL;
}

/* table_text(), and with trim 0 table_join(). */
static void join_rows(json_t *rows, struct buf *out, int trim)
{
	size_t i, j;
	json_t *row, *cell;
	json_array_foreach(rows, i, row) {
		size_t start = out->len;
		if (i)
			buf_addch(out, '\n'), start++;
		json_array_foreach(row, j, cell) {
			if (j)
				buf_adds(out, " | ");
			buf_adds(out, json_string_value(cell) ? json_string_value(cell) : "");
		}
		while (trim && out->len > start && out->data[out->len - 1] == ' ')
			buf_setlen(out, out->len - 1);
	}
}

void table_text(json_t *rows, struct buf *out)
{
	join_rows(rows, out, 1);
}

void table_join(json_t *rows, struct buf *out)
{
	join_rows(rows, out, 0);
}
