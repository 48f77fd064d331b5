/*
 * csv.c - CSV and TSV (RFC 4180: quoted fields, doubled quotes, CRLF or LF,
 * newlines inside quotes).  The first record is the header, kept as the first
 * element; every record is one table_row element whose text is its cells
 * joined by " | " and whose metadata maps each column name to its cell.
 * A .csv whose header has more ';' than ',' is read with ';' (European
 * spreadsheets).
 *
 * Not for: spreadsheets with formulas or several sheets (xlsx.c), nor
 * guessing types: every cell stays a string.
 */
#include "reader.h"
#include "../core/fmt.h"
#include "../core/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

struct row {
	char **cells;
	size_t n, alloc;
};

static void row_clear(struct row *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->cells[i]);
	r->n = 0;
}

static int row_push(struct row *r, struct buf *cell)
{
	if (r->n == r->alloc) {
		size_t n = r->alloc ? r->alloc * 2 : 16;
		char **p = realloc(r->cells, n * sizeof(*p));
		if (!p)
			return -1;
		r->cells = p;
		r->alloc = n;
	}
	r->cells[r->n] = buf_detach(cell, NULL);
	if (!r->cells[r->n])
		return -1;
	r->n++;
	return 0;
}

/* Reads one record starting at *pos; returns 1 with a row, 0 at the end,
 * -1 on a malformed record (e says why). */
static int next_record(const char *s, size_t len, size_t *pos, char delim, struct row *r,
		       size_t *line, struct moat_err *e)
{
	struct buf cell = BUF_INIT;
	size_t i = *pos;
	int quoted = 0, any = 0;
	row_clear(r);
	if (i >= len)
		return 0;
	for (;;) {
		if (i >= len) {
			if (quoted) {
				buf_release(&cell);
				return err_set(e, MOAT_EPARSE, "line %zu: a quoted field is not closed", *line);
			}
			break;
		}
		char c = s[i];
		if (quoted) {
			if (c == '"') {
				if (i + 1 < len && s[i + 1] == '"') {
					buf_addch(&cell, '"');
					i += 2;
				} else {
					quoted = 0;
					i++;
				}
			} else {
				if (c == '\n')
					(*line)++;
				buf_addch(&cell, c);
				i++;
			}
			continue;
		}
		if (c == '"' && cell.len == 0) {
			quoted = 1;
			any = 1;
			i++;
		} else if (c == delim) {
			if (row_push(r, &cell) < 0)
				goto nomem;
			any = 1;
			i++;
		} else if (c == '\r' || c == '\n') {
			i += (c == '\r' && i + 1 < len && s[i + 1] == '\n') ? 2 : 1;
			(*line)++;
			break;
		} else {
			buf_addch(&cell, c);
			any = 1;
			i++;
		}
	}
	if (row_push(r, &cell) < 0)
		goto nomem;
	*pos = i;
	(void)any;
	return 1;
nomem:
	buf_release(&cell);
	return err_set(e, MOAT_ENOMEM, "out of memory");
}

int ingest_csv(const unsigned char *data, size_t len, char delim, const struct ingest_opts *o,
	       struct doc *d, struct moat_err *e)
{
	struct buf t = BUF_INIT, line = BUF_INIT;
	struct row header = { 0 }, r = { 0 };
	size_t pos = 0, lineno = 1, rows = 0;
	json_t *cols = json_array();
	int rc = 0, got;
	(void)o;
	d->encoding = utf8_decode_text(&t, data, len);
	if (buf_failed(&t)) {
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (delim == ',') {
		size_t commas = 0, semis = 0;
		for (size_t i = 0; i < t.len && t.data[i] != '\n'; i++) {
			commas += t.data[i] == ',';
			semis += t.data[i] == ';';
		}
		if (semis > commas)
			delim = ';';
	}
	got = next_record(buf_str(&t), t.len, &pos, delim, &header, &lineno, e);
	if (got <= 0) {
		rc = got;  /* empty file: no elements, not an error */
		goto out;
	}
	for (size_t i = 0; i < header.n; i++)
		if (json_array_append_new(cols, json_string(header.cells[i])) < 0)
			goto nomem;
	if (json_object_set(d->meta, "columns", cols) < 0 ||
	    json_object_set_new(d->meta, "delimiter", json_sprintf("%c", delim)) < 0)
		goto nomem;
	for (size_t i = 0; i < header.n; i++)
		buf_addf(&line, "%s%s", i ? " | " : "", header.cells[i]);
	if (buf_failed(&line))
		goto nomem;
	if (doc_add(d, EL_TABLE_ROW, 0, buf_str(&line), line.len, json_pack("{s:b}", "header", 1)) < 0)
		goto out;  /* over the limit (or out of memory): ingest_parse says which */
	while ((got = next_record(buf_str(&t), t.len, &pos, delim, &r, &lineno, e)) > 0) {
		json_t *cells, *m;
		if (r.n == 1 && r.cells[0][0] == '\0')
			continue;  /* blank line */
		cells = json_object();
		buf_reset(&line);
		for (size_t i = 0; i < r.n && cells; i++) {
			char name[32];  /* "column_" and at most 20 digits */
			const char *key = i < header.n && header.cells[i][0] ? header.cells[i] : NULL;
			if (!key && xsnprintf(name, sizeof(name), "column_%zu", i + 1) >= 0)
				key = name;
			if (!key || json_object_set_new(cells, key, json_string(r.cells[i])) < 0) {
				json_decref(cells);
				cells = NULL;
			}
			buf_addf(&line, "%s%s", i ? " | " : "", r.cells[i]);
		}
		rows++;
		m = cells ? json_pack("{s:I, s:o}", "row", (json_int_t)rows, "cells", cells) : NULL;
		if (m && buf_failed(&line))
			json_decref(m), m = NULL;
		if (!m)
			goto nomem;
		if (doc_add(d, EL_TABLE_ROW, 0, buf_str(&line), line.len, m) < 0)
			break;
	}
	if (got < 0)
		rc = -1;
	if (json_object_set_new(d->meta, "rows", json_integer((json_int_t)rows)) < 0)
		goto nomem;
	goto out;
nomem:
	rc = err_set(e, MOAT_ENOMEM, "out of memory");
out:
	json_decref(cols);
	row_clear(&header);
	row_clear(&r);
	free(header.cells);
	free(r.cells);
	buf_release(&line);
	buf_release(&t);
	return rc;
}
