/* test_backoff.c - retry delays (30 s doubling to the 1 h cap), jitter
 * bounds for extreme random values, the attempt limit and the deadline,
 * policy validation, and SMTP/HTTP result classification. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <limits.h>
#include <cmocka.h>
#include "core/backoff.h"

static const consult_backoff nojit = { 30, 3600, 10, 0 };

/* The delay after the n-th failure, seen through consult_backoff_next
 * (now 0, no deadline, no attempt limit). */
static int64_t delay(const consult_backoff *p, int failures, uint32_t rnd)
{
	consult_backoff q = *p;
	q.max_attempts = INT_MAX;
	int64_t at = -1;
	assert_true(consult_backoff_next(&q, 0, failures, rnd, 0, &at));
	return at;
}

static void test_delays(void **st)
{
	const int64_t want[] = { 30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600 };
	for (int n = 1; n <= 10; n++)
		assert_int_equal(delay(&nojit, n, 0xffffffffu), want[n - 1]);
	assert_int_equal(delay(&nojit, 0, 0), 30);
	assert_int_equal(delay(&nojit, -5, 0), 30);
	assert_int_equal(delay(&nojit, INT_MAX - 1, 0), 3600);
	consult_backoff odd = { 7, 100, 5, 0 };
	assert_int_equal(delay(&odd, 4, 0), 56);
	assert_int_equal(delay(&odd, 5, 0), 100);
}

static void test_jitter(void **st)
{
	consult_backoff p = consult_backoff_default();
	assert_int_equal(p.base_s, 30);
	assert_int_equal(p.cap_s, 3600);
	assert_int_equal(p.max_attempts, 10);
	assert_int_equal(p.jitter_pct, 20);
	/* rnd 0: full delay; rnd max: just above 80 %; never above the cap */
	assert_int_equal(delay(&p, 1, 0), 30);
	assert_int_equal(delay(&p, 1, 0xffffffffu), 25); /* 30 - floor(5.99..) */
	assert_int_equal(delay(&p, 1, 0x80000000u), 27); /* 30 - 3 */
	assert_int_equal(delay(&p, 9, 0), 3600);
	assert_int_equal(delay(&p, 9, 0xffffffffu), 2881);
	assert_int_equal(delay(&p, 9, 0x80000000u), 3240);
	for (uint32_t r = 0; r < 0xfff00000u; r += 0x0fff1234u) {
		int64_t d = delay(&p, 3, r);
		assert_true(d >= 96 && d <= 120);
	}
	/* the smallest delay is 1 s */
	consult_backoff tiny = { 1, 1, 3, 50 };
	assert_int_equal(delay(&tiny, 1, 0xffffffffu), 1);
}

static void test_next(void **st)
{
	const int64_t now = 1738333800;
	int64_t at = -1;
	assert_true(consult_backoff_next(&nojit, now, 1, 0, 0, &at));
	assert_int_equal(at, now + 30);
	assert_true(consult_backoff_next(&nojit, now, 9, 0, 0, &at));
	assert_int_equal(at, now + 3600);
	/* the 10th failure is the last: permanent */
	assert_false(consult_backoff_next(&nojit, now, 10, 0, 0, &at));
	assert_int_equal(at, 0);
	assert_false(consult_backoff_next(&nojit, now, 11, 0, 0, &at));
	/* deadline: exactly at it is fine, after it gives up */
	assert_true(consult_backoff_next(&nojit, now, 2, 0, now + 60, &at));
	assert_int_equal(at, now + 60);
	assert_false(consult_backoff_next(&nojit, now, 2, 0, now + 59, &at));
	assert_int_equal(at, 0);
	/* overflow guarded */
	assert_false(consult_backoff_next(&nojit, INT64_MAX - 10, 1, 0, 0, &at));
	/* single attempt policy never retries */
	consult_backoff one = { 30, 3600, 1, 0 };
	assert_false(consult_backoff_next(&one, now, 1, 0, 0, &at));
}

static void test_classify(void **st)
{
	assert_int_equal(consult_smtp_classify(250), CONSULT_DELIVERY_OK);
	assert_int_equal(consult_smtp_classify(354), CONSULT_DELIVERY_OK);
	assert_int_equal(consult_smtp_classify(421), CONSULT_DELIVERY_TEMPORARY);
	assert_int_equal(consult_smtp_classify(450), CONSULT_DELIVERY_TEMPORARY);
	assert_int_equal(consult_smtp_classify(452), CONSULT_DELIVERY_TEMPORARY);
	assert_int_equal(consult_smtp_classify(500), CONSULT_DELIVERY_PERMANENT);
	assert_int_equal(consult_smtp_classify(535), CONSULT_DELIVERY_PERMANENT);
	assert_int_equal(consult_smtp_classify(550), CONSULT_DELIVERY_PERMANENT);
	assert_int_equal(consult_smtp_classify(554), CONSULT_DELIVERY_PERMANENT);
	assert_int_equal(consult_smtp_classify(0), CONSULT_DELIVERY_TEMPORARY); /* no reply */
	assert_int_equal(consult_smtp_classify(-1), CONSULT_DELIVERY_TEMPORARY);
	assert_int_equal(consult_smtp_classify(999), CONSULT_DELIVERY_TEMPORARY); /* garbage */

	assert_int_equal(consult_http_classify(200), CONSULT_DELIVERY_OK);
	assert_int_equal(consult_http_classify(202), CONSULT_DELIVERY_OK);
	assert_int_equal(consult_http_classify(204), CONSULT_DELIVERY_OK);
	assert_int_equal(consult_http_classify(0), CONSULT_DELIVERY_TEMPORARY); /* network */
	assert_int_equal(consult_http_classify(408), CONSULT_DELIVERY_TEMPORARY);
	assert_int_equal(consult_http_classify(429), CONSULT_DELIVERY_TEMPORARY);
	assert_int_equal(consult_http_classify(500), CONSULT_DELIVERY_TEMPORARY);
	assert_int_equal(consult_http_classify(502), CONSULT_DELIVERY_TEMPORARY);
	assert_int_equal(consult_http_classify(503), CONSULT_DELIVERY_TEMPORARY);
	assert_int_equal(consult_http_classify(599), CONSULT_DELIVERY_TEMPORARY);
	assert_int_equal(consult_http_classify(400), CONSULT_DELIVERY_PERMANENT);
	assert_int_equal(consult_http_classify(401), CONSULT_DELIVERY_PERMANENT);
	assert_int_equal(consult_http_classify(403), CONSULT_DELIVERY_PERMANENT);
	assert_int_equal(consult_http_classify(404), CONSULT_DELIVERY_PERMANENT);
	assert_int_equal(consult_http_classify(422), CONSULT_DELIVERY_PERMANENT);
	assert_int_equal(consult_http_classify(301), CONSULT_DELIVERY_PERMANENT);
	assert_int_equal(consult_http_classify(100), CONSULT_DELIVERY_TEMPORARY);
	assert_int_equal(consult_http_classify(600), CONSULT_DELIVERY_TEMPORARY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delays),
		cmocka_unit_test(test_jitter),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_classify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
