/* test_email.c - address validation: ordinary and unusual valid
 * addresses, header-injection attempts (CR/LF, NUL-free controls),
 * quoted strings, spaces, bad dots and labels, the 64/255/254 limits at
 * their exact bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "core/email.h"

static void test_valid(void **st)
{
	static const char *ok[] = {
		"patient@example.org",
		"a@b.de",
		"Max.Mustermann@praxis-dr-beispiel.de",
		"x+termin@mail.example.co.uk",
		"o'brien@example.ie",
		"user_name-1@sub.domain.example",
		"!#$%&'*+-/=?^_`{|}~@example.org",
		"a@xn--mnchen-3ya.de",
		"1234@123.example",
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (consult_email_check(ok[i]) != CONSULT_OK)
			fail_msg("refused: %s", ok[i]);
}

static void test_injection(void **st)
{
	static const char *bad[] = {
		"patient@example.org\r\nBcc: all@example.org",
		"patient@example.org\nBcc: all@example.org",
		"patient@example.org\r",
		"pat\rient@example.org",
		"patient@exa\tmple.org",
		"patient@example.org\x7f",
		"\x1bpatient@example.org",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(consult_email_check(bad[i]), CONSULT_ERR_INVALID_UTF8);
	/* a long injection attempt is still reported as injection */
	char big[400];
	memset(big, 'a', sizeof big);
	memcpy(big, "a@b.de\r\n", 8);
	big[sizeof big - 1] = '\0';
	assert_int_equal(consult_email_check(big), CONSULT_ERR_INVALID_UTF8);
}

static void test_invalid(void **st)
{
	static const char *bad[] = {
		"",
		"plain",
		"@example.org",
		"patient@",
		"patient@@example.org",
		"a@b@example.org",
		"\"quoted\"@example.org",
		"\"a b\"@example.org",
		"pa tient@example.org",
		" patient@example.org",
		"patient@example.org ",
		"Patient <patient@example.org>",
		"patient@example.org>",
		".patient@example.org",
		"patient.@example.org",
		"pa..tient@example.org",
		"patient@localhost",
		"patient@example",
		"patient@example.org.",
		"patient@.example.org",
		"patient@example..org",
		"patient@-example.org",
		"patient@example-.org",
		"patient@exa_mple.org",
		"patient@[127.0.0.1]",
		"patient@127.0.0.1",
		"patient@example.123",
		"pat,ient@example.org",
		"pat;ient@example.org",
		"pat\\ient@example.org",
		"pat(ient)@example.org",
		"p\xc3\xa4tient@example.org",
		"patient@m\xc3\xbcnchen.de",
		"patient@example.org,other@example.org",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (consult_email_check(bad[i]) != CONSULT_ERR_INVALID_FIELD)
			fail_msg("accepted or wrong code: '%s' -> %d", bad[i], (int)consult_email_check(bad[i]));
	assert_int_equal(consult_email_check(NULL), CONSULT_ERR_MISSING_FIELD);
}

static void test_limits(void **st)
{
	char a[300];
	/* local part 64 ok, 65 not */
	memset(a, 'l', 64);
	strcpy(a + 64, "@example.org");
	assert_int_equal(consult_email_check(a), CONSULT_OK);
	memset(a, 'l', 65);
	strcpy(a + 65, "@example.org");
	assert_int_equal(consult_email_check(a), CONSULT_ERR_INVALID_FIELD);
	/* label 63 ok, 64 not */
	strcpy(a, "x@");
	memset(a + 2, 'd', 63);
	strcpy(a + 65, ".de");
	assert_int_equal(consult_email_check(a), CONSULT_OK);
	memset(a + 2, 'd', 64);
	strcpy(a + 66, ".de");
	assert_int_equal(consult_email_check(a), CONSULT_ERR_INVALID_FIELD);
	/* whole address exactly 254 ok, 255 too long:
	 * 64 + '@' + 63 '.' 63 '.' 61 = 254 */
	memset(a, 'l', 64);
	a[64] = '@';
	memset(a + 65, 'd', 63);
	a[128] = '.';
	memset(a + 129, 'd', 63);
	a[192] = '.';
	memset(a + 193, 'e', 61);
	a[254] = '\0';
	assert_int_equal(strlen(a), 254);
	assert_int_equal(consult_email_check(a), CONSULT_OK);
	a[254] = 'e';
	a[255] = '\0';
	assert_int_equal(consult_email_check(a), CONSULT_ERR_TOO_LONG);
}

static void test_domain(void **st)
{
	assert_true(consult_email_domain_ok("praxis.example.de"));
	assert_false(consult_email_domain_ok("praxis"));
	assert_false(consult_email_domain_ok("praxis.example.de\r\n"));
	assert_false(consult_email_domain_ok(""));
	assert_false(consult_email_domain_ok(NULL));
	assert_false(consult_email_domain_ok("a b.de"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_domain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
