/* test_retention.c - the three-month rule: configuration bounds (1..90
 * days, 1..2160 hours, contact <= retention), cutoffs for an injected now,
 * the strict '<' at the exact boundary second, and refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "core/retention.h"

#define NOW 1738333800LL /* 2025-01-31T14:30:00Z */

static void test_check(void **st)
{
	const char *f = "x";
	assert_int_equal(
	        consult_retention_check(CONSULT_RETENTION_DAYS_DEFAULT, CONSULT_CONTACT_HOURS_DEFAULT, &f), CONSULT_OK);
	assert_null(f);
	assert_int_equal(CONSULT_RETENTION_DAYS_DEFAULT, 90);
	assert_int_equal(CONSULT_CONTACT_HOURS_DEFAULT, 24);
	assert_int_equal(consult_retention_check(1, 1, &f), CONSULT_OK);
	assert_int_equal(consult_retention_check(1, 24, &f), CONSULT_OK);
	assert_int_equal(consult_retention_check(90, 2160, &f), CONSULT_OK);

	assert_int_equal(consult_retention_check(91, 24, &f), CONSULT_ERR_INVALID_FIELD);
	assert_string_equal(f, "retention_days");
	assert_int_equal(consult_retention_check(0, 24, &f), CONSULT_ERR_INVALID_FIELD);
	assert_string_equal(f, "retention_days");
	assert_int_equal(consult_retention_check(-90, 24, &f), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_retention_check(INT64_MAX, 24, &f), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_retention_check(90, 0, &f), CONSULT_ERR_INVALID_FIELD);
	assert_string_equal(f, "contact_hours");
	assert_int_equal(consult_retention_check(90, 2161, &f), CONSULT_ERR_INVALID_FIELD);
	assert_string_equal(f, "contact_hours");
	assert_int_equal(consult_retention_check(1, 25, &f), CONSULT_ERR_INVALID_FIELD); /* > retention */
	assert_string_equal(f, "contact_hours");
	assert_int_equal(consult_retention_check(30, 721, &f), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_retention_check(30, 720, NULL), CONSULT_OK);
	assert_int_equal(consult_retention_check(30, INT64_MIN, NULL), CONSULT_ERR_INVALID_FIELD);
}

static void test_cutoffs(void **st)
{
	consult_retention_cutoffs c;
	assert_int_equal(consult_retention_cutoffs_at(NOW, 90, 24, &c), CONSULT_OK);
	assert_int_equal(c.purge_before, NOW - 90LL * 86400);
	assert_int_equal(c.wipe_contact_before, NOW - 86400);
	assert_int_equal(c.purge_before, 1730557800LL); /* 2024-11-02T14:30:00Z */

	assert_int_equal(consult_retention_cutoffs_at(NOW, 7, 48, &c), CONSULT_OK);
	assert_int_equal(c.purge_before, NOW - 7 * 86400);
	assert_int_equal(c.wipe_contact_before, NOW - 48 * 3600);
	/* early clock: cutoffs may be negative, still correct ordering */
	assert_int_equal(consult_retention_cutoffs_at(0, 90, 24, &c), CONSULT_OK);
	assert_int_equal(c.purge_before, -90LL * 86400);
	assert_int_equal(consult_retention_cutoffs_at(INT64_MAX, 90, 2160, &c), CONSULT_OK);
	assert_int_equal(c.purge_before, c.wipe_contact_before);
}

static void test_refusals(void **st)
{
	consult_retention_cutoffs c;
	memset(&c, 0x55, sizeof c);
	assert_int_equal(consult_retention_cutoffs_at(NOW, 91, 24, &c), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(c.purge_before, 0);
	assert_int_equal(c.wipe_contact_before, 0);
	assert_int_equal(consult_retention_cutoffs_at(-1, 90, 24, &c), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_retention_cutoffs_at(NOW, 90, 2161, &c), CONSULT_ERR_INVALID_FIELD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_cutoffs),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
