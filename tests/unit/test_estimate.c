/* test_estimate.c - the estimated wait (core/estimate.h): nothing without
 * three calls of the practice today, the doctor's own median once the
 * doctor has three, the half call of a busy doctor, "any doctor" visits
 * shared by the day's doctors, the 5-minute range with its floor and cap,
 * the packing the queue compares, and the day's medians and doctors from
 * call lengths with the day's bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/estimate.h"

#define MIN 60

static consult_wait est(uint32_t ahead, bool busy, size_t dcalls, int64_t dmed, size_t pcalls, int64_t pmed)
{
	consult_wait_basis b = { .ahead = ahead,
		.doctor_busy = busy,
		.doctor_calls = dcalls,
		.doctor_median_s = dmed,
		.practice_calls = pcalls,
		.practice_median_s = pmed,
		.practice_doctors = 1 };
	return consult_wait_estimate(&b);
}

static void range_is(consult_wait w, uint32_t lo, uint32_t hi)
{
	assert_true(w.known);
	assert_int_equal(w.min_minutes, lo);
	assert_int_equal(w.max_minutes, hi);
}

static void test_not_enough_history(void **st)
{
	assert_false(est(2, false, 0, 0, 0, 0).known);
	assert_false(est(2, false, 2, 10 * MIN, 2, 10 * MIN).known); /* two calls are not enough */
	assert_false(est(2, true, 0, 0, 3, 0).known);                /* no length: nothing to say */
	range_is(est(2, false, 0, 0, 3, 10 * MIN), 15, 25);          /* the third call makes it */
}

static void test_doctor_or_practice_median(void **st)
{
	/* doctor with < 3 calls: the practice's 10 min; with 3: the doctor's 20 min */
	range_is(est(1, false, 2, 20 * MIN, 5, 10 * MIN), 5, 15);
	range_is(est(1, false, 3, 20 * MIN, 5, 10 * MIN), 10, 30);
}

static void test_busy_doctor_and_nobody_ahead(void **st)
{
	/* nobody ahead, doctor free: 0..m/2 -> 0-5 */
	range_is(est(0, false, 3, 10 * MIN, 3, 10 * MIN), 0, 5);
	/* nobody ahead, doctor in a call: half a call left -> 0-10 */
	range_is(est(0, true, 3, 10 * MIN, 3, 10 * MIN), 0, 10);
	/* two ahead and a call: 25 min -> 20-30 */
	range_is(est(2, true, 3, 10 * MIN, 3, 10 * MIN), 20, 30);
	/* odd lengths are widened to whole 5 minutes: 3 x 7 min = 21 -> 17.5..24.5 -> 15-25 */
	range_is(est(3, false, 3, 7 * MIN, 3, 7 * MIN), 15, 25);
	/* very short calls: at least 5 minutes wide */
	range_is(est(1, false, 3, 30, 3, 30), 0, 5);
}

static void test_any_doctor_shared(void **st)
{
	consult_wait_basis b = { .ahead = 4,
		.any_doctor = true,
		.doctor_busy = true, /* not used for "any doctor" */
		.practice_calls = 6,
		.practice_median_s = 10 * MIN,
		.practice_doctors = 2 };
	/* 4 ahead shared by 2 doctors: 20 min -> 15-25 */
	range_is(consult_wait_estimate(&b), 15, 25);
	b.practice_doctors = 0; /* unknown doctors count as one */
	range_is(consult_wait_estimate(&b), 35, 45);
}

static void test_cap(void **st)
{
	/* a day at most: 24 h - 30 min .. 24 h */
	consult_wait w = est(100000, true, 3, 3600, 3, 3600);
	range_is(w, CONSULT_WAIT_CAP_MIN - 30, CONSULT_WAIT_CAP_MIN);
	w = est(UINT32_MAX, false, 3, INT64_MAX / 4, 3, INT64_MAX / 4); /* no overflow */
	assert_true(w.known && w.max_minutes <= CONSULT_WAIT_CAP_MIN && w.min_minutes + 5 <= w.max_minutes);
}

static void test_pack(void **st)
{
	consult_wait none = { false, 0, 0 }, a = { true, 0, 5 }, b = { true, 10, 20 }, c = { true, 10, 25 };
	assert_int_equal(consult_wait_pack(none), 0);
	assert_int_not_equal(consult_wait_pack(a), 0); /* "0-5" is not "unknown" */
	assert_int_not_equal(consult_wait_pack(b), consult_wait_pack(c));
	consult_wait back = consult_wait_unpack(consult_wait_pack(c));
	assert_true(back.known);
	assert_int_equal(back.min_minutes, 10);
	assert_int_equal(back.max_minutes, 25);
	assert_false(consult_wait_unpack(0).known);
}

static void test_day_medians(void **st)
{
	/* the day is [1000, 2000) */
	const consult_call_len calls[] = {
		{ 7, 1100, 600 }, { 7, 1200, 300 }, { 8, 1300, 900 }, { 7, 1400, 1200 }, { 8, 999, 60 }, /* yesterday */
		{ 7, 2000, 60 },                                                                         /* tomorrow */
		{ 0, 1500, 450 }, /* caller unknown: counts for the practice only */
	};
	size_t n = sizeof calls / sizeof calls[0];
	int64_t scratch[8], m = -1;
	/* practice: 300 450 600 900 1200 -> 600 */
	assert_int_equal(consult_call_median(calls, n, 0, 1000, 2000, scratch, &m), 5);
	assert_int_equal(m, 600);
	/* doctor 7: 300 600 1200 -> 600; doctor 8: 900 */
	assert_int_equal(consult_call_median(calls, n, 7, 1000, 2000, scratch, &m), 3);
	assert_int_equal(m, 600);
	assert_int_equal(consult_call_median(calls, n, 8, 1000, 2000, scratch, &m), 1);
	assert_int_equal(m, 900);
	/* even count: the mean of the middle two (300, 600 of doctor 7 before 1300) */
	assert_int_equal(consult_call_median(calls, n, 7, 1000, 1300, scratch, &m), 2);
	assert_int_equal(m, 450);
	assert_int_equal(consult_call_median(calls, n, 9, 1000, 2000, scratch, &m), 0);
	assert_int_equal(m, 0);
	assert_int_equal(consult_call_doctors(calls, n, 1000, 2000), 2);
	assert_int_equal(consult_call_doctors(calls, n, 1000, 1250), 1);
	assert_int_equal(consult_call_doctors(calls, 0, 1000, 2000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_enough_history),
		cmocka_unit_test(test_doctor_or_practice_median),
		cmocka_unit_test(test_busy_doctor_and_nobody_ahead),
		cmocka_unit_test(test_any_doctor_shared),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_pack),
		cmocka_unit_test(test_day_medians),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
