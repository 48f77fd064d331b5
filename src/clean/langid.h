/*
 * langid.h - language identification without a model file: the script of
 * the letters decides for scripts one language owns (Hangul, kana, Thai,
 * Greek, Hebrew, Georgian, Armenian, Devanagari, ...), and for Latin and
 * Cyrillic text the share of each language's most frequent words decides
 * (about fifteen languages).  Short or mixed text gives "und".
 *
 * Codes are ISO 639-1.  Thread-safe, no allocation.
 *
 * Not for: mixed-language documents element by element (the stage calls it
 * per element and per document) or dialects.  Uses utf8proc and core/utf8.h.
 */
#ifndef MOAT_LANGID_H
#define MOAT_LANGID_H

#include <stddef.h>

struct langid {
	char code[8];   /* "en", "de", ..., or "und" */
	float score;    /* 0..1: share of the evidence for that language */
};

void langid_detect(const char *text, size_t n, struct langid *out);

#endif
