/*
 * blockstack.h - the stack of open blocks that the HTML and Markdown readers
 * keep while they walk a parse tree without recursion, internal to those two:
 * which frame collects the text seen now (cached in each frame, so that deep
 * nesting costs no more than shallow), and table cells gathered into rows,
 * rows into a table, and the table's text.  The readers decide what each of
 * their nodes is (its role and their own kind) and which element it ends as.
 *
 * Not for: parsing, or the tables of the Office and PDF readers (ooxml.c,
 * pdf_tables.c).  All of it is in blockstack.c.
 *
 * Uses core/buf.h, jansson and docfmt.h's table_join.
 *
 * Ownership: the stack owns its frames' text buffers (kept when a frame is
 * popped and reused by the next push) and their cells; bstack_release()
 * frees everything.  A popped frame stays readable until the next push.
 */
#ifndef MOAT_INGEST_BLOCKSTACK_H
#define MOAT_INGEST_BLOCKSTACK_H

#include <stddef.h>

#include <jansson.h>

#include "../core/buf.h"

enum bf_role {
	BF_INHERIT,   /* inline or absorbed: text goes where it went outside */
	BF_BARRIER,   /* a list: text is not collected directly inside */
	BF_COLLECT,   /* collects its text (cells too) */
	BF_TABLE,     /* barriers that gather cells: a table's rows */
	BF_ROW,       /* ... a row's cells */
};

struct bframe {
	enum bf_role role;
	int kind;         /* the reader's own */
	int type;         /* HTML: the element type of a block */
	int level;        /* heading level, list depth; Markdown table: header rows */
	int pre;          /* HTML: this element is preformatted */
	int absorbed;     /* HTML: a block inside another element's text */
	int brk, sp;      /* a break / a space is due before the next text */
	long coll;        /* index of the frame collecting text inside this one, or -1 */
	long sidx;        /* index of the nearest frame that is not BF_INHERIT, or -1 */
	struct buf text;
	json_t *cells;    /* BF_TABLE: rows; BF_ROW: cells; else NULL */
};

struct bstack {
	struct bframe *st;
	size_t n, alloc;
};

/* Pushes a frame (fields zero but role and kind, type 0, text empty, cells
 * an empty array for BF_TABLE and BF_ROW).  NULL when out of memory: the
 * stack could not grow (nothing pushed), or the cells array could not be
 * made (the frame is pushed, cells NULL). */
struct bframe *bstack_push(struct bstack *s, enum bf_role role, int kind)
	__attribute__((warn_unused_result));
/* Pops the top frame and returns it (NULL when empty); its cells are the
 * caller's to use until bstack_done(). */
struct bframe *bstack_pop(struct bstack *s);
/* Drops the cells of a popped frame. */
void bstack_done(struct bframe *f);
/* The frame that receives text now: the nearest collecting frame, unless a
 * barrier comes first; or NULL. */
struct bframe *bstack_collector(const struct bstack *s);
/* The nearest frame that is not BF_INHERIT, or NULL. */
struct bframe *bstack_structural(const struct bstack *s);
/* Adds a popped cell's text s[0..n) to the row it is in, if it is in one.
 * -1 out of memory (the cell's text failed, or jansson). */
int bstack_cell_done(struct bstack *st, const struct bframe *cell, const char *s, size_t n)
	__attribute__((warn_unused_result));
/* Adds a popped row's cells to the table it is in, if it is in one; a row
 * whose cells are all empty is dropped when skip_empty is set.  -1 out of
 * memory. */
int bstack_row_done(struct bstack *st, const struct bframe *row, int skip_empty)
	__attribute__((warn_unused_result));
/* A popped table's text into t (rows on lines, cells joined by " | ") and
 * its meta {"rows": [...]}; NULL when it has no rows, -1 in *nomem when
 * memory ran out. */
json_t *bstack_table(const struct bframe *table, struct buf *t, int *nomem)
	__attribute__((warn_unused_result));
/* Frees the frames, their text and the cells of those still on the stack. */
void bstack_release(struct bstack *s);

#endif
