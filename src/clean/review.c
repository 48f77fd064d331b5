/*
 * review.c - `moat pii review` as a library call: findings accepted or
 * rejected by id, and the cleaned text of every document concerned rendered
 * again from its normalised text and the findings not rejected (a rejected
 * finding's value stays in the text).
 *
 * Not for: listing findings (store/cleaned.h, clean_store_findings) or the
 * audit record (the caller appends it).
 */
#include "stage_int.h"

#include <stdlib.h>
#include <string.h>

#include "../core/banned.h"

static int rerender(struct store *s, const char *doc, struct moat_err *e)
{
	struct clean_render_in in;
	struct buf out = BUF_INIT;
	size_t *spans = NULL, n1, cps = 0;
	int *seq = NULL, rc = -1;
	if (clean_store_render_input(s, doc, &in, e) < 0) {
		clean_store_render_free(&in);
		return -1;
	}
	n1 = in.n_el + 1;
	spans = calloc(4 * n1, sizeof(size_t));  /* norm start, end; final start, end */
	seq = calloc(n1, sizeof(int));
	if (!spans || !seq) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < in.n_el; i++) {
		spans[i] = in.el[i].norm_start;
		spans[n1 + i] = in.el[i].norm_end;
		seq[i] = in.el[i].seq;
	}
	if (clean_render(in.norm_text, in.norm_len, in.r, in.n_r, &out, &cps, spans, spans + n1,
			 in.n_el, spans + 2 * n1, spans + 3 * n1) < 0) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	rc = clean_store_update_text(s, doc, buf_str(&out), out.len, cps, spans + 2 * n1,
				     spans + 3 * n1, seq, in.n_el, e);
out:
	free(spans);
	free(seq);
	buf_release(&out);
	clean_store_render_free(&in);
	return rc;
}

/* Adds doc to the array docs unless it is there; -1 when out of memory. */
static int add_once(json_t *docs, const char *doc)
{
	size_t k;
	json_t *d;
	json_array_foreach(docs, k, d)
		if (!strcmp(json_string_value(d), doc))
			return 0;
	return json_array_append_new(docs, json_string(doc));
}

int clean_review(struct store *s, json_t *accept, json_t *reject, int64_t *changed, json_t **outputs,
		 struct moat_err *e)
{
	json_t *docs = json_array();
	size_t i;
	json_t *id;
	*changed = 0;
	*outputs = NULL;
	if (!docs)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	for (int pass = 0; pass < 2; pass++)
	json_array_foreach(pass ? reject : accept, i, id) {
		char doc[65];
		if (clean_store_set_review(s, json_integer_value(id), pass ? "rejected" : "accepted", doc,
					   e) < 0) {
			json_decref(docs);
			return -1;
		}
		if (add_once(docs, doc) < 0) {
			json_decref(docs);
			return err_set(e, MOAT_ENOMEM, "out of memory");
		}
	}
	json_array_foreach(docs, i, id) {
		if (rerender(s, json_string_value(id), e) < 0) {
			json_decref(docs);
			return -1;
		}
		(*changed)++;
	}
	*outputs = json_pack("{s:o}", "documents", docs);
	if (!*outputs)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return 0;
}
