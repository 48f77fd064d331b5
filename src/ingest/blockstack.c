/*
 * blockstack.c - the HTML and Markdown readers' stack of open blocks (see
 * blockstack.h).
 */
#include "blockstack.h"
#include "docfmt.h"

#include <stdlib.h>

#include "../core/banned.h"

struct bframe *bstack_push(struct bstack *s, enum bf_role role, int kind)
{
	struct bframe *f;
	if (s->n == s->alloc) {
		size_t n = s->alloc ? s->alloc * 2 : 64;
		struct bframe *p = realloc(s->st, n * sizeof(*p));
		if (!p)
			return NULL;
		for (size_t i = s->alloc; i < n; i++) {
			buf_init(&p[i].text, 0);
			p[i].cells = NULL;
		}
		s->st = p;
		s->alloc = n;
	}
	f = &s->st[s->n];
	switch (role) {
	case BF_INHERIT:
		f->coll = s->n ? s->st[s->n - 1].coll : -1;
		f->sidx = s->n ? s->st[s->n - 1].sidx : -1;
		break;
	case BF_BARRIER:
	case BF_TABLE:
	case BF_ROW:
		f->coll = -1;
		f->sidx = (long)s->n;
		break;
	case BF_COLLECT:
		f->coll = f->sidx = (long)s->n;
		break;
	}
	s->n++;
	f->role = role;
	f->kind = kind;
	f->type = 0;
	f->level = 0;
	f->pre = f->absorbed = 0;
	f->brk = f->sp = 0;
	buf_reset(&f->text);
	f->cells = NULL;
	if (role == BF_TABLE || role == BF_ROW) {
		f->cells = json_array();
		if (!f->cells)
			return NULL;
	}
	return f;
}

struct bframe *bstack_pop(struct bstack *s)
{
	return s->n ? &s->st[--s->n] : NULL;
}

void bstack_done(struct bframe *f)
{
	json_decref(f->cells);
	f->cells = NULL;
}

struct bframe *bstack_collector(const struct bstack *s)
{
	long i = s->n ? s->st[s->n - 1].coll : -1;
	return i >= 0 ? &s->st[i] : NULL;
}

struct bframe *bstack_structural(const struct bstack *s)
{
	long i = s->n ? s->st[s->n - 1].sidx : -1;
	return i >= 0 ? &s->st[i] : NULL;
}

int bstack_cell_done(struct bstack *st, const struct bframe *cell, const char *s, size_t n)
{
	struct bframe *row = bstack_structural(st);
	if (buf_failed(&cell->text))
		return -1;
	if (row && row->role == BF_ROW && row->cells &&
	    json_array_append_new(row->cells, json_stringn(s, n)) < 0)
		return -1;
	return 0;
}

int bstack_row_done(struct bstack *st, const struct bframe *row, int skip_empty)
{
	struct bframe *table = bstack_structural(st);
	int any = !skip_empty;
	size_t i;
	json_t *cell;
	json_array_foreach(row->cells, i, cell)
		any |= json_string_length(cell) > 0;
	if (any && table && table->role == BF_TABLE && table->cells && row->cells &&
	    json_array_append(table->cells, row->cells) < 0)
		return -1;
	return 0;
}

json_t *bstack_table(const struct bframe *table, struct buf *t, int *nomem)
{
	json_t *meta;
	table_join(table->cells, t);
	if (buf_failed(t)) {
		*nomem = 1;
		return NULL;
	}
	if (!json_array_size(table->cells))
		return NULL;
	meta = json_pack("{s:O}", "rows", table->cells);
	if (!meta)
		*nomem = 1;
	return meta;
}

void bstack_release(struct bstack *s)
{
	for (size_t i = 0; i < s->alloc; i++) {
		buf_release(&s->st[i].text);
		if (i < s->n)
			json_decref(s->st[i].cells);
	}
	free(s->st);
	s->st = NULL;
	s->n = s->alloc = 0;
}
