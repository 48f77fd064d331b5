/*
 * pii_recognizers.c - the pattern recognizers: one table row per pattern,
 * with Presidio's entity names, patterns and base scores where Presidio has
 * the recognizer (its patterns rewritten for PCRE2 and a Hyperscan trigger),
 * and moat's own rows for what Presidio leaves to spaCy or does not cover
 * (textual dates, times, street addresses, ZIP codes, ages, credentials,
 * handles).  Context words per entity follow Presidio's lists, lower case.
 *
 * Names, places, organisations and NRP come from pii_lexicon.c.
 */
#include "pii_internal.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "../core/banned.h"

/* --- checkers --------------------------------------------------------------- */

static size_t count_digits(const char *s, size_t n)
{
	size_t d = 0;
	for (size_t i = 0; i < n; i++)
		d += s[i] >= '0' && s[i] <= '9';
	return d;
}

static int digits_between(const char *t, size_t a, size_t b, size_t lo, size_t hi)
{
	size_t d = count_digits(t + a, b - a);
	return d >= lo && d <= hi;
}

static int chk_phone_intl(const char *t, size_t len, size_t *a, size_t *b, float *sc)
{
	(void)len;
	(void)sc;
	return digits_between(t, *a, *b, 8, 15);
}

static int chk_phone_nanp(const char *t, size_t len, size_t *a, size_t *b, float *sc)
{
	size_t i = *a;
	(void)len;
	(void)sc;
	/* the area code must not start with 0 or 1 */
	while (i < *b && !isdigit((unsigned char)t[i]))
		i++;
	if (i < *b && t[i] == '1' && count_digits(t + *a, *b - *a) == 11) {
		i++;
		while (i < *b && !isdigit((unsigned char)t[i]))
			i++;
	}
	return i < *b && t[i] >= '2';
}

static int chk_phone_trunk(const char *t, size_t len, size_t *a, size_t *b, float *sc)
{
	(void)len;
	(void)sc;
	return digits_between(t, *a, *b, 9, 11);
}

static int chk_phone_generic(const char *t, size_t len, size_t *a, size_t *b, float *sc)
{
	size_t d = count_digits(t + *a, *b - *a);
	int same = 1;
	char first = 0;
	(void)len;
	(void)sc;
	if (d < 7 || d > 12)
		return 0;
	if (*b - *a == 11 && d == 9 && !isdigit((unsigned char)t[*a + 3]) &&
	    !isdigit((unsigned char)t[*a + 6]))
		return 0;  /* 123 45 6789: the shape of an SSN, not of a phone number */
	for (size_t i = *a; i < *b; i++)
		if (isdigit((unsigned char)t[i])) {
			if (!first)
				first = t[i];
			else if (t[i] != first)
				same = 0;
		}
	return !same;
}

static int chk_age(const char *t, size_t len, size_t *a, size_t *b, float *sc)
{
	int v = 0;
	(void)len;
	(void)sc;
	for (size_t i = *a; i < *b; i++)
		v = v * 10 + (t[i] - '0');
	return v >= 1 && v <= 124;
}

/*
 * US_DRIVER_LICENSE: Presidio's alternatives match short codes ("P60",
 * "B747") and digit runs inside longer numbers.  A code under six characters
 * needs a licence word in the 40 bytes before it, and a digit run between
 * two short groups of digits ("1234 567890 12345", a card) is part of that
 * number, not a licence.
 */
static int chk_us_dl(const char *t, size_t len, size_t *a, size_t *b, float *sc)
{
	(void)sc;
	size_t left = 0, right = 0;
	if (*a >= 2 && (t[*a - 1] == ' ' || t[*a - 1] == '-'))
		while (left < *a - 1 && isdigit((unsigned char)t[*a - 2 - left]))
			left++;
	if (*b + 1 < len && (t[*b] == ' ' || t[*b] == '-'))
		while (*b + 1 + right < len && isdigit((unsigned char)t[*b + 1 + right]))
			right++;
	if (left && right && left <= 5 && right <= 5)
		return 0;
	if (*b - *a < 6) {
		static const char *const cue[] = { "licen", "driv", "dl", "permit" };
		size_t from = *a > 40 ? *a - 40 : 0;
		for (size_t i = from; i < *a; i++)
			for (size_t k = 0; k < sizeof(cue) / sizeof(cue[0]); k++) {
				size_t l = strlen(cue[k]);
				if (i + l <= *a && !strncasecmp(t + i, cue[k], l))
					return 1;
			}
		return 0;
	}
	return 1;
}

static int chk_has_digit(const char *t, size_t len, size_t *a, size_t *b, float *sc)
{
	(void)len;
	(void)sc;
	return count_digits(t + *a, *b - *a) > 0;
}

/* A credential value after a cue word without a colon: not a common word. */
static int chk_credential(const char *t, size_t len, size_t *a, size_t *b, float *sc)
{
	(void)len;
	(void)sc;
	if (*b - *a < 2)
		return 0;
	return !pii_is_stopword(t + *a, *b - *a) && !pii_is_common_capitalized(t + *a, *b - *a);
}

/* IMEI: 15 digits with a Luhn check digit. */
static int pii_valid_luhn15(const char *s, size_t n)
{
	size_t d = count_digits(s, n);
	if (d != 15)
		return PII_INVALID;
	return pii_valid_luhn(s, n) == PII_VALID ? PII_VALID : PII_INVALID;
}

/* Handles may not name the service itself (Twitter's own rule). */
static int chk_handle(const char *t, size_t len, size_t *a, size_t *b, float *sc)
{
	(void)len;
	(void)sc;
	for (size_t i = *a; i + 5 <= *b; i++)
		if (!strncasecmp(t + i, "admin", 5) || (i + 7 <= *b && !strncasecmp(t + i, "twitter", 7)))
			return 0;
	return 1;
}

/* IBAN with Presidio's fallback: when the whole match fails the check, try
 * it without its trailing group(s), so "DE89...3000 2 days" keeps the IBAN. */
static int chk_iban(const char *t, size_t len, size_t *a, size_t *b, float *sc)
{
	size_t end = *b;
	(void)len;
	for (int tries = 0; tries < 3 && end > *a; tries++) {
		int v = pii_valid_iban(t + *a, end - *a);
		if (v != PII_INVALID) {
			*b = end;
			if (v == PII_VALID)
				*sc = 1.0f;
			return 1;
		}
		while (end > *a && t[end - 1] != ' ' && t[end - 1] != '-')
			end--;
		while (end > *a && (t[end - 1] == ' ' || t[end - 1] == '-'))
			end--;
	}
	return 0;
}

/*
 * Window gates (pii_internal.h): a URL without a scheme starts in the run of
 * host-name bytes before its top-level domain (the trigger's end), an e-mail
 * address in the run of local-part bytes before the '@' (two bytes before
 * the trigger's end; any byte from 0x80 up may be part of a \w).  PCRE2 then
 * starts there instead of the whole back.
 */
static int host_byte(unsigned char c)
{
	return pii_ascii_alnum(c) || c == '.' || c == '-';
}

static int local_part_byte(unsigned char c)
{
	return pii_ascii_word(c) || c >= 0x80 || (c && strchr("!#$%&'*+/=?^`{|}~.-", c));
}

/* Moves *from to the start of the run of bytes in(c) that ends at i. */
static void run_back(const char *t, size_t i, size_t *from, int (*in)(unsigned char))
{
	while (i > *from && in((unsigned char)t[i - 1]))
		i--;
	*from = i;
}

static int from_host(const char *t, size_t len, size_t end, size_t *from)
{
	(void)len;
	run_back(t, end, from, host_byte);
	return 1;
}

static int from_local_part(const char *t, size_t len, size_t end, size_t *from)
{
	(void)len;
	if (end >= 2 && end - 2 >= *from)
		run_back(t, end - 2, from, local_part_byte);
	return 1;
}

/*
 * "street name with suffix and number": the trigger is the suffix, a space
 * and a digit, and the match starts in the run of letters and hyphens that
 * ends in the suffix (any byte from 0x80 up may be part of a \p{L}; '.'
 * ends "str.").  PCRE2 then starts there instead of 60 bytes back.
 */
static int street_byte(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 0x80 || c == '-' || c == '.';
}

static int from_street_word(const char *t, size_t len, size_t end, size_t *from)
{
	(void)len;
	if (end >= 2 && end - 2 >= *from)
		run_back(t, end - 2, from, street_byte);
	return 1;
}

/*
 * "state and ZIP": the trigger is the space and five digits (Hyperscan does
 * that far more cheaply than the letters before it); the gate checks what
 * the old trigger \b[A-Z]{2}\.?,? +\d{5} did: blanks, an optional comma after
 * an optional full stop, two capital letters that start a word.
 */
static int gate_state_zip(const char *t, size_t len, size_t end, size_t *from)
{
	size_t q = end - 5;
	(void)len;
	(void)from;
	if (end < 8)
		return 0;
	while (q > 0 && t[q - 1] == ' ')
		q--;
	if (q > 0 && t[q - 1] == ',')
		q--;
	if (q > 0 && t[q - 1] == '.')
		q--;
	if (q < 2 || t[q - 1] < 'A' || t[q - 1] > 'Z' || t[q - 2] < 'A' || t[q - 2] > 'Z')
		return 0;
	return q == 2 || !pii_ascii_word((unsigned char)t[q - 3]);
}

/*
 * An IPv4 address embedded in an IPv6 one follows a colon: the trigger is
 * the IPv4 pattern's own (Hyperscan runs it once for both), and the gate
 * looks for the colon before the dotted quad that ends at the hit.
 */
static int gate_v4_in_v6(const char *t, size_t len, size_t end, size_t *from)
{
	size_t i = end;
	(void)len;
	(void)from;
	while (i > 0 && (isdigit((unsigned char)t[i - 1]) || t[i - 1] == '.'))
		i--;
	return i > 0 && t[i - 1] == ':';
}

/*
 * IPv6: every match holds "::" or is eight groups (seven colons), and starts
 * where its run of hex digits and colons starts (the expression's (?<![\w:])
 * allows no other start).  The trigger's hit lies in that run, so a run with
 * neither, or after a word byte, holds no match (times as 10:30:00 are most
 * of the hits); PCRE2 then starts at the run.
 */
static int hex_colon(unsigned char c)
{
	return isxdigit(c) || c == ':';
}

static int gate_ipv6(const char *t, size_t len, size_t end, size_t *from)
{
	size_t a = end, b = end;
	int colons = 0, pair = 0;
	while (a > 0 && hex_colon((unsigned char)t[a - 1]))
		a--;
	while (b < len && hex_colon((unsigned char)t[b]))
		b++;
	if (a > 0 && pii_ascii_word((unsigned char)t[a - 1]))
		return 0;
	for (size_t i = a; i < b; i++)
		if (t[i] == ':') {
			colons++;
			pair |= i > a && t[i - 1] == ':';
		}
	if (!pair && colons < 7)
		return 0;
	if (a > *from)
		*from = a;
	return 1;
}

/*
 * "digit groups": a match starts at '(' or a digit after nothing of
 * [\w+.,:/-] (its look-behind); the first such byte in the window is where
 * PCRE2 starts, and a window without one (the later groups of a long number)
 * holds no match.
 */
static int gate_digit_groups(const char *t, size_t len, size_t end, size_t *from)
{
	(void)len;
	for (size_t p = *from; p + 2 < end; p++) {
		unsigned char c = (unsigned char)t[p], b;
		if (c != '(' && !isdigit(c))
			continue;
		b = p ? (unsigned char)t[p - 1] : ' ';
		if (pii_ascii_word(b) || b == '+' || b == '.' || b == ',' || b == ':' || b == '/' ||
		    b == '-')
			continue;
		*from = p;
		return 1;
	}
	return 0;
}

/*
 * "national with trunk prefix" starts at a '0' after nothing of [\w+.-];
 * over shapes its trigger fires at any digit, so the gate looks for that '0'
 * (and PCRE2 starts there).
 */
static int gate_trunk(const char *t, size_t len, size_t end, size_t *from)
{
	(void)len;
	for (size_t p = *from; p < end; p++) {
		unsigned char b;
		if (t[p] != '0')
			continue;
		b = p ? (unsigned char)t[p - 1] : ' ';
		if (pii_ascii_word(b) || b == '+' || b == '.' || b == '-')
			continue;
		*from = p;
		return 1;
	}
	return 0;
}

/*
 * The Korean RRN's trigger, YYMMDD, an optional '-' and a digit 1-4 then six
 * digits, ends at the hit: over shapes it fires at any run of 13 digits, so
 * the gate checks the month, the day and the first digit after the date.
 */
static int rrn_at(const char *t, size_t q)
{
	int m = (t[q + 2] - '0') * 10 + (t[q + 3] - '0'), d = (t[q + 4] - '0') * 10 + (t[q + 5] - '0');
	size_t g = t[q + 6] == '-' ? q + 7 : q + 6;
	return m >= 1 && m <= 12 && d >= 1 && d <= 31 && t[g] >= '1' && t[g] <= '4';
}

static int gate_rrn(const char *t, size_t len, size_t end, size_t *from)
{
	(void)len;
	(void)from;
	return (end >= 13 && t[end - 7] != '-' && rrn_at(t, end - 13)) ||
	       (end >= 14 && t[end - 8] == '-' && rrn_at(t, end - 14));
}

/*
 * A URL's scheme is the run of [A-Za-z0-9+.-] before "://" (the trigger's
 * end): PCRE2 starts there instead of the whole back.
 */
static int scheme_byte(unsigned char c)
{
	return pii_ascii_alnum(c) || c == '+' || c == '.' || c == '-';
}

static int from_scheme(const char *t, size_t len, size_t end, size_t *from)
{
	(void)len;
	if (end >= 3 && end - 3 >= *from)
		run_back(t, end - 3, from, scheme_byte);
	return 1;
}

/* A handle's '@' (two bytes before the hit) follows nothing of [\w@.]. */
static int gate_handle(const char *t, size_t len, size_t end, size_t *from)
{
	unsigned char b = end >= 3 ? (unsigned char)t[end - 3] : ' ';
	(void)len;
	(void)from;
	return !(pii_ascii_word(b) || b == '@' || b == '.');
}

/*
 * "year after a preposition" is the year (its expression looks behind for the
 * word), so it runs over shapes with the year as trigger; the gate looks for
 * the word, in any case, after a word boundary and before one space.
 */
static int gate_year_prep(const char *t, size_t len, size_t end, size_t *from)
{
	static const char *const prep[] = { "in", "during", "since", "until", "of",
					    "from", "by", "year", "circa", "c." };
	size_t q = end - 4;  /* the year's first digit */
	unsigned char last;
	(void)len;
	(void)from;
	if (end < 6 || t[q - 1] != ' ')
		return 0;
	/* the words end in n, g, e, l, f, m, y, r, a or '.' */
	last = (unsigned char)(t[q - 2] | 0x20);
	if (!strchr("ngelfmyra.", last) || !last)
		return 0;
	for (size_t k = 0; k < sizeof(prep) / sizeof(prep[0]); k++) {
		size_t n = strlen(prep[k]);
		if (n + 1 <= q && !strncasecmp(t + q - 1 - n, prep[k], n) &&
		    (q - 1 - n == 0 || !pii_ascii_word((unsigned char)t[q - 2 - n])))
			return 1;
	}
	return 0;
}

/* "time am/pm" over shapes fires at any letters after a number: the gate
 * looks for [ap], an optional '.', and 'm' where the hit ends (or before a
 * '.' there), in any case. */
static int gate_ampm(const char *t, size_t len, size_t end, size_t *from)
{
	size_t p = end;
	(void)len;
	(void)from;
	if (p > 0 && t[p - 1] == '.')
		p--;
	if (p == 0 || (t[p - 1] | 0x20) != 'm')
		return 0;
	p--;
	if (p > 0 && t[p - 1] == '.')
		p--;
	return p > 0 && ((t[p - 1] | 0x20) == 'a' || (t[p - 1] | 0x20) == 'p');
}

/*
 * The US driver licence's letters-and-digits forms are whole words (\b on
 * both sides) of capitals and digits, 2 to 19 long: the word around the hit
 * must be one.
 */
static int gate_us_dl(const char *t, size_t len, size_t end, size_t *from)
{
	size_t ws = end, we = end;
	(void)from;
	while (ws > 0 && pii_ascii_word((unsigned char)t[ws - 1]))
		ws--;
	while (we < len && pii_ascii_word((unsigned char)t[we]))
		we++;
	if (we - ws < 2 || we - ws > 19)
		return 0;
	for (size_t i = ws; i < we; i++)
		if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9')))
			return 0;
	return 1;
}

/* A NINO after its trigger (two letters, a blank, the first digit): six
 * digits, each with a blank after it or not, then A-D ending a word. */
static int gate_nino(const char *t, size_t len, size_t end, size_t *from)
{
	size_t q = end - 1;
	(void)from;
	for (int k = 0; k < 6; k++) {
		if (q >= len || t[q] < '0' || t[q] > '9')
			return 0;
		q++;
		if (q < len && t[q] == ' ')
			q++;
	}
	return q < len && t[q] >= 'A' && t[q] <= 'D' &&
	       (q + 1 >= len || !pii_ascii_word((unsigned char)t[q + 1]));
}

/* --- shared pieces of expressions ------------------------------------------- */

#define OCTET "(?:25[0-5]|2[0-4]\\d|[01]?\\d\\d?)"
#define IPV4 "(?:" OCTET "\\.){3}" OCTET
#define H16 "[0-9A-Fa-f]{1,4}"
#define IP6_PREFIX "(?:/(?:12[0-8]|1[01]\\d|[1-9]?\\d))"

#define MON_ABBR "(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)"
#define MONTHS "(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|" \
	"Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
#define MONTH_WORD "\\b" MONTHS "\\b"
#define DAY "(?:[1-9]|0[1-9]|[12]\\d|3[01])"
#define MON "(?:[1-9]|0[1-9]|1[0-2])"
#define ORD "(?:st|nd|rd|th)?"
#define YEAR4 "(?:1[6-9]|20)\\d\\d"
#define US_STATES "(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|" \
	"MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC|PR)"
#define TLDS "(?:com|org|net|edu|gov|mil|int|info|biz|io|co|ai|app|dev|me|tv|ly|us|uk|de|fr|es|it|" \
	"nl|be|ch|at|se|no|dk|fi|pl|pt|br|ca|au|nz|jp|cn|in|ru|za|mx|ar|cl|ie|il|gr|cz|hu|ro|tr|" \
	"ua|kr|sg|hk|tw|th|vn|my|ph|pk|eu|cy|uy|is|lu|si|sk|hr|rs|bg|lt|lv|ee|online|site|tech|" \
	"store|blog|cloud|shop|xyz|club|top|live|news|email|page|link)"
#define STREET_SUFFIX "(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|" \
	"Way|Place|Pl|Terrace|Ter|Parkway|Pkwy|Square|Sq|Highway|Hwy|Route|Rte|Circle|Cir|Trail|" \
	"Trl|Crescent|Close|Grove|Gardens|Plaza|Alley|Row|Walk|Mews)"
#define STREET_SUFFIX_LIST "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|" \
	"Way|Place|Pl|Terrace|Ter|Parkway|Pkwy|Square|Sq|Highway|Hwy|Route|Rte|Circle|Cir|Trail|" \
	"Trl|Crescent|Close|Grove|Gardens|Plaza|Alley|Row|Walk|Mews"
#define EU_STREET "(?:vej|gade|gatan|gata|katu|kuja|tie|straße|strasse|str\\.|weg|gasse|allee|" \
	"platz|väg|vägen|veien|vegen|vei|laan|straat|gracht|utca|ulica|stræde|vænget|vangen|" \
	"bakken|parken|haven|stien|polku|raitti|tér|út)"
#define EU_WORD "(?:tér|utca|út|u\\.|terrasse|gata|gatan|gade|vej|straße|strasse|weg|allee|platz|" \
	"kuja|katu|tie|väg|vägen|veien|vei|laan|straat|ulica|odos)"
#define STREET_PREFIX "(?:Rue|Via|Viale|Calle|Carrer|Rua|Avenida|Avenue|Av\\.|Piazza|Plaza|" \
	"Corso|Boulevard|Bd\\.|Chaussée|Camino|Paseo|Praça|Largo|Travessa|Alameda|Strada|Ulica|ul\\.)"

/*
 * One trigger for the identifiers that are a whole run of at least 9 upper-
 * case letters and digits after a word boundary (9-digit SSN, passport, ACN
 * and TFN, PAN, NRIC, DEA, fiscal code, Ausweis, VIN, ...): it ends 9 bytes
 * after any match's start, within each pattern's back.  Hyperscan merges the
 * identical expressions into one engine, much cheaper than one per pattern.
 */
#define RUN9 "\\b[A-Z0-9]{9}"

/*
 * The gates of those patterns: each matches a whole word of a fixed length
 * range (its expression is \b...\b over [A-Z0-9]), and the trigger starts
 * exactly 9 bytes before its end, so the run of word bytes from there must
 * have that length.  Most runs are longer (IBANs, card numbers, hashes).
 */
static int word_run_in(const char *t, size_t len, size_t end, size_t lo, size_t hi)
{
	size_t i = end - 9, n = 0;
	if (end < 9)
		return 0;
	while (i + n < len && n <= hi && pii_ascii_word((unsigned char)t[i + n]))
		n++;
	return n >= lo && n <= hi;
}

#define RUN_GATE(fn, lo, hi)                                             \
	static int fn(const char *t, size_t len, size_t end, size_t *from) \
	{                                                                  \
		(void)from;                                                \
		return word_run_in(t, len, end, lo, hi);                   \
	}
RUN_GATE(run_9, 9, 9)
RUN_GATE(run_10, 10, 10)
RUN_GATE(run_16, 16, 16)
RUN_GATE(run_17, 17, 17)

/* The rest of Presidio's country recognizers are not in the default set
 * (Presidio's registry leaves them disabled too): --entities, --country or
 * --language turn them on. */
#define OFF P_OFF

#define R(ent, name, re, trig, score, back, flags, group, val, chk) \
	{ ent, name, re, trig, score, back, flags, group, val, chk, NULL, 0, NULL, NULL }
/* a pattern with a gate on its trigger hits */
#define RG(ent, name, re, trig, score, back, flags, group, val, chk, gate) \
	{ ent, name, re, trig, score, back, flags, group, val, chk, NULL, 0, NULL, gate }

const struct pii_pattern pii_patterns[] = {
	/* --- global ---------------------------------------------------------- */
	R("CREDIT_CARD", "All Credit Cards (weak)",
	  "\\b(?!1\\d{12}(?!\\d))(?:4\\d{3}|5[0-5]\\d{2}|2\\d{3}|6\\d{3}|1\\d{3}|3\\d{3})"
	  "[- ]?\\d{3,4}[- ]?\\d{3,4}[- ]?\\d{2,7}\\b",
	  "\\b[1-6]\\d{3}[- ]?\\d{3,4}[- ]?\\d{3,4}[- ]?\\d{2,7}\\b", 0.3f, 32, P_DIGITS, 0,
	  pii_valid_luhn, NULL),
	R("CRYPTO", "Crypto Bitcoin (Medium)", "\\b(?:bc1|[13])[a-zA-HJ-NP-Z0-9]{25,59}\\b", NULL, 0.5f,
	  64, 0, 0, pii_valid_btc, NULL),

	R("DATE_TIME", "ISO 8601 datetime",
	  "\\b\\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\\d|3[01])[T ][0-2]\\d:[0-5]\\d(?::[0-5]\\d(?:\\.\\d+)?)?"
	  "(?:Z|[+-][0-2]\\d:?[0-5]\\d)?\\b", NULL, 0.8f, 40, P_DIGITS, 0, NULL, NULL),
	R("DATE_TIME", "mm/dd/yyyy or mm/dd/yy", "\\b" MON "/" DAY "/(?:\\d{4}|\\d{2})\\b", NULL, 0.6f,
	  12, P_DIGITS, 0, NULL, NULL),
	R("DATE_TIME", "dd/mm/yyyy or dd/mm/yy", "\\b" DAY "/" MON "/(?:\\d{4}|\\d{2})\\b", NULL, 0.6f,
	  12, P_DIGITS, 0, NULL, NULL),
	R("DATE_TIME", "yyyy/mm/dd", "\\b\\d{4}/" MON "/" DAY "\\b", NULL, 0.6f, 12, P_DIGITS, 0,
	  NULL, NULL),
	R("DATE_TIME", "mm-dd-yyyy", "\\b" MON "-" DAY "-\\d{4}\\b", NULL, 0.6f, 12, P_DIGITS, 0,
	  NULL, NULL),
	R("DATE_TIME", "dd-mm-yyyy", "\\b" DAY "-" MON "-\\d{4}\\b", NULL, 0.6f, 12, P_DIGITS, 0,
	  NULL, NULL),
	R("DATE_TIME", "yyyy-mm-dd", "\\b\\d{4}-" MON "-" DAY "\\b", NULL, 0.6f, 12, P_DIGITS, 0,
	  NULL, NULL),
	R("DATE_TIME", "dd.mm.yyyy or dd.mm.yy", "\\b" DAY "\\." MON "\\.(?:\\d{4}|\\d{2})\\b", NULL,
	  0.6f, 12, P_DIGITS, 0, NULL, NULL),
	R("DATE_TIME", "dd-MMM-yyyy or dd-MMM-yy", "\\b" DAY "-" MON_ABBR "-(?:\\d{4}|\\d{2})\\b", NULL,
	  0.6f, 12, P_CASELESS | P_DIGITS, 0, NULL, NULL),
	R("DATE_TIME", "MMM-yyyy or MMM-yy", "\\b" MON_ABBR "-(?:\\d{4}|\\d{2})\\b", NULL, 0.6f,
	  10, P_CASELESS | P_DIGITS, 0, NULL, NULL),
	R("DATE_TIME", "dd-MMM", "\\b" DAY "-" MON_ABBR "\\b", NULL, 0.6f, 8,
	  P_CASELESS | P_DIGITS, 0, NULL, NULL),
	R("DATE_TIME", "mm/yyyy or m/yyyy", "\\b" MON "/\\d{4}\\b", NULL, 0.2f, 8, P_DIGITS, 0, NULL,
	  NULL),
	R("DATE_TIME", "mm/yy or m/yy", "\\b" MON "/\\d{2}\\b", NULL, 0.1f, 6, P_DIGITS, 0, NULL, NULL),
	/* the dates with a month's name share one trigger, the name (a word:
	 * each expression has a blank, '.' or ',' after it); back reaches from
	 * its end to where the date can start */
	R("DATE_TIME", "day month year", "\\b" DAY ORD "(?:\\s+of)?\\s+" MONTHS "\\.?,?\\s+" YEAR4 "\\b",
	  MONTH_WORD, 0.6f, 40, 0, 0, NULL, NULL),
	R("DATE_TIME", "month day year", "\\b" MONTHS "\\.?\\s+" DAY ORD ",?\\s+" YEAR4 "\\b",
	  MONTH_WORD, 0.6f, 10, 0, 0, NULL, NULL),
	R("DATE_TIME", "month year", "\\b" MONTHS "\\.?,?\\s+" YEAR4 "\\b", MONTH_WORD, 0.5f, 10, 0, 0,
	  NULL, NULL),
	R("DATE_TIME", "month day", "\\b" MONTHS "\\.?\\s+" DAY ORD "\\b", MONTH_WORD, 0.45f, 10, 0, 0,
	  NULL, NULL),
	R("DATE_TIME", "day month", "\\b" DAY ORD "(?:\\s+of)?\\s+" MONTHS "\\b", MONTH_WORD, 0.45f, 28,
	  0, 0, NULL, NULL),
	R("DATE_TIME", "weekday", "\\b(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\\b", NULL, 0.45f, 12, 0,
	  0, NULL, NULL),
	RG("DATE_TIME", "year after a preposition",
	  "(?<=\\bin |\\bIn |\\bIN |\\bduring |\\bDuring |\\bsince |\\bSince |\\buntil |\\bUntil |\\bof |\\bfrom |\\bFrom |\\bby |\\byear |\\bYear |\\bcirca |\\bc\\. )"
	  YEAR4 "\\b(?!\\s*%)",
	  "\\b" YEAR4 "\\b", 0.45f, 4, P_CASELESS | P_DIGITS, 0, NULL, NULL, gate_year_prep),
	R("DATE_TIME", "time with seconds", "\\b(?:[01]?\\d|2[0-3]):[0-5]\\d:[0-5]\\d\\b", NULL,
	  0.5f, 10, P_DIGITS, 0, NULL, NULL),
	RG("DATE_TIME", "time am/pm",
	  "\\b(?:1[0-2]|0?[1-9])(?::[0-5]\\d)?\\s?[ap]\\.?m\\b\\.?", NULL, 0.5f, 12,
	  P_CASELESS | P_DIGITS, 0, NULL, NULL, gate_ampm),
	R("DATE_TIME", "time", "(?<![:+-])\\b(?:[01]?\\d|2[0-3]):[0-5]\\d\\b(?![.:]\\d)", "\\b(?:[01]?\\d|2[0-3]):[0-5]\\d\\b",
	  0.35f, 6, P_DIGITS, 0, NULL, NULL),

	RG("EMAIL_ADDRESS", "Email (Medium)",
	  "(?<![\\w.+-])[\\w!#$%&'*+/=?^`{|}~-](?:[\\w!#$%&'*+/=?^`{|}~.-]*[\\w!#$%&'*+/=?^`{|}~-])?"
	  "@\\w+(?:-+\\w+)*(?:\\.\\w+(?:-+\\w+)*)+\\b",
	  "[A-Za-z0-9_\\x80-\\xff]@[A-Za-z0-9_\\x80-\\xff]", 0.5f, 130, P_UTF, 0, pii_valid_email, NULL,
	  from_local_part),

	/* The trigger is the expression's fixed head: cheaper for Hyperscan
	 * than the repeated groups, and it ends 4 bytes after the match start. */
	R("IBAN_CODE", "IBAN Generic",
	  "\\b[A-Z]{2}\\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,3})?\\b", "\\b[A-Z]{2}\\d{2}",
	  0.5f, 4, P_CASELESS | P_DIGITS, 0, NULL, chk_iban),

	/* Presidio's five patterns: IPv4 (with a CIDR prefix), IPv4-mapped and
	 * -embedded IPv6, IPv6 (zone, prefix), and the unspecified "::". */
	R("IP_ADDRESS", "IPv4", "\\b" IPV4 "(?:/(?:[0-2]?\\d|3[0-2]))?\\b", "\\b" IPV4 "\\b", 0.6f,
	  16, P_DIGITS, 0,
	  pii_valid_ip, NULL),
	R("IP_ADDRESS", "IPv4_mapped", "(?<![\\w:])::(?:ffff(?::0{1,4})?:)?" IPV4 IP6_PREFIX "?\\b",
	  "::(?:ffff(?::0{1,4})?:)?" IPV4, 0.6f, 28, P_CASELESS | P_DIGITS, 0, pii_valid_ip, NULL),
	RG("IP_ADDRESS", "IPv4_embedded",
	  "(?<![\\w:])(?:(?:" H16 ":){1,5}:(?:" H16 ":){0,4}|(?:" H16 ":){6})" IPV4 IP6_PREFIX "?\\b",
	  "\\b" IPV4 "\\b", 0.6f, 60, P_DIGITS, 0, pii_valid_ip, NULL, gate_v4_in_v6),
	RG("IP_ADDRESS", "IPv6",
	  "(?<![\\w:])(?:(?:" H16 ":){7}" H16 "|(?:" H16 ":){1,7}:|:(?::" H16 "){1,7}|(?:" H16 ":){1,6}:" H16
	  "|(?:" H16 ":){1,5}(?::" H16 "){1,2}|(?:" H16 ":){1,4}(?::" H16 "){1,3}|(?:" H16 ":){1,3}(?::" H16
	  "){1,4}|(?:" H16 ":){1,2}(?::" H16 "){1,5}|" H16 ":(?::" H16 "){1,6})(?:%[0-9a-zA-Z]+)?" IP6_PREFIX
	  "?(?![\\w:]|\\.\\d)",
	  H16 "::?" H16 ":|::" H16 "|" H16 "::", 0.6f, 56, 0, 0, pii_valid_ip, NULL, gate_ipv6),
	R("IP_ADDRESS", "IPv6_unspecified", "(?<![\\w:])::" IP6_PREFIX "?(?![\\w:])", "::", 0.1f, 2, 0, 0,
	  NULL, NULL),

	R("MAC_ADDRESS", "MAC_ADDRESS", "\\b[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\\1){4}[0-9A-Fa-f]{2}\\b",
	  "\\b[0-9A-Fa-f]{2}[:-][0-9A-Fa-f]{2}[:-][0-9A-Fa-f]{2}[:-][0-9A-Fa-f]{2}[:-][0-9A-Fa-f]{2}"
	  "[:-][0-9A-Fa-f]{2}\\b", 0.6f, 17, 0, 0, pii_valid_mac, NULL),
	R("MAC_ADDRESS", "MAC_CISCO", "\\b[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}\\b", NULL, 0.6f,
	  14, 0, 0, pii_valid_mac, NULL),

	R("PHONE_NUMBER", "international",
	  "(?:\\(\\+[1-9]\\d{0,2}\\)|(?<![\\w+])\\+[1-9]\\d{0,2})(?:[ .-]?(?:\\(\\d{1,5}\\)|\\d{1,5})){1,6}"
	  "(?![\\w])", "\\+[1-9]", 0.4f, 3, P_DIGITS, 0, NULL, chk_phone_intl),
	R("PHONE_NUMBER", "north american",
	  "(?<![\\w+.-])(?:1[ .-]?)?(?:\\(\\d{3}\\)[ .-]?|\\d{3}[ .-])\\d{3}[ .-]\\d{4}(?![\\w-])",
	  "\\d{3}[ .)-]{1,2}\\d{3}[ .-]\\d{4}", 0.4f, 22, P_DIGITS, 0, NULL, chk_phone_nanp),
	R("PHONE_NUMBER", "ten digits", "\\b[2-9]\\d{9}\\b", NULL, 0.2f, 10, P_DIGITS, 0, NULL,
	  NULL),
	RG("PHONE_NUMBER", "national with trunk prefix",
	  "(?<![\\w+.-])0(?:[ -]?\\(\\d{2,4}\\)|[ -]?\\d{2,4}|\\d)[ -]?\\d{2,4}(?:[ -]?\\d{2,4}){1,3}(?!\\w|-\\d)",
	  "\\b0[ -]?\\(?\\d{1,4}\\)?[ -]?\\d{2,4}[ -]?\\d{2}", 0.4f, 20, P_DIGITS, 0, NULL,
	  chk_phone_trunk, gate_trunk),
	RG("PHONE_NUMBER", "digit groups",
	  "(?<![\\w+.,:/-])(?:\\(\\d{2,5}\\)|\\d{2,5})(?:[ .-]\\d{2,5}){1,4}(?![\\w:/]|[.,-]\\d)",
	  "\\d{2,5}\\)?[ .-]\\d{2}", 0.15f, 12, P_DIGITS, 0, NULL, chk_phone_generic,
	  gate_digit_groups),

	RG("URL", "Standard Url",
	  "\\b[a-z][a-z0-9+.-]{1,20}://(?=[^\\s<>\"'()\\[\\]{}|\\\\^`/]*[.:]|localhost)"
	  "[^\\s<>\"'()\\[\\]{}|\\\\^`]+",
	  "[A-Za-z]://", 0.6f, 24, P_CASELESS | P_TRIM, 0, NULL, NULL, from_scheme),
	R("URL", "www Url",
	  "\\bwww\\d{0,3}\\.[a-z0-9-]+(?:\\.[a-z0-9-]+)+(?::\\d{2,5})?(?:/[^\\s<>\"'()]*)?",
	  "\\bwww\\d{0,3}\\.", 0.5f, 8, P_CASELESS | P_TRIM, 0, NULL, NULL),
	RG("URL", "Non schema URL",
	  "(?<![\\w@.-])[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
	  "[A-Za-z0-9])?)*\\." TLDS "(?![\\w-])(?::\\d{2,5})?(?:/[^\\s<>\"'()]*)?",
	  "\\." TLDS "\\b", 0.5f, 260, P_TRIM, 0, NULL, NULL, from_host),

	/* --- United States --------------------------------------------------- */
	RG("MEDICAL_LICENSE", "USA DEA Certificate Number (weak)",
	  "\\b(?:[ABCDEFGHJKLMPRSTUX][A-Z]\\d{7}|[ABCDEFGHJKLMPRSTUX]9\\d{7})\\b", RUN9, 0.4f, 10,
	  0, 0, pii_valid_dea, NULL, run_9),
	R("US_SSN", "SSN1 (very weak)", "\\b\\d{5}-\\d{4}\\b", NULL, 0.05f, 10, P_DIGITS, 0,
	  pii_valid_us_ssn,
	  NULL),
	R("US_SSN", "SSN2 (very weak)", "\\b\\d{3}-\\d{6}\\b", NULL, 0.05f, 10, P_DIGITS, 0,
	  pii_valid_us_ssn,
	  NULL),
	R("US_SSN", "SSN3 (very weak)", "\\b\\d{3}-\\d{2}-\\d{4}\\b", NULL, 0.05f, 11, P_DIGITS, 0,
	  pii_valid_us_ssn, NULL),
	RG("US_SSN", "SSN4 (very weak)", "\\b\\d{9}\\b", RUN9, 0.05f, 9, 0, 0, pii_valid_us_ssn, NULL, run_9),
	R("US_SSN", "SSN5 (medium)", "\\b\\d{3}[- .]\\d{2}[- .]\\d{4}\\b", NULL, 0.5f, 11,
	  P_DIGITS, 0,
	  pii_valid_us_ssn, NULL),
	R("US_ITIN", "Itin (very weak)",
	  "\\b9\\d{2}[- ](?:5\\d|6[0-5]|7\\d|8[0-8]|9[0-24-9])\\d{4}\\b|\\b9\\d{2}(?:5\\d|6[0-5]|7\\d|"
	  "8[0-8]|9[0-24-9])[- ]\\d{4}\\b", NULL, 0.05f, 11, P_DIGITS, 0, NULL, NULL),
	R("US_ITIN", "Itin (weak)", "\\b9\\d{2}(?:5\\d|6[0-5]|7\\d|8[0-8]|9[0-24-9])\\d{4}\\b", NULL,
	  0.3f, 9, P_DIGITS, 0, NULL, NULL),
	R("US_ITIN", "Itin (medium)",
	  "\\b9\\d{2}[- ](?:5\\d|6[0-5]|7\\d|8[0-8]|9[0-24-9])[- ]\\d{4}\\b", NULL, 0.5f, 11,
	  P_DIGITS, 0,
	  NULL, NULL),
	RG("US_PASSPORT", "Passport (very weak)", "\\b\\d{9}\\b", RUN9, 0.05f, 9, 0, 0, NULL, NULL, run_9),
	RG("US_PASSPORT", "Passport Next Generation (very weak)", "\\b[A-Z]\\d{8}\\b", RUN9, 0.1f, 9,
	  0, 0, NULL, NULL, run_9),
	RG("US_DRIVER_LICENSE", "Driver License - Alphanumeric (weak)",
	  "\\b(?:[A-Z]\\d{3,6}|[A-Z]\\d{5,9}|[A-Z]\\d{6,8}|[A-Z]\\d{4,8}|[A-Z]\\d{9,11}|[A-Z]{1,2}\\d{5,6}|"
	  "H\\d{8}|V\\d{6}|X\\d{8}|[A-Z]{2}\\d{2,5}|[A-Z]{2}\\d{3,7}|\\d{2}[A-Z]{3}\\d{5,6}|[A-Z]\\d{13,14}|"
	  "[A-Z]\\d{18}|[A-Z]\\d{6}R|[A-Z]\\d{9}|[A-Z]\\d{1,12}|\\d{9}[A-Z]|[A-Z]{2}\\d{6}[A-Z]|"
	  "\\d{8}[A-Z]{2}|\\d{3}[A-Z]{2}\\d{4}|[A-Z]\\d[A-Z]\\d[A-Z]|\\d{7,8}[A-Z])\\b",
	  "\\b(?:[A-Z]{1,2}\\d|\\d{2}[A-Z]{3}\\d|\\d{7,9}[A-Z]|\\d{3}[A-Z]{2}\\d)", 0.3f, 20,
	  P_DIGITS, 0, NULL, chk_us_dl, gate_us_dl),
	R("US_DRIVER_LICENSE", "Driver License - Digits (very weak)", "\\b(?:\\d{6,14}|\\d{16})\\b", NULL,
	  0.01f, 16, P_DIGITS, 0, NULL, chk_us_dl),
	R("US_BANK_NUMBER", "Bank Account (weak)", "\\b\\d{8,17}\\b", NULL, 0.05f, 17, P_DIGITS, 0,
	  NULL, NULL),

	/* --- United Kingdom -------------------------------------------------- */
	/* mod 11 on a bare ten-digit number: one in eleven passes, so a pass
	 * keeps 0.5 (a US phone number, 212-555-0199, often passes too) */
	R("UK_NHS", "NHS (medium)", "\\b\\d{3}[- ]?\\d{3}[- ]?\\d{4}\\b", NULL, 0.5f, 12,
	  P_WEAKCHECK | P_DIGITS, 0,
	  pii_valid_uk_nhs, NULL),
	RG("UK_NINO", "NINO (medium)",
	   "\\b(?!(?:BG|GB|NK|KN|NT|TN|ZZ))[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?(?:\\d ?){5}\\d ?[A-D]\\b",
	   "\\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\\d", 0.5f, 16, P_DIGITS, 0,  /* the head,
	   as IBAN */
	   pii_valid_uk_nino, NULL, gate_nino),
	R("UK_NINO", "NINO (medium), any case",
	  "\\b(?!(?:BG|GB|NK|KN|NT|TN|ZZ))[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?(?:\\d ?){5}\\d ?[A-D]\\b",
	  "\\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\\d", 0.5f, 16, OFF | P_CASELESS | P_DIGITS, 0,
	   /* the head, as IBAN */
	  pii_valid_uk_nino, NULL),
	R("UK_DRIVING_LICENCE", "UK Driving Licence",
	  "\\b[A-Z9]{5} ?\\d ?(?:0[1-9]|1[0-2]|5[1-9]|6[0-2]) ?(?:0[1-9]|[12]\\d|3[01]) ?\\d ?[A-Z9]{2}\\d"
	  "[A-Z0-9]{2}(?: ?\\d{2})?\\b", NULL, 0.5f, 26, P_DIGITS, 0, pii_valid_uk_dl, NULL),
	R("UK_DRIVING_LICENCE", "UK Driving Licence, any case",
	  "\\b[A-Z9]{5} ?\\d ?(?:0[1-9]|1[0-2]|5[1-9]|6[0-2]) ?(?:0[1-9]|[12]\\d|3[01]) ?\\d ?[A-Z9]{2}\\d"
	  "[A-Z0-9]{2}(?: ?\\d{2})?\\b", NULL, 0.5f, 26, OFF | P_CASELESS | P_DIGITS, 0,
	  pii_valid_uk_dl, NULL),
	R("UK_POSTCODE", "UK Postcode",
	  "\\b(?:GIR ?0AA|[A-PR-UWYZ]\\d[ABCDEFGHJKPSTUW]? ?\\d[ABD-HJLNP-UW-Z]{2}|[A-PR-UWYZ]\\d{2} ?"
	  "\\d[ABD-HJLNP-UW-Z]{2}|[A-PR-UWYZ][A-HK-Y]\\d[ABEHMNPRVWXY]? ?\\d[ABD-HJLNP-UW-Z]{2}|"
	  "[A-PR-UWYZ][A-HK-Y]\\d{2} ?\\d[ABD-HJLNP-UW-Z]{2})\\b", NULL, 0.1f, 9, P_DIGITS, 0,
	  NULL, NULL),

	/* --- Spain, Italy, Poland, Finland ----------------------------------- */
	R("ES_NIF", "NIF", "\\b\\d{7,8}-?[A-Z]\\b", NULL, 0.5f, 10, P_DIGITS, 0, pii_valid_es_nif,
	  NULL),
	R("ES_NIF", "NIF, any case", "\\b\\d{7,8}-?[A-Z]\\b", NULL, 0.5f, 10,
	  OFF | P_CASELESS | P_DIGITS, 0, pii_valid_es_nif, NULL),
	R("ES_NIE", "NIE", "\\b[XYZ]\\d{7,8}-?[A-Z]\\b", NULL, 0.5f, 11, P_DIGITS, 0,
	  pii_valid_es_nie,
	  NULL),
	R("ES_NIE", "NIE, any case", "\\b[XYZ]\\d{7,8}-?[A-Z]\\b", NULL, 0.5f, 11,
	  OFF | P_CASELESS | P_DIGITS, 0, pii_valid_es_nie,
	  NULL),
	RG("IT_FISCAL_CODE", "Fiscal Code",
	  "\\b[A-Z]{6}[\\dLMNP-V]{2}[A-EHLMPR-T][\\dLMNP-V]{2}[A-Z][\\dLMNP-V]{3}[A-Z]\\b", RUN9, 0.3f, 16,
	  0, 0, pii_valid_it_fiscal, NULL, run_16),
	R("IT_VAT_CODE", "Partita IVA", "\\b(?:IT ?)?((?:\\d[ _]?){10}\\d)\\b", NULL, 0.1f, 24,
	  P_WEAKCHECK | P_DIGITS, 1,
	  pii_valid_it_vat, NULL),
	R("PL_PESEL", "PESEL",
	  "\\b\\d{2}(?:[02468][1-9]|[13579][012])(?:0[1-9]|[12]\\d|3[01])\\d{5}\\b", NULL, 0.4f,
	  11, P_DIGITS, 0,
	  pii_valid_pl_pesel, NULL),
	R("FI_PERSONAL_IDENTITY_CODE", "Finnish Personal Identity Code (Medium)",
	  "\\b\\d{6}[-+ABCDEFYXWVU]\\d{3}[0-9A-FHJ-NPR-Y]\\b", NULL, 0.5f, 11, P_DIGITS, 0,
	  pii_valid_fi_pic,
	  NULL),
	R("FI_PERSONAL_IDENTITY_CODE", "Finnish Personal Identity Code (Very Weak)",
	  "\\d{6}[-+ABCDEFYXWVU]\\d{3}[0-9A-FHJ-NPR-Y]", NULL, 0.1f, 11, P_DIGITS, 0,
	  pii_valid_fi_pic, NULL),

	/* --- Singapore, Australia, India ------------------------------------- */
	RG("SG_NRIC_FIN", "Nric (medium)", "\\b[STFGM]\\d{7}[A-Z]\\b", RUN9, 0.5f, 9, 0, 0,
	  pii_valid_sg_nric, NULL, run_9),
	RG("SG_NRIC_FIN", "Nric (weak)", "\\b[A-Z]\\d{7}[A-Z]\\b", RUN9, 0.3f, 9, OFF | P_CASELESS | P_TCASE, 0,
	   NULL, NULL, run_9),
	R("AU_ABN", "ABN (Medium)", "\\b\\d{2} \\d{3} \\d{3} \\d{3}\\b", NULL, 0.1f, 14, P_DIGITS,
	  0,
	  pii_valid_au_abn, NULL),
	R("AU_ABN", "ABN (Low)", "\\b\\d{11}\\b", NULL, 0.01f, 11, P_DIGITS, 0, pii_valid_au_abn,
	  NULL),
	R("AU_ACN", "ACN (Medium)", "\\b\\d{3} \\d{3} \\d{3}\\b", NULL, 0.1f, 11,
	  P_WEAKCHECK | P_DIGITS, 0,
	  pii_valid_au_acn, NULL),
	RG("AU_ACN", "ACN (Low)", "\\b\\d{9}\\b", RUN9, 0.01f, 9, P_WEAKCHECK, 0, pii_valid_au_acn, NULL, run_9),
	R("AU_TFN", "TFN (Medium)", "\\b\\d{3} \\d{3} \\d{3}\\b", NULL, 0.1f, 11,
	  P_WEAKCHECK | P_DIGITS, 0,
	  pii_valid_au_tfn, NULL),
	RG("AU_TFN", "TFN (Low)", "\\b\\d{9}\\b", RUN9, 0.01f, 9, P_WEAKCHECK, 0, pii_valid_au_tfn, NULL, run_9),
	R("AU_MEDICARE", "Australian Medicare Number (Medium)", "\\b[2-6]\\d{3} \\d{5} \\d\\b", NULL,
	  0.1f, 12, P_WEAKCHECK | P_DIGITS, 0, pii_valid_au_medicare, NULL),
	R("AU_MEDICARE", "Australian Medicare Number (Low)", "\\b[2-6]\\d{9}\\b", NULL, 0.01f, 10,
	  P_WEAKCHECK | P_DIGITS, 0, pii_valid_au_medicare, NULL),
	RG("IN_PAN", "PAN (High)", "\\b[A-Z]{3}[ABCFGHLJPT][A-Z]\\d{4}[A-Z]\\b", RUN9, 0.5f, 10,
	  0, 0, NULL, NULL, run_10),
	RG("IN_PAN", "PAN (Medium)", "\\b[A-Z]{5}\\d{4}[A-Z]\\b", RUN9, 0.1f, 10, 0, 0, NULL, NULL, run_10),
	R("IN_PAN", "PAN (Low)",
	  "\\b(?=[\\w@#$%^?~-]{0,9}[A-Za-z])(?=[\\w@#$%^?~-]{0,6}\\d{4})[\\w@#$%^?~-]{10}(?![\\w@#$%^?~-])",
	  "\\d{4}", 0.01f, 10, OFF | P_DIGITS, 0, NULL, NULL),
	R("IN_AADHAAR", "AADHAAR (Very Weak)", "\\b\\d{4}[- :]?\\d{4}[- :]?\\d{4}\\b", NULL, 0.01f,
	  14, P_WEAKCHECK | P_DIGITS, 0, pii_valid_in_aadhaar, NULL),
	RG("IN_VOTER", "Voter ID (Medium)", "\\b[A-Z][ABCDGHJKMNPRSY][A-Z]\\d{7}\\b", RUN9, 0.4f, 10,
	  0, 0, NULL, NULL, run_10),
	RG("IN_VOTER", "Voter ID (Medium), any case", "\\b[A-Z][ABCDGHJKMNPRSY][A-Z]\\d{7}\\b", RUN9, 0.4f, 10,
	  OFF | P_CASELESS | P_TCASE, 0, NULL, NULL, run_10),
	RG("IN_VOTER", "Voter ID (Weak)", "\\b[A-Z]{3}\\d{7}\\b", RUN9, 0.3f, 10, OFF | P_CASELESS | P_TCASE, 0,
	   NULL, NULL, run_10),
	R("IN_PASSPORT", "Passport (weak)", "\\b[A-Z][1-9]\\d ?\\d{4}[1-9]\\b", NULL, 0.1f, 9,
	  P_DIGITS, 0, NULL,
	  NULL),

	/* --- Korea, Thailand, Germany ---------------------------------------- */
	RG("KR_RRN", "RRN (Medium)",
	  "(?<!\\d)\\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\\d|3[01])-?[1-4]\\d{6}(?!\\d)",
	  "\\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\\d|3[01])-?[1-4]\\d{6}", 0.5f, 14, P_DIGITS, 0,
	  pii_valid_kr_rrn, NULL, gate_rrn),
	R("TH_TNIN", "TNIN (Medium)",
	  "\\b[1-9](?:[134]\\d|2[0-7]|5[0-8]|[67][0-7]|[89][0-6])\\d{10}\\b", NULL, 0.4f, 13,
	  P_DIGITS, 0, pii_valid_th_tnin, NULL),
	R("TH_TNIN", "TNIN (formatted)", "\\b[1-9]-\\d{4}-\\d{5}-\\d{2}-\\d\\b", NULL, 0.5f, 17,
	  P_DIGITS, 0,
	  pii_valid_th_tnin, NULL),
	R("DE_TAX_ID", "Tax ID (Medium)", "\\b\\d{2} \\d{3} \\d{3} \\d{3}\\b", NULL, 0.3f, 14,
	  P_DIGITS, 0,
	  pii_valid_de_tax_id, NULL),
	R("DE_TAX_ID", "Steueridentifikationsnummer", "\\b[1-9]\\d{10}\\b", NULL, 0.5f, 11,
	  P_DIGITS, 0,
	  pii_valid_de_tax_id, NULL),
	RG("DE_ID_CARD", "Personalausweisnummer nPA",
	   "\\b[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{7}\\d\\b", RUN9, 0.4f, 9, 0, 0,
	   pii_valid_de_idcard, NULL, run_9),
	RG("DE_ID_CARD", "Personalausweisnummer nPA, any case",
	   "\\b[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{7}\\d\\b", RUN9, 0.4f, 9, OFF | P_CASELESS | P_TCASE, 0,
	   pii_valid_de_idcard, NULL, run_9),
	RG("DE_ID_CARD", "Personalausweisnummer alt", "\\bT\\d{8}\\b", RUN9, 0.5f, 9, 0, 0,
	   pii_valid_de_idcard, NULL, run_9),
	RG("DE_ID_CARD", "Personalausweisnummer alt, any case", "\\bT\\d{8}\\b", RUN9, 0.5f, 9, OFF | P_CASELESS | P_TCASE, 0,
	   pii_valid_de_idcard, NULL, run_9),
	RG("DE_PASSPORT", "Reisepassnummer", "\\b[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{7}\\d\\b", RUN9,
	   0.4f, 9, 0, 0, pii_valid_de_passport, NULL, run_9),
	RG("DE_PASSPORT", "Reisepassnummer, any case", "\\b[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{7}\\d\\b", RUN9,
	   0.4f, 9, OFF | P_CASELESS | P_TCASE, 0, pii_valid_de_passport, NULL, run_9),
	R("DE_SOCIAL_SECURITY", "Rentenversicherungsnummer", "\\b\\d{2} ?\\d{6} ?[A-Z] ?\\d{3}\\b", NULL,
	  0.5f, 15, P_DIGITS, 0, pii_valid_de_svnr, NULL),

	/* --- the rest of Presidio's country recognizers ------------------------ */
	RG("ABA_ROUTING_NUMBER", "ABA routing number (weak)", "\\b[0123678]\\d{8}\\b", RUN9, 0.05f, 9,
	   OFF | P_WEAKCHECK, 0, pii_valid_us_aba, NULL, run_9),
	R("ABA_ROUTING_NUMBER", "ABA routing number", "\\b[0123678]\\d{3}-\\d{4}-\\d\\b", NULL,
	  0.3f, 11, OFF | P_DIGITS,
	  0, pii_valid_us_aba, NULL),
	R("US_MBI", "MBI (weak)",
	  "\\b\\d[AC-HJKMNP-RT-Yac-hjkmnp-rt-y][0-9AC-HJKMNP-RT-Yac-hjkmnp-rt-y]\\d[AC-HJKMNP-RT-Yac-hjkmnp-rt-y]"
	  "[0-9AC-HJKMNP-RT-Yac-hjkmnp-rt-y]\\d[AC-HJKMNP-RT-Yac-hjkmnp-rt-y]{2}\\d\\d\\b", NULL,
	  0.3f, 11, OFF | P_DIGITS, 0, NULL, NULL),
	R("US_MBI", "MBI (medium)",
	  "\\b\\d[AC-HJKMNP-RT-Yac-hjkmnp-rt-y][0-9AC-HJKMNP-RT-Yac-hjkmnp-rt-y]\\d-[AC-HJKMNP-RT-Yac-hjkmnp-rt-y]"
	  "[0-9AC-HJKMNP-RT-Yac-hjkmnp-rt-y]\\d-[AC-HJKMNP-RT-Yac-hjkmnp-rt-y]{2}\\d\\d\\b", NULL,
	  0.5f, 13, OFF | P_DIGITS, 0, NULL, NULL),
	R("US_NPI", "NPI (weak)", "\\b[12]\\d{9}\\b", NULL, 0.1f, 10, OFF | P_DIGITS, 0,
	  pii_valid_us_npi, NULL),
	R("US_NPI", "NPI (medium)", "\\b[12]\\d{3}[ -]\\d{3}[ -]\\d{3}\\b", NULL, 0.4f, 12,
	  OFF | P_DIGITS, 0,
	  pii_valid_us_npi, NULL),
	RG("CA_SIN", "SIN (weak)", "\\b[1-79]\\d{8}\\b", RUN9, 0.05f, 9, OFF, 0, pii_valid_ca_sin, NULL,
	   run_9),
	R("CA_SIN", "SIN (medium)", "\\b[1-79]\\d{2}([- ])\\d{3}\\1\\d{3}\\b",
	  "\\b[1-79]\\d{2}[- ]\\d{3}[- ]\\d{3}\\b", 0.5f, 11, OFF | P_DIGITS, 0, pii_valid_ca_sin,
	  NULL),
	RG("UK_PASSPORT", "UK Passport (weak)", "\\b[A-Z]{2}\\d{7}\\b", RUN9, 0.1f, 9, OFF | P_CASELESS | P_TCASE, 0, NULL, NULL,
	   run_9),
	R("UK_VEHICLE_REGISTRATION", "UK Vehicle Registration (current)",
	  "\\b[A-HJ-PR-Y][A-HJ-PR-Y](?:0[1-9]|[1-7]\\d)[- ]?[A-HJ-PR-Z]{3}\\b", NULL, 0.3f, 8,
	  OFF | P_CASELESS | P_DIGITS, 0, pii_valid_uk_vehicle, NULL),
	R("UK_VEHICLE_REGISTRATION", "UK Vehicle Registration (prefix)",
	  "\\b[A-HJ-NPR-TV-Y]\\d{1,3}[- ]?[A-HJ-PR-Y][A-HJ-PR-Z]{2}\\b", NULL, 0.2f, 8,
	  OFF | P_CASELESS | P_DIGITS, 0,
	  pii_valid_uk_vehicle, NULL),
	R("UK_VEHICLE_REGISTRATION", "UK Vehicle Registration (suffix)",
	  "\\b[A-HJ-PR-Z]{3}[- ]?\\d{1,3}[- ]?[A-HJ-NPR-TV-Y]\\b", NULL, 0.15f, 9,
	  OFF | P_CASELESS | P_DIGITS, 0,
	  pii_valid_uk_vehicle, NULL),
	R("DE_BSNR", "Betriebsstaettennummer BSNR", "\\b\\d{9}\\b", NULL, 0.2f, 9, OFF | P_DIGITS,
	  0,
	  pii_valid_de_bsnr, NULL),
	R("DE_LANR", "Lebenslange Arztnummer LANR", "\\b\\d{9}\\b", NULL, 0.3f, 9, OFF | P_DIGITS,
	  0,
	  pii_valid_de_lanr, NULL),
	R("DE_FUEHRERSCHEIN", "Fuehrerscheinnummer (EU format)", "\\b[A-Z]{2}\\d{8}[A-Z0-9]\\b", NULL,
	  0.35f, 11, OFF | P_CASELESS | P_DIGITS, 0, NULL, NULL),
	R("DE_HANDELSREGISTER", "Handelsregisternummer HRA/HRB", "\\bHR[AB]\\s*\\d{1,6}\\b", "\\bHR[AB]",
	  0.5f, 3, OFF | P_CASELESS, 0, NULL, NULL),
	R("DE_HEALTH_INSURANCE", "Krankenversicherungsnummer KVNR", "\\b[A-Z]\\d{9}\\b", NULL,
	  0.3f, 10, OFF | P_CASELESS | P_DIGITS, 0, pii_valid_de_kvnr, NULL),
	R("DE_KFZ", "KFZ-Kennzeichen",
	  "(?<![\\w-])[A-ZÄÖÜ]{1,3}(?:\\s[A-Z]{1,2}\\s|-[A-Z]{1,2}[-\\s])\\d{1,4}[EH]?(?!\\w)",
	  "[A-Za-z\\x80-\\xff][\\s-][A-Za-z]{1,2}[\\s-]\\d", 0.3f, 12,
	  OFF | P_CASELESS | P_UTF | P_TCASE | P_DIGITS, 0,
	  NULL, NULL),
	R("DE_PLZ", "Postleitzahl", "\\b(?!01000\\b|99999\\b)(?:0[1-9]\\d{3}|[1-9]\\d{4})\\b", "\\b\\d{5}\\b",
	  0.05f, 5, OFF | P_DIGITS, 0, NULL, NULL),
	R("DE_TAX_NUMBER", "Steuernummer ELSTER (13 digits)", "\\b(?:0[1-9]|1[0-6])\\d{11}\\b", NULL, 0.5f,
	  13, OFF | P_DIGITS, 0, NULL, NULL),
	R("DE_TAX_NUMBER", "Steuernummer 3/3/5", "(?<!\\w)\\d{3}/\\d{3}/\\d{5}(?!\\w)", "\\d{3}/\\d{3}/\\d{5}",
	  0.4f, 13, OFF | P_DIGITS, 0, NULL, NULL),
	R("DE_TAX_NUMBER", "Steuernummer with slashes", "(?<!\\w)\\d{2,3}/\\d{3,4}/\\d{4,5}(?!\\w)",
	  "\\d{2,3}/\\d{3,4}/\\d{4,5}", 0.2f, 14, OFF | P_DIGITS, 0, NULL, NULL),
	R("DE_VAT_ID", "USt-IdNr. (DE + 9 digits)", "\\bDE\\d{9}\\b", NULL, 0.5f, 11,
	  OFF | P_CASELESS | P_DIGITS, 0,
	  pii_valid_de_vat, NULL),
	R("DE_VAT_ID", "USt-IdNr. (with separators)", "\\bDE[\\s.-]?\\d{3}[\\s.-]?\\d{3}[\\s.-]?\\d{3}\\b",
	  "\\bDE[\\s.-]?\\d{3}", 0.4f, 14, OFF | P_CASELESS | P_TCASE | P_DIGITS, 0,
	  pii_valid_de_vat, NULL),
	RG("ES_PASSPORT", "ES_PASSPORT", "\\b[A-Z]{3}\\d{6}\\b", RUN9, 0.05f, 9, OFF | P_CASELESS | P_TCASE, 0, NULL, NULL, run_9),
	R("IN_GSTIN", "GSTIN", "\\b\\d{2}[A-Za-z0-9]{11}[Zz][A-Za-z0-9]\\b", NULL, 0.8f, 15, OFF, 0,
	  pii_valid_in_gstin, NULL),
	R("IN_VEHICLE_REGISTRATION", "India Vehicle Registration (Very Weak)",
	  "\\b(?:[A-Z]{1,2}(?!0000)\\d{4}|I(?!00000)\\d{5})\\b", NULL, 0.01f, 6, OFF | P_DIGITS, 0,
	  pii_valid_in_vehicle,
	  NULL),
	R("IN_VEHICLE_REGISTRATION", "India Vehicle Registration (Weak)", "\\b[A-Z]{3}(?!0000)\\d{4}\\b", NULL,
	  0.2f, 7, OFF | P_DIGITS, 0, pii_valid_in_vehicle, NULL),
	R("IN_VEHICLE_REGISTRATION", "India Vehicle Registration (Medium)",
	  "\\b\\d{1,3}(?:CD|CC|UN)[1-9]\\d{1,3}\\b", NULL, 0.4f, 9, OFF | P_DIGITS, 0,
	  pii_valid_in_vehicle, NULL),
	R("IN_VEHICLE_REGISTRATION", "India Vehicle Registration",
	  "\\b[A-Z]{2}(?:\\d[A-Z]{1,3}|\\d{2}[A-Z]{1,2})(?!0000)\\d{4}\\b", NULL, 0.5f, 11,
	  OFF | P_DIGITS, 0,
	  pii_valid_in_vehicle, NULL),
	R("IN_VEHICLE_REGISTRATION", "India Vehicle Registration (BH, armed forces)",
	  "\\b(?:[2-9][1-9]BH(?!0000)\\d{4}[A-HJ-NP-Z]{2}|(?!00)\\d{2}[A-FHKPRX]\\d{6}[A-Z])\\b", NULL,
	  0.85f, 10, OFF | P_DIGITS, 0, NULL, NULL),
	R("IT_DRIVER_LICENSE", "Driver License",
	  "\\b(?:[A-Z]{2}\\d{7}[A-Z]|U1[BCDEFGHLJKMNPRSTUWYXZ0-9]{7}[A-Z])\\b", NULL, 0.2f, 10,
	  OFF | P_CASELESS, 0, NULL, NULL),
	R("IT_IDENTITY_CARD", "Identity Card (paper, CIE 2.0, CIE 3.0)",
	  "\\b(?:[A-Z]{2}\\s?\\d{7}|\\d{7}[A-Z]{2}|[A-Z]{2}\\d{5}[A-Z]{2})\\b", NULL, 0.01f, 10,
	  OFF | P_CASELESS | P_DIGITS, 0, NULL, NULL),
	RG("IT_PASSPORT", "Passport (very weak)", "\\b[A-Z]{2}\\d{7}\\b", RUN9, 0.01f, 9, OFF | P_CASELESS | P_TCASE, 0,
	   NULL, NULL, run_9),
	R("KR_BRN", "BRN (Weak)", "(?<!\\d)\\d{3}-\\d{2}-\\d{5}(?!\\d)", "\\d{3}-\\d{2}-\\d{5}",
	  0.1f, 12, OFF | P_DIGITS, 0, pii_valid_kr_brn, NULL),
	R("KR_BRN", "BRN (Very weak)", "(?<!\\d)\\d{10}(?!\\d)", "\\d{10}", 0.05f, 10,
	  OFF | P_DIGITS, 0,
	  pii_valid_kr_brn, NULL),
	R("KR_DRIVER_LICENSE", "Driver License (very weak)",
	  "(?<!\\d)\\d{2}[- ]?\\d{2}[- ]?\\d{6}[- ]?\\d{2}(?!\\d)", "\\d{2}[- ]?\\d{2}[- ]?\\d{6}[- ]?\\d{2}",
	  0.05f, 15, OFF | P_DIGITS, 0, pii_valid_kr_dl, NULL),
	R("KR_FRN", "FRN (Medium)",
	  "(?<!\\d)\\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\\d|3[01])-?[5-8]\\d{6}(?!\\d)",
	  "\\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\\d|3[01])-?[5-8]\\d{6}", 0.5f, 14, OFF | P_DIGITS,
	  0, pii_valid_kr_frn,
	  NULL),
	R("KR_PASSPORT", "Passport Number",
	  "(?<![A-Za-z0-9])[MmSsRrOoDd]\\d{3}(?:[A-Za-z]\\d{4}|\\d{5})(?!\\d)", "[MmSsRrOoDd]\\d{3}[A-Za-z0-9]\\d{4}",
	  0.1f, 9, OFF | P_DIGITS, 0, NULL, NULL),
	R("NG_NIN", "NIN (Very Weak)", "\\b\\d{11}\\b", NULL, 0.01f, 11, OFF | P_DIGITS, 0,
	  pii_valid_ng_nin, NULL),
	R("NG_VEHICLE_REGISTRATION", "Nigeria Vehicle Registration", "\\b[A-Z]{3}[- ]?\\d{3}[A-Z]{2}\\b",
	  NULL, 0.5f, 9, OFF | P_CASELESS | P_DIGITS, 0, NULL, NULL),
	R("PH_TIN", "TIN (Low)", "\\b\\d{3}-\\d{3}-\\d{3}(?:-\\d{3})?\\b", NULL, 0.05f, 15,
	  OFF | P_DIGITS, 0,
	  pii_valid_ph_tin, NULL),
	R("PH_TIN", "TIN (Very Low)", "\\b(?:\\d{9}|\\d{12})\\b", NULL, 0.01f, 12, OFF | P_DIGITS,
	  0, pii_valid_ph_tin,
	  NULL),
	R("SE_ORGANISATIONSNUMMER", "Swedish Organisationsnummer", "\\d{6}-?\\d{4}", NULL, 0.6f,
	  11, OFF | P_DIGITS, 0,
	  pii_valid_se_orgnr, NULL),
	R("SE_PERSONNUMMER", "Swedish Personnummer", "\\d{6}(?:\\d\\d)?[-+]?\\d{4}", NULL, 0.5f,
	  13, OFF | P_DIGITS, 0,
	  pii_valid_se_pnr, NULL),
	R("SG_UEN", "UEN (low)", "\\b(?:\\d{8,9}[A-Z]|[TSR]\\d{2}[A-Z]{2}\\d{4}[A-Z])\\b", NULL,
	  0.3f, 10, OFF | P_DIGITS,
	  0, pii_valid_sg_uen, NULL),
	R("TR_LICENSE_PLATE", "TR License Plate",
	  "\\b(?:0[1-9]|[1-7]\\d|8[01])(?:\\s?[A-PR-VY-Z]{1,3}\\s?|-[A-PR-VY-Z]{1,3}-)\\d{2,4}\\b", NULL, 0.3f,
	  11, OFF | P_CASELESS | P_DIGITS, 0, pii_valid_tr_plate, NULL),
	R("TR_NATIONAL_ID", "TR_NATIONAL_ID", "\\b[1-9]\\d{10}\\b", NULL, 0.3f, 11, OFF | P_DIGITS,
	  0, pii_valid_tr_id,
	  NULL),
	R("ZA_ID_NUMBER", "South African ID Number", "\\b\\d{10}[0-2][89]\\d\\b", NULL, 0.2f, 13,
	  OFF | P_DIGITS, 0,
	  pii_valid_za_id, NULL),

	/* --- vehicles, devices, health records ------------------------------- */
	RG("VIN", "Vehicle Identification Number", "\\b[A-HJ-NPR-Z0-9]{17}\\b", RUN9, 0.3f, 17, 0, 0,
	  pii_valid_vin, NULL, run_17),
	R("IMEI", "IMEI", "\\b\\d{2}[- ]?\\d{6}[- ]?\\d{6}[- ]?\\d\\b", NULL, 0.3f, 19,
	  P_WEAKCHECK | P_DIGITS, 0,
	  pii_valid_luhn15, NULL),
	R("MEDICAL_RECORD_NUMBER", "record number after a label",
	  "(?i:\\b(?:mrn|medical record(?: number| no\\.?| #)?|chart(?: number| no\\.?| #))) *[:#]? *"
	  "([A-Z0-9][A-Z0-9-]{3,15})\\b", "\\b(?:mrn|medical record|chart)", 0.6f, 24, P_TCASE, 1, NULL,
	  chk_has_digit),
	R("HEALTH_PLAN_ID", "plan or member number after a label",
	  "(?i:\\b(?:member|subscriber|beneficiary|health plan|insurance|policy)(?: id| number| no\\.?| #))"
	  " *[:#]? *([A-Z0-9][A-Z0-9-]{4,19})\\b",
	  "\\b(?:member|subscriber|beneficiary|health plan|insurance|policy) (?:id|number|no|#)", 0.55f, 32,
	  P_TCASE, 1, NULL, chk_has_digit),
	R("US_BANK_NUMBER", "account number after a label",
	  "(?i:\\baccount (?:number|no\\.?|#)) *[:#]? *(\\d[\\d-]{5,19})\\b", "\\baccount (?:number|no|#)",
	  0.6f, 24, P_TCASE, 1, NULL, NULL),

	/* --- moat's own: addresses, ZIP codes, ages, credentials, handles ---- */
	{ "STREET_ADDRESS", "street number name suffix",
	  "\\b\\.?(?:,? (?:Apt|Apartment|Suite|Ste|Unit|Fl|Floor|#)\\.? ?#?\\w{1,6})?", NULL, 0.6f, 0,
	  P_UTF, 0, NULL, pii_chk_street, STREET_SUFFIX_LIST, '|', NULL, NULL },
	RG("STREET_ADDRESS", "street name with suffix and number",
	  "\\b\\p{L}[\\p{L}-]*" EU_STREET " \\d{1,5}[a-zA-Z]?\\b", EU_STREET " \\d", 0.55f, 60, P_UTF, 0,
	  NULL, pii_chk_address, from_street_word),
	R("STREET_ADDRESS", "street name and street word",
	  "\\b\\p{Lu}[\\p{L}-]+ " EU_WORD " \\d{1,5}[a-zA-Z]?\\b", " " EU_WORD " \\d", 0.5f, 40, P_UTF, 0,
	  NULL, pii_chk_address),
	R("STREET_ADDRESS", "street prefix and name",
	  "\\b(?:\\d{1,5},? )?" STREET_PREFIX " (?:d[eoa]s? |del |de la |della |di )?\\p{Lu}[\\p{L}'-]+"
	  "(?: \\p{Lu}[\\p{L}'-]+){0,3}(?:,? \\d{1,5}[a-zA-Z]?\\b)?",
	  "\\b" STREET_PREFIX " ", 0.5f, 16, P_UTF, 0, NULL, pii_chk_address),
	R("STREET_ADDRESS", "apartment or suite", "\\b(?:Apt|Apartment|Suite|Ste|Unit)\\.? ?#?\\d{1,5}[A-Za-z]?\\b",
	  NULL, 0.5f, 18, 0, 0, NULL, NULL),
	R("STREET_ADDRESS", "military address",
	  "\\b(?:PSC|Unit|CMR) \\d{4},? Box \\d{4}\\s+[ADF]PO\\s+A[AEP]\\s+\\d{5}\\b",
	  "[ADF]PO\\s+A[AEP]\\s+\\d{5}", 0.85f, 60, 0, 0, NULL, NULL),
	R("STREET_ADDRESS", "post office box", "\\bP\\.? ?O\\.? ?Box\\s+\\d{1,6}\\b", "box\\s+\\d", 0.6f,
	  14, P_CASELESS, 0, NULL, NULL),
	RG("ZIP_CODE", "state and ZIP", "\\b" US_STATES "\\.?,? +(\\d{5}(?:-\\d{4})?)\\b", " \\d{5}",
	   0.6f, 12, P_DIGITS, 1, NULL, NULL, gate_state_zip),
	R("ZIP_CODE", "ZIP after a label",
	  "(?i:\\b(?:zip(?: ?code)?|postal ?code|post ?code|plz)\\b\\.?:?) *(\\d{3,6}(?:[ -]\\d{2,4})?)\\b",
	  "\\b(?:zip|postal|post|postcode|plz)", 0.6f, 14, P_TCASE, 1, NULL, NULL),
	R("AGE", "age label", "(?i:\\bage[ds]?\\b:?) *(\\d{1,3})\\b", "\\bage", 0.6f, 6, P_TCASE, 1, NULL,
	  chk_age),
	R("AGE", "years old", "\\b(\\d{1,3})[ -]+(?i:years?|yrs?)[ -]+(?i:old)\\b",
	  "\\d[ -]+(?:years?|yrs?)[ -]+old", 0.65f, 24, P_TCASE, 1, NULL, chk_age),
	R("AGE", "turned",
	  "(?i:\\b(?:turned|turning|turns|turn)) +(\\d{1,3})\\b(?! *(?i:%|percent|degrees|times|pages|"
	  "minutes|hours|days|weeks|months|o'clock))", "\\bturn", 0.55f, 6, P_TCASE, 1, NULL, chk_age),
	R("AGE", "i am N",
	  "(?i:\\b(?:i'?m|i am|he's|she's|he is|she is)) +(\\d{1,3})\\b(?! *(?i:%|percent|minutes|hours|days|"
	  "weeks|months|miles|km|kg|lbs|cm|m\\b|\\$|dollars|euros|pounds|feet|ft|inches|degrees))",
	  "(?:i'?m|i am|he's|she's|he is|she is) +\\d", 0.5f, 10, P_TCASE, 1, NULL, chk_age),
	R("USERNAME", "username label",
	  "(?i:\\b(?:user ?name|user|login(?: ?name| info)?|u)) *[:=] *([^\\s,;]+)",
	  "(?:user ?name|user|login(?: ?name| info)?|\\bu) *[:=]", 0.6f, 20, P_CASELESS | P_TRIM, 1, NULL, NULL),
	R("USERNAME", "username cue", "(?i:\\b(?:user ?name|login)) +([^\\s,;:]+)",
	  "(?:user ?name|login) ", 0.45f, 12, P_TCASE | P_TRIM, 1, NULL, chk_credential),
	R("PASSWORD", "password label",
	  "(?i:\\b(?:pass(?:word|wd|phrase)?|pwd|pw|p)) *[:=] *(\\S+)",
	  "(?:pass(?:word|wd|phrase)?|pwd|pw|\\bp) *[:=]", 0.6f, 20, P_CASELESS | P_TRIM, 1, NULL, NULL),
	R("PASSWORD", "password cue", "(?i:\\b(?:password|passwd|pw)) +(\\S+)",
	  "(?:password|passwd|pw) ", 0.45f, 12, P_CASELESS | P_TRIM, 1, NULL, chk_credential),
	RG("TWITTER_HANDLE", "handle", "(?<![\\w@.])@[A-Za-z0-9_]{1,15}\\b(?![@.][A-Za-z0-9])",
	  "@[A-Za-z0-9_]", 0.5f, 2, 0, 0, NULL, chk_handle, gate_handle),
};
const size_t pii_n_patterns = sizeof(pii_patterns) / sizeof(pii_patterns[0]);

const struct pii_entity_def pii_entities[] = {
	{ "CREDIT_CARD", "credit|card|visa|mastercard|cc|amex|discover|jcb|diners|maestro|instapayment" },
	{ "CRYPTO", "wallet|btc|bitcoin|crypto" },
	{ "DATE_TIME", "date|birthday|born|dob|d.o.b|birth|time|when|appointment|scheduled|meeting" },
	{ "EMAIL_ADDRESS", "email|e-mail|mail" },
	{ "IBAN_CODE", "iban|bank|transaction|account|transfer" },
	{ "IP_ADDRESS", "ip|ipv4|ipv6|address|host" },
	{ "MAC_ADDRESS", "mac|mac address|hardware address|physical address|ethernet" },
	{ "PHONE_NUMBER", "phone|number|telephone|tel|cell|cellphone|mobile|call|fax|office|contact|reach|"
			  "dial|whatsapp|sms|text|ring|answering|hotline|landline|mob|ph" },
	{ "URL", "url|website|link|site|homepage|web" },
	{ "MEDICAL_LICENSE", "medical|certificate|dea" },
	{ "US_SSN", "social|security|ssn|ssns|ssid" },
	{ "US_ITIN", "individual|taxpayer|itin|tax|payer|taxid|tin" },
	{ "US_PASSPORT", "us|united|states|passport|travel|document" },
	{ "US_DRIVER_LICENSE", "driver|license|licence|permit|lic|identification|dls|cdls|driving" },
	{ "US_BANK_NUMBER", "check|account|acct|bank|save|debit|checking|savings" },
	{ "UK_NHS", "national health service|nhs|health services authority|health authority" },
	{ "UK_NINO", "national insurance|ni number|nino|insurance" },
	{ "UK_DRIVING_LICENCE", "driving licence|driving license|driver's licence|driver's license|dvla|"
				"dl number|licence number|license number|licence" },
	{ "UK_POSTCODE", "postcode|post code|postal code|zip|address|delivery|mailing|shipping|correspondence" },
	{ "ES_NIF", "documento nacional de identidad|dni|nif|identificación" },
	{ "ES_NIE", "número de identificación de extranjero|nie" },
	{ "IT_FISCAL_CODE", "codice fiscale|cf" },
	{ "IT_VAT_CODE", "partita iva|p.iva|iva|vat" },
	{ "PL_PESEL", "pesel" },
	{ "FI_PERSONAL_IDENTITY_CODE", "hetu|henkilötunnus|personbeteckningen|personal identity code" },
	{ "SG_NRIC_FIN", "fin|nric" },
	{ "AU_ABN", "australian business number|abn" },
	{ "AU_ACN", "australian company number|acn" },
	{ "AU_TFN", "tax file number|tfn" },
	{ "AU_MEDICARE", "medicare" },
	{ "IN_PAN", "permanent account number|pan" },
	{ "IN_AADHAAR", "aadhaar|uidai|aadhar" },
	{ "IN_VOTER", "voter|epic|elector" },
	{ "IN_PASSPORT", "passport" },
	{ "KR_RRN", "korean rrn|resident registration number|rrn|주민등록번호|주민번호" },
	{ "TH_TNIN", "thai national id|thai id number|tnin|เลขประจำตัวประชาชน|เลขบัตรประชาชน|รหัสปชช" },
	{ "DE_TAX_ID", "steuer-id|steueridentifikationsnummer|steuerliche identifikationsnummer|steuer-idnr|"
		       "steuerid|idnr|tax id|tin|finanzamt|identifikationsnummer" },
	{ "DE_ID_CARD", "personalausweis|ausweis|ausweisnummer|id card|identity card|identity document" },
	{ "DE_PASSPORT", "reisepass|passnummer|passport" },
	{ "DE_SOCIAL_SECURITY", "sozialversicherungsnummer|rentenversicherungsnummer|sozialversicherung|"
				"rvnr|svnr|versicherungsnummer|social security" },
	{ "ABA_ROUTING_NUMBER", "aba|routing|abarouting|association|bankrouting" },
	{ "US_MBI", "medicare|mbi|beneficiary|cms|medicaid|hic|hicn" },
	{ "US_NPI", "npi|national provider|provider|npi number|provider id|provider identifier|taxonomy" },
	{ "CA_SIN", "sin|sin number|social insurance|social insurance number|canada|nas|numéro nas|"
		    "numéro d'assurance sociale|assurance sociale" },
	{ "UK_PASSPORT", "passport|passport number|travel document|uk passport|british passport|"
			 "her majesty|his majesty|hm passport|hmpo" },
	{ "UK_VEHICLE_REGISTRATION", "vehicle|registration|number plate|licence plate|license plate|reg|vrn|"
				     "dvla|v5c|logbook|mot|car|insured vehicle" },
	{ "DE_BSNR", "betriebsstättennummer|betriebsstätten-nummer|bsnr|betriebsstätte|praxisnummer|"
		     "arztpraxis|praxis|kassenärztliche vereinigung|kv-nummer|kv nummer|praxisadresse|"
		     "praxisstandort|nebenbetriebsstätte|hauptbetriebsstätte|behandlungsort|vertragsarztpraxis" },
	{ "DE_LANR", "arztnummer|lanr|lebenslange arztnummer|arzt-nr|arzt nr|arzt-nummer|vertragsarzt|"
		     "kassenarzt|niedergelassener arzt|kbv|kassenärztliche vereinigung|kv-nummer|rezept|"
		     "verschreibung|behandelnder arzt|hausarzt|facharzt" },
	{ "DE_FUEHRERSCHEIN", "führerscheinnummer|führerschein|fahrerlaubnis|fahrerlaubnisnummer|"
			      "fahrerlaubnisklasse|führerscheininhaber|fev|kba|kraftfahrt-bundesamt|"
			      "driving licence|driving license|driver's license|licence number|license number|"
			      "dokument nr|dokument-nr|feld 5" },
	{ "DE_HANDELSREGISTER", "handelsregister|handelsregisternummer|amtsgericht|registergericht|hra|hrb|"
				"hr-nummer|registerauszug|handelsregistereintrag|firma|gesellschaft|gmbh|ag|ug|"
				"kg|ohg|einzelkaufmann|einzelkauffrau|handelsregisterblattnummer" },
	{ "DE_HEALTH_INSURANCE", "krankenversicherungsnummer|krankenversichertennummer|versichertennummer|"
				 "kvnr|krankenkasse|krankenversicherung|gesundheitskarte|egk|"
				 "elektronische gesundheitskarte|gkv|gesetzliche krankenversicherung|"
				 "krankenversicherungsausweis|versichertenausweis|versichertenkarte|aok|tkk|"
				 "barmer|dak" },
	{ "DE_KFZ", "kennzeichen|kfz-kennzeichen|kraftfahrzeugkennzeichen|nummernschild|fahrzeugkennzeichen|"
		    "zulassung|kfz|fahrzeug|auto|pkw|lkw|fahrzeugschein|fahrzeugbrief|"
		    "zulassungsbescheinigung|amtliches kennzeichen" },
	{ "DE_PLZ", "plz|postleitzahl|postanschrift|adresse|wohnort|ort|wohnanschrift|lieferadresse|"
		    "rechnungsadresse|straße|strasse|hausnummer|postfach|bundesland|gemeinde|stadt|dorf" },
	{ "DE_TAX_NUMBER", "steuernummer|steuer-nr|steuer nr|st.-nr|st-nr|finanzamt|umsatzsteuer|"
			   "einkommensteuer|körperschaftsteuer|gewerbesteuer|steuerveranlagung|steuerbescheid" },
	{ "DE_VAT_ID", "umsatzsteuer-identifikationsnummer|umsatzsteueridentifikationsnummer|ust-idnr|ust-id|"
		       "ustidnr|umsatzsteuer-id|mehrwertsteuer|vat|vat-id|vat id|steueridentifikation|bzst|"
		       "bundeszentralamt für steuern|finanzamt|invoice|rechnung" },
	{ "ES_PASSPORT", "pasaporte|passport|número de pasaporte|passport number" },
	{ "IN_GSTIN", "gstin|gst|goods and services tax|tax identification|gst number|gst registration" },
	{ "IN_VEHICLE_REGISTRATION", "rto|vehicle|plate|registration" },
	{ "IT_DRIVER_LICENSE", "patente|patente di guida|licenza|licenza di guida" },
	{ "IT_IDENTITY_CARD", "carta|identità|elettronica|cie|documento|riconoscimento|espatrio" },
	{ "IT_PASSPORT", "passaporto|elettronico|italiano|viaggio|viaggiare|estero|documento|dogana" },
	{ "KR_BRN", "사업자등록번호|사업자번호|사업자|brn|business registration number|korean brn|business number|"
		    "tax registration number" },
	{ "KR_DRIVER_LICENSE", "운전면허|운전면허번호|면허번호|korean driver license|korean driver's license" },
	{ "KR_FRN", "외국인등록번호|korean frn|frn|foreigner registration number|"
		    "korean foreigner registration number|외국인번호" },
	{ "KR_PASSPORT", "korean passport|korean passport number|대한민국 여권|여권|passport|passport number" },
	{ "NG_NIN", "nin|national identification number|national identity number|nimc|national identity|"
		    "nigeria id|nigerian identification" },
	{ "NG_VEHICLE_REGISTRATION", "plate number|vehicle registration|license plate|number plate|plate|"
				     "vehicle|registration" },
	{ "PH_TIN", "tin|taxpayer identification number|bir|taxpayer id|tax id|rdo|revenue district office" },
	{ "SE_ORGANISATIONSNUMMER", "organisationsnummer|orgnr|org nr|företagsnummer" },
	{ "SE_PERSONNUMMER", "personnummer|svenskt personnummer|svensk id|ssn|personal identity number|"
			     "samordningsnummer" },
	{ "SG_UEN", "uen|unique entity number|business registration|acra" },
	{ "TR_LICENSE_PLATE", "plaka|araç plakası|plaka numarası|kayıt plakası|tr plaka|license plate|"
			      "number plate|plate|taşıt plakası|kayıt" },
	{ "TR_NATIONAL_ID", "tc kimlik|kimlik no|kimlik numarası|tckn|tc no|nüfus cüzdanı|national id|"
			    "turkish id|türk kimlik" },
	{ "ZA_ID_NUMBER", "id|identity|identity number|id number|south african id|rsa id|smart id|national id" },
	{ "VIN", "vin|vehicle|chassis|car|truck" },
	{ "IMEI", "imei|device|handset|serial" },
	{ "MEDICAL_RECORD_NUMBER", "mrn|record|chart|patient" },
	{ "HEALTH_PLAN_ID", "member|plan|insurance|beneficiary|subscriber" },
	{ "PERSON", "name|patient|mr|mrs|ms|dr" },
	{ "LOCATION", "city|country|town|live|lives|located|address" },
	{ "ORGANIZATION", "company|employer|firm|corporation|organisation|organization" },
	{ "NRP", "" },
	{ "STREET_ADDRESS", "address|street|live|lives|located|deliver|ship|mail" },
	{ "ZIP_CODE", "zip|postal|postcode|zipcode" },
	{ "AGE", "age|old|years|aged" },
	{ "USERNAME", "username|user|login" },
	{ "PASSWORD", "password|pass|pw" },
	{ "TWITTER_HANDLE", "twitter|tweet|follow|dm|handle" },
};
const size_t pii_n_entities = sizeof(pii_entities) / sizeof(pii_entities[0]);
