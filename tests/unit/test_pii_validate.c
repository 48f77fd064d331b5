/* test_pii_validate.c - every validator on valid and invalid identifiers. */
#include "testutil.h"

#include <string.h>

#include "clean/pii_validate.h"

#define V(fn, s) fn(s, strlen(s))

static void cards_and_banks(void **state)
{
	(void)state;
	assert_int_equal(V(pii_valid_luhn, "4012888888881881"), PII_VALID);
	assert_int_equal(V(pii_valid_luhn, "3782 822463 10005"), PII_VALID);
	assert_int_equal(V(pii_valid_luhn, "4012-8888-8888-1882"), PII_INVALID);
	assert_int_equal(V(pii_valid_luhn, "1234 5678 8765 4321"), PII_INVALID);
	assert_int_equal(V(pii_valid_iban, "DE89370400440532013000"), PII_VALID);
	assert_int_equal(V(pii_valid_iban, "GB82 WEST 1234 5698 7654 32"), PII_VALID);
	assert_int_equal(V(pii_valid_iban, "DE89370400440532013001"), PII_INVALID);
	assert_int_equal(V(pii_valid_iban, "DE8937040044053201300"), PII_INVALID);   /* length */
	assert_int_equal(V(pii_valid_iban, "de89370400440532013000"), PII_UNKNOWN);  /* lower case */
	assert_int_equal(V(pii_valid_us_aba, "011000015"), PII_VALID);
	assert_int_equal(V(pii_valid_us_aba, "011000016"), PII_INVALID);
}

static void crypto(void **state)
{
	(void)state;
	assert_int_equal(V(pii_valid_btc, "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"), PII_VALID);
	assert_int_equal(V(pii_valid_btc, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"), PII_VALID);
	assert_int_equal(V(pii_valid_btc, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"), PII_VALID);
	assert_int_equal(V(pii_valid_btc, "1BoatSLRHtKNngkdXEeobR76b53LETtpyU"), PII_INVALID);
	assert_int_equal(V(pii_valid_btc, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr"), PII_INVALID);
	assert_int_equal(V(pii_valid_btc, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNL0"), PII_INVALID);
}

static void net(void **state)
{
	(void)state;
	assert_int_equal(V(pii_valid_email, "someone@example.com"), PII_VALID);
	assert_int_equal(V(pii_valid_email, "someone@mail.example.co.uk"), PII_VALID);
	assert_int_equal(V(pii_valid_email, "a@b.c"), PII_INVALID);
	assert_int_equal(V(pii_valid_email, "a@b.notatld"), PII_INVALID);
	assert_int_equal(V(pii_valid_ip, "192.168.1.20"), PII_UNKNOWN);
	assert_int_equal(V(pii_valid_ip, "2001:db8::1"), PII_UNKNOWN);
	assert_int_equal(V(pii_valid_ip, "999.1.1.1"), PII_INVALID);
	/* interfaces, as Python's ipaddress.ip_interface reads them */
	assert_int_equal(V(pii_valid_ip, "192.168.1.0/24"), PII_UNKNOWN);
	assert_int_equal(V(pii_valid_ip, "192.168.1.0/33"), PII_INVALID);
	assert_int_equal(V(pii_valid_ip, "fe80::1%eth0"), PII_UNKNOWN);
	assert_int_equal(V(pii_valid_ip, "fe80::1%"), PII_INVALID);
	assert_int_equal(V(pii_valid_ip, "::ffff:192.0.2.1"), PII_UNKNOWN);
	assert_int_equal(V(pii_valid_ip, "2001:db8::/129"), PII_INVALID);
	assert_int_equal(V(pii_valid_ip, "1:2:3:4:5:6:7:8:9"), PII_INVALID);
	assert_int_equal(V(pii_valid_mac, "00:1A:2B:3C:4D:5E"), PII_UNKNOWN);
	assert_int_equal(V(pii_valid_mac, "ff:ff:ff:ff:ff:ff"), PII_INVALID);
}

static void united_states(void **state)
{
	(void)state;
	assert_int_equal(V(pii_valid_us_ssn, "536-90-4399"), PII_UNKNOWN);
	assert_int_equal(V(pii_valid_us_ssn, "078-05-1120"), PII_INVALID);  /* the Woolworth card */
	assert_int_equal(V(pii_valid_us_ssn, "000-12-3456"), PII_INVALID);
	assert_int_equal(V(pii_valid_us_ssn, "666-12-3456"), PII_INVALID);
	assert_int_equal(V(pii_valid_us_ssn, "536-00-4399"), PII_INVALID);
	assert_int_equal(V(pii_valid_us_ssn, "536-90 4399"), PII_INVALID);  /* mixed separators */
	assert_int_equal(V(pii_valid_us_ssn, "111111111"), PII_INVALID);
	assert_int_equal(V(pii_valid_us_itin, "912-70-1234"), PII_UNKNOWN);
	assert_int_equal(V(pii_valid_us_itin, "912-40-1234"), PII_INVALID);
	assert_int_equal(V(pii_valid_dea, "AB1234563"), PII_VALID);
	assert_int_equal(V(pii_valid_dea, "AB1234567"), PII_INVALID);
}

static void united_kingdom(void **state)
{
	(void)state;
	assert_int_equal(V(pii_valid_uk_nhs, "943 476 5919"), PII_VALID);
	assert_int_equal(V(pii_valid_uk_nhs, "9434765918"), PII_INVALID);
	assert_int_equal(V(pii_valid_uk_nino, "AB 12 34 56 C"), PII_UNKNOWN);
	assert_int_equal(V(pii_valid_uk_nino, "BG123456A"), PII_INVALID);
	assert_int_equal(V(pii_valid_uk_nino, "DA123456A"), PII_INVALID);
	assert_int_equal(V(pii_valid_uk_dl, "MORGA753116SM9IJ"), PII_UNKNOWN);
	assert_int_equal(V(pii_valid_uk_dl, "99999753116SM9IJ"), PII_INVALID);
	assert_int_equal(V(pii_valid_uk_dl, "M9RGA753116SM9IJ"), PII_INVALID);
}

static void europe(void **state)
{
	(void)state;
	assert_int_equal(V(pii_valid_es_nif, "12345678Z"), PII_VALID);
	assert_int_equal(V(pii_valid_es_nif, "12345678-A"), PII_INVALID);
	assert_int_equal(V(pii_valid_es_nie, "X1234567L"), PII_VALID);
	assert_int_equal(V(pii_valid_es_nie, "X1234567A"), PII_INVALID);
	assert_int_equal(V(pii_valid_it_fiscal, "RSSMRA85T10A562S"), PII_VALID);
	assert_int_equal(V(pii_valid_it_fiscal, "RSSMRA85T10A562T"), PII_UNKNOWN);  /* as Presidio */
	assert_int_equal(V(pii_valid_it_vat, "12345678903"), PII_VALID);
	assert_int_equal(V(pii_valid_it_vat, "12345678904"), PII_INVALID);
	assert_int_equal(V(pii_valid_pl_pesel, "44051401359"), PII_VALID);
	assert_int_equal(V(pii_valid_pl_pesel, "44051401358"), PII_INVALID);
	assert_int_equal(V(pii_valid_fi_pic, "131052-308T"), PII_VALID);
	assert_int_equal(V(pii_valid_fi_pic, "131052-308U"), PII_INVALID);
	assert_int_equal(V(pii_valid_fi_pic, "310252-308T"), PII_INVALID);  /* 31 February */
	assert_int_equal(V(pii_valid_de_tax_id, "86095742719"), PII_VALID);
	assert_int_equal(V(pii_valid_de_tax_id, "86 095 742 719"), PII_VALID);
	assert_int_equal(V(pii_valid_de_tax_id, "86095742718"), PII_INVALID);
	assert_int_equal(V(pii_valid_de_tax_id, "11111111111"), PII_INVALID);  /* occurrence rule */
	assert_int_equal(V(pii_valid_de_id, "T220001293"), PII_VALID);
	assert_int_equal(V(pii_valid_de_id, "T220001294"), PII_INVALID);
	assert_int_equal(V(pii_valid_de_id, "T22000129"), PII_UNKNOWN);
	assert_int_equal(V(pii_valid_de_svnr, "65170839J003"), PII_VALID);
	assert_int_equal(V(pii_valid_de_svnr, "65170839J004"), PII_INVALID);
}

static void asia_pacific(void **state)
{
	(void)state;
	assert_int_equal(V(pii_valid_sg_nric, "S1234567D"), PII_VALID);
	assert_int_equal(V(pii_valid_sg_nric, "S1234567A"), PII_INVALID);
	assert_int_equal(V(pii_valid_au_abn, "51 824 753 556"), PII_VALID);
	assert_int_equal(V(pii_valid_au_abn, "51824753557"), PII_INVALID);
	assert_int_equal(V(pii_valid_au_acn, "004 085 616"), PII_VALID);
	assert_int_equal(V(pii_valid_au_acn, "004085617"), PII_INVALID);
	assert_int_equal(V(pii_valid_au_tfn, "123 456 782"), PII_VALID);
	assert_int_equal(V(pii_valid_au_tfn, "123456789"), PII_INVALID);
	assert_int_equal(V(pii_valid_au_medicare, "2123 45670 1"), PII_VALID);
	assert_int_equal(V(pii_valid_au_medicare, "2123456711"), PII_INVALID);
	assert_int_equal(V(pii_valid_in_aadhaar, "2341 2341 2346"), PII_VALID);
	assert_int_equal(V(pii_valid_in_aadhaar, "234123412345"), PII_INVALID);
	assert_int_equal(V(pii_valid_in_aadhaar, "123412341234"), PII_INVALID);  /* starts with 1 */
	assert_int_equal(V(pii_valid_kr_rrn, "800101-1234560"), PII_VALID);
	assert_int_equal(V(pii_valid_kr_rrn, "800101-1234561"), PII_UNKNOWN);  /* new random tails */
	assert_int_equal(V(pii_valid_kr_rrn, "80010112345"), PII_INVALID);
	assert_int_equal(V(pii_valid_th_tnin, "1101700203450"), PII_VALID);
	assert_int_equal(V(pii_valid_th_tnin, "1-1017-00203-45-0"), PII_VALID);
	assert_int_equal(V(pii_valid_th_tnin, "1101700203451"), PII_INVALID);
}

/* The recognizers Presidio ships beyond the default set: a valid number
 * from Presidio's tests, and the same with its check digit changed. */
static void presidio_countries(void **state)
{
	static const struct {
		pii_validator fn;
		const char *s;
		int want;
	} t[] = {
		{ pii_valid_ca_sin, "130 692 544", PII_UNKNOWN },
		{ pii_valid_ca_sin, "130 692 545", PII_INVALID },
		{ pii_valid_de_kvnr, "A000500015", PII_VALID },
		{ pii_valid_de_kvnr, "A000500016", PII_INVALID },
		{ pii_valid_de_idcard, "L01X00T44", PII_VALID },
		{ pii_valid_de_idcard, "L01X00T45", PII_INVALID },
		{ pii_valid_de_idcard, "T22000129", PII_UNKNOWN }, /* old card */
		{ pii_valid_de_passport, "C01234565", PII_VALID },
		{ pii_valid_de_passport, "C01234566", PII_INVALID },
		{ pii_valid_de_lanr, "123456601", PII_VALID },
		{ pii_valid_de_lanr, "123456701", PII_INVALID },
		{ pii_valid_de_bsnr, "000000000", PII_INVALID },
		{ pii_valid_de_bsnr, "021234568", PII_UNKNOWN },
		{ pii_valid_de_vat, "DE136695976", PII_VALID },
		{ pii_valid_de_vat, "DE136695977", PII_UNKNOWN }, /* Presidio's lenient mode */
		{ pii_valid_in_gstin, "27ABCDE1234F1Z5", PII_VALID },
		{ pii_valid_in_gstin, "38ABCDE1234F1Z5", PII_INVALID }, /* state code */
		{ pii_valid_kr_brn, "104-86-56659", PII_VALID },
		{ pii_valid_kr_brn, "104-86-56658", PII_INVALID },
		{ pii_valid_kr_frn, "911124-5678906", PII_VALID },
		{ pii_valid_kr_frn, "911124-5678901", PII_UNKNOWN }, /* post-2020 */
		{ pii_valid_kr_frn, "911124-1678901", PII_INVALID }, /* not 5-8 */
		{ pii_valid_ng_nin, "12345678902", PII_VALID },
		{ pii_valid_ng_nin, "12345678903", PII_INVALID },
		{ pii_valid_se_orgnr, "212000-0142", PII_VALID },
		{ pii_valid_se_orgnr, "212000-0143", PII_INVALID },
		{ pii_valid_se_pnr, "189004119807", PII_VALID },
		{ pii_valid_se_pnr, "189013119807", PII_INVALID }, /* month 13 */
		{ pii_valid_sg_uen, "53125226D", PII_VALID },
		{ pii_valid_sg_uen, "53125226E", PII_INVALID },
		{ pii_valid_tr_id, "10000000146", PII_VALID },
		{ pii_valid_tr_id, "10000000147", PII_INVALID },
		{ pii_valid_us_npi, "1234567893", PII_VALID },
		{ pii_valid_us_npi, "1234567894", PII_INVALID },
		{ pii_valid_za_id, "8001015009087", PII_VALID },
		{ pii_valid_za_id, "8001015009088", PII_INVALID },
		{ pii_valid_za_id, "8002305009087", PII_INVALID }, /* 30 February */
		{ pii_valid_ph_tin, "123-456-789-000", PII_INVALID },
		{ pii_valid_uk_vehicle, "AB51 ABC", PII_VALID },
		{ pii_valid_uk_vehicle, "AB35 ABC", PII_INVALID },
		{ pii_valid_tr_plate, "82 ABC 123", PII_INVALID },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].fn(t[i].s, strlen(t[i].s)) != t[i].want)
			fail_msg("%s: expected %d", t[i].s, t[i].want);
}

static void vehicles(void **state)
{
	(void)state;
	assert_int_equal(V(pii_valid_vin, "1HGCM82633A004352"), PII_VALID);
	assert_int_equal(V(pii_valid_vin, "1HGCM82643A004352"), PII_UNKNOWN);  /* no check digit */
	assert_int_equal(V(pii_valid_vin, "1HGCM82633A00435"), PII_INVALID);
	assert_int_equal(V(pii_valid_vin, "IHGCM82633A004352"), PII_INVALID);  /* I is not used */
	assert_int_equal(V(pii_valid_vin, "12345678901234567"), PII_INVALID);  /* digits only */
}

static void luhn_digit(void **state)
{
	(void)state;
	assert_int_equal(pii_luhn_digit("401288888888188", 15), 1);
	assert_int_equal(pii_luhn_digit("7992739871", 10), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cards_and_banks),
		cmocka_unit_test(crypto),
		cmocka_unit_test(net),
		cmocka_unit_test(united_states),
		cmocka_unit_test(united_kingdom),
		cmocka_unit_test(europe),
		cmocka_unit_test(asia_pacific),
		cmocka_unit_test(presidio_countries),
		cmocka_unit_test(vehicles),
		cmocka_unit_test(luhn_digit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
