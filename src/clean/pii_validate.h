/*
 * pii_validate.h - checksums and format checks for the identifiers the PII
 * recognizers find: Luhn, IBAN mod-97, Bitcoin Base58Check and Bech32, the
 * national identifiers' check digits (Spain, Italy, Poland, Finland,
 * Singapore, Australia, India, Korea, Thailand, Germany, UK, US).
 *
 * Every validator takes the matched text as it appears (separators such as
 * spaces and dashes included) and answers as Presidio's validate_result does:
 * PII_VALID (the score becomes 1.0), PII_INVALID (the finding is dropped) or
 * PII_UNKNOWN (the pattern's score stands).  Pure functions, no allocation,
 * safe from any thread.  Not for: finding candidates (pii_scan.c).  Uses only
 * libc.
 */
#ifndef MOAT_PII_VALIDATE_H
#define MOAT_PII_VALIDATE_H

#include <stddef.h>

enum { PII_INVALID = 0, PII_VALID = 1, PII_UNKNOWN = -1 };

typedef int (*pii_validator)(const char *s, size_t n);

int pii_valid_luhn(const char *s, size_t n);          /* CREDIT_CARD */
int pii_valid_iban(const char *s, size_t n);          /* IBAN_CODE */
int pii_valid_email(const char *s, size_t n);         /* EMAIL_ADDRESS: a real TLD */
int pii_valid_ip(const char *s, size_t n);            /* IP_ADDRESS v4/v6 */
int pii_valid_mac(const char *s, size_t n);           /* MAC_ADDRESS */
int pii_valid_btc(const char *s, size_t n);           /* CRYPTO: Base58Check / Bech32(m) */
int pii_valid_us_ssn(const char *s, size_t n);        /* US_SSN (Presidio's invalidation rules) */
int pii_valid_us_itin(const char *s, size_t n);       /* US_ITIN */
int pii_valid_us_aba(const char *s, size_t n);        /* US ABA routing number */
int pii_valid_dea(const char *s, size_t n);           /* MEDICAL_LICENSE (DEA number) */
int pii_valid_uk_nhs(const char *s, size_t n);        /* UK_NHS mod 11 */
int pii_valid_uk_nino(const char *s, size_t n);       /* UK_NINO prefixes */
int pii_valid_uk_dl(const char *s, size_t n);         /* UK_DRIVING_LICENCE */
int pii_valid_es_nif(const char *s, size_t n);        /* ES_NIF mod 23 */
int pii_valid_es_nie(const char *s, size_t n);        /* ES_NIE mod 23 */
int pii_valid_it_fiscal(const char *s, size_t n);     /* IT_FISCAL_CODE check letter */
int pii_valid_it_vat(const char *s, size_t n);        /* IT_VAT_CODE */
int pii_valid_pl_pesel(const char *s, size_t n);      /* PL_PESEL */
int pii_valid_fi_pic(const char *s, size_t n);        /* FI_PERSONAL_IDENTITY_CODE */
int pii_valid_sg_nric(const char *s, size_t n);       /* SG_NRIC_FIN */
int pii_valid_au_abn(const char *s, size_t n);        /* AU_ABN mod 89 */
int pii_valid_au_acn(const char *s, size_t n);        /* AU_ACN */
int pii_valid_au_tfn(const char *s, size_t n);        /* AU_TFN mod 11 */
int pii_valid_au_medicare(const char *s, size_t n);   /* AU_MEDICARE */
int pii_valid_in_aadhaar(const char *s, size_t n);    /* IN_AADHAAR Verhoeff */
int pii_valid_kr_rrn(const char *s, size_t n);        /* KR_RRN */
int pii_valid_th_tnin(const char *s, size_t n);       /* TH_TNIN */
int pii_valid_de_tax_id(const char *s, size_t n);     /* DE_TAX_ID ISO 7064 mod 11,10 */
int pii_valid_de_id(const char *s, size_t n);         /* DE_ID_CARD / DE_PASSPORT (ICAO 7-3-1) */
int pii_valid_de_svnr(const char *s, size_t n);       /* DE_SOCIAL_SECURITY (RVNR) */
int pii_valid_vin(const char *s, size_t n);           /* VIN: check digit (North America) */

int pii_valid_ca_sin(const char *s, size_t n);        /* CA_SIN: Luhn (invalidates only) */
int pii_valid_us_npi(const char *s, size_t n);        /* US_NPI: Luhn with prefix 80840 */
int pii_valid_de_bsnr(const char *s, size_t n);       /* DE_BSNR: not all zeros */
int pii_valid_de_lanr(const char *s, size_t n);       /* DE_LANR: weights 4,9 mod 10 */
int pii_valid_de_kvnr(const char *s, size_t n);       /* DE_HEALTH_INSURANCE: KVNR check digit */
int pii_valid_de_vat(const char *s, size_t n);        /* DE_VAT_ID: ISO 7064 mod 11,10 */
int pii_valid_de_idcard(const char *s, size_t n);     /* DE_ID_CARD: 9 characters, ICAO 7-3-1 */
int pii_valid_de_passport(const char *s, size_t n);   /* DE_PASSPORT: ICAO 7-3-1, no vowels */
int pii_valid_in_gstin(const char *s, size_t n);      /* IN_GSTIN: state code, PAN, Z */
int pii_valid_in_vehicle(const char *s, size_t n);    /* IN_VEHICLE_REGISTRATION: state code */
int pii_valid_kr_brn(const char *s, size_t n);        /* KR_BRN check digit */
int pii_valid_kr_dl(const char *s, size_t n);         /* KR_DRIVER_LICENSE region code */
int pii_valid_kr_frn(const char *s, size_t n);        /* KR_FRN check digit */
int pii_valid_ng_nin(const char *s, size_t n);        /* NG_NIN Verhoeff */
int pii_valid_ph_tin(const char *s, size_t n);        /* PH_TIN mod 11 (invalidates only) */
int pii_valid_se_orgnr(const char *s, size_t n);      /* SE_ORGANISATIONSNUMMER: Luhn */
int pii_valid_se_pnr(const char *s, size_t n);        /* SE_PERSONNUMMER: date, Luhn */
int pii_valid_sg_uen(const char *s, size_t n);        /* SG_UEN: the three formats' checks */
int pii_valid_tr_plate(const char *s, size_t n);      /* TR_LICENSE_PLATE province 01-81 */
int pii_valid_tr_id(const char *s, size_t n);         /* TR_NATIONAL_ID check digits */
int pii_valid_uk_vehicle(const char *s, size_t n);    /* UK_VEHICLE_REGISTRATION age code */
int pii_valid_za_id(const char *s, size_t n);         /* ZA_ID_NUMBER: date, Luhn */

/* Helpers the operators reuse: the Luhn check digit for digits d[0..n). */
int pii_luhn_digit(const char *digits, size_t n);

#endif
