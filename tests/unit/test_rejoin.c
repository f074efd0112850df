/* test_rejoin.c - successful joins per appointment in a sliding window
 * (fake clock): the limit, retry_after, keys independent, the window
 * slides, prune and bounded memory; the keep rule of ended visits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/rejoin.h"

static void test_limit_and_retry_after(void **st)
{
	consult_rejoin *r = consult_rejoin_new(CONSULT_REJOIN_MAX, CONSULT_REJOIN_WINDOW_S, 100);
	int64_t retry = -1;
	for (int i = 0; i < CONSULT_REJOIN_MAX; i++) {
		assert_true(consult_rejoin_allowed(r, 7, 1000 + i, &retry));
		consult_rejoin_note(r, 7, 1000 + i);
	}
	/* the 11th join within 60 s is refused until the first leaves the window */
	assert_false(consult_rejoin_allowed(r, 7, 1009, &retry));
	assert_int_equal(retry, 51);
	assert_false(consult_rejoin_allowed(r, 7, 1059, &retry));
	assert_int_equal(retry, 1);
	assert_true(consult_rejoin_allowed(r, 7, 1060, &retry));
	/* another appointment is not affected */
	assert_true(consult_rejoin_allowed(r, 8, 1009, NULL));
	/* refusals are not counted: only note() counts */
	for (int i = 0; i < 100; i++)
		(void)consult_rejoin_allowed(r, 7, 1030, NULL);
	assert_true(consult_rejoin_allowed(r, 7, 1060, NULL));
	consult_rejoin_note(r, 7, 1060);
	/* the window slides: 1001..1009 and 1060 are inside at 1060 */
	assert_false(consult_rejoin_allowed(r, 7, 1060, &retry));
	assert_int_equal(retry, 1);
	assert_true(consult_rejoin_allowed(r, 7, 1061, NULL));
	consult_rejoin_free(r);
}

static void test_steady_rate(void **st)
{
	/* One join every 6 s never hits the limit; every 5 s does. */
	consult_rejoin *r = consult_rejoin_new(10, 60, 10);
	for (int i = 0; i < 100; i++) {
		assert_true(consult_rejoin_allowed(r, 1, i * 6, NULL));
		consult_rejoin_note(r, 1, i * 6);
	}
	int refused = 0;
	for (int i = 0; i < 100; i++) {
		int64_t t = 1000 + i * 5;
		if (consult_rejoin_allowed(r, 2, t, NULL))
			consult_rejoin_note(r, 2, t);
		else
			refused++;
	}
	assert_true(refused > 0);
	consult_rejoin_free(r);
}

static void test_prune_and_bound(void **st)
{
	consult_rejoin *r = consult_rejoin_new(3, 60, 4);
	for (int64_t k = 1; k <= 4; k++)
		consult_rejoin_note(r, k, 100 + k);
	assert_int_equal(consult_rejoin_size(r), 4);
	/* full: the key with the oldest newest join (1) goes */
	consult_rejoin_note(r, 5, 200);
	assert_int_equal(consult_rejoin_size(r), 4);
	consult_rejoin_prune(r, 162); /* 2 (last join 102) is 60 s old: gone; 3, 4, 5 stay */
	assert_int_equal(consult_rejoin_size(r), 3);
	consult_rejoin_prune(r, 260);
	assert_int_equal(consult_rejoin_size(r), 0);
	assert_true(consult_rejoin_allowed(r, 5, 260, NULL));
	consult_rejoin_free(r);
	assert_null(consult_rejoin_new(0, 60, 4));
	assert_null(consult_rejoin_new(CONSULT_REJOIN_MAX_LIMIT + 1, 60, 4));
	assert_null(consult_rejoin_new(3, 0, 4));
	assert_null(consult_rejoin_new(3, 60, 0));
}

/* Records stay found after others are pruned or evicted around them (the
 * table moves its last record into a freed slot). */
static void test_records_survive_removals(void **st)
{
	consult_rejoin *r = consult_rejoin_new(2, 60, 64);
	for (int64_t k = 1; k <= 64; k++) {
		consult_rejoin_note(r, k, k % 2 ? 100 : 150); /* odd keys joined earlier */
		consult_rejoin_note(r, k, k % 2 ? 100 : 150);
	}
	consult_rejoin_prune(r, 170); /* odd keys are 70 s old: gone, even ones move */
	assert_int_equal(consult_rejoin_size(r), 32);
	for (int64_t k = 1; k <= 64; k++)
		assert_int_equal(consult_rejoin_allowed(r, k, 170, NULL), k % 2 != 0);
	for (int64_t k = 65; k <= 96; k++) /* 32 new keys fill the table ... */
		consult_rejoin_note(r, k, 171);
	consult_rejoin_note(r, 97, 172); /* ... one more evicts an even key */
	assert_int_equal(consult_rejoin_size(r), 64);
	unsigned limited = 0;
	for (int64_t k = 2; k <= 64; k += 2)
		limited += !consult_rejoin_allowed(r, k, 172, NULL);
	assert_int_equal(limited, 31);
	consult_rejoin_note(r, 97, 172);
	assert_false(consult_rejoin_allowed(r, 97, 172, NULL));
	consult_rejoin_free(r);
}

static void test_ended_kept(void **st)
{
	assert_true(consult_ended_kept(1000, 1000));
	assert_true(consult_ended_kept(1000, 1000 + CONSULT_ENDED_KEEP_S - 1));
	assert_false(consult_ended_kept(1000, 1000 + CONSULT_ENDED_KEEP_S));
	assert_false(consult_ended_kept(1000, 1000 + 86400));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_and_retry_after),
		cmocka_unit_test(test_steady_rate),
		cmocka_unit_test(test_prune_and_bound),
		cmocka_unit_test(test_records_survive_removals),
		cmocka_unit_test(test_ended_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
