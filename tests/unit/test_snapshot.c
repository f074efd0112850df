/* test_snapshot.c - when the glue's practice snapshot is used and when the
 * store is read again (core/snapshot.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/snapshot.h"

static void test_fresh_within_ttl(void **state)
{
	(void)state;
	assert_true(consult_snapshot_fresh(1000, 1000, 3000));
	assert_true(consult_snapshot_fresh(1000, 3999, 3000));
	assert_true(consult_snapshot_fresh(0, 0, 1));
}

static void test_stale_at_and_after_ttl(void **state)
{
	(void)state;
	assert_false(consult_snapshot_fresh(1000, 4000, 3000));
	assert_false(consult_snapshot_fresh(1000, 4001, 3000));
	assert_false(consult_snapshot_fresh(0, INT64_MAX, CONSULT_SNAPSHOT_TTL_MS));
}

static void test_stale_when_unsure(void **state)
{
	(void)state;
	assert_false(consult_snapshot_fresh(-1, 0, 3000));      /* never loaded */
	assert_false(consult_snapshot_fresh(5000, 4999, 3000)); /* the clock went back */
	assert_false(consult_snapshot_fresh(1000, 1000, 0));    /* caching off */
	assert_false(consult_snapshot_fresh(1000, 1000, -5));
}

static void test_ttl_is_a_few_seconds(void **state)
{
	(void)state;
	assert_true(CONSULT_SNAPSHOT_TTL_MS >= 1000 && CONSULT_SNAPSHOT_TTL_MS <= 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_within_ttl),
		cmocka_unit_test(test_stale_at_and_after_ttl),
		cmocka_unit_test(test_stale_when_unsure),
		cmocka_unit_test(test_ttl_is_a_few_seconds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
