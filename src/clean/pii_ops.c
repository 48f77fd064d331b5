/*
 * pii_ops.c - the anonymisation operators and AES-256-GCM through OpenSSL;
 * the key file is keys/'s secret key.  See pii_ops.h for the formats.
 */
#define _GNU_SOURCE
#include "pii_ops.h"
#include "pii_validate.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "../core/utf8.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../core/base64.h"
#include "../keys/keys.h"
#include "../core/banned.h"

static const char *const op_names[] = { "redact", "replace", "mask", "hash", "pseudonymize",
					"encrypt", "keep" };

const char *pii_op_name(enum pii_op op)
{
	return (unsigned)op < sizeof(op_names) / sizeof(op_names[0]) ? op_names[op] : "?";
}

struct pii_op_spec pii_op_default(void)
{
	struct pii_op_spec s;
	memset(&s, 0, sizeof(s));
	s.op = PII_OP_REPLACE;
	s.keep = 4;
	s.mask_char[0] = '*';
	return s;
}

int pii_op_parse(const char *str, struct pii_op_spec *out, struct moat_err *e)
{
	char word[32];
	size_t l = strcspn(str, " \t");
	const char *p = str + l;
	int found = 0;
	*out = pii_op_default();
	if (l == 0 || l >= sizeof(word))
		return err_set(e, MOAT_EUSAGE, "bad operator '%s'", str);
	memcpy(word, str, l);
	word[l] = '\0';
	if (!strcmp(word, "pseudonymise") || !strcmp(word, "pseudonym"))
		memcpy(word, "pseudonymize", sizeof("pseudonymize"));
	for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (!strcmp(word, op_names[i])) {
			out->op = (enum pii_op)i;
			found = 1;
		}
	if (!found)
		return err_set(e, MOAT_EUSAGE,
			       "unknown operator '%s' (redact, replace, mask, hash, pseudonymize, "
			       "encrypt, keep)", word);
	while (*p) {
		const char *eq;
		size_t kl;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		l = strcspn(p, " \t");
		eq = memchr(p, '=', l);
		if (!eq)
			return err_set(e, MOAT_EUSAGE, "bad operator parameter '%.*s' (want key=value)",
				       (int)l, p);
		kl = (size_t)(eq - p);
		if (kl == 4 && !strncmp(p, "keep", 4)) {
			char *end;
			long v = strtol(eq + 1, &end, 10);
			if (end != p + l || v < 0 || v > 1000)
				return err_set(e, MOAT_EUSAGE, "mask: keep needs a number");
			out->keep = (int)v;
		} else if (kl == 4 && !strncmp(p, "char", 4)) {
			size_t vl = l - kl - 1;
			if (vl == 0 || vl >= sizeof(out->mask_char) ||
			    utf8_count(eq + 1, vl) != 1 || !utf8_is_valid(eq + 1, vl))
				return err_set(e, MOAT_EUSAGE, "mask: char needs one character");
			memcpy(out->mask_char, eq + 1, vl);
			out->mask_char[vl] = '\0';
		} else if (kl == 5 && !strncmp(p, "value", 5)) {
			/* the value runs to the end of the line: it may hold spaces */
			size_t vl = strlen(eq + 1);
			if (vl >= sizeof(out->value))
				return err_set(e, MOAT_EUSAGE, "replace: value is too long");
			memcpy(out->value, eq + 1, vl);
			out->value[vl] = '\0';
			break;
		} else {
			return err_set(e, MOAT_EUSAGE, "unknown operator parameter '%.*s'", (int)kl, p);
		}
		p += l;
	}
	return 0;
}

/* --- keyed randomness ---------------------------------------------------- */

/* HMAC-SHA-256 of "label NUL type NUL value" under k: 0, or -1 when out of
 * memory or OpenSSL failed (out is then all zeros and must not be used). */
static int hmac(const unsigned char *k, size_t kl, const char *label, const char *type,
		const char *v, size_t n, unsigned char out[32])
{
	static const unsigned char zero = 0;
	unsigned char small[256], *msg = small;
	size_t ll = strlen(label), tl = strlen(type), ol = 0, ml = ll + tl + n + 2;
	int ok;
	memset(out, 0, 32);
	if (ml > sizeof(small) && !(msg = malloc(ml)))
		return -1;
	/* label NUL type NUL value: no two inputs share a message */
	memcpy(msg, label, ll);
	msg[ll] = 0;
	memcpy(msg + ll + 1, type, tl);
	msg[ll + 1 + tl] = 0;
	memcpy(msg + ll + tl + 2, v, n);
	ok = EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, kl ? k : &zero, kl ? kl : 1, msg, ml, out,
		       32, &ol) != NULL;
	if (msg != small)
		free(msg);
	if (!ok)
		memset(out, 0, 32);
	return ok ? 0 : -1;
}

struct stream {
	unsigned char block[32];
	size_t pos;
	unsigned counter;
	unsigned char seed[32];
};

static void stream_init(struct stream *s, const unsigned char seed[32])
{
	memcpy(s->seed, seed, 32);
	s->counter = 0;
	s->pos = 32;
}

static unsigned stream_byte(struct stream *s)
{
	if (s->pos == 32) {
		unsigned char msg[36];
		memcpy(msg, s->seed, 32);
		msg[32] = (unsigned char)(s->counter >> 24);
		msg[33] = (unsigned char)(s->counter >> 16);
		msg[34] = (unsigned char)(s->counter >> 8);
		msg[35] = (unsigned char)s->counter;
		s->counter++;
		sha256_mem(msg, sizeof(msg), s->block);
		s->pos = 0;
	}
	return s->block[s->pos++];
}

static unsigned stream_uniform(struct stream *s, unsigned n)
{
	unsigned v;
	do
		v = stream_byte(s);
	while (v >= 256 - 256 % n);
	return v % n;
}

int pii_value_digest(const struct pii_secrets *sec, const char *type, const char *value, size_t n,
		     char hex[65], struct moat_err *e)
{
	unsigned char d[32];
	if (hmac(sec->salt, sec->salt_len, "finding", type, value, n, d) < 0)
		return err_set(e, MOAT_ENOMEM, "cannot compute a finding's digest: out of memory");
	hex_encode(d, 32, hex);
	return 0;
}

/* --- pseudonyms ---------------------------------------------------------- */

static const char *const fake_first[] = {
	"Alex", "Robin", "Sam", "Jordan", "Casey", "Morgan", "Riley", "Taylor", "Jamie", "Avery",
	"Quinn", "Rowan", "Emery", "Hayden", "Kendall", "Logan", "Parker", "Reese", "Sawyer", "Skyler",
	"Ari", "Blair", "Cameron", "Dana", "Eden", "Finley", "Harper", "Indigo", "Jesse", "Kai", "Lane",
	"Micah",
};
static const char *const fake_last[] = {
	"Ashford", "Bellamy", "Carver", "Dunmore", "Ellery", "Fairbank", "Garrow", "Halden", "Iverson",
	"Jessop", "Kettering", "Lindqvist", "Marlowe", "Norcross", "Oakley", "Pemberton", "Quill",
	"Radley", "Sterling", "Thorne", "Underwood", "Vance", "Whitlock", "Yardley", "Ambrose", "Brandt",
	"Calloway", "Davenport", "Eastwood", "Fenwick", "Grayson", "Hollis",
};
static const char *const fake_places[] = {
	"Eastbrook", "Westvale", "Northam", "Southmere", "Lakeside", "Hillcrest", "Riverton",
	"Fairhaven", "Greenfield", "Stonebridge", "Maplewood", "Ashby", "Brookfield", "Cedarville",
	"Dalton", "Elmstead",
};
static const char *const fake_orgs[] = {
	"Acme Holdings", "Globex Ltd", "Initech", "Umbrella Group", "Vandelay Industries",
	"Stark Works", "Wayne Partners", "Hooli", "Pied Piper", "Soylent Co", "Tyrell Systems",
	"Cyberdyne", "Oscorp", "Wonka Foods", "Gringotts", "Monarch Labs",
};

#define PICK(arr, st) (arr)[stream_uniform((st), sizeof(arr) / sizeof((arr)[0]))]

static int is_type(const char *type, const char *name)
{
	return !strcmp(type, name);
}

/* Digits to digits, letters to letters of the same case, the rest kept. */
static void fpe(struct stream *st, const char *v, size_t n, struct buf *out)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)v[i];
		if (c >= '0' && c <= '9')
			buf_addch(out, (char)('0' + stream_uniform(st, 10)));
		else if (c >= 'a' && c <= 'z')
			buf_addch(out, (char)('a' + stream_uniform(st, 26)));
		else if (c >= 'A' && c <= 'Z')
			buf_addch(out, (char)('A' + stream_uniform(st, 26)));
		else if (c >= 0x80) {
			uint32_t cp;
			int l = utf8_decode((const unsigned char *)v + i, n - i, &cp);
			buf_addch(out, (char)('a' + stream_uniform(st, 26)));
			i += l > 0 ? (size_t)l : 1;
			continue;
		} else
			buf_addch(out, (char)c);
		i++;
	}
}

static void fix_luhn(struct buf *out, size_t from)
{
	char d[40];
	size_t k = 0, last = 0;
	for (size_t i = from; i < out->len && k < sizeof(d) - 1; i++)
		if (isdigit((unsigned char)out->data[i])) {
			d[k++] = out->data[i];
			last = i;
		}
	if (k < 2)
		return;
	out->data[last] = (char)('0' + pii_luhn_digit(d, k - 1));
}

static void fix_iban(struct buf *out, size_t from)
{
	/* keep the country code, recompute the two check digits */
	char v[48];
	size_t k = 0;
	size_t pos[48];
	unsigned rem = 0;
	for (size_t i = from; i < out->len && k < sizeof(v); i++)
		if (isalnum((unsigned char)out->data[i])) {
			pos[k] = i;
			v[k++] = (char)toupper((unsigned char)out->data[i]);
		}
	if (k < 5)
		return;
	v[2] = v[3] = '0';
	for (size_t j = 0; j < k; j++) {
		char c = v[(j + 4) % k];
		if (c >= '0' && c <= '9')
			rem = (rem * 10 + (unsigned)(c - '0')) % 97;
		else
			rem = (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
	}
	rem = 98 - rem;
	out->data[pos[2]] = (char)('0' + rem / 10);
	out->data[pos[3]] = (char)('0' + rem % 10);
}

static int pseudonym(const struct pii_secrets *sec, const char *type, const char *v, size_t n,
		     struct buf *out)
{
	unsigned char seed[32];
	struct stream st;
	size_t from = out->len;
	if (hmac(sec->salt, sec->salt_len, "pseudonym", type, v, n, seed) < 0)
		return -1;
	stream_init(&st, seed);
	if (is_type(type, "PERSON")) {
		buf_adds(out, PICK(fake_first, &st));
		buf_addch(out, ' ');
		buf_adds(out, PICK(fake_last, &st));
	} else if (is_type(type, "EMAIL_ADDRESS")) {
		buf_adds(out, PICK(fake_first, &st));
		buf_addch(out, '.');
		buf_adds(out, PICK(fake_last, &st));
		buf_addf(out, "%u@example.%s", stream_uniform(&st, 100),
			 stream_uniform(&st, 2) ? "org" : "com");
		for (size_t i = from; i < out->len; i++)
			out->data[i] = (char)tolower((unsigned char)out->data[i]);
	} else if (is_type(type, "LOCATION")) {
		buf_adds(out, PICK(fake_places, &st));
	} else if (is_type(type, "ORGANIZATION")) {
		buf_adds(out, PICK(fake_orgs, &st));
	} else if (is_type(type, "URL")) {
		buf_addf(out, "https://site-%02x%02x%02x.example/", stream_byte(&st), stream_byte(&st),
			 stream_byte(&st));
	} else if (is_type(type, "IP_ADDRESS") && memchr(v, ':', n)) {
		buf_addf(out, "fd00:%x:%x:%x::%x", stream_byte(&st) << 8 | stream_byte(&st),
			 stream_byte(&st) << 8 | stream_byte(&st), stream_byte(&st),
			 stream_byte(&st) << 8 | stream_byte(&st));
	} else if (is_type(type, "IP_ADDRESS")) {
		buf_addf(out, "10.%u.%u.%u", stream_byte(&st), stream_byte(&st),
			 1 + stream_uniform(&st, 254));
	} else if (is_type(type, "DATE_TIME") || is_type(type, "NRP") || is_type(type, "AGE")) {
		buf_addf(out, "<%s_%02x%02x%02x>", type, stream_byte(&st), stream_byte(&st),
			 stream_byte(&st));
	} else {
		fpe(&st, v, n, out);
		if (is_type(type, "CREDIT_CARD"))
			fix_luhn(out, from);
		else if (is_type(type, "IBAN_CODE")) {
			/* keep the country code */
			for (size_t i = 0, k = 0; i < n && k < 2; i++)
				if (isalpha((unsigned char)v[i])) {
					size_t j = from, seen = 0;
					for (; j < out->len; j++)
						if (isalnum((unsigned char)out->data[j]) && seen++ == k)
							break;
					if (j < out->len)
						out->data[j] = (char)toupper((unsigned char)v[i]);
					k++;
				}
			fix_iban(out, from);
		}
	}
	return 0;
}

/* --- encryption ----------------------------------------------------------- */

static int encrypt_value(const unsigned char key[32], const char *type, const char *v, size_t n,
			 struct buf *out, struct moat_err *e)
{
	unsigned char iv[32], tag[16];
	unsigned char *ct = malloc(n + 12 + 16 + 1);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l = 0, ok;
	if (!ct || !c) {
		free(ct);
		EVP_CIPHER_CTX_free(c);
		return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	if (hmac(key, 32, "nonce", type, v, n, iv) < 0) {
		free(ct);
		EVP_CIPHER_CTX_free(c);
		return err_set(e, MOAT_ENOMEM, "cannot encrypt a value: out of memory");
	}
	memcpy(ct, iv, 12);
	ok = EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
	     EVP_EncryptInit_ex(c, NULL, NULL, key, iv) == 1 &&
	     EVP_EncryptUpdate(c, NULL, &l, (const unsigned char *)type, (int)strlen(type)) == 1 &&
	     EVP_EncryptUpdate(c, ct + 12, &l, (const unsigned char *)v, (int)n) == 1 &&
	     EVP_EncryptFinal_ex(c, ct + 12 + l, &l) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok) {
		free(ct);
		return err_set(e, MOAT_EIO, "cannot encrypt a value (OpenSSL)");
	}
	memcpy(ct + 12 + n, tag, 16);
	buf_addf(out, "<enc:%s:", type);
	base64_encode(ct, 12 + n + 16, BASE64_URL, out);
	buf_addch(out, '>');
	free(ct);
	return 0;
}

static int decrypt_value(const unsigned char key[32], const char *type, size_t tl,
			 const unsigned char *blob, size_t n, struct buf *out)
{
	EVP_CIPHER_CTX *c;
	unsigned char *pt;
	int l = 0, ok;
	if (n < 28)
		return -1;
	pt = malloc(n);
	c = EVP_CIPHER_CTX_new();
	if (!pt || !c) {
		free(pt);
		EVP_CIPHER_CTX_free(c);
		return -1;
	}
	ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
	     EVP_DecryptInit_ex(c, NULL, NULL, key, blob) == 1 &&
	     EVP_DecryptUpdate(c, NULL, &l, (const unsigned char *)type, (int)tl) == 1 &&
	     EVP_DecryptUpdate(c, pt, &l, blob + 12, (int)(n - 28)) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(blob + n - 16)) == 1 &&
	     EVP_DecryptFinal_ex(c, pt + l, &l) == 1;
	EVP_CIPHER_CTX_free(c);
	if (ok)
		buf_add(out, pt, n - 28);
	free(pt);
	return ok ? 0 : -1;
}

int pii_restore_text(const unsigned char key[32], const char *t, size_t n, struct buf *out,
		     size_t *restored, size_t *failed, struct moat_err *e)
{
	size_t i = 0;
	struct buf blob = BUF_INIT;
	*restored = *failed = 0;
	while (i < n) {
		const char *p = memmem(t + i, n - i, "<enc:", 5);
		size_t s, ts, te, bs, be;
		long bl;
		if (!p) {
			buf_add(out, t + i, n - i);
			break;
		}
		s = (size_t)(p - t);
		buf_add(out, t + i, s - i);
		ts = s + 5;
		te = ts;
		while (te < n && (isupper((unsigned char)t[te]) || t[te] == '_' || isdigit((unsigned char)t[te])))
			te++;
		if (te >= n || t[te] != ':' || te == ts) {
			buf_add(out, t + s, 5);
			i = s + 5;
			continue;
		}
		bs = te + 1;
		be = bs;
		while (be < n && base64_value((unsigned char)t[be], BASE64_URL) >= 0)
			be++;
		if (be >= n || t[be] != '>') {
			buf_add(out, t + s, 5);
			i = s + 5;
			continue;
		}
		buf_reset(&blob);
		bl = base64_decode(t + bs, be - bs, BASE64_URL, &blob);
		if (buf_failed(&blob)) {
			buf_release(&blob);
			return err_set(e, MOAT_ENOMEM, "out of memory");
		}
		if (bl < 0 || decrypt_value(key, t + ts, te - ts, (const unsigned char *)blob.data,
					    (size_t)bl, out) < 0) {
			buf_add(out, t + s, be + 1 - s);
			(*failed)++;
		} else {
			(*restored)++;
		}
		i = be + 1;
	}
	buf_release(&blob);
	if (buf_failed(out))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return 0;
}

/* --- keys ------------------------------------------------------------------- */

int pii_key_load(const char *path, unsigned char key[32], struct moat_err *e)
{
	return keys_secret_load(path, key, e);
}

/* --- apply ------------------------------------------------------------------ */

static void mask(const struct pii_op_spec *op, const char *v, size_t n, struct buf *out)
{
	/* mask letters and digits, keep separators, leave the last `keep` ones */
	size_t total = 0, seen = 0, i = 0;
	for (size_t k = 0; k < n;) {
		uint32_t cp;
		int l = utf8_decode((const unsigned char *)v + k, n - k, &cp);
		if (l <= 0)
			l = 1;
		if (cp >= 0x80 || isalnum((int)cp))
			total++;
		k += (size_t)l;
	}
	while (i < n) {
		uint32_t cp;
		int l = utf8_decode((const unsigned char *)v + i, n - i, &cp);
		if (l <= 0)
			l = 1;
		if (cp >= 0x80 || isalnum((int)cp)) {
			if (seen++ + (size_t)op->keep < total)
				buf_adds(out, op->mask_char);
			else
				buf_add(out, v + i, (size_t)l);
		} else {
			buf_add(out, v + i, (size_t)l);
		}
		i += (size_t)l;
	}
}

int pii_apply(const struct pii_secrets *sec, const struct pii_op_spec *op, const char *type,
	      const char *value, size_t n, struct buf *out, struct moat_err *e)
{
	switch (op->op) {
	case PII_OP_REDACT:
		break;
	case PII_OP_REPLACE:
		if (op->value[0])
			buf_adds(out, op->value);
		else
			buf_addf(out, "<%s>", type);
		break;
	case PII_OP_MASK:
		mask(op, value, n, out);
		break;
	case PII_OP_HASH: {
		struct sha256 h;
		unsigned char d[32];
		char hex[65];
		if (sha256_init(&h) < 0)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		sha256_update(&h, sec->salt, sec->salt_len);
		sha256_update(&h, value, n);
		sha256_final(&h, d);
		hex_encode(d, 32, hex);
		buf_adds(out, hex);
		break;
	}
	case PII_OP_PSEUDONYMIZE:
		if (pseudonym(sec, type, value, n, out) < 0)
			return err_set(e, MOAT_ENOMEM, "cannot make a pseudonym: out of memory");
		break;
	case PII_OP_ENCRYPT:
		if (!sec->have_key)
			return err_set(e, MOAT_EUSAGE,
				       "the encrypt operator needs a key file (key_file in the policy)");
		return encrypt_value(sec->key, type, value, n, out, e);
	case PII_OP_KEEP:
		buf_add(out, value, n);
		break;
	}
	if (buf_failed(out))
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return 0;
}
