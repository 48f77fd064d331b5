/*
 * langid.c - script counts and stop-word votes (see langid.h).  Reads at
 * most the first 64 KiB of a text: enough to decide, and bounded.
 */
#include "langid.h"
#include "../core/utf8.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <utf8proc.h>

#include "../core/banned.h"

/* Frequent words per language, space-separated, lower case. */
static const struct {
	const char *code;
	const char *words;
} latin[] = {
	{ "en", " the and of to in is that for it was with as be on not this are by at from have you "
		"his her they but or an which we were has had their been will would there what all can " },
	{ "de", " der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch "
		"es an werden aus er hat dass sie nach wird bei einer um am sind noch wie einem über so zum "
		"ich war haben nur oder aber vor zur bis mehr durch " },
	{ "fr", " le la les de des et en un une du est que pour qui dans il pas sur au par ne se ce avec "
		"plus sont ou son elle nous vous mais comme aux cette été je " },
	{ "es", " el la de que y en los del se las por un para con no una su al lo como más pero sus le "
		"ya o este fue ha es muy también entre cuando todo esta ser son " },
	{ "it", " il di che e la per un in del non una sono della le si è dei da gli con nel alla lo al "
		"ma come anche più questo ha delle io mi ci " },
	{ "pt", " de que e o do da em um para é com não uma os no se na por mais as dos como mas foi ao "
		"ele das tem à seu sua ou ser quando muito há nos já está eu também " },
	{ "nl", " de en van het een in is dat op te zijn met voor niet aan er die maar om ook als dan bij "
		"nog wat wordt worden hij ze zo uit deze " },
	{ "sv", " och i att det som en på är av för med till den har de inte om ett men var jag sig han "
		"vi så kan där från ut eller " },
	{ "da", " og i at det en den til er som på de med af for ikke der var mig sig men et har om vi "
		"han jeg kan så skal også " },
	{ "no", " og i det som er en på til av for å med at ikke har de den jeg var seg om et men så vi "
		"kan han også skal ble " },
	{ "fi", " ja on ei se että hän oli ole kun mutta niin kuin mitä tai myös ovat jo sen hänen tämä "
		"nyt vain joka " },
	{ "pl", " i w nie na się z do że to jest o jak ale co po tak za od jego już przez dla być tylko "
		"jej są było może ten " },
	{ "cs", " a v se na je že to s z o do i by jako ale pro jsem po tak jeho už být jen k ve které " },
	{ "tr", " ve bir bu da de için ile çok ne daha gibi olarak ama kadar en ben sonra her o değil "
		"olan var mı şey ya ki " },
	{ "ro", " și de în a la cu nu pe o că din se este mai un ce pentru care sau fost sunt ca " },
	{ "hu", " a az és hogy nem is egy meg de van csak már el ki mint volt még ez azt ha fel " },
	{ "id", " yang dan di ini itu dengan untuk tidak dari dalam akan pada juga ke ada oleh saya " },
	{ "ru", " и в не на что он я с как а то это по но из его все она так же у к за вы бы от " },
	{ "uk", " і в не на що він я з як а то це та але по до його від все вона так ми є " },
};
#define N_LATIN (sizeof(latin) / sizeof(latin[0]))

/* Scripts that one language owns (or nearly), by code point range. */
static const char *script_lang(uint32_t c, int *latinish)
{
	*latinish = 0;
	if (c < 0x250 || (c >= 0x1E00 && c <= 0x1EFF)) {
		*latinish = 1;
		return NULL;
	}
	if (c >= 0x400 && c <= 0x4FF) {
		*latinish = 2;  /* Cyrillic: words decide between ru, uk, ... */
		return NULL;
	}
	if (c >= 0x370 && c <= 0x3FF)
		return "el";
	if (c >= 0x590 && c <= 0x5FF)
		return "he";
	if (c >= 0x600 && c <= 0x6FF)
		return "ar";
	if (c >= 0x900 && c <= 0x97F)
		return "hi";
	if (c >= 0x980 && c <= 0x9FF)
		return "bn";
	if (c >= 0xB80 && c <= 0xBFF)
		return "ta";
	if (c >= 0xE00 && c <= 0xE7F)
		return "th";
	if (c >= 0x10A0 && c <= 0x10FF)
		return "ka";
	if (c >= 0x530 && c <= 0x58F)
		return "hy";
	if ((c >= 0xAC00 && c <= 0xD7AF) || (c >= 0x1100 && c <= 0x11FF) || (c >= 0x3130 && c <= 0x318F))
		return "ko";
	if ((c >= 0x3040 && c <= 0x30FF))
		return "ja";
	if (c >= 0x4E00 && c <= 0x9FFF)
		return "zh";
	return NULL;
}

/* The codes of the tables are ISO 639-1 (and "und"), well within code[8]. */
static void set_code(struct langid *out, const char *code)
{
	size_t n = strnlen(code, sizeof(out->code) - 1);
	memcpy(out->code, code, n);
	out->code[n] = '\0';
}

void langid_detect(const char *text, size_t n, struct langid *out)
{
	static const char *const scripts[] = { "el", "he", "ar", "hi", "bn", "ta", "th", "ka", "hy",
					       "ko", "ja", "zh" };
	size_t script_count[sizeof(scripts) / sizeof(scripts[0])] = { 0 };
	size_t latin_letters = 0, cyr_letters = 0, votes[N_LATIN] = { 0 }, words = 0;
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, letters = 0;
	char w[40];
	size_t wl = 0;
	if (n > 65536)
		n = 65536;
	set_code(out, "und");
	out->score = 0;
	while (i <= n) {
		uint32_t c = 0;
		int l = 1, latinish = 0;
		const char *sl = NULL;
		if (i < n) {
			l = utf8_decode(s + i, n - i, &c);
			if (l <= 0) {
				l = 1;
				c = 0xFFFD;
			}
		}
		if (i < n && utf8proc_category((utf8proc_int32_t)c) >= UTF8PROC_CATEGORY_LU &&
		    utf8proc_category((utf8proc_int32_t)c) <= UTF8PROC_CATEGORY_LO) {
			letters++;
			sl = script_lang(c, &latinish);
			if (sl) {
				for (size_t k = 0; k < sizeof(scripts) / sizeof(scripts[0]); k++)
					if (scripts[k] == sl || !strcmp(scripts[k], sl))
						script_count[k]++;
			}
			if (latinish == 1)
				latin_letters++;
			if (latinish == 2)
				cyr_letters++;
			if (latinish && wl + (size_t)l < sizeof(w) - 2) {
				/* lower-case the word for the vote */
				utf8proc_int32_t lc = utf8proc_tolower((utf8proc_int32_t)c);
				utf8proc_uint8_t enc[4];
				utf8proc_ssize_t el = utf8proc_encode_char(lc, enc);
				memcpy(w + wl, enc, (size_t)el);
				wl += (size_t)el;
			}
		} else if (wl) {
			char key[sizeof(w) + 2];
			/* " word ", as the word lists are written */
			key[0] = ' ';
			memcpy(key + 1, w, wl);
			key[wl + 1] = ' ';
			key[wl + 2] = '\0';
			words++;
			for (size_t k = 0; k < N_LATIN; k++)
				if (strstr(latin[k].words, key))
					votes[k]++;
			wl = 0;
		}
		i += (size_t)l;
	}
	if (letters < 8)
		return;
	{
		size_t best = 0;
		for (size_t k = 1; k < sizeof(scripts) / sizeof(scripts[0]); k++)
			if (script_count[k] > script_count[best])
				best = k;
		/* kana with kanji is Japanese, not Chinese */
		if (!strcmp(scripts[best], "zh") && script_count[10] * 10 > script_count[11])
			best = 10;
		if (script_count[best] * 2 > letters) {
			set_code(out, scripts[best]);
			out->score = (float)script_count[best] / (float)letters;
			if (!strcmp(scripts[best], "ja"))
				out->score = (float)(script_count[10] + script_count[11]) / (float)letters;
			if (out->score > 1)
				out->score = 1;
			return;
		}
	}
	if ((latin_letters + cyr_letters) * 2 > letters && words >= 3) {
		size_t best = 0, total = 0, second = 0;
		for (size_t k = 0; k < N_LATIN; k++) {
			/* only languages of the script that dominates */
			int cyr = !strcmp(latin[k].code, "ru") || !strcmp(latin[k].code, "uk");
			if ((cyr_letters > latin_letters) != cyr)
				votes[k] = 0;
			total += votes[k];
		}
		for (size_t k = 1; k < N_LATIN; k++)
			if (votes[k] > votes[best])
				best = k;
		for (size_t k = 0; k < N_LATIN; k++)
			if (k != best && votes[k] > second)
				second = votes[k];
		if (votes[best] == 0)
			return;
		set_code(out, latin[best].code);
		/* the margin over the runner-up, and how much of the text voted */
		out->score = (float)(votes[best] - second) / (float)votes[best];
		{
			float cover = (float)votes[best] / (float)words * 3.0f;
			if (cover < 1)
				out->score *= cover;
		}
		(void)total;
	}
}
