/* test_phone.c - E.164 normalisation: the accepted German spellings
 * (international, 00, national with trunk 0, parentheses, mobile), the
 * country table (AT/CH trunk rules, IT/DK without trunk), and every
 * refusal: letters, CR/LF, '+' misplaced, trunk 0 after the country code,
 * too short/long, empty, NULL, unknown default country. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "core/phone.h"
#include "core/limits.h"

static void expect_ok(const char *in, const char *iso, const char *want)
{
	char out[CONSULT_PHONE_E164_LEN];
	memset(out, 'x', sizeof out);
	consult_err e = consult_phone_normalise(in, iso, out);
	if (e != CONSULT_OK)
		fail_msg("'%s' (%s) refused with %d", in, iso ? iso : "NULL", (int)e);
	assert_string_equal(out, want);
	assert_true(consult_phone_e164_ok(out));
}

static void expect_err(const char *in, const char *iso, consult_err want)
{
	char out[CONSULT_PHONE_E164_LEN];
	memset(out, 'x', sizeof out);
	consult_err e = consult_phone_normalise(in, iso, out);
	if (e != want)
		fail_msg("'%s' gave %d, want %d", in ? in : "NULL", (int)e, (int)want);
	assert_string_equal(out, "");
}

static void test_german_spellings(void **st)
{
	expect_ok("+49 721 5163690", "DE", "+497215163690");
	expect_ok("0721-5163690", "DE", "+497215163690");
	expect_ok("0049 721 5163690", "DE", "+497215163690");
	expect_ok("(0721) 516 36 90", "DE", "+497215163690");
	expect_ok("0721/516 36-90", "DE", "+497215163690");
	expect_ok("0171 1234567", "DE", "+491711234567");
	expect_ok("0171 12345678", NULL, "+4917112345678");
	expect_ok("+49 (171) 12345678", "de", "+4917112345678");
	expect_ok("  +49.171.12345678  ", "DE", "+4917112345678");
	expect_ok("+4917112345678", "DE", "+4917112345678");
}

static void test_countries(void **st)
{
	/* AT/CH: trunk 0 like DE */
	expect_ok("0664 1234567", "AT", "+436641234567");
	expect_ok("079 123 45 67", "CH", "+41791234567");
	expect_ok("+43 1 5879999", "DE", "+4315879999");
	/* a German default does not apply to international input */
	expect_ok("0041 79 123 45 67", "DE", "+41791234567");
	/* IT keeps its leading 0, DK/LU have no trunk prefix */
	expect_ok("06 1234 5678", "IT", "+390612345678");
	expect_ok("+39 06 1234 5678", "DE", "+390612345678");
	expect_ok("12 34 56 78", "DK", "+4512345678");
	expect_ok("621 123 456", "LU", "+352621123456");
	/* other country codes pass with the generic rules */
	expect_ok("+1 202 555 0143", "DE", "+12025550143");
	expect_ok("020 7946 0000", "GB", "+442079460000");
	expect_err("+44 (0)20 7946 0000", "DE", CONSULT_ERR_INVALID_FIELD);

	const consult_phone_country *c = consult_phone_country_find("ch");
	assert_non_null(c);
	assert_string_equal(c->cc, "41");
	assert_string_equal(c->trunk, "0");
	assert_null(consult_phone_country_find("IT")->trunk);
	assert_null(consult_phone_country_find("XX"));
	assert_null(consult_phone_country_find("DEU"));
	assert_null(consult_phone_country_find(NULL));
}

static void test_refused(void **st)
{
	expect_err(NULL, "DE", CONSULT_ERR_MISSING_FIELD);
	expect_err("", "DE", CONSULT_ERR_INVALID_FIELD);
	expect_err("   ", "DE", CONSULT_ERR_INVALID_FIELD);
	expect_err("+", "DE", CONSULT_ERR_INVALID_FIELD);
	expect_err("0721 516369O", "DE", CONSULT_ERR_INVALID_FIELD); /* letter O */
	expect_err("0721 CALL-ME", "DE", CONSULT_ERR_INVALID_FIELD);
	expect_err("tel:+497215163690", "DE", CONSULT_ERR_INVALID_FIELD);
	expect_err("0721 5163690\r\nBcc: x@example.org", "DE", CONSULT_ERR_INVALID_UTF8);
	expect_err("0721\n5163690", "DE", CONSULT_ERR_INVALID_UTF8);
	expect_err("0721\t5163690", "DE", CONSULT_ERR_INVALID_UTF8);
	expect_err("49+7215163690", "DE", CONSULT_ERR_INVALID_FIELD); /* '+' not first */
	expect_err("++497215163690", "DE", CONSULT_ERR_INVALID_FIELD);
	expect_err("+49 0721 5163690", "DE", CONSULT_ERR_INVALID_FIELD); /* trunk after cc */
	expect_err("+49 (0) 721 5163690", "DE", CONSULT_ERR_INVALID_FIELD);
	expect_err("0049 0721 5163690", "DE", CONSULT_ERR_INVALID_FIELD);
	expect_err("+43 0664 1234567", "DE", CONSULT_ERR_INVALID_FIELD);
	expect_err("+41 079 1234567", "DE", CONSULT_ERR_INVALID_FIELD);
	expect_err("+0 123 456789", "DE", CONSULT_ERR_INVALID_FIELD);
	expect_err("000 123 456789", "DE", CONSULT_ERR_INVALID_FIELD);
	expect_err("7215163690", "DE", CONSULT_ERR_INVALID_FIELD); /* no trunk 0 */
	expect_err("0721 12", "DE", CONSULT_ERR_INVALID_FIELD);    /* 7 digits: too short */
	expect_err("(0721 5163690", "DE", CONSULT_ERR_INVALID_FIELD);
	expect_err("0721) 5163690", "DE", CONSULT_ERR_INVALID_FIELD);
	expect_err("(0)(721) 5163690", "DE", CONSULT_ERR_INVALID_FIELD);
	expect_err("0721 5163690", "XX", CONSULT_ERR_INVALID_FIELD);
	expect_err("0721 516\xc3\xa4", "DE", CONSULT_ERR_INVALID_FIELD);             /* UTF-8 letter */
	expect_err("0721 5163690 5163690 5163690 5163", "DE", CONSULT_ERR_TOO_LONG); /* 33 */
}

static void test_length_bounds(void **st)
{
	/* exactly 15 digits pass, 16 fail; exactly 8 pass, 7 fail */
	expect_ok("+49 1234567890123", "DE", "+491234567890123");
	expect_err("+49 12345678901234", "DE", CONSULT_ERR_INVALID_FIELD);
	expect_ok("030 12345", "DE", "+493012345");
	expect_ok("+1 2345678", "DE", "+12345678");
	expect_err("+1 234567", "DE", CONSULT_ERR_INVALID_FIELD);
	/* CONSULT_MAX_PHONE characters pass the length check */
	char in[CONSULT_MAX_PHONE + 2];
	memset(in, ' ', sizeof in);
	memcpy(in, "0721 5163690", 12);
	in[CONSULT_MAX_PHONE] = '\0';
	expect_ok(in, "DE", "+497215163690");
	in[CONSULT_MAX_PHONE] = ' ';
	in[CONSULT_MAX_PHONE + 1] = '\0';
	expect_err(in, "DE", CONSULT_ERR_TOO_LONG);
}

static void test_e164_ok(void **st)
{
	assert_true(consult_phone_e164_ok("+4917112345678"));
	assert_true(consult_phone_e164_ok("+12345678"));
	assert_true(consult_phone_e164_ok("+123456789012345"));
	assert_false(consult_phone_e164_ok("+1234567890123456"));
	assert_false(consult_phone_e164_ok("+1234567"));
	assert_false(consult_phone_e164_ok("4917112345678"));
	assert_false(consult_phone_e164_ok("+04917112345678"));
	assert_false(consult_phone_e164_ok("+49 17112345678"));
	assert_false(consult_phone_e164_ok("+4917112345678\n"));
	assert_false(consult_phone_e164_ok(""));
	assert_false(consult_phone_e164_ok(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_german_spellings),
		cmocka_unit_test(test_countries),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_length_bounds),
		cmocka_unit_test(test_e164_ok),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
