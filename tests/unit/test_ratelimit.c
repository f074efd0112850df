/* test_ratelimit.c - failure counting with injected time: lockout after
 * max_failures inside the window, window reset, doubling up to the cap,
 * reset of the doubling after a quiet window, success clears, prune and
 * bounded eviction; attempts in flight (reserve/settle): simultaneous
 * attempts never exceed max_failures, a success among them clears the key
 * without losing the others, cancelled reservations count nothing, entries
 * in flight survive prune and eviction; a state kept outside the limiter
 * (consult_rl_state, as a store keeps it) follows the same policy, and its
 * forget time is when prune would drop the key. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <cmocka.h>
#include "core/ratelimit.h"

static const consult_ratelimit_cfg cfg = {
	.max_failures = 5,
	.window_s = 600,
	.lockout_s = 60,
	.max_lockout_s = 3600,
	.max_keys = 4,
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
		t += retry; /* fail again right when the lock ends */
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
	fail_n(rl, "b", 5, 0); /* locked until 60 */
	consult_ratelimit_failure(rl, "c", 500);
	assert_int_equal(consult_ratelimit_size(rl), 3);
	consult_ratelimit_prune(rl, 599);
	assert_int_equal(consult_ratelimit_size(rl), 3);
	consult_ratelimit_prune(rl, 600); /* a: window over; b: lock ended at 60, quiet until 660 */
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
	consult_ratelimit *rl = consult_ratelimit_new(&cfg); /* max 4 keys */
	fail_n(rl, "old", 5, 0);                             /* locked, oldest */
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
	fail_n(rl, "locked", 5, 0); /* oldest, locked until 1000 */
	consult_ratelimit_failure(rl, "quiet", 100);
	consult_ratelimit_failure(rl, "x", 700);
	consult_ratelimit_failure(rl, "y", 700);
	consult_ratelimit_failure(rl, "z", 700); /* full: "quiet" (forgettable at 700) goes */
	assert_int_equal(consult_ratelimit_size(rl), 4);
	assert_false(consult_ratelimit_allowed(rl, "locked", 700, NULL));
	consult_ratelimit_success(rl, "x");
	consult_ratelimit_success(rl, "y");
	consult_ratelimit_success(rl, "z");
	consult_ratelimit_success(rl, "locked");
	assert_int_equal(consult_ratelimit_size(rl), 0);
	consult_ratelimit_free(rl);
}

/* 16 simultaneous attempts: only max_failures may be reserved. */
static void test_reserve_caps_in_flight(void **st)
{
	consult_ratelimit *rl = consult_ratelimit_new(&cfg);
	int64_t retry = -1;
	int granted = 0;
	for (int i = 0; i < 16; i++) {
		retry = -1;
		if (consult_ratelimit_reserve(rl, "user", 1000, &retry))
			granted++;
		else
			assert_int_equal(retry, 1); /* not locked yet: the others settle soon */
	}
	assert_int_equal(granted, 5);
	/* all five fail: locked for 60 s (not "settle soon": none is in flight) */
	for (int i = 0; i < 5; i++)
		consult_ratelimit_settle(rl, "user", 1001, CONSULT_RL_FAILED);
	assert_false(consult_ratelimit_reserve(rl, "user", 1001, &retry));
	assert_int_equal(retry, 60);
	assert_false(consult_ratelimit_allowed(rl, "user", 1060, NULL));
	assert_true(consult_ratelimit_reserve(rl, "user", 1061, &retry));
	consult_ratelimit_free(rl);
	(void)st;
}

/* Earlier failures in the window count against the attempts in flight. */
static void test_reserve_counts_failures(void **st)
{
	consult_ratelimit *rl = consult_ratelimit_new(&cfg);
	fail_n(rl, "user", 3, 1000);
	assert_true(consult_ratelimit_reserve(rl, "user", 1005, NULL));
	assert_true(consult_ratelimit_reserve(rl, "user", 1005, NULL));
	assert_false(consult_ratelimit_reserve(rl, "user", 1005, NULL));
	/* one is cancelled (no attempt made): a slot is free again, nothing counted */
	consult_ratelimit_settle(rl, "user", 1006, CONSULT_RL_CANCELLED);
	assert_true(consult_ratelimit_reserve(rl, "user", 1006, NULL));
	consult_ratelimit_settle(rl, "user", 1007, CONSULT_RL_FAILED);
	consult_ratelimit_settle(rl, "user", 1007, CONSULT_RL_FAILED);
	assert_false(consult_ratelimit_allowed(rl, "user", 1007, NULL)); /* 5 failures: locked */
	/* after the window the old failures no longer count */
	consult_ratelimit *rl2 = consult_ratelimit_new(&cfg);
	fail_n(rl2, "k", 4, 1000);
	assert_false(
	        consult_ratelimit_reserve(rl2, "k", 1000, NULL) && consult_ratelimit_reserve(rl2, "k", 1000, NULL));
	consult_ratelimit_settle(rl2, "k", 1000, CONSULT_RL_CANCELLED);
	for (int i = 0; i < 5; i++)
		assert_true(consult_ratelimit_reserve(rl2, "k", 1600, NULL));
	assert_false(consult_ratelimit_reserve(rl2, "k", 1600, NULL));
	consult_ratelimit_free(rl2);
	consult_ratelimit_free(rl);
	(void)st;
}

/* A success among attempts in flight clears the key; the others still settle. */
static void test_success_in_flight(void **st)
{
	consult_ratelimit *rl = consult_ratelimit_new(&cfg);
	fail_n(rl, "user", 2, 1000);
	assert_true(consult_ratelimit_reserve(rl, "user", 1001, NULL));
	assert_true(consult_ratelimit_reserve(rl, "user", 1001, NULL));
	consult_ratelimit_settle(rl, "user", 1002, CONSULT_RL_SUCCEEDED);
	consult_ratelimit_settle(rl, "user", 1002, CONSULT_RL_FAILED);
	/* cleared by the success, nothing left in flight: 1 failure now, 4
	 * more reservations possible */
	for (int i = 0; i < 4; i++)
		assert_true(consult_ratelimit_reserve(rl, "user", 1003, NULL));
	assert_false(consult_ratelimit_reserve(rl, "user", 1003, NULL));
	consult_ratelimit_free(rl);
	(void)st;
}

/* Entries in flight are neither pruned nor evicted while others can be. */
static void test_in_flight_kept(void **st)
{
	consult_ratelimit *rl = consult_ratelimit_new(&cfg); /* max_keys 4, max_failures 5 */
	int64_t retry = -1;
	for (int i = 0; i < 5; i++)
		assert_true(consult_ratelimit_reserve(rl, "busy", 1000, NULL));
	consult_ratelimit_prune(rl, 100000);
	assert_int_equal(consult_ratelimit_size(rl), 1);
	/* still five in flight: a sixth attempt waits for them */
	assert_false(consult_ratelimit_reserve(rl, "busy", 100000, &retry));
	assert_int_equal(retry, 1);
	fail_n(rl, "a", 1, 1001);
	fail_n(rl, "b", 1, 1002);
	fail_n(rl, "c", 1, 1003);
	fail_n(rl, "d", 1, 1004); /* table full: evicts "a", not "busy" */
	assert_int_equal(consult_ratelimit_size(rl), 4);
	assert_false(consult_ratelimit_reserve(rl, "busy", 100000, &retry));
	assert_int_equal(retry, 1);
	for (int i = 0; i < 5; i++)
		consult_ratelimit_settle(rl, "busy", 1005, CONSULT_RL_CANCELLED);
	assert_true(consult_ratelimit_reserve(rl, "busy", 100000, NULL));
	consult_ratelimit_settle(rl, "busy", 100000, CONSULT_RL_CANCELLED);
	consult_ratelimit_prune(rl, 100000);
	assert_int_equal(consult_ratelimit_size(rl), 0);
	/* settling a key that is gone is a plain failure */
	consult_ratelimit_settle(rl, "gone", 2000, CONSULT_RL_FAILED);
	assert_int_equal(consult_ratelimit_size(rl), 1);
	consult_ratelimit_free(rl);
	(void)st;
}

/* The same failures, at irregular times over quiet gaps, locks and the
 * forgetting of the doubling, applied to a limiter and to a bare state:
 * both lock and unlock at the same moments. */
static void test_state_same_policy(void **st)
{
	(void)st;
	consult_ratelimit *rl = consult_ratelimit_new(&cfg);
	consult_rl_state s;
	int64_t t = 1000;
	consult_rl_state_init(&s, t);
	assert_false(consult_rl_state_locked(&s, t, NULL));
	static const int64_t gaps[] = { 1, 1, 1, 1, 1, 1, 30, 61, 2, 2, 2, 2, 125, 5, 700, 3, 3, 3, 3, 2000, 1, 4000 };
	for (size_t i = 0; i < sizeof gaps / sizeof gaps[0]; i++) {
		t += gaps[i];
		consult_ratelimit_failure(rl, "k", t);
		consult_rl_state_fail(&cfg, &s, t);
		for (int64_t dt = 0; dt < 130; dt += 13) {
			int64_t w1 = -1, w2 = -1;
			bool a = !consult_ratelimit_allowed(rl, "k", t + dt, &w1);
			assert_int_equal(consult_rl_state_locked(&s, t + dt, &w2), a);
			assert_int_equal(w1, w2);
		}
	}
	/* the forget time: prune keeps the key until then, drops it from then */
	int64_t at = consult_rl_state_forget_at(&cfg, &s);
	consult_ratelimit_prune(rl, at - 1);
	assert_int_equal(consult_ratelimit_size(rl), 1);
	consult_ratelimit_prune(rl, at);
	assert_int_equal(consult_ratelimit_size(rl), 0);
	assert_int_equal(consult_ratelimit_cfg_of(rl)->max_failures, cfg.max_failures);
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
		cmocka_unit_test(test_state_same_policy),
		cmocka_unit_test(test_reserve_caps_in_flight),
		cmocka_unit_test(test_reserve_counts_failures),
		cmocka_unit_test(test_success_in_flight),
		cmocka_unit_test(test_in_flight_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
