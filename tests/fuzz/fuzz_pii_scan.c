/*
 * fuzz_pii_scan.c - the PII scanner, the normaliser, language identification
 * and MinHash on arbitrary bytes.  Invalid UTF-8 must be refused by pii_scan
 * and, once sanitised (as `moat pii scan` does), scanned; every finding must
 * lie inside the text with code-point offsets that agree with its bytes.  A
 * second scanner has every country's recognizers on (those off by default
 * and their validators), overlaps kept.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clean/langid.h"
#include "clean/minhash.h"
#include "clean/normalize.h"
#include "clean/pii.h"
#include "core/buf.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pii_scanner *scanner, *every;
static struct pii_scratch *scratch, *every_scratch;

/* Every finding inside the text, code points agreeing with the bytes. */
static void check_spans(const struct pii_findings *f, const struct buf *text)
{
	for (size_t i = 0; i < f->n; i++) {
		if (f->v[i].start >= f->v[i].end || f->v[i].end > text->len)
			abort();
		if (f->v[i].cp_start != utf8_count(text->data, f->v[i].start) ||
		    f->v[i].cp_end != utf8_count(text->data, f->v[i].end))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct moat_err e = MOAT_ERR_INIT;
	struct pii_findings f = PII_FINDINGS_INIT;
	struct buf text = BUF_INIT;
	struct norm nm;
	struct langid lang;
	struct mh_params p = mh_default_params();
	uint32_t sig[128];
	if (!scanner) {
		scanner = pii_scanner_new(NULL, &e);
		if (!scanner)
			abort();
		scratch = pii_scratch_new(scanner, &e);
		if (!scratch)
			abort();
	}
	if (!every) {
		struct pii_options o = pii_default_options();
		o.countries = "us,uk,ca,au,in,sg,ng,za,ph,es,it,pl,fi,kr,se,th,tr,de";
		o.resolve_overlaps = 0;
		every = pii_scanner_new(&o, &e);
		if (!every)
			abort();
		every_scratch = pii_scratch_new(every, &e);
		if (!every_scratch)
			abort();
	}
	if (size > (1 << 20))
		return 0;
	if (!utf8_is_valid((const char *)data, size) &&
	    pii_scan(scanner, scratch, (const char *)data, size, 0, &f, &e) != -1)
		abort();  /* invalid UTF-8 must be refused */
	utf8_sanitize(&text, (const char *)data, size);
	if (pii_scan(scanner, scratch, buf_str(&text), text.len, 0, &f, &e) < 0)
		abort();
	check_spans(&f, &text);
	for (size_t i = 1; i < f.n; i++)
		if (f.v[i].start < f.v[i - 1].end)
			abort();  /* overlaps are resolved */
	f.n = 0;
	if (pii_scan(every, every_scratch, buf_str(&text), text.len, 0, &f, &e) < 0)
		abort();
	check_spans(&f, &text);
	norm_init(&nm);
	if (norm_text(&nm, buf_str(&text), text.len, NORM_ALL, &e) == 0) {
		if (nm.n_cp != utf8_count(buf_str(&nm.text), nm.text.len))
			abort();
		for (size_t i = 0; i < nm.n_cp; i++)
			if (norm_orig_start(&nm, i) > nm.in_cps || norm_orig_end(&nm, i + 1) > nm.in_cps)
				abort();
		if (!utf8_is_valid(buf_str(&nm.text), nm.text.len))
			abort();
	}
	norm_release(&nm);
	langid_detect(buf_str(&text), text.len, &lang);
	mh_signature(&p, buf_str(&text), text.len, sig);
	pii_findings_release(&f);
	buf_release(&text);
	return 0;
}
