/* test_code.c - access codes: generation vectors, normalisation, HMAC
 * vectors (computed independently with python3's hmac module), constant-time
 * compare and the validity window edges. Also the error names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>
#include "core/code.h"
#include "core/errors.h"

static void test_generate_vectors(void **st)
{
	static const struct {
		uint8_t in[8];
		const char *out;
	} v[] = {
		{ { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef }, "04HM-ASW9-NF6Y" },
		{ { 0 }, "0000-0000-0000" },
		{ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, "ZZZZ-ZZZZ-ZZZZ" },
		{ { 0xde, 0xad, 0xbe, 0xef, 0xca, 0xfe, 0xba, 0xbe }, "VTPV-XVYA-ZTXB" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		char out[CONSULT_CODE_SHOW_LEN];
		memset(out, 'x', sizeof out);
		consult_code_generate(v[i].in, out);
		assert_string_equal(out, v[i].out);
	}
}

static void test_generate_uses_60_bits(void **st)
{
	/* the low 4 bits of the last byte are not used */
	uint8_t a[8] = { 1, 2, 3, 4, 5, 6, 7, 0x80 }, b[8] = { 1, 2, 3, 4, 5, 6, 7, 0x8f };
	char ca[CONSULT_CODE_SHOW_LEN], cb[CONSULT_CODE_SHOW_LEN];
	consult_code_generate(a, ca);
	consult_code_generate(b, cb);
	assert_string_equal(ca, cb);
	b[7] = 0x90;
	consult_code_generate(b, cb);
	assert_string_not_equal(ca, cb);
}

static void test_generate_roundtrip(void **st)
{
	uint8_t r[8] = { 0x5a, 0x11, 0x99, 0x00, 0x42, 0xfe, 0x7c, 0x33 };
	for (int k = 0; k < 200; k++) {
		char show[CONSULT_CODE_SHOW_LEN], norm[CONSULT_CODE_NORM_LEN];
		r[k % 8] = (uint8_t)(r[k % 8] * 31 + k);
		consult_code_generate(r, show);
		assert_int_equal(strlen(show), 14);
		assert_int_equal(show[4], '-');
		assert_int_equal(show[9], '-');
		assert_true(consult_code_normalise(show, norm));
		char expect[13];
		memcpy(expect, show, 4);
		memcpy(expect + 4, show + 5, 4);
		memcpy(expect + 8, show + 10, 4);
		expect[12] = 0;
		assert_string_equal(norm, expect);
		assert_null(strpbrk(norm, "ILOU"));
	}
}

static void test_normalise(void **st)
{
	static const struct {
		const char *in;
		const char *out;
	} ok[] = {
		{ "ABCD-EFGH-JKMN", "ABCDEFGHJKMN" },
		{ "abcd-efgh-jkmn", "ABCDEFGHJKMN" },
		{ " abcd efgh jkmn ", "ABCDEFGHJKMN" },
		{ "ABCDEFGHJKMN", "ABCDEFGHJKMN" },
		{ "O0oI-iLl1-2345", "000111112345" },
		{ "--a-b-c-d-e-f-g-h-j-k-m-n--", "ABCDEFGHJKMN" },
		{ "vwxy-zpqr-st99", "VWXYZPQRST99" },
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		char out[CONSULT_CODE_NORM_LEN];
		assert_true(consult_code_normalise(ok[i].in, out));
		assert_string_equal(out, ok[i].out);
	}
	static const char *const bad[] = {
		"",
		"ABCD-EFGH-JKM",
		"ABCD-EFGH-JKMNP",
		"ABCD-EFGH-JKMU",
		"abcd-efgh-jkmu",
		"ABCD_EFGH_JKMN",
		"ABCD.EFGH.JKMN",
		"ABCD\tEFGH-JKMN",
		"ABCD-EFGH-JKM\xc3\xa4",
		"------------",
		"ABCD-EFGH-JKMN-0",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char out[CONSULT_CODE_NORM_LEN] = "untouched!!!";
		assert_false(consult_code_normalise(bad[i], out));
		assert_string_equal(out, "untouched!!!");
	}
	char out[CONSULT_CODE_NORM_LEN];
	assert_false(consult_code_normalise(NULL, out));
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void test_hash_vectors(void **st)
{
	uint8_t key[32];
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	static const struct {
		int64_t pid;
		const char *code;
		const char *hex;
	} v[] = {
		{ 42, "ABCD0EFGH1JK", "9e0e097a39aeb4ab0449cb0211fdb8a661187dc03157728364dcf92ade2e91c6" },
		{ 1, "000000000000", "70514b853f11890340c9929764dc729209ca2c04eb52b50abfd244cff61f170d" },
		{ 0x0102030405060708LL, "ZZZZYYYYXXXX",
		        "50d9dc3d0f043c43e6c4c1550996717362abd390013323e86ba97b12a9b32adf" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		uint8_t h[CONSULT_CODE_HASH_LEN];
		char s[65];
		consult_code_hash(key, v[i].pid, v[i].code, h);
		hex(h, sizeof h, s);
		assert_string_equal(s, v[i].hex);
	}
	/* another practice gives another hash */
	uint8_t a[32], b[32];
	consult_code_hash(key, 42, "ABCD0EFGH1JK", a);
	consult_code_hash(key, 43, "ABCD0EFGH1JK", b);
	assert_memory_not_equal(a, b, 32);
}

static void test_window(void **st)
{
	assert_int_equal(consult_code_window(99, 100, 200), CONSULT_WINDOW_TOO_EARLY);
	assert_int_equal(consult_code_window(100, 100, 200), CONSULT_WINDOW_OPEN);
	assert_int_equal(consult_code_window(150, 100, 200), CONSULT_WINDOW_OPEN);
	assert_int_equal(consult_code_window(200, 100, 200), CONSULT_WINDOW_OPEN);
	assert_int_equal(consult_code_window(201, 100, 200), CONSULT_WINDOW_EXPIRED);
}

static void test_error_names(void **st)
{
	static const struct {
		consult_err e;
		const char *name;
	} v[] = {
		{ CONSULT_ERR_BAD_REQUEST, "bad_request" },
		{ CONSULT_ERR_UNKNOWN_REQUEST, "unknown_request" },
		{ CONSULT_ERR_MISSING_FIELD, "missing_field" },
		{ CONSULT_ERR_INVALID_FIELD, "invalid_field" },
		{ CONSULT_ERR_TOO_LONG, "too_long" },
		{ CONSULT_ERR_INVALID_UTF8, "invalid_utf8" },
		{ CONSULT_ERR_NOT_AUTHENTICATED, "not_authenticated" },
		{ CONSULT_ERR_FORBIDDEN, "forbidden" },
		{ CONSULT_ERR_WRONG_STATE, "wrong_state" },
		{ CONSULT_ERR_LOGIN_FAILED, "login_failed" },
		{ CONSULT_ERR_RATE_LIMITED, "rate_limited" },
		{ CONSULT_ERR_CODE_INVALID, "code_invalid" },
		{ CONSULT_ERR_NOT_FOUND, "not_found" },
		{ CONSULT_ERR_ALREADY_CALLED, "already_called" },
		{ CONSULT_ERR_DOCTOR_BUSY, "doctor_busy" },
		{ CONSULT_ERR_PATIENT_AWAY, "patient_away" },
		{ CONSULT_ERR_CONFLICT, "conflict" },
		{ CONSULT_ERR_INTERNAL, "internal" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		assert_string_equal(consult_err_name(v[i].e), v[i].name);
		assert_true(strlen(consult_err_text(v[i].e)) > 3);
	}
	assert_string_equal(consult_err_name((consult_err)999), "internal");
	assert_non_null(consult_err_text((consult_err)999));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_vectors),
		cmocka_unit_test(test_generate_uses_60_bits),
		cmocka_unit_test(test_generate_roundtrip),
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_hash_vectors),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_error_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
