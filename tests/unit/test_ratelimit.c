/* test_ratelimit.c - failure counting with injected time: lockout after
 * max_failures inside the window, window reset, doubling up to the cap,
 * reset of the doubling after a quiet window, success clears, prune and
 * bounded eviction. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <cmocka.h>
#include "core/ratelimit.h"

static const consult_ratelimit_cfg cfg = {
	.max_failures = 5, .window_s = 600, .lockout_s = 60, .max_lockout_s = 3600, .max_keys = 4,
};

static void fail_n(consult_ratelimit *rl, const char *k, int n, int64_t t)
{
	for (int i = 0; i < n; i++)
		consult_ratelimit_failure(rl, k, t);
}

static void test_lockout_and_retry_after(void **st)
{
	consult_ratelimit *rl = consult_ratelimit_new(&cfg);
	int64_t retry = -1;
	assert_true(consult_ratelimit_allowed(rl, "user", 1000, &retry));
	fail_n(rl, "user", 4, 1000);
	assert_true(consult_ratelimit_allowed(rl, "user", 1000, &retry));
	consult_ratelimit_failure(rl, "user", 1010);
	assert_false(consult_ratelimit_allowed(rl, "user", 1010, &retry));
	assert_int_equal(retry, 60);
	assert_false(consult_ratelimit_allowed(rl, "user", 1069, &retry));
	assert_int_equal(retry, 1);
	assert_false(consult_ratelimit_allowed(rl, "user", 1069, NULL));
	assert_true(consult_ratelimit_allowed(rl, "user", 1070, &retry));
	/* other keys are unaffected */
	assert_true(consult_ratelimit_allowed(rl, "other", 1010, &retry));
	/* failures while locked are not counted */
	consult_ratelimit_free(rl);
	rl = consult_ratelimit_new(&cfg);
	fail_n(rl, "k", 5, 0);
	fail_n(rl, "k", 20, 30);
	assert_true(consult_ratelimit_allowed(rl, "k", 60, NULL));
	fail_n(rl, "k", 4, 60);
	assert_true(consult_ratelimit_allowed(rl, "k", 60, NULL));
	consult_ratelimit_free(rl);
}

static void test_window(void **st)
{
	consult_ratelimit *rl = consult_ratelimit_new(&cfg);
	fail_n(rl, "k", 4, 0);
	/* the window (600 s) is over: count starts again */
	fail_n(rl, "k", 4, 600);
	assert_true(consult_ratelimit_allowed(rl, "k", 601, NULL));
	consult_ratelimit_failure(rl, "k", 1199);
	assert_false(consult_ratelimit_allowed(rl, "k", 1199, NULL));
	consult_ratelimit_free(rl);
}

static void test_doubling(void **st)
{
	consult_ratelimit *rl = consult_ratelimit_new(&cfg);
	int64_t t = 0, retry = 0;
	int64_t expect[] = { 60, 120, 240, 480, 960, 1920, 3600, 3600 };
	for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
		fail_n(rl, "k", 5, t);
		assert_false(consult_ratelimit_allowed(rl, "k", t, &retry));
		assert_int_equal(retry, expect[i]);
		t += retry;  /* fail again right when the lock ends */
		assert_true(consult_ratelimit_allowed(rl, "k", t, NULL));
	}
	/* a quiet window after the lock ended: back to 60 s */
	t += 600;
	fail_n(rl, "k", 5, t);
	assert_false(consult_ratelimit_allowed(rl, "k", t, &retry));
	assert_int_equal(retry, 60);
	consult_ratelimit_free(rl);
}

static void test_success_clears(void **st)
{
	consult_ratelimit *rl = consult_ratelimit_new(&cfg);
	fail_n(rl, "k", 5, 0);
	assert_false(consult_ratelimit_allowed(rl, "k", 1, NULL));
	assert_int_equal(consult_ratelimit_size(rl), 1);
	consult_ratelimit_success(rl, "k");
	assert_int_equal(consult_ratelimit_size(rl), 0);
	assert_true(consult_ratelimit_allowed(rl, "k", 1, NULL));
	/* doubling forgotten too */
	fail_n(rl, "k", 5, 2);
	int64_t retry;
	assert_false(consult_ratelimit_allowed(rl, "k", 2, &retry));
	assert_int_equal(retry, 60);
	consult_ratelimit_success(rl, "absent");
	consult_ratelimit_free(rl);
}

static void test_prune(void **st)
{
	consult_ratelimit *rl = consult_ratelimit_new(&cfg);
	consult_ratelimit_failure(rl, "a", 0);
	fail_n(rl, "b", 5, 0);                 /* locked until 60 */
	consult_ratelimit_failure(rl, "c", 500);
	assert_int_equal(consult_ratelimit_size(rl), 3);
	consult_ratelimit_prune(rl, 599);
	assert_int_equal(consult_ratelimit_size(rl), 3);
	consult_ratelimit_prune(rl, 600);      /* a: window over; b: lock ended at 60, quiet until 660 */
	assert_int_equal(consult_ratelimit_size(rl), 2);
	consult_ratelimit_prune(rl, 660);
	assert_int_equal(consult_ratelimit_size(rl), 1);
	assert_true(consult_ratelimit_allowed(rl, "b", 660, NULL));
	consult_ratelimit_prune(rl, 1100);
	assert_int_equal(consult_ratelimit_size(rl), 0);
	consult_ratelimit_free(rl);
}

static void test_eviction_bounded(void **st)
{
	consult_ratelimit *rl = consult_ratelimit_new(&cfg);   /* max 4 keys */
	fail_n(rl, "old", 5, 0);          /* locked, oldest */
	consult_ratelimit_failure(rl, "k1", 10);
	consult_ratelimit_failure(rl, "k2", 20);
	consult_ratelimit_failure(rl, "k3", 30);
	assert_int_equal(consult_ratelimit_size(rl), 4);
	/* full, nothing forgettable: the oldest last failure goes */
	consult_ratelimit_failure(rl, "k4", 40);
	assert_int_equal(consult_ratelimit_size(rl), 4);
	assert_true(consult_ratelimit_allowed(rl, "old", 41, NULL));
	/* many distinct keys never grow the table */
	char key[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof key, "h%d", i);
		consult_ratelimit_failure(rl, key, 100 + i);
		assert_true(consult_ratelimit_size(rl) <= 4);
	}
	/* the newest survive */
	fail_n(rl, "h999", 4, 1099);
	assert_false(consult_ratelimit_allowed(rl, "h999", 1099, NULL));
	/* a forgettable entry is evicted before an older-but-locked one */
	consult_ratelimit_free(rl);
	consult_ratelimit_cfg long_lock = cfg;
	long_lock.lockout_s = 1000;
	rl = consult_ratelimit_new(&long_lock);
	fail_n(rl, "locked", 5, 0);               /* oldest, locked until 1000 */
	consult_ratelimit_failure(rl, "quiet", 100);
	consult_ratelimit_failure(rl, "x", 700);
	consult_ratelimit_failure(rl, "y", 700);
	consult_ratelimit_failure(rl, "z", 700);  /* full: "quiet" (forgettable at 700) goes */
	assert_int_equal(consult_ratelimit_size(rl), 4);
	assert_false(consult_ratelimit_allowed(rl, "locked", 700, NULL));
	consult_ratelimit_success(rl, "x");
	consult_ratelimit_success(rl, "y");
	consult_ratelimit_success(rl, "z");
	consult_ratelimit_success(rl, "locked");
	assert_int_equal(consult_ratelimit_size(rl), 0);
	consult_ratelimit_free(rl);
}

static void test_bad_config(void **st)
{
	consult_ratelimit_cfg c = cfg;
	c.max_keys = 0;
	assert_null(consult_ratelimit_new(&c));
	c = cfg;
	c.max_failures = 0;
	assert_null(consult_ratelimit_new(&c));
	assert_null(consult_ratelimit_new(NULL));
	consult_ratelimit_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lockout_and_retry_after),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_doubling),
		cmocka_unit_test(test_success_clears),
		cmocka_unit_test(test_prune),
		cmocka_unit_test(test_eviction_bounded),
		cmocka_unit_test(test_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
