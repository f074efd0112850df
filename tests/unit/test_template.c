/* test_template.c - {{placeholder}} rendering: substitution, spaces in
 * braces, literal single braces, no recursion, unknown and malformed
 * placeholders at validate and render time (with the offending name),
 * the output bound, bad UTF-8, and the HTML/JSON/form escapers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "core/template.h"

static const char *const allowed[] = { "practice", "date", "time", "link", "code" };
#define N_ALLOWED (sizeof allowed / sizeof allowed[0])

static const consult_tpl_var vars[] = {
	{ "practice", "Praxis Dr. M\xc3\xbcller" }, { "date", "31.01.2025" }, { "time", "14:30" },
	{ "link", "https://praxis.example/p/x?c=1&d=2" }, { "code", "{{practice}}" }, /* must stay literal */
};
#define N_VARS (sizeof vars / sizeof vars[0])

static void test_render(void **st)
{
	char *out = NULL;
	size_t len = 0;
	char bad[CONSULT_TPL_NAME_MAX + 1] = "zz";
	assert_int_equal(consult_tpl_render("Ihr Termin in der {{practice}} am {{ date }} um {{time}} Uhr.\n"
	                                    "Link: {{link}} {single} }} {x}",
	                         vars, N_VARS, 4096, &out, &len, bad),
	        CONSULT_OK);
	assert_string_equal(out,
	        "Ihr Termin in der Praxis Dr. M\xc3\xbcller am 31.01.2025 um 14:30 Uhr.\n"
	        "Link: https://praxis.example/p/x?c=1&d=2 {single} }} {x}");
	assert_int_equal(len, strlen(out));
	assert_string_equal(bad, "");
	free(out);

	/* no recursion: a value that looks like a placeholder stays literal */
	assert_int_equal(consult_tpl_render("Code: {{code}}", vars, N_VARS, 100, &out, NULL, NULL), CONSULT_OK);
	assert_string_equal(out, "Code: {{practice}}");
	free(out);

	/* repeated placeholders, NULL value, empty template */
	consult_tpl_var v2[] = { { "a", "x" }, { "b", NULL } };
	assert_int_equal(consult_tpl_render("{{a}}{{a}}[{{b}}]{{a}}", v2, 2, 100, &out, NULL, NULL), CONSULT_OK);
	assert_string_equal(out, "xx[]x");
	free(out);
	assert_int_equal(consult_tpl_render("", v2, 2, 100, &out, &len, NULL), CONSULT_OK);
	assert_string_equal(out, "");
	assert_int_equal(len, 0);
	free(out);
}

static void test_validate(void **st)
{
	char bad[CONSULT_TPL_NAME_MAX + 1];
	assert_int_equal(
	        consult_tpl_validate("{{practice}} {{date}} {{ time }} {{link}} {{code}}", allowed, N_ALLOWED, bad),
	        CONSULT_OK);
	assert_string_equal(bad, "");
	assert_int_equal(consult_tpl_validate("Hallo {{name}}, {{date}} {{patient_phone}}", allowed, N_ALLOWED, bad),
	        CONSULT_ERR_INVALID_FIELD);
	assert_string_equal(bad, "name");
	assert_int_equal(
	        consult_tpl_validate("{{date}} {{  secret_9  }}", allowed, N_ALLOWED, bad), CONSULT_ERR_INVALID_FIELD);
	assert_string_equal(bad, "secret_9");
	/* a prefix of an allowed name is not that name */
	assert_int_equal(consult_tpl_validate("{{dat}}", allowed, N_ALLOWED, bad), CONSULT_ERR_INVALID_FIELD);
	assert_string_equal(bad, "dat");
	assert_int_equal(consult_tpl_validate("{{dates}}", allowed, N_ALLOWED, bad), CONSULT_ERR_INVALID_FIELD);
	assert_string_equal(bad, "dates");

	/* malformed: bad is "" */
	static const char *malformed[] = {
		"{{",
		"x {{date",
		"{{date}",
		"{{Date}}",
		"{{da te}}",
		"{{}}",
		"{{ }}",
		"{{{date}}}",
		"{{date-x}}",
		"{{\xc3\xa4}}",
		"{{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}" /* 33 */,
	};
	for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
		strcpy(bad, "zz");
		if (consult_tpl_validate(malformed[i], allowed, N_ALLOWED, bad) != CONSULT_ERR_INVALID_FIELD)
			fail_msg("accepted: %s", malformed[i]);
		assert_string_equal(bad, "");
	}
	/* 32 characters is the longest name */
	const char *n32 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	assert_int_equal(consult_tpl_validate("{{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}", &n32, 1, bad), CONSULT_OK);

	/* UTF-8 and control characters in the template */
	assert_int_equal(consult_tpl_validate("ok\r\n\ttab", allowed, N_ALLOWED, bad), CONSULT_OK);
	assert_int_equal(consult_tpl_validate("bad \xff", allowed, N_ALLOWED, bad), CONSULT_ERR_INVALID_UTF8);
	assert_int_equal(consult_tpl_validate("bell \x07", allowed, N_ALLOWED, bad), CONSULT_ERR_INVALID_UTF8);
	assert_int_equal(consult_tpl_validate(NULL, allowed, N_ALLOWED, bad), CONSULT_ERR_MISSING_FIELD);
	char *big = malloc(CONSULT_TPL_MAX + 2);
	memset(big, 'x', CONSULT_TPL_MAX + 1);
	big[CONSULT_TPL_MAX + 1] = '\0';
	assert_int_equal(consult_tpl_validate(big, allowed, N_ALLOWED, bad), CONSULT_ERR_TOO_LONG);
	big[CONSULT_TPL_MAX] = '\0';
	assert_int_equal(consult_tpl_validate(big, allowed, N_ALLOWED, bad), CONSULT_OK);
	free(big);
}

static void test_render_errors(void **st)
{
	char *out = (char *)1;
	char bad[CONSULT_TPL_NAME_MAX + 1];
	assert_int_equal(consult_tpl_render("Hi {{date}} {{unknown}}", vars, N_VARS, 100, &out, NULL, bad),
	        CONSULT_ERR_INVALID_FIELD);
	assert_null(out);
	assert_string_equal(bad, "unknown");
	assert_int_equal(
	        consult_tpl_render("Hi {{date", vars, N_VARS, 100, &out, NULL, bad), CONSULT_ERR_INVALID_FIELD);
	assert_null(out);
	/* the output bound: exactly fits, one less does not */
	size_t len;
	assert_int_equal(consult_tpl_render("[{{time}}]", vars, N_VARS, 7, &out, &len, bad), CONSULT_OK);
	assert_string_equal(out, "[14:30]");
	free(out);
	assert_int_equal(consult_tpl_render("[{{time}}]", vars, N_VARS, 6, &out, &len, bad), CONSULT_ERR_TOO_LONG);
	assert_null(out);
	assert_int_equal(len, 0);
	/* an expanding value cannot blow the bound */
	char *val = malloc(10001);
	memset(val, 'v', 10000);
	val[10000] = '\0';
	consult_tpl_var v[] = { { "x", val } };
	assert_int_equal(consult_tpl_render("{{x}}{{x}}{{x}}", v, 1, 25000, &out, NULL, bad), CONSULT_ERR_TOO_LONG);
	assert_null(out);
	assert_int_equal(consult_tpl_render("{{x}}{{x}}", v, 1, 25000, &out, &len, bad), CONSULT_OK);
	assert_int_equal(len, 20000);
	free(out);
	free(val);
}

static void test_escapers(void **st)
{
	char *s = consult_html_escape("<a href=\"x\">Tom & Jerry's</a>");
	assert_string_equal(s, "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
	free(s);
	s = consult_html_escape("M\xc3\xbcller");
	assert_string_equal(s, "M\xc3\xbcller");
	free(s);
	s = consult_html_escape("");
	assert_string_equal(s, "");
	free(s);
	assert_null(consult_html_escape(NULL));

	s = consult_json_escape("a\"b\\c\nd\re\tf\x01g\x7f\xc3\xa4");
	assert_string_equal(s, "a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u007f\xc3\xa4");
	free(s);

	s = consult_form_escape("+49 171/123&x=\xc3\xa4~._-");
	assert_string_equal(s, "%2B49+171%2F123%26x%3D%C3%A4~._-");
	free(s);

	/* escaped value rendered into an HTML template */
	char *v = consult_html_escape("<script>");
	consult_tpl_var hv[] = { { "practice", v } };
	char *out;
	assert_int_equal(consult_tpl_render("<b>{{practice}}</b>", hv, 1, 100, &out, NULL, NULL), CONSULT_OK);
	assert_string_equal(out, "<b>&lt;script&gt;</b>");
	free(out);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_render_errors),
		cmocka_unit_test(test_escapers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
