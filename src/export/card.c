/*
 * card.c - the dataset card (see card.h): Markdown sections from the facts,
 * with every string from outside escaped for where it lands (text, a code
 * span, a table cell, a code block), and percentages in integer arithmetic
 * so the bytes never depend on the machine.
 *
 * Not for: gathering the facts.  Uses core/ (buf, fs, err).
 */
#include "card.h"

#include <stdlib.h>
#include <string.h>

#include "../core/fs.h"

#include "../core/banned.h"

/* --- Markdown pieces -------------------------------------------------------- */

/* Text: Markdown's punctuation escaped, line breaks as spaces. */
static void md_text(struct buf *o, const char *s)
{
	if (!s)
		return;
	for (; *s; s++) {
		if (*s == '\n' || *s == '\r') {
			buf_addch(o, ' ');
			continue;
		}
		if (strchr("\\`*_[]<>|#!~&", *s))
			buf_addch(o, '\\');
		buf_addch(o, *s);
	}
}

static size_t longest_run(const char *s, char c)
{
	size_t best = 0, run = 0;
	for (; s && *s; s++) {
		run = *s == c ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	return best;
}

/* A code span, fenced with more backticks than any run inside; in a table
 * cell '|' is escaped too (GitHub's tables split cells on it even there). */
static void md_code(struct buf *o, const char *s, int in_table)
{
	size_t fence;
	int pad;
	if (!s || !*s) {
		buf_adds(o, "(none)");
		return;
	}
	fence = longest_run(s, '`') + 1;
	pad = s[0] == '`' || s[strlen(s) - 1] == '`';
	for (size_t i = 0; i < fence; i++)
		buf_addch(o, '`');
	if (pad)
		buf_addch(o, ' ');
	for (; *s; s++) {
		if (*s == '\n' || *s == '\r')
			buf_addch(o, ' ');
		else if (*s == '|' && in_table)
			buf_add(o, "\\|", 2);
		else
			buf_addch(o, *s);
	}
	if (pad)
		buf_addch(o, ' ');
	for (size_t i = 0; i < fence; i++)
		buf_addch(o, '`');
}

static void md_block(struct buf *o, const char *s)
{
	size_t fence = longest_run(s, '`') + 1;
	if (fence < 3)
		fence = 3;
	for (size_t i = 0; i < fence; i++)
		buf_addch(o, '`');
	buf_addch(o, '\n');
	buf_adds(o, s ? s : "");
	if (!s || !*s || s[strlen(s) - 1] != '\n')
		buf_addch(o, '\n');
	for (size_t i = 0; i < fence; i++)
		buf_addch(o, '`');
	buf_addch(o, '\n');
}

/* "n (p.q%)" of total, rounded half up, in integers. */
static void md_count_pct(struct buf *o, size_t n, size_t total)
{
	buf_addf(o, "%zu", n);
	if (total) {
		unsigned long long pm = ((unsigned long long)n * 1000 + total / 2) / total;
		buf_addf(o, " (%llu.%llu%%)", pm / 10, pm % 10);
	}
}

static const char *or_unknown(const char *s)
{
	return s && *s ? s : "not recorded";
}

/* --- sections -------------------------------------------------------------- */

static size_t total_records(const struct card_facts *f)
{
	size_t t = 0;
	for (size_t s = 0; s < f->n_splits; s++)
		t += f->split_counts ? f->split_counts[s] : 0;
	return t;
}

static void sec_head(struct buf *o, const struct card_facts *f)
{
	size_t total = total_records(f);
	buf_adds(o, "# ");
	md_text(o, f->title ? f->title : "Dataset exported by moat");
	buf_adds(o, "\n\n");
	if (f->raw) {
		buf_adds(o, "> **Warning: this text is NOT de-identified.** It was exported with `--raw`, "
			    "the original text as ingested, before any cleaning: names, addresses, "
			    "numbers and any other personal or confidential data in the sources are in "
			    "these files as they were. Handle it as the sources themselves.\n\n");
	}
	buf_addf(o, "%zu record%s", total, total == 1 ? "" : "s");
	if (f->what) {
		buf_adds(o, " (");
		md_text(o, f->what);
		buf_adds(o, ")");
	}
	if (f->format) {
		buf_adds(o, " in the ");
		md_code(o, f->format, 0);
		buf_adds(o, " format");
	}
	buf_adds(o, ", exported by moat");
	if (f->moat_version && *f->moat_version) {
		buf_addch(o, ' ');
		md_text(o, f->moat_version);
	}
	if (f->date && *f->date) {
		buf_adds(o, " on ");
		md_text(o, f->date);
	}
	buf_adds(o, ".\n\n");
}

static void sec_splits(struct buf *o, const struct card_facts *f)
{
	size_t total = total_records(f);
	buf_adds(o, "## Splits\n\n| split | records |\n|---|---:|\n");
	for (size_t s = 0; s < f->n_splits; s++) {
		buf_adds(o, "| ");
		md_text(o, f->split_names ? f->split_names[s] : "");
		buf_adds(o, " | ");
		md_count_pct(o, f->split_counts ? f->split_counts[s] : 0, total);
		buf_adds(o, " |\n");
	}
	buf_addf(o, "| **total** | **%zu** |\n\n", total);
	if (f->split_ratios) {
		buf_adds(o, "Split ");
		md_code(o, f->split_ratios, 0);
		buf_adds(o, " with seed ");
		md_code(o, f->seed ? f->seed : "", 0);
		buf_adds(o, ": grouped (no document, and no cluster of near-duplicates found by "
			    "`moat clean`, is in two splits) and stratified by label (each label's "
			    "records in each split within one record of its share where the groups "
			    "allow). The same data, ratios and seed give the same splits.\n\n");
	} else {
		buf_adds(o, "Not split: every record is in the one split above.\n\n");
	}
}

static void sec_labels(struct buf *o, const struct card_facts *f)
{
	buf_adds(o, "## Label distribution\n\n");
	if (!f->n_labels || !f->label_counts) {
		buf_adds(o, "No labels.\n\n");
		return;
	}
	buf_adds(o, "Records carrying each label, and their share of the split's records (a "
		    "record with several labels counts under each).\n\n| label |");
	for (size_t s = 0; s < f->n_splits; s++) {
		buf_addch(o, ' ');
		md_text(o, f->split_names ? f->split_names[s] : "");
		buf_adds(o, " |");
	}
	buf_adds(o, " total |\n|---|");
	for (size_t s = 0; s < f->n_splits; s++)
		buf_adds(o, "---:|");
	buf_adds(o, "---:|\n");
	for (size_t l = 0; l < f->n_labels; l++) {
		size_t sum = 0;
		buf_adds(o, "| ");
		md_text(o, f->labels[l]);
		buf_adds(o, " |");
		for (size_t s = 0; s < f->n_splits; s++) {
			size_t c = f->label_counts[l * f->n_splits + s];
			sum += c;
			buf_addch(o, ' ');
			md_count_pct(o, c, f->split_counts ? f->split_counts[s] : 0);
			buf_adds(o, " |");
		}
		buf_addf(o, " %zu |\n", sum);
	}
	buf_addch(o, '\n');
}

static void sec_sources(struct buf *o, const struct card_facts *f)
{
	size_t shown = f->n_sources;
	if (f->sources_max && shown > f->sources_max)
		shown = f->sources_max;
	buf_addf(o, "## Sources\n\n%zu source document%s", f->n_sources, f->n_sources == 1 ? "" : "s");
	if (!f->n_sources) {
		buf_adds(o, ".\n\n");
		return;
	}
	buf_adds(o, ", each named by the SHA-256 of its bytes as ingested.\n\n"
		    "| path | SHA-256 |\n|---|---|\n");
	for (size_t i = 0; i < shown; i++) {
		buf_adds(o, "| ");
		md_code(o, f->sources[i].path, 1);
		buf_adds(o, " | ");
		md_code(o, f->sources[i].sha256, 1);
		buf_adds(o, " |\n");
	}
	if (shown < f->n_sources)
		buf_addf(o, "\nand %zu more%s.\n", f->n_sources - shown,
			 f->has_audit ? " (the audit records in `audit/` name every one)" : "");
	buf_addch(o, '\n');
}

static void sec_clean(struct buf *o, const struct card_facts *f)
{
	buf_adds(o, "## Cleaning and personal data\n\n");
	if (f->raw)
		buf_adds(o, "**Exported with `--raw`: the text is the original, NOT de-identified. "
			    "Whatever was found below is still in it.**\n\n");
	if (f->clean_policy) {
		buf_adds(o, "Clean policy: ");
		md_code(o, f->clean_policy, 0);
		if (f->clean_policy_sha256) {
			buf_adds(o, " (SHA-256 ");
			md_code(o, f->clean_policy_sha256, 0);
			buf_adds(o, ")");
		}
		buf_adds(o, ".\n\n");
	} else {
		buf_adds(o, "No clean policy was applied: personal data was neither searched for "
			    "nor removed by moat.\n\n");
	}
	if (!f->n_findings) {
		buf_adds(o, "No personal-data findings were recorded for these records.\n\n");
		return;
	}
	buf_adds(o, "Personal-data findings in the source text, by type and by what the policy "
		    "did with them:\n\n| type | operator | findings |\n|---|---|---:|\n");
	for (size_t i = 0; i < f->n_findings; i++) {
		buf_adds(o, "| ");
		md_text(o, f->findings[i].type);
		buf_adds(o, " | ");
		md_text(o, f->findings[i].op ? f->findings[i].op : "none");
		buf_addf(o, " | %zu |\n", f->findings[i].count);
	}
	buf_addch(o, '\n');
}

static void sec_models(struct buf *o, const struct card_facts *f)
{
	buf_adds(o, "## Models\n\n");
	if (!f->n_models) {
		buf_adds(o, "No model took part in making these records.\n\n");
		return;
	}
	buf_adds(o, "| role | model | SHA-256 |\n|---|---|---|\n");
	for (size_t i = 0; i < f->n_models; i++) {
		buf_adds(o, "| ");
		md_text(o, f->models[i].role);
		buf_adds(o, " | ");
		md_code(o, f->models[i].name, 1);
		buf_adds(o, " | ");
		md_code(o, f->models[i].digest, 1);
		buf_adds(o, " |\n");
	}
	buf_addch(o, '\n');
}

static void sec_provenance(struct buf *o, const struct card_facts *f)
{
	buf_adds(o, "## Provenance\n\n- moat version: ");
	md_code(o, or_unknown(f->moat_version), 0);
	buf_adds(o, "\n- date (UTC): ");
	md_text(o, or_unknown(f->date));
	if (f->status) {
		buf_adds(o, "\n- annotations exported: those with status ");
		md_code(o, f->status, 0);
	}
	buf_adds(o, "\n- text: ");
	buf_adds(o, f->raw ? "original, as ingested (`--raw`), **not de-identified**"
			   : "cleaned (the output of `moat clean`)");
	buf_adds(o, "\n- command line:\n\n");
	md_block(o, or_unknown(f->command_line));
	buf_adds(o, "\n`MANIFEST` holds the SHA-256 of every other file in this directory: run "
		    "`sha256sum -c MANIFEST` here, or `moat exports verify DIR` on any machine.");
	if (f->has_audit)
		buf_adds(o, " `audit/` holds the audit records that made this data, from the first "
			    "ingest of its documents to this export, with their hash chain; the "
			    "export's own record covers `MANIFEST`.");
	buf_adds(o, "\n\n");
}

static void sec_governance(struct buf *o, const struct card_facts *f)
{
	size_t k = 0;
	buf_adds(o, "## Data governance\n\n### Origin\n\n");
	md_text(o, f->origin && *f->origin ? f->origin : "Not stated.");
	buf_adds(o, "\n\n### Preparation\n\n");
	if (!f->n_steps)
		buf_adds(o, "Not stated.\n");
	for (size_t i = 0; i < f->n_steps; i++) {
		buf_addf(o, "%zu. ", i + 1);
		md_text(o, f->steps[i]);
		buf_addch(o, '\n');
	}
	buf_adds(o, "\n### Known gaps\n\n");
	if (f->raw) {
		buf_adds(o, "- The text is NOT de-identified (`--raw`).\n");
		k++;
	} else if (!f->clean_policy) {
		buf_adds(o, "- No clean policy was applied: personal data may be in the text.\n");
		k++;
	}
	for (size_t i = 0; i < f->n_gaps; i++, k++) {
		buf_adds(o, "- ");
		md_text(o, f->gaps[i]);
		buf_addch(o, '\n');
	}
	if (!k)
		buf_adds(o, "None stated.\n");
}

int card_render(const struct card_facts *f, const char *yaml, struct buf *out)
{
	if (yaml && *yaml) {
		buf_adds(out, yaml);
		buf_addch(out, '\n');
	}
	sec_head(out, f);
	sec_splits(out, f);
	sec_labels(out, f);
	sec_sources(out, f);
	sec_clean(out, f);
	sec_models(out, f);
	sec_provenance(out, f);
	sec_governance(out, f);
	return buf_failed(out) ? -1 : 0;
}

int card_write(const char *dir, const struct card_facts *f, const char *yaml, struct moat_err *e)
{
	struct buf b = BUF_INIT;
	char *path;
	int rc;
	if (card_render(f, yaml, &b) < 0) {
		buf_release(&b);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	path = fs_join(dir, "README.md");
	if (!path) {
		buf_release(&b);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	rc = fs_write_atomic(path, buf_str(&b), b.len, 0644, e);
	free(path);
	buf_release(&b);
	return rc;
}
