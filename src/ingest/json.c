/*
 * json.c - JSON and JSON Lines.  Each record (the array's items, the single
 * top-level object, or each line) becomes one "record" element: its text is
 * the string at --text-field (a dotted path, default "text"; numeric parts
 * index arrays), the record's other fields are the element's metadata.
 * A record that is a plain string is its own text.
 *
 * Not for: JSON that moat itself writes or reads back (core/jsonw.h,
 * wire.c); this is a reader of outside files only.
 */
#include "reader.h"
#include "../core/utf8.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

/* Follows a dotted path; returns a borrowed reference or NULL. */
static json_t *get_path(json_t *j, const char *path)
{
	char part[256];
	while (j && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof(part))
			return NULL;
		memcpy(part, path, n);
		part[n] = '\0';
		if (json_is_object(j)) {
			j = json_object_get(j, part);
		} else if (json_is_array(j) && n && strspn(part, "0123456789") == n) {
			j = json_array_get(j, strtoul(part, NULL, 10));
		} else {
			return NULL;
		}
		path += n + (path[n] == '.');
	}
	return j;
}

/* Removes the text field from a copy of the record, for the metadata. */
static json_t *meta_without(json_t *rec, const char *path)
{
	json_t *copy = json_deep_copy(rec), *parent = copy;
	const char *dot = strrchr(path, '.');
	if (!copy)
		return NULL;
	if (dot) {
		char *pp = strndup(path, (size_t)(dot - path));
		parent = pp ? get_path(copy, pp) : NULL;
		free(pp);
	}
	if (json_is_object(parent))
		json_object_del(parent, dot ? dot + 1 : path);
	return copy;
}

static int add_record(struct doc *d, json_t *rec, const char *field, size_t n,
		      struct moat_err *e)
{
	json_t *t;
	const char *s;
	if (json_is_string(rec)) {
		json_t *meta = json_pack("{s:I}", "record", (json_int_t)n);
		s = json_string_value(rec);
		/* At the element limit the caller stops (d->over_limit); only
		 * running out of memory is an error here. */
		if (!meta || (doc_add(d, EL_RECORD, 0, s, json_string_length(rec), meta) < 0 &&
			      !d->over_limit))
			return err_set(e, MOAT_ENOMEM, "out of memory");
		return 0;
	}
	t = get_path(rec, field);
	if (!t)
		return err_set(e, MOAT_EPARSE, "record %zu has no field '%s' (choose one with --text-field)",
			       n, field);
	if (!json_is_string(t))
		return err_set(e, MOAT_EPARSE, "record %zu: field '%s' is not a string", n, field);
	{
		json_t *meta = json_is_object(rec) ? meta_without(rec, field) : json_object();
		if (json_object_set_new(meta, "record", json_integer((json_int_t)n)) < 0) {
			json_decref(meta);
			return err_set(e, MOAT_ENOMEM, "out of memory");
		}
		if (doc_add(d, EL_RECORD, 0, json_string_value(t), json_string_length(t), meta) < 0 &&
		    !d->over_limit)
			return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	return 0;
}

int ingest_json(const unsigned char *data, size_t len, int lines, const struct ingest_opts *o,
		struct doc *d, struct moat_err *e)
{
	const char *field = o && o->text_field ? o->text_field : "text";
	struct buf t = BUF_INIT;
	json_error_t je;
	int rc = 0;
	d->encoding = utf8_decode_text(&t, data, len);
	if (buf_failed(&t) || json_object_set_new(d->meta, "text_field", json_string(field)) < 0) {
		buf_release(&t);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	if (!lines) {
		json_t *root = json_loadb(buf_str(&t), t.len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
		if (!root && strstr(je.text, "too big integer"))  /* keep it, as a real */
			root = json_loadb(buf_str(&t), t.len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES |
					  JSON_DECODE_INT_AS_REAL, &je);
		if (!root && json_error_code(&je) == json_error_out_of_memory) {
			rc = err_set(e, MOAT_ENOMEM, "out of memory");
		} else if (!root) {
			rc = err_set(e, MOAT_EPARSE, "invalid JSON at line %d, column %d: %s", je.line,
				     je.column, je.text);
		} else if (json_is_array(root)) {
			size_t i;
			json_t *rec;
			json_array_foreach(root, i, rec)
				if ((rc = add_record(d, rec, field, i + 1, e)) < 0 || d->over_limit)
					break;
		} else if (json_is_object(root) || json_is_string(root)) {
			rc = add_record(d, root, field, 1, e);
		} else {
			rc = err_set(e, MOAT_EPARSE, "the JSON holds a bare %s, not records",
				     json_is_number(root) ? "number" : "value");
		}
		json_decref(root);
	} else {
		const char *p = buf_str(&t), *end = p + t.len;
		size_t lineno = 0, n = 0;
		while (p < end && rc == 0 && !d->over_limit) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t ll = (size_t)((nl ? nl : end) - p);
			json_t *rec;
			lineno++;
			while (ll && isspace((unsigned char)p[ll - 1]))
				ll--;
			if (ll && strspn(p, " \t") < ll) {
				rec = json_loadb(p, ll, JSON_DECODE_ANY, &je);
				if (!rec && strstr(je.text, "too big integer"))
					rec = json_loadb(p, ll, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &je);
				if (!rec && json_error_code(&je) == json_error_out_of_memory) {
					rc = err_set(e, MOAT_ENOMEM, "out of memory");
					break;
				}
				if (!rec) {
					rc = err_set(e, MOAT_EPARSE, "line %zu: invalid JSON: %s", lineno, je.text);
					break;
				}
				rc = add_record(d, rec, field, ++n, e);
				if (rc < 0)
					err_prefix(e, "line %zu", lineno);
				json_decref(rec);
			}
			p = nl ? nl + 1 : end;
		}
	}
	buf_release(&t);
	return rc < 0 ? -1 : 0;
}
