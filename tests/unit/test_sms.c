/* test_sms.c - GSM-7 vs UCS-2 detection over the whole 23.038 default
 * alphabet and extension table, septet/UTF-16 unit counts, the 160/153 and
 * 70/67 limits at their bounds, parts never splitting an escape pair or a
 * surrogate pair (so the part count exceeds units/153 when it must), part
 * byte ranges that re-assemble the text, refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "core/sms.h"

/* Every character of the default alphabet (0x1B escape excluded), in
 * table order, written out from the standard's table. */
static const char gsm_all[] =
        "@\xc2\xa3$\xc2\xa5\xc3\xa8\xc3\xa9\xc3\xb9\xc3\xac\xc3\xb2\xc3\x87\n\xc3\x98\xc3\xb8\r\xc3\x85\xc3\xa5"
        "\xce\x94_"
        "\xce\xa6\xce\x93\xce\x9b\xce\xa9\xce\xa0\xce\xa8\xce\xa3\xce\x98\xce\x9e\xc3\x86\xc3\xa6\xc3\x9f\xc3\x89"
        " !\"#\xc2\xa4%&'()*+,-./0123456789:;<=>?"
        "\xc2\xa1"
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ\xc3\x84\xc3\x96\xc3\x91\xc3\x9c\xc2\xa7"
        "\xc2\xbf"
        "abcdefghijklmnopqrstuvwxyz\xc3\xa4\xc3\xb6\xc3\xb1\xc3\xbc\xc3\xa0";
static const char gsm_ext[] = "^{}\\[~]|\xe2\x82\xac"; /* ^ { } \ [ ~ ] | EURO */

#define EURO  "\xe2\x82\xac"
#define ECIRC "\xc3\xaa"         /* e circumflex: not GSM-7 */
#define GRIN  "\xf0\x9f\x98\x80" /* U+1F600: a surrogate pair */

static consult_sms_info info_of(const char *s)
{
	consult_sms_info i;
	memset(&i, 0xee, sizeof i);
	assert_int_equal(consult_sms_analyse(s, strlen(s), &i), CONSULT_OK);
	return i;
}

static char *rep(char *buf, const char *unit, size_t n)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		strcat(buf, unit);
	return buf;
}

static void test_alphabet(void **st)
{
	consult_sms_info i = info_of(gsm_all);
	assert_int_equal(i.encoding, CONSULT_SMS_GSM7);
	assert_int_equal(i.units, 127);
	assert_int_equal(i.parts, 1);
	i = info_of(gsm_ext);
	assert_int_equal(i.encoding, CONSULT_SMS_GSM7);
	assert_int_equal(i.units, 18);
	/* German text with umlauts and sharp s stays GSM-7 */
	i = info_of("Gr\xc3\xbc\xc3\x9f"
	            "e aus der Praxis M\xc3\xbcller: Ihr Termin am 31.01. um 14:30 Uhr.");
	assert_int_equal(i.encoding, CONSULT_SMS_GSM7);
	assert_int_equal(i.units, 63);
	/* septet costs */
	assert_int_equal(consult_sms_gsm7_septets('a'), 1);
	assert_int_equal(consult_sms_gsm7_septets(0x20ac), 2);
	assert_int_equal(consult_sms_gsm7_septets('\\'), 2);
	assert_int_equal(consult_sms_gsm7_septets('`'), 0);
	assert_int_equal(consult_sms_gsm7_septets(0xea), 0);
	assert_int_equal(consult_sms_gsm7_septets(0x1b), 0);
	assert_int_equal(consult_sms_gsm7_septets(0xd800), 0);
	assert_int_equal(consult_sms_gsm7_septets(0x1f600), 0);
}

static void test_ucs2_detection(void **st)
{
	const char *non[] = { "`", ECIRC, "\xc3\xa1", "\xc5\x9b", "\xd0\x96", "\xe2\x80\x9e", GRIN };
	for (size_t k = 0; k < sizeof non / sizeof non[0]; k++) {
		char s[64];
		snprintf(s, sizeof s, "Termin%s", non[k]);
		consult_sms_info i = info_of(s);
		assert_int_equal(i.encoding, CONSULT_SMS_UCS2);
		assert_int_equal(i.units, 6 + (non[k][0] == '\xf0' ? 2 : 1));
	}
	/* one emoji makes the whole text UCS-2, extension chars then cost 1 */
	consult_sms_info i = info_of("{a}" EURO GRIN);
	assert_int_equal(i.encoding, CONSULT_SMS_UCS2);
	assert_int_equal(i.units, 6);
}

static void test_gsm7_bounds(void **st)
{
	char s[2048];
	consult_sms_info i = info_of(rep(s, "a", 160));
	assert_int_equal(i.units, 160);
	assert_int_equal(i.parts, 1);
	i = info_of(rep(s, "a", 161));
	assert_int_equal(i.parts, 2);
	i = info_of(rep(s, "a", 306));
	assert_int_equal(i.parts, 2);
	i = info_of(rep(s, "a", 307));
	assert_int_equal(i.parts, 3);
	i = info_of(rep(s, EURO, 80)); /* 160 septets */
	assert_int_equal(i.units, 160);
	assert_int_equal(i.parts, 1);
	i = info_of(rep(s, EURO, 81)); /* 162 septets: 76 + 5 euros */
	assert_int_equal(i.units, 162);
	assert_int_equal(i.parts, 2);
	/* 153*2 = 306 septets but every part holds only 76 euros (152) */
	i = info_of(rep(s, EURO, 153));
	assert_int_equal(i.units, 306);
	assert_int_equal(i.parts, 3);
}

static void test_ucs2_bounds(void **st)
{
	char s[2048];
	consult_sms_info i = info_of(rep(s, ECIRC, 70));
	assert_int_equal(i.encoding, CONSULT_SMS_UCS2);
	assert_int_equal(i.units, 70);
	assert_int_equal(i.parts, 1);
	i = info_of(rep(s, ECIRC, 71));
	assert_int_equal(i.parts, 2);
	i = info_of(rep(s, ECIRC, 134));
	assert_int_equal(i.parts, 2);
	i = info_of(rep(s, ECIRC, 135));
	assert_int_equal(i.parts, 3);
	i = info_of(rep(s, GRIN, 35)); /* 70 units */
	assert_int_equal(i.units, 70);
	assert_int_equal(i.parts, 1);
	i = info_of(rep(s, GRIN, 67)); /* 134 units, but 33 pairs per part */
	assert_int_equal(i.units, 134);
	assert_int_equal(i.parts, 3);
}

static void check_parts(const char *s, const consult_sms_part *p, size_t n, size_t cap)
{
	size_t off = 0;
	for (size_t k = 0; k < n; k++) {
		assert_int_equal(p[k].offset, off);
		assert_true(p[k].units >= 1 && p[k].units <= cap);
		off += p[k].length;
		/* a part never ends inside a UTF-8 sequence */
		assert_true(((unsigned char)s[off] & 0xc0) != 0x80);
		/* each part is valid on its own and has the same unit count */
		consult_sms_info i;
		assert_int_equal(consult_sms_analyse(s + p[k].offset, p[k].length, &i), CONSULT_OK);
		assert_int_equal(i.units, p[k].units);
	}
	assert_int_equal(off, strlen(s));
}

static void test_split(void **st)
{
	char s[2048];
	consult_sms_part p[8]; /* 1000 septets need 7 parts */
	size_t n = 99;
	consult_sms_info i;

	/* 152 a + '{' + 10 b: the escape pair goes to part 2 whole */
	rep(s, "a", 152);
	strcat(s, "{bbbbbbbbbb");
	assert_int_equal(consult_sms_split(s, strlen(s), p, 8, &n, &i), CONSULT_OK);
	assert_int_equal(i.units, 164);
	assert_int_equal(n, 2);
	assert_int_equal(p[0].length, 152);
	assert_int_equal(p[0].units, 152);
	assert_int_equal(p[1].offset, 152);
	assert_int_equal(p[1].units, 12);
	assert_int_equal(s[p[1].offset], '{');
	check_parts(s, p, n, 153);

	/* 151 a + '{': fits exactly 153 in part 1 */
	rep(s, "a", 151);
	strcat(s, "{");
	strcat(s, rep(s + 1000, "c", 20));
	assert_int_equal(consult_sms_split(s, strlen(s), p, 8, &n, &i), CONSULT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(p[0].units, 153);
	assert_int_equal(p[1].units, 20);
	check_parts(s, p, n, 153);

	/* UCS-2: 66 x 'e^' + emoji: the pair moves to part 2 */
	rep(s, ECIRC, 66);
	strcat(s, GRIN "xyz");
	assert_int_equal(consult_sms_split(s, strlen(s), p, 8, &n, &i), CONSULT_OK);
	assert_int_equal(i.encoding, CONSULT_SMS_UCS2);
	assert_int_equal(i.units, 71);
	assert_int_equal(n, 2);
	assert_int_equal(p[0].units, 66);
	assert_int_equal(p[0].length, 132);
	assert_int_equal(p[1].units, 5);
	assert_memory_equal(s + p[1].offset, GRIN, 4);
	check_parts(s, p, n, 67);

	/* single SMS: one part, the whole text */
	assert_int_equal(consult_sms_split("Hallo", 5, p, 8, &n, &i), CONSULT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].offset, 0);
	assert_int_equal(p[0].length, 5);
	assert_int_equal(p[0].units, 5);

	/* long mixed text re-assembles */
	rep(s, "Ihr Termin " EURO " [Praxis] ", 40);
	assert_int_equal(consult_sms_split(s, strlen(s), p, 8, &n, &i), CONSULT_OK);
	assert_int_equal(i.units, 40 * 25); /* 22 chars, 3 of them escaped */
	check_parts(s, p, n, 153);
	assert_int_equal(n, i.parts);
}

static void test_refusals(void **st)
{
	consult_sms_info i;
	consult_sms_part p[2];
	size_t n = 99;
	char s[2048];
	assert_int_equal(consult_sms_analyse("a\tb", 3, &i), CONSULT_ERR_INVALID_UTF8);
	assert_int_equal(consult_sms_analyse("a\x0c"
	                                     "b",
	                         3, &i),
	        CONSULT_ERR_INVALID_UTF8);
	assert_int_equal(consult_sms_analyse("a\0b", 3, &i), CONSULT_ERR_INVALID_UTF8);
	assert_int_equal(consult_sms_analyse("\xc2\x85", 2, &i), CONSULT_ERR_INVALID_UTF8);
	assert_int_equal(consult_sms_analyse("\xc3", 1, &i), CONSULT_ERR_INVALID_UTF8);
	assert_int_equal(consult_sms_analyse("\xc0\xaf", 2, &i), CONSULT_ERR_INVALID_UTF8);
	assert_int_equal(consult_sms_analyse("\xed\xa0\x80", 3, &i), CONSULT_ERR_INVALID_UTF8);
	assert_int_equal(consult_sms_analyse(NULL, 0, &i), CONSULT_ERR_MISSING_FIELD);
	/* line ends are fine */
	assert_int_equal(consult_sms_analyse("a\r\nb", 4, &i), CONSULT_OK);
	assert_int_equal(i.encoding, CONSULT_SMS_GSM7);
	assert_int_equal(i.units, 4);
	/* empty */
	assert_int_equal(consult_sms_analyse("", 0, &i), CONSULT_OK);
	assert_int_equal(i.units, 0);
	assert_int_equal(i.parts, 0);
	/* too many parts for the caller's array: the count is still given */
	rep(s, "a", 500);
	assert_int_equal(consult_sms_split(s, 500, p, 2, &n, &i), CONSULT_ERR_TOO_LONG);
	assert_int_equal(n, 4);
	assert_int_equal(i.parts, 4);
	assert_int_equal(p[0].units, 153);
	assert_int_equal(p[1].units, 153);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alphabet),
		cmocka_unit_test(test_ucs2_detection),
		cmocka_unit_test(test_gsm7_bounds),
		cmocka_unit_test(test_ucs2_bounds),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
